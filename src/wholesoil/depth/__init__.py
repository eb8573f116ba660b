"""Depth functions of soil organic carbon.

The Jobbágy–Jackson β model (Wang et al., Wang H. et al. (2025) Eqs. 2–3 and §2.6) with per-profile
fitting, exponential and power alternatives compared by AIC, and a table-level entry point.

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023
"""

from wholesoil.depth._alternatives import (
    ExponentialFit,
    PowerFit,
    aic,
    aicc,
    exponential_cumulative,
    fit_exponential,
    fit_power,
    power_cumulative,
)
from wholesoil.depth._beta import (
    DEFAULT_BETA_BOUNDS,
    GLOBAL_MEAN_BETA,
    OBSERVED_MEAN_BETA,
    BetaFit,
    BetaMethod,
    beta_cumulative_fraction,
    cumulative_density,
    fit_beta,
    fit_beta_fraction,
    layer_densities,
    x100_from_x_d0,
)
from wholesoil.depth._roots import (
    JACKSON_1996_BETA,
    SCHENK_JACKSON_C,
    RootFractions,
    jackson_beta,
    jackson_cumulative,
    root_fractions,
    schenk_jackson_c,
    schenk_jackson_cumulative,
)
from wholesoil.depth._table import DEPTH_FUNCTION_COLUMNS, BetaModel, fit_depth_functions

__all__ = [
    "DEFAULT_BETA_BOUNDS",
    "DEPTH_FUNCTION_COLUMNS",
    "GLOBAL_MEAN_BETA",
    "JACKSON_1996_BETA",
    "OBSERVED_MEAN_BETA",
    "SCHENK_JACKSON_C",
    "BetaFit",
    "BetaMethod",
    "BetaModel",
    "ExponentialFit",
    "PowerFit",
    "RootFractions",
    "aic",
    "aicc",
    "beta_cumulative_fraction",
    "cumulative_density",
    "exponential_cumulative",
    "fit_beta",
    "fit_beta_fraction",
    "fit_depth_functions",
    "fit_exponential",
    "fit_power",
    "jackson_beta",
    "jackson_cumulative",
    "layer_densities",
    "power_cumulative",
    "root_fractions",
    "schenk_jackson_c",
    "schenk_jackson_cumulative",
    "x100_from_x_d0",
]
