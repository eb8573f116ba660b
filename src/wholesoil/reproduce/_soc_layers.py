"""SOC density of ISRaD layers, shared by the depth-distribution reproductions.

Each layer's SOC concentration, bulk density and coarse fragments are taken from the first
source that has them (ISRaD's measured value, then ISRaD's own fill, then a stated fallback);
the source of every value is kept in a column so the tables say what was filled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from wholesoil.profiles import bd_pedotransfer, om_percent_from_soc, soc_density

#: ISRaD ``pro_land_cover`` → the ecosystems of Wang et al. (2025). ISRaD's classes
#: ``shrubland``, ``tundra``, ``wetland``, ``bare`` and ``urban`` have no counterpart among the
#: paper's three ecosystems and are left out.
ISRAD_ECOSYSTEMS: dict[str, str] = {
    "cultivated": "cropland",
    "rangeland/grassland": "grassland",
    "forest": "forest",
}

#: Profile covariates of ISRaD used as predictors (climate from WorldClim 2.1 and CRU TS 3.23,
#: soil properties from SoilGrids at the profile's location, PET, soil moisture, elevation).
COVARIATE_PREFIXES: tuple[str, ...] = (
    "pro_BIO", "pro_clay_", "pro_bd_", "pro_coarse_", "pro_corg_", "pro_PET_mmyr",
    "pro_soilMoist_mm_TC", "pro_MAT_CRUTSv323", "pro_MAP_CRUTSv323", "elevation",
)


def site_key(sites: pd.DataFrame) -> pd.Series:
    """A site identifier per profile: ISRaD entry + site name (profiles of one site share it)."""
    return sites["entry"].astype(str) + "::" + sites["site_name"].astype(str)


def covariate_columns(sites: pd.DataFrame, min_coverage: float = 0.9) -> list[str]:
    """Numeric profile covariates (:data:`COVARIATE_PREFIXES`) present in ≥ ``min_coverage``."""
    cols = []
    for c in sites.columns:
        if not any(str(c).startswith(p) for p in COVARIATE_PREFIXES):
            continue
        v = pd.to_numeric(sites[c], errors="coerce")
        if v.notna().mean() >= min_coverage and v.nunique() > 1:
            cols.append(c)
    # SoilGrids at 200 cm are outside the 0–100 cm analysed; keep 0–100 cm soil covariates
    return [c for c in cols if "_200_cm" not in c and "corgStock" not in c]


def layer_soc_density(horizons: pd.DataFrame) -> pd.DataFrame:
    """SOC density of each mineral layer (:func:`wholesoil.profiles.soc_density`), with sources.

    SOC [g kg⁻¹]: measured ``soc``, else ISRaD's fill ``soc_filled`` (ISRaD's organic C filled
    from total C where no inorganic C is reported). BD [g cm⁻³]: measured ``bd``, else
    ``bd_filled``, else the pedotransfer BD = 0.32 + 1.30·exp(−0.0089·OM) of Tao et al. (OM =
    1.724·SOC %). Coarse fragments [vol %]: ``coarse_tot``, else ``coarse_tot_filled``, else 0.
    Layers above the mineral surface (negative depths, organic layers as ISRaD records them),
    layers with a missing or infinite depth, zero thickness or no SOC are dropped (returned
    with ``use = False`` and the reason).

    Returns
    -------
    pandas.DataFrame
        The horizons with ``soc_used``, ``bd_used``, ``coarse_used``, their ``*_source``,
        ``soc_density`` [Mg C ha⁻¹], ``soc_density_cm`` [Mg C ha⁻¹ cm⁻¹], ``use`` and
        ``reason``.
    """
    h = horizons.copy()
    soc = h["soc"].astype(float)
    soc_src = np.where(soc.notna(), "measured", "israd_fill")
    soc = soc.fillna(h["soc_filled"].astype(float))
    soc_src = np.where(soc.isna(), "none", soc_src)
    bd = h["bd"].astype(float)
    bd_src = np.where(bd.notna(), "measured", "israd_fill")
    bd = bd.fillna(h["bd_filled"].astype(float))
    ptf = bd.isna() & soc.notna()
    bd_src = np.where(ptf, "pedotransfer", bd_src)
    bd = bd.where(~ptf, bd_pedotransfer(om_percent_from_soc(soc.clip(lower=0))))
    gc = h["coarse_tot"].astype(float)
    gc_src = np.where(gc.notna(), "measured", "israd_fill")
    gc = gc.fillna(h["coarse_tot_filled"].astype(float))
    gc_src = np.where(gc.isna(), "assumed_0", gc_src)
    gc = gc.fillna(0.0).clip(0, 100)
    top = h["top"].astype(float)
    bottom = h["bottom"].astype(float)
    reason = np.full(len(h), "", dtype=object)
    reason[(soc.isna()).to_numpy()] = "no SOC"
    reason[(soc < 0).to_numpy()] = "negative SOC"
    reason[~(np.isfinite(top) & np.isfinite(bottom)).to_numpy()] = "missing or infinite depth"
    reason[(np.isfinite(top) & (top < 0)).to_numpy()] = "above the mineral surface (organic layer)"
    reason[(np.isfinite(top) & np.isfinite(bottom) & (bottom <= top)).to_numpy()] = (
        "zero or negative thickness"
    )
    h["soc_used"], h["soc_source"] = soc, soc_src
    h["bd_used"], h["bd_source"] = bd, bd_src
    h["coarse_used"], h["coarse_source"] = gc, gc_src
    thick = (bottom - top).where(reason == "")
    h["soc_density"] = soc_density(soc, bd, thick, gc)
    h["soc_density_cm"] = h["soc_density"] / thick
    h["use"] = reason == ""
    h["reason"] = reason
    return h


def overlapping_profiles(layers: pd.DataFrame) -> np.ndarray:
    """Profile ids whose (sorted) layers overlap: replicate or nested horizons."""
    t = layers.sort_values(["profile_id", "top", "bottom"], kind="stable")
    same = t["profile_id"].to_numpy()[1:] == t["profile_id"].to_numpy()[:-1]
    over = same & (t["top"].to_numpy()[1:] < t["bottom"].to_numpy()[:-1] - 1e-9)
    return np.unique(t["profile_id"].to_numpy()[1:][over])
