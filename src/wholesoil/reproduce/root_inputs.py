"""``wholesoil reproduce root-inputs``: root-derived C inputs versus inputs to bulk soil on ISRaD.

Reproduces, on the bundled ISRaD database (2023-02-08), the Δ14C part of

    Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G.,
    Shi, Z. & Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil
    carbon pool. Manuscript (Methods Eqs. 1–6: one-pool radiocarbon model, I_bulk; I_root,
    I_loss; mixed models; machine-learning ensemble; Monte Carlo with Coulston intervals).

Steps (every choice is recorded with :meth:`Reproduction.option`):

1. QC of the whole database (:func:`wholesoil.io._israd_qc.israd_qc`): counts and every hit.
2. Layer selection as the paper: bulk-soil Δ14C (``lyr_14c``; ISRaD's 54 gap-fills only with
   ``include_fills=True``, flagged), mineral soil (top ≥ 0 cm, no O horizon), 0–200 cm, an
   observation year and both depths with bottom > top; the count left after each filter.
3. C age of every layer by the one-pool model (Eqs. 1–5; λ = 1/8267 yr⁻¹, start 1950 at
   steady state, Hua et al. 2022 zone curve of the profile, monthly, spline), all roots kept;
   the slow (oldest) root is used where there are two (bulk soil, as the paper).
4. C stock per layer (measured → ISRaD fill → SoilGrids), I_bulk = C_stock / C_age (Eq. 6);
   harmonized to the seven standard layers by a random forest on depth and covariates (as the
   paper's ML harmonization), its R² reported.
5. I_root = NPP × f_BNPP over the seven layers by the Jackson et al. (1996) β of the biome;
   I_loss = I_root − I_bulk.
6. Biome per profile (:func:`assign_biome`), I_bulk by biome; mixed model with biome as random
   effect after grouped PCA; the ensemble's 10-fold CV R² per standard layer; Coulston
   intervals (500 bootstraps, 95 %).
"""

from __future__ import annotations

import gzip
import time
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from wholesoil.radiocarbon._atmosphere import ZONE_LATITUDE_BOUNDS
from wholesoil.radiocarbon._inputs import DEFAULT_F_BNPP, SEED004_DEPTHS
from wholesoil.reproduce._common import Reproduction, require

#: Seven standard layers [cm] of the paper.
STANDARD_LAYERS: tuple[tuple[float, float], ...] = tuple(pairwise(SEED004_DEPTHS))

#: The nine biomes of the paper (Fig. 1 legend), in its order.
BIOMES: tuple[str, ...] = (
    "tropical_subtropical_forest", "tropical_subtropical_grassland_savanna", "temperate_forest",
    "temperate_grassland", "mediterranean_montane_shrubland", "boreal_forest", "tundra",
    "desert", "cropland",
)

#: Jackson et al. (1996, Oecologia 108:389–411, Table 1) β of each biome (key of
#: :data:`wholesoil.depth._roots.JACKSON_1996_BETA`); temperate forests: coniferous where the
#: MODIS class is needleleaf, deciduous otherwise (:func:`biome_beta`).
BIOME_JACKSON: dict[str, str] = {
    "tropical_subtropical_forest": "tropical_evergreen_forest",
    "tropical_subtropical_grassland_savanna": "tropical_grassland_savanna",
    "temperate_forest": "temperate_deciduous_forest",
    "temperate_grassland": "temperate_grassland",
    "mediterranean_montane_shrubland": "sclerophyllous_shrubs",
    "boreal_forest": "boreal_forest",
    "tundra": "tundra",
    "desert": "desert",
    "cropland": "crops",
}

_FOREST = {"Evergreen Broadleaf Forests", "Deciduous Broadleaf Forests",
           "Evergreen Needleleaf Forests", "Deciduous Needleleaf Forests", "Mixed Forests"}
_SAVANNA = {"Woody Savannas", "Savannas"}
_SHRUB = {"Open Shrublands", "Closed Shrublands"}
_CROP = {"Cropland", "Cropland/Natural Vegetation Mosaics"}
#: ISRaD ``pro_land_cover`` → MODIS-like class where the MODIS covariate is empty.
_ISRAD_COVER = {"forest": "Mixed Forests", "rangeland/grassland": "Grasslands",
                "shrubland": "Open Shrublands", "cultivated": "Cropland", "bare": "Barren",
                "tundra": "Tundra", "wetland": "Permanent Wetlands"}
#: Köppen–Geiger subarctic (boreal) classes: D climates with c or d (≤ 3 months above 10 °C).
_SUBARCTIC = {"Dfc", "Dfd", "Dwc", "Dwd", "Dsc", "Dsd"}

#: Default C-stock sources, first found wins (:func:`layer_stocks`).
STOCK_SOURCES: tuple[str, ...] = ("measured_bd_c", "reported", "israd_filled", "soilgrids")

#: Depths [cm] of the SoilGrids point covariates of ISRaD.extra (Hengl et al. 2017, *PLoS ONE*
#: 12:e0169748, doi:10.1371/journal.pone.0169748): ``pro_corg_{d}_cm_SG`` organic C, read as
#: g kg⁻¹ (median 13 at 0 cm), ``pro_bd_{d}_cm_SG`` bulk density, read as cg cm⁻³ (median 108,
#: i.e. 1.08 g cm⁻³), ``pro_coarse_{d}_cm_SG`` coarse fragments, vol %. The units are not
#: stated with the data and are inferred from these ranges. The stock bands
#: ``pro_corgStock_*_cm_SG`` are not used: their unit cannot be established (they are about a
#: third of the product of the point covariates over the same depths).
SOILGRIDS_DEPTHS: tuple[int, ...] = (0, 10, 30, 60, 100, 200)

#: Largest plausible SOC density of one centimetre of soil [Mg C ha⁻¹ cm⁻¹]: peat of bulk
#: density 0.2 g cm⁻³ at 50 % C holds 10. Layers above it (e.g. a stock entered in Mg ha⁻¹
#: where ISRaD expects g cm⁻², a factor 100) are excluded from I_bulk, and listed.
MAX_SOC_DENSITY_PER_CM = 10.0

#: Graven et al. (2017) atmospheric zones of ISRaD.extra and their latitude bands [°N].
GRAVEN_BANDS: dict[str, tuple[float, float]] = {
    "NHc14": (30.0, 90.0), "Tropicsc14": (-30.0, 30.0), "SHc14": (-90.0, -30.0),
}

#: Monte Carlo and ensemble sizes: the paper's (Methods) and the ``--quick`` preset.
SIZES: dict[str, dict[str, int]] = {
    "paper": {"trees": 500, "mc_boot": 500, "cv_folds": 10, "mc_trees": 500, "xgb_rounds": 500},
    "quick": {"trees": 100, "mc_boot": 10, "cv_folds": 5, "mc_trees": 100, "xgb_rounds": 100},
}


# ------------------------------------------------------------------------------ biome, zone
def assign_biome(sites: pd.DataFrame) -> pd.DataFrame:
    """One of the paper's nine :data:`BIOMES` per profile, from land cover and climate.

    Rule (in this order): the land-cover class is MODIS reclass 1 at 0.5°
    (``pro_landCover_0.5_deg_MODISreclass1_description``), else ISRaD's ``pro_land_cover``;
    the climate is the present Köppen–Geiger class (``pro_KG_present_short``, Beck et al.
    2018). Cropland cover → cropland; polar climate (ET, EF) → tundra; arid desert climate
    (BW) or barren → desert; forests → tropical/subtropical forest (A climates), boreal forest
    (subarctic D: Dfc/Dfd/Dwc/Dwd/Dsc/Dsd), temperate forest (other C and D); savannas →
    tropical/subtropical grassland/savanna (A, BS), boreal forest (subarctic D), Mediterranean
    shrubland (Cs) or temperate forest (other C/D); grasslands → tropical savanna (A),
    temperate grassland (else); shrublands → tundra (subarctic D), tropical savanna (A),
    Mediterranean/montane shrubland (else); wetlands → the forest biome of their climate
    (tundra cover → tundra). A profile with neither cover nor climate gets ``unassigned``.

    Returns
    -------
    DataFrame
        ``profile_id``, ``biome``, ``cover`` (the class used), ``kg`` and ``needleleaf``.
    """
    modis = sites.get("pro_landCover_0.5_deg_MODISreclass1_description")
    eco = sites.get("ecosystem")
    cover = pd.Series(modis if modis is not None else np.nan, index=sites.index,
                      dtype=object)
    if eco is not None:
        fill = eco.astype(object).map(_ISRAD_COVER)
        cover = cover.where(cover.notna(), fill)
    kg = pd.Series(sites.get("pro_KG_present_short"), index=sites.index, dtype=object)
    c = cover.fillna("").astype(str).to_numpy()
    k = kg.fillna("").astype(str).to_numpy()
    a = np.char.startswith(k.astype(str), "A")
    bw = np.char.startswith(k.astype(str), "BW")
    bs = np.char.startswith(k.astype(str), "BS")
    cs = np.char.startswith(k.astype(str), "Cs")
    polar = np.char.startswith(k.astype(str), "E")
    sub = np.isin(k, list(_SUBARCTIC))
    clim = k != ""
    out = np.full(len(c), "unassigned", dtype=object)
    forest = np.isin(c, list(_FOREST)) | (c == "Permanent Wetlands")
    sav, shrub = np.isin(c, list(_SAVANNA)), np.isin(c, list(_SHRUB))
    grass = c == "Grasslands"
    conds = [
        (np.isin(c, list(_CROP)), "cropland"),
        (polar | (c == "Tundra"), "tundra"),
        (bw | (c == "Barren"), "desert"),
        (forest & a, "tropical_subtropical_forest"),
        (forest & sub, "boreal_forest"),
        (forest & clim, "temperate_forest"),
        (sav & (a | bs), "tropical_subtropical_grassland_savanna"),
        (sav & sub, "boreal_forest"),
        (sav & cs, "mediterranean_montane_shrubland"),
        (sav & clim, "temperate_forest"),
        (grass & a, "tropical_subtropical_grassland_savanna"),
        (grass & clim, "temperate_grassland"),
        (shrub & sub, "tundra"),
        (shrub & a, "tropical_subtropical_grassland_savanna"),
        (shrub & clim, "mediterranean_montane_shrubland"),
    ]
    done = np.zeros(len(c), bool)
    for mask, name in conds:
        m = mask & ~done
        out[m] = name
        done |= m
    return pd.DataFrame({"profile_id": sites["profile_id"].to_numpy(), "biome": out,
                         "cover": c, "kg": k, "needleleaf": np.char.find(
                             c.astype(str), "Needleleaf") >= 0})


def biome_beta(biome: pd.DataFrame) -> np.ndarray:
    """Jackson et al. (1996) β per profile from :func:`assign_biome` (temperate needleleaf →
    coniferous); ``unassigned`` → the global β of all profiles (0.966)."""
    from wholesoil.depth._roots import JACKSON_1996_BETA

    key = biome["biome"].map(BIOME_JACKSON).fillna("all")
    key = key.where(~((biome["biome"] == "temperate_forest") & biome["needleleaf"]),
                    "temperate_coniferous_forest")
    return key.map(JACKSON_1996_BETA).to_numpy(float)


def hua_zone(lat: np.ndarray, graven: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hua et al. (2022) zone of each profile, and whether it agrees with ISRaD's Graven zone.

    The Hua zone follows the latitude (:data:`~wholesoil.radiocarbon._atmosphere.ZONE_LATITUDE_
    BOUNDS`: NH zone 1 ≥ 40°N, NH zone 2 15–40°N, NH zone 3 0–15°N, SH zone 3 0–15°S, SH zones
    1–2 south of 15°S). ISRaD.extra's Graven et al. (2017) zone (NHc14 30–90°N, Tropicsc14
    30°S–30°N, SHc14 30–90°S) is coarser: within each Graven band the latitude picks the Hua
    zone, and a profile whose latitude lies outside its Graven band is flagged (``False``).
    """
    lat = np.asarray(lat, float)
    zone = np.full(lat.shape, "", dtype=object)
    for name, (lo, hi) in ZONE_LATITUDE_BOUNDS.items():
        zone[(lat >= lo) & ((lat < hi) | ((hi == 90.0) & (lat <= hi)))] = name
    g = pd.Series(graven, dtype=object).to_numpy()
    agree = np.ones(lat.shape, bool)
    for name, (lo, hi) in GRAVEN_BANDS.items():
        sel = g == name
        agree[sel] = (lat[sel] >= lo - 1e-9) & (lat[sel] <= hi + 1e-9)
    return zone.astype(str), agree


# ------------------------------------------------------------------------------- selection
def select_layers(ps: Any, *, include_fills: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Layers of the paper's selection and the count left after each filter.

    Returns
    -------
    layers : DataFrame
        The ProfileSet's horizons that pass, with ``d14c_used`` [‰] and ``d14c_source``
        (``lyr_14c`` or ``lyr_14c_fill_extra``).
    filters : DataFrame
        ``step``, ``rule``, ``layers`` and ``profiles`` left, ``removed``.
    """
    h = ps.horizons.reset_index(drop=True).copy()
    d = h["d14c"].astype(float)
    h["d14c_source"] = np.where(d.notna(), "lyr_14c", "")
    if include_fills and "d14c_fill_extra" in h:
        fill = h["d14c_fill_extra"].astype(float)
        use = d.isna() & fill.notna()
        d = d.where(~use, fill)
        h.loc[use.to_numpy(), "d14c_source"] = "lyr_14c_fill_extra"
    h["d14c_used"] = d
    top, bot = h["top"].astype(float), h["bottom"].astype(float)
    horizon = h["horizon"].fillna("").astype(str) if "horizon" in h else pd.Series("", h.index)
    steps = [
        ("bulk_d14c", "bulk-soil Δ14C recorded (lyr_14c" + (" or its fill)" if include_fills
                                                             else ")"), d.notna()),
        ("depths", "both depths recorded, bottom > top", top.notna() & bot.notna() & (bot > top)),
        ("obs_year", "observation year recorded", h["obs_year"].notna()),
        ("mineral_depth", "mineral soil: top ≥ 0 cm (ISRaD organic layers are negative)",
         top >= 0),
        ("not_o_horizon", "mineral soil: horizon designation not O…", ~horizon.str.match(r"^O")),
        ("within_200cm", "within 0–200 cm (bottom ≤ 200 cm)", bot <= 200),
    ]
    keep = np.ones(len(h), bool)
    rows = [{"step": "all", "rule": "every layer of the database", "layers": len(h),
             "profiles": h["profile_id"].nunique(), "removed": 0}]
    for step, rule, m in steps:
        before = int(keep.sum())
        keep &= m.to_numpy(bool)
        rows.append({"step": step, "rule": rule, "layers": int(keep.sum()),
                     "profiles": int(h.loc[keep, "profile_id"].nunique()),
                     "removed": before - int(keep.sum())})
    return h[keep].reset_index(drop=True), pd.DataFrame(rows)


def layer_stocks(layers: pd.DataFrame, sites: pd.DataFrame,
                 sources: tuple[str, ...] = STOCK_SOURCES) -> tuple[np.ndarray, np.ndarray]:
    """C stock of each layer [Mg C ha⁻¹] and its source (first of ``sources`` available).

    ``reported``: ISRaD's ``lyr_soc``; ``measured_bd_c``: measured organic C × measured BD ×
    thickness; ``israd_filled``: ``lyr_soc_filled`` (ISRaD.extra's fill from filled BD and C);
    all three × (1 − coarse fraction/100) where a coarse fraction is measured or filled (ISRaD's
    own stocks are of fine earth). ``soilgrids``: the profile's SoilGrids organic C × bulk
    density × (1 − coarse/100) × thickness (:data:`SOILGRIDS_DEPTHS`, each interpolated
    linearly in depth to the layer's midpoint).
    """
    thick = (layers["bottom"] - layers["top"]).to_numpy(float)
    coarse = layers.get("coarse_tot", pd.Series(np.nan, index=layers.index)).astype(float)
    if "coarse_tot_filled" in layers:
        coarse = coarse.fillna(layers["coarse_tot_filled"].astype(float))
    fine = (1.0 - coarse.fillna(0.0).clip(0, 100) / 100.0).to_numpy(float)
    cand = {
        "reported": layers.get("soc_density_reported"),
        "measured_bd_c": (layers["soc"] * layers["bd"] * thick / 10.0
                          if {"soc", "bd"} <= set(layers.columns) else None),
        "israd_filled": layers.get("soc_density_filled"),
    }
    stock = np.full(len(layers), np.nan)
    src = np.full(len(layers), "", dtype=object)
    for name in sources:
        if name == "soilgrids":
            sg = sites.set_index("profile_id")
            mid = ((layers["top"] + layers["bottom"]) / 2).to_numpy(float)
            dep = np.asarray(SOILGRIDS_DEPTHS, float)

            def at_mid(var: str, sg: pd.DataFrame = sg, dep: np.ndarray = dep,
                       mid: np.ndarray = mid) -> np.ndarray:
                cols = [f"pro_{var}_{d}_cm_SG" for d in SOILGRIDS_DEPTHS]
                if not all(c in sg for c in cols):
                    return np.full(len(layers), np.nan)
                m = sg.loc[layers["profile_id"], cols].to_numpy(float)
                j = np.clip(np.searchsorted(dep, mid, side="right") - 1, 0, len(dep) - 2)
                w = np.clip((mid - dep[j]) / (dep[j + 1] - dep[j]), 0.0, 1.0)
                r = np.arange(len(mid))
                return m[r, j] * (1 - w) + m[r, j + 1] * w

            v = (at_mid("corg") * at_mid("bd") / 100.0 * (1 - at_mid("coarse") / 100.0)
                 * thick / 10.0)
        else:
            c = cand.get(name)
            if c is None:
                continue
            v = c.astype(float).to_numpy() * fine
        use = np.isnan(stock) & np.isfinite(v) & (v > 0)
        stock[use] = v[use]
        src[use] = name
    return stock, src.astype(str)


# ------------------------------------------------------------------------------- features
def _covariates(sites: pd.DataFrame) -> dict[str, list[str]]:
    cols = list(sites.columns)
    soil = [c for c in cols if c.endswith("_SG") and not c.startswith("pro_corgStock")]
    soil += [c for c in cols if c.startswith("pro_corgStock")]
    climate = [c for c in cols if c.startswith("pro_BIO")] + [
        c for c in ("pro_PET_mmyr", "pro_soilMoist_mm_TC") if c in cols]
    topo = [c for c in ("elevation", "lat", "lon") if c in cols]
    return {"soil": soil, "climate": climate, "topography": topo}


def _site_matrix(sites: pd.DataFrame, cols: list[str]) -> tuple[pd.DataFrame, dict[str, float]]:
    x = sites[cols].astype(float)
    med = x.median()
    return x.fillna(med), {c: float(v) for c, v in med.items()}


# ------------------------------------------------------------------------------------- run
def run(ctx: Reproduction, *, include_fills: bool = False, **options: Any) -> None:
    """Run the reproduction (module docstring). ``include_fills`` adds ISRaD's Δ14C gap-fills
    (``lyr_14c_fill_extra``) where ``lyr_14c`` is empty, flagged per layer."""
    from wholesoil.datasets import REGISTRY, data_path, load_israd

    t0 = time.perf_counter()
    size = SIZES["quick" if ctx.quick else "paper"]
    n_jobs = ctx.workers or 2
    ctx.option("data", "ISRaD database 2023-02-08 (ISRaD.extra), bundled; the paper used the "
               "ISRaD release of 7 July 2020")
    ctx.option("sizes", dict(size, preset="quick" if ctx.quick else "paper"))
    for f in REGISTRY["israd"]["files"]:
        ctx.data(data_path(f))
    ps = load_israd()
    sites = ps.sites.reset_index(drop=True)

    layers, filters, sidx = _select(ctx, ps, sites, include_fills)
    lay = _ages_and_stocks(ctx, layers, filters, sites, include_fills)
    n_lay = len(lay)
    hz = _harmonize(ctx, lay, sites, size, n_jobs)
    bio, groups, bmap, X, y, Xs = hz["bio"], hz["groups"], hz["bmap"], hz["X"], hz["y"], hz["Xs"]
    profs, P, L, st_t, st_b = hz["profs"], hz["P"], hz["L"], hz["st_t"], hz["st_b"]
    ib, total, std, r2_in, r2_oob = hz["ib"], hz["total"], hz["std"], hz["r2_in"], hz["r2_oob"]
    i_root, i_root_tot = _root_inputs(ctx, sidx, bio, profs, st_t, st_b, total, std)

    # ---- 6. mixed model, ensemble CV, Monte Carlo
    steps = {"through_harmonization": round(time.perf_counter() - t0, 1)}
    extra = _drivers(ctx, lay, sites, groups, bmap)
    steps["mixed_model"] = round(time.perf_counter() - t0, 1)
    extra.update(_ensemble_cv(ctx, X, y, lay, size, n_jobs))
    steps["ensemble_cv"] = round(time.perf_counter() - t0, 1)
    extra.update(_monte_carlo(ctx, X, y, lay, Xs, P, L, st_b - st_t, size, n_jobs,
                              i_root_tot))
    steps["monte_carlo"] = round(time.perf_counter() - t0, 1)
    ctx.option("elapsed_s_after_step", steps)
    if "mixed_r2_marginal" in extra:
        ctx.row("mixed_r2_i_bulk", "mixed model of log I_bulk (biome random; grouped PCA), "
                "conditional R²", "-", 0.74, extra["mixed_r2_conditional"], n=n_lay,
                note=f"marginal R² {extra['mixed_r2_marginal']:.2f}")
    if "ensemble_cv_r2" in extra:
        ctx.row("ensemble_cv_r2_i_bulk", "ensemble CV R² (10-fold; quick: 5) of layer I_bulk",
                "-", None, extra["ensemble_cv_r2"], n=n_lay,
                note="the paper shows its validation in Extended Data Fig. 3 (no single "
                "number); per standard layer in tables/ensemble_cv_by_layer.csv")
    ctx.row("harmonization_r2", "ML harmonization of I_bulk across depths, R² (in-sample)",
            "-", 0.95, float(r2_in), n=n_lay, note=f"OOB R² {r2_oob:.2f}")
    _figures(ctx, lay, ib, i_root, std)
    ctx.option("timing_s", round(time.perf_counter() - t0, 1))


def _select(ctx: Reproduction, ps: Any, sites: pd.DataFrame, include_fills: bool
            ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """QC of the whole database and the layer selection with zones; (layers, filters, sites
    indexed by profile)."""
    from wholesoil.io._israd_qc import israd_qc

    # ---- 1. QC of the whole database
    qc = israd_qc(ps)
    ctx.table("qc_counts", qc.counts)
    qc_path = ctx.out / "tables" / "qc_rows.csv.gz"
    with gzip.open(qc_path, "wt", encoding="utf-8") as fh:
        qc.rows.to_csv(fh, index=False, float_format="%.6g")
    ctx.note(f"QC over the whole database: {len(qc.rows):,} rule hits listed in "
             "tables/qc_rows.csv.gz (nothing changed; see tables/qc_counts.csv).")

    # ---- 2. selection
    layers, filters = select_layers(ps, include_fills=include_fills)
    ctx.option("d14c_column", "lyr_14c" + (" + lyr_14c_fill_extra where empty (flagged in "
                                            "d14c_source)" if include_fills else
                                            " (ISRaD's 88 gap-fills not used)"))
    sidx = sites.set_index("profile_id")
    lat = layers["profile_id"].map(sidx["lat"]).to_numpy(float)
    graven = layers["profile_id"].map(sidx["pro_graven_zone"]).to_numpy(object)
    zone, agree = hua_zone(lat, graven)
    layers["zone"] = zone
    layers["graven_zone"] = graven
    layers["graven_agrees"] = agree
    ctx.option("zone_rule", "Hua et al. 2022 zone from the profile latitude (NHZone1 ≥ 40°N, "
               "NHZone2 15–40°N, NHZone3 0–15°N, SHZone3 0–15°S, SHZone12 < 15°S); ISRaD's "
               "Graven zone checked against its band")
    return layers, filters, sidx


def _ages_and_stocks(ctx: Reproduction, layers: pd.DataFrame, filters: pd.DataFrame,
                     sites: pd.DataFrame, include_fills: bool) -> pd.DataFrame:
    """One-pool ages and C stocks per layer; the layers used, with I_bulk [Mg C ha-1 yr-1]."""
    zone = layers["zone"].to_numpy(object)
    # ---- 3. ages (vectorized over all layers)
    from wholesoil.radiocarbon._atmosphere import load_atmosphere
    from wholesoil.radiocarbon._onepool import LAMBDA_SEED004, onepool_ages

    end = min(load_atmosphere(z).end for z in np.unique(zone))
    in_curve = (layers["obs_year"] >= 1950) & (layers["obs_year"] <= end)
    filters = pd.concat([filters, pd.DataFrame([{
        "step": "year_in_curve", "rule": f"observation year within 1950 … {end:g} (one-pool "
        "start … end of the Hua et al. 2022 curve)", "layers": int(in_curve.sum()),
        "profiles": int(layers.loc[in_curve, "profile_id"].nunique()),
        "removed": int((~in_curve).sum())}])], ignore_index=True)
    layers = layers[in_curve.to_numpy()].reset_index(drop=True)
    age_kw = {"curve": "hua2021", "start_year": 1950.0, "lam": LAMBDA_SEED004,
              "prebomb": "intcal", "interpolation": "spline", "choose": "slow"}
    ctx.option("one_pool", {**age_kw, "lam": "1/8267 per yr (paper)",
                            "k_range": "1e-5 … 10 per yr (ages 0.1 … 100,000 yr)"})

    def ages() -> pd.DataFrame:
        sub = layers[["profile_id", "top", "bottom", "d14c_used", "obs_year", "zone"]].rename(
            columns={"d14c_used": "d14c", "obs_year": "year"})
        res = onepool_ages(sub, errors="flag", **age_kw)
        return res[["age", "k", "n_roots", "root_ages", "ambiguous", "status", "k_fast"]]

    a = ctx.cached("ages", ages, n=len(layers), include_fills=include_fills)
    for c in a.columns:
        layers[c] = a[c].to_numpy()
    two = int((layers["n_roots"] > 1).sum())
    ctx.option("two_roots", f"{two} layers have two ages (pre- and post-bomb solutions); the "
               "slow root (older age) is used, as for bulk soil in the paper; all in "
               "tables/layers.csv.gz (root_ages)")
    has_age = np.isfinite(layers["age"].to_numpy(float))
    status_counts = layers.loc[~has_age, "status"].value_counts().to_dict()
    filters = pd.concat([filters, pd.DataFrame([{
        "step": "age_found", "rule": "one-pool age found (statuses without: "
        + ", ".join(f"{k} {v}" for k, v in status_counts.items()) + ")",
        "layers": int(has_age.sum()), "profiles": int(layers.loc[has_age, "profile_id"]
                                                       .nunique()),
        "removed": int((~has_age).sum())}])], ignore_index=True)

    # ---- 4. stocks and I_bulk per layer
    stock, src = layer_stocks(layers, sites)
    implausible = stock / (layers["bottom"] - layers["top"]).to_numpy(float) \
        > MAX_SOC_DENSITY_PER_CM
    ctx.table("implausible_stocks", layers.loc[implausible, ["profile_id", "source_row", "top",
                                                             "bottom"]].assign(
        c_stock=stock[implausible], source=src[implausible]))
    stock = np.where(implausible, np.nan, stock)
    layers["c_stock"] = stock
    layers["stock_source"] = src
    has_stock = np.isfinite(stock)
    used = has_age & has_stock
    filters = pd.concat([filters, pd.DataFrame([{
        "step": "stock_found", "rule": f"C stock found and ≤ {MAX_SOC_DENSITY_PER_CM:g} Mg C "
        f"ha-1 cm-1 ({int(implausible.sum())} above it excluded, tables/implausible_stocks.csv"
        "; sources used: " + ", ".join(
            f"{k} {v}" for k, v in pd.Series(src[used]).value_counts().items()) + ")",
        "layers": int(used.sum()), "profiles": int(layers.loc[used, "profile_id"].nunique()),
        "removed": int((has_age & ~has_stock).sum())}])], ignore_index=True)
    ctx.table("layer_selection", filters)
    ctx.option("stock", "per layer: measured C × BD × thickness, else ISRaD's reported "
               "lyr_soc, else lyr_soc_filled (ISRaD.extra), each × (1 − coarse fraction), else "
               "SoilGrids organic C × BD × (1 − coarse) at the layer's midpoint (the paper "
               "used WISE30sec, which is not bundled)")
    lay = layers[used].reset_index(drop=True)
    lay["i_bulk"] = lay["c_stock"] / lay["age"]
    lay["thickness"] = lay["bottom"] - lay["top"]
    lay["mid"] = (lay["top"] + lay["bottom"]) / 2
    require(bool(lay["obs_year"].notna().all() and (lay["zone"] != "").all()),
            "every layer used has an observation year and an atmospheric zone")
    n_disagree = int((~lay["graven_agrees"]).sum())
    ctx.option("graven_zone_check", f"{n_disagree} layers used lie outside the latitude band "
               "of their profile's Graven zone (the latitude rule is used)")
    keep_cols = [c for c in ("profile_id", "source_row", "top", "bottom", "horizon", "obs_year",
                             "d14c_used", "d14c_source", "zone", "graven_zone", "age", "k",
                             "n_roots", "root_ages", "status", "c_stock", "stock_source",
                             "soc", "soc_filled", "bd", "bd_filled", "i_bulk") if c in lay]
    _gz_table(ctx, "layers", lay[keep_cols])
    n_prof, n_lay = lay["profile_id"].nunique(), len(lay)
    note_data = "ISRaD 2023 (paper: 2020 release, lyr_14c_fill_extra)"
    ctx.row("profiles", "Δ14C profiles used (0–200 cm)", "profiles", 750, n_prof, n=n_prof,
            note=note_data)
    ctx.row("layers", "Δ14C layers used (I_bulk estimates)", "layers", 3128, n_lay, n=n_lay,
            note=note_data)
    for key, lo, hi, paper in (("c_age_mean_0_30cm", 0, 30, 982),
                               ("c_age_mean_30_100cm", 30, 100, 3869),
                               ("c_age_mean_0_200cm", 0, 200, 3862)):
        sel = (lay["mid"] >= lo) & (lay["mid"] < hi)
        ctx.row(key, f"mean C age of layers with midpoint in {lo}–{hi} cm", "yr", paper,
                float(lay.loc[sel, "age"].mean()), n=int(sel.sum()),
                note="arithmetic mean over layers; slow root")
    return lay


def _harmonize(ctx: Reproduction, lay: pd.DataFrame, sites: pd.DataFrame, size: dict[str, Any],
               n_jobs: int) -> dict[str, Any]:
    """Biomes and the random-forest harmonization of I_bulk to the standard layers."""
    # ---- biome
    bio = assign_biome(sites)
    ctx.table("biome_counts", bio["biome"].value_counts().rename_axis("biome")
              .reset_index(name="profiles"))
    ctx.option("biome_rule", assign_biome.__doc__.split("Returns")[0].strip())
    bmap = bio.set_index("profile_id")["biome"]
    lay["biome"] = lay["profile_id"].map(bmap)

    # ---- harmonization to standard layers (random forest on depth + covariates)
    from wholesoil.mapping._learners import RandomForest

    groups = _covariates(sites)
    cov_cols = [c for g in groups.values() for c in g]
    xs, _medians = _site_matrix(sites.set_index("profile_id"), cov_cols)
    ctx.option("covariates", {g: len(c) for g, c in groups.items()})
    ctx.option("covariate_imputation", "missing covariates filled with the median over all "
               "profiles (RF needs complete rows)")

    def features(pid: np.ndarray, top: np.ndarray, bot: np.ndarray) -> pd.DataFrame:
        f = xs.loc[pid].reset_index(drop=True)
        f.insert(0, "bottom", bot)
        f.insert(0, "top", top)
        return f

    X = features(lay["profile_id"].to_numpy(), lay["top"].to_numpy(float),
                 lay["bottom"].to_numpy(float))
    y = (lay["i_bulk"] / lay["thickness"]).to_numpy(float)  # per cm of layer
    rf = RandomForest(n_estimators=size["trees"], random_state=ctx.seed, n_jobs=n_jobs,
                      oob_score=True).fit(X, y)
    fit_in = rf.predict(X) * lay["thickness"].to_numpy()
    r2_in = 1 - np.sum((lay["i_bulk"] - fit_in) ** 2) / np.sum(
        (lay["i_bulk"] - lay["i_bulk"].mean()) ** 2)
    oob = getattr(rf, "oob_prediction_", None)
    r2_oob = (1 - np.sum((lay["i_bulk"] - oob * lay["thickness"]) ** 2)
              / np.sum((lay["i_bulk"] - lay["i_bulk"].mean()) ** 2)) if oob is not None \
        else np.nan
    ctx.option("harmonization", f"random forest ({size['trees']} trees) of I_bulk per cm on "
               "top, bottom and the profile covariates, trained on all layers (as the paper), "
               "predicted on the seven standard layers × their thickness")
    profs = np.array(sorted(lay["profile_id"].unique()))
    P, L = len(profs), len(STANDARD_LAYERS)
    st_t = np.array([t for t, _ in STANDARD_LAYERS])
    st_b = np.array([b for _, b in STANDARD_LAYERS])
    Xs = features(np.repeat(profs, L), np.tile(st_t, P), np.tile(st_b, P))
    ib = (rf.predict(Xs) * np.tile(st_b - st_t, P)).reshape(P, L)
    total = ib.sum(1)
    std = pd.DataFrame(ib, columns=[f"i_bulk_{int(t)}_{int(b)}cm" for t, b in STANDARD_LAYERS])
    std.insert(0, "profile_id", profs)
    std["i_bulk_0_200cm"] = total
    std["biome"] = pd.Series(profs).map(bmap).to_numpy()
    ctx.row("i_bulk_0_200cm", "I_bulk 0–200 cm, mean over profiles (range: 2.5–97.5 %)",
            "Mg C ha-1 yr-1", "0.60 (0.06–3.59)", float(total.mean()),
            low=float(np.percentile(total, 2.5)), high=float(np.percentile(total, 97.5)), n=P,
            note=f"RF harmonization R² {r2_in:.2f} in-sample (paper 0.95), {r2_oob:.2f} OOB")
    for j, (key, paper) in enumerate((("i_bulk_0_20cm", 0.26), ("i_bulk_20_40cm", 0.06),
                                      ("i_bulk_40_60cm", 0.03))):
        ctx.row(key, f"I_bulk {key[7:].replace('_', '–').replace('cm', ' cm')}, mean",
                "Mg C ha-1 yr-1", paper, float(ib[:, j].mean()), n=P)
    share = ib[:, 0] / total
    ctx.row("i_bulk_share_0_20cm", "share of I_bulk 0–200 cm in 0–20 cm (mean of profiles)",
            "fraction", 0.689, float(share.mean()), n=P,
            note="paper: 68.9 %, 14.1 %, 5.2 % in 0–20/20–40/40–60 cm; ours "
            + "/".join(f"{100 * (ib[:, j] / total).mean():.1f} %" for j in range(3)))
    for b, paper in (("temperate_forest", 1.20), ("boreal_forest", 0.77), ("tundra", 0.26),
                     ("desert", 0.16)):
        sel = std["biome"] == b
        ctx.row(f"i_bulk_{b}", f"I_bulk 0–200 cm, {b.replace('_', ' ')}", "Mg C ha-1 yr-1",
                paper, float(std.loc[sel, "i_bulk_0_200cm"].mean()) if sel.any() else None,
                n=int(sel.sum()), note="biome from MODIS land cover + Köppen–Geiger "
                "(assign_biome)" if sel.any() else "no profile of this biome")
    return {"bio": bio, "groups": groups, "bmap": bmap, "X": X, "y": y, "Xs": Xs,
            "profs": profs, "P": P, "L": L, "st_t": st_t, "st_b": st_b, "ib": ib,
            "total": total, "std": std, "r2_in": r2_in, "r2_oob": r2_oob}


def _root_inputs(ctx: Reproduction, sidx: pd.DataFrame, bio: pd.DataFrame, profs: np.ndarray,
                 st_t: np.ndarray, st_b: np.ndarray, total: np.ndarray, std: pd.DataFrame
                 ) -> tuple[np.ndarray, np.ndarray]:
    """I_root by layer from NPP and the biome's root profile; I_loss; (I_root, its total)."""
    P = len(profs)
    # ---- 5. I_root and I_loss
    from wholesoil.depth._roots import root_fractions
    from wholesoil.radiocarbon._inputs import profile_npp

    site_p = sidx.loc[profs]
    npp, npp_src = profile_npp(site_p["pro_NPP"].to_numpy(float),
                               mat=site_p["pro_BIO1_C_WC2.1"].to_numpy(float),
                               map=site_p["pro_BIO12_mmyr_WC2.1"].to_numpy(float),
                               lat=site_p["lat"].to_numpy(float),
                               lon=site_p["lon"].to_numpy(float))
    beta = biome_beta(bio.set_index("profile_id").loc[profs].reset_index())
    frac = root_fractions(st_t, st_b, beta=beta, max_depth=np.full(P, 200.0)).fraction
    i_root_tot = npp * DEFAULT_F_BNPP / 100.0  # g C m-2 yr-1 → Mg C ha-1 yr-1
    i_root = i_root_tot[:, None] * frac
    ctx.option("i_root", f"NPP × f_BNPP ({DEFAULT_F_BNPP}, the paper's mean) with NPP = ISRaD "
               "pro_NPP where reported, else the Miami model (Lieth 1975) on WorldClim BIO1 "
               "and BIO12, else on the bundled climate grid; over the seven layers by the "
               "Jackson et al. 1996 β of the biome, truncated at 200 cm")
    ctx.row("i_root_0_200cm", "I_root 0–200 cm, mean over profiles", "Mg C ha-1 yr-1", 3.50,
            float(i_root_tot.mean()), low=float(np.percentile(i_root_tot, 2.5)),
            high=float(np.percentile(i_root_tot, 97.5)), n=P,
            note="paper: 725 NPP_data sites with measured BNPP; ours: Δ14C profiles, NPP "
            + ", ".join(f"{k} {v}" for k, v in pd.Series(npp_src).value_counts().items()))
    ctx.row("i_root_share_0_20cm", "share of I_root in 0–20 cm", "fraction", 0.60,
            float(frac[:, 0].mean()), n=P, note="Jackson et al. 1996 β by biome (paper: "
            "Root_data of Schenk & Jackson)")
    i_loss = i_root_tot - total
    lf = i_loss / i_root_tot
    ctx.row("i_loss_0_200cm", "I_loss = I_root − I_bulk, 0–200 cm, mean", "Mg C ha-1 yr-1",
            2.31, float(i_loss.mean()), low=float(np.percentile(i_loss, 2.5)),
            high=float(np.percentile(i_loss, 97.5)), n=P,
            note="one estimate (I_loss3-like: Δ14C sites, I_root from climate NPP); paper: "
            "mean of six, range 1.80–3.36")
    ctx.row("i_loss_fraction", "I_loss / I_root (ratio of means; range: 2.5–97.5 % of "
            "profiles)", "fraction", "0.779 (0.653–0.909)", float(i_loss.mean()
                                                                  / i_root_tot.mean()),
            low=float(np.percentile(lf, 2.5)), high=float(np.percentile(lf, 97.5)), n=P,
            note="paper's range is across its six estimates, ours across profiles")
    std["npp"], std["npp_source"], std["beta"] = npp, npp_src, beta
    std["i_root_0_200cm"], std["i_loss_0_200cm"] = i_root_tot, i_loss
    for j, (t, b) in enumerate(STANDARD_LAYERS):
        std[f"i_root_{int(t)}_{int(b)}cm"] = i_root[:, j]
    _gz_table(ctx, "profiles", std)
    by_b = std.groupby("biome")[["i_bulk_0_200cm", "i_root_0_200cm", "i_loss_0_200cm"]].agg(
        ["mean", "median", "count"])
    by_b.columns = ["_".join(c) for c in by_b.columns]
    ctx.table("by_biome", by_b, index=True)
    return i_root, i_root_tot


def _gz_table(ctx: Reproduction, name: str, df: pd.DataFrame) -> None:
    """A large table as ``tables/NAME.csv.gz`` (keeps a committed run small)."""
    path = ctx.out / "tables" / f"{name}.csv.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        df.to_csv(fh, index=False, float_format="%.6g")
    ctx.tables[name] = path


def _drivers(ctx: Reproduction, lay: pd.DataFrame, sites: pd.DataFrame,
             groups: dict[str, list[str]], bmap: pd.Series) -> dict[str, float]:
    """Mixed model of log I_bulk with biome as random intercept after grouped PCA (Eqs. 7–8)."""
    from wholesoil.stats._grouped_pca import GroupedPCA
    from wholesoil.stats._mixed import fit_mixed

    try:
        sidx = sites.set_index("profile_id")
        cols = [c for g in groups.values() for c in g]
        x = sidx.loc[lay["profile_id"], cols].astype(float).reset_index(drop=True)
        x = x.fillna(x.median())
        gp = GroupedPCA(groups={g: c for g, c in groups.items() if c},
                        remainder="drop").fit(x)
        pcs = pd.DataFrame(np.asarray(gp.transform(x)), columns=[
            f"{g}_pc{i + 1}" for g, n in gp.n_components_.items() for i in range(n)])
        d = pd.concat([lay[["top", "bottom", "i_bulk"]].reset_index(drop=True), pcs], axis=1)
        d["biome"] = lay["biome"].to_numpy()
        d = d[d["biome"] != "unassigned"]
        formula = "log(i_bulk) ~ zscore(top) + zscore(bottom) + " + " + ".join(pcs.columns)
        res = fit_mixed(d, formula, "biome")
        ctx.option("mixed_model", {"formula": formula, "group": "biome (random intercept)",
                                   "components_kept": gp.n_components_})
        ctx.table("mixed_model_fixed_effects", res.fixed_effects, index=True)
        ctx.table("mixed_model_variance_components", res.variance_components, index=True)
        ctx.table("grouped_pca_loadings", gp.loadings_, index=True)
        return {"mixed_r2_marginal": float(res.r2_marginal),
                "mixed_r2_conditional": float(res.r2_conditional)}
    except Exception as exc:  # recorded, the other rows still come
        ctx.note(f"mixed model not fitted: {type(exc).__name__}: {exc}")
        return {}


def _ensemble_cv(ctx: Reproduction, X: pd.DataFrame, y: np.ndarray, lay: pd.DataFrame,
                 size: dict[str, int], n_jobs: int) -> dict[str, float]:
    """The paper's ensemble (RF, XGBoost, Cubist, SVM, MARS; PCR stack of the best three):
    grouped k-fold CV by profile, R² per standard layer (by layer midpoint). Cached: a run
    interrupted after this step resumes without refitting."""
    members = ("rf", "xgb") if ctx.quick else ("rf", "xgb", "cubist", "svm", "mars")

    def compute() -> dict[str, pd.DataFrame]:
        from wholesoil.mapping._ensemble import StackedEnsemble

        params = {"rf": {"n_estimators": size["trees"], "n_jobs": n_jobs},
                  "xgb": {"n_estimators": size["xgb_rounds"], "n_jobs": n_jobs}}
        ens = StackedEnsemble(members=members, cv=size["cv_folds"], random_state=ctx.seed,
                              member_params=params, n_keep=min(3, len(members)))
        ens.fit(X, np.log(y), groups=lay["profile_id"].to_numpy())
        names = list(ens.member_names_)
        kept = [names.index(k) for k in ens.kept_]
        stack = ens.intercept_ + ens.oof_predictions_[:, kept] @ np.asarray(ens.weights_)
        thick = lay["thickness"].to_numpy(float)
        obs = y * thick
        rows = []
        band = np.digitize(lay["mid"].to_numpy(float), SEED004_DEPTHS[1:-1])
        preds = {**{n: ens.oof_predictions_[:, i] for i, n in enumerate(names)},
                 "stack": stack}
        for j, (t, b) in enumerate(STANDARD_LAYERS):
            sel = band == j
            row: dict[str, Any] = {"layer": f"{int(t)}-{int(b)} cm", "n": int(sel.sum())}
            for n, pred in preds.items():
                pr = np.exp(pred[sel]) * thick[sel]
                o = obs[sel]
                row[f"r2_{n}"] = (1 - np.sum((o - pr) ** 2) / np.sum((o - o.mean()) ** 2)
                                  if sel.sum() > 2 else np.nan)
            rows.append(row)
        pr = np.exp(stack) * thick
        r2 = float(1 - np.sum((obs - pr) ** 2) / np.sum((obs - obs.mean()) ** 2))
        return {"by_layer": pd.DataFrame(rows), "members": ens.member_scores_.reset_index(
            drop=True), "summary": pd.DataFrame({"cv_r2": [r2],
                                                 "kept": [";".join(ens.kept_)]})}

    try:
        res = ctx.cached("ensemble_cv", compute, members=list(members), n=len(lay), **size)
    except Exception as exc:  # recorded; the other rows still come
        ctx.note(f"ensemble CV not run: {type(exc).__name__}: {exc}")
        return {}
    ctx.option("ensemble", {"members": list(members),
                            "kept": str(res["summary"]["kept"].iloc[0]).split(";"),
                            "folds": size["cv_folds"], "grouping": "profile",
                            "target": "log I_bulk per cm"})
    ctx.table("ensemble_cv_by_layer", res["by_layer"])
    ctx.table("ensemble_members", res["members"])
    return {"ensemble_cv_r2": float(res["summary"]["cv_r2"].iloc[0])}


def _monte_carlo(ctx: Reproduction, X: pd.DataFrame, y: np.ndarray, lay: pd.DataFrame,
                 Xs: pd.DataFrame, P: int, L: int, thick: np.ndarray, size: dict[str, int],
                 n_jobs: int, i_root: np.ndarray) -> dict[str, float]:
    """Coulston et al. (2016) 95 % intervals of the standard-layer I_bulk (paper: 500
    bootstraps of profiles, 80/20, 500-tree forests), and I_loss = I_root − I_bulk over
    :data:`~wholesoil.radiocarbon._inputs.MONTE_CARLO_DRAWS` Monte Carlo draws of I_bulk
    (normal per profile and layer with sd = interval half-width / 1.96, truncated at 0; the
    paper's propagation). Cached."""
    from wholesoil.radiocarbon._inputs import MONTE_CARLO_DRAWS

    def compute() -> dict[str, pd.DataFrame]:
        from wholesoil.mapping._learners import RandomForest
        from wholesoil.mapping._uncertainty import CoulstonInterval

        ci = CoulstonInterval(forest=RandomForest(n_estimators=size["mc_trees"],
                                                  n_jobs=n_jobs),
                              n_boot=size["mc_boot"], level=0.95, random_state=ctx.seed)
        ci.fit(X, y, groups=lay["profile_id"].to_numpy())
        iv = ci.predict_interval(Xs)
        mean = np.asarray(iv.mean, float).reshape(P, L) * thick
        lo = np.asarray(iv.lower, float).reshape(P, L) * thick
        hi = np.asarray(iv.upper, float).reshape(P, L) * thick
        rng = np.random.default_rng(ctx.seed)
        sd = (hi - lo) / 2 / 1.959964
        draws = np.clip(rng.normal(mean, sd, size=(MONTE_CARLO_DRAWS, P, L)), 0, None)
        total = draws.sum(-1)                                  # (D, P)
        loss = i_root[None, :] - total
        per_draw = pd.DataFrame({"i_bulk_mean": total.mean(1), "i_loss_mean": loss.mean(1),
                                 "i_loss_fraction": loss.mean(1) / i_root.mean()})
        by_layer = pd.DataFrame({
            "layer": [f"{int(t)}-{int(b)} cm" for t, b in STANDARD_LAYERS],
            "mean": mean.mean(0), "mean_lower": np.clip(lo, 0, None).mean(0),
            "mean_upper": hi.mean(0)})
        return {"by_layer": by_layer, "draws": per_draw,
                "summary": pd.DataFrame({"tau_hat": [float(ci.tau_)]})}

    try:
        res = ctx.cached("monte_carlo", compute, n=len(lay), **size)
    except Exception as exc:  # recorded; the other rows still come
        ctx.note(f"Coulston intervals not computed: {type(exc).__name__}: {exc}")
        return {}
    tau = float(res["summary"]["tau_hat"].iloc[0])
    ctx.option("monte_carlo", {"bootstraps": size["mc_boot"], "trees": size["mc_trees"],
                               "level": 0.95, "holdout": 0.2, "tau_hat": tau,
                               "draws": MONTE_CARLO_DRAWS})
    ctx.table("coulston_intervals_by_layer", res["by_layer"])
    q = res["draws"].quantile([0.025, 0.5, 0.975])
    q.index = ["q2.5", "median", "q97.5"]
    ctx.table("monte_carlo_summary", q, index=True)
    return {"tau_hat": tau}


def _figures(ctx: Reproduction, lay: pd.DataFrame, ib: np.ndarray, i_root: np.ndarray,
             std: pd.DataFrame) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mids = [(t + b) / 2 for t, b in STANDARD_LAYERS]
    fig, ax = plt.subplots(1, 2, figsize=(9, 4))
    ax[0].plot(ib.mean(0), mids, "o-", label="I_bulk")
    ax[0].plot(i_root.mean(0), mids, "s-", label="I_root")
    ax[0].invert_yaxis()
    ax[0].set_xlabel("mean input [Mg C ha$^{-1}$ yr$^{-1}$]")
    ax[0].set_ylabel("depth [cm]")
    ax[0].legend()
    ax[1].scatter(lay["age"], lay["mid"], s=4, alpha=0.4)
    ax[1].set_xscale("log")
    ax[1].invert_yaxis()
    ax[1].set_xlabel("C age [yr]")
    ax[1].set_ylabel("layer midpoint [cm]")
    fig.tight_layout()
    ctx.table("depth_profile", pd.DataFrame({"layer_mid_cm": mids, "i_bulk_mean": ib.mean(0),
                                             "i_root_mean": i_root.mean(0)}))
    ctx.figure("depth_profile", fig, "Mean I_bulk and I_root per standard layer (left) and "
               "the one-pool C age of every layer used (right)")
    fig, ax = plt.subplots(figsize=(8, 4))
    order = [b for b in BIOMES if (std["biome"] == b).any()]
    ax.boxplot([std.loc[std["biome"] == b, "i_bulk_0_200cm"] for b in order], showfliers=False)
    ax.set_xticks(range(1, len(order) + 1), [b.replace("_", " ") for b in order], rotation=35,
                  ha="right", fontsize=7)
    ax.set_ylabel("I_bulk 0–200 cm [Mg C ha$^{-1}$ yr$^{-1}$]")
    fig.tight_layout()
    ctx.figure("i_bulk_by_biome", fig, "I_bulk 0–200 cm by biome (box: quartiles)")
