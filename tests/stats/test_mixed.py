"""Linear mixed models (wholesoil.stats._mixed) against R lme4 + performance.

Reference numbers: tests/reference/mixed_reference.json, written by
tests/reference/mixed_reference.R under R 4.2.2 (Debian bookworm), lme4 1.1-31 (bobyqa),
performance 0.10.2 / insight 0.19.0 (r2_nakagawa, icc). Datasets (CSV beside the script):
lme4's sleepstudy (random intercepts and slopes), a seed-002-shaped synthetic set (random
intercept per source, z-scored predictors) and lme4's Pastes (casks nested in batches).
Tolerances are those of issue 10: fixed effects 1e-4 relative, variance components 1e-3
relative, Nakagawa R² 1e-3 absolute. Measured (this commit): fixed effects ≤ 3e-10, variance
components ≤ 3.5e-6 relative, R² and ICC ≤ 3e-7 absolute, conditional fitted values ≤ 4e-7 sd.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from wholesoil.errors import InputDataError, MissingColumnError
from wholesoil.stats._mixed import fit_mixed, table_to_markdown, zscore_columns

REFDIR = Path(__file__).parents[1] / "reference"
REF = json.loads((REFDIR / "mixed_reference.json").read_text())


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(REFDIR / f"mixed_{name}.csv")


def _fit(name: str, reml: bool):
    if name == "sleepstudy":
        return fit_mixed(_read(name), "Reaction ~ Days", "Subject", slopes=["Days"], reml=reml)
    if name == "soc_sources":
        z, _ = zscore_columns(_read(name), ["npp", "mat", "depth"])
        return fit_mixed(z, "log10(soc) ~ npp + mat + depth", "source", reml=reml)
    return fit_mixed(_read(name), "strength ~ 1", "batch",
                     vc_formula={"cask": "0 + C(cask)"}, reml=reml)


_FITS: dict[tuple[str, bool], object] = {}


def fitted(name: str, reml: bool):
    key = (name, reml)
    if key not in _FITS:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # these fits converge without warnings
            _FITS[key] = _fit(name, reml)
    return _FITS[key]


CASES = [(n, reml) for n in ("sleepstudy", "soc_sources", "pastes") for reml in (True, False)]


def _ref(name, reml):
    return REF[f"{name}_{'REML' if reml else 'ML'}"]


def _random_cov(r: dict, group: str) -> np.ndarray:
    return np.atleast_2d(np.asarray(r["random"][group]["cov"], dtype=float))


@pytest.mark.parametrize(("name", "reml"), CASES)
def test_fixed_effects_match_lme4(name, reml):
    res, r = fitted(name, reml), _ref(name, reml)
    assert res.fixed_effects["term"].tolist() == list(r["fixef"])
    assert_allclose(res.fixed_effects["estimate"], list(r["fixef"].values()), rtol=1e-4)
    assert res.n_obs == r["nobs"]


@pytest.mark.parametrize(("name", "reml"), CASES)
def test_variance_components_match_lme4(name, reml):
    res, r = fitted(name, reml), _ref(name, reml)
    assert_allclose(res.sigma2, r["sigma2"], rtol=1e-3)
    group = res.group
    assert_allclose(res.cov_re.to_numpy(), _random_cov(r, group), rtol=1e-3)
    if name == "pastes":  # lme4's (1 | batch/cask): the cask:batch variance is our component
        assert_allclose(res.vcomp["cask"], _random_cov(r, "cask:batch")[0, 0], rtol=1e-3)
    assert_allclose(res.loglik, r["loglik"], rtol=1e-8)
    assert res.converged


@pytest.mark.parametrize(("name", "reml"), CASES)
def test_nakagawa_r2_and_icc_match_performance(name, reml):
    res, r = fitted(name, reml), _ref(name, reml)
    assert_allclose(res.r2_marginal, r["r2_marginal"], atol=1e-3)
    assert_allclose(res.r2_conditional, r["r2_conditional"], atol=1e-3)
    assert_allclose([res.icc_adjusted, res.icc_unadjusted],
                    [r["icc_adjusted"], r["icc_unadjusted"]], atol=1e-3)
    assert_allclose([res.var_fixed, res.var_random], [r["var_fixed"], r["var_random"]],
                    rtol=1e-3, atol=1e-12)


def test_random_slope_variance_is_mean_of_z_sigma_z():
    # Johnson (2014): σ²_r = mean_i z_iᵀ Σ z_i = τ00 + 2 τ01 x̄ + τ11 mean(x²), here x = Days
    res = fitted("sleepstudy", True)
    days = _read("sleepstudy")["Days"].to_numpy(float)
    S = res.cov_re.to_numpy()
    expect = S[0, 0] + 2 * S[0, 1] * days.mean() + S[1, 1] * np.mean(days**2)
    assert_allclose(res.var_random, expect, rtol=1e-12)
    # and it is not τ00 alone (the random-intercept shortcut would be wrong here)
    assert abs(res.var_random - S[0, 0]) > 0.1 * S[0, 0]


@pytest.mark.parametrize(("name", "reml"), CASES)
def test_conditional_predictions_match_lme4_fitted(name, reml):
    res, r = fitted(name, reml), _ref(name, reml)
    y = np.asarray(r["fitted"])
    scale = np.std(y) if np.std(y) > 0 else 1.0
    assert_allclose(res.fitted, y, atol=1e-4 * scale)
    # statsmodels' own fittedvalues include the random effects too
    assert_allclose(res.fitted, res.statsmodels_result.fittedvalues, rtol=1e-10)
    # predict() on the training table rebuilds the designs and gives the same values
    data = _read(name)
    if name == "soc_sources":
        data, _ = zscore_columns(data, ["npp", "mat", "depth"])
    assert_allclose(res.predict(data), res.fitted, rtol=1e-10)
    assert_allclose(res.predict(data, conditional=False), res.fitted_fixed, rtol=1e-10)


def test_predict_new_group_gets_zero_random_effect():
    res = fitted("sleepstudy", True)
    new = pd.DataFrame({"Days": [0.0, 5.0], "Subject": ["unseen", "unseen"]})
    b = res.params
    assert_allclose(res.predict(new), b["(Intercept)"] + b["Days"] * new["Days"], rtol=1e-12)


def test_zscore_in_formula_equals_zscored_columns():
    # zscore() inside the formula (R's scale(), n − 1) gives the same fit as z-scored columns
    d = _read("soc_sources")
    a = fitted("soc_sources", True)
    b = fit_mixed(d, "log10(soc) ~ zscore(npp) + zscore(mat) + zscore(depth)", "source")
    assert_allclose(b.fixed_effects["estimate"], a.fixed_effects["estimate"], rtol=1e-8)
    z, table = zscore_columns(d, ["npp"])
    assert_allclose(table["sd"].iloc[0], d["npp"].std(ddof=1), rtol=1e-14)
    assert_allclose(z["npp"].mean(), 0, atol=1e-12)
    # the stateful transform reuses the training mean and sd on new data
    assert_allclose(b.predict(d.iloc[:7]), b.fitted[:7], rtol=1e-10)


def test_confidence_intervals_are_wald():
    res = fitted("soc_sources", True)
    fe = res.fixed_effects
    assert_allclose(fe["ci_upper"] - fe["estimate"], 1.959963984540054 * fe["std_error"],
                    rtol=1e-12)
    assert (fe["p_value"] < 1e-3).all()
    t = fit_mixed(zscore_columns(_read("soc_sources"), ["npp", "mat", "depth"])[0],
                  "log10(soc) ~ npp + mat + depth", "source", df_method="residual")
    assert (t.fixed_effects["p_value"] > fe["p_value"]).all()


def test_report_table_has_seed_002_layout():
    res = fitted("soc_sources", True)
    t = res.report_table()
    assert t.columns.tolist() == ["Predictors", "Estimates", "CI", "p"]
    first = t["Predictors"].tolist()
    assert first[:4] == ["(Intercept)", "npp", "mat", "depth"]
    assert first[4:] == ["Random effects", "σ²", "τ00 source", "ICC", "N source",
                         "Observations", "Marginal R² / conditional R²"]
    row = t.set_index("Predictors")
    assert row.loc["N source", "Estimates"] == "15"
    assert row.loc["Observations", "Estimates"] == "121"
    assert row.loc["Marginal R² / conditional R²", "Estimates"] == (
        f"{res.r2_marginal:.3f}/{res.r2_conditional:.3f}")
    assert row.loc["mat", "CI"].count(" to ") == 1  # negative bounds as in the paper
    md = table_to_markdown(t)
    assert md.splitlines()[0] == "| Predictors | Estimates | CI | p |"
    slope = fitted("sleepstudy", True).report_table()["Predictors"].tolist()
    assert "τ11 Subject.Days" in slope and "ρ01 Subject.Days" in slope


def test_missing_column_is_named_with_the_available_ones():
    d = _read("soc_sources")
    with pytest.raises(MissingColumnError, match=r"'nppp'.*available columns: \['source'"):
        fit_mixed(d, "log10(soc) ~ nppp + mat", "source")
    with pytest.raises(MissingColumnError, match="'biome'"):
        fit_mixed(d, "log10(soc) ~ npp", "biome")
    with pytest.raises(MissingColumnError, match="'slope_x'"):
        fit_mixed(d, "log10(soc) ~ npp", "source", slopes=["slope_x"])


def test_single_level_group_is_refused():
    d = _read("soc_sources").assign(one="S")
    with pytest.raises(InputDataError, match="at least two levels"):
        fit_mixed(d, "log10(soc) ~ npp", "one")


def test_singular_design_names_the_collinear_columns():
    d = _read("soc_sources")
    d["npp2"] = 2.0 * d["npp"] + 1.0
    with pytest.raises(InputDataError, match=r"singular.*'npp2' is a linear combination of "
                                             r"\['Intercept', 'npp'\]"):
        fit_mixed(d, "log10(soc) ~ npp + mat + npp2", "source")


def test_missing_and_non_finite_values_are_located():
    d = _read("soc_sources")
    d.loc[4, "mat"] = np.nan
    with pytest.raises(InputDataError, match=r"row 6, field 'mat'.*missing"):
        fit_mixed(d, "log10(soc) ~ npp + mat", "source")
    d = _read("soc_sources")
    d.loc[2, "soc"] = 0.0
    with pytest.raises(InputDataError, match=r"row 4.*not finite"):
        fit_mixed(d, "log10(soc) ~ npp", "source")


def test_convergence_problems_are_reported_not_swallowed():
    # a boundary fit: no between-group variance at all → statsmodels warns; we keep the text
    rng = np.random.default_rng(7)
    d = pd.DataFrame({"y": rng.normal(size=40), "x": rng.normal(size=40),
                      "g": np.repeat(list("abcd"), 10)})
    d["y"] -= d.groupby("g")["y"].transform("mean")  # group means exactly 0
    with pytest.warns(UserWarning, match="MixedLM"):
        res = fit_mixed(d, "y ~ x", "g")
    assert res.warnings
    assert any("boundary" in w or "singular" in w.lower() or "converge" in w
               for w in res.warnings)


@pytest.mark.parametrize("name", ["sleepstudy", "pastes"])
def test_direct_blups_equal_statsmodels_random_effects(name):
    # the fallback used at singular Σ (Henderson's b = G Uᵀ V⁻¹ r) against statsmodels' own
    from wholesoil.stats._mixed import _blups

    res = fitted(name, True)
    m = res.statsmodels_result.model
    rows = [np.asarray(m.row_indices[g]) for g in m.group_labels]
    Z = np.zeros((m.nobs, m.k_re))
    for ix, z in zip(rows, m.exog_re_li, strict=True):
        Z[ix] = z
    b = _blups(m.endog - res.fitted_fixed, Z, res.cov_re.to_numpy(), m.exog_vc.mats,
               res.vcomp.to_numpy(), res.sigma2, rows)
    sm = res.statsmodels_result.random_effects
    for k, g in enumerate(m.group_labels):
        assert_allclose(b[k], np.asarray(sm[g]), rtol=1e-6, atol=1e-9)
