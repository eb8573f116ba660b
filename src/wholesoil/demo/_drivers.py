"""Demo stage 10: drivers of β on the NCSCD pedons (He et al. (2024) Table 1 layout,
Wang H. et al. (2025) tests).

A linear mixed model β ~ MAT + MAP + (1 | region) (predictors z-scored, REML; marginal and
conditional R² of Nakagawa & Schielzeth, ICC, reported in the layout of He et al. (2024) Table 1),
and one-way ANOVA with Duncan's multiple range test across soil orders and ecosystems (compact
letter displays as Wang H. et al.'s (2025) figures show them). Pedons without a usable β fit and
regions with too few pedons are listed with the reason, not dropped silently.

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023

He, X., Abramoff, R. Z., Abs, E., Georgiou, K., Zhang, H. & Goll, D. S. (2024). Model uncertainty
obscures major driver of soil carbon. Nature. https://doi.org/10.1038/s41586-023-06999-1
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from wholesoil._atomic import save_figure
from wholesoil.plots.report import Report


def drivers_stage(
    rep: Report,
    out: Path,
    save: Callable[[str, pd.DataFrame], None],
    fits: pd.DataFrame,
    sites: pd.DataFrame,
    *,
    timings: dict[str, float],
) -> dict[str, Any]:
    """Run the stage, add its section to ``rep``; returns parameters for run.json."""
    from wholesoil.workflows._drivers import drivers_stage_tables

    t0 = time.perf_counter()
    rep.heading("10. What drives β? Mixed model and group comparisons (He et al. (2024), "
                "Wang H. et al. (2025))")
    st = drivers_stage_tables(fits, sites)
    for name, df in st.tables.items():
        save(f"ncscd_beta_drivers_{name}", df)
    rep.text(
        "β of each NCSCD pedon (stage 2) against its climate (MAT, MAP sampled from the bundled "
        "grids), with the region as a random intercept: a linear mixed model fitted by REML "
        "(statsmodels MixedLM; agreement with lme4/performance is tested to 1e-4 in the "
        "fixed effects and 1e-3 in R²), predictors z-scored as He et al. (2024) does. Then one-way "
        "ANOVA and Duncan's multiple range test (α = 0.05) across soil orders and ecosystems."
    )
    for m in st.messages:
        rep.text(m, note=True)
    if "mixed_report" in st.tables:
        rep.table(st.tables["mixed_report"], "β ~ MAT + MAP + (1 | region), He et al. (2024) Table "
                                             "1 "
                  "layout", float_format="{:.3g}")
    for c in ("soil_order", "ecosystem"):
        if f"groups_{c}" in st.tables:
            rep.table(st.tables[f"anova_{c}"], f"One-way ANOVA of β by {c.replace('_', ' ')}",
                      float_format="{:.3g}")
            rep.table(st.tables[f"groups_{c}"], f"Mean β by {c.replace('_', ' ')} with "
                      "Duncan letters (groups sharing a letter do not differ at α = 0.05)",
                      float_format="{:.4g}")
    for name, fig in st.figures.items():
        path = save_figure(fig, out / "figures" / f"ncscd_beta_{name}.png")
        rep.figure(path, {"mixed_coefficients": "Fixed effects of the β mixed model with 95 % "
                          "confidence intervals (z-scored predictors)."}.get(
                              name, f"β by {name.removeprefix('groups_').replace('_', ' ')} "
                              "with Duncan letters."), relative_to=out)
    if "groups_ecosystem" in st.tables and st.tables["groups_ecosystem"].shape[0]:
        rep.text(
            "A significant ANOVA F with every group sharing one Duncan letter is possible with "
            "small, unequal groups: the overall test pools all contrasts, while Duncan's "
            "ranges protect each pairwise comparison.", note=True,
        )
    timings["drivers"] = time.perf_counter() - t0
    res = st.mixed
    return {
        "formula": "beta ~ mat + map + (1 | region)", "reml": True, "test": "duncan",
        "alpha": 0.05,
        "r2_marginal": None if res is None else float(res.r2_marginal),
        "r2_conditional": None if res is None else float(res.r2_conditional),
        "excluded": len(st.tables.get("excluded", [])),
    }
