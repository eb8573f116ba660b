"""Area of applicability: where a model's covariates resemble its training data.

A model trained on profiles from some climates predicts everywhere, but its predictions in
covariate space it never saw are extrapolations of unknown quality. Meyer & Pebesma (2021)
measure how far a new point lies from the training data in the (standardized, optionally
weighted) covariate space and call a prediction *inside the area of applicability* (AOA) when
that distance is no larger than the distances between training points and the training points
of other cross-validation folds — the distances the cross-validation error was measured at.

With covariates standardized by the training mean and standard deviation (sample, ``ddof=1``)
and multiplied by weights ``w`` (all 1 by default; Meyer & Pebesma use variable importance):

* Eq. 1 — mean training distance ``d̄ = mean_i mean_{j≠i} ‖x_i − x_j‖``;
* Eq. 2 — dissimilarity index of a point ``k``: ``DI_k = min_i ‖x_k − x_i‖ / d̄`` (the nearest
  training point);
* Eq. 3 — for a training point the nearest neighbour is sought among the training points of the
  *other* cross-validation folds (all other points when no folds are given);
* Eq. 4 — threshold: the upper whisker of a Tukey box plot of the training DIs, i.e. the largest
  training DI not above ``H_u + 1.5 (H_u − H_l)`` with Tukey's hinges ``H_l, H_u`` (R's
  ``fivenum``/``boxplot.stats``, as the authors' CAST package computes it); ``DI > threshold`` is
  outside the AOA.

The equation numbers are this module's; the method is the paper's §2.2 and CAST's ``trainDI`` /
``aoa`` (read for behaviour; this is an independent implementation).

Reference
---------
Meyer, H. & Pebesma, E. (2021). Predicting into unknown space? Estimating the area of
applicability of spatial prediction models. *Methods in Ecology and Evolution* 12, 1620–1633.
https://doi.org/10.1111/2041-210X.13650
"""

from __future__ import annotations

from typing import Any

import numpy as np

from wholesoil.errors import InputDataError

#: Tukey's whisker coefficient of the AOA threshold (Meyer & Pebesma 2021; R's boxplot.stats).
WHISKER_COEF = 1.5


def fivenum(x: np.ndarray) -> np.ndarray:
    """Tukey's five-number summary (minimum, lower hinge, median, upper hinge, maximum) of the
    finite values of ``x``, exactly as R's ``stats::fivenum``."""
    v = np.sort(np.asarray(x, float)[np.isfinite(x)])
    n = v.size
    if n == 0:
        return np.full(5, np.nan)
    n4 = np.floor((n + 3) / 2) / 2
    d = np.array([1, n4, (n + 1) / 2, n + 1 - n4, n]) - 1  # 0-based positions
    return 0.5 * (v[np.floor(d).astype(int)] + v[np.ceil(d).astype(int)])


def upper_whisker(x: np.ndarray, coef: float = WHISKER_COEF) -> float:
    """Largest finite value of ``x`` not above ``H_u + coef·(H_u − H_l)`` (Eq. 4)."""
    v = np.asarray(x, float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan")
    _, lo, _, hi, _ = fivenum(v)
    return float(v[v <= hi + coef * (hi - lo)].max())


class AreaOfApplicability:
    """Dissimilarity index and area of applicability of a model (Meyer & Pebesma 2021).

    Parameters
    ----------
    weights : array of shape (n_features,), optional
        Non-negative weight of each covariate after standardization (e.g. its importance);
        default: all 1.

    Attributes (after :meth:`fit`)
    ------------------------------
    mean_, scale_ : standardization of the training covariates.
    mean_distance_ : float — ``d̄`` (Eq. 1).
    train_di_ : ndarray — the training points' DI against the other folds (Eq. 3).
    threshold_ : float — Eq. 4.
    train_ : ndarray — the standardized, weighted training covariates.

    The training rows are compared in blocks (Eq. 1) and through k-d trees (Eqs. 2–3), so
    tens of thousands of training rows and grids of millions of cells fit in memory.
    """

    def __init__(self, weights: np.ndarray | None = None) -> None:
        self.weights = weights

    def _scaled(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, float) - self.mean_) / self.scale_ * self.weights_

    def fit(self, X: Any, folds: Any = None) -> AreaOfApplicability:
        """Training covariates ``X`` (n × p, finite) and, optionally, each row's CV fold."""
        X = np.asarray(X, float)
        if X.ndim != 2 or X.shape[0] < 2:
            raise InputDataError(f"AreaOfApplicability.fit: expected at least 2 training rows "
                                 f"of covariates (n × p), got shape {X.shape}")
        bad = ~np.isfinite(X).all(axis=1)
        if bad.any():
            raise InputDataError(
                f"AreaOfApplicability.fit: training row {int(np.flatnonzero(bad)[0])} has a "
                f"missing covariate ({int(bad.sum())} rows in all); drop or impute them first")
        self.mean_ = X.mean(axis=0)
        sd = X.std(axis=0, ddof=1)
        if np.any(sd == 0):
            raise InputDataError(
                f"AreaOfApplicability.fit: covariate column(s) "
                f"{np.flatnonzero(sd == 0).tolist()} have no variance in the training data; "
                "leave them out")
        self.scale_ = sd
        w = np.ones(X.shape[1]) if self.weights is None else np.asarray(self.weights, float)
        if w.shape != (X.shape[1],) or np.any(w < 0) or not np.all(np.isfinite(w)):
            raise InputDataError(f"AreaOfApplicability: weights must be {X.shape[1]} "
                                 f"non-negative numbers, got {self.weights!r}")
        self.weights_ = w
        Z = self._scaled(X)
        n = Z.shape[0]
        f = np.zeros(n, int) if folds is None else np.unique(np.asarray(folds),
                                                              return_inverse=True)[1].ravel()
        if f.shape != (n,):
            raise InputDataError(f"AreaOfApplicability.fit: {f.size} fold labels for {n} "
                                 "training rows")
        self.mean_distance_ = _mean_pairwise_distance(Z)  # Eq. 1
        self.train_di_ = _nearest_other(Z, f if folds is not None else None
                                        ) / self.mean_distance_  # Eq. 3
        self.threshold_ = upper_whisker(self.train_di_)  # Eq. 4
        self.train_ = Z
        return self

    # ----------------------------------------------------------------- persistence
    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted state as plain arrays (for ``numpy.savez``; no pickle)."""
        return {"mean": self.mean_, "scale": self.scale_, "weights": self.weights_,
                "train": self.train_, "train_di": self.train_di_,
                "scalars": np.array([self.mean_distance_, self.threshold_])}

    @classmethod
    def from_arrays(cls, a: Any) -> AreaOfApplicability:
        """Inverse of :meth:`to_arrays`."""
        self = cls(weights=np.asarray(a["weights"], float))
        self.mean_, self.scale_ = np.asarray(a["mean"], float), np.asarray(a["scale"], float)
        self.weights_ = np.asarray(a["weights"], float)
        self.train_ = np.asarray(a["train"], float)
        self.train_di_ = np.asarray(a["train_di"], float)
        self.mean_distance_, self.threshold_ = (float(v) for v in a["scalars"])
        return self

    def dissimilarity(self, X: Any) -> np.ndarray:
        """DI of new points (Eq. 2); NaN where a covariate is missing."""
        from scipy.spatial import cKDTree

        X = np.asarray(X, float)
        out = np.full(X.shape[0], np.nan)
        ok = np.isfinite(X).all(axis=1)
        if ok.any():
            tree = cKDTree(self.train_)
            d, _ = tree.query(self._scaled(X[ok]), k=1)
            out[ok] = d / self.mean_distance_
        return out

    def inside(self, X: Any) -> np.ndarray:
        """True where the DI is within the threshold (Eq. 4); False where a covariate is
        missing."""
        di = self.dissimilarity(X)
        return np.isfinite(di) & (di <= self.threshold_)


def _mean_pairwise_distance(Z: np.ndarray, block: int = 2048) -> float:
    """Mean Euclidean distance over all ordered pairs i ≠ j, in row blocks (memory:
    block × n), so that training sets of tens of thousands of rows fit."""
    from scipy.spatial.distance import cdist

    n = Z.shape[0]
    total = 0.0
    for s in range(0, n, block):
        total += float(cdist(Z[s:s + block], Z).sum())
    return total / (n * (n - 1))


def _nearest_other(Z: np.ndarray, folds: np.ndarray | None) -> np.ndarray:
    """Distance of each training row to its nearest row in another fold (another row when
    ``folds`` is None); NaN where there is none."""
    from scipy.spatial import cKDTree

    n = Z.shape[0]
    out = np.full(n, np.nan)
    if folds is None:
        d, _ = cKDTree(Z).query(Z, k=2)
        return d[:, 1]
    for f in np.unique(folds):
        inside = folds == f
        if inside.all():
            continue
        d, _ = cKDTree(Z[~inside]).query(Z[inside], k=1)
        out[inside] = d
    return out
