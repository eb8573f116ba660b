"""Horizon stocks and ages of many profiles read from a layer table, and their root profiles.

:class:`InputProfiles` reads the layer table of :mod:`wholesoil.radiocarbon._inputs` (stocks and
carbon ages, or Δ14C inverted to ages with the one-pool model) into padded ``(P, H)`` arrays;
:class:`RootProfile` holds the root distribution that allocates I_root to layers. Equations
and references: :mod:`wholesoil.radiocarbon._inputs`.

References
----------
Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from wholesoil.depth._roots import root_fractions
from wholesoil.errors import InputDataError, MissingColumnError
from wholesoil.radiocarbon._inputs import (
    SEED004_DEPTHS,
    HarmonizationWeights,
    HarmonizeMethod,
    harmonization_weights,
)

__all__ = [
    "InputProfiles",
    "RootProfile",
]


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
        rd = _Rows(df, file)
        stock_col, year_col, age_source = _table_columns(df, cls.STOCK_COLUMNS, file)
        top, bot, stock = rd.num("top"), rd.num("bottom"), rd.num(stock_col)
        value_cols = [stock_col] + (["c_age"] if age_source == "c_age" else ["d14c", year_col])
        vals = {c: rd.num(c) for c in value_cols}
        _check_depths(rd, top, bot)
        keep, excl_rows = _usable_layers(rd, top, bot, stock, stock_col, vals, age_source,
                                         missing)
        rows, ids = rd.rows, rd.ids
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
        lay = _Layout(rd, keep, top)
        t_p, b_p = lay.pad(top), lay.pad(bot)
        lay.check_overlaps(rd, t_p, b_p, top)
        sc = [c for c in (*cls.SITE_COLUMNS, *site_columns) if c in df.columns]
        sites = _site_table(rd, lay, sc)
        age_sd = lay.pad(rd.num("c_age_sd")) if "c_age_sd" in df.columns else None
        stock_sd = (lay.pad(rd.num(f"{stock_col}_sd")) if f"{stock_col}_sd" in df.columns
                    else None)
        excluded = pd.DataFrame(excl_rows, columns=["row", "profile_id", "top", "bottom",
                                                    "reason"])
        return cls(lay.profile_ids, t_p, b_p, lay.pad(stock), lay.pad(age_row),
                   lay.n_h.astype(np.int64), sites,
                   age_sd=age_sd, stock_sd=stock_sd, excluded=excluded,
                   age_source=age_source, row=lay.row_numbers(),
                   age_info=None if age_info is None else age_info.loc[lay.idx].reset_index(
                       drop=True))

    def weights(self, depths: Sequence[float] = SEED004_DEPTHS, *,
                method: HarmonizeMethod = "uniform", lam: float = 0.1,
                min_coverage: float = 1.0) -> HarmonizationWeights:
        """:func:`harmonization_weights` of these profiles."""
        return harmonization_weights(self.top, self.bottom, self.n_horizons, depths,
                                     method=method, lam=lam, min_coverage=min_coverage)


class _Rows:
    """A layer table with spreadsheet row numbers (header = row 1) for error messages."""

    def __init__(self, df: pd.DataFrame, file: str | None) -> None:
        self.df, self.file = df, file
        self.rows = np.arange(len(df)) + 2
        for col in ("profile_id", "top", "bottom"):
            if col not in df.columns:
                raise MissingColumnError(f"missing column; have {list(df.columns)}", file=file,
                                         field=col)
        self.ids = df["profile_id"].astype(str).to_numpy()

    def error(self, message: str, i: int, field: str, value: Any) -> InputDataError:
        """An error naming file, row and profile of table row ``i``."""
        return InputDataError(message, file=self.file, row=int(self.rows[i]),
                              profile=self.ids[i], field=field, value=value)

    def num(self, col: str) -> NDArray[np.float64]:
        """Column ``col`` as floats; a value that is not a number raises."""
        df = self.df
        v = pd.to_numeric(df[col], errors="coerce").to_numpy(float)
        bad = df[col].notna().to_numpy() & np.isnan(v)
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise self.error("expected a number", i, col, df[col].iloc[i])
        return v


def _table_columns(df: pd.DataFrame, stock_columns: Sequence[str],
                   file: str | None) -> tuple[str, str | None, str]:
    """The stock column, the observation-year column and where ages come from."""
    stock_col = next((c for c in stock_columns if c in df.columns), None)
    if stock_col is None:
        raise MissingColumnError(
            f"need a stock column [Mg C ha-1], one of {list(stock_columns)}",
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
    return stock_col, year_col, age_source


def _check_depths(rd: _Rows, top: NDArray[np.float64], bot: NDArray[np.float64]) -> None:
    """Depths present, bottom > top, and no layer straddling the mineral surface."""
    df = rd.df
    for col, v in (("top", top), ("bottom", bot)):
        if np.any(np.isnan(v)):
            i = int(np.flatnonzero(np.isnan(v))[0])
            raise rd.error("missing depth", i, col, df[col].iloc[i])
    if np.any(bot <= top):
        i = int(np.flatnonzero(bot <= top)[0])
        raise rd.error(f"expected bottom > top ({top[i]:g} cm)", i, "bottom", bot[i])
    straddle = (top < 0) & (bot > 0)
    if np.any(straddle):
        i = int(np.flatnonzero(straddle)[0])
        raise rd.error(
            "layer straddles the mineral surface (top < 0 < bottom); split it or give "
            "mineral depths", i, "top", top[i])


def _usable_layers(rd: _Rows, top, bot, stock, stock_col: str, vals: Mapping[str, Any],
                   age_source: str, missing: str) -> tuple[NDArray[np.bool_], list[dict]]:
    """Rows kept, and the excluded ones with their reason (organic layers, missing values)."""
    rows, ids = rd.rows, rd.ids
    excl_rows: list[dict[str, Any]] = []
    keep = np.ones(len(rd.df), bool)
    organic = bot <= 0
    for i in np.flatnonzero(organic):
        excl_rows.append({"row": int(rows[i]), "profile_id": ids[i], "top": top[i],
                          "bottom": bot[i], "reason": "above the mineral surface "
                          "(bottom ≤ 0 cm; Wang G. et al. (manuscript) uses mineral soil)"})
    keep &= ~organic
    if np.any(keep & (stock < 0)):
        i = int(np.flatnonzero(keep & (stock < 0))[0])
        raise rd.error("expected a stock ≥ 0 Mg C ha-1", i, stock_col, stock[i])
    if age_source == "c_age":
        age_in = vals["c_age"]
        if np.any(keep & (age_in <= 0)):
            i = int(np.flatnonzero(keep & (age_in <= 0))[0])
            raise rd.error("expected a carbon age > 0 yr", i, "c_age", age_in[i])
    for col, v in vals.items():
        miss = keep & np.isnan(v)
        if not np.any(miss):
            continue
        if missing == "error":
            i = int(np.flatnonzero(miss)[0])
            raise InputDataError(
                "missing value (use missing='exclude' / --exclude-missing to leave such "
                "layers out, listed)", file=rd.file, row=int(rows[i]), profile=ids[i],
                field=col, has_value=False)
        for i in np.flatnonzero(miss):
            excl_rows.append({"row": int(rows[i]), "profile_id": ids[i], "top": top[i],
                              "bottom": bot[i], "reason": f"missing {col}"})
        keep &= ~miss
    return keep, excl_rows


class _Layout:
    """Kept rows ordered (profiles by first appearance, layers by top) and padded to (P, H)."""

    def __init__(self, rd: _Rows, keep: NDArray[np.bool_], top: NDArray[np.float64]) -> None:
        ids = rd.ids
        first = pd.Series(np.arange(len(rd.df))).groupby(ids).transform("min").to_numpy()
        idx = np.flatnonzero(keep)
        idx = idx[np.lexsort((top[idx], first[idx]))]
        self.idx = idx
        self.pid_k = ids[idx]
        uniq, self.start = np.unique(first[idx], return_index=True)
        self.prof_index = np.searchsorted(uniq, first[idx])
        self.pos = np.arange(idx.size) - self.start[self.prof_index]
        self.n_prof = uniq.size
        self.n_h = np.bincount(self.prof_index, minlength=self.n_prof)
        self.h_max = int(self.n_h.max())
        self.profile_ids = self.pid_k[self.start]
        self.rows = rd.rows

    def pad(self, v: NDArray[Any], fill: Any = np.nan) -> NDArray[Any]:
        out = np.full((self.n_prof, self.h_max), fill, dtype=float)
        out[self.prof_index, self.pos] = v[self.idx]
        return out

    def row_numbers(self) -> NDArray[np.int64]:
        row_p = np.full((self.n_prof, self.h_max), -1, dtype=np.int64)
        row_p[self.prof_index, self.pos] = self.rows[self.idx]
        return row_p

    def check_overlaps(self, rd: _Rows, t_p, b_p, top) -> None:
        ov = (t_p[:, 1:] < b_p[:, :-1]) & np.isfinite(t_p[:, 1:])
        if np.any(ov):
            p, h = np.argwhere(ov)[0]
            i = int(self.idx[(self.prof_index == p) & (self.pos == h + 1)][0])
            raise rd.error(f"layer overlaps the one above (bottom {b_p[p, h]:g} cm)", i, "top",
                           top[i])


def _site_table(rd: _Rows, lay: _Layout, columns: Sequence[str]) -> pd.DataFrame:
    """Site columns, one row per profile; a value that differs within a profile raises."""
    df, idx, pid_k = rd.df, lay.idx, lay.pid_k
    sites = pd.DataFrame({"profile_id": lay.profile_ids})
    for c in columns:
        col = df[c].iloc[idx]
        n_uni = col.groupby(pid_k, sort=False).nunique(dropna=True)
        if np.any(n_uni.to_numpy() > 1):
            bad_pid = n_uni.index[np.flatnonzero(n_uni.to_numpy() > 1)[0]]
            sel = idx[pid_k == bad_pid]
            vals_p = df[c].iloc[sel]
            j = int(np.flatnonzero(vals_p.to_numpy() != vals_p.dropna().iloc[0])[0])
            raise InputDataError(
                f"site value differs within the profile (first {vals_p.dropna().iloc[0]!r})",
                file=rd.file, row=int(rd.rows[sel[j]]), profile=bad_pid, field=c,
                value=vals_p.iloc[j])
        firsts = col.groupby(pid_k, sort=False).first()
        sites[c] = firsts.reindex(lay.profile_ids).to_numpy()
    return sites


def _ages_from_d14c(df: pd.DataFrame, keep: NDArray[np.bool_], ids: NDArray[Any],
                    top: NDArray[np.float64], bot: NDArray[np.float64],
                    d14c: NDArray[np.float64], year: NDArray[np.float64],
                    kwargs: dict[str, Any]) -> tuple[NDArray[np.float64], pd.DataFrame]:
    """Carbon ages [yr] of rows from Δ14C with the one-pool inversion (Wang G. et al. (manuscript)
    Eqs. 1–5).

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
