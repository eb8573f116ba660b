"""Prediction intervals and confidence intervals of random-forest maps, each labelled as such.

Three published ways to put an interval on a forest's prediction, which answer different questions:

* **Quantile regression forest** (Meinshausen 2006): the conditional quantiles of the response.
  A *prediction interval*: it is meant to cover a new observation at x.
* **Coulston et al. (2016)** as in Wang G. et al. (manuscript) Eqs. 9–10: the forest mean ± τ̂ times
  the spread of the tree predictions, τ̂ calibrated on held-out profiles. A *prediction interval*.
* **Monte Carlo over inputs and bootstrapped forests** as in Wang H. et al. (2025) §2.7: each
  covariate ~ N(x, 0.1·x), 1,000 draws, 100 bootstrapped forests, 2.5/97.5 % percentiles. It
  propagates covariate error and model-fit (bootstrap) variability into the *mean* prediction: a
  *confidence interval of the mean prediction*. It contains no residual (observation) noise, so
  it does **not** cover new observations at its nominal level; do not report it as a prediction
  interval.

Every result is an :class:`Interval` whose ``kind`` states which of the two it is.

The uncertainty index differs between the two papers, and each method follows its own paper:

* Wang G. et al. (manuscript) (Coulston): "the absolute value of corrected margin of the deviation
  [τ̂₉₅·sd(ŷ)] divided by the mean", i.e. **half-width / mean** (``uncertainty_rule="half_width"``);
* Wang H. et al. (2025) Eq. 7: U = CI / x with x the mean of the Monte Carlo predictions. The paper
  does not say whether CI is the full width or the half-width; its own numbers settle it: the
  subsoil SOC densities 62 (95 % CI 52–73), 70 (57–83) and 97 (80–117) Mg ha⁻¹ (§3.4) give
  (73 − 52)/62 = 34 %, (83 − 57)/70 = 37 % and (117 − 80)/97 = 38 %, exactly the uncertainties
  reported in §3.6 (34 %, 37 %, 38 %); the half-width would give 17–19 %. So Eq. 7 is
  **full width / mean** (``uncertainty_rule="full_width"``), twice Wang G. et al.'s (manuscript)
  index for a symmetric interval.

Both papers divide by the signed mean; here the divisor is |mean| so that the index stays
non-negative for signed variables (Δ¹⁴C); for positive quantities (SOC, stocks, β) it is the
papers' definition. Where the mean is 0 the index is NaN.

References
----------
Meinshausen, N. (2006). Quantile regression forests. *Journal of Machine Learning Research* 7,
983–999.
Coulston, J. W., Blinn, C. E., Thomas, V. A. & Wynne, R. H. (2016). Approximating prediction
uncertainty for random forest regression models. *Photogrammetric Engineering & Remote Sensing*
82(3), 189–197. https://doi.org/10.14358/PERS.82.3.189
Wang H. et al. (2025): Wang et al., Global patterns of SOC distribution in the 20–100 cm soil
profile for different ecosystems (ESSD), §2.7 and Eq. 7.
Wang G. et al. (manuscript): Wang et al., Most root-derived carbon inputs do not contribute to the
global bulk soil carbon pool, Methods "Global mapping and prediction uncertainty", Eqs. 9–10.

Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023

Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import ndtri
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.validation import check_is_fitted, validate_data

from wholesoil.errors import InputDataError
from wholesoil.mapping._check import check_target_variance, feature_matrix

#: What an interval covers. A prediction interval is meant to contain a new observation at x
#: with probability ``level``; a confidence interval of the mean prediction only brackets the
#: model's mean prediction under the propagated input and model-fit variability.
IntervalKind = Literal["prediction interval", "confidence interval of the mean prediction"]
PREDICTION_INTERVAL: IntervalKind = "prediction interval"
CONFIDENCE_INTERVAL_OF_MEAN: IntervalKind = "confidence interval of the mean prediction"

#: How :attr:`Interval.uncertainty` is standardized: ``"half_width"`` = (upper − lower)/2 / |mean|
#: (Wang G. et al. (manuscript)); ``"full_width"`` = (upper − lower) / |mean| (Wang H. et al. (2025)
#: Eq. 7, U = CI/x).
UncertaintyRule = Literal["half_width", "full_width"]

#: Centre of a quantile-forest interval: the conditional mean or the conditional median (Q0.5).
QuantileCenter = Literal["mean", "median"]

#: Monte Carlo sizes: ``"paper"`` = Wang G. et al. (manuscript) (Wang et al., Methods "Global
#: mapping and prediction uncertainty", following Coulston et al. 2016, *Photogramm. Eng. Remote
#: Sens.* 82:189–197, doi:10.14358/PERS.82.3.189): 500 bootstrap forests of 500 trees, 95 %
#: intervals — the defaults of :class:`CoulstonInterval`, :class:`MonteCarloInterval` and
#: ``wholesoil train``; ``"fast"`` = the earlier, quicker sizes (100 forests of 100 trees, 90 %),
#: for trials.
MONTE_CARLO_PRESETS: dict[str, dict[str, float | int]] = {
    "paper": {"n_boot": 500, "n_trees": 500, "level": 0.95},
    "fast": {"n_boot": 100, "n_trees": 100, "level": 0.90},
}


def _default_forest() -> BaseEstimator:
    """wholesoil's :class:`~wholesoil.mapping.RandomForest`: R ``randomForest``'s regression
    defaults (Liaw & Wiener 2002: mtry = floor(p/3), nodesize 5, ntree 500). scikit-learn's own
    default (max_features=1.0, i.e. mtry = p) is a different model."""
    from wholesoil.mapping._learners import RandomForest  # _learners does not import us

    return RandomForest()


# --------------------------------------------------------------------------------------------
# Result type
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Interval:
    """An interval per prediction row, with what it is and how it was made.

    Attributes
    ----------
    mean : ndarray, shape (n,)
        Centre of the interval [units of the target]; what it is is stated by ``center``.
    lower, upper : ndarray, shape (n,)
        Interval bounds [units of the target].
    level : float
        Nominal level, e.g. 0.95 for a 95 % interval.
    method : str
        How the interval was made (with its source).
    kind : {"prediction interval", "confidence interval of the mean prediction"}
        What the interval covers (see :data:`IntervalKind`).
    uncertainty_rule : {"half_width", "full_width"}
        Standardization of :attr:`uncertainty`: half-width/|mean| (Wang G. et al. (manuscript)) or
        full width/|mean| (Wang H. et al. (2025) Eq. 7).
    center : str
        What ``mean`` is, e.g. "conditional mean" or "mean of the Monte Carlo predictions".
    """

    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float
    method: str
    kind: IntervalKind
    uncertainty_rule: UncertaintyRule = "half_width"
    center: str = "mean"

    def __post_init__(self) -> None:
        arrays = {}
        for name in ("mean", "lower", "upper"):
            arr = np.asarray(getattr(self, name), dtype=float)
            if arr.ndim != 1:
                raise ValueError(f"Interval.{name} must be 1-D (got shape {arr.shape})")
            arrays[name] = arr
        shapes = {name: arr.shape for name, arr in arrays.items()}
        if len(set(shapes.values())) != 1:
            raise ValueError(f"Interval arrays differ in shape: {shapes}")
        for name, arr in arrays.items():
            object.__setattr__(self, name, arr)
        if not 0.0 < float(self.level) < 1.0:
            raise ValueError(f"level must be in (0, 1) (got {self.level!r})")
        object.__setattr__(self, "level", float(self.level))
        if self.kind not in (PREDICTION_INTERVAL, CONFIDENCE_INTERVAL_OF_MEAN):
            raise ValueError(
                f"kind must be {PREDICTION_INTERVAL!r} or {CONFIDENCE_INTERVAL_OF_MEAN!r} "
                f"(got {self.kind!r})"
            )
        if self.uncertainty_rule not in ("half_width", "full_width"):
            raise ValueError(
                f"uncertainty_rule must be 'half_width' or 'full_width' "
                f"(got {self.uncertainty_rule!r})"
            )

    def __len__(self) -> int:
        return int(self.mean.shape[0])

    @property
    def width(self) -> np.ndarray:
        """upper − lower [units of the target]."""
        return self.upper - self.lower

    @property
    def half_width(self) -> np.ndarray:
        """(upper − lower) / 2 [units of the target]; τ̂·sd(ŷ) for a Coulston interval."""
        return 0.5 * self.width

    @property
    def uncertainty(self) -> np.ndarray:
        """Relative uncertainty [-] by ``uncertainty_rule``; NaN where the mean is 0.

        ``"half_width"``: (upper − lower)/2 / |mean| (Wang G. et al. (manuscript), "margin … divided
        by the mean"); ``"full_width"``: (upper − lower) / |mean| (Wang H. et al. (2025) Eq. 7, U =
        CI/x).
        """
        spread = self.half_width if self.uncertainty_rule == "half_width" else self.width
        denom = np.abs(self.mean)
        out = np.full(spread.shape, np.nan)
        np.divide(spread, denom, out=out, where=denom > 0)
        return out

    def to_frame(self, index: ArrayLike | None = None) -> pd.DataFrame:
        """Columns mean, lower, upper, uncertainty; level, method, kind, … go in ``frame.attrs``."""
        frame = pd.DataFrame(
            {
                "mean": self.mean,
                "lower": self.lower,
                "upper": self.upper,
                "uncertainty": self.uncertainty,
            },
            index=None if index is None else pd.Index(index),
        )
        frame.attrs.update(
            level=self.level,
            method=self.method,
            kind=self.kind,
            uncertainty_rule=self.uncertainty_rule,
            center=self.center,
        )
        return frame


def interval_from_draws(
    draws: ArrayLike,
    level: float = 0.95,
    *,
    method: str = "Monte Carlo percentiles (Wang H. et al. (2025) §2.7)",
    kind: IntervalKind = CONFIDENCE_INTERVAL_OF_MEAN,
    uncertainty_rule: UncertaintyRule = "full_width",
) -> Interval:
    """Mean and equal-tailed percentile interval of Monte Carlo draws (Wang H. et al. (2025) §2.7,
    Eq. 7).

    Parameters
    ----------
    draws : array, shape (n_draws, n)
        Simulated values per row [units of the target], e.g. from
        :meth:`MonteCarloInterval.predict_draws` after a transformation (β → SOC density).
    level : float
        Interval level; 0.95 gives the 2.5 % and 97.5 % percentiles of the paper.
    method, kind, uncertainty_rule
        Labels carried into the :class:`Interval`; the defaults describe Wang H. et al.'s (2025)
        interval.
    """
    draws = np.asarray(draws, dtype=float)
    if draws.ndim != 2:
        raise ValueError(f"draws must be 2-D (n_draws, n) (got shape {draws.shape})")
    _check_level(level)
    tail = 100.0 * (1.0 - level) / 2.0
    lower, upper = np.percentile(draws, [tail, 100.0 - tail], axis=0)
    return Interval(
        mean=draws.mean(axis=0),
        lower=lower,
        upper=upper,
        level=level,
        method=method,
        kind=kind,
        uncertainty_rule=uncertainty_rule,
        center="mean of the Monte Carlo predictions",
    )


def _check_level(level: float) -> None:
    if not 0.0 < float(level) < 1.0:
        raise ValueError(f"level must be in (0, 1), e.g. 0.95 (got {level!r})")


# --------------------------------------------------------------------------------------------
# Forest internals
# --------------------------------------------------------------------------------------------


def _tree_predictions(model: Any, X: ArrayLike) -> np.ndarray:
    """Predictions of every tree of a fitted forest, shape (n_trees, n).

    Uses ``model.predict_trees(X)`` (wholesoil forests), else ``model.estimators_`` (scikit-learn
    and quantile-forest forests), else ``model.estimator_.estimators_`` (a wrapper around one).
    """
    if hasattr(model, "predict_trees"):
        return np.asarray(model.predict_trees(X), dtype=float)
    trees = getattr(model, "estimators_", None)
    if trees is None and hasattr(model, "estimator_"):
        trees = getattr(model.estimator_, "estimators_", None)
    if trees is None:
        raise TypeError(
            "expected a fitted forest with predict_trees(X), estimators_ or estimator_.estimators_ "
            f"(got a {type(model).__name__})"
        )
    X32 = np.ascontiguousarray(X, dtype=np.float32)  # sklearn trees split on float32
    return np.stack([np.asarray(tree.predict(X32), dtype=float).ravel() for tree in trees])


def _tree_mean_sd(model: Any, X: np.ndarray, chunk_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample SD (ddof = 1, as R's ``sd``) of the tree predictions, chunked by rows."""
    n = X.shape[0]
    mean = np.empty(n)
    sd = np.empty(n)
    for start in range(0, n, chunk_rows):
        rows = slice(start, start + chunk_rows)
        trees = _tree_predictions(model, X[rows])
        if trees.shape[0] < 2:
            raise ValueError("the spread of tree predictions needs a forest of at least 2 trees")
        mean[rows] = trees.mean(axis=0)
        sd[rows] = trees.std(axis=0, ddof=1)
    return mean, sd


def _tau(y: np.ndarray, tree_predictions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coulston's scaling factor, Wang G. et al. (manuscript) Eq. 9: τ = sqrt((y − ȳ̂)² / var(ŷ)).

    Parameters
    ----------
    y : array, shape (n,)
        Observed values [units of the target].
    tree_predictions : array, shape (n_trees, n)
        Predictions of the individual trees; ȳ̂ is their mean and var(ŷ) their sample variance
        (ddof = 1).

    Returns
    -------
    tau : array, shape (m,)
        τ of the rows whose tree spread is > 0.
    zero_spread : bool array, shape (n,)
        Rows where all trees agree (var(ŷ) = 0): τ is undefined there (x/0) and is left out.
    """
    mean = tree_predictions.mean(axis=0)
    sd = tree_predictions.std(axis=0, ddof=1)
    zero = ~(sd > 0)
    tau = np.abs(y[~zero] - mean[~zero]) / sd[~zero]
    return tau, zero


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _splitmix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finalizer (Steele, Lea & Flood 2014), elementwise on uint64 (wrapping)."""
    z = z + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def _keyed_normals(seed: int, row_keys: np.ndarray, draws: np.ndarray, n_cols: int) -> np.ndarray:
    """Standard normals, shape (draws, rows, n_cols), each a function of (seed, row, draw, col).

    A counter-based generator: the value for a row depends on the row's covariates (its key),
    the draw index and the column, never on which other rows are predicted with it, their order
    or the chunking, so a map is the same however its grid is split into blocks.
    """
    with np.errstate(over="ignore"):
        counter = draws.astype(np.uint64)[:, None] * np.uint64(n_cols) + np.arange(
            n_cols, dtype=np.uint64
        )
        dc = _splitmix64(counter ^ _splitmix64(np.asarray(seed, dtype=np.uint64)))
        bits = _splitmix64(row_keys[None, :, None] ^ dc[:, None, :])
    u = ((bits >> np.uint64(11)).astype(float) + 0.5) * 2.0**-53  # in (0, 1)
    return ndtri(u)


def _row_keys(X: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row's covariate values."""
    bits = np.ascontiguousarray(X, dtype=np.float64).view(np.uint64)
    key = np.zeros(X.shape[0], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(X.shape[1]):
            key = _splitmix64(key ^ bits[:, j])
    return key


def _fresh_forest(forest: Any, rng: np.random.Generator) -> Any:
    """Unfitted clone of ``forest`` (or of the R-style default), with its own random seed."""
    model = clone(forest) if forest is not None else _default_forest()
    if "random_state" in model.get_params(deep=False):
        model.set_params(random_state=_seed(rng))
    return model


def _group_codes(groups: ArrayLike | None, n: int) -> tuple[np.ndarray, int]:
    if groups is None:
        return np.arange(n), n
    groups = np.asarray(groups)
    if groups.shape != (n,):
        raise ValueError(f"groups must have one label per row: shape ({n},) (got {groups.shape})")
    codes, uniques = pd.factorize(groups, use_na_sentinel=False)
    return np.asarray(codes), len(uniques)


def _rows_of(codes: np.ndarray, n_groups: int) -> list[np.ndarray]:
    """Row indices of each profile, indexed by profile code."""
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_groups + 1))
    return [order[bounds[g] : bounds[g + 1]] for g in range(n_groups)]


def _bootstrap_rows(
    profiles: np.ndarray, counts: np.ndarray, rows_of: Sequence[np.ndarray]
) -> np.ndarray:
    """Rows of the given profiles, each profile's rows repeated ``counts`` times."""
    parts = [np.tile(rows_of[g], c) for g, c in zip(profiles, counts, strict=True)]
    return np.concatenate(parts) if parts else np.empty(0, dtype=int)


def _coulston_splits(
    codes: np.ndarray, n_groups: int, n_boot: int, holdout: float, rng: np.random.Generator
):
    """Yield (train_rows, holdout_rows) for each bootstrap of profiles (Wang G. et al. (manuscript),
    Methods).

    Profiles are drawn with replacement (a bootstrap of profiles); the *distinct* drawn profiles
    are then split without replacement, ``holdout`` of them held out, so that no profile is ever
    on both sides. Training rows keep the bootstrap multiplicity of their profile; hold-out rows
    appear once each.
    """
    rows_of = _rows_of(codes, n_groups)
    for _ in range(n_boot):
        while True:
            drawn = rng.integers(0, n_groups, size=n_groups)
            profiles, counts = np.unique(drawn, return_counts=True)
            if profiles.size >= 2:
                break
        n_hold = min(max(1, round(holdout * profiles.size)), profiles.size - 1)
        perm = rng.permutation(profiles.size)
        hold, train = perm[:n_hold], perm[n_hold:]
        yield (
            _bootstrap_rows(profiles[train], counts[train], rows_of),
            _bootstrap_rows(profiles[hold], np.ones(hold.size, dtype=int), rows_of),
        )


def _check_fit_inputs(estimator, X, y, groups):
    if isinstance(X, pd.DataFrame):
        feature_matrix(X, list(X.columns))  # located errors for NaN/non-numeric cells
    X, y = validate_data(estimator, X, y, dtype=np.float64, y_numeric=True)
    if X.shape[0] < 2:
        raise InputDataError(f"need at least 2 samples to fit (got n_samples={X.shape[0]})")
    check_target_variance(y)
    codes, n_groups = _group_codes(groups, X.shape[0])
    return X, np.asarray(y, dtype=float), codes, n_groups


# --------------------------------------------------------------------------------------------
# Quantile regression forest
# --------------------------------------------------------------------------------------------


def _predict_quantiles(model: Any, X: ArrayLike, quantiles: list[float]) -> np.ndarray:
    """Quantile predictions, shape (n, len(quantiles))."""
    if hasattr(model, "predict_quantiles"):
        q = np.asarray(model.predict_quantiles(X, quantiles), dtype=float)
    else:
        predict = getattr(model, "predict", None)
        if predict is None or "quantiles" not in inspect.signature(predict).parameters:
            raise TypeError(
                "expected a fitted quantile forest: predict_quantiles(X, quantiles) or "
                f"predict(X, quantiles=[...]) (got a {type(model).__name__})"
            )
        q = np.asarray(predict(X, quantiles=quantiles), dtype=float)
    n = len(X)
    if q.ndim == 2 and q.shape == (len(quantiles), n) and n != len(quantiles):
        q = q.T
    if q.shape != (n, len(quantiles)):
        raise ValueError(
            f"quantile predictions have shape {q.shape}; expected ({n}, {len(quantiles)})"
        )
    return q


def quantile_interval(
    model: Any, X: ArrayLike, level: float = 0.9, *, center: QuantileCenter = "mean"
) -> Interval:
    """Equal-tailed prediction interval of a fitted quantile regression forest (Meinshausen 2006).

    Parameters
    ----------
    model : fitted quantile forest
        ``quantile_forest.RandomForestQuantileRegressor`` (``predict(X, quantiles=[...])``) or
        any object with ``predict_quantiles(X, quantiles)`` returning (n, n_quantiles).
    X : array or DataFrame, shape (n, p)
        Covariates, as the model was fitted on.
    level : float
        Interval level; 0.9 gives the 5 % and 95 % conditional quantiles.
    center : {"mean", "median"}
        ``"mean"``: the conditional mean (``predict(X, quantiles="mean")`` of quantile-forest,
        ``model.predict(X)`` otherwise); ``"median"``: the conditional median (Q0.5).

    Returns
    -------
    Interval
        A *prediction interval* (it covers a new observation at x with probability ``level``
        when the forest's conditional distribution is right); ``uncertainty`` is
        half-width / |centre|.
    """
    _check_level(level)
    if center not in ("mean", "median"):
        raise ValueError(f"center must be 'mean' or 'median' (got {center!r})")
    tail = (1.0 - level) / 2.0
    wanted = [tail, 1.0 - tail] + ([0.5] if center == "median" else [])
    q = _predict_quantiles(model, X, wanted)
    if center == "median":
        mid, what = q[:, 2], "conditional median (Q0.5)"
    elif hasattr(model, "predict_quantiles"):
        mid, what = np.asarray(model.predict(X), dtype=float), "conditional mean"
    else:
        mid, what = np.asarray(model.predict(X, quantiles="mean"), dtype=float), "conditional mean"
    return Interval(
        mean=mid.ravel(),
        lower=q[:, 0],
        upper=q[:, 1],
        level=level,
        method="quantile regression forest (Meinshausen 2006)",
        kind=PREDICTION_INTERVAL,
        uncertainty_rule="half_width",
        center=what,
    )


# --------------------------------------------------------------------------------------------
# Coulston et al. (2016), Wang G. et al. (manuscript) Eqs. 9–10
# --------------------------------------------------------------------------------------------


class CoulstonInterval(RegressorMixin, BaseEstimator):
    """Random-forest prediction interval of Coulston et al. (2016), Wang G. et al. (manuscript) Eqs.
    9–10.

    For each of ``n_boot`` bootstrap resamples of the profiles (drawn with replacement), the
    distinct resampled profiles are split without replacement into ``1 − holdout`` for training
    and ``holdout`` for testing (Wang G. et al. (manuscript): 500 resamples, 80/20); a clone of
    ``forest`` is trained on the training profiles and, for every held-out observation, τ = |y − ȳ̂|
    / sd(ŷ) (Eq. 9), where ȳ̂ is the forest mean and sd(ŷ) the standard deviation of the individual
    trees' predictions. The pooled τ give τ̂ = their ``level`` percentile (τ̂₉₅ for a 95 %
    interval). A final forest is trained on all data, and for new x (Eq. 10)::

        θ = ȳ̂ ± τ̂ · sd(ŷ)

    Parameters
    ----------
    forest : regressor, optional
        Unfitted forest to clone; anything with ``predict_trees(X)``, ``estimators_`` or
        ``estimator_.estimators_`` once fitted. Default: wholesoil's RandomForest
        (R's mtry = p/3, nodesize 5, 500 trees). A
        ``random_state`` parameter of the forest is reset per clone from ``random_state``.
    n_boot : int
        Bootstrap resamples of profiles (Wang G. et al. (manuscript) used 500).
    holdout : float
        Fraction of the distinct resampled profiles held out (Wang G. et al. (manuscript): 0.2).
    level : float
        Interval level; τ̂ is the ``100·level`` percentile of the pooled τ.
    random_state : int or None
        Seed of the resampling and of the forests' own randomness.
    chunk_rows : int
        Rows per block when predicting, so that the (n_trees × rows) matrix of tree predictions
        stays bounded in memory.

    Attributes
    ----------
    tau_samples_ : ndarray
        Pooled τ of all held-out observations with sd(ŷ) > 0, all bootstraps.
    tau_ : float
        τ̂, the ``level`` percentile of ``tau_samples_``.
    n_zero_spread_ : int
        Held-out observations whose trees all agreed (sd(ŷ) = 0): τ is undefined (division by
        zero) and they are left out of ``tau_samples_`` (a warning says how many). At prediction
        time such rows get a zero-width interval, which is what Eq. 10 gives.
    final_forest_ : fitted forest
        The forest trained on all data, used for mapping.
    n_features_in_, feature_names_in_
        As scikit-learn sets them.

    Notes
    -----
    τ uses the sample standard deviation of the trees (ddof = 1, R's ``sd``) in Eq. 9 and Eq. 10
    alike. Hold-out observations are counted once each even when their profile was drawn more
    than once; training rows keep the bootstrap multiplicity. The interval is symmetric about
    ȳ̂; ``uncertainty`` is τ̂·sd(ŷ)/|ȳ̂| (Wang G. et al.'s (manuscript) standardization).
    """

    def __init__(
        self,
        forest: Any = None,
        n_boot: int = 500,
        holdout: float = 0.2,
        level: float = 0.95,
        random_state: int | None = 0,
        chunk_rows: int = 20_000,
    ) -> None:
        self.forest = forest
        self.n_boot = n_boot
        self.holdout = holdout
        self.level = level
        self.random_state = random_state
        self.chunk_rows = chunk_rows

    def _check_params(self) -> None:
        _check_level(self.level)
        if not 0.0 < float(self.holdout) < 1.0:
            raise ValueError(f"holdout must be in (0, 1), e.g. 0.2 (got {self.holdout!r})")
        if int(self.n_boot) < 1:
            raise ValueError(f"n_boot must be >= 1 (got {self.n_boot!r})")
        if int(self.chunk_rows) < 1:
            raise ValueError(f"chunk_rows must be >= 1 (got {self.chunk_rows!r})")

    def fit(self, X: ArrayLike, y: ArrayLike, groups: ArrayLike | None = None) -> CoulstonInterval:
        """Calibrate τ̂ on bootstrap hold-outs of profiles, then fit the final forest.

        Parameters
        ----------
        X : array or DataFrame, shape (n, p)
            Covariates.
        y : array, shape (n,)
            Target [any units].
        groups : array, shape (n,), optional
            Profile of each row; all rows of a profile are resampled and held out together.
            Default: each row is its own profile.
        """
        self._check_params()
        X, y, codes, n_groups = _check_fit_inputs(self, X, y, groups)
        if n_groups < 2:
            raise InputDataError(
                f"Coulston intervals hold out whole profiles: need at least 2 (got {n_groups})"
            )
        rng = np.random.default_rng(self.random_state)
        taus, n_zero = [], 0
        for train, hold in _coulston_splits(codes, n_groups, int(self.n_boot), self.holdout, rng):
            model = _fresh_forest(self.forest, rng).fit(X[train], y[train])
            tau, zero = _tau(y[hold], _tree_predictions(model, X[hold]))
            taus.append(tau)
            n_zero += int(zero.sum())
        self.tau_samples_ = np.concatenate(taus)
        self.n_zero_spread_ = n_zero
        if n_zero:
            warnings.warn(
                f"{n_zero} held-out observation(s) had zero spread of tree predictions "
                "(sd = 0, τ undefined) and were left out of tau_samples_",
                UserWarning,
                stacklevel=2,
            )
        if self.tau_samples_.size == 0:
            raise InputDataError("no held-out observation had tree spread > 0; τ is undefined")
        self.tau_ = float(np.percentile(self.tau_samples_, 100.0 * self.level))
        self.final_forest_ = _fresh_forest(self.forest, rng).fit(X, y)
        return self

    def _mean_sd(self, X: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        check_is_fitted(self, "final_forest_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return _tree_mean_sd(self.final_forest_, X, int(self.chunk_rows))

    def predict(self, X: ArrayLike) -> np.ndarray:
        """ȳ̂, the mean of the final forest's tree predictions [units of the target]."""
        return self._mean_sd(X)[0]

    def predict_interval(self, X: ArrayLike, level: float | None = None) -> Interval:
        """Eq. 10: ȳ̂ ± τ̂·sd(ŷ), a prediction interval.

        Parameters
        ----------
        X : array or DataFrame, shape (n, p)
            Covariates.
        level : float, optional
            Another level than the fitted one: τ̂ is then that percentile of ``tau_samples_``.
        """
        check_is_fitted(self, "tau_")
        if level is None:
            level, tau = self.level, self.tau_
        else:
            _check_level(level)
            tau = float(np.percentile(self.tau_samples_, 100.0 * level))
        mean, sd = self._mean_sd(X)
        return Interval(
            mean=mean,
            lower=mean - tau * sd,
            upper=mean + tau * sd,
            level=level,
            method="Coulston et al. 2016 (Wang G. et al. (manuscript) Eqs. 9-10)",
            kind=PREDICTION_INTERVAL,
            uncertainty_rule="half_width",
            center="random-forest mean prediction",
        )


# --------------------------------------------------------------------------------------------
# Monte Carlo over inputs and bootstrapped forests, Wang H. et al. (2025) §2.7
# --------------------------------------------------------------------------------------------


class MonteCarloInterval(RegressorMixin, BaseEstimator):
    """Monte Carlo confidence interval of the mean prediction, Wang H. et al. (2025) §2.7 and Eq. 7.

    ``n_boot`` forests are trained on bootstrap resamples of the profiles. To predict a row x,
    ``n_draws`` perturbed covariate vectors are drawn, each perturbed covariate independently
    x* ~ N(x, rel_sd·|x|) ("the grid value as the mean value and its 10 % as the standard
    deviation"); draw d is predicted by bootstrap forest d mod n_boot. The result is the mean
    and the equal-tailed percentiles (2.5 % and 97.5 % for ``level=0.95``) of the draws, and
    U = CI/x (Eq. 7) with CI the full interval width (see the module notes).

    This is a **confidence interval of the mean prediction**: it carries covariate error and
    model-fit variability but no residual noise, so it covers new observations far less often
    than ``level``.

    Parameters
    ----------
    forest : regressor, optional
        Unfitted regressor to clone (any ``fit``/``predict``). Default: scikit-learn's
        wholesoil's RandomForest (R's defaults).
    n_draws : int
        Monte Carlo draws per row (Wang H. et al. (2025): 1,000).
    n_boot : int
        Bootstrapped forests (Wang H. et al. (2025): 100).
    rel_sd : float
        Standard deviation of each perturbed covariate relative to its value (Wang H. et al. (2025):
        0.1). The perturbation is relative, so it depends on the covariate's units and origin (a
        temperature of 0 °C is never perturbed, 273 K is perturbed by 27 K).
    level : float
        Interval level (Wang H. et al. (2025): 0.95).
    random_state : int or None
        Seed of the bootstrap, the forests and the draws. The draws of a row are a function of
        the seed and of the row's covariate values only (a counter-based generator), so a row's
        interval does not depend on the other rows, their order or ``chunk_rows``: a map is the
        same however its grid is split into blocks.
    perturb : sequence of str or int, optional
        Covariates to perturb, by name (when fitted on a DataFrame) or column index; default
        all. Leave out covariates that are not measured with error, e.g. the layer's depth
        (top, bottom).
    chunk_rows : int
        Rows per block: memory holds n_draws × chunk_rows predictions and
        (n_draws / n_boot) × chunk_rows × p perturbed covariates at a time.

    Attributes
    ----------
    forests_ : list
        The ``n_boot`` fitted bootstrap forests.
    perturb_index_ : ndarray of int
        Columns perturbed.
    draw_seed_ : int
        Seed of the covariate draws, taken from ``random_state`` at fit.
    """

    def __init__(
        self,
        forest: Any = None,
        n_draws: int = 1000,
        n_boot: int = 500,
        rel_sd: float = 0.1,
        level: float = 0.95,
        random_state: int | None = 0,
        perturb: Sequence[str | int] | None = None,
        chunk_rows: int = 1000,
    ) -> None:
        self.forest = forest
        self.n_draws = n_draws
        self.n_boot = n_boot
        self.rel_sd = rel_sd
        self.level = level
        self.random_state = random_state
        self.perturb = perturb
        self.chunk_rows = chunk_rows

    def _check_params(self) -> None:
        _check_level(self.level)
        for name in ("n_draws", "n_boot", "chunk_rows"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1 (got {getattr(self, name)!r})")
        if not float(self.rel_sd) >= 0.0:
            raise ValueError(f"rel_sd must be >= 0, e.g. 0.1 (got {self.rel_sd!r})")

    def _perturb_index(self) -> np.ndarray:
        p = self.n_features_in_
        if self.perturb is None:
            return np.arange(p)
        names = list(getattr(self, "feature_names_in_", []))
        index = []
        for item in self.perturb:
            if isinstance(item, str):
                if item not in names:
                    raise InputDataError(
                        f"perturb names a feature that is not among the fitted ones {names}",
                        field=item,
                    )
                index.append(names.index(item))
            elif isinstance(item, (int, np.integer)) and 0 <= int(item) < p:
                index.append(int(item))
            else:
                raise ValueError(
                    f"perturb entries must be feature names or column indices 0..{p - 1} "
                    f"(got {item!r})"
                )
        return np.unique(np.asarray(index, dtype=int))

    def fit(
        self, X: ArrayLike, y: ArrayLike, groups: ArrayLike | None = None
    ) -> MonteCarloInterval:
        """Train ``n_boot`` forests on bootstrap resamples of profiles (``groups``, else rows)."""
        self._check_params()
        X, y, codes, n_groups = _check_fit_inputs(self, X, y, groups)
        self.perturb_index_ = self._perturb_index()
        rng = np.random.default_rng(self.random_state)
        rows_of = _rows_of(codes, n_groups)
        self.forests_ = []
        for _ in range(int(self.n_boot)):
            profiles, counts = np.unique(
                rng.integers(0, n_groups, size=n_groups), return_counts=True
            )
            rows = _bootstrap_rows(profiles, counts, rows_of)
            self.forests_.append(_fresh_forest(self.forest, rng).fit(X[rows], y[rows]))
        self.draw_seed_ = _seed(rng)
        return self

    def predict_draws(self, X: ArrayLike) -> np.ndarray:
        """All Monte Carlo predictions, shape (n_draws, n) [units of the target].

        For propagating further (e.g. β → SOC density by Wang H. et al. (2025) Eq. 3) before
        summarizing with :func:`interval_from_draws`. Holds n_draws × n floats: for large grids use
        :meth:`predict_interval`, which summarizes block by block.
        """
        check_is_fitted(self, "forests_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        out = np.empty((int(self.n_draws), X.shape[0]))
        for start in range(0, X.shape[0], int(self.chunk_rows)):
            rows = slice(start, start + int(self.chunk_rows))
            out[:, rows] = self._draws_block(X[rows])
        return out

    def _draws_block(self, X: np.ndarray) -> np.ndarray:
        m, p = X.shape
        keys = _row_keys(X)
        n_draws, n_boot = int(self.n_draws), len(self.forests_)
        cols = self.perturb_index_
        scale = float(self.rel_sd) * np.abs(X[:, cols])  # (m, k)
        preds = np.empty((n_draws, m))
        for b, model in enumerate(self.forests_):
            draws = np.arange(b, n_draws, n_boot)  # draw d goes to forest d mod n_boot
            if draws.size == 0:
                continue
            Xs = np.broadcast_to(X, (draws.size, m, p)).copy()
            if cols.size:
                Xs[:, :, cols] += scale * _keyed_normals(self.draw_seed_, keys, draws, cols.size)
            preds[draws] = np.asarray(model.predict(Xs.reshape(-1, p)), dtype=float).reshape(
                draws.size, m
            )
        return preds

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Mean of the Monte Carlo predictions (x_i of Eq. 7) [units of the target]."""
        return self.predict_interval(X).mean

    def predict_interval(self, X: ArrayLike, level: float | None = None) -> Interval:
        """Mean and percentile interval of the draws, block by block (Wang H. et al. (2025) §2.7,
        Eq. 7).

        Returns a *confidence interval of the mean prediction*; ``uncertainty`` is Eq. 7's
        U = CI/x with CI the full width (``uncertainty_rule="full_width"``).
        """
        check_is_fitted(self, "forests_")
        level = self.level if level is None else level
        _check_level(level)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        parts = []
        for start in range(0, X.shape[0], int(self.chunk_rows)):
            block = self._draws_block(X[start : start + int(self.chunk_rows)])
            parts.append(interval_from_draws(block, level))
        if not parts:
            parts.append(interval_from_draws(np.empty((int(self.n_draws), 0)), level))
        return Interval(
            mean=np.concatenate([i.mean for i in parts]),
            lower=np.concatenate([i.lower for i in parts]),
            upper=np.concatenate([i.upper for i in parts]),
            level=level,
            method="Monte Carlo over inputs and bootstrapped forests (Wang H. et al. (2025) §2.7, "
                   "Eq. 7)",
            kind=CONFIDENCE_INTERVAL_OF_MEAN,
            uncertainty_rule="full_width",
            center="mean of the Monte Carlo predictions",
        )


# --------------------------------------------------------------------------------------------
# Coverage
# --------------------------------------------------------------------------------------------


def _as_bounds(
    interval_or_lower: Interval | ArrayLike, upper: ArrayLike | None, observed: ArrayLike | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if isinstance(interval_or_lower, Interval):
        if observed is None:
            observed, upper = upper, None
        if upper is not None or observed is None:
            raise TypeError("call interval_coverage(interval, observed)")
        lo, hi = interval_or_lower.lower, interval_or_lower.upper
    else:
        if upper is None or observed is None:
            raise TypeError("call interval_coverage(lower, upper, observed)")
        lo = np.asarray(interval_or_lower, dtype=float)
        hi = np.asarray(upper, dtype=float)
    y = np.asarray(observed, dtype=float)
    if not lo.shape == hi.shape == y.shape:
        raise ValueError(
            f"lower, upper and observed differ in shape: {lo.shape}, {hi.shape}, {y.shape}"
        )
    if not np.isfinite(y).all():
        i = int(np.flatnonzero(~np.isfinite(y))[0])
        raise InputDataError(
            "observed values must be finite (drop missing observations first)",
            field=f"observed[{i}]",
            value=float(y[i]),
            has_value=True,
        )
    return lo, hi, y


def interval_coverage(
    interval_or_lower: Interval | ArrayLike,
    upper: ArrayLike | None = None,
    observed: ArrayLike | None = None,
) -> float:
    """Fraction of observations inside their interval, lower ≤ y ≤ upper.

    Call as ``interval_coverage(interval, observed)`` or
    ``interval_coverage(lower, upper, observed)``. NaN when there are no observations.
    """
    lo, hi, y = _as_bounds(interval_or_lower, upper, observed)
    if y.size == 0:
        return float("nan")
    return float(np.mean((lo <= y) & (y <= hi)))


def coverage_table(intervals: Mapping[str, Interval], observed: ArrayLike) -> pd.DataFrame:
    """Coverage of held-out observations by several intervals, one row per name.

    Columns: method, kind, level (nominal), coverage (observed fraction), mean_width [units of
    the target], n. A prediction interval should cover about ``level``; a confidence interval of
    the mean prediction is expected to cover less.
    """
    records = []
    for name, interval in intervals.items():
        records.append(
            {
                "name": name,
                "method": interval.method,
                "kind": interval.kind,
                "level": interval.level,
                "coverage": interval_coverage(interval, observed),
                "mean_width": float(np.mean(interval.width)) if len(interval) else float("nan"),
                "n": len(interval),
            }
        )
    columns = ["name", "method", "kind", "level", "coverage", "mean_width", "n"]
    return pd.DataFrame.from_records(records, columns=columns).set_index("name")
