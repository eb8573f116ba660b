"""``wholesoil c14``: the one-pool radiocarbon model, carbon ages and ISRaD profiles
(Wang G. et al. (manuscript)).

References
----------
Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wholesoil.cli._common import (
    INPUT_PANEL,
    INPUT_REF,
    BottomColumnOpt,
    ColumnMapOpt,
    IdColumnOpt,
    TopColumnOpt,
    UnitsOpt,
    _floats,
    _friendly,
    _report,
    read_options,
)

#: Default decay constant γ [yr⁻¹]: 1/8267, the value of
#: :data:`wholesoil.radiocarbon._atmosphere.LAMBDA_SEED004` (Wang G. et al. (manuscript), Methods
#: after Eq. 1: the mean life 8267 yr of the Cambridge half-life 5730 yr), written out here so that
#: the command line does not import scipy to show a default (tests/cli checks that the two are
#: equal).
LAMBDA_SEED004: float = 1.0 / 8267.0

_LAM_HELP = (
    "Decay constant λ (per year). Default 1/8267 = 1.20963e-4 (Wang G. et al.'s (manuscript) γ). "
    "SoilR's "
    "OnepModel14 uses ln 2/5730 = 1.209681e-4 (pass it for SoilR parity; the two differ by "
    "< 0.001 ‰ for k ≥ 0.01 yr⁻¹)."
)
_INTERP_HELP = ("Interpolation of the atmospheric curve: spline (cubic, R splinefun 'fmm' end "
                "conditions, as SoilR) or linear.")
_PREBOMB_HELP = ("Before the curve's first point: 'intcal' (IntCal20 for NH zones, SHCal20 for "
                 "SH zones) or a constant Δ14C (‰).")
_CURVE_HELP = "Bomb curve: hua2021 (monthly, to 2019.375), hua2013 or israd (annual)."
_EXTEND_HELP = ("Off by default. Extend the bomb curve past its last point (hua2021: 2019.375) to "
                "the latest year asked for, extrapolating the recent decline: exponential in "
                "Δ14C/1000 + 1, anchored at the last point, rate fitted to the curve's last 5 "
                "years (toolkit rule; see docs/howto/radiocarbon.md). The output names it.")
_START_HELP = ("Start year (AD): the pool starts at its steady state k/(k+λ) with the "
               "atmosphere of this year (Wang G. et al. (manuscript): 1950).")

c14 = typer.Typer(
    help="Radiocarbon: one-pool model of bulk soil Δ14C and carbon ages "
         "(Wang G. et al. (manuscript) Eqs. 1–5)."
    "\n\nExample: wholesoil c14 age --d14c -35.9 --year 2005 --lat 45.2",
    no_args_is_help=True,
)


@c14.command("forward")
@_friendly
def forward(
    k: Annotated[float, typer.Option("--k", help="Turnover rate k (per year, > 0).")],
    years: Annotated[str, typer.Option(help="Output years (AD), comma-separated.")],
    zone: Annotated[str, typer.Option(help="Hua et al. zone: NHZone1, NHZone2, NHZone3, "
                                      "SHZone12, SHZone3.")] = "NHZone1",
    curve: Annotated[str, typer.Option(help=_CURVE_HELP)] = "hua2021",
    start_year: Annotated[float, typer.Option(help=_START_HELP)] = 1950.0,
    decay_constant: Annotated[float, typer.Option(help=_LAM_HELP)] = LAMBDA_SEED004,
    interpolation: Annotated[str, typer.Option(help=_INTERP_HELP)] = "spline",
    prebomb: Annotated[str, typer.Option(help=_PREBOMB_HELP)] = "intcal",
    extend_curve: Annotated[bool, typer.Option("--extend-curve", help=_EXTEND_HELP)] = False,
) -> None:
    """Bulk-soil Δ14C of the one-pool model: steady state at the start year, then forced by the
    curve. Prints CSV ``year,delta14c`` (‰) to stdout.

    Example:

        wholesoil c14 forward --k 0.1 --zone NHZone1 --curve hua2021 --start-year 1942 \\
            --years 1963,1970,2019 --decay-constant 1.209681e-4 --interpolation spline
    """
    from wholesoil.workflows._radiocarbon import forward_table

    table = forward_table(k, _floats(years, "--years"), zone=zone, curve=curve,
                          start_year=start_year, lam=decay_constant,
                          interpolation=interpolation,  # type: ignore[arg-type]
                          prebomb=prebomb, extend=extend_curve)
    ext = table.attrs.get("extension")
    if ext:
        typer.echo(_extension_line(ext), err=True)
    if extend_curve:
        typer.echo("year,delta14c,extrapolated")
        for y, d, x in zip(table["year"], table["delta14c"], table["extrapolated"], strict=True):
            typer.echo(f"{y:g},{d:.6f},{str(bool(x)).lower()}")
        return
    typer.echo("year,delta14c")
    for y, d in zip(table["year"], table["delta14c"], strict=True):
        typer.echo(f"{y:g},{d:.6f}")


def _extension_line(ext: dict) -> str:
    """One line naming the extrapolation past the curve's end and its parameters."""
    return (f"curve_extension: extrapolated past the curve's end {ext['data_end']:.10g} to "
            f"{ext['extended_to']:g} AD: {ext['form']}; r = {ext['rate_per_yr']:.6g} per yr "
            f"fitted to {ext['fit_from']:.10g}–{ext['data_end']:.10g} ({ext['basis']})")


@c14.command("age")
@_friendly
def age(
    d14c: Annotated[float, typer.Option("--d14c", help="Observed bulk-soil Δ14C (‰).")],
    year: Annotated[float, typer.Option(help="Year of observation (AD).")],
    lat: Annotated[float | None, typer.Option(help="Latitude (°N); the zone follows from it "
                                              "(40°N / 15°N / 0 / 15°S rule).")] = None,
    zone: Annotated[str | None, typer.Option(help="Zone, overriding --lat.")] = None,
    curve: Annotated[str, typer.Option(help=_CURVE_HELP)] = "hua2021",
    start_year: Annotated[float, typer.Option(help=_START_HELP)] = 1950.0,
    decay_constant: Annotated[float, typer.Option(help=_LAM_HELP)] = LAMBDA_SEED004,
    interpolation: Annotated[str, typer.Option(help=_INTERP_HELP)] = "spline",
    prebomb: Annotated[str, typer.Option(help=_PREBOMB_HELP)] = "intcal",
    choose: Annotated[str, typer.Option(help="Root used when there are several: slow "
                                        "(smallest k, Wang G. et al. (manuscript)) or "
                                        "fast.")] = "slow",
    k_min: Annotated[float, typer.Option(help="Smallest k searched (per year).")] = 1e-5,
    k_max: Annotated[float, typer.Option(help="Largest k searched (per year).")] = 10.0,
    extend_curve: Annotated[bool, typer.Option("--extend-curve", help=_EXTEND_HELP)] = False,
) -> None:
    """Carbon age 1/k from one Δ14C observation: every root k in the search range, the chosen
    one and whether the choice matters (ambiguous).

    Example: wholesoil c14 age --d14c -35.9 --year 2005 --lat 45.2 --curve hua2021

    A sample after the curve's end (2019.375): add --extend-curve (extrapolation, named in the
    output).
    """
    from wholesoil.workflows._radiocarbon import CHOICES, age_of

    r = age_of(d14c, year, lat=lat, zone=zone, curve=curve, start_year=start_year,
               lam=decay_constant, interpolation=interpolation,  # type: ignore[arg-type]
               prebomb=prebomb, choose=choose, k_range=(k_min, k_max),  # type: ignore[arg-type]
               extend=extend_curve)
    typer.echo(f"zone: {r['zone']} ({r['zone_source']})")
    if r["extension"]:
        typer.echo(_extension_line(r["extension"]))
        typer.echo(f"atmosphere_d14c_extrapolated: {r['atmosphere_d14c']:.3f}")
    typer.echo(f"age_yr: {r['age']:.6g}")
    typer.echo(f"k_per_yr: {r['k']:.6g}")
    typer.echo("roots_per_yr: " + ";".join(f"{v:.6g}" for v in r["roots"]))
    typer.echo("root_ages_yr: " + ";".join(f"{v:.6g}" for v in r["root_ages"]))
    typer.echo(f"n_roots: {r['n_roots']}")
    typer.echo(f"ambiguous: {str(r['ambiguous']).lower()}")
    typer.echo(f"choice: {r['choice']}: {CHOICES.get(r['choice'], '')}")


@c14.command("profile")
@_friendly
def profile(
    israd_dir: Annotated[Path, typer.Argument(
        help="ISRaD entry folder (template CSV tables), a folder with the database's table "
             "files, or an ISRaD flat layer file; with --format table, a plain CSV. " + INPUT_REF)],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    input_format: Annotated[str, typer.Option(
        "--format", rich_help_panel=INPUT_PANEL,
        help="israd (default: the forms above) or table (a plain CSV with columns "
        "profile_id, top, bottom, d14c, year and lat or zone; the other input options apply "
        "to it).")] = "israd",
    zone: Annotated[str | None, typer.Option(help="Zone for every profile (default: from "
                                             "each profile's latitude).")] = None,
    curve: Annotated[str, typer.Option(help=_CURVE_HELP)] = "hua2021",
    start_year: Annotated[float, typer.Option(help=_START_HELP)] = 1950.0,
    decay_constant: Annotated[float, typer.Option(help=_LAM_HELP)] = LAMBDA_SEED004,
    interpolation: Annotated[str, typer.Option(help=_INTERP_HELP)] = "spline",
    prebomb: Annotated[str, typer.Option(help=_PREBOMB_HELP)] = "intcal",
    choose: Annotated[str, typer.Option(help="slow (smallest k, Wang G. et al. (manuscript)) or "
                                             "fast.")] = "slow",
    id_column: IdColumnOpt = "profile_id",
    top_column: TopColumnOpt = "top",
    bottom_column: BottomColumnOpt = "bottom",
    column_map: ColumnMapOpt = None,
    units: UnitsOpt = None,
) -> None:
    """Carbon ages of every layer of an ISRaD entry: tables/ages.csv (all roots, chosen root,
    ambiguity, status), figures/d14c_depth.png, run.json.

    Example: wholesoil c14 profile data/israd/Gaudinski_2001 --out results/c14
    """
    from wholesoil.workflows._radiocarbon import profile_job

    result = profile_job(israd_dir, out, zone=zone, curve=curve, start_year=start_year,
                         lam=decay_constant, interpolation=interpolation,  # type: ignore[arg-type]
                         prebomb=prebomb, choose=choose,  # type: ignore[arg-type]
                         input_format=input_format,
                         **read_options(id_column=id_column, top_column=top_column,
                                        bottom_column=bottom_column, column_map=column_map,
                                        units=units, fmt=None))
    _report(result)


def register(app: typer.Typer) -> None:
    """Add the ``c14`` command group to the ``wholesoil`` app."""
    app.add_typer(c14, name="c14")
