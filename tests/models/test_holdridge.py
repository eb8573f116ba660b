"""Holdridge's (1967) life zones as the forest rule for CWD inputs where no vegetation map exists.

Reference values are read off Holdridge's chart (Holdridge 1967, Life Zone Ecology; Lugo et al.
1999, J. Biogeogr. 26, 1025–1038, Fig. 1) for climates without a seasonal cycle (amplitude 0:
biotemperature = MAT for 0 < MAT ≤ 30 °C), where the PET ratio is 58.93·MAT/MAP exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from wholesoil.models import CWD_FRACTION_FOREST, cwd_from_climate, holdridge_forest

# (MAT °C, MAP mm, the chart's life zone, forest?)
CHART = [
    (25.0, 2000.0, "tropical moist forest (ratio 0.74)", True),
    (25.0, 1000.0, "tropical dry forest (ratio 1.47)", True),
    (25.0, 500.0, "tropical very dry forest (ratio 2.95)", True),
    (25.0, 300.0, "tropical thorn woodland (ratio 4.91)", False),
    (15.0, 600.0, "warm temperate dry forest (ratio 1.47)", True),
    (15.0, 300.0, "warm temperate thorn steppe (ratio 2.95)", False),
    (8.0, 600.0, "cool temperate moist forest (ratio 0.79)", True),
    (8.0, 400.0, "cool temperate steppe (ratio 1.18)", False),
    (4.0, 300.0, "boreal moist forest (ratio 0.79)", True),
    (4.0, 150.0, "boreal dry scrub (ratio 1.57)", False),
    (2.0, 500.0, "subpolar wet tundra (biotemperature 2 °C)", False),
    (-5.0, 300.0, "polar desert (biotemperature 0)", False),
]


@pytest.mark.parametrize(("mat", "map_", "zone", "forest"), CHART)
def test_life_zones_of_the_chart(mat: float, map_: float, zone: str, forest: bool) -> None:
    assert bool(holdridge_forest(mat, map_, amplitude=0.0)) is forest, zone


def test_biotemperature_counts_months_above_30_as_zero() -> None:
    # MAT 35 °C without seasons: every month > 30 °C counts 0 → biotemperature 0 → no forest
    assert not holdridge_forest(35.0, 3000.0, amplitude=0.0)
    # with a 10 °C amplitude the same mean has months ≤ 30 °C and a positive biotemperature
    t = 35.0 - 10.0 * np.cos(2 * np.pi * ((np.arange(12) + 0.5) / 12 - 0.5 / 12))
    t_bio = np.where((t > 0) & (t <= 30), t, 0.0).mean()
    assert t_bio > 3.0
    assert holdridge_forest(35.0, 3000.0) == (58.93 * t_bio / 3000.0 <= 4.0)


def test_vectorized_and_cwd_share() -> None:
    mat = np.array([[25.0, 25.0], [-5.0, 8.0]])
    mp = np.array([[2000.0, 300.0], [300.0, 600.0]])
    assert_array_equal(holdridge_forest(mat, mp, amplitude=0.0), [[True, False], [False, True]])
    got = cwd_from_climate(mat, mp, lat=np.full(mat.shape, -30.0))
    assert got.shape == (2, 2)
    assert set(np.unique(got)) <= {0.0, CWD_FRACTION_FOREST}
    assert got[0, 0] == CWD_FRACTION_FOREST
