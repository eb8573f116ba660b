"""Root distributions: Jackson et al. (1996) β and Schenk & Jackson (2002) logistic.

Reference values are closed forms of the published equations (module docstring Eqs. 1–2).
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from wholesoil.depth._roots import (
    JACKSON_1996_BETA,
    SCHENK_JACKSON_C,
    jackson_beta,
    jackson_cumulative,
    root_fractions,
    schenk_jackson_c,
    schenk_jackson_cumulative,
)
from wholesoil.errors import InputDataError

SEED004_TOP = np.array([0, 20, 40, 60, 80, 100, 150.0])
SEED004_BOTTOM = np.array([20, 40, 60, 80, 100, 150, 200.0])


def test_jackson_table_values():
    # Jackson et al. 1996 abstract: tundra, boreal forest, temperate grassland shallowest;
    # desert 0.975, temperate coniferous forest 0.976 deepest; global mean 0.966.
    assert JACKSON_1996_BETA["boreal_forest"] == 0.943
    assert JACKSON_1996_BETA["temperate_grassland"] == 0.943
    assert JACKSON_1996_BETA["desert"] == 0.975
    assert JACKSON_1996_BETA["temperate_coniferous_forest"] == 0.976
    assert len(JACKSON_1996_BETA) == 12  # 11 biomes + "all"
    assert jackson_beta("Tropical grassland/savanna") == 0.972
    with pytest.raises(InputDataError, match=r"unknown vegetation type.*'mangrove'"):
        jackson_beta("mangrove")


def test_jackson_cumulative_closed_form():
    # Y = 1 − β^d exactly; Jackson et al. 1996: β = 0.966 puts ~30 %, 50 %, 75 % of roots in
    # the top 10, 20, 40 cm.
    y = jackson_cumulative([0.0, 10.0, 20.0, 40.0, 100.0], 0.966)
    assert_allclose(y, 1.0 - 0.966 ** np.array([0.0, 10, 20, 40, 100]), rtol=1e-14)
    assert_allclose(y[1:4], [0.30, 0.50, 0.75], atol=0.01)
    assert y[0] == 0.0


def test_schenk_jackson_d50_d95():
    d50, d95 = np.array([15.0, 40.0]), np.array([60.0, 250.0])
    # Y(D50) = 1/2 exactly for any c
    assert_allclose(schenk_jackson_cumulative(d50, d50, d95), 0.5, rtol=1e-14)
    # published c = 2.94/ln(D50/D95): Y(D95) = 1/(1 + e^-2.94) exactly
    assert_allclose(schenk_jackson_cumulative(d95, d50, d95), 1 / (1 + np.exp(-2.94)), rtol=1e-14)
    # c from ln 19 gives exactly 0.95
    assert_allclose(schenk_jackson_cumulative(d95, d50, d95, np.log(19.0)), 0.95, rtol=1e-14)
    # c < 0 and Y rises with depth: the cumulative fraction ABOVE D
    assert np.all(schenk_jackson_c(d50, d95) < 0)
    y = schenk_jackson_cumulative(np.array([0.0, 1.0, 10.0, 100.0, 1e5])[:, None], d50, d95)
    assert np.all(np.diff(y, axis=0) > 0)
    assert np.all(y[0] == 0.0) and np.all(y[-1] > 0.999)
    assert SCHENK_JACKSON_C == 2.94
    with pytest.raises(InputDataError, match="D50 < D95"):
        schenk_jackson_c(50.0, 30.0)


def test_layer_fractions_sum_to_difference_of_cumulative():
    beta = np.array([0.914, 0.966, 0.976])
    r = root_fractions(SEED004_TOP, SEED004_BOTTOM, beta=beta)
    assert r.fraction.shape == (3, 7)
    assert_allclose(r.fraction.sum(-1), 1 - beta**200, rtol=1e-12)
    assert_allclose(r.below, beta**200, rtol=1e-12, atol=1e-15)  # 1 − Y cancels
    assert_allclose(r.above, 0.0)
    # one layer by hand: 20–40 cm = β^20 − β^40
    assert_allclose(r.fraction[:, 1], beta**20 - beta**40, rtol=1e-12)
    # a layer set that does not start at the surface
    r2 = root_fractions([30.0, 50.0], [50.0, 90.0], d50=20.0, d95=80.0)
    y = schenk_jackson_cumulative([30.0, 90.0], 20.0, 80.0)
    assert_allclose(r2.fraction.sum(), y[1] - y[0], rtol=1e-12)
    assert_allclose(r2.above, y[0], rtol=1e-12)
    assert_allclose(r2.below, 1 - y[1], rtol=1e-12)


def test_draws_by_profiles_broadcast():
    # (D, P) parameters with (L,) layers give (D, P, L)
    beta = np.full((4, 2), 0.95)
    r = root_fractions(SEED004_TOP, SEED004_BOTTOM, beta=beta)
    assert r.fraction.shape == (4, 2, 7)
    assert r.below.shape == (4, 2)


def test_max_depth_renormalizes():
    r = root_fractions(SEED004_TOP, SEED004_BOTTOM, beta=0.98, max_depth=100.0)
    assert_allclose(r.fraction.sum(), 1.0, rtol=1e-12)
    assert_allclose(r.fraction[5:], 0.0)
    assert_allclose(r.fraction[0], (1 - 0.98**20) / (1 - 0.98**100), rtol=1e-12)
    assert r.below == 0.0


def test_bad_layers():
    with pytest.raises(InputDataError, match="bottom > top"):
        root_fractions([0.0, 30.0], [20.0, 30.0], beta=0.96)
    with pytest.raises(InputDataError, match="depth ≥ 0"):
        root_fractions([-5.0], [20.0], beta=0.96)
    with pytest.raises(InputDataError, match="either beta"):
        root_fractions([0.0], [20.0])
    with pytest.raises(InputDataError, match="0 < β < 1"):
        jackson_cumulative(10.0, 1.2)
