"""One-way ANOVA, Duncan's multiple range test and Tukey HSD against R.

Reference numbers: tests/reference/anova_reference.json, printed by
tests/reference/anova_reference.R under R 4.2.2 (Debian bookworm r-base-core 4.2.2.20221110-2):
stats::aov, stats::TukeyHSD, base ptukey/qtukey, and a base-R transcription of
agricolae::duncan.test / agricolae:::orderPvalue (agricolae itself is not packaged in Debian).
Data: R's PlantGrowth (Dobson 1983, balanced) and chickwts (unbalanced), copied into the JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from wholesoil.errors import InputDataError
from wholesoil.stats import compact_letters, duncan_test, one_way_anova, tukey_hsd

REF = json.loads((Path(__file__).parents[1] / "reference" / "anova_reference.json").read_text())
DATASETS = ["PlantGrowth", "chickwts"]


def _letters_by_level(result, levels):
    table = dict(zip(result.means["group"], result.means["letters"], strict=True))
    return [table[level] for level in levels]


@pytest.mark.parametrize("name", DATASETS)
def test_anova_matches_r_aov(name):
    r = REF[name]
    a = one_way_anova(r["values"], r["groups"])
    ref = r["anova"]
    assert (a.df_between, a.df_within) == (ref["df_between"], ref["df_within"])
    assert_allclose(a.f_statistic, ref["F"], rtol=1e-12)
    assert_allclose(a.p_value, ref["p"], rtol=1e-9)
    assert_allclose([a.ss_between, a.ss_within], [ref["ss_between"], ref["ss_within"]], rtol=1e-12)
    # group summaries against numpy
    y, g = np.asarray(r["values"]), np.asarray(r["groups"])
    for row in a.groups.itertuples():
        sel = y[g == row.group]
        assert row.n == sel.size
        assert_allclose([row.mean, row.sd], [sel.mean(), sel.std(ddof=1)], rtol=1e-12)


@pytest.mark.parametrize("name", DATASETS)
def test_duncan_matches_agricolae_algorithm_in_r(name):
    r = REF[name]
    ref = r["duncan"]
    d = duncan_test(r["values"], r["groups"], alpha=0.05)
    assert_allclose(d.ms_error, ref["mse"], rtol=1e-12)
    assert_allclose(d.n_harmonic, ref["n_harmonic"], rtol=1e-12)
    # R's qtukey iterates to ~1e-8 relative; scipy's studentized_range.ppf is tighter
    assert_allclose(d.critical["q"], ref["q"], rtol=1e-6)
    assert_allclose(d.critical["critical_range"], ref["critical_range"], rtol=1e-6)
    assert d.pairwise["span"].tolist() == ref["span"]
    assert_allclose(d.pairwise["p_value"], ref["p"], rtol=1e-7, atol=1e-12)
    assert _letters_by_level(d, ref["levels"]) == ref["letters"]


def test_duncan_plantgrowth_letters_read_as_published_order():
    # PlantGrowth, Duncan α = 0.05 (R reference): trt2 "a", ctrl "ab", trt1 "b"
    r = REF["PlantGrowth"]
    d = duncan_test(r["values"], r["groups"])
    assert d.means["group"].tolist() == ["trt2", "ctrl", "trt1"]
    assert d.means["letters"].tolist() == ["a", "ab", "b"]


def test_duncan_protection_level_equivalence():
    # significant ⇔ |Δ| > R_p with α_p = 1 − (1 − α)^(p−1) (Duncan 1955)
    r = REF["chickwts"]
    d = duncan_test(r["values"], r["groups"], alpha=0.05)
    cr = d.critical.set_index("span")["critical_range"]
    beyond = np.abs(d.pairwise["diff"]) > cr.loc[d.pairwise["span"]].to_numpy()
    assert (beyond.to_numpy() == d.pairwise["reject"].to_numpy()).all()


@pytest.mark.parametrize("name", DATASETS)
def test_tukey_matches_r_tukeyhsd(name):
    r = REF[name]
    ref = r["tukey"]
    t = tukey_hsd(r["values"], r["groups"], alpha=0.05)
    pairs = (t.pairwise["group_a"] + "-" + t.pairwise["group_b"]).tolist()
    assert pairs == ref["pairs"]
    assert_allclose(t.pairwise["diff"], ref["diff"], rtol=1e-12)
    # R ptukey resolves far-tail probabilities (p ~ 1e-8) to ~1e-12 absolute
    assert_allclose(t.pairwise["p_value"], ref["p"], rtol=1e-7, atol=1e-10)
    assert_allclose(t.pairwise["lower"], ref["lwr"], rtol=1e-6)
    assert_allclose(t.pairwise["upper"], ref["upr"], rtol=1e-6)
    levels = REF[name]["duncan"]["levels"]
    assert _letters_by_level(t, levels) == ref["letters"]


def test_tukey_agrees_with_scipy_tukey_hsd():
    # scipy.stats.tukey_hsd (Tukey–Kramer) as an independent peer program
    r = REF["chickwts"]
    y, g = np.asarray(r["values"], dtype=float), np.asarray(r["groups"])
    levels = sorted(set(g))
    res = stats.tukey_hsd(*[y[g == lev] for lev in levels])
    t = tukey_hsd(y, g)
    i, j = np.triu_indices(len(levels), 1)
    assert_allclose(t.pairwise["p_value"], res.pvalue[i, j], rtol=1e-6, atol=1e-10)


def test_compact_letters_limiting_cases():
    means = [3.0, 1.0, 2.0]
    none_differ = np.ones((3, 3))
    assert compact_letters(means, none_differ) == ["a", "a", "a"]
    all_differ = np.full((3, 3), 1e-6)
    np.fill_diagonal(all_differ, 1.0)
    assert compact_letters(means, all_differ) == ["a", "c", "b"]


def test_bad_input_is_located():
    with pytest.raises(InputDataError, match="element 1"):
        one_way_anova([1.0, np.nan, 2.0, 3.0], ["a", "a", "b", "b"])
    with pytest.raises(InputDataError, match="differ in length"):
        one_way_anova([1.0, 2.0], ["a"])
    with pytest.raises(InputDataError, match="two groups"):
        duncan_test([1.0, 2.0, 3.0], ["a", "a", "a"])
    with pytest.raises(InputDataError, match="alpha"):
        tukey_hsd([1.0, 2.0, 3.0, 4.0], ["a", "a", "b", "b"], alpha=1.5)


def test_duncan_reproduces_montgomery_tensile_strength_example():
    # Textbook example: Montgomery, D. C., Design and Analysis of Experiments (5th ed., Wiley,
    # 2001; the same example in later editions), Example 3-1: tensile strength [lb/in²] of a
    # synthetic fibre at five cotton weight percentages, five specimens each (Table 3-1);
    # MS_E = 8.06 on 20 df. Duncan's multiple range test (Section 3.5, "Comparing pairs of
    # treatment means"): S_ȳ = √(8.06/5) = 1.27, tabled r_0.05(p, 20) = 2.95, 3.10, 3.18, 3.25
    # and least significant ranges R_2..R_5 = 3.75, 3.94, 4.04, 4.13; conclusion: all pairs
    # differ except 20 % vs 25 % and 15 % vs 35 %, i.e. 30 % (a) > 25 %, 20 % (b) > 35 %, 15 % (c).
    strength = {
        "15": [7, 7, 15, 11, 9],
        "20": [12, 17, 12, 18, 18],
        "25": [14, 18, 18, 19, 19],
        "30": [19, 25, 22, 19, 23],
        "35": [7, 10, 11, 15, 11],
    }
    values = np.concatenate(list(strength.values()))
    groups = np.repeat(list(strength), 5)
    d = duncan_test(values, groups, alpha=0.05)
    assert_allclose(d.ms_error, 8.06, rtol=1e-12)
    assert d.df_error == 20
    assert_allclose(np.sqrt(d.ms_error / d.n_harmonic), 1.27, atol=0.005)
    # the book's table values and ranges are rounded to 2 decimals (and its R_p use S = 1.27)
    assert_allclose(d.critical["q"], [2.95, 3.10, 3.18, 3.25], atol=0.011)
    assert_allclose(d.critical["critical_range"], [3.75, 3.94, 4.04, 4.13], atol=0.011)
    assert d.means["group"].tolist() == ["30", "25", "20", "35", "15"]
    assert_allclose(d.means["mean"], [21.6, 17.6, 15.4, 10.8, 9.8], rtol=1e-12)
    assert d.means["letters"].tolist() == ["a", "b", "b", "c", "c"]
    not_different = {frozenset(p) for p in d.pairwise.loc[~d.pairwise["reject"],
                                                          ["group_a", "group_b"]].to_numpy()}
    assert not_different == {frozenset({"20", "25"}), frozenset({"15", "35"})}


def test_duncan_equals_agricolae_sweetpotato_example():
    # agricolae's own published example: de Mendiburu, F. "Tutorial agricolae" (agricolae
    # 1.3-x vignette), §"Duncan's New Multiple-Range Test": data(sweetpotato),
    # duncan.test(aov(yield ~ virus), "virus"). Printed there: MSerror 22.48917 on 8 df;
    # Critical Range 2: 8.928965, 3: 9.304825, 4: 9.514910; groups oo 36.90000 a,
    # ff 36.33333 a, cc 24.40000 b, fc 12.86667 c.
    sweetpotato = {
        "cc": [28.5, 21.7, 23.0],
        "fc": [14.9, 10.6, 13.1],
        "ff": [41.8, 39.2, 28.0],
        "oo": [38.2, 40.4, 32.1],
    }
    values = np.concatenate(list(sweetpotato.values()))
    groups = np.repeat(list(sweetpotato), 3)
    d = duncan_test(values, groups, alpha=0.05)
    assert_allclose(d.ms_error, 22.48917, rtol=1e-6)
    assert d.df_error == 8
    assert_allclose(d.critical["critical_range"], [8.928965, 9.304825, 9.514910], rtol=1e-6)
    assert d.means["group"].tolist() == ["oo", "ff", "cc", "fc"]
    assert_allclose(d.means["mean"], [36.9, 36.333333, 24.4, 12.866667], rtol=1e-6)
    assert d.means["letters"].tolist() == ["a", "a", "b", "c"]
