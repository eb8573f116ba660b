"""How every job reads a user's table, with the input options of the command line.

Two readers, one meaning of the options (docs/cli.md, "Input options"):

* :func:`read_layer_table`: a layer or horizon table (``inputs``, ``assimilate``, ``proda e2e``,
  ``c14 profile --format table``) through :func:`~wholesoil.workflows.load_horizons`, the reader
  of ``qc``/``harmonize``/``density``/``beta``: id and depth columns, ``column_map``, ``units``,
  ``format``, with the same checks and errors; returned flat, one row per layer in the file's
  order, site columns repeated on each layer.
* :func:`read_any_table`: any other table (``train``, ``predict``, ``mixed``, ``anova``):
  ``column_map`` renames, ``units`` converts through
  :data:`~wholesoil.io._table.UNIT_CONVERSIONS`, as :func:`~wholesoil.io.read_table` does.

Rows are numbered as a spreadsheet shows them (header = row 1): the frames returned keep the
file's row order, so row ``i`` of the frame is row ``i + 2`` of the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from wholesoil.errors import InputDataError


def unit_keys(units: Mapping[str, str] | None, names: Mapping[str, str]) -> dict[str, str]:
    """``units`` keyed by canonical names: a key that is a source name in ``names`` (the
    renaming ``{name in the file: canonical name}``) is replaced by its canonical name."""
    return {names.get(k, k): v for k, v in (units or {}).items()}


def check_unit_columns(units: Mapping[str, str], file: str | None,
                       names: Mapping[str, str]) -> None:
    """Raise, naming the next step, for a unit given for a column wholesoil cannot convert.

    ``units`` is keyed by canonical names (:func:`unit_keys`), ``names`` the renaming.
    """
    from wholesoil.io._table import UNIT_CONVERSIONS

    source = {v: k for k, v in names.items()}
    for col, unit in units.items():
        if col not in UNIT_CONVERSIONS:
            raise InputDataError(
                f"wholesoil converts units of {sorted(UNIT_CONVERSIONS)} only; next step: if "
                f"{col!r} is one of them under your name, read it under wholesoil's name with "
                f"--column-map {col}=NAME (--units {col}={unit} then converts it); else "
                "convert it before reading", file=file, field=source.get(col, col), value=unit)


def convert_units(df: pd.DataFrame, units: Mapping[str, str], file: str | None,
                  names: Mapping[str, str]) -> pd.DataFrame:
    """Columns of ``df`` (canonical names) converted from ``units`` to the canonical units."""
    from wholesoil.io._table import UNIT_CONVERSIONS, normalize_unit

    check_unit_columns(units, file, names)
    source = {v: k for k, v in names.items()}
    for col, unit in units.items():
        if col not in df.columns:
            raise InputDataError(
                "a unit is given (--units) for a column the table does not have; columns: "
                f"{[str(c) for c in df.columns]}", file=file, row=1, field=source.get(col, col),
                value=unit)
        conv = UNIT_CONVERSIONS.get(col, {}).get(normalize_unit(unit))
        if conv is None:
            accepted = sorted(UNIT_CONVERSIONS[col])
            raise InputDataError(f"unknown unit (accepted for {col!r}: {accepted})", file=file,
                                 field=source.get(col, col), value=unit)
        df[col] = conv(pd.to_numeric(df[col], errors="raise"))
    return df


def read_any_table(
    table: str | Path | pd.DataFrame,
    *,
    column_map: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, str | None]:
    """A DataFrame or a CSV / Parquet file, columns renamed by ``column_map`` and converted by
    ``units`` (keyed by the file's or the canonical name).

    A file with a header and no data rows is an :class:`InputDataError` (row 2), as is a unit
    wholesoil cannot convert or two columns mapped to one name.
    """
    from wholesoil.io._table import file_label, read_csv_checked, read_parquet_checked

    if isinstance(table, pd.DataFrame):
        df, file = table.reset_index(drop=True), None
    else:
        path = Path(table)
        if path.suffix.lower() in (".parquet", ".pq"):
            df = read_parquet_checked(path)
        else:
            df = read_csv_checked(path)
        file = file_label(path)
        if df.empty:
            raise InputDataError("no data rows (the table has a header only); nothing to do",
                                 file=file, row=2)
    # headers written as NAME [UNIT] (wholesoil's own outputs): matched by NAME; a known
    # column's unit converted to the canonical one, as read_table does
    from wholesoil.io._headers import COLUMN_UNITS
    from wholesoil.io._table import UNIT_CONVERSIONS, _same_unit, _strip_units, _units_given

    df, header_units = _strip_units(df, file or "<table>")
    names = {k: v for k, v in (column_map or {}).items() if k != v}
    if names:
        df = df.rename(columns=names)
        dup = df.columns[df.columns.duplicated()].tolist()
        if dup:
            raise InputDataError("two columns map to the same name (--column-map)", file=file,
                                 row=1, field=str(dup[0]))
    given = unit_keys(units, names)
    # header and option must agree (read_table's rule); a header unit that already is the
    # canonical one, or of a column wholesoil does not convert, needs no conversion
    conv = {col: unit for col, unit in _units_given(
        {names.get(k, k): u for k, u in header_units.items()}, given, file or "<table>",
        names).items()
        if col in given or (col in UNIT_CONVERSIONS
                            and not _same_unit(unit, COLUMN_UNITS.get(col, "")))}
    if conv:
        df = convert_units(df.copy(), conv, file, names)
    return df, file


def read_layer_table(
    table: str | Path | pd.DataFrame,
    **read_kwargs: Any,
) -> tuple[pd.DataFrame, str | None]:
    """A layer table through :func:`~wholesoil.workflows.load_horizons`, flat.

    ``read_kwargs`` are load_horizons' (``format``, ``id_column``, ``top_column``,
    ``bottom_column``, ``column_map``, ``units``, ``max_depth``). Returns one row per layer in
    the file's order with the site columns (lat, lon, …) repeated on each, canonical names and
    units, and the file's name for messages. A DataFrame is taken as it is (renamed by the same
    options). ``attrs["user_names"]`` maps canonical column names to the user's and
    ``attrs["source_row"]`` gives each row's line in the file (absent for a DataFrame), for
    messages that name the user's row and columns.
    """
    from wholesoil.workflows._jobs import load_horizons

    if isinstance(table, pd.DataFrame):
        keys = {read_kwargs.get("id_column", "profile_id"): "profile_id",
                read_kwargs.get("top_column", "top"): "top",
                read_kwargs.get("bottom_column", "bottom"): "bottom"}
        return read_any_table(table, column_map={**keys, **(read_kwargs.get("column_map") or {})},
                              units=read_kwargs.get("units"))
    ps = load_horizons(table, **read_kwargs)
    h = ps.horizons
    site_cols = [c for c in ps.sites.columns if c != "profile_id" and c not in h.columns]
    if site_cols:
        h = h.merge(ps.sites[["profile_id", *site_cols]], on="profile_id", how="left",
                    sort=False, validate="many_to_one")
    rows = None
    if "source_row" in h.columns:
        h = h.sort_values("source_row", kind="stable")
        rows = h["source_row"].to_numpy()
        h = h.drop(columns="source_row")
    h = h.reset_index(drop=True)
    h.attrs["user_names"] = dict(ps.metadata.get("user_names") or {})
    if rows is not None:
        h.attrs["source_row"] = rows
    return h, ps.metadata.get("file", Path(table).name)
