"""Soil profiles: the ProfileSet container, QC, equal-area splines, SOC density, per-layer
stocks at standard depths, pedotransfer, texture classes.

Names are imported on first use (PEP 562): reading a table needs the ProfileSet, not the
pedotransfer fit (scipy.optimize) or the splines.
"""

from __future__ import annotations

from wholesoil._lazy import lazy_exports

#: Public name → (module, attribute), imported on first access.
_EXPORTS: dict[str, tuple[str, str]] = {
    "DEFAULT_RULES": ("wholesoil.profiles._qc", "DEFAULT_RULES"),
    "EXTENSIVE_VARIABLES": ("wholesoil.profiles._layer_stocks", "EXTENSIVE_VARIABLES"),
    "HORIZON_COLUMNS": ("wholesoil.profiles._profileset", "HORIZON_COLUMNS"),
    "MPSPLINE2_CLAMP": ("wholesoil.profiles._spline", "MPSPLINE2_CLAMP"),
    "PaddedProfiles": ("wholesoil.profiles._profileset", "PaddedProfiles"),
    "PedotransferFit": ("wholesoil.profiles._pedotransfer", "PedotransferFit"),
    "ProfileSet": ("wholesoil.profiles._profileset", "ProfileSet"),
    "QCResult": ("wholesoil.profiles._qc", "QCResult"),
    "RULES": ("wholesoil.profiles._qc", "RULES"),
    "SITE_COLUMNS": ("wholesoil.profiles._profileset", "SITE_COLUMNS"),
    "STANDARD_DEPTHS": ("wholesoil.profiles._spline", "STANDARD_DEPTHS"),
    "SplineFit": ("wholesoil.profiles._spline", "SplineFit"),
    "TAO2022_BD_PTF": ("wholesoil.profiles._pedotransfer", "TAO2022_BD_PTF"),
    "TEXTURE_GROUPS": ("wholesoil.profiles._texture", "TEXTURE_GROUPS"),
    "USDA_TEXTURE_CLASSES": ("wholesoil.profiles._texture", "USDA_TEXTURE_CLASSES"),
    "VALUE_RANGES": ("wholesoil.profiles._profileset", "VALUE_RANGES"),
    "add_soc_density": ("wholesoil.profiles._density", "add_soc_density"),
    "bd_pedotransfer": ("wholesoil.profiles._pedotransfer", "bd_pedotransfer"),
    "check_profiles": ("wholesoil.profiles._qc", "check_profiles"),
    "cumulative_stocks": ("wholesoil.profiles._density", "cumulative_stocks"),
    "evaluate_layers": ("wholesoil.profiles._spline", "evaluate_layers"),
    "fill_bulk_density": ("wholesoil.profiles._pedotransfer", "fill_bulk_density"),
    "fit_bd_pedotransfer": ("wholesoil.profiles._pedotransfer", "fit_bd_pedotransfer"),
    "fit_profiles": ("wholesoil.profiles._spline", "fit_profiles"),
    "fit_spline": ("wholesoil.profiles._spline", "fit_spline"),
    "harmonize": ("wholesoil.profiles._spline", "harmonize"),
    "layer_stocks": ("wholesoil.profiles._layer_stocks", "layer_stocks"),
    "om_percent_from_soc": ("wholesoil.profiles._pedotransfer", "om_percent_from_soc"),
    "pad_horizons": ("wholesoil.profiles._profileset", "pad_horizons"),
    "run_qc": ("wholesoil.profiles._qc", "run_qc"),
    "soc_density": ("wholesoil.profiles._density", "soc_density"),
    "stock_to_depth": ("wholesoil.profiles._density", "stock_to_depth"),
    "texture_class": ("wholesoil.profiles._texture", "texture_class"),
    "texture_group": ("wholesoil.profiles._texture", "texture_group"),
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
