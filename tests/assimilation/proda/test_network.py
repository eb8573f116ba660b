"""PRODA's parameter network (Tao et al. (EarthArXiv) §2.6; public PRODA code SRC_NN): loss, architecture,
training on accepted calibrations only, reproducibility, ensemble, save/load, grid prediction,
and the synthetic recovery acceptance test of issue 8."""

import json
import time

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr

from wholesoil.assimilation import ParameterSpace
from wholesoil.assimilation.proda import (
    PRODA_NETWORK_SETTINGS,
    ParameterNetwork,
    accepted_targets,
    mse_loss,
    ratio_mse_loss,
)
from wholesoil.errors import InputDataError

SPACE = ParameterSpace.from_clm5()


def test_ratio_mse_loss_by_hand():
    # Eq. N1, PRODA joint_loss: (500·MSE)·(25·RL). true (0.5, 0.25), pred (0.4, 0.5):
    # MSE = (0.01 + 0.0625)/2 = 0.03625, RL = (0.2 + 1.0)/2 = 0.6 → 500·0.03625·25·0.6 = 271.875
    t = torch.tensor([[0.5, 0.25]])
    p = torch.tensor([[0.4, 0.5]])
    assert float(ratio_mse_loss(p, t)) == pytest.approx(271.875, rel=1e-6)
    assert float(mse_loss(p, t)) == pytest.approx(0.03625, rel=1e-6)


def test_architecture_is_seed_003():
    # Tao et al. (EarthArXiv) §2.6: hidden 256-512-512-256, ReLU, dropout 0.2, output in (0, 1) by sigmoid.
    net = ParameterNetwork(max_epochs=1, device="cpu").fit(*_toy(40))
    linears = [m for m in net.members_[0].modules() if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linears] == [256, 512, 512, 256, 21]
    drops = [m.p for m in net.members_[0].modules() if isinstance(m, torch.nn.Dropout)]
    assert drops == [0.2] * 4
    assert PRODA_NETWORK_SETTINGS["max_epochs"] == 6000
    assert PRODA_NETWORK_SETTINGS["batch_size"] == 32


def _toy(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, (n, 3)) * [30.0, 2000.0, 1.0]
    U = np.clip(0.3 + 0.4 * (X[:, :1] / 30.0) + rng.normal(0, 0.02, (n, 21)), 0.05, 0.95)
    return X, U


SMALL = dict(hidden=(16, 16), max_epochs=30, patience=5, device="cpu")


def test_reproducible_with_a_seed_and_early_stopping_keeps_the_best():
    X, U = _toy(60)
    a = ParameterNetwork(seed=3, **SMALL).fit(X, U)
    b = ParameterNetwork(seed=3, **SMALL).fit(X, U)
    c = ParameterNetwork(seed=4, **SMALL).fit(X, U)
    np.testing.assert_array_equal(a.predict_unit(X), b.predict_unit(X))
    assert not np.array_equal(a.predict_unit(X), c.predict_unit(X))
    h = a.history_[0]
    assert h["best_epoch"] == int(np.argmin(h["validation"]))
    assert h["epochs"] == SMALL["max_epochs"] or h["epochs"] - 1 - h["best_epoch"] == 5


def test_ensemble_save_load_and_grid(tmp_path):
    X, U = _toy(60)
    net = ParameterNetwork(n_members=3, seed=1, **SMALL).fit(X, U, covariate_names=["mat", "map",
                                                                                      "clay"])
    mean, sd = net.predict(X[:5])
    assert mean.shape == (5, 21) and np.all(sd > 0)
    assert np.all((mean >= SPACE.lower) & (mean <= SPACE.upper))
    net.save(tmp_path / "model")
    meta = json.loads((tmp_path / "model" / "network.json").read_text())
    assert meta["covariates"] == ["mat", "map", "clay"]
    assert meta["parameters"] == list(SPACE.names)
    assert meta["settings"]["loss"] == "ratio_mse" and meta["settings"]["seed"] == 1
    back = ParameterNetwork.load(tmp_path / "model", device="cpu")
    np.testing.assert_array_equal(back.predict_unit(X), net.predict_unit(X))
    # grid prediction: the same numbers cell by cell, NaN where a covariate is missing
    g = X[:6].reshape(2, 3, 3).copy()
    g[1, 2, 0] = np.nan
    ds = xr.Dataset({n: (("y", "x"), g[..., j]) for j, n in enumerate(["mat", "map", "clay"])},
                    coords={"y": [1.0, 0.0], "x": [0.0, 1.0, 2.0]})
    out = back.predict_grid(ds, block_cells=4)
    np.testing.assert_allclose(out["tau4s3"].values.reshape(-1)[:5], mean[:5, 10], rtol=1e-6)
    assert np.isnan(out["tau4s3"].values[1, 2]) and np.isnan(out["tau4s3_sd"].values[1, 2])
    with pytest.raises(InputDataError, match=r"needs covariate\(s\) \['clay'\]"):
        back.predict_grid(ds.drop_vars("clay"), source="cov.nc")


def _calibration_tables(n=40, seed=0):
    X, U = _toy(n, seed)
    ids = [f"P{i}" for i in range(n)]
    theta = SPACE.lower + U * (SPACE.upper - SPACE.lower)
    par = pd.DataFrame({"profile_id": np.repeat(ids, 21), "parameter": list(SPACE.names) * n,
                        "mean": theta.reshape(-1)})
    accepted = np.arange(n) % 4 != 0
    prof = pd.DataFrame({"profile_id": ids, "accepted": accepted,
                         "reason": np.where(accepted, "", "R-hat 1.2 > 1.05")})
    sites = pd.DataFrame({"profile_id": ids, "mat": X[:, 0], "map": X[:, 1], "clay": X[:, 2]})
    return par, prof, sites


def test_trains_only_on_accepted_profiles(tmp_path):
    par, prof, sites = _calibration_tables()
    par.to_csv(tmp_path / "parameters.csv", index=False)
    prof.to_csv(tmp_path / "profiles.csv", index=False)
    targets, excluded = accepted_targets(tmp_path / "parameters.csv", tmp_path / "profiles.csv")
    assert len(targets) == 30 and list(targets.columns) == list(SPACE.names)
    assert list(excluded["profile_id"]) == [f"P{i}" for i in range(0, 40, 4)]
    net = ParameterNetwork(seed=0, **SMALL).fit_calibrations(
        tmp_path / "parameters.csv", sites, ["mat", "map"], profiles=tmp_path / "profiles.csv")
    assert set(net.training_ids_) == set(targets.index)
    assert "P0" not in set(net.training_ids_)
    table = net.predict_table(sites.iloc[:3])
    assert list(table["profile_id"]) == ["P0", "P1", "P2"] and "q10_sd" in table


def test_missing_site_covariates_are_named():
    par, prof, sites = _calibration_tables()
    sites.loc[sites["profile_id"] == "P5", "map"] = np.nan
    with pytest.raises(InputDataError, match=r"P5 \(map\)"):
        ParameterNetwork(**SMALL).fit_calibrations(par, sites, ["mat", "map"], profiles=prof)
    prof["accepted"] = False
    with pytest.raises(InputDataError, match="no profile passed"):
        accepted_targets(par, prof)


@pytest.mark.slow
def test_synthetic_recovery_of_covariate_dependent_parameters():
    # Acceptance (issue 8): true parameters a known smooth function of 4 covariates (plus one
    # uninformative covariate) for 300 sites; parameters that do not depend on the covariates
    # scatter around 0.5 with sd 0.02 (calibration noise). Trained with PRODA's architecture,
    # loss and batch size on 240 sites, judged on 60 held-out sites: R² > 0.8 for every
    # covariate-dependent parameter.
    rng = np.random.default_rng(0)
    n = 300
    z = rng.uniform(0, 1, (n, 5))
    X = z * [40.0, 3000.0, 1.0, 60.0, 1.0] + [-10.0, 0.0, 0.0, 0.0, 0.0]  # raw units
    U = np.clip(rng.normal(0.5, 0.02, (n, 21)), 0.01, 0.99)
    truth = {
        "fs3s1": 0.15 + 0.7 * z[:, 0],
        "fs2l3": 0.2 + 0.6 * np.sin(np.pi * z[:, 1] / 2),
        "tau4s2": 0.5 + 0.35 * np.tanh(3 * (z[:, 0] - z[:, 2])),
        "w_scaling": 0.1 + 0.4 * z[:, 1] + 0.4 * z[:, 3] ** 2,
        "q10": 0.3 + 0.5 * z[:, 2] * z[:, 3],
    }
    dep = [SPACE.names.index(k) for k in truth]
    for k, v in truth.items():
        U[:, SPACE.names.index(k)] = v + rng.normal(0, 0.01, n)
    test = np.arange(n) >= 240
    t0 = time.perf_counter()
    net = ParameterNetwork(max_epochs=300, patience=40, seed=1, device="cpu").fit(
        X[~test], U[~test])
    seconds = time.perf_counter() - t0
    u = net.predict_unit(X[test])[0]
    r2 = 1 - ((u - U[test]) ** 2).sum(0) / ((U[test] - U[test].mean(0)) ** 2).sum(0)
    h = net.history_[0]
    print(f"\ntrained {h['epochs']} epochs (best {h['best_epoch']}) in {seconds:.1f} s, "
          f"{h['seconds_per_epoch'] * 1000:.0f} ms/epoch")
    print("held-out R² per parameter:",
          {n: round(float(r2[j]), 3) for j, n in enumerate(SPACE.names)})
    assert np.all(r2[dep] > 0.8), dict(zip(truth, r2[dep], strict=True))


@pytest.mark.parametrize("optimizer, output, loss", [("adadelta", "sigmoid", "mse"),
                                                     ("adam", "linear", "ratio_mse")])
def test_paper_optimizer_and_linear_output(optimizer, output, loss):
    # Adadelta (the paper's and the code's optimizer) and PRODA's linear output layer: training
    # lowers the validation loss, and linear predictions are clipped into the unit cube.
    X, U = _toy(60)
    net = ParameterNetwork(optimizer=optimizer, output=output, loss=loss, seed=2,
                           **{**SMALL, "max_epochs": 15, "patience": 15}).fit(X, U)
    h = net.history_[0]
    assert min(h["validation"]) < h["validation"][0]
    u = net.predict_unit(X * 3.0)  # covariates outside the training range are clipped (Eq. S1)
    assert np.all((u >= 0) & (u <= 1))
    mean, sd = net.predict(X[:7], batch_size=3)
    # the same numbers whatever the block size, to float32 round-off (in unit coordinates)
    np.testing.assert_allclose(SPACE.to_unit(mean), net.predict_unit(X[:7])[0], rtol=0,
                               atol=1e-6)
    assert np.all(sd == 0)


def test_applicability_is_fitted_saved_and_mapped(tmp_path):
    # training climates on a 2-D lattice of 3 × 3 cells, 4 profiles per cell (grid-sampled
    # covariates repeat); a cell far outside is outside the AOA, a training cell inside.
    from wholesoil.mapping import AreaOfApplicability

    cells = np.array([[t, p] for t in (0.0, 5.0, 10.0) for p in (500.0, 1000.0, 1500.0)])
    X = np.repeat(cells, 4, axis=0)
    U = np.full((X.shape[0], 21), 0.5)
    net = ParameterNetwork(seed=0, **SMALL).fit(X, U, covariate_names=["mat", "map"])
    aoa = net.applicability_
    # default groups are the distinct covariate rows, so a profile's nearest neighbour in
    # another fold is the next lattice cell, one spacing away after standardization (the two
    # covariates' sds differ by exactly the factor 100 of their spacings): every training DI,
    # hence the threshold (Eq. 4), is that spacing over the mean training distance
    spacing = 5.0 / np.std(X[:, 0], ddof=1)
    assert aoa.train_di_ == pytest.approx(np.full(36, spacing / aoa.mean_distance_))
    assert aoa.threshold_ == pytest.approx(spacing / aoa.mean_distance_)
    assert isinstance(aoa, AreaOfApplicability)
    net.save(tmp_path / "m")
    back = ParameterNetwork.load(tmp_path / "m", device="cpu")
    ds = xr.Dataset({"mat": (("y", "x"), [[5.0, 30.0, np.nan]]),
                     "map": (("y", "x"), [[1000.0, 4000.0, 800.0]])},
                    coords={"y": [0.0], "x": [0.0, 1.0, 2.0]})
    g = back.applicability_grid(ds)
    assert g["inside_aoa"].values.tolist() == [[1, 0, 0]]
    assert g["dissimilarity"].values[0, 0] == 0.0 and np.isnan(g["dissimilarity"].values[0, 2])
    assert g.attrs["threshold"] == pytest.approx(aoa.threshold_)
