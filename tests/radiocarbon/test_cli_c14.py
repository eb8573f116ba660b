"""``wholesoil c14 forward | age | profile`` on a fresh typer app (CliRunner)."""

import json

import numpy as np
import pandas as pd
import pytest
import typer
from numpy.testing import assert_allclose
from typer.testing import CliRunner

from wholesoil.cli.radiocarbon import register
from wholesoil.datasets import data_path
from wholesoil.radiocarbon._onepool import onepool_d14c

ISRAD = str(data_path("profiles/israd_gaudinski2001"))


@pytest.fixture(scope="module")
def app():
    a = typer.Typer()
    register(a)

    @a.callback()
    def main() -> None:  # a group, so that "c14" stays a sub-command
        pass

    return a


def _run(app, *args):
    return CliRunner().invoke(app, list(args))


def test_forward_prints_csv_matching_the_r_reference(app):
    # R 4.2.2 + deSolve lsoda as SoilR OnepModel14 runs it (see test_onepool.py):
    # k = 0.1, start 1942 at steady state, λ = 0.0001209681, splinefun "fmm" of Hua 2021 NHZone1
    res = _run(app, "c14", "forward", "--k", "0.1", "--zone", "NHZone1", "--curve", "hua2021",
               "--start-year", "1942", "--years", "1963,1970,2019",
               "--decay-constant", "1.209681e-4", "--interpolation", "spline")
    assert res.exit_code == 0, res.output
    lines = res.stdout.strip().splitlines()
    assert lines[0] == "year,delta14c"
    yrs = [float(x.split(",")[0]) for x in lines[1:]]
    vals = [float(x.split(",")[1]) for x in lines[1:]]
    assert yrs == [1963.0, 1970.0, 2019.0]
    assert_allclose(vals, [92.26565086, 382.19877550, 49.42315281], atol=1e-5)


def test_forward_defaults_are_seed_004(app):
    # defaults: λ = 1/8267 (Wang G. et al. (manuscript)), start 1950, spline, IntCal20 before the bomb curve
    res = _run(app, "c14", "forward", "--k", "0.05", "--years", "1990")
    assert res.exit_code == 0, res.output
    val = float(res.stdout.strip().splitlines()[1].split(",")[1])
    assert_allclose(val, onepool_d14c(0.05, [1990.0])[0], atol=1e-6)


def test_age_reports_roots_flag_and_zone(app):
    # λ = 1/8267 (Wang G. et al. (manuscript)); −35.9 ‰ in 2005 at 45.2 °N → NH zone 1, one (slow) root
    res = _run(app, "c14", "age", "--d14c", "-35.9", "--year", "2005", "--lat", "45.2")
    assert res.exit_code == 0, res.output
    out = dict(line.split(": ", 1) for line in res.stdout.strip().splitlines())
    assert out["zone"].startswith("NHZone1")
    k = float(out["k_per_yr"])
    assert_allclose(float(out["age_yr"]), 1 / k, rtol=1e-5)
    assert out["ambiguous"] == "false" and out["n_roots"] == "1"
    assert_allclose(onepool_d14c(k, [2005.0])[0], -35.9, atol=0.01)  # k printed to 6 digits
    # two roots after the bomb peak: 100 ‰ in 2005
    res = _run(app, "c14", "age", "--d14c", "100", "--year", "2005", "--zone", "NHZone1",
               "--choose", "fast")
    out = dict(line.split(": ", 1) for line in res.stdout.strip().splitlines())
    roots = [float(v) for v in out["roots_per_yr"].split(";")]
    assert len(roots) == 2 and out["ambiguous"] == "true"
    assert float(out["k_per_yr"]) == max(roots)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["forward", "--k", "0.1", "--zone", "NHZone7", "--years", "1963"], "zone"),
        (["forward", "--k", "0.1", "--years", "2025"], "outside"),
        (["forward", "--k", "-0.1", "--years", "1990"], "k"),
        (["forward", "--k", "abc", "--years", "1963"], "--k"),
        (["forward", "--k", "0.1", "--years", "19x3"], "--years"),
        (["forward", "--k", "0.1", "--years", "1990", "--interpolation", "akima"],
         "interpolation"),
        (["age", "--d14c", "0", "--year", "2005", "--lat", "95"], "latitude"),
        (["age", "--d14c", "-990", "--year", "2005", "--zone", "NHZone1"], "more depleted"),
        (["age", "--d14c", "400", "--year", "2019", "--zone", "NHZone1"], "more enriched"),
        (["age", "--d14c", "0", "--year", "2005"], "--lat"),
        (["age", "--d14c", "0", "--year", "2030", "--lat", "10"], "outside"),
    ],
)
def test_bad_input_exits_2_with_one_line(app, args, message):
    res = _run(app, "c14", *args)
    assert res.exit_code == 2
    assert message in res.output
    if "Usage" not in res.output:  # our own errors: one line
        assert len(res.output.strip().splitlines()) == 1


@pytest.mark.parametrize("cmd", ["forward", "age", "profile"])
def test_help_has_an_example(app, cmd):
    res = _run(app, "c14", cmd, "--help")
    assert res.exit_code == 0
    assert "Example" in res.output and "wholesoil c14 " + cmd in res.output


def test_profile_job_on_the_israd_example(app, tmp_path):
    # λ = 1/8267 (Wang G. et al. (manuscript)); bundled ISRaD entry Gaudinski_2001 (Howland Forest, 45.167 °N)
    res = _run(app, "c14", "profile", ISRAD, "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    ages = pd.read_csv(tmp_path / "tables" / "ages.csv")
    layer = pd.read_csv(data_path("profiles/israd_gaudinski2001/layer.csv"))
    assert len(ages) == len(layer)  # no layer dropped
    n14 = int(layer["lyr_14c"].notna().sum())
    assert (ages["status"] != "no_observation").sum() >= n14
    ok = ages["status"] == "ok"
    assert_allclose(ages.loc[ok, "d14c_model"], ages.loc[ok, "d14c"], atol=1e-4)
    assert_allclose(ages.loc[ok, "age"], 1 / ages.loc[ok, "k"])
    assert set(ages.loc[ok, "zone"]) == {"NHZone1"}
    assert (tmp_path / "figures" / "d14c_depth.png").stat().st_size > 10_000
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["parameters"]["decay_constant_per_yr"] == pytest.approx(1 / 8267)
    assert np.isclose(sum(run["status_counts"].values()), len(ages))


def test_profile_missing_folder_exits_2(app, tmp_path):
    res = _run(app, "c14", "profile", str(tmp_path / "nope"), "--out", str(tmp_path / "o"))
    assert res.exit_code == 2
