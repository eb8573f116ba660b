"""`wholesoil predict MODEL GRID` and `wholesoil stocks GRIDS` end to end.

References: the model's own per-row predictions on the flattened grid (exact identity), the
closed form of Wang H. et al. (2025) Eqs. 3 and 6 for the plug-in stocks, and an uninterrupted run for the
resumed one (bitwise).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from typer.testing import CliRunner

from wholesoil.cli import app
from wholesoil.io import write_netcdf
from wholesoil.mapping._persist import load_model
from wholesoil.mapping._stocks import AUTHALIC_RADIUS_M
from wholesoil.workflows import train_job

runner = CliRunner()


def covariate_grid(ny: int = 30, nx: int = 40, seed: int = 1) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    y = 70.0 - 0.5 * np.arange(ny) - 0.25
    x = -20.0 + 0.5 * np.arange(nx) + 0.25
    yy, xx = np.meshgrid(y, x, indexing="ij")
    mat = 10.0 - 0.3 * (yy - 55.0) + rng.normal(0, 1.0, (ny, nx))
    map_ = 600.0 + 10.0 * xx + rng.normal(0, 40.0, (ny, nx))
    mat[3, 4] = np.nan  # a missing cell is NaN in every output
    ds = xr.Dataset({"mat": (("y", "x"), mat, {"units": "degC"}),
                     "map": (("y", "x"), map_, {"units": "mm yr-1"})},
                    coords={"y": y, "x": x})
    return ds.rio.write_crs("EPSG:4326")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """A QRF predicting β from MAT and MAP, with the Coulston interval model saved."""
    out = tmp_path_factory.mktemp("qrf")
    rng = np.random.default_rng(0)
    n = 150
    t = pd.DataFrame({"pid": np.arange(n), "mat": rng.uniform(-5, 25, n),
                      "map": rng.uniform(300, 1200, n)})
    t["beta"] = 0.97 + 0.0005 * t["mat"] - 0.00001 * t["map"] + rng.normal(0, 0.003, n)
    train_job(t, "beta", ["mat", "map"], out, groups="pid", learner="qrf",
              learner_params={"n_estimators": 40}, n_splits=3, importance_repeats=1,
              pd_rows=30, intervals=True, interval_trees=20, mc_boot=5, mc_draws=40,
              interval_models=("coulston",))
    return out / "model"


def _open(path: Path) -> xr.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return xr.open_dataset(path, decode_coords="all").load()


def test_predict_grid_cli_equals_per_cell_prediction_and_writes_cf_cog_maps(model_dir, tmp_path):
    grid = covariate_grid()
    write_netcdf(grid, tmp_path / "cov.nc")
    out = tmp_path / "pred"
    res = runner.invoke(app, ["predict", str(model_dir), str(tmp_path / "cov.nc"), "--out",
                              str(out), "--chunks", "7", "--scheduler", "threads",
                              "--intervals", "quantile,coulston", "--level", "0.9"])
    assert res.exit_code == 0, res.output
    ds = _open(out / "beta.nc")
    saved = load_model(model_dir)
    flat = pd.DataFrame({"mat": grid["mat"].values.ravel(), "map": grid["map"].values.ravel()})
    ok = flat.notna().all(axis=1).to_numpy()
    mean = np.full(flat.shape[0], np.nan)
    mean[ok] = saved.estimator.predict(flat[ok])
    np.testing.assert_allclose(ds["beta_mean"].values.ravel(), mean, rtol=0, atol=1e-12)
    q = saved.estimator.predict_quantiles(flat[ok], quantiles=(0.05, 0.5, 0.95))
    np.testing.assert_allclose(ds["beta_Q0.95"].values.ravel()[ok], q[:, 2], atol=1e-12)
    assert np.isnan(ds["beta_Q0.05"].values[3, 4]) and np.isnan(ds["beta_mean"].values[3, 4])
    coul = load_model(model_dir / "intervals" / "coulston").estimator
    iv = coul.predict_interval(flat[ok], level=0.9)
    np.testing.assert_allclose(ds["beta_Q0.05_coulston"].values.ravel()[ok], iv.lower,
                               atol=1e-12)
    assert ds.rio.crs.to_epsg() == 4326
    for name in ("beta_mean", "beta_Q0.05", "beta_Q0.95", "beta_uncertainty",
                 "beta_Q0.05_coulston"):
        assert (out / "cog" / f"{name}.tif").is_file()
    assert (out / "figures" / "beta_mean.png").is_file()
    run = json.loads((out / "run.json").read_text())
    assert run["blocks"] == {"n_blocks": 30, "blocks_computed": 30, "blocks_reused": 0}
    # a second run reuses every block
    res = runner.invoke(app, ["predict", str(model_dir), str(tmp_path / "cov.nc"), "--out",
                              str(out), "--chunks", "7", "--scheduler", "threads",
                              "--intervals", "quantile,coulston", "--level", "0.9"])
    assert res.exit_code == 0, res.output
    run = json.loads((out / "run.json").read_text())
    assert run["blocks"] == {"n_blocks": 30, "blocks_computed": 0, "blocks_reused": 30}


def test_predict_grid_names_a_missing_covariate(model_dir, tmp_path):
    write_netcdf(covariate_grid()[["mat"]], tmp_path / "only_mat.nc")
    res = runner.invoke(app, ["predict", str(model_dir), str(tmp_path / "only_mat.nc"),
                              "--out", str(tmp_path / "o"), "--scheduler", "threads"])
    assert res.exit_code != 0
    assert "map" in res.output and "only_mat.nc" in res.output


def test_predict_grid_from_geotiffs_of_different_resolution_regrids_or_refuses(model_dir,
                                                                              tmp_path):
    grid = covariate_grid()
    grid["mat"].rio.to_raster(tmp_path / "mat.tif")
    coarse = grid["map"].coarsen(y=2, x=2).mean().rio.write_crs("EPSG:4326")
    coarse.rio.to_raster(tmp_path / "map.tif")
    args = ["predict", str(model_dir), str(tmp_path / "mat.tif"), str(tmp_path / "map.tif"),
            "--out", str(tmp_path / "o"), "--scheduler", "threads"]
    res = runner.invoke(app, [*args, "--no-regrid"])
    assert res.exit_code != 0 and "map.tif" in res.output and "resolution" in res.output
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "map.tif: resolution" in res.output


@pytest.mark.slow
def test_predict_grid_on_a_local_cluster_equals_threads(model_dir, tmp_path):
    write_netcdf(covariate_grid(), tmp_path / "cov.nc")
    outs = {}
    for sched in ("threads", None):
        out = tmp_path / f"o_{sched}"
        args = ["predict", str(model_dir), str(tmp_path / "cov.nc"), "--out", str(out),
                "--chunks", "16", "--intervals", "quantile"]
        if sched:
            args += ["--scheduler", sched]
        else:
            args += ["--workers", "2"]
        res = runner.invoke(app, args)
        assert res.exit_code == 0, res.output
        outs[sched] = _open(out / "beta.nc")
    xr.testing.assert_identical(outs["threads"], outs[None])


@pytest.mark.slow
def test_sigkill_halfway_then_rerun_completes_identically_without_recomputing(model_dir,
                                                                              tmp_path):
    """The acceptance test: SIGKILL `wholesoil predict` mid-run, rerun, compare."""
    grid = covariate_grid(ny=120, nx=120, seed=3)
    write_netcdf(grid, tmp_path / "cov.nc")
    cmd = [sys.executable, "-m", "wholesoil.cli", "predict", str(model_dir),
           str(tmp_path / "cov.nc"), "--chunks", "6", "--scheduler", "threads",
           "--intervals", "quantile,coulston"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    ref = subprocess.run([*cmd, "--out", str(tmp_path / "ref")], env=env, capture_output=True,
                         text=True, timeout=600)
    assert ref.returncode == 0, ref.stderr
    out = tmp_path / "killed"
    proc = subprocess.Popen([*cmd, "--out", str(out)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    blocks = out / "blocks" / "blocks"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if blocks.is_dir() and len(list(blocks.glob("b*.json"))) >= 40:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = {p.name: p.stat().st_mtime_ns for p in blocks.glob("b*.json")}
    assert 40 <= len(done) < 400
    again = subprocess.run([*cmd, "--out", str(out)], env=env, capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == 0, again.stderr
    run = json.loads((out / "run.json").read_text())
    assert run["blocks"]["n_blocks"] == 400
    assert run["blocks"]["blocks_reused"] >= len(done)
    assert run["blocks"]["blocks_computed"] == 400 - run["blocks"]["blocks_reused"]
    for name, mtime in done.items():  # finished blocks were not written again
        assert (blocks / name).stat().st_mtime_ns == mtime
    xr.testing.assert_identical(_open(out / "beta.nc"), _open(tmp_path / "ref" / "beta.nc"))


# ----------------------------------------------------------------------------- stocks


def stock_grids(tmp_path: Path) -> tuple[Path, Path, xr.Dataset]:
    ny, nx = 12, 18
    y = 80.0 - 2.0 * np.arange(ny) - 1.0
    x = -180.0 + 2.0 * np.arange(nx) + 1.0
    rng = np.random.default_rng(4)
    beta = rng.uniform(0.95, 0.99, (ny, nx))
    soc = rng.uniform(40.0, 150.0, (ny, nx))
    ds = xr.Dataset(
        {"beta_mean": (("y", "x"), beta), "beta_Q0.05": (("y", "x"), beta - 0.004),
         "beta_Q0.95": (("y", "x"), beta + 0.004),
         "soc_mean": (("y", "x"), soc, {"units": "Mg C ha-1"}),
         "soc_Q0.05": (("y", "x"), 0.8 * soc), "soc_Q0.95": (("y", "x"), 1.2 * soc)},
        coords={"y": y, "x": x}).rio.write_crs("EPSG:4326")
    write_netcdf(ds, tmp_path / "maps.nc")
    codes = np.where(np.arange(nx)[None, :] < 9, 1, 2) * np.ones((ny, 1), int)
    reg = xr.Dataset({"region": (("y", "x"), codes.astype("int32"),
                                 {"flag_values": np.array([1, 2], "int32"),
                                  "flag_meanings": "west east"})},
                     coords={"y": y, "x": x}).rio.write_crs("EPSG:4326")
    write_netcdf(reg, tmp_path / "regions.nc")
    return tmp_path / "maps.nc", tmp_path / "regions.nc", ds


def test_stocks_cli_plugin_is_eq3_eq6_by_region_and_resumes(tmp_path):
    maps, regions, ds = stock_grids(tmp_path)
    out = tmp_path / "st"
    args = ["stocks", str(maps), "--out", str(out), "--depths", "0,30,100,300", "--regions",
            str(regions), "--draws", "200", "--chunks", "4"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    tab = pd.read_csv(out / "tables" / "stocks.csv")
    # units in the headers (issue 24 item 5)
    assert list(tab.columns) == [
        "region", "ecosystem", "top [cm]", "bottom [cm]", "area [km2]", "stock [Pg C]",
        "lower [Pg C]", "upper [Pg C]", "plugin [Pg C]", "level [-]", "n_draws",
        "correlation [-]", "n_cells", "missing_area [km2]"]
    assert set(tab["region"]) == {"west", "east"}
    # independent closed form: Eq. 3 layers × spherical cell areas (Eq. 6), per region
    lat_edges = np.r_[80.0 - 2.0 * np.arange(13)]
    band = (2 * np.pi * AUTHALIC_RADIUS_M**2 / 180.0) * np.abs(
        np.diff(np.sin(np.radians(lat_edges))))  # m² of one 2° × 2° cell per row
    area_ha = np.repeat(band[:, None], 18, axis=1) / 1e4
    b, s = ds["beta_mean"].values, ds["soc_mean"].values
    cum = {d: s * (1 - b**d) / (1 - b**30) for d in (30.0, 100.0, 300.0)}
    layer = {(0.0, 30.0): cum[30.0], (30.0, 100.0): cum[100.0] - cum[30.0],
             (100.0, 300.0): cum[300.0] - cum[100.0]}
    west = np.arange(18)[None, :] < 9
    for (top, bottom), dens in layer.items():
        for name, mask in (("west", west), ("east", ~west)):
            row = tab[(tab.region == name) & (tab["top [cm]"] == top)
                      & (tab["bottom [cm]"] == bottom)]
            expected = float(np.sum((dens * area_ha)[np.broadcast_to(mask, dens.shape)])) / 1e9
            # the file holds 6 significant digits (issue 24 item 5): ±5e-6 relative
            assert row["plugin [Pg C]"].iloc[0] == pytest.approx(expected, rel=5e-6)
            assert (row["lower [Pg C]"].iloc[0] < row["stock [Pg C]"].iloc[0]
                    < row["upper [Pg C]"].iloc[0])
    layers = _open(out / "layers.nc")
    assert layers["soc_mean"].sizes["depth"] == 3
    assert (out / "cog" / "soc_100-300cm_mean.tif").is_file()
    # rerun: every block's sums come from the checkpoints, bitwise the same table
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "blocks").glob("s*.json")}
    assert len(stamps) == 3  # 12 rows in blocks of 4
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    pd.testing.assert_frame_equal(pd.read_csv(out / "tables" / "stocks.csv"), tab)
    assert {p.name: p.stat().st_mtime_ns for p in (out / "blocks").glob("s*.json")} == stamps
    # other settings into the same folder are refused, naming the setting
    res = runner.invoke(app, [*args[:-4], "--draws", "100", "--chunks", "4"])
    assert res.exit_code != 0 and "n_draws" in res.output
