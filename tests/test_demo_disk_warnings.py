"""Issue 24 item 6: the demo says the disk it will write, keeps the Monte Carlo models only on
request, and routes Python warnings through the progress log."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from wholesoil.demo._disk import DISK_MB, disk_estimate_mb, disk_message
from wholesoil.demo._run import MONTE_CARLO_MODELS, _monte_carlo_models, _stage
from wholesoil.progress import settings, warnings_as_notes


def test_default_demo_writes_under_100_mb() -> None:
    for quick in (True, False):
        end, peak = disk_estimate_mb(quick=quick, keep_models=False)
        assert end < 100
        assert peak > end
    # the full run with the models, measured 2026-12-07 (du -sk: 410.0 MB; issue 24 saw 401 MB)
    assert disk_estimate_mb(quick=False, keep_models=True)[0] == pytest.approx(410.0, abs=0.1)
    assert set(DISK_MB) == {"quick", "full"}


def test_disk_message_names_size_basis_and_flag() -> None:
    msg = disk_message(quick=False, keep_models=False)
    assert "MB" in msg and "--keep-models" in msg and "measured 2026-12-07" in msg


def _fake_models(out: Path) -> None:
    for p in MONTE_CARLO_MODELS:
        (out / p).mkdir(parents=True)
        (out / p / "model.skops").write_bytes(b"x" * 1000)


def test_monte_carlo_models_deleted_by_default(tmp_path: Path) -> None:
    _fake_models(tmp_path)
    text = _monte_carlo_models(tmp_path, keep=False)
    assert not any((tmp_path / p).exists() for p in MONTE_CARLO_MODELS)
    assert "deleted" in text and "--keep-models" in text


def test_monte_carlo_models_kept_on_request(tmp_path: Path) -> None:
    _fake_models(tmp_path)
    text = _monte_carlo_models(tmp_path, keep=True)
    assert all((tmp_path / p / "model.skops").exists() for p in MONTE_CARLO_MODELS)
    assert "kept" in text


def _warns() -> None:
    warnings.warn("The MLE may be on the boundary of the parameter space.", UserWarning,
                  stacklevel=1)
    warnings.warn("The MLE may be on the boundary of the parameter space.", UserWarning,
                  stacklevel=1)


def test_warning_inside_a_demo_stage_is_a_note_not_a_python_warning(capfd) -> None:
    with settings(quiet=False), _stage("a stage", stage="demo-test"):
        _warns()
    err = capfd.readouterr().err
    assert "UserWarning: The MLE may be on the boundary" in err
    assert err.count("The MLE may be on the boundary") == 1  # once
    assert ".py:" not in err  # no source path and line
    assert "warnings.warn" not in err


def test_warnings_as_notes_returns_the_lines() -> None:
    with settings(quiet=True), warnings_as_notes() as lines:
        _warns()
    assert lines == ["note: UserWarning: The MLE may be on the boundary of the parameter space."]
