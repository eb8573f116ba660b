"""Partial correlations by depth band (Wang G. et al. (2025) Fig. S1) against exact closed forms.

R's ppcor is not packaged in Debian, so the references are exact definitions computed here
independently: (a) the correlation of least-squares residuals of y and x_j on the other drivers,
(b) the three-variable formula r_xy·z = (r_xy − r_xz r_yz) / √((1 − r_xz²)(1 − r_yz²)) (Fisher
1924; e.g. Sokal & Rohlf, Biometry, §16.6), (c) with one driver, scipy.stats.pearsonr /
spearmanr, whose p-values use the same t with n − 2 df.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from wholesoil.errors import InputDataError, MissingColumnError
from wholesoil.stats._partial import depth_bands, partial_correlation


@pytest.fixture(scope="module")
def layers():
    rng = np.random.default_rng(1)
    n = 240
    top = np.tile([0.0, 30.0, 100.0], n // 3)
    bottom = top + np.tile([30.0, 70.0, 100.0], n // 3)
    mat = rng.normal(8, 6, n)
    tn = rng.lognormal(0, 0.5, n) + 0.02 * mat
    fe = rng.normal(10, 3, n) + 0.3 * tn
    soc = 5 + 3 * tn - 0.2 * mat + 0.1 * fe * (top > 0) + rng.normal(0, 1, n)
    soc[::7] = np.round(soc[::7])  # some ties for the ranks
    return pd.DataFrame({"top": top, "bottom": bottom, "mat": mat, "tn": tn, "fe": fe,
                         "soc": soc, "band": depth_bands(top, bottom)})


def _residual_partial(y, X, j):
    others = np.c_[np.ones(len(y)), np.delete(X, j, axis=1)]
    ry = y - others @ np.linalg.lstsq(others, y, rcond=None)[0]
    rx = X[:, j] - others @ np.linalg.lstsq(others, X[:, j], rcond=None)[0]
    return np.corrcoef(ry, rx)[0, 1]


def test_depth_bands_seed001():
    assert depth_bands([0, 30, 100, 150], [30, 100, 200, 300]).tolist() == [
        "0–30 cm", "30–100 cm", ">100 cm", ">100 cm"]
    with pytest.raises(InputDataError, match="outside the bands"):
        depth_bands([0], [30], edges=[20, 50])


def test_equals_residual_correlation_in_every_band(layers):
    drivers = ["mat", "tn", "fe"]
    out = partial_correlation(layers, "soc", drivers, by="band")
    assert out["band"].unique().tolist() == ["0–30 cm", "30–100 cm", ">100 cm"]
    for band, sub in layers.groupby("band"):
        y, X = sub["soc"].to_numpy(), sub[drivers].to_numpy()
        rows = out[out["band"] == band].set_index("driver")
        for j, d in enumerate(drivers):
            r = _residual_partial(y, X, j)
            assert_allclose(rows.loc[d, "r"], r, rtol=1e-10)
            n, k = len(sub), 2
            t = r * np.sqrt((n - 2 - k) / (1 - r * r))
            assert rows.loc[d, "df"] == n - 2 - k
            assert_allclose(rows.loc[d, "p_value"], 2 * stats.t.sf(abs(t), n - 2 - k),
                            rtol=1e-9)


def test_three_variable_closed_form(layers):
    c = layers[["soc", "tn", "mat"]].corr().to_numpy()
    rxy, rxz, ryz = c[0, 1], c[0, 2], c[1, 2]
    expect = (rxy - rxz * ryz) / np.sqrt((1 - rxz**2) * (1 - ryz**2))
    out = partial_correlation(layers, "soc", ["tn", "mat"])
    assert_allclose(out.set_index("driver").loc["tn", "r"], expect, rtol=1e-12)


def test_one_driver_is_the_plain_correlation(layers):
    out = partial_correlation(layers, "soc", ["tn"], by="band")
    sp = partial_correlation(layers, "soc", ["tn"], by="band", method="spearman")
    for band, sub in layers.groupby("band"):
        pr = stats.pearsonr(sub["soc"], sub["tn"])
        row = out[out["band"] == band].iloc[0]
        assert_allclose([row["r"], row["p_value"]], [pr.statistic, pr.pvalue], rtol=1e-9)
        sr = stats.spearmanr(sub["soc"], sub["tn"])
        row = sp[sp["band"] == band].iloc[0]
        assert_allclose([row["r"], row["p_value"]], [sr.statistic, sr.pvalue], rtol=1e-9)


def test_spearman_is_pearson_on_within_band_ranks(layers):
    drivers = ["mat", "tn", "fe"]
    sp = partial_correlation(layers, "soc", drivers, by="band", method="spearman")
    ranked = layers.copy()
    for c in ["soc", *drivers]:
        ranked[c] = layers.groupby("band")[c].rank(method="average")
    pe = partial_correlation(ranked, "soc", drivers, by="band")
    assert_allclose(sp["r"], pe["r"], rtol=1e-12)


def test_bad_input(layers):
    with pytest.raises(MissingColumnError, match="'mbc'"):
        partial_correlation(layers, "soc", ["tn", "mbc"])
    bad = layers.copy()
    bad.loc[3, "tn"] = np.nan
    with pytest.raises(InputDataError, match="row 5, field 'tn'"):
        partial_correlation(bad, "soc", ["tn", "mat"])
    with pytest.raises(InputDataError, match="needs at least 5"):
        partial_correlation(layers.head(6), "soc", ["tn", "mat", "fe"], by="band")
    col = layers.assign(tn2=2 * layers["tn"])
    with pytest.raises(InputDataError, match="collinear"):
        partial_correlation(col, "soc", ["tn", "tn2"])
    const = layers.assign(fe=1.0)
    with pytest.raises(InputDataError, match="field 'fe': constant within band"):
        partial_correlation(const, "soc", ["tn", "fe"], by="band")
