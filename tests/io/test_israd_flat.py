"""ISRaD flat layer files: the database's table files and a flat file written from them give
the same profiles and layers (exact: both are read from the same text values)."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from wholesoil.datasets import REGISTRY, data_path
from wholesoil.errors import InputDataError
from wholesoil.io import flatten_israd, read_israd, write_israd_flat
from wholesoil.io._israd import read_israd_tables


@pytest.fixture(scope="module")
def database():
    return read_israd(data_path(REGISTRY["israd"]["files"][0]).parent)


@pytest.fixture(scope="module")
def flat_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("flat") / "ISRaD_extra_flat_layer.csv.gz"
    return write_israd_flat(data_path(REGISTRY["israd"]["files"][0]).parent, path)


def _same(a: pd.DataFrame, b: pd.DataFrame, key: list[str]) -> None:
    a = a.sort_values(key).reset_index(drop=True)
    b = b.sort_values(key).reset_index(drop=True)
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_flat_file_round_trip(database, flat_file):
    flat = read_israd(flat_file)
    assert len(flat.sites) == 4591 and len(flat.horizons) == 36941
    assert int(flat.horizons.d14c.notna().sum()) == 7862
    _same(database.sites, flat.sites, ["profile_id"])
    key = ["profile_id", "top", "bottom", "layer_name", "d14c", "soc", "bd"]
    _same(database.horizons.drop(columns="source_row"), flat.horizons.drop(columns="source_row"),
          key)
    # every entry with a profile and its DOI (a flat layer file has no row for the 4 entries
    # without profiles; Gaudinski_2001's second curation row is left out, see flatten_israd)
    e_db = database.metadata["entries_table"].drop_duplicates("entry_name")
    e_db = e_db[e_db.entry_name.isin(database.sites.entry)]
    e_fl = flat.metadata["entries_table"]
    assert len(e_fl) == 431 == len(e_db)
    assert e_fl.doi.notna().sum() == e_db.doi.notna().sum() > 400
    _same(e_db.reset_index(drop=True), e_fl, ["entry_name"])


def test_flat_source_rows_point_into_the_flat_file(flat_file):
    ps = read_israd(flat_file)
    raw = pd.read_csv(flat_file, dtype=str, keep_default_na=False, na_values=[""])
    h = ps.horizons.sample(200, random_state=1)
    rows = raw.iloc[h.source_row.to_numpy() - 2]
    assert (rows.lyr_name.to_numpy() == h.layer_name.to_numpy()).all()


def test_flatten_keeps_profiles_without_layers():
    tables = read_israd_tables(data_path(REGISTRY["israd"]["files"][0]).parent)
    flat = flatten_israd(tables)
    assert len(flat) == 36941 + 546          # 546 profiles have no layer
    assert flat.attrs["metadata_rows_left_out"].entry_name.tolist() == ["Gaudinski_2001"]
    # the layer table repeats pro_graven_zone; 121 layers differ from their profile (QC lists them)
    assert flat.attrs["layer_columns_left_out"] == {"pro_graven_zone": 121}


def test_flat_file_conflicting_profile_rows(tmp_path):
    src = data_path("profiles/israd_gaudinski2001")
    path = write_israd_flat(src, tmp_path / "flat.csv")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[3, "pro_MAT"] = "99"
    df.to_csv(path, index=False)
    with pytest.raises(InputDataError, match=r"profile columns differ.*row 5|row 5.*profile"):
        read_israd(path)


def test_unknown_layout_and_other_flat_files(tmp_path):
    odd = tmp_path / "whatever.csv"
    odd.write_text("a,b\n1,2\n")
    with pytest.raises(InputDataError, match="unknown ISRaD column layout"):
        read_israd(odd)
    frc = tmp_path / "ISRaD_extra_flat_fraction.csv.gz"
    with gzip.open(frc, "wt") as fh:
        fh.write("entry_name,site_name,site_lat,pro_name,frc_name\nA,B,1,C,D\n")
    with pytest.raises(InputDataError, match="flat fraction file"):
        read_israd(frc)


def test_d14c_outside_physical_range(tmp_path):
    src = data_path("profiles/israd_gaudinski2001")
    for f in src.glob("*.csv"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    layer = pd.read_csv(tmp_path / "layer.csv", dtype=str, keep_default_na=False)
    i = int(np.flatnonzero(layer.lyr_14c != "")[0])
    layer.loc[i, "lyr_14c"] = "-1500"
    layer.to_csv(tmp_path / "layer.csv", index=False)
    with pytest.raises(InputDataError, match=rf"physical range.*row {i + 2}|row {i + 2}.*range"):
        read_israd(tmp_path)


def test_cli_format_israd_takes_a_flat_file(tmp_path):
    """`--format israd` reads an entry folder and its flat file to the same output."""
    from typer.testing import CliRunner

    from wholesoil.cli import app

    src = data_path("profiles/israd_gaudinski2001")
    flat = write_israd_flat(src, tmp_path / "flat.csv")
    runner = CliRunner()
    for name, path in (("dir", src), ("flat", flat)):
        res = runner.invoke(app, ["density", str(path), "--format", "israd", "-o",
                                  str(tmp_path / f"out_{name}.csv"), "--qc", "repair"])
        assert res.exit_code == 0, res.output
    assert (tmp_path / "out_dir.csv").read_bytes() == (tmp_path / "out_flat.csv").read_bytes()
