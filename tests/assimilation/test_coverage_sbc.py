"""Simulation-based check of the calibration (issue 7 acceptance).

50 synthetic profiles are generated from known CLM5 parameters (uniform on the middle 80 % of
their priors) under forcing from random climates, with a known observation noise (5 %
multiplicative); the profiles are calibrated together with the Gaussian likelihood of that
noise. The 90 % credible intervals must cover the truth in 80–97 % of the profiles for each
well-identified parameter, and the chains must converge (R̂). Posterior contraction
1 − var(post)/var(prior) says how well each parameter is identified; the test reports the
weakly identified ones (contraction < 0.2: the posterior is nearly the prior). Tao et al. (EarthArXiv) §4.3
expects several: here the litter turnover time tau4l2 and the CWD → litter fraction fl2cwd,
which the mineral SOC observed in profiles barely constrains, against four soil and depth
parameters that the profiles pin down. (All 21 parameters at once need the full protocol to
converge: 50 profiles × 12,000 iterations left the mean R̂ at 1.17 — see the issue 7 note.)
"""

from __future__ import annotations

import numpy as np
import pytest

from wholesoil.assimilation import ParameterSpace, ProfileData, calibrate, make_log_target
from wholesoil.models import forcing_from_climate

NAMES = ["tau4s3", "efolding", "b", "tau4s2", "tau4l2", "fl2cwd"]
WEAK = 0.2  # contraction below which a parameter counts as weakly identified
P = 50
NOISE = 0.05


@pytest.mark.slow
def test_credible_intervals_cover_known_parameters_of_synthetic_profiles():
    full = ParameterSpace.from_clm5()
    idx = [full.names.index(n) for n in NAMES]
    space = ParameterSpace(NAMES, full.lower[idx], full.upper[idx], full.defaults[idx],
                           open_lower=full.open_lower[idx], open_upper=full.open_upper[idx])
    rng = np.random.default_rng(1)
    forcing = forcing_from_climate(rng.uniform(-5, 20, P), rng.uniform(300, 1500, P),
                                   lat=rng.uniform(20, 65, P))
    top = np.tile([0.0, 10, 30, 60, 100], (P, 1))
    bottom = np.tile([10.0, 30, 60, 100, 200], (P, 1))
    ids = np.array([f"S{i}" for i in range(P)], dtype=object)
    u_true = rng.uniform(0.1, 0.9, (P, len(NAMES)))
    shell = ProfileData(ids, top, bottom, np.ones_like(top), forcing)
    truth, valid = make_log_target("clm5", shell, space, cost="gaussian", sigma=1.0).predict(
        u_true[:, None, :])
    assert valid.all()
    obs = truth[:, 0] * (1 + NOISE * rng.standard_normal(truth[:, 0].shape))
    data = ProfileData(ids, top, bottom, obs, forcing)
    res = calibrate(data, space=space, cost="gaussian", sigma=NOISE * obs,
                    test_iterations=800, formal_iterations=5000, adapt_start=800, seed=3, thin=5)
    samples = res.mcmc.samples.reshape(P, -1, len(NAMES))  # (profiles, chains·kept, d)
    lo, hi = np.quantile(samples, [0.05, 0.95], axis=1)
    coverage = np.mean((lo <= u_true) & (u_true <= hi), axis=0)
    contraction = 1 - samples.var(axis=1).mean(axis=0) / (1 / 12)  # prior U(0, 1) in u
    print("90 % coverage:", dict(zip(NAMES, coverage.round(2), strict=True)))
    print("posterior contraction:", dict(zip(NAMES, contraction.round(2), strict=True)))
    weak = [n for n, c in zip(NAMES, contraction, strict=True) if c < WEAK]
    print("weakly identified:", weak)
    assert weak == ["tau4l2", "fl2cwd"]
    well = contraction >= WEAK
    # 80–97 % pooled over the well-identified parameters (4 × 50 intervals: binomial sd 0.021
    # at 90 %); one parameter's 50 intervals have sd 0.042, so each is only held to ≥ 80 % (an
    # upper bound of 97 % per parameter would fail a calibrated sampler 1 time in 8)
    pooled = coverage[well].mean()
    assert 0.80 <= pooled <= 0.97, coverage
    assert np.all(coverage[well] >= 0.80), coverage
    assert np.all(coverage[~well] >= 0.80)  # posterior ≈ prior still covers the truth
    assert np.all((contraction > -0.1) & (contraction < 1.0))
    rhat = res.profiles["rhat_mean"].to_numpy(float)
    assert np.mean(rhat <= 1.05) >= 0.9 and np.nanmean(rhat) <= 1.05
