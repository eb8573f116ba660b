"""``wholesoil reproduce deep-soc``: layer-level RF of grassland SOC, skill by depth band.

Reproduces Wang, G., Luo, Z., Song, C., et al. (2025), Digging deeper towards accurate mapping
of deep soil organic carbon in grasslands, Science Bulletin, doi:10.1016/j.scib.2025.06.006, on
the ISRaD grassland profiles (``pro_land_cover = rangeland/grassland``):

1. a random forest on layer SOC stocks [Mg C ha⁻¹] with the layer's top and bottom depth as
   predictors beside climate (MAT, MAP) and a texture covariate (the paper's four "readily
   available" predictors; see :data:`PREDICTORS`);
2. validation on *whole held-out profiles*: every layer is predicted by a forest trained without
   any layer of its site (10-fold by site) and, as a second scheme, without any site of its
   10° × 10° region (spatial blocks); R² and bias per depth band, topsoil 0–30, subsoil 30–100
   and deep soil 100–200 cm (the paper's Fig. 1e, on 17 independent Nei Mongol sites);
3. partial correlations of SOC with each driver by depth band (Fig. S1);
4. the share of the 0–200 cm stock in topsoil, subsoil and deep soil (profiles sampled to
   200 cm, mass-preserving spline to 0–30, 30–100, 100–200 cm).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from wholesoil.reproduce._common import Reproduction, require
from wholesoil.reproduce._soc_layers import layer_soc_density, overlapping_profiles, site_key

#: Depth bands of the paper [cm]: topsoil, subsoil, deep soil.
BANDS: tuple[tuple[float, float], ...] = ((0.0, 30.0), (30.0, 100.0), (100.0, 200.0))
BAND_NAMES: tuple[str, ...] = ("topsoil", "subsoil", "deep")

#: Predictors of the layer model: depth interval, climate, and clay at the layer's depth.
#: The paper used MAT, MAP, total N and clay + silt from WoSIS; ISRaD has measured TN for 41 %
#: and clay + silt for 45 % of these layers only, so clay at the layer's mid-depth from
#: SoilGrids (ISRaD's ``pro_clay_*_cm_SG``) stands in for texture and TN is left out.
PREDICTORS: tuple[str, ...] = ("top", "bottom", "mat", "map", "clay_sg")

_SG_DEPTHS = np.array([0.0, 10.0, 30.0, 60.0, 100.0, 200.0])


def grassland_layers() -> tuple[pd.DataFrame, pd.DataFrame]:
    """ISRaD grassland layers in 0–200 cm with SOC density, covariates and site; and a log."""
    from wholesoil import datasets

    ps = datasets.load_israd()
    s = ps.sites.copy()
    log: list[dict[str, Any]] = [{"step": "ISRaD profiles", "profiles": len(s)}]
    s = s[s["ecosystem"].astype(object) == "rangeland/grassland"].copy()
    s["site"] = site_key(s)
    log.append({"step": "land cover rangeland/grassland", "profiles": len(s)})
    h = layer_soc_density(ps.horizons[ps.horizons["profile_id"].isin(s["profile_id"])])
    for reason, k in h.loc[~h["use"], "reason"].value_counts().items():
        log.append({"step": f"layer dropped: {reason}", "layers": int(k)})
    h = h[h["use"] & (h["top"] < 200)]
    # a layer crossing 200 cm keeps its part above 200 cm (uniform density within the layer)
    h = h.assign(bottom=h["bottom"].clip(upper=200.0))
    h["soc_density"] = h["soc_density_cm"] * (h["bottom"] - h["top"])
    over = overlapping_profiles(h)
    h = h[~h["profile_id"].isin(over)]
    log.append({"step": "profiles with overlapping layers dropped", "profiles": len(over)})
    s = s.set_index("profile_id")
    h = h.join(s[["site", "lat", "lon"]], on="profile_id")
    h["mat"] = h["profile_id"].map(pd.to_numeric(s["pro_BIO1_C_WC2.1"], errors="coerce"))
    h["map"] = h["profile_id"].map(pd.to_numeric(s["pro_BIO12_mmyr_WC2.1"], errors="coerce"))
    sg = np.column_stack([pd.to_numeric(s[f"pro_clay_{int(d)}_cm_SG"], errors="coerce")
                          for d in _SG_DEPTHS])
    row = s.index.get_indexer(h["profile_id"])
    mid = ((h["top"] + h["bottom"]) / 2).to_numpy()
    # linear interpolation of SoilGrids clay between its depths, per layer (vectorized)
    k = np.clip(np.searchsorted(_SG_DEPTHS, mid, side="right") - 1, 0, _SG_DEPTHS.size - 2)
    d0, d1 = _SG_DEPTHS[k], _SG_DEPTHS[k + 1]
    w = np.clip((mid - d0) / (d1 - d0), 0, 1)
    h["clay_sg"] = sg[row, k] * (1 - w) + sg[row, k + 1] * w
    h = h.dropna(subset=["soc_density", *PREDICTORS])
    log.append({"step": "layers in 0–200 cm with SOC density and predictors",
                "profiles": h["profile_id"].nunique(), "layers": len(h)})
    return h.reset_index(drop=True), pd.DataFrame(log)


def site_folds(table: pd.DataFrame, scheme: str = "site", n_splits: int = 10,
               block_size: float = 10.0, random_state: int = 0) -> np.ndarray:
    """Fold of each layer: whole sites (``"site"``) or whole lat/lon blocks (``"region"``).

    Every layer of a site is in the same fold, so no layer of a test profile — nor of any
    profile of its site — is ever in the training folds.
    """
    from wholesoil.mapping import ProfileKFold, SpatialBlockKFold

    if scheme == "site":
        return ProfileKFold(n_splits=n_splits, random_state=random_state).test_folds(
            table, groups=table["site"].to_numpy())
    if scheme == "region":
        return SpatialBlockKFold(n_splits=n_splits, block_size=block_size,
                                 random_state=random_state).test_folds(
            table, groups=table["site"].to_numpy())
    raise ValueError(f"scheme must be 'site' or 'region', got {scheme!r}")


class _Predefined:
    """A splitter from a fold array (test rows of fold k = rows with fold == k)."""

    def __init__(self, fold: np.ndarray) -> None:
        self.fold = np.asarray(fold)

    def get_n_splits(self, *args: Any, **kwargs: Any) -> int:
        return int(np.unique(self.fold).size)

    def split(self, X: Any = None, y: Any = None, groups: Any = None):
        for k in np.unique(self.fold):
            yield np.flatnonzero(self.fold != k), np.flatnonzero(self.fold == k)


def run(ctx: Reproduction, **options: Any) -> None:
    """Run the reproduction (see the module docstring)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from wholesoil.mapping import RandomForest, cross_validate, depthwise_metrics
    from wholesoil.stats import partial_correlation

    seed = ctx.seed
    n_jobs = min(ctx.workers or 2, 2)
    trees = 100 if ctx.quick else 500
    ctx.option("predictors", list(PREDICTORS))
    ctx.option("target", "layer SOC stock [Mg C/ha] (Eq. 1 of Wang H. et al. 2025 per layer)")
    ctx.option("random_forest", {"ntree": trees, "mtry": "p/3 (R default)", "nodesize": 5})
    ctx.option("validation", "whole held-out sites (10 folds by site); second scheme: 10° × 10° "
               "regions (spatial blocks)")
    from wholesoil.reproduce.beta_depth import record_data

    record_data(ctx, ("israd",))
    layers, log = grassland_layers()
    ctx.table("selection", log)
    require(len(layers) > 100, "too few ISRaD grassland layers", field="layers",
            value=len(layers))
    n_prof, n_lay = layers["profile_id"].nunique(), len(layers)

    rf = RandomForest(trees, n_jobs=n_jobs, random_state=seed)
    results: dict[str, pd.DataFrame] = {}
    for scheme in ("site", "region"):
        fold = site_folds(layers, scheme, random_state=seed)
        # the invariant of the scheme: no site on both sides of any fold
        for k in np.unique(fold):
            shared = set(layers.loc[fold == k, "site"]) & set(layers.loc[fold != k, "site"])
            require(not shared, f"site on both sides of fold {k}", field="site")

        def _cv(fold=fold) -> pd.DataFrame:
            cv = cross_validate(rf, layers, "soc_density", PREDICTORS, groups="site",
                                cv=_Predefined(fold), top="top", bottom="bottom")
            return cv.predictions

        pred = ctx.cached(f"cv_{scheme}", _cv, trees=trees, predictors=list(PREDICTORS))
        results[scheme] = pred
        ctx.table(f"cv_predictions_{scheme}", pred)
    skill = {s: depthwise_metrics(p["observed"], p["predicted"], p["top"], p["bottom"], BANDS)
             for s, p in results.items()}
    band_tab = pd.concat([t.assign(scheme=s) for s, t in skill.items()], ignore_index=True)
    ctx.table("skill_by_depth", band_tab)

    paper_r2 = dict(zip(BAND_NAMES, (0.96, 0.67, 0.48), strict=True))
    st = skill["site"]
    rg = skill["region"]
    for i, b in enumerate(BAND_NAMES):
        ctx.row(f"r2_{b}", f"R² of held-out layers, {b} {st['band'].iloc[i]} (Fig. 1e)", "-",
                paper_r2[b], st["r2"].iloc[i], n=int(st["n"].iloc[i]),
                note=f"ISRaD grassland layers predicted by forests trained without their site "
                     f"(10 folds by site); by region: {rg['r2'].iloc[i]:.2f}; the paper: "
                     "a WoSIS-trained model on 17 Nei Mongol sites")
    for i, b in enumerate(BAND_NAMES):
        ctx.row(f"bias_{b}", f"bias (predicted − observed), {b}", "Mg C/ha",
                "underestimate, growing with depth", st["bias"].iloc[i], n=int(st["n"].iloc[i]),
                note=f"mean over held-out layers (by site); by region: {rg['bias'].iloc[i]:.2f}"
                     "; the paper gives no number (Fig. 1e)")

    # figure: skill by depth
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.5))
    for s, t in skill.items():
        axes[0].plot(t["r2"], [f"{int(a)}-{int(b)}" for a, b in zip(t["top"], t["bottom"],
                                                                   strict=True)], "o-", label=s)
        axes[1].plot(t["bias"], [f"{int(a)}-{int(b)}" for a, b in zip(t["top"], t["bottom"],
                                                                     strict=True)], "o-",
                     label=s)
    for ax in axes:
        ax.invert_yaxis()
        ax.set_ylabel("depth band [cm]")
        ax.legend(title="held out by")
    axes[0].set_xlabel("R² [-]")
    axes[1].set_xlabel("bias [Mg C/ha]")
    axes[1].axvline(0, color="k", lw=0.8)
    fig.tight_layout()
    ctx.figure("skill_by_depth", fig, "Skill of the layer RF on held-out ISRaD grassland profiles "
               "by depth band (paper Fig. 1e).")

    # partial correlations by band (Fig. S1)
    from wholesoil.stats._partial import depth_bands

    pc_data = layers.assign(
        band=depth_bands(layers["top"], layers["bottom"], edges=(0, 30, 100, 200)),
        soc_cm=layers["soc_density_cm"])
    drivers = ["mat", "map", "clay_sg"]
    extra = [c for c in ("tn", "clay", "silt") if c in layers.columns]
    pc = partial_correlation(pc_data.dropna(subset=["band", "soc_cm", *drivers]), "soc_cm",
                             drivers, by="band")
    ctx.table("partial_correlations", pc)
    sub = pc_data.dropna(subset=["band", "soc_cm", *drivers, *extra])
    if len(sub) > 30:
        pc2 = partial_correlation(sub, "soc_cm", drivers + extra, by="band")
        ctx.table("partial_correlations_measured_tn_texture", pc2)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    piv = pc.pivot(index="driver", columns="band", values="r")
    im = ax.imshow(piv.to_numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(piv.shape[1]), piv.columns)
    ax.set_yticks(range(piv.shape[0]), piv.index)
    fig.colorbar(im, ax=ax, label="partial r [-]")
    ax.set_title("partial correlation with SOC density per cm")
    ctx.figure("partial_correlations", fig, "Partial correlation of layer SOC density per cm with "
               "each driver, controlling for the others, by depth band (paper Fig. S1).")

    # stock shares 0–200 cm
    from wholesoil.profiles import ProfileSet, harmonize

    deep_ids = layers.groupby("profile_id").agg(t=("top", "min"), b=("bottom", "max"))
    deep_ids = deep_ids[(deep_ids["t"] <= 0) & (deep_ids["b"] >= 200)].index
    hd = layers[layers["profile_id"].isin(deep_ids)]
    if len(deep_ids) >= 3:
        ps = ProfileSet(pd.DataFrame({"profile_id": deep_ids}),
                        hd[["profile_id", "top", "bottom", "soc_density_cm"]].copy())
        hz = harmonize(ps, "soc_density_cm", depths=(0.0, 30.0, 100.0, 200.0), lam=0.1,
                       clamp=(0.0, 1e6))
        hz["stock"] = hz["soc_density_cm"] * (hz["bottom"] - hz["top"])
        full = hz.groupby("profile_id")["coverage"].min()
        hz = hz[hz["profile_id"].isin(full[full >= 0.999].index)]
        means = hz.groupby("top")["stock"].mean()
        shares = (means / means.sum()).to_numpy()
        n_deep = hz["profile_id"].nunique()
        ctx.table("stock_shares", pd.DataFrame({"band": list(BAND_NAMES),
                                                "mean_stock": means.to_numpy(),
                                                "share": shares}))
    else:
        shares, n_deep = np.full(3, np.nan), len(deep_ids)
    paper_share = dict(zip(BAND_NAMES, (0.39, 0.37, 0.24), strict=True))
    for i, b in enumerate(BAND_NAMES):
        ctx.row(f"share_{b}", f"share of the 0–200 cm stock in the {b}", "-", paper_share[b],
                shares[i] if np.isfinite(shares[i]) else None, n=n_deep,
                note="mean stocks of ISRaD grassland profiles sampled 0–200 cm (spline to "
                     "0–30/30–100/100–200 cm); the paper: 17 Nei Mongol sites"
                if np.isfinite(shares[i]) else "fewer than 3 profiles sampled to 200 cm")
    ctx.row("profiles", "grassland profiles in the layer model", "profiles",
            "1109 (WoSIS training) + 17 sites (validation)", n_prof, n=n_prof,
            note=f"ISRaD grassland profiles in {layers['site'].nunique()} sites")
    ctx.row("layers", "layers in the layer model", "layers", "5868 (WoSIS training)", n_lay,
            n=n_lay, note="ISRaD layers with SOC density in 0–200 cm")
