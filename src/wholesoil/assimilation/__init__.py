"""Data assimilation (seed 003 §2.6): profile-level Bayesian calibration of the process models.

Parameter spaces mapped to [0, 1] from the prior tables, PRODA's costs and likelihoods, profile
filters, convergence diagnostics, and a vectorized adaptive-Metropolis sampler that advances all
chains of a batch of profiles together.
"""

from wholesoil.assimilation._costs import (
    gaussian_loglik,
    nse,
    proda_clm5_cost,
    proda_clm5_weights,
    proda_compas_cost,
    profile_filter,
)
from wholesoil.assimilation._diagnostics import (
    RHAT_THRESHOLD,
    acceptance_rate,
    effective_sample_size,
    gelman_rubin,
)
from wholesoil.assimilation._mcmc import PRODA_MCMC_SETTINGS, MCMCResult, adaptive_metropolis
from wholesoil.assimilation._space import ParameterSpace

__all__ = [
    "PRODA_MCMC_SETTINGS",
    "RHAT_THRESHOLD",
    "MCMCResult",
    "ParameterSpace",
    "acceptance_rate",
    "adaptive_metropolis",
    "effective_sample_size",
    "gaussian_loglik",
    "gelman_rubin",
    "nse",
    "proda_clm5_cost",
    "proda_clm5_weights",
    "proda_compas_cost",
    "profile_filter",
]
