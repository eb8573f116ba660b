"""`wholesoil sensitivity` end to end (He et al.'s (2024) CUE-versus-input analysis).

References: the models' own steady states (the job must report exactly them), He et al.'s (2024)
elasticity definition recomputed from the reported SOC values, and z-scores with mean 0 and
standard deviation 1 within each β panel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from wholesoil.cli import app
from wholesoil.models._millennial import Millennial

runner = CliRunner()


def test_millennial_elasticities_grid_and_figures(tmp_path):
    res = runner.invoke(app, ["sensitivity", "--model", "millennial", "--beta", "1,2",
                              "--grid-points", "3", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    el = pd.read_csv(tmp_path / "tables" / "elasticities.csv")
    assert sorted(zip(el["knob"], el["beta"], strict=True)) == [
        ("cue", 1.0), ("cue", 2.0), ("input", 1.0), ("input", 2.0)]
    # He et al.'s (2024) measure, recomputed from the SOC values the job reports
    np.testing.assert_allclose(el["elasticity"], (el["soc_plus"] - el["soc_minus"])
                               / (2 * 0.1 * el["soc"]), rtol=1e-12)
    # the base SOC is the model's own steady state at He et al.'s Fig. 1 conditions: clay 20 %,
    # so clay + silt 60 % (the reference code's texture series, clay_silt_from_clay)
    m = Millennial({"beta": 2.0}, temperature=20.0, clay_silt=60.0)
    ss = m.steady_state()
    base = el[(el["beta"] == 2.0) & (el["knob"] == "input")]["soc"].iloc[0]
    assert base == pytest.approx(float(m.soc(ss.state)), rel=1e-9)
    grid = pd.read_csv(tmp_path / "tables" / "grid.csv")
    assert len(grid) == 2 * 3 * 3 and (grid["status"] == "ok").all()
    for _, panel in grid.groupby("beta"):
        assert panel["z_soc"].mean() == pytest.approx(0.0, abs=1e-12)
        assert panel["z_soc"].std(ddof=0) == pytest.approx(1.0, rel=1e-12)
    assert (tmp_path / "figures" / "surfaces.png").is_file()
    assert (tmp_path / "figures" / "elasticities.png").is_file()


def test_tao_model_classic_structure_and_sobol(tmp_path):
    res = runner.invoke(app, ["sensitivity", "--model", "tao2024", "--beta", "1",
                              "--grid-points", "3", "--sobol", "--sobol-n", "64",
                              "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    el = pd.read_csv(tmp_path / "tables" / "elasticities.csv").set_index("knob")
    # β = β_enz = 1: mineral SOC and DOC do not depend on input; total SOC moves only by
    # MIC* + ENZ*, a small share
    assert 0.0 <= el.loc["input", "elasticity"] < 0.05
    sob = pd.read_csv(tmp_path / "tables" / "sobol.csv")
    assert {"cue", "input"} <= set(sob.astype(str).to_numpy().ravel())
    assert {"S1", "ST"} <= set(sob.columns)


def test_bad_input_is_named(tmp_path):
    res = runner.invoke(app, ["sensitivity", "--model", "century", "--out", str(tmp_path)])
    assert res.exit_code != 0 and "century" in res.output
    res = runner.invoke(app, ["sensitivity", "--model", "millennial", "--vary", "cue,npp",
                              "--out", str(tmp_path)])
    assert res.exit_code != 0 and "npp" in res.output
    res = runner.invoke(app, ["sensitivity", "--model", "millennial", "--beta", "0.5",
                              "--out", str(tmp_path)])
    assert res.exit_code != 0 and "beta" in res.output


def test_awb_with_beta_enz_reports_the_closed_form(tmp_path):
    # The job's base SOC must be the AWB closed-form steady state (Allison et al. 2010, A8)
    # with the β_enz given on the command line.
    from wholesoil.models._awb import AWBModel

    res = runner.invoke(app, ["sensitivity", "--model", "awb", "--beta", "1,1.5",
                              "--beta-enz", "0.5", "--grid-points", "3", "--out",
                              str(tmp_path)])
    assert res.exit_code == 0, res.output
    el = pd.read_csv(tmp_path / "tables" / "elasticities.csv")
    ref = AWBModel({"beta": np.array([1.0, 1.5]), "beta_enz": 0.5}).closed_form().state[:, 0]
    cue = el[el.knob == "cue"].sort_values("beta")
    np.testing.assert_allclose(cue["soc"], ref, rtol=1e-9)
    assert (el["status"] == "ok").all()


def test_beta_enz_rejected_for_models_without_it(tmp_path):
    res = runner.invoke(app, ["sensitivity", "--model", "mimics", "--beta-enz", "0.5",
                              "--out", str(tmp_path)])
    assert res.exit_code != 0
    assert "beta-enz" in res.output
