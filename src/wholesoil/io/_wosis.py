"""Reader for ISRIC WoSIS "latest" per-attribute CSV files.

Batjes, N. H., Ribeiro, E. & van Oostrum, A. (2020) Standardised soil profile data to support
global mapping and modelling (WoSIS snapshot 2019). *Earth Syst. Sci. Data* 12:299–320,
doi:10.5194/essd-12-299-2020. Licence of each record: the ``<attr>_licence`` column (most
CC BY 4.0, some CC BY-NC).

ISRIC serves WoSIS "latest" as one Web Feature Service layer per attribute
(``ms:wosis_latest_orgc``, ``ms:wosis_latest_bdfiod``, …); ``ogr2ogr -f CSV`` writes each as a
file such as ``wosis_latest_orgc.csv`` with columns ``X`` (longitude), ``Y`` (latitude),
``profile_id``, ``profile_layer_id``, ``country_name``, ``upper_depth``, ``lower_depth``,
``layer_name``, ``litter``, ``<attr>_value`` (replicates as PostgreSQL array text, ``{12.3,13.1}``
or ``{1:12.3,2:13.1}``), ``<attr>_value_avg`` (their mean), ``<attr>_method``, ``<attr>_date``,
``<attr>_dataset_id``, ``<attr>_profile_code`` and ``<attr>_licence``. Later services drop the
prefix (``value_avg``, ``date``, ``dataset_id``, ``organic_surface``); both spellings are read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from wholesoil.errors import InputDataError
from wholesoil.io._table import (
    PathLike,
    check_unique,
    data_rows,
    file_label,
    raise_at_first,
    read_csv_checked,
    require_columns,
    text_column,
    to_numeric_checked,
)
from wholesoil.profiles import ProfileSet

#: WoSIS attribute code → (canonical name, WoSIS unit, factor to the canonical unit).
#: WoSIS units are already those of wholesoil for the attributes below, so every factor is 1.
VARIABLE_MAP: dict[str, tuple[str, str, float]] = {
    "orgc": ("soc", "g kg-1", 1.0),
    "totc": ("tc", "g kg-1", 1.0),
    "nitkjd": ("tn", "g kg-1", 1.0),
    "tceq": ("caco3", "g kg-1", 1.0),
    "bdfiod": ("bd_fiod", "kg dm-3 (= g cm-3)", 1.0),
    "bdfi33": ("bd_fi33", "kg dm-3 (= g cm-3)", 1.0),
    "bdfiad": ("bd_fiad", "kg dm-3 (= g cm-3)", 1.0),
    "bdfifm": ("bd_fifm", "kg dm-3 (= g cm-3)", 1.0),
    "bdwsod": ("bd_wsod", "kg dm-3 (= g cm-3)", 1.0),
    "bdws33": ("bd_ws33", "kg dm-3 (= g cm-3)", 1.0),
    "bdwsad": ("bd_wsad", "kg dm-3 (= g cm-3)", 1.0),
    "bdwsfm": ("bd_wsfm", "kg dm-3 (= g cm-3)", 1.0),
    "cfvo": ("gravel", "cm3 100cm-3 (volume %)", 1.0),
    "cfgr": ("gravel_mass", "g 100g-1 (mass %)", 1.0),
    "clay": ("clay", "g 100g-1 (%)", 1.0),
    "silt": ("silt", "g 100g-1 (%)", 1.0),
    "sand": ("sand", "g 100g-1 (%)", 1.0),
    "clyppt": ("clay", "g 100g-1 (%)", 1.0),
    "sltppt": ("silt", "g 100g-1 (%)", 1.0),
    "sndppt": ("sand", "g 100g-1 (%)", 1.0),
    "phaq": ("ph", "pH (water)", 1.0),
    "phca": ("ph_cacl2", "pH (CaCl2)", 1.0),
    "phkc": ("ph_kcl", "pH (KCl)", 1.0),
    "cecph7": ("cec", "cmol(c) kg-1", 1.0),
}

#: Fine-earth bulk densities, in the order used to fill the canonical ``bd`` column.
BD_PRIORITY: tuple[str, ...] = ("bdfiod", "bdfi33", "bdfiad", "bdfifm")

_LAYER_COLS = ("profile_id", "profile_layer_id", "upper_depth", "lower_depth")
_FILE_RE = re.compile(r"wosis_latest_([a-z0-9]+)\.csv$", re.IGNORECASE)
_TRUE = {"1", "1.0", "t", "true", "yes", "y"}
_FALSE = {"0", "0.0", "f", "false", "no", "n"}


def parse_replicates(text: object) -> list[float]:
    """Replicate values from WoSIS array text: ``"{12.3,13.1}"`` or ``"{1:12.3,2:13.1}"``.

    Returns an empty list for an empty cell; raises ``ValueError`` for text that is not a list
    of numbers.
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return []
    s = str(text).strip()
    if s == "" or s == "{}":
        return []
    s = s.strip("{}")
    out = []
    for item in s.split(","):
        item = item.strip().strip('"')
        if ":" in item:
            item = item.split(":", 1)[1].strip()
        out.append(float(item))
    return out


def _first_element(text: object) -> str | None:
    """First element of WoSIS array text (``{1:1989-06-14,2:…}`` → ``1989-06-14``)."""
    if text is None or pd.isna(text):
        return None
    s = str(text).strip().strip("{}")
    if not s:
        return None
    first = s.split(",")[0].strip().strip('"')
    if re.match(r"^\d+:", first):
        first = first.split(":", 1)[1]
    return first or None


def _files(path_or_paths: PathLike | Sequence[PathLike]) -> list[Path]:
    if isinstance(path_or_paths, str | Path):
        p = Path(path_or_paths)
        if p.is_dir():
            files = sorted(f for f in p.glob("*.csv") if _FILE_RE.search(f.name))
            files = [f for f in files if not f.name.lower().endswith("_profiles.csv")]
            if not files:
                raise InputDataError(
                    "no WoSIS attribute files (wosis_latest_<attribute>.csv) in folder",
                    file=str(p),
                    value=str(p),
                )
            return files
        return [p]
    return [Path(p) for p in path_or_paths]


def _parse_flag(s: pd.Series, *, file: str, field: str, rows: np.ndarray, profiles: pd.Series):
    t = s.astype("string").str.strip().str.lower()
    known = t.isna() | t.isin(_TRUE | _FALSE) | (t == "")
    raise_at_first(
        ~known,
        "expected a flag (0/1, true/false)",
        file=file,
        rows=rows,
        field=field,
        values=s,
        profiles=profiles,
    )
    out = pd.array([pd.NA] * len(t), dtype="boolean")
    out[t.isin(_TRUE).fillna(False).to_numpy(dtype=bool)] = True
    out[t.isin(_FALSE).fillna(False).to_numpy(dtype=bool)] = False
    return out


def _read_attribute(path: Path) -> tuple[str, pd.DataFrame, pd.DataFrame, list[str]]:
    """One attribute file → (code, layer table, value table, notes)."""
    label = file_label(path)
    df = read_csv_checked(path, dtype=str, keep_default_na=False, na_values=[""])
    df.columns = [str(c).strip() for c in df.columns]
    avg_cols = [c for c in df.columns if c.endswith("_value_avg")]
    if len(avg_cols) == 1:
        code = avg_cols[0][: -len("_value_avg")].lower()
        pre = avg_cols[0][: -len("value_avg")]
    elif "value_avg" in df.columns:
        m = _FILE_RE.search(path.name)
        if not m:
            raise InputDataError(
                "cannot tell the attribute: no '<attr>_value_avg' column and the file name is "
                "not wosis_latest_<attr>.csv",
                file=label,
                row=1,
                field="value_avg",
                value=path.name,
            )
        code, pre = m.group(1).lower(), ""
    else:
        m = _FILE_RE.search(path.name)
        expected = f"{m.group(1)}_value_avg" if m else "<attr>_value_avg"
        require_columns(df, (expected,), label)
        raise AssertionError("unreachable")  # pragma: no cover
    require_columns(df, ("X", "Y", *_LAYER_COLS), label)
    rows = data_rows(len(df))
    pid = text_column(df["profile_id"])
    num = {
        c: to_numeric_checked(df[c], file=label, field=c, rows=rows, profiles=pid)
        for c in ("X", "Y", "upper_depth", "lower_depth")
    }
    lid = to_numeric_checked(
        df["profile_layer_id"],
        file=label,
        field="profile_layer_id",
        rows=rows,
        profiles=pid,
        integer=True,
    )
    for name, ser in (("profile_id", pid), ("profile_layer_id", lid)):
        raise_at_first(
            ser.isna(),
            "identifier is empty",
            file=label,
            rows=rows,
            field=name,
            values=df[name],
            profiles=pid,
        )
    check_unique(lid, file=label, field="profile_layer_id", rows=rows, what="layer identifier")
    flag_col = next((c for c in ("litter", "organic_surface") if c in df.columns), None)
    layers = pd.DataFrame(
        {
            "profile_layer_id": lid.astype("int64").astype(str),
            "profile_id": pid,
            "lon": num["X"],
            "lat": num["Y"],
            "top": num["upper_depth"],
            "bottom": num["lower_depth"],
            "horizon": text_column(df["layer_name"]) if "layer_name" in df else pd.NA,
            "litter": (
                _parse_flag(df[flag_col], file=label, field=flag_col, rows=rows, profiles=pid)
                if flag_col
                else pd.array([pd.NA] * len(df), dtype="boolean")
            ),
            "country": text_column(df["country_name"]) if "country_name" in df else pd.NA,
            "source_file": label,
            "source_row": rows,
        }
    )
    for extra in ("date", "dataset_id", "profile_code", "licence", "method"):
        col = f"{pre}{extra}"
        layers[f"_{extra}"] = text_column(df[col]) if col in df.columns else pd.NA
    layers["_date"] = layers["_date"].map(_first_element)

    avg_col, val_col = f"{pre}value_avg", f"{pre}value"
    avg = to_numeric_checked(df[avg_col], file=label, field=avg_col, rows=rows, profiles=pid)
    reps: list[list[float]] = []
    if val_col in df.columns:
        for i, cell in enumerate(df[val_col]):
            try:
                reps.append(parse_replicates(cell))
            except ValueError as e:
                raise InputDataError(
                    "expected replicate numbers in braces, e.g. {12.3,13.1}",
                    file=label,
                    row=int(rows[i]),
                    profile=pid.iloc[i],
                    field=val_col,
                    value=cell,
                ) from e
    else:
        reps = [[] for _ in range(len(df))]
    n = np.array([len(r) for r in reps])
    mean = np.array([np.mean(r) if r else np.nan for r in reps])
    notes: list[str] = []
    filled = avg.isna().to_numpy() & (n > 0)
    if filled.any():
        notes.append(
            f"{label}: {int(filled.sum())} empty {avg_col} filled with the mean of "
            f"{val_col} (rows {[int(r) for r in rows[filled]]})."
        )
    value = np.where(filled, mean, avg.to_numpy())
    both = ~np.isnan(mean) & avg.notna().to_numpy()
    tol = 0.01 * np.maximum(1.0, np.abs(np.nan_to_num(mean)))
    off = both & (np.abs(np.nan_to_num(avg.to_numpy()) - np.nan_to_num(mean)) > tol)
    if off.any():
        notes.append(
            f"{label}: {avg_col} differs from the mean of {val_col} by more than 1 % on rows "
            f"{[int(r) for r in rows[off]]}; {avg_col} is used."
        )
    canon, _unit, factor = VARIABLE_MAP.get(code, (f"wosis_{code}", "as in WoSIS", 1.0))
    if code not in VARIABLE_MAP:
        notes.append(f"{label}: attribute {code!r} is not in VARIABLE_MAP; read as {canon!r}.")
    values = pd.DataFrame(
        {
            "profile_layer_id": lid.astype("int64").astype(str),
            canon: value * factor,
            f"{canon}_n": n,
        }
    )
    return code, layers, values, notes


def read_wosis(path_or_paths: PathLike | Sequence[PathLike]) -> ProfileSet:
    """Read WoSIS "latest" attribute files and merge them into one ProfileSet.

    Parameters
    ----------
    path_or_paths : path, or sequence of paths
        One ``wosis_latest_<attr>.csv`` file, several, or a folder holding them. Files are
        merged on ``profile_layer_id`` (a layer missing from a file has NaN for that attribute).

    Returns
    -------
    ProfileSet
        Sites: ``profile_id`` (WoSIS id as text), ``lat`` (``Y``), ``lon`` (``X``),
        ``country``, ``date`` (first sampling date found, as WoSIS writes it), ``dataset``
        (``<attr>_dataset_id``), ``source_code`` (``<attr>_profile_code``), ``licence``.

        Horizons: ``profile_layer_id``, ``top``, ``bottom`` [cm] (``upper_depth``,
        ``lower_depth`` as given), ``horizon`` (``layer_name``), ``litter`` (WoSIS flag,
        surface litter layer; kept, not dropped), one column per attribute in canonical units
        (:data:`VARIABLE_MAP`) taken from ``<attr>_value_avg`` — the mean of the replicates —
        and ``<name>_n`` (number of replicates in ``<attr>_value``); ``bd`` [g cm⁻³] = the
        first available fine-earth bulk density in :data:`BD_PRIORITY` with ``bd_source``
        naming it; ``source_file`` and ``source_row`` (where the layer was first seen).

    Raises
    ------
    InputDataError
        Unreadable file, missing column, text in a numeric column, repeated layer id in one
        file, or a layer whose profile or depths differ between files.
    """
    files = _files(path_or_paths)
    layers_all, values_all, notes, codes = [], [], [], []
    for f in files:
        code, layers, values, n = _read_attribute(f)
        if code in codes:
            raise InputDataError(
                f"attribute {code!r} is given by two files", file=file_label(f), value=code
            )
        codes.append(code)
        layers_all.append(layers)
        values_all.append(values)
        notes.extend(n)

    lay = pd.concat(layers_all, ignore_index=True)
    first = lay.drop_duplicates("profile_layer_id", keep="first").set_index("profile_layer_id")
    for col in ("profile_id", "top", "bottom", "lat", "lon"):
        ref = lay["profile_layer_id"].map(first[col])
        a = lay[col]
        same = (a == ref).fillna(False).astype(bool) | (a.isna() & ref.isna())
        if col in ("lat", "lon"):
            same |= (a.astype(float) - ref.astype(float)).abs().fillna(np.inf).lt(1e-9)
        if not same.all():
            i = int(np.flatnonzero(~same.to_numpy(dtype=bool))[0])
            other = first.loc[lay["profile_layer_id"].iloc[i]]
            raise InputDataError(
                f"layer {lay['profile_layer_id'].iloc[i]} has {col} {ref.iloc[i]!r} in "
                f"{other['source_file']} row {other['source_row']}, but a different value here",
                file=lay["source_file"].iloc[i],
                row=int(lay["source_row"].iloc[i]),
                profile=lay["profile_id"].iloc[i],
                field={"top": "upper_depth", "bottom": "lower_depth", "lat": "Y", "lon": "X"}.get(
                    col, col
                ),
                value=a.iloc[i],
            )
    horizons = first.reset_index()
    for values in values_all:
        horizons = horizons.merge(values, on="profile_layer_id", how="left")
    for c in horizons.columns:
        if c.endswith("_n"):
            horizons[c] = horizons[c].fillna(0).astype("int64")
    horizons = _fill_bd(horizons, codes)

    # one site per profile: the first layer seen carries its coordinates and provenance
    site_src = lay.drop_duplicates("profile_id", keep="first")
    dates = lay.dropna(subset=["_date"]).drop_duplicates("profile_id").set_index("profile_id")
    sites = pd.DataFrame(
        {
            "profile_id": site_src["profile_id"].to_numpy(),
            "lat": site_src["lat"].to_numpy(),
            "lon": site_src["lon"].to_numpy(),
            "country": site_src["country"].to_numpy(),
            "dataset": site_src["_dataset_id"].to_numpy(),
            "source_code": site_src["_profile_code"].to_numpy(),
            "licence": site_src["_licence"].to_numpy(),
        }
    )
    sites["date"] = sites["profile_id"].map(dates["_date"])
    for col in ("lat", "lon"):  # a profile must sit at one place in every file
        per = lay.groupby("profile_id")[col].agg(lambda s: s.max() - s.min())
        bad = per[per > 1e-9]
        if len(bad):
            p = bad.index[0]
            r = lay[lay["profile_id"] == p].iloc[-1]
            raise InputDataError(
                "profile has different coordinates on different layers",
                file=r["source_file"],
                row=int(r["source_row"]),
                profile=p,
                field={"lat": "Y", "lon": "X"}[col],
                value=r[col],
            )
    horizons = horizons.drop(
        columns=[
            "lat",
            "lon",
            "country",
            "_date",
            "_dataset_id",
            "_profile_code",
            "_licence",
            "_method",
        ],
    )
    meta = {
        "source": "wosis",
        "file": file_label(files[0]) if len(files) == 1 else None,
        "files": [str(f) for f in files],
        "attributes": codes,
        "variable_map": {
            k: {"name": v[0], "unit": v[1]} for k, v in VARIABLE_MAP.items() if k in codes
        },
        "citation": (
            "Batjes, N.H., Ribeiro, E., van Oostrum, A. (2020) Standardised soil profile data to "
            "support global mapping and modelling (WoSIS snapshot 2019). Earth Syst. Sci. Data "
            "12:299-320, doi:10.5194/essd-12-299-2020"
        ),
        "licence": "per record, see sites['licence'] (mostly CC BY 4.0)",
        "notes": [
            "Values are <attr>_value_avg (mean of replicates); <name>_n counts the replicates.",
            "bd is the first available fine-earth bulk density of "
            f"{list(BD_PRIORITY)}; bd_source names it.",
            "Depths as given by WoSIS; litter layers are kept and flagged (litter = True).",
            *notes,
        ],
    }
    return ProfileSet(sites, horizons, meta)


def _fill_bd(h: pd.DataFrame, codes: Sequence[str]) -> pd.DataFrame:
    bd = pd.Series(np.nan, index=h.index)
    src = pd.Series(pd.NA, index=h.index, dtype="string")
    for code in BD_PRIORITY:
        if code in codes:
            col = VARIABLE_MAP[code][0]
            take = bd.isna() & h[col].notna()
            bd[take] = h.loc[take, col]
            src[take] = code
    if src.notna().any():
        h["bd"] = bd
        h["bd_source"] = src
    return h
