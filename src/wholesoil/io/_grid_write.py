"""Grids, writing: NetCDF-CF 1.8 (:func:`write_netcdf`) and one Cloud-Optimized GeoTIFF per
variable and depth layer with SoilGrids-like names (:func:`write_cogs`, :func:`cog_name`); both
write atomically. Reading and regridding are in :mod:`wholesoil.io._grid`.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from wholesoil._atomic import atomic_path
from wholesoil.errors import InputDataError
from wholesoil.io._grid import (
    _STAT_TOKEN,
    CF_DEPTH_ATTRS,
    CF_XY_ATTRS,
    COG_OPTIONS,
    NETCDF_COMPRESSION,
    PathLike,
    _Geometry,
)


# ------------------------------------------------------------------------------------ writing
def _attr_value(v: Any) -> Any:
    """An attribute value that netCDF can store (str, number or 1-D numeric array)."""
    if isinstance(v, bool | np.bool_):
        return int(v)
    if isinstance(v, str | int | float | np.number):
        return v
    if isinstance(v, list | tuple) and all(isinstance(e, str) for e in v):
        return "\n".join(v)
    if isinstance(v, list | tuple | np.ndarray):
        a = np.asarray(v)
        if a.dtype.kind in "iuf" and a.ndim == 1:
            return a
    if isinstance(v, Mapping | list | tuple):
        return json.dumps(v, default=str)
    return str(v)


def _clean_attrs(attrs: Mapping[Hashable, Any]) -> dict[str, Any]:
    return {str(k): _attr_value(v) for k, v in attrs.items() if v is not None}


def _depth_bounds(ds: xr.Dataset) -> np.ndarray:
    """(top, bottom) [cm] of each depth layer, from depth_bnds, top/bottom coords or attrs."""
    n = ds.sizes["depth"]
    if "depth_bnds" in ds.variables:
        b = np.asarray(ds["depth_bnds"].values, dtype=float)
    elif "top" in ds.coords and "bottom" in ds.coords:
        b = np.stack([ds["top"].values, ds["bottom"].values], axis=-1).astype(float)
    elif {"top", "bottom"} <= set(ds["depth"].attrs):
        b = np.stack(
            [np.atleast_1d(ds["depth"].attrs["top"]), np.atleast_1d(ds["depth"].attrs["bottom"])],
            axis=-1,
        ).astype(float)
    else:
        raise InputDataError(
            "a depth dimension needs layer bounds: a 'depth_bnds' (depth, 2) variable, "
            "'top'/'bottom' coordinates or depth attrs top/bottom [cm]",
            field="depth",
        )
    if b.shape != (n, 2) or np.any(b[:, 1] <= b[:, 0]):
        raise InputDataError(
            f"depth bounds must be {n} (top, bottom) pairs with bottom > top [cm]",
            field="depth_bnds",
            value=b.tolist(),
        )
    return b


def _canonical_for_output(ds: xr.Dataset | xr.DataArray) -> xr.Dataset:
    """Copy of ``ds`` with CF coordinate attributes, the CRS and depth bounds in place."""
    if isinstance(ds, xr.DataArray):
        ds = ds.to_dataset(name=ds.name if ds.name is not None else "value")
    if ds.rio.crs is None:
        raise InputDataError("the grid has no CRS; set one with ds.rio.write_crs(...)")
    crs = ds.rio.crs
    out = ds.copy()
    drop = [c for c in ("top", "bottom") if c in out.coords and "depth" in out.dims]
    out = out.drop_vars(drop)
    grid_vars = [v for v in out.data_vars if {"y", "x"} <= set(out[v].dims)]
    if not grid_vars:
        raise InputDataError(
            "the grid has no variable with dims (y, x)", value=sorted(map(str, out.data_vars))
        )
    kind = "geographic" if crs.is_geographic else "projected"
    for ax in ("x", "y"):
        out[ax].attrs = dict(CF_XY_ATTRS[kind][ax])
    if "depth" in out.dims:
        b = _depth_bounds(ds)
        out = out.drop_vars([v for v in ("depth_bnds",) if v in out.variables])
        out = out.assign_coords(depth=("depth", (b[:, 0] + b[:, 1]) / 2.0))
        out["depth"].attrs = dict(CF_DEPTH_ATTRS)
        out["depth_bnds"] = xr.DataArray(
            b, dims=("depth", "nv"), attrs={"units": "cm", "long_name": "layer top and bottom"}
        )
        out = out.set_coords("depth_bnds")
    out = out.drop_vars([c for c in out.coords if c == "spatial_ref"])
    out = out.rio.write_crs(crs)
    # geotransform of the north-up grid (GDAL reads it from spatial_ref's GeoTransform)
    g = _Geometry(crs, np.asarray(out["x"].values, float), np.asarray(out["y"].values, float))
    out = out.rio.write_transform(g.transform())
    for v in grid_vars:
        da = out[v]
        da.attrs.setdefault("long_name", str(v))
        da.attrs.setdefault("units", "1")
    return out


def write_netcdf(ds: xr.Dataset | xr.DataArray, path: PathLike) -> Path:
    """Write a grid as NetCDF-CF 1.8 (NETCDF4, compressed), atomically.

    Parameters
    ----------
    ds : xarray.Dataset
        A canonical grid (CRS set). A ``depth`` dimension needs layer bounds (a ``depth_bnds``
        variable, ``top``/``bottom`` coordinates or depth attrs ``top``/``bottom`` [cm]).
    path : str or path-like
        Target file (``.nc``); parent folders are created.

    Returns
    -------
    pathlib.Path
        ``path``.

    Notes
    -----
    The file carries ``Conventions = "CF-1.8"``; a grid-mapping variable ``spatial_ref`` with
    ``crs_wkt`` and ``spatial_ref`` (WKT) and the CF grid-mapping parameters, plus GDAL's
    ``GeoTransform``; x/y with CF standard names and units (longitude/degrees_east and
    latitude/degrees_north when geographic, projection_x/y_coordinate in m otherwise); data
    variables with ``grid_mapping``, ``units``, ``long_name``, ``_FillValue`` (netCDF's default
    fill) and zlib compression; depth (layer midpoints [cm], positive down) with
    ``bounds = "depth_bnds"``. Dataset attrs that netCDF cannot store (lists of strings, dicts)
    are written as newline-joined text or JSON.
    """
    import netCDF4

    target = Path(path)
    out = _canonical_for_output(ds)
    attrs = dict(ds.attrs) if isinstance(ds, xr.Dataset) else {}
    # the grid mapping and the depth bounds are written as plain variables, so that no data
    # variable lists them in a CF "coordinates" attribute (they are found through its
    # grid_mapping and depth's bounds attributes; xarray's decode_coords="all" restores both)
    out = out.reset_coords([c for c in ("spatial_ref", "depth_bnds") if c in out.coords])
    out.attrs = _clean_attrs(attrs)
    out.attrs["Conventions"] = "CF-1.8"
    encoding: dict[str, dict[str, Any]] = {}
    for name, var in out.variables.items():
        var.attrs = _clean_attrs(var.attrs)
        var.encoding = {}
        if name in out.data_vars and {"y", "x"} <= set(var.dims):
            var.attrs["grid_mapping"] = "spatial_ref"
            dtype = np.dtype(var.dtype)
            if dtype.kind == "f":
                fill = netCDF4.default_fillvals[f"f{dtype.itemsize}"]
            elif dtype.kind in "iu":
                fill = netCDF4.default_fillvals[f"{dtype.kind}{dtype.itemsize}"]
            else:
                fill = None
            enc: dict[str, Any] = {"_FillValue": fill, **NETCDF_COMPRESSION}
            # on-disk chunks: 512 × 512 cells of one layer, so a reader's window stays small
            enc["chunksizes"] = tuple(
                min(var.sizes[d], 512) if d in ("y", "x") else 1 for d in var.dims
            )
            encoding[str(name)] = enc
        elif name in out.data_vars:
            encoding[str(name)] = {"_FillValue": None}
        else:  # coordinates: CF forbids missing values in coordinate variables
            encoding[str(name)] = {"_FillValue": None}
    with atomic_path(target) as tmp:
        out.to_netcdf(tmp, format="NETCDF4", engine="netcdf4", encoding=encoding)
    return target


def _split_name(name: str) -> tuple[str, str]:
    """``soc_density_Q0.05_coulston`` → (``soc_density``, ``Q0.05_coulston``)."""
    parts = name.split("_")
    for i in range(1, len(parts)):
        if _STAT_TOKEN.match(parts[i]):
            return "_".join(parts[:i]), "_".join(parts[i:])
    return name, ""


def _layer_label(top: float, bottom: float) -> str:
    return f"{top:g}-{bottom:g}cm"


def cog_name(variable: str, layer: tuple[float, float] | None = None) -> str:
    """SoilGrids-like COG file name of a variable (and depth layer).

    ``cog_name("soc_mean", (0, 30))`` → ``"soc_0-30cm_mean.tif"``; ``cog_name("beta_mean")`` →
    ``"beta_mean.tif"``; the method suffix stays last: ``soc_0-30cm_Q0.05_coulston.tif``.
    """
    if layer is None:
        return f"{variable}.tif"
    prop, stat = _split_name(variable)
    label = _layer_label(*layer)
    return f"{prop}_{label}_{stat}.tif" if stat else f"{prop}_{label}.tif"


def write_cogs(ds: xr.Dataset | xr.DataArray, folder: PathLike) -> list[Path]:
    """Write one Cloud-Optimized GeoTIFF per variable and depth layer, atomically.

    Parameters
    ----------
    ds : xarray.Dataset
        A canonical grid; variables with dims ``(y, x)`` or ``(depth, y, x)``.
    folder : str or path-like
        Output folder (created).

    Returns
    -------
    list of pathlib.Path
        The files written, named as SoilGrids does: ``{property}_{top}-{bottom}cm_{stat}.tif``
        for layered variables (``soc_0-30cm_mean.tif``, ``soc_0-30cm_Q0.05.tif``), else
        ``{variable}.tif``.

    Notes
    -----
    GDAL's COG driver (through rasterio), float32, nodata NaN, DEFLATE with the floating-point
    predictor, 512-cell tiles and averaged overviews (:data:`COG_OPTIONS`); north-up. The band
    description is the variable name; ``units``, ``long_name`` and the interval attributes are
    stored as band tags, the layer as ``depth_top``/``depth_bottom`` [cm].
    """
    out = _canonical_for_output(ds)
    crs = out.rio.crs
    base = Path(folder)
    base.mkdir(parents=True, exist_ok=True)
    if out["y"].values[0] < out["y"].values[-1]:
        out = out.isel(y=slice(None, None, -1))
    g = _Geometry(crs, np.asarray(out["x"].values, float), np.asarray(out["y"].values, float))
    transform = g.transform()
    written: list[Path] = []
    for name in [str(v) for v in out.data_vars if {"y", "x"} <= set(out[v].dims)]:
        da = out[name]
        extra = [d for d in da.dims if d not in ("depth", "y", "x")]
        if extra:
            raise InputDataError(
                "write_cogs writes (y, x) or (depth, y, x) variables; select the other dims first",
                field=name,
                value=extra,
            )
        if "depth" in da.dims:
            bnds = out["depth_bnds"].values
            layers = [(k, (float(bnds[k, 0]), float(bnds[k, 1]))) for k in range(da.sizes["depth"])]
        else:
            layers = [(None, None)]
        for k, layer in layers:
            arr = da if k is None else da.isel(depth=k)
            target = base / cog_name(name, layer)
            tags = {a: str(v) for a, v in _clean_attrs(da.attrs).items() if a != "grid_mapping"}
            tags["variable"] = name
            if layer is not None:
                tags["depth_top"], tags["depth_bottom"] = f"{layer[0]:g}", f"{layer[1]:g}"
            _write_cog(np.asarray(arr.values, dtype=np.float32), target, crs, transform, name, tags)
            written.append(target)
    return written


def _write_cog(
    data: np.ndarray, target: Path, crs: Any, transform: Any, name: str, tags: dict[str, str]
) -> None:
    import rasterio.shutil
    from rasterio.io import MemoryFile

    profile = {
        "driver": "GTiff",
        "height": data.shape[0],
        "width": data.shape[1],
        "count": 1,
        "dtype": "float32",
        "crs": crs,
        "transform": transform,
        "nodata": np.nan,
    }
    with MemoryFile() as mem:
        with mem.open(**profile) as tmp_ds:
            tmp_ds.write(data, 1)
            tmp_ds.set_band_description(1, name)
            if "units" in tags:
                tmp_ds.set_band_unit(1, tags["units"])
            tmp_ds.update_tags(1, **tags)
        with mem.open() as src, atomic_path(target) as tmp:
            rasterio.shutil.copy(src, tmp, driver="COG", **COG_OPTIONS)

__all__ = ["cog_name", "write_cogs", "write_netcdf"]
