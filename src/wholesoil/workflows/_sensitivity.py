"""The job behind ``wholesoil sensitivity``: He et al.'s (2024) CUE-versus-input question.

For MIMICS (Wieder et al. 2015), Millennial v2 (Abramoff et al. 2022) and Tao et al.'s reply
model, at He et al.'s (2024) conditions (MAT 20 °C, clay 20 %, litter lignin:N 10) by default:

* elasticities of steady-state SOC to ±``delta`` changes of CUE and of carbon input, for every
  microbial turnover exponent β asked for (He et al.'s (2024) measure: (SOC(+δ) − SOC(−δ)) /
  (2δ·SOC));
* SOC over a (β, CUE, input) grid, z-scored per β panel as in He et al. (2024) Fig. 1, as a table
  and a figure in which states that are not positive and stable are masked, never drawn;
* optionally Sobol indices (Saltelli sampling, SALib) of SOC over CUE, input and β ranges.

Every state reported passed the robust steady-state check (residual ≤ 1e-8 relative, stability
from the Jacobian's eigenvalues); the rest are NaN and counted.

References
----------
He, X., Abramoff, R. Z., Abs, E., Georgiou, K., Zhang, H. & Goll, D. S. (2024). Model uncertainty
obscures major driver of soil carbon. Nature. https://doi.org/10.1038/s41586-023-06999-1
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from wholesoil._atomic import save_figure
from wholesoil._record import write_run_record
from wholesoil.errors import InputDataError
from wholesoil.io._write import write_table
from wholesoil.progress import step
from wholesoil.workflows._jobs import JobResult

#: He et al. (2024) Fig. 1 conditions: "mean annual temperature of 20 °C, soil clay content of 20 %
#: and litter lignin-to-nitrogen ratio of 10"; ANPP 400 g C m⁻² yr⁻¹ (an illustrative input level;
#: the figure varies it).
SEED002_CONDITIONS = {"mat": 20.0, "clay": 20.0, "lignin_n": 10.0, "anpp": 400.0}
SENSITIVITY_MODELS = ("mimics", "millennial", "tao2024", "awb")
#: Exponent knob of each model: β on microbial turnover (all four models).
BETA_PARAMETER = {"mimics": "beta", "millennial": "beta", "tao2024": "beta", "awb": "beta"}
#: Models with an enzyme-production exponent β_enz (Tao et al.'s and the Allison, Wallenstein
#: & Bradford 2010 model, the one He et al. used for their six sensitivities).
BETA_ENZ_MODELS = ("tao2024", "awb")


def model_factory(model: str, conditions: Mapping[str, float] | None = None
                  ) -> Callable[[Mapping[str, Any]], Any]:
    """``overrides → model`` at the given site conditions (defaults: :data:`SEED002_CONDITIONS`)."""
    c = {**SEED002_CONDITIONS, **(conditions or {})}
    if model == "mimics":
        from wholesoil.models._mimics import MIMICS

        return lambda p: MIMICS(p, anpp=c["anpp"], mat=c["mat"], clay=c["clay"],
                                lignin_n=c["lignin_n"])
    if model == "millennial":
        from wholesoil.models._millennial import Millennial, clay_silt_from_clay

        # Millennial's texture input is clay + silt: the site's clay plus the silt of the
        # reference code's texture series (clay 20 % -> clay + silt 60 %)
        clay_silt = float(clay_silt_from_clay(c["clay"]))
        return lambda p: Millennial(p, temperature=c["mat"], clay_silt=clay_silt)
    if model == "tao2024":
        from wholesoil.models._tao2024 import Tao2024Model

        return lambda p: Tao2024Model(p)
    if model == "awb":
        from wholesoil.models._awb import AWBModel

        return lambda p: AWBModel(p, temperature=c["mat"])
    raise InputDataError(f"model must be one of {list(SENSITIVITY_MODELS)}", field="model",
                         value=model)


def sensitivity_job(
    out: str | Path,
    *,
    model: str = "mimics",
    vary: Sequence[str] = ("cue", "input"),
    betas: Sequence[float] = (1.0, 1.5, 2.0),
    delta: float = 0.1,
    grid_points: int = 9,
    grid_range: tuple[float, float] = (0.8, 1.2),
    conditions: Mapping[str, float] | None = None,
    sobol: bool = False,
    sobol_n: int = 256,
    seed: int = 0,
    beta_enz: float = 1.0,
) -> JobResult:
    """Elasticities, (β, CUE, input) response surfaces and optional Sobol indices.

    Parameters
    ----------
    out : path
        Output folder: ``tables/elasticities.csv``, ``tables/grid.csv`` (SOC, status, z-score),
        ``figures/elasticities.png``, ``figures/surfaces.png``, optionally
        ``tables/sobol.csv``, and ``run.json``.
    model : {"mimics", "millennial", "tao2024", "awb"}
        ``awb``: Allison, Wallenstein & Bradford (2010), He et al.'s model for their six
        sensitivities (SOC pool in mg C cm⁻³; temperature from ``conditions["mat"]``).
    vary : sequence of {"cue", "input"}
        Knobs perturbed by ±``delta`` (relative) for the elasticities.
    betas : sequence of float
        Microbial turnover exponents β (1: classic; > 1: density dependent).
    grid_points, grid_range
        The response grid spans ``grid_range`` × the base CUE and input in ``grid_points``
        steps per axis.
    conditions : mapping, optional
        Site conditions overriding :data:`SEED002_CONDITIONS` (mat, clay, lignin_n, anpp).
    beta_enz : float, default 1
        Enzyme-production exponent β_enz (> 0) for ``tao2024`` and ``awb``; other models
        accept only 1.
    sobol, sobol_n
        Sobol indices of SOC over CUE and input in ``grid_range`` and β over the span of
        ``betas`` (first-order and total, with bootstrap confidence), 2·(d+1)·``sobol_n`` runs.
    """
    from wholesoil.models._sensitivity import (
        elasticity_table,
        grid_response,
        sobol_indices,
        soc_function,
        zscore_by,
    )
    from wholesoil.plots.models import (
        plot_elasticities,
        plot_response_surfaces,
    )

    t0 = time.perf_counter()
    out = Path(out)
    inner = model_factory(model, conditions)
    if not float(beta_enz) > 0:
        raise InputDataError("β_enz must be > 0", field="beta_enz", value=beta_enz)
    if float(beta_enz) != 1.0 and model not in BETA_ENZ_MODELS:
        raise InputDataError(f"--beta-enz applies to {list(BETA_ENZ_MODELS)} only",
                             field="beta_enz", value=beta_enz)

    def factory(p: Mapping[str, Any]) -> Any:
        if model in BETA_ENZ_MODELS:
            p = {"beta_enz": float(beta_enz), **p}
        return inner(p)

    unknown = sorted(set(vary) - {"cue", "input"})
    if unknown:
        raise InputDataError("--vary takes cue and/or input", field="vary", value=unknown)
    b = np.asarray(betas, dtype=float)
    if b.size == 0:
        raise InputDataError("give at least one exponent β", field="beta")
    if not 0.0 < float(delta) < 1.0:
        raise InputDataError("delta must be in (0, 1), e.g. 0.1", field="delta", value=delta)
    bname = BETA_PARAMETER[model]
    with step(f"{model} elasticities ({len(vary)} knobs × {b.size} β)", stage="sensitivity"):
        el = elasticity_table(factory, knobs=tuple(vary), delta=delta, base={bname: b})
    el.insert(0, "model", model)
    lo, hi = grid_range
    mult = np.linspace(lo, hi, int(grid_points))
    with step(f"{model} response grid ({b.size * mult.size ** 2} states)",
              stage="sensitivity-grid"):
        grid = grid_response(factory, {bname: b.tolist(), "cue": mult.tolist(),
                                       "input": mult.tolist()})
    grid = zscore_by(grid, by=bname, value="soc")
    grid.insert(0, "model", model)
    outputs = {
        "elasticities": write_table(el, out / "tables" / "elasticities.csv"),
        "grid": write_table(grid, out / "tables" / "grid.csv"),
        "figure_elasticities": save_figure(plot_elasticities(el),
                                           out / "figures" / "elasticities.png"),
        "figure_surfaces": save_figure(
            plot_response_surfaces(grid, panel=bname, x="cue", y="input",
                                   xlabel="CUE multiplier", ylabel="input multiplier"),
            out / "figures" / "surfaces.png"),
    }
    n_bad = int((grid["status"] != "ok").sum())
    messages = [f"{model}: {len(el)} elasticities, {len(grid)} grid states "
                f"({n_bad} not positive-and-stable, masked)"]
    if sobol:
        f = soc_function(factory)
        bounds = {"cue": (lo, hi), "input": (lo, hi)}
        if b.min() < b.max():
            bounds[bname] = (float(b.min()), float(b.max()))
        with step(f"{model} Sobol indices ({2 * (len(bounds) + 1) * int(sobol_n)} runs)",
                  stage="sensitivity-sobol"):
            tab = sobol_indices(f, bounds, n=int(sobol_n), seed=seed)
        tab.insert(0, "model", model)
        outputs["sobol"] = write_table(tab, out / "tables" / "sobol.csv")
    outputs["run"] = write_run_record(
        out, command="wholesoil sensitivity", seed=seed,
        options={"vary": list(vary), "betas": b.tolist(), "delta": delta,
                 "grid_points": grid_points, "grid_range": list(grid_range),
                 "conditions": {**SEED002_CONDITIONS, **(conditions or {})},
                 "sobol": sobol, "sobol_n": sobol_n, "beta_enz": beta_enz},
        extra={"model": model}, timings={"total": time.perf_counter() - t0}, outputs=outputs)
    return JobResult(el, outputs, None, messages)
