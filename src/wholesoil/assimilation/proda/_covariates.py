"""Environmental covariates of profiles and grid cells for PRODA's network (Tao et al. (EarthArXiv)
§2.6).

PRODA feeds the network ~60 environmental variables per profile (Tao et al. (EarthArXiv)
Supplementary Table 4), "normalized … to the interval of [0, 1] according to their maximum and
minimum values" (§2.6)::

    x̃_c = clip((x_c − min_c) / (max_c − min_c), 0, 1)                                 (S1)

with min and max taken over the training profiles and reused, unchanged, for every grid cell:
a cell outside the training range is clipped to the nearest end (the public PRODA code scales
sites and grid cells with the same max–min table). A covariate that is constant over the
training profiles carries no information; it maps to 0 everywhere (Eq. S1 would divide by 0).

Profiles come as a table (one row per profile, a ``profile_id`` column and one column per
covariate); grids as the canonical :class:`xarray.Dataset` of :func:`wholesoil.io.read_grid` or
:func:`wholesoil.datasets.load_climate_grid`. Missing covariates are errors that name what is
missing: the profiles (every one, up to a listed number) with the covariate(s) they lack, or the
covariate(s) a grid does not have. Grid cells where any covariate is NaN (sea, no data) are not
predicted; they come out NaN.

References
----------
Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from wholesoil._atomic import write_json
from wholesoil.errors import InputDataError, MissingColumnError

__all__ = [
    "Scaler",
    "grid_covariates",
    "profile_covariates",
    "sample_grid",
]

FloatArray = NDArray[np.float64]
_MAX_LISTED = 10


@dataclass(frozen=True, eq=False)
class Scaler:
    """Min–max scaling with clipping, Eq. S1, fitted on the training profiles.

    Attributes
    ----------
    names : tuple of str
        Covariates, in the order of the columns it scales.
    minimum, maximum : array (c,)
        Training range of each covariate, in its own units.
    """

    names: tuple[str, ...]
    minimum: FloatArray
    maximum: FloatArray

    def __post_init__(self) -> None:
        names = tuple(str(n) for n in self.names)
        lo = np.asarray(self.minimum, dtype=float).reshape(-1)
        hi = np.asarray(self.maximum, dtype=float).reshape(-1)
        if lo.shape != (len(names),) or hi.shape != (len(names),):
            raise InputDataError(f"minimum and maximum need one value per covariate "
                                 f"({len(names)})", field="minimum", value=lo.shape)
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(hi >= lo)):
            bad = int(np.flatnonzero(~(np.isfinite(lo) & np.isfinite(hi) & (hi >= lo)))[0])
            raise InputDataError("scaler range must be finite with maximum >= minimum",
                                 field=names[bad], value=(float(lo[bad]), float(hi[bad])))
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "minimum", lo)
        object.__setattr__(self, "maximum", hi)

    @classmethod
    def fit(cls, X: ArrayLike, names: Sequence[str]) -> Scaler:
        """Range of each column of ``X`` (n, c), which must be finite."""
        a = np.asarray(X, dtype=float)
        if a.ndim != 2 or a.shape[1] != len(names) or a.shape[0] == 0:
            raise InputDataError(f"expected covariates (n > 0, c = {len(names)})", field="X",
                                 value=a.shape)
        if not np.all(np.isfinite(a)):
            j = int(np.flatnonzero(~np.all(np.isfinite(a), axis=0))[0])
            raise InputDataError("covariates must be finite to fit the scaler",
                                 field=str(names[j]))
        return cls(tuple(names), a.min(axis=0), a.max(axis=0))

    def transform(self, X: ArrayLike) -> FloatArray:
        """Eq. S1: scale to [0, 1] by the training range and clip; NaN stays NaN."""
        a = np.asarray(X, dtype=float)
        if a.shape[-1:] != (len(self.names),):
            raise InputDataError(f"expected {len(self.names)} covariates on the last axis "
                                 f"({list(self.names)})", field="X", value=a.shape)
        span = self.maximum - self.minimum
        safe = np.where(span > 0, span, 1.0)
        z = np.where(span > 0, (a - self.minimum) / safe, 0.0)
        return np.where(np.isnan(a), np.nan, np.clip(z, 0.0, 1.0))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``{"names": [...], "minimum": [...], "maximum": [...]}``."""
        return {"names": list(self.names), "minimum": self.minimum.tolist(),
                "maximum": self.maximum.tolist()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Scaler:
        """Inverse of :meth:`to_dict`."""
        for key in ("names", "minimum", "maximum"):
            if key not in d:
                raise InputDataError(f"scaler record lacks {key!r}", field=key)
        return cls(tuple(d["names"]), np.asarray(d["minimum"], float),
                   np.asarray(d["maximum"], float))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_dict` as JSON, atomically."""
        write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Scaler:
        """Read a scaler written by :meth:`save`."""
        with open(path, encoding="utf-8") as fh:
            return cls.from_dict(json.load(fh))


def _listing(items: Sequence[Any]) -> str:
    shown = ", ".join(str(i) for i in items[:_MAX_LISTED])
    more = len(items) - _MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def profile_covariates(
    sites: pd.DataFrame,
    names: Sequence[str],
    *,
    profile_ids: ArrayLike | None = None,
    id_column: str = "profile_id",
    source: str | None = None,
) -> tuple[NDArray[Any], FloatArray]:
    """Covariate matrix of profiles, in the order of ``profile_ids`` (or of the table).

    Parameters
    ----------
    sites : DataFrame
        One row per profile: ``id_column`` and the covariate columns (numbers, any units).
    names : sequence of str
        Covariates to take, in order.
    profile_ids : array, optional
        Profiles wanted (e.g. the accepted calibrations); all must be in ``sites``.
    id_column : str
    source : str, optional
        File name, for the messages.

    Returns
    -------
    ids : array (n,)
    X : array (n, c)
        Finite values in the covariates' own units.

    Raises
    ------
    MissingColumnError
        Covariate columns absent from the table (all named, with the columns present).
    InputDataError
        A profile id repeated in ``sites``; profiles absent from ``sites``; profiles with a
        missing (NaN) or non-numeric covariate — every such profile and covariate is named.
    """
    names = [str(n) for n in names]
    if not names:
        raise InputDataError("expected at least one covariate", file=source, field="names")
    need = [id_column, *names]
    missing = [c for c in need if c not in sites.columns]
    if missing:
        raise MissingColumnError(
            f"covariate column(s) {missing} not in the table; it has {list(sites.columns)}",
            file=source, field=missing[0],
        )
    dup = sites[id_column].duplicated()
    if dup.any():
        raise InputDataError("a profile appears more than once in the covariate table",
                             file=source, field=id_column,
                             value=sites.loc[dup, id_column].iloc[0])
    table = sites.set_index(id_column)
    if profile_ids is None:
        ids = table.index.to_numpy()
    else:
        ids = np.asarray(profile_ids)
        absent = [i for i in ids if i not in table.index]
        if absent:
            raise InputDataError(
                f"{len(absent)} profile(s) have no row in the covariate table: "
                f"{_listing(absent)}", file=source, field=id_column,
            )
    sub = table.loc[ids, names]
    X = sub.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(X)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        detail = [f"{ids[r]} ({', '.join(n for n, b in zip(names, bad[r], strict=True) if b)})"
                  for r in rows]
        raise InputDataError(
            f"{len(rows)} profile(s) lack covariate values (missing, infinite or not a "
            f"number): {_listing(detail)}; fill them or exclude these profiles explicitly",
            file=source, field=names[int(np.flatnonzero(bad[rows[0]])[0])],
        )
    return ids, X


def grid_covariates(
    ds: Any, names: Sequence[str], *, source: str = "grid"
) -> tuple[FloatArray, NDArray[np.bool_], tuple[int, ...], tuple[str, ...]]:
    """Covariates of every grid cell, flattened to (cells, c).

    Parameters
    ----------
    ds : xarray.Dataset
        Canonical grid (2-D variables on ``(y, x)``).
    names : sequence of str
        Covariates the network needs, in order.
    source : str
        Where the grid came from (named in errors).

    Returns
    -------
    X : array (cells, c)
    valid : array (cells,) bool
        Cells where every covariate is finite.
    shape : tuple
        The grid's spatial shape, to unflatten.
    dims : tuple of str
        Its spatial dims.

    Raises
    ------
    InputDataError
        Naming the covariate(s) the grid lacks and listing its variables, or a covariate whose
        dims differ from the first one's.
    """
    from wholesoil.io import check_grid_features

    names = [str(n) for n in names]
    check_grid_features(ds, names, source=source)
    first = ds[names[0]]
    dims = tuple(str(d) for d in first.dims)
    for n in names[1:]:
        if tuple(str(d) for d in ds[n].dims) != dims:
            raise InputDataError(f"covariate {n!r} has dims {ds[n].dims}, expected {dims} "
                                 f"like {names[0]!r}", file=source, field=n)
    shape = tuple(int(s) for s in first.shape)
    X = np.stack([np.asarray(ds[n].values, dtype=float).reshape(-1) for n in names], axis=-1)
    valid = np.all(np.isfinite(X), axis=-1)
    return X, valid, shape, dims


def sample_grid(ds: Any, lat: ArrayLike, lon: ArrayLike, names: Sequence[str], *,
                source: str = "grid") -> FloatArray:
    """Covariates of the grid cells nearest to sites (geographic grid, x = lon, y = lat).

    Parameters
    ----------
    ds : xarray.Dataset
        Canonical geographic grid, e.g. :func:`wholesoil.datasets.load_climate_grid`.
    lat, lon : array (n,) [degrees]
    names : sequence of str

    Returns
    -------
    array (n, c)
        NaN where the nearest cell has no data (then :func:`profile_covariates` names the site).
    """
    from wholesoil.io import check_grid_features

    names = [str(n) for n in names]
    check_grid_features(ds, names, source=source)
    la = np.asarray(lat, dtype=float)
    lo = np.asarray(lon, dtype=float)
    if la.shape != lo.shape or la.ndim != 1:
        raise InputDataError("lat and lon must be 1-D of equal length", field="lat",
                             value=(la.shape, lo.shape))
    if np.any(~np.isfinite(la) | ~np.isfinite(lo)):
        i = int(np.flatnonzero(~np.isfinite(la) | ~np.isfinite(lo))[0])
        raise InputDataError(f"site {i} has no coordinates", field="lat",
                             value=(float(la[i]), float(lo[i])))
    ys = np.asarray(ds["y"].values, dtype=float)
    xs = np.asarray(ds["x"].values, dtype=float)
    iy = np.abs(ys[None, :] - la[:, None]).argmin(axis=1)
    dx = np.abs(((xs[None, :] - lo[:, None]) + 180.0) % 360.0 - 180.0)
    ix = dx.argmin(axis=1)
    return np.stack([np.asarray(ds[n].transpose("y", "x").values, float)[iy, ix]
                     for n in names], axis=-1)
