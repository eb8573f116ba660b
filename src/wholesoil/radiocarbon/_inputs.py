r"""Carbon inputs to bulk soil, root-derived inputs and their direct losses
(Wang G. et al. (manuscript)).

Wang G. et al. (manuscript, *Most root-derived carbon inputs do not contribute to the global bulk
soil carbon pool*) compare two estimates of the carbon entering each soil layer:

* **inputs to bulk soil** under steady state, from the layer's carbon stock and its
  radiocarbon-derived carbon age (Wang G. et al. (manuscript) Eq. 6):

  .. math:: I_{bulk} = C_{stock} / C_{age}                                              \tag{6}

* **root-derived inputs**, belowground NPP allocated to layers in proportion to root biomass
  (Wang G. et al. (manuscript) Methods, "Estimation of root-derived C inputs"):

  .. math:: I_{root,l} = NPP \cdot f_{BNPP} \cdot [Y(\text{bottom}_l) - Y(\text{top}_l)]

  with :math:`Y` a cumulative root distribution (:mod:`wholesoil.depth._roots`);

and call the difference the **direct loss** of root-derived carbon,
:math:`I_{loss} = I_{root} - I_{bulk}`, per layer and over the profile, with its fraction
:math:`I_{loss} / I_{root}`. Negative losses (bulk inputs larger than root inputs) are reported
as they are, never clipped.

Units: stocks [Mg C ha⁻¹], ages [yr], inputs and losses [Mg C ha⁻¹ yr⁻¹], NPP as users give it
[g C m⁻² yr⁻¹] converted here (1 g m⁻² = 0.01 Mg ha⁻¹), depths [cm].

Harmonization to the seven standard layers
-----------------------------------------
Wang G. et al. (manuscript) compares the two inputs on 0–20, 20–40, 40–60, 60–80, 80–100, 100–150
and 150–200 cm (:data:`SEED004_DEPTHS`); it harmonized :math:`I_{bulk}` (not the ages) with a
machine-learning model. Here the **stock and** :math:`I_{bulk}` **of each measured horizon are
harmonized as mass quantities** by one linear, mass-preserving operator: each is turned into a
density per cm of depth (value / thickness), averaged over the covered part of each standard layer,
and multiplied by the layer's thickness. The age of a standard layer is then
:math:`C_{age} = C_{stock} / I_{bulk}` of the harmonized layer — the stock-weighted harmonic mean
of the horizon ages it contains (with ``method="uniform"``); a standard layer inside one
horizon gets that horizon's age exactly. Two averaging rules:

* ``"uniform"`` (default): each horizon's mass is spread evenly over its thickness; a standard
  layer receives the overlapping share. Exactly mass preserving: the harmonized stocks of layers
  fully covered by contiguous horizons sum to the horizons' stock over the same depth. Gaps
  between horizons count as not covered.
* ``"spline"``: the equal-area quadratic spline of Bishop et al. (1999)
  (:func:`wholesoil.profiles.fit_spline`, ``method="exact"`` integration) fitted to the
  per-cm densities with smoothing ``lam``; with ``lam = 0`` each horizon's mass is reproduced
  exactly, with ``lam > 0`` the fitted horizon means are smoothed (mass moves between
  horizons). Gaps count as covered (the spline is continued across them). Where the per-cm
  density changes by orders of magnitude between horizons — as :math:`I_{bulk}` usually does —
  the quadratic spline overshoots and can give negative layer values (and ages); the default
  ``"uniform"`` never does.

A standard layer is reported only if at least ``min_coverage`` of its thickness is covered
(default 1: no extrapolation); with ``min_coverage < 1`` the mean over the covered part is
extended to the whole layer, and the coverage is always reported. Layers below the deepest
measurement are NaN, not extrapolated.

Both rules are linear in the horizon values, so the operator (``(P, L, H)`` weights) is built
once per set of profiles and applied to every Monte Carlo draw by one ``einsum``.

The six estimates of Extended Data Table 1
------------------------------------------
Wang G. et al. (manuscript) builds six independent estimates of :math:`I_{loss}` from three site
datasets (NPP_data, Δ14C_data, Root_data) and two NPP sources (field BNPP or MODIS NPP × f_BNPP),
each piece observed (OBS), predicted by a machine-learning model (PRE) or a remote-sensing model
product (MOD). :class:`InputEstimate` holds one such estimate with its named
:class:`EstimatePiece` s; :func:`compare_estimates` sets estimates side by side;
:data:`SEED004_ESTIMATES` records the paper's six recipes.

Uncertainty
-----------
:func:`monte_carlo_inputs` propagates uncertainty in stocks, ages, NPP, f_BNPP and the root
profile by ``draws`` Monte Carlo runs (500 in Wang G. et al. (manuscript)), all draws as a leading
array axis, and summarizes mean, sd and the 2.5 / 97.5 % percentiles of :math:`I_{bulk}`,
:math:`I_{root}`,
:math:`I_{loss}` and the loss fraction.

Where the code is
-----------------
The equations and the harmonization are here; reading layer tables into profiles
(:class:`InputProfiles`, :class:`RootProfile`) is in :mod:`wholesoil.radiocarbon._input_profiles`,
the six estimates in :mod:`wholesoil.radiocarbon._estimates` and the Monte Carlo in
:mod:`wholesoil.radiocarbon._input_uncertainty`; all are exported by :mod:`wholesoil.radiocarbon`.

References
----------
Wang, M. et al. Most root-derived carbon inputs do not contribute to the global bulk soil carbon
pool (Wang G. et al. (manuscript)), Methods Eqs. 1–6 and Extended Data Table 1.
Bishop, T.F.A., McBratney, A.B., Laslett, G.M. (1999) Geoderma 91, 27–45.
Lieth, H. (1975) Modeling the primary productivity of the world. Ecological Studies 14, 237–263.

Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError
from wholesoil.units import kg_m2_to_mg_ha

__all__ = [
    "DEFAULT_F_BNPP",
    "MONTE_CARLO_DRAWS",
    "SEED004_DEPTHS",
    "SEED004_ESTIMATES",
    "HarmonizedInputs",
    "bulk_inputs",
    "direct_losses",
    "harmonization_weights",
    "harmonize_inputs",
    "npp_g_m2_to_mg_ha",
    "profile_npp",
    "root_inputs",
]

HarmonizeMethod = Literal["uniform", "spline"]
PieceKind = Literal["observed", "predicted", "model"]

#: Boundaries [cm] of the seven standard layers of Wang G. et al. (manuscript) (Methods, "Soil
#: profile data acquisition"): 0–20, 20–40, 40–60, 60–80, 80–100, 100–150, 150–200 cm.
SEED004_DEPTHS: tuple[float, ...] = (0.0, 20.0, 40.0, 60.0, 80.0, 100.0, 150.0, 200.0)

#: Default belowground fraction of NPP [-]: the mean f_BNPP over the 725 NPP_data sites of
#: Wang G. et al. (manuscript) ("averages 37.7 %, ranging from 7.6 % to 82.7 %", Results; >50 % in
#: temperate grasslands, deserts and Mediterranean/montane shrublands, ~30 % in forests).
#: Wang G. et al. (manuscript) itself used the observed f_BNPP or a machine-learning prediction of
#: it; give site values where known.
DEFAULT_F_BNPP = 0.377

#: Monte Carlo runs of Wang G. et al. (manuscript) (Methods, "Global mapping and prediction
#: uncertainty").
MONTE_CARLO_DRAWS = 500

#: 1 g C m⁻² yr⁻¹ in Mg C ha⁻¹ yr⁻¹.
_G_M2_TO_MG_HA = float(kg_m2_to_mg_ha(1e-3))

#: The six I_loss estimates of Wang G. et al. (manuscript) Extended Data Table 1: where they are
#: made, how I_root is built (pieces with OBS / PRE / MOD status) and where I_bulk comes from.
SEED004_ESTIMATES: tuple[dict[str, Any], ...] = (
    {"name": "I_loss1", "sites": "NPP_data",
     "i_root": (("BNPP", "NPP_data", "observed"),
                ("depth distribution", "Δ14C_data-derived model", "predicted")),
     "i_bulk": ("I_bulk", "Δ14C_data-derived model", "predicted")},
    {"name": "I_loss2", "sites": "NPP_data",
     "i_root": (("NPP", "MODIS", "model"), ("f_BNPP", "NPP_data", "observed"),
                ("depth distribution", "Δ14C_data-derived model", "predicted")),
     "i_bulk": ("I_bulk", "Δ14C_data-derived model", "predicted")},
    {"name": "I_loss3", "sites": "Δ14C_data",
     "i_root": (("BNPP", "NPP_data-derived model", "predicted"),
                ("depth distribution", "Δ14C_data (I_bulk)", "observed")),
     "i_bulk": ("I_bulk", "Δ14C_data", "observed")},
    {"name": "I_loss4", "sites": "Δ14C_data",
     "i_root": (("NPP", "MODIS", "model"), ("f_BNPP", "NPP_data-derived model", "predicted"),
                ("depth distribution", "Δ14C_data (I_bulk)", "observed")),
     "i_bulk": ("I_bulk", "Δ14C_data", "observed")},
    {"name": "I_loss5", "sites": "Root_data",
     "i_root": (("BNPP", "NPP_data-derived model", "predicted"),
                ("depth distribution", "Root_data", "observed")),
     "i_bulk": ("I_bulk", "Δ14C_data-derived model", "predicted")},
    {"name": "I_loss6", "sites": "Root_data",
     "i_root": (("NPP", "MODIS", "model"), ("f_BNPP", "NPP_data-derived model", "predicted"),
                ("depth distribution", "Root_data", "observed")),
     "i_bulk": ("I_bulk", "Δ14C_data-derived model", "predicted")},
)


# ---------------------------------------------------------------------------------- equations
def _positive(x: ArrayLike, name: str, *, strict: bool) -> NDArray[np.float64]:
    a = np.asarray(x, dtype=float)
    bad = (a <= 0) if strict else (a < 0)
    bad = bad & np.isfinite(a)
    if np.any(bad):
        i = np.flatnonzero(bad.ravel())[0]
        rel = ">" if strict else "≥"
        raise InputDataError(f"expected {name} {rel} 0 at position {i}", field=name,
                             value=float(a.ravel()[i]))
    return a


def bulk_inputs(stock: ArrayLike, age: ArrayLike) -> NDArray[np.float64]:
    """Carbon inputs to bulk soil, I_bulk = C_stock / C_age (Wang G. et al. (manuscript) Eq. 6).

    Parameters
    ----------
    stock : array_like [Mg C ha⁻¹]
        Carbon stock of each layer, ≥ 0.
    age : array_like [yr]
        Carbon age of each layer (1/k of the one-pool model, Wang G. et al. (manuscript) Eqs. 1–3),
        > 0.

    Returns
    -------
    ndarray [Mg C ha⁻¹ yr⁻¹]
        NaN where either input is NaN.
    """
    s = _positive(stock, "stock", strict=False)
    a = _positive(age, "age", strict=True)
    with np.errstate(invalid="ignore"):
        return s / a


def npp_g_m2_to_mg_ha(npp: ArrayLike) -> NDArray[np.float64]:
    """NPP in g C m⁻² yr⁻¹ to Mg C ha⁻¹ yr⁻¹ (× 0.01)."""
    return np.asarray(npp, dtype=float) * _G_M2_TO_MG_HA


def root_inputs(bnpp: ArrayLike, fraction: ArrayLike) -> NDArray[np.float64]:
    """Root-derived inputs per layer, I_root = BNPP × root fraction (Wang G. et al. (manuscript)
    Methods).

    Parameters
    ----------
    bnpp : array_like, shape (...) [Mg C ha⁻¹ yr⁻¹]
        Belowground NPP, NPP × f_BNPP.
    fraction : array_like, shape (..., L) [-]
        Fraction of roots in each layer (:func:`wholesoil.depth._roots.root_fractions`).

    Returns
    -------
    ndarray, shape (..., L) [Mg C ha⁻¹ yr⁻¹]
    """
    b = _positive(bnpp, "bnpp", strict=False)
    return b[..., None] * np.asarray(fraction, dtype=float)


class Losses(NamedTuple):
    """Direct losses of root-derived carbon (Wang G. et al. (manuscript)).

    Attributes
    ----------
    loss : ndarray [Mg C ha⁻¹ yr⁻¹]
        I_loss = I_root − I_bulk, negative where bulk inputs exceed root inputs.
    fraction : ndarray [-]
        I_loss / I_root (NaN where I_root = 0).
    """

    loss: NDArray[np.float64]
    fraction: NDArray[np.float64]


def direct_losses(i_root: ArrayLike, i_bulk: ArrayLike) -> Losses:
    """I_loss = I_root − I_bulk and its fraction of I_root (Wang G. et al. (manuscript)), unclipped.

    Parameters
    ----------
    i_root, i_bulk : array_like [Mg C ha⁻¹ yr⁻¹]
        Root-derived inputs and inputs to bulk soil (broadcast).
    """
    r = np.asarray(i_root, dtype=float)
    b = np.asarray(i_bulk, dtype=float)
    loss = r - b
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(r != 0, loss / np.where(r != 0, r, 1.0), np.nan)
    return Losses(loss, frac)


def profile_npp(
    npp: ArrayLike | None = None,
    *,
    mat: ArrayLike | None = None,
    map: ArrayLike | None = None,
    lat: ArrayLike | None = None,
    lon: ArrayLike | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.str_]]:
    """NPP per profile [g C m⁻² yr⁻¹] from data, else the Miami model (Lieth 1975).

    Where ``npp`` is missing (None or NaN) the Miami model
    (:func:`wholesoil.models._environment.miami_npp`, carbon = 0.5 × dry matter) is used with
    ``mat`` [°C] and ``map`` [mm yr⁻¹], or, where those are missing too, with the climate of the
    bundled grid at ``lat``/``lon`` (:func:`wholesoil.datasets.climate_at`, 2.5° cells). The
    Miami model is a documented fallback, not the paper's method (Wang G. et al. (manuscript) used
    field NPP or MODIS NPP): the returned ``source`` says which was used per profile ("data",
    "miami", "miami_climate_grid").

    Returns
    -------
    npp : ndarray [g C m⁻² yr⁻¹]
    source : ndarray of str
    """
    from wholesoil.models._environment import miami_npp

    arrays = [np.atleast_1d(np.asarray(a, dtype=float)) for a in (npp, mat, map, lat, lon)
              if a is not None]
    if not arrays:
        raise InputDataError("give npp, or mat and map, or lat and lon", field="npp")
    shape = np.broadcast_shapes(*(a.shape for a in arrays))

    def arr(a: ArrayLike | None) -> NDArray[np.float64]:
        if a is None:
            return np.full(shape, np.nan)
        return np.broadcast_to(np.asarray(a, dtype=float), shape).copy()

    out, t, p, la, lo = arr(npp), arr(mat), arr(map), arr(lat), arr(lon)
    _positive(out, "npp", strict=False)
    source = np.where(np.isfinite(out), "data", "").astype(object)
    need = ~np.isfinite(out)
    use_climate = need & np.isfinite(t) & np.isfinite(p)
    if np.any(use_climate):
        out[use_climate] = miami_npp(t[use_climate], p[use_climate])
        source[use_climate] = "miami"
    need = ~np.isfinite(out)
    use_grid = need & np.isfinite(la) & np.isfinite(lo)
    if np.any(use_grid):
        from wholesoil.datasets import climate_at

        clim = climate_at(la[use_grid], lo[use_grid])
        out[use_grid] = miami_npp(clim["mat"].to_numpy(float), clim["map"].to_numpy(float))
        source[use_grid] = "miami_climate_grid"
    missing = ~np.isfinite(out)
    if np.any(missing):
        i = int(np.flatnonzero(missing.ravel())[0])
        raise InputDataError(
            f"no NPP for profile position {i}: give npp, mat and map, or lat and lon with "
            "climate data", field="npp")
    return out, np.asarray(source, dtype=str)


# ------------------------------------------------------------------------------ harmonization
class HarmonizationWeights(NamedTuple):
    """Linear harmonization operator from horizons to standard layers.

    Attributes
    ----------
    weights : ndarray, shape (P, L, H) [-]
        Standard-layer mass = Σ_h weights[p, l, h] · horizon mass[p, h]; NaN rows for layers
        not reported (coverage below ``min_coverage``).
    coverage : ndarray, shape (P, L) [-]
        Covered fraction of each standard layer.
    top, bottom : ndarray, shape (L,) [cm]
        Standard layers.
    """

    weights: NDArray[np.float64]
    coverage: NDArray[np.float64]
    top: NDArray[np.float64]
    bottom: NDArray[np.float64]


def harmonization_weights(
    top: ArrayLike,
    bottom: ArrayLike,
    n_horizons: ArrayLike,
    depths: Sequence[float] = SEED004_DEPTHS,
    *,
    method: HarmonizeMethod = "uniform",
    lam: float = 0.1,
    min_coverage: float = 1.0,
) -> HarmonizationWeights:
    """Mass-preserving operator mapping horizon masses to standard layers (module docstring).

    Parameters
    ----------
    top, bottom : array_like, shape (P, H) [cm]
        Horizon depths ≥ 0, sorted and non-overlapping within each profile, NaN-padded after
        ``n_horizons``.
    n_horizons : array_like of int, shape (P,)
    depths : sequence of float [cm]
        Standard layer boundaries; default :data:`SEED004_DEPTHS`.
    method : {"uniform", "spline"}
        Averaging rule (module docstring).
    lam : float
        Spline smoothing λ ≥ 0 (``method="spline"`` only).
    min_coverage : float in (0, 1]
        Minimum covered fraction of a standard layer for it to be reported.
    """
    t = np.atleast_2d(np.asarray(top, dtype=float))
    b = np.atleast_2d(np.asarray(bottom, dtype=float))
    n = np.atleast_1d(np.asarray(n_horizons)).astype(np.int64)
    d = np.asarray(depths, dtype=float)
    if d.ndim != 1 or d.size < 2 or np.any(np.diff(d) <= 0) or d[0] < 0:
        raise InputDataError("expected ≥ 2 strictly increasing depths ≥ 0 cm", field="depths",
                             value=d.tolist())
    if not 0 < min_coverage <= 1:
        raise InputDataError("expected 0 < min_coverage ≤ 1", field="min_coverage",
                             value=min_coverage)
    n_prof, n_hor = t.shape
    lt, lb = d[:-1], d[1:]
    thick_l = lb - lt
    inside = np.arange(n_hor) < n[:, None]
    tt = np.where(inside, t, 0.0)
    bb = np.where(inside, b, 0.0)
    if np.any(inside & ((tt < 0) | (bb <= tt))):
        p, h = np.argwhere(inside & ((tt < 0) | (bb <= tt)))[0]
        raise InputDataError(f"expected 0 ≤ top < bottom at profile position {p}, horizon {h}",
                             field="top/bottom", value=(float(tt[p, h]), float(bb[p, h])))
    thick_h = np.where(inside, bb - tt, 1.0)
    if method == "uniform":
        ov = np.clip(np.minimum(bb[:, None, :], lb[None, :, None])
                     - np.maximum(tt[:, None, :], lt[None, :, None]), 0.0, None)
        ov = np.where(inside[:, None, :], ov, 0.0)  # (P, L, H) [cm]
        covered = ov.sum(-1)
        coverage = covered / thick_l
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_w = ov / np.where(covered > 0, covered, 1.0)[..., None]  # mean of density
    elif method == "spline":
        from wholesoil.profiles._spline import evaluate_layers, fit_spline

        # the spline is linear in the horizon values: fit the H unit vectors of every profile
        eye = np.broadcast_to(np.eye(n_hor), (n_prof, n_hor, n_hor))
        rep_t = np.repeat(np.where(inside, t, np.nan), n_hor, axis=0)
        rep_b = np.repeat(np.where(inside, b, np.nan), n_hor, axis=0)
        vals = np.where(np.repeat(inside, n_hor, axis=0), eye.reshape(-1, n_hor), np.nan)
        fit = fit_spline(rep_t, rep_b, vals, np.repeat(n, n_hor), lam)
        m, cov = evaluate_layers(fit, d, "exact")
        mean_w = np.transpose(m.reshape(n_prof, n_hor, -1), (0, 2, 1))  # (P, L, H)
        mean_w = np.where(inside[:, None, :], np.nan_to_num(mean_w), 0.0)
        coverage = cov.reshape(n_prof, n_hor, -1)[:, 0, :]
    else:
        raise InputDataError("method must be 'uniform' or 'spline'", field="method",
                             value=method)
    w = mean_w * thick_l[None, :, None] / thick_h[:, None, :]
    keep = coverage >= min_coverage - 1e-12
    w = np.where(keep[..., None], w, np.nan)
    return HarmonizationWeights(w, coverage, lt, lb)


class HarmonizedInputs(NamedTuple):
    """Stocks, inputs to bulk soil and ages on standard layers.

    Attributes
    ----------
    stock : ndarray, shape (..., P, L) [Mg C ha⁻¹]
    i_bulk : ndarray, shape (..., P, L) [Mg C ha⁻¹ yr⁻¹]
    c_age : ndarray, shape (..., P, L) [yr]
        stock / i_bulk of the harmonized layer.
    coverage : ndarray, shape (P, L) [-]
    """

    stock: NDArray[np.float64]
    i_bulk: NDArray[np.float64]
    c_age: NDArray[np.float64]
    coverage: NDArray[np.float64]


def harmonize_inputs(
    weights: HarmonizationWeights,
    stock: ArrayLike,
    age: ArrayLike,
) -> HarmonizedInputs:
    """Harmonize horizon stocks and I_bulk (Eq. 6) to standard layers; ages as stock / I_bulk.

    Parameters
    ----------
    weights : HarmonizationWeights
        From :func:`harmonization_weights`.
    stock : array_like, shape (..., P, H) [Mg C ha⁻¹]
        Horizon stocks; leading axes (Monte Carlo draws) are kept. Padded positions may be NaN.
    age : array_like, shape (..., P, H) [yr]
        Horizon carbon ages.
    """
    w = weights.weights
    s = np.asarray(stock, dtype=float)
    a = np.asarray(age, dtype=float)
    i_b = bulk_inputs(s, a)
    w0 = np.nan_to_num(w)
    used = (w0 != 0).astype(float)
    nan_l = ~np.isfinite(w).all(-1)
    st = np.einsum("plh,...ph->...pl", w0, np.nan_to_num(s))
    ib = np.einsum("plh,...ph->...pl", w0, np.nan_to_num(i_b))
    # a layer that draws on a horizon whose value is NaN (padding has weight 0) is NaN
    bad_s = np.einsum("plh,...ph->...pl", used, (~np.isfinite(s)).astype(float))
    bad_i = np.einsum("plh,...ph->...pl", used, (~np.isfinite(i_b)).astype(float))
    st = np.where(nan_l | (bad_s > 0), np.nan, st)
    ib = np.where(nan_l | (bad_i > 0), np.nan, ib)
    with np.errstate(invalid="ignore", divide="ignore"):
        age_l = st / ib
    return HarmonizedInputs(st, ib, age_l, weights.coverage)




#: Names that moved to sibling modules, still importable from here (lazily, no import cycle).
_MOVED = {
    "RootProfile": "_input_profiles",
    "InputProfiles": "_input_profiles",
    "EstimatePiece": "_estimates",
    "InputEstimate": "_estimates",
    "compare_estimates": "_estimates",
    "MonteCarloInputs": "_input_uncertainty",
    "monte_carlo_inputs": "_input_uncertainty",
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(f"wholesoil.radiocarbon.{_MOVED[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
