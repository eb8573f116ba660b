"""``wholesoil demo``: the whole profile workflow on the bundled real data.

Stages (later issues add theirs to the same report):

1. NCSCD pedons (Hugelius et al. 2013): QC, equal-area spline of SOC density to 20-cm layers,
   Jobbágy–Jackson β and alternatives per pedon, subsoil stocks predicted from topsoil (seed 000
   Eq. 3) and scored with R²/RMSE (seed 000 Eqs. 4–5), β compared across soil orders (one-way
   ANOVA, Duncan, Tukey; seed 000 §2.8).
2. ISRaD Gaudinski (2001) entry: QC with the organic horizons' negative depths repaired by a
   named rule, SOC density by seed 000 Eq. 1 against the reported stock, bulk density filled by
   the seed 003 pedotransfer where missing, SOC and Δ14C splined with no clamp.
3. Mapping (:mod:`wholesoil.workflows._demo_mapping`): each NCSCD pedon's β and its layer
   densities predicted from climate sampled from the bundled grids, with profile-grouped and
   spatial CV, skill by depth band, importance, partial dependence and interval coverage.
4. Maps and stocks (:mod:`._demo_stocks`): β and topsoil density over the circumpolar region,
   regional stocks by depth with Monte Carlo intervals.
5. Process models (:mod:`._demo_models`): CLM5 and COMPAS with default parameters at every pedon.
6. Microbial models (:mod:`._demo_microbial`): seed 002's CUE-versus-input elasticities.
7. Calibration (:mod:`._demo_assimilation`): CLM5 and COMPAS calibrated per pedon (PRODA
   step 1, shortened protocol), posteriors against priors, fits, diagnostics, components.
8. PRODA (:mod:`._demo_proda`): networks from the calibrations to parameter maps over the
   circumpolar region, both models simulated with default and calibrated parameters, their
   agreement, and the end-to-end differentiable variant beside the two-step one.
9. Radiocarbon and inputs (:mod:`._demo_radiocarbon`): carbon ages from Δ14C, inputs to bulk
   soil, root inputs and their direct losses at Howland Forest (seed 004).
10. Drivers (:mod:`._demo_drivers`): β ~ MAT + MAP + (1 | region) and group comparisons.
"""

from __future__ import annotations

import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wholesoil import __version__
from wholesoil._atomic import save_figure, write_json
from wholesoil.datasets import load_israd_example, load_ncscd
from wholesoil.depth import (
    GLOBAL_MEAN_BETA,
    exponential_cumulative,
    fit_depth_functions,
    layer_densities,
    power_cumulative,
    x100_from_x_d0,
)
from wholesoil.io import write_table
from wholesoil.plots import (
    plot_depth_functions,
    plot_groups,
    plot_observed_predicted,
    plot_profiles,
)
from wholesoil.profiles._density import add_soc_density, cumulative_stocks
from wholesoil.profiles._pedotransfer import (
    TAO2022_BD_PTF,
    fill_bulk_density,
    fit_bd_pedotransfer,
)
from wholesoil.profiles._qc import QCResult, run_qc
from wholesoil.profiles._spline import harmonize
from wholesoil.progress import step
from wholesoil.report import Report
from wholesoil.workflows._demo_assimilation import assimilation_stage
from wholesoil.workflows._demo_drivers import drivers_stage
from wholesoil.workflows._demo_mapping import (
    DEMO_FOREST,
    INTERVAL_TREES,
    QUICK_FOREST,
    QUICK_INTERVAL_TREES,
    QUICK_MC_BOOT,
    mapping_stage,
)
from wholesoil.workflows._demo_microbial import microbial_stage
from wholesoil.workflows._demo_models import models_stage
from wholesoil.workflows._demo_proda import proda_stage
from wholesoil.workflows._demo_radiocarbon import radiocarbon_stage
from wholesoil.workflows._demo_stocks import (
    HUGELIUS2014_AREA_KM2,
    HUGELIUS2014_STOCKS_PG,
    stocks_stage,
)
from wholesoil.workflows._groups import compare_groups
from wholesoil.workflows._jobs import JobResult

#: 20-cm layers of seed 000 §2.2 to 1 m, then the NCSCD's own 1-m layers to 3 m.
DEMO_DEPTHS_NCSCD = (0.0, 20.0, 40.0, 60.0, 80.0, 100.0, 200.0, 300.0)
#: GlobalSoilMap standard depths for the ISRaD profiles (they reach about 1 m).
DEMO_DEPTHS_ISRAD = (0.0, 5.0, 15.0, 30.0, 60.0, 100.0)
#: Northern circumpolar permafrost-region soil area and published stocks (Hugelius et al. 2014,
#: Biogeosciences 11:6573–6593; quoted in shared/data/SOURCES.md) for a sanity comparison.


def r2_rmse(obs: np.ndarray, pred: np.ndarray) -> tuple[float, float, int]:
    """R² and RMSE, seed 000 Eqs. 4–5, over pairs where both are finite."""
    ok = np.isfinite(obs) & np.isfinite(pred)
    o, p = obs[ok], pred[ok]
    ss_res = float(np.sum((o - p) ** 2))
    ss_tot = float(np.sum((o - o.mean()) ** 2))
    return 1.0 - ss_res / ss_tot, float(np.sqrt(ss_res / o.size)), int(o.size)


def run_demo(
    out: str | Path,
    *,
    seed: int = 42,
    quick: bool = False,
    calibration_iterations: tuple[int, int] | None = None,
) -> JobResult:
    """Run the demo into folder ``out``; returns what was written.

    ``quick`` shortens the slow stages (fewer pedons and iterations in the calibration, fewer
    Monte Carlo draws); ``calibration_iterations`` = (test, formal) overrides the calibration's
    shortened protocol, e.g. (20000, 50000) for seed 003's.
    """
    t_start = time.perf_counter()
    out = Path(out)
    fig_dir = out / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    timings: dict[str, float] = {}
    outputs: dict[str, Path] = {}
    rep = Report("wholesoil demo: from real horizon data to subsoil carbon", root=out)
    rep.text(
        f"wholesoil {__version__}, seed {seed}. Data bundled with the package: the NCSCD pedon "
        "database (Hugelius et al. 2013, ESSD 5:393–402, CC BY 3.0) and the ISRaD Gaudinski "
        "(2001) entry (Lawrence et al. 2020, ESSD 12:61–76, CC BY 4.0)."
    )

    def save(name: str, df: pd.DataFrame) -> None:
        outputs[name] = write_table(df, out / "tables" / f"{name}.csv")

    def figure(fig: Any, name: str, caption: str) -> None:
        path = save_figure(fig, fig_dir / f"{name}.png")
        outputs[f"figure:{name}"] = path
        rep.figure(path, caption, relative_to=out)

    # ---------------------------------------------------------------- NCSCD
    t0 = time.perf_counter()
    with step("NCSCD: load and QC", stage="demo-ncscd"):
        ncscd = load_ncscd()
        qc_n = run_qc(ncscd)
    save("ncscd_qc_report", qc_n.report)
    ps = qc_n.profiles
    h = ps.horizons
    rep.heading("1. NCSCD permafrost pedons")
    rep.text(
        f"{ncscd.n_profiles} pedons, {ncscd.n_horizons} layers (0–30, 30–100, 100–200, "
        "200–300 cm SOC stocks converted from kg C m⁻² to Mg C ha⁻¹; 30–100 cm by difference "
        "of the published 0–100 and 0–30 cm stocks)."
    )
    _qc_section(rep, qc_n)
    timings["ncscd_load_qc"] = time.perf_counter() - t0

    # spline of density per cm → 20-cm layers (mass-preserving, exact integrals)
    t0 = time.perf_counter()
    per_cm = h.assign(soc_density_per_cm=h["soc_density"] / (h["bottom"] - h["top"]))
    per_cm_ps = ps.with_horizons(per_cm)
    sp = harmonize(
        per_cm_ps, "soc_density_per_cm", depths=DEMO_DEPTHS_NCSCD, lam=0.1, method="exact"
    )
    sp["soc_density"] = sp["soc_density_per_cm"] * (sp["bottom"] - sp["top"])
    save("ncscd_harmonized_layers", sp)
    timings["ncscd_spline"] = time.perf_counter() - t0
    mean_layers = (
        sp[sp["coverage"] >= 1.0]
        .groupby(["top", "bottom"], as_index=False)["soc_density"]
        .agg(["mean", "median", "count"])
    )
    rep.table(
        mean_layers,
        "Harmonized SOC density per layer [Mg C ha⁻¹], pedons whose data cover the layer "
        "(equal-area spline of density per cm, λ = 0.1, exact integrals)",
    )

    # depth functions per pedon
    t0 = time.perf_counter()
    with step("depth functions", stage="demo-depth"):
        fits = fit_depth_functions(h, value="soc_density")
    sites = ps.sites.set_index("profile_id")
    for col in ("soil_order", "ecosystem", "region"):
        if col in sites.columns:
            fits[col] = fits["profile_id"].map(sites[col])
    save("ncscd_depth_function_fits", fits)
    timings["ncscd_depth_functions"] = time.perf_counter() - t0
    ok = fits["beta"].notna()
    best = fits.loc[ok, "best_model"].value_counts().rename_axis("model").reset_index()
    rep.text(
        f"β fitted for {int(ok.sum())} of {len(fits)} pedons: median β = "
        f"{fits.loc[ok, 'beta'].median():.4f} (IQR {fits.loc[ok, 'beta'].quantile(0.25):.4f}–"
        f"{fits.loc[ok, 'beta'].quantile(0.75):.4f}); Wang et al. (seed 000) report a global "
        f"mean of {GLOBAL_MEAN_BETA} for 0–100 cm profiles outside this region."
    )
    rep.table(best, "Depth-function family with the lowest AIC, by pedon count")
    cum = cumulative_stocks(h)
    examples = fits.loc[ok & (fits["n_layers"] >= 4), "profile_id"].head(4).tolist()
    curves = _fitted_curves(fits[fits["profile_id"].isin(examples)])
    figure(
        plot_depth_functions(cum, curves, profile_ids=examples),
        "ncscd_depth_functions",
        "Cumulative SOC density of four NCSCD pedons (points) and fitted depth functions.",
    )

    # subsoil from topsoil: Eq. 3 with d0 = 30 cm
    wide = h.pivot_table(index="profile_id", columns="top", values="soc_density", aggfunc="first")
    x30 = wide.get(0.0, pd.Series(np.nan, index=wide.index)).to_numpy(float)
    x100_obs = (wide.get(0.0) + wide.get(30.0)).to_numpy(float)
    rows = []
    pred_global = x100_from_x_d0(x30, GLOBAL_MEAN_BETA, d0=30.0, d=100.0)
    r2g, rmseg, ng = r2_rmse(x100_obs, pred_global)
    rows.append({"β used": f"global mean {GLOBAL_MEAN_BETA}", "n": ng, "R²": r2g, "RMSE": rmseg})
    # β from other pedons of the same soil order (leave-one-out group median): an honest
    # out-of-sample use of group β, as a mapper would do with a class map.
    beta_loo = _leave_one_out_group_median(fits, "soil_order")
    bl = pd.Series(beta_loo, index=fits["profile_id"]).reindex(wide.index).to_numpy(float)
    pred_group = x100_from_x_d0(x30, bl, d0=30.0, d=100.0)
    r2s, rmses, ns = r2_rmse(x100_obs, pred_group)
    rows.append({"β used": "soil-order median, leave-one-out", "n": ns, "R²": r2s, "RMSE": rmses})
    own = pd.Series(fits["beta"].to_numpy(), index=fits["profile_id"]).reindex(wide.index)
    pred_own = x100_from_x_d0(x30, own.to_numpy(float), d0=30.0, d=100.0)
    r2o, rmseo, no = r2_rmse(x100_obs, pred_own)
    rows.append({"β used": "pedon's own fit (in-sample)", "n": no, "R²": r2o, "RMSE": rmseo})
    sub = pd.DataFrame(rows)
    save("ncscd_subsoil_from_topsoil", sub)
    rep.heading("Subsoil from topsoil (seed 000 Eq. 3)", level=3)
    rep.text(
        "0–100 cm SOC density predicted from the observed 0–30 cm density with "
        "X₁₀₀ = (1 − β¹⁰⁰)/(1 − β³⁰)·X₃₀, scored against the observed 0–100 cm density by R² "
        "and RMSE [Mg C ha⁻¹] (seed 000 Eqs. 4–5)."
    )
    rep.table(sub, "Predicting 0–100 cm from 0–30 cm SOC density in permafrost pedons")

    # seed 000 §2.6: cumulative densities at 40/60/80/100 cm from the 0–20 cm density and β,
    # 20-cm layers by difference; scored layer by layer against the spline layers
    lay20 = sp[(sp["bottom"] <= 100.0) & (sp["coverage"] >= 1.0)].pivot_table(
        index="profile_id", columns="top", values="soc_density", aggfunc="first"
    )
    lay20 = lay20.reindex(columns=[0.0, 20.0, 40.0, 60.0, 80.0]).dropna()
    b_loo = pd.Series(beta_loo, index=fits["profile_id"]).reindex(lay20.index).to_numpy(float)
    pred20 = layer_densities(lay20[0.0].to_numpy(float), b_loo, d0=20.0)
    layer_rows = []
    for j, top in enumerate(lay20.columns):
        r2, rmse, n = r2_rmse(lay20[top].to_numpy(float), pred20[:, j])
        layer_rows.append(
            {
                "layer [cm]": f"{top:g}–{top + 20:g}",
                "n": n,
                "R²": r2,
                "RMSE": rmse,
                "observed mean": float(lay20[top].mean()),
                "predicted mean": float(pred20[:, j].mean()),
            }
        )
    by_layer = pd.DataFrame(layer_rows)
    save("ncscd_layers_from_topsoil", by_layer)
    rep.text(
        "Layer by layer (seed 000 §2.6): cumulative density at 40, 60, 80 and 100 cm from the "
        "0–20 cm density and the leave-one-out soil-order β, 20-cm layers by difference, against "
        "the spline layers. The first row is the input itself (R² = 1); skill falls with depth. "
        "Caveat: NCSCD reports 0–30 and 30–100 cm stocks only, so the 20-cm 'observations' are "
        "themselves equal-area spline estimates; WoSIS horizon data give the direct test."
    )
    rep.table(by_layer, "20-cm layer densities predicted from 0–20 cm [Mg C ha⁻¹]")
    figure(
        plot_observed_predicted(
            x100_obs, pred_group, label="0–100 cm SOC [Mg C ha⁻¹]", r2=r2s, rmse=rmses
        ),
        "ncscd_x100_observed_predicted",
        "0–100 cm SOC density predicted from 0–30 cm with leave-one-out soil-order β.",
    )

    # group comparison of β across soil orders
    if "soil_order" in fits.columns:
        # fits that ended on a bound of β are flagged in the fit table and left out here
        on_bound = fits["warnings"].fillna("").str.contains("bound")
        grp = fits.loc[ok & ~on_bound, ["beta", "soil_order"]].dropna()
        counts = grp["soil_order"].value_counts()
        grp = grp[grp["soil_order"].isin(counts[counts >= 5].index)]
        comp = compare_groups(grp["beta"], grp["soil_order"])
        for name, df in comp.tables.items():
            save(f"ncscd_beta_by_soil_order_{name}", df)
        rep.heading("β across soil orders (seed 000 §2.8)", level=3)
        rep.text(comp.summary)
        rep.table(comp.tables["groups"], "β by soil order with Duncan and Tukey letters")
        figure(
            plot_groups(
                grp["beta"],
                grp["soil_order"],
                letters=comp.letters,
                reference=GLOBAL_MEAN_BETA,
                reference_label=f"global mean β {GLOBAL_MEAN_BETA} (seed 000)",
            ),
            "ncscd_beta_by_soil_order",
            f"β by soil order (orders with ≥ 5 pedons; {int((ok & on_bound).sum())} fit(s) "
            "ending on a bound of β left out); letters: Duncan's multiple range test, "
            "groups sharing a letter do not differ at α = 0.05.",
        )

    # naive regional sanity check (not a map: mapping is a later stage)
    stock_rows = []
    wide300 = wide.reindex(columns=[0.0, 30.0, 100.0, 200.0])
    depth_sets = {"0-30": [0.0], "0-100": [0.0, 30.0], "0-300": [0.0, 30.0, 100.0, 200.0]}
    for label, cols in depth_sets.items():
        tot = wide300[cols].sum(axis=1, min_count=len(cols))
        mean = float(tot.mean())  # Mg C ha⁻¹
        boot = [
            float(rng.choice(tot.dropna().to_numpy(), tot.notna().sum()).mean())
            for _ in range(1000)
        ]
        lo, hi = np.percentile(boot, [2.5, 97.5])
        to_pg = HUGELIUS2014_AREA_KM2 * 100.0 * 1e-9  # km² → ha, Mg → Pg
        pub, pub_sd = HUGELIUS2014_STOCKS_PG[label]
        stock_rows.append(
            {
                "depth": label,
                "pedons": int(tot.notna().sum()),
                "mean density [Mg C/ha]": mean,
                "naive stock [Pg C]": mean * to_pg,
                "bootstrap 2.5%": lo * to_pg,
                "bootstrap 97.5%": hi * to_pg,
                "Hugelius 2014 [Pg C]": f"{pub:g} ± {pub_sd:g}",
            }
        )
    naive = pd.DataFrame(stock_rows)
    save("ncscd_naive_regional_stocks", naive)
    rep.text(
        "Sanity check, not a map: the pedons' mean density times 17.8 million km² against the "
        "published totals. Pedons over-represent carbon-rich Gelisols and Histosols, so the "
        "naive total is expected to be high; spatial upscaling is the mapping stage's job.",
        note=True,
    )
    rep.table(naive, "Naive regional SOC stock from pedon means (bootstrap over pedons, 1,000)")

    # ---------------------------------------------------------------- ISRaD
    t0 = time.perf_counter()
    israd = load_israd_example()
    # Peat and moss layers of the swamp profiles have measured BD of 0.01–0.04 g cm⁻³, below
    # the generic 0.05 floor: flag them (listed in the QC report) rather than replace measured
    # values by a mineral-soil pedotransfer estimate.
    qc_i = run_qc(israd, rules={"value_range": "flag"})
    save("israd_qc_report", qc_i.report)
    hi_ = qc_i.profiles.horizons
    rep.heading("2. ISRaD entry Gaudinski (2001), Howland Forest")
    rep.text(f"{israd.n_profiles} profiles, {israd.n_horizons} layers.")
    _qc_section(rep, qc_i)
    if len(qc_i.report):
        rep.table(qc_i.report, "Every QC finding, with rule, before and after")
    ptf = fit_bd_pedotransfer(hi_["soc"], hi_["bd"])
    pub = TAO2022_BD_PTF
    rep.text(
        f"Bulk-density pedotransfer BD = α + β·exp(−γ·OM) refitted on the {ptf.n} layers with "
        f"measured BD and SOC: α = {ptf.alpha:.3f}, β = {ptf.beta:.3f}, γ = {ptf.gamma:.4f} "
        f"(R² = {ptf.r2:.2f}, RMSE = {ptf.rmse:.3f} g cm⁻³) against the published WoSIS fit "
        f"α = {pub['alpha']}, β = {pub['beta']}, γ = {pub['gamma']} (seed 003 §2.1). The refit "
        "fills the layers without BD; each filled value is flagged (bd_filled)."
    )
    hi_ = fill_bulk_density(hi_, ptf)
    hi_ = add_soc_density(hi_, overwrite=True)
    save("israd_horizons", hi_)
    if "soc_density_reported" in hi_.columns:
        cols = [
            "profile_id",
            "horizon",
            "top",
            "bottom",
            "soc",
            "bd",
            "bd_filled",
            "soc_density_reported",
            "soc_density",
        ]
        disc = hi_.loc[hi_["soc_density_reported"].notna(), cols].copy()
        disc["reported / Eq. 1"] = disc["soc_density_reported"] / disc["soc_density"]
        save("israd_reported_vs_eq1", disc)
        off = disc["reported / Eq. 1"].sub(1.0).abs() > 0.05
        rep.text(
            "Reported layer SOC stock (lyr_soc) against seed 000 Eq. 1 (SOC·BD·D·(1−GC/100)/10) "
            f"[Mg C ha⁻¹]: {int(off.sum())} of {len(disc)} layers differ by more than 5 %. Both "
            "are kept and nothing is overwritten; these layers are worth checking at the source.",
        )
        rep.table(disc, "Reported vs Eq. 1 SOC density [Mg C ha⁻¹]")
    ips = qc_i.profiles.with_horizons(hi_)
    for var, label in (("soc", "SOC [g C kg⁻¹]"), ("d14c", "Δ14C [‰]")):
        if var not in hi_.columns or hi_[var].notna().sum() == 0:
            continue
        lay = harmonize(ips, var, depths=DEMO_DEPTHS_ISRAD, lam=0.1, method="exact")
        save(f"israd_harmonized_{var}", lay)
        has = hi_.loc[hi_[var].notna(), "profile_id"].unique()[:5]
        figure(
            plot_profiles(hi_, var, harmonized=lay, profile_ids=has, xlabel=label),
            f"israd_{var}_profiles",
            f"{label} of the Howland Forest profiles (horizons, grey) and their equal-area "
            "spline averages over standard depths (orange); no clamping, so negative Δ14C "
            "survives.",
        )
    timings["israd"] = time.perf_counter() - t0

    # ---------------------------------------------------------------- mapping
    with step("mapping", stage="demo-mapping"):
        mapping_params, beta_table = mapping_stage(
            rep, out, save, fits, h, ps.sites, seed=seed, timings=timings, quick=quick
        )
    rep.parameters(mapping_params, "Method and parameters (run.json: parameters.mapping)")

    # ---------------------------------------------------------------- maps and stocks
    with step("maps and stocks", stage="demo-stocks"):
        stocks_params = stocks_stage(
            rep, out, save, beta_table, h, out / "mapping" / "beta" / "model", seed=seed,
            forest=QUICK_FOREST if quick else DEMO_FOREST,
            interval_trees=QUICK_INTERVAL_TREES if quick else INTERVAL_TREES, timings=timings,
            **({"mc_boot": QUICK_MC_BOOT} if quick else {}),
        )
    rep.parameters(stocks_params, "Method and parameters (run.json: parameters.stocks)")

    # ---------------------------------------------------------------- process models
    with step("process models", stage="demo-models"):
        models_params = models_stage(rep, out, save, h, ps.sites, timings=timings)
    rep.parameters(models_params, "Method and parameters (run.json: parameters.process_models)")

    # ---------------------------------------------------------------- microbial models
    with step("microbial models", stage="demo-microbial"):
        microbial_params = microbial_stage(rep, out, save, timings=timings)
    rep.parameters(microbial_params,
                   "Method and parameters (run.json: parameters.microbial_sensitivity)")

    # ---------------------------------------------------------------- calibration (PRODA 1)
    with step("calibration", stage="demo-calibration"):
        calibration_params, _calibrations, _cal_sites = assimilation_stage(
            rep, out, save, h, ps.sites, seed=seed, timings=timings, quick=quick,
            iterations=calibration_iterations,
        )
    rep.parameters(calibration_params, "Method and parameters (run.json: parameters.calibration)")

    # ---------------------------------------------------------------- PRODA (step 2) and e2e
    with step("PRODA maps and model agreement", stage="demo-proda"):
        proda_params = proda_stage(rep, out, save, calibrations=_calibrations, sites=_cal_sites,
                                   seed=seed, timings=timings, quick=quick)
    rep.parameters(proda_params, "Method and parameters (run.json: parameters.proda)")

    # ---------------------------------------------------------------- radiocarbon and inputs
    with step("radiocarbon and inputs", stage="demo-radiocarbon"):
        radiocarbon_params = radiocarbon_stage(rep, out, save, seed=seed, timings=timings,
                                               quick=quick)
    rep.parameters(radiocarbon_params,
                   "Method and parameters (run.json: parameters.radiocarbon_inputs)")

    # ---------------------------------------------------------------- drivers
    with step("drivers", stage="demo-drivers"):
        drivers_params = drivers_stage(rep, out, save, fits, ps.sites, timings=timings)
    rep.parameters(drivers_params, "Method and parameters (run.json: parameters.drivers)")

    # ---------------------------------------------------------------- run.json + report
    timings["total"] = time.perf_counter() - t_start
    run = {
        "command": "wholesoil demo",
        "wholesoil": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "seed": seed,
        "inputs": {
            "ncscd": ncscd.metadata.get("citation"),
            "israd": israd.metadata.get("citation"),
        },
        "parameters": {
            "ncscd_depths": DEMO_DEPTHS_NCSCD,
            "israd_depths": DEMO_DEPTHS_ISRAD,
            "lambda": 0.1,
            "global_mean_beta": GLOBAL_MEAN_BETA,
            "mapping": mapping_params,
            "stocks": stocks_params,
            "process_models": models_params,
            "microbial_sensitivity": microbial_params,
            "calibration": calibration_params,
            "proda": proda_params,
            "radiocarbon_inputs": radiocarbon_params,
            "drivers": drivers_params,
            "quick": quick,
        },
        "timings_s": timings,
        "outputs": {k: str(v.relative_to(out)) for k, v in outputs.items()},
    }
    outputs["run"] = write_json(out / "run.json", run)
    rep.heading("Run")
    rep.text(
        "Timings [s]: "
        + ", ".join(f"{k} {v:.2f}" for k, v in timings.items())
        + ". Every table is in tables/, every figure in figures/, parameters in run.json."
    )
    rep.parameters(run["parameters"], "All parameters (run.json)", collapsed=True)
    with step("report", stage="demo-report"):
        outputs["report"] = rep.write(out / "report.html")
    return JobResult(
        fits,
        {"report": outputs["report"], "run": outputs["run"], "folder": out},
        None,
        [f"demo finished in {timings['total']:.1f} s"],
    )


def _qc_section(rep: Report, qc: QCResult) -> None:
    """QC summary line and the counts per check, action and rule."""
    rep.text(qc.to_text().splitlines()[0])
    rows = [
        {"check": c, "action": a, "findings": n, "rule": qc.rules.get(c, "")}
        for c, acts in qc.summary["counts"].items()
        for a, n in acts.items()
    ]
    if rows:
        rep.table(pd.DataFrame(rows), "QC findings by check; each one is listed in the QC table")


def _fitted_curves(fits: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Cumulative curves of the three fitted families on a 2-cm grid, for figures."""
    d = np.arange(0.0, 301.0, 2.0)
    f = fits.reset_index(drop=True)
    mask = d[None, :] <= f["max_depth"].to_numpy(float)[:, None]
    col = lambda name: f[name].to_numpy(float)[:, None]  # noqa: E731 - (P, 1) for broadcasting
    curves = {
        "beta": col("asymptote") * (1.0 - col("beta") ** d),
        "exponential": exponential_cumulative(d, col("exp_c0"), col("exp_c_inf"), col("exp_k")),
        "power": power_cumulative(d, col("power_a"), col("power_b")),
    }
    pid = np.broadcast_to(f["profile_id"].to_numpy()[:, None], mask.shape)
    dd = np.broadcast_to(d, mask.shape)
    return {
        name: pd.DataFrame(
            {"profile_id": pid[mask], "depth": dd[mask], "cumulative": np.asarray(c)[mask]}
        )
        for name, c in curves.items()
    }


def _leave_one_out_median(values: np.ndarray) -> np.ndarray:
    """Median of all *other* finite values, for every element, without a loop over elements.

    With the finite values sorted (m of them), removing the element at sorted position r leaves
    m − 1 values whose k-th order statistic is s[k] if k < r else s[k + 1]. NaN elements get the
    median of all m finite values; with m − 1 = 0 the result is NaN.
    """
    v = np.asarray(values, dtype=float)
    out = np.full(v.size, np.nan)
    fin = np.flatnonzero(np.isfinite(v))
    m = fin.size
    if m == 0:
        return out
    order = np.argsort(v[fin], kind="stable")
    s = v[fin][order]
    rank = np.empty(m, dtype=np.int64)
    rank[order] = np.arange(m)
    out[~np.isfinite(v)] = np.median(s)
    n2 = m - 1
    if n2 == 0:
        return out

    def stat(k: int) -> np.ndarray:
        return np.where(k < rank, s[k], s[np.minimum(k + 1, m - 1)])

    if n2 % 2:
        out[fin] = stat(n2 // 2)
    else:
        out[fin] = 0.5 * (stat(n2 // 2 - 1) + stat(n2 // 2))
    return out


def _leave_one_out_group_median(fits: pd.DataFrame, group: str) -> np.ndarray:
    """Each pedon's β predicted by the median β of the *other* pedons of its group.

    Falls back to the median of all other pedons when the group has no other member.
    """
    beta = fits["beta"].to_numpy(float)
    groups = fits[group].astype(str).to_numpy() if group in fits else np.full(len(fits), "all")
    out = np.full(beta.size, np.nan)
    for g in np.unique(groups):  # a loop over groups; within a group it is vectorized
        idx = np.flatnonzero(groups == g)
        out[idx] = _leave_one_out_median(beta[idx])
    lonely = np.isnan(out) & np.isfinite(beta)
    out[lonely] = _leave_one_out_median(beta)[lonely]
    return out
