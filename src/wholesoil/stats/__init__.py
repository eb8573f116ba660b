"""wholesoil.stats: group comparisons (one-way ANOVA, Duncan, Tukey HSD), collinearity filters
(caret's findCorrelation and findLinearCombos) and grouped PCA (Kaiser rule,
Wang G. et al. (manuscript)).

References
----------
Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

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
from wholesoil.stats._mixed import (
    DfMethod,
    MixedModelResult,
    fit_mixed,
    table_to_markdown,
    zscore,
    zscore_columns,
)
from wholesoil.stats._partial import (
    SEED001_BANDS_CM,
    PartialMethod,
    depth_bands,
    partial_correlation,
)

__all__ = [
    "SEED001_BANDS_CM",
    "AnovaResult",
    "CorrelationFilter",
    "DfMethod",
    "GroupedPCA",
    "LinearCombos",
    "LinearCombosFilter",
    "MixedModelResult",
    "MultipleComparison",
    "PartialMethod",
    "compact_letters",
    "depth_bands",
    "duncan_test",
    "find_correlation",
    "find_linear_combos",
    "fit_mixed",
    "one_way_anova",
    "partial_correlation",
    "table_to_markdown",
    "tukey_hsd",
    "zscore",
    "zscore_columns",
]
