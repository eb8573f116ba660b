"""Depth profiles and depth functions, depth increasing downward.

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from wholesoil.errors import InputDataError
from wholesoil.plots._style import _step


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
    """Box plots of a value by group with compact letters above each box (Wang H. et al. (2025) Fig.
    1b–e)."""
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

