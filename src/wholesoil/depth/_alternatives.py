"""Alternative depth functions for cumulative SOC stocks, and their comparison by AIC.

All models are fitted to the same data as the β model of :func:`wholesoil.depth.fit_beta` — the
cumulative SOC stock C(d) [Mg C ha⁻¹] at the layer bottoms d [cm] — by least squares on that
scale, so their residual sums of squares and information criteria are directly comparable.

Exponential with asymptote
    SOC density c(z) = c∞ + (c0 − c∞)·e^{−kz} [Mg C ha⁻¹ cm⁻¹], integrated from the surface:
    C(d) = c∞·d + (c0 − c∞)·(1 − e^{−kd})/k, three parameters (c0, c∞, k). With c∞ = 0 it is the
    pure exponential, which is the β model with β = e^{−k} and A = c0/k; so on profiles that
    follow the β model exactly, both fit equally well and AIC prefers β for its fewer parameters.
Power
    C(d) = a·d^b, two parameters (density a·b·d^{b−1}, which is infinite at the surface if b < 1).

Both are fitted with the same batched variable-projection solver as β (linear coefficients
profiled out, one nonlinear parameter searched over a grid, golden section and Gauss–Newton), so
the fits are vectorized over profiles.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.depth._beta import _deepest, as_padded
from wholesoil.depth._varpro import fit_separable

#: Grid of the decay rate k [cm⁻¹] for the exponential model (log-spaced; its ends are bounds).
_K_GRID = np.geomspace(1e-3, 2.0, 161)
#: Grid of the power-law exponent b [-].
_B_GRID = np.linspace(0.02, 3.0, 161)

#: Relative resolution of the stocks below which residuals are treated as zero in AIC
#: (see :func:`aic`).
AIC_RELATIVE_FLOOR = 1e-9


def exponential_cumulative(
    depth: ArrayLike, c0: ArrayLike, c_inf: ArrayLike, k: ArrayLike
) -> NDArray[np.float64]:
    """Cumulative stock of an exponential density profile with an asymptote.

    C(d) = c∞·d + (c0 − c∞)·(1 − e^{−kd})/k, the integral from 0 to d of
    c(z) = c∞ + (c0 − c∞)·e^{−kz}.

    Parameters
    ----------
    depth : array_like
        Depth d [cm].
    c0 : array_like
        SOC density at the surface [Mg C ha⁻¹ cm⁻¹].
    c_inf : array_like
        SOC density approached at depth [Mg C ha⁻¹ cm⁻¹].
    k : array_like
        Decay rate [cm⁻¹], > 0. c∞ = 0 gives the β model with β = e^{−k}.

    Returns
    -------
    numpy.ndarray
        C(d) [Mg C ha⁻¹].
    """
    d = np.asarray(depth, dtype=float)
    k = np.asarray(k, dtype=float)
    c0 = np.asarray(c0, dtype=float)
    c_inf = np.asarray(c_inf, dtype=float)
    return c_inf * d + (c0 - c_inf) * (-np.expm1(-k * d)) / k


def power_cumulative(depth: ArrayLike, a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    """Cumulative stock of the power model, C(d) = a·d^b.

    Parameters
    ----------
    depth : array_like
        Depth d [cm], > 0.
    a : array_like
        Stock to 1 cm [Mg C ha⁻¹].
    b : array_like
        Exponent [-]; b < 1 means density declining with depth.

    Returns
    -------
    numpy.ndarray
        C(d) [Mg C ha⁻¹].
    """
    return np.asarray(a, dtype=float) * np.asarray(depth, dtype=float) ** np.asarray(b, dtype=float)


class ExponentialFit(NamedTuple):
    """Exponential-with-asymptote fit per profile (arrays of length P).

    Attributes
    ----------
    c0 : surface density [Mg C ha⁻¹ cm⁻¹].
    c_inf : asymptotic density at depth [Mg C ha⁻¹ cm⁻¹].
    k : decay rate [cm⁻¹]; ``k_se`` its standard error.
    rmse, ssr : fit of the cumulative stocks [Mg C ha⁻¹], [(Mg C ha⁻¹)²].
    n : points used; ``n_params`` = 3.
    converged : interior optimum and converged polish.
    """

    c0: NDArray[np.float64]
    c_inf: NDArray[np.float64]
    k: NDArray[np.float64]
    k_se: NDArray[np.float64]
    rmse: NDArray[np.float64]
    ssr: NDArray[np.float64]
    n: NDArray[np.int64]
    n_params: int
    converged: NDArray[np.bool_]


class PowerFit(NamedTuple):
    """Power-law fit C(d) = a·d^b per profile (arrays of length P).

    Attributes
    ----------
    a : [Mg C ha⁻¹]; b : exponent [-]; ``b_se`` its standard error.
    rmse, ssr : fit of the cumulative stocks [Mg C ha⁻¹], [(Mg C ha⁻¹)²].
    n : points used; ``n_params`` = 2.
    converged : interior optimum and converged polish.
    """

    a: NDArray[np.float64]
    b: NDArray[np.float64]
    b_se: NDArray[np.float64]
    rmse: NDArray[np.float64]
    ssr: NDArray[np.float64]
    n: NDArray[np.int64]
    n_params: int
    converged: NDArray[np.bool_]


def _exponential_basis(k, depth):
    kk = k[:, None]
    em = np.expm1(-kk * depth)  # e^{−kd} − 1
    h = -em / kk
    dh = (kk * depth * np.exp(-kk * depth) + em) / kk**2
    B = np.stack([depth, h], axis=-1)
    dB = np.stack([np.zeros_like(depth), dh], axis=-1)
    zeros = np.zeros_like(depth)
    return zeros, zeros, B, dB


def _power_basis(b, depth):
    p = depth ** b[:, None]
    zeros = np.zeros_like(depth)
    return zeros, zeros, p[..., None], (p * np.log(depth))[..., None]


def _prepare(depth, cumulative, min_points):
    d, c, mask = as_padded(depth, cumulative)
    _, c_max = _deepest(d, c, mask)
    fittable = (mask.sum(axis=1) >= min_points) & (c_max > 0)
    m = mask & fittable[:, None]
    return d, np.where(m, c, 0.0), m, fittable, mask.sum(axis=1).astype(np.int64)


def fit_exponential(depth: ArrayLike, cumulative: ArrayLike) -> ExponentialFit:
    """Fit the exponential-with-asymptote model to cumulative stocks, all profiles at once.

    Parameters
    ----------
    depth : array_like, shape (K,) or (P, K)
        Layer bottoms [cm], > 0; NaN pads.
    cumulative : array_like, shape (K,) or (P, K)
        Cumulative SOC stock to ``depth`` [Mg C ha⁻¹]; NaN pads.

    Returns
    -------
    ExponentialFit
        NaN for profiles with fewer than 3 points or a non-positive stock at depth. k is searched
        in [0.001, 2] cm⁻¹; an optimum on a bound is flagged ``converged = False``.
    """
    d, y, m, ok, n = _prepare(depth, cumulative, 3)
    res = fit_separable(_exponential_basis, d, y, m, _K_GRID, n_linear=2)
    nan = np.nan
    c_inf = res.coef[:, 0]
    c0 = res.coef[:, 0] + res.coef[:, 1]
    with np.errstate(invalid="ignore"):
        rmse = np.sqrt(res.ssr / np.maximum(n, 1))
    return ExponentialFit(
        c0=np.where(ok, c0, nan),
        c_inf=np.where(ok, c_inf, nan),
        k=np.where(ok, res.theta, nan),
        k_se=np.where(ok, res.theta_se, nan),
        rmse=np.where(ok, rmse, nan),
        ssr=np.where(ok, res.ssr, nan),
        n=n,
        n_params=3,
        converged=ok & res.converged,
    )


def fit_power(depth: ArrayLike, cumulative: ArrayLike) -> PowerFit:
    """Fit the power model C(d) = a·d^b to cumulative stocks, all profiles at once.

    Parameters
    ----------
    depth : array_like, shape (K,) or (P, K)
        Layer bottoms [cm], > 0; NaN pads.
    cumulative : array_like, shape (K,) or (P, K)
        Cumulative SOC stock to ``depth`` [Mg C ha⁻¹]; NaN pads.

    Returns
    -------
    PowerFit
        NaN for profiles with fewer than 2 points or a non-positive stock at depth. b is searched
        in [0.02, 3]; an optimum on a bound is flagged ``converged = False``.
    """
    d, y, m, ok, n = _prepare(depth, cumulative, 2)
    res = fit_separable(_power_basis, d, y, m, _B_GRID, n_linear=1)
    nan = np.nan
    with np.errstate(invalid="ignore"):
        rmse = np.sqrt(res.ssr / np.maximum(n, 1))
    return PowerFit(
        a=np.where(ok, res.coef[:, 0], nan),
        b=np.where(ok, res.theta, nan),
        b_se=np.where(ok, res.theta_se, nan),
        rmse=np.where(ok, rmse, nan),
        ssr=np.where(ok, res.ssr, nan),
        n=n,
        n_params=2,
        converged=ok & res.converged,
    )


def aic(
    ssr: ArrayLike, n: ArrayLike, n_params: ArrayLike, scale: ArrayLike | None = None
) -> NDArray[np.float64]:
    """Akaike information criterion of a least-squares fit with Gaussian errors.

    AIC = n·ln(SSR/n) + 2(p + 1), where p is the number of fitted model parameters and the
    extra 1 counts the error variance (Burnham & Anderson 2002, §2.2). Constant terms shared by
    all models fitted to the same data are dropped, so only differences between models matter.

    Parameters
    ----------
    ssr : array_like
        Residual sum of squares [(unit of the data)²].
    n : array_like
        Number of data points.
    n_params : array_like
        Number of fitted model parameters p (without the variance).
    scale : array_like, optional
        Magnitude of the data (e.g. the largest cumulative stock). When given, SSR is floored at
        n·(1e-9·scale)², so that models fitting exactly (to rounding) tie and the penalty decides,
        instead of comparing logarithms of rounding errors.

    Returns
    -------
    numpy.ndarray
        AIC; NaN when n ≤ p (no residual information: the model interpolates the data).
    """
    ssr = np.asarray(ssr, dtype=float)
    n = np.asarray(n, dtype=float)
    p = np.asarray(n_params, dtype=float)
    if scale is not None:
        floor = n * (AIC_RELATIVE_FLOOR * np.asarray(scale, dtype=float)) ** 2
        ssr = np.maximum(ssr, floor)
    valid = (n > p) & (ssr > 0) & np.isfinite(ssr)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = n * np.log(ssr / n) + 2.0 * (p + 1.0)
    return np.where(valid, value, np.nan)


def aicc(
    ssr: ArrayLike, n: ArrayLike, n_params: ArrayLike, scale: ArrayLike | None = None
) -> NDArray[np.float64]:
    """Second-order (small-sample) AIC: AICc = AIC + 2K(K + 1)/(n − K − 1), K = p + 1.

    Burnham & Anderson (2002), Eq. 2.14, with K counting the error variance as in :func:`aic`.
    NaN when n − K − 1 ≤ 0 (e.g. a 3-parameter model on 5 layers).

    Parameters
    ----------
    ssr, n, n_params, scale
        As in :func:`aic`.
    """
    n_arr = np.asarray(n, dtype=float)
    K = np.asarray(n_params, dtype=float) + 1.0
    denom = n_arr - K - 1.0
    base = aic(ssr, n, n_params, scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = 2.0 * K * (K + 1.0) / denom
    return np.where(denom > 0, base + corr, np.nan)
