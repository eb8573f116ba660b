"""Model layers → SOC stocks over observed intervals (exact integration of layer densities).

References: hand integrals over the CLM5 grid (``shared/specs/process-models.md``: dz = 0.02·j
for j = 1–4, +0.04 per layer to j = 13, +0.10 per layer to j = 20; interfaces 0, 2, 6, 12, 20,
32, … , 746, 860 cm) and an independent overlap sum Σ x_j·|[t, b] ∩ layer j|.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from wholesoil.errors import InputDataError
from wholesoil.models._observe import cumulative_stock, layer_stocks, standard_layer_stocks
from wholesoil.models._vertical import VerticalGrid, clm5_grid
from wholesoil.profiles._spline import STANDARD_DEPTHS

GRID = clm5_grid()
EDGES_CM = [0, 2, 6, 12, 20, 32, 48, 68, 92, 120, 152, 188, 228, 272, 326, 390, 464, 548, 642,
            746, 860]  # fmt: skip


def _overlap_stock(x, top, bottom):
    """Σ_j x_j · |[t, b] ∩ [z_top_j, z_bottom_j]| [g C m⁻²] (independent of the module)."""
    zt = np.asarray(EDGES_CM[:-1]) / 100
    zb = np.asarray(EDGES_CM[1:]) / 100
    t = np.asarray(top)[..., None] / 100
    b = np.asarray(bottom)[..., None] / 100
    ov = np.clip(np.minimum(b, zb) - np.maximum(t, zt), 0, None)
    return (np.asarray(x)[..., None, :] * ov).sum(axis=-1)


def test_grid_interfaces_are_the_spec():
    assert_allclose(np.r_[GRID.z_top[0], GRID.z_bottom] * 100, EDGES_CM, atol=1e-12)


def test_hand_computed_intervals():
    # layer 1 (0–2 cm) 2000 g C m⁻³, layer 2 (2–6 cm) 1000 g C m⁻³, the rest 0:
    # 1–3 cm = 2000·0.01 + 1000·0.01 = 30 g C m⁻² = 0.3 Mg C ha⁻¹ = 0.03 kg C m⁻²;
    # 0–6 cm = 2000·0.02 + 1000·0.04 = 80 g C m⁻²; 4–5 cm inside layer 2 = 1000·0.01 = 10.
    x = np.zeros(20)
    x[:2] = [2000.0, 1000.0]
    top, bottom = [1, 0, 4, 6], [3, 6, 5, 860]
    assert_allclose(layer_stocks(x, top, bottom), [0.3, 0.8, 0.1, 0.0], rtol=1e-14, atol=1e-15)
    assert_allclose(
        layer_stocks(x, top, bottom, unit="kg C m-2"), [0.03, 0.08, 0.01, 0], rtol=1e-14, atol=1e-16
    )
    assert_allclose(
        layer_stocks(x, top, bottom, unit="g C m-2"), [30.0, 80.0, 10.0, 0], rtol=1e-14, atol=1e-13
    )
    # uniform 1000 g C m⁻³: a stock is density × thickness, 0–30 cm = 3 Mg C ha⁻¹
    u = np.full(20, 1000.0)
    assert_allclose(layer_stocks(u, [0, 30, 100, 17.5], [30, 100, 200, 812.25]),
                    [3.0, 7.0, 10.0, 794.75 * 0.1], rtol=1e-13)  # fmt: skip


def test_whole_column_conserves_exactly():
    # ∫_0^860 cm x dz = Σ x_j Δz_j (g C m⁻²) → × 0.01 Mg C ha⁻¹, for a batch of sites.
    rng = np.random.default_rng(0)
    x = rng.lognormal(7, 1, size=(50, 20)) * np.exp(-GRID.z_node)
    total = layer_stocks(x, [0.0], [860.0], unit="g C m-2")[..., 0]
    assert_allclose(total, (x * GRID.dz).sum(axis=-1), rtol=1e-14)
    assert np.array_equal(
        total, np.cumsum(x * GRID.dz, axis=-1)[:, -1]
    )  # the same sum, bit for bit
    assert_allclose(
        cumulative_stock(x, [860.0])[..., 0], 0.01 * (x * GRID.dz).sum(axis=-1), rtol=1e-14
    )


@given(st.lists(st.floats(0.01, 859.99), min_size=1, max_size=12, unique=True),
       st.integers(0, 2**32 - 1))  # fmt: skip
def test_any_partition_adds_up_and_matches_overlap_sum(cuts, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 5e4, size=(3, 20))
    edges = np.r_[0.0, np.sort(cuts), 860.0]
    edges = edges[np.r_[True, np.diff(edges) > 1e-6]]
    if edges[-1] != 860.0:
        edges[-1] = 860.0
    s = layer_stocks(x, edges[:-1], edges[1:], unit="g C m-2")
    assert_allclose(s.sum(axis=-1), (x * GRID.dz).sum(axis=-1), rtol=1e-12)
    assert_allclose(s, _overlap_stock(x, edges[:-1], edges[1:]), rtol=1e-9, atol=1e-9)
    assert (s >= 0).all()


def test_per_site_intervals_with_nan_padding_and_batch():
    rng = np.random.default_rng(1)
    x = rng.uniform(100, 2000, size=(3, 20))
    top = np.array([[0, 10, 30, np.nan], [0, 5, 15, 50], [2, np.nan, np.nan, np.nan]])
    bottom = np.array([[10, 30, 55, np.nan], [5, 15, 50, 120], [40, np.nan, np.nan, np.nan]])
    s = layer_stocks(x, top, bottom)
    assert s.shape == (3, 4)
    assert np.isnan(s[0, 3]) and np.isnan(s[2, 1:]).all()
    ok = ~np.isnan(top)
    assert_allclose(s[ok], 0.01 * _overlap_stock(x, np.nan_to_num(top),
                                                 np.nan_to_num(bottom))[ok], rtol=1e-12)  # fmt: skip
    # sites × parameter sets sharing the observed intervals
    xb = rng.uniform(0, 1000, size=(4, 5, 20))
    sb = layer_stocks(xb, [0, 30], [30, 100])
    assert sb.shape == (4, 5, 2)
    assert_allclose(sb, 0.01 * _overlap_stock(xb, [0, 30], [30, 100]), rtol=1e-12)


def test_standard_layers():
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 3000, size=(7, 20))
    s = standard_layer_stocks(x)
    assert s.shape == (7, len(STANDARD_DEPTHS) - 1)
    assert_allclose(s.sum(axis=-1), layer_stocks(x, [0], [200])[:, 0], rtol=1e-13)
    assert_allclose(s, 0.01 * _overlap_stock(x, STANDARD_DEPTHS[:-1], STANDARD_DEPTHS[1:]),
                    rtol=1e-12)  # fmt: skip
    u = standard_layer_stocks(np.full(20, 1000.0), (0, 30, 100, 200, 300))
    assert_allclose(u, [3.0, 7.0, 10.0, 10.0], rtol=1e-13)


def test_other_grid():
    # three 10-cm layers of 100, 200, 300 g C m⁻³: 5–25 cm = 100·0.05 + 200·0.1 + 300·0.05 = 40
    g = VerticalGrid(dz=[0.1, 0.1, 0.1], z_node=[0.05, 0.15, 0.25], z_top=[0, 0.1, 0.2],
                     z_bottom=[0.1, 0.2, 0.3])  # fmt: skip
    assert_allclose(layer_stocks([100.0, 200.0, 300.0], [5], [25], g, unit="g C m-2"), [40.0])
    with pytest.raises(InputDataError, match="0–30 cm"):
        layer_stocks([100.0, 200.0, 300.0], [5], [35], g)


def test_bad_input_raises():
    x = np.ones(20)
    with pytest.raises(InputDataError, match="20 layers") as e:
        layer_stocks(np.ones(19), [0], [10])
    assert e.value.field == "density"
    with pytest.raises(InputDataError, match="bottom must be deeper than top") as e:
        layer_stocks(x, [10, 30], [20, 30])
    assert e.value.field == "bottom"
    with pytest.raises(InputDataError, match="within the model grid") as e:
        layer_stocks(x, [0], [900])
    assert e.value.value == 900.0
    with pytest.raises(InputDataError, match="within the model grid"):
        layer_stocks(x, [-1], [10])
    with pytest.raises(InputDataError, match="unit"):
        layer_stocks(x, [0], [10], unit="t C ha-1")
    with pytest.raises(InputDataError, match="strictly increasing"):
        standard_layer_stocks(x, (0, 30, 30))
    with pytest.raises(InputDataError, match="finite"):
        layer_stocks(np.r_[np.inf, np.ones(19)], [0], [10])


def test_density_at_depths_equals_scipy_pchip():
    """PRODA compares PCHIP-interpolated densities (MATLAB ``interp1(..., 'pchip')``); ours equal
    SciPy's PchipInterpolator (same Fritsch–Carlson/Brodlie slopes and end rule) to 1e-12,
    batched, with extrapolation above the first node and NaN padding."""
    from scipy.interpolate import PchipInterpolator

    from wholesoil.models._observe import density_at_depths
    from wholesoil.models._vertical import clm5_grid

    z = np.asarray(clm5_grid().z_node)
    rng = np.random.default_rng(0)
    y = rng.lognormal(size=(3, 4, 20)) * np.exp(-z)
    y[0, 0, 5] = y[0, 0, 6]  # a flat segment (zero slope)
    q = np.array([[0.5, 5, 12, 33, 77, 150, np.nan], [0.2, 3, 8, 60, 200, 820, 850.0],
                  [1, 2, 4, 8, 16, 32, 64]])
    got = density_at_depths(y, q[:, None, :])
    for i in range(3):
        for j in range(4):
            ref = PchipInterpolator(z, y[i, j])(q[i] / 100.0)
            np.testing.assert_allclose(got[i, j], ref, rtol=1e-12, equal_nan=True)
