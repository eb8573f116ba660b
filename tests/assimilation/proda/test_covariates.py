"""Covariate assembly and min–max scaling (Tao et al. (EarthArXiv) §2.6), and its errors."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from wholesoil.assimilation.proda import Scaler, grid_covariates, profile_covariates, sample_grid
from wholesoil.errors import InputDataError, MissingColumnError


def test_scaler_is_min_max_with_clipping(tmp_path):
    # Tao et al. (EarthArXiv) §2.6: x̃ = (x − min)/(max − min) over the training profiles; outside → clipped.
    X = np.array([[0.0, 10.0, 5.0], [4.0, 30.0, 5.0], [2.0, 20.0, 5.0]])
    s = Scaler.fit(X, ["a", "b", "const"])
    np.testing.assert_array_equal(s.transform(X), [[0, 0, 0], [1, 1, 0], [0.5, 0.5, 0]])
    np.testing.assert_array_equal(s.transform([[-1.0, 40.0, 7.0], [1.0, np.nan, 5.0]]),
                                  [[0, 1, 0], [0.25, np.nan, 0]])
    s.save(tmp_path / "scaler.json")
    t = Scaler.load(tmp_path / "scaler.json")
    assert t.names == ("a", "b", "const")
    np.testing.assert_array_equal(t.minimum, s.minimum)
    np.testing.assert_array_equal(t.maximum, s.maximum)


def test_profile_covariates_order_and_missing_sites_named():
    sites = pd.DataFrame({"profile_id": ["p1", "p2", "p3", "p4"], "mat": [1.0, np.nan, 3, 4],
                          "map": [100.0, 200, np.nan, 400], "clay": [5.0, 6, 7, 8]})
    ids, X = profile_covariates(sites, ["clay", "mat"], profile_ids=["p4", "p1"])
    assert list(ids) == ["p4", "p1"]
    np.testing.assert_array_equal(X, [[8.0, 4.0], [5.0, 1.0]])
    with pytest.raises(InputDataError) as e:
        profile_covariates(sites, ["mat", "map"], source="sites.csv")
    msg = str(e.value)
    assert "sites.csv" in msg and "2 profile(s)" in msg
    assert "p2 (mat)" in msg and "p3 (map)" in msg
    with pytest.raises(InputDataError, match="no row in the covariate table: p9"):
        profile_covariates(sites, ["clay"], profile_ids=["p1", "p9"])
    with pytest.raises(MissingColumnError, match=r"\['ph'\]"):
        profile_covariates(sites, ["clay", "ph"])


def _grid():
    y = np.array([10.0, 0.0, -10.0])
    x = np.array([0.0, 10.0])
    mat = np.array([[1.0, 2.0], [3.0, np.nan], [5.0, 6.0]])
    return xr.Dataset({"mat": (("y", "x"), mat), "map": (("y", "x"), mat * 100)},
                      coords={"y": y, "x": x})


def test_grid_covariates_and_missing_grid_variable():
    X, valid, shape, dims = grid_covariates(_grid(), ["map", "mat"])
    assert shape == (3, 2) and dims == ("y", "x")
    np.testing.assert_array_equal(valid, [True, True, True, False, True, True])
    np.testing.assert_array_equal(X[0], [100.0, 1.0])
    with pytest.raises(InputDataError, match=r"cov.nc.*\['clay'\] that the grid lacks; "
                                             r"the grid has \['map', 'mat'\]"):
        grid_covariates(_grid(), ["mat", "clay"], source="cov.nc")


def test_sample_grid_nearest_cell():
    v = sample_grid(_grid(), [9.0, -7.0, 1.0], [1.0, 359.0, 9.0], ["mat"])
    np.testing.assert_array_equal(v[:, 0], [1.0, 5.0, np.nan])
