"""Demo stage 3: predict NCSCD pedons' β and layer densities from climate covariates.

MAT and MAP are sampled at each pedon from the bundled 2.5° grids (bilinear). Two models, both
random forests with R's defaults (Wang H. et al. (2025)):

* β per pedon (Wang H. et al. (2025) §2.5) from MAT and MAP, validated by profile k-fold and by 5°
  spatial blocks, explained by permutation importance and partial dependence / ICE
  (Wang H. et al. (2025) Fig. 2), with the held-out coverage of the QRF, Coulston τ and Monte Carlo
  intervals;
* a layer-level model of SOC density per cm with top and bottom depth as predictors
  (Wang G. et al. (2025)), validated by profile-grouped k-fold (never splitting a pedon) with skill
  per depth band (Wang G. et al. (2025) Fig. 1e); its 0–30 cm predictions give each pedon's 0–30 cm
  stock.

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023

Wang, G., Luo, Z., Song, C., et al. (2025). Digging deeper towards accurate mapping of deep soil
organic carbon in grasslands. Science Bulletin. https://doi.org/10.1016/j.scib.2025.06.006
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wholesoil.datasets import climate_at
from wholesoil.mapping import RandomForest, cross_validate, skill
from wholesoil.plots.report import Report
from wholesoil.workflows._train import DEFAULT_BANDS, train_job

CLIMATE_FEATURES = ("mat", "map")
#: Forest size of the demo models: 200 trees instead of R's 500 keeps the demo quick; on these
#: ~500 pedons the CV skill differs from 500 trees in the third decimal.
DEMO_FOREST = {"n_estimators": 200, "n_jobs": -1}
#: Trees per bootstrap forest of the saved Monte Carlo interval models (100 forests,
#: Wang H. et al. (2025)); Wang H. et al. (2025) does not state it, and 50 keeps the demo quick.
INTERVAL_TREES = 50
#: ``--quick``: smaller forests, fewer interval trees and bootstrap forests (same methods).
QUICK_FOREST = {"n_estimators": 60, "n_jobs": -1}
QUICK_INTERVAL_TREES = 30
QUICK_MC_BOOT = 20


def mapping_stage(
    rep: Report,
    out: Path,
    save: Callable[[str, pd.DataFrame], None],
    fits: pd.DataFrame,
    horizons: pd.DataFrame,
    sites: pd.DataFrame,
    *,
    seed: int,
    timings: dict[str, float],
    quick: bool = False,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Run the stage, add its section to ``rep``; returns parameters for run.json and the β
    training table (the β model is saved in ``out/mapping/beta/model``). ``quick`` uses
    :data:`QUICK_FOREST`, :data:`QUICK_INTERVAL_TREES` and fewer bootstrap forests."""
    forest = QUICK_FOREST if quick else DEMO_FOREST
    interval_trees = QUICK_INTERVAL_TREES if quick else INTERVAL_TREES
    mc_boot = QUICK_MC_BOOT if quick else 100
    t0 = time.perf_counter()
    rep.heading("3. Mapping β and layer densities from climate")
    clim = climate_at(sites["lat"], sites["lon"], method="bilinear")
    cov = pd.DataFrame({
        "profile_id": sites["profile_id"].to_numpy(),
        "lat": sites["lat"].to_numpy(float),
        "lon": sites["lon"].to_numpy(float),
        "mat": clim["mat"].to_numpy(float),
        "map": clim["map"].to_numpy(float),
    })
    on_bound = fits["warnings"].fillna("").str.contains("bound")
    use = fits["beta"].notna() & ~on_bound
    beta_tab = fits.loc[use, ["profile_id", "beta"]].merge(cov, on="profile_id", how="left")
    excluded = fits.loc[~use, ["profile_id", "warnings"]].assign(
        reason=np.where(fits.loc[~use, "beta"].isna(), "β not fitted", "β on a bound"))
    save("mapping_beta_excluded", excluded)
    save("mapping_beta_table", beta_tab)
    rep.text(
        f"Covariates: MAT [°C] and MAP [mm yr⁻¹] sampled bilinearly from the bundled 2.5° grids "
        f"at each pedon. β model: {len(beta_tab)} pedons with a fitted β inside its bounds "
        f"({len(excluded)} left out and listed in mapping_beta_excluded.csv). Random forest with "
        "R's defaults (500 trees, mtry = p/3, nodesize 5)."
    )
    mdir = out / "mapping"
    res_beta = train_job(
        beta_tab, "beta", list(CLIMATE_FEATURES), mdir / "beta", groups="profile_id",
        learner="rf", learner_params=forest, n_splits=10, intervals=True, level=0.9,
        interval_trees=interval_trees, interval_models=("montecarlo",), importance_repeats=5,
        units="1", random_state=seed, mc_boot=mc_boot,
    )
    spatial = cross_validate(
        RandomForest(random_state=seed, **forest), beta_tab, "beta", list(CLIMATE_FEATURES),
        groups="profile_id", cv="spatial", n_splits=5, block_size=5.0, random_state=seed,
    )
    kfold_m = pd.read_csv(res_beta.outputs["cv_metrics"]).iloc[0].to_dict()
    cv_rows = pd.DataFrame([
        {"validation": "10-fold by pedon", **{k: kfold_m[k] for k in ("n", "r2", "rmse", "bias")}},
        {"validation": "5-fold spatial blocks (5°)", **spatial.metrics},
    ])
    save("mapping_beta_cv", cv_rows)
    rep.heading("β from climate (Wang H. et al. (2025) §2.5)", level=3)
    rep.table(cv_rows, "Cross-validated skill of the β model: R² (Eq. 4), RMSE (Eq. 5), bias "
              "(mean predicted − observed)")
    rep.text(
        "Spatial blocks hold out whole regions, so their skill is the honest estimate for "
        "mapping unsampled areas; random k-fold over nearby pedons is optimistic when "
        "neighbours share climate."
    )
    imp = pd.read_csv(res_beta.outputs["importance"])
    rep.table(imp, "Permutation importance of the drivers of β on held-out pedons")
    rep.figure(res_beta.outputs["figure_partial_dependence"],
               "Partial dependence (bold) and ICE curves (faint) of β on each driver, after "
               "Wang H. et al. (2025) Fig. 2", relative_to=out)
    cov_tab = pd.read_csv(res_beta.outputs["interval_coverage"])
    save("mapping_interval_coverage", cov_tab)
    rep.table(cov_tab, "Coverage of 90 % intervals on held-out pedons (20 %, by pedon). QRF and "
              "Coulston τ are prediction intervals for a new pedon; the Monte Carlo interval "
              "(Wang H. et al. (2025) §2.7) is a confidence interval of the mean prediction and is "
              "not meant "
              "to cover new observations.")
    timings["mapping_beta"] = time.perf_counter() - t0

    # ---------------------------------------------------------------- layer-level model
    t0 = time.perf_counter()
    lay = horizons[["profile_id", "top", "bottom", "soc_density"]].merge(
        cov, on="profile_id", how="left")
    lay = lay[np.isfinite(lay["soc_density"])].reset_index(drop=True)
    lay["soc_density_per_cm"] = lay["soc_density"] / (lay["bottom"] - lay["top"])
    feats = [*CLIMATE_FEATURES, "top", "bottom"]
    res_lay = train_job(
        lay, "soc_density_per_cm", feats, mdir / "layers", groups="profile_id", learner="rf",
        learner_params=forest, n_splits=10, bands=DEFAULT_BANDS, importance_repeats=5,
        random_state=seed,
    )
    by_depth = pd.read_csv(res_lay.outputs["cv_by_depth"])
    save("mapping_layers_by_depth", by_depth)
    rep.heading("Layer-level SOC density with depth as a predictor "
                "(Wang G. et al. (2025))", level=3)
    rep.text(
        f"{len(lay)} layers of {lay['profile_id'].nunique()} pedons; target SOC density per cm "
        "[Mg C ha⁻¹ cm⁻¹]; predictors MAT, MAP, top and bottom depth; 10-fold CV that keeps all "
        "layers of a pedon in one fold."
    )
    rep.table(by_depth, "Depth-wise skill (Wang G. et al. (2025) Fig. 1e): R², RMSE and bias per "
                        "depth band")
    rep.figure(res_lay.outputs["figure_cv_by_depth"],
               "Cross-validated R² and RMSE by depth band (depth downward)", relative_to=out)
    pred = pd.read_csv(res_lay.outputs["cv_predictions"])
    top30 = (pred["top"] == 0) & (pred["bottom"] == 30)
    s30 = skill(pred.loc[top30, "observed"] * 30.0, pred.loc[top30, "predicted"] * 30.0)
    rep.text(
        f"0–30 cm stock of each pedon from the layer model's out-of-fold predictions: "
        f"R² {s30['r2']:.2f}, RMSE {s30['rmse']:.1f} Mg C ha⁻¹, bias {s30['bias']:.1f} "
        f"(n = {s30['n']})."
    )
    timings["mapping_layers"] = time.perf_counter() - t0
    return {
        "covariates": list(CLIMATE_FEATURES),
        "climate_sampling": "bilinear",
        "beta_cv": cv_rows.to_dict(orient="records"),
        "layers_0_30_stock_skill": s30,
    }, beta_tab
