"""wholesoil._record: the one run.json writer (fields, relative outputs, input checksums)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from wholesoil._record import run_record, write_run_record


def test_run_json_has_versions_inputs_with_sha256_and_relative_outputs(tmp_path):
    data = tmp_path / "in.csv"
    data.write_text("a\n1\n")
    out = tmp_path / "out"
    path = write_run_record(
        out, command="wholesoil test", options={"k": 1}, seed=3,
        inputs={"table": data, "frame": pd.DataFrame()},
        outputs={"t": out / "tables" / "x.csv", "nested": {"f": [out / "figures" / "a.png"]}},
        timings={"total": 0.5}, scheduler="threads", extra={"note": "x"})
    rec = json.loads(path.read_text())
    assert path == out / "run.json"
    assert rec["command"] == "wholesoil test" and rec["seed"] == 3
    assert rec["numpy"] == np.__version__ and rec["pandas"] == pd.__version__
    assert {"wholesoil", "python", "platform"} <= set(rec)
    assert rec["scheduler"] == "threads" and rec["parameters"] == {"k": 1}
    assert rec["inputs"] == {"table": str(data), "frame": "<DataFrame>"}
    # reference: hashlib over the file's bytes
    assert rec["input_sha256"] == {"table": hashlib.sha256(b"a\n1\n").hexdigest()}
    assert rec["outputs"] == {"t": "tables/x.csv", "nested": {"f": ["figures/a.png"]}}
    assert rec["timings_s"] == {"total": 0.5} and rec["note"] == "x"


def test_options_key_and_clashing_extra():
    rec = run_record("o", command="c", options={"a": 1}, options_key="options")
    assert rec["options"] == {"a": 1} and "seed" not in rec and "scheduler" not in rec
    with pytest.raises(ValueError, match="'seed' is set twice"):
        run_record("o", command="c", seed=1, extra={"seed": 2})
