"""Tests of horizon QC (wholesoil.profiles._qc): every finding type, rules, filters, strict mode.

The expected report rows below are worked by hand from the small tables in each test; the
profile filters are those of Tao et al. (EarthArXiv) §2.1 (exclude profiles with no more than two layers or
maximum observation depth no deeper than 50 cm).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wholesoil.errors import InputDataError, MissingColumnError
from wholesoil.profiles._profileset import ProfileSet
from wholesoil.profiles._qc import (
    CHECKS,
    DEFAULT_RULES,
    REPORT_COLUMNS,
    RULES,
    QCResult,
    check_profiles,
    run_qc,
)

FILE = "horizons.csv"
NAN = float("nan")


def make(rows, sites=None, columns=("profile_id", "top", "bottom", "soc")) -> ProfileSet:
    """ProfileSet from horizon tuples; ``source_row`` as a spreadsheet shows it (header = 1)."""
    h = pd.DataFrame(list(rows), columns=list(columns))
    h["source_row"] = np.arange(len(h)) + 2
    s = None if sites is None else pd.DataFrame({"profile_id": sites})
    return ProfileSet.from_tables(h, s, {"file": FILE})


def _plain(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if v is pd.NA:
        return None
    if isinstance(v, np.integer):
        return int(v)
    return v


def findings(
    result: QCResult,
    cols=(
        "profile_id",
        "source_row",
        "horizon",
        "check",
        "rule",
        "action",
        "field",
        "before",
        "after",
    ),
):
    """Report rows as tuples, NaN/NA as None."""
    rep = result.report.loc[:, list(cols)]
    return [tuple(_plain(v) for v in row) for row in rep.itertuples(index=False)]


def depths(result: QCResult):
    h = result.profiles.horizons
    return list(zip(h["profile_id"], h["top"], h["bottom"], strict=True))


def check_accounting(result: QCResult, n_in: int) -> None:
    rep = result.report
    excluded = int(((rep["action"] == "exclude") & rep["horizon"].notna()).sum())
    assert n_in == result.profiles.n_horizons + excluded
    assert result.summary["horizons_excluded"] == excluded


# ----------------------------------------------------------------------------- API basics
def test_rules_tables_are_consistent():
    assert set(DEFAULT_RULES) == set(RULES) == set(CHECKS)
    for check, rule in DEFAULT_RULES.items():
        assert rule == RULES[check][0]


def test_unknown_check_or_rule_raises():
    ps = make([("A", 0, 10, 5)])
    with pytest.raises(ValueError, match="unknown QC check 'overlaps'"):
        run_qc(ps, rules={"overlaps": "exclude"})
    with pytest.raises(ValueError, match=r"choose one of \['truncate', 'exclude'"):
        run_qc(ps, rules={"overlap": "merge"})
    with pytest.raises(MissingColumnError, match="no variable 'bd'"):
        run_qc(ps, variables=["bd"])


def test_clean_data_is_a_no_op():
    ps = make([("A", 0, 10, 5.0), ("A", 10, 30, 3.0), ("B", 0, 20, 1.0), ("B", 20, 60, 0.5)])
    result = run_qc(ps)
    assert result.report.empty
    assert list(result.report.columns) == list(REPORT_COLUMNS)
    pd.testing.assert_frame_equal(result.profiles.horizons, ps.horizons)
    pd.testing.assert_frame_equal(result.profiles.sites, ps.sites)
    assert result.summary["counts"] == {}
    assert "No findings" in str(result)
    assert check_profiles(ps) is ps


# ----------------------------------------------------------------------------- depths
def test_missing_top_of_first_horizon_set_to_zero():
    ps = make([("A", NAN, 10, 5.0), ("A", 10, 20, 4.0)])
    result = run_qc(ps)
    assert findings(result) == [
        ("A", 2, "?–10", "missing_top_first", "zero", "repair", "top", None, 0.0)
    ]
    assert depths(result) == [("A", 0.0, 10.0), ("A", 10.0, 20.0)]
    excl = run_qc(ps, rules={"missing_top_first": "exclude"})
    assert findings(excl) == [
        ("A", 2, "?–10", "missing_top_first", "exclude", "exclude", "top", None, None)
    ]
    assert depths(excl) == [("A", 10.0, 20.0)]


def test_missing_bottom_of_last_horizon():
    ps = make([("A", 0, 10, 5.0), ("A", 10, NAN, 4.0)])
    result = run_qc(ps)
    assert findings(result) == [
        ("A", 3, "10–?", "missing_bottom_last", "exclude", "exclude", "bottom", None, None)
    ]
    assert depths(result) == [("A", 0.0, 10.0)]
    # aqp repairMissingHzDepths, adj = 10
    ext = run_qc(ps, rules={"missing_bottom_last": "extend"})
    assert findings(ext) == [
        ("A", 3, "10–?", "missing_bottom_last", "extend", "repair", "bottom", None, 20.0)
    ]
    assert depths(ext) == [("A", 0.0, 10.0), ("A", 10.0, 20.0)]


def test_first_top_and_last_bottom_missing_in_one_profile():
    # the horizon without a top (ends at 10) lies above the one without a bottom (starts at 10)
    ps = make([("A", NAN, 10, 5.0), ("A", 10, NAN, 4.0)])
    result = run_qc(ps)
    assert [f[3] for f in findings(result)] == ["missing_top_first", "missing_bottom_last"]
    assert depths(result) == [("A", 0.0, 10.0)]


def test_missing_interior_depths_filled_from_neighbours():
    ps = make(
        [
            ("A", 0, 10, 5.0),
            ("A", NAN, 20, 4.0),  # top <- 10
            ("A", 20, NAN, 3.0),  # bottom <- 40
            ("A", 40, 60, 2.0),
            ("B", 0, 10, 1.0),
            ("B", NAN, NAN, 1.0),  # neither depth: excluded
            (None, 0, 10, 1.0),  # no profile id: excluded
        ],
        sites=["A", "B"],
    )
    result = run_qc(ps)
    got = findings(result)
    assert ("B", 7, "?–?", "missing_required", "fill", "exclude", "top", None, None) in got
    assert (None, 8, "0–10", "missing_required", "fill", "exclude", "profile_id", None, None) in got
    assert ("A", 3, "?–20", "missing_required", "fill", "repair", "top", None, 10.0) in got
    assert ("A", 4, "20–?", "missing_required", "fill", "repair", "bottom", None, 40.0) in got
    assert len(got) == 4
    assert depths(result) == [
        ("A", 0.0, 10.0),
        ("A", 10.0, 20.0),
        ("A", 20.0, 40.0),
        ("A", 40.0, 60.0),
        ("B", 0.0, 10.0),
    ]
    excl = run_qc(ps, rules={"missing_required": "exclude"})
    assert depths(excl) == [("A", 0.0, 10.0), ("A", 40.0, 60.0), ("B", 0.0, 10.0)]
    check_accounting(excl, 7)


def test_missing_interior_depth_with_missing_neighbour_is_excluded():
    ps = make([("A", 0, NAN, 5.0), ("A", NAN, 30, 4.0), ("A", 30, 50, 3.0)])
    result = run_qc(ps)
    assert findings(result) == [
        ("A", 2, "0–?", "missing_required", "fill", "exclude", "bottom", None, None),
        ("A", 3, "?–30", "missing_required", "fill", "exclude", "top", None, None),
    ]
    assert depths(result) == [("A", 30.0, 50.0)]


def test_zero_or_negative_thickness_excluded():
    ps = make([("A", 0, 10, 5.0), ("A", 30, 20, 4.0), ("A", 40, 40, 3.0)])
    result = run_qc(ps)
    assert findings(result) == [
        ("A", 3, "30–20", "thickness", "exclude", "exclude", "bottom", 20.0, None),
        ("A", 4, "40–40", "thickness", "exclude", "exclude", "bottom", 40.0, None),
    ]
    msgs = result.report["message"].tolist()
    assert msgs[0] == "bottom (20 cm) is above top (30 cm); horizon excluded"
    assert msgs[1] == "bottom (40 cm) equals top (40 cm): zero thickness; horizon excluded"
    assert depths(result) == [("A", 0.0, 10.0)]


def test_negative_depths_shift_profile_to_organic_top():
    # ISRaD-style organic horizon above the mineral surface (-5 to 0 cm)
    ps = make([("A", -5, 0, 400.0), ("A", 0, 10, 20.0), ("B", 0, 10, 1.0)])
    result = run_qc(ps)
    assert findings(result) == [
        ("A", 2, "-5–0", "negative_depth", "shift", "repair", "top", -5.0, 0.0),
        ("A", 2, "-5–0", "negative_depth", "shift", "repair", "bottom", 0.0, 5.0),
        ("A", 3, "0–10", "negative_depth", "shift", "repair", "top", 0.0, 5.0),
        ("A", 3, "0–10", "negative_depth", "shift", "repair", "bottom", 10.0, 15.0),
    ]
    assert "shifted down by 5 cm" in result.report["message"].iloc[0]
    assert depths(result) == [("A", 0.0, 5.0), ("A", 5.0, 15.0), ("B", 0.0, 10.0)]
    excl = run_qc(ps, rules={"negative_depth": "exclude"})
    assert findings(excl) == [
        ("A", 2, "-5–0", "negative_depth", "exclude", "exclude", "top", -5.0, None)
    ]
    assert depths(excl) == [("A", 0.0, 10.0), ("B", 0.0, 10.0)]


# ----------------------------------------------------------------------------- overlaps, gaps
def test_partial_overlap_truncates_upper_horizon():
    ps = make([("A", 0, 12, 5.0), ("A", 10, 22, 4.0), ("A", 20, 30, 3.0)])
    result = run_qc(ps)
    assert findings(result) == [
        ("A", 2, "0–12", "overlap", "truncate", "repair", "bottom", 12.0, 10.0),
        ("A", 3, "10–22", "overlap", "truncate", "repair", "bottom", 22.0, 20.0),
    ]
    assert depths(result) == [("A", 0.0, 10.0), ("A", 10.0, 20.0), ("A", 20.0, 30.0)]
    assert result.profiles.horizons["soc"].tolist() == [5.0, 4.0, 3.0]


def test_nested_overlap_cannot_be_truncated_and_is_excluded():
    # 0–30 contains 10–20: which one is right is unknowable
    ps = make([("A", 0, 30, 5.0), ("A", 10, 20, 4.0), ("A", 30, 40, 3.0)])
    result = run_qc(ps)
    assert findings(result) == [
        ("A", 2, "0–30", "overlap", "truncate", "exclude", "top", 0.0, None),
        ("A", 3, "10–20", "overlap", "truncate", "exclude", "top", 10.0, None),
    ]
    assert depths(result) == [("A", 30.0, 40.0)]


def test_overlap_alternative_rules():
    ps = make([("A", 0, 12, 5.0), ("A", 10, 20, 4.0), ("A", 20, 30, 3.0), ("B", 0, 10, 1.0)])
    excl = run_qc(ps, rules={"overlap": "exclude"})
    assert [f[:8] for f in findings(excl)] == [
        ("A", 2, "0–12", "overlap", "exclude", "exclude", "top", 0.0),
        ("A", 3, "10–20", "overlap", "exclude", "exclude", "top", 10.0),
    ]
    assert depths(excl) == [("A", 20.0, 30.0), ("B", 0.0, 10.0)]
    prof = run_qc(ps, rules={"overlap": "exclude_profile"})
    assert [f[1] for f in findings(prof) if f[3] == "overlap"] == [2, 3, 4]
    assert depths(prof) == [("B", 0.0, 10.0)]
    check_accounting(prof, 4)


def test_gaps_are_flagged_and_kept():
    ps = make([("A", 0, 10, 5.0), ("A", 20, 30, 4.0), ("B", 0, 10, 1.0)])
    result = run_qc(ps)
    assert findings(result) == [("A", 3, "20–30", "gap", "flag", "flag", "top", 20.0, 20.0)]
    assert result.report["message"].iloc[0].startswith("gap of 10 cm above this horizon")
    pd.testing.assert_frame_equal(result.profiles.horizons, ps.horizons)
    excl = run_qc(ps, rules={"gap": "exclude_profile"})
    assert depths(excl) == [("B", 0.0, 10.0)]
    assert findings(excl)[-1][3] == "site_without_horizons"


def test_depths_within_tolerance_are_contiguous():
    ps = make([("A", 0, 0.1 * 100, 5.0), ("A", 10, 20, 4.0)])  # 10.000000000000002
    assert run_qc(ps).report.empty


# ----------------------------------------------------------------------------- duplicates
def test_identical_duplicate_horizon_dropped():
    ps = make([("A", 0, 10, 5.0), ("A", 0, 10, 5.0), ("A", 10, 20, 4.0)])
    result = run_qc(ps)
    assert findings(result) == [
        ("A", 3, "0–10", "duplicate_horizon", "drop_identical", "exclude", None, None, None)
    ]
    assert result.report["message"].iloc[0] == (
        "identical copy of the horizon at row 2; copy excluded"
    )
    assert depths(result) == [("A", 0.0, 10.0), ("A", 10.0, 20.0)]


def test_differing_duplicate_horizons_rules():
    ps = make([("A", 0, 10, 5.0), ("A", 0, 10, 7.0), ("A", 10, 20, 4.0)])
    result = run_qc(ps)
    assert findings(result) == [
        ("A", 2, "0–10", "duplicate_horizon", "exclude", "exclude", None, None, None),
        ("A", 3, "0–10", "duplicate_horizon", "exclude", "exclude", None, None, None),
    ]
    assert depths(result) == [("A", 10.0, 20.0)]
    avg = run_qc(ps, rules={"duplicate_horizon": "average"})
    assert findings(avg) == [
        ("A", 2, "0–10", "duplicate_horizon", "average", "repair", "soc", 5.0, 6.0),
        ("A", 3, "0–10", "duplicate_horizon", "average", "exclude", None, None, None),
    ]
    assert avg.profiles.horizons["soc"].tolist() == [6.0, 4.0]
    first = run_qc(ps, rules={"duplicate_horizon": "keep_first"})
    assert findings(first) == [
        ("A", 3, "0–10", "duplicate_horizon", "keep_first", "exclude", None, None, None)
    ]
    assert first.profiles.horizons["soc"].tolist() == [5.0, 4.0]


def test_duplicate_site_ids():
    h = pd.DataFrame({"profile_id": ["A", "B"], "top": [0, 0], "bottom": [10, 10]})
    sites = pd.DataFrame(
        {
            "profile_id": ["A", "A", "B", "B"],
            "lat": [1.0, 1.0, 2.0, 3.0],
            "source_row": [2, 3, 4, 5],
        }
    )
    ps = ProfileSet(sites, h, {"file": FILE})
    result = run_qc(ps)
    got = findings(result, cols=("profile_id", "source_row", "horizon", "check", "rule", "action"))
    assert got == [
        ("A", 3, None, "duplicate_site", "drop_identical", "repair"),
        ("B", 4, None, "duplicate_site", "exclude", "exclude"),
        ("B", 5, None, "duplicate_site", "exclude", "exclude"),
        ("B", None, "0–10", "duplicate_site", "exclude", "exclude"),
    ]
    assert result.profiles.sites["profile_id"].tolist() == ["A"]
    assert depths(result) == [("A", 0.0, 10.0)]
    first = run_qc(ps, rules={"duplicate_site": "keep_first"})
    assert first.profiles.sites["lat"].tolist() == [1.0, 2.0]
    assert first.profiles.n_horizons == 2


# ----------------------------------------------------------------------------- sites
def test_orphan_horizons_and_sites_without_horizons():
    h = pd.DataFrame({"profile_id": ["A", "X"], "top": [0, 0], "bottom": [10, 10]})
    h["source_row"] = [2, 3]
    ps = ProfileSet(pd.DataFrame({"profile_id": ["A", "B"]}), h, {"file": FILE})
    result = run_qc(ps)
    assert findings(result, cols=("profile_id", "source_row", "horizon", "check", "action")) == [
        ("X", 3, "0–10", "orphan_horizon", "exclude"),
        ("B", None, None, "site_without_horizons", "exclude"),
    ]
    assert result.report["message"].iloc[1] == "profile has no horizons; site row removed"
    assert result.profiles.sites["profile_id"].tolist() == ["A"]
    keep = run_qc(ps, rules={"orphan_horizon": "add_site", "site_without_horizons": "keep"})
    assert sorted(keep.profiles.sites["profile_id"]) == ["A", "B", "X"]
    assert keep.profiles.n_horizons == 2
    assert set(keep.report["action"]) == {"repair", "flag"}


def test_profile_emptied_by_qc_loses_its_site():
    ps = make([("A", 0, 10, 5.0), ("B", 10, 5, 1.0)])
    result = run_qc(ps)
    assert findings(result, cols=("profile_id", "check", "action")) == [
        ("B", "thickness", "exclude"),
        ("B", "site_without_horizons", "exclude"),
    ]
    assert "all 1 horizons of the profile were excluded" in result.report["message"].iloc[1]
    assert result.summary["profiles_out"] == 1


# ----------------------------------------------------------------------------- values
def test_values_out_of_range_set_to_nan():
    ps = make(
        [("A", 0, 10, -1.0, 1.2), ("A", 10, 20, 700.0, 3.0), ("A", 20, 30, 600.0, 0.05)],
        columns=("profile_id", "top", "bottom", "soc", "bd"),
    )
    result = run_qc(ps)
    assert findings(result) == [
        ("A", 2, "0–10", "value_range", "set_nan", "repair", "soc", -1.0, None),
        ("A", 3, "10–20", "value_range", "set_nan", "repair", "soc", 700.0, None),
        ("A", 3, "10–20", "value_range", "set_nan", "repair", "bd", 3.0, None),
    ]
    assert (
        result.report["message"]
        .iloc[2]
        .startswith("bd 3 is outside the physical range 0.05–2.65 g cm⁻³")
    )
    h = result.profiles.horizons
    assert h["soc"].isna().tolist() == [True, True, False]
    assert h["bd"].tolist()[0] == 1.2 and math.isnan(h["bd"].tolist()[1])
    clip = run_qc(ps, rules={"value_range": "clip"})
    assert clip.profiles.horizons["soc"].tolist() == [0.0, 600.0, 600.0]
    excl = run_qc(ps, rules={"value_range": "exclude"})
    assert depths(excl) == [("A", 20.0, 30.0)]
    check_accounting(excl, 3)


def test_text_in_numeric_column_becomes_nan_with_report():
    ps = make([("A", 0, 10, "12.5"), ("A", 10, 20, "n.d."), ("A", 20, 30, "")])
    result = run_qc(ps)
    assert findings(result) == [
        ("A", 3, "10–20", "not_numeric", "set_nan", "repair", "soc", "n.d.", None)
    ]
    assert result.profiles.horizons["soc"].tolist()[0] == 12.5
    assert result.profiles.horizons["soc"].isna().tolist() == [False, True, True]


def test_required_variables_missing_value():
    ps = make([("A", 0, 10, 5.0), ("A", 10, 20, NAN), ("A", 20, 30, 700.0)])
    result = run_qc(ps, variables="soc")
    assert findings(result, cols=("source_row", "check", "action", "field")) == [
        (4, "value_range", "repair", "soc"),
        (3, "missing_value", "exclude", "soc"),
        (4, "missing_value", "exclude", "soc"),
    ]
    assert depths(result) == [("A", 0.0, 10.0)]
    flag = run_qc(ps, variables=["soc"], rules={"missing_value": "flag"})
    assert flag.profiles.n_horizons == 3


# ----------------------------------------------------------------------------- filters
def test_profile_filters_of_seed_003():
    # Tao et al. (EarthArXiv) §2.1: exclude profiles with no more than two layers or max depth <= 50 cm
    ps = make(
        [
            ("two", 0, 30, 1.0),
            ("two", 30, 100, 1.0),
            ("shallow", 0, 10, 1.0),
            ("shallow", 10, 30, 1.0),
            ("shallow", 30, 50, 1.0),
            ("ok", 0, 10, 1.0),
            ("ok", 10, 30, 1.0),
            ("ok", 30, 51, 1.0),
        ]
    )
    result = run_qc(ps, min_layers=3, min_depth=50)
    got = findings(result, cols=("profile_id", "source_row", "check", "action", "field", "before"))
    assert got == [
        ("two", 2, "min_layers", "exclude", None, 2),
        ("two", 3, "min_layers", "exclude", None, 2),
        ("shallow", 4, "min_depth", "exclude", "bottom", 50.0),
        ("shallow", 5, "min_depth", "exclude", "bottom", 50.0),
        ("shallow", 6, "min_depth", "exclude", "bottom", 50.0),
        ("two", None, "site_without_horizons", "exclude", "profile_id", "two"),
        ("shallow", None, "site_without_horizons", "exclude", "profile_id", "shallow"),
    ]
    assert result.profiles.sites["profile_id"].tolist() == ["ok"]
    assert result.summary["profiles_out"] == 1 and result.summary["horizons_out"] == 3
    assert "min_layers=3" in result.report["message"].iloc[0]
    assert run_qc(ps).report.empty
    with pytest.raises(ValueError, match="min_layers"):
        run_qc(ps, min_layers=2.5)


def test_summary_and_text():
    ps = make([("A", 0, 10, 5.0), ("A", 30, 20, 4.0), ("A", 30, 40, 700.0)])
    result = run_qc(ps)
    s = result.summary
    assert (s["profiles_in"], s["profiles_out"], s["horizons_in"], s["horizons_out"]) == (
        1,
        1,
        3,
        2,
    )
    assert s["counts"] == {
        "thickness": {"exclude": 1},
        "gap": {"flag": 1},
        "value_range": {"repair": 1},
    }
    text = str(result)
    assert text.startswith("QC of 'horizons.csv': 1 profiles, 3 horizons in; 1 profiles, 2")
    assert "thickness" in text and "set_nan" in text


# ----------------------------------------------------------------------------- strict mode
def test_check_profiles_bottom_above_top():
    ps = make([("P12", 0, 10, 5.0), ("P12", 30, 20, 4.0), ("P12", 40, 50, 900.0)])
    with pytest.raises(InputDataError) as err:
        check_profiles(ps)
    e = err.value
    assert str(e).startswith(
        "horizons.csv row 3 (profile P12), field 'bottom': bottom (20 cm) is above top (30 cm), "
        "got 20 (and 1 other finding; run_qc() or `wholesoil qc` repairs"
    )
    assert (e.file, e.row, e.profile, e.field, e.value) == (FILE, 3, "P12", "bottom", 20.0)


def test_check_profiles_overlap():
    ps = make([("P1", 0, 12, 5.0), ("P1", 10, 20, 4.0)])
    with pytest.raises(
        InputDataError,
        match=(
            r"^horizons.csv row 2 \(profile P1\), field 'bottom': bottom \(12 cm\) overlaps the "
            r"horizon below \(top 10 cm\) by 2 cm, got 12 \(run_qc\(\)"
        ),
    ):
        check_profiles(ps)


def test_check_profiles_negative_soc():
    ps = make([("P1", 0, 10, 5.0), ("P1", 10, 20, -3.0)])
    with pytest.raises(
        InputDataError,
        match=(
            r"^horizons.csv row 3 \(profile P1\), field 'soc': soc -3 is outside the physical "
            r"range 0–600 g C kg⁻¹ fine earth, got -3 "
        ),
    ):
        check_profiles(ps)


def test_check_profiles_root_cause_first():
    # the horizon with bottom above top also overlaps its neighbour and has negative SOC;
    # the thickness check runs first, so the message names the actual mistake
    ps = make([("P1", 0, 10, 5.0), ("P1", 8, 5, -1.0), ("P1", 20, 30, 700.0)])
    with pytest.raises(InputDataError, match=r"row 3 .*bottom \(5 cm\) is above top \(8 cm\)"):
        check_profiles(ps)


def test_text_in_depth_column_raised_by_profileset():
    h = pd.DataFrame({"profile_id": ["P1", "P7"], "top": [0, "ten"], "bottom": [10, 20]})
    h["source_row"] = [2, 3]
    with pytest.raises(InputDataError) as err:
        ProfileSet.from_tables(h, metadata={"file": FILE})
    assert str(err.value) == (
        "horizons.csv row 3 (profile P7), field 'top': expected a number, got 'ten'"
    )


def test_check_profiles_text_in_variable_column():
    ps = make([("P1", 0, 10, 5.0), ("P1", 10, 20, "n.d.")])
    with pytest.raises(InputDataError) as err:
        check_profiles(ps)
    assert str(err.value).startswith(
        "horizons.csv row 3 (profile P1), field 'soc': expected a number, got 'n.d.'"
    )
    assert err.value.value == "n.d."


def test_check_profiles_ignores_flags_and_honours_variables():
    ps = make(
        [("P1", 0, 10, 5.0), ("P1", 20, 30, 4.0)], columns=("profile_id", "top", "bottom", "ph")
    )
    assert check_profiles(ps) is ps  # a gap is a flag, not an error
    bad = make([("P1", 0, 10, 5.0, 15.0)], columns=("profile_id", "top", "bottom", "soc", "ph"))
    assert check_profiles(bad, variables=["soc"]) is bad  # pH not checked
    with pytest.raises(InputDataError, match="field 'ph'"):
        check_profiles(bad)


# ----------------------------------------------------------------------------- properties
_depth = st.one_of(st.none(), st.integers(-20, 120))
_horizon = st.tuples(
    st.sampled_from(["a", "b", "c", "d"]),
    _depth,
    _depth,
    st.one_of(st.none(), st.integers(-50, 800)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(_horizon, max_size=14),
    sites=st.lists(st.sampled_from(["a", "b", "c", "e"]), max_size=5),
    rules=st.fixed_dictionaries({check: st.sampled_from(r) for check, r in RULES.items()}),
    filters=st.booleans(),
)
def test_every_horizon_accounted_for_and_qc_is_idempotent(rows, sites, rules, filters):
    def num(v):
        return NAN if v is None else float(v)

    table = [(p, num(t), num(b), num(v)) for p, t, b, v in rows]
    ps = make(table, sites=sorted(set(sites)) if sites else None)
    kw = {"min_layers": 2, "min_depth": 20, "variables": ["soc"]} if filters else {}
    result = run_qc(ps, rules=rules, **kw)
    check_accounting(result, len(table))
    # excluded horizons are exactly the source rows missing from the output
    rep = result.report
    gone = set(rep.loc[(rep["action"] == "exclude") & rep["horizon"].notna(), "source_row"])
    kept = set(result.profiles.horizons["source_row"])
    assert gone.isdisjoint(kept) and gone | kept == set(range(2, len(table) + 2))
    # the cleaned set passes: a second run finds nothing to repair or exclude
    again = run_qc(result.profiles, rules=rules, **kw)
    assert set(again.report["action"]) <= {"flag"}
    h = result.profiles.horizons
    assert (h["bottom"] > h["top"]).all()
    if rules["negative_depth"] == "shift":
        assert (h["top"] >= 0).all()
    if rules["value_range"] != "flag":  # "flag" keeps out-of-range values by design
        assert h["soc"].dropna().between(0, 600).all()


# ----------------------------------------------------------------------------- performance
def _random_profiles(n_profiles: int, seed: int = 0) -> ProfileSet:
    rng = np.random.default_rng(seed)
    n = rng.integers(1, 9, n_profiles)
    pid = np.repeat(np.arange(n_profiles), n)
    th = rng.uniform(2, 30, pid.size)
    cum = np.cumsum(th)
    start = np.repeat(np.cumsum(n) - n, n)
    bottom = cum - np.concatenate([[0.0], cum])[start]
    top = bottom - th + rng.choice([0.0] * 9 + [3.0, -3.0], pid.size)  # gaps and overlaps
    top[rng.random(pid.size) < 0.01] -= 20  # bottoms above tops, negative depths
    soc = rng.lognormal(2, 1, pid.size)
    soc[rng.random(pid.size) < 0.01] = -1.0
    h = pd.DataFrame(
        {
            "profile_id": pd.Series(pid).map("P{}".format),
            "top": top.round(1),
            "bottom": bottom.round(1),
            "soc": soc,
        }
    )
    h["source_row"] = np.arange(len(h)) + 2
    return ProfileSet.from_tables(h, metadata={"file": FILE})


def test_qc_is_vectorized_10k_profiles():
    ps = _random_profiles(10_000)
    t0 = time.perf_counter()
    result = run_qc(ps, min_layers=3, min_depth=50, variables=["soc"])
    assert time.perf_counter() - t0 < 3.0
    check_accounting(result, ps.n_horizons)


@pytest.mark.slow
def test_qc_100k_profiles_within_seconds():
    ps = _random_profiles(100_000)
    t0 = time.perf_counter()
    result = run_qc(ps, min_layers=3, min_depth=50, variables=["soc"])
    assert time.perf_counter() - t0 < 10.0
    check_accounting(result, ps.n_horizons)


def test_value_range_flag_rule_keeps_measured_value():
    # Peat BD of 0.01 g cm⁻³ is below the generic 0.05 floor (VALUE_RANGES): rule "flag" keeps it
    # and reports it, nothing changes in the data.
    h = pd.DataFrame(
        {"profile_id": ["p", "p"], "top": [0.0, 10.0], "bottom": [10.0, 30.0], "bd": [0.01, 1.2]}
    )
    res = run_qc(ProfileSet.from_tables(h), rules={"value_range": "flag"})
    assert res.profiles.horizons["bd"].tolist() == [0.01, 1.2]
    (row,) = res.report.itertuples()
    assert (row.check, row.action, row.field, row.before, row.after) == (
        "value_range",
        "flag",
        "bd",
        0.01,
        0.01,
    )


def test_overlap_truncation_scales_layer_totals():
    # Upper horizon 0–20 cm overlaps the next (top 15) by 5 cm: bottom truncated to 15, and its
    # layer total soc_density 40 Mg C ha⁻¹ scaled by 15/20 = 0.75 → 30 (uniform density); the
    # concentration soc is intensive and stays.
    h = pd.DataFrame(
        {
            "profile_id": ["p", "p"],
            "top": [0.0, 15.0],
            "bottom": [20.0, 30.0],
            "soc": [12.0, 8.0],
            "soc_density": [40.0, 20.0],
        }
    )
    res = run_qc(ProfileSet.from_tables(h))
    out = res.profiles.horizons
    assert out["bottom"].tolist() == [15.0, 30.0]
    assert out["soc_density"].tolist() == [30.0, 20.0] and out["soc"].tolist() == [12.0, 8.0]
    rows = res.report[res.report["check"] == "overlap"]
    assert rows[["field", "before", "after"]].values.tolist() == [
        ["bottom", 20.0, 15.0],
        ["soc_density", 40.0, 30.0],
    ]
