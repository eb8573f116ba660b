"""Figures of data assimilation: posteriors against priors, PRODA zonal means and
cell-by-cell comparisons of two models.

References
----------
Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from wholesoil.assimilation.proda._compare import map_correlation
from wholesoil.assimilation.proda._simulate import COMPONENTS, SOC_LAYERS
from wholesoil.errors import InputDataError


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
    key: Mapping[str, str] | None = None,
) -> Figure:
    """Posterior violins against uniform priors (PRODA's prior ranges, Tao et al. (EarthArXiv)
    §2.6).

    Every parameter code gets a key beside the panels: its description and unit, from ``key``
    (code → text) or else from the parameter records of CLM5 (:data:`wholesoil.models.
    CLM5_PRODA_PARAMETERS`); codes with neither are listed as they are.

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
        θ = l + u (h − l) (Tao et al. (EarthArXiv) §2.6,
        :class:`wholesoil.assimilation.ParameterSpace`).
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
    if space != show:  # θ = l + u (h − l), Tao et al. (EarthArXiv) §2.6
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
    _parameter_key(fig, names, key, bottom=show == "unit")
    if show == "physical":  # one legend for all panels, under them
        handles, labels = axes[0].get_legend_handles_labels()
        fig.subplots_adjust(bottom=max(fig.subplotpars.bottom, 0.9 / fig.get_figheight()))
        fig.legend(handles, labels, loc="lower center", ncols=len(labels), fontsize=7,
                   frameon=False)
    return fig



def parameter_key_lines(names: Sequence[str],
                        key: Mapping[str, str] | None = None) -> list[str]:
    """``"code: description [unit]"`` per parameter, from ``key`` or CLM5's parameter records."""
    from wholesoil.models._clm5 import CLM5_PRODA_PARAMETERS

    lines = []
    for name in names:
        if key is not None and name in key:
            lines.append(f"{name}: {key[name]}")
        elif name in CLM5_PRODA_PARAMETERS:
            rec = CLM5_PRODA_PARAMETERS[name]
            lines.append(f"{name}: {rec.description} [{rec.unit}]")
        else:
            lines.append(str(name))
    return lines


def _parameter_key(fig: Figure, names: Sequence[str], key: Mapping[str, str] | None, *,
                   bottom: bool = False) -> None:
    """Lay the figure out with a key of the parameter codes in a column on its right (at the
    column's foot with ``bottom``, under a legend drawn beside the axes)."""
    lines = parameter_key_lines(names, key)
    width = fig.get_figwidth()
    extra = min(5.0, 0.055 * max(len(s) for s in lines) + 0.3)
    fig.set_figwidth(width + extra)
    right = width / (width + extra)
    fig.tight_layout(rect=(0.0, 0.0, right, 1.0))
    fig.text(right + 0.01, 0.03 if bottom else 0.97, "Parameters\n" + "\n".join(lines),
             va="bottom" if bottom else "top", ha="left", fontsize=6.5, gid="parameter-key")


def latitude_figure(zonal: pd.DataFrame, *, variable: str = "soc_0_100",
                    title: str | None = None) -> Any:
    """Tao et al. (EarthArXiv) Figs. 2c/3c: zonal means (x) against latitude (y), one line per
    label."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2, 5.2), layout="constrained")
    ax = fig.subplots()
    for col in zonal.columns:
        if col == "lat" or col.startswith("n_"):
            continue
        ax.plot(zonal[col], zonal["lat"], label=col)
    long, units = {**SOC_LAYERS, **COMPONENTS}.get(variable, (variable, ""))
    ax.set_xlabel(f"{long} [{units}]")
    ax.set_ylabel("latitude [°N]")
    ax.set_title(title or "Latitudinal profile")
    ax.legend(fontsize=8)
    return fig


def component_figure(first: Any, second: Any, *, names: tuple[str, str] = ("CLM5", "COMPAS"),
                     variables: Sequence[str] = ("soc_0_100", *COMPONENTS)) -> Any:
    """Tao et al. (EarthArXiv) Fig. 4 right column: cell-by-cell scatter of each variable, with the
    1:1 line and Pearson r (log axes for SOC)."""
    from matplotlib.figure import Figure

    nv = len(variables)
    ncol = min(4, nv)
    nrow = int(np.ceil(nv / ncol))
    fig = Figure(figsize=(3.0 * ncol, 2.9 * nrow), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrow, ncol)).reshape(-1)
    for ax, var in zip(axes, variables, strict=False):
        log = var.startswith("soc")
        x = np.asarray(first[var].values, float).reshape(-1)
        y = np.asarray(second[var].values, float).reshape(-1)
        ok = np.isfinite(x) & np.isfinite(y) & ((x > 0) & (y > 0) if log else True)
        ax.scatter(x[ok], y[ok], s=3, alpha=0.5)
        if ok.any():
            lo, hi = float(min(x[ok].min(), y[ok].min())), float(max(x[ok].max(), y[ok].max()))
            ax.plot([lo, hi], [lo, hi], color="0.4", lw=0.8)
        if log:
            ax.set_xscale("log")
            ax.set_yscale("log")
        r = map_correlation(x, y, log=log)["r"]
        long, units = {**SOC_LAYERS, **COMPONENTS}.get(var, (var, ""))
        ax.set_title(f"{long.split(' (')[0]}\nr = {r:.2f}", fontsize=8)
        ax.set_xlabel(f"{names[0]} [{units}]", fontsize=8)
        ax.set_ylabel(f"{names[1]} [{units}]", fontsize=8)
    for ax in axes[nv:]:
        ax.set_visible(False)
    return fig

