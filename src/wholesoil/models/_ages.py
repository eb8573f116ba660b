"""Steady states, radiocarbon, ages and transit times of linear compartmental systems.

Every function here works on any linear, autonomous compartmental system

    dX/dt = u + M·X                                                            (A1)

with inputs ``u ≥ 0`` and a compartmental matrix ``M``: non-negative off-diagonal transfer rates
and stable (−M⁻¹ ≥ 0; every pool drains, directly or through others, out of the system). Column
sums are ≤ 0 in mass units; for pools in g C m⁻³ on layers of unequal thickness that holds for
W·M·W⁻¹ with W = diag(dz), not for M itself, which is why the mass weights below are explicit.
In the process models ``M = A·ξ·K − V`` and ``u = B·I`` (Tao et al. (EarthArXiv) Eq. 2).

``M`` is given in one of two ways:

* **dense**: an array ``(..., n, n)`` with ``u`` of shape ``(..., n)``; batch axes broadcast;
* **structured**: a callable ``solve(shift, rhs)`` returning ``(M − shift·I)⁻¹·rhs`` for ``rhs``
  of the state's shape ``(..., *state_shape)``, with ``state_ndim = len(state_shape)``, e.g. the
  CLM5 block solver with states ``(..., 7, 20)`` and ``state_ndim=2``. Nothing here forms ``M``:
  every quantity below is a few solves, so a structured solver gives all of them at its speed.

Equations (Metzler & Sierra 2018, steady state; X* = diag(x*), 1 the vector of ones, w ≥ 0 the
weights that turn a state into a mass, e.g. layer thicknesses dz for pools in g C m⁻³):

(A2) x* = −M⁻¹·u                                              steady state
(A3) r* = −(M − λI)⁻¹·(F_in ∘ u),  F_i = r*_i / x*_i           radiocarbon steady state
(A4) E[a_i^k] = (−1)^k k! (M^−k x*)_i / x*_i                  pool age moments; k = 1: mean age
     a = −X*⁻¹·M⁻¹·x*
(A5) E[A^k] = (−1)^k k! wᵀM^−k x* / wᵀx*                       system age moments
(A6) E[T^k] = (−1)^k k! wᵀM^−k u / wᵀu                         transit-time moments;
     E[T] = wᵀx* / wᵀu                                         mean transit time (Little's law)

(A4)–(A6) follow from the age densities of the steady state: the mass of age a in pool i is
(e^{aM}·u)_i, so pool i's age density is (e^{aM}·u)_i / x*_i and ∫₀^∞ a^k e^{aM} da =
k! (−M)^−(k+1); the transit-time density is −wᵀM e^{tM} u / wᵀu. Weighting by w is the similarity
M → W·M·W⁻¹ (W = diag(w)) that turns concentrations into masses: pool ages are unchanged by it.
(A3) is the Laplace transform of the pool age density at λ: F_i = E[exp(−λ a_i)] when F_in = 1.

References
----------
Metzler, H. & Sierra, C. A. (2018). Linear autonomous compartmental models as continuous-time
Markov chains: transit-time and age distributions. Math. Geosci. 50, 1–34.
https://doi.org/10.1007/s11004-017-9690-1

Sierra, C. A., Müller, M., Metzler, H., Manzoni, S. & Trumbore, S. E. (2017). The muddle of ages,
turnover, transit, and residence times in the carbon cycle. Glob. Change Biol. 23, 1763–1773.
https://doi.org/10.1111/gcb.13556

Godwin, H. (1962). Half-life of radiocarbon. Nature 195, 984. https://doi.org/10.1038/195984a0
(the Cambridge half-life 5730 ± 40 yr).

Tao et al. (EarthArXiv), §2.2 (steady state X* = −(A·ξ·K − V)⁻¹·B·I).

Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError

__all__ = [
    "LAMBDA_14C",
    "AgeSummary",
    "RadiocarbonSteadyState",
    "Solver",
    "age_summary",
    "dense_solver",
    "mean_transit_time",
    "pool_age_moment",
    "pool_mean_ages",
    "radiocarbon_steady_state",
    "steady_state",
    "system_age_moment",
    "system_mean_age",
    "transit_time_moment",
]

#: Radiocarbon decay constant λ = ln 2 / 5730 yr⁻¹ ≈ 1.2097e-4 yr⁻¹, from the Cambridge half-life
#: 5730 ± 40 yr (Godwin 1962), the value of ``shared/specs/process-models.md``.
LAMBDA_14C: float = math.log(2.0) / 5730.0

#: A structured solver: ``solve(shift, rhs)`` returns ``(M − shift·I)⁻¹·rhs`` [rhs unit × yr]
#: for ``rhs`` of shape ``(..., *state_shape)``.
Solver = Callable[[float, NDArray[np.float64]], NDArray[np.float64]]

_TOL = 1e-12


class RadiocarbonSteadyState(NamedTuple):
    """Radiocarbon steady state of a compartmental system (Eq. A3).

    Attributes
    ----------
    c14 : array (..., *state_shape) [unit of x* × F14C]
        Radiocarbon stocks as modern-equivalent carbon, r* = −(M − λI)⁻¹·(F_in ∘ u).
    fraction_modern : array (..., *state_shape) [-]
        F14C of each pool, r*_i / x*_i (NaN for pools with x*_i = 0).
    system_fraction_modern : array (...) [-]
        F14C of the whole system, wᵀr* / wᵀx*.
    """

    c14: NDArray[np.float64]
    fraction_modern: NDArray[np.float64]
    system_fraction_modern: NDArray[np.float64]


class AgeSummary(NamedTuple):
    """Steady state and first moments from two solves (see :func:`age_summary`).

    Attributes
    ----------
    x : array (..., *state_shape) [unit of u × yr]
        Steady state x* (Eq. A2).
    pool_mean_ages : array (..., *state_shape) [yr]
        Mean age of each pool (Eq. A4, k = 1); NaN where x*_i = 0.
    system_mean_age : array (...) [yr]
        Mass-weighted mean age of the system (Eq. A5, k = 1).
    mean_transit_time : array (...) [yr]
        Mean transit time wᵀx* / wᵀu (Eq. A6).
    """

    x: NDArray[np.float64]
    pool_mean_ages: NDArray[np.float64]
    system_mean_age: NDArray[np.float64]
    mean_transit_time: NDArray[np.float64]


# ------------------------------------------------------------------------------------------------
# the two ways to give M


def _check_compartmental(M: NDArray[np.float64]) -> None:
    """Raise unless every M in the batch is finite, Metzler and stable (−M⁻¹ ≥ 0).

    A Metzler matrix (off-diagonals ≥ 0) is the matrix of a stable compartmental system in some
    mass units (column sums ≤ 0 after a positive diagonal rescaling, e.g. by layer thicknesses)
    if and only if −M is a non-singular M-matrix, i.e. −M⁻¹ exists and is ≥ 0 elementwise
    (Berman & Plemmons 1994, Nonnegative Matrices in the Mathematical Sciences, Thm. 6.2.3,
    condition N38). Column sums are not checked directly: pools in g C m⁻³ on layers of unequal
    thickness conserve Σ dz·x, not Σ x.
    """
    if not np.all(np.isfinite(M)):
        raise InputDataError("M must be finite [yr⁻¹]", field="M", value="NaN or inf entries")
    if M.size == 0:
        return
    n = M.shape[-1]
    scale = np.max(np.abs(M), axis=(-2, -1), keepdims=True)
    bad = M * (1.0 - np.eye(n)) < -_TOL * scale
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InputDataError(
            f"M must have non-negative off-diagonal transfer rates (a compartmental matrix); "
            f"M[{idx[-2]}, {idx[-1]}] at batch index {idx[:-2]} is negative [yr⁻¹]",
            field="M",
            value=float(M[idx]),
        )
    try:
        minv = -np.linalg.inv(M)
    except np.linalg.LinAlgError as err:
        raise InputDataError(
            "M is singular: some pool, or group of pools, has no path out of the system, so no "
            "steady state exists",
            field="M",
            value="singular",
        ) from err
    iscale = np.max(np.abs(minv), axis=(-2, -1), keepdims=True)
    bad = ~np.isfinite(minv) | (minv < -1e-10 * iscale)
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InputDataError(
            f"M must be a stable compartmental matrix (−M⁻¹ >= 0); (−M⁻¹)[{idx[-2]}, "
            f"{idx[-1]}] at batch index {idx[:-2]} is negative or not finite, so some pool "
            f"would gain carbon faster than it loses it",
            field="M",
            value=float(minv[idx]),
        )


def dense_solver(M: ArrayLike) -> Solver:
    """Wrap a dense matrix as a :data:`Solver` (the reference path, and for tests).

    Parameters
    ----------
    M : array (..., n, n) [yr⁻¹]
        Compartmental matrix (checked: finite, off-diagonals ≥ 0, −M⁻¹ ≥ 0, i.e. stable).

    Returns
    -------
    callable
        ``solve(shift, rhs)`` = ``(M − shift·I)⁻¹·rhs`` by :func:`numpy.linalg.solve`, batch axes
        broadcast; ``rhs`` has shape ``(..., n)``.

    Raises
    ------
    wholesoil.errors.InputDataError
        For a non-square or non-compartmental M, or, when solving, a singular ``M − shift·I``
        (a pool or group of pools with no path out of the system).
    """
    Ma = np.asarray(M, dtype=float)
    if Ma.ndim < 2 or Ma.shape[-1] != Ma.shape[-2]:
        raise InputDataError("M must have shape (..., n, n)", field="M", value=Ma.shape)
    _check_compartmental(Ma)
    eye = np.eye(Ma.shape[-1])

    def solve(shift: float, rhs: NDArray[np.float64]) -> NDArray[np.float64]:
        shift_a = np.asarray(shift, dtype=float)
        Ms = Ma - shift_a[..., None, None] * eye if np.any(shift_a != 0.0) else Ma
        try:
            return np.linalg.solve(Ms, np.asarray(rhs, dtype=float)[..., None])[..., 0]
        except np.linalg.LinAlgError as err:
            raise InputDataError(
                "M − shift·I is singular: some pool, or group of pools, has no path out of the "
                "system, so no steady state exists",
                field="M",
                value=float(np.max(shift_a)),
            ) from err

    solve.state_ndim = 1  # type: ignore[attr-defined]
    return solve


def _resolve(
    M: ArrayLike | Solver, u: ArrayLike, state_ndim: int | None
) -> tuple[Solver, NDArray[np.float64], int]:
    """Return (solve, u as float array, state_ndim) after checking u."""
    if callable(M):
        solve = M
        nd = state_ndim if state_ndim is not None else getattr(M, "state_ndim", 1)
    else:
        if state_ndim not in (None, 1):
            raise InputDataError(
                "a dense M (..., n, n) has states (..., n): state_ndim must be 1",
                field="state_ndim",
                value=state_ndim,
            )
        solve = dense_solver(M)
        nd = 1
    ua = np.asarray(u, dtype=float)
    if not isinstance(nd, int) or nd < 1 or ua.ndim < nd:
        raise InputDataError(
            f"state_ndim must be an int in 1..u.ndim ({ua.ndim})", field="state_ndim", value=nd
        )
    if not callable(M):
        n = np.shape(M)[-1]
        if ua.shape[-1:] != (n,):
            raise InputDataError(
                f"u must have shape (..., {n}) to match M (..., {n}, {n}) [input rate]",
                field="u",
                value=ua.shape,
            )
    if not np.all(np.isfinite(ua)):
        raise InputDataError("u must be finite [input rate]", field="u", value="NaN or inf")
    if np.any(ua < 0):
        raise InputDataError(
            "u must be >= 0 (inputs to a compartmental system) [input rate]",
            field="u",
            value=float(ua.min()),
        )
    return solve, ua, nd


def _solve(solve: Solver, shift: float, rhs: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.asarray(solve(shift, rhs), dtype=float)
    if not np.all(np.isfinite(out)):
        raise InputDataError(
            "the solver returned non-finite values: M − shift·I is singular or badly scaled "
            "(a pool with no path out of the system?)",
            field="M",
            value=shift,
        )
    return out


def _axes(nd: int) -> tuple[int, ...]:
    return tuple(range(-nd, 0))


def _weighted_sum(
    x: NDArray[np.float64], weights: ArrayLike | None, nd: int
) -> NDArray[np.float64]:
    """Σ w·x over the state axes (w broadcast against x; default 1)."""
    if weights is None:
        return x.sum(axis=_axes(nd))
    w = np.asarray(weights, dtype=float)
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise InputDataError(
            "weights must be finite and >= 0 (e.g. layer thicknesses dz [m])",
            field="weights",
            value=w,
        )
    try:
        return (x * w).sum(axis=_axes(nd))
    except ValueError as err:
        raise InputDataError(
            f"weights must broadcast against the state shape {x.shape[x.ndim - nd :]}",
            field="weights",
            value=w.shape,
        ) from err


def _ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    """num / den with NaN where den is 0 (an empty pool has no age)."""
    num, den = np.broadcast_arrays(num, den)
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _check_order(order: int) -> int:
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise InputDataError("order must be an integer >= 1", field="order", value=order)
    return int(order)


def _power_solves(solve: Solver, v: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    """(−1)^k k! M^−k v, by k solves."""
    out = v
    for _ in range(k):
        out = -_solve(solve, 0.0, out)
    return out * math.factorial(k)


# ------------------------------------------------------------------------------------------------
# public functions


def steady_state(
    M: ArrayLike | Solver, u: ArrayLike, *, state_ndim: int | None = None
) -> NDArray[np.float64]:
    """Steady state x* = −M⁻¹·u of dX/dt = u + M·X (Eq. A2; Tao et al. (EarthArXiv) §2.2).

    Parameters
    ----------
    M : array (..., n, n) [yr⁻¹] or callable
        Compartmental matrix, or a :data:`Solver` ``solve(shift, rhs)`` = (M − shift·I)⁻¹·rhs.
    u : array (..., *state_shape) [g C m⁻³ yr⁻¹ or any input rate]
        Inputs, ≥ 0.
    state_ndim : int, optional
        Number of trailing axes of ``u`` that index the state (1 for dense M; for a solver, the
        solver's ``state_ndim`` attribute if it has one, else 1).

    Returns
    -------
    x : array (..., *state_shape) [unit of u × yr]

    Raises
    ------
    wholesoil.errors.InputDataError
        For a non-compartmental or singular M, negative or non-finite inputs, or mismatched
        shapes.

    Examples
    --------
    >>> steady_state([[-1.0, 0.0], [0.0, -2.0]], [9.0, 1.0])
    array([9. , 0.5])
    """
    solve, ua, _ = _resolve(M, u, state_ndim)
    return -_solve(solve, 0.0, ua)


def radiocarbon_steady_state(
    M: ArrayLike | Solver,
    u: ArrayLike,
    *,
    fraction_modern_input: ArrayLike = 1.0,
    lam: float = LAMBDA_14C,
    weights: ArrayLike | None = None,
    state_ndim: int | None = None,
) -> RadiocarbonSteadyState:
    """Radiocarbon steady state: the same system with decay, r* = −(M − λI)⁻¹·(F_in ∘ u) (Eq. A3).

    Parameters
    ----------
    M, u, state_ndim
        As in :func:`steady_state`.
    fraction_modern_input : float or array broadcastable to u [-], default 1
        F14C of the carbon entering each pool (1 = the modern standard; the pre-bomb atmosphere
        is close to 1).
    lam : float [yr⁻¹], default :data:`LAMBDA_14C`
        Decay constant, ≥ 0.
    weights : array broadcastable to the state shape, optional
        Mass weights for the system value (e.g. dz [m] for pools in g C m⁻³); default 1.

    Returns
    -------
    RadiocarbonSteadyState
        ``c14``, ``fraction_modern`` (per pool) and ``system_fraction_modern``.

    Notes
    -----
    For one pool with turnover rate k, F = k / (k + λ). For F_in = 1, F_i = E[exp(−λ·a_i)], the
    Laplace transform of pool i's age density (Metzler & Sierra 2018), so −d ln F_i / dλ at
    λ = 0 is the mean pool age of :func:`pool_mean_ages`. Convert to Δ14C with the sample year
    y: Δ14C = (F·exp(λ_Libby·(1950 − y)) − 1)·1000 ‰, λ_Libby = 1/8267 yr⁻¹ (Stuiver & Polach
    1977; Reimer et al. 2004).
    """
    solve, ua, nd = _resolve(M, u, state_ndim)
    f_in = np.asarray(fraction_modern_input, dtype=float)
    if not np.all(np.isfinite(f_in)) or np.any(f_in < 0):
        raise InputDataError(
            "fraction_modern_input must be finite and >= 0 (F14C, modern = 1)",
            field="fraction_modern_input",
            value=f_in,
        )
    if not np.isfinite(lam) or lam < 0:
        raise InputDataError(
            "lam must be a finite decay constant >= 0 [yr⁻¹] (ln 2 / 5730 for 14C)",
            field="lam",
            value=lam,
        )
    x = -_solve(solve, 0.0, ua)
    r = -_solve(solve, float(lam), f_in * ua)
    return RadiocarbonSteadyState(
        c14=r,
        fraction_modern=_ratio(r, x),
        system_fraction_modern=_ratio(_weighted_sum(r, weights, nd), _weighted_sum(x, weights, nd)),
    )


def pool_age_moment(
    M: ArrayLike | Solver, u: ArrayLike, order: int = 1, *, state_ndim: int | None = None
) -> NDArray[np.float64]:
    """k-th moment of each pool's age distribution at steady state (Eq. A4).

    E[a_i^k] = (−1)^k k! (M^−k x*)_i / x*_i (Metzler & Sierra 2018), by k + 1 solves.

    Parameters
    ----------
    M, u, state_ndim
        As in :func:`steady_state`.
    order : int ≥ 1
        k.

    Returns
    -------
    array (..., *state_shape) [yr^k]
        NaN for pools that hold no carbon at steady state (x*_i = 0).
    """
    k = _check_order(order)
    solve, ua, _ = _resolve(M, u, state_ndim)
    x = -_solve(solve, 0.0, ua)
    return _ratio(_power_solves(solve, x, k), x)


def pool_mean_ages(
    M: ArrayLike | Solver, u: ArrayLike, *, state_ndim: int | None = None
) -> NDArray[np.float64]:
    """Mean age of the carbon in each pool at steady state, a = −X*⁻¹·M⁻¹·x* (Eq. A4, k = 1).

    The first moment of the pool age distributions (Metzler & Sierra 2018). Two solves.

    Parameters
    ----------
    M, u, state_ndim
        As in :func:`steady_state`.

    Returns
    -------
    array (..., *state_shape) [yr]
        NaN for pools with x*_i = 0.

    Examples
    --------
    >>> pool_mean_ages([[-1.0, 0.0], [0.0, -2.0]], [9.0, 1.0])
    array([1. , 0.5])
    """
    return pool_age_moment(M, u, 1, state_ndim=state_ndim)


def system_age_moment(
    M: ArrayLike | Solver,
    u: ArrayLike,
    order: int = 1,
    *,
    weights: ArrayLike | None = None,
    state_ndim: int | None = None,
) -> NDArray[np.float64]:
    """k-th moment of the system age distribution, (−1)^k k! wᵀM^−k x* / wᵀx* (Eq. A5).

    Parameters
    ----------
    M, u, state_ndim
        As in :func:`steady_state`.
    order : int ≥ 1
        k.
    weights : array broadcastable to the state shape, optional
        Mass weights (e.g. dz [m] for pools in g C m⁻³); default 1.

    Returns
    -------
    array (...) [yr^k]
    """
    k = _check_order(order)
    solve, ua, nd = _resolve(M, u, state_ndim)
    x = -_solve(solve, 0.0, ua)
    return _ratio(
        _weighted_sum(_power_solves(solve, x, k), weights, nd), _weighted_sum(x, weights, nd)
    )


def system_mean_age(
    M: ArrayLike | Solver,
    u: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    state_ndim: int | None = None,
) -> NDArray[np.float64]:
    """Mean age of all carbon in the system, the mass-weighted mean of the pool ages (Eq. A5).

    A = −wᵀM⁻¹x* / wᵀx* = Σ w_i x*_i a_i / Σ w_i x*_i.

    Parameters
    ----------
    M, u, state_ndim
        As in :func:`steady_state`.
    weights : array broadcastable to the state shape, optional
        Mass weights (e.g. dz [m] for pools in g C m⁻³); default 1.

    Returns
    -------
    array (...) [yr]
    """
    return system_age_moment(M, u, 1, weights=weights, state_ndim=state_ndim)


def transit_time_moment(
    M: ArrayLike | Solver,
    u: ArrayLike,
    order: int = 1,
    *,
    weights: ArrayLike | None = None,
    state_ndim: int | None = None,
) -> NDArray[np.float64]:
    """k-th moment of the transit-time distribution, (−1)^k k! wᵀM^−k u / wᵀu (Eq. A6).

    The transit time is the age of carbon when it leaves the system; its density is
    −wᵀM·e^{tM}·u / wᵀu (Metzler & Sierra 2018). Defined where the total input wᵀu > 0
    (NaN elsewhere). For k = 1 it equals :func:`mean_transit_time`.

    Parameters
    ----------
    M, u, state_ndim
        As in :func:`steady_state`.
    order : int ≥ 1
        k.
    weights : array broadcastable to the state shape, optional
        Mass weights (e.g. dz [m] for pools in g C m⁻³); default 1.

    Returns
    -------
    array (...) [yr^k]
    """
    k = _check_order(order)
    solve, ua, nd = _resolve(M, u, state_ndim)
    return _ratio(
        _weighted_sum(_power_solves(solve, ua, k), weights, nd), _weighted_sum(ua, weights, nd)
    )


def mean_transit_time(
    M: ArrayLike | Solver,
    u: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    state_ndim: int | None = None,
) -> NDArray[np.float64]:
    """Mean transit time at steady state, ‖x*‖₁ / ‖u‖₁ = wᵀx* / wᵀu (Eq. A6; Little's law).

    Equal to the first moment of the transit-time distribution (:func:`transit_time_moment`)
    and to the outflux-weighted mean of the pool ages (Sierra et al. 2017). One solve.

    Parameters
    ----------
    M, u, state_ndim
        As in :func:`steady_state`.
    weights : array broadcastable to the state shape, optional
        Mass weights (e.g. dz [m] for pools in g C m⁻³, so that wᵀx* is g C m⁻² and wᵀu is
        g C m⁻² yr⁻¹); default 1.

    Returns
    -------
    array (...) [yr]
        NaN where there is no input.

    Examples
    --------
    >>> float(mean_transit_time([[-1.0, 0.0], [0.0, -2.0]], [9.0, 1.0]))
    0.95
    """
    solve, ua, nd = _resolve(M, u, state_ndim)
    x = -_solve(solve, 0.0, ua)
    return _ratio(_weighted_sum(x, weights, nd), _weighted_sum(ua, weights, nd))


def age_summary(
    M: ArrayLike | Solver,
    u: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    state_ndim: int | None = None,
) -> AgeSummary:
    """Steady state, pool mean ages, system mean age and mean transit time from two solves.

    The same numbers as :func:`steady_state`, :func:`pool_mean_ages`, :func:`system_mean_age`
    and :func:`mean_transit_time`, without repeating the solves (for many parameter sets).

    Parameters
    ----------
    M, u, state_ndim
        As in :func:`steady_state`.
    weights : array broadcastable to the state shape, optional
        Mass weights (e.g. dz [m]); default 1.

    Returns
    -------
    AgeSummary
    """
    solve, ua, nd = _resolve(M, u, state_ndim)
    x = -_solve(solve, 0.0, ua)
    y = -_solve(solve, 0.0, x)  # −M⁻¹x*
    mass = _weighted_sum(x, weights, nd)
    return AgeSummary(
        x=x,
        pool_mean_ages=_ratio(y, x),
        system_mean_age=_ratio(_weighted_sum(y, weights, nd), mass),
        mean_transit_time=_ratio(mass, _weighted_sum(ua, weights, nd)),
    )
