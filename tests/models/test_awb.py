"""Allison, Wallenstein & Bradford (2010) model: steady state, exponents, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from wholesoil.errors import InputDataError
from wholesoil.models._awb import AWBModel

# Allison et al. (2010) initial pools of their spin-up (S, D, B, E) [mg C cm-3]: an independent
# start for the ODE integration.
AWB_INITIAL = np.array([100.0, 0.5, 0.5, 0.01])


def test_published_steady_state_at_20c():
    # The 20 °C steady state of the published parameters, the initial values of the SoilR
    # implementation AWBmodel (Sierra et al. 2012, SoilR 1.1): B 2.19159, E 0.0109579,
    # S 111.876 mg C cm-3.
    s, _d, b, e = AWBModel().closed_form().state
    assert_allclose([s, b, e], [111.876, 2.19159, 0.0109579], rtol=1e-5)


@pytest.mark.parametrize("beta, beta_enz, temperature",
                         [(1.0, 1.0, 20.0), (1.5, 1.0, 20.0), (1.0, 0.5, 20.0),
                          (0.5, 1.0, 25.0), (1.0, 1.5, 25.0)])
def test_closed_form_equals_ode_integration(beta, beta_enz, temperature):
    # Independent reference: integrate A5 (LSODA) from AWB's initial pools for 10^8 h.
    m = AWBModel({"beta": beta, "beta_enz": beta_enz}, temperature=temperature)
    cf = m.closed_form().state
    _, x = m.simulate(AWB_INITIAL, 1e8)
    assert m.relative_residual(x[-1]) < 1e-8
    assert m.relative_residual(cf) < 1e-12
    assert_allclose(cf, x[-1], rtol=1e-6)


def test_robust_solver_agrees_and_is_batched():
    m = AWBModel({"beta": np.array([1.0, 1.5, 1.0]), "beta_enz": np.array([1.0, 1.0, 0.5])},
                 temperature=np.array([20.0, 20.0, 25.0]))
    rep = m.steady_state()
    assert list(rep.status) == ["ok"] * 3
    assert_allclose(rep.state, m.closed_form().state, rtol=1e-9)


def test_linear_model_input_independent_and_cue_elasticity_closed_form():
    # A8 with β = β_enz = 1: S* does not depend on the input; A9 gives d ln S / d ln CUE.
    m = AWBModel({"input_soc": np.array([5e-4, 1e-3]), "input_doc": np.array([5e-4, 1e-3])})
    s = m.closed_form().state[..., 0]
    assert_allclose(s[0], s[1], rtol=1e-12)
    base = AWBModel()
    s0, _, b0, e0 = base.closed_form().state
    p = base.params
    x = float(p["input_soc"] + p["mic_to_soc"] * p["r_death"] * b0)
    phi = float(p["mic_to_soc"] * p["r_death"] * b0) / x
    ve = float(base.v_max) * e0
    analytic = -(1 - phi) / (1 - float(base.cue)) * ve / (ve - x)
    h = 1e-6
    up = AWBModel({"cue0": 0.63 * (1 + h), "cue_slope": -0.016 * (1 + h)})
    dn = AWBModel({"cue0": 0.63 * (1 - h), "cue_slope": -0.016 * (1 - h)})
    numeric = (up.closed_form().state[0] - dn.closed_form().state[0]) / (2 * h * s0)
    assert_allclose(numeric, analytic, rtol=1e-6)


@pytest.mark.parametrize("params, temperature, match", [
    ({"beta": 0.0}, 20.0, "beta"),
    ({"beta_enz": -1.0}, 20.0, "beta_enz"),
    ({"cue0": 1.5, "cue_slope": 0.0}, 20.0, "cue"),
    ({"cue0": -0.1, "cue_slope": 0.0}, 20.0, "cue"),
    ({}, 45.0, "temperature"),
    ({}, -20.0, "temperature"),
    ({"nonsense": 1.0}, 20.0, "unknown"),
])
def test_bad_input_is_a_clear_error(params, temperature, match):
    with pytest.raises(InputDataError, match=match):
        AWBModel(params, temperature=temperature)


def test_no_positive_steady_state_says_so():
    # Enzymes too slow to decompose the SOC supply: V_max·E* < I_S + a·DEATH*.
    m = AWBModel({"v_max0": 1e6})
    assert not bool(m.closed_form().exists)
    with pytest.raises(InputDataError, match="no positive steady state"):
        m.require_steady_state()
    assert m.steady_state().status[()] != "ok"


@pytest.mark.parametrize(("beta", "beta_enz"), [(1.0, 1.0), (1.0, 0.5), (1.5, 1.0)])
def test_soc_proportional_to_km_so_sensitivities_do_not_depend_on_it(beta, beta_enz):
    # Closed form A7-A8 (Allison et al. 2010 equations): B*, E* and the SOC supply X do not
    # involve K_m, so S* = K_m·X/(V_max·E* - X) is proportional to K_m for every exponent and
    # the elasticities to CUE and input are the same for any K_m(T) (e.g. SoilR's AWBmodel
    # default K_m,slope 0.5 instead of Supplementary Table 1's 5). Exact up to round-off.
    f = np.array([0.9, 1.0, 1.1, 0.9, 1.0, 1.1])
    cue = np.where(np.arange(6) < 3, f, 1.0)
    inp = np.where(np.arange(6) >= 3, f, 1.0)

    def soc(km0, km_slope):
        m = AWBModel({"beta": beta, "beta_enz": beta_enz, "km0": km0, "km_slope": km_slope,
                      "cue0": 0.63 * cue, "cue_slope": -0.016 * cue,
                      "input_soc": 5e-4 * inp, "input_doc": 5e-4 * inp}, temperature=20.0)
        return m.soc(m.require_steady_state())

    published, other = soc(500.0, 5.0), soc(500.0, 0.5)
    assert_allclose(other / published, 510.0 / 600.0, rtol=1e-10)
