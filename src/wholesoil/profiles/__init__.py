"""Soil profiles: the ProfileSet container, QC, equal-area splines, SOC density, pedotransfer,
texture classes."""

from wholesoil.profiles._density import (
    add_soc_density,
    cumulative_stocks,
    soc_density,
    stock_to_depth,
)
from wholesoil.profiles._pedotransfer import (
    TAO2022_BD_PTF,
    PedotransferFit,
    bd_pedotransfer,
    fill_bulk_density,
    fit_bd_pedotransfer,
    om_percent_from_soc,
)
from wholesoil.profiles._profileset import (
    HORIZON_COLUMNS,
    SITE_COLUMNS,
    VALUE_RANGES,
    PaddedProfiles,
    ProfileSet,
    pad_horizons,
)
from wholesoil.profiles._qc import DEFAULT_RULES, RULES, QCResult, check_profiles, run_qc
from wholesoil.profiles._spline import (
    MPSPLINE2_CLAMP,
    STANDARD_DEPTHS,
    SplineFit,
    evaluate_layers,
    fit_profiles,
    fit_spline,
    harmonize,
)
from wholesoil.profiles._texture import (
    TEXTURE_GROUPS,
    USDA_TEXTURE_CLASSES,
    texture_class,
    texture_group,
)

__all__ = [
    "DEFAULT_RULES",
    "HORIZON_COLUMNS",
    "MPSPLINE2_CLAMP",
    "RULES",
    "SITE_COLUMNS",
    "STANDARD_DEPTHS",
    "TAO2022_BD_PTF",
    "TEXTURE_GROUPS",
    "USDA_TEXTURE_CLASSES",
    "VALUE_RANGES",
    "PaddedProfiles",
    "PedotransferFit",
    "ProfileSet",
    "QCResult",
    "SplineFit",
    "add_soc_density",
    "bd_pedotransfer",
    "check_profiles",
    "cumulative_stocks",
    "evaluate_layers",
    "fill_bulk_density",
    "fit_bd_pedotransfer",
    "fit_profiles",
    "fit_spline",
    "harmonize",
    "om_percent_from_soc",
    "pad_horizons",
    "run_qc",
    "soc_density",
    "stock_to_depth",
    "texture_class",
    "texture_group",
]
