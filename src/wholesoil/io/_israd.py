"""Reader for the International Soil Radiocarbon Database (ISRaD) template tables.

Lawrence, C. R. et al. (2020) An open-source database for the synthesis of soil radiocarbon
data: International Soil Radiocarbon Database (ISRaD) version 1.0. *Earth Syst. Sci. Data*
12:61–76, doi:10.5194/essd-12-61-2020. Data licence CC BY 4.0.

An ISRaD entry is a set of tables (``metadata``, ``site``, ``profile``, ``layer``, ``fraction``,
``incubation``, ``flux``, ``interstitial``) keyed by ``entry_name`` → ``site_name`` →
``pro_name`` → ``lyr_name``. This reader uses ``metadata``, ``site``, ``profile`` and ``layer``.
Units follow the ISRaD template: depths cm (organic horizons above the mineral surface are
*negative*), ``lyr_c_org`` and ``lyr_n_tot`` in %, ``lyr_bd_samp`` in g cm⁻³ (fine earth),
``lyr_soc`` in g C cm⁻² (ISRaD computes it as ``lyr_c_org/100 · lyr_bd_samp · (lyr_bot −
lyr_top)``, ``ISRaD.extra.Cstocks``), ``lyr_14c`` Δ14C in ‰.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wholesoil import units
from wholesoil.errors import InputDataError
from wholesoil.io._table import (
    PathLike,
    check_unique,
    data_rows,
    raise_at_first,
    read_csv_checked,
    require_columns,
    text_column,
    to_numeric_checked,
)
from wholesoil.profiles import ProfileSet

#: 1 g C cm⁻² = 1e4 g m⁻² = 10 kg m⁻² = 100 Mg C ha⁻¹.
G_CM2_TO_MG_HA = 100.0

#: ISRaD layer column → (canonical name, unit in ISRaD, factor to the canonical unit).
#: Text columns have unit and factor ``None``.
VARIABLE_MAP: dict[str, tuple[str, str | None, float | None]] = {
    "lyr_name": ("layer_name", None, None),
    "lyr_hzn": ("horizon", None, None),
    "lyr_note": ("note", None, None),
    "lyr_top": ("top", "cm", 1.0),
    "lyr_bot": ("bottom", "cm", 1.0),
    "lyr_obs_date_y": ("obs_year", "yr AD", 1.0),
    "lyr_c_org": ("soc", "%", units.PERCENT_TO_G_KG),
    "lyr_c_tot": ("tc", "%", units.PERCENT_TO_G_KG),
    "lyr_c_inorg": ("tic", "%", units.PERCENT_TO_G_KG),
    "lyr_n_tot": ("tn", "%", units.PERCENT_TO_G_KG),
    "lyr_c_to_n": ("cn", "-", 1.0),
    "lyr_bd_samp": ("bd", "g cm-3", 1.0),
    "lyr_bd_tot": ("bd_whole", "g cm-3", 1.0),
    "lyr_coarse_tot": ("coarse_tot", "%", 1.0),
    "lyr_sand_tot_psa": ("sand", "%", 1.0),
    "lyr_silt_tot_psa": ("silt", "%", 1.0),
    "lyr_clay_tot_psa": ("clay", "%", 1.0),
    "lyr_ph_h2o": ("ph", "-", 1.0),
    "lyr_ph_cacl": ("ph_cacl2", "-", 1.0),
    "lyr_soc": ("soc_density_reported", "g C cm-2", G_CM2_TO_MG_HA),
    "lyr_soc_sigma": ("soc_density_reported_sigma", "g C cm-2", G_CM2_TO_MG_HA),
    "lyr_13c": ("d13c", "‰", 1.0),
    "lyr_15n": ("d15n", "‰", 1.0),
    "lyr_14c": ("d14c", "‰", 1.0),
    "lyr_14c_sigma": ("d14c_sigma", "‰", 1.0),
    "lyr_14c_sd": ("d14c_sd", "‰", 1.0),
    "lyr_fraction_modern": ("f14c", "-", 1.0),
    "lyr_fraction_modern_sigma": ("f14c_sigma", "-", 1.0),
    "lyr_fraction_modern_sd": ("f14c_sd", "-", 1.0),
    "lyr_rc_year": ("rc_year", "yr AD", 1.0),
    "lyr_obs_date_m": ("obs_month", "month", 1.0),
    "lyr_all_org_neg": ("all_org_neg", None, None),
    "lyr_texture_class": ("texture_class", None, None),
    # ISRaD.extra gap-fills (database tables only): the measured columns above stay as reported;
    # *_filled hold measured-or-filled values, *_fill_extra ISRaD's own fills where the measured
    # value is missing (lyr_fill_notes_extra says how each was made). Kept apart, never merged.
    "lyr_bd_samp_filled": ("bd_filled", "g cm-3", 1.0),
    "lyr_c_org_filled": ("soc_filled", "%", units.PERCENT_TO_G_KG),
    "lyr_c_inorg_filled": ("tic_filled", "%", units.PERCENT_TO_G_KG),
    "lyr_soc_filled": ("soc_density_filled", "g C cm-2", G_CM2_TO_MG_HA),
    "lyr_coarse_tot_filled": ("coarse_tot_filled", "%", 1.0),
    "lyr_c_to_n_filled": ("cn_filled", "-", 1.0),
    "lyr_bd_samp_fill_extra": ("bd_fill_extra", "g cm-3", 1.0),
    "lyr_c_org_fill_extra": ("soc_fill_extra", "%", units.PERCENT_TO_G_KG),
    "lyr_soc_fill_extra": ("soc_density_fill_extra", "g C cm-2", G_CM2_TO_MG_HA),
    "lyr_14c_fill_extra": ("d14c_fill_extra", "‰", 1.0),
    "lyr_fill_notes_extra": ("fill_notes", None, None),
    "lyr_atm14c": ("d14c_atm", "‰", 1.0),
    "lyr_dd14c": ("dd14c", "‰", 1.0),
}

#: ISRaD profile / site column → site column of the ProfileSet (units: °C, mm, m).
SITE_MAP: dict[str, str] = {
    "pro_land_cover": "ecosystem",
    "pro_MAT": "mat",
    "pro_MAP": "map",
    "pro_usda_soil_order": "soil_order",
    "pro_soil_taxon": "soil_taxon",
    "pro_soil_series": "soil_series",
    "pro_treatment": "treatment",
    "pro_veg_note": "vegetation",
    "pro_parent_material_notes": "parent_material",
    "pro_permafrost": "permafrost",
    "pro_thaw_depth": "thaw_depth",
}
_SITE_NUMERIC = ("pro_MAT", "pro_MAP", "pro_thaw_depth", "pro_elevation", "site_elevation")

_KEYS = ("entry_name", "site_name", "pro_name")


#: The eight ISRaD tables, in template order.
TABLES: tuple[str, ...] = (
    "metadata", "site", "profile", "layer", "fraction", "incubation", "flux", "interstitial",
)

#: Profile-table columns of the database kept on the sites under another name.
_RENAMED_PROFILE_COLUMNS: dict[str, str] = {
    "Description": "pro_landCover_0.5_deg_MODISreclass1_description",
}


def database_tables(folder: Path) -> dict[str, Path] | None:
    """The database's table files in ``folder`` (``PREFIX_layer.csv.gz`` …), or None.

    ISRaD publishes the whole database as one file per table whose name ends in
    ``_<table>.csv`` (here gzip-compressed, ``.csv.gz``). Only a folder with exactly one
    layer table of that form is a database folder.
    """
    found: dict[str, Path] = {}
    for t in TABLES:
        hits = sorted(folder.glob(f"*_{t}.csv.gz")) + sorted(folder.glob(f"*_{t}.csv"))
        if len(hits) > 1:
            raise InputDataError(
                f"more than one ISRaD {t} table in the folder: "
                f"{', '.join(h.name for h in hits)}; keep one database per folder",
                file=str(folder), value=hits[0].name)
        if hits:
            found[t] = hits[0]
    if "layer" not in found:
        return None
    missing = [t for t in ("site", "profile") if t not in found]
    if missing:
        raise InputDataError(
            f"ISRaD database folder lacks its {' and '.join(missing)} table(s) (expected "
            f"{found['layer'].name.replace('_layer', '_' + missing[0])})",
            file=str(folder), value=found["layer"].name)
    return found


def _find_tables(directory: Path) -> list[Path]:
    """Folders holding an entry (``layer.csv``), the folder itself first."""
    if (directory / "layer.csv").exists() or database_tables(directory) is not None:
        return [directory]
    found = sorted(p.parent for p in directory.rglob("layer.csv"))
    if not found:
        raise InputDataError(
            "no ISRaD layer table (layer.csv) found", file=str(directory), value=str(directory)
        )
    return found


def _read(folder: Path, table: str, required: Sequence[str],
          located: dict[str, Path] | None = None) -> tuple[pd.DataFrame, str]:
    path = located[table] if located and table in located else folder / f"{table}.csv"
    label = f"{folder.name}/{path.name}"
    df = read_csv_checked(path, dtype=str, keep_default_na=False, na_values=[""])
    df.columns = [str(c).strip() for c in df.columns]
    require_columns(df, required, label)
    for k in _KEYS:
        if k in df.columns:
            df[k] = text_column(df[k])
    return df, label


def _profile_key(df: pd.DataFrame) -> pd.Series:
    return (
        df["entry_name"].astype(str)
        + ":"
        + df["site_name"].astype(str)
        + ":"
        + (df["pro_name"].astype(str))
    )


def read_israd(directory_or_entry: PathLike | Sequence[PathLike]) -> ProfileSet:
    """Read ISRaD entries (template tables as CSV) into a ProfileSet.

    Parameters
    ----------
    directory_or_entry : path, or sequence of paths
        A folder with the entry's tables (``metadata.csv``, ``site.csv``, ``profile.csv``,
        ``layer.csv``, …), a folder whose sub-folders are such entries, or one of the tables
        (its folder is read).

    Returns
    -------
    ProfileSet
        Sites, one per ISRaD profile: ``profile_id`` = ``"<entry>:<site>:<profile>"``,
        ``entry``, ``site_name``, ``pro_name``, ``lat``, ``lon`` (the profile's own
        coordinates, falling back to the site's when empty; ``coord_source`` says which),
        ``date`` (first observation year of its layers), ``ecosystem`` (``pro_land_cover``),
        ``mat`` [°C], ``map`` [mm], ``elevation`` [m], soil classification and ``dataset``.

        Horizons, one per layer: ``top``, ``bottom`` [cm] *as recorded* (organic horizons are
        negative: QC repairs them explicitly, the reader does not), ``horizon``, ``soc``
        [g kg⁻¹] (``lyr_c_org`` % × 10), ``bd`` [g cm⁻³], ``tn`` [g kg⁻¹], ``d14c`` [‰],
        ``f14c``, ``obs_year``, ``soc_density_reported`` [Mg C ha⁻¹] (``lyr_soc`` g cm⁻² ×
        100), ``soc_density_computed`` [Mg C ha⁻¹] = soc · bd · (bottom − top) / 10 (fine earth,
        as ISRaD computes ``lyr_soc``), other mapped variables (:data:`VARIABLE_MAP`) and
        ``source_row`` (row in ``layer.csv``). Mapped variables that are empty in every layer
        are left out (listed in ``metadata["empty_columns_left_out"]``).

    Notes
    -----
    The reported and computed SOC densities are both kept: they do not always agree (in the
    Gaudinski 2001 entry the Tower Pit E horizon reports about half the product). Every horizon
    with both values is listed in ``metadata["soc_density_discrepancy"]`` (a DataFrame with
    their ratio); nothing is "fixed".
    """
    if isinstance(directory_or_entry, str | Path):
        paths = [Path(directory_or_entry)]
    else:
        paths = [Path(p) for p in directory_or_entry]
    folders: list[Path] = []
    for p in paths:
        if p.is_file():
            folders.append(p.parent)
        elif p.is_dir():
            folders.extend(_find_tables(p))
        else:
            raise InputDataError("file or folder not found", file=str(p), value=str(p))
    parts = [_read_entry(f) for f in folders]
    sites = pd.concat([p[0] for p in parts], ignore_index=True)
    horizons = pd.concat([p[1] for p in parts], ignore_index=True)
    check_unique(
        sites["profile_id"],
        file="profile.csv",
        field="pro_name",
        rows=np.asarray(sites["_row"]),
        what="profile (entry, site, profile name)",
    )
    sites = sites.drop(columns="_row")
    always = {"top", "bottom", "soc", "bd", "d14c", "f14c", "obs_year", "soc_density_reported"}
    empty = [
        canon
        for canon, unit, _ in VARIABLE_MAP.values()
        if unit is not None
        and canon in horizons
        and canon not in always
        and horizons[canon].isna().all()
    ]
    horizons = horizons.drop(columns=empty)
    entries = [p[2] for p in parts]
    database = [e for e in entries if "metadata" in e or "tables" in e]
    extra: dict[str, Any] = {}
    for t in ("fraction", "incubation", "flux", "interstitial"):
        frames = [e.pop(t) for e in database if t in e]
        if frames:
            extra[t] = pd.concat(frames, ignore_index=True)
    tables = [e.pop("metadata") for e in database if "metadata" in e]
    if tables:
        extra["entries_table"] = pd.concat(tables, ignore_index=True)
        entries = [e for e in entries if e not in database] + [
            {c: (None if pd.isna(v) else str(v)) for c, v in r.items()}
            for r in extra["entries_table"].to_dict("records")]
    disc = _discrepancy(horizons)
    meta = {
        "source": "israd",
        "file": "layer.csv" if len(folders) == 1 else None,
        "path": [str(f) for f in folders],
        "entries": entries,
        "citation": "; ".join(e.get("bibliographical_reference") or "" for e in entries),
        "variable_map": {k: {"name": v[0], "unit": v[1]} for k, v in VARIABLE_MAP.items()},
        "soc_density_discrepancy": disc,
        **extra,
        "empty_columns_left_out": empty,
        "notes": [
            "top/bottom as recorded by ISRaD: organic horizons above the mineral surface are "
            "negative.",
            "soc = lyr_c_org [%] x 10 [g kg-1]; tn = lyr_n_tot [%] x 10.",
            "soc_density_reported = lyr_soc [g C cm-2] x 100 [Mg C ha-1].",
            "soc_density_computed = soc x bd x (bottom - top) / 10 [Mg C ha-1] (fine earth, no "
            "coarse-fragment term, as ISRaD's own lyr_soc).",
            f"{int((np.abs(disc['ratio'] - 1) > 0.05).sum())} of {len(disc)} horizons with both "
            "densities differ by more than 5 % (see soc_density_discrepancy).",
        ],
    }
    return ProfileSet(sites, horizons, meta)


def _read_entry(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    located = database_tables(folder)
    layer, l_label = _read(folder, "layer", (*_KEYS, "lyr_name", "lyr_top", "lyr_bot"), located)
    profile, p_label = _read(folder, "profile", _KEYS, located)
    site, s_label = _read(folder, "site", ("entry_name", "site_name", "site_lat", "site_long"),
                          located)
    entry_meta: dict[str, Any] = {"folder": str(folder)}
    has_meta = (located is not None and "metadata" in located) or (
        folder / "metadata.csv").exists()
    if has_meta:
        m, _ = _read(folder, "metadata", ("entry_name",), located)
        if located is not None:  # the whole database: one metadata row per entry
            entry_meta["metadata"] = m.reset_index(drop=True)
        elif len(m):
            entry_meta.update({c: (None if pd.isna(v) else str(v)) for c, v in m.iloc[0].items()})
    if located is not None:
        entry_meta["tables"] = {t: str(p) for t, p in located.items()}
        for t in ("fraction", "incubation", "flux", "interstitial"):
            if t in located:
                other, _ = _read(folder, t, _KEYS, located)
                other.insert(0, "profile_id", _profile_key(other))
                entry_meta[t] = other

    # ---- horizons
    l_rows = data_rows(len(layer))
    pid = _profile_key(layer)
    for k in _KEYS:
        empty = layer[k].isna()
        raise_at_first(
            empty,
            "key column is empty",
            file=l_label,
            rows=l_rows,
            field=k,
            values=layer[k],
            profiles=pid,
        )
    h = pd.DataFrame({"profile_id": pid})
    for col, (canon, unit, factor) in VARIABLE_MAP.items():
        if col not in layer.columns:
            continue
        if unit is None:
            h[canon] = text_column(layer[col])
        else:
            h[canon] = (
                to_numeric_checked(layer[col], file=l_label, field=col, rows=l_rows, profiles=pid)
                * factor
            )
    h["soc_density_computed"] = _computed_density(h)
    h["source_row"] = l_rows

    # ---- sites
    p_rows = data_rows(len(profile))
    ppid = _profile_key(profile)
    s = pd.DataFrame({"profile_id": ppid, "_row": p_rows})
    s["entry"] = profile["entry_name"].to_numpy()
    s["site_name"] = profile["site_name"].to_numpy()
    s["pro_name"] = profile["pro_name"].to_numpy()
    site_rows = data_rows(len(site))
    site_key = site["entry_name"].astype(str) + ":" + site["site_name"].astype(str)
    check_unique(site_key, file=s_label, field="site_name", rows=site_rows, what="site")
    site_num = {
        c: to_numeric_checked(site[c], file=s_label, field=c, rows=site_rows, profiles=site_key)
        for c in ("site_lat", "site_long", "site_elevation")
        if c in site.columns
    }
    site_tab = pd.DataFrame(site_num).set_axis(site_key.to_numpy())
    p_site_key = profile["entry_name"].astype(str) + ":" + profile["site_name"].astype(str)
    unknown = ~p_site_key.isin(site_tab.index)
    raise_at_first(
        unknown,
        f"profile refers to a site that {s_label} does not have",
        file=p_label,
        rows=p_rows,
        field="site_name",
        values=profile["site_name"],
        profiles=ppid,
    )
    pnum = {}
    for c in ("pro_lat", "pro_long", *_SITE_NUMERIC):
        if c in profile.columns:
            pnum[c] = to_numeric_checked(
                profile[c], file=p_label, field=c, rows=p_rows, profiles=ppid
            )
    nan = pd.Series(np.nan, index=profile.index)
    p_lat, p_lon = pnum.get("pro_lat", nan), pnum.get("pro_long", nan)
    s_lat = p_site_key.map(site_tab["site_lat"]).astype(float)
    s_lon = p_site_key.map(site_tab["site_long"]).astype(float)
    own = p_lat.notna() & p_lon.notna()
    s["lat"] = np.where(own, p_lat, s_lat)
    s["lon"] = np.where(own, p_lon, s_lon)
    s["coord_source"] = np.where(own, "profile", "site")
    years = h.groupby("profile_id")["obs_year"].min() if "obs_year" in h else pd.Series()
    s["date"] = ppid.map(years).map(lambda y: None if pd.isna(y) else str(int(y)))
    for col, canon in SITE_MAP.items():
        if col in profile.columns:
            s[canon] = pnum[col].to_numpy() if col in pnum else text_column(profile[col])
    elev = pnum.get("pro_elevation", nan)
    if "site_elevation" in site_tab:
        elev = elev.fillna(p_site_key.map(site_tab["site_elevation"]).astype(float))
    s["elevation"] = elev.to_numpy()
    s["dataset"] = profile["entry_name"].to_numpy()
    if located is not None:  # the database's covariates and other profile columns, as named
        used = {*_KEYS, "pro_lat", "pro_long", "pro_elevation", *SITE_MAP}
        for col in profile.columns:
            if col in used:
                continue
            name = _RENAMED_PROFILE_COLUMNS.get(col, col)
            text = profile[col]
            num = pd.to_numeric(text, errors="coerce")
            # numeric only when every non-empty cell is a number: nothing turns silently NaN
            s[name] = num.to_numpy() if num.notna().sum() == text.notna().sum() else (
                text_column(text).to_numpy())

    orphan = ~pid.isin(set(ppid))
    raise_at_first(
        orphan,
        f"layer belongs to a profile that {p_label} does not have",
        file=l_label,
        rows=l_rows,
        field="pro_name",
        values=layer["pro_name"],
        profiles=pid,
    )
    return s, h, entry_meta


def _computed_density(h: pd.DataFrame) -> pd.Series:
    """soc [g kg⁻¹] · bd [g cm⁻³] · thickness [cm] / 10 → Mg C ha⁻¹ (seed 000 Eq. 1, no gravel)."""
    if "soc" not in h or "bd" not in h:
        return pd.Series(np.nan, index=h.index)
    return h["soc"] * h["bd"] * (h["bottom"] - h["top"]) / 10.0


def _discrepancy(h: pd.DataFrame) -> pd.DataFrame:
    cols = ["profile_id", "horizon", "top", "bottom", "source_row"]
    if "soc_density_reported" not in h:
        return pd.DataFrame(columns=[*cols, "reported", "computed", "ratio"])
    both = h["soc_density_reported"].notna() & h["soc_density_computed"].notna()
    d = h.loc[both, [c for c in cols if c in h]].copy()
    d["reported"] = h.loc[both, "soc_density_reported"]
    d["computed"] = h.loc[both, "soc_density_computed"]
    with np.errstate(divide="ignore", invalid="ignore"):
        d["ratio"] = d["reported"] / d["computed"]
    return d.reset_index(drop=True)
