"""Grids: read covariate rasters into one canonical Dataset, write NetCDF-CF and COGs, map them.

The canonical in-memory grid is an :class:`xarray.Dataset` whose 2-D variables have dims
``("y", "x")`` (layered outputs ``("depth", "y", "x")``): ``x``, ``y`` are 1-D cell-centre
coordinates on a regular spacing (``y`` descending, north-up, or ascending), the CRS is carried
the rioxarray way (a ``spatial_ref`` coordinate with ``crs_wkt``; every data variable has
``grid_mapping="spatial_ref"``), geographic grids are EPSG:4326 with x = longitude and
y = latitude, every variable has ``units`` and ``long_name``, and missing cells are NaN.

:func:`read_grid` gathers GeoTIFF and NetCDF files into that form; grids that differ from the
first one (or from a template) are reprojected onto it *block by block* (each destination
block warps only the source window it needs, so a dask-backed grid stays lazy and bounded in
memory) and every such change is recorded in ``ds.attrs["messages"]``.
:func:`write_netcdf` writes NetCDF-CF 1.8 and :func:`write_cogs` one Cloud-Optimized GeoTIFF
per variable and depth layer with SoilGrids-like names; both write atomically.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from wholesoil.errors import InputDataError

PathLike = str | os.PathLike[str]
GridSource = PathLike | Sequence[PathLike] | Mapping[str, PathLike]

#: NetCDF dimension/coordinate names read as the canonical ``y`` / ``x``.
NETCDF_AXIS_NAMES: dict[str, str] = {
    "lat": "y",
    "latitude": "y",
    "lon": "x",
    "longitude": "x",
}

#: CF attributes of the horizontal coordinates (CF conventions 1.8, sections 4.1-4.2 and
#: Appendix A): geographic grids use longitude/latitude, projected grids the projection axes.
CF_XY_ATTRS: dict[str, dict[str, dict[str, str]]] = {
    "geographic": {
        "x": {
            "standard_name": "longitude",
            "long_name": "longitude",
            "units": "degrees_east",
            "axis": "X",
        },
        "y": {
            "standard_name": "latitude",
            "long_name": "latitude",
            "units": "degrees_north",
            "axis": "Y",
        },
    },
    "projected": {
        "x": {
            "standard_name": "projection_x_coordinate",
            "long_name": "x coordinate of projection",
            "units": "m",
            "axis": "X",
        },
        "y": {
            "standard_name": "projection_y_coordinate",
            "long_name": "y coordinate of projection",
            "units": "m",
            "axis": "Y",
        },
    },
}

#: CF attributes of the depth coordinate (layer midpoints, CF 1.8 section 4.3 and 7.1).
CF_DEPTH_ATTRS: dict[str, str] = {
    "standard_name": "depth",
    "long_name": "depth of the layer midpoint below the soil surface",
    "units": "cm",
    "positive": "down",
    "axis": "Z",
    "bounds": "depth_bnds",
}

#: Statistic tokens of SoilGrids-like variable names ``{property}_{stat}[_{method}]``.
_STAT_TOKEN = re.compile(r"^(mean|median|sd|std|uncertainty|lower|upper|Q\d+(\.\d+)?)$")

#: Creation options of the COGs (GDAL COG driver, https://gdal.org/drivers/raster/cog.html):
#: DEFLATE with the floating-point predictor, 512-cell tiles, averaged overviews.
COG_OPTIONS: dict[str, str] = {
    "compress": "DEFLATE",
    "predictor": "YES",
    "blocksize": "512",
    "overview_resampling": "AVERAGE",
    "bigtiff": "IF_SAFER",
}

#: NetCDF compression of data variables (zlib level 4 with byte shuffle).
NETCDF_COMPRESSION: dict[str, Any] = {"zlib": True, "complevel": 4, "shuffle": True}


# ----------------------------------------------------------------------------- grid geometry
@dataclass(frozen=True)
class _Geometry:
    """Where a grid lies: its CRS and cell-centre coordinates (in the order stored)."""

    crs: Any  # rasterio.crs.CRS
    x: np.ndarray
    y: np.ndarray

    @property
    def res(self) -> tuple[float, float]:
        return _spacing(self.x, "x"), _spacing(self.y, "y")

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """Cell-edge extent (west, east, south, north) in CRS units."""
        dx, dy = self.res
        return (
            float(self.x.min() - dx / 2),
            float(self.x.max() + dx / 2),
            float(self.y.min() - dy / 2),
            float(self.y.max() + dy / 2),
        )

    @property
    def geographic(self) -> bool:
        return bool(self.crs.is_geographic)

    def transform(self) -> Any:
        """Affine transform of the north-up (y descending) version of the grid."""
        from affine import Affine

        west, _, _, north = self.extent
        dx, dy = self.res
        return Affine(dx, 0.0, west, 0.0, -dy, north)


def _spacing(c: np.ndarray, axis: str, file: str | None = None) -> float:
    if c.size < 2:
        raise InputDataError(
            f"a grid needs at least 2 cells along {axis} to define its spacing",
            file=file,
            field=axis,
            value=int(c.size),
        )
    d = np.diff(c.astype(float))
    step = float(np.abs(d).mean())
    if not (np.all(d > 0) or np.all(d < 0)) or np.max(np.abs(np.abs(d) - step)) > 1e-6 * step:
        raise InputDataError(
            f"expected a regularly spaced, monotonic {axis} coordinate (cell centres)",
            file=file,
            field=axis,
            value=f"spacings from {float(np.abs(d).min()):g} to {float(np.abs(d).max()):g}",
        )
    return step


def _geometry(obj: xr.Dataset | xr.DataArray, file: str | None = None) -> _Geometry:
    crs = obj.rio.crs
    if crs is None:
        raise InputDataError("grid has no CRS (no grid_mapping / spatial_ref)", file=file)
    x = np.asarray(obj["x"].values, dtype=float)
    y = np.asarray(obj["y"].values, dtype=float)
    _spacing(x, "x", file)
    _spacing(y, "y", file)
    return _Geometry(crs=crs, x=x, y=y)


def _crs_name(crs: Any) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg is not None else (crs.to_string()[:60] or "unnamed CRS")


def _fmt_len(v: float, geographic: bool) -> str:
    return f"{v:g}°" if geographic else f"{v:g} m"


def _fmt_extent(g: _Geometry) -> str:
    w, e, s, n = g.extent
    if g.geographic:
        return f"x {w:g}…{e:g}°, y {s:g}…{n:g}°"
    return f"x {w:.0f}…{e:.0f} m, y {s:.0f}…{n:.0f} m"


def _differences(g: _Geometry, ref: _Geometry) -> list[str]:
    """What differs between a grid and the reference: CRS, resolution, extent (in words)."""
    out = []
    if g.crs != ref.crs:
        out.append(f"CRS {_crs_name(g.crs)} → {_crs_name(ref.crs)}")
    (dx, dy), (rx, ry) = g.res, ref.res
    if not (math.isclose(dx, rx, rel_tol=1e-6) and math.isclose(dy, ry, rel_tol=1e-6)):
        a = (
            _fmt_len(dx, g.geographic)
            if math.isclose(dx, dy)
            else (f"{_fmt_len(dx, g.geographic)} × {_fmt_len(dy, g.geographic)}")
        )
        b = (
            _fmt_len(rx, ref.geographic)
            if math.isclose(rx, ry)
            else (f"{_fmt_len(rx, ref.geographic)} × {_fmt_len(ry, ref.geographic)}")
        )
        out.append(f"resolution {a} → {b}")
    tol = 1e-6 * min(rx, ry)
    if g.crs != ref.crs or not np.allclose(g.extent, ref.extent, rtol=0, atol=tol):
        out.append(f"extent {_fmt_extent(g)} → {_fmt_extent(ref)}")
    return out


# ------------------------------------------------------------------------- block reprojection
def _resampling(method: str) -> Any:
    from rasterio.enums import Resampling

    try:
        return Resampling[method]
    except KeyError:
        raise InputDataError(
            f"method must be one of rasterio's resampling names {sorted(Resampling.__members__)}",
            field="method",
            value=method,
        ) from None


def _warp_block(
    src: np.ndarray,
    src_transform: Any,
    src_crs: Any,
    dst_transform: Any,
    dst_crs: Any,
    shape: tuple[int, ...],
    resampling: Any,
    dtype: Any,
) -> np.ndarray:
    """Warp one source window onto one destination block with GDAL (rasterio.warp)."""
    from rasterio.warp import reproject

    lead = shape[:-2]
    n = int(np.prod(lead)) if lead else 1
    s = np.ascontiguousarray(np.asarray(src, dtype=dtype).reshape((n, *src.shape[-2:])))
    dst = np.full((n, *shape[-2:]), np.nan, dtype=dtype)
    reproject(
        source=s,
        destination=dst,
        src_transform=src_transform,
        src_crs=src_crs,
        dst_transform=dst_transform,
        dst_crs=dst_crs,
        src_nodata=np.nan,
        dst_nodata=np.nan,
        resampling=resampling,
        num_threads=1,
    )
    return dst.reshape(shape)


def _source_window(
    src: _Geometry, dst: _Geometry, r0: int, r1: int, c0: int, c1: int
) -> tuple[int, int, int, int] | None:
    """Rows/columns of the north-up source needed for destination rows r0:r1, cols c0:c1."""
    from rasterio.warp import transform_bounds

    dt = dst.transform()
    west, north = dt @ (c0, r0)
    east, south = dt @ (c1, r1)
    try:
        left, b, r, t = transform_bounds(dst.crs, src.crs, west, south, east, north, densify_pts=21)
    except Exception:  # a block outside the source CRS's domain: take the whole source
        return 0, src.y.size, 0, src.x.size
    if not all(map(math.isfinite, (left, b, r, t))):
        return 0, src.y.size, 0, src.x.size
    st = src.transform()
    sx, sy = src.res
    if r < left:  # crosses the antimeridian of a geographic source: take every column
        left, r = st.c, st.c + sx * src.x.size
    col_a = (left - st.c) / sx
    col_b = (r - st.c) / sx
    row_a = (st.f - t) / sy
    row_b = (st.f - b) / sy
    # margin: the resampling kernel (2 destination cells in source cells, at least 2) + 2
    scale = max((col_b - col_a) / max(c1 - c0, 1), (row_b - row_a) / max(r1 - r0, 1), 1.0)
    m = math.ceil(2 * scale) + 2
    ca, cb = max(math.floor(col_a) - m, 0), min(math.ceil(col_b) + m, src.x.size)
    ra, rb = max(math.floor(row_a) - m, 0), min(math.ceil(row_b) + m, src.y.size)
    if ca >= cb or ra >= rb:
        return None
    return ra, rb, ca, cb


def _reproject(
    da: xr.DataArray,
    src: _Geometry,
    dst: _Geometry,
    method: str,
    dst_chunks: tuple[tuple[int, ...], tuple[int, ...]] | None,
) -> xr.DataArray:
    """Reproject ``da`` (dims ``(..., y, x)``) onto ``dst`` block by block.

    Each destination block is warped by GDAL from the source window that covers it (its
    bounds transformed into the source CRS, plus a margin wider than the resampling kernel),
    so a dask-backed source stays lazy and a task holds one window, never the whole grid. With
    numpy data and no ``dst_chunks`` the whole grid is one block.
    """
    import dask
    import dask.array as dsa
    from affine import Affine

    resampling = _resampling(method)
    dtype = np.result_type(da.dtype, np.float32)
    # north-up source (GDAL wants a geotransform with negative dy)
    if src.y[0] < src.y[-1]:
        da = da.isel(y=slice(None, None, -1))
        src = _Geometry(src.crs, src.x, src.y[::-1])
    lead_dims = [d for d in da.dims if d not in ("y", "x")]
    da = da.transpose(*lead_dims, "y", "x")
    lead_shape = tuple(da.sizes[d] for d in lead_dims)
    ascending = dst.y[0] < dst.y[-1]
    dst_up = _Geometry(dst.crs, dst.x, np.sort(dst.y)[::-1])
    ny, nx = dst_up.y.size, dst_up.x.size
    st, dt = src.transform(), dst_up.transform()
    lazy = dask.is_dask_collection(da.data) or dst_chunks is not None
    ychunks, xchunks = dst_chunks if dst_chunks is not None else ((ny,), (nx,))
    if ascending:  # blocks are laid out on the north-up grid; keep the caller's chunk sizes
        ychunks = tuple(reversed(ychunks))

    rows = np.cumsum((0, *ychunks))
    cols = np.cumsum((0, *xchunks))
    grid_blocks = []
    for r0, r1 in itertools.pairwise(rows):
        row_blocks = []
        for c0, c1 in itertools.pairwise(cols):
            shape = (*lead_shape, int(r1 - r0), int(c1 - c0))
            win = _source_window(src, dst_up, int(r0), int(r1), int(c0), int(c1))
            if win is None:
                block: Any = (
                    dsa.full(shape, np.nan, dtype=dtype) if lazy else np.full(shape, np.nan, dtype)
                )
            else:
                ra, rb, ca, cb = win
                sub = da.data[..., ra:rb, ca:cb]
                args = (
                    st @ Affine.translation(ca, ra),
                    src.crs,
                    dt @ Affine.translation(int(c0), int(r0)),
                    dst_up.crs,
                    shape,
                    resampling,
                    dtype,
                )
                if lazy:
                    block = dsa.from_delayed(
                        dask.delayed(_warp_block, pure=True)(sub, *args), shape, dtype=dtype
                    )
                else:
                    block = _warp_block(np.asarray(sub), *args)
            row_blocks.append(block)
        grid_blocks.append(row_blocks)
    if lazy:
        data = dsa.block(grid_blocks)
        if ascending:
            data = data[..., ::-1, :]
    else:
        data = (
            np.block(grid_blocks)
            if len(grid_blocks) > 1 or len(grid_blocks[0]) > 1
            else (grid_blocks[0][0])
        )
        if ascending:
            data = data[..., ::-1, :]
    coords = {d: da[d] for d in lead_dims if d in da.coords}
    coords.update({"y": dst.y, "x": dst.x})
    return xr.DataArray(data, dims=(*lead_dims, "y", "x"), coords=coords, attrs=dict(da.attrs))


# ------------------------------------------------------------------------------------ reading
def _as_entries(source: GridSource) -> list[tuple[str | None, Path]]:
    """(name or None, path) pairs of a source: file, directory, list of paths or dict."""
    if isinstance(source, Mapping):
        return [(str(k), Path(v)) for k, v in source.items()]
    if isinstance(source, str | os.PathLike):
        p = Path(source)
        if p.is_dir():
            files = sorted(
                f for f in p.iterdir() if f.is_file() and f.suffix.lower() in (".tif", ".tiff")
            )
            if not files:
                raise InputDataError("directory holds no .tif/.tiff files", file=str(p))
            return [(None, f) for f in files]
        return [(None, p)]
    if isinstance(source, Iterable):
        return [(None, Path(s)) for s in source]
    raise InputDataError(
        "source must be a path, a directory, a list of paths or a dict name → path",
        value=type(source).__name__,
    )


def _chunk_dict(chunks: Any, dims: Mapping[str, str]) -> Any:
    """Chunk spec keyed by the file's own dim names; ``dims`` maps canonical → file name."""
    if chunks is None:
        return None
    if isinstance(chunks, Mapping):
        return {dims.get(str(k), str(k)): v for k, v in chunks.items()}
    return {dims["y"]: chunks, dims["x"]: chunks}


def _read_tif(
    path: Path, key: str | None, chunks: Any
) -> tuple[dict[str, xr.DataArray], list[str], dict[str, xr.DataArray]]:
    import rasterio
    import rioxarray

    with rasterio.open(path) as src:
        descriptions = list(src.descriptions)
        units = list(src.units)
        tags = [src.tags(k + 1) for k in range(src.count)]
        has_crs = src.crs is not None
    if not has_crs:
        raise InputDataError(
            "GeoTIFF has no CRS; assign one (e.g. gdal_edit.py -a_srs)", file=str(path)
        )
    chunk = None if chunks is None else {"band": 1, **_chunk_dict(chunks, {"y": "y", "x": "x"})}
    arr = rioxarray.open_rasterio(path, masked=True, chunks=chunk)
    stem = key or path.stem
    n = arr.sizes["band"]
    if n == 1:
        names = [stem]
    elif all(descriptions) and len(set(descriptions)) == n:
        names = [f"{key}_{d}" if key else str(d) for d in descriptions]
    else:
        names = [f"{stem}_b{k + 1}" for k in range(n)]
    out = {}
    for k, name in enumerate(names):
        da = arr.isel(band=k, drop=True)
        attrs = {
            a: v
            for a, v in da.attrs.items()
            if a not in ("_FillValue", "long_name", "units", "AREA_OR_POINT")
        }
        attrs.update({t: v for t, v in tags[k].items() if t not in ("AREA_OR_POINT",)})
        if units[k]:
            attrs["units"] = units[k]
        attrs.setdefault("long_name", descriptions[k] or name)
        attrs["source"] = str(path)
        da.attrs = attrs
        da.encoding = {}
        out[name] = da
    return out, [], {}


def _read_nc(
    path: Path, key: str | None, chunks: Any
) -> tuple[dict[str, xr.DataArray], list[str], dict[str, xr.DataArray]]:
    messages: list[str] = []
    from wholesoil._outputs import note_input

    note_input(path)
    if Path(path).is_file() and Path(path).stat().st_size == 0:
        raise InputDataError("file is empty (0 bytes), expected a NetCDF grid", file=str(path))
    try:
        with xr.open_dataset(path, decode_coords="all") as probe:
            names = {str(d) for d in (*probe.dims, *probe.variables)}
    except (OSError, ValueError) as exc:  # xarray: "no backend …", netCDF4: "NetCDF: HDF error"
        raise InputDataError(
            f"cannot read the file as NetCDF ({type(exc).__name__}: {' '.join(str(exc).split())})",
            file=str(path),
        ) from exc
    rename = {k: v for k, v in NETCDF_AXIS_NAMES.items() if k in names}
    inverse = {v: k for k, v in rename.items()}
    file_dims = {"y": inverse.get("y", "y"), "x": inverse.get("x", "x")}
    # open lazily on the file's own chunks, then rechunk to the blocks asked for (asking
    # open_dataset for blocks that cut the stored chunks only warns and helps nothing)
    want = _chunk_dict(chunks, file_dims)
    ds = xr.open_dataset(path, decode_coords="all", chunks=None if want is None else {})
    if want is not None:
        ds = ds.chunk(want)
    ds = ds.rename(rename)
    if "x" not in ds.dims or "y" not in ds.dims:
        raise InputDataError(
            "expected grid dims lat/lon, latitude/longitude or y/x",
            file=str(path),
            value=sorted(map(str, ds.dims)),
        )
    crs = ds.rio.crs
    if crs is None:
        if {"lat", "latitude"} & names and {"lon", "longitude"} & names:
            messages.append(f"{path.name}: no CRS in the file; lat/lon taken as EPSG:4326 (WGS 84)")
            crs = "EPSG:4326"
        else:
            raise InputDataError(
                "NetCDF grid has no CRS (no grid_mapping variable with crs_wkt) and its "
                "coordinates are not lat/lon",
                file=str(path),
            )
    grid_vars = [v for v, da in ds.data_vars.items() if {"y", "x"} <= set(da.dims)]
    other = [str(v) for v in ds.data_vars if v not in grid_vars and v != "depth_bnds"]
    gm = {
        str(da.attrs.get("grid_mapping", da.encoding.get("grid_mapping", "")))
        for da in ds.data_vars.values()
    } - {""}
    other = [v for v in other if v not in gm]
    if other:
        messages.append(f"{path.name}: not grids (no y/x dims), not read: {', '.join(other)}")
    if not grid_vars:
        raise InputDataError(
            "NetCDF file holds no variable with y/x (lat/lon) dims", file=str(path)
        )
    ds = ds.rio.write_crs(crs)
    out = {}
    for v in grid_vars:
        da = ds[v]
        name = str(v) if key is None else (key if len(grid_vars) == 1 else f"{key}_{v}")
        drop = [c for c in da.coords if c not in da.dims and c != "depth_bnds"]
        da = da.drop_vars(drop)
        da.attrs = {a: val for a, val in da.attrs.items() if a not in ("grid_mapping",)}
        da.attrs.setdefault("long_name", str(v))
        da.attrs["source"] = str(path)
        da.encoding = {}
        out[name] = da.rio.write_crs(crs)
    extras = {}
    if "depth_bnds" in ds.variables and "depth" in ds.dims:
        extras["depth_bnds"] = ds["depth_bnds"].reset_coords(drop=True).load()
    return out, messages, extras


def _template_geometry(template: Any) -> tuple[_Geometry, str]:
    if isinstance(template, xr.Dataset | xr.DataArray):
        return _geometry(template, "template"), "template"
    ds = read_grid(template, chunks={"y": 1024, "x": 1024})
    return _geometry(ds), str(template)


def read_grid(
    source: GridSource,
    *,
    variables: Sequence[str] | None = None,
    template: Any = None,
    regrid: bool = True,
    method: str = "bilinear",
    chunks: Any = None,
) -> xr.Dataset:
    """Read covariate grids (GeoTIFF, NetCDF) into one canonical Dataset on one grid.

    Parameters
    ----------
    source : path, directory, list of paths or dict name → path
        A ``.nc`` file, a ``.tif`` file, a directory of ``.tif`` files (sorted by name), a list
        of such files, or a dict naming each file's variable. A single-band GeoTIFF gives a
        variable named by the file stem (or the dict key); a multi-band one gives its band
        descriptions, or ``{stem}_b{k}`` (k from 1) when they are missing or repeated. A NetCDF
        gives its variables with y/x dims; dims ``lat``/``lon`` (``latitude``/``longitude``)
        become ``y``/``x``, and a file without CRS but with lat/lon is taken as EPSG:4326
        (with a message).
    variables : sequence of str, optional
        Keep only these variables (an error lists the available ones if one is missing).
    template : Dataset, DataArray or path, optional
        The grid to put everything on; default: the grid of the first file.
    regrid : bool
        If True, a grid differing in CRS, resolution or extent from the reference is
        reprojected onto it (rasterio/GDAL ``method``) and a message says what differed,
        e.g. ``"map.tif: resolution 0.5° → 2.5°, bilinear"``. If False, it is refused with an
        :class:`~wholesoil.errors.InputDataError` naming the file and the difference.
    method : str
        GDAL resampling (``"bilinear"``, ``"nearest"``, ``"average"``, ``"cubic"``, …).
    chunks : int or dict, optional
        Dask chunk sizes of y and x (``{"y": 512, "x": 512}``). With chunks every variable
        is dask-backed (lazy) and regridding runs per destination block, so grids larger than
        memory are never loaded whole. Without, the data are loaded into memory.

    Returns
    -------
    xarray.Dataset
        Variables with dims ``(y, x)`` (or ``(..., y, x)``), the CRS in ``spatial_ref``,
        ``attrs["messages"]`` (list of str: every regridding, assumed CRS or ignored variable)
        and ``attrs["sources"]`` (list of the files read).
    """
    entries = _as_entries(source)
    _resampling(method)
    messages: list[str] = []
    ref: _Geometry | None = None
    ref_name = ""
    if template is not None:
        ref, ref_name = _template_geometry(template)
    dst_chunks = None
    if isinstance(template, xr.Dataset | xr.DataArray) and template.chunks:
        tc = (
            dict(template.chunks)
            if isinstance(template, xr.Dataset)
            else dict(zip(template.dims, template.chunks, strict=True))
        )
        dst_chunks = (tuple(tc["y"]), tuple(tc["x"]))
    out: dict[str, xr.DataArray] = {}
    origin: dict[str, str] = {}
    coords: dict[str, xr.DataArray] = {}
    coords_from: dict[str, str] = {}
    for key, path in entries:
        if not path.exists():
            raise InputDataError("file not found", file=str(path))
        suffix = path.suffix.lower()
        if suffix in (".tif", ".tiff"):
            found, msgs, extras = _read_tif(path, key, chunks)
        elif suffix in (".nc", ".nc4", ".netcdf", ".cdf"):
            found, msgs, extras = _read_nc(path, key, chunks)
        else:
            raise InputDataError("expected a .tif/.tiff or .nc file", file=str(path), value=suffix)
        messages.extend(msgs)
        for cname, cval in extras.items():
            if cname in coords and not coords[cname].equals(cval):
                raise InputDataError(
                    f"{cname} differs from that of {coords_from[cname]}",
                    file=str(path),
                    field=cname,
                )
            coords[cname], coords_from[cname] = cval, str(path)
        if variables is not None:
            found = {k: v for k, v in found.items() if k in set(variables)}
            if not found:
                continue
        geom = _geometry(next(iter(found.values())), str(path))
        if ref is None:
            ref, ref_name = geom, path.name
            if chunks is not None:
                first = next(iter(found.values()))
                if first.chunks:
                    c = dict(zip(first.dims, first.chunks, strict=True))
                    dst_chunks = (tuple(c["y"]), tuple(c["x"]))
        diffs = _differences(geom, ref)
        if diffs:
            if not regrid:
                raise InputDataError(
                    f"grid differs from the reference grid ({ref_name}): {'; '.join(diffs)}; "
                    "pass regrid=True to reproject it",
                    file=str(path),
                )
            messages.append(f"{path.name}: {'; '.join(diffs)}, {method}")
            if chunks is not None and dst_chunks is None:
                dst_chunks = _even_chunks(ref, chunks)
            found = {k: _reproject(v, geom, ref, method, dst_chunks) for k, v in found.items()}
        elif not np.array_equal(geom.y, ref.y) or not np.array_equal(geom.x, ref.x):
            # same cells; align order (flipped y) and snap coordinates to the reference
            if (geom.y[0] < geom.y[-1]) != (ref.y[0] < ref.y[-1]):
                found = {k: v.isel(y=slice(None, None, -1)) for k, v in found.items()}
                messages.append(f"{path.name}: y order reversed to match {ref_name}")
            found = {k: v.assign_coords(y=ref.y, x=ref.x) for k, v in found.items()}
        for name, da in found.items():
            if name in out:
                raise InputDataError(
                    f"variable {name!r} is given twice (also by {origin[name]})",
                    file=str(path),
                    field=name,
                )
            origin[name] = str(path)
            out[name] = da.drop_vars([c for c in da.coords if c == "spatial_ref"])
    if variables is not None:
        missing = [v for v in variables if v not in out]
        if missing:
            raise InputDataError(
                f"variable(s) {missing} not found; the source has {sorted(_all_names(entries))}",
                field=missing[0],
            )
        out = {v: out[v] for v in variables}
    if ref is None:
        raise InputDataError("no grid read", value=[str(p) for _, p in entries])
    ds = xr.Dataset(out)
    ds = ds.assign_coords(x=ref.x, y=ref.y)
    if "depth" in ds.dims:
        ds = ds.assign_coords(coords)
    ds = ds.rio.write_crs(ref.crs)
    kind = "geographic" if ref.geographic else "projected"
    for ax in ("x", "y"):
        ds[ax].attrs.update(CF_XY_ATTRS[kind][ax])
    if chunks is None:
        ds = ds.load()
    ds.attrs["messages"] = messages
    ds.attrs["sources"] = [str(p) for _, p in entries]
    return ds


def _even_chunks(ref: _Geometry, chunks: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    def split(n: int, c: Any) -> tuple[int, ...]:
        c = n if c in (None, -1, "auto") else int(c)
        return tuple([c] * (n // c) + ([n % c] if n % c else []))

    cy = chunks.get("y") if isinstance(chunks, Mapping) else chunks
    cx = chunks.get("x") if isinstance(chunks, Mapping) else chunks
    return split(ref.y.size, cy), split(ref.x.size, cx)


def _all_names(entries: list[tuple[str | None, Path]]) -> list[str]:
    names = []
    for key, path in entries:
        if path.suffix.lower() in (".tif", ".tiff"):
            names += list(_read_tif(path, key, {"y": 1024, "x": 1024})[0])
        else:
            names += list(_read_nc(path, key, {"y": 1024, "x": 1024})[0])
    return names


def check_grid_features(ds: xr.Dataset, features: Sequence[str], *, source: str) -> None:
    """Refuse a grid that lacks covariates a model needs.

    Parameters
    ----------
    ds : xarray.Dataset
        The covariate grid.
    features : sequence of str
        Covariate names the model was fitted on, in model order.
    source : str
        Where the grid came from (named in the error).

    Raises
    ------
    InputDataError
        Naming the missing covariate(s) and listing the grid's variables.
    """
    have = [str(v) for v in ds.data_vars]
    missing = [f for f in features if f not in ds.data_vars]
    if missing:
        raise InputDataError(
            f"the model needs covariate(s) {missing} that the grid lacks; "
            f"the grid has {sorted(have)}",
            file=source,
            field=missing[0],
        )


_WRITERS = ("cog_name", "write_cogs", "write_netcdf")


def __getattr__(name: str) -> Any:
    # writing lives in wholesoil.io._grid_write; its names stay importable from here
    if name in _WRITERS:
        from wholesoil.io import _grid_write

        return getattr(_grid_write, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "CF_DEPTH_ATTRS",
    "CF_XY_ATTRS",
    "COG_OPTIONS",
    "NETCDF_AXIS_NAMES",
    "check_grid_features",
    "read_grid",
]
