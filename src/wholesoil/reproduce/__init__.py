"""``wholesoil reproduce NAME``: each paper's analysis on the bundled data, ours beside theirs.

One module per paper (``specs/reproductions.md``); each defines ``run(ctx)`` over a
:class:`~wholesoil.reproduce._common.Reproduction` and is listed in :data:`REPRODUCTIONS`. The
command line's choices and help are generated from that registry (:func:`register` adds one).

Examples
--------
>>> from wholesoil.reproduce import REPRODUCTIONS
>>> sorted(REPRODUCTIONS)[:2]
['beta-depth', 'cue-vs-input']
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wholesoil.errors import InputDataError
from wholesoil.reproduce._common import COLUMNS, Reproduction, Row, format_comparison

__all__ = [
    "COLUMNS",
    "REPRODUCTIONS",
    "Reproduction",
    "ReproductionSpec",
    "Row",
    "format_comparison",
    "register",
    "run_reproduction",
]


@dataclass(frozen=True)
class ReproductionSpec:
    """A reproduction: its command name, the module with ``run(ctx)``, the paper and data."""

    name: str
    module: str
    title: str
    citation: str
    data: str
    #: options its ``run`` takes (``--set NAME=VALUE`` on the command line): name → help
    options: tuple[tuple[str, str], ...] = ()


#: name → reproduction. Modules are imported only when their reproduction runs.
REPRODUCTIONS: dict[str, ReproductionSpec] = {}


def register(spec: ReproductionSpec) -> ReproductionSpec:
    """Add a reproduction to the registry (the CLI lists it from there)."""
    REPRODUCTIONS[spec.name] = spec
    return spec


for _spec in (
    ReproductionSpec(
        "beta-depth", "wholesoil.reproduce.beta_depth",
        "Global patterns of SOC distribution in the 20–100 cm soil profile for different "
        "ecosystems",
        "Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon "
        "distribution in the 20–100 cm soil profile for different ecosystems: a global "
        "meta-analysis. Manuscript submitted to Earth System Science Data. Data: "
        "doi:10.5281/zenodo.14787023",
        "ISRaD database + NCSCD pedons"),
    ReproductionSpec(
        "deep-soc", "wholesoil.reproduce.deep_soc",
        "Digging deeper towards accurate mapping of deep SOC in grasslands",
        "Wang, G., Luo, Z., Song, C., et al. (2025). Digging deeper towards accurate mapping of "
        "deep soil organic carbon in grasslands. Science Bulletin. doi:10.1016/j.scib.2025.06.006",
        "ISRaD grassland profiles"),
    ReproductionSpec(
        "cue-vs-input", "wholesoil.reproduce.cue_vs_input",
        "Model uncertainty obscures major driver of soil carbon, and the reply",
        "He, X., Abramoff, R. Z., Abs, E., Georgiou, K., Zhang, H. & Goll, D. S. (2024). Model "
        "uncertainty obscures major driver of soil carbon. Nature. "
        "doi:10.1038/s41586-023-06999-1; Tao, F., Houlton, B. Z., Frey, S. D., et al. (2024). "
        "Reply to: Model uncertainty obscures major driver of soil carbon. Nature. "
        "doi:10.1038/s41586-023-07000-9",
        "model experiments (no data)"),
    ReproductionSpec(
        "proda-convergence", "wholesoil.reproduce.proda_convergence",
        "Convergence in simulating global SOC by structurally different models after data "
        "assimilation",
        "Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., "
        "Jiang, L., Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by "
        "structurally different models after data assimilation. EarthArXiv preprint",
        "ISRaD SOC profiles + covariates; bundled climate grid",
        (("n_israd", "ISRaD profiles calibrated: a random subset of this many of those passing "
                     "the paper's filters (default: all; --quick: 20)"),
         ("n_ncscd", "NCSCD pedons calibrated, likewise (default: all; --quick: 4)"),
         ("test_iterations", "test-run iterations per chain (default 20000; --quick 600)"),
         ("formal_iterations", "formal-run iterations per chain (default 50000; --quick 1500)"),
         ("adapt_start", "formal iteration where the proposal starts adapting (default 4000)"),
         ("batch", "profiles calibrated together, one checkpoint each (default 128)"))),
    ReproductionSpec(
        "root-inputs", "wholesoil.reproduce.root_inputs",
        "Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool",
        "Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, "
        "G., Shi, Z. & Luo, Z. Most root-derived carbon inputs do not contribute to the global "
        "bulk soil carbon pool. Manuscript",
        "ISRaD Δ14C layers + covariates",
        (("include_fills", "also use ISRaD's gap-filled bulk-soil Δ14C values, flagged "
                           "(true/false; default false)"),)),
):
    register(_spec)


def run_reproduction(
    name: str,
    out: str | Path,
    *,
    quick: bool = False,
    seed: int = 0,
    workers: int | None = None,
    **options: Any,
) -> tuple[Reproduction, dict[str, Path]]:
    """Run reproduction ``name`` into ``out``; returns the run and the files it wrote.

    ``options`` are passed to the reproduction's ``run`` (each module documents its own).
    """
    if name not in REPRODUCTIONS:
        raise InputDataError(f"unknown reproduction {name!r}; choose one of "
                             f"{sorted(REPRODUCTIONS)}", field="NAME", value=name)
    if workers is not None and workers < 1:
        raise InputDataError("--workers must be at least 1", field="workers", value=workers)
    spec = REPRODUCTIONS[name]
    accepted = dict(spec.options)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise InputDataError(
            f"{name} has no option of that name; "
            + (f"its options are {', '.join(accepted)} (see `wholesoil reproduce {name} "
               "--out DIR --set help=1`)" if accepted else "it takes none"),
            field="--set", value=unknown[0])
    module = importlib.import_module(spec.module)
    ctx = Reproduction(spec.name, spec.title, spec.citation, Path(out), quick=quick, seed=seed,
                       workers=workers)
    module.run(ctx, **options)
    return ctx, ctx.finish()
