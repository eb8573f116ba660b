"""Figures of digital soil mapping: observed against predicted, skill by depth, importance
and partial dependence of fitted learners.

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from wholesoil.errors import InputDataError
from wholesoil.plots._style import axis_label


def _skill(observed: np.ndarray, predicted: np.ndarray) -> tuple[int, float, float]:
    """n, R² (Wang H. et al. (2025) Eq. 4: 1 − Σ(y − ŷ)² / Σ(y − ȳ)²) and RMSE (Eq. 5) of the finite
    pairs."""
    ok = np.isfinite(observed) & np.isfinite(predicted)
    y, p = observed[ok], predicted[ok]
    if y.size == 0:
        return 0, float("nan"), float("nan")
    sst = float(np.sum((y - y.mean()) ** 2))
    sse = float(np.sum((y - p) ** 2))
    r2 = 1.0 - sse / sst if sst > 0 else float("nan")
    return int(y.size), r2, float(np.sqrt(sse / y.size))


def plot_observed_predicted(
    observed: np.ndarray,
    predicted: np.ndarray,
    *,
    label: str,
    r2: float | None = None,
    rmse: float | None = None,
    units: str = "",
    title: str | None = None,
) -> Figure:
    """Observed against predicted on equal axes with the 1:1 line; R², RMSE and n in the panel.

    Parameters
    ----------
    observed, predicted : array
        Paired values [the variable's unit].
    label : str
        The variable's name (axis labels "observed …" and "predicted …").
    r2, rmse : float, optional
        Skill to print (e.g. cross-validated). Computed from the finite pairs when not given:
        R² = 1 − Σ(y − ŷ)²/Σ(y − ȳ)² (Wang H. et al. (2025) Eq. 4) and RMSE = √(Σ(y − ŷ)²/q) (Eq.
        5).
    units : str
        Unit of the variable, shown on both axes and after the RMSE.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; the 1:1 line has the label ``"1:1"``.
    """
    obs = np.asarray(observed, float).ravel()
    pred = np.asarray(predicted, float).ravel()
    if obs.shape != pred.shape:
        raise InputDataError(f"observed has {obs.size} values and predicted {pred.size}; they "
                             "must pair one to one", field="predicted", value=pred.size)
    n, r2_c, rmse_c = _skill(obs, pred)
    r2 = r2_c if r2 is None else r2
    rmse = rmse_c if rmse is None else rmse
    unit = f" [{units}]" if units else ""
    fig = Figure(figsize=(4.4, 4.4))
    ax = fig.subplots()
    ax.scatter(obs, pred, s=9, alpha=0.6, edgecolors="none")
    both = np.concatenate([obs, pred])
    both = both[np.isfinite(both)]
    lo, hi = (float(both.min()), float(both.max())) if both.size else (0.0, 1.0)
    pad = 0.04 * (hi - lo or 1.0)
    lim = (lo - pad, hi + pad)
    ax.plot(lim, lim, "k--", lw=1, label="1:1")
    ax.set_xlim(lim)
    ax.set_ylim(lim)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(f"observed {label}{unit}")
    ax.set_ylabel(f"predicted {label}{unit}")
    ax.text(0.04, 0.96, f"R² = {r2:.3f}\nRMSE = {rmse:.3g}{' ' + units if units else ''}\n"
            f"n = {n}", transform=ax.transAxes, va="top", ha="left", fontsize=9,
            bbox={"boxstyle": "round", "fc": "white", "ec": "0.7", "alpha": 0.9}, gid="skill")
    ax.legend(loc="lower right", fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_skill_by_depth(
    table: pd.DataFrame,
    *,
    metrics: Sequence[str] = ("r2", "rmse"),
    group: str | None = None,
    units: str = "",
    title: str | None = None,
) -> Figure:
    """Skill per depth band, depth downward: one panel per metric, one line per model.

    Parameters
    ----------
    table : pandas.DataFrame
        ``top, bottom`` [cm] and the metric columns (e.g. from
        :func:`wholesoil.mapping.depthwise_metrics`: ``r2`` (Wang H. et al. (2025) Eq. 4), ``rmse``
        (Eq. 5), ``bias``), optionally a ``group`` column (one line per model).
    metrics : sequence of str
        Columns to draw.
    units : str
        Unit of RMSE and bias (R² is dimensionless).

    Returns
    -------
    matplotlib.figure.Figure
        ``len(metrics)`` axes sharing an inverted depth axis; each band is a vertical bar from its
        top to its bottom at the metric's value, joined by a line through the band midpoints.
    """
    need = ["top", "bottom", *metrics] + ([group] if group else [])
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise InputDataError(f"skill table lacks columns {missing}", field=missing[0])
    names = {"r2": "R² [-]", "rmse": f"RMSE{f' [{units}]' if units else ''}",
             "bias": f"bias{f' [{units}]' if units else ''}", "nse": "NSE [-]"}
    fig = Figure(figsize=(3.0 * len(metrics) + 0.6, 4.2))
    axes = fig.subplots(1, len(metrics), sharey=True, squeeze=False)[0]
    groups = [(None, table)] if group is None else list(table.groupby(group, sort=False))
    for ax, col in zip(axes, metrics, strict=True):
        for gname, g in groups:
            g = g.sort_values("top")
            top, bottom = g["top"].to_numpy(float), g["bottom"].to_numpy(float)
            v = g[col].to_numpy(float)
            (line,) = ax.plot(v, 0.5 * (top + bottom), "o-", ms=4, lw=1.2,
                              label=None if gname is None else str(gname))
            ax.vlines(v, top, bottom, color=line.get_color(), lw=2.5, alpha=0.6)
        if col in ("r2", "nse"):
            ax.set_xlim(min(np.nanmin(table[col].to_numpy(float), initial=0.0), 0.0) - 0.05, 1.0)
        if col in ("r2", "bias", "nse"):
            ax.axvline(0.0, color="0.3", lw=0.8)
        ax.set_xlabel(names.get(col, col))
        ax.grid(alpha=0.3)
    axes[0].invert_yaxis()  # shared y: depth increases downward on every panel
    axes[0].set_ylabel("depth [cm]")
    if group is not None:
        axes[0].legend(fontsize=7, loc="lower left")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig



def _unit_of(label: str) -> str:
    """The unit of a target's axis label (``"soc_density"`` → ``"Mg C ha⁻¹"``); a label given
    with its unit (``"x [u]"``) keeps it; "" when unknown."""
    text = axis_label(label) if label else ""
    return text[text.rfind("[") + 1:-1] if text.endswith("]") and "[" in text else ""


def _quantity_of(label: str) -> str:
    """The quantity of a target's axis label, without its unit."""
    text = axis_label(label)
    return text[:text.rfind("[")].strip() if text.endswith("]") and "[" in text else text


def plot_depth_skill(table: pd.DataFrame, *, label: str = "") -> Figure:
    """Bars of R² and RMSE per depth band, depth downward (from :func:`depthwise_metrics`)."""
    fig = Figure(figsize=(6.4, 4.0))
    axes = fig.subplots(1, 2, sharey=True)
    mid = 0.5 * (table["top"] + table["bottom"]).to_numpy(float)
    height = (table["bottom"] - table["top"]).to_numpy(float)
    for ax, col in zip(axes, ("r2", "rmse"), strict=True):
        value = table[col].to_numpy(float)
        ax.barh(mid, np.nan_to_num(value), height=height * 0.9, color="tab:blue", alpha=0.7,
                edgecolor="0.2")
        unit = _unit_of(label)
        if col == "r2":
            ax.set_xlabel("R² [-]")
        else:
            ax.set_xlabel(f"RMSE [{unit}]" if unit else
                          f"RMSE [unit of {label}]" if label else "RMSE [target unit]")
        ax.axvline(0.0, color="0.3", lw=0.8)
        ax.grid(alpha=0.3, axis="x")
        if col == "r2":  # R² ≤ 1; keep the scale honest when every band is near 0 or 1
            low = np.nanmin(value, initial=0.0)
            ax.set_xlim(min(low, 0.0) - 0.05, 1.0)
        for y, v, n in zip(mid, value, table["n"], strict=True):
            ax.annotate(f"n={n}" if np.isfinite(v) else f"n={n} (n/a)", (0, y), fontsize=7,
                        xytext=(3, 0), textcoords="offset points", va="center")
    axes[0].set_yticks(mid, table["band"].tolist())
    axes[0].invert_yaxis()  # shared y: depth increases downward
    axes[0].set_ylabel("depth band [cm]")
    fig.suptitle(f"skill by depth{f': {_quantity_of(label)}' if label else ''}", fontsize=10)
    fig.tight_layout()
    return fig



def plot_importance(
    table: pd.DataFrame, *, column: str = "pct_inc_mse", max_features: int | None = None
) -> Figure:
    """Horizontal bars of permutation importance, most important at the top.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`permutation_importance_table`.
    column : {"pct_inc_mse", "importance_mean"}
        Increase of MSE relative to the baseline [%] or in target unit².
    max_features : int, optional
        Draw only the most important ones.
    """
    if column not in ("pct_inc_mse", "importance_mean"):
        raise InputDataError(
            "column must be 'pct_inc_mse' or 'importance_mean'", field="column", value=column,
            has_value=True,
        )
    t = table.sort_values("importance_mean", ascending=False, kind="stable")
    if max_features is not None:
        t = t.head(max_features)
    value = t[column].to_numpy(float)
    sd = t["importance_sd"].to_numpy(float)
    if column == "pct_inc_mse":
        sd = 100.0 * sd / t["baseline_mse"].to_numpy(float)
    fig = Figure(figsize=(5.0, 0.35 * len(t) + 1.2))
    ax = fig.subplots()
    pos = np.arange(len(t))
    ax.barh(pos, value, xerr=sd, color="tab:green", alpha=0.75, edgecolor="0.2",
            error_kw={"lw": 0.8, "capsize": 2})
    ax.set_yticks(pos, [axis_label(f) for f in t["feature"]])
    ax.invert_yaxis()  # most important on top
    ax.axvline(0.0, color="0.3", lw=0.8)
    ax.set_xlabel(
        "increase in MSE on permutation [% of baseline MSE]" if column == "pct_inc_mse"
        else "increase in MSE on permutation [target unit²]"
    )
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def plot_partial_dependence(
    pd_table: pd.DataFrame,
    ice_table: pd.DataFrame | None = None,
    *,
    observed: pd.DataFrame | None = None,
    ylabel: str = "prediction",
    ncols: int = 3,
    sharey: bool = True,
) -> Figure:
    """One panel per driver: ICE curves faint behind the partial-dependence line, and a rug.

    Parameters
    ----------
    pd_table, ice_table : pandas.DataFrame
        Outputs of :func:`partial_dependence_table`.
    observed : pandas.DataFrame, optional
        Table with the drivers' columns; their observed values are drawn as a rug (ticks along
        the bottom of each panel).
    ylabel : str
        Label of the prediction axis (target and unit).
    ncols : int, default 3
        Panels per row.
    sharey : bool, default True
        Same prediction axis for every panel, so effect sizes compare across drivers.
    """
    names = list(pd.unique(pd_table["feature"]))
    if not names:
        raise InputDataError("pd_table has no drivers to draw", field="feature")
    ncols = max(1, min(ncols, len(names)))
    nrows = -(-len(names) // ncols)
    fig = Figure(figsize=(3.2 * ncols, 2.8 * nrows))
    axes = fig.subplots(nrows, ncols, sharey=sharey, squeeze=False).ravel()
    for ax, name in zip(axes, names, strict=False):
        part = pd_table[pd_table["feature"] == name]
        if ice_table is not None:
            ice = ice_table[ice_table["feature"] == name].sort_values(
                ["curve", "value"], kind="stable"
            )
            n_grid = int(ice.groupby("curve").size().iloc[0]) if len(ice) else 0
            if n_grid:
                xy = np.stack(
                    [ice["value"].to_numpy(float), ice["prediction"].to_numpy(float)], axis=1
                ).reshape(-1, n_grid, 2)
                ax.add_collection(LineCollection(xy, colors="0.55", linewidths=0.5, alpha=0.25))
        ax.plot(part["value"], part["average"], color="tab:red", lw=2.2, label="partial dependence")
        if observed is not None and name in observed:
            values = pd.to_numeric(observed[name], errors="coerce").to_numpy(float)
            values = np.unique(values[np.isfinite(values)])
            ax.plot(values, np.zeros_like(values), "|", color="0.2", ms=8, alpha=0.5,
                    transform=ax.get_xaxis_transform())
        ax.autoscale_view()
        ax.set_xlabel(axis_label(name))
        ax.grid(alpha=0.3)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    for ax in axes[::ncols]:
        ax.set_ylabel(axis_label(ylabel))
    axes[0].legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig



def plot_cv_depth(result: Any, bands: Sequence[Sequence[float]] | None = None, *,
                  assign: str = "midpoint") -> Figure:
    """R² and RMSE of each depth band of a validation result against depth (downward).

    ``result`` is a :class:`~wholesoil.mapping.ValidationResult` (or
    :class:`~wholesoil.mapping.CVResult`); ``bands`` and ``assign`` go to its ``by_depth``.
    """
    return plot_depth_skill(result.by_depth(bands, assign=assign), label=result.target)


def plot_cv_observed_predicted(result: Any) -> Figure:
    """Observed against predicted of a validation result, with the 1:1 line, R² and RMSE
    (Wang H. et al. (2025) Eqs. 4–5)."""
    p = result.predictions
    return plot_observed_predicted(
        p["observed"].to_numpy(float), p["predicted"].to_numpy(float),
        label=result.target, r2=result.metrics["r2"], rmse=result.metrics["rmse"],
    )
