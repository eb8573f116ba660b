"""``wholesoil inputs`` through typer's CliRunner on a fresh app with register(app)."""

import json
import re

import numpy as np
import pandas as pd
import pytest
import typer
from numpy.testing import assert_allclose
from typer.testing import CliRunner

from wholesoil.cli.inputs import register

runner = CliRunner()


@pytest.fixture
def app():
    a = typer.Typer()
    register(a)

    @a.command("noop")  # a second command keeps typer from collapsing the group
    def _noop() -> None:
        pass

    return a


def _read(path):
    """A table ``wholesoil inputs`` wrote, headers without their ``[unit]`` (issue 24 item 5:
    units in the headers, 6 significant digits)."""
    return pd.read_csv(path).rename(columns=lambda c: c.split(" [")[0])


def test_inputs_tables_carry_units(app, tmp_path):
    src = tmp_path / "layers.csv"
    write_layers(src)
    out = tmp_path / "out"
    res = runner.invoke(app, ["inputs", str(src), "--npp", "500", "--draws", "10", "--out",
                              str(out)])
    assert res.exit_code == 0, res.output
    head = {f: pd.read_csv(out / "tables" / f, nrows=0).columns.tolist()
            for f in ("layers.csv", "profiles.csv", "horizons.csv", "monte_carlo.csv")}
    assert head["layers.csv"][:5] == ["profile_id", "top [cm]", "bottom [cm]", "coverage [-]",
                                      "stock [Mg C ha-1]"]
    assert "i_loss [Mg C ha-1 yr-1]" in head["layers.csv"]
    assert "npp [g C m-2 yr-1]" in head["profiles.csv"]
    assert "c_age [yr]" in head["horizons.csv"]
    mc = pd.read_csv(out / "tables" / "monte_carlo.csv")
    assert mc.set_index("variable")["unit"].to_dict() == {
        "i_bulk": "Mg C ha-1 yr-1", "i_root": "Mg C ha-1 yr-1", "i_loss": "Mg C ha-1 yr-1",
        "loss_fraction": "-"}
    # numbers with 6 significant digits
    text = (out / "tables" / "layers.csv").read_text().splitlines()[1]
    assert all(len(re.sub(r"[-.e+]", "", v).lstrip("0")) <= 6 for v in text.split(",")[1:]
               if v and v[0].isdigit())


def write_layers(path, **extra):
    t = pd.DataFrame({
        "profile_id": ["A"] * 4 + ["B"] * 3,
        "top": [0, 10, 30, 60, 0, 25, 50.0],
        "bottom": [10, 30, 60, 100, 25, 50, 120.0],
        "soc_stock": [30, 25, 20, 15, 40, 20, 10.0],
        "c_age": [100, 300, 1000, 3000, 200, 800, 2500.0],
        "mat": [5.5] * 4 + [20.0] * 3,
        "map": [1000.0] * 4 + [800.0] * 3,
        **extra,
    })
    t.to_csv(path, index=False)
    return t


def test_inputs_command_writes_outputs(app, tmp_path):
    src = tmp_path / "layers.csv"
    write_layers(src)
    out = tmp_path / "out"
    res = runner.invoke(app, ["inputs", str(src), "--npp", "500", "--f-bnpp", "0.4",
                              "--roots", "boreal_forest", "--draws", "50", "--seed", "2",
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    for f in ("tables/layers.csv", "tables/profiles.csv", "tables/monte_carlo.csv",
              "tables/horizons.csv", "figures/inputs.png", "run.json"):
        assert (out / f).exists(), f
    lay = _read(out / "tables" / "layers.csv")
    a = lay[lay.profile_id == "A"].reset_index(drop=True)
    # I_root = 500 g m-2 · 0.01 · 0.4 · (β^top − β^bottom), β = 0.943 (Jackson 1996, boreal)
    b = 0.943
    assert_allclose(a["i_root"], 2.0 * (b ** a["top"] - b ** a["bottom"]), rtol=1e-5)
    # 0–20 cm I_bulk by hand (uniform harmonization): 30/100 + 12.5/300
    assert_allclose(a.loc[0, "i_bulk"], 0.3 + 12.5 / 300, rtol=1e-5)
    assert_allclose(a.loc[0, "i_loss"], a.loc[0, "i_root"] - a.loc[0, "i_bulk"], rtol=1e-5)
    prof = _read(out / "tables" / "profiles.csv")
    assert list(prof["npp_source"]) == ["data", "data"]
    run = json.loads((out / "run.json").read_text())
    assert run["monte_carlo"] == {"draws": 50, "seed": 2, "cv": 0.1}
    mc = _read(out / "tables" / "monte_carlo.csv")
    assert set(mc["variable"]) == {"i_bulk", "i_root", "i_loss", "loss_fraction"}


def test_inputs_miami_default_and_flag(app, tmp_path):
    src = tmp_path / "layers.csv"
    write_layers(src)
    out = tmp_path / "out"
    res = runner.invoke(app, ["inputs", str(src), "--d50", "20", "--d95", "80",
                              "--draws", "20", "--out", str(out)])
    assert res.exit_code == 0, res.output
    prof = _read(out / "tables" / "profiles.csv")
    assert list(prof["npp_source"]) == ["miami", "miami"]
    # Lieth 1975 at 5.5 °C, 1000 mm: 0.5·min(3000/(1+e^(1.315−0.119·5.5)), 3000(1−e^−0.664))
    expect = 0.5 * min(3000 / (1 + np.exp(1.315 - 0.119 * 5.5)),
                       3000 * (1 - np.exp(-0.000664 * 1000)))
    assert_allclose(prof.loc[0, "npp"], expect, rtol=1e-5)
    assert_allclose(prof.loc[0, "f_bnpp"], 0.377)
    assert "Miami" in res.output


def test_inputs_bad_input_one_line_exit_2(app, tmp_path):
    src = tmp_path / "layers.csv"
    t = write_layers(src)
    t.loc[2, "c_age"] = np.nan
    t.to_csv(src, index=False)
    res = runner.invoke(app, ["inputs", str(src), "--npp", "500", "--draws", "10",
                              "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "row 4" in res.output and "c_age" in res.output
    assert len(res.output.strip().splitlines()) <= 3  # one message (rich may wrap it)
    res = runner.invoke(app, ["inputs", str(src), "--npp", "nppcol", "--exclude-missing",
                              "--draws", "10", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "nppcol" in res.output
    res = runner.invoke(app, ["inputs", str(src), "--npp", "500", "--roots", "mangrove",
                              "--exclude-missing", "--draws", "10", "--out",
                              str(tmp_path / "o")])
    assert res.exit_code == 2 and "mangrove" in res.output


def test_inputs_help_has_example(app):
    res = runner.invoke(app, ["inputs", "--help"])
    assert res.exit_code == 0
    assert "Example" in res.output and "--npp" in res.output


def test_inputs_demo_howland_from_d14c(tmp_path):
    from wholesoil.workflows._inputs import inputs_demo, israd_example_layers

    t = israd_example_layers()
    res = inputs_demo(tmp_path / "demo", draws=20, seed=1)
    lay = res.table
    # Tower Pit mineral soil reaches 80.5 cm: 0–20 … 60–80 cm reported, deeper layers not
    assert lay["i_bulk"].notna().tolist() == [True] * 4 + [False] * 3
    prof = _read(res.outputs["profiles"])
    assert prof.loc[0, "npp_source"] == "miami"
    assert prof.loc[0, "beta"] == 0.976  # Jackson 1996, temperate coniferous forest
    hz = _read(res.outputs["horizons"])
    assert len(hz) == 7 and set(hz["status"]) == {"ok"}
    # Eq. 6 per horizon: stock / age
    assert_allclose(hz["i_bulk"], hz["stock"] / hz["c_age"], rtol=1e-5)
    ex = _read(res.outputs["excluded"])
    assert len(ex) == 3  # the O horizons above 0 cm
    assert t["stock_source"].iloc[-1] == "soc x bd x thickness"
