"""Issue 24 item 3: each error names the next step (c14 profile on a CSV, beta without
soc_density, the QC report file named by qc)."""

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from wholesoil.cli import app

runner = CliRunner()


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_c14_profile_on_a_plain_csv_says_what_it_reads(tmp_path):
    src = _write(tmp_path, "my.csv", "profile_id,top,bottom,d14c,year,lat\n"
                 "p1,0,10,50,2005,45\np1,10,30,-20,2005,45\n")
    r = runner.invoke(app, ["c14", "profile", str(src), "--out", str(tmp_path / "c14")])
    assert r.exit_code != 0
    assert "file not found" not in r.output
    assert "ISRaD entry folder" in r.output and "flat layer file" in r.output
    assert "--format table" in r.output
    assert not (tmp_path / "c14").exists()
    # the hint works
    r = runner.invoke(app, ["c14", "profile", str(src), "--out", str(tmp_path / "c14"),
                            "--format", "table"])
    assert r.exit_code == 0, r.output
    ages = pd.read_csv(tmp_path / "c14" / "tables" / "ages.csv")
    assert list(ages["status"]) == ["ok", "ok"]


def test_c14_profile_missing_path_says_what_it_reads(tmp_path):
    r = runner.invoke(app, ["c14", "profile", str(tmp_path / "nothing"), "--out",
                            str(tmp_path / "c14")])
    assert r.exit_code != 0
    assert "ISRaD entry folder" in r.output


def test_beta_without_soc_density_points_to_density(tmp_path):
    src = _write(tmp_path, "h.csv", "profile_id,top,bottom,soc\np1,0,10,20\np1,10,30,10\n"
                 "p1,30,60,5\np1,60,100,2\n")
    r = runner.invoke(app, ["beta", str(src), "-o", str(tmp_path / "b.csv")])
    assert r.exit_code != 0
    assert "soc_density" in r.output
    assert "wholesoil density" in r.output
    assert not (tmp_path / "b.csv").exists()


def test_qc_names_the_report_file_it_wrote(tmp_path):
    src = _write(tmp_path, "h.csv", "profile_id,top,bottom,soc\np1,0,10,20\np1,10,30,10\n"
                 "p1,30,60,5\np1,50,100,2\n")
    out = tmp_path / "q.csv"
    r = runner.invoke(app, ["qc", str(src), "-o", str(out)])
    assert r.exit_code == 0, r.output
    report = tmp_path / "q.qc.csv"
    assert report.exists()
    assert "QCResult.report" not in r.output
    assert f"in the QC report {report}" in r.output.replace("\n", "")


def test_missing_key_column_names_the_users_column_and_the_option(tmp_path):
    """A table without profile_id suggests --id-column; with --id-column X the error names X."""
    src = tmp_path / "mine.csv"
    src.write_text("pedon,hz_top,hz_bot,OC_gkg\nA,0,10,35\nA,10,30,20\n")
    res = runner.invoke(app, ["harmonize", str(src), "--variable", "OC_gkg",
                              "-o", str(tmp_path / "o.csv")])
    assert res.exit_code == 2
    assert "--id-column NAME" in res.output and "'pedon'" in res.output
    res = runner.invoke(app, ["harmonize", str(src), "--variable", "OC_gkg", "--id-column",
                              "site", "-o", str(tmp_path / "o.csv")])
    assert res.exit_code == 2 and "field 'site'" in res.output and "no column 'site'" in res.output
    res = runner.invoke(app, ["harmonize", str(src), "--variable", "OC_gkg", "--id-column",
                              "pedon", "-o", str(tmp_path / "o.csv")])
    assert res.exit_code == 2 and "--top-column NAME" in res.output and "'hz_top'" in res.output
