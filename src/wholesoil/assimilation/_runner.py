"""Checkpointed fan-out of a per-batch calibration over many profiles.

Profile-level calibration (Tao et al. (EarthArXiv) §2.6; PRODA) is embarrassingly parallel: every
profile is fitted on its own. :func:`run_profiles` cuts a list of profile ids into batches of
``batch_size`` (batch ``k`` holds ``profile_ids[k*batch_size:(k+1)*batch_size]``), hands each
batch to a model-independent ``work(ids, seed)`` callable that returns tables keyed by name
(each a :class:`pandas.DataFrame` with a ``profile_id`` column), and checkpoints every finished
batch, so that a job killed at any moment (SIGKILL included) resumes where it stopped.

The checkpoint store ``out`` is a :class:`wholesoil._checkpoint.CheckpointStore` (the one
store of every long job: manifest checked on reopen, parts atomic, a record written last):

- ``out/manifest.json`` names the format, the profile list (and its SHA-256), the batch size,
  the seed and any caller ``settings``; a rerun with a different value of any of them is
  refused with :class:`~wholesoil.errors.InputDataError` naming the field;
- ``out/parts/{name}/batch-{k:05d}.parquet``: each table of batch ``k``, written atomically
  (temporary name, fsync, rename; :mod:`wholesoil._atomic`);
- ``out/records/batch-{k:05d}.json``: the batch's record, written **last** (atomically): a
  record means a complete batch. It lists the batch's profiles, its seed, and per table the
  part's rows and SHA-256.

On a rerun, recorded batches are skipped (never recomputed); a batch whose parts were written
but whose record was not (a kill between the two) is recomputed and its parts overwritten, and
:func:`collect` reads only the parts that records name, so no row is ever duplicated.

Batch seeds are derived from the run seed and the batch index alone (Eq. 1), never from the
order in which batches are scheduled, so an interrupted, resumed, in-process or cluster run
gives the same tables as an uninterrupted one::

    seed_k = SeedSequence(entropy=seed, spawn_key=(k,)).generate_state(1, uint64)[0]    (1)

which is the state of ``SeedSequence(seed).spawn(n)[k]`` (NumPy's documented independent
streams, https://numpy.org/doc/stable/reference/random/parallel.html).

With ``client=None`` batches run one after another in this process; with a
:class:`distributed.Client` (open one with :func:`wholesoil.parallel.dask_client`) they run as
tasks on the cluster, ``work`` shipped by pickle (it must be importable or picklable by value
on the workers), and the results are written by this process as they arrive (``out`` need not
be on a shared filesystem).

References
----------
Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wholesoil._checkpoint import CheckpointStore
from wholesoil._record import file_sha256
from wholesoil.errors import InputDataError

#: Format name and version written into (and checked in) ``manifest.json``.
RUNS_FORMAT = "wholesoil-assimilation-runs"
RUNS_FORMAT_VERSION = 1
MANIFEST = "manifest.json"

#: Table names become folder names: letters, digits, ``_``, ``-`` and ``.``, not leading ``.``.
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")

#: Manifest fields compared on a rerun, with the words used when one differs.
_MANIFEST_CHECKS = (
    ("format_version", "store format version"),
    ("profile_ids", "profile list"),
    ("batch_size", "batch size"),
    ("seed", "seed"),
    ("settings", "settings"),
)

Work = Callable[[list[Any], int], Mapping[str, pd.DataFrame]]


@dataclass(frozen=True)
class RunSummary:
    """What one :func:`run_profiles` call did.

    Attributes
    ----------
    out : Path
        The checkpoint store.
    n_batches : int
        Batches in the run.
    computed : tuple of int
        Batch indices computed (and recorded) by this call.
    reused : tuple of int
        Batch indices already recorded in the store, skipped.
    """

    out: Path
    n_batches: int
    computed: tuple[int, ...]
    reused: tuple[int, ...]


def batch_seed(seed: int, batch_index: int) -> int:
    """Seed of batch ``batch_index`` of a run seeded with ``seed`` (Eq. 1 of the module).

    Depends on ``(seed, batch_index)`` only; distinct batches get independent NumPy streams.
    """
    ss = np.random.SeedSequence(entropy=int(seed), spawn_key=(int(batch_index),))
    return int(ss.generate_state(1, dtype=np.uint64)[0])


def _json_id(pid: Any) -> Any:
    if isinstance(pid, np.generic):
        pid = pid.item()
    if isinstance(pid, bool) or not isinstance(pid, str | int):
        raise InputDataError("profile ids must be strings or integers", field="profile_ids",
                             value=pid, has_value=True)
    return pid


def _check_ids(profile_ids: Sequence[Any]) -> list[Any]:
    ids = [_json_id(p) for p in list(profile_ids)]
    if not ids:
        raise InputDataError("no profiles to run", field="profile_ids", value=[], has_value=True)
    seen: set[Any] = set()
    for pid in ids:
        if pid in seen:
            raise InputDataError("profile ids must be unique; this one repeats",
                                 field="profile_ids", value=pid, has_value=True)
        seen.add(pid)
    return ids


def _ids_sha(ids: list[Any]) -> str:
    return hashlib.sha256(json.dumps(ids).encode()).hexdigest()


class _Store:
    """The run's :class:`~wholesoil._checkpoint.CheckpointStore` with the batch file names."""

    def __init__(self, store: CheckpointStore) -> None:
        self.store = store
        self.folder = store.folder
        self.manifest = store.stored_manifest

    @staticmethod
    def stem(k: int) -> str:
        return f"batch-{k:05d}"

    def record_path(self, k: int) -> Path:
        return self.folder / "records" / f"{self.stem(k)}.json"

    def part_path(self, name: str, k: int) -> Path:
        return self.folder / "parts" / name / f"{self.stem(k)}.parquet"

    def record(self, k: int) -> dict[str, Any] | None:
        return self.store.record(Path("records") / f"{self.stem(k)}.json")

    def write(self, k: int, ids: list[Any], seed: int, tables: dict[str, pd.DataFrame],
              seconds: float) -> None:
        parts = {}
        for name, df in tables.items():
            path = self.store.write_part(Path("parts") / name / f"{self.stem(k)}.parquet",
                                         lambda tmp, df=df: df.to_parquet(tmp, index=False))
            parts[name] = {"rows": len(df), "sha256": file_sha256(path)}
        self.store.write_record(Path("records") / f"{self.stem(k)}.json", {
            "batch": k, "profile_ids": ids, "seed": seed, "tables": parts,
            "seconds": round(seconds, 3),
        })


def _open_store(folder: Path, manifest: dict[str, Any]) -> _Store:
    path = folder / MANIFEST
    stored_sha = "?"
    if path.is_file():  # the stored list's sha256, for the message of a different list
        with contextlib.suppress(json.JSONDecodeError, AttributeError):
            stored_sha = json.loads(path.read_text(encoding="utf-8")).get(
                "profile_ids_sha256", "?")

    def mismatch(key: str, what: str, stored: Any, mine: Any) -> str:
        if key == "profile_ids":
            shown = f"{len(stored or [])} profiles (sha256 {str(stored_sha)[:12]}…)"
            mine = f"{len(mine)} profiles (sha256 {manifest['profile_ids_sha256'][:12]}…)"
        else:
            shown, mine = repr(stored), repr(mine)
        return (f"this store was made with a different {what}: it has {shown}, this run has "
                f"{mine}; use another output folder (or delete this one) to start afresh")

    return _Store(CheckpointStore(
        folder, manifest, format=RUNS_FORMAT, checks=_MANIFEST_CHECKS, mismatch=mismatch,
        foreign_message=f"output folder is not empty and has no {MANIFEST}: refusing to write "
        "batches among other files", subdirs=("records", "parts")))


def _check_tables(result: Any, k: int, ids: list[Any]) -> dict[str, pd.DataFrame]:
    if not isinstance(result, Mapping):
        raise InputDataError(
            f"work must return a dict of DataFrames keyed by table name (batch {k} returned "
            f"a {type(result).__name__})", field="work")
    tables: dict[str, pd.DataFrame] = {}
    allowed = set(ids)
    for name, df in result.items():
        if not isinstance(name, str) or not _TABLE_NAME.match(name):
            raise InputDataError("table names must be letters, digits, '_', '-', '.' (not "
                                 "leading '.')", field="work", value=name, has_value=True)
        if not isinstance(df, pd.DataFrame):
            raise InputDataError(f"table {name!r} of batch {k} is a {type(df).__name__}, not a "
                                 "DataFrame", field=name)
        if "profile_id" not in df.columns:
            raise InputDataError(f"table {name!r} of batch {k} has no profile_id column",
                                 field="profile_id")
        stray = [p for p in pd.unique(df["profile_id"]) if _py(p) not in allowed]
        if stray:
            raise InputDataError(
                f"table {name!r} of batch {k} has rows for profiles outside the batch",
                field="profile_id", value=_py(stray[0]), has_value=True)
        tables[name] = df.reset_index(drop=True)
    return tables


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _timed(work: Work, ids: list[Any], seed: int) -> tuple[Any, float]:
    t0 = time.perf_counter()
    result = work(ids, seed)
    return result, time.perf_counter() - t0


def run_profiles(
    profile_ids: Sequence[Any],
    work: Work,
    out: str | os.PathLike[str],
    *,
    batch_size: int,
    client: Any = None,
    seed: int,
    settings: Mapping[str, Any] | None = None,
) -> RunSummary:
    """Run ``work`` over ``profile_ids`` in batches, checkpointing every finished batch.

    Parameters
    ----------
    profile_ids : sequence of str or int
        Unique profile ids; batch ``k`` is ``profile_ids[k*batch_size:(k+1)*batch_size]``.
    work : callable
        ``work(ids, seed) -> dict[str, DataFrame]``: calibrates one batch (``ids`` a list,
        ``seed`` the batch seed of Eq. 1) and returns tables keyed by name, each with a
        ``profile_id`` column holding only ids of the batch. Must be deterministic given
        ``(ids, seed)`` for a resumed run to equal an uninterrupted one.
    out : path
        Checkpoint store (see the module docstring); created if absent.
    batch_size : int
        Profiles per batch, >= 1.
    client : distributed.Client, optional
        Run the batches as tasks on this client's cluster; None (default): in this process,
        one batch after another.
    seed : int
        Run seed, >= 0; batch seeds follow from it by Eq. 1.
    settings : mapping, optional
        JSON-serializable settings of the calibration (model, iterations, ...), recorded in the
        manifest and compared on a rerun like the seed.

    Returns
    -------
    RunSummary
        Batches computed now and reused from the store. Read the tables with :func:`collect`.

    Raises
    ------
    InputDataError
        Bad ids, batch size or seed; a store made with another profile list, batch size,
        seed or settings (``field`` names which); a non-empty folder without a manifest; a
        ``work`` result that is not tables of this batch's profiles. An exception raised by
        ``work`` propagates after the batches already finished are recorded (in-process) or
        after the batches in flight have finished and been recorded (cluster).
    """
    ids = _check_ids(profile_ids)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) \
            or batch_size < 1:
        raise InputDataError("batch_size must be an integer >= 1", field="batch_size",
                             value=batch_size, has_value=True)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputDataError("seed must be an integer >= 0", field="seed", value=seed,
                             has_value=True)
    batch_size, seed = int(batch_size), int(seed)
    settings_json = json.loads(json.dumps(dict(settings or {}), sort_keys=True))
    manifest = {
        "format": RUNS_FORMAT,
        "format_version": RUNS_FORMAT_VERSION,
        "profile_ids": ids,
        "profile_ids_sha256": _ids_sha(ids),
        "batch_size": batch_size,
        "n_batches": -(-len(ids) // batch_size),
        "seed": seed,
        "seed_rule": "SeedSequence(entropy=seed, spawn_key=(batch,)).generate_state(1, uint64)",
        "settings": settings_json,
    }
    store = _open_store(Path(out), manifest)
    n = manifest["n_batches"]
    batches = [ids[k * batch_size:(k + 1) * batch_size] for k in range(n)]
    reused = [k for k in range(n) if store.record(k) is not None]
    todo = [k for k in range(n) if k not in set(reused)]
    computed: list[int] = []

    if client is None:
        for k in todo:
            s = batch_seed(seed, k)
            result, secs = _timed(work, batches[k], s)
            store.write(k, batches[k], s, _check_tables(result, k, batches[k]), secs)
            computed.append(k)
    else:
        computed = _run_on_client(client, work, store, batches, todo, seed)
    return RunSummary(out=Path(out), n_batches=n, computed=tuple(sorted(computed)),
                      reused=tuple(reused))


def _run_on_client(client: Any, work: Work, store: _Store, batches: list[list[Any]],
                   todo: list[int], seed: int) -> list[int]:
    from distributed import wait

    from wholesoil.parallel import total_threads

    width = 2 * total_threads(client)  # tasks in flight; results are written as they arrive
    queue = iter(todo)
    pending: dict[Any, int] = {}
    computed: list[int] = []
    failure: BaseException | None = None
    try:
        while True:
            while failure is None and len(pending) < width:  # none started after a failure
                k = next(queue, None)
                if k is None:
                    break
                fut = client.submit(_timed, work, batches[k], batch_seed(seed, k), pure=False)
                pending[fut] = k
            if not pending:
                break
            done, _ = wait(list(pending), return_when="FIRST_COMPLETED")
            for fut in done:
                k = pending.pop(fut)
                try:
                    result, secs = fut.result()
                    store.write(k, batches[k], batch_seed(seed, k),
                                _check_tables(result, k, batches[k]), secs)
                except Exception as exc:  # finish (and keep) the batches in flight, then raise
                    failure = failure or exc
                    continue
                computed.append(k)
    except BaseException:  # KeyboardInterrupt and the like: drop what is in flight
        if pending:
            client.cancel(list(pending))
        raise
    if failure is not None:
        raise failure
    return computed


def collect(out: str | os.PathLike[str], *, allow_partial: bool = False) -> dict[str, pd.DataFrame]:
    """Concatenate the recorded parts of a store into final tables, one per name.

    Rows are ordered by the position of their ``profile_id`` in the manifest's profile list
    (the order given to :func:`run_profiles`), rows of one profile in the order ``work``
    returned them; the index is 0..n−1. Only parts named by a batch record are read, and each
    is checked against the SHA-256 in its record.

    Parameters
    ----------
    out : path
        A store written by :func:`run_profiles`.
    allow_partial : bool
        False (default): refuse a store with batches not yet recorded (the error names them).
        True: collect the recorded batches only.

    Raises
    ------
    InputDataError
        No manifest; unfinished batches (unless ``allow_partial``); a part missing or changed
        since its record was written.
    """
    folder = Path(out)
    path = folder / MANIFEST
    if not path.is_file():
        raise InputDataError(f"no {MANIFEST}: not a run_profiles output folder",
                             file=str(folder))
    store = _Store(CheckpointStore.read(folder, format=RUNS_FORMAT))
    manifest = store.manifest
    n = int(manifest["n_batches"])
    records = {k: store.record(k) for k in range(n)}
    missing = [k for k, r in records.items() if r is None]
    if missing and not allow_partial:
        raise InputDataError(
            f"{len(missing)} of {n} batches are not finished (first: {missing[:5]}); rerun "
            "run_profiles with the same settings to finish them, or pass allow_partial=True",
            file=str(folder), field="batches", value=missing, has_value=True)
    frames: dict[str, list[pd.DataFrame]] = {}
    for k in range(n):
        rec = records[k]
        if rec is None:
            continue
        for name, info in rec["tables"].items():
            part = store.part_path(name, k)
            if not part.is_file() or file_sha256(part) != info["sha256"]:
                raise InputDataError(
                    f"part of batch {k} is missing or changed since its record was written; "
                    "delete the record to have run_profiles recompute the batch",
                    file=str(part), field="sha256")
            frames.setdefault(name, []).append(pd.read_parquet(part))
    order = {pid: i for i, pid in enumerate(manifest["profile_ids"])}
    tables = {}
    for name in sorted(frames):
        df = pd.concat(frames[name], ignore_index=True)
        pos = df["profile_id"].map(lambda p: order[_py(p)]).to_numpy()
        df = df.iloc[np.argsort(pos, kind="stable")].reset_index(drop=True)
        tables[name] = df
    return tables
