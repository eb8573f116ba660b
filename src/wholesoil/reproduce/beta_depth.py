"""``wholesoil reproduce beta-depth``: the β model of SOC depth distribution on ISRaD profiles.

Reproduces Wang, H., Cai, T., Tian, X., et al. (2025), Global patterns of soil organic carbon
distribution in the 20–100 cm soil profile for different ecosystems: a global meta-analysis
(manuscript submitted to Earth Syst. Sci. Data; data doi:10.5281/zenodo.14787023), on the
bundled ISRaD database:

1. profile selection as §2.1 (field profiles with ≥ 3 layers with SOC in the first metre, read
   to 100 cm); SOC density per layer (Eq. 1); mass-preserving spline to five 20-cm layers
   (§2.2); cumulative fractions and β per profile by least squares on Y = 1 − β^d (Eqs. 2–3,
   §2.3, the default of :func:`wholesoil.depth.fit_beta`);
2. ecosystem per profile from ISRaD's land cover (:data:`ISRAD_ECOSYSTEMS`), mean β with 95 %
   CI, one-way ANOVA and Duncan's test across ecosystems and USDA texture classes (§2.8);
3. a random forest per ecosystem for β on the ISRaD profile covariates, mtry/ntree tuned by
   bootstrap (e1071 style) and 10-fold cross-validation by site (Eqs. 4–5, §2.5), driver
   response curves (Fig. 2);
4. cumulative densities at 40/60/80/100 cm and 20-cm layer densities by difference from the
   measured 0–20 cm density and the cross-validated β (Eq. 3, §2.6); Monte Carlo uncertainty
   (inputs ~ N(x, 0.1x), 1,000 draws over 100 bootstrapped forests, U = CI/x, Eq. 7, §2.7);
5. 0–100 cm stocks: profile-mean density × the paper's ecosystem areas (Eq. 6; we have no
   global ecosystem map — see the notes).

The NCSCD pedons (bundled too) give two layers in the first metre (0–30, 30–100 cm) and so fail
the paper's ≥ 3-layer rule; they are counted and left out.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from wholesoil.reproduce._common import Reproduction, require
from wholesoil.reproduce._soc_layers import (
    ISRAD_ECOSYSTEMS,
    covariate_columns,
    layer_soc_density,
    overlapping_profiles,
    site_key,
)

ECOSYSTEMS: tuple[str, ...] = ("cropland", "grassland", "forest")

#: Ecosystem areas of Table 1 of Wang et al. (2025) [10⁹ ha] (from GAEZ). They are inputs of
#: Eq. 6 here — we have no global ecosystem map — not numbers our results are compared with.
PAPER_AREA_1E9_HA: dict[str, float] = {"cropland": 1.20, "forest": 5.64, "grassland": 2.59}

LAYER_BOUNDS: tuple[float, ...] = (0.0, 20.0, 40.0, 60.0, 80.0, 100.0)


def record_data(ctx: Reproduction | None, names: tuple[str, ...] = ("israd",)) -> None:
    """Record the bundled data files read (their SHA-256 go into ``run.json``)."""
    if ctx is None:
        return
    from wholesoil.datasets import REGISTRY, data_path

    for name in names:
        for f in REGISTRY[name]["files"]:
            p = data_path(f)
            if p.is_file():
                ctx.data(p, f"{name}:{f}")


# --------------------------------------------------------------------------- data
def select_profiles(ctx: Reproduction) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Profiles of the three ecosystems with ≥ 3 SOC layers in 0–100 cm reaching 100 cm.

    Returns (sites, layers, selection log).
    """
    from wholesoil import datasets

    ps = datasets.load_israd()
    sites = ps.sites.copy()
    sites["ecosystem3"] = sites["ecosystem"].astype(object).map(ISRAD_ECOSYSTEMS)
    sites["site"] = site_key(sites)
    log: list[dict[str, Any]] = [{"step": "ISRaD profiles", "profiles": len(sites)}]
    sites = sites[sites["ecosystem3"].notna()]
    log.append({"step": "land cover cultivated / rangeland-grassland / forest",
                "profiles": len(sites)})
    h = layer_soc_density(ps.horizons[ps.horizons["profile_id"].isin(sites["profile_id"])])
    log.append({"step": "layers of those profiles", "layers": len(h)})
    dropped = h.loc[~h["use"], "reason"].value_counts()
    for reason, k in dropped.items():
        log.append({"step": f"layer dropped: {reason}", "layers": int(k)})
    h = h[h["use"] & (h["top"] < 100)]
    over = overlapping_profiles(h)
    h = h[~h["profile_id"].isin(over)]
    log.append({"step": "profiles with overlapping layers dropped", "profiles": len(over)})
    g = h.groupby("profile_id").agg(n=("top", "size"), top=("top", "min"),
                                    bottom=("bottom", "max"))
    ok = g[(g["n"] >= 3) & (g["top"] <= 0) & (g["bottom"] >= 100)].index
    log.append({"step": "≥ 3 SOC layers in 0–100 cm, from 0 cm, reaching 100 cm",
                "profiles": len(ok)})
    sites = sites[sites["profile_id"].isin(ok)].reset_index(drop=True)
    h = h[h["profile_id"].isin(ok)].reset_index(drop=True)
    try:
        nc = datasets.load_ncscd()
        n_ncscd = int(nc.sites.shape[0])
        k = nc.horizons[nc.horizons["top"] < 100].groupby("profile_id").size()
        log.append({"step": "NCSCD pedons read", "profiles": n_ncscd})
        log.append({"step": "NCSCD pedons with ≥ 3 layers in 0–100 cm (others left out)",
                    "profiles": int((k >= 3).sum())})
    except Exception as err:  # pragma: no cover - bundled data
        log.append({"step": f"NCSCD not read: {err}"})
    return sites, h, pd.DataFrame(log)


def harmonize_layers(sites: pd.DataFrame, h: pd.DataFrame,
                     bounds: tuple[float, ...] = LAYER_BOUNDS) -> pd.DataFrame:
    """Equal-area spline (λ = 0.1, mpspline2 rules) of SOC density per cm to ``bounds``.

    The spline preserves each horizon's mean density per cm, so the layer densities
    (``soc_density`` [Mg C ha⁻¹] = mean density per cm × thickness) keep the profile's stock.
    """
    from wholesoil.profiles import ProfileSet, harmonize

    ps = ProfileSet(sites[["profile_id"]],
                    h[["profile_id", "top", "bottom", "soc_density_cm"]].copy())
    out = harmonize(ps, "soc_density_cm", depths=bounds, lam=0.1, clamp=(0.0, 1e6))
    out["soc_density"] = out["soc_density_cm"] * (out["bottom"] - out["top"])
    return out


def profile_texture(h: pd.DataFrame) -> pd.DataFrame:
    """USDA texture class of each profile from its measured sand/silt/clay in 0–30 cm."""
    from wholesoil.profiles import texture_class, texture_group

    t = h[(h["top"] < 30) & h[["sand", "clay"]].notna().all(axis=1)].copy()
    if t.empty:
        return pd.DataFrame(columns=["profile_id", "texture", "texture_group"])
    w = (t["bottom"].clip(upper=30) - t["top"]).clip(lower=0)
    t["w"] = w
    silt = t["silt"].astype(float).fillna(100 - t["sand"].astype(float) - t["clay"].astype(float))
    t["silt_"] = silt
    agg = t.assign(sw=t["sand"] * w, lw=t["silt_"] * w, cw=t["clay"] * w).groupby("profile_id")[
        ["sw", "lw", "cw", "w"]].sum()
    agg = agg[agg["w"] > 0]
    sand, silt, clay = (agg[c] / agg["w"] for c in ("sw", "lw", "cw"))
    ok = (sand >= 0) & (silt >= 0) & (clay >= 0) & ((sand + silt + clay) > 50)
    cls = pd.Series([None] * len(agg), index=agg.index, dtype=object)
    cls[ok] = texture_class(sand[ok].to_numpy(), silt[ok].to_numpy(), clay[ok].to_numpy())
    return pd.DataFrame({"profile_id": agg.index, "texture": cls.to_numpy(),
                         "texture_group": texture_group(cls.to_numpy())})


def mean_ci(x: np.ndarray) -> tuple[float, float, float]:
    """Mean and its 95 % t confidence interval."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return (float(x.mean()) if x.size else np.nan, np.nan, np.nan)
    m, se = x.mean(), x.std(ddof=1) / np.sqrt(x.size)
    t = stats.t.ppf(0.975, x.size - 1)
    return float(m), float(m - t * se), float(m + t * se)


# --------------------------------------------------------------------------- run
def run(ctx: Reproduction, **options: Any) -> None:
    """Run the reproduction (see the module docstring)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_jobs = min(ctx.workers or 2, 2)
    ctx.option("ecosystem_rule", {k: v for k, v in ISRAD_ECOSYSTEMS.items()})
    ctx.option("beta_fit", "least squares on the cumulative fraction Y = C(d)/C(100 cm) "
               "(fit_beta method='fraction', the paper's)")
    ctx.option("layers", "mass-preserving spline (λ = 0.1) of SOC density per cm to 0–20, "
               "20–40, 40–60, 60–80, 80–100 cm")
    ctx.option("som_to_soc", "×0.58 where only SOM is given: ISRaD reports organic C, no "
               "layer needed the conversion")

    sites, h, prof, wide = _profiles(ctx)
    _beta_by_ecosystem(ctx, prof, plt)
    features, oof = _random_forest(ctx, prof, plt, n_jobs)
    sub_pred = _densities(ctx, prof, wide, oof, plt)
    _monte_carlo(ctx, prof, features, sub_pred, n_jobs)
    _stocks(ctx, prof, sites, h)


def _profiles(ctx: Reproduction) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame,
                                          pd.DataFrame]:
    """Selected profiles, their layers, β fits and texture: (sites, layers, profiles, wide)."""
    from wholesoil.depth import fit_depth_functions

    record_data(ctx, ("israd", "ncscd"))
    sites, h, log = select_profiles(ctx)
    ctx.table("selection", log)
    require(len(sites) > 30, "too few ISRaD profiles pass the selection", field="profiles",
            value=len(sites))
    src = h.groupby(["soc_source", "bd_source"]).size().rename("layers").reset_index()
    ctx.table("value_sources", src)

    lay = ctx.cached("harmonize", lambda: harmonize_layers(sites, h), bounds=LAYER_BOUNDS)
    cov_ok = lay.groupby("profile_id")["coverage"].min()
    lay = lay[lay["profile_id"].isin(cov_ok[cov_ok >= 0.999].index)]
    fits = fit_depth_functions(lay, value="soc_density", models=("beta", "exponential",
                                                                  "power"))
    fits = fits[np.isfinite(fits["beta"])]
    wide = lay.pivot(index="profile_id", columns="top", values="soc_density")
    wide.columns = [f"x_{int(c)}_{int(c) + 20}" for c in wide.columns]
    prof = (sites.set_index("profile_id")
            .join(fits.set_index("profile_id")[["beta", "beta_se", "converged_beta",
                                                "best_model"]], how="inner")
            .join(wide, how="inner"))
    prof["x_100"] = wide.loc[prof.index].sum(axis=1)
    prof["subsoil_20_100"] = prof["x_100"] - prof["x_0_20"]
    tex = profile_texture(h).set_index("profile_id")
    prof = prof.join(tex, how="left")
    prof = prof.reset_index()
    ctx.note(f"{len(prof)} ISRaD profiles with β (of {len(sites)} selected); ecosystems: "
             + ", ".join(f"{e} {int((prof['ecosystem3'] == e).sum())}" for e in ECOSYSTEMS))

    return sites, h, prof, wide


def _beta_by_ecosystem(ctx: Reproduction, prof: pd.DataFrame, plt: Any) -> None:
    """Mean β by ecosystem with Duncan's letters; ANOVA across ecosystems and textures."""
    from wholesoil.depth import GLOBAL_MEAN_BETA
    from wholesoil.stats import duncan_test

    rows = []
    for e in ECOSYSTEMS:
        b = prof.loc[prof["ecosystem3"] == e, "beta"].to_numpy()
        m, lo, hi = mean_ci(b)
        rows.append({"ecosystem": e, "n": b.size, "mean": m, "ci_low": lo, "ci_high": hi,
                     "median": float(np.median(b)) if b.size else np.nan,
                     "sd": float(np.std(b, ddof=1)) if b.size > 1 else np.nan})
    beta_eco = pd.DataFrame(rows)
    d_eco = duncan_test(prof["beta"], prof["ecosystem3"])
    beta_eco = beta_eco.merge(d_eco.means[["group", "letters"]].rename(
        columns={"group": "ecosystem"}), on="ecosystem", how="left")
    ctx.table("beta_by_ecosystem", beta_eco)
    ctx.table("beta_per_profile", prof[["profile_id", "site", "ecosystem3", "lat", "lon",
                                        "beta", "beta_se", "x_0_20", "x_100", "texture"]])
    paper_beta = {"cropland": 0.9731, "grassland": 0.9772, "forest": 0.9790}
    for _, r in beta_eco.iterrows():
        e = r["ecosystem"]
        ctx.row(f"beta_{e}", f"mean β, {e} (Fig. 1b)", "-", paper_beta[e], r["mean"],
                low=r["ci_low"], high=r["ci_high"], n=int(r["n"]),
                note=f"ISRaD {e} profiles, fraction fit on five spline layers; Duncan group "
                     f"{r['letters']}")
    gm, glo, ghi = mean_ci(prof["beta"].to_numpy())
    ctx.row("beta_global_mean", "mean β over all profiles (literature value)", "-",
            GLOBAL_MEAN_BETA, gm, low=glo, high=ghi, n=len(prof),
            note="0.9786 is the literature global mean (Yang et al. 2011) that the paper quotes;"
                 " ours pools the three ecosystems")
    paper_n = {"cropland": 2394, "grassland": 4837, "forest": 4753}
    for _, r in beta_eco.iterrows():
        e = r["ecosystem"]
        ctx.row(f"n_{e}", f"profiles (observations), {e}", "profiles", paper_n[e], int(r["n"]),
                n=int(r["n"]), note="ISRaD holds far fewer 0–100 cm SOC profiles than the "
                "paper's literature + WoSIS compilation")
    ctx.row("anova_p_ecosystem", "one-way ANOVA of β across ecosystems, p", "-",
            "significant (p < 0.05)", d_eco.anova.p_value, n=len(prof),
            note=f"F = {d_eco.anova.f_statistic:.3g} on ({d_eco.anova.df_between}, "
                 f"{d_eco.anova.df_within}) df; Duncan letters "
                 + ", ".join(f"{g} {ltr}" for g, ltr in zip(d_eco.means['group'],
                                                           d_eco.means['letters'], strict=True)))
    # texture classes
    tx = prof[prof["texture"].notna()]
    counts = tx["texture"].value_counts()
    keep = counts[counts >= 3].index
    tx = tx[tx["texture"].isin(keep)]
    if tx["texture"].nunique() >= 2:
        d_tex = duncan_test(tx["beta"], tx["texture"])
        ctx.table("beta_by_texture", d_tex.means)
        p_tex: float | None = d_tex.anova.p_value
        tex_note = (f"USDA classes with ≥ 3 profiles ({', '.join(map(str, keep))}) from measured "
                    "0–30 cm sand/silt/clay")
    else:
        p_tex, tex_note = None, "fewer than two texture classes with ≥ 3 profiles"
    ctx.row("anova_p_texture", "one-way ANOVA of β across soil texture classes, p", "-",
            "significant (p < 0.05)", p_tex, n=len(tx), note=tex_note)

    # figure: β by ecosystem
    fig, ax = plt.subplots(figsize=(5, 4))
    data = [prof.loc[prof["ecosystem3"] == e, "beta"] for e in ECOSYSTEMS]
    ax.boxplot(data, tick_labels=list(ECOSYSTEMS))
    for i, e in enumerate(ECOSYSTEMS):
        ltr = beta_eco.loc[beta_eco["ecosystem"] == e, "letters"].iloc[0]
        ax.text(i + 1, ax.get_ylim()[1], str(ltr), ha="center", va="bottom")
    ax.set_ylabel("β [-]")
    ax.set_title("β per profile by ecosystem (ISRaD)")
    ctx.figure("beta_by_ecosystem", fig, "β of each ISRaD profile by ecosystem with Duncan's "
               "letters (paper Fig. 1b).")


def _random_forest(ctx: Reproduction, prof: pd.DataFrame, plt: Any, n_jobs: int
                   ) -> tuple[list[str], pd.DataFrame]:
    """One tuned RF for β per ecosystem, cross-validated by site; (covariates, out-of-fold)."""
    quick, seed = ctx.quick, ctx.seed
    from wholesoil.mapping import RandomForest, cross_validate, tune_forest
    from wholesoil.mapping._interpret import partial_dependence_table

    features = covariate_columns(prof)
    ctx.option("rf_covariates", features)
    n_est = (50, 100) if quick else (100, 300, 500)
    n_boot = 3 if quick else 10
    oof_parts, cv_rows, tuning_rows, pd_parts = [], [], [], []
    for e in ECOSYSTEMS:
        t = prof[prof["ecosystem3"] == e].dropna(subset=features).reset_index(drop=True)
        if len(t) < 20:
            cv_rows.append({"ecosystem": e, "n": len(t), "r2": np.nan, "rmse": np.nan})
            continue
        X = t[features].astype(float)
        p = len(features)
        grid = sorted({1, max(p // 3, 1), max(p // 2, 1), p}) if quick else None

        def _tune(X=X, t=t, grid=grid) -> dict[str, Any]:
            tu = tune_forest(X, t["beta"].to_numpy(), mtry=grid, n_estimators=n_est,
                             n_boot=n_boot, groups=t["site"].to_numpy(), random_state=seed,
                             n_jobs=n_jobs)
            return {"best": tu.best_params, "table": tu.table.to_dict("list")}

        tu = ctx.cached(f"tune_{e}", _tune, features=features, n_est=list(n_est), n_boot=n_boot)
        tab = pd.DataFrame(tu["table"]).assign(ecosystem=e)
        tuning_rows.append(tab)
        best = tu["best"]
        rf = RandomForest(best["n_estimators"], mtry=best["mtry"], n_jobs=n_jobs,
                          random_state=seed)
        n_splits = min(10, t["site"].nunique())
        cv = cross_validate(rf, t, "beta", features, groups="site", n_splits=n_splits,
                            top=None, bottom=None, random_state=seed)
        pr = cv.predictions.assign(ecosystem=e, profile_id=t["profile_id"].to_numpy())
        oof_parts.append(pr)
        cv_rows.append({"ecosystem": e, "n": len(t), "mtry": best["mtry"],
                        "ntree": best["n_estimators"], "folds": n_splits,
                        "r2": cv.metrics["r2"], "rmse": cv.metrics["rmse"]})
        fitted = RandomForest(best["n_estimators"], mtry=best["mtry"], n_jobs=n_jobs,
                              random_state=seed).fit(X, t["beta"].to_numpy())
        imp = pd.Series(fitted.feature_importances_, index=features).sort_values(
            ascending=False)
        drivers = list(imp.index[:3])
        pdt, _ = partial_dependence_table(fitted, t, features, drivers=drivers,
                                          grid_resolution=15 if quick else 30, ice=False)
        pd_parts.append(pdt.assign(ecosystem=e))
    cv_tab = pd.DataFrame(cv_rows)
    ctx.table("rf_cv_by_ecosystem", cv_tab)
    if tuning_rows:
        ctx.table("rf_tuning", pd.concat(tuning_rows, ignore_index=True))
    oof = pd.concat(oof_parts, ignore_index=True) if oof_parts else pd.DataFrame()
    if not oof.empty:
        from wholesoil.mapping._metrics import skill

        sk = skill(oof["observed"], oof["predicted"])
        ctx.row("rf_beta_cv_r2", "RF for β, 10-fold CV R² (Eq. 4)", "-",
                "0.85 / 0.86 / 0.90 (cropland / grassland / forest)", sk["r2"],
                n=int(sk["n"]),
                note="pooled out-of-fold predictions of one RF per ecosystem, folds by site; "
                     "per ecosystem: " + ", ".join(
                         f"{r.ecosystem} {r.r2:.2f}" for r in cv_tab.itertuples())
                     + "; the paper reports an adjusted R² and uses covariates we lack (BNPP, "
                       "microbial C and N, TN, pH)")
        ctx.row("rf_beta_cv_rmse", "RF for β, 10-fold CV RMSE (Eq. 5)", "-", "< 0.01",
                sk["rmse"], n=int(sk["n"]), note="as rf_beta_cv_r2; per ecosystem: " + ", ".join(
                    f"{r.ecosystem} {r.rmse:.4f}" for r in cv_tab.itertuples()))
        ctx.table("rf_cv_predictions", oof)
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
        for e in ECOSYSTEMS:
            o = oof[oof["ecosystem"] == e]
            ax.scatter(o["observed"], o["predicted"], s=8, label=e, alpha=0.7)
        lim = [oof[["observed", "predicted"]].min().min(), oof[["observed", "predicted"]].max()
               .max()]
        ax.plot(lim, lim, "k--", lw=1)
        ax.set_xlabel("observed β [-]")
        ax.set_ylabel("cross-validated β [-]")
        ax.legend()
        ctx.figure("rf_cv", fig, "Random forest for β: out-of-fold predictions (10-fold CV by "
                   "site) against observed β (paper Fig. 3a–c).")
    else:
        for q, lab in (("rf_beta_cv_r2", "R²"), ("rf_beta_cv_rmse", "RMSE")):
            ctx.row(q, f"RF for β, 10-fold CV {lab}", "-", None, None,
                    note="fewer than 20 profiles with complete covariates per ecosystem")
    if pd_parts:
        pdt = pd.concat(pd_parts, ignore_index=True)
        ctx.table("driver_response", pdt)
        fig = _plot_pd(pdt, plt)
        ctx.figure("driver_response", fig, "Partial dependence of β on the three most important "
                   "covariates of each ecosystem's RF (paper Fig. 2).")
    return features, oof


def _densities(ctx: Reproduction, prof: pd.DataFrame, wide: pd.DataFrame, oof: pd.DataFrame,
               plt: Any) -> pd.Series:
    """Layer and cumulative densities by Eq. 3; the 20–100 cm density per profile."""
    from wholesoil.depth import cumulative_density, layer_densities

    beta_for_depth = prof.set_index("profile_id")["beta"].copy()
    if not oof.empty:
        beta_for_depth.loc[oof["profile_id"].to_numpy()] = oof["predicted"].to_numpy()
    x20 = prof["x_0_20"].to_numpy()
    b_use = beta_for_depth.loc[prof["profile_id"]].to_numpy()
    cum = cumulative_density(x20, b_use, depths=(40.0, 60.0, 80.0, 100.0), d0=20.0)
    lays = layer_densities(x20, b_use, bounds=LAYER_BOUNDS, d0=20.0)
    dens_rows = []
    for e in ECOSYSTEMS:
        m = (prof["ecosystem3"] == e).to_numpy()
        for k, (t0, t1) in enumerate(itertools.pairwise(LAYER_BOUNDS)):
            dens_rows.append({"ecosystem": e, "layer": f"{int(t0)}-{int(t1)}cm",
                              "predicted_eq3": float(np.nanmean(lays[m, k])),
                              "observed_spline": float(prof.loc[m, f"x_{int(t0)}_{int(t1)}"]
                                                       .mean())})
        for k, d in enumerate((40, 60, 80, 100)):
            dens_rows.append({"ecosystem": e, "layer": f"0-{d}cm cumulative",
                              "predicted_eq3": float(np.nanmean(cum[m, k])),
                              "observed_spline": float(prof.loc[m, [
                                  c for c in wide.columns if int(c.split('_')[2]) <= d]]
                                  .sum(axis=1).mean())})
    dens = pd.DataFrame(dens_rows)
    ctx.table("soc_density_by_layer", dens)
    _plot_layers(ctx, dens, plt)
    sub_pred = prof["x_0_20"] * 0 + (cum[:, 3] - x20)
    return sub_pred


def _monte_carlo(ctx: Reproduction, prof: pd.DataFrame, features: list[str],
                 sub_pred: pd.Series, n_jobs: int) -> None:
    """Monte Carlo uncertainty of the 20–100 cm density (Eq. 7) and its rows."""
    from wholesoil.depth import cumulative_density
    from wholesoil.mapping import RandomForest

    quick, seed = ctx.quick, ctx.seed
    from wholesoil.mapping import MonteCarloInterval

    n_draws, n_mc_boot, mc_trees = (200, 10, 50) if quick else (1000, 100, 500)
    ctx.option("monte_carlo", {"n_draws": n_draws, "n_boot": n_mc_boot, "trees": mc_trees,
                               "rel_sd": 0.1})
    unc_rows = []
    for e in ECOSYSTEMS:
        t = prof[prof["ecosystem3"] == e].dropna(subset=features).reset_index(drop=True)
        if len(t) < 20:
            unc_rows.append({"ecosystem": e, "n": len(t)})
            continue

        def _mc(t=t) -> pd.DataFrame:
            mc = MonteCarloInterval(
                forest=RandomForest(mc_trees, oob_score=False, n_jobs=n_jobs),
                n_draws=n_draws, n_boot=n_mc_boot, rel_sd=0.1, random_state=seed,
            ).fit(t[features].astype(float), t["beta"].to_numpy(), groups=t["site"].to_numpy())
            draws = mc.predict_draws(t[features].astype(float))  # (n_draws, n)
            x20e = t["x_0_20"].to_numpy()[None, :]
            sub = cumulative_density(x20e, draws, depths=(100.0,), d0=20.0)[..., 0] - x20e
            return pd.DataFrame({
                "profile_id": t["profile_id"], "beta_mean": draws.mean(axis=0),
                "beta_low": np.percentile(draws, 2.5, axis=0),
                "beta_high": np.percentile(draws, 97.5, axis=0),
                "subsoil_mean": sub.mean(axis=0),
                "subsoil_low": np.percentile(sub, 2.5, axis=0),
                "subsoil_high": np.percentile(sub, 97.5, axis=0)})

        mcr = ctx.cached(f"monte_carlo_{e}", _mc, features=features, n_draws=n_draws,
                         n_boot=n_mc_boot, trees=mc_trees)
        u = (mcr["subsoil_high"] - mcr["subsoil_low"]) / mcr["subsoil_mean"]
        unc_rows.append({"ecosystem": e, "n": len(mcr),
                         "subsoil_mean": float(mcr["subsoil_mean"].mean()),
                         "subsoil_low": float(mcr["subsoil_low"].mean()),
                         "subsoil_high": float(mcr["subsoil_high"].mean()),
                         "U_mean": float(u.mean()), "U_median": float(u.median())})
    unc = pd.DataFrame(unc_rows)
    ctx.table("monte_carlo_uncertainty", unc)
    paper_u = {"cropland": 0.34, "grassland": 0.37, "forest": 0.38}
    paper_sub = {"cropland": 62.0, "grassland": 70.0, "forest": 97.0}
    for e in ECOSYSTEMS:
        m = (prof["ecosystem3"] == e).to_numpy()
        mu, lo, hi = mean_ci(sub_pred[m].to_numpy())
        ctx.row(f"subsoil_density_{e}", f"SOC density 20–100 cm, {e} (Eq. 3)", "Mg C/ha",
                paper_sub[e], mu, low=lo, high=hi, n=int(m.sum()),
                note="profile mean of Eq. 3 from measured 0–20 cm density and cross-validated "
                     "β; interval: 95 % CI of the mean; the paper's is the mean of its map")
        ur = unc[unc["ecosystem"] == e]
        uval = float(ur["U_mean"].iloc[0]) if "U_mean" in ur and ur["U_mean"].notna().any() \
            else None
        ctx.row(f"uncertainty_subsoil_{e}", f"Monte Carlo uncertainty U = CI/x of 20–100 cm "
                f"density, {e} (Eq. 7)", "-", paper_u[e], uval,
                n=int(ur["n"].iloc[0]) if len(ur) else None,
                note="mean over profiles of the 95 % Monte Carlo width / mean (inputs "
                     "N(x, 0.1x), bootstrapped forests); the paper's is the mean over map cells"
                if uval is not None else "fewer than 20 profiles with covariates")


def _stocks(ctx: Reproduction, prof: pd.DataFrame, sites: pd.DataFrame, h: pd.DataFrame
            ) -> None:
    """0–100 cm stocks by ecosystem (Eq. 6 with the paper's areas) and subsoil shares."""
    quick, seed = ctx.quick, ctx.seed
    rng = np.random.default_rng(seed)
    n_b = 200 if quick else 1000
    paper_stock = {"cropland": 133.0, "forest": 942.0, "grassland": 342.0}
    stock_rows = []
    for e in ("cropland", "forest", "grassland"):
        x = prof.loc[prof["ecosystem3"] == e, ["x_100", "x_0_20"]].to_numpy()
        area = PAPER_AREA_1E9_HA[e]
        idx = rng.integers(0, len(x), size=(n_b, len(x)))
        boot = x[idx, 0].mean(axis=1) * area
        s = float(x[:, 0].mean() * area)
        s20 = float(x[:, 1].mean() * area)
        stock_rows.append({"ecosystem": e, "n": len(x), "area_1e9_ha": area,
                           "density_0_100": float(x[:, 0].mean()), "stock_0_100_pg": s,
                           "stock_0_20_pg": s20, "stock_20_100_pg": s - s20,
                           "low": float(np.percentile(boot, 2.5)),
                           "high": float(np.percentile(boot, 97.5))})
        ctx.row(f"stock_0_100cm_pg_{e}", f"SOC stock 0–100 cm, {e} (Table 1)", "Pg C",
                paper_stock[e], s, low=stock_rows[-1]["low"], high=stock_rows[-1]["high"],
                n=len(x), note="method: mean measured 0–100 cm density of the ISRaD profiles × "
                f"the paper's {e} area ({area} × 10⁹ ha, Table 1); interval: bootstrap of "
                "profiles; ISRaD profiles are not an area-representative sample")
    stocks = pd.DataFrame(stock_rows)
    ctx.table("stocks", stocks)
    tot = stocks["stock_0_100_pg"].sum()
    share20 = float(stocks["stock_20_100_pg"].sum() / tot)
    ctx.row("subsoil_share_0_100cm", "share of the 0–100 cm SOC stock below 20 cm", "-", 0.57,
            share20, n=len(prof), note="area-weighted (paper areas) over the three ecosystems, "
            "measured spline layers; the paper's subsoil is 20/30–100 cm")
    lay30 = ctx.cached("harmonize_30", lambda: harmonize_layers(
        sites[sites["profile_id"].isin(prof["profile_id"])], h, (0.0, 30.0, 100.0)),
        bounds=(0, 30, 100))
    w30 = lay30.pivot(index="profile_id", columns="top", values="soc_density")
    w30 = w30.join(prof.set_index("profile_id")["ecosystem3"], how="inner")
    num = sum(PAPER_AREA_1E9_HA[e] * w30.loc[w30["ecosystem3"] == e, 30.0].mean()
              for e in ECOSYSTEMS)
    den = sum(PAPER_AREA_1E9_HA[e] * (w30.loc[w30["ecosystem3"] == e, [0.0, 30.0]].sum(axis=1)
                                      .mean()) for e in ECOSYSTEMS)
    ctx.row("subsoil_share_below_30cm", "share of the 0–100 cm SOC stock below 30 cm", "-",
            0.57, float(num / den), n=len(w30), note="as subsoil_share_0_100cm with a 30-cm "
            "topsoil (the paper pools 20- and 30-cm topsoils)")


def _plot_pd(pdt: pd.DataFrame, plt: Any) -> Any:
    eco = list(dict.fromkeys(pdt["ecosystem"]))
    fig, axes = plt.subplots(len(eco), 3, figsize=(10, 3 * len(eco)), squeeze=False)
    for i, e in enumerate(eco):
        sub = pdt[pdt["ecosystem"] == e]
        for j, drv in enumerate(list(dict.fromkeys(sub["feature"]))[:3]):
            d = sub[sub["feature"] == drv]
            ax = axes[i, j]
            ax.plot(d["value"], d["average"])
            ax.set_xlabel(str(drv))
            ax.set_ylabel(f"β [-], {e}")
    fig.tight_layout()
    return fig


def _plot_layers(ctx: Reproduction, dens: pd.DataFrame, plt: Any) -> None:
    fig, ax = plt.subplots(figsize=(5, 4.5))
    layer_rows = dens[~dens["layer"].str.contains("cumulative")]
    for e in ECOSYSTEMS:
        d = layer_rows[layer_rows["ecosystem"] == e]
        mids = np.arange(10, 100, 20)
        ax.plot(d["observed_spline"], mids, "o-", label=f"{e} measured")
        ax.plot(d["predicted_eq3"], mids, "x--", label=f"{e} Eq. 3")
    ax.invert_yaxis()
    ax.set_xlabel("SOC density of the 20-cm layer [Mg C/ha]")
    ax.set_ylabel("depth [cm]")
    ax.legend(fontsize=7)
    ctx.figure("layer_densities", fig, "Mean SOC density of each 20-cm layer: measured (spline) "
               "and by Eq. 3 from the 0–20 cm density with cross-validated β (paper §2.6, "
               "Fig. 4d).")
