"""Learners: R-style forests, tuning by bootstrap, the other ensemble members, the registry."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.ensemble import RandomForestRegressor

from wholesoil.errors import InputDataError, MissingColumnError, OptionalDependencyError
from wholesoil.mapping._learners import (
    LEARNERS,
    CubistRegressor,
    LearnerSpec,
    QuantileForest,
    RandomForest,
    SupportVectorRegressor,
    XGBoost,
    _prefix_mse,
    available_learners,
    bootstrap_resamples,
    default_mtry,
    make_learner,
    tune_forest,
)
from wholesoil.mapping._persist import load_model, save_model


def _data(n=120, p=6, seed=0, frame=True):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, p))
    y = 2.0 * X[:, 0] + np.sin(3 * X[:, 1]) + 0.1 * rng.normal(size=n)
    if frame:
        X = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    return X, y


@pytest.fixture(scope="module")
def forest_fit():
    X, y = _data()
    return X, y, RandomForest(n_estimators=200, random_state=1).fit(X, y)


# ----------------------------------------------------------------------------- RandomForest


def test_mtry_default_is_r_randomforest_regression_default():
    # R randomForest reference manual, randomForest(): for regression
    # mtry = max(floor(ncol(x)/3), 1)
    expected = {1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 2, 8: 2, 9: 3, 10: 3, 54: 18}
    for p, m in expected.items():
        assert default_mtry(p) == m
    X, y = _data(n=40, p=8, frame=False)
    rf = RandomForest(n_estimators=5, oob_score=False, random_state=0).fit(X, y)
    assert rf.mtry_ == 2
    assert rf.estimator_.max_features == 2  # not scikit-learn's default of all p features


def test_nodesize_leaves_nodes_of_at_most_nodesize_rows_unsplit(forest_fit):
    # R randomForest regTree (src/regTree.c): a daughter node with nodepop <= nodesize is
    # terminal. So every split node held > 5 rows, yet leaves may hold fewer than 5.
    _, _, rf = forest_fit
    internal_min, leaf_min = np.inf, np.inf
    for tree in rf.estimator_.estimators_:
        t = tree.tree_
        split = t.children_left != -1
        internal_min = min(internal_min, t.n_node_samples[split].min())
        leaf_min = min(leaf_min, t.n_node_samples[~split].min())
    assert internal_min >= 6
    assert leaf_min < 5  # nodesize is not a minimum leaf size


def test_oob_scores_follow_eq4_eq5_and_r_rsq(forest_fit):
    _, y, rf = forest_fit
    assert np.all(rf.oob_n_trees_ > 0)  # 200 trees leave every row out at least once
    res = y - rf.oob_prediction_
    # Wang H. et al. (2025) Eq. 4 and Eq. 5, by hand
    r2 = 1 - np.sum(res**2) / np.sum((y - y.mean()) ** 2)
    assert_allclose(rf.oob_r2_, r2, rtol=1e-12)
    assert_allclose(rf.oob_mse_, np.mean(res**2), rtol=1e-12)
    assert_allclose(rf.oob_rmse_, np.sqrt(np.mean(res**2)), rtol=1e-12)
    # R randomForest.default: rsq = 1 - mse / (var(y) * (n - 1) / n)
    n = y.size
    assert_allclose(rf.oob_r2_, 1 - rf.oob_mse_ / (np.var(y, ddof=1) * (n - 1) / n), rtol=1e-12)


def test_oob_prediction_equals_scikit_learns_for_the_same_forest(forest_fit):
    # peer: scikit-learn 1.9.1 RandomForestRegressor(oob_score=True) grown with the same seed
    X, y, rf = forest_fit
    peer = RandomForestRegressor(
        n_estimators=200, max_features=rf.mtry_, min_samples_split=6, oob_score=True,
        random_state=1,
    ).fit(X.to_numpy(), y)
    assert_allclose(rf.oob_prediction_, peer.oob_prediction_, rtol=1e-12)
    assert_allclose(rf.predict(X), peer.predict(X.to_numpy()), rtol=1e-12)


def test_rows_never_out_of_bag_are_nan_and_warned():
    X, y = _data(n=60)
    with pytest.warns(UserWarning, match="no out-of-bag prediction"):
        rf = RandomForest(n_estimators=1, random_state=0).fit(X, y)
    never = rf.oob_n_trees_ == 0
    assert never.any()
    assert np.all(np.isnan(rf.oob_prediction_[never]))
    assert np.all(np.isfinite(rf.oob_prediction_[~never]))
    assert np.isfinite(rf.oob_r2_)


def test_predict_is_mean_of_tree_predictions_and_sd_their_spread(forest_fit):
    X, _, rf = forest_fit
    trees = rf.predict_trees(X.iloc[:25])
    assert trees.shape == (200, 25)
    assert_allclose(rf.predict(X.iloc[:25]), trees.mean(axis=0), rtol=1e-12)
    assert_allclose(rf.predict_sd(X.iloc[:25]), trees.std(axis=0, ddof=1), rtol=1e-12)


def test_dataframe_columns_are_matched_by_name(forest_fit):
    X, _, rf = forest_fit
    assert_array_equal(rf.feature_names_in_, X.columns)
    shuffled = X[X.columns[::-1]].assign(elevation=1.0)  # reordered, plus an unused column
    assert_allclose(rf.predict(shuffled), rf.predict(X), rtol=0, atol=0)
    with pytest.raises(MissingColumnError, match=r"\['x2'\]"):
        rf.predict(X.drop(columns="x2"))
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        rf.predict(X.to_numpy()[:3])


def test_nan_feature_is_located_at_fit_and_predict():
    X, y = _data(n=40)
    bad = X.copy()
    bad.loc[7, "x3"] = np.nan
    with pytest.raises(InputDataError, match=r"row 9, field 'x3'.*NaN") as info:
        RandomForest(n_estimators=5).fit(bad, y)
    assert info.value.field == "x3" and info.value.row == 9  # header row 1, first data row 2
    rf = RandomForest(n_estimators=5, oob_score=False, random_state=0).fit(X, y)
    with pytest.raises(InputDataError, match="NaN"):
        rf.predict(bad)
    arr = X.to_numpy().copy()
    arr[3, 1] = np.inf
    with pytest.raises(InputDataError, match=r"row index 3, column index 1"):
        RandomForest(n_estimators=5).fit(arr, y)
    with pytest.raises(InputDataError, match="no variance"):
        RandomForest(n_estimators=5).fit(X, np.ones(len(y)))


def test_mtry_out_of_range_is_refused():
    X, y = _data(n=30, p=3)
    for bad in (0, 4, 1.5):
        with pytest.raises(ValueError, match=r"mtry must be an integer in \[1, 3\]"):
            RandomForest(n_estimators=5, mtry=bad).fit(X, y)


# ----------------------------------------------------------------------------- QuantileForest


def test_quantile_forest_quantiles_are_ordered_and_mean_matches_trees():
    X, y = _data(n=150, seed=3)
    qrf = QuantileForest(n_estimators=100, random_state=0).fit(X, y)
    q = qrf.predict_quantiles(X.iloc[:40], quantiles=(0.05, 0.25, 0.5, 0.75, 0.95))
    assert q.shape == (40, 5)
    assert np.all(np.diff(q, axis=1) >= 0)  # a quantile function is non-decreasing
    # quantiles of a weighted distribution of training targets stay within their range
    assert q.min() >= y.min() and q.max() <= y.max()
    assert_allclose(qrf.predict(X.iloc[:40]), qrf.predict_trees(X.iloc[:40]).mean(0), rtol=1e-9)
    # peer: quantile-forest 1.4.2's weighted mean of the leaf targets, all targets kept per leaf
    peer = qrf.estimator_.predict(
        X.iloc[:40].to_numpy(), quantiles="mean", aggregate_leaves_first=False
    )
    assert_allclose(qrf.predict(X.iloc[:40]), peer, rtol=1e-9)
    assert qrf.mtry_ == 2 and 0.5 < qrf.oob_r2_ < 1
    with pytest.raises(ValueError, match=r"in \(0, 1\)"):
        qrf.predict_quantiles(X.iloc[:2], quantiles=(0.5, 1.0))


def test_quantile_forest_without_information_returns_marginal_quantiles():
    # limiting case of Meinshausen (2006) Eq. 4-6: when X cannot split the data every tree is
    # one leaf, all weights are ~1/n (bootstrap multiplicities average to 1 over 200 trees) and
    # the conditional quantiles are the empirical quantiles of y
    rng = np.random.default_rng(4)
    y = rng.normal(size=200)
    X = np.zeros((200, 2))
    qrf = QuantileForest(n_estimators=200, random_state=0).fit(X, y)
    probs = (0.05, 0.25, 0.5, 0.75, 0.95)
    assert_allclose(qrf.predict_quantiles(X[:3], probs), np.tile(np.quantile(y, probs), (3, 1)),
                    atol=0.03)
    assert_allclose(qrf.predict(X[:3]), y.mean(), atol=0.03)


# ----------------------------------------------------------------------------- tune_forest


def test_bootstrap_resamples_draw_e1071_sizes():
    # e1071 tune(): sample(n, n * boot.size, replace = TRUE); hold-out = rows not drawn
    for train, hold in bootstrap_resamples(50, n_boot=5, boot_size=0.9, random_state=0):
        assert train.size == 45
        assert_array_equal(hold, np.setdiff1d(np.arange(50), train))


def test_grouped_bootstrap_never_puts_a_group_in_training_and_holdout():
    rng = np.random.default_rng(2)
    groups = np.repeat([f"P{i}" for i in range(30)], rng.integers(1, 6, size=30))
    n = groups.size
    for train, hold in bootstrap_resamples(n, n_boot=20, groups=groups, random_state=4):
        assert not set(groups[train]) & set(groups[hold])
        assert set(groups[train]) | set(groups[hold]) == set(groups)
        # a drawn profile brings all its layers, once per draw: 27 of 30 profiles drawn
        drawn = pd.Series(groups[train]).value_counts()
        sizes = pd.Series(groups).value_counts()
        mult = drawn / sizes[drawn.index]
        assert np.all(mult == np.round(mult)) and mult.sum() == 27


def test_prefix_mse_equals_forests_of_the_first_trees():
    rng = np.random.default_rng(5)
    preds = rng.normal(size=(9, 12))
    y = rng.normal(size=12)
    mask = rng.random((9, 12)) < 0.4
    got = _prefix_mse(preds, y, [1, 4, 9])
    want = [np.mean((y - preds[:k].mean(0)) ** 2) for k in (1, 4, 9)]
    assert_allclose(got, want, rtol=1e-12)
    got = _prefix_mse(preds, y, [3, 9], mask=mask)
    for value, k in zip(got, (3, 9), strict=True):
        m = mask[:k]
        have = m.any(0)
        oob = (preds[:k] * m).sum(0)[have] / m.sum(0)[have]
        assert_allclose(value, np.mean((y[have] - oob) ** 2), rtol=1e-12)


def test_tune_forest_grid_best_and_groups():
    X, y = _data(n=80, p=4, seed=7)
    groups = np.arange(80) // 4
    res = tune_forest(
        X, y, mtry=(1, 2, 4), n_estimators=(10, 30), n_boot=3, groups=groups, random_state=0
    )
    assert list(res.table.columns) == ["mtry", "n_estimators", "mse", "rmse", "sd"]
    assert len(res.table) == 6
    best = res.table.loc[res.table["mse"].idxmin()]
    assert res.best_params == {"mtry": int(best.mtry), "n_estimators": int(best.n_estimators)}
    assert_allclose(res.table["rmse"], np.sqrt(res.table["mse"]))
    assert res.best_estimator.mtry_ == res.best_params["mtry"]
    assert res.best_estimator.n_estimators_ == res.best_params["n_estimators"]
    assert len(res.resamples) == 3
    for train, hold in res.resamples:
        assert not set(groups[train]) & set(groups[hold])
    # mtry = 1 on a target driven by x0 (slope 2) and x1 is worse than using more features
    table = res.table.set_index(["mtry", "n_estimators"])
    assert table.loc[(1, 30), "mse"] > table.loc[(4, 30), "mse"]


def test_tune_forest_oob_method_and_refusals():
    X, y = _data(n=60, p=3, seed=8)
    res = tune_forest(X, y, n_estimators=(20, 40), method="oob")
    assert len(res.table) == 6 and res.table["sd"].isna().all() and res.resamples == []
    with pytest.raises(ValueError, match="use method='bootstrap' with groups"):
        tune_forest(X, y, method="oob", groups=np.arange(60) // 3)
    with pytest.raises(ValueError, match="mtry must be an integer"):
        tune_forest(X, y, mtry=(5,), n_estimators=(5,))


# ----------------------------------------------------------------------------- other members


def test_svr_standardizes_the_target_like_e1071():
    # e1071::svm scales x and y (scale = TRUE), so predictions are equivariant to y → a·y + b
    X, y = _data(n=80, frame=False)
    base = SupportVectorRegressor().fit(X, y).predict(X[:10])
    scaled = SupportVectorRegressor().fit(X, 1000.0 * y + 7.0).predict(X[:10])
    assert_allclose(scaled, 1000.0 * base + 7.0, rtol=1e-6)
    raw = SupportVectorRegressor(scale_target=False).fit(X, 1000.0 * y).predict(X[:10])
    assert not np.allclose(raw, 1000.0 * base, rtol=1e-3)


def test_xgboost_is_reproducible_and_learns():
    X, y = _data(n=100)
    a = XGBoost(n_estimators=50, random_state=3).fit(X, y)
    b = XGBoost(n_estimators=50, random_state=3).fit(X, y)
    assert_array_equal(a.predict(X), b.predict(X))
    assert a.score(X, y) > 0.9
    assert a.feature_importances_.shape == (6,)
    assert a.estimator_.get_params()["n_jobs"] == 1  # None means one job, as in scikit-learn


def test_cubist_without_its_package_raises_with_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "cubist", None)  # import cubist → ImportError
    X, y = _data(n=30)
    with pytest.raises(OptionalDependencyError, match=r"pip install 'wholesoil\[ml-extra\]'"):
        CubistRegressor().fit(X, y)
    table = available_learners().set_index("name")
    assert not table.loc["cubist", "available"]
    assert "ml-extra" in table.loc["cubist", "reason"]
    assert table.loc["rf", "available"]


@pytest.mark.parametrize(
    "estimator",
    [
        RandomForest(n_estimators=10, random_state=0),
        QuantileForest(n_estimators=10, random_state=0),
        XGBoost(n_estimators=10),
        SupportVectorRegressor(),
        CubistRegressor(n_committees=2, neighbors=3),
    ],
    ids=lambda e: type(e).__name__,
)
def test_learner_round_trips_through_a_safe_model_file(estimator, tmp_path):
    X, y = _data(n=60)
    estimator.fit(X, y)
    save_model(estimator, tmp_path / "m")
    loaded = load_model(tmp_path / "m").estimator
    assert_allclose(loaded.predict(X), estimator.predict(X), rtol=1e-12)
    assert_array_equal(loaded.feature_names_in_, X.columns)


# ----------------------------------------------------------------------------- registry


def test_make_learner_by_name():
    assert list(LEARNERS) == ["rf", "qrf", "xgb", "svm", "cubist", "mars", "ensemble"]
    rf = make_learner("RF", n_estimators=7, random_state=3)
    assert isinstance(rf, RandomForest) and rf.n_estimators == 7 and rf.random_state == 3
    assert isinstance(make_learner("svm", random_state=3), SupportVectorRegressor)  # ignored
    with pytest.raises(ValueError, match="rf, qrf, xgb, svm, cubist, mars, ensemble"):
        make_learner("gbm")
    with pytest.raises(TypeError):
        make_learner("svm", n_estimators=3)


def test_available_learners_reports_instead_of_raising(monkeypatch):
    monkeypatch.setitem(
        LEARNERS, "broken", LearnerSpec("test entry", RandomForest, requires=("no_such_mod_x",))
    )
    monkeypatch.setitem(
        LEARNERS, "noattr", LearnerSpec("test entry", RandomForest, requires=("numpy:NoSuch",))
    )
    table = available_learners().set_index("name")
    assert list(table.columns) == ["available", "reason", "extra", "description"]
    assert not table.loc["broken", "available"] and "no_such_mod_x" in table.loc["broken", "reason"]
    assert not table.loc["noattr", "available"] and "NoSuch" in table.loc["noattr", "reason"]
    assert table.loc[["rf", "qrf", "xgb", "svm", "ensemble"], "available"].all()
