"""``wholesoil proda``: PRODA's network from calibrations, global maps, end-to-end
(Tao et al. (EarthArXiv)).

Thin: parses arguments and calls the jobs of :mod:`wholesoil.workflows._proda`.

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

from wholesoil.cli._common import (
    INPUT_REF,
    BottomColumnOpt,
    ColumnMapOpt,
    FormatOpt,
    IdColumnOpt,
    SchedulerOpt,
    TopColumnOpt,
    UnitsOpt,
    _floats,
    _friendly,
    _report,
    read_options,
)

_HELP = ("PRODA (Tao et al. (EarthArXiv) §2.6–2.7): train the parameter network on profile "
         "calibrations, "
         "map parameters, SOC and model components, or calibrate end to end."
         "\n\nExample: wholesoil proda train assim_out climate --max-epochs 2000 --out proda_nn")


def _names(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [t.strip() for t in text.split(",") if t.strip()]


def _hidden(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in _floats(text, "--hidden"))
    except (TypeError, ValueError) as exc:
        raise typer.BadParameter(f"--hidden must be comma-separated integers, got {text!r}"
                                 ) from exc


@_friendly
def train(
    posteriors: Annotated[Path, typer.Argument(
        help="Output folder of `wholesoil assimilate` (or its parameters.csv, with "
             "profiles.csv beside it).")],
    covariates: Annotated[str, typer.Argument(
        help="Site covariate table (CSV/Parquet: profile_id + numeric columns), or 'climate' "
             "for MAT/MAP of the bundled 2.5° grid at the sites' lat/lon.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    columns: Annotated[str | None, typer.Option(
        "--columns", help="Covariate columns to use [default: every numeric column but "
                          "profile_id, lat, lon].")] = None,
    sites: Annotated[Path | None, typer.Option(
        help="Table with profile_id, lat, lon (for 'climate' when the assimilate run's "
             "profile table is not at hand).")] = None,
    loss: Annotated[str, typer.Option(
        help="ratio_mse (Tao et al. (EarthArXiv): ratio loss × MSE) | mse.")] = "ratio_mse",
    members: Annotated[int, typer.Option(help="Bootstrap ensemble size (PRODA: 200).")] = 1,
    max_epochs: Annotated[int, typer.Option(help="Maximum epochs (Tao et al. (EarthArXiv): "
                                                 "6000).")] = 6000,
    patience: Annotated[int, typer.Option(
        help="Early stopping: epochs without validation improvement.")] = 1200,
    hidden: Annotated[str, typer.Option(
        help="Hidden layer widths (Tao et al. (EarthArXiv): "
             "256,512,512,256).")] = "256,512,512,256",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda.")] = "auto",
) -> None:
    """Train PRODA's parameter network on the accepted calibrations (R̂ ≤ 1.05, NSE ≥ 0).

    Example:

        wholesoil proda train assim_out climate --members 5 --max-epochs 2000 --out proda_nn
    """
    from wholesoil.workflows._proda import proda_train_job

    result = proda_train_job(
        posteriors, covariates, out, covariate_names=_names(columns), sites=sites, loss=loss,
        members=members, max_epochs=max_epochs, patience=patience, hidden=_hidden(hidden),
        seed=seed, device=device)
    _report(result)


@_friendly
def map_(
    model_dir: Annotated[Path, typer.Argument(
        help="Output folder of `wholesoil proda train` or `proda e2e`.")],
    grid: Annotated[str, typer.Argument(
        help="Covariate grid (NetCDF or GeoTIFF; needs the network's covariates and mat [°C], "
             "map [mm yr-1]) or 'climate' for the bundled 2.5° grid.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    region: Annotated[str | None, typer.Option(
        help="circumpolar (> 45° N, MAT < 0 °C, land) | global [default: all land cells].")
    ] = None,
    defaults: Annotated[bool, typer.Option(
        "--defaults/--no-defaults", help="Also simulate with default parameters.")] = True,
    block_cells: Annotated[int, typer.Option(help="Cells per simulation block.")] = 4096,
    land_samples: Annotated[int, typer.Option(
        help="Land mask: sample points per cell side (0 = no mask, every cell with "
             "covariates).")] = 5,
    scheduler: SchedulerOpt = None,
    cwd: Annotated[str | None, typer.Option(
        help="Coarse woody debris in the forcing: holdridge (20 % of NPP where Holdridge's "
             "life zones of the climate are forest), a share of NPP, or none [default: none]."
    )] = None,
    outside_aoa: Annotated[str, typer.Option(
        "--outside-aoa",
        help="Cells whose covariates are unlike every training profile's (outside the "
             "network's area of applicability, Meyer & Pebesma 2021; written to "
             "maps/applicability.nc): keep (simulate and flag them) or mask (leave them out)."
    )] = "keep",
) -> None:
    """Parameter maps, SOC maps (0–30, 30–100, 100–200 cm; first metre) and the six component
    maps of Tao et al. (EarthArXiv) Fig. 4 over a grid. The process model (clm5 or compas) is the
    one the network was trained for.

    Example:

        wholesoil proda map proda_nn climate --region circumpolar --out proda_maps
    """
    from wholesoil.workflows._proda import proda_map_job

    if outside_aoa not in ("keep", "mask"):
        raise typer.BadParameter(f"--outside-aoa must be keep or mask, got {outside_aoa!r}")
    cwd_v: str | float | None = None
    if cwd is not None and cwd != "none":
        try:
            cwd_v = float(cwd)
        except ValueError:
            if cwd != "holdridge":
                raise typer.BadParameter(f"--cwd must be holdridge, none or a share of NPP, "
                                         f"got {cwd!r}") from None
            cwd_v = cwd
        if isinstance(cwd_v, float) and not 0.0 <= cwd_v <= 1.0:
            raise typer.BadParameter(f"--cwd share must be within 0–1, got {cwd_v}")
    result = proda_map_job(model_dir, grid, out, region=region, defaults=defaults,
                           block_cells=block_cells, land_samples=land_samples,
                           scheduler=scheduler, cwd=cwd_v, outside_aoa=outside_aoa)
    _report(result)


@_friendly
def e2e(
    profiles: Annotated[Path, typer.Argument(
        help="Layer table like `wholesoil assimilate`'s: profile_id, top, bottom [cm], "
             "soc_density [Mg C ha-1], and mat, map, lat or lat, lon. " + INPUT_REF)],
    covariates: Annotated[str, typer.Argument(
        help="Site covariate table (profile_id + numeric columns) or 'climate'.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    columns: Annotated[str | None, typer.Option(
        "--columns", help="Covariate columns to use [default: every numeric column but "
                          "profile_id, lat, lon].")] = None,
    members: Annotated[int, typer.Option(help="Bootstrap ensemble size.")] = 1,
    max_epochs: Annotated[int, typer.Option(help="Maximum epochs.")] = 6000,
    patience: Annotated[int, typer.Option(
        help="Early stopping: epochs without validation improvement.")] = 1200,
    hidden: Annotated[str, typer.Option(help="Hidden layer widths.")] = "256,512,512,256",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda.")] = "auto",
    id_column: IdColumnOpt = "profile_id",
    top_column: TopColumnOpt = "top",
    bottom_column: BottomColumnOpt = "bottom",
    column_map: ColumnMapOpt = None,
    units: UnitsOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """End-to-end calibration (CLM5): the network's parameters go through the differentiable
    steady state and the loss is PRODA's CLM5 cost against the observed layers — no MCMC.

    Example:

        wholesoil proda e2e layers.csv climate --max-epochs 500 --patience 80 --out proda_e2e
    """
    from wholesoil.workflows._proda import proda_e2e_job

    result = proda_e2e_job(profiles, covariates, out, covariate_names=_names(columns),
                           members=members, max_epochs=max_epochs, patience=patience,
                           hidden=_hidden(hidden), seed=seed, device=device,
                           **read_options(id_column=id_column, top_column=top_column,
                                          bottom_column=bottom_column, column_map=column_map,
                                          units=units, fmt=fmt))
    _report(result)


def register(app: typer.Typer) -> None:
    """Add the ``proda`` command group (train, map, e2e) to ``app``."""
    proda_app = typer.Typer(help=_HELP, no_args_is_help=True)
    proda_app.command("train")(train)
    proda_app.command("map")(map_)
    proda_app.command("e2e")(e2e)
    app.add_typer(proda_app, name="proda")
