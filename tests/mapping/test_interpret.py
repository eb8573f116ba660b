"""Permutation importance, partial dependence and ICE curves (Wang H. et al. (2025) Fig. 2).

Sources of the reference numbers:
- Partial dependence of a linear model y = 2·x1 + 3 is exactly 2·v + 3 + Σ_k≠1 b_k·mean(x_k)
  (Friedman 2001, §8.2: for an additive model the partial dependence is the component function
  up to a constant), so its slope is exactly 2.
- ICE curves average to the partial dependence (Goldstein et al. 2015, Eq. 1 and §2).
- Permutation importance against scikit-learn 1.9.1 ``sklearn.inspection.permutation_importance``
  (peer program) with the same seed; a feature the model does not use has importance 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats.mstats import mquantiles
from sklearn.ensemble import RandomForestRegressor
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LinearRegression

from wholesoil.errors import InputDataError
from wholesoil.mapping._interpret import (
    partial_dependence_table,
    permutation_importance_table,
)
from wholesoil.plots import plot_importance, plot_partial_dependence


def _rf():
    return RandomForestRegressor(
        n_estimators=50, max_features=1 / 3, min_samples_leaf=5, random_state=0
    )


def _driver_table(n=240, seed=0):
    rng = np.random.default_rng(seed)
    t = pd.DataFrame(
        {
            "mat": rng.uniform(-5, 20, n),
            "clay": rng.uniform(5, 50, n),
            "noise": rng.uniform(0, 1, n),
            "pid": np.repeat(np.arange(n // 4), 4),
        }
    )
    t["beta"] = 0.90 + 0.004 * t["mat"] + 0.0005 * t["clay"] + rng.normal(0, 0.005, n)
    return t


FEATURES = ["mat", "clay", "noise"]


# ------------------------------------------------------------------------------------------
# permutation importance
# ------------------------------------------------------------------------------------------


def test_importance_out_of_fold_ranks_informative_above_noise():
    t = _driver_table()
    imp = permutation_importance_table(_rf(), t, "beta", FEATURES, groups="pid", n_repeats=5)
    assert imp["feature"].tolist() == ["mat", "clay", "noise"]
    assert list(imp.columns) == [
        "feature", "importance_mean", "importance_sd", "pct_inc_mse", "baseline_mse"
    ]
    row = imp.set_index("feature")
    assert row.loc["mat", "pct_inc_mse"] > 100.0  # permuting MAT more than doubles the MSE
    assert abs(row.loc["noise", "pct_inc_mse"]) < 10.0  # held out: noise does not help
    assert_allclose(
        imp["pct_inc_mse"], 100 * imp["importance_mean"] / imp["baseline_mse"], rtol=1e-12
    )
    assert imp["importance_mean"].is_monotonic_decreasing


def test_importance_of_a_fitted_model_matches_scikit_learn():
    t, held_out = _driver_table(seed=0), _driver_table(seed=1)
    model = _rf().fit(t[FEATURES], t["beta"])
    imp = permutation_importance_table(model, held_out, "beta", FEATURES, random_state=3)
    ref = permutation_importance(
        model, held_out[FEATURES], held_out["beta"], scoring="neg_mean_squared_error",
        n_repeats=10, random_state=3,
    )
    row = imp.set_index("feature").loc[FEATURES]
    assert_allclose(row["importance_mean"], ref.importances_mean, rtol=1e-12)
    assert_allclose(row["importance_sd"], ref.importances_std, rtol=1e-12)
    baseline = np.mean((model.predict(held_out[FEATURES]) - held_out["beta"]) ** 2)
    assert_allclose(row["baseline_mse"], baseline, rtol=1e-12)
    assert imp["feature"].iloc[0] == "mat" and imp["feature"].iloc[-1] == "noise"


def test_unused_feature_has_zero_importance():
    # limiting case: a model that ignores a column is unchanged when the column is permuted
    t = _driver_table()
    model = LinearRegression().fit(t[["mat", "clay"]], t["beta"])
    model.coef_ = np.array([model.coef_[0], 0.0])  # clay now unused, exactly
    imp = permutation_importance_table(model, t, "beta", ["mat", "clay"]).set_index("feature")
    assert imp.loc["clay", "importance_mean"] == 0.0 == imp.loc["clay", "importance_sd"]
    assert imp.loc["mat", "importance_mean"] > 0.0


def test_importance_errors():
    t = _driver_table()
    fitted = LinearRegression().fit(t[FEATURES], t["beta"])
    with pytest.raises(InputDataError, match="groups only apply"):
        permutation_importance_table(fitted, t, "beta", FEATURES, groups="pid")
    with pytest.raises(InputDataError, match="n_repeats"):
        permutation_importance_table(fitted, t, "beta", FEATURES, n_repeats=0)
    with pytest.raises(InputDataError, match="fitted on features"):
        permutation_importance_table(fitted, t, "beta", ["clay", "mat", "noise"])


# ------------------------------------------------------------------------------------------
# partial dependence and ICE
# ------------------------------------------------------------------------------------------


def _linear_fit():
    rng = np.random.default_rng(4)
    t = pd.DataFrame({"x1": rng.uniform(0, 10, 50), "x2": rng.uniform(-1, 1, 50)})
    t["y"] = 2.0 * t["x1"] + 3.0
    return t, LinearRegression().fit(t[["x1", "x2"]], t["y"])


def test_partial_dependence_of_a_linear_model_has_its_slope():
    t, model = _linear_fit()
    pd_table, ice = partial_dependence_table(model, t, ["x1", "x2"], grid_resolution=11)
    x1 = pd_table[pd_table["feature"] == "x1"]
    assert len(x1) == 11
    slope = np.diff(x1["average"]) / np.diff(x1["value"])
    assert_allclose(slope, 2.0, rtol=1e-10)  # closed form: d(2·v + 3)/dv
    assert_allclose(x1["average"], 2.0 * x1["value"] + 3.0, atol=1e-9)
    # grid spans the 5th to 95th percentiles of x1, as scikit-learn takes them (scipy's
    # mquantiles, plotting positions alphap = betap = 0.4), in equal steps
    ends = mquantiles(t["x1"], prob=[0.05, 0.95])
    assert_allclose(x1["value"].to_numpy(), np.linspace(*ends, 11), rtol=1e-12)
    # x2 does not enter y: flat partial dependence
    assert_allclose(pd_table.loc[pd_table["feature"] == "x2", "average"], 2 * t["x1"].mean() + 3,
                    atol=1e-9)
    assert list(ice.columns) == ["feature", "value", "curve", "prediction"]


@pytest.mark.parametrize("model_kind", ["linear", "forest"])
def test_ice_curves_average_to_the_partial_dependence(model_kind):
    t = _driver_table(n=120)
    model = (LinearRegression() if model_kind == "linear" else _rf()).fit(t[FEATURES], t["beta"])
    pd_table, ice = partial_dependence_table(model, t, FEATURES, grid_resolution=8, sample=500)
    assert ice["curve"].nunique() == len(t)  # sample ≥ n: every row is a curve
    mean_ice = ice.groupby(["feature", "value"], sort=False)["prediction"].mean().reset_index()
    merged = pd_table.merge(mean_ice, on=["feature", "value"], validate="one_to_one")
    assert len(merged) == len(pd_table) == 3 * 8
    assert_allclose(merged["prediction"], merged["average"], rtol=1e-12)
    # each ICE curve is the model's prediction for its row with the driver set to the grid value
    one = ice[(ice["feature"] == "mat") & (ice["curve"] == 7)]
    X = pd.concat([t.loc[[7], FEATURES]] * len(one), ignore_index=True).assign(
        mat=one["value"].to_numpy()
    )
    assert_allclose(one["prediction"], model.predict(X), rtol=1e-12)


def test_ice_sample_and_drivers():
    t = _driver_table(n=120)
    model = _rf().fit(t[FEATURES], t["beta"])
    pd_table, ice = partial_dependence_table(
        model, t, FEATURES, drivers=["clay"], grid_resolution=5, sample=30, random_state=2
    )
    assert pd_table["feature"].unique().tolist() == ["clay"]
    curves = ice["curve"].unique()
    assert curves.size == 30 and curves.min() >= 0 and curves.max() < 120
    assert len(ice) == 30 * 5
    _, again = partial_dependence_table(
        model, t, FEATURES, drivers=["clay"], grid_resolution=5, sample=30, random_state=2
    )
    assert_array_equal(again["curve"].unique(), curves)
    no_ice = partial_dependence_table(model, t, FEATURES, drivers=["clay"], ice=False)
    assert no_ice[1] is None


def test_partial_dependence_errors():
    t = _driver_table(n=40)
    model = LinearRegression().fit(t[FEATURES], t["beta"])
    with pytest.raises(InputDataError, match="not fitted"):
        partial_dependence_table(LinearRegression(), t, FEATURES)
    with pytest.raises(InputDataError, match=r"\['map'\] are not among"):
        partial_dependence_table(model, t, FEATURES, drivers=["map"])
    with pytest.raises(InputDataError, match="field 'noise': driver is constant"):
        partial_dependence_table(model, t.assign(noise=0.5), FEATURES)


# ------------------------------------------------------------------------------------------
# figures
# ------------------------------------------------------------------------------------------


def test_figures():
    t = _driver_table(n=120)
    model = _rf().fit(t[FEATURES], t["beta"])
    imp = permutation_importance_table(model, t, "beta", FEATURES, n_repeats=3)
    fig = plot_importance(imp)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    # drivers are shown with their quantity and unit where known (plots._style.axis_label)
    from wholesoil.plots._style import axis_label

    assert [lab.get_text() for lab in ax.get_yticklabels()] == [
        axis_label(f) for f in imp["feature"]]
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # most important on top
    assert isinstance(plot_importance(imp, column="importance_mean", max_features=2), Figure)
    with pytest.raises(InputDataError, match="column"):
        plot_importance(imp, column="gini")

    pd_table, ice = partial_dependence_table(model, t, FEATURES, grid_resolution=6, sample=25)
    fig = plot_partial_dependence(pd_table, ice, observed=t, ylabel="β", ncols=2)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_xlabel() for ax in visible] == [axis_label(f) for f in FEATURES]
    ice_lines = [c for c in visible[0].collections if isinstance(c, LineCollection)]
    assert len(ice_lines) == 1 and len(ice_lines[0].get_segments()) == 25
    assert len(visible[0].lines) == 2  # partial dependence and rug
    assert isinstance(plot_partial_dependence(pd_table), Figure)
