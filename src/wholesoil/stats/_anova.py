"""One-way ANOVA with Duncan's new multiple range test and Tukey's HSD (Wang H. et al. (2025) §2.8).

Wang H. et al. (2025 §2.8, Fig. 1b) compare β across ecosystems and texture classes with a
one-way ANOVA at p < 0.05 followed by Duncan's new multiple range test, and show the result as
letters. :func:`duncan_test` follows R ``agricolae::duncan.test`` (de Mendiburu), the usual
program for this; :func:`tukey_hsd` is the Tukey–Kramer procedure of R's ``stats::TukeyHSD``.
Both letter displays use agricolae's ``orderPvalue`` algorithm, so they read as agricolae's.

References
----------
Duncan, D. B. (1955). Multiple range and multiple F tests. Biometrics 11, 1–42.
https://doi.org/10.2307/3001478

Kramer, C. Y. (1956). Extension of multiple range tests to group means with unequal numbers of
replications. Biometrics 12, 307–310. https://doi.org/10.2307/3001469

de Mendiburu, F. agricolae: Statistical Procedures for Agricultural Research. R package,
https://CRAN.R-project.org/package=agricolae (``duncan.test``, ``orderPvalue``).

Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from wholesoil.errors import InputDataError

#: Letters for compact letter displays, in agricolae's order (a–z, then A–Z).
_LETTERS = string.ascii_lowercase + string.ascii_uppercase


@dataclass(frozen=True)
class AnovaResult:
    """One-way ANOVA table and group summaries.

    Attributes
    ----------
    f_statistic, p_value : float
        F = MS_between / MS_within and its upper-tail probability.
    df_between, df_within : int
        k − 1 and N − k.
    ss_between, ss_within, ms_between, ms_within : float
        Sums of squares and mean squares (MS_within is the error mean square).
    groups : pandas.DataFrame
        One row per group (sorted labels): ``group``, ``n``, ``mean``, ``sd``.
    """

    f_statistic: float
    p_value: float
    df_between: int
    df_within: int
    ss_between: float
    ss_within: float
    ms_between: float
    ms_within: float
    groups: pd.DataFrame


@dataclass(frozen=True)
class MultipleComparison:
    """Result of a post-hoc multiple comparison after one-way ANOVA.

    Attributes
    ----------
    test : str
        ``"duncan"`` or ``"tukey"``.
    alpha : float
        Family (Tukey) or per-comparison-level (Duncan) significance level.
    df_error, ms_error : float
        Residual degrees of freedom and mean square of the one-way ANOVA.
    means : pandas.DataFrame
        One row per group, highest mean first: ``group``, ``mean``, ``n``, ``sd``, ``letters``.
        Groups sharing a letter are not significantly different.
    pairwise : pandas.DataFrame
        One row per pair, in R ``TukeyHSD`` order (for levels i < j, the row ``j - i``):
        ``group_a``, ``group_b``, ``diff`` = mean(a) − mean(b), ``p_value``, ``lower``,
        ``upper``, ``reject`` (p < alpha), plus ``span`` (Duncan: number of means p spanned in
        the ranking) and ``q`` (the studentized range statistic).
    critical : pandas.DataFrame
        Duncan: ``span`` p = 2..k, ``q`` = qtukey((1 − α)^(p−1), p, df), ``critical_range`` =
        q·s/√n_h. Tukey: one row, p = k, q = qtukey(1 − α, k, df).
    n_harmonic : float
        Cell size used by Duncan (harmonic mean of the group sizes, as agricolae); for Tukey the
        harmonic mean is reported but Tukey–Kramer uses each pair's own sizes.
    """

    test: str
    alpha: float
    df_error: float
    ms_error: float
    means: pd.DataFrame
    pairwise: pd.DataFrame
    critical: pd.DataFrame
    n_harmonic: float
    anova: AnovaResult = field(repr=False)


def _prepare(values: ArrayLike, groups: ArrayLike) -> tuple[NDArray[np.float64], NDArray, NDArray]:
    y = np.asarray(values, dtype=float).ravel()
    g = np.asarray(groups).ravel()
    if y.size != g.size:
        raise InputDataError(
            f"values ({y.size}) and groups ({g.size}) differ in length", field="groups"
        )
    bad = ~np.isfinite(y)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputDataError(
            f"values must be finite (element {i}, group {g[i]!r})", field="values", value=y[i]
        )
    if pd.isna(pd.Series(g)).any():
        i = int(np.flatnonzero(pd.isna(pd.Series(g)).to_numpy())[0])
        raise InputDataError(f"missing group label at element {i}", field="groups")
    labels, codes = np.unique(g, return_inverse=True)
    if labels.size < 2:
        raise InputDataError(
            "need at least two groups", field="groups", value=labels.tolist(), has_value=True
        )
    if y.size - labels.size < 1:
        raise InputDataError(
            "need more observations than groups (no residual degrees of freedom)",
            field="values",
            value=y.size,
        )
    return y, labels, codes.ravel()


def one_way_anova(values: ArrayLike, groups: ArrayLike) -> AnovaResult:
    """One-way analysis of variance of ``values`` across ``groups`` (Wang H. et al. (2025) §2.8).

    Parameters
    ----------
    values : array_like, shape (N,)
        Observations (e.g. β [-]); must be finite.
    groups : array_like, shape (N,)
        Group label of each observation (e.g. ecosystem).

    Returns
    -------
    AnovaResult
    """
    y, labels, codes = _prepare(values, groups)
    k = labels.size
    n = np.bincount(codes, minlength=k).astype(float)
    sums = np.bincount(codes, weights=y, minlength=k)
    means = sums / n
    resid = y - means[codes]
    ss_within = float(np.sum(resid**2))
    ss_between = float(np.sum(n * (means - y.mean()) ** 2))
    df_b, df_w = k - 1, y.size - k
    ms_b, ms_w = ss_between / df_b, ss_within / df_w
    with np.errstate(divide="ignore", invalid="ignore"):
        f = ms_b / ms_w
    p = float(stats.f.sf(f, df_b, df_w)) if np.isfinite(f) else float("nan")
    sq = np.bincount(codes, weights=resid**2, minlength=k)
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.where(n > 1, np.sqrt(sq / np.maximum(n - 1, 1)), np.nan)
    table = pd.DataFrame({"group": labels, "n": n.astype(np.int64), "mean": means, "sd": sd})
    return AnovaResult(
        f_statistic=float(f),
        p_value=p,
        df_between=df_b,
        df_within=df_w,
        ss_between=ss_between,
        ss_within=ss_within,
        ms_between=ms_b,
        ms_within=ms_w,
        groups=table,
    )


def compact_letters(means: ArrayLike, pvalues: ArrayLike, alpha: float = 0.05) -> list[str]:
    """Compact letter display from a matrix of pairwise p-values, as agricolae's ``orderPvalue``.

    Letters are assigned from the highest mean down: the first group gets ``a``; walking down the
    ranking, a group not different from the current reference (p > alpha) shares its letter, and
    the first one that differs opens the next letter. This is a line-by-line port of
    ``agricolae:::orderPvalue`` (including its iteration guard), so the letters agree with
    ``duncan.test(..., group = TRUE)`` and ``HSD.test``.

    Parameters
    ----------
    means : array_like, shape (k,)
        Group means.
    pvalues : array_like, shape (k, k)
        Symmetric p-values with ones on the diagonal.
    alpha : float
        Significance level.

    Returns
    -------
    list of str
        Letters for each group, in the order of ``means``.
    """
    m = np.asarray(means, dtype=float)
    P = np.asarray(pvalues, dtype=float)
    n = m.size
    q = np.argsort(-m, kind="stable")  # R: order(means, decreasing = TRUE), ties in input order
    M = [""] * n
    k = 0
    j = 0
    cambio1 = 0
    chequeo = 0
    M[0] = _LETTERS[0]
    while j < n - 1:
        chequeo += 1
        if chequeo > n:
            break
        for i in range(j, n):
            if P[q[i], q[j]] > alpha:
                if M[i].rstrip()[-1:] != _LETTERS[k]:
                    M[i] += _LETTERS[k]
            else:
                k += 1
                cambio = i
                cambio1 = 0
                M[cambio] += _LETTERS[k]
                for v in range(j, cambio + 1):
                    if P[q[v], q[cambio]] <= alpha:
                        j += 1
                        cambio1 = 1
                    else:
                        break
                break
        if cambio1 == 0:
            j += 1
    letters = [""] * n
    for rank, idx in enumerate(q):
        letters[idx] = M[rank]
    return letters


def _pair_index(k: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Pairs (i, j), i < j, in R ``combn``/``TukeyHSD`` order."""
    i, j = np.triu_indices(k, 1)
    return i.astype(np.int64), j.astype(np.int64)


def _means_table(a: AnovaResult, letters: list[str]) -> pd.DataFrame:
    t = a.groups[["group", "mean", "n", "sd"]].copy()
    t["letters"] = letters
    order = np.argsort(-t["mean"].to_numpy(), kind="stable")
    return t.iloc[order].reset_index(drop=True)


def duncan_test(values: ArrayLike, groups: ArrayLike, alpha: float = 0.05) -> MultipleComparison:
    """Duncan's new multiple range test after one-way ANOVA (Wang H. et al. (2025) §2.8, Fig. 1b).

    Two means p places apart in the ranking (p = 2 for neighbours) differ when their difference
    exceeds the critical range R_p = q(1 − α_p; p, ν)·√(MS_error / n_h), where q is the
    studentized range quantile, ν the error degrees of freedom and α_p = 1 − (1 − α)^(p−1) the
    Duncan protection level (Duncan 1955). Equivalently, p-value = 1 − F_q(|Δ|/√(MS_error/n_h);
    p, ν)^(1/(p−1)). For unequal group sizes n_h is the harmonic mean of all group sizes, as in
    R ``agricolae::duncan.test``, whose p-values (there rounded to 4 decimals) and letters this
    reproduces; like agricolae, each pair is judged on its own span without the "no
    significance inside a non-significant range" rule of the original procedure.

    Parameters
    ----------
    values : array_like, shape (N,)
        Observations; must be finite.
    groups : array_like, shape (N,)
        Group labels.
    alpha : float
        Significance level α.

    Returns
    -------
    MultipleComparison
    """
    a, k, n, means, df = _anova_for_posthoc(values, groups, alpha)
    n_h = float(1.0 / np.mean(1.0 / n))
    se = np.sqrt(a.ms_within / n_h)
    spans = np.arange(2, k + 1)
    q_crit = stats.studentized_range.ppf((1 - alpha) ** (spans - 1), spans, df)
    crit_range = q_crit * se
    rank = np.empty(k, dtype=np.int64)
    rank[np.argsort(-means, kind="stable")] = np.arange(k)
    ii, jj = _pair_index(k)
    diff = means[jj] - means[ii]
    span = np.abs(rank[ii] - rank[jj]) + 1
    qstat = np.abs(diff) / se
    cdf = stats.studentized_range.cdf(qstat, span, df)
    pval = 1.0 - cdf ** (1.0 / (span - 1))
    critical = pd.DataFrame({"span": spans, "q": q_crit, "critical_range": crit_range})
    return _posthoc_result(
        "duncan", a, alpha, ii, jj, diff, span, qstat, pval, crit_range[span - 2], critical, n_h
    )


def tukey_hsd(values: ArrayLike, groups: ArrayLike, alpha: float = 0.05) -> MultipleComparison:
    """Tukey's honestly significant difference test (Tukey–Kramer for unequal group sizes).

    For groups i and j, q = |ȳ_j − ȳ_i| / √(MS_error/2 · (1/n_i + 1/n_j)); the p-value is the
    upper tail of the studentized range distribution with k means and ν error degrees of
    freedom, and the simultaneous interval is Δ ± q(1 − α; k, ν)·√(MS_error/2·(1/n_i + 1/n_j)).
    This is R ``stats::TukeyHSD`` on ``aov(values ~ groups)``; the letters follow agricolae's
    ``orderPvalue`` (:func:`compact_letters`). Note that ``agricolae::HSD.test`` by default
    uses the harmonic-mean n for all pairs instead, which differs when sizes are unequal.

    Parameters
    ----------
    values : array_like, shape (N,)
        Observations; must be finite.
    groups : array_like, shape (N,)
        Group labels.
    alpha : float
        Family-wise significance level.

    Returns
    -------
    MultipleComparison
    """
    a, k, n, means, df = _anova_for_posthoc(values, groups, alpha)
    ii, jj = _pair_index(k)
    diff = means[jj] - means[ii]
    se = np.sqrt(a.ms_within / 2.0 * (1.0 / n[ii] + 1.0 / n[jj]))
    qstat = np.abs(diff) / se
    pval = stats.studentized_range.sf(qstat, k, df)
    q_crit = float(stats.studentized_range.ppf(1 - alpha, k, df))
    n_h = float(1.0 / np.mean(1.0 / n))
    critical = pd.DataFrame(
        {"span": [k], "q": [q_crit], "critical_range": [q_crit * np.sqrt(a.ms_within / n_h)]}
    )
    span = np.full(ii.size, k)
    return _posthoc_result(
        "tukey", a, alpha, ii, jj, diff, span, qstat, pval, q_crit * se, critical, n_h
    )


def _posthoc_result(
    test: str,
    a: AnovaResult,
    alpha: float,
    ii: np.ndarray,
    jj: np.ndarray,
    diff: np.ndarray,
    span: np.ndarray,
    qstat: np.ndarray,
    pval: np.ndarray,
    half_width: np.ndarray | float,
    critical: pd.DataFrame,
    n_h: float,
) -> MultipleComparison:
    """Letters from the pairwise p-values, the pairwise table and the result object."""
    k = a.groups.shape[0]
    Pm = np.ones((k, k))
    Pm[ii, jj] = pval
    Pm[jj, ii] = pval
    letters = compact_letters(a.groups["mean"].to_numpy(), Pm, alpha)
    labels = a.groups["group"].to_numpy()
    pairwise = pd.DataFrame(
        {
            "group_a": labels[jj],
            "group_b": labels[ii],
            "diff": diff,
            "span": span,
            "q": qstat,
            "p_value": pval,
            "lower": diff - half_width,
            "upper": diff + half_width,
            "reject": pval < alpha,
        }
    )
    return MultipleComparison(
        test=test,
        alpha=alpha,
        df_error=float(a.df_within),
        ms_error=a.ms_within,
        means=_means_table(a, letters),
        pairwise=pairwise,
        critical=critical,
        n_harmonic=n_h,
        anova=a,
    )


def _anova_for_posthoc(
    values: ArrayLike, groups: ArrayLike, alpha: float
) -> tuple[AnovaResult, int, np.ndarray, np.ndarray, int]:
    """Check α, run the ANOVA; return it with group count, sizes, means and error df."""
    if not 0 < alpha < 1:
        raise InputDataError("alpha must be in (0, 1)", field="alpha", value=alpha)
    a = one_way_anova(values, groups)
    n = a.groups["n"].to_numpy(dtype=float)
    return a, a.groups.shape[0], n, a.groups["mean"].to_numpy(), a.df_within
