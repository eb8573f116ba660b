"""Wang G. et al.'s (manuscript) ensemble: the best learners by cross-validated RMSE, stacked by PC
regression.

Wang G. et al. (manuscript, Methods, "Machine learning models") trained RF, XGBoost, Cubist, SVM and
MARS, then "generated an ensemble model using a regression method of principal component
analysis (PCA) with R packages 'pls' and 'caret' based on the prediction outputs from the top
three models with the lowest RMSE", so that "the better an individual model's performance is …
the more the model's output contributes". :class:`StackedEnsemble` does this with out-of-fold
predictions, so that the stack is fitted on predictions for rows each member did not see:

1. K-fold cross-validation (grouped by profile when ``groups`` is given: all layers of a
   profile fall in one fold) gives every member's out-of-fold (OOF) prediction of every row.
2. Members are ranked by OOF RMSE (Wang H. et al. (2025) Eq. 5); the best ``n_keep`` are kept.
3. A principal-component regression (PCR) of y on the kept members' OOF predictions: centre
   (and by default scale) the predictions, rotate them to principal components, regress y on the
   first m components. m is chosen by cross-validation over the same folds, as caret tunes
   ``pls::pcr``'s ``ncomp`` by resampling and keeps the lowest RMSE.
4. The kept members are refitted on all data; a prediction is ``intercept_ + Σ_j weights_[j] ·
   ŷ_j(x)``, the PCR written back in terms of the members' own predictions.

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

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import GroupKFold, KFold
from sklearn.utils.validation import check_is_fitted

from wholesoil.mapping._learners import _group_codes, _Learner, make_learner
from wholesoil.mapping._metrics import r2_score, rmse

#: Members of Wang G. et al.'s (manuscript) ensemble, in the order the paper lists them.
SEED004_MEMBERS: tuple[str, ...] = ("rf", "xgb", "cubist", "svm", "mars")


def pcr_path(
    Z: np.ndarray, y: np.ndarray, *, scale: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Principal-component regression of ``y`` on the columns of ``Z``, for every rank.

    Columns are centred (and divided by their standard deviation when ``scale``); with
    S = U diag(s) Vᵀ their SVD, the scores are T = U diag(s) and the OLS coefficient of the c-th
    (orthogonal) score is γ_c = t_cᵀ(y − ȳ)/s_c². With m components the fitted model is
    ŷ = ȳ + (z − μ)/σ · V_m γ_m, i.e. raw-scale weights w_m = V_m γ_m / σ and intercept
    ȳ − μ·w_m (Hastie, Tibshirani & Friedman 2009, *Elements of Statistical Learning*, §3.5.1,
    Eq. 3.61; pls::pcr computes the same fit).

    Parameters
    ----------
    Z : array (n_samples, k)
        Predictors (here: member predictions) [units of y].
    y : array (n_samples,)
        Target [units of y].
    scale : bool, default True
        Standardize the columns before the rotation (pls::pcr's ``scale = TRUE``; its default
        is FALSE). With all k components the fit is OLS either way.

    Returns
    -------
    weights : array (k, k)
        Column m − 1 holds the weights of the model with m components.
    intercepts : array (k,)
        Intercept of each model [units of y].
    """
    Z = np.asarray(Z, dtype=float)
    y = np.asarray(y, dtype=float)
    mu = Z.mean(axis=0)
    sd = Z.std(axis=0) if scale else np.ones(Z.shape[1])
    sd = np.where(sd > 0, sd, 1.0)
    S = (Z - mu) / sd
    U, s, Vt = np.linalg.svd(S, full_matrices=False)
    keep = s > s.max(initial=0.0) * max(S.shape) * np.finfo(float).eps
    ybar = y.mean()
    gamma = np.zeros_like(s)
    gamma[keep] = (U[:, keep].T @ (y - ybar)) / s[keep]  # t_cᵀ(y−ȳ)/s_c² with t_c = s_c u_c
    weights = np.cumsum(Vt.T * gamma, axis=1) / sd[:, None]
    # fewer rotated components than columns (n ≤ k): pad so that column m−1 always exists
    if weights.shape[1] < Z.shape[1]:
        pad = np.repeat(weights[:, -1:], Z.shape[1] - weights.shape[1], axis=1)
        weights = np.hstack([weights, pad])
    intercepts = ybar - mu @ weights
    return weights, intercepts


class StackedEnsemble(_Learner):
    """Wang G. et al.'s (manuscript) ensemble: keep the best ``n_keep`` members by CV RMSE, stack
    them with PCR.

    Parameters
    ----------
    members : sequence, default ("rf", "xgb", "cubist", "svm", "mars")
        Registry names (:data:`~wholesoil.mapping._learners.LEARNERS`), estimator instances, or
        ``(name, estimator)`` pairs. A member whose optional dependency is absent (Cubist
        without ``wholesoil[ml-extra]``, MARS before its module exists) is skipped with a
        warning and its reason in ``skipped_``; any other error propagates.
    n_keep : int, default 3
        Members kept for the stack (Wang G. et al. (manuscript): the top three by RMSE).
    cv : int or CV splitter, default 5
        Folds. An int gives :class:`~sklearn.model_selection.GroupKFold` (shuffled) when
        ``groups`` is passed to :meth:`fit`, else a shuffled
        :class:`~sklearn.model_selection.KFold`. A splitter must give each row to exactly one
        test fold.
    n_components : int, optional
        PCR components; None chooses by CV RMSE over 1…k kept members (fewest on ties).
    scale : bool, default True
        Standardize the OOF predictions before PCA (see :func:`pcr_path`; R's pls::pcr default
        is False, which gives the same model whenever all components are used).
    member_params : mapping, optional
        Parameters per registry name, e.g. ``{"rf": {"n_estimators": 1000}}``.
    random_state : int, optional
        Seed of the fold shuffle, and ``random_state`` of members built from names.

    Notes
    -----
    Cubist is the PyPI package ``cubist`` (Quinlan's C code; version 1.2.2 installs from a
    wheel on the Linux x86-64 machines wholesoil is tested on) and is a member by default. To
    model log-transformed targets as Wang G. et al. (manuscript) does, use
    ``make_learner("ensemble", log_target=True)`` (:class:`~wholesoil.mapping.LogTargetRegressor`);
    its stratified 80/20 split is :func:`~wholesoil.mapping.stratified_split`.

    Attributes
    ----------
    member_scores_ : DataFrame
        member, rmse [units of y] (Eq. 5), r2 (Eq. 4) of the OOF predictions, kept; best first.
    member_names_ : list of str
        Members that produced OOF predictions, best first.
    oof_predictions_ : ndarray (n_samples, n_members)
        Their OOF predictions, columns in ``member_names_`` order [units of y].
    fold_ids_ : ndarray of int (n_samples,)
        Test fold of each row.
    kept_ : list of str
        Members in the stack.
    estimators_ : list of estimators
        Kept members refitted on all data, in ``kept_`` order.
    n_components_ : int
        PCR components used.
    component_rmse_ : ndarray (k,)
        CV RMSE of the stack with 1…k components.
    cv_rmse_, cv_r2_ : float
        CV RMSE and R² of the stack at ``n_components_`` (same folds as the members; the choice
        of ``n_components_`` on them makes these slightly optimistic).
    weights_ : ndarray (k,)
        Effective weight of each kept member's prediction, ``kept_`` order.
    intercept_ : float
        Intercept [units of y]; prediction = ``intercept_ + Σ weights_[j] · ŷ_j``.
    skipped_ : dict
        Member name → why it was skipped.
    n_features_in_, feature_names_in_
        As :class:`~wholesoil.mapping._learners.RandomForest`.
    """

    def __init__(
        self,
        members: Sequence[Any] = SEED004_MEMBERS,
        *,
        n_keep: int = 3,
        cv: int | Any = 5,
        n_components: int | None = None,
        scale: bool = True,
        member_params: Mapping[str, Mapping[str, Any]] | None = None,
        random_state: int | None = None,
    ) -> None:
        self.members = members
        self.n_keep = n_keep
        self.cv = cv
        self.n_components = n_components
        self.scale = scale
        self.member_params = member_params
        self.random_state = random_state

    # -- members -------------------------------------------------------------------------------

    def _candidates(self) -> tuple[list[tuple[str, BaseEstimator]], dict[str, str]]:
        out: list[tuple[str, BaseEstimator]] = []
        skipped: dict[str, str] = {}
        params = dict(self.member_params or {})
        named = {m.strip().lower() for m in self.members if isinstance(m, str)}
        unknown = sorted(set(params) - named)
        if unknown:
            raise ValueError(
                f"member_params given for {unknown}, which are not members named here "
                f"({sorted(named)}); parameters of estimator instances are set on them"
            )
        seen: set[str] = set()
        for member in self.members:
            if isinstance(member, str):
                name = member.strip().lower()
                given = dict(params.get(name, {}))
                try:
                    est = make_learner(name, **given)
                except ImportError as exc:
                    skipped[name] = str(exc)
                    continue
                if "random_state" in est.get_params() and "random_state" not in given:
                    est.set_params(random_state=self.random_state)
            elif isinstance(member, tuple) and len(member) == 2:
                name, est = str(member[0]), clone(member[1])
            elif hasattr(member, "fit") and hasattr(member, "predict"):
                name, est = type(member).__name__.lower(), clone(member)
            else:
                raise ValueError(
                    "members must be registry names, estimators or (name, estimator) pairs; "
                    f"got {member!r}"
                )
            base, i = name, 2
            while name in seen:
                name, i = f"{base}_{i}", i + 1
            seen.add(name)
            out.append((name, est))
        return out, skipped

    def _folds(
        self, Xa: np.ndarray, ya: np.ndarray, groups: np.ndarray | None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        if hasattr(self.cv, "split"):
            splitter = self.cv
        else:
            k = int(self.cv)
            if k < 2:
                raise ValueError(f"cv must be ≥ 2 folds, got {self.cv!r}")
            splitter = (
                GroupKFold(n_splits=k, shuffle=True, random_state=self.random_state)
                if groups is not None
                else KFold(n_splits=k, shuffle=True, random_state=self.random_state)
            )
        folds = [(np.asarray(tr), np.asarray(te)) for tr, te in splitter.split(Xa, ya, groups)]
        cover = np.zeros(Xa.shape[0], dtype=np.int64)
        for _, test in folds:
            cover[test] += 1
        if not np.all(cover == 1):
            raise ValueError(
                "cv must put every row in exactly one test fold (got rows tested "
                f"{int(cover.min())}…{int(cover.max())} times)"
            )
        return folds

    # -- fit / predict -------------------------------------------------------------------------

    def fit(self, X: Any, y: ArrayLike, groups: ArrayLike | None = None) -> StackedEnsemble:
        """Cross-validate the members, keep the best, fit the PCR stack, refit the kept.

        Parameters
        ----------
        X : DataFrame or array (n_samples, n_features)
            Covariates [their units].
        y : array (n_samples,)
            Target [its units].
        groups : array (n_samples,), optional
            Profile (or site) id of each row; folds never split a group.
        """
        if int(self.n_keep) < 1:
            raise ValueError(f"n_keep must be ≥ 1, got {self.n_keep!r}")
        Xa, ya = self._validate_fit(X, y)
        codes = None if groups is None else _group_codes(groups, Xa.shape[0])
        folds = self._folds(Xa, ya, codes)
        fold_ids = np.empty(Xa.shape[0], dtype=np.int64)
        for f, (_, test) in enumerate(folds):
            fold_ids[test] = f

        candidates, skipped = self._candidates()
        names: list[str] = []
        columns: list[np.ndarray] = []
        templates: dict[str, BaseEstimator] = {}
        for name, est in candidates:
            oof = np.empty(Xa.shape[0])
            try:
                for train, test in folds:
                    oof[test] = clone(est).fit(Xa[train], ya[train]).predict(Xa[test])
            except ImportError as exc:  # OptionalDependencyError: an extra is not installed
                skipped[name] = str(exc)
                continue
            names.append(name)
            columns.append(oof)
            templates[name] = est
        for name, reason in skipped.items():
            warnings.warn(
                f"ensemble member {name!r} skipped: {reason}", UserWarning, stacklevel=2
            )
        if not names:
            raise ValueError(f"no ensemble member could be fitted; skipped: {skipped}")

        oof_all = np.column_stack(columns)
        scores = np.array([rmse(ya, c) for c in columns])
        order = np.argsort(scores, kind="stable")
        self.member_names_ = [names[i] for i in order]
        self.oof_predictions_ = oof_all[:, order]
        self.member_rmse_ = scores[order]
        self.member_r2_ = np.array([r2_score(ya, oof_all[:, i]) for i in order])
        self.fold_ids_ = fold_ids
        self.skipped_ = skipped
        k = min(int(self.n_keep), len(names))
        self.kept_ = self.member_names_[:k]
        Z = self.oof_predictions_[:, :k]

        # CV over the same folds for the number of components (caret: lowest RMSE)
        stacked = np.empty((Xa.shape[0], k))
        for train, test in folds:
            W, b = pcr_path(Z[train], ya[train], scale=self.scale)
            stacked[test] = Z[test] @ W + b
        self.component_rmse_ = np.sqrt(np.mean((stacked - ya[:, None]) ** 2, axis=0))
        if self.n_components is None:
            m = int(np.argmin(self.component_rmse_)) + 1
        else:
            if int(self.n_components) < 1:
                raise ValueError(f"n_components must be ≥ 1, got {self.n_components!r}")
            m = min(int(self.n_components), k)
        self.n_components_ = m
        self.cv_rmse_ = float(self.component_rmse_[m - 1])
        self.cv_r2_ = r2_score(ya, stacked[:, m - 1])
        W, b = pcr_path(Z, ya, scale=self.scale)
        self.weights_ = W[:, m - 1].copy()
        self.intercept_ = float(b[m - 1])
        self.estimators_ = [clone(templates[name]).fit(Xa, ya) for name in self.kept_]
        return self

    @property
    def member_scores_(self) -> pd.DataFrame:
        """member, rmse (Eq. 5), r2 (Eq. 4) of the OOF predictions, kept; best first."""
        check_is_fitted(self)
        kept = set(self.kept_)
        return pd.DataFrame(
            {
                "member": self.member_names_,
                "rmse": self.member_rmse_,
                "r2": self.member_r2_,
                "kept": [n in kept for n in self.member_names_],
            }
        )

    def predict_members(self, X: Any) -> np.ndarray:
        """Predictions of the kept members, array (n_samples, k) in ``kept_`` order."""
        Xa = self._validate_predict(X)
        return np.column_stack([est.predict(Xa) for est in self.estimators_])

    def predict(self, X: Any) -> np.ndarray:
        """Stacked prediction ``intercept_ + Σ weights_[j] · ŷ_j(x)`` [units of y]."""
        Z = self.predict_members(X)
        return self.intercept_ + Z @ self.weights_
