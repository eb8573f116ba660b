"""Progress of long steps: bars on a terminal, plain lines elsewhere, a JSON-lines log.

Workflows report their long loops (grid blocks, cross-validation folds, batches, runs) here; the
pure functions below them never print. One process-wide setting decides what a report shows:

* on a terminal (stderr is a tty) and not quiet: a rich progress bar per step, and one line when
  the step finishes;
* not on a terminal: no bar, no colour, no cursor movement: one plain line when a step finishes
  (and, for steps longer than :data:`PLAIN_EVERY_S`, a line now and then while it runs);
* quiet: nothing on the screen (errors are still printed by the command line);
* with a JSON log (``wholesoil --log-json FILE``): one JSON object per line and event,
  ``{"time", "stage", "message", "done", "total"}``, whether quiet or not.

Colour follows rich's rules: none when stderr is not a terminal or when ``NO_COLOR`` is set.

Examples
--------
>>> from wholesoil.progress import progress, track
>>> with progress(3, "cross-validation folds", stage="train") as advance:
...     for fold in range(3):
...         advance()
>>> total = sum(x for x in track(range(4), "batches"))
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = [
    "PLAIN_EVERY_S",
    "Advance",
    "configure",
    "get_console",
    "is_quiet",
    "log_event",
    "note",
    "progress",
    "settings",
    "step",
    "track",
    "watch",
]

T = TypeVar("T")

#: Off a terminal, a running step prints a line at most this often [s] (its end always prints).
PLAIN_EVERY_S = 30.0

#: Signature of the function :func:`progress` yields: ``advance(n=1, message=None)``.
Advance = Callable[..., None]


@dataclass
class _Settings:
    quiet: bool = False
    log_json: Path | None = None


_settings = _Settings()
_lock = threading.RLock()
#: stderr console shared by the command line and the bars (rich routes prints above a live bar);
#: rebuilt when sys.stderr is replaced, so that colour is decided for the stream in use.
_console: Console | None = None
_console_stream: Any = None
_override: Console | None = None
_live: Progress | None = None
_live_depth = 0


def get_console() -> Console:
    """The stderr console every message and bar goes through (no colour off a terminal)."""
    global _console, _console_stream
    if _override is not None:
        return _override
    with _lock:
        if _console is None or _console_stream is not sys.stderr:
            _console = Console(stderr=True, highlight=False, soft_wrap=True)
            _console_stream = sys.stderr
        return _console


def configure(*, quiet: bool = False, log_json: str | Path | None = None) -> None:
    """Set the process-wide reporting mode (the ``wholesoil`` command calls this once).

    Parameters
    ----------
    quiet : bool
        Print no progress and no notes (errors are the caller's to print).
    log_json : path, optional
        Append one JSON object per event to this file (created with its folder if missing).
    """
    path = None if log_json is None else Path(log_json)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    with _lock:
        _settings.quiet = bool(quiet)
        _settings.log_json = path


@contextlib.contextmanager
def settings(*, quiet: bool = False, log_json: str | Path | None = None,
             console: Console | None = None) -> Iterator[None]:
    """:func:`configure` for a block, restoring the previous mode after it (tests, notebooks).

    ``console`` replaces the stderr console for the block (e.g. one writing to a string).
    """
    global _override
    old = (_settings.quiet, _settings.log_json, _override)
    configure(quiet=quiet, log_json=log_json)
    if console is not None:
        _override = console
    try:
        yield
    finally:
        with _lock:
            _settings.quiet, _settings.log_json, _override = old


def is_quiet() -> bool:
    """Whether the screen is to stay silent."""
    return _settings.quiet


def log_event(stage: str, message: str, done: int | None = None,
              total: int | None = None) -> None:
    """Append one event to the JSON-lines log, if one is set; does nothing otherwise.

    The line is ``{"time": ISO 8601 UTC, "stage", "message", "done", "total"}`` (``done`` and
    ``total`` are null where they do not apply).
    """
    path = _settings.log_json
    if path is None:
        return
    event = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "stage": stage,
        "message": message,
        "done": done,
        "total": total,
    }
    line = json.dumps(event, ensure_ascii=False) + "\n"
    with _lock, open(path, "a", encoding="utf-8") as fh:
        fh.write(line)


def note(message: str, *, stage: str = "result") -> None:
    """Print one plain line on stderr unless quiet, and log it."""
    log_event(stage, message)
    if not _settings.quiet:
        get_console().print(message, markup=False, highlight=False)


def _new_bar() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[count]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=get_console(),
        transient=True,
    )


@contextlib.contextmanager
def _bar_task(description: str, total: int | None,
              single: bool = False) -> Iterator[tuple[Progress, TaskID] | None]:
    """A task on the one live bar display (nested steps share it), or None off a terminal."""
    global _live, _live_depth
    if _settings.quiet or not get_console().is_terminal:
        yield None
        return
    with _lock:
        if _live is None:
            _live = _new_bar()
            _live.start()
        _live_depth += 1
        bar = _live
        # a single step pulses (total None) and shows no count
        task = bar.add_task(description, total=None if single else total,
                            count="" if single else _fmt_done(0, total))
    try:
        yield bar, task
    finally:
        with _lock:
            bar.remove_task(task)
            _live_depth -= 1
            if _live_depth == 0:
                bar.stop()
                _live = None


def _fmt_done(done: int, total: int | None) -> str:
    return f"{done}/{total}" if total is not None else f"{done}"


@contextlib.contextmanager
def progress(total: int | None, description: str, *, stage: str | None = None,
             unit: str = "", _single: bool = False) -> Iterator[Advance]:
    """Report a step of ``total`` parts; yields ``advance(n=1, message=None, *, total=None)``.

    Parameters
    ----------
    total : int or None
        Number of parts (blocks, folds, batches); None while unknown (``advance(total=...)``
        sets it later).
    description : str
        What the step does, shown beside the bar and in the log, e.g. ``"CV folds"``.
    stage : str, optional
        Machine-readable name of the step in the JSON log (default: ``description``).
    unit : str
        Word printed after the count in the closing line, e.g. ``"blocks"``.

    ``advance(n, message)`` says that ``n`` more parts are done, ``message`` naming what was
    just done (shown beside the bar, logged). The closing line reads ``"<description>:
    <done>/<total> <unit> in <s> s"``; a step that raises logs ``"failed: <error type>"`` and
    prints nothing (the caller reports the error). Reporting never changes what the step
    computes; ``advance`` may be called from threads.
    """
    stage = stage or description
    state: dict[str, Any] = {"done": 0, "total": total, "last": time.monotonic()}
    t0 = time.monotonic()
    log_event(stage, f"start: {description}", 0, total)
    plain = not _settings.quiet and not get_console().is_terminal

    with _bar_task(description, total, _single) as handle:

        def advance(n: int = 1, message: str | None = None, *, total: int | None = None) -> None:
            with _lock:
                state["done"] += n
                if total is not None:
                    state["total"] = total
                done, tot = state["done"], state["total"]
                now = time.monotonic()
                due = plain and now - state["last"] >= PLAIN_EVERY_S
                if due:
                    state["last"] = now
            log_event(stage, message or description, done, tot)
            if handle is not None:
                bar, task = handle
                if not _single:
                    bar.update(task, advance=n, total=tot, count=_fmt_done(done, tot),
                               description=f"{description}: {message}" if message
                               else description)
            elif due:
                get_console().print(f"{description}: {_fmt_done(done, tot)} {unit}".rstrip()
                                    + " …", markup=False, highlight=False)

        try:
            yield advance
        except GeneratorExit:  # a track() whose consumer stopped early
            log_event(stage, "stopped", state["done"], state["total"])
            raise
        except BaseException as exc:
            log_event(stage, f"failed: {type(exc).__name__}", state["done"], state["total"])
            raise
    elapsed = time.monotonic() - t0
    if _single:
        line = f"{description}: done in {elapsed:.1f} s"
    else:
        line = f"{description}: {_fmt_done(state['done'], state['total'])} {unit}".rstrip()
        line = f"{line} in {elapsed:.1f} s"
    log_event(stage, f"done: {line}", state["done"], state["total"])
    if not _settings.quiet:
        get_console().print(line, markup=False, highlight=False)


@contextlib.contextmanager
def step(description: str, *, stage: str | None = None) -> Iterator[None]:
    """One indivisible long step (a solver call, a fit): a spinner, then ``"<description>:
    done in <s> s"``; logged as a step of one part."""
    with progress(1, description, stage=stage, _single=True) as advance:
        yield
        advance()


@contextlib.contextmanager
def watch(count: Callable[[], tuple[int, int | None]], description: str, *,
          stage: str | None = None, unit: str = "", every_s: float = 0.5) -> Iterator[None]:
    """Report work done elsewhere (a library loop, a cluster) by polling ``count``.

    ``count()`` returns ``(done, total)`` (total None while unknown); a thread calls it every
    ``every_s`` seconds while the block runs, and once more at its end. It must not raise (an
    exception counts as "no news"). Nothing polls when nobody would see it (quiet, no log).
    """
    if _settings.quiet and _settings.log_json is None:
        yield
        return

    def poll() -> tuple[int, int | None] | None:
        try:
            return count()
        except Exception:  # progress must never break the job it reports on
            return None

    first = poll()
    seen = {"done": 0}
    stop = threading.Event()
    with progress(None if first is None else first[1], description, stage=stage,
                  unit=unit) as advance:

        def update() -> None:
            got = poll()
            if got is None:
                return
            done, total = got
            with _lock:
                delta = done - seen["done"]
                seen["done"] = max(done, seen["done"])
            if delta > 0:
                advance(delta, total=total)

        def loop() -> None:
            while not stop.wait(every_s):
                update()

        thread = threading.Thread(target=loop, name="wholesoil-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
        update()


def track(iterable: Iterable[T], description: str, *, total: int | None = None,
          stage: str | None = None, unit: str = "") -> Iterator[T]:
    """Yield the items of ``iterable`` unchanged, advancing a :func:`progress` step per item.

    ``total`` defaults to ``len(iterable)`` when it has one.
    """
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    with progress(total, description, stage=stage, unit=unit) as advance:
        for item in iterable:
            yield item
            advance()



@contextlib.contextmanager
def warnings_as_notes(*, stage: str = "warning") -> Iterator[list[str]]:
    """Collect Python warnings raised inside the block and report each once as a note line.

    The line is ``"note: <Category>: <message>"``: no source path or line number (those name
    the library's internals, not anything a user can act on). Returns, as the context value,
    the list of the lines reported (filled when the block ends). Warnings still raise where a
    filter turns them into errors before this block (``-W error``).
    """
    lines: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield lines
        finally:
            seen: set[str] = set()
            for w in caught:
                msg = " ".join(str(w.message).split())
                line = f"note: {w.category.__name__}: {msg}"
                if line not in seen:
                    seen.add(line)
                    lines.append(line)
            for line in lines:
                note(line, stage=stage)
