"""``wholesoil train`` and ``wholesoil predict``: learn a covariate → target model honestly.

train: check the table, optionally tune the forest (Wang H. et al. (2025)), cross-validate with
folds that never split a profile (or spatial blocks), score overall and by depth band
(Wang H. et al. (2025) Eqs. 4–5, Wang G. et al. (2025) Fig. 1e), fit the final model on all rows,
explain it (permutation importance and partial dependence / ICE, Wang H. et al. (2025) Fig. 2),
optionally measure the coverage of every interval type on held-out profiles, and write the model as
a safe model folder (see
:mod:`wholesoil.mapping._persist`), tables, figures and ``run.json``.

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023

Wang, G., Luo, Z., Song, C., et al. (2025). Digging deeper towards accurate mapping of deep soil
organic carbon in grasslands. Science Bulletin. https://doi.org/10.1016/j.scib.2025.06.006

Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from wholesoil._atomic import save_figure
from wholesoil._record import write_run_record
from wholesoil.errors import InputDataError
from wholesoil.io import write_table
from wholesoil.io._headers import COLUMN_UNITS
from wholesoil.mapping._check import feature_matrix, require_columns, target_vector
from wholesoil.mapping._cv import ProfileKFold, _fit_accepts_groups, cross_validate
from wholesoil.mapping._interpret import partial_dependence_table, permutation_importance_table
from wholesoil.mapping._learners import LEARNERS, make_learner, tune_forest
from wholesoil.mapping._persist import load_model, save_model
from wholesoil.plots.mapping import (
    plot_cv_depth,
    plot_cv_observed_predicted,
    plot_importance,
    plot_partial_dependence,
)
from wholesoil.progress import step
from wholesoil.workflows._jobs import JobResult
from wholesoil.workflows._read import read_any_table

#: Depth bands [cm] of the depth-wise skill table: topsoil, subsoil, deep soil
#: (Wang G. et al. (2025)) and the NCSCD's 2–3 m layer.
DEFAULT_BANDS: tuple[tuple[float, float], ...] = ((0, 30), (30, 100), (100, 200), (200, 300))


def _fit(est: Any, X: pd.DataFrame, y: np.ndarray, groups: np.ndarray | None) -> Any:
    if groups is not None and _fit_accepts_groups(est):
        return est.fit(X, y, groups=groups)
    return est.fit(X, y)


def _holdout(n: int, groups: np.ndarray | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One 80/20 split by profile: the first fold of a shuffled 5-fold ProfileKFold."""
    g = groups if groups is not None else np.arange(n)
    train, test = next(ProfileKFold(n_splits=5, shuffle=True, random_state=seed).split(
        np.zeros((n, 1)), groups=g))
    return train, test


def _training_data(data: pd.DataFrame, source: str | None, target: str, features: list[str], *,
                   learner: str, groups: str | None, cv: str, lat: str, lon: str
                   ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None]:
    """Check the table once: learner, target, features, group ids and coordinates."""
    if learner not in LEARNERS:
        raise InputDataError(f"unknown learner; choose one of {list(LEARNERS)}",
                             field="learner", value=learner)
    if target in features:
        raise InputDataError("the target cannot also be a feature", field=target)
    feature_matrix(data, features, source=source)
    y = target_vector(data, target, source=source)
    group_ids: np.ndarray | None = None
    if groups is not None:
        require_columns(data, [groups], source=source, what="group")
        missing = np.flatnonzero(data[groups].isna().to_numpy())
        if missing.size:
            raise InputDataError("expected a profile id on every row", file=source,
                                 row=int(missing[0]) + 2, field=groups)
        group_ids = data[groups].astype(str).to_numpy()
    if cv == "spatial":
        require_columns(data, [lat, lon], source=source, what="coordinate")
    return data[features].astype(float), y, group_ids


def _interpretation(estimator: Any, final: Any, data: pd.DataFrame, target: str,
                    features: list[str], group_ids: np.ndarray | None, *, n_repeats: int,
                    n_splits: int, pd_rows: int, random_state: int, source: str | None,
                    tables: dict[str, pd.DataFrame], figures: dict[str, Any]) -> None:
    """Held-out permutation importance and partial dependence (tables and figures)."""
    # an unfitted estimator is fitted fold by fold (5 folds by profile) and each feature is
    # permuted on the held-out profiles only: importance on training rows flatters noise
    with step("permutation importance (held-out folds)", stage="train-importance"):
        imp = permutation_importance_table(
            clone(estimator), data, target, features, n_repeats=n_repeats,
            random_state=random_state, groups=group_ids, n_splits=min(5, n_splits),
            source=source,
        )
    tables["importance"] = imp
    figures["importance"] = plot_importance(imp)
    pd_data = data if len(data) <= pd_rows else data.sample(pd_rows, random_state=random_state)
    with step("partial dependence", stage="train-partial-dependence"):
        pd_avg, ice = partial_dependence_table(final, pd_data, features,
                                               random_state=random_state, source=source)
    tables["partial_dependence"] = pd_avg
    if ice is not None:
        tables["ice"] = ice
    figures["partial_dependence"] = plot_partial_dependence(pd_avg, ice, observed=data,
                                                            ylabel=target)


def _model_meta(final: Any, data: pd.DataFrame, *, target: str, units: str | None,
                features: list[str], learner: str, groups: str | None,
                group_ids: np.ndarray | None, cv: str, n_splits: int,
                metrics: Mapping[str, Any], source: str | None) -> dict[str, Any]:
    """What ``model.json`` says about the saved model."""
    return {
        "target": target,
        "units": units,
        "features": features,
        "learner": learner,
        "learner_description": LEARNERS[learner].description,
        "params": {k: v for k, v in final.get_params(deep=False).items()
                   if isinstance(v, int | float | str | bool | type(None))},
        "groups": groups,
        "n_rows": len(data),
        "n_groups": None if group_ids is None else len(np.unique(group_ids)),
        "cv": {"scheme": cv, "n_splits": n_splits, **metrics},
        "source": source,
    }


def _cross_validation(estimator: Any, data: pd.DataFrame, target: str, features: list[str], *,
                      groups: str | None, cv: str, n_splits: int, block_size: float,
                      buffer_km: float, lat: str, lon: str, top: str, bottom: str,
                      bands: Sequence[tuple[float, float]] | None, random_state: int,
                      source: str | None, tables: dict[str, pd.DataFrame],
                      figures: dict[str, Any], messages: list[str]) -> Any:
    """Cross-validate (grouped or spatial); its tables, figures (by depth with ``bands``)."""
    with step(f"{cv} cross-validation ({n_splits} folds)", stage="train-cv"):
        res = cross_validate(
            estimator, data, target, features, groups=groups, cv=cv, n_splits=n_splits,
            block_size=block_size, buffer_km=buffer_km, lat=lat, lon=lon,
            top=top, bottom=bottom, random_state=random_state, source=source,
        )
    tables["cv_predictions"] = res.predictions
    tables["cv_metrics"] = pd.DataFrame([res.metrics])
    tables["cv_fold_metrics"] = res.fold_metrics
    figures["cv_observed_predicted"] = plot_cv_observed_predicted(res)
    m = res.metrics
    messages.append(
        f"{cv} CV, {n_splits} folds{' by ' + groups if groups else ''}: "
        f"R² {m['r2']:.3f}, RMSE {m['rmse']:.4g}, bias {m['bias']:.3g} (n = {m['n']})"
    )
    if bands is not None:
        tables["cv_by_depth"] = res.by_depth(bands)
        figures["cv_by_depth"] = plot_cv_depth(res, bands)
    return res


def _interval_models(data: pd.DataFrame, target: str, features: list[str],
                     group_ids: np.ndarray | None, *, depth_columns: list[str], level: float,
                     n_estimators: int, n_boot: int, n_draws: int, kinds: Sequence[str],
                     random_state: int, tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Held-out interval coverage (a table), then the interval models fitted on all rows."""
    train_idx, test_idx = _holdout(len(data), group_ids, random_state)
    with step("interval coverage on held-out profiles", stage="train-interval-coverage"):
        tables["interval_coverage"] = interval_coverage_on_holdout(
            data, target, features, train_idx, test_idx, group_ids=group_ids, level=level,
            depth_columns=depth_columns, random_state=random_state,
        )
    with step("interval models for mapping", stage="train-interval-models"):
        return fit_interval_models(
            data, target, features, group_ids=group_ids, level=level,
            depth_columns=depth_columns, n_estimators=n_estimators, n_boot=n_boot,
            n_draws=n_draws, kinds=kinds, random_state=random_state,
        )


def _tune(learner: str, X: pd.DataFrame, y: np.ndarray, group_ids: np.ndarray | None,
          random_state: int, tables: dict[str, pd.DataFrame], messages: list[str]
          ) -> dict[str, Any]:
    """Bootstrap tuning of mtry and ntree (rf and qrf); the best parameters."""
    if learner not in ("rf", "qrf"):
        raise InputDataError("tuning of mtry and ntree applies to rf and qrf only",
                             field="learner", value=learner)
    with step("tuning mtry and ntree (bootstrap)", stage="train-tune"):
        tuning = tune_forest(X, y, groups=group_ids, random_state=random_state)
    tables["tuning"] = tuning.table
    messages.append(f"tuned by bootstrap (Wang H. et al. (2025)): {tuning.best_params}")
    return dict(tuning.best_params)


def train_job(
    table: str | Path | pd.DataFrame,
    target: str,
    features: Sequence[str],
    out: str | Path,
    *,
    groups: str | None = None,
    learner: str = "rf",
    learner_params: Mapping[str, Any] | None = None,
    cv: str = "kfold",
    n_splits: int = 10,
    block_size: float = 5.0,
    buffer_km: float = 0.0,
    lat: str = "lat",
    lon: str = "lon",
    top: str = "top",
    bottom: str = "bottom",
    bands: Sequence[tuple[float, float]] = DEFAULT_BANDS,
    tune: bool = False,
    intervals: bool = False,
    level: float = 0.9,
    importance_repeats: int = 10,
    pd_rows: int = 1000,
    interval_trees: int = 100,
    mc_boot: int = 100,
    mc_draws: int = 1000,
    interval_models: Sequence[str] = ("coulston", "montecarlo"),
    units: str | None = None,
    random_state: int = 0,
    column_map: Mapping[str, str] | None = None,
    input_units: Mapping[str, str] | None = None,
) -> JobResult:
    """Cross-validate, fit, explain and save a model predicting ``target`` from ``features``.

    Parameters
    ----------
    table : path or DataFrame
        One row per observation (a profile, or a layer with ``top``/``bottom`` as predictors
        for Wang G. et al.'s (2025) layer-level models).
    target, features : str, list of str
        Column to predict and its predictors.
    out : path
        Output folder: ``model/`` (model.skops + model.json), ``tables/``, ``figures/``,
        ``run.json``.
    groups : str, optional
        Profile id column: all rows of a profile stay in one fold and in one bootstrap draw.
    learner : {"rf", "qrf", "xgb", "svm", "cubist", "mars", "ensemble"}
    cv : {"kfold", "spatial"}
        Profile-grouped k-fold, or spatial blocks of ``block_size`` degrees (``lat``/``lon``
        columns) with an optional ``buffer_km`` exclusion zone.
    tune : bool
        Tune mtry and ntree by bootstrap (Wang H. et al. (2025); rf and qrf only).
    intervals : bool
        Measure the held-out coverage of the QRF, Coulston τ (Wang G. et al. (manuscript) Eqs. 9–10)
        and Monte Carlo (Wang H. et al. (2025) §2.7) intervals at ``level`` on one 80/20 split by
        profile, then fit the Coulston and Monte Carlo interval models on all rows and save them in
        ``model/intervals/coulston`` and ``model/intervals/montecarlo`` for mapping
        (``wholesoil predict MODEL GRID --intervals coulston,montecarlo``).
    interval_trees, mc_boot, mc_draws : int
        Trees per forest of the saved interval models, bootstrap forests and draws of the Monte
        Carlo interval (Wang H. et al. (2025) §2.7: 100 bootstraps, 1,000 draws).
    interval_models : sequence of {"coulston", "montecarlo"}
        Which interval models ``intervals`` fits on all rows and saves.
    units : str, optional
        Units of the target (e.g. "Mg C ha-1"), kept in model.json and carried into the maps.
    pd_rows : int
        Partial dependence averages over a random sample of at most this many rows (all rows
        when fewer): its cost grows with rows × grid points.
    column_map, input_units : mapping, optional
        The table's columns read under other names (``{name in the file: name}``) and converted
        from units (``{column: unit}``), as :func:`~wholesoil.workflows._read.read_any_table`
        does; ``target``, ``features``, ``groups``, ``lat``, ``lon``, ``top`` and ``bottom`` may
        name a column by either name. A converted target's unit is its canonical one.
    """
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    out = Path(out)
    data, source = read_any_table(table, column_map=column_map, units=input_units)
    names = {k: v for k, v in (column_map or {}).items() if k != v}

    def new(name: str) -> str:
        return names.get(name, name)

    target, lat, lon, top, bottom = new(target), new(lat), new(lon), new(top), new(bottom)
    groups = None if groups is None else new(groups)
    features = [new(f) for f in features]
    if units is None and target in {names.get(k, k) for k in (input_units or {})}:
        units = COLUMN_UNITS.get(target)
    X, y, group_ids = _training_data(data, source, target, features, learner=learner,
                                     groups=groups, cv=cv, lat=lat, lon=lon)

    params = dict(learner_params or {})
    messages: list[str] = []
    outputs: dict[str, Path] = {}
    tables: dict[str, pd.DataFrame] = {}
    if tune:
        t0 = time.perf_counter()
        params.update(_tune(learner, X, y, group_ids, random_state, tables, messages))
        timings["tune"] = time.perf_counter() - t0
    estimator = make_learner(learner, random_state=random_state, **params)

    # ------------------------------------------------------------------ cross-validation
    t0 = time.perf_counter()
    has_depth = top in data.columns and bottom in data.columns
    figures: dict[str, Any] = {}
    res = _cross_validation(
        estimator, data, target, features, groups=groups, cv=cv, n_splits=n_splits,
        block_size=block_size, buffer_km=buffer_km, lat=lat, lon=lon, top=top, bottom=bottom,
        bands=bands if has_depth else None, random_state=random_state, source=source,
        tables=tables, figures=figures, messages=messages)
    timings["cross_validation"] = time.perf_counter() - t0

    # ------------------------------------------------------------------ final model
    t0 = time.perf_counter()
    with step("final fit on all rows", stage="train-fit"):
        final = _fit(clone(estimator), X, y, group_ids)
    timings["fit"] = time.perf_counter() - t0

    # ------------------------------------------------------------------ interpretation
    t0 = time.perf_counter()
    _interpretation(estimator, final, data, target, features, group_ids,
                    n_repeats=importance_repeats, n_splits=n_splits, pd_rows=pd_rows,
                    random_state=random_state, source=source, tables=tables, figures=figures)
    timings["interpretation"] = time.perf_counter() - t0

    # ------------------------------------------------------------------ intervals
    if intervals:
        t0 = time.perf_counter()
        saved = _interval_models(
            data, target, features, group_ids, depth_columns=[c for c in (top, bottom)
                                                              if c in features],
            level=level, n_estimators=interval_trees, n_boot=mc_boot, n_draws=mc_draws,
            kinds=interval_models, random_state=random_state, tables=tables)
        timings["intervals"] = time.perf_counter() - t0

    # ------------------------------------------------------------------ write
    for name, tab in tables.items():
        outputs[name] = write_table(tab, out / "tables" / f"{name}.csv")
    for name, fig in figures.items():
        outputs[f"figure_{name}"] = save_figure(fig, out / "figures" / f"{name}.png")
    meta = _model_meta(final, data, target=target, units=units, features=features,
                       learner=learner, groups=groups, group_ids=group_ids, cv=cv,
                       n_splits=n_splits, metrics=res.metrics, source=source)
    outputs["model"] = save_model(final, out / "model", **meta)
    if intervals:
        for kind, est in saved.items():
            outputs[f"interval_{kind}"] = save_model(
                est, out / "model" / "intervals" / kind, **meta, interval=kind, level=level)
    timings["total"] = time.perf_counter() - t_start
    outputs["run"] = write_run_record(
        out, command="wholesoil train", seed=random_state,
        inputs={"table": source or "<DataFrame>"},
        options={
            "target": target, "features": features, "groups": groups, "learner": learner,
            "learner_params": params, "cv": cv, "n_splits": n_splits,
            "block_size_deg": block_size, "buffer_km": buffer_km, "bands": [list(b) for b in bands],
            "tune": tune, "intervals": intervals, "level": level,
            "importance_repeats": importance_repeats, "pd_rows": pd_rows,
            "interval_trees": interval_trees, "mc_boot": mc_boot, "mc_draws": mc_draws,
        },
        extra={"cv_metrics": res.metrics}, timings=timings, outputs=outputs)
    return JobResult(res.predictions, outputs, None, messages)


def interval_coverage_on_holdout(
    data: pd.DataFrame,
    target: str,
    features: Sequence[str],
    train_idx: np.ndarray,
    test_idx: np.ndarray,
    *,
    group_ids: np.ndarray | None = None,
    level: float = 0.9,
    depth_columns: Sequence[str] = (),
    n_estimators: int = 100,
    n_boot: int = 10,
    n_draws: int = 200,
    random_state: int = 0,
) -> pd.DataFrame:
    """Fit every interval method on ``train_idx`` and measure coverage on ``test_idx``.

    QRF quantiles and the Coulston τ interval claim to cover new observations (prediction
    intervals); the Wang H. et al. (2025) Monte Carlo interval is a confidence interval of the mean
    prediction under input and model uncertainty, so its coverage of new observations is
    expected to be below ``level`` — the table says which is which.
    """
    from wholesoil.mapping._learners import QuantileForest, RandomForest
    from wholesoil.mapping._uncertainty import (
        CoulstonInterval,
        MonteCarloInterval,
        coverage_table,
        quantile_interval,
    )

    X = data[list(features)].astype(float)
    y = data[target].to_numpy(float)
    Xtr, Xte, ytr = X.iloc[train_idx], X.iloc[test_idx], y[train_idx]
    gtr = None if group_ids is None else group_ids[train_idx]
    qrf = QuantileForest(n_estimators=n_estimators, random_state=random_state).fit(Xtr, ytr)
    forest = RandomForest(n_estimators=n_estimators, random_state=random_state)
    coul = CoulstonInterval(forest=forest, n_boot=n_boot, level=level,
                            random_state=random_state).fit(Xtr, ytr, groups=gtr)
    perturb = [f for f in features if f not in set(depth_columns)]
    mc = MonteCarloInterval(forest=forest, n_draws=n_draws, n_boot=n_boot, level=level,
                            perturb=perturb, random_state=random_state).fit(Xtr, ytr, groups=gtr)
    intervals = {
        "qrf": quantile_interval(qrf, Xte, level=level),
        "coulston": coul.predict_interval(Xte),
        "monte_carlo": mc.predict_interval(Xte),
    }
    return coverage_table(intervals, y[test_idx])


def fit_interval_models(
    data: pd.DataFrame,
    target: str,
    features: Sequence[str],
    *,
    group_ids: np.ndarray | None = None,
    level: float = 0.9,
    depth_columns: Sequence[str] = (),
    n_estimators: int = 100,
    n_boot: int = 100,
    n_draws: int = 1000,
    kinds: Sequence[str] = ("coulston", "montecarlo"),
    random_state: int = 0,
) -> dict[str, Any]:
    """Coulston τ (Wang G. et al. (manuscript) Eqs. 9–10) and Monte Carlo (Wang H. et al. (2025)
    §2.7) interval models on all rows.

    Returns ``{"coulston": CoulstonInterval, "montecarlo": MonteCarloInterval}``, fitted; the
    depth columns (``top``/``bottom``) are not perturbed by the Monte Carlo draws.
    """
    from wholesoil.mapping._learners import RandomForest
    from wholesoil.mapping._uncertainty import CoulstonInterval, MonteCarloInterval

    X = data[list(features)].astype(float)
    y = data[target].to_numpy(float)
    unknown = sorted(set(kinds) - {"coulston", "montecarlo"})
    if unknown:
        raise InputDataError("interval models are 'coulston' and 'montecarlo'",
                             field="interval_models", value=unknown)
    forest = RandomForest(n_estimators=n_estimators, random_state=random_state)
    out: dict[str, Any] = {}
    if "coulston" in kinds:
        out["coulston"] = CoulstonInterval(
            forest=forest, n_boot=n_boot, level=level, random_state=random_state
        ).fit(X, y, groups=group_ids)
    if "montecarlo" in kinds:
        perturb = [f for f in features if f not in set(depth_columns)]
        out["montecarlo"] = MonteCarloInterval(
            forest=forest, n_draws=n_draws, n_boot=n_boot, level=level, perturb=perturb,
            random_state=random_state,
        ).fit(X, y, groups=group_ids)
    return out


def predict_job(
    model: str | Path,
    table: str | Path | pd.DataFrame,
    output: str | Path,
    *,
    keep: Sequence[str] = (),
    quantiles: Sequence[float] = (),
    column_map: Mapping[str, str] | None = None,
    input_units: Mapping[str, str] | None = None,
) -> JobResult:
    """Predict with a saved model folder; write ``keep`` columns plus ``<target>_pred``.

    ``quantiles`` (e.g. 0.05, 0.5, 0.95) add ``<target>_Q0.05`` … columns for models that
    predict quantiles (qrf). ``column_map`` and ``input_units`` read the table's columns under
    the model's feature names and units (:func:`~wholesoil.workflows._read.read_any_table`).
    """
    saved = load_model(model)
    data, source = read_any_table(table, column_map=column_map, units=input_units)
    names = {k: v for k, v in (column_map or {}).items() if k != v}
    keep = [names.get(k, k) for k in keep]
    feats = saved.features
    feature_matrix(data, feats, source=source)
    require_columns(data, list(keep), source=source, what="kept")
    est = saved.estimator
    name = saved.target or "target"
    result = data[list(keep)].copy()
    X = data[feats].astype(float)
    result[f"{name}_pred"] = est.predict(X)
    if quantiles:
        if not hasattr(est, "predict_quantiles"):
            raise InputDataError(
                "this model does not predict quantiles; train it with --learner qrf",
                file=str(model), field="quantiles", value=list(quantiles),
            )
        q = est.predict_quantiles(X, quantiles=tuple(quantiles))
        for j, qq in enumerate(quantiles):
            result[f"{name}_Q{qq:g}"] = q[:, j]
    path = write_table(result, output)
    return JobResult(result, {"predictions": path}, None,
                     [f"predicted {len(result)} rows with {saved.meta.get('learner')}"])
