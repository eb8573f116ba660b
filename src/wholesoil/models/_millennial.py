"""Millennial v2 (Abramoff et al. 2022) with an adjustable microbial turnover exponent β.

Millennial version 2 (Abramoff et al. 2022, SBB 164:108466) has five carbon pools, in the order of
:data:`POOLS`: particulate organic matter (POM), low-molecular-weight carbon (LMWC), aggregate C
(AGG), microbial biomass (MIC) and mineral-associated organic matter (MAOM). Carbon is in
g C m⁻² and time in days, as published; temperature is in °C, volumetric water content in
m³ m⁻³, clay + silt in %, bulk density in g cm⁻³ (converted to the reference code's kg m⁻³).
:func:`per_year` and :func:`per_day` convert rates between days and years (365-day years, as
the reference code's forcing cycle).

With w_d the moisture scalar on decomposition, w_b that on microbial uptake and I the plant
input (NPP), the fluxes are (equation numbers of Abramoff et al. 2022, as in the reference code
``rabramoff/Millennial`` v2, ``R/models/derivs_V2_MM.R``)::

    V_pl = α_pl·exp(−E_pl/(R·T_K))                                  (Eq. 3)
    F_pl = V_pl·w_d·POM·MIC/(K_pl + MIC)        POM → LMWC          (Eq. 2)
    w_d  = (θ/φ)^0.5                                                (Eq. 4)
    F_pa = k_pa·w_d·POM                         POM → AGG           (Eq. 5)
    F_b  = k_b·w_d·AGG                          AGG → POM, MAOM     (Eq. 6)
    F_l  = k_l·w_d·LMWC                         LMWC → leached      (Eq. 8)
    F_lm = w_d·K_lm·LMWC·(1 − MAOM/Q_max)       LMWC → MAOM         (Eq. 9)
    K_lm = K_des·exp(−p1·pH − p2)                                   (Eq. 10)
    Q_max = ρ_b·c_1·(clay + silt)                                   (Eq. 11)
    F_ml = K_des·MAOM/Q_max                     MAOM → LMWC         (Eq. 12)
    F_lb = V_lb·w_b·MIC·LMWC/(K_lb + LMWC)      LMWC → MIC          (Eq. 13)
    V_lb = α_lb·exp(−E_lb/(R·T_K))                                  (Eq. 14)
    w_b  = exp(−λ·ψ)·(k_a,min + (1 − k_a,min)·((φ − θ)/φ)^0.5)·w_d  (Eq. 15)
    F_bd = k_bd·MIC^β                           MIC → LMWC, MAOM    (Eq. 16, β = 2 published)
    F_ma = k_ma·w_d·MAOM                        MAOM → AGG          (Eq. 18)
    CUE  = CUE_ref − CUE_T·(T − T_ref)                              (Eq. 21)
    R_h  = (1 − CUE)·F_lb                       MIC → CO2           (Eq. 21)

and the pools change as::

    dPOM/dt  = p_i·I + p_a·F_b − F_pa − F_pl                            (Eq. 1)
    dLMWC/dt = (1 − p_i)·I − F_l + F_pl − F_lm − F_lb + (1 − p_b)·F_bd + F_ml  (Eq. 7)
    dAGG/dt  = F_ma + F_pa − F_b                                        (Eq. 17)
    dMAOM/dt = F_lm − F_ml + p_b·F_bd − F_ma + (1 − p_a)·F_b            (Eq. 19)
    dMIC/dt  = CUE·F_lb − F_bd                                          (Eq. 20)

Carbon leaves only as respiration R_h and leaching F_l, so at a steady state
``I = R_h + F_l`` (:meth:`Millennial.mass_balance_residual`). As in the reference code, a flux
is zero where the pool it leaves (or the microbial pool that drives it) is ≤ 0.

The published model has density-dependent microbial turnover F_bd = k_bd·MIC²; ``beta`` is the
total exponent on MIC (β = 1 classic first-order turnover, β > 1 density dependent; He et al.
2024, Fig. 1 d–f). ``rate_bd`` keeps its numerical value when β changes, so its unit is
(g C m⁻²)^(1−β) d⁻¹.

The parameter values are the fitted set of the Millennial v2 release, file
``Fortran/MillennialV2/simulationv2/soilpara_in_fit.txt`` (Abramoff & Xu 2022, Zenodo
https://doi.org/10.5281/zenodo.6353519); the site constants (pH 7, bulk density 1000 kg m⁻³,
c_1 = 0.86, clay + silt 80 %) are those of the reference tutorial ``model_tutorial.Rmd``. A site
given by its clay content alone (He et al. 2024's "clay 20 %") gets the silt of the reference
code's texture series, silt = sand = (100 − clay)/2 (:func:`clay_silt_from_clay`).

``Q_max = ρ_b·c_1·(clay + silt)`` is in g C m⁻³ (kg soil m⁻³ × g C kg⁻¹ soil, c_1 = 0.86 g C kg⁻¹
per % clay + silt after Georgiou et al. 2022); the reference code uses it as a stock in
g C m⁻² with no depth factor (an implicit 1 m), and so does this module.

References
----------
Abramoff, R. Z. et al. (2022). Improved global-scale predictions of soil carbon stocks with
Millennial Version 2. Soil Biol. Biochem. 164, 108466.
https://doi.org/10.1016/j.soilbio.2021.108466

He, X. et al. (2024). Model uncertainty obscures major driver of soil carbon. Nature 627,
E1–E3. https://doi.org/10.1038/s41586-023-06999-1

Georgiou, K. et al. (2022). Global stocks and capacity of mineral-associated soil organic
carbon. Nat. Commun. 13, 3797. https://doi.org/10.1038/s41467-022-31540-9
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError
from wholesoil.models._parameters import Parameter

#: Pools in the order of the reference code's state vector.
POOLS: tuple[str, ...] = ("POM", "LMWC", "AGG", "MIC", "MAOM")
N_POOLS = 5
POM, LMWC, AGG, MIC, MAOM = range(N_POOLS)

#: Universal gas constant [J K⁻¹ mol⁻¹] as in the reference code.
GAS_CONSTANT = 8.31446
#: Days per year used to convert the native daily rates (the reference forcing cycles 365 days).
DAYS_PER_YEAR = 365.0

_FIT = (
    "Millennial v2 release, Fortran/MillennialV2/simulationv2/soilpara_in_fit.txt "
    "(Abramoff & Xu 2022, doi:10.5281/zenodo.6353519)"
)
_TUTORIAL = "Millennial v2 reference R/simulation/model_tutorial.Rmd (site-level parameters)"


#: The parameter record of this module (one record for every model: :class:`Parameter`).
ParamInfo = Parameter


def _check(info: Parameter, value: NDArray[np.float64], label: str | None = None) -> None:
    """Raise :class:`InputDataError` naming the parameter where ``value`` is out of range."""
    lo, hi = info.valid
    lo_ok = value >= lo if info.closed[0] else value > lo
    hi_ok = value <= hi if info.closed[1] else value < hi
    bad = np.isnan(value) | ~lo_ok | ~hi_ok
    if np.any(bad):
        left = "[" if info.closed[0] else "("
        right = "]" if info.closed[1] else ")"
        first = np.asarray(value)[bad].ravel()[0]
        unit = "" if info.unit == "-" else f" {info.unit}"
        raise InputDataError(
            f"expected {label or info.name} in {left}{lo:g}, {hi:g}{right}{unit}",
            field=info.name,
            value=float(first),
        )


_INF = float("inf")
_POS = ((0.0, _INF), (False, True))
_FRAC = ((0.0, 1.0), (True, True))


def _p(name, value, unit, valid, description, source=_FIT):
    rng, closed = valid
    return Parameter(name, unit, rng[0], rng[1], default=value, source=source,
                     description=description, closed=closed)


#: The 24 fitted parameters of Millennial v2 (``soilpara_in_fit.txt`` of the v2 release) plus
#: c_1 (``param_pc``) and the turnover exponent β. Valid ranges are the physical domains (the
#: file gives values only). ``kaff_des`` multiplies a first-order binding rate (Eq. 10, d⁻¹) and
#: a desorption flux (Eq. 12, g C m⁻² d⁻¹) in the reference code; its unit is listed for Eq. 12.
PARAMETERS: dict[str, ParamInfo] = {
    p.name: p
    for p in (
        _p("param_pi", 0.66, "-", _FRAC, "fraction of plant input to POM (Eq. 1)"),
        _p("param_pa", 0.33, "-", _FRAC, "fraction of aggregate breakdown to POM (Eqs. 1, 19)"),
        _p("kaff_pl", 6443.0, "g C m-2", _POS, "half-saturation MIC of POM decomposition (Eq. 2)"),
        _p("alpha_pl", 1.8e12, "d-1", _POS, "pre-exponential factor of POM decomposition (Eq. 3)"),
        _p("eact_pl", 63909.0, "J mol-1", _POS, "activation energy of POM decomposition (Eq. 3)"),
        _p(
            "rate_pa",
            0.018,
            "d-1",
            ((0.0, _INF), (True, True)),
            "aggregate formation from POM (Eq. 5)",
        ),
        _p("rate_break", 0.02, "d-1", _POS, "aggregate breakdown rate (Eq. 6)"),
        _p("rate_leach", 0.0015, "d-1", ((0.0, _INF), (True, True)), "LMWC leaching rate (Eq. 8)"),
        _p(
            "kaff_des", 1.0, "g C m-2 d-1", _POS, "desorption rate; prefactor of K_lm (Eqs. 10, 12)"
        ),
        _p(
            "param_p1",
            0.12,
            "-",
            ((-_INF, _INF), (False, False)),
            "pH coefficient of K_lm (Eq. 10)",
        ),
        _p("param_p2", 0.216, "-", ((-_INF, _INF), (False, False)), "intercept of K_lm (Eq. 10)"),
        _p("kaff_lb", 774.6, "g C m-2", _POS, "half-saturation LMWC of microbial uptake (Eq. 13)"),
        _p("alpha_lb", 2.3e12, "d-1", _POS, "pre-exponential factor of microbial uptake (Eq. 14)"),
        _p("eact_lb", 57865.0, "J mol-1", _POS, "activation energy of microbial uptake (Eq. 14)"),
        _p(
            "rate_bd",
            0.0045,
            "(g C m-2)^(1-beta) d-1",
            _POS,
            "microbial turnover coefficient, F_bd = rate_bd·MIC^beta (Eq. 16)",
        ),
        _p(
            "rate_ma",
            0.0048,
            "d-1",
            ((0.0, _INF), (True, True)),
            "aggregate formation from MAOM (Eq. 18)",
        ),
        _p(
            "cue_ref",
            0.19,
            "-",
            ((0.0, 1.0), (False, False)),
            "carbon use efficiency at the reference temperature (Eq. 21)",
        ),
        _p(
            "cue_t",
            0.012,
            "degC-1",
            ((-_INF, _INF), (False, False)),
            "temperature sensitivity of carbon use efficiency (Eq. 21)",
        ),
        _p(
            "tae_ref",
            15.0,
            "degC",
            ((-_INF, _INF), (False, False)),
            "reference temperature of carbon use efficiency (Eq. 21)",
        ),
        _p("matpot", 15.0, "kPa", ((0.0, _INF), (True, True)), "soil matric potential (Eq. 15)"),
        _p(
            "lambda",
            2.1e-4,
            "kPa-1",
            ((0.0, _INF), (True, True)),
            "dependence of uptake on matric potential (Eq. 15)",
        ),
        _p("kamin", 0.2, "-", _FRAC, "minimum relative uptake rate in saturated soil (Eq. 15)"),
        _p("param_pb", 0.5, "-", _FRAC, "fraction of microbial necromass to MAOM (Eqs. 7, 19)"),
        _p(
            "param_pc",
            0.86,
            "g C kg-1 %-1",
            _POS,
            "slope c_1 of the mineral C capacity on clay + silt (Eq. 11; Georgiou et al. 2022)",
            _TUTORIAL,
        ),
        _p(
            "beta",
            2.0,
            "-",
            ((1.0, 3.0), (True, True)),
            "total exponent on MIC of microbial turnover (Eq. 16; 2 published, 1 classic)",
            "Abramoff et al. (2022) Eq. 16; He et al. (2024) Fig. 1",
        ),
    )
}

#: Forcing and site properties. ``porosity`` is in ``soilpara_in_fit.txt``; pH, bulk density and
#: clay + silt are the reference tutorial's site-level values. Temperature, water content and
#: NPP have no published default; the defaults here (15 °C = T_ref, θ = 0.3 m³ m⁻³ = half the
#: porosity, NPP = 500 g C m⁻² yr⁻¹) are illustrative.
FORCING: dict[str, ParamInfo] = {
    p.name: p
    for p in (
        _p(
            "temperature",
            15.0,
            "degC",
            ((-273.15, _INF), (False, False)),
            "soil temperature T (Eqs. 3, 14, 21)",
            "illustrative (= tae_ref)",
        ),
        _p(
            "moisture",
            0.3,
            "m3 m-3",
            ((0.0, 1.0), (False, True)),
            "volumetric water content theta, 0 < theta <= porosity (Eqs. 4, 15)",
            "illustrative (half the porosity)",
        ),
        _p(
            "porosity",
            0.6,
            "m3 m-3",
            ((0.0, 1.0), (False, True)),
            "total porosity phi (Eqs. 4, 15)",
        ),
        _p("ph", 7.0, "-", ((0.0, 14.0), (True, True)), "soil pH (Eq. 10)", _TUTORIAL),
        _p(
            "bulk_density",
            1.0,
            "g cm-3",
            ((0.0, _INF), (False, False)),
            "bulk density rho_b (Eq. 11; 1000 kg m-3 in the tutorial)",
            _TUTORIAL,
        ),
        _p(
            "clay_silt",
            80.0,
            "%",
            ((0.0, 100.0), (False, True)),
            "clay + silt content (Eq. 11)",
            _TUTORIAL,
        ),
        _p(
            "npp",
            500.0 / DAYS_PER_YEAR,
            "g C m-2 d-1",
            ((0.0, _INF), (True, False)),
            "plant carbon input I (Eqs. 1, 7)",
            "illustrative (500 g C m-2 yr-1)",
        ),
    )
}

#: Names the sensitivity code perturbs: CUE scales ``cue_ref`` and ``cue_t`` together, which
#: scales the effective CUE = cue_ref − cue_t·(T − tae_ref) by the same factor; input is NPP.
SENSITIVITY_KNOBS: dict[str, tuple[str, ...]] = {"cue": ("cue_ref", "cue_t"), "input": ("npp",)}

#: Silt share of the non-clay fraction in the Millennial reference code's texture series: the
#: clay series ``Fortran/MillennialV1/simulation/soilpara_in{10,20,…,80}clay`` of
#: ``rabramoff/Millennial`` (commit 2a77a4f, 2021) sets sand = silt = (1 − clay)/2 at every clay
#: content (clay 0.2 → sand 0.4, silt 0.4), as does its site file ``soilpara_in_bbl`` (clay 20,
#: sand 40, silt 40). Used by :func:`clay_silt_from_clay`.
SILT_SHARE_OF_NON_CLAY: float = 0.5


def clay_silt_from_clay(clay: ArrayLike) -> NDArray[np.float64]:
    """Millennial's texture input (clay + silt) from a clay content alone.

    Millennial v2 needs clay + silt (Eq. 11 of Abramoff et al. 2022); a site given only its clay
    content gets the silt the Millennial reference code's texture series implies: the rest of
    the soil split equally between sand and silt (:data:`SILT_SHARE_OF_NON_CLAY`), so::

        silt = 0.5·(100 − clay),    clay + silt = 50 + clay/2

    (clay 20 % → silt 40 %, clay + silt 60 %; He et al. 2024's Fig. 1 site).

    Parameters
    ----------
    clay : array_like
        Clay content [%], in [0, 100].

    Returns
    -------
    numpy.ndarray
        Clay + silt content [%], in [50, 100].

    References
    ----------
    Abramoff, R. Z. et al. (2022). Soil Biol. Biochem. 164, 108466,
    doi:10.1016/j.soilbio.2021.108466; reference code ``rabramoff/Millennial``
    (``Fortran/MillennialV1/simulation/soilpara_in20clay``: clay 0.2, sand 0.4, silt 0.4).
    """
    c = np.asarray(clay, dtype=float)
    bad = ~((c >= 0.0) & (c <= 100.0))
    if np.any(bad):
        got = c[bad].ravel()[0]
        raise InputDataError(f"clay must be in [0, 100] % (got {got:g})", field="clay",
                             value=float(got))
    return c + SILT_SHARE_OF_NON_CLAY * (100.0 - c)


#: He et al. (2024) Fig. 1 conditions: MAT 20 °C and clay 20 %. Millennial's texture input is
#: clay + silt, 60 % here: the clay plus the silt of the reference code's texture series
#: (:func:`clay_silt_from_clay`).
SEED002_FORCING: dict[str, float] = {"temperature": 20.0,
                                     "clay_silt": float(clay_silt_from_clay(20.0))}

# Flux order used by the stoichiometry and Jacobian.
FLUXES: tuple[str, ...] = ("pl", "pa", "break", "leach", "lm", "ml", "lb", "turn", "ma")
_PL, _PA, _BR, _LE, _LM, _ML, _LB, _TU, _MA = range(len(FLUXES))


def per_year(rate_per_day: ArrayLike) -> NDArray[np.float64]:
    """Convert a rate per day to per year (× 365) [same carbon unit]."""
    return np.asarray(rate_per_day, dtype=float) * DAYS_PER_YEAR


def per_day(rate_per_year: ArrayLike) -> NDArray[np.float64]:
    """Convert a rate per year to per day (÷ 365) [same carbon unit]."""
    return np.asarray(rate_per_year, dtype=float) / DAYS_PER_YEAR


def matched_rate_bd(
    rate_bd: ArrayLike, beta_from: ArrayLike, beta_to: ArrayLike, mic_ref: ArrayLike
) -> NDArray[np.float64]:
    """Turnover coefficient for a new exponent with the same turnover flux at ``mic_ref``.

    ``k_bd' = k_bd·MIC_ref^(β − β')`` so that ``k_bd'·MIC_ref^β' = k_bd·MIC_ref^β`` (Eq. 16).

    Parameters
    ----------
    rate_bd : array_like
        Coefficient k_bd for exponent ``beta_from`` [(g C m⁻²)^(1−β) d⁻¹].
    beta_from, beta_to : array_like
        Old and new exponent β [-].
    mic_ref : array_like
        Microbial biomass where the fluxes agree [g C m⁻²], > 0.
    """
    mic_ref = _wet(mic_ref)
    if np.any(~(mic_ref > 0)):
        raise InputDataError(
            "expected mic_ref > 0 g C m-2",
            field="mic_ref",
            value=float(np.ravel(mic_ref)[~(np.ravel(mic_ref) > 0)][0]),
        )
    return _wet(rate_bd) * mic_ref ** (_wet(beta_from) - _wet(beta_to))


def _wet(value: Any) -> NDArray[np.float64]:
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputDataError("expected a number or an array of numbers", value=value) from exc


class SteadyStateSummary(NamedTuple):
    """Carbon balance at a state: input, respiration, leaching (g C m⁻² d⁻¹) and residual."""

    inputs: NDArray[np.float64]
    respiration: NDArray[np.float64]
    leaching: NDArray[np.float64]
    residual: NDArray[np.float64]


class Millennial:
    """Millennial v2 (Abramoff et al. 2022), batched, with microbial turnover exponent β.

    Parameters
    ----------
    params : mapping of str to array_like, optional
        Any of :data:`PARAMETERS` (defaults: the fitted v2 set, β = 2) and, so that a
        ``factory(overrides)`` can perturb the input, any of :data:`FORCING` not also given as
        a keyword. Arrays broadcast.
    temperature : array_like, optional
        Soil temperature [°C].
    moisture : array_like, optional
        Volumetric water content θ [m³ m⁻³], 0 < θ ≤ porosity.
    porosity : array_like, optional
        Total porosity φ [m³ m⁻³].
    ph : array_like, optional
        Soil pH [-].
    bulk_density : array_like, optional
        Bulk density [g cm⁻³].
    clay_silt : array_like, optional
        Clay + silt content [%], in (0, 100].
    npp : array_like, optional
        Plant carbon input [g C m⁻² d⁻¹], ≥ 0 (use :func:`per_day` for yearly values).

    Notes
    -----
    The batch shape is the broadcast of every parameter and forcing. States ``x`` have shape
    ``(..., 5)`` in the order of :data:`POOLS`, in g C m⁻², and broadcast against the batch.

    Raises
    ------
    InputDataError
        A parameter or forcing outside its valid range (:data:`PARAMETERS`, :data:`FORCING`),
        e.g. β outside [1, 3], CUE outside (0, 1) at the given temperature, clay + silt outside
        (0, 100] %, negative NPP, θ above the porosity.
    """

    POOLS = POOLS
    PARAMETERS = PARAMETERS
    FORCING = FORCING
    SENSITIVITY_KNOBS = SENSITIVITY_KNOBS

    def __init__(
        self,
        params: Mapping[str, ArrayLike] | None = None,
        *,
        temperature: ArrayLike | None = None,
        moisture: ArrayLike | None = None,
        porosity: ArrayLike | None = None,
        ph: ArrayLike | None = None,
        bulk_density: ArrayLike | None = None,
        clay_silt: ArrayLike | None = None,
        npp: ArrayLike | None = None,
    ) -> None:
        params = dict(params or {})
        unknown = sorted(set(params) - set(PARAMETERS) - set(FORCING))
        if unknown:
            raise InputDataError(
                "unknown Millennial parameter or forcing; expected one of "
                f"{sorted(PARAMETERS) + sorted(FORCING)}",
                field=unknown[0],
            )
        given = {
            "temperature": temperature,
            "moisture": moisture,
            "porosity": porosity,
            "ph": ph,
            "bulk_density": bulk_density,
            "clay_silt": clay_silt,
            "npp": npp,
        }
        both = sorted(k for k, v in given.items() if v is not None and k in params)
        if both:
            raise InputDataError(
                "given both in params and as a keyword; give it once", field=both[0]
            )
        given.update({k: v for k, v in params.items() if k in FORCING})
        values: dict[str, NDArray[np.float64]] = {}
        for name, info in PARAMETERS.items():
            v = _wet(params.get(name, info.value))
            _check(info, v)
            values[name] = v
        for name, info in FORCING.items():
            v = _wet(info.value if given[name] is None else given[name])
            _check(info, v)
            values[name] = v
        try:
            self.batch_shape: tuple[int, ...] = np.broadcast_shapes(
                *(v.shape for v in values.values())
            )
        except ValueError as exc:
            shapes = {k: v.shape for k, v in values.items() if v.shape}
            raise InputDataError(f"parameters and forcing do not broadcast: {shapes}") from exc
        theta, phi = np.broadcast_arrays(values["moisture"], values["porosity"])
        if np.any(theta > phi):
            raise InputDataError(
                "expected volumetric water content <= porosity (Eqs. 4, 15)",
                field="moisture",
                value=float(theta[theta > phi].ravel()[0]),
            )
        self._values = values
        cue = self.cue
        if np.any(~((cue > 0) & (cue < 1))):
            raise InputDataError(
                "expected carbon use efficiency cue_ref − cue_t·(T − tae_ref) in (0, 1) "
                "(Eq. 21); check cue_ref, cue_t and temperature",
                field="cue",
                value=float(np.ravel(cue[~((cue > 0) & (cue < 1))])[0]),
            )
        self._derived()

    # ------------------------------------------------------------------ parameters and forcing
    def __getitem__(self, name: str) -> NDArray[np.float64]:
        """The value of a parameter or forcing by name (as given, not broadcast)."""
        return self._values[name]

    @property
    def params(self) -> dict[str, NDArray[np.float64]]:
        """A copy of all parameter and forcing values by name (as given, not broadcast)."""
        return dict(self._values)

    def replace(self, **changes: ArrayLike) -> Millennial:
        """A new model with some parameters or forcing replaced (validated again)."""
        vals: dict[str, Any] = dict(self._values)
        unknown = sorted(set(changes) - set(vals))
        if unknown:
            raise InputDataError("unknown Millennial parameter or forcing", field=unknown[0])
        vals.update(changes)
        params = {k: vals[k] for k in PARAMETERS}
        forcing = {k: vals[k] for k in FORCING}
        return Millennial(params, **forcing)

    def perturbed(self, knob: str, factor: ArrayLike) -> Millennial:
        """A new model with the parameters of a :data:`SENSITIVITY_KNOBS` entry × ``factor``."""
        if knob not in SENSITIVITY_KNOBS:
            raise InputDataError(
                f"unknown sensitivity knob; expected one of {sorted(SENSITIVITY_KNOBS)}",
                field="knob",
                value=knob,
            )
        f = _wet(factor)
        return self.replace(**{n: self._values[n] * f for n in SENSITIVITY_KNOBS[knob]})

    @property
    def beta(self) -> NDArray[np.float64]:
        """Total exponent on MIC of the microbial turnover flux [-] (Eq. 16)."""
        return self._values["beta"]

    @property
    def input(self) -> NDArray[np.float64]:
        """Plant carbon input I [g C m⁻² d⁻¹] (Eqs. 1, 7)."""
        return self._values["npp"]

    @property
    def cue(self) -> NDArray[np.float64]:
        """Carbon use efficiency CUE_ref − CUE_T·(T − T_ref) [-] (Eq. 21)."""
        v = self._values
        return v["cue_ref"] - v["cue_t"] * (v["temperature"] - v["tae_ref"])

    def _derived(self) -> None:
        v = self._values
        t_k = v["temperature"] + 273.15
        wd = np.sqrt(v["moisture"] / v["porosity"])
        wb = (
            np.exp(-v["lambda"] * v["matpot"])
            * (
                v["kamin"]
                + (1.0 - v["kamin"]) * np.sqrt((v["porosity"] - v["moisture"]) / v["porosity"])
            )
            * wd
        )
        self.scalar_wd = wd  # Eq. 4
        self.scalar_wb = wb  # Eq. 15
        self.vmax_pl = v["alpha_pl"] * np.exp(-v["eact_pl"] / (GAS_CONSTANT * t_k))  # Eq. 3
        self.vmax_lb = v["alpha_lb"] * np.exp(-v["eact_lb"] / (GAS_CONSTANT * t_k))  # Eq. 14
        self.kaff_lm = v["kaff_des"] * np.exp(-v["param_p1"] * v["ph"] - v["param_p2"])  # Eq. 10
        # Eq. 11: kg soil m-3 (g cm-3 × 1000) × g C kg-1 per % × %.
        self.qmax = 1000.0 * v["bulk_density"] * v["param_pc"] * v["clay_silt"]
        pa, pb, cue = v["param_pa"], v["param_pb"], self.cue
        shape = self.batch_shape
        one = np.ones(shape)
        zero = np.zeros(shape)
        s = np.zeros((*shape, N_POOLS, len(FLUXES)))
        s[..., POM, _PL] = -1.0
        s[..., POM, _PA] = -1.0
        s[..., POM, _BR] = pa * one
        s[..., LMWC, _PL] = 1.0
        s[..., LMWC, _LE] = -1.0
        s[..., LMWC, _LM] = -1.0
        s[..., LMWC, _ML] = 1.0
        s[..., LMWC, _LB] = -1.0
        s[..., LMWC, _TU] = (1.0 - pb) * one
        s[..., AGG, _PA] = 1.0
        s[..., AGG, _BR] = -1.0
        s[..., AGG, _MA] = 1.0
        s[..., MIC, _LB] = cue * one
        s[..., MIC, _TU] = -1.0
        s[..., MAOM, _BR] = (1.0 - pa) * one
        s[..., MAOM, _LM] = 1.0
        s[..., MAOM, _ML] = -1.0
        s[..., MAOM, _TU] = pb * one
        s[..., MAOM, _MA] = -1.0
        self._stoich = s
        src = np.zeros((*shape, N_POOLS))
        src[..., POM] = v["param_pi"] * v["npp"] + zero
        src[..., LMWC] = (1.0 - v["param_pi"]) * v["npp"] + zero
        self._source = src

    # ------------------------------------------------------------------ fluxes and tendencies
    def _state(self, x: ArrayLike) -> NDArray[np.float64]:
        x = np.asarray(x, dtype=float)
        if x.ndim == 0 or x.shape[-1] != N_POOLS:
            raise InputDataError(
                f"expected a state with last axis of length {N_POOLS} {POOLS}",
                field="x",
                value=x.shape,
            )
        return x

    def fluxes(self, x: ArrayLike) -> NDArray[np.float64]:
        """The nine fluxes of Eqs. 2–18 [g C m⁻² d⁻¹], last axis in the order of :data:`FLUXES`.

        Parameters
        ----------
        x : array_like, shape (..., 5)
            Pools [g C m⁻²].
        """
        return self._fluxes_and_partials(self._state(x), partials=False)[0]

    def _fluxes_and_partials(
        self, x: NDArray[np.float64], *, partials: bool
    ) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
        v = self._values
        p, l_, a, m, q = (x[..., i] for i in range(N_POOLS))
        pos = [x[..., i] > 0 for i in range(N_POOLS)]
        pp, lp, ap, mp, qp = pos
        mc = np.where(mp, m, 0.0)
        lc = np.where(lp, l_, 0.0)
        wd, wb = self.scalar_wd, self.scalar_wb
        kpl, klb, beta, rbd = v["kaff_pl"], v["kaff_lb"], v["beta"], v["rate_bd"]
        qmax = self.qmax
        f_pl = np.where(pp & mp, self.vmax_pl * wd * p * mc / (kpl + mc), 0.0)
        f_pa = np.where(pp, v["rate_pa"] * wd * p, 0.0)
        f_br = np.where(ap, v["rate_break"] * wd * a, 0.0)
        f_le = np.where(lp, v["rate_leach"] * wd * l_, 0.0)
        f_lm = np.where(lp & qp, wd * self.kaff_lm * l_ * (1.0 - q / qmax), 0.0)
        f_ml = np.where(qp, v["kaff_des"] * q / qmax, 0.0)
        f_lb = np.where(lp & mp, self.vmax_lb * wb * mc * lc / (klb + lc), 0.0)
        f_tu = np.where(mp, rbd * mc**beta, 0.0)
        f_ma = np.where(qp, v["rate_ma"] * wd * q, 0.0)
        flux = np.stack(
            np.broadcast_arrays(f_pl, f_pa, f_br, f_le, f_lm, f_ml, f_lb, f_tu, f_ma), -1
        )
        if not partials:
            return flux, None
        d = np.zeros((*flux.shape, N_POOLS))
        d[..., _PL, POM] = np.where(pp & mp, self.vmax_pl * wd * mc / (kpl + mc), 0.0)
        d[..., _PL, MIC] = np.where(pp & mp, self.vmax_pl * wd * p * kpl / (kpl + mc) ** 2, 0.0)
        d[..., _PA, POM] = np.where(pp, v["rate_pa"] * wd, 0.0)
        d[..., _BR, AGG] = np.where(ap, v["rate_break"] * wd, 0.0)
        d[..., _LE, LMWC] = np.where(lp, v["rate_leach"] * wd, 0.0)
        d[..., _LM, LMWC] = np.where(lp & qp, wd * self.kaff_lm * (1.0 - q / qmax), 0.0)
        d[..., _LM, MAOM] = np.where(lp & qp, -wd * self.kaff_lm * l_ / qmax, 0.0)
        d[..., _ML, MAOM] = np.where(qp, v["kaff_des"] / qmax, 0.0)
        d[..., _LB, LMWC] = np.where(lp & mp, self.vmax_lb * wb * mc * klb / (klb + lc) ** 2, 0.0)
        d[..., _LB, MIC] = np.where(lp & mp, self.vmax_lb * wb * lc / (klb + lc), 0.0)
        d[..., _TU, MIC] = np.where(mp, beta * rbd * mc ** (beta - 1.0), 0.0)
        d[..., _MA, MAOM] = np.where(qp, v["rate_ma"] * wd, 0.0)
        return flux, d

    def rhs(self, x: ArrayLike) -> NDArray[np.float64]:
        """dx/dt [g C m⁻² d⁻¹] (Eqs. 1, 7, 17, 19, 20), shape ``broadcast(batch, x)``.

        Parameters
        ----------
        x : array_like, shape (..., 5)
            Pools [g C m⁻²] in the order of :data:`POOLS`.
        """
        flux, _ = self._fluxes_and_partials(self._state(x), partials=False)
        return np.einsum("...ij,...j->...i", self._stoich, flux) + self._source

    def jacobian(self, x: ArrayLike) -> NDArray[np.float64]:
        """Analytic Jacobian ∂(dx/dt)/∂x [d⁻¹], shape ``(..., 5, 5)``.

        ``J = S·∂F/∂x`` with S the stoichiometry of the fluxes (:data:`FLUXES`). Where a flux is
        switched off (a pool ≤ 0, as in the reference code) its derivative is taken as 0.
        """
        _, d = self._fluxes_and_partials(self._state(x), partials=True)
        return np.einsum("...ij,...jk->...ik", self._stoich, d)

    def respiration(self, x: ArrayLike) -> NDArray[np.float64]:
        """Heterotrophic respiration (1 − CUE)·F_lb [g C m⁻² d⁻¹] (Eq. 21)."""
        return (1.0 - self.cue) * self.fluxes(x)[..., _LB]

    def leaching(self, x: ArrayLike) -> NDArray[np.float64]:
        """LMWC leaching F_l [g C m⁻² d⁻¹] (Eq. 8)."""
        return self.fluxes(x)[..., _LE]

    def carbon_balance(self, x: ArrayLike) -> SteadyStateSummary:
        """Input, respiration, leaching and ``I − R_h − F_l − Σ dx/dt`` (≈ 0 always)."""
        x = self._state(x)
        flux = self.fluxes(x)
        resp = (1.0 - self.cue) * flux[..., _LB]
        leach = flux[..., _LE]
        total = self.rhs(x).sum(axis=-1)
        inputs = np.broadcast_to(self.input, resp.shape)
        return SteadyStateSummary(inputs, resp, leach, inputs - resp - leach - total)

    def gross_flux(self, x: ArrayLike) -> NDArray[np.float64]:
        """Gross carbon flux through each pool, Σ_j |S_ij|·F_j + inputs [g C m⁻² d⁻¹].

        The scale of the relative steady-state residual ‖dx/dt‖ / ‖gross flux‖.
        """
        flux = self.fluxes(x)
        return np.einsum("...ij,...j->...i", np.abs(self._stoich), np.abs(flux)) + self._source

    def residual(self, x: ArrayLike) -> NDArray[np.float64]:
        """Relative steady-state residual ‖dx/dt‖₂ / ‖gross flux‖₂ [-] (0 at a steady state)."""
        return np.linalg.norm(self.rhs(x), axis=-1) / np.linalg.norm(self.gross_flux(x), axis=-1)

    def mass_balance_residual(self, x: ArrayLike) -> NDArray[np.float64]:
        """Relative steady-state balance (I − R_h − F_l)/I: 0 at a steady state."""
        b = self.carbon_balance(x)
        return (b.inputs - b.respiration - b.leaching) / b.inputs

    def soc(self, x: ArrayLike) -> NDArray[np.float64]:
        """Total soil organic carbon [g C m⁻²]: POM + LMWC + AGG + MIC + MAOM (all five pools)."""
        return self._state(x).sum(axis=-1)

    # ------------------------------------------------------------------ solutions
    def initial_guesses(self) -> NDArray[np.float64]:
        """Starting states for the steady-state solver, shape ``(n_starts, *batch, 5)``.

        The first start solves the model approximately: MIC from the microbial balance with
        LMWC at K_lb, POM and AGG from their linear balances, MAOM at half its capacity; the
        others scale it by 10⁻², 10⁻¹, 10 and 10² so that the solver sees several orders of
        magnitude.
        """
        v = self._values
        shape = self.batch_shape
        wd = self.scalar_wd
        npp = v["npp"]
        # MIC: uptake at LMWC = K_lb balances turnover: cue·Vlb·wb·MIC/2 = k_bd·MIC^β.
        growth = self.cue * self.vmax_lb * self.scalar_wb * 0.5
        beta = v["beta"]
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            mic = np.where(
                beta > 1.0 + 1e-9,
                (growth / v["rate_bd"]) ** (1.0 / np.maximum(beta - 1.0, 1e-9)),
                npp / np.maximum(v["rate_bd"], 1e-30),
            )
        mic = np.clip(np.nan_to_num(mic, nan=10.0, posinf=1e4), 1.0, 1e5)
        dec = self.vmax_pl * wd * mic / (v["kaff_pl"] + mic) + v["rate_pa"] * wd
        pom = v["param_pi"] * np.maximum(npp, 1e-6) / dec
        maom = 0.5 * self.qmax
        agg = (v["rate_pa"] * wd * pom + v["rate_ma"] * wd * maom) / (v["rate_break"] * wd)
        lmwc = v["kaff_lb"] * np.ones(shape)
        base = np.stack(np.broadcast_arrays(pom, lmwc, agg, mic, maom), -1)
        base = np.broadcast_to(base, (*shape, N_POOLS))
        scales = np.array([1.0, 1e-2, 1e-1, 10.0, 1e2])
        return scales.reshape((-1,) + (1,) * (len(shape) + 1)) * base

    def steady_state(self, x0s: ArrayLike | None = None, **kw: Any) -> Any:
        """Steady states by the shared robust solver (``_nonlinear.find_steady_states``).

        Parameters
        ----------
        x0s : array_like, shape (n_starts, ..., 5), optional
            Starting states [g C m⁻²]; default :meth:`initial_guesses`.
        **kw
            Passed to ``find_steady_states`` (``rtol``, ``max_iter``, ``positive``).

        Returns
        -------
        SteadyStateReport
            Status per batch element ("ok", "multiple", "unstable", "non-positive",
            "no-convergence"), the state (NaN unless ok), all distinct states, residuals and
            the Jacobian's eigenvalues.
        """
        from wholesoil.models._nonlinear import find_steady_states

        starts = self.initial_guesses() if x0s is None else np.asarray(x0s, dtype=float)
        kw.setdefault("rtol", 1e-10)
        kw.setdefault("flux_scale", self.gross_flux)
        return find_steady_states(self.rhs, self.jacobian, starts, **kw)

    def with_beta(self, beta: ArrayLike, mic_ref: ArrayLike) -> Millennial:
        """The same model with turnover exponent ``beta`` and the turnover flux kept at ``mic_ref``.

        ``rate_bd`` is rescaled by :func:`matched_rate_bd` so that ``rate_bd·MIC^β`` is unchanged
        at MIC = ``mic_ref`` [g C m⁻²]: with ``mic_ref`` the steady-state MIC, the steady state
        itself is unchanged and only its sensitivity differs (He et al. 2024's comparison).
        """
        v = self._values
        return self.replace(
            beta=beta, rate_bd=matched_rate_bd(v["rate_bd"], v["beta"], beta, mic_ref)
        )

    def simulate(
        self,
        x0: ArrayLike,
        years: float,
        *,
        n_out: int = 101,
        rtol: float = 1e-8,
        atol: float = 1e-8,
        method: str = "BDF",
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Integrate the model from ``x0`` for ``years`` (stiff ``solve_ivp``, analytic Jacobian).

        Parameters
        ----------
        x0 : array_like, shape (..., 5)
            Initial pools [g C m⁻²], broadcast against the batch.
        years : float
            Length of the run [yr] (365-day years; the model's own time unit is the day).
        n_out : int
            Number of output times, evenly spaced from 0 to ``years``.

        Returns
        -------
        t : ndarray, shape (n_out,)
            Output times [yr].
        x : ndarray, shape (n_out, ..., 5)
            Pools [g C m⁻²]. Each batch element is integrated on its own (a loop; transient
            runs only).
        """
        from scipy.integrate import solve_ivp

        x0 = self._state(x0)
        shape = np.broadcast_shapes(self.batch_shape, x0.shape[:-1])
        x0b = np.broadcast_to(x0, (*shape, N_POOLS)).reshape(-1, N_POOLS)
        t_days = np.linspace(0.0, float(years) * DAYS_PER_YEAR, n_out)
        out = np.empty((n_out, x0b.shape[0], N_POOLS))
        for k in range(x0b.shape[0]):
            idx = np.unravel_index(k, shape) if shape else ()
            sub = self._element(idx, shape)
            sol = solve_ivp(
                lambda _t, y, m=sub: m.rhs(y),
                (0.0, t_days[-1]),
                x0b[k],
                method=method,
                t_eval=t_days,
                jac=lambda _t, y, m=sub: m.jacobian(y),
                rtol=rtol,
                atol=atol,
            )
            if not sol.success:
                raise RuntimeError(
                    f"Millennial transient failed at batch element {idx}: {sol.message}"
                )
            out[:, k] = sol.y.T
        return t_days / DAYS_PER_YEAR, out.reshape(n_out, *shape, N_POOLS)

    def _element(self, idx: tuple[int, ...], shape: tuple[int, ...]) -> Millennial:
        vals = {k: np.broadcast_to(v, shape)[idx] if shape else v for k, v in self._values.items()}
        return Millennial({k: vals[k] for k in PARAMETERS}, **{k: vals[k] for k in FORCING})
