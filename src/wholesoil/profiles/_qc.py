"""Horizon quality control: checks, repairs and exclusions, every one of them reported.

:func:`run_qc` runs the checks of ``shared/specs/profiles-and-mapping.md`` ("Horizon data and
QC") over a whole :class:`~wholesoil.profiles.ProfileSet` at once and returns the cleaned set
with a report of every change; :func:`check_profiles` is the strict mode that raises on the
first finding instead. Each check has a named rule (:data:`DEFAULT_RULES`, alternatives in
:data:`RULES`); nothing is dropped or altered without a report row naming the rule.

All checks are vectorized over the horizon table (sorted by profile and depth, group
boundaries from array comparisons, ``groupby`` reductions): there is no Python loop over
profiles, so 100 000 profiles take seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from wholesoil._types import QCAction
from wholesoil.errors import InputDataError, MissingColumnError
from wholesoil.profiles._profileset import HORIZON_COLUMNS, VALUE_RANGES, ProfileSet

ReportAction = QCAction  # what a report row says happened (see wholesoil._types.QCAction)

#: Depth differences smaller than this [cm] are not gaps or overlaps (unit conversions such as
#: ``0.1 m * 100`` give ``10.000000000000002`` cm).
DEPTH_TOLERANCE = 1e-6

#: Thickness [cm] given to a last horizon without a bottom by the ``"extend"`` rule; the default
#: ``adj = 10`` of aqp's ``repairMissingHzDepths`` (R package aqp).
MISSING_BOTTOM_EXTENSION = 10.0

#: The checks in the order they run. The order matters twice: a horizon excluded by one check
#: is not seen by the later ones, and :func:`check_profiles` reports the first finding in this
#: order, so root causes come first (a bottom above its top is reported as such, not as the
#: overlap it also makes; text in a numeric column before the range check that it would fail).
#: ``gap`` comes after the value checks because excluding a horizon can open a gap.
CHECKS: tuple[str, ...] = (
    "not_numeric",
    "duplicate_site",
    "missing_required",
    "orphan_horizon",
    "missing_top_first",
    "missing_bottom_last",
    "thickness",
    "negative_depth",
    "duplicate_horizon",
    "overlap",
    "value_range",
    "missing_value",
    "gap",
    "min_layers",
    "min_depth",
    "site_without_horizons",
)

#: Rules each check accepts; the first one listed is the default (see :data:`DEFAULT_RULES`).
RULES: dict[str, tuple[str, ...]] = {
    "not_numeric": ("set_nan",),
    "duplicate_site": ("exclude", "keep_first"),
    "missing_required": ("fill", "exclude"),
    "orphan_horizon": ("exclude", "add_site"),
    "missing_top_first": ("zero", "exclude"),
    "missing_bottom_last": ("exclude", "extend"),
    "thickness": ("exclude",),
    "negative_depth": ("shift", "exclude"),
    "duplicate_horizon": ("exclude", "average", "keep_first"),
    "overlap": ("truncate", "exclude", "exclude_profile"),
    "gap": ("flag", "exclude_profile"),
    "value_range": ("set_nan", "clip", "exclude", "flag"),
    "missing_value": ("exclude", "flag"),
    "min_layers": ("exclude_profile",),
    "min_depth": ("exclude_profile",),
    "site_without_horizons": ("exclude", "keep"),
}

#: Default rule of each check, and why.
#:
#: ``not_numeric: "set_nan"``
#:     Text in a numeric variable column (``"n.d."``, ``"<0.1"``) becomes NaN; the text is kept
#:     in the report. (Text in ``top``/``bottom`` is already refused by :class:`ProfileSet`.)
#: ``duplicate_site: "exclude"``
#:     A profile id on several site rows: identical copies are always dropped (rule
#:     ``drop_identical``); rows that differ exclude the profile, since nothing says which site
#:     (location, date) its horizons belong to. ``keep_first`` keeps the first row.
#: ``missing_required: "fill"``
#:     A missing top or bottom inside a profile is filled from the neighbouring horizon (bottom of
#:     the one above, top of the one below), as aqp does; horizons with no profile id, with
#:     neither depth, or whose neighbour's depth is missing too are excluded.
#: ``orphan_horizon: "exclude"``
#:     Horizons whose profile has no site row are excluded: the site table says which profiles
#:     exist, and a mismatch is most often a mistyped id. ``add_site`` adds a bare site row.
#: ``missing_top_first: "zero"``
#:     A first horizon without a top starts at the surface (0 cm), by far the usual meaning.
#: ``missing_bottom_last: "exclude"``
#:     Its thickness is unknown and stocks depend on it, so it is not invented; ``extend`` sets
#:     bottom = top + :data:`MISSING_BOTTOM_EXTENSION` as aqp ``repairMissingHzDepths`` does.
#: ``thickness: "exclude"``
#:     Bottom at or above top cannot be repaired without guessing which depth is wrong.
#: ``negative_depth: "shift"``
#:     ISRaD records organic horizons above the mineral surface with negative depths. The whole
#:     profile is shifted down so its top is 0 cm, i.e. the zero reference at the top of the
#:     organic layer as NCSCD uses; every changed depth is reported. ``exclude`` drops the
#:     horizons with a negative top (the organic layer) and keeps the mineral soil as it is.
#: ``duplicate_horizon: "exclude"``
#:     Same profile, top and bottom: identical copies are always dropped (``drop_identical``);
#:     copies with different values are all excluded (``average`` merges them into their mean,
#:     ``keep_first`` keeps the first), as nothing says which is right.
#: ``overlap: "truncate"``
#:     Most overlaps are boundary inconsistencies of a few cm (0–11, 10–20): the upper horizon's
#:     bottom is moved up to the next top; its concentrations are unchanged (they hold for any
#:     part of the horizon), so no value is invented. Overlaps that cannot be truncated
#:     (a horizon nested inside another, two horizons with the same top) exclude every horizon
#:     of that overlapping run. ``exclude`` excludes all overlapping horizons, ``exclude_profile``
#:     the whole profile.
#: ``gap: "flag"``
#:     Gaps are common (unsampled depths) and the equal-area spline handles them; they are
#:     reported and kept. ``exclude_profile`` excludes profiles with a gap.
#: ``value_range: "set_nan"``
#:     A value outside :data:`~wholesoil.profiles.VALUE_RANGES` is excluded from the data (set
#:     to NaN, the value kept in the report); the horizon and its other values stay. ``flag``
#:     keeps the value and reports it, for data known to go beyond the generic ranges (peat and
#:     moss layers with BD below 0.05 g cm⁻³, say).
#: ``missing_value: "exclude"``
#:     Only with ``variables``: a horizon without a value of a variable the analysis needs is
#:     excluded, so the layer filters count observation layers (seed 003 §2.1).
#: ``min_layers``, ``min_depth: "exclude_profile"``
#:     The profile filters of seed 003 §2.1, run only when asked for.
#: ``site_without_horizons: "exclude"``
#:     A site with no horizons left (none in the input, or all excluded) is dropped so that
#:     profile counts agree between the two tables.
DEFAULT_RULES: dict[str, str] = {
    "not_numeric": "set_nan",
    "duplicate_site": "exclude",
    "missing_required": "fill",
    "orphan_horizon": "exclude",
    "missing_top_first": "zero",
    "missing_bottom_last": "exclude",
    "thickness": "exclude",
    "negative_depth": "shift",
    "duplicate_horizon": "exclude",
    "overlap": "truncate",
    "gap": "flag",
    "value_range": "set_nan",
    "missing_value": "exclude",
    "min_layers": "exclude_profile",
    "min_depth": "exclude_profile",
    "site_without_horizons": "exclude",
}

#: Horizon columns that are layer totals [Mg C ha⁻¹], not concentrations: when a horizon is
#: truncated (overlap rule ``truncate``) they are scaled by the kept fraction of its thickness.
EXTENSIVE_COLUMNS: tuple[str, ...] = ("soc_density", "soc_density_reported", "soc_density_computed")

#: Columns of :attr:`QCResult.report`.
REPORT_COLUMNS: tuple[str, ...] = (
    "profile_id",
    "source_row",
    "horizon",
    "check",
    "rule",
    "action",
    "field",
    "before",
    "after",
    "message",
)

_ORDER = {c: i for i, c in enumerate(CHECKS)}
_INTERNAL = ("_id", "_p", "_src", "_t0", "_b0")
_SEED003 = "seed 003 §2.1"


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

    def to_text(self) -> str:
        """A plain-text summary: counts in and out, then findings per check and action."""
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
        lines.append("Every change is listed, with its rule, in QCResult.report.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def run_qc(
    profiles: ProfileSet,
    *,
    rules: Mapping[str, str] | None = None,
    min_layers: int | None = None,
    min_depth: float | None = None,
    variables: str | Iterable[str] | None = None,
    check_ranges: Iterable[str] = (),
) -> QCResult:
    """Check, repair and filter soil profiles, reporting every change.

    Runs the checks of :data:`CHECKS` in order over the whole horizon table (vectorized, no
    loop over profiles): non-numeric values, duplicate site ids, missing profile ids and
    depths, horizons without a site row, missing top of the first and bottom of the last
    horizon, zero or negative thickness, negative depths (organic horizons above the mineral
    surface), duplicate horizons, overlaps, gaps, values outside
    :data:`~wholesoil.profiles.VALUE_RANGES`, missing required values, the optional profile
    filters of seed 003 §2.1 and sites without horizons.

    Parameters
    ----------
    profiles : ProfileSet
        Profiles to check; an integer ``source_row`` column in the horizons (and sites) lets
        the report point at rows of the source file.
    rules : mapping of str to str, optional
        Rule per check, overriding :data:`DEFAULT_RULES`; allowed values in :data:`RULES`.
    min_layers : int, optional
        Exclude profiles with fewer than this many horizons left after the checks. Seed 003
        §2.1 excludes profiles with "no more than two observation layers": ``min_layers=3``.
    min_depth : float, optional
        Exclude profiles whose deepest bottom [cm] is no deeper than this. Seed 003 §2.1:
        ``min_depth=50``.
    variables : str or iterable of str, optional
        Variables the analysis needs. When given, only these are checked for text and range,
        and a horizon without a value for one of them is a ``missing_value`` finding (so the
        layer filters count observation layers). By default every column of
        :data:`~wholesoil.profiles.VALUE_RANGES` present is range-checked and no variable is
        required.
    check_ranges : iterable of str, optional
        Further variables to range-check when present, without requiring them (``density``
        checks ``bd`` and ``gravel``, which it uses where given).

    Returns
    -------
    QCResult
        Cleaned profiles, the report (one row per finding) and a summary.

    Raises
    ------
    ValueError
        For an unknown check or rule name, or invalid filter values.
    MissingColumnError
        When a variable in ``variables`` is not a horizon column.

    Examples
    --------
    >>> result = run_qc(profiles, min_layers=3, min_depth=50, variables=["soc"])  # doctest: +SKIP
    >>> print(result)  # doctest: +SKIP
    >>> result.report.query("action == 'exclude'")  # doctest: +SKIP
    """
    if min_layers is not None and (isinstance(min_layers, bool) or int(min_layers) != min_layers):
        raise ValueError(f"min_layers must be an integer number of layers, got {min_layers!r}")
    if min_depth is not None and not np.isfinite(float(min_depth)):
        raise ValueError(f"min_depth must be a finite depth [cm], got {min_depth!r}")
    qc = _QC(profiles, rules, variables, check_ranges)
    qc.run(min_layers=min_layers, min_depth=min_depth)
    return qc.result()


def check_profiles(
    profiles: ProfileSet,
    variables: str | Iterable[str] | None = None,
    check_ranges: Iterable[str] = (),
) -> ProfileSet:
    """Strict mode: raise on the first finding that :func:`run_qc` would repair or exclude.

    The checks are those of :func:`run_qc` with the default rules and no profile filters;
    flags (gaps) are not errors. The first finding is the first in :data:`CHECKS` order
    (root causes first), and within a check the first row of the source file.

    Parameters
    ----------
    profiles : ProfileSet
        Profiles to check.
    variables, check_ranges : optional
        As in :func:`run_qc`.

    Returns
    -------
    ProfileSet
        ``profiles`` itself, unchanged, when there is nothing to report.

    Raises
    ------
    InputDataError
        Naming the file (``metadata["file"]``), row (``source_row``), profile, field and
        value of the first finding, and how many other findings there are, e.g.
        ``horizons.csv row 17 (profile P12), field 'bottom': bottom (20 cm) is above top
        (30 cm), got 20 (and 2 other findings; run_qc() or `wholesoil qc` repairs or
        excludes them and reports each change)``.
    """
    qc = _QC(profiles, None, variables, check_ranges)
    qc.run(min_layers=None, min_depth=None)
    rep = qc.raw_report()
    rep = rep[rep["action"] != "flag"]
    if rep.empty:
        return profiles
    first_check = rep["_order"].min()
    cand = rep[rep["_order"] == first_check]
    # a shifted profile reports every depth it moves: blame the horizon whose top is negative
    culprit = (cand["check"] == "negative_depth") & (cand["field"] == "top") & (
        pd.to_numeric(cand["before"], errors="coerce") < 0)
    if culprit.any():
        cand = cand[culprit.to_numpy(dtype=bool)]
    cand = cand.sort_values(["source_row", "_id"], na_position="last", kind="stable")
    f = cand.iloc[0]
    n_other = len(rep) - 1
    meta = profiles.metadata
    file = meta.get("file")
    if f["_site"]:
        file = meta.get("site_file", meta.get("sites_file", file))
    row = None if pd.isna(f["source_row"]) else int(f["source_row"])
    before = f["before"]
    text = str(f["_problem"])
    if before is not None:
        text = f"{text}, got {_show(before)}"
    if n_other:
        s = "" if n_other == 1 else "s"
        text += (
            f" (and {n_other} other finding{s}; run_qc() or `wholesoil qc` repairs or "
            "excludes them and reports each change)"
        )
    else:
        text += " (run_qc() or `wholesoil qc` repairs or excludes it and reports the change)"
    raise InputDataError(
        text,
        file=file,
        row=row,
        profile=f["profile_id"],
        field=None if f["field"] is None else str(f["field"]),
        value=before,
        has_value=False,
    )


# --------------------------------------------------------------------------- helpers
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


def _resolve_rules(rules: Mapping[str, str] | None) -> dict[str, str]:
    out = dict(DEFAULT_RULES)
    for check, rule in (rules or {}).items():
        if check not in RULES:
            raise ValueError(f"unknown QC check {check!r}; checks are {sorted(RULES)}")
        if rule not in RULES[check]:
            raise ValueError(
                f"unknown rule {rule!r} for QC check {check!r}; choose one of {list(RULES[check])}"
            )
        out[check] = rule
    return out


def _source_rows(table: pd.DataFrame) -> pd.Series:
    if "source_row" in table.columns:
        return pd.to_numeric(table["source_row"], errors="coerce").round().astype("Int64")
    return pd.Series(pd.array([pd.NA] * len(table), dtype="Int64"), index=table.index)


# --------------------------------------------------------------------------- engine
class _QC:
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
                raise MissingColumnError(
                    f"no variable {absent[0]!r} in horizons (has {sorted(map(str, h.columns))})",
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

    # --------------------------------------------------------------- checks
    def run(self, *, min_layers: int | None, min_depth: float | None) -> None:
        self.not_numeric()
        self.duplicate_site()
        self.missing_required()
        self.orphan_horizon()
        self.missing_ends()
        self.thickness()
        self.negative_depth()
        self._sort(["_p", "top", "bottom"])
        self.duplicate_horizon()
        self.overlap()
        self.value_range()
        self.missing_value()
        self.gap()  # after the checks that can exclude horizons, which may open gaps
        if min_layers is not None:
            self.min_layers(int(min_layers))
        if min_depth is not None:
            self.min_depth(float(min_depth))
        self.site_without_horizons()

    def not_numeric(self) -> None:
        h = self.h
        for col in self.numeric_vars:
            s = h[col]
            if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
                continue
            conv = pd.to_numeric(s.astype(object), errors="coerce").astype(float)
            bad = (conv.isna() & s.notna() & (s.astype(str).str.strip() != "")).to_numpy()
            self._add(
                h[bad],
                "not_numeric",
                "repair",
                col,
                s[bad],
                np.nan,
                "expected a number",
                "value set to NaN",
            )
            h[col] = conv.to_numpy()

    def duplicate_site(self) -> None:
        s = self.s
        if not s["profile_id"].duplicated().any():
            return
        cols = [c for c in s.columns if c not in ("_src", "_sid", "source_row")]
        ident = s.duplicated(cols, keep="first").to_numpy()
        self._add(
            s[ident],
            "duplicate_site",
            "repair",
            "profile_id",
            s["profile_id"][ident],
            None,
            "identical copy of another site row of this profile",
            "copy dropped",
            rule="drop_identical",
            site=True,
        )
        s = s[~ident]
        conflict = s["profile_id"].duplicated(keep=False).to_numpy()
        if self.rules["duplicate_site"] == "keep_first":
            extra = s["profile_id"].duplicated(keep="first").to_numpy()
            self._add(
                s[extra],
                "duplicate_site",
                "repair",
                "profile_id",
                s["profile_id"][extra],
                None,
                "profile id is on several site rows with different values",
                "this row dropped, the first site row kept",
                site=True,
            )
            self.s = s[~extra]
            return
        ids = s["profile_id"][conflict]
        problem = "profile id is on several site rows with different values"
        self._add(
            s[conflict],
            "duplicate_site",
            "exclude",
            "profile_id",
            ids,
            None,
            problem,
            "profile excluded",
            site=True,
        )
        self.s = s[~conflict]
        hit = _isin(self.h["profile_id"], ids)
        self._exclude(
            hit,
            "duplicate_site",
            "profile_id",
            self.h["profile_id"].to_numpy(dtype=object),
            problem,
            "profile excluded",
        )

    def missing_required(self) -> None:
        h = self.h
        pid = h["profile_id"]
        no_id = pid.isna() | pid.astype(str).str.strip().isin(["", "nan", "None", "<NA>"])
        no_id = no_id.to_numpy()
        self._exclude(no_id, "missing_required", "profile_id", np.nan, "profile id is missing")
        _, t, b = self._arrays()
        neither = ~np.isfinite(t) & ~np.isfinite(b)
        self._exclude(
            neither,
            "missing_required",
            "top",
            t,
            "top and bottom are both missing",
        )
        # position of a horizon with one missing depth: by the depth it has
        h = self.h
        t = h["top"].to_numpy(float)
        b = h["bottom"].to_numpy(float)
        # (a horizon ending at 10 cm lies above one starting at 10 cm; one without a bottom
        # lies below the others starting at the same depth)
        h["_k1"] = np.where(np.isfinite(t), t, b)
        h["_kt"] = np.isfinite(t)
        h["_k2"] = np.where(np.isfinite(b), b, np.inf)
        self._sort(["_p", "_k1", "_kt", "_k2"])
        self.h = self.h.drop(columns=["_k1", "_kt", "_k2"])
        p, t, b = self._arrays()
        first, last = _first_last(p)
        top_miss = ~np.isfinite(t) & ~first
        bot_miss = ~np.isfinite(b) & ~last
        if not (top_miss.any() or bot_miss.any()):
            return
        which = np.where(top_miss, "top", "bottom").astype(object)
        if self.rules["missing_required"] == "exclude":
            self._exclude(
                top_miss | bot_miss, "missing_required", which, np.nan, which + " is missing"
            )
            return
        prev_b = _shift(b, 1)
        next_t = _shift(t, -1)
        fill_t = top_miss & np.isfinite(prev_b)
        fill_b = bot_miss & np.isfinite(next_t)
        h = self.h
        self._add(
            h[fill_t],
            "missing_required",
            "repair",
            "top",
            np.nan,
            prev_b[fill_t],
            "top is missing",
            "filled with the bottom of the horizon above",
        )
        self._add(
            h[fill_b],
            "missing_required",
            "repair",
            "bottom",
            np.nan,
            next_t[fill_b],
            "bottom is missing",
            "filled with the top of the horizon below",
        )
        h["top"] = np.where(fill_t, prev_b, t)
        h["bottom"] = np.where(fill_b, next_t, b)
        unfill = (top_miss & ~fill_t) | (bot_miss & ~fill_b)
        self._exclude(
            unfill,
            "missing_required",
            which,
            np.nan,
            np.where(
                top_miss,
                "top is missing and so is the bottom of the horizon above",
                "bottom is missing and so is the top of the horizon below",
            ).astype(object),
        )

    def orphan_horizon(self) -> None:
        h = self.h
        orphan = ~_isin(h["profile_id"], self.s["profile_id"])
        if not orphan.any():
            return
        problem = "profile has no row in the site table"
        if self.rules["orphan_horizon"] == "exclude":
            self._exclude(
                orphan,
                "orphan_horizon",
                "profile_id",
                h["profile_id"].to_numpy(dtype=object),
                problem,
            )
            return
        firsts = h[orphan].drop_duplicates("profile_id")
        self._add(
            firsts.assign(_sid=firsts["_id"]),
            "orphan_horizon",
            "repair",
            "profile_id",
            None,
            firsts["profile_id"],
            problem,
            "site row added (no location or date)",
            site=True,
        )
        new = pd.DataFrame({"profile_id": firsts["profile_id"].to_numpy(dtype=object)})
        new["profile_id"] = new["profile_id"].astype(object)
        new["_src"] = pd.array([pd.NA] * len(new), dtype="Int64")
        new["_sid"] = np.arange(len(new)) + self.n_horizons_in + self.n_profiles_in
        self.s = pd.concat([self.s, new], ignore_index=True)

    def missing_ends(self) -> None:
        p, t, b = self._arrays()
        first, _ = _first_last(p)
        miss_t = ~np.isfinite(t) & first
        if miss_t.any():
            if self.rules["missing_top_first"] == "zero":
                self._add(
                    self.h[miss_t],
                    "missing_top_first",
                    "repair",
                    "top",
                    np.nan,
                    0.0,
                    "top of the first horizon is missing",
                    "set to 0 cm (the surface)",
                )
                self.h["top"] = np.where(miss_t, 0.0, t)
            else:
                self._exclude(
                    miss_t, "missing_top_first", "top", t, "top of the first horizon is missing"
                )
        p, t, b = self._arrays()
        _, last = _first_last(p)
        miss_b = ~np.isfinite(b) & last
        if miss_b.any():
            if self.rules["missing_bottom_last"] == "extend":
                new_b = t + MISSING_BOTTOM_EXTENSION
                self._add(
                    self.h[miss_b],
                    "missing_bottom_last",
                    "repair",
                    "bottom",
                    np.nan,
                    new_b[miss_b],
                    "bottom of the last horizon is missing",
                    f"set to top + {MISSING_BOTTOM_EXTENSION:g} cm (aqp repairMissingHzDepths)",
                )
                self.h["bottom"] = np.where(miss_b, new_b, b)
            else:
                self._exclude(
                    miss_b,
                    "missing_bottom_last",
                    "bottom",
                    b,
                    "bottom of the last horizon is missing",
                )

    def thickness(self) -> None:
        _, t, b = self._arrays()
        bad = b <= t
        if not bad.any():
            return
        tb, bb = _fmts(t[bad]).to_numpy(), _fmts(b[bad]).to_numpy()
        above = b[bad] < t[bad]
        problem_sub = np.where(
            above,
            "bottom (" + bb.astype(object) + " cm) is above top (" + tb.astype(object) + " cm)",
            "bottom ("
            + bb.astype(object)
            + " cm) equals top ("
            + tb.astype(object)
            + " cm): zero thickness",
        )
        problem = np.empty(b.size, dtype=object)
        problem[bad] = problem_sub
        self._exclude(bad, "thickness", "bottom", b, problem)

    def negative_depth(self) -> None:
        _, t, b = self._arrays()
        if not (t < 0).any():
            return
        if self.rules["negative_depth"] == "exclude":
            neg = t < 0
            problem = np.empty(t.size, dtype=object)
            problem[neg] = (
                "top (" + _fmts(t[neg]) + " cm) is above the mineral surface"
            ).to_numpy()
            self._exclude(neg, "negative_depth", "top", t, problem, "organic horizon excluded")
            return
        pmin = self.h.groupby("_p", sort=False)["top"].transform("min").to_numpy(float)
        shifted = pmin < 0
        d = np.where(shifted, -pmin, 0.0)
        rows = self.h[shifted]
        problem = (
            "profile starts at " + _fmts(pmin[shifted]) + " cm (organic horizons above "
            "the mineral surface)"
        ).to_numpy()
        done = (
            "profile shifted down by " + _fmts(d[shifted]) + " cm so that its top is 0 cm"
            " (top of the organic layer, as NCSCD)"
        ).to_numpy()
        for col, x in (("top", t), ("bottom", b)):
            self._add(
                rows, "negative_depth", "repair", col, x[shifted], (x + d)[shifted], problem, done
            )
        self.h["top"] = t + d
        self.h["bottom"] = b + d

    def duplicate_horizon(self) -> None:
        h = self.h
        key = ["_p", "top", "bottom"]
        if not h.duplicated(key).any():
            return
        value_cols = [c for c in self.columns if c != "source_row"]
        ident = h.duplicated(value_cols, keep="first").to_numpy()
        if ident.any():
            kept = _row_text(
                h.groupby(value_cols, dropna=False, sort=False)["_src"].transform("first")
            )
            self._exclude(
                ident,
                "duplicate_horizon",
                None,
                None,
                "identical copy of the horizon at " + kept,
                "copy excluded",
                rule="drop_identical",
            )
        h = self.h
        dup = h.duplicated(key, keep=False).to_numpy()
        if not dup.any():
            return
        rule = self.rules["duplicate_horizon"]
        first = ~h.duplicated(key, keep="first").to_numpy()
        kept = _row_text(h.groupby(key, sort=False)["_src"].transform("first"))
        problem = "another horizon of this profile has the same depths and different values"
        if rule == "exclude":
            self._exclude(dup, "duplicate_horizon", None, None, problem, "all copies excluded")
            return
        if rule == "average":
            num = [
                c
                for c in value_cols
                if c not in ("profile_id", "top", "bottom")
                and pd.api.types.is_numeric_dtype(h[c])
                and not pd.api.types.is_bool_dtype(h[c])
            ]
            means = h[dup].groupby(key, sort=False)[num].transform("mean")
            keep = dup & first
            for c in num:
                old = h[c].to_numpy(float)
                new = old.copy()
                new[dup] = means[c].to_numpy(float)
                changed = keep & ~((old == new) | (np.isnan(old) & np.isnan(new)))
                if changed.any():
                    self._add(
                        h[changed],
                        "duplicate_horizon",
                        "repair",
                        c,
                        old[changed],
                        new[changed],
                        problem,
                        "value replaced by the mean of the copies",
                    )
                    h[c] = np.where(changed, new, old)
            done = "merged into the first copy (" + kept + "), values averaged"
        else:
            done = "the first copy (" + kept + ") kept, this one excluded"
        self._exclude(dup & ~first, "duplicate_horizon", None, None, problem, done, rule)

    def overlap(self) -> None:
        p, t, b = self._arrays()
        if p.size < 2:
            return
        first, _ = _first_last(p)
        cm = self.h.groupby("_p", sort=False)["bottom"].cummax().to_numpy(float)
        prev_max = _shift(cm, 1, -np.inf)
        prev_max[first] = -np.inf
        start = first | (t >= prev_max - DEPTH_TOLERANCE)
        if start.all():
            return
        cl = np.cumsum(start) - 1
        size = np.bincount(cl)
        inov = size[cl] >= 2
        next_t = _shift(t, -1)
        same_next = np.zeros(t.size, dtype=bool)
        same_next[:-1] = cl[1:] == cl[:-1]
        # message: non-start rows overlap the deepest horizon above; start rows the one below
        problem = np.empty(t.size, dtype=object)
        ns = inov & ~start
        problem[ns] = (
            "top ("
            + _fmts(t[ns])
            + " cm) is above the bottom of a horizon above ("
            + _fmts(prev_max[ns])
            + " cm)"
        ).to_numpy()
        st = inov & start
        problem[st] = (
            "bottom ("
            + _fmts(b[st])
            + " cm) is below the top of the horizon below ("
            + _fmts(next_t[st])
            + " cm)"
        ).to_numpy()
        rule = self.rules["overlap"]
        if rule == "exclude_profile":
            bad_p = np.zeros(p.max() + 1, dtype=bool)
            bad_p[p[inov]] = True
            hit = bad_p[p]
            problem[hit & ~inov] = "profile has overlapping horizons"
            self._exclude(hit, "overlap", "top", t, problem, "profile excluded")
            return
        if rule == "exclude":
            self._exclude(inov, "overlap", "top", t, problem, "overlapping horizons excluded")
            return
        prev_t, prev_b = _shift(t, 1), _shift(b, 1)
        okrow = start | ((t > prev_t) & (b > prev_b))
        bad_cl = np.bincount(cl, weights=~okrow, minlength=cl.max() + 1) > 0
        nested = inov & bad_cl[cl]
        trunc = inov & ~bad_cl[cl] & same_next
        h = self.h
        by = (b - next_t)[trunc]
        self._add(
            h[trunc],
            "overlap",
            "repair",
            "bottom",
            b[trunc],
            next_t[trunc],
            (
                "bottom ("
                + _fmts(b[trunc])
                + " cm) overlaps the horizon below (top "
                + _fmts(next_t[trunc])
                + " cm) by "
                + _fmts(by)
                + " cm"
            ).to_numpy(),
            "bottom truncated to the top of the horizon below",
        )
        h["bottom"] = np.where(trunc, next_t, b)
        # layer totals (not concentrations) shrink with the layer: uniform density assumed
        factor = np.divide(next_t - t, b - t, out=np.ones_like(t), where=trunc & (b > t))
        for col in EXTENSIVE_COLUMNS:
            if col not in h.columns:
                continue
            v = h[col].to_numpy(float)
            hit = trunc & np.isfinite(v)
            if not hit.any():
                continue
            new = v * factor
            self._add(
                h[hit],
                "overlap",
                "repair",
                col,
                v[hit],
                new[hit],
                (
                    col
                    + " is a layer total and the layer was truncated by "
                    + _fmts(by[hit[trunc]])
                    + " cm"
                ).to_numpy(),
                "scaled by the kept fraction of the thickness (uniform density assumed)",
            )
            h[col] = np.where(hit, new, v)
        problem[nested] = (
            "nested or same-top overlap in a run of "
            + _fmts(size[cl][nested])
            + " overlapping horizons; cannot truncate"
        ).to_numpy()
        self._exclude(nested, "overlap", "top", t, problem, "horizon excluded")

    def gap(self) -> None:
        p, t, b = self._arrays()
        first, _ = _first_last(p)
        prev_b = _shift(b, 1)
        gap = ~first & (t > prev_b + DEPTH_TOLERANCE)
        if not gap.any():
            return
        problem = np.empty(t.size, dtype=object)
        problem[gap] = (
            "gap of " + _fmts((t - prev_b)[gap]) + " cm above this horizon (the "
            "horizon above ends at " + _fmts(prev_b[gap]) + " cm)"
        ).to_numpy()
        if self.rules["gap"] == "exclude_profile":
            bad_p = np.zeros(p.max() + 1, dtype=bool)
            bad_p[p[gap]] = True
            hit = bad_p[p]
            problem[hit & ~gap] = "profile has a gap between horizons"
            self._exclude(hit, "gap", "top", t, problem, "profile excluded")
            return
        self._add(
            self.h[gap],
            "gap",
            "flag",
            "top",
            t[gap],
            t[gap],
            problem[gap],
            "kept (the equal-area spline handles gaps)",
        )

    def value_range(self) -> None:
        rule = self.rules["value_range"]
        for col in self.range_vars:
            h = self.h
            lo, hi = VALUE_RANGES[col]
            v = h[col].to_numpy(float)
            bad = (v < lo) | (v > hi) | np.isinf(v)  # inf is out of range even when hi is
            if not bad.any():
                continue
            rng = f"{lo:g}–{hi:g}" if np.isfinite(hi) else f"≥ {lo:g}"
            problem = np.empty(v.size, dtype=object)
            problem[bad] = (
                col + " " + _fmts(v[bad]) + f" is outside the physical range {rng}{_unit(col)}"
            ).to_numpy()
            if rule == "exclude":
                self._exclude(bad, "value_range", col, v, problem)
                continue
            if rule == "flag":
                self._add(
                    h[bad],
                    "value_range",
                    "flag",
                    col,
                    v[bad],
                    v[bad],
                    problem[bad],
                    "kept as measured (rule 'flag')",
                )
                continue
            new = np.clip(v, lo, hi) if rule == "clip" else np.where(bad, np.nan, v)
            done = "value set to NaN (excluded)" if rule == "set_nan" else "clipped to the range"
            self._add(h[bad], "value_range", "repair", col, v[bad], new[bad], problem[bad], done)
            h[col] = np.where(bad, new, v)

    def missing_value(self) -> None:
        rule = self.rules["missing_value"]
        for col in self.required:
            miss = self.h[col].isna().to_numpy()
            if not miss.any():
                continue
            problem = f"no value of the required variable {col!r}"
            if rule == "exclude":
                self._exclude(miss, "missing_value", col, np.nan, problem)
            else:
                self._add(
                    self.h[miss], "missing_value", "flag", col, np.nan, np.nan, problem, "kept"
                )

    def min_layers(self, n_min: int) -> None:
        p = self.h["_p"].to_numpy()
        if p.size == 0:
            return
        counts = np.bincount(p)[p]
        bad = counts < n_min
        problem = np.empty(p.size, dtype=object)
        problem[bad] = (
            "profile has " + _fmts(counts[bad]) + f" layers, fewer than "
            f"min_layers={n_min} ({_SEED003})"
        ).to_numpy()
        self._exclude(bad, "min_layers", None, counts, problem, "profile excluded")

    def min_depth(self, d_min: float) -> None:
        if self.h.empty:
            return
        deep = self.h.groupby("_p", sort=False)["bottom"].transform("max").to_numpy(float)
        bad = deep <= d_min
        problem = np.empty(deep.size, dtype=object)
        problem[bad] = (
            "deepest bottom of the profile (" + _fmts(deep[bad]) + " cm) is no "
            f"deeper than min_depth={d_min:g} cm ({_SEED003})"
        ).to_numpy()
        self._exclude(bad, "min_depth", "bottom", deep, problem, "profile excluded")

    def site_without_horizons(self) -> None:
        s = self.s
        empty = ~_isin(s["profile_id"], self.h["profile_id"])
        if not empty.any():
            return
        n_in = s["profile_id"].map(self.input_counts).fillna(0).astype(int).to_numpy()
        problem = np.where(
            n_in[empty] > 0,
            "all "
            + _fmts(n_in[empty]).to_numpy().astype(object)
            + " horizons of the profile were excluded by QC",
            "profile has no horizons",
        )
        if self.rules["site_without_horizons"] == "keep":
            self._add(
                s[empty],
                "site_without_horizons",
                "flag",
                "profile_id",
                s["profile_id"][empty],
                s["profile_id"][empty],
                problem,
                "site kept",
                site=True,
            )
            return
        self._add(
            s[empty],
            "site_without_horizons",
            "exclude",
            "profile_id",
            s["profile_id"][empty],
            None,
            problem,
            "site row removed",
            site=True,
        )
        self.s = s[~empty]

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
