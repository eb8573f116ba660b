"""The QC checks and their named rules: what each check may do with a finding.

:data:`CHECKS` in the order they run, :data:`RULES` (the alternatives of each check),
:data:`DEFAULT_RULES`, and the report's columns. Used by :func:`wholesoil.profiles.run_qc`.

References
----------
Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

from collections.abc import Mapping

from wholesoil._types import QCAction

__all__ = [
    "CHECKS",
    "DEFAULT_RULES",
    "DEPTH_TOLERANCE",
    "EXTENSIVE_COLUMNS",
    "MISSING_BOTTOM_EXTENSION",
    "REPORT_COLUMNS",
    "RULES",
    "ReportAction",
]


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
#:     excluded, so the layer filters count observation layers (Tao et al. (EarthArXiv) §2.1).
#: ``min_layers``, ``min_depth: "exclude_profile"``
#:     The profile filters of Tao et al. (EarthArXiv) §2.1, run only when asked for.
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
