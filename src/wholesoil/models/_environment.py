"""Forcing of the process models: the environment of each site, monthly or time-averaged.

Tao et al. (EarthArXiv) drives CLM5 and COMPAS with the CLM5 outputs of its Supplementary Table 3
(TSOI, SOILPSI, NPP, CELLSAND, ALTMAX, ALTMAX_LASTYEAR, O_SCALAR, FPI_vr, nbedrock), monthly over 20
years after spin-up. This module holds them in canonical units:

* :class:`Forcing` — monthly values, soil variables ``(..., n_months, n_layers)``;
* :class:`Environment` — one time-mean state per site, ``(..., n_layers)``, for steady states;
* CLM5 history NetCDF files are read into a :class:`Forcing` by
  :func:`wholesoil.io.read_clm5_history` (the reader lives in ``io``; models import no reader);
* :func:`forcing_from_climate` — a documented synthetic :class:`Forcing` from mean annual
  temperature and precipitation, for sites without CLM5 output.

The environmental scalars of a steady state are the time mean of the monthly scalars, not the
scalars of the mean forcing (Tao et al. (EarthArXiv) §2.2); model builders should therefore take the
:class:`Forcing` when they have it and compute ξ per month (see
:func:`wholesoil.models._scalars.decomposition_scalar`). :meth:`Forcing.time_mean` gives the
:class:`Environment` for uses that need only means (inputs, texture, active layer).

References
----------
Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError
from wholesoil.models._scalars import MAXPSI, MINPSI
from wholesoil.models._vertical import N_LAYERS, VerticalGrid, clm5_grid

__all__ = [
    "CWD_FRACTION_FOREST",
    "DAMPING_DEPTH",
    "DEFAULT_SAND",
    "HOLDRIDGE_PET_FACTOR",
    "LEAF_FRACTION",
    "SECONDS_PER_YEAR",
    "Environment",
    "Forcing",
    "cwd_from_climate",
    "forcing_from_climate",
    "holdridge_forest",
    "miami_npp",
    "stefan_active_layer",
    "thornthwaite_pet",
]

#: Share of litter inputs that enters with the surface (leaf/stem, exp(−10 z)) profile rather than
#: the root (Jackson β) profile. 0: Tao et al.'s (EarthArXiv) PRODA code spreads *all* litter inputs
#: (CWD and L1–L3) with the β profile (``SRC_DA/src_cesm2_clm5_cen_vr_v2/matrix_fun.m``: one
#: ``vertical_input`` for the four input vectors), and Supplementary Table 1 describes ``b`` as
#: controlling "vertical distribution of carbon input to litter pools". Set it (e.g. 0.5) to follow
#: CTSM's separate leaf/stem and root profiles instead.
LEAF_FRACTION: float = 0.0

#: Seconds in CLM5's 365-day ("noleap") year, to convert g C m⁻² s⁻¹ to g C m⁻² yr⁻¹.
SECONDS_PER_YEAR: float = 365.0 * 86400.0

#: Default sand content [%] of :func:`forcing_from_climate`: a loam (USDA loam spans 23–52 % sand).
DEFAULT_SAND: float = 40.0

#: Apparent thermal diffusivity of moist mineral soil [m² s⁻¹] (typical 0.2–1.0e-6; Campbell &
#: Norman 1998, Introduction to Environmental Biophysics, Table 8.3 range) used for the annual wave.
THERMAL_DIFFUSIVITY: float = 0.5e-6
#: Damping depth of the annual temperature wave, d = √(2κ/ω), ω = 2π / 1 yr [m] (≈ 2.24 m).
DAMPING_DEPTH: float = math.sqrt(2.0 * THERMAL_DIFFUSIVITY / (2.0 * math.pi / SECONDS_PER_YEAR))
#: Default half annual range of monthly mean surface temperature [°C] of
#: :func:`forcing_from_climate` when none is given (a mid-latitude continental value; pass site
#: values where known).
DEFAULT_AMPLITUDE: float = 10.0

#: Share of NPP entering as coarse woody debris (CWD) where the vegetation is forest, 0 elsewhere.
#: No CLM5 history file is bundled, so this is the toolkit's stated rule, not a fitted or published
#: number; it keeps the CWD pathway (τ_CWD, fcwdl2) active where wood exists, and callers write it
#: to their run record.
CWD_FRACTION_FOREST: float = 0.2

#: Holdridge's potential evapotranspiration per degree of biotemperature [mm yr⁻¹ °C⁻¹]:
#: PET = 58.93 · T_bio (Holdridge 1967, Life Zone Ecology, Tropical Science Center, San José).
HOLDRIDGE_PET_FACTOR: float = 58.93

#: Forest life zones of Holdridge's (1967) chart as (lowest biotemperature [°C], highest PET
#: ratio): from the boreal belt (T_bio ≥ 3 °C) forests need a PET ratio ≤ 1 (moist, wet and rain
#: forest); from the warm-temperate/subtropical belt (≥ 12 °C) the dry forest (ratio 1–2) is
#: forest too; in the tropical belt (≥ 24 °C) also the very dry forest (ratio 2–4). Below 3 °C
#: (subpolar and polar belts) the chart has tundra and desert only.
_HOLDRIDGE_FOREST: tuple[tuple[float, float], ...] = ((3.0, 1.0), (12.0, 2.0), (24.0, 4.0))

_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)

# ----------------------------------------------------------------------------- validation
def _array(value: Any, name: str) -> NDArray[np.float64]:
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise InputDataError(f"{name} must be numeric", field=name, value=value) from err


def _where(a: NDArray, bad: NDArray) -> str:
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    return f" at index {idx}" if idx else ""


def _check_finite(a: NDArray, name: str, unit: str) -> None:
    bad = ~np.isfinite(a)
    if np.any(bad):
        raise InputDataError(
            f"{name} [{unit}] must be finite; missing or infinite value{_where(a, bad)}",
            field=name,
            value=float(a[bad].flat[0]),
        )


def _check_range(a: NDArray, name: str, lo: float, hi: float, unit: str) -> None:
    bad = ~((a >= lo) & (a <= hi)) & ~np.isnan(a)
    if np.any(bad):
        raise InputDataError(
            f"{name} must be in [{lo}, {hi}] {unit}{_where(a, bad)}",
            field=name,
            value=float(a[bad].flat[0]),
        )


def _check_layers(a: NDArray, name: str, n_layers: int) -> None:
    if a.ndim == 0 or a.shape[-1] != n_layers:
        raise InputDataError(
            f"{name} must have {n_layers} layers on its last axis (the CLM5 decomposition grid)",
            field=name,
            value=a.shape,
        )


def _check_nbedrock(a: NDArray, n_layers: int) -> NDArray[np.int64]:
    _check_finite(a, "nbedrock", "layer index")
    bad = ~((a >= 1) & (a <= n_layers) & (a == np.round(a)))
    if np.any(bad):
        raise InputDataError(
            f"nbedrock must be an integer in [1, {n_layers}] (index of the first layer below "
            f"bedrock; {n_layers} = none){_where(a, bad)}",
            field="nbedrock",
            value=float(a[bad].flat[0]),
        )
    return a.astype(np.int64)


def _validate_common(obj: Any, months: bool) -> None:
    """Validate and freeze the fields shared by Environment and Forcing."""
    set_ = lambda k, v: object.__setattr__(obj, k, v)  # noqa: E731 (frozen dataclass)
    n = N_LAYERS
    tail = 2 if months else 1
    for name, unit in (("tsoi", "°C"), ("soilpsi", "MPa")):
        a = _array(getattr(obj, name), name)
        _check_layers(a, name, n)
        if months and a.ndim < 2:
            raise InputDataError(
                f"{name} must have shape (..., n_months, {n})", field=name, value=a.shape
            )
        _check_finite(a, name, unit)
        set_(name, a)
    if obj.tsoi.size and np.all(obj.tsoi > 150.0):
        raise InputDataError(
            "tsoi must be in °C; these values look like kelvin (subtract 273.15)",
            field="tsoi",
            value=float(obj.tsoi.flat[0]),
        )
    if obj.tsoi.shape[-tail:] != obj.soilpsi.shape[-tail:]:
        raise InputDataError(
            f"soilpsi must match tsoi on its last axes {obj.tsoi.shape[-tail:]}",
            field="soilpsi",
            value=obj.soilpsi.shape,
        )
    for name in ("o_scalar", "fpi_vr"):
        v = getattr(obj, name)
        if v is None:
            continue
        a = _array(v, name)
        _check_layers(a, name, n)
        _check_finite(a, name, "-")
        _check_range(a, name, 0.0, 1.0, "(unitless scalar)")
        set_(name, a)
    npp = _array(obj.npp, "npp")
    _check_finite(npp, "npp", "g C m-2 yr-1")
    _check_range(npp, "npp", 0.0, np.inf, "g C m-2 yr-1")
    set_("npp", npp)
    sand = _array(obj.sand, "sand")
    _check_finite(sand, "sand", "%")
    _check_range(sand, "sand", 0.0, 100.0, "%")
    set_("sand", sand)
    for name in ("altmax", "altmax_lastyear"):
        a = _array(getattr(obj, name), name)
        _check_range(a, name, 0.0, np.inf, "m (NaN = no permafrost)")
        set_(name, a)
    set_("nbedrock", _check_nbedrock(_array(obj.nbedrock, "nbedrock"), n))
    lf = _array(obj.leaf_fraction, "leaf_fraction")
    _check_finite(lf, "leaf_fraction", "-")
    _check_range(lf, "leaf_fraction", 0.0, 1.0, "(share of inputs)")
    set_("leaf_fraction", lf)
    if obj.cwd_fraction is not None:
        cf = _array(obj.cwd_fraction, "cwd_fraction")
        _check_finite(cf, "cwd_fraction", "-")
        _check_range(cf, "cwd_fraction", 0.0, 1.0, "(share of inputs)")
        set_("cwd_fraction", cf)
    for f in fields(obj):
        v = getattr(obj, f.name)
        if isinstance(v, np.ndarray):
            v.setflags(write=False)


# ----------------------------------------------------------------------------- dataclasses
@dataclass(frozen=True, eq=False)
class Environment:
    """Time-mean environment of each site (batch shape ``...``), for steady states.

    Parameters
    ----------
    tsoi : array (..., 20) [°C]
        Soil temperature by layer (CLM5 ``TSOI``).
    soilpsi : array (..., 20) [MPa]
        Soil water potential by layer (CLM5 ``SOILPSI``).
    npp : array (...) [g C m⁻² yr⁻¹]
        Net primary production, all of which enters the litter pools at steady state.
    sand : array (...) [%]
        Sand content (CLM5 ``CELLSAND``, mean over layers as in PRODA).
    altmax, altmax_lastyear : array (...) [m]
        Maximum active-layer depth this year and last year; NaN for no permafrost.
    nbedrock : array (...) int
        Index of the first layer below bedrock (= number of soil layers; 20 = none).
    o_scalar, fpi_vr : array (..., 20) [-] or None
        Oxygen and nitrogen scalars of decomposition (None = no limitation).
    leaf_fraction : array (...) [-], default :data:`LEAF_FRACTION` (0)
        Share of inputs following the surface profile instead of the root profile.
    cwd_fraction : array (...) [-] or None
        Share of inputs entering coarse woody debris; None leaves it to the model (PRODA takes the
        CWD input from CLM5's own litter fluxes, so there is no fixed value to copy).
    """

    tsoi: NDArray[np.float64]
    soilpsi: NDArray[np.float64]
    npp: NDArray[np.float64]
    sand: NDArray[np.float64]
    altmax: NDArray[np.float64]
    altmax_lastyear: NDArray[np.float64]
    nbedrock: NDArray[np.int64]
    o_scalar: NDArray[np.float64] | None = None
    fpi_vr: NDArray[np.float64] | None = None
    leaf_fraction: NDArray[np.float64] | float = LEAF_FRACTION
    cwd_fraction: NDArray[np.float64] | float | None = None

    def __post_init__(self) -> None:
        _validate_common(self, months=False)
        self.batch_shape  # noqa: B018 (checks that the shapes broadcast)

    @property
    def n_layers(self) -> int:
        """Number of layers (20)."""
        return int(self.tsoi.shape[-1])

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Broadcast shape of the sites (and parameter sets) axes."""
        shapes = [self.tsoi.shape[:-1], self.soilpsi.shape[:-1]]
        shapes += [
            np.shape(getattr(self, k))
            for k in ("npp", "sand", "altmax", "altmax_lastyear", "nbedrock", "leaf_fraction")
        ]
        shapes += [v.shape[:-1] for v in (self.o_scalar, self.fpi_vr) if v is not None]
        if self.cwd_fraction is not None:
            shapes.append(np.shape(self.cwd_fraction))
        try:
            return tuple(np.broadcast_shapes(*shapes))
        except ValueError as err:
            raise InputDataError(
                "the fields of the environment must broadcast to one batch shape",
                field="Environment",
                value=dict(zip(_FIELD_NAMES, shapes, strict=False)),
            ) from err


_FIELD_NAMES = [
    "tsoi",
    "soilpsi",
    "npp",
    "sand",
    "altmax",
    "altmax_lastyear",
    "nbedrock",
    "leaf_fraction",
    "o_scalar",
    "fpi_vr",
    "cwd_fraction",
]


@dataclass(frozen=True, eq=False)
class Forcing:
    """Monthly forcing of each site (batch shape ``...``), months on axis −2 of soil variables.

    Parameters
    ----------
    tsoi, soilpsi : array (..., n_months, 20) [°C], [MPa]
    npp : array (..., n_months) [g C m⁻² yr⁻¹]
        Monthly mean NPP as a rate per year.
    sand : array (...) [%]
    altmax, altmax_lastyear : array (..., n_months) [m]
        Monthly values as CLM5 writes them (ALTMAX is the running maximum of the year); NaN for no
        permafrost.
    nbedrock : array (...) int
    o_scalar, fpi_vr : array (..., n_months, 20) or None
    leaf_fraction, cwd_fraction :
        As in :class:`Environment`.
    attrs : dict
        Provenance: source files, unit conversions and any repairs made by a reader.
    """

    tsoi: NDArray[np.float64]
    soilpsi: NDArray[np.float64]
    npp: NDArray[np.float64]
    sand: NDArray[np.float64]
    altmax: NDArray[np.float64]
    altmax_lastyear: NDArray[np.float64]
    nbedrock: NDArray[np.int64]
    o_scalar: NDArray[np.float64] | None = None
    fpi_vr: NDArray[np.float64] | None = None
    leaf_fraction: NDArray[np.float64] | float = LEAF_FRACTION
    cwd_fraction: NDArray[np.float64] | float | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _validate_common(self, months=True)
        m = self.n_months
        for name in ("npp", "altmax", "altmax_lastyear"):
            a = getattr(self, name)
            if a.ndim == 0 or a.shape[-1] != m:
                raise InputDataError(
                    f"{name} must have the months axis last, length {m} like tsoi",
                    field=name,
                    value=a.shape,
                )
        for name in ("o_scalar", "fpi_vr"):
            a = getattr(self, name)
            if a is not None and (a.ndim < 2 or a.shape[-2] != m):
                raise InputDataError(
                    f"{name} must have shape (..., {m}, {N_LAYERS}) like tsoi",
                    field=name,
                    value=a.shape,
                )

    @property
    def n_months(self) -> int:
        """Length of the time axis."""
        return int(self.tsoi.shape[-2])

    @property
    def n_layers(self) -> int:
        """Number of layers (20)."""
        return int(self.tsoi.shape[-1])

    def time_mean(self, weights: ArrayLike | None = None) -> Environment:
        """Mean environment over the time axis.

        Temperature, water potential, NPP and the oxygen/nitrogen scalars are (weighted) means;
        ALTMAX and ALTMAX_LASTYEAR are the maxima over the record (ALTMAX is a running annual
        maximum, so its last value in each year, not its mean, is the year's active layer). Note
        that ξ of these means is *not* the mean ξ: compute ξ per month for steady states.

        Parameters
        ----------
        weights : array (n_months,), optional
            Relative weights of the time steps (e.g. days per month); equal weights by default,
            as PRODA averages its monthly matrices.
        """
        m = self.n_months
        w = np.ones(m) if weights is None else _array(weights, "weights")
        if w.shape != (m,) or np.any(~(w >= 0)) or not w.sum() > 0:
            raise InputDataError(
                f"weights must be {m} non-negative numbers, not all zero",
                field="weights",
                value=w,
            )
        w = w / w.sum()

        def mean_layers(a: NDArray | None) -> NDArray | None:
            return None if a is None else np.einsum("...ml,m->...l", a, w)

        return Environment(
            tsoi=mean_layers(self.tsoi),
            soilpsi=mean_layers(self.soilpsi),
            npp=self.npp @ w,
            sand=self.sand,
            altmax=np.fmax.reduce(self.altmax, axis=-1),
            altmax_lastyear=np.fmax.reduce(self.altmax_lastyear, axis=-1),
            nbedrock=self.nbedrock,
            o_scalar=mean_layers(self.o_scalar),
            fpi_vr=mean_layers(self.fpi_vr),
            leaf_fraction=self.leaf_fraction,
            cwd_fraction=self.cwd_fraction,
        )

    def monthly_climatology(self) -> Forcing:
        """Average a multi-year monthly record into 12 calendar months (record starts in January).

        PRODA computes its scalars from such a 12-month climatology of the 20-year CLM5 record.
        """
        m = self.n_months
        if m % 12:
            raise InputDataError(
                "monthly_climatology needs whole years of monthly data (a multiple of 12 steps)",
                field="time",
                value=m,
            )

        def clim(a: NDArray | None, axis: int) -> NDArray | None:
            if a is None:
                return None
            a = np.moveaxis(a, axis, -1)
            a = a.reshape(*a.shape[:-1], m // 12, 12).mean(axis=-2)
            return np.moveaxis(a, -1, axis)

        def clim_max(a: NDArray) -> NDArray:
            a = a.reshape(*a.shape[:-1], m // 12, 12)
            return np.fmax.reduce(a, axis=-2)

        return replace(
            self,
            tsoi=clim(self.tsoi, -2),
            soilpsi=clim(self.soilpsi, -2),
            npp=clim(self.npp, -1),
            altmax=clim_max(self.altmax),
            altmax_lastyear=clim_max(self.altmax_lastyear),
            o_scalar=clim(self.o_scalar, -2),
            fpi_vr=clim(self.fpi_vr, -2),
            attrs={**self.attrs, "climatology": f"mean of {m // 12} years per calendar month"},
        )


def miami_npp(mat: ArrayLike, map: ArrayLike) -> NDArray[np.float64]:
    """Net primary production of the Miami model (Lieth 1975) in carbon [g C m⁻² yr⁻¹].

    ``NPP = 0.5 · min(3000 / (1 + exp(1.315 − 0.119·T)), 3000·(1 − exp(−0.000664·P)))``, the
    Miami model in g dry matter m⁻² yr⁻¹ times 0.5 g C per g dry matter.

    Parameters
    ----------
    mat : array [°C]
        Mean annual air temperature.
    map : array [mm yr⁻¹]
        Mean annual precipitation.

    References
    ----------
    Lieth, H. (1975). Modeling the primary productivity of the world. In Lieth & Whittaker (eds),
    Primary Productivity of the Biosphere, Ecological Studies 14, 237–263, Springer.
    https://doi.org/10.1007/978-3-642-80913-2_12
    """
    t = _array(mat, "mat")
    p = _array(map, "map")
    _check_range(p, "map", 0.0, np.inf, "mm yr-1")
    npp_t = 3000.0 / (1.0 + np.exp(1.315 - 0.119 * t))
    npp_p = 3000.0 * (1.0 - np.exp(-0.000664 * p))
    return 0.5 * np.minimum(npp_t, npp_p)


def _day_length(lat: NDArray, doy: NDArray) -> NDArray:
    """Mean daylight hours (FAO-56 Eqs. 24, 25, 34; Allen et al. 1998)."""
    phi = np.deg2rad(lat)[..., None]
    delta = 0.409 * np.sin(2.0 * np.pi * doy / 365.0 - 1.39)
    x = np.clip(-np.tan(phi) * np.tan(delta), -1.0, 1.0)
    return 24.0 / np.pi * np.arccos(x)


def thornthwaite_pet(t_monthly: ArrayLike, lat: ArrayLike | None = None) -> NDArray[np.float64]:
    """Monthly potential evapotranspiration of Thornthwaite (1948) [mm month⁻¹].

    ``PET = 16·(L/12)·(N/30)·(10·T/I)^a`` for 0 < T ≤ 26.5 °C, ``−415.85 + 32.24·T − 0.43·T²``
    above 26.5 °C (Willmott et al. 1985), 0 at T ≤ 0; heat index ``I = Σ (T/5)^1.514`` over months
    with T > 0 and ``a = 6.75e-7·I³ − 7.71e-5·I² + 1.792e-2·I + 0.49239``; L the mean day length
    of the month's middle day (12 h when ``lat`` is None), N the days in the month.

    Parameters
    ----------
    t_monthly : array (..., 12) [°C]
    lat : array (...) [degrees north], optional

    References
    ----------
    Thornthwaite, C. W. (1948). An approach toward a rational classification of climate. Geogr.
    Rev. 38, 55–94. https://doi.org/10.2307/210739

    Willmott, C. J., Rowe, C. M. & Mintz, Y. (1985). Climatology of the terrestrial seasonal water
    cycle. J. Climatol. 5, 589–606. https://doi.org/10.1002/joc.3370050602
    """
    t = _array(t_monthly, "t_monthly")
    if t.shape[-1:] != (12,):
        raise InputDataError("t_monthly must have 12 months last", field="t_monthly", value=t.shape)
    tp = np.maximum(t, 0.0)
    heat = ((tp / 5.0) ** 1.514).sum(axis=-1, keepdims=True)
    a = 6.75e-7 * heat**3 - 7.71e-5 * heat**2 + 1.792e-2 * heat + 0.49239
    mid_doy = np.cumsum(_DAYS_IN_MONTH) - _DAYS_IN_MONTH / 2.0
    if lat is None:
        day = np.full(12, 12.0)
    else:
        day = _day_length(_array(lat, "lat"), mid_doy)
    safe_heat = np.where(heat > 0, heat, 1.0)
    cool = 16.0 * (day / 12.0) * (_DAYS_IN_MONTH / 30.0) * (10.0 * tp / safe_heat) ** a
    hot = (-415.85 + 32.24 * t - 0.43 * t**2) * (day / 12.0) * (_DAYS_IN_MONTH / 30.0)
    return np.where(t <= 0, 0.0, np.where(t > 26.5, hot, cool))


#: Stefan active-layer constants: thawed-soil thermal conductivity [W m⁻¹ K⁻¹], volumetric water
#: content [m³ m⁻³] and volumetric latent heat of fusion of water [J m⁻³] (334 kJ kg⁻¹ × 1000
#: kg m⁻³). Round values for mineral soil; Zhang et al. (2005) use the same form.
STEFAN_CONDUCTIVITY: float = 1.0
STEFAN_WATER_CONTENT: float = 0.3
LATENT_HEAT_VOLUMETRIC: float = 3.34e8


def stefan_active_layer(
    thawing_degree_days: ArrayLike,
    *,
    conductivity: float = STEFAN_CONDUCTIVITY,
    water_content: float = STEFAN_WATER_CONTENT,
) -> NDArray[np.float64]:
    """Active-layer thickness from the Stefan solution [m].

    ``ALT = √(2·k·DDT·86400 / (L·θ))`` with DDT the thawing degree-days [°C day], k the thermal
    conductivity of the thawed soil, θ its volumetric water content and L the volumetric latent
    heat of fusion of water (Stefan 1891; e.g. Zhang et al. 2005, J. Geophys. Res. 110, D16101,
    https://doi.org/10.1029/2004JD005642). With the defaults ALT ≈ 0.0416·√DDT.
    """
    ddt = _array(thawing_degree_days, "thawing_degree_days")
    _check_range(ddt, "thawing_degree_days", 0.0, np.inf, "°C day")
    return np.sqrt(2.0 * conductivity * ddt * 86400.0 / (LATENT_HEAT_VOLUMETRIC * water_content))


def _surface_months(t_mean: NDArray[np.float64], amp: NDArray[np.float64],
                    south: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Monthly mean surface temperature of the annual wave, coldest in mid-January (mid-July
    south of the equator) [°C], shape (..., 12)."""
    t_mid = (np.arange(12) + 0.5) / 12.0  # years
    t0 = np.where(south, 6.5 / 12.0, 0.5 / 12.0)[..., None]  # coldest surface month
    return t_mean[..., None] - amp[..., None] * np.cos(2.0 * np.pi * (t_mid - t0))


def holdridge_forest(
    mat: ArrayLike,
    map: ArrayLike,  # the climatologists' name for mean annual precipitation
    *,
    lat: ArrayLike | None = None,
    amplitude: ArrayLike = DEFAULT_AMPLITUDE,
) -> NDArray[np.bool_]:
    """Whether Holdridge's life-zone chart puts forest at a climate (True) or not (False).

    Holdridge (1947, 1967) classifies vegetation by two numbers:

    * **biotemperature** — the mean of the monthly temperatures with values below 0 °C and
      above 30 °C counted as 0 (Holdridge 1967; Lugo et al. 1999):
      ``T_bio = (1/12)·Σ_m T_m·[0 < T_m ≤ 30]``  (1)
      with T_m the monthly surface temperatures of :func:`forcing_from_climate`'s annual wave
      (the same months the models are forced with);
    * the **potential evapotranspiration ratio** ``R = 58.93·T_bio / MAP``  (2)
      (:data:`HOLDRIDGE_PET_FACTOR`).

    Forest is the life zone where T_bio ≥ 3 °C and R ≤ 1 (moist, wet and rain forests), or
    T_bio ≥ 12 °C and R ≤ 2 (dry forest), or T_bio ≥ 24 °C and R ≤ 4 (very dry tropical
    forest) (:data:`_HOLDRIDGE_FOREST`). A coarse rule of the climate alone, used where no
    vegetation map exists (the toolkit bundles none): it ignores land use.

    Parameters
    ----------
    mat : array (...) [°C]
    map : array (...) [mm yr⁻¹]
    lat : array (...) [degrees north], optional
        Sets the season (hemisphere) of the annual wave.
    amplitude : array (...) [°C]
        Half the annual range of monthly surface temperature.

    Returns
    -------
    ndarray of bool (...)

    References
    ----------
    Holdridge, L. R. (1947). Determination of world plant formations from simple climatic data.
    Science 105, 367–368. https://doi.org/10.1126/science.105.2727.367
    Holdridge, L. R. (1967). Life Zone Ecology. Tropical Science Center, San José, Costa Rica.
    Lugo, A. E., Brown, S. L., Dodson, R., Smith, T. S. & Shugart, H. H. (1999). The Holdridge
    life zones of the conterminous United States in relation to ecosystem mapping. Journal of
    Biogeography 26, 1025–1038. https://doi.org/10.1046/j.1365-2699.1999.00329.x
    """
    t_mean = _array(mat, "mat")
    p = _array(map, "map")
    _check_finite(t_mean, "mat", "°C")
    _check_finite(p, "map", "mm yr-1")
    amp = _array(amplitude, "amplitude")
    lat_a = None if lat is None else _array(lat, "lat")
    shape = np.broadcast_shapes(t_mean.shape, p.shape, amp.shape,
                                () if lat_a is None else lat_a.shape)
    t_mean, p, amp = (np.broadcast_to(a, shape) for a in (t_mean, p, amp))
    south = np.zeros(shape, bool) if lat_a is None else np.broadcast_to(lat_a < 0, shape)
    tm = _surface_months(t_mean, amp, south)
    t_bio = np.where((tm > 0.0) & (tm <= 30.0), tm, 0.0).mean(axis=-1)  # Eq. 1
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(p > 0, HOLDRIDGE_PET_FACTOR * t_bio / np.where(p > 0, p, 1.0),
                         np.inf)  # Eq. 2
    forest = np.zeros(shape, bool)
    for t_low, r_high in _HOLDRIDGE_FOREST:
        forest |= (t_bio >= t_low) & (ratio <= r_high)
    return forest


def cwd_from_climate(
    mat: ArrayLike,
    map: ArrayLike,  # the climatologists' name for mean annual precipitation
    *,
    lat: ArrayLike | None = None,
    fraction: float = CWD_FRACTION_FOREST,
) -> NDArray[np.float64]:
    """Share of NPP entering as CWD: ``fraction`` where :func:`holdridge_forest` puts forest,
    0 elsewhere [-]."""
    return np.where(holdridge_forest(mat, map, lat=lat), float(fraction), 0.0)


def forcing_from_climate(
    mat: ArrayLike,
    map: ArrayLike,  # the climatologists' name for mean annual precipitation
    *,
    lat: ArrayLike | None = None,
    amplitude: ArrayLike = DEFAULT_AMPLITUDE,
    damping_depth: float = DAMPING_DEPTH,
    sand: ArrayLike = DEFAULT_SAND,
    nbedrock: ArrayLike = N_LAYERS,
    leaf_fraction: ArrayLike = LEAF_FRACTION,
    cwd_fraction: ArrayLike | None = None,
    water_floor: float = 0.05,
    grid: VerticalGrid | None = None,
) -> Forcing:
    """Synthetic monthly forcing from mean annual temperature and precipitation, by site.

    A stand-in for CLM5 output where there is none; every piece is a simple published relation:

    * **Soil temperature** — the annual heat wave in a homogeneous half-space (Carslaw & Jaeger
      1959 §2.6; Hillel 1982): ``T(z, t) = MAT − A·e^(−z/d)·cos(2π(t − t₀) − z/d)``, monthly at
      mid-month, coldest at the surface in mid-January (mid-July south of the equator), with A the
      half annual range of surface temperature (default 10 °C) and d = √(2κ/ω) ≈ 2.24 m for
      κ = 0.5×10⁻⁶ m² s⁻¹ (:data:`DAMPING_DEPTH`).
    * **Water** — the moisture index f = MAP / PET with Thornthwaite (1948) PET from the surface
      temperatures (:func:`thornthwaite_pet`), bounded to [water_floor, 1] (0.05 is the old CLM
      lower bound of ξ_W kept, commented, in PRODA's ``matrix_fun.m``); the water potential is the
      one for which the CLM5 water scalar equals f, ``ψ = minpsi·(maxpsi/minpsi)^f``, the same in
      every layer and month. This is a coarse assumption, not a hydrological model.
    * **NPP** — the Miami model (:func:`miami_npp`), constant through the year.
    * **Active layer** — where MAT < 0 °C, the Stefan solution (:func:`stefan_active_layer`) from
      the thawing degree-days of the surface temperatures; NaN (no permafrost) elsewhere.
    * sand :data:`DEFAULT_SAND` (40 %), no bedrock (nbedrock = 20), no O or N limitation
      (no oxygen or nitrogen scalar can be derived from MAT/MAP: ξ_O = ξ_N = 1, said so in
      ``attrs``; a CLM5 history file supplies them, :func:`wholesoil.io.read_clm5_history`).
    * **CWD** — the share of NPP entering as coarse woody debris, ``cwd_fraction`` (None: 0,
      no CWD input); the models route it CWD → L2/L3 through τ_CWD and fcwdl2.

    Parameters
    ----------
    mat : array (...) [°C]
    map : array (...) [mm yr⁻¹]
    lat : array (...) [degrees north], optional
        Sets the season (hemisphere) and day length for PET; None = northern, 12-h days.
    amplitude : array (...) [°C]
        Half the annual range of monthly mean surface temperature.
    damping_depth : float [m]
    sand : array (...) [%]
    nbedrock : array (...) int
    leaf_fraction : array (...)
    cwd_fraction : array (...) [-], optional
        Share of NPP entering as CWD (e.g. by vegetation: a rule of the caller, recorded in
        ``attrs["cwd"]``); None = no CWD input.
    water_floor : float
        Lower bound of the moisture index.
    grid : VerticalGrid, optional
        CLM5 grid by default.

    Returns
    -------
    Forcing
        Batch shape of the broadcast inputs, 12 months.

    References
    ----------
    Carslaw, H. S. & Jaeger, J. C. (1959). Conduction of Heat in Solids, 2nd ed., Oxford.
    Hillel, D. (1982). Introduction to Soil Physics. Academic Press, ch. 9.
    """
    g = clm5_grid() if grid is None else grid
    t_mean = _array(mat, "mat")
    p = _array(map, "map")
    _check_finite(t_mean, "mat", "°C")
    _check_finite(p, "map", "mm yr-1")
    amp = _array(amplitude, "amplitude")
    _check_range(amp, "amplitude", 0.0, np.inf, "°C")
    if not damping_depth > 0:
        raise InputDataError(
            "damping_depth must be > 0 m", field="damping_depth", value=damping_depth
        )
    lat_a = None if lat is None else _array(lat, "lat")
    if lat_a is not None:
        _check_range(lat_a, "lat", -90.0, 90.0, "degrees")
    shape = np.broadcast_shapes(
        t_mean.shape, p.shape, amp.shape, () if lat_a is None else lat_a.shape
    )
    t_mean, p, amp = (np.broadcast_to(a, shape) for a in (t_mean, p, amp))
    south = np.zeros(shape, bool) if lat_a is None else np.broadcast_to(lat_a < 0, shape)

    t_mid = (np.arange(12) + 0.5) / 12.0  # years
    t0 = np.where(south, 6.5 / 12.0, 0.5 / 12.0)[..., None]  # coldest surface month
    phase = 2.0 * np.pi * (t_mid - t0)  # (..., 12)
    zd = g.z_node / damping_depth  # (20,)
    tsoi = t_mean[..., None, None] - amp[..., None, None] * np.exp(-zd) * np.cos(
        phase[..., None] - zd
    )  # (..., 12, 20)
    t_surface = _surface_months(t_mean, amp, south)  # (..., 12)

    pet = thornthwaite_pet(t_surface, None if lat_a is None else np.broadcast_to(lat_a, shape))
    pet_year = pet.sum(axis=-1)
    f = np.where(pet_year > 0, p / np.where(pet_year > 0, pet_year, 1.0), 1.0)
    f = np.clip(f, water_floor, 1.0)
    psi = MINPSI * (MAXPSI / MINPSI) ** f
    soilpsi = np.broadcast_to(psi[..., None, None], tsoi.shape)

    npp = np.broadcast_to(miami_npp(t_mean, p)[..., None], (*shape, 12))
    ddt = (np.maximum(t_surface, 0.0) * _DAYS_IN_MONTH).sum(axis=-1)
    alt = np.where(t_mean < 0, stefan_active_layer(ddt), np.nan)
    alt_m = np.broadcast_to(alt[..., None], (*shape, 12))
    return Forcing(
        tsoi=tsoi,
        soilpsi=soilpsi,
        npp=npp,
        sand=np.broadcast_to(_array(sand, "sand"), shape),
        altmax=alt_m,
        altmax_lastyear=alt_m,
        nbedrock=np.broadcast_to(_array(nbedrock, "nbedrock"), shape),
        leaf_fraction=leaf_fraction,
        cwd_fraction=None if cwd_fraction is None else np.broadcast_to(
            _array(cwd_fraction, "cwd_fraction"), shape),
        attrs={
            "nitrogen": "no nitrogen scalar from climate: xi_N = 1 (no limitation)",
            "oxygen": "no oxygen scalar from climate: xi_O = 1",
            "cwd": "no CWD input" if cwd_fraction is None else
            "cwd_fraction given by the caller (share of NPP to CWD)",
            "generator": "wholesoil.models._environment.forcing_from_climate",
            "temperature": f"annual wave, amplitude {amplitude} °C, damping depth "
            f"{damping_depth:.3f} m",
            "water": "psi from MAP/PET (Thornthwaite 1948) via the CLM5 water scalar",
            "npp": "Miami model (Lieth 1975) x 0.5 g C per g dry matter",
            "active_layer": "Stefan solution where MAT < 0 °C",
        },
    )
