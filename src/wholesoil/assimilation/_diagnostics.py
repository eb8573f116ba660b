"""Convergence diagnostics of batched MCMC chains: Gelman–Rubin R̂, effective sample size, and
acceptance rate (Tao et al. (EarthArXiv) §2.6).

Chains are arrays ``(..., m, n, d)``: any batch axes (profiles), then m chains, n draws each
(after burn-in), d parameters.

References
----------
Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError

__all__ = ["RHAT_THRESHOLD", "acceptance_rate", "effective_sample_size", "gelman_rubin"]

FloatArray = NDArray[np.float64]

#: PRODA accepts a profile when the mean R̂ over its parameters is ≤ 1.05 (Tao et al. (EarthArXiv)
#: §2.6).
RHAT_THRESHOLD: float = 1.05


def _chains(chains: ArrayLike, min_m: int) -> FloatArray:
    x = np.asarray(chains, dtype=float)
    if x.ndim < 3:
        raise InputDataError("expected chains (..., m, n, d)", field="chains", value=x.shape)
    m, n = x.shape[-3], x.shape[-2]
    if m < min_m:
        raise InputDataError(f"need at least {min_m} chain(s) (axis -3)", field="chains", value=m)
    if n < 4:
        raise InputDataError("need at least 4 draws per chain (axis -2)", field="chains", value=n)
    return x


def _w_b(x: FloatArray) -> tuple[FloatArray, FloatArray, int, int]:
    m, n = x.shape[-3], x.shape[-2]
    means = x.mean(axis=-2)  # (..., m, d)
    w = x.var(axis=-2, ddof=1).mean(axis=-2)  # (..., d)
    b = n * means.var(axis=-2, ddof=1) if m > 1 else np.zeros_like(w)
    return w, b, m, n


def gelman_rubin(chains: ArrayLike) -> FloatArray:
    """Gelman–Rubin potential scale reduction factor R̂ per parameter (Eq. 1).

    .. math::

        \\hat R = \\sqrt{\\frac{\\frac{n-1}{n} W + \\frac{1}{n} B}{W}}, \\quad
        W = \\frac1m \\sum_j s_j^2, \\quad B = \\frac{n}{m-1} \\sum_j (\\bar x_j - \\bar x)^2  (1)

    with :math:`s_j^2` the within-chain variance (ddof 1) and :math:`\\bar x_j` the chain means
    (Gelman and Rubin 1992, doi:10.1214/ss/1177011136; the formula of Tao et al. (EarthArXiv) §2.6).

    Parameters
    ----------
    chains : array (..., m, n, d)
        m ≥ 2 chains of n ≥ 4 draws.

    Returns
    -------
    array (..., d)
        R̂ (→ 1 at convergence; NaN for a parameter constant within every chain).
    """
    x = _chains(chains, 2)
    w, b, _, n = _w_b(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.sqrt(((n - 1) / n * w + b / n) / w)
    return np.where(w > 0, r, np.nan)


def effective_sample_size(chains: ArrayLike) -> FloatArray:
    """Effective sample size over all chains, per parameter (Eq. 2).

    Autocorrelations come from the FFT (biased autocovariance per chain) and are combined over
    chains as in Stan (Gelman et al. 2013, *Bayesian Data Analysis*, 3rd ed., §11.5):
    ρ̂_t = 1 − (W − mean_j γ̂_{j,t}) / var⁺ with var⁺ = (n−1)/n·W + B/n. The sum is truncated by
    Geyer's (1992, doi:10.1214/ss/1177011137) initial monotone sequence: pair sums
    P_k = ρ̂_{2k} + ρ̂_{2k+1} are kept up to the first negative one and made non-increasing.

    .. math::

        \\hat\\tau = -1 + 2 \\sum_{k} P_k, \\qquad ESS = \\frac{m n}{\\hat\\tau}           (2)

    For an AR(1) chain with coefficient ρ, τ = (1 + ρ)/(1 − ρ).

    Parameters
    ----------
    chains : array (..., m, n, d)
        m ≥ 1 chains of n ≥ 4 draws.

    Returns
    -------
    array (..., d)
        ESS (NaN for a parameter constant within every chain).
    """
    x = _chains(chains, 1)
    w, b, m, n = _w_b(x)
    xc = x - x.mean(axis=-2, keepdims=True)
    nfft = 1 << int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(xc, n=nfft, axis=-2)
    acov = np.fft.irfft(f * np.conj(f), n=nfft, axis=-2)[..., :n, :] / n  # (..., m, n, d)
    mean_acov = acov.mean(axis=-3)  # (..., n, d)
    var_plus = (n - 1) / n * w + b / n
    ok = w > 0
    vp = np.where(ok, var_plus, 1.0)[..., None, :]
    rho = 1.0 - (w[..., None, :] - mean_acov) / vp
    rho[..., 0, :] = 1.0
    n_pairs = n // 2
    p = rho[..., 0 : 2 * n_pairs : 2, :] + rho[..., 1 : 2 * n_pairs : 2, :]  # (..., K, d)
    positive = np.cumprod(p > 0, axis=-2).astype(bool)
    p = np.minimum.accumulate(np.where(positive, p, np.inf), axis=-2)
    p = np.where(positive, p, 0.0)
    tau = -1.0 + 2.0 * p.sum(axis=-2)
    tau = np.maximum(tau, 1.0 / np.log10(max(m * n, 10)))  # Stan's floor for antithetic chains
    return np.where(ok, m * n / tau, np.nan)


def acceptance_rate(accepted: ArrayLike, axis: int = -1) -> FloatArray:
    """Fraction of accepted proposals.

    Parameters
    ----------
    accepted : array of bool
        One flag per proposal (True = accepted). For a chain of states ``(..., n, d)`` without
        flags, pass ``np.any(np.diff(chain, axis=-2) != 0, axis=-1)`` (a move counts as accepted).
    axis : int
        Axis of the iterations (default last).

    Returns
    -------
    array
        Mean of the flags along ``axis``.
    """
    a = np.asarray(accepted)
    if a.dtype != bool:
        raise InputDataError("expected boolean acceptance flags", field="accepted", value=a.dtype)
    if a.ndim == 0 or a.shape[axis] == 0:
        raise InputDataError("need at least one proposal", field="accepted", value=a.shape)
    return a.mean(axis=axis)
