r"""Carbon inputs to bulk soil, root-derived inputs and their direct losses (seed 004).

Wang et al. (seed 004, *Most root-derived carbon inputs do not contribute to the global bulk soil
carbon pool*) compare two estimates of the carbon entering each soil layer:

* **inputs to bulk soil** under steady state, from the layer's carbon stock and its
  radiocarbon-derived carbon age (seed 004 Eq. 6):

  .. math:: I_{bulk} = C_{stock} / C_{age}                                              \tag{6}

* **root-derived inputs**, belowground NPP allocated to layers in proportion to root biomass
  (seed 004 Methods, "Estimation of root-derived C inputs"):

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
Seed 004 compares the two inputs on 0–20, 20–40, 40–60, 60–80, 80–100, 100–150 and 150–200 cm
(:data:`SEED004_DEPTHS`); it harmonized :math:`I_{bulk}` (not the ages) with a machine-learning
model. Here the **stock and** :math:`I_{bulk}` **of each measured horizon are harmonized as mass
quantities** by one linear, mass-preserving operator: each is turned into a density per cm of
depth (value / thickness), averaged over the covered part of each standard layer, and
multiplied by the layer's thickness. The age of a standard layer is then
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
Seed 004 builds six independent estimates of :math:`I_{loss}` from three site datasets
(NPP_data, Δ14C_data, Root_data) and two NPP sources (field BNPP or MODIS NPP × f_BNPP), each
piece observed (OBS), predicted by a machine-learning model (PRE) or a remote-sensing model
product (MOD). :class:`InputEstimate` holds one such estimate with its named
:class:`EstimatePiece` s; :func:`compare_estimates` sets estimates side by side;
:data:`SEED004_ESTIMATES` records the paper's six recipes.

Uncertainty
-----------
:func:`monte_carlo_inputs` propagates uncertainty in stocks, ages, NPP, f_BNPP and the root
profile by ``draws`` Monte Carlo runs (500 in seed 004), all draws as a leading array axis, and
summarizes mean, sd and the 2.5 / 97.5 % percentiles of :math:`I_{bulk}`, :math:`I_{root}`,
:math:`I_{loss}` and the loss fraction.

References
----------
Wang, M. et al. Most root-derived carbon inputs do not contribute to the global bulk soil carbon
pool (seed 004), Methods Eqs. 1–6 and Extended Data Table 1.
Bishop, T.F.A., McBratney, A.B., Laslett, G.M. (1999) Geoderma 91, 27–45.
Lieth, H. (1975) Modeling the primary productivity of the world. Ecological Studies 14, 237–263.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from wholesoil.depth._roots import root_fractions
from wholesoil.errors import InputDataError, MissingColumnError
from wholesoil.units import kg_m2_to_mg_ha

__all__ = [
    "DEFAULT_F_BNPP",
    "MONTE_CARLO_DRAWS",
    "SEED004_DEPTHS",
    "SEED004_ESTIMATES",
    "EstimatePiece",
    "HarmonizedInputs",
    "InputEstimate",
    "InputProfiles",
    "MonteCarloInputs",
    "RootProfile",
    "bulk_inputs",
    "compare_estimates",
    "direct_losses",
    "harmonization_weights",
    "harmonize_inputs",
    "monte_carlo_inputs",
    "npp_g_m2_to_mg_ha",
    "profile_npp",
    "root_inputs",
]

HarmonizeMethod = Literal["uniform", "spline"]
PieceKind = Literal["observed", "predicted", "model"]

#: Boundaries [cm] of the seven standard layers of seed 004 (Methods, "Soil profile data
#: acquisition"): 0–20, 20–40, 40–60, 60–80, 80–100, 100–150, 150–200 cm.
SEED004_DEPTHS: tuple[float, ...] = (0.0, 20.0, 40.0, 60.0, 80.0, 100.0, 150.0, 200.0)

#: Default belowground fraction of NPP [-]: the mean f_BNPP over the 725 NPP_data sites of seed
#: 004 ("averages 37.7 %, ranging from 7.6 % to 82.7 %", Results; >50 % in temperate grasslands,
#: deserts and Mediterranean/montane shrublands, ~30 % in forests). Seed 004 itself used the
#: observed f_BNPP or a machine-learning prediction of it; give site values where known.
DEFAULT_F_BNPP = 0.377

#: Monte Carlo runs of seed 004 (Methods, "Global mapping and prediction uncertainty").
MONTE_CARLO_DRAWS = 500

#: 1 g C m⁻² yr⁻¹ in Mg C ha⁻¹ yr⁻¹.
_G_M2_TO_MG_HA = float(kg_m2_to_mg_ha(1e-3))

#: The six I_loss estimates of seed 004 Extended Data Table 1: where they are made, how I_root
#: is built (pieces with OBS / PRE / MOD status) and where I_bulk comes from.
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
    """Carbon inputs to bulk soil, I_bulk = C_stock / C_age (seed 004 Eq. 6).

    Parameters
    ----------
    stock : array_like [Mg C ha⁻¹]
        Carbon stock of each layer, ≥ 0.
    age : array_like [yr]
        Carbon age of each layer (1/k of the one-pool model, seed 004 Eqs. 1–3), > 0.

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
    """Root-derived inputs per layer, I_root = BNPP × root fraction (seed 004 Methods).

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
    """Direct losses of root-derived carbon (seed 004).

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
    """I_loss = I_root − I_bulk and its fraction of I_root (seed 004), unclipped.

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
    Miami model is a documented fallback, not the paper's method (seed 004 used field NPP or
    MODIS NPP): the returned ``source`` says which was used per profile ("data", "miami",
    "miami_climate_grid").

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


# ---------------------------------------------------------------------------- profile tables
@dataclass
class RootProfile:
    """A root distribution: Jackson β or Schenk–Jackson D50/D95, per profile.

    Parameters
    ----------
    beta : array_like, shape (P,) or scalar, optional [-]
    d50, d95 : array_like, optional [cm]
    max_depth : array_like, optional [cm]
        Maximum rooting depth (renormalization, see :func:`~wholesoil.depth._roots.root_fractions`).
    label : str
        What the profile is, e.g. ``"Jackson 1996 temperate_coniferous_forest"``.
    """

    beta: ArrayLike | None = None
    d50: ArrayLike | None = None
    d95: ArrayLike | None = None
    max_depth: ArrayLike | None = None
    label: str = ""

    def fractions(self, top: ArrayLike, bottom: ArrayLike, *, beta: ArrayLike | None = None,
                  d50: ArrayLike | None = None, d95: ArrayLike | None = None,
                  ) -> NDArray[np.float64]:
        """Root fractions (..., L) of layers; parameters may be overridden by draws."""
        if self.beta is not None:
            b = self.beta if beta is None else beta
            return root_fractions(top, bottom, beta=b, max_depth=self.max_depth).fraction
        return root_fractions(top, bottom, d50=self.d50 if d50 is None else d50,
                              d95=self.d95 if d95 is None else d95,
                              max_depth=self.max_depth).fraction


@dataclass
class InputProfiles:
    """Horizon stocks and ages of many profiles as padded ``(P, H)`` arrays.

    Build with :meth:`from_table`. Site-level columns (constant within a profile, e.g. ``lat``,
    ``lon``, ``mat``, ``map``, ``npp``, ``f_bnpp``, ``vegetation``) are in ``sites``.
    """

    profile_id: NDArray[Any]
    top: NDArray[np.float64]
    bottom: NDArray[np.float64]
    stock: NDArray[np.float64]
    age: NDArray[np.float64]
    n_horizons: NDArray[np.int64]
    sites: pd.DataFrame
    age_sd: NDArray[np.float64] | None = None
    stock_sd: NDArray[np.float64] | None = None
    excluded: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["row", "profile_id", "top", "bottom", "reason"]))
    age_source: str = "c_age"
    row: NDArray[np.int64] | None = None
    age_info: pd.DataFrame | None = None

    #: Columns read as the layer stock [Mg C ha⁻¹], first found wins.
    STOCK_COLUMNS = ("soc_stock", "soc_density", "c_stock")
    SITE_COLUMNS = ("lat", "lon", "mat", "map", "npp", "bnpp", "f_bnpp", "vegetation",
                    "beta", "d50", "d95")

    @classmethod
    def from_table(
        cls,
        table: pd.DataFrame,
        *,
        file: str | None = None,
        missing: Literal["error", "exclude"] = "error",
        site_columns: Sequence[str] = (),
        age_kwargs: Mapping[str, Any] | None = None,
    ) -> InputProfiles:
        """Read a layer table: ``profile_id``, ``top``, ``bottom`` [cm], a stock column
        (``soc_stock`` or ``soc_density`` [Mg C ha⁻¹]) and ``c_age`` [yr] — or ``d14c`` [‰] and
        ``year`` (or ``obs_year``), inverted with the one-pool model
        (:func:`wholesoil.radiocarbon._onepool.profile_ages`, keywords ``age_kwargs``).
        Optional ``c_age_sd``, ``soc_stock_sd`` and site columns.

        Layers wholly above the mineral surface (bottom ≤ 0, ISRaD organic horizons) are
        excluded and listed in ``excluded`` with the reason. Rows with a missing stock or age
        raise (``missing="error"``) or are excluded and listed (``missing="exclude"``).
        Rows are numbered as a spreadsheet shows them (header = row 1).

        Raises
        ------
        wholesoil.errors.InputDataError
            Naming file, row, profile and field: a missing column, a non-numeric, negative
            or missing value, bottom ≤ top, a layer straddling the mineral surface,
            overlapping layers, or a site column that differs within a profile.
        """
        df = table.reset_index(drop=True)
        rows = np.arange(len(df)) + 2
        for col in ("profile_id", "top", "bottom"):
            if col not in df.columns:
                raise MissingColumnError(f"missing column; have {list(df.columns)}", file=file,
                                         field=col)
        stock_col = next((c for c in cls.STOCK_COLUMNS if c in df.columns), None)
        if stock_col is None:
            raise MissingColumnError(
                f"need a stock column [Mg C ha-1], one of {list(cls.STOCK_COLUMNS)}",
                file=file, field="soc_stock")
        year_col = "year" if "year" in df.columns else (
            "obs_year" if "obs_year" in df.columns else None)
        if "c_age" in df.columns:
            age_source = "c_age"
        elif "d14c" in df.columns and year_col is not None:
            age_source = "d14c"
        else:
            raise MissingColumnError(
                "need c_age [yr], or d14c [‰] with year (observation year)", file=file,
                field="c_age")
        ids = df["profile_id"].astype(str).to_numpy()

        def num(col: str) -> NDArray[np.float64]:
            v = pd.to_numeric(df[col], errors="coerce").to_numpy(float)
            bad = df[col].notna().to_numpy() & np.isnan(v)
            if np.any(bad):
                i = int(np.flatnonzero(bad)[0])
                raise InputDataError("expected a number", file=file, row=int(rows[i]),
                                     profile=ids[i], field=col, value=df[col].iloc[i])
            return v

        top, bot, stock = num("top"), num("bottom"), num(stock_col)
        value_cols = [stock_col] + (["c_age"] if age_source == "c_age" else ["d14c", year_col])
        vals = {c: num(c) for c in value_cols}
        for col, v in (("top", top), ("bottom", bot)):
            if np.any(np.isnan(v)):
                i = int(np.flatnonzero(np.isnan(v))[0])
                raise InputDataError("missing depth", file=file, row=int(rows[i]),
                                     profile=ids[i], field=col, value=df[col].iloc[i])
        if np.any(bot <= top):
            i = int(np.flatnonzero(bot <= top)[0])
            raise InputDataError(f"expected bottom > top ({top[i]:g} cm)", file=file,
                                 row=int(rows[i]), profile=ids[i], field="bottom",
                                 value=bot[i])
        straddle = (top < 0) & (bot > 0)
        if np.any(straddle):
            i = int(np.flatnonzero(straddle)[0])
            raise InputDataError(
                "layer straddles the mineral surface (top < 0 < bottom); split it or give "
                "mineral depths", file=file, row=int(rows[i]), profile=ids[i], field="top",
                value=top[i])
        excl_rows: list[dict[str, Any]] = []
        keep = np.ones(len(df), bool)
        organic = bot <= 0
        for i in np.flatnonzero(organic):
            excl_rows.append({"row": int(rows[i]), "profile_id": ids[i], "top": top[i],
                              "bottom": bot[i], "reason": "above the mineral surface "
                              "(bottom ≤ 0 cm; seed 004 uses mineral soil)"})
        keep &= ~organic
        if np.any(keep & (stock < 0)):
            i = int(np.flatnonzero(keep & (stock < 0))[0])
            raise InputDataError("expected a stock ≥ 0 Mg C ha-1", file=file, row=int(rows[i]),
                                 profile=ids[i], field=stock_col, value=stock[i])
        if age_source == "c_age":
            age_in = vals["c_age"]
            if np.any(keep & (age_in <= 0)):
                i = int(np.flatnonzero(keep & (age_in <= 0))[0])
                raise InputDataError("expected a carbon age > 0 yr", file=file,
                                     row=int(rows[i]), profile=ids[i], field="c_age",
                                     value=age_in[i])
        for col in value_cols:
            miss = keep & np.isnan(vals[col])
            if not np.any(miss):
                continue
            if missing == "error":
                i = int(np.flatnonzero(miss)[0])
                raise InputDataError(
                    "missing value (use missing='exclude' / --exclude-missing to leave such "
                    "layers out, listed)", file=file, row=int(rows[i]), profile=ids[i],
                    field=col, has_value=False)
            for i in np.flatnonzero(miss):
                excl_rows.append({"row": int(rows[i]), "profile_id": ids[i], "top": top[i],
                                  "bottom": bot[i], "reason": f"missing {col}"})
            keep &= ~miss
        age_info = None
        if age_source == "c_age":
            age_row = vals["c_age"]
        else:
            age_row, age_info = _ages_from_d14c(df, keep, ids, top, bot, vals["d14c"],
                                                vals[year_col], dict(age_kwargs or {}))
            no_age = keep & ~np.isfinite(age_row)
            for i in np.flatnonzero(no_age):
                st = age_info.loc[i, "status"] if "status" in age_info.columns else "no root"
                excl_rows.append({"row": int(rows[i]), "profile_id": ids[i], "top": top[i],
                                  "bottom": bot[i],
                                  "reason": f"no carbon age from Δ14C (status {st})"})
            keep &= ~no_age
        if not np.any(keep):
            raise InputDataError("no usable mineral-soil layers with stock and age", file=file)
        # order: profiles by first appearance, layers by top
        first = pd.Series(np.arange(len(df))).groupby(ids).transform("min").to_numpy()
        idx = np.flatnonzero(keep)
        idx = idx[np.lexsort((top[idx], first[idx]))]
        pid_k = ids[idx]
        uniq, start = np.unique(first[idx], return_index=True)
        prof_index = np.searchsorted(uniq, first[idx])
        pos = np.arange(idx.size) - start[prof_index]
        n_prof = uniq.size
        n_h = np.bincount(prof_index, minlength=n_prof)
        h_max = int(n_h.max())

        def pad(v: NDArray[Any], fill: Any = np.nan) -> NDArray[Any]:
            out = np.full((n_prof, h_max), fill, dtype=float)
            out[prof_index, pos] = v[idx]
            return out

        t_p, b_p = pad(top), pad(bot)
        ov = (t_p[:, 1:] < b_p[:, :-1]) & np.isfinite(t_p[:, 1:])
        if np.any(ov):
            p, h = np.argwhere(ov)[0]
            i = int(idx[(prof_index == p) & (pos == h + 1)][0])
            raise InputDataError(
                f"layer overlaps the one above (bottom {b_p[p, h]:g} cm)", file=file,
                row=int(rows[i]), profile=ids[i], field="top", value=top[i])
        row_p = np.full((n_prof, h_max), -1, dtype=np.int64)
        row_p[prof_index, pos] = rows[idx]
        profile_ids = pid_k[start]
        # site columns: constant within a profile
        sc = [c for c in (*cls.SITE_COLUMNS, *site_columns) if c in df.columns]
        sites = pd.DataFrame({"profile_id": profile_ids})
        for c in sc:
            col = df[c].iloc[idx]
            n_uni = col.groupby(pid_k, sort=False).nunique(dropna=True)
            if np.any(n_uni.to_numpy() > 1):
                bad_pid = n_uni.index[np.flatnonzero(n_uni.to_numpy() > 1)[0]]
                sel = idx[pid_k == bad_pid]
                vals_p = df[c].iloc[sel]
                j = int(np.flatnonzero(vals_p.to_numpy() != vals_p.dropna().iloc[0])[0])
                raise InputDataError(
                    f"site value differs within the profile (first {vals_p.dropna().iloc[0]!r})",
                    file=file, row=int(rows[sel[j]]), profile=bad_pid, field=c,
                    value=vals_p.iloc[j])
            firsts = col.groupby(pid_k, sort=False).first()
            sites[c] = firsts.reindex(profile_ids).to_numpy()
        age_p = pad(age_row)
        age_sd = pad(num("c_age_sd")) if "c_age_sd" in df.columns else None
        stock_sd = pad(num(f"{stock_col}_sd")) if f"{stock_col}_sd" in df.columns else None
        excluded = pd.DataFrame(excl_rows, columns=["row", "profile_id", "top", "bottom",
                                                    "reason"])
        return cls(profile_ids, t_p, b_p, pad(stock), age_p, n_h.astype(np.int64), sites,
                   age_sd=age_sd, stock_sd=stock_sd, excluded=excluded,
                   age_source=age_source, row=row_p,
                   age_info=None if age_info is None else age_info.loc[idx].reset_index(
                       drop=True))

    def weights(self, depths: Sequence[float] = SEED004_DEPTHS, *,
                method: HarmonizeMethod = "uniform", lam: float = 0.1,
                min_coverage: float = 1.0) -> HarmonizationWeights:
        """:func:`harmonization_weights` of these profiles."""
        return harmonization_weights(self.top, self.bottom, self.n_horizons, depths,
                                     method=method, lam=lam, min_coverage=min_coverage)


def _ages_from_d14c(df: pd.DataFrame, keep: NDArray[np.bool_], ids: NDArray[Any],
                    top: NDArray[np.float64], bot: NDArray[np.float64],
                    d14c: NDArray[np.float64], year: NDArray[np.float64],
                    kwargs: dict[str, Any]) -> tuple[NDArray[np.float64], pd.DataFrame]:
    """Carbon ages [yr] of rows from Δ14C with the one-pool inversion (seed 004 Eqs. 1–5).

    Uses :func:`wholesoil.radiocarbon._onepool.onepool_ages` (all roots, the rule that chooses
    one, ambiguity flags); the rows' ``lat`` or ``zone`` columns pick the atmospheric zone.
    Returns the ages (NaN where no root was found) and the inversion's table.
    """
    try:
        from wholesoil.radiocarbon import _onepool
    except ImportError as exc:  # pragma: no cover - depends on the radiocarbon module
        raise InputDataError(
            "ages from d14c need wholesoil.radiocarbon._onepool, which is not available; "
            "give c_age [yr] instead", field="d14c") from exc
    fn = getattr(_onepool, "onepool_ages", None) or getattr(_onepool, "profile_ages", None)
    if fn is None:  # pragma: no cover
        raise InputDataError("no one-pool age inversion available; give c_age [yr]",
                             field="d14c")
    sub = pd.DataFrame({"profile_id": ids, "top": top, "bottom": bot,
                        "d14c": np.where(keep, d14c, np.nan), "year": year})
    for col in ("lat", "zone"):
        if col in df.columns:
            sub[col] = df[col].to_numpy()
    res = fn(sub, **kwargs)
    age = pd.to_numeric(res["age"], errors="coerce").to_numpy(float)
    info_cols = [c for c in ("profile_id", "top", "bottom", "d14c", "year", "zone", "k", "age",
                             "n_roots", "root_ages", "ambiguous", "status") if c in res.columns]
    return age, res[info_cols].reset_index(drop=True)


# -------------------------------------------------------------------------------- estimates
@dataclass(frozen=True)
class EstimatePiece:
    """One ingredient of an input estimate (seed 004 Extended Data Table 1).

    Parameters
    ----------
    name : str
        What it is: ``"BNPP"``, ``"NPP"``, ``"f_BNPP"``, ``"depth distribution"``,
        ``"I_bulk"``, ``"C_stock"``, ``"C_age"``.
    source : str
        Where it comes from, e.g. ``"NPP_data"``, ``"MODIS"``, ``"miami"``,
        ``"Jackson 1996 boreal_forest"``.
    kind : {"observed", "predicted", "model"}
        OBS, PRE or MOD in Extended Data Table 1.
    """

    name: str
    source: str
    kind: PieceKind = "observed"

    def __post_init__(self) -> None:
        if self.kind not in ("observed", "predicted", "model"):
            raise InputDataError("kind must be 'observed', 'predicted' or 'model'",
                                 field="kind", value=self.kind)

    def label(self) -> str:
        tag = {"observed": "OBS", "predicted": "PRE", "model": "MOD"}[self.kind]
        return f"{self.name}: {self.source} ({tag})"


@dataclass
class InputEstimate:
    """One estimate of I_root, I_bulk and I_loss on layers, with the pieces it is made of.

    Build with :meth:`from_pieces` to compute I_root from (B)NPP, f_BNPP and a root profile.

    Parameters
    ----------
    name : str
        e.g. ``"I_loss3"``.
    profile_id : array_like, shape (P,)
    top, bottom : array_like, shape (L,) [cm]
    i_root, i_bulk : array_like, shape (P, L) [Mg C ha⁻¹ yr⁻¹]
    pieces : sequence of EstimatePiece
        The ingredients of I_root and I_bulk.
    sites : str
        Which site dataset it is made at.
    """

    name: str
    profile_id: ArrayLike
    top: ArrayLike
    bottom: ArrayLike
    i_root: ArrayLike
    i_bulk: ArrayLike
    pieces: Sequence[EstimatePiece] = ()
    sites: str = ""

    def __post_init__(self) -> None:
        self.profile_id = np.asarray(self.profile_id)
        self.top = np.asarray(self.top, dtype=float)
        self.bottom = np.asarray(self.bottom, dtype=float)
        self.i_root = np.atleast_2d(np.asarray(self.i_root, dtype=float))
        self.i_bulk = np.atleast_2d(np.asarray(self.i_bulk, dtype=float))
        shape = (self.profile_id.size, self.top.size)
        for nm, a in (("i_root", self.i_root), ("i_bulk", self.i_bulk)):
            if a.shape != shape:
                raise InputDataError(
                    f"estimate {self.name!r}: expected shape (profiles, layers) = {shape}",
                    field=nm, value=a.shape)
        self.pieces = tuple(self.pieces)

    @classmethod
    def from_pieces(
        cls,
        name: str,
        *,
        profile_id: ArrayLike,
        top: ArrayLike,
        bottom: ArrayLike,
        i_bulk: ArrayLike,
        root_fraction: ArrayLike | RootProfile,
        bnpp: ArrayLike | None = None,
        npp: ArrayLike | None = None,
        f_bnpp: ArrayLike | None = None,
        pieces: Sequence[EstimatePiece] = (),
        sites: str = "",
    ) -> InputEstimate:
        """I_root = BNPP × root fraction, BNPP given [g C m⁻² yr⁻¹] or NPP × f_BNPP.

        ``root_fraction`` is a (P, L) array of layer fractions (observed root or I_bulk depth
        distributions) or a :class:`RootProfile`.
        """
        if bnpp is None:
            if npp is None or f_bnpp is None:
                raise InputDataError(f"estimate {name!r}: give bnpp, or npp and f_bnpp",
                                     field="bnpp")
            f = np.asarray(f_bnpp, dtype=float)
            if np.any((f < 0) | (f > 1)):
                raise InputDataError(f"estimate {name!r}: expected 0 ≤ f_BNPP ≤ 1",
                                     field="f_bnpp", value=f[(f < 0) | (f > 1)].ravel()[0])
            b = _positive(npp, "npp", strict=False) * f
        else:
            b = _positive(bnpp, "bnpp", strict=False)
        frac = (root_fraction.fractions(top, bottom) if isinstance(root_fraction, RootProfile)
                else np.asarray(root_fraction, dtype=float))
        n_p = np.asarray(profile_id).size
        b = np.broadcast_to(npp_g_m2_to_mg_ha(b), (n_p,))
        i_root = root_inputs(b, np.broadcast_to(frac, (n_p, np.asarray(top).size)))
        return cls(name, profile_id, top, bottom, i_root, i_bulk, pieces, sites)

    @property
    def has_observation(self) -> bool:
        """Whether at least one piece is observed (seed 004: every estimate uses one)."""
        return any(p.kind == "observed" for p in self.pieces)

    def losses(self) -> Losses:
        """Per-layer :func:`direct_losses`."""
        return direct_losses(self.i_root, self.i_bulk)

    def totals(self) -> pd.DataFrame:
        """Per-profile totals over the layers where both inputs are known."""
        return _totals(self.profile_id, self.i_root, self.i_bulk)

    def table(self) -> pd.DataFrame:
        """Long table: estimate, profile_id, top, bottom, i_root, i_bulk, i_loss,
        loss_fraction."""
        n_p, n_l = self.i_root.shape
        loss = self.losses()
        return pd.DataFrame({
            "estimate": self.name,
            "profile_id": np.repeat(self.profile_id, n_l),
            "top": np.tile(self.top, n_p), "bottom": np.tile(self.bottom, n_p),
            "i_root": self.i_root.ravel(), "i_bulk": self.i_bulk.ravel(),
            "i_loss": loss.loss.ravel(), "loss_fraction": loss.fraction.ravel(),
        })


def _totals(profile_id: ArrayLike, i_root: NDArray[np.float64],
            i_bulk: NDArray[np.float64]) -> pd.DataFrame:
    both = np.isfinite(i_root) & np.isfinite(i_bulk)
    r = np.where(both, i_root, 0.0).sum(-1)
    b = np.where(both, i_bulk, 0.0).sum(-1)
    n = both.sum(-1)
    r = np.where(n > 0, r, np.nan)
    b = np.where(n > 0, b, np.nan)
    loss = direct_losses(r, b)
    return pd.DataFrame({"profile_id": np.asarray(profile_id), "n_layers": n,
                         "i_root": r, "i_bulk": b, "i_loss": loss.loss,
                         "loss_fraction": loss.fraction})


def compare_estimates(estimates: Sequence[InputEstimate]) -> pd.DataFrame:
    """Estimates side by side: per layer and over the profile (seed 004 Fig. 3 summaries).

    Returns
    -------
    pandas.DataFrame
        One row per estimate × layer plus a ``layer="total"`` row per estimate (sum over the
        layers where both inputs are known, per profile): ``estimate``, ``sites``, ``pieces``
        (labels with OBS/PRE/MOD), ``has_observation``, ``layer``, ``top``, ``bottom``,
        ``n_profiles``, mean ``i_root``, ``i_bulk``, ``i_loss`` [Mg C ha⁻¹ yr⁻¹],
        ``i_loss_median``, ``loss_fraction`` (of the means), ``loss_fraction_mean`` and
        ``loss_fraction_median`` (of per-profile fractions).
    """
    if not estimates:
        raise InputDataError("no estimates to compare", field="estimates")
    rows = []
    for e in estimates:
        lab = "; ".join(p.label() for p in e.pieces)
        base = {"estimate": e.name, "sites": e.sites, "pieces": lab,
                "has_observation": e.has_observation}
        loss = e.losses()
        for j in range(e.top.size):
            rows.append({**base, "layer": f"{e.top[j]:g}-{e.bottom[j]:g}", "top": e.top[j],
                         "bottom": e.bottom[j],
                         **_summary(e.i_root[:, j], e.i_bulk[:, j], loss.fraction[:, j])})
        tot = e.totals()
        rows.append({**base, "layer": "total", "top": float(np.min(e.top)),
                     "bottom": float(np.max(e.bottom)),
                     **_summary(tot["i_root"].to_numpy(), tot["i_bulk"].to_numpy(),
                                tot["loss_fraction"].to_numpy())})
    return pd.DataFrame(rows)


def _summary(r: NDArray[np.float64], b: NDArray[np.float64],
             frac: NDArray[np.float64]) -> dict[str, float]:
    ok = np.isfinite(r) & np.isfinite(b)
    if not np.any(ok):
        return {"n_profiles": 0, "i_root": np.nan, "i_bulk": np.nan, "i_loss": np.nan,
                "i_loss_median": np.nan, "loss_fraction": np.nan,
                "loss_fraction_mean": np.nan, "loss_fraction_median": np.nan}
    rm, bm = float(r[ok].mean()), float(b[ok].mean())
    fr = frac[ok & np.isfinite(frac)]
    return {"n_profiles": int(ok.sum()), "i_root": rm, "i_bulk": bm, "i_loss": rm - bm,
            "i_loss_median": float(np.median(r[ok] - b[ok])),
            "loss_fraction": (rm - bm) / rm if rm != 0 else np.nan,
            "loss_fraction_mean": float(fr.mean()) if fr.size else np.nan,
            "loss_fraction_median": float(np.median(fr)) if fr.size else np.nan}


# ------------------------------------------------------------------------------ Monte Carlo
@dataclass
class MonteCarloInputs:
    """Monte Carlo draws of inputs and losses, draws on the leading axis.

    Attributes
    ----------
    profile_id : ndarray, shape (P,)
    top, bottom : ndarray, shape (L,) [cm]
    i_bulk, i_root, i_loss, loss_fraction : ndarray, shape (D, P, L)
        [Mg C ha⁻¹ yr⁻¹]; loss_fraction [-].
    total_i_bulk, total_i_root, total_i_loss, total_loss_fraction : ndarray, shape (D, P)
        Sums over the layers where the deterministic I_bulk is known.
    seed : int or None
    """

    profile_id: NDArray[Any]
    top: NDArray[np.float64]
    bottom: NDArray[np.float64]
    i_bulk: NDArray[np.float64]
    i_root: NDArray[np.float64]
    i_loss: NDArray[np.float64]
    loss_fraction: NDArray[np.float64]
    total_i_bulk: NDArray[np.float64]
    total_i_root: NDArray[np.float64]
    total_i_loss: NDArray[np.float64]
    total_loss_fraction: NDArray[np.float64]
    seed: int | None = None

    @property
    def draws(self) -> int:
        return int(self.i_bulk.shape[0])

    def summary(self) -> pd.DataFrame:
        """Mean, sd, 2.5 % and 97.5 % over draws per profile × layer and per profile total.

        Long format: ``profile_id``, ``layer`` ("0-20", …, "total"), ``top``, ``bottom``,
        ``variable`` (i_bulk, i_root, i_loss, loss_fraction), ``mean``, ``sd``, ``q025``,
        ``q975``, ``draws``.
        """
        n_p, n_l = self.i_bulk.shape[1:]
        labels = [f"{a:g}-{b:g}" for a, b in zip(self.top, self.bottom, strict=True)]
        parts = []
        for var in ("i_bulk", "i_root", "i_loss", "loss_fraction"):
            x = np.concatenate([getattr(self, var),
                                getattr(self, f"total_{var}")[..., None]], axis=-1)
            stats = _draw_stats(x)
            parts.append(pd.DataFrame({
                "profile_id": np.repeat(self.profile_id, n_l + 1),
                "layer": np.tile([*labels, "total"], n_p),
                "top": np.tile([*self.top, self.top.min()], n_p),
                "bottom": np.tile([*self.bottom, self.bottom.max()], n_p),
                "variable": var, **{k: v.ravel() for k, v in stats.items()},
                "draws": self.draws,
            }))
        return pd.concat(parts, ignore_index=True)


def _draw_stats(x: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
    ok = np.isfinite(x).all(axis=0)
    xs = np.where(ok, x, 0.0)
    q = np.percentile(xs, [2.5, 97.5], axis=0)
    return {"mean": np.where(ok, xs.mean(0), np.nan),
            "sd": np.where(ok, xs.std(0, ddof=1) if x.shape[0] > 1 else 0.0, np.nan),
            "q025": np.where(ok, q[0], np.nan), "q975": np.where(ok, q[1], np.nan)}


def _draw(rng: np.random.Generator, mean: NDArray[np.float64], sd: NDArray[np.float64],
          n: int, name: str, *, strict: bool, upper: float | None = None
          ) -> NDArray[np.float64]:
    """Normal draws N(mean, sd) of shape (n, *mean.shape); a draw below 0 (≤ 0 if ``strict``)
    or above ``upper`` is an error, never truncated."""
    x = mean + sd * rng.standard_normal((n, *mean.shape))
    bad = (x <= 0) if strict else (x < 0)
    if upper is not None:
        bad = bad | (x > upper)
    bad &= np.isfinite(x)
    if np.any(bad):
        rng_txt = f"{'(' if strict else '['}0, {upper if upper is not None else '∞'}" + (
            "]" if upper is not None else ")")
        raise InputDataError(
            f"{int(bad.sum())} Monte Carlo draw(s) of {name} fell outside {rng_txt}; the "
            "uncertainty is too large for a normal distribution — reduce it",
            field=f"{name}_sd")
    return x


def monte_carlo_inputs(
    profiles: InputProfiles,
    *,
    npp: ArrayLike,
    roots: RootProfile,
    f_bnpp: ArrayLike = DEFAULT_F_BNPP,
    bnpp: ArrayLike | None = None,
    depths: Sequence[float] = SEED004_DEPTHS,
    method: HarmonizeMethod = "uniform",
    lam: float = 0.1,
    min_coverage: float = 1.0,
    draws: int = MONTE_CARLO_DRAWS,
    seed: int | None = None,
    cv: float = 0.1,
    stock_sd: ArrayLike | None = None,
    age_sd: ArrayLike | None = None,
    npp_sd: ArrayLike | None = None,
    f_bnpp_sd: ArrayLike | None = None,
    beta_sd: ArrayLike = 0.0,
    d50_sd: ArrayLike | None = None,
    d95_sd: ArrayLike | None = None,
) -> MonteCarloInputs:
    """Propagate uncertainty to I_bulk, I_root, I_loss and the loss fraction by Monte Carlo.

    Every uncertain input is drawn from a normal distribution N(x, sd), independently per
    profile, horizon and draw; where no sd is given it is ``cv · x`` (the N(x, 0.1x) convention
    of Wang et al., seed 000 §2.8). β is held fixed unless ``beta_sd`` is given (an absolute sd;
    0.1·β would be far outside the published range of β). A draw outside the quantity's range
    (stock < 0, age ≤ 0, NPP < 0, f_BNPP outside [0, 1], β outside (0, 1)) is an error rather than
    a silent truncation. Draws are a leading axis of every array; harmonization is one linear
    operator applied to all draws at once.

    Parameters
    ----------
    profiles : InputProfiles
        Horizon stocks [Mg C ha⁻¹] and ages [yr]; its ``stock_sd`` / ``age_sd`` are used when
        ``stock_sd`` / ``age_sd`` are not given.
    npp : array_like, shape (P,) [g C m⁻² yr⁻¹]
    roots : RootProfile
    f_bnpp : array_like, shape (P,) or scalar [-]
        Default :data:`DEFAULT_F_BNPP`.
    bnpp : array_like, shape (P,), optional [g C m⁻² yr⁻¹]
        Observed belowground NPP; replaces npp × f_bnpp (then ``npp_sd`` applies to it).
    depths, method, lam, min_coverage
        Harmonization (:func:`harmonization_weights`).
    draws : int, default 500
        Monte Carlo runs (seed 004).
    seed : int, optional
        Seed of ``numpy.random.default_rng``; the same seed gives the same draws.
    cv : float, default 0.1
        Relative sd of inputs without an explicit sd.
    stock_sd, age_sd : array_like, shape (P, H), optional
    npp_sd, f_bnpp_sd : array_like, shape (P,), optional
    beta_sd, d50_sd, d95_sd : array_like, optional
    """
    if int(draws) < 2:
        raise InputDataError("expected at least 2 draws", field="draws", value=draws)
    n = int(draws)
    rng = np.random.default_rng(seed)
    w = profiles.weights(depths, method=method, lam=lam, min_coverage=min_coverage)
    n_p = profiles.profile_id.size
    s0, a0 = profiles.stock, profiles.age
    ssd = np.asarray(stock_sd if stock_sd is not None else (
        profiles.stock_sd if profiles.stock_sd is not None else cv * s0), dtype=float)
    asd = np.asarray(age_sd if age_sd is not None else (
        profiles.age_sd if profiles.age_sd is not None else cv * a0), dtype=float)
    ssd = np.where(np.isfinite(ssd), ssd, cv * s0)
    asd = np.where(np.isfinite(asd), asd, cv * a0)
    stock_d = _draw(rng, s0, ssd, n, "stock", strict=False)
    age_d = _draw(rng, a0, asd, n, "age", strict=True)
    h = harmonize_inputs(w, stock_d, age_d)
    lt, lb = w.top, w.bottom
    if bnpp is not None:
        b0 = np.broadcast_to(np.asarray(bnpp, dtype=float), (n_p,))
        bsd = np.broadcast_to(np.asarray(npp_sd if npp_sd is not None else cv * b0, float),
                              (n_p,))
        bnpp_d = _draw(rng, b0, bsd, n, "bnpp", strict=False)
    else:
        npp0 = np.broadcast_to(np.asarray(npp, dtype=float), (n_p,))
        nsd = np.broadcast_to(np.asarray(npp_sd if npp_sd is not None else cv * npp0, float),
                              (n_p,))
        f0 = np.broadcast_to(np.asarray(f_bnpp, dtype=float), (n_p,))
        fsd = np.broadcast_to(np.asarray(f_bnpp_sd if f_bnpp_sd is not None else cv * f0,
                                         float), (n_p,))
        bnpp_d = (_draw(rng, npp0, nsd, n, "npp", strict=False)
                  * _draw(rng, f0, fsd, n, "f_bnpp", strict=False, upper=1.0))
    if roots.beta is not None:
        b_mean = np.broadcast_to(np.asarray(roots.beta, dtype=float), (n_p,))
        b_sd = np.broadcast_to(np.asarray(beta_sd, dtype=float), (n_p,))
        frac = roots.fractions(lt, lb, beta=_draw(rng, b_mean, b_sd, n, "beta", strict=True,
                                                   upper=1.0 - 1e-12))
    else:
        m50 = np.broadcast_to(np.asarray(roots.d50, dtype=float), (n_p,))
        m95 = np.broadcast_to(np.asarray(roots.d95, dtype=float), (n_p,))
        sd50 = np.broadcast_to(np.asarray(d50_sd if d50_sd is not None else cv * m50), (n_p,))
        sd95 = np.broadcast_to(np.asarray(d95_sd if d95_sd is not None else cv * m95), (n_p,))
        frac = roots.fractions(lt, lb, d50=_draw(rng, m50, sd50, n, "d50", strict=True),
                               d95=_draw(rng, m95, sd95, n, "d95", strict=True))
    i_root = root_inputs(npp_g_m2_to_mg_ha(bnpp_d), frac)
    known = np.isfinite(h.i_bulk[0])  # (P, L), the same in every draw
    i_root = np.where(known, i_root, np.nan)
    loss = direct_losses(i_root, h.i_bulk)
    tr = np.where(known, i_root, 0.0).sum(-1)
    tb = np.where(known, h.i_bulk, 0.0).sum(-1)
    any_k = known.any(-1)
    tr = np.where(any_k, tr, np.nan)
    tb = np.where(any_k, tb, np.nan)
    tl = direct_losses(tr, tb)
    return MonteCarloInputs(profiles.profile_id, lt, lb, h.i_bulk, i_root, loss.loss,
                            loss.fraction, tb, tr, tl.loss, tl.fraction, seed)
