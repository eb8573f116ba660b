"""Partial correlations of a response with each driver, by depth band (Wang G. et al. (2025) Fig.
S1).

Wang G. et al. (2025, Results, Fig. S1) show how the correlation of SOC with each predictor
(MAT, MAP, TN, MBC, MBN, Fe, Al, …), controlling for the others, changes from topsoil to deep
soil. For a response y and drivers x_1..x_m, the partial correlation of y with x_j given the
other m − 1 drivers is, with P = Σ⁻¹ the precision matrix of (y, x_1, …, x_m)::

    r_{y j · rest} = −P_{yj} / √(P_{yy} P_{jj})                                 (1)

which equals the correlation of the residuals of y and of x_j after least-squares regression of
each on the other drivers (with intercept). Its test is Student's t with n − 2 − k degrees of
freedom, k = m − 1 controlled variables (Fisher 1924; as R ``ppcor::pcor.test``)::

    t = r √((n − 2 − k) / (1 − r²))                                            (2)

Spearman partial correlations apply (1)–(2) to within-band ranks (ppcor's ``method =
"spearman"``). All bands are computed at once: per-band covariance matrices are accumulated
with one-hot sums and inverted as one stacked (bands × p × p) array.

References
----------
Fisher, R. A. (1924). The distribution of the partial correlation coefficient. Metron 3,
329–332.

Kim, S. (2015). ppcor: An R package for a fast calculation to semi-partial correlation
coefficients. Commun. Stat. Appl. Methods 22, 665–674. https://doi.org/10.5351/CSAM.2015.22.6.665

Wang, G., Luo, Z., Song, C., et al. (2025). Digging deeper towards accurate mapping of deep soil
organic carbon in grasslands. Science Bulletin. https://doi.org/10.1016/j.scib.2025.06.006
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from wholesoil.errors import InputDataError, MissingColumnError

PartialMethod = Literal["pearson", "spearman"]

#: Depth bands of Wang G. et al. (2025) (topsoil 0–30 cm, subsoil 30–100 cm, deep soil 100–200 cm+)
#: [cm].
SEED001_BANDS_CM: tuple[float, ...] = (0.0, 30.0, 100.0, np.inf)


def depth_bands(top: ArrayLike, bottom: ArrayLike, edges: Sequence[float] = SEED001_BANDS_CM
                ) -> np.ndarray:
    """Band label of each layer by its mid-depth, e.g. ``"0–30 cm"``.

    Parameters
    ----------
    top, bottom : array_like [cm]
        Layer depths, positive downward.
    edges : sequence of float [cm]
        Increasing band edges; ``inf`` is allowed for the last. Layers whose mid-depth falls
        outside the edges raise an error rather than being dropped.

    Returns
    -------
    numpy.ndarray of str
    """
    t = np.asarray(top, dtype=float)
    b = np.asarray(bottom, dtype=float)
    e = np.asarray(edges, dtype=float)
    if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0):
        raise InputDataError("band edges must increase", field="edges", value=list(edges))
    mid = 0.5 * (t + b)
    idx = np.searchsorted(e, mid, side="right") - 1
    bad = (idx < 0) | (idx >= e.size - 1) | ~np.isfinite(mid)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputDataError(f"layer mid-depth outside the bands {list(edges)} cm",
                             row=i + 2, field="top/bottom", value=float(mid[i]))
    labels = np.array([f"{_num(e[k])}–{_num(e[k + 1])} cm" if np.isfinite(e[k + 1])
                       else f">{_num(e[k])} cm" for k in range(e.size - 1)])
    return labels[idx]


def _num(x: float) -> str:
    return f"{x:g}"


def partial_correlation(
    data: pd.DataFrame,
    response: str,
    drivers: Sequence[str],
    *,
    by: str | None = None,
    method: PartialMethod = "pearson",
) -> pd.DataFrame:
    """Partial correlation of ``response`` with each driver, controlling for the other drivers.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per observation (layer); numeric response and drivers, no missing values.
    response : str
        Column of the response (e.g. SOC density).
    drivers : sequence of str
        At least one driver column; each partial correlation controls for the others.
    by : str, optional
        Column of band labels (see :func:`depth_bands`); one set of correlations per band.
    method : {"pearson", "spearman"}
        Spearman ranks within each band first.

    Returns
    -------
    pandas.DataFrame
        One row per (band, driver), bands in order of first appearance: ``band``,
        ``driver``, ``r`` (Eq. 1), ``statistic`` (t, Eq. 2), ``df`` (n − 2 − k), ``p_value``
        (two-sided), ``n``, ``k`` (number of controlled variables).
    """
    drivers = list(drivers)
    if not drivers:
        raise InputDataError("need at least one driver", field="drivers")
    if response in drivers:
        raise InputDataError("the response cannot also be a driver", field=response)
    if len(set(drivers)) != len(drivers):
        raise InputDataError("drivers are repeated", field="drivers", value=drivers)
    if method not in ("pearson", "spearman"):
        raise InputDataError("method must be 'pearson' or 'spearman'", field="method",
                             value=method)
    cols = [response, *drivers]
    for c in [*cols, *([by] if by else [])]:
        if c not in data.columns:
            raise MissingColumnError(
                f"column not in the table; available: {list(map(str, data.columns))}", field=c)
    X = np.empty((len(data), len(cols)))
    for j, c in enumerate(cols):
        x = pd.to_numeric(data[c], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(x)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputDataError("expected a finite number", row=i + 2, field=c,
                                 value=data[c].iloc[i], has_value=True)
        X[:, j] = x
    if by is None:
        labels, codes = np.array(["all"]), np.zeros(len(data), dtype=np.intp)
    else:
        g = data[by]
        if g.isna().any():
            i = int(np.flatnonzero(g.isna().to_numpy())[0])
            raise InputDataError("missing band label", row=i + 2, field=by)
        codes, uniq = pd.factorize(g.astype(str), sort=False)  # bands in order of appearance
        labels = np.asarray(uniq, dtype=object).astype(str)
    n = np.bincount(codes, minlength=labels.size)
    k = len(drivers) - 1
    df = n - 2 - k
    small = df < 1
    if small.any():
        b = labels[int(np.flatnonzero(small)[0])]
        raise InputDataError(
            f"band {b!r} has {int(n[np.flatnonzero(small)[0]])} observations; a partial "
            f"correlation controlling for {k} variable(s) needs at least {k + 3}",
            field=by or "data",
        )
    r = _partial_by_group(X, codes, labels.size, method, cols, labels)
    rd = r[:, 1:]  # (bands, drivers)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = rd * np.sqrt(df[:, None] / (1.0 - rd**2))
    p = 2.0 * stats.t.sf(np.abs(t), df[:, None])
    nb, m = rd.shape
    return pd.DataFrame({
        "band": np.repeat(labels, m), "driver": np.tile(drivers, nb), "r": rd.ravel(),
        "statistic": t.ravel(), "df": np.repeat(df, m), "p_value": p.ravel(),
        "n": np.repeat(n, m), "k": k,
    })


def _partial_by_group(X: np.ndarray, codes: np.ndarray, n_groups: int, method: str,
                      names: Sequence[str], labels: np.ndarray) -> np.ndarray:
    """Row 0 of the partial-correlation matrix (Eq. 1) for every group, stacked."""
    if method == "spearman":
        X = _ranks_within(X, codes, n_groups)
    n = np.bincount(codes, minlength=n_groups)
    onehot = np.zeros((codes.size, n_groups))
    onehot[np.arange(codes.size), codes] = 1.0
    mean = (onehot.T @ X) / np.maximum(n, 1)[:, None]           # (G, p)
    D = X - mean[codes]                                          # centred within group
    S = np.einsum("ng,ni,nj->gij", onehot, D, D)                 # (G, p, p) scatter
    d = np.sqrt(np.einsum("gii->gi", S))
    const = d <= 0
    if const.any():
        gi, j = np.argwhere(const)[0]
        raise InputDataError(f"constant within band {labels[gi]!r}; its partial "
                             "correlation is undefined", field=str(names[j]))
    C = S / (d[:, :, None] * d[:, None, :])                      # correlation matrices
    try:
        P = np.linalg.inv(C)
    except np.linalg.LinAlgError as exc:
        raise InputDataError("the drivers are collinear within a band (singular correlation "
                             "matrix)", field="drivers") from exc
    dp = np.sqrt(np.einsum("gii->gi", P))
    R = -P / (dp[:, :, None] * dp[:, None, :])
    return R[:, 0, :]


def _ranks_within(X: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Average ranks (ties averaged, as R's ``rank``) of every column within each group.

    Rows are ranked globally on the key (group, value); subtracting the number of rows of the
    groups before gives the within-group rank.
    """
    before = np.r_[0, np.cumsum(np.bincount(codes, minlength=n_groups))][codes]
    out = np.empty_like(X)
    for j in range(X.shape[1]):  # over variables, not observations
        out[:, j] = stats.rankdata(_lexkey(codes, X[:, j]), method="average") - before
    return out


def _lexkey(g: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Integer key ordering rows by group, then value; equal (group, value) share a key."""
    o = np.lexsort((v, g))
    new = np.r_[True, (g[o][1:] != g[o][:-1]) | (v[o][1:] != v[o][:-1])]
    key = np.empty(v.size)
    key[o] = np.cumsum(new)
    return key
