"""Learners of :mod:`wholesoil.mapping`: R-style random forests, XGBoost, SVM, Cubist, a registry.

Every learner is a scikit-learn regressor (``fit`` returns ``self``, learned state ends in ``_``)
and handles its inputs the same way:

* ``X`` is a DataFrame or an array of covariates [units of each covariate], one row per sample
  (site, profile or layer); ``y`` is the target [units of the target, e.g. β (unitless) or
  kg C m⁻²].
* Fitted on a DataFrame, a learner records ``feature_names_in_``; at predict time a DataFrame must
  hold those columns (absent ones raise :class:`~wholesoil.errors.MissingColumnError`) and is
  reordered by name, extra columns are ignored. This is how a covariate grid with more layers
  than the model used is predicted (note: scikit-learn itself refuses a different column order).
* A NaN or infinite covariate raises :class:`~wholesoil.errors.InputDataError` naming the row
  and the field, at fit and at predict; nothing is filled silently.

Random forests follow R's ``randomForest`` (Liaw & Wiener 2002), the engine of Wang et al.
(seed 000 §2.5) and of Wang et al. (seed 004, Methods, "Machine learning models"):
``mtry = max(floor(p/3), 1)`` for regression, where scikit-learn's default (all p features) is a
different model (bagged trees). :func:`tune_forest` tunes ``mtry`` and ``ntree`` by bootstrap as
seed 000 did with e1071's ``tune()``.
"""

from __future__ import annotations

import importlib
import numbers
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, effective_n_jobs
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_array, check_consistent_length, check_is_fitted

from wholesoil.errors import InputDataError, OptionalDependencyError
from wholesoil.mapping._check import check_target_variance, feature_matrix
from wholesoil.mapping._metrics import r2_score

#: How :func:`tune_forest` scores a grid point (types kept here; see ``wholesoil._types``).
TuneMethod = Literal["bootstrap", "oob"]

#: R ``randomForest`` defaults for regression (randomForest 4.7 reference manual,
#: ``randomForest()``; Liaw & Wiener 2002, R News 2(3):18–22): 500 trees, ``mtry`` =
#: max(floor(p/3), 1) candidate features per split, terminal ``nodesize`` 5, and n rows drawn
#: with replacement per tree. ``nodesize`` is applied as R's C code does (``regTree``: a node
#: holding ≤ nodesize in-bag rows is not split), i.e. scikit-learn's
#: ``min_samples_split = nodesize + 1``; a leaf may hold fewer than ``nodesize`` rows.
R_RANDOMFOREST_REGRESSION: dict[str, Any] = {
    "ntree": 500,
    "mtry": "max(floor(p/3), 1)",
    "nodesize": 5,
    "replace": True,
    "sampsize": "n",
}

#: e1071 ``tune.control(sampling = "bootstrap")`` defaults (e1071 reference manual,
#: ``tune.control``; source ``R/tune.R``): ``nboot = 10`` resamples of ``n * boot.size`` rows
#: drawn with replacement, ``boot.size = 9/10``; the error of a grid point is the MSE on the
#: rows *not* drawn, averaged over the resamples (``sampling.aggregate = mean``), with the
#: standard deviation across resamples as its dispersion (``sampling.dispersion = sd``).
#: The same resamples serve every grid point.
E1071_TUNE_BOOTSTRAP: dict[str, Any] = {"nboot": 10, "boot.size": 0.9}

#: XGBoost settings of :class:`XGBoost`. Seed 004 tuned XGBoost through caret and does not report
#: the values it kept, so these are wholesoil's documented choice: shrinkage 0.05 with 500 rounds,
#: depth-6 trees (the xgboost default), 80 % row and column subsampling per tree, squared error.
XGBOOST_DEFAULTS: dict[str, Any] = {
    "n_estimators": 500,
    "learning_rate": 0.05,
    "max_depth": 6,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "min_child_weight": 1.0,
    "reg_lambda": 1.0,
}

#: Install command printed when an optional learner's package is absent.
ML_EXTRA_INSTALL = "pip install 'wholesoil[ml-extra]'"


# --------------------------------------------------------------------------------------------
# input handling shared by every learner (and the ensemble)
# --------------------------------------------------------------------------------------------


def _first_nonfinite(values: np.ndarray) -> tuple[int, int] | None:
    bad = ~np.isfinite(values)
    if not bad.any():
        return None
    row, col = np.argwhere(bad)[0]
    return int(row), int(col)


def _names_of(table: pd.DataFrame) -> np.ndarray | None:
    """Column names as scikit-learn records them: only when every name is a string."""
    names = list(table.columns)
    if names and all(isinstance(c, str) for c in names):
        return np.asarray(names, dtype=object)
    return None


def _matrix(estimator: BaseEstimator, X: Any, *, columns: Sequence[Any] | None,
            min_samples: int) -> np.ndarray:
    """X as a finite float64 matrix; DataFrames go through :func:`feature_matrix`."""
    if isinstance(X, pd.DataFrame):
        X = feature_matrix(X, list(X.columns) if columns is None else list(columns))
    X = check_array(
        X, dtype=np.float64, ensure_all_finite=False, ensure_min_samples=min_samples,
        estimator=estimator,
    )
    hit = _first_nonfinite(X)
    if hit is not None:
        i, j = hit
        raise InputDataError(
            f"Input X contains NaN or inf at row index {i}, column index {j} (0-based): every "
            "feature value must be a finite number (fill or drop such rows explicitly before "
            "training or predicting)",
            field=f"X[:, {j}]", value=float(X[i, j]), has_value=True,
        )
    return X


def validate_fit_data(estimator: BaseEstimator, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Check ``X``/``y`` for ``fit``; set ``n_features_in_`` and ``feature_names_in_``.

    Returns finite float64 arrays. Raises :class:`InputDataError` (a ``ValueError``) for a NaN or
    infinite value, a target with no variance, or mismatched lengths.
    """
    name = type(estimator).__name__
    if y is None:
        raise ValueError(f"{name} requires y to be passed, but the target y is None.")
    names = _names_of(X) if isinstance(X, pd.DataFrame) else None
    Xa = _matrix(estimator, X, columns=None, min_samples=2)
    y_name = str(y.name) if isinstance(y, pd.Series) and y.name is not None else "y"
    y_arr = np.asarray(y)
    if y_arr.ndim == 2 and y_arr.shape[1] == 1:
        from sklearn.exceptions import DataConversionWarning

        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please change the "
            "shape of y to (n_samples,), for example using ravel().",
            DataConversionWarning, stacklevel=3,
        )
        y_arr = y_arr.ravel()
    if y_arr.ndim != 1:
        raise ValueError(f"y should be a 1d array, got an array of shape {y_arr.shape} instead.")
    ya = y_arr.astype(np.float64)
    check_consistent_length(Xa, ya)
    bad = np.flatnonzero(~np.isfinite(ya))
    if bad.size:
        i = int(bad[0])
        raise InputDataError(
            f"target contains NaN or inf at row index {i} (0-based): every target value must be "
            "a finite number", field=y_name, value=float(ya[i]), has_value=True,
        )
    check_target_variance(ya, name=y_name)
    estimator.n_features_in_ = Xa.shape[1]
    if names is not None:
        estimator.feature_names_in_ = names
    elif hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_
    return Xa, ya


def validate_predict_data(estimator: BaseEstimator, X: Any) -> np.ndarray:
    """Check ``X`` for ``predict``: a DataFrame is matched to ``feature_names_in_`` by name."""
    check_is_fitted(estimator)
    name = type(estimator).__name__
    fitted_names = getattr(estimator, "feature_names_in_", None)
    if isinstance(X, pd.DataFrame):
        if fitted_names is None:
            if _names_of(X) is not None:
                warnings.warn(
                    f"X has feature names, but {name} was fitted without feature names; "
                    "columns are taken by position", UserWarning, stacklevel=3,
                )
            Xa = _matrix(estimator, X, columns=None, min_samples=1)
        else:
            Xa = _matrix(estimator, X, columns=fitted_names, min_samples=1)
    else:
        if fitted_names is not None:
            warnings.warn(
                f"X does not have valid feature names, but {name} was fitted with feature "
                f"names; columns are taken by position as {list(fitted_names)}",
                UserWarning, stacklevel=3,
            )
        Xa = _matrix(estimator, X, columns=None, min_samples=1)
    if Xa.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {Xa.shape[1]} features, but {name} is expecting "
            f"{estimator.n_features_in_} features as input."
        )
    return Xa


class _Learner(RegressorMixin, BaseEstimator):
    """Shared input handling (see the module docstring)."""

    def _validate_fit(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        return validate_fit_data(self, X, y)

    def _validate_predict(self, X: Any) -> np.ndarray:
        return validate_predict_data(self, X)

    def _set_importances(self, importances: ArrayLike | None) -> None:
        if importances is not None:
            self.feature_importances_ = np.asarray(importances, dtype=float)


# --------------------------------------------------------------------------------------------
# random forests
# --------------------------------------------------------------------------------------------


def default_mtry(n_features: int) -> int:
    """R ``randomForest``'s regression default, max(floor(p/3), 1) [features per split]."""
    return max(int(n_features) // 3, 1)


def _resolve_mtry(mtry: int | None, n_features: int) -> int:
    if mtry is None:
        return default_mtry(n_features)
    if (not isinstance(mtry, numbers.Integral) or isinstance(mtry, bool)
            or not 1 <= mtry <= n_features):
        raise ValueError(
            f"mtry must be an integer in [1, {n_features}] (the number of features), "
            f"got {mtry!r}"
        )
    return int(mtry)


def _check_nodesize(nodesize: Any) -> int:
    if (not isinstance(nodesize, numbers.Integral) or isinstance(nodesize, bool)
            or nodesize < 1):
        raise ValueError(f"nodesize must be an integer ≥ 1, got {nodesize!r}")
    return int(nodesize)


def _float32(X: np.ndarray) -> np.ndarray:
    """Trees split on float32 (scikit-learn's DTYPE); predict them on the same values."""
    return np.ascontiguousarray(X, dtype=np.float32)


def _tree_predictions(trees: Sequence[Any], X32: np.ndarray, n_jobs: int | None) -> np.ndarray:
    """Per-tree predictions, array (n_trees, n_samples); threads share the output."""
    out = np.empty((len(trees), X32.shape[0]), dtype=np.float64)

    def fill(t: int, tree: Any) -> None:
        out[t] = tree.predict(X32, check_input=False)

    Parallel(n_jobs=n_jobs, prefer="threads", require="sharedmem")(
        delayed(fill)(t, tree) for t, tree in enumerate(trees)
    )
    return out


def _tree_mean(trees: Sequence[Any], X32: np.ndarray, n_jobs: int | None) -> np.ndarray:
    """Mean of the tree predictions, accumulated without holding all of them."""
    total = np.zeros(X32.shape[0])
    lock = threading.Lock()

    def add(tree: Any) -> None:
        pred = tree.predict(X32, check_input=False)
        with lock:
            total[:] += pred

    Parallel(n_jobs=n_jobs, prefer="threads", require="sharedmem")(
        delayed(add)(tree) for tree in trees
    )
    return total / len(trees)


def _oob_predictions(
    trees: Sequence[Any], samples: Sequence[np.ndarray], X32: np.ndarray, n_jobs: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-bag mean prediction of each training row and the number of trees it was OOB for.

    A row that was in every tree's bootstrap sample has no OOB prediction (NaN), as in R.
    """
    n = X32.shape[0]
    sums = np.zeros(n)
    counts = np.zeros(n, dtype=np.int64)
    lock = threading.Lock()

    def add(tree: Any, drawn: np.ndarray) -> None:
        oob = np.ones(n, dtype=bool)
        oob[drawn] = False
        rows = np.flatnonzero(oob)
        if rows.size:
            pred = tree.predict(X32[rows], check_input=False)
            with lock:
                sums[rows] += pred
                counts[rows] += 1

    Parallel(n_jobs=n_jobs, prefer="threads", require="sharedmem")(
        delayed(add)(tree, drawn) for tree, drawn in zip(trees, samples, strict=True)
    )
    pred = np.full(n, np.nan)
    have = counts > 0
    pred[have] = sums[have] / counts[have]
    return pred, counts


class _ForestMixin:
    """Fitted-forest helpers shared by :class:`RandomForest` and :class:`QuantileForest`."""

    def _grow(self, forest_cls: Any, X: Any, y: ArrayLike, **extra: Any) -> Any:
        """Validate, grow ``forest_cls`` with R's mtry/nodesize mapping, compute OOB; ``self``."""
        Xa, ya = self._validate_fit(X, y)
        self.mtry_ = _resolve_mtry(self.mtry, Xa.shape[1])
        self.estimator_ = forest_cls(
            n_estimators=self.n_estimators,
            max_features=self.mtry_,
            # R regTree: a node with <= nodesize rows is not split
            min_samples_split=_check_nodesize(self.nodesize) + 1,
            min_samples_leaf=self.min_samples_leaf,
            max_depth=self.max_depth,
            bootstrap=True,
            max_samples=self.max_samples,
            oob_score=False,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
            **extra,
        ).fit(Xa, ya)
        self._forest_fit_common(Xa, ya)
        return self

    def _forest_fit_common(self, Xa: np.ndarray, ya: np.ndarray) -> None:
        X32 = _float32(Xa)
        self.n_estimators_ = len(self.estimator_.estimators_)
        self._set_importances(self.estimator_.feature_importances_)
        if not self.oob_score:
            return
        pred, counts = _oob_predictions(
            self.estimator_.estimators_, self.estimator_.estimators_samples_, X32, self.n_jobs
        )
        self.oob_prediction_ = pred
        self.oob_n_trees_ = counts
        have = counts > 0
        if not have.all():
            warnings.warn(
                f"{int((~have).sum())} of {have.size} training rows were in the bootstrap "
                f"sample of all {self.n_estimators_} trees and have no out-of-bag prediction "
                "(NaN); OOB scores use the other rows. Grow more trees to cover every row.",
                UserWarning, stacklevel=3,
            )
        resid = ya[have] - pred[have]
        self.oob_mse_ = float(np.mean(resid**2)) if resid.size else float("nan")
        self.oob_rmse_ = float(np.sqrt(self.oob_mse_))
        self.oob_r2_ = r2_score(ya[have], pred[have])

    def predict_trees(self, X: Any) -> np.ndarray:
        """Prediction of every tree, array (n_trees, n_samples) [units of the target].

        The forest's prediction is their mean; their spread is what the Coulston et al. (2016)
        τ intervals scale (seed 004 Eqs. 9–10).
        """
        Xa = self._validate_predict(X)
        return _tree_predictions(self.estimator_.estimators_, _float32(Xa), self.n_jobs)

    def predict_sd(self, X: Any) -> np.ndarray:
        """Standard deviation of the tree predictions (n − 1 denominator, as R's ``sd``).

        This is the spread of the ensemble members, not a prediction interval: it says nothing
        of the residual error around the conditional mean.
        """
        trees = self.predict_trees(X)
        if trees.shape[0] < 2:
            return np.full(trees.shape[1], np.nan)
        return trees.std(axis=0, ddof=1)


class RandomForest(_ForestMixin, _Learner):
    """Random forest regression as R users know it (``randomForest``, Liaw & Wiener 2002).

    Wraps :class:`sklearn.ensemble.RandomForestRegressor` with R's regression defaults
    (:data:`R_RANDOMFOREST_REGRESSION`): ``mtry = max(floor(p/3), 1)`` features tried per split,
    500 trees, nodes of ≤ 5 in-bag rows left unsplit, bootstrap samples of n rows, and the
    out-of-bag (OOB) error that R prints as "Mean of squared residuals". Seed 000 (§2.5)
    predicts β with it; seed 004 maps carbon inputs with it.

    Parameters
    ----------
    n_estimators : int, default 500
        Number of trees (R ``ntree``).
    mtry : int, optional
        Features drawn as split candidates at each node (R ``mtry``); None gives
        max(floor(p/3), 1) for p features. scikit-learn's default, all p, is bagging, not R's
        random forest.
    nodesize : int, default 5
        R ``nodesize``: a node holding ≤ ``nodesize`` training rows is not split
        (scikit-learn ``min_samples_split = nodesize + 1``). scikit-learn counts distinct rows
        of the bootstrap sample, R counts duplicates too, so R splits slightly deeper.
    min_samples_leaf : int, default 1
        Least rows in a leaf (scikit-learn's control; R has none, so 1 reproduces R).
    max_depth : int, optional
        Depth limit (None: grow until ``nodesize`` stops it, as R).
    max_samples : int or float, optional
        Rows drawn per tree (R ``sampsize``); None draws n.
    oob_score : bool, default True
        Compute the OOB prediction and scores at fit.
    n_jobs : int, optional
        Parallel jobs for fitting and predicting (joblib; -1 = all cores).
    random_state : int, optional
        Seed of the bootstrap samples and feature draws.

    Attributes
    ----------
    estimator_ : sklearn.ensemble.RandomForestRegressor
        The fitted forest.
    mtry_ : int
        ``mtry`` used.
    n_estimators_ : int
        Number of trees grown.
    oob_prediction_ : ndarray (n_samples,)
        Mean prediction of each training row by the trees whose bootstrap sample left it out
        [units of y]; NaN for a row no tree left out.
    oob_n_trees_ : ndarray of int (n_samples,)
        Number of trees each row was out of bag for.
    oob_mse_ : float
        Mean squared OOB residual [units of y squared], R's "Mean of squared residuals".
    oob_rmse_ : float
        √oob_mse_ [units of y] (seed 000 Eq. 5 on the OOB predictions).
    oob_r2_ : float
        Seed 000 Eq. 4 on the OOB predictions. When every row has an OOB prediction this equals
        R's "% Var explained" / 100 (1 − MSE / population variance of y).
    feature_importances_ : ndarray (n_features,)
        Impurity decrease per feature, normalised to sum 1 (R's ``IncNodePurity``, rescaled).
    n_features_in_ : int
        Number of features seen at fit.
    feature_names_in_ : ndarray of str
        Feature names, when X was a DataFrame with string column names.

    Notes
    -----
    Trees split on float32 copies of X, as every scikit-learn forest does.

    Examples
    --------
    >>> import numpy as np
    >>> from wholesoil.mapping._learners import RandomForest
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 6)); y = X[:, 0] + 0.1 * rng.normal(size=60)
    >>> rf = RandomForest(n_estimators=50, random_state=0).fit(X, y)
    >>> rf.mtry_
    2
    """

    def __init__(
        self,
        n_estimators: int = 500,
        *,
        mtry: int | None = None,
        nodesize: int = 5,
        min_samples_leaf: int = 1,
        max_depth: int | None = None,
        max_samples: int | float | None = None,
        oob_score: bool = True,
        n_jobs: int | None = None,
        random_state: int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.mtry = mtry
        self.nodesize = nodesize
        self.min_samples_leaf = min_samples_leaf
        self.max_depth = max_depth
        self.max_samples = max_samples
        self.oob_score = oob_score
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X: Any, y: ArrayLike) -> RandomForest:
        """Grow the forest on covariates ``X`` and target ``y``; returns ``self``."""
        from sklearn.ensemble import RandomForestRegressor

        return self._grow(RandomForestRegressor, X, y)

    def predict(self, X: Any) -> np.ndarray:
        """Mean of the tree predictions [units of y]."""
        Xa = self._validate_predict(X)
        return self.estimator_.predict(Xa)


class QuantileForest(_ForestMixin, _Learner):
    """Quantile regression forest (Meinshausen 2006) with R ``randomForest``'s defaults.

    Wraps :class:`quantile_forest.RandomForestQuantileRegressor`. The trees are grown exactly
    as :class:`RandomForest`'s (same ``mtry``, ``nodesize``, bootstrap); every leaf keeps all
    its training targets (``max_samples_leaf=None``), so a prediction is the weighted
    distribution of y over the leaves x falls in (Meinshausen 2006, JMLR 7:983–999, Eq. 4–6),
    as R's ``quantregForest`` computes it.

    Parameters
    ----------
    n_estimators, mtry, nodesize, min_samples_leaf, max_depth, max_samples, oob_score, n_jobs,\
 random_state
        As :class:`RandomForest`.
    max_samples_leaf : int, optional
        Training targets kept per leaf; None keeps all (Meinshausen's forest). quantile-forest's
        own default, 1, keeps one random value per leaf to save memory.

    Attributes
    ----------
    estimator_ : quantile_forest.RandomForestQuantileRegressor
        The fitted forest.
    mtry_, n_estimators_, oob_prediction_, oob_n_trees_, oob_mse_, oob_rmse_, oob_r2_,\
 feature_importances_, n_features_in_, feature_names_in_
        As :class:`RandomForest` (OOB values are for the conditional mean).
    """

    def __init__(
        self,
        n_estimators: int = 500,
        *,
        mtry: int | None = None,
        nodesize: int = 5,
        min_samples_leaf: int = 1,
        max_depth: int | None = None,
        max_samples: int | float | None = None,
        max_samples_leaf: int | None = None,
        oob_score: bool = True,
        n_jobs: int | None = None,
        random_state: int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.mtry = mtry
        self.nodesize = nodesize
        self.min_samples_leaf = min_samples_leaf
        self.max_depth = max_depth
        self.max_samples = max_samples
        self.max_samples_leaf = max_samples_leaf
        self.oob_score = oob_score
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X: Any, y: ArrayLike) -> QuantileForest:
        """Grow the forest and keep the leaf targets; returns ``self``."""
        from quantile_forest import RandomForestQuantileRegressor

        return self._grow(RandomForestQuantileRegressor, X, y,
                          max_samples_leaf=self.max_samples_leaf)

    def predict(self, X: Any) -> np.ndarray:
        """Conditional mean: the mean of the tree predictions, as :class:`RandomForest`.

        (With ``max_samples_leaf=None`` this equals quantile-forest's weighted mean of the leaf
        targets; computing it from the trees keeps it exact for any ``max_samples_leaf``.)
        """
        Xa = self._validate_predict(X)
        return _tree_mean(self.estimator_.estimators_, _float32(Xa), self.n_jobs)

    def predict_quantiles(
        self, X: Any, quantiles: Sequence[float] = (0.05, 0.5, 0.95)
    ) -> np.ndarray:
        """Conditional quantiles of y given x, array (n_samples, n_quantiles) [units of y].

        Parameters
        ----------
        X : DataFrame or array (n_samples, n_features)
            Covariates.
        quantiles : sequence of float in (0, 1), default (0.05, 0.5, 0.95)
            Probabilities; the 0.05 and 0.95 quantiles bound a 90 % prediction interval for a
            new observation (not a confidence interval of the mean).
        """
        q = np.atleast_1d(np.asarray(quantiles, dtype=float))
        if q.ndim != 1 or q.size == 0 or np.any((q <= 0) | (q >= 1)):
            raise ValueError(f"quantiles must be probabilities in (0, 1), got {quantiles!r}")
        Xa = self._validate_predict(X)
        out = np.asarray(self.estimator_.predict(Xa, quantiles=list(q)), dtype=float)
        return out.reshape(Xa.shape[0], q.size)


# --------------------------------------------------------------------------------------------
# tuning (seed 000: mtry and ntree by bootstrap, e1071 tune())
# --------------------------------------------------------------------------------------------


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
    """Tune ``mtry`` and ``ntree`` of :class:`RandomForest` as seed 000 did (e1071 ``tune()``).

    Seed 000 (§2.5): "the optimal parameter values of mtry and ntrees were determined through
    the bootstrap sampling method, which was performed with the e1071 R package". With
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


# --------------------------------------------------------------------------------------------
# other members of the seed 004 ensemble
# --------------------------------------------------------------------------------------------


class XGBoost(_Learner):
    """Gradient-boosted trees, :class:`xgboost.XGBRegressor` with wholesoil's input handling.

    Defaults are :data:`XGBOOST_DEFAULTS` (seed 004 tuned its XGBoost with caret and does not
    report the values). Squared-error objective, histogram tree method.

    Parameters
    ----------
    n_estimators : int, default 500
        Boosting rounds.
    learning_rate : float, default 0.05
        Shrinkage η of each round.
    max_depth : int, default 6
        Depth of each tree.
    subsample : float, default 0.8
        Fraction of rows drawn (without replacement) per round.
    colsample_bytree : float, default 0.8
        Fraction of features drawn per tree.
    min_child_weight : float, default 1
        Least hessian sum (rows, for squared error) in a child.
    reg_lambda : float, default 1
        L2 penalty on leaf weights.
    n_jobs : int, optional
        Threads, with joblib's meaning as every wholesoil learner: None is 1, -1 all cores.
        (xgboost's own None means all cores, which on small data is slower than one thread.)
    random_state : int, optional
        Seed of the row/feature subsampling (None: xgboost's seed 0).

    Attributes
    ----------
    estimator_ : xgboost.XGBRegressor
        The fitted booster.
    feature_importances_ : ndarray (n_features,)
        xgboost's importances (total gain share for tree boosters).
    n_features_in_, feature_names_in_
        As :class:`RandomForest`.
    """

    def __init__(
        self,
        n_estimators: int = 500,
        *,
        learning_rate: float = 0.05,
        max_depth: int = 6,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        min_child_weight: float = 1.0,
        reg_lambda: float = 1.0,
        n_jobs: int | None = None,
        random_state: int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.reg_lambda = reg_lambda
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X: Any, y: ArrayLike) -> XGBoost:
        """Boost on covariates ``X`` and target ``y``; returns ``self``."""
        from xgboost import XGBRegressor

        Xa, ya = self._validate_fit(X, y)
        self.estimator_ = XGBRegressor(
            objective="reg:squarederror",
            tree_method="hist",
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            max_depth=self.max_depth,
            subsample=self.subsample,
            colsample_bytree=self.colsample_bytree,
            min_child_weight=self.min_child_weight,
            reg_lambda=self.reg_lambda,
            n_jobs=effective_n_jobs(self.n_jobs),
            random_state=self.random_state,
        ).fit(Xa, ya)
        self._set_importances(self.estimator_.feature_importances_)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Boosted prediction [units of y]."""
        Xa = self._validate_predict(X)
        return np.asarray(self.estimator_.predict(Xa), dtype=np.float64)


class SupportVectorRegressor(_Learner):
    """ε-support-vector regression with a radial kernel on standardized data.

    As R's ``e1071::svm`` does by default (``scale = TRUE``), both the covariates and the target
    are standardized before fitting (scikit-learn :class:`~sklearn.svm.SVR` alone scales
    nothing), so ``epsilon`` is in units of the target's standard deviation and
    ``gamma="scale"`` equals R's 1/p on standardized covariates. (Standardization divides by
    the population sd, R by the sample sd: a factor √(n/(n−1)).)

    Parameters
    ----------
    C : float, default 1
        Cost of a residual beyond ε (R ``cost``).
    epsilon : float, default 0.1
        Half-width of the ε-insensitive tube [standard deviations of y] (R ``epsilon``).
    gamma : {"scale", "auto"} or float, default "scale"
        RBF kernel width on standardized covariates.
    scale_target : bool, default True
        Standardize y too (R's behaviour); False fits the raw target.
    tol : float, default 1e-3
        Stopping tolerance.

    Attributes
    ----------
    estimator_ : sklearn.compose.TransformedTargetRegressor or sklearn.pipeline.Pipeline
        StandardScaler → SVR, inside a target standardizer when ``scale_target``.
    n_features_in_, feature_names_in_
        As :class:`RandomForest`.
    """

    def __init__(
        self,
        C: float = 1.0,
        *,
        epsilon: float = 0.1,
        gamma: str | float = "scale",
        scale_target: bool = True,
        tol: float = 1e-3,
    ) -> None:
        self.C = C
        self.epsilon = epsilon
        self.gamma = gamma
        self.scale_target = scale_target
        self.tol = tol

    def fit(self, X: Any, y: ArrayLike) -> SupportVectorRegressor:
        """Fit the scaled SVR; returns ``self``."""
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVR

        Xa, ya = self._validate_fit(X, y)
        model: Any = make_pipeline(
            StandardScaler(),
            SVR(kernel="rbf", C=self.C, epsilon=self.epsilon, gamma=self.gamma, tol=self.tol),
        )
        if self.scale_target:
            model = TransformedTargetRegressor(regressor=model, transformer=StandardScaler())
        self.estimator_ = model.fit(Xa, ya)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """SVR prediction [units of y]."""
        Xa = self._validate_predict(X)
        return np.asarray(self.estimator_.predict(Xa), dtype=np.float64)


def _import_cubist() -> Any:
    try:
        return importlib.import_module("cubist")
    except ImportError as exc:
        raise OptionalDependencyError(
            f"the Cubist learner needs the optional 'cubist' package, which is not installed "
            f"({exc}); install it with: {ML_EXTRA_INSTALL}",
            name="cubist",
        ) from exc


class CubistRegressor(_Learner):
    """Cubist rule-based regression (Quinlan), through the optional ``cubist`` package.

    Install with ``pip install 'wholesoil[ml-extra]'``; without it, :meth:`fit` raises
    :class:`~wholesoil.errors.OptionalDependencyError` with that command. Parameters and
    defaults are the ``cubist`` package's (``cubist.Cubist``, v1.x; R's ``Cubist`` package
    differs: ``rules = 100`` by default).

    Parameters
    ----------
    n_rules : int, default 500
        Most rules per committee.
    n_committees : int, default 1
        Committee members (boosting-like rule models).
    neighbors : int in 1…9, optional
        Instance-based correction with that many nearest training rows; None: rules only.
    unbiased : bool, default False
        Unbiased rules.
    extrapolation : float, default 0.05
        How far beyond the training range of y predictions may go (fraction).
    sample : float, optional
        Fraction of rows used to build the model (None: all).
    random_state : int, optional
        Seed of ``sample``.

    Attributes
    ----------
    estimator_ : cubist.Cubist
        The fitted model.
    n_features_in_, feature_names_in_
        As :class:`RandomForest`.
    """

    def __init__(
        self,
        n_rules: int = 500,
        *,
        n_committees: int = 1,
        neighbors: int | None = None,
        unbiased: bool = False,
        extrapolation: float = 0.05,
        sample: float | None = None,
        random_state: int | None = None,
    ) -> None:
        self.n_rules = n_rules
        self.n_committees = n_committees
        self.neighbors = neighbors
        self.unbiased = unbiased
        self.extrapolation = extrapolation
        self.sample = sample
        self.random_state = random_state

    @staticmethod
    def _frame(Xa: np.ndarray) -> pd.DataFrame:
        # cubist names array columns itself and then warns on array input at predict; give it
        # the same generic names both times (the learner matched the user's names already)
        return pd.DataFrame(Xa, columns=[f"x{j}" for j in range(Xa.shape[1])])

    def fit(self, X: Any, y: ArrayLike) -> CubistRegressor:
        """Build the rules; returns ``self``."""
        cubist = _import_cubist()
        Xa, ya = self._validate_fit(X, y)
        self.estimator_ = cubist.Cubist(
            n_rules=self.n_rules,
            n_committees=self.n_committees,
            neighbors=self.neighbors,
            unbiased=self.unbiased,
            extrapolation=self.extrapolation,
            sample=self.sample,
            random_state=self.random_state,
        ).fit(self._frame(Xa), ya)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Rule-model prediction [units of y]."""
        Xa = self._validate_predict(X)
        return np.asarray(self.estimator_.predict(self._frame(Xa)), dtype=np.float64)

    # cubist.Cubist keeps pandas DataFrames among its fitted attributes, which skops (the safe
    # model files of wholesoil.mapping._persist) cannot store. The state therefore holds the
    # fitted Cubist as plain parts (its attributes, DataFrames as columns of arrays/lists) and
    # rebuilds it on load; pickle goes through the same path.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        est = state.get("estimator_")
        if est is not None and not isinstance(est, dict):
            attributes = dict(vars(est))
            frames = {
                k: _frame_to_plain(attributes.pop(k))
                for k in list(attributes)
                if isinstance(attributes[k], pd.DataFrame)
            }
            state["estimator_"] = {"attributes": attributes, "frames": frames}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        est = state.get("estimator_")
        if isinstance(est, dict):
            cubist = _import_cubist()
            model = cubist.Cubist.__new__(cubist.Cubist)
            model.__dict__.update(est["attributes"])
            for k, v in est["frames"].items():
                setattr(model, k, _plain_to_frame(v))
            state = {**state, "estimator_": model}
        super().__setstate__(state)


def _frame_to_plain(frame: pd.DataFrame) -> dict[str, Any]:
    """A DataFrame as lists of column names, index and per-column values (arrays or lists)."""
    columns = [str(c) for c in frame.columns]
    values = [
        frame[c].to_numpy() if pd.api.types.is_numeric_dtype(frame[c]) else frame[c].tolist()
        for c in frame.columns
    ]
    return {"columns": columns, "index": frame.index.tolist(), "values": values}


def _plain_to_frame(plain: dict[str, Any]) -> pd.DataFrame:
    data = dict(zip(plain["columns"], plain["values"], strict=True))
    return pd.DataFrame(data, index=plain["index"], columns=plain["columns"])


# --------------------------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------------------------


class LogTargetRegressor(RegressorMixin, BaseEstimator):
    """Fit a learner on log(y + offset) and back-transform its predictions.

    Seed 004's ensemble models log-transformed carbon inputs (skewed, positive targets); this
    wrapper gives any learner that option. Predictions are exp(ŷ_log) − offset, the conditional
    *median* under a symmetric error on the log scale; with ``smearing=True`` they are multiplied
    by Duan's (1983) smearing factor mean(exp(residual_log)), an estimate of the conditional
    mean.

    Parameters
    ----------
    estimator : regressor
        Unfitted learner (cloned at fit).
    offset : float, default 0
        Added to y before the log [units of y]; y + offset must be > 0.
    smearing : bool, default False
        Apply Duan's smearing factor (from the training residuals) to the back-transform.

    Attributes
    ----------
    estimator_ : the fitted clone (on the log scale).
    smearing_factor_ : float (1 when ``smearing`` is False).
    n_features_in_, feature_names_in_ : as the wrapped learner.

    References
    ----------
    Duan, N. (1983). Smearing estimate: a nonparametric retransformation method. J. Am. Stat.
    Assoc. 78, 605–610. doi:10.1080/01621459.1983.10478017
    """

    def __init__(self, estimator: Any = None, *, offset: float = 0.0,
                 smearing: bool = False) -> None:
        self.estimator = estimator
        self.offset = offset
        self.smearing = smearing

    def fit(self, X: Any, y: ArrayLike, **fit_params: Any) -> LogTargetRegressor:
        """Fit the learner on log(y + offset); returns ``self``."""
        from sklearn.base import clone

        ya = np.asarray(y, dtype=float).ravel()
        shifted = ya + float(self.offset)
        if not np.all(shifted > 0):
            i = int(np.flatnonzero(~(shifted > 0))[0])
            raise InputDataError(
                f"log target needs y + offset > 0 (row {i}: y = {ya[i]!r}, offset = "
                f"{self.offset!r}); pass a larger offset", field="y", value=float(ya[i]),
            )
        base = self.estimator if self.estimator is not None else RandomForest()
        self.estimator_ = clone(base).fit(X, np.log(shifted), **fit_params)
        for attr in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, attr):
                setattr(self, attr, getattr(self.estimator_, attr))
        if self.smearing:
            resid = np.log(shifted) - np.asarray(self.estimator_.predict(X), dtype=float)
            self.smearing_factor_ = float(np.mean(np.exp(resid)))
        else:
            self.smearing_factor_ = 1.0
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Back-transformed predictions [units of y]."""
        check_is_fitted(self, "estimator_")
        z = np.asarray(self.estimator_.predict(X), dtype=float)
        return np.exp(z) * self.smearing_factor_ - float(self.offset)


@dataclass(frozen=True)
class LearnerSpec:
    """One entry of :data:`LEARNERS`.

    Attributes
    ----------
    description : str
        What the learner is, one line.
    factory : callable
        ``factory(**params)`` returns an unfitted estimator.
    extra : str or None
        pip extra that provides its optional dependency (``"ml-extra"``), if any.
    requires : tuple of str
        Modules that must import for the learner to work (``"module:attribute"`` also checks
        that the module defines the attribute).
    """

    description: str
    factory: Callable[..., BaseEstimator]
    extra: str | None = None
    requires: tuple[str, ...] = ()


def _mars_factory(**params: Any) -> BaseEstimator:
    try:
        from wholesoil.mapping._mars import MARSRegressor
    except ImportError as exc:
        raise OptionalDependencyError(
            f"learner 'mars' is unavailable: wholesoil.mapping._mars.MARSRegressor could not be "
            f"imported ({exc})", name="wholesoil.mapping._mars",
        ) from exc
    return MARSRegressor(**params)


def _ensemble_factory(**params: Any) -> BaseEstimator:
    from wholesoil.mapping._ensemble import StackedEnsemble

    return StackedEnsemble(**params)


#: Learners by name: description, factory, optional extra. Seed 004's ensemble draws its members
#: (RF, XGBoost, Cubist, SVM, MARS) from here.
LEARNERS: dict[str, LearnerSpec] = {
    "rf": LearnerSpec(
        "random forest with R randomForest defaults (mtry = p/3, ntree 500, nodesize 5)",
        RandomForest, requires=("sklearn",),
    ),
    "qrf": LearnerSpec(
        "quantile regression forest (Meinshausen 2006), R defaults; conditional quantiles",
        QuantileForest, requires=("quantile_forest",),
    ),
    "xgb": LearnerSpec(
        "gradient-boosted trees (XGBoost)", XGBoost, requires=("xgboost",),
    ),
    "svm": LearnerSpec(
        "ε-SVR, radial kernel, covariates and target standardized (as e1071::svm)",
        SupportVectorRegressor, requires=("sklearn",),
    ),
    "cubist": LearnerSpec(
        "Cubist rule-based model trees (Quinlan)", CubistRegressor, extra="ml-extra",
        requires=("cubist",),
    ),
    "mars": LearnerSpec(
        "multivariate adaptive regression splines (Friedman 1991)", _mars_factory,
        requires=("wholesoil.mapping._mars:MARSRegressor",),
    ),
    "ensemble": LearnerSpec(
        "seed 004 ensemble: best 3 of rf/xgb/cubist/svm/mars by CV RMSE, stacked by PCR",
        _ensemble_factory, requires=("wholesoil.mapping._ensemble",),
    ),
}


def make_learner(name: str, **params: Any) -> BaseEstimator:
    """An unfitted learner by registry name (``rf``, ``qrf``, ``xgb``, ``svm``, ``cubist``,
    ``mars``, ``ensemble``) with the given parameters.

    ``random_state`` is passed to learners that take one and ignored by deterministic ones
    (``svm``); ``log_target=True`` (with ``log_offset``, default 0) wraps the learner in
    :class:`LogTargetRegressor` (fit on log(y + offset), as seed 004's ensemble models its
    targets); any other unknown parameter is an error of the learner's constructor.

    Raises
    ------
    ValueError
        Unknown name (the message lists the known ones).
    OptionalDependencyError
        The learner's module cannot be imported (``mars`` before it exists); Cubist raises at
        ``fit`` when its package is absent.
    """
    key = str(name).strip().lower()
    spec = LEARNERS.get(key)
    if spec is None:
        raise ValueError(f"unknown learner {name!r}; choose one of: {', '.join(LEARNERS)}")
    log_target = params.pop("log_target", False)
    log_offset = params.pop("log_offset", 0.0)
    seeded = "random_state" in params
    seed = params.pop("random_state", None)
    estimator = spec.factory(**params)
    # a seed is meaningless to a deterministic learner (svm): accepted and ignored there, so a
    # workflow can seed whichever learner it builds
    if seeded and "random_state" in estimator.get_params(deep=False):
        estimator.set_params(random_state=seed)
    if log_target:
        return LogTargetRegressor(estimator, offset=float(log_offset))
    return estimator


def available_learners() -> pd.DataFrame:
    """Which learners can run here: DataFrame with name, available, reason, extra, description.

    Imports each learner's required modules and reports, never raises, what fails.
    """
    rows = []
    for name, spec in LEARNERS.items():
        reason = ""
        for module in spec.requires:
            module_name, _, attribute = module.partition(":")
            try:
                imported = importlib.import_module(module_name)
                if attribute and not hasattr(imported, attribute):
                    raise ImportError(f"{module_name} has no {attribute}")
            except Exception as exc:  # a broken install may raise more than ImportError
                reason = f"{module}: {type(exc).__name__}: {exc}"
                if spec.extra:
                    reason += f" (install with: pip install 'wholesoil[{spec.extra}]')"
                break
        rows.append(
            {
                "name": name,
                "available": reason == "",
                "reason": reason,
                "extra": spec.extra or "",
                "description": spec.description,
            }
        )
    return pd.DataFrame(rows, columns=["name", "available", "reason", "extra", "description"])
