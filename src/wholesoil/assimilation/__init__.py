"""Data assimilation (seed 003 §2.6): profile-level Bayesian calibration of the process models.

Parameter spaces mapped to [0, 1] from the prior tables, PRODA's costs and likelihoods, profile
filters, convergence diagnostics, and a vectorized adaptive-Metropolis sampler that advances all
chains of a batch of profiles together.
"""
