"""The one-pool radiocarbon model of bulk soil and its inversion to carbon age
(Wang G. et al. (manuscript)).

Wang G. et al. (manuscript) (Wang et al., Methods, after Cherkinsky & Brovkin 1993) models the
¹⁴C/¹²C ratio of bulk soil carbon A_soil with turnover rate k [yr⁻¹], inputs carrying the
atmospheric ratio A_input(t) of the site's zone and radioactive decay γ (here ``lam``)::

    dA_soil/dt = k·A_input(t) − (k + λ)·A_soil                                      (Eq. 1)
    A_soil = k / (k + λ)·A_input                  (steady state, pre-bomb)          (Eq. 2)
    k = λ·A_soil / (A_input − A_soil)             (inverse of Eq. 2)                (Eq. 3)

with A = Δ14C/1000 + 1 (Eqs. 4–5, :mod:`wholesoil.radiocarbon._atmosphere`); the carbon age is
C_age = 1/k. The model starts at its steady state (Eq. 2) with the atmosphere of the start year
(Wang G. et al. (manuscript) starts in 1950; SoilR's ``OnepModel14`` runs start wherever the user
starts them) and is integrated through the bomb curve to the observation year.

Integration is exact for the interpolated forcing: on each interval of the curve's piecewise
cubic (or linear) interpolant p(s), s the time since the interval's start,

    A(t + h) = e^{−κh}·A(t) + k·Σ_m p_m·m!·h^{m+1}·φ_{m+1}(−κh),   κ = k + λ,

where p_m are the Taylor coefficients of p at t and φ_j(z) = Σ_n zⁿ/(n + j)! are the
exponential-integrator φ-functions (φ_j(z) = ∫₀¹ e^{(1−θ)z} θ^{j−1} dθ / (j − 1)!), evaluated by
their series (φ₄, then φ_j = 1/j! + z·φ_{j+1}) for |z| < 1 and by the recurrence
φ_{j+1} = (φ_j − 1/j!)/z otherwise. The only error left is floating point (checked against
``scipy.integrate.solve_ivp`` at rtol 1e-12 and R deSolve's lsoda).

Inversion: for an observed Δ14C in year T the forward model D(k, T) is evaluated exactly on a
log-spaced grid of k (``points_per_decade`` per decade over ``k_range``); every sign change of
D − Δ14C_obs brackets a root; each root is located in its bracket by bisection (40 halvings) on
the cubic through the four nearest grid values in ln k. Post-bomb observations often have two
roots (a fast pool that has taken up bomb carbon and a slow one that has not); all are
returned, one is chosen by a stated rule (default ``"slow"``: the smallest k, as
Wang G. et al. (manuscript) treats bulk soil) and ``ambiguous`` flags observations with more than
one root. Observations outside what any k in the range reaches get a status, never a clipped value.

References
----------
Wang G. et al. (manuscript). Most root-derived carbon inputs do not contribute to the global bulk
soil carbon pool. Methods, Eqs. 1–6.

Cherkinsky, A. & Brovkin, V. (1993). Dynamics of radiocarbon in soils. Radiocarbon 35, 363–367.

Hochbruck, M. & Ostermann, A. (2010). Exponential integrators. Acta Numerica 19, 209–286
(φ-functions). https://doi.org/10.1017/S0962492910000048

Sierra, C. A., Müller, M. & Trumbore, S. E. (2014). Modeling radiocarbon dynamics in soils:
SoilR version 1.1. Geosci. Model Dev. 7, 1919–1931 (``OnepModel14``).

Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError, MissingColumnError
from wholesoil.radiocarbon._atmosphere import (
    LAMBDA_SEED004,
    AtmosphericCurve,
    Interpolation,
    _check_lam,
    absolute_from_delta14c,
    delta14c_from_absolute,
    zone_from_latitude,
)

__all__ = [
    "DEFAULT_K_RANGE",
    "DEFAULT_START_YEAR",
    "OnePoolInversion",
    "SteadyStateD14C",
    "clm5_steady_state_d14c",
    "invert_onepool",
    "onepool_ages",
    "onepool_d14c",
    "onepool_d14c_at",
    "onepool_steady_state",
    "steady_state_d14c",
]

#: Start of the one-pool runs [yr AD]: Wang G. et al. (manuscript) "start the modelling from any
#: pre-nuclear test time (from 1950 in this study)".
DEFAULT_START_YEAR: float = 1950.0

#: Search range of the inversion [yr⁻¹]: ages 0.1 … 100,000 yr.
DEFAULT_K_RANGE: tuple[float, float] = (1e-5, 10.0)

RootChoice = Literal["slow", "fast"]

#: Status of an inversion.
STATUS_OK = "ok"
STATUS_BELOW = "below_range"  # more depleted than D(k_min): older than 1/k_min
STATUS_ABOVE = "above_range"  # more enriched than any k in the range reaches
STATUS_NONE = "no_root"  # between the extremes but no sign change found (tangent root)
STATUS_MISSING = "no_observation"  # Δ14C is NaN


# ------------------------------------------------------------------------- exact integrator
_FACT = np.array([math.factorial(i) for i in range(40)], dtype=float)


def _phi(z: NDArray[np.float64]) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """φ₁ … φ₄ of z ≤ 0 (series for |z| < 1, recurrence from expm1 otherwise)."""
    small = np.abs(z) < 1.0
    zs = np.where(small, z, 0.0)
    # φ₄ by Horner on Σ_{n=0}^{20} zⁿ/(n+4)! (remainder < 1/25! < 1e-25), then the stable
    # backward recurrence φ_j = 1/j! + z·φ_{j+1}
    acc = np.full(z.shape, 1.0 / _FACT[24])
    for n in range(19, -1, -1):
        acc = acc * zs + 1.0 / _FACT[n + 4]
    s3 = 1.0 / 6.0 + zs * acc
    s2 = 0.5 + zs * s3
    s1 = 1.0 + zs * s2
    out = [s1, s2, s3, acc]
    if np.all(small):
        return out[0], out[1], out[2], out[3]
    zl = np.where(small, -1.0, z)
    p1 = np.expm1(zl) / zl
    p2 = (p1 - 1.0) / zl
    p3 = (p2 - 0.5) / zl
    p4 = (p3 - 1.0 / 6.0) / zl
    return (np.where(small, out[0], p1), np.where(small, out[1], p2),
            np.where(small, out[2], p3), np.where(small, out[3], p4))


def _step(a: NDArray, k: NDArray, kappa: NDArray, b: NDArray, h: NDArray) -> NDArray:
    """Advance A by h with forcing Σ b_m s^m (ascending coefficients of A_input, s from 0)."""
    z = -kappa * h
    p1, p2, p3, p4 = _phi(z)
    forced = h * (b[0] * p1 + h * (b[1] * p2 + h * (2.0 * b[2] * p3 + h * 6.0 * b[3] * p4)))
    return np.exp(z) * a + k * forced


def _local_coefficients(curve: AtmosphericCurve, i: int, t: float) -> NDArray[np.float64]:
    """Ascending Taylor coefficients of A_input = Δ14C/1000 + 1 at time t in interval i."""
    c = curve.ppoly.c[:, i]  # descending powers of (x − x_i), Δ14C [‰]
    d = t - curve.ppoly.x[i]
    c3, c2, c1, c0 = c
    b0 = ((c3 * d + c2) * d + c1) * d + c0
    b1 = (3.0 * c3 * d + 2.0 * c2) * d + c1
    b2 = 3.0 * c3 * d + c2
    b3 = c3
    return np.array([b0 / 1000.0 + 1.0, b1 / 1000.0, b2 / 1000.0, b3 / 1000.0])


def _integrate(k: NDArray[np.float64], lam: float, curve: AtmosphericCurve, start: float,
               years: NDArray[np.float64]) -> NDArray[np.float64]:
    """A_soil (n, m) for rates k (n,) at sorted ``years`` (m,) ≥ start, from Eq. 2 at start."""
    x = curve.ppoly.x
    nint = x.size - 1
    kappa = k + lam
    a = k / kappa * float(curve.absolute(start))
    out = np.empty((k.size, years.size))
    i = int(np.clip(np.searchsorted(x, start, side="right") - 1, 0, nint - 1))
    t = float(start)
    j = 0
    m = years.size
    kk, kap = k[:, None], kappa[:, None]
    while j < m:
        right = x[i + 1] if i < nint - 1 else np.inf
        jj = int(np.searchsorted(years, right, side="right")) if np.isfinite(right) else m
        if jj > j:
            b = _local_coefficients(curve, i, t)[:, None, None]
            out[:, j:jj] = _step(a[:, None], kk, kap, b, (years[j:jj] - t)[None, :])
            j = jj
        if j >= m:
            break
        b = _local_coefficients(curve, i, t)[:, None]
        a = _step(a, k, kappa, b, np.asarray(right - t))
        t = float(right)
        i += 1
    return out


def _check_k(k: ArrayLike) -> NDArray[np.float64]:
    k = np.asarray(k, dtype=float)
    if not np.all(np.isfinite(k)) or np.any(k <= 0):
        bad = k[~(np.isfinite(k) & (k > 0))].ravel()[0].item()
        raise InputDataError("turnover rate k must be finite and > 0 [yr⁻¹]", field="k",
                             value=bad)
    return k


def _curve(curve: AtmosphericCurve | str, zone: str | None, prebomb: str | float,
           interpolation: Interpolation) -> AtmosphericCurve:
    if isinstance(curve, AtmosphericCurve):
        return curve
    return AtmosphericCurve.load(zone or "NHZone1", curve, prebomb, interpolation)


def _check_times(c: AtmosphericCurve, start_year: float, years: NDArray[np.float64]) -> None:
    c.check_years(np.asarray(start_year, dtype=float), "start_year")
    c.check_years(years, "year")
    if np.any(years < start_year):
        raise InputDataError(f"observation year before the start year {start_year:g}",
                             field="year", value=years[years < start_year].ravel()[0].item())


# ----------------------------------------------------------------------------- forward model
def onepool_steady_state(k: ArrayLike, atmosphere_d14c: ArrayLike,
                         lam: float = LAMBDA_SEED004) -> NDArray[np.float64]:
    """Steady-state Δ14C of one pool, A = k/(k + λ)·A_input (Wang G. et al. (manuscript) Eq. 2).

    Parameters
    ----------
    k : array [yr⁻¹], > 0
    atmosphere_d14c : array [‰], broadcast with k
    lam : float [yr⁻¹], default 1/8267 (Wang G. et al. (manuscript))

    Returns
    -------
    array [‰]
    """
    k = _check_k(k)
    lam = _check_lam(lam)
    return delta14c_from_absolute(k / (k + lam) * absolute_from_delta14c(atmosphere_d14c))


def onepool_d14c(
    k: ArrayLike,
    years: ArrayLike,
    *,
    zone: str = "NHZone1",
    curve: AtmosphericCurve | str = "hua2021",
    start_year: float = DEFAULT_START_YEAR,
    lam: float = LAMBDA_SEED004,
    prebomb: str | float = "intcal",
    interpolation: Interpolation = "spline",
) -> NDArray[np.float64]:
    """Bulk-soil Δ14C of the one-pool model through time (Wang G. et al. (manuscript) Eqs. 1–2,
    4–5).

    Starts at steady state (Eq. 2) with the atmosphere of ``start_year``, then integrates
    Eq. 1 exactly for the interpolated atmosphere of ``zone``.

    Parameters
    ----------
    k : array (...) [yr⁻¹], > 0
        Turnover rates (any shape).
    years : array (m,) [yr AD], each within [start_year, curve end]
    zone : str
        Hua et al. zone (ignored when ``curve`` is an :class:`AtmosphericCurve`).
    curve : AtmosphericCurve or {"hua2021", "hua2013", "israd"}
    start_year : float [yr AD], default 1950 (Wang G. et al. (manuscript))
    lam : float [yr⁻¹], default 1/8267 (Wang G. et al. (manuscript)); SoilR uses ln 2/5730 =
    1.209681e-4 prebomb, interpolation
        See :meth:`AtmosphericCurve.load`.

    Returns
    -------
    array (..., m) [‰]
    """
    k = _check_k(k)
    lam = _check_lam(lam)
    c = _curve(curve, zone, prebomb, interpolation)
    y = np.atleast_1d(np.asarray(years, dtype=float))
    if y.ndim != 1:
        raise InputDataError("years must be a 1-D sequence", field="years", value=y.shape)
    _check_times(c, start_year, y)
    order = np.argsort(y, kind="stable")
    a = _integrate(k.ravel(), lam, c, float(start_year), y[order])
    out = np.empty_like(a)
    out[:, order] = a
    return delta14c_from_absolute(out).reshape((*k.shape, y.size))


def onepool_d14c_at(
    k: ArrayLike,
    year: ArrayLike,
    *,
    zone: str = "NHZone1",
    curve: AtmosphericCurve | str = "hua2021",
    start_year: float = DEFAULT_START_YEAR,
    lam: float = LAMBDA_SEED004,
    prebomb: str | float = "intcal",
    interpolation: Interpolation = "spline",
) -> NDArray[np.float64]:
    """Δ14C of each (k, year) pair, k and year broadcast together (one zone).

    As :func:`onepool_d14c` but elementwise: observation i has rate k[i] and year year[i].

    Returns
    -------
    array, broadcast shape of k and year [‰]
    """
    kb, yb = np.broadcast_arrays(_check_k(k), np.asarray(year, dtype=float))
    uy, inv = np.unique(yb.ravel(), return_inverse=True)
    full = onepool_d14c(kb.ravel(), uy, zone=zone, curve=curve, start_year=start_year, lam=lam,
                        prebomb=prebomb, interpolation=interpolation)
    return full[np.arange(kb.size), inv.ravel()].reshape(kb.shape)


# -------------------------------------------------------------------------------- inversion
@dataclass
class OnePoolInversion:
    """Carbon ages inverted from observed Δ14C (:func:`invert_onepool`).

    Attributes
    ----------
    k : array (...) [yr⁻¹]
        Chosen root (NaN where there is none).
    age : array (...) [yr]
        C_age = 1/k (Wang G. et al. (manuscript)).
    roots : array (..., r) [yr⁻¹]
        All roots found in the search range, ascending, NaN-padded.
    n_roots : array (...) of int
    ambiguous : array (...) of bool
        More than one root: the choice of root matters.
    status : array (...) of str
        ``ok``; ``below_range`` (more depleted than the slowest k reaches: older than
        1/k_min); ``above_range`` (more enriched than any k in the range reaches);
        ``no_root`` (inside those extremes but no crossing, e.g. touching a maximum);
        ``no_observation`` (Δ14C missing).
    zone : array (...) of str
    choice : str
        Rule used to choose among roots.
    attainable : array (..., 2) [‰]
        Smallest and largest Δ14C the model reaches for k in the range at that year/zone.
    """

    k: NDArray[np.float64]
    age: NDArray[np.float64]
    roots: NDArray[np.float64]
    n_roots: NDArray[np.int64]
    ambiguous: NDArray[np.bool_]
    status: NDArray[np.str_]
    zone: NDArray[np.str_]
    choice: str
    attainable: NDArray[np.float64]


def _cubic(uu: NDArray, ff: NDArray, x: NDArray) -> NDArray:
    """Lagrange cubic through (uu[:, a], ff[:, a]), a = 0…3, evaluated at x (one per row)."""
    tot = np.zeros_like(x)
    for a in range(4):
        term = ff[:, a].copy()
        for b in range(4):
            if b != a:
                term = term * (x - uu[:, b]) / (uu[:, a] - uu[:, b])
        tot += term
    return tot


def _stencil(j: NDArray, n: int) -> NDArray:
    j0 = np.clip(j - 1, 0, n - 4)
    return j0[:, None] + np.arange(4)[None, :]


def _bisect(uu: NDArray, ff: NDArray, lo: NDArray, hi: NDArray, neg_lo: NDArray) -> NDArray:
    """Root of the local cubic in [lo, hi] where its sign at lo is negative iff neg_lo."""
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        same = (_cubic(uu, ff, mid) < 0) == neg_lo
        lo = np.where(same, mid, lo)
        hi = np.where(same, hi, mid)
    return 0.5 * (lo + hi)


class _Extrema(NamedTuple):
    row: NDArray  # row (unique year) of each interior grid extremum
    j: NDArray  # grid index of the extremum
    u: NDArray  # refined location in ln k
    value: NDArray  # refined Δ14C [‰]
    sign: NDArray  # +1 maximum, −1 minimum


def _extrema(rows: NDArray, u: NDArray) -> _Extrema:
    """Interior extrema of each row's D(ln k), refined by golden-section on the local cubic."""
    n = u.size
    mid = rows[:, 1:-1]
    is_max = (mid > rows[:, :-2]) & (mid >= rows[:, 2:])
    is_min = (mid < rows[:, :-2]) & (mid <= rows[:, 2:])
    r_, j_ = np.nonzero(is_max | is_min)
    j_ = j_ + 1
    sign = np.where(is_max[r_, j_ - 1], 1.0, -1.0)
    idx = _stencil(j_, n)
    uu, ff = u[idx], rows[r_[:, None], idx] * sign[:, None]
    a, b = u[j_ - 1], u[np.minimum(j_ + 1, n - 1)]
    g = (math.sqrt(5.0) - 1.0) / 2.0
    for _ in range(60):
        c1, c2 = b - g * (b - a), a + g * (b - a)
        left = _cubic(uu, ff, c1) >= _cubic(uu, ff, c2)
        b = np.where(left, c2, b)
        a = np.where(left, a, c1)
    us = 0.5 * (a + b)
    return _Extrema(r_, j_, us, _cubic(uu, ff, us) * sign, sign)


def _bracket_roots(rows: NDArray, which: NDArray, d: NDArray, u: NDArray, ext: _Extrema
                   ) -> tuple[NDArray, NDArray]:
    """Roots in u = ln k of D − d, D = rows[which[i]]; returns (observation index, u root)."""
    r = rows[which] - d[:, None]
    s = r >= 0.0
    ob, j = np.nonzero(s[:, :-1] != s[:, 1:])
    n = u.size
    idx = _stencil(j, n)
    out_u = [_bisect(u[idx], r[ob[:, None], idx], u[j], u[j + 1], r[ob, j] < 0)]
    out_ob = [ob]
    # two roots between grid points around a peak (or trough) the grid values do not reach
    for e in range(ext.row.size):
        je, sg = int(ext.j[e]), ext.sign[e]
        hit = (which == ext.row[e]) & (sg * r[:, je] < 0) & (sg * (ext.value[e] - d) >= 0)
        o = np.nonzero(hit)[0]
        if o.size == 0:
            continue
        idx = _stencil(np.full(o.size, je), n)
        uu, ff = u[idx], r[o[:, None], idx]
        us = np.full(o.size, ext.u[e])
        neg = np.full(o.size, sg > 0)
        out_u += [_bisect(uu, ff, np.full(o.size, u[je - 1]), us, neg),
                  _bisect(uu, ff, us, np.full(o.size, u[je + 1]), ~neg)]
        out_ob += [o, o]
    return np.concatenate(out_ob), np.concatenate(out_u)


def invert_onepool(
    d14c: ArrayLike,
    year: ArrayLike,
    *,
    zone: str | ArrayLike | None = None,
    lat: ArrayLike | None = None,
    curve: str = "hua2021",
    start_year: float = DEFAULT_START_YEAR,
    lam: float = LAMBDA_SEED004,
    prebomb: str | float = "intcal",
    interpolation: Interpolation = "spline",
    k_range: tuple[float, float] = DEFAULT_K_RANGE,
    points_per_decade: int = 64,
    choose: RootChoice = "slow",
    chunk: int = 20000,
    extend_to: float | None = None,
) -> OnePoolInversion:
    """Turnover rate k and carbon age 1/k from observed bulk-soil Δ14C (Wang G. et al. (manuscript)
    Eqs. 1–5).

    Parameters
    ----------
    d14c : array (...) [‰]
        Observed Δ14C (NaN: status ``no_observation``).
    year : array [yr AD], broadcast with d14c
        Year of observation, within [start_year, curve end].
    zone : str or array of str, optional
        Hua et al. zone(s); overrides ``lat``. Default NHZone1 when neither is given.
    lat : array [°N], optional
        Latitude(s); the zone follows :func:`~wholesoil.radiocarbon.zone_from_latitude`.
    curve, prebomb, interpolation
        See :meth:`AtmosphericCurve.load`.
    start_year : float [yr AD], default 1950 (Wang G. et al. (manuscript))
    lam : float [yr⁻¹], default 1/8267 (Wang G. et al. (manuscript))
    k_range : (float, float) [yr⁻¹], default (1e-5, 10)
        Search range; roots outside it are not found.
    points_per_decade : int, default 64
        Grid density of the exact forward model in log k.
    choose : {"slow", "fast"}
        Root used for ``k``/``age``: ``slow`` = smallest k (oldest carbon;
        Wang G. et al.'s (manuscript) bulk soil), ``fast`` = largest k.
    chunk : int
        Observations processed at once (memory: chunk × grid points floats).
    extend_to : float [yr AD], optional
        Extend the curve past its end by extrapolation (off by default; see
        :meth:`AtmosphericCurve.load`).

    Returns
    -------
    OnePoolInversion

    Raises
    ------
    InputDataError
        Unknown zone, latitude outside ±90°, year outside the curve or before ``start_year``,
        bad k_range or choice.
    """
    if choose not in ("slow", "fast"):
        raise InputDataError("choose must be 'slow' or 'fast'", field="choose", value=choose)
    kmin, kmax = (float(v) for v in k_range)
    if not (0 < kmin < kmax < np.inf):
        raise InputDataError("k_range must be 0 < k_min < k_max [yr⁻¹]", field="k_range",
                             value=k_range)
    lam = _check_lam(lam)
    d, y = np.broadcast_arrays(np.asarray(d14c, dtype=float), np.asarray(year, dtype=float))
    shape = d.shape
    d, y = d.ravel(), y.ravel()
    if lat is not None:
        zones = zone_from_latitude(np.broadcast_to(np.asarray(lat, float), shape).ravel(),
                                   None if zone is None else
                                   (zone if isinstance(zone, str) else
                                    np.broadcast_to(np.asarray(zone, object), shape).ravel()))
    elif zone is None:
        zones = np.full(d.size, "NHZone1")
    else:
        zones = zone_from_latitude(np.zeros(d.size), zone if isinstance(zone, str) else
                                   np.broadcast_to(np.asarray(zone, object), shape).ravel())
    ndec = math.log10(kmax) - math.log10(kmin)
    nk = max(8, math.ceil(ndec * points_per_decade) + 1)
    kg = np.logspace(math.log10(kmin), math.log10(kmax), nk)
    u = np.log(kg)

    n = d.size
    found_obs: list[NDArray] = []
    found_u: list[NDArray] = []
    status = np.full(n, STATUS_OK, dtype=object)
    attain = np.full((n, 2), np.nan)
    for zname in np.unique(zones):
        sel = np.nonzero(zones == zname)[0]
        c = AtmosphericCurve.load(str(zname), curve, prebomb, interpolation, extend_to)
        _check_times(c, start_year, y[sel])
        uy, inv = np.unique(y[sel], return_inverse=True)
        rows = delta14c_from_absolute(_integrate(kg, lam, c, float(start_year), uy)).T
        ext = _extrema(rows, u)
        lo_r, hi_r = rows.min(axis=1), rows.max(axis=1)
        np.minimum.at(lo_r, ext.row, ext.value)
        np.maximum.at(hi_r, ext.row, ext.value)
        attain[sel, 0] = lo_r[inv]
        attain[sel, 1] = hi_r[inv]
        for lo in range(0, sel.size, chunk):
            part = sel[lo:lo + chunk]
            ob, ur = _bracket_roots(rows, inv[lo:lo + chunk], d[part], u, ext)
            found_obs.append(part[ob])
            found_u.append(ur)
    obs = np.concatenate(found_obs) if found_obs else np.empty(0, int)
    ur = np.concatenate(found_u) if found_u else np.empty(0)
    order = np.lexsort((ur, obs))
    obs, ur = obs[order], ur[order]
    n_roots = np.bincount(obs, minlength=n).astype(np.int64)
    r = max(1, int(n_roots.max()) if n else 1)
    roots = np.full((n, r), np.nan)
    first = np.searchsorted(obs, np.arange(n))
    pos = np.arange(obs.size) - first[obs]
    roots[obs, pos] = np.exp(ur)
    if choose == "slow":
        k = roots[:, 0].copy()
    else:
        k = np.where(n_roots > 0, roots[np.arange(n), np.maximum(n_roots - 1, 0)], np.nan)
    none = n_roots == 0
    missing = np.isnan(d)
    status[none & (d < attain[:, 0])] = STATUS_BELOW
    status[none & (d > attain[:, 1])] = STATUS_ABOVE
    status[none & (d >= attain[:, 0]) & (d <= attain[:, 1])] = STATUS_NONE
    status[missing] = STATUS_MISSING
    return OnePoolInversion(
        k=k.reshape(shape), age=(1.0 / k).reshape(shape), roots=roots.reshape((*shape, r)),
        n_roots=n_roots.reshape(shape), ambiguous=(n_roots > 1).reshape(shape),
        status=status.astype(str).reshape(shape), zone=np.asarray(zones).reshape(shape),
        choice=choose, attainable=attain.reshape((*shape, 2)),
    )


def onepool_ages(
    layers: pd.DataFrame,
    *,
    d14c_column: str = "d14c",
    year_column: str = "year",
    lat_column: str = "lat",
    zone_column: str = "zone",
    zone: str | None = None,
    errors: Literal["raise", "flag"] = "raise",
    **kwargs: Any,
) -> pd.DataFrame:
    """Carbon ages of every layer of one or many profiles at once.

    Parameters
    ----------
    layers : DataFrame
        One row per layer: ``profile_id``, ``top`` [cm], ``bottom`` [cm], Δ14C [‰]
        (``d14c_column``), observation year [yr AD] (``year_column``), and the zone: a
        ``zone_column``, a ``lat_column`` [°N], or the ``zone`` argument (which wins).
    errors : {"raise", "flag"}
        A layer with Δ14C whose year lies outside the curve or before ``start_year``, or
        whose latitude is outside ±90°: raise :class:`InputDataError` naming the row (header
        = row 1) and profile, or keep it with status ``year_outside_curve`` /
        ``bad_latitude`` and no age.
    **kwargs
        Passed to :func:`invert_onepool` (curve, start_year, lam, prebomb, interpolation,
        k_range, points_per_decade, choose).

    Returns
    -------
    DataFrame
        The input columns plus ``zone``, ``k`` [yr⁻¹], ``age`` [yr], ``n_roots``, ``roots``
        (all roots, ``;``-separated, yr⁻¹), ``root_ages`` (yr), ``k_slow``, ``k_fast``,
        ``ambiguous``, ``status``, ``d14c_min``/``d14c_max`` (attainable range, ‰) and
        ``d14c_model`` (the model at the chosen k, ‰). Layers without Δ14C are kept with
        status ``no_observation``.
    """
    need = ["profile_id", "top", "bottom", d14c_column, year_column]
    for col in need:
        if col not in layers.columns:
            raise MissingColumnError(f"layers table needs column {col!r}", field=col)
    d = pd.to_numeric(layers[d14c_column], errors="coerce").to_numpy(float)
    y = pd.to_numeric(layers[year_column], errors="coerce").to_numpy(float)
    has = ~np.isnan(d)
    bad_year = has & np.isnan(y)
    if np.any(bad_year):
        i = int(np.nonzero(bad_year)[0][0])
        raise InputDataError("observation year missing for a layer with Δ14C", row=i + 2,
                             profile=layers["profile_id"].iloc[i], field=year_column,
                             value=layers[year_column].iloc[i], has_value=True)
    if errors not in ("raise", "flag"):
        raise InputDataError("errors must be 'raise' or 'flag'", field="errors", value=errors)
    n = len(layers)
    pids = layers["profile_id"].to_numpy()
    # zone of every row: the argument, else a non-empty zone column, else the latitude rule
    zones = np.full(n, "", dtype=object)
    if zone is not None:
        zones[:] = zone_from_latitude(np.zeros(n), zone)
    elif zone_column in layers.columns:
        zc = layers[zone_column].fillna("").astype(str).to_numpy(object)
        given = zc != ""
        if np.any(given):
            zones[given] = zone_from_latitude(np.zeros(int(given.sum())), zc[given])
    elif lat_column not in layers.columns:
        raise MissingColumnError(
            f"give a {zone_column!r} or {lat_column!r} column, or the zone argument",
            field=zone_column)
    flagged = np.full(n, "", dtype=object)
    need_lat = has & (zones == "")
    if np.any(need_lat):
        if lat_column not in layers.columns:
            i = int(np.nonzero(need_lat)[0][0])
            raise MissingColumnError(f"no zone and no {lat_column!r} column for a layer with "
                                     "Δ14C", row=i + 2, profile=pids[i], field=lat_column)
        lat = pd.to_numeric(layers[lat_column], errors="coerce").to_numpy(float)
        bad = need_lat & ~(np.abs(lat) <= 90.0)
        if np.any(bad) and errors == "raise":
            i = int(np.nonzero(bad)[0][0])
            raise InputDataError("latitude must be a number within −90 … 90 °N", row=i + 2,
                                 profile=pids[i], field=lat_column,
                                 value=layers[lat_column].iloc[i], has_value=True)
        flagged[bad] = "bad_latitude"
        ok_lat = need_lat & ~bad
        if np.any(ok_lat):
            zones[ok_lat] = zone_from_latitude(lat[ok_lat])
    # years inside each zone's curve and not before the start year
    fwd = {k: v for k, v in kwargs.items()
           if k in ("curve", "start_year", "lam", "prebomb", "interpolation")}
    start = float(kwargs.get("start_year", DEFAULT_START_YEAR))
    for zname in np.unique(zones[has & (flagged == "")]):
        c = AtmosphericCurve.load(str(zname), kwargs.get("curve", "hua2021"),
                                  kwargs.get("prebomb", "intcal"),
                                  kwargs.get("interpolation", "spline"))
        rows = has & (flagged == "") & (zones == zname)
        bad = rows & ~((y >= max(start, c.start)) & (y <= c.end))
        if np.any(bad) and errors == "raise":
            i = int(np.nonzero(bad)[0][0])
            raise InputDataError(
                f"observation year outside {max(start, c.start):g} … {c.end:g} AD (start year "
                f"… end of the {c.curve} {zname} curve)", row=i + 2, profile=pids[i],
                field=year_column, value=y[i])
        flagged[bad] = "year_outside_curve"
    out = layers.copy()
    use = has & (flagged == "")
    yy = np.where(use, y, np.nan)
    idx = np.nonzero(use)[0]
    cols: dict[str, Any] = {
        "zone": np.full(n, "", dtype=object), "k": np.full(n, np.nan),
        "age": np.full(n, np.nan), "n_roots": np.zeros(n, dtype=np.int64),
        "roots": np.full(n, "", dtype=object), "root_ages": np.full(n, "", dtype=object),
        "k_slow": np.full(n, np.nan), "k_fast": np.full(n, np.nan),
        "ambiguous": np.zeros(n, dtype=bool), "status": np.full(n, STATUS_MISSING, dtype=object),
        "d14c_min": np.full(n, np.nan), "d14c_max": np.full(n, np.nan),
        "d14c_model": np.full(n, np.nan),
    }
    cols["status"][flagged != ""] = flagged[flagged != ""]
    cols["zone"][:] = zones
    if idx.size:
        res = invert_onepool(d[idx], yy[idx], zone=zones[idx].astype(str), **kwargs)
        cols["zone"][idx] = res.zone
        cols["k"][idx] = res.k
        cols["age"][idx] = res.age
        cols["n_roots"][idx] = res.n_roots
        cols["k_slow"][idx] = res.roots[:, 0]
        last = np.maximum(res.n_roots - 1, 0)
        cols["k_fast"][idx] = np.where(res.n_roots > 0, res.roots[np.arange(idx.size), last],
                                       np.nan)
        cols["roots"][idx] = [";".join(f"{v:.6g}" for v in row[np.isfinite(row)])
                              for row in res.roots]
        cols["root_ages"][idx] = [";".join(f"{1 / v:.6g}" for v in row[np.isfinite(row)])
                                  for row in res.roots]
        cols["ambiguous"][idx] = res.ambiguous
        cols["status"][idx] = res.status
        cols["d14c_min"][idx] = res.attainable[:, 0]
        cols["d14c_max"][idx] = res.attainable[:, 1]
        ok = np.isfinite(res.k)
        if np.any(ok):
            model = np.full(idx.size, np.nan)
            for zname in np.unique(res.zone[ok]):
                s = ok & (res.zone == zname)
                model[s] = onepool_d14c_at(res.k[s], yy[idx][s], zone=str(zname), **fwd)
            cols["d14c_model"][idx] = model
    for name, val in cols.items():
        out[name] = val
    return out


# ------------------------------------------------------------------ multi-pool steady state
class SteadyStateD14C(NamedTuple):
    """Steady-state Δ14C of a linear compartmental system.

    Attributes
    ----------
    pool_d14c : array (..., *state_shape) [‰]
    system_d14c : array (...) [‰]
        Mass-weighted over pools (weights, e.g. layer thickness).
    """

    pool_d14c: NDArray[np.float64]
    system_d14c: NDArray[np.float64]


def steady_state_d14c(
    M: Any,
    u: ArrayLike,
    *,
    atmosphere_d14c: ArrayLike = 0.0,
    lam: float = LAMBDA_SEED004,
    weights: ArrayLike | None = None,
    state_ndim: int | None = None,
) -> SteadyStateD14C:
    """Steady-state Δ14C of every pool of a multi-pool model (the operator of the process models).

    With inputs carrying the atmospheric ratio A_atm = Δ14C_atm/1000 + 1, the radiocarbon steady
    state is r* = −(M − λI)⁻¹·(A_atm·u) (:func:`wholesoil.models._ages.radiocarbon_steady_state`,
    Eq. A3) and each pool's Δ14C is (r*_i / x*_i − 1)·1000 (Wang G. et al. (manuscript) Eq. 4). For
    one pool, M = −k, this is Wang G. et al. (manuscript) Eq. 2.

    Parameters
    ----------
    M : array (..., n, n) [yr⁻¹] or solver ``solve(shift, rhs)``
        Compartmental matrix, or a structured solver (e.g. CLM5's; see
        :func:`clm5_steady_state_d14c`).
    u : array [g C m⁻³ yr⁻¹ or any mass unit yr⁻¹]
        Inputs to the pools.
    atmosphere_d14c : float or array [‰], default 0
        Δ14C of the inputs (pre-bomb atmosphere: about −20 ‰ in the 1940s, IntCal20).
    lam : float [yr⁻¹], default 1/8267 (Wang G. et al. (manuscript))
    weights, state_ndim
        As in :func:`wholesoil.models._ages.radiocarbon_steady_state`.

    Returns
    -------
    SteadyStateD14C
    """
    from wholesoil.models._ages import radiocarbon_steady_state

    lam = _check_lam(lam)
    rc = radiocarbon_steady_state(M, u, fraction_modern_input=absolute_from_delta14c(
        atmosphere_d14c), lam=lam, weights=weights, state_ndim=state_ndim)
    return SteadyStateD14C(delta14c_from_absolute(rc.fraction_modern),
                           delta14c_from_absolute(rc.system_fraction_modern))


def clm5_steady_state_d14c(model: Any, *, atmosphere_d14c: float = 0.0,
                           lam: float = LAMBDA_SEED004) -> SteadyStateD14C:
    """Steady-state Δ14C of a :class:`wholesoil.models.CLM5` model's pools (..., 7, 20) and of
    its whole column (weighted by layer thickness), through its structured solver."""

    def solve(shift: float, rhs: NDArray[np.float64]) -> NDArray[np.float64]:
        return model.solve(rhs, shift=shift)

    return steady_state_d14c(solve, model.inputs, atmosphere_d14c=atmosphere_d14c, lam=lam,
                             weights=model.grid.dz, state_ndim=2)

