"""wholesoil.assimilation._runner: checkpointed, resumable fan-out of per-batch work."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wholesoil.assimilation._runner import (
    MANIFEST,
    RunSummary,
    batch_seed,
    collect,
    run_profiles,
)
from wholesoil.errors import InputDataError

IDS = [f"p{i:03d}" for i in range(23)]  # 23 profiles, batch size 5: 5 batches, last holds 3


# The work function is defined from source in a namespace named "__main__", so that cloudpickle
# ships it by value to LocalCluster worker processes (the test module, imported by pytest in
# importlib mode, cannot be imported there).
WORK_SRC = """
import numpy as np
import pandas as pd


def work(ids, seed):
    \"\"\"Cheap, deterministic in (ids, seed): a summary row and two layer rows per profile.\"\"\"
    rng = np.random.default_rng(seed)
    draws = rng.normal(size=len(ids))
    summary = pd.DataFrame({"profile_id": ids, "draw": draws,
                            "n": [int(p[1:]) for p in ids]})
    layers = pd.DataFrame({"profile_id": np.repeat(ids, 2), "layer": np.tile([0, 1], len(ids)),
                           "soc": np.repeat(draws, 2) + np.tile([0.0, 1.0], len(ids))})
    return {"summary": summary, "layers": layers}
"""
_ns: dict = {"__name__": "__main__"}
exec(WORK_SRC, _ns)
work = _ns["work"]


class Counting:
    """work, counting calls per first id; optionally failing once on a given batch."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[str] = []
        self.fail_on = fail_on

    def __call__(self, ids, seed):
        self.calls.append(ids[0])
        if ids[0] == self.fail_on:
            self.fail_on = None
            raise RuntimeError("injected failure")
        return work(ids, seed)


def expected_tables(ids, batch_size, seed):
    """The tables by hand: work on each batch with the batch seed, concatenated in order."""
    parts = [work(ids[k:k + batch_size], batch_seed(seed, k // batch_size))
             for k in range(0, len(ids), batch_size)]
    return {name: pd.concat([p[name] for p in parts], ignore_index=True)
            for name in ("layers", "summary")}


def test_batch_seed_is_numpy_spawned_stream():
    # Eq. 1: the state of SeedSequence(seed).spawn(n)[k], depending on (seed, k) only
    spawned = np.random.SeedSequence(42).spawn(4)
    for k in range(4):
        assert batch_seed(42, k) == int(spawned[k].generate_state(1, dtype=np.uint64)[0])
    assert len({batch_seed(42, k) for k in range(100)}) == 100
    assert batch_seed(42, 3) != batch_seed(43, 3)


def test_run_and_collect_equal_batches_by_hand(tmp_path):
    summary = run_profiles(IDS, work, tmp_path / "run", batch_size=5, seed=7)
    assert summary == RunSummary(out=tmp_path / "run", n_batches=5, computed=(0, 1, 2, 3, 4),
                                 reused=())
    tables = collect(tmp_path / "run")
    exp = expected_tables(IDS, 5, 7)
    assert sorted(tables) == ["layers", "summary"]
    for name in exp:
        pd.testing.assert_frame_equal(tables[name], exp[name])
    assert tables["summary"]["profile_id"].tolist() == IDS
    assert (tmp_path / "run/parts/summary/batch-00004.parquet").is_file()
    rec = json.loads((tmp_path / "run/records/batch-00004.json").read_text())
    assert rec["profile_ids"] == IDS[20:] and rec["seed"] == batch_seed(7, 4)
    assert rec["tables"]["layers"]["rows"] == 6
    # a second run reuses everything and computes nothing
    again = Counting()
    s2 = run_profiles(IDS, again, tmp_path / "run", batch_size=5, seed=7)
    assert again.calls == [] and s2.reused == (0, 1, 2, 3, 4) and s2.computed == ()


def test_resume_after_injected_failure(tmp_path):
    out = tmp_path / "run"
    first = Counting(fail_on="p010")  # batch 2 fails
    with pytest.raises(RuntimeError, match="injected"):
        run_profiles(IDS, first, out, batch_size=5, seed=3)
    assert first.calls == ["p000", "p005", "p010"]
    with pytest.raises(InputDataError, match="3 of 5 batches are not finished"):
        collect(out)
    partial = collect(out, allow_partial=True)
    assert partial["summary"]["profile_id"].tolist() == IDS[:10]
    second = Counting()
    s = run_profiles(IDS, second, out, batch_size=5, seed=3)
    assert second.calls == ["p010", "p015", "p020"]  # finished batches never recomputed
    assert s.reused == (0, 1) and s.computed == (2, 3, 4)
    tables = collect(out)
    exp = expected_tables(IDS, 5, 3)
    for name in exp:
        pd.testing.assert_frame_equal(tables[name], exp[name])
    assert not tables["layers"].duplicated(["profile_id", "layer"]).any()


def test_orphan_part_without_record_is_ignored_and_overwritten(tmp_path):
    out = tmp_path / "run"
    run_profiles(IDS[:10], work, out, batch_size=5, seed=1)
    # simulate a kill between the parts and the record of batch 1
    (out / "records/batch-00001.json").unlink()
    pd.DataFrame({"profile_id": ["p005"] * 9, "draw": 99.0, "n": 5}).to_parquet(
        out / "parts/summary/batch-00001.parquet", index=False)
    assert collect(out, allow_partial=True)["summary"]["profile_id"].tolist() == IDS[:5]
    calls = Counting()
    run_profiles(IDS[:10], calls, out, batch_size=5, seed=1)
    assert calls.calls == ["p005"]
    pd.testing.assert_frame_equal(collect(out)["summary"],
                                  expected_tables(IDS[:10], 5, 1)["summary"])


def test_changed_part_is_refused(tmp_path):
    out = tmp_path / "run"
    run_profiles(IDS[:5], work, out, batch_size=5, seed=1)
    pd.DataFrame({"profile_id": ["p000"], "draw": 0.0, "n": 0}).to_parquet(
        out / "parts/summary/batch-00000.parquet", index=False)
    with pytest.raises(InputDataError, match="missing or changed") as ei:
        collect(out)
    assert ei.value.field == "sha256"


@pytest.mark.parametrize(("change", "field"), [
    ({"seed": 8}, "seed"),
    ({"batch_size": 4}, "batch_size"),
    ({"profile_ids": IDS[:-1]}, "profile_ids"),
    ({"settings": {"model": "compas"}}, "settings"),
])
def test_store_made_with_other_settings_is_refused(tmp_path, change, field):
    out = tmp_path / "run"
    base = {"profile_ids": IDS, "batch_size": 5, "seed": 7, "settings": {"model": "clm5"}}
    run_profiles(base["profile_ids"], work, out, batch_size=5, seed=7,
                 settings=base["settings"])
    args = {**base, **change}
    with pytest.raises(InputDataError, match="made with a different") as ei:
        run_profiles(args["profile_ids"], work, out, batch_size=args["batch_size"],
                     seed=args["seed"], settings=args["settings"])
    assert ei.value.field == field


def test_bad_inputs_are_refused(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full/other.txt").write_text("x")
    with pytest.raises(InputDataError, match=f"no {MANIFEST}"):
        run_profiles(IDS, work, tmp_path / "full", batch_size=5, seed=1)
    with pytest.raises(InputDataError, match="unique") as ei:
        run_profiles(["a", "b", "a"], work, tmp_path / "r1", batch_size=5, seed=1)
    assert ei.value.field == "profile_ids"
    with pytest.raises(InputDataError) as ei:
        run_profiles(IDS, work, tmp_path / "r2", batch_size=0, seed=1)
    assert ei.value.field == "batch_size"
    with pytest.raises(InputDataError) as ei:
        run_profiles(IDS, work, tmp_path / "r3", batch_size=5, seed=-1)
    assert ei.value.field == "seed"
    with pytest.raises(InputDataError, match="no profile_id column"):
        run_profiles(IDS, lambda ids, s: {"t": pd.DataFrame({"x": [1]})}, tmp_path / "r4",
                     batch_size=5, seed=1)
    with pytest.raises(InputDataError, match="outside the batch") as ei:
        run_profiles(IDS, lambda ids, s: {"t": pd.DataFrame({"profile_id": ["zzz"]})},
                     tmp_path / "r5", batch_size=5, seed=1)
    assert ei.value.value == "zzz"
    # a failed batch leaves no record behind
    assert not list((tmp_path / "r5/records").iterdir())


def test_integer_ids_round_trip(tmp_path):
    ids = [5, 3, 11, 2]
    run_profiles(ids, lambda b, s: {"t": pd.DataFrame({"profile_id": b[::-1]})},
                 tmp_path / "run", batch_size=3, seed=0)
    assert collect(tmp_path / "run")["t"]["profile_id"].tolist() == ids  # manifest order


# --------------------------------------------------------------------------------------------
# Slow: a real SIGKILL mid-run, and a LocalCluster
# --------------------------------------------------------------------------------------------

SCRIPT = """
import sys, time
import numpy as np, pandas as pd
from wholesoil.assimilation._runner import run_profiles

out, log = sys.argv[1], sys.argv[2]

def work(ids, seed):
    with open(log, "a") as fh:
        fh.write(ids[0] + "\\n")
    time.sleep(0.15)
    rng = np.random.default_rng(seed)
    return {"summary": pd.DataFrame({"profile_id": ids, "draw": rng.normal(size=len(ids))}),
            "layers": pd.DataFrame({"profile_id": np.repeat(ids, 3),
                                    "soc": rng.gamma(2.0, size=3 * len(ids))})}

run_profiles([f"p{i:03d}" for i in range(60)], work, out, batch_size=3, seed=11)
"""


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_equals_uninterrupted(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(SCRIPT))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[2] / "src"), os.environ.get("PYTHONPATH", "")])}
    ref, out, log = tmp_path / "ref", tmp_path / "out", tmp_path / "calls.log"
    subprocess.run([sys.executable, str(script), str(ref), str(tmp_path / "ref.log")], env=env,
                   check=True, timeout=120)
    proc = subprocess.Popen([sys.executable, str(script), str(out), str(log)], env=env)
    deadline = time.monotonic() + 60
    records = out / "records"
    while time.monotonic() < deadline:  # kill once a few batches (of 20) are recorded
        if records.is_dir() and len(list(records.glob("*.json"))) >= 5:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    done_before = {json.loads(p.read_text())["profile_ids"][0] for p in records.glob("*.json")}
    assert 5 <= len(done_before) < 20
    with pytest.raises(InputDataError, match="not finished"):
        collect(out)
    subprocess.run([sys.executable, str(script), str(out), str(log)], env=env, check=True,
                   timeout=120)
    calls = log.read_text().split()
    for first in done_before:  # recorded before the kill: computed once, never again
        assert calls.count(first) == 1
    assert set(calls) == {f"p{i:03d}" for i in range(0, 60, 3)}
    got, exp = collect(out), collect(ref)
    assert sorted(got) == sorted(exp) == ["layers", "summary"]
    for name in exp:
        pd.testing.assert_frame_equal(got[name], exp[name])
    assert got["summary"]["profile_id"].is_unique and len(got["layers"]) == 180


@pytest.mark.slow
def test_local_cluster_equals_in_process(tmp_path):
    from wholesoil.parallel import dask_client

    with dask_client(n_workers=2, threads_per_worker=1, processes=True) as client:
        s = run_profiles(IDS, work, tmp_path / "cluster", batch_size=2, seed=5, client=client)
        assert s.computed == tuple(range(12))

        def failing(ids, seed):
            if ids[0] == "p004":
                raise RuntimeError("injected failure")
            return work(ids, seed)

        failing.__module__ = "__main__"  # shipped by value, like work
        with pytest.raises(RuntimeError, match="injected"):
            run_profiles(IDS, failing, tmp_path / "fail", batch_size=2, seed=5, client=client)
        assert not (tmp_path / "fail/records/batch-00002.json").exists()
        s2 = run_profiles(IDS, work, tmp_path / "fail", batch_size=2, seed=5, client=client)
        assert 2 in s2.computed and 2 not in s2.reused
    run_profiles(IDS, work, tmp_path / "local", batch_size=2, seed=5)
    for store in ("cluster", "fail"):
        got, exp = collect(tmp_path / store), collect(tmp_path / "local")
        for name in exp:
            pd.testing.assert_frame_equal(got[name], exp[name])
