"""The QC result and report: the state that collects report rows, and their formatting.

:class:`QCResult` (cleaned profiles, report, summary); ``_QCState`` holds the working tables of
one run and adds report rows (repairs, exclusions, flags) that the checks of
:mod:`wholesoil.profiles._qc_checks` find.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wholesoil.errors import MissingColumnError
from wholesoil.profiles._profileset import HORIZON_COLUMNS, VALUE_RANGES, ProfileSet
from wholesoil.profiles._qc_rules import (
    _INTERNAL,
    _ORDER,
    REPORT_COLUMNS,
    ReportAction,
    _resolve_rules,
)

__all__ = [
    "QCResult",
]


@dataclass
class QCResult:
    """Outcome of :func:`run_qc`.

    Attributes
    ----------
    profiles : ProfileSet
        The cleaned profiles.
    report : pandas.DataFrame
        One row per finding, columns :data:`REPORT_COLUMNS`: ``profile_id``, ``source_row``
        (row in the source file, header = row 1; missing when the set has no ``source_row``),
        ``horizon`` (``"top–bottom"`` [cm] as found in the input; missing for site rows),
        ``check``, ``rule``, ``action`` (``"repair"``, ``"exclude"`` or ``"flag"``), ``field``,
        ``before``, ``after`` (``None`` for exclusions) and ``message``. Rows are in
        :data:`CHECKS` order, then in source-row order (profile and depth order without
        source rows). A horizon excluded by QC has
        exactly one ``"exclude"`` row with a non-missing ``horizon``.
    summary : dict
        ``profiles_in``, ``profiles_out``, ``horizons_in``, ``horizons_out``,
        ``horizons_excluded``, ``counts`` (``{check: {action: n}}``) and ``rules``.
    rules : dict
        The rule used for each check.
    """

    profiles: ProfileSet
    report: pd.DataFrame
    summary: dict[str, Any]
    rules: dict[str, str] = field(default_factory=dict)

    def to_text(self, report_file: str | Path | None = None) -> str:
        """A plain-text summary: counts in and out, then findings per check and action.

        ``report_file``: the file the report was written to (the commands pass it), named in
        the last line instead of the :attr:`report` attribute.
        """
        s = self.summary
        src = self.profiles.metadata.get("file") or self.profiles.metadata.get("source")
        head = f"QC of {src!r}: " if src else "QC: "
        lines = [
            f"{head}{s['profiles_in']} profiles, {s['horizons_in']} horizons in; "
            f"{s['profiles_out']} profiles, {s['horizons_out']} horizons out "
            f"({s['horizons_excluded']} horizons excluded)."
        ]
        if not s["counts"]:
            lines.append("No findings: the data are unchanged.")
            return "\n".join(lines)
        lines.append(f"{'check':<22} {'action':<8} {'findings':>8}  rule")
        for check, actions in s["counts"].items():
            for action, n in actions.items():
                rule = self.rules.get(check, "")
                lines.append(f"{check:<22} {action:<8} {n:>8}  {rule}")
        where = f"the QC report {report_file}" if report_file else "QCResult.report"
        lines.append(f"Every change is listed, with its rule, in {where}.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def _fmt(v: Any) -> str:
    """A depth or value as text: ``20`` not ``20.0``; NaN as ``?``."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if np.isnan(x):
        return "?"
    return f"{x:g}"


def _show(v: Any) -> str:
    """The offending value as strict-mode messages show it."""
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, float | np.floating) and np.isnan(v):
        return "an empty cell"
    return _fmt(v)


def _fmts(x: Any) -> pd.Series:
    """Vector of :func:`_fmt` strings (a comprehension over findings, not over profiles)."""
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        return pd.Series(np.asarray(x, dtype=object)).map(_fmt)
    out = [f"{v:g}" for v in arr.ravel().tolist()]
    return pd.Series(out, dtype=object).replace("nan", "?")


def _isin(values: pd.Series, universe: pd.Series) -> np.ndarray:
    """``values.isin(universe)`` through integer codes (pandas' Arrow-string ``isin`` is slow)."""
    a = values.to_numpy(dtype=object)
    both = np.concatenate([a, universe.to_numpy(dtype=object)])
    codes, _ = pd.factorize(both, use_na_sentinel=False)
    present = np.zeros(codes.max() + 1 if codes.size else 0, dtype=bool)
    present[codes[a.size :]] = True
    return present[codes[: a.size]]


def _unit(var: str) -> str:
    m = re.search(r"\[(.*)\]", HORIZON_COLUMNS.get(var, ""))
    return f" {m.group(1)}" if m and m.group(1) != "-" else ""


def _objects(x: Any, n: int) -> np.ndarray:
    """Broadcast a scalar or array to an object array of length ``n`` (Python scalars)."""
    out = np.empty(n, dtype=object)
    if isinstance(x, pd.Series | pd.Index):
        x = x.to_numpy()
    if isinstance(x, np.ndarray | list):
        arr = np.asarray(x)
        # tolist() turns numpy scalars into Python ones, so reports compare and print plainly
        out[:] = arr.tolist() if arr.dtype != object else list(arr)
    else:
        out[:] = [x] * n
    return out


def _row_text(src: pd.Series) -> np.ndarray:
    """``"row N"`` for each source row, ``"another row"`` where it is unknown."""
    out = np.full(len(src), "another row", dtype=object)
    ok = src.notna().to_numpy()
    out[ok] = ("row " + src[ok].astype("int64").astype(str)).to_numpy(dtype=object)
    return out


def _first_last(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the first and last row of each run of equal profile codes (rows sorted)."""
    n = p.size
    first = np.ones(n, dtype=bool)
    last = np.ones(n, dtype=bool)
    if n > 1:
        change = p[1:] != p[:-1]
        first[1:] = change
        last[:-1] = change
    return first, last


def _shift(x: np.ndarray, k: int, fill: float = np.nan) -> np.ndarray:
    """Shift a float array by ``k`` positions (``k > 0``: value of the row above)."""
    out = np.full(x.size, fill, dtype=float)
    if k > 0:
        out[k:] = x[:-k]
    else:
        out[:k] = x[-k:]
    return out


def _source_rows(table: pd.DataFrame) -> pd.Series:
    if "source_row" in table.columns:
        return pd.to_numeric(table["source_row"], errors="coerce").round().astype("Int64")
    return pd.Series(pd.array([pd.NA] * len(table), dtype="Int64"), index=table.index)


class _QCState:
    """State of one QC run: the working horizon and site tables and the report parts."""

    def __init__(
        self,
        profiles: ProfileSet,
        rules: Mapping[str, str] | None,
        variables: str | Iterable[str] | None,
        check_ranges: Iterable[str] = (),
    ) -> None:
        self.rules = _resolve_rules(rules)
        self.metadata = dict(profiles.metadata)
        file = self.metadata.get("file")
        h = profiles.horizons.copy()
        self.columns = list(h.columns)
        clash = [c for c in _INTERNAL if c in self.columns]
        if clash:
            raise ValueError(f"horizon columns {clash} are reserved for QC bookkeeping")
        if variables is None:
            self.range_vars = [c for c in VALUE_RANGES if c in h.columns]
            self.required: list[str] = []
        else:
            req = [variables] if isinstance(variables, str) else list(variables)
            absent = [v for v in req if v not in h.columns]
            if absent:
                have = sorted(str(c) for c in h.columns if c != "source_row")
                raise MissingColumnError(
                    f"no variable {absent[0]!r} in horizons (has {have})",
                    file=file,
                    field=absent[0],
                )
            self.range_vars = [v for v in req if v in VALUE_RANGES]
            self.required = req
        extra = [c for c in check_ranges if c in VALUE_RANGES and c in h.columns]
        self.range_vars = list(dict.fromkeys([*self.range_vars, *extra]))
        self.numeric_vars = list(dict.fromkeys(self.range_vars + self.required))
        n = len(h)
        # ids as Python strings while working: filtering Arrow strings row by row is slow
        h["profile_id"] = h["profile_id"].astype(object)
        h["_id"] = np.arange(n)
        h["_p"] = pd.factorize(h["profile_id"], use_na_sentinel=False)[0]
        h["_src"] = _source_rows(h)
        h["_t0"] = h["top"].to_numpy(float)
        h["_b0"] = h["bottom"].to_numpy(float)
        self.h = h
        s = profiles.sites.copy()
        s["profile_id"] = s["profile_id"].astype(object)
        s["_src"] = _source_rows(s)
        s["_sid"] = np.arange(len(s)) + n  # after every horizon id: site rows sort last
        self.s = s
        self.n_horizons_in = n
        self.n_profiles_in = len(s)
        self.input_counts = h["profile_id"].value_counts(dropna=False)
        self.parts: list[pd.DataFrame] = []

    # ------------------------------------------------------------ reporting
    def _add(
        self,
        rows: pd.DataFrame,
        check: str,
        action: ReportAction,
        field: Any,
        before: Any,
        after: Any,
        problem: Any,
        done: Any,
        rule: str | None = None,
        site: bool = False,
    ) -> None:
        n = len(rows)
        if n == 0:
            return
        problem = _objects(problem, n)
        done = _objects(done, n)
        msg = problem + "; " + done
        nan = np.full(n, np.nan)
        self.parts.append(
            pd.DataFrame(
                {
                    "_order": _ORDER[check],
                    "_id": rows["_sid" if site else "_id"].to_numpy(),
                    "_site": site,
                    "_problem": problem,
                    "profile_id": rows["profile_id"].to_numpy(dtype=object),
                    "source_row": rows["_src"].to_numpy(),
                    "_t0": nan if site else rows["_t0"].to_numpy(float),
                    "_b0": nan if site else rows["_b0"].to_numpy(float),
                    "check": check,
                    "rule": rule or self.rules[check],
                    "action": action,
                    "field": _objects(field, n),
                    "before": _objects(before, n),
                    "after": _objects(after, n),
                    "message": msg,
                }
            )
        )

    def _exclude(
        self,
        mask: np.ndarray,
        check: str,
        field: Any,
        before: Any,
        problem: Any,
        done: Any = "horizon excluded",
        rule: str | None = None,
    ) -> None:
        """Report and remove the horizons in ``mask``.

        ``field``, ``before``, ``problem`` and ``done`` are scalars or arrays aligned with the
        whole working table.
        """
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return

        def pick(x: Any) -> Any:
            return x[mask] if isinstance(x, np.ndarray) else x

        sub = self.h[mask]
        self._add(
            sub, check, "exclude", pick(field), pick(before), None, pick(problem), pick(done), rule
        )
        self.h = self.h[~mask].reset_index(drop=True)

    def raw_report(self) -> pd.DataFrame:
        if not self.parts:
            cols = ["_order", "_id", "_site", "_problem", *REPORT_COLUMNS]
            return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        rep = pd.concat(self.parts, ignore_index=True)
        rep["source_row"] = rep["source_row"].astype("Int64")
        rep = rep.sort_values(
            ["_order", "source_row", "_id"], kind="stable", na_position="last"
        ).reset_index(drop=True)
        label = _fmts(rep["_t0"].to_numpy()) + "–" + _fmts(rep["_b0"].to_numpy())
        rep["horizon"] = label.where(~rep["_site"].to_numpy(bool), None).astype(object)
        return rep

    # -------------------------------------------------------------- helpers
    def _sort(self, by: list[str]) -> None:
        self.h = self.h.sort_values(by, kind="stable", na_position="last").reset_index(drop=True)

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        h = self.h
        return h["_p"].to_numpy(), h["top"].to_numpy(float), h["bottom"].to_numpy(float)

    # --------------------------------------------------------------- result
    def result(self) -> QCResult:
        rep = self.raw_report()
        report = rep.loc[:, list(REPORT_COLUMNS)].reset_index(drop=True)
        horizons = self.h.drop(columns=list(_INTERNAL)).reset_index(drop=True)
        sites = self.s.drop(columns=["_src", "_sid"]).reset_index(drop=True)
        meta = {**self.metadata, "qc_rules": dict(self.rules)}
        profiles = ProfileSet(sites, horizons, meta)
        counts: dict[str, dict[str, int]] = {}
        if len(report):
            g = report.groupby(["check", "action"], sort=False).size()
            for (check, action), n in g.items():
                counts.setdefault(str(check), {})[str(action)] = int(n)
        excluded = int(((report["action"] == "exclude") & report["horizon"].notna()).sum())
        summary = {
            "profiles_in": self.n_profiles_in,
            "profiles_out": profiles.n_profiles,
            "horizons_in": self.n_horizons_in,
            "horizons_out": profiles.n_horizons,
            "horizons_excluded": excluded,
            "counts": counts,
            "rules": dict(self.rules),
        }
        return QCResult(profiles=profiles, report=report, summary=summary, rules=dict(self.rules))
