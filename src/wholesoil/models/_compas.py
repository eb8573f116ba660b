"""COMPAS: the CarbOn cycle and Microbial PARTitioning Soil model (seed 003 §2.3).

COMPAS (Tao et al., seed 003) puts the microbial-explicit soil carbon structure of Allison et al.
(2010) into the 20-layer vertical frame of CLM5. Its 8 pools per layer (seed 003 Eq. 6) are

* four litter pools, CWD, L1 (metabolic, "ML"), L2 (cellulose, "CL"), L3 (lignin, "LL"),
  decomposed with first-order kinetics and mixed vertically as in CLM5;
* four soil pools, DOC (dissolved organic carbon), MIC (microbial biomass), ENZ (extracellular
  enzymes) and mSOC (mineral-associated SOC). MIC and ENZ turn over with first-order rates; DOC is
  taken up by microbes and mSOC is broken down by enzymes with Michaelis–Menten kinetics (seed 003
  Eq. 7), so the soil part is nonlinear.

The state is ``X`` with shape ``(..., 8, n_layers)``, pool-major in the order of :data:`POOLS`,
in g C m⁻³ on the model's vertical grid; time is in years. The leading ``...`` is any batch of
sites and parameter sets that broadcasts.

With ξ the time-mean environmental scalar of a layer and the litter fluxes
``F_Li = k_Li·ξ·L_i`` (``k = 1/τ``), the soil equations are (seed 003 Eqs. 7–8,
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

The steady state (seed 003 Eq. 9, after Georgiou et al. 2017) is closed-form per layer once the
litter is known: the litter pools solve a linear system (tridiagonal in depth through the mixing
operator V), and the soil pools, immobile in the paper's steady state, follow from::

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

Seed 003 Fig. 5 reports ``K_m / substrate`` after calibration (mostly > 100, i.e. first-order in
the substrate); :meth:`COMPAS.km_to_substrate` computes it.

Published PRODA code (``phxtao/PRODA_MIC``, ``SRC_DA/src_cesm2_clm5_mic_vr_v22/matrix_fun.m``)
draws both τ_ENZ,decay and K_m,assim from the same unit-interval parameter ``kp(13)`` while
``kp(11)`` is never used, so in the published calibration the two were perfectly dependent. This
module implements the paper's intent (Supplementary Table 2: 23 independent parameters) and
keeps them independent.

References
----------
Tao, F. et al. (seed 003). Microbial carbon use efficiency / process-model comparison of CLM5 and
COMPAS by PRODA, §2.3, Eqs. 6–9, Supplementary Table 2, Fig. 5.

Allison, S. D., Wallenstein, M. D. & Bradford, M. A. (2010). Soil-carbon response to warming
dependent on microbial physiology. Nat. Geosci. 3, 336–340. https://doi.org/10.1038/ngeo846

Georgiou, K., Abramoff, R. Z., Harte, J., Riley, W. J. & Torn, M. S. (2017). Microbial
community-level regulation explains soil carbon responses to long-term litter manipulations.
Nat. Commun. 8, 1223. https://doi.org/10.1038/s41467-017-01116-z
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError
from wholesoil.models._blocksolve import solve_block_tridiagonal, solve_tridiagonal
from wholesoil.models._parameters import Parameter, named, open_ends, prior_scale
from wholesoil.models._scalars import decomposition_scalar
from wholesoil.models._transport import diffusivity, mixing_apply, mixing_operator
from wholesoil.models._vertical import VerticalGrid, clm5_grid

FloatArray = NDArray[np.float64]

#: Pools of one layer, in the order of seed 003 Eq. 6 (pool-major state ``(..., 8, n_layers)``).
POOLS: tuple[str, ...] = ("CWD", "L1", "L2", "L3", "DOC", "MIC", "ENZ", "mSOC")
#: The litter pools (first order, mixed vertically; CWD is not mixed).
LITTER_POOLS: tuple[str, ...] = POOLS[:4]
#: The soil pools (Michaelis–Menten uptake and decomposition; immobile in the closed form).
SOIL_POOLS: tuple[str, ...] = POOLS[4:]

#: Depth e-folding length z_τ [m] of the depth scalar ξ_D = exp(−z/z_τ) used by COMPAS. It is not
#: among the 23 calibrated parameters of Supplementary Table 2; the published PRODA COMPAS code
#: fixes it at 0.5 m (``efolding = 0.5`` in ``matrix_fun.m`` of ``phxtao/PRODA_MIC``).
COMPAS_EFOLDING: float = 0.5


#: The parameter record of this module (one record for every model: :class:`Parameter`).
COMPASParameterInfo = Parameter

_T2 = "seed 003 Supplementary Table 2"


def _info(number: int, symbol: str, term: str, description: str, default: float, unit: str,
          prior: tuple[float, float], domain: str, proda: str, note: str = "") -> Parameter:
    """One row of seed 003 Supplementary Table 2 as a prior record.

    ``number`` is the table row, ``term`` the matrix term of seed 003 Eq. 2 it builds (A, K, ξ,
    V, B), ``default`` the global mean after site-level calibration (seed 003 §2.5), ``prior``
    the range of the profile-level calibration, ``domain`` the values the model accepts
    (:func:`~wholesoil.models._parameters.open_ends`), ``proda`` the variable and unit-interval
    index in the published PRODA code, ``note`` corrections of the table and other decisions.
    """
    o_lo, o_hi = open_ends(domain, *prior)
    return Parameter("", unit, prior[0], prior[1], scale=prior_scale(*prior), default=default,
                     source=_T2, description=description, symbol=symbol,
                     closed=(not o_lo, not o_hi), bounds="prior", domain=domain, term=term,
                     code=proda, number=number, note=note)


#: The 23 COMPAS parameters of seed 003 Supplementary Table 2 (defaults, units, prior ranges), in
#: the table's order, keyed by the attribute names of :class:`COMPASParameters`. Source: seed 003
#: Supplementary Table 2; prior ranges checked against the published PRODA code
#: (``phxtao/PRODA_MIC``, ``SRC_DA/src_cesm2_clm5_mic_vr_v22/matrix_fun.m``), which settles the
#: table's misprints (see each ``note``).
COMPAS_PARAMETERS: dict[str, COMPASParameterInfo] = named({
    "cue_doc": _info(
        1,
        "η_DOC",
        "A",
        "Microbial CUE for DOC assimilation",
        0.27,
        "unitless",
        (0.01, 0.7),
        "efficiency",
        "mic_cue, kp(21)",
    ),
    "cue_ml": _info(
        2,
        "η_ML",
        "A",
        "Microbial CUE for metabolic litter assimilation",
        0.66,
        "unitless",
        (0.4, 0.9),
        "fraction",
        "l1_cue, kp(19)",
    ),
    "cue_cl_ll": _info(
        3,
        "η_CL-LL",
        "A",
        "Microbial CUE for cellulose/lignin litter assimilation",
        0.16,
        "unitless",
        (0.0, 0.4),
        "fraction",
        "l2_cue = l3_cue, kp(20)",
    ),
    "km_assim": _info(
        4,
        "K_m,assim",
        "K",
        "Concentration of DOC for half max DOC assimilation reaction",
        1.8e3,
        "g C m-3",
        (300.0, 3000.0),
        "positive",
        "mm_const_assim, kp(13)",
        "PRODA code draws it from kp(13), the index of τ_ENZ,decay too; kept independent here",
    ),
    "tau_assim": _info(
        5,
        "τ_assim",
        "K",
        "Inverse of v_max,assim in DOC assimilation",
        0.015,
        "year",
        (0.001, 0.03),
        "positive",
        "tau4s1, kp(8)",
        "table prints the range as [0.03 0.001]; bounds reordered (code: 0.001 + 0.029·kp)",
    ),
    "tau_decom": _info(
        6,
        "τ_decom",
        "K",
        "Inverse of v_max,decom in SOC decomposition",
        1.62e-4,
        "year",
        (0.0, 3e-4),
        "positive",
        "tau4s4, kp(12)",
        "table prints the range as [0.3×10⁻⁴] (one number); code: 3e-4·kp, i.e. [0, 3×10⁻⁴], "
        "which contains the default 1.62×10⁻⁴; τ = 0 itself is excluded",
    ),
    "km_decom": _info(
        7,
        "K_m,decom",
        "K",
        "Concentration of SOC for half max SOC decomposition reaction",
        5.65e5,
        "g C m-3",
        (1e5, 1e6),
        "positive",
        "mm_const_decom, kp(14)",
    ),
    "tau_enz_prod": _info(
        8,
        "τ_ENZ,prod",
        "K",
        "Turnover time for enzyme production",
        22.0,
        "year",
        (15.0, 30.0),
        "positive",
        "tau4s2_enz, kp(10)",
    ),
    "tau_ml": _info(
        9,
        "τ_ML",
        "K",
        "Turnover time of metabolic litter",
        0.049,
        "year",
        (0.0, 0.1),
        "positive",
        "tau4l1, kp(6)",
        "τ = 0 (the prior's lower bound) is excluded",
    ),
    "tau_cwd": _info(
        10,
        "τ_CWD",
        "K",
        "Turnover time of coarse woody debris",
        3.5,
        "year",
        (1.0, 6.0),
        "positive",
        "tau4cwd, kp(5)",
    ),
    "tau_cl_ll": _info(
        11,
        "τ_CL-LL",
        "K",
        "Turnover time of cellulose and lignin litter",
        0.2,
        "year",
        (0.1, 0.3),
        "positive",
        "tau4l2 = tau4l3, kp(7)",
    ),
    "tau_enz_decay": _info(
        12,
        "τ_ENZ,decay",
        "K",
        "Turnover time for enzyme decay",
        0.04,
        "year",
        (0.001, 1.0),
        "positive",
        "tau4s3, kp(13)",
        "PRODA code samples it log-uniformly, 10^(3·kp − 3), from kp(13) (shared with K_m,assim)",
    ),
    "tau_mic": _info(
        13,
        "τ_MIC",
        "K",
        "Turnover time for microbial mortality",
        1.1,
        "year",
        (0.0, 2.0),
        "positive",
        "tau4s2_death, kp(9)",
        "τ = 0 (the prior's lower bound) is excluded",
    ),
    "a_soc_mic": _info(
        14,
        "a_SOC,MIC",
        "A",
        "Fraction of microbial necromass that is stabilized as SOC",
        0.47,
        "unitless",
        (0.0, 1.0),
        "fraction",
        "pdeath2soc, kp(22)",
        "table gives the unit as 'year'; it is a fraction (unitless)",
    ),
    "a_cl_cwd": _info(
        15,
        "a_CL,CWD",
        "A",
        "Fraction of decomposed CWD that goes to cellulose litter",
        0.75,
        "unitless",
        (0.5, 1.0),
        "fraction",
        "fcwdl2, kp(15)",
        "the rest, 1 − a_CL,CWD, goes to lignin litter (no respiration from CWD, as in CLM5)",
    ),
    "a_doc_ml": _info(
        16,
        "a_DOC,ML",
        "A",
        "Fraction of total decomposed metabolic litter that goes to DOC",
        0.05,
        "unitless",
        (0.0, 0.1),
        "fraction",
        "pl1s1, kp(16)",
    ),
    "a_doc_cl": _info(
        17,
        "a_DOC,CL",
        "A",
        "Fraction of total decomposed cellulose litter that goes to DOC",
        0.17,
        "unitless",
        (0.05, 0.3),
        "fraction",
        "pl2s1, kp(17)",
    ),
    "a_soc_ll": _info(
        18,
        "a_SOC,LL",
        "A",
        "Fraction of total decomposed lignin litter that goes to SOC",
        0.78,
        "unitless",
        (0.6, 0.95),
        "fraction",
        "pl3s4, kp(18)",
    ),
    "w_scaling": _info(
        19,
        "w-scaling",
        "ξ",
        "Scaling factor to soil water scalar",
        2.9,
        "unitless",
        (0.0, 5.0),
        "nonnegative",
        "w_scaling, kp(4)",
    ),
    "q10": _info(
        20,
        "q10",
        "ξ",
        "Temperature sensitivity",
        2.1,
        "unitless",
        (1.2, 3.0),
        "positive",
        "q10, kp(3)",
        "PRODA code also uses it as the frozen-soil Q10 (fq10 = q10)",
    ),
    "cryo": _info(
        21,
        "cryo",
        "V",
        "Cryoturbation rate",
        0.0008,
        "m2 yr-1",
        (3e-5, 1.6e-3),
        "nonnegative",
        "cryo, kp(2)",
    ),
    "diffus": _info(
        22,
        "diffus",
        "V",
        "Bioturbation rate",
        0.00026,
        "m2 yr-1",
        (3e-5, 5e-4),
        "nonnegative",
        "bio, kp(1)",
    ),
    "b": _info(
        23,
        "b",
        "B",
        "Parameter controlling vertical distribution of carbon input to litter pools",
        0.72,
        "unitless",
        (0.5, 1.0),
        "open_unit",
        "beta, kp(23)",
        "b = 1 gives an empty Jackson profile (β^a − β^b = 0); the code's upper bound is 0.9999",
    ),
})

_DOMAIN_TEXT = {
    "positive": ("> 0", lambda v: v > 0),
    "nonnegative": (">= 0", lambda v: v >= 0),
    "fraction": ("in [0, 1]", lambda v: (v >= 0) & (v <= 1)),
    "efficiency": ("in [0, 1)", lambda v: (v >= 0) & (v < 1)),
    "open_unit": ("in (0, 1)", lambda v: (v > 0) & (v < 1)),
}


@dataclass(frozen=True)
class COMPASParameters:
    """The 23 COMPAS parameters as arrays over a batch of parameter sets.

    Every attribute is a float array that broadcasts to :attr:`batch_shape` (scalars are fine).
    Names, units and ranges are in :data:`COMPAS_PARAMETERS`; values are checked on
    construction against the model's domain (turnover times and Michaelis constants > 0,
    fractions in [0, 1], η_DOC in [0, 1), b in (0, 1), rates ≥ 0), not against the prior ranges
    (see :meth:`in_prior`).

    Raises
    ------
    InputDataError
        A value outside its domain or not finite, naming the parameter, the expectation and the
        first offending value.
    """

    cue_doc: FloatArray
    cue_ml: FloatArray
    cue_cl_ll: FloatArray
    km_assim: FloatArray
    tau_assim: FloatArray
    tau_decom: FloatArray
    km_decom: FloatArray
    tau_enz_prod: FloatArray
    tau_ml: FloatArray
    tau_cwd: FloatArray
    tau_cl_ll: FloatArray
    tau_enz_decay: FloatArray
    tau_mic: FloatArray
    a_soc_mic: FloatArray
    a_cl_cwd: FloatArray
    a_doc_ml: FloatArray
    a_doc_cl: FloatArray
    a_soc_ll: FloatArray
    w_scaling: FloatArray
    q10: FloatArray
    cryo: FloatArray
    diffus: FloatArray
    b: FloatArray

    def __post_init__(self) -> None:
        for name, info in COMPAS_PARAMETERS.items():
            value = np.asarray(getattr(self, name), dtype=float)
            text, ok = _DOMAIN_TEXT[info.domain]
            bad = ~(np.isfinite(value) & ok(value))
            if np.any(bad):
                raise InputDataError(
                    f"{name} ({info.symbol}) must be {text} and finite "
                    f"({info.description.lower()}, {info.unit})",
                    field=name,
                    value=float(value[bad].flat[0]) if value.ndim else float(value),
                )
            object.__setattr__(self, name, value)
        try:
            np.broadcast_shapes(*(getattr(self, n).shape for n in COMPAS_PARAMETERS))
        except ValueError as err:
            shapes = {n: getattr(self, n).shape for n in COMPAS_PARAMETERS}
            raise InputDataError(
                f"COMPAS parameter arrays do not broadcast to one batch shape: {shapes}"
            ) from err

    @classmethod
    def default(cls, **overrides: ArrayLike) -> COMPASParameters:
        """Supplementary Table 2 defaults, with any parameter replaced by ``overrides``."""
        unknown = set(overrides) - set(COMPAS_PARAMETERS)
        if unknown:
            raise InputDataError(
                f"unknown COMPAS parameter(s) {sorted(unknown)}; "
                f"expected names from {list(COMPAS_PARAMETERS)}"
            )
        values = {n: info.default for n, info in COMPAS_PARAMETERS.items()}
        values.update(overrides)  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]

    @classmethod
    def from_array(cls, values: ArrayLike) -> COMPASParameters:
        """Parameter sets from an array ``(..., 23)`` in the order of :data:`COMPAS_PARAMETERS`."""
        arr = np.asarray(values, dtype=float)
        if arr.ndim < 1 or arr.shape[-1] != len(COMPAS_PARAMETERS):
            raise InputDataError(
                f"expected an array (..., {len(COMPAS_PARAMETERS)}) of COMPAS parameters in "
                f"Supplementary Table 2 order; got shape {arr.shape}"
            )
        return cls(**{n: arr[..., i] for i, n in enumerate(COMPAS_PARAMETERS)})

    @classmethod
    def from_unit(cls, u: ArrayLike) -> COMPASParameters:
        """Map points of the unit cube ``(..., 23)`` linearly onto the prior ranges.

        All 23 are independent and linear in their prior range, the paper's description
        (Supplementary Table 2); the published code's log-uniform τ_ENZ,decay tied to K_m,assim
        is not reproduced. Points mapping onto an excluded bound (τ = 0, b = 1) raise.
        """
        arr = np.asarray(u, dtype=float)
        if arr.ndim < 1 or arr.shape[-1] != len(COMPAS_PARAMETERS):
            raise InputDataError(
                f"expected unit-cube points (..., {len(COMPAS_PARAMETERS)}); got shape {arr.shape}"
            )
        if np.any(~((arr >= 0) & (arr <= 1))):
            bad = arr[~((arr >= 0) & (arr <= 1))].flat[0]
            raise InputDataError("unit-cube coordinates must be in [0, 1]", value=float(bad))
        lo = np.array([info.prior[0] for info in COMPAS_PARAMETERS.values()])
        hi = np.array([info.prior[1] for info in COMPAS_PARAMETERS.values()])
        return cls.from_array(lo + arr * (hi - lo))

    def as_array(self) -> FloatArray:
        """The parameters as ``(*batch_shape, 23)`` in the order of :data:`COMPAS_PARAMETERS`."""
        shape = self.batch_shape
        return np.stack([np.broadcast_to(getattr(self, n), shape) for n in COMPAS_PARAMETERS], -1)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Broadcast shape of all parameter arrays."""
        return np.broadcast_shapes(*(getattr(self, n).shape for n in COMPAS_PARAMETERS))

    def in_prior(self) -> NDArray[np.bool_]:
        """Whether each parameter set lies inside every prior range of Supplementary Table 2."""
        arr = self.as_array()
        lo = np.array([info.prior[0] for info in COMPAS_PARAMETERS.values()])
        hi = np.array([info.prior[1] for info in COMPAS_PARAMETERS.values()])
        return np.all((arr >= lo) & (arr <= hi), axis=-1)

    def replace(self, **changes: ArrayLike) -> COMPASParameters:
        """A copy with some parameters replaced (validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    # Rates of seed 003 Eqs. 7–8 [yr⁻¹], batch-shaped (add the layer axis with [..., None]).
    @property
    def v_assim(self) -> FloatArray:
        """Maximum DOC assimilation rate v_max,assim = 1/τ_assim [yr⁻¹]."""
        return 1.0 / self.tau_assim

    @property
    def v_decom(self) -> FloatArray:
        """Maximum mSOC decomposition rate v_max,decom = 1/τ_decom [yr⁻¹]."""
        return 1.0 / self.tau_decom

    @property
    def k_mic(self) -> FloatArray:
        """Microbial mortality rate 1/τ_MIC [yr⁻¹]."""
        return 1.0 / self.tau_mic

    @property
    def k_enz_prod(self) -> FloatArray:
        """Enzyme production rate 1/τ_ENZ,prod [yr⁻¹]."""
        return 1.0 / self.tau_enz_prod

    @property
    def k_enz(self) -> FloatArray:
        """Enzyme decay rate 1/τ_ENZ,decay [yr⁻¹]."""
        return 1.0 / self.tau_enz_decay


def _lay(p: ArrayLike) -> FloatArray:
    """Batch-shaped parameter → broadcastable against ``(..., n_layers)``."""
    return np.asarray(p, dtype=float)[..., None]


# ---------------------------------------------------------------------------------------------
# Pure array functions
# ---------------------------------------------------------------------------------------------


class SoilInputs(NamedTuple):
    """Litter-derived inputs to the soil pools u_S of seed 003 Eq. 9 [g C m⁻³ yr⁻¹], each
    ``(..., n_layers)``."""

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
    """Inputs from litter decomposition to DOC, MIC and mSOC (seed 003 Eq. 9, u_S).

    ``u_S = Σ_L a_S,L·k_L·ξ·x_L`` with the transfer fractions of seed 003 Eq. 8:
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


def soil_steady_state_closed_form(
    inputs: SoilInputs, xi: ArrayLike, params: COMPASParameters
) -> SoilClosedForm:
    """Steady state of DOC, MIC, ENZ and mSOC per layer without mixing (seed 003 Eq. 9).

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
    pools = np.stack([np.broadcast_to(a, shape) for a in (doc, mic, enz, soc)], axis=-2)
    pools = np.where(empty[..., None, :], 0.0, pools)
    pools = np.where((status > LAYER_EMPTY)[..., None, :], np.nan, pools)
    return SoilClosedForm(pools, status)


def soil_tendency(
    soil: ArrayLike, inputs: SoilInputs, xi: ArrayLike, params: COMPASParameters
) -> FloatArray:
    """Local soil tendencies dS/dt of DOC, MIC, ENZ, mSOC without mixing (seed 003 Eqs. 7–8).

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
    """Steady state of the litter pools CWD, L1, L2, L3 with vertical mixing (seed 003 §2.3).

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


# ---------------------------------------------------------------------------------------------
# Model object
# ---------------------------------------------------------------------------------------------


class KmRatio(NamedTuple):
    """Seed 003 Fig. 5: Michaelis constant over substrate concentration per layer."""

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

    Builds from the parameters and the time-mean environment the pieces of seed 003 Eq. 2 for
    COMPAS: the environmental scalar ξ per layer (ξ_T·ξ_W·ξ_O·ξ_D, time mean of the monthly ξ
    when a :class:`~wholesoil.models._environment.Forcing` is given), the litter rates, the
    mixing operator V (bands) and the litter inputs B·I, as CLM5 does (seed 003 §2.3: "COMPAS
    applies the same approach to simulate B, ξ and V").

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
    Mixing is built with CLM5's rule (bioturbation ``diffus``, cryoturbation ``cryo``; seed 003
    Supplementary Table 2 rows 21–22), inputs with the Jackson root profile of parameter ``b``.
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
        """Litter-derived soil inputs (u_S of seed 003 Eq. 9) at the litter state of ``x``."""
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
    ) -> COMPASSteadyState:
        """Steady state of all 8 pools.

        Litter by the linear solve of :func:`litter_steady_state`; soil pools by the closed
        form of seed 003 Eq. 9 (immobile soil pools, the paper's assumption) or, with
        ``mixing=True``, by Newton's method (with pseudo-transient continuation, see
        :func:`soil_steady_state_mixed`) on the block-tridiagonal Jacobian started from
        the closed form (:func:`soil_steady_state_mixed`), the soil pools in ``mixed_pools``
        being mixed by the same V as the litter.

        Entries with no positive steady state get ``valid = False``, a reason and NaN pools.
        With ``mixing=True`` only entries whose closed form exists are iterated; the others
        keep the closed form's reason.
        """
        litter = self.litter_steady_state()
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
        """dX/dt of seed 003 Eq. 2 for COMPAS at state ``x`` ``(..., 8, n_layers)``.

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
        """Seed 003 Fig. 5 diagnostic: Michaelis constant / substrate per layer.

        ``K_m,assim / DOC`` and ``K_m,decom / mSOC`` (default, the paper's Fig. 5: the
        constants as calibrated against the substrate concentrations), or, with
        ``scaled=True``, ``K_m·ξ / substrate`` (the effective half-saturation constant of the
        rate law of seed 003 Eq. 7). Ratios ≫ 1 (the paper: > 100 for most profiles) mean the
        kinetics are first order in the substrate. ``x`` defaults to the closed-form steady
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


_LAYER_NEWTON = 6
_LAYER_REASONS[_LAYER_NEWTON] = (
    "Newton iteration with soil mixing did not converge from the closed form"
)


def _litter_inputs(grid: VerticalGrid, params: COMPASParameters, env: Any) -> FloatArray:
    """B·I for COMPAS (..., 4, n_layers) [g C m⁻³ yr⁻¹], allocated exactly as CLM5 does
    (:func:`~wholesoil.models._allocation.litter_inputs` with COMPAS's own ``b``), seed 003
    §2.3: "COMPAS applies the same approach to simulate carbon input allocation (B)".
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
