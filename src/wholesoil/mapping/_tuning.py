"""Tuning of the random forest's ``mtry`` and ``ntree`` by bootstrap or out-of-bag error.

By bootstrap as Wang, H., Cai, T., Tian, X., et al. (2025, *Global patterns of soil organic
carbon distribution in the 20–100 cm soil profile for different ecosystems*, submitted to *Earth
System Science Data*, §2.5) did with e1071's ``tune()``.

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from wholesoil.errors import InputDataError
from wholesoil.mapping._forests import (
    RandomForest,
    _float32,
    _resolve_mtry,
    _tree_predictions,
    default_mtry,
)
from wholesoil.mapping._learner_base import validate_fit_data

__all__ = [
    "E1071_TUNE_BOOTSTRAP",
    "ForestTuning",
    "TuneMethod",
    "bootstrap_resamples",
    "tune_forest",
]


#: How :func:`tune_forest` scores a grid point (types kept here; see ``wholesoil._types``).
TuneMethod = Literal["bootstrap", "oob"]


#: e1071 ``tune.control(sampling = "bootstrap")`` defaults (e1071 reference manual,
#: ``tune.control``; source ``R/tune.R``): ``nboot = 10`` resamples of ``n * boot.size`` rows
#: drawn with replacement, ``boot.size = 9/10``; the error of a grid point is the MSE on the
#: rows *not* drawn, averaged over the resamples (``sampling.aggregate = mean``), with the
#: standard deviation across resamples as its dispersion (``sampling.dispersion = sd``).
#: The same resamples serve every grid point.
E1071_TUNE_BOOTSTRAP: dict[str, Any] = {"nboot": 10, "boot.size": 0.9}


def bootstrap_resamples(
    n_samples: int,
    *,
    n_boot: int = 10,
    boot_size: float = 0.9,
    groups: ArrayLike | None = None,
    random_state: int | np.random.Generator | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Bootstrap resamples as e1071 ``tune()`` draws them, optionally of whole groups.

    Each resample draws ``int(n * boot_size)`` rows with replacement (e1071:
    ``sample(n, n * boot.size, replace = TRUE)``); its hold-out set is every row not drawn.
    With ``groups`` (e.g. profile ids) whole groups are drawn instead, ``int(G * boot_size)``
    of the G groups, and a drawn group contributes all its rows once per draw, so the layers
    of one profile are never split between training and hold-out.

    Returns
    -------
    list of (train, holdout) index arrays
        ``train`` may repeat rows; ``holdout`` is sorted and unique.
    """
    if not 0.0 < boot_size <= 1.0:
        raise ValueError(f"boot_size must be in (0, 1], got {boot_size!r}")
    if int(n_boot) < 1:
        raise ValueError(f"n_boot must be ≥ 1, got {n_boot!r}")
    rng = np.random.default_rng(random_state)
    rows = np.arange(n_samples)
    if groups is None:
        codes = rows
        n_units = n_samples
    else:
        codes = _group_codes(groups, n_samples)
        n_units = int(codes.max()) + 1
    size = int(n_units * boot_size)
    if size < 1:
        raise ValueError(
            f"a bootstrap of {n_units} {'groups' if groups is not None else 'rows'} × boot_size "
            f"{boot_size} draws nothing"
        )
    out = []
    for _ in range(int(n_boot)):
        mult = np.bincount(rng.integers(0, n_units, size=size), minlength=n_units)[codes]
        out.append((np.repeat(rows, mult), np.flatnonzero(mult == 0)))
    return out


def _group_codes(groups: ArrayLike, n_samples: int) -> np.ndarray:
    codes, _ = pd.factorize(pd.Series(np.asarray(groups, dtype=object)), sort=False)
    if codes.shape[0] != n_samples:
        raise ValueError(f"groups has {codes.shape[0]} labels for {n_samples} samples")
    missing = np.flatnonzero(codes < 0)
    if missing.size:
        raise InputDataError(
            f"group label missing at row index {int(missing[0])} (0-based): every row needs "
            "its profile/group id", field="groups",
        )
    return codes


def _default_mtry_grid(p: int) -> list[int]:
    if p <= 10:
        return list(range(1, p + 1))
    grid = set(np.unique(np.round(np.linspace(1, p, 10)).astype(int)).tolist())
    grid.add(default_mtry(p))
    return sorted(grid)


@dataclass
class ForestTuning:
    """Result of :func:`tune_forest`.

    Attributes
    ----------
    table : DataFrame
        One row per grid point: ``mtry``, ``n_estimators``, ``mse`` [y²] (mean over resamples,
        e1071's ``error``), ``rmse`` [y] (√mse), ``sd`` [y²] (standard deviation of the MSE
        across resamples, e1071's ``dispersion``; NaN for ``method="oob"``).
    best_params : dict
        ``{"mtry": …, "n_estimators": …}`` with the least ``mse`` (the first on ties, the grid
        being sorted by mtry then n_estimators).
    best_estimator : RandomForest
        A forest with ``best_params`` fitted on all the data.
    method : str
        ``"bootstrap"`` or ``"oob"``.
    resamples : list of (train, holdout) index arrays
        The bootstrap resamples shared by every grid point (empty for ``"oob"``).
    """

    table: pd.DataFrame
    best_params: dict[str, int]
    best_estimator: RandomForest
    method: str
    resamples: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list, repr=False)


def _prefix_mse(
    tree_preds: np.ndarray, y: np.ndarray, sizes: Sequence[int], mask: np.ndarray | None = None
) -> np.ndarray:
    """MSE of the forests made of the first k trees, for every k in ``sizes``.

    ``tree_preds`` is (n_trees, n); ``mask`` (same shape) marks which tree predictions count
    (out-of-bag ones); a row with none among the first k trees is left out.
    """
    if mask is None:
        sums = np.cumsum(tree_preds, axis=0)
        counts = np.arange(1, tree_preds.shape[0] + 1, dtype=float)[:, None]
        counts = np.broadcast_to(counts, sums.shape)
    else:
        sums = np.cumsum(np.where(mask, tree_preds, 0.0), axis=0)
        counts = np.cumsum(mask, axis=0, dtype=float)
    idx = np.asarray(sizes) - 1
    s, c = sums[idx], counts[idx]
    have = c > 0
    sq = np.where(have, (y[None, :] - np.divide(s, c, out=np.zeros_like(s), where=have)) ** 2, 0)
    n_have = have.sum(axis=1)
    return np.divide(sq.sum(axis=1), n_have, out=np.full(len(idx), np.nan), where=n_have > 0)


def tune_forest(
    X: Any,
    y: ArrayLike,
    *,
    mtry: Sequence[int] | None = None,
    n_estimators: Sequence[int] = (100, 300, 500),
    method: TuneMethod = "bootstrap",
    n_boot: int = 10,
    boot_size: float = 0.9,
    groups: ArrayLike | None = None,
    random_state: int | None = 0,
    n_jobs: int | None = None,
    forest_params: Mapping[str, Any] | None = None,
) -> ForestTuning:
    """Tune ``mtry`` and ``ntree`` of :class:`RandomForest` as Wang H. et al. (2025) did (e1071
    ``tune()``).

    Wang H. et al. (2025) (§2.5): "the optimal parameter values of mtry and ntrees were determined
    through the bootstrap sampling method, which was performed with the e1071 R package". With
    ``method="bootstrap"`` (e1071 ``tune.control(sampling = "bootstrap")``, defaults in
    :data:`E1071_TUNE_BOOTSTRAP`) each of ``n_boot`` resamples draws ``int(n·boot_size)`` rows
    with replacement; a forest is fitted on them and scored by the MSE on the rows not drawn;
    a grid point's error is the mean MSE over the resamples. All grid points share the
    resamples, as in e1071. ``method="oob"`` instead scores one forest per grid point, fitted
    on all data, by its OOB MSE (R ``randomForest``'s own error estimate).

    For each ``mtry`` and resample one forest of ``max(n_estimators)`` trees is grown and the
    smaller ``ntree`` values are scored on its first trees: the trees of a forest are
    independent draws, so the first k of them are a k-tree forest (common random numbers across
    ``ntree``, which lowers the noise of the comparison).

    Parameters
    ----------
    X : DataFrame or array (n_samples, n_features)
        Covariates [their units].
    y : array (n_samples,)
        Target [its units].
    mtry : sequence of int, optional
        Candidate ``mtry`` values; default 1…p, or about ten values spread over 1…p (always
        including R's default) when p > 10.
    n_estimators : sequence of int, default (100, 300, 500)
        Candidate numbers of trees.
    method : {"bootstrap", "oob"}, default "bootstrap"
        Resampling error as e1071, or out-of-bag error of forests fitted on all data.
    n_boot : int, default 10
        Bootstrap resamples (e1071 ``nboot``).
    boot_size : float, default 0.9
        Size of a resample as a fraction of the rows, or of the groups (e1071 ``boot.size``).
    groups : array (n_samples,), optional
        Profile (or site) id of each row. Resamples then draw whole groups, so no group is
        both in a training resample and in its hold-out set. ``method="oob"`` cannot honour
        groups (the forest's own bootstrap draws single rows) and refuses them.
    random_state : int, optional
        Seed of the resamples and forests.
    n_jobs : int, optional
        Parallel jobs of each forest.
    forest_params : mapping, optional
        Further :class:`RandomForest` parameters (``nodesize``, ``max_depth`` …), kept fixed.

    Returns
    -------
    ForestTuning
        ``table``, ``best_params``, ``best_estimator`` (fitted on all data), ``resamples``.

    Notes
    -----
    Cost: ``len(mtry) × n_boot`` forests of ``max(n_estimators)`` trees (e1071 fits one per grid
    point and resample), plus the final one. Memory: the tree predictions of one forest on its
    hold-out rows, ``max(n_estimators) × n_holdout`` floats (≈ 0.4 n rows for the bootstrap;
    all n for ``"oob"``).
    """
    if method not in ("bootstrap", "oob"):
        raise ValueError(f"method must be 'bootstrap' or 'oob', got {method!r}")
    if method == "oob" and groups is not None:
        raise ValueError(
            "method='oob' scores single rows left out of each tree's bootstrap, so layers of "
            "one profile leak between training and scoring; use method='bootstrap' with groups"
        )
    params = dict(forest_params or {})
    for reserved in ("mtry", "n_estimators", "random_state", "oob_score", "n_jobs"):
        if reserved in params:
            raise ValueError(f"forest_params may not set {reserved!r}; it is tuned or fixed here")
    probe = RandomForest(**params)
    Xa, ya = validate_fit_data(probe, X, y)
    n, p = Xa.shape
    mtry_grid = _default_mtry_grid(p) if mtry is None else sorted({int(m) for m in mtry})
    for m in mtry_grid:
        _resolve_mtry(m, p)
    sizes = sorted({int(k) for k in n_estimators})
    if not sizes or sizes[0] < 1:
        raise ValueError(f"n_estimators must be positive integers, got {n_estimators!r}")
    t_max = sizes[-1]
    rng = np.random.default_rng(random_state)

    resamples: list[tuple[np.ndarray, np.ndarray]] = []
    if method == "bootstrap":
        resamples = bootstrap_resamples(
            n, n_boot=n_boot, boot_size=boot_size, groups=groups, random_state=rng
        )
        seeds = rng.integers(0, 2**31 - 1, size=len(resamples))
        mse = np.full((len(mtry_grid), len(resamples), len(sizes)), np.nan)
        for b, ((train, hold), seed) in enumerate(zip(resamples, seeds, strict=True)):
            if hold.size == 0:
                continue
            for i, m in enumerate(mtry_grid):
                rf = RandomForest(
                    t_max, mtry=m, oob_score=False, n_jobs=n_jobs, random_state=int(seed),
                    **params,
                ).fit(Xa[train], ya[train])
                preds = _tree_predictions(rf.estimator_.estimators_, _float32(Xa[hold]), n_jobs)
                mse[i, b] = _prefix_mse(preds, ya[hold], sizes)
        done = ~np.isnan(mse[0, :, 0])
        if not done.any():
            raise ValueError("every bootstrap resample drew all rows; nothing left to score")
        mean = mse[:, done].mean(axis=1)
        sd = mse[:, done].std(axis=1, ddof=1) if done.sum() > 1 else np.full_like(mean, np.nan)
    else:
        seed = int(rng.integers(0, 2**31 - 1))
        mean = np.empty((len(mtry_grid), len(sizes)))
        X32 = _float32(Xa)
        for i, m in enumerate(mtry_grid):
            rf = RandomForest(
                t_max, mtry=m, oob_score=False, n_jobs=n_jobs, random_state=seed, **params
            ).fit(Xa, ya)
            preds = _tree_predictions(rf.estimator_.estimators_, X32, n_jobs)
            oob = np.ones_like(preds, dtype=bool)
            for t, drawn in enumerate(rf.estimator_.estimators_samples_):
                oob[t, drawn] = False
            mean[i] = _prefix_mse(preds, ya, sizes, mask=oob)
        sd = np.full_like(mean, np.nan)

    table = pd.DataFrame(
        {
            "mtry": np.repeat(mtry_grid, len(sizes)),
            "n_estimators": np.tile(sizes, len(mtry_grid)),
            "mse": mean.ravel(),
            "rmse": np.sqrt(mean.ravel()),
            "sd": sd.ravel(),
        }
    )
    best = table.loc[int(np.nanargmin(table["mse"].to_numpy()))]
    best_params = {"mtry": int(best["mtry"]), "n_estimators": int(best["n_estimators"])}
    best_estimator = RandomForest(
        best_params["n_estimators"], mtry=best_params["mtry"], n_jobs=n_jobs,
        random_state=random_state, **params,
    ).fit(X, y)
    return ForestTuning(table, best_params, best_estimator, method, resamples)
