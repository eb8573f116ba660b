"""Collinearity filters for covariates, as R caret's ``findCorrelation`` and ``findLinearCombos``.

Wang G. et al. (manuscript) (Methods, "Machine learning models") converts categorical covariates to
dummy variables and then uses caret's ``findCorrelation`` and ``findLinearCombos`` "to exclude those
attributes with high multicollinearities" before fitting its learners. This module reproduces both
functions (caret 6.0-93, read for behaviour; the code here is written afresh):

* :func:`find_correlation` — from every pair of variables whose absolute correlation exceeds the
  cutoff, flag one for removal. Both of caret's algorithms are here, with their own rules for
  which variable of a pair goes and the order in which the flagged indices are returned:

  - ``exact=False`` (caret's ``findCorrelation_fast``): rank the variables by their mean absolute
    correlation (diagonal included, compared as R factor levels, i.e. to 15 significant digits),
    then, for every pair above the cutoff, flag the one with the higher rank; on a tie, flag the
    first of the pair. All pairs are judged at once on the full matrix, so a variable may be
    flagged because of a partner that is itself flagged. Returned: the flagged second members of
    the pairs, then the flagged first members, pairs taken column by column of the upper
    triangle, duplicates removed.
  - ``exact=True`` (caret's ``findCorrelation_exact``): sort the variables by decreasing mean
    absolute correlation (diagonal excluded, ties kept in column order) and walk the pairs
    (i, j), i before j, of the still-present variables; when ``|r_ij| > cutoff``, flag i if the
    mean of row i of the current matrix is larger than the mean of *every entry of the current
    matrix outside row j* (caret compares with ``mean(x2[-j, ])``, not with row j — kept as
    caret has it), else flag j; flagged variables leave the matrix at once. Returned in the
    sorted order.
  - ``exact=None`` chooses as caret's default does: exact below 100 variables.

  Means are taken as R takes them (running long-double sums; ``mean`` with R's refinement pass),
  so exact ties, e.g. a compound-symmetric matrix, break the same way as in R. Like R's, those
  tie-breaks depend on the platform's long double (80-bit on x86-64, where the reference tests
  were made; plain double on macOS arm64 and Windows/MSVC builds; quad on Linux aarch64).

* :func:`find_linear_combos` — QR decomposition with R's LINPACK ``dqrdc2`` (columns whose
  remaining norm falls below ``tol`` times their original norm are moved to the end; the others
  keep their order), rank r; each column after the first r is a linear combination of the first
  r, with coefficients from the triangular solve (|b| < 1e-6 counts as 0). The dependent columns
  are removed and the search repeated until none is left.

Both transformers, :class:`CorrelationFilter` and :class:`LinearCombosFilter`, are scikit-learn
feature selectors: ``fit`` learns ``support_`` and ``dropped_`` (names, in caret's order);
``get_feature_names_out`` and ``set_output(transform="pandas")`` work as for any selector.

Constant columns. Their correlation with anything is undefined (R's ``cor`` gives ``NA`` and
caret stops with "The correlation matrix has some missing values"). :class:`CorrelationFilter`
raises :class:`~wholesoil.errors.InputDataError` naming them, rather than silently keeping or
dropping them: remove them first, e.g. with ``sklearn.feature_selection.VarianceThreshold``.
:func:`find_correlation` likewise refuses a matrix with NaN. For :func:`find_linear_combos` a
constant column is an ordinary column (an all-zero column is reported as a combination of
nothing and removed, as caret does).

Differences from caret, all outside its domain: a single variable gives no flags (caret's exact
algorithm stops with an error); an all-zero matrix (rank 0) reports every column as removable
(caret fails with "subscript out of bounds"); a non-symmetric matrix is refused by both
algorithms (caret's fast algorithm reads the upper triangle only).

References
----------
Kuhn, M. caret: Classification and Regression Training. R package version 6.0-93,
https://CRAN.R-project.org/package=caret (``findCorrelation``, ``findLinearCombos``,
``enumLC``). https://doi.org/10.18637/jss.v028.i05

R Core Team. R: ``src/appl/dqrdc2.f`` (LINPACK ``dqrdc`` with limited column pivoting), used by
``base::qr``.

Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import solve_triangular
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from wholesoil.errors import InputDataError

#: caret's default switch between its algorithms: ``exact = ncol(x) < 100``.
EXACT_BELOW_N_VARIABLES = 100
#: ``base::qr`` default tolerance for the rank (relative to a column's original norm).
QR_TOL = 1e-7
#: caret's ``internalEnumLC``: combination coefficients below this (absolute) count as zero.
COEF_ZERO = 1e-6
#: ``all.equal`` tolerance R uses in caret's symmetry check.
_SYMMETRY_TOL = 1.5e-8


@dataclass(frozen=True)
class LinearCombos:
    """Result of :func:`find_linear_combos` (caret's ``list(linearCombos, remove)``).

    Attributes
    ----------
    linear_combos : list of numpy.ndarray of int
        One entry per dependent column, found in the first pass: the dependent column's index
        first, then the indices of the columns it is a combination of (0-based; caret's are
        1-based).
    remove : numpy.ndarray of int
        Columns to remove so that the rest have full column rank, in caret's order.
    """

    linear_combos: list[NDArray[np.intp]]
    remove: NDArray[np.intp]


# ---- R arithmetic, so that exact ties break as in R ------------------------------------------


def _r_colmeans(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """R ``colMeans``: a running long-double sum down each column, divided by n."""
    total = np.cumsum(a.astype(np.longdouble), axis=0)[-1]
    return (total / a.shape[0]).astype(np.float64)


def _r_mean(values: NDArray[np.float64]) -> float:
    """R ``mean`` of doubles: running long-double sum / n, then one refinement pass."""
    v = values.astype(np.longdouble)
    n = v.size
    s = np.cumsum(v)[-1] / n
    if math.isfinite(float(s)):
        s = s + np.cumsum(v - s)[-1] / n
    return float(s)


def _r_factor_codes(values: NDArray[np.float64]) -> NDArray[np.intp]:
    """``as.numeric(as.factor(x))`` for doubles: ranks of the distinct values printed by R.

    ``factor`` sorts the distinct values and keeps the distinct ``as.character`` forms (15
    significant digits in R 4.2), so values that agree to 15 digits share a level.
    """
    labels = [format(float(v), ".15g") for v in values]
    levels: dict[str, int] = {}
    for i in np.argsort(values, kind="stable"):
        levels.setdefault(labels[i], len(levels) + 1)
    return np.array([levels[lab] for lab in labels], dtype=np.intp)


# ---- findCorrelation -------------------------------------------------------------------------


def _check_corr(corr: ArrayLike) -> NDArray[np.float64]:
    names = list(corr.columns) if isinstance(corr, pd.DataFrame) else None
    c = np.asarray(corr, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise InputDataError(
            "expected a square correlation matrix (variables × variables)",
            field="corr",
            value=c.shape,
            has_value=True,
        )
    bad = ~np.isfinite(c)
    if bad.any():
        where = sorted(set(np.argwhere(bad).ravel().tolist()))
        labels = [names[i] for i in where] if names else where
        raise InputDataError(
            f"the correlation matrix has missing or infinite values for variable(s) {labels} "
            "(a constant column has no correlation; remove such columns first)",
            field="corr",
        )
    if c.size:
        mean_abs = np.mean(np.abs(c))
        diff = np.mean(np.abs(c - c.T))
        if diff > _SYMMETRY_TOL * (mean_abs if mean_abs > _SYMMETRY_TOL else 1.0):
            raise InputDataError(
                "the correlation matrix is not symmetric (mean relative difference "
                f"{diff / max(mean_abs, _SYMMETRY_TOL):.3g} > {_SYMMETRY_TOL})",
                field="corr",
            )
    return c


def _check_cutoff(cutoff: float) -> float:
    if isinstance(cutoff, bool) or not isinstance(cutoff, (int, float, np.floating, np.integer)):
        raise InputDataError(
            f"'cutoff' must be a number in [0, 1] (got a {type(cutoff).__name__})",
            field="cutoff",
            value=cutoff,
        )
    if not 0.0 <= float(cutoff) <= 1.0:
        raise InputDataError("'cutoff' must be in [0, 1]", field="cutoff", value=cutoff)
    return float(cutoff)


def _find_correlation_fast(c: NDArray[np.float64], cutoff: float) -> NDArray[np.intp]:
    rank = _r_factor_codes(_r_colmeans(np.abs(c)))
    above = np.triu(np.abs(c) > cutoff, k=1)
    # R's which() runs down the columns: nonzero of the transpose gives (column, row) pairs
    # sorted by column, then row.
    cols, rows = np.nonzero(above.T)
    col_goes = rank[cols] > rank[rows]
    flagged = np.concatenate([cols[col_goes], rows[~col_goes]])
    return np.array(list(dict.fromkeys(flagged.tolist())), dtype=np.intp)


def _find_correlation_exact(c: NDArray[np.float64], cutoff: float) -> NDArray[np.intp]:
    p = c.shape[0]
    a = np.abs(c)
    off = a.copy()
    np.fill_diagonal(off, np.nan)
    means = np.array([_r_mean(col[~np.isnan(col)]) for col in off.T])
    order = np.argsort(-means, kind="stable")  # R order(decreasing = TRUE) is stable
    x = a[np.ix_(order, order)]
    x2 = x.copy()
    np.fill_diagonal(x2, np.nan)
    gone = np.zeros(p, dtype=bool)
    for i in range(p - 1):
        present = x2[~np.isnan(x2)]
        if not (present > cutoff).any():
            break
        if gone[i]:
            continue
        for j in range(i + 1, p):
            if gone[i] or gone[j] or not x[i, j] > cutoff:
                continue
            row_i = x2[i]
            mn1 = _r_mean(row_i[~np.isnan(row_i)])
            rest = np.delete(x2, j, axis=0).ravel(order="F")  # caret's x2[-j, ], column-major
            mn2 = _r_mean(rest[~np.isnan(rest)])
            k = i if mn1 > mn2 else j
            gone[k] = True
            x2[k, :] = np.nan
            x2[:, k] = np.nan
    return order[gone].astype(np.intp)


def find_correlation(
    corr: ArrayLike, cutoff: float = 0.9, *, exact: bool | None = None
) -> NDArray[np.intp]:
    """Variables to remove so that no pair has an absolute correlation above ``cutoff``.

    Reproduces R ``caret::findCorrelation(corr, cutoff, exact)`` (caret 6.0-93), including
    which variable of a pair is removed and the order of the result (see the module docstring
    for both algorithms).

    Parameters
    ----------
    corr : array-like or pandas.DataFrame, shape (p, p)
        Correlation matrix [-], symmetric, finite, e.g. ``np.corrcoef(X, rowvar=False)`` or
        ``DataFrame.corr()``. (:class:`CorrelationFilter` computes it from data for you.)
    cutoff : float, default 0.9
        Pairs with ``|r| > cutoff`` [-] (strictly) are resolved; in [0, 1].
    exact : bool or None, default None
        ``False``: caret's default algorithm (``findCorrelation_fast``); ``True``: caret's
        exact algorithm, which recomputes the mean correlations as variables leave. ``None``
        follows caret's default, ``exact = p < 100``.

    Returns
    -------
    numpy.ndarray of int
        0-based column indices to remove, in caret's order (caret's are 1-based).

    Raises
    ------
    InputDataError
        ``corr`` is not square, has NaN or infinite entries (constant columns), or is not
        symmetric; or ``cutoff`` is outside [0, 1].
    """
    c = _check_corr(corr)
    cutoff = _check_cutoff(cutoff)
    p = c.shape[0]
    if exact is None:
        exact = p < EXACT_BELOW_N_VARIABLES
    if p < 2:
        return np.empty(0, dtype=np.intp)
    if exact:
        return _find_correlation_exact(c, cutoff)
    return _find_correlation_fast(c, cutoff)


# ---- findLinearCombos ------------------------------------------------------------------------


def _qr_dqrdc2(
    x: NDArray[np.float64], tol: float
) -> tuple[NDArray[np.float64], int, NDArray[np.intp]]:
    """Householder QR with R's limited column pivoting (``base::qr``, LINPACK ``dqrdc2``).

    Returns the compact QR matrix (R in its upper triangle), the rank and the pivot (0-based).
    """
    x = np.array(x, dtype=np.float64, copy=True)
    n, p = x.shape
    pivot = np.arange(p, dtype=np.intp)
    if n > 0:
        qraux = np.linalg.norm(x, axis=0)
    else:
        qraux = np.zeros(p)
    norm_ref = qraux.copy()  # LINPACK work(, 2): original norms, reference for negligibility
    norm_ref[norm_ref == 0.0] = 1.0
    k = p + 1  # 1-based, as in the Fortran: columns from k on were moved to the end
    for c in range(min(n, p)):
        # move columns whose reduced norm is negligible to the right-hand edge
        while c + 1 < k and qraux[c] < norm_ref[c] * tol:
            perm = np.r_[np.arange(c), np.arange(c + 1, p), c]
            x = x[:, perm]
            pivot, qraux = pivot[perm], qraux[perm]
            norm_ref = norm_ref[perm]
            k -= 1
        if c + 1 == n:
            continue
        nrmxl = float(np.linalg.norm(x[c:, c]))
        if nrmxl == 0.0:
            continue
        if x[c, c] != 0.0:
            nrmxl = math.copysign(nrmxl, x[c, c])
        x[c:, c] *= 1.0 / nrmxl
        x[c, c] += 1.0
        if c + 1 < p:
            v = x[c:, c]
            rest = x[c:, c + 1 :]
            t = -(v @ rest) / x[c, c]
            rest += np.outer(v, t)
            j = np.arange(c + 1, p)
            live = qraux[j] != 0.0
            with np.errstate(divide="ignore", invalid="ignore"):
                shrink = np.maximum(1.0 - (np.abs(x[c, j]) / qraux[j]) ** 2, 0.0)
            scale = live & (np.abs(shrink) >= 1e-6)
            qraux[j[scale]] *= np.sqrt(shrink[scale])
            recompute = j[live & ~scale]
            if recompute.size:
                qraux[recompute] = np.linalg.norm(x[c + 1 :, recompute], axis=0)
        qraux[c] = x[c, c]
        x[c, c] = -nrmxl
    rank = min(k - 1, n)
    return x, rank, pivot


def _enum_lc(x: NDArray[np.float64], tol: float) -> list[NDArray[np.intp]]:
    """caret's ``internalEnumLC(qr(x))``: each column beyond the rank and its combination."""
    n, p = x.shape
    qr, rank, pivot = _qr_dqrdc2(x, tol)
    if p == 0 or rank == p:
        return []
    r = np.triu(qr[: min(n, p), :])
    if rank == 0:
        return [np.array([c], dtype=np.intp) for c in pivot]
    b = solve_triangular(r[:rank, :rank], r[:rank, rank:], lower=False)
    b[np.abs(b) < COEF_ZERO] = 0.0
    return [
        np.concatenate([[pivot[rank + i]], pivot[:rank][b[:, i] != 0.0]]).astype(np.intp)
        for i in range(p - rank)
    ]


def find_linear_combos(X: ArrayLike, *, tol: float = QR_TOL) -> LinearCombos:
    """Columns of ``X`` that are linear combinations of others, and which to remove.

    Reproduces R ``caret::findLinearCombos(X)`` (caret 6.0-93): QR decomposition as R's
    ``qr()`` does it (LINPACK ``dqrdc2``: a column whose remaining norm is below ``tol`` times
    its original norm is moved to the end, the others keep their order); every column after the
    rank r is a combination of the first r; remove those and repeat until the rest has full
    column rank. No intercept is added: the dummies of a factor (one per level) sum to one, so
    they are dependent only together with a constant column, or with columns that sum to a
    constant (clay + silt + sand = 100 in ``tests/reference/collinearity_reference.R``).

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
        Numeric data matrix, finite.
    tol : float, default 1e-7
        Rank tolerance of ``base::qr``, relative to each column's original norm [-].

    Returns
    -------
    LinearCombos
        ``linear_combos`` (first pass, dependent column first) and ``remove`` (0-based).

    Notes
    -----
    caret re-runs the search on the reduced matrix and adds the indices it finds there as if
    they were indices of the original; here they are mapped back to the original columns. With
    R's QR the second pass finds nothing (the kept columns are decomposed exactly as before), so
    the results agree.
    """
    x = np.asarray(X, dtype=np.float64)
    if x.ndim != 2:
        raise InputDataError(
            "expected a 2-D data matrix (samples × features)",
            field="X",
            value=x.shape,
            has_value=True,
        )
    if not np.isfinite(x).all():
        i, j = np.argwhere(~np.isfinite(x))[0]
        raise InputDataError(
            f"X must be finite (row {i}, column {j})", field="X", value=float(x[i, j])
        )
    keep = np.arange(x.shape[1])
    combos = _enum_lc(x, tol)
    initial = combos
    removed: list[int] = []
    while combos:
        # caret: badList <- unique(c(first elements, badList)), newest first
        removed = list(dict.fromkeys([int(keep[c[0]]) for c in combos] + removed))
        keep = np.setdiff1d(np.arange(x.shape[1]), removed)
        combos = _enum_lc(x[:, keep], tol)
    return LinearCombos(linear_combos=initial, remove=np.array(removed, dtype=np.intp))


# ---- scikit-learn transformers ---------------------------------------------------------------


def _input_names(estimator: BaseEstimator) -> NDArray[np.object_]:
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        return np.asarray(names, dtype=object)
    return np.array([f"x{i}" for i in range(estimator.n_features_in_)], dtype=object)


class CorrelationFilter(SelectorMixin, BaseEstimator):
    """Drop covariates until no pair has ``|r| > cutoff`` (caret ``findCorrelation``).

    Pearson correlations of the training data are passed to :func:`find_correlation`; see there
    and the module docstring for which variable of a pair goes.

    Parameters
    ----------
    cutoff : float, default 0.9
        Absolute correlation [-] above which a pair is resolved, in [0, 1].
    exact : bool or None, default None
        caret's algorithm: ``False`` its default ``findCorrelation_fast``, ``True``
        ``findCorrelation_exact``; ``None`` chooses as caret does (exact below 100 features).

    Attributes
    ----------
    support_ : numpy.ndarray of bool, shape (n_features_in_,)
        True for the features kept.
    dropped_ : numpy.ndarray of str
        Names of the dropped features, in caret's order (``x0``, ``x1``… without names).
    correlation_ : numpy.ndarray, shape (n_features_in_, n_features_in_)
        The correlation matrix used.
    n_features_in_ : int
    feature_names_in_ : numpy.ndarray of str
        Only when fitted on a table with string column names.

    Raises
    ------
    InputDataError
        At ``fit``: a constant column (its correlation is undefined; caret stops on the ``NA``),
        named in the message. Remove such columns first, e.g. with
        ``sklearn.feature_selection.VarianceThreshold``.
    """

    def __init__(self, cutoff: float = 0.9, exact: bool | None = None) -> None:
        self.cutoff = cutoff
        self.exact = exact

    def fit(self, X: ArrayLike, y: ArrayLike | None = None) -> CorrelationFilter:
        """Learn which features to keep from the correlations of ``X``; ``y`` is ignored."""
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        _check_cutoff(self.cutoff)
        if self.exact not in (None, True, False):
            raise InputDataError(
                "'exact' must be True, False or None", field="exact", value=self.exact
            )
        names = _input_names(self)
        constant = np.flatnonzero(np.ptp(X, axis=0) == 0)
        if constant.size:
            raise InputDataError(
                f"constant column(s) {names[constant].tolist()} have no defined correlation "
                "(caret::findCorrelation stops on the NA); remove them first, e.g. with "
                "sklearn.feature_selection.VarianceThreshold",
                field=str(names[constant[0]]),
            )
        corr = np.atleast_2d(np.corrcoef(X, rowvar=False))
        drop = find_correlation(corr, self.cutoff, exact=self.exact)
        support = np.ones(X.shape[1], dtype=bool)
        support[drop] = False
        self.correlation_ = corr
        self.support_ = support
        self.dropped_ = names[drop]
        return self

    def _get_support_mask(self) -> NDArray[np.bool_]:
        check_is_fitted(self, "support_")
        return self.support_


class LinearCombosFilter(SelectorMixin, BaseEstimator):
    """Drop covariates that are linear combinations of others (caret ``findLinearCombos``).

    Parameters
    ----------
    tol : float, default 1e-7
        Rank tolerance of R's ``qr()`` [-], relative to each column's original norm.

    Attributes
    ----------
    support_ : numpy.ndarray of bool, shape (n_features_in_,)
        True for the features kept; the kept columns have full column rank.
    dropped_ : numpy.ndarray of str
        Names of the dropped features, in caret's order.
    linear_combos_ : list of list of str
        Each dependent feature (first) with the features it is a combination of.
    n_features_in_ : int
    feature_names_in_ : numpy.ndarray of str
        Only when fitted on a table with string column names.

    Notes
    -----
    As in caret, no intercept is added: with a full set of dummy columns (one per level), the
    last dummy is flagged only if another column makes their sum redundant, e.g. a constant
    column or fractions that add up to a constant (see :func:`find_linear_combos`).
    """

    def __init__(self, tol: float = QR_TOL) -> None:
        self.tol = tol

    def fit(self, X: ArrayLike, y: ArrayLike | None = None) -> LinearCombosFilter:
        """Learn which features to keep from the column rank of ``X``; ``y`` is ignored."""
        X = validate_data(self, X, dtype=np.float64)
        if not (isinstance(self.tol, (int, float)) and 0 <= self.tol < 1):
            raise InputDataError("'tol' must be a number in [0, 1)", field="tol", value=self.tol)
        found = find_linear_combos(X, tol=self.tol)
        names = _input_names(self)
        support = np.ones(X.shape[1], dtype=bool)
        support[found.remove] = False
        self.support_ = support
        self.dropped_ = names[found.remove]
        self.linear_combos_ = [names[c].tolist() for c in found.linear_combos]
        return self

    def _get_support_mask(self) -> NDArray[np.bool_]:
        check_is_fitted(self, "support_")
        return self.support_
