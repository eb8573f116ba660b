"""R-style random forests and quantile regression forests (Liaw & Wiener 2002; Meinshausen 2006).

``mtry = max(floor(p/3), 1)`` and the other defaults of R's ``randomForest``
(:data:`R_RANDOMFOREST_REGRESSION`), the engine of Wang, H. et al. (2025, submitted to
*Earth System Science Data*, §2.5) and Wang, G. et al. (*Most root-derived carbon inputs do not
contribute to the global bulk soil carbon pool*, Methods); out-of-bag predictions and skill
(Eqs. 4–5 of Wang, H. et al. 2025); quantile regression forests
(Meinshausen, N. (2006) *J. Mach. Learn. Res.* 7, 983–999, Eqs. 4–6).

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023

Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

from __future__ import annotations

import numbers
import threading
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from numpy.typing import ArrayLike

from wholesoil.mapping._learner_base import _Learner
from wholesoil.mapping._metrics import r2_score

__all__ = [
    "R_RANDOMFOREST_REGRESSION",
    "QuantileForest",
    "RandomForest",
    "default_mtry",
]


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
        τ intervals scale (Wang G. et al. (manuscript) Eqs. 9–10).
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
    out-of-bag (OOB) error that R prints as "Mean of squared residuals". Wang H. et al. (2025)
    (§2.5) predicts β with it; Wang G. et al. (manuscript) maps carbon inputs with it.

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
        √oob_mse_ [units of y] (Wang H. et al. (2025) Eq. 5 on the OOB predictions).
    oob_r2_ : float
        Wang H. et al. (2025) Eq. 4 on the OOB predictions. When every row has an OOB prediction
        this equals R's "% Var explained" / 100 (1 − MSE / population variance of y).
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
