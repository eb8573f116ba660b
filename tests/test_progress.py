"""wholesoil.progress: quiet mode, the JSON-lines log, plain output off a terminal, and the
``--quiet`` / ``--log-json`` options of the command line."""

from __future__ import annotations

import io
import json
import threading
from datetime import datetime

import pytest
from rich.console import Console
from typer.testing import CliRunner

from wholesoil.cli import app
from wholesoil.progress import progress, settings, step, track, watch

ANSI = "\x1b["


def _console(*, terminal: bool) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=terminal, width=100), buf


def _events(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_quiet_prints_nothing_even_on_a_terminal():
    con, buf = _console(terminal=True)
    with settings(quiet=True, console=con):
        with progress(4, "folds") as advance:
            for _ in range(4):
                advance()
        with step("fit"):
            pass
        assert list(track(range(3), "batches")) == [0, 1, 2]
    assert buf.getvalue() == ""


def test_json_log_has_one_parsable_event_per_step(tmp_path):
    log = tmp_path / "logs" / "run.jsonl"
    con, buf = _console(terminal=False)
    with settings(quiet=True, log_json=log, console=con):
        with progress(5, "CV folds", stage="train-cv", unit="folds") as advance:
            for i in range(5):
                advance(message=f"fold {i + 1}")
    assert buf.getvalue() == ""  # quiet, yet logged
    ev = _events(log)
    # start, one per fold, done
    assert len(ev) == 7
    for e in ev:
        assert set(e) == {"time", "stage", "message", "done", "total"}
        assert e["stage"] == "train-cv" and e["total"] == 5
        assert datetime.fromisoformat(e["time"]).tzinfo is not None
    assert [e["done"] for e in ev] == [0, 1, 2, 3, 4, 5, 5]
    assert ev[1]["message"] == "fold 1"
    assert ev[-1]["message"].startswith("done: CV folds: 5/5 folds in ")


def test_a_failing_step_is_logged_and_prints_no_closing_line(tmp_path):
    log = tmp_path / "run.jsonl"
    con, buf = _console(terminal=False)
    with settings(log_json=log, console=con), pytest.raises(ZeroDivisionError):
        with progress(3, "blocks") as advance:
            advance()
            1 / 0  # noqa: B018
    assert [e["message"] for e in _events(log)] == [
        "start: blocks", "blocks", "failed: ZeroDivisionError"]
    assert buf.getvalue() == ""


def test_off_a_terminal_output_is_plain_lines():
    con, buf = _console(terminal=False)
    with settings(console=con):
        with progress(3, "grid blocks", unit="blocks") as advance:
            for _ in range(3):
                advance()
        with step("final fit"):
            pass
    out = buf.getvalue()
    assert ANSI not in out
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("grid blocks: 3/3 blocks in ") and lines[0].endswith(" s")
    assert lines[1].startswith("final fit: done in ")


def test_on_a_terminal_the_bar_is_drawn_and_the_closing_line_stays():
    con, buf = _console(terminal=True)
    with settings(console=con):
        with progress(2, "folds") as advance:
            advance()
            advance()
    out = buf.getvalue()
    assert ANSI in out  # live display (cursor control, colour)
    assert "folds: 2/2 in " in out


def test_no_color_leaves_no_colour_codes(monkeypatch):
    from wholesoil.cli._common import error_line

    monkeypatch.setenv("NO_COLOR", "1")
    buf = io.StringIO()
    con = Console(file=buf, force_terminal=True)  # rich reads NO_COLOR when it is made
    with settings(console=con):
        error_line("bad.csv row 3: expected a number, got 'x'")
    out = buf.getvalue()
    assert "\x1b[31" not in out and "\x1b[91" not in out and ";31m" not in out
    assert "error:" in out and "bad.csv row 3" in out


def test_advance_from_threads_counts_every_part(tmp_path):
    log = tmp_path / "run.jsonl"
    with settings(quiet=True, log_json=log):
        with progress(400, "blocks") as advance:
            threads = [threading.Thread(target=lambda: [advance() for _ in range(100)])
                       for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    ev = _events(log)
    assert len(ev) == 402
    assert ev[-1]["done"] == 400
    assert sorted(e["done"] for e in ev[1:-1]) == list(range(1, 401))


def test_watch_reports_work_counted_elsewhere(tmp_path):
    log = tmp_path / "run.jsonl"
    state = {"done": 0}
    with settings(quiet=True, log_json=log):
        with watch(lambda: (state["done"], 6), "grid blocks", every_s=0.01):
            state["done"] = 6
    ev = _events(log)
    assert ev[0]["total"] == 6 and ev[-1]["done"] == 6
    assert sum(1 for e in ev if e["message"] == "grid blocks") >= 1


def test_watch_survives_a_failing_counter(tmp_path):
    log = tmp_path / "run.jsonl"

    def broken():
        raise OSError("store not there yet")

    with settings(quiet=True, log_json=log), watch(broken, "blocks", every_s=0.01):
        pass
    assert _events(log)[-1]["done"] == 0


def test_watch_does_nothing_when_nobody_listens():
    calls = []
    with settings(quiet=True), watch(lambda: calls.append(1) or (0, 1), "blocks"):
        pass
    assert calls == []


runner = CliRunner()
SIMULATE = ["simulate", "--model", "clm5", "--mat", "8.5", "--map", "800", "--lat", "45"]


def test_cli_quiet_and_json_log(tmp_path):
    log = tmp_path / "run.jsonl"
    res = runner.invoke(app, ["-q", "--log-json", str(log), *SIMULATE, "--out",
                              str(tmp_path / "a")])
    assert res.exit_code == 0, res.output
    assert res.stderr == ""
    ev = _events(log)
    stages = [e["stage"] for e in ev]
    # the steady-state step (start, one part, done) and one event per output written
    assert stages[:3] == ["simulate"] * 3
    assert ev[2]["done"] == ev[2]["total"] == 1
    assert "output" in stages and "message" in stages
    assert any(e["message"].startswith("wrote run: ") for e in ev)


def test_cli_off_a_terminal_is_plain(tmp_path):
    res = runner.invoke(app, [*SIMULATE, "--out", str(tmp_path / "b")])
    assert res.exit_code == 0, res.output
    assert ANSI not in res.stderr
    lines = res.stderr.splitlines()
    assert lines[0].startswith("clm5 steady states: done in ")
    assert lines[-1].startswith("wrote run: ")


@pytest.mark.slow
def test_train_and_grid_blocks_are_logged(tmp_path):
    """train_job logs its steps; predict_grid_job counts every block of the store (5 × 6 blocks
    of 7 cells for a 30 × 40 grid), and a rerun finds them all done."""
    import numpy as np
    import pandas as pd
    import rioxarray  # noqa: F401  (registers the .rio accessor)
    import xarray as xr

    from wholesoil.io import write_netcdf
    from wholesoil.workflows import predict_grid_job, train_job

    rng = np.random.default_rng(0)
    t = pd.DataFrame({"pid": np.arange(60), "mat": rng.uniform(-5, 25, 60),
                      "map": rng.uniform(300, 1200, 60)})
    t["soc"] = 20 - 0.5 * t["mat"] + 0.01 * t["map"] + rng.normal(0, 1, 60)
    ny, nx = 30, 40
    grid = xr.Dataset(
        {"mat": (("y", "x"), rng.uniform(-5, 25, (ny, nx))),
         "map": (("y", "x"), rng.uniform(300, 1200, (ny, nx)))},
        coords={"y": 70.0 - 0.5 * np.arange(ny), "x": -20.0 + 0.5 * np.arange(nx)},
    ).rio.write_crs("EPSG:4326")
    write_netcdf(grid, tmp_path / "cov.nc")
    log = tmp_path / "run.jsonl"
    with settings(quiet=True, log_json=log):
        train_job(t, "soc", ["mat", "map"], tmp_path / "m", groups="pid",
                  learner_params={"n_estimators": 10}, n_splits=3, importance_repeats=1,
                  pd_rows=20)
        stages = {e["stage"] for e in _events(log)}
        assert {"train-cv", "train-fit", "train-importance", "train-partial-dependence"} <= stages
        for run in (1, 2):
            log.unlink()
            predict_grid_job(tmp_path / "m" / "model", tmp_path / "cov.nc", tmp_path / "p",
                             chunks=7, scheduler="threads", cog=False, maps=False)
            blocks = [e for e in _events(log) if e["stage"] == "predict"]
            assert blocks[-1]["done"] == blocks[-1]["total"] == 30, (run, blocks[-1])
