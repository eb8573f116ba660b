"""Principal components per group of covariates, keeping those with eigenvalue > 1
(Wang G. et al. (manuscript)).

Wang G. et al. (manuscript) (Methods, "Drivers of I_root and I_bulk") removes correlations within
its 20 edaphic, 19 climatic and 13 topographic covariates by a principal component analysis of each
group separately (R ``prcomp`` on standardized variables) and keeps "the most important PCs with
variances greater than 1" for its mixed-effects regression — the Kaiser (1960) rule, since the
variance of a component of standardized variables is an eigenvalue of their correlation matrix.

:class:`GroupedPCA` does that as a scikit-learn transformer. Per group: centre and scale each
column by its mean and sample standard deviation (n − 1, as R's ``scale``), take the singular
value decomposition, keep the components whose eigenvalue (``prcomp``'s ``sdev^2``) exceeds
``min_eigenvalue`` — at least one per group — and output their scores as ``<group>_PC1``,
``<group>_PC2``, … Eigenvalues, rotation and scores equal ``prcomp(x, scale. = TRUE)``'s up to the
sign of each component, which is fixed here so that the largest-magnitude loading of every
component is positive (R leaves the sign to LAPACK).

References
----------
Kaiser, H. F. (1960). The application of electronic computers to factor analysis. Educational
and Psychological Measurement 20, 141–151. https://doi.org/10.1177/001316446002000116

Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from wholesoil.errors import InputDataError, MissingColumnError

#: What happens to columns in no group.
Remainder = Literal["passthrough", "drop"]

#: Wang G. et al. (manuscript): "The most important PCs with variances greater than 1 were
#: retained".
KAISER_MIN_EIGENVALUE = 1.0


class GroupedPCA(TransformerMixin, BaseEstimator):
    """PCA of standardized covariates within each group, Kaiser rule (Wang G. et al. (manuscript)).

    Parameters
    ----------
    groups : dict of str to list of str or int
        Group name → its columns, e.g. ``{"edaphic": ["clay", "ph", …], "climatic": [...],
        "topographic": [...]}``. Columns are names of the fitted table's columns, or 0-based
        positions (positions also work with arrays that have no column names). A column may
        belong to one group only.
    min_eigenvalue : float, default 1.0
        Keep components whose eigenvalue (variance of the component of standardized variables,
        ``prcomp``'s ``sdev^2``) is strictly greater [-]; at least one per group is kept.
    remainder : {"passthrough", "drop"}, default "passthrough"
        Columns in no group are appended unchanged after the components, in their input order,
        or dropped.

    Attributes
    ----------
    groups_ : dict of str to list of str
        The groups with column names (``x0``, ``x1``… for arrays without names).
    n_components_ : dict of str to int
        Components kept per group.
    eigenvalues_ : dict of str to numpy.ndarray
        All eigenvalues of each group's correlation matrix, decreasing (``prcomp``'s
        ``sdev^2``; min(n_samples, group size) of them).
    explained_variance_ratio_ : dict of str to numpy.ndarray
        Share of the group's total standardized variance (its number of columns) explained by
        each kept component.
    loadings_ : pandas.DataFrame
        Rotation (unit eigenvectors, ``prcomp``'s ``rotation``) of the kept components: one row
        per grouped column, one column per output component, 0 outside the column's group.
        Scores are ``((X - center_) / scale_) @ loadings_``.
    center_, scale_ : pandas.Series
        Mean and sample standard deviation (n − 1) of each grouped column.
    remainder_ : list of str
        Columns passed through (empty with ``remainder="drop"``).
    n_features_in_ : int
    feature_names_in_ : numpy.ndarray of str
        Only when fitted on a table with string column names.

    Raises
    ------
    MissingColumnError
        At ``fit``: a group names a column that the table lacks.
    InputDataError
        At ``fit``: a constant column in a group (it cannot be scaled to unit variance, as
        ``prcomp(scale. = TRUE)`` also refuses), a column in two groups, an empty group, or
        names used with an array that has none.
    """

    def __init__(
        self,
        groups: Mapping[str, Sequence[str | int]],
        min_eigenvalue: float = KAISER_MIN_EIGENVALUE,
        remainder: Remainder = "passthrough",
    ) -> None:
        self.groups = groups
        self.min_eigenvalue = min_eigenvalue
        self.remainder = remainder

    # -- helpers -------------------------------------------------------------------------------

    def _names(self) -> list[str]:
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            return [str(n) for n in names]
        return [f"x{i}" for i in range(self.n_features_in_)]

    def _resolve_groups(self, names: list[str]) -> dict[str, NDArray[np.intp]]:
        if not isinstance(self.groups, Mapping) or not self.groups:
            raise InputDataError(
                "'groups' must be a non-empty dict of group name → list of columns",
                field="groups",
                value=self.groups,
            )
        has_names = getattr(self, "feature_names_in_", None) is not None
        p = len(names)
        position = {n: i for i, n in enumerate(names)}
        owner: dict[int, str] = {}
        resolved: dict[str, NDArray[np.intp]] = {}
        for group, members in self.groups.items():
            if not isinstance(group, str) or not group:
                raise InputDataError(
                    "group names must be non-empty strings", field="groups", value=group
                )
            if isinstance(members, (str, int)) or not len(members):
                raise InputDataError(
                    f"group {group!r} must be a non-empty list of columns",
                    field="groups",
                    value=members,
                )
            idx = []
            for m in members:
                if isinstance(m, (int, np.integer)) and not isinstance(m, bool):
                    if not 0 <= m < p:
                        raise InputDataError(
                            f"group {group!r} refers to column position {m}, but X has "
                            f"{p} feature(s)",
                            field="groups",
                            value=m,
                        )
                    i = int(m)
                elif isinstance(m, str):
                    if not has_names:
                        raise InputDataError(
                            f"group {group!r} names column {m!r}, but X has no column names "
                            "(fit on a pandas DataFrame, or give 0-based positions)",
                            field="groups",
                        )
                    if m not in position:
                        raise MissingColumnError(
                            f"group {group!r}: column {m!r} not in X; it has {names}",
                            field=m,
                        )
                    i = position[m]
                else:
                    raise InputDataError(
                        f"group {group!r}: columns are names (str) or positions (int)",
                        field="groups",
                        value=m,
                    )
                if i in owner:
                    raise InputDataError(
                        f"column {names[i]!r} is in group {owner[i]!r} and in group {group!r}",
                        field=names[i],
                    )
                owner[i] = group
                idx.append(i)
            resolved[group] = np.array(idx, dtype=np.intp)
        return resolved

    # -- scikit-learn API ----------------------------------------------------------------------

    def fit(self, X: ArrayLike, y: ArrayLike | None = None) -> GroupedPCA:
        """Standardize and decompose each group of ``X``; ``y`` is ignored."""
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        if self.remainder not in ("passthrough", "drop"):
            raise InputDataError(
                "'remainder' must be 'passthrough' or 'drop'",
                field="remainder",
                value=self.remainder,
            )
        if (
            isinstance(self.min_eigenvalue, bool)
            or not isinstance(self.min_eigenvalue, (int, float, np.integer, np.floating))
            or not np.isfinite(self.min_eigenvalue)
            or self.min_eigenvalue < 0
        ):
            raise InputDataError(
                "'min_eigenvalue' must be a finite number >= 0",
                field="min_eigenvalue",
                value=self.min_eigenvalue,
            )
        names = self._names()
        resolved = self._resolve_groups(names)
        n = X.shape[0]

        center = X.mean(axis=0)
        scale = X.std(axis=0, ddof=1)
        # everything is computed first and stored at the end, so a failed refit leaves the
        # previous fit intact
        rotations: dict[str, NDArray[np.float64]] = {}
        n_components: dict[str, int] = {}
        eigenvalues: dict[str, NDArray[np.float64]] = {}
        ratios: dict[str, NDArray[np.float64]] = {}
        out_names: list[str] = []
        for group, idx in resolved.items():
            constant = [names[i] for i in idx if not scale[i] > 0]
            if constant:
                raise InputDataError(
                    f"group {group!r}: constant column(s) {constant} cannot be scaled to unit "
                    "variance (prcomp(scale. = TRUE) refuses them too); drop them first",
                    field=constant[0],
                )
            z = (X[:, idx] - center[idx]) / scale[idx]
            _, s, vt = np.linalg.svd(z, full_matrices=False)
            eig = s**2 / (n - 1)
            rotation = vt.T
            # sign: the largest-magnitude loading of each component is positive
            biggest = np.argmax(np.abs(rotation), axis=0)
            rotation *= np.sign(rotation[biggest, np.arange(rotation.shape[1])])
            k = max(1, int(np.count_nonzero(eig > self.min_eigenvalue)))
            rotations[group] = rotation[:, :k]
            n_components[group] = k
            eigenvalues[group] = eig
            ratios[group] = eig[:k] / idx.size
            out_names += [f"{group}_PC{c + 1}" for c in range(k)]

        grouped = np.concatenate(list(resolved.values()))
        rest = np.setdiff1d(np.arange(len(names)), grouped)
        rest = rest if self.remainder == "passthrough" else rest[:0]
        remainder = [names[i] for i in rest]
        out_names += remainder
        if len(set(out_names)) != len(out_names):
            dup = sorted({c for c in out_names if out_names.count(c) > 1})
            raise InputDataError(
                f"output column name(s) {dup} would repeat (a passed-through column has the "
                "name of a component); rename it or use remainder='drop'",
                field=dup[0],
            )
        grouped_names = [names[i] for i in grouped]
        loadings = pd.DataFrame(
            0.0,
            index=pd.Index(grouped_names, name="feature"),
            columns=out_names[: len(out_names) - len(remainder)],
        )
        for group, idx in resolved.items():
            cols = [f"{group}_PC{c + 1}" for c in range(n_components[group])]
            loadings.loc[[names[i] for i in idx], cols] = rotations[group]

        self._indices, self._rest, self._rotation = resolved, rest, rotations
        self._center, self._scale = center, scale
        self._out_names = np.asarray(out_names, dtype=object)
        self.groups_ = {g: [names[i] for i in idx] for g, idx in resolved.items()}
        self.n_components_ = n_components
        self.eigenvalues_ = eigenvalues
        self.explained_variance_ratio_ = ratios
        self.remainder_ = remainder
        self.loadings_ = loadings
        self.center_ = pd.Series(center[grouped], index=grouped_names, name="center")
        self.scale_ = pd.Series(scale[grouped], index=grouped_names, name="scale")
        return self

    def transform(self, X: ArrayLike) -> NDArray[np.float64]:
        """Component scores of each group, then the passed-through columns."""
        check_is_fitted(self, "loadings_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        blocks = [
            ((X[:, idx] - self._center[idx]) / self._scale[idx]) @ self._rotation[group]
            for group, idx in self._indices.items()
        ]
        blocks.append(X[:, self._rest])
        return np.hstack(blocks)

    def get_feature_names_out(self, input_features: ArrayLike | None = None) -> NDArray[np.object_]:
        """``<group>_PC1``, … per group, then the passed-through columns."""
        check_is_fitted(self, "loadings_")
        if input_features is not None:
            given = [str(f) for f in input_features]
            if given != self._names():
                raise ValueError(
                    f"input_features {given} differ from the fitted features {self._names()}"
                )
        return self._out_names.copy()
