"""``wholesoil inputs``: carbon inputs to bulk soil, root-derived inputs and their direct losses
(Wang G. et al. (manuscript)). Thin: parses arguments and calls
:func:`wholesoil.workflows._inputs.inputs_job`.

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
    INPUT_REF,
    BottomColumnOpt,
    ColumnMapOpt,
    FormatOpt,
    IdColumnOpt,
    TopColumnOpt,
    UnitsOpt,
    _floats,
    _friendly,
    _report,
    read_options,
)


def _number_or_name(text: str | None) -> float | str | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return text.strip()


@_friendly
def inputs(
    profiles: Annotated[Path, typer.Argument(
        help="Layer table (CSV/Parquet): profile_id, top, bottom [cm], soc_stock or "
             "soc_density [Mg C ha-1], c_age [yr] or d14c [‰] + year; optional lat, lon, "
             "mat [°C], map [mm yr-1], npp, f_bnpp, vegetation, beta, c_age_sd. " + INPUT_REF)],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    npp: Annotated[str, typer.Option(
        help="NPP: a number [g C m-2 yr-1], a column name, or 'miami' (Lieth 1975 from "
             "mat/map, or the climate grid at lat/lon).")] = "miami",
    f_bnpp: Annotated[str | None, typer.Option(
        "--f-bnpp", help="Belowground fraction of NPP: a number or a column name "
                         "[default: column f_bnpp, else 0.377, the Wang G. et al. (manuscript) "
                         "mean].")] = None,
    roots: Annotated[str | None, typer.Option(
        help="Jackson et al. 1996 vegetation type, e.g. boreal_forest, temperate_grassland, "
             "all [default: column beta or vegetation, else all].")] = None,
    d50: Annotated[float | None, typer.Option(
        help="Schenk & Jackson 2002: depth above which 50 % of roots lie [cm].")] = None,
    d95: Annotated[float | None, typer.Option(
        help="Schenk & Jackson 2002: depth above which 95 % of roots lie [cm].")] = None,
    draws: Annotated[int, typer.Option(help="Monte Carlo runs (Wang G. et al. (manuscript): "
                                            "500).")] = 500,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    cv: Annotated[float, typer.Option(
        help="Relative sd of stocks, ages, NPP, f_BNPP without an explicit sd.")] = 0.1,
    depths: Annotated[str, typer.Option(
        help="Standard layer boundaries [cm].")] = "0,20,40,60,80,100,150,200",
    method: Annotated[str, typer.Option(
        help="Harmonization: uniform (exactly mass preserving) | spline.")] = "uniform",
    lam: Annotated[float, typer.Option(help="Spline smoothing λ (method spline).")] = 0.1,
    min_coverage: Annotated[float, typer.Option(
        help="Minimum covered fraction of a standard layer to report it.")] = 1.0,
    exclude_missing: Annotated[bool, typer.Option(
        help="Leave out layers without stock or age (listed in excluded.csv) instead of "
             "stopping.")] = False,
    id_column: IdColumnOpt = "profile_id",
    top_column: TopColumnOpt = "top",
    bottom_column: BottomColumnOpt = "bottom",
    column_map: ColumnMapOpt = None,
    units: UnitsOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Inputs to bulk soil (I_bulk = C_stock / C_age, Wang G. et al. (manuscript) Eq. 6),
    root-derived inputs (I_root = NPP × f_BNPP × root fraction) and direct losses I_loss = I_root −
    I_bulk on the seven standard layers of Wang G. et al. (manuscript), with Monte Carlo
    uncertainty.

    Example:

        wholesoil inputs layers.csv --npp miami --roots temperate_coniferous_forest \\
            --draws 500 --seed 1 --out inputs_out
    """
    from wholesoil.workflows._inputs import inputs_job

    npp_v = _number_or_name(npp)
    result = inputs_job(
        profiles, out, npp=npp_v if npp_v is not None else "miami",
        f_bnpp=_number_or_name(f_bnpp), roots=roots, d50=d50, d95=d95, draws=draws,
        seed=seed, cv=cv, depths=_floats(depths, "--depths"), method=method, lam=lam,
        min_coverage=min_coverage, exclude_missing=exclude_missing,
        **read_options(id_column=id_column, top_column=top_column,
                       bottom_column=bottom_column, column_map=column_map, units=units,
                       fmt=fmt),
    )
    _report(result)


def register(app: typer.Typer) -> None:
    """Add ``inputs`` to the ``wholesoil`` app."""
    app.command("inputs")(inputs)
