"""Issue 24 items 1 and 5: outputs and errors keep the user's column names and rows; every
output column of ``density`` and ``beta`` carries its unit; files hold 6 significant digits."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.testing import assert_allclose
from typer.testing import CliRunner

from wholesoil.cli import app

runner = CliRunner()

KEYS = ["--id-column", "pedon", "--top-column", "hz_top", "--bottom-column", "hz_bot"]

# two profiles, the first with layers from the β model, β = 0.97: layer density =
# A·(β^top − β^bottom) (Jobbágy & Jackson 2000, Ecol. Appl. 10:423, doi:10.2307/2641104),
# SOC chosen so that Eq. 1 of Wang H. et al. (2025) (10·SOC·BD·thickness/100) gives it
_TOPS, _BOTS = np.array([0, 20, 40, 60, 80]), np.array([20, 40, 60, 80, 100])
_DENS = 200.0 * (0.97**_TOPS - 0.97**_BOTS)
_SOC = _DENS * 10 / (1.25 * (_BOTS - _TOPS))

#: Output columns that carry no unit: identifiers, flags, counts and text (enumerated).
NO_UNIT = {"pedon", "profile_id", "bd_filled", "gravel_assumed_zero", "n_layers",
           "converged_beta", "best_model", "status", "warnings"}


def _my_csv(tmp_path: Path) -> Path:
    rows = [f"P1,{t},{b},{float(s)!r},1.25" for t, b, s in zip(_TOPS, _BOTS, _SOC, strict=True)]
    rows += ["P2,0,15,25,1.1", "P2,15,40,10,1.3", "P2,40,90,4,1.5"]
    p = tmp_path / "my.csv"
    p.write_text("pedon,hz_top,hz_bot,OC_gkg,BD\n" + "\n".join(rows) + "\n")
    return p


def _run(*args: object) -> tuple[int, str]:
    res = runner.invoke(app, [str(a) for a in args])
    return res.exit_code, res.output


def _header(path: Path) -> list[str]:
    return path.read_text().splitlines()[0].split(",")


def test_harmonize_keeps_the_users_names(tmp_path):
    src, out = _my_csv(tmp_path), tmp_path / "out.csv"
    code, text = _run("harmonize", src, "--variable", "OC_gkg", *KEYS, "-o", out)
    assert code == 0, text
    # the command: pedon,hz_top,hz_bot come back; OC_gkg is a column wholesoil does not
    # know (no --column-map OC_gkg=soc), so its header stays as the user wrote it
    assert _header(out) == ["pedon", "hz_top [cm]", "hz_bot [cm]", "OC_gkg", "coverage [-]"]
    code, text = _run("harmonize", src, "--variable", "soc", "--column-map", "OC_gkg=soc",
                      *KEYS, "-o", tmp_path / "soc.csv")
    assert code == 0, text
    assert _header(tmp_path / "soc.csv")[3] == "OC_gkg [g kg-1]"


def test_canonical_names_on_request(tmp_path):
    from wholesoil.workflows import harmonize_job

    out = tmp_path / "c.csv"
    harmonize_job(_my_csv(tmp_path), "OC_gkg", out, id_column="pedon", top_column="hz_top",
                  bottom_column="hz_bot", canonical_names=True)
    assert _header(out) == ["profile_id", "top [cm]", "bottom [cm]", "OC_gkg", "coverage [-]"]


def test_errors_after_reading_speak_the_users_names_and_rows(tmp_path):
    src = _my_csv(tmp_path)
    lines = src.read_text().splitlines()
    lines[3] = "P1,70,60,1,1.25"  # spreadsheet row 4: bottom above top
    src.write_text("\n".join(lines) + "\n")
    code, text = _run("harmonize", src, "--variable", "OC_gkg", *KEYS, "-o", tmp_path / "o.csv")
    assert code == 2
    line = text.strip().splitlines()[-1]
    assert line.startswith("error: my.csv row 4 (profile P1), field 'hz_bot': hz_bot (60 cm) is "
                           "above hz_top (70 cm)"), line
    assert not re.search(r"\b(profile_id|source_row|top|bottom)\b", line.split(":", 1)[1]), line
    # repair mode: the QC report names the same row and fields, its row column called `row`
    code, text = _run("harmonize", src, "--variable", "OC_gkg", *KEYS, "--qc", "repair",
                      "-o", tmp_path / "o.csv")
    assert code == 0, text
    rep = pd.read_csv(tmp_path / "o.qc.csv")
    assert list(rep.columns[:2]) == ["pedon", "row"]
    first = rep.iloc[0]
    assert (first["row"], first["field"]) == (4, "hz_bot")
    assert "hz_bot (60 cm) is above hz_top (70 cm)" in first["message"]


def _density(tmp_path: Path, *extra: str) -> Path:
    out = tmp_path / "d.csv"
    code, text = _run("density", _my_csv(tmp_path), *KEYS, "--column-map", "OC_gkg=soc,BD=bd",
                      *extra, "-o", out)
    assert code == 0, text
    return out


def _units_everywhere(header: list[str]) -> None:
    for h in header:
        assert h in NO_UNIT or re.fullmatch(r".+ \[[^\[\]]+\]", h), h
    assert not {"source_row", "profile_id", "top", "bottom"} & {h.split(" [")[0] for h in header}


def test_every_density_and_beta_column_carries_its_unit(tmp_path):
    out = _density(tmp_path, "--stock-depths", "30,100")
    assert _header(out) == ["pedon", "hz_top [cm]", "hz_bot [cm]", "OC_gkg [g kg-1]",
                            "BD [g cm-3]", "bd_filled", "soc_density [Mg C ha-1]",
                            "gravel_assumed_zero"]
    stocks = out.with_name("d.stocks.csv")
    assert _header(stocks) == ["pedon", "stock_0_30 [Mg C ha-1]", "covered_0_30 [-]",
                               "stock_0_100 [Mg C ha-1]", "covered_0_100 [-]"]
    fits = tmp_path / "f.csv"
    code, text = _run("beta", out, *KEYS, "-o", fits)
    assert code == 0, text
    for path in (out, stocks, fits):
        _units_everywhere(_header(path))
    assert "beta [-]" in _header(fits) and "x_100 [Mg C ha-1]" in _header(fits)


def test_density_to_beta_through_files(tmp_path):
    out = _density(tmp_path)
    fits = tmp_path / "f.csv"
    code, text = _run("beta", out, *KEYS, "-o", fits)
    assert code == 0, text
    got = pd.read_csv(fits).set_index("pedon")
    # the same fit on the full-precision densities (Python API): files hold 6 digits
    from wholesoil.depth import fit_depth_functions

    layers = pd.DataFrame({"profile_id": "P1", "top": _TOPS, "bottom": _BOTS,
                           "soc_density": _DENS})
    ref = fit_depth_functions(layers, value="soc_density").iloc[0]
    assert_allclose(got.loc["P1", "beta [-]"], ref["beta"], atol=1e-6)
    assert_allclose(got.loc["P1", "x_100 [Mg C ha-1]"], ref["x_100"], rtol=1e-5)
    # canonical names (the job's canonical_names, the CLI's --canonical-names) read back
    # without any option
    from wholesoil.workflows import density_job

    density_job(_my_csv(tmp_path), tmp_path / "c.csv", id_column="pedon", top_column="hz_top",
                bottom_column="hz_bot", column_map={"OC_gkg": "soc", "BD": "bd"},
                canonical_names=True)
    assert _header(tmp_path / "c.csv")[:4] == ["profile_id", "top [cm]", "bottom [cm]",
                                              "soc [g kg-1]"]
    code, text = _run("beta", tmp_path / "c.csv", "-o", tmp_path / "cf.csv")
    assert code == 0, text
    assert_allclose(pd.read_csv(tmp_path / "cf.csv")["beta [-]"], got["beta [-]"])


def test_six_significant_digits_in_outputs(tmp_path):
    out = _density(tmp_path)
    for path in (out, out.with_name("d.stocks.csv")):
        for cell in pd.read_csv(path, dtype=str).stack():
            if isinstance(cell, str) and re.fullmatch(r"-?[\d.]+(e[+-]\d+)?", cell):
                digits = re.sub(r"e.*", "", cell).replace("-", "").replace(".", "").lstrip("0")
                assert len(digits) <= 6, (path.name, cell)


def test_beta_group_tables_carry_units(tmp_path):
    rows = []
    for g, base in (("x", 0.96), ("y", 0.98)):
        for i in range(3):
            b = base + 0.002 * i
            rows += [f"{g}{i},{t},{t + 20},{150.0 * (b**t - b ** (t + 20))!r},{g}"
                     for t in (0, 20, 40, 60, 80)]
    src = tmp_path / "l.csv"
    # a header that already carries its unit is read, and written, without doubling it
    src.write_text("pedon,hz_top,hz_bot,soc_density [Mg C ha-1],eco\n" + "\n".join(rows) + "\n")
    out = tmp_path / "b.csv"
    code, text = _run("beta", src, *KEYS, "--group-column", "eco", "-o", out)
    assert code == 0, text
    assert _header(tmp_path / "b.groups.csv") == ["group", "mean [-]", "n", "sd [-]", "duncan",
                                                  "tukey"]
    assert _header(tmp_path / "b.anova.csv") == ["F [-]", "df_between", "df_within", "p [-]",
                                                 "ms_within [-]", "n", "left_out"]
    for name in ("duncan", "tukey"):
        assert _header(tmp_path / f"b.{name}.csv") == [
            "group_a", "group_b", "diff [-]", "span", "q [-]", "p_value [-]", "lower [-]",
            "upper [-]", "reject"]
    assert _header(out)[-1] == "eco" and "x_100 [Mg C ha-1]" in _header(out)
