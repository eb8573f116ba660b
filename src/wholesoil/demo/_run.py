"""``wholesoil demo``: the whole profile workflow on the bundled real data.

Stages, one module each, all written into one report:

1.–2. NCSCD pedons (Hugelius et al. 2013) and the ISRaD Gaudinski (2001) entry
   (:mod:`._profiles`).
3. Mapping (:mod:`._mapping`): each NCSCD pedon's β and its layer
   densities predicted from climate sampled from the bundled grids, with profile-grouped and
   spatial CV, skill by depth band, importance, partial dependence and interval coverage.
4. Maps and stocks (:mod:`._stocks`): β and topsoil density over the circumpolar region,
   regional stocks by depth with Monte Carlo intervals.
5. Process models (:mod:`._models`): CLM5 and COMPAS with default parameters at every pedon.
6. Microbial models (:mod:`._microbial`): He et al.'s (2024) CUE-versus-input elasticities.
7. Calibration (:mod:`._assimilation`): CLM5 and COMPAS calibrated per pedon (PRODA
   step 1, shortened protocol), posteriors against priors, fits, diagnostics, components.
8. PRODA (:mod:`._proda`): networks from the calibrations to parameter maps over the
   circumpolar region, both models simulated with default and calibrated parameters, their
   agreement, and the end-to-end differentiable variant beside the two-step one.
9. Radiocarbon and inputs (:mod:`._radiocarbon`): carbon ages from Δ14C, inputs to bulk
   soil, root inputs and their direct losses at Howland Forest (Wang G. et al. (manuscript)).
10. Drivers (:mod:`._drivers`): β ~ MAT + MAP + (1 | region) and group comparisons.

References
----------
He, X., Abramoff, R. Z., Abs, E., Georgiou, K., Zhang, H. & Goll, D. S. (2024). Model uncertainty
obscures major driver of soil carbon. Nature. https://doi.org/10.1038/s41586-023-06999-1

Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).

Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

from __future__ import annotations

import contextlib
import platform
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wholesoil import __version__
from wholesoil._atomic import write_json
from wholesoil.demo._assimilation import assimilation_stage
from wholesoil.demo._disk import disk_message
from wholesoil.demo._drivers import drivers_stage
from wholesoil.demo._mapping import (
    DEMO_FOREST,
    INTERVAL_TREES,
    QUICK_FOREST,
    QUICK_INTERVAL_TREES,
    QUICK_MC_BOOT,
    mapping_stage,
)
from wholesoil.demo._microbial import microbial_stage
from wholesoil.demo._models import models_stage
from wholesoil.demo._proda import proda_stage
from wholesoil.demo._profiles import (
    DEMO_DEPTHS_ISRAD,
    DEMO_DEPTHS_NCSCD,
    Pedons,
    Sink,
    israd_stage,
    ncscd_stage,
)
from wholesoil.demo._radiocarbon import radiocarbon_stage
from wholesoil.demo._stocks import stocks_stage
from wholesoil.depth import GLOBAL_MEAN_BETA
from wholesoil.plots.report import Report
from wholesoil.progress import note, step, warnings_as_notes
from wholesoil.workflows import JobResult


@contextlib.contextmanager
def _stage(description: str, *, stage: str) -> Iterator[None]:
    """A demo stage: its progress line, and the Python warnings raised inside it reported once
    each as a note line (no source path) instead of leaking to stderr."""
    with warnings_as_notes(stage=stage), step(description, stage=stage):
        yield


def run_demo(
    out: str | Path,
    *,
    seed: int = 42,
    quick: bool = False,
    calibration_iterations: tuple[int, int] | None = None,
    keep_models: bool = False,
) -> JobResult:
    """Run the demo into folder ``out``; returns what was written.

    ``quick`` shortens the slow stages (fewer pedons and iterations in the calibration, fewer
    Monte Carlo draws); ``calibration_iterations`` = (test, formal) overrides the calibration's
    shortened protocol, e.g. (20000, 50000) for Tao et al.'s (EarthArXiv). The Monte Carlo interval
    models (190 MB each in a full run) are deleted once the stocks stage has used them unless
    ``keep_models``; the disk the run will write is printed first (:mod:`wholesoil.demo._disk`).
    """
    note(disk_message(quick=quick, keep_models=keep_models), stage="demo")
    t_start = time.perf_counter()
    out = Path(out)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    timings: dict[str, float] = {}
    rep = Report("wholesoil demo: from real horizon data to subsoil carbon", root=out)
    rep.text(
        f"wholesoil {__version__}, seed {seed}. Data bundled with the package: the NCSCD pedon "
        "database (Hugelius et al. 2013, ESSD 5:393–402, CC BY 3.0) and the ISRaD Gaudinski "
        "(2001) entry (Lawrence et al. 2020, ESSD 12:61–76, CC BY 4.0)."
    )
    sink = Sink(out, rep)
    with warnings_as_notes(stage="demo-data"):
        pedons = ncscd_stage(sink, rng, timings)
        israd = israd_stage(sink, timings)
    params = _later_stages(sink, pedons, seed=seed, quick=quick, timings=timings,
                           calibration_iterations=calibration_iterations,
                           keep_models=keep_models)
    timings["total"] = time.perf_counter() - t_start
    inputs = {"ncscd": pedons.ncscd.metadata.get("citation"),
              "israd": israd.metadata.get("citation")}
    _finish(sink, inputs, params, seed=seed, quick=quick, timings=timings)
    return JobResult(
        pedons.fits,
        {"report": sink.outputs["report"], "run": sink.outputs["run"], "folder": out},
        None,
        [f"demo finished in {timings['total']:.1f} s"],
    )


def _later_stages(sink: Sink, pedons: Pedons, *, seed: int, quick: bool,
                  timings: dict[str, float],
                  calibration_iterations: tuple[int, int] | None,
                  keep_models: bool = False) -> dict[str, Any]:
    """Stages 3–10, each into the report with its parameters; returns the parameters by stage."""
    rep, out, save = sink.rep, sink.out, sink.save
    h, sites = pedons.horizons, pedons.profiles.sites
    params: dict[str, Any] = {}
    with _stage("mapping", stage="demo-mapping"):
        params["mapping"], beta_table = mapping_stage(
            rep, out, save, pedons.fits, h, sites, seed=seed, timings=timings, quick=quick
        )
    rep.parameters(params["mapping"], "Method and parameters (run.json: parameters.mapping)")

    with _stage("maps and stocks", stage="demo-stocks"):
        params["stocks"] = stocks_stage(
            rep, out, save, beta_table, h, out / "mapping" / "beta" / "model", seed=seed,
            forest=QUICK_FOREST if quick else DEMO_FOREST,
            interval_trees=QUICK_INTERVAL_TREES if quick else INTERVAL_TREES, timings=timings,
            **({"mc_boot": QUICK_MC_BOOT} if quick else {}),
        )
    rep.parameters(params["stocks"], "Method and parameters (run.json: parameters.stocks)")
    rep.text(_monte_carlo_models(out, keep=keep_models), note=True)

    with _stage("process models", stage="demo-models"):
        params["process_models"] = models_stage(rep, out, save, h, sites, timings=timings)
    rep.parameters(params["process_models"],
                   "Method and parameters (run.json: parameters.process_models)")

    with _stage("microbial models", stage="demo-microbial"):
        params["microbial_sensitivity"] = microbial_stage(rep, out, save, timings=timings)
    rep.parameters(params["microbial_sensitivity"],
                   "Method and parameters (run.json: parameters.microbial_sensitivity)")

    with _stage("calibration", stage="demo-calibration"):
        params["calibration"], calibrations, cal_sites = assimilation_stage(
            rep, out, save, h, sites, seed=seed, timings=timings, quick=quick,
            iterations=calibration_iterations,
        )
    rep.parameters(params["calibration"],
                   "Method and parameters (run.json: parameters.calibration)")

    with _stage("PRODA maps and model agreement", stage="demo-proda"):
        params["proda"] = proda_stage(rep, out, save, calibrations=calibrations, sites=cal_sites,
                                      seed=seed, timings=timings, quick=quick)
    rep.parameters(params["proda"], "Method and parameters (run.json: parameters.proda)")

    with _stage("radiocarbon and inputs", stage="demo-radiocarbon"):
        params["radiocarbon_inputs"] = radiocarbon_stage(rep, out, save, seed=seed,
                                                         timings=timings, quick=quick)
    rep.parameters(params["radiocarbon_inputs"],
                   "Method and parameters (run.json: parameters.radiocarbon_inputs)")

    with _stage("drivers", stage="demo-drivers"):
        params["drivers"] = drivers_stage(rep, out, save, pedons.fits, sites, timings=timings)
    rep.parameters(params["drivers"], "Method and parameters (run.json: parameters.drivers)")
    return params


#: The Monte Carlo interval models the stocks stage reads (190 MB each in a full run).
MONTE_CARLO_MODELS = (Path("mapping/beta/model/intervals/montecarlo"),
                      Path("mapping/topsoil/model/intervals/montecarlo"))


def _monte_carlo_models(out: Path, *, keep: bool) -> str:
    """Delete the Monte Carlo interval models unless ``keep``; the report's line saying so."""
    folders = [out / p for p in MONTE_CARLO_MODELS if (out / p).exists()]
    size_mb = sum(f.stat().st_size for d in folders for f in d.rglob("*") if f.is_file()) / 1e6
    names = ", ".join(str(p) for p in MONTE_CARLO_MODELS)
    if keep:
        return (f"The Monte Carlo interval models ({names}; {size_mb:.0f} MB) are kept "
                "(--keep-models): `wholesoil predict MODEL GRID --intervals montecarlo` maps "
                "with them.")
    for d in folders:
        shutil.rmtree(d)
    return (f"The Monte Carlo interval models ({names}; {size_mb:.0f} MB) were deleted after "
            "the stocks stage used them, to keep the demo's output small; `wholesoil demo "
            "--keep-models` keeps them. The mean models and their QRF / Coulston intervals stay.")


def _finish(sink: Sink, inputs: dict[str, Any], stage_params: dict[str, Any], *, seed: int,
            quick: bool, timings: dict[str, float]) -> None:
    """Write run.json and the report's closing section, then the report itself."""
    out, rep = sink.out, sink.rep
    run = {
        "command": "wholesoil demo",
        "wholesoil": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "seed": seed,
        "inputs": inputs,
        "parameters": {
            "ncscd_depths": DEMO_DEPTHS_NCSCD,
            "israd_depths": DEMO_DEPTHS_ISRAD,
            "lambda": 0.1,
            "global_mean_beta": GLOBAL_MEAN_BETA,
            **stage_params,
            "quick": quick,
        },
        "timings_s": timings,
        "outputs": {k: str(v.relative_to(out)) for k, v in sink.outputs.items()},
    }
    sink.outputs["run"] = write_json(out / "run.json", run)
    rep.heading("Run")
    rep.text(
        "Timings [s]: "
        + ", ".join(f"{k} {v:.2f}" for k, v in timings.items())
        + ". Every table is in tables/, every figure in figures/, parameters in run.json."
    )
    rep.parameters(run["parameters"], "All parameters (run.json)", collapsed=True)
    with _stage("report", stage="demo-report"):
        sink.outputs["report"] = rep.write(out / "report.html")
