"""``wholesoil mixed`` and ``wholesoil anova``: driver statistics as the seeds report them.

References
----------
He, X., Abramoff, R. Z., Abs, E., Georgiou, K., Zhang, H. & Goll, D. S. (2024). Model uncertainty
obscures major driver of soil carbon. Nature. https://doi.org/10.1038/s41586-023-06999-1

Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

from __future__ import annotations

from pathlib import Path

import typer

from wholesoil.cli._common import (
    INPUT_REF,
    ColumnMapOpt,
    UnitsOpt,
    _friendly,
    _report,
    flat_read_options,
)


def _names(text: str | None) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()] if text else []


def _groups(text: str | None) -> dict[str, list[str]] | None:
    if not text:
        return None
    out = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        if "=" not in part:
            raise typer.BadParameter(f"--pca needs GROUP=col,col;… got {part!r}")
        name, cols = part.split("=", 1)
        out[name.strip()] = _names(cols)
    return out


@_friendly
def mixed(
    table: Path = typer.Argument(..., help="CSV or Parquet table, one row per observation. "
                                     + INPUT_REF),
    formula: str = typer.Option(..., "--formula", "-f",
                                help='Fixed effects, e.g. "log10(soc) ~ npp + mat + depth". '
                                'Terms may use '
                                'column names, numbers, + - * / ** and log, log10, log2, log1p, '
                                'exp, sqrt, abs, zscore, C, I, Q, center, standardize, scale; '
                                'anything else is refused before evaluation.'),
    group: str = typer.Option(..., "--group", "-g", help="Grouping column (random effects)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
    slopes: str | None = typer.Option(None, "--slopes",
                                      help="Comma-separated variables with random slopes."),
    zscore: str | None = typer.Option(None, "--zscore",
                                      help="Comma-separated columns z-scored before fitting."),
    nested: str | None = typer.Option(None, "--nested",
                                      help="Comma-separated factors nested in the group."),
    pca: str | None = typer.Option(
        None, "--pca",
        help="Wang G. et al. (manuscript) Eqs. 7–8: covariate groups reduced by PCA (eigenvalue > "
             "1), their "
        "components appended to the fixed effects: GROUP=col,col;GROUP=col,…"),
    ml: bool = typer.Option(False, "--ml", help="Maximum likelihood instead of REML."),
    t_test: bool = typer.Option(False, "--t-test",
                                help="Wald t with n − p df instead of z for CI and p."),
    column_map: ColumnMapOpt = None,
    units: UnitsOpt = None,
) -> None:
    """Linear mixed model with the He et al. (2024) Table 1 report (CI, p, σ², τ00, ICC, R²).

    Example:

        wholesoil mixed sites.csv --formula "log10(soc) ~ npp + mat + depth" \\
            --group source --zscore npp,mat,depth --out mixed_out

    Wang G. et al. (manuscript) style, covariate groups by PCA and biome as random effect:

        wholesoil mixed inputs.csv --formula "log10(i_bulk) ~ 1" --group biome \\
            --pca "climate=mat,map,pet;soil=clay,ph,bd" --out drivers
    """
    from wholesoil.workflows._drivers import mixed_job

    res = mixed_job(table, out, formula=formula, group=group, slopes=_names(slopes) or None,
                    zscore=_names(zscore) or None, nested=_names(nested) or None,
                    reml=not ml, df_method="residual" if t_test else "normal",
                    pca=_groups(pca), **flat_read_options(column_map, units))
    _report(res)


@_friendly
def anova(
    table: Path = typer.Argument(..., help="CSV or Parquet table, one row per observation. "
                                     + INPUT_REF),
    response: str = typer.Option(..., "--response", "-r", help="Numeric column compared."),
    group: str = typer.Option(..., "--group", "-g", help="Column of the groups."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
    test: str = typer.Option("duncan", "--test", help="Post-hoc test: duncan or tukey."),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level."),
    drop_missing: bool = typer.Option(
        False, "--drop-missing",
        help="Leave out rows without value or group (listed in tables/excluded.csv)."),
    column_map: ColumnMapOpt = None,
    units: UnitsOpt = None,
) -> None:
    """One-way ANOVA with Duncan's multiple range test or Tukey HSD and compact letters.

    Example:

        wholesoil anova fits.csv --response beta --group ecosystem --test duncan --out anova_out
    """
    from wholesoil.workflows._drivers import anova_job

    res = anova_job(table, out, response=response, group=group, test=test,  # type: ignore[arg-type]
                    alpha=alpha, drop_missing=drop_missing,
                    **flat_read_options(column_map, units))
    _report(res)


def register(app: typer.Typer) -> None:
    """Add ``mixed`` and ``anova`` to the ``wholesoil`` app."""
    app.command("mixed")(mixed)
    app.command("anova")(anova)
