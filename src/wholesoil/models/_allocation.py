"""Vertical allocation of litter inputs, the B of Tao et al. (EarthArXiv) Eq. 2 (how I(t) is spread
over depth).

CLM5 (CTSM ``SoilBiogeochemVerticalProfileMod.F90``) spreads root litter with the Jackson et al.
(1996) β profile and leaf/stem litter with a shallow exponential profile:

* root share of layer j ∝ ``β^(100·z_top,j) − β^(100·z_bottom,j)`` (depths in m, hence 100 for cm;
  β is PRODA's calibrated ``b``, Tao et al. (EarthArXiv) Supplementary Table 1, prior [0.5, 1]);
* surface share of layer j ∝ ``exp(−10·z_node,j)`` (CTSM ``surfprof_exp`` = 10 m⁻¹, evaluated at the
  node, as CTSM does);
* both restricted to the thawed layers — those whose node lies above the active-layer depth, CTSM's
  ``altmax_lastyear_indx`` — and to the soil above bedrock, renormalised over those layers, and
  divided by dz to give a density profile [m⁻¹] with ``Σ profile·dz = 1``. When no layer is thawed
  (permafrost to the surface) everything goes into the top layer, as in CTSM and PRODA.

Multiplying a profile by an input flux in g C m⁻² yr⁻¹ gives g C m⁻³ yr⁻¹ per layer.

Notes on the published code: CTSM truncates at last year's active layer only
(``altmax_lastyear_indx``); this function uses max(ALTMAX, ALTMAX_LASTYEAR), the active layer of
the mixing scheme — pass ``altmax=altmax_lastyear`` to reproduce CTSM exactly. PRODA
(``matrix_fun.m``) applies the β profile to all four litter inputs (CWD and L1–L3) over all 20
layers when ALTMAX_LASTYEAR > 0 and puts everything in the top layer otherwise.

References
----------
Jackson, R. B. et al. (1996). A global analysis of root distributions for terrestrial biomes.
Oecologia 108, 389–411. https://doi.org/10.1007/BF00333714

Koven, C. D. et al. (2013). Biogeosciences 10, 7109–7131. https://doi.org/10.5194/bg-10-7109-2013

Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError
from wholesoil.models._transport import active_layer_depth, soil_layer_mask
from wholesoil.models._vertical import VerticalGrid

__all__ = [
    "CLM5_LITTER_FRACTIONS",
    "DEFAULT_CWD_FRACTION",
    "SURFPROF_EXP",
    "input_layer_mask",
    "input_profiles",
    "litter_inputs",
    "normalized_profile",
]

#: Steepness of the surface-litter profile [m⁻¹] (CTSM ``surfprof_exp``).
SURFPROF_EXP: float = 10.0


def input_layer_mask(
    grid: VerticalGrid, altmax: ArrayLike, altmax_lastyear: ArrayLike, nbedrock: ArrayLike
) -> NDArray[np.bool_]:
    """Layers that receive litter (..., n_layers): thawed (node ≤ active-layer depth) and above
    bedrock; the top layer always does.

    The active-layer depth is max(altmax, altmax_lastyear), NaN meaning no permafrost.
    """
    alt = active_layer_depth(altmax, altmax_lastyear)[..., np.newaxis]
    mask = (grid.z_node <= alt) & soil_layer_mask(grid, nbedrock)
    top = np.zeros(grid.n_layers, dtype=bool)
    top[0] = True
    return mask | top


def normalized_profile(
    grid: VerticalGrid, share: ArrayLike, mask: ArrayLike
) -> NDArray[np.float64]:
    """Restrict layer shares to ``mask``, renormalise and divide by dz → profile [m⁻¹].

    Parameters
    ----------
    grid : VerticalGrid
    share : array (..., n_layers) [-]
        Unnormalised non-negative share of each layer.
    mask : array (..., n_layers) bool
        Layers allowed to receive input (the top layer must be among them).

    Returns
    -------
    array (..., n_layers) [m⁻¹] with ``Σ profile·dz = 1``; where the masked shares sum to 0
    everything goes into the top layer.
    """
    s = np.where(mask, np.asarray(share, dtype=float), 0.0)
    total = s.sum(axis=-1, keepdims=True)
    top = np.zeros(grid.n_layers)
    top[0] = 1.0
    frac = np.where(total > 0, s / np.where(total > 0, total, 1.0), top)
    return frac / grid.dz


def input_profiles(
    grid: VerticalGrid,
    b: ArrayLike,
    altmax: ArrayLike,
    altmax_lastyear: ArrayLike,
    nbedrock: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Root (Jackson β) and surface (exp(−10 z)) litter input profiles [m⁻¹].

    Parameters
    ----------
    grid : VerticalGrid
    b : array (...) [-]
        Jackson et al. (1996) β, 0 < b < 1 (Tao et al. (EarthArXiv) Supplementary Table 1 ``b``;
        PRODA caps it at 0.9999; COMPAS default 0.72).
    altmax, altmax_lastyear : array (...) [m]
        Active-layer depths (CLM5 ``ALTMAX``, ``ALTMAX_LASTYEAR``); NaN for no permafrost.
    nbedrock : array (...) int
        Index of the first layer below bedrock (20 = none).

    Returns
    -------
    root_profile, surface_profile : arrays (..., n_layers) [m⁻¹]
        Each with ``Σ profile·dz = 1`` over the layers of :func:`input_layer_mask`, 0 elsewhere.

    Examples
    --------
    >>> from wholesoil.models._vertical import clm5_grid
    >>> g = clm5_grid()
    >>> root, surf = input_profiles(g, 0.95, float("nan"), float("nan"), 20)
    >>> round(float((root * g.dz).sum()), 12), round(float((surf * g.dz).sum()), 12)
    (1.0, 1.0)
    """
    beta = np.asarray(b, dtype=float)
    bad = ~((beta > 0) & (beta < 1))
    if np.any(bad):
        raise InputDataError(
            "b must be in (0, 1) (Jackson root-profile β, unitless)",
            field="b",
            value=float(beta[bad].flat[0] if beta.ndim else beta),
        )
    mask = input_layer_mask(grid, altmax, altmax_lastyear, nbedrock)
    bb = beta[..., np.newaxis]
    root_share = bb ** (100.0 * grid.z_top) - bb ** (100.0 * grid.z_bottom)
    surf_share = np.exp(-SURFPROF_EXP * grid.z_node)
    shape = np.broadcast_shapes(root_share.shape, mask.shape)
    root = normalized_profile(grid, np.broadcast_to(root_share, shape), mask)
    surface = normalized_profile(grid, np.broadcast_to(surf_share, shape), mask)
    return root, surface


#: Split of litter inputs among metabolic (L1), cellulose (L2) and lignin (L3) litter: CLM5 PFT
#: parameters ``lf_flab/lf_fcel/lf_flig`` and ``fr_flab/fr_fcel/fr_flig`` = 0.25/0.5/0.25 for
#: leaves and fine roots (CLM5 parameter file ``clm5_params.nc``).
CLM5_LITTER_FRACTIONS: tuple[float, float, float] = (0.25, 0.5, 0.25)

#: Share of the inputs entering coarse woody debris when the environment does not give one: 0, as
#: CLM5 gives CWD inputs only from woody PFTs' dead stems and coarse roots, which a site's NPP
#: alone does not tell.
DEFAULT_CWD_FRACTION: float = 0.0


def litter_inputs(
    grid: VerticalGrid,
    b: ArrayLike,
    npp: ArrayLike,
    altmax: ArrayLike,
    altmax_lastyear: ArrayLike,
    nbedrock: ArrayLike,
    *,
    leaf_fraction: ArrayLike,
    cwd_fraction: ArrayLike = DEFAULT_CWD_FRACTION,
) -> NDArray[np.float64]:
    """B·I of the four litter pools CWD, L1, L2, L3 (..., 4, n_layers) [g C m⁻³ yr⁻¹].

    The NPP [g C m⁻² yr⁻¹] is split into CWD (``cwd_fraction``) and litter, the litter among
    L1/L2/L3 by :data:`CLM5_LITTER_FRACTIONS`, and spread over depth by
    ``leaf_fraction``·surface + (1 − ``leaf_fraction``)·root profile (:func:`input_profiles`,
    Jackson β = ``b``): the allocation B of Tao et al. (EarthArXiv) Eq. 2, which CLM5 and COMPAS
    share (§2.3: "COMPAS applies the same approach to simulate carbon input allocation"). Σ_pools
    Σ_j B·I·dz = NPP.
    """
    npp = np.asarray(npp, dtype=float)
    leaf = np.asarray(leaf_fraction, dtype=float)
    cwd = np.asarray(cwd_fraction, dtype=float)
    for name, arr in (("npp", npp), ("leaf_fraction", leaf), ("cwd_fraction", cwd)):
        bad = ~(arr >= 0) if name == "npp" else ~((arr >= 0) & (arr <= 1))
        if np.any(bad):
            raise InputDataError(
                f"{name} must be {'>= 0 (g C m-2 yr-1)' if name == 'npp' else 'in [0, 1]'}",
                field=name, value=float(arr[bad].flat[0]) if arr.ndim else float(arr),
            )
    root, surf = input_profiles(grid, b, altmax, altmax_lastyear, nbedrock)
    profile = leaf[..., None] * surf + (1.0 - leaf[..., None]) * root  # (..., n) [m⁻¹]
    f1, f2, f3 = CLM5_LITTER_FRACTIONS
    share = np.stack(
        np.broadcast_arrays(cwd, (1 - cwd) * f1, (1 - cwd) * f2, (1 - cwd) * f3), axis=-1
    )  # (..., 4)
    return npp[..., None, None] * share[..., :, None] * profile[..., None, :]

