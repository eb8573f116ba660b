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

Three layouts are read (:func:`read_israd`): an entry folder (``layer.csv`` …), the whole
database as one file per table with a prefix (``PREFIX_layer.csv.gz`` …), and ISRaD's published
flat files (``ISRaD_extra_flat_layer``: one row per layer with its metadata, site and profile
columns; profiles without layers appear once with empty layer columns). :func:`flatten_israd`
writes the flat layout from the tables.

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023
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


#: Physical range of Δ14C [‰]: F14C > 0 gives Δ14C > −1000 ‰; the highest atmospheric Δ14C ever
#: recorded is ≈ +900 ‰ (NH zone 1, 1963–64; Hua et al. 2022, *Radiocarbon* 64:723–745,
#: doi:10.1017/RDC.2021.95), so a soil layer above +1000 ‰ is an entry error (or a label).
D14C_RANGE: tuple[float, float] = (-1000.0, 1000.0)

#: Column prefix → ISRaD table in a flat file (``entry_name``, ``site_name``, ``pro_name`` are
#: keys; unprefixed columns belong to ``metadata``).
FLAT_PREFIXES: dict[str, str] = {"site_": "site", "pro_": "profile", "lyr_": "layer"}

#: Unprefixed columns of the database's profile table (everything else unprefixed in a flat file
#: belongs to ``metadata``).
_FLAT_PROFILE_EXTRA: tuple[str, ...] = ("plot_name", "Description")

#: Prefixes of the other tables' flat files, which this reader does not take.
_OTHER_FLAT_PREFIXES: dict[str, str] = {"frc_": "fraction", "inc_": "incubation",
                                        "flx_": "flux", "ist_": "interstitial"}


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
          located: dict[str, Path] | None = None,
          frames: dict[str, pd.DataFrame] | None = None) -> tuple[pd.DataFrame, str]:
    if frames is not None:  # a flat file, already split into its tables
        df = frames[table].copy()
        label = f"{folder.name} ({table} columns)"
    else:
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
        ``layer.csv``, …), a folder whose sub-folders are such entries, one of the tables
        (its folder is read), a folder with the database's table files
        (``PREFIX_layer.csv.gz``, …) or an ISRaD flat layer file (``.csv`` or ``.csv.gz``
        whose header has ``lyr_`` and ``site_``/``pro_`` columns, e.g.
        ``ISRaD_extra_flat_layer.csv``).

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
    flat: dict[Path, dict[str, pd.DataFrame]] = {}
    for p in paths:
        if p.is_file() and _is_flat(p):
            flat[p] = _split_flat(p)
            folders.append(p)
        elif p.is_file():
            folders.append(p.parent)
        elif p.is_dir():
            folders.extend(_find_tables(p))
        else:
            raise InputDataError("file or folder not found", file=str(p), value=str(p))
    parts = [_read_entry(f, flat.get(f)) for f in folders]
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
        if (unit is not None or canon not in ("layer_name", "horizon"))
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
        "file": (folders[0].name if folders[0] in flat else "layer.csv")
        if len(folders) == 1 else None,
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


def _read_entry(folder: Path, frames: dict[str, pd.DataFrame] | None = None,
                ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    located = database_tables(folder) if frames is None else None
    layer, l_label = _read(folder, "layer", (*_KEYS, "lyr_name", "lyr_top", "lyr_bot"), located,
                           frames)
    profile, p_label = _read(folder, "profile", _KEYS, located, frames)
    site, s_label = _read(folder, "site", ("entry_name", "site_name", "site_lat", "site_long"),
                          located, frames)
    entry_meta: dict[str, Any] = {"folder": str(folder)}
    has_meta = (located is not None and "metadata" in located) or (
        folder / "metadata.csv").exists() or frames is not None
    whole = located is not None or frames is not None  # many entries: keep every table as is
    if has_meta:
        m, _ = _read(folder, "metadata", ("entry_name",), located, frames)
        if whole:  # the whole database: one metadata row per entry
            entry_meta["metadata"] = m.drop(columns=_ROW, errors="ignore").reset_index(drop=True)
        elif len(m):
            entry_meta.update({c: (None if pd.isna(v) else str(v)) for c, v in m.iloc[0].items()})
    if frames is not None:
        entry_meta["tables"] = {"flat": str(folder)}
    if located is not None:
        entry_meta["tables"] = {t: str(p) for t, p in located.items()}
        for t in ("fraction", "incubation", "flux", "interstitial"):
            if t in located:
                other, _ = _read(folder, t, _KEYS, located)
                other.insert(0, "profile_id", _profile_key(other))
                entry_meta[t] = other

    # ---- horizons
    l_rows = _rows(layer)
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
    for col in ("d14c", "d14c_fill_extra"):
        if col in h:
            lo, hi = D14C_RANGE
            raw = next(k for k, v in VARIABLE_MAP.items() if v[0] == col)
            raise_at_first(h[col].notna() & ~h[col].between(lo, hi),
                           f"Δ14C outside its physical range {lo:g} … {hi:g} ‰",
                           file=l_label, rows=l_rows, field=raw, values=h[col], profiles=pid)
    h["soc_density_computed"] = _computed_density(h)
    h["source_row"] = l_rows

    # ---- sites
    p_rows = _rows(profile)
    ppid = _profile_key(profile)
    s = pd.DataFrame({"profile_id": ppid, "_row": p_rows})
    s["entry"] = profile["entry_name"].to_numpy()
    s["site_name"] = profile["site_name"].to_numpy()
    s["pro_name"] = profile["pro_name"].to_numpy()
    site_rows = _rows(site)
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
    if whole:  # the database's covariates and other profile columns, as named
        used = {*_KEYS, "pro_lat", "pro_long", "pro_elevation", *SITE_MAP, _ROW}
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
    """soc [g kg⁻¹] · bd [g cm⁻³] · thickness [cm] / 10 → Mg C ha⁻¹ (Wang H. et al. (2025) Eq. 1, no
    gravel)."""
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


# ------------------------------------------------------------------------------- flat files
#: Hidden column carrying a flat-file row number into the split tables.
_ROW = "__source_row__"


def _rows(df: pd.DataFrame) -> np.ndarray:
    """Spreadsheet rows of a table's data rows (a flat file's own rows where it was split)."""
    if _ROW in df.columns:
        return df[_ROW].to_numpy(np.int64)
    return data_rows(len(df))


def _header(path: Path) -> list[str]:
    head = read_csv_checked(path, dtype=str, nrows=0)
    return [str(c).strip() for c in head.columns]


def _is_flat(path: Path) -> bool:
    """Whether a file is a flat ISRaD file (layer columns beside site/profile columns).

    Raises
    ------
    InputDataError
        A file that is neither a template/database table nor a flat layer file: the flat file
        of another table, or an unknown column layout (the columns found are named).
    """
    name = path.name.lower()
    if not (name.endswith(".csv") or name.endswith(".csv.gz")):
        raise InputDataError("expected an ISRaD table or flat file (.csv or .csv.gz)",
                             file=str(path), value=path.name)
    cols = _header(path)
    has = {pre: any(c.startswith(pre) for c in cols) for pre in (*FLAT_PREFIXES,
                                                                 *_OTHER_FLAT_PREFIXES)}
    if has["lyr_"] and (has["site_"] and any(c.startswith("site_lat") for c in cols)):
        return True
    other = [t for pre, t in _OTHER_FLAT_PREFIXES.items() if has[pre]]
    if other and has["site_"]:
        raise InputDataError(
            f"this is a flat {other[0]} file; read_israd takes the flat layer file "
            "(ISRaD_extra_flat_layer), an entry folder or the database's table files",
            file=str(path), row=1, value=path.name)
    stem = name.removesuffix(".gz").removesuffix(".csv")
    if any(stem == t or stem.endswith("_" + t) for t in TABLES):
        return False  # a template table: its folder is read
    raise InputDataError(
        "unknown ISRaD column layout: expected a template table named after its table "
        f"({', '.join(TABLES)}) or a flat layer file with lyr_*, pro_* and site_lat/site_long "
        "columns; columns found", file=str(path), row=1, value=cols[:12])


def _split_flat(path: Path) -> dict[str, pd.DataFrame]:
    """Split a flat layer file into its metadata, site, profile and layer tables.

    Each table keeps its rows once (first occurrence, in file order, with the file's row
    number); a site or profile whose columns differ between its rows is an error located at
    the first differing row. Rows whose layer columns are all empty are profiles without
    layers (ISRaD's flat files keep them).
    """
    df = read_csv_checked(path, dtype=str, keep_default_na=False, na_values=[""])
    df.columns = [str(c).strip() for c in df.columns]
    label = path.name
    require_columns(df, (*_KEYS, "lyr_name", "lyr_top", "lyr_bot", "site_lat", "site_long"),
                    label)
    df[_ROW] = data_rows(len(df))
    for k in _KEYS:
        df[k] = text_column(df[k])
    by: dict[str, list[str]] = {"metadata": [], "site": [], "profile": [], "layer": []}
    for c in df.columns:
        if c in _KEYS or c == _ROW:
            continue
        table = "profile" if c in _FLAT_PROFILE_EXTRA else next(
            (t for pre, t in FLAT_PREFIXES.items() if c.startswith(pre)), "metadata")
        by[table].append(c)
    keys = {"metadata": ["entry_name"], "site": ["entry_name", "site_name"],
            "profile": list(_KEYS)}
    out: dict[str, pd.DataFrame] = {}
    for t, k in keys.items():
        sub = df[[*k, *by[t], _ROW]]
        uniq = sub.drop_duplicates(subset=[*k, *by[t]], keep="first")
        dup = uniq.duplicated(subset=k, keep="first")
        if dup.any():
            i = int(np.flatnonzero(dup.to_numpy())[0])
            first = uniq[k].iloc[i]
            raise InputDataError(
                f"the {t} columns differ between rows of the same {t} "
                f"({' / '.join(map(str, first))}); a flat file repeats them unchanged",
                file=label, row=int(uniq[_ROW].iloc[i]), field=k[-1], value=first.iloc[-1])
        out[t] = uniq.reset_index(drop=True)
    lyr = by["layer"]
    is_layer = df[lyr].notna().any(axis=1)
    out["layer"] = df.loc[is_layer, [*_KEYS, *lyr, _ROW]].reset_index(drop=True)
    return out


def flatten_israd(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """ISRaD's flat layer layout from its tables: one row per layer (``ISRaD.flatten``).

    Parameters
    ----------
    tables : dict of DataFrame
        ``metadata``, ``site``, ``profile``, ``layer`` as ISRaD names their columns.

    Returns
    -------
    DataFrame
        Metadata, site, profile and layer columns, one row per layer in the layer table's
        order; a profile without layers is one row with empty layer columns, after the
        layers. An entry with more than one metadata row (the 2023 database has
        ``Gaudinski_2001`` twice, two curations) keeps its first, so that no layer is
        repeated (``attrs["metadata_rows_left_out"]`` lists the others). A layer column that
        the profile table also has (the 2023 layer table repeats ``pro_graven_zone``) is the
        profile's in the flat file; ``attrs["layer_columns_left_out"]`` gives, for each,
        the number of layers whose own value differed.
    """
    meta = tables["metadata"]
    extra_meta = meta[meta["entry_name"].duplicated(keep="first")]
    meta = meta.drop_duplicates("entry_name", keep="first")
    prof = tables["profile"]
    site = tables["site"]
    layer = tables["layer"]
    both = [c for c in layer.columns if c in prof.columns and c not in _KEYS]
    left_out = {}
    if both:
        own = layer[[*_KEYS, *both]].merge(prof[[*_KEYS, *both]], on=list(_KEYS), how="left",
                                          suffixes=("", "_profile"))
        left_out = {c: int((own[c].fillna("") != own[c + "_profile"].fillna("")).sum())
                    for c in both}
        layer = layer.drop(columns=both)
    flat = layer.merge(prof, on=list(_KEYS), how="left", validate="many_to_one")
    lonely = prof[~_profile_key(prof).isin(set(_profile_key(layer)))]
    flat = pd.concat([flat, lonely], ignore_index=True)
    flat = flat.merge(site, on=["entry_name", "site_name"], how="left", validate="many_to_one")
    flat = flat.merge(meta, on="entry_name", how="left", validate="many_to_one")
    order = [*_KEYS, *[c for c in meta.columns if c != "entry_name"],
             *[c for c in site.columns if c not in ("entry_name", "site_name")],
             *[c for c in prof.columns if c not in _KEYS],
             *[c for c in layer.columns if c not in _KEYS]]
    flat = flat[order]
    flat.attrs["metadata_rows_left_out"] = extra_meta.reset_index(drop=True)
    flat.attrs["layer_columns_left_out"] = left_out
    return flat


def read_israd_tables(folder: PathLike) -> dict[str, pd.DataFrame]:
    """The raw tables (text, as ISRaD writes them) of an entry or database folder."""
    f = Path(folder)
    located = database_tables(f)
    out = {}
    for t in TABLES:
        path = located.get(t) if located is not None else f / f"{t}.csv"
        if path is not None and Path(path).exists():
            out[t] = read_csv_checked(path, dtype=str, keep_default_na=False, na_values=[""])
    return out


def write_israd_flat(folder: PathLike, path: PathLike) -> Path:
    """Write the flat layer file (:func:`flatten_israd`) of an entry or database folder.

    ``path`` ending in ``.gz`` is gzip-compressed. Returns the path written.
    """
    from wholesoil._atomic import atomic_path

    flat = flatten_israd(read_israd_tables(folder))
    p = Path(path)
    with atomic_path(p) as tmp:
        flat.to_csv(tmp, index=False, compression="gzip" if p.name.endswith(".gz") else None)
    return p
