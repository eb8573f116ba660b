r"""Equal-area (mass-preserving) quadratic smoothing spline, vectorized across profiles.

The spline of Bishop, McBratney & Laslett (1999) [1]_ turns horizon means measured over
irregular, possibly discontinuous depth intervals into a continuous depth function whose
average over every horizon (the *fitted horizon mean* :math:`\bar s_i`) is reproduced exactly,
and then into averages over any set of standard layers.

Model
-----
For a profile with :math:`n` horizons :math:`[u_i, l_i)` (top, bottom [cm]), thickness
:math:`h_i = l_i - u_i` and gap :math:`g_i = u_{i+1} - l_i \ge 0` to the next horizon, observed
means :math:`y_i` are modelled as :math:`y_i = \bar f_i + e_i` with
:math:`\bar f_i = h_i^{-1}\int_{u_i}^{l_i} f(x)\,dx`, and :math:`f` minimises

.. math:: \frac{1}{n}\sum_i (y_i - \bar f_i)^2 + \lambda \int f'(x)^2\,dx.            \tag{1}

The minimiser is a quadratic inside each horizon, linear across gaps, with continuous
:math:`f` and :math:`f'` and :math:`f' = 0` at the top of the first and bottom of the last
horizon. With the :math:`(n-1)\times(n-1)` tridiagonal

.. math:: R_{ii} = 2(h_i + h_{i+1}) + 6 g_i,\quad R_{i,i+1} = R_{i+1,i} = h_{i+1}   \tag{2}

and the :math:`(n-1)\times n` difference matrix :math:`Q` (:math:`Q_{ii} = -1`,
:math:`Q_{i,i+1} = +1`), the fitted horizon means and the knot derivatives are

.. math:: Z = I + 6 n \lambda\, Q^\top R^{-1} Q,\qquad \bar s = Z^{-1} y                \tag{3}
.. math:: b = 6 R^{-1} Q \bar s,\quad b_0 = [0, b],\quad b_1 = [b, 0]                   \tag{4}
.. math:: \gamma_i = \frac{b_{1,i} - b_{0,i}}{2 h_i},\qquad
          \alpha_i = \bar s_i - \frac{b_{0,i} h_i}{2} - \frac{\gamma_i h_i^2}{3}         \tag{5}
.. math:: f(x) = \alpha_i + b_{0,i}(x - u_i) + \gamma_i (x - u_i)^2,
          \quad u_i \le x < l_i                                                        \tag{6}
.. math:: f(x) = \alpha_{i+1} + b_{1,i}(x - u_{i+1}),\quad l_i \le x < u_{i+1}           \tag{7}

(Eq. 7 is the gap rule of R mpspline2 ``mpspline_fit1``; it is the continuation of the
spline, since Eq. 2 makes :math:`f` and :math:`f'` continuous at :math:`l_i` and
:math:`u_{i+1}`.) Integrating Eq. 6 over a horizon gives :math:`h_i \bar s_i` exactly: the spline
is mass preserving by construction.

The equation numbers (1)–(7) are this module's own, in the order of the derivation in §2 of
[1]_; they are not the paper's numbering (R mpspline2 cites the Z system of Eq. 3 as "part of
eq 7 in paper").

Computation
-----------
Eq. 3 is not solved as written. With :math:`c = 6 n \lambda` and :math:`w = R^{-1} Q \bar s`,
Eq. 3 is equivalent to the symmetric positive definite tridiagonal system

.. math:: (R + c\,Q Q^\top)\, w = Q y,\qquad \bar s = y - c\,Q^\top w,\qquad b = 6 w,   \tag{8}

(the Reinsch form of a smoothing spline), which is solved for all profiles at once by a
Thomas sweep whose loop runs over the horizon index (≤ max horizons), never over profiles.
It costs :math:`O(n)` per profile instead of the :math:`O(n^3)` of forming :math:`Z`.

Evaluation into layers
----------------------
``method="mpspline2"`` (parity with R mpspline2 0.1.x, ``mpspline_fit1``): the 1-cm value of
cm :math:`[k, k+1)` is :math:`f(k)` (left edge); a cm is *covered* if
:math:`u_1 \le k` and :math:`k + 1 \le l_n`, i.e. depths above the first horizon and below the
last one are missing; 1-cm values are clamped to ``clamp`` if given (mpspline2 clamps to
:data:`MPSPLINE2_CLAMP`); a layer's value is the mean over its covered cm, and its coverage is
the number of covered cm over the number of cm in the layer. Output depths must be
non-negative integers [cm] in this mode.

``method="exact"``: a layer's value is the exact integral of Eqs. 6–7 over the part of the
layer within :math:`[u_1, l_n]`, divided by the length of that part; coverage is that length
over the layer's thickness. If ``clamp`` is given it is applied to the layer values (the
integral of a clamped quadratic is not taken).

In both modes **gaps count as covered** (the spline is defined there by Eq. 7); only depths
above the first top and below the last bottom are uncovered. A layer with zero coverage has
the value NaN. A profile with one horizon has :math:`\bar s = y`, :math:`b = 0`, so Eq. 6
copies its value to every covered depth.

References
----------
.. [1] Bishop, T.F.A., McBratney, A.B., Laslett, G.M. (1999). Modelling soil attribute depth
   functions with equal-area quadratic smoothing splines. Geoderma 91, 27–45.
   https://doi.org/10.1016/S0016-7061(99)00003-8
.. [2] O'Brien, L. (2022). mpspline2: Mass-Preserving Spline Functions for Soil Data,
   R package version 0.1.x. https://CRAN.R-project.org/package=mpspline2
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, get_args

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from wholesoil._types import SplineMethod
from wholesoil.errors import InputDataError

if TYPE_CHECKING:
    from wholesoil.profiles._profileset import ProfileSet

__all__ = [
    "MPSPLINE2_CLAMP",
    "STANDARD_DEPTHS",
    "SplineFit",
    "evaluate_layers",
    "fit_profiles",
    "fit_spline",
    "harmonize",
]

#: Standard output depths [cm]: layers 0–5, 5–15, 15–30, 30–60, 60–100, 100–200 cm of the
#: GlobalSoilMap specification (Arrouays et al. 2014, Adv. Agron. 125:93–134), also the
#: default ``d`` of R mpspline2.
STANDARD_DEPTHS: tuple[int, ...] = (0, 5, 15, 30, 60, 100, 200)

#: R mpspline2's default clamp ``(vlow, vhigh)`` of the 1-cm values; pass it as ``clamp`` for
#: full parity. Not a wholesoil default: clamping at 0 corrupts signed variables such as Δ14C.
MPSPLINE2_CLAMP: tuple[float, float] = (0.0, 1000.0)

#: Profiles evaluated per block, to bound memory (a block of the 1-cm grid holds
#: ``chunk × (max depth − min depth)`` values).
DEFAULT_CHUNK = 4096


@dataclass(frozen=True)
class SplineFit:
    """Fitted equal-area splines of ``P`` profiles, NaN-padded to ``H`` horizons.

    Attributes
    ----------
    alpha, b0, gamma : ndarray, shape (P, H)
        Coefficients of Eq. 6 per horizon: value at the horizon top [unit of the variable],
        slope at the top [unit cm⁻¹], curvature [unit cm⁻²].
    s_bar : ndarray, shape (P, H)
        Fitted horizon means :math:`\\bar s` (Eq. 3) [unit of the variable].
    top, bottom : ndarray, shape (P, H)
        Horizon depths [cm].
    n_horizons : ndarray of int, shape (P,)
        Horizons per profile; entries at positions ``>= n_horizons`` are NaN.
    rmse : ndarray, shape (P,)
        Root mean squared difference between observed horizon values and :math:`\\bar s`
        [unit of the variable]; 0 for a single horizon, NaN for a profile without data.
    rmse_iqr : ndarray, shape (P,)
        ``rmse`` divided by the interquartile range of the profile's observed values
        (linear interpolation, R type 7, as mpspline2 ``stats::IQR``) [-]; NaN where the
        IQR is 0 (e.g. a single horizon or a constant profile), where the ratio is undefined.
    lam : float
        Smoothing parameter λ [-] (scaled by n inside Eq. 3, as in mpspline2).
    profile_id : ndarray, shape (P,)
        Profile identifiers (positions ``0 … P−1`` if none were given).
    """

    alpha: NDArray[np.float64]
    b0: NDArray[np.float64]
    gamma: NDArray[np.float64]
    s_bar: NDArray[np.float64]
    top: NDArray[np.float64]
    bottom: NDArray[np.float64]
    n_horizons: NDArray[np.int64]
    rmse: NDArray[np.float64]
    rmse_iqr: NDArray[np.float64]
    lam: float
    profile_id: NDArray[Any]

    @property
    def b1(self) -> NDArray[np.float64]:
        """Slope at each horizon bottom, :math:`b_1 = b_0 + 2\\gamma h` (Eq. 4) [unit cm⁻¹]."""
        return self.b0 + 2.0 * self.gamma * (self.bottom - self.top)

    @property
    def n_profiles(self) -> int:
        """Number of profiles ``P``."""
        return int(self.n_horizons.shape[0])

    def diagnostics(self) -> pd.DataFrame:
        """Per-profile fit diagnostics.

        Returns
        -------
        pandas.DataFrame
            Columns ``profile_id``, ``n_horizons``, ``rmse`` [unit of the variable] and
            ``rmse_iqr`` [-], one row per profile.
        """
        return pd.DataFrame(
            {
                "profile_id": self.profile_id,
                "n_horizons": self.n_horizons,
                "rmse": self.rmse,
                "rmse_iqr": self.rmse_iqr,
            }
        )


# ----------------------------------------------------------------------------- validation
def _check_lam(lam: float) -> float:
    try:
        lam_f = float(lam)
    except (TypeError, ValueError):
        raise InputDataError("lam must be a number ≥ 0", field="lam", value=lam) from None
    if not np.isfinite(lam_f) or lam_f < 0:
        raise InputDataError("lam must be a finite number ≥ 0", field="lam", value=lam)
    return lam_f


def _check_method(method: str) -> None:
    allowed = get_args(SplineMethod)
    if method not in allowed:
        raise InputDataError(f"method must be one of {list(allowed)}", field="method", value=method)


def _check_depths(depths: ArrayLike, method: str) -> NDArray[np.float64]:
    d = np.asarray(depths, dtype=float)
    if d.ndim != 1 or d.size < 2:
        raise InputDataError(
            "depths must be a 1-D sequence of at least two depths [cm]",
            field="depths",
            value=depths,
        )
    if not np.all(np.isfinite(d)):
        raise InputDataError("depths must be finite [cm]", field="depths", value=depths)
    if np.any(np.diff(d) <= 0):
        raise InputDataError(
            "depths must be strictly increasing [cm]", field="depths", value=depths
        )
    if method == "mpspline2" and (np.any(d != np.round(d)) or d[0] < 0):
        raise InputDataError(
            "method='mpspline2' averages whole centimetres: depths must be integers ≥ 0 [cm] "
            "(use method='exact' for other depths)",
            field="depths",
            value=depths,
        )
    return d


#: Float64 arrays of one profile block × 1-cm grid that ``mpspline2`` holds at its peak
#: (k, counts, segment, t, f, covered, the gathered coefficients): for the memory estimate.
_MPSPLINE2_ARRAYS = 12


def spline_memory_bytes(n_profiles: int, depths: ArrayLike, method: str) -> int:
    """Working memory [bytes] that :func:`harmonize` needs for these depths (an estimate).

    ``mpspline2`` evaluates every centimetre from the first to the last depth for a block of
    up to :data:`DEFAULT_CHUNK` profiles at a time; ``exact`` integrates per layer.
    """
    d = np.asarray(depths, dtype=float)
    n_lay = max(d.size - 1, 1)
    block = min(max(int(n_profiles), 1), DEFAULT_CHUNK)
    per_cell = 8 * _MPSPLINE2_ARRAYS
    if method == "mpspline2":
        span = float(d[-1] - d[0]) + 1.0
        work = block * span * per_cell
    else:
        work = block * n_lay * per_cell
    return int(work + 3 * 8 * max(int(n_profiles), 1) * n_lay)


def check_spline_memory(n_profiles: int, depths: ArrayLike, method: str) -> None:
    """Refuse, before allocating, a request whose estimated memory exceeds the budget.

    The budget is :func:`wholesoil.profiles._ranges.max_memory` (4 GiB, or the environment
    variable ``WHOLESOIL_MAX_MEMORY`` in bytes).
    """
    from wholesoil.profiles._ranges import max_memory

    need, budget = spline_memory_bytes(n_profiles, depths, method), max_memory()
    if need > budget:
        raise InputDataError(
            f"these depths need about {need / 1024**3:.3g} GiB for {n_profiles} profiles "
            f"(budget {budget / 1024**3:.3g} GiB, set WHOLESOIL_MAX_MEMORY to raise it): use "
            "fewer or shallower depths",
            field="depths",
            value=float(np.asarray(depths, dtype=float)[-1]),
        )


def _check_clamp(clamp: tuple[float, float] | None) -> tuple[float, float] | None:
    if clamp is None:
        return None
    try:
        lo, hi = (float(c) for c in clamp)
    except (TypeError, ValueError):
        raise InputDataError(
            "clamp must be None or a pair (low, high)", field="clamp", value=clamp
        ) from None
    if np.isnan(lo) or np.isnan(hi) or lo > hi:
        raise InputDataError("clamp must satisfy low ≤ high", field="clamp", value=clamp)
    return lo, hi


def _check_horizons(
    top: NDArray[np.float64],
    bottom: NDArray[np.float64],
    value: NDArray[np.float64],
    n: NDArray[np.int64],
    profile_id: NDArray[Any],
) -> None:
    """Raise on the first profile whose horizons cannot be splined (nothing is dropped)."""
    if not (top.shape == bottom.shape == value.shape) or top.ndim != 2:
        raise InputDataError(
            "top, bottom and value must be 2-D arrays of one shape (profiles, horizons)",
            value=(top.shape, bottom.shape, value.shape),
        )
    if n.shape != (top.shape[0],):
        raise InputDataError(
            f"n_horizons must have shape ({top.shape[0]},)", field="n_horizons", value=n.shape
        )
    if np.any((n < 0) | (n > top.shape[1])):
        raise InputDataError(
            f"n_horizons must lie in 0 … {top.shape[1]}", field="n_horizons", value=n.max()
        )
    inside = np.arange(top.shape[1]) < n[:, None]
    checks = [
        (~np.isfinite(top) | ~np.isfinite(bottom), "top", "depths must be finite [cm]"),
        (~np.isfinite(value), "value", "values must be finite (drop NaN horizons first)"),
    ]
    for bad, fld, msg in checks:
        bad = bad & inside
        if bad.any():
            _raise_first(bad, top, bottom, value, profile_id, fld, msg)
    with np.errstate(invalid="ignore"):
        thin = (bottom <= top) & inside
    if thin.any():
        _raise_first(thin, top, bottom, value, profile_id, "bottom", "expected bottom > top")
    overlap = np.zeros_like(inside)
    if top.shape[1] > 1:
        overlap[:, 1:] = (top[:, 1:] < bottom[:, :-1]) & inside[:, 1:]
    if overlap.any():
        _raise_first(
            overlap,
            top,
            bottom,
            value,
            profile_id,
            "top",
            "horizons overlap or are unsorted: expected top ≥ bottom of the horizon above",
        )


def _raise_first(
    bad: NDArray[np.bool_],
    top: NDArray[np.float64],
    bottom: NDArray[np.float64],
    value: NDArray[np.float64],
    profile_id: NDArray[Any],
    fld: str,
    msg: str,
) -> None:
    rows, cols = np.nonzero(bad)
    p, j = int(rows[0]), int(cols[0])
    n_prof = np.unique(rows).size
    more = f" ({n_prof - 1} more profiles affected)" if n_prof > 1 else ""
    got = {"top": top[p, j], "bottom": bottom[p, j], "value": value[p, j]}[fld]
    raise InputDataError(
        f"horizon {j + 1} ({top[p, j]:g}–{bottom[p, j]:g} cm): {msg}{more}",
        profile=profile_id[p],
        field=fld,
        value=float(got),
        has_value=True,
    )


# ----------------------------------------------------------------------------------- fit
def fit_spline(
    top: ArrayLike,
    bottom: ArrayLike,
    value: ArrayLike,
    n_horizons: ArrayLike,
    lam: float = 0.1,
    *,
    profile_id: ArrayLike | None = None,
) -> SplineFit:
    """Fit equal-area splines (Eqs. 2–5 of the module docstring) to many profiles at once.

    Parameters
    ----------
    top, bottom : array_like, shape (P, H)
        Horizon depths [cm], positive downward, sorted within each profile, NaN-padded after
        ``n_horizons`` (as :func:`wholesoil.profiles.pad_horizons` returns them). Horizons
        must not overlap; gaps are allowed. 1-D arrays are read as a single profile.
    value : array_like, shape (P, H)
        Observed horizon means [any unit; signed values allowed].
    n_horizons : array_like of int, shape (P,)
        Number of horizons of each profile (0 gives an all-NaN fit).
    lam : float, default 0.1
        Smoothing parameter λ ≥ 0 [-]; λ = 0 interpolates the horizon means, λ → ∞ tends to
        the constant equal to the mean of the observed values. Scaled by n in Eq. 3, as R
        mpspline2 does.
    profile_id : array_like, shape (P,), optional
        Identifiers used in error messages and diagnostics (default: positions).

    Returns
    -------
    SplineFit

    Raises
    ------
    wholesoil.errors.InputDataError
        If λ < 0, shapes disagree, or a profile has a non-finite depth or value, a horizon
        with bottom ≤ top, or overlapping horizons (the first such profile is named).
    """
    lam_f = _check_lam(lam)
    top_a = np.asarray(top, dtype=float)
    bot_a = np.asarray(bottom, dtype=float)
    y_a = np.asarray(value, dtype=float)
    n = np.asarray(n_horizons).astype(np.int64)
    if top_a.ndim == 1:
        top_a, bot_a, y_a = top_a[None], bot_a[None], y_a[None]
        n = n.reshape(1)
    pid = np.arange(n.shape[0]) if profile_id is None else np.asarray(profile_id)
    _check_horizons(top_a, bot_a, y_a, n, pid)

    n_hor = top_a.shape[1]
    inside = np.arange(n_hor) < n[:, None]
    # zero-filled working copies: padded positions never produce NaN/inf warnings
    u = np.where(inside, top_a, 0.0)
    low = np.where(inside, bot_a, 0.0)
    y = np.where(inside, y_a, 0.0)
    h = low - u
    h_safe = np.where(inside, h, 1.0)

    w = _solve_reinsch(u, low, y, h, n, lam_f)  # (P, H), zero beyond row n-2
    c = 6.0 * n * lam_f
    w_prev = np.zeros_like(w)
    w_prev[:, 1:] = w[:, :-1]
    s_bar = y - c[:, None] * (w_prev - w)  # Eq. 8: s̄ = y − c Qᵀw
    b1 = 6.0 * w  # Eq. 4, b1_i = b_i, 0 for the last horizon
    b0 = 6.0 * w_prev  # b0_i = b_{i-1}, 0 for the first horizon
    gamma = (b1 - b0) / (2.0 * h_safe)  # Eq. 5
    alpha = s_bar - b0 * h / 2.0 - gamma * h**2 / 3.0

    rmse, rmse_iqr = _fit_errors(y, s_bar, inside, n)

    def pad(a: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.where(inside, a, np.nan)

    return SplineFit(
        alpha=pad(alpha),
        b0=pad(b0),
        gamma=pad(gamma),
        s_bar=pad(s_bar),
        top=pad(u),
        bottom=pad(low),
        n_horizons=n,
        rmse=rmse,
        rmse_iqr=rmse_iqr,
        lam=lam_f,
        profile_id=pid,
    )


def _solve_reinsch(
    u: NDArray[np.float64],
    low: NDArray[np.float64],
    y: NDArray[np.float64],
    h: NDArray[np.float64],
    n: NDArray[np.int64],
    lam: float,
) -> NDArray[np.float64]:
    """Solve Eq. 8, (R + c·QQᵀ) w = Q y, for all profiles by one vectorized Thomas sweep.

    Rows ``j >= n−1`` of a profile are padded as identity rows with zero right-hand side, so
    ``w`` is zero there. The matrix is symmetric positive definite (R is strictly diagonally
    dominant for h > 0, g ≥ 0, and QQᵀ is positive definite), so no pivoting is needed.
    """
    n_prof, n_hor = u.shape
    w = np.zeros((n_prof, n_hor))
    m = n_hor - 1  # rows of the largest system
    if m < 1:
        return w
    c = 6.0 * n * lam
    rows = np.arange(m)
    active = rows < (n[:, None] - 1)  # (P, m)
    coupled = rows < (n[:, None] - 2)  # off-diagonal (j, j+1) exists
    g = u[:, 1:] - low[:, :-1]
    diag = np.where(active, 2.0 * (h[:, :-1] + h[:, 1:]) + 6.0 * g + 2.0 * c[:, None], 1.0)
    off = np.where(coupled, h[:, 1:] - c[:, None], 0.0)
    rhs = np.where(active, y[:, 1:] - y[:, :-1], 0.0)

    cp = np.empty((n_prof, m))
    dp = np.empty((n_prof, m))
    cp[:, 0] = off[:, 0] / diag[:, 0]
    dp[:, 0] = rhs[:, 0] / diag[:, 0]
    for j in range(1, m):  # loop over horizon index, vectorized over profiles
        piv = diag[:, j] - off[:, j - 1] * cp[:, j - 1]
        cp[:, j] = off[:, j] / piv
        dp[:, j] = (rhs[:, j] - off[:, j - 1] * dp[:, j - 1]) / piv
    w[:, m - 1] = dp[:, m - 1]
    for j in range(m - 2, -1, -1):
        w[:, j] = dp[:, j] - cp[:, j] * w[:, j + 1]
    return w


def _fit_errors(
    y: NDArray[np.float64],
    s_bar: NDArray[np.float64],
    inside: NDArray[np.bool_],
    n: NDArray[np.int64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """RMSE of observed vs fitted horizon means, and RMSE / IQR (R type-7 quantiles)."""
    has = n > 0
    sq = np.where(inside, (y - s_bar) ** 2, 0.0).sum(axis=1)
    rmse = np.full(n.shape, np.nan)
    rmse[has] = np.sqrt(sq[has] / n[has])
    srt = np.sort(np.where(inside, y, np.inf), axis=1)
    iqr = np.zeros(n.shape)
    if srt.shape[1] and has.any():
        q75 = _sorted_quantile(srt[has], n[has], 0.75)
        q25 = _sorted_quantile(srt[has], n[has], 0.25)
        iqr[has] = q75 - q25
    rmse_iqr = np.full(n.shape, np.nan)
    ok = has & (iqr > 0)
    rmse_iqr[ok] = rmse[ok] / iqr[ok]
    return rmse, rmse_iqr


def _sorted_quantile(
    srt: NDArray[np.float64], n: NDArray[np.int64], q: float
) -> NDArray[np.float64]:
    pos = q * (n - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    frac = pos - lo
    a = np.take_along_axis(srt, lo[:, None], axis=1)[:, 0]
    b = np.take_along_axis(srt, hi[:, None], axis=1)[:, 0]
    return a + frac * (b - a)


# ----------------------------------------------------------------------------- evaluation
class _Pieces(NamedTuple):
    """Piecewise polynomial of a block of profiles as ``S = 2H − 1`` segments ``[start, end)``.

    Segment ``2i`` is horizon ``i`` (Eq. 6), segment ``2i+1`` the gap below it (Eq. 7); on each,
    ``f(x) = c0 + c1·(x − x0) + c2·(x − x0)²``. Padded segments have zero length at depth 0 and
    zero coefficients, so everything stays finite and no floating-point warnings arise.
    """

    start: NDArray[np.float64]  # (p, S) [cm]
    end: NDArray[np.float64]  # (p, S) [cm]
    c0: NDArray[np.float64]  # (p, S)
    c1: NDArray[np.float64]  # (p, S)
    c2: NDArray[np.float64]  # (p, S)
    x0: NDArray[np.float64]  # (p, S) [cm]
    n_seg: NDArray[np.int64]  # (p,) real segments, 2n − 1 (1 for an empty profile)
    first: NDArray[np.float64]  # (p,) top of the first horizon [cm]
    last: NDArray[np.float64]  # (p,) bottom of the last horizon [cm]
    has: NDArray[np.bool_]  # (p,) profile has at least one horizon


def _pieces(fit: SplineFit, sl: slice) -> _Pieces:
    """Segments of the profiles ``sl`` of ``fit`` (see :class:`_Pieces`)."""
    n = fit.n_horizons[sl]
    n_hor = fit.top.shape[1]
    inside = np.arange(n_hor) < n[:, None]
    u = np.where(inside, fit.top[sl], 0.0)
    low = np.where(inside, fit.bottom[sl], 0.0)
    alpha = np.where(inside, fit.alpha[sl], 0.0)
    b0 = np.where(inside, fit.b0[sl], 0.0)
    gamma = np.where(inside, fit.gamma[sl], 0.0)
    b1 = b0 + 2.0 * gamma * (low - u)

    shape = (u.shape[0], 2 * n_hor - 1)
    start, end = np.zeros(shape), np.zeros(shape)
    c0, c1, c2, x0 = np.zeros(shape), np.zeros(shape), np.zeros(shape), np.zeros(shape)
    start[:, 0::2], end[:, 0::2] = u, low
    c0[:, 0::2], c1[:, 0::2], c2[:, 0::2], x0[:, 0::2] = alpha, b0, gamma, u
    if n_hor > 1:
        gap = np.arange(n_hor - 1) < (n[:, None] - 1)
        start[:, 1::2] = np.where(gap, low[:, :-1], 0.0)
        end[:, 1::2] = np.where(gap, u[:, 1:], 0.0)
        c0[:, 1::2] = np.where(gap, alpha[:, 1:], 0.0)
        c1[:, 1::2] = np.where(gap, b1[:, :-1], 0.0)
        x0[:, 1::2] = np.where(gap, u[:, 1:], 0.0)
    has = n > 0
    last = np.take_along_axis(low, np.maximum(n - 1, 0)[:, None], axis=1)[:, 0]
    return _Pieces(start, end, c0, c1, c2, x0, np.where(has, 2 * n - 1, 1), u[:, 0], last, has)


def _layers_exact(
    fit: SplineFit, sl: slice, d: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    pc = _pieces(fit, sl)
    a = d[:-1][None, :, None]  # (1, L, 1)
    b = d[1:][None, :, None]
    # overlap of every layer with every segment, (p, L, S); zero-length where disjoint
    lo = np.maximum(a, pc.start[:, None, :])
    hi = np.maximum(lo, np.minimum(b, pc.end[:, None, :]))
    x0, c0 = pc.x0[:, None, :], pc.c0[:, None, :]
    c1h, c2t = pc.c1[:, None, :] / 2.0, pc.c2[:, None, :] / 3.0

    def prim(x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Antiderivative of Eq. 6/7 on each segment, zero at x0."""
        t = x - x0
        return t * (c0 + t * (c1h + t * c2t))

    integral = (prim(hi) - prim(lo)).sum(axis=2)  # (p, L)
    length = (hi - lo).sum(axis=2)
    values = np.full(integral.shape, np.nan)
    np.divide(integral, length, out=values, where=length > 0)
    coverage = length / (d[1:] - d[:-1])[None, :]
    return values, coverage


def _layers_mpspline2(
    fit: SplineFit, sl: slice, d: NDArray[np.float64], clamp: tuple[float, float] | None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    pc = _pieces(fit, sl)
    k0, k1 = int(d[0]), int(d[-1])
    n_cm = k1 - k0
    p = pc.start.shape[0]
    k = np.arange(k0, k1, dtype=float)  # left edges of the 1-cm slices (mpspline2: 0-based)
    # Segment of each cm = (number of real segment starts ≤ k) − 1; starts are sorted. Counted
    # for all profiles at once: one bincount over (profile, first cm at or below the start).
    real = np.arange(pc.start.shape[1]) < pc.n_seg[:, None]
    pos = np.where(real, np.ceil(pc.start) - k0, n_cm)
    pos = np.clip(pos, 0, n_cm).astype(np.int64)
    flat = (np.arange(p)[:, None] * (n_cm + 1) + pos).ravel()
    counts = np.bincount(flat, minlength=p * (n_cm + 1)).reshape(p, n_cm + 1)[:, :n_cm]
    seg = np.clip(np.cumsum(counts, axis=1) - 1, 0, (pc.n_seg - 1)[:, None])

    t = k[None, :] - np.take_along_axis(pc.x0, seg, axis=1)
    f = np.take_along_axis(pc.c0, seg, axis=1) + t * (
        np.take_along_axis(pc.c1, seg, axis=1) + t * np.take_along_axis(pc.c2, seg, axis=1)
    )
    if clamp is not None:
        np.clip(f, clamp[0], clamp[1], out=f)
    # mpspline2: NA above the first top (k < u_1) and from the last bottom down (k + 1 > l_n)
    kk = k[None, :]
    covered = pc.has[:, None] & (kk >= pc.first[:, None]) & (kk + 1 <= pc.last[:, None])
    f[~covered] = 0.0
    idx = (d[:-1] - k0).astype(np.int64)
    sums = np.add.reduceat(f, idx, axis=1)
    cnt = np.add.reduceat(covered.astype(np.int64), idx, axis=1)
    values = np.full(sums.shape, np.nan)
    np.divide(sums, cnt, out=values, where=cnt > 0)
    coverage = cnt / (d[1:] - d[:-1])[None, :]
    return values, coverage


def evaluate_layers(
    fit: SplineFit,
    depths: Sequence[float] | ArrayLike = STANDARD_DEPTHS,
    method: SplineMethod = "mpspline2",
    clamp: tuple[float, float] | None = None,
    *,
    chunk_size: int = DEFAULT_CHUNK,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Average fitted splines over output layers ``[depths[j], depths[j+1])``.

    Parameters
    ----------
    fit : SplineFit
        Splines from :func:`fit_spline` or :func:`fit_profiles`.
    depths : sequence of float, default :data:`STANDARD_DEPTHS`
        Strictly increasing layer boundaries [cm]; ``L + 1`` boundaries give ``L`` layers.
        Integers ≥ 0 for ``method="mpspline2"``.
    method : {"mpspline2", "exact"}, default "mpspline2"
        ``"mpspline2"``: mean of left-edge 1-cm values over the covered cm (parity with R
        mpspline2); ``"exact"``: exact integral of the spline over the covered part of the
        layer divided by its length. See the module docstring.
    clamp : (float, float), optional
        ``(low, high)`` bounds [unit of the variable]: applied to the 1-cm values in
        ``"mpspline2"`` mode and to the layer values in ``"exact"`` mode. Default: none, so
        signed variables (Δ14C [‰]) keep their sign; :data:`MPSPLINE2_CLAMP` reproduces R
        mpspline2's default.
    chunk_size : int, default 4096
        Profiles evaluated per block (bounds memory).

    Returns
    -------
    values : ndarray, shape (P, L)
        Layer values [unit of the variable]; NaN where coverage is 0.
    coverage : ndarray, shape (P, L)
        Fraction of each layer within [first top, last bottom] of the profile's data, gaps
        between horizons counted as covered [-]; in ``"mpspline2"`` mode the fraction of the
        layer's whole cm that were averaged.

    Raises
    ------
    wholesoil.errors.InputDataError
        For an unknown method, depths that are not strictly increasing (or not integers ≥ 0
        in ``"mpspline2"`` mode), or ``clamp`` with low > high.
    """
    _check_method(method)
    d = _check_depths(depths, method)
    cl = _check_clamp(clamp)
    if int(chunk_size) < 1:
        raise InputDataError("chunk_size must be ≥ 1", field="chunk_size", value=chunk_size)
    n_prof, n_lay = fit.n_profiles, d.size - 1
    values = np.full((n_prof, n_lay), np.nan)
    coverage = np.zeros((n_prof, n_lay))
    for i0 in range(0, n_prof, int(chunk_size)):  # blocks of profiles, each vectorized
        sl = slice(i0, min(i0 + int(chunk_size), n_prof))
        if method == "exact":
            v, c = _layers_exact(fit, sl, d)
            if cl is not None:
                np.clip(v, cl[0], cl[1], out=v)
        else:
            v, c = _layers_mpspline2(fit, sl, d, cl)
        values[sl], coverage[sl] = v, c
    return values, coverage


# ------------------------------------------------------------------------ ProfileSet level
def fit_profiles(profiles: ProfileSet, variable: str, lam: float = 0.1) -> SplineFit:
    """Fit equal-area splines to one variable of every profile of a ProfileSet.

    Parameters
    ----------
    profiles : wholesoil.profiles.ProfileSet
        Profiles; horizons with a NaN value of ``variable`` are left out of the fit.
    variable : str
        Horizon column to spline, e.g. ``"soc"`` [g C kg⁻¹] or ``"d14c"`` [‰].
    lam : float, default 0.1
        Smoothing parameter λ ≥ 0 [-].

    Returns
    -------
    SplineFit
        One spline per profile, in site-table order followed by any profile that appears only
        in the horizon table; profiles without data have ``n_horizons = 0`` and NaN fits.
        :meth:`SplineFit.diagnostics` gives ``profile_id, n_horizons, rmse, rmse_iqr``.
    """
    lam_f = _check_lam(lam)
    padded = profiles.to_padded(variable)
    site_ids = pd.Index(profiles.profile_ids.astype(str))
    pad_ids = pd.Index(np.asarray(padded.profile_id).astype(str))
    ids = site_ids.append(pad_ids.difference(site_ids, sort=False)).unique()
    where = pad_ids.get_indexer(ids)  # -1 for profiles with no horizon rows
    n_hor = padded.top.shape[1]
    top = np.full((ids.size, n_hor), np.nan)
    bottom = np.full((ids.size, n_hor), np.nan)
    value = np.full((ids.size, n_hor), np.nan)
    n = np.zeros(ids.size, dtype=np.int64)
    got = where >= 0
    top[got], bottom[got] = padded.top[where[got]], padded.bottom[where[got]]
    value[got], n[got] = padded.value[where[got]], padded.n_horizons[where[got]]
    return fit_spline(top, bottom, value, n, lam_f, profile_id=ids.to_numpy(dtype=object))


def harmonize(
    profiles: ProfileSet,
    variable: str,
    depths: Sequence[float] | ArrayLike = STANDARD_DEPTHS,
    lam: float = 0.1,
    method: SplineMethod = "mpspline2",
    clamp: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Harmonize one variable of all profiles to standard layers with the equal-area spline.

    Parameters
    ----------
    profiles : wholesoil.profiles.ProfileSet
        Profiles with horizon depths [cm] and ``variable``.
    variable : str
        Horizon column to harmonize.
    depths : sequence of float, default :data:`STANDARD_DEPTHS`
        Output layer boundaries [cm], strictly increasing.
    lam : float, default 0.1
        Smoothing parameter λ ≥ 0 [-].
    method : {"mpspline2", "exact"}, default "mpspline2"
        Layer averaging rule, see :func:`evaluate_layers`.
    clamp : (float, float), optional
        Bounds of the values [unit of ``variable``]; default none.

    Returns
    -------
    pandas.DataFrame
        Long format, one row per profile × output layer (layers without data are kept, with
        NaN value and coverage 0): ``profile_id``, ``top`` [cm], ``bottom`` [cm],
        ``<variable>`` [unit of the variable], ``coverage`` [-].

    See Also
    --------
    fit_profiles : the fits themselves; ``fit_profiles(...).diagnostics()`` gives
        ``profile_id, n_horizons, rmse, rmse_iqr`` per profile.

    Raises
    ------
    wholesoil.errors.InputDataError
        For invalid depths, λ, method or clamp (checked before any work), or horizons that
        cannot be splined (overlaps, bottom ≤ top; the profile is named).
    """
    _check_method(method)
    d = _check_depths(depths, method)
    _check_clamp(clamp)
    _check_lam(lam)
    if variable in ("profile_id", "top", "bottom", "coverage"):
        raise InputDataError(
            "variable name clashes with an output column", field="variable", value=variable
        )
    check_spline_memory(profiles.horizons["profile_id"].nunique(), d, method)
    fit = fit_profiles(profiles, variable, lam)
    values, coverage = evaluate_layers(fit, d, method, clamp)
    n_prof, n_lay = values.shape
    top, bottom = d[:-1], d[1:]
    return pd.DataFrame(
        {
            "profile_id": np.repeat(fit.profile_id, n_lay),
            "top": np.tile(top, n_prof),
            "bottom": np.tile(bottom, n_prof),
            variable: values.ravel(),
            "coverage": coverage.ravel(),
        }
    )
