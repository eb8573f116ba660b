"""The command line end to end: outputs, numbers and the messages users see for bad input."""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from numpy.testing import assert_allclose
from typer.testing import CliRunner

from wholesoil.cli import app

runner = CliRunner()

# mpspline2 README example (R package mpspline2, README "Usage"): tops 0,20,40,60; bottoms
# 10,30,50,70; values 6,4,3,10; λ = 0.1; default clamp 0–1000.
MPSPLINE2_README = [6.105160, 5.618341, 4.316876, 4.192058, 9.732400]


def _read(path: Path) -> pd.DataFrame:
    """An output CSV with the units of its headers set aside: ``"top [cm]"`` → ``"top"``."""
    from wholesoil.io._headers import split_header

    df = pd.read_csv(path)
    return df.rename(columns=lambda c: split_header(c)[0])


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_harmonize_reproduces_mpspline2_readme(tmp_path):
    src = _write(
        tmp_path,
        "h.csv",
        "site,upper,lower,carbon\nS1,0,10,6\nS1,20,30,4\nS1,40,50,3\nS1,60,70,10\n",
    )
    out = tmp_path / "out.csv"
    res = runner.invoke(
        app,
        [
            "harmonize",
            str(src),
            "--variable",
            "carbon",
            "--lam",
            "0.1",
            "--method",
            "mpspline2",
            "--clamp",
            "0,1000",
            "--id-column",
            "site",
            "--top-column",
            "upper",
            "--bottom-column",
            "lower",
            "--output",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out)
    # the user's names come back, with units where wholesoil knows them (issue 24 item 1 and 5)
    assert list(df.columns) == ["site", "upper [cm]", "lower [cm]", "carbon", "coverage [-]"]
    # files hold 6 significant digits (issue 24 item 5): the README's 6 decimals to ±5e-6
    assert_allclose(df["carbon"].to_numpy()[:5], MPSPLINE2_README, atol=5e-6)


def _bad(tmp_path, text, *args):
    src = _write(tmp_path, "bad.csv", text)
    res = runner.invoke(
        app, ["harmonize", str(src), "--variable", "soc", "-o", str(tmp_path / "o.csv"), *args]
    )
    assert res.exit_code == 2, res.output
    assert not (tmp_path / "o.csv").exists()
    return " ".join(res.output.split())


def test_overlapping_horizons_named(tmp_path):
    msg = _bad(tmp_path, "profile_id,top,bottom,soc\nA,0,10,5\nA,10,20,5\nB,0,20,4\nB,15,30,3\n")
    assert "bad.csv" in msg and "row 4" in msg and "profile B" in msg and "bottom" in msg
    assert "got 20" in msg and "top 15" in msg


def test_bottom_above_top_named(tmp_path):
    msg = _bad(tmp_path, "profile_id,top,bottom,soc\nA,0,10,5\nA,30,20,5\n")
    assert "bad.csv" in msg and "row 3" in msg and "A" in msg and "bottom" in msg and "20" in msg


def test_negative_soc_named(tmp_path):
    msg = _bad(tmp_path, "profile_id,top,bottom,soc\nA,0,10,5\nA,10,20,-3\n")
    assert "bad.csv" in msg and "row 3" in msg and "A" in msg and "soc" in msg and "-3" in msg


def test_text_in_numeric_column_named(tmp_path):
    msg = _bad(tmp_path, "profile_id,top,bottom,soc\nA,0,10,5\nA,10,twenty,5\n")
    assert "bad.csv" in msg and "row 3" in msg and "A" in msg and "bottom" in msg
    assert "twenty" in msg


def test_missing_column_named(tmp_path):
    msg = _bad(tmp_path, "profile_id,top,soc\nA,0,5\n")
    assert "bad.csv" in msg and "bottom" in msg


def test_qc_repair_writes_report(tmp_path):
    src = _write(tmp_path, "h.csv", "profile_id,top,bottom,soc\nA,0,10,5\nA,10,20,-3\nA,20,40,2\n")
    out = tmp_path / "clean.csv"
    res = runner.invoke(app, ["qc", str(src), "-o", str(out)])
    assert res.exit_code == 0, res.output
    rep = pd.read_csv(tmp_path / "clean.qc.csv")
    assert len(rep) >= 1 and "soc" in set(rep["field"].astype(str))
    clean = _read(out)
    assert np.isnan(clean.loc[clean["top"] == 10, "soc"]).all()


def test_density_and_beta_commands(tmp_path):
    # Layers generated from the β model with β = 0.97 (Wang H. et al. (2025) Eq. 2): layer density =
    # A·(β^top − β^bottom); SOC/BD chosen so that Eq. 1 returns that density.
    beta, a = 0.97, 200.0
    tops, bots = np.array([0, 20, 40, 60, 80]), np.array([20, 40, 60, 80, 100])
    dens = a * (beta**tops - beta**bots)
    bd = 1.25
    soc = dens * 10 / (bd * (bots - tops))
    rows = "\n".join(
        f"P,{t},{b},{float(s)!r},{bd}" for t, b, s in zip(tops, bots, soc, strict=True)
    )
    src = _write(tmp_path, "h.csv", "profile_id,top,bottom,soc,bd\n" + rows + "\n")
    res = runner.invoke(app, ["density", str(src), "-o", str(tmp_path / "d.csv")])
    assert res.exit_code == 0, res.output
    d = _read(tmp_path / "d.csv")
    assert_allclose(d["soc_density"], dens, rtol=5e-6)  # 6 significant digits in files
    res = runner.invoke(app, ["beta", str(tmp_path / "d.csv"), "-o", str(tmp_path / "b.csv")])
    assert res.exit_code == 0, res.output
    b = _read(tmp_path / "b.csv")
    # The default fit is the paper's least squares on the cumulative fraction Y = C(d)/C(100)
    # (Wang et al. 2025 §2.3); scipy.optimize.least_squares on the same fractions is the peer.
    from scipy import optimize

    y = np.cumsum(dens) / dens.sum()
    ref = optimize.least_squares(lambda x: y - (1 - x[0] ** bots), x0=[0.97], xtol=1e-15,
                                 ftol=1e-15, gtol=1e-15).x[0]
    # the files hold 6 significant digits (issue 24 item 5): densities in, β out, to 1e-6
    assert_allclose(b["beta"].iloc[0], ref, atol=1e-6)
    assert b["beta"].iloc[0] < beta  # 0–100 cm taken as the whole stock: steeper
    # --fit stock: least squares on cumulative stocks C(d) = A·(1 − β^d) recovers the β the
    # layers were generated with (exact closed form, noise-free)
    res = runner.invoke(app, ["beta", str(tmp_path / "d.csv"), "--fit", "stock",
                              "-o", str(tmp_path / "bs.csv")])
    assert res.exit_code == 0, res.output
    assert_allclose(_read(tmp_path / "bs.csv")["beta"].iloc[0], beta, atol=1e-6)
    res = runner.invoke(app, ["beta", str(tmp_path / "d.csv"), "--fit", "moment",
                              "-o", str(tmp_path / "bm.csv")])
    assert res.exit_code == 2 and "fit must be 'fraction' or 'stock'" in res.output


@pytest.mark.slow
def test_demo_runs_on_bundled_data(tmp_path):
    res = runner.invoke(app, ["demo", "--out", str(tmp_path / "demo")])
    assert res.exit_code == 0, res.output
    # issue 24 item 6: it said the disk it would use, and wrote under 100 MB, within 25 % of
    # the measured sizes it announced (wholesoil.demo._disk)
    from wholesoil.demo._disk import disk_estimate_mb

    assert "demo (full): will write about" in res.output
    written = sum(f.stat().st_size for f in (tmp_path / "demo").rglob("*") if f.is_file()) / 1e6
    assert written < 100
    assert written == pytest.approx(disk_estimate_mb(quick=False, keep_models=False)[0], rel=0.25)
    assert (tmp_path / "demo" / "report.html").stat().st_size > 5000
    assert (tmp_path / "demo" / "run.json").exists()
    fits = pd.read_csv(tmp_path / "demo" / "tables" / "ncscd_depth_function_fits.csv")
    assert len(fits) == 524
    # stage 3 (mapping): every pedon with a usable β is either modelled or listed as excluded
    tabs = tmp_path / "demo" / "tables"
    beta_tab = pd.read_csv(tabs / "mapping_beta_table.csv")
    excluded = pd.read_csv(tabs / "mapping_beta_excluded.csv")
    assert len(beta_tab) + len(excluded) == 524
    cv = pd.read_csv(tabs / "mapping_beta_cv.csv")
    assert (cv["n"] == len(beta_tab)).all()
    cov = pd.read_csv(tabs / "mapping_interval_coverage.csv")
    assert set(cov["kind"]) == {"prediction interval", "confidence interval of the mean prediction"}
    by_depth = pd.read_csv(tabs / "mapping_layers_by_depth.csv")
    assert by_depth["band"].tolist() == ["0-30cm", "30-100cm", "100-200cm", "200-300cm"]
    assert (tmp_path / "demo" / "mapping" / "beta" / "model" / "model.json").is_file()
    # stage 4 (maps and stocks): region area reported, layers add up, published totals beside
    stocks = pd.read_csv(tabs / "stocks_circumpolar.csv").set_index("layer")
    assert set(stocks.index) == {"0-30", "30-100", "100-200", "200-300", "0-100", "0-300"}
    assert stocks.loc["0-30", "hugelius2014_pg"] == 217.0
    assert stocks.loc["0-300", "hugelius2014_pg"] == 1035.0
    parts = stocks.loc[["0-30", "30-100", "100-200", "200-300"], "stock_pg"].sum()
    assert parts == pytest.approx(stocks.loc["0-300", "stock_pg"], rel=1e-9)  # same joint draws
    assert (stocks["lower_pg"] < stocks["stock_pg"]).all()
    assert (stocks["stock_pg"] < stocks["upper_pg"]).all()
    run = json.loads((tmp_path / "demo" / "run.json").read_text())
    area = run["parameters"]["stocks"]["region_land_area_km2"]
    assert 10e6 < area < 40e6
    html = (tmp_path / "demo" / "report.html").read_text()
    assert "17.8 × 10⁶ km²" in html and "Hugelius" in html
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        maps = xr.open_dataset(tmp_path / "demo" / "stocks" / "circumpolar_maps.nc",
                               decode_coords="all")
        assert {"beta_mean", "beta_Q0.025", "beta_Q0.975", "soc_0_30_mean"} <= set(maps)
        maps.close()
    assert (tmp_path / "demo" / "stocks" / "cog" / "soc_100-200cm_mean.tif").is_file()
    # stage 5 (process models): every pedon with climate simulated by both models, by layer
    comp = pd.read_csv(tabs / "models_default_vs_observed.csv")
    assert set(comp["model"]) == {"CLM5", "COMPAS"} and len(comp) == 8
    assert (comp["modelled_mean"] > 0).all()
    assert run["parameters"]["process_models"]["pedons"] <= 524
    # stage 6 (microbial sensitivity): three models × three β × two knobs, every state checked
    el = pd.read_csv(tabs / "microbial_elasticities.csv")
    assert len(el) == 3 * 3 * 2 and (el["status"] == "ok").all()
    np.testing.assert_allclose(el["elasticity"], (el["soc_plus"] - el["soc_minus"])
                               / (2 * 0.1 * el["soc"]), rtol=1e-12)
    # stage 7 (calibration): both models on the same pedons, every pedon accepted or with reason
    diag = pd.read_csv(tabs / "calibration_diagnostics.csv")
    cal = diag[diag["calibrated"].astype(bool)]
    assert set(cal["model"]) == {"clm5", "compas"} and cal.groupby("model").size().eq(12).all()
    assert (cal["accepted"].astype(bool) | cal["reason"].fillna("").str.len().gt(0)).all()
    comps = pd.read_csv(tabs / "calibration_components_clm5.csv")
    assert comps.groupby("profile_id").size().eq(6).all()
    contraction = pd.read_csv(tabs / "calibration_contraction_clm5.csv")
    assert len(contraction) == 21
    # stage 8 (PRODA): both structures compared before and after calibration
    corr = run["parameters"]["proda"]["log_soc_correlation"]
    assert set(corr) == {"default", "calibrated"} and all(-1 <= v <= 1 for v in corr.values())
    # stage 9 (radiocarbon): ages for the 13 Howland layers with Δ14C; inputs by layer
    ages = pd.read_csv(tabs / "radiocarbon_ages.csv")
    ok = ages[ages["status"] == "ok"]
    assert len(ok) == 13 and (ok["age"] > 0).all()
    lay = pd.read_csv(tabs / "inputs_layers.csv").dropna(subset=["i_loss"])
    np.testing.assert_allclose(lay["i_loss"], lay["i_root"] - lay["i_bulk"], rtol=1e-12)
    # stage 10 (drivers): the He et al. (2024) layout and Duncan letters
    assert (tabs / "ncscd_beta_drivers_mixed_report.csv").is_file()
    assert (tabs / "ncscd_beta_drivers_groups_soil_order.csv").is_file()


def test_harmonize_repair_mode_writes_qc_report_beside_output(tmp_path):
    # Negative SOC in the second horizon: strict mode stops (tested above); repair mode sets it
    # to NaN by the named rule, harmonizes the rest and writes out.qc.csv.
    src = _write(tmp_path, "h.csv", "profile_id,top,bottom,soc\nA,0,10,6\nA,10,20,-3\nA,20,30,4\n")
    out = tmp_path / "out.csv"
    res = runner.invoke(
        app,
        [
            "harmonize",
            str(src),
            "--variable",
            "soc",
            "--qc",
            "repair",
            "--depths",
            "0,10,30",
            "--method",
            "exact",
            "-o",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    rep = pd.read_csv(tmp_path / "out.qc.csv")
    assert set(rep["check"]) >= {"value_range"}
    assert pd.read_csv(out)["profile_id"].tolist() == ["A", "A"]


def test_beta_group_comparison_outputs(tmp_path):
    # Two groups of noiseless β-model profiles, β = 0.96 (group x) and 0.98 (group y), with a
    # small per-profile spread: ANOVA must separate them and Duncan give different letters.
    rows = []
    for g, base in (("x", 0.96), ("y", 0.98)):
        for i in range(6):
            beta = base + 0.001 * i
            for t in (0, 20, 40, 60, 80):
                d = 150.0 * (beta**t - beta ** (t + 20))
                rows.append(f"{g}{i},{t},{t + 20},{d!r},{g}")
    src = _write(
        tmp_path, "l.csv", "profile_id,top,bottom,soc_density,ecosystem\n" + "\n".join(rows)
    )
    out = tmp_path / "b.csv"
    res = runner.invoke(app, ["beta", str(src), "-o", str(out), "--group-column", "ecosystem"])
    assert res.exit_code == 0, res.output
    fits = _read(out)
    # default fit: least squares on the cumulative fraction C(d)/C(100) (tested against scipy
    # in tests/depth/test_beta.py)
    from wholesoil.depth import fit_beta_fraction

    true = np.array([0.96 + 0.001 * i for i in range(6)] + [0.98 + 0.001 * i for i in range(6)])
    d = np.array([20.0, 40.0, 60.0, 80.0, 100.0])
    frac = (1 - true[:, None] ** d) / (1 - true[:, None] ** 100)
    assert_allclose(fits["beta"].to_numpy(), fit_beta_fraction(d, frac).beta, atol=1e-6)
    groups = _read(tmp_path / "b.groups.csv").set_index("group")
    assert groups.loc["x", "duncan"] != groups.loc["y", "duncan"]
    assert _read(tmp_path / "b.anova.csv")["p"].iloc[0] < 1e-6
    res = runner.invoke(app, ["beta", str(src), "-o", str(out), "--group-column", "biome"])
    assert res.exit_code == 2 and "biome" in res.output


def test_help_lists_every_command():
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    for cmd in ("harmonize", "qc", "density", "beta", "demo"):
        assert cmd in res.output


def test_density_fills_missing_bd_and_flags_it(tmp_path):
    # Second horizon has no BD: filled by the Tao et al. (EarthArXiv) pedotransfer BD = 0.32 + 1.30·exp(−0.0089·OM)
    # with OM = 1.724·SOC[%] = 1.724 % for SOC 10 g kg⁻¹; Eq. 1 then gives 10·BD·20/10.
    src = _write(tmp_path, "h.csv", "profile_id,top,bottom,soc,bd\nA,0,10,20,1.1\nA,10,30,10,\n")
    res = runner.invoke(app, ["density", str(src), "-o", str(tmp_path / "d.csv")])
    assert res.exit_code == 0, res.output
    d = _read(tmp_path / "d.csv")
    bd = 0.32 + 1.30 * np.exp(-0.0089 * 1.724)
    assert d["bd_filled"].tolist() == [False, True]
    assert_allclose(d["soc_density"], [20 * 1.1 * 10 / 10, 10 * bd * 20 / 10], rtol=5e-6)
    res = runner.invoke(app, ["density", str(src), "--no-fill-bd", "-o", str(tmp_path / "e.csv")])
    assert res.exit_code == 2 and "bd" in res.output


def test_readers_from_the_command_line_and_qc_rules(tmp_path):
    from wholesoil.datasets import data_path

    israd = data_path("profiles/israd_gaudinski2001")
    out = tmp_path / "d14c.csv"
    res = runner.invoke(
        app,
        [
            "harmonize",
            str(israd),
            "--format",
            "israd",
            "--variable",
            "d14c",
            "--qc",
            "repair",
            "--method",
            "exact",
            "-o",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    d = _read(out)
    assert (d["d14c"] < 0).any()  # deep pre-bomb carbon: no clamp, the sign survives
    res = runner.invoke(
        app,
        [
            "qc",
            str(israd),
            "--format",
            "israd",
            "--rules",
            "value_range=flag",
            "-o",
            str(tmp_path / "c.csv"),
        ],
    )
    assert res.exit_code == 0, res.output
    rep = pd.read_csv(tmp_path / "c.qc.csv")
    # the 8 peat/moss BD values below 0.05 g cm⁻³ are flagged and kept, not set to NaN
    vr = rep[rep["check"] == "value_range"]
    assert len(vr) == 8 and set(vr["action"]) == {"flag"}
    res = runner.invoke(app, ["qc", str(israd), "--format", "nope", "-o", str(tmp_path / "x.csv")])
    assert res.exit_code == 2 and "nope" in res.output
