r"""Vertical distributions of root biomass: Jackson et al. (1996) β and Schenk & Jackson (2002).

Two published cumulative distributions of root biomass with depth, both giving :math:`Y(d)`, the
fraction of all roots found between the soil surface and depth :math:`d`:

.. math:: Y(d) = 1 - \beta^{d}                                                        \tag{1}

(Gale & Grigal 1987, fitted per biome by Jackson et al. 1996 [1]_, their Eq. 1 and Table 1),
with :math:`d` in cm and :math:`0 < \beta < 1`; and the logistic dose–response function of
Schenk & Jackson (2002) [2]_

.. math:: Y(D) = \frac{1}{1 + (D / D_{50})^{c}},\qquad c = \frac{2.94}{\ln(D_{50} / D_{95})}
   \tag{2}

with :math:`D_{50}` and :math:`D_{95}` the depths above which 50 % and 95 % of all roots lie.

Which side of D does Eq. 2 give? Because :math:`D_{95} > D_{50}`, :math:`\ln(D_{50}/D_{95}) < 0`
and :math:`c < 0`: :math:`(D/D_{50})^c \to \infty` as :math:`D \to 0` and :math:`\to 0` as
:math:`D \to \infty`, so Eq. 2 rises from 0 at the surface to 1 at depth — it is the cumulative
fraction **above** D, like Eq. 1. At :math:`D = D_{50}` it is exactly 1/2. At :math:`D = D_{95}`
it is :math:`1/(1 + e^{-2.94}) = 0.949785…`: the published constant 2.94 is :math:`\ln 19 =
2.944439…` rounded, and only :math:`\ln 19` makes :math:`Y(D_{95}) = 0.95` exactly. The
published 2.94 is the default (:data:`SCHENK_JACKSON_C`); pass ``c_constant=np.log(19)`` for the
exact 95 % point.

The fraction of roots in a layer ``[top, bottom)`` is :math:`Y(\text{bottom}) - Y(\text{top})`
(:func:`root_fractions`). By default the fractions are **not** renormalized: roots below the
deepest layer requested are simply not allocated, and :func:`root_fractions` reports the
fraction below the deepest bottom separately, so that the allocation of a flux
(Wang G. et al. (manuscript):
:math:`I_{root}` by layer) says how much of it falls below the layers studied. With
``max_depth`` the distribution is truncated at a maximum rooting depth and rescaled by
:math:`1/Y(\text{max\_depth})`, so that all roots lie above it (layers below it receive 0).

References
----------
.. [1] Jackson, R.B., Canadell, J., Ehleringer, J.R., Mooney, H.A., Sala, O.E., Schulze, E.D.
   (1996). A global analysis of root distributions for terrestrial biomes. Oecologia 108,
   389–411. https://doi.org/10.1007/BF00333714
.. [2] Schenk, H.J., Jackson, R.B. (2002). The global biogeography of roots. Ecological
   Monographs 72(3), 311–328.
   https://doi.org/10.1890/0012-9615(2002)072[0311:TGBOR]2.0.CO;2
.. [3] Gale, M.R., Grigal, D.F. (1987). Vertical root distributions of northern tree species in
   relation to successional status. Can. J. For. Res. 17, 829–834.

.. [4] Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G.,
   Shi, Z. & Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil
   carbon pool. Manuscript.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError

__all__ = [
    "JACKSON_1996_BETA",
    "SCHENK_JACKSON_C",
    "RootFractions",
    "jackson_beta",
    "jackson_cumulative",
    "root_fractions",
    "schenk_jackson_c",
    "schenk_jackson_cumulative",
]

#: Depth coefficient β [-] of Y = 1 − β^d (d in cm) fitted per biome by Jackson et al. (1996,
#: Oecologia 108:389–411, Table 1; values as reproduced in the MAR/SISVAT land-surface code and
#: the CLM technical note). ``"all"`` is the global average of all profiles (β = 0.966, 50 % of
#: roots in the top 20 cm; Jackson et al. 1996 abstract). Tundra: Table 1 gives 0.914; the
#: paper's abstract rounds it to 0.913.
JACKSON_1996_BETA: dict[str, float] = {
    "boreal_forest": 0.943,
    "crops": 0.961,
    "desert": 0.975,
    "sclerophyllous_shrubs": 0.964,
    "temperate_coniferous_forest": 0.976,
    "temperate_deciduous_forest": 0.966,
    "temperate_grassland": 0.943,
    "tropical_deciduous_forest": 0.961,
    "tropical_evergreen_forest": 0.962,
    "tropical_grassland_savanna": 0.972,
    "tundra": 0.914,
    "all": 0.966,
}

#: The constant of c = 2.94 / ln(D50/D95) as published by Schenk & Jackson (2002); ln 19 rounded.
SCHENK_JACKSON_C = 2.94


class RootFractions(NamedTuple):
    """Root fractions of layers.

    Attributes
    ----------
    fraction : ndarray, shape (..., L)
        Fraction of all roots in each layer [-].
    above : ndarray, shape (...)
        Fraction of roots above the shallowest top [-] (0 when the layers start at the surface).
    below : ndarray, shape (...)
        Fraction of roots below the deepest bottom, not allocated to any layer [-] (0 with
        ``max_depth`` at or above the deepest bottom).
    """

    fraction: NDArray[np.float64]
    above: NDArray[np.float64]
    below: NDArray[np.float64]


def jackson_beta(vegetation: str) -> float:
    """β of Jackson et al. (1996, Table 1) for a vegetation type [-].

    Parameters
    ----------
    vegetation : str
        A key of :data:`JACKSON_1996_BETA` (case-insensitive; spaces, hyphens and slashes are
        read as underscores, so ``"Tropical grassland/savanna"`` works).

    Raises
    ------
    wholesoil.errors.InputDataError
        For an unknown vegetation type (the known ones are listed).
    """
    key = str(vegetation).strip().lower()
    for ch in " -/":
        key = key.replace(ch, "_")
    while "__" in key:
        key = key.replace("__", "_")
    if key not in JACKSON_1996_BETA:
        raise InputDataError(
            f"unknown vegetation type; expected one of {sorted(JACKSON_1996_BETA)}",
            field="vegetation", value=vegetation,
        )
    return JACKSON_1996_BETA[key]


def _depth(depth: ArrayLike, name: str = "depth") -> NDArray[np.float64]:
    d = np.asarray(depth, dtype=float)
    bad = ~np.isfinite(d) | (d < 0)
    if np.any(bad):
        i = np.flatnonzero(bad.ravel())[0]
        raise InputDataError(f"expected a finite depth ≥ 0 cm at position {i}", field=name,
                             value=float(d.ravel()[i]))
    return d


def jackson_cumulative(depth: ArrayLike, beta: ArrayLike) -> NDArray[np.float64]:
    """Cumulative root fraction above ``depth``, Y = 1 − β^d (Eq. 1; Jackson et al. 1996).

    Parameters
    ----------
    depth : array_like [cm]
        Depth below the soil surface, ≥ 0.
    beta : array_like [-]
        Depth coefficient, 0 < β < 1 (see :data:`JACKSON_1996_BETA`); broadcast against
        ``depth``.

    Returns
    -------
    ndarray [-]
        Fraction of all roots between the surface and ``depth``.
    """
    d = _depth(depth)
    b = np.asarray(beta, dtype=float)
    if np.any(~np.isfinite(b) | (b <= 0) | (b >= 1)):
        raise InputDataError("expected 0 < β < 1", field="beta",
                             value=b[~np.isfinite(b) | (b <= 0) | (b >= 1)].ravel()[0])
    return -np.expm1(d * np.log(b))


def schenk_jackson_c(d50: ArrayLike, d95: ArrayLike,
                     c_constant: float = SCHENK_JACKSON_C) -> NDArray[np.float64]:
    """Shape parameter c = 2.94 / ln(D50/D95) of the Schenk & Jackson (2002) logistic (Eq. 2).

    Parameters
    ----------
    d50, d95 : array_like [cm]
        Depths above which 50 % and 95 % of roots lie, 0 < D50 < D95.
    c_constant : float, default 2.94
        The numerator; ``np.log(19)`` makes Y(D95) = 0.95 exactly.

    Returns
    -------
    ndarray [-]
        c, negative.
    """
    a50 = np.asarray(d50, dtype=float)
    a95 = np.asarray(d95, dtype=float)
    bad = ~(np.isfinite(a50) & np.isfinite(a95) & (a50 > 0) & (a95 > a50))
    if np.any(bad):
        i = np.flatnonzero(np.broadcast_to(bad, np.broadcast(a50, a95).shape).ravel())[0]
        raise InputDataError(
            f"expected 0 < D50 < D95 [cm] at position {i}", field="d50/d95",
            value=(float(np.broadcast_to(a50, bad.shape).ravel()[i]),
                   float(np.broadcast_to(a95, bad.shape).ravel()[i])),
        )
    return c_constant / np.log(a50 / a95)


def schenk_jackson_cumulative(depth: ArrayLike, d50: ArrayLike, d95: ArrayLike,
                              c_constant: float = SCHENK_JACKSON_C) -> NDArray[np.float64]:
    """Cumulative root fraction above ``depth``, Y = 1 / (1 + (D/D50)^c) (Eq. 2; Schenk &
    Jackson 2002).

    Parameters
    ----------
    depth : array_like [cm]
        Depth D ≥ 0 (Y(0) = 0).
    d50, d95 : array_like [cm]
        Depths above which 50 % and 95 % of roots lie; broadcast against ``depth``.
    c_constant : float, default 2.94
        Numerator of c (see :func:`schenk_jackson_c`).

    Returns
    -------
    ndarray [-]
        Fraction of all roots between the surface and ``depth``.
    """
    d = _depth(depth)
    c = schenk_jackson_c(d50, d95, c_constant)
    a50 = np.asarray(d50, dtype=float)
    d, c, a50 = np.broadcast_arrays(d, c, a50)
    pos = d > 0
    # (D/D50)^c = exp(c·ln(D/D50)); 1/(1+e^x) written as the logistic of −x, no overflow
    x = np.where(pos, c * np.log(np.where(pos, d, 1.0) / a50), 0.0)
    y = np.where(x >= 0, np.exp(-np.abs(x)) / (1.0 + np.exp(-np.abs(x))),
                 1.0 / (1.0 + np.exp(-np.abs(x))))
    return np.where(pos, y, 0.0)


def root_fractions(
    top: ArrayLike,
    bottom: ArrayLike,
    *,
    beta: ArrayLike | None = None,
    d50: ArrayLike | None = None,
    d95: ArrayLike | None = None,
    max_depth: ArrayLike | None = None,
    c_constant: float = SCHENK_JACKSON_C,
) -> RootFractions:
    """Fraction of roots in layers ``[top, bottom)``: Y(bottom) − Y(top) (Eq. 1 or Eq. 2).

    Give either ``beta`` (Jackson et al. 1996) or ``d50`` and ``d95`` (Schenk & Jackson 2002).

    Parameters
    ----------
    top, bottom : array_like, shape (..., L) [cm]
        Layer depths, 0 ≤ top < bottom. Leading axes broadcast against the parameters' shape.
    beta : array_like, shape (...), optional [-]
        Jackson β per profile / draw; a layer axis is appended, so shape (D, P) parameters with
        (L,) layers give (D, P, L) fractions.
    d50, d95 : array_like, shape (...), optional [cm]
        Schenk–Jackson depths per profile / draw.
    max_depth : array_like, shape (...), optional [cm]
        Maximum rooting depth: the distribution is truncated there and rescaled by
        1/Y(max_depth) so that the fractions above it sum to 1; layers are cut at it. Default
        none: no rescaling, the roots below the deepest bottom are reported in ``below``.
    c_constant : float, default 2.94
        Numerator of the Schenk–Jackson c.

    Returns
    -------
    RootFractions
        ``fraction`` (..., L), ``above`` and ``below`` (...). Without ``max_depth``,
        ``fraction.sum(-1) == Y(last bottom) − Y(first top)`` for contiguous layers.
    """
    t = _depth(top, "top")
    b = _depth(bottom, "bottom")
    if np.any(b <= t):
        bad = np.broadcast_to(b <= t, np.broadcast(t, b).shape)
        i = np.flatnonzero(bad.ravel())[0]
        raise InputDataError(f"expected bottom > top at layer {i}", field="bottom",
                             value=(float(np.broadcast_to(t, bad.shape).ravel()[i]),
                                    float(np.broadcast_to(b, bad.shape).ravel()[i])))
    if (beta is None) == (d50 is None and d95 is None):
        raise InputDataError("give either beta or both d50 and d95", field="beta")
    if beta is not None:
        par = (np.asarray(beta, dtype=float)[..., None],)

        def cum(d: NDArray[np.float64]) -> NDArray[np.float64]:
            return jackson_cumulative(d, par[0])
    else:
        if d50 is None or d95 is None:
            raise InputDataError("d50 and d95 are needed together", field="d50/d95")
        p50 = np.asarray(d50, dtype=float)[..., None]
        p95 = np.asarray(d95, dtype=float)[..., None]

        def cum(d: NDArray[np.float64]) -> NDArray[np.float64]:
            return schenk_jackson_cumulative(d, p50, p95, c_constant)
    t_first = np.min(t, axis=-1, keepdims=True) if t.ndim else t
    b_last = np.max(b, axis=-1, keepdims=True) if b.ndim else b
    if max_depth is None:
        frac = cum(b) - cum(t)
        above = cum(t_first)[..., 0]
        below = 1.0 - cum(b_last)[..., 0]
        return RootFractions(frac, above, below)
    md = _depth(max_depth, "max_depth")[..., None]
    if np.any(md <= 0):
        raise InputDataError("expected max_depth > 0 cm", field="max_depth")
    scale = cum(md)
    frac = (cum(np.minimum(b, md)) - cum(np.minimum(t, md))) / scale
    above = (cum(np.minimum(t_first, md)) / scale)[..., 0]
    below = 1.0 - (cum(np.minimum(b_last, md)) / scale)[..., 0]
    return RootFractions(frac, above, below)
