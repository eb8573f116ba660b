"""read_ncscd on the bundled NCSCD pedon table (Hugelius et al. 2013)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wholesoil.datasets import REGISTRY, data_path
from wholesoil.errors import InputDataError
from wholesoil.io import read_ncscd

NCSCD = data_path(REGISTRY["ncscd"]["files"][0])


@pytest.fixture(scope="module")
def ps():
    return read_ncscd(NCSCD)


def test_counts(ps):
    # 524 pedons (SOURCES.md; last Pedon_Id_nr in the file is 524), four layers each
    assert ps.n_profiles == 524
    assert ps.n_horizons == 4 * 524
    assert ps.sites["profile_id"].is_unique
    assert ps.metadata["skipped_empty_rows"] == [526]  # the file ends with one empty row


def test_pedon_1_values(ps):
    # Row 2 of the file: pedon 1, Fen_Palsa_5, 55.917 N -98.418 E, basal depth 220 cm,
    # SOCC 0-30 = 10.6, 0-100 = 55.8, 100-200 = 20.2, 200-300 = 10.5 kg C m-2
    site = ps.sites.set_index("profile_id").loc["NCSCD-001"]
    assert site["source_code"] == "Fen_Palsa_5"
    assert site["lat"] == pytest.approx(55.917)
    assert site["lon"] == pytest.approx(-98.418)
    assert site["basal_depth"] == 220.0
    assert site["thaw_depth"] == 90.0
    assert site["ecosystem"] == "Forest"
    assert site["soil_order"] == "Gelisol"
    h = ps.horizons[ps.horizons["profile_id"] == "NCSCD-001"].set_index("top")
    np.testing.assert_allclose(h["bottom"], [30, 100, 200, 300])
    np.testing.assert_allclose(
        h["soc_density"], [106.0, 558.0 - 106.0, 202.0, 105.0], rtol=1e-12
    )  # kg m-2 x 10 = Mg ha-1; 30-100 = (55.8 - 10.6) x 10
    assert list(h["by_difference"]) == [False, True, False, False]
    # basal depth 220 cm: only 200-300 reaches below it, 80 of its 100 cm
    assert list(h["below_basal_depth"]) == [False, False, False, True]
    np.testing.assert_allclose(h["extrapolated_fraction"], [0, 0, 0, 0.8])
    assert (h["source_row"] == 2).all()


def test_missing_stocks_kept_as_nan(ps):
    raw = pd.read_csv(NCSCD, sep="\t", encoding="latin-1")
    n_missing_030 = int(raw["SOCC 0-30 cm (kg C m-2)"].iloc[:524].isna().sum())
    h = ps.horizons
    assert int(h.loc[h["top"] == 0, "soc_density"].isna().sum()) == n_missing_030
    assert n_missing_030 > 0
    # no pedon dropped even when all stocks are missing
    assert h.groupby("profile_id").size().eq(4).all()


def test_text_stripped_and_dates_as_text(ps):
    assert "Inceptisol " not in set(ps.sites["soil_order"].dropna())
    assert set(ps.sites["region"].dropna()) <= {
        "Canada",
        "Alaska",
        "Russia",
        "Greenland",
        "Europe",
        "Svalbard",
    }
    d = ps.sites["date"].dropna()
    iso = d.str.match(r"^\d{4}(-\d{2}){0,2}$")
    # dates are kept as written: YYYY, YYYY-MM, YYYY-MM-DD, and 18 pedons with free text
    assert (~iso).sum() == 18
    assert set(d[~iso]) == {"1998 to 2000 (months of July and/or August)"}


def _write_variant(tmp_path, transform):
    text = NCSCD.read_bytes().decode("latin-1")
    lines = text.split("\r\n")
    lines = transform(lines)
    p = tmp_path / "pedons.txt"
    p.write_bytes("\r\n".join(lines).encode("latin-1"))
    return p


def test_text_in_numeric_column(tmp_path):
    def bad(lines):
        cells = lines[3].split("\t")  # row 4 = pedon 3 (T5_2)
        cells[12] = "n.d."  # SOCC 0-30 cm
        lines[3] = "\t".join(cells)
        return lines

    with pytest.raises(InputDataError) as e:
        read_ncscd(_write_variant(tmp_path, bad))
    msg = str(e.value)
    for part in ("pedons.txt", "row 4", "NCSCD-003", "SOCC 0-30 cm (kg C m-2)", "'n.d.'"):
        assert part in msg
    assert e.value.row == 4 and e.value.profile == "NCSCD-003"


def test_missing_column(tmp_path):
    def drop(lines):
        return [line.replace("Basal_Depth", "Depth_basal", 1) for line in lines]

    with pytest.raises(InputDataError) as e:
        read_ncscd(_write_variant(tmp_path, drop))
    msg = str(e.value)
    for part in ("pedons.txt", "row 1", "'Basal_Depth'", "Depth_basal"):
        assert part in msg


def test_unreadable_file(tmp_path):
    p = tmp_path / "pedons.txt"
    p.write_bytes(b"Pedon_Id_nr\tLat\n1\t55\n2\t\xff\xfe\n")
    with pytest.raises(InputDataError) as e:
        read_ncscd(p, encoding="utf-8")
    assert "pedons.txt" in str(e.value) and "row 3" in str(e.value)
    with pytest.raises(InputDataError, match="file not found"):
        read_ncscd(tmp_path / "nothing.txt")
