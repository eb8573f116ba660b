"""``wholesoil mixed`` and ``wholesoil anova`` through typer's CliRunner on a fresh app."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from numpy.testing import assert_allclose
from typer.testing import CliRunner

from wholesoil.cli.stats import register

REFDIR = Path(__file__).parents[1] / "reference"
REF = json.loads((REFDIR / "mixed_reference.json").read_text())
runner = CliRunner()


@pytest.fixture(scope="module")
def app():
    a = typer.Typer()
    register(a)
    return a


@pytest.fixture()
def montgomery(tmp_path):
    # Montgomery, Design and Analysis of Experiments, Example 3-1 (see test_anova.py)
    d = pd.DataFrame({
        "strength": [7, 7, 15, 11, 9, 12, 17, 12, 18, 18, 14, 18, 18, 19, 19,
                     19, 25, 22, 19, 23, 7, 10, 11, 15, 11],
        "cotton": np.repeat(["15", "20", "25", "30", "35"], 5),
    })
    p = tmp_path / "tensile.csv"
    d.to_csv(p, index=False)
    return p


def test_help_has_an_example(app):
    for cmd in ("mixed", "anova"):
        r = runner.invoke(app, [cmd, "--help"])
        assert r.exit_code == 0
        assert "Example" in r.output and "wholesoil " + cmd in r.output


def test_mixed_writes_the_seed_002_report_and_matches_lme4(app, tmp_path):
    out = tmp_path / "m"
    r = runner.invoke(app, ["mixed", str(REFDIR / "mixed_soc_sources.csv"),
                            "--formula", "log10(soc) ~ npp + mat + depth", "--group", "source",
                            "--zscore", "npp,mat,depth", "--out", str(out)])
    assert r.exit_code == 0, r.output
    for f in ("report.csv", "report.md", "report.html", "fixed_effects.csv",
              "variance_components.csv", "random_effects.csv", "predictions.csv",
              "zscore.csv"):
        assert (out / "tables" / f).is_file(), f
    assert (out / "figures" / "coefficients.png").is_file()
    fe = pd.read_csv(out / "tables" / "fixed_effects.csv")
    ref = REF["soc_sources_REML"]  # tests/reference/mixed_reference.R (lme4 1.1-31)
    assert_allclose(fe["estimate"], list(ref["fixef"].values()), rtol=1e-4)
    run = json.loads((out / "run.json").read_text())
    assert_allclose(run["model"]["r2_conditional"], ref["r2_conditional"], atol=1e-3)
    pred = pd.read_csv(out / "tables" / "predictions.csv")
    assert_allclose(pred["fitted_conditional"], ref["fitted"], atol=1e-6)
    assert_allclose(pred["observed"], np.log10(pred["soc"]), rtol=1e-10)
    md = (out / "tables" / "report.md").read_text()
    assert "| Marginal R² / conditional R² |" in md


def test_mixed_random_slopes_and_ml(app, tmp_path):
    out = tmp_path / "s"
    r = runner.invoke(app, ["mixed", str(REFDIR / "mixed_sleepstudy.csv"), "--formula",
                            "Reaction ~ Days", "--group", "Subject", "--slopes", "Days", "--ml",
                            "--out", str(out)])
    assert r.exit_code == 0, r.output
    vc = pd.read_csv(out / "tables" / "variance_components.csv").set_index("component")
    ref = np.asarray(REF["sleepstudy_ML"]["random"]["Subject"]["cov"])
    assert_allclose(vc.loc["tau11", "value"], ref[1, 1], rtol=1e-3)
    assert_allclose(vc.loc["tau01", "value"], ref[0, 1], rtol=1e-3)


def test_anova_duncan_letters(app, montgomery, tmp_path):
    out = tmp_path / "a"
    r = runner.invoke(app, ["anova", str(montgomery), "--response", "strength", "--group",
                            "cotton", "--out", str(out)])
    assert r.exit_code == 0, r.output
    g = pd.read_csv(out / "tables" / "groups.csv", dtype={"group": str})
    assert g["group"].tolist() == ["30", "25", "20", "35", "15"]
    assert g["letters"].tolist() == ["a", "b", "b", "c", "c"]  # Montgomery's conclusion
    a = pd.read_csv(out / "tables" / "anova.csv")
    assert_allclose(a["ms"].iloc[1], 8.06, rtol=1e-12)
    assert (out / "figures" / "groups.png").is_file()
    r = runner.invoke(app, ["anova", str(montgomery), "--response", "strength", "--group",
                            "cotton", "--test", "tukey", "--out", str(tmp_path / "t")])
    assert r.exit_code == 0, r.output


def test_anova_missing_values_need_the_flag(app, montgomery, tmp_path):
    d = pd.read_csv(montgomery)
    d.loc[3, "strength"] = np.nan
    p = tmp_path / "gap.csv"
    d.to_csv(p, index=False)
    r = runner.invoke(app, ["anova", str(p), "-r", "strength", "-g", "cotton", "-o",
                            str(tmp_path / "x")])
    assert r.exit_code == 2
    assert "row 5" in r.output and "--drop-missing" in r.output
    r = runner.invoke(app, ["anova", str(p), "-r", "strength", "-g", "cotton", "-o",
                            str(tmp_path / "y"), "--drop-missing"])
    assert r.exit_code == 0, r.output
    ex = pd.read_csv(tmp_path / "y" / "tables" / "excluded.csv")
    assert ex["row"].tolist() == [5]


@pytest.mark.parametrize(("args", "needle"), [
    (["--formula", "log10(soc) ~ nppp", "--group", "source"], "'nppp'"),
    (["--formula", "log10(soc) ~ npp", "--group", "biome"], "'biome'"),
    (["--formula", "log10(soc) ~ npp", "--group", "one"], "at least two levels"),
])
def test_mixed_bad_input_is_one_line_exit_2(app, tmp_path, args, needle):
    d = pd.read_csv(REFDIR / "mixed_soc_sources.csv").assign(one="x")
    p = tmp_path / "d.csv"
    d.to_csv(p, index=False)
    r = runner.invoke(app, ["mixed", str(p), *args, "--out", str(tmp_path / "o")])
    assert r.exit_code == 2
    assert needle in r.output
    assert r.output.strip().startswith("error:")


def test_anova_bad_test_name(app, montgomery, tmp_path):
    r = runner.invoke(app, ["anova", str(montgomery), "-r", "strength", "-g", "cotton",
                            "--test", "scheffe", "-o", str(tmp_path / "z")])
    assert r.exit_code == 2
    assert "duncan" in r.output


@pytest.mark.slow
def test_drivers_stage_on_ncscd_pedons():
    # The demo stage: β of every NCSCD pedon (Jobbágy–Jackson fit), MAT/MAP from the bundled
    # grids, β ~ MAT + MAP (z-scored) + (1 | region), and β across soil orders with Duncan.
    # lme4 1.1-31 on the same 515 pedons (R 4.2.2, REML, run while writing this test):
    # intercept 0.9902406608, mat −9.259437e-05, map −2.109161e-03, τ00 1.893262e-05,
    # σ² 2.156514e-04; performance::r2_nakagawa 0.020 / 0.099.
    import warnings

    from wholesoil import datasets
    from wholesoil.depth import fit_depth_functions
    from wholesoil.profiles._qc import run_qc
    from wholesoil.workflows._drivers import drivers_stage_tables

    ps = run_qc(datasets.load_ncscd()).profiles
    fits = fit_depth_functions(ps.horizons, value="soc_density", method="stock")  # as R ref
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the region variance is near its boundary
        st = drivers_stage_tables(fits, ps.sites)
    res = st.mixed
    assert res.n_obs == 515 and res.n_groups == 4
    assert_allclose(res.fixed_effects["estimate"], [0.9902406608, -9.259437e-05, -2.109161e-03],
                    rtol=1e-4)
    assert_allclose([res.cov_re.iloc[0, 0], res.sigma2], [1.893262e-05, 2.156514e-04],
                    rtol=1e-3)
    assert_allclose([res.r2_marginal, res.r2_conditional], [0.020, 0.099], atol=1e-3)
    assert any("boundary" in w for w in res.warnings)
    groups = st.tables["groups_soil_order"]
    assert groups["group"].iloc[0] == "Histosol" and groups["letters"].iloc[0] == "a"
    ex = st.tables["excluded"]
    assert set(ex.loc[ex["analysis"] == "mixed", "reason"]) == {"region with < 5 pedons"}
    assert {"mixed_coefficients", "groups_soil_order"} <= set(st.figures)


def test_mixed_with_grouped_pca_terms_seed004(app, tmp_path):
    """Wang G. et al. (manuscript) Eqs. 7–8: each covariate group reduced by PCA (Kaiser rule), the kept scores
    appended to the fixed effects. Reference: the same fit done by hand — GroupedPCA (itself
    tested against R prcomp) then fit_mixed with the components written out."""
    from wholesoil.stats import GroupedPCA, fit_mixed

    rng = np.random.default_rng(4)
    n, g = 160, 8
    clim = rng.normal(size=(n, 1)) @ np.ones((1, 3)) + 0.3 * rng.normal(size=(n, 3))
    soil = rng.normal(size=(n, 2))
    biome = np.repeat([f"b{i}" for i in range(g)], n // g)
    u = rng.normal(0, 0.5, g)[np.repeat(np.arange(g), n // g)]
    y = 1.0 + 0.8 * clim.mean(axis=1) + 0.3 * soil[:, 0] + u + 0.4 * rng.normal(size=n)
    d = pd.DataFrame({"y": y, "biome": biome, "mat": clim[:, 0], "map": clim[:, 1],
                      "pet": clim[:, 2], "clay": soil[:, 0], "ph": soil[:, 1]})
    path = tmp_path / "d.csv"
    d.to_csv(path, index=False)
    out = tmp_path / "o"
    r = runner.invoke(app, ["mixed", str(path), "-f", "y ~ 1", "-g", "biome", "-o", str(out),
                            "--pca", "climate=mat,map,pet;soil=clay,ph"])
    assert r.exit_code == 0, r.output
    groups = {"climate": ["mat", "map", "pet"], "soil": ["clay", "ph"]}
    gp = GroupedPCA(groups=groups, remainder="drop")
    scores = gp.fit_transform(d[["mat", "map", "pet", "clay", "ph"]])
    names = [str(c) for c in gp.get_feature_names_out()]
    ref = fit_mixed(d.assign(**dict(zip(names, scores.T, strict=True))),
                    "y ~ 1 + " + " + ".join(names), "biome")
    fe = pd.read_csv(out / "tables" / "fixed_effects.csv")
    est = fe.set_index(fe.columns[0])["estimate"]
    assert list(est.index)[1:] == names
    assert_allclose(est.to_numpy(), ref.fixed_effects["estimate"].to_numpy(), rtol=1e-10)
    eig = pd.read_csv(out / "tables" / "pca_eigenvalues.csv")
    assert (eig["kept"] == (eig["eigenvalue"] > 1) | (eig["component"] == 1)).all()
    assert names[0] == "climate_PC1" and "soil_PC1" in names
    r = runner.invoke(app, ["mixed", str(path), "-f", "y ~ 1", "-g", "biome", "-o", str(out),
                            "--pca", "climate=mat,nope"])
    assert r.exit_code == 2 and "nope" in r.output
