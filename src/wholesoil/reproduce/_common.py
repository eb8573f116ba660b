"""What every reproduction writes: the comparison table, run record, tables, figures, index page.

A reproduction module defines ``run(ctx: Reproduction) -> None``. It records its numbers with
:meth:`Reproduction.row` (one row per number the paper reports), the tables behind its figures
with :meth:`Reproduction.table`, figures with :meth:`Reproduction.figure`, every analysis choice
with :meth:`Reproduction.option` and every data file it read with :meth:`Reproduction.data`.
:meth:`Reproduction.finish` then writes, atomically:

``comparison.csv``
    ``quantity, label, unit, paper, ours, ours_low, ours_high, n, note`` in the order the rows
    were added; a quantity that cannot be computed keeps ``ours`` empty and says why in ``note``.
``run.json``
    versions, options, seed, data checksums, wall time, outputs.
``tables/*.csv``, ``figures/*.png``
    what the figures show, and the figures.
``index.html``
    the comparison table and the figures, readable offline.

Long steps are wrapped in :meth:`Reproduction.cached`: their result is stored under
``DIR/cache/`` keyed by the step's name and options (a
:class:`wholesoil._checkpoint.CheckpointStore` per step, its record written last), so a killed
run resumes after the last finished step (a changed option recomputes).

Rule (``specs/reproductions.md``): the paper's numbers are written beside ours and never used by
the computation.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wholesoil._atomic import save_figure, write_json, write_text
from wholesoil._record import file_sha256, write_run_record
from wholesoil.errors import InputDataError

#: Columns of ``comparison.csv`` (``specs/reproductions.md``), in order.
COLUMNS: tuple[str, ...] = (
    "quantity", "label", "unit", "paper", "ours", "ours_low", "ours_high", "n", "note",
)


@dataclass
class Row:
    """One number the paper reports, with ours beside it."""

    quantity: str
    label: str
    unit: str
    paper: str | float | None
    ours: float | str | None = None
    ours_low: float | None = None
    ours_high: float | None = None
    n: int | None = None
    note: str = ""


def _finite(x: Any) -> float | str | None:
    if x is None:
        return None
    if isinstance(x, str):
        return x
    v = float(x)
    return v if math.isfinite(v) else None


@dataclass
class Reproduction:
    """The run of one reproduction: its options, rows, tables and figures.

    Parameters
    ----------
    name : str
        The reproduction's command name (``root-inputs``, …).
    title, citation : str
        The paper reproduced, as a reader would cite it (authors, year, journal, DOI).
    out : path
        Output folder.
    quick : bool
        Subset and fewer iterations (every row's note then says ``quick``).
    seed : int
        One seed for every random draw.
    workers : int, optional
        Processes/threads a reproduction may use (``None``: the machine's cores).
    """

    name: str
    title: str
    citation: str
    out: Path
    quick: bool = False
    seed: int = 0
    workers: int | None = None
    rows: list[Row] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    data_files: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    tables: dict[str, Path] = field(default_factory=dict)
    figures: list[tuple[Path, str]] = field(default_factory=list)
    t0: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        self.out.mkdir(parents=True, exist_ok=True)

    # ----------------------------------------------------------------- recording
    def row(
        self,
        quantity: str,
        label: str,
        unit: str,
        paper: str | float | None,
        ours: float | str | None = None,
        *,
        low: float | None = None,
        high: float | None = None,
        n: int | None = None,
        note: str = "",
    ) -> None:
        """Add one row; ``ours=None`` (or NaN) with a ``note`` saying why it is missing."""
        if any(r.quantity == quantity for r in self.rows):
            raise ValueError(f"row {quantity!r} added twice")
        ours_v = _finite(ours)
        if ours_v is None and not note:
            raise ValueError(f"row {quantity!r} has no value and no note saying why")
        self.rows.append(Row(quantity, label, unit, paper, ours_v, _finite(low), _finite(high),
                             None if n is None else int(n), note))

    def option(self, key: str, value: Any) -> None:
        """Record an analysis choice (in ``run.json`` and on the index page)."""
        self.options[key] = value

    def note(self, text: str) -> None:
        """A sentence for the index page and ``run.json`` (a caveat, a count)."""
        self.notes.append(text)

    def data(self, path: str | os.PathLike[str], label: str | None = None) -> Path:
        """Record a data file read (its SHA-256 goes into ``run.json``); returns the path."""
        p = Path(path)
        self.data_files[label or p.name] = file_sha256(p)
        return p

    def table(self, name: str, df: pd.DataFrame, *, index: bool = False) -> Path:
        """Write ``tables/NAME.csv`` (a table behind a figure or a number)."""
        path = self.out / "tables" / f"{name}.csv"
        write_text(path, df.to_csv(index=index, float_format="%.6g"))
        self.tables[name] = path
        return path

    def figure(self, name: str, fig: Any, caption: str) -> Path:
        """Save ``figures/NAME.png`` (closed afterwards) with its caption for the index page."""
        import matplotlib.pyplot as plt

        path = save_figure(fig, self.out / "figures" / f"{name}.png")
        plt.close(fig)
        self.figures.append((path, caption))
        return path

    # ----------------------------------------------------------------- resume
    def is_cached(self, step: str, **key: Any) -> bool:
        """Whether :meth:`cached` holds a finished result for (step, key)."""
        from wholesoil._checkpoint import CheckpointStore

        ident = {"step": step, "quick": self.quick, "seed": self.seed, **key}
        digest = hashlib.sha256(
            json.dumps(ident, sort_keys=True, default=str).encode()
        ).hexdigest()[:16]
        folder = self.out / "cache" / f"{step}-{digest}"
        if not folder.is_dir():
            return False
        store = CheckpointStore(folder, ident, refuse_foreign=False)
        return store.record("done.json") is not None

    def cached(self, step: str, compute: Callable[[], Any], **key: Any) -> Any:
        """Run ``compute()`` once per (step, key) and keep its result under ``cache/``.

        The result must be a DataFrame, a dict of DataFrames, or JSON-able data (no pickle:
        cached files are Parquet and JSON only). A run killed after a step resumes from it.
        """
        from wholesoil._checkpoint import CheckpointStore

        ident = {"step": step, "quick": self.quick, "seed": self.seed, **key}
        digest = hashlib.sha256(
            json.dumps(ident, sort_keys=True, default=str).encode()
        ).hexdigest()[:16]
        store = CheckpointStore(self.out / "cache" / f"{step}-{digest}", ident,
                                refuse_foreign=False)
        done = store.record("done.json")
        if done is not None:
            kind = done["kind"]
            if kind == "frame":
                return pd.read_parquet(store.path("value.parquet"))
            if kind == "frames":
                return {n: pd.read_parquet(store.path(f"{i}.parquet"))
                        for i, n in enumerate(done["names"])}
            return json.loads(store.path("value.json").read_text(encoding="utf-8"))
        value = compute()
        if isinstance(value, pd.DataFrame):
            _write_parquet(store, value, "value.parquet")
            store.write_record("done.json", {"kind": "frame"})
        elif isinstance(value, dict) and value and all(
                isinstance(v, pd.DataFrame) for v in value.values()):
            names = list(value)
            for i, n in enumerate(names):
                _write_parquet(store, value[n], f"{i}.parquet")
            store.write_record("done.json", {"kind": "frames", "names": names})
        else:
            write_json(store.path("value.json"), value)
            store.write_record("done.json", {"kind": "json"})
        return value

    # ----------------------------------------------------------------- output
    def comparison(self) -> pd.DataFrame:
        """The comparison table (``COLUMNS``), ``quick`` added to every note in a quick run."""
        df = pd.DataFrame([r.__dict__ for r in self.rows], columns=list(COLUMNS))
        if self.quick:
            df["note"] = [("quick; " + n) if n else "quick" for n in df["note"]]
        return df

    def finish(self) -> dict[str, Path]:
        """Write ``comparison.csv``, ``run.json`` and ``index.html``; print the table."""
        table = self.comparison()
        outputs: dict[str, Path] = {}
        outputs["comparison"] = self.out / "comparison.csv"
        write_text(outputs["comparison"], table.to_csv(index=False, float_format="%.6g"))
        outputs["run"] = write_run_record(
            self.out, command=f"wholesoil reproduce {self.name}", seed=self.seed,
            options=self.options, options_key="options",
            extra={"paper": self.citation, "argv": sys.argv, "quick": self.quick,
                   "workers": self.workers, "data_sha256": self.data_files,
                   "notes": self.notes,
                   "wall_time_s": round(time.perf_counter() - self.t0, 3)},
            outputs={"comparison": "comparison.csv", "tables": self.tables,
                     "figures": [p for p, _ in self.figures]},
        )
        outputs["index"] = self._index(table)
        return outputs

    def _index(self, table: pd.DataFrame) -> Path:
        from wholesoil.report import Report

        rep = Report(f"wholesoil reproduce {self.name}", root=self.out)
        rep.text(self.title)
        rep.text(self.citation)
        if self.quick:
            rep.note("Quick run: a subset of the data and fewer iterations (--quick). "
                     "Numbers are indicative; the full run uses the paper's sizes.")
        rep.heading("Our numbers beside the paper's")
        rep.table(table, caption="comparison.csv: paper = as printed in the paper; ours = this "
                  "run; ours_low/high = our interval where the paper gives one; n = sample size "
                  "behind ours; note = why the two may differ.")
        if self.notes:
            rep.heading("Notes")
            rep.bullets(self.notes)
        if self.figures:
            rep.heading("Figures")
            for path, caption in self.figures:
                rep.figure(path, caption)
        rep.heading("Choices")
        rep.parameters({k: v for k, v in self.options.items()})
        return rep.write(self.out / "index.html")


def _write_parquet(store: Any, df: pd.DataFrame, name: str) -> None:
    store.write_part(name, lambda tmp: df.to_parquet(tmp, index=True))


def format_comparison(table: pd.DataFrame) -> str:
    """The comparison as aligned plain text (printed at the end of a run)."""
    show = table[["quantity", "unit", "paper", "ours", "ours_low", "ours_high", "n"]].copy()

    def fmt(v: Any) -> str:
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            return ""
        if isinstance(v, float | np.floating):
            return f"{v:.4g}"
        return str(v)

    for c in ("paper", "ours", "ours_low", "ours_high", "n"):
        show[c] = [fmt(v) for v in show[c]]
    return show.to_string(index=False)


def require(condition: bool, message: str, **where: Any) -> None:
    """Raise a located :class:`InputDataError` when a reproduction's data check fails."""
    if not condition:
        raise InputDataError(message, **where)
