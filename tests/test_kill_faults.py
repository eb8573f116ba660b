"""Issue 18, faults: ``kill -9`` at random moments of harmonize, qc and a checkpointed job.

Each try forks a child (this process has already imported wholesoil, so a try costs no
interpreter start) that runs the job, and kills it with SIGKILL after a random delay drawn
over the job's measured duration. After every kill:

- no output is partial: each output is absent, or whole and equal to the uninterrupted run's
  (or, for a two-file output, the files of one run: never a half-written table);
- the next run succeeds, leaves no stale temporary (``.NAME.<pid>.*.tmp`` / ``.bak``) and gives
  outputs byte-identical to an uninterrupted run (for the checkpointed job: the resumed
  tables equal the uninterrupted ones).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)"),
]

TRIES = 20


def _table(path: Path, n_profiles: int = 1500, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_profiles):
        edges = np.r_[0, np.cumsum(rng.integers(5, 40, size=rng.integers(2, 7)))]
        for k in range(edges.size - 1):
            rows.append((f"P{p:05d}", float(edges[k]), float(edges[k + 1]),
                         float(rng.uniform(1, 80)), float(rng.uniform(0.6, 1.7))))
    pd.DataFrame(rows, columns=["profile_id", "top", "bottom", "soc", "bd"]).to_csv(
        path, index=False)


def _in_child(fn) -> int:
    """Run ``fn`` in a forked child; return its pid (the child exits 0 on success, 1 if not)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            fn()
            code = 0
        finally:
            os._exit(code)
    return pid


def _wait(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return status


def _timed(fn) -> float:
    t0 = time.perf_counter()
    assert os.waitstatus_to_exitcode(_wait(_in_child(fn))) == 0
    return time.perf_counter() - t0


def _kill_at(fn, delay: float) -> bool:
    """Run ``fn`` in a child and SIGKILL it after ``delay`` s; True if the kill cut it short."""
    pid = _in_child(fn)
    time.sleep(delay)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return os.WIFSIGNALED(_wait(pid))


def _stale(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*") if p.suffix in (".tmp", ".bak")]


def _read_bytes(paths) -> dict[str, bytes | None]:
    return {p.name: (p.read_bytes() if p.exists() else None) for p in paths}


def _check_single_file_job(tmp_path: Path, job, outputs: list[Path]) -> None:
    """Kill ``job`` 20 times; outputs are all-or-nothing and the rerun is identical."""
    rng = np.random.default_rng(2026)
    duration = _timed(job)
    reference = _read_bytes(outputs)
    assert all(v is not None for v in reference.values())
    killed = 0
    for _ in range(TRIES):
        for p in outputs:
            p.unlink(missing_ok=True)
        killed += _kill_at(job, float(rng.uniform(0.0, duration * 1.1)))
        got = _read_bytes(outputs)
        for name, data in got.items():  # each file absent or whole, never half-written
            assert data is None or data == reference[name], f"{name} is partial"
        job()  # the next run, in this process
        assert _read_bytes(outputs) == reference
        assert _stale(tmp_path) == [], "a temporary of a killed run was left behind"
    assert killed >= TRIES // 2, f"only {killed} of {TRIES} tries were cut short"


def test_kill_harmonize(tmp_path):
    from wholesoil.workflows import harmonize_job

    src, out = tmp_path / "h.csv", tmp_path / "out" / "layers.csv"
    _table(src)
    _check_single_file_job(
        tmp_path, lambda: harmonize_job(src, "soc", out, qc="repair"),
        [out, out.with_name("layers.qc.csv")])


def test_kill_qc(tmp_path):
    from wholesoil.workflows import qc_job

    src, out = tmp_path / "h.csv", tmp_path / "out" / "clean.csv"
    _table(src)
    _check_single_file_job(tmp_path, lambda: qc_job(src, out, rules={"gap": "flag"}),
                           [out, out.with_name("clean.qc.csv")])


def _checkpointed(out: Path) -> None:
    from wholesoil.assimilation._runner import run_profiles

    def work(ids, seed):
        rng = np.random.default_rng(seed)
        time.sleep(0.01)
        return {"draws": pd.DataFrame({"profile_id": np.repeat(ids, 50),
                                       "x": rng.normal(size=50 * len(ids))})}

    run_profiles([f"P{i:03d}" for i in range(60)], work, out, batch_size=3, seed=11)


def test_kill_checkpointed_job_resumes_identically(tmp_path):
    from wholesoil.assimilation._runner import collect

    ref_dir = tmp_path / "reference"
    _checkpointed(ref_dir)
    reference = collect(ref_dir)["draws"]
    duration = _timed(lambda: _checkpointed(tmp_path / "timing"))
    rng = np.random.default_rng(7)
    killed = 0
    for i in range(TRIES):
        out = tmp_path / f"run{i}"
        killed += _kill_at(lambda out=out: _checkpointed(out), float(rng.uniform(0.0, duration)))
        if (out / "manifest.json").exists():  # recorded batches are whole (SHA-256 checked)
            partial = collect(out, allow_partial=True).get("draws")
            if partial is not None:
                n = len(partial)
                pd.testing.assert_frame_equal(partial, reference.iloc[:n].reset_index(drop=True))
        _checkpointed(out)  # resume
        pd.testing.assert_frame_equal(collect(out)["draws"], reference)
        assert _stale(out) == []
    assert killed >= TRIES // 2, f"only {killed} of {TRIES} tries were cut short"
