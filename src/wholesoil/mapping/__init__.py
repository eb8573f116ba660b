"""Mapping: learners, honest validation, interpretation and prediction intervals.

Random forests and ensembles that predict β (Wang H. et al. (2025)), layer SOC stocks
(Wang G. et al. (2025)) and carbon inputs (Wang G. et al. (manuscript)) from covariates, as
scikit-learn-compatible estimators:

* learners — :class:`RandomForest` (R's defaults: mtry = p/3, nodesize 5, OOB error),
  :func:`tune_forest` (Wang H. et al.'s (2025) bootstrap tuning of mtry and ntree),
  :class:`QuantileForest`,
  :class:`XGBoost`, :class:`SupportVectorRegressor`, :class:`CubistRegressor` (extra
  ``[ml-extra]``), :class:`MARSRegressor` and Wang G. et al.'s (manuscript)
  :class:`StackedEnsemble`; by name through :func:`make_learner` / :data:`LEARNERS`;
* validation — :class:`ProfileKFold` (never splits a profile), :class:`SpatialBlockKFold`,
  :func:`cross_validate`, :func:`validate_independent`, skill by depth band
  (:func:`depthwise_metrics`, Wang G. et al. (2025) Fig. 1e) with R² and RMSE of
  Wang H. et al. (2025) Eqs. 4–5;
* interpretation — :func:`permutation_importance_table`, :func:`partial_dependence_table`;
* intervals, each labelled for what it is — :func:`quantile_interval` and
  :class:`CoulstonInterval` (prediction intervals; Wang G. et al. (manuscript) Eqs. 9–10), and
  :class:`MonteCarloInterval` (Wang H. et al. (2025) §2.7: a confidence interval of the mean
  prediction);
  :func:`coverage_table` measures them on held-out data;
* applicability — :class:`AreaOfApplicability`: the dissimilarity index of new covariates to
  the training data and the area where predictions are not extrapolations (Meyer & Pebesma
  (2021));
* safe model files — :func:`save_model` / :func:`load_model` (skops, no unpickling);
* grids — :func:`predict_grid` maps a model block by block over an xarray grid of any size
  (threads here, or a dask cluster from :func:`wholesoil.parallel.dask_client`), with every
  interval type and resumable block checkpoints;
* stocks — :func:`cell_area` on the authalic sphere, depth layers from β maps
  (:func:`cumulative_from_beta`, :func:`layers_from_beta`, Wang H. et al. (2025) §2.6), totals by
  region × ecosystem × layer with Monte Carlo intervals (:func:`stock_totals`,
  :func:`stock_totals_from_beta`, Wang H. et al. (2025) Eq. 6 and §2.7) from
  :class:`CellDistribution` inputs; reproducible regions (:func:`land_fraction`,
  :func:`circumpolar_region`).

Covariate hygiene transformers (caret's findCorrelation / findLinearCombos and grouped PCA)
live in :mod:`wholesoil.stats` and are re-exported here.

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023

Wang, G., Luo, Z., Song, C., et al. (2025). Digging deeper towards accurate mapping of deep soil
organic carbon in grasslands. Science Bulletin. https://doi.org/10.1016/j.scib.2025.06.006

Meyer, H. & Pebesma, E. (2021). Predicting into unknown space? Estimating the area of
applicability of spatial prediction models. Methods in Ecology and Evolution 12, 1620–1633.
https://doi.org/10.1111/2041-210X.13650

Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

from wholesoil.mapping._applicability import AreaOfApplicability
from wholesoil.mapping._check import (
    check_target_variance,
    feature_matrix,
    require_columns,
    target_vector,
)
from wholesoil.mapping._cv import (
    CVResult,
    ProfileKFold,
    SpatialBlockKFold,
    ValidationResult,
    cross_validate,
    depthwise_metrics,
    haversine_km,
    stratified_split,
    validate_independent,
)
from wholesoil.mapping._ensemble import StackedEnsemble
from wholesoil.mapping._grid import predict_grid
from wholesoil.mapping._interpret import (
    partial_dependence_table,
    permutation_importance_table,
)
from wholesoil.mapping._learners import (
    LEARNERS,
    CubistRegressor,
    ForestTuning,
    LogTargetRegressor,
    QuantileForest,
    RandomForest,
    SupportVectorRegressor,
    XGBoost,
    available_learners,
    make_learner,
    tune_forest,
)
from wholesoil.mapping._mars import MARSRegressor
from wholesoil.mapping._metrics import bias, r2_score, rmse, skill
from wholesoil.mapping._persist import SavedModel, load_model, save_model
from wholesoil.mapping._regions import circumpolar_region, land_fraction
from wholesoil.mapping._stocks import (
    AUTHALIC_RADIUS_M,
    CellDistribution,
    cell_area,
    cumulative_from_beta,
    layers_from_beta,
    stock_totals,
    stock_totals_from_beta,
)
from wholesoil.mapping._uncertainty import (
    CoulstonInterval,
    Interval,
    MonteCarloInterval,
    coverage_table,
    interval_coverage,
    interval_from_draws,
    quantile_interval,
)
from wholesoil.stats._collinearity import CorrelationFilter, LinearCombosFilter
from wholesoil.stats._grouped_pca import GroupedPCA

__all__ = [
    "AUTHALIC_RADIUS_M",
    "LEARNERS",
    "AreaOfApplicability",
    "CVResult",
    "CellDistribution",
    "CorrelationFilter",
    "CoulstonInterval",
    "CubistRegressor",
    "ForestTuning",
    "GroupedPCA",
    "Interval",
    "LinearCombosFilter",
    "LogTargetRegressor",
    "MARSRegressor",
    "MonteCarloInterval",
    "ProfileKFold",
    "QuantileForest",
    "RandomForest",
    "SavedModel",
    "SpatialBlockKFold",
    "StackedEnsemble",
    "SupportVectorRegressor",
    "ValidationResult",
    "XGBoost",
    "available_learners",
    "bias",
    "cell_area",
    "check_target_variance",
    "circumpolar_region",
    "coverage_table",
    "cross_validate",
    "cumulative_from_beta",
    "depthwise_metrics",
    "feature_matrix",
    "haversine_km",
    "interval_coverage",
    "interval_from_draws",
    "land_fraction",
    "layers_from_beta",
    "load_model",
    "make_learner",
    "partial_dependence_table",
    "permutation_importance_table",
    "predict_grid",
    "quantile_interval",
    "r2_score",
    "require_columns",
    "rmse",
    "save_model",
    "skill",
    "stock_totals",
    "stock_totals_from_beta",
    "stratified_split",
    "target_vector",
    "tune_forest",
    "validate_independent",
]


# Figures live in wholesoil.plots; these names stay importable from here and load it on first use
# (this package never imports matplotlib itself).
_MOVED_TO_PLOTS = ("plot_importance", "plot_partial_dependence")


def __getattr__(name: str) -> object:
    if name in _MOVED_TO_PLOTS:
        import importlib

        return getattr(importlib.import_module("wholesoil.plots"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
