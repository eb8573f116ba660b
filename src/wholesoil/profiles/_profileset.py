"""ProfileSet: a site table and a horizon table with canonical names and units."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from wholesoil.errors import InputDataError, MissingColumnError
from wholesoil.profiles._ranges import VALUE_RANGES as _PHYSICAL_VALUE_RANGES

#: Canonical site columns; only ``profile_id`` is required.
SITE_COLUMNS: dict[str, str] = {
    "profile_id": "profile identifier (str)",
    "lat": "latitude [decimal degrees north, WGS84]",
    "lon": "longitude [decimal degrees east, WGS84]",
    "date": "sampling date (ISO text; year alone allowed)",
    "ecosystem": "land cover / ecosystem class",
    "dataset": "source data set",
}

#: Canonical horizon columns and units; ``profile_id``, ``top`` and ``bottom`` are required.
HORIZON_COLUMNS: dict[str, str] = {
    "profile_id": "profile identifier (str)",
    "top": "upper depth [cm], positive downward",
    "bottom": "lower depth [cm], positive downward",
    "horizon": "horizon designation or layer name",
    "soc": "soil organic carbon [g C kg⁻¹ fine earth]",
    "bd": "bulk density of the fine earth [g cm⁻³]",
    "gravel": "coarse fragments [volume %]",
    "clay": "clay [mass %]",
    "silt": "silt [mass %]",
    "sand": "sand [mass %]",
    "tn": "total nitrogen [g N kg⁻¹]",
    "ph": "pH [-]",
    "soc_density": "SOC density of the layer [Mg C ha⁻¹]",
    "d14c": "radiocarbon Δ14C [‰]",
    "f14c": "fraction modern F14C [-]",
    "obs_year": "year of observation [yr AD]",
}

#: Physically plausible ranges (inclusive) of canonical horizon variables: the bounds of
#: :data:`wholesoil.profiles._ranges.PHYSICAL_RANGES`, where each range has its source.
VALUE_RANGES = _PHYSICAL_VALUE_RANGES

REQUIRED_HORIZON_COLUMNS = ("profile_id", "top", "bottom")


@dataclass
class ProfileSet:
    """Soil profiles: one site row per profile and one horizon row per layer.

    Parameters
    ----------
    sites : pandas.DataFrame
        One row per profile; column ``profile_id`` (unique) plus any of :data:`SITE_COLUMNS`.
    horizons : pandas.DataFrame
        One row per horizon; columns ``profile_id``, ``top``, ``bottom`` [cm] plus canonical
        variables (:data:`HORIZON_COLUMNS`). An optional integer column ``source_row`` keeps
        the row in the original file so later messages can point at it.
    metadata : dict
        ``source``, ``file``, ``citation``, ``licence`` and reader notes.

    Notes
    -----
    The constructor checks types once (required columns present, depths numeric, profile ids
    as text) and sorts horizons by profile and top depth; it never drops or alters values.
    Checking the *content* (overlaps, gaps, ranges) is :func:`wholesoil.profiles.run_qc`'s job.
    """

    sites: pd.DataFrame
    horizons: pd.DataFrame
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        file = self.metadata.get("file")
        for col in REQUIRED_HORIZON_COLUMNS:
            if col not in self.horizons.columns:
                raise MissingColumnError(
                    f"horizon table lacks required column {col!r} "
                    f"(has {sorted(map(str, self.horizons.columns))})",
                    file=file,
                    field=col,
                )
        if "profile_id" not in self.sites.columns:
            raise MissingColumnError("site table lacks required column 'profile_id'", file=file)
        h = self.horizons.copy()
        h["profile_id"] = h["profile_id"].astype(str)
        for col in ("top", "bottom"):
            h[col] = _as_numeric(h[col], col, h, file)
        s = self.sites.copy()
        s["profile_id"] = s["profile_id"].astype(str)
        h = h.sort_values(["profile_id", "top", "bottom"], kind="stable", na_position="last")
        self.horizons = h.reset_index(drop=True)
        self.sites = s.reset_index(drop=True)

    # ------------------------------------------------------------------ views
    @property
    def profile_ids(self) -> NDArray[np.str_]:
        """Profile identifiers in site-table order."""
        return self.sites["profile_id"].to_numpy(dtype=str)

    @property
    def n_profiles(self) -> int:
        """Number of profiles (site rows)."""
        return len(self.sites)

    @property
    def n_horizons(self) -> int:
        """Number of horizon rows."""
        return len(self.horizons)

    @property
    def variables(self) -> list[str]:
        """Numeric horizon variables other than depths, bookkeeping columns and flags."""
        skip = {"profile_id", "top", "bottom", "source_row", "horizon"}
        return [
            c
            for c in self.horizons.columns
            if c not in skip
            and pd.api.types.is_numeric_dtype(self.horizons[c])
            and not pd.api.types.is_bool_dtype(self.horizons[c])
        ]

    def __repr__(self) -> str:
        src = self.metadata.get("source", "?")
        return (
            f"ProfileSet(source={src!r}, profiles={self.n_profiles}, "
            f"horizons={self.n_horizons}, variables={self.variables})"
        )

    def to_padded(self, variable: str) -> PaddedProfiles:
        """Horizons of ``variable`` as padded arrays for the vectorized kernels.

        Horizons whose value is NaN are left out (they carry no information for a fit);
        profiles are in order of first appearance in the (sorted) horizon table.
        """
        if variable not in self.horizons.columns:
            raise MissingColumnError(
                f"no variable {variable!r} in horizons (has {self.variables})",
                file=self.metadata.get("file"),
                field=variable,
            )
        h = self.horizons
        return pad_horizons(
            h["profile_id"].to_numpy(),
            h["top"].to_numpy(float),
            h["bottom"].to_numpy(float),
            h[variable].to_numpy(float),
        )

    # ------------------------------------------------------------- selection
    def select(self, profile_ids: Iterable[str]) -> ProfileSet:
        """A new ProfileSet restricted to ``profile_ids`` (sites and horizons)."""
        keep = set(map(str, profile_ids))
        return ProfileSet(
            self.sites[self.sites["profile_id"].isin(keep)],
            self.horizons[self.horizons["profile_id"].isin(keep)],
            dict(self.metadata),
        )

    def with_horizons(self, horizons: pd.DataFrame, **metadata: Any) -> ProfileSet:
        """A new ProfileSet with the same sites and new horizons."""
        return ProfileSet(self.sites, horizons, {**self.metadata, **metadata})

    @classmethod
    def from_tables(
        cls,
        horizons: pd.DataFrame,
        sites: pd.DataFrame | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> ProfileSet:
        """Build from a horizon table and an optional site table (derived from ids if absent)."""
        if sites is None:
            if "profile_id" not in horizons.columns:
                raise MissingColumnError(
                    "horizon table lacks required column 'profile_id'",
                    file=(metadata or {}).get("file"),
                    field="profile_id",
                )
            ids = pd.unique(horizons["profile_id"].astype(str))
            sites = pd.DataFrame({"profile_id": ids})
        return cls(sites, horizons, dict(metadata or {}))


@dataclass(frozen=True)
class PaddedProfiles:
    """Horizons of one variable as ``(n_profiles, max_horizons)`` arrays, NaN-padded.

    Attributes
    ----------
    profile_id : ndarray of str, shape (P,)
    top, bottom, value : ndarray of float, shape (P, H)
        Depths [cm] and values; positions ``>= n_horizons[p]`` are NaN.
    n_horizons : ndarray of int, shape (P,)
    """

    profile_id: NDArray[Any]
    top: NDArray[np.float64]
    bottom: NDArray[np.float64]
    value: NDArray[np.float64]
    n_horizons: NDArray[np.int64]


def pad_horizons(
    profile_id: NDArray[Any],
    top: NDArray[np.float64],
    bottom: NDArray[np.float64],
    value: NDArray[np.float64],
) -> PaddedProfiles:
    """Group long-format horizons into NaN-padded ``(P, H)`` arrays without a Python loop.

    Rows must already be sorted by profile, then top depth. Rows with a NaN value are skipped.
    """
    profile_id = np.asarray(profile_id)
    top = np.asarray(top, dtype=float)
    bottom = np.asarray(bottom, dtype=float)
    value = np.asarray(value, dtype=float)
    ok = np.isfinite(value) & np.isfinite(top) & np.isfinite(bottom)
    ids_all, first = np.unique(profile_id, return_index=True)
    order = np.argsort(first, kind="stable")
    ids = ids_all[order]
    pid, t, b, v = profile_id[ok], top[ok], bottom[ok], value[ok]
    # profile index in order of first appearance
    idx_sorted = np.searchsorted(ids_all, pid)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    pidx = rank[idx_sorted]
    counts = np.bincount(pidx, minlength=ids.size)
    hmax = int(counts.max()) if counts.size else 0
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    # stable sort by profile index keeps within-profile order
    srt = np.argsort(pidx, kind="stable")
    pidx_s = pidx[srt]
    col = np.arange(pidx_s.size) - starts[pidx_s]
    shape = (ids.size, max(hmax, 1))
    T = np.full(shape, np.nan)
    B = np.full(shape, np.nan)
    V = np.full(shape, np.nan)
    T[pidx_s, col] = t[srt]
    B[pidx_s, col] = b[srt]
    V[pidx_s, col] = v[srt]
    return PaddedProfiles(ids, T, B, V, counts.astype(np.int64))


def _as_numeric(s: pd.Series, col: str, table: pd.DataFrame, file: str | None) -> pd.Series:
    """Convert a column to float, naming the first cell that is not a number."""
    if pd.api.types.is_numeric_dtype(s):
        return s.astype(float)
    conv = pd.to_numeric(s, errors="coerce")
    bad = conv.isna() & s.notna() & (s.astype(str).str.strip() != "")
    if bad.any():
        i = bad.to_numpy().nonzero()[0][0]
        row = table["source_row"].iloc[i] if "source_row" in table.columns else None
        raise InputDataError(
            "expected a number",
            file=file,
            row=None if row is None else int(row),
            profile=table["profile_id"].iloc[i],
            field=col,
            value=s.iloc[i],
        )
    return conv.astype(float)
