"""Pieces of ``wholesoil reproduce proda-convergence`` that can be checked in seconds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from wholesoil.reproduce import proda_convergence as pc


def test_cwd_rule_forest_only():
    eco = pd.Series(["forest", "Larix dominated taiga", "tundra", None, "Forest", None])
    # unlabelled profiles take Holdridge's life zones: 25 °C, 2000 mm is tropical moist forest;
    # -8 °C, 300 mm is polar (biotemperature < 3 °C)
    mat = np.array([10.0, -5.0, -8.0, 25.0, 10.0, -8.0])
    mp = np.array([800.0, 400.0, 300.0, 2000.0, 800.0, 300.0])
    lat = np.full(6, 50.0)
    assert_allclose(pc.cwd_rule(eco, mat, mp, lat), [0.2, 0.2, 0.0, 0.2, 0.2, 0.0])


def test_covariate_matrix_one_hot_and_nan():
    sites = pd.DataFrame({"pro_BIO1_C_WC2.1": [1.0, np.nan, 3.0],
                          "pro_KG_present_short": ["Cfb", None, "Dfc"]})
    X, cols = pc.covariate_matrix(sites, list(sites.columns))
    assert cols == ["pro_BIO1_C_WC2.1", "pro_KG_present_short_Cfb", "pro_KG_present_short_Dfc"]
    assert_allclose(X[0], [1, 1, 0])
    assert np.isnan(X[1]).all()
    _tr, te = pc._impute(X[[0, 2]], X[[1]])
    assert_allclose(te, [[2.0, 0.5, 0.5]])  # fold medians


@pytest.mark.parametrize("model", ["clm5", "compas"])
def test_litter_to_mineral_share_between_0_and_1(model):
    """Supplementary Fig. 3 quantity with default parameters at three climates: a share of the
    plant input, so in (0, 1); CLM5's equals Σ a_ij k_j ξ x_j Δz / input by construction."""
    from wholesoil.assimilation.proda._simulate import default_parameters

    pars = {k: (None if v is None else np.full(3, v)) for k, v in
            default_parameters(model).items()}
    if model == "clm5":
        pars = {k: v for k, v in pars.items() if v is not None}
    r = pc.litter_to_mineral_ratio(model, pars, np.array([-5.0, 10, 25]),
                                   np.array([300.0, 800, 2000]), np.array([65.0, 45, 0]))
    assert r.shape == (3,)
    assert np.all((r > 0) & (r < 1)), r
