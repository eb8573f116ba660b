"""Bio-/cryoturbation diffusivity (CTSM SoilBiogeochemLittVertTranspMod.F90 rules, spec values)
and the Patankar mixing operator against closed forms: mass conservation, series conductance of
two half-layers, the uniform-grid second difference."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose

from wholesoil.errors import InputDataError
from wholesoil.models._transport import (
    diffusivity,
    mixing_apply,
    mixing_matrix,
    mixing_operator,
)
from wholesoil.models._vertical import VerticalGrid, clm5_grid

G = clm5_grid()


def test_bioturbation_without_permafrost():
    d = diffusivity(G, np.nan, np.nan, 20, bioturbation=1e-4, cryoturbation=5e-4)
    assert_allclose(d, 1e-4, rtol=0)
    d = diffusivity(G, 8.0, 3.0, 12)  # ALT > 2 m: bioturbation; bedrock below layer 12
    assert_allclose(d[:12], 1e-4)
    assert_allclose(d[12:], 0.0)


def test_frozen_column_has_no_mixing():
    assert_allclose(diffusivity(G, 0.0, 0.0, 20), 0.0)


def test_cryoturbation_profile():
    # alt = max(0.6, 1.0) = 1.0 m ≤ 2 m: 5e-4 where the layer bottom is above 1 m, then
    # 5e-4·(1 − (z_bottom − 1)/(3 − 1)) down to 0 at 3 m (spec; Koven et al. 2009 as in CTSM).
    d = diffusivity(G, 0.6, 1.0, 20, cryoturbation=5e-4)
    zb = G.z_bottom
    expected = np.where(zb < 1.0, 5e-4, np.maximum(5e-4 * (1 - (zb - 1.0) / 2.0), 0.0))
    assert_allclose(d, expected, rtol=1e-14)
    assert_allclose(d[:8], 5e-4)  # bottoms 0.02 … 0.92 m
    assert_allclose(d[8], 4.5e-4)  # bottom 1.20 m
    assert_allclose(d[12], 5e-4 * (1 - 1.72 / 2))  # bottom 2.72 m
    assert_allclose(d[13:], 0.0)  # bottoms ≥ 3.26 m
    # Bedrock shallower than 3 m: the decline ends at the bedrock surface (z_bottom[11] = 2.28 m).
    d = diffusivity(G, 1.0, 1.0, 12)
    assert_allclose(d[8], 5e-4 * (1 - 0.2 / 1.28), rtol=1e-14)
    assert_allclose(d[12:], 0.0)
    # 2 m is still cryoturbation, just deeper is bioturbation.
    assert_allclose(diffusivity(G, 2.0, 0.0, 20)[0], 5e-4)
    assert_allclose(diffusivity(G, 2.01, 0.0, 20)[0], 1e-4)


def test_diffusivity_batched():
    alt = np.array([np.nan, 1.0, 0.0])
    nb = np.array([20, 20, 20])
    bio = np.array([[1e-4], [2e-4]])  # 2 parameter sets × 3 sites
    d = diffusivity(G, alt, alt, nb, bioturbation=bio, cryoturbation=np.array([[5e-4], [8e-4]]))
    assert d.shape == (2, 3, 20)
    assert_allclose(d[1, 0], 2e-4)
    assert_allclose(d[1, 1, 0], 8e-4)
    assert_allclose(d[:, 2], 0.0)


def test_bad_inputs_named():
    with pytest.raises(InputDataError, match=r"nbedrock.*got 0.0"):
        diffusivity(G, 1.0, 1.0, 0)
    with pytest.raises(InputDataError, match="nbedrock"):
        diffusivity(G, 1.0, 1.0, 3.5)
    with pytest.raises(InputDataError, match=r"bioturbation must be >= 0.*got -1"):
        diffusivity(G, 1.0, 1.0, 20, bioturbation=-1.0)
    with pytest.raises(InputDataError, match="layers"):
        mixing_operator(G, np.ones(19))
    with pytest.raises(InputDataError, match="D must be >= 0"):
        mixing_operator(G, -np.ones(20))


D_STRAT = arrays(np.float64, 20, elements=st.one_of(st.just(0.0), st.floats(1e-6, 2e-3)))


@settings(max_examples=60)
@given(D_STRAT)
def test_mixing_conserves_mass(d):
    v = mixing_matrix(G, d)
    # Σ_j dz_j V_jk = 0: mixing neither creates nor destroys carbon.
    assert_allclose(G.dz @ v, 0.0, atol=1e-14 * max(1.0, np.abs(v).max()))
    # Uniform concentration → no flux (zero-flux boundaries, no source).
    assert_allclose(v @ np.ones(20), 0.0, atol=1e-14 * max(1.0, np.abs(v).max()))
    assert np.all(np.diag(v) >= 0)
    off = v - np.diag(np.diag(v))
    assert np.all(off <= 0)
    # dz-weighted symmetry: dz_j V_{j,j+1} = dz_{j+1} V_{j+1,j}
    i = np.arange(19)
    assert_allclose(G.dz[i] * v[i, i + 1], G.dz[i + 1] * v[i + 1, i], rtol=1e-13, atol=0)


def test_mixing_series_conductance_closed_form():
    # Interface conductance = 1 / (resistance of the half-layer above + the half-layer below):
    # (z_bottom_j − z_node_j)/D_j + (z_node_{j+1} − z_bottom_j)/D_{j+1}  (Patankar 1980 Eq. 4.9).
    d = np.geomspace(1e-5, 1e-3, 20)
    lower, _diag, upper = mixing_operator(G, d)
    r = (G.z_bottom[:-1] - G.z_node[:-1]) / d[:-1] + (G.z_node[1:] - G.z_bottom[:-1]) / d[1:]
    assert_allclose(-upper[:-1] * G.dz[:-1], 1.0 / r, rtol=1e-13)
    assert_allclose(-lower[1:] * G.dz[1:], 1.0 / r, rtol=1e-13)
    assert lower[0] == 0.0 and upper[-1] == 0.0


def test_uniform_grid_is_the_second_difference():
    h, n, dval = 0.1, 6, 3e-4
    top = np.arange(n) * h
    grid = VerticalGrid(dz=np.full(n, h), z_node=top + h / 2, z_top=top, z_bottom=top + h)
    v = mixing_matrix(grid, np.full(n, dval))
    lap = 2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    lap[0, 0] = lap[-1, -1] = 1  # Neumann (zero-flux) ends
    assert_allclose(v, dval / h**2 * lap, rtol=1e-13)


def test_no_flux_into_bedrock_or_frozen():
    d = diffusivity(G, np.nan, np.nan, 8)
    v = mixing_matrix(G, d)
    assert_allclose(v[8:, :], 0.0)
    assert_allclose(v[:, 8:], 0.0)
    assert_allclose(mixing_matrix(G, diffusivity(G, 0.0, 0.0, 20)), 0.0)


def test_batched_bands_and_apply():
    rng = np.random.default_rng(1)
    d = rng.uniform(0, 1e-3, size=(4, 3, 20))
    bands = mixing_operator(G, d)
    dense = mixing_matrix(G, d)
    x = rng.uniform(0, 1e4, size=(4, 3, 20))
    assert_allclose(mixing_apply(bands, x), np.einsum("...ij,...j->...i", dense, x), rtol=1e-12)
    for k in range(3):
        assert_allclose(dense[2, k], mixing_matrix(G, d[2, k]), rtol=0)
    # Mass of V·x weighted by dz vanishes for every batch member.
    assert_allclose((mixing_apply(bands, x) * G.dz).sum(-1), 0.0, atol=1e-9)
