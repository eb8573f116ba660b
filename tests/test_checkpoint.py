"""wholesoil._checkpoint.CheckpointStore: manifest checked on reopen, records written last."""

from __future__ import annotations

import json

import pytest

from wholesoil._checkpoint import MANIFEST, CheckpointStore
from wholesoil.errors import InputDataError


def test_parts_records_and_resume(tmp_path):
    st = CheckpointStore(tmp_path / "s", {"format": "f", "seed": 1}, format="f",
                         subdirs=("records",))
    assert st.record("records/a.json") is None
    part = st.write_part("parts/a.txt", lambda tmp: tmp.write_text("x"))
    st.write_record("records/a.json", {"rows": 1})
    assert part.read_text() == "x"
    again = CheckpointStore(tmp_path / "s", {"format": "f", "seed": 1}, format="f")
    assert again.record("records/a.json") == {"rows": 1}
    assert [p.name for p in again.finished("records/*.json")] == ["a.json"]
    assert not list((tmp_path / "s").rglob("*.tmp"))  # atomic: no temporaries left


def test_mismatch_names_the_manifest_and_field(tmp_path):
    CheckpointStore(tmp_path / "s", {"format": "f", "seed": 1}, format="f")
    with pytest.raises(InputDataError, match="made with a different seed") as ei:
        CheckpointStore(tmp_path / "s", {"format": "f", "seed": 2}, format="f",
                        checks=[("seed", "seed")])
    assert ei.value.field == "seed" and MANIFEST in str(ei.value.file)
    with pytest.raises(InputDataError, match="expected format 'g'"):
        CheckpointStore(tmp_path / "s", {"format": "g"}, format="g")


def test_foreign_folder_refused_unless_allowed(tmp_path):
    (tmp_path / "other.txt").write_text("x")
    with pytest.raises(InputDataError, match="not empty"):
        CheckpointStore(tmp_path, {"k": 1})
    st = CheckpointStore(tmp_path, {"k": 1}, refuse_foreign=False)
    assert json.loads((tmp_path / MANIFEST).read_text()) == {"k": 1}
    assert st.stored_manifest == {"k": 1}


def test_run_killed_while_writing_its_manifest_resumes(tmp_path):
    """Found by the kill-fault test: a kill between the manifest's temporary and its rename left
    only that temporary, and the next run refused the folder as foreign. A stale temporary of a
    dead process is removed first; any other file still makes the folder foreign."""
    folder = tmp_path / "store"
    folder.mkdir()
    dead_pid = 2**22 + 12345  # above Linux's pid_max default: no such process
    stale = folder / f".{MANIFEST}.{dead_pid}.0123abcd.tmp"
    stale.write_text("{")
    store = CheckpointStore(folder, {"key": 1})
    assert not stale.exists() and (folder / MANIFEST).is_file()
    assert store.stored_manifest == {"key": 1}
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(InputDataError, match=r"no manifest\.json"):
        CheckpointStore(other, {"key": 1})
