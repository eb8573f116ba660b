r"""Per-layer stocks at standard depths from per-horizon amounts (the stock mode of harmonize).

A per-layer amount such as ``soc_density`` [Mg C ha⁻¹] is *extensive*: it grows with the
thickness of the horizon. The equal-area spline of :mod:`wholesoil.profiles._spline` models a
depth function whose *mean* over a horizon is the observed value, so splining an amount as if
it were a concentration averages amounts of thick and thin horizons and overstates stocks.
Here an amount is first divided by its horizon's thickness, the resulting density per cm is
modelled over depth, and that density is integrated over each standard layer.

Model
-----
For a profile with horizons :math:`[u_i, l_i)` of thickness :math:`h_i = l_i - u_i` and
amounts :math:`A_i` [Mg C ha⁻¹], the density per cm [Mg C ha⁻¹ cm⁻¹] is

.. math:: \rho_i = A_i / h_i.                                                           \tag{1}

Its depth function :math:`\rho(x)` is, by ``method``,

.. math:: \rho(x) = \rho_i \quad (u_i \le x < l_i)\qquad\text{("uniform")}             \tag{2}

or the equal-area quadratic spline of Bishop, McBratney & Laslett (1999) [1]_ fitted to the
:math:`\rho_i` with smoothing :math:`\lambda` (Eqs. 1–7 of :mod:`wholesoil.profiles._spline`;
``"exact"``). Let :math:`H = \bigcup_i [u_i, l_i)` be the depths covered by observed
horizons (gaps between horizons and depths above the first or below the last are not in
:math:`H`). The stock of a standard layer :math:`[a_j, b_j)` and its coverage are

.. math:: S_j = \int_{[a_j, b_j)\cap H} \rho(x)\,dx,                                   \tag{3}
.. math:: c_j = \frac{|[a_j, b_j)\cap H|}{b_j - a_j},                                  \tag{4}

and the stock is reported only where enough of the layer is covered:

.. math:: S_j^{\mathrm{out}} = S_j \text{ if } c_j \ge c_{\min},
          \text{ else NaN}.                                                            \tag{5}

The integral of Eq. 3 is taken exactly (the antiderivative of the horizon's polynomial), which
is the limit of summing 1-cm values. :math:`S_j` is never scaled up to the whole layer: with
:math:`c_{\min} < 1` a partly covered layer reports the stock of its covered part only, and
its ``partial`` flag is set (:math:`c_j < 1`).

Mass preservation
-----------------
``"uniform"`` (the default) preserves every horizon's amount exactly: a horizon inside a
standard layer contributes :math:`A_i`, and one cut by a layer boundary contributes
:math:`A_i` times the fraction of its thickness inside the layer — the proration of
:func:`wholesoil.profiles.stock_to_depth` (which ``wholesoil density`` uses). The sum of the
standard layers 0–5–15–30–60–100 cm therefore equals the 0–100 cm stock of ``density`` up to
rounding. ``"exact"`` with :math:`\lambda = 0` reproduces each horizon's amount exactly
(:math:`\bar s = y` in Eq. 3 of the spline) and redistributes it smoothly within the horizon,
so it agrees with ``density`` wherever the standard depths are horizon boundaries; with
:math:`\lambda > 0` the spline preserves its *fitted* horizon means :math:`\bar s_i`, not the
observed ones, and amounts only approximately. The spline may turn negative near a steep
decline; its stocks are not clamped.

References
----------
.. [1] Bishop, T.F.A., McBratney, A.B., Laslett, G.M. (1999). Modelling soil attribute depth
   functions with equal-area quadratic smoothing splines. Geoderma 91, 27–45.
   https://doi.org/10.1016/S0016-7061(99)00003-8
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, get_args

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from wholesoil._types import StockMethod
from wholesoil.errors import InputDataError
from wholesoil.profiles._spline import DEFAULT_CHUNK, STANDARD_DEPTHS, fit_spline

if TYPE_CHECKING:
    from wholesoil.profiles._profileset import ProfileSet

__all__ = ["EXTENSIVE_VARIABLES", "extensive_unit", "layer_stocks", "stocks_by_layer"]

#: Per-layer amounts (extensive: proportional to the layer's thickness) that wholesoil knows,
#: with their canonical unit as written in output headers. Splining one as a concentration is
#: refused; ``harmonize --mode stock`` (:func:`layer_stocks`) handles them. Sources: the
#: canonical horizon columns (:data:`wholesoil.profiles.HORIZON_COLUMNS`) and the columns the
#: ISRaD reader writes (:mod:`wholesoil.io._israd`).
EXTENSIVE_VARIABLES: dict[str, str] = {
    "soc_density": "Mg C ha-1",
    "soc_density_computed": "Mg C ha-1",
    "soc_density_reported": "Mg C ha-1",
    "soc_density_filled": "Mg C ha-1",
    "soc_density_fill_extra": "Mg C ha-1",
}

#: Units of an amount per area (normalized as :func:`wholesoil.io._table.normalize_unit` writes
#: them): a column declared in one of these (``--units``, or ``NAME [UNIT]`` in the header) is
#: a per-layer amount whatever its name.
_AREAL_UNITS = frozenset({
    "mg/ha", "t/ha", "kg/m2", "g/cm2", "mgc/ha", "tc/ha", "kgc/m2", "gc/cm2",
    "mgha-1", "mgcha-1", "tha-1", "tcha-1", "kgm-2", "kgcm-2", "gcm-2", "gccm-2",
})

#: Output columns besides the variable itself.
_RESERVED = ("profile_id", "top", "bottom", "coverage", "partial")


def extensive_unit(variable: str, units: Mapping[str, str] | None = None) -> str | None:
    """The unit of ``variable`` if it is a per-layer amount, else None.

    Parameters
    ----------
    variable : str
        Horizon column name.
    units : mapping, optional
        Units declared for the table's columns (``ProfileSet.metadata["units"]``); a column in
        an areal unit (Mg ha⁻¹, t ha⁻¹, kg m⁻², g cm⁻²) counts as a per-layer amount.
    """
    if variable in EXTENSIVE_VARIABLES:
        return EXTENSIVE_VARIABLES[variable]
    unit = (units or {}).get(variable)
    if unit:
        from wholesoil.io._table import normalize_unit

        if normalize_unit(str(unit)) in _AREAL_UNITS:
            return str(unit)
    return None


def _check_min_coverage(min_coverage: float) -> float:
    try:
        c = float(min_coverage)
    except (TypeError, ValueError):
        raise InputDataError("min_coverage must be a number in (0, 1]", field="min_coverage",
                             value=min_coverage) from None
    if not 0.0 < c <= 1.0:
        raise InputDataError("min_coverage must lie in (0, 1]", field="min_coverage",
                             value=min_coverage)
    return c


def _check_stock_depths(depths: ArrayLike) -> NDArray[np.float64]:
    d = np.asarray(depths, dtype=float)
    if d.ndim != 1 or d.size < 2 or not np.all(np.isfinite(d)) or np.any(np.diff(d) <= 0):
        raise InputDataError("depths must be at least two finite, strictly increasing depths "
                             "[cm]", field="depths", value=depths)
    return d


def stocks_by_layer(
    top: ArrayLike,
    bottom: ArrayLike,
    amount: ArrayLike,
    n_horizons: ArrayLike,
    depths: ArrayLike = STANDARD_DEPTHS,
    method: StockMethod = "uniform",
    lam: float = 0.0,
    *,
    profile_id: ArrayLike | None = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Stocks and coverage of standard layers from padded horizon amounts (Eqs. 1–4).

    Parameters
    ----------
    top, bottom : array_like, shape (P, H)
        Horizon depths [cm], sorted, not overlapping, NaN-padded after ``n_horizons``.
    amount : array_like, shape (P, H)
        Amount per horizon A_i [unit of the variable, e.g. Mg C ha⁻¹].
    n_horizons : array_like of int, shape (P,)
        Horizons per profile.
    depths : array_like, default :data:`~wholesoil.profiles.STANDARD_DEPTHS`
        Standard layer boundaries [cm], strictly increasing.
    method : {"uniform", "exact"}, default "uniform"
        Depth function of the density per cm: uniform within each horizon (Eq. 2), or the
        equal-area spline with smoothing ``lam``, integrated exactly.
    lam : float, default 0
        Spline smoothing λ ≥ 0 [-] (``"exact"`` only); 0 keeps every horizon's amount.
    profile_id : array_like, shape (P,), optional
        Names for error messages.
    chunk_size : int
        Profiles per block (bounds memory at ``chunk × layers × horizons`` values).

    Returns
    -------
    stock : ndarray, shape (P, L)
        S_j of Eq. 3 [unit of the amount]: the stock of the covered part of each layer
        (0 where nothing is covered).
    coverage : ndarray, shape (P, L)
        c_j of Eq. 4 [-].
    """
    if method not in get_args(StockMethod):
        raise InputDataError(f"method must be one of {list(get_args(StockMethod))} in stock "
                             "mode", field="method", value=method)
    d = _check_stock_depths(depths)
    u = np.atleast_2d(np.asarray(top, dtype=float))
    low = np.atleast_2d(np.asarray(bottom, dtype=float))
    amt = np.atleast_2d(np.asarray(amount, dtype=float))
    n = np.atleast_1d(np.asarray(n_horizons).astype(np.int64))
    inside = np.arange(u.shape[1]) < n[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = amt / (low - u)  # Eq. 1
    # the spline's checks (finite, bottom > top, no overlap) apply to both methods
    fit = fit_spline(u, low, rho, n, lam if method == "exact" else 0.0, profile_id=profile_id)
    uu = np.where(inside, u, 0.0)
    ll = np.where(inside, low, 0.0)
    if method == "exact":
        c0, c1, c2 = (np.where(inside, a, 0.0) for a in (fit.alpha, fit.b0, fit.gamma))
    else:
        c0 = np.where(inside, rho, 0.0)
        c1 = c2 = np.zeros_like(c0)
    a, b = d[:-1][None, :, None], d[1:][None, :, None]
    n_prof = u.shape[0]
    stock = np.zeros((n_prof, d.size - 1))
    covered = np.zeros((n_prof, d.size - 1))
    for i0 in range(0, n_prof, max(int(chunk_size), 1)):  # blocks, each vectorized
        sl = slice(i0, i0 + max(int(chunk_size), 1))
        x0 = uu[sl][:, None, :]
        lo = np.maximum(a, x0)  # (p, L, H): overlap of every layer with every horizon
        hi = np.maximum(lo, np.minimum(b, ll[sl][:, None, :]))
        k = c0[sl][:, None, :], c1[sl][:, None, :], c2[sl][:, None, :]
        stock[sl] = (_antiderivative(hi, x0, *k) - _antiderivative(lo, x0, *k)).sum(axis=2)
        covered[sl] = (hi - lo).sum(axis=2)
    coverage = covered / (d[1:] - d[:-1])[None, :]  # Eq. 4
    return stock, coverage


def _antiderivative(
    x: NDArray[np.float64],
    x0: NDArray[np.float64],
    c0: NDArray[np.float64],
    c1: NDArray[np.float64],
    c2: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Integral from x0 to x of c0 + c1·t + c2·t², t = x − x0 (Eq. 6 of the spline; Eq. 3)."""
    t = x - x0
    return t * (c0 + t * (c1 / 2.0 + t * c2 / 3.0))


def layer_stocks(
    profiles: ProfileSet,
    variable: str = "soc_density",
    depths: Sequence[float] | ArrayLike = STANDARD_DEPTHS,
    method: StockMethod = "uniform",
    lam: float = 0.0,
    min_coverage: float = 1.0,
) -> pd.DataFrame:
    """Per-layer stocks at standard depths from per-horizon amounts, with coverage.

    The amount of each horizon is divided by its thickness (Eq. 1 of
    :mod:`wholesoil.profiles._layer_stocks`), the density per cm is modelled over depth —
    uniform within horizons (Eq. 2) or by the equal-area spline of Bishop et al. (1999) [1]_ —
    and integrated over the part of each standard layer covered by observed horizons (Eqs.
    3–4). Partly covered layers are flagged and never extrapolated (Eq. 5).

    Parameters
    ----------
    profiles : wholesoil.profiles.ProfileSet
        Profiles with ``top``, ``bottom`` [cm] and ``variable``. A horizon whose amount is NaN
        counts as uncovered.
    variable : str, default "soc_density"
        Per-horizon amount, e.g. ``soc_density`` [Mg C ha⁻¹] (any unit: the stocks are in it).
    depths : sequence of float, default :data:`~wholesoil.profiles.STANDARD_DEPTHS`
        Standard layer boundaries [cm] (0–5–15–30–60–100–200).
    method : {"uniform", "exact"}, default "uniform"
        ``"uniform"``: density uniform within each horizon, exactly mass-preserving, the
        proration of :func:`~wholesoil.profiles.stock_to_depth` (so the 0–100 cm sum equals
        ``wholesoil density``'s stock); ``"exact"``: the equal-area spline of the densities
        per cm, integrated exactly.
    lam : float, default 0
        Spline smoothing λ ≥ 0 [-] for ``"exact"``; 0 keeps every horizon's amount, λ > 0 keeps
        them only approximately (see the module docstring).
    min_coverage : float, default 1
        Smallest coverage c_min (0, 1] [-] at which a layer's stock is reported (Eq. 5); below
        it the stock is NaN. The default reports only fully covered layers, as
        ``stock_to_depth`` does; a smaller value reports the covered part of a layer (flagged
        ``partial``), never a stock scaled up to the whole layer.

    Returns
    -------
    pandas.DataFrame
        One row per profile × standard layer: ``profile_id``, ``top``, ``bottom`` [cm],
        ``<variable>`` (the stock of the layer [unit of the amount]), ``coverage`` [-] (the
        fraction of the layer covered by observed horizons) and ``partial`` (bool, coverage
        < 1). Profiles in site-table order, then any found only in the horizon table.

    Raises
    ------
    wholesoil.errors.InputDataError
        For invalid depths, method, λ or ``min_coverage``, or horizons that overlap or have
        bottom ≤ top (the profile is named).

    References
    ----------
    .. [1] Bishop, T.F.A., McBratney, A.B., Laslett, G.M. (1999). Modelling soil attribute
       depth functions with equal-area quadratic smoothing splines. Geoderma 91, 27–45.
       https://doi.org/10.1016/S0016-7061(99)00003-8

    Examples
    --------
    >>> import pandas as pd
    >>> from wholesoil.profiles import ProfileSet, layer_stocks
    >>> h = pd.DataFrame({"profile_id": "P", "top": [0, 30], "bottom": [30, 100],
    ...                   "soc_density": [60.0, 56.0]})
    >>> t = layer_stocks(ProfileSet.from_tables(h), depths=(0, 15, 30, 60, 100))
    >>> t["soc_density"].round(6).tolist()
    [30.0, 30.0, 24.0, 32.0]
    """
    c_min = _check_min_coverage(min_coverage)
    d = _check_stock_depths(depths)
    if variable in _RESERVED:
        raise InputDataError("variable name clashes with an output column", field="variable",
                             value=variable)
    padded = profiles.to_padded(variable)
    ids, top, bottom, amount, n = _site_order(profiles, padded)
    stock, coverage = stocks_by_layer(top, bottom, amount, n, d, method, lam, profile_id=ids)
    full = coverage >= c_min - 1e-9  # tolerance of depths summed in floating point
    stock = np.where(full & (coverage > 0), stock, np.nan)  # Eq. 5
    n_prof, n_lay = stock.shape
    return pd.DataFrame(
        {
            "profile_id": np.repeat(ids, n_lay),
            "top": np.tile(d[:-1], n_prof),
            "bottom": np.tile(d[1:], n_prof),
            variable: stock.ravel(),
            "coverage": coverage.ravel(),
            "partial": (coverage < 1.0 - 1e-9).ravel(),
        }
    )


def _site_order(profiles: ProfileSet, padded: Any) -> tuple[NDArray[Any], ...]:
    """Padded arrays in site-table order, then profiles found only in the horizon table (as
    :func:`wholesoil.profiles.fit_profiles` orders them); profiles without data get 0
    horizons."""
    site_ids = pd.Index(profiles.profile_ids.astype(str))
    pad_ids = pd.Index(np.asarray(padded.profile_id).astype(str))
    ids = site_ids.append(pad_ids.difference(site_ids, sort=False)).unique()
    where = pad_ids.get_indexer(ids)
    got = where >= 0
    shape = (ids.size, padded.top.shape[1])
    top, bottom, amount = (np.full(shape, np.nan) for _ in range(3))
    n = np.zeros(ids.size, dtype=np.int64)
    top[got], bottom[got] = padded.top[where[got]], padded.bottom[where[got]]
    amount[got], n[got] = padded.value[where[got]], padded.n_horizons[where[got]]
    return ids.to_numpy(dtype=object), top, bottom, amount, n
