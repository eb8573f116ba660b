"""Issue 18, data safety: one test per defect, each with the command that showed it.

Every refused write checks that the input's bytes are unchanged (SHA-256 before and after).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from wholesoil.cli import app

runner = CliRunner()

HORIZONS = (
    "profile_id,top,bottom,soc,bd,gravel,ecosystem\n"
    "P1,0,10,30,1.2,5,forest\nP1,10,30,20,1.3,5,forest\nP1,30,60,10,1.4,10,forest\n"
    "P2,0,15,25,1.1,0,grass\nP2,15,40,12,1.5,2,grass\nP2,40,80,6,1.5,2,grass\n"
)
LAYERS = (
    "profile_id,top,bottom,soc_density,g\n"
    "A,0,10,30,x\nA,10,30,40,x\nA,30,60,25,x\nB,0,10,20,x\nB,10,30,25,x\nB,30,60,10,x\n"
    "C,0,10,35,y\nC,10,30,30,y\nC,30,60,20,y\nD,0,10,25,y\nD,10,30,20,y\nD,30,60,8,y\n"
)


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _run(*args: object) -> tuple[int, str]:
    res = runner.invoke(app, [str(a) for a in args])
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    return res.exit_code, " ".join(res.output.split())


def _refused(tmp_path: Path, src: Path, *args: object) -> str:
    """Run a command that must refuse; the input keeps its bytes and nothing new appears."""
    before, files = _sha(src), set(tmp_path.rglob("*"))
    code, out = _run(*args)
    assert code == 2, out
    assert "Traceback" not in out
    assert _sha(src) == before
    assert set(tmp_path.rglob("*")) == files, "a refused command wrote something"
    return out


# ------------------------------------------------------------------ 1. output = input
def test_harmonize_output_equal_to_input_is_refused(tmp_path):
    x = tmp_path / "x.csv"
    x.write_text(HORIZONS)
    out = _refused(tmp_path, x, "harmonize", x, "--variable", "soc", "-o", x)
    assert "is the input" in out and "x.csv" in out


def test_density_stocks_side_file_equal_to_input_is_refused(tmp_path):
    src = tmp_path / "d.stocks.csv"
    src.write_text(HORIZONS)
    out = _refused(tmp_path, src, "density", src, "-o", tmp_path / "d.csv")
    assert "output stocks" in out and "d.stocks.csv" in out


def test_qc_report_side_file_equal_to_input_is_refused(tmp_path):
    src = tmp_path / "h.qc.csv"
    src.write_text(HORIZONS)
    out = _refused(tmp_path, src, "qc", src, "-o", tmp_path / "h.csv")
    assert "output qc_report" in out


def test_qc_report_equal_to_output_is_refused(tmp_path):
    src = tmp_path / "o.csv"
    src.write_text(HORIZONS)
    c = tmp_path / "c.csv"
    out = _refused(tmp_path, src, "qc", src, "-o", c, "--report", c)
    assert "are the same file" in out


def test_beta_group_side_file_equal_to_input_is_refused(tmp_path):
    src = tmp_path / "b.anova.csv"
    src.write_text(LAYERS)
    out = _refused(tmp_path, src, "beta", src, "-o", tmp_path / "b.csv", "--group-column", "g")
    assert "output anova" in out


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_output_that_links_to_the_input_is_refused(tmp_path, link):
    src = tmp_path / "x.csv"
    src.write_text(HORIZONS)
    alias = tmp_path / "alias.csv"
    (os.symlink if link == "symlink" else os.link)(src, alias)
    before = _sha(src)
    code, out = _run("harmonize", src, "--variable", "soc", "-o", alias)
    assert code == 2 and "is the input" in out
    assert _sha(src) == before


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_folder_command_cannot_replace_its_input(tmp_path):
    """Commands that write into a folder: an input inside it is never replaced."""
    out_dir = tmp_path / "mixed_out"
    (out_dir / "tables").mkdir(parents=True)
    src = out_dir / "tables" / "predictions.csv"
    rng = np.random.default_rng(1)
    n = 40
    pd.DataFrame({"y": rng.normal(size=n), "x": rng.normal(size=n),
                  "g": np.repeat(list("abcd"), n // 4)}).to_csv(src, index=False)
    before = _sha(src)
    code, out = _run("mixed", src, "--formula", "y ~ x", "--group", "g", "--out", out_dir)
    assert code == 2 and "is the input" in out
    assert _sha(src) == before


# ------------------------------------------------------------------ 2. density ranges
@pytest.mark.parametrize(("bd", "gravel", "field"), [
    (0, 5, "bd"), (-1, 5, "bd"), (50, 5, "bd"), (1.2, 150, "gravel"), (1.2, -5, "gravel"),
])
def test_density_strict_refuses_impossible_bd_and_gravel(tmp_path, bd, gravel, field):
    src = tmp_path / "h.csv"
    src.write_text(f"profile_id,top,bottom,soc,bd,gravel\nP1,0,30,30,{bd},{gravel}\n")
    out = _refused(tmp_path, src, "density", src, "-o", tmp_path / "d.csv")
    assert f"field '{field}'" in out and "outside the physical range" in out and "row 2" in out


def test_density_repair_sets_impossible_values_aside_and_reports(tmp_path):
    src = tmp_path / "h.csv"
    src.write_text("profile_id,top,bottom,soc,bd,gravel\nP1,0,30,30,-1,150\nP1,30,60,10,1.4,0\n")
    code, out = _run("density", src, "-o", tmp_path / "d.csv", "--qc", "repair")
    assert code == 0, out
    stocks = pd.read_csv(tmp_path / "d.stocks.csv")
    assert (stocks.filter(like="stock_").fillna(0) >= 0).all().all()
    rep = pd.read_csv(tmp_path / "d.qc.csv")
    assert set(rep["field"]) == {"bd", "gravel"}
    assert set(rep["rule"]) == {"set_nan"}
    h = pd.read_csv(tmp_path / "d.csv")
    assert bool(h["bd_filled"].iloc[0]) and bool(h["gravel_assumed_zero"].iloc[0])


def test_every_range_has_a_source():
    from wholesoil.profiles import VALUE_RANGES
    from wholesoil.profiles._ranges import PHYSICAL_RANGES

    assert set(VALUE_RANGES) == set(PHYSICAL_RANGES)
    for name, r in PHYSICAL_RANGES.items():
        assert r.low < r.high, name
        assert r.source and ("physical bound" in r.source or "definition" in r.source), name


# ------------------------------------------------------------------ 3. formulas
def test_mixed_formula_cannot_run_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    src = tmp_path / "t.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame({"soc": rng.normal(size=30), "top": rng.normal(size=30),
                  "g": np.repeat(list("abc"), 10)}).to_csv(src, index=False)
    formula = "soc ~ top + I(np.__builtins__['__import__']('os').system('touch pwned'))"
    code, out = _run("mixed", src, "--formula", formula, "--group", "g", "--out", tmp_path / "m")
    assert code == 2
    assert not (tmp_path / "pwned").exists()
    assert "formulas do not allow" in out


@pytest.mark.parametrize("formula", [
    "y ~ __import__('os').system('x')",
    "y ~ x.real",
    "y ~ x[0]",
    "y ~ (lambda: 1)()",
    "y ~ eval('1')",
    "y ~ np.log(x)",
    "y ~ I([v for v in x])",
    "y ~ log(x, **{})",
])
def test_formula_outside_the_allow_list_is_refused(formula):
    from wholesoil.errors import InputDataError
    from wholesoil.stats._mixed import check_formula

    with pytest.raises(InputDataError, match="formula"):
        check_formula(formula)


@pytest.mark.parametrize("formula", [
    "log10(soc) ~ npp + mat + depth", "y ~ I(x ** 2) + x:z - 1", "y ~ C(g) + zscore(x)",
    "y ~ I(sqrt(abs(x)) / 2) + exp(-x)", "y ~ Q('a b')",
])
def test_documented_formulas_still_pass(formula):
    from wholesoil.stats._mixed import check_formula

    check_formula(formula)


# ------------------------------------------------------------------ 4. depth limits
def test_harmonize_huge_depth_is_refused_before_allocating(tmp_path):
    src = tmp_path / "h.csv"
    src.write_text(HORIZONS)
    out = _refused(tmp_path, src, "harmonize", src, "--variable", "soc", "--depths", "0,1e9",
                   "-o", tmp_path / "o.csv")
    assert "maximum depth 1000 cm" in out


def test_harmonize_memory_is_estimated_when_the_limit_is_raised(tmp_path):
    src = tmp_path / "h.csv"
    src.write_text(HORIZONS)
    out = _refused(tmp_path, src, "harmonize", src, "--variable", "soc", "--depths", "0,1e9",
                   "--max-depth", "1e10", "-o", tmp_path / "o.csv")
    assert "GiB" in out and "WHOLESOIL_MAX_MEMORY" in out


def test_horizon_bottom_beyond_the_maximum_is_refused(tmp_path):
    src = tmp_path / "deep.csv"
    src.write_text("profile_id,top,bottom,soc,bd,gravel\nP1,0,30,30,1.2,5\nP1,30,1e9,30,1.2,5\n")
    out = _refused(tmp_path, src, "density", src, "-o", tmp_path / "d.csv")
    assert "row 3 (profile P1), field 'bottom'" in out and "maximum depth" in out
    code, out = _run("density", src, "-o", tmp_path / "d.csv", "--max-depth", "2e9")
    assert code == 0, out  # the documented override


# ------------------------------------------------------------------ 5. header only
@pytest.mark.parametrize("cmd", [
    ["harmonize", "--variable", "soc", "-o"], ["qc", "-o"], ["density", "-o"],
    ["beta", "--value", "soc", "-o"],
])
def test_header_only_input_is_an_error(tmp_path, cmd):
    src = tmp_path / "empty.csv"
    src.write_text("profile_id,top,bottom,soc,bd\n")
    out = _refused(tmp_path, src, cmd[0], src, *cmd[1:], tmp_path / "o.csv")
    assert "empty.csv row 2: no data rows" in out


def test_mixed_header_only_names_the_problem(tmp_path):
    src = tmp_path / "e.csv"
    src.write_text("soc,top,site\n")
    out = _refused(tmp_path, src, "mixed", src, "--formula", "soc ~ top", "--group", "site",
                   "--out", tmp_path / "m")
    assert "no data rows" in out and "negative dimensions" not in out


# ------------------------------------------------------------------ 6. stale temporaries
def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_temporaries_carry_the_pid_and_stale_ones_are_removed(tmp_path):
    src = tmp_path / "h.csv"
    src.write_text(HORIZONS)
    stale = tmp_path / f".o.csv.{_dead_pid()}.deadbeef.tmp"
    stale.write_text("partial")
    alive = tmp_path / f".o.csv.{os.getppid()}.cafebabe.tmp"  # a running process's
    alive.write_text("in progress")
    code, out = _run("harmonize", src, "--variable", "soc", "-o", tmp_path / "o.csv")
    assert code == 0, out
    assert not stale.exists()
    assert alive.exists()


def test_stale_temporaries_of_other_outputs_in_the_folder_are_removed(tmp_path):
    """A killed run was writing another file of the folder: the next write sweeps it too."""
    from wholesoil._atomic import write_text

    stale = tmp_path / f".other.csv.{_dead_pid()}.0badf00d.tmp"
    stale.write_text("partial")
    write_text(tmp_path / "new.txt", "x")
    assert not stale.exists()


def test_temporary_names_carry_the_pid(tmp_path):
    from wholesoil._atomic import atomic_path

    with atomic_path(tmp_path / "a.csv") as tmp:
        assert f".a.csv.{os.getpid()}." in tmp.name and tmp.name.endswith(".tmp")
        tmp.write_text("x")


# ------------------------------------------------------------------ 7. all or nothing
def test_qc_outputs_are_all_or_nothing(tmp_path):
    src = tmp_path / "h.csv"
    src.write_text(HORIZONS)
    (tmp_path / "ro").write_text("a file where a folder should be")
    out = _refused(tmp_path, src, "qc", src, "-o", tmp_path / "part" / "clean.csv",
                   "--report", tmp_path / "ro" / "r.csv")
    assert "r.csv" in out and ".tmp" not in out
    assert not (tmp_path / "part" / "clean.csv").exists()


def test_failed_rename_rolls_back_the_outputs_already_replaced(tmp_path, monkeypatch):
    from wholesoil import _outputs

    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("old a")
    outs = _outputs.OutputSet([])
    outs.add("a", a, lambda p: p.write_text("new a"))
    outs.add("b", b, lambda p: p.write_text("new b"))
    real = os.replace
    calls = {"n": 0}

    def failing(src, dst, *args, **kw):
        if Path(dst) == b:
            raise PermissionError(13, "Permission denied", str(src))
        calls["n"] += 1
        return real(src, dst, *args, **kw)

    monkeypatch.setattr(_outputs.os, "replace", failing)
    with pytest.raises(OSError, match=r"b\.txt"):
        outs.commit()
    assert a.read_text() == "old a"  # rolled back
    assert not b.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]  # no temporary, no backup


# ------------------------------------------------------------------ 8. errors in place
def test_negative_top_is_blamed_on_its_own_row(tmp_path):
    src = tmp_path / "neg.csv"
    src.write_text("profile_id,top,bottom,soc\nP1,0,10,30\nP1,-5,30,20\n")
    out = _refused(tmp_path, src, "harmonize", src, "--variable", "soc", "-o", tmp_path / "o.csv")
    assert "neg.csv row 3 (profile P1), field 'top'" in out and "got -5" in out


@pytest.mark.parametrize("field", ["top", "bottom"])
def test_infinite_depth_is_not_called_empty(tmp_path, field):
    row = {"top": "inf,30", "bottom": "10,inf"}[field]
    src = tmp_path / "inf.csv"
    src.write_text(f"profile_id,top,bottom,soc\nP1,0,10,30\nP1,{row},20\n")
    out = _refused(tmp_path, src, "harmonize", src, "--variable", "soc", "-o", tmp_path / "o.csv")
    assert f"row 3 (profile P1), field '{field}'" in out and "finite" in out
    assert "empty" not in out and "missing" not in out


def test_infinite_value_is_out_of_range_not_empty(tmp_path):
    src = tmp_path / "inf.csv"
    src.write_text("profile_id,top,bottom,soc_density\nP1,0,10,inf\nP1,10,30,20\n")
    out = _refused(tmp_path, src, "beta", src, "-o", tmp_path / "o.csv")
    assert "row 2" in out and "inf" in out and "empty" not in out


def test_stocks_on_an_empty_netcdf_names_the_file(tmp_path):
    src = tmp_path / "maps.nc"
    src.write_bytes(b"")
    out = _refused(tmp_path, src, "stocks", src, "--out", tmp_path / "s")
    assert "maps.nc" in out and "empty" in out


def test_unwritable_output_is_named_not_its_temporary(tmp_path, monkeypatch):
    import wholesoil.io._write as w

    def denied(df, tmp, suffix, *float_format):
        raise PermissionError(13, "Permission denied", str(tmp))

    monkeypatch.setattr(w, "write_table_to", denied)
    src = tmp_path / "h.csv"
    src.write_text(HORIZONS)
    out = _refused(tmp_path, src, "harmonize", src, "--variable", "soc", "-o",
                   tmp_path / "ro" / "x.csv")
    assert "ro/x.csv" in out and "Permission denied" in out and ".tmp" not in out


def test_beta_overflow_is_reported_per_profile_without_numpy_warnings():
    from wholesoil.depth import fit_depth_functions

    h = pd.DataFrame({"profile_id": ["A"] * 3 + ["B"] * 3,
                      "top": [0, 10, 15, 0, 10, 30], "bottom": [10, 15, 200, 10, 30, 60],
                      "soc_density": [308.9, 1e300, 510.7, 30, 20, 10]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = fit_depth_functions(h).set_index("profile_id")
    assert out.loc["A", "status"] == "not fitted"
    assert "overflow" in out.loc["A", "warnings"]
    assert out.loc["B", "status"] == "ok"


# ------------------------------------------------------------------ 9. assimilate sites
def test_assimilate_accepts_mat_and_map_without_lat():
    from wholesoil.assimilation._calibrate import ProfileData

    layers = pd.DataFrame({"profile_id": ["A"] * 3, "top": [0.0, 30, 60],
                           "bottom": [30.0, 60, 100], "soc_density": [50.0, 30, 20]})
    sites = pd.DataFrame({"profile_id": ["A"], "mat": [8.0], "map": [700.0]})
    data = ProfileData.from_table(layers, sites)
    assert list(data.profile_id) == ["A"]


def test_assimilate_filter_reason_names_the_row_and_the_users_columns(tmp_path):
    """A profile the calibration filters drop is listed with the first offending row of the
    user's file and the user's column names (a bottom above its top; SOC 0), never dropped
    silently; the good profile is calibrated."""
    f = tmp_path / "my.csv"
    f.write_text("pedon,hz_top,hz_bot,Cstock,MAT_C,MAP_mm\n"
                 "A,0,10,30,5,600\nA,10,30,40,5,600\nA,45,40,20,5,600\nA,60,90,10,5,600\n"
                 "B,0,20,50,8,900\nB,20,50,30,8,900\nB,50,100,20,8,900\n"
                 "C,0,20,50,8,900\nC,20,50,0,8,900\nC,50,100,20,8,900\n")
    code, out = _run("assimilate", f, "--out", tmp_path / "o", "--id-column", "pedon",
                     "--top-column", "hz_top", "--bottom-column", "hz_bot", "--column-map",
                     "Cstock=soc_density,MAT_C=mat,MAP_mm=map", "--iterations", "30,30")
    assert code == 0, out
    prof = pd.read_csv(tmp_path / "o" / "tables" / "profiles.csv").set_index("profile_id")
    assert prof.loc["A", "reason"] == (
        "filtered: depths not increasing (row 4 of my.csv: hz_bot 40 is not deeper than "
        "hz_top 45; correct or remove the row)")
    assert prof.loc["C", "reason"] == (
        "filtered: SOC missing or not > 0 (row 10 of my.csv: Cstock 0, needs a value > 0; "
        "correct or remove the row)")
    assert not prof.loc["B", "reason"].startswith("filtered")


def test_assimilate_help_matches_what_it_accepts():
    code, out = _run("assimilate", "--help")
    assert code == 0 and "lat optional" in out
