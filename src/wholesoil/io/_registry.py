"""The reader registry: every input format wholesoil reads, by name.

Each entry names its reader by import path (``"module:function"``, imported when first used, so
that this module and the command line's ``--help`` import no pandas), the file patterns it
reads and a short description. The command line's ``--format`` help and the profile jobs'
source readers (:data:`wholesoil.workflows._jobs.READERS`) are read from here; registering a
reader adds it to both.

Kinds: ``"profiles"`` readers return a :class:`~wholesoil.profiles.ProfileSet` (``table`` is
the plain CSV/Parquet reader that takes the id/depth/column-map options; the others read a
source format by its own rules); ``"forcing"`` readers return model forcing
(:func:`wholesoil.io.read_clm5_history`).

References
----------
Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "READERS",
    "Reader",
    "format_help",
    "get_reader",
    "reader_names",
    "register_reader",
    "source_readers",
    "unregister_reader",
]


@dataclass(frozen=True)
class Reader:
    """One registered reader.

    Attributes
    ----------
    name : str
        The ``--format`` value.
    target : str
        ``"package.module:function"``; imported by :meth:`load`.
    patterns : tuple of str
        File patterns it reads (a trailing ``/`` is a folder).
    description : str
        What it reads, shown in ``--format``'s help as ``name (description)``.
    kind : str
        ``"profiles"`` (returns a ProfileSet) or ``"forcing"``.
    """

    name: str
    target: str
    patterns: tuple[str, ...] = ()
    description: str = ""
    kind: str = "profiles"

    def load(self) -> Callable[..., Any]:
        """The reader function (imports its module)."""
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


#: name → :class:`Reader`, in the order ``--help`` lists them.
READERS: dict[str, Reader] = {}


def register_reader(name: str, target: str, patterns: tuple[str, ...] = (),
                    description: str = "", kind: str = "profiles") -> Reader:
    """Register (or replace) a reader under ``name``; returns its entry."""
    if ":" not in target:
        raise ValueError(f"reader target must be 'module:function', got {target!r}")
    entry = Reader(name, target, tuple(patterns), description, kind)
    READERS[name] = entry
    return entry


def unregister_reader(name: str) -> None:
    """Remove a registered reader (no error when absent)."""
    READERS.pop(name, None)


def reader_names(kind: str = "profiles") -> list[str]:
    """Registered reader names of one kind, in registration order."""
    return [n for n, r in READERS.items() if r.kind == kind]


def get_reader(name: str) -> Callable[..., Any]:
    """The reader function registered as ``name`` (KeyError when unknown)."""
    return READERS[name].load()


class _SourceReaders(Mapping[str, Callable[..., Any]]):
    """Live view: profile readers other than ``table`` → their functions, loaded on access."""

    def _names(self) -> list[str]:
        return [n for n in reader_names("profiles") if n != "table"]

    def __getitem__(self, name: str) -> Callable[..., Any]:
        if name not in self._names():
            raise KeyError(name)
        return get_reader(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())


def source_readers() -> Mapping[str, Callable[..., Any]]:
    """The profile source readers (every ``profiles`` reader but ``table``), a live mapping."""
    return _SourceReaders()


def format_help() -> str:
    """The help of every ``--format`` option, written from the registered profile readers."""
    def item(name: str) -> str:
        d = READERS[name].description
        return f"{name} ({d})" if d else name

    table = READERS.get("table")
    head = f"Input: {item('table') if table else 'table'}, or a source read by its reader: "
    return head + ", ".join(item(n) for n in reader_names("profiles") if n != "table") + "."


register_reader("table", "wholesoil.io._table:read_table", ("*.csv", "*.parquet"),
                "CSV/Parquet; id/depth/column-map options apply")
register_reader("wosis", "wholesoil.io._wosis:read_wosis", ("wosis_latest_*.csv", "*/"),
                "per-attribute CSVs or their folder")
register_reader("israd", "wholesoil.io._israd:read_israd", ("*/", "*.csv"), "entry folder")
register_reader("ncscd", "wholesoil.io._ncscd:read_ncscd", ("*.csv", "*.txt"))
register_reader("clm5-history", "wholesoil.io._clm5_history:read_clm5_history", ("*.nc",),
                "CLM5 history NetCDF files (Tao et al. (EarthArXiv) Suppl. Table 3) → model "
                "forcing",
                kind="forcing")
