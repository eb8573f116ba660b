"""PRODA's second step (seed 003 §2.6–2.7) and its end-to-end differentiable variant.

Covariate assembly and min–max scaling, the parameter network (PyTorch) with a bootstrap
ensemble, a differentiable CLM5 steady state, and end-to-end calibration of the network against
observed SOC by layer.
"""

from wholesoil.assimilation.proda._differentiable import (
    CLM5_TORCH_PARAMETERS,
    CLM5TorchForcing,
    clm5_steady_state_torch,
    layer_overlap,
    layer_stocks_torch,
    prepare_clm5_forcing,
)

__all__ = [
    "CLM5_TORCH_PARAMETERS",
    "CLM5TorchForcing",
    "clm5_steady_state_torch",
    "layer_overlap",
    "layer_stocks_torch",
    "prepare_clm5_forcing",
]
