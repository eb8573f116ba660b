"""PRODA costs (spec assimilation.md; Tao et al. (EarthArXiv) Eq. 1 NSE), Gaussian likelihood, profile filters."""

import numpy as np
import pytest
from scipy import stats

from wholesoil.assimilation._costs import (
    gaussian_loglik,
    nse,
    proda_clm5_cost,
    proda_clm5_weights,
    proda_compas_cost,
    profile_filter,
)
from wholesoil.errors import InputDataError

nan = np.nan


def test_clm5_weights_rank_both_ends_pinned():
    """Pinned rule of the public PRODA code (``da_cesm2_clm5_cen_vr_v2.m``, ``phxtao/PRODA_PUBLIC``):
    layers ranked by |obs − mean obs| and by |z − mean z| (descending, ties in layer order),
    r = mean of the two ranks, w = max(1, 10·e^−(r−1)). SOC 10, 6, 4, 3, 2.5 at 10, 30, 50, 70,
    90 cm: SOC ranks 1, 5, 4, 3, 2, depth ranks 1, 3, 5, 4, 2, r = 1, 4, 4.5, 3.5, 2, so
    w = 10, 1, 1, 1, 10/e = 3.68 (worked by hand from the rule)."""
    w = proda_clm5_weights([10.0, 6.0, 4.0, 3.0, 2.5], [10.0, 30.0, 50.0, 70.0, 90.0])
    np.testing.assert_allclose(w, [10, 1, 1, 1, 10 / np.e], rtol=1e-15)
    np.testing.assert_allclose(w[-1], 3.68, atol=5e-3)
    # batched and NaN-padded: padding gets 0 and does not use up a rank
    wb = proda_clm5_weights([[10.0, 6.0, 4.0, 3.0, 2.5, nan]], [[10, 30, 50, 70, 90, nan]])
    np.testing.assert_allclose(wb, [[10, 1, 1, 1, 10 / np.e, 0]], rtol=1e-15)


def test_clm5_weights_default_depths_are_layer_positions():
    # positions 0..4: both ranks 1, 3, 5, 4, 2 → w = 10, 10/e², 1, 1, 10/e
    w = proda_clm5_weights([5.0, 4.0, 3.0, 2.0, 1.0, nan])
    np.testing.assert_allclose(w, [10, 10 / np.e**2, 1, 1, 10 / np.e, 0], rtol=1e-15)
    np.testing.assert_allclose(proda_clm5_weights([1.0, nan, 1.0]), [10, 0, 10 / np.e])


def test_clm5_cost_hand_case():
    # (mod − obs)² / (2·(0.6·obs)²) = 36/72 = 0.5 where |mod − obs| = 6, obs = 10;
    # equal obs: SOC ranks 1, 2, 3; depth ranks 1, 3, 2 → r = 1, 2.5, 2.5
    obs = np.array([10.0, 10.0, 10.0])
    mod = np.array([16.0, 10.0, 4.0])
    np.testing.assert_allclose(proda_clm5_cost(mod, obs), 0.5 * (10 + 10 / np.e**1.5),
                               rtol=1e-14)
    # NaN-padded observations are ignored, whatever the model says there
    obs_p = np.array([10.0, nan, 10.0, nan])
    mod_p = np.array([16.0, 1e9, 16.0, 5.0])
    np.testing.assert_allclose(proda_clm5_cost(mod_p, obs_p), 0.5 * (10 + 10 / np.e), rtol=1e-14)
    assert proda_clm5_cost([1.0], [nan]) == 0.0


def test_clm5_cost_batched_and_broadcast():
    rng = np.random.default_rng(3)
    obs = rng.uniform(1, 10, size=(2, 1, 4))
    obs[1, 0, 3] = nan
    mod = rng.uniform(1, 10, size=(2, 5, 4))  # 5 chains per profile
    j = proda_clm5_cost(mod, obs)
    assert j.shape == (2, 5)
    for p in range(2):
        for c in range(5):
            np.testing.assert_allclose(j[p, c], proda_clm5_cost(mod[p, c], obs[p, 0]))


def test_clm5_cost_bad_input():
    with pytest.raises(InputDataError, match="obs"):
        proda_clm5_cost([1.0, 1.0], [1.0, 0.0])
    # a failed model solve is rejected by any sampler
    assert proda_clm5_cost([nan, 1.0], [1.0, 1.0]) == np.inf


def test_nse_reference_cases():
    obs = np.array([1.0, 2.0, 3.0])
    # Tao et al. (EarthArXiv) Eq. 1: perfect model → 1; model equal to the observed mean → 0
    assert nse(obs, obs) == 1.0
    assert nse(np.full(3, 2.0), obs) == 0.0
    # hand case: Σ(obs − mod)² = 1, Σ(obs − mean)² = 2 → NSE = 0.5, COMPAS J = 5·0.5
    np.testing.assert_allclose(nse([1.0, 2.0, 4.0], obs), 0.5, rtol=1e-15)
    np.testing.assert_allclose(proda_compas_cost([1.0, 2.0, 4.0], obs), 2.5, rtol=1e-15)
    assert proda_compas_cost(obs, obs) == 0.0
    # padding ignored: the mean is over observed layers (2, not (1 + 2 + 3 + 0)/4)
    np.testing.assert_allclose(nse([1.0, 2.0, 4.0, 7.0], [1.0, 2.0, 3.0, nan]), 0.5)
    # undefined with one observed layer or constant observations
    assert np.isnan(nse([1.0, 2.0], [1.0, nan]))
    assert np.isnan(nse([1.0, 2.0], [3.0, 3.0]))
    out = nse(np.zeros((4, 3)), np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(out, 1 - 14 / 2)


def test_gaussian_loglik_matches_scipy():
    # exact distribution: sum of scipy.stats.norm.logpdf over observed layers
    rng = np.random.default_rng(4)
    obs = rng.normal(10, 2, size=(3, 5))
    obs[2, 3:] = nan
    mod = rng.normal(10, 2, size=(3, 5))
    sigma = np.array([0.5, 1.0, 2.0, 3.0, 4.0])
    expect = np.array([
        np.sum(stats.norm.logpdf(obs[i], mod[i], sigma)[~np.isnan(obs[i])]) for i in range(3)
    ])
    np.testing.assert_allclose(gaussian_loglik(mod, obs, sigma), expect, rtol=1e-13)
    with pytest.raises(InputDataError, match="sigma"):
        gaussian_loglik(mod, obs, 0.0)
    assert gaussian_loglik([nan, 1.0], [1.0, 1.0], 1.0) == -np.inf


def test_profile_filter_reasons():
    # Tao et al. (EarthArXiv) §2.1: ≥ 3 layers and maximum depth > 50 cm; plus depths present/increasing, SOC > 0
    top = np.array([
        [0, 10, 30, nan],  # kept (padding at the end)
        [0, 30, nan, nan],  # two layers
        [0, 10, 30, nan],  # max depth exactly 50 cm: not deeper
        [0, 30, 10, nan],  # not increasing
        [0, 10, 30, nan],  # SOC 0
        [0, nan, 30, nan],  # a depth missing
        [0, 10, 30, 60],  # kept
    ], dtype=float)
    bottom = np.array([
        [10, 30, 60, nan],
        [30, 60, nan, nan],
        [10, 30, 50, nan],
        [30, 60, 30, nan],
        [10, 30, 60, nan],
        [10, 30, 60, nan],
        [10, 30, 60, 100],
    ], dtype=float)
    soc = np.array([
        [5, 3, 1, nan],
        [5, 3, nan, nan],
        [5, 3, 1, nan],
        [5, 3, 1, nan],
        [5, 0, 1, nan],
        [5, 3, 1, nan],
        [5, 3, 1, 0.5],
    ], dtype=float)
    keep, reason = profile_filter(top, bottom, soc)
    np.testing.assert_array_equal(keep, [True, False, False, False, False, False, True])
    assert reason[0] == "" and reason[6] == ""
    assert reason[1] == "fewer than 3 layers"
    assert reason[2] == "maximum depth not deeper than 50 cm"
    assert reason[3] == "depths not increasing"
    assert reason[4] == "SOC missing or not > 0"
    assert reason[5] == "depths missing"
    # several failures are all reported
    k, r = profile_filter([0.0, 10.0], [10.0, 20.0], [1.0, -1.0])
    assert not k
    assert str(r) == ("fewer than 3 layers; maximum depth not deeper than 50 cm; "
                      "SOC missing or not > 0")
