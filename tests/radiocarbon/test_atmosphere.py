"""Atmospheric curves, conversions and zones (Wang G. et al. (manuscript) Eqs. 4–5; ISRaD; Hua et al.)."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from wholesoil.errors import InputDataError
from wholesoil.radiocarbon._atmosphere import (
    LAMBDA_ISRAD,
    LAMBDA_SEED004,
    LAMBDA_SOILR,
    AtmosphericCurve,
    absolute_from_delta14c,
    delta14c_from_absolute,
    delta14c_from_fraction_modern,
    fmm_spline,
    fraction_modern_from_delta14c,
    zone_from_latitude,
)


def test_israd_conversion_example():
    # spec radiocarbon.md / issue 9 acceptance: Fm 0.97057 observed in 2005,
    # λ = 0.00012097 yr⁻¹ (ISRaD) → Δ14C = −35.866 ‰
    d = delta14c_from_fraction_modern(0.97057, 2005, lam=LAMBDA_ISRAD)
    assert_allclose(d, -35.866, atol=1e-3)
    # inverse, same λ
    assert_allclose(fraction_modern_from_delta14c(d, 2005, lam=LAMBDA_ISRAD), 0.97057, rtol=1e-14)


def test_israd_conversion_in_bundled_entry():
    # the bundled ISRaD entry (Gaudinski 2001) stores both lyr_fraction_modern and lyr_14c;
    # ISRaD computed lyr_14c with λ = 0.00012097 and the observation year
    from wholesoil.datasets import load_israd_example

    h = load_israd_example().horizons.dropna(subset=["f14c", "d14c"])
    d = delta14c_from_fraction_modern(h["f14c"], h["obs_year"], lam=LAMBDA_ISRAD)
    assert_allclose(d, h["d14c"], atol=1e-3)


def test_absolute_fraction_modern_eqs_4_5():
    # Wang G. et al. (manuscript) Eq. 5 with A_standard = 1: 50 ‰ ↔ 1.05; Eq. 4 inverts it exactly
    assert_allclose(absolute_from_delta14c([50.0, -1000.0, 0.0]), [1.05, 0.0, 1.0], rtol=1e-15)
    x = np.linspace(-900, 900, 7)
    assert_allclose(delta14c_from_absolute(absolute_from_delta14c(x)), x, atol=1e-12)


def test_decay_constants_from_their_sources():
    assert LAMBDA_SEED004 == 1.0 / 8267.0  # Wang G. et al. (manuscript) Methods: γ = 1/8267 yr⁻¹
    assert_allclose(LAMBDA_SOILR, 1.209681e-4, rtol=1e-7)  # SoilR OnepModel14 default
    assert LAMBDA_ISRAD == 0.00012097
    assert_allclose(LAMBDA_SOILR, math.log(2) / 5730, rtol=0)


def test_bad_decay_constant():
    with pytest.raises(InputDataError, match="decay constant"):
        delta14c_from_fraction_modern(1.0, 2000, lam=-1e-4)


def test_fmm_spline_matches_r_splinefun():
    # R 4.2.2: x <- c(0,1,2.5,3,4.2,5,7); f <- splinefun(x, sin(x)) (method "fmm");
    # f(c(0.3,1.7,2.7,4.6,6.5)) printed with digits = 15
    x = np.array([0, 1, 2.5, 3, 4.2, 5, 7.0])
    r = [0.3384098481605918, 0.9532951924313863, 0.4301658013034693, -0.9814361226476691,
         0.0354964471229973]
    assert_allclose(fmm_spline(x, np.sin(x))(np.array([0.3, 1.7, 2.7, 4.6, 6.5])), r,
                    atol=1e-13)


def test_fmm_spline_reproduces_a_cubic():
    # the fmm end conditions match the third derivative of the cubic through the end points:
    # a cubic is reproduced exactly (Forsythe, Malcolm & Moler 1977)
    x = np.sort(np.random.default_rng(0).uniform(0, 10, 25))
    pp = fmm_spline(x, 2 * x**3 - x**2 + 3)
    t = np.linspace(x[0], x[-1], 500)
    assert_allclose(pp(t), 2 * t**3 - t**2 + 3, atol=1e-9)


def test_hua2021_spline_matches_r_splinefun():
    # R 4.2.2: h <- read.csv("Hua2021_NHZone1.csv"); f <- splinefun(h$Year, h$mean.Delta14C)
    # f(c(1942, 1963.5, 1970.25, 2005, 2019)) with sprintf("%.10f"); the join to IntCal20 before
    # 1941.21 changes values after 1942 by < 1e-8 ‰ (end effects decay ≈ 0.27× per knot)
    c = AtmosphericCurve.load("NHZone1", "hua2021", interpolation="spline")
    r = [-20.0513809307, 851.3914653051, 526.8096867142, 60.4851529460, 3.0001204618]
    assert_allclose(c.d14c([1942, 1963.5, 1970.25, 2005, 2019]), r, atol=1e-8)


def test_curve_passes_through_its_points_and_joins_calibration_curves():
    from wholesoil.datasets import load_bomb_curve

    for zone, cal in [("NHZone1", "intcal20"), ("SHZone12", "shcal20")]:
        for interp in ("spline", "linear"):
            c = AtmosphericCurve.load(zone, "hua2021", interpolation=interp)
            b = load_bomb_curve(zone, "hua2021")
            assert_allclose(c.d14c(b["year"]), b["d14c"], atol=1e-9)
            k = load_bomb_curve(source=cal)
            k = k[(k["year"] > 1800) & (k["year"] < b["year"].iloc[0])]
            assert_allclose(c.d14c(k["year"]), k["d14c"], atol=1e-9)
            assert c.bomb_start == b["year"].iloc[0]


def test_constant_prebomb_and_absolute():
    c = AtmosphericCurve.load("NHZone2", "hua2013", prebomb=-25.0, interpolation="linear")
    assert_allclose(c.d14c([1000.0, 1900.0, 1950.0]), -25.0)
    assert_allclose(c.absolute(1900.0), 0.975)
    assert c.d14c(1950.5) == pytest.approx(-22.1)  # first Hua 2013 NH zone 2 point


def test_curve_errors():
    c = AtmosphericCurve.load("NHZone1")
    with pytest.raises(InputDataError, match="outside"):
        c.d14c(2020.0)
    with pytest.raises(InputDataError, match="zone"):
        AtmosphericCurve.load("NHZone9")
    with pytest.raises(InputDataError, match="curve"):
        AtmosphericCurve.load("NHZone1", "hua1999")
    with pytest.raises(InputDataError, match="interpolation"):
        AtmosphericCurve.load("NHZone1", interpolation="akima")  # type: ignore[arg-type]
    with pytest.raises(InputDataError, match="prebomb"):
        AtmosphericCurve.load("NHZone1", prebomb="none")


def test_zone_rule_and_override():
    lat = np.array([45.2, 40.0, 39.9, 15.0, 14.9, 0.0, -0.1, -15.0, -15.1, 90.0, -90.0])
    assert zone_from_latitude(lat).tolist() == [
        "NHZone1", "NHZone1", "NHZone2", "NHZone2", "NHZone3", "NHZone3", "SHZone3",
        "SHZone3", "SHZone12", "NHZone1", "SHZone12"]
    assert zone_from_latitude([45.0, 10.0], "SHZone3").tolist() == ["SHZone3"] * 2
    assert zone_from_latitude([45.0, 10.0], ["SHZone3", ""]).tolist() == ["SHZone3", "NHZone3"]
    with pytest.raises(InputDataError, match="latitude"):
        zone_from_latitude([95.0])
    with pytest.raises(InputDataError, match="latitude"):
        zone_from_latitude([np.nan])
    with pytest.raises(InputDataError, match="zone"):
        zone_from_latitude([10.0], "Zone7")
