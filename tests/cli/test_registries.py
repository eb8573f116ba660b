"""The reader and model registries feed the command line's --format and --model help."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from wholesoil.cli import app
from wholesoil.io import _registry as readers
from wholesoil.models import _registry as models

runner = CliRunner()


def _help(*cmd: str) -> str:
    res = runner.invoke(app, [*cmd, "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    return " ".join(res.output.replace("│", " ").split())


@pytest.fixture
def fake_reader():
    readers.register_reader("fakefmt", f"{__name__}:_fake_read", ("*.fake",),
                            "a fake format for the test")
    yield
    readers.unregister_reader("fakefmt")


@pytest.fixture
def fake_model():
    models.register_model("fakemodel", f"{__name__}:_FakeModel", "a fake model",
                          ("simulate", "sensitivity"))
    yield
    models.unregister_model("fakemodel")


def _fake_read(path):  # pragma: no cover - never called
    raise AssertionError


class _FakeModel:  # pragma: no cover - never used
    pass


@pytest.mark.parametrize("command", ["harmonize", "qc", "density", "beta"])
def test_a_registered_reader_is_in_format_help(fake_reader, command):
    assert "fakefmt (a fake format for the test)" in _help(command)


def test_an_unregistered_reader_is_gone(fake_reader):
    readers.unregister_reader("fakefmt")
    assert "fakefmt" not in _help("harmonize")


def test_a_registered_model_is_in_model_help_of_the_commands_it_supports(fake_model):
    assert "clm5 | compas | fakemodel" in _help("simulate")
    assert "mimics | millennial | tao2024 | awb | fakemodel" in _help("sensitivity")
    assert "fakemodel" not in _help("assimilate")


def test_format_help_as_before_and_readers_load_on_use():
    assert readers.format_help() == (
        "Input: table (CSV/Parquet; id/depth/column-map options apply), or a source read by its "
        "reader: wosis (per-attribute CSVs or their folder), israd (entry folder), ncscd.")
    from wholesoil.io import read_clm5_history, read_israd, read_table, read_wosis

    assert readers.get_reader("table") is read_table
    assert readers.get_reader("wosis") is read_wosis
    assert readers.get_reader("israd") is read_israd
    assert readers.get_reader("clm5-history") is read_clm5_history
    assert readers.reader_names("forcing") == ["clm5-history"]


def test_the_jobs_source_readers_follow_the_registry(fake_reader):
    from wholesoil.workflows._jobs import READERS

    assert list(READERS) == ["wosis", "israd", "ncscd", "fakefmt"]
    assert READERS["fakefmt"] is _fake_read
    readers.unregister_reader("fakefmt")
    assert "fakefmt" not in READERS


def test_models_registry_loads_the_classes():
    from wholesoil.models import CLM5, COMPAS, MIMICS, AWBModel, Millennial, Tao2024Model

    assert models.model_names("simulate") == ["clm5", "compas"]
    assert models.model_names("assimilate") == ["clm5", "compas"]
    assert models.model_names("sensitivity") == ["mimics", "millennial", "tao2024", "awb"]
    loaded = [models.get_model(n) for n in models.model_names()]
    assert loaded == [CLM5, COMPAS, MIMICS, Millennial, Tao2024Model, AWBModel]
    with pytest.raises(ValueError, match="unknown commands"):
        models.register_model("x", "a:b", commands=("fly",))


def test_registries_and_help_import_no_numpy_or_pandas():
    code = ("import sys; from wholesoil.io import _registry; from wholesoil.models import "
            "_registry; import wholesoil.cli; "
            "print(sorted(m for m in ('numpy', 'pandas', 'scipy', 'wholesoil.workflows') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_c14_default_decay_constant_is_the_atmosphere_module_s():
    from wholesoil.cli.radiocarbon import LAMBDA_SEED004 as cli_value
    from wholesoil.radiocarbon._atmosphere import LAMBDA_SEED004

    assert cli_value == LAMBDA_SEED004
