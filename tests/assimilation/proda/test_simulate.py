"""Global simulation with parameter maps (Tao et al. (EarthArXiv) §2.7) and the structure
comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from wholesoil.assimilation import ParameterSpace
from wholesoil.assimilation.proda._compare import (
    compare_structures,
    map_correlation,
    zonal_means,
)
from wholesoil.assimilation.proda._simulate import (
    COMPONENTS,
    SOC_LAYERS,
    model_parameter_names,
    simulate_cells,
    simulate_grid,
)
from wholesoil.datasets import load_climate_grid
from wholesoil.errors import InputDataError
from wholesoil.plots import component_figure, latitude_figure

OUT = (*SOC_LAYERS, *COMPONENTS)


@pytest.fixture(scope="module")
def climate() -> xr.Dataset:
    g = load_climate_grid()
    return g.isel(y=slice(8, 64, 4), x=slice(0, 144, 8))  # 14 × 18 cells, land and sea, NaN MAP


def _space(model: str) -> ParameterSpace:
    return ParameterSpace.from_clm5() if model == "clm5" else ParameterSpace.from_compas()


def _parameter_maps(model: str, climate: xr.Dataset, seed: int = 1) -> xr.Dataset:
    sp = _space(model)
    shape = climate["mat"].shape
    u = np.random.default_rng(seed).uniform(0.1, 0.9, size=(*shape, sp.n_params))
    vals = sp.from_unit(u)
    return xr.Dataset({n: (("y", "x"), vals[n]) for n in sp.names},
                      coords={"y": climate["y"], "x": climate["x"]})


@pytest.mark.parametrize("model", ["clm5", "compas"])
def test_grid_equals_per_cell_and_block_size_independent(model, climate):
    # Acceptance (issue 8): the global simulation equals the per-cell simulation to machine
    # precision, whatever the block size.
    par = _parameter_maps(model, climate)
    a = simulate_grid(model, climate, par, block_cells=37)
    b = simulate_grid(model, climate, par, block_cells=100_000)
    for v in (*OUT, "valid"):
        np.testing.assert_array_equal(a[v].values, b[v].values)
    mat = climate["mat"].values
    mp = climate["map"].values
    ok = np.isfinite(mat) & np.isfinite(mp)
    assert int(a.attrs["cells_simulated"]) == int(ok.sum()) > 100
    lat = np.broadcast_to(climate["y"].values[:, None], mat.shape)
    names = model_parameter_names(model)
    checked = 0
    for iy, ix in zip(*np.nonzero(ok), strict=True):
        one = simulate_cells(model, {n: par[n].values[iy, ix] for n in names},
                             [mat[iy, ix]], [mp[iy, ix]], [lat[iy, ix]])
        assert bool(one["valid"][0]) == bool(a["valid"].values[iy, ix])
        for v in OUT:
            np.testing.assert_allclose(a[v].values[iy, ix], one[v][0], rtol=1e-12, atol=0,
                                       err_msg=f"{v} at cell {iy},{ix}")
        checked += 1
    assert checked == int(ok.sum())
    # cells without climate are NaN, never filled
    assert np.all(np.isnan(a["soc_0_100"].values[~ok]))
    assert np.all(np.isnan(a["valid"].values[~ok]))


def test_clm5_components_match_the_simulate_job(climate):
    # Peer implementation: workflows._simulate.run_model computes Tao et al. (EarthArXiv) Eqs. 10–14 for CLM5
    # from the same model object (with its age machinery); the grid kernel must agree.
    from wholesoil.models._clm5 import CLM5Parameters
    from wholesoil.models._environment import forcing_from_climate
    from wholesoil.workflows._simulate import run_model

    mat = np.array([-12.0, -2.0, 8.0, 26.0])
    mp = np.array([250.0, 450.0, 800.0, 2400.0])
    lat = np.array([68.0, 55.0, 45.0, 2.0])
    got = simulate_cells("clm5", None, mat, mp, lat)
    ref = run_model("clm5", CLM5Parameters(), forcing_from_climate(mat, mp, lat=lat))
    for k in ("cte", "k_bulk", "v_system", "xi_system", "b_system", "input"):
        np.testing.assert_allclose(got[k], ref[k], rtol=1e-13)
    dz = ref["model"].grid.dz
    # first metre = Σ over the layers above 1 m of SOC·dz (+ the part of the layer at 1 m)
    z = np.r_[0.0, np.cumsum(dz)]
    w = np.clip(np.minimum(z[1:], 1.0) - z[:-1], 0.0, None)
    np.testing.assert_allclose(got["soc_0_100"], (ref["soc"] * w).sum(-1) / 1000.0, rtol=1e-12)


def test_compas_cte_is_one_minus_respiration_over_decomposition():
    # Mass balance at steady state (Tao et al. (EarthArXiv) Eqs. 7–8): everything decomposed either stays
    # (CTE) or is respired, so CTE = 1 − R/ΣF with R from COMPAS.respiration (independent code)
    # and ΣF the donor fluxes written out from the rate laws of Tao et al. (EarthArXiv) Eq. 7; and R equals
    # the input (nothing else leaves the column).
    from wholesoil.models._compas import COMPAS, COMPASParameters
    from wholesoil.models._environment import forcing_from_climate

    mat = np.array([-3.0, 12.0, 24.0])
    mp = np.array([400.0, 900.0, 2000.0])
    lat = np.array([60.0, 40.0, -5.0])
    got = simulate_cells("compas", None, mat, mp, lat)
    p = COMPASParameters.default()
    m = COMPAS(p, forcing_from_climate(mat, mp, lat=lat))
    x = m.steady_state().pools
    dz = m.grid.dz
    xi = m.xi
    f_lit = (m.litter_rates[:, 1:] * x[:, 1:4]).sum(axis=1)
    doc, mic, enz, soc = x[:, 4], x[:, 5], x[:, 6], x[:, 7]
    up = xi * mic * doc / (p.tau_assim * (p.km_assim * xi + doc))
    dec = xi * enz * soc / (p.tau_decom * (p.km_decom * xi + soc))
    f_soil = up + (1 / p.tau_mic + 1 / p.tau_enz_prod) * xi * mic + xi * enz / p.tau_enz_decay
    total_f = ((f_lit + f_soil + dec) * dz).sum(-1)
    resp = (m.respiration(x).sum(axis=-2) * dz).sum(-1)
    np.testing.assert_allclose(resp, m.column_input(), rtol=1e-8)
    np.testing.assert_allclose(got["cte"], 1.0 - resp / total_f, rtol=1e-10)
    assert np.all((got["b_system"] > 0) & (got["b_system"] < 1))


def test_missing_parameter_map_and_missing_climate_are_named(climate):
    par = _parameter_maps("clm5", climate).drop_vars(["q10", "b"])
    with pytest.raises(InputDataError, match=r"lack clm5 parameter\(s\) \['q10', 'b'\]"):
        simulate_grid("clm5", climate, par)
    with pytest.raises(InputDataError, match="lacks 'map'"):
        simulate_grid("clm5", climate.drop_vars("map"))


def test_map_correlation_and_compare_structures(climate):
    # Exact values: ln(b) = 2 ln(a) + 1 gives r = 1 on the log scale; a map against its own
    # negative gives r = −1.
    a = xr.DataArray(np.linspace(1.0, 5.0, 12).reshape(3, 4), dims=("y", "x"))
    b = np.exp(1.0) * a**2
    assert map_correlation(a, b, log=True)["r"] == pytest.approx(1.0, abs=1e-12)
    r = map_correlation(a, -a)
    assert r["r"] == pytest.approx(-1.0, abs=1e-12) and r["df"] == 10
    d1 = simulate_grid("clm5", climate)
    d2 = simulate_grid("compas", climate)
    tab = compare_structures({"default": d1}, {"default": d2})
    assert list(tab["variable"]) == ["soc_0_100", *COMPONENTS]
    row = tab.set_index("variable").loc["input"]
    assert row["r"] == pytest.approx(1.0, abs=1e-12)  # same Miami NPP drives both models
    z = zonal_means({"clm5": d1, "compas": d2})
    lat_row = int(np.flatnonzero(climate["y"].values == z["lat"].iloc[3])[0])
    v = d1["soc_0_100"].values[lat_row]
    assert z["clm5"].iloc[3] == pytest.approx(np.nanmean(v), rel=1e-12)
    assert isinstance(z, pd.DataFrame)
    latitude_figure(z)
    component_figure(d1, d2)


@pytest.mark.slow
def test_local_cluster_equals_in_process(climate):
    # Acceptance (issue 8): blockwise on a LocalCluster, the same maps as in-process.
    from wholesoil.parallel import dask_client

    par = _parameter_maps("compas", climate, seed=3)
    ref = simulate_grid("compas", climate, par, block_cells=64)
    with dask_client(n_workers=2, threads_per_worker=1) as client:
        got = simulate_grid("compas", climate, par, block_cells=64, client=client)
    for v in (*OUT, "valid"):
        np.testing.assert_array_equal(got[v].values, ref[v].values)


@pytest.mark.parametrize("model", ["clm5", "compas"])
def test_cwd_by_holdridge_equals_the_explicit_share(model):
    """``cwd="holdridge"`` is the explicit per-cell share of :func:`cwd_from_climate`; a
    forest cell's SOC changes with the CWD pathway on, a non-forest cell's does not."""
    from wholesoil.models import cwd_from_climate

    mat = np.array([20.0, 25.0, -8.0])
    mp = np.array([2000.0, 300.0, 250.0])  # moist forest, thorn woodland, polar desert
    lat = np.array([10.0, 15.0, 70.0])
    share = cwd_from_climate(mat, mp, lat=lat)
    np.testing.assert_array_equal(share > 0, [True, False, False])
    by_rule = simulate_cells(model, None, mat, mp, lat, cwd="holdridge")
    explicit = simulate_cells(model, None, mat, mp, lat, cwd=share)
    none = simulate_cells(model, None, mat, mp, lat)
    np.testing.assert_allclose(by_rule["soc_0_100"], explicit["soc_0_100"], rtol=1e-12)
    assert by_rule["soc_0_100"][0] != pytest.approx(none["soc_0_100"][0], rel=1e-6)
    np.testing.assert_allclose(by_rule["soc_0_100"][1:], none["soc_0_100"][1:], rtol=1e-12,
                               equal_nan=True)
    with pytest.raises(InputDataError, match="holdridge"):
        simulate_cells(model, None, mat, mp, lat, cwd="forest")
