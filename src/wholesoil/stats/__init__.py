"""wholesoil.stats: group comparisons (one-way ANOVA, Duncan, Tukey HSD), collinearity filters
(caret's findCorrelation and findLinearCombos) and grouped PCA (Kaiser rule, seed 004)."""

from wholesoil.stats._anova import (
    AnovaResult,
    MultipleComparison,
    compact_letters,
    duncan_test,
    one_way_anova,
    tukey_hsd,
)
from wholesoil.stats._collinearity import (
    CorrelationFilter,
    LinearCombos,
    LinearCombosFilter,
    find_correlation,
    find_linear_combos,
)
from wholesoil.stats._grouped_pca import GroupedPCA

__all__ = [
    "AnovaResult",
    "CorrelationFilter",
    "GroupedPCA",
    "LinearCombos",
    "LinearCombosFilter",
    "MultipleComparison",
    "compact_letters",
    "duncan_test",
    "find_correlation",
    "find_linear_combos",
    "one_way_anova",
    "tukey_hsd",
]
