"""The reproduction framework: the files every reproduction writes (specs/reproductions.md)."""

from __future__ import annotations

import json
import sys
import types

import matplotlib
import pandas as pd
import pytest
from typer.testing import CliRunner

from wholesoil.reproduce import (
    COLUMNS,
    REPRODUCTIONS,
    ReproductionSpec,
    register,
    run_reproduction,
)

matplotlib.use("Agg")


def _fake_module(name: str) -> str:
    mod = types.ModuleType(name)

    def run(ctx, **options):
        import matplotlib.pyplot as plt

        for k, v in options.items():
            ctx.option(f"set_{k}", v)

        calls = []
        value = ctx.cached("square", lambda: calls.append(1) or {"x": 3.0 ** 2}, k=1)
        ctx.option("choice", "exact")
        ctx.row("nine", "three squared", "-", 9, value["x"], low=8.5, high=9.5, n=1,
                note="closed form")
        ctx.row("missing", "not computable here", "Pg C", 1281, None, note="no data bundled")
        ctx.table("values", pd.DataFrame({"x": [1.0, 2.0]}))
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1])
        ax.set_xlabel("x [-]")
        ctx.figure("line", fig, "A line.")
        ctx.options["calls"] = len(calls)

    mod.run = run
    sys.modules[name] = mod
    return name


@pytest.fixture
def fake():
    name = _fake_module("wholesoil_test_fake_reproduction")
    spec = register(ReproductionSpec("fake", name, "A fake paper", "Nobody (2026). Nowhere.",
                                     "nothing", (("size", "how many"), ("flag", "on or off"))))
    yield spec
    REPRODUCTIONS.pop("fake", None)
    sys.modules.pop(name, None)


def test_files_and_columns(tmp_path, fake):
    _ctx, outputs = run_reproduction("fake", tmp_path, quick=True, seed=3)
    table = pd.read_csv(tmp_path / "comparison.csv")
    assert tuple(table.columns) == COLUMNS
    assert table.quantity.tolist() == ["nine", "missing"]
    assert table.ours[0] == 9.0 and pd.isna(table.ours[1])
    assert table.note.tolist() == ["quick; closed form", "quick; no data bundled"]
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["seed"] == 3 and run["quick"] is True and run["options"]["choice"] == "exact"
    assert (tmp_path / "figures" / "line.png").stat().st_size > 0
    assert (tmp_path / "tables" / "values.csv").is_file()
    html = (tmp_path / "index.html").read_text()
    assert "three squared" in html and "<img" in html
    assert set(outputs) == {"comparison", "run", "index"}


def test_cached_step_resumes(tmp_path, fake):
    run_reproduction("fake", tmp_path, quick=True)
    assert json.loads((tmp_path / "run.json").read_text())["options"]["calls"] == 1
    run_reproduction("fake", tmp_path, quick=True)   # second run reads the cache
    assert json.loads((tmp_path / "run.json").read_text())["options"]["calls"] == 0


def test_row_without_value_needs_a_reason(tmp_path):
    from wholesoil.reproduce import Reproduction

    ctx = Reproduction("x", "t", "c", tmp_path)
    with pytest.raises(ValueError, match="no note"):
        ctx.row("a", "b", "c", 1.0, None)
    ctx.row("a", "b", "c", 1.0, 2.0)
    with pytest.raises(ValueError, match="twice"):
        ctx.row("a", "b", "c", 1.0, 2.0)


def test_cli_lists_registry_and_runs(tmp_path, fake):
    from wholesoil.cli import app

    r = CliRunner().invoke(app, ["reproduce", "--help"])
    assert r.exit_code == 0
    for name in ("beta-depth", "deep-soc", "cue-vs-input", "proda-convergence", "root-inputs"):
        assert name in r.output
    r = CliRunner().invoke(app, ["reproduce", "fake", "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    assert "nine" in r.output and (tmp_path / "o" / "comparison.csv").is_file()
    r = CliRunner().invoke(app, ["reproduce", "nonesuch", "--out", str(tmp_path / "p")])
    assert r.exit_code == 2 and "unknown reproduction" in r.output


def test_cli_set_passes_typed_options_and_refuses_unknown(tmp_path, fake):
    """``--set NAME=VALUE`` reaches the reproduction's run as typed options (recorded in
    run.json); an unknown name or a malformed item is refused naming the accepted ones, and
    ``--set help=1`` lists them without running."""
    from wholesoil.cli import app

    out = tmp_path / "o"
    r = CliRunner().invoke(app, ["reproduce", "fake", "--out", str(out), "--set", "size=96",
                                 "--set", "flag=true"])
    assert r.exit_code == 0, r.output
    opts = json.loads((out / "run.json").read_text())["options"]
    assert opts["set_size"] == 96 and opts["set_flag"] is True
    r = CliRunner().invoke(app, ["reproduce", "fake", "--out", str(out), "--set", "sise=3"])
    assert r.exit_code == 2 and "its options are size, flag" in r.output
    r = CliRunner().invoke(app, ["reproduce", "fake", "--out", str(out), "--set", "size"])
    assert r.exit_code == 2 and "NAME=VALUE" in r.output
    r = CliRunner().invoke(app, ["reproduce", "fake", "--out", str(tmp_path / "h"), "--set",
                                 "help=1"])
    assert r.exit_code == 0 and "size: how many" in r.output
    assert not (tmp_path / "h" / "comparison.csv").exists()
