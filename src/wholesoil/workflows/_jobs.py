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
from wholesoil._types import HarmonizeMode, SplineMethod, StockMethod
from wholesoil.errors import InputDataError, MissingColumnError, translate_names, user_names
from wholesoil.io import read_table
from wholesoil.io._headers import COLUMN_UNITS, GROUP_TABLE_UNITS, user_name
from wholesoil.io._registry import source_readers
from wholesoil.io._write import user_table_writer
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


def _user_report(report: pd.DataFrame, meta: Mapping[str, object]) -> pd.DataFrame:
    """The QC report in the user's words: their column names in ``field`` and ``message``."""
    names: Mapping[str, str] = meta.get("user_names", {})  # type: ignore[assignment]
    if not names:
        return report
    out = report.copy()
    out["field"] = out["field"].map(lambda f: names.get(f, f) if isinstance(f, str) else f)
    out["message"] = out["message"].map(
        lambda m: translate_names(m, names) if isinstance(m, str) else m)
    return out


def _horizons_out(h: pd.DataFrame) -> pd.DataFrame:
    """Horizons as a user's file holds them: the internal ``source_row`` is left out (it
    would name rows of the input, not of this file; the QC report's ``row`` column has them)."""
    return h.drop(columns=["source_row"], errors="ignore")


def _names(ps: ProfileSet) -> Mapping[str, str]:
    return ps.metadata.get("user_names", {})


def _qc_side(outs: OutputSet, result: JobResult, output: Path,
             meta: Mapping[str, object] | None = None, canonical_names: bool = False) -> None:
    """Plan the QC report beside ``output`` (repair mode)."""
    if result.qc is not None:
        path = output.with_name(f"{output.stem}.qc{output.suffix or '.csv'}")
        outs.add("qc_report", *user_table_writer(_user_report(result.qc.report, meta or {}),
                                                 path, meta, canonical_names=canonical_names))
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
    canonical_names: bool = False,
    **read_kwargs: object,
) -> JobResult:
    """Check and repair a horizon table; write the cleaned horizons and the QC report.

    ``rules`` picks a rule per check (see :data:`wholesoil.profiles.RULES`). Both files are
    written together or not at all, and neither may be the input (:mod:`wholesoil._outputs`).
    The files keep the user's column names unless ``canonical_names``
    (:mod:`wholesoil.io._headers`); the report's ``row`` is the row of the input.
    """
    output = Path(output)
    report = Path(report) if report else output.with_name(f"{output.stem}.qc.csv")
    # paths first: a clash is refused before any work, and again before any write
    check_outputs(_inputs(horizons), {"horizons": output, "qc_report": report})
    ps = load_horizons(horizons, **read_kwargs)  # type: ignore[arg-type]
    with user_names(_names(ps)):
        res = run_qc(ps, rules=rules, min_layers=min_layers, min_depth=min_depth)
    outs = OutputSet(_inputs(horizons))
    meta = ps.metadata
    outs.add("horizons", *user_table_writer(_horizons_out(res.profiles.horizons), output, meta,
                                            canonical_names=canonical_names))
    outs.add("qc_report", *user_table_writer(_user_report(res.report, meta), report, meta,
                                             canonical_names=canonical_names))
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
    lam: float | None = None,
    method: SplineMethod | StockMethod | None = None,
    clamp: tuple[float, float] | None = None,
    qc: QCMode = "strict",
    max_depth: float = MAX_DEPTH_CM,
    mode: HarmonizeMode = "mean",
    min_coverage: float = 1.0,
    canonical_names: bool = False,
    **read_kwargs: object,
) -> JobResult:
    """Harmonize one variable to standard depths with the equal-area spline.

    ``mode="mean"`` (λ 0.1, method ``"mpspline2"`` unless given) refuses a per-layer amount
    such as ``soc_density``; ``mode="stock"`` turns amounts into stocks of the standard layers
    (:func:`wholesoil.workflows._layer_stocks.layer_stocks_job`, λ 0, method ``"uniform"``
    unless given). Depths beyond ``max_depth`` [cm] are refused, as is a request whose working
    memory exceeds the budget (:func:`wholesoil.profiles._spline.check_spline_memory`).
    """
    from wholesoil.workflows import _layer_stocks as stock_mode

    if mode == "stock":
        return stock_mode.layer_stocks_job(horizons, variable, output, depths=depths, lam=lam,
                                           method=method, clamp=clamp, min_coverage=min_coverage,
                                           qc=qc, max_depth=max_depth,
                                           canonical_names=canonical_names, **read_kwargs)
    lam, method = stock_mode.mean_mode_options(mode, lam, method, min_coverage)
    output = Path(output)
    check_outputs(_inputs(horizons), {"layers": output, **_qc_planned(output, qc)})
    check_depths_option(depths, max_depth)
    ps = load_horizons(horizons, max_depth=max_depth, **read_kwargs)  # type: ignore[arg-type]
    meta = ps.metadata
    with user_names(_names(ps)):
        stock_mode.refuse_extensive(variable, {**meta.get("header_units", {}),
                                               **meta.get("units", {})}, meta.get("file"))
        ps, qcres = checked(ps, qc=qc, variables=[variable])
        with step(f"equal-area splines of {variable}", stage="harmonize"):
            table = harmonize(ps, variable, depths=depths, lam=lam, method=method, clamp=clamp)
    outs = OutputSet(_inputs(horizons))
    outs.add("layers", *user_table_writer(
        table[["profile_id", "top", "bottom", variable, "coverage"]], output, meta,
        canonical_names=canonical_names))
    result = JobResult(table, {"layers": output}, qcres)
    _qc_side(outs, result, output, meta, canonical_names)
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
    canonical_names: bool = False,
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
    with user_names(_names(ps)):
        return _density(ps, horizons, output, spath, fill_bd=fill_bd, refit_bd=refit_bd,
                        stock_depths=stock_depths, qc=qc, canonical_names=canonical_names)


def _density(ps: ProfileSet, horizons: str | Path, output: Path, spath: Path, *, fill_bd: bool,
             refit_bd: bool, stock_depths: Sequence[float], qc: QCMode,
             canonical_names: bool) -> JobResult:
    meta = ps.metadata
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
    outs.add("horizons", *user_table_writer(_horizons_out(h), output, meta,
                                            canonical_names=canonical_names))
    outs.add("stocks", *user_table_writer(stocks, spath, meta, canonical_names=canonical_names))
    result = JobResult(h, {"horizons": output, "stocks": spath}, qcres, messages)
    _qc_side(outs, result, output, meta, canonical_names)
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
    canonical_names: bool = False,
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
        have = sorted(user_name(c, ps.metadata) for c in ps.horizons.columns
                      if c != "source_row")
        hint = (f"compute it first: wholesoil density {Path(layers).name} -o layers_density.csv "
                f"(writes {value} [Mg C/ha per layer] from soc, bd and gravel), then wholesoil "
                f"beta layers_density.csv" if value == "soc_density" else
                "name the layer density column with --value")
        raise MissingColumnError(f"no column {value!r} (columns: {', '.join(have)}); {hint}",
                                 file=ps.metadata.get("file"), field=value)
    meta = ps.metadata
    with user_names(_names(ps)):
        ps, qcres = checked(ps, qc=qc, variables=[value])
        with step(f"depth functions ({', '.join(models)})", stage="beta"):
            from wholesoil.depth import fit_depth_functions

            fits = fit_depth_functions(ps.horizons, value=value, models=tuple(models),
                                       method=fit)  # type: ignore[arg-type]
    value_unit = (COLUMN_UNITS.get(value) or meta.get("header_units", {}).get(value)
                  or f"units of {user_name(value, meta)}")
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
    outs.add("fits", *user_table_writer(fits, output, meta, canonical_names=canonical_names,
                                        value_unit=value_unit))
    result = JobResult(fits, {"fits": output}, qcres)
    if group_column:
        comp = compare_groups(fits["beta"], fits[group_column])
        for name, df in comp.tables.items():
            result.outputs[name] = outs.add(name, *user_table_writer(
                df, _side(output, name), meta, canonical_names=canonical_names,
                units=GROUP_TABLE_UNITS))
        result.messages.append(comp.summary)
    _qc_side(outs, result, output, meta, canonical_names)
    return _commit(outs, result)
