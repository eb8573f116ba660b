"""COMPAS (Tao et al. (EarthArXiv) §2.3, Eqs. 6–9, Supplementary Table 2).

References used below: the closed form of Tao et al. (EarthArXiv) Eq. 9 (spec
``process-models.md``), the parameter table (Tao et al. (EarthArXiv) Supplementary Table 2),
dense linear solves (numpy) for the litter, central finite differences for the Jacobian, scipy's
root finder and a stiff ODE integration (scipy BDF) for the nonlinear steady states, and mass
balance (input = respiration).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp
from scipy.optimize import root

from wholesoil.errors import InputDataError
from wholesoil.models._allocation import input_profiles
from wholesoil.models._compas import (
    COMPAS,
    COMPAS_PARAMETERS,
    LAYER_EMPTY,
    POOLS,
    COMPASParameters,
    SoilInputs,
    litter_steady_state,
    soil_inputs,
    soil_jacobian,
    soil_steady_state_closed_form,
    soil_steady_state_mixed,
    soil_tendency,
)
from wholesoil.models._environment import Environment, Forcing, forcing_from_climate
from wholesoil.models._transport import diffusivity, mixing_matrix, mixing_operator
from wholesoil.models._vertical import clm5_grid

GRID = clm5_grid()
N = GRID.n_layers


def _site(
    npp=500.0,
    efold=0.5,
    xi_top=0.5,
    b=0.72,
    diffus=None,
    cryo=None,
    alt=np.nan,
    nbedrock=20,
    params=None,
):
    """xi, inputs, bands of one site built with the shared environment physics."""
    p = COMPASParameters.default() if params is None else params
    root_p, surf = input_profiles(GRID, b, alt, alt, nbedrock)
    inputs = np.stack(
        [0.2 * npp * surf, 0.2 * npp * root_p, 0.4 * npp * root_p, 0.2 * npp * root_p]
    )
    xi = xi_top * np.exp(-GRID.z_node / efold)
    d = diffusivity(
        GRID,
        alt,
        alt,
        nbedrock,
        bioturbation=p.diffus if diffus is None else diffus,
        cryoturbation=p.cryo if cryo is None else cryo,
    )
    return xi, inputs, mixing_operator(GRID, d)


def _model(params=None, **kw):
    p = COMPASParameters.default() if params is None else params
    xi, inputs, bands = _site(params=p, **kw)
    return COMPAS.from_parts(p, xi, inputs, bands, GRID)


# --- Supplementary Table 2 ---------------------------------------------------------------------


def test_parameter_table_matches_supplementary_table_2():
    # Tao et al. (EarthArXiv) Supplementary Table 2: 23 parameters, defaults and priors as printed (ranges with
    # misprints as decided in COMPAS_PARAMETERS' notes).
    assert len(COMPAS_PARAMETERS) == 23
    assert [i.number for i in COMPAS_PARAMETERS.values()] == list(range(1, 24))
    expected_defaults = {
        "cue_doc": 0.27,
        "cue_ml": 0.66,
        "cue_cl_ll": 0.16,
        "km_assim": 1.8e3,
        "tau_assim": 0.015,
        "tau_decom": 1.62e-4,
        "km_decom": 5.65e5,
        "tau_enz_prod": 22.0,
        "tau_ml": 0.049,
        "tau_cwd": 3.5,
        "tau_cl_ll": 0.2,
        "tau_enz_decay": 0.04,
        "tau_mic": 1.1,
        "a_soc_mic": 0.47,
        "a_cl_cwd": 0.75,
        "a_doc_ml": 0.05,
        "a_doc_cl": 0.17,
        "a_soc_ll": 0.78,
        "w_scaling": 2.9,
        "q10": 2.1,
        "cryo": 0.0008,
        "diffus": 0.00026,
        "b": 0.72,
    }
    assert {k: v.default for k, v in COMPAS_PARAMETERS.items()} == expected_defaults
    # The misprinted ranges: [0.03 0.001] reordered; [0.3×10⁻⁴] read as [0, 3×10⁻⁴] (PRODA code).
    assert COMPAS_PARAMETERS["tau_assim"].prior == (0.001, 0.03)
    assert COMPAS_PARAMETERS["tau_decom"].prior == (0.0, 3e-4)
    assert COMPAS_PARAMETERS["a_soc_mic"].unit == "unitless"
    for info in COMPAS_PARAMETERS.values():
        lo, hi = info.prior
        assert lo < hi and lo <= info.default <= hi, info.symbol
    assert bool(COMPASParameters.default().in_prior())


def test_parameters_array_round_trip_and_unit_cube():
    p = COMPASParameters.default(cue_doc=[0.2, 0.3])
    assert p.batch_shape == (2,)
    arr = p.as_array()
    assert arr.shape == (2, 23)
    np.testing.assert_array_equal(COMPASParameters.from_array(arr).as_array(), arr)
    u = np.full(23, 0.5)
    mid = COMPASParameters.from_unit(u)
    lo = np.array([i.prior[0] for i in COMPAS_PARAMETERS.values()])
    hi = np.array([i.prior[1] for i in COMPAS_PARAMETERS.values()])
    np.testing.assert_allclose(mid.as_array(), (lo + hi) / 2, rtol=1e-15)
    assert not bool(COMPASParameters.default(q10=5.0).in_prior())


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("tau_mic", -1.0, "tau_mic (τ_MIC) must be > 0"),
        ("tau_decom", 0.0, "must be > 0"),
        ("km_assim", np.nan, "must be > 0 and finite"),
        ("cue_doc", 1.0, "in [0, 1)"),
        ("a_cl_cwd", 1.2, "in [0, 1]"),
        ("b", 1.0, "in (0, 1)"),
        ("diffus", -1e-4, ">= 0"),
    ],
)
def test_out_of_range_parameters_raise_naming_them(name, value, text):
    with pytest.raises(InputDataError, match=r"field '" + name + "'") as err:
        COMPASParameters.default(**{name: [0.5 * COMPAS_PARAMETERS[name].default, value]})
    assert text in str(err.value)
    assert "got" in str(err.value)


def test_unknown_parameter_and_bad_shapes_raise():
    with pytest.raises(InputDataError, match="unknown COMPAS parameter"):
        COMPASParameters.default(tau4s1=1.0)
    with pytest.raises(InputDataError, match="broadcast"):
        COMPASParameters.default(q10=[2.0, 2.1], b=[0.7, 0.8, 0.9])
    with pytest.raises(InputDataError, match="23"):
        COMPASParameters.from_array(np.ones(22))
    p = COMPASParameters.default()
    xi, inputs, bands = _site()
    with pytest.raises(InputDataError, match="inputs"):
        COMPAS.from_parts(p, xi, inputs[:3], bands, GRID)
    with pytest.raises(InputDataError, match="litter inputs must be finite and >= 0"):
        COMPAS.from_parts(p, xi, -inputs, bands, GRID)
    with pytest.raises(InputDataError, match="ξ must be finite"):
        COMPAS.from_parts(p, -xi, inputs, bands, GRID)


# --- closed form (Tao et al. (EarthArXiv) Eq. 9) -----------------------------------------------


def test_closed_form_is_a_root_of_the_local_equations_scipy():
    # Independent reference: scipy's hybrid root finder on the 4 local equations of one layer,
    # started 20 % away from the closed form, lands on the closed form.
    p = COMPASParameters.default()
    inputs = SoilInputs(np.array([3.0]), np.array([20.0]), np.array([15.0]))
    xi = np.array([0.4])
    closed = soil_steady_state_closed_form(inputs, xi, p)
    x_star = closed.pools[:, 0]
    scale = x_star.copy()

    def f(y):
        return soil_tendency((y * scale)[:, None], inputs, xi, p)[:, 0] / scale

    sol = root(f, np.array([1.2, 0.8, 1.2, 0.8]), method="hybr", tol=1e-14)
    assert sol.success
    np.testing.assert_allclose(sol.x * scale, x_star, rtol=1e-9)
    # ENZ* = k_ENZ,prod / k_ENZ · MIC* (Eq. 9c): 0.04 / 22 of MIC*.
    np.testing.assert_allclose(x_star[2], x_star[1] * 0.04 / 22, rtol=1e-14)


def test_closed_form_by_hand_one_layer():
    # Hand evaluation of Eq. 9 for one layer, defaults, ξ = 1, inputs (DOC, MIC, SOC) =
    # (1, 2, 3) g C m⁻³ yr⁻¹: k_MIC + k_ENZ,prod = 1/1.1 + 1/22 = 21/22 yr⁻¹.
    p = COMPASParameters.default()
    closed = soil_steady_state_closed_form(
        SoilInputs(np.array([1.0]), np.array([2.0]), np.array([3.0])), np.array([1.0]), p
    )
    mic = (2 + 0.27 * 4) / ((1 - 0.27) * (21 / 22))
    enz = mic * 0.04 / 22
    supply = 3 + 0.47 / 1.1 * mic
    soc = supply * 5.65e5 / (enz / 1.62e-4 - supply)
    uptake = 6 / (1 - 0.27)
    doc = uptake * 1.8e3 / (mic / 0.015 - uptake)
    np.testing.assert_allclose(closed.pools[:, 0], [doc, mic, enz, soc], rtol=1e-13)


unit_points = st.lists(st.floats(0.02, 0.98), min_size=23, max_size=23)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    u=unit_points, npp=st.floats(50, 2000), xi_top=st.floats(0.05, 1.0), efold=st.floats(0.2, 5.0)
)
def test_closed_form_residual_and_mass_balance_hypothesis(u, npp, xi_top, efold):
    # Random valid parameter sets from the prior: the steady state substituted back into dX/dt
    # (litter with mixing, soil pools immobile) gives ≤ 1e-9 relative residual per equation, and
    # column respiration equals the column input (mass balance) to 1e-10.
    p = COMPASParameters.from_unit(np.array(u))
    m = _model(p, npp=npp, xi_top=xi_top, efold=efold)
    ss = m.steady_state()
    if not ss.valid:
        assert np.isnan(ss.pools).all() and ss.reason
        return
    assert np.all(ss.pools >= 0)
    # Closeness to the existence boundary amplifies rounding (denominators of Eq. 9): the bound
    # is asserted where both denominators keep 1e-6 of their leading term.
    inputs = m.soil_inputs(ss.pools)
    mic, enz = ss.pools[5], ss.pools[6]
    active = inputs.total > 0
    den_doc = 1 - (inputs.total / (1 - p.cue_doc)) / (p.v_assim * m.xi * mic)
    supply = inputs.soc + p.a_soc_mic * p.k_mic * m.xi * mic
    den_soc = 1 - supply / (p.v_decom * m.xi * enz)
    if np.any(active & ((den_doc < 1e-6) | (den_soc < 1e-6))):
        return
    rel = m.residual(ss, relative=True)
    assert np.max(rel) <= 1e-9
    resp = (m.respiration(ss).sum(axis=-2) * GRID.dz).sum()
    np.testing.assert_allclose(resp, m.column_input(), rtol=1e-10)


def test_defaults_typical_site_values():
    # Default COMPAS at a site with NPP 500 g C m⁻² yr⁻¹: valid, mass balance to 1e-12, residual
    # at rounding level; mSOC dominates the soil pools in the topsoil (as the PRODA code's
    # plausibility rule mSOC/MIC ≥ 10 on the stocks expects).
    m = _model()
    ss = m.steady_state()
    assert ss.valid and ss.reason == ""
    assert np.max(m.residual(ss, relative=True)) < 1e-13
    resp = (m.respiration(ss).sum(axis=-2) * GRID.dz).sum()
    np.testing.assert_allclose(resp, 500.0, rtol=1e-12)
    np.testing.assert_allclose(m.column_input(), 500.0, rtol=1e-12)
    stocks = (ss.pools[4:] * GRID.dz).sum(axis=-1)
    assert stocks[3] / stocks[1] > 10
    np.testing.assert_allclose(ss.soc_stock, stocks.sum(), rtol=1e-14)
    assert ss.pool("mSOC").shape == (N,)


def test_litter_steady_state_equals_dense_solve():
    # Reference: the dense 80 × 80 system (A_litter·ξ·K − V)·X = −B·I solved by numpy.
    p = COMPASParameters.default(diffus=5e-4)
    xi, inputs, bands = _site(params=p, diffus=5e-4)
    m = COMPAS.from_parts(p, xi, inputs, bands, GRID)
    lit = m.litter_steady_state()
    k = m.litter_rates
    v = mixing_matrix(GRID, diffusivity(GRID, np.nan, np.nan, 20, bioturbation=5e-4))
    mat = np.zeros((4 * N, 4 * N))
    for i in range(4):
        mat[i * N : (i + 1) * N, i * N : (i + 1) * N] = -np.diag(k[i]) - (v if i > 0 else 0)
    mat[2 * N : 3 * N, 0:N] = 0.75 * np.diag(k[0])
    mat[3 * N : 4 * N, 0:N] = 0.25 * np.diag(k[0])
    dense = np.linalg.solve(mat, -inputs.ravel()).reshape(4, N)
    np.testing.assert_allclose(lit, dense, rtol=1e-10)


def test_invalid_parameter_sets_are_flagged_not_returned():
    # Slow DOC uptake (τ_assim = 10 yr) or slow enzymes (τ_decom = 1 yr): the Eq. 9 denominators
    # are ≤ 0, no positive steady state. A batch mixes them with a valid set, which is unchanged.
    p = COMPASParameters.default(tau_assim=[0.015, 10.0, 0.015], tau_decom=[1.62e-4, 1.62e-4, 1.0])
    ss = _model(p).steady_state()
    np.testing.assert_array_equal(ss.valid, [True, False, False])
    assert np.isnan(ss.pools[1:]).all()
    assert ss.reason[0] == ""
    assert "no positive DOC steady state" in ss.reason[1] and "layer 1" in ss.reason[1]
    assert "no positive mSOC steady state" in ss.reason[2]
    alone = _model(COMPASParameters.default()).steady_state()
    np.testing.assert_array_equal(ss.pools[0], alone.pools)


def test_existence_does_not_depend_on_input_size():
    # ξ cancels from both conditions and the inputs enter them homogeneously: scaling NPP by
    # 1000 changes MIC and ENZ by 1000 but leaves DOC and mSOC unchanged (Eq. 9, degree 0).
    a = _model(npp=1.0).steady_state()
    b = _model(npp=1000.0).steady_state()
    np.testing.assert_allclose(
        b.pools[[0, 1, 2, 3, 5, 6]], 1000 * a.pools[[0, 1, 2, 3, 5, 6]], rtol=1e-12
    )
    np.testing.assert_allclose(b.pools[[4, 7]], a.pools[[4, 7]], rtol=1e-10)


def test_layers_without_input_hold_no_carbon():
    # Bedrock below layer 8 (nbedrock = 8): no inputs and no mixing there; soil pools 0, litter 0,
    # the set stays valid and the layers are marked empty.
    xi, inputs, bands = _site(nbedrock=8)
    inputs[:, 8:] = 0.0
    m = COMPAS.from_parts(COMPASParameters.default(), xi, inputs, bands, GRID)
    ss = m.steady_state()
    assert ss.valid
    np.testing.assert_array_equal(ss.pools[:, 8:], 0.0)
    assert np.all(ss.layer_status[8:] == LAYER_EMPTY)
    assert np.max(m.residual(ss, relative=True)) < 1e-13


def test_zero_xi_with_inputs_is_flagged():
    xi, inputs, _ = _site()
    xi[0] = 0.0
    zero_bands = tuple(np.zeros(N) for _ in range(3))
    ss = COMPAS.from_parts(COMPASParameters.default(), xi, inputs, zero_bands, GRID).steady_state()
    assert not ss.valid
    assert "layer 1" in ss.reason and "litter" in ss.reason


def test_batch_of_sites_and_parameter_sets_equals_one_by_one():
    # Parameter sets (3,) × sites (2, 1) → batch (2, 3), each equal to its own computation.
    p = COMPASParameters.default(cue_doc=[0.2, 0.27, 0.4], tau_mic=[0.8, 1.1, 1.6])
    sites = [_site(npp=300.0, xi_top=0.3), _site(npp=800.0, xi_top=0.9)]
    xi = np.stack([s[0] for s in sites])[:, None]
    inputs = np.stack([s[1] for s in sites])[:, None]
    bands = tuple(np.stack([s[2][i] for s in sites])[:, None] for i in range(3))
    ss = COMPAS.from_parts(p, xi, inputs, bands, GRID).steady_state()
    assert ss.pools.shape == (2, 3, 8, N) and ss.valid.shape == (2, 3)
    for i, s in enumerate(sites):
        for j in range(3):
            pj = COMPASParameters.from_array(p.as_array()[j])
            one = COMPAS.from_parts(pj, *s, GRID).steady_state()
            np.testing.assert_allclose(ss.pools[i, j], one.pools, rtol=1e-13)


# --- Newton with mixed soil pools --------------------------------------------------------------


def test_soil_jacobian_matches_finite_differences():
    p = COMPASParameters.default()
    m = _model()
    ss = m.steady_state()
    inputs = m.soil_inputs(ss.pools)
    x = ss.pools[4:] * 1.3
    jac = soil_jacobian(x, m.xi, p)
    for c in range(4):
        h = 1e-6 * x[c]
        up, dn = x.copy(), x.copy()
        up[c] += h
        dn[c] -= h
        fd = (soil_tendency(up, inputs, m.xi, p) - soil_tendency(dn, inputs, m.xi, p)) / (2 * h)
        np.testing.assert_allclose(jac[:, :, c], fd.T, rtol=1e-6, atol=1e-9 * np.abs(fd).max())


def test_newton_without_mixing_returns_the_closed_form():
    # Zero mixing: Newton (pseudo-transient) from a state 30 % off converges to Eq. 9.
    m = _model()
    lit = m.litter_steady_state()
    inputs = m.soil_inputs(np.concatenate([lit, lit]))
    closed = soil_steady_state_closed_form(inputs, m.xi, m.params)
    zero = tuple(np.zeros(N) for _ in range(3))
    start = closed.pools * np.array([1.3, 0.7, 1.3, 0.7])[:, None]
    sol = soil_steady_state_mixed(inputs, m.xi, m.params, zero, start)
    assert sol.converged
    np.testing.assert_allclose(sol.pools, closed.pools, rtol=1e-9)
    # Through the model with D = 0: identical to the closed form.
    m0 = _model(diffus=0.0)
    np.testing.assert_allclose(
        m0.steady_state(mixing=True).pools, m0.steady_state().pools, rtol=1e-12
    )


def test_newton_with_mixing_converges_and_conserves_mass():
    # Default site with bioturbation 2.6e-4 m² yr⁻¹ acting on DOC, MIC, ENZ and mSOC too.
    m = _model()
    mixed = m.steady_state(mixing=True)
    assert mixed.valid and mixed.mixing
    assert np.max(m.residual(mixed, mixing=True, relative=True)) <= 1e-10
    resp = (m.respiration(mixed).sum(axis=-2) * GRID.dz).sum()
    np.testing.assert_allclose(resp, 500.0, rtol=1e-9)
    closed = m.steady_state()
    np.testing.assert_array_equal(mixed.pools[:4], closed.pools[:4])  # litter: same solve
    assert np.all(mixed.pools >= 0)


def test_newton_with_mixing_equals_long_time_integration():
    # Reference: the soil ODE (with mixing) integrated by scipy BDF for 10⁹ years from the
    # closed form; the deep layers move by orders of magnitude (mixing brings microbes where
    # ξ ~ 1e-7), so plain Newton from the closed form is not enough there.
    m = _model()
    ss = m.steady_state()
    inputs = m.soil_inputs(ss.pools)
    mixed = m.steady_state(mixing=True).pools[4:]
    v = mixing_matrix(GRID, diffusivity(GRID, np.nan, np.nan, 20, bioturbation=m.params.diffus))

    def rhs(t, y):
        s = y.reshape(4, N)
        return (soil_tendency(s, inputs, m.xi, m.params) - (v @ s.T).T).ravel()

    def jac(t, y):
        jl = soil_jacobian(y.reshape(4, N), m.xi, m.params)
        full = np.zeros((4 * N, 4 * N))
        for r in range(4):
            for c in range(4):
                full[r * N : (r + 1) * N, c * N : (c + 1) * N] = np.diag(jl[:, r, c])
            full[r * N : (r + 1) * N, r * N : (r + 1) * N] -= v
        return full

    sol = solve_ivp(
        rhs, (0, 1e9), ss.pools[4:].ravel(), method="BDF", jac=jac, rtol=1e-10, atol=1e-16
    )
    assert sol.success
    np.testing.assert_allclose(mixed, sol.y[:, -1].reshape(4, N), rtol=1e-7)


def test_newton_with_mixing_random_prior_sets():
    # 64 parameter sets drawn uniformly from the priors (fixed seed), batched: every set whose
    # closed form exists converges with mixing, to ≤ 1e-10 relative residual, with column
    # respiration = input (1e-9) and non-negative pools.
    rng = np.random.default_rng(20240503)
    p = COMPASParameters.from_unit(rng.uniform(0.02, 0.98, (64, 23)))
    m = _model(p)
    closed = m.steady_state()
    mixed = m.steady_state(mixing=True)
    np.testing.assert_array_equal(mixed.valid, closed.valid)
    assert closed.valid.sum() >= 60
    ok = mixed.valid
    assert np.max(m.residual(mixed, mixing=True, relative=True)[ok]) <= 1e-10
    assert np.all(mixed.pools[ok] >= 0)
    resp = (m.respiration(mixed).sum(axis=-2) * GRID.dz).sum(axis=-1)
    np.testing.assert_allclose(resp[ok], 500.0, rtol=1e-9)


# --- Fig. 5 diagnostic, environment -----------------------------------------------------------


def test_km_to_substrate():
    m = _model()
    ss = m.steady_state()
    # default: the paper's Fig. 5 scale, K_m itself against the substrate
    raw = m.km_to_substrate(ss)
    np.testing.assert_allclose(raw.decom, 5.65e5 / ss.pool("mSOC"), rtol=1e-14)
    np.testing.assert_allclose(raw.assim, 1.8e3 / ss.pool("DOC"), rtol=1e-14)
    ratio = m.km_to_substrate(ss, scaled=True)
    np.testing.assert_allclose(ratio.assim, 1.8e3 * m.xi / ss.pool("DOC"), rtol=1e-14)
    np.testing.assert_allclose(ratio.decom, 5.65e5 * m.xi / ss.pool("mSOC"), rtol=1e-14)
    # Closed form: K_m,assim·ξ/DOC* = (v_assim·ξ·MIC* − U*)/U*, a ratio > 0 wherever valid.
    assert np.all(ratio.assim > 0) and np.all(ratio.decom > 0)


def _environment(**kw):
    t = np.linspace(15.0, 8.0, N)
    fields = dict(
        tsoi=t,
        soilpsi=np.full(N, -0.05),
        npp=600.0,
        sand=40.0,
        altmax=np.nan,
        altmax_lastyear=np.nan,
        nbedrock=20,
        leaf_fraction=0.5,
        cwd_fraction=0.1,
    )
    fields.update(kw)
    return Environment(**fields)


def test_model_from_environment_and_forcing():
    p = COMPASParameters.default()
    env = _environment()
    m = COMPAS(p, env)
    # B·I sums to the NPP (Σ inputs·dz = 600 g C m⁻² yr⁻¹), 10 % of it to CWD.
    np.testing.assert_allclose(m.column_input(), 600.0, rtol=1e-12)
    np.testing.assert_allclose((m.inputs[0] * GRID.dz).sum(), 60.0, rtol=1e-12)
    # ξ = ξ_T·ξ_W·ξ_D with q10 = 2.1, w-scaling 2.9, e-folding 0.5 m (PRODA COMPAS code).
    xi_t = 2.1 ** ((env.tsoi - 25) / 10)
    xi_w = np.minimum(1, 2.9 * np.log(-2 / -0.05) / np.log(-2 / -0.002))
    np.testing.assert_allclose(m.xi, xi_t * xi_w * np.exp(-GRID.z_node / 0.5), rtol=1e-12)
    ss = m.steady_state()
    assert ss.valid
    assert np.max(m.residual(ss, relative=True)) < 1e-12
    # A forcing of 12 identical months gives the same model.
    months = Forcing(
        tsoi=np.tile(env.tsoi, (12, 1)),
        soilpsi=np.tile(env.soilpsi, (12, 1)),
        npp=np.full(12, 600.0),
        sand=40.0,
        altmax=np.full(12, np.nan),
        altmax_lastyear=np.full(12, np.nan),
        nbedrock=20,
        leaf_fraction=0.5,
        cwd_fraction=0.1,
    )
    mf = COMPAS(p, months)
    np.testing.assert_allclose(mf.xi, m.xi, rtol=1e-13)
    np.testing.assert_allclose(mf.steady_state().pools, ss.pools, rtol=1e-12)


def test_forcing_xi_is_the_mean_of_monthly_xi():
    # Seasonal temperature: ξ from the Forcing is the mean of monthly ξ, not ξ of the mean.
    p = COMPASParameters.default()
    amp = 10 * np.sin(2 * np.pi * np.arange(12) / 12)[:, None]
    tsoi = np.linspace(15.0, 8.0, N) + amp
    forcing = Forcing(
        tsoi=tsoi,
        soilpsi=np.full((12, N), -0.05),
        npp=np.full(12, 600.0),
        sand=40.0,
        altmax=np.full(12, np.nan),
        altmax_lastyear=np.full(12, np.nan),
        nbedrock=20,
    )
    m = COMPAS(p, forcing)
    xi_w = min(1, 2.9 * np.log(-2 / -0.05) / np.log(-2 / -0.002))
    xi_t = np.where(tsoi >= 0, 2.1 ** ((tsoi - 25) / 10), 2.1**-2.5 * 2.1 ** (tsoi / 10))
    np.testing.assert_allclose(
        m.xi, xi_t.mean(axis=0) * xi_w * np.exp(-GRID.z_node / 0.5), rtol=1e-12
    )


def test_pools_order_and_soil_inputs():
    assert POOLS == ("CWD", "L1", "L2", "L3", "DOC", "MIC", "ENZ", "mSOC")
    p = COMPASParameters.default()
    u = soil_inputs(np.array([10.0]), np.array([20.0]), np.array([30.0]), p)
    # a_DOC,ML·F1 + a_DOC,CL·F2; (1−a)·η terms; a_SOC,LL·F3 (Tao et al. (EarthArXiv) Eq. 8,
    # CUE definitions).
    np.testing.assert_allclose(u.doc, [0.05 * 10 + 0.17 * 20])
    np.testing.assert_allclose(u.mic, [0.95 * 0.66 * 10 + 0.83 * 0.16 * 20 + 0.22 * 0.16 * 30])
    np.testing.assert_allclose(u.soc, [0.78 * 30])
    lit = litter_steady_state(
        np.ones((4, N)), np.ones((4, N)), 0.75, tuple(np.zeros(N) for _ in range(3))
    )
    np.testing.assert_allclose(lit, np.array([[1.0], [1.0], [1.75], [1.25]]) * np.ones(N))


# --- sampler kernel ----------------------------------------------------------------------------


def _kernel_sites(rng):
    """Five sites: permafrost (cryoturbation) with and without bedrock, bedrock at layer 12,
    a warm site, and one whose soil is at the wilting bound (ξ_W = 0: no decomposition, so no
    finite litter steady state); oxygen and nitrogen scalars that vary by site, month and layer."""
    import dataclasses

    from wholesoil.models._scalars import MINPSI

    S = 5
    f = forcing_from_climate(np.array([-6.0, 4.0, 15.0, 25.0, 12.0]),
                             np.array([300.0, 800.0, 1500.0, 2500.0, 900.0]))
    psi = np.array(f.soilpsi, dtype=float, copy=True)
    psi[4] = MINPSI
    return dataclasses.replace(
        f, soilpsi=psi,
        altmax=np.array([0.6, np.nan, 1.5, np.nan, np.nan])[:, None] * np.ones(12),
        altmax_lastyear=np.array([0.5, np.nan, 1.7, np.nan, np.nan])[:, None] * np.ones(12),
        nbedrock=np.array([20, 12, 8, 20, 20]), o_scalar=0.2 + 0.8 * rng.random((S, 12, N)),
        fpi_vr=0.3 + 0.7 * rng.random((S, 12, N)))


def _take(env, i, S):
    import dataclasses

    return dataclasses.replace(env, **{
        fl.name: np.asarray(getattr(env, fl.name))[i] for fl in dataclasses.fields(env)
        if np.ndim(getattr(env, fl.name)) and np.shape(getattr(env, fl.name))[0] == S})


@pytest.mark.parametrize("compiled", [False, True], ids=["numpy", "numba"])
@pytest.mark.parametrize("nitrogen", [False, True])
@pytest.mark.parametrize("monthly", [False, True])
def test_steady_state_kernel_equals_model(monthly, nitrogen, compiled):
    """The calibration kernel (site work done once, ξ_T as exp(ln q10·(T − 25)/10)) gives the
    pools and validity of ``COMPAS(params, environment[site]).steady_state()`` up to rounding
    (exact answer: the model itself), for prior draws at five sites: rows that fail nothing,
    rows with no positive soil steady state (Eq. 9a/9d denominators ≤ 0) and rows at the site
    without decomposition (no finite litter state) all occur."""
    from wholesoil.models._compas import _COMPASSteadyStateKernel

    rng = np.random.default_rng(11)
    R = 80
    f = _kernel_sites(rng)
    env = f if monthly else f.time_mean()
    site = rng.integers(0, 5, R)
    kernel = _COMPASSteadyStateKernel(env, GRID, nitrogen=nitrogen, compiled=compiled)
    assert (kernel._compiled is not None) == compiled
    p = COMPASParameters.from_unit(np.clip(rng.random((R, len(COMPAS_PARAMETERS))), 1e-3, 0.999))
    pools, valid = kernel(p, site)
    ref = COMPAS(p, _take(env, site, 5), GRID, nitrogen=nitrogen).steady_state()
    assert pools.shape == (R, 8, N) and valid.shape == (R,)
    np.testing.assert_array_equal(valid, ref.valid)
    reasons = {str(r).split(": ")[-1][:20] for r in ref.reason[~ref.valid]}
    assert valid.any() and len(reasons) >= 2  # both the litter and a soil failure occur
    # at the site without decomposition the litter operator is V alone (singular): rows fail
    # there unless the last Thomas pivot rounds positive, which both paths compute alike
    assert (~valid[site == 4]).any()
    assert np.isnan(pools[~valid]).all()
    np.testing.assert_allclose(pools[valid], ref.pools[valid], rtol=1e-11, atol=0)


@pytest.mark.parametrize("compiled", [False, True], ids=["numpy", "numba"])
def test_keep_invalid_returns_the_closed_form_values(compiled):
    """``keep_invalid`` (PRODA_MIC's ``matrix_fun.m`` returns the closed form of failing states,
    negated, to its sampler): rows whose only failure is a non-positive denominator of Eq.
    9a/9d keep the closed form's values — negative mSOC or DOC, by hand from Eq. 9 — while
    rows without a finite litter state stay NaN; ``valid`` and the valid rows are unchanged;
    the kernel equals the model on both paths."""
    from wholesoil.models._compas import _COMPASSteadyStateKernel

    rng = np.random.default_rng(11)
    R = 80
    env = _kernel_sites(rng).time_mean()
    site = rng.integers(0, 5, R)
    p = COMPASParameters.from_unit(np.clip(rng.random((R, len(COMPAS_PARAMETERS))), 1e-3, 0.999))
    kernel = _COMPASSteadyStateKernel(env, GRID, nitrogen=True, compiled=compiled)
    pools, valid = kernel(p, site, keep_invalid=True)
    model = COMPAS(p, _take(env, site, 5), GRID, nitrogen=True)
    ref = model.steady_state(keep_invalid=True)
    plain = model.steady_state()
    np.testing.assert_array_equal(valid, plain.valid)
    np.testing.assert_array_equal(ref.pools[valid], plain.pools[valid])
    soil_fail = ~valid & np.isfinite(ref.pools).all(axis=(-2, -1))
    lit_fail = ~valid & np.array(["litter" in str(r) for r in plain.reason])
    assert soil_fail.any() and lit_fail.any()
    assert np.isnan(pools[lit_fail]).all() and np.isnan(ref.pools[lit_fail]).all()
    assert (ref.pools[soil_fail][:, 4:] < 0).any(axis=(-2, -1)).all()
    np.testing.assert_allclose(pools[soil_fail], ref.pools[soil_fail], rtol=1e-11, atol=0)
    # one failing row by hand: mSOC = supply·K_m,decom·ξ / (v_decom·ξ·ENZ − supply), Eq. 9d
    i = np.flatnonzero(soil_fail)[0]
    inputs = model.soil_inputs(np.concatenate([ref.pools[..., :4, :],
                                               np.zeros_like(ref.pools[..., :4, :])], -2))
    xi = np.broadcast_to(model.xi, (R, N))[i]
    mic, enz = ref.pools[i, 5], ref.pools[i, 6]
    supply = inputs.soc[i] + p.a_soc_mic[i] * p.k_mic[i] * xi * mic
    with np.errstate(divide="ignore", invalid="ignore"):
        soc = np.where(inputs.doc[i] + inputs.mic[i] + inputs.soc[i] > 0,
                       supply * p.km_decom[i] * xi / (p.v_decom[i] * xi * enz - supply), 0.0)
    np.testing.assert_allclose(ref.pools[i, 7], soc, rtol=1e-12)
    with pytest.raises(InputDataError, match="keep_invalid"):
        model.steady_state(mixing=True, keep_invalid=True)


@pytest.mark.parametrize("compiled", [False, True], ids=["numpy", "numba"])
def test_steady_state_kernel_shared_environment(compiled):
    """An environment with no site axis: every row at that site (``site`` omitted), equal to
    the model of the broadcast batch; a site outside the kernel's raises."""
    from wholesoil.models._compas import _COMPASSteadyStateKernel

    rng = np.random.default_rng(3)
    env = _environment(o_scalar=np.full(N, 0.7), fpi_vr=np.linspace(1.0, 0.4, N))
    p = COMPASParameters.from_unit(np.clip(rng.random((12, len(COMPAS_PARAMETERS))), 1e-3, 0.999))
    kernel = _COMPASSteadyStateKernel(env, GRID, nitrogen=True, compiled=compiled)
    pools, valid = kernel(p)
    ref = COMPAS(p, env, GRID, nitrogen=True).steady_state()
    np.testing.assert_array_equal(valid, ref.valid)
    np.testing.assert_allclose(pools, ref.pools, rtol=1e-11, atol=0)
    with pytest.raises(InputDataError, match="site"):
        kernel(p, np.ones(12, int))


def test_from_batch_checks_as_the_constructor():
    """The sampler's stacked check accepts what the constructor accepts (prior draws with some
    parameters left at their scalar defaults) and hands anything else to it, which raises its
    usual error."""
    rng = np.random.default_rng(2)
    draws = COMPASParameters.from_unit(rng.random((50, len(COMPAS_PARAMETERS))) * 0.998 + 1e-3)
    values = {n: getattr(draws, n) for n in COMPAS_PARAMETERS}
    values["cryo"] = COMPAS_PARAMETERS["cryo"].default
    p = COMPASParameters._from_batch(values)
    ref = COMPASParameters(**values)
    assert p.batch_shape == ref.batch_shape == (50,)
    for name in COMPAS_PARAMETERS:
        np.testing.assert_array_equal(getattr(p, name), getattr(ref, name))
    for name, bad, match in (("tau_mic", -1.0, "tau_mic .* must be > 0"),
                             ("a_doc_ml", 1.2, r"a_doc_ml .* must be in \[0, 1\]"),
                             ("cue_doc", 1.0, r"cue_doc .* must be in \[0, 1\)"),
                             ("q10", np.nan, "q10 .* finite"),
                             ("b", 1.0, r"b .* must be in \(0, 1\)")):
        d = {k: np.array(v, copy=True) for k, v in values.items()}
        d[name][7] = bad
        with pytest.raises(InputDataError, match=match):
            COMPASParameters._from_batch(d)
    with pytest.raises(InputDataError, match="broadcast"):
        COMPASParameters._from_batch({**values, "q10": np.full(3, 2.0)})
