"""End-to-end jobs a user runs: the single-step profile jobs, training and prediction (tables
and grids) and stocks. The demo lives in :mod:`wholesoil.demo`; ``run_demo`` stays importable
from here."""

from wholesoil.workflows._assimilate import assimilate_job
from wholesoil.workflows._drivers import anova_job, drivers_stage_tables, mixed_job
from wholesoil.workflows._grid_jobs import predict_grid_job, stocks_job
from wholesoil.workflows._inputs import inputs_demo, inputs_job, israd_example_layers
from wholesoil.workflows._jobs import (
    JobResult,
    beta_job,
    density_job,
    harmonize_job,
    load_horizons,
    qc_job,
)
from wholesoil.workflows._radiocarbon import profile_job as c14_profile_job
from wholesoil.workflows._sensitivity import sensitivity_job
from wholesoil.workflows._simulate import simulate_job
from wholesoil.workflows._train import predict_job, train_job

__all__ = [
    "JobResult",
    "anova_job",
    "assimilate_job",
    "beta_job",
    "c14_profile_job",
    "density_job",
    "drivers_stage_tables",
    "harmonize_job",
    "inputs_demo",
    "inputs_job",
    "israd_example_layers",
    "load_horizons",
    "mixed_job",
    "predict_grid_job",
    "predict_job",
    "qc_job",
    "run_demo",
    "sensitivity_job",
    "simulate_job",
    "stocks_job",
    "train_job",
]


def __getattr__(name: str) -> object:
    # the demo is built on these workflows (wholesoil.demo); imported here on first use only
    if name == "run_demo":
        from wholesoil.demo import run_demo

        return run_demo
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
