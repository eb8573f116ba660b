"""``wholesoil reproduce proda-convergence``: PRODA on real profiles, two model structures.

Reproduces the analysis of Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S.,
Ahrens, B., Mishra, U., Jiang, L., Huang, X. and Luo, Y., *Convergence in simulating global soil
organic carbon by structurally different models after data assimilation*, EarthArXiv preprint
(not peer reviewed), on the toolkit's bundled data:

1. **Profiles** — every ISRaD profile (:func:`wholesoil.datasets.load_israd`) and every NCSCD
   pedon (:func:`wholesoil.datasets.load_ncscd`) with SOC density per layer, filtered as the
   paper's §2.1 (≥ 3 layers, deeper than 50 cm). ISRaD layer density: ISRaD's
   ``soc_density_filled`` where given, else 0.1 · SOC [g kg⁻¹] · BD [g cm⁻³] · thickness [cm] ·
   (1 − coarse/100) from measured values, or ISRaD's filled ones where measured are missing (the
   source of every layer is in ``tables/profiles_layers_source.csv``). Organic layers above the
   mineral surface (negative depths) are left out: the models' grid starts at the mineral
   surface. Every profile not calibrated is listed with its reason.
2. **Per-profile calibration** of CLM5 and COMPAS in mode ``"proda"`` (PRODA's costs, weights,
   annealed acceptance, step rules, acceptance band and validity rules;
   :func:`wholesoil.assimilation.calibrate`), 3 chains × (20,000 + 50,000) iterations (quick:
   fewer), in cached batches so that a killed run resumes. Kept profiles: mean R̂ ≤ 1.05 and
   NSE ≥ 0. Forcing: the documented climate rule
   (:func:`wholesoil.models.forcing_from_climate`) from each profile's MAT and MAP (ISRaD: CRU TS
   3.23 values of the database, else the reported ones; NCSCD: the bundled 2.5° grid).
3. **Network on real covariates** — the ~45 profile covariates of the ISRaD table (WorldClim
   BIO1–19, SoilGrids by depth, CRU MAT/MAP, PET, soil moisture, Köppen–Geiger, MODIS land
   cover, USDA order); 10-fold cross-validation grouped by site; per-parameter R² and the NSE of
   the SOC profiles simulated with the network's parameters on held-out profiles (the paper's
   validation), beside the per-profile calibration's.
4. **Global** — a second network on the covariates that exist as global grids in the toolkit
   (MAT and MAP of the bundled 2.5° climate) predicts parameter maps; both models run over the
   land cells with default and with PRODA parameters: SOC to 1 m in Pg C, the correlation of
   log SOC between the models, the six component maps and their correlations (Fig. 4),
   K_m over substrate (Fig. 5) and the litter-to-mineral transfer ratio (Supplementary Fig. 3).
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import pandas as pd

from wholesoil.reproduce._common import Reproduction

#: The paper's numbers (written beside ours, never used by the computation).
PAPER: dict[str, Any] = {
    "profiles_clm5": 62931,
    "profiles_compas": 57267,
    "soc_1m_pg_default_clm5": 1281,
    "soc_1m_pg_default_compas": 1308,
    "soc_1m_pg_proda_clm5": 1469,
    "soc_1m_pg_proda_compas": 1507,
    "r_log_soc_default": -0.026,
    "r_log_soc_proda": 0.51,
    "r_transfer_efficiency": 0.52,
    "r_baseline_decomposition": 0.55,
    "r_environmental_modifier": 0.80,
}

#: Protocol of a full run (the paper's) and of ``--quick``.
FULL = {"test_iterations": 20_000, "formal_iterations": 50_000, "adapt_start": 4_000,
        "thin": 10, "batch": 128, "n_israd": None, "n_ncscd": None,
        "network": {"max_epochs": 6000, "patience": 1200, "n_members": 1}}
QUICK = {"test_iterations": 600, "formal_iterations": 1500, "adapt_start": 300,
         "thin": 5, "batch": 24, "n_israd": 20, "n_ncscd": 4,
         "network": {"max_epochs": 60, "patience": 15, "n_members": 1,
                     "hidden": (64, 64)}}

#: Fewer kept profiles than this (short quick chains rarely reach R̂ ≤ 1.05): the networks are
#: trained on the calibrated profiles with NSE ≥ 0, the R̂ filter waived, and the rows say so.
MIN_TRAIN = 12

#: Categorical ISRaD covariates, one-hot encoded for the network.
CATEGORICAL = ("pro_KG_present_short", "pro_landCover_0.5_deg_MODISreclass1",
               "pro_0.5_USDA_soilorder")
#: Covariates of the global network: the bundled 2.5° climate grid.
GRID_COVARIATES = ("mat", "map")
#: Particle density of mineral soil [g cm⁻³], the bound no bulk density reaches (quartz; e.g.
#: Brady & Weil, *The Nature and Properties of Soils*): an ISRaD stock that needs a larger bulk
#: density at its layer's organic C is not a stock of that layer.
PARTICLE_DENSITY = 2.65
#: Grid cells south of this latitude (Antarctica) are not simulated [degrees N].
ANTARCTIC_LAT = -60.0


def cwd_rule(ecosystem: pd.Series, mat: np.ndarray, map_: np.ndarray, lat: np.ndarray
             ) -> np.ndarray:
    """Share of NPP entering as CWD per profile: :data:`~wholesoil.models.CWD_FRACTION_FOREST`
    where the recorded ecosystem names a forest or taiga, 0 where it names anything else, and
    where no ecosystem is recorded, Holdridge's life zones of the profile's climate
    (:func:`wholesoil.models.holdridge_forest`, the rule the global grid uses)."""
    from wholesoil.models import CWD_FRACTION_FOREST, cwd_from_climate

    e = ecosystem.astype("string").str.lower()
    labelled = e.notna().to_numpy(dtype=bool)
    forest = e.fillna("").str.contains("forest|taiga").to_numpy(dtype=bool)
    t, p, la = (np.asarray(a, float) for a in (mat, map_, lat))
    ok = np.isfinite(t) & np.isfinite(p) & np.isfinite(la)  # others fail the profile filters
    by_climate = np.zeros(t.shape)
    by_climate[ok] = cwd_from_climate(t[ok], p[ok], lat=la[ok])
    return np.where(labelled, np.where(forest, CWD_FRACTION_FOREST, 0.0), by_climate)


# ------------------------------------------------------------------------------ profiles


def israd_covariate_names(sites: pd.DataFrame) -> list[str]:
    """The profile covariates of the ISRaD table (``pro_*`` environmental columns)."""
    keys = ("_WC2.1", "_SG", "pro_PET_mmyr", "pro_soilMoist_mm_TC", "_CRUTSv323",
            *CATEGORICAL)
    return [c for c in sites.columns if c.startswith("pro_") and any(k in c for k in keys)]


def israd_layers(ps: Any) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """ISRaD layers with SOC density [Mg C ha⁻¹], sites with climate, and dropped profiles."""
    h = ps.horizons
    s = ps.sites
    top = pd.to_numeric(h["top"], errors="coerce")
    bot = pd.to_numeric(h["bottom"], errors="coerce")
    thick = bot - top

    def num(c: str) -> pd.Series:
        return pd.to_numeric(h[c], errors="coerce") if c in h else pd.Series(np.nan, h.index)

    soc = num("soc").where(num("soc") > 0, num("soc_filled"))
    bd = num("bd").where(num("bd") > 0, num("bd_filled"))
    coarse = num("coarse_tot").fillna(num("coarse_tot_filled")).fillna(0.0).clip(0, 100)
    computed = 0.1 * soc * bd * thick * (1 - coarse / 100.0)
    filled = num("soc_density_filled")
    # ISRaD's stock of a layer with a known organic C concentration fixes the bulk density it
    # implies; above the particle density of mineral soil no soil can have it (ISRaD entry
    # Finstad_2020 stores stocks 100 times too high: Mg C ha⁻¹ entered as g C cm⁻²)
    with np.errstate(divide="ignore", invalid="ignore"):
        implied_bd = filled / (0.1 * soc * thick * (1 - coarse / 100.0))
    impossible = (filled > 0) & (soc > 0) & (thick > 0) & (implied_bd > PARTICLE_DENSITY)
    dens = filled.where(filled > 0, computed)
    src = np.where(filled > 0, "ISRaD soc_density_filled",
                   np.where(computed > 0, np.where(num("soc") > 0, "SOC measured", "SOC filled")
                            + " × " + np.where(num("bd") > 0, "BD measured", "BD filled"), ""))
    lay = pd.DataFrame({"profile_id": h["profile_id"].astype(str), "top": top, "bottom": bot,
                        "soc_density": dens, "source": src})
    mineral = (lay["top"] >= 0) & (lay["bottom"] > lay["top"])
    bad_ids = lay.loc[impossible.to_numpy(), "profile_id"]
    ok = (mineral & (lay["soc_density"] > 0) & np.isfinite(lay["soc_density"])
          & ~lay["profile_id"].isin(set(bad_ids)))
    all_ids = s["profile_id"].astype(str)
    has = set(lay.loc[ok, "profile_id"])
    first_bad = {}
    for i in np.flatnonzero(impossible.to_numpy()):
        pid = lay["profile_id"].iloc[i]
        if pid not in first_bad:
            first_bad[pid] = (
                f"ISRaD's SOC stock of layer {lay['top'].iloc[i]:g}–{lay['bottom'].iloc[i]:g} cm "
                f"(lyr_soc_filled, {filled.iloc[i]:.4g} Mg C ha⁻¹) needs a bulk density of "
                f"{implied_bd.iloc[i]:.3g} g cm⁻³ at its organic C ({soc.iloc[i]:.4g} g kg⁻¹), "
                f"above the particle density of mineral soil ({PARTICLE_DENSITY} g cm⁻³): the "
                "profile's stocks are left out (likely entered in other units)")
    dropped = pd.DataFrame({"profile_id": [i for i in all_ids if i not in has]})
    dropped["reason"] = [first_bad.get(i, "no mineral layer with SOC density (measured or "
                                          "filled SOC and BD)") for i in dropped["profile_id"]]
    sites = s.assign(profile_id=all_ids)
    mat = pd.to_numeric(sites.get("pro_MAT_CRUTSv323"), errors="coerce")
    mp = pd.to_numeric(sites.get("pro_MAP_CRUTSv323"), errors="coerce")
    sites["mat_source"] = np.where(mat.notna(), "CRU TS 3.23 (ISRaD pro_MAT_CRUTSv323)",
                                   "reported (ISRaD pro_MAT)")
    sites["mat"] = mat.fillna(pd.to_numeric(sites["mat"], errors="coerce"))
    sites["map"] = mp.fillna(pd.to_numeric(sites["map"], errors="coerce"))
    sites["site_key"] = (sites["entry"].astype(str) + "|" + sites["site_name"].astype(str)
                         if "site_name" in sites else sites["profile_id"])
    sites["database"] = "ISRaD"
    return lay[ok].reset_index(drop=True), sites, dropped


def ncscd_layers(ps: Any, climate: Any) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """NCSCD pedon layers [Mg C ha⁻¹] and sites with the bundled grid's MAT/MAP."""
    from wholesoil.assimilation.proda._covariates import sample_grid

    h = ps.horizons
    lay = pd.DataFrame({"profile_id": h["profile_id"].astype(str),
                        "top": pd.to_numeric(h["top"], errors="coerce"),
                        "bottom": pd.to_numeric(h["bottom"], errors="coerce"),
                        "soc_density": pd.to_numeric(h["soc_density"], errors="coerce"),
                        "source": "NCSCD pedon layer stock"})
    ok = (lay["top"] >= 0) & (lay["bottom"] > lay["top"]) & (lay["soc_density"] > 0)
    s = ps.sites.assign(profile_id=ps.sites["profile_id"].astype(str))
    xy = sample_grid(climate, s["lat"].to_numpy(float), s["lon"].to_numpy(float),
                     GRID_COVARIATES, source="bundled climate grid")
    s["mat"], s["map"] = xy[:, 0], xy[:, 1]
    s["mat_source"] = "bundled 2.5° climate grid (NCEP R1 MAT, CMAP MAP)"
    s["site_key"] = s["profile_id"]
    s["database"] = "NCSCD"
    has = set(lay.loc[ok, "profile_id"])
    dropped = pd.DataFrame({"profile_id": [i for i in s["profile_id"] if i not in has]})
    dropped["reason"] = "no layer with SOC density"
    return lay[ok].reset_index(drop=True), s, dropped


# ------------------------------------------------------------------------------ calibration


def _calibrate_batch(model: str, data: Any, settings: dict[str, Any], seed: int
                     ) -> dict[str, pd.DataFrame]:
    from wholesoil.assimilation import calibrate

    res = calibrate(data, model, mode="proda", n_chains=3,
                    test_iterations=settings["test_iterations"],
                    formal_iterations=settings["formal_iterations"],
                    adapt_start=settings["adapt_start"], thin=settings["thin"], seed=seed,
                    max_predictive=50)
    prof = res.profiles[res.profiles["calibrated"].astype(bool)].copy()
    return {"parameters": res.parameters, "profiles": prof, "predictive": res.predictive}


def _batches(ctx: Reproduction, model: str, data: Any, settings: dict[str, Any]
             ) -> list[tuple[str, np.ndarray, dict[str, Any], int]]:
    """(cache step, profile indices, cache key, seed) of every calibration batch of a model."""
    from wholesoil.assimilation._runner import batch_seed

    b = int(settings["batch"])
    protocol = {kk: v for kk, v in settings.items() if kk != "network"}
    out = []
    for k in range(-(-data.n_profiles // b)):
        idx = np.arange(k * b, min((k + 1) * b, data.n_profiles))
        key = {"model": model, "ids": [str(i) for i in data.profile_id[idx]],
               "settings": protocol}
        out.append((f"calibrate-{model}-{k:05d}", idx, key, batch_seed(ctx.seed, k)))
    return out


def _calibrate_job(model: str, data: Any, settings: dict[str, Any], seed: int
                   ) -> dict[str, pd.DataFrame]:
    """One batch in a worker process (one BLAS thread: the workers are the parallelism)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return _calibrate_batch(model, data, settings, seed)


def calibrate_parallel(ctx: Reproduction, data: Any, settings: dict[str, Any],
                       workers: int) -> None:
    """Calibrate the batches of both models not yet cached on ``workers`` processes, caching
    each as it finishes (a killed run resumes; the results equal a one-process run's, since a
    batch's seed depends on the run seed and its index only)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    todo = [(model, *job) for model in ("clm5", "compas")
            for job in _batches(ctx, model, data, settings) if not ctx.is_cached(job[0],
                                                                                 **job[2])]
    if not todo:
        return
    t = time.perf_counter()
    with ProcessPoolExecutor(max_workers=min(workers, len(todo)),
                             mp_context=mp.get_context("spawn")) as pool:
        futures = {pool.submit(_calibrate_job, model, data.subset(idx), settings, seed):
                   (step, key) for model, step, idx, key, seed in todo}
        for n_done, fut in enumerate(as_completed(futures), 1):
            step, key = futures[fut]
            result = fut.result()
            ctx.cached(step, lambda result=result: result, **key)
            print(f"  {step}: done ({n_done}/{len(todo)}, {time.perf_counter() - t:.0f} s)",
                  flush=True)


def calibrate_all(ctx: Reproduction, model: str, data: Any, settings: dict[str, Any]
                  ) -> dict[str, pd.DataFrame]:
    """Calibrate every profile of ``data`` in cached batches (a killed run resumes)."""
    parts: dict[str, list[pd.DataFrame]] = {"parameters": [], "profiles": [], "predictive": []}
    jobs = _batches(ctx, model, data, settings)
    n_batches = len(jobs)
    for k, (step, idx, key, seed) in enumerate(jobs):
        t = time.perf_counter()
        out = ctx.cached(step, lambda idx=idx, seed=seed: _calibrate_batch(
            model, data.subset(idx), settings, seed), **key)
        print(f"  {model}: batch {k + 1}/{n_batches} ({idx.size} profiles) "
              f"{time.perf_counter() - t:.1f} s", flush=True)
        for name in parts:
            parts[name].append(out[name])
    return {n: pd.concat(v, ignore_index=True) for n, v in parts.items()}


# ------------------------------------------------------------------------------ network


def covariate_matrix(sites: pd.DataFrame, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Numeric matrix of the covariates; categoricals one-hot; NaN kept (imputed per fold)."""
    cols, out = [], []
    for c in names:
        v = sites[c]
        if c in CATEGORICAL or v.dtype == object:
            d = pd.get_dummies(v.astype("string"), prefix=c, dtype=float)
            d[v.isna().to_numpy()] = np.nan
            cols.extend(d.columns)
            out.append(d.to_numpy(float))
        else:
            cols.append(c)
            out.append(pd.to_numeric(v, errors="coerce").to_numpy(float)[:, None])
    return np.concatenate(out, axis=1), cols


def _impute(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    import warnings

    with warnings.catch_warnings():  # a covariate with no value in the fold: filled with 0
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(np.where(np.isfinite(train), train, np.nan), axis=0)
    med = np.where(np.isfinite(med), med, 0.0)
    return [np.where(np.isfinite(a), a, med) for a in (train, *others)]


def _network(model: str, seed: int, settings: dict[str, Any]) -> Any:
    from wholesoil.assimilation import ParameterSpace
    from wholesoil.assimilation.proda import ParameterNetwork

    sp = ParameterSpace.from_clm5() if model == "clm5" else ParameterSpace.from_compas()
    return ParameterNetwork(sp, seed=seed, device="cpu", **{"loss": "ratio_mse", **settings})


def _unit_targets(model: str, cal: dict[str, pd.DataFrame], ids: np.ndarray) -> np.ndarray:
    from wholesoil.assimilation import ParameterSpace

    sp = ParameterSpace.from_clm5() if model == "clm5" else ParameterSpace.from_compas()
    wide = cal["parameters"].pivot(index="profile_id", columns="parameter", values="mean")
    wide.index = wide.index.astype(str)
    theta = wide.loc[[str(i) for i in ids], list(sp.names)].to_numpy(float)
    return np.clip(sp.to_unit(theta), 0.0, 1.0)


def cross_validate(model: str, data: Any, kept: np.ndarray, sites: pd.DataFrame,
                   cal: dict[str, pd.DataFrame], settings: dict[str, Any], seed: int
                   ) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """10-fold CV grouped by site: per-parameter R² and held-out NSE of simulated profiles."""
    from sklearn.model_selection import GroupKFold

    from wholesoil.assimilation import make_log_target
    from wholesoil.assimilation._costs import nse

    ids = data.profile_id[kept]
    st = sites.set_index("profile_id").loc[[str(i) for i in ids]]
    names = israd_covariate_names(sites)
    X, cols = covariate_matrix(st.reset_index(), names)
    U = _unit_targets(model, cal, ids)
    groups = st["site_key"].to_numpy()
    k = int(min(10, len(np.unique(groups))))
    pred = np.full_like(U, np.nan)
    held = np.full(ids.size, np.nan)
    fold_of = np.full(ids.size, -1)
    for f, (tr, te) in enumerate(GroupKFold(n_splits=k).split(X, U, groups)):
        xtr, xte = _impute(X[tr], X[te])
        keep_c = np.nanstd(xtr, axis=0) > 0
        net = _network(model, seed + f, settings["network"]).fit(
            xtr[:, keep_c], U[tr], covariate_names=[c for c, k_ in zip(cols, keep_c,
                                                                        strict=True) if k_])
        u = net.predict_unit(xte[:, keep_c]).mean(axis=0)
        pred[te] = u
        fold_of[te] = f
        sub = data.subset(kept[te])
        fit, _ = make_log_target(model, sub).predict(u[:, None, :])
        thick = sub.thickness_m
        held[te] = nse(fit[:, 0] / thick, sub.soc / thick)
    ss_res = np.nansum((U - pred) ** 2, axis=0)
    ss_tot = np.nansum((U - U.mean(axis=0)) ** 2, axis=0)
    from wholesoil.assimilation import ParameterSpace

    sp = ParameterSpace.from_clm5() if model == "clm5" else ParameterSpace.from_compas()
    r2 = pd.DataFrame({"model": model, "parameter": sp.names,
                       "r2": np.where(ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1),
                                      np.nan)})
    per = pd.DataFrame({"model": model, "profile_id": ids.astype(str), "fold": fold_of,
                        "nse_heldout_network": held})
    return r2, per, k


# ------------------------------------------------------------------------------ global


def _land(climate: Any, quick: bool) -> Any:
    from wholesoil.mapping._regions import land_fraction

    frac = land_fraction(climate, samples=3 if quick else 10)
    lat = climate["y"].broadcast_like(climate["mat"])
    return frac.where(lat > ANTARCTIC_LAT, 0.0)


def global_totals(maps: dict[str, Any], area: Any, frac: Any) -> tuple[float, int, float]:
    """Σ SOC 0–100 cm [kg C m⁻²] × cell area × land fraction, in Pg C, over the land cells
    with a value; and how many land cells have none (no climate data, or no valid steady
    state) with their share of the land area — they are not counted, and the row says so."""
    v = maps["soc_0_100"].transpose("y", "x").values
    w = (area * frac).transpose("y", "x").values
    missing = (w > 0) & ~np.isfinite(v)
    share = float(w[missing].sum() / w[w > 0].sum()) if (w > 0).any() else 0.0
    return float(np.nansum(v * w) / 1e12), int(missing.sum()), share


#: A unit coordinate this close to 0 or 1 counts as at the prior's bound.
BOUND_TOL = 0.02


def prior_bound_table(model: str, net: Any, u_train: np.ndarray, pm: Any,
                      inside: np.ndarray) -> pd.DataFrame:
    """Per parameter: the share of the training targets (posterior means, unit coordinates)
    and of the land cells inside the area of applicability whose network prediction lies
    within :data:`BOUND_TOL` of a prior bound. A parameter the model's steady state divides by
    (CLM5's water-scalar scaling) at its lower bound gives unbounded SOC."""
    names = list(net.space_.names)
    theta = np.stack([np.asarray(pm[n].transpose("y", "x").values, float)[inside]
                      for n in names], axis=-1)
    u = net.space_.to_unit(theta)
    rows = []
    for j, n in enumerate(names):
        rows.append({"model": model, "parameter": n,
                     "train_low": float(np.mean(u_train[:, j] < BOUND_TOL)),
                     "train_high": float(np.mean(u_train[:, j] > 1 - BOUND_TOL)),
                     "cells_low": float(np.nanmean(u[:, j] < BOUND_TOL)),
                     "cells_high": float(np.nanmean(u[:, j] > 1 - BOUND_TOL))})
    return pd.DataFrame(rows)


def totals_table(model: str, maps: dict[str, Any], inside: np.ndarray | None,
                 mask: np.ndarray, area: Any, frac: Any) -> list[dict[str, Any]]:
    """One row per parameterisation of ``maps`` (:func:`global_totals`): Pg C, the share of
    the land area it covers (``calibrated`` and ``default (AOA cells)``: the cells ``inside``
    the network's area of applicability) and the land cells without a value — cells outside
    the area of applicability are left out on purpose, not missing, and are not counted as
    missing."""
    land_w = (area * frac).transpose("y", "x").values
    land = float(land_w[land_w > 0].sum())
    rows = []
    for label in ("default", "calibrated", "calibrated (all land)", "default (AOA cells)",
                  "calibrated, MSE loss", "calibrated, MSE loss (all land)"):
        if label not in maps:
            continue
        tot, n_missing, share_missing = global_totals(maps[label], area, frac)
        covered = 1.0
        if label in ("calibrated", "default (AOA cells)", "calibrated, MSE loss"):
            out_aoa = mask & ~inside & (land_w > 0)
            n_missing -= int(out_aoa.sum())
            share_missing -= float(land_w[out_aoa].sum() / land)
            covered = float(land_w[inside].sum() / land)
        rows.append({"model": model, "parameters": label, "pg_c": tot,
                     "land_area_share": covered, "land_cells_without_value": n_missing,
                     "land_area_share_without_value": max(share_missing, 0.0)})
    return rows


# ------------------------------------------------------------------------------ run


def run(ctx: Reproduction, **options: Any) -> None:
    """The whole reproduction (see the module docstring)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = dict(QUICK if ctx.quick else FULL)
    for k, v in options.items():
        if v is not None and k in settings:
            settings[k] = v
    for k, v in settings.items():
        ctx.option(k, v)
    rng = np.random.default_rng(ctx.seed)
    t0 = time.perf_counter()
    climate, data, sites, rejected, is_israd, pick = _profiles(ctx, settings, rng)
    cals, train, train_note, profiles_table = _calibrations(
        ctx, data, settings, rejected, is_israd, pick, plt)
    _network_cv(ctx, data, sites, cals, train, train_note, profiles_table, settings, plt)
    mask, param_maps = _global(ctx, climate, data, sites, cals, train, train_note, settings, plt)
    _fig5(ctx, data, train, cals, plt)
    # Supplementary Fig. 3
    if param_maps:
        ctx.table("supp_fig3_transfer_ratio", transfer_ratio_maps(ctx, climate, mask,
                                                                  param_maps))
    ctx.note(f"wall time of the pipeline: {time.perf_counter() - t0:.0f} s.")


def _profiles(ctx: Reproduction, settings: dict[str, Any], rng: np.random.Generator
              ) -> tuple[Any, Any, pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """ISRaD and NCSCD profiles through the paper's filters (a random subset when quick);
    (climate grid, profile data, sites, rejected, ISRaD flags, picked indices)."""
    from wholesoil.assimilation import ProfileData
    from wholesoil.datasets import load_climate_grid, load_israd, load_ncscd

    climate = load_climate_grid()
    i_lay, i_sites, i_drop = israd_layers(load_israd())
    n_lay, n_sites, n_drop = ncscd_layers(load_ncscd(), climate)
    ctx.note(f"ISRaD: {i_sites.shape[0]} profiles, {i_lay['profile_id'].nunique()} with mineral "
             f"layers with SOC density; NCSCD: {n_sites.shape[0]} pedons.")
    src_tab = pd.concat([i_lay, n_lay]).groupby("source").size().rename("layers").reset_index()
    ctx.table("profiles_layers_source", src_tab)
    sites = pd.concat([i_sites, n_sites], ignore_index=True)
    sites["cwd_fraction"] = cwd_rule(sites["ecosystem"], sites["mat"].to_numpy(float),
                                     sites["map"].to_numpy(float),
                                     sites["lat"].fillna(45.0).to_numpy(float))
    layers = pd.concat([i_lay, n_lay], ignore_index=True)
    data = ProfileData.from_table(layers[["profile_id", "top", "bottom", "soc_density"]],
                                  sites[["profile_id", "mat", "map", "lat", "cwd_fraction"]])
    rejected = pd.concat([i_drop, n_drop, data.rejected], ignore_index=True)
    db = sites.set_index("profile_id")["database"]
    is_israd = np.array([db.get(str(i)) == "ISRaD" for i in data.profile_id])
    ctx.note(f"Passing the paper's filters (≥ 3 layers, deeper than 50 cm): "
             f"{int(is_israd.sum())} ISRaD profiles and {int((~is_israd).sum())} NCSCD pedons.")
    if settings["n_israd"] is not None or settings["n_ncscd"] is not None:
        pick_i = rng.permutation(np.flatnonzero(is_israd))[: settings["n_israd"]]
        pick_n = rng.permutation(np.flatnonzero(~is_israd))[: settings["n_ncscd"]]
        pick = np.sort(np.r_[pick_i, pick_n])
        how = ("with short chains" if ctx.quick else
               f"with {settings['test_iterations']:,} + {settings['formal_iterations']:,} "
               "iterations per chain")
        ctx.note(f"{'quick: ' if ctx.quick else ''}a random subset of {pick_i.size} ISRaD "
                 f"profiles and {pick_n.size} NCSCD pedons is calibrated, {how}.")
    else:
        pick = np.arange(data.n_profiles)
    data = data.subset(pick)
    from wholesoil.models import CWD_FRACTION_FOREST

    forcing_origin = {"rule": "wholesoil.models.forcing_from_climate", **{
        k: str(v) for k, v in getattr(data.forcing, "attrs", {}).items()},
        "cwd": f"share of NPP to CWD {CWD_FRACTION_FOREST} at profiles whose recorded ecosystem "
               "is forest/taiga, 0 at other recorded ecosystems, and by Holdridge's life zones "
               "of the climate where none is recorded (toolkit rule; no CLM5 history file "
               "bundled); the global grid has no vegetation map, so its cells get CWD by "
               "Holdridge's life zones (wholesoil.models.holdridge_forest)",
        "nitrogen": "xi_N applied to the litter rates when the forcing has it; the climate "
                    "rule has none (xi_N = 1)",
        "mat_map": sites.set_index("profile_id").loc[[str(i) for i in data.profile_id],
                                                      "mat_source"].value_counts().to_dict()}
    ctx.option("forcing", forcing_origin)
    return climate, data, sites, rejected, is_israd, pick


def _calibrations(ctx: Reproduction, data: Any, settings: dict[str, Any],
                  rejected: pd.DataFrame, is_israd: np.ndarray, pick: np.ndarray, plt: Any
                  ) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, str],
                             pd.DataFrame]:
    """Per-profile calibration of CLM5 and COMPAS; (results, training rows, notes, table)."""
    cals, kept, tab_prof = {}, {}, []
    workers = ctx.workers if ctx.workers is not None else (os.cpu_count() or 1)
    if workers > 1:
        t = time.perf_counter()
        calibrate_parallel(ctx, data, settings, workers)
        ctx.note(f"calibration batches of both models on {workers} processes: "
                 f"{time.perf_counter() - t:.0f} s (cached batches are not redone).")
    for model in ("clm5", "compas"):
        t = time.perf_counter()
        cals[model] = calibrate_all(ctx, model, data, settings)
        prof = cals[model]["profiles"].copy()
        prof["profile_id"] = prof["profile_id"].astype(str)
        acc = prof.set_index("profile_id")["accepted"].astype(bool)
        kept[model] = np.flatnonzero(acc.reindex([str(i) for i in data.profile_id]).to_numpy(
            dtype=bool))
        tab_prof.append(prof.assign(model=model))
        ctx.note(f"{model.upper()}: {kept[model].size} of {data.n_profiles} calibrated profiles "
                 f"kept (mean R̂ ≤ 1.05 and NSE ≥ 0); calibration in this process "
                 f"{time.perf_counter() - t:.0f} s.")
    profiles_table = pd.concat(tab_prof, ignore_index=True)
    train, train_note = {}, {}
    for model in ("clm5", "compas"):
        if kept[model].size >= MIN_TRAIN:
            train[model], train_note[model] = kept[model], "kept profiles"
            continue
        p = profiles_table[profiles_table["model"] == model].set_index("profile_id")
        ok = (p["nse"] >= 0).reindex([str(i) for i in data.profile_id]).fillna(False)
        train[model] = np.flatnonzero(ok.to_numpy(dtype=bool))
        train_note[model] = (f"only {kept[model].size} profiles passed R̂ ≤ 1.05, so the "
                             f"{train[model].size} calibrated profiles with NSE ≥ 0 were used "
                             "(R̂ filter waived)")
        ctx.note(f"{model.upper()}: {train_note[model]}.")
    ctx.table("calibration_profiles", profiles_table)
    ctx.table("rejected_before_calibration", rejected)
    why = profiles_table.loc[~profiles_table["accepted"].astype(bool)].groupby(
        ["model", "reason"]).size().rename("profiles").reset_index()
    ctx.table("calibration_rejections", why)

    scope = (f"{data.n_profiles} profiles calibrated ({int(is_israd[pick].sum())} ISRaD, "
             f"{int((~is_israd[pick]).sum())} NCSCD) from the bundled databases; the paper "
             "used ~100,000 WoSIS/ISRaD/NCSCD profiles with CESM2 forcing")
    for model in ("clm5", "compas"):
        ctx.row(f"profiles_{model}", f"profiles kept after calibration, {model.upper()}",
                "profiles", PAPER[f"profiles_{model}"], kept[model].size, n=data.n_profiles,
                note=scope + "; a much smaller database, so far fewer profiles")
    for model in ("clm5", "compas"):
        p = profiles_table[(profiles_table["model"] == model)
                           & profiles_table["accepted"].astype(bool)]
        ctx.row(f"nse_median_{model}", f"median NSE of the per-profile calibration, "
                f"{model.upper()} (kept profiles)", "-",
                "not reported (NSE ≥ 0 filter)",
                float(np.median(p["nse"])) if len(p) else None, n=len(p),
                note="PRODA mode, PCHIP density at the layer mid-depths"
                if len(p) else "no profile kept")

    fig, ax = plt.subplots(figsize=(5, 3.2), layout="constrained")
    for model in ("clm5", "compas"):
        v = profiles_table.loc[profiles_table["model"] == model, "nse"].clip(-2, 1)
        ax.hist(v.dropna(), bins=30, range=(-2, 1), alpha=0.6, label=model.upper())
    ax.set_xlabel("NSE of the posterior predictive mean [-] (clipped at −2)")
    ax.set_ylabel("profiles")
    ax.legend()
    ctx.figure("calibration_nse", fig, "NSE of the per-profile calibrations (PRODA mode), "
               "all calibrated profiles; kept: NSE ≥ 0 and mean R̂ ≤ 1.05.")
    return cals, train, train_note, profiles_table


def _cv_frames(r2: pd.DataFrame, per: pd.DataFrame, k: int) -> dict[str, pd.DataFrame]:
    """:func:`cross_validate`'s result as the frames :meth:`Reproduction.cached` keeps."""
    return {"r2": r2, "heldout": per, "folds": pd.DataFrame({"k": [k]})}


def _network_cv(ctx: Reproduction, data: Any, sites: pd.DataFrame, cals: dict[str, Any],
                train: dict[str, np.ndarray], train_note: dict[str, str],
                profiles_table: pd.DataFrame, settings: dict[str, Any], plt: Any) -> None:
    """Grouped cross-validation of the parameter network on the ISRaD profiles."""
    db = sites.set_index("profile_id")["database"]
    r2_tabs, held_tabs = [], []
    for model in ("clm5", "compas"):
        k_is = np.array([i for i in train[model]
                         if db.get(str(data.profile_id[i])) == "ISRaD"], dtype=int)
        n_groups = sites.set_index("profile_id").loc[
            [str(data.profile_id[i]) for i in k_is], "site_key"].nunique() if k_is.size else 0
        if k_is.size < 6 or n_groups < 3:
            ctx.row(f"nn_heldout_nse_median_{model}", f"median held-out NSE with "
                    f"network-predicted parameters, {model.upper()}", "-",
                    "not reported in the preprint", None,
                    note=f"only {k_is.size} ISRaD training profiles at {n_groups} sites: too "
                         f"few for grouped cross-validation ({train_note[model]})")
            continue
        t = time.perf_counter()
        # cached per model (the CV takes ~20 min a model in a full run): a rerun that changes
        # only the global stage, or resumes after a kill, does not redo it
        key = {"model": model, "ids": [str(data.profile_id[i]) for i in k_is],
               "settings": settings, "covariates": israd_covariate_names(sites)}
        cv = ctx.cached(f"network-cv-{model}", lambda k_is=k_is, model=model: _cv_frames(
            *cross_validate(model, data, k_is, sites, cals[model], settings, ctx.seed)), **key)
        r2, per, k = cv["r2"], cv["heldout"], int(cv["folds"]["k"].iloc[0])
        cal_nse = profiles_table[profiles_table["model"] == model].set_index("profile_id")["nse"]
        per["nse_calibration"] = cal_nse.reindex(per["profile_id"]).to_numpy()
        r2_tabs.append(r2)
        held_tabs.append(per)
        ctx.row(f"nn_heldout_nse_median_{model}", f"median held-out NSE with network-predicted "
                f"parameters, {model.upper()}", "-", "not reported in the preprint",
                float(np.nanmedian(per["nse_heldout_network"])), n=len(per),
                note=f"{k}-fold CV grouped by site on the ISRaD covariates "
                     f"({len(israd_covariate_names(sites))} columns); per-profile calibration "
                     f"median {np.nanmedian(per['nse_calibration']):.2f} on the same profiles; "
                     f"training set: {train_note[model]}")
        ctx.note(f"{model.upper()} network CV: {time.perf_counter() - t:.0f} s.")
    if r2_tabs:
        ctx.table("network_cv_r2", pd.concat(r2_tabs, ignore_index=True))
        held = pd.concat(held_tabs, ignore_index=True)
        ctx.table("network_cv_heldout_nse", held)
        fig, ax = plt.subplots(figsize=(4.2, 4), layout="constrained")
        for model, g in held.groupby("model"):
            ax.scatter(g["nse_calibration"].clip(-2, 1), g["nse_heldout_network"].clip(-2, 1),
                       s=12, label=model.upper())
        ax.plot([-2, 1], [-2, 1], "k:", lw=0.8)
        ax.set_xlabel("NSE, per-profile calibration")
        ax.set_ylabel("NSE, network-predicted parameters (held out)")
        ax.legend()
        ctx.figure("network_heldout_nse", fig, "Held-out profiles (grouped CV): NSE with the "
                   "network's parameters against the NSE of the profile's own calibration "
                   "(clipped at −2).")


def _global(ctx: Reproduction, climate: Any, data: Any, sites: pd.DataFrame,
            cals: dict[str, Any], train: dict[str, np.ndarray], train_note: dict[str, str],
            settings: dict[str, Any], plt: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """Global maps with default and network parameters, totals and structure correlations."""
    import xarray as xr

    from wholesoil.assimilation.proda import compare_structures, simulate_grid
    from wholesoil.mapping._stocks import cell_area

    frac = _land(climate, ctx.quick)
    area = cell_area(climate)
    mask = (frac > 0).values & np.isfinite(climate["map"].values) & np.isfinite(
        climate["mat"].values)
    maps: dict[str, dict[str, Any]] = {"clm5": {}, "compas": {}}
    param_maps: dict[str, Any] = {}
    inside: dict[str, np.ndarray] = {}
    di_maps: dict[str, Any] = {}
    bound_tabs: list[pd.DataFrame] = []
    for model in ("clm5", "compas"):
        ids = data.profile_id[train[model]]
        st = sites.set_index("profile_id").loc[[str(i) for i in ids]]
        maps[model]["default"] = simulate_grid(model, climate, None, mask=mask,
                                                 cwd="holdridge")
        if ids.size < 4:
            continue
        from wholesoil.assimilation.proda._covariates import sample_grid

        X = sample_grid(climate, st["lat"].to_numpy(float), st["lon"].to_numpy(float),
                        GRID_COVARIATES)
        ok = np.all(np.isfinite(X), axis=1)
        net = _network(model, ctx.seed, settings["network"]).fit(
            X[ok], _unit_targets(model, cals[model], ids)[ok],
            covariate_names=list(GRID_COVARIATES))
        pm = net.predict_grid(climate[list(GRID_COVARIATES)])
        # the network's area of applicability (Meyer & Pebesma 2021): cells whose MAT/MAP are
        # unlike every training profile's are extrapolations, not PRODA answers
        aoa = net.applicability_grid(climate[list(GRID_COVARIATES)])
        di_maps[model] = aoa
        inside[model] = (aoa["inside_aoa"].transpose("y", "x").values == 1) & mask
        maps[model]["calibrated (all land)"] = simulate_grid(model, climate, pm, mask=mask,
                                                               cwd="holdridge")
        maps[model]["calibrated"] = maps[model]["calibrated (all land)"].where(
            xr.DataArray(inside[model], dims=("y", "x")))
        maps[model]["default (AOA cells)"] = maps[model]["default"].where(
            xr.DataArray(inside[model], dims=("y", "x")))
        param_maps[model] = pm.where(xr.DataArray(inside[model], dims=("y", "x")))
        # diagnosis, not a replacement: the same network with the plain MSE loss (the
        # code's alternative), which does not weight targets near 0 by 1/u as the ratio
        # loss does; and how often the predictions sit at a prior bound
        u_train = _unit_targets(model, cals[model], ids)[ok]
        net_mse = _network(model, ctx.seed, {**settings["network"], "loss": "mse"}).fit(
            X[ok], u_train, covariate_names=list(GRID_COVARIATES))
        pm_mse = net_mse.predict_grid(climate[list(GRID_COVARIATES)])
        maps[model]["calibrated, MSE loss (all land)"] = simulate_grid(
            model, climate, pm_mse, mask=mask, cwd="holdridge")
        maps[model]["calibrated, MSE loss"] = maps[model][
            "calibrated, MSE loss (all land)"].where(xr.DataArray(inside[model],
                                                                  dims=("y", "x")))
        bound_tabs.append(prior_bound_table(model, net, u_train, pm, inside[model]))
    totals: dict[str, float] = {}
    table = []
    for model in ("clm5", "compas"):
        table += totals_table(model, maps[model], inside.get(model), mask, area, frac)
        t = {r["parameters"]: r for r in table if r["model"] == model}
        for label, key in (("default", "default"), ("calibrated", "proda")):
            q = f"soc_1m_pg_{key}_{model}"
            if label not in t:
                ctx.row(q, f"global SOC 0–100 cm, {model.upper()}, {label} parameters", "Pg C",
                        PAPER[q], None, note="too few kept profiles to train the network")
                continue
            totals[q] = t[label]["pg_c"]
            n_cells = int(np.isfinite(maps[model][label]["soc_0_100"].values).sum())
            extra = ""
            if t[label]["land_cells_without_value"]:
                extra += (f"; {t[label]['land_cells_without_value']} land cells "
                          f"({t[label]['land_area_share_without_value']:.1%} of the land area) "
                          "have no value (no climate data or no valid steady state) and are "
                          "not counted")
            text = f"global SOC 0–100 cm, {model.upper()}, {label} parameters"
            if label == "calibrated":
                share = t[label]["land_area_share"]
                text = (f"SOC 0–100 cm, {model.upper()}, PRODA parameters, inside the "
                        f"network's area of applicability ({share:.0%} of the land area)")
                dflt_aoa = t["default (AOA cells)"]["pg_c"]
                unbounded = t["calibrated (all land)"]["pg_c"]
                extra = (f"; network trained on {train_note[model]}; only cells inside its "
                         "area of applicability (Meyer & Pebesma 2021) are counted: default "
                         f"parameters give {dflt_aoa:,.0f} Pg C on the same cells (ratio "
                         f"{t[label]['pg_c'] / dflt_aoa:.2f}; the paper's PRODA/default is "
                         "1.15 for both models); the network applied to all land, outside "
                         f"too, gives {unbounded:,.0f} Pg C" + extra)
                if "calibrated, MSE loss" in t:
                    extra += (f"; the same network trained with the plain MSE loss instead "
                              f"of PRODA's ratio loss (a diagnosis, see "
                              f"tables/network_prior_bounds.csv) gives "
                              f"{t['calibrated, MSE loss']['pg_c']:,.0f} Pg C on these cells")
            ctx.row(q, text, "Pg C", PAPER[q], totals[q], n=n_cells,
                    note="bundled 2.5° MAT/MAP with the climate forcing rule (no CESM2 "
                         "forcing, no soil texture map: sand 40 %), land fraction weighted, "
                         "Antarctica left out" + extra)
    ctx.table("global_totals", pd.DataFrame(table))
    if bound_tabs:
        ctx.table("network_prior_bounds", pd.concat(bound_tabs, ignore_index=True))
    if di_maps:
        fig, axes = plt.subplots(1, len(di_maps), figsize=(5 * len(di_maps), 3.2),
                                 layout="constrained", squeeze=False)
        for ax, (model, a) in zip(axes[0], di_maps.items(), strict=True):
            di = a["dissimilarity"].transpose("y", "x").where(
                xr.DataArray(mask, dims=("y", "x")))
            im = ax.pcolormesh(climate["x"], climate["y"], di, cmap="magma_r", vmin=0,
                               vmax=max(3 * a.attrs["threshold"], 1e-9))
            # land cells outside the area of applicability marked, cell by cell
            yy, xx = np.meshgrid(climate["y"].values, climate["x"].values, indexing="ij")
            out = mask & ~inside[model]
            ax.scatter(xx[out], yy[out], marker="x", s=3, linewidths=0.4, color="c")
            ax.set_title(f"{model.upper()} network: dissimilarity index (AOA: DI ≤ "
                         f"{a.attrs['threshold']:.2f}; x: outside)", fontsize=9)
            ax.set_xlabel("longitude [°E]")
            ax.set_ylabel("latitude [°N]")
            fig.colorbar(im, ax=ax, label="DI [-]")
        ctx.figure("area_of_applicability", fig, "Dissimilarity of each land cell's MAT/MAP to "
                   "the global network's training profiles (Meyer & Pebesma 2021); cells "
                   "marked x are outside the area of applicability: the network "
                   "extrapolates there and the PRODA totals and correlations leave them out.")
    labels = [lb for lb in ("default", "calibrated") if lb in maps["clm5"]
              and lb in maps["compas"]]
    both = [lb for lb in ("default", "calibrated", "default (AOA cells)",
                          "calibrated, MSE loss")
            if lb in maps["clm5"] and lb in maps["compas"]]
    comp = compare_structures({lb: maps["clm5"][lb] for lb in both},
                              {lb: maps["compas"][lb] for lb in both})
    ctx.table("structure_correlations", comp)
    r = comp.set_index(["parameters", "variable"])["r"]
    nn = comp.set_index(["parameters", "variable"])["n"]
    for q, lb, var, text in (
            ("r_log_soc_default", "default", "soc_0_100", "log SOC 0–100 cm, default"),
            ("r_log_soc_proda", "calibrated", "soc_0_100", "log SOC 0–100 cm, after PRODA"),
            ("r_transfer_efficiency", "calibrated", "cte", "carbon transfer efficiency"),
            ("r_baseline_decomposition", "calibrated", "k_bulk", "baseline decomposition"),
            ("r_environmental_modifier", "calibrated", "xi_system", "environmental modifier")):
        if (lb, var) in r.index:
            if lb == "default":
                where = "2.5° land cells"
                if ("default (AOA cells)", var) in r.index:
                    where += (f" (on the cells inside both networks' areas of applicability: "
                              f"r = {r[('default (AOA cells)', var)]:.2f}, "
                              f"n = {int(nn[('default (AOA cells)', var)])})")
            else:
                where = ("2.5° land cells inside both networks' areas of applicability "
                         "(Meyer & Pebesma 2021)")
                if ("calibrated, MSE loss", var) in r.index:
                    where += (f"; with networks trained on the plain MSE loss: r = "
                              f"{r[('calibrated, MSE loss', var)]:.2f}")
            ctx.row(q, f"correlation CLM5 vs COMPAS across grid cells: {text}", "r", PAPER[q],
                    float(r[(lb, var)]), n=int(nn[(lb, var)]),
                    note=where + "; both models forced by the same climate rule"
                    + ("" if lb == "default" else
                       f"; networks trained on CLM5 {train_note['clm5']}, COMPAS "
                       f"{train_note['compas']}"))
        else:
            ctx.row(q, f"correlation CLM5 vs COMPAS across grid cells: {text}", "r", PAPER[q],
                    None, note="no calibrated maps (too few kept profiles)")

    for lb in labels:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
        for ax, model in zip(axes, ("clm5", "compas"), strict=True):
            v = maps[model][lb]["soc_0_100"]
            im = ax.pcolormesh(climate["x"], climate["y"], v, cmap="YlOrBr",
                               vmin=0, vmax=float(np.nanpercentile(v, 98)))
            ax.set_title(f"{model.upper()} SOC 0–100 cm, {lb} parameters", fontsize=9)
            ax.set_xlabel("longitude [°E]")
            ax.set_ylabel("latitude [°N]")
            fig.colorbar(im, ax=ax, label="kg C m⁻²")
        ctx.figure(f"global_soc_{lb}", fig, f"SOC to 1 m simulated with {lb} parameters "
                   "(2.5° land cells, climate forcing rule)" + (
                       "; blank: outside the network's area of applicability."
                       if lb == "calibrated" else "."))
    if "calibrated" in labels:
        comps = (("cte", "transfer efficiency [-]"), ("k_bulk", "baseline decomp. [yr⁻¹]"),
                 ("xi_system", "env. modifier [-]"), ("b_system", "input allocation [-]"),
                 ("v_system", "vertical transport [yr⁻¹]"),
                 ("input", "plant input [g C m⁻² yr⁻¹]"))
        fig, axes = plt.subplots(2, 6, figsize=(16, 5.6), layout="constrained")
        for j, (c, label) in enumerate(comps):
            for i, model in enumerate(("clm5", "compas")):
                # each map on its own scale (2–98 % of its cells): the spatial pattern is what
                # the correlations compare; the colour bar gives the level
                v = maps[model]["calibrated"][c]
                lo, hi = (float(x) for x in np.nanpercentile(v, [2, 98]))
                im = axes[i, j].pcolormesh(climate["x"], climate["y"], v, cmap="viridis",
                                           vmin=lo, vmax=hi)
                axes[i, j].set_title(f"{model.upper()}: {label}", fontsize=8)
                axes[i, j].set_xticks([])
                axes[i, j].set_yticks([])
                cb = fig.colorbar(im, ax=axes[i, j], orientation="horizontal", shrink=0.85,
                                  pad=0.02)
                cb.ax.tick_params(labelsize=6)
        ctx.figure("components", fig, "The six components of the paper's Fig. 4 after PRODA "
                   "(rows CLM5, COMPAS): transfer efficiency, baseline decomposition [yr⁻¹], "
                   "environmental modifier, input allocation, vertical transport [yr⁻¹], "
                   "plant input [g C m⁻² yr⁻¹]; each map on its own colour scale (2–98 % of its "
                   "cells), as the correlations compare patterns, not levels; blank: outside "
                   "the network's area of applicability.")
    return mask, param_maps


def _fig5(ctx: Reproduction, data: Any, train: dict[str, np.ndarray], cals: dict[str, Any],
          plt: Any) -> None:
    """The paper's Fig. 5: COMPAS Michaelis constants against their substrates."""
    km = km_to_substrate_table(data, train["compas"], cals["compas"])
    if len(km):
        ctx.table("fig5_km_to_substrate", km)
        share = float((km["km_decom"] / km["msoc"] > 100).mean())
        share_a = float((km["km_assim"] / km["doc"] > 100).mean())
        ctx.note(f"Fig. 5 (COMPAS, kept profiles, layers to 1 m): K_m,decom > 100 × mSOC in "
                 f"{share:.0%} of layers and K_m,assim > 100 × DOC in {share_a:.0%} (paper: "
                 "more than 100 times for most profiles).")
        fig, axes = plt.subplots(1, 2, figsize=(8, 3.6), layout="constrained")
        for ax, (k_, s_, name) in zip(axes, (("km_decom", "msoc", "decomposition (mSOC)"),
                                             ("km_assim", "doc", "assimilation (DOC)")),
                                      strict=True):
            ax.loglog(km[s_], km[k_], ".", ms=3)
            lo = np.nanmin(km[s_][km[s_] > 0])
            hi = np.nanmax(km[s_])
            xs = np.array([lo, hi])
            ax.loglog(xs, xs, "k:", lw=0.8, label="K_m = substrate")
            ax.loglog(xs, 100 * xs, "k--", lw=0.8, label="K_m = 100 × substrate")
            ax.set_xlabel("substrate [g C m⁻³]")
            ax.set_ylabel("K_m [g C m⁻³]")
            ax.set_title(name, fontsize=9)
            ax.legend(fontsize=7)
        ctx.figure("fig5_km_to_substrate", fig, "The paper's Fig. 5: Michaelis constants "
                   "against their substrate concentration in COMPAS after calibration "
                   "(kept profiles, layers to 1 m, log–log; K_m unscaled by ξ as in the paper).")


def km_to_substrate_table(data: Any, kept: np.ndarray, cal: dict[str, pd.DataFrame]
                          ) -> pd.DataFrame:
    """K_m and substrate per layer (to 1 m) of the kept COMPAS profiles at the posterior mean."""
    from wholesoil.assimilation import ParameterSpace
    from wholesoil.assimilation._calibrate import _select
    from wholesoil.models import COMPAS, COMPASParameters
    from wholesoil.models._vertical import clm5_grid

    if kept.size == 0:
        return pd.DataFrame()
    sp = ParameterSpace.from_compas()
    ids = data.profile_id[kept]
    wide = cal["parameters"].pivot(index="profile_id", columns="parameter", values="mean")
    wide.index = wide.index.astype(str)
    theta = wide.loc[[str(i) for i in ids], list(sp.names)]
    params = COMPASParameters(**{n: theta[n].to_numpy(float) for n in sp.names})
    ss = COMPAS(params, _select(data.forcing, kept)).steady_state()
    z = np.asarray(clm5_grid().z_node)
    top = z <= 1.0
    rows = []
    for i, pid in enumerate(ids):
        if not bool(np.asarray(ss.valid)[i]):
            continue
        for j in np.flatnonzero(top):
            rows.append({"profile_id": str(pid), "depth_m": z[j],
                         "km_decom": float(params.km_decom[i]),
                         "msoc": float(ss.pools[i, 7, j]),
                         "km_assim": float(params.km_assim[i]),
                         "doc": float(ss.pools[i, 4, j])})
    return pd.DataFrame(rows)


def litter_to_mineral_ratio(model: str, params: dict[str, np.ndarray], mat: np.ndarray,
                            map_: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Supplementary Fig. 3: column litter → mineral soil flux over the total input, per cell.

    CLM5: Σ_z Σ_{L1–L3 → S1–S3} a_ij·k_j·ξ·x_j·Δz; COMPAS: Σ_z (u_DOC + u_MIC + u_SOC)·Δz (the
    paper's Eq. 9 inputs); both divided by the column plant input Σ B·I·Δz. NaN where the cell
    has no steady state.
    """
    from wholesoil.models import CLM5, COMPAS, CLM5Parameters, COMPASParameters
    from wholesoil.models._environment import cwd_from_climate, forcing_from_climate

    f = forcing_from_climate(mat, map_, lat=lat, cwd_fraction=cwd_from_climate(mat, map_, lat=lat))
    if model == "clm5":
        m = CLM5(CLM5Parameters(**params), f, nitrogen=True)
        x = m.steady_state()
        flux = np.einsum("...ij,...jz->...iz", m.transfer[..., 4:7, 1:4],
                         m.rates()[..., 1:4, :] * x[..., 1:4, :]).sum(axis=-2)
        col = (flux * np.asarray(m.grid.dz)).sum(axis=-1)
        return col / m.total_input()
    m = COMPAS(COMPASParameters(**params), f, nitrogen=True)
    ss = m.steady_state()
    u = m.soil_inputs(ss.pools).total
    col = (u * np.asarray(m.grid.dz)).sum(axis=-1)
    return np.where(np.asarray(ss.valid), col / m.column_input(), np.nan)


def transfer_ratio_maps(ctx: Reproduction, climate: Any, mask: np.ndarray,
                        param_maps: dict[str, Any]) -> pd.DataFrame:
    """Supplementary Fig. 3 over the land cells with the PRODA parameter maps (table + figure)."""
    import matplotlib.pyplot as plt

    from wholesoil.assimilation.proda._simulate import model_parameter_names

    ys = np.asarray(climate["y"].values, float)
    xs = np.asarray(climate["x"].values, float)
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    out = pd.DataFrame({"lat": yy[mask], "lon": xx[mask]})
    mat = climate["mat"].transpose("y", "x").values[mask]
    mp = climate["map"].transpose("y", "x").values[mask]
    for model, pm in param_maps.items():
        pars = {n: np.asarray(pm[n].transpose("y", "x").values, float)[mask]
                for n in model_parameter_names(model)}
        ok = np.all([np.isfinite(v) for v in pars.values()], axis=0)
        r = np.full(ok.size, np.nan)
        for s0 in range(0, ok.size, 2048):
            rows = np.flatnonzero(ok[s0:s0 + 2048]) + s0
            if rows.size:
                r[rows] = litter_to_mineral_ratio(
                    model, {n: v[rows] for n, v in pars.items()}, mat[rows], mp[rows],
                    out["lat"].to_numpy()[rows])
        out[f"ratio_{model}"] = r
    if {"ratio_clm5", "ratio_compas"} <= set(out.columns):
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.4), layout="constrained")
        for ax, model in zip(axes[:2], ("clm5", "compas"), strict=True):
            grid = np.full(mask.shape, np.nan)
            grid[mask] = out[f"ratio_{model}"]
            im = ax.pcolormesh(xs, ys, grid, vmin=0, vmax=1, cmap="viridis")
            ax.set_title(f"({'ab'[model == 'compas']}) {model.upper()}", fontsize=9)
            ax.set_xlabel("longitude [°E]")
            ax.set_ylabel("latitude [°N]")
            fig.colorbar(im, ax=ax, label="litter → mineral / input")
        axes[2].plot(out["ratio_clm5"], out["ratio_compas"], ".", ms=2)
        axes[2].plot([0, 1], [0, 1], "k:", lw=0.8)
        axes[2].set_xlabel("CLM5 share [-]")
        axes[2].set_ylabel("COMPAS share [-]")
        axes[2].set_title("(c) comparison", fontsize=9)
        ctx.figure("supp_fig3_transfer_ratio", fig, "The paper's Supplementary Fig. 3: share "
                   "of the plant input transferred from litter to mineral soil, after PRODA "
                   "(2.5° land cells).")
        ctx.note(f"Supplementary Fig. 3: median litter-to-mineral share "
                 f"{np.nanmedian(out['ratio_clm5']):.2f} (CLM5) and "
                 f"{np.nanmedian(out['ratio_compas']):.2f} (COMPAS); paper: COMPAS transfers "
                 "more litter carbon to mineral soil than CLM5.")
    return out
