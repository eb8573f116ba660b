"""read_wosis on a fixture in the WoSIS "latest" per-attribute CSV layout."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from wholesoil.errors import InputDataError
from wholesoil.io import WOSIS_VARIABLE_MAP, parse_replicates, read_wosis

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "wosis"


@pytest.fixture(scope="module")
def ps():
    return read_wosis(FIX)


def test_merge_counts(ps):
    # 3 profiles; 8 distinct profile_layer_id over orgc (7), bdfiod (4) and clay (5) files
    assert ps.n_profiles == 3
    assert ps.n_horizons == 8
    assert ps.metadata["attributes"] == ["bdfiod", "clay", "orgc"]
    assert ps.horizons["profile_layer_id"].is_unique


def test_values_and_replicates(ps):
    h = ps.horizons.set_index("profile_layer_id")
    # wosis_latest_orgc.csv row 5: layer 412550, orgc_value {12.3,13.1}, orgc_value_avg 12.7
    assert h.loc["412550", "soc"] == pytest.approx(12.7)
    assert h.loc["412550", "soc_n"] == 2
    assert h.loc["412552", "soc_n"] == 3
    # bulk density kg dm-3 = g cm-3; bdfiod fills the canonical bd
    assert h.loc["301002", "bd"] == pytest.approx(1.15)
    assert h.loc["301002", "bd_source"] == "bdfiod"
    assert h.loc["412550", "clay"] == pytest.approx(45.0)
    # layers missing from a file are NaN, not dropped: 412551 has no bulk density,
    # 530021 appears only in the clay file
    assert np.isnan(h.loc["412551", "bd"])
    assert np.isnan(h.loc["530021", "soc"]) and h.loc["530021", "clay"] == 39.0
    assert (h.loc["412551", "top"], h.loc["412551", "bottom"]) == (10.0, 30.0)


def test_litter_layer_kept_and_flagged(ps):
    h = ps.horizons.set_index("profile_layer_id")
    assert bool(h.loc["301001", "litter"]) is True
    assert h.loc["301001", "soc"] == 412.0
    assert int(ps.horizons["litter"].sum()) == 1


def test_sites(ps):
    s = ps.sites.set_index("profile_id")
    assert (s.loc["60410", "lat"], s.loc["60410", "lon"]) == (-15.7723, -47.8912)  # Y, X
    assert s.loc["60410", "date"] == "2003-11-02"
    assert s.loc["60410", "dataset"] == "BR-SISB"
    assert s.loc["71995", "licence"] == "CC-BY-NC 4.0"
    assert s.loc["52130", "source_code"] == "NL-12"


def test_single_file_and_list(ps):
    one = read_wosis(FIX / "wosis_latest_orgc.csv")
    assert one.n_horizons == 7 and "bd" not in one.horizons
    two = read_wosis([FIX / "wosis_latest_orgc.csv", FIX / "wosis_latest_clay.csv"])
    assert two.n_horizons == 8


def test_parse_replicates():
    assert parse_replicates("{12.3,13.1}") == [12.3, 13.1]
    assert parse_replicates("{1:12.3,2:13.1}") == [12.3, 13.1]
    assert parse_replicates("{8}") == [8.0]
    assert parse_replicates("") == [] and parse_replicates(None) == []
    with pytest.raises(ValueError):
        parse_replicates("{a,b}")


def test_variable_map_units():
    assert WOSIS_VARIABLE_MAP["orgc"] == ("soc", "g kg-1", 1.0)
    assert WOSIS_VARIABLE_MAP["cfvo"][0] == "gravel"
    assert WOSIS_VARIABLE_MAP["clyppt"][0] == WOSIS_VARIABLE_MAP["clay"][0] == "clay"


def _copy(tmp_path):
    dst = tmp_path / "wosis"
    shutil.copytree(FIX, dst)
    return dst


def test_text_in_numeric_column(tmp_path):
    dst = _copy(tmp_path)
    f = dst / "wosis_latest_orgc.csv"
    lines = f.read_text().splitlines(keepends=True)
    lines[5] = lines[5].replace(",10,30,A2,", ",10,thirty,A2,", 1)  # row 6, layer 412551
    f.write_text("".join(lines))
    with pytest.raises(InputDataError) as e:
        read_wosis(dst)
    msg = str(e.value)
    for part in ("wosis_latest_orgc.csv", "row 6", "profile 60410", "'lower_depth'", "'thirty'"):
        assert part in msg


def test_bad_replicates(tmp_path):
    dst = _copy(tmp_path)
    f = dst / "wosis_latest_clay.csv"
    f.write_text(f.read_text().replace('"{44,46}"', '"{44,n.a.}"'))
    with pytest.raises(InputDataError) as e:
        read_wosis(dst)
    for part in ("wosis_latest_clay.csv", "row 3", "60410", "'clay_value'", "{44,n.a.}"):
        assert part in str(e.value)


def test_missing_column(tmp_path):
    dst = _copy(tmp_path)
    f = dst / "wosis_latest_bdfiod.csv"
    f.write_text(f.read_text().replace("upper_depth", "top_depth", 1))
    with pytest.raises(InputDataError) as e:
        read_wosis(dst)
    for part in ("wosis_latest_bdfiod.csv", "row 1", "'upper_depth'", "top_depth"):
        assert part in str(e.value)


def test_depths_disagree_between_files(tmp_path):
    dst = _copy(tmp_path)
    f = dst / "wosis_latest_orgc.csv"
    old, new = "52130,301003,Netherlands,20,55,", "52130,301003,Netherlands,20,50,"
    f.write_text(f.read_text().replace(old, new))
    with pytest.raises(InputDataError) as e:
        read_wosis(dst)
    assert "301003" in str(e.value) and "lower_depth" in str(e.value)


def test_unreadable_file(tmp_path):
    f = tmp_path / "wosis_latest_orgc.csv"
    f.write_bytes(b"X,Y,profile_id\n1,2,3\n4,5,\xff\xfe\n")
    with pytest.raises(InputDataError) as e:
        read_wosis(f)
    assert "wosis_latest_orgc.csv" in str(e.value) and "row 3" in str(e.value)
