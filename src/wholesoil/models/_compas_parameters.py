"""COMPAS parameters: the 23 rows of Supplementary Table 2 of Tao et al. and the validated set.

Tao, F., Houlton, B. Z., Huang, Y., et al. Convergence in simulating global soil organic carbon
by structurally different models after data assimilation. EarthArXiv preprint.

:data:`COMPAS_PARAMETERS` holds the table as :class:`~wholesoil.models.Parameter` records
(defaults, units, prior ranges, the model's domain); :class:`COMPASParameters` is a validated,
broadcastable parameter set. The model's equations are in :mod:`wholesoil.models._compas`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError
from wholesoil.models._parameters import Parameter, named, open_ends, prior_scale

__all__ = [
    "COMPAS_EFOLDING",
    "COMPAS_PARAMETERS",
    "LITTER_POOLS",
    "POOLS",
    "SOIL_POOLS",
    "COMPASParameterInfo",
    "COMPASParameters",
]


FloatArray = NDArray[np.float64]


#: Pools of one layer, in the order of Tao et al. (EarthArXiv) Eq. 6 (pool-major state ``(..., 8,
#: n_layers)``).
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


_T2 = (
    "Tao et al., Convergence in simulating global soil organic carbon by structurally different "
    "models after data assimilation (EarthArXiv preprint), Supplementary Table 2"
)


def _info(number: int, symbol: str, term: str, description: str, default: float, unit: str,
          prior: tuple[float, float], domain: str, proda: str, note: str = "") -> Parameter:
    """One row of Supplementary Table 2 of Tao et al. (:data:`_T2`) as a prior record.

    ``number`` is the table row, ``term`` the matrix term of the paper's Eq. 2 it builds (A, K, ξ,
    V, B), ``default`` the global mean after site-level calibration (the paper's §2.5), ``prior``
    the range of the profile-level calibration, ``domain`` the values the model accepts
    (:func:`~wholesoil.models._parameters.open_ends`), ``proda`` the variable and unit-interval
    index in the published PRODA code, ``note`` corrections of the table and other decisions.
    """
    o_lo, o_hi = open_ends(domain, *prior)
    return Parameter("", unit, prior[0], prior[1], scale=prior_scale(*prior), default=default,
                     source=_T2, description=description, symbol=symbol,
                     closed=(not o_lo, not o_hi), bounds="prior", domain=domain, term=term,
                     code=proda, number=number, note=note)


#: The 23 COMPAS parameters of Tao et al. (EarthArXiv) Supplementary Table 2 (defaults, units, prior
#: ranges), in the table's order, keyed by the attribute names of :class:`COMPASParameters`. Source:
#: Tao et al. (EarthArXiv) Supplementary Table 2; prior ranges checked against the published PRODA
#: code (``phxtao/PRODA_MIC``, ``SRC_DA/src_cesm2_clm5_mic_vr_v22/matrix_fun.m``), which settles the
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
#: Parameter names by domain, for the stacked checks of :func:`_valid_batch`.
_BY_DOMAIN: dict[str, tuple[str, ...]] = {
    d: tuple(n for n, info in COMPAS_PARAMETERS.items() if info.domain == d)
    for d in _DOMAIN_TEXT
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
    def _from_batch(cls, values: dict[str, ArrayLike]) -> COMPASParameters:
        """Parameters from a sampler's batch: all 23 fields, each a float or an array (R,).

        When :func:`_valid_batch` passes, the instance is built without the field-by-field
        checks (the same rules, one stacked comparison per domain); otherwise the full
        constructor runs and raises.
        """
        if set(values) != set(COMPAS_PARAMETERS):
            return cls(**values)  # type: ignore[arg-type]
        arrays = {n: np.asarray(v, dtype=float) for n, v in values.items()}
        if len({a.shape for a in arrays.values()} - {()}) > 1 or not _valid_batch(arrays):
            return cls(**arrays)
        obj = cls.__new__(cls)
        for name, a in arrays.items():
            object.__setattr__(obj, name, a)
        return obj

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

    # Rates of Tao et al. (EarthArXiv) Eqs. 7–8 [yr⁻¹], batch-shaped (add the layer axis with [...,
    # None]).
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


def _valid_batch(arrays: dict[str, NDArray]) -> bool:
    """Whether :class:`COMPASParameters` would accept these arrays (all 23 given, scalars or one
    shape): its domain rules, one stacked comparison per domain (no error messages)."""
    with np.errstate(invalid="ignore"):
        for domain, names in _BY_DOMAIN.items():
            v = np.concatenate([arrays[n].ravel() for n in names])
            if not (np.all(np.isfinite(v)) and np.all(_DOMAIN_TEXT[domain][1](v))):
                return False
    return True


def _lay(p: ArrayLike) -> FloatArray:
    """Batch-shaped parameter → broadcastable against ``(..., n_layers)``."""
    return np.asarray(p, dtype=float)[..., None]
