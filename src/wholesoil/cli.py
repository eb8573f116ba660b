"""The ``wholesoil`` command: parse arguments, call a workflow, print what it wrote.

No science here (STYLE.md item 9): every command calls a function in ``wholesoil.workflows``
and turns wholesoil's own errors into a one-line message and exit status 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from wholesoil._cli_common import OneLineGroup, _floats, _friendly, _pairs, _report

app = typer.Typer(
    name="wholesoil",
    cls=OneLineGroup,
    help="Whole-soil-profile SOC science: QC, splines, densities, depth functions, "
    "mapping models, process models, radiocarbon, demo.\n\n"
    "Example: wholesoil demo --out wholesoil-demo\n\n"
    "Every command prints what it wrote; bad input stops with one line, error: …, and a "
    "non-zero exit status (WHOLESOIL_TRACEBACK=1 shows the traceback instead).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@app.callback()
def _global_options(
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bars and no messages on stderr "
                           "(errors are still printed).")
    ] = False,
    log_json: Annotated[
        Path | None, typer.Option("--log-json", metavar="FILE",
                                  help="Append a JSON-lines log of the run to FILE: one "
                                  "object per event, {time, stage, message, done, total}.")
    ] = None,
) -> None:
    """Options that apply to every command; give them before the command's name.

    Example: wholesoil --quiet --log-json run.jsonl train table.csv --target soc --features
    mat,map --out model
    """
    from wholesoil.progress import configure

    try:
        configure(quiet=quiet, log_json=log_json)
    except OSError as exc:
        raise typer.BadParameter(f"cannot write the log {log_json}: {exc.strerror or exc}",
                                 param_hint="--log-json") from exc
IdCol = Annotated[str, typer.Option("--id-column", help="Profile id column in the input.")]
TopCol = Annotated[str, typer.Option("--top-column", help="Top depth column [cm].")]
BotCol = Annotated[str, typer.Option("--bottom-column", help="Bottom depth column [cm].")]
ColMap = Annotated[
    str | None,
    typer.Option("--column-map", help="Rename other columns: SRC=canonical,… (e.g. OC=soc)."),
]
FormatOpt = Annotated[
    str,
    typer.Option(
        "--format",
        help="Input: table (CSV/Parquet; id/depth/column-map options apply), or a source read "
        "by its reader: wosis (per-attribute CSVs or their folder), israd (entry folder), ncscd.",
    ),
]
MaxDepthOpt = Annotated[
    float,
    typer.Option(
        "--max-depth",
        help="Deepest depth accepted [cm]; deeper horizons or depths are refused (10 m by "
        "default: see the data-safety page).",
    ),
]
QcOpt = Annotated[
    str,
    typer.Option(
        "--qc",
        help="strict: stop at the first data problem; repair: fix by named rules and write "
        "a QC report beside the output.",
    ),
]


def _read_kwargs(
    id_column: str, top_column: str, bottom_column: str, column_map: str | None, fmt: str
) -> dict[str, object]:
    return {
        "format": fmt,
        "id_column": id_column,
        "top_column": top_column,
        "bottom_column": bottom_column,
        "column_map": _pairs(column_map, "--column-map"),
    }


def _qc_mode(qc: str) -> str:
    if qc not in ("strict", "repair"):
        raise typer.BadParameter(f"--qc must be 'strict' or 'repair', got {qc!r}")
    return qc


@app.command()
@_friendly
def harmonize(
    horizons: Annotated[Path, typer.Argument(help="Horizon table (CSV or Parquet).")],
    variable: Annotated[str, typer.Option("--variable", help="Column to harmonize.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output CSV/Parquet.")],
    depths: Annotated[str, typer.Option(help="Standard depths [cm].")] = "0,5,15,30,60,100,200",
    lam: Annotated[float, typer.Option("--lam", help="Spline smoothing λ.")] = 0.1,
    method: Annotated[str, typer.Option(help="mpspline2 (parity) or exact.")] = "mpspline2",
    clamp: Annotated[
        str | None, typer.Option(help="LOW,HIGH clamp of 1-cm values (none by default).")
    ] = None,
    id_column: IdCol = "profile_id",
    top_column: TopCol = "top",
    bottom_column: BotCol = "bottom",
    column_map: ColMap = None,
    fmt: FormatOpt = "table",
    max_depth: MaxDepthOpt = 1000.0,
    qc: QcOpt = "strict",
) -> None:
    """Equal-area spline to standard depths: writes profile_id, top, bottom, VARIABLE, coverage.

    Example: wholesoil harmonize horizons.csv --variable soc --depths 0,5,15,30,60,100 -o gsm.csv
    """
    from wholesoil.workflows import harmonize_job

    if method not in ("mpspline2", "exact"):
        raise typer.BadParameter(f"--method must be mpspline2 or exact, got {method!r}")
    clamp_t = None
    if clamp:
        c = _floats(clamp, "--clamp")
        if len(c) != 2:
            raise typer.BadParameter(f"--clamp needs LOW,HIGH, got {clamp!r}")
        clamp_t = (c[0], c[1])
    result = harmonize_job(
        horizons,
        variable,
        output,
        depths=_floats(depths, "--depths"),
        lam=lam,
        method=method,  # type: ignore[arg-type]
        clamp=clamp_t,
        qc=_qc_mode(qc),  # type: ignore[arg-type]
        max_depth=max_depth,
        **_read_kwargs(id_column, top_column, bottom_column, column_map, fmt),
    )
    _report(result)


@app.command()
@_friendly
def qc(
    horizons: Annotated[Path, typer.Argument(help="Horizon table (CSV or Parquet).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Cleaned horizons.")],
    report: Annotated[
        Path | None, typer.Option(help="QC report (default: OUTPUT with .qc before suffix).")
    ] = None,
    rules: Annotated[
        str | None,
        typer.Option(help="Rules per check, CHECK=RULE,… (e.g. value_range=flag,overlap=exclude)."),
    ] = None,
    min_layers: Annotated[
        int | None, typer.Option(help="Keep profiles with at least this many layers (seed 003: 3).")
    ] = None,
    min_depth: Annotated[
        float | None, typer.Option(help="Keep profiles deeper than this [cm] (seed 003: 50).")
    ] = None,
    id_column: IdCol = "profile_id",
    top_column: TopCol = "top",
    bottom_column: BotCol = "bottom",
    column_map: ColMap = None,
    fmt: FormatOpt = "table",
    max_depth: MaxDepthOpt = 1000.0,
) -> None:
    """Check horizons, repair or exclude by named rules, and report every change.

    Example: wholesoil qc horizons.csv --rules value_range=flag,overlap=exclude -o clean.csv
    """
    from wholesoil.workflows import qc_job

    result = qc_job(
        horizons,
        output,
        report=report,
        rules=_pairs(rules, "--rules"),
        min_layers=min_layers,
        min_depth=min_depth,
        max_depth=max_depth,
        **_read_kwargs(id_column, top_column, bottom_column, column_map, fmt),
    )
    _report(result)


@app.command()
@_friendly
def density(
    horizons: Annotated[Path, typer.Argument(help="Horizons with soc [g/kg], bd, gravel.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Horizons with soc_density.")],
    fill_bd: Annotated[bool, typer.Option(help="Fill missing BD by pedotransfer.")] = True,
    refit_bd: Annotated[
        bool, typer.Option(help="Refit the pedotransfer on horizons that have BD.")
    ] = False,
    stock_depths: Annotated[str, typer.Option(help="Stocks from 0 to these depths [cm].")] = (
        "30,100"
    ),
    id_column: IdCol = "profile_id",
    top_column: TopCol = "top",
    bottom_column: BotCol = "bottom",
    column_map: ColMap = None,
    fmt: FormatOpt = "table",
    max_depth: MaxDepthOpt = 1000.0,
    qc: QcOpt = "strict",
) -> None:
    """SOC density per horizon (seed 000 Eq. 1) [Mg C/ha] and stocks to depths.

    Example: wholesoil density horizons.csv --stock-depths 30,100 -o density.csv
    """
    from wholesoil.workflows import density_job

    result = density_job(
        horizons,
        output,
        fill_bd=fill_bd,
        refit_bd=refit_bd,
        stock_depths=_floats(stock_depths, "--stock-depths"),
        qc=_qc_mode(qc),  # type: ignore[arg-type]
        max_depth=max_depth,
        **_read_kwargs(id_column, top_column, bottom_column, column_map, fmt),
    )
    _report(result)


@app.command()
@_friendly
def beta(
    layers: Annotated[Path, typer.Argument(help="Layers with SOC density [Mg C/ha].")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Per-profile fits.")],
    value: Annotated[str, typer.Option(help="Layer density column.")] = "soc_density",
    models: Annotated[str, typer.Option(help="Models compared by AIC.")] = "beta,exponential,power",
    group_column: Annotated[
        str | None, typer.Option(help="Compare β across groups (ANOVA, Duncan, Tukey).")
    ] = None,
    id_column: IdCol = "profile_id",
    top_column: TopCol = "top",
    bottom_column: BotCol = "bottom",
    column_map: ColMap = None,
    fmt: FormatOpt = "table",
    max_depth: MaxDepthOpt = 1000.0,
    qc: QcOpt = "strict",
    fit: Annotated[
        str, typer.Option("--fit", help="β fit: fraction (least squares on the cumulative "
                          "fraction, the paper's) or stock (on cumulative stocks).")
    ] = "fraction",
) -> None:
    """Jobbágy–Jackson β per profile (seed 000 Eqs. 2–3), alternatives by AIC, group tests.

    Example: wholesoil beta density.csv --group-column ecosystem --fit fraction -o beta.csv
    """
    from wholesoil.workflows import beta_job

    result = beta_job(
        layers,
        output,
        value=value,
        models=tuple(m.strip() for m in models.split(",") if m.strip()),
        group_column=group_column,
        qc=_qc_mode(qc),  # type: ignore[arg-type]
        max_depth=max_depth,
        fit=fit,
        **_read_kwargs(id_column, top_column, bottom_column, column_map, fmt),
    )
    _report(result)


def _names(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


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


@app.command()
@_friendly
def train(
    table: Annotated[Path, typer.Argument(help="Training table (CSV or Parquet).")],
    target: Annotated[str, typer.Option("--target", help="Column to predict.")],
    features: Annotated[str, typer.Option("--features", help="Predictors: a,b,c (add top,"
                                          "bottom for layer-level models, seed 001).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    groups: Annotated[
        str | None, typer.Option("--groups", help="Profile id column: never split a profile.")
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
    top_column: TopCol = "top",
    bottom_column: BotCol = "bottom",
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
    level: Annotated[float, typer.Option(help="Nominal interval level (seed 004: 0.95; "
                                         "fast preset 0.9).")] = 0.95,
    interval_trees: Annotated[int, typer.Option(help="Trees per interval-model forest (seed "
                                                "004: 500; fast preset 100).")] = 500,
    mc_boot: Annotated[int, typer.Option(help="Monte Carlo bootstrap forests (seed 004: 500; "
                                         "fast preset 100).")] = 500,
    mc_draws: Annotated[int, typer.Option(help="Monte Carlo draws (seed 000).")] = 1000,
    units: Annotated[
        str | None, typer.Option(help="Units of the target, carried into maps (Mg C ha-1).")
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
        units=units,
        random_state=seed,
    )
    _report(result)


#: Suffixes read as covariate grids by ``wholesoil predict`` (a folder is a folder of GeoTIFFs).
GRID_SUFFIXES = (".nc", ".nc4", ".tif", ".tiff")


def _is_grid(path: Path) -> bool:
    return path.is_dir() or path.suffix.lower() in GRID_SUFFIXES


@app.command()
@_friendly
def predict(
    model: Annotated[Path, typer.Argument(help="Model folder written by `wholesoil train`.")],
    covariates: Annotated[
        list[Path], typer.Argument(help="A table (CSV/Parquet) with the model's feature "
                                   "columns, or covariate grids: NetCDF, GeoTIFF(s) or a folder "
                                   "of GeoTIFFs.")
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
    level: Annotated[float, typer.Option(help="Grid: interval level (seed 004: 0.95).")] = 0.95,
    chunks: Annotated[int, typer.Option(help="Grid: block size [cells per side].")] = 512,
    scheduler: Annotated[
        str | None, typer.Option(help="Grid: dask scheduler address (tcp://host:8786); "
                                 "'threads' runs in this process; default a local cluster.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Grid: workers of the local cluster (default: cores).")
    ] = None,
    no_regrid: Annotated[
        bool, typer.Option("--no-regrid", help="Grid: refuse grids that differ in CRS, "
                           "resolution or extent instead of regridding them.")
    ] = False,
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
        result = predict_grid_job(
            model, covariates if len(covariates) > 1 else covariates[0], out,
            intervals=_names(intervals), level=level,
            quantiles=qs or (0.05, 0.5, 0.95), chunks=chunks, scheduler=scheduler,
            n_workers=workers, regrid=not no_regrid,
        )
    else:
        result = predict_job(model, covariates[0], out, keep=_names(keep), quantiles=qs)
    _report(result)


@app.command()
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
    draws: Annotated[int, typer.Option(help="Monte Carlo draws (seed 000: 1000).")] = 1000,
    level: Annotated[float, typer.Option(help="Interval level.")] = 0.95,
    correlation: Annotated[
        float, typer.Option(help="Correlation of per-cell errors between cells, 0-1.")
    ] = 1.0,
    chunks: Annotated[int, typer.Option(help="Block size [cells per side].")] = 512,
    seed: Annotated[int, typer.Option(help="Seed for every random draw.")] = 0,
) -> None:
    """SOC stocks by region, ecosystem and layer with Monte Carlo intervals (seed 000 Eqs. 3, 6).

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


@app.command()
@_friendly
def simulate(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    model: Annotated[str, typer.Option(help="clm5 | compas")] = "clm5",
    params: Annotated[
        Path | None, typer.Option(help="Parameter overrides: JSON {name: value} or CSV.")
    ] = None,
    forcing: Annotated[
        list[Path] | None, typer.Option(help="CLM5 history NetCDF file(s) (seed 003 Suppl. "
                                        "Table 3 variables).")
    ] = None,
    sites: Annotated[
        Path | None, typer.Option(help="Table of sites: mat [°C], map [mm yr-1], optional lat, "
                                  "sand, site_id; forcing generated from climate.")
    ] = None,
    mat: Annotated[float | None, typer.Option(help="Mean annual air temperature [°C].")] = None,
    map_: Annotated[
        float | None, typer.Option("--map", help="Mean annual precipitation [mm yr-1].")
    ] = None,
    lat: Annotated[float | None, typer.Option(help="Latitude [°N] (season, PET).")] = None,
    sand: Annotated[float, typer.Option(help="Sand content [%] (CLM5 S1 transfers).")] = 40.0,
    nbedrock: Annotated[int, typer.Option(help="First layer below bedrock (20: none).")] = 20,
    depths: Annotated[
        str, typer.Option(help="Layers for SOC stocks [cm].")
    ] = "0,30,100,200,300",
    century: Annotated[
        bool, typer.Option(help="Normalize ξ_T to CENTURY (CTSM default; PRODA: off).")
    ] = False,
) -> None:
    """Steady states of CLM5 or COMPAS (seed 003) at sites: pools by layer, profiles, layer
    stocks, diagnostics and a figure.

    Example: wholesoil simulate --model clm5 --mat 8.5 --map 800 --lat 45 --out sim
    """
    from wholesoil.workflows import simulate_job

    result = simulate_job(
        out, model=model, params=params,
        forcing=None if not forcing else (forcing if len(forcing) > 1 else forcing[0]),
        sites=sites, mat=mat, map=map_, lat=lat, sand=sand, nbedrock=nbedrock,
        depths=_floats(depths, "--depths"), normalize_century=century,
    )
    _report(result)


@app.command()
@_friendly
def sensitivity(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    model: Annotated[str, typer.Option(help="mimics | millennial | tao2024 | awb")] = "mimics",
    vary: Annotated[str, typer.Option(help="Knobs for the elasticities: cue,input")] = (
        "cue,input"
    ),
    beta: Annotated[
        str, typer.Option(help="Microbial turnover exponents β (1 classic, > 1 density "
                          "dependent).")
    ] = "1,1.5,2",
    beta_enz: Annotated[float, typer.Option(help="Enzyme-production exponent β_enz (tao2024, "
                                            "awb; 1 classic).")] = 1.0,
    delta: Annotated[float, typer.Option(help="Relative perturbation (seed 002: 0.1).")] = 0.1,
    grid_points: Annotated[int, typer.Option(help="Steps per axis of the CUE × input grid.")] = 9,
    mat: Annotated[float, typer.Option(help="Temperature [°C] (seed 002: 20).")] = 20.0,
    clay: Annotated[float, typer.Option(help="Clay [%] (seed 002: 20).")] = 20.0,
    lignin_n: Annotated[float, typer.Option(help="Litter lignin:N (MIMICS; seed 002: 10).")] = (
        10.0
    ),
    anpp: Annotated[float, typer.Option(help="Litter input [g C m-2 yr-1] (MIMICS).")] = 400.0,
    sobol: Annotated[bool, typer.Option(help="Also Sobol indices over CUE, input, β.")] = False,
    sobol_n: Annotated[int, typer.Option(help="Sobol base sample size (power of 2).")] = 256,
    seed: Annotated[int, typer.Option(help="Seed for every random draw.")] = 0,
) -> None:
    """Seed 002's CUE-versus-input question: SOC elasticities to CUE and input for each β,
    z-scored (β, CUE, input) response surfaces, optional Sobol indices.

    Example: wholesoil sensitivity --model mimics --beta 1,1.5,2 --grid-points 5 --out sens
    """
    from wholesoil.workflows import sensitivity_job

    result = sensitivity_job(
        out, model=model, vary=_names(vary), betas=_floats(beta, "--beta"), delta=delta,
        grid_points=grid_points,
        conditions={"mat": mat, "clay": clay, "lignin_n": lignin_n, "anpp": anpp},
        sobol=sobol, sobol_n=sobol_n, seed=seed, beta_enz=beta_enz,
    )
    _report(result)


@app.command()
@_friendly
def assimilate(
    profiles: Annotated[Path, typer.Argument(help="Layer table: profile_id, top, bottom, "
                                             "soc_density [Mg C ha-1], and mat, map (lat "
                                             "optional: it sets the season; without it, "
                                             "northern season and 12-h days), or lat, lon "
                                             "(climate sampled from the bundled maps).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    model: Annotated[str, typer.Option(help="clm5 | compas")] = "clm5",
    iterations: Annotated[
        str, typer.Option(help="Test and formal MCMC iterations (seed 003: 20000,50000).")
    ] = "20000,50000",
    chains: Annotated[int, typer.Option(help="Independent chains per profile.")] = 3,
    mode: Annotated[
        str, typer.Option(help="proda (PRODA's costs and annealed rule: the paper's fits) | "
                          "gaussian (Gaussian likelihood, Metropolis: a true posterior)")
    ] = "proda",
    acceptance: Annotated[
        str | None, typer.Option(help="Override the mode's rule: proda | metropolis")
    ] = None,
    scale: Annotated[str, typer.Option(help="Proposal scale: proda (2.4/d) | haario "
                                       "(2.4²/d)")] = "proda",
    batch_size: Annotated[int, typer.Option(help="Profiles calibrated together.")] = 16,
    scheduler: Annotated[
        str | None, typer.Option(help="threads (this process, default) | local (a dask "
                                 "cluster) | a scheduler address")
    ] = "threads",
    seed: Annotated[int, typer.Option(help="Seed for every random draw.")] = 0,
) -> None:
    """Profile-level Bayesian calibration of CLM5 or COMPAS (seed 003 §2.6); resumable.

    Example:

        wholesoil assimilate layers.csv --model clm5 --iterations 2000,5000 --chains 3 \\
            --out calibration
    """
    from wholesoil.workflows import assimilate_job

    its = tuple(int(x) for x in _floats(iterations, "--iterations"))
    result = assimilate_job(
        profiles, out, model=model, iterations=its, chains=chains, mode=mode,
        acceptance=acceptance,
        scale=scale, batch_size=batch_size,
        scheduler=None if scheduler == "local" else scheduler, seed=seed,
    )
    _report(result)


@app.command()
@_friendly
def demo(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("wholesoil-demo"),
    seed: Annotated[int, typer.Option(help="Seed for every random draw.")] = 42,
    quick: Annotated[
        bool, typer.Option(help="Fewer pedons, iterations and draws in the slow stages.")
    ] = False,
    calibration_iterations: Annotated[
        str | None,
        typer.Option(help="test,formal iterations of the calibration stage; 20000,50000 is "
                     "seed 003's full protocol (default: a shortened one)."),
    ] = None,
) -> None:
    """The whole workflow on the bundled real data; writes tables, figures and a report.

    Example: wholesoil demo --out wholesoil-demo --quick
    """
    from wholesoil.workflows import run_demo

    its = None
    if calibration_iterations:
        vals = _floats(calibration_iterations, "--calibration-iterations")
        if len(vals) != 2 or min(vals) < 1 or any(v != int(v) for v in vals):
            raise typer.BadParameter("--calibration-iterations needs two positive integers: "
                                     f"test,formal; got {calibration_iterations!r}")
        its = (int(vals[0]), int(vals[1]))
    result = run_demo(out, seed=seed, quick=quick, calibration_iterations=its)
    _report(result)


def _register_areas() -> None:
    """Add the commands that live in per-area modules (``wholesoil._cli_*``)."""
    import importlib

    for name in _AREA_MODULES:
        importlib.import_module(f"wholesoil.{name}").register(app)


_AREA_MODULES: tuple[str, ...] = (
    "_cli_radiocarbon", "_cli_inputs", "_cli_stats", "_cli_proda", "_cli_reproduce",
    "_cli_datasets",
)
_register_areas()


def main() -> None:  # pragma: no cover - console-script entry point
    app()


if __name__ == "__main__":  # pragma: no cover - `python -m wholesoil.cli`
    main()
