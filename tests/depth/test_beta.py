"""Jobbágy–Jackson β model: closed forms (Wang H. et al. (2025) Eqs. 2–3, §2.6) and per-profile fitting."""

from __future__ import annotations

from decimal import Decimal, getcontext

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import optimize, stats

from wholesoil.depth import (
    GLOBAL_MEAN_BETA,
    OBSERVED_MEAN_BETA,
    beta_cumulative_fraction,
    cumulative_density,
    fit_beta,
    fit_beta_fraction,
    layer_densities,
    x100_from_x_d0,
)
from wholesoil.errors import InputDataError

LAYER_SETS = [
    [20.0, 40.0, 60.0, 80.0, 100.0],  # Wang H. et al. (2025) §2.2: five 20-cm layers
    [10.0, 30.0, 60.0, 100.0],
    [5.0, 15.0, 30.0, 60.0, 100.0, 200.0],  # GlobalSoilMap depths
    [30.0, 100.0],  # NCSCD 0–30, 30–100 cm: exactly determined
    [15.0, 45.0, 90.0],
]


def _decimal_pow(beta: str, d: int) -> Decimal:
    return Decimal(beta) ** d


def _synthetic(rng, n_profiles):
    """Noiseless cumulative stocks A(1 − β^d) at mixed layer sets, NaN-padded to (P, 6)."""
    beta = rng.uniform(0.90, 0.995, n_profiles)
    A = rng.uniform(30.0, 400.0, n_profiles)
    depth = np.full((n_profiles, 6), np.nan)
    for p in range(n_profiles):
        ds = LAYER_SETS[p % len(LAYER_SETS)]
        depth[p, : len(ds)] = ds
    cum = A[:, None] * -np.expm1(depth * np.log(beta)[:, None])
    return beta, A, depth, cum


# ----------------------------------------------------------------------- closed forms
def test_published_constants():
    # Wang et al. (Wang H. et al. (2025)): Introduction (global mean) and §3.1 (observed means)
    assert GLOBAL_MEAN_BETA == 0.9786
    assert OBSERVED_MEAN_BETA == {"cropland": 0.9731, "grassland": 0.9772, "forest": 0.9790}


def test_cumulative_fraction_exact():
    getcontext().prec = 50
    # exact decimal powers: Y = 1 − β^d (Wang H. et al. (2025) Eq. 2)
    for d in (1, 20, 100):
        exact = float(1 - _decimal_pow("0.9786", d))
        assert_allclose(beta_cumulative_fraction(d, GLOBAL_MEAN_BETA), exact, rtol=1e-14)
    assert beta_cumulative_fraction(0.0, 0.97) == 0.0
    assert_allclose(beta_cumulative_fraction(2.0, 0.5), 0.75, rtol=0, atol=1e-16)


def test_x100_from_x_d0_exact():
    getcontext().prec = 50
    # X_100 = (1 − β^100)/(1 − β^20)·X_20 (Wang H. et al. (2025) Eq. 3), exact decimal arithmetic
    for beta in ("0.9731", "0.9772", "0.9790", "0.9786"):
        exact = (1 - _decimal_pow(beta, 100)) / (1 - _decimal_pow(beta, 20)) * Decimal(50)
        assert_allclose(x100_from_x_d0(50.0, float(beta)), float(exact), rtol=1e-13)
    # β = 0.5, d0 = 1, d = 2: (1 − 1/4)/(1 − 1/2) = 3/2
    assert_allclose(x100_from_x_d0(2.0, 0.5, d0=1.0, d=2.0), 3.0, rtol=1e-15)
    # limit β → 1: constant density, X_d = X_d0·d/d0
    assert_allclose(x100_from_x_d0(10.0, 1.0), 50.0, rtol=1e-15)
    assert_allclose(x100_from_x_d0(10.0, 1.0 - 1e-13), 50.0, rtol=1e-9)
    # target depth d0 returns X_d0
    assert_allclose(x100_from_x_d0(7.0, 0.95, d0=30.0, d=30.0), 7.0, rtol=1e-15)


def test_cumulative_and_layer_densities_by_difference():
    # Wang H. et al. (2025) §2.6: cumulative at 40/60/80/100 cm, 20-cm layers by subtraction
    x20 = np.array([30.0, 40.0])
    beta = np.array([0.9731, 0.9790])
    cum = cumulative_density(x20, beta)
    assert cum.shape == (2, 4)
    for i in range(2):
        for k, d in enumerate((40, 60, 80, 100)):
            b = float(beta[i])
            assert_allclose(cum[i, k], x20[i] * (1 - b**d) / (1 - b**20), rtol=1e-13)
    layers = layer_densities(x20, beta)
    assert layers.shape == (2, 5)
    assert_allclose(layers[:, 0], x20, rtol=1e-14)  # 0–20 cm is X_20 itself
    assert_allclose(layers[:, 1:], np.diff(np.c_[x20, cum], axis=1), rtol=1e-13)
    assert_allclose(layers.sum(axis=1), x100_from_x_d0(x20, beta), rtol=1e-13)
    # each 20-cm layer is the one above times β^20 (geometric decline)
    ratio = layers[:, 1:] / layers[:, :-1]
    assert_allclose(ratio, np.broadcast_to((beta**20)[:, None], ratio.shape), rtol=1e-12)


def test_bad_beta_raises():
    with pytest.raises(InputDataError, match="β must be > 0"):
        x100_from_x_d0(10.0, -0.5)
    with pytest.raises(InputDataError, match="increasing"):
        layer_densities(10.0, 0.97, bounds=(0.0, 40.0, 20.0))


# ------------------------------------------------------------------------ fitting
def test_fit_recovers_beta_for_many_profiles_at_once():
    rng = np.random.default_rng(20240601)
    beta, A, depth, cum = _synthetic(rng, 1000)
    fit = fit_beta(depth, cum, method="stock")
    assert fit.converged.all()
    assert np.max(np.abs(fit.beta - beta)) < 1e-6
    assert_allclose(fit.asymptote, A, rtol=1e-6)
    assert np.all(fit.rmse < 1e-8 * A)
    assert_allclose(fit.n, np.isfinite(depth).sum(axis=1))
    # SE is ~0 for noiseless data; NaN for the exactly determined 2-point profiles
    two = fit.n == 2
    assert np.isnan(fit.beta_se[two]).all()
    assert np.all(fit.beta_se[~two] < 1e-9)


def test_fitted_model_reproduces_seed000_eq3():
    # With the "stock" model the profile's observed 0–100 cm stock equals Eq. 3 applied
    # to its observed 0–20 cm stock with the fitted β (Wang H. et al. (2025) Eq. 3).
    rng = np.random.default_rng(3)
    beta = rng.uniform(0.90, 0.995, 200)
    A = rng.uniform(50, 300, 200)
    depth = np.tile([20.0, 40.0, 60.0, 80.0, 100.0], (200, 1))
    cum = A[:, None] * (1 - beta[:, None] ** depth)
    fit = fit_beta(depth, cum, method="stock")
    assert_allclose(x100_from_x_d0(cum[:, 0], fit.beta), cum[:, -1], rtol=1e-9)
    # and for noisy data the fitted curve obeys Eq. 3 exactly (any A cancels)
    noisy = cum * rng.lognormal(0.0, 0.05, cum.shape)
    noisy = np.maximum.accumulate(noisy, axis=1)
    f2 = fit_beta(depth, noisy, method="stock")
    fitted20 = f2.asymptote * beta_cumulative_fraction(20.0, f2.beta)
    fitted100 = f2.asymptote * beta_cumulative_fraction(100.0, f2.beta)
    assert_allclose(x100_from_x_d0(fitted20, f2.beta), fitted100, rtol=1e-12)


def test_stock_fit_matches_scipy_curve_fit_with_se():
    # scipy.optimize.curve_fit as an independent peer: β, A and SE(β) = sqrt(pcov_ββ)
    rng = np.random.default_rng(11)
    d = np.array([10.0, 20.0, 30.0, 50.0, 70.0, 100.0, 150.0])
    P = 12
    beta = rng.uniform(0.95, 0.99, P)
    cum = 120 * (1 - beta[:, None] ** d) + rng.normal(0, 2.0, (P, d.size))
    fit = fit_beta(np.tile(d, (P, 1)), cum, method="stock")
    for p in range(P):
        popt, pcov = optimize.curve_fit(
            lambda x, A, b: A * (1 - b**x), d, cum[p], p0=(100.0, 0.97), xtol=1e-14, ftol=1e-14
        )
        assert_allclose(fit.beta[p], popt[1], rtol=1e-8)
        assert_allclose(fit.asymptote[p], popt[0], rtol=1e-6)
        assert_allclose(fit.beta_se[p], np.sqrt(pcov[1, 1]), rtol=1e-5)


def test_fraction_method_matches_least_squares_and_is_biased_low():
    rng = np.random.default_rng(5)
    d = np.array([20.0, 40.0, 60.0, 80.0, 100.0])
    beta = rng.uniform(0.95, 0.99, 20)
    cum = 100 * (1 - beta[:, None] ** d)
    fit = fit_beta(np.tile(d, (20, 1)), cum, method="fraction")
    for p in range(20):
        y = cum[p] / cum[p, -1]
        res = optimize.least_squares(
            lambda b, yy=y: yy - (1 - b[0] ** d), x0=[0.97], xtol=1e-15, ftol=1e-15, gtol=1e-15
        )
        assert_allclose(fit.beta[p], res.x[0], rtol=1e-9)
    # treating the 0–100 cm stock as the whole stock makes the profile look steeper
    assert np.all(fit.beta < beta)
    assert_allclose(fit.asymptote, cum[:, -1], rtol=1e-15)


def test_se_coverage_on_noisy_profiles():
    # 95 % t-intervals β̂ ± t(0.975, n − 2)·SE should cover the true β about 95 % of the time
    rng = np.random.default_rng(42)
    P = 3000
    d = np.array([10.0, 20.0, 30.0, 40.0, 60.0, 80.0, 100.0, 125.0, 150.0, 200.0])
    beta = rng.uniform(0.95, 0.99, P)
    A = rng.uniform(80, 200, P)
    cum = A[:, None] * (1 - beta[:, None] ** d) + rng.normal(0, 1.0, (P, d.size))
    fit = fit_beta(np.tile(d, (P, 1)), cum, method="stock")
    assert fit.converged.all()
    t = stats.t.ppf(0.975, d.size - 2)
    coverage = np.mean(np.abs(fit.beta - beta) <= t * fit.beta_se)
    assert 0.93 <= coverage <= 0.97
    assert np.all(fit.beta_se > 0)


def test_unfittable_profiles_are_nan_not_dropped():
    depth = np.array(
        [[20.0, 40.0, np.nan], [20.0, np.nan, np.nan], [20.0, 40.0, 60.0], [20.0, 40.0, 60.0]]
    )
    cum = np.array([[10.0, 15.0, np.nan], [10.0, np.nan, np.nan], [0, 0, 0], [8.0, 20.0, 36.0]])
    fit = fit_beta(depth, cum, method="stock")
    assert fit.beta.shape == (4,)
    assert np.isfinite(fit.beta[0]) and np.isnan(fit.beta_se[0])  # 2 points: exact, no SE
    assert np.isnan(fit.beta[1]) and not fit.converged[1]  # 1 point
    assert np.isnan(fit.beta[2]) and not fit.converged[2]  # zero stock
    # density increasing with depth: β > 1 is fitted (A < 0), not forced onto a bound
    assert fit.beta[3] > 1 and fit.asymptote[3] < 0 and fit.converged[3]
    with pytest.raises(InputDataError, match="> 0 cm"):
        fit_beta([0.0, 20.0], [0.0, 5.0])


def test_single_profile_1d_input():
    fit = fit_beta(
        [20.0, 40.0, 60.0], 50 * (1 - 0.97 ** np.array([20.0, 40.0, 60.0])), method="stock"
    )
    assert_allclose(fit.beta, [0.97], atol=1e-10)


# ------------------------------------------------------- the paper's default: fraction fit
def test_default_fit_is_the_papers_least_squares_on_the_cumulative_fraction():
    # Wang et al. (2025, §2.3) fit Y = 1 − β^d to cumulative fractions (after Yang et al. 2011);
    # the default must be that fit, not the free-asymptote stock fit.
    d = np.array([20.0, 40.0, 60.0, 80.0, 100.0])
    cum = 100 * (1 - 0.97 ** d)
    assert_allclose(fit_beta(d, cum).beta, fit_beta(d, cum, method="fraction").beta, rtol=0)
    assert fit_beta(d, cum, method="stock").beta[0] != fit_beta(d, cum).beta[0]


def test_fraction_fit_recovers_known_beta_noise_free():
    # Exact answer: noise-free fractions Y = 1 − β^d give β back (tolerance 1e-6 in β).
    rng = np.random.default_rng(2025)
    P = 500
    beta = rng.uniform(0.90, 0.995, P)
    d = np.array([20.0, 40.0, 60.0, 80.0, 100.0])
    y = 1 - beta[:, None] ** d
    fit = fit_beta_fraction(np.tile(d, (P, 1)), y)
    assert fit.converged.all()
    assert np.max(np.abs(fit.beta - beta)) < 1e-6
    assert np.all(fit.rmse < 1e-9)
    # the published means themselves (Wang et al. 2025 §3.1) come back exactly
    for b in (0.9731, 0.9772, 0.9790, GLOBAL_MEAN_BETA):
        assert abs(fit_beta_fraction(d, 1 - b**d).beta[0] - b) < 1e-6


def test_fraction_fit_from_stocks_recovers_beta_when_profile_is_complete():
    # Limiting case: profiles sampled deep enough that β^d_max ≈ 0 (< 1e-20) make
    # C(d)/C(d_max) = 1 − β^d, so the default fit on stocks recovers β to 1e-6.
    rng = np.random.default_rng(7)
    P = 200
    beta = rng.uniform(0.90, 0.97, P)
    d = np.array([20.0, 40.0, 60.0, 80.0, 100.0, 3000.0])
    A = rng.uniform(50, 300, P)
    cum = A[:, None] * (1 - beta[:, None] ** d)
    fit = fit_beta(np.tile(d, (P, 1)), cum)
    assert np.max(np.abs(fit.beta - beta)) < 1e-6


def test_fraction_and_stock_fits_differ_by_the_documented_amount():
    # 0–100 cm profiles with 20-cm layers: the fraction fit is lower by ~0.005–0.011 for
    # β in the published range 0.97–0.98 (the difference the default change is about).
    d = np.array([20.0, 40.0, 60.0, 80.0, 100.0])
    beta = np.array([0.9731, 0.9772, 0.9790])
    cum = 100 * (1 - beta[:, None] ** d)
    diff = fit_beta(np.tile(d, (3, 1)), cum, method="stock").beta - fit_beta(
        np.tile(d, (3, 1)), cum
    ).beta
    assert np.all((diff > 0.004) & (diff < 0.012))
