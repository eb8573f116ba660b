"""Millennial v2 (Abramoff et al. 2022) with turnover exponent β.

References used below: the fitted parameter file of the Millennial v2 release
(``Fortran/MillennialV2/simulationv2/soilpara_in_fit.txt``, Zenodo 10.5281/zenodo.6353519), the
reference code's equations (``R/models/derivs_V2_MM.R``, v2) evaluated by hand, central finite
differences for the Jacobian, a closed form of the β = 1 steady state (derived below from Eqs. 20
and 21), a stiff transient integration (scipy BDF) for the β = 2 steady state, and carbon mass
balance (input = respiration + leaching at steady state). No published steady state for a stated
forcing was found in the reference material, so the default steady state is pinned as computed
here and cross-checked by transient integration and by the balances.
"""

from __future__ import annotations

import numpy as np
import pytest

from wholesoil.errors import InputDataError
from wholesoil.models._millennial import (
    FORCING,
    PARAMETERS,
    POOLS,
    SENSITIVITY_KNOBS,
    Millennial,
    matched_rate_bd,
    per_day,
    per_year,
)

R = 8.31446

# Millennial v2 release, Fortran/MillennialV2/simulationv2/soilpara_in_fit.txt (24 rows, in order).
SOILPARA_IN_FIT = {
    "param_pi": 0.66,
    "param_pa": 0.33,
    "kaff_pl": 6443.0,
    "alpha_pl": 1.8e12,
    "eact_pl": 63909.0,
    "rate_pa": 0.018,
    "rate_break": 0.02,
    "rate_leach": 0.0015,
    "kaff_des": 1.0,
    "param_p1": 0.12,
    "param_p2": 0.216,
    "kaff_lb": 774.6,
    "alpha_lb": 2.3e12,
    "eact_lb": 57865.0,
    "rate_bd": 0.0045,
    "rate_ma": 0.0048,
    "cue_ref": 0.19,
    "cue_t": 0.012,
    "tae_ref": 15.0,
    "matpot": 15.0,
    "lambda": 2.1e-4,
    "porosity": 0.6,
    "kamin": 0.2,
    "param_pb": 0.5,
}

# Default steady state (defaults of PARAMETERS and FORCING: T 15 °C, θ 0.3, φ 0.6, pH 7,
# ρ_b 1 g cm-3, clay + silt 80 %, NPP 500 g C m-2 yr-1, β = 2), computed by this module's Newton
# solve and confirmed by a 3000-year BDF integration (test_default_steady_state_by_transient).
DEFAULT_STEADY_STATE = np.array(
    [437.917242, 3.86674570, 1406.79477, 8.43753332, 4219.45522]
)  # POM, LMWC, AGG, MIC, MAOM [g C m-2]


def _random_states(rng, n):
    scale = np.array([400.0, 5.0, 1400.0, 8.0, 4000.0])
    return scale * np.exp(rng.normal(0.0, 1.0, (n, 5)))


def test_parameters_are_the_v2_fit_file():
    for name, value in SOILPARA_IN_FIT.items():
        info = PARAMETERS.get(name) or FORCING[name]
        assert info.value == value, name
    assert PARAMETERS["beta"].value == 2.0  # Eq. 16: rate_bd·MIC^2
    assert PARAMETERS["param_pc"].value == 0.86  # model_tutorial.Rmd
    assert POOLS == ("POM", "LMWC", "AGG", "MIC", "MAOM")
    for info in (*PARAMETERS.values(), *FORCING.values()):
        assert info.unit and info.source and info.description


def test_derived_rates_by_hand():
    # Eqs. 3, 4, 10, 11, 14, 15 of the reference code at T = 15 °C, θ = 0.3, φ = 0.6, pH 7,
    # bulk density 1000 kg m-3, clay + silt 80 %.
    m = Millennial()
    t_k = 288.15
    wd = np.sqrt(0.3 / 0.6)
    wb = np.exp(-2.1e-4 * 15.0) * (0.2 + 0.8 * np.sqrt(0.3 / 0.6)) * wd
    np.testing.assert_allclose(m.scalar_wd, wd, rtol=1e-15)
    np.testing.assert_allclose(m.scalar_wb, wb, rtol=1e-15)
    np.testing.assert_allclose(m.vmax_pl, 1.8e12 * np.exp(-63909.0 / (R * t_k)), rtol=1e-14)
    np.testing.assert_allclose(m.vmax_lb, 2.3e12 * np.exp(-57865.0 / (R * t_k)), rtol=1e-14)
    np.testing.assert_allclose(m.kaff_lm, np.exp(-0.12 * 7.0 - 0.216), rtol=1e-15)
    np.testing.assert_allclose(m.qmax, 1000.0 * 0.86 * 80.0, rtol=1e-15)
    np.testing.assert_allclose(m.cue, 0.19, rtol=1e-15)
    np.testing.assert_allclose(Millennial(temperature=20.0).cue, 0.19 - 0.012 * 5.0, rtol=1e-14)


def test_rhs_by_hand_transcription():
    # One state, every term of Eqs. 1, 7, 17, 19, 20 written out as in derivs_V2_MM.R.
    m = Millennial({"beta": 2.0}, temperature=12.0, moisture=0.25, npp=2.0, clay_silt=35.0)
    pom, lmwc, agg, mic, maom = x = np.array([300.0, 4.0, 900.0, 10.0, 3000.0])
    t_k = 285.15
    wd = np.sqrt(0.25 / 0.6)
    wb = np.exp(-2.1e-4 * 15) * (0.2 + 0.8 * np.sqrt(0.35 / 0.6)) * wd
    vpl = 1.8e12 * np.exp(-63909.0 / (R * t_k))
    vlb = 2.3e12 * np.exp(-57865.0 / (R * t_k))
    klm = np.exp(-0.12 * 7 - 0.216)
    qmax = 1000.0 * 0.86 * 35.0
    f_pl = vpl * wd * pom * mic / (6443.0 + mic)
    f_pa = 0.018 * wd * pom
    f_br = 0.02 * wd * agg
    f_le = 0.0015 * wd * lmwc
    f_lm = wd * klm * lmwc * (1 - maom / qmax)
    f_ml = maom / qmax
    f_lb = vlb * wb * mic * lmwc / (774.6 + lmwc)
    f_tu = 0.0045 * mic**2
    f_ma = 0.0048 * wd * maom
    cue = 0.19 - 0.012 * (12.0 - 15.0)
    expected = [
        2.0 * 0.66 + 0.33 * f_br - f_pa - f_pl,
        2.0 * 0.34 - f_le + f_pl - f_lm - f_lb + 0.5 * f_tu + f_ml,
        f_ma + f_pa - f_br,
        f_lb * cue - f_tu,
        f_lm - f_ml + 0.5 * f_tu - f_ma + 0.67 * f_br,
    ]
    np.testing.assert_allclose(m.rhs(x), expected, rtol=1e-13)
    np.testing.assert_allclose(m.respiration(x), (1 - cue) * f_lb, rtol=1e-14)
    np.testing.assert_allclose(m.leaching(x), f_le, rtol=1e-14)


@pytest.mark.parametrize("beta", [1.0, 1.37, 2.0, 3.0])
def test_jacobian_matches_central_differences(beta):
    rng = np.random.default_rng(1)
    m = Millennial({"beta": beta}, temperature=np.array([5.0, 15.0, 25.0])[:, None])
    x = _random_states(rng, 4)[None, :, :] * np.ones((3, 1, 1))
    jac = m.jacobian(x)
    assert jac.shape == (3, 4, 5, 5)
    num = np.zeros_like(jac)
    for j in range(5):
        h = 1e-6 * x[..., j]
        e = np.zeros(5)
        e[j] = 1.0
        num[..., j] = (m.rhs(x + h[..., None] * e) - m.rhs(x - h[..., None] * e)) / (
            2 * h[..., None]
        )
    scale = np.abs(jac).max(axis=(-2, -1), keepdims=True)
    np.testing.assert_allclose(jac / scale, num / scale, atol=1e-8)


def test_mass_balance_at_any_state():
    # Σ dx/dt = I − R_h − leaching: carbon leaves only by respiration (Eq. 21) and leaching (Eq. 8).
    rng = np.random.default_rng(2)
    m = Millennial({"beta": np.array([1.0, 2.0, 2.7])[:, None]}, npp=np.array([0.5, 1.0, 3.0]))
    x = _random_states(rng, 3)
    b = m.carbon_balance(x)
    assert b.residual.shape == (3, 3)
    np.testing.assert_allclose(b.residual, 0.0, atol=1e-11 * np.abs(m.rhs(x)).max())


def test_batched_rhs_equals_looped():
    rng = np.random.default_rng(3)
    betas = np.array([1.0, 1.5, 2.0])
    temps = np.array([0.0, 20.0])
    m = Millennial({"beta": betas[:, None]}, temperature=temps)
    x = _random_states(rng, 1)[0]
    batched = m.rhs(x)
    for i, b in enumerate(betas):
        for k, t in enumerate(temps):
            one = Millennial({"beta": b}, temperature=t)
            np.testing.assert_array_equal(batched[i, k], one.rhs(x))
            np.testing.assert_array_equal(m.jacobian(x)[i, k], one.jacobian(x))


def test_default_steady_state():
    m = Millennial()
    rep = m.steady_state()
    assert rep.status == "ok"
    np.testing.assert_allclose(rep.state, DEFAULT_STEADY_STATE, rtol=1e-8)
    assert m.residual(rep.state) <= 1e-8
    # Input = respiration + leaching (mass balance), to 1e-10 of the input.
    assert abs(m.mass_balance_residual(rep.state)) <= 1e-10
    assert np.all(np.real(np.linalg.eigvals(m.jacobian(rep.state))) < 0)
    np.testing.assert_allclose(m.soc(rep.state), DEFAULT_STEADY_STATE.sum(), rtol=1e-8)


def test_default_steady_state_by_transient():
    # 3000 years of BDF integration from 10 g C m-2 in every pool reach the Newton state.
    m = Millennial()
    t, x = m.simulate(np.full(5, 10.0), 3000.0, n_out=4, rtol=1e-10, atol=1e-10)
    assert t[-1] == 3000.0
    np.testing.assert_allclose(x[-1], DEFAULT_STEADY_STATE, rtol=1e-6)
    assert m.residual(x[-1]) <= 1e-8


def test_transient_batched_approaches_steady_state():
    m = Millennial({"beta": np.array([1.5, 2.0])}, temperature=20.0, clay_silt=20.0)
    rep = m.steady_state()
    assert np.all(rep.status == "ok")
    _, x = m.simulate(rep.state * 1.2, 400.0, n_out=3)
    assert x.shape == (3, 2, 5)
    # Starting 20 % above the steady state, the run returns towards it.
    err0 = np.abs(x[0] / rep.state - 1).max(axis=-1)
    err1 = np.abs(x[-1] / rep.state - 1).max(axis=-1)
    assert np.all(err1 < 0.1 * err0)


def test_beta_one_closed_form():
    # β = 1: dMIC/dt = 0 gives CUE·V_lb·w_b·L/(K_lb + L) = k_bd, so (Eq. 13, 16, 20)
    #   LMWC* = K_lb·k_bd / (CUE·V_lb·w_b − k_bd), independent of the input;
    # and input = respiration + leaching with R_h = (1 − CUE)/CUE·k_bd·MIC gives
    #   MIC* = CUE·(I − k_l·w_d·LMWC*) / ((1 − CUE)·k_bd).
    npp = np.array([0.5, 1.0, 2.0, 4.0])
    m = Millennial({"beta": 1.0}, temperature=20.0, clay_silt=20.0, npp=npp)
    rep = m.steady_state()
    assert np.all(rep.status == "ok")
    g = m.cue * m.vmax_lb * m.scalar_wb
    lmwc = 774.6 * 0.0045 / (g - 0.0045)
    mic = m.cue * (npp - 0.0015 * m.scalar_wd * lmwc) / ((1 - m.cue) * 0.0045)
    np.testing.assert_allclose(rep.state[:, 1], lmwc, rtol=1e-9)
    np.testing.assert_allclose(rep.state[:, 3], mic, rtol=1e-9)
    assert np.all(m.residual(rep.state) <= 1e-8)
    # The microbial collapse (MIC = 0) is a second, non-positive and unstable root.
    assert np.all(rep.n_found >= 2)
    collapsed = rep.states[0][~rep.positive[0]]
    assert collapsed.size and np.all(collapsed[:, 3] < 1e-10 * collapsed.max())


def test_steady_states_balance_over_a_batch():
    betas = np.linspace(1.0, 3.0, 5)[:, None, None]
    temps = np.array([5.0, 15.0, 25.0])[:, None]
    npp = per_day(np.array([200.0, 600.0, 1200.0]))
    m = Millennial({"beta": betas}, temperature=temps, npp=npp, clay_silt=20.0)
    rep = m.steady_state()
    assert rep.status.shape == (5, 3, 3)
    assert np.all(rep.status == "ok")
    assert np.all(m.residual(rep.state) <= 1e-8)
    assert np.all(np.abs(m.mass_balance_residual(rep.state)) <= 1e-8)
    assert np.all(rep.state > 0)
    # Batched = looped for one element.
    one = Millennial({"beta": 2.5}, temperature=25.0, npp=npp[1], clay_silt=20.0).steady_state()
    np.testing.assert_allclose(rep.state[3, 2, 1], one.state, rtol=1e-9)


def test_cue_knob_scales_effective_cue():
    m = Millennial(temperature=20.0)
    for f in (0.9, 1.1):
        np.testing.assert_allclose(m.perturbed("cue", f).cue, f * m.cue, rtol=1e-14)
    np.testing.assert_allclose(m.perturbed("input", 1.1).input, 1.1 * m.input, rtol=1e-15)
    assert SENSITIVITY_KNOBS == {"cue": ("cue_ref", "cue_t"), "input": ("npp",)}


def test_with_beta_keeps_the_steady_state():
    base = Millennial(temperature=20.0, clay_silt=20.0)
    x = base.steady_state().state
    for beta in (1.0, 1.5, 3.0):
        other = base.with_beta(beta, x[3])
        assert other.residual(x) <= 1e-12
        np.testing.assert_allclose(other.steady_state().state, x, rtol=1e-8)
    np.testing.assert_allclose(matched_rate_bd(0.0045, 2.0, 1.0, 6.0), 0.027, rtol=1e-15)


def _elasticity(model, knob, delta=0.1):
    lo = model.perturbed(knob, 1 - delta).steady_state()
    mid = model.steady_state()
    hi = model.perturbed(knob, 1 + delta).steady_state()
    assert lo.status == mid.status == hi.status == "ok"
    s = [model.soc(r.state) for r in (lo, mid, hi)]
    return (s[2] - s[0]) / (2 * delta * s[1])


def test_seed002_direction_matched_turnover():
    # He et al. (He et al. (2024)) Fig. 1 d–f conditions: MAT 20 °C, 20 % clay (here clay + silt).
    # Every β has the same steady state (rate_bd rescaled so the turnover flux is unchanged at
    # the β = 2 steady-state MIC), so only the exponent differs. He et al.'s (2024) direction: input
    # elasticity higher and CUE elasticity (in magnitude) lower for β > 1 than for β = 1.
    base = Millennial(temperature=20.0, clay_silt=20.0)
    mic = base.steady_state().state[3]
    e_in, e_cue = [], []
    for beta in (1.0, 1.5, 2.0, 2.5, 3.0):
        m = base.with_beta(beta, mic)
        e_in.append(_elasticity(m, "input"))
        e_cue.append(_elasticity(m, "cue"))
    e_in, e_cue = np.array(e_in), np.array(e_cue)
    assert np.all(np.diff(e_in) > 0)
    assert np.all(np.diff(np.abs(e_cue)) < 0)
    assert e_in[2] > e_in[0] and abs(e_cue[2]) < abs(e_cue[0])
    # Values computed with this module (regression pins, not published numbers). In Millennial
    # a higher CUE lowers SOC (negative elasticity) at these conditions.
    np.testing.assert_allclose(e_in[[0, 2]], [-0.194908, 0.366210], rtol=1e-4)
    np.testing.assert_allclose(e_cue[[0, 2]], [-1.149081, -0.497768], rtol=1e-4)


def test_seed002_direction_fixed_rate_bd():
    # Same comparison keeping rate_bd = 0.0045 for every β (the β = 1 steady state differs).
    e = {}
    for beta in (1.0, 2.0):
        m = Millennial({"beta": beta}, temperature=20.0, clay_silt=20.0)
        e[beta] = (_elasticity(m, "input"), _elasticity(m, "cue"))
    assert e[2.0][0] > e[1.0][0]
    assert abs(e[2.0][1]) < abs(e[1.0][1])
    np.testing.assert_allclose([e[1.0][0], e[2.0][0]], [0.218011, 0.366210], rtol=1e-4)


def test_unit_converters():
    np.testing.assert_allclose(per_year(per_day(500.0)), 500.0, rtol=1e-15)
    np.testing.assert_allclose(per_year(1.0), 365.0)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"params": {"beta": 0.5}}, "beta"),
        ({"params": {"beta": 3.5}}, "beta"),
        ({"params": {"beta": np.array([2.0, np.nan])}}, "beta"),
        ({"params": {"cue_ref": 1.2}}, "cue_ref"),
        ({"params": {"cue_ref": 0.0}}, "cue_ref"),
        ({"temperature": 35.0}, "cue"),  # 0.19 − 0.012·20 < 0
        ({"clay_silt": 120.0}, "clay_silt"),
        ({"clay_silt": -1.0}, "clay_silt"),
        ({"npp": -0.1}, "npp"),
        ({"moisture": 0.7}, "moisture"),  # above the porosity 0.6
        ({"params": {"rate_bd": -1.0}}, "rate_bd"),
        ({"params": {"nonsense": 1.0}}, "nonsense"),
        ({"ph": 15.0}, "ph"),
    ],
)
def test_invalid_inputs_raise(kwargs, field):
    params = kwargs.pop("params", None)
    with pytest.raises(InputDataError) as err:
        Millennial(params, **kwargs)
    assert err.value.field == field


def test_error_messages_name_parameter_range_and_value():
    with pytest.raises(InputDataError, match=r"beta.*\[1, 3\].*got 3\.5"):
        Millennial({"beta": 3.5})
    with pytest.raises(InputDataError, match=r"clay_silt.*\(0, 100\].*got 120"):
        Millennial(clay_silt=120.0)
    with pytest.raises(InputDataError, match=r"carbon use efficiency.*\(0, 1\)"):
        Millennial(temperature=40.0)
    with pytest.raises(InputDataError, match="last axis of length 5"):
        Millennial().rhs(np.ones(4))
    with pytest.raises(InputDataError, match="knob"):
        Millennial().perturbed("temperature", 1.1)


def test_factory_protocol_takes_forcing_in_params():
    # factory(overrides) -> model (the sensitivity code's protocol): the input knob is a forcing.
    m = Millennial({"npp": 2.0, "beta": 1.5}, temperature=20.0)
    assert m.params["npp"] == 2.0 and m.params["beta"] == 1.5
    np.testing.assert_array_equal(m.input, 2.0)
    with pytest.raises(InputDataError, match="give it once") as err:
        Millennial({"npp": 2.0}, npp=1.0)
    assert err.value.field == "npp"
    batch = Millennial({"npp": np.array([1.0, 2.0])}, temperature=20.0)
    assert batch.batch_shape == (2,)


def test_clay_silt_from_clay_follows_the_reference_texture_series():
    # rabramoff/Millennial, Fortran/MillennialV1/simulation/soilpara_in{10..80}clay (commit
    # 2a77a4f): clay 0.1/0.2/0.4/0.8 with silt 0.45/0.4/0.3/0.1 (sand = silt); exact.
    from wholesoil.models._millennial import SEED002_FORCING, clay_silt_from_clay

    np.testing.assert_allclose(clay_silt_from_clay([10.0, 20.0, 40.0, 80.0]),
                               [10 + 45, 20 + 40, 40 + 30, 80 + 10], rtol=0, atol=1e-12)
    # limiting cases: no clay -> half silt; all clay -> 100 %
    np.testing.assert_allclose(clay_silt_from_clay([0.0, 100.0]), [50.0, 100.0], atol=1e-12)
    # He et al. (2024) Fig. 1: clay 20 % -> Millennial's clay + silt 60 %
    assert SEED002_FORCING["clay_silt"] == 60.0
    with pytest.raises(InputDataError, match=r"clay.*\[0, 100\].*got 120"):
        clay_silt_from_clay(120.0)
