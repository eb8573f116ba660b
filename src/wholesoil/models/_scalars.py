"""Environmental modifiers ξ of decomposition in CLM5 and COMPAS (Tao et al. (EarthArXiv) Eq. 2, the
ξ(t) term).

Each scalar multiplies the baseline rate 1/τ of a pool in a layer:
``k = (1/τ)·ξ_T·ξ_W·ξ_O·ξ_D`` (·ξ_N for the litter pools when nitrogen limitation is used).
The formulas are those of CTSM ``SoilBiogeochemDecompCascadeBGCMod.F90`` as used by PRODA
(``phxtao/PRODA_PUBLIC``, ``SRC_DA/src_cesm2_clm5_cen_vr_v2/matrix_fun.m``), see
``shared/specs/process-models.md``.

Batch convention: arrays by layer have shape ``(..., n_layers)``; parameters have the batch shape
``(...)`` (sites × parameter sets) and are broadcast against the layer axis, i.e. a parameter
array ``p`` acts as ``p[..., None]``.

References
----------
Koven, C. D. et al. (2013). The effect of vertically resolved soil biogeochemistry and alternate
soil C and N models on C dynamics of CLM4. Biogeosciences 10, 7109–7131.
https://doi.org/10.5194/bg-10-7109-2013

Andrén, O. & Paustian, K. (1987). Barley straw decomposition in the field: a comparison of models.
Ecology 68, 1190–1200. https://doi.org/10.2307/1939203

Parton, W. J. et al. (1987). Analysis of factors controlling soil organic matter levels in Great
Plains grasslands. Soil Sci. Soc. Am. J. 51, 1173–1179 (CENTURY temperature function).

Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError

__all__ = [
    "FROZ_Q10",
    "MAXPSI",
    "MINPSI",
    "MIN_OXYGEN_SCALAR",
    "Q10",
    "century_normalization",
    "decomposition_scalar",
    "depth_scalar",
    "oxygen_scalar",
    "temperature_scalar",
    "water_scalar",
]

#: Temperature sensitivity of decomposition above freezing, CLM5 default (Tao et al. (EarthArXiv)
#: Supplementary Table 1, ``q10`` = 1.5; PRODA prior [1.2, 3]).
Q10: float = 1.5
#: Temperature sensitivity below 0 °C, CLM5 default ``froz_q10`` = 1.5. PRODA sets it equal to
#: the calibrated q10 (``fq10 = q10`` in ``matrix_fun.m``); pass ``froz_q10=q10`` to do the same.
FROZ_Q10: float = 1.5
#: Water potential above which water does not limit decomposition [MPa] (CLM5/PRODA ``maxpsi``).
MAXPSI: float = -0.002
#: Water potential at and below which decomposition stops [MPa] (PRODA ``minpsi``).
MINPSI: float = -2.0
#: Lower bound of the oxygen scalar (CTSM ``mino2lim`` = 0.2).
MIN_OXYGEN_SCALAR: float = 0.2

_T_REF = 25.0  # °C, temperature at which the baseline rates 1/τ apply (ξ_T = 1)


def _param(value: ArrayLike, name: str, *, positive: bool = True, what: str = "") -> NDArray:
    a = np.asarray(value, dtype=float)
    bad = ~(a > 0) if positive else ~(a >= 0)
    if np.any(bad):
        v = a[bad].flat[0] if a.ndim else float(a)
        rel = "> 0" if positive else ">= 0"
        raise InputDataError(f"{name} must be {rel}{what}", field=name, value=float(v))
    return a


def _catanf(t: float) -> float:
    """CENTURY temperature function (Parton et al. 1987) as coded in CTSM."""
    return 11.75 + (29.7 / math.pi) * math.atan(math.pi * 0.031 * (t - 15.4))


def century_normalization(q10: ArrayLike = Q10) -> NDArray[np.float64]:
    """Factor CTSM applies to ξ_T when ``normalize_q10_to_century_tfunc`` is on.

    ``f = (catanf(15) / catanf(30)) / q10^((15 − 25)/10)`` with the CENTURY function
    ``catanf(t) = 11.75 + (29.7/π)·atan(π·0.031·(t − 15.4))`` (CTSM
    ``SoilBiogeochemDecompCascadeBGCMod.F90``). For q10 = 1.5 it is 0.8206.

    Parameters
    ----------
    q10 : array (...) [-]
        Temperature sensitivity.

    Returns
    -------
    array (...) [-]
    """
    q10 = _param(q10, "q10", what=" (temperature sensitivity, unitless)")
    return (_catanf(15.0) / _catanf(30.0)) / q10 ** ((15.0 - _T_REF) / 10.0)


def temperature_scalar(
    tsoi: ArrayLike,
    q10: ArrayLike,
    *,
    froz_q10: ArrayLike = FROZ_Q10,
    normalize_century: bool = False,
) -> NDArray[np.float64]:
    """Temperature modifier ξ_T of decomposition (CLM5 Q10 function).

    ``ξ_T = q10^((T − 25)/10)`` for T ≥ 0 °C and ``ξ_T = q10^(−2.5)·froz_q10^(T/10)`` below
    (continuous at 0 °C), optionally times :func:`century_normalization` (CTSM's default; PRODA
    turns it off, and so does this function by default). ξ_T = 1 at 25 °C.

    Parameters
    ----------
    tsoi : array (..., n_layers) [°C]
        Soil temperature by layer.
    q10 : array (...) [-]
        Temperature sensitivity above freezing (Tao et al. (EarthArXiv) Supplementary Table 1,
        ``q10``; default 1.5, prior [1.2, 3]); broadcast as ``q10[..., None]``.
    froz_q10 : array (...) [-], default 1.5
        Temperature sensitivity below freezing (CLM5 ``froz_q10``).
    normalize_century : bool, default False
        Multiply by CTSM's ``normalize_q10_to_century_tfunc`` factor (0.8206 for q10 = 1.5).

    Returns
    -------
    array (..., n_layers) [-]
    """
    t = np.asarray(tsoi, dtype=float)
    q = _param(q10, "q10", what=" (temperature sensitivity, unitless)")[..., np.newaxis]
    fq = _param(froz_q10, "froz_q10", what=" (frozen-soil temperature sensitivity)")[
        ..., np.newaxis
    ]
    thawed = q ** ((t - _T_REF) / 10.0)
    frozen = q ** ((0.0 - _T_REF) / 10.0) * fq ** (t / 10.0)
    xi = np.where(t >= 0.0, thawed, frozen)
    if normalize_century:
        xi = xi * century_normalization(np.asarray(q10, dtype=float))[..., np.newaxis]
    return xi


def water_scalar(
    soilpsi: ArrayLike,
    *,
    w_scaling: ArrayLike = 1.0,
    minpsi: float = MINPSI,
    maxpsi: float = MAXPSI,
) -> NDArray[np.float64]:
    """Water modifier ξ_W of decomposition from soil water potential (Andrén & Paustian 1987).

    ``ξ_W = ln(minpsi/ψ) / ln(minpsi/maxpsi)`` for minpsi < ψ ≤ maxpsi, 1 for ψ > maxpsi, 0 for
    ψ ≤ minpsi (CTSM); PRODA then scales it, ``ξ_W = min(1, w_scaling·ξ_W)``.

    Parameters
    ----------
    soilpsi : array (..., n_layers) [MPa]
        Soil water potential (negative).
    w_scaling : array (...) [-], default 1
        PRODA's ``w-scaling`` (Tao et al. (EarthArXiv) Supplementary Table 1; default 1, prior [0,
        5]).
    minpsi, maxpsi : float [MPa]
        Bounds of the log response, −2 and −0.002 MPa (PRODA).

    Returns
    -------
    array (..., n_layers) [-], in [0, 1]
    """
    if not (minpsi < maxpsi < 0):
        raise InputDataError(
            f"water potential bounds must satisfy minpsi < maxpsi < 0 MPa; got minpsi={minpsi}, "
            f"maxpsi={maxpsi}",
            field="minpsi",
        )
    psi = np.clip(np.asarray(soilpsi, dtype=float), minpsi, maxpsi)
    xi = np.log(minpsi / psi) / math.log(minpsi / maxpsi)
    w = _param(w_scaling, "w_scaling", positive=False, what=" (water scalar scaling, unitless)")
    return np.minimum(1.0, w[..., np.newaxis] * xi)


def depth_scalar(z_node: ArrayLike, efolding: ArrayLike) -> NDArray[np.float64]:
    """Depth modifier ξ_D = exp(−z/z_τ) (Koven et al. 2013; CTSM ``decomp_depth_efolding``).

    Parameters
    ----------
    z_node : array (n_layers,) [m]
        Node depths (``VerticalGrid.z_node``).
    efolding : array (...) [m]
        E-folding depth z_τ (Tao et al. (EarthArXiv) Supplementary Table 1 ``efolding``; CLM5
        default 10 m, PRODA prior [0, 1] m); must be > 0 (``np.inf`` gives ξ_D = 1).

    Returns
    -------
    array (..., n_layers) [-]
    """
    z = np.asarray(z_node, dtype=float)
    e = _param(efolding, "efolding", what=" (e-folding depth of the depth scalar, m)")
    return np.exp(-z / e[..., np.newaxis])


def oxygen_scalar(o_scalar: ArrayLike | None) -> NDArray[np.float64] | float:
    """Oxygen modifier ξ_O = max(o2stress, 0.2) (CTSM ``mino2lim``); 1 when not given.

    Parameters
    ----------
    o_scalar : array (..., n_layers) [-] or None
        Oxygen stress from CLM5 (history variable ``O_SCALAR``), or None for no limitation.

    Returns
    -------
    array (..., n_layers) or the float 1.0
    """
    if o_scalar is None:
        return 1.0
    o = np.asarray(o_scalar, dtype=float)
    if np.any(o < 0) or np.any(o > 1):
        bad = o[(o < 0) | (o > 1)].flat[0]
        raise InputDataError("o_scalar must be in [0, 1]", field="o_scalar", value=float(bad))
    return np.maximum(o, MIN_OXYGEN_SCALAR)


def decomposition_scalar(
    tsoi: ArrayLike,
    soilpsi: ArrayLike,
    z_node: ArrayLike,
    *,
    q10: ArrayLike = Q10,
    w_scaling: ArrayLike = 1.0,
    efolding: ArrayLike = 10.0,
    o_scalar: ArrayLike | None = None,
    froz_q10: ArrayLike | None = None,
    normalize_century: bool = False,
    month_axis: bool = False,
) -> NDArray[np.float64]:
    """Product ξ = ξ_T·ξ_W·ξ_O·ξ_D shared by all pools, time-averaged over months if given.

    The time mean of the monthly product, not the product of time means, enters the steady state
    (Tao et al. (EarthArXiv) §2.2: overbars on ξ(t)). ξ_N (``FPI_vr``) is not included: it applies
    to the litter pools only when nitrogen limitation is switched on.

    Parameters
    ----------
    tsoi, soilpsi : array (..., n_layers) or (..., n_months, n_layers) [°C], [MPa]
    z_node : array (n_layers,) [m]
    q10, w_scaling, efolding : array (...)
        As in :func:`temperature_scalar`, :func:`water_scalar`, :func:`depth_scalar`.
    o_scalar : array like ``tsoi`` or None
    froz_q10 : array (...) or None
        None uses ``q10`` below freezing too, as PRODA does.
    normalize_century : bool
    month_axis : bool
        True when the inputs carry a months axis at position −2; ξ is then averaged over it.

    Returns
    -------
    array (..., n_layers) [-]
    """
    q10 = np.asarray(q10, dtype=float)
    w = np.asarray(w_scaling, dtype=float)
    e = np.asarray(efolding, dtype=float)
    fq = q10 if froz_q10 is None else np.asarray(froz_q10, dtype=float)
    if month_axis:  # parameters act on (..., months, layers): add the months axis
        q10, w, e, fq = (a[..., np.newaxis] for a in (q10, w, e, fq))
    xi = (
        temperature_scalar(tsoi, q10, froz_q10=fq, normalize_century=normalize_century)
        * water_scalar(soilpsi, w_scaling=w)
        * oxygen_scalar(o_scalar)
        * depth_scalar(z_node, e)
    )
    return xi.mean(axis=-2) if month_axis else xi
