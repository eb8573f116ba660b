"""COMPAS as pure array functions: soil inputs, tendency and Jacobian, steady states.

The soil block of Eqs. 7–9 per layer (closed form), the litter steady state and the soil steady
state with vertical mixing (Newton from the closed form), all vectorized over a leading batch.
Equation numbers are those of Tao, F., Houlton, B. Z., Huang, Y., et al., *Convergence in
simulating global soil organic carbon by structurally different models after data
assimilation* (EarthArXiv preprint), restated in the module docstring of
:mod:`wholesoil.models._compas`.

References
----------
Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError
from wholesoil.models._blocksolve import solve_block_tridiagonal, solve_tridiagonal
from wholesoil.models._compas_parameters import SOIL_POOLS, COMPASParameters, FloatArray, _lay
from wholesoil.models._transport import mixing_apply

__all__ = [
    "LAYER_EMPTY",
    "LAYER_LITTER",
    "LAYER_NO_DOC",
    "LAYER_NO_SOC",
    "LAYER_OK",
    "LAYER_XI_ZERO",
    "MixedSolution",
    "SoilClosedForm",
    "SoilInputs",
    "litter_steady_state",
    "soil_inputs",
    "soil_jacobian",
    "soil_steady_state_closed_form",
    "soil_steady_state_mixed",
    "soil_tendency",
]


class SoilInputs(NamedTuple):
    """Litter-derived inputs to the soil pools u_S of Tao et al. (EarthArXiv) Eq. 9 [g C m⁻³ yr⁻¹],
    each ``(..., n_layers)``."""

    doc: FloatArray
    mic: FloatArray
    soc: FloatArray

    @property
    def total(self) -> FloatArray:
        """Total litter-to-soil flux per layer."""
        return self.doc + self.mic + self.soc


def soil_inputs(
    flux_l1: ArrayLike, flux_l2: ArrayLike, flux_l3: ArrayLike, params: COMPASParameters
) -> SoilInputs:
    """Inputs from litter decomposition to DOC, MIC and mSOC (Tao et al. (EarthArXiv) Eq. 9, u_S).

    ``u_S = Σ_L a_S,L·k_L·ξ·x_L`` with the transfer fractions of Tao et al. (EarthArXiv) Eq. 8:
    a_DOC,ML, a_DOC,CL, a_SOC,LL directly (no microbial processing) and the microbial shares
    a_MIC,ML = (1 − a_DOC,ML)·η_ML, a_MIC,CL = (1 − a_DOC,CL)·η_CL-LL,
    a_MIC,LL = (1 − a_SOC,LL)·η_CL-LL (the CUE definitions after Eq. 8).

    Parameters
    ----------
    flux_l1, flux_l2, flux_l3 : array (..., n_layers)
        Litter decomposition fluxes k·ξ·x of metabolic, cellulose and lignin litter
        [g C m⁻³ yr⁻¹].
    params : COMPASParameters
        Batch-shaped parameters.
    """
    f1, f2, f3 = (np.asarray(f, dtype=float) for f in (flux_l1, flux_l2, flux_l3))
    p1, p2, p3 = _lay(params.a_doc_ml), _lay(params.a_doc_cl), _lay(params.a_soc_ll)
    cue1, cue2 = _lay(params.cue_ml), _lay(params.cue_cl_ll)
    return SoilInputs(
        doc=p1 * f1 + p2 * f2,
        mic=(1 - p1) * cue1 * f1 + (1 - p2) * cue2 * f2 + (1 - p3) * cue2 * f3,
        soc=p3 * f3,
    )


#: Per-layer status codes of the soil steady state.
LAYER_OK, LAYER_EMPTY, LAYER_XI_ZERO, LAYER_NO_DOC, LAYER_NO_SOC, LAYER_LITTER = 0, 1, 2, 3, 4, 5


_LAYER_REASONS = {
    LAYER_XI_ZERO: "environmental scalar ξ = 0 where soil inputs arrive (no decomposition, "
    "no steady state)",
    LAYER_NO_DOC: "no positive DOC steady state: microbial uptake capacity v_assim·ξ·MIC* does "
    "not exceed the required uptake U* (Eq. 9a denominator ≤ 0)",
    LAYER_NO_SOC: "no positive mSOC steady state: enzymatic capacity v_decom·ξ·ENZ* does not "
    "exceed the supply to mSOC (Eq. 9d denominator ≤ 0)",
    LAYER_LITTER: "no finite litter steady state (ξ = 0 where litter arrives and no mixing "
    "carries it away)",
}


class SoilClosedForm(NamedTuple):
    """Closed-form soil steady state, per layer."""

    pools: FloatArray
    """``(..., 4, n_layers)`` DOC, MIC, ENZ, mSOC [g C m⁻³]; NaN where ``status`` is a failure."""
    status: NDArray[np.int8]
    """``(..., n_layers)`` :data:`LAYER_OK`, :data:`LAYER_EMPTY` (no input, pools 0) or the
    failure code."""
    raw: FloatArray | None = None
    """``(..., 4, n_layers)`` the closed form's values before failures are set to NaN: negative
    (or infinite) where a denominator of Eq. 9a/9d is not positive, as ``matrix_fun.m`` of
    ``phxtao/PRODA_MIC`` computes them; 0 at layers without input."""


def soil_steady_state_closed_form(
    inputs: SoilInputs, xi: ArrayLike, params: COMPASParameters
) -> SoilClosedForm:
    """Steady state of DOC, MIC, ENZ and mSOC per layer without mixing (Tao et al. (EarthArXiv) Eq.
    9).

    Parameters
    ----------
    inputs : SoilInputs
        Litter-derived inputs, each ``(..., n_layers)`` [g C m⁻³ yr⁻¹] (:func:`soil_inputs`).
    xi : array (..., n_layers)
        Time-mean environmental scalar ξ [-].
    params : COMPASParameters

    Returns
    -------
    SoilClosedForm
        Pools ``(..., 4, n_layers)`` in g C m⁻³ and a status code per layer. Layers without a
        positive steady state carry NaN; layers without any input carry 0.
    """
    xi = np.asarray(xi, dtype=float)
    i_doc, i_mic, i_soc = (np.asarray(a, dtype=float) for a in inputs)
    cue = _lay(params.cue_doc)
    k_turn = _lay(params.k_mic + params.k_enz_prod)
    i_tot = i_doc + i_mic + i_soc
    with np.errstate(divide="ignore", invalid="ignore"):
        mic = (i_mic + cue * (i_doc + i_soc)) / ((1 - cue) * k_turn * xi)  # Eq. 9b
        enz = _lay(params.k_enz_prod / params.k_enz) * mic  # Eq. 9c
        supply = i_soc + _lay(params.a_soc_mic * params.k_mic) * xi * mic
        den_soc = _lay(params.v_decom) * xi * enz - supply
        soc = supply * _lay(params.km_decom) * xi / den_soc  # Eq. 9d
        uptake = i_tot / (1 - cue)
        den_doc = _lay(params.v_assim) * xi * mic - uptake
        doc = uptake * _lay(params.km_assim) * xi / den_doc  # Eq. 9a
    shape = np.broadcast_shapes(mic.shape, soc.shape, doc.shape)
    empty = np.broadcast_to(~(i_tot > 0), shape)
    xi_zero = np.broadcast_to(~(xi > 0), shape) & ~empty
    status = np.full(shape, LAYER_OK, dtype=np.int8)
    status[empty] = LAYER_EMPTY
    status[~empty & ~(den_soc > 0)] = LAYER_NO_SOC
    status[~empty & ~(den_doc > 0)] = LAYER_NO_DOC
    status[xi_zero] = LAYER_XI_ZERO
    raw = np.stack([np.broadcast_to(a, shape) for a in (doc, mic, enz, soc)], axis=-2)
    raw = np.where(empty[..., None, :], 0.0, raw)
    pools = np.where((status > LAYER_EMPTY)[..., None, :], np.nan, raw)
    return SoilClosedForm(pools, status, raw)


def soil_tendency(
    soil: ArrayLike, inputs: SoilInputs, xi: ArrayLike, params: COMPASParameters
) -> FloatArray:
    """Local soil tendencies dS/dt of DOC, MIC, ENZ, mSOC without mixing (Tao et al. (EarthArXiv)
    Eqs. 7–8).

    Parameters
    ----------
    soil : array (..., 4, n_layers)
        DOC, MIC, ENZ, mSOC [g C m⁻³].
    inputs : SoilInputs
        Litter-derived inputs [g C m⁻³ yr⁻¹].
    xi : array (..., n_layers)
        Environmental scalar.
    params : COMPASParameters

    Returns
    -------
    array (..., 4, n_layers)
        dS/dt [g C m⁻³ yr⁻¹].
    """
    terms = _soil_terms(np.asarray(soil, dtype=float), inputs, np.asarray(xi, float), params)
    return np.stack([sum(t) for t in terms], axis=-2)


def _soil_terms(
    soil: FloatArray, inputs: SoilInputs, xi: FloatArray, params: COMPASParameters
) -> tuple[list[FloatArray], ...]:
    """The signed flux terms of each soil equation (summed: dS/dt; |·| summed: gross flux)."""
    doc, mic, enz, soc = (soil[..., i, :] for i in range(4))
    uptake = _lay(params.v_assim) * xi * mic * doc / (_lay(params.km_assim) * xi + doc)
    decomp = _lay(params.v_decom) * xi * enz * soc / (_lay(params.km_decom) * xi + soc)
    death = _lay(params.k_mic) * xi * mic
    prod = _lay(params.k_enz_prod) * xi * mic
    decay = _lay(params.k_enz) * xi * enz
    a_soc = _lay(params.a_soc_mic)
    cue = _lay(params.cue_doc)
    return (
        [inputs.doc, (1 - a_soc) * death, decay, decomp, -uptake],
        [inputs.mic, cue * uptake, -death, -prod],
        [prod, -decay],
        [inputs.soc, a_soc * death, -decomp],
    )


def soil_jacobian(soil: ArrayLike, xi: ArrayLike, params: COMPASParameters) -> FloatArray:
    """Jacobian of :func:`soil_tendency` with respect to the soil pools, per layer.

    Returns
    -------
    array (..., n_layers, 4, 4)
        ``J[..., j, r, c] = ∂(dS_r/dt)/∂S_c`` in layer j (order DOC, MIC, ENZ, mSOC) [yr⁻¹].
    """
    soil = np.asarray(soil, dtype=float)
    xi = np.asarray(xi, dtype=float)
    doc, mic, enz, soc = (soil[..., i, :] for i in range(4))
    ka = _lay(params.km_assim) * xi
    kd = _lay(params.km_decom) * xi
    va = _lay(params.v_assim) * xi
    vd = _lay(params.v_decom) * xi
    with np.errstate(divide="ignore", invalid="ignore"):
        du_ddoc = np.where(ka + doc > 0, va * mic * ka / (ka + doc) ** 2, 0.0)
        du_dmic = np.where(ka + doc > 0, va * doc / (ka + doc), 0.0)
        dd_dsoc = np.where(kd + soc > 0, vd * enz * kd / (kd + soc) ** 2, 0.0)
        dd_denz = np.where(kd + soc > 0, vd * soc / (kd + soc), 0.0)
    death = _lay(params.k_mic) * xi
    prod = _lay(params.k_enz_prod) * xi
    decay = _lay(params.k_enz) * xi
    a_soc = _lay(params.a_soc_mic)
    cue = _lay(params.cue_doc)
    zero = np.zeros(np.broadcast_shapes(du_ddoc.shape, dd_dsoc.shape, death.shape))

    def full(a: ArrayLike) -> FloatArray:
        return np.broadcast_to(a, zero.shape)

    rows = [
        [-du_ddoc, (1 - a_soc) * death - du_dmic, decay + dd_denz, dd_dsoc],
        [cue * du_ddoc, cue * du_dmic - death - prod, zero, zero],
        [zero, prod, -decay, zero],
        [zero, a_soc * death, -dd_denz, -dd_dsoc],
    ]
    return np.stack([np.stack([full(c) for c in row], -1) for row in rows], -2)


MixingBands = tuple[FloatArray, FloatArray, FloatArray]


def _abs_band_terms(bands: Sequence[ArrayLike], x: FloatArray) -> FloatArray:
    """|V|·|x|: the gross mixing flux magnitudes, for relative residuals."""
    return mixing_apply(tuple(np.abs(np.asarray(b, dtype=float)) for b in bands), np.abs(x))


def litter_steady_state(
    inputs: ArrayLike, rates: ArrayLike, a_cl_cwd: ArrayLike, bands: Sequence[ArrayLike]
) -> FloatArray:
    """Steady state of the litter pools CWD, L1, L2, L3 with vertical mixing
    (Tao et al. (EarthArXiv) §2.3).

    ``X_litter = (A·ξ·K − V)⁻¹·(−B·I)`` restricted to the litter: CWD (not mixed) is diagonal,
    ``CWD = I_CWD/(k_CWD·ξ)``; L1 solves ``(k_L1·ξ + V)·L1 = I_L1`` and L2/L3
    ``(k·ξ + V)·L = I + a·k_CWD·ξ·CWD`` with ``a = a_CL,CWD`` and ``1 − a_CL,CWD``, each
    tridiagonal in depth (batched Thomas algorithm).

    Parameters
    ----------
    inputs : array (..., 4, n_layers)
        B·I, litter inputs [g C m⁻³ yr⁻¹].
    rates : array (..., 4, n_layers)
        Effective first-order rates k·ξ (·ξ_N) [yr⁻¹].
    a_cl_cwd : array (...)
        Fraction of decomposed CWD going to cellulose litter.
    bands : (lower, diag, upper)
        Mixing operator V, each ``(..., n_layers)`` [yr⁻¹].

    Returns
    -------
    array (..., 4, n_layers)
        Litter pools [g C m⁻³]; non-finite where no steady state exists.
    """
    inputs = np.asarray(inputs, dtype=float)
    rates = np.asarray(rates, dtype=float)
    lower, diag, upper = (np.asarray(b, dtype=float)[..., None, :] for b in bands)
    with np.errstate(divide="ignore", invalid="ignore"):
        cwd = np.where(inputs[..., 0, :] > 0, inputs[..., 0, :] / rates[..., 0, :], 0.0)
    cwd_flux = np.where(inputs[..., 0, :] > 0, inputs[..., 0, :], 0.0)  # = k·ξ·CWD
    a = _lay(a_cl_cwd)
    rhs = np.stack(
        np.broadcast_arrays(
            inputs[..., 1, :],
            inputs[..., 2, :] + a * cwd_flux,
            inputs[..., 3, :] + (1 - a) * cwd_flux,
        ),
        axis=-2,
    )
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        mixed = solve_tridiagonal(lower, diag + rates[..., 1:, :], upper, rhs)
    shape = np.broadcast_shapes(cwd.shape, mixed.shape[:-2] + mixed.shape[-1:])
    return np.concatenate(
        [
            np.broadcast_to(cwd, shape)[..., None, :],
            np.broadcast_to(mixed, (*shape[:-1], 3, *shape[-1:])),
        ],
        axis=-2,
    )


class MixedSolution(NamedTuple):
    """Result of :func:`soil_steady_state_mixed`."""

    pools: FloatArray
    """``(..., 4, n_layers)`` DOC, MIC, ENZ, mSOC [g C m⁻³]; NaN where not converged."""
    converged: NDArray[np.bool_]
    """``(...)`` whether the relative residual fell below ``rtol``."""
    iterations: int
    """Iterations taken (accepted and rejected steps; the batch iterates together)."""
    relative_residual: FloatArray
    """``(...)`` max over pools and layers of |dS/dt| / gross flux at the returned state."""


def soil_steady_state_mixed(
    inputs: SoilInputs,
    xi: ArrayLike,
    params: COMPASParameters,
    bands: Sequence[ArrayLike],
    x0: ArrayLike,
    *,
    mixed_pools: Sequence[str] = SOIL_POOLS,
    rtol: float = 1e-10,
    max_iter: int = 300,
    dt0: float = 1.0,
) -> MixedSolution:
    """Soil steady state with vertical mixing of the soil pools (Newton, pseudo-transient).

    Solves ``F(S) = f(S) − V·S = 0``, f the local tendencies (:func:`soil_tendency`) and V the
    mixing operator applied to ``mixed_pools``. Each iteration solves the block-tridiagonal
    system ``(I/Δt − J)·δ = F`` with ``J = ∂f/∂S − V`` (n_layers blocks of 4 × 4, block
    Thomas; :func:`~wholesoil.models._blocksolve.solve_block_tridiagonal`) and sets
    ``S ← S + δ``: a linearly implicit Euler step of length Δt, which becomes Newton's step as
    Δt → ∞ (pseudo-transient continuation; Kelley & Keyes 1998). Δt starts at ``dt0`` years,
    doubles after every accepted step and is divided by 8 when a step would make a pool
    negative or non-finite (the step is then rejected). Plain Newton from the closed form
    fails in general: mixing carries microbes, enzymes and mSOC into deep layers where ξ is
    tiny, and the mixed state there differs from the unmixed one by orders of magnitude.

    Layers that receive no input and are not mixed keep their value of ``x0`` (0 from the
    closed form) and are left out of the iteration.

    Parameters
    ----------
    inputs : SoilInputs
        Litter-derived inputs (…, n_layers) [g C m⁻³ yr⁻¹].
    xi : array (..., n_layers)
    params : COMPASParameters
    bands : (lower, diag, upper)
        Mixing operator V, each (..., n_layers) [yr⁻¹].
    x0 : array (..., 4, n_layers)
        Starting point, usually the closed form (:func:`soil_steady_state_closed_form`); must be
        finite and non-negative (other entries are returned as not converged).
    mixed_pools : sequence of str
        Which soil pools V acts on (default all four).
    rtol : float
        Convergence: |F| ≤ rtol × gross flux (sum of the absolute values of all terms) in every
        pool and layer.
    max_iter : int
        Maximum iterations (accepted and rejected steps together).
    dt0 : float
        First pseudo-time step [yr].

    References
    ----------
    Kelley, C. T. & Keyes, D. E. (1998). Convergence analysis of pseudo-transient continuation.
    SIAM J. Numer. Anal. 35, 508–523. https://doi.org/10.1137/S0036142996304796
    """
    xi = np.asarray(xi, dtype=float)
    bad_pools = set(mixed_pools) - set(SOIL_POOLS)
    if bad_pools:
        raise InputDataError(
            f"mixed_pools must be among the soil pools {SOIL_POOLS}",
            field="mixed_pools",
            value=sorted(bad_pools),
        )
    mask = np.array([p in mixed_pools for p in SOIL_POOLS], dtype=float)
    lower, diag, upper = (np.asarray(b, dtype=float) for b in bands)
    x = np.array(x0, dtype=float)
    n = x.shape[-1]
    shape = np.broadcast_shapes(
        x.shape,
        (*xi.shape[:-1], 4, n),
        (*inputs.total.shape[:-1], 4, n),
        (*diag.shape[:-1], 4, n),
        (*tuple(params.batch_shape), 4, n),
    )
    batch = shape[:-2]
    x = np.array(np.broadcast_to(x, shape))
    start_ok = np.all(np.isfinite(x) & (x >= 0), axis=(-2, -1))
    x = np.where(start_ok[..., None, None], x, 0.0)
    vb = tuple(
        np.broadcast_to(b, (*batch, n))[..., None, :] * mask[:, None] for b in (lower, diag, upper)
    )
    frozen = np.broadcast_to(~(inputs.total > 0) & ~(diag > 0), (*batch, n))
    frozen = frozen | ~start_ok[..., None]

    def residual(state: FloatArray) -> tuple[FloatArray, FloatArray]:
        terms = _soil_terms(state, inputs, xi, params)
        f = np.stack([sum(t) for t in terms], axis=-2) - mixing_apply(vb, state)
        gross = np.stack([sum(np.abs(a) for a in t) for t in terms], axis=-2)
        gross = gross + _abs_band_terms(vb, state)
        f = np.where(frozen[..., None, :], 0.0, f)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(gross > 0, np.abs(f) / gross, np.where(f == 0, 0.0, np.inf))
        return f, np.max(rel, axis=(-2, -1))

    f, rel = residual(x)
    eye = np.eye(4)
    dt = np.full(batch, float(dt0))
    l_blocks = np.where(frozen[..., :, None], 0.0, -vb[0].swapaxes(-1, -2))
    u_blocks = np.where(frozen[..., :, None], 0.0, -vb[2].swapaxes(-1, -2))
    iterations = 0
    while iterations < max_iter:
        done = (rel <= rtol) | ~start_ok
        if np.all(done):
            break
        iterations += 1
        jac = np.broadcast_to(soil_jacobian(x, xi, params), (*batch, n, 4, 4))
        inv_dt = (1.0 / dt)[..., None, None, None]
        d_blocks = jac - vb[1].swapaxes(-1, -2)[..., :, :, None] * eye - inv_dt * eye
        d_blocks = np.where(frozen[..., :, None, None], eye, d_blocks)
        step = solve_block_tridiagonal(
            l_blocks, d_blocks, u_blocks, -f.swapaxes(-1, -2), offdiagonal="diagonal"
        ).swapaxes(-1, -2)
        trial = x + np.where(frozen[..., None, :], 0.0, step)
        with np.errstate(all="ignore"):
            f_t, rel_t = residual(trial)
        ok = (
            np.all(np.isfinite(trial) & (trial >= 0), axis=(-2, -1))
            & np.all(np.isfinite(f_t), axis=(-2, -1))
            & ~done
        )
        x = np.where(ok[..., None, None], trial, x)
        f = np.where(ok[..., None, None], f_t, f)
        rel = np.where(ok, rel_t, rel)
        dt = np.where(done, dt, np.where(ok, np.minimum(dt * 2.0, 1e300), dt / 8.0))
    converged = (rel <= rtol) & start_ok
    pools = np.where(converged[..., None, None], x, np.nan)
    return MixedSolution(pools, converged, iterations, rel)


_LAYER_NEWTON = 6


_LAYER_REASONS[_LAYER_NEWTON] = (
    "Newton iteration with soil mixing did not converge from the closed form"
)
