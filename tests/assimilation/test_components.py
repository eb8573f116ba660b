"""Posterior components (Tao et al. (EarthArXiv) Eqs. 10–14 and input) and the thinned-chain table.

Reference: the same components computed one profile at a time through ``simulate``'s model
path (wholesoil.workflows._simulate.run_model, itself tested against the closed forms of the
diagnostics), at the posterior-mean parameters.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from wholesoil.assimilation import ParameterSpace, ProfileData, calibrate
from wholesoil.assimilation._components import (
    COMPONENTS,
    chains_table,
    posterior_components,
)
from wholesoil.models import CLM5_PRODA_PARAMETERS, CLM5Parameters, forcing_from_climate

TOP = np.array([[0, 10, 30, 60.0], [0, 20, 50, 80]])
BOTTOM = np.array([[10, 30, 60, 100.0], [20, 50, 80, 120]])
SOC = np.array([[30, 35, 30, 25.0], [20, 25, 18, 12]])
FORCING = forcing_from_climate([5.0, 12.0], [600.0, 1100.0], lat=[55.0, 35.0])
NAMES = ["tau4s3", "efolding", "q10"]
SPACE = ParameterSpace(NAMES, [CLM5_PRODA_PARAMETERS[n].prior[0] for n in NAMES],
                       [CLM5_PRODA_PARAMETERS[n].prior[1] for n in NAMES],
                       [CLM5_PRODA_PARAMETERS[n].default for n in NAMES],
                       open_lower=[False, True, False])


@pytest.fixture(scope="module")
def fitted():
    data = ProfileData(np.array(["a", "b"], dtype=object), TOP, BOTTOM, SOC, FORCING)
    res = calibrate(data, space=SPACE, test_iterations=60, formal_iterations=120,
                    adapt_start=30, thin=2, seed=1, min_accepted_test=5)
    return data, res


def test_components_at_posterior_mean_equal_the_simulate_path(fitted):
    from dataclasses import replace

    from wholesoil.workflows._simulate import run_model

    data, res = fitted
    tab = posterior_components(res, data, draws=20, seed=0)
    assert len(tab) == 2 * len(COMPONENTS)
    assert list(tab["component"].iloc[:6]) == list(COMPONENTS)
    for i, pid in enumerate(["a", "b"]):
        theta = dict(zip(NAMES, res.posterior_mean[i], strict=True))
        f = FORCING
        one = replace(f, tsoi=f.tsoi[i], soilpsi=f.soilpsi[i], npp=f.npp[i], sand=f.sand[i],
                      altmax=f.altmax[i], altmax_lastyear=f.altmax_lastyear[i],
                      nbedrock=f.nbedrock[i])
        ref = run_model("clm5", CLM5Parameters.from_dict(theta), one)
        got = tab[tab["profile_id"] == pid].set_index("component")
        for c in COMPONENTS:
            assert_allclose(got.loc[c, "at_mean"], ref[c], rtol=1e-10)
        tol = 1e-12 * got["mean"].abs()  # components that do not vary: equal up to rounding
        assert np.all(got["q025"] <= got["mean"] + tol)
        assert np.all(got["mean"] <= got["q975"] + tol)
        assert (got["note"] == "").all()
    # input does not depend on the calibrated parameters here (NPP is forcing): no spread
    inp = tab[tab["component"] == "input"]
    assert_allclose(inp["q025"], inp["q975"], rtol=1e-12)


def test_chains_table_round_trips_the_samples(fitted):
    data, res = fitted
    tab = chains_table(res, data.profile_id)
    p, c, k, d = res.mcmc.samples.shape
    assert len(tab) == p * c * k
    u = SPACE.to_unit({n: tab[n].to_numpy() for n in NAMES}).reshape(p, c, k, d)
    assert_allclose(u, res.mcmc.samples, rtol=1e-12, atol=1e-15)
    assert list(tab["profile_id"].unique()) == ["a", "b"]


def test_compas_components_equal_the_per_cell_simulation():
    """COMPAS components (from steady-state fluxes) per profile equal PRODA's per-cell global
    simulation at the same parameters and climate; the input is COMPAS's own column input."""
    from wholesoil.assimilation.proda import simulate_cells

    data = ProfileData(np.array(["a", "b"], dtype=object), TOP, BOTTOM, SOC, FORCING)
    res = calibrate(data, "compas", test_iterations=20, formal_iterations=40, adapt_start=10,
                    seed=2, min_accepted_test=1, max_restarts_test=0, max_reruns_formal=0)
    tab = posterior_components(res, data, draws=5)
    assert len(tab) == 2 * len(COMPONENTS)
    theta = {n: res.posterior_mean[:, j] for j, n in enumerate(res.space.names)}
    ref = simulate_cells("compas", theta, np.array([5.0, 12.0]), np.array([600.0, 1100.0]),
                         np.array([55.0, 35.0]), sand=float(np.asarray(FORCING.sand).ravel()[0]))
    for i, pid in enumerate(["a", "b"]):
        got = tab[tab["profile_id"] == pid].set_index("component")["at_mean"]
        for c in COMPONENTS:
            assert_allclose(got[c], ref[c][i], rtol=1e-10, equal_nan=True)
    assert np.isfinite(tab.loc[tab["component"] == "input", "at_mean"]).all()
