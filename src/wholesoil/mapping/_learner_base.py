"""Input handling shared by every learner of :mod:`wholesoil.mapping` (and the ensemble).

``X`` as a DataFrame or array [units of each covariate], ``y`` [units of the target]; columns
checked and reordered by name at predict time, NaN or infinite values raise naming row and
field. The rules are stated in :mod:`wholesoil.mapping._learners`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_array, check_consistent_length, check_is_fitted

from wholesoil.errors import InputDataError
from wholesoil.mapping._check import check_target_variance, feature_matrix

__all__ = [
    "validate_fit_data",
    "validate_predict_data",
]


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
