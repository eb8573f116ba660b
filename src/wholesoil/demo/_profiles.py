"""Demo stages 1 and 2: the NCSCD permafrost pedons and the ISRaD Gaudinski (2001) entry.

1. NCSCD pedons (Hugelius et al. 2013): QC, equal-area spline of SOC density to 20-cm layers,
   Jobbágy–Jackson β and alternatives per pedon, subsoil stocks predicted from topsoil
   (Wang H. et al. (2025) Eq. 3) and scored with R²/RMSE (Wang H. et al. (2025) Eqs. 4–5), β
   compared across soil orders (one-way ANOVA, Duncan, Tukey; Wang H. et al. (2025) §2.8).
2. ISRaD Gaudinski (2001) entry: QC with the organic horizons' negative depths repaired by a
   named rule, SOC density by Wang H. et al. (2025) Eq. 1 against the reported stock, bulk density
   filled by the Tao et al. (EarthArXiv) pedotransfer where missing, SOC and Δ14C splined with no
   clamp.

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023

Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wholesoil._atomic import save_figure
from wholesoil.datasets import load_israd_example, load_ncscd
from wholesoil.demo._stocks import HUGELIUS2014_AREA_KM2, HUGELIUS2014_STOCKS_PG
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
from wholesoil.plots.report import Report
from wholesoil.profiles import (
    TAO2022_BD_PTF,
    QCResult,
    add_soc_density,
    cumulative_stocks,
    fill_bulk_density,
    fit_bd_pedotransfer,
    harmonize,
    run_qc,
)
from wholesoil.progress import step
from wholesoil.workflows._groups import compare_groups

#: 20-cm layers of Wang H. et al. (2025) §2.2 to 1 m, then the NCSCD's own 1-m layers to 3 m.
DEMO_DEPTHS_NCSCD = (0.0, 20.0, 40.0, 60.0, 80.0, 100.0, 200.0, 300.0)
#: GlobalSoilMap standard depths for the ISRaD profiles (they reach about 1 m).
DEMO_DEPTHS_ISRAD = (0.0, 5.0, 15.0, 30.0, 60.0, 100.0)


@dataclass
class Sink:
    """Where a demo stage writes: tables under ``out/tables``, figures under ``out/figures``
    (each also placed in the report), and the map of everything written."""

    out: Path
    rep: Report
    outputs: dict[str, Path] = field(default_factory=dict)

    def save(self, name: str, df: pd.DataFrame) -> None:
        """Write ``df`` to ``tables/{name}.csv``."""
        self.outputs[name] = write_table(df, self.out / "tables" / f"{name}.csv")

    def figure(self, fig: Any, name: str, caption: str) -> None:
        """Save ``fig`` to ``figures/{name}.png`` and place it in the report."""
        path = save_figure(fig, self.out / "figures" / f"{name}.png")
        self.outputs[f"figure:{name}"] = path
        self.rep.figure(path, caption, relative_to=self.out)


def r2_rmse(obs: np.ndarray, pred: np.ndarray) -> tuple[float, float, int]:
    """R² and RMSE, Wang H. et al. (2025) Eqs. 4–5, over pairs where both are finite."""
    ok = np.isfinite(obs) & np.isfinite(pred)
    o, p = obs[ok], pred[ok]
    ss_res = float(np.sum((o - p) ** 2))
    ss_tot = float(np.sum((o - o.mean()) ** 2))
    return 1.0 - ss_res / ss_tot, float(np.sqrt(ss_res / o.size)), int(o.size)


@dataclass
class Pedons:
    """What stage 1 hands to the later stages."""

    ncscd: Any
    profiles: Any
    fits: pd.DataFrame

    @property
    def horizons(self) -> pd.DataFrame:
        return self.profiles.horizons


def ncscd_stage(sink: Sink, rng: np.random.Generator, timings: dict[str, float]) -> Pedons:
    """Stage 1: QC, splines, depth functions, subsoil from topsoil, β by soil order and a naive
    regional stock of the NCSCD pedons."""
    ncscd, ps, h = _load_and_qc(sink, timings)
    sp = _spline_layers(sink, ps, h, timings)
    fits, ok = _depth_functions(sink, ps, h, timings)
    x100 = _subsoil_from_topsoil(sink, h, fits)
    _layers_from_topsoil(sink, sp, fits, x100)
    _beta_by_soil_order(sink, fits, ok)
    _naive_stocks(sink, x100["wide"], rng)
    return Pedons(ncscd, ps, fits)


def _load_and_qc(sink: Sink, timings: dict[str, float]) -> tuple[Any, Any, pd.DataFrame]:
    t0 = time.perf_counter()
    with step("NCSCD: load and QC", stage="demo-ncscd"):
        ncscd = load_ncscd()
        qc_n = run_qc(ncscd)
    sink.save("ncscd_qc_report", qc_n.report)
    ps = qc_n.profiles
    h = ps.horizons
    sink.rep.heading("1. NCSCD permafrost pedons")
    sink.rep.text(
        f"{ncscd.n_profiles} pedons, {ncscd.n_horizons} layers (0–30, 30–100, 100–200, "
        "200–300 cm SOC stocks converted from kg C m⁻² to Mg C ha⁻¹; 30–100 cm by difference "
        "of the published 0–100 and 0–30 cm stocks)."
    )
    _qc_section(sink.rep, qc_n)
    timings["ncscd_load_qc"] = time.perf_counter() - t0
    return ncscd, ps, h


def _spline_layers(sink: Sink, ps: Any, h: pd.DataFrame,
                   timings: dict[str, float]) -> pd.DataFrame:
    # spline of density per cm → 20-cm layers (mass-preserving, exact integrals)
    t0 = time.perf_counter()
    per_cm = h.assign(soc_density_per_cm=h["soc_density"] / (h["bottom"] - h["top"]))
    per_cm_ps = ps.with_horizons(per_cm)
    sp = harmonize(
        per_cm_ps, "soc_density_per_cm", depths=DEMO_DEPTHS_NCSCD, lam=0.1, method="exact"
    )
    sp["soc_density"] = sp["soc_density_per_cm"] * (sp["bottom"] - sp["top"])
    sink.save("ncscd_harmonized_layers", sp)
    timings["ncscd_spline"] = time.perf_counter() - t0
    mean_layers = (
        sp[sp["coverage"] >= 1.0]
        .groupby(["top", "bottom"], as_index=False)["soc_density"]
        .agg(["mean", "median", "count"])
    )
    sink.rep.table(
        mean_layers,
        "Harmonized SOC density per layer [Mg C ha⁻¹], pedons whose data cover the layer "
        "(equal-area spline of density per cm, λ = 0.1, exact integrals)",
    )
    return sp


def _depth_functions(sink: Sink, ps: Any, h: pd.DataFrame,
                     timings: dict[str, float]) -> tuple[pd.DataFrame, pd.Series]:
    # depth functions per pedon
    t0 = time.perf_counter()
    with step("depth functions", stage="demo-depth"):
        fits = fit_depth_functions(h, value="soc_density")
    sites = ps.sites.set_index("profile_id")
    for col in ("soil_order", "ecosystem", "region"):
        if col in sites.columns:
            fits[col] = fits["profile_id"].map(sites[col])
    sink.save("ncscd_depth_function_fits", fits)
    timings["ncscd_depth_functions"] = time.perf_counter() - t0
    ok = fits["beta"].notna()
    best = fits.loc[ok, "best_model"].value_counts().rename_axis("model").reset_index()
    sink.rep.text(
        f"β fitted for {int(ok.sum())} of {len(fits)} pedons: median β = "
        f"{fits.loc[ok, 'beta'].median():.4f} (IQR {fits.loc[ok, 'beta'].quantile(0.25):.4f}–"
        f"{fits.loc[ok, 'beta'].quantile(0.75):.4f}); Wang H. et al. (2025) report a global "
        f"mean of {GLOBAL_MEAN_BETA} for 0–100 cm profiles outside this region."
    )
    sink.rep.table(best, "Depth-function family with the lowest AIC, by pedon count")
    cum = cumulative_stocks(h)
    examples = fits.loc[ok & (fits["n_layers"] >= 4), "profile_id"].head(4).tolist()
    curves = _fitted_curves(fits[fits["profile_id"].isin(examples)])
    sink.figure(
        plot_depth_functions(cum, curves, profile_ids=examples),
        "ncscd_depth_functions",
        "Cumulative SOC density of four NCSCD pedons (points) and fitted depth functions.",
    )
    return fits, ok


def _subsoil_from_topsoil(sink: Sink, h: pd.DataFrame, fits: pd.DataFrame) -> dict[str, Any]:
    """0–100 cm from 0–30 cm by Wang H. et al. (2025) Eq. 3 with global, leave-one-out group and own
    β."""
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
    sink.save("ncscd_subsoil_from_topsoil", sub)
    sink.rep.heading("Subsoil from topsoil (Wang H. et al. (2025) Eq. 3)", level=3)
    sink.rep.text(
        "0–100 cm SOC density predicted from the observed 0–30 cm density with "
        "X₁₀₀ = (1 − β¹⁰⁰)/(1 − β³⁰)·X₃₀, scored against the observed 0–100 cm density by R² "
        "and RMSE [Mg C ha⁻¹] (Wang H. et al. (2025) Eqs. 4–5)."
    )
    sink.rep.table(sub, "Predicting 0–100 cm from 0–30 cm SOC density in permafrost pedons")
    return {"wide": wide, "beta_loo": beta_loo, "x100_obs": x100_obs, "pred_group": pred_group,
            "r2": r2s, "rmse": rmses}


def _layers_from_topsoil(sink: Sink, sp: pd.DataFrame, fits: pd.DataFrame,
                        x100: dict[str, Any]) -> None:
    """20-cm layers from the 0–20 cm density (Wang H. et al. (2025) §2.6), then the 0–100 cm
    figure."""
    # Wang H. et al. (2025) §2.6: cumulative densities at 40/60/80/100 cm from the 0–20 cm density
    # and β, 20-cm layers by difference; scored layer by layer against the spline layers
    lay20 = sp[(sp["bottom"] <= 100.0) & (sp["coverage"] >= 1.0)].pivot_table(
        index="profile_id", columns="top", values="soc_density", aggfunc="first"
    )
    lay20 = lay20.reindex(columns=[0.0, 20.0, 40.0, 60.0, 80.0]).dropna()
    b_loo = pd.Series(x100["beta_loo"], index=fits["profile_id"]).reindex(lay20.index)
    b_loo = b_loo.to_numpy(float)
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
    sink.save("ncscd_layers_from_topsoil", by_layer)
    sink.rep.text(
        "Layer by layer (Wang H. et al. (2025) §2.6): cumulative density at 40, 60, 80 and 100 cm "
        "from the "
        "0–20 cm density and the leave-one-out soil-order β, 20-cm layers by difference, against "
        "the spline layers. The first row is the input itself (R² = 1); skill falls with depth. "
        "Caveat: NCSCD reports 0–30 and 30–100 cm stocks only, so the 20-cm 'observations' are "
        "themselves equal-area spline estimates; WoSIS horizon data give the direct test."
    )
    sink.rep.table(by_layer, "20-cm layer densities predicted from 0–20 cm [Mg C ha⁻¹]")
    sink.figure(
        plot_observed_predicted(
            x100["x100_obs"], x100["pred_group"], label="0–100 cm SOC [Mg C ha⁻¹]",
            r2=x100["r2"], rmse=x100["rmse"],
        ),
        "ncscd_x100_observed_predicted",
        "0–100 cm SOC density predicted from 0–30 cm with leave-one-out soil-order β.",
    )


def _beta_by_soil_order(sink: Sink, fits: pd.DataFrame, ok: pd.Series) -> None:
    # group comparison of β across soil orders
    if "soil_order" in fits.columns:
        # fits that ended on a bound of β are flagged in the fit table and left out here
        on_bound = fits["warnings"].fillna("").str.contains("bound")
        grp = fits.loc[ok & ~on_bound, ["beta", "soil_order"]].dropna()
        counts = grp["soil_order"].value_counts()
        grp = grp[grp["soil_order"].isin(counts[counts >= 5].index)]
        comp = compare_groups(grp["beta"], grp["soil_order"])
        for name, df in comp.tables.items():
            sink.save(f"ncscd_beta_by_soil_order_{name}", df)
        sink.rep.heading("β across soil orders (Wang H. et al. (2025) §2.8)", level=3)
        sink.rep.text(comp.summary)
        sink.rep.table(comp.tables["groups"], "β by soil order with Duncan and Tukey letters")
        sink.figure(
            plot_groups(
                grp["beta"],
                grp["soil_order"],
                letters=comp.letters,
                reference=GLOBAL_MEAN_BETA,
                reference_label=f"global mean β {GLOBAL_MEAN_BETA} (Wang H. et al. (2025))",
            ),
            "ncscd_beta_by_soil_order",
            f"β by soil order (orders with ≥ 5 pedons; {int((ok & on_bound).sum())} fit(s) "
            "ending on a bound of β left out); letters: Duncan's multiple range test, "
            "groups sharing a letter do not differ at α = 0.05.",
        )


def _naive_stocks(sink: Sink, wide: pd.DataFrame, rng: np.random.Generator) -> None:
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
    sink.save("ncscd_naive_regional_stocks", naive)
    sink.rep.text(
        "Sanity check, not a map: the pedons' mean density times 17.8 million km² against the "
        "published totals. Pedons over-represent carbon-rich Gelisols and Histosols, so the "
        "naive total is expected to be high; spatial upscaling is the mapping stage's job.",
        note=True,
    )
    sink.rep.table(naive,
                   "Naive regional SOC stock from pedon means (bootstrap over pedons, 1,000)")


def israd_stage(sink: Sink, timings: dict[str, float]) -> Any:
    """Stage 2: the ISRaD Gaudinski (2001) entry at Howland Forest; returns the loaded profiles."""
    t0 = time.perf_counter()
    israd = load_israd_example()
    # Peat and moss layers of the swamp profiles have measured BD of 0.01–0.04 g cm⁻³, below
    # the generic 0.05 floor: flag them (listed in the QC report) rather than replace measured
    # values by a mineral-soil pedotransfer estimate.
    qc_i = run_qc(israd, rules={"value_range": "flag"})
    sink.save("israd_qc_report", qc_i.report)
    hi_ = qc_i.profiles.horizons
    sink.rep.heading("2. ISRaD entry Gaudinski (2001), Howland Forest")
    sink.rep.text(f"{israd.n_profiles} profiles, {israd.n_horizons} layers.")
    _qc_section(sink.rep, qc_i)
    if len(qc_i.report):
        sink.rep.table(qc_i.report, "Every QC finding, with rule, before and after")
    ptf = fit_bd_pedotransfer(hi_["soc"], hi_["bd"])
    pub = TAO2022_BD_PTF
    sink.rep.text(
        f"Bulk-density pedotransfer BD = α + β·exp(−γ·OM) refitted on the {ptf.n} layers with "
        f"measured BD and SOC: α = {ptf.alpha:.3f}, β = {ptf.beta:.3f}, γ = {ptf.gamma:.4f} "
        f"(R² = {ptf.r2:.2f}, RMSE = {ptf.rmse:.3f} g cm⁻³) against the published WoSIS fit "
        f"α = {pub['alpha']}, β = {pub['beta']}, γ = {pub['gamma']} (Tao et al. (EarthArXiv) "
        f"§2.1). The refit "
        "fills the layers without BD; each filled value is flagged (bd_filled)."
    )
    hi_ = fill_bulk_density(hi_, ptf)
    hi_ = add_soc_density(hi_, overwrite=True)
    sink.save("israd_horizons", hi_)
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
        sink.save("israd_reported_vs_eq1", disc)
        off = disc["reported / Eq. 1"].sub(1.0).abs() > 0.05
        sink.rep.text(
            "Reported layer SOC stock (lyr_soc) against Wang H. et al. (2025) Eq. 1 "
            "(SOC·BD·D·(1−GC/100)/10) "
            f"[Mg C ha⁻¹]: {int(off.sum())} of {len(disc)} layers differ by more than 5 %. Both "
            "are kept and nothing is overwritten; these layers are worth checking at the source.",
        )
        sink.rep.table(disc, "Reported vs Eq. 1 SOC density [Mg C ha⁻¹]")
    ips = qc_i.profiles.with_horizons(hi_)
    for var, label in (("soc", "SOC [g C kg⁻¹]"), ("d14c", "Δ14C [‰]")):
        if var not in hi_.columns or hi_[var].notna().sum() == 0:
            continue
        lay = harmonize(ips, var, depths=DEMO_DEPTHS_ISRAD, lam=0.1, method="exact")
        sink.save(f"israd_harmonized_{var}", lay)
        has = hi_.loc[hi_[var].notna(), "profile_id"].unique()[:5]
        sink.figure(
            plot_profiles(hi_, var, harmonized=lay, profile_ids=has, xlabel=label),
            f"israd_{var}_profiles",
            f"{label} of the Howland Forest profiles (horizons, grey) and their equal-area "
            "spline averages over standard depths (orange); no clamping, so negative Δ14C "
            "survives.",
        )
    timings["israd"] = time.perf_counter() - t0
    return israd



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
