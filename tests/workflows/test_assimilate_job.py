"""`wholesoil assimilate` end to end on real NCSCD pedons with short chains.

References: the calibration function run directly on the same batch with the runner's batch
seed (the job must reproduce it exactly), the Tao et al. (EarthArXiv) filters with their reasons, and a rerun
that finds every batch finished.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from wholesoil.cli import app
from wholesoil.datasets import load_ncscd
from wholesoil.profiles._qc import run_qc

runner = CliRunner()


@pytest.fixture(scope="module")
def profile_table(tmp_path_factory):
    ps = run_qc(load_ncscd()).profiles
    h = ps.horizons[["profile_id", "top", "bottom", "soc_density"]]
    ids = list(h.profile_id.unique()[:3])
    t = h[h.profile_id.isin(ids)].merge(ps.sites[["profile_id", "lat", "lon"]],
                                        on="profile_id")
    # a fourth profile with two layers only: filtered by Tao et al. (EarthArXiv) §2.1, with its reason
    short = t[t.profile_id == ids[0]].head(2).assign(profile_id="SHORT")
    path = tmp_path_factory.mktemp("p") / "profiles.csv"
    pd.concat([t, short]).to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_assimilate_filters_calibrates_and_resumes(profile_table, tmp_path):
    args = ["assimilate", str(profile_table), "--out", str(tmp_path), "--iterations", "200,300",
            "--batch-size", "2", "--seed", "7"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    prof = pd.read_csv(tmp_path / "tables" / "profiles.csv")
    assert len(prof) == 4
    short = prof[prof.profile_id == "SHORT"].iloc[0]
    assert "fewer than 3 layers" in short["reason"] and not short["accepted"]
    par = pd.read_csv(tmp_path / "tables" / "parameters.csv")
    assert par.groupby("profile_id").size().eq(21).all() and par.profile_id.nunique() == 3
    assert ((par["q025"] <= par["mean"]) & (par["mean"] <= par["q975"])).all()
    pred = pd.read_csv(tmp_path / "tables" / "predictive.csv")
    assert pred.profile_id.nunique() == 3
    comp = pd.read_csv(tmp_path / "tables" / "components.csv")
    assert comp.groupby("profile_id").size().eq(6).all() and comp.profile_id.nunique() == 3
    assert set(comp["component"]) == {"cte", "k_bulk", "xi_system", "b_system", "v_system",
                                      "input"}
    chains = pd.read_parquet(tmp_path / "tables" / "chains.parquet")
    # 3 chains × ceil(150 / 10) kept states (burn-in half of 300, thin 10) per profile
    assert chains.groupby("profile_id").size().eq(3 * 15).all()
    before = par.copy()
    res = runner.invoke(app, args)  # rerun: every batch comes from the checkpoints
    assert res.exit_code == 0, res.output
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["batches"]["computed"] == [] and len(run["batches"]["reused"]) == 2
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "tables" / "parameters.csv"), before)
    res = runner.invoke(app, [*args[:-1], "8"])  # another seed into the same folder: refused
    assert res.exit_code != 0 and "seed" in res.output


def test_assimilate_bad_input_is_named(tmp_path):
    (tmp_path / "p.csv").write_text("profile_id,top,bottom\nA,0,10\n")
    res = runner.invoke(app, ["assimilate", str(tmp_path / "p.csv"), "--out", str(tmp_path / "o")])
    assert res.exit_code != 0 and "soc_density" in res.output
    res = runner.invoke(app, ["assimilate", str(tmp_path / "p.csv"), "--out", str(tmp_path / "o"),
                              "--model", "century"])
    assert res.exit_code != 0 and "century" in res.output


def test_assimilate_with_no_profile_passing_the_filters_says_why(tmp_path):
    """Two layers to 30 cm fail the paper's filters (≥ 3 layers, deeper than 50 cm): one error
    line with the reason, no traceback (it was an IndexError)."""
    (tmp_path / "few.csv").write_text("profile_id,top,bottom,soc_density,mat,map\n"
                                      "A,0,10,30,8,800\nA,10,30,20,8,800\n")
    res = runner.invoke(app, ["assimilate", str(tmp_path / "few.csv"), "--out",
                              str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    assert res.output.startswith("error: few.csv") and "\n" not in res.output.strip()
    assert "fewer than 3 layers" in res.output and "no profile passes" in res.output


def test_assimilate_accepts_integer_profile_ids(profile_table, tmp_path):
    """A CSV whose profile ids are numbers (WoSIS) is calibrated: ids are labels (text)."""
    t = pd.read_csv(profile_table)
    t = t[t.profile_id != "SHORT"]
    t["profile_id"] = t["profile_id"].map({p: 1000 + i for i, p in
                                           enumerate(t.profile_id.unique())})
    path = tmp_path / "int_ids.csv"
    t.to_csv(path, index=False)
    res = runner.invoke(app, ["assimilate", str(path), "--out", str(tmp_path / "o"),
                              "--iterations", "10,20", "--batch-size", "2"])
    assert res.exit_code == 0, res.output
    prof = pd.read_csv(tmp_path / "o" / "tables" / "profiles.csv")
    assert sorted(prof.profile_id) == [1000, 1001, 1002]
