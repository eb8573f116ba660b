"""Multivariate adaptive regression splines (MARS), as R's ``earth`` fits them.

MARS (Friedman 1991) builds a regression model from hinge functions ``max(0, x − t)`` and
``max(0, t − x)`` and their products. A greedy *forward pass* adds, at each step, the pair of
hinges on one predictor, at one knot, multiplied by one existing term ("parent"), that most
reduces the residual sum of squares; a *backward pass* then deletes terms one at a time and keeps
the subset with the lowest generalized cross-validation (GCV) score (Friedman 1991, Sec. 3.6).
Wang G. et al. (manuscript) uses MARS (R ``earth`` through ``caret``) as one member of its learner
ensemble.

This module follows ``earth`` 5.3 (Milborrow; ``earth.c`` and ``earth.fit``), read for its
behaviour, so that fits agree with it: the same defaults, the same candidate knots (minspan,
endspan), the same linear-term and collinearity rules, the same stopping rules and the same GCV.
The knot search is our own. For one parent term it evaluates every candidate knot of every
predictor at once: the candidate knots cut each sorted predictor into blocks, one sparse product
(blocks × cases)·[Q, r] (Q the orthonormal model columns, r the residual) gives the block sums,
and the RSS reduction of every knot follows from cumulative sums over blocks, with no loop over
cases and no cancellation. What depends on the parent only (the knots, the blocks, the sparse
matrices) is kept between steps.

Deliberate differences from ``earth`` 5.3.2, each found by reading ``earth.c`` and confirmed
against the program:

* Fast MARS queue (Friedman 1993). ``earth`` keeps terms that cannot be parents (degree already
  at ``degree``) in the parent queue with priority +inf, so with ``degree=1`` and more than
  ``fast_k`` entries the intercept falls out of the top ``fast_k`` and the forward pass stops
  ("No new term increases RSq") at 21 terms whatever ``nk`` is; and after a step that adds a
  single term its queue indices drift by one, so some mirror hinges never become parents. Here
  only terms that can be parents are queued, under their own index. With ``degree=1`` our fit
  therefore equals ``earth(..., fast.k=0)``; with more than ten predictors it can have more
  terms than ``earth``'s default fit.
* Exact fits. A subset's RSS below 1e-10·var(y) (``earth``'s ``ALMOST_ZERO`` on its scaled y)
  counts as zero before the GCV comparison, so among subsets that fit exactly the smallest is
  kept. ``earth`` compares the raw GCVs (of order 1e-30, rounding noise) and zeroes RSS below
  1e-10 only afterwards, so on noise-free data it can keep terms with zero coefficients.
* No case weights, one response, no ``linpreds``/``allowed``/``newvar.penalty`` (``earth``
  defaults: none, 0).

References
----------
Friedman, J. H. (1991). Multivariate adaptive regression splines. *Annals of Statistics* 19(1),
1–67. https://doi.org/10.1214/aos/1176347963 (Eqs. 30 and 32: GCV; Eq. 43: minspan; Eq. 45:
endspan).

Friedman, J. H. (1993). Fast MARS. Stanford University Department of Statistics, Technical
Report 110.

Milborrow, S. ``earth``: Multivariate Adaptive Regression Splines, R package 5.3.2 (CRAN), files
``src/earth.c``, ``src/leaps.f`` and ``R/earth.fit.R``; derived from Hastie and Tibshirani's
``mda``.

Miller, A. J. (2002). *Subset Selection in Regression*, 2nd ed. Chapman & Hall/CRC (Sec. 3.4:
backward elimination); its Fortran (Applied Statistics algorithm AS 274) runs in Lumley's R
package ``leaps``, which ``earth`` calls for the backward pass.

Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.linalg import solve_triangular
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

EARTH_DEFAULTS: dict[str, Any] = {
    "degree": 1,
    "max_terms": "min(200, max(20, 2·n_features)) + 1",
    "penalty": "2 if degree == 1 else 3",
    "thresh": 0.001,
    "minspan": 0,
    "endspan": 0,
    "fast_k": 20,
    "fast_beta": 1.0,
    "adjust_endspan": 2.0,
}
"""Defaults of R ``earth`` 5.3.2 (``args(earth:::earth.fit)``): ``degree``, ``nk`` (here
``max_terms``), ``penalty``, ``thresh``, ``minspan``, ``endspan`` (0 = Friedman's Eqs. 43 and 45),
``fast.k``, ``fast.beta`` and ``Adjust.endspan`` (endspan multiplier added for interaction
terms). :class:`MARSRegressor` takes the same defaults."""

# Numerical rules of earth.c 5.3 (earth's own names in brackets), kept so fits agree with earth.
_EQ43 = (2.9702, 1.7329)  # Friedman (1991) Eq. 43 with α = 0.05: −ln(−ln 0.95), 2.5·ln 2, rounded
#   as earth.c GetSpanParams rounds them, so that the integer spans agree with earth's
_EQ45 = (7.32193, 0.69315)  # Eq. 45 with α = 0.05: 3 + log2(20), ln 2, as earth.c GetEndSpan
_MIN_BX_SOS = 0.01  # [MIN_BX_SOS] a candidate linear term x·parent whose residual sum of squares
#   after the current terms is at most this is "already in the model": the hinge then enters
#   alone, not as a pair. Absolute, as in earth, so it depends on the units of x.
_KNOT_TOL_SMALL = 0.01  # [Tol in FindKnot] a hinge whose residual SS is below this fraction of
_KNOT_TOL_LARGE = 1e-5  #   its centered SS is collinear and rejected: 0.01 while the new column
_KNOT_TOL_SWITCH = 15  #    index is below 15, 1e-5 after
_MIN_GRSQ = -10.0  # [MIN_GRSQ] the forward pass stops when GRSq falls below this
_MAX_DELTA_RSS = (1.01, 10.0)  # [MaxLegalRssDelta] knots that would cut RSS by more than
#   min(1.01·RSS, 10·previous cut) are numerical artefacts and skipped
_ALMOST_ZERO = 1e-10  # [ALMOST_ZERO] RSS and ΔRSq below this are zero
_RANK_TOL = 1e-8  # [QR_TOL, as R's lm] a new column whose residual norm is below this fraction of
#   its norm is linearly dependent and not added
_MAX_DEGREE = 100  # earth.c MAX_DEGREE
_ADJUST_ENDSPAN = float(EARTH_DEFAULTS["adjust_endspan"])
_CHUNK_ELEMENTS = 2_000_000  # knot search works on at most this many (case × predictor) at once
_PLAN_CACHE_ELEMENTS = 5_000_000  # (case × predictor) entries of parents' knot plans kept between
#   steps (about 32 bytes each); plans beyond are rebuilt when needed


def effective_parameters(n_terms: int | np.ndarray, penalty: float) -> np.ndarray:
    """Effective number of parameters C(M) of a MARS model with M terms, as ``earth`` counts it.

    C(M) = M + penalty·(M − 1)/2: Friedman (1991) Eq. 32 with the number of knots taken as
    (M − 1)/2, one knot per hinge pair (``earth``'s ``get.nknots``). ``penalty = -1`` makes terms
    and knots free (C = 0), as in ``earth``.

    Parameters
    ----------
    n_terms : int or array of int
        Number of basis terms M, intercept included [-].
    penalty : float
        Cost per knot, Friedman's d [-]; ``earth`` uses 2 for additive and 3 for interaction
        models.

    Returns
    -------
    ndarray
        C(M) [-].
    """
    m = np.asarray(n_terms, dtype=float)
    if penalty < 0:
        return np.zeros_like(m)
    return m + penalty * (m - 1.0) / 2.0


def gcv(rss: float | np.ndarray, n_terms: int | np.ndarray, penalty: float, n_samples: int):
    """Generalized cross-validation score, Friedman (1991) Eq. 30 with ``earth``'s C(M).

    GCV = RSS / (N·(1 − C(M)/N)²), and +inf when C(M) ≥ N (``earth``'s ``get.gcv``), so that
    GCV never decreases as terms are added past the number of cases.

    Parameters
    ----------
    rss : float or array
        Residual sum of squares [units of y²].
    n_terms : int or array of int
        Number of basis terms M, intercept included [-].
    penalty : float
        Cost per knot d [-].
    n_samples : int
        Number of cases N [-].

    Returns
    -------
    float or ndarray
        GCV [units of y²].
    """
    c = effective_parameters(n_terms, penalty)
    rss = np.asarray(rss, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(c >= n_samples, np.inf, rss / (n_samples * (1.0 - c / n_samples) ** 2))
    return float(out) if out.ndim == 0 else out


def _rsq(rss: float, tss: float) -> float:
    """1 − rss/tss, zeroed within 1e-5 of 0 as ``earth``'s ``get.rsq``; 1 or 0 when tss = 0."""
    if tss <= 0.0:
        return 1.0 if rss <= 0.0 else 0.0
    r = 1.0 - rss / tss
    return 0.0 if abs(r) < 1e-5 else float(r)


def span_parameters(
    n_samples: int,
    n_features: int,
    term_degree: int,
    n_used: int,
    minspan: int = 0,
    endspan: int = 0,
    adjust_endspan: float = 2.0,
) -> tuple[int, int, int]:
    """Knot spacing of the forward pass: (minspan, endspan, startspan), as ``earth.c``.

    With ``endspan = 0`` the end span is Friedman (1991) Eq. 45,
    L_e = 3 − log₂(α/p) with α = 0.05 (truncated to an integer); with ``minspan = 0`` the minimum
    span is Eq. 43, L = −log₂[−ln(1 − α)/(p·N_m)]/2.5 with N_m the cases where the parent term
    is positive. Interaction terms (``term_degree`` ≥ 2) add ``adjust_endspan``·L_e to L_e
    (``earth``'s ``Adjust.endspan``). A negative ``minspan`` asks for about −minspan evenly
    spaced knots. ``startspan`` is the number of eligible cases, counted down from the largest
    x, before the first candidate knot; later candidates are every ``minspan`` eligible cases.

    Parameters
    ----------
    n_samples : int
        Number of cases N [-].
    n_features : int
        Number of predictors p [-].
    term_degree : int
        Degree of the term being built (parent degree + 1) [-].
    n_used : int
        Cases where the parent term is positive, N_m [-].
    minspan, endspan : int
        User settings; 0 means automatic (Eqs. 43 and 45).
    adjust_endspan : float
        Multiplier for interaction terms [-].

    Returns
    -------
    tuple of int
        (minspan, endspan, startspan) [cases].
    """
    if endspan > 0:
        n_end = endspan
    else:  # Eq. 45: 3 − log2(α/p) = 3 + log2(20) + log2(p) for α = 0.05
        n_end = int(_EQ45[0] + math.log(n_features) / _EQ45[1])
    if term_degree >= 2:
        n_end += int(adjust_endspan * n_end + 0.5)
    n_end = max(1, min(n_end, n_samples // 2 - 1))
    if minspan < 0:  # -minspan evenly spaced knots
        n_min = math.ceil(n_samples / (1.0 - minspan))
        start = n_min
        while start < n_end:
            start += n_min
        return n_min, n_end, max(1, start - 1)
    if minspan > 0:
        n_min = minspan
    else:  # Eq. 43: −log2[−ln(1 − α)/(p·N_m)]/2.5 = (−ln(−ln 0.95) + ln(p·N_m))/(2.5·ln 2)
        n_min = int((_EQ43[0] + math.log(n_features * n_used)) / _EQ43[1])
    n_min = max(1, n_min)
    n_avail = max(0, n_samples - 2 * n_end)
    start = n_avail // 2  # room for one knot only: put it in the middle
    if n_avail > n_min:
        n_div = n_avail // n_min
        start = n_min // 2 if n_avail == n_div * n_min else (n_avail - n_div * n_min) // 2
    return n_min, n_end, max(1, n_end + start)


def _revcumsum(a: np.ndarray) -> np.ndarray:
    """Suffix sums along axis 0: out[i] = a[i] + a[i+1] + …"""
    return np.cumsum(a[::-1], axis=0)[::-1]


def _prev(a: np.ndarray) -> np.ndarray:
    """out[:, k] = a[:, k − 1] along axis 1, zero for k = 0."""
    out = np.zeros_like(a)
    out[:, 1:] = a[:, :-1]
    return out


# A term is a tuple of factors (feature, direction, knot): direction 1 is max(0, x − knot),
# -1 is max(0, knot − x), 2 is x itself (a predictor entering linearly). The intercept is ().
Factor = tuple[int, int, float]
Term = tuple[Factor, ...]


def _term_column(X: np.ndarray, term: Term) -> np.ndarray:
    col = np.ones(X.shape[0])
    for j, d, t in term:
        if d == 2:
            col = col * X[:, j]
        else:
            col = col * np.maximum(0.0, d * (X[:, j] - t))
    return col


def _basis(X: np.ndarray, terms: list[Term]) -> np.ndarray:
    """The basis matrix of ``terms`` at ``X`` (cases × terms)."""
    return np.column_stack([_term_column(X, t) for t in terms]) if terms else np.ones((len(X), 0))


class _ForwardPass:
    """State of one MARS forward pass (earth.c ``ForwardPass``), on y scaled to unit variance."""

    def __init__(self, X, y, *, degree, nk, penalty, thresh, minspan, endspan, fast_k, fast_beta):
        self.X = X
        self.n, self.p = X.shape
        self.degree, self.nk, self.penalty, self.thresh = degree, nk, penalty, thresh
        self.minspan, self.endspan = minspan, endspan
        self.fast_k = 10_001 if fast_k <= 0 else max(3, fast_k)
        self.fast_beta = fast_beta
        self.order = np.argsort(X, axis=0, kind="stable")
        self.xs = np.take_along_axis(X, self.order, axis=0)
        n = self.n
        self.Q = np.zeros((n, nk))  # orthonormal basis of the model's columns
        self.Q[:, 0] = 1.0 / math.sqrt(n)
        self.B = np.zeros((n, nk))  # the basis columns themselves
        self.B[:, 0] = 1.0
        self.m = 1
        self.terms: list[Term] = [()]
        self.r = y - y.mean()  # residual of the current model
        self.rss_null = max(float(self.r @ self.r), 1e-8 * n)  # earth's CheckRssNull
        self._plans: dict[tuple[int, int], dict[str, Any]] = {}
        self._plan_budget = _PLAN_CACHE_ELEMENTS

    # -- parent queue (Fast MARS, Friedman 1993) -------------------------------------------
    def _can_parent(self, term: Term) -> bool:
        return len(term) < self.degree and len(term) < self.p

    def _sorted_queue(self, queue: dict[int, list[float]], slot: int) -> list[int]:
        ranked = sorted(queue, key=lambda i: (-queue[i][0], i))
        aged = sorted(
            (rank + self.fast_beta * (slot - queue[i][1]), -queue[i][0], i)
            for rank, i in enumerate(ranked)
        )
        return [i for *_, i in aged]

    # -- one parent --------------------------------------------------------------------------
    def _new_form(self, parent: Term, js: list[int]) -> np.ndarray:
        """earth.c ``GetNewFormFlag``: False for j when every term has the predictors of the
        parent plus j, so that x_j·parent is already spanned."""
        flag = np.ones(len(js), dtype=bool)
        sets = {frozenset(f[0] for f in t) for t in self.terms[1:]}
        if len(sets) == 1:
            (s,) = sets
            extra = s - {f[0] for f in parent}
            if len(extra) == 1 and {f[0] for f in parent} <= s:
                (j_only,) = extra
                flag[[k for k, j in enumerate(js) if j == j_only]] = False
        return flag

    def _project_out(self, V: np.ndarray) -> np.ndarray:
        Q = self.Qr[:, :-1]
        V = V - Q @ (Q.T @ V)
        return V - Q @ (Q.T @ V)  # Gram–Schmidt twice: orthogonal to rounding

    def search_parent(self, ip: int, slot: int, max_legal: float):
        """Best new term on parent ``ip``; returns (best ΔRSS for the parent, candidates).

        Candidates are (ΔRSS, kind, feature, knot) in earth's order of comparison, where kind is
        "linear", "pair" or "single" (a lone hinge when x·parent is already in the model).
        """
        parent = self.terms[ip]
        in_parent = {f[0] for f in parent}
        js = [j for j in range(self.p) if j not in in_parent]
        if not js:
            return -1.0, []
        b = self.B[:, ip]
        support = b > 0
        ns = int(support.sum())
        n_min, n_end, n_start = span_parameters(
            self.n, self.p, len(parent) + 1, ns, self.minspan, self.endspan, _ADJUST_ENDSPAN
        )
        # candidate linear terms x_j·parent (earth.c AddCandidateLinearTerm)
        L = self._project_out(b[:, None] * self.X[:, js])
        ss = np.einsum("ij,ij->j", L, L)
        good = self._new_form(parent, js) & (ss > _MIN_BX_SOS)
        ql = np.where(good, L / np.sqrt(np.where(good, ss, 1.0)), 0.0)
        cl = self.r @ ql
        lin = np.where(good, cl**2, 0.0)
        tol = np.where(
            good,
            _KNOT_TOL_SMALL if slot + 1 < _KNOT_TOL_SWITCH else _KNOT_TOL_LARGE,
            _KNOT_TOL_SMALL if slot < _KNOT_TOL_SWITCH else _KNOT_TOL_LARGE,
        )
        knot_delta = np.full(len(js), -np.inf)
        knot_cut = np.zeros(len(js))
        if ns >= 1:
            chunk = max(1, _CHUNK_ELEMENTS // ns)
            for c0 in range(0, len(js), chunk):
                sl = slice(c0, c0 + chunk)
                plan = self._plans.get((ip, c0))
                if plan is None:
                    plan = self._plan(np.asarray(js[sl]), b, support, ns, n_min, n_end, n_start)
                    if self._plan_budget >= plan.get("size", 0):
                        self._plans[(ip, c0)] = plan
                        self._plan_budget -= plan.get("size", 0)
                if "tb" in plan:
                    d, t = self._knots(plan, ql[:, sl], cl[sl], lin[sl], tol[sl], max_legal)
                    knot_delta[sl], knot_cut[sl] = d, t
        best_parent = -1.0
        out = []
        for k, j in enumerate(js):
            if good[k]:
                out.append((lin[k], "linear", j, float(self.xs[0, j])))
            best_parent = max(best_parent, lin[k])
            if knot_delta[k] > -np.inf:
                out.append((knot_delta[k], "pair" if good[k] else "single", j, knot_cut[k]))
                best_parent = max(best_parent, knot_delta[k])
        return best_parent, out

    def _plan(self, J, b, support, ns, n_min, n_end, n_start) -> dict[str, Any]:
        """Candidate knots of one parent and predictors J, and everything about them that does
        not depend on the current model (so it is kept for the next steps).

        Over the cases of each predictor sorted by x (the parent > 0 only), the candidates
        t_1 > t_2 > … split the cases into blocks (block k: from candidate k up to candidate
        k − 1). Returned: the knot of each block ``tb``, the block of each case ``gid``, the
        sparse (blocks × cases) matrices ``M1`` (entries b) and ``M2`` (entries b·(x − t_k)),
        the hinge sums of squares ``a2`` = Σ_{x > t_k} b²(x − t_k)², and the knot steps ``dt``.
        """
        n, q = self.n, len(J)
        ordd = self.order[::-1, J].T  # (q, n): cases of each predictor, largest x first
        if ns == n:
            rows = ordd
            pos = np.broadcast_to(np.arange(n - 1, -1, -1)[None, :], (q, n))
        else:
            mask = support[ordd]
            rows = ordd[mask].reshape(q, ns)
            pos = n - 1 - np.nonzero(mask)[1].reshape(q, ns)
        k = pos - 1  # knot position in the full ascending order; the knot is the x there
        jc = J[:, None]
        t = self.xs[np.maximum(k, 0), jc]
        xv = self.xs[pos, jc]
        # eligible knots (earth.c FindKnot): the case above the knot has parent > 0 and the
        # hinge is not constant; counted from the top, first at n_start then every n_min
        elig = (k >= 0) & (t < xv[:, :1])
        cnt = np.cumsum(elig, axis=1)
        cand = elig & (k >= n_end) & (cnt >= n_start) & ((cnt - n_start) % n_min == 0)
        ccum = np.cumsum(cand, axis=1)
        n_cand = ccum[:, -1]
        nb = int(n_cand.max()) if q else 0
        if nb == 0:
            return {}
        block = np.minimum(ccum - cand, nb)  # candidates strictly above; nb: below them all
        nb1 = nb + 1
        tb = np.full((q, nb1), np.inf)  # knot of each block, padded with the last knot
        tb[np.nonzero(cand)[0], block[cand]] = t[cand]
        tb = np.minimum.accumulate(tb, axis=1)
        tb[np.isinf(tb)] = 0.0  # predictors without candidates: any finite knot
        gid = (np.arange(q)[:, None] * nb1 + block).ravel()  # non-decreasing
        case = rows.ravel()
        bv = b[case]
        wx = bv * (xv - np.take_along_axis(tb, block, axis=1)).ravel()  # b·(x − t_k)
        nrow = q * nb1
        ptr = np.concatenate([[0], np.cumsum(np.bincount(gid, minlength=nrow))])
        idx = case.astype(np.int32)
        dt = np.zeros((q, nb1))
        dt[:, 1:] = tb[:, :-1] - tb[:, 1:]

        def bsum(w):
            return np.bincount(gid, weights=w, minlength=nrow).reshape(q, nb1)

        a0 = np.cumsum(bsum(bv * bv), axis=1)  # Σ b²
        a1 = np.cumsum(bsum(bv * wx) + dt * _prev(a0), axis=1)  # Σ b²(x − t)
        a2 = np.cumsum(bsum(wx * wx) + 2.0 * dt * _prev(a1) + dt * dt * _prev(a0), axis=1)
        return {
            "size": case.size,
            "q": q,
            "nb1": nb1,
            "tb": tb,
            "dt": dt,
            "a2": a2,
            "gid": gid.astype(np.int32),
            "flat": case * q + np.repeat(np.arange(q), rows.shape[1]),  # into ql.ravel()
            "bv": bv,
            "wx": wx,
            "M1": sparse.csr_matrix((bv, idx, ptr), shape=(nrow, n)),
            "M2": sparse.csr_matrix((wx, idx, ptr), shape=(nrow, n)),
            "valid": np.arange(nb1)[None, :] < n_cand[:, None],
        }

    def _knots(self, plan, ql, cl, lin, tol, max_legal):
        """Best knot for each predictor of ``plan``: (ΔRSS, knot), ΔRSS = -inf where none.

        For a candidate knot t the new hinge is h = b·max(0, x − t). With Q the orthonormal
        model columns (plus the candidate linear column q_l when it enters as a pair), r the
        residual and r' = r − (r·q_l) q_l, the pair cuts RSS by (r·q_l)² + (r'·h)²/‖h − QQᵀh‖²
        (earth.c FindKnot). Every sum S_k = Σ_{x > t_k} w·(x − t_k) obeys S_k = S_{k−1} +
        (t_{k−1} − t_k)·W_{k−1} + Σ_{block k} w·(x − t_k), W the running sum of w: one sparse
        product (blocks × cases)·[Q, r] gives the block sums of every column, and the
        recurrence is a cumulative sum over blocks. The terms are non-negative multiples, so
        nothing cancels.
        """
        q, nb1, dt = plan["q"], plan["nb1"], plan["dt"]
        m1 = self.Qr.shape[1]
        S = (plan["M1"] @ self.Qr).reshape(q, nb1, m1)  # block sums of b·[Q, r]
        P = (plan["M2"] @ self.Qr).reshape(q, nb1, m1)  # … of b·(x − t_k)·[Q, r]
        G = np.cumsum(P + dt[..., None] * _prev(np.cumsum(S, axis=1)), axis=1)  # [Q, r]ᵀh
        qlv = ql.ravel()[plan["flat"]]

        def bsum(w):
            return np.bincount(plan["gid"], weights=w, minlength=q * nb1).reshape(q, nb1)

        sl = np.cumsum(bsum(plan["bv"] * qlv), axis=1)
        gl = np.cumsum(bsum(plan["wx"] * qlv) + dt * _prev(sl), axis=1)  # q_lᵀh
        Gq, g = G[..., :-1], G[..., -1]
        a2 = plan["a2"]
        hh = a2 - np.einsum("kbm,kbm->kb", Gq, Gq) - gl * gl  # ‖h − QQᵀh‖²
        hc = a2 - Gq[..., 0] ** 2  # centered ‖h‖² (column 0 of Q is the intercept)
        with np.errstate(divide="ignore", invalid="ignore"):
            ok = plan["valid"] & (hc > 0) & (hh > tol[:, None] * hc)
            gp = g - cl[:, None] * gl
            total = np.where(ok, lin[:, None] + gp * gp / np.where(ok, hh, 1.0), -np.inf)
        total = np.where((total > lin[:, None]) & (total < max_legal), total, -np.inf)
        best = np.argmax(total, axis=1)  # first maximum from the top, as earth's scan
        cols = np.arange(q)
        return total[cols, best], plan["tb"][cols, best]

    # -- the pass ----------------------------------------------------------------------------
    def _add_columns(self, cols: list[np.ndarray]):
        """Orthonormalize ``cols`` against the model; returns (Q block, kept flags)."""
        Q = self.Q[:, : self.m]
        qs, kept = [], []
        for v in cols:
            nv = float(np.linalg.norm(v))
            u = v - Q @ (Q.T @ v)
            for qq in qs:
                u -= (qq @ u) * qq
            u = u - Q @ (Q.T @ u)
            for qq in qs:
                u -= (qq @ u) * qq
            nu = float(np.linalg.norm(u))
            keep = nu > _RANK_TOL * nv and nv > 0
            kept.append(keep)
            if keep:
                qs.append(u / nu)
        return qs, kept

    def run(self) -> tuple[list[Term], np.ndarray, str]:
        n, nk = self.n, self.nk
        rss = rss_delta = self.rss_null
        rsq = 0.0
        gcv_null = gcv(self.rss_null, 1, self.penalty, n)
        queue: dict[int, list[float]] = {0: [self.rss_null, 1.0]}
        sorted_q = [0]
        slot = 1  # earth's nTerms: advances by two per step, whether one or two terms enter
        reason = f"reached max_terms {nk}"
        if nk < 3:
            return self.terms, self.B[:, :1], reason
        while True:
            max_legal = min(_MAX_DELTA_RSS[0] * rss, _MAX_DELTA_RSS[1] * rss_delta)
            self.Qr = np.column_stack([self.Q[:, : self.m], self.r])  # [Q, r], contiguous
            best = (0.0, None, -1, 0.0, -1)
            for ip in sorted_q[: self.fast_k]:
                best_parent, cands = self.search_parent(ip, slot, max_legal)
                queue[ip] = [best_parent, float(slot)]
                for delta, kind, j, cut in cands:
                    if delta > best[0]:
                        best = (delta, kind, j, cut, ip)
            delta, kind, j, cut, ip = best
            if kind is None:
                reason = "no new term increases RSq"
                break
            factors = {
                "linear": [(j, 2, cut)],
                "pair": [(j, 1, cut), (j, -1, cut)],
                "single": [(j, 1, cut)],
            }[kind]
            new_terms = [tuple(sorted((*self.terms[ip], f))) for f in factors]
            cols = [self.B[:, ip] * _term_column(self.X, (f,)) for f in factors]
            qs, kept = self._add_columns(cols)
            r_new = self.r.copy()
            for qq in qs:
                r_new -= (qq @ r_new) * qq
            rss_new = float(r_new @ r_new)
            rss_new = 0.0 if abs(rss_new) < _ALMOST_ZERO else rss_new
            n_used = self.m + len(qs)
            rsq_new = 1.0 - rss_new / self.rss_null
            d_rsq = rsq_new - rsq
            d_rsq = 0.0 if abs(d_rsq) < _ALMOST_ZERO else d_rsq
            if self.thresh != 0 and d_rsq < self.thresh:
                reason = f"RSq changed by less than thresh {self.thresh}"
                break
            grsq = 1.0 - gcv(rss_new, n_used, self.penalty, n) / gcv_null
            if self.thresh != 0 and grsq < _MIN_GRSQ:
                reason = f"GRSq below {_MIN_GRSQ}"
                break
            for term, col, keep in zip(new_terms, cols, kept, strict=True):
                if not keep:
                    continue
                self.Q[:, self.m] = qs.pop(0)
                self.B[:, self.m] = col
                self.terms.append(term)
                if self._can_parent(term):
                    queue[self.m] = [np.inf, float(slot)]
                self.m += 1
            sorted_q = self._sorted_queue(queue, slot)
            self.r, rss, rsq, rss_delta = r_new, rss_new, rsq_new, delta
            slot += 2
            if rsq >= 1.0 - self.thresh:
                reason = f"reached RSq {1.0 - self.thresh:g}"
                break
            if slot >= nk - 1:
                break
        return self.terms, self.B[:, : self.m], reason


def _backward_pass(B: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, list[list[int]]]:
    """Best subset of each size by backward elimination, as ``earth`` runs ``leaps``.

    Alan Miller's ``BAKWRD`` (in ``leaps``, Lumley; Miller 2002, Sec. 3.4) keeps the columns in
    an order whose leading k columns are a candidate subset of size k. It starts from the order
    of the forward pass, whose leading subsets are the first candidates. It then repeatedly drops,
    from the leading block, the column whose removal raises RSS least,
    ΔRSS_j = β_j² / [(BᵀB)⁻¹]_jj, by moving that column to the end of the block. Every leading
    subset the move creates competes for its size, so the subsets are not always nested. The
    intercept (column 0) is never dropped. The work is on the m × m triangle R of B = QR, since
    ‖y − B_S β‖² = ‖y − QQᵀy‖² + ‖Qᵀy − R_S β‖².

    Returns
    -------
    rss : ndarray
        RSS of the best subset of each size 1…m found.
    subsets : list of list of int
        Column indices (ascending) of those subsets.
    """
    Qf, R = np.linalg.qr(B)
    z = Qf.T @ y
    e0 = y - Qf @ z
    rss0 = float(e0 @ e0)
    m = B.shape[1]
    order = list(range(m))
    best = np.full(m, np.inf)
    subsets: list[list[int]] = [[] for _ in range(m)]
    size, report_from = m, 1
    while True:
        Q2, R2 = np.linalg.qr(R[:, order[:size]], mode="complete")
        t = Q2.T @ z
        lead = rss0 + np.append(_revcumsum(t * t), 0.0)  # lead[i]: RSS of the leading i columns
        for i in range(report_from, size + 1):
            if lead[i] < best[i - 1]:  # strict, as leaps REPORT
                best[i - 1] = lead[i]
                subsets[i - 1] = sorted(order[:i])
        if size <= 2:
            break
        R2 = R2[:size]
        beta = solve_triangular(R2, t[:size])
        rinv = solve_triangular(R2, np.eye(size))
        inc = beta**2 / np.einsum("ij,ij->i", rinv, rinv)
        jmin = 1 + int(np.argmin(inc[1:]))  # first minimum; the intercept stays
        if jmin < size - 1:
            order.insert(size - 1, order.pop(jmin))
            report_from = jmin + 1
        else:
            report_from = size  # nothing new to report
        size -= 1
    return best, subsets


class MARSRegressor(RegressorMixin, BaseEstimator):
    """Multivariate adaptive regression splines (Friedman 1991), as R ``earth`` fits them.

    Forward pass: starting from the intercept, each step adds the hinge pair
    b·max(0, x_j − t), b·max(0, t − x_j) (b an existing term of degree < ``degree``, x_j a
    predictor not in b, t a data value) that most reduces the residual sum of squares; the
    predictor enters linearly (b·x_j) when no knot beats that, and a lone hinge enters when
    b·x_j is already in the model. It stops at ``max_terms``, when R² gains less than
    ``thresh``, when R² ≥ 1 − ``thresh``, when GRSq < −10, or when nothing improves. Backward
    pass: terms are deleted one at a time (least RSS increase first) and the subset with the
    lowest GCV (Friedman 1991 Eq. 30; C(M) = M + penalty·(M − 1)/2) is kept; its coefficients
    are the least-squares fit. See the module docstring for the deliberate differences from
    ``earth`` 5.3.2.

    Parameters
    ----------
    degree : int, default 1
        Maximum interaction degree (earth ``degree``): 1 is an additive model.
    max_terms : int or None, default None
        Maximum number of terms in the forward pass, intercept included (earth ``nk``); None is
        earth's min(200, max(20, 2·n_features)) + 1. Each step uses two slots, so the forward
        pass takes at most (max_terms − 1) // 2 steps.
    penalty : float or None, default None
        GCV cost per knot d (earth ``penalty``); None is 2 for ``degree=1``, else 3. -1 makes
        terms and knots free.
    thresh : float, default 0.001
        Forward pass stops when a step raises R² by less than this (earth ``thresh``); 0 turns
        the R² and GRSq tests off.
    minspan : int, default 0
        Cases between candidate knots; 0 is Friedman (1991) Eq. 43 (per parent term), a
        negative value asks for about −minspan evenly spaced knots (earth ``minspan``).
    endspan : int, default 0
        Cases excluded at each end of a predictor; 0 is Friedman (1991) Eq. 45, tripled for
        interaction terms (earth ``endspan``, ``Adjust.endspan=2``).
    fast_k : int, default 20
        Fast MARS (Friedman 1993): parent terms searched per step, the best by their last
        RSS reduction (earth ``fast.k``); 0 or less searches every parent.
    fast_beta : float, default 1.0
        Fast MARS ageing: a parent's queue rank grows by this per term slot since it was last
        searched (earth ``fast.beta``).
    n_prune : int or None, default None
        Maximum number of terms, intercept included, after pruning (earth ``nprune``, the
        parameter caret tunes); None keeps the GCV-best subset of any size.

    Attributes
    ----------
    basis_ : list of str
        Selected terms other than the intercept, named as earth names them (``h(MAT-3.2)``,
        ``h(3.2-MAT)``, ``clay`` for a linear term, ``h(MAT-3.2)*h(clay-20)``).
    terms_ : list of tuple
        The same terms as tuples of (feature index, direction, knot) factors: direction 1 is
        max(0, x − knot), −1 is max(0, knot − x), 2 is x itself.
    coef_ : ndarray of shape (n_terms,)
        Coefficients of ``basis_`` [units of y per unit of the term].
    intercept_ : float
        Intercept [units of y].
    rss_ : float
        Residual sum of squares of the selected model [units of y²].
    rsq_ : float
        R² = 1 − RSS/TSS.
    gcv_ : float
        GCV of the selected model [units of y²].
    grsq_ : float
        Generalized R², 1 − GCV/GCV(intercept only).
    rss_per_subset_, gcv_per_subset_ : ndarray
        RSS and GCV of the best subset of each size (1 = intercept only) in the backward pass.
    forward_terms_ : list of tuple
        Terms of the forward pass other than the intercept, in the order they entered, as
        ``terms_``.
    n_forward_terms_ : int
        Terms, intercept included, after the forward pass.
    forward_stop_ : str
        Why the forward pass stopped.
    n_features_in_ : int
        Number of predictors seen in ``fit``.
    feature_names_in_ : ndarray of str
        Predictor names, when ``X`` had string column names.

    References
    ----------
    Friedman (1991), https://doi.org/10.1214/aos/1176347963; Friedman (1993), Fast MARS, Tech.
    Rep. 110, Stanford; Milborrow, R package ``earth`` 5.3.2.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0, 1, 101)[:, None]
    >>> m = MARSRegressor(minspan=1, endspan=1).fit(x, 3 * np.maximum(0, x[:, 0] - 0.4))
    >>> m.basis_, np.round(m.coef_, 10).tolist()
    (['h(x0-0.4)'], [3.0])
    """

    def __init__(
        self,
        degree: int = 1,
        max_terms: int | None = None,
        penalty: float | None = None,
        thresh: float = 0.001,
        minspan: int = 0,
        endspan: int = 0,
        fast_k: int = 20,
        fast_beta: float = 1.0,
        n_prune: int | None = None,
    ):
        self.degree = degree
        self.max_terms = max_terms
        self.penalty = penalty
        self.thresh = thresh
        self.minspan = minspan
        self.endspan = endspan
        self.fast_k = fast_k
        self.fast_beta = fast_beta
        self.n_prune = n_prune

    def _check_params(self, n_features: int) -> tuple[int, float]:
        def need(ok: bool, what: str, value: object) -> None:
            if not ok:
                raise ValueError(f"'{what}' must be {value!s} (got {getattr(self, what)!r})")

        need(
            int(self.degree) == self.degree and 1 <= self.degree <= _MAX_DEGREE,
            "degree",
            f"an integer in [1, {_MAX_DEGREE}]",
        )
        need(
            self.max_terms is None
            or (int(self.max_terms) == self.max_terms and self.max_terms >= 1),
            "max_terms",
            "None or ≥ 1",
        )
        need(
            self.penalty is None or self.penalty == -1 or self.penalty >= 0,
            "penalty",
            "None, -1 or ≥ 0",
        )
        need(0 <= self.thresh < 1, "thresh", "in [0, 1)")
        need(int(self.minspan) == self.minspan, "minspan", "an integer")
        need(int(self.endspan) == self.endspan and self.endspan >= 0, "endspan", "an integer ≥ 0")
        need(int(self.fast_k) == self.fast_k, "fast_k", "an integer")
        need(self.fast_beta >= 0, "fast_beta", "≥ 0")
        need(
            self.n_prune is None or (int(self.n_prune) == self.n_prune and self.n_prune >= 1),
            "n_prune",
            "None or an integer ≥ 1",
        )
        nk = (
            min(200, max(20, 2 * n_features)) + 1 if self.max_terms is None else int(self.max_terms)
        )
        penalty = (2.0 if self.degree == 1 else 3.0) if self.penalty is None else self.penalty
        return nk, float(penalty)

    def fit(self, X, y):
        """Fit the forward and backward passes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Predictors; finite numbers.
        y : array-like of shape (n_samples,)
            Response.

        Returns
        -------
        self
        """
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        n, p = X.shape
        if n < 2:
            raise ValueError(f"MARS needs at least 2 samples (got {n} sample)")
        nk, penalty = self._check_params(p)
        sd = float(np.std(y, ddof=1))
        ys = (y - y.mean()) / sd if sd > 0 else y - y.mean()  # earth's Scale.y
        fp = _ForwardPass(
            X,
            ys,
            degree=int(self.degree),
            nk=nk,
            penalty=penalty,
            thresh=float(self.thresh),
            minspan=int(self.minspan),
            endspan=int(self.endspan),
            fast_k=int(self.fast_k),
            fast_beta=float(self.fast_beta),
        )
        # single-threaded BLAS: the products are small, and threads only add waiting
        with threadpool_limits(limits=1, user_api="blas"):
            terms, B, self.forward_stop_ = fp.run()
            self.forward_terms_ = terms[1:]
            self.n_forward_terms_ = len(terms)
            rss, subsets = _backward_pass(B, y)
            # an RSS below ALMOST_ZERO on earth's scaled y is an exact fit: zero, so that the
            # smallest exact subset wins (earth zeroes only after choosing)
            rss[rss < _ALMOST_ZERO * (sd if sd > 0 else 1.0) ** 2] = 0.0
            g = np.asarray(gcv(rss, np.arange(1, len(rss) + 1), penalty, n), dtype=float)
            n_prune = len(rss) if self.n_prune is None else min(int(self.n_prune), len(rss))
            size = int(np.argmin(g[:n_prune])) + 1
            sel = subsets[size - 1]
            beta = np.linalg.lstsq(B[:, sel], y, rcond=None)[0]
        self.terms_ = [terms[i] for i in sel[1:]]
        self.intercept_ = float(beta[0])
        self.coef_ = beta[1:]
        self.rss_per_subset_, self.gcv_per_subset_ = rss, g
        self.rss_ = float(rss[size - 1])
        self.rsq_ = _rsq(self.rss_, float(rss[0]))
        self.gcv_ = float(g[size - 1])
        self.grsq_ = _rsq(self.gcv_, float(g[0]))
        self.basis_ = self._names(self.terms_)
        return self

    def _names(self, terms: list[Term]) -> list[str]:
        names = (
            list(map(str, self.feature_names_in_))
            if hasattr(self, "feature_names_in_")
            else [f"x{j}" for j in range(self.n_features_in_)]
        )

        def name(term: Term, digits: int) -> str:
            parts = []
            for j, d, t in term:
                if d == 2:
                    parts.append(names[j])
                elif d == 1:
                    parts.append(f"h({names[j]}-{t:.{digits}g})")
                else:
                    parts.append(f"h({t:.{digits}g}-{names[j]})")
            return "*".join(parts)

        for digits in (6, 8, 10, 12, 15, 17):  # earth prints %g; more digits if names collide
            out = [name(t, digits) for t in terms]
            if len(set(out)) == len(out):
                break
        return out

    def predict(self, X):
        """Predicted response.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self.intercept_ + _basis(X, self.terms_) @ self.coef_

    def summary(self) -> pd.DataFrame:
        """Terms and coefficients, intercept first (as ``earth``'s ``coef``).

        Returns
        -------
        DataFrame
            Columns ``term``, ``degree`` (number of factors) and ``coefficient``.
        """
        check_is_fitted(self)
        return pd.DataFrame(
            {
                "term": ["(Intercept)", *self.basis_],
                "degree": [0, *(len(t) for t in self.terms_)],
                "coefficient": [self.intercept_, *self.coef_.tolist()],
            }
        )
