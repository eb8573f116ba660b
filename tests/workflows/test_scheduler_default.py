"""One scheduler option with one default for every command that runs in parallel.

Reference: :data:`wholesoil.parallel.DEFAULT_SCHEDULER` ("threads"); two parallel workflows run
with no scheduler given record the same resolved scheduler in their ``run.json``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr

from wholesoil.datasets import load_ncscd
from wholesoil.io import write_netcdf
from wholesoil.parallel import DEFAULT_SCHEDULER, client_for, parse_scheduler
from wholesoil.profiles._qc import run_qc
from wholesoil.workflows import assimilate_job, predict_grid_job, train_job


def test_client_for_resolves_like_parse_scheduler():
    assert DEFAULT_SCHEDULER == "threads"
    assert parse_scheduler(None) == parse_scheduler("") == "threads"
    assert parse_scheduler("local") == "processes"
    with client_for(None) as client:  # threads: no cluster, no client
        assert client is None
    with pytest.raises(ValueError, match="--scheduler must be"):
        parse_scheduler("fast")


def covariate_grid(ny: int, nx: int) -> xr.Dataset:
    """A small EPSG:4326 grid of MAT and MAP (the covariates of the model below)."""
    rng = np.random.default_rng(1)
    y = 70.0 - 0.5 * np.arange(ny) - 0.25
    x = -20.0 + 0.5 * np.arange(nx) + 0.25
    ds = xr.Dataset({"mat": (("y", "x"), rng.uniform(-5, 25, (ny, nx)), {"units": "degC"}),
                     "map": (("y", "x"), rng.uniform(300, 1200, (ny, nx)),
                             {"units": "mm yr-1"})}, coords={"y": y, "x": x})
    return ds.rio.write_crs("EPSG:4326")


def test_predict_and_assimilate_record_the_same_default_scheduler(tmp_path):
    rng = np.random.default_rng(0)
    n = 60
    t = pd.DataFrame({"pid": np.arange(n), "mat": rng.uniform(-5, 25, n),
                      "map": rng.uniform(300, 1200, n)})
    t["beta"] = 0.97 + 0.0005 * t["mat"] - 0.00001 * t["map"] + rng.normal(0, 0.003, n)
    train_job(t, "beta", ["mat", "map"], tmp_path / "m", groups="pid", learner="qrf",
              learner_params={"n_estimators": 10}, n_splits=2, importance_repeats=1,
              pd_rows=10)
    write_netcdf(covariate_grid(8, 10), tmp_path / "cov.nc")
    predict_grid_job(tmp_path / "m" / "model", tmp_path / "cov.nc", tmp_path / "pred",
                     chunks=5, cog=False, maps=False)

    ps = run_qc(load_ncscd()).profiles
    h = ps.horizons[["profile_id", "top", "bottom", "soc_density"]]
    ids = list(h.profile_id.unique()[:2])
    prof = h[h.profile_id.isin(ids)].merge(ps.sites[["profile_id", "lat", "lon"]],
                                           on="profile_id")
    assimilate_job(prof, tmp_path / "cal", iterations=(20, 30), chains=2, batch_size=2)

    runs = [json.loads((tmp_path / d / "run.json").read_text()) for d in ("pred", "cal")]
    assert [r["scheduler"] for r in runs] == [DEFAULT_SCHEDULER, DEFAULT_SCHEDULER]
    assert [r["parameters"]["scheduler"] for r in runs] == ["threads", "threads"]
    for r in runs:
        assert {"wholesoil", "python", "numpy", "pandas", "command", "outputs"} <= set(r)
