"""read_table / write_table / write_profiles: plain CSV and Parquet, atomic writes."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from wholesoil.datasets import data_path
from wholesoil.errors import InputDataError
from wholesoil.io import read_israd, read_profiles, read_table, write_profiles, write_table


def _horizons():
    return pd.DataFrame(
        {
            "Profile": ["P1", "P1", "P2", "007"],
            "Top_m": [0.0, 0.1, 0.0, 0.05],
            "Bottom_m": [0.1, 0.3, 0.2, 0.25],
            "OC_pct": [2.5, 1.2, 0.8, 1 / 3],
            "BD": [1.1, 1.3, 1.4, 1.2],
            "Lat": [45.0, 45.0, -3.5, 10.0],
            "Lon": [7.0, 7.0, 120.25, -60.0],
        }
    )


MAP = {
    "Profile": "profile_id",
    "Top_m": "top",
    "Bottom_m": "bottom",
    "OC_pct": "soc",
    "BD": "bd",
    "Lat": "lat",
    "Lon": "lon",
}
UNITS = {"top": "m", "bottom": "m", "soc": "%"}


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_read_with_map_and_units(tmp_path, suffix):
    p = write_table(_horizons(), tmp_path / f"h{suffix}")
    ps = read_table(p, column_map=MAP, units=UNITS)
    h = ps.horizons.set_index(["profile_id", "top"])
    assert h.loc[("P1", 10.0), "bottom"] == pytest.approx(30.0)  # m -> cm
    assert h.loc[("P1", 10.0), "soc"] == pytest.approx(12.0)  # % -> g kg-1
    assert h.loc[("007", 5.0), "source_row"] == 5  # header = row 1
    assert "lat" not in ps.horizons and "lat" in ps.sites
    s = ps.sites.set_index("profile_id")
    assert s.loc["007", "lat"] == 10.0  # id read as text: leading zeros kept
    assert ps.n_profiles == 3


def test_som_to_soc(tmp_path):
    df = pd.DataFrame({"profile_id": ["A"], "top": [0], "bottom": [10], "SOM": [5.0]})
    p = write_table(df, tmp_path / "som.csv")
    ps = read_table(p, column_map={"SOM": "soc"}, units={"soc": "SOM %"})
    # SOC = 0.58 x SOM (Wang H. et al. (2025) §2.1): 5 % SOM -> 2.9 % SOC -> 29 g kg-1
    assert ps.horizons["soc"].iloc[0] == pytest.approx(29.0)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip(tmp_path, suffix):
    ps = read_table(write_table(_horizons(), tmp_path / f"in{suffix}"), MAP, UNITS)
    out = write_table(ps.horizons, tmp_path / f"out{suffix}")
    back = read_table(out, sites_columns=[])
    pd.testing.assert_frame_equal(back.horizons, ps.horizons, check_dtype=False)


def test_write_profiles_round_trip(tmp_path):
    ps = read_israd(data_path("profiles/israd_gaudinski2001"))
    written = write_profiles(ps, tmp_path / "israd" / "")
    assert {"sites", "horizons", "metadata", "soc_density_discrepancy"} <= set(written)
    back = read_profiles(tmp_path / "israd")
    pd.testing.assert_frame_equal(
        back.horizons[ps.horizons.columns], ps.horizons, check_dtype=False
    )
    assert list(back.sites["profile_id"]) == list(ps.sites["profile_id"])
    pd.testing.assert_frame_equal(
        back.metadata["soc_density_discrepancy"],
        ps.metadata["soc_density_discrepancy"],
        check_dtype=False,
    )
    prefix = write_profiles(ps, tmp_path / "run1", format="parquet")
    assert prefix["horizons"].name == "run1_horizons.parquet"


class Boom(Exception):
    pass


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "table.csv"
    write_table(pd.DataFrame({"a": [1, 2]}), target)
    before = target.read_bytes()

    def fail(self, path, *a, **k):
        with open(path, "w") as fh:
            fh.write("a\n1\n")  # half a table, then the disk "fails"
        raise Boom

    monkeypatch.setattr(pd.DataFrame, "to_csv", fail)
    with pytest.raises(Boom):
        write_table(pd.DataFrame({"a": range(1000)}), target)
    assert target.read_bytes() == before  # old content intact
    assert os.listdir(tmp_path) == ["table.csv"]  # no temporary file left
    with pytest.raises(Boom):
        write_table(pd.DataFrame({"a": [3]}), tmp_path / "new.csv")
    assert sorted(os.listdir(tmp_path)) == ["table.csv"]


def test_write_table_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match="xlsx"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.xlsx")


def test_text_in_numeric_column(tmp_path):
    p = tmp_path / "horizons.csv"
    p.write_text("pid,top,bottom,oc\nA,0,10,1.2\nA,10,20,1.0\nB,0,15,<0.1\n")
    with pytest.raises(InputDataError) as e:
        read_table(p, column_map={"pid": "profile_id", "oc": "soc"})
    msg = str(e.value)
    for part in ("horizons.csv", "row 4", "(profile B)", "field 'oc'", "'<0.1'"):
        assert part in msg
    assert (e.value.file, e.value.row, e.value.profile, e.value.field, e.value.value) == (
        "horizons.csv",
        4,
        "B",
        "oc",
        "<0.1",
    )


def test_missing_column(tmp_path):
    p = tmp_path / "horizons.csv"
    p.write_text("profile_id,upper,bottom\nA,0,10\n")
    with pytest.raises(InputDataError) as e:
        read_table(p)
    msg = str(e.value)
    for part in ("horizons.csv", "row 1", "field 'top'", "'upper'"):
        assert part in msg


def test_unreadable_file(tmp_path):
    p = tmp_path / "horizons.csv"
    p.write_text('profile_id,top,bottom\nA,0,10\nB,"0,10\n')
    with pytest.raises(InputDataError, match=r"horizons\.csv"):
        read_table(p)
    q = tmp_path / "horizons.parquet"
    q.write_bytes(b"not parquet at all")
    with pytest.raises(InputDataError, match=r"horizons\.parquet"):
        read_table(q)
    with pytest.raises(InputDataError, match="file not found"):
        read_table(tmp_path / "absent.csv")


def test_site_value_conflict(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("profile_id,top,bottom,lat\nA,0,10,45.0\nA,10,20,46.0\n")
    with pytest.raises(InputDataError) as e:
        read_table(p)
    for part in ("h.csv", "row 3", "(profile A)", "field 'lat'", "46.0"):
        assert part in str(e.value)


def test_unknown_unit(tmp_path):
    p = write_table(
        pd.DataFrame({"profile_id": ["A"], "top": [0], "bottom": [1], "soc": [1]}),
        tmp_path / "u.csv",
    )
    with pytest.raises(InputDataError, match="unknown unit"):
        read_table(p, units={"soc": "furlongs"})
    assert np.isfinite(read_table(p, units={"soc": "g kg-1"}).horizons["soc"]).all()
