"""Every mapping learner passes scikit-learn's estimator checks (scikit-learn 1.9).

Small settings keep the run short; the ensemble, with cross-validation inside every fit, is
marked slow. MARS is checked by its own tests.
"""

from __future__ import annotations

from functools import partial

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from wholesoil.mapping._ensemble import StackedEnsemble
from wholesoil.mapping._learners import (
    CubistRegressor,
    QuantileForest,
    RandomForest,
    SupportVectorRegressor,
    XGBoost,
)

#: No check is expected to fail. (scikit-learn's check_dataframe_column_names_consistency, which
#: requires the fit order of DataFrame columns, is not among the public checks of 1.9; the
#: learners deliberately match columns by name instead, tested in test_learners.py.)
EXPECTED_FAILED: dict[str, str] = {}

FAST = [
    RandomForest(n_estimators=10, random_state=0),
    QuantileForest(n_estimators=10, random_state=0),
    XGBoost(n_estimators=20, random_state=0),
    SupportVectorRegressor(),
    CubistRegressor(n_rules=20, random_state=0),
]


def _keywords(check) -> dict:
    """Keyword arguments bound into a (nested) partial check."""
    out: dict = {}
    while isinstance(check, partial):
        out.update(check.keywords)
        check = check.func
    return out


def _is_readonly_pickle(check) -> bool:
    return "check_estimators_pickle" in repr(check) and _keywords(check).get("readonly_memmap")


# 10 trees leave a few rows in every bootstrap sample; the learner warns about them, rightly
@pytest.mark.filterwarnings("ignore:.*no out-of-bag prediction:UserWarning")
@parametrize_with_checks(FAST, expected_failed_checks=lambda est: EXPECTED_FAILED)
def test_learner_passes_sklearn_checks(estimator, check):
    if isinstance(estimator, QuantileForest) and _is_readonly_pickle(check):
        # quantile-forest 1.4.2's Cython QuantileForest cannot be unpickled from read-only
        # memory (a joblib memmap): its __setstate__ needs writable buffers. Pinned so that
        # the day quantile-forest fixes it this fails and the pin goes (plain pickle passes).
        with pytest.raises(ValueError, match="buffer source array is read-only"):
            check(estimator)
        return
    check(estimator)


ENSEMBLE = [
    StackedEnsemble(
        members=(RandomForest(n_estimators=10, random_state=0), SupportVectorRegressor(), "xgb"),
        n_keep=2,
        cv=3,
        member_params={"xgb": {"n_estimators": 10}},
        random_state=0,
    )
]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*no out-of-bag prediction:UserWarning")
@parametrize_with_checks(ENSEMBLE, expected_failed_checks=lambda est: EXPECTED_FAILED)
def test_ensemble_passes_sklearn_checks(estimator, check):
    check(estimator)
