"""Group comparison of a per-profile quantity: one-way ANOVA, Duncan and Tukey
(Wang H. et al. (2025) §2.8).

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from wholesoil.stats import duncan_test, one_way_anova, tukey_hsd


@dataclass
class GroupComparison:
    """Tables, letters and a one-line summary of a group comparison.

    Attributes
    ----------
    tables : dict of DataFrame
        ``groups`` (n, mean, sd, Duncan and Tukey letters), ``anova`` (one row),
        ``duncan`` and ``tukey`` (pairwise).
    letters : dict
        Duncan letters by group (for figures).
    summary : str
        One sentence with F, df and p.
    """

    tables: dict[str, pd.DataFrame]
    letters: dict[str, str]
    summary: str


#: Tables :func:`compare_groups` returns (``beta --group-column`` writes ``OUT.<name>.csv``).
GROUP_TABLES: tuple[str, ...] = ("groups", "anova", "duncan", "tukey")


def compare_groups(
    values: pd.Series | np.ndarray, groups: pd.Series | np.ndarray, alpha: float = 0.05
) -> GroupComparison:
    """One-way ANOVA, then Duncan's multiple range test and Tukey HSD at level ``alpha``.

    Rows with a missing value or group are left out of the test, and the summary says how many.
    """
    v = np.asarray(values, dtype=float)
    g = pd.Series(np.asarray(groups, dtype=object))
    ok = np.isfinite(v) & g.notna().to_numpy()
    v, gs = v[ok], g[ok].astype(str).to_numpy()
    an = one_way_anova(v, gs)
    du = duncan_test(v, gs, alpha=alpha)
    tu = tukey_hsd(v, gs, alpha=alpha)
    table = du.means.rename(columns={"letters": "duncan"}).merge(
        tu.means[["group", "letters"]].rename(columns={"letters": "tukey"}), on="group"
    )
    anova = pd.DataFrame(
        [
            {
                "F": an.f_statistic,
                "df_between": an.df_between,
                "df_within": an.df_within,
                "p": an.p_value,
                "ms_within": an.ms_within,
                "n": int(ok.sum()),
                "left_out": int((~ok).sum()),
            }
        ]
    )
    summary = (
        f"One-way ANOVA over {len(table)} groups (n = {int(ok.sum())}"
        + (f", {int((~ok).sum())} rows without value or group left out" if (~ok).any() else "")
        + f"): F({an.df_between}, {an.df_within}) = {an.f_statistic:.3f}, p = {an.p_value:.3g}; "
        f"groups sharing a letter do not differ at α = {alpha} (Duncan; Tukey HSD alongside)."
    )
    return GroupComparison(
        {"groups": table, "anova": anova, "duncan": du.pairwise, "tukey": tu.pairwise},
        dict(zip(table["group"], table["duncan"], strict=True)),
        summary,
    )
