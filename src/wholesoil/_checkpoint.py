"""The one checkpoint store of long jobs: resume after a kill without losing or duplicating work.

Long jobs (per-batch calibration, blockwise grid prediction, row-block stock sums, the steps of
a reproduction) write their results part by part into a folder and resume where they stopped.
They share one protocol, implemented here once:

- ``manifest.json`` (written when the store is created) holds the store's format and what its
  parts depend on (the key: inputs, options, seed, layout). Reopening the folder compares the
  key field by field; a mismatch is an :class:`~wholesoil.errors.InputDataError` naming the
  manifest file, the field, what the store has and what this run has.
- A folder that exists, is not empty and has no manifest is refused (``refuse_foreign``): a
  store never writes its parts among other files.
- Parts are written atomically (temporary name, fsync, rename; :mod:`wholesoil._atomic`).
- The part's **record** (a small JSON) is written **last**: a record means a complete part. A
  part written but not recorded (a kill between the two) is recomputed and overwritten.
- :meth:`CheckpointStore.finished` lists the recorded parts; :meth:`CheckpointStore.record`
  reads one (``None`` when absent).

Each user keeps its own file names (``records/batch-00003.json``, ``blocks/b00001_00002.json``,
``s4.json``), so stores written before this module existed still resume.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from wholesoil._atomic import atomic_path, write_json
from wholesoil.errors import InputDataError

#: File name of a store's manifest.
MANIFEST = "manifest.json"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:  # written atomically, so not by us
        raise InputDataError(f"not valid JSON: {exc}", file=str(path)) from exc


class CheckpointStore:
    """A folder of parts with a manifest checked on reopen and a record written last per part.

    Parameters
    ----------
    folder : path
        The store; created if absent.
    manifest : mapping
        JSON-able key of the store (format, inputs, options, layout). Written when the store is
        created; compared with the stored one when it is reopened.
    format : str, optional
        Expected value of ``manifest["format"]``; a stored manifest of another format is refused
        (field ``format``).
    checks : sequence of (field, words), optional
        Fields compared on reopen, with the words of the error (``("seed", "seed")``). Default:
        every field of ``manifest``.
    mismatch : callable, optional
        ``mismatch(field, words, stored, mine) -> str``: the message of a differing field.
        Default: "this store was made with a different WORDS: it has …, this run has …; use
        another folder (or delete this one) to start afresh".
    mismatch_value : bool
        Also attach the stored value to that error (``value=``).
    refuse_foreign : bool
        Refuse a non-empty folder without a manifest (default True).
    foreign_message : str, optional
        Message of that refusal.
    subdirs : sequence of str
        Folders created inside the store (``records``, ``blocks``).

    Raises
    ------
    InputDataError
        The stored manifest is not JSON, has another format or differs in a checked field
        (``file`` is the manifest, ``field`` the field); a foreign non-empty folder.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        manifest: Mapping[str, Any],
        *,
        format: str | None = None,
        checks: Sequence[tuple[str, str]] | None = None,
        mismatch: Callable[[str, str, Any, Any], str] | None = None,
        mismatch_value: bool = False,
        refuse_foreign: bool = True,
        foreign_message: str | None = None,
        subdirs: Sequence[str] = (),
    ) -> None:
        self.folder = Path(folder)
        self.manifest = json.loads(json.dumps(dict(manifest), default=str))
        path = self.folder / MANIFEST
        if path.is_file():
            old = _read_json(path)
            if format is not None and (not isinstance(old, dict) or old.get("format") != format):
                raise InputDataError(
                    f"expected format {format!r}", file=str(path), field="format",
                    value=old.get("format") if isinstance(old, dict) else old, has_value=True)
            fields = checks if checks is not None else [(k, k) for k in self.manifest]
            for key, words in fields:
                if old.get(key) != self.manifest.get(key):
                    message = (mismatch or _default_mismatch)(key, words, old.get(key),
                                                              self.manifest.get(key))
                    where: dict[str, Any] = {"file": str(path), "field": key}
                    if mismatch_value:
                        where.update(value=old.get(key), has_value=True)
                    raise InputDataError(message, **where)
            self.stored_manifest: dict[str, Any] = old
        else:
            if self.folder.is_dir():  # a run killed while writing its manifest left only that
                from wholesoil._outputs import clean_stale_temporaries

                clean_stale_temporaries(self.folder)
            if refuse_foreign and self.folder.exists() and any(self.folder.iterdir()):
                raise InputDataError(
                    foreign_message or f"folder is not empty and has no {MANIFEST}: refusing "
                    "to write checkpoints among other files", file=str(self.folder))
            self.folder.mkdir(parents=True, exist_ok=True)
            write_json(path, self.manifest)
            self.stored_manifest = self.manifest
        for sub in subdirs:
            (self.folder / sub).mkdir(parents=True, exist_ok=True)

    @classmethod
    def read(cls, folder: str | os.PathLike[str], *, format: str | None = None,
             missing_message: str | None = None) -> CheckpointStore:
        """Open an existing store as it is (to collect its parts); no key to compare."""
        folder = Path(folder)
        path = folder / MANIFEST
        if not path.is_file():
            raise InputDataError(missing_message or f"no {MANIFEST}: not a checkpoint store",
                                 file=str(folder))
        old = _read_json(path)
        return cls(folder, old if isinstance(old, dict) else {}, format=format, checks=())

    # ------------------------------------------------------------------------------- parts
    def path(self, relative: str | os.PathLike[str]) -> Path:
        """A path inside the store."""
        return self.folder / relative

    def write_part(self, relative: str | os.PathLike[str],
                   write: Callable[[Path], None]) -> Path:
        """Write one part atomically: ``write(tmp)`` fills a temporary, renamed on success."""
        target = self.folder / relative
        with atomic_path(target) as tmp:
            write(tmp)
        return target

    def write_record(self, relative: str | os.PathLike[str], record: Mapping[str, Any]) -> Path:
        """Write a part's record (atomically, and after its parts: it marks the part done)."""
        return write_json(self.folder / relative, dict(record))

    def record(self, relative: str | os.PathLike[str]) -> dict[str, Any] | None:
        """A part's record, or None when the part is not finished."""
        path = self.folder / relative
        if not path.is_file():
            return None
        return _read_json(path)

    def finished(self, pattern: str = "*.json") -> list[Path]:
        """Records present (finished parts), sorted; the manifest is not one."""
        return sorted(p for p in self.folder.glob(pattern) if p.name != MANIFEST)

    def __iter__(self) -> Iterator[Path]:
        return iter(self.finished())


def _default_mismatch(key: str, words: str, stored: Any, mine: Any) -> str:
    return (f"this store was made with a different {words}: it has {stored!r}, this run has "
            f"{mine!r}; use another folder (or delete this one) to start afresh")
