"""Demo stage PRODA (demo._proda.proda_stage) on short calibrations of NCSCD pedons."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from wholesoil.assimilation import ProfileData, calibrate
from wholesoil.datasets import climate_at, load_ncscd
from wholesoil.demo._proda import proda_stage
from wholesoil.profiles._qc import run_qc
from wholesoil.report import Report

N_PEDONS = 10


@pytest.fixture(scope="module")
def short_calibrations():
    ps = run_qc(load_ncscd()).profiles
    h = ps.horizons[["profile_id", "top", "bottom", "soc_density"]]
    sites = ps.sites[["profile_id", "lat", "lon"]].copy()
    c = climate_at(sites["lat"], sites["lon"], method="bilinear")
    sites["mat"], sites["map"] = c["mat"].to_numpy(), c["map"].to_numpy()
    sites = sites[np.isfinite(sites["mat"]) & np.isfinite(sites["map"])]
    data = ProfileData.from_table(h, sites)
    data = data.subset(np.arange(N_PEDONS))
    sites = sites[sites.profile_id.isin(data.profile_id)].reset_index(drop=True)
    cals = {m: calibrate(data, m, n_chains=3, test_iterations=60, formal_iterations=120,
                         adapt_start=60, seed=1) for m in ("clm5", "compas")}
    return cals, sites


@pytest.mark.slow
def test_proda_stage_quick(short_calibrations, tmp_path):
    cals, sites = short_calibrations
    rep = Report("demo")
    saved: dict[str, pd.DataFrame] = {}
    timings: dict[str, float] = {}
    params = proda_stage(rep, tmp_path, lambda n, df: saved.__setitem__(n, df),
                         calibrations=cals, sites=sites, seed=3, timings=timings, quick=True)
    json.dumps(params)  # run.json-ready
    comp = saved["proda_structure_comparison"]
    assert set(comp["parameters"]) == {"default", "calibrated"}
    assert len(comp) == 2 * 7
    # the two models share the Miami NPP of each cell (Tao et al. (EarthArXiv) Fig. 4p-r: same plant input)
    inp = comp[comp.variable == "input"]["r"]
    np.testing.assert_allclose(inp, 1.0, atol=1e-12)
    r = params["log_soc_correlation"]
    assert -1 <= r["default"] <= 1 and -1 <= r["calibrated"] <= 1
    assert params["cells"] > 100
    assert params["e2e"]["n_held_out"] == 2 and params["e2e"]["n_train"] == 8
    e2e = saved["proda_e2e_vs_two_step"]
    assert len(e2e) == 2 and np.isfinite(e2e[["nse_two_step", "nse_end_to_end"]]).all().all()
    for f in ("figures/proda_clm5_soc.png", "figures/proda_latitude_default.png",
              "figures/proda_components.png", "proda/compas_calibrated.nc",
              "proda/clm5_parameters.nc"):
        assert (tmp_path / f).is_file(), f
    z = saved["proda_zonal_calibrated"]
    assert z["lat"].min() > 45.0
