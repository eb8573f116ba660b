"""System-level diagnostics, Tao et al. (EarthArXiv) Eqs. 10–14.

Reference values are computed by hand in the comments; the PRODA comparisons transcribe the
arithmetic of ``phxtao/PRODA_PUBLIC`` ``SRC_DA/src_cesm2_clm5_cen_vr_v2/fun_bulk_process.m``
(``bulk_A``, ``bulk_K``, ``bulk_Xi``, ``bulk_V``, ``bulk_I``) into numpy, loop for loop.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from wholesoil.errors import InputDataError
from wholesoil.models._diagnostics import (
    bulk_decomposition_rate,
    carbon_transfer_efficiency,
    environmental_scalar_system,
    input_allocation_index,
    system_diagnostics,
    vertical_transport_system,
)
from wholesoil.models._vertical import clm5_grid

GRID = clm5_grid()


# ------------------------------------------------------------------------------------------------
# Eq. 10


def test_cte_hand_computed():
    # 3 pools × 2 layers. Donor out-fractions Σ_i a_ij = (0.8, 0.5, 0).
    # F_j = k_j Σ_z x_jz ξ_z Δz with ξ = (1, 0.5), Δz = (0.1, 0.2):
    # F_0 = 1·(1·1·0.1 + 2·0.5·0.2) = 0.3; F_1 = 0.5·(3·0.1) = 0.15; F_2 = 0.1·(4·0.5·0.2) = 0.04
    # CTE = (0.8·0.3 + 0.5·0.15 + 0·0.04) / 0.49 = 0.315 / 0.49 = 9/14
    a = [[-1.0, 0.0, 0.0], [0.6, -1.0, 0.0], [0.2, 0.5, -1.0]]
    x = [[1.0, 2.0], [3.0, 0.0], [0.0, 4.0]]
    cte = carbon_transfer_efficiency(a, x, [1.0, 0.5, 0.1], [1.0, 0.5], [0.1, 0.2])
    assert_allclose(cte, 9 / 14, rtol=1e-15)


@given(st.floats(0, 1), st.integers(0, 2**32 - 1))
def test_cte_uniform_efficiency_and_bounds(c, seed):
    # Limiting case: every donor passes on the same fraction c → CTE = c whatever the pools.
    # In general CTE is a weighted mean of the donors' out-fractions.
    rng = np.random.default_rng(seed)
    n, nl = 4, 5
    x = rng.uniform(0, 10, size=(n, nl))
    k = rng.uniform(0.01, 5, size=n)
    xi = rng.uniform(0.1, 1, size=nl)
    dz = rng.uniform(0.01, 1, size=nl)
    w = rng.uniform(0, 1, size=(n, n)) + 1e-3
    np.fill_diagonal(w, 0)
    a = w / w.sum(axis=0) * c - np.eye(n)
    assert_allclose(carbon_transfer_efficiency(a, x, k, xi, dz), c, rtol=1e-12, atol=1e-15)
    f = rng.uniform(0, 1, size=n)
    a = w / w.sum(axis=0) * f - np.eye(n)
    cte = carbon_transfer_efficiency(a, x, k, xi, dz)
    assert f.min() - 1e-12 <= cte <= f.max() + 1e-12


# ------------------------------------------------------------------------------------------------
# Eqs. 11–13


def test_k_bulk_v_xi_hand_computed():
    # Eq. 11: stocks X = (3, 1) g C m⁻² (x·Δz), k = (1, 0.1) → (3 + 0.1)/4 = 0.775 yr⁻¹
    assert_allclose(bulk_decomposition_rate([1.0, 0.1], [[30.0], [10.0]], [0.1]), 0.775)
    # same stocks split over two layers of unequal thickness: x·Δz = (1 + 2, 0.5 + 0.5)
    x = [[10.0, 10.0], [5.0, 2.5]]
    assert_allclose(bulk_decomposition_rate([1.0, 0.1], x, [0.1, 0.2]), 0.775, rtol=1e-15)
    # Eq. 12: S_z = soc·Δz = (1, 3), v = (2, 1) → (2 + 3)/4 = 1.25 yr⁻¹
    assert_allclose(vertical_transport_system([2.0, 1.0], [10.0, 15.0], [0.1, 0.2]), 1.25)
    # Eq. 13: ξ = (0.8, 0.4) → (0.8 + 1.2)/4 = 0.5
    assert_allclose(environmental_scalar_system([0.8, 0.4], [10.0, 15.0], [0.1, 0.2]), 0.5)


def test_weighted_means_limits():
    rng = np.random.default_rng(1)
    soc = rng.uniform(0, 100, size=(3, 20))
    # constant per-layer value → that value; one pool → its rate; scale invariance in x
    assert_allclose(environmental_scalar_system(np.full(20, 0.37), soc, GRID.dz), 0.37)
    assert_allclose(vertical_transport_system(np.full(20, 2e-3), soc, GRID.dz), 2e-3)
    assert_allclose(bulk_decomposition_rate([0.2], soc[:1, None, :], GRID.dz), [0.2])
    x = rng.uniform(0, 50, size=(3, 20))
    k = [7.3, 0.2, 1 / 222]
    assert_allclose(
        bulk_decomposition_rate(k, 1000 * x, GRID.dz), bulk_decomposition_rate(k, x, GRID.dz)
    )
    # all SOC in one layer → that layer's value
    one = np.zeros(20)
    one[7] = 5.0
    xi = np.linspace(1, 0.1, 20)
    assert_allclose(environmental_scalar_system(xi, one, GRID.dz), xi[7], rtol=1e-15)
    assert np.isnan(environmental_scalar_system(xi, np.zeros(20), GRID.dz))


# ------------------------------------------------------------------------------------------------
# Eq. 14


def test_b_system_hand_computed():
    # Layers 0–5, 5–10, 10–20 cm get 1/2, 1/4, 1/4 of the inputs: 1 − Y = 1/2 at 5 cm, 1/4 at
    # 10 cm (0 at 20 cm: left out). Terms 0.5^(1/5) and 0.25^(1/10) = 0.5^(1/5) → B = 0.5.
    b = input_allocation_index([10.0, 5.0, 2.5], [0.05, 0.05, 0.10])
    assert_allclose(b, 0.5, rtol=1e-14)
    # reference depth 1 cm gives the mean β itself
    b1 = input_allocation_index([10.0, 5.0, 2.5], [0.05, 0.05, 0.10], reference_depth_cm=1)
    assert_allclose(b1, 0.5**0.2, rtol=1e-14)


@pytest.mark.parametrize("beta", [0.9, 0.95, 0.99])
def test_b_system_of_a_jackson_profile_is_beta_to_the_5th(beta):
    # Jackson et al. (1996) on the CLM5 grid: layer share β^(100 z_top) − β^(100 z_bot), the
    # tail below 8.6 m put into the last layer, so 1 − Y_z = β^(100·z_bottom) exactly and every
    # term of Eq. 14 is β: B = β⁵ = the fraction below 5 cm (Tao et al.'s (EarthArXiv) reading of the index).
    share = beta ** (100 * GRID.z_top) - beta ** (100 * GRID.z_bottom)
    share[-1] = beta ** (100 * GRID.z_top[-1])
    b = input_allocation_index(share / GRID.dz, GRID.dz)
    assert_allclose(b, beta**5, rtol=1e-12)


def test_b_system_roundoff_tail_and_limits():
    # An exponential profile normalized over the grid: the last layer's 1 − Y is exactly 0 and
    # is left out (a rounding residue 1e-16 would add (1e-16)^(1/860) ≈ 0.96 to the mean). The
    # deep tails are summed directly (1 − cumsum would cancel to 0 or noise below ~3 m), and
    # every term is then close to e^(−0.1), the β equivalent of exp(−10 z): (e^(−10 D))^(1/100D).
    prof = np.exp(-10 * GRID.z_node)
    b = input_allocation_index(prof, GRID.dz, reference_depth_cm=1)
    amount = prof * GRID.dz
    below = np.array([amount[j + 1 :].sum() for j in range(19)]) / amount.sum()
    expected = np.mean(below ** (1 / (100 * GRID.z_bottom[:-1])))
    assert_allclose(b, expected, rtol=1e-12)
    assert_allclose(b, np.exp(-0.1), rtol=0.01)
    # everything in the top layer (0–2 cm): nothing below 5 cm → 0; no inputs → NaN
    top = np.zeros(20)
    top[0] = 1.0
    assert input_allocation_index(top, GRID.dz) == 0.0
    assert np.isnan(input_allocation_index(np.zeros(20), GRID.dz))
    # batched over sites
    bb = input_allocation_index(np.stack([prof, top]), GRID.dz)
    assert_allclose(bb, [input_allocation_index(prof, GRID.dz), 0.0])


def test_b_system_proda_bulk_i():
    # PRODA's bulk_I: cum = cumsum(vertical_input); cum(cum >= 1) = nan;
    # bulk_I = mean(exp(log(1 − cum)./(zsoi*100)), 'omitnan'): node depth, no 5th power.
    # Binary fractions keep cumsum exact, so PRODA's ">= 1" test is reliable here.
    share = np.zeros(20)
    share[:4] = [0.5, 0.25, 0.125, 0.125]
    cum = np.cumsum(share)
    cum[cum >= 1] = np.nan
    proda = np.nanmean(np.exp(np.log(1 - cum) / (GRID.z_node * 100)))
    b = input_allocation_index(share / GRID.dz, GRID.dz, depth=GRID.z_node, reference_depth_cm=1)
    assert_allclose(b, proda, rtol=1e-14)


# ------------------------------------------------------------------------------------------------
# all five together, against a transcription of PRODA's fun_bulk_process.m


def _proda_bulk(cpools, tau, f, xi_layer, v_diag, dz):
    """PRODA's bulk_A, bulk_K, bulk_Xi, bulk_V for one site (CLM5 order, 7 × 20)."""
    soc_layer = cpools[4:].sum(axis=0)
    w = soc_layer * dz / (soc_layer * dz).sum()
    bulk_k = np.sum(1 / tau[4:] * (cpools[4:] * dz).sum(axis=1) / (cpools[4:] * dz).sum())
    bulk_xi = np.sum(xi_layer * w)
    bulk_v = np.sum(v_diag * w)
    cue = [f["l1s1"], f["l2s1"], f["l3s2"], f["s1s2"], f["s1s3"], f["s2s1"], f["s2s3"], f["s3s1"]]
    donor = [1, 2, 3, 4, 4, 5, 5, 6]
    flow = np.array([np.sum(cpools[d] / tau[d] * xi_layer * dz) for d in donor])
    bulk_a = np.sum(np.array(cue) * flow) / flow[[0, 1, 2, 3, 5, 7]].sum()
    return bulk_a, bulk_k, bulk_xi, bulk_v


def test_system_diagnostics_match_proda_transcription():
    rng = np.random.default_rng(3)
    tau = np.array([3.33, 1 / 18.5, 1 / 4.9, 1 / 4.9, 1 / 7.3, 5.0, 222.0])
    f = {
        "cwdl2": 0.76,
        "cwdl3": 0.24,
        "l1s1": 0.45,
        "l2s1": 0.5,
        "l3s2": 0.5,
        "s1s2": 0.28,
        "s1s3": 0.004,
        "s2s1": 0.42,
        "s2s3": 0.03,
        "s3s1": 0.45,
    }
    names = ["cwd", "l1", "l2", "l3", "s1", "s2", "s3"]
    a = -np.eye(7)
    for key, val in f.items():
        donor, receiver = key[:-2], key[-2:]
        a[names.index(receiver), names.index(donor)] = val
    cpools = rng.uniform(0, 1, size=(7, 20)) * np.exp(-GRID.z_node)[None, :] * 1e4
    xi_layer = rng.uniform(0.1, 1, size=20)
    v_diag = rng.uniform(0, 0.05, size=20)
    inputs = np.exp(-3 * GRID.z_node)
    d = system_diagnostics(
        a,
        cpools,
        1 / tau,
        xi_layer,
        v_diag,
        inputs,
        GRID.dz,
        cte_pools=range(1, 7),
        soc_pools=(4, 5, 6),
    )
    bulk_a, bulk_k, bulk_xi, bulk_v = _proda_bulk(cpools, tau, f, xi_layer, v_diag, GRID.dz)
    assert_allclose(d.cte, bulk_a, rtol=1e-13)
    assert_allclose(d.k_bulk, bulk_k, rtol=1e-13)
    assert_allclose(d.xi_system, bulk_xi, rtol=1e-13)
    assert_allclose(d.v_system, bulk_v, rtol=1e-13)
    assert_allclose(d.b_system, input_allocation_index(inputs, GRID.dz), rtol=0)
    # batched: (2 sites, 3 parameter sets) equals element by element
    xb = cpools * rng.uniform(0.5, 2, size=(2, 3, 7, 1))
    kb = 1 / tau * rng.uniform(0.5, 2, size=(2, 3, 7))
    db = system_diagnostics(
        a, xb, kb, xi_layer, v_diag, inputs, GRID.dz, cte_pools=range(1, 7), soc_pools=(4, 5, 6)
    )
    assert db.cte.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            dij = system_diagnostics(
                a,
                xb[i, j],
                kb[i, j],
                xi_layer,
                v_diag,
                inputs,
                GRID.dz,
                cte_pools=range(1, 7),
                soc_pools=(4, 5, 6),
            )
            for got, want in zip(db, dij, strict=True):
                assert_allclose(got[i, j], want, rtol=1e-14)


# ------------------------------------------------------------------------------------------------
# errors


def test_bad_input_raises():
    a = [[-1.0, 0.0], [0.5, -1.0]]
    x = [[1.0, 2.0], [3.0, 4.0]]
    k, xi, dz = [1.0, 0.5], [1.0, 1.0], [0.1, 0.2]
    with pytest.raises(InputDataError, match=r"\[0, 1\]"):
        carbon_transfer_efficiency([[-1.0, 0.0], [1.5, -1.0]], x, k, xi, dz)
    with pytest.raises(InputDataError, match="sum to <= 1"):
        carbon_transfer_efficiency(
            [[-1, 0, 0], [0.7, -1, 0], [0.6, 0, -1]], np.ones((3, 2)), [1, 1, 1], xi, dz
        )
    with pytest.raises(InputDataError, match="dz must have 2 layers"):
        carbon_transfer_efficiency(a, x, k, xi, [0.1, 0.2, 0.3])
    with pytest.raises(InputDataError, match="dz must be > 0"):
        bulk_decomposition_rate(k, x, [0.1, 0.0])
    with pytest.raises(InputDataError, match="x must be >= 0") as e:
        bulk_decomposition_rate(k, [[1.0, -2.0], [3.0, 4.0]], dz)
    assert e.value.field == "x"
    with pytest.raises(InputDataError, match="k must have shape"):
        bulk_decomposition_rate([1.0], x, dz)
    with pytest.raises(InputDataError, match="soc must be finite"):
        environmental_scalar_system(xi, [1.0, np.nan], dz)
    with pytest.raises(InputDataError, match="v must have 2 layers"):
        vertical_transport_system([1.0], [1.0, 2.0], dz)
    with pytest.raises(InputDataError, match="inputs must be >= 0"):
        input_allocation_index([1.0, -1.0], dz)
    with pytest.raises(InputDataError, match="reference_depth_cm"):
        input_allocation_index([1.0, 1.0], dz, reference_depth_cm=0)
    with pytest.raises(InputDataError, match="soc_pools"):
        system_diagnostics(a, x, k, xi, xi, xi, dz, soc_pools=(2,))
