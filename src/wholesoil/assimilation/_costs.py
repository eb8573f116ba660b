"""PRODA's costs, a Gaussian likelihood, the NSE and the profile filters (Tao et al. (EarthArXiv)
§2.1, §2.6).

All functions take observations padded with NaN to a common number of layers,
``(..., n_layers_obs)`` with the top layer first; NaN observations are ignored. Model values are
the model's SOC already brought to the observed layers (e.g. by
:func:`wholesoil.models.layer_stocks`), broadcast against the observations.

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

__all__ = [
    "MIN_PROFILE_DEPTH",
    "MIN_PROFILE_LAYERS",
    "PRODA_CLM5_RELATIVE_SD",
    "PRODA_CLM5_TOP_WEIGHT",
    "PRODA_COMPAS_COST_SCALE",
    "gaussian_loglik",
    "nse",
    "proda_clm5_cost",
    "proda_clm5_weights",
    "proda_compas_cost",
    "profile_filter",
]

FloatArray = NDArray[np.float64]

#: Observation error of PRODA's CLM5 cost as a fraction of the observed SOC: σ_i = 0.6·obs_i.
#: Source: PRODA public code (``phxtao/PRODA_PUBLIC``), CLM5 cost; spec ``assimilation.md``.
PRODA_CLM5_RELATIVE_SD: float = 0.6
#: Largest layer weight in PRODA's CLM5 cost, w = max(1, 10·e^−(r−1)) (same source).
PRODA_CLM5_TOP_WEIGHT: float = 10.0
#: Scale of PRODA's COMPAS cost J = 5·(1 − NSE). Source: ``phxtao/PRODA_MIC`` cost; spec.
PRODA_COMPAS_COST_SCALE: float = 5.0
#: Profile filter of Tao et al. (EarthArXiv) §2.1: at least three layers …
MIN_PROFILE_LAYERS: int = 3
#: … and a maximum depth deeper than 50 cm.
MIN_PROFILE_DEPTH: float = 50.0


def _pair(mod: ArrayLike, obs: ArrayLike) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    o = np.asarray(obs, dtype=float)
    m = np.asarray(mod, dtype=float)
    if o.ndim == 0:
        raise InputDataError("expected observations (..., n_layers_obs)", field="obs", value=o)
    try:
        m, o = np.broadcast_arrays(m, o)
    except ValueError as exc:
        raise InputDataError(
            f"model values {m.shape} do not broadcast with observations", field="mod",
            value=o.shape,
        ) from exc
    return m, o, ~np.isnan(o)


def _bad_model_to_inf(j: FloatArray, m: FloatArray, valid: NDArray[np.bool_]) -> FloatArray:
    bad = np.any(valid & ~np.isfinite(m), axis=-1)
    return np.where(bad, np.inf, j)


def _rank_descending(x: FloatArray, valid: NDArray[np.bool_]) -> FloatArray:
    """1-based rank of each valid entry along the last axis, largest first; ties keep the layer
    order (a stable sort, as MATLAB's ``sort(..., 'descend')``); invalid entries rank last."""
    key = np.where(valid, -x, np.inf)
    order = np.argsort(key, axis=-1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(1, x.shape[-1] + 1), axis=-1)
    return rank.astype(float)


def proda_clm5_weights(obs: ArrayLike, depth: ArrayLike | None = None) -> FloatArray:
    """Layer weights of PRODA's CLM5 cost, ranked by distance from the profile's mean (Eq. 2).

    .. math::

        r_i = \\tfrac12\\left(r^{obs}_i + r^{z}_i\\right), \\qquad
        w_i = \\max\\left(1, 10\\, e^{-(r_i - 1)}\\right)                              (2)

    with :math:`r^{obs}_i` the rank of :math:`|obs_i - \\overline{obs}|` and :math:`r^{z}_i` the
    rank of :math:`|z_i - \\bar z|` among the profile's observed layers, both descending (rank 1
    = farthest from the mean; ties keep the layer order). Layers at both ends of the profile —
    far from the mean depth and, usually, far from the mean SOC — get the large weights.
    Source: ``da_cesm2_clm5_cen_vr_v2.m`` of the public PRODA code (``phxtao/PRODA_PUBLIC``).

    Parameters
    ----------
    obs : array (..., n_layers_obs)
        Observed SOC, NaN-padded.
    depth : array broadcastable to ``obs`` [any depth unit], optional
        Observation depths (PRODA: the layer's node depth). Default: the layer positions
        0, 1, 2, … (equally spaced layers).

    Returns
    -------
    array (..., n_layers_obs)
        Weights ≥ 1 at observed layers, 0 at NaN layers. Example (the public PRODA code's rule):
        SOC 10, 6, 4, 3, 2.5 at 10, 30, 50, 70, 90 cm gives 10, 1, 1, 1, 3.68.
    """
    o = np.asarray(obs, dtype=float)
    z = (np.broadcast_to(np.arange(o.shape[-1], dtype=float), o.shape) if depth is None
         else np.broadcast_to(np.asarray(depth, dtype=float), o.shape))
    valid = ~np.isnan(o) & ~np.isnan(z)
    n = np.maximum(valid.sum(axis=-1, keepdims=True), 1)
    o0 = np.where(valid, o, 0.0)
    z0 = np.where(valid, z, 0.0)
    dev_o = np.abs(o0 - o0.sum(axis=-1, keepdims=True) / n)
    dev_z = np.abs(z0 - z0.sum(axis=-1, keepdims=True) / n)
    rank = 0.5 * (_rank_descending(dev_o, valid) + _rank_descending(dev_z, valid))
    w = np.maximum(1.0, PRODA_CLM5_TOP_WEIGHT * np.exp(-(rank - 1.0)))
    return np.where(valid, w, 0.0)


def proda_clm5_cost(mod: ArrayLike, obs: ArrayLike, depth: ArrayLike | None = None
                    ) -> FloatArray:
    """PRODA's CLM5 cost: weighted squared errors relative to 60 % of the observations.

    .. math::

        J = \\sum_i w_i \\frac{(mod_i - obs_i)^2}{2 (0.6\\, obs_i)^2}

    with the weights :math:`w_i` of :func:`proda_clm5_weights` (Eq. 2; ``cost_fun.m`` of
    ``phxtao/PRODA_PUBLIC``).

    Parameters
    ----------
    mod : array (..., n_layers_obs) [g C m-3, same unit as ``obs``]
        Modelled SOC density at the observation depths.
    obs : array (..., n_layers_obs)
        Observed SOC density, top layer first, NaN-padded; observed values must be > 0.
    depth : array broadcastable to ``obs``, optional
        Observation depths for the weights (see :func:`proda_clm5_weights`).

    Returns
    -------
    array (...)
        Cost J (0 with no observed layer; +inf where a model value at an observed layer is not
        finite, so a sampler rejects it).

    Raises
    ------
    InputDataError
        For an observed value ≤ 0 (field ``obs``).
    """
    m, o, valid = _pair(mod, obs)
    if np.any(valid & ~(o > 0)):
        raise InputDataError("observed SOC must be > 0 (σ = 0.6·obs)", field="obs",
                             value=float(o[valid & ~(o > 0)][0]))
    w = proda_clm5_weights(o, depth)
    sd = PRODA_CLM5_RELATIVE_SD * np.where(valid, o, 1.0)
    with np.errstate(invalid="ignore", over="ignore"):
        terms = np.where(valid, w * (m - o) ** 2 / (2.0 * sd**2), 0.0)
    return _bad_model_to_inf(np.sum(terms, axis=-1), m, valid)


def nse(mod: ArrayLike, obs: ArrayLike) -> FloatArray:
    """Nash–Sutcliffe modelling efficiency over the observed layers (Tao et al. (EarthArXiv) Eq. 1).

    .. math::

        NSE = 1 - \\frac{\\sum_i (obs_i - mod_i)^2}{\\sum_i (obs_i - \\overline{obs})^2}   (3)

    with :math:`\\overline{obs}` the mean of the profile's observations.

    Parameters
    ----------
    mod, obs : array (..., n_layers_obs)
        Modelled and observed SOC (same unit), NaN-padded observations.

    Returns
    -------
    array (...)
        NSE ≤ 1 (1: perfect; 0: no better than the observed mean); NaN where fewer than two
        layers are observed or the observations do not vary; −inf where a model value at an
        observed layer is not finite.
    """
    m, o, valid = _pair(mod, obs)
    n = np.sum(valid, axis=-1)
    o0 = np.where(valid, o, 0.0)
    mean = np.sum(o0, axis=-1) / np.maximum(n, 1)
    ss_tot = np.sum(np.where(valid, (o0 - mean[..., None]) ** 2, 0.0), axis=-1)
    with np.errstate(invalid="ignore", over="ignore"):
        ss_res = np.sum(np.where(valid, (o - m) ** 2, 0.0), axis=-1)
    undefined = (n < 2) | (ss_tot <= 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        e = 1.0 - ss_res / np.where(undefined, 1.0, ss_tot)
    e = np.where(undefined, np.nan, e)
    bad = np.any(valid & ~np.isfinite(m), axis=-1)
    return np.where(bad & ~undefined, -np.inf, e)


def proda_compas_cost(mod: ArrayLike, obs: ArrayLike) -> FloatArray:
    """PRODA's COMPAS cost, ``J = 5·(1 − NSE)`` with the NSE of Eq. 3 (Eq. 4).

    Returns array (...); NaN where the NSE is undefined, +inf for non-finite model values.
    """
    return PRODA_COMPAS_COST_SCALE * (1.0 - nse(mod, obs))


def gaussian_loglik(mod: ArrayLike, obs: ArrayLike, sigma: ArrayLike) -> FloatArray:
    """Independent Gaussian log-likelihood of the observed layers (Eq. 5).

    .. math::

        \\log L = -\\sum_i \\left[\\frac{(mod_i - obs_i)^2}{2\\sigma_i^2} + \\log \\sigma_i
        + \\tfrac12 \\log 2\\pi\\right]                                                 (5)

    Parameters
    ----------
    mod, obs : array (..., n_layers_obs)
        Modelled and observed SOC, NaN-padded observations.
    sigma : array broadcastable to ``obs``
        Observation standard deviation, same unit, > 0 at observed layers.

    Returns
    -------
    array (...)
        log L (0 with no observed layer; −inf where a model value is not finite).
    """
    m, o, valid = _pair(mod, obs)
    s = np.broadcast_to(np.asarray(sigma, dtype=float), o.shape)
    if np.any(valid & ~(s > 0)):
        raise InputDataError("sigma must be > 0 at observed layers", field="sigma",
                             value=float(s[valid & ~(s > 0)][0]))
    s1 = np.where(valid, s, 1.0)
    with np.errstate(invalid="ignore", over="ignore"):
        terms = (m - o) ** 2 / (2.0 * s1**2) + np.log(s1) + 0.5 * np.log(2.0 * np.pi)
    ll = -np.sum(np.where(valid, terms, 0.0), axis=-1)
    return -_bad_model_to_inf(-ll, m, valid)


def profile_filter(
    top: ArrayLike, bottom: ArrayLike, soc: ArrayLike
) -> tuple[NDArray[np.bool_], NDArray[np.str_]]:
    """Profiles usable for calibration (Tao et al. (EarthArXiv) §2.1), with the reason for each
    rejection.

    A layer is present when any of ``top``, ``bottom``, ``soc`` is not NaN (all-NaN layers are
    padding, anywhere). A profile is kept when all hold:

    * depths present: ``top`` and ``bottom`` given for every present layer;
    * depths increasing: ``bottom > top`` in every layer, and tops and bottoms strictly
      increasing from one layer to the next (checked on layers with both depths; overlaps
      such as 0–30 then 20–40 cm pass, gaps are allowed);
    * at least three layers (:data:`MIN_PROFILE_LAYERS`);
    * maximum depth (deepest bottom) > 50 cm (:data:`MIN_PROFILE_DEPTH`);
    * SOC present and > 0 in every present layer.

    Parameters
    ----------
    top, bottom : array (..., n_layers) [cm]
        Layer depths, top layer first, NaN-padded.
    soc : array (..., n_layers)
        Observed SOC (any unit).

    Returns
    -------
    keep : array (...) of bool
    reason : array (...) of str
        ``""`` for kept profiles, else every failed check joined by ``"; "``.
    """
    t, b, c = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (top, bottom, soc)))
    if t.ndim == 0:
        raise InputDataError("expected layers (..., n_layers)", field="top", value=t)
    present = ~(np.isnan(t) & np.isnan(b) & np.isnan(c))
    n = np.sum(present, axis=-1)
    missing_depth = np.any(present & (np.isnan(t) | np.isnan(b)), axis=-1)
    # order is checked on the layers with both depths (missing ones are reported apart)
    dated = ~np.isnan(t) & ~np.isnan(b)
    thick_bad = np.any(dated & ~(b > t), axis=-1)
    # compare each dated layer with the previous dated one: forward-fill along the axis
    idx = np.where(dated, np.arange(t.shape[-1]), -1)
    prev = np.maximum.accumulate(idx, axis=-1)
    prev_of = np.concatenate([np.full((*t.shape[:-1], 1), -1), prev[..., :-1]], axis=-1)
    has_prev = dated & (prev_of >= 0)
    safe = np.maximum(prev_of, 0)
    t_prev = np.take_along_axis(t, safe, axis=-1)
    b_prev = np.take_along_axis(b, safe, axis=-1)
    with np.errstate(invalid="ignore"):
        order_bad = np.any(has_prev & ~((t > t_prev) & (b > b_prev)), axis=-1)
    max_depth = np.max(np.where(present & ~np.isnan(b), b, -np.inf), axis=-1)
    with np.errstate(invalid="ignore"):
        soc_bad = np.any(present & ~(c > 0), axis=-1)
    checks = (
        (missing_depth, "depths missing"),
        (thick_bad | order_bad, "depths not increasing"),
        (n < MIN_PROFILE_LAYERS, f"fewer than {MIN_PROFILE_LAYERS} layers"),
        (~(max_depth > MIN_PROFILE_DEPTH),
         f"maximum depth not deeper than {MIN_PROFILE_DEPTH:g} cm"),
        (soc_bad, "SOC missing or not > 0"),
    )
    keep = np.ones(t.shape[:-1], dtype=bool)
    reason = np.full(t.shape[:-1], "", dtype=object)
    for failed, text in checks:
        keep &= ~failed
        reason = np.where(failed, np.where(reason == "", text, reason + "; " + text), reason)
    return keep, reason.astype(str)
