"""Environmental scalars against their closed forms (CTSM SoilBiogeochemDecompCascadeBGCMod.F90
formulas as listed in shared/specs/process-models.md)."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from wholesoil.errors import InputDataError
from wholesoil.models._scalars import (
    century_normalization,
    decomposition_scalar,
    depth_scalar,
    oxygen_scalar,
    temperature_scalar,
    water_scalar,
)
from wholesoil.models._vertical import clm5_grid


@given(st.floats(1.01, 5.0))
def test_temperature_scalar_is_one_at_25C(q10):
    # Baseline rates apply at 25 °C: ξ_T(25) = q10^0 = 1 for every q10.
    assert_allclose(temperature_scalar(np.full(20, 25.0), q10), 1.0, rtol=0, atol=1e-15)


def test_temperature_scalar_closed_forms():
    q10 = 1.5
    t = np.array([35.0, 15.0, 5.0, 0.0, -10.0, -20.0])
    xi = temperature_scalar(t, q10, froz_q10=2.0)
    expected = [1.5, 1 / 1.5, 1.5**-2, 1.5**-2.5, 1.5**-2.5 / 2.0, 1.5**-2.5 / 4.0]
    assert_allclose(xi, expected, rtol=1e-14)
    # Continuous at 0 °C: just below equals the value at 0.
    assert_allclose(temperature_scalar(-1e-12, q10), 1.5**-2.5, rtol=1e-12)


def test_century_normalization_is_0_8206_for_q10_1_5():
    # Spec: "CTSM by default multiplies ξ_T by 0.8206 (normalize_q10_to_century_tfunc)".
    assert_allclose(century_normalization(1.5), 0.8206, atol=1e-4)
    catanf = lambda t: 11.75 + (29.7 / math.pi) * math.atan(math.pi * 0.031 * (t - 15.4))  # noqa: E731
    exact = catanf(15) / catanf(30) / 2.0**-1.0
    assert_allclose(century_normalization(2.0), exact, rtol=1e-14)
    assert_allclose(
        temperature_scalar(25.0, 1.5, normalize_century=True), century_normalization(1.5)
    )


def test_temperature_scalar_batches_over_parameter_sets():
    tsoi = np.linspace(-5, 30, 20)[None, :].repeat(3, axis=0)  # 3 sites
    q10 = np.array([[1.2], [2.0]]) * np.ones((2, 3))  # 2 parameter sets × 3 sites
    xi = temperature_scalar(tsoi, q10)
    assert xi.shape == (2, 3, 20)
    for i in range(2):
        assert_allclose(xi[i, 1], temperature_scalar(tsoi[1], q10[i, 1]), rtol=1e-15)


def test_water_scalar_closed_forms():
    psi = np.array([-0.002, -2.0, -0.2, -0.02, -0.001, 0.0, -3.0])
    # ln(-2/ψ)/ln(1000): ψ = -0.2 → 1/3, ψ = -0.02 → 2/3; 1 above maxpsi, 0 at/below minpsi.
    assert_allclose(water_scalar(psi), [1, 0, 1 / 3, 2 / 3, 1, 1, 0], rtol=1e-14, atol=1e-15)
    assert_allclose(water_scalar(-0.2, w_scaling=2.0), 2 / 3, rtol=1e-14)
    assert_allclose(water_scalar(-0.2, w_scaling=5.0), 1.0)  # PRODA caps at 1
    assert_allclose(water_scalar(-0.2, w_scaling=0.0), 0.0)


@given(st.floats(-10.0, 0.5), st.floats(0.0, 5.0))
def test_water_scalar_in_unit_interval(psi, w):
    xi = water_scalar(np.array([psi]), w_scaling=w)
    assert 0.0 <= xi[0] <= 1.0


def test_depth_and_oxygen_scalars():
    g = clm5_grid()
    assert_allclose(depth_scalar(g.z_node, 10.0), np.exp(-g.z_node / 10.0), rtol=1e-15)
    assert_allclose(depth_scalar(g.z_node, 10.0)[-1], math.exp(-0.803), rtol=1e-14)
    assert_allclose(depth_scalar(g.z_node, np.inf), 1.0)
    assert depth_scalar(g.z_node, np.array([0.5, 1.0, 10.0])).shape == (3, 20)
    with pytest.raises(InputDataError, match=r"efolding must be > 0.*got -1.0"):
        depth_scalar(g.z_node, -1.0)
    assert oxygen_scalar(None) == 1.0
    assert_allclose(oxygen_scalar(np.array([0.0, 0.1, 0.2, 0.5, 1.0])), [0.2, 0.2, 0.2, 0.5, 1])
    with pytest.raises(InputDataError, match="o_scalar"):
        oxygen_scalar(np.array([1.5]))


def test_bad_parameters_are_named():
    with pytest.raises(InputDataError, match=r"q10 must be > 0.*got -1.0"):
        temperature_scalar(10.0, -1.0)
    with pytest.raises(InputDataError, match="w_scaling"):
        water_scalar(-0.1, w_scaling=-0.5)


def test_decomposition_scalar_is_mean_of_monthly_products():
    # Tao et al. (EarthArXiv) §2.2: the steady state uses the time mean of ξ(t), not ξ of the mean forcing.
    g = clm5_grid()
    rng = np.random.default_rng(0)
    tsoi = rng.uniform(-10, 30, size=(12, 20))
    psi = -rng.uniform(0.001, 3, size=(12, 20))
    xi = decomposition_scalar(
        tsoi, psi, g.z_node, q10=2.0, w_scaling=1.5, efolding=0.5, month_axis=True
    )
    monthly = (
        temperature_scalar(tsoi, 2.0, froz_q10=2.0)
        * water_scalar(psi, w_scaling=1.5)
        * depth_scalar(g.z_node, 0.5)
    )
    assert_allclose(xi, monthly.mean(axis=0), rtol=1e-14)
    of_mean = decomposition_scalar(
        tsoi.mean(0), psi.mean(0), g.z_node, q10=2.0, w_scaling=1.5, efolding=0.5
    )
    assert not np.allclose(xi, of_mean)
    # batched parameters with a months axis: (2 sets, 12 months, 20 layers) → (2, 20)
    xb = decomposition_scalar(
        tsoi, psi, g.z_node, q10=np.array([2.0, 1.5]), w_scaling=1.5, efolding=0.5, month_axis=True
    )
    assert xb.shape == (2, 20)
    assert_allclose(xb[0], xi, rtol=1e-14)
