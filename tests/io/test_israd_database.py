"""The whole bundled ISRaD database (2023-02-08): counts from the data's own description
(shared data SOURCES: 436 entries, 4,591 profiles, 36,941 layers, 7,862 with Δ14C)."""

from __future__ import annotations

import pandas as pd
import pytest

from wholesoil.datasets import REGISTRY, data_path, load_israd


@pytest.fixture(scope="module")
def israd():
    return load_israd()


def test_counts(israd):
    assert len(israd.sites) == 4591
    assert len(israd.horizons) == 36941
    assert int(israd.horizons.d14c.notna().sum()) == 7862
    entries = israd.metadata["entries_table"]
    # 436 metadata rows; Gaudinski_2001 has two (2021 and 2022 curations), kept both
    assert len(entries) == 436
    assert entries.entry_name[entries.entry_name.duplicated()].tolist() == ["Gaudinski_2001"]
    assert israd.sites.entry.isin(entries.entry_name).all()
    for t, n in (("fraction", 6639), ("incubation", 2794), ("flux", 4523),
                 ("interstitial", 1074)):
        assert len(israd.metadata[t]) == n
    assert israd.metadata["licence"].startswith("Creative Commons Attribution 4.0")


def test_values_as_recorded(israd):
    """Measured and filled values are kept apart; units converted as the template says."""
    raw = pd.read_csv(data_path(REGISTRY["israd"]["files"][3]), dtype=str,
                      keep_default_na=False, na_values=[""])
    h = israd.horizons.sort_values("source_row").reset_index(drop=True)
    assert (h.source_row == raw.index + 2).all()      # spreadsheet rows: header is row 1
    c_org = pd.to_numeric(raw.lyr_c_org)
    assert (h.soc.notna() == c_org.notna()).all()
    assert ((h.soc - c_org * 10).abs().max()) < 1e-9          # % → g kg⁻¹
    filled = pd.to_numeric(raw.lyr_soc_filled)
    assert ((h.soc_density_filled - filled * 100).abs().max()) < 1e-9   # g cm⁻² → Mg ha⁻¹
    assert int(h.d14c_fill_extra.notna().sum()) == 88
    assert int((h.d14c_fill_extra.notna() & h.d14c.isna()).sum()) == 54
    assert "pro_BIO1_C_WC2.1" in israd.sites and israd.sites["pro_BIO1_C_WC2.1"].dtype.kind == "f"
    assert set(israd.sites.pro_graven_zone.dropna()) == {"NHc14", "Tropicsc14", "SHc14"}


def test_database_folder_missing_table(tmp_path):
    from wholesoil.errors import InputDataError
    from wholesoil.io import read_israd

    src = data_path(REGISTRY["israd"]["files"][3])
    (tmp_path / src.name).write_bytes(src.read_bytes())
    with pytest.raises(InputDataError, match="lacks its site and profile"):
        read_israd(tmp_path)
