"""Log-transformed targets and the stratified 80/20 split (options of Wang G. et al.'s (manuscript) ensemble)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.linear_model import LinearRegression

from wholesoil.errors import InputDataError
from wholesoil.mapping import LogTargetRegressor, make_learner, stratified_split


def test_log_target_recovers_exact_log_linear_model():
    # Exact answer: y = exp(1 + 2 x) is linear on the log scale; OLS there is exact.
    x = np.linspace(0, 1, 50)[:, None]
    y = np.exp(1 + 2 * x[:, 0])
    m = LogTargetRegressor(LinearRegression()).fit(x, y)
    assert_allclose(m.predict(x), y, rtol=1e-12)
    assert m.smearing_factor_ == 1.0
    # smearing: with zero residuals the factor is exactly 1
    assert_allclose(LogTargetRegressor(LinearRegression(), smearing=True).fit(x, y)
                    .smearing_factor_, 1.0, rtol=1e-12)
    # offset: y − 5 + 5 > 0
    m2 = LogTargetRegressor(LinearRegression(), offset=5.0).fit(x, y - 5.0)
    assert_allclose(m2.predict(x), y - 5.0, rtol=1e-10)


def test_log_target_smearing_is_duans_factor():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 1))
    y = np.exp(0.5 * x[:, 0] + rng.normal(0, 0.3, 400))
    m = LogTargetRegressor(LinearRegression(), smearing=True).fit(x, y)
    resid = np.log(y) - m.estimator_.predict(x)
    assert_allclose(m.smearing_factor_, np.mean(np.exp(resid)), rtol=1e-12)
    # Duan (1983): for normal log errors the factor estimates exp(σ²/2)
    assert abs(m.smearing_factor_ - np.exp(0.3**2 / 2)) < 0.02


def test_log_target_rejects_non_positive_and_make_learner_option():
    with pytest.raises(InputDataError, match="y \\+ offset > 0"):
        LogTargetRegressor(LinearRegression()).fit(np.ones((3, 1)), [1.0, 0.0, 2.0])
    est = make_learner("rf", n_estimators=20, log_target=True, random_state=1)
    assert isinstance(est, LogTargetRegressor)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3))
    y = np.exp(X[:, 0])
    assert (est.fit(X, y).predict(X) > 0).all()


def test_stratified_split_is_80_20_per_quantile_bin():
    rng = np.random.default_rng(4)
    y = rng.lognormal(size=1000)
    train, test = stratified_split(y, random_state=2)
    assert np.intersect1d(train, test).size == 0 and train.size + test.size == 1000
    assert test.size == 200
    edges = np.quantile(y, [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    bins = np.clip(np.searchsorted(edges, y, side="right") - 1, 0, 4)
    for b in range(5):
        assert np.mean(np.isin(np.flatnonzero(bins == b), test)) == pytest.approx(0.2, abs=0.01)
    # same seed, same split
    assert np.array_equal(stratified_split(y, random_state=2)[1], test)


def test_stratified_split_keeps_groups_whole():
    rng = np.random.default_rng(5)
    groups = np.repeat(np.arange(100), 5)
    y = np.repeat(rng.normal(size=100), 5) + rng.normal(0, 0.1, 500)
    train, test = stratified_split(y, groups=groups, random_state=0)
    assert not set(groups[train]) & set(groups[test])
    assert np.unique(groups[test]).size == 20
