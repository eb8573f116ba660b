"""Figures of process-model sensitivity: z-scored response surfaces and elasticities.

References
----------
He, X., Abramoff, R. Z., Abs, E., Georgiou, K., Zhang, H. & Goll, D. S. (2024). Model uncertainty
obscures major driver of soil carbon. Nature. https://doi.org/10.1038/s41586-023-06999-1
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from numpy.typing import NDArray

from wholesoil.errors import InputDataError
from wholesoil.models._sensitivity import _OK, zscore_by


def _edges(centres: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cell edges around sorted centres (midpoints; half a step beyond the ends)."""
    if centres.size == 1:
        h = 0.5 * abs(centres[0]) if centres[0] != 0 else 0.5
        return np.array([centres[0] - h, centres[0] + h])
    mid = 0.5 * (centres[1:] + centres[:-1])
    return np.concatenate([[2 * centres[0] - mid[0]], mid, [2 * centres[-1] - mid[-1]]])


def plot_response_surfaces(
    frame: pd.DataFrame,
    *,
    panel: str = "beta",
    x: str = "cue",
    y: str = "input",
    value: str | None = None,
    status: str = "status",
    cmap: str = "viridis",
    xlabel: str | None = None,
    ylabel: str | None = None,
    panel_label: str = "β",
) -> Figure:
    """He et al. (2024) Fig. 1: z-scored SOC over (x = CUE, y = input), one panel per β.

    States whose status is not "ok" are masked (drawn as empty, hatched cells) and never
    plotted; each panel's title counts them. The colour scale is shared by the panels.

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`grid_response` (or of :func:`zscore_by` on it). Must hold one row per
        (panel, x, y): filter other grid axes first.
    panel, x, y : str
        Columns for the panels, the horizontal and the vertical axis.
    value : str, optional
        Colour column; default ``"z_soc"``, computed by :func:`zscore_by` per panel if absent.
    status : str, default "status"

    Returns
    -------
    matplotlib.figure.Figure
    """
    if value is None:
        value = "z_soc"
        if value not in frame:
            frame = zscore_by(frame, panel, "soc", status=status)
    for c in (panel, x, y, value, status):
        if c not in frame:
            raise InputDataError(f"column {c!r} is missing", field=c)
    if frame.duplicated([panel, x, y]).any():
        raise InputDataError(
            f"more than one row per ({panel}, {x}, {y}): filter the other grid axes first",
            field=panel,
        )
    panels = np.sort(frame[panel].unique())
    ok_all = (frame[status].astype(str) == _OK) & np.isfinite(frame[value].astype(float))
    vals = frame.loc[ok_all, value].astype(float)
    vmin, vmax = (float(vals.min()), float(vals.max())) if len(vals) else (0.0, 1.0)
    n = len(panels)
    fig = Figure(figsize=(3.2 * n + 0.8, 3.4), layout="constrained")
    axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    mesh = None
    for ax, pv in zip(axes, panels, strict=True):
        sub = frame[frame[panel] == pv]
        xs = np.sort(sub[x].unique().astype(float))
        ys = np.sort(sub[y].unique().astype(float))
        z = np.full((ys.size, xs.size), np.nan)
        ok = np.zeros((ys.size, xs.size), dtype=bool)
        i = np.searchsorted(ys, sub[y].to_numpy(float))
        j = np.searchsorted(xs, sub[x].to_numpy(float))
        z[i, j] = sub[value].to_numpy(float)
        ok[i, j] = (sub[status].astype(str) == _OK).to_numpy()
        masked = np.ma.masked_array(z, mask=~ok | ~np.isfinite(z))
        ax.set_facecolor("white")
        xe, ye = _edges(xs), _edges(ys)
        ax.fill_between([xe[0], xe[-1]], ye[0], ye[-1], facecolor="none", edgecolor="0.75",
                        hatch="///", lw=0)
        mesh = ax.pcolormesh(xe, ye, masked, cmap=cmap, vmin=vmin, vmax=vmax, shading="flat")
        n_masked = int(np.count_nonzero(masked.mask))
        title = f"{panel_label} = {pv:g}"
        if n_masked:
            title += f"  ({n_masked} not ok, masked)"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(xlabel or x)
    axes[0].set_ylabel(ylabel or y)
    if mesh is not None:
        label = f"z-scored {value[2:]} (per {panel_label} panel)" if value.startswith("z_") \
            else value
        fig.colorbar(mesh, ax=list(axes), label=label)
    return fig


# ---------------------------------------------------------------------------- plots of elasticities
def plot_elasticities(
    table: pd.DataFrame,
    *,
    x: str | None = None,
    series: str | None = None,
    knobs: Sequence[str] | None = None,
) -> Figure:
    """Elasticities per knob: bars of E (Eq. 1), whiskers from E_− to E_+ (Eqs. 2–3).

    One panel per knob; along x the values of column ``x`` (default ``"beta"`` if present, else
    ``batch_index``); one bar colour per value of ``series`` (default ``"model"`` if present).
    Several rows per (knob, x, series) — several base configurations — give the median as the
    bar and every row as a dot. Rows with NaN elasticity (a state not "ok") are left out and
    counted in the panel title.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`elasticity_table` or :meth:`ElasticityResult.to_frame` (concatenated).
    """
    for c in ("knob", "elasticity", "elasticity_plus", "elasticity_minus"):
        if c not in table:
            raise InputDataError(f"column {c!r} is missing", field=c)
    if x is None:
        x = "beta" if "beta" in table else "batch_index"
    if series is None and "model" in table:
        series = "model"
    knobs = list(pd.unique(table["knob"])) if knobs is None else list(knobs)
    series_vals = [None] if series is None else list(pd.unique(table[series]))
    xvals = list(pd.unique(table[x]))
    try:
        xvals = sorted(xvals)
    except TypeError:
        pass
    width = 0.8 / len(series_vals)
    fig = Figure(figsize=(max(3.5, 1.0 + 0.9 * len(xvals) * len(series_vals)) * len(knobs) / 1.5,
                          3.4))
    axes = fig.subplots(1, len(knobs), squeeze=False, sharey=True)[0]
    colours = [f"C{i}" for i in range(10)]
    for ax, kn in zip(axes, knobs, strict=True):
        tk = table[table["knob"] == kn]
        n_nan = int(tk["elasticity"].isna().sum())
        for si, sv in enumerate(series_vals):
            ts = tk if sv is None else tk[tk[series] == sv]
            for xi, xv in enumerate(xvals):
                rows = ts[(ts[x] == xv) & ts["elasticity"].notna()]
                if rows.empty:
                    continue
                pos = xi - 0.4 + width * (si + 0.5)
                e = float(rows["elasticity"].median())
                lo = float(np.minimum(rows["elasticity_minus"], rows["elasticity_plus"]).median())
                hi = float(np.maximum(rows["elasticity_minus"], rows["elasticity_plus"]).median())
                ax.bar(pos, e, width=width * 0.9, color=colours[si % 10],
                       label=None if (sv is None or xi) else str(sv))
                ax.errorbar(pos, e, yerr=[[max(e - lo, 0.0)], [max(hi - e, 0.0)]],
                            color="0.2", capsize=3, lw=1)
                if len(rows) > 1:
                    ax.plot(np.full(len(rows), pos), rows["elasticity"], "o", ms=3, color="0.2")
        ax.axhline(0.0, color="0.3", lw=0.8)
        ax.set_xticks(range(len(xvals)))
        ax.set_xticklabels([f"{v:g}" if isinstance(v, float) else str(v) for v in xvals])
        ax.set_xlabel(x)
        title = f"SOC elasticity to {kn}"
        if n_nan:
            title += f" ({n_nan} not ok)"
        ax.set_title(title, fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("elasticity (±δ)")
    if series is not None:
        axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig

