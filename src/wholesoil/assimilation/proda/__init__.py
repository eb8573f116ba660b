"""PRODA's second step (seed 003 §2.6–2.7) and its end-to-end differentiable variant.

Covariate assembly and min–max scaling (:class:`Scaler`), the parameter network in PyTorch with
a bootstrap ensemble (:class:`ParameterNetwork`, trained on the accepted profile calibrations),
a differentiable CLM5 steady state (:func:`clm5_steady_state_torch`) and end-to-end calibration
of the network against observed SOC by layer (:func:`fit_end_to_end`).
"""

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

__all__ = [
    "AUTO_THOMAS_BATCH",
    "CLM5_TORCH_PARAMETERS",
    "PRODA_NETWORK_SETTINGS",
    "RATIO_MSE_FACTORS",
    "U_MARGIN",
    "CLM5TorchForcing",
    "ParameterNetwork",
    "Scaler",
    "accepted_targets",
    "clm5_steady_state_torch",
    "fit_end_to_end",
    "grid_covariates",
    "layer_overlap",
    "layer_stocks_torch",
    "mse_loss",
    "predict_layer_stocks",
    "prepare_clm5_forcing",
    "profile_covariates",
    "ratio_mse_loss",
    "sample_grid",
]
