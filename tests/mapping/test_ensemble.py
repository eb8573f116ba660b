"""Wang G. et al.'s (manuscript) stacked ensemble: OOF ranking, PCR stack, effective weights, skipped members."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from wholesoil.mapping._ensemble import StackedEnsemble, pcr_path
from wholesoil.mapping._learners import RandomForest, SupportVectorRegressor


def _linear(n=200, seed=0):
    # y = x0 + x1 + x2 + N(0, 0.1²): a known linear function of three covariates
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.uniform(-1, 1, size=(n, 3)), columns=["map", "mat", "clay"])
    y = X.sum(axis=1).to_numpy() + 0.1 * rng.normal(size=n)
    return X, y


def _first_feature_only():
    # a weak member: linear regression on the first covariate alone
    return make_pipeline(ColumnTransformer([("x0", "passthrough", [0])]), LinearRegression())


@pytest.fixture(scope="module")
def linear_fit():
    X, y = _linear()
    ens = StackedEnsemble(
        members=(
            ("linear", LinearRegression()),
            ("x0_only", _first_feature_only()),
            ("mean", DummyRegressor()),
        ),
        n_keep=2,
        cv=5,
        random_state=0,
    ).fit(X, y)
    return X, y, ens


# ----------------------------------------------------------------------------- PCR


def test_pcr_with_all_components_is_ols():
    # exact: rotating onto all principal components spans the same column space
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(40, 3))
    y = Z @ [1.0, -2.0, 0.5] + 3.0 + rng.normal(size=40)
    coef, *_ = np.linalg.lstsq(np.column_stack([np.ones(40), Z]), y, rcond=None)
    for scale in (True, False):
        W, b = pcr_path(Z, y, scale=scale)
        assert_allclose(W[:, -1], coef[1:], rtol=1e-10)
        assert_allclose(b[-1], coef[0], rtol=1e-10)


def test_pcr_first_component_matches_scikit_learn_pca_regression():
    # peer: scikit-learn 1.9.1 StandardScaler → PCA(1) → LinearRegression
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(50, 3)) @ [[1, 0.8, 0.5], [0, 1, 0.3], [0, 0, 1]]
    y = Z[:, 0] + rng.normal(size=50)
    peer = make_pipeline(StandardScaler(), PCA(n_components=1), LinearRegression()).fit(Z, y)
    W, b = pcr_path(Z, y, scale=True)
    assert_allclose(Z @ W[:, 0] + b[0], peer.predict(Z), rtol=1e-10)
    peer = make_pipeline(PCA(n_components=2), LinearRegression()).fit(Z, y)
    W, b = pcr_path(Z, y, scale=False)
    assert_allclose(Z @ W[:, 1] + b[1], peer.predict(Z), rtol=1e-10)


# ----------------------------------------------------------------------------- stacking


def test_members_ranked_by_oof_rmse_and_best_kept(linear_fit):
    _, y, ens = linear_fit
    scores = ens.member_scores_
    assert list(scores.columns) == ["member", "rmse", "r2", "kept"]
    assert list(scores["member"]) == ["linear", "x0_only", "mean"]
    assert list(scores["kept"]) == [True, True, False]
    assert ens.kept_ == ["linear", "x0_only"]
    # Eq. 5 and Eq. 4 of the OOF predictions, by hand
    oof = ens.oof_predictions_[:, 0]
    assert_allclose(scores["rmse"][0], np.sqrt(np.mean((y - oof) ** 2)), rtol=1e-12)
    assert_allclose(
        scores["r2"][0], 1 - np.sum((y - oof) ** 2) / np.sum((y - y.mean()) ** 2), rtol=1e-12
    )


def test_stack_is_no_worse_than_its_worst_member_and_weights_favour_the_better(linear_fit):
    _, _, ens = linear_fit
    rmse = dict(zip(ens.member_scores_["member"], ens.member_scores_["rmse"], strict=True))
    assert ens.cv_rmse_ <= max(rmse[k] for k in ens.kept_)
    assert ens.cv_rmse_ <= 1.05 * rmse["linear"]  # close to the true model (noise sd 0.1)
    w = dict(zip(ens.kept_, ens.weights_, strict=True))
    assert w["linear"] > 0.8 and abs(w["x0_only"]) < 0.2  # Wang G. et al. (manuscript): better → larger weight
    assert ens.n_components_ == 2 and ens.component_rmse_.shape == (2,)


def test_predict_is_intercept_plus_weighted_member_predictions(linear_fit):
    X, _, ens = linear_fit
    members = np.column_stack([est.predict(X.to_numpy()) for est in ens.estimators_])
    assert_allclose(ens.predict(X), ens.intercept_ + members @ ens.weights_, rtol=1e-12)
    assert_allclose(ens.predict_members(X), members, rtol=1e-12)
    # the kept members were refitted on all rows: LinearRegression recovers slopes ≈ 1
    assert_allclose(ens.estimators_[0].coef_, 1.0, atol=0.05)
    shuffled = X[["clay", "map", "mat"]]
    assert_allclose(ens.predict(shuffled), ens.predict(X), rtol=0, atol=0)


def test_fixed_number_of_components():
    X, y = _linear(n=80, seed=3)
    ens = StackedEnsemble(
        members=(LinearRegression(), _first_feature_only()), n_keep=2, n_components=1, cv=4,
        random_state=0,
    ).fit(X, y)
    assert ens.n_components_ == 1
    assert_allclose(ens.cv_rmse_, ens.component_rmse_[0])
    assert ens.kept_ == ["linearregression", "pipeline"]  # names from the classes


def test_grouped_folds_never_split_a_profile():
    X, y = _linear(n=120, seed=4)
    groups = np.repeat(np.arange(24), 5)  # 24 profiles of 5 layers
    ens = StackedEnsemble(
        members=(LinearRegression(), DummyRegressor()), n_keep=2, cv=4, random_state=1
    ).fit(X, y, groups=groups)
    per_group = pd.Series(ens.fold_ids_).groupby(groups).nunique()
    assert (per_group == 1).all()
    assert sorted(np.unique(ens.fold_ids_)) == [0, 1, 2, 3]


def test_missing_optional_member_is_skipped_with_reason(monkeypatch):
    monkeypatch.setitem(sys.modules, "cubist", None)  # as if wholesoil[ml-extra] were absent
    X, y = _linear(n=60, seed=5)
    with pytest.warns(UserWarning, match="ensemble member 'cubist' skipped"):
        ens = StackedEnsemble(
            members=("cubist", LinearRegression(), DummyRegressor()), cv=3, random_state=0
        ).fit(X, y)
    assert "pip install 'wholesoil[ml-extra]'" in ens.skipped_["cubist"]
    assert ens.kept_ == ["linearregression", "dummyregressor"]  # fewer than n_keep=3 left
    assert ens.weights_.shape == (2,)
    with pytest.raises(ValueError, match="no ensemble member could be fitted"):
        with pytest.warns(UserWarning):
            StackedEnsemble(members=("cubist",), cv=3).fit(X, y)


def test_seed004_default_members_run_end_to_end():
    # the paper's five members by name, small settings; MARS is skipped, not crashed on, if
    # its module is absent
    rng = np.random.default_rng(6)
    X = pd.DataFrame(rng.uniform(-1, 1, size=(150, 4)), columns=list("abcd"))
    y = np.sin(3 * X["a"]) + X["b"] ** 2 + 0.5 * X["c"] + 0.1 * rng.normal(size=150)
    params = {"rf": {"n_estimators": 50}, "xgb": {"n_estimators": 50},
              "cubist": {"n_rules": 20}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ens = StackedEnsemble(member_params=params, random_state=0).fit(X, y)
    assert set(ens.member_names_) | set(ens.skipped_) == {"rf", "xgb", "cubist", "svm", "mars"}
    assert len(ens.kept_) == 3 and ens.kept_ == ens.member_names_[:3]
    for est in ens.estimators_:  # members built from names get the ensemble's seed
        assert est.get_params().get("random_state", 0) == 0
    assert ens.cv_rmse_ <= ens.member_scores_["rmse"].iloc[2]
    assert ens.predict(X).shape == (150,)
    assert_array_equal(ens.feature_names_in_, list("abcd"))


def test_member_instances_are_cloned_not_fitted_in_place():
    X, y = _linear(n=60, seed=7)
    rf = RandomForest(n_estimators=30, random_state=0)
    ens = StackedEnsemble(
        members=(rf, SupportVectorRegressor()), n_keep=2, cv=3, random_state=0
    ).fit(X, y)
    assert set(ens.kept_) == {"randomforest", "supportvectorregressor"}
    assert not hasattr(rf, "estimator_")  # scikit-learn convention: parameters stay unfitted
    assert ens.estimators_[ens.kept_.index("randomforest")] is not rf


def test_member_params_for_an_absent_member_are_refused():
    X, y = _linear(n=30, seed=8)
    with pytest.raises(ValueError, match=r"member_params given for \['rff'\]"):
        StackedEnsemble(members=("svm",), member_params={"rff": {}}).fit(X, y)
