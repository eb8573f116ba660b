"""`wholesoil train` / `predict` end to end on a simulated layer-level table (Wang G. et al. (2025) design).

The table: 60 profiles × 4 layers with top/bottom as predictors; SOC density per cm falls
exponentially with depth and rises with MAP, plus N(0, 0.1²) noise, so the model must learn a
depth function and a climate effect.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from wholesoil.cli import app
from wholesoil.mapping._persist import load_model
from wholesoil.workflows import predict_job, train_job

runner = CliRunner()
LAYERS = ((0, 30), (30, 100), (100, 200), (200, 300))


def layer_table(n_profiles: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lat = rng.uniform(50, 70, n_profiles)
    lon = rng.uniform(-150, 150, n_profiles)
    mat = rng.uniform(-15, 5, n_profiles)
    map_ = rng.uniform(200, 900, n_profiles)
    rows = []
    for top, bottom in LAYERS:
        mid = (top + bottom) / 2
        dens = (map_ / 300.0) * np.exp(-mid / 80.0) + 0.02 * mat + rng.normal(0, 0.1, n_profiles)
        rows.append(pd.DataFrame({
            "profile_id": [f"P{i:03d}" for i in range(n_profiles)], "lat": lat, "lon": lon,
            "mat": mat, "map": map_, "top": float(top), "bottom": float(bottom),
            "density_per_cm": dens,
        }))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("train")
    table = layer_table()
    res = train_job(
        table, "density_per_cm", ["mat", "map", "top", "bottom"], out, groups="profile_id",
        learner="rf", learner_params={"n_estimators": 60}, n_splits=5, importance_repeats=3,
    )
    return table, out, res


def test_train_writes_model_tables_figures_and_run_json(trained):
    _, out, res = trained
    assert res.outputs["model"].name == "model.json"
    for rel in ["model/model.skops", "model/model.json", "run.json",
                "tables/cv_predictions.csv", "tables/cv_metrics.csv", "tables/cv_by_depth.csv",
                "tables/importance.csv", "tables/partial_dependence.csv",
                "figures/cv_by_depth.png", "figures/importance.png",
                "figures/partial_dependence.png"]:
        assert (out / rel).is_file(), rel
    run = json.loads((out / "run.json").read_text())
    assert run["parameters"]["groups"] == "profile_id"
    assert run["cv_metrics"]["n"] == 240


def test_cv_never_splits_a_profile_and_predicts_every_row_once(trained):
    table, out, _ = trained
    pred = pd.read_csv(out / "tables" / "cv_predictions.csv")
    assert len(pred) == len(table)
    assert pred["row"].sort_values().tolist() == list(range(len(table)))
    assert (pred.groupby("group")["fold"].nunique() == 1).all()


def test_depthwise_skill_has_one_row_per_band(trained):
    _, out, _ = trained
    by_depth = pd.read_csv(out / "tables" / "cv_by_depth.csv")
    assert len(by_depth) == 4
    assert by_depth["n"].tolist() == [60, 60, 60, 60]


def test_model_learns_the_signal(trained):
    # noise sd 0.1 against a signal of sd ~0.6: a working model explains most of the variance
    _, out, _ = trained
    m = pd.read_csv(out / "tables" / "cv_metrics.csv").iloc[0]
    assert m["r2"] > 0.7
    imp = pd.read_csv(out / "tables" / "importance.csv")
    # depth and MAP carry the signal; MAT's effect (0.02 per °C over 20 °C) is smaller
    assert set(imp["feature"].iloc[:2]) <= {"top", "bottom", "map"}


def test_predict_reproduces_the_final_model(trained, tmp_path):
    table, out, _ = trained
    res = predict_job(out / "model", table, tmp_path / "p.csv", keep=["profile_id"])
    saved = load_model(out / "model")
    expected = saved.estimator.predict(table[saved.features].astype(float))
    np.testing.assert_array_equal(res.table["density_per_cm_pred"].to_numpy(), expected)


def test_cli_train_and_predict(tmp_path):
    src = tmp_path / "layers.csv"
    layer_table(30, seed=1).to_csv(src, index=False)
    r = runner.invoke(app, [
        "train", str(src), "--target", "density_per_cm", "--features", "mat,map,top,bottom",
        "--groups", "profile_id", "--cv", "spatial", "--folds", "3", "--block-size", "10",
        "--param", "n_estimators=30", "--out", str(tmp_path / "m"),
    ])
    assert r.exit_code == 0, r.output
    assert "spatial CV" in r.output
    r = runner.invoke(app, ["predict", str(tmp_path / "m" / "model"), str(src),
                            "--output", str(tmp_path / "p.csv"), "--keep", "profile_id,top"])
    assert r.exit_code == 0, r.output
    assert list(pd.read_csv(tmp_path / "p.csv").columns) == [
        "profile_id", "top", "density_per_cm_pred"]


@pytest.mark.parametrize(
    ("edit", "args", "message"),
    [
        (None, ["--features", "mat,nope"], "feature column(s) ['nope'] not in the table"),
        ("nan", [], "row 5, field 'mat': Input X contains NaN"),
        ("constant", [], "target has no variance"),
        (None, ["--folds", "50"], "50 folds"),
        (None, ["--learner", "forest"], "unknown learner"),
    ],
    ids=["missing-feature", "nan-feature", "constant-target", "too-many-folds", "bad-learner"],
)
def test_cli_bad_input_is_one_clear_line(tmp_path, edit, args, message):
    table = layer_table(20, seed=2)
    if edit == "nan":
        table.loc[3, "mat"] = np.nan
    if edit == "constant":
        table["density_per_cm"] = 1.5
    src = tmp_path / "t.csv"
    table.to_csv(src, index=False)
    base = ["train", str(src), "--target", "density_per_cm", "--features", "mat,map,top,bottom",
            "--groups", "profile_id", "--out", str(tmp_path / "o"), "--param", "n_estimators=5"]
    r = runner.invoke(app, base + args)
    assert r.exit_code == 2, r.output
    assert message in " ".join(r.output.split())


@pytest.mark.slow
def test_train_with_intervals_saves_interval_models_that_reproduce_direct_fits(tmp_path):
    """The saved Coulston / Monte Carlo models are the fits `fit_interval_models` makes."""
    from wholesoil.workflows._train import fit_interval_models

    table = layer_table(n_profiles=25)
    feats = ["mat", "map", "top", "bottom"]
    res = train_job(
        table, "density_per_cm", feats, tmp_path, groups="profile_id",
        learner="rf", learner_params={"n_estimators": 30}, n_splits=3, importance_repeats=2,
        intervals=True, interval_trees=20, mc_boot=5, mc_draws=50, pd_rows=40,
    )
    coul = load_model(tmp_path / "model" / "intervals" / "coulston")
    mc = load_model(tmp_path / "model" / "intervals" / "montecarlo")
    assert res.outputs["interval_coulston"].exists()
    assert coul.meta["interval"] == "coulston" and mc.meta["level"] == 0.9
    assert mc.estimator.perturb == ["mat", "map"]  # depth columns are not perturbed
    direct = fit_interval_models(
        table, "density_per_cm", feats, group_ids=table["profile_id"].to_numpy(), level=0.9,
        depth_columns=["top", "bottom"], n_estimators=20, n_boot=5, n_draws=50,
    )
    X = table[feats].iloc[:10]
    for kind, saved in (("coulston", coul), ("montecarlo", mc)):
        a = saved.estimator.predict_interval(X)
        b = direct[kind].predict_interval(X)
        np.testing.assert_array_equal(a.lower, b.lower)
        np.testing.assert_array_equal(a.upper, b.upper)
