"""Blockwise grid prediction (wholesoil.mapping._grid.predict_grid).

Reference values are exact identities: a map must equal the model's own per-row predictions on
the flattened valid cells (RandomForest.predict, QuantileForest.predict_quantiles,
quantile_interval, CoulstonInterval.predict_interval, MonteCarloInterval.predict_interval), to
1e-12, whatever the block size, the scheduler, or whether the run was interrupted and resumed.
"""

from __future__ import annotations

import json
import threading

import numpy as np
import pandas as pd
import pytest
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr

from wholesoil.errors import InputDataError
from wholesoil.mapping import _grid
from wholesoil.mapping._grid import predict_grid
from wholesoil.mapping._learners import QuantileForest, RandomForest
from wholesoil.mapping._persist import load_model, save_model
from wholesoil.mapping._uncertainty import (
    CoulstonInterval,
    MonteCarloInterval,
    quantile_interval,
)

FEATURES = ["mat", "map", "clay"]
NY, NX = 23, 31  # neither divisible by the block sizes used: partial edge blocks
ATOL = 1e-12


def _make_grid(seed: int = 1, *, ascending: bool = False) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    y = np.linspace(60.0, 38.0, NY) if not ascending else np.linspace(38.0, 60.0, NY)
    x = np.linspace(-10.0, 20.0, NX)
    yy, xx = np.meshgrid(y, x, indexing="ij")
    data = {
        "mat": 25.0 - 0.5 * yy + rng.normal(0.0, 1.0, (NY, NX)),
        "map": 400.0 + 20.0 * xx + rng.normal(0.0, 50.0, (NY, NX)),
        "clay": rng.uniform(5.0, 50.0, (NY, NX)),
    }
    # missing cells: scattered single-variable gaps, one full row of one variable, and a
    # 7 × 7 corner block that is missing entirely (a block the model must never see)
    data["mat"][2, 5] = np.nan
    data["map"][10, 0] = np.nan
    data["clay"][17, :] = np.nan
    data["mat"][-7:, -7:] = np.nan
    ds = xr.Dataset(
        {k: (("y", "x"), v, {"units": u}) for (k, v), u in
         zip(data.items(), ["degC", "mm yr-1", "%"], strict=True)},
        coords={"y": y, "x": x},
    )
    return ds.rio.write_crs("EPSG:4326")


def _train(seed: int = 0, n: int = 240) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "mat": rng.uniform(-5.0, 10.0, n),
        "map": rng.uniform(150.0, 1000.0, n),
        "clay": rng.uniform(5.0, 50.0, n),
    })
    y = 0.9 + 0.004 * X["mat"] + 2e-5 * X["map"] + 5e-4 * X["clay"] + rng.normal(0, 0.01, n)
    groups = np.repeat(np.arange(n // 4), 4)  # 4 layers per profile
    return X, y.to_numpy(), groups


@pytest.fixture(scope="module")
def models():
    X, y, groups = _train()
    return {
        "rf": RandomForest(n_estimators=15, random_state=0, oob_score=False).fit(X, y),
        "qrf": QuantileForest(n_estimators=15, random_state=0, oob_score=False).fit(X, y),
        "coulston": CoulstonInterval(forest=RandomForest(n_estimators=10, oob_score=False), n_boot=4, level=0.9,
                                     random_state=0).fit(X, y, groups=groups),
        "montecarlo": MonteCarloInterval(forest=RandomForest(n_estimators=5, oob_score=False), n_draws=24,
                                         n_boot=3, level=0.9, random_state=0,
                                         perturb=["mat", "map"]).fit(X, y, groups=groups),
    }


@pytest.fixture(scope="module")
def grid():
    return _make_grid()


def _cells(grid: xr.Dataset) -> tuple[pd.DataFrame, np.ndarray]:
    """Flattened cells in model order and the mask of cells with every covariate finite."""
    flat = np.stack([grid[f].values.ravel() for f in FEATURES], axis=1)
    ok = np.isfinite(flat).all(axis=1)
    return pd.DataFrame(flat[ok], columns=FEATURES), ok


def _close(mapped: xr.DataArray, expected: np.ndarray, ok: np.ndarray) -> None:
    values = mapped.values.ravel()
    np.testing.assert_allclose(values[ok], expected, rtol=0, atol=ATOL)
    assert np.isnan(values[~ok]).all()


# ------------------------------------------------------------------ equality with per-row predict


def test_rf_mean_equals_per_cell_predict(models, grid):
    out = predict_grid(models["rf"], grid, name="beta", chunks=7)
    Xv, ok = _cells(grid)
    assert list(out.data_vars) == ["beta_mean"]
    _close(out["beta_mean"], models["rf"].predict(Xv), ok)
    assert out["beta_mean"].dims == ("y", "x")
    np.testing.assert_array_equal(out["y"], grid["y"])
    assert out["beta_mean"].attrs["grid_mapping"] == "spatial_ref"
    assert "spatial_ref" in out.coords
    assert out.attrs["features"] == "mat map clay" and out.attrs["n_blocks"] == 4 * 5


def test_qrf_quantiles_and_uncertainty_equal_per_cell(models, grid):
    qrf = models["qrf"]
    out = predict_grid(qrf, grid, name="beta", intervals=["quantile"], level=0.9,
                       quantiles=(0.05, 0.5, 0.95), chunks=7)
    Xv, ok = _cells(grid)
    assert list(out.data_vars) == ["beta_mean", "beta_Q0.05", "beta_Q0.5", "beta_Q0.95",
                                   "beta_uncertainty"]
    q = qrf.predict_quantiles(Xv, (0.05, 0.5, 0.95))
    for j, name in enumerate(["beta_Q0.05", "beta_Q0.5", "beta_Q0.95"]):
        _close(out[name], q[:, j], ok)
    ref = quantile_interval(qrf, Xv, level=0.9)  # centre: the conditional mean
    _close(out["beta_mean"], ref.mean, ok)
    _close(out["beta_uncertainty"], ref.uncertainty, ok)
    assert out["beta_Q0.05"].attrs["interval_kind"] == "prediction interval"
    assert out["beta_Q0.05"].attrs["level"] == 0.9
    assert out["beta_uncertainty"].attrs["units"] == "1"


def test_qrf_interval_tails_are_added_to_the_quantiles(models, grid):
    # level 0.8 needs Q0.1 and Q0.9 for the uncertainty even when only the median is asked for
    out = predict_grid(models["qrf"], grid, name="b", intervals="quantile", level=0.8,
                       quantiles=(0.5,), chunks=64)
    assert [v for v in out.data_vars if "_Q" in v] == ["b_Q0.1", "b_Q0.5", "b_Q0.9"]
    Xv, ok = _cells(grid)
    _close(out["b_uncertainty"], quantile_interval(models["qrf"], Xv, level=0.8).uncertainty, ok)


def test_coulston_equals_predict_interval(models, grid):
    coul = models["coulston"]
    out = predict_grid(models["rf"], grid, name="beta", intervals=[coul], level=0.9, chunks=7)
    Xv, ok = _cells(grid)
    ref = coul.predict_interval(Xv, level=0.9)
    assert list(out.data_vars) == ["beta_mean", "beta_mean_coulston", "beta_Q0.05",
                                   "beta_Q0.95", "beta_uncertainty"]
    _close(out["beta_mean"], models["rf"].predict(Xv), ok)
    _close(out["beta_mean_coulston"], ref.mean, ok)
    _close(out["beta_Q0.05"], ref.lower, ok)
    _close(out["beta_Q0.95"], ref.upper, ok)
    _close(out["beta_uncertainty"], ref.uncertainty, ok)
    assert out["beta_uncertainty"].attrs["uncertainty_rule"] == "half_width"


def test_montecarlo_equals_predict_interval(models, grid):
    mc = models["montecarlo"]
    out = predict_grid(models["rf"], grid, name="beta", intervals=[mc], level=0.9, chunks=7)
    Xv, ok = _cells(grid)
    ref = mc.predict_interval(Xv, level=0.9)
    _close(out["beta_mean_montecarlo"], ref.mean, ok)
    _close(out["beta_Q0.05"], ref.lower, ok)
    _close(out["beta_Q0.95"], ref.upper, ok)
    _close(out["beta_uncertainty"], ref.uncertainty, ok)
    assert out["beta_Q0.05"].attrs["interval_kind"] == "confidence interval of the mean prediction"
    assert out["beta_uncertainty"].attrs["uncertainty_rule"] == "full_width"  # Wang H. et al. (2025) Eq. 7


def test_several_methods_suffix_all_but_the_first(models, grid):
    out = predict_grid(models["qrf"], grid, name="beta",
                       intervals=["quantile", models["coulston"], models["montecarlo"]],
                       quantiles=(0.5,), chunks=64)
    assert list(out.data_vars) == [
        "beta_mean", "beta_Q0.05", "beta_Q0.5", "beta_Q0.95", "beta_uncertainty",
        "beta_mean_coulston", "beta_Q0.05_coulston", "beta_Q0.95_coulston",
        "beta_uncertainty_coulston",
        "beta_mean_montecarlo", "beta_Q0.05_montecarlo", "beta_Q0.95_montecarlo",
        "beta_uncertainty_montecarlo",
    ]
    Xv, ok = _cells(grid)
    _close(out["beta_Q0.95_coulston"], models["coulston"].predict_interval(Xv, 0.9).upper, ok)


# ------------------------------------------------------------------ invariance


def _all_methods(models, grid, **kw):
    return predict_grid(models["qrf"], grid, name="beta",
                        intervals=["quantile", models["coulston"], models["montecarlo"]], **kw)


def _assert_same(a: xr.Dataset, b: xr.Dataset) -> None:
    """Equal maps: bitwise for forest means and quantiles (a cell's prediction depends on its
    own covariates only); to 1e-12 for the Monte Carlo outputs, whose mean over draws is a
    numpy reduction whose summation order may follow the block's width (1 ulp seen)."""
    assert list(a.data_vars) == list(b.data_vars)
    for v in a.data_vars:
        if v.endswith("_montecarlo"):
            np.testing.assert_allclose(a[v].values, b[v].values, rtol=0, atol=ATOL, err_msg=v)
        else:
            np.testing.assert_array_equal(a[v].values, b[v].values, err_msg=v)


def test_result_does_not_depend_on_chunk_size(models, grid):
    ref = _all_methods(models, grid, chunks=None)  # the whole grid as one block
    for chunks in (7, 64, (5, 13)):
        out = _all_methods(models, grid, chunks=chunks)
        _assert_same(out, ref)


def test_rows_per_model_call_do_not_change_the_result(models, grid, monkeypatch):
    ref = _all_methods(models, grid, chunks=64)
    monkeypatch.setattr(_grid, "PREDICT_ROWS", 37)
    _assert_same(_all_methods(models, grid, chunks=64), ref)
    spy = _Spy(models["rf"])
    predict_grid(spy, grid, chunks=64)
    assert max(spy.calls) == 37 and sum(spy.calls) == _cells(grid)[1].sum()


def test_ascending_y_and_dask_backed_grids(models, grid):
    ref = predict_grid(models["qrf"], grid, intervals=["quantile"], chunks=7)
    flipped = predict_grid(models["qrf"], grid.isel(y=slice(None, None, -1)),
                           intervals=["quantile"], chunks=7)
    _assert_same(flipped.isel(y=slice(None, None, -1)), ref)
    lazy = predict_grid(models["qrf"], grid.chunk({"y": 5, "x": 11}), intervals=["quantile"],
                        chunks=7)
    _assert_same(lazy, ref)


# ------------------------------------------------------------------ NaN masks


class _Spy:
    """Wraps a fitted model and records every matrix it is asked to predict."""

    def __init__(self, model):
        self.model = model
        self.feature_names_in_ = model.feature_names_in_
        self.n_features_in_ = model.n_features_in_
        self.calls: list[int] = []
        self.lock = threading.Lock()

    def predict(self, X):
        assert np.isfinite(np.asarray(X, dtype=float)).all(), "a masked cell reached the model"
        with self.lock:
            self.calls.append(len(X))
        return self.model.predict(X)


def test_nan_cells_are_never_passed_to_the_model(models, grid):
    spy = _Spy(models["rf"])
    out = predict_grid(spy, grid, name="beta", chunks=7)
    _, ok = _cells(grid)
    assert sum(spy.calls) == ok.sum()  # every valid cell once, no masked cell
    # blocks with no valid cell are not predicted at all: of the 4 × 5 blocks of 7 × 7 cells,
    # the last (rows 21-22, columns 28-30) lies inside the missing corner
    assert len(spy.calls) == 4 * 5 - 1
    vals = out["beta_mean"].values
    assert np.isnan(vals[2, 5]) and np.isnan(vals[10, 0]) and np.isnan(vals[17]).all()
    assert np.isnan(vals[-7:, -7:]).all()
    assert np.isfinite(vals.ravel()[ok]).all()


# ------------------------------------------------------------------ saved model folders


def _save(models, tmp_path):
    folder = tmp_path / "model"
    save_model(models["qrf"], folder, target="beta", features=FEATURES, units="1")
    save_model(models["coulston"], folder / "intervals" / "coulston", target="beta",
               features=FEATURES)
    save_model(models["montecarlo"], folder / "intervals" / "montecarlo", target="beta",
               features=FEATURES)
    return folder


def test_model_folder_loaded_once_per_process(models, grid, tmp_path):
    folder = _save(models, tmp_path)
    ref = _all_methods(models, grid, chunks=7)
    out = predict_grid(folder, grid, intervals=["quantile", "coulston", "montecarlo"],
                       chunks=7)
    _assert_same(out, ref)  # name "beta" and the features come from model.json
    assert out["beta_mean"].attrs["units"] == "1"
    sha = json.loads((folder / "model.json").read_text())["sha256"]
    key = (str(folder.resolve()), sha)
    predict_grid(str(folder), grid, chunks=5)
    assert _grid.LOAD_COUNT[key] == 1  # 2 runs × 24 + 25 blocks, one load
    assert load_model(folder).meta["sha256"] == sha


def test_interval_names_need_a_model_folder(models, grid):
    with pytest.raises(InputDataError, match=r"intervals/coulston"):
        predict_grid(models["rf"], grid, intervals=["coulston"])
    with pytest.raises(ValueError, match="unknown interval method"):
        predict_grid(models["rf"], grid, intervals=["bootstrap"])
    with pytest.raises(InputDataError, match="quantile forest"):
        predict_grid(models["rf"], grid, intervals=["quantile"])


def test_missing_covariate_is_named(models, grid):
    with pytest.raises(InputDataError, match=r"lacks the model's covariate\(s\) \['clay'\]; "
                                             r"it has \['map', 'mat'\]"):
        predict_grid(models["rf"], grid.drop_vars("clay"))


def test_features_needed_without_names(grid):
    X, y, _ = _train()
    rf = RandomForest(n_estimators=5, random_state=0, oob_score=False).fit(X.to_numpy(), y)
    with pytest.raises(InputDataError, match="features"):
        predict_grid(rf, grid)
    Xv, ok = _cells(grid)
    out = predict_grid(rf, grid, features=FEATURES, chunks=64)
    _close(out["prediction_mean"], rf.predict(Xv.to_numpy()), ok)


# ------------------------------------------------------------------ store and resume


_PREDICT_BLOCK = _grid._predict_block


class _Counter:
    """Counts computed blocks; raises after ``fail_after`` of them (an injected interruption)."""

    def __init__(self, fail_after: int | None = None):
        self.n = 0
        self.fail_after = fail_after
        self.lock = threading.Lock()

    def __call__(self, *args):
        with self.lock:
            self.n += 1
            n = self.n
        if self.fail_after is not None and n > self.fail_after:
            raise RuntimeError("injected interruption")
        return _PREDICT_BLOCK(*args)


def _done_blocks(store) -> int:
    return len(list((store / "blocks").glob("*.json")))


def test_store_resumes_without_recomputing(models, grid, tmp_path, monkeypatch):
    store = tmp_path / "store"
    ref = _all_methods(models, grid, chunks=7)
    n_blocks = 4 * 5

    first = _Counter(fail_after=3)
    monkeypatch.setattr(_grid, "_predict_block", first)
    with pytest.raises(RuntimeError, match="injected interruption"):
        _all_methods(models, grid, chunks=7, store=store)
    finished = _done_blocks(store)
    assert 3 <= finished < n_blocks  # the blocks in flight when it failed are kept too
    assert len(list((store / "blocks").glob("*.npy"))) == finished  # no orphan, no temp file
    assert not list((store / "blocks").glob(".*"))

    second = _Counter()
    monkeypatch.setattr(_grid, "_predict_block", second)
    out = _all_methods(models, grid, chunks=7, store=store)
    assert second.n == n_blocks - finished  # finished blocks were not recomputed
    assert out.attrs["blocks_reused"] == finished
    assert out.attrs["blocks_computed"] == n_blocks - finished
    assert out["beta_mean"].chunks is not None  # lazily backed by the stored blocks
    _assert_same(out.compute(), ref)

    third = _Counter()
    monkeypatch.setattr(_grid, "_predict_block", third)
    again = _all_methods(models, grid, chunks=7, store=store)
    assert third.n == 0 and again.attrs["blocks_reused"] == n_blocks
    _assert_same(again.compute(), ref)


def test_store_refuses_another_model_grid_or_chunks(models, grid, tmp_path):
    store = tmp_path / "store"
    predict_grid(models["rf"], grid, name="beta", chunks=7, store=store)
    with pytest.raises(InputDataError, match="different block size"):
        predict_grid(models["rf"], grid, name="beta", chunks=8, store=store)
    with pytest.raises(InputDataError, match="different model"):
        predict_grid(models["qrf"], grid, name="beta", chunks=7, store=store)
    with pytest.raises(InputDataError, match="different outputs"):
        predict_grid(models["rf"], grid, name="soc", chunks=7, store=store)
    with pytest.raises(InputDataError, match=r"different grid \(x/y coordinates\)"):
        predict_grid(models["rf"], grid.assign_coords(x=grid.x + 1.0), name="beta", chunks=7,
                     store=store)
    changed = grid.copy(deep=True)
    changed["clay"][12, 20] += 1.0
    with pytest.raises(InputDataError, match=r"stored block \(1, 2\) was predicted from other "
                                             "covariate values"):
        predict_grid(models["rf"], changed, name="beta", chunks=7, store=store)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("x")
    with pytest.raises(InputDataError, match="not empty"):
        predict_grid(models["rf"], grid, chunks=7, store=other)


# ------------------------------------------------------------------ a real cluster


@pytest.mark.slow
def test_local_cluster_equals_in_process(models, grid, tmp_path):
    from wholesoil.parallel import dask_client

    folder = _save(models, tmp_path)
    ref = _all_methods(models, grid, chunks=7)
    with dask_client(n_workers=2, threads_per_worker=1, processes=True) as client:
        in_memory = _all_methods(models, grid, chunks=7, client=client)
        _assert_same(in_memory, ref)
        from_folder = predict_grid(folder, grid, chunks=7, client=client,
                                   intervals=["quantile", "coulston", "montecarlo"])
        _assert_same(from_folder, ref)
        stored = predict_grid(folder, grid, chunks=5, client=client, store=tmp_path / "s",
                              intervals=["quantile", "coulston", "montecarlo"])
        _assert_same(stored.compute(), ref)
        # each worker process loaded each model folder once, for 20 + 25 blocks
        counts = client.run(lambda: dict(_grid.LOAD_COUNT))
        assert len(counts) == 2 and any(counts.values())
        for per_worker in counts.values():
            assert set(per_worker.values()) <= {1}
