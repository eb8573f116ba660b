"""Land fraction of grid cells and a reproducible circumpolar region.

* :func:`land_fraction` — the share of each cell that is land, sampled from the 30″ (~1 km) land
  mask of the ``global-land-mask`` package (Karin 2020, MIT licence), which is derived from NOAA's
  GLOBE digital elevation model (Hastings & Dunbar 1999): a pixel is land where GLOBE has an
  elevation, ocean where it has none. Inland lakes count as land.
* :func:`circumpolar_region` — the cells north of a latitude whose mean annual temperature is
  below a threshold, with their land fraction and area, as a Dataset whose attributes state the
  rule, so that the region can be rebuilt exactly.

References
----------
Karin, T. (2020). global-land-mask 1.0.0. https://github.com/toddkarin/global-land-mask
Hastings, D. A. & Dunbar, P. K. (1999). Global Land One-kilometer Base Elevation (GLOBE) v.1.
NOAA National Geophysical Data Center. https://doi.org/10.7289/V52R3PMS
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyproj
import xarray as xr

from wholesoil.errors import InputDataError
from wholesoil.mapping._stocks import _axis_spacing, _grid_crs, cell_area

#: Where the land mask comes from (stored in the outputs' attrs).
LAND_MASK_SOURCE: str = (
    "global-land-mask 1.0.0 (T. Karin, MIT licence): 30 arc-second land/ocean mask derived from "
    "NOAA GLOBE v1 (Hastings & Dunbar 1999, doi:10.7289/V52R3PMS); lakes count as land"
)

#: Sample points per block when sampling the mask (bounds the memory of the index arrays).
_POINTS_PER_BLOCK = 1 << 23


def _is_land(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """global_land_mask.globe.is_land on broadcastable arrays (imported on first use: the mask
    is ~1 GB in memory and takes seconds to load)."""
    from global_land_mask import globe

    return globe.is_land(lat, lon)


def _geographic(grid: xr.Dataset | xr.DataArray, what: str) -> None:
    crs = pyproj.CRS.from_user_input(_grid_crs(grid).to_wkt())
    if not crs.is_geographic:
        raise InputDataError(
            f"{what} needs a longitude/latitude grid (EPSG:4326); this grid's CRS is "
            f"{crs.name!r}: reproject it first (grid.rio.reproject('EPSG:4326'))",
            field="spatial_ref",
        )


def land_fraction(grid: xr.Dataset | xr.DataArray, samples: int = 10) -> xr.DataArray:
    """Fraction of each cell that is land [-], from the GLOBE-derived 30″ land mask.

    Each cell is sampled at ``samples`` × ``samples`` points, the centres of an even
    subdivision of the cell; the fraction is the share of those points on land
    (``global_land_mask.globe.is_land``). The mask resolves ~1 km, so for cells much larger than
    ``samples`` mask pixels the result is a sampling estimate of the land share (standard error
    ≤ 0.5/samples for a coastal cell); ``samples=10`` on a 1° grid gives the land area north of
    60°N to 0.1 % of the full-resolution mask (tests/mapping/test_regions.py).

    Parameters
    ----------
    grid : xarray.Dataset or DataArray
        A regular longitude/latitude grid (EPSG:4326; longitudes in −180…180 or 0…360) with cell
        centre coordinates ``x``, ``y``.
    samples : int
        Sample points per cell side (≥ 1).

    Returns
    -------
    xarray.DataArray
        Land fraction in [0, 1], dims (y, x), named ``land_fraction``, with the grid's CRS.
    """
    _geographic(grid, "land_fraction")
    samples = int(samples)
    if samples < 1:
        raise InputDataError("samples must be >= 1", field="samples", value=samples)
    dx = abs(_axis_spacing(grid, "x"))
    dy = abs(_axis_spacing(grid, "y"))
    lat = np.asarray(grid["y"].values, dtype=float)
    lon = np.asarray(grid["x"].values, dtype=float)
    offsets = (np.arange(samples) + 0.5) / samples - 0.5  # sub-cell centres, in cell units
    lon_pts = lon[:, None] + dx * offsets[None, :]  # (nx, s)
    lon_pts = (lon_pts + 180.0) % 360.0 - 180.0  # 0…360 → −180…180
    ny, nx = lat.size, lon.size
    rows = max(1, _POINTS_PER_BLOCK // max(1, nx * samples * samples))
    out = np.empty((ny, nx))
    for start in range(0, ny, rows):  # blocks of rows, bounded memory
        block = lat[start : start + rows]
        lat_pts = np.clip(block[:, None] + dy * offsets[None, :], -90.0, 90.0)  # (r, s)
        land = _is_land(lat_pts[:, :, None, None], lon_pts[None, None, :, :])  # (r, s, nx, s)
        out[start : start + block.size] = land.mean(axis=(1, 3))
    da = xr.DataArray(
        out,
        dims=("y", "x"),
        coords={"y": grid["y"].values, "x": grid["x"].values},
        name="land_fraction",
        attrs={
            "units": "1",
            "long_name": "fraction of the cell that is land",
            "source": LAND_MASK_SOURCE,
            "samples_per_cell": samples * samples,
        },
    )
    return da.rio.write_crs(_grid_crs(grid)).rio.write_grid_mapping()


def circumpolar_region(
    grid: xr.Dataset | xr.DataArray,
    mat: xr.DataArray | str,
    *,
    lat_min: float = 45.0,
    mat_max: float = 0.0,
    land: xr.DataArray | None = None,
    samples: int = 10,
) -> xr.Dataset:
    """Cells north of ``lat_min`` with mean annual temperature below ``mat_max``, with land.

    The rule: a cell is in the region when its centre latitude > ``lat_min``, its MAT
    < ``mat_max`` [°C] and its land fraction > 0. Cells whose MAT is missing are not in the
    region; those north of ``lat_min`` with land are counted in ``attrs["n_cells_mat_missing"]``
    so nothing is left out unseen. Stocks of the region then weight cells by their land fraction
    (pass ``fraction=ds.land_fraction`` and ``regions=ds.region`` to
    :func:`~wholesoil.mapping._stocks.stock_totals`).

    Parameters
    ----------
    grid : xarray.Dataset or DataArray
        A longitude/latitude grid (EPSG:4326).
    mat : DataArray or str
        Mean annual air temperature [°C] on the grid, or the name of that variable in ``grid``.
    lat_min : float
        Southern limit [°N] (exclusive).
    mat_max : float
        MAT threshold [°C] (exclusive).
    land : DataArray, optional
        Land fraction of the cells, default :func:`land_fraction` with ``samples``.
    samples : int
        Sample points per cell side for :func:`land_fraction`.

    Returns
    -------
    xarray.Dataset
        ``region`` (bool, y, x), ``land_fraction`` [-], ``cell_area`` [m²] and ``mat`` [°C], with
        attrs: the rule in words, lat_min, mat_max, land_area_km2 (Σ area × land fraction of the
        region), cell_area_km2 (Σ area), n_cells, n_cells_mat_missing and the land-mask source.
    """
    _geographic(grid, "circumpolar_region")
    if isinstance(mat, str):
        if not isinstance(grid, xr.Dataset) or mat not in grid:
            have = sorted(map(str, grid.data_vars)) if isinstance(grid, xr.Dataset) else []
            raise InputDataError(f"the grid has no variable {mat!r}; it has {have}", field=mat)
        mat = grid[mat]
    units = mat.attrs.get("units")
    if units is not None and units not in ("degC", "°C", "C", "celsius", "degree_Celsius"):
        raise InputDataError(
            "mean annual temperature must be in °C", field="mat", value=units, has_value=True
        )
    area = cell_area(grid)
    if land is None:
        land = land_fraction(grid, samples=samples)
    for name, da in (("mat", mat), ("land", land)):
        _same_grid(da, area, name)
    lat = xr.DataArray(np.asarray(grid["y"].values, float), dims="y", coords={"y": area.y})
    north = (lat > lat_min).broadcast_like(area)
    land_v = np.asarray(land.transpose("y", "x").values, dtype=float)
    has_land = land_v > 0
    mat_v = np.asarray(mat.transpose("y", "x").values, dtype=float)
    region = north.values & (mat_v < mat_max) & has_land
    missing = north.values & np.isnan(mat_v) & has_land
    area_v = np.asarray(area.values)
    rule = (
        f"cell centre latitude > {lat_min:g} °N and mean annual temperature < {mat_max:g} °C "
        "and land fraction > 0"
    )
    coords = {"y": area.y, "x": area.x}
    ds = xr.Dataset(
        {
            "region": xr.DataArray(
                region, dims=("y", "x"), coords=coords, attrs={"long_name": rule}
            ),
            "land_fraction": xr.DataArray(land_v, dims=("y", "x"), coords=coords, attrs=land.attrs),
            "cell_area": xr.DataArray(area_v, dims=("y", "x"), coords=coords, attrs=area.attrs),
            "mat": xr.DataArray(
                mat_v,
                dims=("y", "x"),
                coords=coords,
                attrs={**mat.attrs, "units": "degC", "long_name": "mean annual air temperature"},
            ),
        },
        attrs={
            "title": "circumpolar region",
            "rule": rule,
            "lat_min": float(lat_min),
            "mat_max": float(mat_max),
            "land_area_km2": float(np.sum(area_v * land_v, where=region) / 1e6),
            "cell_area_km2": float(np.sum(area_v, where=region) / 1e6),
            "n_cells": int(region.sum()),
            "n_cells_mat_missing": int(missing.sum()),
            "land_mask": land.attrs.get("source", "given by the caller"),
        },
    )
    ds = ds.rio.write_crs(_grid_crs(grid))
    for name in ds.data_vars:
        ds[name].attrs["grid_mapping"] = "spatial_ref"
    return ds


def _same_grid(da: Any, ref: xr.DataArray, what: str) -> None:
    for dim in ("y", "x"):
        a = np.asarray(da[dim].values, float) if dim in da.dims else np.empty(0)
        b = np.asarray(ref[dim].values, float)
        if a.shape != b.shape or not np.allclose(a, b, rtol=0.0, atol=1e-9):
            raise InputDataError(
                f"{what} is not on the grid (its {dim!r} coordinate differs); regrid it first",
                field=what,
            )
