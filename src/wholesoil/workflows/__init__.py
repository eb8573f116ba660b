"""End-to-end jobs a user runs: the single-step profile jobs, training and prediction (tables
and grids) and stocks. The demo lives in :mod:`wholesoil.demo`; ``run_demo`` stays importable
from here.

Names are imported on first use (PEP 562): a command that runs one job loads that job's
modules only (``wholesoil c14 age`` needs no forests, no dask, no torch).
"""

from __future__ import annotations

from wholesoil._lazy import lazy_exports

#: Public name → (module, attribute), imported on first access.
_EXPORTS: dict[str, tuple[str, str]] = {
    "JobResult": ("wholesoil.workflows._jobs", "JobResult"),
    "anova_job": ("wholesoil.workflows._drivers", "anova_job"),
    "assimilate_job": ("wholesoil.workflows._assimilate", "assimilate_job"),
    "beta_job": ("wholesoil.workflows._jobs", "beta_job"),
    "c14_profile_job": ("wholesoil.workflows._radiocarbon", "profile_job"),
    "density_job": ("wholesoil.workflows._jobs", "density_job"),
    "drivers_stage_tables": ("wholesoil.workflows._drivers", "drivers_stage_tables"),
    "harmonize_job": ("wholesoil.workflows._jobs", "harmonize_job"),
    "inputs_demo": ("wholesoil.workflows._inputs", "inputs_demo"),
    "inputs_job": ("wholesoil.workflows._inputs", "inputs_job"),
    "israd_example_layers": ("wholesoil.workflows._inputs", "israd_example_layers"),
    "load_horizons": ("wholesoil.workflows._jobs", "load_horizons"),
    "mixed_job": ("wholesoil.workflows._drivers", "mixed_job"),
    "predict_grid_job": ("wholesoil.workflows._grid_jobs", "predict_grid_job"),
    "predict_job": ("wholesoil.workflows._train", "predict_job"),
    "qc_job": ("wholesoil.workflows._jobs", "qc_job"),
    # the demo is built on these workflows (wholesoil.demo), so it is only ever imported lazily
    "run_demo": ("wholesoil.demo", "run_demo"),
    "sensitivity_job": ("wholesoil.workflows._sensitivity", "sensitivity_job"),
    "simulate_job": ("wholesoil.workflows._simulate", "simulate_job"),
    "stocks_job": ("wholesoil.workflows._grid_jobs", "stocks_job"),
    "train_job": ("wholesoil.workflows._train", "train_job"),
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
