"""The one writer of ``run.json``, the machine-readable record of a run (DESIGN.md, outputs).

Every workflow and every reproduction ends by calling :func:`write_run_record`, so all records
carry the same core fields::

    command      the command as a user would type it ("wholesoil predict (grid)")
    wholesoil, python, numpy, pandas, platform
                 versions of what ran (torch too, when the run imported it)
    seed         the one seed of the run (when it has one)
    scheduler    the resolved scheduler (threads | processes | an address) of a parallel run
    inputs       what was read, as named by the user (paths or "<DataFrame>")
    input_sha256 SHA-256 of every input that is a file
    parameters   the run's options (reproductions name this key "options")
    timings_s    wall times [s]
    outputs      every file written, relative to the output folder

plus the keys a workflow adds (``extra``). The file is written atomically (temporary name, then
rename), last, so its presence says the run finished.

Light on imports: :mod:`hashlib`, :mod:`json` (through :mod:`wholesoil._atomic`), and numpy and
pandas only to read their versions (every workflow has imported them already).
"""

from __future__ import annotations

import hashlib
import os
import platform
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: Name of the run record in an output folder.
RUN_FILE = "run.json"


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def versions() -> dict[str, str]:
    """Versions of wholesoil, Python, numpy and pandas, and of torch when it was imported."""
    import numpy as np
    import pandas as pd

    from wholesoil import __version__

    out = {"wholesoil": __version__, "python": platform.python_version(),
           "numpy": np.__version__, "pandas": pd.__version__}
    torch = sys.modules.get("torch")
    if torch is not None:
        out["torch"] = str(getattr(torch, "__version__", "unknown"))
    out["platform"] = platform.platform()
    return out


def _relative(value: Any, out: Path) -> Any:
    """Paths (at any depth of dicts and lists) relative to ``out`` where they lie under it."""
    if isinstance(value, Mapping):
        return {str(k): _relative(v, out) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_relative(v, out) for v in value]
    if isinstance(value, str | os.PathLike):
        try:
            return str(Path(value).relative_to(out))
        except ValueError:
            return str(value)
    return value


def _input_label(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, os.PathLike):
        return str(value)
    if isinstance(value, list | tuple):
        return [_input_label(v) for v in value]
    return f"<{type(value).__name__}>"  # an in-memory table, a model object


def _input_hashes(inputs: Mapping[str, Any]) -> dict[str, str]:
    hashes: dict[str, str] = {}
    for name, value in inputs.items():
        values = value if isinstance(value, list | tuple) else [value]
        for i, v in enumerate(values):
            if isinstance(v, str | os.PathLike) and Path(v).is_file():
                key = name if len(values) == 1 else f"{name}[{i}]"
                hashes[key] = file_sha256(v)
    return hashes


def run_record(
    out: str | os.PathLike[str],
    *,
    command: str,
    options: Mapping[str, Any] | None = None,
    seed: int | None = None,
    inputs: Mapping[str, Any] | None = None,
    outputs: Mapping[str, Any] | None = None,
    timings: Mapping[str, float] | None = None,
    scheduler: str | None = None,
    extra: Mapping[str, Any] | None = None,
    options_key: str = "parameters",
) -> dict[str, Any]:
    """The record :func:`write_run_record` writes, as a dict (see the module docstring)."""
    out = Path(out)
    rec: dict[str, Any] = {"command": command, **versions()}
    if seed is not None:
        rec["seed"] = seed
    if scheduler is not None:
        rec["scheduler"] = scheduler
    if inputs is not None:
        rec["inputs"] = {str(k): _input_label(v) for k, v in inputs.items()}
        hashes = _input_hashes(inputs)
        if hashes:
            rec["input_sha256"] = hashes
    if options is not None:
        rec[options_key] = dict(options)
    for key, value in (extra or {}).items():
        if key in rec:
            raise ValueError(f"run record key {key!r} is set twice (core field and extra)")
        rec[key] = value
    if timings is not None:
        rec["timings_s"] = dict(timings)
    if outputs is not None:
        rec["outputs"] = _relative(outputs, out)
    return rec


def write_run_record(
    out: str | os.PathLike[str],
    *,
    command: str,
    options: Mapping[str, Any] | None = None,
    seed: int | None = None,
    inputs: Mapping[str, Any] | None = None,
    outputs: Mapping[str, Any] | None = None,
    timings: Mapping[str, float] | None = None,
    scheduler: str | None = None,
    extra: Mapping[str, Any] | None = None,
    options_key: str = "parameters",
) -> Path:
    """Write ``OUT/run.json`` atomically and return its path.

    Parameters
    ----------
    out : path
        The run's output folder; ``outputs`` under it are recorded relative to it.
    command : str
        The command as typed (``"wholesoil assimilate"``).
    options : mapping, optional
        The run's options, under ``options_key`` (``"parameters"``; reproductions:
        ``"options"``).
    seed : int, optional
        The run's one seed.
    inputs : mapping, optional
        Name → path (or list of paths, or an in-memory object, recorded by its type). Files
        get their SHA-256 under ``input_sha256``.
    outputs : mapping, optional
        Name → path (nested dicts and lists allowed) of every file written.
    timings : mapping, optional
        Wall times [s] under ``timings_s``.
    scheduler : str, optional
        The resolved scheduler (:func:`wholesoil.parallel.parse_scheduler`) of a parallel run.
    extra : mapping, optional
        Further keys of this workflow; a key that clashes with a core field is an error.
    """
    from wholesoil._atomic import write_json

    rec = run_record(out, command=command, options=options, seed=seed, inputs=inputs,
                     outputs=outputs, timings=timings, scheduler=scheduler, extra=extra,
                     options_key=options_key)
    return write_json(Path(out) / RUN_FILE, rec)
