"""CLM5 in matrix form (Tao et al. (EarthArXiv) Eqs. 2–5): structured vs dense steady states, mass balance,
non-negativity, parameters of Supplementary Table 1, bad input, transient schemes."""

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wholesoil.errors import InputDataError
from wholesoil.models._clm5 import (
    CLM5,
    CLM5_DEFAULTS,
    CLM5_PRODA_PARAMETERS,
    CLM5Parameters,
    sand_dependent_transfers,
)
from wholesoil.models._environment import Environment, forcing_from_climate
from wholesoil.models._scalars import decomposition_scalar
from wholesoil.models._vertical import clm5_grid

GRID = clm5_grid()
LAMBDA_14C = np.log(2.0) / 5730.0


def _env(batch=(), *, tsoi=None, alt=np.nan, nbedrock=20, cwd=0.2, leaf=0.3, seed=0, **kw):
    rng = np.random.default_rng(seed)
    if tsoi is None:
        tsoi = 12.0 - 0.8 * np.arange(20) + rng.normal(0, 1, (*batch, 20))
    fields = dict(
        tsoi=tsoi,
        soilpsi=-0.01 - 0.5 * rng.random((*batch, 20)),
        npp=np.full(batch, 450.0), sand=np.full(batch, 35.0),
        altmax=np.full(batch, alt), altmax_lastyear=np.full(batch, alt),
        nbedrock=np.full(batch, nbedrock), cwd_fraction=cwd, leaf_fraction=leaf,
    )
    fields.update(kw)
    return SimpleNamespace(**fields)


def _prior_draw(rng, size):
    """Uniform draws within Tao et al. (EarthArXiv) Supplementary Table 1 priors. Lower bounds of 0 for
    tau4s1, tau4l1, efolding and w_scaling (no steady state at 0; near 0 the system is so
    ill-conditioned, cond ~1e16 at w_scaling ~ 1e-6, that the dense LU reference itself is only
    good to ~1e-8) are replaced by 2 % of the upper bound; donor sums stay ≤ 1 as the priors
    allow."""
    out = {}
    for name, info in CLM5_PRODA_PARAMETERS.items():
        lo, hi = info.prior
        if name in ("tau4s1", "tau4l1", "efolding", "w_scaling") and lo == 0.0:
            lo = 0.02 * hi
        if name == "b":
            hi = 0.999
        out[name] = lo + (hi - lo) * rng.random(size)
    return out


# -------------------------------------------------------------------------- parameter data
def test_supplementary_table_1_parameters():
    # Tao et al. (EarthArXiv) Supplementary Table 1, in its order, with its defaults and priors
    assert list(CLM5_PRODA_PARAMETERS) == [
        "fs3s1", "fs3s2", "fs2s1", "fs2l3", "fs1l2", "fs1l1", "fs1s2", "fs1s3", "fl2cwd",
        "tau4s2", "tau4s3", "tau4s1", "tau4l1", "tau4cwd", "tau4l2", "w_scaling", "q10",
        "efolding", "cryo", "diffus", "b",
    ]
    table = {"fs3s2": 0.03, "fs2l3": 0.5, "fs1l2": 0.5, "fs1l1": 0.45, "fs1s2": 0.42,
             "fs1s3": 0.45, "tau4s2": 5, "tau4s3": 222.222, "tau4s1": 0.1370, "tau4l1": 0.0541,
             "tau4cwd": 3.33, "tau4l2": 0.2041, "w_scaling": 1, "q10": 1.5, "efolding": 10,
             "cryo": 0.0005, "diffus": 0.0001}
    for k, v in table.items():
        assert CLM5_DEFAULTS[k] == pytest.approx(v, abs=5e-5), k
    assert CLM5_DEFAULTS["fs2s1"] is None and CLM5_DEFAULTS["fs3s1"] is None  # sand dependent
    assert CLM5_DEFAULTS["fl2cwd"] == 0.76  # CTSM cwd_fcel (the table prints 0.786)
    assert CLM5_PRODA_PARAMETERS["cryo"].prior == (3e-5, 1.6e-3)
    assert CLM5_PRODA_PARAMETERS["tau4s3"].prior == (200.0, 1000.0)
    assert CLM5_PRODA_PARAMETERS["fs1s2"].prior == (0.1, 0.74)
    p = CLM5Parameters()
    for name, v in CLM5_DEFAULTS.items():
        assert (getattr(p, name) is None) if v is None else float(getattr(p, name)) == v


def test_sand_dependent_transfers():
    # spec: t = 0.85 − 0.0068·(100 − sand); S1→S2 = 1 − t − 0.004, S1→S3 = 0.004
    fs2s1, fs3s1 = sand_dependent_transfers(np.array([30.0, 100.0]))
    np.testing.assert_allclose(fs2s1, [1 - (0.85 - 0.0068 * 70) - 0.004, 1 - 0.85 - 0.004],
                               rtol=1e-15)
    np.testing.assert_allclose(fs3s1, 0.004)
    with pytest.raises(InputDataError, match="sand"):
        sand_dependent_transfers(120.0)


# -------------------------------------------------------------------------- structure
def test_matrices_follow_eqs_2_to_5():
    m = CLM5(CLM5Parameters(), _env())
    mats = m.matrices()
    A = mats["A"].reshape(7, 20, 7, 20)
    np.testing.assert_array_equal(np.einsum("ijij->ij", A), -1.0)
    # Tao et al. (EarthArXiv) Eq. 5 pathways (receiver, donor) at the defaults, sand 35 %
    t = 0.85 - 0.0068 * 65
    expected = {(2, 0): 0.76, (3, 0): 0.24, (4, 1): 0.45, (4, 2): 0.5, (5, 3): 0.5,
                (5, 4): 1 - t - 0.004, (6, 4): 0.004, (4, 5): 0.42, (6, 5): 0.03, (4, 6): 0.45}
    for (i, j), v in expected.items():
        np.testing.assert_allclose(np.diag(A[i, :, j, :]), v, rtol=1e-14)
    off = np.ones((7, 7), bool)
    for i, j in [*expected, *[(k, k) for k in range(7)]]:
        off[i, j] = False
    assert np.all(A.transpose(0, 2, 1, 3)[off] == 0)
    # V: CWD not mixed, mass conserving (Σ_j dz_j V_jk = 0), same operator for the other pools
    V = mats["V"].reshape(7, 20, 7, 20)
    assert np.all(V[0] == 0)
    np.testing.assert_allclose(GRID.dz @ V[4, :, 4, :], 0.0, atol=1e-15)
    np.testing.assert_array_equal(V[1, :, 1, :], V[6, :, 6, :])
    np.testing.assert_allclose(mats["M"], mats["A"] @ mats["xi"] @ mats["K"] - mats["V"])
    # B·I adds up to NPP over the column
    np.testing.assert_allclose(m.total_input(), 450.0, rtol=1e-13)


def test_no_mixing_single_layer_closed_form():
    # Without mixing each layer is its own 7-pool system; check by substitution (Eq. 2 = 0)
    # and against the hand closed form for CWD, L1 and the L2 CWD source.
    p = CLM5Parameters(cryo=0.0, diffus=0.0)
    m = CLM5(p, _env())
    x = m.steady_state()
    r = m.rates()
    u = m.inputs
    np.testing.assert_allclose(x[0], u[0] / r[0], rtol=1e-13)
    np.testing.assert_allclose(x[1], u[1] / r[1], rtol=1e-13)
    np.testing.assert_allclose(x[2], (u[2] + 0.76 * r[0] * x[0]) / r[2], rtol=1e-13)
    np.testing.assert_allclose(m.tendency(x), 0.0, atol=1e-10 * np.abs(u).max())


# -------------------------------------------------------------------------- acceptance
@settings(max_examples=25)
@given(seed=st.integers(0, 2**32 - 1), permafrost=st.booleans(),
       nbedrock=st.integers(3, 20), cwd=st.floats(0.0, 1.0), leaf=st.floats(0.0, 1.0))
def test_structured_equals_dense_mass_balance_nonnegative(seed, permafrost, nbedrock, cwd, leaf):
    """Property over random valid parameter sets (Supplementary Table 1 priors) and sites:
    block Thomas = dense LU to 1e-10 relative, X* ≥ 0, Σ inputs = Σ respiration to 1e-10."""
    rng = np.random.default_rng(seed)
    n_sets = 6
    draw = _prior_draw(rng, n_sets)
    fs2s1, fs3s1 = draw["fs2s1"], draw["fs3s1"]
    assert np.all(fs2s1 + fs3s1 <= 1)
    alt = rng.uniform(0.3, 2.5) if permafrost else np.nan
    tsoi = rng.uniform(-10, 30) - 0.5 * np.arange(20) + rng.normal(0, 2, (n_sets, 20))
    env = _env((n_sets,), tsoi=tsoi, alt=alt, nbedrock=nbedrock, cwd=cwd, leaf=leaf, seed=seed)
    m = CLM5(CLM5Parameters(**draw), env)
    x = m.steady_state()
    xd = m.steady_state_dense()
    scale = np.abs(xd).max(axis=(-2, -1), keepdims=True)
    assert np.all(np.abs(x - xd) <= 1e-10 * scale)
    assert np.all(x >= 0)
    inp, resp = m.total_input(), m.total_respiration(x)
    np.testing.assert_allclose(resp, inp, rtol=1e-10)


def test_batch_of_sites_times_parameter_sets():
    rng = np.random.default_rng(7)
    draw = _prior_draw(rng, (1, 5))  # parameter sets along the last axis
    env = _env((3, 1), seed=1)  # sites along the first
    m = CLM5(CLM5Parameters(**draw), env)
    assert m.batch_shape == (3, 5)
    x = m.steady_state()
    assert x.shape == (3, 5, 7, 20)
    for i in range(3):
        for j in range(5):
            one = CLM5(CLM5Parameters(**{k: v[0, j] for k, v in draw.items()}),
                       SimpleNamespace(**{k: (v[i, 0] if isinstance(v, np.ndarray) else v)
                                          for k, v in vars(env).items()}))
            np.testing.assert_allclose(x[i, j], one.steady_state(), rtol=1e-13)


def test_radiocarbon_shift_matches_dense():
    # (M − λI)·x = −B·I·F with λ = ln 2 / 5730 yr⁻¹ (spec: same factorization, shifted)
    m = CLM5(CLM5Parameters(), _env((2,), alt=1.2))
    x14 = m.solve(-m.inputs, shift=LAMBDA_14C)
    mats = m.matrices()
    ref = np.linalg.solve(mats["M"] - LAMBDA_14C * np.eye(140), -mats["BI"][..., None])[..., 0]
    np.testing.assert_allclose(x14.reshape(2, 140), ref, rtol=1e-10, atol=0)
    x_ss = m.steady_state()
    assert np.all(x14 <= x_ss) and np.all(x14[x_ss > 0] < x_ss[x_ss > 0])  # decay removes 14C
    # mean pool ages a = −X*⁻¹·M⁻¹·x* (Metzler & Sierra 2018) via the same solver
    x = m.steady_state()
    ages = -m.solve(x) / np.where(x > 0, x, 1.0)
    ref_a = -np.linalg.solve(mats["M"], x.reshape(2, 140)[..., None])[..., 0]
    np.testing.assert_allclose(ages.reshape(2, 140)[x.reshape(2, 140) > 0],
                               (ref_a / np.where(x > 0, x, 1).reshape(2, 140))[x.reshape(2, 140)
                                                                                > 0], rtol=1e-9)


# -------------------------------------------------------------------------- forcing and ξ
def test_monthly_forcing_averages_xi_not_forcing():
    f = forcing_from_climate(np.array([4.0, 20.0]), np.array([800.0, 1500.0]))
    p = CLM5Parameters(q10=2.0, w_scaling=1.5, efolding=0.5)
    m = CLM5(p, f)
    monthly = decomposition_scalar(f.tsoi, f.soilpsi, GRID.z_node, q10=np.array([[2.0]]),
                                   w_scaling=np.array([[1.5]]), efolding=np.array([[0.5]]))
    np.testing.assert_allclose(m.xi, monthly.mean(axis=-2), rtol=1e-14)
    m_mean = CLM5(p, f.time_mean())
    assert np.max(np.abs(m_mean.xi - m.xi) / m.xi) > 1e-3  # ξ(mean T) ≠ mean ξ(T)
    np.testing.assert_allclose(m.total_input(), f.npp.mean(axis=-1), rtol=1e-13)
    x = m.steady_state()
    np.testing.assert_allclose(x, m.steady_state_dense(), rtol=1e-10, atol=1e-10 * x.max())


def test_environment_dataclass_and_nitrogen():
    e = forcing_from_climate(np.array([10.0]), np.array([1000.0])).time_mean()
    assert isinstance(e, Environment)
    m = CLM5(CLM5Parameters(), e)
    mn = CLM5(CLM5Parameters(), SimpleNamespace(**{**vars(e), "fpi_vr": np.full((1, 20), 0.5)}),
              nitrogen=True)
    np.testing.assert_allclose(mn.rates()[..., 1:4, :], 0.5 * m.rates()[..., 1:4, :], rtol=1e-15)
    np.testing.assert_allclose(mn.rates()[..., 4:, :], m.rates()[..., 4:, :], rtol=1e-15)
    np.testing.assert_allclose(mn.total_respiration(), mn.total_input(), rtol=1e-10)


# -------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tau4s2": -1.0}, r"tau4s2 must be > 0 \(turnover time, years\).*-1"),
        ({"tau4cwd": np.array([3.0, 0.0])}, "tau4cwd must be > 0"),
        ({"fs1l1": 1.2}, r"fs1l1 must be in \[0, 1\]"),
        ({"fs2s1": 0.7, "fs3s1": 0.4}, "out of donor S1.*sum to <= 1"),
        ({"fs1s2": 0.74, "fs3s2": 0.3}, "out of donor S2"),
        ({"fs2s1": 0.5}, "both be given"),
        ({"q10": np.nan}, "q10 must be finite"),
        ({"efolding": 0.0}, "efolding must be > 0"),
        ({"b": 1.0}, r"b must be in \(0, 1\)"),
        ({"fs2s1": 1.0, "fs3s1": 0.0, "fs1s2": 1.0, "fs3s2": 0.0}, "closed loop"),
    ],
)
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises(InputDataError, match=match):
        CLM5Parameters(**kwargs)


def test_unknown_parameter_name_raises():
    with pytest.raises(InputDataError, match="unknown CLM5 parameter"):
        CLM5Parameters.from_dict({"tau4s4": 1.0})
    assert float(CLM5Parameters.from_dict({"w-scaling": 2.0}).w_scaling) == 2.0


def test_bad_forcing_raises():
    with pytest.raises(InputDataError, match="tsoi must have 20 layers"):
        CLM5(CLM5Parameters(), _env(tsoi=np.zeros(19)))
    bad = _env()
    bad.soilpsi = bad.soilpsi.copy()
    bad.soilpsi[3] = np.nan
    with pytest.raises(InputDataError, match="soilpsi contains NaN"):
        CLM5(CLM5Parameters(), bad)
    with pytest.raises(InputDataError, match="npp"):
        CLM5(CLM5Parameters(), _env(npp=-1.0))
    with pytest.raises(InputDataError, match="cwd_fraction"):
        CLM5(CLM5Parameters(), _env(cwd=1.5))
    # the validated dataclass refuses the same things itself
    e = forcing_from_climate(np.array([10.0]), np.array([1000.0])).time_mean()
    with pytest.raises(InputDataError):
        Environment(**{**{k: getattr(e, k) for k in ("soilpsi", "npp", "sand", "altmax",
                                                         "altmax_lastyear", "nbedrock")},
                       "tsoi": np.full((1, 20), np.nan)})


# -------------------------------------------------------------------------- time stepping
def test_transient_from_steady_state_stays_and_balances():
    m = CLM5(CLM5Parameters(), _env((2,), alt=1.5))
    x = m.steady_state()
    for scheme in ("implicit", "explicit"):
        dt = 1 / 12 if scheme == "implicit" else 1e-3
        y = m.transient(x, dt=dt, scheme=scheme, years=3)
        np.testing.assert_allclose(y, x, rtol=1e-9, atol=1e-9 * x.max())
    # implicit (backward Euler) step from zero: the discrete balance is exact,
    # Δ(column stock) = Δt·(input − respiration(X_new))
    x0 = np.zeros_like(x)
    x1 = m.transient(x0, dt=0.5, scheme="implicit")
    dstock = ((x1 - x0) * GRID.dz).sum(axis=(-2, -1))
    np.testing.assert_allclose(dstock, 0.5 * (m.total_input() - m.total_respiration(x1)),
                               rtol=1e-10)


def test_spin_up_with_monthly_forcing_converges_near_analytic():
    f = forcing_from_climate(np.array([15.0]), np.array([1200.0]))
    m = CLM5(CLM5Parameters(), f)
    x_ss = m.steady_state()
    x, years = m.spin_up(f, tol=1e-7, max_years=5000)
    assert years < 5000
    traj = m.transient(x, f, scheme="implicit", record=True)
    np.testing.assert_allclose(traj[..., -1, :, :], traj[..., 0, :, :], rtol=0,
                               atol=1e-5 * x.max())  # periodic
    # The cycle's stock is close to (not equal to) the steady state of the mean operator.
    stock = (x * GRID.dz).sum()
    assert abs(stock / (x_ss * GRID.dz).sum() - 1) < 0.05


def test_transient_rejects_bad_scheme():
    m = CLM5(CLM5Parameters(), _env())
    with pytest.raises(InputDataError, match="scheme"):
        m.transient(m.steady_state(), scheme="rk4")


# -------------------------------------------------------------------------- sampler kernel
@pytest.mark.parametrize("compiled", [False, True], ids=["numpy", "numba"])
@pytest.mark.parametrize("nitrogen", [False, True])
@pytest.mark.parametrize("monthly", [False, True])
def test_steady_state_kernel_equals_model(monthly, nitrogen, compiled):
    """The calibration kernel (site work done once, ξ_T as exp(ln q10·(T − 25)/10)) gives the
    steady states of ``CLM5(params, environment[site]).steady_state()`` up to rounding, for
    prior draws at sites with and without permafrost, bedrock, oxygen and nitrogen scalars, and
    with fs2s1/fs3s1 calibrated or following sand."""
    import dataclasses

    from wholesoil.models._clm5 import _SteadyStateKernel

    rng = np.random.default_rng(5)
    S, R = 4, 40
    f = forcing_from_climate(np.array([-6.0, 4.0, 15.0, 25.0]),
                             np.array([300.0, 800.0, 1500.0, 2500.0]))
    f = dataclasses.replace(
        f, altmax=np.array([0.6, np.nan, 1.5, np.nan])[:, None] * np.ones(12),
        altmax_lastyear=np.array([0.5, np.nan, 1.7, np.nan])[:, None] * np.ones(12),
        nbedrock=np.array([20, 12, 20, 8]), o_scalar=0.2 + 0.8 * rng.random((S, 12, 20)),
        fpi_vr=0.3 + 0.7 * rng.random((S, 12, 20)))
    env = f if monthly else f.time_mean()

    def take(e, i):
        return dataclasses.replace(e, **{
            fl.name: np.asarray(getattr(e, fl.name))[i] for fl in dataclasses.fields(e)
            if np.ndim(getattr(e, fl.name)) and np.shape(getattr(e, fl.name))[0] == S})

    site = rng.integers(0, S, R)
    kernel = _SteadyStateKernel(env, GRID, nitrogen=nitrogen, compiled=compiled)
    assert (kernel._compiled is not None) == compiled
    draws = _prior_draw(rng, R)
    for sand_dependent in (False, True):
        theta = {k: v for k, v in draws.items()
                 if not (sand_dependent and k in ("fs2s1", "fs3s1"))}
        p = CLM5Parameters.from_dict(theta)
        x = kernel(p, site)
        ref = CLM5(p, take(env, site), GRID, nitrogen=nitrogen).steady_state()
        assert np.isfinite(ref).all()
        np.testing.assert_allclose(x, ref, rtol=1e-11, atol=0)


def test_compiled_kernel_matches_numpy_century_and_no_steady_state():
    """The compiled kernel equals the numpy kernel with CENTURY's ξ_T normalization on, and is
    non-finite on exactly the rows the numpy kernel is: a site whose soil is at the wilting
    bound (ξ_W = 0, so the rates vanish and the steady state does not exist)."""
    import dataclasses

    from wholesoil.models._clm5 import _SteadyStateKernel
    from wholesoil.models._scalars import MINPSI

    rng = np.random.default_rng(8)
    f = forcing_from_climate(np.array([2.0, 12.0, 24.0]), np.array([400.0, 900.0, 2000.0]))
    psi = np.array(f.soilpsi, dtype=float, copy=True)
    psi[2] = MINPSI  # the third site: ξ_W = 0 in every layer and month
    f = dataclasses.replace(f, soilpsi=psi)
    site = rng.integers(0, 3, 30)
    p = CLM5Parameters.from_dict(_prior_draw(rng, 30))
    for century in (False, True):
        ref = _SteadyStateKernel(f, GRID, nitrogen=True, normalize_century=century,
                                 compiled=False)(p, site)
        x = _SteadyStateKernel(f, GRID, nitrogen=True, normalize_century=century,
                               compiled=True)(p, site)
        bad = ~np.isfinite(ref).all(axis=(1, 2))
        assert bad.any() and not bad.all()
        np.testing.assert_array_equal(~np.isfinite(x).all(axis=(1, 2)), bad)
        np.testing.assert_allclose(x[~bad], ref[~bad], rtol=1e-11, atol=0)


def test_from_batch_checks_as_the_constructor():
    """The sampler's stacked check accepts what the constructor accepts and hands anything else
    to it, which raises its usual error."""
    rng = np.random.default_rng(2)
    draws = _prior_draw(rng, 50)
    p = CLM5Parameters._from_batch(draws)
    ref = CLM5Parameters.from_dict(draws)
    for name in draws:
        np.testing.assert_array_equal(getattr(p, name), getattr(ref, name))
    for name, bad, match in (("tau4s2", -1.0, "tau4s2 must be > 0"),
                             ("fs1l1", 1.2, r"fs1l1 must be in \[0, 1\]"),
                             ("q10", np.nan, "q10 must be finite"),
                             ("b", 1.0, r"b must be in \(0, 1\)")):
        d = {k: v.copy() for k, v in draws.items()}
        d[name][7] = bad
        with pytest.raises(InputDataError, match=match):
            CLM5Parameters._from_batch(d)
