"""The single-step jobs behind ``wholesoil qc | harmonize | density | beta``.

Each job reads a table, checks it (strictly, or repairing by named rules with a QC report),
runs one computation and writes its outputs atomically. The CLI only parses arguments and
calls these; the Python API can call them too.

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from wholesoil._outputs import OutputSet, check_outputs
from wholesoil._types import SplineMethod
from wholesoil.errors import InputDataError, MissingColumnError
from wholesoil.io import read_table
from wholesoil.io._registry import source_readers
from wholesoil.io._write import table_writer
from wholesoil.profiles import ProfileSet
from wholesoil.profiles._density import add_soc_density, stock_to_depth
from wholesoil.profiles._qc import QCResult, check_profiles, run_qc
from wholesoil.profiles._ranges import MAX_DEPTH_CM
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
READERS = source_readers()  # wosis, israd, ncscd, …: the io reader registry, loaded on use


def load_horizons(
    path: str | Path,
    *,
    format: str = "table",
    id_column: str = "profile_id",
    top_column: str = "top",
    bottom_column: str = "bottom",
    column_map: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    max_depth: float = MAX_DEPTH_CM,
) -> ProfileSet:
    """Read horizons: a plain CSV/Parquet table (renaming id, depth and mapped columns,
    converting ``units``, keyed by the file's or the canonical name), or a WoSIS, ISRaD or NCSCD
    source through its reader (``format``).

    A source without data rows, or with a depth below ``max_depth`` [cm]
    (:data:`~wholesoil.profiles._ranges.MAX_DEPTH_CM`, 10 m), is an :class:`InputDataError`
    that names the file, row, profile and field.
    """
    if format != "table":
        if format not in READERS:
            raise InputDataError(
                f"unknown format {format!r}; choose one of {['table', *READERS]}",
                field="format",
            )
        if units:
            raise InputDataError(
                f"--units applies to --format table; the {format} reader converts its own "
                "units", field="units", value=dict(units))
        ps = READERS[format](path)
    else:
        cmap = {id_column: "profile_id", top_column: "top", bottom_column: "bottom"}
        cmap.update(column_map or {})
        try:
            from wholesoil.workflows._read import check_unit_columns, unit_keys

            renames = {k: v for k, v in cmap.items() if k != v}
            canonical_units = unit_keys(units, renames)
            check_unit_columns(canonical_units, Path(path).name, renames)
            ps = read_table(path, column_map=renames, units=canonical_units)
        except MissingColumnError as exc:
            option = _COLUMN_OPTIONS.get(exc.field or "")
            if option is None:
                raise
            user = {v: k for k, v in cmap.items()}.get(exc.field, exc.field)
            found = f"; columns found: {exc.value}" if exc.value is not None else ""
            raise MissingColumnError(
                f"the table has no column {user!r} for the {exc.field}{found}; name your own "
                f"column with {option} NAME (or --column-map NAME={exc.field})",
                file=exc.file, row=exc.row, field=user, has_value=False,
            ) from exc
    file = ps.metadata.get("file", Path(path).name)
    if ps.horizons.empty:
        raise InputDataError(
            "no data rows (the table has a header only); nothing to do", file=file, row=2
        )
    names = {"top": top_column, "bottom": bottom_column}
    check_depth_limit(ps, max_depth, names=names if format == "table" else None)
    return ps


#: The option that names each key column of a plain table (the hint of a missing-column error).
_COLUMN_OPTIONS: dict[str, str] = {
    "profile_id": "--id-column", "top": "--top-column", "bottom": "--bottom-column",
}


def check_depth_limit(
    ps: ProfileSet, max_depth: float = MAX_DEPTH_CM, names: Mapping[str, str] | None = None
) -> None:
    """Raise at the first horizon depth deeper than ``max_depth`` [cm] (row, profile, field)."""
    if not max_depth > 0:
        raise InputDataError("max_depth must be a positive depth [cm]", field="max_depth",
                             value=max_depth)
    h = ps.horizons
    for col in ("top", "bottom"):
        v = pd.to_numeric(h[col], errors="coerce").to_numpy(float)
        bad = np.isinf(v) | (np.isfinite(v) & (v > max_depth))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            row = h["source_row"].iloc[i] if "source_row" in h.columns else None
            what = (f"expected a finite depth [cm], got {v[i]:g}" if np.isinf(v[i]) else
                    f"{col} {v[i]:g} cm is deeper than the maximum depth {max_depth:g} cm "
                    "(--max-depth raises it)")
            raise InputDataError(
                what,
                file=ps.metadata.get("file"),
                row=None if row is None or pd.isna(row) else int(row),
                profile=h["profile_id"].iloc[i],
                field=(names or {}).get(col, col),
            )


def check_depths_option(depths: Sequence[float], max_depth: float = MAX_DEPTH_CM,
                        option: str = "depths") -> None:
    """Raise if a requested depth [cm] lies beyond ``max_depth``."""
    deep = [d for d in depths if not np.isfinite(d) or d > max_depth]
    if deep:
        raise InputDataError(
            f"depth {deep[0]:g} cm is beyond the maximum depth {max_depth:g} cm "
            "(--max-depth raises it)",
            field=option, value=deep[0],
        )


def checked(
    profiles: ProfileSet,
    *,
    qc: QCMode = "strict",
    variables: Sequence[str] | None = None,
    min_layers: int | None = None,
    min_depth: float | None = None,
    check_ranges: Sequence[str] = (),
) -> tuple[ProfileSet, QCResult | None]:
    """Strict: raise on the first problem. Repair: apply the QC rules and return the report.

    ``check_ranges`` are further variables range-checked where present
    (:data:`~wholesoil.profiles._ranges.PHYSICAL_RANGES`). Strict mode refuses a profile set
    that has no horizons left.
    """
    if qc == "strict" and min_layers is None and min_depth is None:
        check_profiles(profiles, variables=variables, check_ranges=check_ranges)
        return profiles, None
    res = run_qc(profiles, min_layers=min_layers, min_depth=min_depth, variables=variables,
                 check_ranges=check_ranges)
    if qc == "strict":
        check_profiles(profiles, variables=variables, check_ranges=check_ranges)
    return res.profiles, res


def _qc_side(outs: OutputSet, result: JobResult, output: Path) -> None:
    """Plan the QC report beside ``output`` (repair mode)."""
    if result.qc is not None:
        path = output.with_name(f"{output.stem}.qc{output.suffix or '.csv'}")
        outs.add("qc_report", *table_writer(result.qc.report, path))
        result.outputs["qc_report"] = path
        result.messages.append(result.qc.to_text(report_file=path))


def _commit(outs: OutputSet, result: JobResult) -> JobResult:
    outs.commit()
    return result


def _inputs(path: str | Path) -> list[str | Path]:
    return [path]


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

    ``rules`` picks a rule per check (see :data:`wholesoil.profiles.RULES`). Both files are
    written together or not at all, and neither may be the input (:mod:`wholesoil._outputs`).
    """
    output = Path(output)
    report = Path(report) if report else output.with_name(f"{output.stem}.qc.csv")
    # paths first: a clash is refused before any work, and again before any write
    check_outputs(_inputs(horizons), {"horizons": output, "qc_report": report})
    ps = load_horizons(horizons, **read_kwargs)  # type: ignore[arg-type]
    res = run_qc(ps, rules=rules, min_layers=min_layers, min_depth=min_depth)
    outs = OutputSet(_inputs(horizons))
    outs.add("horizons", *table_writer(res.profiles.horizons, output))
    outs.add("qc_report", *table_writer(res.report, report))
    return _commit(outs, JobResult(
        res.profiles.horizons,
        {"horizons": output, "qc_report": report},
        res,
        [res.to_text(report_file=report)],
    ))


def _side(output: Path, name: str) -> Path:
    return output.with_name(f"{output.stem}.{name}{output.suffix or '.csv'}")


def _qc_planned(output: Path, qc: str) -> dict[str, Path]:
    """The QC report beside ``output``, which repair mode writes (strict mode writes none)."""
    return {"qc_report": _side(output, "qc")} if qc == "repair" else {}


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
    max_depth: float = MAX_DEPTH_CM,
    **read_kwargs: object,
) -> JobResult:
    """Harmonize one variable to standard depths with the equal-area spline.

    Depths beyond ``max_depth`` [cm] are refused, as is a request whose working memory
    exceeds the budget (:func:`wholesoil.profiles._spline.check_spline_memory`).
    """
    output = Path(output)
    check_outputs(_inputs(horizons), {"layers": output, **_qc_planned(output, qc)})
    check_depths_option(depths, max_depth)
    ps = load_horizons(horizons, max_depth=max_depth, **read_kwargs)  # type: ignore[arg-type]
    ps, qcres = checked(ps, qc=qc, variables=[variable])
    with step(f"equal-area splines of {variable}", stage="harmonize"):
        table = harmonize(ps, variable, depths=depths, lam=lam, method=method, clamp=clamp)
    outs = OutputSet(_inputs(horizons))
    outs.add("layers", *table_writer(
        table[["profile_id", "top", "bottom", variable, "coverage"]], output))
    result = JobResult(table, {"layers": output}, qcres)
    _qc_side(outs, result, output)
    return _commit(outs, result)


def density_job(
    horizons: str | Path,
    output: str | Path,
    *,
    fill_bd: bool = True,
    refit_bd: bool = False,
    stock_depths: Sequence[float] = (30.0, 100.0),
    qc: QCMode = "strict",
    max_depth: float = MAX_DEPTH_CM,
    **read_kwargs: object,
) -> JobResult:
    """SOC density per horizon (Wang H. et al. (2025) Eq. 1), BD filled by pedotransfer, stocks to
    depths.

    SOC, bulk density and gravel are checked against
    :data:`~wholesoil.profiles._ranges.PHYSICAL_RANGES`: strict mode refuses a value outside
    its range; repair mode sets it to NaN (rule ``value_range=set_nan``, reported in the QC
    report), after which a missing BD is filled by pedotransfer and a missing gravel counts
    as 0 % (flagged in ``gravel_assumed_zero``).
    """
    output = Path(output)
    spath = _side(output, "stocks")
    check_outputs(_inputs(horizons), {"horizons": output, "stocks": spath,
                                      **_qc_planned(output, qc)})
    check_depths_option(stock_depths, max_depth, "stock_depths")
    ps = load_horizons(horizons, max_depth=max_depth, **read_kwargs)  # type: ignore[arg-type]
    # BD may be missing where it will be filled; only SOC is required then
    ps, qcres = checked(ps, qc=qc, variables=["soc"] if fill_bd else ["soc", "bd"],
                        check_ranges=("bd", "gravel"))
    h = ps.horizons
    messages = []
    if fill_bd:
        params = None
        if refit_bd:
            from wholesoil.profiles._pedotransfer import fit_bd_pedotransfer  # scipy.optimize

            fit = fit_bd_pedotransfer(h["soc"], h["bd"] if "bd" in h else float("nan"))
            params = fit
            messages.append(
                f"BD pedotransfer refitted on {fit.n} horizons: α={fit.alpha:.4f}, "
                f"β={fit.beta:.4f}, γ={fit.gamma:.5f}, R²={fit.r2:.3f}"
            )
        from wholesoil.profiles._pedotransfer import fill_bulk_density

        h = fill_bulk_density(h, params)
        messages.append(
            f"bulk density filled by pedotransfer in {int(h['bd_filled'].sum())} "
            f"of {len(h)} horizons (flagged in column bd_filled)"
        )
    h = add_soc_density(h, overwrite=True)
    stocks = stock_to_depth(h, depths=stock_depths)
    outs = OutputSet(_inputs(horizons))
    outs.add("horizons", *table_writer(h, output))
    outs.add("stocks", *table_writer(stocks, spath))
    result = JobResult(h, {"horizons": output, "stocks": spath}, qcres, messages)
    _qc_side(outs, result, output)
    return _commit(outs, result)


def beta_job(
    layers: str | Path,
    output: str | Path,
    *,
    value: str = "soc_density",
    models: Sequence[str] = ("beta", "exponential", "power"),
    group_column: str | None = None,
    qc: QCMode = "strict",
    max_depth: float = MAX_DEPTH_CM,
    fit: str = "fraction",
    **read_kwargs: object,
) -> JobResult:
    """Fit depth functions per profile; optionally compare β across groups.

    ``fit`` picks the β fit (:func:`wholesoil.depth.fit_depth_functions` ``method``):
    ``"fraction"`` (the default: least squares on the cumulative fraction, as Wang H. et al.
    2025 and Jobbágy & Jackson 2000) or ``"stock"`` (least squares on cumulative stocks).
    """
    if fit not in ("fraction", "stock"):
        raise InputDataError(f"fit must be 'fraction' or 'stock', got {fit!r}", field="fit",
                             value=fit)
    from wholesoil.workflows._groups import GROUP_TABLES, compare_groups

    output = Path(output)
    planned = {"fits": output, **_qc_planned(output, qc)}
    if group_column:
        planned.update({n: _side(output, n) for n in GROUP_TABLES})
    check_outputs(_inputs(layers), planned)
    ps = load_horizons(layers, max_depth=max_depth, **read_kwargs)  # type: ignore[arg-type]
    if value not in ps.horizons.columns:
        have = sorted(c for c in ps.horizons.columns if c != "source_row")
        hint = (f"compute it first: wholesoil density {Path(layers).name} -o layers_density.csv "
                f"(writes {value} [Mg C/ha per layer] from soc, bd and gravel), then wholesoil "
                f"beta layers_density.csv" if value == "soc_density" else
                "name the layer density column with --value")
        raise MissingColumnError(f"no column {value!r} (columns: {', '.join(have)}); {hint}",
                                 file=ps.metadata.get("file"), field=value)
    ps, qcres = checked(ps, qc=qc, variables=[value])
    with step(f"depth functions ({', '.join(models)})", stage="beta"):
        from wholesoil.depth import fit_depth_functions

        fits = fit_depth_functions(ps.horizons, value=value, models=tuple(models),
                                   method=fit)  # type: ignore[arg-type]
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
    outs = OutputSet(_inputs(layers))
    outs.add("fits", *table_writer(fits, output))
    result = JobResult(fits, {"fits": output}, qcres)
    if group_column:
        comp = compare_groups(fits["beta"], fits[group_column])
        for name, df in comp.tables.items():
            result.outputs[name] = outs.add(name, *table_writer(df, _side(output, name)))
        result.messages.append(comp.summary)
    _qc_side(outs, result, output)
    return _commit(outs, result)
