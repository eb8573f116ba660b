"""Atmospheric radiocarbon: conversions, zones from latitude and interpolated curves.

Conversions (Wang G. et al. (manuscript) Methods, Eqs. 4–5; Wang et al., "Most root-derived carbon
inputs do not contribute to the global bulk soil carbon pool")::

    Δ14C = (A_sample / A_standard − 1)·1000                                          (Eq. 4)
    A_sample = (Δ14C / 1000 + 1)·A_standard                                          (Eq. 5)

so the one-pool model of :mod:`wholesoil.radiocarbon._onepool` works with the *absolute fraction
modern* ``A = Δ14C/1000 + 1`` (A_standard = 1; the model is independent of A_standard).

ISRaD reports fraction modern Fm with the year of observation y and converts it with the
age-corrected convention of Stuiver & Polach (1977)::

    Δ14C = (Fm·exp(λ·(1950 − y)) − 1)·1000,   λ = 0.00012097 yr⁻¹ (ISRaD)

The decay constant is always an explicit argument: sources differ (see the ``LAMBDA_*``
constants below).

Curves: the bomb-period compilations of Hua et al. (2013, 2022) for five zones (monthly), joined
before their first point to the IntCal20 (northern zones) or SHCal20 (southern zones) calibration
curve, or to a constant pre-bomb Δ14C. Interpolated by a cubic spline with R's ``splinefun``
default end conditions (``"fmm"``, Forsythe, Malcolm & Moler 1977), which is what SoilR's
``BoundFc`` uses, or linearly.

References
----------
Hua, Q., Barbetti, M. & Rakowski, A. Z. (2013). Atmospheric radiocarbon for the period
1950–2010. Radiocarbon 55(4), 2059–2072. https://doi.org/10.2458/azu_js_rc.v55i2.16177

Hua, Q. et al. (2022). Atmospheric radiocarbon for the period 1950–2019. Radiocarbon 64(4),
723–745. https://doi.org/10.1017/RDC.2021.95

Reimer, P. J. et al. (2020) IntCal20; Hogg, A. G. et al. (2020) SHCal20. Radiocarbon 62(4).

Stuiver, M. & Polach, H. A. (1977). Discussion: reporting of 14C data. Radiocarbon 19(3),
355–363. https://doi.org/10.1017/S0033822200003672

Forsythe, G. E., Malcolm, M. A. & Moler, C. B. (1977). Computer Methods for Mathematical
Computations. Prentice-Hall (cubic spline with end third derivatives from the cubics through
the first and last four points).

Graven, H. D. (2015). Impact of fossil fuel emissions on atmospheric radiocarbon and various
applications of radiocarbon over this century. PNAS 112(31), 9542–9545.
https://doi.org/10.1073/pnas.1504467112 (the post-bomb atmospheric decline continues through
this century; basis of the optional extension past a curve's end, :data:`EXTENSION_FIT_YEARS`).

Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError


class PPoly:
    """Piecewise polynomial in the local variable x − x_i, as :class:`scipy.interpolate.PPoly`.

    ``c`` (k, m) holds descending powers per interval, ``x`` (m + 1) the breakpoints; calling it
    evaluates by Horner's rule and extrapolates with the end pieces (scipy's default). Kept here
    so that reading a bomb curve needs numpy only (``wholesoil c14 age`` starts without scipy);
    the pieces are the same numbers scipy's class would hold.
    """

    def __init__(self, c: ArrayLike, x: ArrayLike) -> None:
        self.c = np.asarray(c, dtype=float)
        self.x = np.asarray(x, dtype=float)
        if self.c.ndim != 2 or self.x.shape != (self.c.shape[1] + 1,):
            raise ValueError(f"PPoly needs c (k, m) and x (m + 1), got {self.c.shape}, "
                             f"{self.x.shape}")

    def __call__(self, xp: ArrayLike) -> NDArray[np.float64]:
        xp = np.asarray(xp, dtype=float)
        i = np.clip(np.searchsorted(self.x, xp, side="right") - 1, 0, self.c.shape[1] - 1)
        d = xp - self.x[i]
        out = self.c[0, i]
        for k in range(1, self.c.shape[0]):
            out = out * d + self.c[k, i]
        return np.where(np.isnan(xp), np.nan, out)

__all__ = [
    "CURVES",
    "EXTENSION_FIT_YEARS",
    "EXTENSION_STEP",
    "LAMBDA_ISRAD",
    "LAMBDA_SEED004",
    "LAMBDA_SOILR",
    "PREBOMB_START",
    "ZONES",
    "ZONE_LATITUDE_BOUNDS",
    "AtmosphericCurve",
    "absolute_from_delta14c",
    "delta14c_from_absolute",
    "delta14c_from_fraction_modern",
    "fmm_spline",
    "fraction_modern_from_delta14c",
    "load_atmosphere",
    "zone_from_latitude",
]

#: γ of Wang G. et al. (manuscript) (Methods, after Eq. 1): the β-decay rate of ¹⁴C, 1/8267 yr⁻¹
#: (8267 yr is the mean life from the Cambridge half-life 5730 yr). Default of the one-pool model
#: here.
LAMBDA_SEED004: float = 1.0 / 8267.0

#: SoilR's default decay constant (``lambda = -0.0001209681`` in ``OnepModel14``, SoilR 1.2.107):
#: ln 2 / 5730 yr⁻¹ (Cambridge half-life, Godwin 1962) = 1.209681e-4 yr⁻¹.
LAMBDA_SOILR: float = math.log(2.0) / 5730.0

#: ISRaD's constant in the fraction-modern → Δ14C conversion (Lawrence et al. 2020, ESSD 12:61,
#: ``ISRaD.extra`` fill functions): 0.00012097 yr⁻¹.
LAMBDA_ISRAD: float = 0.00012097

#: The five zones of Hua et al. (2013, 2022).
ZONES: tuple[str, ...] = ("NHZone1", "NHZone2", "NHZone3", "SHZone12", "SHZone3")

#: Bomb-period compilations this module reads (``wholesoil.datasets.load_bomb_curve`` sources);
#: ``israd`` is ISRaD's annual hemispheric mean of Hua 2021 (a zone selects its hemisphere).
CURVES: tuple[str, ...] = ("hua2021", "hua2013", "israd")

#: Latitude rule for the zone [°N], as half-open bands ``lower ≤ lat < upper`` (the top band
#: includes 90°N). Hua et al. (2013, Fig. 1; 2022) draw the zone boundaries from the seasonal
#: positions of the Intertropical Convergence Zone (ITCZ) on a map: NH zone 1 north of ~40°N,
#: NH zone 2 from ~40°N to the northern (July) limit of the ITCZ, NH zone 3 from there to the
#: equator, SH zone 3 from the equator to the southern (January) limit of the ITCZ, SH zones
#: 1–2 the rest of the southern hemisphere. The ITCZ limits vary with longitude (≈ 10–25°); this
#: rule takes 15° on both sides as a zonal mean. It is an approximation of the map: for sites
#: near a boundary give the zone explicitly (``zone=`` / ``--zone`` overrides the rule).
ZONE_LATITUDE_BOUNDS: dict[str, tuple[float, float]] = {
    "NHZone1": (40.0, 90.0),
    "NHZone2": (15.0, 40.0),
    "NHZone3": (0.0, 15.0),
    "SHZone3": (-15.0, 0.0),
    "SHZone12": (-90.0, -15.0),
}

#: Years [yr] before a compilation's last point used to fit the optional extension past its end
#: (``extend_to``): the toolkit's own rule. Whole years, so that the seasonal cycle of the
#: monthly compilations averages out; five years follow the recent decline (Hua 2021 NH zone 1:
#: 20.7 ‰ in 2014.4 to 0.0 ‰ in 2019.4) without the faster decline of the 2000s.
EXTENSION_FIT_YEARS: float = 5.0

#: Spacing [yr] of the straight pieces that carry the extension in the interpolant (monthly, as
#: the Hua et al. compilations; the exponential differs from its chords by < 0.001 ‰).
EXTENSION_STEP: float = 1.0 / 12.0

#: First year [yr AD] the joined curve covers when the pre-bomb part is a constant (IntCal20 and
#: SHCal20 themselves reach back to 55,000 cal BP = −53,050 AD).
PREBOMB_START: float = -53050.0

Interpolation = Literal["spline", "linear"]


# ------------------------------------------------------------------------------- conversions
def absolute_from_delta14c(d14c: ArrayLike) -> NDArray[np.float64]:
    """Absolute fraction modern A = Δ14C/1000 + 1 (Wang G. et al. (manuscript) Eq. 5 with A_standard
    = 1).

    Parameters
    ----------
    d14c : array [‰]

    Returns
    -------
    array [-]
    """
    return np.asarray(d14c, dtype=float) / 1000.0 + 1.0


def delta14c_from_absolute(a: ArrayLike) -> NDArray[np.float64]:
    """Δ14C = (A − 1)·1000 (Wang G. et al. (manuscript) Eq. 4 with A_standard = 1).

    Parameters
    ----------
    a : array [-]
        Absolute fraction modern (¹⁴C/¹²C ratio relative to the standard).

    Returns
    -------
    array [‰]
    """
    return (np.asarray(a, dtype=float) - 1.0) * 1000.0


def _check_lam(lam: float) -> float:
    lam = float(lam)
    if not math.isfinite(lam) or lam < 0:
        raise InputDataError(
            "decay constant must be finite and >= 0 [yr⁻¹] (e.g. ln 2/5730 = 1.209681e-4)",
            field="lam", value=lam,
        )
    return lam


def delta14c_from_fraction_modern(
    fm: ArrayLike, year: ArrayLike, lam: float = LAMBDA_ISRAD
) -> NDArray[np.float64]:
    """Δ14C from fraction modern and the year of observation (ISRaD convention).

    Δ14C = (Fm·exp(λ·(1950 − year)) − 1)·1000 (Stuiver & Polach 1977; Lawrence et al. 2020).

    Parameters
    ----------
    fm : array [-]
        Fraction modern (F14C).
    year : array [yr AD]
        Year of observation (sampling), broadcast with ``fm``.
    lam : float [yr⁻¹], default :data:`LAMBDA_ISRAD` (0.00012097)

    Returns
    -------
    array [‰]
    """
    lam = _check_lam(lam)
    fm = np.asarray(fm, dtype=float)
    year = np.asarray(year, dtype=float)
    return (fm * np.exp(lam * (1950.0 - year)) - 1.0) * 1000.0


def fraction_modern_from_delta14c(
    d14c: ArrayLike, year: ArrayLike, lam: float = LAMBDA_ISRAD
) -> NDArray[np.float64]:
    """Inverse of :func:`delta14c_from_fraction_modern`: Fm = (Δ14C/1000 + 1)·exp(λ·(year − 1950)).

    Parameters
    ----------
    d14c : array [‰]
    year : array [yr AD]
    lam : float [yr⁻¹], default :data:`LAMBDA_ISRAD`

    Returns
    -------
    array [-]
    """
    lam = _check_lam(lam)
    d14c = np.asarray(d14c, dtype=float)
    year = np.asarray(year, dtype=float)
    return (d14c / 1000.0 + 1.0) * np.exp(lam * (year - 1950.0))


# ------------------------------------------------------------------------------------- zones
def zone_from_latitude(lat: ArrayLike, zone: str | ArrayLike | None = None) -> NDArray[np.str_]:
    """Hua et al. zone of each latitude by :data:`ZONE_LATITUDE_BOUNDS`, or the user's zone.

    Parameters
    ----------
    lat : array [°N], −90 … 90
    zone : str or array of str, optional
        Override: one zone for all, or one per latitude (missing entries, ``None``/``""``, fall
        back to the latitude rule).

    Returns
    -------
    array of str, shape of ``lat``

    Raises
    ------
    InputDataError
        Latitude outside ±90° or not a number (where no override is given), or an unknown zone.
    """
    lat = np.asarray(lat, dtype=float)
    out = np.full(lat.shape, "", dtype=object)
    given = np.zeros(lat.shape, dtype=bool)
    if zone is not None:
        if isinstance(zone, str):
            return np.full(lat.shape, _check_zone(zone), dtype=object).astype(str)
        z = np.broadcast_to(np.asarray(zone, dtype=object), lat.shape)
        given = np.array([isinstance(v, str) and v != "" for v in z.ravel()],
                         dtype=bool).reshape(lat.shape)
        for name in set(z[given].tolist()):
            _check_zone(name)
        out[given] = z[given]
    need = ~given
    bad = need & ~(np.abs(lat) <= 90.0)  # also catches NaN
    if np.any(bad):
        raise InputDataError("latitude must be a number within −90 … 90 °N", field="lat",
                             value=lat[bad].ravel()[0].item())
    for name, (lo, hi) in ZONE_LATITUDE_BOUNDS.items():
        sel = need & (lat >= lo) & ((lat < hi) | ((hi == 90.0) & (lat <= hi)))
        out[sel] = name
    return out.astype(str)


def _check_zone(zone: str) -> str:
    if zone not in ZONES:
        raise InputDataError(f"unknown zone; choose one of {list(ZONES)}", field="zone",
                             value=zone)
    return zone


# --------------------------------------------------------------------------------- splines
def fmm_spline(x: ArrayLike, y: ArrayLike) -> PPoly:
    """Interpolating cubic spline with Forsythe–Malcolm–Moler end conditions (R ``splinefun``'s
    default ``method = "fmm"``).

    The second derivatives M_i solve the usual continuity equations
    h_{i−1}·M_{i−1} + 2(h_{i−1} + h_i)·M_i + h_i·M_{i+1} = 6(d_i − d_{i−1}) (d_i the slopes of the
    data), closed at each end by matching the spline's third derivative on the end interval,
    (M_1 − M_0)/h_0, to that of the cubic through the first four points, 6·f[x_0, x_1, x_2, x_3]
    (and likewise at the last four points). scipy's ``CubicSpline`` has no such end condition
    (its ``"not-a-knot"`` differs at the ends); away from the ends the two agree to a factor
    ≈ 0.27 per knot. With fewer than four points: not-a-knot (3 points) or linear (2).

    Parameters
    ----------
    x : array (n,), strictly increasing
    y : array (n,)

    Returns
    -------
    scipy.interpolate.PPoly
        Cubic pieces in the local variable x − x_i (coefficients of descending powers).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = x.size
    if n < 2 or np.any(np.diff(x) <= 0):
        raise InputDataError("spline knots must be >= 2 strictly increasing values", field="x")
    if n < 4:
        from scipy.interpolate import CubicSpline

        if n == 2:
            slope = (y[1] - y[0]) / (x[1] - x[0])
            return PPoly(np.array([[0.0], [0.0], [slope], [y[0]]]), x)
        cs = CubicSpline(x, y, bc_type="not-a-knot")
        return PPoly(cs.c, cs.x)
    h = np.diff(x)
    d = np.diff(y) / h
    # third divided differences of the first and last four points
    d2 = np.diff(d) / (x[2:] - x[:-2])
    d3 = np.diff(d2) / (x[3:] - x[:-3])
    ab = np.zeros((3, n))  # banded: upper, diagonal, lower
    rhs = np.zeros(n)
    # interior rows i = 1 … n−2
    ab[1, 1:-1] = 2.0 * (h[:-1] + h[1:])
    ab[0, 2:] = h[1:]  # super-diagonal entry of row i sits at column i+1
    ab[2, :-2] = h[:-1]  # sub-diagonal entry of row i sits at column i−1
    rhs[1:-1] = 6.0 * (d[1:] - d[:-1])
    # first row: −M_0 + M_1 = 6·h_0·f[x0..x3]
    ab[1, 0] = -1.0
    ab[0, 1] = 1.0
    rhs[0] = 6.0 * h[0] * d3[0]
    # last row: −M_{n−2} + M_{n−1} = 6·h_{n−2}·f[x_{n−4}..x_{n−1}]
    ab[2, n - 2] = -1.0
    ab[1, n - 1] = 1.0
    rhs[-1] = 6.0 * h[-1] * d3[-1]
    from wholesoil.models._blocksolve import solve_tridiagonal  # Thomas algorithm, numpy only

    m = solve_tridiagonal(np.concatenate([[0.0], ab[2, :-1]]), ab[1],
                          np.concatenate([ab[0, 1:], [0.0]]), rhs)
    c = np.empty((4, n - 1))
    c[0] = (m[1:] - m[:-1]) / (6.0 * h)
    c[1] = m[:-1] / 2.0
    c[2] = d - h * (2.0 * m[:-1] + m[1:]) / 6.0
    c[3] = y[:-1]
    return PPoly(c, x)


def _linear(x: NDArray[np.float64], y: NDArray[np.float64]) -> PPoly:
    c = np.zeros((4, x.size - 1))
    c[2] = np.diff(y) / np.diff(x)
    c[3] = y[:-1]
    return PPoly(c, x)


# ---------------------------------------------------------------------------------- curves
@dataclass(frozen=True, eq=False)
class AtmosphericCurve:
    """Atmospheric Δ14C of one zone through time, joined to a pre-bomb history and interpolated.

    Build with :meth:`load`. The interpolant is a :class:`scipy.interpolate.PPoly` of Δ14C [‰]
    in years AD, cubic pieces (linear ones padded with zero coefficients), which the one-pool
    model integrates exactly.

    Attributes
    ----------
    zone, curve, prebomb, interpolation
        As given to :meth:`load`.
    ppoly : scipy.interpolate.PPoly
        Δ14C [‰] as a function of the year AD.
    bomb_start : float [yr AD]
        First point of the bomb-period compilation (before it: the pre-bomb part).
    knots_year, knots_d14c : arrays
        The points interpolated (pre-bomb points first).
    extension : dict or None
        ``None`` unless built with ``extend_to`` past the compilation's end; then the
        extrapolation's parameters: ``form``, ``data_end`` and ``extended_to`` [yr AD],
        ``fit_from`` [yr AD], ``fit_years`` [yr], ``rate_per_yr`` [yr⁻¹], ``end_d14c`` [‰] and
        ``basis`` (see :meth:`load`).
    """

    zone: str
    curve: str
    prebomb: str | float
    interpolation: Interpolation
    ppoly: PPoly = field(repr=False)
    bomb_start: float
    knots_year: NDArray[np.float64] = field(repr=False)
    knots_d14c: NDArray[np.float64] = field(repr=False)
    extension: dict | None = None

    @classmethod
    def load(
        cls,
        zone: str = "NHZone1",
        curve: str = "hua2021",
        prebomb: str | float = "intcal",
        interpolation: Interpolation = "spline",
        extend_to: float | None = None,
    ) -> AtmosphericCurve:
        """Load a zone's curve (cached).

        Parameters
        ----------
        zone : str
            One of :data:`ZONES` (see :func:`zone_from_latitude`).
        curve : {"hua2021", "hua2013", "israd"}
            Bomb-period compilation: Hua et al. (2022) monthly 1941.21–2019.375 (SH from
            1941.46); Hua et al. (2013) 1950–2011 (irregular spacing); ISRaD's annual
            hemispheric means of Hua 2021 (1941–2019).
        prebomb : "intcal" or float
            Before the compilation's first point: ``"intcal"`` joins IntCal20 (NH zones) or
            SHCal20 (SH zones), taking every calibration-curve point strictly earlier than the
            compilation's first point, then the compilation's points (no averaging or shifting
            at the join; the IntCal20/SHCal20 points are annual from 1700 AD on, so the join is
            a gap of < 1 yr). A float is a constant pre-bomb Δ14C [‰] from
            :data:`PREBOMB_START` up to the first point (a step where it differs from that
            point; the spline is then fitted to the compilation alone).
        interpolation : {"spline", "linear"}
            ``spline``: cubic spline through the points with R ``splinefun``'s default ``fmm``
            end conditions (SoilR's ``BoundFc`` default; :func:`fmm_spline`); ``linear``:
            straight lines. Measured on NH zone 1 after 1955: the curve values differ by a
            median 0.06 ‰ and up to 7.1 ‰ (at the 1963 peak) for monthly Hua 2021, up to 34 ‰
            for the annual ISRaD curve; the one-pool Δ14C (k 1e-4 … 10 yr⁻¹, years 1965, 1980,
            2010) by up to 0.4 ‰ (monthly) and 7.6 ‰ (annual), largest for fast pools.
        extend_to : float [yr AD], optional
            Off by default (``None``: years after the compilation's last point are refused).
            A year after that point extends the curve to it by extrapolating the recent
            decline, exponential in the absolute fraction modern A = Δ14C/1000 + 1::

                Δ14C(t) = (A_end·exp(−r·(t − t_end)) − 1)·1000,   t > t_end

            anchored at the last point (t_end, A_end), so the curve is continuous there, with
            the rate r fitted by least squares to ln A over the last
            :data:`EXTENSION_FIT_YEARS` years of the compilation (the toolkit's own rule; the
            decline continues this century, Graven 2015). Carried by straight pieces every
            :data:`EXTENSION_STEP` yr; the curve up to t_end is unchanged. The parameters are
            in :attr:`extension`. An extrapolation, not a measurement: report it as such.
        """
        key = float(prebomb) if not isinstance(prebomb, str) else prebomb
        base = _load_cached(zone, curve, key, interpolation)
        if extend_to is None or not float(extend_to) > base.end:
            if extend_to is not None and not math.isfinite(float(extend_to)):
                raise InputDataError("extend_to must be a year (AD)", field="extend_to",
                                     value=extend_to)
            return base
        return _extended(base, float(extend_to))

    # ------------------------------------------------------------------ evaluation
    @property
    def start(self) -> float:
        """First year covered [yr AD]."""
        return float(self.ppoly.x[0])

    @property
    def end(self) -> float:
        """Last year covered [yr AD] (the compilation's last point)."""
        return float(self.ppoly.x[-1])

    @property
    def data_end(self) -> float:
        """Last year of the compilation itself [yr AD] (before any extension)."""
        return float(self.extension["data_end"]) if self.extension else self.end

    def check_years(self, years: ArrayLike, what: str = "year") -> NDArray[np.float64]:
        """Raise :class:`InputDataError` unless every year is a number inside the curve."""
        y = np.asarray(years, dtype=float)
        bad = ~((y >= self.start) & (y <= self.end))
        if np.any(bad):
            first = y[bad].ravel()[0].item()
            hint = ""
            if self.extension is None and first > self.end:
                hint = (f"; for a sample after {self.end:g}, extrapolate the recent decline "
                        "with --extend-curve (Python: extend_to=YEAR; off by default, see "
                        "docs/howto/radiocarbon.md)")
            raise InputDataError(
                f"{what} outside the {self.curve} {self.zone} curve "
                f"({self.start:g} … {self.end:g} AD, pre-bomb {self.prebomb!r}){hint}",
                field=what, value=first,
            )
        return y

    def d14c(self, years: ArrayLike) -> NDArray[np.float64]:
        """Atmospheric Δ14C [‰] at ``years`` [yr AD] (any shape)."""
        y = self.check_years(years)
        return np.asarray(self.ppoly(y), dtype=float)

    def absolute(self, years: ArrayLike) -> NDArray[np.float64]:
        """Atmospheric absolute fraction modern A = Δ14C/1000 + 1 [-] (Wang G. et al. (manuscript)
        Eq. 5)."""
        return absolute_from_delta14c(self.d14c(years))


def load_atmosphere(
    zone: str = "NHZone1",
    curve: str = "hua2021",
    prebomb: str | float = "intcal",
    interpolation: Interpolation = "spline",
    extend_to: float | None = None,
) -> AtmosphericCurve:
    """Shortcut for :meth:`AtmosphericCurve.load`."""
    return AtmosphericCurve.load(zone, curve, prebomb, interpolation, extend_to)


@lru_cache(maxsize=64)
def _load_cached(zone: str, curve: str, prebomb: str | float, interpolation: str
                 ) -> AtmosphericCurve:
    from wholesoil.datasets import load_bomb_curve

    _check_zone(zone)
    src = str(curve).lower()
    if src not in CURVES:
        raise InputDataError(f"unknown curve; choose one of {list(CURVES)}", field="curve",
                             value=curve)
    if interpolation not in ("spline", "linear"):
        raise InputDataError("interpolation must be 'spline' or 'linear'", field="interpolation",
                             value=interpolation)
    bomb = load_bomb_curve(zone if src != "israd" else zone[:2], src)
    by = bomb["year"].to_numpy(float)
    bd = bomb["d14c"].to_numpy(float)
    fit = fmm_spline if interpolation == "spline" else _linear
    if isinstance(prebomb, str):
        if prebomb.lower() != "intcal":
            raise InputDataError("prebomb must be 'intcal' or a constant Δ14C [‰]",
                                 field="prebomb", value=prebomb)
        cal = load_bomb_curve(source="intcal20" if zone.startswith("NH") else "shcal20")
        cy = cal["year"].to_numpy(float)
        keep = cy < by[0]
        x = np.concatenate([cy[keep], by])
        yv = np.concatenate([cal["d14c"].to_numpy(float)[keep], bd])
        pp = fit(x, yv)
    else:
        const = float(prebomb)
        if not math.isfinite(const) or const <= -1000.0:
            raise InputDataError("constant pre-bomb Δ14C must be a number > −1000 ‰",
                                 field="prebomb", value=prebomb)
        inner = fit(by, bd)
        c = np.concatenate([np.array([[0.0], [0.0], [0.0], [const]]), inner.c], axis=1)
        pp = PPoly(c, np.concatenate([[PREBOMB_START], inner.x]))
        x = np.concatenate([[PREBOMB_START], by])
        yv = np.concatenate([[const], bd])
    return AtmosphericCurve(zone, src, prebomb, interpolation,  # type: ignore[arg-type]
                            pp, float(by[0]), x, yv)


def _extended(base: AtmosphericCurve, extend_to: float) -> AtmosphericCurve:
    """``base`` with straight pieces after its end following the fitted exponential decline."""
    return _extended_cached(base.zone, base.curve, base.prebomb, base.interpolation,
                            float(extend_to))


@lru_cache(maxsize=64)
def _extended_cached(zone: str, curve: str, prebomb: str | float, interpolation: str,
                     extend_to: float) -> AtmosphericCurve:
    base = _load_cached(zone, curve, prebomb, interpolation)
    t_end = base.end
    xs, ys = base.knots_year, base.knots_d14c
    fit = (xs >= t_end - EXTENSION_FIT_YEARS) & (xs >= base.bomb_start)
    a_end = float(absolute_from_delta14c(ys[-1]))
    dt = xs[fit] - t_end
    dl = np.log(absolute_from_delta14c(ys[fit])) - math.log(a_end)
    rate = float(-(dt @ dl) / (dt @ dt)) if np.any(dt != 0) else 0.0
    n = max(1, math.ceil((extend_to - t_end) / EXTENSION_STEP - 1e-9))
    tx = np.linspace(t_end, extend_to, n + 1)
    dx = delta14c_from_absolute(a_end * np.exp(-rate * (tx - t_end)))
    dx[0] = ys[-1]
    ext = np.zeros((base.ppoly.c.shape[0], n))
    ext[-2] = np.diff(dx) / np.diff(tx)
    ext[-1] = dx[:-1]
    pp = PPoly(np.concatenate([base.ppoly.c, ext], axis=1),
               np.concatenate([base.ppoly.x, tx[1:]]))
    info = {
        "form": "Δ14C = (A_end·exp(−r·(t − t_end)) − 1)·1000, A = Δ14C/1000 + 1",
        "data_end": t_end, "extended_to": float(extend_to),
        "fit_from": float(xs[fit][0]), "fit_years": EXTENSION_FIT_YEARS,
        "rate_per_yr": rate, "end_d14c": float(ys[-1]),
        "basis": "toolkit rule: exponential fit to the compilation's last "
                 f"{EXTENSION_FIT_YEARS:g} years, anchored at its last point (recent decline, "
                 "Graven 2015, PNAS 112:9542, doi:10.1073/pnas.1504467112)",
    }
    return AtmosphericCurve(zone, curve, prebomb, interpolation,  # type: ignore[arg-type]
                            pp, base.bomb_start, base.knots_year, base.knots_d14c, info)
