"""`wholesoil proda train | map | e2e` through typer's test runner, on a fresh app."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from wholesoil.assimilation import ParameterSpace
from wholesoil.cli.proda import register
from wholesoil.datasets import load_climate_grid
from wholesoil.io import write_netcdf

runner = CliRunner()
SMALL = ["--hidden", "16,16", "--max-epochs", "6", "--patience", "6", "--device", "cpu"]


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer()

    @a.callback()
    def _root() -> None:
        """wholesoil (test app)."""

    register(a)
    return a


def calibrations(model: str = "clm5", n: int = 24, seed: int = 0):
    """Synthetic assimilate output: posterior means that depend smoothly on MAT and MAP, every
    tenth profile rejected (as `wholesoil assimilate` writes them)."""
    sp = ParameterSpace.from_clm5() if model == "clm5" else ParameterSpace.from_compas()
    rng = np.random.default_rng(seed)
    mat, mp = rng.uniform(-10, 25, n), rng.uniform(200, 2500, n)
    u = np.full((n, sp.n_params), 0.5)
    u[:, 0] = 0.1 + 0.8 * (mat + 10) / 35
    u[:, 1] = 0.1 + 0.8 * (mp - 200) / 2300
    theta = sp.lower + u * (sp.upper - sp.lower)
    ids = [f"P{i}" for i in range(n)]
    par = pd.DataFrame({"profile_id": np.repeat(ids, sp.n_params),
                        "parameter": np.tile(sp.names, n), "mean": theta.ravel()})
    acc = [i % 10 != 9 for i in range(n)]
    prof = pd.DataFrame({"profile_id": ids, "accepted": acc,
                         "reason": ["" if a else "mean R-hat 1.31 > 1.05" for a in acc]})
    cov = pd.DataFrame({"profile_id": ids, "mat": mat, "map": mp,
                        "lat": rng.uniform(-40, 70, n), "lon": rng.uniform(-180, 180, n)})
    return par, prof, cov


def write_assimilate(folder, model="clm5", **kw):
    par, prof, cov = calibrations(model, **kw)
    (folder / "tables").mkdir(parents=True)
    par.to_csv(folder / "tables" / "parameters.csv", index=False)
    prof.to_csv(folder / "tables" / "profiles.csv", index=False)
    return cov


def small_grid(path, drop=()):
    g = load_climate_grid().isel(y=slice(10, 40, 3), x=slice(0, 144, 12))
    return write_netcdf(g.drop_vars(list(drop)), path)


def test_help_has_an_example_for_every_command(app):
    for cmd in ("train", "map", "e2e"):
        res = runner.invoke(app, ["proda", cmd, "--help"])
        assert res.exit_code == 0, res.output
        assert "Example" in res.output and f"wholesoil proda {cmd}" in res.output


@pytest.mark.slow
def test_train_then_map(app, tmp_path):
    cov = write_assimilate(tmp_path / "assim", "clm5")
    cov.to_csv(tmp_path / "cov.csv", index=False)
    res = runner.invoke(app, ["proda", "train", str(tmp_path / "assim"), str(tmp_path / "cov.csv"),
                              "--out", str(tmp_path / "nn"), "--columns", "mat,map", *SMALL])
    assert res.exit_code == 0, res.output
    meta = json.loads((tmp_path / "nn" / "model" / "proda.json").read_text())
    assert meta["model"] == "clm5" and meta["covariates"] == ["mat", "map"]
    assert meta["n_training_profiles"] == 22  # 24 minus the two rejected (P9, P19)
    excl = pd.read_csv(tmp_path / "nn" / "tables" / "excluded.csv")
    assert sorted(excl["profile_id"]) == ["P19", "P9"]
    grid = small_grid(tmp_path / "grid.nc")
    res = runner.invoke(app, ["proda", "map", str(tmp_path / "nn"), str(grid), "--out",
                              str(tmp_path / "maps"), "--land-samples", "0"])
    assert res.exit_code == 0, res.output
    for f in ("maps/parameters.nc", "maps/soc_calibrated.nc", "maps/soc_default.nc",
              "figures/soc_0_100_calibrated.png", "figures/cte_calibrated.png",
              "tables/zonal.csv", "tables/comparison.csv", "run.json"):
        assert (tmp_path / "maps" / f).is_file(), f
    run = json.loads((tmp_path / "maps" / "run.json").read_text())
    assert run["parameters"]["model"] == "clm5" and run["parameters"]["cells"] > 50


def test_missing_covariates_at_sites_is_one_line_exit_2(app, tmp_path):
    cov = write_assimilate(tmp_path / "assim", "clm5")
    cov.loc[cov.profile_id.isin(["P3", "P5"]), "map"] = np.nan
    cov.to_csv(tmp_path / "cov.csv", index=False)
    res = runner.invoke(app, ["proda", "train", str(tmp_path / "assim"), str(tmp_path / "cov.csv"),
                              "--out", str(tmp_path / "nn"), "--columns", "mat,map", *SMALL])
    assert res.exit_code == 2
    line = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(line) == 1 and line[0].startswith("error:")
    assert "P3 (map)" in line[0] and "P5 (map)" in line[0]


def test_grid_without_a_covariate_is_named(app, tmp_path):
    cov = write_assimilate(tmp_path / "assim", "compas")
    cov["clay"] = np.linspace(5, 40, len(cov))
    cov.to_csv(tmp_path / "cov.csv", index=False)
    res = runner.invoke(app, ["proda", "train", str(tmp_path / "assim"), str(tmp_path / "cov.csv"),
                              "--out", str(tmp_path / "nn"), "--columns", "mat,map,clay",
                              "--loss", "mse", *SMALL])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "nn" / "model" / "proda.json").read_text())["model"] == "compas"
    grid = small_grid(tmp_path / "grid.nc")
    res = runner.invoke(app, ["proda", "map", str(tmp_path / "nn"), str(grid), "--out",
                              str(tmp_path / "maps"), "--land-samples", "0"])
    assert res.exit_code == 2
    line = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(line) == 1 and "['clay']" in line[0] and "grid lacks" in line[0]


def test_posteriors_without_profiles_table(app, tmp_path):
    write_assimilate(tmp_path / "assim")
    (tmp_path / "assim" / "tables" / "profiles.csv").unlink()
    res = runner.invoke(app, ["proda", "train", str(tmp_path / "assim"), "climate", "--out",
                              str(tmp_path / "nn")])
    assert res.exit_code == 2 and "profiles.csv" in res.output


def test_e2e_small(app, tmp_path):
    from wholesoil.datasets import load_ncscd
    from wholesoil.profiles._qc import run_qc

    ps = run_qc(load_ncscd()).profiles
    h = ps.horizons[["profile_id", "top", "bottom", "soc_density"]]
    ids = list(h.profile_id.unique()[:6])
    t = h[h.profile_id.isin(ids)].merge(ps.sites[["profile_id", "lat", "lon"]], on="profile_id")
    t.to_csv(tmp_path / "layers.csv", index=False)
    res = runner.invoke(app, ["proda", "e2e", str(tmp_path / "layers.csv"), "climate", "--out",
                              str(tmp_path / "e2e"), "--hidden", "8", "--max-epochs", "2",
                              "--patience", "2", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    fit = pd.read_csv(tmp_path / "e2e" / "tables" / "fit.csv")
    assert len(fit) == 6 and fit["held_out"].sum() == 1  # 10 % of 6, rounded up to one
    meta = json.loads((tmp_path / "e2e" / "model" / "proda.json").read_text())
    assert meta["kind"] == "end-to-end" and meta["covariates"] == ["mat", "map"]
