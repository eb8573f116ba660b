"""Grouped and spatial cross-validation, skill by depth band, independent validation.

Sources of the reference numbers:
- R² and RMSE: Wang et al. (Wang H. et al. (2025)) §2.5 Eqs. 4–5, recomputed here from the predictions.
- Great-circle distances: exact arcs along a meridian or the equator on a sphere of radius
  6371.0088 km (mean Earth radius R₁ of WGS84/GRS80, Moritz 2000), 1° = 2π·6371.0088/360 km.
- Depth bands: Wang G. et al. (2025) (Fig. 1e) topsoil 0–30, subsoil 30–100, deep soil 100–200 cm; the
  band numbers are a hand-made example worked in the comments.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.figure import Figure
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold, ShuffleSplit, cross_val_score

from wholesoil.errors import InputDataError, MissingColumnError
from wholesoil.mapping._cv import (
    EARTH_RADIUS_KM,
    CVResult,
    ProfileKFold,
    SpatialBlockKFold,
    ValidationResult,
    cross_validate,
    depthwise_metrics,
    haversine_km,
    validate_independent,
)
from wholesoil.plots import plot_cv_depth, plot_cv_observed_predicted

KM_PER_DEGREE = 2.0 * math.pi * 6371.0088 / 360.0  # 111.19508 km, exact on the sphere


def _rf():
    return RandomForestRegressor(
        n_estimators=50, max_features=1 / 3, min_samples_leaf=5, random_state=0
    )


def _layer_table(n_profiles=40, seed=0):
    """Synthetic profiles: seven layers of Wang G. et al. (2025) (0–10 … 150–200 cm) per site."""
    rng = np.random.default_rng(seed)
    tops = np.array([0, 10, 20, 30, 50, 100, 150], float)
    bottoms = np.array([10, 20, 30, 50, 100, 150, 200], float)
    n_layers = tops.size
    pid = np.repeat(np.arange(n_profiles), n_layers)
    mat = np.repeat(rng.normal(8.0, 3.0, n_profiles), n_layers)
    table = pd.DataFrame(
        {
            "profile_id": [f"P{i:03d}" for i in pid],
            "lat": np.repeat(rng.uniform(35, 55, n_profiles), n_layers),
            "lon": np.repeat(rng.uniform(90, 130, n_profiles), n_layers),
            "mat": mat,
            "clay": rng.uniform(5, 40, pid.size),
            "top": np.tile(tops, n_profiles),
            "bottom": np.tile(bottoms, n_profiles),
        }
    )
    # stocks driven by MAT near the surface, noise at depth (the pattern of Wang G. et al. (2025))
    decay = np.exp(-table["top"] / 30.0)
    table["soc"] = decay * (4.0 + 0.6 * mat) + rng.normal(0, 0.25, pid.size)
    return table


# ------------------------------------------------------------------------------------------
# ProfileKFold
# ------------------------------------------------------------------------------------------


@given(
    sizes=st.lists(st.integers(1, 6), min_size=2, max_size=25),
    n_splits=st.integers(2, 10),
    shuffle=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_profile_kfold_never_splits_a_profile(sizes, n_splits, shuffle, seed):
    # property: every row tested exactly once, no profile on both sides, folds balanced by rows
    n_splits = min(n_splits, len(sizes))
    groups = np.repeat(np.arange(len(sizes)) * 7 + 3, sizes)  # arbitrary ids
    groups = np.random.default_rng(seed).permutation(groups)  # layers need not be contiguous
    X = np.zeros((groups.size, 1))
    cv = ProfileKFold(n_splits, shuffle=shuffle, random_state=seed if shuffle else None)
    tested = np.zeros(groups.size, int)
    fold_rows = []
    for train, test in cv.split(X, groups=groups):
        assert np.intersect1d(groups[train], groups[test]).size == 0
        assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(groups.size))
        tested[test] += 1
        fold_rows.append(test.size)
    assert_array_equal(tested, 1)
    assert len(fold_rows) == n_splits and min(fold_rows) > 0
    # dealing largest-first, one profile per fold per round: spread ≤ largest profile
    assert max(fold_rows) - min(fold_rows) <= max(sizes)


def test_profile_kfold_equal_profiles_give_equal_folds():
    # 20 profiles of 5 layers in 10 folds: exactly 2 profiles (10 rows) per fold
    groups = np.repeat(np.arange(20), 5)
    folds = ProfileKFold(10, random_state=1).test_folds(np.zeros(100), groups=groups)
    assert_array_equal(np.bincount(folds), 10)


def test_profile_kfold_reproducible_and_seeded():
    groups = np.repeat(np.arange(30), 3)
    X = np.zeros(90)
    a = ProfileKFold(5, random_state=3).test_folds(X, groups=groups)
    b = ProfileKFold(5, random_state=3).test_folds(X, groups=groups)
    c = ProfileKFold(5, random_state=4).test_folds(X, groups=groups)
    assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_profile_kfold_more_folds_than_profiles():
    groups = np.repeat(np.arange(7), 3)
    with pytest.raises(InputDataError, match=r"10 folds need at least 10 profiles; got 7"):
        list(ProfileKFold(10).split(np.zeros(21), groups=groups))


def test_profile_kfold_missing_groups():
    with pytest.raises(InputDataError, match="needs groups"):
        list(ProfileKFold(2).split(np.zeros(4)))
    with pytest.raises(InputDataError, match="every row needs a group"):
        list(ProfileKFold(2).split(np.zeros(4), groups=["a", "b", None, "c"]))
    with pytest.raises(InputDataError, match="one group"):
        list(ProfileKFold(2).split(np.zeros(4), groups=["a", "b", "c"]))
    with pytest.raises(InputDataError, match="n_splits"):
        list(ProfileKFold(1).split(np.zeros(4), groups=[1, 2, 3, 4]))


def test_profile_kfold_is_a_scikit_learn_splitter():
    # exact linear data: every fold's R² is 1 (limiting case), through sklearn's own loop
    x = np.arange(30, dtype=float)[:, None]
    y = 2.0 * x[:, 0] + 3.0
    scores = cross_val_score(
        LinearRegression(), x, y, groups=np.repeat(np.arange(10), 3), cv=ProfileKFold(5)
    )
    assert_allclose(scores, 1.0, atol=1e-12)
    assert ProfileKFold(4).get_n_splits() == 4
    assert "ProfileKFold(n_splits=4" in repr(ProfileKFold(4))


# ------------------------------------------------------------------------------------------
# SpatialBlockKFold
# ------------------------------------------------------------------------------------------


def test_spatial_folds_keep_blocks_whole():
    rng = np.random.default_rng(5)
    X = pd.DataFrame({"lat": rng.uniform(-60, 70, 400), "lon": rng.uniform(-180, 180, 400)})
    cv = SpatialBlockKFold(5, block_size=20.0, random_state=0)
    block = cv.block_ids(X)
    # block of each row by hand: 20° cells from (−90°, −180°), 18 cells of longitude per band
    by_hand = np.floor((X["lat"] + 90) / 20).astype(int) * 18 + np.floor((X["lon"] + 180) / 20)
    assert_array_equal(block, by_hand.to_numpy())
    fold = cv.test_folds(X)
    for b in np.unique(block):
        assert np.unique(fold[block == b]).size == 1
    tested = np.zeros(len(X), int)
    for train, test in cv.split(X):
        assert np.intersect1d(block[train], block[test]).size == 0
        tested[test] += 1
    assert_array_equal(tested, 1)


def test_spatial_groups_stay_whole_by_their_first_row():
    # profile "p" has a second row whose coordinates fall in another block: it follows row 0
    X = pd.DataFrame({"lat": [0.5, 1.5, 1.5, 2.5, 3.5], "lon": [0.5] * 5})
    groups = np.array(["p", "p", "q", "r", "s"])
    cv = SpatialBlockKFold(2, block_size=1.0, random_state=0)
    block = cv.block_ids(X, groups)
    assert block[1] == block[0] != block[2]
    for train, test in cv.split(X, groups=groups):
        assert np.intersect1d(groups[train], groups[test]).size == 0


def _meridian_table():
    # five sites on the meridian 0.5° E, in 1° blocks A = [0, 1) and B = [1, 2) of latitude
    return pd.DataFrame(
        {"lat": [0.5, 0.1, 1.3, 1.5, 1.8], "lon": [0.5] * 5}, index=list("ABCDE")
    )  # a1, a2, b1, b2, b3


@pytest.mark.parametrize(
    ("buffer_km", "train_if_test_a", "train_if_test_b"),
    [
        # arcs along the meridian (km = Δlat · 111.19508): a1–b1 0.8° = 88.96, a1–b2 1.0° =
        # 111.20, a1–b3 1.3° = 144.55, a2–b1 1.2° = 133.43, a2–b2 1.4°, a2–b3 1.7°
        (0.0, [2, 3, 4], [0, 1]),
        (100.0, [3, 4], [1]),  # drops b1 (88.96) / a1 (88.96)
        (111.2, [4], [1]),  # also b2 at 111.195 ≤ 111.2
        (111.19, [3, 4], [1]),  # ... but not below 111.195
        (133.4, [4], [1]),  # a2–b1 at 133.43 km still kept
    ],
)
def test_spatial_buffer_drops_exactly_the_rows_within_buffer_km(
    buffer_km, train_if_test_a, train_if_test_b
):
    X = _meridian_table()
    cv = SpatialBlockKFold(2, block_size=1.0, buffer_km=buffer_km, random_state=0)
    seen = {"a" if 0 in test else "b": train.tolist() for train, test in cv.split(X)}
    assert seen == {"a": train_if_test_a, "b": train_if_test_b}
    assert_allclose(1.2 * KM_PER_DEGREE, 133.4341, atol=1e-4)


def test_spatial_buffer_that_leaves_no_training_rows():
    # a2–b1 at 133.43 km ≤ 140: when block B is tested, both rows of A are dropped
    cv = SpatialBlockKFold(2, block_size=1.0, buffer_km=140.0, random_state=0)
    with pytest.raises(InputDataError, match="leaves no training rows"):
        list(cv.split(_meridian_table()))


def test_spatial_buffer_along_the_equator_and_across_the_antimeridian():
    # equator: (0, 0.5)–(0, 1.4) is 0.9° = 100.08 km; (0, 179.8)–(0, −179.7) is 0.5° = 55.60 km
    X = pd.DataFrame({"lat": [0.0] * 5, "lon": [0.5, 1.4, 3.5, 179.8, -179.7]})
    assert_allclose(0.9 * KM_PER_DEGREE, 100.0756, atol=1e-4)
    cv = SpatialBlockKFold(5, block_size=1.0, buffer_km=100.1, shuffle=False)
    trains = {int(test[0]): set(train.tolist()) for train, test in cv.split(X)}
    assert trains[0] == {2, 3, 4}  # 1 dropped (100.08 km)
    assert trains[1] == {2, 3, 4}  # 0 dropped; 2 at 2.1° = 233.5 km kept
    assert trains[3] == {0, 1, 2}  # 4 dropped across ±180°
    assert trains[4] == {0, 1, 2}
    cv = SpatialBlockKFold(5, block_size=1.0, buffer_km=100.0, shuffle=False)
    assert {int(t[0]): set(tr.tolist()) for tr, t in cv.split(X)}[0] == {1, 2, 3, 4}


def test_haversine_closed_forms():
    # 1° of a meridian; a quarter meridian (pole to equator); antipodes = half circumference
    assert_allclose(haversine_km(10.0, 20.0, 11.0, 20.0), KM_PER_DEGREE, rtol=1e-12)
    assert_allclose(haversine_km(0.0, 0.0, 90.0, 0.0), math.pi / 2 * 6371.0088, rtol=1e-12)
    assert_allclose(haversine_km(0.0, 0.0, 0.0, 180.0), math.pi * 6371.0088, rtol=1e-12)
    # 60° N: the arc between meridians 1° apart is shorter than the parallel (cos 60° · 1°)
    d = haversine_km(60.0, 0.0, 60.0, 1.0)
    assert d < 0.5 * KM_PER_DEGREE
    # exact: central angle θ with sin(θ/2) = cos 60° · sin(0.5°)
    assert_allclose(d, 2 * 6371.0088 * math.asin(0.5 * math.sin(math.radians(0.5))), rtol=1e-12)


def test_spatial_buffer_equals_brute_force():
    # every training row dropped is within buffer_km of a test row, by the full distance matrix
    rng = np.random.default_rng(11)
    X = pd.DataFrame({"lat": rng.uniform(40, 50, 150), "lon": rng.uniform(170, 190, 150) - 360 * (
        rng.random(150) < 0.5)})  # longitudes on both sides of the antimeridian
    cv = SpatialBlockKFold(3, block_size=2.0, buffer_km=80.0, random_state=0)
    lat, lon = X["lat"].to_numpy(), X["lon"].to_numpy()
    dist = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    dropped_any = 0
    for train, test in cv.split(X):
        others = np.setdiff1d(np.arange(len(X)), test)
        within = dist[np.ix_(others, test)].min(axis=1) <= 80.0
        assert_array_equal(others[~within], train)
        dropped_any += within.sum()
    assert dropped_any > 0


def test_earth_radius_is_the_wgs84_mean_radius():
    # R₁ = (2a + b)/3 with a = 6378137 m, b = 6356752.314245 m (WGS84)
    assert_allclose(EARTH_RADIUS_KM, (2 * 6378.137 + 6356.752314245) / 3, atol=1e-4)


def test_spatial_coords_at_init_equal_dataframe_columns():
    rng = np.random.default_rng(2)
    lat, lon = rng.uniform(-40, 40, 200), rng.uniform(-100, 100, 200)
    X = pd.DataFrame({"y": lat, "x": lon})
    a = SpatialBlockKFold(4, block_size=10.0, lat="y", lon="x", random_state=1).test_folds(X)
    b = SpatialBlockKFold(
        4, block_size=10.0, coords=np.column_stack([lat, lon]), random_state=1
    ).test_folds(np.zeros((200, 3)))
    assert_array_equal(a, b)


def test_spatial_errors():
    X = pd.DataFrame({"lat": [0.5, 0.6, 1.5], "lon": [0.5, 0.5, 0.5]})
    with pytest.raises(InputDataError, match=r"5 folds need at least 5 occupied blocks; got 2"):
        list(SpatialBlockKFold(5, block_size=1.0).split(X))
    with pytest.raises(InputDataError, match="needs coordinates"):
        list(SpatialBlockKFold(2).split(np.zeros((3, 2))))
    with pytest.raises(MissingColumnError, match="latitude"):
        list(SpatialBlockKFold(2, lat="latitude").split(X))
    bad = X.assign(lat=[0.5, 95.0, 1.5])
    with pytest.raises(InputDataError, match=r"row 3, field 'lat'.*got 95\.0"):
        list(SpatialBlockKFold(2, block_size=1.0).split(bad))
    with pytest.raises(InputDataError, match="coords must be"):
        list(SpatialBlockKFold(2, coords=np.zeros((2, 2))).split(X))


# ------------------------------------------------------------------------------------------
# depth bands
# ------------------------------------------------------------------------------------------

# Hand-made layers (top, bottom, observed, predicted) and their bands by midpoint:
#   0–10, 10–20, 20–30 → 0–30:    obs 10, 8, 6   pred 9, 8, 7
#       residuals −1, 0, 1: SSE 2, SST (4+0+4) = 8 → R² = 0.75, RMSE = √(2/3), bias 0
#   20–40 (midpoint 30), 40–60, 60–100 → 30–100 (half-open [30, 100)): obs 5, 4, 3  pred 4, 4, 4
#       residuals −1, 0, 1: SSE 2, SST 2 → R² = 0, RMSE = √(2/3), bias 0
#   100–150, 150–200 → 100–200:   obs 1.5, 0.5   pred 1.0, 0.0
#       residuals −0.5, −0.5: SSE 0.5, SST 0.5 → R² = 0, RMSE = 0.5, bias −0.5
#   200–300: no layer → n 0, NaN
LAYERS = pd.DataFrame(
    {
        "top": [0, 10, 20, 20, 40, 60, 100, 150],
        "bottom": [10, 20, 30, 40, 60, 100, 150, 200],
        "observed": [10, 8, 6, 5, 4, 3, 1.5, 0.5],
        "predicted": [9, 8, 7, 4, 4, 4, 1.0, 0.0],
    }
)


def test_depthwise_metrics_by_midpoint_hand_example():
    t = depthwise_metrics(LAYERS["observed"], LAYERS["predicted"], LAYERS["top"], LAYERS["bottom"])
    assert t["band"].tolist() == ["0-30cm", "30-100cm", "100-200cm", "200-300cm"]
    assert t["n"].tolist() == [3, 3, 2, 0]
    assert_allclose(t["r2"][:3], [0.75, 0.0, 0.0], atol=1e-14)
    assert_allclose(t["rmse"][:3], [math.sqrt(2 / 3), math.sqrt(2 / 3), 0.5], rtol=1e-14)
    assert_allclose(t["bias"][:3], [0.0, 0.0, -0.5], atol=1e-14)
    assert t.iloc[3][["r2", "rmse", "bias"]].isna().all()


def test_depthwise_metrics_by_overlap_counts_a_layer_in_each_band_it_crosses():
    # 20–40 overlaps 0–30 and 30–100: 0–30 now holds obs 10, 8, 6, 5, pred 9, 8, 7, 4
    #   residuals −1, 0, 1, −1: SSE 3; mean 7.25, SST 7.5625+0.5625+1.5625+5.0625 = 14.75
    t = depthwise_metrics(
        LAYERS["observed"], LAYERS["predicted"], LAYERS["top"], LAYERS["bottom"],
        bands=[(0, 30), (30, 100)], assign="overlap",
    )
    assert t["n"].tolist() == [4, 3]
    assert_allclose(t["r2"][0], 1 - 3 / 14.75, rtol=1e-14)
    assert_allclose(t["rmse"][0], math.sqrt(3 / 4), rtol=1e-14)
    assert_allclose(t["bias"][0], -0.25, rtol=1e-14)


def test_depthwise_metrics_rejects_bad_input():
    with pytest.raises(InputDataError, match="row 2, field 'bottom'"):
        depthwise_metrics([1, 2], [1, 2], [10, 0], [5, 10])
    with pytest.raises(InputDataError, match="top < bottom"):
        depthwise_metrics([1, 2], [1, 2], [0, 10], [10, 20], bands=[(30, 0)])
    with pytest.raises(InputDataError, match="one value per layer"):
        depthwise_metrics([1, 2], [1], [0, 10], [10, 20])
    with pytest.raises(InputDataError, match="assign"):
        depthwise_metrics([1, 2], [1, 2], [0, 10], [10, 20], assign="centre")


# ------------------------------------------------------------------------------------------
# cross_validate
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def layer_cv():
    table = _layer_table()
    return table, cross_validate(
        _rf(), table, "soc", ["mat", "clay", "top", "bottom"], groups="profile_id"
    )


def test_cross_validate_predicts_every_row_once_and_keeps_profiles_whole(layer_cv):
    table, res = layer_cv
    p = res.predictions
    assert isinstance(res, CVResult)
    assert_array_equal(p["row"], np.arange(len(table)))
    assert p.index.equals(table.index)
    assert p["predicted"].notna().all()
    assert sorted(p["fold"].unique()) == list(range(10))
    assert (p.groupby("group")["fold"].nunique() == 1).all()  # one fold per profile
    assert_array_equal(p["observed"], table["soc"])
    assert_array_equal(p[["top", "bottom"]], table[["top", "bottom"]])
    fm = res.fold_metrics
    assert (fm["n_test"] + fm["n_train"] == len(table)).all() and fm["n_test"].sum() == len(table)


def test_cross_validate_skill_is_eq4_eq5_by_hand(layer_cv):
    _, res = layer_cv
    y, yhat = res.predictions["observed"].to_numpy(), res.predictions["predicted"].to_numpy()
    r2 = 1 - np.sum((y - yhat) ** 2) / np.sum((y - y.mean()) ** 2)  # Wang H. et al. (2025) Eq. 4
    rmse = np.sqrt(np.sum((y - yhat) ** 2) / y.size)  # Wang H. et al. (2025) Eq. 5
    assert res.metrics["n"] == y.size
    assert_allclose([res.metrics["r2"], res.metrics["rmse"]], [r2, rmse], rtol=1e-12)
    assert_allclose(res.metrics["bias"], np.mean(yhat - y), rtol=1e-12)
    for row in res.fold_metrics.itertuples():
        sel = res.predictions["fold"].to_numpy() == row.fold
        e = y[sel] - yhat[sel]
        assert_allclose(row.rmse, np.sqrt(np.mean(e**2)), rtol=1e-12)
        assert_allclose(row.r2, 1 - np.sum(e**2) / np.sum((y[sel] - y[sel].mean()) ** 2), 1e-12)


def test_cross_validate_by_depth_and_skill_falls_with_depth(layer_cv):
    _, res = layer_cv
    p = res.predictions
    t = res.by_depth()
    ref = depthwise_metrics(p["observed"], p["predicted"], p["top"], p["bottom"])
    pd.testing.assert_frame_equal(t, ref)
    assert t["n"].tolist() == [120, 80, 80, 0]  # 40 profiles × 3, 2, 2 layers by midpoint
    # synthetic data of the Wang G. et al. (2025) kind (MAT drives topsoil only; deep soil is noise):
    # R² falls from topsoil to deep soil, as 0.96 → 0.67 → 0.48 in Wang G. et al. (2025) Fig. 1e
    assert t["r2"][0] > 0.6 and t["r2"][2] < 0.3
    fig = plot_cv_depth(res)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # depth downward
    assert isinstance(plot_cv_observed_predicted(res), Figure)
    assert "10-fold ProfileKFold" in repr(res)


def test_cross_validate_linear_data_is_predicted_exactly():
    # limiting case: y = 2·x1 + 3 without noise; every out-of-fold prediction is exact
    x = np.linspace(0.0, 10.0, 24)
    table = pd.DataFrame({"x1": x, "y": 2 * x + 3, "pid": np.repeat(np.arange(8), 3)})
    res = cross_validate(LinearRegression(), table, "y", ["x1"], groups="pid", n_splits=4)
    assert_allclose(res.predictions["predicted"], table["y"], atol=1e-10)
    assert_allclose(res.metrics["r2"], 1.0, atol=1e-14)
    assert res.metrics["rmse"] < 1e-10
    with pytest.raises(InputDataError, match="no top/bottom"):
        res.by_depth()


def test_cross_validate_spatial():
    table = _layer_table(n_profiles=60, seed=1)
    res = cross_validate(
        _rf(), table, "soc", ["mat", "clay", "top", "bottom"], groups="profile_id",
        cv="spatial", n_splits=4, block_size=5.0, buffer_km=150.0,
    )
    p = res.predictions
    assert p["predicted"].notna().all() and (p.groupby("group")["fold"].nunique() == 1).all()
    fm = res.fold_metrics
    assert "SpatialBlockKFold" in res.description
    assert (fm["n_train"] + fm["n_test"] + fm["n_dropped"] == len(table)).all()
    assert (fm["n_dropped"] % 7 == 0).all()  # whole profiles (7 layers) dropped by the buffer


def test_cross_validate_rejects_splitters_that_leak_or_miss_rows():
    table = _layer_table(n_profiles=12)
    args = (LinearRegression(), table, "soc", ["mat", "top"])
    with (
        pytest.warns(UserWarning, match="groups parameter is ignored by KFold"),
        pytest.raises(InputDataError, match="both the training and the test side"),
    ):
        cross_validate(*args, groups="profile_id", cv=KFold(3, shuffle=True, random_state=0))
    sites = table.drop_duplicates("profile_id").drop(columns=["top", "bottom"])  # one per profile
    with pytest.raises(InputDataError, match="exactly once"):
        cross_validate(LinearRegression(), sites, "soc", ["mat"], cv=ShuffleSplit(3, random_state=0))
    res = cross_validate(LinearRegression(), sites, "soc", ["mat"], cv=KFold(4))
    assert res.description == "4-fold KFold" and "group" not in res.predictions
    with pytest.raises(InputDataError, match="cv must be"):
        cross_validate(*args, groups="profile_id", cv="loo")
    with pytest.raises(InputDataError, match="10 folds need at least 10 profiles; got 7"):
        cross_validate(*args, groups=np.repeat(np.arange(7), 12))


def test_cross_validate_located_input_errors():
    table = _layer_table(n_profiles=12)
    with pytest.raises(MissingColumnError, match="'map'"):
        cross_validate(LinearRegression(), table, "soc", ["mat", "map"], groups="profile_id")
    bad = table.copy()
    bad.loc[5, "mat"] = np.nan
    with pytest.raises(InputDataError, match=r"row 7, field 'mat': Input X contains NaN"):
        cross_validate(LinearRegression(), bad, "soc", ["mat"], groups="profile_id")
    with pytest.raises(InputDataError, match="no variance"):
        cross_validate(
            LinearRegression(), table.assign(soc=1.0), "soc", ["mat"], groups="profile_id"
        )
    with pytest.raises(InputDataError, match="row 4, field 'profile_id'"):
        cross_validate(
            LinearRegression(), table.assign(profile_id=table["profile_id"].where(
                table.index != 2)), "soc", ["mat"], groups="profile_id",
        )


def test_cross_validate_warns_on_layers_without_groups():
    table = _layer_table(n_profiles=12)
    with pytest.warns(UserWarning, match="without groups"):
        cross_validate(LinearRegression(), table, "soc", ["mat", "top"])


class _GroupRecorder(RegressorMixin, BaseEstimator):
    """Mean predictor whose fit records the groups it was given."""

    def fit(self, X, y, groups=None):
        self.groups_ = None if groups is None else np.asarray(groups)
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


def test_cross_validate_passes_groups_only_to_a_fit_that_takes_them():
    table = _layer_table(n_profiles=12)
    res = cross_validate(
        _GroupRecorder(), table, "soc", ["mat"], groups="profile_id", n_splits=3
    )
    # the mean predictor's out-of-fold prediction is the mean of the training rows
    for f in range(3):
        train = res.predictions["fold"] != f
        pred = res.predictions.loc[~train, "predicted"].unique()
        assert_allclose(pred, table.loc[train, "soc"].mean(), rtol=1e-12)
    # LinearRegression.fit(X, y, sample_weight) takes no groups: it must not receive them
    cross_validate(LinearRegression(), table, "soc", ["mat"], groups="profile_id", n_splits=3)


# ------------------------------------------------------------------------------------------
# validate_independent
# ------------------------------------------------------------------------------------------


def test_validate_independent_on_a_fitted_model():
    train = _layer_table(n_profiles=30, seed=0)
    test = _layer_table(n_profiles=17, seed=9)  # 17 independent sites, as Wang G. et al. (2025)
    features = ["mat", "clay", "top", "bottom"]
    model = _rf().fit(train[features], train["soc"])
    res = validate_independent(model, test, "soc", features)
    assert isinstance(res, ValidationResult) and not isinstance(res, CVResult)
    yhat = model.predict(test[features])
    assert_allclose(res.predictions["predicted"], yhat, rtol=1e-12)
    y = test["soc"].to_numpy()
    assert_allclose(
        res.metrics["r2"], 1 - np.sum((y - yhat) ** 2) / np.sum((y - y.mean()) ** 2), 1e-12
    )
    assert res.by_depth()["n"].tolist() == [51, 34, 34, 0]
    assert res.by_depth(bands=[(0, 200)])["n"].tolist() == [119]
    with pytest.raises(InputDataError, match="not fitted"):
        validate_independent(_rf(), test, "soc", features)
    with pytest.raises(InputDataError, match="fitted on features"):
        validate_independent(model, test, "soc", ["clay", "mat", "top", "bottom"])


def test_validate_independent_with_a_model_fitted_on_arrays():
    x = np.linspace(0, 1, 20)
    model = LinearRegression().fit(x[:, None], 2 * x + 3)
    table = pd.DataFrame({"x1": x + 5, "y": 2 * (x + 5) + 3})
    res = validate_independent(model, table, "y", ["x1"])
    assert_allclose(res.metrics["rmse"], 0.0, atol=1e-10)
    assert "independent" in repr(res)
