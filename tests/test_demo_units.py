"""Issue 24 item 5: the demo report's per-area line is total / area in kg C m⁻²."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from wholesoil.demo._stocks import _discussion, per_area_kg_m2

# The demo's stocks table (tables/stocks_circumpolar.csv of a --quick run, 2026-12-07):
# layer, stock [Pg C]; the region's land area [km²].
DEMO_AREA_KM2 = 23154816.253595676
DEMO_STOCKS_PG = {"0-30": 378.8547099406623, "0-100": 858.0124459160091,
                  "0-300": 1232.3496367816554}


def test_per_area_of_the_issue_numbers() -> None:
    # 375.6 Pg over 23.16 × 10⁶ km²: 375.6e12 kg / 23.16e12 m² = 16.2 kg C m⁻²
    got = per_area_kg_m2(375.6, 23.16e6)
    assert got == pytest.approx(375.6e12 / 23.16e12, rel=0.01)
    assert got == pytest.approx(16.2, abs=0.05)


def test_per_area_line_of_the_demo_stocks_table() -> None:
    s = pd.Series(DEMO_STOCKS_PG)
    text = _discussion(s, DEMO_AREA_KM2)
    m = re.search(r"Per unit area our estimate is ([\d.]+) / ([\d.]+) / ([\d.]+) kg C m⁻²", text)
    assert m, text
    area_m2 = DEMO_AREA_KM2 * 1e6
    for got, key in zip(m.groups(), ("0-30", "0-100", "0-300"), strict=True):
        expected = DEMO_STOCKS_PG[key] * 1e12 / area_m2
        assert float(got) == pytest.approx(expected, rel=0.01)
    # the published values per area: 217 Pg over 17.8 × 10⁶ km² = 12.2 kg C m⁻²
    assert "against 12.2 / 26.5 / 58.1 published" in text
