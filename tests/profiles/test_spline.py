"""Tests of the equal-area (mass-preserving) spline, ``wholesoil.profiles._spline``.

Reference numbers and where they come from are listed in ``tests/reference/mpspline2_readme.md``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from wholesoil.errors import InputDataError
from wholesoil.profiles import ProfileSet, pad_horizons
from wholesoil.profiles._spline import (
    MPSPLINE2_CLAMP,
    STANDARD_DEPTHS,
    SplineFit,
    evaluate_layers,
    fit_profiles,
    fit_spline,
    harmonize,
)

# mpspline2 README example (R package mpspline2 0.1.x, README.md "Example", mpspline_tidy()):
README_TOP = [0.0, 20.0, 40.0, 60.0]
README_BOTTOM = [10.0, 30.0, 50.0, 70.0]
README_VALUE = [6.0, 4.0, 3.0, 10.0]
README_EXPECTED = [6.105160, 5.618341, 4.316876, 4.192058, 9.732400]  # 0-5 … 60-100 cm


# ------------------------------------------------------------------ reference implementation
def reference_fit(top, bottom, y, lam):
    """Straightforward per-profile port of the spec: build R, Q, Z and solve densely."""
    top, bottom, y = (np.asarray(a, float) for a in (top, bottom, y))
    n = y.size
    h = bottom - top
    if n == 1:
        return y.copy(), y.copy(), np.zeros(1), np.zeros(1)
    g = top[1:] - bottom[:-1]
    R = np.zeros((n - 1, n - 1))
    for i in range(n - 1):
        R[i, i] = 2 * (h[i] + h[i + 1]) + 6 * g[i]
        if i + 1 < n - 1:
            R[i, i + 1] = R[i + 1, i] = h[i + 1]
    Q = np.zeros((n - 1, n))
    for i in range(n - 1):
        Q[i, i], Q[i, i + 1] = -1.0, 1.0
    Rinv = np.linalg.inv(R)
    Z = np.eye(n) + 6 * n * lam * Q.T @ Rinv @ Q
    s_bar = np.linalg.solve(Z, y)
    b = 6 * Rinv @ Q @ s_bar
    b0 = np.concatenate([[0.0], b])
    b1 = np.concatenate([b, [0.0]])
    gamma = (b1 - b0) / (2 * h)
    alpha = s_bar - b0 * h / 2 - gamma * h**2 / 3
    return s_bar, alpha, b0, gamma


def reference_f(x, top, bottom, alpha, b0, gamma):
    """Spline value at depth x: quadratic in a horizon, mpspline2's line in a gap."""
    b1 = b0 + 2 * gamma * (np.asarray(bottom) - np.asarray(top))
    for i in range(len(top)):
        if top[i] <= x < bottom[i]:
            return alpha[i] + b0[i] * (x - top[i]) + gamma[i] * (x - top[i]) ** 2
    for i in range(len(top) - 1):
        if bottom[i] <= x < top[i + 1]:
            return alpha[i + 1] + b1[i] * (x - top[i + 1])
    raise ValueError("outside the data")


def reference_layers_mpspline2(top, bottom, y, lam, depths, clamp):
    """mpspline2's mpspline_fit1 logic, one cm at a time."""
    _s_bar, alpha, b0, gamma = reference_fit(top, bottom, y, lam)
    out = []
    for a, b in itertools.pairwise(depths):
        vals = []
        for k in range(int(a), int(b)):
            if k < top[0] or k + 1 > bottom[-1]:
                continue
            v = reference_f(k, top, bottom, alpha, b0, gamma)
            if clamp is not None:
                v = min(max(v, clamp[0]), clamp[1])
            vals.append(v)
        out.append(np.mean(vals) if vals else np.nan)
    return np.array(out)


def reference_layers_exact(top, bottom, y, lam, depths):
    """Exact integral with numpy.polynomial, piece by piece."""
    _s_bar, alpha, b0, gamma = reference_fit(top, bottom, y, lam)
    b1 = b0 + 2 * gamma * (np.asarray(bottom) - np.asarray(top))
    pieces = []
    for i in range(len(top)):
        p = np.polynomial.Polynomial([alpha[i], b0[i], gamma[i]])
        pieces.append((top[i], bottom[i], p, top[i]))
        if i + 1 < len(top) and top[i + 1] > bottom[i]:
            p = np.polynomial.Polynomial([alpha[i + 1], b1[i]])
            pieces.append((bottom[i], top[i + 1], p, top[i + 1]))
    out = []
    for a, b in itertools.pairwise(depths):
        total, length = 0.0, 0.0
        for s, e, p, x0 in pieces:
            lo, hi = max(a, s), min(b, e)
            if hi > lo:
                P = p.integ()
                total += P(hi - x0) - P(lo - x0)
                length += hi - lo
        out.append(total / length if length > 0 else np.nan)
    return np.array(out)


def random_profiles(rng, n_prof, max_h=10, integer=True, lo=-400.0, hi=100.0):
    """Random padded profiles with gaps (some zero) and signed values."""
    n = rng.integers(1, max_h + 1, n_prof)
    H = int(n.max())
    top = np.full((n_prof, H), np.nan)
    bottom = np.full((n_prof, H), np.nan)
    value = np.full((n_prof, H), np.nan)
    for p in range(n_prof):  # building test data only
        th = rng.integers(1, 40, n[p]) if integer else rng.uniform(0.5, 40, n[p])
        gp = rng.integers(0, 15, n[p]) * (rng.random(n[p]) < 0.4)
        if not integer:
            gp = gp * rng.uniform(0.3, 1.0, n[p])
        start = rng.integers(0, 12) if integer else rng.uniform(0, 12)
        edge = float(start)
        for i in range(n[p]):  # sequential, so that top[i+1] >= bottom[i] exactly
            top[p, i] = edge
            bottom[p, i] = edge + th[i]
            edge = bottom[p, i] + gp[i]
        value[p, : n[p]] = rng.uniform(lo, hi, n[p])
    return top, bottom, value, n


# ---------------------------------------------------------------------------- mpspline2 parity
def test_mpspline2_readme_parity():
    # Reference: mpspline2 README "Example" (tops 0,20,40,60; bottoms 10,30,50,70; values
    # 6,4,3,10; λ = 0.1; vlow/vhigh = 0/1000) → est_dcm for 0-5 … 60-100 cm. 100-200 cm is NA in
    # mpspline2 (the 1-cm values past the last bottom, 70 cm, are NA, so mean(NA…, na.rm) = NaN).
    fit = fit_spline([README_TOP], [README_BOTTOM], [README_VALUE], [4], lam=0.1)
    values, coverage = evaluate_layers(fit, STANDARD_DEPTHS, "mpspline2", MPSPLINE2_CLAMP)
    assert_allclose(values[0, :5], README_EXPECTED, rtol=0, atol=1e-6)
    assert np.isnan(values[0, 5])
    # 60-100 cm is averaged over the 10 covered cm (60-70) only: coverage 10/40.
    assert_allclose(coverage[0], [1, 1, 1, 1, 0.25, 0], rtol=0, atol=1e-15)
    # without clamp the values are the same (they all lie within 0…1000)
    values_nc, _ = evaluate_layers(fit, STANDARD_DEPTHS, "mpspline2")
    assert_allclose(values_nc, values, rtol=0, atol=1e-15)


def test_readme_rmse_and_iqr():
    # RMSE as mpspline2 mpspline_rmse1: sqrt(mean((y − s̄)²)); IQR by R type-7 quantiles,
    # IQR(6, 4, 3, 10) = 7 − 3.75 = 3.25 (hand computation; numpy "linear" is type 7).
    fit = fit_spline([README_TOP], [README_BOTTOM], [README_VALUE], [4], lam=0.1)
    s_bar, *_ = reference_fit(README_TOP, README_BOTTOM, README_VALUE, 0.1)
    rmse = np.sqrt(np.mean((np.array(README_VALUE) - s_bar) ** 2))
    assert_allclose(fit.s_bar[0], s_bar, rtol=1e-12)
    assert_allclose(fit.rmse[0], rmse, rtol=1e-10)
    assert_allclose(fit.rmse_iqr[0], rmse / 3.25, rtol=1e-10)


# --------------------------------------------------------------------------- vs reference
@pytest.mark.parametrize("integer", [True, False])
@pytest.mark.parametrize("lam", [0.0, 0.1, 3.0])
def test_vectorized_equals_per_profile_reference(integer, lam):
    rng = np.random.default_rng(20240601 + int(10 * lam) + integer)
    top, bottom, value, n = random_profiles(rng, 40, integer=integer)
    fit = fit_spline(top, bottom, value, n, lam=lam)
    depths = (0, 5, 15, 30, 60, 100, 200)
    v_mp, _ = evaluate_layers(fit, depths, "mpspline2", clamp=(-250.0, 50.0), chunk_size=7)
    v_ex, _ = evaluate_layers(fit, depths, "exact")
    for p in range(40):
        k = n[p]
        t, b, y = top[p, :k], bottom[p, :k], value[p, :k]
        s_bar, alpha, b0, gamma = reference_fit(t, b, y, lam)
        scale = np.abs(y).max()
        assert_allclose(fit.s_bar[p, :k], s_bar, rtol=0, atol=1e-9 * scale)
        assert_allclose(fit.alpha[p, :k], alpha, rtol=0, atol=1e-9 * scale)
        assert_allclose(fit.b0[p, :k], b0, rtol=0, atol=1e-9 * scale)
        assert_allclose(fit.gamma[p, :k], gamma, rtol=0, atol=1e-9 * scale)
        assert np.all(np.isnan(fit.s_bar[p, k:]))
        ref_mp = reference_layers_mpspline2(t, b, y, lam, depths, (-250.0, 50.0))
        assert_allclose(v_mp[p], ref_mp, rtol=0, atol=1e-9 * scale, equal_nan=True)
        ref_ex = reference_layers_exact(t, b, y, lam, depths)
        assert_allclose(v_ex[p], ref_ex, rtol=0, atol=1e-9 * scale, equal_nan=True)


def test_chunking_does_not_change_results():
    rng = np.random.default_rng(7)
    top, bottom, value, n = random_profiles(rng, 50)
    fit = fit_spline(top, bottom, value, n)
    for method in ("mpspline2", "exact"):
        a = evaluate_layers(fit, method=method)
        b = evaluate_layers(fit, method=method, chunk_size=3)
        assert_allclose(a[0], b[0], rtol=0, atol=0, equal_nan=True)
        assert_allclose(a[1], b[1], rtol=0, atol=0)


def test_spline_is_continuous_with_continuous_slope():
    # Property of the Bishop et al. (1999) spline: f and f' continuous at every horizon
    # boundary, gap lines (mpspline2's infill) included; f' = 0 at the top and bottom.
    rng = np.random.default_rng(3)
    top, bottom, value, n = random_profiles(rng, 30, integer=False)
    fit = fit_spline(top, bottom, value, n, lam=0.1)
    for p in range(30):
        k = n[p]
        a, b0, g = fit.alpha[p, :k], fit.b0[p, :k], fit.gamma[p, :k]
        h = bottom[p, :k] - top[p, :k]
        f_bottom = a + b0 * h + g * h**2
        b1 = b0 + 2 * g * h
        gap = top[p, 1:k] - bottom[p, : k - 1]
        scale = np.abs(value[p, :k]).max()
        # line through (top_{i+1}, α_{i+1}) with slope b1_i reaches f_i(bottom_i)
        assert_allclose(a[1:] - b1[:-1] * gap, f_bottom[:-1], rtol=0, atol=1e-9 * scale)
        assert_allclose(b0[1:], b1[:-1], rtol=0, atol=1e-12 * scale)
        assert b0[0] == 0.0
        assert abs(b1[-1]) <= 1e-12 * scale


# ------------------------------------------------------------------------ mass preservation
@st.composite
def profile_strategy(draw):
    n = draw(st.integers(1, 10))
    thick = draw(st.lists(st.floats(0.5, 60.0), min_size=n, max_size=n))
    gaps = draw(st.lists(st.one_of(st.just(0.0), st.floats(0.0, 40.0)), min_size=n, max_size=n))
    values = draw(st.lists(st.floats(-1000.0, 1000.0), min_size=n, max_size=n))
    start = draw(st.floats(0.0, 30.0))
    lam = draw(st.sampled_from([0.0, 1e-3, 0.1, 1.0, 100.0]))
    top, bottom, edge = np.empty(n), np.empty(n), start
    for i in range(n):  # sequential, so that top[i+1] >= bottom[i] exactly
        top[i], bottom[i] = edge, edge + thick[i]
        edge = bottom[i] + gaps[i]
    return top, bottom, np.array(values), lam


@settings(max_examples=150, deadline=None)
@given(profile_strategy())
def test_mass_preservation(profile):
    # Bishop et al. (1999): the integral of the spline over each horizon / thickness = s̄_i
    # (exactly, up to floating point: tolerance 1e-9 of the value scale).
    top, bottom, y, lam = profile
    n = y.size
    fit = fit_spline(top[None], bottom[None], y[None], [n], lam=lam)
    h = bottom - top
    a, b0, g = fit.alpha[0], fit.b0[0], fit.gamma[0]
    mean_from_coef = a + b0 * h / 2 + g * h**2 / 3
    tol = 1e-9 * max(1.0, np.abs(y).max())
    assert_allclose(mean_from_coef, fit.s_bar[0], rtol=0, atol=tol)
    # exact-mode average over an output layer equal to one horizon = that horizon's s̄
    for i in range(n):
        v, c = evaluate_layers(fit, [top[i], bottom[i]], "exact")
        assert_allclose(v[0, 0], fit.s_bar[0, i], rtol=0, atol=tol)
        assert_allclose(c[0, 0], 1.0, rtol=0, atol=1e-12)
    # over the whole span: Σ h_i s̄_i plus the gap lines' integrals g_i·(α_{i+1} − b1_i g_i / 2)
    v, c = evaluate_layers(fit, [top[0], bottom[-1]], "exact")
    gap = top[1:] - bottom[:-1]
    total = np.sum(h * fit.s_bar[0]) + np.sum(gap * (a[1:] - fit.b1[0, :-1] * gap / 2))
    span = bottom[-1] - top[0]
    assert c[0, 0] == pytest.approx(1.0, abs=1e-12)
    assert_allclose(v[0, 0], total / span, rtol=0, atol=tol)


# ------------------------------------------------------------------------- limiting cases
def test_lambda_zero_interpolates():
    # λ = 0 → Z = I → s̄ = y (Eq. 3); λ = 1e-12 is within 1e-9 of it.
    rng = np.random.default_rng(11)
    top, bottom, value, n = random_profiles(rng, 25)
    fit0 = fit_spline(top, bottom, value, n, lam=0.0)
    assert_allclose(fit0.s_bar, value, rtol=0, atol=1e-12 * np.nanmax(np.abs(value)))
    fit_small = fit_spline(top, bottom, value, n, lam=1e-12)
    assert_allclose(fit_small.s_bar, value, rtol=0, atol=1e-6)
    assert np.all(fit0.rmse == 0.0)


def test_lambda_huge_tends_to_constant_mean():
    # The roughness penalty λ∫f'² vanishes only for constants, so as λ → ∞ the spline tends to
    # the constant minimising Σ(y_i − c)²: the unweighted mean of y (Eq. 1), with b → 0.
    rng = np.random.default_rng(12)
    top, bottom, value, n = random_profiles(rng, 25, lo=0.0, hi=100.0)
    fit = fit_spline(top, bottom, value, n, lam=1e9)
    mean = np.nanmean(value, axis=1)
    for p in range(25):
        assert_allclose(fit.s_bar[p, : n[p]], mean[p], rtol=0, atol=1e-5)
        assert np.all(np.abs(fit.b0[p, : n[p]]) < 1e-6)


def test_rmse_grows_with_lambda():
    # Smoother fits trade fidelity: the residual RMSE is non-decreasing in λ.
    rng = np.random.default_rng(13)
    top, bottom, value, n = random_profiles(rng, 30)
    rmses = [fit_spline(top, bottom, value, n, lam=lam).rmse for lam in (0, 0.01, 0.1, 1, 10)]
    for lo, hi in itertools.pairwise(rmses):
        assert np.all(hi >= lo - 1e-9)


@pytest.mark.parametrize("method", ["mpspline2", "exact"])
def test_constant_profile_stays_constant(method):
    # A constant is in the null space of the penalty: s̄ = y and f ≡ y, gaps included.
    top = [[0.0, 12.0, 30.0, 75.0]]
    bottom = [[12.0, 25.0, 60.0, 110.0]]
    value = [[-37.5] * 4]
    fit = fit_spline(top, bottom, value, [4], lam=0.1)
    assert_allclose(fit.s_bar[0], -37.5, rtol=0, atol=1e-12)
    v, c = evaluate_layers(fit, STANDARD_DEPTHS, method)
    assert_allclose(v[0, :5], -37.5, rtol=0, atol=1e-12)
    assert_allclose(v[0, 5], -37.5, rtol=0, atol=1e-12)  # 100-110 cm covered
    assert_allclose(c[0], [1, 1, 1, 1, 1, 0.1], rtol=0, atol=1e-15)
    assert fit.rmse[0] == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(fit.rmse_iqr[0])  # IQR = 0: ratio undefined


@pytest.mark.parametrize("method", ["mpspline2", "exact"])
def test_single_horizon_is_copied(method):
    # mpspline2: "single horizon – no splining"; the value is copied over the horizon only.
    fit = fit_spline([[10.0]], [[25.0]], [[4.2]], [1])
    assert fit.rmse[0] == 0.0 and np.isnan(fit.rmse_iqr[0])
    v, c = evaluate_layers(fit, STANDARD_DEPTHS, method)
    assert_allclose(v[0, :3], [np.nan, 4.2, 4.2], rtol=0, atol=1e-15, equal_nan=True)
    assert np.all(np.isnan(v[0, 3:]))
    assert_allclose(c[0], [0, 0.5, 10 / 15, 0, 0, 0], rtol=0, atol=1e-15)


@pytest.mark.parametrize("method", ["mpspline2", "exact"])
def test_depths_above_first_horizon_are_missing(method):
    # mpspline2 returns NA above the first top (it refuses to extrapolate upward).
    fit = fit_spline([[10.0, 30.0]], [[30.0, 50.0]], [[8.0, 2.0]], [2])
    v, c = evaluate_layers(fit, STANDARD_DEPTHS, method)
    assert np.isnan(v[0, 0]) and c[0, 0] == 0.0
    assert_allclose(c[0], [0, 0.5, 1, 2 / 3, 0, 0], rtol=0, atol=1e-15)
    assert np.isfinite(v[0, 1:4]).all()


def test_signed_values_survive_without_clamp():
    # Δ14C [‰] from about +100 at the surface to −400 at depth must keep its sign.
    top = [[0.0, 10.0, 30.0, 60.0]]
    bottom = [[10.0, 30.0, 60.0, 100.0]]
    d14c = [[95.0, -20.0, -180.0, -400.0]]
    fit = fit_spline(top, bottom, d14c, [4])
    for method in ("mpspline2", "exact"):
        v, _ = evaluate_layers(fit, STANDARD_DEPTHS, method)
        assert v[0, 0] > 0
        assert np.all(v[0, 2:5] < 0)
        assert v[0, 4] < -300
    # mpspline2's default clamp (vlow = 0) destroys them: the reason clamp is off by default.
    v, _ = evaluate_layers(fit, STANDARD_DEPTHS, "mpspline2", MPSPLINE2_CLAMP)
    assert np.all(v[0, 3:5] == 0.0)


def test_clamp_bounds_values_in_both_modes():
    rng = np.random.default_rng(5)
    top, bottom, value, n = random_profiles(rng, 30)
    fit = fit_spline(top, bottom, value, n, lam=0.01)
    for method in ("mpspline2", "exact"):
        free, _ = evaluate_layers(fit, method=method)
        v, _ = evaluate_layers(fit, method=method, clamp=(-100.0, 0.0))
        ok = np.isfinite(v)
        assert np.all((v[ok] >= -100.0) & (v[ok] <= 0.0))
        assert np.any(free[ok] < -100.0) and np.any(free[ok] > 0.0)
        assert np.array_equal(np.isnan(v), np.isnan(free))
    # exact mode clamps the layer values: identical to clipping the unclamped result
    free, _ = evaluate_layers(fit, method="exact")
    v, _ = evaluate_layers(fit, method="exact", clamp=(-100.0, 0.0))
    assert_allclose(v, np.clip(free, -100.0, 0.0), rtol=0, atol=0, equal_nan=True)


def test_empty_profile_gives_nan():
    top = np.array([[0.0, 10.0], [np.nan, np.nan]])
    bottom = np.array([[10.0, 20.0], [np.nan, np.nan]])
    value = np.array([[1.0, 2.0], [np.nan, np.nan]])
    fit = fit_spline(top, bottom, value, [2, 0])
    assert np.isnan(fit.rmse[1]) and np.isnan(fit.rmse_iqr[1])
    for method in ("mpspline2", "exact"):
        v, c = evaluate_layers(fit, method=method)
        assert np.all(np.isnan(v[1])) and np.all(c[1] == 0)


def test_iqr_zero_gives_nan_ratio_but_finite_rmse():
    # values 1,1,1,1,5: type-7 quartiles are both 1, IQR = 0 → RMSE/IQR undefined (NaN).
    top = [[0.0, 10, 20, 30, 40]]
    bottom = [[10.0, 20, 30, 40, 50]]
    fit = fit_spline(top, bottom, [[1.0, 1, 1, 1, 5]], [5])
    assert fit.rmse[0] > 0 and np.isnan(fit.rmse_iqr[0])


def test_from_pad_horizons_and_non_standard_depths():
    ids = np.array(["a", "a", "b", "b", "b"])
    pad = pad_horizons(
        ids,
        np.array([0.0, 20, 0, 15, 45]),
        np.array([20.0, 50, 15, 45, 90]),
        np.array([10.0, 4, 0.1, 0.9, 2.5]),
    )
    fit = fit_spline(pad.top, pad.bottom, pad.value, pad.n_horizons, profile_id=pad.profile_id)
    depths = np.arange(0, 91, 10)
    v, c = evaluate_layers(fit, depths, "exact")
    assert v.shape == c.shape == (2, 9)
    assert_allclose(c[1], 1.0)
    assert_allclose(c[0], [1, 1, 1, 1, 1, 0, 0, 0, 0])
    # mass: the 0-50 cm length-weighted mean of profile a equals that of its s̄
    v50, _ = evaluate_layers(fit, [0, 50], "exact")
    assert_allclose(v50[0, 0], (20 * fit.s_bar[0, 0] + 30 * fit.s_bar[0, 1]) / 50, rtol=1e-12)


# ------------------------------------------------------------------------------ ProfileSet
def _profileset():
    horizons = pd.DataFrame(
        {
            "profile_id": ["P1"] * 4 + ["P2"] * 3 + ["P3"],
            "top": [*README_TOP, 0.0, 10.0, 30.0, 0.0],
            "bottom": [*README_BOTTOM, 10.0, 30.0, 60.0, 20.0],
            "soc": [*README_VALUE, 12.0, np.nan, 3.0, np.nan],
        }
    )
    sites = pd.DataFrame({"profile_id": ["P1", "P2", "P3", "P4"]})
    return ProfileSet(sites, horizons)


def test_harmonize_long_format_keeps_every_layer():
    ps = _profileset()
    out = harmonize(ps, "soc", clamp=MPSPLINE2_CLAMP)
    assert list(out.columns) == ["profile_id", "top", "bottom", "soc", "coverage"]
    assert len(out) == 4 * 6  # every profile × layer, incl. P3 (all NaN) and P4 (no horizons)
    p1 = out[out.profile_id == "P1"]
    assert_allclose(p1["soc"].to_numpy()[:5], README_EXPECTED, rtol=0, atol=1e-6)
    assert_allclose(p1["top"], STANDARD_DEPTHS[:-1])
    assert_allclose(p1["bottom"], STANDARD_DEPTHS[1:])
    for pid in ("P3", "P4"):
        rows = out[out.profile_id == pid]
        assert rows["soc"].isna().all() and (rows["coverage"] == 0).all()
    # P2: the NaN horizon 10-30 cm is left out, so 0-10 and 30-60 cm are splined across a gap
    p2 = out[out.profile_id == "P2"]
    assert_allclose(p2["coverage"], [1, 1, 1, 1, 0, 0])
    diag = fit_profiles(ps, "soc").diagnostics()
    assert list(diag.columns) == ["profile_id", "n_horizons", "rmse", "rmse_iqr"]
    assert list(diag.profile_id) == ["P1", "P2", "P3", "P4"]
    assert list(diag.n_horizons) == [4, 2, 0, 0]


def test_harmonize_exact_preserves_horizon_mass():
    ps = _profileset()
    out = harmonize(ps, "soc", depths=(0, 10, 20, 30, 40, 50, 60, 70), method="exact", lam=0.5)
    fit = fit_profiles(ps, "soc", lam=0.5)
    p1 = out[out.profile_id == "P1"]["soc"].to_numpy()
    assert_allclose(p1[[0, 2, 4, 6]], fit.s_bar[0, :4], rtol=1e-12)


# ------------------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"depths": (0, 30, 15)}, "strictly increasing"),
        ({"depths": (0,)}, "at least two"),
        ({"lam": -0.1}, "lam"),
        ({"method": "cubic"}, "method"),
        ({"clamp": (5.0, 1.0)}, "low ≤ high"),
        ({"depths": (0, 2.5, 10)}, "integers"),
    ],
)
def test_harmonize_rejects_bad_options(kwargs, match):
    with pytest.raises(InputDataError, match=match):
        harmonize(_profileset(), "soc", **kwargs)


def test_exact_accepts_fractional_depths():
    out = harmonize(_profileset(), "soc", depths=(0, 2.5, 10), method="exact")
    assert len(out) == 4 * 2


def test_overlapping_horizons_name_the_profile():
    horizons = pd.DataFrame(
        {"profile_id": ["A", "A"], "top": [0.0, 20.0], "bottom": [30.0, 40.0], "soc": [1.0, 2.0]}
    )
    with pytest.raises(InputDataError, match=r"profile A.*overlap"):
        harmonize(ProfileSet.from_tables(horizons), "soc")


def test_zero_thickness_horizon_is_rejected():
    with pytest.raises(InputDataError, match="bottom > top"):
        fit_spline([[0.0, 10.0]], [[10.0, 10.0]], [[1.0, 2.0]], [2])


def test_fit_is_frozen():
    fit = fit_spline([README_TOP], [README_BOTTOM], [README_VALUE], [4])
    assert isinstance(fit, SplineFit)
    with pytest.raises(AttributeError):
        fit.lam = 3.0  # type: ignore[misc]
