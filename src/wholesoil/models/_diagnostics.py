"""System-level diagnostics of a vertically resolved carbon model (Tao et al. (EarthArXiv) Eqs.
10–14).

Tao et al. (EarthArXiv) (§2.7) condenses each calibrated model into five "components": carbon
transfer efficiency, baseline decomposition, environmental modification, vertical transport and
input allocation. With pools x_{i,z} [g C m⁻³] on layers of thickness Δz [m], baseline rates k_j
[yr⁻¹], environmental modifiers ξ_z [-] and transfer fractions a_ij (receiver i, donor j):

(10) CTE_system = Σ_ij a_ij · F_j / Σ_j F_j,  F_j = Σ_z x_{j,z} k_j ξ_z Δz
     (flux-weighted transfer efficiency; i ≠ j: the −1 on A's diagonal is not a transfer)
(11) K_bulk = Σ_i k_i · X_i / Σ_i X_i,  X_i = Σ_z x_{i,z} Δz           [yr⁻¹]
(12) V_system = Σ_z v_z · S_z / Σ_z S_z,  S_z = Σ_i x_{i,z} Δz           [yr⁻¹]
(13) ξ_system = Σ_z ξ_{T,z} ξ_{W,z} ξ_{D,z} · S_z / Σ_z S_z              [-]
(14) B_system = [ Σ_z exp( ln(1 − Y_z) / D_z ) / n ]^5                   [-]
     Y_z the cumulative fraction of the inputs above depth D_z [cm]

Eq. 14 reads as a Jackson et al. (1996) profile: if Y = 1 − β^D then every term is β and
B_system = β⁵, the fraction of the inputs allocated below 5 cm (Tao et al. (EarthArXiv): "the
fraction of carbon input allocated to soil layers below 5 cm").

Choices, where the paper leaves them open (and what PRODA's code does, ``phxtao/PRODA_PUBLIC``
``SRC_DA/src_cesm2_clm5_cen_vr_v2/fun_bulk_process.m``, read for this module):

* which pools enter: the functions take the pools they are given. PRODA uses L1–S3 as donors in
  Eq. 10 (CWD's transfers excluded from numerator and denominator) and the mineral SOC pools
  S1–S3 in Eqs. 11–13; :func:`system_diagnostics` takes those selections as arguments.
* ξ in Eqs. 10 and 13: PRODA uses ξ_T·ξ_W·exp(−z/z_τ) (time means of each), without oxygen or
  nitrogen; pass whichever product is wanted.
* v_z in Eq. 12: PRODA uses the diagonal of the mixing operator V [yr⁻¹] of a mixed pool.
* Eq. 14: layers with no input below them (1 − Y_z = 0, where ln is −∞) are left out of the mean
  and n counts the layers kept, as PRODA's code does (it sets Y ≥ 1 to NaN). 1 − Y_z is computed
  as the sum of the inputs *below* the layer, so it is exactly 0 where nothing is left, not a
  rounding residue of 1 − cumsum (which would give (10⁻¹⁶)^(1/D) ≈ 0.96 instead of 0 at 8 m).
  D_z is the layer's bottom interface by default (where Y_z is evaluated); PRODA's code uses the
  node depth and returns the mean without the 5th power: ``depth=z_node, reference_depth_cm=1``
  reproduces it.

References
----------
Tao, F. et al. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation (Tao et al. (EarthArXiv)), §2.7, Eqs. 10–14.

Jackson, R. B. et al. (1996). A global analysis of root distributions for terrestrial biomes.
Oecologia 108, 389–411. https://doi.org/10.1007/BF00333714

Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError

__all__ = [
    "SystemDiagnostics",
    "bulk_decomposition_rate",
    "carbon_transfer_efficiency",
    "environmental_scalar_system",
    "input_allocation_index",
    "system_diagnostics",
    "vertical_transport_system",
]


class SystemDiagnostics(NamedTuple):
    """The five system-level components of Tao et al. (EarthArXiv) (Eqs. 10–14), each of shape
    (...)."""

    cte: NDArray[np.float64]  #: carbon transfer efficiency, Eq. 10 [-]
    k_bulk: NDArray[np.float64]  #: bulk baseline decomposition rate, Eq. 11 [yr⁻¹]
    v_system: NDArray[np.float64]  #: SOC-weighted vertical transport rate, Eq. 12 [yr⁻¹]
    xi_system: NDArray[np.float64]  #: SOC-weighted environmental modifier, Eq. 13 [-]
    b_system: NDArray[np.float64]  #: input allocation index, Eq. 14 [-]


# ------------------------------------------------------------------------------------------------
# checks


def _array(name: str, value: ArrayLike, unit: str, *, minimum: float | None = 0.0) -> NDArray:
    a = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(a)):
        raise InputDataError(f"{name} must be finite {unit}", field=name, value="NaN or inf")
    if minimum is not None and np.any(a < minimum):
        raise InputDataError(
            f"{name} must be >= {minimum:g} {unit}", field=name, value=float(a.min())
        )
    return a


def _dz(dz: ArrayLike, n_layers: int) -> NDArray[np.float64]:
    d = _array("dz", dz, "[m] (layer thicknesses)")
    if d.ndim == 0 or d.shape[-1] != n_layers:
        raise InputDataError(
            f"dz must have {n_layers} layers (last axis) [m]", field="dz", value=d.shape
        )
    if np.any(d <= 0):
        raise InputDataError("dz must be > 0 [m]", field="dz", value=float(d.min()))
    return d


def _pools(x: ArrayLike) -> NDArray[np.float64]:
    xa = _array("x", x, "[g C m⁻³] (pools by layer)")
    if xa.ndim < 2:
        raise InputDataError(
            "x must have shape (..., n_pools, n_layers) [g C m⁻³]", field="x", value=xa.shape
        )
    return xa


def _layer_array(name: str, value: ArrayLike, n_layers: int, unit: str) -> NDArray[np.float64]:
    a = _array(name, value, unit)
    if a.ndim == 0 or a.shape[-1] != n_layers:
        raise InputDataError(
            f"{name} must have {n_layers} layers on its last axis {unit}",
            field=name,
            value=a.shape,
        )
    return a


def _pool_rates(k: ArrayLike, n_pools: int) -> NDArray[np.float64]:
    ka = _array("k", k, "[yr⁻¹] (baseline decomposition rates 1/τ)")
    if ka.ndim == 0 or ka.shape[-1] != n_pools:
        raise InputDataError(
            f"k must have shape (..., {n_pools}) to match the pools of x [yr⁻¹]",
            field="k",
            value=ka.shape,
        )
    return ka


def _ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    num, den = np.broadcast_arrays(num, den)
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _soc_by_layer(soc: ArrayLike, dz: ArrayLike) -> NDArray[np.float64]:
    """S_z = x_z·Δz [g C m⁻²] from SOC density by layer (..., n_layers)."""
    s = _array("soc", soc, "[g C m⁻³] (SOC density by layer)")
    if s.ndim == 0:
        raise InputDataError(
            "soc must have shape (..., n_layers) [g C m⁻³]", field="soc", value=s.shape
        )
    return s * _dz(dz, s.shape[-1])


# ------------------------------------------------------------------------------------------------
# Eqs. 10–14


def carbon_transfer_efficiency(
    a: ArrayLike, x: ArrayLike, k: ArrayLike, xi: ArrayLike, dz: ArrayLike
) -> NDArray[np.float64]:
    """System carbon transfer efficiency, CTE = Σ_ij a_ij F_j / Σ_j F_j (Tao et al. (EarthArXiv) Eq.
    10).

    F_j = Σ_z x_{j,z} k_j ξ_z Δz is the decomposition flux of donor pool j [g C m⁻² yr⁻¹]; the
    sum over ij runs over transfers (i ≠ j), so CTE is the flux-weighted mean over donors of the
    fraction of decomposed carbon that stays in the system.

    Parameters
    ----------
    a : array (..., n_pools, n_pools) [-]
        Transfer fractions a_ij, receiver i, donor j (the A matrix of Tao et al. (EarthArXiv) Eq. 3;
        its diagonal, −1, is ignored). Off-diagonals in [0, 1], each donor's sum ≤ 1.
    x : array (..., n_pools, n_layers) [g C m⁻³]
        Pools by layer (steady state).
    k : array (..., n_pools) [yr⁻¹]
        Depth-independent baseline decomposition rates k_j = 1/τ_j.
    xi : array (..., n_layers) [-]
        Environmental modifier ξ_z of each layer.
    dz : array (n_layers,) [m]
        Layer thicknesses.

    Returns
    -------
    array (...) [-]
        NaN where there is no decomposition flux.

    Examples
    --------
    Two pools, one layer: a₂₁ = 0.5, x = (2, 1), k = (1, 2): F = (2, 2), CTE = 0.5·2/4.

    >>> float(carbon_transfer_efficiency([[-1, 0], [0.5, -1]], [[2.0], [1.0]], [1, 2], [1], [1]))
    0.25
    """
    xa = _pools(x)
    n, nl = xa.shape[-2:]
    aa = _array("a", a, "[-] (transfer fractions)", minimum=None)
    if aa.ndim < 2 or aa.shape[-2:] != (n, n):
        raise InputDataError(
            f"a must have shape (..., {n}, {n}) to match the pools of x",
            field="a",
            value=aa.shape,
        )
    off = aa * (1.0 - np.eye(n))
    if np.any(off < 0) or np.any(off > 1):
        raise InputDataError(
            "transfer fractions a_ij (i ≠ j) must lie in [0, 1]",
            field="a",
            value=float(off.min() if np.any(off < 0) else off.max()),
        )
    out_frac = off.sum(axis=-2)  # Σ_i a_ij per donor j
    if np.any(out_frac > 1 + 1e-12):
        raise InputDataError(
            "transfer fractions out of one donor must sum to <= 1",
            field="a",
            value=float(out_frac.max()),
        )
    ka = _pool_rates(k, n)
    xia = _layer_array("xi", xi, nl, "[-] (environmental modifier by layer)")
    d = _dz(dz, nl)
    flux = (xa * (xia * d)[..., None, :]).sum(axis=-1) * ka  # F_j (..., n)
    return _ratio((out_frac * flux).sum(axis=-1), flux.sum(axis=-1))


def bulk_decomposition_rate(k: ArrayLike, x: ArrayLike, dz: ArrayLike) -> NDArray[np.float64]:
    """Bulk baseline decomposition rate, K_bulk = Σ_i k_i X_i / Σ_i X_i (Tao et al. (EarthArXiv) Eq.
    11).

    X_i = Σ_z x_{i,z} Δz is the stock of pool i [g C m⁻²]: K_bulk is the stock-weighted mean
    of the baseline rates (Tao et al. (EarthArXiv) and PRODA use the SOC pools S1–S3).

    Parameters
    ----------
    k : array (..., n_pools) [yr⁻¹]
        Baseline decomposition rates k_i = 1/τ_i.
    x : array (..., n_pools, n_layers) [g C m⁻³]
        Pools by layer.
    dz : array (n_layers,) [m]
        Layer thicknesses.

    Returns
    -------
    array (...) [yr⁻¹]

    Examples
    --------
    Stocks (3, 1) g C m⁻² with k = (1, 0.1) yr⁻¹: (1·3 + 0.1·1)/4 = 0.775 yr⁻¹.

    >>> float(bulk_decomposition_rate([1.0, 0.1], [[3.0], [1.0]], [1.0]))
    0.775
    """
    xa = _pools(x)
    ka = _pool_rates(k, xa.shape[-2])
    stock = (xa * _dz(dz, xa.shape[-1])[..., None, :]).sum(axis=-1)
    return _ratio((ka * stock).sum(axis=-1), stock.sum(axis=-1))


def vertical_transport_system(v: ArrayLike, soc: ArrayLike, dz: ArrayLike) -> NDArray[np.float64]:
    """SOC-weighted vertical transport rate, V_system = Σ_z v_z S_z / Σ_z S_z
    (Tao et al. (EarthArXiv) Eq. 12).

    Parameters
    ----------
    v : array (..., n_layers) [yr⁻¹]
        Vertical transport rate of each layer (PRODA: the diagonal of the mixing operator V).
    soc : array (..., n_layers) [g C m⁻³]
        SOC density by layer (the sum of the pools wanted, PRODA: S1–S3); S_z = soc_z·Δz.
    dz : array (n_layers,) [m]
        Layer thicknesses.

    Returns
    -------
    array (...) [yr⁻¹]
    """
    s = _soc_by_layer(soc, dz)
    va = _layer_array("v", v, s.shape[-1], "[yr⁻¹] (vertical transport rate by layer)")
    return _ratio((va * s).sum(axis=-1), s.sum(axis=-1))


def environmental_scalar_system(
    xi: ArrayLike, soc: ArrayLike, dz: ArrayLike
) -> NDArray[np.float64]:
    """SOC-weighted environmental modifier, ξ_system = Σ_z ξ_z S_z / Σ_z S_z
    (Tao et al. (EarthArXiv) Eq. 13).

    Parameters
    ----------
    xi : array (..., n_layers) [-]
        ξ_{T,z}·ξ_{W,z}·ξ_{D,z} of each layer (temperature, water and depth scalars).
    soc : array (..., n_layers) [g C m⁻³]
        SOC density by layer; S_z = soc_z·Δz.
    dz : array (n_layers,) [m]
        Layer thicknesses.

    Returns
    -------
    array (...) [-]
    """
    s = _soc_by_layer(soc, dz)
    xia = _layer_array("xi", xi, s.shape[-1], "[-] (environmental modifier by layer)")
    return _ratio((xia * s).sum(axis=-1), s.sum(axis=-1))


def input_allocation_index(
    inputs: ArrayLike,
    dz: ArrayLike,
    *,
    depth: ArrayLike | None = None,
    reference_depth_cm: float = 5.0,
) -> NDArray[np.float64]:
    """Input allocation index, B = [mean_z exp(ln(1 − Y_z)/D_z)]^5 (Tao et al. (EarthArXiv) Eq. 14).

    Each term (1 − Y_z)^(1/D_z) is the Jackson β that puts the fraction 1 − Y_z of the inputs
    below D_z [cm]; their mean raised to the reference depth (5 cm in the paper) is the fraction
    of the inputs below 5 cm of the equivalent Jackson profile.

    Parameters
    ----------
    inputs : array (..., n_layers) [g C m⁻³ yr⁻¹, or a profile in m⁻¹]
        Carbon input density of each layer (any scale: it is normalized), ≥ 0.
    dz : array (n_layers,) [m]
        Layer thicknesses.
    depth : array (n_layers,) [m], optional
        Depth D_z at which Y_z is taken; default the bottom interface of each layer, where the
        cumulative input is Y_z (PRODA's code uses the node depth).
    reference_depth_cm : float [cm], default 5
        The exponent of Eq. 14 (the depth below which the allocated fraction is reported);
        1 gives the mean β itself, PRODA's ``bulk_I``.

    Returns
    -------
    array (...) [-]
        In [0, 1]. Layers with nothing below them are left out of the mean; if no layer has
        inputs below it (all inputs in the top layer) the index is 0. NaN where there is no input.

    Examples
    --------
    Layers 0–5, 5–10, 10–20 cm receiving 1/2, 1/4, 1/4 of the inputs: (1 − Y) = 1/2 at 5 cm and
    1/4 at 10 cm, both terms are 0.5^(1/5), so B = 0.5 — half the inputs lie below 5 cm.

    >>> round(float(input_allocation_index([10.0, 5.0, 2.5], [0.05, 0.05, 0.10])), 12)
    0.5
    """
    s_in = _array("inputs", inputs, "[g C m⁻³ yr⁻¹] (carbon input density by layer)")
    if s_in.ndim == 0:
        raise InputDataError(
            "inputs must have shape (..., n_layers)", field="inputs", value=s_in.shape
        )
    nl = s_in.shape[-1]
    d = _dz(dz, nl)
    if depth is None:
        dcm = np.cumsum(d, axis=-1) * 100.0
    else:
        dcm = _layer_array("depth", depth, nl, "[m] (depth of each layer's Y_z)") * 100.0
        if np.any(dcm <= 0):
            raise InputDataError("depth must be > 0 [m]", field="depth", value=float(dcm.min()))
    if not np.isfinite(reference_depth_cm) or reference_depth_cm <= 0:
        raise InputDataError(
            "reference_depth_cm must be > 0 [cm]",
            field="reference_depth_cm",
            value=reference_depth_cm,
        )
    amount = s_in * d  # g C m⁻² yr⁻¹ per layer
    total = amount.sum(axis=-1, keepdims=True)
    # inputs strictly below each layer: reverse cumulative sum, exactly 0 under the last input
    below = np.flip(np.cumsum(np.flip(amount, axis=-1), axis=-1), axis=-1) - amount
    below = np.maximum(below, 0.0)
    frac_below = _ratio(below, total)  # 1 − Y_z
    keep = frac_below > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = np.where(keep, np.exp(np.log(np.where(keep, frac_below, 1.0)) / dcm), 0.0)
    n_keep = keep.sum(axis=-1)
    mean_beta = np.where(n_keep > 0, beta.sum(axis=-1) / np.maximum(n_keep, 1), 0.0)
    out = mean_beta**reference_depth_cm
    return np.where(total[..., 0] > 0, out, np.nan)


def system_diagnostics(
    a: ArrayLike,
    x: ArrayLike,
    k: ArrayLike,
    xi: ArrayLike,
    v: ArrayLike,
    inputs: ArrayLike,
    dz: ArrayLike,
    *,
    cte_pools: Sequence[int] | None = None,
    soc_pools: Sequence[int] | None = None,
    input_depth: ArrayLike | None = None,
) -> SystemDiagnostics:
    """All five components of Tao et al. (EarthArXiv) (Eqs. 10–14) for one steady state per batch
    element.

    Parameters
    ----------
    a, x, k, xi, dz
        As in :func:`carbon_transfer_efficiency` (x is the steady state, all pools).
    v : array (..., n_layers) [yr⁻¹]
        Vertical transport rate by layer (Eq. 12).
    inputs : array (..., n_layers) [g C m⁻³ yr⁻¹]
        Total carbon input by layer (Eq. 14).
    cte_pools : sequence of int, optional
        Pools that enter Eq. 10 as donors (and receivers); default all. PRODA (CLM5 order CWD,
        L1, L2, L3, S1, S2, S3): ``(1, 2, 3, 4, 5, 6)``.
    soc_pools : sequence of int, optional
        Pools whose stocks weight Eqs. 11–13; default all. PRODA: ``(4, 5, 6)`` (S1–S3).
    input_depth : array (n_layers,) [m], optional
        ``depth`` of :func:`input_allocation_index`.

    Returns
    -------
    SystemDiagnostics
        Each field broadcast to the common batch shape (...).
    """
    xa = _pools(x)
    n = xa.shape[-2]
    cp = list(range(n)) if cte_pools is None else list(cte_pools)
    sp = list(range(n)) if soc_pools is None else list(soc_pools)
    for name, idx in (("cte_pools", cp), ("soc_pools", sp)):
        if not idx or any(not 0 <= i < n for i in idx):
            raise InputDataError(
                f"{name} must be pool indices in 0..{n - 1}", field=name, value=idx
            )
    aa = _array("a", a, "[-] (transfer fractions)", minimum=None)
    if aa.ndim < 2 or aa.shape[-2:] != (n, n):
        raise InputDataError(
            f"a must have shape (..., {n}, {n}) to match the pools of x",
            field="a",
            value=aa.shape,
        )
    ka = _pool_rates(k, n)
    sel = np.asarray(cp)
    xs = xa[..., sp, :]
    soc = xs.sum(axis=-2)
    parts = (
        carbon_transfer_efficiency(
            aa[..., sel[:, None], sel[None, :]], xa[..., cp, :], ka[..., cp], xi, dz
        ),
        bulk_decomposition_rate(ka[..., sp], xs, dz),
        vertical_transport_system(v, soc, dz),
        environmental_scalar_system(xi, soc, dz),
        input_allocation_index(inputs, dz, depth=input_depth),
    )
    shape = np.broadcast_shapes(*(p.shape for p in parts))
    return SystemDiagnostics(*(np.broadcast_to(p, shape).copy() for p in parts))
