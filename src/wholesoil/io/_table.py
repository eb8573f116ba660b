"""Plain tables (CSV, Parquet) with a column map, and the helpers every reader shares.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row is row 2.
Every problem found while reading raises :class:`~wholesoil.errors.InputDataError` with the
file, row, profile, field and value that caused it.

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wholesoil import units
from wholesoil._outputs import note_input
from wholesoil.errors import InputDataError, MissingColumnError
from wholesoil.io._headers import COLUMN_UNITS, split_header
from wholesoil.profiles import HORIZON_COLUMNS, SITE_COLUMNS, ProfileSet

PathLike = str | os.PathLike[str]

#: Canonical columns read as numbers (text in them is an error).
NUMERIC_COLUMNS: frozenset[str] = frozenset(
    {c for c in HORIZON_COLUMNS if c not in ("profile_id", "horizon")} | {"lat", "lon"}
)

#: Site columns taken per profile when ``sites_columns`` is not given.
DEFAULT_SITE_COLUMNS: tuple[str, ...] = tuple(c for c in SITE_COLUMNS if c != "profile_id")


def _scale(factor: float) -> Callable[[pd.Series], pd.Series]:
    return lambda s: s * factor


#: Unit conversions accepted by :func:`read_table`, per canonical column: the unit the file uses
#: (normalized: lower case, no spaces, ``^-1`` written ``-1``) and the function that converts a
#: column in that unit to the canonical unit of ``HORIZON_COLUMNS``.
UNIT_CONVERSIONS: dict[str, dict[str, Callable[[pd.Series], pd.Series]]] = {
    "top": {"cm": _scale(1.0), "mm": _scale(0.1), "m": _scale(100.0)},
    "bottom": {"cm": _scale(1.0), "mm": _scale(0.1), "m": _scale(100.0)},
    "soc": {
        "g/kg": _scale(1.0),
        "%": _scale(units.PERCENT_TO_G_KG),
        # soil organic matter given instead of SOC: SOC = 0.58 · SOM (Wang H. et al. (2025) §2.1)
        "som%": _scale(units.SOM_TO_SOC * units.PERCENT_TO_G_KG),
        "somg/kg": _scale(units.SOM_TO_SOC),
    },
    "tn": {"g/kg": _scale(1.0), "%": _scale(units.PERCENT_TO_G_KG)},
    "bd": {
        "g/cm3": _scale(1.0),
        "kg/dm3": _scale(1.0),
        "mg/m3": _scale(1.0),  # Mg m⁻³ after lower-casing
        "t/m3": _scale(1.0),
        "kg/m3": _scale(1e-3),
    },
    "gravel": {"%": _scale(1.0), "fraction": _scale(100.0)},
    "clay": {"%": _scale(1.0), "g/kg": _scale(0.1), "fraction": _scale(100.0)},
    "silt": {"%": _scale(1.0), "g/kg": _scale(0.1), "fraction": _scale(100.0)},
    "sand": {"%": _scale(1.0), "g/kg": _scale(0.1), "fraction": _scale(100.0)},
    "soc_density": {
        "mg/ha": _scale(1.0),
        "t/ha": _scale(1.0),
        "kg/m2": _scale(units.KG_M2_TO_MG_HA),
        "g/cm2": _scale(100.0),
    },
    "d14c": {"‰": _scale(1.0), "permil": _scale(1.0)},
    "f14c": {"-": _scale(1.0), "fraction": _scale(1.0)},
}

_UNIT_ALIASES = {
    "gkg-1": "g/kg",
    "gc/kg": "g/kg",
    "percent": "%",
    "pct": "%",
    "som_%": "som%",
    "som%": "som%",
    "som_percent": "som%",
    "som_g/kg": "somg/kg",
    "gcm-3": "g/cm3",
    "g/cc": "g/cm3",
    "kgdm-3": "kg/dm3",
    "mgha-1": "mg/ha",
    "mgc/ha": "mg/ha",
    "kgm-2": "kg/m2",
    "kgc/m2": "kg/m2",
    "gcm-2": "g/cm2",
    "per_mil": "permil",
    "per mil": "permil",
    "mgcha-1": "mg/ha",  # Mg C ha-1, as wholesoil writes it
}


def normalize_unit(unit: str) -> str:
    """Normalize a unit string for lookup in :data:`UNIT_CONVERSIONS`."""
    u = unit.strip().lower().replace("⁻¹", "-1").replace("⁻²", "-2").replace("⁻³", "-3")
    u = u.replace("^", "").replace("³", "3").replace("²", "2").replace("·", "")
    u = re.sub(r"\s+", "", u)
    return _UNIT_ALIASES.get(u, u)


# ----------------------------------------------------------------------------- shared helpers
def file_label(path: PathLike) -> str:
    """The file name shown in messages (the name alone keeps messages short and stable)."""
    return Path(path).name


def data_rows(n: int, first: int = 2) -> np.ndarray:
    """Spreadsheet row numbers of ``n`` data rows (header = row 1)."""
    return np.arange(first, first + n, dtype=np.int64)


def read_csv_checked(path: PathLike, **kwargs: Any) -> pd.DataFrame:
    """``pandas.read_csv`` that turns every failure into a located :class:`InputDataError`.

    Parse errors carry the line pandas reports; decoding errors the line of the first bad byte.
    """
    label = file_label(path)
    p = Path(path)
    if not p.exists():
        raise InputDataError("file not found", file=str(path), value=str(path))
    if p.is_dir():
        raise InputDataError("expected a file, got a directory", file=str(path), value=str(path))
    note_input(p)
    try:
        return pd.read_csv(p, **kwargs)
    except UnicodeDecodeError as e:
        enc = kwargs.get("encoding") or "utf-8"
        raw = p.read_bytes()
        start, end, reason = e.start, e.end, e.reason
        try:  # pandas decodes in chunks: find the offset in the whole file
            raw.decode(enc)
        except UnicodeDecodeError as whole:
            start, end, reason = whole.start, whole.end, whole.reason
        row = raw[:start].count(b"\n") + 1
        raise InputDataError(
            f"cannot decode the file as {enc} ({reason})",
            file=label,
            row=row,
            value=raw[start:end],
        ) from e
    except pd.errors.EmptyDataError as e:
        raise InputDataError("file is empty (no header row)", file=label, row=1) from e
    except pd.errors.ParserError as e:
        m = re.search(r"line (\d+)", str(e))
        row = int(m.group(1)) if m else None
        raise InputDataError(f"cannot parse the file: {e}", file=label, row=row) from e
    except (OSError, ValueError) as e:
        raise InputDataError(f"cannot read the file: {e}", file=label) from e


def read_parquet_checked(path: PathLike) -> pd.DataFrame:
    """``pandas.read_parquet`` with failures turned into :class:`InputDataError`."""
    p = Path(path)
    if not p.exists():
        raise InputDataError("file not found", file=str(path), value=str(path))
    note_input(p)
    try:
        return pd.read_parquet(p)
    except Exception as e:  # pyarrow raises several unrelated types for a corrupt file
        raise InputDataError(
            f"cannot read the file as Parquet ({type(e).__name__}: {e})", file=file_label(path)
        ) from e


def require_columns(
    df: pd.DataFrame, required: Iterable[str], file: str, what: str = "column"
) -> None:
    """Raise :class:`MissingColumnError` (row 1 = the header) for the first absent column."""
    for col in required:
        if col not in df.columns:
            raise MissingColumnError(
                f"required {what} {col!r} is missing from the header; columns found",
                file=file,
                row=1,
                field=col,
                value=[str(c) for c in df.columns],
            )


def to_numeric_checked(
    values: pd.Series,
    *,
    file: str,
    field: str,
    rows: Sequence[int] | np.ndarray,
    profiles: Sequence[Any] | pd.Series | None = None,
    integer: bool = False,
) -> pd.Series:
    """Convert a column to float, raising at the first cell that is text, not a number.

    Empty cells and common missing-value markers (read by pandas as NaN) stay NaN.
    """
    if pd.api.types.is_bool_dtype(values):
        out = values.astype(float)
    elif pd.api.types.is_numeric_dtype(values):
        out = values.astype(float)
    else:
        stripped = values.astype("string").str.strip()
        conv = pd.to_numeric(stripped, errors="coerce")
        bad = conv.isna() & stripped.notna() & (stripped != "")
        raise_at_first(
            bad,
            "expected a number",
            file=file,
            rows=rows,
            field=field,
            values=values,
            profiles=profiles,
        )
        out = conv.astype(float)
    if integer:
        frac = out.notna() & (out != np.round(out))
        raise_at_first(
            frac,
            "expected a whole number",
            file=file,
            rows=rows,
            field=field,
            values=values,
            profiles=profiles,
        )
    return out


def _at(seq: Sequence[Any] | pd.Series, i: int) -> Any:
    return seq.iloc[i] if isinstance(seq, pd.Series) else seq[i]


def raise_at_first(
    mask: pd.Series | np.ndarray,
    message: str,
    *,
    file: str,
    rows: Sequence[int] | np.ndarray,
    field: str,
    values: Sequence[Any] | pd.Series,
    profiles: Sequence[Any] | pd.Series | None = None,
) -> None:
    """Raise :class:`InputDataError` located at the first True of ``mask``; nothing if none."""
    if isinstance(mask, pd.Series):
        m = mask.to_numpy(dtype=bool, na_value=False)
    else:
        m = np.asarray(mask, dtype=bool)
    if not m.any():
        return
    i = int(np.flatnonzero(m)[0])
    raise InputDataError(
        message,
        file=file,
        row=int(np.asarray(rows)[i]),
        profile=None if profiles is None else _at(profiles, i),
        field=field,
        value=_at(values, i),
    )


def text_column(s: pd.Series) -> pd.Series:
    """A text column with surrounding blanks stripped; empty cells become missing."""
    t = s.astype("string").str.strip()
    return t.mask(t == "")


def check_unique(
    keys: pd.Series, *, file: str, field: str, rows: np.ndarray, what: str = "identifier"
) -> None:
    """Raise at the first repeated key, naming both rows."""
    dup = keys.duplicated(keep=False) & keys.notna()
    if dup.any():
        idx = np.flatnonzero(dup.to_numpy(dtype=bool))
        first_val = keys.iloc[idx[0]]
        same = idx[(keys.iloc[idx] == first_val).to_numpy()]
        raise InputDataError(
            f"{what} is not unique (also on row {int(rows[same[1]])})",
            file=file,
            row=int(rows[same[0]]),
            profile=first_val,
            field=field,
            value=first_val,
        )


# ----------------------------------------------------------------------------- read_table
def _read_any(path: PathLike, text_columns: Iterable[str] = ()) -> pd.DataFrame:
    suffix = Path(path).suffix.lower()
    if suffix in (".parquet", ".pq"):
        return read_parquet_checked(path)
    if suffix in (".csv", ".txt", ".tsv"):
        sep = "\t" if suffix == ".tsv" else ","
        dtype = dict.fromkeys(text_columns, str)
        return read_csv_checked(path, sep=sep, dtype=dtype)
    raise InputDataError(
        "unknown table format (expected .csv, .tsv, .txt, .parquet or .pq)",
        file=file_label(path),
        value=suffix,
    )


def read_table(
    path: PathLike,
    column_map: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    sites_columns: Sequence[str] | None = None,
) -> ProfileSet:
    """Read a plain horizon table (CSV or Parquet) into a :class:`ProfileSet`.

    One row per horizon. Columns are renamed to canonical names with ``column_map``; columns
    not in the map keep their names. Units are converted here, at the boundary, and nowhere
    else.

    Parameters
    ----------
    path : str or path-like
        ``.csv`` (comma), ``.tsv`` (tab), ``.txt`` (comma) or ``.parquet`` / ``.pq``.
    column_map : mapping, optional
        ``{name in the file: canonical name}``, e.g. ``{"Depth_top": "top", "OC": "soc"}``.
        After renaming the table needs ``profile_id``, ``top`` and ``bottom``.
    units : mapping, optional
        ``{canonical name: unit in the file}`` for columns not already in canonical units, e.g.
        ``{"soc": "%"}`` (× 10 → g kg⁻¹), ``{"soc": "SOM %"}`` (soil organic matter; SOC =
        0.58 · SOM, Wang H. et al. (2025) §2.1), ``{"top": "m", "bottom": "m"}``, ``{"bd":
        "kg/m3"}``, ``{"soc_density": "kg/m2"}``. See :data:`UNIT_CONVERSIONS` for every accepted
        pair.
    sites_columns : sequence of str, optional
        Canonical columns that describe the profile rather than the horizon (one value per
        profile). Default: those of ``lat, lon, date, ecosystem, dataset`` present. A site
        column whose value differs between horizons of one profile is an error.

    Returns
    -------
    ProfileSet
        Horizons keep ``source_row`` (the row in ``path``; an existing ``source_row`` column is
        kept as it is, so a table written by :func:`write_table` reads back unchanged). Site
        columns stay in the horizon table too only if not moved to the sites.

    Raises
    ------
    InputDataError
        Unreadable file, missing required column (row 1), text in a numeric column, unknown
        unit, or a site value that differs between horizons of one profile.
    """
    label = file_label(path)
    column_map = {split_header(k)[0]: v for k, v in (column_map or {}).items()}
    text = tuple(_source_name(c, column_map) for c in ("profile_id", "horizon", "date"))
    raw = _read_any(path, text_columns=text)
    raw, header_units = _strip_units(raw, label)
    df = raw.rename(columns=column_map)
    dup_cols = df.columns[df.columns.duplicated()].tolist()
    if dup_cols:
        raise InputDataError(
            "two columns map to the same canonical name", file=label, row=1, field=dup_cols[0]
        )
    require_columns(df, ("profile_id", "top", "bottom"), label)
    rows = data_rows(len(df))
    df["profile_id"] = text_column(df["profile_id"])
    missing_id = df["profile_id"].isna()
    raise_at_first(
        missing_id,
        "profile identifier is empty",
        file=label,
        rows=rows,
        field="profile_id",
        values=raw[_source_name("profile_id", column_map)],
    )
    profiles = df["profile_id"]
    for col in df.columns:
        if col in NUMERIC_COLUMNS:
            df[col] = to_numeric_checked(
                df[col],
                file=label,
                field=_source_name(col, column_map),
                rows=rows,
                profiles=profiles,
            )
    for col in ("top", "bottom"):  # ±inf is not a depth (and not a missing one either)
        raise_at_first(
            np.isinf(df[col].to_numpy(dtype=float)),
            "expected a finite depth [cm]",
            file=label,
            rows=rows,
            field=_source_name(col, column_map),
            values=df[col],
            profiles=profiles,
        )
    notes: list[str] = []
    header_units = {column_map.get(k, k): u for k, u in header_units.items()}
    given = _units_given(header_units, units, label, column_map)
    for col, unit in given.items():
        known = COLUMN_UNITS.get(col)
        if col not in df.columns:
            raise InputDataError(
                "a unit is given for a column the table does not have",
                file=label,
                row=1,
                field=col,
                value=unit,
            )
        if col in header_units and col not in UNIT_CONVERSIONS and known is None:
            continue  # a column wholesoil does not know: its unit is kept for the outputs
        if known is not None and _same_unit(unit, known):
            continue  # already in the canonical unit
        conv = UNIT_CONVERSIONS.get(col, {}).get(normalize_unit(unit))
        if conv is None:
            accepted = sorted(UNIT_CONVERSIONS.get(col, {})) or [known]
            where = "in the header" if col not in (units or {}) else "given"
            raise InputDataError(
                f"unknown unit {where} (accepted: {accepted}; wholesoil works in "
                f"{known or HORIZON_COLUMNS.get(col, '?')})",
                file=label,
                row=1,
                field=_source_name(col, column_map),
                value=unit,
            )
        df[col] = conv(df[col])
        notes.append(f"{col}: converted from {unit!r} to {HORIZON_COLUMNS.get(col, '?')}")
    if "source_row" not in df.columns:
        df["source_row"] = rows
    site_cols = [
        c
        for c in (sites_columns if sites_columns is not None else DEFAULT_SITE_COLUMNS)
        if c in df.columns
    ]
    if sites_columns is not None:
        missing = [c for c in sites_columns if c not in df.columns]
        if missing:
            require_columns(df, missing, label, what="site column")
    sites = _sites_from_horizons(df, site_cols, label, rows, column_map)
    horizons = df.drop(columns=site_cols)
    meta = {
        "source": "table",
        "file": label,
        "path": str(path),
        "column_map": dict(column_map or {}),
        "units": dict(units or {}),
        "notes": notes,
        # the user's own names of the renamed columns, and the units their headers carried
        # for columns wholesoil does not know: the outputs give both back (io/_headers.py)
        "user_names": {v: k for k, v in column_map.items() if k != v and v in df.columns},
        "header_units": {
            c: u for c, u in header_units.items() if c not in UNIT_CONVERSIONS
            and c not in COLUMN_UNITS
        },
    }
    return ProfileSet(sites, horizons, meta)


def _strip_units(raw: pd.DataFrame, label: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """Headers ``NAME [UNIT]`` → ``NAME``, and ``{NAME: UNIT}`` of those that had one."""
    names, found = [], {}
    for col in raw.columns:
        name, unit = split_header(col)
        names.append(name)
        if unit is not None:
            found[name] = unit
    if not found:
        return raw, found
    seen: dict[str, object] = {}
    for col, name in zip(raw.columns, names, strict=True):
        if name in seen:
            raise InputDataError(
                f"two columns have the same name once their units are set aside "
                f"({seen[name]!r} and {col!r})",
                file=label,
                row=1,
                field=str(col),
            )
        seen[name] = col
    return raw.set_axis(names, axis=1), found


def _same_unit(a: str, b: str) -> bool:
    """Whether two unit strings name the same unit (case, blanks and aliases aside)."""
    return re.sub(r"\s+", " ", a.strip().lower()) == re.sub(r"\s+", " ", b.strip().lower()) or (
        normalize_unit(a) == normalize_unit(b)
    )


def _units_given(
    header_units: Mapping[str, str],
    units: Mapping[str, str] | None,
    label: str,
    column_map: Mapping[str, str],
) -> dict[str, str]:
    """Units of the header brackets and of ``units``; the two must agree where both are given."""
    given = dict(header_units)
    for col, unit in (units or {}).items():
        if col in header_units and not _same_unit(unit, header_units[col]):
            raise InputDataError(
                f"the header says the unit is {header_units[col]!r}, the units option says "
                f"{unit!r}; give one",
                file=label,
                row=1,
                field=_source_name(col, column_map),
                value=unit,
            )
        given[col] = unit
    return given


def _source_name(col: str, column_map: Mapping[str, str] | None) -> str:
    """The name a canonical column had in the file (for messages)."""
    for k, v in (column_map or {}).items():
        if v == col:
            return k
    return col


def _sites_from_horizons(
    df: pd.DataFrame,
    site_cols: Sequence[str],
    file: str,
    rows: np.ndarray,
    column_map: Mapping[str, str] | None,
) -> pd.DataFrame:
    """One row per profile (first appearance order), checking site values agree."""
    first = ~df["profile_id"].duplicated()
    sites = df.loc[first, ["profile_id", *site_cols]].reset_index(drop=True)
    if site_cols:
        ref = sites.set_index("profile_id")
        for col in site_cols:
            expected = df["profile_id"].map(ref[col])
            a, b = df[col], expected
            same = (a == b).fillna(False).astype(bool) | (a.isna() & b.isna())
            if not same.all():
                i = int(np.flatnonzero(~same.to_numpy(dtype=bool))[0])
                raise InputDataError(
                    f"site value differs between horizons of one profile "
                    f"(first horizon has {b.iloc[i]!r})",
                    file=file,
                    row=int(rows[i]),
                    profile=df["profile_id"].iloc[i],
                    field=_source_name(col, column_map),
                    value=a.iloc[i],
                )
    return sites
