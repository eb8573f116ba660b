"""``wholesoil reproduce NAME``: a paper's numbers beside ours, from one command."""

from __future__ import annotations

from pathlib import Path

import typer

from wholesoil.cli._common import LazyHelpCommand, _friendly


@_friendly
def reproduce(
    name: str = typer.Argument(..., help="Which paper (see the list above)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
    quick: bool = typer.Option(False, "--quick",
                               help="A subset with fewer iterations (minutes, not hours); "
                               "every row's note then says quick."),
    seed: int = typer.Option(0, "--seed", help="Seed of every random draw."),
    workers: int | None = typer.Option(None, "--workers",
                                       help="Cores to use (default: all)."),
) -> None:
    """A paper's analysis end to end on the bundled data, our numbers beside the paper's.

    Writes OUT/comparison.csv (quantity, label, unit, paper, ours, ours_low, ours_high, n,
    note), run.json, tables/, figures/ and index.html, and prints the comparison.

    Example: wholesoil reproduce cue-vs-input --quick --out repro-cue
    """
    from wholesoil.progress import note
    from wholesoil.reproduce import format_comparison, run_reproduction

    ctx, outputs = run_reproduction(name, out, quick=quick, seed=seed, workers=workers)
    typer.echo(format_comparison(ctx.comparison()))
    for label, path in outputs.items():
        note(f"wrote {label}: {path}", stage="output")


def _names_suffix() -> str:
    from wholesoil.reproduce import REPRODUCTIONS

    return "\n\nNAME is one of: " + ", ".join(REPRODUCTIONS)


class _ReproduceCommand(LazyHelpCommand):
    """``reproduce``: its help ends with the registry's names, read only when shown."""

    help_suffix = staticmethod(_names_suffix)


def register(app: typer.Typer) -> None:
    """Add ``reproduce`` to the ``wholesoil`` command (its NAME choices from the registry, read
    when its help is shown: the registry imports pandas)."""
    app.command(name="reproduce", cls=_ReproduceCommand)(reproduce)
