"""The other members of the ensemble of Wang, G. et al.: XGBoost, SVM and Cubist.

XGBoost (gradient boosting), support vector regression (RBF kernel) and Cubist (rule-based
committees), as scikit-learn regressors with the input handling of
:mod:`wholesoil.mapping._learner_base`. Wang, G., Xiao, L., Mao, X., et al. Most root-derived
carbon inputs do not contribute to the global bulk soil carbon pool. Manuscript, Methods
("Machine learning models").
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pandas as pd
from joblib import effective_n_jobs
from numpy.typing import ArrayLike

from wholesoil.errors import OptionalDependencyError
from wholesoil.mapping._learner_base import _Learner

__all__ = [
    "ML_EXTRA_INSTALL",
    "XGBOOST_DEFAULTS",
    "CubistRegressor",
    "SupportVectorRegressor",
    "XGBoost",
]


#: XGBoost settings of :class:`XGBoost`. Wang G. et al. (manuscript) tuned XGBoost through caret and
#: does not report the values it kept, so these are wholesoil's documented choice: shrinkage 0.05
#: with 500 rounds, depth-6 trees (the xgboost default), 80 % row and column subsampling per tree,
#: squared error.
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


class XGBoost(_Learner):
    """Gradient-boosted trees, :class:`xgboost.XGBRegressor` with wholesoil's input handling.

    Defaults are :data:`XGBOOST_DEFAULTS` (Wang G. et al. (manuscript) tuned its XGBoost with caret
    and does not report the values). Squared-error objective, histogram tree method.

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
