"""SOC density (Wang H. et al. (2025) Eq. 1), cumulative stocks and the BD pedotransfer (Tao et al. (EarthArXiv) §2.1)."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from wholesoil.errors import InputDataError, MissingColumnError
from wholesoil.profiles._density import (
    add_soc_density,
    cumulative_stocks,
    soc_density,
    stock_to_depth,
)
from wholesoil.profiles._pedotransfer import (
    TAO2022_BD_PTF,
    bd_pedotransfer,
    fill_bulk_density,
    fit_bd_pedotransfer,
    om_percent_from_soc,
)


def test_soc_density_eq1_hand_values():
    # Wang H. et al. (2025) Eq. 1: SOC·BD·D·(1−GC/100)/10, worked by hand.
    assert_allclose(soc_density(10.0, 1.3, 20.0, 10.0), 23.4, rtol=1e-12)
    assert_allclose(soc_density(25.0, 1.0, 30.0), 75.0, rtol=1e-12)
    assert_allclose(soc_density([5.0, 5.0], 1.2, 10.0, [0.0, 100.0]), [6.0, 0.0], atol=1e-12)


def test_soc_density_unit_consistency():
    # 1 g kg⁻¹ · 1 g cm⁻³ · 1 cm = 1 mg C cm⁻² = 0.1 Mg C ha⁻¹ (1 cm² = 1e-8 ha, 1 mg = 1e-9 Mg).
    assert_allclose(soc_density(1.0, 1.0, 1.0), 1e-3 * 1e-6 / 1e-8, rtol=1e-12)


def test_add_soc_density_keeps_reported_and_flags_gravel():
    h = pd.DataFrame(
        {
            "profile_id": ["a", "a"],
            "top": [0, 10],
            "bottom": [10, 30],
            "soc": [20.0, 10.0],
            "bd": [1.0, 1.5],
            "soc_density": [99.0, 99.0],
        }
    )
    out = add_soc_density(h)
    assert_allclose(out["soc_density"], [99.0, 99.0])  # reported value untouched
    assert_allclose(out["soc_density_computed"], [20.0, 30.0])
    assert out["gravel_assumed_zero"].all()
    with pytest.raises(MissingColumnError, match="'bd'"):
        add_soc_density(h.drop(columns="bd"))


def test_cumulative_and_stock_to_depth_prorate():
    layers = pd.DataFrame(
        {
            "profile_id": ["p"] * 3 + ["q"] * 2,
            "top": [0, 20, 50, 0, 10],
            "bottom": [20, 50, 120, 10, 40],
            "soc_density": [40.0, 30.0, 35.0, 5.0, np.nan],
        }
    )
    cum = cumulative_stocks(layers)
    assert_allclose(cum["cumulative"][:3], [40, 70, 105])
    assert np.isnan(cum["cumulative"].iloc[4])
    s = stock_to_depth(layers, depths=(30, 100))
    # p: 40 + 30·10/30 = 50 to 30 cm; 40 + 30 + 35·50/70 = 95 to 100 cm.
    assert_allclose(s.loc[0, ["stock_0_30", "stock_0_100"]].to_numpy(float), [50.0, 95.0])
    # q: NaN layer contributes → NaN stock; 40 cm deep → 100 cm not covered.
    assert np.isnan(s.loc[1, "stock_0_30"]) and np.isnan(s.loc[1, "stock_0_100"])
    assert_allclose(s.loc[1, "covered_0_100"], 0.4)


def test_bd_pedotransfer_published_values():
    # Tao et al. (EarthArXiv) §2.1: α = 0.32, β = 1.30, γ = 0.0089; at OM = 0: α + β = 1.62 g cm⁻³.
    assert_allclose(bd_pedotransfer(0.0), 1.62, rtol=1e-12)
    assert_allclose(bd_pedotransfer(50.0), 0.32 + 1.30 * np.exp(-0.445), rtol=1e-12)
    # OM = 1.724 · SOC[%]: 58 g kg⁻¹ = 5.8 % SOC → OM = 9.9992 %.
    assert_allclose(om_percent_from_soc(58.0), 9.9992, rtol=1e-12)


def test_fit_bd_pedotransfer_recovers_known_parameters():
    rng = np.random.default_rng(0)
    soc = rng.uniform(1, 400, 500)  # g kg⁻¹
    truth = {"alpha": 0.15, "beta": 1.45, "gamma": 0.045}
    bd = bd_pedotransfer(om_percent_from_soc(soc), **truth)
    fit = fit_bd_pedotransfer(soc, bd)
    assert_allclose([fit.alpha, fit.beta, fit.gamma], list(truth.values()), rtol=1e-6)
    assert fit.r2 == pytest.approx(1.0, abs=1e-10) and fit.n == 500
    noisy = bd + rng.normal(0, 0.05, bd.size)
    fit2 = fit_bd_pedotransfer(soc, noisy)
    assert abs(fit2.beta - 1.45) < 5 * fit2.stderr["beta"] + 0.05
    with pytest.raises(InputDataError, match="at least 4"):
        fit_bd_pedotransfer([1.0, 2.0], [1.0, np.nan])


def test_fill_bulk_density_flags_and_never_overwrites():
    h = pd.DataFrame({"soc": [10.0, 10.0, np.nan], "bd": [1.1, np.nan, np.nan]})
    out = fill_bulk_density(h)
    assert out["bd_filled"].tolist() == [False, True, False]
    assert out["bd"].iloc[0] == 1.1
    assert_allclose(out["bd"].iloc[1], bd_pedotransfer(1.724, **TAO2022_BD_PTF))
    assert np.isnan(out["bd"].iloc[2])
