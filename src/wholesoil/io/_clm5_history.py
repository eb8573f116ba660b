"""CLM5 history NetCDF files → the forcing of the process models (Tao et al. (EarthArXiv) Suppl.
Table 3).

Moved here from :mod:`wholesoil.models._environment` so that models import no reader. The reader
returns a :class:`wholesoil.models._environment.Forcing` (the models' input record, imported when
the reader runs, as the profile readers return a :class:`~wholesoil.profiles.ProfileSet`); it is
registered in :mod:`wholesoil.io._registry` as ``clm5-history``.

References
----------
Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError

if TYPE_CHECKING:
    from wholesoil.models._environment import Forcing

__all__ = ["CLM5_HISTORY_VARIABLES", "read_clm5_history"]

#: Seconds in CLM5's 365-day ("noleap") year, to convert g C m⁻² s⁻¹ to g C m⁻² yr⁻¹ (the value
#: of :data:`wholesoil.models._environment.SECONDS_PER_YEAR`).
SECONDS_PER_YEAR: float = 365.0 * 86400.0

#: CLM5 history variables read by :func:`read_clm5_history` → canonical field, accepted units
#: and the factor/offset to canonical units (Tao et al. (EarthArXiv) Supplementary Table 3).
CLM5_HISTORY_VARIABLES: dict[str, tuple[str, dict[str, tuple[float, float]]]] = {
    "TSOI": ("tsoi", {"K": (1.0, -273.15), "degC": (1.0, 0.0), "C": (1.0, 0.0)}),
    "SOILPSI": ("soilpsi", {"MPa": (1.0, 0.0)}),
    "NPP": (
        "npp",
        {
            "gC/m^2/s": (SECONDS_PER_YEAR, 0.0),
            "gC/m2/s": (SECONDS_PER_YEAR, 0.0),
            "gC/m^2/yr": (1.0, 0.0),
        },
    ),
    "CELLSAND": ("sand", {"percent": (1.0, 0.0), "%": (1.0, 0.0)}),
    "ALTMAX": ("altmax", {"m": (1.0, 0.0)}),
    "ALTMAX_LASTYEAR": ("altmax_lastyear", {"m": (1.0, 0.0)}),
    "O_SCALAR": ("o_scalar", {"proportion": (1.0, 0.0), "1": (1.0, 0.0), "": (1.0, 0.0)}),
    "FPI_vr": ("fpi_vr", {"proportion": (1.0, 0.0), "1": (1.0, 0.0), "": (1.0, 0.0)}),
    "nbedrock": ("nbedrock", {"": (1.0, 0.0), "1": (1.0, 0.0), "unitless": (1.0, 0.0)}),
}

_LEVEL_DIMS = ("levgrnd", "levsoi", "levdcmp")
_REQUIRED = ("TSOI", "SOILPSI", "NPP", "CELLSAND", "ALTMAX", "ALTMAX_LASTYEAR")


def _read_variable(nc: Any, var: str, path: str) -> tuple[NDArray, tuple[str, ...]]:
    v = nc.variables[var]
    v.set_auto_maskandscale(True)
    data = np.ma.filled(np.ma.asarray(v[...]).astype(float), np.nan)
    units = str(getattr(v, "units", "")).strip()
    _, table = CLM5_HISTORY_VARIABLES[var]
    if units not in table:
        raise InputDataError(
            f"{var} has units {units!r}; expected one of {sorted(table)}",
            file=path,
            field=var,
            value=units,
        )
    factor, offset = table[units]
    return data * factor + offset, tuple(v.dimensions)


def _to_cells(data: NDArray, dims: tuple[str, ...], var: str, path: str) -> NDArray:
    """Reorder to (cells, [time], [level]) with the spatial dims flattened to one cells axis."""
    time = [d for d in dims if d == "time"]
    level = [d for d in dims if d in _LEVEL_DIMS]
    space = [d for d in dims if d not in time + level]
    if not space:
        raise InputDataError(
            "expected a spatial dimension (lndgrid, or lat and lon)",
            file=path,
            field=var,
            value=dims,
        )
    order = [dims.index(d) for d in space + time + level]
    a = np.transpose(data, order)
    n_cells = int(np.prod(a.shape[: len(space)]))
    return a.reshape(n_cells, *a.shape[len(space) :])


def _cell_coords(nc: Any, dims: tuple[str, ...]) -> dict[str, NDArray]:
    space = [d for d in dims if d != "time" and d not in _LEVEL_DIMS]
    out: dict[str, NDArray] = {}
    if space == ["lat", "lon"] and "lat" in nc.variables and "lon" in nc.variables:
        lat, lon = np.asarray(nc.variables["lat"][:]), np.asarray(nc.variables["lon"][:])
        la, lo = np.meshgrid(lat, lon, indexing="ij")
        out = {"lat": la.ravel(), "lon": lo.ravel()}
    elif len(space) == 1:
        for c in ("lat", "lon"):
            if c in nc.variables and nc.variables[c].dimensions == (space[0],):
                out[c] = np.asarray(nc.variables[c][:], dtype=float)
    return out


def _mean_sand(sand_layers: NDArray, n_layers: int) -> NDArray:
    """Sand [%] per cell: the mean over the first ``n_layers`` soil layers with data (and over
    time when the file has a time axis), as PRODA does; NaN where no layer has data."""
    n_cells = sand_layers.shape[0]
    while sand_layers.ndim > 2:  # (cells, time, levels) → mean over time
        sand_layers = sand_layers.mean(axis=1)
    sand_layers = sand_layers.reshape(n_cells, -1)[:, :n_layers]
    ok = np.isfinite(sand_layers)
    n_ok = ok.sum(axis=1)
    return np.where(
        n_ok > 0, np.where(ok, sand_layers, 0.0).sum(axis=1) / np.maximum(n_ok, 1), np.nan
    )


def _fill_below_bedrock(data: dict[str, NDArray], nb: NDArray, n_layers: int) -> int:
    """Fill missing values of the layered variables in bedrock layers (index ≥ nb, carbon-free)
    from the deepest soil layer, in place; returns how many values were filled."""
    below = np.arange(n_layers) >= nb[:, None, None]  # (cells, 1, layers)
    filled = 0
    for v in ("TSOI", "SOILPSI", "O_SCALAR", "FPI_vr"):
        if v not in data:
            continue
        a = data[v]
        deepest = np.take_along_axis(a, (nb - 1)[:, None, None], axis=-1)
        fill = below & np.isnan(a)
        filled += int(fill.sum())
        data[v] = np.where(fill, deepest, a)
    return filled


def read_clm5_history(
    path_or_paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    nbedrock: ArrayLike | None = None,
    leaf_fraction: ArrayLike | None = None,
) -> Forcing:
    """Read the forcing of Tao et al. (EarthArXiv) (Supplementary Table 3) from CLM5 history NetCDF
    files.

    Variables and conversions (:data:`CLM5_HISTORY_VARIABLES`): TSOI [K → °C], SOILPSI [MPa],
    NPP [g C m⁻² s⁻¹ → g C m⁻² yr⁻¹, 365-day year], CELLSAND [%, mean over the soil layers as
    PRODA does], ALTMAX and ALTMAX_LASTYEAR [m], and if present O_SCALAR, FPI_vr [-] and
    ``nbedrock``. Units are read from each variable's ``units`` attribute and anything else is
    refused. Dimensions may be ``(time, lev…, lndgrid)`` or ``(time, lev…, lat, lon)`` in any
    order; the first 20 levels (``levgrnd``/``levsoi``/``levdcmp``) are the decomposition layers.

    Several files (e.g. one per month) are joined along ``time`` in the order of their ``time``
    values. Cells with no TSOI at all (ocean) are left out; ``attrs["cell_index"]`` gives the
    flattened index of the cells kept, ``attrs["lat"]``/``["lon"]`` their coordinates when the
    file has them. Missing values in bedrock layers (index ≥ nbedrock, carbon-free) are filled
    from the deepest soil layer and counted in ``attrs["filled_below_bedrock"]``; any other
    missing value is an error.

    Parameters
    ----------
    path_or_paths : path or sequence of paths
    nbedrock : array (n_cells,) or int, optional
        Used when the files have no ``nbedrock`` variable (CLM5 does not write it by default);
        required in that case.
    leaf_fraction : float or array, optional
        Default :data:`wholesoil.models._environment.LEAF_FRACTION`.

    Returns
    -------
    Forcing
        Batch shape ``(n_cells,)``, months = the time steps of the files.
    """
    import netCDF4

    from wholesoil.models._environment import LEAF_FRACTION, Forcing, _array, _check_nbedrock
    from wholesoil.models._vertical import N_LAYERS

    if leaf_fraction is None:
        leaf_fraction = LEAF_FRACTION

    paths = [path_or_paths] if isinstance(path_or_paths, str | os.PathLike) else list(path_or_paths)
    if not paths:
        raise InputDataError("no CLM5 history file given", field="path_or_paths", value=paths)
    parts: dict[str, list[NDArray]] = {}
    times: list[NDArray] = []
    coords: dict[str, NDArray] = {}
    static: dict[str, NDArray] = {}
    for p in paths:
        p = os.fspath(p)
        with netCDF4.Dataset(p) as nc:
            missing = [v for v in _REQUIRED if v not in nc.variables]
            if missing:
                raise InputDataError(
                    f"CLM5 history file lacks {missing} (Tao et al. (EarthArXiv) Supplementary "
                    f"Table 3)",
                    file=p,
                    field=missing[0],
                )
            n_t = len(nc.dimensions["time"]) if "time" in nc.dimensions else 1
            times.append(
                np.asarray(nc.variables["time"][:], dtype=float)
                if "time" in nc.variables
                else np.full(n_t, np.nan)
            )
            for var in CLM5_HISTORY_VARIABLES:
                if var not in nc.variables:
                    continue
                data, dims = _read_variable(nc, var, p)
                cells = _to_cells(data, dims, var, p)
                if var in ("CELLSAND", "nbedrock"):
                    static.setdefault(var, cells)  # time-invariant: first file
                    continue
                if "time" not in dims:
                    cells = cells[:, None]
                parts.setdefault(var, []).append(cells)
                if var == "TSOI" and not coords:
                    coords = _cell_coords(nc, dims)
    data = {v: np.concatenate(a, axis=1) for v, a in parts.items()}
    t = np.concatenate(times)
    if not np.isnan(t).any():
        order = np.argsort(t, kind="stable")
        data = {v: a[:, order] for v, a in data.items()}
    for v in ("O_SCALAR", "FPI_vr"):
        if v in data and len(parts[v]) != len(paths):
            raise InputDataError(f"{v} is in some files but not all", field=v)
    for v in ("TSOI", "SOILPSI", "O_SCALAR", "FPI_vr"):
        if v in data:
            if data[v].ndim != 3 or data[v].shape[-1] < N_LAYERS:
                raise InputDataError(
                    f"{v} must have at least {N_LAYERS} levels", field=v, value=data[v].shape
                )
            data[v] = data[v][..., :N_LAYERS]

    land = ~np.all(np.isnan(data["TSOI"]), axis=(1, 2))
    keep = np.flatnonzero(land)
    attrs: dict[str, Any] = {
        "source": [os.fspath(p) for p in paths],
        "reader": "wholesoil.io._clm5_history.read_clm5_history",
        "conversions": "TSOI K→°C; NPP g C m-2 s-1 × 31,536,000 → g C m-2 yr-1",
        "cell_index": keep,
        "cells_without_data": int((~land).sum()),
        **{k: v[keep] for k, v in coords.items()},
    }
    data = {v: a[keep] for v, a in data.items()}
    sand = _mean_sand(static["CELLSAND"][keep], N_LAYERS)

    if "nbedrock" in static:
        nb = static["nbedrock"][keep].reshape(len(keep), -1)[:, 0]
    elif nbedrock is not None:
        nb = np.broadcast_to(_array(nbedrock, "nbedrock"), (len(keep),))
    else:
        raise InputDataError(
            "the history files have no 'nbedrock' variable; pass nbedrock= (index of the first "
            "layer below bedrock per cell, 20 = none)",
            file=os.fspath(paths[0]),
            field="nbedrock",
        )
    nb = _check_nbedrock(np.asarray(nb, dtype=float), N_LAYERS)
    attrs["filled_below_bedrock"] = _fill_below_bedrock(data, nb, N_LAYERS)

    return Forcing(
        tsoi=data["TSOI"],
        soilpsi=data["SOILPSI"],
        npp=data["NPP"][..., 0] if data["NPP"].ndim == 3 else data["NPP"],
        sand=sand,
        altmax=data["ALTMAX"],
        altmax_lastyear=data["ALTMAX_LASTYEAR"],
        nbedrock=nb,
        o_scalar=data.get("O_SCALAR"),
        fpi_vr=data.get("FPI_vr"),
        leaf_fraction=leaf_fraction,
        attrs=attrs,
    )


# ----------------------------------------------------------------------------- from climate
