"""Depth layers of SOC density from β maps on grids (Eqs. 2–3 and §2.6 of [1]).

Wang et al. (2025) [1] extend the mapped topsoil SOC density to depth with the Jobbágy–Jackson
β model [2] and split it into layers by difference:

(2)  Y = 1 − β^d, the cumulative fraction of the SOC stock above d [cm] (Eq. 2 in [1]).
(3)  X_d = (1 − β^d) / (1 − β^d0) · X_d0 (Eq. 3 in [1], for any target depth d).

The functions work on numpy arrays, xarray and lazily on dask-backed xarray.

References
----------
[1] Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution
    in the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript
    submitted to *Earth Syst. Sci. Data*; data doi:10.5281/zenodo.14787023.
[2] Jobbágy, E. G. & Jackson, R. B. (2000). Ecol. Appl. 10, 423–436.
    https://doi.org/10.1890/1051-0761(2000)010[0423:TVDOSO]2.0.CO;2
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike, NDArray

from wholesoil.depth._beta import DEFAULT_BETA_BOUNDS
from wholesoil.errors import InputDataError

#: Layer bounds [cm] of :func:`layers_from_beta`: the 0–30 cm topsoil and three subsoil layers to
#: 3 m (the SoilGrids/GSOC topsoil depth; Wang H. et al. (2025) uses 20-cm layers to 1 m, pass those
#: instead).
DEFAULT_LAYER_DEPTHS: tuple[float, ...] = (0.0, 30.0, 100.0, 200.0, 300.0)

#: Admissible range of drawn values per input kind: draws outside are clipped to the range and
#: counted (``frame.attrs["clipped_draws"]``). β ≥ 1 is taken as β → 1 (constant density with
#: depth, the Eq. 3 ratio d/d0); densities below 0 as 0.
#: Admissible β of the layer computations: (0, 1.1], the range in which wholesoil.depth fits β
#: (DEFAULT_BETA_BOUNDS). β > 1 (density increasing with depth) is admitted as the fit admits it;
#: β = 1 is Eq. 3's limit d/d0 (density constant with depth).
_BETA_LO = float(np.finfo(float).tiny)
_BETA_HI = float(DEFAULT_BETA_BOUNDS[1])


# --------------------------------------------------------------------------------------------
# Depth layers from β (Wang H. et al. (2025) Eqs. 2–3, §2.6)
# --------------------------------------------------------------------------------------------


def _check_depths(depths: ArrayLike, *, d0: float, layers: bool) -> NDArray[np.float64]:
    d = np.atleast_1d(np.asarray(depths, dtype=float))
    if not (np.isfinite(d0) and d0 > 0):
        raise InputDataError("d0 must be a depth > 0 cm, e.g. 30", field="d0", value=d0)
    if d.ndim != 1 or np.any(~np.isfinite(d)) or np.any(d < 0) or np.any(np.diff(d) <= 0):
        raise InputDataError(
            "depths must be increasing depths >= 0 cm, e.g. (0, 30, 100, 200, 300)",
            field="depths",
            value=tuple(np.atleast_1d(depths).tolist()),
        )
    if layers and d.size < 2:
        raise InputDataError(
            "layers need at least two depth bounds [cm]", field="depths", value=tuple(d.tolist())
        )
    return d


def _check_beta_values(beta: NDArray[np.float64], where: str = "") -> None:
    """β in (0, 1.1], NaN allowed (missing cells); else InputDataError with the count."""
    bad = ~((beta > 0.0) & (beta <= _BETA_HI)) & ~np.isnan(beta)
    n_bad = int(np.count_nonzero(bad))
    if n_bad:
        first = float(beta[bad].flat[0])
        raise InputDataError(
            f"β must be in (0, {_BETA_HI:g}] (the range wholesoil.depth fits): {n_bad} of "
            f"{beta.size} value(s){where} are outside",
            field="beta",
            value=first,
        )


def _cumulative_kernel(beta: Any, topsoil: Any, d0: float, depths: NDArray[np.float64]):
    """X at each depth, depth axis LAST (for apply_ufunc); β checked to lie in (0, 1.1]."""
    b = np.asarray(beta, dtype=float)
    _check_beta_values(b)
    x = np.asarray(topsoil, dtype=float)
    return np.moveaxis(_eq3_ratios(b, d0, depths), 0, -1) * x[..., None]


def _is_xr(*objs: Any) -> bool:
    return any(isinstance(o, xr.DataArray | xr.Dataset) for o in objs)


def cumulative_from_beta(
    beta: ArrayLike | xr.DataArray,
    topsoil: ArrayLike | xr.DataArray,
    d0: float,
    depths: float | Sequence[float] | ArrayLike,
) -> NDArray[np.float64] | xr.DataArray:
    """Cumulative SOC density from the surface to each depth, Wang H. et al. (2025) Eq. 3.

    X_d = (1 − β^d)/(1 − β^d0) · X_d0 (Eq. 3, after Jobbágy & Jackson 2000; Eq. 2 gives the
    cumulative fraction 1 − β^d), computed through expm1 so that it stays accurate as β → 1,
    where the ratio tends to d/d0.

    Parameters
    ----------
    beta : array or DataArray
        β [-], in (0, 1.1] (β ≥ 1: density constant or increasing with depth, as
        :mod:`wholesoil.depth` fits it); NaN marks a missing cell (its outputs are NaN).
    topsoil : array or DataArray
        X_d0, the SOC density of the top ``d0`` cm [Mg C ha⁻¹], broadcast with ``beta``.
    d0 : float
        Depth of the topsoil layer [cm] (20 cm in Wang H. et al. (2025); 30 cm for GSOC/SoilGrids
        maps).
    depths : float or sequence of float
        Target depths d [cm], increasing, ≥ 0.

    Returns
    -------
    ndarray or DataArray
        X_d [Mg C ha⁻¹]. With a scalar ``depths`` the shape of the broadcast inputs; with a
        sequence a leading depth axis (numpy) or a ``depth`` dimension first (xarray) whose
        coordinate is d [cm] (the bottom of the cumulative layer 0–d). Lazy when the inputs are
        dask-backed (β is then checked when blocks are computed).

    Raises
    ------
    InputDataError
        β outside (0, 1.1], naming how many values are, and one of them.
    """
    scalar = np.ndim(depths) == 0
    d = _check_depths(depths, d0=d0, layers=False)
    if not _is_xr(beta, topsoil):
        out = _cumulative_kernel(beta, topsoil, float(d0), d)
        out = np.moveaxis(out, -1, 0)
        return out[0] if scalar else out
    out = xr.apply_ufunc(
        _cumulative_kernel,
        beta,
        topsoil,
        kwargs={"d0": float(d0), "depths": d},
        output_core_dims=[["depth"]],
        dask="parallelized",
        output_dtypes=[float],
        dask_gufunc_kwargs={"output_sizes": {"depth": d.size}},
        keep_attrs=False,
    )
    out = _carry_crs(out.transpose("depth", ...), beta, topsoil)
    out.name = "soc_cumulative"
    out.attrs = {
        **({"grid_mapping": out.attrs["grid_mapping"]} if "grid_mapping" in out.attrs else {}),
        "units": "Mg C ha-1",
        "long_name": "cumulative SOC density from the surface (Wang H. et al. (2025) Eq. 3)",
        "d0_cm": float(d0),
    }
    if scalar:
        return out.isel(depth=0, drop=True).assign_attrs(depth_cm=float(d[0]))
    out = out.assign_coords(depth=("depth", d))
    out["depth"].attrs.update(
        units="cm", positive="down", long_name="bottom of the cumulative layer 0-d"
    )
    return out


def _carry_crs(out: xr.DataArray, *sources: Any) -> xr.DataArray:
    """Give ``out`` the CRS (and grid_mapping) of the first xarray source that has one."""
    for src in sources:
        if isinstance(src, xr.DataArray | xr.Dataset) and src.rio.crs is not None:
            return out.rio.write_crs(src.rio.crs).rio.write_grid_mapping()
    return out


def _depth_coords(bounds: NDArray[np.float64]) -> dict[str, Any]:
    """Depth coordinate (layer midpoints) with the layer bounds as 1-D coordinates.

    A DataArray cannot hold CF's 2-D ``depth_bnds`` (depth, 2) as a coordinate; the bounds ride
    along as ``top`` and ``bottom`` [cm], from which a writer builds ``depth_bnds``
    (see :func:`depth_bounds`).
    """
    tops, bottoms = bounds[:-1], bounds[1:]
    cm = {"units": "cm", "positive": "down"}
    return {
        "depth": xr.Variable(
            ("depth",),
            (tops + bottoms) / 2.0,
            attrs={
                **cm,
                "axis": "Z",
                "standard_name": "depth",
                "long_name": "layer midpoint depth",
            },
        ),
        "top": xr.Variable(("depth",), tops, {**cm, "long_name": "top of the layer"}),
        "bottom": xr.Variable(("depth",), bottoms, {**cm, "long_name": "bottom of the layer"}),
    }


def depth_bounds(da: xr.DataArray | xr.Dataset) -> xr.DataArray:
    """CF bounds ``depth_bnds`` (depth, 2) = (top, bottom) [cm] of a layered grid.

    From ``depth_bnds`` itself (a Dataset holding it) or the ``top``/``bottom``
    coordinates that :func:`layers_from_beta` attaches. Add it to a Dataset with
    ``ds.assign(depth_bnds=depth_bounds(ds))`` and set ``ds.depth.attrs["bounds"]``.
    """
    if "depth_bnds" in da.coords or (isinstance(da, xr.Dataset) and "depth_bnds" in da):
        return da["depth_bnds"]
    if "top" in da.coords and "bottom" in da.coords:
        bnds = np.stack([np.asarray(da["top"].values), np.asarray(da["bottom"].values)], axis=1)
        return xr.DataArray(
            bnds.astype(float),
            dims=("depth", "bnds"),
            coords={"depth": da["depth"]},
            name="depth_bnds",
            attrs={"units": "cm"},
        )
    raise InputDataError(
        "the grid has no depth bounds: expected depth_bnds or top/bottom",
        field="depth",
    )


def layers_from_beta(
    beta: ArrayLike | xr.DataArray,
    topsoil: ArrayLike | xr.DataArray,
    *,
    d0: float = 30.0,
    depths: Sequence[float] | ArrayLike = DEFAULT_LAYER_DEPTHS,
) -> NDArray[np.float64] | xr.DataArray:
    """SOC density of each layer between consecutive ``depths``, by difference
    (Wang H. et al. (2025) §2.6).

    The cumulative density at each bound follows Eq. 3 (:func:`cumulative_from_beta`, with
    X_0 = 0); a layer's density is the cumulative density at its bottom minus that at its top,
    X_bottom − X_top = X_d0 · (β^top − β^bottom)/(1 − β^d0). The layers sum to the cumulative
    density at the deepest bound, and a layer 0–d0 returns the topsoil density itself.

    Parameters
    ----------
    beta : array or DataArray
        β [-], in (0, 1.1]; NaN marks a missing cell.
    topsoil : array or DataArray
        X_d0, SOC density of the top ``d0`` cm [Mg C ha⁻¹].
    d0 : float
        Depth of the topsoil layer [cm].
    depths : sequence of float
        Layer bounds [cm], increasing, ≥ 0 (Wang H. et al. (2025): 0, 20, 40, 60, 80, 100).

    Returns
    -------
    ndarray or DataArray
        Layer SOC densities [Mg C ha⁻¹]. numpy inputs: a leading layer axis. xarray inputs: a
        DataArray named ``soc`` with a ``depth`` dimension first; its coordinate is the layer
        midpoint [cm, positive down] and the coordinates ``top``/``bottom`` [cm]
        carry the layer bounds (:func:`depth_bounds` turns them into CF ``depth_bnds``).
        Lazy for dask-backed inputs.
    """
    bounds = _check_depths(depths, d0=d0, layers=True)
    cum = cumulative_from_beta(beta, topsoil, d0, bounds)
    if not isinstance(cum, xr.DataArray):
        return np.diff(cum, axis=0)
    layers = cum.diff("depth", label="upper").drop_vars("depth")
    layers = layers.assign_coords(_depth_coords(bounds))
    layers.name = "soc"
    layers.attrs = {
        "grid_mapping": cum.attrs.get("grid_mapping", "spatial_ref"),
        "units": "Mg C ha-1",
        "long_name": "SOC density of the layer (Wang H. et al. (2025) Eq. 3, by difference, §2.6)",
        "d0_cm": float(d0),
    }
    return layers


def _eq3_ratios(
    beta: NDArray[np.float64], d0: float, depths: NDArray[np.float64]
) -> NDArray[np.float64]:
    """(1 − β^d)/(1 − β^d0) for every depth (leading axis), Wang H. et al. (2025) Eq. 3, β > 0.

    Through expm1, (1 − β^d) = −expm1(d·ln β), so the ratio is accurate as β → 1 (where it
    tends to d/d0); β = 1 exactly is that limit, and β > 1 (ln β > 0) works the same way.
    """
    log_beta = np.log(beta)
    d = depths.reshape((-1,) + (1,) * beta.ndim)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.expm1(d * log_beta) / np.expm1(d0 * log_beta)
    return np.where(log_beta == 0.0, d / d0, ratio)  # β = 1: the limit d/d0
