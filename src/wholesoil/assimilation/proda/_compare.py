"""Structure comparison of two models' maps (Tao et al. (EarthArXiv) §3, Figs. 2–4).

Tao et al. (EarthArXiv) compares CLM5 and COMPAS cell by cell: the Pearson correlation of the
*logarithm* of simulated SOC (−0.026 with default parameters, 0.51 after PRODA; d.f. = cells − 2),
the Pearson correlation of each of the six components (Fig. 4, right column: 0.52 for the carbon
transfer efficiency, 0.55 baseline decomposition, 0.80 environmental modifier; no agreement for
input allocation and vertical transport) and the latitudinal profiles of SOC (Figs. 2c and 3c).

:func:`map_correlation` gives one correlation, :func:`compare_structures` the table of all of
them, :func:`zonal_means` the latitudinal profiles (mean over the valid cells of each latitude
row; the cells of one row of a regular latitude–longitude grid have equal areas, so this is the
area-weighted zonal mean). The figures of these tables are in :mod:`wholesoil.plots.assimilation`.

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

from wholesoil.assimilation.proda._simulate import COMPONENTS
from wholesoil.errors import InputDataError

__all__ = [
    "SEED003_CORRELATIONS",
    "compare_structures",
    "map_correlation",
    "zonal_means",
]

#: Correlations between CLM5 and COMPAS reported by Tao et al. (EarthArXiv) (§3; Fig. 4 right
#: column): log SOC with default parameters and after PRODA, and three components after PRODA.
SEED003_CORRELATIONS: dict[str, float] = {
    "log_soc_default": -0.026, "log_soc_proda": 0.51, "cte": 0.52, "k_bulk": 0.55,
    "xi_system": 0.80,
}


def map_correlation(a: Any, b: Any, *, log: bool = False) -> dict[str, float]:
    """Pearson correlation of two maps over the cells where both are finite (and > 0 if log).

    Parameters
    ----------
    a, b : array-like or DataArray, same shape
    log : bool
        Correlate ln(a) and ln(b) (Tao et al.'s (EarthArXiv) comparison of SOC).

    Returns
    -------
    dict
        ``r``, ``n`` (cells), ``df`` (n − 2) and the two-sided ``p`` of Student's t; r is NaN
        with fewer than 3 cells or a constant map.
    """
    from scipy import stats

    x = np.asarray(getattr(a, "values", a), dtype=float).reshape(-1)
    y = np.asarray(getattr(b, "values", b), dtype=float).reshape(-1)
    if x.shape != y.shape:
        raise InputDataError("maps must have the same shape", field="b",
                             value=(x.shape, y.shape))
    ok = np.isfinite(x) & np.isfinite(y)
    if log:
        ok &= (x > 0) & (y > 0)
    x, y = x[ok], y[ok]
    if log:
        x, y = np.log(x), np.log(y)
    n = int(x.size)
    nan = {"r": np.nan, "n": n, "df": max(n - 2, 0), "p": np.nan}
    if n < 3:
        return nan
    xm, ym = x - x.mean(), y - y.mean()
    sx, sy = np.sqrt((xm * xm).sum()), np.sqrt((ym * ym).sum())
    # a map constant up to rounding (e.g. CTE with default parameters, the same everywhere)
    # has no pattern to correlate: r is NaN, not a number made of round-off
    tiny = 1e-10 * np.sqrt(n)
    if sx <= tiny * max(np.abs(x).max(), 1e-300) or sy <= tiny * max(np.abs(y).max(), 1e-300):
        return nan
    r = float(np.clip((xm * ym).sum() / (sx * sy), -1.0, 1.0))
    df = n - 2
    if abs(r) == 1.0:
        p = 0.0
    else:
        t = r * np.sqrt(df / (1.0 - r * r))
        p = float(2.0 * stats.t.sf(abs(t), df))
    return {"r": r, "n": n, "df": df, "p": p}


def compare_structures(
    first: Mapping[str, Any],
    second: Mapping[str, Any],
    *,
    soc: str = "soc_0_100",
    components: Sequence[str] = tuple(COMPONENTS),
) -> pd.DataFrame:
    """Correlations between two models' maps, per parameterisation.

    Parameters
    ----------
    first, second : mapping label → xarray.Dataset
        Maps of :func:`~wholesoil.assimilation.proda.simulate_grid` for the two models under the
        same labels, e.g. ``{"default": ..., "calibrated": ...}`` for CLM5 and for COMPAS.
    soc : str
        SOC variable compared on the log scale (Tao et al. (EarthArXiv): the first metre).
    components : sequence of str
        Component variables compared on their own scale (Fig. 4).

    Returns
    -------
    DataFrame
        ``parameters, variable, scale, r, n, df, p`` (scale "log" for SOC, "linear" else).
    """
    missing = sorted(set(first) ^ set(second))
    if missing:
        raise InputDataError(f"both models need the same parameterisations; unmatched {missing}",
                             field="labels")
    rows = []
    for label in first:
        a, b = first[label], second[label]
        for var, log in ((soc, True), *((c, False) for c in components)):
            for ds in (a, b):
                if var not in ds:
                    raise InputDataError(f"map {var!r} missing for {label!r}", field=var)
            r = map_correlation(a[var], b[var], log=log)
            rows.append({"parameters": label, "variable": var,
                         "scale": "log" if log else "linear", **r})
    return pd.DataFrame(rows)


def zonal_means(maps: Mapping[str, Any], variable: str = "soc_0_100") -> pd.DataFrame:
    """Latitudinal profile of ``variable``: mean over the finite cells of each latitude row.

    Parameters
    ----------
    maps : mapping label → xarray.Dataset
        On ``(y, x)`` with ``y`` the latitude [degrees N].

    Returns
    -------
    DataFrame
        ``lat`` and one column per label (NaN where a row has no cell), plus ``n_<label>``.
    """
    out: pd.DataFrame | None = None
    for label, ds in maps.items():
        if variable not in ds:
            raise InputDataError(f"map {variable!r} missing for {label!r}", field=variable)
        da = ds[variable].transpose("y", "x")
        v = np.asarray(da.values, dtype=float)
        fin = np.isfinite(v)
        cnt = fin.sum(axis=1)
        tot = np.where(fin, v, 0.0).sum(axis=1)
        mean = np.full(cnt.shape, np.nan)
        np.divide(tot, cnt, out=mean, where=cnt > 0)
        df = pd.DataFrame({"lat": np.asarray(ds["y"].values, dtype=float), label: mean,
                           f"n_{label}": cnt})
        out = df if out is None else out.merge(df, on="lat", how="outer")
    if out is None:
        raise InputDataError("no maps given", field="maps")
    return out.sort_values("lat", ascending=False).reset_index(drop=True)


