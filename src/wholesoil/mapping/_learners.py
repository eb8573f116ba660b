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

Where the code is: input handling in :mod:`wholesoil.mapping._learner_base`, the forests in
:mod:`wholesoil.mapping._forests`, their tuning in :mod:`wholesoil.mapping._tuning`, XGBoost, SVM
and Cubist in :mod:`wholesoil.mapping._members`; the registry (:data:`LEARNERS`,
:func:`make_learner`) here. Every name stays importable from this module.

Random forests follow R's ``randomForest`` (Liaw & Wiener 2002), the engine of Wang et al.
(Wang H. et al. (2025) §2.5) and of Wang G. et al. (manuscript, Methods, "Machine learning models"):
``mtry = max(floor(p/3), 1)`` for regression, where scikit-learn's default (all p features) is a
different model (bagged trees). :func:`tune_forest` tunes ``mtry`` and ``ntree`` by bootstrap as
Wang H. et al. (2025) did with e1071's ``tune()``.

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

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from wholesoil.errors import InputDataError, OptionalDependencyError
from wholesoil.mapping._forests import (
    R_RANDOMFOREST_REGRESSION,
    QuantileForest,
    RandomForest,
    _tree_predictions,  # noqa: F401  (imported from here by callers)
    default_mtry,
)
from wholesoil.mapping._learner_base import (
    _Learner,  # noqa: F401  (imported from here by the ensemble)
    validate_fit_data,
    validate_predict_data,
)
from wholesoil.mapping._members import (
    ML_EXTRA_INSTALL,
    XGBOOST_DEFAULTS,
    CubistRegressor,
    SupportVectorRegressor,
    XGBoost,
)
from wholesoil.mapping._tuning import (
    E1071_TUNE_BOOTSTRAP,
    ForestTuning,
    TuneMethod,
    _group_codes,  # noqa: F401  (imported from here by the ensemble)
    _prefix_mse,  # noqa: F401  (imported from here by tests)
    bootstrap_resamples,
    tune_forest,
)

# --------------------------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------------------------


class LogTargetRegressor(RegressorMixin, BaseEstimator):
    """Fit a learner on log(y + offset) and back-transform its predictions.

    Wang G. et al.'s (manuscript) ensemble models log-transformed carbon inputs (skewed, positive
    targets); this wrapper gives any learner that option. Predictions are exp(ŷ_log) − offset, the
    conditional *median* under a symmetric error on the log scale; with ``smearing=True`` they are
    multiplied by Duan's (1983) smearing factor mean(exp(residual_log)), an estimate of the
    conditional mean.

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


#: Learners by name: description, factory, optional extra. Wang G. et al.'s (manuscript) ensemble
#: draws its members (RF, XGBoost, Cubist, SVM, MARS) from here.
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
        "Wang G. et al. (manuscript) ensemble: best 3 of rf/xgb/cubist/svm/mars by CV RMSE, "
        "stacked by PCR",
        _ensemble_factory, requires=("wholesoil.mapping._ensemble",),
    ),
}


def make_learner(name: str, **params: Any) -> BaseEstimator:
    """An unfitted learner by registry name (``rf``, ``qrf``, ``xgb``, ``svm``, ``cubist``,
    ``mars``, ``ensemble``) with the given parameters.

    ``random_state`` is passed to learners that take one and ignored by deterministic ones
    (``svm``); ``log_target=True`` (with ``log_offset``, default 0) wraps the learner in
    :class:`LogTargetRegressor` (fit on log(y + offset), as Wang G. et al.'s (manuscript) ensemble
    models its targets); any other unknown parameter is an error of the learner's constructor.

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


__all__ = [
    "E1071_TUNE_BOOTSTRAP",
    "LEARNERS",
    "ML_EXTRA_INSTALL",
    "R_RANDOMFOREST_REGRESSION",
    "XGBOOST_DEFAULTS",
    "CubistRegressor",
    "ForestTuning",
    "LearnerSpec",
    "LogTargetRegressor",
    "QuantileForest",
    "RandomForest",
    "SupportVectorRegressor",
    "TuneMethod",
    "XGBoost",
    "available_learners",
    "bootstrap_resamples",
    "default_mtry",
    "make_learner",
    "tune_forest",
    "validate_fit_data",
    "validate_predict_data",
]
