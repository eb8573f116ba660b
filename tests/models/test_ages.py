"""Steady states, radiocarbon, ages and transit times of linear compartmental systems.

Reference values: the issue's exact two-pool case; hand derivations for a two-pool series (ages
of independent exponential stages add); numerical quadrature of the age and transit-time
densities e^{aM}·u built with scipy.linalg.expm (an independent route to Eqs. A4–A6); dense
flattening of a block-tridiagonal (pools × layers) system solved by the batched block Thomas
solver of ``_blocksolve``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy.integrate import quad_vec
from scipy.linalg import expm

from wholesoil.errors import InputDataError
from wholesoil.models._ages import (
    LAMBDA_14C,
    age_summary,
    dense_solver,
    mean_transit_time,
    pool_age_moment,
    pool_mean_ages,
    radiocarbon_steady_state,
    steady_state,
    system_age_moment,
    system_mean_age,
    transit_time_moment,
)
from wholesoil.models._blocksolve import block_tridiagonal_to_dense, solve_block_tridiagonal

A2 = np.array([[-1.0, 0.0], [0.0, -2.0]])
U2 = np.array([9.0, 1.0])

# A three-pool soil (active, slow, passive) with feedbacks, CLM5-like structure (spec: S1→S2,
# S1→S3, S2→S1, S2→S3, S3→S1) with rates chosen so the quadrature converges quickly.
K3 = np.array([2.0, 0.2, 0.02])
F3 = np.array(
    [  # F3[i, j]: fraction of donor j's decomposition transferred to receiver i
        [0.0, 0.42, 0.45],
        [0.3, 0.0, 0.0],
        [0.004, 0.03, 0.0],
    ]
)
M3 = (F3 - np.eye(3)) * K3
U3 = np.array([5.0, 1.0, 0.0])


def _age_density_moments(M, u, order):
    """∫ a^k e^{aM} u da by adaptive quadrature of expm (independent of the solves)."""
    val, _err = quad_vec(lambda a: a**order * (expm(a * M) @ u), 0, np.inf, epsrel=1e-12)
    return val


# ------------------------------------------------------------------------------------------------
# the acceptance case


def test_two_pool_acceptance_exact():
    # Issue 5 acceptance: A = diag(−1, −2), u = (9, 1) → x* = (9, 0.5), pool ages (1, 0.5),
    # mean transit time 0.95 (exact: 9.5 / 10).
    assert steady_state(A2, U2).tolist() == [9.0, 0.5]
    assert pool_mean_ages(A2, U2).tolist() == [1.0, 0.5]
    assert float(mean_transit_time(A2, U2)) == 0.95
    assert float(transit_time_moment(A2, U2)) == 0.95
    # system age: (9·1 + 0.5·0.5) / 9.5 = 37/38
    assert_allclose(system_mean_age(A2, U2), 37 / 38, rtol=1e-15)
    s = age_summary(A2, U2)
    assert s.x.tolist() == [9.0, 0.5]
    assert s.pool_mean_ages.tolist() == [1.0, 0.5]
    assert float(s.mean_transit_time) == 0.95
    # the same through the structured interface
    solve = dense_solver(A2)
    assert steady_state(solve, U2).tolist() == [9.0, 0.5]
    assert pool_mean_ages(solve, U2).tolist() == [1.0, 0.5]
    assert float(mean_transit_time(solve, U2)) == 0.95


def test_lambda_14c():
    # ln 2 / 5730 yr⁻¹ (Cambridge half-life, Godwin 1962)
    assert_allclose(LAMBDA_14C, 1.2096809433855938e-4, rtol=1e-15)


# ------------------------------------------------------------------------------------------------
# hand-derived two-pool series


@pytest.mark.parametrize(("k1", "k2", "a", "u1"), [(2.0, 0.1, 0.4, 3.0), (0.5, 0.05, 0.9, 1.0)])
def test_two_pool_series_hand_derived(k1, k2, a, u1):
    # Pool 1 → pool 2 (fraction a), inputs to pool 1 only. By hand: x* = (u1/k1, a·u1/k2).
    # The age in pool 1 is Exp(k1); carbon leaves pool 1 with age Exp(k1) and has spent an
    # independent Exp(k2) in pool 2, so a2 = 1/k1 + 1/k2 and E[a2²] = Var + mean² =
    # 1/k1² + 1/k2² + (1/k1 + 1/k2)². Transit time: Σx*/u1 = 1/k1 + a/k2. Radiocarbon:
    # F = E[e^{−λa}], F1 = k1/(k1+λ), F2 = F1·k2/(k2+λ).
    M = np.array([[-k1, 0.0], [a * k1, -k2]])
    u = np.array([u1, 0.0])
    assert_allclose(steady_state(M, u), [u1 / k1, a * u1 / k2], rtol=1e-14)
    assert_allclose(pool_mean_ages(M, u), [1 / k1, 1 / k1 + 1 / k2], rtol=1e-14)
    m2 = 1 / k1**2 + 1 / k2**2 + (1 / k1 + 1 / k2) ** 2
    assert_allclose(pool_age_moment(M, u, 2), [2 / k1**2, m2], rtol=1e-14)
    assert_allclose(mean_transit_time(M, u), 1 / k1 + a / k2, rtol=1e-14)
    x1, x2 = u1 / k1, a * u1 / k2
    assert_allclose(
        system_mean_age(M, u), (x1 / k1 + x2 * (1 / k1 + 1 / k2)) / (x1 + x2), rtol=1e-14
    )
    lam = LAMBDA_14C
    f1 = k1 / (k1 + lam)
    rc = radiocarbon_steady_state(M, u)
    assert_allclose(rc.fraction_modern, [f1, f1 * k2 / (k2 + lam)], rtol=1e-14)
    assert_allclose(rc.c14, rc.fraction_modern * [x1, x2], rtol=1e-14)


def test_one_pool_radiocarbon_and_moments():
    # One pool, rate k: F = k/(k+λ) (the classic steady-state 14C model); ages Exp(k):
    # E[a^n] = n!/k^n; transit time = age of the outflow, the same distribution.
    k = np.array([[[1 / 30.0]]])
    u = np.array([[2.0]])
    rc = radiocarbon_steady_state(k * -1, u, fraction_modern_input=0.95)
    assert_allclose(rc.fraction_modern, [[0.95 * k[0, 0, 0] / (k[0, 0, 0] + LAMBDA_14C)]])
    for n in (1, 2, 3):
        assert_allclose(pool_age_moment(-k, u, n), [[math.factorial(n) / k[0, 0, 0] ** n]])
        assert_allclose(transit_time_moment(-k, u, n), [math.factorial(n) / k[0, 0, 0] ** n])
        assert_allclose(system_age_moment(-k, u, n), [math.factorial(n) / k[0, 0, 0] ** n])


# ------------------------------------------------------------------------------------------------
# three pools with feedback: quadrature of the age densities (scipy.linalg.expm)


def test_three_pool_ages_against_expm_quadrature():
    x = steady_state(M3, U3)
    # ∫ e^{aM} u da = x* (Metzler & Sierra 2018): checks the quadrature itself
    assert_allclose(_age_density_moments(M3, U3, 0), x, rtol=1e-9)
    m1 = _age_density_moments(M3, U3, 1)
    m2 = _age_density_moments(M3, U3, 2)
    assert_allclose(pool_mean_ages(M3, U3), m1 / x, rtol=1e-9)
    assert_allclose(pool_age_moment(M3, U3, 2), m2 / x, rtol=1e-9)
    assert_allclose(system_mean_age(M3, U3), m1.sum() / x.sum(), rtol=1e-9)
    assert_allclose(system_age_moment(M3, U3, 2), m2.sum() / x.sum(), rtol=1e-9)
    # transit-time density f(t) = −1ᵀ M e^{tM} u / 1ᵀu
    ft1, _ = quad_vec(lambda t: t * -(M3.sum(axis=0) @ expm(t * M3) @ U3), 0, np.inf, epsrel=1e-12)
    ft2, _ = quad_vec(
        lambda t: t**2 * -(M3.sum(axis=0) @ expm(t * M3) @ U3), 0, np.inf, epsrel=1e-12
    )
    assert_allclose(mean_transit_time(M3, U3), ft1 / U3.sum(), rtol=1e-9)
    assert_allclose(transit_time_moment(M3, U3, 2), ft2 / U3.sum(), rtol=1e-9)
    # radiocarbon: F_i = ∫ e^{−λa} (e^{aM}u)_i da / x*_i, here with a faster "λ" so the test
    # sees the decay clearly (any λ ≥ 0 is valid), and with the real one.
    for lam in (LAMBDA_14C, 0.05):
        lap, _ = quad_vec(
            lambda a, lam=lam: np.exp(-lam * a) * (expm(a * M3) @ U3), 0, np.inf, epsrel=1e-12
        )
        rc = radiocarbon_steady_state(M3, U3, lam=lam)
        assert_allclose(rc.fraction_modern, lap / x, rtol=1e-9)
        assert_allclose(rc.system_fraction_modern, lap.sum() / x.sum(), rtol=1e-9)


def test_three_pool_identities():
    x = steady_state(M3, U3)
    ages = pool_mean_ages(M3, U3)
    # Mean transit time = outflux-weighted pool ages (Sierra et al. 2017): the outflow of pool j
    # is −(1ᵀM)_j x*_j and leaves with pool j's age distribution.
    r = -M3.sum(axis=0) * x
    assert_allclose(r.sum(), U3.sum(), rtol=1e-13)  # mass balance at steady state
    assert_allclose(mean_transit_time(M3, U3), (r * ages).sum() / r.sum(), rtol=1e-12)
    assert_allclose(transit_time_moment(M3, U3, 1), mean_transit_time(M3, U3), rtol=1e-12)
    # −d ln F / dλ at λ = 0 equals the mean age (F is the Laplace transform of the age density);
    # central difference around λ = h with step h (λ must stay ≥ 0).
    h = 1e-6
    f = [radiocarbon_steady_state(M3, U3, lam=lam).fraction_modern for lam in (0, 2 * h)]
    assert_allclose(-(np.log(f[1]) - np.log(f[0])) / (2 * h), ages, rtol=1e-4)
    # λ = 0 and F_in = 1: no decay, F = 1 everywhere
    assert_allclose(radiocarbon_steady_state(M3, U3, lam=0.0).fraction_modern, 1.0, rtol=1e-13)


# ------------------------------------------------------------------------------------------------
# batching, and the structured interface on a pools × layers system


def test_batched_equals_loop():
    rng = np.random.default_rng(5)
    Ms = M3 * rng.uniform(0.5, 2.0, size=(4, 1, 1, 3))  # rescale each donor column
    us = U3 * rng.uniform(0.5, 2.0, size=(3, 3))
    ages = pool_mean_ages(Ms, us)
    mtt = mean_transit_time(Ms, us)
    rc = radiocarbon_steady_state(Ms, us)
    assert ages.shape == (4, 3, 3)
    assert mtt.shape == (4, 3)
    for i in range(4):
        for j in range(3):
            assert_allclose(ages[i, j], pool_mean_ages(Ms[i, 0], us[j]), rtol=1e-14)
            assert_allclose(mtt[i, j], mean_transit_time(Ms[i, 0], us[j]), rtol=1e-14)
            assert_allclose(
                rc.fraction_modern[i, j],
                radiocarbon_steady_state(Ms[i, 0], us[j]).fraction_modern,
                rtol=1e-14,
            )


def _layered_system(batch=(), n=6, seed=0):
    """3 pools × n layers: transfers within a layer (M3 scaled by a depth factor ξ_z) and
    diffusive mixing between layers (finite volumes on unequal dz, concentrations in
    g C m⁻³, so Σ dz·x is what is conserved). Returns block bands, dense (block order), u, dz."""
    rng = np.random.default_rng(seed)
    dz = np.linspace(0.02, 0.5, n)
    xi = np.exp(-np.cumsum(dz) / 0.5) * rng.uniform(0.5, 1.0, size=(*batch, n))
    diag = xi[..., :, None, None] * M3  # (..., n, 3, 3)
    D = 1e-3 * rng.uniform(0.5, 2.0, size=(*batch, n - 1))  # interface diffusivity [m² yr⁻¹]
    dzn = 0.5 * (dz[1:] + dz[:-1])
    g = D / dzn  # conductance [m yr⁻¹]
    lower = np.zeros((*batch, n, 3))
    upper = np.zeros((*batch, n, 3))
    upper[..., :-1, :] = (g / dz[:-1])[..., None]
    lower[..., 1:, :] = (g / dz[1:])[..., None]
    mix_diag = np.zeros((*batch, n))
    mix_diag[..., :-1] -= g / dz[:-1]
    mix_diag[..., 1:] -= g / dz[1:]
    diag = diag + mix_diag[..., None, None] * np.eye(3)
    u = np.zeros((*batch, n, 3))
    prof = np.exp(-np.cumsum(dz) / 0.3)
    u[..., 0] = 4.0 * prof / (prof * dz).sum()
    u[..., 1] = 1.0 * prof / (prof * dz).sum()
    dense = block_tridiagonal_to_dense(lower, diag, upper, offdiagonal="diagonal")
    return (lower, diag, upper), dense, u, dz


def test_structured_block_solver_matches_dense():
    (lower, diag, upper), dense, u, dz = _layered_system(batch=(3, 2))

    def solve(shift, rhs):
        return solve_block_tridiagonal(lower, diag, upper, rhs, shift=shift, offdiagonal="diagonal")

    w_state = np.broadcast_to(dz[:, None], u.shape[-2:])
    uf = u.reshape(3, 2, -1)
    wf = w_state.reshape(-1)
    kw = {"state_ndim": 2}
    assert_allclose(
        steady_state(solve, u, **kw).reshape(3, 2, -1), steady_state(dense, uf), rtol=1e-10
    )
    assert_allclose(
        pool_mean_ages(solve, u, **kw).reshape(3, 2, -1), pool_mean_ages(dense, uf), rtol=1e-10
    )
    assert_allclose(
        system_mean_age(solve, u, weights=dz[:, None], **kw),
        system_mean_age(dense, uf, weights=wf),
        rtol=1e-10,
    )
    assert_allclose(
        mean_transit_time(solve, u, weights=dz[:, None], **kw),
        mean_transit_time(dense, uf, weights=wf),
        rtol=1e-10,
    )
    assert_allclose(
        transit_time_moment(solve, u, 2, weights=dz[:, None], **kw),
        transit_time_moment(dense, uf, 2, weights=wf),
        rtol=1e-10,
    )
    rs = radiocarbon_steady_state(solve, u, weights=dz[:, None], **kw)
    rd = radiocarbon_steady_state(dense, uf, weights=wf)
    assert_allclose(rs.fraction_modern.reshape(3, 2, -1), rd.fraction_modern, rtol=1e-10)
    assert_allclose(rs.system_fraction_modern, rd.system_fraction_modern, rtol=1e-10)
    s = age_summary(solve, u, weights=dz[:, None], **kw)
    assert_allclose(s.mean_transit_time, mean_transit_time(dense, uf, weights=wf), rtol=1e-10)
    assert_allclose(s.system_mean_age, system_mean_age(dense, uf, weights=wf), rtol=1e-10)
    # a solver object may carry its own state_ndim
    solve.state_ndim = 2
    assert_allclose(steady_state(solve, u), steady_state(solve, u, **kw), rtol=0)


def test_mass_weights_are_needed_for_unequal_layers():
    # Concentrations on unequal layers: the column sums of M are not ≤ 0 (mixing conserves
    # Σ dz·x, not Σ x), the dense path still accepts M (−M⁻¹ ≥ 0), and the mass-weighted
    # transit time is Σ dz·x* / Σ dz·u — the unweighted ratio differs.
    _, dense, u, dz = _layered_system(n=6)
    uf = u.reshape(-1)
    wf = np.repeat(dz, 3)
    assert (dense.sum(axis=0) > 1e-9).any()
    x = steady_state(dense, uf)
    assert_allclose(
        mean_transit_time(dense, uf, weights=wf), (wf * x).sum() / (wf * uf).sum(), rtol=1e-14
    )
    # mass balance: total input = total respiration, Σ_j −(wᵀM)_j x_j
    assert_allclose(-(wf @ dense) @ x, wf @ uf, rtol=1e-11)
    assert not np.isclose(mean_transit_time(dense, uf), mean_transit_time(dense, uf, weights=wf))


# ------------------------------------------------------------------------------------------------
# property tests over random compartmental systems


@st.composite
def compartmental(draw):
    n = draw(st.integers(2, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    k = 10.0 ** rng.uniform(-2, 1, size=n)
    f = rng.uniform(0, 1, size=(n, n)) * (rng.uniform(size=(n, n)) < 0.6)
    np.fill_diagonal(f, 0.0)
    f = f / np.maximum(f.sum(axis=0), 1.0) * rng.uniform(0.1, 0.95, size=n)  # Σ_i f_ij < 1
    M = (f - np.eye(n)) * k
    u = rng.uniform(0, 5, size=n) * (rng.uniform(size=n) < 0.7)
    u[rng.integers(n)] += 1.0
    return M, u


@given(compartmental())
def test_properties_random_systems(sys):
    M, u = sys
    x = steady_state(M, u)
    assert (x >= 0).all()
    assert_allclose(M @ x + u, 0, atol=1e-9 * max(1.0, np.abs(u).max()))
    s = age_summary(M, u)
    ages = pool_mean_ages(M, u)
    assert_allclose(s.pool_mean_ages, ages, rtol=1e-12, equal_nan=True)
    full = x > 0
    assert (ages[full] >= 0).all()
    # system age = mass-weighted mean of the pool ages
    assert_allclose(system_mean_age(M, u), (x[full] * ages[full]).sum() / x.sum(), rtol=1e-10)
    # transit time: Little's law = first moment = outflux-weighted pool ages
    r = -M.sum(axis=0) * x
    assert_allclose(mean_transit_time(M, u), transit_time_moment(M, u), rtol=1e-10)
    assert_allclose(mean_transit_time(M, u), (r[full] * ages[full]).sum() / r.sum(), rtol=1e-9)
    # variance ≥ 0
    m2 = pool_age_moment(M, u, 2)
    assert (m2[full] >= ages[full] ** 2 * (1 - 1e-10)).all()
    # radiocarbon: 0 < F ≤ 1 and Jensen F = E[e^{−λa}] ≥ e^{−λ E[a]}
    F = radiocarbon_steady_state(M, u).fraction_modern[full]
    assert ((F > 0) & (F <= 1 + 1e-12)).all()
    assert (F >= np.exp(-LAMBDA_14C * ages[full]) * (1 - 1e-12)).all()


# ------------------------------------------------------------------------------------------------
# errors and edge cases


def test_empty_pool_has_nan_age():
    # Pool 2 gets nothing: x*_2 = 0, its age is undefined (NaN), the others are unaffected.
    M = np.array([[-1.0, 0.0], [0.0, -2.0]])
    ages = pool_mean_ages(M, [3.0, 0.0])
    assert ages[0] == 1.0
    assert np.isnan(ages[1])
    assert np.isnan(mean_transit_time(M, [0.0, 0.0]))


@pytest.mark.parametrize(
    ("M", "u", "match"),
    [
        ([[-1.0, -0.1], [0.0, -2.0]], [1.0, 1.0], "non-negative off-diagonal"),
        ([[0.5, 0.0], [0.0, -1.0]], [1.0, 1.0], "stable compartmental"),
        ([[-1.0, 3.0], [2.0, -1.0]], [1.0, 1.0], "stable compartmental"),
        ([[0.0, 0.0], [0.0, -1.0]], [1.0, 1.0], "singular"),
        ([[-1.0, 0.0], [0.0, np.nan]], [1.0, 1.0], "finite"),
        ([[-1.0, 0.0], [0.0, -1.0]], [1.0, -1.0], "u must be >= 0"),
        ([[-1.0, 0.0], [0.0, -1.0]], [1.0, np.inf], "u must be finite"),
        ([[-1.0, 0.0], [0.0, -1.0]], [1.0, 1.0, 1.0], "u must have shape"),
        ([-1.0, 0.0], [1.0, 1.0], r"M must have shape \(..., n, n\)"),
    ],
)
def test_bad_input_raises(M, u, match):
    with pytest.raises(InputDataError, match=match) as e:
        steady_state(M, u)
    assert e.value.field in ("M", "u")


def test_bad_options_raise():
    with pytest.raises(InputDataError, match="order"):
        pool_age_moment(A2, U2, 0)
    with pytest.raises(InputDataError, match="lam"):
        radiocarbon_steady_state(A2, U2, lam=-1.0)
    with pytest.raises(InputDataError, match="fraction_modern_input"):
        radiocarbon_steady_state(A2, U2, fraction_modern_input=-0.1)
    with pytest.raises(InputDataError, match="weights"):
        mean_transit_time(A2, U2, weights=[1.0, 2.0, 3.0])
    with pytest.raises(InputDataError, match="weights"):
        mean_transit_time(A2, U2, weights=[1.0, -1.0])
    with pytest.raises(InputDataError, match="state_ndim"):
        steady_state(A2, U2, state_ndim=2)

    def singular(shift, rhs):
        return np.full_like(rhs, np.nan)

    with pytest.raises(InputDataError, match="non-finite"):
        steady_state(singular, U2)
