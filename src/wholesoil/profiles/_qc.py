"""Horizon quality control: checks, repairs and exclusions, every one of them reported.

:func:`run_qc` runs the checks of ``shared/specs/profiles-and-mapping.md`` ("Horizon data and
QC") over a whole :class:`~wholesoil.profiles.ProfileSet` at once and returns the cleaned set
with a report of every change; :func:`check_profiles` is the strict mode that raises on the
first finding instead. Each check has a named rule (:data:`DEFAULT_RULES`, alternatives in
:data:`RULES`); nothing is dropped or altered without a report row naming the rule.

Where the code is: the checks and rules in :mod:`wholesoil.profiles._qc_rules`, the checks
themselves in :mod:`wholesoil.profiles._qc_checks`, the result and the report rows in
:mod:`wholesoil.profiles._qc_report`; every name stays importable from this module.

All checks are vectorized over the horizon table (sorted by profile and depth, group
boundaries from array comparisons, ``groupby`` reductions): there is no Python loop over
profiles, so 100 000 profiles take seconds.

References
----------
Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from wholesoil.errors import InputDataError
from wholesoil.profiles._profileset import ProfileSet
from wholesoil.profiles._qc_checks import _QC
from wholesoil.profiles._qc_report import QCResult, _show
from wholesoil.profiles._qc_rules import (
    CHECKS,
    DEFAULT_RULES,
    DEPTH_TOLERANCE,
    EXTENSIVE_COLUMNS,
    MISSING_BOTTOM_EXTENSION,
    REPORT_COLUMNS,
    RULES,
    ReportAction,
)


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
    filters of Tao et al. (EarthArXiv) §2.1 and sites without horizons.

    Parameters
    ----------
    profiles : ProfileSet
        Profiles to check; an integer ``source_row`` column in the horizons (and sites) lets
        the report point at rows of the source file.
    rules : mapping of str to str, optional
        Rule per check, overriding :data:`DEFAULT_RULES`; allowed values in :data:`RULES`.
    min_layers : int, optional
        Exclude profiles with fewer than this many horizons left after the checks.
        Tao et al. (EarthArXiv) §2.1 excludes profiles with "no more than two observation layers":
        ``min_layers=3``.
    min_depth : float, optional
        Exclude profiles whose deepest bottom [cm] is no deeper than this. Tao et al. (EarthArXiv)
        §2.1: ``min_depth=50``.
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


__all__ = [
    "CHECKS",
    "DEFAULT_RULES",
    "DEPTH_TOLERANCE",
    "EXTENSIVE_COLUMNS",
    "MISSING_BOTTOM_EXTENSION",
    "REPORT_COLUMNS",
    "RULES",
    "QCResult",
    "ReportAction",
    "check_profiles",
    "run_qc",
]
