"""Blockwise prediction of covariate grids: maps of the mean, quantiles and uncertainty.

A covariate grid (an :class:`xarray.Dataset` of 2-D variables on dims ``("y", "x")``) is cut
into blocks of ``chunks × chunks`` cells. For each block the covariates are stacked into a
(cells × features) matrix in the model's feature order (the feature axis is never split); a cell
with any missing (NaN or infinite) covariate is masked — it is NaN in every output and never
passed to the model — and the valid cells are predicted in one call. A cell's prediction
depends on that cell's covariates only (forest predictions are per row; the Monte Carlo draws
of :class:`~wholesoil.mapping.MonteCarloInterval` are keyed by the row's own values), so the map
is the same, bit for bit, whatever the block size and wherever the block ran.

Outputs follow SoilGrids-like names: ``{name}_mean`` (the model's prediction), and for each
interval method ``{name}_Q{q:g}`` and ``{name}_uncertainty``; when several methods are asked
for, every method after the first gets a suffix, ``{name}_Q0.05_coulston``. The Coulston and
Monte Carlo intervals have their own centres (the final forest's mean, the mean of the Monte
Carlo predictions), written as ``{name}_mean_coulston`` / ``{name}_mean_montecarlo``; the
uncertainty is relative to the method's own centre, as :attr:`Interval.uncertainty` defines it.

Execution
---------
``client=None`` runs the blocks in a pool of threads of this process (one per core), without
:mod:`distributed`; how much threads gain depends on how much of the model's prediction
releases the GIL (scikit-learn's tree traversal does; on the 2-core benchmark machine a
QuantileForest gained nothing from a second thread), so for many cores use a process cluster.
With a :class:`distributed.Client` (see :func:`wholesoil.parallel.dask_client`) the blocks are
tasks on the cluster. The model is never
shipped with the tasks: a model folder travels as its path and the sha256 recorded in its
``model.json``, and each process loads it once into a cache keyed by both; an in-memory model
is sent once to every worker with ``client.scatter(..., broadcast=True)``. At most
``2 × threads`` blocks are in flight, so memory holds a bounded number of blocks.

Checkpoints
-----------
With ``store`` (a directory), every finished block is written atomically as
``blocks/b{iy}_{ix}.npy`` (outputs × rows × columns, float64) followed by its record
``blocks/b{iy}_{ix}.json`` (written last: a record means a complete block, as ``model.json``
does for a model folder), under a ``manifest.json`` that names the model (sha256), the grid
(fingerprint of its features, shape, coordinates and CRS), the block size and the outputs. A
rerun with the same store skips the recorded blocks, so a killed job resumes where it stopped;
a store made with another model, grid, block size or set of outputs is refused with the field
that differs, and a recorded block whose covariates no longer hash to the recorded sha256 is
refused too. The store is a :class:`wholesoil._checkpoint.CheckpointStore`, the one checkpoint
store of every long job. The returned Dataset is then lazily backed by the stored blocks (dask),
so memory stays bounded however large the grid.

References
----------
Hengl, T. et al. (2017). SoilGrids250m: Global gridded soil information based on machine
learning. *PLoS ONE* 12(2), e0169748. https://doi.org/10.1371/journal.pone.0169748 (the output
naming: mean, Q0.05, Q0.5, Q0.95, uncertainty).
Meinshausen (2006), Coulston et al. (2016), Wang H. et al. (2025) §2.7 and
Wang G. et al. (manuscript) Eqs. 9–10: see
:mod:`wholesoil.mapping._uncertainty`.

Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023

Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr

from wholesoil._checkpoint import CheckpointStore
from wholesoil._checksum import sha256_arrays
from wholesoil.errors import InputDataError
from wholesoil.mapping._persist import META_FILE, SavedModel, load_model
from wholesoil.mapping._uncertainty import (
    PREDICTION_INTERVAL,
    CoulstonInterval,
    Interval,
    MonteCarloInterval,
    _predict_quantiles,
)

#: Interval methods :func:`predict_grid` knows, by the name used in output suffixes and in a
#: model folder's ``intervals/<name>`` sub-folder (as ``wholesoil train`` saves them).
IntervalMethod = Literal["quantile", "coulston", "montecarlo"]
INTERVAL_METHODS: tuple[str, ...] = ("quantile", "coulston", "montecarlo")

STORE_MANIFEST = "manifest.json"
STORE_FORMAT = "wholesoil-grid-store"
STORE_FORMAT_VERSION = 1

#: Cells per model call inside a block: bounds the model's working memory (a quantile forest
#: holds cells × trees leaf indices and weights) independently of the block size ``chunks``.
#: Predictions are per row, so this changes nothing in the result.
PREDICT_ROWS = 65_536

#: Decimals a derived quantile probability (1 ∓ level)/2 is rounded to, so that
#: (1 − 0.9)/2 = 0.04999999999999999 is the same quantile as a requested 0.05.
_Q_DECIMALS = 12


# --------------------------------------------------------------------------------------------
# Models: references that travel to workers, and the per-process cache that loads them
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PathRef:
    """A saved model folder, by path and the sha256 its ``model.json`` records."""

    path: str
    sha256: str


_CACHE: dict[tuple[str, str], Any] = {}
_CACHE_LOCK = threading.Lock()
#: How many times this process loaded a model folder (for tests: once per process).
LOAD_COUNT: dict[tuple[str, str], int] = {}


def _cached_model(ref: _PathRef) -> Any:
    """The estimator of ``ref``, loaded at most once per process (cache keyed by path, sha256)."""
    key = (ref.path, ref.sha256)
    with _CACHE_LOCK:
        model = _CACHE.get(key)
        if model is None:
            saved = load_model(ref.path)
            if saved.meta.get("sha256") != ref.sha256:
                raise InputDataError(
                    "the model folder changed while the grid was being predicted "
                    f"(model.json sha256 {saved.meta.get('sha256')}, expected {ref.sha256})",
                    file=str(Path(ref.path) / META_FILE), field="sha256",
                )
            model = _CACHE[key] = saved.estimator
            LOAD_COUNT[key] = LOAD_COUNT.get(key, 0) + 1
    return model


def _resolve(model: Any) -> Any:
    return _cached_model(model) if isinstance(model, _PathRef) else model


def _read_meta(folder: Path) -> dict[str, Any]:
    meta_path = folder / META_FILE
    if not meta_path.is_file():
        raise InputDataError(
            f"expected a model folder with {META_FILE} (as written by `wholesoil train`)",
            file=str(folder),
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputDataError(f"not valid JSON: {exc}", file=str(meta_path)) from exc
    if not meta.get("sha256"):
        raise InputDataError("model.json has no sha256 of the model file", file=str(meta_path),
                             field="sha256")
    return meta


@dataclass
class _Model:
    """The model as the caller gave it: what runs (``ref``) and what is known of it."""

    ref: Any  # _PathRef or a fitted estimator
    meta: dict[str, Any]
    folder: Path | None
    local: Any = None  # the estimator in this process, when it is here anyway

    def fingerprint(self) -> str:
        if isinstance(self.ref, _PathRef):
            return self.ref.sha256
        if self.meta.get("sha256"):
            return str(self.meta["sha256"])
        import joblib

        return "joblib:" + joblib.hash(self.ref)

    def describe(self) -> str:
        if isinstance(self.ref, _PathRef):
            return str(self.meta.get("estimator", "saved model")).rsplit(".", 1)[-1]
        return type(self.ref).__name__


def _as_model(model: Any) -> _Model:
    if isinstance(model, str | os.PathLike):
        folder = Path(model).resolve()
        meta = _read_meta(folder)
        return _Model(_PathRef(str(folder), str(meta["sha256"])), meta, folder)
    if isinstance(model, SavedModel):
        return _Model(model.estimator, dict(model.meta), None, model.estimator)
    if not hasattr(model, "predict"):
        raise TypeError(
            "model must be a fitted estimator, a SavedModel or a model folder path "
            f"(got a {type(model).__name__})"
        )
    return _Model(model, {}, None, model)


def _method_of(obj: Any) -> str:
    if isinstance(obj, CoulstonInterval):
        return "coulston"
    if isinstance(obj, MonteCarloInterval):
        return "montecarlo"
    raise TypeError(
        "intervals entries must be 'quantile', 'coulston', 'montecarlo', a fitted "
        f"CoulstonInterval or a fitted MonteCarloInterval (got a {type(obj).__name__})"
    )


def _as_intervals(intervals: Any, model: _Model) -> list[tuple[str, _Model | None]]:
    if isinstance(intervals, str) or not isinstance(intervals, Iterable):
        intervals = [intervals]
    out: list[tuple[str, _Model | None]] = []
    for item in intervals:
        if isinstance(item, str):
            if item not in INTERVAL_METHODS:
                raise ValueError(
                    f"unknown interval method {item!r}; expected one of {INTERVAL_METHODS} or "
                    "a fitted CoulstonInterval / MonteCarloInterval"
                )
            if item == "quantile":
                out.append((item, None))
                continue
            if model.folder is None:
                raise InputDataError(
                    f"interval {item!r} by name needs a model folder holding "
                    f"intervals/{item} (saved by `wholesoil train --intervals`); with an "
                    f"in-memory model pass the fitted interval object instead",
                    field="intervals", value=item,
                )
            sub = model.folder / "intervals" / item
            if not (sub / META_FILE).is_file():
                raise InputDataError(
                    f"no saved {item} interval model: expected {sub} with {META_FILE} "
                    "(train with intervals to save it)",
                    file=str(model.folder), field="intervals", value=item,
                )
            out.append((item, _as_model(sub)))
        else:
            out.append((_method_of(item), _as_model(item)))
    methods = [m for m, _ in out]
    if len(set(methods)) != len(methods):
        raise ValueError(f"each interval method may be asked for once (got {methods})")
    return out


# --------------------------------------------------------------------------------------------
# Output specification
# --------------------------------------------------------------------------------------------


def _qname(q: float) -> str:
    return f"Q{q:g}"


@dataclass(frozen=True)
class _Output:
    var: str  # variable name in the result
    method: str  # "model", "quantile", "coulston", "montecarlo"
    stat: str  # "mean", "Q", "lower", "upper", "uncertainty"
    q: float | None = None


@dataclass
class _Spec:
    """What every block computes; small, so it travels with each task."""

    name: str
    level: float
    quantiles: tuple[float, ...]  # quantile-forest probabilities (union with the interval tails)
    methods: tuple[str, ...]
    outputs: tuple[_Output, ...] = field(default_factory=tuple)
    feature_names: tuple[str, ...] | None = None  # the model's own names, for a DataFrame


def _build_outputs(name: str, methods: Sequence[str], level: float,
                   quantiles: tuple[float, ...]) -> tuple[_Output, ...]:
    lo, hi = round((1.0 - level) / 2.0, _Q_DECIMALS), round((1.0 + level) / 2.0, _Q_DECIMALS)
    outs = [_Output(f"{name}_mean", "model", "mean")]
    for i, method in enumerate(methods):
        sfx = "" if i == 0 else f"_{method}"
        if method == "quantile":
            outs += [_Output(f"{name}_{_qname(q)}{sfx}", method, "Q", q) for q in quantiles]
        else:
            outs.append(_Output(f"{name}_mean_{method}", method, "mean"))
            outs.append(_Output(f"{name}_{_qname(lo)}{sfx}", method, "lower", lo))
            outs.append(_Output(f"{name}_{_qname(hi)}{sfx}", method, "upper", hi))
        outs.append(_Output(f"{name}_uncertainty{sfx}", method, "uncertainty"))
    names = [o.var for o in outs]
    if len(set(names)) != len(names):  # pragma: no cover - guarded by the rules above
        raise ValueError(f"output names clash: {names}")
    return tuple(outs)


# --------------------------------------------------------------------------------------------
# One block
# --------------------------------------------------------------------------------------------


def _predict_mean(model: Any, X: Any) -> np.ndarray:
    """The model's mean prediction; a bare quantile-forest regressor is asked for its mean."""
    if not hasattr(model, "predict_quantiles"):
        import inspect

        if "quantiles" in inspect.signature(model.predict).parameters:
            return np.asarray(model.predict(X, quantiles="mean"), dtype=float).ravel()
    return np.asarray(model.predict(X), dtype=float).ravel()


def _valid_rows(X3: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cells × features) matrix of a (features, rows, cols) block and its all-finite mask."""
    p = X3.shape[0]
    flat = X3.reshape(p, -1).T
    return flat, np.isfinite(flat).all(axis=1)


def _interval_rows(spec: _Spec, method: str, model: Any, X: Any,
                   mean: np.ndarray) -> dict[str, np.ndarray]:
    """Columns of one interval method for the valid rows of a block."""
    if method == "quantile":
        lo, hi = round((1.0 - spec.level) / 2.0, _Q_DECIMALS), round(
            (1.0 + spec.level) / 2.0, _Q_DECIMALS)
        q = _predict_quantiles(model, X, list(spec.quantiles))
        cols = {_qname(p): q[:, j] for j, p in enumerate(spec.quantiles)}
        # quantile_interval's centre ("mean") is the conditional mean, i.e. {name}_mean
        interval = Interval(mean=mean, lower=cols[_qname(lo)], upper=cols[_qname(hi)],
                            level=spec.level, method="quantile regression forest",
                            kind=PREDICTION_INTERVAL, uncertainty_rule="half_width")
        cols["uncertainty"] = interval.uncertainty
        return cols
    interval = model.predict_interval(X, level=spec.level)
    return {"mean": interval.mean, "lower": interval.lower, "upper": interval.upper,
            "uncertainty": interval.uncertainty}


def _predict_rows(spec: _Spec, model: Any, interval_models: Sequence[Any],
                  Xv: np.ndarray) -> np.ndarray:
    """Outputs of finite covariate rows, array (n_outputs, rows)."""
    X: Any = Xv
    if spec.feature_names is not None:
        X = pd.DataFrame(Xv, columns=list(spec.feature_names), copy=False)
    mean = _predict_mean(model, X)
    by_method: dict[str, dict[str, np.ndarray]] = {}
    extra = iter(interval_models)
    for method in spec.methods:
        m = model if method == "quantile" else _resolve(next(extra))
        by_method[method] = _interval_rows(spec, method, m, X, mean)
    out = np.empty((len(spec.outputs), Xv.shape[0]))
    for k, o in enumerate(spec.outputs):
        if o.method == "model":
            out[k] = mean
        elif o.stat == "Q":
            out[k] = by_method[o.method][_qname(o.q)]
        else:
            out[k] = by_method[o.method][o.stat]
    return out


def _predict_block(spec: _Spec, model: Any, interval_models: Sequence[Any],
                   X3: np.ndarray) -> np.ndarray:
    """Outputs of one block, array (n_outputs, rows, cols); NaN where a covariate is missing.

    ``X3`` is the block's covariates, (features, rows, cols), in the model's feature order. The
    valid cells go to the model :data:`PREDICT_ROWS` at a time, so the model's working memory
    (e.g. a quantile forest's cells × trees leaf table) is bounded whatever the block size.
    """
    _, rows, cols = X3.shape
    out = np.full((len(spec.outputs), rows * cols), np.nan)
    flat, valid = _valid_rows(np.asarray(X3, dtype=np.float64))
    index = np.flatnonzero(valid)
    if index.size:
        model = _resolve(model)
        for start in range(0, index.size, PREDICT_ROWS):
            take = index[start:start + PREDICT_ROWS]
            out[:, take] = _predict_rows(spec, model, interval_models,
                                         np.ascontiguousarray(flat[take]))
    return out.reshape(len(spec.outputs), rows, cols)


# --------------------------------------------------------------------------------------------
# The grid: checks, blocks, fingerprint
# --------------------------------------------------------------------------------------------


def _check_grid(grid: Any, features: Sequence[str]) -> list[Any]:
    if not isinstance(grid, xr.Dataset):
        raise TypeError(f"grid must be an xarray.Dataset (got a {type(grid).__name__})")
    for dim in ("y", "x"):
        if dim not in grid.dims:
            raise InputDataError(
                f"the covariate grid needs dims ('y', 'x'); it has {tuple(grid.dims)}",
                field=dim,
            )
    missing = [f for f in features if f not in grid.data_vars]
    if missing:
        raise InputDataError(
            f"the covariate grid lacks the model's covariate(s) {missing}; it has "
            f"{sorted(map(str, grid.data_vars))}",
            field=missing[0],
        )
    arrays = []
    for f in features:
        da = grid[f]
        if set(da.dims) != {"y", "x"}:
            raise InputDataError(
                f"covariate must be 2-D on dims ('y', 'x'); it has dims {da.dims}", field=f)
        if not (np.issubdtype(da.dtype, np.number) or np.issubdtype(da.dtype, np.bool_)):
            raise InputDataError(f"covariate must be numeric; it has dtype {da.dtype}", field=f)
        arrays.append(da.transpose("y", "x").data)
    return arrays


def _chunk_shape(chunks: Any, shape: tuple[int, int]) -> tuple[int, int]:
    if chunks is None:
        return max(1, shape[0]), max(1, shape[1])
    if isinstance(chunks, int | np.integer):
        chunks = (int(chunks), int(chunks))
    try:
        cy, cx = (int(c) for c in chunks)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"chunks must be an int, (rows, cols) or None (got {chunks!r})") from exc
    if cy < 1 or cx < 1:
        raise ValueError(f"chunks must be >= 1 cell (got {chunks!r})")
    return min(cy, max(1, shape[0])), min(cx, max(1, shape[1]))


def _block_slices(shape: tuple[int, int], cshape: tuple[int, int]):
    ny, nx = shape
    cy, cx = cshape
    return [
        [(slice(i, min(i + cy, ny)), slice(j, min(j + cx, nx))) for j in range(0, nx, cx)]
        for i in range(0, ny, cy)
    ]


def _read_block(arrays: Sequence[Any], ys: slice, xs: slice) -> np.ndarray:
    """Covariates of one block, (features, rows, cols) float64; dask data computed here only."""
    parts = [a[ys, xs] for a in arrays]
    if any(hasattr(p, "dask") for p in parts):
        import dask

        parts = dask.compute(*parts, scheduler="threads")
    return np.stack([np.asarray(p, dtype=np.float64) for p in parts])


def _grid_facts(grid: xr.Dataset, features: Sequence[str]) -> dict[str, Any]:
    crs = ""
    if "spatial_ref" in grid.coords:
        crs = str(grid["spatial_ref"].attrs.get("crs_wkt", grid["spatial_ref"].attrs))
    return {
        "features": list(features),
        "shape": [int(grid.sizes["y"]), int(grid.sizes["x"])],
        "coords_sha256": sha256_arrays(np.asarray(grid["y"].values, dtype=float),
                              np.asarray(grid["x"].values, dtype=float)),
        "crs_sha256": hashlib.sha256(crs.encode()).hexdigest(),
    }


# --------------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------------


class _Store:
    """The grid's :class:`~wholesoil._checkpoint.CheckpointStore`, one ``.npy`` per block."""

    def __init__(self, store: CheckpointStore) -> None:
        self.store = store
        self.folder = store.folder
        self.blocks = store.folder / "blocks"
        self.manifest = store.stored_manifest

    def stem(self, iy: int, ix: int) -> str:
        return f"b{iy:05d}_{ix:05d}"

    def record(self, iy: int, ix: int) -> dict[str, Any] | None:
        return self.store.record(f"blocks/{self.stem(iy, ix)}.json")

    def is_done(self, iy: int, ix: int, input_sha: str) -> bool:
        """Whether block (iy, ix) is recorded; refuses one made from other covariate values."""
        rec = self.record(iy, ix)
        if rec is None:
            return False
        if rec.get("input_sha256") != input_sha:
            raise InputDataError(
                f"stored block ({iy}, {ix}) was predicted from other covariate values than "
                "this grid has there; use another store folder (or delete this one)",
                file=str(self.blocks / f"{self.stem(iy, ix)}.json"), field="input_sha256",
            )
        return True

    def array_path(self, iy: int, ix: int) -> Path:
        return self.blocks / f"{self.stem(iy, ix)}.npy"

    def write(self, iy: int, ix: int, values: np.ndarray, input_sha: str) -> None:
        def save(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.save(fh, values, allow_pickle=False)

        self.store.write_part(f"blocks/{self.stem(iy, ix)}.npy", save)
        self.store.write_record(f"blocks/{self.stem(iy, ix)}.json",
                                {"block": [iy, ix], "shape": list(values.shape),
                                 "input_sha256": input_sha})


_MANIFEST_CHECKS = (
    ("model_sha256", "model"),
    ("features", "grid (covariates)"),
    ("shape", "grid (shape)"),
    ("coords_sha256", "grid (x/y coordinates)"),
    ("crs_sha256", "grid (CRS)"),
    ("chunks", "block size (chunks)"),
    ("outputs", "outputs (name, intervals, level, quantiles)"),
)


def _mismatch(key: str, what: str, stored: Any, mine: Any) -> str:
    return (f"this store was made with a different {what}: it has {stored!r}, this run has "
            f"{mine!r}; use another store folder (or delete this one) to start afresh")


def _open_store(folder: Path, manifest: dict[str, Any]) -> _Store:
    return _Store(CheckpointStore(
        folder, manifest, format=STORE_FORMAT, checks=_MANIFEST_CHECKS, mismatch=_mismatch,
        foreign_message=f"store folder is not empty and has no {STORE_MANIFEST}: refusing to "
        "write blocks among other files", subdirs=("blocks",)))


def _load_output(path: str, k: int) -> np.ndarray:
    return np.array(np.load(path, mmap_mode="r")[k])


def _lazy_from_store(store: _Store, slices, n_out: int) -> list[Any]:
    import dask
    import dask.array as da

    per_var = []
    for k in range(n_out):
        rows = []
        for iy, row in enumerate(slices):
            cells = []
            for ix, (ys, xs) in enumerate(row):
                shape = (ys.stop - ys.start, xs.stop - xs.start)
                load = dask.delayed(_load_output, pure=True)(str(store.array_path(iy, ix)), k)
                cells.append(da.from_delayed(load, shape=shape, dtype=np.float64))
            rows.append(cells)
        per_var.append(da.block(rows))
    return per_var


# --------------------------------------------------------------------------------------------
# Running the blocks
# --------------------------------------------------------------------------------------------


class _LocalRunner:
    """Blocks in a thread pool of this process; no distributed needed."""

    def __init__(self, spec: _Spec, model: _Model, interval_models: Sequence[_Model]) -> None:
        self.spec = spec
        self.model = model.local if model.local is not None else model.ref
        self.interval_models = [m.local if m.local is not None else m.ref
                                for m in interval_models]
        threads = _local_threads()
        self.pool = cf.ThreadPoolExecutor(max_workers=threads)
        self.width = 2 * threads

    def submit(self, X3: np.ndarray) -> cf.Future:
        return self.pool.submit(_predict_block, self.spec, self.model, self.interval_models, X3)

    def wait(self, futures):
        return cf.wait(futures, return_when=cf.FIRST_COMPLETED)

    def cancel(self, futures) -> None:
        for f in futures:
            f.cancel()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _local_threads() -> int:
    from wholesoil.parallel import default_n_workers

    return default_n_workers()


class _ClientRunner:
    """Blocks as tasks of a distributed client; models sent once per worker."""

    def __init__(self, client: Any, spec: _Spec, model: _Model,
                 interval_models: Sequence[_Model]) -> None:
        from wholesoil.parallel import total_threads

        self.client = client
        self.spec = spec
        self.model = self._ship(model)
        self.interval_models = [self._ship(m) for m in interval_models]
        self.width = 2 * total_threads(client)

    def _ship(self, model: _Model) -> Any:
        if isinstance(model.ref, _PathRef):
            return model.ref  # each worker loads it once from the path (per-process cache)
        return self.client.scatter(model.ref, broadcast=True, hash=False)

    def submit(self, X3: np.ndarray) -> Any:
        x = self.client.scatter(X3, hash=False)
        return self.client.submit(_predict_block, self.spec, self.model, self.interval_models,
                                  x, pure=False)

    def wait(self, futures):
        from distributed import wait

        return wait(list(futures), return_when="FIRST_COMPLETED")

    def cancel(self, futures) -> None:
        if futures:
            self.client.cancel(list(futures))

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------------------------
# Public
# --------------------------------------------------------------------------------------------


def _model_features(mdl: _Model, features: Sequence[str] | None) -> list[str]:
    """The grid variables in the model's feature order (given, saved, or the fitted names)."""
    if features is None:
        features = mdl.meta.get("features") or None
    if features is None and mdl.local is not None:
        names = getattr(mdl.local, "feature_names_in_", None)
        features = None if names is None else [str(n) for n in names]
    if not features:
        raise InputDataError(
            "which grid variables are the model's covariates? pass features=[...] in the "
            "model's order (the model has no saved feature names)", field="features",
        )
    features = [str(f) for f in features]
    if mdl.local is not None and getattr(mdl.local, "n_features_in_", len(features)) != len(
            features):
        raise InputDataError(
            f"the model expects {mdl.local.n_features_in_} covariates; features names "
            f"{len(features)}: {features}", field="features",
        )
    return features


def _run_blocks(runner: Any, todo: list[tuple[int, int]], slices: Any, arrays: Sequence[Any],
                st: _Store | None, values: np.ndarray | None) -> tuple[int, int]:
    """Predict the blocks ``todo`` (skipping stored ones); (computed, reused) counts.

    Results go to the store ``st`` or, without one, into ``values`` (outputs, y, x). At most
    ``runner.width`` blocks are in flight; after a failure none is started, the blocks in
    flight are finished and kept, then the failure is raised.
    """
    computed = reused = 0
    pending: dict[Any, tuple[int, int, str]] = {}
    failure: BaseException | None = None
    try:
        queue = iter(todo)
        while True:
            # keep at most runner.width blocks in flight; none are started after a failure
            while failure is None and len(pending) < runner.width:
                key = next(queue, None)
                if key is None:
                    break
                iy, ix = key
                ys, xs = slices[iy][ix]
                X3 = _read_block(arrays, ys, xs)
                input_sha = ""
                if st is not None:
                    input_sha = sha256_arrays(X3)
                    if st.is_done(iy, ix, input_sha):
                        reused += 1
                        continue
                pending[runner.submit(X3)] = (iy, ix, input_sha)
            if not pending:
                break
            done, _ = runner.wait(list(pending))
            for fut in done:
                iy, ix, input_sha = pending.pop(fut)
                try:
                    block = fut.result()
                except Exception as exc:  # finish (and keep) the blocks in flight, then raise
                    failure = failure or exc
                    continue
                if st is not None:
                    st.write(iy, ix, block, input_sha)
                else:
                    ys, xs = slices[iy][ix]
                    values[:, ys, xs] = block
                computed += 1
    except BaseException:  # KeyboardInterrupt and the like: drop what is in flight
        runner.cancel(list(pending))
        raise
    finally:
        runner.close()
    if failure is not None:
        raise failure

    return computed, reused


def predict_grid(
    model: Any,
    grid: xr.Dataset,
    *,
    features: Sequence[str] | None = None,
    name: str | None = None,
    intervals: Sequence[str | CoulstonInterval | MonteCarloInterval] = (),
    level: float = 0.90,
    quantiles: Sequence[float] = (0.05, 0.5, 0.95),
    chunks: int | tuple[int, int] | None = 512,
    store: str | os.PathLike[str] | None = None,
    client: Any = None,
) -> xr.Dataset:
    """Predict a covariate grid block by block: mean, quantiles and uncertainty maps.

    Parameters
    ----------
    model : fitted estimator, SavedModel or path
        A fitted regressor (``predict``; ``predict_quantiles`` for ``"quantile"``), a
        :class:`~wholesoil.mapping.SavedModel`, or a model folder written by
        :func:`~wholesoil.mapping.save_model` / ``wholesoil train`` (loaded once per process,
        keyed by its path and the sha256 in ``model.json``).
    grid : xarray.Dataset
        Covariates as 2-D variables on dims ``("y", "x")``, numpy- or dask-backed (a dask grid
        is read block by block, never whole). Missing cells are NaN.
    features : sequence of str, optional
        Grid variables in the model's feature order. Default: the ``features`` of a saved model,
        else the fitted estimator's ``feature_names_in_``.
    name : str, optional
        Property name of the outputs (``{name}_mean`` …). Default: the saved model's target,
        else ``"prediction"``.
    intervals : sequence
        Interval methods, the first one primary (unsuffixed names): ``"quantile"`` (the model's
        conditional quantiles, Meinshausen 2006: ``{name}_Q{q}`` for every q in ``quantiles``
        and in (1 ∓ level)/2, uncertainty = half-width / |mean|); a fitted
        :class:`~wholesoil.mapping.CoulstonInterval` or
        :class:`~wholesoil.mapping.MonteCarloInterval`, or the strings ``"coulston"`` /
        ``"montecarlo"`` for the ones a model folder holds under ``intervals/<name>``
        (Q at (1 ∓ level)/2, the method's centre ``{name}_mean_<method>`` and its uncertainty,
        half-width/|mean| for Coulston, full width/|mean| for Monte Carlo, Wang H. et al. (2025) Eq.
        7).
    level : float
        Interval level, 0.90 → Q0.05 and Q0.95.
    quantiles : sequence of float
        Conditional quantiles mapped with ``"quantile"``.
    chunks : int, (int, int) or None
        Block size in cells (rows, cols); None: the whole grid as one block. The result does
        not depend on it; memory does (a block's cells × trees per prediction).
    store : path, optional
        Directory for per-block checkpoints (see the module notes); a rerun resumes. The
        result is then lazily backed by the stored blocks. Without a store the result is held
        in memory (outputs × cells × 8 bytes; 5 outputs of a 2,000 × 2,000 grid: 160 MB).
    client : distributed.Client, optional
        Run the blocks on this client's cluster (:func:`wholesoil.parallel.dask_client`);
        None runs them in threads of this process.

    Returns
    -------
    xarray.Dataset
        Variables on ``("y", "x")`` with the grid's coordinates (and ``spatial_ref``), each with
        ``long_name``, ``units`` where known (the saved model's ``units``; ``"1"`` for the
        uncertainty), and for interval outputs ``interval_method``, ``interval_kind`` and
        ``level``. ``attrs`` record the model, its sha256 (or hash), the block size and the
        number of blocks computed by this call (``blocks_computed``) and taken from the store
        (``blocks_reused``).
    """
    mdl = _as_model(model)
    features = _model_features(mdl, features)
    name = name or mdl.meta.get("target") or "prediction"
    if not 0.0 < float(level) < 1.0:
        raise ValueError(f"level must be in (0, 1), e.g. 0.90 (got {level!r})")
    level = float(level)
    ivs = _as_intervals(intervals, mdl)
    methods = tuple(m for m, _ in ivs)
    qs: tuple[float, ...] = ()
    if "quantile" in methods:
        wanted = {round(float(q), _Q_DECIMALS) for q in quantiles}
        for q in wanted:
            if not 0.0 < q < 1.0:
                raise ValueError(f"quantiles must be in (0, 1) (got {q!r})")
        wanted |= {round((1.0 - level) / 2.0, _Q_DECIMALS), round((1.0 + level) / 2.0,
                                                                   _Q_DECIMALS)}
        qs = tuple(sorted(wanted))
        if mdl.local is not None and not (hasattr(mdl.local, "predict_quantiles") or "quantiles"
                                          in _predict_params(mdl.local)):
            raise InputDataError(
                f"interval 'quantile' needs a quantile forest (QuantileForest); the model is "
                f"a {type(mdl.local).__name__}", field="intervals", value="quantile",
            )
    fitted_names = None if mdl.local is None else getattr(mdl.local, "feature_names_in_", None)
    model_names = mdl.meta.get("features") if mdl.local is None else fitted_names
    spec = _Spec(name=name, level=level, quantiles=qs, methods=methods,
                 outputs=_build_outputs(name, methods, level, qs),
                 feature_names=None if model_names is None else tuple(map(str, model_names)))
    arrays = _check_grid(grid, features)
    shape = (int(grid.sizes["y"]), int(grid.sizes["x"]))
    cshape = _chunk_shape(chunks, shape)
    slices = _block_slices(shape, cshape)
    interval_models = [m for _, m in ivs if m is not None]

    st: _Store | None = None
    if store is not None:
        manifest = {
            "format": STORE_FORMAT,
            "format_version": STORE_FORMAT_VERSION,
            "model_sha256": "+".join([mdl.fingerprint()]
                                     + [m.fingerprint() for m in interval_models]),
            **_grid_facts(grid, features),
            "chunks": list(cshape),
            "outputs": [o.var for o in spec.outputs],
            "level": level,
            "quantiles": list(qs),
        }
        st = _open_store(Path(store), manifest)

    values = None if st is not None else np.full((len(spec.outputs), *shape), np.nan)
    runner = (_LocalRunner(spec, mdl, interval_models) if client is None
              else _ClientRunner(client, spec, mdl, interval_models))
    todo = [(iy, ix) for iy, row in enumerate(slices) for ix in range(len(row))]
    computed, reused = _run_blocks(runner, todo, slices, arrays, st, values)

    data = (_lazy_from_store(st, slices, len(spec.outputs)) if st is not None
            else list(values))
    return _dataset(grid, spec, features, data, mdl, cshape, len(todo), computed, reused, st)


def _predict_params(model: Any) -> set[str]:
    import inspect

    try:
        return set(inspect.signature(model.predict).parameters)
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return set()


_KIND_BY_METHOD = {
    "quantile": PREDICTION_INTERVAL,
    "coulston": PREDICTION_INTERVAL,
    "montecarlo": "confidence interval of the mean prediction",
}
_LABEL_BY_METHOD = {
    "quantile": "quantile regression forest (Meinshausen 2006)",
    "coulston": "Coulston et al. 2016 (Wang G. et al. (manuscript) Eqs. 9-10)",
    "montecarlo": "Monte Carlo over inputs and bootstrapped forests (Wang H. et al. (2025) §2.7, "
                  "Eq. 7)",
}
_RULE_BY_METHOD = {"quantile": "half_width", "coulston": "half_width", "montecarlo": "full_width"}


def _dataset(grid, spec, features, data, mdl, cshape, n_blocks, computed, reused, st) -> xr.Dataset:
    coords = {"y": grid["y"], "x": grid["x"]}
    if "spatial_ref" in grid.coords:
        coords["spatial_ref"] = grid["spatial_ref"]
    units = mdl.meta.get("units")
    out = xr.Dataset(coords=coords)
    for o, arr in zip(spec.outputs, data, strict=True):
        attrs: dict[str, Any] = {}
        if o.method == "model":
            attrs["long_name"] = f"{spec.name}: mean prediction of the model ({mdl.describe()})"
        else:
            label = _LABEL_BY_METHOD[o.method]
            if o.stat == "mean":
                what = ("mean of the Monte Carlo predictions" if o.method == "montecarlo"
                        else "random-forest mean prediction (final forest)")
                attrs["long_name"] = f"{spec.name}: {what}"
            elif o.stat == "uncertainty":
                rule = _RULE_BY_METHOD[o.method]
                attrs["long_name"] = (
                    f"{spec.name}: relative uncertainty, "
                    + ("half-width / |mean|" if rule == "half_width" else "full width / |mean|"))
                attrs["uncertainty_rule"] = rule
            else:
                attrs["long_name"] = f"{spec.name}: {o.q:g} quantile"
                attrs["quantile"] = o.q
            attrs.update(interval_method=label, interval_kind=_KIND_BY_METHOD[o.method],
                         level=spec.level)
        if o.stat == "uncertainty":
            attrs["units"] = "1"
        elif units:
            attrs["units"] = str(units)
        if "spatial_ref" in coords:
            attrs["grid_mapping"] = "spatial_ref"
        out[o.var] = xr.DataArray(arr, dims=("y", "x"), coords=coords, attrs=attrs)
    out.attrs.update(
        model=mdl.describe(),
        model_sha256=mdl.fingerprint() if st is not None else mdl.meta.get("sha256", ""),
        features=" ".join(features),  # strings, not lists: NetCDF and GeoTIFF tags take them
        interval_methods=" ".join(spec.methods),
        chunks=list(cshape),
        n_blocks=n_blocks,
        blocks_computed=computed,
        blocks_reused=reused,
    )
    if st is not None:
        out.attrs["store"] = str(st.folder)
    return out
