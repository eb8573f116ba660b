"""wholesoil.datasets: bundled data, provenance, bomb curves, climate grid."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from wholesoil import datasets
from wholesoil.datasets import (
    REGISTRY,
    citation,
    climate_at,
    data_path,
    load_bomb_curve,
    load_climate,
    load_israd_example,
    load_ncscd,
)

# The project's shared/ folder sits beside the checkout (developers' machines and CI alike).
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_registry_files_exist_with_citation_and_licence():
    for name, entry in REGISTRY.items():
        assert entry["citation"] and entry["licence"], name
        for f in entry["files"]:
            assert data_path(f).is_file(), f
    assert "10.5194/essd-5-393-2013" in citation("ncscd")
    assert "Kalnay" in citation("climate") and "Xie" in citation("climate")
    with pytest.raises(KeyError):
        citation("nope")


@pytest.mark.skipif(
    not SHARED.exists(), reason="no shared/ folder beside this checkout (an installed copy, say)"
)
def test_bundled_files_byte_identical():
    for entry in REGISTRY.values():
        for f in entry["files"]:
            a = hashlib.sha256(data_path(f).read_bytes()).hexdigest()
            b = hashlib.sha256((SHARED / f).read_bytes()).hexdigest()
            assert a == b, f


def test_load_ncscd():
    ps = load_ncscd()
    assert ps.n_profiles == 524
    assert "Hugelius" in ps.metadata["citation"]
    assert "CC BY 3.0" in ps.metadata["licence"]


def test_load_israd_example():
    ps = load_israd_example()
    assert (ps.n_profiles, ps.n_horizons) == (5, 49)
    assert "CC BY 4.0" in ps.metadata["licence"]
    assert "Gaudinski" in ps.metadata["citation"]


@pytest.mark.parametrize("zone", datasets.ZONES)
def test_bomb_curve_hua2021(zone):
    b = load_bomb_curve(zone)
    assert list(b.columns) == ["year", "d14c", "d14c_sd", "f14c", "f14c_sd"]
    # Hua et al. 2022 Supplement 2 covers 1941-2019.375, monthly (NH from 1941.21, SH from
    # 1941.46)
    assert 1941.2 < b["year"].iloc[0] < 1941.5
    assert b["year"].iloc[-1] == pytest.approx(2019.375)
    assert b["year"].is_monotonic_increasing
    assert "10.1017/RDC.2021.95" in b.attrs["citation"]
    assert b.attrs["zone"] == zone


def test_bomb_curve_values():
    # Hua2021_NHZone1.csv first row: 1941.2083, -20.4, 2.4, 0.9785, 0.0024
    b = load_bomb_curve("NHZone1", "hua2021")
    np.testing.assert_allclose(b.iloc[0].to_numpy(), [1941.2083, -20.4, 2.4, 0.9785, 0.0024])
    # bomb peak in the northern zone 1 is in 1963-1964 near +800 ‰ (Hua et al. 2022)
    peak = b.loc[b["d14c"].idxmax()]
    assert 1963 <= peak["year"] <= 1965 and 700 < peak["d14c"] < 950
    h13 = load_bomb_curve("SHZone3", "hua2013")
    assert h13["year"].iloc[0] == 1950.0 and h13["d14c"].iloc[0] == -27.0


def test_intcal_shcal_calendar_years():
    ic = load_bomb_curve(source="intcal20")
    # IntCal20.csv: CAL.BP 0 -> 1950 AD, C14.age 199, Delta.14C -24.5; 55000 BP -> -53050 AD
    last = ic.iloc[-1]
    assert last["year"] == 1950.0 and last["d14c"] == -24.5
    assert last["f14c"] == pytest.approx(np.exp(-199 / 8033))
    # consistency of the two columns: Δ14C = (F14C·exp((1950 − y)/8267) − 1)·1000 at 1950 AD
    assert (last["f14c"] - 1) * 1000 == pytest.approx(last["d14c"], abs=0.3)
    assert ic["year"].iloc[0] == -53050.0
    sc = load_bomb_curve(source="shcal20")
    assert sc.attrs["zone"] == "SH" and sc["d14c"].iloc[-1] == -21.4


def test_israd_annual():
    nh = load_bomb_curve("NH", "israd")
    assert len(nh) == 79 and nh["year"].iloc[0] == 1941.0
    # F14C derived from Δ14C agrees with Hua et al.'s own monthly F14C within 0.002
    hua = load_bomb_curve("NHZone1", "hua2021")
    f_hua_1941 = hua.loc[hua["year"] < 1942, "f14c"].mean()
    assert nh["f14c"].iloc[0] == pytest.approx(f_hua_1941, abs=2e-3)
    with pytest.raises(ValueError):
        load_bomb_curve("Zone9", "israd")
    with pytest.raises(ValueError):
        load_bomb_curve("NHZone9")
    with pytest.raises(ValueError):
        load_bomb_curve(source="unknown")


def test_climate_grid():
    c = load_climate()
    assert c.shape == (72 * 144, 4)
    assert c["lat"].max() == 88.75 and c["lat"].min() == -88.75
    assert c["lon"].min() == -178.75 and c["lon"].max() == 178.75
    assert c["mat"].notna().all()
    assert c["map"].isna().sum() == 687  # empty CMAP cells, kept as NaN
    assert "Kalnay" in c.attrs["citation"]


def test_howland_forest():
    # SOURCES.md sanity check: the Howland Forest site (45.167 N, -68.667 E) reads about
    # 5.0 °C and 974 mm (site record: 5.5 °C, 1,000 mm).
    near = climate_at(45.167, -68.667).iloc[0]
    assert (near["cell_lat"], near["cell_lon"]) == (46.25, -68.75)
    assert near["map"] == pytest.approx(974.28)  # CMAP cell 46.25 N, 291.25 E
    # MAT of that 2.5° cell = mean of the NCEP nodes (47.5|45) x (290|292.5) N/E:
    # (1.858 + 2.776 + 5.044 + 5.779) / 4 = 3.864 °C: the cell reaches 47.5 N
    assert near["mat"] == pytest.approx((1.858 + 2.776 + 5.044 + 5.779) / 4, abs=1e-9)
    # at the point itself (bilinear on the native grids) MAT is about 5 °C
    pt = climate_at(45.167, -68.667, method="bilinear").iloc[0]
    assert pt["mat"] == pytest.approx(5.0, abs=0.5)
    assert pt["map"] == pytest.approx(974.0, abs=25.0)


def test_climate_at_longitude_conventions():
    a = climate_at([45.167, -30.0], [-68.667, 10.0])
    b = climate_at([45.167, -30.0], [291.333, 370.0])
    np.testing.assert_allclose(a[["mat", "map"]].to_numpy(), b[["mat", "map"]].to_numpy())
    with pytest.raises(ValueError):
        climate_at(95.0, 0.0)
