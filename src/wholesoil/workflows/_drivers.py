"""Jobs behind ``wholesoil mixed`` and ``wholesoil anova``, and the drivers stage of the demo.

* :func:`mixed_job` — a linear mixed model (He et al. (2024) Table 1; Wang G. et al. (manuscript)
  Eqs. 7–8) fitted to a table: report table in the He et al. (2024) layout (CSV, Markdown, HTML),
  fixed effects, variance components, random effects, conditional predictions, a coefficient figure
  and ``run.json``.
* :func:`anova_job` — one-way ANOVA with Duncan's multiple range test or Tukey HSD
  (Wang H. et al. (2025) §2.8): ANOVA table, group means with compact letters, pairwise table, a
  box/violin figure.
* :func:`drivers_stage_tables` — for the demo: the drivers of β across NCSCD pedons (mixed model
  β ~ MAT + MAP, z-scored, random intercept per region) and β compared across soil orders and
  ecosystems (ANOVA + Duncan), from the depth-function fit table.

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023

He, X., Abramoff, R. Z., Abs, E., Georgiou, K., Zhang, H. & Goll, D. S. (2024). Model uncertainty
obscures major driver of soil carbon. Nature. https://doi.org/10.1038/s41586-023-06999-1

Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from wholesoil._atomic import save_figure, write_text
from wholesoil._record import write_run_record
from wholesoil.errors import InputDataError, MissingColumnError
from wholesoil.io._write import write_table
from wholesoil.stats._anova import MultipleComparison, duncan_test, tukey_hsd
from wholesoil.stats._mixed import (
    MixedModelResult,
    fit_mixed,
    table_to_markdown,
    zscore_columns,
)
from wholesoil.workflows._jobs import JobResult

PosthocTest = Literal["duncan", "tukey"]
POSTHOC_TESTS: tuple[str, ...] = ("duncan", "tukey")


def _read(table: str | Path | pd.DataFrame, column_map: Mapping[str, str] | None = None,
          units: Mapping[str, str] | None = None) -> tuple[pd.DataFrame, str | None]:
    from wholesoil.workflows._read import read_any_table

    return read_any_table(table, column_map=column_map, units=units)


def _rel(outputs: Mapping[str, Path], out: Path) -> dict[str, str]:
    return {k: str(Path(v).relative_to(out)) for k, v in outputs.items()}


# ---- mixed -----------------------------------------------------------------------------------


def mixed_job(
    table: str | Path | pd.DataFrame,
    out: str | Path,
    *,
    formula: str,
    group: str,
    slopes: Sequence[str] | None = None,
    zscore: Sequence[str] | None = None,
    nested: Sequence[str] | None = None,
    reml: bool = True,
    df_method: Literal["normal", "residual"] = "normal",
    pca: Mapping[str, Sequence[str]] | None = None,
    column_map: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
) -> JobResult:
    """Fit a linear mixed model to a table and write the He et al. (2024) Table 1 report.

    Parameters
    ----------
    table : path or DataFrame
        CSV or Parquet, one row per observation.
    out : path
        Output folder: ``tables/report.csv`` / ``report.md`` / ``report.html`` (He et al. (2024)
        layout), ``tables/fixed_effects.csv``, ``tables/variance_components.csv``,
        ``tables/random_effects.csv``, ``tables/predictions.csv`` (input rows with
        ``observed``, ``fitted_conditional`` (with random effects), ``fitted_marginal``,
        ``residual``), ``tables/zscore.csv`` (means and sds used), ``figures/coefficients.png``,
        ``run.json``.
    formula : str
        Fixed effects, e.g. ``"log10(soc) ~ npp + mat + depth"`` (patsy).
    group : str
        Grouping column of the random effects.
    slopes : sequence of str, optional
        Variables with random slopes (correlated with the intercept).
    zscore : sequence of str, optional
        Columns z-scored (R ``scale``) before fitting, as He et al. (2024) does.
    nested : sequence of str, optional
        Columns of factors nested in ``group``, each with a random intercept (lme4's
        ``(1 | group/col)``).
    reml : bool
        REML (default) or ML.
    df_method : {"normal", "residual"}
        Reference distribution of the Wald tests.
    pca : mapping of group name to columns, optional
        Wang G. et al. (manuscript) Eqs. 7–8: each covariate group (e.g. ``{"climate": ["mat",
        "map", …], "soil": [...]}``) is reduced by a PCA of its standardized columns keeping the
        components with eigenvalue > 1 (:class:`~wholesoil.stats.GroupedPCA`); the retained
        scores ``<group>_PC1``, … are added to the table and **appended to the fixed effects**
        of ``formula`` (write ``"y ~ 1"`` to use the components alone). Writes
        ``tables/pca_loadings.csv`` and ``tables/pca_eigenvalues.csv``.
    column_map, units : mapping, optional
        The table's columns read under other names and converted from units
        (:func:`~wholesoil.workflows._read.read_any_table`); the formula and the other options
        name them as renamed.
    """
    t0 = time.perf_counter()
    out = Path(out)
    data, label = _read(table, column_map, units)
    pca_tables: dict[str, pd.DataFrame] = {}
    if pca:
        data, formula, pca_tables = _grouped_pca_terms(data, formula, pca, label)
    zs = None
    if zscore:
        data, zs = zscore_columns(data, list(zscore))
    vc = {c: f"0 + C({c})" for c in (nested or [])}
    for c in vc:
        if c not in data.columns:
            raise MissingColumnError(
                f"nested factor not in the table; available: {list(map(str, data.columns))}",
                file=label, field=c)
    res = fit_mixed(data, formula, group, slopes=slopes, vc_formula=vc, reml=reml,
                    df_method=df_method)
    report = res.report_table()
    t = out / "tables"
    outputs: dict[str, Path] = {
        "report": write_table(report, t / "report.csv"),
        "report_md": write_text(t / "report.md", _markdown_report(res, report)),
        "report_html": write_text(t / "report.html", report.to_html(index=False)),
        "fixed_effects": write_table(res.fixed_effects, t / "fixed_effects.csv"),
        "variance_components": write_table(res.variance_components,
                                           t / "variance_components.csv"),
        "random_effects": write_table(res.random_effects.reset_index(),
                                      t / "random_effects.csv"),
    }
    pred = data.copy()
    pred["observed"] = res.fitted + _residuals(res)
    pred["fitted_conditional"] = res.fitted
    pred["fitted_marginal"] = res.fitted_fixed
    pred["residual"] = _residuals(res)
    outputs["predictions"] = write_table(pred, t / "predictions.csv")
    if zs is not None:
        outputs["zscore"] = write_table(zs, t / "zscore.csv")
    for name, tab in pca_tables.items():
        outputs[f"pca_{name}"] = write_table(tab, t / f"pca_{name}.csv")
    outputs["figure_coefficients"] = save_figure(_coefficient_figure(res),
                                                 out / "figures" / "coefficients.png")
    messages = [
        f"mixed model {formula} + (" + ("1" if not slopes else "1 + " + " + ".join(slopes))
        + f" | {group})" + "".join(f" + (1 | {group}:{c})" for c in vc)
        + f", {'REML' if reml else 'ML'}: {res.n_obs} observations in {res.n_groups} groups; "
        f"marginal R² = {res.r2_marginal:.3f}, conditional R² = {res.r2_conditional:.3f}, "
        f"ICC = {res.icc_adjusted:.3f}",
        *[f"warning: {w}" for w in res.warnings],
    ]
    if not res.converged:
        messages.append("warning: the optimizer did not converge; see run.json")
    outputs["run"] = write_run_record(
        out, command="wholesoil mixed", inputs={"table": label or "DataFrame"},
        extra={"input": label or "DataFrame", "formula": formula,
               "pca_groups": {k: list(v) for k, v in (pca or {}).items()},
               "slopes": list(slopes or []), "zscore": list(zscore or []),
               "nested": list(nested or []), "model": res.summary_dict()},
        timings={"total": time.perf_counter() - t0}, outputs=_rel(outputs, out))
    return JobResult(report, outputs, None, messages)


def _grouped_pca_terms(data: pd.DataFrame, formula: str, groups: Mapping[str, Sequence[str]],
                       label: str | None) -> tuple[pd.DataFrame, str, dict[str, pd.DataFrame]]:
    """Add each group's retained principal components to the table and the formula."""
    from wholesoil.stats import GroupedPCA

    if "~" not in formula:
        raise InputDataError("formula needs a response and '~'", file=label, field="formula",
                             value=formula)
    cols = [c for cs in groups.values() for c in cs]
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise MissingColumnError(f"PCA column(s) {missing} not in the table; available: "
                                 f"{list(map(str, data.columns))}", file=label, field=missing[0])
    bad = data[cols].isna().any(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputDataError("PCA columns must be complete (no missing values)", file=label,
                             row=row, field=str(data[cols].columns[data[cols].iloc[row].isna()][0]))
    gp = GroupedPCA(groups={k: list(v) for k, v in groups.items()}, remainder="drop")
    scores = gp.fit_transform(data[cols])
    names = [str(n) for n in gp.get_feature_names_out()]
    clash = [n for n in names if n in data.columns]
    if clash:
        raise InputDataError(f"the table already has column(s) {clash}", file=label,
                             field=clash[0])
    out = data.copy()
    out[names] = scores
    formula = formula.rstrip() + " + " + " + ".join(names)
    eig = pd.DataFrame([
        {"group": g, "component": i + 1, "eigenvalue": float(ev),
         "kept": i < gp.n_components_[g],
         "explained_variance_ratio": float(ev) / len(gp.groups_[g])}
        for g, evs in gp.eigenvalues_.items() for i, ev in enumerate(evs)])
    load = gp.loadings_.reset_index(names="column")
    return out, formula, {"loadings": load, "eigenvalues": eig}


def _residuals(res: MixedModelResult) -> np.ndarray:
    return np.asarray(res.statsmodels_result.model.endog, float) - res.fitted


def _markdown_report(res: MixedModelResult, report: pd.DataFrame) -> str:
    head = (f"**{res.response}** — linear mixed model ({'REML' if res.reml else 'ML'}), "
            f"random effects by `{res.group}`; CI = {res.ci_level:.0%} Wald interval, p = Wald "
            f"{'z' if res.df_method == 'normal' else 't'} test; ICC adjusted and marginal / "
            "conditional R² of Nakagawa & Schielzeth (as R performance).\n\n")
    return head + table_to_markdown(report)


def _coefficient_figure(res: MixedModelResult) -> Any:
    from matplotlib.figure import Figure

    fe = res.fixed_effects[res.fixed_effects["term"] != "(Intercept)"]
    fig = Figure(figsize=(5.0, 0.5 * max(len(fe), 1) + 1.5))
    ax = fig.subplots()
    y = np.arange(len(fe))[::-1]
    ax.errorbar(fe["estimate"], y, xerr=[fe["estimate"] - fe["ci_lower"],
                                         fe["ci_upper"] - fe["estimate"]],
                fmt="o", color="k", capsize=3)
    ax.axvline(0.0, color="0.6", lw=1, ls="--")
    ax.set_yticks(y, fe["term"].tolist())
    ax.set_xlabel(f"estimate with {res.ci_level:.0%} CI")
    ax.set_title(f"{res.response}; R²m = {res.r2_marginal:.2f}, R²c = {res.r2_conditional:.2f}",
                 fontsize=9)
    fig.tight_layout()
    return fig


# ---- anova -----------------------------------------------------------------------------------


def posthoc(values: Any, groups: Any, test: PosthocTest = "duncan", alpha: float = 0.05
            ) -> MultipleComparison:
    """Duncan's multiple range test or Tukey HSD after a one-way ANOVA."""
    if test not in POSTHOC_TESTS:
        raise InputDataError(f"test must be one of {list(POSTHOC_TESTS)}", field="test",
                             value=test)
    return (duncan_test if test == "duncan" else tukey_hsd)(values, groups, alpha=alpha)


def anova_job(
    table: str | Path | pd.DataFrame,
    out: str | Path,
    *,
    response: str,
    group: str,
    test: PosthocTest = "duncan",
    alpha: float = 0.05,
    drop_missing: bool = False,
    column_map: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
) -> JobResult:
    """One-way ANOVA of ``response`` across ``group`` with compact letters (Wang H. et al. (2025)
    §2.8).

    Writes ``tables/anova.csv`` (F, df, SS, MS, p), ``tables/groups.csv`` (group, mean, n, sd,
    letters; highest mean first), ``tables/pairwise.csv``, ``tables/critical.csv`` (Duncan's
    critical ranges or Tukey's), ``figures/groups.png`` (box and violin with letters),
    ``run.json``; with ``drop_missing``, rows without a value or group are left out and listed
    in ``tables/excluded.csv`` (without it they are an error). ``column_map`` and ``units``
    read the table's columns under other names and units
    (:func:`~wholesoil.workflows._read.read_any_table`); ``response`` and ``group`` name them
    as renamed.
    """
    t0 = time.perf_counter()
    out = Path(out)
    data, label = _read(table, column_map, units)
    for c in (response, group):
        if c not in data.columns:
            raise MissingColumnError(
                f"column not in the table; available: {list(map(str, data.columns))}",
                file=label, field=c)
    v = pd.to_numeric(data[response], errors="coerce")
    text_bad = v.isna() & data[response].notna()
    if text_bad.any():
        i = int(np.flatnonzero(text_bad.to_numpy())[0])
        raise InputDataError("expected a number", file=label, row=i + 2, field=response,
                             value=data[response].iloc[i], has_value=True)
    missing = v.isna() | ~np.isfinite(v.fillna(0.0)) | data[group].isna()
    excluded = data.loc[missing].assign(
        row=np.flatnonzero(missing.to_numpy()) + 2,
        reason=np.where(data.loc[missing, group].isna(), f"no {group}", f"no {response}"))
    if missing.any() and not drop_missing:
        i = int(np.flatnonzero(missing.to_numpy())[0])
        raise InputDataError(
            f"missing value or group in {int(missing.sum())} row(s); fill them or pass "
            "--drop-missing to leave them out (they are then listed in tables/excluded.csv)",
            file=label, row=i + 2, field=response if pd.isna(v.iloc[i]) else group)
    keep = ~missing
    vals = v[keep].to_numpy(float)
    grp = data.loc[keep, group].astype(str).to_numpy()
    mc = posthoc(vals, grp, test, alpha)
    a = mc.anova
    anova = pd.DataFrame([
        {"source": group, "df": a.df_between, "ss": a.ss_between, "ms": a.ms_between,
         "F": a.f_statistic, "p_value": a.p_value},
        {"source": "Residuals", "df": a.df_within, "ss": a.ss_within, "ms": a.ms_within,
         "F": np.nan, "p_value": np.nan},
    ])
    t = out / "tables"
    outputs = {
        "anova": write_table(anova, t / "anova.csv"),
        "groups": write_table(mc.means, t / "groups.csv"),
        "pairwise": write_table(mc.pairwise, t / "pairwise.csv"),
        "critical": write_table(mc.critical, t / "critical.csv"),
    }
    if len(excluded):
        outputs["excluded"] = write_table(excluded, t / "excluded.csv")
    letters = dict(zip(mc.means["group"], mc.means["letters"], strict=True))
    outputs["figure_groups"] = save_figure(
        group_figure(vals, grp, letters, ylabel=response,
                     title=f"{test.capitalize()}, α = {alpha}"),
        out / "figures" / "groups.png")
    messages = [
        f"one-way ANOVA of {response} over {len(mc.means)} {group} groups (n = {vals.size}): "
        f"F({a.df_between}, {a.df_within}) = {a.f_statistic:.3f}, p = {a.p_value:.3g}; "
        f"{test} letters at α = {alpha}: "
        + ", ".join(f"{g} {s}" for g, s in letters.items())
    ]
    if len(excluded):
        messages.append(f"{len(excluded)} row(s) without value or group left out "
                        "(tables/excluded.csv)")
    outputs["run"] = write_run_record(
        out, command="wholesoil anova", inputs={"table": label or "DataFrame"},
        extra={"input": label or "DataFrame", "response": response, "group": group,
               "test": test, "alpha": alpha, "n": int(vals.size), "excluded": len(excluded),
               "F": a.f_statistic, "p_value": a.p_value, "letters": letters},
        timings={"total": time.perf_counter() - t0}, outputs=_rel(outputs, out))
    return JobResult(mc.means, outputs, None, messages)


def group_figure(values: Any, groups: Any, letters: Mapping[str, str] | None = None, *,
                 ylabel: str = "", title: str = "") -> Any:
    """Violins with box plots inside, groups by decreasing mean, compact letters on top."""
    from matplotlib.figure import Figure

    df = pd.DataFrame({"v": np.asarray(values, float), "g": np.asarray(groups).astype(str)})
    order = df.groupby("g")["v"].mean().sort_values(ascending=False).index.tolist()
    data = [df.loc[df["g"] == g, "v"].to_numpy() for g in order]
    fig = Figure(figsize=(1.1 * len(order) + 2.5, 4.2))
    ax = fig.subplots()
    pos = np.arange(1, len(order) + 1)
    vio = [i for i, d in enumerate(data) if d.size > 1 and np.ptp(d) > 0]
    if vio:
        parts = ax.violinplot([data[i] for i in vio], positions=pos[vio], showextrema=False)
        for b in parts["bodies"]:
            b.set_alpha(0.3)
    ax.boxplot(data, positions=pos, widths=0.15, showmeans=True)
    ax.set_xticks(pos, [f"{g}\n(n={len(d)})" for g, d in zip(order, data, strict=True)],
                  fontsize=8)
    top = max(float(np.max(d)) for d in data if d.size)
    bottom = min(float(np.min(d)) for d in data if d.size)
    pad = 0.05 * (top - bottom if top > bottom else 1.0)
    if letters:
        for i, g in zip(pos, order, strict=True):
            ax.text(i, top + pad, letters.get(g, ""), ha="center", va="bottom", fontsize=10)
        ax.set_ylim(top=top + 4 * pad)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig


# ---- demo stage ------------------------------------------------------------------------------


@dataclass
class DriversStage:
    """Output of :func:`drivers_stage_tables`.

    Attributes
    ----------
    tables : dict of DataFrame
        ``data`` (pedons used, with mat/map), ``excluded`` (pedon, reason), and when fitted
        ``mixed_report`` (He et al. (2024) layout), ``mixed_fixed_effects``,
        ``mixed_variance_components``, ``mixed_random_effects``; per compared column c,
        ``anova_<c>``, ``groups_<c>`` (means with letters), ``pairwise_<c>``.
    figures : dict of matplotlib Figure
        ``mixed_coefficients`` and ``groups_<c>``.
    mixed : MixedModelResult or None
    comparisons : dict of MultipleComparison
    messages : list of str
        Sentences for the report (what was fitted, what was left out and why).
    """

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    mixed: MixedModelResult | None = None
    comparisons: dict[str, MultipleComparison] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)


def drivers_stage_tables(
    fits: pd.DataFrame,
    sites: pd.DataFrame | None = None,
    *,
    response: str = "beta",
    group: str = "region",
    covariates: Sequence[str] = ("mat", "map"),
    compare: Sequence[str] = ("soil_order", "ecosystem"),
    min_group_size: int = 5,
    exclude_bound: bool = True,
    test: PosthocTest = "duncan",
    alpha: float = 0.05,
    climate_method: str = "nearest",
) -> DriversStage:
    """β drivers and group comparisons across pedons (demo stage; Wang H. et al. (2025),
    He et al. (2024), Wang G. et al. (manuscript)).

    1. Mixed model ``response ~ covariates`` with the covariates z-scored and a random
       intercept per ``group`` (He et al. (2024) Table 1 form, region in place of source), reported
       in the He et al. (2024) layout with Nakagawa R².
    2. For each column of ``compare`` present: one-way ANOVA and Duncan's test
    (Wang H. et al. (2025) §2.8).

    Parameters
    ----------
    fits : pandas.DataFrame
        One row per pedon: ``profile_id``, ``response`` (β from
        :func:`wholesoil.depth.fit_depth_functions`), optionally ``warnings`` (fits ending on a
        bound of β are left out when ``exclude_bound``), ``mat``/``map`` and the group columns.
    sites : pandas.DataFrame, optional
        Site table (``profile_id``, ``lat``, ``lon`` and group columns, e.g.
        ``datasets.load_ncscd().sites``) merged on ``profile_id`` for what ``fits`` lacks;
        MAT [°C] and MAP [mm yr⁻¹] come from :func:`wholesoil.datasets.climate_at` when absent.
    min_group_size : int
        Groups with fewer pedons are left out of both analyses (listed in ``excluded``).

    Returns
    -------
    DriversStage
    """
    if "profile_id" not in fits.columns or response not in fits.columns:
        raise MissingColumnError(f"the fits table needs profile_id and {response!r}; "
                                 f"available: {list(map(str, fits.columns))}", field=response)
    df = fits.copy()
    if sites is not None:
        extra = [c for c in sites.columns if c not in df.columns or c == "profile_id"]
        df = df.merge(sites[extra], on="profile_id", how="left")
    messages: list[str] = []
    missing_cov = [c for c in covariates if c not in df.columns]
    if missing_cov:
        if set(missing_cov) - {"mat", "map"} or not {"lat", "lon"} <= set(df.columns):
            raise MissingColumnError(
                f"covariates {missing_cov} are not in the tables, and MAT/MAP can only be "
                "looked up with lat/lon", field=missing_cov[0])
        from wholesoil.datasets import climate_at

        has_xy = df["lat"].notna() & df["lon"].notna()
        clim = climate_at(df.loc[has_xy, "lat"].to_numpy(float),
                          df.loc[has_xy, "lon"].to_numpy(float), method=climate_method)
        for c in missing_cov:
            df[c] = np.nan
            df.loc[has_xy, c] = clim[c].to_numpy(float)
        messages.append(f"MAT [°C] and MAP [mm yr⁻¹] at each pedon from the bundled climate "
                        f"grids ({climate_method}).")

    reason = pd.Series("", index=df.index, dtype=object)
    y = pd.to_numeric(df[response], errors="coerce")
    reason[y.isna()] = f"no {response}"
    if exclude_bound and "warnings" in df.columns:
        on_bound = df["warnings"].fillna("").astype(str).str.contains("bound")
        reason[(reason == "") & on_bound] = f"{response} fit ended on a bound"
    for c in covariates:
        reason[(reason == "") & pd.to_numeric(df[c], errors="coerce").isna()] = f"no {c}"
    base = reason == ""

    out = DriversStage(messages=messages)
    excluded_rows = [df.loc[~base, ["profile_id"]].assign(analysis="all",
                                                          reason=reason[~base])]

    # 1. mixed model with a random intercept per group
    if group in df.columns:
        sel = base & df[group].notna()
        counts = df.loc[sel, group].value_counts()
        small = df[group].isin(counts[counts < min_group_size].index) & sel
        excluded_rows.append(df.loc[base & df[group].isna(), ["profile_id"]].assign(
            analysis="mixed", reason=f"no {group}"))
        excluded_rows.append(df.loc[small, ["profile_id"]].assign(
            analysis="mixed", reason=f"{group} with < {min_group_size} pedons"))
        use = sel & ~small
        if df.loc[use, group].nunique() >= 2:
            data = df.loc[use].reset_index(drop=True)
            z, zs = zscore_columns(data, list(covariates))
            formula = f"{response} ~ " + " + ".join(covariates)
            res = fit_mixed(z, formula, group)
            out.mixed = res
            out.tables["data"] = data
            out.tables["mixed_zscore"] = zs
            out.tables["mixed_report"] = res.report_table(digits=4)
            out.tables["mixed_fixed_effects"] = res.fixed_effects
            out.tables["mixed_variance_components"] = res.variance_components
            out.tables["mixed_random_effects"] = res.random_effects.reset_index()
            out.figures["mixed_coefficients"] = _coefficient_figure(res)
            messages.append(
                f"Linear mixed model {formula} + (1 | {group}) with z-scored {list(covariates)} "
                f"(REML; He et al. (2024) Table 1 form): {res.n_obs} pedons in {res.n_groups} "
                f"{group} groups; marginal R² = {res.r2_marginal:.3f}, conditional R² = "
                f"{res.r2_conditional:.3f}, ICC = {res.icc_adjusted:.3f}."
                + (f" Fit warnings: {'; '.join(res.warnings)}." if res.warnings else ""))
        else:
            messages.append(f"Mixed model not fitted: fewer than two {group} groups with "
                            f"≥ {min_group_size} pedons.")

    # 2. group comparisons
    for col in compare:
        if col not in df.columns:
            continue
        sel = base & df[col].notna()
        counts = df.loc[sel, col].astype(str).value_counts()
        keep_groups = counts[counts >= min_group_size].index
        use = sel & df[col].astype(str).isin(keep_groups)
        excluded_rows.append(df.loc[sel & ~use, ["profile_id"]].assign(
            analysis=f"anova_{col}", reason=f"{col} with < {min_group_size} pedons"))
        if len(keep_groups) < 2:
            messages.append(f"No comparison across {col}: fewer than two groups with "
                            f"≥ {min_group_size} pedons.")
            continue
        vals = y[use].to_numpy(float)
        grp = df.loc[use, col].astype(str).to_numpy()
        mc = posthoc(vals, grp, test, alpha)
        out.comparisons[col] = mc
        a = mc.anova
        out.tables[f"anova_{col}"] = pd.DataFrame([{
            "F": a.f_statistic, "df_between": a.df_between, "df_within": a.df_within,
            "p_value": a.p_value, "ms_within": a.ms_within, "n": int(vals.size)}])
        out.tables[f"groups_{col}"] = mc.means
        out.tables[f"pairwise_{col}"] = mc.pairwise
        letters = dict(zip(mc.means["group"], mc.means["letters"], strict=True))
        out.figures[f"groups_{col}"] = group_figure(
            vals, grp, letters, ylabel=response,
            title=f"{response} by {col}: {test.capitalize()} letters, α = {alpha}")
        messages.append(
            f"{response} across {len(keep_groups)} {col} groups (n = {vals.size}): "
            f"F({a.df_between}, {a.df_within}) = {a.f_statistic:.3f}, p = {a.p_value:.3g}; "
            f"groups sharing a letter do not differ ({test}, α = {alpha}).")
    out.tables["excluded"] = pd.concat(excluded_rows, ignore_index=True)
    n_ex = out.tables["excluded"]["profile_id"].nunique()
    if n_ex:
        messages.append(f"{n_ex} pedon(s) left out of at least one analysis; reasons in the "
                        "excluded table.")
    return out
