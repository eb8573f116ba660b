"""read_israd on the bundled ISRaD entry Gaudinski_2001."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from wholesoil.datasets import data_path
from wholesoil.errors import InputDataError
from wholesoil.io import read_israd

ENTRY = data_path("profiles/israd_gaudinski2001")
TOWER = "Gaudinski_2001:Howland Forest:Tower Pit"


@pytest.fixture(scope="module")
def ps():
    return read_israd(ENTRY)


def test_counts(ps):
    # SOURCES.md: 5 profiles, 49 layers
    assert ps.n_profiles == 5
    assert ps.n_horizons == 49
    assert set(ps.horizons["profile_id"]) == set(ps.sites["profile_id"])


def test_sites(ps):
    s = ps.sites.set_index("profile_id").loc[TOWER]
    # profile.csv has no pro_lat/pro_long: the site's 45.167, -68.667 (site.csv) are used
    assert (s["lat"], s["lon"], s["coord_source"]) == (45.167, -68.667, "site")
    assert s["ecosystem"] == "forest"  # pro_land_cover
    assert (s["mat"], s["map"]) == (5.5, 1000.0)
    assert s["date"] == "1996"


def test_tower_pit_values(ps):
    h = ps.horizons[ps.horizons["profile_id"] == TOWER].set_index("horizon")
    # layer.csv row 8: Tower Pit Oi, -10 to -8 cm (organic horizon, negative depth kept),
    # lyr_c_org 49.3 %, lyr_bd_samp 0.14, lyr_soc 0.138040 g cm-2, lyr_14c 182.895771
    oi = h.loc["Oi"]
    assert (oi["top"], oi["bottom"]) == (-10.0, -8.0)
    assert oi["soc"] == pytest.approx(493.0)  # % x 10
    assert oi["bd"] == pytest.approx(0.14)
    assert oi["soc_density_reported"] == pytest.approx(13.804)  # g cm-2 x 100
    assert oi["soc_density_computed"] == pytest.approx(493.0 * 0.14 * 2 / 10)
    assert oi["d14c"] == pytest.approx(182.895771)
    assert oi["f14c"] == pytest.approx(1.189496)
    assert oi["obs_year"] == 1996
    assert oi["source_row"] == 8
    assert (ps.horizons["top"] < 0).sum() > 0  # organic horizons stay negative


def test_discrepancy_table(ps):
    d = ps.metadata["soc_density_discrepancy"]
    e = d[(d["profile_id"] == TOWER) & (d["horizon"] == "E")].iloc[0]
    # SOURCES.md: the E horizon differs by about 2x. layer.csv row 11: C 0.5 %, BD 1.03,
    # 0-6.5 cm -> 3.3475 Mg ha-1 computed; lyr_soc 0.016995 g cm-2 -> 1.6995 Mg ha-1 reported
    assert e["computed"] == pytest.approx(3.3475)
    assert e["reported"] == pytest.approx(1.699542, rel=1e-6)
    assert e["ratio"] == pytest.approx(0.5077, abs=1e-3)
    # organic horizons agree exactly
    oi = d[(d["profile_id"] == TOWER) & (d["horizon"] == "Oi")].iloc[0]
    assert oi["ratio"] == pytest.approx(1.0)
    # nothing was replaced: the horizon table still carries both values
    assert np.isfinite(ps.horizons["soc_density_reported"]).sum() == len(d)


def _copy(tmp_path):
    dst = tmp_path / "entry"
    shutil.copytree(ENTRY, dst)
    return dst


def test_text_in_numeric_column(tmp_path):
    dst = _copy(tmp_path)
    text = (dst / "layer.csv").read_text()
    lines = text.splitlines(keepends=True)
    lines[10] = lines[10].replace(",1.03,", ",about one,", 1)  # row 11 = Tower Pit E
    (dst / "layer.csv").write_text("".join(lines))
    with pytest.raises(InputDataError) as e:
        read_israd(dst)
    msg = str(e.value)
    for part in ("layer.csv", "row 11", TOWER, "'lyr_bd_samp'", "'about one'"):
        assert part in msg


def test_missing_column(tmp_path):
    dst = _copy(tmp_path)
    text = (dst / "layer.csv").read_text()
    (dst / "layer.csv").write_text(text.replace("lyr_top", "lyr_upper", 1))
    with pytest.raises(InputDataError) as e:
        read_israd(dst)
    for part in ("layer.csv", "row 1", "'lyr_top'", "lyr_upper"):
        assert part in str(e.value)


def test_unreadable_or_absent(tmp_path):
    dst = _copy(tmp_path)
    (dst / "profile.csv").write_bytes(b'entry_name,site_name,pro_name\n"unclosed,a,b\n')
    with pytest.raises(InputDataError, match=r"profile\.csv"):
        read_israd(dst)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputDataError, match="no ISRaD layer table"):
        read_israd(empty)
    with pytest.raises(InputDataError, match="not found"):
        read_israd(tmp_path / "absent")
