"""caret's findCorrelation and findLinearCombos, and the two covariate filters, against R.

Reference numbers: tests/reference/collinearity_reference.json, printed by
tests/reference/collinearity_reference.R under R 4.2.2 (Debian bookworm r-base-core
4.2.2.20221110-2) with caret 6.0-93 (r-cran-caret 6.0-93+dfsg-1); both versions are recorded in
the JSON and checked below. Data: R's USJudgeRatings, longley and mtcars, a synthetic
seed-004-like covariate table (set.seed(4)), and hand-written correlation matrices with exact
ties; all copied into the JSON, with R's cor() matrices, so the tests never run R.
Indices in the JSON are R's (1-based).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from sklearn.utils.estimator_checks import parametrize_with_checks

from wholesoil.errors import InputDataError
from wholesoil.stats._collinearity import (
    CorrelationFilter,
    LinearCombos,
    LinearCombosFilter,
    find_correlation,
    find_linear_combos,
)

REF = json.loads(
    (Path(__file__).parents[1] / "reference" / "collinearity_reference.json").read_text()
)
FC_CASES = REF["find_correlation"]

# Matrices whose ties hold in exact arithmetic only: R breaks them by its long-double sums. The
# reference was made on x86-64 (x87 80-bit long double, 63-bit mantissa); where numpy's (and R's)
# long double is plain double (macOS arm64, MSVC) or IEEE quad (Linux aarch64), these ties may
# break otherwise, in R as here, so those cases run only on the reference's arithmetic.
TIE_MATRICES = {"compound6", "compound8", "circulant7", "circulant8", "circulant22"}
needs_x87_long_double = pytest.mark.skipif(
    np.finfo(np.longdouble).nmant != 63,
    reason="reference ties were broken by R's x87 80-bit long double (x86-64)",
)
FLC_CASES = sorted(REF["find_linear_combos"])


def _frame(name: str) -> pd.DataFrame:
    d = REF["datasets"][name]
    return pd.DataFrame(np.array(d["rows"], dtype=float), columns=d["columns"])


def _case_id(case: dict) -> str:
    return f"{case['name']}-{case['cutoff']}-{'exact' if case['exact'] else 'fast'}"


def test_reference_records_its_source():
    # the numbers below came from these programs; regenerate the JSON if they change
    assert REF["R_version"].startswith("R version 4.2.2")
    assert REF["caret_version"] == "6.0.93"
    assert REF["generated_by"] == "tests/reference/collinearity_reference.R"


# ---- find_correlation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, marks=needs_x87_long_double) if c["name"] in TIE_MATRICES else c
        for c in FC_CASES
    ],
    ids=_case_id,
)
def test_find_correlation_matches_caret_on_r_correlations(case):
    # caret 6.0-93 findCorrelation(cor(X) or hand-written matrix, cutoff, exact): same
    # variables, same order (1-based in R)
    corr = np.array(REF["correlation_matrices"][case["name"]])
    got = find_correlation(corr, case["cutoff"], exact=case["exact"])
    assert_array_equal(got + 1, np.array(case["result"], dtype=int))


@pytest.mark.parametrize("case", [c for c in FC_CASES if c["source"] == "dataset"], ids=_case_id)
def test_correlation_filter_on_data_matches_caret(case):
    # the transformer computes the correlations itself (numpy, not R's cor)
    X = _frame(case["name"])
    f = CorrelationFilter(cutoff=case["cutoff"], exact=case["exact"]).fit(X)
    expected = [X.columns[i - 1] for i in case["result"]]
    assert f.dropped_.tolist() == expected
    assert f.support_.tolist() == [c not in expected for c in X.columns]
    assert f.get_feature_names_out().tolist() == [c for c in X.columns if c not in expected]


def test_tied_pair_fast_drops_first_exact_drops_second():
    # Exact answer from the caret source: with two variables the mean correlations tie; the fast
    # algorithm flags the pair's row (variable 1), the exact one compares mean(row 1) with
    # mean(x2[-2, ]) = mean(row 1), not greater, so it flags variable 2.
    corr = np.array([[1.0, 0.95], [0.95, 1.0]])
    assert find_correlation(corr, 0.9, exact=False).tolist() == [0]
    assert find_correlation(corr, 0.9, exact=True).tolist() == [1]
    assert find_correlation(corr, 0.95).tolist() == []  # strictly above the cutoff


@needs_x87_long_double
@pytest.mark.parametrize("case", REF["default_switch"]["cases"], ids=lambda c: f"p{c['p']}")
def test_default_algorithm_switches_at_100_variables_like_caret(case):
    # caret: exact = ncol(x) < 100. R reference: a 4-variable block inside an identity of 99
    # and of 100 variables, on which the algorithms disagree at p = 99. (Variables 1 and 3 of
    # the block tie in exact arithmetic, 0.97 + 0.99 + 0.58 = 0.99 + 0.74 + 0.81.)
    corr = np.eye(case["p"])
    corr[:4, :4] = np.array(REF["default_switch"]["block"])
    assert (find_correlation(corr, case["cutoff"]) + 1).tolist() == case["result_default"]
    for exact, key in [(False, "result_fast"), (True, "result_exact")]:
        got = find_correlation(corr, case["cutoff"], exact=exact) + 1
        assert got.tolist() == case[key]


@needs_x87_long_double
def test_ties_that_exist_only_in_exact_arithmetic_break_as_in_r():
    # Compound-symmetric and circulant matrices: means equal in exact arithmetic but summed in
    # different orders. R's long-double sums (and factor levels at 15 digits) decide; plain
    # float64 means give other answers (checked when the module was written), so these cases
    # pin the R arithmetic. circulant22: long-double column means that differ in the last bit,
    # equal as R factor levels (15 significant digits).
    for name in ["compound6", "compound8", "circulant7", "circulant8", "circulant22"]:
        for case in (c for c in FC_CASES if c["name"] == name):
            corr = np.array(REF["correlation_matrices"][name])
            got = find_correlation(corr, case["cutoff"], exact=case["exact"]) + 1
            assert got.tolist() == case["result"], _case_id(case)


def test_dataframe_input_and_single_variable():
    corr = pd.DataFrame([[1.0, -0.97], [-0.97, 1.0]], columns=["a", "b"], index=["a", "b"])
    assert find_correlation(corr, 0.9, exact=True).tolist() == [1]  # |r| counts
    assert find_correlation(np.ones((1, 1))).tolist() == []  # caret's exact would stop


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**32 - 1),
    p=st.integers(2, 12),
    cutoff=st.floats(0.1, 0.95),
    exact=st.booleans(),
)
def test_no_kept_pair_exceeds_the_cutoff(seed, p, cutoff, exact):
    # invariant of both algorithms: every pair above the cutoff loses at least one member,
    # and at least one variable is always kept
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(30, p)) @ rng.normal(size=(p, p))
    corr = np.corrcoef(X, rowvar=False)
    drop = find_correlation(corr, cutoff, exact=exact)
    kept = np.setdiff1d(np.arange(p), drop)
    assert kept.size >= 1
    assert len(set(drop.tolist())) == drop.size
    sub = np.abs(corr[np.ix_(kept, kept)])
    np.fill_diagonal(sub, 0.0)
    assert sub.max() <= cutoff


@pytest.mark.parametrize(
    ("corr", "match"),
    [
        (np.ones((2, 3)), "square"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), r"missing or infinite values .*\[0, 1\]"),
        (np.array([[1.0, 0.5], [0.2, 1.0]]), "not symmetric"),
    ],
)
def test_find_correlation_refuses_bad_matrices(corr, match):
    with pytest.raises(InputDataError, match=match):
        find_correlation(corr)


@pytest.mark.parametrize("cutoff", [-0.1, 1.5, "0.9"])
def test_cutoff_must_be_in_unit_interval(cutoff):
    with pytest.raises(InputDataError, match="cutoff"):
        find_correlation(np.eye(3), cutoff)
    with pytest.raises(InputDataError, match="cutoff"):
        CorrelationFilter(cutoff=cutoff).fit(np.random.default_rng(0).normal(size=(5, 3)))


def test_constant_column_is_an_error_naming_it():
    # R: cor() gives NA and caret stops; we name the column instead of keeping or dropping it
    X = _frame("mtcars").assign(site=1.0)
    with pytest.raises(InputDataError, match=r"constant column\(s\) \['site'\]") as err:
        CorrelationFilter().fit(X)
    assert err.value.field == "site"


def test_correlation_filter_pandas_output():
    X = _frame("USJudgeRatings")
    f = CorrelationFilter(cutoff=0.9, exact=True).set_output(transform="pandas")
    out = f.fit_transform(X)
    assert isinstance(out, pd.DataFrame)
    # caret (R reference): removes ORAL, WRIT, RTEN, PREP, FAMI, CFMG, DILG, INTG
    assert out.columns.tolist() == ["CONT", "DMNR", "DECI", "PHYS"]
    pd.testing.assert_frame_equal(out, X[["CONT", "DMNR", "DECI", "PHYS"]])
    # default exact=None: caret's rule, exact with 12 < 100 columns
    assert CorrelationFilter(cutoff=0.9).fit(X).dropped_.tolist() == f.dropped_.tolist()
    plain = CorrelationFilter(cutoff=0.9, exact=True).fit(X.to_numpy())
    assert plain.dropped_.tolist() == [f"x{i - 1}" for i in [9, 10, 12, 7, 8, 5, 4, 2]]


# ---- find_linear_combos ----------------------------------------------------------------------


@pytest.mark.parametrize("name", FLC_CASES)
def test_find_linear_combos_matches_caret(name):
    # caret 6.0-93 findLinearCombos(as.matrix(X)): combinations and removals, in caret's order
    ref = REF["find_linear_combos"][name]
    X = np.array(REF["datasets"][name]["rows"], dtype=float)
    got = find_linear_combos(X)
    assert isinstance(got, LinearCombos)
    assert [(c + 1).tolist() for c in got.linear_combos] == ref["linear_combos"]
    assert (got.remove + 1).tolist() == ref["remove"]


def test_linear_combos_filter_on_seed004_like_table():
    # R reference: the last biome dummy (the dummies sum to (clay + silt + sand) / 100) and
    # thickness (= bottom - top) are removed; what is left has full column rank
    X = _frame("soil_covariates")
    f = LinearCombosFilter().set_output(transform="pandas").fit(X)
    assert f.dropped_.tolist() == ["biome_cropland", "thickness"]
    assert f.linear_combos_ == [
        ["biome_cropland", "clay", "silt", "sand", "biome_forest", "biome_grassland"],
        ["thickness", "top", "bottom"],
    ]
    out = f.transform(X)
    assert list(out.columns) == [c for c in X.columns if c not in ("biome_cropland", "thickness")]
    assert np.linalg.matrix_rank(out.to_numpy()) == out.shape[1]


def test_linear_combos_exact_answer_by_construction():
    # columns a, z = 0, b, d = a + 2 b. R's qr moves z to the end at once (zero norm), then d
    # (negligible after a and b are taken out): pivot a, b, z, d, rank 2. caret reports the
    # columns after the rank in pivot order: z (a combination of nothing), then d of a and b.
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 12))
    X = np.column_stack([a, np.zeros(12), b, a + 2 * b])
    got = find_linear_combos(X)
    assert [c.tolist() for c in got.linear_combos] == [[1], [3, 0, 2]]
    assert got.remove.tolist() == [1, 3]
    # all-zero matrix (rank 0, where caret errors): every column goes
    assert find_linear_combos(np.zeros((3, 2))).remove.tolist() == [0, 1]
    # full rank: nothing
    assert find_linear_combos(rng.normal(size=(6, 3))).remove.tolist() == []


def test_find_linear_combos_refuses_non_finite():
    with pytest.raises(InputDataError, match="finite"):
        find_linear_combos(np.array([[1.0, np.inf], [2.0, 3.0]]))


# ---- scikit-learn conformance ----------------------------------------------------------------


@parametrize_with_checks(
    [CorrelationFilter(), CorrelationFilter(cutoff=0.3, exact=False), LinearCombosFilter()]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
