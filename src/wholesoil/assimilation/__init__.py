"""Data assimilation (Tao et al. (EarthArXiv) §2.6): profile-level Bayesian calibration of the
process models.

Parameter spaces mapped to [0, 1] from the prior tables, PRODA's costs and likelihoods, profile
filters, convergence diagnostics, a vectorized adaptive-Metropolis sampler that advances all
chains of a batch of profiles together, per-profile calibration of CLM5 and COMPAS with posterior
summaries, and a checkpointed runner that fans batches of profiles out over dask. The second
half of PRODA (neural generalization of the parameters, global simulation, end-to-end
differentiable calibration) is :mod:`wholesoil.assimilation.proda` (imported on its own, so that
torch loads only when it is used).

References
----------
Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from wholesoil.assimilation._calibrate import (
    CalibrationResult,
    LogTarget,
    ProfileData,
    calibrate,
    make_log_target,
)
from wholesoil.assimilation._components import COMPONENTS, chains_table, posterior_components
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
from wholesoil.assimilation._runner import RunSummary, batch_seed, collect, run_profiles
from wholesoil.assimilation._space import ParameterSpace

__all__ = [
    "COMPONENTS",
    "PRODA_MCMC_SETTINGS",
    "RHAT_THRESHOLD",
    "CalibrationResult",
    "LogTarget",
    "MCMCResult",
    "ParameterSpace",
    "ProfileData",
    "RunSummary",
    "acceptance_rate",
    "adaptive_metropolis",
    "batch_seed",
    "calibrate",
    "chains_table",
    "collect",
    "effective_sample_size",
    "gaussian_loglik",
    "gelman_rubin",
    "make_log_target",
    "nse",
    "posterior_components",
    "proda_clm5_cost",
    "proda_clm5_weights",
    "proda_compas_cost",
    "profile_filter",
    "run_profiles",
]
