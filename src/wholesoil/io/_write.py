"""Writers: tables (CSV, Parquet) and whole ProfileSets, always atomically.

A file is first written under a temporary name in the target folder, flushed to disk, then
renamed onto the target with :func:`os.replace` (atomic on POSIX and Windows). If writing fails,
the temporary file is removed and the target keeps its previous content (or stays absent):
nobody ever reads a half-written table.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from wholesoil._atomic import atomic_path
from wholesoil.errors import InputDataError
from wholesoil.io._headers import CSV_FLOAT_FORMAT, user_headers
from wholesoil.io._table import PathLike, _read_any, read_table
from wholesoil.profiles import ProfileSet

_PARQUET = (".parquet", ".pq")
_CSV = (".csv",)


def write_table(df: pd.DataFrame, path: PathLike, *, float_format: str | None = None) -> Path:
    """Write a table atomically as CSV or Parquet, chosen by the suffix of ``path``.

    Parameters
    ----------
    df : pandas.DataFrame
        The table; its index is not written (reset it first if it carries data).
    path : str or path-like
        Target file, ``.csv``, ``.parquet`` or ``.pq``. Parent folders are created.
    float_format : str, optional
        CSV number format, e.g. ``"%.6g"`` (:data:`~wholesoil.io._headers.CSV_FLOAT_FORMAT`,
        the files written for a user); default: full precision.

    Returns
    -------
    pathlib.Path
        ``path``.

    Notes
    -----
    CSV floats are written with full precision by default, so :func:`wholesoil.io.read_table`
    reads back the same numbers. ``DataFrame.attrs`` are not written.
    """
    target = Path(path)
    _check_suffix(target)
    with atomic_path(target) as tmp:
        write_table_to(df, tmp, target.suffix, float_format)
    return target


def _check_suffix(target: Path) -> None:
    if target.suffix.lower() not in _PARQUET + _CSV:
        raise ValueError(f"cannot tell the format of {target.name!r}: use .csv, .parquet or .pq")


def write_table_to(
    df: pd.DataFrame, tmp: Path, suffix: str, float_format: str | None = None
) -> None:
    """Write ``df`` to ``tmp`` in the format of ``suffix`` (not atomically: a building block).

    ``float_format`` (CSV only) e.g. ``"%.6g"``; default: full precision.
    """
    if suffix.lower() in _CSV:
        df.to_csv(tmp, index=False, lineterminator="\n", float_format=float_format)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp)


def table_writer(df: pd.DataFrame, path: PathLike) -> tuple[Path, Callable[[Path], None]]:
    """``(path, writer)`` for :meth:`wholesoil._outputs.OutputSet.add`: the table, by suffix."""
    target = Path(path)
    _check_suffix(target)
    return target, lambda tmp: write_table_to(df, tmp, target.suffix)


def user_table_writer(
    df: pd.DataFrame,
    path: PathLike,
    metadata: Mapping[str, Any] | None = None,
    *,
    canonical_names: bool = False,
    value_unit: str | None = None,
    units: Mapping[str, str] | None = None,
) -> tuple[Path, Callable[[Path], None]]:
    """:func:`table_writer` of a file written for a user: the user's names, units in the headers
    and 6 significant digits (:func:`wholesoil.io._headers.user_headers`).

    ``metadata`` is the ``ProfileSet.metadata`` of the table read (``user_names``,
    ``header_units``); ``canonical_names`` keeps canonical names; ``value_unit`` is the unit
    of the value depth functions were fitted to; ``units`` the units of the table's own columns.
    """
    out = user_headers(df, metadata, canonical_names=canonical_names, value_unit=value_unit,
                       units=units)
    target = Path(path)
    _check_suffix(target)
    return target, lambda tmp: write_table_to(out, tmp, target.suffix, CSV_FLOAT_FORMAT)


def _json_ready(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _json_ready(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_ready(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if hasattr(obj, "item") and not isinstance(obj, str):  # numpy scalars
        try:
            return _json_ready(obj.item())
        except (TypeError, ValueError):
            return str(obj)
    if isinstance(obj, str | int | float | bool) or obj is None:
        return obj
    return str(obj)


def _name(base: Path, is_dir: bool, part: str, ext: str) -> Path:
    return base / f"{part}{ext}" if is_dir else base.with_name(f"{base.name}_{part}{ext}")


def write_profiles(ps: ProfileSet, dir_or_prefix: PathLike, format: str = "csv") -> dict[str, Path]:
    """Write a ProfileSet as a site table, a horizon table and ``metadata.json``, atomically.

    Parameters
    ----------
    ps : ProfileSet
    dir_or_prefix : str or path-like
        An existing folder, or a path ending in ``/``, receives ``sites.csv``, ``horizons.csv``
        and ``metadata.json``; any other path is a prefix: ``<prefix>_sites.csv`` and so on.
    format : {"csv", "parquet"}
        Table format.

    Returns
    -------
    dict of str to pathlib.Path
        What was written, by part (``sites``, ``horizons``, ``metadata`` and one entry per
        table found in the metadata, e.g. ``soc_density_discrepancy``).

    Notes
    -----
    Tables held in ``ps.metadata`` (pandas DataFrames, such as the ISRaD discrepancy table)
    are written as tables of their own; the rest of the metadata goes to JSON, with values
    JSON cannot hold written as text. :func:`read_profiles` reads the result back.
    """
    if format not in ("csv", "parquet"):
        raise ValueError(f"format must be 'csv' or 'parquet', got {format!r}")
    base, ext = Path(dir_or_prefix), (".parquet" if format == "parquet" else ".csv")
    is_dir = base.is_dir() or str(dir_or_prefix).endswith(("/", os.sep))
    if is_dir:
        base.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    out["sites"] = write_table(ps.sites, _name(base, is_dir, "sites", ext))
    out["horizons"] = write_table(ps.horizons, _name(base, is_dir, "horizons", ext))
    meta: dict[str, Any] = {}
    for key, val in ps.metadata.items():
        if isinstance(val, pd.DataFrame):
            out[key] = write_table(val, _name(base, is_dir, key, ext))
            meta[key] = {"table": out[key].name}
        else:
            meta[key] = val
    meta_path = _name(base, is_dir, "metadata", ".json")
    with atomic_path(meta_path) as tmp:
        tmp.write_text(json.dumps(_json_ready(meta), indent=2, ensure_ascii=False) + "\n")
    out["metadata"] = meta_path
    return out


def read_profiles(dir_or_prefix: PathLike) -> ProfileSet:
    """Read a ProfileSet written by :func:`write_profiles` (CSV or Parquet).

    Parameters
    ----------
    dir_or_prefix : str or path-like
        The folder or prefix given to :func:`write_profiles`.
    """
    base = Path(dir_or_prefix)
    is_dir = base.is_dir()
    for ext in (".csv", ".parquet"):
        hz = _name(base, is_dir, "horizons", ext)
        if hz.exists():
            break
    else:
        raise InputDataError(
            "no horizons table found (expected horizons.csv or horizons.parquet)",
            file=str(dir_or_prefix),
        )
    ps = read_table(hz, sites_columns=[])
    sites_path = _name(base, is_dir, "sites", ext)
    sites = read_table_raw(sites_path, text_columns=("profile_id",))
    meta_path = _name(base, is_dir, "metadata", ".json")
    meta: dict[str, Any] = {}
    if meta_path.exists():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        for key, val in list(meta.items()):
            if isinstance(val, dict) and set(val) == {"table"}:
                meta[key] = read_table_raw(_name(base, is_dir, key, ext))
    return ProfileSet(sites, ps.horizons, meta)


def read_table_raw(path: PathLike, text_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """A CSV or Parquet table as it is (no renaming, no unit conversion), errors located.

    ``text_columns`` are read as text (so identifiers like ``"007"`` keep their zeros).
    """
    return _read_any(path, text_columns)
