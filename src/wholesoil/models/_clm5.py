"""CLM5's vertically resolved soil carbon model in matrix form, with fast batched steady states.

Tao et al. (EarthArXiv) Eq. 2 (Tao et al., §2.2; Huang et al. 2018; Lu et al. 2020)::

    dX/dt = B·I(t) + A·ξ(t)·K·X(t) − V(t)·X(t)                                   (Eq. 2)

with X the 7 pools × 20 layers stacked pool-major (Eq. 3: CWD, L1 metabolic, L2 cellulose,
L3 lignin litter, S1 active, S2 slow, S3 passive SOC), K the baseline rates 1/τ (Eq. 4), A the
transfer fractions a_ij (receiver i, donor j) with −1 on the diagonal (Eq. 5), ξ the
environmental scalars per layer, V the vertical-mixing operator (V ≥ 0 on its diagonal in this
sign convention; CWD is not mixed) and B·I the inputs allocated to pools and layers. The steady
state is X* = (V − A·ξ̄·K)⁻¹·B·Ī with the time means of ξ, V and I (Tao et al. (EarthArXiv) §2.2).

The steady state is solved by the operator's structure, not a dense 140 × 140 solve: CWD is
diagonal (no mixing, no donors); each litter pool is tridiagonal in depth with a CWD source; the
three SOC pools are coupled within each layer and mixed across layers, a block-tridiagonal system
of 20 blocks of 3 × 3 solved by block Thomas (:mod:`wholesoil.models._blocksolve`), with the
3 × 3 inverses written out over the whole batch. The same sweep with a diagonal shift solves
(M − λI)·x = b for radiocarbon (λ = ln 2/5730 yr⁻¹), mean ages and implicit time steps
(:meth:`CLM5.solve`). The dense solve stays as the reference (:meth:`CLM5.steady_state_dense`).

Everything is batched over a leading shape ``...`` (sites × parameter sets): the parameters'
batch shape and the environment's broadcast numpy-style.

References
----------
Tao, F. et al. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation (Tao et al. (EarthArXiv)), §2.2, Eqs. 2–5, Supplementary Table 1.

Lawrence, D. M. et al. (2019). The Community Land Model version 5. J. Adv. Model. Earth Syst. 11,
4245–4287. https://doi.org/10.1029/2018MS001583 (CTSM ``SoilBiogeochemDecompCascadeBGCMod.F90``).

Huang, Y. et al. (2018). Matrix approach to land carbon cycle modeling: a case study with the
Community Land Model. Glob. Change Biol. 24, 1394–1404. https://doi.org/10.1111/gcb.13948

Koven, C. D. et al. (2013). The effect of vertically resolved soil biogeochemistry and alternate
soil C and N models on C dynamics of CLM4. Biogeosciences 10, 7109–7131.
https://doi.org/10.5194/bg-10-7109-2013

Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError
from wholesoil.models._allocation import (
    CLM5_LITTER_FRACTIONS,
    DEFAULT_CWD_FRACTION,
    SURFPROF_EXP,
    litter_inputs,
)
from wholesoil.models._blocksolve import block_thomas_batch_last
from wholesoil.models._environment import LEAF_FRACTION
from wholesoil.models._parameters import Parameter, open_ends, prior_scale
from wholesoil.models._vertical import VerticalGrid, clm5_grid

__all__ = [
    "CLM5",
    "CLM5_DEFAULTS",
    "CLM5_LITTER_FRACTIONS",
    "CLM5_POOLS",
    "CLM5_PRODA_PARAMETERS",
    "CLM5Parameters",
    "ParameterInfo",
    "TimeScheme",
    "sand_dependent_transfers",
]

#: Pools in the order of Tao et al. (EarthArXiv) Eq. 3.
CLM5_POOLS: tuple[str, ...] = ("CWD", "L1", "L2", "L3", "S1", "S2", "S3")
N_POOLS = 7
_CWD, _LIT, _SOM = 0, slice(1, 4), slice(4, 7)

TimeScheme = Literal["explicit", "implicit"]


#: The parameter record of this module (one record for every model: :class:`Parameter`).
ParameterInfo = Parameter

#: What CLM5 (:class:`CLM5Parameters`) accepts for the parameters whose prior touches a
#: forbidden value: ``"positive"`` (> 0) or ``"open_unit"`` ((0, 1)). Source: the checks of
#: ``CLM5Parameters.__post_init__`` (turnover times, q10 and efolding > 0; b in (0, 1)); the
#: others (fractions in [0, 1], w_scaling/cryo/diffus ≥ 0) accept their closed prior ranges.
CLM5_DOMAINS: dict[str, str] = {
    "tau4s2": "positive",
    "tau4s3": "positive",
    "tau4s1": "positive",
    "tau4l1": "positive",
    "tau4cwd": "positive",
    "tau4l2": "positive",
    "q10": "positive",
    "efolding": "positive",
    "b": "open_unit",
}


def _info(name: str, term: str, description: str, default: float | None, unit: str,
          prior: tuple[float, float], source: str) -> Parameter:
    """A prior record: ends open where :data:`CLM5_DOMAINS` forbids them, log scale if wide."""
    domain = CLM5_DOMAINS.get(name, "")
    o_lo, o_hi = open_ends(domain, *prior)
    return Parameter(name, unit, prior[0], prior[1], scale=prior_scale(*prior), default=default,
                     source=source, description=description, term=term,
                     closed=(not o_lo, not o_hi), bounds="prior", domain=domain)


_T1 = "Tao et al. (EarthArXiv) Supplementary Table 1"
_CTSM = "CTSM SoilBiogeochemDecompCascadeBGCMod.F90 (CLM5 default)"

#: The 21 parameters PRODA calibrates for CLM5, in the order of Tao et al. (EarthArXiv)
#: Supplementary Table 1. Defaults are CLM5's as coded (the spec: CTSM before the 0.8206 CENTURY
#: normalization). Recorded decisions where the table and the code differ:
#:
#: * ``fl2cwd``: the table lists 0.786; CTSM's ``cwd_fcel`` is 0.76 (and ``cwd_flig`` 0.24, no
#:   respiration from CWD). We use 0.76 and route the rest, ``1 − fl2cwd``, to lignin litter, as
#:   PRODA's ``matrix_fun.m`` does.
#: * ``fs2s1`` and ``fs3s1`` are "sand dependent" (None here): 1 − t − 0.004 and 0.004 with
#:   t = 0.85 − 0.0068·(100 − sand %) (:func:`sand_dependent_transfers`).
#: * ``efolding``: default 10 m (CLM5) lies outside PRODA's prior [0, 1] m; both are kept.
#: * ``b``: "PFT dependent"; the default 0.966 is CLM5's ``rootprof_beta`` for temperate
#:   broadleaf trees (Jackson et al. 1996, temperate deciduous forest). Pass the PFT's value.
CLM5_PRODA_PARAMETERS: dict[str, ParameterInfo] = {
    p.name: p
    for p in (
        _info("fs3s1", "A", "transfer fraction, active (fast) SOC to passive SOC",
              None, "-", (0.0, 0.05), f"{_T1}; sand dependent in {_CTSM}"),
        _info("fs3s2", "A", "transfer fraction, slow SOC to passive SOC",
              0.03, "-", (0.0, 0.1), _T1),
        _info("fs2s1", "A", "transfer fraction, active (fast) SOC to slow SOC",
              None, "-", (0.0, 0.4), f"{_T1}; sand dependent in {_CTSM}"),
        _info("fs2l3", "A", "transfer fraction, lignin litter to slow SOC",
              0.5, "-", (0.2, 0.8), _T1),
        _info("fs1l2", "A", "transfer fraction, cellulose litter to active SOC",
              0.5, "-", (0.2, 0.8), _T1),
        _info("fs1l1", "A", "transfer fraction, metabolic litter to active SOC",
              0.45, "-", (0.1, 0.8), _T1),
        _info("fs1s2", "A", "transfer fraction, slow SOC to active SOC",
              0.42, "-", (0.1, 0.74), _T1),
        _info("fs1s3", "A", "transfer fraction, passive SOC to active SOC",
              0.45, "-", (0.0, 0.9), _T1),
        _info("fl2cwd", "A", "transfer fraction, coarse woody debris to cellulose litter",
              0.76, "-", (0.5, 1.0), f"{_CTSM} cwd_fcel (table: 0.786)"),
        _info("tau4s2", "K", "turnover time of slow SOC",
              5.0, "yr", (1.0, 50.0), _T1),
        _info("tau4s3", "K", "turnover time of passive SOC",
              222.222, "yr", (200.0, 1000.0), _T1),
        _info("tau4s1", "K", "turnover time of active (fast) SOC",
              1 / 7.3, "yr", (0.0, 1.0), f"{_T1} (0.1370 = 1/7.3)"),
        _info("tau4l1", "K", "turnover time of metabolic litter",
              1 / 18.5, "yr", (0.0, 0.11), f"{_T1} (0.0541 = 1/18.5)"),
        _info("tau4cwd", "K", "turnover time of coarse woody debris",
              3.33, "yr", (1.0, 6.0), _T1),
        _info("tau4l2", "K", "turnover time of cellulose and lignin litter",
              1 / 4.9, "yr", (0.1, 0.3), f"{_T1} (0.2041 = 1/4.9)"),
        _info("w_scaling", "xi", "scaling factor of the soil water scalar",
              1.0, "-", (0.0, 5.0), f"{_T1} (w-scaling)"),
        _info("q10", "xi", "temperature sensitivity of decomposition",
              1.5, "-", (1.2, 3.0), _T1),
        _info("efolding", "xi", "e-folding depth of the depth scalar",
              10.0, "m", (0.0, 1.0), f"{_T1}; CLM5 default 10 m outside the prior"),
        _info("cryo", "V", "cryoturbation diffusivity",
              5e-4, "m2 yr-1", (3e-5, 1.6e-3), _T1),
        _info("diffus", "V", "bioturbation diffusivity",
              1e-4, "m2 yr-1", (3e-5, 5e-4), _T1),
        _info("b", "B", "Jackson root-profile parameter β for litter input allocation",
              0.966, "-", (0.5, 1.0),
              f"{_T1} (PFT dependent); CLM5 rootprof_beta, temperate broadleaf trees"),
    )
}

#: Defaults by name (None = sand dependent, resolved from the environment's sand %).
CLM5_DEFAULTS: dict[str, float | None] = {k: v.default for k, v in CLM5_PRODA_PARAMETERS.items()}


#: Share of the inputs that arrive from leaves and stems (surface profile) rather than from roots
#: (Jackson profile) when the environment object does not carry one: the default of
#: :class:`~wholesoil.models._environment.Environment` (``LEAF_FRACTION``, documented there).
DEFAULT_LEAF_FRACTION: float = LEAF_FRACTION

_TURNOVER = ("tau4cwd", "tau4l1", "tau4l2", "tau4s1", "tau4s2", "tau4s3")
_FRACTIONS = ("fs3s1", "fs3s2", "fs2s1", "fs2l3", "fs1l2", "fs1l1", "fs1s2", "fs1s3", "fl2cwd")


def sand_dependent_transfers(sand: ArrayLike) -> tuple[NDArray, NDArray]:
    """CLM5's sand-dependent transfers out of active SOC: ``(fs2s1, fs3s1)``.

    ``t = 0.85 − 0.0068·(100 − sand)`` is the respired fraction (CTSM ``rf_s1s2``);
    ``fs2s1 = 1 − t − 0.004`` and ``fs3s1 = 0.004`` (CTSM: ``f_s1s3 = 0.004/(1 − t)`` of the
    non-respired flux), spec ``process-models.md``.

    Parameters
    ----------
    sand : array (...) [%]
        Sand content (CLM5 ``CELLSAND``), 0–100.
    """
    s = np.asarray(sand, dtype=float)
    if np.any(~((s >= 0) & (s <= 100))):
        bad = s[~((s >= 0) & (s <= 100))].flat[0] if s.ndim else float(s)
        raise InputDataError("sand must be in [0, 100] (%)", field="sand", value=float(bad))
    t = 0.85 - 0.0068 * (100.0 - s)
    return 1.0 - t - 0.004, np.full_like(t, 0.004)


def _field_array(name: str, value: Any) -> NDArray | None:
    if value is None:
        return None
    a = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(a)):
        bad = a[~np.isfinite(a)].flat[0]
        raise InputDataError(f"{name} must be finite", field=name, value=float(bad))
    return a


def _first_bad(a: NDArray, bad: NDArray) -> float:
    return float(a[bad].flat[0]) if a.ndim else float(a)


@dataclass(frozen=True)
class CLM5Parameters:
    """The 21 PRODA parameters of CLM5 (Tao et al. (EarthArXiv) Supplementary Table 1), batched and
    validated.

    Every field is a float or an array with a batch shape (parameter sets, or sites × parameter
    sets); the shapes must broadcast. ``fs2s1``/``fs3s1`` may be None (CLM5's sand-dependent
    defaults, resolved by :class:`CLM5` from the environment's sand %). Units, priors and sources
    are in :data:`CLM5_PRODA_PARAMETERS`.

    Raises
    ------
    InputDataError
        Naming the parameter, the expectation and the value, for: non-finite values, turnover
        times ≤ 0, transfer fractions outside [0, 1], fractions out of one donor summing above 1
        (S1: fs2s1 + fs3s1; S2: fs1s2 + fs3s2), a closed SOC cycle with no respiration (no finite
        steady state), q10 ≤ 0, efolding ≤ 0, w_scaling, cryo or diffus < 0, b outside (0, 1).
    """

    fs3s1: ArrayLike | None = None
    fs3s2: ArrayLike = 0.03
    fs2s1: ArrayLike | None = None
    fs2l3: ArrayLike = 0.5
    fs1l2: ArrayLike = 0.5
    fs1l1: ArrayLike = 0.45
    fs1s2: ArrayLike = 0.42
    fs1s3: ArrayLike = 0.45
    fl2cwd: ArrayLike = 0.76
    tau4s2: ArrayLike = 5.0
    tau4s3: ArrayLike = 222.222
    tau4s1: ArrayLike = 1 / 7.3
    tau4l1: ArrayLike = 1 / 18.5
    tau4cwd: ArrayLike = 3.33
    tau4l2: ArrayLike = 1 / 4.9
    w_scaling: ArrayLike = 1.0
    q10: ArrayLike = 1.5
    efolding: ArrayLike = 10.0
    cryo: ArrayLike = 5e-4
    diffus: ArrayLike = 1e-4
    b: ArrayLike = 0.966

    def __post_init__(self) -> None:
        if (self.fs2s1 is None) != (self.fs3s1 is None):
            raise InputDataError(
                "fs2s1 and fs3s1 must both be given or both be None (sand dependent)",
                field="fs2s1" if self.fs2s1 is None else "fs3s1",
            )
        for f in fields(self):
            object.__setattr__(self, f.name, _field_array(f.name, getattr(self, f.name)))
        try:
            np.broadcast_shapes(*(a.shape for a in self._arrays().values()))
        except ValueError as exc:
            shapes = {k: a.shape for k, a in self._arrays().items() if a.ndim}
            raise InputDataError(f"parameter shapes do not broadcast: {shapes}") from exc
        for name in _TURNOVER:
            a = getattr(self, name)
            if np.any(~(a > 0)):
                raise InputDataError(
                    f"{name} must be > 0 (turnover time, years)", field=name,
                    value=_first_bad(a, ~(a > 0)),
                )
        for name in _FRACTIONS:
            a = getattr(self, name)
            if a is None:
                continue
            bad = ~((a >= 0) & (a <= 1))
            if np.any(bad):
                raise InputDataError(
                    f"{name} must be in [0, 1] (transfer fraction, unitless)", field=name,
                    value=_first_bad(a, bad),
                )
        for donor, (f1, f2) in {"S1 (active SOC)": ("fs2s1", "fs3s1"),
                                "S2 (slow SOC)": ("fs1s2", "fs3s2")}.items():
            a1, a2 = getattr(self, f1), getattr(self, f2)
            if a1 is None:
                continue
            s = a1 + a2
            if np.any(s > 1):
                raise InputDataError(
                    f"transfer fractions out of donor {donor} must sum to <= 1: {f1} + {f2}",
                    field=f"{f1}+{f2}", value=_first_bad(s, s > 1),
                )
        for name, ok, what in (
            ("q10", lambda a: a > 0, "> 0 (temperature sensitivity, unitless)"),
            ("efolding", lambda a: a > 0, "> 0 (e-folding depth, m)"),
            ("w_scaling", lambda a: a >= 0, ">= 0 (water scalar scaling, unitless)"),
            ("cryo", lambda a: a >= 0, ">= 0 (cryoturbation diffusivity, m2 yr-1)"),
            ("diffus", lambda a: a >= 0, ">= 0 (bioturbation diffusivity, m2 yr-1)"),
            ("b", lambda a: (a > 0) & (a < 1), "in (0, 1) (Jackson root-profile β, unitless)"),
        ):
            a = getattr(self, name)
            bad = ~ok(a)
            if np.any(bad):
                raise InputDataError(f"{name} must be {what}", field=name, value=_first_bad(a, bad))
        if self.fs2s1 is not None:
            _check_soil_cycle(self.fs2s1, self.fs3s1, self.fs1s2, self.fs3s2, self.fs1s3)

    def _arrays(self) -> dict[str, NDArray]:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None}

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Broadcast shape of all parameters."""
        return np.broadcast_shapes(*(a.shape for a in self._arrays().values()))

    @classmethod
    def _from_batch(cls, values: dict[str, NDArray]) -> CLM5Parameters:
        """Parameters from same-shape float arrays of all 21 fields (a sampler's batch).

        When :func:`_valid_batch` passes, the instance is built without the field-by-field
        checks (the same rules, stacked); otherwise the full constructor runs and raises.
        """
        if set(values) != {f.name for f in fields(cls)} or not _valid_batch(values):
            return cls.from_dict(values)
        obj = cls.__new__(cls)
        for name, a in values.items():
            object.__setattr__(obj, name, np.asarray(a, dtype=float))
        return obj

    @classmethod
    def from_dict(cls, values: dict[str, ArrayLike]) -> CLM5Parameters:
        """Build from a mapping name → value; unknown names raise, missing ones take defaults.

        ``"w-scaling"`` (the table's spelling) is accepted for ``w_scaling``.
        """
        known = {f.name for f in fields(cls)}
        vals = {("w_scaling" if k == "w-scaling" else k): v for k, v in values.items()}
        unknown = sorted(set(vals) - known)
        if unknown:
            raise InputDataError(
                f"unknown CLM5 parameter(s) {unknown}; expected names of Tao et al. (EarthArXiv) "
                f"Supplementary Table 1: {sorted(known)}", field=unknown[0],
            )
        return cls(**vals)


def _valid_batch(values: dict[str, NDArray]) -> bool:
    """Whether :class:`CLM5Parameters` would accept these arrays (all fields given): the same
    rules as its checks, evaluated with a few stacked comparisons (no error messages)."""
    v = values
    with np.errstate(invalid="ignore"):
        pos = np.stack([v[n] for n in (*_TURNOVER, "q10", "efolding")])
        nonneg = np.stack([v["w_scaling"], v["cryo"], v["diffus"]])
        frac = np.stack([v[n] for n in _FRACTIONS])
        det = 1.0 - v["fs1s2"] * v["fs2s1"] - v["fs1s3"] * (v["fs3s1"] + v["fs2s1"] * v["fs3s2"])
        return bool(np.all(pos > 0) and np.all(nonneg >= 0) and np.all(frac >= 0)
                    and np.all(frac <= 1) and np.all((v["b"] > 0) & (v["b"] < 1))
                    and np.all(v["fs2s1"] + v["fs3s1"] <= 1)
                    and np.all(v["fs1s2"] + v["fs3s2"] <= 1) and np.all(det > 1e-12)
                    and np.all(np.isfinite(pos)) and np.all(np.isfinite(nonneg)))


def _check_soil_cycle(fs2s1, fs3s1, fs1s2, fs3s2, fs1s3) -> None:
    """det(I − F) of the SOC transfer fractions must be > 0, else no carbon ever leaves SOC."""
    # F = [[0, fs1s2, fs1s3], [fs2s1, 0, 0], [fs3s1, fs3s2, 0]] (receiver, donor)
    det = 1.0 - fs1s2 * fs2s1 - fs1s3 * (fs3s1 + fs2s1 * fs3s2)
    if np.any(det <= 1e-12):
        raise InputDataError(
            "SOC transfer fractions form a closed loop with no respiration (det(I − F) = 0; "
            "no finite steady state): fs2s1, fs3s1, fs1s2, fs3s2, fs1s3",
            field="fs1s3", value=_first_bad(det, det <= 1e-12),
        )


def _env_array(env: Any, name: str, n_layers: int | None, *, required: bool = True,
               lo: float | None = None) -> NDArray | None:
    v = getattr(env, name, None)
    if v is None:
        if required:
            raise InputDataError(f"environment has no {name}", field=name)
        return None
    a = np.asarray(v, dtype=float)
    if n_layers is not None and (a.ndim == 0 or a.shape[-1] != n_layers):
        raise InputDataError(
            f"{name} must have {n_layers} layers on its last axis", field=name, value=a.shape
        )
    if name not in ("altmax", "altmax_lastyear") and np.any(np.isnan(a)):
        raise InputDataError(f"{name} contains NaN", field=name, value=float("nan"))
    if lo is not None and np.any(a < lo):
        raise InputDataError(f"{name} must be >= {lo}", field=name, value=_first_bad(a, a < lo))
    return a


class CLM5:
    """CLM5 soil carbon (7 pools × 20 layers) as the matrix equation of Tao et al. (EarthArXiv)
    Eq. 2.

    Parameters
    ----------
    params : CLM5Parameters or dict
        The 21 PRODA parameters (batch shape P); a dict is passed to
        :meth:`CLM5Parameters.from_dict`.
    environment : Environment or Forcing
        Time-mean environment (``tsoi``/``soilpsi`` (..., 20), ``npp`` (...)) or monthly forcing
        (``tsoi``/``soilpsi`` (..., n_months, 20), ``npp`` (..., n_months)); also ``sand`` [%],
        ``altmax``, ``altmax_lastyear`` [m] (NaN = no permafrost), ``nbedrock``, optional
        ``o_scalar``, ``fpi_vr``, ``leaf_fraction``, ``cwd_fraction``. With a Forcing, ξ is the
        time mean of the monthly ξ (not ξ of the mean forcing) and the inputs use the mean NPP.
    grid : VerticalGrid, optional
        Defaults to :func:`~wholesoil.models._vertical.clm5_grid`.
    normalize_century : bool, default False
        Multiply ξ_T by CTSM's ``normalize_q10_to_century_tfunc`` factor (PRODA: off).
    nitrogen : bool, default False
        Multiply the litter pools' rates by ``fpi_vr`` (ξ_N).

    Attributes
    ----------
    batch_shape : tuple
        Broadcast of the parameters' and the environment's batch shapes.
    k : array (..., 7) [yr⁻¹]
        Baseline rates 1/τ (Eq. 4); L2 and L3 share ``tau4l2``.
    xi : array (..., 20) [-]
        ξ = ξ_T·ξ_W·ξ_O·ξ_D per layer (time mean).
    xi_n : array (..., 20) or None
        ξ_N applied to L1–L3 when ``nitrogen``.
    transfer : array (..., 7, 7) [-]
        Off-diagonal entries a_ij of A (receiver i, donor j); A = transfer − I (Eq. 5).
    v_bands : (lower, diag, upper), arrays (..., 20) [yr⁻¹]
        Tridiagonal V applied to every pool but CWD (band convention of ``_blocksolve``).
    inputs : array (..., 7, 20) [g C m⁻³ yr⁻¹]
        B·I; ``Σ_j inputs[..., :, j]·dz_j`` summed over pools is the NPP [g C m⁻² yr⁻¹].
    grid : VerticalGrid
    """

    def __init__(
        self,
        params: CLM5Parameters | dict[str, ArrayLike],
        environment: Any,
        grid: VerticalGrid | None = None,
        *,
        normalize_century: bool = False,
        nitrogen: bool = False,
    ) -> None:
        from wholesoil.models._scalars import decomposition_scalar
        from wholesoil.models._transport import diffusivity, mixing_operator

        if isinstance(params, dict):
            params = CLM5Parameters.from_dict(params)
        grid = clm5_grid() if grid is None else grid
        n = grid.n_layers
        env = environment
        tsoi = _env_array(env, "tsoi", n)
        monthly = tsoi.ndim >= 2 and hasattr(env, "time_mean")
        soilpsi = _env_array(env, "soilpsi", n)
        if soilpsi.shape[-2:] != tsoi.shape[-2:] and monthly:
            raise InputDataError("soilpsi must have the months axis of tsoi", field="soilpsi",
                                 value=soilpsi.shape)
        o_scalar = _env_array(env, "o_scalar", n, required=False)
        # Everything but ξ from the time mean (ALT as the record's maximum; Forcing.time_mean).
        static = env.time_mean() if monthly else env
        npp = _env_array(static, "npp", None, lo=0.0)
        sand = _env_array(static, "sand", None)
        altmax = _env_array(static, "altmax", None)
        alt_last = _env_array(static, "altmax_lastyear", None)
        nbedrock = np.asarray(getattr(static, "nbedrock", n))
        fpi = _env_array(static, "fpi_vr", n, required=False)
        leaf = _env_array(static, "leaf_fraction", None, required=False)
        cwd = _env_array(static, "cwd_fraction", None, required=False)
        leaf = np.asarray(DEFAULT_LEAF_FRACTION if leaf is None else leaf)
        cwd = np.asarray(DEFAULT_CWD_FRACTION if cwd is None else cwd)

        p = params
        if p.fs2s1 is None:
            fs2s1, fs3s1 = sand_dependent_transfers(sand)
            _check_soil_cycle(fs2s1, fs3s1, p.fs1s2, p.fs3s2, p.fs1s3)
        else:
            fs2s1, fs3s1 = p.fs2s1, p.fs3s1
        xi = decomposition_scalar(
            tsoi, soilpsi, grid.z_node, q10=p.q10, w_scaling=p.w_scaling, efolding=p.efolding,
            o_scalar=o_scalar, normalize_century=normalize_century, month_axis=monthly,
        )
        xi_n = None
        if nitrogen:
            xi_n = np.ones(n) if fpi is None else fpi
        D = diffusivity(grid, altmax, alt_last, nbedrock, bioturbation=p.diffus,
                        cryoturbation=p.cryo)
        v_bands = mixing_operator(grid, D)
        litter = litter_inputs(grid, p.b, npp, altmax, alt_last, nbedrock,
                               leaf_fraction=leaf, cwd_fraction=cwd)  # (..., 4, n)
        soil = np.zeros((*litter.shape[:-2], 3, n))
        inputs = np.concatenate([litter, soil], axis=-2)  # SOC pools get no direct input
        k = np.stack(np.broadcast_arrays(*(1.0 / np.asarray(getattr(p, t)) for t in
                     ("tau4cwd", "tau4l1", "tau4l2", "tau4l2", "tau4s1", "tau4s2", "tau4s3"))),
                     axis=-1)
        transfer = _transfer_matrix(p.fl2cwd, p.fs1l1, p.fs1l2, p.fs2l3, fs2s1, fs3s1,
                                    p.fs1s2, p.fs3s2, p.fs1s3)
        self._setup(k, transfer, xi, v_bands, inputs, grid, xi_n=xi_n)
        self.params = p
        self.environment = environment

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_arrays(
        cls,
        k: ArrayLike,
        transfer: ArrayLike,
        xi: ArrayLike,
        v_bands: tuple[ArrayLike, ArrayLike, ArrayLike],
        inputs: ArrayLike,
        grid: VerticalGrid | None = None,
        *,
        xi_n: ArrayLike | None = None,
    ) -> CLM5:
        """Build the model from its matrix pieces directly (tests, benchmarks, other callers).

        Parameters
        ----------
        k : array (..., 7) [yr⁻¹]
            Baseline rates, > 0.
        transfer : array (..., 7, 7) [-]
            a_ij (receiver i, donor j) on CLM5's pathways only (CWD→L2, L3; L1, L2→S1; L3→S2;
            S1→S2, S3; S2→S1, S3; S3→S1); other entries must be 0; columns sum to ≤ 1.
        xi : array (..., 20) [-], ≥ 0
        v_bands : (lower, diag, upper) arrays (..., 20) [yr⁻¹]
        inputs : array (..., 7, 20) [g C m⁻³ yr⁻¹], ≥ 0
        xi_n : array (..., 20), optional
            ξ_N for the litter pools.
        """
        grid = clm5_grid() if grid is None else grid
        k = np.asarray(k, dtype=float)
        if np.any(~(k > 0)):
            raise InputDataError("baseline rates k must be > 0 [yr-1]", field="k",
                                 value=_first_bad(k, ~(k > 0)))
        t = np.asarray(transfer, dtype=float)
        if t.shape[-2:] != (N_POOLS, N_POOLS):
            raise InputDataError("transfer must end in (7, 7)", field="transfer", value=t.shape)
        allowed = _transfer_matrix(*(0.5,) * 9) > 0
        if np.any(t[..., ~allowed] != 0) or np.any(~((t >= 0) & (t <= 1))):
            raise InputDataError("transfer fractions must be in [0, 1] and on CLM5's pathways",
                                 field="transfer")
        colsum = t.sum(axis=-2)
        if np.any(colsum > 1 + 1e-12):
            raise InputDataError("transfer fractions out of one donor must sum to <= 1",
                                 field="transfer", value=float(colsum.max()))
        obj = cls.__new__(cls)
        obj._setup(k, t, np.asarray(xi, dtype=float), tuple(np.asarray(b, dtype=float)
                   for b in v_bands), np.asarray(inputs, dtype=float), grid,
                   xi_n=None if xi_n is None else np.asarray(xi_n, dtype=float))
        obj.params = None
        obj.environment = None
        return obj

    def _setup(self, k, transfer, xi, v_bands, inputs, grid, *, xi_n=None) -> None:
        n = grid.n_layers
        for name, a, tail in (("xi", xi, (n,)), ("inputs", inputs, (N_POOLS, n))):
            if a.shape[a.ndim - len(tail):] != tail:
                raise InputDataError(f"{name} must end in shape {tail}", field=name,
                                     value=a.shape)
            if not np.all(np.isfinite(a)) or np.any(a < 0):
                raise InputDataError(f"{name} must be finite and >= 0", field=name)
        for b in v_bands:
            if b.shape[-1:] != (n,) or not np.all(np.isfinite(b)):
                raise InputDataError(f"V bands must be finite with {n} layers", field="v_bands",
                                     value=b.shape)
        if np.any(inputs[..., 4:, :] != 0):
            raise InputDataError("CLM5 inputs enter CWD and litter only (B·I of S1–S3 is 0)",
                                 field="inputs")
        self.grid = grid
        self.k = k
        self.transfer = transfer
        self.xi = xi
        self.xi_n = xi_n
        self.v_bands = v_bands
        self.inputs = inputs
        shapes = [k.shape[:-1], transfer.shape[:-2], xi.shape[:-1], inputs.shape[:-2],
                  *(b.shape[:-1] for b in v_bands)]
        if xi_n is not None:
            shapes.append(xi_n.shape[:-1])
        try:
            self.batch_shape = np.broadcast_shapes(*shapes)
        except ValueError as exc:
            raise InputDataError(f"batch shapes of the model pieces do not broadcast: {shapes}"
                                 ) from exc
        self._op: _Operator | None = None
        self._inputs_bl: NDArray | None = None
        self._rates_cache: NDArray | None = None

    @property
    def _rates(self) -> NDArray[np.float64]:
        if self._rates_cache is None:
            self._rates_cache = self.rates()
        return self._rates_cache

    def _operator(self) -> _Operator:
        """Batch-last form of the time-mean operator, built once and reused by every solve."""
        if self._op is None:
            self._op = _Operator(self.k, self.xi, self.xi_n, self.transfer, self.v_bands,
                                 self.batch_shape)
        return self._op

    # ------------------------------------------------------------------ pieces
    def rates(self, xi: ArrayLike | None = None) -> NDArray[np.float64]:
        """Actual decomposition rates k_p·ξ_j (·ξ_N for litter) (..., 7, 20) [yr⁻¹]."""
        xi = self.xi if xi is None else np.asarray(xi, dtype=float)
        r = self.k[..., :, None] * xi[..., None, :]
        if self.xi_n is not None:
            litter = np.array([False, True, True, True, False, False, False])[:, None]
            r = r * np.where(litter, self.xi_n[..., None, :], 1.0)
        return np.broadcast_to(r, (*self.batch_shape, N_POOLS, self.grid.n_layers))

    def respired_fraction(self) -> NDArray[np.float64]:
        """1 − Σ_i a_ij per donor pool (..., 7)."""
        return 1.0 - self.transfer.sum(axis=-2)

    def matrices(self) -> dict[str, NDArray[np.float64]]:
        """Dense pieces of Eq. 2 on the 140 states, pool-major (Eq. 3), for inspection and tests.

        Returns
        -------
        dict with ``"A"``, ``"K"``, ``"xi"``, ``"V"`` (..., 140, 140) and ``"BI"`` (..., 140);
        ``"M"`` = A·ξ·K − V, so dX/dt = BI + M·X.
        """
        n = self.grid.n_layers
        eye = np.eye(n)
        A = np.einsum("...ij,kl->...ikjl", self.transfer - np.eye(N_POOLS), eye)
        A = A.reshape((*self.transfer.shape[:-2], N_POOLS * n, N_POOLS * n))
        K = _diag_embed(np.broadcast_to(self.k[..., :, None], (*self.k.shape, n)))
        xi_full = self.rates() / self.k[..., :, None]
        Xi = _diag_embed(xi_full)
        lower, diag, upper = self.v_bands
        vb = _dense_tridiag(lower, diag, upper)
        mixed = np.array([0.0, 1, 1, 1, 1, 1, 1])
        V = np.einsum("...jl,ik->...ijkl", vb, np.diag(mixed))
        V = V.reshape((*vb.shape[:-2], N_POOLS * n, N_POOLS * n))
        BI = self.inputs.reshape((*self.inputs.shape[:-2], N_POOLS * n))
        M = A @ Xi @ K - V
        return {"A": A, "K": K, "xi": Xi, "V": V, "BI": BI, "M": M}

    # ------------------------------------------------------------------ solves
    def solve(self, rhs: ArrayLike, *, shift: float | ArrayLike = 0.0,
              rates: ArrayLike | None = None) -> NDArray[np.float64]:
        """Solve ``(M − shift·I)·x = rhs`` by structure, with M = A·ξ·K − V (Eq. 2).

        CWD by division, litter by Thomas, SOC by 3 × 3 block Thomas, in that order (each
        group only receives from the ones before it). ``shift = λ`` gives radiocarbon
        ((M − λI)·x = −B·I·F), ``shift = 1/Δt`` an implicit step; ``−solve(x*)/x*`` are the
        mean pool ages (Metzler & Sierra 2018).

        Parameters
        ----------
        rhs : array (..., 7, 20)
        shift : float or array (...)
        rates : array (..., 7, 20), optional
            Replace the time-mean rates k·ξ (used by the monthly implicit scheme).

        Returns
        -------
        array (..., 7, 20)
        """
        rhs = np.asarray(rhs, dtype=float)
        shift = np.asarray(shift, dtype=float)
        if rates is None:
            op = self._operator()
        else:
            rates = np.asarray(rates, dtype=float)
            op = _Operator.from_rates(rates, self.transfer, self.v_bands, self.batch_shape)
        return op.solve(-rhs, shift)

    def steady_state(self) -> NDArray[np.float64]:
        """Steady state X* = (V − A·ξ·K)⁻¹·B·I by structure (Tao et al. (EarthArXiv) §2.2) (..., 7,
        20).

        [g C m⁻³]. Batch elements with no finite steady state (a layer with ξ = 0 that receives
        carbon) come out non-finite.
        """
        op = self._operator()
        if self._inputs_bl is None:
            self._inputs_bl = op.to_batch_last(self.inputs, (N_POOLS, self.grid.n_layers))
        return op.solve_batch_last(self._inputs_bl, 0.0)

    def steady_state_dense(self) -> NDArray[np.float64]:
        """Reference steady state by a dense 140 × 140 ``numpy.linalg.solve`` (..., 7, 20)."""
        m = self.matrices()
        M = np.broadcast_to(m["M"], (*self.batch_shape, *m["M"].shape[-2:]))
        BI = np.broadcast_to(m["BI"], (*self.batch_shape, m["BI"].shape[-1]))
        x = np.linalg.solve(-M, BI[..., None])[..., 0]
        return x.reshape((*self.batch_shape, N_POOLS, self.grid.n_layers))

    def respiration(self, x: ArrayLike | None = None, *,
                    rates: ArrayLike | None = None) -> NDArray[np.float64]:
        """Heterotrophic respiration by pool and layer (..., 7, 20) [g C m⁻³ yr⁻¹].

        ``(1 − Σ_i a_ij)·k_j·ξ·x_j`` at ``x`` (default: the steady state).
        """
        x = self.steady_state() if x is None else np.asarray(x, dtype=float)
        r = self._rates if rates is None else np.asarray(rates, dtype=float)
        return self.respired_fraction()[..., :, None] * r * x

    def total_respiration(self, x: ArrayLike | None = None) -> NDArray[np.float64]:
        """Column respiration Σ_pools Σ_layers resp·dz (...) [g C m⁻² yr⁻¹]."""
        return (self.respiration(x) * self.grid.dz).sum(axis=(-2, -1))

    def total_input(self) -> NDArray[np.float64]:
        """Column input Σ_pools Σ_layers B·I·dz (...) [g C m⁻² yr⁻¹] (the NPP)."""
        return (self.inputs * self.grid.dz).sum(axis=(-2, -1))

    def tendency(self, x: ArrayLike, *, rates: ArrayLike | None = None,
                 inputs: ArrayLike | None = None) -> NDArray[np.float64]:
        """dX/dt = B·I + A·ξ·K·X − V·X (Eq. 2) at state ``x`` (..., 7, 20), by structure."""
        x = np.asarray(x, dtype=float)
        r = self._rates if rates is None else np.asarray(rates, dtype=float)
        u = self.inputs if inputs is None else np.asarray(inputs, dtype=float)
        flux = r * x
        out = u - flux + np.einsum("...ij,...jl->...il", self.transfer, flux)
        lower, diag, upper = (b[..., None, :] for b in self.v_bands)
        vx = diag * x
        vx[..., 1:] += lower[..., 1:] * x[..., :-1]
        vx[..., :-1] += upper[..., :-1] * x[..., 1:]
        vx[..., _CWD, :] = 0.0
        return out - vx

    # ------------------------------------------------------------------ time stepping
    def _monthly(self, forcing: Any) -> tuple[NDArray, NDArray]:
        """Monthly rates (..., n_months, 7, 20) and inputs (..., n_months, 7, 20) of a Forcing."""
        from wholesoil.models._scalars import decomposition_scalar

        if self.params is None:
            raise InputDataError("monthly forcing needs a model built from parameters",
                                 field="forcing")
        n = self.grid.n_layers
        tsoi = _env_array(forcing, "tsoi", n)
        soilpsi = _env_array(forcing, "soilpsi", n)
        npp = _env_array(forcing, "npp", None, lo=0.0)
        if tsoi.ndim < 2 or npp.ndim < 1 or npp.shape[-1] != tsoi.shape[-2]:
            raise InputDataError("forcing needs tsoi (..., n_months, 20) and npp (..., n_months)",
                                 field="tsoi", value=tsoi.shape)
        o = _env_array(forcing, "o_scalar", n, required=False)
        p = self.params
        xi_m = decomposition_scalar(
            tsoi, soilpsi, self.grid.z_node, q10=np.asarray(p.q10)[..., None],
            w_scaling=np.asarray(p.w_scaling)[..., None],
            efolding=np.asarray(p.efolding)[..., None], o_scalar=o,
        )  # (..., months, 20)
        r = self.k[..., None, :, None] * xi_m[..., :, None, :]
        if self.xi_n is not None:
            r = r.copy()
            r[..., _LIT, :] *= self.xi_n[..., None, None, :]
        mean_npp = (self.inputs * self.grid.dz).sum(axis=(-2, -1))
        with np.errstate(divide="ignore", invalid="ignore"):
            alloc = np.where(mean_npp[..., None, None] > 0,
                             self.inputs / mean_npp[..., None, None], 0.0)
        u = npp[..., :, None, None] * alloc[..., None, :, :]
        return r, u

    def transient(
        self,
        x0: ArrayLike,
        forcing: Any = None,
        *,
        dt: float = 1 / 12,
        scheme: TimeScheme = "explicit",
        years: int = 1,
        record: bool = False,
    ) -> NDArray[np.float64]:
        """Integrate Eq. 2 from ``x0`` through ``years`` cycles of the forcing records.

        Each record (month) holds for one step of ``dt`` years:

        * ``"explicit"``: X ← X + (B·I + (A·ξ·K − V)·X)·Δt (the matrix update of CLM5's
          ``CNSoilMatrixMod``; stable for Δt·max rate < 2, i.e. not for metabolic litter at
          25 °C with monthly steps — use the implicit scheme there);
        * ``"implicit"``: (I − Δt·(A·ξ·K − V))·X_new = X + Δt·B·I (backward Euler, unconditionally
          stable, solved by the structured sweep with shift 1/Δt).

        Parameters
        ----------
        x0 : array (..., 7, 20) [g C m⁻³]
        forcing : Forcing, optional
            Monthly ``tsoi``/``soilpsi`` (..., n_months, 20), ``npp`` (..., n_months); the rates
            are recomputed per month with this model's parameters, the inputs keep this model's
            allocation B. None: the time-mean rates and inputs, one record per step.
        dt : float [yr]
        scheme : {"explicit", "implicit"}
        years : int
            Number of passes through the records.
        record : bool
            Return every state (..., n_steps + 1, 7, 20) instead of the last one.

        Returns
        -------
        array (..., 7, 20) or (..., n_steps + 1, 7, 20)
        """
        if scheme not in ("explicit", "implicit"):
            raise InputDataError("scheme must be 'explicit' or 'implicit'", field="scheme",
                                 value=scheme)
        if not dt > 0:
            raise InputDataError("dt must be > 0 (years)", field="dt", value=dt)
        x = np.broadcast_to(np.asarray(x0, dtype=float),
                            (*self.batch_shape, N_POOLS, self.grid.n_layers)).copy()
        if forcing is None:
            r_m = self._rates[..., None, :, :]
            u_m = np.broadcast_to(self.inputs, x.shape)[..., None, :, :]
        else:
            r_m, u_m = self._monthly(forcing)
        n_rec = r_m.shape[-3]
        states = [x.copy()] if record else None
        for _ in range(int(years)):
            for m in range(n_rec):
                r, u = r_m[..., m, :, :], u_m[..., m, :, :]
                if scheme == "explicit":
                    x = x + dt * self.tendency(x, rates=r, inputs=u)
                else:
                    x = self.solve(-(x / dt + u), shift=1.0 / dt, rates=r)
                if record:
                    states.append(x.copy())
        return np.stack(states, axis=-3) if record else x

    def spin_up(
        self,
        forcing: Any = None,
        *,
        x0: ArrayLike | None = None,
        dt: float = 1 / 12,
        scheme: TimeScheme = "implicit",
        tol: float = 1e-8,
        max_years: int = 10_000,
    ) -> tuple[NDArray[np.float64], int]:
        """Cycle the forcing until the state at the end of a year changes by < ``tol`` relative.

        Starts from the structured steady state of the time-mean system (semi-analytic spin-up,
        Xia et al. 2012) unless ``x0`` is given, then repeats one-year integrations.

        Returns
        -------
        x : array (..., 7, 20)
            State at the end of the last year.
        years : int
            Years run.
        """
        x = self.steady_state() if x0 is None else np.asarray(x0, dtype=float)
        for year in range(1, max_years + 1):
            x_new = self.transient(x, forcing, dt=dt, scheme=scheme, years=1)
            change = np.max(np.abs(x_new - x)) / max(float(np.max(np.abs(x_new))), 1e-300)
            x = x_new
            if change < tol:
                return x, year
        return x, max_years


class _SteadyStateKernel:
    """Steady states of many CLM5 parameter sets at a fixed set of sites, for samplers.

    Equal, up to rounding, to ``CLM5(params, environment[site], grid).steady_state()``: the same
    Eqs. 2–5, with what depends only on the sites computed once — the environment checked, the
    time-mean forcing, (T − 25)/10 and the water term of ξ, the input-layer mask and the surface
    input profile, and the bioturbation and cryoturbation patterns of the diffusivity (linear in
    ``diffus`` and ``cryo``) — and ξ_T = q10^((T − 25)/10) taken as exp(ln q10·(T − 25)/10).
    A calibration evaluates the model tens of thousands of times per site; this keeps each
    evaluation to the parameter-dependent work.

    Parameters
    ----------
    environment : Environment or Forcing
        As for :class:`CLM5`, with batch shape (S,) (one per site) or () (shared).
    grid : VerticalGrid, optional
    nitrogen, normalize_century : bool
        As for :class:`CLM5`.
    compiled : bool, optional
        Solve by the compiled path (:mod:`wholesoil.models._clm5_compiled`, numba): the same
        equations row by row, without numpy's per-operation overhead. Default: on when numba
        imports and ``WHOLESOIL_NUMBA`` is not ``0``; ``False`` forces the numpy path.
    """

    def __init__(self, environment: Any, grid: VerticalGrid | None = None, *,
                 nitrogen: bool = False, normalize_century: bool = False,
                 compiled: bool | None = None) -> None:
        from wholesoil.models._allocation import input_layer_mask, normalized_profile
        from wholesoil.models._scalars import _T_REF, MAXPSI, MINPSI, oxygen_scalar
        from wholesoil.models._transport import diffusivity

        grid = clm5_grid() if grid is None else grid
        # the checks of a full build, once (raises as CLM5 would)
        CLM5(CLM5Parameters(), environment, grid, nitrogen=nitrogen,
             normalize_century=normalize_century)
        n = grid.n_layers
        env = environment
        tsoi = _env_array(env, "tsoi", n)
        self.monthly = tsoi.ndim >= 2 and hasattr(env, "time_mean")
        core = 2 if self.monthly else 1
        soilpsi = _env_array(env, "soilpsi", n)
        o = _env_array(env, "o_scalar", n, required=False)
        static = env.time_mean() if self.monthly else env
        npp = _env_array(static, "npp", None, lo=0.0)
        sand = _env_array(static, "sand", None)
        altmax = _env_array(static, "altmax", None)
        alt_last = _env_array(static, "altmax_lastyear", None)
        nbedrock = np.asarray(getattr(static, "nbedrock", n))
        fpi = _env_array(static, "fpi_vr", n, required=False)
        leaf = _env_array(static, "leaf_fraction", None, required=False)
        cwd = _env_array(static, "cwd_fraction", None, required=False)
        leaf = np.asarray(DEFAULT_LEAF_FRACTION if leaf is None else leaf, dtype=float)
        cwd = np.asarray(DEFAULT_CWD_FRACTION if cwd is None else cwd, dtype=float)
        site_fields = (npp, sand, altmax, alt_last, nbedrock, leaf, cwd)
        shapes = [tsoi.shape[: tsoi.ndim - core], soilpsi.shape[: soilpsi.ndim - core],
                  *(a.shape for a in site_fields)]
        if o is not None:
            shapes.append(o.shape[: o.ndim - core])
        if fpi is not None:
            shapes.append(fpi.shape[:-1])
        sites = np.broadcast_shapes(*shapes)
        if len(sites) > 1:
            raise InputDataError("the kernel takes sites batched over one axis (S,) or none",
                                 field="environment", value=sites)
        S = sites[0] if sites else 1

        def per_site(a, tail):
            a = np.asarray(a, dtype=float)
            return np.ascontiguousarray(np.broadcast_to(a, (S, *tail)))

        tail = tsoi.shape[-core:]
        self.grid, self.n, self.n_sites = grid, n, S
        self.nitrogen, self.normalize_century = nitrogen, normalize_century
        self.t_exp = per_site((tsoi - _T_REF) / 10.0, tail)  # ξ_T = q10 ** t_exp
        psi = np.clip(soilpsi, MINPSI, MAXPSI)
        self.w_base = per_site(np.log(MINPSI / psi) / math.log(MINPSI / MAXPSI), tail)
        self.xi_o = None if o is None else per_site(oxygen_scalar(o), tail)
        self.xi_n = None
        if nitrogen:
            self.xi_n = per_site(np.ones(n) if fpi is None else fpi, (n,))
        self.sand = per_site(sand, ())
        self.npp = per_site(npp, ())
        self.leaf = per_site(leaf, ())
        f1, f2, f3 = CLM5_LITTER_FRACTIONS
        c = per_site(cwd, ())
        self.share = np.stack([c, (1 - c) * f1, (1 - c) * f2, (1 - c) * f3], axis=-1)  # (S, 4)
        mask = input_layer_mask(grid, altmax, alt_last, nbedrock)
        self.mask = np.ascontiguousarray(np.broadcast_to(mask, (S, n)))
        surf = np.exp(-SURFPROF_EXP * grid.z_node)
        self.surface = normalized_profile(grid, np.broadcast_to(surf, (S, n)), self.mask)
        # D = diffus·D_bio + cryo·D_cryo exactly (each layer is in one regime)
        self.d_bio = per_site(diffusivity(grid, altmax, alt_last, nbedrock, bioturbation=1.0,
                                          cryoturbation=0.0), (n,))
        self.d_cryo = per_site(diffusivity(grid, altmax, alt_last, nbedrock, bioturbation=0.0,
                                           cryoturbation=1.0), (n,))
        self.z_top_cm, self.z_bottom_cm = 100.0 * grid.z_top, 100.0 * grid.z_bottom
        self._scratch: dict[str, NDArray[np.float64]] = {}
        self._compiled = self._compiled_setup(compiled)

    def _compiled_setup(self, compiled: bool | None) -> dict[str, Any] | None:
        """Site arrays in the compiled path's layout (:mod:`._clm5_compiled`), or None when the
        path is off (``compiled=False``, ``WHOLESOIL_NUMBA=0``, or numba not installed)."""
        if compiled is False:
            return None
        try:
            from wholesoil.models import _clm5_compiled as cc
        except ImportError:  # numba missing: the numpy path
            return None
        if compiled is None and not cc.enabled():
            return None
        S, n, grid = self.n_sites, self.n, self.grid

        def months(a):  # (S, n) or (S, M, n) → (S, M, n)
            return np.ascontiguousarray(a.reshape(S, -1, n))

        z = grid.z_node
        dzn = np.diff(z)
        return {
            "fn": cc.steady_states,
            "t_exp": months(self.t_exp), "w_base": months(self.w_base),
            "xi_o": months(self.xi_o) if self.xi_o is not None else np.ones((1, 1, 1)),
            "xi_n": self.xi_n if self.xi_n is not None else np.ones((1, 1)),
            "share": np.ascontiguousarray(self.share), "mask": np.ascontiguousarray(self.mask),
            "surface": np.ascontiguousarray(self.surface),
            "grid": tuple(np.ascontiguousarray(a, dtype=float) for a in (
                z, self.z_top_cm, self.z_bottom_cm, grid.dz,
                (z[1:] - grid.z_bottom[:-1]) / dzn, dzn)),
        }

    def _compiled_call(self, p: CLM5Parameters, s: NDArray[np.intp], R: int, q10, w, e,
                       fs2s1, fs3s1) -> NDArray[np.float64]:
        """The steady states by the compiled path (same equations as the numpy path below)."""
        from wholesoil.models._scalars import century_normalization

        c = self._compiled

        def col(a):
            a = np.asarray(a, dtype=float)
            if a.shape == (R,):  # a sampler's column (a strided view): one copy
                return np.ascontiguousarray(a)
            return np.ascontiguousarray(np.broadcast_to(a, (R,)))

        century = (col(century_normalization(q10)) if self.normalize_century
                   else np.ones(R))
        k = np.stack([1.0 / col(getattr(p, t)) for t in
                      ("tau4cwd", "tau4l1", "tau4l2", "tau4l2", "tau4s1", "tau4s2", "tau4s3")],
                     axis=-1)
        tr = np.ascontiguousarray(np.broadcast_to(
            _transfer_matrix(p.fl2cwd, p.fs1l1, p.fs1l2, p.fs2l3, fs2s1, fs3s1, p.fs1s2,
                             p.fs3s2, p.fs1s3), (R, N_POOLS, N_POOLS)))
        out = np.empty((R, N_POOLS, self.n))
        return c["fn"](np.ascontiguousarray(s, dtype=np.intp), col(q10), col(w), col(e), century,
                       col(p.diffus), col(p.cryo), col(p.b), k, tr, c["t_exp"], c["w_base"],
                       c["xi_o"], self.xi_o is not None, c["xi_n"], self.xi_n is not None,
                       self.npp, self.leaf, c["share"], c["mask"], c["surface"], self.d_bio,
                       self.d_cryo, *c["grid"], out)

    def _work(self, name: str, R: int) -> NDArray[np.float64]:
        """A reused (R, *site shape) scratch array (large temporaries cost page faults)."""
        a = self._scratch.get(name)
        if a is None or a.shape[0] != R:
            a = self._scratch[name] = np.empty((R, *self.t_exp.shape[1:]))
        return a

    def __call__(self, params: CLM5Parameters, site: ArrayLike | None = None
                 ) -> NDArray[np.float64]:
        """Steady states (R, 7, n) [g C m⁻³] of parameter sets (R,) at sites ``site`` (R,).

        ``params`` has batch shape (R,) (or broadcasts to it); ``site`` indexes the kernel's
        sites (default: all 0, for a shared environment). Non-finite where there is no finite
        steady state, as :meth:`CLM5.steady_state`.
        """
        from wholesoil.models._allocation import normalized_profile
        from wholesoil.models._scalars import century_normalization
        from wholesoil.models._transport import mixing_operator

        p = params
        shape = p.batch_shape
        R = int(np.prod(shape)) if shape else 1
        s = np.zeros(R, dtype=np.intp) if site is None else np.asarray(site, dtype=np.intp)
        R = max(R, s.size)
        s = np.broadcast_to(s, (R,))

        def col(a):  # a parameter as (R,)
            a = np.asarray(a, dtype=float)
            return a if a.shape == (R,) else np.broadcast_to(a, (R,))

        n, grid = self.n, self.grid
        q10, w, e = col(p.q10), col(p.w_scaling), col(p.efolding)
        if self._compiled is not None:
            if p.fs2s1 is None:
                fs2s1, fs3s1 = sand_dependent_transfers(self.sand[s])
                _check_soil_cycle(fs2s1, fs3s1, p.fs1s2, p.fs3s2, p.fs1s3)
            else:
                fs2s1, fs3s1 = p.fs2s1, p.fs3s1
            return self._compiled_call(p, s, R, q10, w, e, fs2s1, fs3s1)
        extra = (None,) * (self.t_exp.ndim - 1)
        # ξ = ⟨ξ_T·ξ_W·ξ_O⟩_months·ξ_D (the depth term does not vary by month)
        prod = np.take(self.t_exp, s, axis=0, out=self._work("prod", R), mode="clip")
        prod *= np.log(q10)[(slice(None), *extra)]
        np.exp(prod, out=prod)
        water = np.take(self.w_base, s, axis=0, out=self._work("water", R), mode="clip")
        water *= w[(slice(None), *extra)]
        prod *= np.minimum(water, 1.0, out=water)
        if self.xi_o is not None:
            prod *= self.xi_o[s]
        xi = prod.mean(axis=-2) if self.monthly else prod
        xi = xi * np.exp(-grid.z_node / e[:, None])
        if self.normalize_century:
            xi = xi * century_normalization(q10)[:, None]
        if p.fs2s1 is None:
            fs2s1, fs3s1 = sand_dependent_transfers(self.sand[s])
            _check_soil_cycle(fs2s1, fs3s1, p.fs1s2, p.fs3s2, p.fs1s3)
        else:
            fs2s1, fs3s1 = p.fs2s1, p.fs3s1
        D = col(p.diffus)[:, None] * self.d_bio[s] + col(p.cryo)[:, None] * self.d_cryo[s]
        v_bands = mixing_operator(grid, D)
        bb = col(p.b)[:, None]
        root = normalized_profile(grid, bb**self.z_top_cm - bb**self.z_bottom_cm, self.mask[s])
        leaf = self.leaf[s][:, None]
        profile = leaf * self.surface[s] + (1.0 - leaf) * root  # (R, n) [m⁻¹]
        inputs = np.zeros((N_POOLS, n, R))  # batch-last B·I; SOC pools get no direct input
        inputs[:4] = ((self.npp[s][:, None] * self.share[s])[:, :, None]
                      * profile[:, None, :]).transpose(1, 2, 0)
        k = np.stack([1.0 / col(getattr(p, t)) for t in
                      ("tau4cwd", "tau4l1", "tau4l2", "tau4l2", "tau4s1", "tau4s2", "tau4s3")],
                     axis=-1)
        transfer = _transfer_matrix(p.fl2cwd, p.fs1l1, p.fs1l2, p.fs2l3, fs2s1, fs3s1,
                                    p.fs1s2, p.fs3s2, p.fs1s3)
        # batch-last pieces of the operator (the layout of the sweeps), built directly
        r = k.T[:, None, :] * xi.T[None, :, :]  # (7, n, R)
        if self.xi_n is not None:
            r[_LIT] *= self.xi_n[s].T[None]
        t = np.ascontiguousarray(transfer.transpose(1, 2, 0))
        lo, d, up = (np.ascontiguousarray(v.T) for v in v_bands)
        op = _Operator.from_batch_last(r, t, lo, d, up)
        return op.solve_batch_last(inputs, 0.0)


def _transfer_matrix(fl2cwd, fs1l1, fs1l2, fs2l3, fs2s1, fs3s1, fs1s2, fs3s2, fs1s3):
    """A's off-diagonal fractions (..., 7, 7) (receiver, donor), Tao et al. (EarthArXiv) Eq. 5."""
    arrs = [np.asarray(a, dtype=float) for a in
            (fl2cwd, fs1l1, fs1l2, fs2l3, fs2s1, fs3s1, fs1s2, fs3s2, fs1s3)]
    shape = np.broadcast_shapes(*(a.shape for a in arrs))
    fl2cwd, fs1l1, fs1l2, fs2l3, fs2s1, fs3s1, fs1s2, fs3s2, fs1s3 = (
        np.broadcast_to(a, shape) for a in arrs)
    t = np.zeros((*shape, N_POOLS, N_POOLS))
    t[..., 2, 0] = fl2cwd
    t[..., 3, 0] = 1.0 - fl2cwd
    t[..., 4, 1] = fs1l1
    t[..., 4, 2] = fs1l2
    t[..., 5, 3] = fs2l3
    t[..., 5, 4] = fs2s1
    t[..., 6, 4] = fs3s1
    t[..., 4, 5] = fs1s2
    t[..., 6, 5] = fs3s2
    t[..., 4, 6] = fs1s3
    return t


def _diag_embed(a: NDArray) -> NDArray:
    """(..., p, n) → (..., p·n, p·n) diagonal."""
    flat = a.reshape((*a.shape[:-2], -1))
    out = np.zeros((*flat.shape, flat.shape[-1]))
    i = np.arange(flat.shape[-1])
    out[..., i, i] = flat
    return out


def _dense_tridiag(lower, diag, upper):
    from wholesoil.models._blocksolve import tridiagonal_to_dense

    return tridiagonal_to_dense(lower, diag, upper)


class _Operator:
    """P = σ·I + V − A·diag(rates) of one CLM5 batch, stored batch-last for the sweeps.

    Arrays: ``r`` (7, n, W) rates, ``t`` (7, 7, W) transfer fractions, ``lo``/``d``/``up``
    (n, W) mixing bands, W = the flattened batch size (or 1 when shared by the whole batch).
    """

    def __init__(self, k, xi, xi_n, transfer, v_bands, batch):
        self.batch = tuple(batch)
        self.N = int(np.prod(self.batch)) if self.batch else 1
        n = xi.shape[-1]
        self.n = n
        kb = self.to_batch_last(k, (N_POOLS,))  # (7, W)
        xb = self.to_batch_last(xi, (n,))  # (n, W)
        r = kb[:, None, :] * xb[None, :, :]
        if xi_n is not None:
            r = r.copy() if r.base is not None else r
            r[_LIT] = r[_LIT] * self.to_batch_last(xi_n, (n,))[None]
        self._init(r, transfer, v_bands)

    @classmethod
    def from_rates(cls, rates, transfer, v_bands, batch):
        obj = cls.__new__(cls)
        obj.batch = tuple(np.broadcast_shapes(tuple(batch), rates.shape[:-2]))
        obj.N = int(np.prod(obj.batch)) if obj.batch else 1
        obj.n = rates.shape[-1]
        obj._init(obj.to_batch_last(rates, (N_POOLS, obj.n)), transfer, v_bands)
        return obj

    def _init(self, r, transfer, v_bands):
        n = self.n
        self._assemble(r, self.to_batch_last(transfer, (N_POOLS, N_POOLS)),
                       *(self.to_batch_last(v, (n,)) for v in v_bands))

    @classmethod
    def from_batch_last(cls, r, t, lo, d, up):
        """From pieces already batch-last and of one width R: rates (7, n, R), transfer
        fractions (7, 7, R), mixing bands (n, R); the batch is (R,)."""
        obj = cls.__new__(cls)
        obj.batch = (r.shape[-1],)
        obj.N = r.shape[-1]
        obj.n = r.shape[1]
        obj._assemble(r, t, lo, d, up)
        return obj

    def _assemble(self, r, t, lo, d, up):
        n = self.n
        self.r, self.t, self.lo, self.d, self.up = r, t, lo, d, up
        # SOC blocks without the shift: (I − F)_ab·r_b + δ_ab·V_jj, (n, 3, 3, W)
        W = max(a.shape[-1] for a in (self.r, self.t, self.d))
        blocks = np.empty((n, 3, 3, W))
        for a in range(3):
            for b in range(3):
                f = (1.0 if a == b else 0.0) - self.t[4 + a, 4 + b]
                blocks[:, a, b] = f * self.r[4 + b]
            blocks[:, a, a] += self.d
        self.blocks = blocks
        # litter → SOC pathways that are non-zero anywhere in the batch (skip the others)
        self.nonzero = [[bool(np.any(self.t[4 + a, 1 + q] != 0)) for q in range(3)]
                        for a in range(3)]

    def to_batch_last(self, a, core):
        """Broadcast (..., *core) to the batch, flatten it and put it last: (*core, W)."""
        a = np.asarray(a, dtype=float)
        lead = a.shape[: a.ndim - len(core)]
        if int(np.prod(lead)) == 1:  # shared across the batch: no copy
            return a.reshape((*core, 1))
        b = np.broadcast_to(a, (*self.batch, *core)).reshape((-1, *core))
        return np.ascontiguousarray(np.moveaxis(b, 0, -1))

    def solve(self, b, sigma):
        """Solve P·x = b for batch-leading b (..., 7, n); returns (..., 7, n)."""
        b = np.asarray(b, dtype=float)
        sigma = np.asarray(sigma, dtype=float)
        batch = np.broadcast_shapes(self.batch, b.shape[:-2], sigma.shape)
        if batch != self.batch:
            raise InputDataError(
                f"right-hand side or shift batch {b.shape[:-2]} / {sigma.shape} does not fit "
                f"the model's batch {self.batch}", field="rhs", value=b.shape,
            )
        return self.solve_batch_last(self.to_batch_last(b, (N_POOLS, self.n)),
                                     self.to_batch_last(sigma, ()))

    def solve_batch_last(self, b, sigma):
        """Solve P·x = b with b (7, n, W) batch-last; returns the batch-leading (..., 7, n)."""
        r, t, lo, d, up = self.r, self.t, self.lo, self.d, self.up
        n = self.n
        sigma = np.asarray(sigma, dtype=float)
        W = max(a.shape[-1] for a in (r, t, d, b, np.atleast_1d(sigma)))
        x = np.empty((N_POOLS, n, W))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # CWD: not mixed, no donors: (r + σ)·x = b.
            x[_CWD] = b[_CWD] / (r[_CWD] + sigma)
            flux_cwd = r[_CWD] * x[_CWD]
            # Litter: three tridiagonal systems in depth with the CWD source, swept together
            # (Thomas, layer by layer on (3, W) rows: the three pools share the mixing bands).
            rl, bl = r[_LIT], b[_LIT]
            tl = t[_LIT, _CWD]  # (3, W)
            c = np.empty((3, n, W))
            y = x[_LIT]  # view: the sweep writes the litter rows of x
            for j in range(n):
                dj = rl[:, j] + d[j] + sigma
                rj = bl[:, j] + tl * flux_cwd[j]
                if j > 0:
                    dj = dj - lo[j] * c[:, j - 1]
                    rj = rj - lo[j] * y[:, j - 1]
                inv = 1.0 / dj
                c[:, j] = up[j] * inv
                y[:, j] = rj * inv
            for j in range(n - 2, -1, -1):
                y[:, j] -= c[:, j] * y[:, j + 1]
            # SOC: 20 blocks of 3 × 3, block Thomas with the litter sources.
            b_som = np.empty((n, 3, W))
            flux_lit = r[_LIT] * x[_LIT]
            for a in range(3):
                row = b[4 + a] + t[4 + a, 1] * flux_lit[0]
                for q in (1, 2):
                    if self.nonzero[a][q]:
                        row = row + t[4 + a, 1 + q] * flux_lit[q]
                b_som[:, a] = row
            blocks = self.blocks
            if np.any(sigma != 0):
                blocks = blocks.copy()
                for a in range(3):
                    blocks[:, a, a] += sigma
            x_som = block_thomas_batch_last(
                lo[:, None, :], blocks, up[:, None, :], b_som, offdiagonal="diagonal",
            )  # (n, 3, W)
            x[_SOM] = np.moveaxis(x_som, 0, 1)
        out = np.moveaxis(x, -1, 0)  # view (W, 7, n)
        if out.shape[0] == 1 and self.N != 1:
            out = np.broadcast_to(out, (self.N, N_POOLS, n))
        return out.reshape((*self.batch, N_POOLS, n))
