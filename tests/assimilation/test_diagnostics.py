"""Gelman–Rubin R̂ (Tao et al. (EarthArXiv) §2.6 formula), ESS (AR(1) closed form), acceptance rate."""

import numpy as np
import pytest
from scipy.signal import lfilter

from wholesoil.assimilation._diagnostics import (
    acceptance_rate,
    effective_sample_size,
    gelman_rubin,
)
from wholesoil.errors import InputDataError


def _ar1(rng, rho, shape):
    """Stationary AR(1) x_t = ρ x_{t−1} + e_t along axis -2; shape (..., n, d)."""
    e = rng.standard_normal(shape)
    e[..., 0, :] /= np.sqrt(1 - rho**2)  # start in the stationary distribution
    return lfilter([1.0], [1.0, -rho], e, axis=-2)


def test_rhat_hand_case():
    # chains 0..3 and 2..5: W = 5/3, B = 4·var([1.5, 3.5]) = 8, n = 4
    # R̂ = sqrt((3/4·5/3 + 8/4) / (5/3)) = sqrt(1.95)
    chains = np.array([[0.0, 1, 2, 3], [2.0, 3, 4, 5]])[..., None]
    np.testing.assert_allclose(gelman_rubin(chains), [np.sqrt(1.95)], rtol=1e-14)


def test_rhat_iid_and_shifted():
    rng = np.random.default_rng(5)
    iid = rng.standard_normal((4, 2000, 3))
    r = gelman_rubin(iid)
    assert r.shape == (3,)
    # E[R̂²] ≈ 1 for iid chains; sampling error O(1/n)
    np.testing.assert_allclose(r, 1.0, atol=0.005)
    shift = np.array([0.0, 0.5, 1.0, 1.5])[:, None, None]
    r_s = gelman_rubin(iid + shift)
    # R̂ → sqrt(1 + var(shift, ddof=1)) = sqrt(1 + 5/12) for unit within-chain variance
    assert np.all(r_s > 1.1)
    np.testing.assert_allclose(r_s, np.sqrt(1 + 5 / 12), rtol=0.02)


def test_rhat_batched_over_profiles():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 3, 50, 4)) + rng.normal(size=(2, 3, 3, 1, 4))
    r = gelman_rubin(x)
    assert r.shape == (2, 3, 4)
    for i in range(2):
        for j in range(3):
            np.testing.assert_allclose(r[i, j], gelman_rubin(x[i, j]), rtol=1e-14)


# tolerance ≈ 5 standard deviations of ESS/expected, measured over 40 seeds at this m, n:
# sd 0.013 (ρ = 0), 0.019 (ρ = 0.5), 0.047 (ρ = 0.9)
@pytest.mark.parametrize(("rho", "rtol"), [(0.0, 0.06), (0.5, 0.1), (0.9, 0.25)])
def test_ess_ar1_closed_form(rho, rtol):
    # AR(1): τ = (1 + ρ)/(1 − ρ), ESS = m·n·(1 − ρ)/(1 + ρ)
    rng = np.random.default_rng(7)
    m, n = 4, 20000
    x = _ar1(rng, rho, (m, n, 2))
    ess = effective_sample_size(x)
    expect = m * n * (1 - rho) / (1 + rho)
    np.testing.assert_allclose(ess, expect, rtol=rtol)


def test_ess_batched_and_single_chain():
    rng = np.random.default_rng(8)
    x = _ar1(rng, 0.5, (3, 2, 5000, 1))
    ess = effective_sample_size(x)
    assert ess.shape == (3, 1)
    for i in range(3):
        np.testing.assert_allclose(ess[i], effective_sample_size(x[i]), rtol=1e-12)
    one = effective_sample_size(x[0, :1])
    np.testing.assert_allclose(one, 5000 / 3, rtol=0.15)
    # a parameter that never moves has no defined ESS or R̂
    const = np.ones((3, 10, 1))
    assert np.isnan(effective_sample_size(const)).all()
    assert np.isnan(gelman_rubin(const)).all()


def test_acceptance_rate_and_bad_input():
    flags = np.array([[True, False, True, True], [False, False, False, True]])
    np.testing.assert_allclose(acceptance_rate(flags), [0.75, 0.25])
    np.testing.assert_allclose(acceptance_rate(flags, axis=0), [0.5, 0, 0.5, 1])
    with pytest.raises(InputDataError, match="boolean"):
        acceptance_rate([1, 0])
    with pytest.raises(InputDataError, match="2 chain"):
        gelman_rubin(np.zeros((1, 10, 2)))
    with pytest.raises(InputDataError, match="4 draws"):
        effective_sample_size(np.zeros((2, 3, 2)))
