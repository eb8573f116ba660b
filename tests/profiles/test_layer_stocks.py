"""Per-layer stocks at standard depths (wholesoil.profiles.layer_stocks, the stock mode of
harmonize): per-cm density, uniform or equal-area spline (Bishop, McBratney & Laslett 1999,
Geoderma 91:27–45, doi:10.1016/S0016-7061(99)00003-8), exact integral per standard layer."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from wholesoil.datasets import load_israd_example, load_ncscd
from wholesoil.errors import InputDataError
from wholesoil.profiles import (
    EXTENSIVE_VARIABLES,
    STANDARD_DEPTHS,
    ProfileSet,
    harmonize,
    layer_stocks,
    stock_to_depth,
)
from wholesoil.profiles._layer_stocks import extensive_unit, stocks_by_layer


def _ps(rows):
    h = pd.DataFrame(rows, columns=["profile_id", "top", "bottom", "soc_density"])
    return ProfileSet.from_tables(h)


def _sum_to(table, depth, var="soc_density"):
    """Sum of the standard-layer stocks from 0 to ``depth`` per profile (NaN if any is NaN)."""
    t = table[table["bottom"] <= depth]
    n = int(t.groupby("profile_id", sort=False).size().iloc[0])
    return t.groupby("profile_id", sort=False)[var].sum(min_count=n)


def test_hand_worked_uniform_stocks():
    # Exact arithmetic: 60 Mg/ha over 0–30 cm is 2 Mg/ha/cm, 56 over 30–100 is 0.8 Mg/ha/cm,
    # so 0–15: 30, 15–30: 30, 30–60: 24, 60–100: 32; coverage 1 everywhere.
    t = layer_stocks(_ps([("P", 0, 30, 60.0), ("P", 30, 100, 56.0)]), depths=(0, 15, 30, 60, 100))
    assert_allclose(t["soc_density"], [30.0, 30.0, 24.0, 32.0], rtol=1e-14)
    assert_allclose(t["coverage"], 1.0)
    assert not t["partial"].any()


def test_default_depths_are_the_standard_layers():
    t = layer_stocks(_ps([("P", 0, 250, 250.0)]))
    assert t["top"].tolist() == list(STANDARD_DEPTHS[:-1])
    assert t["bottom"].tolist() == list(STANDARD_DEPTHS[1:])
    assert_allclose(t["soc_density"], np.diff(STANDARD_DEPTHS), rtol=1e-14)  # 1 Mg/ha/cm


@pytest.mark.parametrize("method", ["uniform", "exact"])
def test_ncscd_0_100_sum_equals_stock_to_depth(method):
    """The acceptance of issue 24 item 2: on the bundled NCSCD pedons (Hugelius et al. 2013)
    the standard layers 0–5–15–30–60–100 cm add up to the 0–100 cm stock of
    ``stock_to_depth`` (what ``wholesoil density`` writes) to 1e-9 Mg C ha⁻¹, and 0–5–15–30 to
    its 0–30 cm stock. NCSCD layers are 0–30, 30–100, 100–200, 200–300 cm, so the spline with
    λ = 0 (each horizon's amount kept) agrees too."""
    ps = load_ncscd()
    t = layer_stocks(ps, "soc_density", method=method, lam=0.0)
    ref = stock_to_depth(ps.horizons, depths=(30.0, 100.0)).set_index("profile_id")
    for d in (30, 100):
        got = _sum_to(t, d).reindex(ref.index)
        want = ref[f"stock_0_{d}"]
        assert want.notna().sum() > 500
        assert (got.isna() == want.isna()).all()
        assert_allclose(got[want.notna()], want[want.notna()], rtol=0, atol=1e-9)


def test_israd_subset_0_30_sum_equals_stock_to_depth():
    """ISRaD entry Gaudinski_2001 (bundled): irregular horizons, organic layers at negative
    depths (outside the standard layers, as ``stock_to_depth`` clips them at 0)."""
    ps = load_israd_example()
    var = "soc_density_computed"
    t = layer_stocks(ps, var, depths=(0, 5, 15, 30))
    ref = stock_to_depth(ps.horizons, depths=(30.0,), value=var).set_index("profile_id")
    got = _sum_to(t, 30, var).reindex(ref.index)
    want = ref["stock_0_30"]
    assert want.notna().sum() >= 2
    assert (got.isna() == want.isna()).all()
    assert_allclose(got[want.notna()], want[want.notna()], rtol=0, atol=1e-9)


def test_splining_the_amount_as_a_concentration_overstates():
    # The trap: layer means of amounts summed as stocks. On NCSCD the 0–100 cm totals
    # of the naive route exceed the real ones by far; the stock mode reproduces them.
    ps = load_ncscd()
    naive = _sum_to(harmonize(ps, "soc_density", method="exact"), 100)
    stock = _sum_to(layer_stocks(ps), 100)
    assert naive.mean() > 1.5 * stock.mean()


def test_partly_covered_layer_is_flagged_and_never_extrapolated():
    # profile to 80 cm: 60–100 is half covered; its stock 20·(0.5 Mg/ha/cm) = 10 is the covered
    # part, reported only from --min-coverage 0.5 down, never scaled to 20.
    ps = _ps([("P", 0, 60, 60.0), ("P", 60, 80, 10.0)])
    full = layer_stocks(ps, depths=(0, 60, 100, 200))
    assert np.isnan(full["soc_density"].iloc[1]) and full["coverage"].iloc[1] == 0.5
    assert full["partial"].tolist() == [False, True, True]
    half = layer_stocks(ps, depths=(0, 60, 100, 200), min_coverage=0.5)
    assert_allclose(half["soc_density"].iloc[:2], [60.0, 10.0], rtol=1e-14)
    assert np.isnan(half["soc_density"].iloc[2]) and half["coverage"].iloc[2] == 0.0


def test_gaps_and_missing_amounts_count_as_uncovered():
    ps = _ps([("P", 0, 10, 10.0), ("P", 20, 30, 5.0), ("Q", 0, 10, 10.0), ("Q", 10, 30, np.nan)])
    t = layer_stocks(ps, depths=(0, 30), min_coverage=0.5).set_index("profile_id")
    assert_allclose(t.loc["P", "coverage"], 2 / 3, rtol=1e-14)
    assert_allclose(t.loc["P", "soc_density"], 15.0, rtol=1e-14)  # the gap adds nothing
    assert_allclose(t.loc["Q", "coverage"], 1 / 3, rtol=1e-14)
    assert np.isnan(t.loc["Q", "soc_density"])  # 1/3 < 0.5


def test_profiles_are_independent_and_chunking_is_invisible():
    ps = load_ncscd()
    whole = layer_stocks(ps, method="exact", lam=0.1)
    one = ps.select(["NCSCD-007"])
    alone = layer_stocks(one, method="exact", lam=0.1)
    assert_allclose(whole.set_index("profile_id").loc["NCSCD-007", "soc_density"],
                    alone["soc_density"], rtol=1e-12)
    padded = ps.to_padded("soc_density")
    args = (padded.top, padded.bottom, padded.value, padded.n_horizons, STANDARD_DEPTHS, "exact")
    s1, c1 = stocks_by_layer(*args, 0.1)
    s2, c2 = stocks_by_layer(*args, 0.1, chunk_size=7)
    assert_allclose(s1, s2, rtol=1e-13)
    assert_allclose(c1, c2, rtol=0)


@st.composite
def _profile(draw):
    n = draw(st.integers(1, 8))
    cuts = draw(st.lists(st.integers(1, 60), min_size=n, max_size=n))
    bounds = np.concatenate([[0.0], np.cumsum(cuts, dtype=float)])
    amounts = draw(st.lists(st.floats(0.0, 500.0), min_size=n, max_size=n))
    return bounds, np.asarray(amounts)


@settings(max_examples=60, deadline=None)
@given(_profile(), st.sampled_from(["uniform", "exact"]))
def test_mass_preservation(profile, method):
    """Layers that span the whole profile hold the sum of its amounts (λ = 0: the spline keeps
    every horizon's amount, Eq. 3 of the spline module with s̄ = y)."""
    bounds, amounts = profile
    top, bottom = bounds[:-1][None], bounds[1:][None]
    depths = np.unique(np.concatenate([[0.0, 7.0, 33.0], [bounds[-1]]]))
    depths = depths[depths <= bounds[-1]]
    s, c = stocks_by_layer(top, bottom, amounts[None], [amounts.size], depths, method, 0.0)
    assert_allclose(s.sum(), amounts.sum(), rtol=1e-10, atol=1e-9)
    assert_allclose(c, 1.0, rtol=1e-12)


def test_extensive_variables_known_by_name_or_unit():
    assert EXTENSIVE_VARIABLES["soc_density"] == "Mg C ha-1"
    assert extensive_unit("soc") is None
    assert extensive_unit("OC_stock", {"OC_stock": "kg C m-2"}) == "kg C m-2"
    assert extensive_unit("OC_gkg", {"OC_gkg": "g/kg"}) is None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "mpspline2"}, "method"),
        ({"min_coverage": 0.0}, "min_coverage"),
        ({"min_coverage": 1.5}, "min_coverage"),
        ({"depths": (0, 30, 10)}, "increasing"),
        ({"variable": "coverage"}, "clashes"),
    ],
)
def test_bad_options_are_refused(kwargs, match):
    ps = _ps([("P", 0, 30, 60.0)])
    with pytest.raises(InputDataError, match=match):
        layer_stocks(ps, **{"variable": "soc_density", **kwargs})
