"""Mapping: learners, honest validation, interpretation and prediction intervals.

Random forests and ensembles that predict β (seed 000), layer SOC stocks (seed 001) and carbon
inputs (seed 004) from covariates, as scikit-learn-compatible estimators.
"""

from wholesoil.mapping._check import (
    check_target_variance,
    feature_matrix,
    require_columns,
    target_vector,
)
from wholesoil.mapping._metrics import bias, r2_score, rmse, skill

__all__ = [
    "bias",
    "check_target_variance",
    "feature_matrix",
    "r2_score",
    "require_columns",
    "rmse",
    "skill",
    "target_vector",
]
