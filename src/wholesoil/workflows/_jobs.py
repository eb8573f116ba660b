"""The single-step jobs behind ``wholesoil qc | harmonize | density | beta``.

Each job reads a table, checks it (strictly, or repairing by named rules with a QC report),
runs one computation and writes its outputs atomically. The CLI only parses arguments and
calls these; the Python API can call them too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from wholesoil._types import SplineMethod
from wholesoil.depth import fit_depth_functions
from wholesoil.errors import InputDataError, MissingColumnError
from wholesoil.io import read_israd, read_ncscd, read_table, read_wosis, write_table
from wholesoil.profiles import ProfileSet
from wholesoil.profiles._density import add_soc_density, stock_to_depth
from wholesoil.profiles._pedotransfer import fill_bulk_density, fit_bd_pedotransfer
from wholesoil.profiles._qc import QCResult, check_profiles, run_qc
from wholesoil.profiles._spline import STANDARD_DEPTHS, harmonize
from wholesoil.progress import step

QCMode = Literal["strict", "repair"]


@dataclass
class JobResult:
    """What a job wrote and the main table it produced."""

    table: pd.DataFrame
    outputs: dict[str, Path] = field(default_factory=dict)
    qc: QCResult | None = None
    messages: list[str] = field(default_factory=list)


#: Source formats the jobs read: a plain table (with a column map) or one of the readers.
READERS = {"wosis": read_wosis, "israd": read_israd, "ncscd": read_ncscd}


def load_horizons(
    path: str | Path,
    *,
    format: str = "table",
    id_column: str = "profile_id",
    top_column: str = "top",
    bottom_column: str = "bottom",
    column_map: Mapping[str, str] | None = None,
) -> ProfileSet:
    """Read horizons: a plain CSV/Parquet table (renaming id, depth and mapped columns), or a
    WoSIS, ISRaD or NCSCD source through its reader (``format``)."""
    if format != "table":
        if format not in READERS:
            raise InputDataError(
                f"unknown format {format!r}; choose one of {['table', *READERS]}",
                field="format",
            )
        return READERS[format](path)
    cmap = {id_column: "profile_id", top_column: "top", bottom_column: "bottom"}
    cmap.update(column_map or {})
    return read_table(path, column_map={k: v for k, v in cmap.items() if k != v})


def checked(
    profiles: ProfileSet,
    *,
    qc: QCMode = "strict",
    variables: Sequence[str] | None = None,
    min_layers: int | None = None,
    min_depth: float | None = None,
) -> tuple[ProfileSet, QCResult | None]:
    """Strict: raise on the first problem. Repair: apply the QC rules and return the report."""
    if qc == "strict" and min_layers is None and min_depth is None:
        check_profiles(profiles, variables=variables)
        return profiles, None
    res = run_qc(profiles, min_layers=min_layers, min_depth=min_depth, variables=variables)
    if qc == "strict":
        check_profiles(profiles, variables=variables)
    return res.profiles, res


def _qc_outputs(result: JobResult, output: Path) -> None:
    if result.qc is not None:
        path = output.with_name(f"{output.stem}.qc{output.suffix or '.csv'}")
        write_table(result.qc.report, path)
        result.outputs["qc_report"] = path
        result.messages.append(result.qc.to_text())


def qc_job(
    horizons: str | Path,
    output: str | Path,
    *,
    report: str | Path | None = None,
    rules: Mapping[str, str] | None = None,
    min_layers: int | None = None,
    min_depth: float | None = None,
    **read_kwargs: object,
) -> JobResult:
    """Check and repair a horizon table; write the cleaned horizons and the QC report.

    ``rules`` picks a rule per check (see :data:`wholesoil.profiles.RULES`).
    """
    ps = load_horizons(horizons, **read_kwargs)  # type: ignore[arg-type]
    res = run_qc(ps, rules=rules, min_layers=min_layers, min_depth=min_depth)
    output = Path(output)
    report = Path(report) if report else output.with_name(f"{output.stem}.qc.csv")
    write_table(res.profiles.horizons, output)
    write_table(res.report, report)
    return JobResult(
        res.profiles.horizons,
        {"horizons": output, "qc_report": report},
        res,
        [res.to_text()],
    )


def harmonize_job(
    horizons: str | Path,
    variable: str,
    output: str | Path,
    *,
    depths: Sequence[float] = STANDARD_DEPTHS,
    lam: float = 0.1,
    method: SplineMethod = "mpspline2",
    clamp: tuple[float, float] | None = None,
    qc: QCMode = "strict",
    **read_kwargs: object,
) -> JobResult:
    """Harmonize one variable to standard depths with the equal-area spline."""
    ps = load_horizons(horizons, **read_kwargs)  # type: ignore[arg-type]
    ps, qcres = checked(ps, qc=qc, variables=[variable])
    with step(f"equal-area splines of {variable}", stage="harmonize"):
        table = harmonize(ps, variable, depths=depths, lam=lam, method=method, clamp=clamp)
    output = Path(output)
    write_table(table[["profile_id", "top", "bottom", variable, "coverage"]], output)
    result = JobResult(table, {"layers": output}, qcres)
    _qc_outputs(result, output)
    return result


def density_job(
    horizons: str | Path,
    output: str | Path,
    *,
    fill_bd: bool = True,
    refit_bd: bool = False,
    stock_depths: Sequence[float] = (30.0, 100.0),
    qc: QCMode = "strict",
    **read_kwargs: object,
) -> JobResult:
    """SOC density per horizon (seed 000 Eq. 1), BD filled by pedotransfer, stocks to depths."""
    ps = load_horizons(horizons, **read_kwargs)  # type: ignore[arg-type]
    # BD may be missing where it will be filled; only SOC is required then
    ps, qcres = checked(ps, qc=qc, variables=["soc"] if fill_bd else ["soc", "bd"])
    h = ps.horizons
    messages = []
    if fill_bd:
        params = None
        if refit_bd:
            fit = fit_bd_pedotransfer(h["soc"], h["bd"] if "bd" in h else float("nan"))
            params = fit
            messages.append(
                f"BD pedotransfer refitted on {fit.n} horizons: α={fit.alpha:.4f}, "
                f"β={fit.beta:.4f}, γ={fit.gamma:.5f}, R²={fit.r2:.3f}"
            )
        h = fill_bulk_density(h, params)
        messages.append(
            f"bulk density filled by pedotransfer in {int(h['bd_filled'].sum())} "
            f"of {len(h)} horizons (flagged in column bd_filled)"
        )
    h = add_soc_density(h, overwrite=True)
    output = Path(output)
    write_table(h, output)
    stocks = stock_to_depth(h, depths=stock_depths)
    spath = output.with_name(f"{output.stem}.stocks{output.suffix or '.csv'}")
    write_table(stocks, spath)
    result = JobResult(h, {"horizons": output, "stocks": spath}, qcres, messages)
    _qc_outputs(result, output)
    return result


def beta_job(
    layers: str | Path,
    output: str | Path,
    *,
    value: str = "soc_density",
    models: Sequence[str] = ("beta", "exponential", "power"),
    group_column: str | None = None,
    qc: QCMode = "strict",
    **read_kwargs: object,
) -> JobResult:
    """Fit depth functions per profile; optionally compare β across groups."""
    from wholesoil.workflows._groups import compare_groups

    ps = load_horizons(layers, **read_kwargs)  # type: ignore[arg-type]
    ps, qcres = checked(ps, qc=qc, variables=[value])
    with step(f"depth functions ({', '.join(models)})", stage="beta"):
        fits = fit_depth_functions(ps.horizons, value=value, models=tuple(models))
    output = Path(output)
    if group_column:
        if group_column in ps.sites.columns:  # readers move site attributes to the site table
            groups = ps.sites.set_index("profile_id")[group_column]
        elif group_column in ps.horizons.columns:
            groups = ps.horizons.groupby("profile_id")[group_column].first()
        else:
            raise MissingColumnError(
                f"no group column {group_column!r} in sites or horizons",
                file=ps.metadata.get("file"),
                field=group_column,
            )
        fits[group_column] = fits["profile_id"].map(groups)
    write_table(fits, output)
    result = JobResult(fits, {"fits": output}, qcres)
    if group_column:
        comp = compare_groups(fits["beta"], fits[group_column])
        for name, df in comp.tables.items():
            p = output.with_name(f"{output.stem}.{name}{output.suffix or '.csv'}")
            write_table(df, p)
            result.outputs[name] = p
        result.messages.append(comp.summary)
    _qc_outputs(result, output)
    return result
