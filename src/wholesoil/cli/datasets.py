"""``wholesoil datasets``: the real data bundled with wholesoil, with provenance and licence.

Thin: reads :data:`wholesoil.datasets.REGISTRY` (no data file is opened unless ``--entries``
asks for the ISRaD entries and their DOIs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wholesoil.cli._common import _friendly


@_friendly
def datasets(
    name: Annotated[str | None, typer.Argument(
        help="A bundled data set (e.g. israd) for its full record; none lists them all.")] = None,
    entries: Annotated[Path | None, typer.Option(
        "--entries", help="With NAME israd: write every entry's name, DOI and reference "
                          "(CSV) to this file.")] = None,
) -> None:
    """List the bundled data sets: what each is, its citation and licence (e.g. ISRaD 2023,
    CC BY 4.0).

    Example: wholesoil datasets israd --entries israd_entries.csv
    """
    from wholesoil.datasets import REGISTRY, data_path
    from wholesoil.errors import InputDataError

    if name is None:
        for key, rec in REGISTRY.items():
            typer.echo(f"{key}: {rec.get('description', '')}")
            typer.echo(f"    licence: {rec.get('licence', '')}")
        return
    if name not in REGISTRY:
        raise InputDataError(f"unknown data set; choose one of {sorted(REGISTRY)}",
                             field="NAME", value=name)
    rec = REGISTRY[name]
    for field in ("description", "citation", "licence", "source", "notes"):
        if rec.get(field):
            typer.echo(f"{field}: {rec[field]}")
    typer.echo("files:")
    for f in rec.get("files", []):
        typer.echo(f"    {data_path(f)}")
    if entries is not None:
        if name != "israd":
            raise InputDataError("--entries is for the ISRaD database", field="--entries",
                                 value=name)
        from wholesoil.io._israd import read_israd_tables
        from wholesoil.io._write import write_table

        meta = read_israd_tables(data_path(rec["files"][0]).parent)["metadata"]
        cols = [c for c in ("entry_name", "doi", "compilation_doi", "bibliographical_reference")
                if c in meta.columns]
        write_table(meta[cols], entries)
        typer.echo(f"wrote {len(meta)} entries to {entries}")


def register(app: typer.Typer) -> None:
    """Add ``datasets`` to the ``wholesoil`` app."""
    app.command("datasets")(datasets)
