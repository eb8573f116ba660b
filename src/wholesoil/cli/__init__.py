"""The ``wholesoil`` command: parse arguments, call a workflow, print what it wrote.

No science here (STYLE.md item 9): every command calls a function in ``wholesoil.workflows``
and turns wholesoil's own errors into a one-line message and exit status 2.

One module per command group registers its commands on :data:`app` (``register(app)``):
:mod:`~wholesoil.cli.profiles` (harmonize, qc, density, beta), :mod:`~wholesoil.cli.mapping`
(train, predict, stocks), :mod:`~wholesoil.cli.models` (simulate, sensitivity, assimilate),
:mod:`~wholesoil.cli.demo`, :mod:`~wholesoil.cli.radiocarbon` (c14), :mod:`~wholesoil.cli.inputs`,
:mod:`~wholesoil.cli.stats` (mixed, anova), :mod:`~wholesoil.cli.proda`,
:mod:`~wholesoil.cli.reproduce` and :mod:`~wholesoil.cli.datasets`. Start-up stays short because
no module here imports numpy, pandas or a workflow at import: each command imports what it uses
inside its function.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated

import typer

from wholesoil.cli._common import OneLineGroup

__all__ = ["app", "main"]

app = typer.Typer(
    name="wholesoil",
    cls=OneLineGroup,
    help="Whole-soil-profile SOC science: QC, splines, densities, depth functions, "
    "mapping models, process models, radiocarbon, demo.\n\n"
    "Example: wholesoil demo --out wholesoil-demo\n\n"
    "Every command prints what it wrote; bad input stops with one line, error: …, and a "
    "non-zero exit status (WHOLESOIL_TRACEBACK=1 shows the traceback instead).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@app.callback()
def _global_options(
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bars and no messages on stderr "
                           "(errors are still printed).")
    ] = False,
    log_json: Annotated[
        Path | None, typer.Option("--log-json", metavar="FILE",
                                  help="Append a JSON-lines log of the run to FILE: one "
                                  "object per event, {time, stage, message, done, total}.")
    ] = None,
) -> None:
    """Options that apply to every command; give them before the command's name.

    Example: wholesoil --quiet --log-json run.jsonl train table.csv --target soc --features
    mat,map --out model
    """
    from wholesoil.progress import configure

    try:
        configure(quiet=quiet, log_json=log_json)
    except OSError as exc:
        raise typer.BadParameter(f"cannot write the log {log_json}: {exc.strerror or exc}",
                                 param_hint="--log-json") from exc


#: Command-group modules, in the order their commands are listed by ``wholesoil --help``.
_GROUPS: tuple[str, ...] = (
    "profiles", "mapping", "models", "demo", "radiocarbon", "inputs", "stats", "proda",
    "reproduce", "datasets",
)
for _name in _GROUPS:
    importlib.import_module(f"wholesoil.cli.{_name}").register(app)


def main() -> None:  # pragma: no cover - console-script entry point
    app()
