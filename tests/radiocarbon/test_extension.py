"""Issue 24 item 4: the optional extension of the bomb curve past its end (``--extend-curve``)."""

import numpy as np
import pytest
import typer
from numpy.testing import assert_allclose
from typer.testing import CliRunner

from wholesoil.cli.radiocarbon import register
from wholesoil.errors import InputDataError
from wholesoil.radiocarbon._atmosphere import AtmosphericCurve, absolute_from_delta14c
from wholesoil.workflows._radiocarbon import age_of


@pytest.fixture(scope="module")
def app():
    a = typer.Typer()
    register(a)

    @a.callback()
    def main() -> None:
        pass

    return a


AGE = ["c14", "age", "--d14c", "-35.9", "--year", "2023", "--lat", "45.2"]


def test_age_past_curve_names_the_flag(app):
    r = CliRunner().invoke(app, AGE)
    assert r.exit_code != 0
    assert "--extend-curve" in r.output
    assert "2019.375" in r.output or "2019.38" in r.output


def test_age_with_flag_says_it_extrapolated(app):
    r = CliRunner().invoke(app, [*AGE, "--extend-curve"])
    assert r.exit_code == 0, r.output
    assert "curve_extension: extrapolated past the curve's end 2019.375 to 2023" in r.output
    assert "atmosphere_d14c_extrapolated:" in r.output
    assert "age_yr:" in r.output


def test_inside_curve_identical_with_and_without_flag(app):
    base = ["c14", "age", "--d14c", "-35.9", "--year", "2005", "--lat", "45.2"]
    a = CliRunner().invoke(app, base)
    b = CliRunner().invoke(app, [*base, "--extend-curve"])
    assert a.exit_code == b.exit_code == 0
    assert a.output == b.output
    r1 = age_of(40.0, 2010.0, zone="NHZone1")
    r2 = age_of(40.0, 2010.0, zone="NHZone1", extend=True)
    assert r2["extension"] is None
    assert r1["roots"] == r2["roots"]


@pytest.mark.parametrize("zone", ["NHZone1", "SHZone3"])
@pytest.mark.parametrize("interp", ["spline", "linear"])
def test_extension_continuous_and_declining(zone, interp):
    base = AtmosphericCurve.load(zone, "hua2021", "intcal", interp)
    ext = AtmosphericCurve.load(zone, "hua2021", "intcal", interp, extend_to=2025.0)
    end = base.end
    assert ext.data_end == end and ext.end == 2025.0
    # continuity at the curve's last point, and the curve unchanged inside
    assert ext.d14c(end) == pytest.approx(float(base.knots_d14c[-1]), abs=1e-12)
    inside = np.linspace(1950.0, end, 997)[:-1]
    assert np.array_equal(ext.d14c(inside), base.d14c(inside))
    assert ext.d14c(end) == pytest.approx(float(base.d14c(end)), abs=1e-9)
    after = np.linspace(end, 2025.0, 50)
    d = ext.d14c(after)
    assert np.all(np.diff(d) < 0)
    # the pieces follow the stated exponential in A = Δ14C/1000 + 1
    info = ext.extension
    a = absolute_from_delta14c(info["end_d14c"]) * np.exp(-info["rate_per_yr"] * (after - end))
    assert_allclose(d, (a - 1.0) * 1000.0, atol=1e-3)
    assert info["rate_per_yr"] > 0 and info["fit_from"] == pytest.approx(end - 5.0, abs=0.1)
    with pytest.raises(InputDataError, match="extend"):
        base.d14c(2023.0)


def test_forward_flags_extrapolated_rows(app):
    r = CliRunner().invoke(app, ["c14", "forward", "--k", "0.1", "--years", "2019,2023",
                                 "--extend-curve"])
    assert r.exit_code == 0, r.output
    assert "year,delta14c,extrapolated" in r.output
    assert "2019,49.418274,false" in r.output
    assert "2023," in r.output and ",true" in r.output
    assert "curve_extension:" in r.output
