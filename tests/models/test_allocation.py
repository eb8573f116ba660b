"""Litter input profiles (CTSM SoilBiogeochemVerticalProfileMod.F90: Jackson β root profile and
exp(−10 z) surface profile) against closed forms."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from wholesoil.errors import InputDataError
from wholesoil.models._allocation import input_layer_mask, input_profiles
from wholesoil.models._vertical import clm5_grid

G = clm5_grid()


@given(
    st.floats(0.5, 0.9999),
    st.one_of(st.just(np.nan), st.floats(0.0, 10.0)),
    st.floats(0.0, 10.0),
    st.integers(1, 20),
)
def test_profiles_integrate_to_one(b, alt, alt_last, nbedrock):
    root, surf = input_profiles(G, b, alt, alt_last, nbedrock)
    assert_allclose((root * G.dz).sum(), 1.0, rtol=1e-12)
    assert_allclose((surf * G.dz).sum(), 1.0, rtol=1e-12)
    assert np.all(root >= 0) and np.all(surf >= 0)
    assert np.all(root[nbedrock:] == 0) and np.all(surf[nbedrock:] == 0)


def test_root_profile_is_the_jackson_cumulative_fraction():
    # Without truncation the cumulative share above the bottom of layer k is
    # (1 − β^(100 z_k)) / (1 − β^(100·8.6)) (Jackson et al. 1996, Y = 1 − β^d with d in cm).
    b = 0.95
    root, _ = input_profiles(G, b, np.nan, np.nan, 20)
    cum = np.cumsum(root * G.dz)
    assert_allclose(cum, (1 - b ** (100 * G.z_bottom)) / (1 - b**860), rtol=1e-12)
    assert_allclose(root[0], (1 - b**2) / (1 - b**860) / 0.02, rtol=1e-12)


def test_surface_profile_is_exp_minus_10_z_node():
    _, surf = input_profiles(G, 0.9, np.nan, np.nan, 20)
    share = surf * G.dz
    assert_allclose(share / share[0], np.exp(-10 * (G.z_node - G.z_node[0])), rtol=1e-12)
    assert_allclose(share.sum(), 1.0, rtol=1e-14)


def test_truncation_at_active_layer_and_bedrock():
    # alt = max(0.3, 0.5) = 0.5 m: nodes 0.01 … 0.40 m (6 layers) are thawed.
    mask = input_layer_mask(G, 0.3, 0.5, 20)
    assert mask.sum() == 6 and mask[:6].all()
    root, surf = input_profiles(G, 0.9, 0.3, 0.5, 20)
    b = 0.9
    expected = (b ** (100 * G.z_top[:6]) - b ** (100 * G.z_bottom[:6])) / (1 - b**48)
    assert_allclose(root[:6] * G.dz[:6], expected, rtol=1e-12)
    assert_allclose(root[6:], 0.0)
    assert_allclose(surf[6:], 0.0)
    # Frozen to the surface: everything into the top layer (CTSM, PRODA): 1/dz_1 = 50 m⁻¹.
    root, surf = input_profiles(G, 0.9, 0.0, 0.0, 20)
    assert_allclose(root, np.r_[50.0, np.zeros(19)])
    assert_allclose(surf, np.r_[50.0, np.zeros(19)])
    # Bedrock after 5 layers.
    root, _ = input_profiles(G, 0.9, np.nan, np.nan, 5)
    assert_allclose(root[5:], 0.0)
    assert_allclose((root * G.dz).sum(), 1.0)


def test_batched_and_errors():
    b = np.array([[0.6], [0.97]])  # 2 parameter sets × 3 sites
    alt = np.array([np.nan, 1.0, 0.0])
    root, surf = input_profiles(G, b, alt, alt, np.array([20, 15, 20]))
    assert root.shape == surf.shape == (2, 3, 20)
    assert_allclose(root[1, 1], input_profiles(G, 0.97, 1.0, 1.0, 15)[0], rtol=1e-15)
    assert_allclose((root * G.dz).sum(-1), 1.0, rtol=1e-12)
    with pytest.raises(InputDataError, match=r"b must be in \(0, 1\).*got 1.0"):
        input_profiles(G, 1.0, np.nan, np.nan, 20)
