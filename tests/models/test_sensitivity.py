"""Sensitivity analyses of steady-state SOC (He et al. (2024)): elasticities (Eqs. 1–3 of
``_sensitivity``), (β, CUE, input) grids with z-scored panels (He et al. (2024) Fig. 1), Sobol' indices
(Ishigami exact values), on CLM5 (linear in input) and on small models with hand-derived
steady states."""

import dataclasses
import math
from types import SimpleNamespace
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from wholesoil.errors import InputDataError
from wholesoil.models._clm5 import CLM5, CLM5Parameters, sand_dependent_transfers
from wholesoil.models._environment import forcing_from_climate
from wholesoil.models._sensitivity import (
    ElasticityResult,
    SensitivityModel,
    elasticity,
    elasticity_table,
    grid_response,
    knob_parameters,
    sobol_indices,
    soc_function,
    zscore_by,
)
from wholesoil.plots import plot_elasticities, plot_response_surfaces


# ------------------------------------------------------------------------------- test models
class TwoPoolMicrobe:
    """Substrate S and microbes B (Allison et al. 2010 structure, necromass back to S):

        dS/dt = I + k·B^β − V·B·S/(K + S),     dB/dt = ε·V·B·S/(K + S) − k·B^β

    Steady state by hand: uptake U = I/(1 − ε) (all input leaves as (1 − ε)·U),
    B* = (ε·U/k)^(1/β), r = U/(V·B*), S* = K·r/(1 − r), positive only when r < 1.
    For β = 1, r = k/(V·ε) does not depend on I: S* is input-independent, B* ∝ I.
    """

    POOLS = ("S", "B")
    DEFAULTS: ClassVar[dict] = {"cue": 0.5, "input": 1.0, "vmax": 4.0, "km": 1.0, "k": 1.0, "beta": 1.0}
    SENSITIVITY_KNOBS: ClassVar[dict] = {"cue": "cue", "input": "input"}

    def __init__(self, params=None):
        self.params = {**self.DEFAULTS, **dict(params or {})}
        p = {k: np.asarray(v, dtype=float) for k, v in self.params.items()}
        if np.any((p["cue"] <= 0) | (p["cue"] >= 1)):
            raise InputDataError("cue must be in (0, 1)", field="cue", value=p["cue"])
        self.p = p
        self.batch_shape = np.broadcast_shapes(*(a.shape for a in p.values()))

    def rhs(self, x):
        p, s, b = self.p, x[..., 0], x[..., 1]
        u = p["vmax"] * b * s / (p["km"] + s)
        death = p["k"] * b ** p["beta"]
        return np.stack([p["input"] + death - u, p["cue"] * u - death], axis=-1)

    def steady_state(self):
        p = self.p
        u = p["input"] / (1 - p["cue"])
        b = (p["cue"] * u / p["k"]) ** (1 / p["beta"])
        r = u / (p["vmax"] * b)
        ok = r < 1
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(ok, p["km"] * r / (1 - r), np.nan)
        state = np.stack(np.broadcast_arrays(s, np.where(ok, b, np.nan)), axis=-1)
        status = np.where(ok, "ok", "non-positive")
        resid = np.abs(self.rhs(np.where(np.isfinite(state), state, 1.0))).max(axis=-1)
        return SimpleNamespace(state=state, status=status, residual=resid / u)

    def soc(self, x):
        return np.asarray(x).sum(axis=-1)


class TwoPoolSolved(TwoPoolMicrobe):
    """The same model solved by the shared robust solver (``_nonlinear.find_steady_states``,
    central-difference Jacobian) from three starts, so that its report carries one residual
    per distinct state."""

    def steady_state(self):
        from wholesoil.models._nonlinear import find_steady_states

        scales = np.array([0.2, 1.0, 5.0]).reshape((3,) + (1,) * (len(self.batch_shape) + 1))
        starts = scales * np.ones((*self.batch_shape, 2))
        return find_steady_states(self.rhs, None, starts, rtol=1e-10)


def two_pool_soc(cue=0.5, inp=1.0, vmax=4.0, km=1.0, k=1.0, beta=1.0):
    """SOC* = S* + B* of TwoPoolMicrobe in closed form (scalars; NaN if no positive state)."""
    u = inp / (1 - cue)
    b = (cue * u / k) ** (1 / beta)
    r = u / (vmax * b)
    return km * r / (1 - r) + b if r < 1 else math.nan


class PowerLaw:
    """One pool, dC/dt = c·I^a·(η₁·η₂)^b − C: C* = c·I^a·(η₁·η₂)^b. The CUE knob is a vector
    parameter ``eff`` (..., 2) scaled as a whole, like MIMICS's four CUE values. Defaults come
    from ``PARAMETERS[name].default`` (no ``params`` attribute)."""

    PARAMETERS: ClassVar[dict] = {
        "input": SimpleNamespace(default=2.0),
        "eff": SimpleNamespace(default=np.array([0.5, 0.8])),
        "a": SimpleNamespace(default=1.0),
        "b": SimpleNamespace(default=1.0),
        "c": SimpleNamespace(default=3.0),
    }
    SENSITIVITY_KNOBS: ClassVar[dict] = {"cue": ["eff"], "input": "input"}

    def __init__(self, params=None):
        p = {k: np.asarray(v.default, dtype=float) for k, v in self.PARAMETERS.items()}
        p.update({k: np.asarray(v, dtype=float) for k, v in dict(params or {}).items()})
        self._p = p

    def steady_state(self):
        p = self._p
        c = p["c"] * p["input"] ** p["a"] * np.prod(p["eff"], axis=-1) ** p["b"]
        return SimpleNamespace(state=np.asarray(c)[..., None], status=np.full(np.shape(c), "ok"))

    def soc(self, x):
        return x[..., 0]


def power_law_elasticities(a, delta=0.1):
    """E, E_+, E_− of S ∝ p^a (Eqs. 1–3 of _sensitivity with S(1 ± δ) = (1 ± δ)^a)."""
    return (((1 + delta) ** a - (1 - delta) ** a) / (2 * delta),
            ((1 + delta) ** a - 1) / delta, (1 - (1 - delta) ** a) / delta)


# CLM5 through the protocol: its input is the NPP of the environment, its "CUE" analogue the
# transfer fractions (the share of a donor's decomposition flux not respired).
_ENV = forcing_from_climate(15.0, 1000.0).time_mean()
_FS2S1, _FS3S1 = sand_dependent_transfers(_ENV.sand)


class CLM5Adapter:
    SENSITIVITY_KNOBS: ClassVar[dict] = {
        "cue": ("fs1l1", "fs1l2", "fs2l3", "fs2s1", "fs3s1", "fs1s2", "fs3s2", "fs1s3"),
        "input": "npp",
    }

    def __init__(self, params=None):
        p = {"fs2s1": _FS2S1, "fs3s1": _FS3S1, **dict(params or {})}
        self.npp = np.asarray(p.pop("npp", _ENV.npp), dtype=float)
        self.params = CLM5Parameters(**p)
        self.model = CLM5(self.params, dataclasses.replace(_ENV, npp=self.npp))

    def steady_state(self):
        x = self.model.steady_state()
        ok = np.isfinite(x).all(axis=(-2, -1))
        return SimpleNamespace(state=x, status=np.where(ok, "ok", "no-convergence"))

    def soc(self, x):
        """SOC of S1–S3 over the 20 layers [g C m⁻²] (litter and CWD excluded)."""
        return (np.asarray(x)[..., 4:, :] * self.model.grid.dz).sum(axis=(-2, -1))


def test_test_models_follow_the_protocol():
    for m in (TwoPoolMicrobe(), PowerLaw(), CLM5Adapter()):
        assert isinstance(m, SensitivityModel)
    # hand-derived state of TwoPoolMicrobe at the defaults: U = 2, B* = 1, r = 1/2, S* = 1
    rep = TwoPoolMicrobe().steady_state()
    np.testing.assert_allclose(rep.state, [1.0, 1.0], rtol=1e-15)
    rep = TwoPoolMicrobe({"beta": [1.0, 1.5, 2.0], "input": [0.5, 1.0, 3.0]}).steady_state()
    assert np.all(rep.residual <= 1e-12)  # dX/dt = 0 at the closed form


# ------------------------------------------------------------------------------- elasticities
def test_clm5_input_elasticity_is_exactly_one():
    # He et al. (2024) reply: in CLM5 "a 1 % increase in NPP leads to a 1 % increase in SOC storage";
    # X* = (V − A·ξ·K)⁻¹·B·I is linear in I (Tao et al. (EarthArXiv) §2.2), so E = E_+ = E_− = 1.
    r = elasticity(CLM5Adapter, "input")
    assert r.parameters == ("npp",) and r.n_not_ok == 0
    for e in (r.central, r.plus, r.minus):
        np.testing.assert_allclose(e, 1.0, rtol=0, atol=1e-12)
    npp = np.array([50.0, 400.0, 1234.5, 3000.0])
    rb = elasticity(CLM5Adapter, "input", base={"npp": npp}, delta=0.25)
    assert rb.central.shape == (4,)
    np.testing.assert_allclose(rb.central, 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(rb.soc_plus / rb.soc_base, 1.25, rtol=1e-13)
    np.testing.assert_allclose(rb.soc_base / npp, rb.soc_base[0] / npp[0], rtol=1e-13)


def test_clm5_transfer_fraction_elasticity_independent_of_input_level():
    # SOC*(f, I) = I·g(f) (linear in I), so the elasticity to the transfer fractions f cannot
    # depend on I; it is positive (less respired, more stored).
    npp = np.array([100.0, 500.0, 2000.0])
    r = elasticity(CLM5Adapter, "cue", base={"npp": npp})
    assert r.parameters == CLM5Adapter.SENSITIVITY_KNOBS["cue"]
    np.testing.assert_allclose(r.central, r.central[0], rtol=1e-12)
    assert np.all(r.central > 0) and np.all(r.plus > r.minus)  # convex in f
    # batched = looped
    for i, v in enumerate(npp):
        one = elasticity(CLM5Adapter, "cue", base={"npp": v})
        np.testing.assert_allclose(one.central, r.central[i], rtol=1e-13)


def test_two_pool_elasticities_by_hand():
    # β = 1, ε = 0.5, I = 1, V = 4, K = k = 1: S* = 1 (independent of I), B* = ε·I/((1−ε)k) = 1.
    # Input: S* constant and B* ∝ I, so E = E_+ = E_− = B*/(S* + B*) = 1/2 exactly.
    r = elasticity(TwoPoolMicrobe, "input")
    for e in (r.central, r.plus, r.minus):
        np.testing.assert_allclose(e, 0.5, rtol=1e-13)
    # CUE: SOC(ε) = 1/(4ε − 1) + ε/(1 − ε); SOC(0.55) = 37/18, SOC(0.45) = 91/44, SOC(0.5) = 2:
    # E = (37/18 − 91/44)/0.4 = −25/792, E_+ = (37/18 − 2)/0.2 = 5/18, E_− = (2 − 91/44)/0.2
    # = −15/44.
    r = elasticity(TwoPoolMicrobe, "cue")
    np.testing.assert_allclose(r.soc_plus, 37 / 18, rtol=1e-14)
    np.testing.assert_allclose(r.soc_minus, 91 / 44, rtol=1e-14)
    np.testing.assert_allclose(r.central, -25 / 792, rtol=1e-12)
    np.testing.assert_allclose(r.plus, 5 / 18, rtol=1e-12)
    np.testing.assert_allclose(r.minus, -15 / 44, rtol=1e-12)
    np.testing.assert_allclose(r.central, (r.plus + r.minus) / 2, rtol=1e-12)


def test_density_dependent_turnover_raises_input_elasticity():
    # β = 2 (turnover k·B²), same constants: B* = √I, r = √I/2, SOC(I) = √I + √I/(2 − √I)
    # (by hand). Input elasticity (SOC(1.1) − SOC(0.9))/(0.2·2) = 0.750940… > 1/2 at β = 1:
    # density-dependent turnover makes SOC more input sensitive (He et al. (2024), He et al.).
    def soc(i):
        return math.sqrt(i) + math.sqrt(i) / (2 - math.sqrt(i))

    expected = (soc(1.1) - soc(0.9)) / 0.4
    r = elasticity(TwoPoolMicrobe, "input", base={"beta": [1.0, 2.0]})
    np.testing.assert_allclose(r.central, [0.5, expected], rtol=1e-12)
    np.testing.assert_allclose(expected, 0.750940, atol=5e-7)


def test_power_law_elasticities_and_vector_knob():
    # S ∝ I^a: central and one-sided differences of a power law (closed forms, Eqs. 1–3).
    for a in (1.0, 0.5, 2.0, -1.0):
        r = elasticity(PowerLaw, "input", base={"a": a})
        e, ep, em = power_law_elasticities(a)
        np.testing.assert_allclose([r.central, r.plus, r.minus], [e, ep, em], rtol=1e-12)
    np.testing.assert_allclose(power_law_elasticities(0.5), (0.5006277, 0.4880885, 0.5131670),
                               atol=5e-7)
    # the CUE knob scales both efficiencies: S ∝ (1.1²)^b at +δ, exponent 2b
    r = elasticity(PowerLaw, "cue", base={"b": np.array([0.5, 1.0])})
    np.testing.assert_allclose(r.central, [power_law_elasticities(2 * b)[0] for b in (0.5, 1.0)],
                               rtol=1e-12)
    assert knob_parameters(PowerLaw, "cue") == ("eff",)
    assert knob_parameters(PowerLaw, "a") == ("a",)
    # a plain parameter as the knob: S ∝ c, elasticity 1
    np.testing.assert_allclose(elasticity(PowerLaw, "c").central, 1.0, rtol=1e-13)


def test_not_ok_states_give_nan_and_are_counted():
    # β = 1: a positive state needs V·ε > k (r = k/(Vε) < 1). ε = 0.26: 4·0.26 = 1.04 > 1 but
    # at −10 %, 4·0.234 = 0.936 < 1: no positive state, so E is NaN and counted.
    r = elasticity(TwoPoolMicrobe, "cue", base={"cue": np.array([0.5, 0.26, 0.3])})
    assert r.n_not_ok == 1
    assert np.isnan(r.central[1]) and np.isnan(r.plus[1]) and np.isnan(r.minus[1])
    assert r.status_minus[1] == "non-positive" and r.status_base[1] == "ok"
    assert r.ok.tolist() == [True, False, True]
    np.testing.assert_allclose(r.central[0], -25 / 792, rtol=1e-12)
    t = r.to_frame({"model": "two-pool"})
    assert list(t["cue"]) == [0.5, 0.26, 0.3] and (t["model"] == "two-pool").all()
    assert t["elasticity"].isna().sum() == 1 and t.loc[1, "status_minus"] == "non-positive"


def test_elasticity_table_and_bad_input():
    t = elasticity_table(TwoPoolMicrobe, base={"beta": np.array([1.0, 1.5, 2.0])},
                         labels={"model": "two-pool"})
    assert len(t) == 6 and list(pd.unique(t["knob"])) == ["cue", "input"]
    assert {"beta", "model", "elasticity", "elasticity_plus", "elasticity_minus",
            "soc", "status"} <= set(t.columns)
    with pytest.raises(InputDataError, match="delta"):
        elasticity(TwoPoolMicrobe, "cue", delta=1.0)
    with pytest.raises(InputDataError, match="delta"):
        elasticity(TwoPoolMicrobe, "cue", delta=0.0)
    # CUE pushed past 1 by the perturbation: the model's own range check reaches the user
    with pytest.raises(InputDataError, match="cue"):
        elasticity(TwoPoolMicrobe, "cue", base={"cue": 0.95})

    class NoValue(PowerLaw):
        SENSITIVITY_KNOBS: ClassVar[dict] = {"cue": "missing", "input": "input"}

    with pytest.raises(InputDataError, match="base value of parameter 'missing'"):
        elasticity(NoValue, "cue")
    assert isinstance(elasticity(NoValue, "cue", base={"missing": 1.0}), ElasticityResult)


def test_plot_elasticities_draws_central_values():
    t = elasticity_table(TwoPoolMicrobe, base={"beta": np.array([1.0, 2.0])},
                         labels={"model": "two-pool"})
    fig = plot_elasticities(t)
    axes = fig.axes
    assert len(axes) == 2
    heights = [p.get_height() for p in axes[1].patches]  # input panel, β = 1 then 2
    np.testing.assert_allclose(heights, t[t.knob == "input"]["elasticity"], rtol=1e-12)
    bad = elasticity_table(TwoPoolMicrobe, base={"cue": np.array([0.5, 0.26])})
    fig = plot_elasticities(bad)
    assert len(fig.axes[0].patches) == 1  # the NaN (not ok) row is not drawn
    assert "1 not ok" in fig.axes[0].get_title()


# ------------------------------------------------------------------------------- grids
def _grid():
    return grid_response(
        TwoPoolMicrobe,
        {"beta": [1.0, 2.0], "cue": [0.4, 0.6, 0.8, 1.0, 1.2, 1.4], "input": [0.5, 1.0, 2.0]},
    )


def test_grid_response_matches_closed_form_and_flags_non_positive():
    g = _grid()
    assert len(g) == 2 * 6 * 3
    np.testing.assert_allclose(g["cue_value"], 0.5 * g["cue"], rtol=1e-15)
    np.testing.assert_allclose(g["input_value"], g["input"], rtol=1e-15)
    expected = [two_pool_soc(cue=c, inp=i, beta=b)
                for b, c, i in zip(g["beta"], g["cue_value"], g["input_value"], strict=True)]
    np.testing.assert_allclose(g["soc"], expected, rtol=1e-12)
    # β = 1 and ε = 0.2: V·ε = 0.8 < k, no positive state (3 input levels); every other point ok
    bad = g["status"] != "ok"
    assert bad.sum() == 3
    assert ((g.loc[bad, "beta"] == 1.0) & np.isclose(g.loc[bad, "cue_value"], 0.2)).all()
    assert g.loc[bad, "soc"].isna().all() and (g.loc[bad, "status"] == "non-positive").all()
    assert (g.loc[~bad, "residual"] <= 1e-12).all()
    # β = 1: S* does not depend on input, so SOC − B* is constant along input at fixed ε
    ok1 = g[(g.beta == 1.0) & ~bad]
    s = ok1["soc"] - ok1["cue_value"] * ok1["input_value"] / (1 - ok1["cue_value"])
    assert s.groupby(ok1["cue"]).std(ddof=0).max() < 1e-12
    # chunks give the same table
    g2 = grid_response(TwoPoolMicrobe, {"beta": [1.0, 2.0], "cue": [0.4, 0.6, 0.8, 1.0, 1.2, 1.4],
                                        "input": [0.5, 1.0, 2.0]}, chunk_size=7)
    pd.testing.assert_frame_equal(g, g2)


def test_grid_with_the_shared_solver_reports_residual_of_the_state():
    g = grid_response(TwoPoolSolved, {"beta": [1.0, 1.5, 2.0], "cue": [0.4, 1.0, 1.3]})
    expected = [two_pool_soc(cue=c, beta=b)
                for b, c in zip(g["beta"], g["cue_value"], strict=True)]
    ok = g["status"] == "ok"
    assert (~ok).sum() == 1 and not np.isfinite(expected[int(np.flatnonzero(~ok)[0])])
    np.testing.assert_allclose(g.loc[ok, "soc"], np.asarray(expected)[ok], rtol=1e-8)
    assert (g.loc[ok, "residual"] <= 1e-10).all()  # issue 6: dX/dt ≈ 0 at every reported state
    assert g.loc[~ok, "residual"].isna().all() and g.loc[~ok, "soc"].isna().all()


def test_grid_vector_knob_and_absolute_scale():
    g = grid_response(PowerLaw, {"cue": [0.9, 1.0, 1.1], "input": [1.0, 3.0]})
    # eff = (0.5, 0.8)·m for both, I = 2·m_I: C = 3·2·m_I·0.4·m²
    np.testing.assert_allclose(g["soc"], 3 * 2 * g["input"] * 0.4 * g["cue"] ** 2, rtol=1e-13)
    assert "cue_value" not in g  # vector knob: no single value column
    g = grid_response(TwoPoolMicrobe, {"cue": [0.3, 0.5]}, knob_scale="absolute")
    np.testing.assert_allclose(g["soc"], [two_pool_soc(0.3), two_pool_soc(0.5)], rtol=1e-12)
    with pytest.raises(InputDataError):
        grid_response(TwoPoolMicrobe, {"cue": []})
    with pytest.raises(InputDataError):
        grid_response(TwoPoolMicrobe, {"cue": [0.5]}, knob_scale="log")


def test_zscore_by_beta_panel():
    # He et al. (2024) Fig. 1: SOC standardized per β panel (z = (S − mean)/sd over the ok states)
    z = zscore_by(_grid(), "beta")
    for _, panel in z.groupby("beta"):
        ok = panel["status"] == "ok"
        np.testing.assert_allclose(panel.loc[ok, "z_soc"].mean(), 0.0, atol=1e-12)
        np.testing.assert_allclose(panel.loc[ok, "z_soc"].std(ddof=0), 1.0, rtol=1e-12)
        assert panel.loc[~ok, "z_soc"].isna().all()
    z1 = zscore_by(_grid(), "beta", ddof=1)
    ok = z1["status"] == "ok"
    np.testing.assert_allclose(z1.loc[ok & (z1.beta == 2.0), "z_soc"].std(ddof=1), 1.0,
                               rtol=1e-12)
    flat = pd.DataFrame({"beta": [1.0, 1.0], "soc": [5.0, 5.0], "status": ["ok", "ok"]})
    assert zscore_by(flat)["z_soc"].tolist() == [0.0, 0.0]


def test_plot_response_surfaces_masks_non_ok_states():
    g = _grid()
    fig = plot_response_surfaces(g)
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 2
    for ax, beta, n_bad in zip(panels, (1.0, 2.0), (3, 0), strict=True):
        arr = ax.collections[-1].get_array().ravel()  # (input, cue) cells, row-major
        assert arr.shape[0] == 3 * 6
        assert int(np.ma.getmaskarray(arr).sum()) == n_bad
        sub = zscore_by(g, "beta")
        sub = sub[sub.beta == beta].sort_values(["input", "cue"])
        ok = (sub["status"] == "ok").to_numpy()
        np.testing.assert_allclose(np.ma.getdata(arr)[ok], sub["z_soc"].to_numpy()[ok],
                                   rtol=1e-12)
        assert ("not ok" in ax.get_title()) == bool(n_bad)
    with pytest.raises(InputDataError, match="filter"):
        plot_response_surfaces(pd.concat([g, g]))


# ------------------------------------------------------------------------------- Sobol
def ishigami(x, a=7.0, b=0.1):
    """Ishigami & Homma (1990): sin x1 + a·sin² x2 + b·x3⁴·sin x1 on [−π, π]³."""
    x = np.asarray(x, dtype=float)
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices(a=7.0, b=0.1):
    """Exact S1 and ST (Sobol' & Levitan 1999; Saltelli et al. 2008, Primer §4.7)."""
    v1 = 0.5 * (1 + b * np.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = 8 * b**2 * np.pi**8 / 225
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v, v13 / v


BOUNDS = {"x1": (-np.pi, np.pi), "x2": (-np.pi, np.pi), "x3": (-np.pi, np.pi)}


def test_ishigami_exact_indices():
    s1, st, s13 = ishigami_indices()
    # the values quoted in the literature (a = 7, b = 0.1), 4 digits
    np.testing.assert_allclose(s1, [0.3139, 0.4424, 0.0], atol=5e-5)
    np.testing.assert_allclose(st, [0.5576, 0.4424, 0.2437], atol=5e-5)
    np.testing.assert_allclose(s13, 0.2437, atol=5e-5)


def test_sobol_ishigami_within_bootstrap_confidence():
    t = sobol_indices(lambda df: ishigami(df[["x1", "x2", "x3"]].to_numpy()), BOUNDS,
                      n=1024, seed=0)
    s1, st, _ = ishigami_indices()
    assert list(t.columns) == ["parameter", "S1", "S1_conf", "ST", "ST_conf"]
    assert list(t["parameter"]) == ["x1", "x2", "x3"]
    assert np.all(np.abs(t["S1"] - s1) <= 3 * t["S1_conf"])
    assert np.all(np.abs(t["ST"] - st) <= 3 * t["ST_conf"])
    assert np.all(np.abs(t["S1"] - s1) < 0.05) and np.all(np.abs(t["ST"] - st) < 0.05)
    # reproducible by seed; array input
    t2 = sobol_indices(ishigami, BOUNDS, n=1024, seed=0, as_frame=False)
    pd.testing.assert_frame_equal(t, t2)


def test_sobol_ishigami_converges():
    # N = 8192: estimator error ~ N^(-1/2); max |error| over seeds 0–9 was 0.006
    t = sobol_indices(ishigami, BOUNDS, n=2**13, seed=3, as_frame=False)
    s1, st, _ = ishigami_indices()
    np.testing.assert_allclose(t["S1"], s1, atol=0.02)
    np.testing.assert_allclose(t["ST"], st, atol=0.02)
    assert np.all(t["ST_conf"] < 0.05)


def test_sobol_second_order_ishigami():
    t = sobol_indices(ishigami, BOUNDS, n=2048, seed=1, second_order=True, as_frame=False)
    _, _, s13 = ishigami_indices()
    s2 = t.set_index("parameter")
    # only x1–x3 interact (S13 = 0.2437), S12 = S23 = 0
    for (i, j), exact in {("x1", "x3"): s13, ("x1", "x2"): 0.0, ("x2", "x3"): 0.0}.items():
        assert abs(s2.loc[i, f"S2:{j}"] - exact) <= 3 * s2.loc[i, f"S2_conf:{j}"]


def test_sobol_bad_input():
    with pytest.raises(InputDataError, match="power of 2"):
        sobol_indices(ishigami, BOUNDS, n=1000, as_frame=False)
    with pytest.raises(InputDataError, match="low < high"):
        sobol_indices(ishigami, {"x1": (1.0, 1.0)}, as_frame=False)
    with pytest.raises(InputDataError, match="non-finite"):
        sobol_indices(lambda x: np.full(len(x), np.nan), BOUNDS, n=16, as_frame=False)
    with pytest.raises(InputDataError, match="one value per sample"):
        sobol_indices(lambda x: np.zeros(3), BOUNDS, n=16, as_frame=False)


def test_soc_function_for_sobol():
    f = soc_function(TwoPoolMicrobe, base={"beta": 2.0})
    samples = pd.DataFrame({"cue": [0.8, 1.0, 1.2], "input": [0.5, 1.0, 2.0]})
    expected = [two_pool_soc(cue=0.5 * c, inp=i, beta=2.0)
                for c, i in zip(samples["cue"], samples["input"], strict=True)]
    np.testing.assert_allclose(f(samples), expected, rtol=1e-12)
    # CLM5: SOC ∝ NPP, so with the transfer fractions fixed all variance is NPP's
    t = sobol_indices(soc_function(CLM5Adapter), {"input": (0.5, 1.5)}, n=64, seed=0)
    np.testing.assert_allclose(t["S1"], 1.0, atol=0.05)
    np.testing.assert_allclose(t["ST"], 1.0, atol=0.05)
    t = sobol_indices(soc_function(TwoPoolMicrobe, base={"beta": 2.0}),
                      {"cue": (0.8, 1.2), "input": (0.5, 2.0)}, n=256, seed=0).set_index(
                          "parameter")
    assert t.loc["input", "ST"] > t.loc["cue", "ST"]
