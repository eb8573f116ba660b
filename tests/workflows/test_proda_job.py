"""The PRODA jobs (workflows._proda): train on assimilate output, map, covariates from climate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from wholesoil.assimilation.proda import simulate_cells, simulate_grid
from wholesoil.datasets import climate_at, load_climate_grid
from wholesoil.errors import InputDataError
from wholesoil.workflows._proda import (
    infer_model,
    proda_map_job,
    proda_train_job,
    read_model_dir,
    resolve_posteriors,
    site_covariates,
)

SMALL = dict(hidden=(16, 16), max_epochs=5, patience=5, device="cpu")


def _calibrations(model: str, folder: Path, n: int = 20) -> pd.DataFrame:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "cli_helpers", Path(__file__).parents[1] / "assimilation" / "proda" / "test_cli_proda.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.write_assimilate(folder, model, n=n)


def test_climate_covariates_are_the_grid_cells_of_the_sites():
    # Peer: datasets.climate_at(method="nearest") returns the common 2.5° grid cell holding the
    # point — the same cell sample_grid picks.
    sites = pd.DataFrame({"profile_id": ["a", "b", "c"], "lat": [64.1, -3.2, 45.7],
                          "lon": [-147.9, -60.1, 10.3]})
    tab, names, _ = site_covariates("climate", sites=sites)
    ref = climate_at(sites["lat"], sites["lon"], method="nearest")
    assert names == ["mat", "map"]
    np.testing.assert_allclose(tab["mat"], ref["mat"], rtol=1e-12)
    np.testing.assert_allclose(tab["map"], ref["map"], rtol=1e-12)


def test_posteriors_and_model_inference(tmp_path):
    _calibrations("clm5", tmp_path / "a")
    par, prof, _ = resolve_posteriors(tmp_path / "a" / "tables" / "parameters.csv")
    assert par.name == "parameters.csv" and prof.name == "profiles.csv"
    assert resolve_posteriors(tmp_path / "a")[0] == par
    with pytest.raises(InputDataError, match="neither CLM5's 21"):
        infer_model(["q10", "tau4s1"])
    with pytest.raises(InputDataError, match=r"posterior parameters \(parameters.csv\)"):
        resolve_posteriors(tmp_path)
    (tmp_path / "a" / "tables" / "profiles.csv").unlink()
    with pytest.raises(InputDataError, match=r"acceptance table \(profiles.csv\)"):
        resolve_posteriors(tmp_path / "a")


@pytest.mark.slow
def test_map_job_equals_simulation_at_the_predicted_parameters(tmp_path):
    # Every cell of the job's calibrated SOC map = the model's steady state at the network's
    # prediction for that cell's covariates (simulate_cells, one cell at a time); the COMPAS
    # default run uses the mean calibrated parameters (Tao et al. (EarthArXiv) §3).
    cov = _calibrations("compas", tmp_path / "assim")
    res = proda_train_job(tmp_path / "assim", cov, tmp_path / "nn", covariate_names=["mat", "map"],
                          **SMALL)
    fit = res.table
    assert list(fit.columns[:3]) == ["parameter", "r2_training", "r2_validation"]
    grid = load_climate_grid().isel(y=slice(12, 40, 4), x=slice(0, 144, 16))
    proda_map_job(tmp_path / "nn", grid, tmp_path / "maps", land_samples=0)
    cal = xr.open_dataset(tmp_path / "maps" / "maps" / "soc_calibrated.nc")
    dflt = xr.open_dataset(tmp_path / "maps" / "maps" / "soc_default.nc")
    net, meta, _ = read_model_dir(tmp_path / "nn")
    names = list(net.space_.names)
    mean, _ = net.predict(np.stack([grid["mat"].values.ravel(), grid["map"].values.ravel()], -1))
    lat = np.broadcast_to(grid["y"].values[:, None], grid["mat"].shape).ravel()
    ok = np.isfinite(mean).all(axis=1)
    assert ok.sum() > 20
    idx = np.flatnonzero(ok)[:8]
    for i in idx:
        one = simulate_cells("compas", dict(zip(names, mean[i], strict=True)),
                             [grid["mat"].values.ravel()[i]], [grid["map"].values.ravel()[i]],
                             [lat[i]])
        np.testing.assert_allclose(cal["soc_0_100"].values.ravel()[i], one["soc_0_100"][0],
                                   rtol=1e-12)
    ref = simulate_grid("compas", grid, meta["mean_calibrated_parameters"])
    np.testing.assert_allclose(dflt["soc_0_100"].values, ref["soc_0_100"].values, rtol=1e-12)
    targets = pd.read_csv(tmp_path / "assim" / "tables" / "parameters.csv")
    prof = pd.read_csv(tmp_path / "assim" / "tables" / "profiles.csv")
    acc = targets[targets.profile_id.isin(prof.profile_id[prof.accepted])]
    np.testing.assert_allclose(meta["mean_calibrated_parameters"]["q10"],
                               acc[acc.parameter == "q10"]["mean"].mean(), rtol=1e-12)
    run = json.loads((tmp_path / "maps" / "run.json").read_text())
    assert run["parameters"]["cells"] == int(np.isfinite(cal["soc_0_100"].values).sum())
    assert run["parameters"]["cwd"] is None
    # --cwd holdridge: the default run equals simulate_grid with the same rule, and is recorded
    proda_map_job(tmp_path / "nn", grid, tmp_path / "maps_cwd", land_samples=0, cwd="holdridge")
    d2 = xr.open_dataset(tmp_path / "maps_cwd" / "maps" / "soc_default.nc")
    ref2 = simulate_grid("compas", grid, meta["mean_calibrated_parameters"], cwd="holdridge")
    np.testing.assert_allclose(d2["soc_0_100"].values, ref2["soc_0_100"].values, rtol=1e-12)
    assert not np.allclose(d2["soc_0_100"].values, dflt["soc_0_100"].values, equal_nan=True)
    run2 = json.loads((tmp_path / "maps_cwd" / "run.json").read_text())
    assert run2["parameters"]["cwd"] == "holdridge"
    # area of applicability (Meyer & Pebesma 2021): the map equals the network's own, and
    # --outside-aoa mask leaves exactly the cells outside it out, the others unchanged
    aoa = xr.open_dataset(tmp_path / "maps" / "maps" / "applicability.nc")
    ref_aoa = net.applicability_grid(grid)
    np.testing.assert_array_equal(aoa["inside_aoa"].values, ref_aoa["inside_aoa"].values)
    outside = (aoa["inside_aoa"].values == 0) & np.isfinite(cal["soc_0_100"].values)
    assert outside.any() and (~outside & np.isfinite(cal["soc_0_100"].values)).any()
    proda_map_job(tmp_path / "nn", grid, tmp_path / "maps_aoa", land_samples=0,
                  outside_aoa="mask", defaults=False)
    m = xr.open_dataset(tmp_path / "maps_aoa" / "maps" / "soc_calibrated.nc")
    assert np.isnan(m["soc_0_100"].values[outside]).all()
    keep = ~outside & np.isfinite(cal["soc_0_100"].values)
    np.testing.assert_array_equal(m["soc_0_100"].values[keep], cal["soc_0_100"].values[keep])
    assert json.loads((tmp_path / "maps_aoa" / "run.json").read_text())["parameters"][
        "outside_aoa"] == "mask"
