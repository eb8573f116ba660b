"""Mapping commands: ``train``, ``predict`` and ``stocks`` (Wang H. et al. (2025),
Wang G. et al. (2025), Wang G. et al. (manuscript)).

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023

Wang, G., Luo, Z., Song, C., et al. (2025). Digging deeper towards accurate mapping of deep soil
organic carbon in grasslands. Science Bulletin. https://doi.org/10.1016/j.scib.2025.06.006

Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from wholesoil.cli._common import (
    INPUT_PANEL,
    INPUT_REF,
    BottomColumnOpt,
    ColumnMapOpt,
    SchedulerOpt,
    TopColumnOpt,
    UnitsOpt,
    _floats,
    _friendly,
    _names,
    _pairs,
    _report,
    flat_read_options,
)


def _bands(text: str) -> tuple[tuple[float, float], ...]:
    out = []
    for part in _names(text):
        lo, sep, hi = part.partition("-")
        try:
            out.append((float(lo), float(hi)))
        except ValueError as exc:
            raise typer.BadParameter(f"--bands needs TOP-BOTTOM,… in cm, got {part!r}") from exc
        if not sep:
            raise typer.BadParameter(f"--bands needs TOP-BOTTOM,… in cm, got {part!r}")
    return tuple(out)


def _params(text: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in _pairs(text, "--param").items():
        for cast in (int, float):
            try:
                out[k] = cast(v)
                break
            except ValueError:
                continue
        else:
            out[k] = v
    return out


@_friendly
def train(
    table: Annotated[Path, typer.Argument(help="Training table (CSV or Parquet). " + INPUT_REF)],
    target: Annotated[str, typer.Option("--target", help="Column to predict.")],
    features: Annotated[str, typer.Option("--features", help="Predictors: a,b,c (add top,"
                                          "bottom for layer-level models, "
                                          "Wang G. et al. (2025)).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    groups: Annotated[
        str | None, typer.Option("--groups", "--id-column", rich_help_panel=INPUT_PANEL,
                                 help="Your profile id column: CV never splits a profile "
                                      "(none: every row on its own).")
    ] = None,
    learner: Annotated[
        str, typer.Option("--learner", help="rf | qrf | xgb | svm | cubist | mars | ensemble")
    ] = "rf",
    cv: Annotated[str, typer.Option("--cv", help="kfold (by profile) | spatial (blocks).")] = (
        "kfold"
    ),
    folds: Annotated[int, typer.Option("--folds", help="Number of CV folds.")] = 10,
    block_size: Annotated[float, typer.Option(help="Spatial block size [degrees].")] = 5.0,
    buffer_km: Annotated[float, typer.Option(help="Spatial CV buffer [km].")] = 0.0,
    lat: Annotated[str, typer.Option(help="Latitude column [°N].")] = "lat",
    lon: Annotated[str, typer.Option(help="Longitude column [°E].")] = "lon",
    top_column: TopColumnOpt = "top",
    bottom_column: BottomColumnOpt = "bottom",
    column_map: ColumnMapOpt = None,
    units: UnitsOpt = None,
    bands: Annotated[str, typer.Option(help="Depth bands for depth-wise skill [cm].")] = (
        "0-30,30-100,100-200,200-300"
    ),
    tune: Annotated[bool, typer.Option(help="Tune mtry and ntree by bootstrap (rf, qrf).")] = (
        False
    ),
    intervals: Annotated[
        bool, typer.Option(help="Measure held-out coverage of QRF, Coulston and Monte Carlo; "
                           "save the Coulston and Monte Carlo models for mapping.")
    ] = False,
    level: Annotated[float, typer.Option(help="Nominal interval level "
                                              "(Wang G. et al. (manuscript): 0.95; "
                                         "fast preset 0.9).")] = 0.95,
    interval_trees: Annotated[int, typer.Option(help="Trees per interval-model forest ("
                                                "Wang G. et al. (manuscript): 500; fast preset "
                                                "100).")] = 500,
    mc_boot: Annotated[int, typer.Option(help="Monte Carlo bootstrap forests "
                                              "(Wang G. et al. (manuscript): 500; "
                                         "fast preset 100).")] = 500,
    mc_draws: Annotated[int, typer.Option(help="Monte Carlo draws "
                                               "(Wang H. et al. (2025)).")] = 1000,
    target_units: Annotated[
        str | None, typer.Option(help="Units of the target, carried into maps (Mg C ha-1); "
                                 "default: the canonical unit when --units converts it.")
    ] = None,
    param: Annotated[
        str | None, typer.Option("--param", help="Learner parameters KEY=VALUE,…")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for every random draw.")] = 0,
) -> None:
    """Cross-validate, fit, explain and save a mapping model (model folder, tables, figures).

    Example:

        wholesoil train layers.csv --target soc --features mat,map,clay,top,bottom \\
            --groups profile_id --learner qrf --cv spatial --intervals --out model
    """
    from wholesoil.workflows import train_job

    if cv not in ("kfold", "spatial"):
        raise typer.BadParameter(f"--cv must be kfold or spatial, got {cv!r}")
    read = flat_read_options(column_map, units)
    result = train_job(
        table,
        target,
        _names(features),
        out,
        groups=groups,
        learner=learner,
        learner_params=_params(param),
        cv=cv,
        n_splits=folds,
        block_size=block_size,
        buffer_km=buffer_km,
        lat=lat,
        lon=lon,
        top=top_column,
        bottom=bottom_column,
        bands=_bands(bands),
        tune=tune,
        intervals=intervals,
        level=level,
        interval_trees=interval_trees,
        mc_boot=mc_boot,
        mc_draws=mc_draws,
        units=target_units,
        random_state=seed,
        column_map=read["column_map"],
        input_units=read["units"],
    )
    _report(result)


#: Suffixes read as covariate grids by ``wholesoil predict`` (a folder is a folder of GeoTIFFs).
GRID_SUFFIXES = (".nc", ".nc4", ".tif", ".tiff")


def _is_grid(path: Path) -> bool:
    return path.is_dir() or path.suffix.lower() in GRID_SUFFIXES


@_friendly
def predict(
    model: Annotated[Path, typer.Argument(help="Model folder written by `wholesoil train`.")],
    covariates: Annotated[
        list[Path], typer.Argument(help="A table (CSV/Parquet) with the model's feature "
                                   "columns, or covariate grids: NetCDF, GeoTIFF(s) or a folder "
                                   "of GeoTIFFs. A table: " + INPUT_REF)
    ],
    out: Annotated[
        Path, typer.Option("--out", "--output", "-o",
                           help="Table: the predictions file. Grid: the output folder.")
    ],
    keep: Annotated[str | None, typer.Option(help="Table: columns to copy through.")] = None,
    quantiles: Annotated[
        str | None, typer.Option(help="Quantiles (qrf models), e.g. 0.05,0.5,0.95")
    ] = None,
    intervals: Annotated[
        str | None, typer.Option(help="Grid: interval maps, first one primary: quantile "
                                 "(qrf), coulston, montecarlo (saved by train --intervals).")
    ] = None,
    level: Annotated[float, typer.Option(help="Grid: interval level (Wang G. et al. (manuscript): "
                                              "0.95).")] = 0.95,
    chunks: Annotated[int, typer.Option(help="Grid: block size [cells per side].")] = 512,
    scheduler: SchedulerOpt = None,
    workers: Annotated[
        int | None, typer.Option(help="Grid: workers of the local cluster with --scheduler "
                                 "processes (default: cores).")
    ] = None,
    no_regrid: Annotated[
        bool, typer.Option("--no-regrid", help="Grid: refuse grids that differ in CRS, "
                           "resolution or extent instead of regridding them.")
    ] = False,
    column_map: ColumnMapOpt = None,
    units: UnitsOpt = None,
) -> None:
    """Predict with a saved model over a table or a covariate grid (resumable, blockwise).

    A grid run writes {target}.nc (NetCDF-CF), cog/*.tif (SoilGrids-like names), figures/,
    tables/summary.csv and run.json into OUT; killed and rerun, it reuses finished blocks.

    Examples:

        wholesoil predict model covariates.nc --intervals quantile,coulston --out maps
        wholesoil predict model sites.csv --quantiles 0.05,0.5,0.95 -o predictions.csv
    """
    from wholesoil.workflows import predict_grid_job, predict_job

    qs = _floats(quantiles, "--quantiles") if quantiles else ()
    if len(covariates) > 1 or _is_grid(covariates[0]):
        if column_map or units:
            raise typer.BadParameter("--column-map and --units apply to a table of covariates, "
                                     "not to grids (name the grid variables as the model's "
                                     "features)")
        result = predict_grid_job(
            model, covariates if len(covariates) > 1 else covariates[0], out,
            intervals=_names(intervals), level=level,
            quantiles=qs or (0.05, 0.5, 0.95), chunks=chunks, scheduler=scheduler,
            n_workers=workers, regrid=not no_regrid,
        )
    else:
        read = flat_read_options(column_map, units)
        result = predict_job(model, covariates[0], out, keep=_names(keep), quantiles=qs,
                             column_map=read["column_map"], input_units=read["units"])
    _report(result)


@_friendly
def stocks(
    grids: Annotated[
        list[Path], typer.Argument(help="Predicted grids (NetCDF/GeoTIFF) with β and topsoil "
                                   "density maps, or a layered density map (--density).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    depths: Annotated[str, typer.Option(help="Layer bounds [cm].")] = "0,30,100,200,300",
    beta: Annotated[str, typer.Option(help="Name of the β maps ({name}_mean, _Q…).")] = "beta",
    topsoil: Annotated[
        str, typer.Option(help="Name of the topsoil density maps [Mg C ha-1].")
    ] = "soc",
    density: Annotated[
        str | None, typer.Option(help="Name of layered density maps to sum instead.")
    ] = None,
    d0: Annotated[float, typer.Option(help="Depth of the topsoil maps [cm].")] = 30.0,
    method: Annotated[
        str | None, typer.Option(help="Interval suffix to use (coulston, montecarlo).")
    ] = None,
    regions: Annotated[
        Path | None, typer.Option(help="Integer region codes on the grid (CF flag_meanings "
                                  "name them).")
    ] = None,
    fractions: Annotated[
        Path | None, typer.Option(help="One variable per ecosystem: share of each cell [0-1].")
    ] = None,
    draws: Annotated[int, typer.Option(help="Monte Carlo draws (Wang H. et al. (2025): "
                                            "1000).")] = 1000,
    level: Annotated[float, typer.Option(help="Interval level.")] = 0.95,
    correlation: Annotated[
        float, typer.Option(help="Correlation of per-cell errors between cells, 0-1.")
    ] = 1.0,
    chunks: Annotated[int, typer.Option(help="Block size [cells per side].")] = 512,
    seed: Annotated[int, typer.Option(help="Seed for every random draw.")] = 0,
) -> None:
    """SOC stocks by region, ecosystem and layer with Monte Carlo intervals (Wang H. et al. (2025)
    Eqs. 3, 6).

    Writes tables/stocks.csv, layers.nc and cog/*.tif of the layer densities, figures/ and
    run.json into OUT; killed and rerun, it reuses the finished blocks' sums.

    Example: wholesoil stocks maps/soc.nc --depths 0,30,100 --regions regions.tif --out stocks
    """
    from wholesoil.workflows import stocks_job

    result = stocks_job(
        grids if len(grids) > 1 else grids[0], out, depths=_floats(depths, "--depths"),
        beta=beta, topsoil=topsoil, density=density, d0=d0, method=method, regions=regions,
        fractions=fractions, n_draws=draws, level=level, correlation=correlation, seed=seed,
        chunks=chunks,
    )
    _report(result)


def register(app: typer.Typer) -> None:
    """Add ``train``, ``predict``, ``stocks`` to the ``wholesoil`` app."""
    app.command()(train)
    app.command()(predict)
    app.command()(stocks)
