"""Headers of the files written for a user (issue 24 items 1 and 5): the user's names, units in
brackets, 6 significant digits; and the reader that takes ``NAME [UNIT]`` headers back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from wholesoil.errors import InputDataError
from wholesoil.io import read_table
from wholesoil.io._headers import split_header, unit_of, user_headers
from wholesoil.io._write import user_table_writer


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("hz_top [cm]", ("hz_top", "cm")),
        ("soc_density [Mg C ha-1]", ("soc_density", "Mg C ha-1")),
        ("beta [-]", ("beta", "-")),
        ("OC_gkg", ("OC_gkg", None)),
        ("[cm]", ("[cm]", None)),  # a bracket alone is a name, not a unit
        ("a [b] c", ("a [b] c", None)),  # the bracket must end the header
    ],
)
def test_split_header(header, expected):
    assert split_header(header) == expected


def test_user_headers_give_names_back_and_units():
    df = pd.DataFrame(
        {"profile_id": ["A"], "top": [0.0], "bottom": [5.0], "soc": [1.0], "coverage": [1.0],
         "OC_raw": [2.0], "source_row": [2], "bd_filled": [False]}
    )
    meta = {"user_names": {"profile_id": "pedon", "top": "hz_top", "bottom": "hz_bot",
                           "soc": "OC"},
            "header_units": {"OC_raw": "mg g-1"}}
    got = list(user_headers(df, meta).columns)
    assert got == ["pedon", "hz_top [cm]", "hz_bot [cm]", "OC [g kg-1]", "coverage [-]",
                   "OC_raw [mg g-1]", "row", "bd_filled"]
    got = list(user_headers(df, meta, canonical_names=True).columns)
    assert got == ["profile_id", "top [cm]", "bottom [cm]", "soc [g kg-1]", "coverage [-]",
                   "OC_raw [mg g-1]", "row", "bd_filled"]


def test_depth_named_stock_columns_have_units():
    assert unit_of("stock_0_30") == "Mg C ha-1"
    assert unit_of("covered_0_100") == "-"
    assert unit_of("stock_0_12.5") == "Mg C ha-1"
    assert unit_of("something_else") is None


def test_six_significant_digits(tmp_path):
    df = pd.DataFrame({"profile_id": ["A"], "top": [1 / 3], "bottom": [123456789.0]})
    path, write = user_table_writer(df, tmp_path / "t.csv")
    write(path)
    assert path.read_text() == "profile_id,top [cm],bottom [cm]\nA,0.333333,1.23457e+08\n"


def _table(tmp_path, text, name="h.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_reader_strips_and_converts_bracket_units(tmp_path):
    p = _table(tmp_path, "pedon,hz_top [m],hz_bot [m],OC [%],bd [g cm-3],x [kg]\n"
                         "A,0,0.1,2,1.2,3\nA,0.1,0.3,1,1.3,4\n")
    ps = read_table(p, column_map={"pedon": "profile_id", "hz_top": "top", "hz_bot": "bottom",
                                   "OC": "soc"})
    h = ps.horizons
    assert_allclose(h["top"], [0, 10])  # m → cm
    assert_allclose(h["bottom"], [10, 30])
    assert_allclose(h["soc"], [20, 10])  # % → g kg-1
    assert_allclose(h["bd"], [1.2, 1.3])  # already canonical
    assert_allclose(h["x"], [3, 4])  # unknown to wholesoil: kept, unit remembered
    assert ps.metadata["user_names"] == {"profile_id": "pedon", "top": "hz_top",
                                         "bottom": "hz_bot", "soc": "OC"}
    assert ps.metadata["header_units"] == {"x": "kg"}
    # a column-map key may carry the bracket too
    ps2 = read_table(p, column_map={"pedon": "profile_id", "hz_top [m]": "top",
                                    "hz_bot": "bottom"})
    assert_allclose(ps2.horizons["top"], [0, 10])


def test_wholesoil_units_read_back_unchanged(tmp_path):
    p = _table(tmp_path, "profile_id,top [cm],bottom [cm],soc [g kg-1],soc_density [Mg C ha-1],"
                         "coverage [-],d14c [permil]\nA,0,10,20,24,1,-5\n")
    h = read_table(p).horizons
    assert_allclose(h[["top", "bottom", "soc", "soc_density", "coverage", "d14c"]].to_numpy(),
                    [[0, 10, 20, 24, 1, -5]])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("profile_id,top [furlong],bottom\nA,0,10\n", r"'top': unknown unit in the header"),
        ("profile_id,top,bottom,coverage [%]\nA,0,10,1\n", r"'coverage': unknown unit.*-"),
        ("profile_id,top,bottom,soc [%],soc [g kg-1]\nA,0,10,1,2\n", "same name"),
    ],
)
def test_reader_refuses_unknown_or_ambiguous_units(tmp_path, text, match):
    with pytest.raises(InputDataError, match=match) as err:
        read_table(_table(tmp_path, text))
    assert err.value.row == 1


def test_header_unit_and_units_option_must_agree(tmp_path):
    p = _table(tmp_path, "profile_id,top,bottom,soc [%]\nA,0,10,1\n")
    assert_allclose(read_table(p, units={"soc": "percent"}).horizons["soc"], [10.0])
    with pytest.raises(InputDataError, match="header says the unit is '%'"):
        read_table(p, units={"soc": "g/kg"})


def test_user_table_reads_back(tmp_path):
    df = pd.DataFrame({"profile_id": ["A", "A"], "top": [0.0, 10.0], "bottom": [10.0, 30.0],
                       "soc": [np.pi, 2.0], "source_row": [2, 3]})
    meta = {"user_names": {"profile_id": "pedon", "soc": "OC"}}
    path, write = user_table_writer(df.drop(columns="source_row"), tmp_path / "o.csv", meta)
    write(path)
    back = read_table(path, column_map={"pedon": "profile_id", "OC": "soc"}).horizons
    assert_allclose(back["soc"], [np.pi, 2.0], rtol=5e-6)  # 6 significant digits
