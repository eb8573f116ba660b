"""``wholesoil demo``: the whole workflow on the bundled real data.

References
----------
Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wholesoil.cli._common import _floats, _friendly, _report


@_friendly
def demo(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("wholesoil-demo"),
    seed: Annotated[int, typer.Option(help="Seed for every random draw.")] = 42,
    quick: Annotated[
        bool, typer.Option(help="Fewer pedons, iterations and draws in the slow stages.")
    ] = False,
    calibration_iterations: Annotated[
        str | None,
        typer.Option(help="test,formal iterations of the calibration stage; 20000,50000 is "
                     "Tao et al.'s (EarthArXiv) full protocol (default: a shortened one)."),
    ] = None,
    keep_models: Annotated[
        bool, typer.Option("--keep-models",
                           help="Keep the Monte Carlo interval models (190 MB each in a full "
                           "run); by default they are deleted once the stocks are computed.")
    ] = False,
) -> None:
    """The whole workflow on the bundled real data; writes tables, figures and a report.

    Example: wholesoil demo --out wholesoil-demo --quick
    """
    from wholesoil.workflows import run_demo

    its = None
    if calibration_iterations:
        vals = _floats(calibration_iterations, "--calibration-iterations")
        if len(vals) != 2 or min(vals) < 1 or any(v != int(v) for v in vals):
            raise typer.BadParameter("--calibration-iterations needs two positive integers: "
                                     f"test,formal; got {calibration_iterations!r}")
        its = (int(vals[0]), int(vals[1]))
    result = run_demo(out, seed=seed, quick=quick, calibration_iterations=its,
                      keep_models=keep_models)
    _report(result)


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the ``wholesoil`` app."""
    app.command()(demo)
