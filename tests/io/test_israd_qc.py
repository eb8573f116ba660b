"""QC of an ISRaD ProfileSet: each rule on a hand-made profile, and the whole database counted."""

from __future__ import annotations

import numpy as np
import pandas as pd

from wholesoil.io._israd_qc import ISRAD_QC_RULES, israd_qc
from wholesoil.profiles import ProfileSet


def _ps():
    sites = pd.DataFrame({"profile_id": ["E:S:P", "E:S:Q"], "entry": ["E", "E"],
                          "lat": [45.0, np.nan], "lon": [0.0, np.nan],
                          "pro_graven_zone": ["NHc14", None]})
    h = pd.DataFrame({
        "profile_id": ["E:S:P"] * 6 + ["E:S:Q"],
        "top": [-5.0, 0, 10, 10, 15, 30, 0],
        "bottom": [0.0, 10, 20, 20, 25, 30, 10],
        "d14c": [50.0, 10, np.nan, np.nan, -100, np.nan, -20],
        "d14c_fill_extra": [np.nan, np.nan, -50, np.nan, np.nan, np.nan, np.nan],
        "obs_year": [2000.0, np.nan, 2000, 2000, 2000, 2000, 2000],
        "soc": [np.nan, 20, 10, 10, 5, 5, 5],
        "soc_filled": [300.0, 20, 10, 10, 5, 5, 5],
        "bd": [np.nan, 1.0, 1.2, 1.2, 1.3, 1.3, 1.3],
        "soc_density_reported": [np.nan, 20.0, 14.4, np.nan, np.nan, np.nan, np.nan],
        "soc_density_computed": [np.nan, 20.0, 12.0, 12.0, 6.5, 0.0, 6.5],
        "source_row": np.arange(7) + 2,
    })
    return ProfileSet(sites, h, {"source": "israd"})


def test_each_rule_on_a_hand_made_profile():
    q = israd_qc(_ps())
    by = q.rows.groupby("rule")["source_row"].apply(sorted).to_dict()
    assert by["organic_above_surface"] == [2]
    assert by["zero_thickness"] == [7]
    assert by["duplicated_layer"] == [4, 5]
    assert by["overlap"] == [6]            # 15 cm starts above 20 cm
    assert by["gap"] == [7]                # 30 cm after 25 cm
    assert by["d14c_without_year"] == [3]
    assert by["d14c_without_zone"] == [8]  # profile Q: no zone, no latitude
    assert by["d14c_fill_only"] == [4]
    assert by["soc_filled"] == [2]
    assert by["soc_density_mismatch"] == [4]   # 14.4 reported vs 12.0 computed
    assert list(q.counts.rule) == list(ISRAD_QC_RULES)
    assert q.counts.set_index("rule").loc["bottom_above_top", "layers"] == 0


def test_whole_database_counts():
    """Counts of the bundled 2023-02-08 database (docs/howto/israd.md quotes them)."""
    from wholesoil.datasets import load_israd

    q = israd_qc(load_israd())
    c = q.counts.set_index("rule")["layers"]
    assert q.totals == {"entries": 431, "profiles": 4591, "layers": 36941,
                        "layers_with_d14c": 7862}
    assert c["d14c_without_year"] == 0 and c["d14c_without_zone"] == 0
    assert c["d14c_fill_only"] == 54
    assert c["organic_above_surface"] == 1436
    assert len(q.rows) == c.sum()
