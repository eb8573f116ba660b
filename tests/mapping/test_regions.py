"""Land fraction from the GLOBE-derived land mask and the circumpolar region rule.

Reference values:

* Land north of 60°N and the global land area of the mask itself at its full 30″ resolution,
  every pixel with its exact area on the authalic sphere (R = 6,371,007.2 m), computed with
  global-land-mask 1.0.0 by::

      R = 6371007.2
      edges = np.radians(90.0 - np.arange(21601) / 120.0)   # pixel row edges, north to south
      row = R**2 * np.radians(1 / 120) * (np.sin(edges[:-1]) - np.sin(edges[1:]))
      land = (~globe._mask).sum(axis=1) * row               # m² of land per pixel row
      land[:3600].sum() / 1e6, land.sum() / 1e6             # north of 60°N, whole globe [km²]

  → 17,223,893 km² and 147,435,869 km².
* The world's land area, 148.94 million km² (CIA World Factbook, "World — Geography — Area:
  land"), for the mask as a whole (GLOBE has 1.0 % less: it leaves out some ice shelves and
  small islands).
"""

from __future__ import annotations

import numpy as np
import pytest
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from numpy.testing import assert_allclose

from wholesoil.errors import InputDataError
from wholesoil.mapping._regions import circumpolar_region, land_fraction
from wholesoil.mapping._stocks import cell_area, stock_totals

MASK_LAND_NORTH_OF_60_KM2 = 17_223_893.0  # full-resolution mask, see the module docstring
MASK_LAND_GLOBAL_KM2 = 147_435_869.0
FACTBOOK_LAND_KM2 = 148.94e6  # CIA World Factbook


def geo_grid(res: float, *, lon0: float = -180.0) -> xr.Dataset:
    y = np.arange(90.0 - res / 2, -90.0, -res)
    x = np.arange(lon0 + res / 2, lon0 + 360.0, res)
    return xr.Dataset(coords={"y": y, "x": x}).rio.write_crs("EPSG:4326")


@pytest.fixture(scope="module")
def one_degree_land():
    grid = geo_grid(1.0)
    return grid, land_fraction(grid, samples=10)


# --------------------------------------------------------------------------------------------
# Land fraction (loads the 1-GB mask: seconds, so slow)
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_land_fraction_sanity(one_degree_land):
    _, land = one_degree_land
    assert land.dims == ("y", "x") and land.shape == (180, 360)
    assert float(land.min()) == 0.0 and float(land.max()) == 1.0
    assert float(land.sel(y=0.5, x=-150.5)) == 0.0  # central Pacific
    assert float(land.sel(y=64.5, x=105.5)) == 1.0  # Central Siberian Plateau
    assert float(land.sel(y=-80.5, x=30.5)) == 1.0  # East Antarctic ice sheet
    coast = float(land.sel(y=43.5, x=-8.5))  # Galician coast, Spain
    assert 0.0 < coast < 1.0
    assert "GLOBE" in land.attrs["source"] and land.rio.crs == "EPSG:4326"


@pytest.mark.slow
def test_land_area_north_of_60N_matches_the_full_resolution_mask(one_degree_land):
    grid, land = one_degree_land
    land_m2 = land * cell_area(grid)
    north = float(land_m2.where(land.y > 60.0).sum()) / 1e6
    world = float(land_m2.sum()) / 1e6
    # 100 samples per 1° cell (of 14,400 mask pixels): measured −0.03 % and +0.003 %
    assert_allclose(north, MASK_LAND_NORTH_OF_60_KM2, rtol=2e-3)
    assert_allclose(world, MASK_LAND_GLOBAL_KM2, rtol=5e-4)
    assert_allclose(world, FACTBOOK_LAND_KM2, rtol=0.02)


@pytest.mark.slow
def test_land_fraction_with_0_360_longitudes_is_the_same_map(one_degree_land):
    _, land = one_degree_land
    shifted = land_fraction(geo_grid(1.0, lon0=0.0), samples=10)
    assert_allclose(shifted.values, np.roll(land.values, -180, axis=1), rtol=0, atol=0)


@pytest.mark.slow
def test_circumpolar_region_with_the_real_mask_reports_its_land_area(one_degree_land):
    grid, land = one_degree_land
    mat = xr.full_like(land, -10.0).assign_attrs(units="degC")
    ds = circumpolar_region(grid, mat, lat_min=60.0, samples=10)
    # every cell is below 0 °C, so the region is the land north of 60°N
    assert_allclose(ds.attrs["land_area_km2"], MASK_LAND_NORTH_OF_60_KM2, rtol=2e-3)
    assert_allclose(ds.land_fraction.values, land.values, rtol=0)


# --------------------------------------------------------------------------------------------
# The circumpolar rule (land fraction given, no mask needed)
# --------------------------------------------------------------------------------------------


def rule_case():
    grid = geo_grid(5.0)
    lat = grid.y.values[:, None] * np.ones((1, grid.sizes["x"]))
    mat = xr.DataArray(
        25.0 - 0.5 * lat,  # °C: below 0 north of 50°N
        dims=("y", "x"),
        coords={"y": grid.y, "x": grid.x},
        attrs={"units": "degC"},
    )
    mat[1, 3] = np.nan  # 82.5°N: unknown temperature
    land = xr.ones_like(mat).assign_attrs(units="1")
    land[:, ::2] = 0.0  # every other column is sea
    land[2, 1] = 0.25  # 77.5°N: a part-land cell
    return grid.assign(mat=mat), land


def test_circumpolar_rule_and_its_area():
    grid, land = rule_case()
    ds = circumpolar_region(grid, "mat", lat_min=45.0, mat_max=0.0, land=land)
    lat = grid.y.values[:, None]
    x_land = land.values > 0
    expected = (lat > 50.0) & x_land & ~np.isnan(grid.mat.values)  # MAT < 0 ⇔ lat > 50°N
    np.testing.assert_array_equal(ds.region.values, expected)
    assert ds.region.dtype == bool and ds.attrs["n_cells"] == int(expected.sum())
    assert ds.attrs["n_cells_mat_missing"] == 1  # the NaN cell is counted, not hidden
    assert "latitude > 45" in ds.attrs["rule"] and "< 0 °C" in ds.attrs["rule"]
    area = cell_area(grid).values
    assert_allclose(ds.attrs["cell_area_km2"], area[expected].sum() / 1e6, rtol=1e-13)
    assert_allclose(
        ds.attrs["land_area_km2"], (area * land.values)[expected].sum() / 1e6, rtol=1e-13
    )
    # Eq. 6 over the region with the land fraction reports the same area
    totals = stock_totals(
        xr.full_like(grid.mat, 10.0), fraction=ds.land_fraction, regions=ds.region
    )
    assert_allclose(totals.area_km2.iloc[0], ds.attrs["land_area_km2"], rtol=1e-13)
    assert ds.rio.crs == "EPSG:4326"


def test_circumpolar_refuses_projected_grids_kelvin_and_missing_variables():
    grid, land = rule_case()
    with pytest.raises(InputDataError, match="°C"):
        circumpolar_region(grid, grid.mat.assign_attrs(units="K"), land=land)
    with pytest.raises(InputDataError, match="no variable 'tas'"):
        circumpolar_region(grid, "tas", land=land)
    ease = xr.Dataset(coords={"x": [500.0, 1500.0], "y": [1500.0, 500.0]}).rio.write_crs(6933)
    with pytest.raises(InputDataError, match="longitude/latitude grid"):
        land_fraction(ease)
