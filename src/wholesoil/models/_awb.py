"""The microbial-enzyme model of Allison, Wallenstein & Bradford (2010), with β and β_enz.

He et al. (2024) measured the sensitivity of steady-state SOC to ±10 % microbial carbon use
efficiency (CUE) and ±10 % carbon input with this model (their ref. 7), once with linear
microbial turnover and enzyme production and once with an exponent on each: β on microbial
turnover (MIC^β, density-dependent mortality; Georgiou et al. 2017) and β_enz on enzyme
production (MIC^β_enz, Tao et al. 2023).

State and units
---------------
Four pools in the order of :data:`POOLS` — SOC (S), DOC (D), microbial biomass (B) and
extracellular enzymes (E) — in mg C cm⁻³ of soil, time in hours, temperature T in °C: the units
of the paper's Supplementary Table 1 (:data:`AWB_PARAMETERS`).

Equations
---------
Temperature dependence (Allison et al. 2010, Methods and Supplementary Eqs.; numbered here A1–A3)::

    V_max        = V_max0·exp(−E_a / (R·(T + 273)))                              (A1)
    V_max,uptake = V_max,uptake0·exp(−E_a,uptake / (R·(T + 273)))
    K_m          = K_m,slope·T + K_m0,   K_m,uptake = K_m,uptake,slope·T + K_m,uptake0    (A2)
    CUE          = CUE_slope·T + CUE_0                                            (A3)

with R = 0.008314 kJ mol⁻¹ K⁻¹. Fluxes [mg C cm⁻³ h⁻¹] (A4)::

    DECOMP  = V_max·E·S / (K_m + S)                    enzymatic SOC decomposition
    ASSIM   = V_max,uptake·B·D / (K_m,uptake + D)      DOC uptake by microbes
    DEATH   = r_death·B_ref·(B/B_ref)^β                microbial death (β = 1 in AWB)
    EPROD   = r_EnzProd·B_ref·(B/B_ref)^β_enz          enzyme production (β_enz = 1 in AWB)
    ELOSS   = r_EnzLoss·E                              enzyme turnover

Tendencies (A5)::

    dS/dt = I_S + a_MS·DEATH − DECOMP
    dD/dt = I_D + (1 − a_MS)·DEATH + DECOMP + ELOSS − ASSIM
    dB/dt = CUE·ASSIM − DEATH − EPROD
    dE/dt = EPROD − ELOSS

respiration (1 − CUE)·ASSIM. B_ref (:data:`AWB_PARAMETERS` ``mic_ref``) makes the rate constants
keep their units for every exponent; its default, 1 mg C cm⁻³, is the published form
``r·B^β`` in the paper's units (Georgiou et al. 2017 write the density-dependent turnover
``τ·B^β``).

Steady state (closed form)
--------------------------
Summing A5, every internal flux cancels: ``(1 − CUE)·ASSIM* = I_S + I_D`` (A6). Then B* solves
(A7)::

    DEATH(B*) + EPROD(B*) = CUE·ASSIM*,

whose left side increases strictly with B (β, β_enz > 0), so B* is unique (solved by Newton's
method on log B, where the left side is convex; explicit for β = β_enz = 1:
``B* = CUE·(I_S + I_D) / ((1 − CUE)·(r_death + r_EnzProd))``), and (A8)::

    E* = EPROD(B*) / r_EnzLoss
    S* = K_m·X / (V_max·E* − X),                  X = I_S + a_MS·DEATH(B*)
    D* = K_m,uptake·ASSIM* / (V_max,uptake·B* − ASSIM*)

A positive steady state exists if and only if both denominators of A8 are positive (otherwise
the enzymes cannot decompose the SOC supply, or the microbes cannot take up the DOC supply, and
the substrate grows without bound); :meth:`AWBModel.require_steady_state` raises then instead of
returning NaN. For β = β_enz = 1, B*, E*, X and ASSIM* are proportional to the input, so S* and
D* **do not depend on the input** (He et al.'s input sensitivity of 0). Differentiating A8 in
that case gives the CUE elasticity in closed form (A9)::

    d ln S*/d ln CUE = −(1 − φ)/(1 − CUE) · V_max·E*/(V_max·E* − X),   φ = a_MS·DEATH*/X,

negative: more efficient microbes make more enzymes and hold less SOC (Allison et al. 2010).

References
----------
Allison, S. D., Wallenstein, M. D. & Bradford, M. A. (2010). Soil-carbon response to warming
dependent on microbial physiology. Nat. Geosci. 3, 336–340. https://doi.org/10.1038/ngeo846
(Methods; Supplementary Table 1 for the parameter values.)

He, X., Abramoff, R. Z., Abs, E., Georgiou, K., Zhang, H. & Goll, D. S. (2024). Model
uncertainty obscures major driver of soil carbon. Nature 627, E1–E3.
https://doi.org/10.1038/s41586-023-06999-1

Georgiou, K., Abramoff, R. Z., Harte, J., Riley, W. J. & Torn, M. S. (2017). Microbial
community-level regulation explains soil carbon responses to long-term litter manipulations.
Nat. Commun. 8, 1223. https://doi.org/10.1038/s41467-017-01116-z

Tao, F. et al. (2023). Microbial carbon use efficiency promotes global soil carbon storage.
Nature 618, 981–985. https://doi.org/10.1038/s41586-023-06042-3
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError
from wholesoil.models._nonlinear import SteadyStateReport, find_steady_states
from wholesoil.models._parameters import Parameter, named
from wholesoil.models._tao2024 import ParamInfo, _check

FloatArray = NDArray[np.float64]

#: Pools in state order [mg C cm⁻³]: SOC, DOC, microbial biomass, enzymes.
POOLS: tuple[str, ...] = ("SOC", "DOC", "MIC", "ENZ")

#: Gas constant of A1 [kJ mol⁻¹ K⁻¹].
GAS_CONSTANT: float = 0.008314
#: Offset of the paper's Kelvin conversion in A1 (T + 273).
KELVIN_OFFSET: float = 273.0
#: Reference temperature of the paper's simulations [°C] (steady state at 20 °C, warmed to 25).
REFERENCE_TEMPERATURE: float = 20.0

_INF = float("inf")
_T1 = "Allison et al. (2010) Supplementary Table 1"


def _p(symbol: str, default: float, unit: str, lo: float, hi: float, closed: tuple[bool, bool],
       desc: str, source: str = _T1) -> ParamInfo:
    return Parameter("", unit, lo, hi, default=default, source=source, description=desc,
                     symbol=symbol, closed=closed)


#: Parameters of :class:`AWBModel`: default, unit, valid range and source. The defaults are the
#: published parameter set (Allison et al. 2010, Supplementary Table 1), B_ref and the
#: exponents are this module's additions (module docstring).
AWB_PARAMETERS: dict[str, ParamInfo] = named({
    "v_max0": _p("V_max0", 1e8, "mg C cm-3 (mg C cm-3 enzyme)-1 h-1", 0, _INF, (False, False),
                 "pre-exponential factor of the maximum SOC decomposition rate (A1)"),
    "v_max_uptake0": _p("V_max,uptake0", 1e8, "mg C cm-3 (mg C cm-3 biomass)-1 h-1", 0, _INF,
                        (False, False), "pre-exponential factor of the maximum DOC uptake rate"),
    "ea": _p("E_a", 47.0, "kJ mol-1", 0, _INF, (False, False),
             "activation energy of SOC decomposition (A1)"),
    "ea_uptake": _p("E_a,uptake", 47.0, "kJ mol-1", 0, _INF, (False, False),
                    "activation energy of DOC uptake (A1)"),
    "km0": _p("K_m0", 500.0, "mg C cm-3", 0, _INF, (False, False),
              "half-saturation SOC concentration of decomposition at 0 °C (A2)"),
    "km_slope": _p("K_m,slope", 5.0, "mg C cm-3 degC-1", -_INF, _INF, (False, False),
                   "temperature slope of K_m (A2)"),
    "km_uptake0": _p("K_m,uptake0", 0.1, "mg C cm-3", 0, _INF, (False, False),
                     "half-saturation DOC concentration of uptake at 0 °C (A2)"),
    "km_uptake_slope": _p("K_m,uptake,slope", 0.01, "mg C cm-3 degC-1", -_INF, _INF,
                          (False, False), "temperature slope of K_m,uptake (A2)"),
    "r_death": _p("r_death", 2e-4, "h-1", 0, _INF, (False, False),
                  "microbial death rate constant (A4)"),
    "r_enz_prod": _p("r_EnzProd", 5e-6, "h-1", 0, _INF, (False, False),
                     "enzyme production rate constant (A4)"),
    "r_enz_loss": _p("r_EnzLoss", 1e-3, "h-1", 0, _INF, (False, False),
                     "enzyme loss (turnover) rate constant (A4)"),
    "mic_to_soc": _p("a_MS", 0.5, "unitless", 0, 1, (True, True),
                     "fraction of dead microbial biomass going to SOC (the rest to DOC)"),
    "cue0": _p("CUE_0", 0.63, "unitless", -_INF, _INF, (False, False),
               "carbon use efficiency at 0 °C (A3)"),
    "cue_slope": _p("CUE_slope", -0.016, "degC-1", -_INF, _INF, (False, False),
                    "temperature slope of CUE (A3)"),
    "input_soc": _p("I_S", 5e-4, "mg C cm-3 h-1", 0, _INF, (True, False),
                    "carbon input to SOC"),
    "input_doc": _p("I_D", 5e-4, "mg C cm-3 h-1", 0, _INF, (True, False),
                    "carbon input to DOC"),
    "beta": _p("β", 1.0, "unitless", 0, _INF, (False, False),
               "exponent of microbial death on biomass (1 in AWB; > 1 density dependent)",
               "He et al. (2024); Georgiou et al. (2017)"),
    "beta_enz": _p("β_enz", 1.0, "unitless", 0, _INF, (False, False),
                   "exponent of enzyme production on biomass (1 in AWB)",
                   "He et al. (2024); Tao et al. (2023)"),
    "mic_ref": _p("B_ref", 1.0, "mg C cm-3", 0, _INF, (False, False),
                  "reference biomass of the power laws (1: the published form r·B^β)",
                  "this module (module docstring)"),
})

#: Temperature range [°C] where A2–A3 give a valid model with the default parameters:
#: K_m,uptake > 0 (T > −10 °C) and CUE > 0 (T < 39.375 °C). CUE within (0, 1) is checked again
#: for the actual parameters.
TEMPERATURE_RANGE: tuple[float, float] = (
    -AWB_PARAMETERS["km_uptake0"].default / AWB_PARAMETERS["km_uptake_slope"].default,
    -AWB_PARAMETERS["cue0"].default / AWB_PARAMETERS["cue_slope"].default,
)

#: What the sensitivity knobs scale (the common model protocol of
#: :mod:`wholesoil.models._sensitivity`): CUE scales CUE_0 and CUE_slope together, so that
#: CUE(T) of A3 — the model's only efficiency — is scaled by the same factor at every
#: temperature; input scales both inputs.
SENSITIVITY_KNOBS: dict[str, tuple[str, ...]] = {
    "cue": ("cue0", "cue_slope"),
    "input": ("input_soc", "input_doc"),
}


class ClosedForm(NamedTuple):
    """Steady state of A6–A8."""

    state: FloatArray
    """``batch_shape + (4,)`` S, D, B, E [mg C cm⁻³]; NaN where ``exists`` is False."""
    exists: NDArray[np.bool_]
    """Positive input and both denominators of A8 positive."""


def _power(b: FloatArray, ref: FloatArray, exponent: FloatArray) -> FloatArray:
    """``B_ref·(B/B_ref)^x`` continued oddly to B < 0 (never visited by the positive solver)."""
    return b * np.abs(b / ref) ** (exponent - 1.0)


def _power_derivative(b: FloatArray, ref: FloatArray, exponent: FloatArray) -> FloatArray:
    return exponent * np.abs(b / ref) ** (exponent - 1.0)


class AWBModel:
    """Allison–Wallenstein–Bradford (2010) SOC–DOC–MIC–ENZ model, batched over parameter sets.

    Parameters
    ----------
    params : mapping of str to array_like, optional
        Any of :data:`AWB_PARAMETERS` (others keep their published defaults); arrays broadcast
        to the batch shape.
    temperature : array_like
        Soil temperature T [°C] in :data:`TEMPERATURE_RANGE`; default 20 °C (the paper's
        reference temperature).

    Raises
    ------
    InputDataError
        Unknown parameter names; an exponent ≤ 0; a temperature outside
        :data:`TEMPERATURE_RANGE`; CUE(T) of A3 outside (0, 1); K_m or K_m,uptake ≤ 0 at T;
        arrays that do not broadcast.

    Examples
    --------
    >>> m = AWBModel()
    >>> round(float(m.closed_form().state[0]), 2)  # S* at 20 °C [mg C cm-3]
    111.88
    """

    POOLS = POOLS
    PARAMETERS = AWB_PARAMETERS
    SENSITIVITY_KNOBS = SENSITIVITY_KNOBS

    def __init__(self, params: Mapping[str, ArrayLike] | None = None, *,
                 temperature: ArrayLike = REFERENCE_TEMPERATURE) -> None:
        given = dict(params or {})
        unknown = set(given) - set(AWB_PARAMETERS)
        if unknown:
            raise InputDataError(f"unknown AWBModel parameter(s) {sorted(unknown)}; expected "
                                 f"names from {list(AWB_PARAMETERS)}")
        v = {n: _check(info, n, given.get(n, info.default)) for n, info in AWB_PARAMETERS.items()}
        t = np.asarray(temperature, dtype=float)
        lo, hi = TEMPERATURE_RANGE
        bad = ~(np.isfinite(t) & (t > lo) & (t < hi))
        if np.any(bad):
            raise InputDataError(
                f"temperature must be in ({lo:g}, {hi:g}) °C, where the AWB model's K_m,uptake "
                "and CUE (Allison et al. 2010, A2–A3) are positive",
                field="temperature", value=float(np.ravel(t)[np.ravel(bad)][0]))
        try:
            self.batch_shape: tuple[int, ...] = np.broadcast_shapes(
                t.shape, *(a.shape for a in v.values()))
        except ValueError as err:
            raise InputDataError("AWBModel parameters and temperature do not broadcast: "
                                 f"{ {n: a.shape for n, a in v.items()} }") from err
        self.params: dict[str, FloatArray] = v
        self.temperature: FloatArray = t
        self.cue: FloatArray = v["cue0"] + v["cue_slope"] * t
        self.km: FloatArray = v["km0"] + v["km_slope"] * t
        self.km_uptake: FloatArray = v["km_uptake0"] + v["km_uptake_slope"] * t
        kelvin = GAS_CONSTANT * (t + KELVIN_OFFSET)
        self.v_max: FloatArray = v["v_max0"] * np.exp(-v["ea"] / kelvin)
        self.v_max_uptake: FloatArray = v["v_max_uptake0"] * np.exp(-v["ea_uptake"] / kelvin)
        for name, arr, what in (("cue", self.cue, "CUE_0 + CUE_slope·T"),
                                ("km", self.km, "K_m0 + K_m,slope·T"),
                                ("km_uptake", self.km_uptake, "K_m,uptake0 + K_m,uptake,slope·T")):
            ok = arr > 0 if name != "cue" else (arr > 0) & (arr < 1)
            if np.any(~ok):
                rng = "(0, 1)" if name == "cue" else "> 0"
                raise InputDataError(f"{name} = {what} must be {rng} (Allison et al. 2010, "
                                     "A2–A3); check the parameters and the temperature",
                                     field=name, value=float(np.ravel(np.broadcast_to(
                                         arr, self.batch_shape))[np.ravel(~np.broadcast_to(
                                             ok, self.batch_shape))][0]))

    # ------------------------------------------------------------------ helpers
    def with_params(self, **changes: ArrayLike) -> AWBModel:
        """A new model with some parameters replaced (validated again), same temperature."""
        return AWBModel({**self.params, **changes}, temperature=self.temperature)

    def fluxes(self, x: ArrayLike) -> dict[str, FloatArray]:
        """Fluxes of A4 at states ``x`` (..., 4) [mg C cm⁻³ h⁻¹]."""
        x = np.asarray(x, dtype=float)
        s, d, b, e = (x[..., i] for i in range(4))
        p = self.params
        with np.errstate(divide="ignore", invalid="ignore"):
            decomp = self.v_max * e * s / (self.km + s)
            assim = self.v_max_uptake * b * d / (self.km_uptake + d)
        return {
            "decomposition": decomp,
            "assimilation": assim,
            "death": p["r_death"] * _power(b, p["mic_ref"], p["beta"]),
            "enzyme_production": p["r_enz_prod"] * _power(b, p["mic_ref"], p["beta_enz"]),
            "enzyme_loss": p["r_enz_loss"] * e,
            "respiration": (1.0 - self.cue) * assim,
        }

    def _terms(self, x: ArrayLike) -> tuple[list[FloatArray], ...]:
        f = self.fluxes(x)
        p, a = self.params, self.params["mic_to_soc"]
        return (
            [p["input_soc"], a * f["death"], -f["decomposition"]],
            [p["input_doc"], (1 - a) * f["death"], f["decomposition"], f["enzyme_loss"],
             -f["assimilation"]],
            [self.cue * f["assimilation"], -f["death"], -f["enzyme_production"]],
            [f["enzyme_production"], -f["enzyme_loss"]],
        )

    def _stack(self, x: FloatArray, rows: tuple[list[FloatArray], ...], absolute: bool
               ) -> FloatArray:
        shape = np.broadcast_shapes(x.shape[:-1], self.batch_shape)
        op = np.abs if absolute else (lambda z: z)
        return np.stack([np.broadcast_to(sum(op(t) for t in r), shape) for r in rows], axis=-1)

    # ------------------------------------------------------------------ protocol
    def rhs(self, x: ArrayLike) -> FloatArray:
        """Tendencies of A5 at states ``x`` (..., 4) [mg C cm⁻³ h⁻¹]."""
        x = np.asarray(x, dtype=float)
        return self._stack(x, self._terms(x), absolute=False)

    def flux_scale(self, x: ArrayLike) -> FloatArray:
        """Gross flux through each pool, Σ|terms| of A5 (..., 4) [mg C cm⁻³ h⁻¹]."""
        x = np.asarray(x, dtype=float)
        return self._stack(x, self._terms(x), absolute=True)

    def relative_residual(self, x: ArrayLike) -> FloatArray:
        """‖dx/dt‖₂ / ‖gross flux‖₂ at ``x`` (...) (Eq. 4 of :mod:`._nonlinear`)."""
        x = np.asarray(x, dtype=float)
        return (np.linalg.norm(self.rhs(x), axis=-1)
                / np.linalg.norm(self.flux_scale(x), axis=-1))

    def jacobian(self, x: ArrayLike) -> FloatArray:
        """Analytic Jacobian ``J[..., r, c] = ∂(dx_r/dt)/∂x_c`` of A5 (..., 4, 4) [h⁻¹]."""
        x = np.asarray(x, dtype=float)
        s, d, b, e = (x[..., i] for i in range(4))
        p = self.params
        km, ku, vm, vu = self.km, self.km_uptake, self.v_max, self.v_max_uptake
        with np.errstate(divide="ignore", invalid="ignore"):
            dd_ds = vm * e * km / (km + s) ** 2
            dd_de = vm * s / (km + s)
            da_dd = vu * b * ku / (ku + d) ** 2
            da_db = vu * d / (ku + d)
        ddeath = p["r_death"] * _power_derivative(b, p["mic_ref"], p["beta"])
        dprod = p["r_enz_prod"] * _power_derivative(b, p["mic_ref"], p["beta_enz"])
        a, cue, rl = p["mic_to_soc"], self.cue, p["r_enz_loss"]
        shape = np.broadcast_shapes(x.shape[:-1], self.batch_shape)
        zero = np.zeros(shape)

        def full(v: ArrayLike) -> FloatArray:
            return np.broadcast_to(v, shape)

        rows = [
            [-dd_ds, zero, a * ddeath, -dd_de],
            [dd_ds, -da_dd, (1 - a) * ddeath - da_db, dd_de + rl],
            [zero, cue * da_dd, cue * da_db - ddeath - dprod, zero],
            [zero, zero, dprod, -rl + zero],
        ]
        return np.stack([np.stack([full(c) for c in row], -1) for row in rows], -2)

    def closed_form(self, *, max_iter: int = 100) -> ClosedForm:
        """Steady state of A6–A8 (module docstring), batched; B* of A7 by Newton on log B.

        Returns
        -------
        ClosedForm
            States ``batch_shape + (4,)`` [mg C cm⁻³], NaN where no positive state exists.
        """
        p = self.params
        i_s, i_d = p["input_soc"], p["input_doc"]
        cue, ref, b1, b2 = self.cue, p["mic_ref"], p["beta"], p["beta_enz"]
        rd, rp = p["r_death"], p["r_enz_prod"]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            assim = (i_s + i_d) / (1.0 - cue)  # A6
            demand = cue * assim  # right side of A7
            mic_linear = demand / (rd + rp)
            if np.all((b1 == 1.0) & (b2 == 1.0)):
                mic = mic_linear
            else:
                # F(u) = log(rd·ref·e^{β1·u} + rp·ref·e^{β2·u}) − log(demand), u = log(B/ref):
                # convex and increasing, so Newton converges from any start.
                u = np.log(mic_linear / ref)
                for _ in range(max_iter):
                    ta, tb = rd * ref * np.exp(b1 * u), rp * ref * np.exp(b2 * u)
                    step = (np.log(ta + tb) - np.log(demand)) * (ta + tb) / (b1 * ta + b2 * tb)
                    u = u - step
                    if np.all(~(np.abs(step) > 1e-15)):
                        break
                mic = ref * np.exp(u)
            death = rd * _power(mic, ref, b1)
            enz = rp * _power(mic, ref, b2) / p["r_enz_loss"]  # A8
            supply = i_s + p["mic_to_soc"] * death
            den_s = self.v_max * enz - supply
            soc = self.km * supply / den_s
            den_d = self.v_max_uptake * mic - assim
            doc = self.km_uptake * assim / den_d
        exists = np.broadcast_to((i_s + i_d > 0) & (den_s > 0) & (den_d > 0), self.batch_shape)
        state = np.stack([np.broadcast_to(z, self.batch_shape) for z in (soc, doc, mic, enz)],
                         axis=-1)
        return ClosedForm(np.where(exists[..., None], state, np.nan), exists.copy())

    def require_steady_state(self) -> FloatArray:
        """The closed-form steady state, or :class:`InputDataError` where none is positive.

        Raises
        ------
        InputDataError
            Naming the first parameter set (flat batch index) without a positive steady state
            and which balance of A8 fails.
        """
        cf = self.closed_form()
        if np.all(cf.exists):
            return cf.state
        idx = int(np.flatnonzero(~np.ravel(cf.exists))[0])
        p = {n: float(np.ravel(np.broadcast_to(v, self.batch_shape))[idx])
             for n, v in self.params.items()}
        t = float(np.ravel(np.broadcast_to(self.temperature, self.batch_shape))[idx])
        raise InputDataError(
            "the AWB model has no positive steady state for this parameter set: enzymes cannot "
            "decompose the SOC supply (V_max·E* ≤ I_S + a_MS·DEATH*) or microbes cannot take "
            "up the DOC supply (V_max,uptake·B* ≤ ASSIM*), so a substrate pool grows without "
            f"bound (Allison et al. 2010, A8); batch element {idx} at T = {t:g} °C with "
            f"CUE_0 = {p['cue0']:g}, β = {p['beta']:g}, β_enz = {p['beta_enz']:g}, "
            f"I_S = {p['input_soc']:g}, I_D = {p['input_doc']:g}",
            field="parameters", value=idx)

    def steady_state(self, *, rtol: float = 1e-10, max_iter: int = 50) -> SteadyStateReport:
        """Steady state by the shared robust solver (:func:`find_steady_states`), with status.

        Started from the closed form (A6–A8) and from three other points (biomass and substrates
        pulled apart by factors 2 and 1/2, and the default AWB initial pools), so that the
        status (``"ok"``, ``"unstable"``, ``"no-convergence"``…) and the Jacobian's stability
        are checked, not assumed.
        """
        cf = self.closed_form().state
        generic = np.broadcast_to(np.array([100.0, 0.5, 0.5, 0.01]), (*self.batch_shape, 4))
        starts = np.stack([cf, cf * np.array([2.0, 2.0, 0.5, 0.5]),
                           cf * np.array([0.5, 0.5, 2.0, 2.0]), generic])
        good = np.isfinite(starts) & (starts > 0)
        starts = np.where(good, starts, generic[None])
        return find_steady_states(self.rhs, self.jacobian, starts, rtol=rtol, max_iter=max_iter,
                                  positive=True, flux_scale=self.flux_scale)

    def soc(self, x: ArrayLike) -> FloatArray:
        """The SOC pool S [mg C cm⁻³] (...): He et al.'s steady-state SOC."""
        return np.asarray(x, dtype=float)[..., 0]

    def simulate(self, x0: ArrayLike, hours: float, *, rtol: float = 1e-10,
                 atol: float = 1e-14) -> tuple[FloatArray, FloatArray]:
        """Integrate A5 for one parameter set (scipy ``solve_ivp``, LSODA with the Jacobian).

        Parameters
        ----------
        x0 : array_like (4,)
            Initial S, D, B, E [mg C cm⁻³].
        hours : float
            Length of the run [h].

        Returns
        -------
        t : ndarray (n_t,) [h]
        x : ndarray (n_t, 4) [mg C cm⁻³]
        """
        from scipy.integrate import solve_ivp

        if self.batch_shape != ():
            raise InputDataError("simulate integrates one parameter set (scalar parameters)",
                                 field="batch_shape", value=self.batch_shape)
        sol = solve_ivp(lambda _t, y: self.rhs(y), (0.0, float(hours)),
                        np.asarray(x0, dtype=float), method="LSODA",
                        jac=lambda _t, y: self.jacobian(y), rtol=rtol, atol=atol)
        if not sol.success:
            raise InputDataError(f"integration failed: {sol.message}", field="simulate")
        return sol.t, sol.y.T

    def __repr__(self) -> str:
        changed = sorted(n for n, v in self.params.items()
                         if v.ndim or float(v) != AWB_PARAMETERS[n].default)
        return f"AWBModel(batch_shape={self.batch_shape}, changed={changed})"
