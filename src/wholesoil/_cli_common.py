"""Pieces every command module shares: the error wrapper, argument parsers, result printing.

Commands live in :mod:`wholesoil.cli` and in the ``_cli_*`` modules that register themselves on
its app (one per area, so that several people can add commands without touching one file).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from wholesoil.errors import WholesoilError

console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


def _friendly(fn: F) -> F:
    """Turn library errors into a clean message and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (WholesoilError, FileNotFoundError) as exc:
            console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from exc

    return wrapper  # type: ignore[return-value]


def _floats(text: str, name: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError as exc:
        raise typer.BadParameter(f"{name} must be comma-separated numbers, got {text!r}") from exc


def _pairs(text: str | None, option: str) -> dict[str, str]:
    if not text:
        return {}
    out = {}
    for pair in text.split(","):
        if "=" not in pair:
            raise typer.BadParameter(f"{option} needs KEY=VALUE pairs, got {pair!r}")
        k, v = pair.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _report(result: Any) -> None:
    for msg in result.messages:
        console.print(msg, highlight=False)
    for what, path in result.outputs.items():
        console.print(f"wrote {what}: {path}", highlight=False)
