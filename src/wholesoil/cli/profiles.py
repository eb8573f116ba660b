"""Profile commands: ``qc``, ``harmonize``, ``density`` and ``beta`` (Wang H. et al. (2025),
Wang G. et al. (2025)).

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023

Wang, G., Luo, Z., Song, C., et al. (2025). Digging deeper towards accurate mapping of deep soil
organic carbon in grasslands. Science Bulletin. https://doi.org/10.1016/j.scib.2025.06.006

Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wholesoil.cli._common import (
    INPUT_REF,
    BottomColumnOpt,
    CanonicalNamesOpt,
    ColumnMapOpt,
    FormatOpt,
    IdColumnOpt,
    TopColumnOpt,
    UnitsOpt,
    _floats,
    _friendly,
    _pairs,
    _report,
    read_options,
    write_options,
)

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


def _qc_mode(qc: str) -> str:
    if qc not in ("strict", "repair"):
        raise typer.BadParameter(f"--qc must be 'strict' or 'repair', got {qc!r}")
    return qc


@_friendly
def harmonize(
    horizons: Annotated[Path, typer.Argument(
        help="Horizon table (CSV or Parquet). " + INPUT_REF)],
    variable: Annotated[str, typer.Option("--variable", help="Column to harmonize.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output CSV/Parquet.")],
    depths: Annotated[str, typer.Option(help="Standard depths [cm].")] = "0,5,15,30,60,100,200",
    lam: Annotated[
        float | None, typer.Option("--lam", help="Spline smoothing λ (0.1; 0 in --mode stock).")
    ] = None,
    method: Annotated[
        str | None,
        typer.Option(help="mpspline2 (parity, the default) or exact; in --mode stock uniform "
                     "(the default, exactly mass-preserving) or exact (the spline)."),
    ] = None,
    clamp: Annotated[
        str | None, typer.Option(help="LOW,HIGH clamp of 1-cm values (none by default).")
    ] = None,
    id_column: IdColumnOpt = "profile_id",
    top_column: TopColumnOpt = "top",
    bottom_column: BottomColumnOpt = "bottom",
    column_map: ColumnMapOpt = None,
    units: UnitsOpt = None,
    fmt: FormatOpt = "table",
    canonical_names: CanonicalNamesOpt = False,
    max_depth: MaxDepthOpt = 1000.0,
    qc: QcOpt = "strict",
    mode: Annotated[
        str,
        typer.Option("--mode", help="mean: layer means of a concentration (soc [g kg-1]); "
                     "stock: per-layer amounts (soc_density [Mg C ha-1]) to the stock of each "
                     "standard layer, with coverage and a partial flag."),
    ] = "mean",
    min_coverage: Annotated[
        float,
        typer.Option("--min-coverage", help="--mode stock: report a layer's stock where "
                     "horizons cover at least this fraction of it (its covered part only, "
                     "flagged partial), else NaN; 1 = complete layers only."),
    ] = 1.0,
) -> None:
    """Equal-area spline to standard depths: your id and depth columns, VARIABLE, coverage.

    Headers keep your column names and carry units (--canonical-names for wholesoil's names).

    A per-layer amount (soc_density [Mg C ha-1]) needs --mode stock: the stock of each standard
    layer, with coverage and a partial flag.

    Examples:
        wholesoil harmonize horizons.csv --variable soc --depths 0,5,15,30,60,100 -o gsm.csv
        wholesoil harmonize density.csv --variable soc_density --mode stock -o stocks.csv
    """
    from wholesoil.workflows import harmonize_job

    if mode not in ("mean", "stock"):
        raise typer.BadParameter(f"--mode must be mean or stock, got {mode!r}")
    allowed = ("uniform", "exact") if mode == "stock" else ("mpspline2", "exact")
    if method is not None and method not in allowed:
        raise typer.BadParameter(f"--method must be {' or '.join(allowed)} with --mode {mode}, "
                                 f"got {method!r}")
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
        mode=mode,  # type: ignore[arg-type]
        min_coverage=min_coverage,
        **read_options(id_column=id_column, top_column=top_column, bottom_column=bottom_column,
                       column_map=column_map, units=units, fmt=fmt),
        **write_options(canonical_names),
    )
    _report(result)


@_friendly
def qc(
    horizons: Annotated[Path, typer.Argument(
        help="Horizon table (CSV or Parquet). " + INPUT_REF)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Cleaned horizons.")],
    report: Annotated[
        Path | None, typer.Option(help="QC report (default: OUTPUT with .qc before suffix).")
    ] = None,
    rules: Annotated[
        str | None,
        typer.Option(help="Rules per check, CHECK=RULE,… (e.g. value_range=flag,overlap=exclude)."),
    ] = None,
    min_layers: Annotated[
        int | None, typer.Option(help="Keep profiles with at least this many layers "
                                      "(Tao et al. (EarthArXiv): 3).")
    ] = None,
    min_depth: Annotated[
        float | None, typer.Option(help="Keep profiles deeper than this [cm] "
                                        "(Tao et al. (EarthArXiv): 50).")
    ] = None,
    id_column: IdColumnOpt = "profile_id",
    top_column: TopColumnOpt = "top",
    bottom_column: BottomColumnOpt = "bottom",
    column_map: ColumnMapOpt = None,
    units: UnitsOpt = None,
    fmt: FormatOpt = "table",
    canonical_names: CanonicalNamesOpt = False,
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
        **read_options(id_column=id_column, top_column=top_column, bottom_column=bottom_column,
                       column_map=column_map, units=units, fmt=fmt),
        **write_options(canonical_names),
    )
    _report(result)


@_friendly
def density(
    horizons: Annotated[Path, typer.Argument(
        help="Horizons with soc [g/kg], bd, gravel. " + INPUT_REF)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Horizons with soc_density.")],
    fill_bd: Annotated[bool, typer.Option(help="Fill missing BD by pedotransfer.")] = True,
    refit_bd: Annotated[
        bool, typer.Option(help="Refit the pedotransfer on horizons that have BD.")
    ] = False,
    stock_depths: Annotated[str, typer.Option(help="Stocks from 0 to these depths [cm].")] = (
        "30,100"
    ),
    id_column: IdColumnOpt = "profile_id",
    top_column: TopColumnOpt = "top",
    bottom_column: BottomColumnOpt = "bottom",
    column_map: ColumnMapOpt = None,
    units: UnitsOpt = None,
    fmt: FormatOpt = "table",
    canonical_names: CanonicalNamesOpt = False,
    max_depth: MaxDepthOpt = 1000.0,
    qc: QcOpt = "strict",
) -> None:
    """SOC density per horizon (Wang H. et al. (2025) Eq. 1) [Mg C/ha] and stocks to depths.

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
        **read_options(id_column=id_column, top_column=top_column, bottom_column=bottom_column,
                       column_map=column_map, units=units, fmt=fmt),
        **write_options(canonical_names),
    )
    _report(result)


@_friendly
def beta(
    layers: Annotated[Path, typer.Argument(
        help="Layers with SOC density [Mg C/ha]. " + INPUT_REF)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Per-profile fits.")],
    value: Annotated[str, typer.Option(help="Layer density column.")] = "soc_density",
    models: Annotated[str, typer.Option(help="Models compared by AIC.")] = "beta,exponential,power",
    group_column: Annotated[
        str | None, typer.Option(help="Compare β across groups (ANOVA, Duncan, Tukey).")
    ] = None,
    id_column: IdColumnOpt = "profile_id",
    top_column: TopColumnOpt = "top",
    bottom_column: BottomColumnOpt = "bottom",
    column_map: ColumnMapOpt = None,
    units: UnitsOpt = None,
    fmt: FormatOpt = "table",
    canonical_names: CanonicalNamesOpt = False,
    max_depth: MaxDepthOpt = 1000.0,
    qc: QcOpt = "strict",
    fit: Annotated[
        str, typer.Option("--fit", help="β fit: fraction (least squares on the cumulative "
                          "fraction, the paper's) or stock (on cumulative stocks).")
    ] = "fraction",
) -> None:
    """Jobbágy–Jackson β per profile (Wang H. et al. (2025) Eqs. 2–3), alternatives by AIC, group
    tests.

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
        **read_options(id_column=id_column, top_column=top_column, bottom_column=bottom_column,
                       column_map=column_map, units=units, fmt=fmt),
        **write_options(canonical_names),
    )
    _report(result)


def register(app: typer.Typer) -> None:
    """Add ``harmonize``, ``qc``, ``density``, ``beta`` to the ``wholesoil`` app."""
    app.command()(harmonize)
    app.command()(qc)
    app.command()(density)
    app.command()(beta)
