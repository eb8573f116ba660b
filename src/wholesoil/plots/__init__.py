"""Figures as the field expects them: depth downward, 1:1 lines, priors, maps with coastlines.

Every function takes tables or arrays and returns a new matplotlib ``Figure`` built without
pyplot (no global backend state, safe headless and in threads); saving is the caller's job
(workflows save atomically), except :func:`plot_grid_map`, which writes its PNG atomically.
Computation below the workflows (models, profiles, depth, stats, mapping, radiocarbon,
assimilation) returns arrays and tables and never imports this package or matplotlib.

Modules, by concern:

* :mod:`wholesoil.plots.profiles` — depth profiles and depth functions (depth downward);
* :mod:`wholesoil.plots.mapping` — observed against predicted, skill by depth, importance and
  partial dependence of fitted learners, cross-validation results;
* :mod:`wholesoil.plots.maps` — maps with coastlines and colour bars with units;
* :mod:`wholesoil.plots.models` — response surfaces and elasticities of process models;
* :mod:`wholesoil.plots.assimilation` — posteriors against priors, PRODA zonal means and
  cell-by-cell comparisons;
* :mod:`wholesoil.plots.report` — the self-contained HTML report (no matplotlib).

Every name is importable from ``wholesoil.plots``; a submodule (and matplotlib) loads on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wholesoil.plots.assimilation import component_figure, latitude_figure, plot_posteriors
    from wholesoil.plots.mapping import (
        plot_cv_depth,
        plot_cv_observed_predicted,
        plot_depth_skill,
        plot_importance,
        plot_observed_predicted,
        plot_partial_dependence,
        plot_skill_by_depth,
    )
    from wholesoil.plots.maps import COASTLINE_SOURCE, land_fraction_on, plot_grid_map, plot_map
    from wholesoil.plots.models import plot_elasticities, plot_response_surfaces
    from wholesoil.plots.profiles import (
        plot_depth_curves,
        plot_depth_functions,
        plot_groups,
        plot_profiles,
    )
    from wholesoil.plots.report import Report, external_references

#: Public name → the submodule that defines it.
_WHERE: dict[str, str] = {
    **dict.fromkeys(("plot_profiles", "plot_depth_functions", "plot_groups", "plot_depth_curves"),
                    "profiles"),
    **dict.fromkeys(("plot_observed_predicted", "plot_skill_by_depth", "plot_depth_skill",
                     "plot_importance", "plot_partial_dependence", "plot_cv_depth",
                     "plot_cv_observed_predicted"), "mapping"),
    **dict.fromkeys(("COASTLINE_SOURCE", "land_fraction_on", "plot_map", "plot_grid_map"),
                    "maps"),
    **dict.fromkeys(("plot_response_surfaces", "plot_elasticities"), "models"),
    **dict.fromkeys(("plot_posteriors", "latitude_figure", "component_figure"), "assimilation"),
    **dict.fromkeys(("Report", "external_references"), "report"),
}

__all__ = [
    "COASTLINE_SOURCE",
    "Report",
    "component_figure",
    "external_references",
    "land_fraction_on",
    "latitude_figure",
    "plot_cv_depth",
    "plot_cv_observed_predicted",
    "plot_depth_curves",
    "plot_depth_functions",
    "plot_depth_skill",
    "plot_elasticities",
    "plot_grid_map",
    "plot_groups",
    "plot_importance",
    "plot_map",
    "plot_observed_predicted",
    "plot_partial_dependence",
    "plot_posteriors",
    "plot_profiles",
    "plot_response_surfaces",
    "plot_skill_by_depth",
]


def __getattr__(name: str) -> object:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
