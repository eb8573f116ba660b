"""Cell areas, Wang H. et al. (2025) Eq. 3 layers on grids, Eq. 6 totals and their Monte Carlo intervals.

Reference values are closed forms: the area of a sphere (4πR²) and of a zonal band
(2πR²·(sin φ₂ − sin φ₁), Archimedes), Eq. 3 itself and its β → 1 limit, the normal distribution of
a linear total under correlation ρ, and a Gauss–Hermite expectation of Eq. 3 (numpy's
``hermgauss``, 80 nodes, exact for polynomials of degree < 160).
"""

from __future__ import annotations

import dask.array as dsa
import numpy as np
import pandas as pd
import pytest
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from affine import Affine
from numpy.testing import assert_allclose
from scipy.stats import norm

from wholesoil.depth import x100_from_x_d0
from wholesoil.errors import InputDataError
from wholesoil.mapping._stocks import (
    AUTHALIC_RADIUS_M,
    CellDistribution,
    cell_area,
    cumulative_from_beta,
    depth_bounds,
    layers_from_beta,
    stock_totals,
    stock_totals_from_beta,
)

R = AUTHALIC_RADIUS_M
SPHERE_M2 = 4.0 * np.pi * R**2  # 510,065,621.7 km² = the WGS84 ellipsoid's area


def geo_grid(res: float, *, lat=(-90.0, 90.0), lon=(-180.0, 180.0), ascending=False):
    """Cell-centre grid on EPSG:4326 covering the given edges."""
    y = np.arange(lat[0] + res / 2, lat[1], res)
    if not ascending:
        y = y[::-1]
    x = np.arange(lon[0] + res / 2, lon[1], res)
    return xr.Dataset(coords={"y": y, "x": x}).rio.write_crs("EPSG:4326")


def field(grid: xr.Dataset, values, name: str = "v") -> xr.DataArray:
    da = xr.DataArray(
        np.asarray(values, dtype=float) * np.ones((grid.sizes["y"], grid.sizes["x"])),
        dims=("y", "x"),
        coords={"y": grid.y, "x": grid.x, "spatial_ref": grid.spatial_ref},
        name=name,
    )
    return da.rio.write_grid_mapping("spatial_ref")


# --------------------------------------------------------------------------------------------
# Cell areas
# --------------------------------------------------------------------------------------------


def test_global_one_degree_grid_sums_to_the_sphere():
    area = cell_area(geo_grid(1.0))
    assert area.dims == ("y", "x") and area.shape == (180, 360)
    assert area.attrs["units"] == "m2"
    total = float(area.sum())
    # the brief's tolerance (0.1 %) and, since the sin differences telescope to 2, rounding
    assert abs(total / SPHERE_M2 - 1.0) < 1e-3
    assert abs(total / SPHERE_M2 - 1.0) < 1e-12
    # each row is R²·Δλ·(sin φ₂ − sin φ₁) with its own edges
    edges = np.radians(np.arange(90.0, -91.0, -1.0))
    row = R**2 * np.radians(1.0) * (np.sin(edges[:-1]) - np.sin(edges[1:]))
    assert_allclose(area.values[:, 0], row, rtol=1e-13)
    assert_allclose(area.values, area.values[:, :1] * np.ones((1, 360)), rtol=0)


@pytest.mark.parametrize(("lo", "hi"), [(60.0, 90.0), (-30.0, 30.0), (-90.0, -66.5)])
def test_zonal_band_areas_match_archimedes(lo, hi):
    # area between two parallels = 2πR²·(sin φ₂ − sin φ₁) (Archimedes' hat-box theorem)
    grid = geo_grid(0.5, lat=(lo, hi))
    expected = 2.0 * np.pi * R**2 * (np.sin(np.radians(hi)) - np.sin(np.radians(lo)))
    assert_allclose(float(cell_area(grid).sum()), expected, rtol=1e-12)


def test_ascending_latitude_and_0_360_longitude_give_the_same_areas():
    north_up = cell_area(geo_grid(2.5))
    south_up = cell_area(geo_grid(2.5, ascending=True))
    shifted = cell_area(geo_grid(2.5, lon=(0.0, 360.0)))
    assert_allclose(south_up.values[::-1], north_up.values, rtol=1e-14)
    assert_allclose(shifted.values, north_up.values, rtol=1e-14)
    assert_allclose(float(north_up.sum()), SPHERE_M2, rtol=1e-12)


def test_projected_grid_is_dx_dy_in_metres_and_says_when_exact():
    x = np.arange(500.0, 10_000.0, 1000.0)
    y = np.arange(9_500.0, 0.0, -1000.0)
    ease = xr.Dataset(coords={"x": x, "y": y}).rio.write_crs("EPSG:6933")  # EASE-Grid 2.0
    area = cell_area(ease)
    assert_allclose(area.values, 1.0e6, rtol=0)
    assert "equal-area" in area.attrs["note"]
    # a CRS in US survey feet (EPSG:2227): 1 ft = 1200/3937 m exactly
    feet = xr.Dataset(coords={"x": x, "y": y}).rio.write_crs("EPSG:2227")
    assert_allclose(cell_area(feet).values, (1000.0 * 1200.0 / 3937.0) ** 2, rtol=1e-12)


def test_cell_area_is_lazy_on_a_dask_grid():
    grid = geo_grid(1.0)
    grid["v"] = field(grid, 1.0).chunk({"y": 50, "x": 100})
    area = cell_area(grid)
    assert area.chunks is not None
    assert area.chunksizes["y"] == grid["v"].chunksizes["y"]
    assert_allclose(float(area.sum().compute()), SPHERE_M2, rtol=1e-12)


def test_cell_area_refuses_grids_without_crs_or_regular_spacing():
    bare = xr.Dataset(coords={"y": [0.5, -0.5], "x": [0.5, 1.5]})
    with pytest.raises(InputDataError, match="no CRS"):
        cell_area(bare)
    odd = xr.Dataset(coords={"y": [0.5, -0.5, -2.5], "x": [0.5, 1.5]}).rio.write_crs(4326)
    with pytest.raises(InputDataError, match="not regularly spaced"):
        cell_area(odd)


# --------------------------------------------------------------------------------------------
# Wang H. et al. (2025) Eq. 3 on grids
# --------------------------------------------------------------------------------------------


def test_eq3_closed_form_and_layers_sum_to_the_cumulative():
    rng = np.random.default_rng(1)
    beta = rng.uniform(0.90, 0.995, 50)
    top = rng.uniform(10.0, 120.0, 50)
    depths = np.array([0.0, 30.0, 100.0, 200.0, 300.0])
    cum = cumulative_from_beta(beta, top, 30.0, depths)
    # Eq. 3 as printed: X_d = (1 − β^d)/(1 − β^d0)·X_d0
    printed = (1.0 - beta[None] ** depths[:, None]) / (1.0 - beta**30) * top
    assert_allclose(cum, printed, rtol=1e-12)
    # and as the depth module computes it
    assert_allclose(cum[2], x100_from_x_d0(top, beta, d0=30.0, d=100.0), rtol=1e-14)
    layers = layers_from_beta(beta, top, d0=30.0, depths=depths)
    assert layers.shape == (4, 50)
    assert_allclose(layers.sum(axis=0), cum[-1], rtol=1e-13)  # layers add up to 0–300 cm
    assert_allclose(layers[0], top, rtol=1e-15)  # the 0–d0 layer is the topsoil itself
    # a layer is X_d0·(β^top − β^bottom)/(1 − β^d0)
    assert_allclose(layers[2], top * (beta**100 - beta**200) / (1 - beta**30), rtol=1e-10)


def test_eq3_limit_beta_to_one_is_proportional_to_depth():
    # β → 1: uniform density with depth, X_d = d/d0·X_d0 (limit of Eq. 3)
    top = np.array([42.0])
    depths = np.array([0.0, 30.0, 100.0, 200.0, 300.0])
    layers = layers_from_beta(np.array([1.0 - 1e-12]), top, d0=30.0, depths=depths)
    assert_allclose(layers[:, 0], np.diff(depths) / 30.0 * 42.0, rtol=1e-9)
    assert_allclose(cumulative_from_beta(1.0 - 1e-12, 42.0, 30.0, 100.0), 140.0, rtol=1e-9)


def test_beta_outside_the_fitted_range_is_refused_with_a_count():
    """β in (0, 1.1] as wholesoil.depth fits it; 1.2, 0 and −0.1 are refused and counted."""
    with pytest.raises(InputDataError, match=r"3 of 6 value\(s\) are outside"):
        layers_from_beta(np.array([0.9, 1.0, 1.2, 0.0, -0.1, np.nan]), 30.0)


def test_beta_one_is_the_limit_and_beta_above_one_follows_eq3():
    """β = 1: X_d = (d/d0)·X_d0 exactly; β = 1.01: (β^d − 1)/(β^d0 − 1) (Eq. 3 for β > 1)."""
    x = cumulative_from_beta(np.array([1.0, 1.01]), 30.0, 30.0, [100.0, 300.0])  # (depth, β)
    assert_allclose(x[:, 0], [100.0, 300.0], rtol=1e-14)
    assert_allclose(x[:, 1], 30.0 * (1.01 ** np.array([100.0, 300.0]) - 1) / (1.01**30 - 1),
                    rtol=1e-12)


def test_layers_on_xarray_carry_depth_bounds_and_stay_lazy_on_dask():
    grid = geo_grid(10.0)
    rng = np.random.default_rng(2)
    beta = field(grid, rng.uniform(0.95, 0.99, (18, 36)), "beta")
    top = field(grid, rng.uniform(20.0, 80.0, (18, 36)), "topsoil")
    eager = layers_from_beta(beta, top)
    assert eager.dims == ("depth", "y", "x")
    assert_allclose(eager.depth, [15.0, 65.0, 150.0, 250.0])
    assert_allclose(depth_bounds(eager), [[0, 30], [30, 100], [100, 200], [200, 300]])
    assert eager.attrs["units"] == "Mg C ha-1" and eager.depth.attrs["positive"] == "down"
    # the layered map goes straight into Eq. 6 totals with its layer bounds
    totals = stock_totals(eager)
    assert_allclose(totals[["top_cm", "bottom_cm"]], [[0, 30], [30, 100], [100, 200], [200, 300]])
    one = stock_totals(eager.isel(depth=2)).iloc[0]
    assert (one.top_cm, one.bottom_cm) == (100.0, 200.0)
    assert_allclose(one.stock_pg, totals.stock_pg[2], rtol=1e-13)
    lazy = layers_from_beta(beta.chunk({"y": 5, "x": 7}), top.chunk({"y": 5, "x": 7}))
    assert isinstance(lazy.data, dsa.Array)
    assert_allclose(lazy.compute().values, eager.values, rtol=0)
    bad = beta.copy()
    bad[3, 4] = 1.5
    lazy_bad = layers_from_beta(bad.chunk({"y": 5}), top)  # builds without error …
    with pytest.raises(InputDataError, match="β must be in"):
        lazy_bad.compute()  # … and refuses when the block is computed


# --------------------------------------------------------------------------------------------
# Eq. 6 totals
# --------------------------------------------------------------------------------------------


def small_grid():
    return geo_grid(5.0, lat=(40.0, 70.0), lon=(-20.0, 20.0))  # 6 × 8 cells


def test_plugin_totals_are_eq6_with_regions_and_ecosystems():
    grid = small_grid()
    area = cell_area(grid)
    rng = np.random.default_rng(3)
    dens = field(grid, rng.uniform(50.0, 150.0, (6, 8)), "soc").assign_attrs(top=0, bottom=30)
    share = field(grid, rng.uniform(0.0, 1.0, (6, 8)))
    codes = field(grid, np.repeat([[1, 2]], 6, axis=0).repeat(4, axis=1))
    names = {1: "west", 2: "east", 3: "nowhere"}
    out = stock_totals(
        dens,
        fraction={"forest": share, "cropland": 1.0 - share},
        regions=codes,
        region_names=names,
    )
    assert list(out.columns[:11]) == [
        "region", "ecosystem", "top_cm", "bottom_cm", "area_km2", "stock_pg", "lower_pg",
        "upper_pg", "plugin_pg", "level", "n_draws",
    ]  # fmt: skip
    # Eq. 6: Σ density [Mg ha⁻¹] × area [ha] × fraction, in Pg
    west = codes.values == 1
    forest_west = float((dens * area / 1e4 * share).values[west].sum() / 1e9)
    row = out[(out.region == "west") & (out.ecosystem == "forest")].iloc[0]
    assert_allclose(row.stock_pg, forest_west, rtol=1e-13)
    assert (row.top_cm, row.bottom_cm, row.n_draws) == (0.0, 30.0, 0)
    assert np.isnan(row.lower_pg) and np.isnan(row.level)
    # ecosystems with shares f and 1 − f add up to the whole cells; regions add up to the grid
    whole = stock_totals(dens).iloc[0]
    assert_allclose(out.stock_pg.sum(), whole.stock_pg, rtol=1e-13)
    assert_allclose(out.area_km2.sum(), float(area.sum()) / 1e6, rtol=1e-13)
    assert_allclose(whole.area_km2, float(area.sum()) / 1e6, rtol=1e-13)
    nowhere = out[out.region == "nowhere"]
    assert len(nowhere) == 2 and (nowhere.area_km2 == 0).all()  # named, absent: zero, not gone


def test_cells_without_data_are_reported_not_dropped():
    grid = small_grid()
    area = cell_area(grid)
    dens = field(grid, 100.0)
    dens[2, 3] = np.nan
    row = stock_totals(dens).iloc[0]
    assert row.n_cells == 47
    assert_allclose(row.missing_area_km2, float(area[2, 3]) / 1e6, rtol=1e-13)
    assert_allclose(row.area_km2 + row.missing_area_km2, float(area.sum()) / 1e6, rtol=1e-13)


def test_fraction_outside_unit_interval_and_misaligned_grids_are_refused():
    grid = small_grid()
    dens = field(grid, 100.0)
    with pytest.raises(InputDataError, match=r"fraction\['all'\] must be in \[0, 1\]"):
        stock_totals(dens, fraction=field(grid, 1.5))
    other = field(geo_grid(5.0, lat=(45.0, 75.0), lon=(-20.0, 20.0)), 0.5)
    with pytest.raises(InputDataError, match="not on the grid"):
        stock_totals(dens, fraction=other)


# --------------------------------------------------------------------------------------------
# Monte Carlo intervals (Wang H. et al. (2025) §2.7)
# --------------------------------------------------------------------------------------------


def normal_total(m, s, a, rho):
    """Mean and sd of Σ a·(m + s·z), z_cell = √ρ·z_common + √(1−ρ)·e_cell."""
    return float(np.sum(m * a)), float(
        np.sqrt(rho * np.sum(s * a) ** 2 + (1 - rho) * np.sum((s * a) ** 2))
    )


@pytest.mark.parametrize("rho", [0.0, 0.5, 1.0])
def test_linear_total_matches_the_closed_form_normal(rho):
    grid = small_grid()
    rng = np.random.default_rng(4)
    m = field(grid, rng.uniform(50.0, 150.0, (6, 8)))
    s = field(grid, rng.uniform(2.0, 10.0, (6, 8)))
    n = 20_000
    out = stock_totals(CellDistribution.normal(m, s), n_draws=n, correlation=rho, seed=11).iloc[0]
    a = cell_area(grid).values * 1e-13  # m² → ha, Mg → Pg
    mu, sd = normal_total(m.values, s.values, a, rho)
    assert out.n_draws == n and out.correlation == rho and out.level == 0.95
    assert_allclose(out.plugin_pg, mu, rtol=1e-13)
    assert abs(out.stock_pg - mu) < 4 * sd / np.sqrt(n)  # 4 standard errors of the mean
    # 2.5 % / 97.5 % percentiles: standard error √(p(1−p)/n)/φ(z)·sd = 0.019 sd at n = 20,000
    z = norm.ppf(0.975)
    assert abs(out.lower_pg - (mu - z * sd)) < 0.08 * sd
    assert abs(out.upper_pg - (mu + z * sd)) < 0.08 * sd


def test_full_correlation_scales_exactly_with_the_summed_sd():
    # ρ = 1: every cell shares the draw's z, so total − Σm·a = z·Σs·a; tripling s triples the
    # interval's offsets from the plug-in exactly (same seed, same z)
    grid = small_grid()
    m = field(grid, 100.0)
    s = field(grid, np.linspace(1.0, 5.0, 48).reshape(6, 8))
    one = stock_totals(CellDistribution.normal(m, s), n_draws=500).iloc[0]
    three = stock_totals(CellDistribution.normal(m, 3 * s), n_draws=500).iloc[0]
    for col in ("lower_pg", "upper_pg", "stock_pg"):
        assert_allclose(three[col] - three.plugin_pg, 3 * (one[col] - one.plugin_pg), rtol=1e-9)


def test_monte_carlo_totals_do_not_depend_on_blocks_or_chunks():
    grid = geo_grid(5.0, lat=(30.0, 80.0), lon=(-50.0, 50.0))  # 10 × 20 cells
    rng = np.random.default_rng(5)
    shape = (10, 20)
    beta = field(grid, rng.uniform(0.95, 0.985, shape))
    beta_sd = field(grid, rng.uniform(0.001, 0.004, shape))
    top = field(grid, rng.uniform(30.0, 90.0, shape))
    top_sd = 0.1 * top
    codes = field(grid, rng.integers(1, 4, shape))
    share = field(grid, rng.uniform(0.0, 1.0, shape))

    def run(chunks=None, block_cells=None):
        def c(da):
            return da if chunks is None else da.chunk(chunks)

        return stock_totals_from_beta(
            CellDistribution.normal(c(beta), c(beta_sd)),
            CellDistribution.normal(c(top), c(top_sd)),
            fraction={"grass": c(share), "forest": c(1 - share)},
            regions=c(codes),
            n_draws=300,
            correlation=0.3,
            seed=7,
            block_cells=block_cells,
        )

    ref = run()
    num = ["area_km2", "stock_pg", "lower_pg", "upper_pg", "plugin_pg"]
    for kwargs in ({"block_cells": 7}, {"chunks": {"y": 3, "x": 7}}, {"chunks": {"y": 1}}):
        other = run(**kwargs)
        pd.testing.assert_frame_equal(other.drop(columns=num), ref.drop(columns=num))
        assert_allclose(other[num].to_numpy(), ref[num].to_numpy(), rtol=1e-12)
    # per-draw totals add over regions, so the Monte Carlo mean does too
    whole = stock_totals_from_beta(
        CellDistribution.normal(beta, beta_sd),
        CellDistribution.normal(top, top_sd),
        fraction={"grass": share, "forest": 1 - share},
        n_draws=300,
        correlation=0.3,
        seed=7,
    )
    by_layer = ref.groupby(["ecosystem", "top_cm"], sort=False).stock_pg.sum()
    assert_allclose(by_layer.to_numpy(), whole.stock_pg.to_numpy(), rtol=1e-12)


def test_eq3_is_recomputed_per_draw_so_the_mean_is_not_the_plugin():
    # one cell, β ~ N(0.97, 0.006), topsoil 60 Mg ha⁻¹: the Monte Carlo mean of the 100–200 cm
    # layer is E[g(β)] (Gauss–Hermite, 80 nodes), not g(E[β]) (Jensen)
    grid = geo_grid(1.0, lat=(60.0, 61.0), lon=(100.0, 101.0))  # one cell: its size is in the
    grid = grid.rio.write_transform(Affine(1.0, 0.0, 100.0, 0.0, -1.0, 61.0))  # GeoTransform
    m, s, top, n = 0.97, 0.006, 60.0, 40_000
    out = stock_totals_from_beta(
        CellDistribution.normal(field(grid, m), field(grid, s)),
        field(grid, top),
        depths=(0.0, 30.0, 100.0, 200.0),
        n_draws=n,
    )
    a_ha = float(cell_area(grid).values[0, 0]) / 1e4

    def g(b):
        return top * (b**100 - b**200) / (1 - b**30) * a_ha / 1e9

    x, w = np.polynomial.hermite.hermgauss(80)
    mean = np.sum(w * g(m + s * np.sqrt(2) * x)) / np.sqrt(np.pi)
    sd = np.sqrt(np.sum(w * (g(m + s * np.sqrt(2) * x) - mean) ** 2) / np.sqrt(np.pi))
    deep = out[out.top_cm == 100.0].iloc[0]
    assert_allclose(deep.plugin_pg, g(m), rtol=1e-12)
    assert abs(deep.stock_pg - mean) < 4 * sd / np.sqrt(n)
    assert abs(mean - g(m)) > 10 * sd / np.sqrt(n)  # the nonlinearity is resolved, not noise
    # g is increasing in β here, so the percentiles are g at β's percentiles, up to the sampling
    # error of a percentile, √(p(1−p)/n)/φ(z) in z units (0.013 at n = 40,000); 4 of those
    for p, got in ((0.025, deep.lower_pg), (0.975, deep.upper_pg)):
        q = norm.ppf(p)
        se = np.sqrt(p * (1 - p) / n) / norm.pdf(q)
        assert g(m + s * (q - 4 * se)) < got < g(m + s * (q + 4 * se))
    # the 0–30 cm layer is the topsoil for every draw
    first = out[out.top_cm == 0.0].iloc[0]
    assert_allclose([first.stock_pg, first.lower_pg, first.upper_pg], top * a_ha / 1e9, rtol=1e-12)


def test_beta_draws_outside_the_fitted_range_are_clipped_and_counted():
    grid = small_grid()
    n = 4000
    out = stock_totals_from_beta(
        CellDistribution.normal(field(grid, 1.095), field(grid, 0.01)),
        field(grid, 50.0),
        n_draws=n,
        correlation=0.0,
    )
    clipped = out.attrs["clipped_draws"]["beta"]
    expected = 48 * n * norm.sf(0.5)  # P(β > 1.1) = P(z > 0.5)
    assert abs(clipped - expected) < 5 * np.sqrt(expected)
    assert np.isfinite(out[["stock_pg", "lower_pg", "upper_pg"]].to_numpy()).all()


def test_cell_distribution_from_interval_dataset_and_draws():
    grid = small_grid()
    mean = field(grid, 10.0)
    z90 = norm.ppf(0.95)
    dist = CellDistribution.from_interval(mean, mean - 2.0, mean + 2.0, 0.90)
    assert_allclose(dist.sd.values, 2.0 / z90, rtol=1e-14)
    ds = xr.Dataset(
        {
            "soc_mean": mean,
            "soc_Q0.05": mean - 2.0,
            "soc_Q0.5": mean,
            "soc_Q0.95": mean + 2.0,
            "soc_Q0.05_coulston": mean - 4.0,
            "soc_Q0.95_coulston": mean + 4.0,
        }
    )
    assert_allclose(CellDistribution.from_dataset(ds, "soc").sd.values, 2.0 / z90, rtol=1e-14)
    coulston = CellDistribution.from_dataset(ds, "soc", method="coulston")
    assert_allclose(coulston.sd.values, 4.0 / z90, rtol=1e-14)
    # draws given directly: their own number of draws, totals of the draws' mean
    rng = np.random.default_rng(6)
    draws = xr.DataArray(
        rng.uniform(5.0, 15.0, (5, 6, 8)),
        dims=("draw", "y", "x"),
        coords={"y": grid.y, "x": grid.x},
    ).rio.write_crs(4326)
    out = stock_totals(CellDistribution.from_draws(draws), n_draws=1000).iloc[0]
    a = cell_area(grid).values * 1e-13
    per_draw = (draws.values * a).sum(axis=(1, 2))
    assert out.n_draws == 5
    assert_allclose(out.stock_pg, per_draw.mean(), rtol=1e-12)
    assert_allclose([out.lower_pg, out.upper_pg], np.percentile(per_draw, [2.5, 97.5]), rtol=1e-12)


def test_checkpointed_totals_resume_bitwise_without_redrawing_finished_blocks(tmp_path,
                                                                              monkeypatch):
    """A run killed after some row blocks resumes from their stored partial sums."""
    import wholesoil.mapping._stocks as stocks

    grid = geo_grid(5.0, lat=(30.0, 80.0), lon=(-50.0, 50.0))  # 10 × 20 cells
    rng = np.random.default_rng(11)
    beta = field(grid, rng.uniform(0.95, 0.985, (10, 20))).chunk({"y": 2})  # 5 row blocks
    top = field(grid, rng.uniform(30.0, 90.0, (10, 20))).chunk({"y": 2})

    def run(folder):
        return stock_totals_from_beta(
            CellDistribution.normal(beta, beta * 0.003), CellDistribution.normal(top, top * 0.1),
            n_draws=200, correlation=0.5, seed=3, checkpoint=folder,
        )

    class Killed(Exception):
        pass

    ref = run(None)
    calls = []
    real = stocks._segment_sums

    kill = [True]

    def counting(x, ridx, n):
        calls.append(x.ndim)
        if kill[0] and sum(d == 3 for d in calls) == 3:  # third block's Monte Carlo: "killed"
            raise Killed
        return real(x, ridx, n)

    monkeypatch.setattr(stocks, "_segment_sums", counting)
    with pytest.raises(Killed):
        run(tmp_path / "ck")
    assert sorted(p.name for p in (tmp_path / "ck").glob("s*.json")) == ["s0.json", "s1.json"]
    calls.clear()
    kill[0] = False
    resumed = run(tmp_path / "ck")
    assert sum(d == 3 for d in calls) == 3  # only blocks 2, 3, 4 were drawn again
    pd.testing.assert_frame_equal(resumed, ref)
    monkeypatch.setattr(stocks, "_segment_sums", real)
    calls.clear()
    again = run(tmp_path / "ck")  # everything stored: nothing is drawn
    pd.testing.assert_frame_equal(again, ref)
    with pytest.raises(InputDataError, match="n_draws"):
        stock_totals_from_beta(
            CellDistribution.normal(beta, beta * 0.003), CellDistribution.normal(top, top * 0.1),
            n_draws=100, correlation=0.5, seed=3, checkpoint=tmp_path / "ck",
        )
