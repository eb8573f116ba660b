"""GroupedPCA (Wang G. et al. (manuscript): PCA per covariate group, components with variance > 1) against R.

Reference numbers: tests/reference/collinearity_reference.json, printed by
tests/reference/collinearity_reference.R under R 4.2.2 (Debian bookworm r-base-core
4.2.2.20221110-2): stats::prcomp(X[, group], center = TRUE, scale. = TRUE) per group, its
eigenvalues (sdev^2), rotation and scores. Data: a synthetic seed-004-like covariate table
(set.seed(4); edaphic, climatic, topographic groups) and R's mtcars (Henderson & Velleman 1981),
both copied into the JSON. prcomp's signs are LAPACK's choice, so vectors compare up to sign.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.utils.estimator_checks import parametrize_with_checks

from wholesoil.errors import InputDataError, MissingColumnError
from wholesoil.stats._grouped_pca import GroupedPCA

REF = json.loads(
    (Path(__file__).parents[1] / "reference" / "collinearity_reference.json").read_text()
)
DATASETS = sorted(REF["prcomp"])


def _frame(name: str) -> pd.DataFrame:
    d = REF["datasets"][name]
    return pd.DataFrame(np.array(d["rows"], dtype=float), columns=d["columns"])


def _assert_equal_up_to_sign(got, ref, atol):
    got, ref = np.atleast_2d(got), np.atleast_2d(ref)
    for k in range(ref.shape[1]):
        sign = np.sign(got[:, k] @ ref[:, k])
        assert_allclose(sign * got[:, k], ref[:, k], atol=atol, rtol=0)


@pytest.mark.parametrize("name", DATASETS)
def test_matches_prcomp_per_group(name):
    X = _frame(name)
    groups = REF["groups"][name]
    pca = GroupedPCA(groups).fit(X)
    scores = pd.DataFrame(pca.transform(X), columns=pca.get_feature_names_out())
    for group, ref in REF["prcomp"][name].items():
        assert pca.groups_[group] == ref["columns"]
        eig = np.array(ref["eigenvalues"])
        # prcomp sdev^2, to 1e-10
        assert_allclose(pca.eigenvalues_[group], eig, rtol=1e-10, atol=1e-10)
        k = pca.n_components_[group]
        assert k == max(1, int(np.sum(eig > 1.0)))  # Kaiser rule on R's eigenvalues
        cols = [f"{group}_PC{c + 1}" for c in range(k)]
        rotation = np.array(ref["rotation"])[:, :k]
        _assert_equal_up_to_sign(
            pca.loadings_.loc[ref["columns"], cols].to_numpy(), rotation, 1e-10
        )
        _assert_equal_up_to_sign(scores[cols].to_numpy(), np.array(ref["scores"])[:, :k], 1e-9)
        assert_allclose(
            pca.explained_variance_ratio_[group], eig[:k] / len(ref["columns"]), rtol=1e-10
        )


def test_kaiser_counts_on_the_seed004_like_table():
    # from the R eigenvalues: edaphic 3.56, 1.35, 0.87…; climatic 2.54, 1.41, 0.05…;
    # topographic 1.93, 0.994 (just under 1), 0.07
    pca = GroupedPCA(REF["groups"]["soil_covariates"]).fit(_frame("soil_covariates"))
    assert pca.n_components_ == {"edaphic": 2, "climatic": 2, "topographic": 1}
    names = pca.get_feature_names_out().tolist()
    assert names[:5] == [
        "edaphic_PC1",
        "edaphic_PC2",
        "climatic_PC1",
        "climatic_PC2",
        "topographic_PC1",
    ]
    # the rest pass through in input order
    assert names[5:] == [
        "biome_forest",
        "biome_grassland",
        "biome_cropland",
        "top",
        "bottom",
        "thickness",
    ]


def test_at_least_one_component_per_group_and_threshold_option():
    X = _frame("mtcars")
    groups = {"engine": ["cyl", "disp", "hp", "carb"], "weight": ["wt"]}
    pca = GroupedPCA(groups, min_eigenvalue=100.0, remainder="drop").fit(X)
    assert pca.n_components_ == {"engine": 1, "weight": 1}
    # a one-column group: its component is the standardized column (eigenvalue exactly 1)
    assert_allclose(pca.eigenvalues_["weight"], [1.0], rtol=1e-12)
    z = (X["wt"] - X["wt"].mean()) / X["wt"].std(ddof=1)
    assert_allclose(pca.transform(X)[:, 1], z, rtol=1e-12)
    all_kept = GroupedPCA(groups, min_eigenvalue=0.0, remainder="drop").fit(X)
    assert all_kept.n_components_ == {"engine": 4, "weight": 1}


def test_loadings_reproduce_the_scores_and_pass_through_columns():
    X = _frame("soil_covariates")
    pca = GroupedPCA(REF["groups"]["soil_covariates"]).set_output(transform="pandas")
    out = pca.fit_transform(X)
    assert isinstance(out, pd.DataFrame)
    grouped = pca.loadings_.index
    z = (X[grouped] - pca.center_) / pca.scale_
    comps = pca.loadings_.columns
    assert_allclose(out[comps].to_numpy(), z.to_numpy() @ pca.loadings_.to_numpy(), atol=1e-12)
    # block structure: a column loads only on its own group's components
    assert (pca.loadings_.loc["clay", [c for c in comps if not c.startswith("edaphic")]] == 0).all()
    pd.testing.assert_frame_equal(out[pca.remainder_], X[pca.remainder_])
    # the variance of each component is its eigenvalue
    assert_allclose(out[comps[:2]].var(ddof=1), pca.eigenvalues_["edaphic"][:2], rtol=1e-10)
    dropped = GroupedPCA(REF["groups"]["soil_covariates"], remainder="drop").fit(X)
    assert dropped.remainder_ == []
    assert dropped.transform(X).shape == (len(X), 5)


def test_positions_work_without_column_names():
    X = _frame("mtcars")
    by_name = GroupedPCA({"body": ["wt", "qsec", "drat", "mpg"]}, remainder="drop").fit(X)
    pos = [X.columns.get_loc(c) for c in ["wt", "qsec", "drat", "mpg"]]
    by_pos = GroupedPCA({"body": pos}, remainder="drop").fit(X.to_numpy())
    assert_allclose(by_pos.transform(X.to_numpy()), by_name.transform(X), atol=1e-12)
    assert by_pos.groups_["body"] == [f"x{i}" for i in pos]


@pytest.mark.parametrize(
    ("groups", "error", "match"),
    [
        ({"edaphic": ["clay", "nitrogen"]}, MissingColumnError, "'nitrogen' not in X"),
        ({"a": ["clay", "silt"], "b": ["silt"]}, InputDataError, "'silt' is in group 'a' and"),
        ({"a": []}, InputDataError, "non-empty list"),
        ({}, InputDataError, "non-empty dict"),
        ({"a": [99]}, InputDataError, "position 99, but X has 19 feature"),
    ],
)
def test_bad_groups_are_named(groups, error, match):
    with pytest.raises(error, match=match):
        GroupedPCA(groups).fit(_frame("soil_covariates"))


def test_names_need_a_table_and_constant_columns_are_refused():
    X = _frame("soil_covariates")
    with pytest.raises(InputDataError, match="no column names"):
        GroupedPCA({"edaphic": ["clay"]}).fit(X.to_numpy())
    with pytest.raises(InputDataError, match=r"constant column\(s\) \['site'\]"):
        GroupedPCA({"edaphic": ["clay", "site"]}).fit(X.assign(site=2.0))
    with pytest.raises(InputDataError, match=r"\['edaphic_PC1'\] would repeat"):
        GroupedPCA({"edaphic": ["clay", "silt"]}).fit(X.rename(columns={"top": "edaphic_PC1"}))
    with pytest.raises(InputDataError, match="remainder"):
        GroupedPCA({"edaphic": ["clay"]}, remainder="keep").fit(X)
    with pytest.raises(InputDataError, match="min_eigenvalue"):
        GroupedPCA({"edaphic": ["clay"]}, min_eigenvalue=-1).fit(X)


# ---- scikit-learn conformance ----------------------------------------------------------------
# The checks build arrays without column names and with 1 to 10+ features, so the groups are
# given as positions. {"ab": [1, 0]} needs two features: on the checks' 1-feature data it
# raises the ValueError "... X has 1 feature(s)" that check_fit2d_1feature accepts.


@parametrize_with_checks(
    [
        GroupedPCA(groups={"g": [0]}),
        GroupedPCA(groups={"ab": [1, 0]}, remainder="drop"),
        GroupedPCA(groups={"a": [0], "b": [1]}, min_eigenvalue=0.0),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
