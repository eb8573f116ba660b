"""Figures as the field expects them: depth downward, 1:1 lines, priors, maps with coastlines.

Every function takes tables or arrays and returns a new matplotlib ``Figure`` built without
pyplot (no global backend state, safe headless and in threads); saving is the caller's job
(workflows save atomically).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from wholesoil.errors import InputDataError


def _step(top: np.ndarray, bottom: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step-line coordinates (x, depth) of layer values; gaps break the line with NaN."""
    xs, ys = [], []
    for t, b, v in zip(top, bottom, value, strict=True):
        xs += [v, v, np.nan]
        ys += [t, b, np.nan]
    return np.asarray(xs, float), np.asarray(ys, float)


def plot_profiles(
    horizons: pd.DataFrame,
    variable: str,
    *,
    harmonized: pd.DataFrame | None = None,
    profile_ids: Sequence[str] | None = None,
    xlabel: str | None = None,
    max_panels: int = 6,
) -> Figure:
    """Horizon values as steps against depth (downward), optionally with harmonized layers.

    Parameters
    ----------
    horizons : pandas.DataFrame
        ``profile_id, top, bottom, <variable>`` [cm, variable's unit].
    variable : str
        Column to draw.
    harmonized : pandas.DataFrame, optional
        Output of the spline (same columns), drawn as a second step line.
    profile_ids : sequence of str, optional
        Profiles to draw (default: the first ``max_panels``).
    """
    ids = (
        list(profile_ids)
        if profile_ids is not None
        else list(pd.unique(horizons["profile_id"])[:max_panels])
    )
    n = max(len(ids), 1)
    fig = Figure(figsize=(2.6 * n, 4.2))
    axes = fig.subplots(1, n, sharey=True, squeeze=False)
    for ax, pid in zip(axes[0], ids, strict=False):
        h = horizons[horizons["profile_id"] == pid]
        x, y = _step(
            h["top"].to_numpy(float), h["bottom"].to_numpy(float), h[variable].to_numpy(float)
        )
        ax.plot(x, y, color="0.3", lw=2, label="horizons")
        if harmonized is not None:
            s = harmonized[harmonized["profile_id"] == pid]
            x2, y2 = _step(
                s["top"].to_numpy(float), s["bottom"].to_numpy(float), s[variable].to_numpy(float)
            )
            ax.plot(x2, y2, color="tab:orange", lw=1.5, label="harmonized")
        ax.set_title(textwrap.fill(str(pid), 28), fontsize=7)
        ax.set_xlabel(xlabel or variable)
        ax.grid(alpha=0.3)
    axes[0][0].invert_yaxis()  # shared y: depth increases downward on every panel
    axes[0][0].set_ylabel("depth [cm]")
    axes[0][0].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def plot_depth_functions(
    observed: pd.DataFrame,
    curves: Mapping[str, pd.DataFrame],
    *,
    profile_ids: Sequence[str],
    xlabel: str = "cumulative SOC density [Mg C ha⁻¹]",
) -> Figure:
    """Observed cumulative stocks (points) and fitted depth functions (lines), depth downward.

    Parameters
    ----------
    observed : pandas.DataFrame
        ``profile_id, depth, cumulative``.
    curves : mapping of model name to DataFrame
        Each with ``profile_id, depth, cumulative`` on a fine depth grid.
    profile_ids : sequence of str
        Profiles to draw, one panel each.
    """
    n = max(len(profile_ids), 1)
    fig = Figure(figsize=(2.6 * n, 4.2))
    axes = fig.subplots(1, n, sharey=True, squeeze=False)
    colors = {"beta": "tab:blue", "exponential": "tab:green", "power": "tab:red"}
    for ax, pid in zip(axes[0], profile_ids, strict=False):
        o = observed[observed["profile_id"] == pid]
        ax.plot(o["cumulative"], o["depth"], "ko", ms=4, label="observed")
        for name, c in curves.items():
            cc = c[c["profile_id"] == pid]
            ax.plot(cc["cumulative"], cc["depth"], color=colors.get(name), lw=1.3, label=name)
        ax.set_title(textwrap.fill(str(pid), 28), fontsize=7)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.grid(alpha=0.3)
    axes[0][0].invert_yaxis()
    axes[0][0].set_ylabel("depth [cm]")
    axes[0][0].legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig


def plot_groups(
    values: pd.Series | np.ndarray,
    groups: pd.Series | np.ndarray,
    *,
    letters: Mapping[str, str] | None = None,
    ylabel: str = "β [-]",
    reference: float | None = None,
    reference_label: str = "",
) -> Figure:
    """Box plots of a value by group with compact letters above each box (seed 000 Fig. 1b–e)."""
    df = pd.DataFrame({"v": np.asarray(values, float), "g": np.asarray(groups).astype(str)})
    df = df.dropna()
    order = df.groupby("g")["v"].mean().sort_values(ascending=False).index.tolist()
    data = [df.loc[df["g"] == g, "v"].to_numpy() for g in order]
    fig = Figure(figsize=(1.2 * len(order) + 2.5, 4.0))
    ax = fig.subplots()
    ax.boxplot(data, showmeans=True)
    ax.set_xticks(
        range(1, len(order) + 1),
        [f"{g}\n(n={len(d)})" for g, d in zip(order, data, strict=True)],
        fontsize=8,
    )
    top = max((np.nanmax(d) for d in data if d.size), default=1.0)
    if letters:
        for i, g in enumerate(order, start=1):
            ax.text(i, top, letters.get(g, ""), ha="center", va="bottom", fontsize=10)
    if reference is not None:
        ax.axhline(reference, ls="--", color="0.5", lw=1, label=reference_label or None)
        if reference_label:
            ax.legend(fontsize=7)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------
# conventions of the field: depth downward, 1:1 lines with skill, posteriors against priors,
# maps with coastlines and colour bars with units
# ------------------------------------------------------------------------------------------

#: Source of the coastlines drawn by :func:`plot_map`.
COASTLINE_SOURCE: str = (
    "0.5 contour of the land fraction from global-land-mask (T. Karin, MIT licence; NOAA GLOBE "
    "v1 30″ land/ocean mask, Hastings & Dunbar 1999, doi:10.7289/V52R3PMS), sampled on the "
    "map's own grid"
)


def _skill(observed: np.ndarray, predicted: np.ndarray) -> tuple[int, float, float]:
    """n, R² (seed 000 Eq. 4: 1 − Σ(y − ŷ)² / Σ(y − ȳ)²) and RMSE (Eq. 5) of the finite pairs."""
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
        R² = 1 − Σ(y − ŷ)²/Σ(y − ȳ)² (seed 000 Eq. 4) and RMSE = √(Σ(y − ŷ)²/q) (Eq. 5).
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


def plot_depth_curves(
    depth: np.ndarray,
    curves: Mapping[str, np.ndarray],
    *,
    bands: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    observed: tuple[np.ndarray, np.ndarray] | None = None,
    xlabel: str,
    ylabel: str = "depth [cm]",
    title: str | None = None,
) -> Figure:
    """Values against depth on one panel, depth increasing downward, with interval bands.

    Parameters
    ----------
    depth : array
        Depths [cm, or the unit in ``ylabel``], positive downward.
    curves : mapping of name to array
        One line per entry, same length as ``depth`` [unit in ``xlabel``].
    bands : mapping of name to (lower, upper), optional
        Shaded intervals (e.g. a 90 % prediction interval), drawn in the colour of the curve of
        the same name.
    observed : (values, depths), optional
        Observations drawn as points.
    xlabel : str
        The variable with its unit, e.g. ``"SOC density [Mg C ha⁻¹]"``.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with its y axis inverted.
    """
    d = np.asarray(depth, float)
    fig = Figure(figsize=(4.2, 5.0))
    ax = fig.subplots()
    colours = {}
    for name, values in curves.items():
        v = np.asarray(values, float)
        if v.shape != d.shape:
            raise InputDataError(f"curve {name!r} has shape {v.shape}, depth has {d.shape}",
                                 field=str(name), value=v.shape)
        (line,) = ax.plot(v, d, lw=1.6, label=name)
        colours[name] = line.get_color()
    for name, (lower, upper) in (bands or {}).items():
        ax.fill_betweenx(d, np.asarray(lower, float), np.asarray(upper, float), alpha=0.25,
                         color=colours.get(name, "0.6"), lw=0,
                         label=f"{name} interval" if name in colours else name)
    if observed is not None:
        ax.plot(np.asarray(observed[0], float), np.asarray(observed[1], float), "ko", ms=4,
                label="observed")
    ax.invert_yaxis()  # depth increases downward
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
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
        :func:`wholesoil.mapping.depthwise_metrics`: ``r2`` (seed 000 Eq. 4), ``rmse`` (Eq. 5),
        ``bias``), optionally a ``group`` column (one line per model).
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


def _posterior_inputs(
    samples: Mapping[str, np.ndarray] | np.ndarray,
    bounds: Mapping[str, tuple[float, float]] | np.ndarray,
    names: Sequence[str] | None,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Names, samples (draws × d) and bounds (d × 2) from the accepted input forms."""
    if isinstance(samples, Mapping):
        names = list(samples)
        cols = [np.asarray(samples[k], float).ravel() for k in names]
        n = max((c.size for c in cols), default=0)
        x = np.full((n, len(cols)), np.nan)
        for j, c in enumerate(cols):
            x[: c.size, j] = c
    else:
        x = np.asarray(samples, float)
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2:
            raise InputDataError("samples must be (draws, parameters)", field="samples",
                                 value=x.shape)
        names = list(names) if names is not None else (
            list(bounds) if isinstance(bounds, Mapping) else [f"p{j}" for j in range(x.shape[1])])
    if isinstance(bounds, Mapping):
        absent = [k for k in names if k not in bounds]
        if absent:
            raise InputDataError(f"no prior bounds for {absent}", field="bounds", value=absent)
        b = np.array([bounds[k] for k in names], float)
    else:
        b = np.asarray(bounds, float)
    if len(names) != x.shape[1] or b.shape != (x.shape[1], 2):
        raise InputDataError(f"{x.shape[1]} parameters in the samples, {len(names)} names and "
                             f"bounds of shape {b.shape} (expected ({x.shape[1]}, 2))",
                             field="bounds", value=b.shape)
    bad = ~(np.isfinite(b).all(axis=1) & (b[:, 0] < b[:, 1]))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputDataError("prior bounds must be finite with lower < upper",
                             field=names[k], value=tuple(b[k]))
    return names, x, b


def plot_posteriors(
    samples: Mapping[str, np.ndarray] | np.ndarray,
    bounds: Mapping[str, tuple[float, float]] | np.ndarray,
    *,
    names: Sequence[str] | None = None,
    space: str = "physical",
    show: str = "unit",
    truth: Mapping[str, float] | Sequence[float] | None = None,
    ncols: int = 5,
    title: str | None = None,
) -> Figure:
    """Posterior violins against uniform priors (PRODA's prior ranges, seed 003 §2.6).

    Parameters
    ----------
    samples : mapping of name to array, or array (draws, parameters)
        Posterior draws (pooled over chains), in ``space``.
    bounds : mapping of name to (lower, upper), or array (parameters, 2)
        Prior range of each parameter in its own unit (uniform prior).
    names : sequence of str, optional
        Parameter names when ``samples`` is an array (default: the keys of ``bounds``).
    space : {"physical", "unit"}
        Space of ``samples``: the parameters' own units, or the unit cube
        θ = l + u (h − l) (seed 003 §2.6, :class:`wholesoil.assimilation.ParameterSpace`).
    show : {"unit", "physical"}
        ``"unit"``: one panel, every parameter on [0, 1] against the prior (the grey band is the
        uniform prior's support); ``"physical"``: one small panel per parameter in its own
        unit, the grey band spanning the prior range.
    truth : mapping or sequence, optional
        Values to mark (e.g. the truth of a synthetic test), in ``space``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if space not in ("physical", "unit") or show not in ("physical", "unit"):
        raise InputDataError("space and show must be 'physical' or 'unit'", field="space",
                             value=(space, show))
    names, x, b = _posterior_inputs(samples, bounds, names)
    lo, width = b[:, 0], b[:, 1] - b[:, 0]
    t = None
    if truth is not None:
        t = np.array([truth[k] for k in names] if isinstance(truth, Mapping) else truth, float)
    if space != show:  # θ = l + u (h − l), seed 003 §2.6
        x = (x - lo) / width if show == "unit" else lo + x * width
        if t is not None:
            t = (t - lo) / width if show == "unit" else lo + t * width
    d = len(names)
    if show == "unit":
        fig = Figure(figsize=(max(4.0, 0.75 * d + 1.5), 3.8))
        axes = [fig.subplots()] * d
        pos = np.arange(1, d + 1, dtype=float)
    else:
        nc = min(ncols, d)
        nr = -(-d // nc)
        fig = Figure(figsize=(1.9 * nc + 0.4, 2.9 * nr))
        grid = fig.subplots(nr, nc, squeeze=False)
        axes = list(grid.ravel()[:d])
        for ax in grid.ravel()[d:]:
            ax.set_visible(False)
        pos = np.ones(d)
    for j, name in enumerate(names):
        ax, p = axes[j], pos[j]
        plo, phi = (0.0, 1.0) if show == "unit" else (b[j, 0], b[j, 1])
        ax.fill_between([p - 0.4, p + 0.4], plo, phi, color="0.85", lw=0, zorder=0,
                        label="prior (uniform)" if j == 0 else None, gid=f"prior:{name}")
        v = x[:, j][np.isfinite(x[:, j])]
        if v.size and np.ptp(v) > 0:
            parts = ax.violinplot([v], positions=[p], widths=0.7, showextrema=False)
            for body in parts["bodies"]:
                body.set_facecolor("tab:blue")
                body.set_alpha(0.7)
                body.set_gid(f"posterior:{name}")
        if v.size:
            q = np.percentile(v, [5, 50, 95])
            ax.vlines(p, q[0], q[2], color="k", lw=1.2)
            ax.plot(p, q[1], "o", color="white", mec="k", ms=4,
                    label="median, 90 % interval" if j == 0 else None)
        if t is not None and np.isfinite(t[j]):
            ax.plot([p - 0.3, p + 0.3], [t[j], t[j]], color="tab:red", lw=1.5,
                    label="truth" if j == 0 else None)
        if show == "physical":
            ax.set_xticks([1.0], [name], fontsize=8)
            ax.set_xlim(0.4, 1.6)
            pad = 0.03 * (phi - plo)
            ax.set_ylim(plo - pad, phi + pad)
            ax.grid(alpha=0.3, axis="y")
    if show == "unit":
        ax = axes[0]
        ax.set_xticks(pos, names, rotation=45 if d > 6 else 0, ha="right" if d > 6 else "center",
                      fontsize=8)
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlim(0.4, d + 0.6)
        ax.set_ylabel("position in prior range (unit space) [-]")
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    if show == "physical":  # one legend for all panels, under them
        handles, labels = axes[0].get_legend_handles_labels()
        fig.subplots_adjust(bottom=max(fig.subplotpars.bottom, 0.9 / fig.get_figheight()))
        fig.legend(handles, labels, loc="lower center", ncols=len(labels), fontsize=7,
                   frameon=False)
    return fig


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges from monotonic cell centres (half-way between, extended at both ends)."""
    c = np.asarray(centres, float)
    if c.size == 1:
        return np.array([c[0] - 0.5, c[0] + 0.5])
    mid = 0.5 * (c[1:] + c[:-1])
    return np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])


def land_fraction_on(lon: np.ndarray, lat: np.ndarray, samples: int = 3) -> np.ndarray:
    """Land fraction [-] of each cell of a lon/lat grid, from ``samples²`` points per cell.

    The points are the centres of an even subdivision of each cell (cells bounded half-way
    between the centres); each is classified by ``global_land_mask.globe.is_land`` (the GLOBE 30″
    mask, see :data:`COASTLINE_SOURCE`). Loading the mask takes seconds and ~1 GB of memory.

    Parameters
    ----------
    lon, lat : array
        Cell-centre longitudes [°E, −180…180 or 0…360] and latitudes [°N], 1-D and monotonic.
    samples : int
        Points per cell side (≥ 1).

    Returns
    -------
    numpy.ndarray
        Shape (lat.size, lon.size), values in [0, 1].
    """
    from global_land_mask import globe

    if samples < 1:
        raise InputDataError("samples must be ≥ 1", field="samples", value=samples)
    ex, ey = _edges(np.asarray(lon, float)), _edges(np.asarray(lat, float))
    f = (np.arange(samples) + 0.5) / samples
    px = (ex[:-1, None] + np.diff(ex)[:, None] * f).ravel()  # (nx·s,)
    py = (ey[:-1, None] + np.diff(ey)[:, None] * f).ravel()  # (ny·s,)
    px = (px + 180.0) % 360.0 - 180.0
    py = np.clip(py, -90.0, 90.0)
    land = globe.is_land(py[:, None], px[None, :]).astype(float)
    ny, nx = np.size(lat), np.size(lon)
    return land.reshape(ny, samples, nx, samples).mean(axis=(1, 3))


def _is_dataarray(obj: Any) -> bool:
    return hasattr(obj, "dims") and hasattr(obj, "attrs") and hasattr(obj, "transpose")


def _yx(da: Any) -> Any:
    """A DataArray as (y, x): length-1 dims (e.g. one depth layer) squeezed."""
    da = da.squeeze()
    if set(da.dims) != {"y", "x"}:
        raise InputDataError("expected a (y, x) grid", field=str(da.name), value=list(da.dims))
    return da.transpose("y", "x")


def plot_map(
    values: np.ndarray | Mapping[str, np.ndarray] | object,
    lon: np.ndarray | None = None,
    lat: np.ndarray | None = None,
    *,
    units: str | None = None,
    label: str | None = None,
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    land: np.ndarray | bool | None = None,
    coast_samples: int = 3,
    title: str | None = None,
) -> Figure:
    """A longitude/latitude map with coastlines and a colour bar with units.

    Parameters
    ----------
    values : array (lat, lon), xarray.DataArray, or mapping of panel title to either
        Cell values on a regular geographic grid (EPSG:4326); NaN cells are left blank. Several
        panels (e.g. mean, 2.5 % and 97.5 % quantiles) share one colour scale and one colour
        bar. A DataArray with dims ``(y, x)`` brings its own coordinates and ``units`` (and,
        alone, its ``long_name``); with a mapping the first one's are used.
    lon, lat : array
        Cell-centre longitudes [°E] and latitudes [°N] (not needed for a DataArray).
    units : str
        Unit shown on the colour bar, e.g. ``"Mg C ha⁻¹"`` (required unless the DataArray has a
        ``units`` attribute; ``"1"`` or ``"-"`` for dimensionless values).
    label : str, optional
        Quantity named on the colour bar (default: the DataArray's ``long_name``, else none).
    vmin, vmax : float, optional
        Colour limits (default: the 2nd and 98th percentiles of the valid cells; the colour bar
        shows arrows where values lie beyond).
    land : array, DataArray or bool, optional
        Land fraction or land mask on the map's grid, whose 0.5 contour is drawn as the
        coastline; by default it is computed by :func:`land_fraction_on` (seconds, ~1 GB: pass a
        land fraction the workflow already has, e.g. from
        :func:`wholesoil.mapping.land_fraction`); ``False`` draws no coastline.
    coast_samples : int
        Sample points per cell side when the land fraction is computed here.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per panel plus the colour bar; the coastline is a contour set with gid
        ``"coastline"``.
    """
    long_name = None
    if _is_dataarray(values):
        da = _yx(values)
        units = units if units is not None else da.attrs.get("units")
        long_name = da.attrs.get("long_name", str(da.name) if da.name is not None else None)
        panels = {title or "": da}
        title = None
    elif isinstance(values, Mapping):
        panels = {str(k): v for k, v in values.items()}
    else:
        panels = {"": values}
    first = next(iter(panels.values()), None)
    if _is_dataarray(first):  # coordinates and units from the (first) DataArray
        first = _yx(first)
        lon = np.asarray(first["x"].values, float) if lon is None else lon
        lat = np.asarray(first["y"].values, float) if lat is None else lat
        units = units if units is not None else first.attrs.get("units")
    panels = {k: np.asarray(_yx(v).values if _is_dataarray(v) else v, float)
              for k, v in panels.items()}
    if units is None:
        raise InputDataError("a map needs the unit of its values for the colour bar (units=…; "
                             "'1' for dimensionless)", field="units")
    if lon is None or lat is None:
        raise InputDataError("lon and lat (cell centres) are needed with an array", field="lon")
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    for name, v in panels.items():
        if v.shape != (lat.size, lon.size):
            raise InputDataError(f"panel {name!r} has shape {v.shape}, expected (lat, lon) = "
                                 f"({lat.size}, {lon.size})", field=name or "values",
                                 value=v.shape)
    finite = np.concatenate([v[np.isfinite(v)] for v in panels.values()])
    if finite.size:
        lo, hi = np.percentile(finite, [2, 98])
        vmin = float(lo) if vmin is None else vmin
        vmax = float(hi) if vmax is None else vmax
        extend = {(False, False): "neither", (True, False): "min", (False, True): "max",
                  (True, True): "both"}[(bool(finite.min() < vmin), bool(finite.max() > vmax))]
    else:
        extend = "neither"
    coast = None
    if land is not False:
        coast = (land_fraction_on(lon, lat, coast_samples) if land is None or land is True
                 else np.asarray(_yx(land).values if _is_dataarray(land) else land, float))
        if coast.shape != (lat.size, lon.size):
            raise InputDataError(f"land has shape {coast.shape}, expected ({lat.size}, "
                                 f"{lon.size})", field="land", value=coast.shape)
    n = len(panels)
    span_x = float(np.ptp(lon)) or 1.0
    span_y = float(np.ptp(lat)) or 1.0
    wide = span_x > 2.0 * span_y  # wide maps are stacked, narrow ones side by side
    if wide:
        h = float(np.clip(9.0 * span_y / span_x, 1.2, 6.0)) + 0.6
        fig = Figure(figsize=(9.0, h * n + 1.1), layout="constrained")
        axes = fig.subplots(n, 1, squeeze=False, sharex=True, sharey=True)[:, 0]
    else:
        h = float(np.clip(4.2 * span_y / span_x, 1.6, 6.0))
        fig = Figure(figsize=(4.2 * n + 1.2, h + 1.3), layout="constrained")
        axes = fig.subplots(1, n, squeeze=False, sharex=True, sharey=True)[0]
    colours = matplotlib.colormaps[cmap].with_extremes(bad=(0.0, 0.0, 0.0, 0.0))
    ex, ey = _edges(lon), _edges(lat)
    mesh = None
    for ax, (name, v) in zip(axes, panels.items(), strict=True):
        mesh = ax.pcolormesh(ex, ey, np.ma.masked_invalid(v), cmap=colours, vmin=vmin,
                             vmax=vmax, shading="flat")
        if coast is not None and np.nanmin(coast) < 0.5 < np.nanmax(coast):
            cs = ax.contour(lon, lat, coast, levels=[0.5], colors="k", linewidths=0.7)
            cs.set_gid("coastline")
        ax.set_aspect(1.0)
        ax.set_xlim(ex.min(), ex.max())
        ax.set_ylim(ey.min(), ey.max())
        if name:
            ax.set_title(name, fontsize=9)
    axes[-1].set_xlabel("longitude [°E]")
    for ax in axes if wide else axes[:1]:
        ax.set_ylabel("latitude [°N]")
    if not wide:
        for ax in axes:
            ax.set_xlabel("longitude [°E]")
    quantity = label if label is not None else long_name
    cbar = fig.colorbar(mesh, ax=list(axes), extend=extend, shrink=0.9,
                        orientation="horizontal" if wide or n > 1 else "vertical")
    cbar.set_label(f"{quantity} [{units}]" if quantity else f"[{units}]")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
