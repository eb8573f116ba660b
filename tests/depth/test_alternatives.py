"""Exponential and power depth functions, AIC model choice, and the table-level entry point."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from numpy.testing import assert_allclose
from scipy import integrate, optimize

from wholesoil.depth import (
    DEPTH_FUNCTION_COLUMNS,
    BetaModel,
    aic,
    aicc,
    beta_cumulative_fraction,
    exponential_cumulative,
    fit_beta,
    fit_depth_functions,
    fit_exponential,
    fit_power,
    power_cumulative,
)
from wholesoil.errors import InputDataError, MissingColumnError

D = np.array([10.0, 20.0, 30.0, 50.0, 75.0, 100.0, 150.0])


def test_exponential_cumulative_is_the_integral_of_the_density():
    c0, c_inf, k = 3.0, 0.4, 0.05
    for d in (1.0, 37.0, 100.0):
        num, _ = integrate.quad(lambda z: c_inf + (c0 - c_inf) * np.exp(-k * z), 0.0, d)
        assert_allclose(exponential_cumulative(d, c0, c_inf, k), num, rtol=1e-12)
    # c∞ = 0 is the β model with β = e^{−k} and A = c0/k
    assert_allclose(
        exponential_cumulative(D, c0, 0.0, k),
        c0 / k * beta_cumulative_fraction(D, np.exp(-k)),
        rtol=1e-13,
    )
    assert_allclose(power_cumulative(np.array([1.0, 4.0]), 3.0, 0.5), [3.0, 6.0], rtol=1e-15)


def _clean_sets(rng, P):
    depth = np.tile(D, (P, 1))
    beta = rng.uniform(0.90, 0.995, P)
    A = rng.uniform(50, 300, P)
    k = rng.uniform(0.02, 0.1, P)
    c0 = rng.uniform(1.0, 5.0, P)
    ci = c0 * rng.uniform(0.05, 0.3, P)
    a = rng.uniform(5.0, 20.0, P)
    b = rng.uniform(0.3, 0.9, P)
    return depth, {
        "beta": (A[:, None] * (1 - beta[:, None] ** depth), beta),
        "exponential": (exponential_cumulative(depth, c0[:, None], ci[:, None], k[:, None]), k),
        "power": (power_cumulative(depth, a[:, None], b[:, None]), b),
    }


def test_alternative_fits_recover_parameters():
    rng = np.random.default_rng(7)
    depth, sets = _clean_sets(rng, 200)
    cum, k = sets["exponential"]
    fe = fit_exponential(depth, cum)
    assert fe.converged.all()
    assert np.max(np.abs(fe.k - k)) < 1e-8
    cum, b = sets["power"]
    fp = fit_power(depth, cum)
    assert fp.converged.all()
    assert np.max(np.abs(fp.b - b)) < 1e-8


@pytest.mark.parametrize("family", ["beta", "exponential", "power"])
def test_aic_picks_the_generating_model_on_clean_data(family):
    rng = np.random.default_rng(123)
    depth, sets = _clean_sets(rng, 200)
    cum, _ = sets[family]
    fits = [fit_beta(depth, cum, method="stock"), fit_exponential(depth, cum), fit_power(depth, cum)]
    scores = np.vstack([aic(f.ssr, f.n, f.n_params, scale=cum[:, -1]) for f in fits])
    chosen = np.array(["beta", "exponential", "power"])[np.argmin(scores, axis=0)]
    assert (chosen == family).all()


def test_alternatives_are_least_squares_optima():
    # scipy.optimize.least_squares from the true parameters must not find a lower SSR
    rng = np.random.default_rng(99)
    P = 10
    depth = np.tile(D, (P, 1))
    cum = exponential_cumulative(depth, 3.0, 0.3, 0.06) * rng.lognormal(0, 0.03, (P, D.size))
    fe = fit_exponential(depth, cum)
    fp = fit_power(depth, cum)
    for p in range(P):
        e = optimize.least_squares(
            lambda x, y=cum[p]: y - exponential_cumulative(D, *x), x0=[3.0, 0.3, 0.06], xtol=1e-15
        )
        assert fe.ssr[p] <= 2 * e.cost * (1 + 1e-7)
        w = optimize.least_squares(
            lambda x, y=cum[p]: y - power_cumulative(D, *x), x0=[10.0, 0.5], xtol=1e-15
        )
        assert fp.ssr[p] <= 2 * w.cost * (1 + 1e-7)


def test_aic_matches_statsmodels_up_to_its_constant():
    # statsmodels OLS: AIC = −2 llf + 2 p, llf = −n/2·(ln 2π + ln(SSR/n) + 1); ours adds 2 for σ²
    # and drops n(ln 2π + 1), which is common to all models on the same data.
    rng = np.random.default_rng(0)
    x = rng.normal(size=30)
    y = 1.0 + 2.0 * x + rng.normal(size=30)
    res = sm.OLS(y, sm.add_constant(x)).fit()
    ours = aic(res.ssr, 30, 2)
    assert_allclose(ours - res.aic, 2.0 - 30 * (np.log(2 * np.pi) + 1), rtol=1e-12)
    assert_allclose(aicc(res.ssr, 30, 2) - ours, 2 * 3 * 4 / (30 - 3 - 1), rtol=1e-12)
    assert np.isnan(aic(1.0, 2, 2))  # n ≤ p: interpolation, no AIC
    assert np.isnan(aicc(1.0, 5, 3))  # n − K − 1 = 0


# ------------------------------------------------------------------------ table level
def _layers(pid, bounds, beta, A):
    rows = []
    for t, b in itertools.pairwise(bounds):
        rows.append(
            {"profile_id": pid, "top": t, "bottom": b, "soc_density": A * (beta**t - beta**b)}
        )
    return rows


def _table():
    rows = []
    rows += _layers("P1", [0, 20, 40, 60, 80, 100], 0.97, 150.0)
    rows += _layers("B", [0, 10, 30, 60], 0.95, 80.0)
    rows += _layers("late", [5, 20, 40, 60], 0.98, 80.0)  # not from the surface
    rows += _layers("one", [0, 20], 0.98, 80.0)  # a single layer
    rows += [
        {"profile_id": "zero", "top": 0, "bottom": 20, "soc_density": 0.0},
        {"profile_id": "zero", "top": 20, "bottom": 40, "soc_density": 0.0},
    ]
    missing = _layers("miss", [0, 20, 40, 60], 0.98, 80.0)
    missing[-1]["soc_density"] = np.nan
    rows += missing
    rows += _layers("over", [0, 20, 40], 0.98, 80.0)
    rows.append({"profile_id": "over", "top": 30, "bottom": 50, "soc_density": 3.0})
    gap = _layers("gap", [0, 20, 50, 70], 0.98, 80.0)
    gap[1]["top"] = 25.0
    rows += gap
    return pd.DataFrame(rows).sample(frac=1.0, random_state=1)  # order must not matter


def test_fit_depth_functions_one_row_per_profile_with_reasons():
    layers = _table()
    out = fit_depth_functions(layers, method="stock")
    assert list(out.columns) == list(DEPTH_FUNCTION_COLUMNS)
    assert list(out["profile_id"]) == list(pd.unique(layers["profile_id"]))
    t = out.set_index("profile_id")
    assert_allclose(t.loc["P1", "beta"], 0.97, atol=1e-9)
    assert_allclose(t.loc["P1", "asymptote"], 150.0, rtol=1e-8)
    assert_allclose(t.loc["P1", "x_100"], 150.0 * (1 - 0.97**100), rtol=1e-8)
    assert t.loc["P1", "best_model"] == "beta"
    assert t.loc["P1", "warnings"] == ""
    assert_allclose(t.loc["B", "beta"], 0.95, atol=1e-9)
    assert "x_100 extrapolated below 60 cm" in t.loc["B", "warnings"]
    assert "first layer starts at 5 cm" in t.loc["late", "warnings"]
    assert t.loc["one", "status"] == "not fitted" and np.isnan(t.loc["one", "beta"])
    assert "need ≥ 2" in t.loc["one", "warnings"]
    assert "zero SOC stock" in t.loc["zero", "warnings"]
    assert t.loc["miss", "n_layers"] == 2 and "missing soc_density" in t.loc["miss", "warnings"]
    assert t.loc["over", "status"] == "not fitted"
    assert "overlapping" in t.loc["over", "warnings"]
    assert "gap 20–25 cm" in t.loc["gap", "warnings"]
    assert t.loc["gap", "status"] == "ok"
    # the two-layer profile has β but no AIC comparison
    assert np.isnan(t.loc["miss", "beta_se"]) and pd.isna(t.loc["miss", "best_model"])


def test_fit_depth_functions_fraction_method_and_model_subset():
    out = fit_depth_functions(_table(), method="fraction", models=("beta", "power"))
    t = out.set_index("profile_id")
    assert t.loc["P1", "beta"] < 0.97  # fraction method biased low (see fit_beta)
    assert_allclose(t.loc["P1", "asymptote"], 150.0 * (1 - 0.97**100), rtol=1e-12)
    # x_100 by Eq. 3 from the deepest layer: a profile measured to 100 cm keeps its stock
    assert_allclose(t.loc["P1", "x_100"], 150.0 * (1 - 0.97**100), rtol=1e-12)
    assert set(out["best_model"].dropna()) <= {"beta", "power"}


def test_fit_depth_functions_bad_input_is_located():
    layers = pd.DataFrame(
        {"profile_id": ["a", "a"], "top": [0, 20], "bottom": [20, 10], "soc_density": [5.0, 2.0]}
    )
    with pytest.raises(InputDataError, match=r"row 3 \(profile a\), field 'bottom'"):
        fit_depth_functions(layers)
    bad = layers.assign(bottom=[20, 40], soc_density=[5.0, -1.0])
    with pytest.raises(InputDataError, match="≥ 0"):
        fit_depth_functions(bad)
    text = layers.assign(bottom=[20, 40], top=["0", "x"])
    with pytest.raises(InputDataError, match="expected a number"):
        fit_depth_functions(text)
    with pytest.raises(MissingColumnError):
        fit_depth_functions(layers.drop(columns="soc_density"))
    with pytest.raises(InputDataError, match="unknown depth model"):
        fit_depth_functions(layers.assign(bottom=[20, 40]), models=("spline",))


def test_beta_model_estimator():
    m = BetaModel(method="stock")
    assert m.fit(_table()) is m
    assert_allclose(m.beta_["P1"], 0.97, atol=1e-9)
    assert m.beta_.index.name == "profile_id"
    assert set(m.table_["profile_id"]) == set(m.beta_.index)
    curve = m.cumulative_stock([20.0, 100.0])
    assert_allclose(curve.loc["P1", 100.0], 150.0 * (1 - 0.97**100), rtol=1e-8)
    assert np.isnan(curve.loc["one"]).all()


def test_many_profiles_fast_and_vectorized():
    # 5,000 profiles × 5 layers through the table entry point (no per-profile Python loop)
    rng = np.random.default_rng(1)
    P = 5000
    beta = rng.uniform(0.9, 0.995, P)
    tops = np.arange(0.0, 100.0, 20.0)
    layers = pd.DataFrame(
        {
            "profile_id": np.repeat([f"p{i}" for i in range(P)], 5),
            "top": np.tile(tops, P),
            "bottom": np.tile(tops + 20, P),
            "soc_density": (
                100
                * (
                    np.repeat(beta, 5) ** np.tile(tops, P)
                    - np.repeat(beta, 5) ** np.tile(tops + 20, P)
                )
            ),
        }
    )
    out = fit_depth_functions(layers, method="stock")
    assert np.max(np.abs(out["beta"].to_numpy() - beta)) < 1e-8
    assert (out["best_model"] == "beta").all()
