"""Jobbágy–Jackson β model of the vertical distribution of soil organic carbon.

The β model (Gale & Grigal 1987; Jobbágy & Jackson 2000) describes the cumulative fraction of the
SOC stock from the surface to depth ``d`` [cm] as ``Y = 1 − β^d`` (Wang et al. 2025, Eq. 2). A
lower β means a steeper decline of SOC density with depth. Wang et al. (2025) fit β per profile,
map it with a random forest and use Eq. 3 to extend topsoil densities to 1 m and to 20-cm layers
(§2.6).

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution
in the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript
submitted to Earth Syst. Sci. Data. Data: doi:10.5281/zenodo.14787023

Jobbágy, E. G. & Jackson, R. B. (2000). The vertical distribution of soil organic carbon and its
relation to climate and vegetation. Ecol. Appl. 10, 423–436.
https://doi.org/10.1890/1051-0761(2000)010[0423:TVDOSO]2.0.CO;2

Yang, Y. et al. (2011). Storage, patterns and controls of soil organic carbon in the Tibetan
grasslands. Glob. Change Biol. 14, 1592–1599. https://doi.org/10.1111/j.1365-2486.2008.01591.x
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.depth._varpro import fit_separable
from wholesoil.errors import InputDataError

#: Global mean β used to extend topsoil stocks to depth when no local β is known; quoted by
#: Wang et al. (2025, Introduction) after Yang et al. (2011) and Deng et al. (2014).
GLOBAL_MEAN_BETA: float = 0.9786

#: Mean β of the observed profiles by ecosystem, Wang et al. (2025, §3.1 and Fig. 1b;
#: ``shared/specs/profiles-and-mapping.md``). They were fitted as in Yang et al. (2011), i.e. with
#: the ``"fraction"`` method of :func:`fit_beta`.
OBSERVED_MEAN_BETA: dict[str, float] = {
    "cropland": 0.9731,
    "grassland": 0.9772,
    "forest": 0.9790,
}

#: How β is fitted to a profile's cumulative stocks (see :func:`fit_beta`).
BetaMethod = Literal["stock", "fraction"]

#: Default admissible range of β in the fit. β > 1 (density increasing with depth) is allowed so
#: that such profiles are fitted and flagged rather than forced onto a bound.
DEFAULT_BETA_BOUNDS: tuple[float, float] = (0.3, 1.1)

_BETA_GRID_SIZE = 161


def _log_beta(beta: NDArray[np.float64]) -> NDArray[np.float64]:
    if np.any(~(beta > 0) & ~np.isnan(beta)):
        bad = beta[~(beta > 0) & ~np.isnan(beta)].flat[0]
        raise InputDataError("β must be > 0", field="beta", value=float(bad))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(beta)


def _one_minus_beta_pow(depth: NDArray[np.float64], log_beta: NDArray[np.float64]):
    """``(1 − β^d) / (−ln β)``, which tends to ``d`` as β → 1 (no 0/0 at β = 1)."""
    small = np.abs(log_beta) < 1e-12
    safe = np.where(small, -1.0, log_beta)
    return np.where(small, depth, np.expm1(depth * safe) / safe)


def beta_cumulative_fraction(depth: ArrayLike, beta: ArrayLike) -> NDArray[np.float64]:
    """Cumulative fraction of the SOC stock above ``depth``, Y = 1 − β^d.

    Eq. 2 in Wang et al. (2025), after Jobbágy & Jackson (2000).

    Parameters
    ----------
    depth : array_like
        Depth below the surface ``d`` [cm], ≥ 0.
    beta : array_like
        Relative rate of decline of SOC density with depth β [-], > 0 (broadcast with ``depth``).

    Returns
    -------
    numpy.ndarray
        Y [-]: 0 at the surface, tending to 1 with depth when β < 1.
    """
    d = np.asarray(depth, dtype=float)
    lb = _log_beta(np.asarray(beta, dtype=float))
    return -np.expm1(d * lb)


def x100_from_x_d0(
    x_d0: ArrayLike, beta: ArrayLike, d0: float = 20.0, d: ArrayLike = 100.0
) -> NDArray[np.float64]:
    """SOC density from the surface to ``d`` from the density of the top ``d0`` cm.

    X_d = (1 − β^d) / (1 − β^d0) · X_d0, Eq. 3 in Wang et al. (2025) with d = 100 cm, after
    Jobbágy & Jackson (2000); here generalized to any target depth ``d``. At β = 1 the ratio is its
    limit d / d0 (constant density).

    Parameters
    ----------
    x_d0 : array_like
        SOC density of the layer 0–``d0`` [Mg C ha⁻¹].
    beta : array_like
        β [-], > 0.
    d0 : float
        Depth of the measured top layer [cm], > 0 (20 cm in Wang et al. 2025).
    d : array_like
        Target depth [cm] (100 cm in Wang et al. 2025 Eq. 3).

    Returns
    -------
    numpy.ndarray
        X_d, the SOC density from 0 to ``d`` cm [Mg C ha⁻¹], broadcast over the inputs.
    """
    if not d0 > 0:
        raise InputDataError("d0 must be > 0 cm", field="d0", value=d0)
    lb = _log_beta(np.asarray(beta, dtype=float))
    ratio = _one_minus_beta_pow(np.asarray(d, dtype=float), lb) / _one_minus_beta_pow(
        np.asarray(d0, dtype=float), lb
    )
    return np.asarray(x_d0, dtype=float) * ratio


def cumulative_density(
    x_d0: ArrayLike,
    beta: ArrayLike,
    depths: Sequence[float] | ArrayLike = (40.0, 60.0, 80.0, 100.0),
    d0: float = 20.0,
) -> NDArray[np.float64]:
    """Cumulative SOC density from the surface to each of ``depths`` (Wang et al. 2025, §2.6).

    Eq. 3 of Wang et al. (2025) applied at each depth: X_d = (1 − β^d)/(1 − β^d0)·X_d0.

    Parameters
    ----------
    x_d0 : array_like
        SOC density of the top ``d0`` cm [Mg C ha⁻¹].
    beta : array_like
        β [-], broadcast with ``x_d0``.
    depths : sequence of float
        Depths [cm]; Wang et al. (2025) use 40, 60, 80 and 100 cm.
    d0 : float
        Depth of the measured top layer [cm].

    Returns
    -------
    numpy.ndarray, shape ``broadcast(x_d0, beta).shape + (len(depths),)``
        Cumulative SOC density [Mg C ha⁻¹].
    """
    x = np.asarray(x_d0, dtype=float)[..., None]
    b = np.asarray(beta, dtype=float)[..., None]
    return x100_from_x_d0(x, b, d0=d0, d=np.asarray(depths, dtype=float))


def layer_densities(
    x_d0: ArrayLike,
    beta: ArrayLike,
    bounds: Sequence[float] | ArrayLike = (0.0, 20.0, 40.0, 60.0, 80.0, 100.0),
    d0: float = 20.0,
) -> NDArray[np.float64]:
    """SOC density of each layer between consecutive ``bounds``, by difference.

    Wang et al. (2025, §2.6). The cumulative density at each bound follows their Eq. 3; the
    density of a layer is the cumulative density at its bottom minus that at its top. With the
    default bounds the first layer (0–20 cm) returns ``x_d0`` itself and the others are the
    20-cm subsoil layers.

    Parameters
    ----------
    x_d0 : array_like
        SOC density of the top ``d0`` cm [Mg C ha⁻¹].
    beta : array_like
        β [-], broadcast with ``x_d0``.
    bounds : sequence of float
        Increasing layer boundaries [cm].
    d0 : float
        Depth of the measured top layer [cm].

    Returns
    -------
    numpy.ndarray, shape ``broadcast(x_d0, beta).shape + (len(bounds) - 1,)``
        Layer SOC densities [Mg C ha⁻¹].
    """
    bnd = np.asarray(bounds, dtype=float)
    if bnd.ndim != 1 or bnd.size < 2 or np.any(np.diff(bnd) <= 0):
        raise InputDataError(
            "bounds must be at least two increasing depths [cm]", field="bounds", value=bounds
        )
    return np.diff(cumulative_density(x_d0, beta, depths=bnd, d0=d0), axis=-1)


# --------------------------------------------------------------------------- fitting
class BetaFit(NamedTuple):
    """β fitted per profile; every field is an array of length P (one entry per profile).

    Attributes
    ----------
    beta : β [-].
    beta_se : standard error of β [-] from the Jacobian at the optimum; NaN when the residual
        degrees of freedom are zero (an exact fit) or the fit failed.
    asymptote : A, the stock to infinite depth implied by the fit [Mg C ha⁻¹] (``"stock"``), or
        the stock at the deepest point, which the ``"fraction"`` method takes as the total.
    rmse : root-mean-square error of the fitted cumulative stocks [Mg C ha⁻¹].
    ssr : residual sum of squares of the cumulative stocks [(Mg C ha⁻¹)²].
    n : number of points used.
    n_params : number of fitted parameters (2 for ``"stock"``, 1 for ``"fraction"``).
    converged : True when the optimum is interior and the Gauss–Newton polish converged.
    """

    beta: NDArray[np.float64]
    beta_se: NDArray[np.float64]
    asymptote: NDArray[np.float64]
    rmse: NDArray[np.float64]
    ssr: NDArray[np.float64]
    n: NDArray[np.int64]
    n_params: int
    converged: NDArray[np.bool_]


def as_padded(
    depth: ArrayLike, cumulative: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Check and broadcast profile arrays to ``(P, K)``; returns (depth, cumulative, mask)."""
    d = np.atleast_2d(np.asarray(depth, dtype=float))
    c = np.atleast_2d(np.asarray(cumulative, dtype=float))
    if d.ndim != 2 or c.ndim != 2:
        raise InputDataError(
            "depth and cumulative must be 1-D (one profile) or 2-D (profiles × points)",
            field="depth",
            value=d.shape,
        )
    try:
        d, c = np.broadcast_arrays(d, c)
    except ValueError as err:
        raise InputDataError(
            f"depth {d.shape} and cumulative {c.shape} do not have compatible shapes",
            field="cumulative",
        ) from err
    mask = np.isfinite(d) & np.isfinite(c)
    bad = mask & ~(d > 0)
    if bad.any():
        p, k = np.argwhere(bad)[0]
        raise InputDataError(
            f"depths of the cumulative stocks must be > 0 cm (profile index {p}, point {k})",
            field="depth",
            value=float(d[p, k]),
        )
    return d, c, mask


def _beta_grid(bounds: tuple[float, float]) -> NDArray[np.float64]:
    lo, hi = float(bounds[0]), float(bounds[1])
    if not 0 < lo < hi:
        raise InputDataError("beta_bounds must satisfy 0 < low < high", value=bounds)
    grid = np.linspace(lo, hi, _BETA_GRID_SIZE)
    near_one = np.abs(grid - 1.0) < 1e-6
    grid[near_one] = 1.0 - 1e-6  # the stock basis 1 − β^d vanishes at β = 1 exactly
    return grid


def _stock_basis(beta, depth):
    lb = np.log(beta)[:, None]
    B = -np.expm1(depth * lb)
    dB = -depth * np.exp((depth - 1.0) * lb)
    zeros = np.zeros_like(depth)
    return zeros, zeros, B[..., None], dB[..., None]


def _fraction_basis(beta, depth):
    lb = np.log(beta)[:, None]
    f0 = -np.expm1(depth * lb)
    df0 = -depth * np.exp((depth - 1.0) * lb)
    empty = np.zeros((*depth.shape, 0))
    return f0, df0, empty, empty


def _deepest(
    depth: NDArray[np.float64], cum: NDArray[np.float64], mask: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Deepest valid depth and the cumulative stock there, per profile (NaN when none)."""
    dd = np.where(mask, depth, -np.inf)
    k = np.argmax(dd, axis=1)
    rows = np.arange(depth.shape[0])
    has = mask.any(axis=1)
    return np.where(has, depth[rows, k], np.nan), np.where(has, cum[rows, k], np.nan)


def fit_beta(
    depth: ArrayLike,
    cumulative: ArrayLike,
    method: BetaMethod = "fraction",
    beta_bounds: tuple[float, float] = DEFAULT_BETA_BOUNDS,
) -> BetaFit:
    """Fit β of the Jobbágy–Jackson model to cumulative SOC stocks, all profiles at once.

    Two models are offered (Eq. 2 of Wang et al. 2025 in both):

    ``"fraction"`` (default, the paper's)
        Y_k = C(d_k)/C(d_max) fitted by Y = 1 − β^d by least squares on the cumulative
        *fraction*, one parameter; the stock at the deepest sample is taken as the whole stock,
        as in Jobbágy & Jackson (2000) and Yang et al. (2011), whose procedure Wang et al. (2025,
        §2.3) follow. This is how the published β means (:data:`OBSERVED_MEAN_BETA`) and the
        global mean 0.9786 were obtained, so β fitted this way is comparable with them. Because
        1 − β^d_max < 1 the model cannot reach Y = 1 at the deepest point, which biases β low
        (steeper) for profiles that still hold carbon at depth; the bias is 0.005–0.011 in β for
        typical 0–100 cm profiles, large on this scale.
    ``"stock"``
        C(d) = A · (1 − β^d), two parameters: A, the stock to infinite depth [Mg C ha⁻¹], and β.
        Least squares on the cumulative stocks. A is linear given β and is profiled out, so the
        fit is a one-dimensional search in β. Eq. 3's ratio X_100 / X_d0 = (1 − β^100)/(1 − β^d0)
        holds for any A, so a profile extended with Eq. 3 from its own 0–d0 stock reproduces
        its fitted 0–100 cm stock exactly, and the fit does not assume that the profile has no
        carbon below its deepest sample. Use it when β feeds Eq. 3 extrapolations and need not be
        compared with published means.

    The fraction of cumulative stocks that are already fractions is :func:`fit_beta_fraction`.

    The search runs on all profiles together (no loop over profiles): the profiled residual sum
    of squares on a 161-point β grid brackets the minimum, golden-section search narrows it and a
    Gauss–Newton polish with the variable-projection Jacobian (Kaufman 1975) converges it; see
    :mod:`wholesoil.depth._varpro`.

    Parameters
    ----------
    depth : array_like, shape (K,) or (P, K)
        Depths of the cumulative stocks, i.e. the layer bottoms [cm], > 0. NaN pads profiles
        with fewer points.
    cumulative : array_like, shape (K,) or (P, K)
        Cumulative SOC stock from the surface to ``depth`` [Mg C ha⁻¹]; NaN where padded.
    method : {"fraction", "stock"}, default "fraction"
        Model, see above.
    beta_bounds : (float, float)
        Admissible range of β; a fit that ends on a bound is flagged as not converged.

    Returns
    -------
    BetaFit
        Arrays of length P. Profiles with fewer than 2 points or a non-positive stock at depth
        are returned as NaN with ``converged = False``.

    Notes
    -----
    The standard error is s / ‖(I − P_A) ∂C/∂β‖ with s² = SSR / (n − p): the β entry of
    s²(JᵀJ)⁻¹ for the full Jacobian J of the nonlinear least squares at the optimum (for the
    fraction method, computed on the fraction scale). It is NaN when n − p = 0 (two points for
    ``"stock"``: an exact fit).
    """
    d, c, mask = as_padded(depth, cumulative)
    if method not in ("stock", "fraction"):
        raise InputDataError("method must be 'fraction' or 'stock'", field="method", value=method)
    grid = _beta_grid(beta_bounds)
    n_all = mask.sum(axis=1)
    _, c_max = _deepest(d, c, mask)
    fittable = (n_all >= 2) & (c_max > 0)
    # fit only fittable rows; the others stay NaN
    m = mask & fittable[:, None]
    y = np.where(m, c, 0.0)
    if method == "stock":
        res = fit_separable(_stock_basis, d, y, m, grid, n_linear=1)
        asymptote = res.coef[:, 0]
        ssr = res.ssr
        n_params = 2
    else:
        scale = np.where(fittable, c_max, 1.0)
        res = fit_separable(_fraction_basis, d, y / scale[:, None], m, grid, n_linear=0)
        asymptote = np.where(fittable, c_max, np.nan)
        ssr = res.ssr * scale**2
        n_params = 1
    nan = np.full(d.shape[0], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        rmse = np.sqrt(ssr / np.maximum(res.n, 1))
    return BetaFit(
        beta=np.where(fittable, res.theta, nan),
        beta_se=np.where(fittable, res.theta_se, nan),
        asymptote=np.where(fittable, asymptote, nan),
        rmse=np.where(fittable, rmse, nan),
        ssr=np.where(fittable, ssr, nan),
        n=n_all.astype(np.int64),
        n_params=n_params,
        converged=fittable & res.converged,
    )


def fit_beta_fraction(
    depth: ArrayLike,
    fraction: ArrayLike,
    beta_bounds: tuple[float, float] = DEFAULT_BETA_BOUNDS,
) -> BetaFit:
    """Fit β to cumulative fractions Y by least squares on Y = 1 − β^d, all profiles at once.

    Eq. 2 of Wang et al. (2025), fitted as Jobbágy & Jackson (2000) and Yang et al. (2011) do:
    one parameter, residuals on the fraction scale. :func:`fit_beta` with ``method="fraction"``
    calls this with Y = C(d)/C(d_max).

    Parameters
    ----------
    depth : array_like, shape (K,) or (P, K)
        Depths [cm], > 0; NaN pads profiles with fewer points.
    fraction : array_like, shape (K,) or (P, K)
        Cumulative fraction of the stock from the surface to ``depth`` [-]; NaN where padded.
    beta_bounds : (float, float)
        Admissible range of β; a fit ending on a bound is flagged as not converged.

    Returns
    -------
    BetaFit
        ``asymptote`` is 1 (the fractions' total), ``rmse`` and ``ssr`` on the fraction scale.
        Profiles with fewer than 2 points are NaN with ``converged = False``.

    References
    ----------
    Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon
    distribution in the 20–100 cm soil profile for different ecosystems: a global meta-analysis.
    Manuscript submitted to Earth Syst. Sci. Data. Data: doi:10.5281/zenodo.14787023

    Examples
    --------
    >>> import numpy as np
    >>> d = np.array([20.0, 40.0, 60.0, 80.0, 100.0])
    >>> round(float(fit_beta_fraction(d, 1 - 0.9731**d).beta[0]), 8)
    0.9731
    """
    d, y, mask = as_padded(depth, fraction)
    grid = _beta_grid(beta_bounds)
    n_all = mask.sum(axis=1)
    fittable = n_all >= 2
    m = mask & fittable[:, None]
    res = fit_separable(_fraction_basis, d, np.where(m, y, 0.0), m, grid, n_linear=0)
    nan = np.full(d.shape[0], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        rmse = np.sqrt(res.ssr / np.maximum(res.n, 1))
    return BetaFit(
        beta=np.where(fittable, res.theta, nan),
        beta_se=np.where(fittable, res.theta_se, nan),
        asymptote=np.where(fittable, 1.0, nan),
        rmse=np.where(fittable, rmse, nan),
        ssr=np.where(fittable, res.ssr, nan),
        n=n_all.astype(np.int64),
        n_params=1,
        converged=fittable & res.converged,
    )
