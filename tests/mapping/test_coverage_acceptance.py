"""Issue 3 acceptance: 90 % intervals of the methods that claim prediction intervals cover
85–95 % of held-out points, with wholesoil's own learners at their defaults.

Simulated from a known function with known, heteroscedastic noise:
y = 4·x1 + 2·sin(2π·x2) + ε, ε ~ N(0, (0.5 + x3)²), x ~ U(0, 1)⁴ (x4 pure noise);
2,000 training and 2,000 held-out rows, fixed seeds. Noise and signal have comparable spread, the
regime of soil data. (On Friedman #1 with σ = 1 the R-style QRF over-covers, 0.97–0.98: with
mtry = p/3 the leaves keep part of the signal's spread. Coverage is a property of data and
settings, which is why the train workflow measures it on held-out profiles every time.)
"""

from __future__ import annotations

import numpy as np
import pytest

from wholesoil.mapping import (
    CoulstonInterval,
    MonteCarloInterval,
    QuantileForest,
    RandomForest,
    coverage_table,
    quantile_interval,
)


def simulate(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.random((n, 4))
    noise = rng.normal(0.0, 1.0, n) * (0.5 + X[:, 2])
    return X, 4 * X[:, 0] + 2 * np.sin(2 * np.pi * X[:, 1]) + noise


@pytest.fixture(scope="module")
def coverage():
    X, y = simulate(2000, 0)
    Xt, yt = simulate(2000, 1)
    qrf = QuantileForest(n_estimators=200, random_state=0, n_jobs=-1).fit(X, y)
    forest = RandomForest(n_estimators=100, random_state=0, n_jobs=-1)
    coul = CoulstonInterval(forest=forest, n_boot=10, level=0.9, random_state=0).fit(X, y)
    mc = MonteCarloInterval(forest=forest, n_boot=5, n_draws=100, level=0.9,
                            random_state=0).fit(X, y)
    return coverage_table(
        {
            "qrf": quantile_interval(qrf, Xt, level=0.9),
            "coulston": coul.predict_interval(Xt),
            "monte_carlo": mc.predict_interval(Xt),
        },
        yt,
    )


@pytest.mark.parametrize("method", ["qrf", "coulston"])
def test_prediction_intervals_cover_85_to_95_percent(coverage, method):
    row = coverage.loc[method]
    assert row["kind"] == "prediction interval"
    assert 0.85 <= row["coverage"] <= 0.95, row["coverage"]


def test_monte_carlo_is_labelled_a_confidence_interval_of_the_mean(coverage):
    mc = coverage.loc["monte_carlo"]
    assert mc["kind"] == "confidence interval of the mean prediction"
    # it is not meant to cover new noisy observations, and it does not
    assert mc["coverage"] < 0.85
    assert mc["coverage"] < coverage.loc[["qrf", "coulston"], "coverage"].min()
