"""Area of applicability (Meyer & Pebesma 2021, Methods Ecol. Evol. 12:1620,
doi:10.1111/2041-210X.13650): hand-worked values and R's ``fivenum`` definition."""

import numpy as np
import pytest

from wholesoil.errors import InputDataError
from wholesoil.mapping import AreaOfApplicability
from wholesoil.mapping._applicability import fivenum, upper_whisker


def test_fivenum_matches_r_definition():
    # R: fivenum(1:6) = 1.0 2.0 3.5 5.0 6.0; fivenum(c(1, 2, 3, 4, 100)) = 1 2 3 4 100
    assert fivenum(np.arange(1, 7)) == pytest.approx([1, 2, 3.5, 5, 6])
    assert fivenum(np.array([1, 2, 3, 4, 100.0])) == pytest.approx([1, 2, 3, 4, 100])
    # R: boxplot.stats(c(1, 2, 3, 4, 100))$stats[5] = 4 (100 is beyond 4 + 1.5 · 2)
    assert upper_whisker(np.array([1, 2, 3, 4, 100.0])) == 4.0


def test_dissimilarity_hand_worked_one_covariate():
    # training x = −1, 0, 1: mean 0, sample sd 1, so standardized values are unchanged.
    # Mean distances to the other points: 1.5, 1, 1.5 → d̄ = 4/3 (Eq. 1).
    aoa = AreaOfApplicability().fit(np.array([[-1.0], [0.0], [1.0]]))
    assert aoa.mean_distance_ == pytest.approx(4 / 3)
    # no folds: each training point's nearest other point is 1 away → DI 0.75 = threshold
    assert aoa.train_di_ == pytest.approx([0.75, 0.75, 0.75])
    assert aoa.threshold_ == pytest.approx(0.75)
    # new points 0.5 and 3: nearest training points 0.5 and 2 away → DI 0.375 and 1.5
    new = np.array([[0.5], [3.0], [np.nan]])
    di = aoa.dissimilarity(new)
    assert di[:2] == pytest.approx([0.375, 1.5])
    assert np.isnan(di[2])
    assert aoa.inside(new).tolist() == [True, False, False]


def test_folds_restrict_training_neighbours():
    # folds (a, a, b): x=−1 may only use x=1 (distance 2), x=0 only x=1 (1), x=1 either (1);
    # DI = 1.5, 0.75, 0.75; hinges 0.75 and 1.125, fence 1.6875 → threshold 1.5 (Eq. 3–4)
    aoa = AreaOfApplicability().fit(np.array([[-1.0], [0.0], [1.0]]), folds=["a", "a", "b"])
    assert aoa.train_di_ == pytest.approx([1.5, 0.75, 0.75])
    assert aoa.threshold_ == pytest.approx(1.5)
    assert aoa.inside(np.array([[3.0], [3.1]])).tolist() == [True, False]


def test_weights_and_standardization():
    # two covariates on very different scales: standardization makes DI unit-free, so
    # rescaling a covariate changes nothing; a zero weight removes a covariate
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 2))
    new = rng.normal(size=(10, 2)) * 2
    a = AreaOfApplicability().fit(X)
    b = AreaOfApplicability().fit(X * [1.0, 1000.0])
    assert b.dissimilarity(new * [1.0, 1000.0]) == pytest.approx(a.dissimilarity(new))
    one = AreaOfApplicability(weights=np.array([1.0, 0.0])).fit(X)
    only = AreaOfApplicability().fit(X[:, :1])
    assert one.dissimilarity(new) == pytest.approx(only.dissimilarity(new[:, :1]))


def test_bad_training_data_is_named():
    with pytest.raises(InputDataError, match="training row 1 has a missing covariate"):
        AreaOfApplicability().fit(np.array([[0.0, 1.0], [np.nan, 2.0], [1.0, 0.0]]))
    with pytest.raises(InputDataError, match="no variance"):
        AreaOfApplicability().fit(np.array([[0.0, 1.0], [0.0, 2.0]]))


def test_blocked_mean_distance_and_round_trip():
    from scipy.spatial.distance import pdist

    from wholesoil.mapping._applicability import _mean_pairwise_distance

    rng = np.random.default_rng(2)
    Z = rng.normal(size=(300, 3))
    # Eq. 1 over ordered pairs equals the mean of the unordered pair distances
    assert _mean_pairwise_distance(Z, block=7) == pytest.approx(pdist(Z).mean(), rel=1e-12)
    a = AreaOfApplicability().fit(Z, folds=np.arange(300) % 5)
    b = AreaOfApplicability.from_arrays(a.to_arrays())
    new = rng.normal(size=(50, 3)) * 3
    assert b.threshold_ == a.threshold_
    assert np.array_equal(b.inside(new), a.inside(new))
