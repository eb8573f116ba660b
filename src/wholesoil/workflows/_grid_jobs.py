"""The grid jobs behind ``wholesoil predict MODEL GRID`` and ``wholesoil stocks GRIDS``.

``predict_grid_job`` maps a saved model over a covariate grid block by block (on threads of
this process by default, a local dask cluster of processes, or a running scheduler) and writes
NetCDF-CF, one Cloud-Optimized GeoTIFF per output and PNG maps. ``stocks_job`` turns β and
topsoil density maps (Wang H. et al. (2025) §2.6, Eq. 3) or layered density maps into layer density
grids and SOC stocks by
region × ecosystem × depth layer (Eq. 6) with Monte Carlo intervals (§2.7).

Both checkpoint per block under ``OUT/blocks`` and resume after a kill without recomputing a
finished block; every final file is written atomically.

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from wholesoil._record import write_run_record
from wholesoil.errors import InputDataError
from wholesoil.io import check_grid_features, read_grid, write_cogs, write_netcdf
from wholesoil.io._headers import CSV_FLOAT_FORMAT, user_headers
from wholesoil.io._write import write_table
from wholesoil.mapping._grid import STORE_MANIFEST, predict_grid
from wholesoil.mapping._persist import META_FILE
from wholesoil.parallel import client_for, parse_scheduler
from wholesoil.progress import progress, watch
from wholesoil.workflows._jobs import JobResult


def _grid_blocks_done(store: Path) -> tuple[int, int | None]:
    """Blocks of a ``predict_grid`` store recorded so far and their total (progress only).

    Reads the store's manifest (shape, chunks) and counts the per-block records; the layout is
    :mod:`wholesoil.mapping._grid`'s, so a change there only stalls the bar, never a result.
    """
    import json
    import math

    total = None
    manifest = store / STORE_MANIFEST
    if manifest.is_file():
        m = json.loads(manifest.read_text(encoding="utf-8"))
        (ny, nx), (cy, cx) = m["shape"], m["chunks"]
        total = math.ceil(ny / cy) * math.ceil(nx / cx)
    folder = store / "blocks"
    done = sum(1 for _ in folder.glob("b*.json")) if folder.is_dir() else 0
    return done, total


def _stock_blocks_done(store: Path) -> tuple[int, int | None]:
    """Row blocks of a stock checkpoint recorded so far and their total (progress only)."""
    import json

    total = None
    manifest = store / "manifest.json"
    if manifest.is_file():
        total = len(json.loads(manifest.read_text(encoding="utf-8"))["row_blocks"])
    done = sum(1 for _ in store.glob("s*.json")) if store.is_dir() else 0
    return done, total


def _model_meta(model: Path) -> dict[str, Any]:
    import json

    path = Path(model) / META_FILE
    if not path.is_file():
        raise InputDataError(
            f"expected a model folder with {META_FILE} (as written by `wholesoil train`)",
            file=str(model),
        )
    return json.loads(path.read_text(encoding="utf-8"))


def _summary(ds: xr.Dataset) -> pd.DataFrame:
    """Min, mean, max and valid cells of every (y, x) variable (computed blockwise by dask)."""
    import dask

    rows, lazy = [], []
    for name, da in ds.data_vars.items():
        if "y" not in da.dims:
            continue
        rows.append(str(name))
        lazy += [da.min(), da.mean(), da.max(), da.notnull().sum()]
    vals = dask.compute(*lazy)
    out = []
    for i, name in enumerate(rows):
        mn, me, mx, n = (float(v) for v in vals[4 * i : 4 * i + 4])
        out.append({"variable": name, "min": mn, "mean": me, "max": mx, "n_cells": int(n),
                    "units": ds[name].attrs.get("units", "")})
    return pd.DataFrame(out)


def _maps(ds: xr.Dataset, names: Sequence[str], folder: Path) -> dict[str, Path]:
    from wholesoil.plots.maps import plot_grid_map  # matplotlib loads only when maps are drawn

    out = {}
    for name in names:
        if name not in ds:
            continue
        da = ds[name]
        cmap = "magma_r" if name.endswith("uncertainty") else "viridis"
        if "depth" in da.dims:
            for k in range(da.sizes["depth"]):
                layer = da.isel(depth=[k])
                top, bottom = (float(layer["top"].values[0]), float(layer["bottom"].values[0]))
                tag = f"{name}_{top:g}-{bottom:g}cm"
                out[f"map_{tag}"] = plot_grid_map(
                    layer, folder / f"{tag}.png", cmap=cmap,
                    title=f"{da.attrs.get('long_name', name)}, {top:g}–{bottom:g} cm")
        else:
            out[f"map_{name}"] = plot_grid_map(da, folder / f"{name}.png", cmap=cmap)
    return out


def predict_grid_job(
    model: str | Path,
    covariates: str | Path | Sequence[str | Path],
    out: str | Path,
    *,
    intervals: Sequence[str] = (),
    level: float = 0.9,
    quantiles: Sequence[float] = (0.05, 0.5, 0.95),
    chunks: int = 512,
    scheduler: str | None = None,
    n_workers: int | None = None,
    regrid: bool = True,
    cog: bool = True,
    maps: bool = True,
) -> JobResult:
    """Map a saved model over a covariate grid; resumable.

    Parameters
    ----------
    model : path
        Model folder written by ``wholesoil train`` (``--intervals`` adds the Coulston and Monte
        Carlo interval models it can map).
    covariates : path or list of paths
        NetCDF, GeoTIFF(s) or a folder of GeoTIFFs holding the model's covariates by name; grids
        that differ in CRS, resolution or extent are regridded onto the first (and listed in the
        messages) or, with ``regrid=False``, refused.
    out : path
        Output folder: ``{target}.nc`` (NetCDF-CF), ``cog/*.tif``, ``figures/*.png``,
        ``tables/summary.csv``, ``run.json`` and the block checkpoints in ``blocks/``.
    intervals : sequence of {"quantile", "coulston", "montecarlo"}
        Interval maps; the first one gets the unsuffixed SoilGrids names.
    level, quantiles
        Interval level (0.9 → Q0.05, Q0.95) and the conditional quantiles of ``"quantile"``.
    chunks : int
        Block size [cells per side]; the result does not depend on it.
    scheduler : str, optional
        None: :data:`wholesoil.parallel.DEFAULT_SCHEDULER` (``"threads"``, threads of this
        process; earlier versions started a local cluster here by default);
        ``"processes"`` (or ``"local"``): a local dask cluster (one worker per core); an
        address (``tcp://host:8786``): the running scheduler there
        (:func:`wholesoil.parallel.client_for`). Recorded in ``run.json`` under ``scheduler``.
    n_workers : int, optional
        Workers of the local cluster (``"processes"`` only).
    """
    t_start = time.perf_counter()
    out = Path(out)
    meta = _model_meta(Path(model))
    features = list(meta.get("features", []))
    label = ", ".join(map(str, covariates)) if isinstance(covariates, list | tuple) else str(
        covariates)
    grid = read_grid(covariates, chunks=chunks, regrid=regrid)
    check_grid_features(grid, features, source=label)
    grid = grid[features]
    messages = list(grid.attrs.get("messages", []))
    scheduler = parse_scheduler(scheduler)
    with client_for(scheduler, n_workers=n_workers) as client:
        t0 = time.perf_counter()
        with watch(lambda: _grid_blocks_done(out / "blocks"), "grid blocks", stage="predict",
                   unit="blocks"):
            result = predict_grid(
                Path(model), grid, features=features, intervals=list(intervals), level=level,
                quantiles=quantiles, chunks=chunks, store=out / "blocks", client=client,
            )
        t_predict = time.perf_counter() - t0
    name = str(meta.get("target") or "prediction")
    # how this particular run went (blocks computed or reused, the store folder) belongs to
    # run.json, not to the map: a resumed run writes the same file as an uninterrupted one
    blocks = {k: result.attrs.pop(k) for k in ("n_blocks", "blocks_computed", "blocks_reused")}
    result.attrs.pop("store", None)
    with progress(2 + int(cog) + int(maps), "writing maps", stage="predict-write",
                  unit="steps") as step:
        outputs: dict[str, Path] = {"netcdf": write_netcdf(result, out / f"{name}.nc")}
        step(message="NetCDF")
        if cog:
            for path in write_cogs(result, out / "cog"):
                outputs[f"cog_{path.stem}"] = path
            step(message="COGs")
        if maps:
            first = [f"{name}_mean", f"{name}_uncertainty"]
            outputs.update(_maps(result, first, out / "figures"))
            step(message="figures")
        summary = _summary(result)
        outputs["summary"] = write_table(summary, out / "tables" / "summary.csv",
                                         float_format=CSV_FLOAT_FORMAT)  # units: a column
        step(message="summary")
    n_cells = int(grid.sizes["y"] * grid.sizes["x"])
    messages.append(
        f"predicted {n_cells} cells in {blocks['n_blocks']} blocks of {chunks}² "
        f"({blocks['blocks_computed']} computed, {blocks['blocks_reused']} taken "
        f"from the checkpoints) in {t_predict:.1f} s"
    )
    outputs["run"] = write_run_record(
        out, command="wholesoil predict (grid)", scheduler=scheduler,
        inputs={"model": str(model), "model_sha256": meta.get("sha256"), "covariates": label},
        options={"intervals": list(intervals), "level": level, "quantiles": list(quantiles),
                 "chunks": chunks, "scheduler": scheduler, "regrid": regrid},
        extra={"grid": {"shape": [int(grid.sizes["y"]), int(grid.sizes["x"])],
                        "crs": str(grid.rio.crs) if grid.rio.crs is not None else None,
                        "regridding": messages[:-1]},
               "blocks": blocks},
        timings={"predict": t_predict, "total": time.perf_counter() - t_start},
        outputs=outputs,
    )
    return JobResult(summary, outputs, None, messages)


def _region_names(regions: xr.DataArray) -> dict[Any, str] | None:
    """CF flag_values / flag_meanings of a region raster as code → name."""
    values = regions.attrs.get("flag_values")
    meanings = regions.attrs.get("flag_meanings")
    if values is None or meanings is None:
        return None
    names = str(meanings).split()
    vals = np.atleast_1d(np.asarray(values))
    if len(names) != len(vals):
        raise InputDataError(
            f"flag_values ({len(vals)}) and flag_meanings ({len(names)}) differ in length",
            field="flag_meanings",
        )
    return {v.item(): n for v, n in zip(vals, names, strict=True)}


def stocks_job(
    grids: str | Path | Sequence[str | Path],
    out: str | Path,
    *,
    depths: Sequence[float] = (0.0, 30.0, 100.0, 200.0, 300.0),
    beta: str = "beta",
    topsoil: str = "soc",
    density: str | None = None,
    d0: float = 30.0,
    method: str | None = None,
    regions: str | Path | None = None,
    fractions: str | Path | None = None,
    n_draws: int = 1000,
    level: float = 0.95,
    correlation: float = 1.0,
    seed: int = 0,
    chunks: int = 512,
    cog: bool = True,
    maps: bool = True,
) -> JobResult:
    """Layer densities and SOC stocks with Monte Carlo intervals from predicted grids; resumable.

    Parameters
    ----------
    grids : path or list of paths
        Predicted grids (``wholesoil predict`` NetCDF or COG folders) on one grid. With
        ``density`` unset they must hold ``{beta}_mean`` [-] and ``{topsoil}_mean`` [Mg C ha⁻¹ in
        the top ``d0`` cm], each with a symmetric ``_Q…`` pair when uncertain (per-cell normal
        with sd from the interval, Wang H. et al. (2025) §2.7); layers follow Eq. 3. With
        ``density``, a layered ``{density}_mean`` (depth, y, x) is summed as it is.
    out : path
        Output folder: ``tables/stocks.csv``, ``layers.nc`` and COGs of the layer densities,
        maps, ``run.json``, ``blocks/`` (checkpoints).
    depths : sequence of float
        Layer bounds [cm], e.g. 0, 30, 100, 200, 300.
    method : str, optional
        Interval method suffix of the grids' variables (``coulston``, ``montecarlo``) when they
        hold several.
    regions : path, optional
        Integer region codes on the same grid (NetCDF/GeoTIFF; CF ``flag_values`` /
        ``flag_meanings`` name them); the first variable is used.
    fractions : path, optional
        One variable per ecosystem: the share of each cell in it [0–1] (Wang H. et al. (2025) Eq.
        6's S_ecosystem); default the whole cell.
    n_draws, level, correlation, seed
        Monte Carlo draws, interval level, correlation ρ of per-cell errors between cells
        (1: one model's error shared by all cells; 0: independent) and seed.
    """
    from wholesoil.mapping._stocks import (
        CellDistribution,
        layers_from_beta,
        stock_totals,
        stock_totals_from_beta,
    )

    t_start = time.perf_counter()
    out = Path(out)
    ds = read_grid(grids, chunks=chunks)
    messages = list(ds.attrs.get("messages", []))
    label = ", ".join(map(str, grids)) if isinstance(grids, list | tuple) else str(grids)

    def dist(name: str) -> Any:
        has_q = any(str(v).startswith(f"{name}_Q") for v in ds.data_vars)
        if has_q:
            return CellDistribution.from_dataset(ds, name, method=method)
        mean = f"{name}_mean" if f"{name}_mean" in ds else name
        check_grid_features(ds, [mean], source=label)
        messages.append(f"{mean}: no interval in the grid; treated as exact")
        return ds[mean]

    reg = fr = None
    region_names = None
    if regions is not None:
        rds = read_grid(regions, template=ds, method="nearest", chunks=chunks)
        reg = rds[next(iter(rds.data_vars))]
        region_names = _region_names(reg)
        messages += list(rds.attrs.get("messages", []))
    if fractions is not None:
        fds = read_grid(fractions, template=ds, chunks=chunks)
        fr = {str(k): v for k, v in fds.data_vars.items()}
        messages += list(fds.attrs.get("messages", []))
    common: dict[str, Any] = dict(
        fraction=fr, regions=reg, region_names=region_names, n_draws=n_draws, level=level,
        correlation=correlation, seed=seed, checkpoint=out / "blocks",
    )
    t0 = time.perf_counter()
    blocks_watch = watch(lambda: _stock_blocks_done(out / "blocks"), "stock blocks",
                         stage="stocks", unit="row blocks")
    if density is not None:
        dens = dist(density)
        with blocks_watch:
            table = stock_totals(dens, **common)
        layers = dens.mean if hasattr(dens, "mean") and isinstance(dens.mean, xr.DataArray) \
            else dens
        prop = density
    else:
        b, t = dist(beta), dist(topsoil)
        with blocks_watch:
            table = stock_totals_from_beta(b, t, d0=d0, depths=depths, **common)
        bm = b.mean if not isinstance(b, xr.DataArray) else b
        tm = t.mean if not isinstance(t, xr.DataArray) else t
        layers = layers_from_beta(bm, tm, d0=d0, depths=depths)
        prop = "soc"
    t_stock = time.perf_counter() - t0
    # the user's file: units in the headers (top [cm], stock [Pg C]), 6 significant digits
    outputs: dict[str, Path] = {"stocks": write_table(
        user_headers(table), out / "tables" / "stocks.csv", float_format=CSV_FLOAT_FORMAT)}
    lay = xr.Dataset({f"{prop}_mean": layers.assign_attrs(
        units="Mg C ha-1", long_name="SOC density of the layer (plug-in, Wang H. et al. (2025) Eq. "
                                     "3)")})
    if ds.rio.crs is not None:
        lay = lay.rio.write_crs(ds.rio.crs)
    outputs["layers"] = write_netcdf(lay, out / "layers.nc")
    if cog:
        for path in write_cogs(lay, out / "cog"):
            outputs[f"cog_{path.stem}"] = path
    if maps:
        outputs.update(_maps(lay, [f"{prop}_mean"], out / "figures"))
    clipped = table.attrs.get("clipped_draws", {})
    if clipped:
        messages.append(f"clipped draws (outside the valid range): {clipped}")
    messages.append(
        f"stocks of {len(table)} region × ecosystem × layer rows with {n_draws} draws "
        f"in {t_stock:.1f} s"
    )
    outputs["run"] = write_run_record(
        out, command="wholesoil stocks", seed=seed,
        inputs={"grids": label, "regions": None if regions is None else str(regions),
                "fractions": None if fractions is None else str(fractions)},
        options={"depths": list(map(float, depths)), "beta": beta, "topsoil": topsoil,
                 "density": density, "d0": d0, "method": method, "n_draws": n_draws,
                 "level": level, "correlation": correlation, "chunks": chunks},
        extra={"method": table.attrs.get("method"), "kind": table.attrs.get("kind")},
        timings={"stocks": t_stock, "total": time.perf_counter() - t_start},
        outputs=outputs,
    )
    return JobResult(table, outputs, None, messages)
