"""Interpretation of fitted learners: permutation importance, partial dependence and ICE curves.

Wang H. et al. (2025) (Wang et al., Fig. 2) reads the drivers of β from a random forest by how much
each covariate matters and how the prediction responds to it; these are the tables that do so for
any scikit-learn-compatible regressor, built on :mod:`sklearn.inspection` (their figures are in
:mod:`wholesoil.plots.mapping`).

Permutation importance (Breiman 2001, Random Forests, Mach. Learn. 45:5–32,
doi:10.1023/A:1010933404324) is the increase of the mean squared error when one feature's values
are shuffled. Partial dependence (Friedman 2001, Ann. Stat. 29:1189–1232,
doi:10.1214/aos/1013203451) is the mean prediction with one feature set to each grid value for
every row; individual conditional expectation (ICE) curves (Goldstein et al. 2015, J. Comput.
Graph. Stat. 24:44–65, doi:10.1080/10618600.2014.907095) are the per-row predictions whose mean
is the partial dependence.

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.inspection import partial_dependence, permutation_importance
from sklearn.utils.validation import check_is_fitted

from wholesoil.errors import InputDataError
from wholesoil.mapping._check import feature_matrix, target_vector
from wholesoil.mapping._cv import ProfileKFold, _fit_accepts_groups, _model_input, _resolve_groups

_SCORING = "neg_mean_squared_error"  # importance = MSE(permuted) − MSE(baseline)


def _is_fitted(estimator: Any) -> bool:
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


def permutation_importance_table(
    estimator: Any,
    table: pd.DataFrame,
    target: str,
    features: Sequence[str],
    *,
    n_repeats: int = 10,
    random_state: int = 0,
    groups: str | ArrayLike | None = None,
    n_splits: int = 5,
    source: str | None = None,
) -> pd.DataFrame:
    """Increase of the mean squared error when each feature is permuted, largest first.

    A **fitted** estimator is scored on ``table`` as given: pass data it was not trained on, or
    the importances reward what the model memorised. An **unfitted** estimator is scored on
    held-out profiles, the way randomForest scores on out-of-bag rows: ``n_splits``-fold
    :class:`~wholesoil.mapping.ProfileKFold` over ``groups`` (each row its own group when none),
    a clone fitted per fold and permuted on that fold's test rows; the increases of the folds
    are pooled (weighted by their test rows) into the increase of the out-of-fold MSE.

    Parameters
    ----------
    estimator : scikit-learn-compatible regressor
        Fitted (scored on ``table``) or unfitted (scored out of fold).
    table : pandas.DataFrame
        Rows to permute on.
    target : str
        Column with the observed values [unit of the target].
    features : sequence of str
        Feature columns, in the order the model was (or will be) fitted on.
    n_repeats : int, default 10
        Permutations per feature.
    random_state : int, default 0
        Seed of the permutations and of the fold assignment.
    groups : str or array (n,), optional
        Profile ids (or their column) for the out-of-fold mode; refused with a fitted estimator,
        where they would do nothing.
    n_splits : int, default 5
        Folds of the out-of-fold mode.
    source : str, optional
        File name for error messages.

    Returns
    -------
    pandas.DataFrame
        One row per feature, sorted by ``importance_mean`` descending: ``feature``,
        ``importance_mean`` and ``importance_sd`` (mean and standard deviation, ddof = 0 as
        scikit-learn's ``importances_std``, over the repeats of MSE(permuted) − MSE(baseline)
        [target unit²]), ``pct_inc_mse`` = 100 · importance_mean / baseline_mse [%], and
        ``baseline_mse`` [target unit²].

    Notes
    -----
    ``pct_inc_mse`` is the increase relative to the baseline error. R's
    ``randomForest::importance(type = 1)`` labels its column ``%IncMSE`` but, with its default
    ``scale = TRUE``, divides the mean increase by its standard deviation over trees; the two
    rank features alike but their values differ.
    """
    features = list(features)
    X = feature_matrix(table, features, source=source)
    y = target_vector(table, target, source=source)
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, int | np.integer) or n_repeats < 1:
        raise InputDataError(
            "n_repeats must be an integer ≥ 1", field="n_repeats", value=n_repeats, has_value=True
        )
    if _is_fitted(estimator):
        if groups is not None:
            raise InputDataError(
                "groups only apply when the estimator is unfitted (scored on held-out "
                "profiles); a fitted estimator is scored on the table as given",
                field="groups",
            )
        Xin = _model_input(estimator, X, features, table.index)
        result = permutation_importance(
            estimator, Xin, y, scoring=_SCORING, n_repeats=n_repeats, random_state=random_state
        )
        increase = result.importances
        baseline = float(np.mean((np.asarray(estimator.predict(Xin), float).ravel() - y) ** 2))
    else:
        group_values = _resolve_groups(table, groups, source)
        split_groups = group_values if group_values is not None else np.arange(y.size)
        X_frame = pd.DataFrame(X, columns=features, index=table.index)
        pass_groups = _fit_accepts_groups(estimator)
        increase = np.zeros((len(features), n_repeats))
        squared_error = 0.0
        splitter = ProfileKFold(n_splits, shuffle=True, random_state=random_state)
        for f, (train, test) in enumerate(splitter.split(X_frame, y, split_groups)):
            kwargs = {"groups": split_groups[train]} if pass_groups else {}
            model = clone(estimator).fit(X_frame.iloc[train], y[train], **kwargs)
            result = permutation_importance(
                model, X_frame.iloc[test], y[test], scoring=_SCORING, n_repeats=n_repeats,
                random_state=random_state + f,
            )
            increase += test.size * result.importances
            residual = np.asarray(model.predict(X_frame.iloc[test]), float).ravel() - y[test]
            squared_error += float(np.sum(residual**2))
        increase /= y.size
        baseline = squared_error / y.size
    mean = increase.mean(axis=1)
    out = pd.DataFrame(
        {
            "feature": features,
            "importance_mean": mean,
            "importance_sd": increase.std(axis=1),
            "pct_inc_mse": 100.0 * mean / baseline if baseline > 0 else np.full(mean.size, np.nan),
            "baseline_mse": baseline,
        }
    )
    return out.sort_values("importance_mean", ascending=False, kind="stable").reset_index(
        drop=True
    )


def partial_dependence_table(
    estimator: Any,
    table: pd.DataFrame,
    features: Sequence[str],
    *,
    drivers: Sequence[str] | None = None,
    grid_resolution: int = 30,
    percentiles: tuple[float, float] = (0.05, 0.95),
    ice: bool = True,
    sample: int = 200,
    random_state: int = 0,
    source: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Partial dependence of a fitted model on each driver, with ICE curves (Wang H. et al. (2025)
    Fig. 2).

    For each grid value v of a driver, every row of ``table`` is predicted with the driver set to
    v; the partial dependence is the mean of these predictions over all rows, an ICE curve the
    predictions of one row (scikit-learn's ``partial_dependence`` with ``method="brute"``, so the
    ICE curves average exactly to the partial dependence, trees included).

    Parameters
    ----------
    estimator : fitted scikit-learn-compatible regressor
    table : pandas.DataFrame
        Rows to average over (the training data, as usual).
    features : sequence of str
        All feature columns of the model, in the order it was fitted on.
    drivers : sequence of str, optional
        Features to vary (default: all ``features``).
    grid_resolution : int, default 30
        Grid values per driver, equally spaced between the ``percentiles``; a driver with fewer
        distinct values uses those values.
    percentiles : (float, float), default (0.05, 0.95)
        Quantiles of the driver that bound the grid (fractions), as scikit-learn takes them:
        ``scipy.stats.mstats.mquantiles`` with plotting positions alphap = betap = 0.4, which
        differ slightly from ``numpy.quantile``'s default.
    ice : bool, default True
        Also return ICE curves.
    sample : int, default 200
        ICE curves returned: a random sample of this many rows (all rows when fewer). The
        partial dependence always averages over all rows.
    random_state : int, default 0
        Seed of the ICE sample.
    source : str, optional
        File name for error messages.

    Returns
    -------
    pd_table : pandas.DataFrame
        Long table ``feature``, ``value`` [driver unit], ``average`` [target unit].
    ice_table : pandas.DataFrame or None
        Long table ``feature``, ``value``, ``curve`` (0-based row position in ``table``),
        ``prediction``; None when ``ice`` is False.
    """
    if not _is_fitted(estimator):
        raise InputDataError(
            f"partial dependence needs a fitted model; {type(estimator).__name__} is not fitted"
        )
    features = list(features)
    X = feature_matrix(table, features, source=source)
    Xin = _model_input(estimator, X, features, table.index)
    drivers = features if drivers is None else list(drivers)
    unknown = [d for d in drivers if d not in features]
    if unknown:
        raise InputDataError(
            f"driver(s) {unknown} are not among the model's features {features}", field="drivers"
        )
    n = X.shape[0]
    curves = np.arange(n)
    if ice and n > sample:
        curves = np.sort(np.random.default_rng(random_state).choice(n, size=sample, replace=False))
    pd_parts, ice_parts = [], []
    for name in drivers:
        j = features.index(name)
        if np.ptp(X[:, j]) == 0.0:
            raise InputDataError(
                f"driver is constant ({X[0, j]:g}): it has no partial dependence",
                file=source, field=name,
            )
        res = partial_dependence(
            estimator, Xin, [j], kind="both" if ice else "average", method="brute",
            grid_resolution=grid_resolution, percentiles=percentiles,
        )
        grid = np.asarray(res["grid_values"][0], dtype=float)
        pd_parts.append(
            pd.DataFrame({"feature": name, "value": grid, "average": res["average"][0]})
        )
        if ice:
            pred = np.asarray(res["individual"][0], dtype=float)[curves]  # (curves, grid)
            ice_parts.append(
                pd.DataFrame(
                    {
                        "feature": name,
                        "value": np.tile(grid, curves.size),
                        "curve": np.repeat(curves, grid.size),
                        "prediction": pred.ravel(),
                    }
                )
            )
    pd_table = pd.concat(pd_parts, ignore_index=True)
    ice_table = pd.concat(ice_parts, ignore_index=True) if ice else None
    return pd_table, ice_table


