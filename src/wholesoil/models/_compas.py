"""COMPAS: the CarbOn cycle and Microbial PARTitioning Soil model (Tao et al. (EarthArXiv) §2.3).

COMPAS (Tao et al., Tao et al. (EarthArXiv)) puts the microbial-explicit soil carbon structure of
Allison et al. (2010) into the 20-layer vertical frame of CLM5. Its 8 pools per layer
(Tao et al. (EarthArXiv) Eq. 6) are

* four litter pools, CWD, L1 (metabolic, "ML"), L2 (cellulose, "CL"), L3 (lignin, "LL"),
  decomposed with first-order kinetics and mixed vertically as in CLM5;
* four soil pools, DOC (dissolved organic carbon), MIC (microbial biomass), ENZ (extracellular
  enzymes) and mSOC (mineral-associated SOC). MIC and ENZ turn over with first-order rates; DOC is
  taken up by microbes and mSOC is broken down by enzymes with Michaelis–Menten kinetics
  (Tao et al. (EarthArXiv) Eq. 7), so the soil part is nonlinear.

The state is ``X`` with shape ``(..., 8, n_layers)``, pool-major in the order of :data:`POOLS`,
in g C m⁻³ on the model's vertical grid; time is in years. The leading ``...`` is any batch of
sites and parameter sets that broadcasts.

With ξ the time-mean environmental scalar of a layer and the litter fluxes
``F_Li = k_Li·ξ·L_i`` (``k = 1/τ``), the soil equations are (Tao et al. (EarthArXiv) Eqs. 7–8,
``shared/specs/process-models.md``)::

    I_DOC = a_DOC,ML·F_L1 + a_DOC,CL·F_L2
    I_MIC = (1 − a_DOC,ML)·η_ML·F_L1 + (1 − a_DOC,CL)·η_CL-LL·F_L2 + (1 − a_SOC,LL)·η_CL-LL·F_L3
    I_SOC = a_SOC,LL·F_L3
    U = v_assim·ξ·MIC·DOC / (K_m,assim·ξ + DOC)       (microbial DOC assimilation)
    D = v_decom·ξ·ENZ·mSOC / (K_m,decom·ξ + mSOC)     (enzymatic mSOC decomposition)
    dDOC/dt  = I_DOC + (1 − a_SOC,MIC)·k_MIC·ξ·MIC + k_ENZ·ξ·ENZ + D − U
    dMIC/dt  = I_MIC + η_DOC·U − (k_MIC + k_ENZ,prod)·ξ·MIC
    dENZ/dt  = k_ENZ,prod·ξ·MIC − k_ENZ·ξ·ENZ
    dmSOC/dt = I_SOC + a_SOC,MIC·k_MIC·ξ·MIC − D

with ``v = 1/τ_assim``, ``1/τ_decom``, ``k_MIC = 1/τ_MIC`` (mortality), ``k_ENZ,prod =
1/τ_ENZ,prod`` and ``k_ENZ = 1/τ_ENZ,decay``. Litter respiration is the part of the litter flux
that reaches neither DOC, MIC nor mSOC; soil respiration is ``(1 − η_DOC)·U``.

The steady state (Tao et al. (EarthArXiv) Eq. 9, after Georgiou et al. 2017) is closed-form per
layer once the litter is known: the litter pools solve a linear system (tridiagonal in depth through
the mixing operator V), and the soil pools, immobile in the paper's steady state, follow from::

    MIC*  = (I_MIC + η_DOC·(I_DOC + I_SOC)) / ((1 − η_DOC)·(k_MIC + k_ENZ,prod)·ξ)      (Eq. 9b)
    ENZ*  = (k_ENZ,prod / k_ENZ)·MIC*                                                (Eq. 9c)
    mSOC* = P·K_m,decom·ξ / (v_decom·ξ·ENZ* − P),  P = I_SOC + a_SOC,MIC·k_MIC·ξ·MIC*  (Eq. 9d)
    DOC*  = U*·K_m,assim·ξ / (v_assim·ξ·MIC* − U*), U* = (I_DOC + I_MIC + I_SOC)/(1 − η_DOC)
                                                                                     (Eq. 9a)

``U*`` written this way equals the spec's ``((k_MIC + k_ENZ,prod)·ξ·MIC* − I_MIC)/η_DOC``
(substitute Eq. 9b) without the cancellation and the division by η_DOC. The numerator of
Eq. 9b as printed in the paper, ``u_MIC + η_DOC·u_mSOC + u_DOC``, lacks the factor η_DOC on
``u_DOC``: the published PRODA code and the mass balance (all soil input leaves as
``(1 − η_DOC)·U``) both have ``η_DOC·(u_DOC + u_mSOC)``, which is what is implemented.

A positive steady state exists in a layer with soil inputs only when both denominators are
positive, ``v_assim·ξ·MIC* > U*`` and ``v_decom·ξ·ENZ* > P``; ξ cancels from both conditions, so
existence depends on the parameters and on the mix of litter fluxes only, not on their size.
Where a condition fails there is no steady state (the substrate grows without bound); such a
site/parameter set is reported with ``valid = False``, a reason, and NaN pools, never with
numbers. A layer that receives no soil input at all (below bedrock, below the active layer) holds
no carbon at steady state: its soil pools are 0, the state reached from an empty layer.

An optional variant mixes the soil pools with the litter's V as well (the paper keeps them
immobile): :func:`soil_steady_state_mixed`, Newton iterations with pseudo-transient continuation
on the block-tridiagonal Jacobian, started from the closed form.

Tao et al. (EarthArXiv) Fig. 5 reports ``K_m / substrate`` after calibration (mostly > 100, i.e.
first-order in the substrate); :meth:`COMPAS.km_to_substrate` computes it.

Published PRODA code (``phxtao/PRODA_MIC``, ``SRC_DA/src_cesm2_clm5_mic_vr_v22/matrix_fun.m``)
draws both τ_ENZ,decay and K_m,assim from the same unit-interval parameter ``kp(13)`` while
``kp(11)`` is never used, so in the published calibration the two were perfectly dependent. This
module implements the paper's intent (Supplementary Table 2: 23 independent parameters) and
keeps them independent.

Where the code is: the parameter table and :class:`COMPASParameters` in
:mod:`wholesoil.models._compas_parameters`; the pure array functions (soil inputs, tendency,
Jacobian, closed-form, litter and mixed steady states) in :mod:`wholesoil.models._compas_soil`;
the model object :class:`COMPAS` and its steady state here. Every name stays importable from
this module.

References
----------
Tao et al. (EarthArXiv). Microbial carbon use efficiency / process-model comparison of CLM5 and
COMPAS by PRODA, §2.3, Eqs. 6–9, Supplementary Table 2, Fig. 5.

Allison, S. D., Wallenstein, M. D. & Bradford, M. A. (2010). Soil-carbon response to warming
dependent on microbial physiology. Nat. Geosci. 3, 336–340. https://doi.org/10.1038/ngeo846

Georgiou, K., Abramoff, R. Z., Harte, J., Riley, W. J. & Torn, M. S. (2017). Microbial
community-level regulation explains soil carbon responses to long-term litter manipulations.
Nat. Commun. 8, 1223. https://doi.org/10.1038/s41467-017-01116-z

Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError
from wholesoil.models._compas_parameters import (
    COMPAS_EFOLDING,
    COMPAS_PARAMETERS,
    LITTER_POOLS,
    POOLS,
    SOIL_POOLS,
    COMPASParameterInfo,
    COMPASParameters,
    FloatArray,
    _lay,
)
from wholesoil.models._compas_soil import (
    _LAYER_NEWTON,
    _LAYER_REASONS,
    LAYER_EMPTY,
    LAYER_LITTER,
    LAYER_NO_DOC,
    LAYER_NO_SOC,
    LAYER_OK,
    LAYER_XI_ZERO,
    MixedSolution,
    MixingBands,
    SoilClosedForm,
    SoilInputs,
    _abs_band_terms,
    _soil_terms,
    litter_steady_state,
    soil_inputs,
    soil_jacobian,
    soil_steady_state_closed_form,
    soil_steady_state_mixed,
    soil_tendency,
)
from wholesoil.models._scalars import decomposition_scalar
from wholesoil.models._transport import diffusivity, mixing_apply, mixing_operator
from wholesoil.models._vertical import VerticalGrid, clm5_grid

# ---------------------------------------------------------------------------------------------
# Model object
# ---------------------------------------------------------------------------------------------


class KmRatio(NamedTuple):
    """Tao et al. (EarthArXiv) Fig. 5: Michaelis constant over substrate concentration per layer."""

    assim: FloatArray
    """``(..., n_layers)`` K_m,assim(·ξ) / DOC."""
    decom: FloatArray
    """``(..., n_layers)`` K_m,decom(·ξ) / mSOC."""


@dataclass(frozen=True)
class COMPASSteadyState:
    """A COMPAS steady state over a batch of sites/parameter sets.

    Attributes
    ----------
    pools : array (..., 8, n_layers)
        Pools in the order of :data:`POOLS` [g C m⁻³]; all NaN for invalid entries.
    valid : array of bool (...)
        Whether a positive (finite, non-negative) steady state exists and was found.
    reason : array of str (...), or str for a single set
        Empty where valid; otherwise why not, naming the first failing layer.
    layer_status : array of int8 (..., n_layers)
        Per-layer code (:data:`LAYER_OK`, :data:`LAYER_EMPTY`, or a failure code).
    dz : array (n_layers,)
        Layer thicknesses [m].
    mixing : bool
        Whether the soil pools were mixed (Newton variant).
    """

    pools: FloatArray
    valid: NDArray[np.bool_]
    reason: NDArray[np.str_] | str
    layer_status: NDArray[np.int8]
    dz: FloatArray
    mixing: bool = False

    @property
    def soc(self) -> FloatArray:
        """Soil organic carbon per layer, DOC + MIC + ENZ + mSOC (as PRODA sums them)
        [g C m⁻³], ``(..., n_layers)``."""
        return self.pools[..., 4:, :].sum(axis=-2)

    @property
    def soc_stock(self) -> FloatArray:
        """Whole-column SOC Σ soc·dz [g C m⁻²], ``(...)``."""
        return (self.soc * self.dz).sum(axis=-1)

    def pool(self, name: str) -> FloatArray:
        """One pool ``(..., n_layers)`` by name (see :data:`POOLS`)."""
        return self.pools[..., POOLS.index(name), :]


def _reasons(status: NDArray[np.int8], z_node: FloatArray) -> tuple[NDArray, NDArray]:
    """Vectorised (valid, reason) from per-layer status codes; reason names the first layer."""
    failing = status > LAYER_EMPTY
    valid = ~failing.any(axis=-1)
    first = np.argmax(failing, axis=-1)
    code = np.take_along_axis(status, first[..., None], axis=-1)[..., 0]
    templates = np.array([""] * (max(_LAYER_REASONS) + 1), dtype=object)
    for c, text in _LAYER_REASONS.items():
        templates[c] = text
    depth = np.asarray(z_node, dtype=float)[first]
    where = np.char.mod("layer %d", np.asarray(first + 1)).astype(object)
    where = where + np.char.mod(" (node %.3g m): ", depth).astype(object)
    reason = np.where(valid, "", where + templates[code]).astype(str)
    return valid, reason


class COMPAS:
    """The COMPAS model on a vertical grid for a batch of sites and parameter sets.

    Builds from the parameters and the time-mean environment the pieces of Tao et al. (EarthArXiv)
    Eq. 2 for COMPAS: the environmental scalar ξ per layer (ξ_T·ξ_W·ξ_O·ξ_D, time mean of the
    monthly ξ when a :class:`~wholesoil.models._environment.Forcing` is given), the litter rates,
    the mixing operator V (bands) and the litter inputs B·I, as CLM5 does (Tao et al. (EarthArXiv)
    §2.3: "COMPAS applies the same approach to simulate B, ξ and V").

    Parameters
    ----------
    params : COMPASParameters
        Batch of parameter sets (``batch_shape`` broadcasts with the environment's).
    environment_or_forcing : Environment or Forcing
        Time-mean environment or monthly forcing (``wholesoil.models._environment``).
    grid : VerticalGrid, optional
        Vertical grid; default CLM5's 20SL_8.5m (``clm5_grid()``).
    efolding : float
        Depth e-folding length of ξ_D [m]; default :data:`COMPAS_EFOLDING` (0.5 m, PRODA code).
    froz_q10 : float or None
        Q10 below 0 °C; ``None`` uses each set's q10, as the PRODA COMPAS code does.
    nitrogen : bool
        Multiply the L1–L3 litter rates by the nitrogen scalar ``fpi_vr`` when given (as
        PRODA's ``kk_matrix`` does); soil pools are never N-limited.

    Notes
    -----
    Mixing is built with CLM5's rule (bioturbation ``diffus``, cryoturbation ``cryo``;
    Tao et al. (EarthArXiv) Supplementary Table 2 rows 21–22), inputs with the Jackson root profile
    of parameter ``b``.
    """

    def __init__(
        self,
        params: COMPASParameters,
        environment_or_forcing: Any,
        grid: VerticalGrid | None = None,
        *,
        efolding: float = COMPAS_EFOLDING,
        froz_q10: float | None = None,
        nitrogen: bool = False,
    ) -> None:
        from wholesoil.models import _environment

        if not isinstance(params, COMPASParameters):
            raise InputDataError(
                "params must be COMPASParameters", field="params", value=type(params).__name__
            )
        if not (np.isfinite(efolding) and efolding > 0):
            raise InputDataError("efolding must be > 0 (m)", field="efolding", value=efolding)
        grid = clm5_grid() if grid is None else grid
        env = environment_or_forcing
        forcing = env if isinstance(env, _environment.Forcing) else None
        mean_env = env.time_mean() if forcing is not None else env
        if not isinstance(mean_env, _environment.Environment):
            raise InputDataError(
                "environment_or_forcing must be an Environment or a Forcing",
                field="environment_or_forcing",
                value=type(env).__name__,
            )
        src = forcing if forcing is not None else mean_env
        xi = decomposition_scalar(
            src.tsoi,
            src.soilpsi,
            grid.z_node,
            q10=params.q10,
            w_scaling=params.w_scaling,
            efolding=efolding,
            o_scalar=getattr(src, "o_scalar", None),
            froz_q10=froz_q10,
            month_axis=forcing is not None,
        )
        fpi = getattr(src, "fpi_vr", None)
        n_scalar = None
        if nitrogen and fpi is not None:
            n_scalar = np.asarray(fpi, dtype=float)
            if forcing is not None and n_scalar.ndim == np.ndim(src.tsoi):
                n_scalar = n_scalar.mean(axis=-2)

        d = diffusivity(
            grid,
            mean_env.altmax,
            mean_env.altmax_lastyear,
            mean_env.nbedrock,
            bioturbation=params.diffus,
            cryoturbation=params.cryo,
        )
        bands = mixing_operator(grid, d)
        inputs = _litter_inputs(grid, params, mean_env)
        self._setup(params, grid, xi, inputs, bands, n_scalar)

    @classmethod
    def from_parts(
        cls,
        params: COMPASParameters,
        xi: ArrayLike,
        inputs: ArrayLike,
        bands: Sequence[ArrayLike],
        grid: VerticalGrid | None = None,
        *,
        nitrogen_scalar: ArrayLike | None = None,
    ) -> COMPAS:
        """A COMPAS model from ready-made pieces (custom forcing, tests).

        Parameters
        ----------
        params : COMPASParameters
        xi : array (..., n_layers)
            Time-mean environmental scalar ξ (≥ 0).
        inputs : array (..., 4, n_layers)
            Litter inputs B·I to CWD, L1, L2, L3 [g C m⁻³ yr⁻¹] (≥ 0).
        bands : (lower, diag, upper)
            Mixing operator V, each (..., n_layers) [yr⁻¹], ``mixing_operator``'s convention.
        grid : VerticalGrid, optional
            Default CLM5's 20SL_8.5m.
        nitrogen_scalar : array (..., n_layers), optional
            ξ_N for the L1–L3 rates.
        """
        self = cls.__new__(cls)
        self._setup(
            params, clm5_grid() if grid is None else grid, xi, inputs, bands, nitrogen_scalar
        )
        return self

    def _setup(
        self,
        params: COMPASParameters,
        grid: VerticalGrid,
        xi: ArrayLike,
        inputs: ArrayLike,
        bands: Sequence[ArrayLike],
        nitrogen_scalar: ArrayLike | None,
    ) -> None:
        if not isinstance(params, COMPASParameters):
            raise InputDataError(
                "params must be COMPASParameters", field="params", value=type(params).__name__
            )
        n = len(grid.dz)
        xi = np.asarray(xi, dtype=float)
        inputs = np.asarray(inputs, dtype=float)
        bands = tuple(np.asarray(b, dtype=float) for b in bands)
        if len(bands) != 3:
            raise InputDataError("bands must be (lower, diag, upper)", field="bands")
        for name, arr, tail in (
            ("xi", xi, (n,)),
            ("inputs", inputs, (4, n)),
            ("bands", bands[0], (n,)),
            ("bands", bands[1], (n,)),
            ("bands", bands[2], (n,)),
        ):
            if arr.shape[-len(tail) :] != tail:
                raise InputDataError(
                    f"{name} must end in shape {tail} (pools × {n} layers)",
                    field=name,
                    value=arr.shape,
                )
        if np.any(~(xi >= 0) | ~np.isfinite(xi)):
            raise InputDataError(
                "ξ must be finite and >= 0",
                field="xi",
                value=float(xi[~(np.isfinite(xi) & (xi >= 0))].flat[0]),
            )
        if np.any(~(inputs >= 0) | ~np.isfinite(inputs)):
            raise InputDataError(
                "litter inputs must be finite and >= 0",
                field="inputs",
                value=float(inputs[~(np.isfinite(inputs) & (inputs >= 0))].flat[0]),
            )
        self.params = params
        self.grid = grid
        self.xi = xi
        self.inputs = inputs
        self.bands: MixingBands = bands  # type: ignore[assignment]
        rates_cwd = _lay(1 / params.tau_cwd) * xi
        rates_l1 = _lay(1 / params.tau_ml) * xi
        rates_l23 = _lay(1 / params.tau_cl_ll) * xi
        if nitrogen_scalar is not None:
            ns = np.asarray(nitrogen_scalar, dtype=float)
            rates_l1, rates_l23 = rates_l1 * ns, rates_l23 * ns
        self.litter_rates = np.stack(
            np.broadcast_arrays(rates_cwd, rates_l1, rates_l23, rates_l23), axis=-2
        )
        self.batch_shape = np.broadcast_shapes(
            params.batch_shape,
            xi.shape[:-1],
            inputs.shape[:-2],
            *(b.shape[:-1] for b in bands),
        )

    # -- pieces ---------------------------------------------------------------------------

    def soil_inputs(self, x: ArrayLike) -> SoilInputs:
        """Litter-derived soil inputs (u_S of Tao et al. (EarthArXiv) Eq. 9) at the litter state of
        ``x``."""
        x = np.asarray(x, dtype=float)
        f = self.litter_rates[..., 1:, :] * x[..., 1:4, :]
        return soil_inputs(f[..., 0, :], f[..., 1, :], f[..., 2, :], self.params)

    def litter_steady_state(self) -> FloatArray:
        """Litter pools CWD, L1–L3 at steady state ``(..., 4, n_layers)`` [g C m⁻³]."""
        return litter_steady_state(self.inputs, self.litter_rates, self.params.a_cl_cwd, self.bands)

    # -- steady state ---------------------------------------------------------------------

    def steady_state(
        self,
        mixing: bool = False,
        *,
        mixed_pools: Sequence[str] = SOIL_POOLS,
        rtol: float = 1e-10,
        max_iter: int = 300,
        keep_invalid: bool = False,
    ) -> COMPASSteadyState:
        """Steady state of all 8 pools.

        Litter by the linear solve of :func:`litter_steady_state`; soil pools by the closed
        form of Tao et al. (EarthArXiv) Eq. 9 (immobile soil pools, the paper's assumption) or, with
        ``mixing=True``, by Newton's method (with pseudo-transient continuation, see
        :func:`soil_steady_state_mixed`) on the block-tridiagonal Jacobian started from
        the closed form (:func:`soil_steady_state_mixed`), the soil pools in ``mixed_pools``
        being mixed by the same V as the litter.

        Entries with no positive steady state get ``valid = False``, a reason and NaN pools.
        With ``mixing=True`` only entries whose closed form exists are iterated; the others
        keep the closed form's reason.

        ``keep_invalid=True`` (without mixing) keeps the closed form's values of invalid entries
        instead of NaN — negative or infinite soil pools where a denominator of Eq. 9a/9d is not
        positive — as ``matrix_fun.m`` of ``phxtao/PRODA_MIC`` returns them to its sampler
        (which scores such states with their SOC negated); NaN remains where the litter state
        is not finite and non-negative. ``valid`` and ``reason`` are unchanged.
        """
        if keep_invalid and mixing:
            raise InputDataError("keep_invalid applies to the closed form (mixing=False) only",
                                 field="keep_invalid", value=keep_invalid)
        litter = self.litter_steady_state()
        litter_raw = litter  # before non-finite entries are zeroed for the soil inputs
        lit_bad = ~np.isfinite(litter).all(axis=-2) | (litter < 0).any(axis=-2)
        litter = np.where(np.isfinite(litter), litter, 0.0)
        inputs = self.soil_inputs(np.concatenate([litter, np.zeros_like(litter)], axis=-2))
        closed = soil_steady_state_closed_form(inputs, self.xi, self.params)
        status = np.array(
            np.broadcast_to(closed.status, np.broadcast_shapes(closed.status.shape, lit_bad.shape))
        )
        status[np.broadcast_to(lit_bad, status.shape)] = LAYER_LITTER
        soil = closed.pools
        if mixing:
            ok = ~(status > LAYER_EMPTY).any(axis=-1)
            x0 = np.where(ok[..., None, None], soil, np.nan)
            sol = soil_steady_state_mixed(
                inputs,
                self.xi,
                self.params,
                self.bands,
                x0,
                mixed_pools=mixed_pools,
                rtol=rtol,
                max_iter=max_iter,
            )
            soil = sol.pools
            not_conv = ok & ~sol.converged
            status = np.where(not_conv[..., None] & (status == LAYER_OK), _LAYER_NEWTON, status)
        full_shape = (*self.batch_shape, 8, litter.shape[-1])
        pools = np.concatenate(
            [
                np.broadcast_to(litter, full_shape[:-2] + litter.shape[-2:]),
                np.broadcast_to(soil, full_shape[:-2] + soil.shape[-2:]),
            ],
            axis=-2,
        )
        status = np.broadcast_to(status, (*full_shape[:-2], full_shape[-1]))
        valid, reason = _reasons(status, self.grid.z_node)
        reason = str(reason) if reason.ndim == 0 else reason
        if keep_invalid:
            lit = np.broadcast_to(litter_raw, full_shape[:-2] + litter_raw.shape[-2:])
            raw = np.concatenate(
                [lit, np.broadcast_to(closed.raw, full_shape[:-2] + closed.raw.shape[-2:])],
                axis=-2)
            lit_ok = ~np.broadcast_to(lit_bad, status.shape).any(axis=-1)
            raw = np.where(lit_ok[..., None, None], raw, np.nan)
            pools = np.where(valid[..., None, None], pools, raw)
        else:
            pools = np.where(valid[..., None, None], pools, np.nan)
        return COMPASSteadyState(
            pools=pools,
            valid=valid,
            reason=reason,
            layer_status=np.asarray(status, dtype=np.int8),
            dz=np.asarray(self.grid.dz, dtype=float),
            mixing=mixing,
        )

    # -- right-hand side ------------------------------------------------------------------

    def residual(
        self,
        x: ArrayLike | COMPASSteadyState,
        *,
        mixing: bool = False,
        mixed_pools: Sequence[str] = SOIL_POOLS,
        relative: bool = False,
    ) -> FloatArray:
        """dX/dt of Tao et al. (EarthArXiv) Eq. 2 for COMPAS at state ``x`` ``(..., 8, n_layers)``.

        Litter: ``B·I + A·ξ·K·X − V·X`` (CWD not mixed). Soil: the local tendencies of
        :func:`soil_tendency` with inputs from the litter in ``x``, minus ``V·S`` for
        ``mixed_pools`` when ``mixing`` is true.

        With ``relative=True`` each entry is divided by the gross flux of its equation (sum
        of the absolute values of all its terms), 0 where that is 0: a scale-free residual.
        """
        if isinstance(x, COMPASSteadyState):
            x = x.pools
        x = np.asarray(x, dtype=float)
        lit = x[..., :4, :]
        soil = x[..., 4:, :]
        rates = self.litter_rates
        lit_out = rates * lit
        cwd_out = lit_out[..., 0, :]
        a = _lay(self.params.a_cl_cwd)
        v_lit = tuple(b[..., None, :] for b in self.bands)
        lit_terms = [
            [self.inputs[..., 0, :], -cwd_out],
            [self.inputs[..., 1, :], -lit_out[..., 1, :]],
            [self.inputs[..., 2, :], a * cwd_out, -lit_out[..., 2, :]],
            [self.inputs[..., 3, :], (1 - a) * cwd_out, -lit_out[..., 3, :]],
        ]
        lit_rhs = np.stack(np.broadcast_arrays(*[sum(t) for t in lit_terms]), axis=-2)
        lit_gross = np.stack(
            np.broadcast_arrays(*[sum(np.abs(u) for u in t) for t in lit_terms]), axis=-2
        )
        mixing_l = mixing_apply(v_lit, lit[..., 1:, :])
        lit_rhs = lit_rhs - np.concatenate(
            [np.zeros((*mixing_l.shape[:-2], 1, mixing_l.shape[-1])), mixing_l], axis=-2
        )
        absmix = _abs_band_terms(v_lit, lit[..., 1:, :])
        lit_gross = lit_gross + np.concatenate(
            [np.zeros((*absmix.shape[:-2], 1, *absmix.shape[-1:])), absmix], axis=-2
        )
        inputs = self.soil_inputs(x)
        terms = _soil_terms(soil, inputs, self.xi, self.params)
        soil_rhs = np.stack(np.broadcast_arrays(*[sum(t) for t in terms]), axis=-2)
        soil_gross = np.stack(
            np.broadcast_arrays(*[sum(np.abs(u) for u in t) for t in terms]), axis=-2
        )
        if mixing:
            mask = np.array([p in mixed_pools for p in SOIL_POOLS], dtype=float)[:, None]
            v_soil = tuple(b[..., None, :] * mask for b in self.bands)
            soil_rhs = soil_rhs - mixing_apply(v_soil, soil)
            soil_gross = soil_gross + _abs_band_terms(v_soil, soil)
        rhs = np.concatenate(np.broadcast_arrays(lit_rhs, soil_rhs), axis=-2)
        if not relative:
            return rhs
        gross = np.concatenate(np.broadcast_arrays(lit_gross, soil_gross), axis=-2)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(gross > 0, np.abs(rhs) / gross, np.where(rhs == 0, 0.0, np.inf))

    def respiration(self, x: ArrayLike | COMPASSteadyState | None = None) -> FloatArray:
        """Heterotrophic respiration by donor pool ``(..., 8, n_layers)`` [g C m⁻³ yr⁻¹].

        Litter: the part of each litter flux reaching neither DOC, MIC nor mSOC —
        ``(1 − a_DOC,ML)(1 − η_ML)·F_L1``, ``(1 − a_DOC,CL)(1 − η_CL-LL)·F_L2``,
        ``(1 − a_SOC,LL)(1 − η_CL-LL)·F_L3`` (CWD is transferred whole to L2/L3);
        soil: ``(1 − η_DOC)·U`` charged to DOC. ``x`` defaults to the (closed-form)
        steady state. Column respiration is ``(resp.sum(-2) * dz).sum(-1)`` [g C m⁻² yr⁻¹].
        """
        if x is None:
            x = self.steady_state()
        if isinstance(x, COMPASSteadyState):
            x = x.pools
        x = np.asarray(x, dtype=float)
        p = self.params
        f = self.litter_rates * x[..., :4, :]
        doc, mic = x[..., 4, :], x[..., 5, :]
        uptake = _lay(p.v_assim) * self.xi * mic * doc / (_lay(p.km_assim) * self.xi + doc)
        zero = np.zeros_like(f[..., 0, :])
        parts = [
            zero,
            (1 - _lay(p.a_doc_ml)) * (1 - _lay(p.cue_ml)) * f[..., 1, :],
            (1 - _lay(p.a_doc_cl)) * (1 - _lay(p.cue_cl_ll)) * f[..., 2, :],
            (1 - _lay(p.a_soc_ll)) * (1 - _lay(p.cue_cl_ll)) * f[..., 3, :],
            (1 - _lay(p.cue_doc)) * uptake,
            zero,
            zero,
            zero,
        ]
        return np.stack(np.broadcast_arrays(*parts), axis=-2)

    def column_input(self) -> FloatArray:
        """Total litter input Σ B·I·dz [g C m⁻² yr⁻¹], ``(...)``."""
        return (self.inputs.sum(axis=-2) * np.asarray(self.grid.dz)).sum(axis=-1)

    def km_to_substrate(
        self, x: ArrayLike | COMPASSteadyState | None = None, *, scaled: bool = False
    ) -> KmRatio:
        """Tao et al. (EarthArXiv) Fig. 5 diagnostic: Michaelis constant / substrate per layer.

        ``K_m,assim / DOC`` and ``K_m,decom / mSOC`` (default, the paper's Fig. 5: the
        constants as calibrated against the substrate concentrations), or, with
        ``scaled=True``, ``K_m·ξ / substrate`` (the effective half-saturation constant of the
        rate law of Tao et al. (EarthArXiv) Eq. 7). Ratios ≫ 1 (the paper: > 100 for most profiles)
        mean the kinetics are first order in the substrate. ``x`` defaults to the closed-form steady
        state; layers with zero substrate give inf, invalid entries NaN.
        """
        if x is None:
            x = self.steady_state()
        if isinstance(x, COMPASSteadyState):
            x = x.pools
        x = np.asarray(x, dtype=float)
        scale = self.xi if scaled else 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            assim = _lay(self.params.km_assim) * scale / x[..., 4, :]
            decom = _lay(self.params.km_decom) * scale / x[..., 7, :]
        return KmRatio(assim=assim, decom=decom)


#: Trailing (non-batch) axes of each environment field: (Environment, Forcing).
_CORE_AXES: dict[str, tuple[int, int]] = {
    "tsoi": (1, 2), "soilpsi": (1, 2), "o_scalar": (1, 2), "fpi_vr": (1, 2), "npp": (0, 1),
    "altmax": (0, 1), "altmax_lastyear": (0, 1), "sand": (0, 0), "nbedrock": (0, 0),
    "leaf_fraction": (0, 0), "cwd_fraction": (0, 0),
}


class _COMPASSteadyStateKernel:
    """Steady states of many COMPAS parameter sets at a fixed set of sites, for samplers.

    Equal, up to rounding, to ``COMPAS(params, environment[site], grid, nitrogen=nitrogen)
    .steady_state()`` (immobile soil pools, the calibration's case): the same Tao et al.
    (EarthArXiv) Eqs. 2 and 6–9, with what depends only on the sites computed once — the
    environment checked, the time-mean forcing, (T − 25)/10 and the water term of ξ, ξ_O, ξ_D
    (COMPAS's fixed e-folding depth), ξ_N, the input-layer mask and the surface input profile,
    and the bioturbation and cryoturbation patterns of the diffusivity (linear in ``diffus`` and
    ``cryo``) — and ξ_T = q10^((T − 25)/10) taken as exp(ln q10·(T − 25)/10) (q10 above and below
    freezing, as :class:`COMPAS` with ``froz_q10=None``). A calibration evaluates the model tens
    of thousands of times per site; this keeps each evaluation to the parameter-dependent work.

    Parameters
    ----------
    environment : Environment or Forcing
        As for :class:`COMPAS`, with batch shape (S,) (one per site) or () (shared).
    grid : VerticalGrid, optional
    nitrogen : bool
        As for :class:`COMPAS`.
    compiled : bool, optional
        Solve by the compiled path (:mod:`wholesoil.models._compas_compiled`, numba): the same
        equations row by row, without numpy's per-operation overhead. Default: on when numba
        imports and ``WHOLESOIL_NUMBA`` is not ``0``; ``False`` forces the numpy path, which is
        :meth:`COMPAS.steady_state` itself on the rows' sites.
    """

    def __init__(self, environment: Any, grid: VerticalGrid | None = None, *,
                 nitrogen: bool = False, compiled: bool | None = None) -> None:
        from wholesoil.models import _environment

        grid = clm5_grid() if grid is None else grid
        # the checks of a full build, once (raises as COMPAS would)
        COMPAS(COMPASParameters.default(), environment, grid, nitrogen=nitrogen)
        self.environment, self.grid, self.nitrogen = environment, grid, nitrogen
        self.n = grid.n_layers
        self.monthly = isinstance(environment, _environment.Forcing)
        k = 1 if self.monthly else 0
        self._batched: dict[str, tuple[NDArray, tuple[int, ...]]] = {}
        shapes = []
        for name, cores in _CORE_AXES.items():
            v = getattr(environment, name, None)
            if v is None:
                continue
            a = np.asarray(v)
            if a.ndim > cores[k]:
                core = a.shape[a.ndim - cores[k]:]
                self._batched[name] = (a, core)
                shapes.append(a.shape[: a.ndim - cores[k]])
        sites = np.broadcast_shapes(*shapes) if shapes else ()
        if len(sites) > 1:
            raise InputDataError("the kernel takes sites batched over one axis (S,) or none",
                                 field="environment", value=sites)
        self.shared = not sites
        self.n_sites = sites[0] if sites else 1
        self._compiled = self._compiled_setup(compiled)

    def _site_environment(self, site: NDArray[np.intp]) -> Any:
        """``environment[site]``: the batched fields of the rows' sites (R, ...)."""
        if self.shared:
            return self.environment
        import dataclasses

        S = self.n_sites
        return dataclasses.replace(self.environment, **{
            name: np.broadcast_to(a, (S, *core))[site]
            for name, (a, core) in self._batched.items()})

    def _compiled_setup(self, compiled: bool | None) -> dict[str, Any] | None:
        """Site arrays in the compiled path's layout (:mod:`._compas_compiled`), or None when
        the path is off (``compiled=False``, ``WHOLESOIL_NUMBA=0``, or numba not installed)."""
        if compiled is False:
            return None
        try:
            from wholesoil.models import _compas_compiled as cc
        except ImportError:  # numba missing: the numpy path
            return None
        if compiled is None and not cc.enabled():
            return None
        from wholesoil.models._allocation import (
            CLM5_LITTER_FRACTIONS,
            DEFAULT_CWD_FRACTION,
            SURFPROF_EXP,
            input_layer_mask,
            normalized_profile,
        )
        from wholesoil.models._clm5 import DEFAULT_LEAF_FRACTION
        from wholesoil.models._scalars import _T_REF, MAXPSI, MINPSI, oxygen_scalar

        env, grid, n, S = self.environment, self.grid, self.n, self.n_sites
        static = env.time_mean() if self.monthly else env
        M = env.n_months if self.monthly else 1

        def per_site(a, tail):
            a = np.asarray(a, dtype=float)
            return np.ascontiguousarray(np.broadcast_to(a, (S, *tail)))

        def months(a):  # (..., M, n) of a Forcing, (..., n) of an Environment → (S, M, n)
            a = np.asarray(a, dtype=float)
            return per_site(a if self.monthly else a[..., None, :], (M, n))

        tsoi = np.asarray(env.tsoi, dtype=float)
        psi = np.clip(np.asarray(env.soilpsi, dtype=float), MINPSI, MAXPSI)
        o = getattr(env, "o_scalar", None)
        fpi = getattr(env, "fpi_vr", None)
        n_scalar = None
        if self.nitrogen and fpi is not None:
            n_scalar = np.asarray(fpi, dtype=float)
            if self.monthly:
                n_scalar = n_scalar.mean(axis=-2)
        leaf = getattr(static, "leaf_fraction", None)
        cwd = getattr(static, "cwd_fraction", None)
        leaf = DEFAULT_LEAF_FRACTION if leaf is None else leaf
        cwd = per_site(DEFAULT_CWD_FRACTION if cwd is None else cwd, ())
        f1, f2, f3 = CLM5_LITTER_FRACTIONS
        mask = np.ascontiguousarray(np.broadcast_to(
            input_layer_mask(grid, static.altmax, static.altmax_lastyear, static.nbedrock),
            (S, n)))
        surf = np.exp(-SURFPROF_EXP * grid.z_node)
        z = grid.z_node
        dzn = np.diff(z)

        def pattern(bio, cryo):  # D = diffus·D_bio + cryo·D_cryo exactly (one regime a layer)
            return per_site(diffusivity(grid, static.altmax, static.altmax_lastyear,
                                        static.nbedrock, bioturbation=bio, cryoturbation=cryo),
                            (n,))

        return {
            "fn": cc.steady_states, "columns": cc.COLUMNS,
            "t_exp": months((tsoi - _T_REF) / 10.0),  # ξ_T = q10 ** t_exp
            "w_base": months(np.log(MINPSI / psi) / math.log(MINPSI / MAXPSI)),
            "xi_o": months(oxygen_scalar(o)) if o is not None else np.ones((1, 1, 1)),
            "has_o": o is not None,
            "xi_d": np.exp(-z / COMPAS_EFOLDING),
            "xi_n": per_site(n_scalar, (n,)) if n_scalar is not None else np.ones((1, 1)),
            "has_n": n_scalar is not None,
            "npp": per_site(static.npp, ()), "leaf": per_site(leaf, ()),
            "share": np.stack([cwd, (1 - cwd) * f1, (1 - cwd) * f2, (1 - cwd) * f3], axis=-1),
            "mask": mask,
            "surface": normalized_profile(grid, np.broadcast_to(surf, (S, n)), mask),
            "d_bio": pattern(1.0, 0.0), "d_cryo": pattern(0.0, 1.0),
            "grid": tuple(np.ascontiguousarray(a, dtype=float) for a in (
                100.0 * grid.z_top, 100.0 * grid.z_bottom, grid.dz,
                (z[1:] - grid.z_bottom[:-1]) / dzn, dzn)),
        }

    def __call__(self, params: COMPASParameters, site: ArrayLike | None = None, *,
                 keep_invalid: bool = False) -> tuple[FloatArray, NDArray[np.bool_]]:
        """Steady states of parameter sets (R,) at sites ``site`` (R,).

        ``params`` has batch shape (R,) (or broadcasts to it); ``site`` indexes the kernel's
        sites (default: all 0, for a shared environment). ``keep_invalid``: as for
        :meth:`COMPAS.steady_state` (invalid rows keep the closed form's values).

        Returns
        -------
        pools : array (R, 8, n_layers)
            Pools in the order of :data:`POOLS` [g C m⁻³]; NaN for invalid rows (unless
            ``keep_invalid``).
        valid : array (R,) of bool
            Whether a positive steady state exists (:attr:`COMPASSteadyState.valid`).
        """
        if not isinstance(params, COMPASParameters):
            raise InputDataError(
                "params must be COMPASParameters", field="params", value=type(params).__name__
            )
        shape = params.batch_shape
        R = int(np.prod(shape)) if shape else 1
        s = np.zeros(R, dtype=np.intp) if site is None else np.asarray(site, dtype=np.intp)
        R = max(R, s.size)
        s = np.broadcast_to(s, (R,))
        if np.any((s < 0) | (s >= self.n_sites)):
            raise InputDataError(f"site must index the kernel's {self.n_sites} sites",
                                 field="site", value=int(s[(s < 0) | (s >= self.n_sites)][0]))
        c = self._compiled
        if c is None:
            ss = COMPAS(params, self._site_environment(s), self.grid,
                        nitrogen=self.nitrogen).steady_state(keep_invalid=keep_invalid)
            return (np.broadcast_to(ss.pools, (R, len(POOLS), self.n)),
                    np.broadcast_to(ss.valid, (R,)))
        par = np.empty((R, len(c["columns"])))
        for j, name in enumerate(c["columns"]):
            par[:, j] = getattr(params, name)
        out = np.empty((R, len(POOLS), self.n))
        valid = np.empty(R, dtype=np.bool_)
        return c["fn"](np.ascontiguousarray(s), par, c["t_exp"], c["w_base"], c["xi_o"],
                       c["has_o"], c["xi_d"], c["xi_n"], c["has_n"], c["npp"], c["leaf"],
                       c["share"], c["mask"], c["surface"], c["d_bio"], c["d_cryo"],
                       *c["grid"], out, valid, keep_invalid)


def _litter_inputs(grid: VerticalGrid, params: COMPASParameters, env: Any) -> FloatArray:
    """B·I for COMPAS (..., 4, n_layers) [g C m⁻³ yr⁻¹], allocated exactly as CLM5 does
    (:func:`~wholesoil.models._allocation.litter_inputs` with COMPAS's own ``b``),
    Tao et al. (EarthArXiv) §2.3: "COMPAS applies the same approach to simulate carbon input
    allocation (B)".
    """
    from wholesoil.models._allocation import DEFAULT_CWD_FRACTION, litter_inputs
    from wholesoil.models._clm5 import DEFAULT_LEAF_FRACTION

    leaf = getattr(env, "leaf_fraction", None)
    cwd = getattr(env, "cwd_fraction", None)
    return litter_inputs(
        grid, params.b, env.npp, env.altmax, env.altmax_lastyear, env.nbedrock,
        leaf_fraction=DEFAULT_LEAF_FRACTION if leaf is None else leaf,
        cwd_fraction=DEFAULT_CWD_FRACTION if cwd is None else cwd,
    )


__all__: Sequence[str] = [
    "COMPAS",
    "COMPAS_EFOLDING",
    "COMPAS_PARAMETERS",
    "LAYER_EMPTY",
    "LAYER_LITTER",
    "LAYER_NO_DOC",
    "LAYER_NO_SOC",
    "LAYER_OK",
    "LAYER_XI_ZERO",
    "LITTER_POOLS",
    "POOLS",
    "SOIL_POOLS",
    "COMPASParameterInfo",
    "COMPASParameters",
    "COMPASSteadyState",
    "KmRatio",
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
