"""Real data bundled with wholesoil, with their citations and licences.

Every loader attaches ``citation``, ``licence`` and ``source`` from :data:`REGISTRY` to what it
returns (``ProfileSet.metadata`` or ``DataFrame.attrs``). The files under
``wholesoil/data/`` are byte-identical copies of the published data (see
``wholesoil/data/README.md``); anything derived from them is computed here, in code.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wholesoil.io._israd import read_israd
from wholesoil.io._ncscd import read_ncscd
from wholesoil.io._table import read_csv_checked
from wholesoil.profiles import ProfileSet

#: Libby mean life [yr] used to turn a conventional ¹⁴C age into F14C = exp(−age / 8033).
LIBBY_MEAN_LIFE = 8033.0

#: True mean life of ¹⁴C [yr] (half-life 5730 yr) used in Δ14C ↔ F14C with the sample year:
#: Δ14C = (F14C · exp((1950 − year) / 8267) − 1) · 1000 (Stuiver & Polach 1977).
C14_MEAN_LIFE = 8267.0

_CC_BY_4 = "Creative Commons Attribution 4.0 International (CC BY 4.0)"

#: Bundled data sets: file(s) under ``wholesoil/data``, citation, licence and notes.
REGISTRY: dict[str, dict[str, Any]] = {
    "ncscd": {
        "files": [
            "profiles/ncscd_hugelius2013/Hugelius_etal_ESSDD_OSM_pedon_database_20130326.txt"
        ],
        "description": "524 pedons of the northern circumpolar permafrost region, SOC stocks "
        "0-30, 0-100, 100-200, 200-300 cm",
        "citation": "Hugelius, G., Bockheim, J. G., Camill, P., Elberling, B., Grosse, G., "
        "Harden, J. W., Johnson, K., Jorgenson, T., Koven, C. D., Kuhry, P., Michaelson, G., "
        "Mishra, U., Palmtag, J., Ping, C.-L., O'Donnell, J., Schirrmeister, L., Schuur, E. A. G.,"
        " Sheng, Y., Smith, L. C., Strauss, J. and Yu, Z. (2013) A new data set for estimating "
        "organic carbon storage to 3 m depth in soils of the northern circumpolar permafrost "
        "region. Earth Syst. Sci. Data 5:393-402, doi:10.5194/essd-5-393-2013 "
        "(ESSDD 6:73-93 supplement)",
        "licence": "Creative Commons Attribution 3.0 (CC BY 3.0), as stated in read_me.txt",
    },
    "israd_gaudinski2001": {
        "files": [
            f"profiles/israd_gaudinski2001/{t}.csv"
            for t in (
                "metadata",
                "site",
                "profile",
                "layer",
                "fraction",
                "incubation",
                "flux",
                "interstitial",
            )
        ],
        "description": "ISRaD entry Gaudinski_2001: Howland Forest, Maine (45.167 N, "
        "-68.667 E), 5 profiles, 49 layers with bulk density, organic C, SOC stock, Δ14C",
        "citation": "Lawrence, C. R. et al. (2020) An open-source database for the synthesis "
        "of soil radiocarbon data: International Soil Radiocarbon Database (ISRaD) version 1.0. "
        "Earth Syst. Sci. Data 12:61-76, doi:10.5194/essd-12-61-2020; Gaudinski, J. B. (2001) "
        "Belowground carbon cycling in three temperate forests of the eastern United States. "
        "PhD thesis, University of California, Irvine",
        "licence": _CC_BY_4,
    },
    "israd": {
        "files": [
            f"profiles/israd_extra_2023-02-08/israd_extra_2023-02-08_{t}.csv.gz"
            for t in (
                "metadata",
                "site",
                "profile",
                "layer",
                "fraction",
                "incubation",
                "flux",
                "interstitial",
            )
        ],
        "description": "the whole International Soil Radiocarbon Database as compiled on "
        "2023-02-08 with ISRaD.extra fills and covariates: 436 entries, 1,451 sites, 4,591 "
        "profiles, 36,941 layers (7,862 with Δ14C), 6,639 fractions, 2,794 incubations, 4,523 "
        "fluxes, 1,074 interstitial samples; ~45 covariates per profile (WorldClim 2.1 BIO1-19, "
        "SoilGrids, CRU TS 3.23, PET, soil moisture, Köppen-Geiger, MODIS land cover, USDA "
        "order, Graven zone)",
        "citation": "Lawrence, C. R. et al. (2020) An open-source database for the synthesis "
        "of soil radiocarbon data: International Soil Radiocarbon Database (ISRaD) version 1.0. "
        "Earth Syst. Sci. Data 12:61-76, doi:10.5194/essd-12-61-2020; compilation of "
        "2023-02-08 as archived by von Fromm, S. F. et al. (2024) Global Change Biology "
        "30:e17320, doi:10.1111/gcb.17320 (code: doi:10.5281/zenodo.11105261); cite each "
        "entry's own publication too (metadata['entries_table']: doi, "
        "bibliographical_reference)",
        "licence": _CC_BY_4,
    },
    "hua2021": {
        "files": [
            f"radiocarbon/Hua2021_{z}.csv"
            for z in ("NHZone1", "NHZone2", "NHZone3", "SHZone12", "SHZone3")
        ],
        "description": "bomb-period atmospheric Δ14C and F14C, monthly, 1941.21-2019.375, by "
        "zone (Supplement 2)",
        "citation": "Hua, Q., Turnbull, J. C., Santos, G. M., Rakowski, A. Z., Ancapichún, S., "
        "De Pol-Holz, R., Hammer, S., Lehman, S. J., Levin, I., Miller, J. B., Palmer, J. G. and "
        "Turney, C. S. M. (2022) Atmospheric radiocarbon for the period 1950-2019. Radiocarbon "
        "64(4):723-745, doi:10.1017/RDC.2021.95",
        "licence": _CC_BY_4,
    },
    "hua2013": {
        "files": [
            f"radiocarbon/Hua2013_{z}.csv"
            for z in ("NHZone1", "NHZone2", "NHZone3", "SHZone12", "SHZone3")
        ],
        "description": "bomb-period atmospheric Δ14C and F14C by zone, 1950-2010 (Table S3)",
        "citation": "Hua, Q., Barbetti, M. and Rakowski, A. Z. (2013) Atmospheric radiocarbon "
        "for the period 1950-2010. Radiocarbon 55(4):2059-2072, doi:10.2458/azu_js_rc.v55i2.16177",
        "licence": "published supplement of Radiocarbon (open access); cite the paper",
    },
    "intcal20": {
        "files": ["radiocarbon/IntCal20.csv"],
        "description": "Northern Hemisphere calibration curve, 0-55,000 cal BP",
        "citation": "Reimer, P. J. et al. (2020) The IntCal20 Northern Hemisphere radiocarbon "
        "age calibration curve (0-55 cal kBP). Radiocarbon 62(4):725-757, "
        "doi:10.1017/RDC.2020.41",
        "licence": _CC_BY_4,
    },
    "shcal20": {
        "files": ["radiocarbon/SHCal20.csv"],
        "description": "Southern Hemisphere calibration curve, 0-55,000 cal BP",
        "citation": "Hogg, A. G. et al. (2020) SHCal20 Southern Hemisphere calibration, "
        "0-55,000 years cal BP. Radiocarbon 62(4):759-778, doi:10.1017/RDC.2020.59",
        "licence": _CC_BY_4,
    },
    "israd_hua2021_annual": {
        "files": ["radiocarbon/ISRaD_Hua_2021_annual.csv"],
        "description": "Hua et al. (2022) zones averaged to annual hemispheric means, as ISRaD "
        "uses them, 1941-2019",
        "citation": "Lawrence, C. R. et al. (2020) Earth Syst. Sci. Data 12:61-76, "
        "doi:10.5194/essd-12-61-2020; Hua, Q. et al. (2022) Radiocarbon 64(4):723-745, "
        "doi:10.1017/RDC.2021.95",
        "licence": _CC_BY_4,
    },
    "ncep_mat": {
        "files": ["covariates/ncep_r1_air_sig995_ltm_MAT_2p5deg.csv"],
        "description": "mean annual air temperature [°C] at sigma 0.995, NCEP/NCAR Reanalysis 1 "
        "long-term means, 2.5° nodes (73 x 144, lat 90..-90, lon 0..357.5)",
        "citation": "Kalnay, E. et al. (1996) The NCEP/NCAR 40-year reanalysis project. Bull. "
        "Amer. Meteor. Soc. 77:437-471; data by NOAA PSL, Boulder, Colorado, USA",
        "licence": "US-government data (NOAA PSL), free to use with citation",
    },
    "cmap_map": {
        "files": ["covariates/cpc_cmap_precip_ltm_MAP_2p5deg.csv"],
        "description": "mean annual precipitation [mm], CPC Merged Analysis of Precipitation "
        "(CMAP) V1902 long-term means, 2.5° cells (72 x 144, lat 88.75..-88.75, lon "
        "1.25..358.75)",
        "citation": "Xie, P. and Arkin, P. A. (1997) Global precipitation: a 17-year monthly "
        "analysis based on gauge observations, satellite estimates, and numerical model "
        "outputs. Bull. Amer. Meteor. Soc. 78:2539-2558; data by NOAA PSL / CPC",
        "licence": "US-government data (NOAA PSL / CPC), free to use with citation",
    },
}

#: Bomb-curve zones of Hua et al. (NH zone 1 ≈ north of 40° N; NH 2, 3 down to the ITCZ; SH).
ZONES = ("NHZone1", "NHZone2", "NHZone3", "SHZone12", "SHZone3")


def data_path(relative: str) -> Path:
    """Path of a bundled file, e.g. ``data_path("radiocarbon/IntCal20.csv")``."""
    return Path(str(resources.files("wholesoil") / "data" / relative))


def citation(name: str) -> str:
    """Citation of a bundled data set (a key of :data:`REGISTRY`, or ``"climate"``)."""
    if name == "climate":
        return REGISTRY["ncep_mat"]["citation"] + "; " + REGISTRY["cmap_map"]["citation"]
    try:
        return str(REGISTRY[name]["citation"])
    except KeyError:
        raise KeyError(f"unknown data set {name!r}; known: {sorted(REGISTRY)}") from None


def _provenance(*names: str) -> dict[str, Any]:
    return {
        "source": names[0] if len(names) == 1 else list(names),
        "citation": "; ".join(REGISTRY[n]["citation"] for n in names),
        "licence": "; ".join(REGISTRY[n]["licence"] for n in names),
        "files": [f for n in names for f in REGISTRY[n]["files"]],
    }


# ----------------------------------------------------------------------------------- profiles
def load_ncscd() -> ProfileSet:
    """The 524 NCSCD pedons of Hugelius et al. (2013), read by :func:`wholesoil.io.read_ncscd`.

    Returns
    -------
    ProfileSet
        Four layers per pedon (0–30, 30–100, 100–200, 200–300 cm) with ``soc_density``
        [Mg C ha⁻¹]; metadata carries citation and licence (CC BY 3.0).
    """
    ps = read_ncscd(data_path(REGISTRY["ncscd"]["files"][0]))
    ps.metadata.update(_provenance("ncscd"))
    ps.metadata["source"] = "ncscd"
    return ps


def load_israd_example() -> ProfileSet:
    """The ISRaD entry Gaudinski_2001 (Howland Forest, Maine), read by ``read_israd``.

    Returns
    -------
    ProfileSet
        5 profiles, 49 layers; organic horizons have negative depths, as ISRaD records them.
    """
    ps = read_israd(data_path("profiles/israd_gaudinski2001"))
    ps.metadata.update(_provenance("israd_gaudinski2001"))
    ps.metadata["source"] = "israd"
    return ps


# ---------------------------------------------------------------------------------- radiocarbon
def load_israd() -> ProfileSet:
    """The whole bundled ISRaD database (2023-02-08 compilation) as a ProfileSet.

    4,591 profiles and 36,941 layers read from the database's eight table files by
    :func:`wholesoil.io.read_israd`: sites carry the canonical columns plus every covariate of
    the profile table under its ISRaD name (``pro_BIO1_C_WC2.1``, ``pro_clay_30_cm_SG``,
    ``pro_KG_present_short``, ``pro_graven_zone`` …); layers carry measured values and,
    separately, ISRaD's fills (``bd_filled``, ``soc_filled``, ``soc_density_filled``,
    ``d14c_fill_extra``, …); ``metadata`` holds ``fraction``, ``incubation``, ``flux``,
    ``interstitial`` (DataFrames with ``profile_id``), ``entries_table`` (one row per entry:
    ``doi``, ``bibliographical_reference``) and the provenance (:data:`REGISTRY` ``"israd"``).

    Depths are as ISRaD records them (organic layers above the mineral surface are negative,
    ``all_org_neg`` = "yes" where a profile's organic layers are all negative).
    """
    ps = read_israd(data_path(REGISTRY["israd"]["files"][0]).parent)
    ps.metadata.update(_provenance("israd"))
    return ps


def load_bomb_curve(zone: str = "NHZone1", source: str = "hua2021") -> pd.DataFrame:
    """Atmospheric radiocarbon curve as a table.

    Parameters
    ----------
    zone : str
        For ``hua2021`` and ``hua2013``: one of ``NHZone1``, ``NHZone2``, ``NHZone3``,
        ``SHZone12``, ``SHZone3`` (Hua et al. zones). For ``israd``: ``"NH"`` or ``"SH"`` (a
        zone name starting with NH or SH selects that hemisphere). Ignored for ``intcal20``
        and ``shcal20`` (one curve each).
    source : {"hua2021", "hua2013", "intcal20", "shcal20", "israd"}
        ``hua2021``: Hua et al. (2022), monthly 1941.21–2019.375; ``hua2013``: Hua et al.
        (2013); ``intcal20`` / ``shcal20``: pre-bomb calibration curves (0–55,000 cal BP)
        with year AD = 1950 − cal BP; ``israd``: annual hemispheric means ISRaD uses.

    Returns
    -------
    pandas.DataFrame
        Columns ``year`` [yr AD, decimal], ``d14c`` [‰], ``d14c_sd`` [‰], ``f14c`` [-],
        ``f14c_sd`` [-], sorted by year. ``attrs`` has ``citation``, ``licence``, ``zone``.

    Notes
    -----
    IntCal20/SHCal20 give Δ14C and a conventional ¹⁴C age; F14C is computed from the age as
    exp(−age/8033) and its sd as F14C·σ_age/8033 (Stuiver & Polach 1977). The ISRaD annual file
    gives Δ14C only; F14C = (Δ14C/1000 + 1)·exp((year − 1950)/8267) and both sds are NaN.
    """
    src = source.lower()
    if src in ("hua2021", "hua2013"):
        if zone not in ZONES:
            raise ValueError(f"zone must be one of {ZONES}, got {zone!r}")
        raw = _read_curve(f"radiocarbon/{'Hua2021' if src == 'hua2021' else 'Hua2013'}_{zone}.csv")
        year_col = "Year" if "Year" in raw.columns else "Year.AD"
        out = pd.DataFrame(
            {
                "year": raw[year_col].astype(float),
                "d14c": raw["mean.Delta14C"].astype(float),
                "d14c_sd": raw["sd.Delta14C"].astype(float),
                "f14c": raw["mean.F14C"].astype(float),
                "f14c_sd": raw["sd.F14C"].astype(float),
            }
        )
        name = src
    elif src in ("intcal20", "shcal20"):
        raw = _read_curve(f"radiocarbon/{'IntCal20' if src == 'intcal20' else 'SHCal20'}.csv")
        age = raw["C14.age"].astype(float)
        f14c = np.exp(-age / LIBBY_MEAN_LIFE)
        out = pd.DataFrame(
            {
                "year": 1950.0 - raw["CAL.BP"].astype(float),
                "d14c": raw["Delta.14C"].astype(float),
                "d14c_sd": raw["Sigma.Delta.14C"].astype(float),
                "f14c": f14c,
                "f14c_sd": f14c * raw["Sigma.C14.age"].astype(float) / LIBBY_MEAN_LIFE,
            }
        )
        zone = "NH" if src == "intcal20" else "SH"
        name = src
    elif src == "israd":
        hemi = zone[:2].upper()
        if hemi not in ("NH", "SH"):
            raise ValueError(f"zone for source 'israd' must be 'NH' or 'SH', got {zone!r}")
        raw = _read_curve("radiocarbon/ISRaD_Hua_2021_annual.csv")
        year = raw["Year.AD"].astype(float)
        d14c = raw[f"{hemi}14C"].astype(float)
        out = pd.DataFrame(
            {
                "year": year,
                "d14c": d14c,
                "d14c_sd": np.nan,
                "f14c": (d14c / 1000.0 + 1.0) * np.exp((year - 1950.0) / C14_MEAN_LIFE),
                "f14c_sd": np.nan,
            }
        )
        zone, name = hemi, "israd_hua2021_annual"
    else:
        raise ValueError(
            f"source must be 'hua2021', 'hua2013', 'intcal20', 'shcal20' or 'israd', got {source!r}"
        )
    out = out.sort_values("year", kind="stable").reset_index(drop=True)
    out.attrs.update(_provenance(name))
    out.attrs["zone"] = zone
    out.attrs["units"] = {"year": "yr AD", "d14c": "‰", "d14c_sd": "‰", "f14c": "-", "f14c_sd": "-"}
    return out


@lru_cache(maxsize=16)
def _read_curve_cached(relative: str) -> pd.DataFrame:
    return read_csv_checked(data_path(relative))


def _read_curve(relative: str) -> pd.DataFrame:
    return _read_curve_cached(relative).copy()


# ------------------------------------------------------------------------------------- climate
@lru_cache(maxsize=1)
def _climate() -> pd.DataFrame:
    mat = read_csv_checked(data_path(REGISTRY["ncep_mat"]["files"][0]))
    pre = read_csv_checked(data_path(REGISTRY["cmap_map"]["files"][0]))
    # MAT nodes as a (73, 144) array, lat descending 90 … −90, lon 0 … 357.5
    node_lat = np.sort(mat["lat"].unique())[::-1]
    node_lon = np.sort(mat["lon"].unique())
    grid = (
        mat.pivot(index="lat", columns="lon", values="MAT_degC")
        .loc[node_lat, node_lon]
        .to_numpy(float)
    )
    # mean of the 4 nodes around each cell centre (lat between rows i, i+1; lon between
    # columns j, j+1, wrapping 357.5 → 0) = bilinear interpolation at the midpoint
    four = (grid[:-1, :] + grid[1:, :]) / 2.0
    cell = (four + np.roll(four, -1, axis=1)) / 2.0
    c_lat = (node_lat[:-1] + node_lat[1:]) / 2.0
    c_lon = node_lon + 1.25
    lat2, lon2 = np.meshgrid(c_lat, c_lon, indexing="ij")
    out = pd.DataFrame({"lat": lat2.ravel(), "lon360": lon2.ravel(), "mat": cell.ravel()})
    p = pre.rename(columns={"lon": "lon360", "MAP_mm": "map"})
    out = out.merge(p, on=["lat", "lon360"], how="left", validate="one_to_one")
    out["lon"] = np.where(out["lon360"] > 180.0, out["lon360"] - 360.0, out["lon360"])
    out = out[["lat", "lon", "mat", "map"]].sort_values(["lat", "lon"], ascending=[False, True])
    return out.reset_index(drop=True)


def load_climate() -> pd.DataFrame:
    """Mean annual temperature and precipitation on one common 2.5° grid (long form).

    The grid is that of CMAP precipitation: 72 × 144 cell centres, lat 88.75 … −88.75 and lon
    −178.75 … 178.75 (the source's 1.25 … 358.75 written east-positive in −180 … 180). NCEP
    MAT comes on the 73 × 144 *nodes* (lat 90 … −90, lon 0 … 357.5), offset by half a cell: it
    is put on the cell centres as the mean of the four surrounding nodes, which is bilinear
    interpolation at the midpoint. MAP cells without data (687, mostly polar) are NaN.

    Returns
    -------
    pandas.DataFrame
        ``lat``, ``lon`` [degrees], ``mat`` [°C], ``map`` [mm yr⁻¹], 10,368 rows; ``attrs``
        has citation and licence of both products.
    """
    out = _climate().copy()
    out.attrs.update(_provenance("ncep_mat", "cmap_map"))
    out.attrs["units"] = {"lat": "degrees N", "lon": "degrees E", "mat": "°C", "map": "mm yr-1"}
    out.attrs["regridding"] = "MAT: mean of the 4 surrounding NCEP nodes at each CMAP cell centre"
    return out


def load_climate_grid() -> Any:
    """MAT and MAP of :func:`load_climate` as a canonical grid (an :class:`xarray.Dataset`).

    The common 2.5° grid of :func:`load_climate` (CMAP cell centres): ``x`` = longitude
    −178.75 … 178.75 (ascending), ``y`` = latitude 88.75 … −88.75 (descending, north-up),
    72 × 144 cells, EPSG:4326 carried the rioxarray way (``spatial_ref`` with ``crs_wkt``).

    Returns
    -------
    xarray.Dataset
        ``mat`` [°C] and ``map`` [mm yr⁻¹] with dims ``(y, x)``; MAP cells without data are
        NaN. ``attrs`` has ``source``, ``citation``, ``licence``, ``files`` and
        ``regridding`` (how MAT was put on the cell centres).
    """
    import rioxarray  # noqa: F401  (registers the .rio accessor)
    import xarray as xr

    df = load_climate()
    lat = np.sort(df["lat"].unique())[::-1]
    lon = np.sort(df["lon"].unique())
    wide = {
        v: df.pivot(index="lat", columns="lon", values=v).loc[lat, lon].to_numpy(float)
        for v in ("mat", "map")
    }
    ds = xr.Dataset(
        {
            "mat": (
                ("y", "x"),
                wide["mat"],
                {"units": "°C", "long_name": "mean annual air temperature (NCEP R1, sigma 0.995)"},
            ),
            "map": (
                ("y", "x"),
                wide["map"],
                {"units": "mm yr-1", "long_name": "mean annual precipitation (CMAP V1902)"},
            ),
        },
        coords={
            "x": (
                "x",
                lon,
                {
                    "standard_name": "longitude",
                    "long_name": "longitude",
                    "units": "degrees_east",
                    "axis": "X",
                },
            ),
            "y": (
                "y",
                lat,
                {
                    "standard_name": "latitude",
                    "long_name": "latitude",
                    "units": "degrees_north",
                    "axis": "Y",
                },
            ),
        },
    )
    ds = ds.rio.write_crs("EPSG:4326")
    ds.attrs.update(_provenance("ncep_mat", "cmap_map"))
    ds.attrs["regridding"] = df.attrs["regridding"]
    return ds


def climate_at(lat: Any, lon: Any, method: str = "nearest") -> pd.DataFrame:
    """MAT and MAP at points.

    Parameters
    ----------
    lat, lon : float or array_like
        Latitude [degrees N] and longitude [degrees E, any of −180…180 or 0…360].
    method : {"nearest", "bilinear"}
        ``nearest``: the common-grid cell (:func:`load_climate`) holding the point, i.e. the
        2.5° cell average. ``bilinear``: each product interpolated bilinearly at the point from
        its own native grid (MAT nodes, MAP cell centres; a MAP neighbour without data makes
        the result NaN).

    Returns
    -------
    pandas.DataFrame
        ``lat``, ``lon`` (as given), ``cell_lat``, ``cell_lon`` (the common-grid cell centre),
        ``mat`` [°C], ``map`` [mm yr⁻¹].
    """
    la = np.atleast_1d(np.asarray(lat, dtype=float))
    lo = np.atleast_1d(np.asarray(lon, dtype=float))
    la, lo = np.broadcast_arrays(la, lo)
    if np.any(np.abs(la) > 90):
        raise ValueError("latitude must be within -90 … 90 degrees")
    lo360 = np.mod(lo, 360.0)
    # common grid: row i has centre 88.75 − 2.5 i; column j has centre 1.25 + 2.5 j (0…360)
    i = np.clip(np.floor((90.0 - la) / 2.5), 0, 71).astype(int)
    j = np.clip(np.floor(lo360 / 2.5), 0, 143).astype(int)
    c_lat = 88.75 - 2.5 * i
    c_lon360 = 1.25 + 2.5 * j
    grid = _climate()
    mat_g = grid.pivot(index="lat", columns="lon", values="mat")
    map_g = grid.pivot(index="lat", columns="lon", values="map")
    lat_idx = np.sort(grid["lat"].unique())[::-1]
    lon_idx = np.sort(grid["lon"].unique())
    mat_a = mat_g.loc[lat_idx, lon_idx].to_numpy()
    map_a = map_g.loc[lat_idx, lon_idx].to_numpy()
    c_lon = np.where(c_lon360 > 180, c_lon360 - 360, c_lon360)
    jj = np.searchsorted(lon_idx, c_lon)
    if method == "nearest":
        mat_v, map_v = mat_a[i, jj], map_a[i, jj]
    elif method == "bilinear":
        mat_v = _bilinear_native(la, lo360, "mat")
        map_v = _bilinear_native(la, lo360, "map")
    else:
        raise ValueError(f"method must be 'nearest' or 'bilinear', got {method!r}")
    out = pd.DataFrame(
        {"lat": la, "lon": lo, "cell_lat": c_lat, "cell_lon": c_lon, "mat": mat_v, "map": map_v}
    )
    out.attrs.update(_provenance("ncep_mat", "cmap_map"))
    return out


@lru_cache(maxsize=2)
def _native(which: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    key = "ncep_mat" if which == "mat" else "cmap_map"
    col = "MAT_degC" if which == "mat" else "MAP_mm"
    df = read_csv_checked(data_path(REGISTRY[key]["files"][0]))
    lats = np.sort(df["lat"].unique())  # ascending for interpolation
    lons = np.sort(df["lon"].unique())
    arr = df.pivot(index="lat", columns="lon", values=col).loc[lats, lons].to_numpy(float)
    return lats, lons, arr


def _bilinear_native(lat: np.ndarray, lon360: np.ndarray, which: str) -> np.ndarray:
    lats, lons, arr = _native(which)
    # wrap longitudes: append the first column at +360
    lons_w = np.append(lons, lons[0] + 360.0)
    arr_w = np.concatenate([arr, arr[:, :1]], axis=1)
    x = np.where(lon360 < lons_w[0], lon360 + 360.0, lon360)
    j = np.clip(np.searchsorted(lons_w, x, side="right") - 1, 0, lons_w.size - 2)
    i = np.clip(np.searchsorted(lats, lat, side="right") - 1, 0, lats.size - 2)
    tx = (x - lons_w[j]) / (lons_w[j + 1] - lons_w[j])
    ty = np.clip((lat - lats[i]) / (lats[i + 1] - lats[i]), 0.0, 1.0)
    v00, v01 = arr_w[i, j], arr_w[i, j + 1]
    v10, v11 = arr_w[i + 1, j], arr_w[i + 1, j + 1]
    return (1 - ty) * ((1 - tx) * v00 + tx * v01) + ty * ((1 - tx) * v10 + tx * v11)


__all__ = [
    "REGISTRY",
    "ZONES",
    "citation",
    "climate_at",
    "data_path",
    "load_bomb_curve",
    "load_climate",
    "load_climate_grid",
    "load_israd_example",
    "load_ncscd",
]
