"""Cell areas of a grid [m²], exact on the sphere for geographic grids.

Equation
--------
(A1) Area of a cell between longitudes λ₁, λ₂ and latitudes φ₁, φ₂ on a sphere of radius R:
     A = R² · |λ₂ − λ₁| · |sin φ₂ − sin φ₁|   (λ in radians; Archimedes' hat-box theorem).

References
----------
Snyder, J. P. (1987). Map Projections — A Working Manual. USGS Professional Paper 1395, p. 16
(authalic radius of an ellipsoid). https://doi.org/10.3133/pp1395
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyproj
import xarray as xr

from wholesoil.errors import InputDataError

#: Radius of the sphere with the surface area of the WGS84 ellipsoid [m]: R_q = 6,371,007.2 m
#: (Snyder 1987, p. 16, Eq. 3-13 with a = 6,378,137 m, 1/f = 298.257223563; also NGA's "mean
#: radius R2"). 4πR_q² = 510,065,621.7 km², the ellipsoid's area.
AUTHALIC_RADIUS_M: float = 6_371_007.2


# --------------------------------------------------------------------------------------------
# Cell areas
# --------------------------------------------------------------------------------------------


def _axis_spacing(grid: xr.Dataset | xr.DataArray, dim: str) -> float:
    """Signed spacing of the regular coordinate ``dim`` [CRS units]."""
    if dim not in grid.coords:
        raise InputDataError(
            f"a grid needs 1-D coordinates 'x' and 'y' of cell centres; it has "
            f"{sorted(map(str, grid.coords))}",
            field=dim,
        )
    c = np.asarray(grid[dim].values, dtype=float)
    if c.ndim != 1:
        raise InputDataError(f"coordinate {dim!r} must be 1-D", field=dim, value=c.shape)
    if c.size >= 2:
        step = (c[-1] - c[0]) / (c.size - 1)
        dev = np.max(np.abs(np.diff(c) - step))
        if not step != 0 or dev > 1e-3 * abs(step):
            raise InputDataError(
                f"coordinate {dim!r} is not regularly spaced (spacing {step:g}, largest "
                f"deviation {dev:g}); cell areas need a regular grid",
                field=dim,
            )
        return float(step)
    try:  # one cell along this axis: the spacing is only in the stored transform
        res_x, res_y = grid.rio.resolution(recalc=False)
    except Exception as err:
        raise InputDataError(
            f"cannot tell the cell size along {dim!r} from a single cell and no GeoTransform",
            field=dim,
        ) from err
    return float(res_x if dim == "x" else res_y)


def _grid_crs(grid: xr.Dataset | xr.DataArray) -> Any:
    crs = grid.rio.crs
    if crs is None:
        raise InputDataError(
            "the grid carries no CRS; set one, e.g. grid.rio.write_crs('EPSG:4326') for "
            "longitude/latitude cell centres",
            field="spatial_ref",
        )
    return crs


def cell_area(grid: xr.Dataset | xr.DataArray) -> xr.DataArray:
    """Area of each cell of a regular grid [m²], dims (y, x).

    Geographic grid (x = longitude, y = latitude in degrees): Eq. A1 of the module,
    A = R²·Δλ·|sin φ₂ − sin φ₁| with φ₁, φ₂ the cell's edges (centre ∓ Δφ/2, clipped to ±90°)
    and R = :data:`AUTHALIC_RADIUS_M`. This is exact on the sphere: a global grid sums to 4πR²
    to rounding, i.e. to the area of the WGS84 ellipsoid. On the ellipsoid itself single zonal
    bands differ from the authalic sphere by up to ~0.3 % (geodetic vs authalic latitude); the
    total does not.

    Projected grid: |Δx·Δy| in m² (the CRS's linear unit converted to metres). This is the true
    area only for an **equal-area** projection (e.g. EPSG:6933, EASE-Grid 2.0, or a Lambert
    azimuthal equal-area grid); on any other projection it is the map area, and ``attrs["note"]``
    says so.

    Parameters
    ----------
    grid : xarray.Dataset or DataArray
        A grid with 1-D, regularly spaced cell-centre coordinates ``x`` and ``y`` (either
        direction) and a CRS written the rioxarray way (``grid.rio.write_crs(...)``).

    Returns
    -------
    xarray.DataArray
        Cell area [m²], dims (y, x), the grid's coordinates and CRS. The values are a broadcast
        view of one value per row (geographic) or one value (projected), so even a 1-km global
        grid costs no memory; it is dask-backed with the grid's (y, x) chunks when the grid is.
    """
    crs = pyproj.CRS.from_user_input(_grid_crs(grid).to_wkt())
    dx = _axis_spacing(grid, "x")
    dy = _axis_spacing(grid, "y")
    ny, nx = grid.sizes["y"], grid.sizes["x"]
    if crs.is_geographic:
        lat = np.asarray(grid["y"].values, dtype=float)
        half = abs(dy) / 2.0
        phi1 = np.radians(np.clip(lat - half, -90.0, 90.0))
        phi2 = np.radians(np.clip(lat + half, -90.0, 90.0))
        row = AUTHALIC_RADIUS_M**2 * np.radians(abs(dx)) * np.abs(np.sin(phi2) - np.sin(phi1))
        values = np.broadcast_to(row[:, None], (ny, nx))
        attrs = {
            "method": "R^2 * dlon * |sin(lat2) - sin(lat1)| on the authalic sphere "
            f"(R = {AUTHALIC_RADIUS_M} m, WGS84); exact on the sphere",
        }
    else:
        to_m = [a.unit_conversion_factor for a in crs.axis_info[:2]] or [1.0]
        area = abs(dx * to_m[0] * dy * to_m[-1])
        values = np.broadcast_to(np.float64(area), (ny, nx))
        attrs = {
            "method": "|dx * dy| in the projected CRS",
            "note": "exact only for an equal-area projection; otherwise this is map area",
        }
    chunks = _yx_chunks(grid)
    if chunks is not None:
        import dask.array as dsa

        values = dsa.from_array(values, chunks=chunks)
    da = xr.DataArray(
        values,
        dims=("y", "x"),
        coords={"y": grid["y"].values, "x": grid["x"].values},
        name="cell_area",
        attrs={"units": "m2", "long_name": "cell area", **attrs},
    )
    for dim in ("x", "y"):
        da[dim].attrs.update(grid[dim].attrs)
    return da.rio.write_crs(crs).rio.write_grid_mapping()


def _yx_chunks(grid: xr.Dataset | xr.DataArray) -> tuple[Any, Any] | None:
    """(y, x) chunks of the first dask-backed (y, x) variable of ``grid``, else None."""
    arrays = [grid] if isinstance(grid, xr.DataArray) else list(grid.data_vars.values())
    for da in arrays:
        if da.chunks is not None and "y" in da.dims and "x" in da.dims:
            return (da.chunksizes["y"], da.chunksizes["x"])
    return None
