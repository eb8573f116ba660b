"""wholesoil.stats: group comparisons (one-way ANOVA, Duncan, Tukey HSD)."""

from wholesoil.stats._anova import (
    AnovaResult,
    MultipleComparison,
    compact_letters,
    duncan_test,
    one_way_anova,
    tukey_hsd,
)

__all__ = [
    "AnovaResult",
    "MultipleComparison",
    "compact_letters",
    "duncan_test",
    "one_way_anova",
    "tukey_hsd",
]
