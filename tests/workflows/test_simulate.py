"""`wholesoil simulate` end to end.

References: the models' own batched steady states (the job must reproduce them exactly), mass
balance at steady state (column input = column respiration), and exact integration of the layer
densities over the reported layers.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from wholesoil.cli import app
from wholesoil.models._clm5 import CLM5, CLM5Parameters
from wholesoil.models._environment import forcing_from_climate
from wholesoil.models._vertical import clm5_grid
from wholesoil.workflows import simulate_job

runner = CliRunner()


def test_cli_clm5_one_site_balances_and_integrates(tmp_path):
    res = runner.invoke(app, ["simulate", "--out", str(tmp_path), "--mat", "5", "--map", "900",
                              "--lat", "60", "--depths", "0,30,100,860"])
    assert res.exit_code == 0, res.output
    diag = pd.read_csv(tmp_path / "tables" / "diagnostics.csv")
    assert diag["input_g_m2_yr"].iloc[0] == pytest.approx(diag["respiration_g_m2_yr"].iloc[0],
                                                          rel=1e-10)
    pools = pd.read_csv(tmp_path / "tables" / "pools.csv")
    assert len(pools) == 7 * 20 and list(pools["pool"].unique()) == [
        "CWD", "L1", "L2", "L3", "S1", "S2", "S3"]
    prof = pd.read_csv(tmp_path / "tables" / "profiles.csv")
    soil = pools[pools["pool"].isin(["S1", "S2", "S3"])].groupby("layer")["density_g_m3"].sum()
    np.testing.assert_allclose(prof["soc_g_m3"].to_numpy(), soil.to_numpy(), rtol=1e-12)
    lay = pd.read_csv(tmp_path / "tables" / "layer_stocks.csv")
    column = float((prof["soc_g_m3"] * clm5_grid().dz).sum()) / 100.0  # g C m⁻² → Mg C ha⁻¹
    assert lay["soc_mg_ha"].sum() == pytest.approx(column, rel=1e-12)  # 0–860 cm = whole column
    assert diag["soc_stock_kg_m2"].iloc[0] == pytest.approx(column / 10.0, rel=1e-12)
    assert diag["mean_transit_time_yr"].iloc[0] > 0
    assert (tmp_path / "figures" / "profiles.png").is_file()


def test_sites_table_and_parameter_file_reproduce_the_batched_model(tmp_path):
    sites = pd.DataFrame({"site_id": ["a", "b", "c"], "mat": [-6.0, 3.0, 14.0],
                          "map": [300.0, 700.0, 1400.0], "lat": [68.0, 55.0, 40.0]})
    sites.to_csv(tmp_path / "sites.csv", index=False)
    (tmp_path / "p.json").write_text(json.dumps({"tau4s3": 500.0, "q10": 2.0}))
    res = simulate_job(tmp_path / "out", sites=tmp_path / "sites.csv",
                       params=tmp_path / "p.json")
    assert res.table["site"].tolist() == ["a", "b", "c"]
    forcing = forcing_from_climate(sites["mat"].to_numpy(), sites["map"].to_numpy(),
                                   lat=sites["lat"].to_numpy())
    x = CLM5(CLM5Parameters(tau4s3=500.0, q10=2.0), forcing).steady_state()
    pools = pd.read_csv(tmp_path / "out" / "tables" / "pools.csv")
    np.testing.assert_array_equal(pools["density_g_m3"].to_numpy(), x.reshape(-1))


def test_compas_without_positive_steady_state_is_flagged_not_returned(tmp_path):
    res = simulate_job(tmp_path, model="compas", mat=5.0, map=900.0,
                       params={"tau_assim": 10.0})
    diag = res.table
    assert not diag["valid"].iloc[0] and "DOC" in diag["reason"].iloc[0]
    prof = pd.read_csv(tmp_path / "tables" / "profiles.csv")
    assert prof["soc_g_m3"].isna().all()
    assert any("no positive steady state" in m for m in res.messages)


def test_bad_input_names_the_parameter_or_option(tmp_path):
    res = runner.invoke(app, ["simulate", "--out", str(tmp_path), "--mat", "5", "--map", "900",
                              "--model", "century"])
    assert res.exit_code != 0 and "century" in res.output
    (tmp_path / "p.json").write_text(json.dumps({"tau4s9": 1.0}))
    res = runner.invoke(app, ["simulate", "--out", str(tmp_path), "--mat", "5", "--map", "900",
                              "--params", str(tmp_path / "p.json")])
    assert res.exit_code != 0 and "tau4s9" in res.output
    (tmp_path / "n.json").write_text(json.dumps({"tau4s2": -1.0}))
    res = runner.invoke(app, ["simulate", "--out", str(tmp_path), "--mat", "5", "--map", "900",
                              "--params", str(tmp_path / "n.json")])
    assert res.exit_code != 0 and "tau4s2" in res.output
    res = runner.invoke(app, ["simulate", "--out", str(tmp_path)])
    assert res.exit_code != 0 and "--mat" in res.output


def test_clm5_radiocarbon_and_transit_time_equal_the_dense_operator(tmp_path):
    """The job's structured-solver diagnostics against the dense 140 × 140 system (mass in
    g C m⁻² via dz weights)."""
    from wholesoil.models._ages import mean_transit_time, radiocarbon_steady_state

    res = simulate_job(tmp_path, mat=-4.0, map=450.0, lat=66.0)
    forcing = forcing_from_climate(np.array([-4.0]), np.array([450.0]), lat=np.array([66.0]))
    m = CLM5(CLM5Parameters(), forcing)
    mats = m.matrices()
    w = np.repeat(clm5_grid().dz[None, :], 7, axis=0).reshape(-1)
    rc = radiocarbon_steady_state(mats["M"], mats["BI"], weights=w)
    mtt = mean_transit_time(mats["M"], mats["BI"], weights=w)
    assert res.table["fraction_modern_steady_state"].iloc[0] == pytest.approx(
        float(rc.system_fraction_modern[0]), rel=1e-9)
    assert res.table["mean_transit_time_yr"].iloc[0] == pytest.approx(float(mtt[0]), rel=1e-9)
    assert 0.0 < res.table["cte_eq10"].iloc[0] < 1.0
