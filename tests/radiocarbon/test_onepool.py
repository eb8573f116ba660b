"""The one-pool model (Wang G. et al. (manuscript) Eqs. 1–3), its inversion and the multi-pool steady state.

Every test states the decay constant λ it uses.
"""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy.integrate import solve_ivp
from scipy.interpolate import PPoly

from wholesoil.errors import InputDataError
from wholesoil.radiocarbon._atmosphere import (
    LAMBDA_SEED004,
    LAMBDA_SOILR,
    AtmosphericCurve,
)
from wholesoil.radiocarbon._onepool import (
    clm5_steady_state_d14c,
    invert_onepool,
    onepool_ages,
    onepool_d14c,
    onepool_d14c_at,
    onepool_steady_state,
    steady_state_d14c,
)


def _step_curve(a0: float, a1: float, t_step: float) -> AtmosphericCurve:
    """Δ14C = a0 before t_step and a1 after (piecewise constant, exact in the integrator)."""
    x = np.array([0.0, t_step, 3000.0])
    c = np.zeros((4, 2))
    c[3] = [a0, a1]
    return AtmosphericCurve("NHZone1", "step", a0, "linear", PPoly(c, x), t_step, x,
                            np.array([a0, a1, a1]))


# ------------------------------------------------------------------------------ exact checks
@pytest.mark.parametrize("lam", [LAMBDA_SEED004, LAMBDA_SOILR])
def test_constant_atmosphere_stays_at_steady_state(lam):
    # Wang G. et al. (manuscript) Eq. 2: with a constant atmosphere A stays at k/(k + λ)·A_atm
    k = np.array([1e-4, 1e-3, 0.05, 2.0, 10.0])
    c = AtmosphericCurve.load("NHZone1", "hua2021", prebomb=-20.0)
    d = onepool_d14c(k, [1200.0, 1500.0, 1941.0], curve=c, start_year=1000.0, lam=lam)
    expect = (k / (k + lam) * 0.98 - 1.0) * 1000.0
    assert_allclose(d, np.repeat(expect[:, None], 3, axis=1), rtol=0, atol=1e-9)
    assert_allclose(onepool_steady_state(k, -20.0, lam=lam), expect, atol=1e-12)


def test_step_change_without_decay_is_the_closed_form_exponential():
    # λ = 0: A(t) = a1 + (a0 − a1)·exp(−k (t − t_step)) after a step from a0 to a1
    k = np.array([0.01, 0.3, 4.0])
    c = _step_curve(-20.0, 500.0, 1955.0)
    t = np.array([1950.0, 1955.0, 1955.5, 1960.0, 2000.0])
    d = onepool_d14c(k, t, curve=c, start_year=1900.0, lam=0.0)
    k = k[:, None]
    a0, a1 = 0.98, 1.5
    a = np.where(t <= 1955.0, a0, a1 + (a0 - a1) * np.exp(-k * np.clip(t - 1955.0, 0, None)))
    assert_allclose(d, (a - 1) * 1000, rtol=0, atol=1e-9)


def test_step_change_with_decay_is_the_closed_form_exponential():
    # λ = 1/8267 (Wang G. et al. (manuscript)): A → k·a1/κ with rate κ = k + λ from k·a0/κ
    lam = LAMBDA_SEED004
    k = np.array([0.002, 0.1])
    kap = k + lam
    c = _step_curve(-20.0, 500.0, 1955.0)
    t = np.array([1960.0, 2010.0])
    d = onepool_d14c(k, t, curve=c, start_year=1900.0, lam=lam)
    s0, s1 = k * 0.98 / kap, k * 1.5 / kap
    a = s1[:, None] + (s0 - s1)[:, None] * np.exp(-kap[:, None] * (t - 1955.0))
    assert_allclose(d, (a - 1) * 1000, rtol=0, atol=1e-9)


@pytest.mark.parametrize("interpolation", ["spline", "linear"])
def test_forward_matches_solve_ivp(interpolation):
    # λ = ln 2/5730 (SoilR); reference: scipy DOP853 at rtol 1e-12, restarted at every knot of
    # the interpolant so the error control sees smooth pieces
    lam = LAMBDA_SOILR
    c = AtmosphericCurve.load("SHZone3", "hua2021", interpolation=interpolation)
    years = np.array([1958.3, 1964.0, 1975.0])
    for k in (0.003, 0.1, 5.0):
        a = np.array([k / (k + lam) * float(c.absolute(1945.0))])
        t0 = 1945.0
        knots = c.ppoly.x[(c.ppoly.x > t0) & (c.ppoly.x < years[-1])]
        got = {}
        for p in np.unique(np.concatenate([knots, years])):
            sol = solve_ivp(lambda t, y, k=k: k * (c.ppoly(t) / 1000 + 1) - (k + lam) * y,
                            (t0, p), a, method="DOP853", rtol=1e-12, atol=1e-14)
            a, t0 = sol.y[:, -1], p
            got[p] = (a[0] - 1) * 1000
        ref = [got[y] for y in years]
        assert_allclose(onepool_d14c(k, years, curve=c, start_year=1945.0, lam=lam), ref,
                        atol=1e-7)


def test_forward_matches_r_desolve_reference():
    # Peer program: R 4.2.2 with deSolve, run as SoilR's OnepModel14 runs (steady state with
    # the atmosphere of the start year 1942, λ = 0.0001209681, splinefun "fmm" of Hua 2021
    # NH zone 1):
    #   h <- read.csv("Hua2021_NHZone1.csv"); f <- splinefun(h$Year, h$mean.Delta14C)
    #   Fa <- function(t) f(t)/1000 + 1; F0 <- k/(k + lam)*Fa(1942)
    #   ode(F0, c(1942,1963,1970,2019), function(t,y,p) list(k*Fa(t) - (k+lam)*y), NULL,
    #       method = "lsoda", rtol = 1e-11, atol = 1e-13, hmax = 0.02, maxsteps = 1e6)
    ref = {
        0.1: [-21.23537390, 92.26565086, 382.19877550, 49.42315281],
        0.01: [-31.76394848, -17.71564448, 28.95696416, 69.89347424],
        1.0: [-20.16990912, 315.40102136, 574.80378040, 6.46070335],
    }
    d = onepool_d14c(list(ref), [1942, 1963, 1970, 2019], zone="NHZone1", curve="hua2021",
                     start_year=1942, lam=1.209681e-4, interpolation="spline")
    assert_allclose(d, np.array(list(ref.values())), atol=2e-6)


def test_vectorized_equals_scalar_loop():
    # λ = 1/8267 (Wang G. et al. (manuscript)); k of any shape, years unsorted
    k = np.array([[0.001, 0.02], [0.5, 3.0]])
    years = [2019.0, 1963.0, 1980.5]
    full = onepool_d14c(k, years, zone="NHZone2")
    assert full.shape == (2, 2, 3)
    for idx in np.ndindex(k.shape):
        for j, y in enumerate(years):
            assert_allclose(full[idx][j], onepool_d14c(k[idx], [y], zone="NHZone2")[0],
                            rtol=1e-13)
    pair = onepool_d14c_at(k, np.array([[2019.0, 1963.0], [1980.5, 2019.0]]), zone="NHZone2")
    assert_allclose(pair, [[full[0, 0, 0], full[0, 1, 1]], [full[1, 0, 2], full[1, 1, 0]]],
                    rtol=1e-13)


def test_forward_errors():
    with pytest.raises(InputDataError, match="k"):
        onepool_d14c([0.1, -1.0], [2000.0])
    with pytest.raises(InputDataError, match="outside"):
        onepool_d14c(0.1, [2021.0])
    with pytest.raises(InputDataError, match="before the start year"):
        onepool_d14c(0.1, [1949.0], start_year=1950.0)


# -------------------------------------------------------------------------------- inversion
def test_inversion_round_trip_over_ages_and_years():
    # λ = 1/8267 (Wang G. et al. (manuscript)). Acceptance (issue 9): forward at k, invert, the roots contain k,
    # for k from 1/5 to 1/10,000 yr⁻¹ and observation years 1960–2019
    k = np.logspace(np.log10(1 / 10000), np.log10(1 / 5), 41)
    years = np.array([1960.0, 1963.5, 1965.0, 1975.0, 1990.0, 2005.0, 2019.0])
    K, Y = np.meshgrid(k, years)
    d = onepool_d14c_at(K, Y, zone="NHZone1")
    inv = invert_onepool(d, Y, zone="NHZone1")
    assert np.all(inv.status == "ok")
    rel = np.nanmin(np.abs(inv.roots / K[..., None] - 1.0), axis=-1)
    # exact away from the turning point of D(k); within 1e-4 near it (flat D: small residuals
    # in Δ14C move k more)
    assert np.nanmax(rel) < 1e-4
    assert np.median(rel) < 1e-7
    # every root reproduces the observation (the interpolation error of the k grid)
    m = np.isfinite(inv.roots)
    yb = np.broadcast_to(Y[..., None], inv.roots.shape)[m]
    db = np.broadcast_to(d[..., None], inv.roots.shape)[m]
    assert_allclose(onepool_d14c_at(inv.roots[m], yb, zone="NHZone1"), db, atol=1e-4)


def test_post_bomb_value_has_two_roots():
    # λ = 1/8267 (Wang G. et al. (manuscript)); 100 ‰ in 2005 (NH zone 1 atmosphere ≈ 60 ‰): a fast pool
    # past the bomb peak and a slow one still taking it up
    for choose, pick in (("slow", 0), ("fast", 1)):
        inv = invert_onepool(100.0, 2005.0, zone="NHZone1", choose=choose)
        assert inv.n_roots == 2 and inv.ambiguous and inv.status == "ok"
        assert inv.roots[0] < inv.roots[1]
        assert inv.k == inv.roots[pick]
        assert_allclose(inv.age, 1 / inv.k)
        assert_allclose(onepool_d14c_at(inv.roots, 2005.0, zone="NHZone1"), 100.0, atol=1e-4)


def test_inversion_vectorized_equals_scalar_loop():
    # λ = ln 2/5730 (SoilR)
    d = np.array([-35.9, 100.0, 250.0, -300.0, 20.0])
    y = np.array([2005.0, 2005.0, 1975.0, 1990.0, 2019.0])
    lat = np.array([45.2, 45.2, -33.0, 10.0, -5.0])
    vec = invert_onepool(d, y, lat=lat, lam=LAMBDA_SOILR)
    for i in range(d.size):
        one = invert_onepool(d[i], y[i], lat=lat[i], lam=LAMBDA_SOILR)
        assert one.zone == vec.zone[i] and one.status == vec.status[i]
        assert one.n_roots == vec.n_roots[i]
        assert_allclose(one.roots[: one.n_roots], vec.roots[i, : one.n_roots], rtol=1e-12)
    assert vec.zone.tolist() == ["NHZone1", "NHZone1", "SHZone12", "NHZone3", "SHZone3"]


def test_inversion_statuses_and_errors():
    # λ = 1/8267 (Wang G. et al. (manuscript)); k range 1e-5 … 10 yr⁻¹
    inv = invert_onepool([-990.0, 400.0, np.nan, -35.9], [2005.0, 2019.0, 2005.0, 2005.0],
                         zone="NHZone1")
    assert inv.status.tolist() == ["below_range", "above_range", "no_observation", "ok"]
    assert np.isnan(inv.k[:3]).all() and inv.n_roots[:3].tolist() == [0, 0, 0]
    assert inv.attainable[0, 0] > -990.0 and inv.attainable[1, 1] < 400.0
    with pytest.raises(InputDataError, match="outside"):
        invert_onepool(0.0, 2025.0)
    with pytest.raises(InputDataError, match="latitude"):
        invert_onepool(0.0, 2005.0, lat=95.0)
    with pytest.raises(InputDataError, match="zone"):
        invert_onepool(0.0, 2005.0, zone="NHZone4")
    with pytest.raises(InputDataError, match="choose"):
        invert_onepool(0.0, 2005.0, choose="middle")  # type: ignore[arg-type]


def test_profile_table_on_the_israd_example():
    # λ = 1/8267 (Wang G. et al. (manuscript)); the bundled Howland Forest entry (ISRaD Gaudinski_2001)
    from wholesoil.datasets import load_israd_example

    ps = load_israd_example()
    h = ps.horizons.merge(ps.sites[["profile_id", "lat"]], on="profile_id")
    h = h.rename(columns={"obs_year": "year"})
    out = onepool_ages(h)
    assert len(out) == len(h)
    has = h["d14c"].notna().to_numpy()
    assert (out.loc[~has, "status"] == "no_observation").all()
    assert set(out.loc[has, "zone"]) == {"NHZone1"}  # 45.167 °N
    ok = out["status"] == "ok"
    assert ok.sum() > 0
    assert_allclose(out.loc[ok, "d14c_model"], out.loc[ok, "d14c"], atol=1e-4)
    assert_allclose(out.loc[ok, "age"], 1 / out.loc[ok, "k"])
    assert (out.loc[ok, "k"] == out.loc[ok, "k_slow"]).all()
    amb = out["ambiguous"]
    assert (out.loc[amb, "k_fast"] > out.loc[amb, "k_slow"]).all()
    assert (out.loc[amb, "roots"].str.count(";") >= 1).all()


def test_profile_table_needs_a_zone():
    df = pd.DataFrame({"profile_id": ["p"], "top": [0], "bottom": [10], "d14c": [50.0],
                       "year": [2000.0]})
    with pytest.raises(InputDataError, match="zone"):
        onepool_ages(df)
    assert onepool_ages(df, zone="SHZone12")["zone"].iloc[0] == "SHZone12"


# --------------------------------------------------------------------- multi-pool steady state
def test_steady_state_d14c_one_and_two_pools():
    # λ = 1/8267 (Wang G. et al. (manuscript)). One pool M = −k is Eq. 2. Two pools in series (pool 1 → pool 2
    # with fraction a): F2 = k1·k2·A/((k1 + λ)(k2 + λ)) for any a.
    lam = LAMBDA_SEED004
    k1, k2, a = 0.5, 0.002, 0.3
    one = steady_state_d14c(np.array([[-k1]]), np.array([2.0]), atmosphere_d14c=-20.0, lam=lam)
    assert_allclose(one.system_d14c, onepool_steady_state(k1, -20.0, lam=lam), atol=1e-10)
    M = np.array([[-k1, 0.0], [a * k1, -k2]])
    two = steady_state_d14c(M, np.array([1.0, 0.0]), atmosphere_d14c=-20.0, lam=lam)
    f1 = k1 / (k1 + lam) * 0.98
    f2 = k1 * k2 * 0.98 / ((k1 + lam) * (k2 + lam))
    assert_allclose(two.pool_d14c, [(f1 - 1) * 1000, (f2 - 1) * 1000], atol=1e-10)


@pytest.mark.slow
def test_clm5_steady_state_d14c_agrees_with_the_simulate_job():
    # λ = ln 2/5730 (the process models' LAMBDA_14C); F14C input 1 (Δ14C 0 ‰): the simulate
    # job's "steady-state fraction modern" is the same quantity as Δ14C/1000 + 1
    from wholesoil.models import LAMBDA_14C
    from wholesoil.models._clm5 import CLM5Parameters
    from wholesoil.workflows._simulate import build_forcing, run_model

    forcing = build_forcing(mat=8.0, map=900.0, lat=45.0)
    res = run_model("clm5", CLM5Parameters(), forcing)
    ss = clm5_steady_state_d14c(res["model"], atmosphere_d14c=0.0, lam=LAMBDA_14C)
    assert_allclose(ss.system_d14c / 1000 + 1, res["fraction_modern"], rtol=1e-12)
    assert ss.pool_d14c.shape[-2:] == (7, 20)


def test_profile_table_locates_bad_rows_or_flags_them():
    # λ = 1/8267 (Wang G. et al. (manuscript)); Hua 2021 ends 2019.375
    df = pd.DataFrame({"profile_id": ["a", "a", "b"], "top": [0, 10, 0], "bottom": [10, 20, 5],
                       "d14c": [50.0, -100.0, 20.0], "year": [2000.0, 2025.0, 2000.0],
                       "lat": [45.0, 45.0, 120.0]})
    with pytest.raises(InputDataError, match=r"row 4 \(profile b\), field 'lat'"):
        onepool_ages(df)
    df.loc[2, "lat"] = -40.0
    with pytest.raises(InputDataError, match=r"row 3 \(profile a\), field 'year'"):
        onepool_ages(df)
    out = onepool_ages(df, errors="flag")
    assert out["status"].tolist() == ["ok", "year_outside_curve", "ok"]
    assert out["zone"].tolist() == ["NHZone1", "NHZone1", "SHZone12"]
    assert np.isnan(out["age"].iloc[1])
