"""MIMICS: the MIcrobial-MIneral Carbon Stabilization model (Wieder et al. 2015).

MIMICS (Wieder, Grandy, Kallenbach, Taylor & Bonan 2015, *Geosci. Model Dev.* 8, 1789–1808,
https://doi.org/10.5194/gmd-8-1789-2015) is a single-layer soil carbon model with seven pools
(:data:`POOLS`): metabolic and structural litter (LIT_m, LIT_s), r- and K-strategist microbial
biomass (MIC_r, MIC_K), and physically protected, chemically protected and available soil
organic matter (SOM_p, SOM_c, SOM_a). Microbes take up litter and available SOM with forward
Michaelis–Menten kinetics whose V_max and K_m depend on temperature (and K_m of SOM_a on clay).

Native units, as published: carbon in **mg C cm⁻³** of a 30 cm soil layer and time in **hours**.
:func:`to_g_per_m2` and :data:`HOURS_PER_YEAR` convert to the g C m⁻² and years in which results
are reported (1 mg C cm⁻³ over 30 cm = 300 g C m⁻²).

Equations (numbering of this module; the reference code is ``MIMIC2_LIDET_GMDD_2015_public.R``
in ``wwieder/MIMICS``, whose ``XEQ`` function they restate)::

    (1)  V_max,i = exp(V_slope·T + V_int)·a_V·Vmod_i                   [mg C (mg MIC)⁻¹ h⁻¹]
    (2)  K_m,i   = exp(K_slope,i·T + K_int)·a_K / Kmod_i                [mg C cm⁻³]
         Kmod = [8, 2, 4·p, 2, 4, 6·p],  p = a_p·exp(−k_p·√f_clay)
         i = (r: LIT_m, LIT_s, SOM_a; K: LIT_m, LIT_s, SOM_a)
    (3)  f_MET = 0.85 − 0.013·(lignin:N)
    (4)  I_m = ANPP·f_MET·s_I / (8760·10·depth),  I_s = ANPP·(1 − f_MET)·s_I / (8760·10·depth)
                                                                       [mg C cm⁻³ h⁻¹]
    (5)  τ_r = 5.2e-4·exp(0.3·f_MET)·m_τ,  τ_K = 2.4e-4·exp(0.1·f_MET)·m_τ,
         m_τ = clip(√(ANPP/100), m_min, m_max)·τ_mult                   [h⁻¹ (mg C cm⁻³)^(1−β)]
    (6)  f_PHYS = [0.3·e^(1.3·f_clay), 0.2·e^(0.8·f_clay)],  f_CHEM = [0.1, 0.3]·e^(−3·f_MET),
         f_AVAI = 1 − f_PHYS − f_CHEM
    (7)  D = 1.5e-5·exp(−1.5·f_clay)                                    [h⁻¹]
    (8)  fluxes, with U_i(S) = V_max,i·S/(K_m,i + S) (continued as V·S/(K + |S|) for S < 0,
         only ever met inside a solver step, so that no division by zero can occur):
         LITmin_1 = MIC_r·U_1(LIT_m),  LITmin_2 = MIC_r·U_2(LIT_s),  SOMmin_1 = MIC_r·U_3(SOM_a)
         LITmin_3 = MIC_K·U_4(LIT_m),  LITmin_4 = MIC_K·U_5(LIT_s),  SOMmin_2 = MIC_K·U_6(SOM_a)
         T_r = τ_r·MIC_ref·(MIC_r/MIC_ref)^β,  T_K = τ_K·MIC_ref·(MIC_K/MIC_ref)^β
                                                         (microbial turnover; MIC_ref = 1)
         DES = D·SOM_p
         OX  = MIC_K·V_max,5·SOM_c/(KO_K·K_m,5 + SOM_c) + MIC_r·V_max,2·SOM_c/(KO_r·K_m,2 + SOM_c)
    (9)  dLIT_m/dt = I_m·(1 − FI_m) − LITmin_1 − LITmin_3
         dLIT_s/dt = I_s·(1 − FI_s) − LITmin_2 − LITmin_4
         dMIC_r/dt = ε_1·(LITmin_1 + SOMmin_1) + ε_2·LITmin_2 − T_r
         dMIC_K/dt = ε_3·(LITmin_3 + SOMmin_2) + ε_4·LITmin_4 − T_K
         dSOM_p/dt = I_m·FI_m + f_PHYS,r·T_r + f_PHYS,K·T_K − DES
         dSOM_c/dt = I_s·FI_s + f_CHEM,r·T_r + f_CHEM,K·T_K − OX
         dSOM_a/dt = f_AVAI,r·T_r + f_AVAI,K·T_K + DES + OX − SOMmin_1 − SOMmin_2
    (10) R = (1 − ε_1)(LITmin_1 + SOMmin_1) + (1 − ε_2)·LITmin_2
             + (1 − ε_3)(LITmin_3 + SOMmin_2) + (1 − ε_4)·LITmin_4       (heterotrophic respiration)

so that Σ dX/dt = I_m + I_s − R: at a steady state the litter input equals the respiration.
``f_clay`` is the clay *fraction* (clay % / 100), as in the reference code (``clay <- CLAY2/100``).
CUE ε = (ε_1, ε_2, ε_3, ε_4) = (r on LIT_m and SOM_a, r on LIT_s, K on LIT_m and SOM_a, K on
LIT_s). ANPP is in g C m⁻² yr⁻¹ (the reference script halves dry-mass ANPP first).

Density-dependent turnover (He et al., He et al. (2024); Georgiou et al. 2017, *Nat. Commun.* 8,
1223): the turnover flux is τ·MIC^β where β is the *total* exponent on MIC (β = 1 is the published
MIMICS; β > 1 density dependent). The numerical value of τ is kept when β changes, with MIC in
mg C cm⁻³ (the convention of the MIMICS variants with a density exponent, e.g. Zhuang's
SoilR ``MIMICS_BF``), so τ carries the unit h⁻¹·(mg C cm⁻³)^(1−β). For a negative MIC (only
ever seen inside a solver) the turnover is continued as the odd function τ·MIC·|MIC|^(β−1).

Parameters are module data (:data:`MIMICS_PARAMETERS`) with value, unit, valid range and source;
the forcing is described in :data:`MIMICS_FORCING`.

References
----------
He, X., Abramoff, R. Z., Abs, E., Georgiou, K., Zhang, H. & Goll, D. S. (2024). Model uncertainty
obscures major driver of soil carbon. Nature. https://doi.org/10.1038/s41586-023-06999-1
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError
from wholesoil.models._nonlinear import SteadyStateReport, find_steady_states
from wholesoil.models._parameters import Parameter, named

FloatArray = NDArray[np.float64]

#: State order of the MIMICS pools (state ``x`` has shape ``(..., 7)``), mg C cm⁻³.
POOLS: tuple[str, ...] = ("LIT_m", "LIT_s", "MIC_r", "MIC_K", "SOM_p", "SOM_c", "SOM_a")
#: Hours per year used by the reference code (``h2y <- 24*365``).
HOURS_PER_YEAR: float = 24.0 * 365.0

_REF_R = "wwieder/MIMICS MIMIC2_LIDET_GMDD_2015_public.R"
_REF_P = "Wieder et al. 2015 GMD 8:1789, Table 1"


#: The parameter record of this module (one record for every model: :class:`Parameter`).
ParamInfo = Parameter


_INF = float("inf")


def _p(
    default: float,
    unit: str,
    lo: float,
    hi: float,
    desc: str,
    source: str = _REF_R,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
) -> ParamInfo:
    return Parameter("", unit, lo, hi, default=default, source=source, description=desc,
                     closed=(not lo_open, not hi_open))


def _pos(default: float, unit: str, desc: str, source: str = _REF_R) -> ParamInfo:
    return _p(default, unit, 0.0, _INF, desc, source, lo_open=True, hi_open=True)


def _real(default: float, unit: str, desc: str, source: str = _REF_R) -> ParamInfo:
    return _p(default, unit, -_INF, _INF, desc, source, lo_open=True, hi_open=True)


def _cue(default: float, desc: str) -> ParamInfo:
    return _p(default, "1", 0.0, 1.0, desc, _REF_P + "; " + _REF_R, lo_open=True, hi_open=True)


#: MIMICS parameters (Wieder et al. 2015; values as in the reference script
#: ``MIMIC2_LIDET_GMDD_2015_public.R`` of ``wwieder/MIMICS``), plus the density-dependent
#: turnover exponent β of He et al. (2024). Names are those accepted by :class:`MIMICS`.
MIMICS_PARAMETERS: dict[str, ParamInfo] = named({
    "vslope": _real(0.063, "°C⁻¹", "V_slope, temperature sensitivity of V_max (Eq. 1)"),
    "vint": _real(5.47, "1 (ln)", "V_int, intercept of ln V_max (Eq. 1)"),
    "av": _pos(8e-6, "mg C (mg MIC)⁻¹ h⁻¹", "a_V, V_max scaling (Eq. 1)"),
    "vmod_r_met": _pos(10.0, "1", "V_max modifier, MIC_r on LIT_m (Eq. 1)"),
    "vmod_r_str": _pos(2.0, "1", "V_max modifier, MIC_r on LIT_s (Eq. 1)"),
    "vmod_r_avail": _pos(10.0, "1", "V_max modifier, MIC_r on SOM_a (Eq. 1)"),
    "vmod_k_met": _pos(3.0, "1", "V_max modifier, MIC_K on LIT_m (Eq. 1)"),
    "vmod_k_str": _pos(3.0, "1", "V_max modifier, MIC_K on LIT_s (Eq. 1)"),
    "vmod_k_avail": _pos(2.0, "1", "V_max modifier, MIC_K on SOM_a (Eq. 1)"),
    "kslope_met": _real(0.017, "°C⁻¹", "K_slope for LIT_m (r and K) (Eq. 2)"),
    "kslope_str": _real(0.027, "°C⁻¹", "K_slope for LIT_s (r and K) (Eq. 2)"),
    "kslope_avail": _real(0.017, "°C⁻¹", "K_slope for SOM_a (r and K) (Eq. 2)"),
    "kint": _real(3.19, "1 (ln)", "K_int, intercept of ln K_m (Eq. 2)"),
    "ak": _pos(10.0, "mg C cm⁻³", "a_K, K_m scaling (Eq. 2)"),
    "kmod_r_met": _pos(8.0, "1", "K_m divisor, MIC_r on LIT_m (Eq. 2)"),
    "kmod_r_str": _pos(2.0, "1", "K_m divisor, MIC_r on LIT_s (Eq. 2)"),
    "kmod_r_avail": _pos(4.0, "1", "K_m divisor, MIC_r on SOM_a, times p (Eq. 2)"),
    "kmod_k_met": _pos(2.0, "1", "K_m divisor, MIC_K on LIT_m (Eq. 2)"),
    "kmod_k_str": _pos(4.0, "1", "K_m divisor, MIC_K on LIT_s (Eq. 2)"),
    "kmod_k_avail": _pos(6.0, "1", "K_m divisor, MIC_K on SOM_a, times p (Eq. 2)"),
    "pscalar_a": _pos(2.0, "1", "a_p of the texture scalar p = a_p·exp(−k_p·√f_clay) (Eq. 2)"),
    "pscalar_k": _real(2.0, "1", "k_p of the texture scalar p (Eq. 2)"),
    "ko_r": _pos(4.0, "1", "KO_r, K_m multiplier for oxidation of SOM_c by MIC_r (Eq. 8)"),
    "ko_k": _pos(4.0, "1", "KO_K, K_m multiplier for oxidation of SOM_c by MIC_K (Eq. 8)"),
    "cue_r_met": _cue(0.55, "ε_1, CUE of MIC_r on LIT_m and SOM_a (Eq. 9)"),
    "cue_r_str": _cue(0.25, "ε_2, CUE of MIC_r on LIT_s (Eq. 9)"),
    "cue_k_met": _cue(0.75, "ε_3, CUE of MIC_K on LIT_m and SOM_a (Eq. 9)"),
    "cue_k_str": _cue(0.35, "ε_4, CUE of MIC_K on LIT_s (Eq. 9)"),
    "tau_r": _pos(5.2e-4, "h⁻¹ (mg C cm⁻³)^(1−β)", "τ_r coefficient of MIC_r turnover (Eq. 5)"),
    "tau_r_fmet": _real(0.3, "1", "exponent on f_MET in τ_r (Eq. 5)"),
    "tau_k": _pos(2.4e-4, "h⁻¹ (mg C cm⁻³)^(1−β)", "τ_K coefficient of MIC_K turnover (Eq. 5)"),
    "tau_k_fmet": _real(0.1, "1", "exponent on f_MET in τ_K (Eq. 5)"),
    "tau_anpp_ref": _pos(
        100.0, "g C m⁻² yr⁻¹", "ANPP normalising the productivity modifier √(ANPP/ref) (Eq. 5)"
    ),
    "tau_mod_min": _p(
        0.0,
        "1",
        0.0,
        _INF,
        "lower clip of √(ANPP/ref) (0: none, as in the 2015 script; 0.8 in later MIMICS)",
        _REF_R + "; piersond/MIMICS_STODE (Tau_MOD)",
        hi_open=True,
    ),
    "tau_mod_max": _p(
        _INF,
        "1",
        0.0,
        _INF,
        "upper clip of √(ANPP/ref) (inf: none, as in the 2015 script; 1.2 in later MIMICS)",
        _REF_R + "; piersond/MIMICS_STODE (Tau_MOD)",
        lo_open=True,
    ),
    "tau_mult": _pos(1.0, "1", "multiplier on both turnover rates (Eq. 5; 2 in later MIMICS)"),
    "beta": _p(
        1.0,
        "1",
        1.0,
        3.0,
        "β, total exponent on MIC in the turnover flux τ·MIC^β (1 classic, > 1 density "
        "dependent) (Eq. 8)",
        "He et al. 2024 (He et al. (2024)); Georgiou et al. 2017 Nat. Commun. 8:1223",
    ),
    "mic_ref": _pos(
        1.0,
        "mg C cm⁻³",
        "MIC_ref of the turnover τ·MIC_ref·(MIC/MIC_ref)^β; the default 1 gives τ·MIC^β with "
        "MIC in mg C cm⁻³; set it to a β = 1 steady-state MIC to change β at a fixed turnover "
        "flux there (Eq. 8)",
        "this module",
    ),
    "fphys_r": _pos(0.3, "1", "f_PHYS,r = fphys_r·exp(fphys_r_clay·f_clay) (Eq. 6)"),
    "fphys_r_clay": _real(1.3, "1", "clay exponent of f_PHYS,r (Eq. 6)"),
    "fphys_k": _pos(0.2, "1", "f_PHYS,K = fphys_k·exp(fphys_k_clay·f_clay) (Eq. 6)"),
    "fphys_k_clay": _real(0.8, "1", "clay exponent of f_PHYS,K (Eq. 6)"),
    "fchem_r": _pos(0.1, "1", "f_CHEM,r = fchem_r·exp(fchem_fmet·f_MET) (Eq. 6)"),
    "fchem_k": _pos(0.3, "1", "f_CHEM,K = fchem_k·exp(fchem_fmet·f_MET) (Eq. 6)"),
    "fchem_fmet": _real(-3.0, "1", "f_MET exponent of f_CHEM (Eq. 6)"),
    "desorb": _pos(1.5e-5, "h⁻¹", "desorption rate of SOM_p at zero clay (Eq. 7)"),
    "desorb_clay": _real(-1.5, "1", "clay exponent of the desorption rate (Eq. 7)"),
    "fi_met": _p(0.05, "1", 0.0, 1.0, "FI_m, fraction of metabolic input straight to SOM_p"),
    "fi_str": _p(0.05, "1", 0.0, 1.0, "FI_s, fraction of structural input straight to SOM_c"),
    "fmet_int": _real(0.85, "1", "intercept of f_MET = 0.85 − 0.013·lignin:N (Eq. 3)"),
    "fmet_slope": _real(0.013, "1", "slope of f_MET on lignin:N (Eq. 3)"),
    "depth": _pos(30.0, "cm", "soil depth of the single layer (Eq. 4)"),
    "input_scale": _p(
        1.0,
        "1",
        0.0,
        _INF,
        "s_I, multiplier on the litter input only (the sensitivity knob 'input'; τ's "
        "productivity modifier keeps following the ANPP forcing) (Eq. 4)",
        "this module",
        hi_open=True,
    ),
})

#: Forcing of :class:`MIMICS` (keyword arguments), with unit and valid range.
MIMICS_FORCING: dict[str, ParamInfo] = named({
    "anpp": _pos(
        np.nan, "g C m⁻² yr⁻¹", "aboveground net primary production = litter input (Eq. 4, 5)"
    ),
    "mat": _p(np.nan, "°C", -60.0, 60.0, "mean annual (soil) temperature T (Eq. 1, 2)"),
    "clay": _p(np.nan, "%", 0.0, 100.0, "clay content; f_clay = clay/100 (Eq. 2, 6, 7)"),
    "lignin_n": _p(np.nan, "1", 0.0, _INF, "litter lignin:N ratio (Eq. 3)", hi_open=True),
})

#: The four CUE parameter names, in the order (ε_1, ε_2, ε_3, ε_4).
CUE_PARAMETERS: tuple[str, ...] = ("cue_r_met", "cue_r_str", "cue_k_met", "cue_k_str")

#: He et al. (2024) (He et al. 2024, Fig. 1) site conditions: MAT 20 °C, clay 20 %, lignin:N 10.
SEED002_SITE: dict[str, float] = {"mat": 20.0, "clay": 20.0, "lignin_n": 10.0}


def to_g_per_m2(x: ArrayLike, depth: ArrayLike = 30.0) -> FloatArray:
    """Convert carbon density [mg C cm⁻³] over ``depth`` [cm] to a stock [g C m⁻²].

    ``mg C cm⁻³ × depth cm × 10⁴ cm² m⁻² × 10⁻³ g mg⁻¹ = 10·depth g C m⁻²`` (the reference
    code's ``depth * 1e4 / 1e6`` gives kg C m⁻²).
    """
    return np.asarray(x, dtype=float) * (10.0 * np.asarray(depth, dtype=float))


def litter_fraction_metabolic(
    lignin_n: ArrayLike, intercept: ArrayLike = 0.85, slope: ArrayLike = 0.013
) -> FloatArray:
    """Metabolic fraction of litter input f_MET = 0.85 − 0.013·lignin:N (Eq. 3, DAYCENT)."""
    return np.asarray(intercept, dtype=float) - np.asarray(slope, dtype=float) * np.asarray(
        lignin_n, dtype=float
    )


def _check(name: str, info: ParamInfo, value: ArrayLike) -> FloatArray:
    try:
        v = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise InputDataError(
            f"{name} must be a number or array of numbers in {info.range_text()} "
            f"({info.description}, {info.unit})",
            field=name,
            value=value,
        ) from err
    bad = ~info.ok(v)
    if np.any(bad):
        raise InputDataError(
            f"{name} must be in {info.range_text()} ({info.description}, {info.unit})",
            field=name,
            value=float(v[bad].flat[0]) if v.ndim else float(v),
        )
    return v


class MIMICS:
    """MIMICS with optional density-dependent microbial turnover, batched.

    Parameters
    ----------
    params : mapping of str to array_like, optional
        Values replacing the defaults of :data:`MIMICS_PARAMETERS` (any subset; arrays
        broadcast with each other and with the forcing to the batch shape).
    anpp : array_like
        Aboveground net primary production, the litter input [g C m⁻² yr⁻¹], > 0.
    mat : array_like
        Mean annual soil temperature T [°C], in [−60, 60].
    clay : array_like
        Clay content [%], in [0, 100].
    lignin_n : array_like
        Litter lignin:N ratio [1], ≥ 0 with f_MET = 0.85 − 0.013·lignin:N in (0, 1).

    Attributes
    ----------
    batch_shape : tuple of int
        Broadcast shape of all parameters and forcing.
    params : dict of str to ndarray
        Validated parameters (not broadcast).
    vmax, km : ndarray (*batch_shape, 6)
        V_max [mg C (mg MIC)⁻¹ h⁻¹] and K_m [mg C cm⁻³] in the order r:(LIT_m, LIT_s, SOM_a),
        K:(LIT_m, LIT_s, SOM_a) (Eqs. 1–2).
    cue : ndarray (*batch_shape, 4)
        ε_1..ε_4.
    tau : ndarray (*batch_shape, 2)
        Turnover coefficients (τ_r, τ_K) [h⁻¹ (mg C cm⁻³)^(1−β)] (Eq. 5).
    fmet, fphys, fchem, favai, desorption, inputs
        Eqs. 3, 6, 7 and 4 (``inputs`` = (I_m, I_s) [mg C cm⁻³ h⁻¹]).

    Raises
    ------
    InputDataError
        A parameter or forcing outside its range (β outside [1, 3], a CUE outside (0, 1), clay
        outside [0, 100] %, ANPP ≤ 0, …), an unknown parameter name, f_MET outside (0, 1), a
        partition with f_AVAI < 0 (very high clay), or shapes that do not broadcast.

    Notes
    -----
    Reference: Wieder, W. R., Grandy, A. S., Kallenbach, C. M., Taylor, P. G. & Bonan, G. B.
    (2015) Representing life in the Earth system with soil microbial functional traits in the
    MIMICS model. Geosci. Model Dev. 8, 1789–1808. https://doi.org/10.5194/gmd-8-1789-2015
    """

    POOLS: ClassVar[tuple[str, ...]] = POOLS
    PARAMETERS: ClassVar[dict[str, ParamInfo]] = MIMICS_PARAMETERS
    FORCING: ClassVar[dict[str, ParamInfo]] = MIMICS_FORCING
    #: Knobs for the CUE-versus-input sensitivity (He et al. (2024)): the four CUEs scaled together
    #: and the litter input multiplier.
    SENSITIVITY_KNOBS: ClassVar[dict[str, tuple[str, ...]]] = {
        "cue": CUE_PARAMETERS,
        "input": ("input_scale",),
    }

    def __init__(
        self,
        params: Mapping[str, ArrayLike] | None = None,
        *,
        anpp: ArrayLike,
        mat: ArrayLike,
        clay: ArrayLike,
        lignin_n: ArrayLike,
    ) -> None:
        given = dict(params or {})
        unknown = sorted(set(given) - set(MIMICS_PARAMETERS))
        if unknown:
            raise InputDataError(
                f"unknown MIMICS parameter(s) {unknown}; expected names from "
                f"{list(MIMICS_PARAMETERS)}",
                field=unknown[0],
            )
        p = {
            name: _check(name, info, given.get(name, info.default))
            for name, info in MIMICS_PARAMETERS.items()
        }
        f = {
            "anpp": _check("anpp", MIMICS_FORCING["anpp"], anpp),
            "mat": _check("mat", MIMICS_FORCING["mat"], mat),
            "clay": _check("clay", MIMICS_FORCING["clay"], clay),
            "lignin_n": _check("lignin_n", MIMICS_FORCING["lignin_n"], lignin_n),
        }
        try:
            self.batch_shape: tuple[int, ...] = np.broadcast_shapes(
                *(v.shape for v in (*p.values(), *f.values()))
            )
        except ValueError as err:
            shapes = {k: v.shape for k, v in {**p, **f}.items() if v.shape}
            raise InputDataError(
                f"MIMICS parameters and forcing do not broadcast to one batch shape: {shapes}"
            ) from err
        self.params: dict[str, FloatArray] = p
        self.forcing: dict[str, FloatArray] = f
        self._derive()

    # -----------------------------------------------------------------------------------------
    def _derive(self) -> None:
        p, f, shape = self.params, self.forcing, self.batch_shape

        def b(v: ArrayLike) -> FloatArray:
            return np.broadcast_to(np.asarray(v, dtype=float), shape)

        t = f["mat"]
        fclay = f["clay"] / 100.0
        fmet = litter_fraction_metabolic(f["lignin_n"], p["fmet_int"], p["fmet_slope"])
        bad = ~((fmet > 0) & (fmet < 1))
        if np.any(bad):
            lig = np.broadcast_to(f["lignin_n"], np.shape(fmet))
            raise InputDataError(
                "lignin_n gives a metabolic fraction f_MET = 0.85 − 0.013·lignin:N outside "
                f"(0, 1) (f_MET = {float(fmet[bad].flat[0]):.4g}); lignin:N must be below "
                "≈ 65.4 with the default coefficients",
                field="lignin_n",
                value=float(lig[bad].flat[0]) if lig.ndim else float(lig),
            )
        vmax0 = np.exp(t * p["vslope"] + p["vint"]) * p["av"]
        vmod = [p[k] for k in ("vmod_r_met", "vmod_r_str", "vmod_r_avail")] + [
            p[k] for k in ("vmod_k_met", "vmod_k_str", "vmod_k_avail")
        ]
        self.vmax: FloatArray = np.stack([b(vmax0 * m) for m in vmod], axis=-1)
        pscalar = p["pscalar_a"] * np.exp(-p["pscalar_k"] * np.sqrt(fclay))
        kslope = [p["kslope_met"], p["kslope_str"], p["kslope_avail"]] * 2
        kmod = [
            p["kmod_r_met"],
            p["kmod_r_str"],
            p["kmod_r_avail"] * pscalar,
            p["kmod_k_met"],
            p["kmod_k_str"],
            p["kmod_k_avail"] * pscalar,
        ]
        self.km: FloatArray = np.stack(
            [b(np.exp(s * t + p["kint"]) * p["ak"] / m) for s, m in zip(kslope, kmod, strict=True)],
            axis=-1,
        )
        self.cue: FloatArray = np.stack([b(p[k]) for k in CUE_PARAMETERS], axis=-1)
        mod = np.clip(np.sqrt(f["anpp"] / p["tau_anpp_ref"]), p["tau_mod_min"], p["tau_mod_max"])
        mod = mod * p["tau_mult"]
        self.tau: FloatArray = np.stack(
            [
                b(p["tau_r"] * np.exp(p["tau_r_fmet"] * fmet) * mod),
                b(p["tau_k"] * np.exp(p["tau_k_fmet"] * fmet) * mod),
            ],
            axis=-1,
        )
        self.beta: FloatArray = b(p["beta"])
        self.fmet: FloatArray = b(fmet)
        self.mic_ref: FloatArray = b(p["mic_ref"])
        self.fphys: FloatArray = np.stack(
            [
                b(p["fphys_r"] * np.exp(p["fphys_r_clay"] * fclay)),
                b(p["fphys_k"] * np.exp(p["fphys_k_clay"] * fclay)),
            ],
            axis=-1,
        )
        self.fchem: FloatArray = np.stack(
            [
                b(p["fchem_r"] * np.exp(p["fchem_fmet"] * fmet)),
                b(p["fchem_k"] * np.exp(p["fchem_fmet"] * fmet)),
            ],
            axis=-1,
        )
        self.favai: FloatArray = 1.0 - self.fphys - self.fchem
        if np.any(self.favai < 0):
            i = np.argwhere(self.favai < 0)[0]
            clay = np.broadcast_to(f["clay"], shape)[tuple(i[:-1])]
            raise InputDataError(
                "clay gives a microbial-residue partition with f_PHYS + f_CHEM > 1 "
                f"(f_AVAI = {float(self.favai[tuple(i)]):.4g} for {'rK'[i[-1]]}-strategists); "
                "MIMICS needs f_AVAI ≥ 0 (clay below ≈ 90 % with the default coefficients)",
                field="clay",
                value=float(clay),
            )
        self.desorption: FloatArray = b(p["desorb"] * np.exp(p["desorb_clay"] * fclay))
        self.ko: FloatArray = np.stack([b(p["ko_r"]), b(p["ko_k"])], axis=-1)
        self.fi: FloatArray = np.stack([b(p["fi_met"]), b(p["fi_str"])], axis=-1)
        lit = f["anpp"] * p["input_scale"] / (HOURS_PER_YEAR * 10.0 * p["depth"])
        self.inputs: FloatArray = np.stack([b(lit * fmet), b(lit * (1.0 - fmet))], axis=-1)
        self.depth: FloatArray = b(p["depth"])

    # -----------------------------------------------------------------------------------------
    @property
    def total_input(self) -> FloatArray:
        """Litter input I_m + I_s [mg C cm⁻³ h⁻¹], batch-shaped."""
        return self.inputs.sum(axis=-1)

    def replace(self, **changes: ArrayLike) -> MIMICS:
        """A new model with some parameters or forcing values replaced (validated again)."""
        params = {k: v for k, v in self.params.items()}
        forcing = {k: v for k, v in self.forcing.items()}
        for k, v in changes.items():
            if k in forcing:
                forcing[k] = np.asarray(v, dtype=float)
            else:
                params[k] = v  # unknown names are reported by __init__
        return MIMICS(params, **forcing)

    def scaled(self, knob: str, factor: ArrayLike) -> MIMICS:
        """A new model with the parameters of :attr:`SENSITIVITY_KNOBS` ``[knob]`` × ``factor``."""
        if knob not in self.SENSITIVITY_KNOBS:
            raise InputDataError(
                f"unknown sensitivity knob; expected one of {list(self.SENSITIVITY_KNOBS)}",
                field="knob",
                value=knob,
            )
        fac = np.asarray(factor, dtype=float)
        return self.replace(**{n: self.params[n] * fac for n in self.SENSITIVITY_KNOBS[knob]})

    # -----------------------------------------------------------------------------------------
    def _terms(self, x: ArrayLike) -> dict[str, Any]:
        x = np.asarray(x, dtype=float)
        if x.ndim < 1 or x.shape[-1] != len(POOLS):
            raise InputDataError(
                f"MIMICS state must have shape (..., {len(POOLS)}) in the order {POOLS}; "
                f"got shape {x.shape}"
            )
        lm, ls, mr, mk, sp, sc, sa = (x[..., i] for i in range(7))
        v, k = self.vmax, self.km
        # substrate for each of the six uptake terms (Eq. 8)
        s = np.stack([lm, ls, sa, lm, ls, sa], axis=-1)
        den = k + np.abs(s)
        u = v * s / den  # U_i(S), odd continuation for S < 0
        du = v * k / den**2  # dU_i/dS
        mic = np.stack([mr, mr, mr, mk, mk, mk], axis=-1)
        flux = mic * u  # LITmin_1, LITmin_2, SOMmin_1, LITmin_3, LITmin_4, SOMmin_2
        m = np.stack([mr, mk], axis=-1)
        beta = self.beta[..., None]
        pw = (np.abs(m) / self.mic_ref[..., None]) ** (beta - 1.0)
        turn = self.tau * m * pw  # τ·MIC^β (odd continuation for MIC < 0)
        dturn = self.tau * beta * pw
        # oxidation of SOM_c: r uses V_max,2/K_m,2, K uses V_max,5/K_m,5 (Eq. 8)
        vo = np.stack([v[..., 1], v[..., 4]], axis=-1)
        ko = self.ko * np.stack([k[..., 1], k[..., 4]], axis=-1)
        den_o = ko + np.abs(sc[..., None])
        h = vo * sc[..., None] / den_o
        dh = vo * ko / den_o**2
        return {
            "x": x,
            "m": m,
            "u": u,
            "du": du,
            "mic": mic,
            "flux": flux,
            "turn": turn,
            "dturn": dturn,
            "h": h,
            "dh": dh,
            "sp": sp,
        }

    def rhs(self, x: ArrayLike) -> FloatArray:
        """Tendency dX/dt (Eq. 9) [mg C cm⁻³ h⁻¹], shape broadcast of ``x`` and the batch.

        Parameters
        ----------
        x : array_like (..., 7)
            State in the order of :data:`POOLS` [mg C cm⁻³].
        """
        t = self._terms(x)
        fl, tr, h, m = t["flux"], t["turn"], t["h"], t["m"]
        e = self.cue
        inp, fi = self.inputs, self.fi
        des = self.desorption * t["sp"]
        ox = (m * h).sum(axis=-1)
        d = [
            inp[..., 0] * (1 - fi[..., 0]) - fl[..., 0] - fl[..., 3],
            inp[..., 1] * (1 - fi[..., 1]) - fl[..., 1] - fl[..., 4],
            e[..., 0] * (fl[..., 0] + fl[..., 2]) + e[..., 1] * fl[..., 1] - tr[..., 0],
            e[..., 2] * (fl[..., 3] + fl[..., 5]) + e[..., 3] * fl[..., 4] - tr[..., 1],
            inp[..., 0] * fi[..., 0] + (self.fphys * tr).sum(-1) - des,
            inp[..., 1] * fi[..., 1] + (self.fchem * tr).sum(-1) - ox,
            (self.favai * tr).sum(-1) + des + ox - fl[..., 2] - fl[..., 5],
        ]
        return np.stack(np.broadcast_arrays(*d), axis=-1)

    def jacobian(self, x: ArrayLike) -> FloatArray:
        """Analytic Jacobian ∂(dX/dt)/∂X of Eq. 9 [h⁻¹], shape ``(..., 7, 7)``.

        Row i, column j is ∂ f_i / ∂ x_j with f = :meth:`rhs`.
        """
        t = self._terms(x)
        u, du, mic, dt, h, dh, m = t["u"], t["du"], t["mic"], t["dturn"], t["h"], t["dh"], t["m"]
        e = self.cue
        a = mic * du  # ∂flux_i/∂S_i
        shape = np.broadcast_shapes(u.shape[:-1], self.batch_shape)
        jac = np.zeros((*shape, 7, 7))
        # LIT_m, LIT_s
        jac[..., 0, 0] = -(a[..., 0] + a[..., 3])
        jac[..., 0, 2] = -u[..., 0]
        jac[..., 0, 3] = -u[..., 3]
        jac[..., 1, 1] = -(a[..., 1] + a[..., 4])
        jac[..., 1, 2] = -u[..., 1]
        jac[..., 1, 3] = -u[..., 4]
        # MIC_r, MIC_K
        jac[..., 2, 0] = e[..., 0] * a[..., 0]
        jac[..., 2, 1] = e[..., 1] * a[..., 1]
        jac[..., 2, 2] = e[..., 0] * (u[..., 0] + u[..., 2]) + e[..., 1] * u[..., 1] - dt[..., 0]
        jac[..., 2, 6] = e[..., 0] * a[..., 2]
        jac[..., 3, 0] = e[..., 2] * a[..., 3]
        jac[..., 3, 1] = e[..., 3] * a[..., 4]
        jac[..., 3, 3] = e[..., 2] * (u[..., 3] + u[..., 5]) + e[..., 3] * u[..., 4] - dt[..., 1]
        jac[..., 3, 6] = e[..., 2] * a[..., 5]
        # SOM_p
        jac[..., 4, 2] = self.fphys[..., 0] * dt[..., 0]
        jac[..., 4, 3] = self.fphys[..., 1] * dt[..., 1]
        jac[..., 4, 4] = -self.desorption
        # SOM_c
        dox = (m * dh).sum(axis=-1)
        jac[..., 5, 2] = self.fchem[..., 0] * dt[..., 0] - h[..., 0]
        jac[..., 5, 3] = self.fchem[..., 1] * dt[..., 1] - h[..., 1]
        jac[..., 5, 5] = -dox
        # SOM_a
        jac[..., 6, 2] = self.favai[..., 0] * dt[..., 0] + h[..., 0] - u[..., 2]
        jac[..., 6, 3] = self.favai[..., 1] * dt[..., 1] + h[..., 1] - u[..., 5]
        jac[..., 6, 4] = self.desorption
        jac[..., 6, 5] = dox
        jac[..., 6, 6] = -(a[..., 2] + a[..., 5])
        return jac

    def respiration(self, x: ArrayLike) -> FloatArray:
        """Heterotrophic respiration R (Eq. 10) [mg C cm⁻³ h⁻¹], shape ``(...)``."""
        fl = self._terms(x)["flux"]
        e = self.cue
        return (
            (1 - e[..., 0]) * (fl[..., 0] + fl[..., 2])
            + (1 - e[..., 1]) * fl[..., 1]
            + (1 - e[..., 2]) * (fl[..., 3] + fl[..., 5])
            + (1 - e[..., 3]) * fl[..., 4]
        )

    def soc(self, x: ArrayLike, *, litter: bool = True) -> FloatArray:
        """Soil organic carbon stock [g C m⁻²] over the model depth, shape ``(...)``.

        With ``litter=True`` (default) all seven pools count, as the MIMICS reference code's
        ``MIMSOC`` (``sum(test[[1]])``); with ``litter=False`` only MIC_r, MIC_K, SOM_p, SOM_c
        and SOM_a.
        """
        x = np.asarray(x, dtype=float)
        total = x.sum(axis=-1) if litter else x[..., 2:].sum(axis=-1)
        return to_g_per_m2(total, self.depth)

    def residual(self, x: ArrayLike) -> FloatArray:
        """Relative steady-state residual ‖dX/dt‖_∞ / (I_m + I_s), shape ``(...)``."""
        return np.max(np.abs(self.rhs(x)), axis=-1) / self.total_input

    # -----------------------------------------------------------------------------------------
    def initial_guesses(self) -> FloatArray:
        """Starting states for the steady-state search, shape ``(n_starts, *batch_shape, 7)``.

        Built from the litter input I [mg C cm⁻³ h⁻¹] and characteristic times of the default
        model: the start of the reference code (LIT = MIC = I, SOM = (I_m, I_s, I_m), all
        multiplied by 10³ h so that they are states, not rates), and that start scaled by
        10⁻¹…10² per pool group, plus a microbe-rich start for density-dependent turnover.
        """
        i = self.inputs
        itot = self.total_input[..., None]
        base = np.concatenate([i, i, i[..., :1], i[..., 1:], i[..., :1]], axis=-1) * 1e3
        starts = []
        for lit, mic, som in [
            (1.0, 1.0, 1.0),
            (10.0, 1.0, 100.0),
            (1.0, 10.0, 1000.0),
            (0.3, 100.0, 300.0),
            (30.0, 0.3, 30.0),
        ]:
            scale = np.array([lit, lit, mic, mic, som, som, som])
            starts.append(base * scale)
        # a start proportional to the total input (independent of the f_MET split)
        starts.append(
            np.broadcast_to(itot * np.array([3, 10, 3, 3, 50, 50, 5]) * 1e3, (*i.shape[:-1], 7))
        )
        return np.stack(starts, axis=0)

    def steady_state(
        self,
        x0s: ArrayLike | None = None,
        *,
        rtol: float = 1e-8,
        max_iter: int = 200,
        **kwargs: Any,
    ) -> SteadyStateReport:
        """Positive steady state(s) by the shared robust Newton solver.

        Parameters
        ----------
        x0s : array_like (n_starts, ..., 7), optional
            Starting states [mg C cm⁻³]; :meth:`initial_guesses` by default.
        rtol : float
            Relative residual at which a state counts as converged.
        max_iter : int
            Newton iterations per start.
        **kwargs
            Passed on to ``wholesoil.models._nonlinear.find_steady_states``.

        Returns
        -------
        SteadyStateReport
            From ``find_steady_states``: ``state`` (..., 7) [mg C cm⁻³] (NaN unless status is
            "ok"), all distinct ``states``, ``residual``, ``stable``, ``eigenvalues``,
            ``status`` and ``n_found``.
        """
        starts = self.initial_guesses() if x0s is None else np.asarray(x0s, dtype=float)
        return find_steady_states(
            self.rhs, self.jacobian, starts, rtol=rtol, max_iter=max_iter, **kwargs
        )

    def simulate(
        self,
        x0: ArrayLike,
        years: float,
        *,
        t_eval: ArrayLike | None = None,
        method: str = "BDF",
        rtol: float = 1e-8,
        atol: float = 1e-12,
    ) -> tuple[FloatArray, FloatArray]:
        """Transient integration of Eq. 9 with constant forcing (scipy ``solve_ivp``, stiff).

        The batch is flattened into one ODE system with a block-diagonal Jacobian, so one
        call integrates all batch elements (the step size is shared).

        Parameters
        ----------
        x0 : array_like (..., 7)
            Initial state [mg C cm⁻³], broadcastable against the batch.
        years : float
            Length of the run [yr] (integrated in hours, :data:`HOURS_PER_YEAR` per year).
        t_eval : array_like, optional
            Output times [yr]; default 101 points from 0 to ``years``.
        method, rtol, atol
            ``solve_ivp`` options.

        Returns
        -------
        t : ndarray (n_t,)
            Output times [yr].
        x : ndarray (n_t, *batch, 7)
            States [mg C cm⁻³].
        """
        from scipy.integrate import solve_ivp
        from scipy.sparse import block_diag

        shape = np.broadcast_shapes(np.shape(x0)[:-1], self.batch_shape)
        y0 = np.broadcast_to(np.asarray(x0, dtype=float), (*shape, 7)).reshape(-1)
        n = y0.size // 7
        if t_eval is None:
            t_eval = np.linspace(0.0, years, 101)
        t_h = np.asarray(t_eval, dtype=float) * HOURS_PER_YEAR

        def fun(_t: float, y: FloatArray) -> FloatArray:
            return np.broadcast_to(self.rhs(y.reshape(*shape, 7)), (*shape, 7)).reshape(-1)

        def jac(_t: float, y: FloatArray) -> Any:
            j = np.broadcast_to(self.jacobian(y.reshape(*shape, 7)), (*shape, 7, 7))
            return block_diag(list(j.reshape(n, 7, 7)), format="csc")

        sol = solve_ivp(
            fun,
            (0.0, float(years) * HOURS_PER_YEAR),
            y0,
            method=method,
            t_eval=t_h,
            jac=jac,
            rtol=rtol,
            atol=atol,
        )
        if not sol.success:
            raise RuntimeError(f"MIMICS transient integration failed: {sol.message}")
        return sol.t / HOURS_PER_YEAR, sol.y.T.reshape(len(sol.t), *shape, 7)
