"""The torch CLM5 steady state against the numpy model, and its gradients against finite
differences (the acceptance criterion of issue 8: relative error < 1e-5 in float64)."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from wholesoil.assimilation import ParameterSpace
from wholesoil.assimilation.proda import (
    CLM5_TORCH_PARAMETERS,
    clm5_steady_state_torch,
    layer_overlap,
    layer_stocks_torch,
    prepare_clm5_forcing,
)
from wholesoil.errors import InputDataError
from wholesoil.models import CLM5, CLM5Parameters, Environment, forcing_from_climate, layer_stocks

SPACE = ParameterSpace.from_clm5()


def _sites(n, seed):
    rng = np.random.default_rng(seed)
    f = forcing_from_climate(rng.uniform(-12, 25, n), rng.uniform(200, 2500, n),
                             lat=rng.uniform(-60, 70, n))
    # a CWD input share so that the CWD pathway (fl2cwd, tau4cwd) is exercised too
    return replace(f, cwd_fraction=rng.uniform(0.05, 0.3, n)), rng


def _theta(u):
    th = SPACE.from_unit(u)
    return th, torch.tensor(np.stack([th[n] for n in CLM5_TORCH_PARAMETERS], -1))


def test_parameter_order_is_the_space_order():
    assert CLM5_TORCH_PARAMETERS == SPACE.names


@pytest.mark.parametrize("method, tol", [("structured", 1e-10), ("thomas", 1e-10),
                                         ("dense", 1e-8), ("auto", 1e-10)])
def test_steady_state_equals_numpy_clm5(method, tol):
    # Reference: wholesoil.models.CLM5.steady_state (block-Thomas solve in numpy), same
    # parameters and monthly forcing; relative error over every non-zero pool and layer.
    f, rng = _sites(30, 0)
    th, theta = _theta(rng.uniform(0.02, 0.98, (30, 21)))
    x_np = CLM5(CLM5Parameters.from_dict(th), f).steady_state()
    x = clm5_steady_state_torch(theta, prepare_clm5_forcing(f), method=method).numpy()
    nz = x_np > 0
    assert np.max(np.abs(x - x_np)[nz] / x_np[nz]) < tol
    assert np.all(x[~nz] == 0)


def test_time_mean_environment_and_single_site_broadcast():
    env = Environment(tsoi=np.linspace(12, 8, 20), soilpsi=np.full(20, -0.05), npp=450.0,
                      sand=40.0, altmax=np.nan, altmax_lastyear=np.nan, nbedrock=20)
    th, theta = _theta(np.full((4, 21), 0.4) + np.linspace(0, 0.3, 4)[:, None])
    x_np = CLM5(CLM5Parameters.from_dict(th), env).steady_state()
    x = clm5_steady_state_torch(theta, prepare_clm5_forcing(env)).numpy()
    nz = x_np > 0
    assert np.max(np.abs(x - x_np)[nz] / x_np[nz]) < 1e-10


def test_layer_stocks_torch_equals_numpy():
    # Reference: wholesoil.models.layer_stocks (Eq. O1, exact integration).
    rng = np.random.default_rng(3)
    dens = rng.uniform(100, 5000, (5, 20))
    top = np.array([[0, 10, 30, np.nan]] * 5, float)
    bot = np.array([[10, 30, 100, np.nan]] * 5, float)
    top[2, 3], bot[2, 3] = 100.0, 233.0
    ref = layer_stocks(dens, top, bot)
    got = layer_stocks_torch(torch.tensor(dens), torch.tensor(layer_overlap(top, bot))).numpy()
    ok = ~np.isnan(ref)
    np.testing.assert_allclose(got[ok], ref[ok], rtol=1e-12)
    assert np.all(got[~ok] == 0)


@pytest.mark.parametrize("method", ["structured", "thomas"])
def test_gradients_match_central_differences(method):
    # Acceptance (issue 8): autograd vs central finite differences, step 1e-5 relative,
    # relative error < 1e-5 in float64 for every one of the 21 parameters at 3 sites.
    rng = np.random.default_rng(1)
    # a permafrost site (cryoturbation), a temperate and a tropical one
    f = forcing_from_climate(np.array([-8.0, 6.0, 24.0]), np.array([400.0, 900.0, 1800.0]),
                             lat=np.array([65.0, 45.0, 5.0]))
    f = replace(f, cwd_fraction=np.array([0.1, 0.2, 0.3]))
    u = rng.uniform(0.2, 0.8, (3, 21))
    u[:, SPACE.names.index("w_scaling")] = 0.1  # w = 0.5: the water scalar is not clamped at 1
    _, theta0 = _theta(u)
    tf = prepare_clm5_forcing(f)
    wts = torch.tensor(rng.uniform(0.5, 1.5, (3, 7, 20)))

    def loss(th):  # a weighted sum of every pool and layer (SOC alone ignores tau4cwd)
        return (clm5_steady_state_torch(th, tf, method=method) * wts).sum() / 1e4

    th = theta0.clone().requires_grad_(True)
    loss(th).backward()
    g = th.grad.numpy()
    fd = np.zeros_like(g)
    for i in range(3):
        for j in range(21):
            h = 1e-5 * abs(theta0[i, j].item())
            tp, tm = theta0.clone(), theta0.clone()
            tp[i, j] += h
            tm[i, j] -= h
            fd[i, j] = (loss(tp) - loss(tm)).item() / (2 * h)
    assert np.all(np.abs(fd).max(axis=0) > 0)  # every parameter moves the SOC
    rel = np.abs(g - fd) / np.abs(fd).max(axis=0)
    print(f"max relative gradient error per parameter ({method}):",
          {n: float(e) for n, e in zip(CLM5_TORCH_PARAMETERS, rel.max(axis=0), strict=True)})
    assert rel.max() < 1e-5


def test_bad_shapes_raise():
    f, _ = _sites(3, 2)
    tf = prepare_clm5_forcing(f)
    with pytest.raises(InputDataError, match="theta"):
        clm5_steady_state_torch(torch.ones(3, 20, dtype=torch.float64), tf)
    with pytest.raises(InputDataError, match="sites"):
        clm5_steady_state_torch(torch.ones(4, 21, dtype=torch.float64), tf)
