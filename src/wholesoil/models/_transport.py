"""Vertical transport V of soil carbon by bio- and cryoturbation (Tao et al. (EarthArXiv) Eq. 2, the
V term).

CLM5 mixes every pool except coarse woody debris by diffusion (Koven et al. 2013):

* bioturbation ``D = 1 cm² yr⁻¹`` (1e-4 m² yr⁻¹) through the soil above bedrock;
* cryoturbation ``D = 5 cm² yr⁻¹`` (5e-4 m² yr⁻¹) *instead* where the active layer is shallow,
  0 < max(ALTMAX, ALTMAX_LASTYEAR) ≤ 2 m: constant within the active layer and falling linearly to
  0 at min(3 m, bedrock) (Koven et al. 2009's profile as modified in CTSM);
* none in completely frozen columns (max ALT ≤ 0) and none in bedrock; no advection.

The diffusion equation is discretised with Patankar (1980) finite volumes (CTSM
``SoilBiogeochemLittVertTranspMod.F90``, PRODA ``tri_matrix``): the diffusivity of an interface is
the distance-weighted harmonic mean of the two adjacent layer values, and no carbon crosses the
soil surface or the bottom of the column (zero-flux boundaries). In the sign convention of the spec,
``dX/dt = … − V·X`` with::

    g_j  = D_{j+1/2} / (z_{j+1} − z_j)                   interface conductance [m yr⁻¹]
    V_jj = (g_{j−1} + g_j) / dz_j,   V_{j,j±1} = −g_{j−1|j} / dz_j

so V has a non-negative diagonal, non-positive off-diagonals and ``Σ_j dz_j·V_jk = 0`` for every
column k: mixing moves carbon but neither creates nor destroys it.

Differences from the published code, on purpose (documented so results can be compared):

* CTSM evaluates the cryoturbation profile at the bottom interface of each layer and assigns that
  value to the layer; we do the same. CTSM's depth for the end of the linear decline is the bottom
  of the first bedrock layer (``zisoi(nbedrock+1)``); the spec says "min(3 m, bedrock)", and we use
  the bedrock surface (top of the first bedrock layer).
* CTSM gives the first bedrock layer a non-zero diffusivity and moves the carbon that leaks into it
  back afterwards; here bedrock layers have D = 0, so no flux crosses the bedrock surface.
* CTSM replaces D = 0 by 1e-30 and so never divides by zero; we set the conductance of an interface
  with a zero-diffusivity side to exactly 0.

References
----------
Koven, C. D. et al. (2009). On the formation of high-latitude soil carbon stocks: effects of
cryoturbation and insulation by organic matter in a land surface model. Geophys. Res. Lett. 36,
L21501. https://doi.org/10.1029/2009GL040150

Koven, C. D. et al. (2013). Biogeosciences 10, 7109–7131. https://doi.org/10.5194/bg-10-7109-2013

Patankar, S. V. (1980). Numerical Heat Transfer and Fluid Flow. Hemisphere, New York, §5.

Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError
from wholesoil.models._vertical import VerticalGrid

__all__ = [
    "BIOTURBATION",
    "CRYOTURBATION",
    "MAX_ALTDEPTH_CRYOTURBATION",
    "MAX_DEPTH_CRYOTURB",
    "active_layer_depth",
    "diffusivity",
    "mixing_apply",
    "mixing_matrix",
    "mixing_operator",
    "soil_layer_mask",
]

#: Bioturbation diffusivity [m² yr⁻¹], CLM5 ``som_diffus`` (Tao et al. (EarthArXiv) Supplementary
#: Table 1 ``diffus``: default 1e-4, PRODA prior [3e-5, 5e-4]).
BIOTURBATION: float = 1e-4
#: Cryoturbation diffusivity [m² yr⁻¹], CLM5 ``cryoturb_diffusion_k`` (Supplementary Table 1
#: ``cryo``: default 5e-4, prior [3e-5, 1.6e-3]).
CRYOTURBATION: float = 5e-4
#: Largest active-layer thickness with cryoturbation [m] (CLM5 ``max_altdepth_cryoturbation``).
MAX_ALTDEPTH_CRYOTURBATION: float = 2.0
#: Depth where cryoturbation has declined to zero [m] (CLM5 ``max_depth_cryoturb``).
MAX_DEPTH_CRYOTURB: float = 3.0


def active_layer_depth(altmax: ArrayLike, altmax_lastyear: ArrayLike) -> NDArray[np.float64]:
    """The active-layer depth CLM5 uses for mixing and inputs: max(ALTMAX, ALTMAX_LASTYEAR) [m].

    NaN marks a site without permafrost (thawed to the bottom) and is returned as +inf; when only
    one of the two is NaN the other is used.
    """
    a = np.fmax(np.asarray(altmax, dtype=float), np.asarray(altmax_lastyear, dtype=float))
    return np.where(np.isnan(a), np.inf, a)


def soil_layer_mask(grid: VerticalGrid, nbedrock: ArrayLike) -> NDArray[np.bool_]:
    """True for layers above bedrock: layer index < ``nbedrock`` (shape (..., n_layers)).

    ``nbedrock`` is the index of the first layer below bedrock, i.e. the number of soil layers
    (CLM5's 1-based index of the last soil layer); ``n_layers`` means no bedrock in the column.
    """
    nb = _nbedrock(nbedrock, grid.n_layers)
    return np.arange(grid.n_layers) < nb[..., np.newaxis]


def _nbedrock(nbedrock: ArrayLike, n_layers: int) -> NDArray[np.int64]:
    nb = np.asarray(nbedrock)
    nbf = nb.astype(float)
    bad = ~((nbf >= 1) & (nbf <= n_layers) & (nbf == np.round(nbf)))
    if np.any(bad):
        raise InputDataError(
            f"nbedrock must be an integer in [1, {n_layers}] (number of soil layers above "
            f"bedrock; {n_layers} = no bedrock)",
            field="nbedrock",
            value=nbf[bad].flat[0] if nbf.ndim else float(nbf),
        )
    return nbf.astype(np.int64)


def _nonneg(value: ArrayLike, name: str, what: str) -> NDArray[np.float64]:
    a = np.asarray(value, dtype=float)
    if np.any(~(a >= 0)):
        bad = a[~(a >= 0)].flat[0] if a.ndim else float(a)
        raise InputDataError(f"{name} must be >= 0 ({what})", field=name, value=float(bad))
    return a


def diffusivity(
    grid: VerticalGrid,
    altmax: ArrayLike,
    altmax_lastyear: ArrayLike,
    nbedrock: ArrayLike,
    *,
    bioturbation: ArrayLike = BIOTURBATION,
    cryoturbation: ArrayLike = CRYOTURBATION,
) -> NDArray[np.float64]:
    """Mixing diffusivity of each layer [m² yr⁻¹] (CTSM ``SoilBiogeochemLittVertTransp``).

    With ``alt = max(altmax, altmax_lastyear)`` (NaN = no permafrost) and ``z_j`` the bottom
    interface of layer j:

    * 0 < alt ≤ 2 m (cryoturbation): ``D_j = cryo`` if ``z_j < alt``, else
      ``D_j = max(cryo·(1 − (z_j − alt)/(min(3 m, z_bedrock) − alt)), 0)``;
    * alt > 2 m or NaN (bioturbation): ``D_j = bio``;
    * alt ≤ 0 (frozen to the surface all year): ``D_j = 0``;
    * ``D_j = 0`` in bedrock (layer index ≥ nbedrock) in every case.

    Parameters
    ----------
    grid : VerticalGrid
    altmax, altmax_lastyear : array (...) [m]
        Maximum active-layer depth of this and of last year (CLM5 ``ALTMAX``,
        ``ALTMAX_LASTYEAR``); NaN for no permafrost.
    nbedrock : array (...) int
        Index of the first layer below bedrock (= number of soil layers; 20 = none).
    bioturbation : array (...) [m² yr⁻¹], default 1e-4
        Tao et al. (EarthArXiv) Supplementary Table 1 ``diffus``.
    cryoturbation : array (...) [m² yr⁻¹], default 5e-4
        Tao et al. (EarthArXiv) Supplementary Table 1 ``cryo``.

    Returns
    -------
    array (..., n_layers) [m² yr⁻¹]
    """
    bio = _nonneg(bioturbation, "bioturbation", "bioturbation diffusivity, m2 yr-1")
    cryo = _nonneg(cryoturbation, "cryoturbation", "cryoturbation diffusivity, m2 yr-1")
    alt = active_layer_depth(altmax, altmax_lastyear)[..., np.newaxis]
    soil = soil_layer_mask(grid, nbedrock)
    nb = _nbedrock(nbedrock, grid.n_layers)
    z_bedrock = grid.z_bottom[nb - 1][..., np.newaxis]
    z = grid.z_bottom
    z_end = np.minimum(MAX_DEPTH_CRYOTURB, z_bedrock)
    span = z_end - alt
    safe_span = np.where(span > 0, span, 1.0)
    decline = np.where(span > 0, 1.0 - (z - alt) / safe_span, 0.0)
    cryo_b = cryo[..., np.newaxis]
    d_cryo = np.where(z < alt, cryo_b, np.maximum(cryo_b * decline, 0.0))
    is_cryo = (alt > 0) & (alt <= MAX_ALTDEPTH_CRYOTURBATION)
    d = np.where(is_cryo, d_cryo, np.where(alt > 0, bio[..., np.newaxis], 0.0))
    return np.where(soil, d, 0.0)


def _conductance(grid: VerticalGrid, d: NDArray[np.float64]) -> NDArray[np.float64]:
    """Interface conductances g_j between layers j and j+1, shape (..., n_layers − 1) [m yr⁻¹]."""
    z = grid.z_node
    dzn = np.diff(z)
    # Share of the node-to-node distance that lies in the lower layer (CTSM's w_p1).
    w = (z[1:] - grid.z_bottom[:-1]) / dzn
    d_up, d_lo = d[..., :-1], d[..., 1:]
    both = (d_up > 0) & (d_lo > 0)
    inv = (1.0 - w) / np.where(both, d_up, 1.0) + w / np.where(both, d_lo, 1.0)
    d_int = np.where(both, 1.0 / inv, 0.0)
    return d_int / dzn


def mixing_operator(
    grid: VerticalGrid, D: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Tridiagonal bands of the mixing operator V (``dX/dt = … − V·X``) [yr⁻¹].

    Patankar finite volumes with harmonic-mean interface diffusivity and zero-flux boundaries (see
    the module docstring for the formulas).

    Parameters
    ----------
    grid : VerticalGrid
    D : array (..., n_layers) [m² yr⁻¹]
        Layer diffusivities, e.g. from :func:`diffusivity`.

    Returns
    -------
    lower, diag, upper : arrays (..., n_layers) [yr⁻¹]
        ``lower[..., j] = V[j, j−1]`` (``lower[..., 0] = 0``), ``diag[..., j] = V[j, j]``,
        ``upper[..., j] = V[j, j+1]`` (``upper[..., -1] = 0``). ``diag ≥ 0``, off-diagonals ≤ 0,
        and ``dz·diag + dz_{j−1}·upper_{j−1} + dz_{j+1}·lower_{j+1} = 0`` (mass conservation).
    """
    d = np.asarray(D, dtype=float)
    if d.shape[-1:] != (grid.n_layers,):
        raise InputDataError(
            f"D must have {grid.n_layers} layers on its last axis", field="D", value=d.shape
        )
    if np.any(~(d >= 0)):
        raise InputDataError(
            "diffusivity D must be >= 0 [m2 yr-1]", field="D", value=float(d[~(d >= 0)].flat[0])
        )
    g = _conductance(grid, d)
    zero = np.zeros((*g.shape[:-1], 1))
    g_above = np.concatenate([zero, g], axis=-1)  # interface above layer j
    g_below = np.concatenate([g, zero], axis=-1)  # interface below layer j
    diag = (g_above + g_below) / grid.dz
    lower = -g_above / grid.dz
    upper = -g_below / grid.dz
    return lower, diag, upper


def mixing_matrix(grid: VerticalGrid, D: ArrayLike) -> NDArray[np.float64]:
    """Dense V (..., n_layers, n_layers) [yr⁻¹] from :func:`mixing_operator` (for tests)."""
    lower, diag, upper = mixing_operator(grid, D)
    n = grid.n_layers
    v = np.zeros((*diag.shape, n))
    i = np.arange(n)
    v[..., i, i] = diag
    v[..., i[1:], i[:-1]] = lower[..., 1:]
    v[..., i[:-1], i[1:]] = upper[..., :-1]
    return v


def mixing_apply(
    bands: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]],
    x: ArrayLike,
) -> NDArray[np.float64]:
    """V·x from the bands of :func:`mixing_operator`, for x of shape (..., n_layers)."""
    lower, diag, upper = bands
    x = np.asarray(x, dtype=float)
    out = diag * x
    out[..., 1:] += lower[..., 1:] * x[..., :-1]
    out[..., :-1] += upper[..., :-1] * x[..., 1:]
    return out
