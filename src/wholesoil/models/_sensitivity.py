"""Sensitivity of steady-state soil carbon to microbial CUE and carbon input (He et al. (2024)).

He et al. (2024) is a dispute about what controls soil organic carbon (SOC): microbial carbon use
efficiency (CUE) or carbon input. He et al. measure the answer with the *elasticity* of
steady-state SOC, the relative change of SOC per relative change of a knob, from ±10 %
perturbations, and show SOC surfaces over (β, CUE, NPP), z-scored per β panel (their Fig. 1).
This module does the three analyses for any model that follows the common model protocol:

* :func:`elasticity` — one-at-a-time elasticities by central differences (Eq. 1) with the
  one-sided values (Eqs. 2–3), batched over base configurations;
* :func:`grid_response` / :func:`zscore_by` — full-factorial
  grids and the z-scores of the panels of He et al. (2024) Fig. 1 (Eq. 4; drawn by
  :func:`wholesoil.plots.plot_response_surfaces`), with every state whose solver status
  is not ``"ok"`` masked, never plotted;
* :func:`sobol_indices` — variance-based global indices (Sobol' 2001; Saltelli et al. 2010)
  from SALib's Sobol' sampling and its bootstrap confidence intervals.

Model protocol
--------------
A *model factory* is any callable ``factory(overrides) -> model`` that takes a mapping of
parameter names to values (floats or arrays that broadcast to a batch shape) and returns an
object with

* ``steady_state(**kw)`` returning a report with ``state`` (..., n_pools) and ``status`` (...)
  (``"ok"``, ``"multiple"``, ``"unstable"``, ``"non-positive"``, ``"no-convergence"``; see
  ``wholesoil.models._nonlinear``), optionally ``residual`` (...);
* ``soc(state)`` → total SOC (...) [g C m⁻²];
* ``SENSITIVITY_KNOBS = {"cue": names, "input": names}``, naming the parameter(s) that a knob
  scales together (MIMICS: its four CUE values; litter input(s)). A knob that is not listed is
  taken to be a parameter name itself, so ``elasticity(factory, "beta")`` works too.

A model class whose constructor takes ``params`` as its first argument is itself a factory;
forcing is bound with a closure, ``lambda p: MIMICS(p, forcing=f)``. The base value of a knob's
parameter is, in this order: the value in ``base``; ``model.params[name]`` (a mapping) or
``model.params.name`` (a parameter object); an attribute ``model.name`` that is not callable;
``model.PARAMETERS[name].default`` (or ``.value``).

Equations
---------
With S(p) the steady-state SOC at the knob's parameters multiplied by p and δ the relative step::

    E   = (S(1 + δ) − S(1 − δ)) / (2·δ·S(1))                                        (Eq. 1)
    E_+ = (S(1 + δ) − S(1)) / (δ·S(1))                                              (Eq. 2)
    E_− = (S(1) − S(1 − δ)) / (δ·S(1))                                              (Eq. 3)
    z   = (S − mean_panel(S)) / sd_panel(S)   over the "ok" states of one β panel    (Eq. 4)

E is the mean of E_+ and E_−; for S ∝ p (a linear first-order model and its input) all three
are 1, and for S independent of p (the Tao et al. structure and its mineral SOC) all are 0.

References
----------
He, X. et al. and Tao, F. et al. (2024), Matters arising and reply on microbial carbon use
efficiency and soil carbon (He et al. (2024)), Fig. 1 and the ±10 % sensitivities (1.3/0.48/0.73 to
CUE; 0/0.52/0.34 to input).

Sobol', I. M. (2001). Global sensitivity indices for nonlinear mathematical models and their
Monte Carlo estimates. Math. Comput. Simul. 55, 271–280.
https://doi.org/10.1016/S0378-4754(00)00270-6

Saltelli, A. et al. (2010). Variance based sensitivity analysis of model output. Design and
estimator for the total sensitivity index. Comput. Phys. Commun. 181, 259–270.
https://doi.org/10.1016/j.cpc.2009.09.018

Herman, J. & Usher, W. (2017). SALib: an open-source Python library for sensitivity analysis.
J. Open Source Softw. 2(9), 97. https://doi.org/10.21105/joss.00097

Ishigami, T. & Homma, T. (1990). An importance quantification technique in uncertainty analysis
for computer models. Proc. ISUMA '90, 398–403. https://doi.org/10.1109/ISUMA.1990.151285

He, X., Abramoff, R. Z., Abs, E., Georgiou, K., Zhang, H. & Goll, D. S. (2024). Model uncertainty
obscures major driver of soil carbon. Nature. https://doi.org/10.1038/s41586-023-06999-1
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError

__all__ = [
    "DEFAULT_DELTA",
    "ElasticityResult",
    "KnobScale",
    "ModelFactory",
    "SensitivityModel",
    "SteadyStateReportLike",
    "elasticity",
    "elasticity_table",
    "grid_response",
    "knob_parameters",
    "sobol_indices",
    "soc_function",
    "zscore_by",
]

#: Relative step of He et al.'s (2024) sensitivity measure: ±10 % of CUE or of carbon input.
DEFAULT_DELTA: float = 0.1

#: How grid and Sobol values of a *knob* are read: ``"relative"`` multiplies the knob's base
#: parameter value(s) (1 = base); ``"absolute"`` sets every parameter of the knob to the value.
#: Values of plain parameters (not knobs, e.g. ``beta``) are always absolute.
KnobScale = Literal["relative", "absolute"]

_OK = "ok"


@runtime_checkable
class SteadyStateReportLike(Protocol):
    """What :func:`elasticity` and :func:`grid_response` read from ``steady_state()``."""

    state: Any  # (..., n_pools), NaN unless status is "ok"
    status: Any  # (...) str


@runtime_checkable
class SensitivityModel(Protocol):
    """The part of the common model protocol the sensitivity analyses use."""

    SENSITIVITY_KNOBS: Mapping[str, str | Sequence[str]]

    def steady_state(self, **kw: Any) -> SteadyStateReportLike: ...

    def soc(self, x: Any) -> Any: ...


#: ``factory(overrides) -> model``: overrides map parameter names to floats or arrays.
ModelFactory = Callable[[Mapping[str, ArrayLike]], SensitivityModel]


# ---------------------------------------------------------------------------- protocol plumbing
def knob_parameters(model: Any, knob: str) -> tuple[str, ...]:
    """Parameter name(s) a knob scales: ``model.SENSITIVITY_KNOBS[knob]``, else ``(knob,)``.

    Parameters
    ----------
    model : object or factory
        Anything with a ``SENSITIVITY_KNOBS`` mapping (a model, its class); without one every
        knob is a parameter name.
    knob : str
        ``"cue"``, ``"input"`` or a parameter name.
    """
    knobs = getattr(model, "SENSITIVITY_KNOBS", None) or {}
    names = knobs.get(knob, knob)
    names = (names,) if isinstance(names, str) else tuple(names)
    if not names or not all(isinstance(n, str) for n in names):
        raise InputDataError(
            f"SENSITIVITY_KNOBS[{knob!r}] must name one or more parameters",
            field="SENSITIVITY_KNOBS", value=names,
        )
    return names


def _base_value(model: Any, name: str, base: Mapping[str, ArrayLike]) -> NDArray[np.float64]:
    """Base value of one parameter (module docstring, "Model protocol", for the order)."""
    if name in base:
        return np.asarray(base[name], dtype=float)
    for attr in ("params", "parameters"):
        p = getattr(model, attr, None)
        if p is None or callable(p):
            continue
        if isinstance(p, Mapping):
            if name in p and p[name] is not None:
                return np.asarray(p[name], dtype=float)
        elif getattr(p, name, None) is not None:
            return np.asarray(getattr(p, name), dtype=float)
    v = getattr(model, name, None)
    if v is not None and not callable(v):
        return np.asarray(v, dtype=float)
    info = (getattr(model, "PARAMETERS", None) or {}).get(name)
    for f in ("default", "value"):
        v = getattr(info, f, None)
        if v is not None:
            return np.asarray(v, dtype=float)
    raise InputDataError(
        f"cannot find the base value of parameter {name!r}: give it in base, or expose it as "
        "model.params[name], model.params.name, model.name or PARAMETERS[name].default",
        field=name,
    )


def _solve(model: Any, steady_state_kw: Mapping[str, Any] | None
           ) -> tuple[NDArray[np.float64], NDArray[np.str_], Any]:
    """Steady-state SOC (NaN unless "ok") and status, both of the model's batch shape."""
    report = model.steady_state(**dict(steady_state_kw or {}))
    status = np.asarray(report.status).astype(str)
    soc = np.asarray(model.soc(report.state), dtype=float)
    shape = np.broadcast_shapes(soc.shape, status.shape)
    soc = np.broadcast_to(soc, shape).copy()
    status = np.broadcast_to(status, shape).copy()
    soc[status != _OK] = np.nan
    return soc, status, report


def _check_delta(delta: float) -> float:
    d = float(delta)
    if not (0.0 < d < 1.0):
        raise InputDataError("delta must be in (0, 1) (relative step, e.g. 0.1 for ±10 %)",
                             field="delta", value=delta)
    return d


def _scaled(value: NDArray[np.float64], factor: ArrayLike) -> NDArray[np.float64]:
    """``factor`` (n,) or scalar times a base value; a vector value gets the factor leading."""
    f = np.asarray(factor, dtype=float)
    if f.ndim == 0 or value.ndim == 0:
        return f * value
    return f.reshape(f.shape + (1,) * value.ndim) * value


# ---------------------------------------------------------------------------- elasticities
@dataclass(frozen=True)
class ElasticityResult:
    """Elasticities of steady-state SOC to one knob (Eqs. 1–3), over the base batch shape.

    Attributes
    ----------
    knob : str
    parameters : tuple of str
        The parameter(s) scaled together.
    delta : float
        Relative step δ.
    central, plus, minus : array (...)
        E (Eq. 1), E_+ (Eq. 2), E_− (Eq. 3); NaN where any of the three states is not "ok".
    soc_minus, soc_base, soc_plus : array (...) [g C m⁻²]
        Steady-state SOC at 1 − δ, 1, 1 + δ (NaN where not "ok").
    status_minus, status_base, status_plus : array (...) of str
    ok : array (...) of bool
        All three states "ok".
    n_not_ok : int
        Batch elements with NaN elasticities.
    labels : dict
        Base overrides that are scalars or of the batch shape (columns of :meth:`to_frame`).
    """

    knob: str
    parameters: tuple[str, ...]
    delta: float
    central: NDArray[np.float64]
    plus: NDArray[np.float64]
    minus: NDArray[np.float64]
    soc_minus: NDArray[np.float64]
    soc_base: NDArray[np.float64]
    soc_plus: NDArray[np.float64]
    status_minus: NDArray[np.str_]
    status_base: NDArray[np.str_]
    status_plus: NDArray[np.str_]
    ok: NDArray[np.bool_]
    n_not_ok: int
    labels: dict[str, NDArray] = field(default_factory=dict)

    def to_frame(self, labels: Mapping[str, ArrayLike] | None = None) -> pd.DataFrame:
        """Tidy table, one row per base configuration.

        Columns: the labels (``self.labels`` updated by ``labels``, each a scalar or of the batch
        shape), ``batch_index`` (flat position), ``knob``, ``delta``, ``elasticity``,
        ``elasticity_plus``, ``elasticity_minus``, ``soc``, ``soc_minus``, ``soc_plus``,
        ``status``, ``status_minus``, ``status_plus``.
        """
        shape = self.central.shape
        n = int(np.prod(shape, dtype=int))
        cols: dict[str, Any] = {}
        for k, v in {**self.labels, **dict(labels or {})}.items():
            a = np.asarray(v)
            if a.ndim and a.shape != shape:
                raise InputDataError(f"label {k!r} must be a scalar or of the batch shape {shape}",
                                     field=k, value=a.shape)
            cols[k] = np.broadcast_to(a, shape).reshape(n)
        cols.update(
            batch_index=np.arange(n), knob=self.knob, delta=self.delta,
            elasticity=self.central.reshape(n), elasticity_plus=self.plus.reshape(n),
            elasticity_minus=self.minus.reshape(n), soc=self.soc_base.reshape(n),
            soc_minus=self.soc_minus.reshape(n), soc_plus=self.soc_plus.reshape(n),
            status=self.status_base.reshape(n), status_minus=self.status_minus.reshape(n),
            status_plus=self.status_plus.reshape(n),
        )
        return pd.DataFrame(cols)


def elasticity(
    model_factory: ModelFactory,
    knob: str,
    *,
    delta: float = DEFAULT_DELTA,
    base: Mapping[str, ArrayLike] | None = None,
    steady_state_kw: Mapping[str, Any] | None = None,
) -> ElasticityResult:
    """Elasticity of steady-state SOC to a knob by ±δ central differences (He et al. (2024); Eqs.
    1–3).

    He et al.'s (2024) measure: the knob's parameter(s) are multiplied by 1 − δ, 1 and 1 + δ (all of
    a vector knob together, e.g. MIMICS's four CUE values), the model is solved at each, and
    ``E = (S(1 + δ) − S(1 − δ)) / (2·δ·S(1))`` (Eq. 1) with the one-sided values (Eqs. 2–3).
    The three solves are batched over the base configurations (the broadcast of ``base``).

    Parameters
    ----------
    model_factory : callable
        ``factory(overrides) -> model`` (module docstring, "Model protocol").
    knob : str
        ``"cue"``, ``"input"`` (via ``SENSITIVITY_KNOBS``) or a parameter name.
    delta : float, default 0.1
        Relative step δ in (0, 1).
    base : mapping, optional
        Overrides defining the base configuration(s); arrays broadcast to the batch shape.
    steady_state_kw : mapping, optional
        Keyword arguments of ``model.steady_state``.

    Returns
    -------
    ElasticityResult
        NaN where any of the three states is not "ok"; their number is ``n_not_ok``.

    Raises
    ------
    InputDataError
        ``delta`` outside (0, 1); a knob parameter whose base value cannot be found; and
        whatever the model raises for a perturbed value outside its valid range (CUE ≥ 1 …).
    """
    d = _check_delta(delta)
    base = dict(base or {})
    model0 = model_factory(base)
    names = knob_parameters(model0, knob)
    values = {n: _base_value(model0, n, base) for n in names}
    s0, st0, _ = _solve(model0, steady_state_kw)
    sp, stp, _ = _solve(model_factory({**base, **{n: v * (1 + d) for n, v in values.items()}}),
                        steady_state_kw)
    sm, stm, _ = _solve(model_factory({**base, **{n: v * (1 - d) for n, v in values.items()}}),
                        steady_state_kw)
    shape = np.broadcast_shapes(s0.shape, sp.shape, sm.shape)
    s0, sp, sm = (np.broadcast_to(a, shape) for a in (s0, sp, sm))
    st0, stp, stm = (np.broadcast_to(a, shape) for a in (st0, stp, stm))
    ok = (st0 == _OK) & (stp == _OK) & (stm == _OK) & np.isfinite(s0) & (s0 != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        central = np.where(ok, (sp - sm) / (2 * d * s0), np.nan)
        plus = np.where(ok, (sp - s0) / (d * s0), np.nan)
        minus = np.where(ok, (s0 - sm) / (d * s0), np.nan)
    labels = {}
    for k, v in base.items():
        a = np.asarray(v)
        if a.dtype.kind in "biuf" and (a.ndim == 0 or a.shape == shape):
            labels[k] = a
    return ElasticityResult(
        knob=knob, parameters=names, delta=d, central=central, plus=plus, minus=minus,
        soc_minus=np.array(sm), soc_base=np.array(s0), soc_plus=np.array(sp),
        status_minus=np.array(stm), status_base=np.array(st0), status_plus=np.array(stp),
        ok=ok, n_not_ok=int(np.count_nonzero(~ok)), labels=labels,
    )


def elasticity_table(
    model_factory: ModelFactory,
    knobs: Sequence[str] = ("cue", "input"),
    *,
    delta: float = DEFAULT_DELTA,
    base: Mapping[str, ArrayLike] | None = None,
    labels: Mapping[str, ArrayLike] | None = None,
    steady_state_kw: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """:func:`elasticity` for several knobs, stacked into one tidy table (rows knob × batch).

    ``labels`` (scalars or of the batch shape, e.g. ``{"model": "MIMICS"}``) are added as
    columns; see :meth:`ElasticityResult.to_frame` for the others.
    """
    frames = [
        elasticity(model_factory, k, delta=delta, base=base,
                   steady_state_kw=steady_state_kw).to_frame(labels)
        for k in knobs
    ]
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------- grids
def _evaluate(
    model_factory: ModelFactory,
    values: Mapping[str, NDArray[np.float64]],
    *,
    base: Mapping[str, ArrayLike],
    knob_scale: KnobScale,
    steady_state_kw: Mapping[str, Any] | None,
    model0: Any,
) -> tuple[NDArray[np.float64], NDArray[np.str_], NDArray[np.float64] | None]:
    """SOC, status and (if reported) residual at points ``values`` (each (n,)), one solve."""
    overrides: dict[str, ArrayLike] = dict(base)
    for key, v in values.items():
        knobs = getattr(model0, "SENSITIVITY_KNOBS", None) or {}
        if key in knobs:
            for name in knob_parameters(model0, key):
                if knob_scale == "relative":
                    overrides[name] = _scaled(_base_value(model0, name, base), v)
                else:
                    b = _base_value(model0, name, base)
                    overrides[name] = _scaled(np.ones_like(b), v)
        else:
            overrides[key] = v
    model = model_factory(overrides)
    soc, status, report = _solve(model, steady_state_kw)
    return soc, status, _reported_residual(report, soc.shape)


def _reported_residual(report: Any, shape: tuple[int, ...]) -> NDArray[np.float64] | None:
    """Relative residual of the reported state, (batch), NaN where none; None if not given.

    ``residual`` of the batch shape is taken as is; of shape batch + (k,) (one per distinct
    state, ``_nonlinear.SteadyStateReport``) the entry of the state in ``states`` equal to
    ``state`` is taken.
    """
    residual = getattr(report, "residual", None)
    if residual is None:
        return None
    r = np.asarray(residual, dtype=float)
    if r.shape == shape:
        return r
    states = getattr(report, "states", None)
    if states is None or r.shape[:-1] != shape:
        return None
    states = np.asarray(states, dtype=float)
    state = np.asarray(report.state, dtype=float)
    if states.shape[:-1] != r.shape or state.shape != (*shape, states.shape[-1]):
        return None
    with np.errstate(invalid="ignore"):
        dist = np.abs(states - state[..., None, :]).max(axis=-1)
    dist = np.where(np.isfinite(dist), dist, np.inf)
    idx = np.argmin(dist, axis=-1)
    out = np.take_along_axis(r, idx[..., None], axis=-1)[..., 0]
    return np.where(np.isfinite(dist.min(axis=-1, initial=np.inf)), out, np.nan)


def grid_response(
    model_factory: ModelFactory,
    grid: Mapping[str, Sequence[float] | ArrayLike],
    *,
    base: Mapping[str, ArrayLike] | None = None,
    knob_scale: KnobScale = "relative",
    steady_state_kw: Mapping[str, Any] | None = None,
    chunk_size: int | None = None,
) -> pd.DataFrame:
    """Steady-state SOC over a full-factorial grid, e.g. (β, CUE, input) of He et al. (2024) Fig. 1.

    Every grid point is one element of a batched solve (in chunks of ``chunk_size`` points),
    no loop over points.

    Parameters
    ----------
    model_factory : callable
        ``factory(overrides) -> model`` (module docstring, "Model protocol").
    grid : mapping name → 1-D values
        Axes of the grid, e.g. ``{"beta": [1, 1.5, 2], "cue": [...], "input": [...]}``. Knob
        names (``"cue"``, ``"input"``) are read by ``knob_scale``; other names are parameter
        values.
    base : mapping, optional
        One base configuration (scalars, or the vectors of vector parameters); to vary a site
        variable, make it a grid axis.
    knob_scale : {"relative", "absolute"}, default "relative"
        Knob values as multipliers of the base value(s) (1 = base) or as the value itself.
    steady_state_kw : mapping, optional
        Keyword arguments of ``model.steady_state``.
    chunk_size : int, optional
        Points per solve (default: all at once).

    Returns
    -------
    pandas.DataFrame
        One row per point: the grid columns (values as given), ``<knob>_value`` for a knob with
        one parameter and a scalar base value under ``knob_scale="relative"`` (the parameter's
        value), ``soc`` [g C m⁻², NaN unless ok], ``status`` and ``residual`` when the report
        has one per point. ``attrs["knob_scale"]`` records the scale.
    """
    if not grid:
        raise InputDataError("grid must have at least one axis", field="grid")
    if knob_scale not in ("relative", "absolute"):
        raise InputDataError("knob_scale must be 'relative' or 'absolute'", field="knob_scale",
                             value=knob_scale)
    axes = {}
    for k, v in grid.items():
        a = np.asarray(v, dtype=float)
        if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)):
            raise InputDataError(f"grid axis {k!r} must be a non-empty 1-D array of finite numbers",
                                 field=k, value=v)
        axes[k] = a
    base = dict(base or {})
    model0 = model_factory(base)
    mesh = np.meshgrid(*axes.values(), indexing="ij")
    points = {k: m.ravel() for k, m in zip(axes, mesh, strict=True)}
    n = mesh[0].size
    step = n if chunk_size is None else int(chunk_size)
    if step < 1:
        raise InputDataError("chunk_size must be >= 1", field="chunk_size", value=chunk_size)
    soc = np.empty(n)
    status = np.empty(n, dtype=object)
    residual = np.full(n, np.nan)
    has_residual = False
    for lo in range(0, n, step):
        sl = slice(lo, min(lo + step, n))
        s, st, r = _evaluate(model_factory, {k: v[sl] for k, v in points.items()}, base=base,
                             knob_scale=knob_scale, steady_state_kw=steady_state_kw,
                             model0=model0)
        if s.shape != (sl.stop - sl.start,):
            raise InputDataError(
                "the model's batch shape must be the grid's (one element per point); "
                f"got SOC of shape {s.shape} for {sl.stop - sl.start} points (is a base value "
                "batched?)", field="base", value=s.shape,
            )
        soc[sl], status[sl] = s, st
        if r is not None:
            residual[sl] = r
            has_residual = True
    out = pd.DataFrame(points)
    knobs = getattr(model0, "SENSITIVITY_KNOBS", None) or {}
    if knob_scale == "relative":
        for k in axes:
            if k in knobs and len(knob_parameters(model0, k)) == 1:
                b = _base_value(model0, knob_parameters(model0, k)[0], base)
                if b.ndim == 0:
                    out[f"{k}_value"] = points[k] * float(b)
    out["soc"] = soc
    out["status"] = status.astype(str)
    if has_residual:
        out["residual"] = residual
    out.attrs["knob_scale"] = knob_scale
    return out


def zscore_by(
    frame: pd.DataFrame,
    by: str | Sequence[str] = "beta",
    value: str = "soc",
    *,
    status: str | None = "status",
    out: str | None = None,
    ddof: int = 0,
) -> pd.DataFrame:
    """Z-score a column within groups (Eq. 4), as He et al. (2024) Fig. 1 standardizes each β panel.

    Only rows with ``status == "ok"`` (and a finite value) enter the mean and the standard
    deviation; the others get NaN. A group whose ok values are all equal gets z = 0.

    Parameters
    ----------
    frame : pandas.DataFrame
        E.g. the output of :func:`grid_response`.
    by : str or list of str, default "beta"
        Panel column(s).
    value : str, default "soc"
    status : str or None, default "status"
        Status column; None treats every finite value as ok.
    out : str, optional
        Name of the new column (default ``"z_" + value``).
    ddof : int, default 0
        Delta degrees of freedom of the standard deviation (0: population, as
        ``scipy.stats.zscore``; 1: R's ``scale``).

    Returns
    -------
    pandas.DataFrame
        A copy with the z column added.
    """
    res = frame.copy()
    v = res[value].astype(float)
    ok = np.isfinite(v.to_numpy())
    if status is not None:
        ok &= (res[status].astype(str) == _OK).to_numpy()
    vo = v.where(ok)
    keys = [by] if isinstance(by, str) else list(by)
    g = vo.groupby([res[k] for k in keys], dropna=False)
    mean = g.transform("mean")
    sd = g.transform(lambda s: s.std(ddof=ddof))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sd.to_numpy() > 0, (vo - mean).to_numpy() / sd.to_numpy(), 0.0)
    z = np.where(ok, z, np.nan)
    res[out or f"z_{value}"] = z
    return res


# ---------------------------------------------------------------------------- Sobol indices
def sobol_indices(
    f: Callable[[Any], ArrayLike],
    bounds: Mapping[str, tuple[float, float]],
    *,
    n: int = 1024,
    seed: int = 0,
    second_order: bool = False,
    num_resamples: int = 100,
    conf_level: float = 0.95,
    as_frame: bool = True,
) -> pd.DataFrame:
    """First-order and total Sobol' indices of ``f`` over uniform ``bounds``, with SALib.

    Sobol' quasi-random samples (scrambled, ``SALib.sample.sobol``, N·(d + 2) points, or
    N·(2d + 2) with second order) are evaluated in one vectorized call of ``f``; the indices
    are Saltelli et al. (2010)'s estimators with bootstrap confidence intervals
    (``SALib.analyze.sobol``).

    Parameters
    ----------
    f : callable
        ``f(samples) -> (n_samples,)``; ``samples`` a DataFrame with one column per name of
        ``bounds`` (or an array (n_samples, d) with ``as_frame=False``). Every output must be
        finite (for model output: bounds where every state is "ok").
    bounds : mapping name → (low, high)
        Uniform ranges, low < high.
    n : int, default 1024
        Base sample size N, a power of 2 (balance of the Sobol' sequence).
    seed : int, default 0
        Seed of the scrambling and of the bootstrap.
    second_order : bool, default False
        Also compute S2.
    num_resamples : int, default 100
        Bootstrap resamples.
    conf_level : float, default 0.95
    as_frame : bool, default True

    Returns
    -------
    pandas.DataFrame
        ``parameter, S1, S1_conf, ST, ST_conf`` (conf: half-width of the confidence interval);
        with ``second_order`` also ``S2:<name>`` and ``S2_conf:<name>`` (upper triangle, NaN
        elsewhere).

    Raises
    ------
    InputDataError
        Empty bounds, low ≥ high or non-finite, n not a power of 2, f's output of the wrong
        shape or not finite.
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    if not bounds:
        raise InputDataError("bounds must name at least one parameter", field="bounds")
    names = list(bounds)
    b = []
    for k in names:
        lo, hi = (float(v) for v in bounds[k])
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise InputDataError(f"bounds of {k!r} must be finite with low < high", field=k,
                                 value=bounds[k])
        b.append([lo, hi])
    n = int(n)
    if n < 2 or n & (n - 1):
        raise InputDataError("n must be a power of 2 (>= 2) for Sobol' sampling", field="n",
                             value=n)
    problem = {"num_vars": len(names), "names": names, "bounds": b}
    x = sobol_sample.sample(problem, n, calc_second_order=second_order, seed=seed)
    y = np.asarray(f(pd.DataFrame(x, columns=names) if as_frame else x), dtype=float)
    if y.shape != (x.shape[0],):
        y = y.reshape(-1) if y.size == x.shape[0] else y
    if y.shape != (x.shape[0],):
        raise InputDataError(f"f must return one value per sample ({x.shape[0]})", field="f",
                             value=y.shape)
    bad = ~np.isfinite(y)
    if np.any(bad):
        raise InputDataError(
            f"f returned {int(bad.sum())} non-finite values of {y.size} (states not ok?); "
            "narrow the bounds", field="f", value=int(bad.sum()),
        )
    # SALib 1.6 tests ``if seed:`` and falls back to the global numpy state for seed = 0; a
    # Generator is always truthy and ``default_rng`` passes it through.
    res = sobol_analyze.analyze(problem, y, calc_second_order=second_order,
                                num_resamples=num_resamples, conf_level=conf_level,
                                print_to_console=False, seed=np.random.default_rng(seed))
    out = pd.DataFrame({"parameter": names, "S1": res["S1"], "S1_conf": res["S1_conf"],
                        "ST": res["ST"], "ST_conf": res["ST_conf"]})
    if second_order:
        for j, nm in enumerate(names):
            out[f"S2:{nm}"] = np.asarray(res["S2"], dtype=float)[:, j]
            out[f"S2_conf:{nm}"] = np.asarray(res["S2_conf"], dtype=float)[:, j]
    return out


def soc_function(
    model_factory: ModelFactory,
    *,
    base: Mapping[str, ArrayLike] | None = None,
    knob_scale: KnobScale = "relative",
    steady_state_kw: Mapping[str, Any] | None = None,
) -> Callable[[pd.DataFrame], NDArray[np.float64]]:
    """A vectorized ``f(samples) -> SOC`` for :func:`sobol_indices` from a model factory.

    Each column of ``samples`` is a knob (read by ``knob_scale``) or a parameter; all rows are
    solved in one batched call. SOC is NaN where the state is not "ok".
    """
    base = dict(base or {})
    if knob_scale not in ("relative", "absolute"):
        raise InputDataError("knob_scale must be 'relative' or 'absolute'", field="knob_scale",
                             value=knob_scale)
    model0 = model_factory(base)

    def f(samples: pd.DataFrame) -> NDArray[np.float64]:
        values = {str(c): samples[c].to_numpy(float) for c in samples.columns}
        soc, _, _ = _evaluate(model_factory, values, base=base, knob_scale=knob_scale,
                              steady_state_kw=steady_state_kw, model0=model0)
        return soc

    return f
