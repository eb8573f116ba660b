"""Process-model commands: ``simulate``, ``sensitivity`` and ``assimilate`` (He et al. (2024),
Tao et al. (EarthArXiv)).

The --model help lists the models of :mod:`wholesoil.models._registry` that support each command.

References
----------
He, X., Abramoff, R. Z., Abs, E., Georgiou, K., Zhang, H. & Goll, D. S. (2024). Model uncertainty
obscures major driver of soil carbon. Nature. https://doi.org/10.1038/s41586-023-06999-1

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
    _names,
    _report,
    flat_read_options,
    model_help,
    read_options,
)


@_friendly
def simulate(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    model: Annotated[str, typer.Option(help=model_help("simulate"))] = "clm5",
    params: Annotated[
        Path | None, typer.Option(help="Parameter overrides: JSON {name: value} or CSV.")
    ] = None,
    forcing: Annotated[
        list[Path] | None, typer.Option(help="CLM5 history NetCDF file(s) (Tao et al. (EarthArXiv) "
                                             "Suppl. "
                                        "Table 3 variables).")
    ] = None,
    sites: Annotated[
        Path | None, typer.Option(help="Table of sites: mat [°C], map [mm yr-1], optional lat, "
                                  "sand, site_id; forcing generated from climate. " + INPUT_REF)
    ] = None,
    mat: Annotated[float | None, typer.Option(help="Mean annual air temperature [°C].")] = None,
    map_: Annotated[
        float | None, typer.Option("--map", help="Mean annual precipitation [mm yr-1].")
    ] = None,
    lat: Annotated[float | None, typer.Option(help="Latitude [°N] (season, PET).")] = None,
    sand: Annotated[float, typer.Option(help="Sand content [%] (CLM5 S1 transfers).")] = 40.0,
    nbedrock: Annotated[int, typer.Option(help="First layer below bedrock (20: none).")] = 20,
    depths: Annotated[
        str, typer.Option(help="Layers for SOC stocks [cm].")
    ] = "0,30,100,200,300",
    century: Annotated[
        bool, typer.Option(help="Normalize ξ_T to CENTURY (CTSM default; PRODA: off).")
    ] = False,
    column_map: ColumnMapOpt = None,
    units: UnitsOpt = None,
) -> None:
    """Steady states of CLM5 or COMPAS (Tao et al. (EarthArXiv)) at sites: pools by layer, profiles,
    layer stocks, diagnostics and a figure.

    Example: wholesoil simulate --model clm5 --mat 8.5 --map 800 --lat 45 --out sim
    """
    from wholesoil.workflows import simulate_job

    result = simulate_job(
        out, model=model, params=params,
        forcing=None if not forcing else (forcing if len(forcing) > 1 else forcing[0]),
        sites=sites, mat=mat, map=map_, lat=lat, sand=sand, nbedrock=nbedrock,
        depths=_floats(depths, "--depths"), normalize_century=century,
        **flat_read_options(column_map, units),
    )
    _report(result)


@_friendly
def sensitivity(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    model: Annotated[str, typer.Option(help=model_help("sensitivity"))] = "mimics",
    vary: Annotated[str, typer.Option(help="Knobs for the elasticities: cue,input")] = (
        "cue,input"
    ),
    beta: Annotated[
        str, typer.Option(help="Microbial turnover exponents β (1 classic, > 1 density "
                          "dependent).")
    ] = "1,1.5,2",
    beta_enz: Annotated[float, typer.Option(help="Enzyme-production exponent β_enz (tao2024, "
                                            "awb; 1 classic).")] = 1.0,
    delta: Annotated[float, typer.Option(help="Relative perturbation (He et al. (2024): "
                                              "0.1).")] = 0.1,
    grid_points: Annotated[int, typer.Option(help="Steps per axis of the CUE × input grid.")] = 9,
    mat: Annotated[float, typer.Option(help="Temperature [°C] (He et al. (2024): 20).")] = 20.0,
    clay: Annotated[float, typer.Option(help="Clay [%] (He et al. (2024): 20).")] = 20.0,
    lignin_n: Annotated[float, typer.Option(help="Litter lignin:N (MIMICS; He et al. (2024): "
                                                 "10).")] = (
        10.0
    ),
    anpp: Annotated[float, typer.Option(help="Litter input [g C m-2 yr-1] (MIMICS).")] = 400.0,
    sobol: Annotated[bool, typer.Option(help="Also Sobol indices over CUE, input, β.")] = False,
    sobol_n: Annotated[int, typer.Option(help="Sobol base sample size (power of 2).")] = 256,
    seed: Annotated[int, typer.Option(help="Seed for every random draw.")] = 0,
) -> None:
    """He et al.'s (2024) CUE-versus-input question: SOC elasticities to CUE and input for each β,
    z-scored (β, CUE, input) response surfaces, optional Sobol indices.

    Example: wholesoil sensitivity --model mimics --beta 1,1.5,2 --grid-points 5 --out sens
    """
    from wholesoil.workflows import sensitivity_job

    result = sensitivity_job(
        out, model=model, vary=_names(vary), betas=_floats(beta, "--beta"), delta=delta,
        grid_points=grid_points,
        conditions={"mat": mat, "clay": clay, "lignin_n": lignin_n, "anpp": anpp},
        sobol=sobol, sobol_n=sobol_n, seed=seed, beta_enz=beta_enz,
    )
    _report(result)


@_friendly
def assimilate(
    profiles: Annotated[Path, typer.Argument(help="Layer table: profile_id, top, bottom, "
                                             "soc_density [Mg C ha-1], and mat, map (lat "
                                             "optional: it sets the season; without it, "
                                             "northern season and 12-h days), or lat, lon "
                                             "(climate sampled from the bundled maps). "
                                             + INPUT_REF)],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    model: Annotated[str, typer.Option(help=model_help("assimilate"))] = "clm5",
    iterations: Annotated[
        str, typer.Option(help="Test and formal MCMC iterations "
                               "(Tao et al. (EarthArXiv): 20000,50000).")
    ] = "20000,50000",
    chains: Annotated[int, typer.Option(help="Independent chains per profile.")] = 3,
    mode: Annotated[
        str, typer.Option(help="proda (PRODA's costs and annealed rule: the paper's fits) | "
                          "gaussian (Gaussian likelihood, Metropolis: a true posterior)")
    ] = "proda",
    acceptance: Annotated[
        str | None, typer.Option(help="Override the mode's rule: proda | metropolis")
    ] = None,
    scale: Annotated[str, typer.Option(help="Proposal scale: proda (2.4/d) | haario "
                                       "(2.4²/d)")] = "proda",
    batch_size: Annotated[int, typer.Option(
        help="Profiles calibrated together: one checkpoint and one scheduler task per batch. "
             "Bigger batches share each step's fixed cost (CLM5, full protocol: ~15 core-s per "
             "profile at 32, ~7 at 128); smaller ones lose less to a kill and spread over more "
             "workers.")] = 64,
    scheduler: SchedulerOpt = None,
    seed: Annotated[int, typer.Option(help="Seed for every random draw.")] = 0,
    id_column: IdColumnOpt = "profile_id",
    top_column: TopColumnOpt = "top",
    bottom_column: BottomColumnOpt = "bottom",
    column_map: ColumnMapOpt = None,
    units: UnitsOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Profile-level Bayesian calibration of CLM5 or COMPAS (Tao et al. (EarthArXiv) §2.6);
    resumable.

    Example:

        wholesoil assimilate layers.csv --model clm5 --iterations 2000,5000 --chains 3 \\
            --out calibration
    """
    from wholesoil.workflows import assimilate_job

    its = tuple(int(x) for x in _floats(iterations, "--iterations"))
    result = assimilate_job(
        profiles, out, model=model, iterations=its, chains=chains, mode=mode,
        acceptance=acceptance,
        scale=scale, batch_size=batch_size,
        scheduler=scheduler, seed=seed,
        **read_options(id_column=id_column, top_column=top_column,
                       bottom_column=bottom_column, column_map=column_map, units=units,
                       fmt=fmt),
    )
    _report(result)


def register(app: typer.Typer) -> None:
    """Add ``simulate``, ``sensitivity``, ``assimilate`` to the ``wholesoil`` app."""
    app.command()(simulate)
    app.command()(sensitivity)
    app.command()(assimilate)
