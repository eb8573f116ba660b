"""Inputs to bulk soil, root-derived inputs and direct losses (Wang G. et al. (manuscript) Eq. 6, Methods).

Reference numbers are hand computations of the published equations, stated beside each test.
"""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from wholesoil.errors import InputDataError, MissingColumnError
from wholesoil.radiocarbon._estimates import EstimatePiece, InputEstimate, compare_estimates
from wholesoil.radiocarbon._input_profiles import InputProfiles, RootProfile
from wholesoil.radiocarbon._input_uncertainty import monte_carlo_inputs
from wholesoil.radiocarbon._inputs import (
    DEFAULT_F_BNPP,
    MONTE_CARLO_DRAWS,
    SEED004_DEPTHS,
    SEED004_ESTIMATES,
    bulk_inputs,
    direct_losses,
    harmonization_weights,
    harmonize_inputs,
    npp_g_m2_to_mg_ha,
    profile_npp,
)

TOP = np.array(SEED004_DEPTHS[:-1])
BOTTOM = np.array(SEED004_DEPTHS[1:])


def table():
    return pd.DataFrame({
        "profile_id": ["A"] * 4 + ["B"] * 3,
        "top": [0, 10, 30, 60, 0, 25, 50.0],
        "bottom": [10, 30, 60, 100, 25, 50, 120.0],
        "soc_stock": [30, 25, 20, 15, 40, 20, 10.0],
        "c_age": [100, 300, 1000, 3000, 200, 800, 2500.0],
        "mat": [5.5] * 4 + [20.0] * 3,
        "map": [1000.0] * 4 + [800.0] * 3,
    })


def test_constants():
    assert SEED004_DEPTHS == (0, 20, 40, 60, 80, 100, 150, 200)  # Wang G. et al. (manuscript) Methods
    assert DEFAULT_F_BNPP == 0.377  # Wang G. et al. (manuscript) Results: f_BNPP averages 37.7 % (725 sites)
    assert MONTE_CARLO_DRAWS == 500  # Wang G. et al. (manuscript) Methods
    assert len(SEED004_ESTIMATES) == 6  # Extended Data Table 1


def test_bulk_inputs_eq6():
    # Eq. 6 by hand: 30 Mg C ha-1 / 100 yr = 0.3 Mg C ha-1 yr-1; 15 / 3000 = 0.005
    assert_allclose(bulk_inputs([30.0, 15.0], [100.0, 3000.0]), [0.3, 0.005], rtol=1e-15)
    with pytest.raises(InputDataError, match="age > 0"):
        bulk_inputs(1.0, 0.0)
    with pytest.raises(InputDataError, match="stock ≥ 0"):
        bulk_inputs(-1.0, 10.0)


def test_npp_units_and_miami():
    # 1 g C m-2 = 0.01 Mg C ha-1
    assert_allclose(npp_g_m2_to_mg_ha(512.0), 5.12, rtol=1e-15)
    # Lieth (1975) Miami model by hand at MAT 5.5 °C, MAP 1000 mm, carbon = 0.5 dry matter
    npp_t = 3000 / (1 + np.exp(1.315 - 0.119 * 5.5))
    npp_p = 3000 * (1 - np.exp(-0.000664 * 1000))
    npp, src = profile_npp([np.nan, 700.0], mat=[5.5, 5.5], map=[1000.0, 1000.0])
    assert_allclose(npp, [0.5 * min(npp_t, npp_p), 700.0], rtol=1e-14)
    assert list(src) == ["miami", "data"]
    with pytest.raises(InputDataError, match="no NPP"):
        profile_npp([np.nan])


def test_harmonization_uniform_by_hand():
    ip = InputProfiles.from_table(table())
    w = ip.weights()
    h = harmonize_inputs(w, ip.stock, ip.age)
    # profile A, 0–20 cm = horizon 0–10 + half of 10–30: stock 30 + 12.5 = 42.5;
    # I_bulk = 30/100 + 12.5/300; age = stock / I_bulk
    assert_allclose(h.stock[0, 0], 42.5, rtol=1e-14)
    assert_allclose(h.i_bulk[0, 0], 0.3 + 12.5 / 300, rtol=1e-14)
    assert_allclose(h.c_age[0, 0], 42.5 / (0.3 + 12.5 / 300), rtol=1e-14)
    # 60–80 and 80–100 cm lie inside the 60–100 horizon: its age exactly
    assert_allclose(h.c_age[0, 3:5], 3000.0, rtol=1e-14)
    # total stock over the covered 0–100 cm is preserved
    assert_allclose(np.nansum(h.stock[0]), 90.0, rtol=1e-14)
    assert_allclose(np.nansum(h.i_bulk[0]), 30 / 100 + 25 / 300 + 20 / 1000 + 15 / 3000,
                    rtol=1e-14)
    # B reaches 120 cm: 100–150 only 40 % covered -> not reported, coverage says why
    assert np.isnan(h.stock[1, 5]) and h.coverage[1, 5] == pytest.approx(0.4)
    assert np.all(np.isnan(h.stock[:, 6]))


def test_harmonization_min_coverage_extends_mean():
    ip = InputProfiles.from_table(table())
    h = harmonize_inputs(ip.weights(min_coverage=0.4), ip.stock, ip.age)
    # horizon 50–120 cm holds 10 Mg over 70 cm; 100–150 extended to 50 cm: 50·10/70
    assert_allclose(h.stock[1, 5], 50 * 10 / 70, rtol=1e-14)
    assert_allclose(h.c_age[1, 5], 2500.0, rtol=1e-14)


def test_harmonization_spline_lam0_preserves_mass():
    ip = InputProfiles.from_table(table())
    h = harmonize_inputs(ip.weights(method="spline", lam=0.0), ip.stock, ip.age)
    # λ = 0: each horizon's mass reproduced exactly (Bishop et al. 1999), so 0–100 cm of A
    # holds the 90 Mg C ha-1 of its horizons
    assert_allclose(np.nansum(h.stock[0, :5]), 90.0, rtol=1e-10)


def test_harmonization_draws_axis():
    ip = InputProfiles.from_table(table())
    w = ip.weights()
    s = np.stack([ip.stock, 2 * ip.stock])
    a = np.stack([ip.age, ip.age])
    h = harmonize_inputs(w, s, a)
    assert h.stock.shape == (2, 2, 7)
    assert_allclose(h.stock[1], 2 * h.stock[0])


def test_gap_not_covered_uniform():
    w = harmonization_weights([[0.0, 30.0]], [[10.0, 40.0]], [2], (0, 20, 40),
                              min_coverage=0.5)
    # 0–20: 10 cm covered (0.5); 20–40: 10 cm (30–40)
    assert_allclose(w.coverage, [[0.5, 0.5]])


def test_estimate_from_pieces_and_losses():
    ip = InputProfiles.from_table(table())
    h = harmonize_inputs(ip.weights(), ip.stock, ip.age)
    npp = np.array([500.0, 800.0])
    e = InputEstimate.from_pieces(
        "test", profile_id=ip.profile_id, top=TOP, bottom=BOTTOM, i_bulk=h.i_bulk,
        root_fraction=RootProfile(beta=0.966), npp=npp, f_bnpp=0.4,
        pieces=[EstimatePiece("NPP", "user", "observed"),
                EstimatePiece("depth distribution", "Jackson 1996 all", "model")])
    # I_root = NPP·0.01·f·(β^top − β^bottom)
    expect = (npp * 0.01 * 0.4)[:, None] * (0.966**TOP - 0.966**BOTTOM)
    assert_allclose(e.i_root, expect, rtol=1e-12)
    loss = e.losses()
    assert_allclose(loss.loss, expect - h.i_bulk, rtol=1e-12)
    assert e.has_observation
    tab = compare_estimates([e])
    tot = tab[tab.layer == "total"].iloc[0]
    # totals over 0–100 cm of both profiles (where I_bulk is known)
    r_tot = expect[:, :5].sum(-1)
    b_tot = np.nansum(h.i_bulk[:, :5], -1)
    assert_allclose(tot["i_root"], r_tot.mean(), rtol=1e-12)
    assert_allclose(tot["i_loss"], (r_tot - b_tot).mean(), rtol=1e-12)
    assert_allclose(tot["loss_fraction"], 1 - b_tot.mean() / r_tot.mean(), rtol=1e-12)
    assert "NPP: user (OBS)" in tot["pieces"]


def test_negative_losses_not_clipped():
    loss = direct_losses([1.0, 0.5, 0.0], [0.2, 0.8, 0.1])
    assert_allclose(loss.loss, [0.8, -0.3, -0.1])
    assert_allclose(loss.fraction[:2], [0.8, -0.6])
    assert np.isnan(loss.fraction[2])


def test_monte_carlo_converges_and_reproduces():
    ip = InputProfiles.from_table(table())
    npp = np.array([500.0, 800.0])
    roots = RootProfile(beta=0.966)
    mc = monte_carlo_inputs(ip, npp=npp, roots=roots, cv=1e-4, seed=3)
    assert mc.i_bulk.shape == (500, 2, 7)
    h = harmonize_inputs(ip.weights(), ip.stock, ip.age)
    # deterministic I_root with f_BNPP = 0.377
    r = (npp * 0.01 * DEFAULT_F_BNPP)[:, None] * (0.966**TOP - 0.966**BOTTOM)
    ok = np.isfinite(h.i_bulk)
    assert_allclose(mc.i_bulk.mean(0)[ok], h.i_bulk[ok], rtol=1e-4)
    assert_allclose(mc.i_root.mean(0)[ok], r[ok], rtol=1e-4)
    assert np.all(np.isnan(mc.i_root[:, ~ok]))
    s = mc.summary()
    assert set(s.variable) == {"i_bulk", "i_root", "i_loss", "loss_fraction"}
    # same seed, same draws; another seed differs
    mc2 = monte_carlo_inputs(ip, npp=npp, roots=roots, cv=1e-4, seed=3)
    assert np.array_equal(mc.i_loss, mc2.i_loss, equal_nan=True)
    mc3 = monte_carlo_inputs(ip, npp=npp, roots=roots, cv=1e-4, seed=4)
    assert not np.array_equal(mc.i_loss, mc3.i_loss, equal_nan=True)
    # 95 % interval of a normal: mean ± 1.96 sd
    tot = s[(s.layer == "total") & (s.variable == "i_bulk")]
    assert np.all(tot["q025"] < tot["mean"]) and np.all(tot["mean"] < tot["q975"])


def test_monte_carlo_schenk_jackson_and_bad_sd():
    ip = InputProfiles.from_table(table())
    mc = monte_carlo_inputs(ip, npp=600.0, roots=RootProfile(d50=20.0, d95=80.0), draws=50,
                            seed=1)
    assert mc.draws == 50
    with pytest.raises(InputDataError, match=r"draw.*age"):
        monte_carlo_inputs(ip, npp=600.0, roots=RootProfile(beta=0.96), age_sd=2 * ip.age,
                           draws=100, seed=1)


# --------------------------------------------------------------------------- bad input
def test_missing_value_names_row_and_field():
    t = table()
    t.loc[2, "c_age"] = np.nan
    with pytest.raises(InputDataError, match=r"f.csv row 4 \(profile A\), field 'c_age'"):
        InputProfiles.from_table(t, file="f.csv")
    ip = InputProfiles.from_table(t, missing="exclude")
    assert list(ip.excluded["row"]) == [4]
    assert ip.excluded["reason"].iloc[0] == "missing c_age"


def test_negative_and_bad_values():
    t = table()
    t.loc[5, "soc_stock"] = -2.0
    with pytest.raises(InputDataError, match=r"row 7 \(profile B\), field 'soc_stock'.*-2"):
        InputProfiles.from_table(t)
    t = table()
    t.loc[1, "c_age"] = 0.0
    with pytest.raises(InputDataError, match=r"row 3 .*'c_age'.*age > 0"):
        InputProfiles.from_table(t)
    t = table()
    t.loc[0, "bottom"] = 0.0
    with pytest.raises(InputDataError, match=r"row 2 .*'bottom'"):
        InputProfiles.from_table(t)
    t = table()
    t["soc_stock"] = t["soc_stock"].astype(object)
    t.loc[3, "soc_stock"] = "lots"
    with pytest.raises(InputDataError, match=r"row 5 .*'soc_stock': expected a number"):
        InputProfiles.from_table(t)


def test_mismatched_site_values_and_overlaps():
    t = table()
    t.loc[2, "mat"] = 6.0
    with pytest.raises(InputDataError, match=r"row 4 \(profile A\), field 'mat'.*differs"):
        InputProfiles.from_table(t)
    t = table()
    t.loc[1, "top"] = 5.0
    with pytest.raises(InputDataError, match=r"row 3 \(profile A\), field 'top'.*overlaps"):
        InputProfiles.from_table(t)
    with pytest.raises(MissingColumnError, match="c_age"):
        InputProfiles.from_table(table().drop(columns="c_age"))
    with pytest.raises(MissingColumnError, match="soc_stock"):
        InputProfiles.from_table(table().drop(columns="soc_stock"))


def test_organic_layers_excluded_and_listed():
    t = pd.concat([pd.DataFrame({"profile_id": ["A"], "top": [-5.0], "bottom": [0.0],
                                 "soc_stock": [20.0], "c_age": [5.0], "mat": [5.5],
                                 "map": [1000.0]}), table()], ignore_index=True)
    ip = InputProfiles.from_table(t)
    assert ip.excluded["row"].tolist() == [2]
    assert "mineral surface" in ip.excluded["reason"].iloc[0]
    assert ip.n_horizons.tolist() == [4, 3]
    t.loc[0, "bottom"] = 3.0
    with pytest.raises(InputDataError, match="straddles"):
        InputProfiles.from_table(t)


def test_israd_howland_tower_pit_from_d14c():
    from wholesoil import datasets

    ps = datasets.load_israd_example()
    h = ps.horizons.merge(ps.sites[["profile_id", "lat", "lon", "mat", "map"]],
                          on="profile_id")
    h = h[h["profile_id"].str.endswith("Tower Pit")].rename(
        columns={"soc_density_computed": "soc_stock", "obs_year": "year"})
    ip = InputProfiles.from_table(h, missing="exclude")
    # the three O horizons (above 0 cm) are left out and listed; 7 mineral layers 0–80.5 cm
    assert len(ip.excluded) == 3 and ip.n_horizons.tolist() == [7]
    assert ip.age_source == "d14c" and len(ip.age_info) == 7
    # Eq. 6 per horizon, then mass-preserving harmonization: 0–80 cm fully covered
    hz = harmonize_inputs(ip.weights(), ip.stock, ip.age)
    assert np.all(np.isfinite(hz.i_bulk[0, :4])) and np.all(np.isnan(hz.i_bulk[0, 4:]))
    covered = ip.stock[0, :7] * np.clip(
        (np.minimum(ip.bottom[0, :7], 80) - ip.top[0, :7]) / (ip.bottom[0, :7] - ip.top[0, :7]),
        0, 1)
    assert_allclose(hz.stock[0, :4].sum(), covered.sum(), rtol=1e-12)
