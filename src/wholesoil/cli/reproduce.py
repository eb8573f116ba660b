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
    set_: list[str] = typer.Option(
        [], "--set", help="A reproduction's own option as NAME=VALUE (repeatable), e.g. "
        "proda-convergence --set n_israd=96 --set n_ncscd=32: the full protocol on a random "
        "subset. `wholesoil reproduce NAME --set help=1` lists them."),
) -> None:
    """A paper's analysis end to end on the bundled data, our numbers beside the paper's.

    Writes OUT/comparison.csv (quantity, label, unit, paper, ours, ours_low, ours_high, n,
    note), run.json, tables/, figures/ and index.html, and prints the comparison.

    Example: wholesoil reproduce cue-vs-input --quick --out repro-cue
    """
    from wholesoil.progress import note
    from wholesoil.reproduce import REPRODUCTIONS, format_comparison, run_reproduction

    options = _parse_set(set_)
    if "help" in options and name in REPRODUCTIONS:
        spec = REPRODUCTIONS[name]
        lines = [f"  {k}: {h}" for k, h in spec.options] or ["  (none)"]
        typer.echo(f"options of {name} (--set NAME=VALUE):\n" + "\n".join(lines))
        return
    ctx, outputs = run_reproduction(name, out, quick=quick, seed=seed, workers=workers,
                                    **options)
    typer.echo(format_comparison(ctx.comparison()))
    for label, path in outputs.items():
        note(f"wrote {label}: {path}", stage="output")


def _parse_set(items: list[str]) -> dict[str, object]:
    """``NAME=VALUE`` strings → options; VALUE as int, float, true/false or text."""
    from wholesoil.errors import InputDataError

    out: dict[str, object] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InputDataError("--set expects NAME=VALUE (e.g. --set n_israd=96)",
                                 field="--set", value=item)
        value: object = raw.strip()
        low = raw.strip().lower()
        if low in ("true", "false"):
            value = low == "true"
        else:
            for kind in (int, float):
                try:
                    value = kind(raw)
                    break
                except ValueError:
                    pass
        out[key.strip()] = value
    return out


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
