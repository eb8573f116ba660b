"""The single-layer microbial model of Tao et al.'s reply (Tao et al. (2024)).

Tao et al. answer He et al. (2024) with "the microbial model used by Tao et al." — the soil
part of COMPAS (Tao et al. (EarthArXiv) §2.3, Eqs. 7–9; :mod:`wholesoil.models._compas`) for one
layer, fed by a litter input I and extended with the two exponents under discussion:

* ``beta`` (β): density-dependent microbial turnover, the turnover flux ∝ MIC^β (He et al.;
  Georgiou et al. 2017), β = 1 classic;
* ``beta_enz`` (β_enz): enzyme production ∝ MIC^β_enz (Tao et al.'s reply to reviewers), 1
  classic.

State and units
---------------
Four pools, in the order of :data:`POOLS`: DOC (dissolved organic carbon), MIC (microbial
biomass), ENZ (extracellular enzymes) and SOC (mineral-associated SOC, COMPAS' mSOC), as
concentrations in g C m⁻³ of a soil layer of thickness ``depth`` [m] (COMPAS' native unit, so
that the Michaelis constants of Tao et al. (EarthArXiv) Supplementary Table 2 apply unchanged); time
in years.
:meth:`Tao2024Model.soc` and :meth:`Tao2024Model.stocks` convert to g C m⁻² (× depth).

Equations
---------
Inputs from the litter input I [g C m⁻² yr⁻¹] (T1)::

    I_DOC = f_DOC·I/d,   I_MIC = f_MIC·I/d,   I_SOC = f_SOC·I/d            [g C m⁻³ yr⁻¹]

(the rest, ``(1 − f_DOC − f_MIC − f_SOC)·I``, is respired by litter decomposition). The default
fractions are those COMPAS gives at steady state for litter split 25/50/25 % into metabolic,
cellulose and lignin litter (CLM5, :data:`wholesoil.models._allocation.CLM5_LITTER_FRACTIONS`)
with the COMPAS defaults (Tao et al. (EarthArXiv) Eq. 8 and the CUE definitions after it; CWD 0)::

    f_DOC = a_DOC,ML·φ_ML + a_DOC,CL·φ_CL
    f_MIC = (1 − a_DOC,ML)·η_ML·φ_ML + (1 − a_DOC,CL)·η_CL-LL·φ_CL + (1 − a_SOC,LL)·η_CL-LL·φ_LL
    f_SOC = a_SOC,LL·φ_LL

Fluxes (Tao et al. (EarthArXiv) Eq. 7 with the exponents; ξ the environmental scalar, multiplying
rates and, as in COMPAS, the Michaelis constants) (T2)::

    U = v_assim·ξ·MIC·DOC / (K_m,assim·ξ + DOC)              uptake (assimilation) of DOC
    D = v_decom·ξ·ENZ·SOC / (K_m,decom·ξ + SOC)              enzymatic decomposition of SOC
    T = k_MIC·ξ·MIC_ref·(MIC/MIC_ref)^β                     microbial turnover (mortality)
    P = k_ENZ,prod·ξ·MIC_ref·(MIC/MIC_ref)^β_enz            enzyme production
    E = k_ENZ·ξ·ENZ                                          enzyme decay

with ``v = 1/τ_assim``, ``1/τ_decom``, ``k_MIC = 1/τ_MIC``, ``k_ENZ,prod = 1/τ_ENZ,prod``,
``k_ENZ = 1/τ_ENZ,decay``. β is the total exponent on MIC in the turnover flux, ``T = τ·MIC^β``
with the coefficient ``τ = k_MIC·ξ·MIC_ref^(1−β)``: the reference biomass MIC_ref keeps k_MIC in
yr⁻¹ for every β (at MIC = MIC_ref the flux is the first-order one). Its default is the β = 1
steady-state MIC of the default model, so the default state is the same for every β and β_enz
and only the responses differ. For MIC < 0 (never visited by the positive solver) the powers are
continued oddly, ``MIC·|MIC/MIC_ref|^(β−1)``.

Tendencies (T3)::

    dDOC/dt = I_DOC + (1 − a_SOC,MIC)·T + E + D − U
    dMIC/dt = I_MIC + η_DOC·U − T − P
    dENZ/dt = P − E
    dSOC/dt = I_SOC + a_SOC,MIC·T − D

Respiration is ``(1 − η_DOC)·U`` (T4); at steady state it equals the soil input.

Steady state
------------
Summing T3, every internal flux cancels: ``(1 − η_DOC)·U* = I_DOC + I_MIC + I_SOC`` (T5), for any
β, β_enz. Then MIC* solves the scalar equation (T6)::

    T(MIC*) + P(MIC*) = I_MIC + η_DOC·U*,

whose left side increases strictly with MIC (β ≥ 1, β_enz > 0), so MIC* is unique; and (T7)::

    ENZ*  = P(MIC*) / (k_ENZ·ξ)
    SOC*  = S·K_m,decom·ξ / (v_decom·ξ·ENZ* − S),     S = I_SOC + a_SOC,MIC·T(MIC*)
    DOC*  = U*·K_m,assim·ξ / (v_assim·ξ·MIC* − U*)

For β = β_enz = 1 this is Tao et al. (EarthArXiv) Eq. 9 for one layer: MIC* = (I_MIC +
η_DOC·(I_DOC + I_SOC)) / ((1 − η_DOC)·(k_MIC + k_ENZ,prod)·ξ) ∝ I, ENZ* ∝ I, S ∝ I and U* ∝ I, so
**SOC* and DOC* do not depend on the input level** (the property He et al.'s (2024) comment turns
on); only MIC* and ENZ* grow with I. The positive steady state is therefore unique whenever it
exists (both denominators of T7 > 0); it can still be unstable (e.g. β_enz = 1.9 with η_DOC = 0.65,
τ_MIC = 0.6 yr, τ_ENZ,decay = 0.3 yr: a complex eigenvalue pair crosses into Re λ > 0, a Hopf
oscillation), which :meth:`Tao2024Model.steady_state`
reports from the Jacobian's eigenvalues via the shared robust solver
(:func:`wholesoil.models._nonlinear.find_steady_states`), started from T5–T7 (MIC* by Newton's
method on the logarithm of T6, a convex increasing function of log MIC) and three other points.

Total soil organic carbon (:meth:`Tao2024Model.soc`) counts all four pools, DOC + MIC + ENZ +
SOC, times the depth: with β = β_enz = 1 its input elasticity is (MIC* + ENZ*)/total, which the
reply's Fig. 1 shows growing with τ_MIC and τ_ENZ,decay.

Defaults: Tao et al. (EarthArXiv) Supplementary Table 2 (COMPAS defaults, read from
:data:`wholesoil.models._compas.COMPAS_PARAMETERS`), ξ = 1, depth 1 m, I = 400 g C m⁻² yr⁻¹. At
ξ = 1 the defaults put SOC* at about 4.7·10⁴ g C m⁻³ (SOC* scales with ξ·K_m,decom; COMPAS
calibrated ξ includes depth and climate scalars well below 1).

References
----------
Tao, F. et al. (2024). Reply to: Model uncertainty obscures major driver of soil carbon. Nature
627, E4–E6. https://doi.org/10.1038/s41586-023-07000-9 (Tao et al. (2024), Fig. 1).

He, X. et al. (2024). Model uncertainty obscures major driver of soil carbon. Nature 627, E1–E3.
https://doi.org/10.1038/s41586-023-06999-1 (He et al. (2024)).

Tao et al. (EarthArXiv), COMPAS §2.3, Eqs. 7–9 and Supplementary Table 2.

Georgiou, K., Abramoff, R. Z., Harte, J., Riley, W. J. & Torn, M. S. (2017). Microbial
community-level regulation explains soil carbon responses to long-term litter manipulations.
Nat. Commun. 8, 1223. https://doi.org/10.1038/s41467-017-01116-z

Zhao, M. & Running, S. W. (2010). Drought-induced reduction in global terrestrial net primary
production from 2000 through 2009. Science 329, 940–943. https://doi.org/10.1126/science.1192666

Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError
from wholesoil.models._allocation import CLM5_LITTER_FRACTIONS
from wholesoil.models._compas import COMPAS_PARAMETERS
from wholesoil.models._nonlinear import SteadyStateReport, find_steady_states
from wholesoil.models._parameters import Parameter, named

FloatArray = NDArray[np.float64]

#: Pools, in state order: DOC, MIC, ENZ and SOC (mineral-associated, COMPAS' mSOC) [g C m⁻³].
POOLS: tuple[str, ...] = ("DOC", "MIC", "ENZ", "SOC")


#: The parameter record of this module (one record for every model: :class:`Parameter`).
ParamInfo = Parameter


def _p(symbol: str, default: float, unit: str, valid: tuple[float, float],
       closed: tuple[bool, bool], source: str, description: str) -> Parameter:
    return Parameter("", unit, valid[0], valid[1], default=default, source=source,
                     description=description, symbol=symbol, closed=closed)


def _check(info: Parameter, name: str, value: ArrayLike) -> FloatArray:
    """``value`` as a float array, or :class:`InputDataError` naming the parameter."""
    arr = np.asarray(value, dtype=float)
    lo, hi = info.valid
    lo_ok = arr >= lo if info.closed[0] else arr > lo
    hi_ok = arr <= hi if info.closed[1] else arr < hi
    bad = (
        ~(np.isfinite(arr) & lo_ok & hi_ok) if np.isfinite(hi) else ~(np.isfinite(arr) & lo_ok)
    )
    if np.any(bad):
        left = "[" if info.closed[0] else "("
        right = "]" if info.closed[1] and np.isfinite(hi) else ")"
        raise InputDataError(
            f"{name} ({info.symbol}, {info.description}) must be in "
            f"{left}{lo:g}, {hi:g}{right} {info.unit}",
            field=name,
            value=float(arr[bad].flat[0]) if arr.ndim else float(arr),
        )
    return arr


_C = COMPAS_PARAMETERS
_T2 = "Tao et al. (EarthArXiv) Supplementary Table 2 default (COMPAS_PARAMETERS)"


def _litter_split() -> tuple[float, float, float]:
    """Default f_DOC, f_MIC, f_SOC (module docstring, T1) from COMPAS and CLM5 defaults."""
    phi_ml, phi_cl, phi_ll = CLM5_LITTER_FRACTIONS
    a1, a2, a3 = (_C[n].default for n in ("a_doc_ml", "a_doc_cl", "a_soc_ll"))
    e1, e2 = _C["cue_ml"].default, _C["cue_cl_ll"].default
    f_doc = a1 * phi_ml + a2 * phi_cl
    f_mic = (1 - a1) * e1 * phi_ml + (1 - a2) * e2 * phi_cl + (1 - a3) * e2 * phi_ll
    f_soc = a3 * phi_ll
    return f_doc, f_mic, f_soc


_F_DOC, _F_MIC, _F_SOC = _litter_split()
_INF = float("inf")
_SPLIT = (
    "COMPAS steady-state litter-to-soil transfer (Tao et al. (EarthArXiv) Eq. 8) with the Table 2 "
    "defaults and "
    "CLM5 litter fractions 0.25/0.5/0.25"
)

#: Default litter input [g C m⁻² yr⁻¹]: a round global-mean NPP (MODIS 53.5 Pg C yr⁻¹ over about
#: 1.3·10¹⁴ m² of ice-free land ≈ 410 g C m⁻² yr⁻¹; Zhao & Running 2010).
DEFAULT_LITTER_INPUT: float = 400.0


def _mic_ref_default() -> float:
    """β = 1 steady-state MIC of the default model (T6 with β = β_enz = 1) [g C m⁻³]."""
    eta = _C["cue_doc"].default
    i_mic = _F_MIC * DEFAULT_LITTER_INPUT
    i_rest = (_F_DOC + _F_SOC) * DEFAULT_LITTER_INPUT
    k = 1.0 / _C["tau_mic"].default + 1.0 / _C["tau_enz_prod"].default
    return (i_mic + eta * i_rest) / ((1.0 - eta) * k)  # depth 1 m, ξ = 1


#: Parameters of :class:`Tao2024Model` with defaults, units, valid ranges and sources.
PARAMETERS: dict[str, ParamInfo] = named({
    "litter_input": _p(
        "I",
        DEFAULT_LITTER_INPUT,
        "g C m-2 yr-1",
        (0.0, _INF),
        (True, False),
        "round global-mean NPP (Zhao & Running 2010)",
        "litter carbon input",
    ),
    "frac_doc": _p(
        "f_DOC",
        _F_DOC,
        "unitless",
        (0.0, 1.0),
        (True, True),
        _SPLIT,
        "fraction of the litter input reaching DOC",
    ),
    "frac_mic": _p(
        "f_MIC",
        _F_MIC,
        "unitless",
        (0.0, 1.0),
        (True, True),
        _SPLIT,
        "fraction of the litter input assimilated into MIC",
    ),
    "frac_soc": _p(
        "f_SOC",
        _F_SOC,
        "unitless",
        (0.0, 1.0),
        (True, True),
        _SPLIT,
        "fraction of the litter input reaching mineral SOC",
    ),
    "cue_doc": _p(
        "η_DOC",
        _C["cue_doc"].default,
        "unitless",
        (0.0, 1.0),
        (False, False),
        _T2,
        "microbial carbon use efficiency of DOC assimilation",
    ),
    "tau_assim": _p(
        "τ_assim",
        _C["tau_assim"].default,
        "yr",
        (0.0, _INF),
        (False, False),
        _T2,
        "inverse of the maximum DOC assimilation rate v_assim",
    ),
    "km_assim": _p(
        "K_m,assim",
        _C["km_assim"].default,
        "g C m-3",
        (0.0, _INF),
        (False, False),
        _T2,
        "half-saturation DOC concentration of assimilation",
    ),
    "tau_decom": _p(
        "τ_decom",
        _C["tau_decom"].default,
        "yr",
        (0.0, _INF),
        (False, False),
        _T2,
        "inverse of the maximum SOC decomposition rate v_decom",
    ),
    "km_decom": _p(
        "K_m,decom",
        _C["km_decom"].default,
        "g C m-3",
        (0.0, _INF),
        (False, False),
        _T2,
        "half-saturation SOC concentration of decomposition",
    ),
    "tau_mic": _p(
        "τ_MIC",
        _C["tau_mic"].default,
        "yr",
        (0.0, _INF),
        (False, False),
        _T2,
        "microbial turnover (mortality) time at MIC = MIC_ref",
    ),
    "tau_enz_decay": _p(
        "τ_ENZ,decay",
        _C["tau_enz_decay"].default,
        "yr",
        (0.0, _INF),
        (False, False),
        _T2,
        "enzyme decay (turnover) time",
    ),
    "tau_enz_prod": _p(
        "τ_ENZ,prod",
        _C["tau_enz_prod"].default,
        "yr",
        (0.0, _INF),
        (False, False),
        _T2,
        "enzyme production time at MIC = MIC_ref",
    ),
    "a_soc_mic": _p(
        "a_SOC,MIC",
        _C["a_soc_mic"].default,
        "unitless",
        (0.0, 1.0),
        (True, True),
        _T2,
        "fraction of microbial necromass stabilised as mineral SOC",
    ),
    "beta": _p(
        "β",
        1.0,
        "unitless",
        (1.0, 3.0),
        (True, True),
        "He et al. (2024): 1 classic, > 1 density dependent (they vary it by 50 %)",
        "total exponent on MIC of the microbial turnover flux",
    ),
    "beta_enz": _p(
        "β_enz",
        1.0,
        "unitless",
        (0.0, 2.0),
        (False, True),
        "Tao et al. reply to reviewers, as cited by He et al. (2024): 1 classic, < 1 "
        "sub-linear",
        "exponent on MIC of enzyme production",
    ),
    "mic_ref": _p(
        "MIC_ref",
        _mic_ref_default(),
        "g C m-3",
        (0.0, _INF),
        (False, False),
        "β = 1 steady-state MIC of the default model (T6), so exponents leave the default "
        "state unchanged",
        "reference microbial biomass of the density-dependent terms",
    ),
})

#: Forcing of :class:`Tao2024Model`.
FORCING: dict[str, ParamInfo] = named({
    "xi": _p(
        "ξ",
        1.0,
        "unitless",
        (0.0, _INF),
        (False, False),
        "issue 6 brief: ξ = 1 unless given",
        "environmental (temperature × moisture × depth) scalar of rates and K_m",
    ),
    "depth": _p(
        "d",
        1.0,
        "m",
        (0.0, _INF),
        (False, False),
        "this module's choice (1 m of soil)",
        "thickness of the soil layer",
    ),
})

#: Parameter names the sensitivity analysis perturbs (common model protocol of issue 6).
SENSITIVITY_KNOBS: dict[str, tuple[str, ...]] = {"cue": ("cue_doc",), "input": ("litter_input",)}


class ClosedForm(NamedTuple):
    """Steady state from T5–T7 (any β, β_enz; Tao et al. (EarthArXiv) Eq. 9 for β = β_enz = 1)."""

    state: FloatArray
    """``(..., 4)`` DOC, MIC, ENZ, SOC [g C m⁻³]; NaN where ``exists`` is False."""
    exists: NDArray[np.bool_]
    """Both denominators of T7 positive and a positive input."""


def _odd_power(mic: FloatArray, mic_ref: FloatArray, exponent: FloatArray) -> FloatArray:
    """``MIC_ref·(MIC/MIC_ref)^b`` continued oddly to MIC < 0."""
    ratio = mic / mic_ref
    return mic * np.abs(ratio) ** (exponent - 1.0)


def _odd_power_derivative(mic: FloatArray, mic_ref: FloatArray, exponent: FloatArray) -> FloatArray:
    """d/dMIC of :func:`_odd_power`: ``b·|MIC/MIC_ref|^(b−1)``."""
    return exponent * np.abs(mic / mic_ref) ** (exponent - 1.0)


class Tao2024Model:
    """Single-layer DOC–MIC–ENZ–SOC model of Tao et al.'s reply with exponents β and β_enz.

    Parameters
    ----------
    params : mapping of str to array_like, optional
        Any of :data:`PARAMETERS` (others keep their defaults); arrays broadcast to the batch
        shape.
    xi : array_like
        Environmental scalar ξ [-] (> 0), default 1.
    depth : array_like
        Layer thickness [m] (> 0), default 1.

    Raises
    ------
    InputDataError
        Unknown parameter names; values outside their valid range (β outside [1, 3], β_enz
        outside (0, 2], η_DOC outside (0, 1), negative input, …); f_DOC + f_MIC + f_SOC > 1;
        arrays that do not broadcast.
    """

    POOLS = POOLS
    PARAMETERS = PARAMETERS
    FORCING = FORCING
    SENSITIVITY_KNOBS = SENSITIVITY_KNOBS

    def __init__(
        self,
        params: Mapping[str, ArrayLike] | None = None,
        *,
        xi: ArrayLike = 1.0,
        depth: ArrayLike = 1.0,
    ) -> None:
        given = dict(params or {})
        unknown = set(given) - set(PARAMETERS)
        if unknown:
            raise InputDataError(
                f"unknown Tao2024Model parameter(s) {sorted(unknown)}; expected names from "
                f"{list(PARAMETERS)}"
            )
        values = {n: _check(info, n, given.get(n, info.default)) for n, info in PARAMETERS.items()}
        values["xi"] = _check(FORCING["xi"], "xi", xi)
        values["depth"] = _check(FORCING["depth"], "depth", depth)
        total = values["frac_doc"] + values["frac_mic"] + values["frac_soc"]
        if np.any(total > 1.0 + 1e-12):
            raise InputDataError(
                "frac_doc + frac_mic + frac_soc must be <= 1 (the rest is litter respiration)",
                field="frac_doc + frac_mic + frac_soc",
                value=float(np.max(total)),
            )
        try:
            self.batch_shape: tuple[int, ...] = np.broadcast_shapes(
                *(v.shape for v in values.values())
            )
        except ValueError as err:
            shapes = {n: v.shape for n, v in values.items()}
            raise InputDataError(
                f"Tao2024Model parameters and forcing do not broadcast: {shapes}"
            ) from err
        self.params: dict[str, FloatArray] = {n: v for n, v in values.items() if n not in FORCING}
        self.xi: FloatArray = values["xi"]
        self.depth: FloatArray = values["depth"]

    # ------------------------------------------------------------------ helpers
    def with_params(self, **changes: ArrayLike) -> Tao2024Model:
        """A new model with some parameters replaced (validated again), same forcing."""
        merged: dict[str, ArrayLike] = {**self.params, **changes}
        return Tao2024Model(merged, xi=self.xi, depth=self.depth)

    def inputs(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """I_DOC, I_MIC, I_SOC of T1 [g C m⁻³ yr⁻¹], batch-shaped."""
        p = self.params
        per_volume = p["litter_input"] / self.depth
        return (p["frac_doc"] * per_volume, p["frac_mic"] * per_volume, p["frac_soc"] * per_volume)

    def _rates(self) -> dict[str, FloatArray]:
        p, xi = self.params, self.xi
        return {
            "va": xi / p["tau_assim"],
            "vd": xi / p["tau_decom"],
            "ka": xi * p["km_assim"],
            "kd": xi * p["km_decom"],
            "km": xi / p["tau_mic"],
            "kp": xi / p["tau_enz_prod"],
            "ke": xi / p["tau_enz_decay"],
        }

    def fluxes(self, x: ArrayLike) -> dict[str, FloatArray]:
        """Fluxes of T2 and respiration T4 at states ``x`` (..., 4) [g C m⁻³ yr⁻¹].

        Keys: ``uptake`` U, ``decomposition`` D, ``turnover`` T, ``enzyme_production`` P,
        ``enzyme_decay`` E, ``respiration`` (1 − η_DOC)·U.
        """
        x = np.asarray(x, dtype=float)
        doc, mic, enz, soc = (x[..., i] for i in range(4))
        p, r = self.params, self._rates()
        with np.errstate(divide="ignore", invalid="ignore"):
            uptake = r["va"] * mic * doc / (r["ka"] + doc)
            decomp = r["vd"] * enz * soc / (r["kd"] + soc)
        turnover = r["km"] * _odd_power(mic, p["mic_ref"], p["beta"])
        production = r["kp"] * _odd_power(mic, p["mic_ref"], p["beta_enz"])
        decay = r["ke"] * enz
        return {
            "uptake": uptake,
            "decomposition": decomp,
            "turnover": turnover,
            "enzyme_production": production,
            "enzyme_decay": decay,
            "respiration": (1.0 - p["cue_doc"]) * uptake,
        }

    def _terms(self, x: ArrayLike) -> tuple[list[FloatArray], ...]:
        """Signed flux terms of each equation of T3 (summed: tendency; |·| summed: scale)."""
        fl = self.fluxes(x)
        i_doc, i_mic, i_soc = self.inputs()
        a, eta = self.params["a_soc_mic"], self.params["cue_doc"]
        t, u, d = fl["turnover"], fl["uptake"], fl["decomposition"]
        prod, dec = fl["enzyme_production"], fl["enzyme_decay"]
        return (
            [i_doc, (1.0 - a) * t, dec, d, -u],
            [i_mic, eta * u, -t, -prod],
            [prod, -dec],
            [i_soc, a * t, -d],
        )

    # ------------------------------------------------------------------ protocol
    def rhs(self, x: ArrayLike) -> FloatArray:
        """Tendencies dx/dt of T3 at states ``x`` (..., 4) [g C m⁻³ yr⁻¹]."""
        x = np.asarray(x, dtype=float)
        terms = self._terms(x)
        shape = np.broadcast_shapes(x.shape[:-1], self.batch_shape)
        return np.stack([np.broadcast_to(sum(t), shape) for t in terms], axis=-1)

    def flux_scale(self, x: ArrayLike) -> FloatArray:
        """Gross flux through each pool, Σ|terms| of T3 (..., 4) [g C m⁻³ yr⁻¹] (Eq. 4 of
        :mod:`wholesoil.models._nonlinear`)."""
        x = np.asarray(x, dtype=float)
        terms = self._terms(x)
        shape = np.broadcast_shapes(x.shape[:-1], self.batch_shape)
        return np.stack([np.broadcast_to(sum(np.abs(a) for a in t), shape) for t in terms], axis=-1)

    def jacobian(self, x: ArrayLike) -> FloatArray:
        """Analytic Jacobian ``J[..., r, c] = ∂(dx_r/dt)/∂x_c`` of T3 (..., 4, 4) [yr⁻¹]."""
        x = np.asarray(x, dtype=float)
        doc, mic, enz, soc = (x[..., i] for i in range(4))
        p, r = self.params, self._rates()
        ka, kd, va, vd = r["ka"], r["kd"], r["va"], r["vd"]
        with np.errstate(divide="ignore", invalid="ignore"):
            du_ddoc = va * mic * ka / (ka + doc) ** 2
            du_dmic = va * doc / (ka + doc)
            dd_dsoc = vd * enz * kd / (kd + soc) ** 2
            dd_denz = vd * soc / (kd + soc)
        dt_dmic = r["km"] * _odd_power_derivative(mic, p["mic_ref"], p["beta"])
        dp_dmic = r["kp"] * _odd_power_derivative(mic, p["mic_ref"], p["beta_enz"])
        ke, a, eta = r["ke"], p["a_soc_mic"], p["cue_doc"]
        shape = np.broadcast_shapes(x.shape[:-1], self.batch_shape)
        zero = np.zeros(shape)

        def full(v: ArrayLike) -> FloatArray:
            return np.broadcast_to(v, shape)

        rows = [
            [-du_ddoc, (1 - a) * dt_dmic - du_dmic, ke + dd_denz, dd_dsoc],
            [eta * du_ddoc, eta * du_dmic - dt_dmic - dp_dmic, zero, zero],
            [zero, dp_dmic, -ke, zero],
            [zero, a * dt_dmic, -dd_denz, -dd_dsoc],
        ]
        return np.stack([np.stack([full(c) for c in row], -1) for row in rows], -2)

    def closed_form(self, *, max_iter: int = 100) -> ClosedForm:
        """Steady state from T5–T7 (module docstring); MIC* of T6 by Newton on log MIC.

        For β = β_enz = 1 MIC* is explicit (Tao et al. (EarthArXiv) Eq. 9b) and no iteration is
        done.

        Returns
        -------
        ClosedForm
            States (batch_shape + (4,)) [g C m⁻³], NaN where no positive state exists.
        """
        p, r = self.params, self._rates()
        i_doc, i_mic, i_soc = self.inputs()
        eta = p["cue_doc"]
        i_tot = i_doc + i_mic + i_soc
        uptake = i_tot / (1.0 - eta)  # T5
        demand = i_mic + eta * uptake  # right side of T6
        m_ref, b, be = p["mic_ref"], p["beta"], p["beta_enz"]
        km, kp = r["km"], r["kp"]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            mic_linear = demand / (km + kp)  # T6 with β = β_enz = 1
            if np.all((b == 1.0) & (be == 1.0)):
                mic = mic_linear
            else:
                # Newton on F(u) = log(A e^{βu} + B e^{β_enz u}) − log R, u = log(MIC/MIC_ref):
                # F is convex and increasing, so Newton converges from any start.
                aa, bb = km * m_ref, kp * m_ref
                u = np.log(mic_linear / m_ref)
                for _ in range(max_iter):
                    ta, tb = aa * np.exp(b * u), bb * np.exp(be * u)
                    step = (np.log(ta + tb) - np.log(demand)) * (ta + tb) / (b * ta + be * tb)
                    u = u - step
                    if np.all(~(np.abs(step) > 1e-15)):
                        break
                mic = m_ref * np.exp(u)
            turnover = km * _odd_power(mic, m_ref, b)
            enz = kp * _odd_power(mic, m_ref, be) / r["ke"]  # T7
            supply = i_soc + p["a_soc_mic"] * turnover
            den_soc = r["vd"] * enz - supply
            soc = supply * r["kd"] / den_soc
            den_doc = r["va"] * mic - uptake
            doc = uptake * r["ka"] / den_doc
        exists = np.broadcast_to((i_tot > 0) & (den_soc > 0) & (den_doc > 0), self.batch_shape)
        state = np.stack(
            [np.broadcast_to(v, self.batch_shape) for v in (doc, mic, enz, soc)], axis=-1
        )
        return ClosedForm(np.where(exists[..., None], state, np.nan), exists.copy())

    def default_starts(self) -> FloatArray:
        """Starting points (4,) + batch_shape + (4,) for the robust solver [g C m⁻³].

        The state of T5–T7 (where it exists), two states with substrates and biomass pulled
        apart from it by a factor 2, and a generic state (DOC, SOC at 1 % of ξ·K_m, MIC and ENZ
        of T6–T7), NaN entries replaced by the generic one.
        """
        cf = self.closed_form().state
        r = self._rates()
        i_doc, i_mic, i_soc = self.inputs()
        eta = self.params["cue_doc"]
        with np.errstate(divide="ignore", invalid="ignore"):
            mic_gen = (i_mic + eta * (i_doc + i_soc)) / ((1 - eta) * (r["km"] + r["kp"]))
            mic_gen = np.where(mic_gen > 0, mic_gen, self.params["mic_ref"])
            enz_gen = r["kp"] / r["ke"] * mic_gen
        generic = np.stack(
            [
                np.broadcast_to(v, self.batch_shape)
                for v in (0.01 * r["ka"], mic_gen, enz_gen, 0.01 * r["kd"])
            ],
            axis=-1,
        )
        starts = np.stack(
            [
                cf,
                cf * np.array([2.0, 0.5, 0.5, 2.0]),
                cf * np.array([0.5, 2.0, 2.0, 0.5]),
                generic,
            ]
        )
        good = np.isfinite(starts) & (starts > 0)
        return np.where(good, starts, generic[None])

    def steady_state(
        self,
        *,
        x0s: ArrayLike | None = None,
        rtol: float = 1e-8,
        max_iter: int = 100,
    ) -> SteadyStateReport:
        """Steady states by the shared robust solver (:func:`find_steady_states`).

        Parameters
        ----------
        x0s : array_like, optional
            Starts (n_starts,) + batch_shape + (4,) [g C m⁻³]; default
            :meth:`default_starts`.
        rtol : float
            Relative residual ‖dx/dt‖/‖gross flux‖ accepted (Eq. 4 of ``_nonlinear``).
        max_iter : int
            Newton iterations per start.

        Returns
        -------
        SteadyStateReport
            Pools in g C m⁻³; status ``"ok"`` where the unique positive state exists and is
            stable, ``"unstable"`` where it is not stable, ``"no-convergence"`` where no
            positive state exists (the substrates grow without bound).
        """
        starts = self.default_starts() if x0s is None else np.asarray(x0s, dtype=float)
        starts = np.broadcast_to(starts, (starts.shape[0], *self.batch_shape, 4))
        return find_steady_states(
            self.rhs,
            self.jacobian,
            starts,
            rtol=rtol,
            max_iter=max_iter,
            positive=True,
            flux_scale=self.flux_scale,
        )

    def stocks(self, x: ArrayLike) -> FloatArray:
        """Pools as stocks [g C m⁻²]: ``x·depth`` (..., 4)."""
        return np.asarray(x, dtype=float) * self.depth[..., None]

    def soc(self, x: ArrayLike) -> FloatArray:
        """Total soil organic carbon DOC + MIC + ENZ + SOC [g C m⁻²] (..., )."""
        return np.sum(np.asarray(x, dtype=float), axis=-1) * self.depth

    def mineral_soc(self, x: ArrayLike) -> FloatArray:
        """Mineral-associated SOC pool alone [g C m⁻²] (..., )."""
        return np.asarray(x, dtype=float)[..., 3] * self.depth

    def simulate(
        self,
        x0: ArrayLike,
        years: float,
        *,
        t_eval: ArrayLike | None = None,
        rtol: float = 1e-8,
        atol: float = 1e-8,
    ) -> tuple[FloatArray, FloatArray]:
        """Transient integration of T3 (scipy ``solve_ivp``, BDF with the analytic Jacobian).

        One integration per batch element (a loop; transient runs only).

        Parameters
        ----------
        x0 : array_like, batch_shape + (4,) or (4,)
            Initial pools [g C m⁻³].
        years : float
            Length of the run [yr].
        t_eval : array_like, optional
            Output times [yr]; default 101 points over ``[0, years]``.
        rtol, atol : float
            Tolerances of ``solve_ivp`` (atol in g C m⁻³).

        Returns
        -------
        t : ndarray (n_t,)
            Output times [yr].
        x : ndarray, batch_shape + (n_t, 4)
            Pools [g C m⁻³].
        """
        from scipy.integrate import solve_ivp

        if not years > 0:
            raise InputDataError("expected years > 0", field="years", value=years)
        t = np.linspace(0.0, years, 101) if t_eval is None else np.asarray(t_eval, float)
        shape = self.batch_shape
        x0 = np.broadcast_to(np.asarray(x0, dtype=float), (*shape, 4))
        out = np.full((*shape, t.size, 4), np.nan)
        full = {n: np.broadcast_to(v, shape) for n, v in self.params.items()}
        xi = np.broadcast_to(self.xi, shape)
        depth = np.broadcast_to(self.depth, shape)
        for idx in np.ndindex(*shape):
            single = Tao2024Model(
                {n: float(v[idx]) for n, v in full.items()}, xi=xi[idx], depth=depth[idx]
            )
            sol = solve_ivp(
                lambda _t, y, m=single: m.rhs(y),
                (0.0, float(years)),
                x0[idx],
                method="BDF",
                jac=lambda _t, y, m=single: m.jacobian(y),
                t_eval=t,
                rtol=rtol,
                atol=atol,
            )
            if sol.success:
                out[idx] = sol.y.T
        return t, out

    def __repr__(self) -> str:
        changed = {
            n: v for n, v in self.params.items() if v.ndim or float(v) != PARAMETERS[n].default
        }
        return f"Tao2024Model(batch_shape={self.batch_shape}, changed={sorted(changed)})"
