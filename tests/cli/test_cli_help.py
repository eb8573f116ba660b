"""Every command of ``wholesoil`` as a user meets it: help with an example, one-line errors.

The commands are enumerated from the typer app after the per-area modules registered theirs, so a
new command is checked without editing this file, except for :data:`BAD_INPUT`, which must name a
bad-input case for every command (the completeness test says which one is missing).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from wholesoil.cli import app

runner = CliRunner()
TESTS = Path(__file__).resolve().parents[1]


def _walk(cmd, path=()):
    if isinstance(cmd, TyperGroup):
        if path:
            yield path
        for name, sub in sorted(cmd.commands.items()):
            yield from _walk(sub, (*path, name))
    else:
        yield path


COMMANDS = list(_walk(typer.main.get_command(app)))


def _ids(paths):
    return [" ".join(p) for p in paths]


def _error_line(res) -> str:
    """The single stderr line of a failed command (asserting there is exactly one)."""
    assert res.exit_code != 0, res.output
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "\x1b[" not in lines[0]  # no colour off a terminal
    return lines[0]


def test_commands_are_enumerated():
    names = set(_ids(COMMANDS))
    # the core commands and those registered by the area modules
    assert {"harmonize", "train", "predict", "demo", "inputs", "mixed", "anova", "c14",
            "c14 forward", "c14 age", "c14 profile"} <= names


def test_top_level_help_has_example_and_global_options():
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    text = " ".join(res.output.split())
    assert "Example: wholesoil demo" in text
    assert "--quiet" in text and "--log-json" in text


@pytest.mark.parametrize("path", COMMANDS, ids=_ids(COMMANDS))
def test_help_has_a_runnable_looking_example(path):
    res = runner.invoke(app, [*path, "--help"])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert re.search(r"Examples?:", text), f"`wholesoil {' '.join(path)} --help` has no example"
    after = text[re.search(r"Examples?:", text).end():]
    assert f"wholesoil {' '.join(path)}" in after, after[:200]


def test_help_shows_units_in_brackets():
    # rich markup would swallow "[cm]" and "[g/kg]"; the group escapes help texts
    res = runner.invoke(app, ["density", "--help"])
    assert "[g/kg]" in res.output and "[cm]" in res.output


@pytest.mark.parametrize("path", COMMANDS, ids=_ids(COMMANDS))
def test_unknown_option_is_one_line(path):
    res = runner.invoke(app, [*path, "--no-such-option"])
    assert res.exit_code == 2
    line = _error_line(res)
    assert "--no-such-option" in line and f"wholesoil {' '.join(path)} --help" in line


def test_missing_option_is_one_line():
    res = runner.invoke(app, ["harmonize", "h.csv", "-o", "x.csv"])
    assert _error_line(res) == (
        "error: Missing option '--variable'. (see 'wholesoil harmonize --help')")


def test_no_arguments_prints_help():
    res = runner.invoke(app, [])
    assert "Usage: wholesoil" in res.output and "Traceback" not in res.output


MISSING = "no/such/input.csv"

#: One bad input per command: the arguments (with {missing} for a file that does not exist and
#: {out} for an output path) and a piece of the one-line message. Commands with an input file
#: get a missing file; the others an invalid option value.
BAD_INPUT: dict[str, tuple[list[str], str]] = {
    "harmonize": (["harmonize", "{missing}", "--variable", "soc", "-o", "{out}"], "{missing}"),
    "qc": (["qc", "{missing}", "-o", "{out}"], "{missing}"),
    "density": (["density", "{missing}", "-o", "{out}"], "{missing}"),
    "beta": (["beta", "{missing}", "-o", "{out}"], "{missing}"),
    "train": (["train", "{missing}", "--target", "soc", "--features", "a,b", "--out", "{out}"],
              "{missing}"),
    "predict": (["predict", "no/such/model", "{missing}", "--out", "{out}"], "no/such/model"),
    "stocks": (["stocks", "no/such/grid.nc", "--out", "{out}"], "no/such/grid.nc"),
    "simulate": (["simulate", "--sites", "{missing}", "--out", "{out}"], "{missing}"),
    "sensitivity": (["sensitivity", "--model", "nope", "--out", "{out}"], "nope"),
    "assimilate": (["assimilate", "{missing}", "--out", "{out}"], "{missing}"),
    "demo": (["demo", "--seed", "many", "--out", "{out}"], "--seed"),
    "inputs": (["inputs", "{missing}", "--out", "{out}"], "{missing}"),
    "mixed": (["mixed", "{missing}", "--formula", "y ~ x", "--group", "g", "--out", "{out}"],
              "{missing}"),
    "anova": (["anova", "{missing}", "--response", "y", "--group", "g", "--out", "{out}"],
              "{missing}"),
    "c14": (["c14", "age", "--d14c", "50", "--year", "2005", "--zone", "Mars"], "Mars"),
    "c14 forward": (["c14", "forward", "--k", "-1", "--years", "2000"], "-1"),
    "c14 age": (["c14", "age", "--d14c", "fifty", "--year", "2005"], "--d14c"),
    "c14 profile": (["c14", "profile", "no/such/israd", "--out", "{out}"], "no/such/israd"),
    "proda": (["proda", "e2e", "{missing}", "climate", "--out", "{out}"], "{missing}"),
    "proda train": (["proda", "train", "no/such/assimilate", "climate", "--out", "{out}"],
                    "no/such/assimilate"),
    "proda map": (["proda", "map", "no/such/network", "climate", "--out", "{out}"],
                  "no/such/network"),
    "proda e2e": (["proda", "e2e", "{missing}", "climate", "--out", "{out}"], "{missing}"),
    "reproduce": (["reproduce", "no-such-paper", "--out", "{out}"], "no-such-paper"),
    "datasets": (["datasets", "no-such-data"], "no-such-data"),
}


def test_every_command_has_a_bad_input_case():
    missing = sorted(set(_ids(COMMANDS)) - set(BAD_INPUT))
    assert not missing, f"add a bad-input case to BAD_INPUT for: {missing}"


@pytest.mark.parametrize("name", sorted(BAD_INPUT))
def test_bad_input_gives_one_line_and_nonzero_status(name, tmp_path, monkeypatch):
    assert name in _ids(COMMANDS), f"BAD_INPUT names `wholesoil {name}`, which is not a command"
    monkeypatch.chdir(tmp_path)
    args, expect = BAD_INPUT[name]
    fill = {"missing": MISSING, "out": str(tmp_path / "out")}
    res = runner.invoke(app, [a.format(**fill) for a in args])
    line = _error_line(res)
    assert expect.format(**fill) in line
    assert not (tmp_path / "out").exists()


#: A table that is a table but not what the command needs (a column missing, text for numbers).
BAD_TABLE = "profile_id,top,bottom,soc\nP1,0,10,5\nP1,10,x,4\n"

BAD_DATA: dict[str, tuple[list[str], str]] = {
    "harmonize": (["harmonize", "{bad}", "--variable", "soc", "-o", "{out}"], "row 3"),
    "qc": (["qc", "{bad}", "-o", "{out}"], "bad.csv"),
    "density": (["density", "{bad}", "-o", "{out}"], "bad.csv"),
    "beta": (["beta", "{bad}", "-o", "{out}"], "bad.csv"),
    "train": (["train", "{bad}", "--target", "soc", "--features", "clay", "--out", "{out}"],
              "clay"),
    "inputs": (["inputs", "{bad}", "--out", "{out}"], "bad.csv"),
    "mixed": (["mixed", "{bad}", "--formula", "soc ~ clay", "--group", "profile_id",
               "--out", "{out}"], "clay"),
    "anova": (["anova", "{bad}", "--response", "soc", "--group", "biome", "--out", "{out}"],
              "biome"),
    "assimilate": (["assimilate", "{bad}", "--out", "{out}"], "bad.csv"),
}


@pytest.mark.parametrize("name", sorted(BAD_DATA))
def test_bad_data_gives_one_line(name, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_TABLE)
    args, expect = BAD_DATA[name]
    fill = {"bad": str(bad), "out": str(tmp_path / "out")}
    res = runner.invoke(app, [a.format(**fill) for a in args])
    line = _error_line(res)
    assert expect in line, line


def test_log_json_to_an_unwritable_place_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    res = runner.invoke(app, ["--log-json", str(blocker / "log.jsonl"), "demo", "--help"])
    assert "--log-json" in _error_line(res)


def _tested_commands() -> dict[str, list[str]]:
    """Which test files invoke each command (its quoted name in a file that calls invoke)."""
    found: dict[str, list[str]] = {}
    texts = {p: p.read_text(encoding="utf-8") for p in TESTS.rglob("test_*.py")
             if p.resolve() != Path(__file__).resolve()}
    for path in COMMANDS:
        found[" ".join(path)] = [
            str(p.relative_to(TESTS)) for p, text in texts.items()
            if "invoke(" in text and all(f'"{word}"' in text for word in path)
        ]
    return found


def test_every_command_is_exercised_by_a_test():
    # beyond this file's help and bad-input checks: a test that runs the command for real
    untested = sorted(name for name, files in _tested_commands().items() if not files)
    assert not untested, f"no test invokes: {untested}"


#: Examples that need no input files: run as written, from a scratch folder.
SELF_CONTAINED = [("c14", "age"), ("c14", "forward"), ("simulate",), ("sensitivity",)]


def _example(path) -> list[str]:
    res = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "400"})
    text = re.sub(r"\\\s*\n\s*", " ", res.output)
    text = text[re.search(r"Examples?:", text).end():]
    prefix = f"wholesoil {' '.join(path)}"
    line = next(ln.strip() for ln in text.splitlines() if prefix in ln)
    line = line[line.index(prefix):]
    return shlex.split(line)[1:]


@pytest.mark.slow
@pytest.mark.parametrize("path", SELF_CONTAINED, ids=_ids(SELF_CONTAINED))
def test_self_contained_examples_run_as_written(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = _example(path)
    assert args[: len(path)] == list(path)
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
