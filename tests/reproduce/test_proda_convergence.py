"""Pieces of ``wholesoil reproduce proda-convergence`` that can be checked in seconds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from wholesoil.reproduce import proda_convergence as pc


def test_cwd_rule_forest_only():
    eco = pd.Series(["forest", "Larix dominated taiga", "tundra", None, "Forest", None])
    # unlabelled profiles take Holdridge's life zones: 25 °C, 2000 mm is tropical moist forest;
    # -8 °C, 300 mm is polar (biotemperature < 3 °C)
    mat = np.array([10.0, -5.0, -8.0, 25.0, 10.0, -8.0])
    mp = np.array([800.0, 400.0, 300.0, 2000.0, 800.0, 300.0])
    lat = np.full(6, 50.0)
    assert_allclose(pc.cwd_rule(eco, mat, mp, lat), [0.2, 0.2, 0.0, 0.2, 0.2, 0.0])


def test_covariate_matrix_one_hot_and_nan():
    sites = pd.DataFrame({"pro_BIO1_C_WC2.1": [1.0, np.nan, 3.0],
                          "pro_KG_present_short": ["Cfb", None, "Dfc"]})
    X, cols = pc.covariate_matrix(sites, list(sites.columns))
    assert cols == ["pro_BIO1_C_WC2.1", "pro_KG_present_short_Cfb", "pro_KG_present_short_Dfc"]
    assert_allclose(X[0], [1, 1, 0])
    assert np.isnan(X[1]).all()
    _tr, te = pc._impute(X[[0, 2]], X[[1]])
    assert_allclose(te, [[2.0, 0.5, 0.5]])  # fold medians


@pytest.mark.parametrize("model", ["clm5", "compas"])
def test_litter_to_mineral_share_between_0_and_1(model):
    """Supplementary Fig. 3 quantity with default parameters at three climates: a share of the
    plant input, so in (0, 1); CLM5's equals Σ a_ij k_j ξ x_j Δz / input by construction."""
    from wholesoil.assimilation.proda._simulate import default_parameters

    pars = {k: (None if v is None else np.full(3, v)) for k, v in
            default_parameters(model).items()}
    if model == "clm5":
        pars = {k: v for k, v in pars.items() if v is not None}
    r = pc.litter_to_mineral_ratio(model, pars, np.array([-5.0, 10, 25]),
                                   np.array([300.0, 800, 2000]), np.array([65.0, 45, 0]))
    assert r.shape == (3,)
    assert np.all((r > 0) & (r < 1)), r


def test_parallel_batches_equal_one_process_and_resume(tmp_path):
    """``calibrate_parallel`` (batches of both models on 2 worker processes, cached as they
    finish) gives the same tables as calibrating the batches one after another in this process
    — a batch's seed depends on the run seed and its index only — and a second call finds
    everything cached and starts no worker."""
    from wholesoil.assimilation import ProfileData
    from wholesoil.models import forcing_from_climate
    from wholesoil.reproduce import Reproduction

    top = np.tile([0.0, 10, 30, 60], (4, 1))
    bottom = np.tile([10.0, 30, 60, 100], (4, 1))
    soc = np.array([[30.0, 40, 35, 20], [25, 30, 20, 12], [40, 50, 45, 30], [20, 25, 18, 9]])
    data = ProfileData(np.array(["a", "b", "c", "d"], dtype=object), top, bottom, soc,
                       forcing_from_climate(np.array([2.0, 8, 14, 20]),
                                            np.array([400.0, 700, 1000, 1500])))
    settings = {"test_iterations": 60, "formal_iterations": 120, "adapt_start": 30, "thin": 4,
                "batch": 2}
    one = Reproduction("p", "t", "c", tmp_path / "one", seed=3)
    two = Reproduction("p", "t", "c", tmp_path / "two", seed=3)
    pc.calibrate_parallel(two, data, settings, workers=2)
    assert all(two.is_cached(step, **key) for m in ("clm5", "compas")
               for step, _idx, key, _seed in pc._batches(two, m, data, settings))
    for model in ("clm5", "compas"):
        a = pc.calibrate_all(one, model, data, settings)
        b = pc.calibrate_all(two, model, data, settings)
        for name in ("parameters", "profiles", "predictive"):
            pd.testing.assert_frame_equal(a[name], b[name], check_exact=False, rtol=1e-10)
    pc.calibrate_parallel(two, data, settings, workers=2)  # all cached: returns at once


def test_global_totals_count_cells_without_value():
    """Σ SOC × area × land fraction over the land cells with a value, in Pg C; land cells
    without a value are counted and their share of the land area reported, ocean ignored."""
    import xarray as xr

    y, x = np.array([10.0, 20.0]), np.array([0.0, 5.0, 10.0])
    soc = xr.DataArray([[1.0, np.nan, 3.0], [np.nan, 2.0, 4.0]], dims=("y", "x"),
                       coords={"y": y, "x": x})
    area = xr.full_like(soc, 1e12).fillna(1e12)  # m²
    frac = xr.DataArray([[1.0, 0.5, 0.0], [0.0, 1.0, 0.25]], dims=("y", "x"),
                        coords={"y": y, "x": x})
    total, n, share = pc.global_totals({"soc_0_100": soc}, area, frac)
    assert_allclose(total, (1.0 * 1 + 2.0 * 1 + 4.0 * 0.25) * 1e12 / 1e12)  # kg → Pg
    assert n == 1  # (10, 5): land, no value; (20, 0) is ocean
    assert_allclose(share, 0.5 / (1 + 0.5 + 1 + 0.25))


def test_totals_inside_the_area_of_applicability():
    """PRODA totals count the cells inside the network's area of applicability only; the
    default run on the same cells is beside it; cells outside are not 'missing'."""
    import xarray as xr

    y, x = np.array([10.0, 20.0]), np.array([0.0, 5.0])
    co = {"y": y, "x": x}
    area = xr.DataArray(np.full((2, 2), 1e12), dims=("y", "x"), coords=co)  # m²
    frac = xr.DataArray([[1.0, 0.5], [1.0, 0.0]], dims=("y", "x"), coords=co)
    mask = np.array([[True, True], [True, False]])
    inside = np.array([[True, False], [True, False]])
    full = xr.DataArray([[2.0, 100.0], [4.0, np.nan]], dims=("y", "x"), coords=co)
    dflt = xr.DataArray([[1.0, 1.0], [1.0, np.nan]], dims=("y", "x"), coords=co)
    ins = xr.DataArray(inside, dims=("y", "x"), coords=co)
    maps = {"default": {"soc_0_100": dflt}, "calibrated": {"soc_0_100": full.where(ins)},
            "calibrated (all land)": {"soc_0_100": full},
            "default (AOA cells)": {"soc_0_100": dflt.where(ins)}}
    rows = {r["parameters"]: r for r in pc.totals_table("clm5", maps, inside, mask, area,
                                                         frac)}
    assert_allclose(rows["calibrated"]["pg_c"], 2.0 + 4.0)  # kg m⁻² × 1e12 m² → Pg
    assert_allclose(rows["calibrated (all land)"]["pg_c"], 2.0 + 50.0 + 4.0)
    assert_allclose(rows["default (AOA cells)"]["pg_c"], 2.0)
    assert_allclose(rows["default"]["pg_c"], 2.5)
    assert_allclose(rows["calibrated"]["land_area_share"], 2.0 / 2.5)
    assert rows["calibrated"]["land_cells_without_value"] == 0
    assert rows["default"]["land_area_share"] == 1.0


def test_israd_stocks_needing_an_impossible_bulk_density_are_left_out():
    """A stock that, at its layer's organic C, needs a bulk density above the particle density
    of mineral soil (2.65 g cm⁻³) is not a stock of that layer: ISRaD entry Finstad_2020's
    0–10 cm layer at Abejaico holds 14.7 g C kg⁻¹ and is stored as 1,588 Mg C ha⁻¹ (a bulk
    density of 108 g cm⁻³; 15.9 Mg C ha⁻¹ would need 1.08). Its profile is left out with the
    reason; a plausible profile is kept unchanged."""
    from types import SimpleNamespace

    import pandas as pd

    h = pd.DataFrame({
        "profile_id": ["A", "A", "A", "B", "B", "B"],
        "top": [0.0, 10, 30, 0, 10, 30], "bottom": [10.0, 30, 50, 10, 30, 50],
        "soc": [14.7, 8.0, 4.2, 20.0, 10.0, 5.0],
        "soc_density_filled": [1588.145, 1974.6, 1280.6, 22.0, 26.0, 14.0]})
    s = pd.DataFrame({"profile_id": ["A", "B"], "mat": [25.0, 10.0], "map": [1900.0, 800.0],
                      "pro_MAT_CRUTSv323": [25.9, 10.1], "pro_MAP_CRUTSv323": [1884.0, 810.0],
                      "entry": ["Finstad_2020", "X"], "site_name": ["Abejaico", "b"]})
    lay, _, dropped = pc.israd_layers(SimpleNamespace(horizons=h, sites=s))
    assert set(lay["profile_id"]) == {"B"}
    assert_allclose(lay["soc_density"], [22.0, 26.0, 14.0])
    (reason,) = dropped.loc[dropped["profile_id"] == "A", "reason"]
    assert "needs a bulk density of 108 g cm⁻³" in reason and "14.7 g kg⁻¹" in reason
    assert "0–10 cm" in reason
