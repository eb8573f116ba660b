"""Model pools by layer → SOC stocks over observed depth intervals.

The process models keep SOC as a density x_j [g C m⁻³] that is constant within each layer j of
their grid (finite volumes: x_j is the layer's mean). An observed horizon or a standard layer
[t, b] is compared with the model by **integrating** that piecewise-constant density over the
interval, not by interpolating between nodes:

(O1) S(t, b) = ∫_t^b x(z) dz = Σ_j x_j · |[t, b] ∩ [z_top,j, z_bottom,j]|     [g C m⁻²]

computed as C(b) − C(t) with the cumulative stock C(q) = Σ_{j: z_bottom,j ≤ q} x_j Δz_j +
x_k (q − z_top,k) for q inside layer k (exact for a piecewise-constant profile; a query within
1 nm of an interface takes the interface's value, so adjacent intervals add up and 0–8.6 m gives
Σ x·Δz). Then 1 g C m⁻² = 0.01 Mg C ha⁻¹ = 0.001 kg C m⁻².

Because the integral is exact, stocks are conserved: splitting an interval anywhere changes
nothing, and the whole column gives the model's total. The price is that a thin observed horizon
inside one thick model layer gets that layer's mean density (what the model resolves); no
sub-layer shape is invented.

References
----------
Tao et al. (EarthArXiv), §2.4: modelled SOC at the observed depths of each profile is compared
with the observations in the data assimilation.
Arrouays, D. et al. (2014). GlobalSoilMap: toward a fine-resolution global grid of soil
properties. Adv. Agron. 125, 93–134. https://doi.org/10.1016/B978-0-12-800137-0.00003-0
(the standard depths 0–5–15–30–60–100–200 cm).

Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError
from wholesoil.models._vertical import VerticalGrid, clm5_grid
from wholesoil.profiles._spline import STANDARD_DEPTHS

__all__ = [
    "STOCK_UNIT_FACTORS",
    "StockUnit",
    "cumulative_stock",
    "density_at_depths",
    "layer_stocks",
    "pchip_derivatives",
    "standard_layer_stocks",
]

#: Units of the returned stocks.
StockUnit = Literal["Mg C ha-1", "kg C m-2", "g C m-2"]

#: Multiply g C m⁻² by these: 1 g m⁻² = 10⁻⁶ Mg / 10⁻⁴ ha = 0.01 Mg ha⁻¹ = 0.001 kg m⁻².
STOCK_UNIT_FACTORS: dict[str, float] = {"g C m-2": 1.0, "kg C m-2": 1e-3, "Mg C ha-1": 1e-2}

_SNAP_M = 1e-9  # queries this close to an interface [m] take the interface's cumulative stock


def _unit_factor(unit: str) -> float:
    if unit not in STOCK_UNIT_FACTORS:
        raise InputDataError(
            f"unit must be one of {sorted(STOCK_UNIT_FACTORS)}", field="unit", value=unit
        )
    return STOCK_UNIT_FACTORS[unit]


def _density(density: ArrayLike, grid: VerticalGrid) -> NDArray[np.float64]:
    x = np.asarray(density, dtype=float)
    if x.ndim == 0 or x.shape[-1] != grid.n_layers:
        raise InputDataError(
            f"density must have shape (..., {grid.n_layers}): SOC [g C m⁻³] on the model's "
            f"{grid.n_layers} layers",
            field="density",
            value=x.shape,
        )
    if np.any(np.isinf(x)):
        raise InputDataError(
            "density must be finite (NaN propagates) [g C m⁻³]", field="density", value="inf"
        )
    return x


def _depth_m(name: str, depth_cm: ArrayLike, grid: VerticalGrid) -> NDArray[np.float64]:
    q = np.asarray(depth_cm, dtype=float)
    if q.ndim == 0:
        q = q[None]
    bad = np.isinf(q) | (q < 0) | (q > grid.depth * 100.0 + _SNAP_M * 100.0)
    if np.any(bad):
        v = float(q[bad].flat[0])
        raise InputDataError(
            f"{name} must lie within the model grid, 0–{grid.depth * 100:g} cm [cm] "
            f"(NaN marks a missing interval)",
            field=name,
            value=v,
        )
    return q / 100.0


def _cumulative(
    x: NDArray[np.float64], q_m: NDArray[np.float64], grid: VerticalGrid
) -> NDArray[np.float64]:
    """C(q) [g C m⁻²] at depths q [m], batched: x (..., n), q (..., m) → (..., m)."""
    n = grid.n_layers
    batch = np.broadcast_shapes(x.shape[:-1], q_m.shape[:-1])
    xb = np.broadcast_to(x, (*batch, n))
    qb = np.broadcast_to(q_m, (*batch, q_m.shape[-1]))
    edges = np.concatenate([grid.z_top[:1], grid.z_bottom])  # (n + 1,)
    csum = np.concatenate([np.zeros((*batch, 1)), np.cumsum(xb * grid.dz, axis=-1)], axis=-1)
    qs = np.where(np.isnan(qb), 0.0, qb)
    # layer containing q (first layer whose bottom is >= q), and the nearest interface
    j = np.clip(np.searchsorted(grid.z_bottom, qs, side="left"), 0, n - 1)
    partial = np.take_along_axis(csum, j, axis=-1) + np.take_along_axis(xb, j, axis=-1) * (
        qs - grid.z_top[j]
    )
    e = np.clip(np.searchsorted(edges, qs), 1, n)
    e = np.where(np.abs(edges[e - 1] - qs) <= np.abs(edges[e] - qs), e - 1, e)
    at_edge = np.abs(edges[e] - qs) <= _SNAP_M
    out = np.where(at_edge, np.take_along_axis(csum, e, axis=-1), partial)
    return np.where(np.isnan(qb), np.nan, out)


def cumulative_stock(
    density: ArrayLike,
    depth: ArrayLike,
    grid: VerticalGrid | None = None,
    *,
    unit: StockUnit = "Mg C ha-1",
) -> NDArray[np.float64]:
    """SOC stock from the surface down to ``depth``, C(q) = ∫_0^q x(z) dz (Eq. O1).

    Parameters
    ----------
    density : array (..., n_layers) [g C m⁻³]
        SOC density by model layer (the sum of the pools to compare), constant within a layer.
    depth : array (..., n_depths) [cm]
        Depths, 0 to the bottom of the grid (860 cm for CLM5); NaN gives NaN.
    grid : VerticalGrid, optional
        Model grid; default :func:`~wholesoil.models._vertical.clm5_grid`.
    unit : {"Mg C ha-1", "kg C m-2", "g C m-2"}
        Unit of the result.

    Returns
    -------
    array (..., n_depths) [unit]
        Batch axes of ``density`` and ``depth`` broadcast.
    """
    g = clm5_grid() if grid is None else grid
    f = _unit_factor(unit)
    x = _density(density, g)
    return _cumulative(x, _depth_m("depth", depth, g), g) * f


def layer_stocks(
    density: ArrayLike,
    top: ArrayLike,
    bottom: ArrayLike,
    grid: VerticalGrid | None = None,
    *,
    unit: StockUnit = "Mg C ha-1",
) -> NDArray[np.float64]:
    """SOC stock of each observed interval [top, bottom], integrating the layer densities (Eq. O1).

    Parameters
    ----------
    density : array (..., n_layers) [g C m⁻³]
        SOC density by model layer (e.g. the sum over pools of a steady state), constant within
        each layer.
    top, bottom : array (..., n_obs) [cm]
        Observed intervals, 0 ≤ top < bottom ≤ grid bottom (860 cm for CLM5). Shared by all
        sites (shape (n_obs,)) or per site (ragged horizons padded with NaN, which give NaN).
    grid : VerticalGrid, optional
        Model grid; default :func:`~wholesoil.models._vertical.clm5_grid`.
    unit : {"Mg C ha-1", "kg C m-2", "g C m-2"}
        Unit of the result; 1 g C m⁻² = 0.01 Mg C ha⁻¹ = 0.001 kg C m⁻².

    Returns
    -------
    array (..., n_obs) [unit]
        Batch axes of ``density``, ``top`` and ``bottom`` broadcast.

    Raises
    ------
    wholesoil.errors.InputDataError
        For a density with the wrong number of layers, an interval outside the grid, bottom ≤ top
        or an unknown unit.

    Examples
    --------
    1000 g C m⁻³ everywhere: 0–30 cm holds 300 g C m⁻² = 3 Mg C ha⁻¹.

    >>> layer_stocks(np.full(20, 1000.0), [0, 30], [30, 100]).round(12).tolist()
    [3.0, 7.0]
    """
    g = clm5_grid() if grid is None else grid
    f = _unit_factor(unit)
    x = _density(density, g)
    t = _depth_m("top", top, g)
    b = _depth_m("bottom", bottom, g)
    try:
        t, b = np.broadcast_arrays(t, b)
    except ValueError as err:
        raise InputDataError(
            "top and bottom must have broadcastable shapes (..., n_obs)",
            field="bottom",
            value=(np.shape(top), np.shape(bottom)),
        ) from err
    bad = ~(b > t) & ~np.isnan(t) & ~np.isnan(b)
    if np.any(bad):
        raise InputDataError(
            f"bottom must be deeper than top [cm]; interval {float(t[bad][0]) * 100:g}–"
            f"{float(b[bad][0]) * 100:g} cm",
            field="bottom",
            value=float(b[bad][0]) * 100,
        )
    both = np.concatenate(np.broadcast_arrays(t, b), axis=-1)
    c = _cumulative(x, both, g)
    m = t.shape[-1]
    return (c[..., m:] - c[..., :m]) * f


def standard_layer_stocks(
    density: ArrayLike,
    depths: Sequence[float] | ArrayLike = STANDARD_DEPTHS,
    grid: VerticalGrid | None = None,
    *,
    unit: StockUnit = "Mg C ha-1",
) -> NDArray[np.float64]:
    """SOC stocks of standard layers [depths[i], depths[i+1]] (Eq. O1).

    Parameters
    ----------
    density : array (..., n_layers) [g C m⁻³]
        SOC density by model layer.
    depths : sequence of float [cm], default ``STANDARD_DEPTHS``
        Strictly increasing boundaries, default the GlobalSoilMap depths 0, 5, 15, 30, 60, 100,
        200 cm (:data:`wholesoil.profiles._spline.STANDARD_DEPTHS`).
    grid : VerticalGrid, optional
        Model grid; default CLM5's.
    unit : {"Mg C ha-1", "kg C m-2", "g C m-2"}
        Unit of the result.

    Returns
    -------
    array (..., len(depths) − 1) [unit]
    """
    d = np.asarray(depths, dtype=float)
    if d.ndim != 1 or d.size < 2 or not np.all(np.diff(d) > 0) or np.any(np.isnan(d)):
        raise InputDataError(
            "depths must be at least two strictly increasing boundaries [cm], e.g. "
            "(0, 5, 15, 30, 60, 100, 200)",
            field="depths",
            value=d.tolist(),
        )
    return layer_stocks(density, d[:-1], d[1:], grid, unit=unit)


def pchip_derivatives(x: ArrayLike, y: ArrayLike) -> NDArray[np.float64]:
    """Node slopes of the shape-preserving piecewise cubic Hermite interpolant (PCHIP).

    Fritsch and Carlson's monotone rule with Brodlie's weighted harmonic mean at interior nodes
    and the three-point shape-preserving formula at the ends, as MATLAB's ``pchip`` and SciPy's
    :class:`~scipy.interpolate.PchipInterpolator` compute them (Fritsch, F. N. and Butland, J.
    (1984). A method for constructing local monotone piecewise cubic interpolants. SIAM J. Sci.
    Stat. Comput. 5(2), 300–304. https://doi.org/10.1137/0905021).

    Parameters
    ----------
    x : array (n,)
        Strictly increasing nodes (n ≥ 2).
    y : array (..., n)
        Values at the nodes, batched over leading axes.

    Returns
    -------
    array (..., n)
        Slopes dy/dx at the nodes.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    h = np.diff(x)
    m = np.diff(y, axis=-1) / h
    n = x.size
    if n == 2:
        return np.repeat(m, 2, axis=-1)
    d = np.zeros_like(y)
    m0, m1 = m[..., :-1], m[..., 1:]
    w1 = 2.0 * h[1:] + h[:-1]
    w2 = h[1:] + 2.0 * h[:-1]
    same = (np.sign(m0) * np.sign(m1)) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        inner = (w1 + w2) / (w1 / m0 + w2 / m1)
    d[..., 1:-1] = np.where(same, inner, 0.0)

    def edge(h0: float, h1: float, ma: NDArray, mb: NDArray) -> NDArray:
        e = ((2.0 * h0 + h1) * ma - h0 * mb) / (h0 + h1)
        e = np.where(np.sign(e) != np.sign(ma), 0.0, e)
        return np.where((np.sign(ma) != np.sign(mb)) & (np.abs(e) > 3.0 * np.abs(ma)),
                        3.0 * ma, e)

    d[..., 0] = edge(h[0], h[1], m[..., 0], m[..., 1])
    d[..., -1] = edge(h[-1], h[-2], m[..., -1], m[..., -2])
    return d


def density_at_depths(
    density: ArrayLike, depth_cm: ArrayLike, grid: VerticalGrid | None = None
) -> NDArray[np.float64]:
    """Model SOC density interpolated to observation depths by PCHIP (shape preserving).

    PRODA compares the model with observed SOC *density* at the observation depths, the
    model's node values interpolated with MATLAB's ``interp1(zsoi, soc, depth, 'pchip')``
    (``da_cesm2_clm5_cen_vr_v2.m`` of ``phxtao/PRODA_PUBLIC``; Tao, F. et al., Convergence in
    simulating global soil organic carbon by structurally different models after data
    assimilation, EarthArXiv preprint, §2.6). Depths above the first node or below the last use
    the end cubics (MATLAB's and SciPy's extrapolation).

    Parameters
    ----------
    density : array (..., n_layers)
        Model SOC density at the grid's nodes [g C m⁻³].
    depth_cm : array broadcastable to (..., L) [cm]
        Observation depths (e.g. layer mid-depths), NaN-padded.
    grid : VerticalGrid, optional
        The model grid (default CLM5's 20SL_8.5m).

    Returns
    -------
    array (..., L) [g C m⁻³]
        NaN where the depth is NaN.
    """
    g = clm5_grid() if grid is None else grid
    x = np.asarray(g.z_node, dtype=float)
    y = np.asarray(density, dtype=float)
    if y.shape[-1] != x.size:
        raise InputDataError(f"density must end in the grid's {x.size} layers",
                             field="density", value=y.shape)
    q = np.asarray(depth_cm, dtype=float) / 100.0
    d = pchip_derivatives(x, y)
    qs = np.where(np.isnan(q), x[0], q)
    k = np.clip(np.searchsorted(x, qs, side="right") - 1, 0, x.size - 2)
    shape = np.broadcast_shapes((*y.shape[:-1], 1), k.shape)
    kb = np.broadcast_to(k, shape)
    yb = np.broadcast_to(y, (*shape[:-1], x.size))
    db = np.broadcast_to(d, (*shape[:-1], x.size))
    y0 = np.take_along_axis(yb, kb, axis=-1)
    y1 = np.take_along_axis(yb, kb + 1, axis=-1)
    d0 = np.take_along_axis(db, kb, axis=-1)
    d1 = np.take_along_axis(db, kb + 1, axis=-1)
    h = x[k + 1] - x[k]
    t = (qs - x[k]) / h
    h00 = (1 + 2 * t) * (1 - t) ** 2
    h10 = t * (1 - t) ** 2
    h01 = t**2 * (3 - 2 * t)
    h11 = t**2 * (t - 1)
    out = h00 * y0 + h10 * h * d0 + h01 * y1 + h11 * h * d1
    return np.where(np.isnan(q), np.nan, out)
