"""PRODA's second step (Tao et al. (EarthArXiv) §2.6–2.7) and its end-to-end differentiable variant.

Covariate assembly and min–max scaling (:class:`Scaler`), the parameter network in PyTorch with
a bootstrap ensemble (:class:`ParameterNetwork`, trained on the accepted profile calibrations),
a differentiable CLM5 steady state (:func:`clm5_steady_state_torch`) and end-to-end calibration
of the network against observed SOC by layer (:func:`fit_end_to_end`); the global simulation
with parameter maps (:func:`simulate_grid`: SOC by depth and Tao et al.'s (EarthArXiv) six
components) and the structure comparison of two models' maps (:func:`compare_structures`,
:func:`zonal_means`).

References
----------
Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from wholesoil.assimilation.proda._compare import (
    SEED003_CORRELATIONS,
    compare_structures,
    map_correlation,
    zonal_means,
)
from wholesoil.assimilation.proda._covariates import (
    Scaler,
    grid_covariates,
    profile_covariates,
    sample_grid,
)
from wholesoil.assimilation.proda._differentiable import (
    AUTO_THOMAS_BATCH,
    CLM5_TORCH_PARAMETERS,
    CLM5TorchForcing,
    clm5_steady_state_torch,
    layer_overlap,
    layer_stocks_torch,
    prepare_clm5_forcing,
)
from wholesoil.assimilation.proda._e2e import U_MARGIN, fit_end_to_end, predict_layer_stocks
from wholesoil.assimilation.proda._network import (
    PRODA_NETWORK_SETTINGS,
    RATIO_MSE_FACTORS,
    ParameterNetwork,
    accepted_targets,
    mse_loss,
    ratio_mse_loss,
)
from wholesoil.assimilation.proda._simulate import (
    COMPONENTS,
    SOC_DEPTHS_CM,
    SOC_LAYERS,
    default_parameters,
    model_parameter_names,
    simulate_cells,
    simulate_grid,
)

__all__ = [
    "AUTO_THOMAS_BATCH",
    "CLM5_TORCH_PARAMETERS",
    "COMPONENTS",
    "PRODA_NETWORK_SETTINGS",
    "RATIO_MSE_FACTORS",
    "SEED003_CORRELATIONS",
    "SOC_DEPTHS_CM",
    "SOC_LAYERS",
    "U_MARGIN",
    "CLM5TorchForcing",
    "ParameterNetwork",
    "Scaler",
    "accepted_targets",
    "clm5_steady_state_torch",
    "compare_structures",
    "default_parameters",
    "fit_end_to_end",
    "grid_covariates",
    "layer_overlap",
    "layer_stocks_torch",
    "map_correlation",
    "model_parameter_names",
    "mse_loss",
    "predict_layer_stocks",
    "prepare_clm5_forcing",
    "profile_covariates",
    "ratio_mse_loss",
    "sample_grid",
    "simulate_cells",
    "simulate_grid",
    "zonal_means",
]


# Figures live in wholesoil.plots; these names stay importable from here and load it on first use
# (this package never imports matplotlib itself).
_MOVED_TO_PLOTS = ("component_figure", "latitude_figure")


def __getattr__(name: str) -> object:
    if name in _MOVED_TO_PLOTS:
        import importlib

        return getattr(importlib.import_module("wholesoil.plots"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
