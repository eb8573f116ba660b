"""Safe model files: round trip, allow-list and checksum."""

from __future__ import annotations

import json

import numpy as np
import pytest
import skops.io as sio
from quantile_forest import RandomForestQuantileRegressor
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVR
from xgboost import XGBRegressor

from wholesoil.errors import InputDataError
from wholesoil.mapping._persist import load_model, save_model


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.random((200, 4))
    y = 3 * X[:, 0] + X[:, 1] ** 2 + rng.normal(0, 0.05, 200)
    return X, y


@pytest.mark.parametrize(
    "est",
    [
        RandomForestRegressor(n_estimators=10, random_state=0),
        RandomForestQuantileRegressor(n_estimators=10, random_state=0),
        XGBRegressor(n_estimators=10),
        make_pipeline(StandardScaler(), SVR()),
    ],
    ids=["rf", "qrf", "xgb", "svm"],
)
def test_round_trip_predicts_identically(tmp_path, data, est):
    X, y = data
    est.fit(X, y)
    save_model(est, tmp_path / "m", target="y", features=["a", "b", "c", "d"])
    loaded = load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.estimator.predict(X), est.predict(X))
    assert loaded.features == ["a", "b", "c", "d"]
    assert loaded.target == "y"
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["format"] == "wholesoil-model" and "scikit-learn" in meta["versions"]


def test_function_types_are_refused(tmp_path, data):
    # A FunctionTransformer stores a *function*: functions are never trusted, not even from an
    # builtin, only classes from the allow-listed packages.
    X, y = data
    est = make_pipeline(FunctionTransformer(abs), RandomForestRegressor(n_estimators=5))
    est.fit(X, y)
    save_model(est, tmp_path / "m")
    with pytest.raises(InputDataError, match=r"refusing to load.*builtins\.abs"):
        load_model(tmp_path / "m")


def test_checksum_mismatch_is_caught(tmp_path, data):
    X, y = data
    save_model(RandomForestRegressor(n_estimators=5).fit(X, y), tmp_path / "m")
    other = RandomForestRegressor(n_estimators=6).fit(X, y)
    sio.dump(other, tmp_path / "m" / "model.skops")
    with pytest.raises(InputDataError, match="checksum mismatch"):
        load_model(tmp_path / "m")


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(InputDataError, match="expected a model folder"):
        load_model(tmp_path / "nowhere")
