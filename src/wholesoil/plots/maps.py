"""Maps: values on a lon/lat grid with coastlines and a colour bar with units."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from wholesoil._atomic import save_figure
from wholesoil.errors import InputDataError
from wholesoil.io._grid import PathLike, _Geometry
from wholesoil.plots._style import _edges

#: Source of the coastlines drawn by :func:`plot_map`.
COASTLINE_SOURCE: str = (
    "0.5 contour of the land fraction from global-land-mask (T. Karin, MIT licence; NOAA GLOBE "
    "v1 30″ land/ocean mask, Hastings & Dunbar 1999, doi:10.7289/V52R3PMS), sampled on the "
    "map's own grid"
)


def land_fraction_on(lon: np.ndarray, lat: np.ndarray, samples: int = 3) -> np.ndarray:
    """Land fraction [-] of each cell of a lon/lat grid, from ``samples²`` points per cell.

    The points are the centres of an even subdivision of each cell (cells bounded half-way
    between the centres); each is classified by ``global_land_mask.globe.is_land`` (the GLOBE 30″
    mask, see :data:`COASTLINE_SOURCE`). Loading the mask takes seconds and ~1 GB of memory.

    Parameters
    ----------
    lon, lat : array
        Cell-centre longitudes [°E, −180…180 or 0…360] and latitudes [°N], 1-D and monotonic.
    samples : int
        Points per cell side (≥ 1).

    Returns
    -------
    numpy.ndarray
        Shape (lat.size, lon.size), values in [0, 1].
    """
    from global_land_mask import globe

    if samples < 1:
        raise InputDataError("samples must be ≥ 1", field="samples", value=samples)
    ex, ey = _edges(np.asarray(lon, float)), _edges(np.asarray(lat, float))
    f = (np.arange(samples) + 0.5) / samples
    px = (ex[:-1, None] + np.diff(ex)[:, None] * f).ravel()  # (nx·s,)
    py = (ey[:-1, None] + np.diff(ey)[:, None] * f).ravel()  # (ny·s,)
    px = (px + 180.0) % 360.0 - 180.0
    py = np.clip(py, -90.0, 90.0)
    land = globe.is_land(py[:, None], px[None, :]).astype(float)
    ny, nx = np.size(lat), np.size(lon)
    return land.reshape(ny, samples, nx, samples).mean(axis=(1, 3))


def _is_dataarray(obj: Any) -> bool:
    return hasattr(obj, "dims") and hasattr(obj, "attrs") and hasattr(obj, "transpose")


def _yx(da: Any) -> Any:
    """A DataArray as (y, x): length-1 dims (e.g. one depth layer) squeezed."""
    da = da.squeeze()
    if set(da.dims) != {"y", "x"}:
        raise InputDataError("expected a (y, x) grid", field=str(da.name), value=list(da.dims))
    return da.transpose("y", "x")


def plot_map(
    values: np.ndarray | Mapping[str, np.ndarray] | object,
    lon: np.ndarray | None = None,
    lat: np.ndarray | None = None,
    *,
    units: str | None = None,
    label: str | None = None,
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    land: np.ndarray | bool | None = None,
    coast_samples: int = 3,
    title: str | None = None,
) -> Figure:
    """A longitude/latitude map with coastlines and a colour bar with units.

    Parameters
    ----------
    values : array (lat, lon), xarray.DataArray, or mapping of panel title to either
        Cell values on a regular geographic grid (EPSG:4326); NaN cells are left blank. Several
        panels (e.g. mean, 2.5 % and 97.5 % quantiles) share one colour scale and one colour
        bar. A DataArray with dims ``(y, x)`` brings its own coordinates and ``units`` (and,
        alone, its ``long_name``); with a mapping the first one's are used.
    lon, lat : array
        Cell-centre longitudes [°E] and latitudes [°N] (not needed for a DataArray).
    units : str
        Unit shown on the colour bar, e.g. ``"Mg C ha⁻¹"`` (required unless the DataArray has a
        ``units`` attribute; ``"1"`` or ``"-"`` for dimensionless values).
    label : str, optional
        Quantity named on the colour bar (default: the DataArray's ``long_name``, else none).
    vmin, vmax : float, optional
        Colour limits (default: the 2nd and 98th percentiles of the valid cells; the colour bar
        shows arrows where values lie beyond).
    land : array, DataArray or bool, optional
        Land fraction or land mask on the map's grid, whose 0.5 contour is drawn as the
        coastline; by default it is computed by :func:`land_fraction_on` (seconds, ~1 GB: pass a
        land fraction the workflow already has, e.g. from
        :func:`wholesoil.mapping.land_fraction`); ``False`` draws no coastline.
    coast_samples : int
        Sample points per cell side when the land fraction is computed here.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per panel plus the colour bar; the coastline is a contour set with gid
        ``"coastline"``.
    """
    long_name = None
    if _is_dataarray(values):
        da = _yx(values)
        units = units if units is not None else da.attrs.get("units")
        long_name = da.attrs.get("long_name", str(da.name) if da.name is not None else None)
        panels = {title or "": da}
        title = None
    elif isinstance(values, Mapping):
        panels = {str(k): v for k, v in values.items()}
    else:
        panels = {"": values}
    first = next(iter(panels.values()), None)
    if _is_dataarray(first):  # coordinates and units from the (first) DataArray
        first = _yx(first)
        lon = np.asarray(first["x"].values, float) if lon is None else lon
        lat = np.asarray(first["y"].values, float) if lat is None else lat
        units = units if units is not None else first.attrs.get("units")
    panels = {k: np.asarray(_yx(v).values if _is_dataarray(v) else v, float)
              for k, v in panels.items()}
    if units is None:
        raise InputDataError("a map needs the unit of its values for the colour bar (units=…; "
                             "'1' for dimensionless)", field="units")
    if lon is None or lat is None:
        raise InputDataError("lon and lat (cell centres) are needed with an array", field="lon")
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    for name, v in panels.items():
        if v.shape != (lat.size, lon.size):
            raise InputDataError(f"panel {name!r} has shape {v.shape}, expected (lat, lon) = "
                                 f"({lat.size}, {lon.size})", field=name or "values",
                                 value=v.shape)
    finite = np.concatenate([v[np.isfinite(v)] for v in panels.values()])
    if finite.size:
        lo, hi = np.percentile(finite, [2, 98])
        vmin = float(lo) if vmin is None else vmin
        vmax = float(hi) if vmax is None else vmax
        extend = {(False, False): "neither", (True, False): "min", (False, True): "max",
                  (True, True): "both"}[(bool(finite.min() < vmin), bool(finite.max() > vmax))]
    else:
        extend = "neither"
    coast = None
    if land is not False:
        coast = (land_fraction_on(lon, lat, coast_samples) if land is None or land is True
                 else np.asarray(_yx(land).values if _is_dataarray(land) else land, float))
        if coast.shape != (lat.size, lon.size):
            raise InputDataError(f"land has shape {coast.shape}, expected ({lat.size}, "
                                 f"{lon.size})", field="land", value=coast.shape)
    n = len(panels)
    span_x = float(np.ptp(lon)) or 1.0
    span_y = float(np.ptp(lat)) or 1.0
    wide = span_x > 2.0 * span_y  # wide maps are stacked, narrow ones side by side
    if wide:
        h = float(np.clip(9.0 * span_y / span_x, 1.2, 6.0)) + 0.6
        fig = Figure(figsize=(9.0, h * n + 1.1), layout="constrained")
        axes = fig.subplots(n, 1, squeeze=False, sharex=True, sharey=True)[:, 0]
    else:
        h = float(np.clip(4.2 * span_y / span_x, 1.6, 6.0))
        fig = Figure(figsize=(4.2 * n + 1.2, h + 1.3), layout="constrained")
        axes = fig.subplots(1, n, squeeze=False, sharex=True, sharey=True)[0]
    colours = matplotlib.colormaps[cmap].with_extremes(bad=(0.0, 0.0, 0.0, 0.0))
    ex, ey = _edges(lon), _edges(lat)
    mesh = None
    for ax, (name, v) in zip(axes, panels.items(), strict=True):
        mesh = ax.pcolormesh(ex, ey, np.ma.masked_invalid(v), cmap=colours, vmin=vmin,
                             vmax=vmax, shading="flat")
        if coast is not None and np.nanmin(coast) < 0.5 < np.nanmax(coast):
            cs = ax.contour(lon, lat, coast, levels=[0.5], colors="k", linewidths=0.7)
            cs.set_gid("coastline")
        ax.set_aspect(1.0)
        ax.set_xlim(ex.min(), ex.max())
        ax.set_ylim(ey.min(), ey.max())
        if name:
            ax.set_title(name, fontsize=9)
    axes[-1].set_xlabel("longitude [°E]")
    for ax in axes if wide else axes[:1]:
        ax.set_ylabel("latitude [°N]")
    if not wide:
        for ax in axes:
            ax.set_xlabel("longitude [°E]")
    quantity = label if label is not None else long_name
    cbar = fig.colorbar(mesh, ax=list(axes), extend=extend, shrink=0.9,
                        orientation="horizontal" if wide or n > 1 else "vertical")
    cbar.set_label(f"{quantity} [{units}]" if quantity else f"[{units}]")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig



# ---------------------------------------------------------------------------------- plotting
def plot_grid_map(
    da: xr.DataArray,
    path: PathLike,
    *,
    title: str | None = None,
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    label: str | None = None,
    max_pixels: int = 2000,
    dpi: int = 120,
) -> Path:
    """Draw a 2-D grid variable as a PNG map (longitude/latitude axes), atomically.

    Parameters
    ----------
    da : xarray.DataArray
        Dims ``(y, x)`` (a ``depth`` dim of length 1 is squeezed).
    path : str or path-like
        Target image; the format follows the suffix (PNG by default).
    title : str, optional
        Figure title (default: the variable's long_name).
    cmap : str
        Matplotlib colour map; NaN cells are transparent.
    vmin, vmax : float, optional
        Colour limits (default: the 2nd and 98th percentiles of the valid cells).
    label : str, optional
        Colour-bar label (default: ``"{long_name} [{units}]"``).
    max_pixels : int
        Grids wider or taller than this are block-averaged (NaN-aware) before drawing, so a
        dask-backed grid is reduced lazily and never loaded whole.
    dpi : int
        Resolution of the image.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    if "depth" in da.dims:
        if da.sizes["depth"] != 1:
            raise InputDataError(
                "select one depth layer to draw (da.isel(depth=k))",
                field=str(da.name),
                value=int(da.sizes["depth"]),
            )
        da = da.isel(depth=0)
    if set(da.dims) != {"y", "x"}:
        raise InputDataError("expected a (y, x) grid", field=str(da.name), value=list(da.dims))
    da = da.transpose("y", "x")
    geo = True if da.rio.crs is None else bool(da.rio.crs.is_geographic)
    g = _Geometry(None, np.asarray(da["x"].values, float), np.asarray(da["y"].values, float))
    west, east, south, north = g.extent
    fy = max(1, math.ceil(da.sizes["y"] / max_pixels))
    fx = max(1, math.ceil(da.sizes["x"] / max_pixels))
    if fy > 1 or fx > 1:
        da = da.coarsen(y=fy, x=fx, boundary="pad").mean(skipna=True)
    values = np.asarray(da.values, dtype=float)
    if da["y"].values[0] < da["y"].values[-1]:
        values = values[::-1]
    valid = values[np.isfinite(values)]
    if valid.size:
        lo, hi = np.percentile(valid, [2, 98])
        vmin = float(lo) if vmin is None else vmin
        vmax = float(hi) if vmax is None else vmax
    colours = mpl.colormaps[cmap].with_extremes(bad=(0.0, 0.0, 0.0, 0.0))
    units = da.attrs.get("units", "")
    long_name = da.attrs.get("long_name", str(da.name))
    # figure shaped like the map; a wide map gets its colour bar underneath
    ratio = (north - south) / max(east - west, 1e-12)
    wide = ratio < 0.6
    fig = Figure(figsize=(9.0, float(np.clip(9.0 * ratio + (2.2 if wide else 1.2), 3.0, 9.0))))
    ax = fig.subplots()
    im = ax.imshow(
        np.ma.masked_invalid(values),
        extent=(west, east, south, north),
        origin="upper",
        cmap=colours,
        vmin=vmin,
        vmax=vmax,
        interpolation="nearest",
        aspect="equal" if not geo else "auto",
    )
    if geo:
        ax.set_xlabel("longitude [°E]")
        ax.set_ylabel("latitude [°N]")
        ax.set_aspect(1.0)
    else:
        ax.set_xlabel("x [m]")
        ax.set_ylabel("y [m]")
    ax.set_title(title if title is not None else long_name)
    cbar = fig.colorbar(im, ax=ax, shrink=0.8, orientation="horizontal" if wide else "vertical",
                        fraction=0.08 if wide else 0.05, pad=0.18 if wide else 0.04)
    cbar.set_label(
        label if label is not None else (f"{long_name} [{units}]" if units else long_name)
    )
    fig.tight_layout()
    return save_figure(fig, path, dpi=dpi)

