"""End-to-end differentiable calibration (issue 8, "Beyond PRODA"): network → CLM5 steady state →
layer stocks → PRODA's CLM5 cost, trained without MCMC."""

import time

import numpy as np
import pytest

from wholesoil.assimilation import ParameterSpace, ProfileData, nse
from wholesoil.assimilation.proda import ParameterNetwork, fit_end_to_end, predict_layer_stocks
from wholesoil.errors import InputDataError
from wholesoil.models import CLM5, CLM5Parameters, forcing_from_climate, layer_stocks

SPACE = ParameterSpace.from_clm5()
TOP = [0.0, 10.0, 30.0, 60.0, 100.0]
BOTTOM = [10.0, 30.0, 60.0, 100.0, 200.0]


def _synthetic(p, seed=0, noise=0.05):
    """Profiles whose true CLM5 parameters depend smoothly on covariates (mat, map, z3, z4)."""
    rng = np.random.default_rng(seed)
    mat, mp = rng.uniform(-5, 25, p), rng.uniform(300, 2500, p)
    z3, z4 = rng.uniform(0, 1, p), rng.uniform(0, 1, p)
    X = np.stack([mat, mp, z3, z4], -1)
    f = forcing_from_climate(mat, mp, lat=np.full(p, 40.0))
    U = np.full((p, 21), 0.5)
    U[:, SPACE.names.index("tau4s3")] = 0.1 + 0.8 * z3
    U[:, SPACE.names.index("efolding")] = 0.2 + 0.6 * z4
    U[:, SPACE.names.index("tau4s2")] = 0.2 + 0.6 * (mat + 5) / 30
    x = CLM5(CLM5Parameters.from_dict(SPACE.from_unit(U)), f).steady_state()
    top, bot = np.tile(TOP, (p, 1)), np.tile(BOTTOM, (p, 1))
    soc = layer_stocks(x[:, 4:7].sum(1), top, bot) * np.exp(rng.normal(0, noise, (p, 5)))
    return ProfileData(np.array([f"S{i}" for i in range(p)]), top, bot, soc, f), X, U


SMALL = dict(hidden=(16, 16), max_epochs=4, patience=5, device="cpu", seed=0)


def test_predicted_stocks_equal_numpy_clm5_at_the_predicted_parameters():
    # predict_layer_stocks (torch, structured solve) vs wholesoil.models.CLM5 + layer_stocks at
    # the same parameters: the same model, so equal to solver round-off.
    data, X, _ = _synthetic(12)
    net = fit_end_to_end(data, X, network=ParameterNetwork(**SMALL))
    s, e = predict_layer_stocks(net, data, X)
    theta, _ = net.predict(X)
    x = CLM5(CLM5Parameters.from_dict(dict(zip(SPACE.names, theta.T, strict=True))),
             data.forcing).steady_state()
    ref = layer_stocks(x[:, 4:7].sum(1), data.top, data.bottom)
    np.testing.assert_allclose(s, ref, rtol=1e-10)
    np.testing.assert_allclose(e, nse(ref, data.soc), rtol=1e-9)
    h = net.history_[0]
    assert h["best_epoch"] == int(np.argmin(h["validation"]))
    assert len(net.validation_ids_[0]) == 1  # 10 % of 12 profiles, rounded


def test_bad_settings_raise():
    data, X, _ = _synthetic(6)
    with pytest.raises(InputDataError, match="sigmoid"):
        fit_end_to_end(data, X, network=ParameterNetwork(output="linear", **SMALL))
    with pytest.raises(InputDataError, match="21 parameters"):
        fit_end_to_end(data, X, network=ParameterNetwork(ParameterSpace.from_compas(), **SMALL))
    Xb = X.copy()
    Xb[2, 1] = np.nan
    with pytest.raises(InputDataError, match="S2"):
        fit_end_to_end(data, Xb, network=ParameterNetwork(**SMALL))


@pytest.mark.slow
def test_end_to_end_fits_held_out_profiles():
    # 150 synthetic profiles (5 layers to 2 m, 5 % lognormal noise), 120 for training (10 % of
    # them for early stopping), 30 held out. Compared on the held-out profiles with two-step
    # PRODA given *perfect* calibrations (the network trained on the true parameters, the best
    # the MCMC step could deliver) and with the prior-centre parameters (u = 0.5).
    data, X, U = _synthetic(150)
    test = np.arange(150) >= 120
    tr, te = data.subset(np.flatnonzero(~test)), data.subset(np.flatnonzero(test))
    t0 = time.perf_counter()
    e2e = fit_end_to_end(tr, X[~test], network=ParameterNetwork(max_epochs=300, patience=80,
                                                                  seed=0, device="cpu"))
    t_e2e = time.perf_counter() - t0
    _, nse_e2e = predict_layer_stocks(e2e, te, X[test])
    two = ParameterNetwork(max_epochs=300, patience=40, seed=0, device="cpu").fit(
        X[~test], np.clip(U[~test], 1e-3, 1))
    _, nse_two = predict_layer_stocks(two, te, X[test])
    x0 = CLM5(CLM5Parameters.from_dict(SPACE.from_unit(np.full((30, 21), 0.5))),
              te.forcing).steady_state()
    nse0 = nse(layer_stocks(x0[:, 4:7].sum(1), te.top, te.bottom), te.soc)
    h = e2e.history_[0]
    print(f"\ne2e: {h['epochs']} epochs in {t_e2e:.1f} s ({h['seconds_per_epoch']:.3f} s/epoch, "
          f"108 profiles); held-out NSE median (mean): e2e {np.median(nse_e2e):.3f} "
          f"({nse_e2e.mean():.3f}), two-step with perfect calibrations {np.median(nse_two):.3f} "
          f"({nse_two.mean():.3f}), prior centre {np.median(nse0):.3f} ({nse0.mean():.3f})")
    # as good as two-step PRODA could be (its calibrations here are exact), within 0.01 NSE,
    # without any MCMC; and far better than uncalibrated parameters
    assert np.median(nse_e2e) > np.median(nse_two) - 0.01
    assert np.median(nse_e2e) > np.median(nse0) + 0.3
