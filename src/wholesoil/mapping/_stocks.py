"""Regional SOC stocks with Monte Carlo intervals (Eq. 6 and §2.7 of Wang et al. 2025).

Cell areas live in :mod:`wholesoil.mapping._cells`, depth layers from β in
:mod:`wholesoil.mapping._beta_layers` and per-cell input distributions in
:mod:`wholesoil.mapping._cell_distribution`; all are re-exported here, where users import them.

Wang H. et al. (2025) map β and the topsoil SOC density, extend the topsoil density to depth with
Eq. 3, split it into layers by difference (§2.6) and multiply layer densities by the area of each
ecosystem (Eq. 6); a Monte Carlo simulation gives the 2.5 % and 97.5 % percentiles of the densities
and stocks (§2.7). This module does the grid part of that chain:

* :func:`cell_area` — the area of each grid cell [m²], exact on the sphere for geographic grids
  (Eq. A1 below);
* :func:`cumulative_from_beta` and :func:`layers_from_beta` — Wang H. et al. (2025) Eqs. 2–3 on
  grids (numpy, xarray, lazily on dask-backed xarray);
* :func:`stock_totals` and :func:`stock_totals_from_beta` — Eq. 6 summed by region ×
  ecosystem × layer, with Monte Carlo intervals propagated from per-cell uncertainty
  (:class:`CellDistribution`).

Equations
---------
(A1) Area of a cell between longitudes λ₁, λ₂ and latitudes φ₁, φ₂ on a sphere of radius R:
     A = R² · |λ₂ − λ₁| · |sin φ₂ − sin φ₁|   (λ in radians; Archimedes' hat-box theorem).
(2)  Y = 1 − β^d, the cumulative fraction of the SOC stock above d [cm] (Wang H. et al. (2025) Eq.
2). (3)  X_d = (1 − β^d) / (1 − β^d0) · X_d0 (Wang H. et al. (2025) Eq. 3, for any target depth d).
(6)  stock [Pg C] = Σ_cells density [Mg C ha⁻¹] × area [ha] × fraction [-] × 10⁻⁹
(Wang H. et al. (2025)
     Eq. 6, with S_ecosystem = cell area × the cell's ecosystem fraction).

References
----------
Wang H. et al. (2025), Global patterns of SOC distribution in the 20–100 cm soil profile for
different ecosystems (ESSD), §2.3, §2.6–2.7, Eqs. 2, 3 and 6.
Jobbágy, E. G. & Jackson, R. B. (2000). Ecol. Appl. 10, 423–436.
https://doi.org/10.1890/1051-0761(2000)010[0423:TVDOSO]2.0.CO;2
Snyder, J. P. (1987). Map Projections — A Working Manual. USGS Professional Paper 1395, p. 16
(authalic radius of an ellipsoid). https://doi.org/10.3133/pp1395

Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023
"""

from __future__ import annotations

import itertools
import os
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import ArrayLike, NDArray

from wholesoil._checkpoint import CheckpointStore
from wholesoil._checksum import sha256_arrays
from wholesoil.errors import InputDataError
from wholesoil.mapping._beta_layers import (  # noqa: F401  (re-exported: public from here)
    _BETA_HI,
    _BETA_LO,
    DEFAULT_LAYER_DEPTHS,
    _check_beta_values,
    _check_depths,
    _eq3_ratios,
    cumulative_from_beta,
    depth_bounds,
    layers_from_beta,
)
from wholesoil.mapping._cell_distribution import CellDistribution
from wholesoil.mapping._cells import (  # noqa: F401  (re-exported: public from here)
    AUTHALIC_RADIUS_M,
    _axis_spacing,
    _grid_crs,
    _yx_chunks,
    cell_area,
)
from wholesoil.mapping._uncertainty import _keyed_normals, _splitmix64, interval_from_draws

#: Unit conversions used by Eq. 6.
M2_PER_HA: float = 1.0e4
MG_PER_PG: float = 1.0e9
HA_PER_KM2: float = 100.0

_STOCK_COLUMNS = [
    "region",
    "ecosystem",
    "top_cm",
    "bottom_cm",
    "area_km2",
    "stock_pg",
    "lower_pg",
    "upper_pg",
    "plugin_pg",
    "level",
    "n_draws",
    "correlation",
    "n_cells",
    "missing_area_km2",
]


# --------------------------------------------------------------------------------------------
# Eq. 6 totals with Monte Carlo intervals
# --------------------------------------------------------------------------------------------


@dataclass
class _Input:
    """One drawn or fixed input of the layer function, as 3-D (k, y, x) views."""

    name: str  # argument name of the layer function
    label: str  # identity of the map: draws of one map are shared by every ecosystem using it
    mean: xr.DataArray
    sd: xr.DataArray | None
    draws: xr.DataArray | None
    lo: float
    hi: float

    @property
    def random(self) -> bool:
        return self.sd is not None or self.draws is not None


def _as_input(
    name: str, label: str, value: Any, lo: float, hi: float, made: dict[str, _Input]
) -> _Input:
    """The input of one map, made once per label so that ecosystems sharing a map share it."""
    if label not in made:
        made[label] = _make_input(name, label, value, lo, hi)
    return made[label]


def _make_input(name: str, label: str, value: Any, lo: float, hi: float) -> _Input:
    if isinstance(value, CellDistribution):
        return _Input(name, label, value.mean, value.sd, value.draws, lo, hi)
    if isinstance(value, xr.DataArray):
        return _Input(name, label, value, None, None, lo, hi)
    raise TypeError(
        f"{name} must be an xarray.DataArray or a CellDistribution (got {type(value).__name__})"
    )


def _per_ecosystem(name: str, value: Any, ecosystems: list[str]) -> dict[str, Any]:
    if isinstance(value, Mapping):
        missing = [e for e in ecosystems if e not in value]
        extra = [e for e in value if e not in ecosystems]
        if missing or extra:
            raise InputDataError(
                f"{name} is given per ecosystem {sorted(value)} but the ecosystems (keys of "
                f"fraction) are {ecosystems}",
                field=name,
            )
        return {e: value[e] for e in ecosystems}
    return dict.fromkeys(ecosystems, value)


def _check_aligned(da: xr.DataArray, ref: xr.DataArray, what: str) -> None:
    for dim in ("y", "x"):
        if dim not in da.dims:
            raise InputDataError(f"{what} has no {dim!r} dimension (dims {da.dims})", field=what)
        a, b = np.asarray(da[dim].values, float), np.asarray(ref[dim].values, float)
        tol = 1e-9 * max(1.0, float(np.abs(b).max(initial=0.0)))
        if a.shape != b.shape or not np.allclose(a, b, rtol=0.0, atol=tol):
            raise InputDataError(
                f"{what} is not on the grid of the cell areas ({dim}: {a.size} cells "
                f"{a[:1].tolist()}…{a[-1:].tolist()} vs {b.size} cells "
                f"{b[:1].tolist()}…{b[-1:].tolist()}); regrid it first",
                field=what,
            )


def _rows(da: xr.DataArray | None, rows: slice) -> Any:
    """The (…, y, x) block of rows as an array (lazy for dask), y and x last."""
    if da is None:
        return None
    lead = [d for d in da.dims if d not in ("y", "x")]
    return da.transpose(*lead, "y", "x").isel(y=rows).data


def _flat_k(arr: NDArray[np.float64], draws: bool = False) -> NDArray[np.float64]:
    """(…, rows, nx) → (k, cells) or (D, k, cells) for draws."""
    a = np.asarray(arr, dtype=float)
    if draws:
        return a.reshape(a.shape[0], -1, a.shape[-2] * a.shape[-1])
    return a.reshape(-1, a.shape[-2] * a.shape[-1])


def _label_seed(seed: int, label: str) -> int:
    """A 64-bit seed for one input map and layer, from the user seed and the map's label."""
    with np.errstate(over="ignore"):
        s = _splitmix64(np.asarray(int(seed) & 0xFFFFFFFFFFFFFFFF, dtype=np.uint64))
        s = _splitmix64(s ^ np.uint64(zlib.crc32(label.encode("utf-8"))))
    return int(s)


def _block_rows(ny: int, nx: int, arrays: list[xr.DataArray], cells: int) -> list[slice]:
    """Row blocks: the y chunks of the first dask-backed input, else ``cells``-sized blocks."""
    for da in arrays:
        if da is not None and da.chunks is not None:
            edges = np.cumsum((0, *da.chunksizes["y"]))
            return [slice(int(a), int(b)) for a, b in itertools.pairwise(edges)]
    step = max(1, cells // max(nx, 1))
    return [slice(i, min(i + step, ny)) for i in range(0, ny, step)]


def _region_codes(regions: xr.DataArray | None) -> tuple[NDArray[Any], bool]:
    """Sorted region codes present in the grid (NaN = no region); bool grids → code 1."""
    if regions is None:
        return np.array([0]), False
    is_bool = regions.dtype == bool
    if is_bool:
        return np.array([1]), True
    data = regions.data
    if regions.chunks is not None:
        import dask.array as dsa

        codes = np.asarray(dsa.unique(data).compute())
    else:
        codes = np.unique(np.asarray(data))
    if codes.dtype.kind == "f":
        codes = codes[np.isfinite(codes)]
        if np.any(codes != np.round(codes)):
            bad = codes[codes != np.round(codes)][0]
            raise InputDataError(
                "regions must be integer codes (NaN for no region)", field="regions", value=bad
            )
    return codes, False


def _segment_sums(x: NDArray[np.float64], ridx: NDArray[np.intp], n_regions: int):
    """Σ over the last axis of ``x`` by region index; cells must be sorted by ``ridx``."""
    out = np.zeros((*x.shape[:-1], n_regions))
    if ridx.size == 0:
        return out
    if ridx[0] == ridx[-1]:  # one region in this batch
        out[..., ridx[0]] = x.sum(axis=-1)
        return out
    starts = np.flatnonzero(np.r_[True, ridx[1:] != ridx[:-1]])
    out[..., ridx[starts]] = np.add.reduceat(x, starts, axis=-1)
    return out


def _check_totals(
    ecosystems: list[str],
    fractions: dict[str, xr.DataArray | None],
    inputs: dict[str, list[_Input]],
    area: xr.DataArray,
    regions: xr.DataArray | None,
    n_draws: int,
    level: float,
    correlation: float,
) -> tuple[float, list[_Input], int]:
    """Check the options and the alignment of every map; (ρ, all inputs, draws; 0: no MC)."""
    if not 0.0 <= float(correlation) <= 1.0:
        raise ValueError(f"correlation must be in [0, 1] (got {correlation!r})")
    if not 0.0 < float(level) < 1.0:
        raise ValueError(f"level must be in (0, 1), e.g. 0.95 (got {level!r})")
    rho = float(correlation)
    all_inputs = [i for e in ecosystems for i in inputs[e]]
    random = any(i.random for i in all_inputs)
    draw_counts = {i.draws.sizes["draw"] for i in all_inputs if i.draws is not None}
    if len(draw_counts) > 1:
        raise InputDataError(
            f"inputs given as draws differ in their number of draws {sorted(draw_counts)}",
            field="draws",
        )
    n_d = draw_counts.pop() if draw_counts else int(n_draws)
    if random and n_d < 2:
        raise ValueError(f"n_draws must be >= 2 (got {n_d})")
    if not random:
        n_d = 0

    for e in ecosystems:
        if fractions[e] is not None:
            _check_aligned(fractions[e], area, f"fraction[{e!r}]")
        for inp in inputs[e]:
            for what, da in (("", inp.mean), (" sd", inp.sd), (" draws", inp.draws)):
                if da is not None:
                    _check_aligned(da, area, f"{inp.label}{what}")
    if regions is not None:
        _check_aligned(regions, area, "regions")
    if area.attrs.get("units", "m2") not in ("m2", "m^2", "m²", "m**2"):
        raise InputDataError(
            "cell areas must be in m2", field="area", value=area.attrs.get("units")
        )

    return rho, all_inputs, n_d


def _fetch_block(rows: slice, area: xr.DataArray, regions: xr.DataArray | None,
                 ecosystems: list[str], fractions: dict[str, xr.DataArray | None],
                 uniq: dict[int, _Input]) -> tuple[dict[str, Any], list[Any]]:
    """Every map's values in one row block, in one dask compute (shared graphs once)."""
    import dask

    # one compute per block for every lazy array (shared graphs are computed once)
    pieces: dict[str, Any] = {"area": _rows(area, rows)}
    if regions is not None:
        pieces["regions"] = _rows(regions, rows)
    for e in ecosystems:
        if fractions[e] is not None:
            pieces[f"f/{e}"] = _rows(fractions[e], rows)
    for key, inp in uniq.items():
        pieces[f"m/{key}"] = _rows(inp.mean, rows)
        if inp.sd is not None:
            pieces[f"s/{key}"] = _rows(inp.sd, rows)
        if inp.draws is not None:
            pieces[f"d/{key}"] = _rows(inp.draws, rows)
    names = list(pieces)
    values = dask.compute(*[pieces[n] for n in names])
    block = dict(zip(names, values, strict=True))
    return block, list(values)


def _block_sums(
    block: dict[str, Any],
    rows: slice,
    nx: int,
    *,
    ecosystems: list[str],
    fractions: dict[str, xr.DataArray | None],
    inputs: dict[str, list[_Input]],
    uniq: dict[int, _Input],
    layer_fn: Any,
    regions: xr.DataArray | None,
    codes: NDArray[Any],
    is_bool: bool,
    acc: dict[str, NDArray[Any]],
    n_d: int,
    n_r: int,
    per_block: int,
    normals: Any,
) -> tuple[dict[str, NDArray[Any]], dict[str, int]]:
    """One row block's partial Eq. 6 sums (plug-in and per draw) and its clipped draws."""
    tot, plug, area_ok, area_miss, n_cells = (
        np.zeros_like(acc[k]) for k in ("tot", "plug", "area_ok", "area_miss", "n_cells"))
    block_clipped: dict[str, int] = {}

    y0 = rows.start
    n_rows = rows.stop - rows.start
    cell_id = (
        np.arange(y0, y0 + n_rows, dtype=np.uint64)[:, None] * np.uint64(nx)
        + np.arange(nx, dtype=np.uint64)[None, :]
    ).ravel()
    area_ha = np.asarray(block["area"], dtype=float).ravel() / M2_PER_HA
    if np.any(~np.isfinite(area_ha)):
        raise InputDataError(
            f"cell areas must be finite (rows {y0}–{rows.stop - 1})", field="area"
        )
    if regions is None:
        ridx = np.zeros(area_ha.size, dtype=np.intp)
    elif is_bool:
        ridx = np.where(np.asarray(block["regions"]).ravel(), 0, -1)
    else:
        rv = np.asarray(block["regions"]).ravel()
        ok = np.isfinite(rv) if rv.dtype.kind == "f" else np.ones(rv.size, bool)
        ridx = np.full(rv.size, -1, dtype=np.intp)
        ridx[ok] = np.searchsorted(codes, rv[ok])

    flat: dict[int, dict[str, NDArray[np.float64]]] = {}
    for key, inp in uniq.items():
        m = _flat_k(block[f"m/{key}"])
        f = {"mean": m}
        valid = np.all(np.isfinite(m), axis=0)
        if inp.sd is not None:
            s = _flat_k(block[f"s/{key}"])
            valid &= np.all(np.isfinite(s), axis=0)
            if np.any(s[:, valid] < 0):
                raise InputDataError(
                    f"{inp.label}: standard deviations must be >= 0", field=f"{inp.label} sd"
                )
            f["sd"] = s
        if inp.draws is not None:
            d = _flat_k(block[f"d/{key}"], draws=True)
            valid &= np.all(np.isfinite(d), axis=(0, 1))
            f["draws"] = d
        _check_range(inp, m[:, valid], f" (rows {y0}–{rows.stop - 1})")
        f["valid"] = valid
        flat[key] = f

    for ei, e in enumerate(ecosystems):
        w = area_ha.copy()
        if fractions[e] is not None:
            frac = np.asarray(block[f"f/{e}"], dtype=float).ravel()
            bad = (frac < 0) | (frac > 1.0 + 1e-9)
            if np.any(bad):
                raise InputDataError(
                    f"fraction[{e!r}] must be in [0, 1] (NaN = 0): {int(bad.sum())} cell(s) "
                    f"in rows {y0}–{rows.stop - 1} are outside",
                    field=f"fraction[{e!r}]",
                    value=float(frac[bad][0]),
                )
            w *= np.where(np.isnan(frac), 0.0, frac)
        selected = (w > 0) & (ridx >= 0)
        valid = np.ones(w.size, bool)
        for inp in inputs[e]:
            valid &= flat[id(inp)]["valid"]
        good = np.flatnonzero(selected & valid)
        good = good[np.argsort(ridx[good], kind="stable")]  # cells sorted by region
        bad = selected & ~valid
        area_miss[ei] += np.bincount(ridx[bad], w[bad], minlength=n_r)
        area_ok[ei] += np.bincount(ridx[good], w[good], minlength=n_r)
        n_cells[ei] += np.bincount(ridx[good], minlength=n_r)
        if good.size == 0:
            continue
        # plug-in Eq. 6 at the central values
        mean_vals = {inp.name: flat[id(inp)]["mean"][None][:, :, good] for inp in inputs[e]}
        layers = layer_fn(**mean_vals)[:, 0, :]  # (L, c)
        plug[ei] += _segment_sums(layers * w[good], ridx[good], n_r).T
        if not n_d:
            continue
        for start in range(0, good.size, per_block):
            cells = good[start : start + per_block]
            keys = _splitmix64(cell_id[cells])
            vals = {}
            for inp in inputs[e]:
                fi = flat[id(inp)]
                if inp.draws is not None:
                    v = fi["draws"][:, :, cells]
                elif inp.sd is not None:
                    k = fi["mean"].shape[0]
                    v = np.empty((n_d, k, cells.size))
                    for j in range(k):  # layers of a layered input, not cells
                        label = inp.label if k == 1 else f"{inp.label}/{j}"
                        v[:, j] = fi["mean"][j, cells] + fi["sd"][j, cells] * normals(
                            label, keys
                        )
                else:
                    v = np.broadcast_to(
                        fi["mean"][None][:, :, cells], (n_d, fi["mean"].shape[0], cells.size)
                    )
                if inp.random:
                    out = (v < inp.lo) | (v > inp.hi)
                    n_out = int(np.count_nonzero(out))
                    if n_out:
                        block_clipped[inp.label] = block_clipped.get(inp.label, 0) + n_out
                        v = np.clip(v, inp.lo, inp.hi)
                vals[inp.name] = v
            layers = layer_fn(**vals)  # (L, D, c)
            sums = _segment_sums(layers * w[cells], ridx[cells], n_r)  # (L, D, R)
            tot[ei] += np.moveaxis(sums, -1, 0)

    parts = {"tot": tot, "plug": plug, "area_ok": area_ok, "area_miss": area_miss,
             "n_cells": n_cells}
    return parts, block_clipped


def _stock_frame(
    ecosystems: list[str],
    labels: list[Any],
    tops: NDArray[np.float64],
    bottoms: NDArray[np.float64],
    acc: dict[str, NDArray[Any]],
    *,
    n_d: int,
    level: float,
    rho: float,
    seed: int,
    method: str,
    clipped: dict[str, int],
) -> pd.DataFrame:
    """The stock table: one row per ecosystem × region × layer, with its attributes."""
    tot, plug, area_ok, area_miss, n_cells = (
        acc[k] for k in ("tot", "plug", "area_ok", "area_miss", "n_cells"))
    n_l = tops.size
    rows_out = []
    for ei, e in enumerate(ecosystems):
        for ri, label in enumerate(labels):
            for li in range(n_l):
                plugin = plug[ei, ri, li] / MG_PER_PG
                if n_d:
                    iv = interval_from_draws(tot[ei, ri, li][:, None] / MG_PER_PG, level)
                    mean, lo, hi = float(iv.mean[0]), float(iv.lower[0]), float(iv.upper[0])
                else:
                    mean, lo, hi = plugin, np.nan, np.nan
                rows_out.append(
                    [
                        label,
                        e,
                        tops[li],
                        bottoms[li],
                        area_ok[ei, ri] / HA_PER_KM2,
                        mean,
                        lo,
                        hi,
                        plugin,
                        float(level) if n_d else np.nan,
                        n_d,
                        rho,
                        int(n_cells[ei, ri]),
                        area_miss[ei, ri] / HA_PER_KM2,
                    ]
                )
    frame = pd.DataFrame(rows_out, columns=_STOCK_COLUMNS)
    frame.attrs.update(
        method=method,
        units={"area_km2": "km2", "stock_pg": "Pg C", "top_cm": "cm", "bottom_cm": "cm"},
        kind="Monte Carlo interval of the total under the per-cell input distributions"
        if n_d
        else "plug-in total (no per-cell uncertainty given)",
        correlation_note=(
            "z_cell = sqrt(rho) z_common + sqrt(1 - rho) e_cell per input map; rho = 1 (one "
            "model's error shared by all cells) and rho = 0 (independent cells) bracket the truth"
        ),
        clipped_draws=clipped,
        seed=int(seed),
    )
    return frame


def _totals(
    ecosystems: list[str],
    fractions: dict[str, xr.DataArray | None],
    inputs: dict[str, list[_Input]],
    layer_fn: Any,
    tops: NDArray[np.float64],
    bottoms: NDArray[np.float64],
    area: xr.DataArray,
    regions: xr.DataArray | None,
    region_names: Mapping[Any, str] | None,
    n_draws: int,
    level: float,
    correlation: float,
    seed: int,
    block_cells: int | None,
    method: str,
    checkpoint: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Eq. 6 sums by region × ecosystem × layer, with Monte Carlo draws block by block.

    Every row block adds its own partial sums (per draw) to the totals, so a block's
    contribution can be stored (``checkpoint``) and added back on a rerun without drawing it
    again; the totals are then bitwise those of an uninterrupted run.
    """
    rho, all_inputs, n_d = _check_totals(ecosystems, fractions, inputs, area, regions,
                                         n_draws, level, correlation)
    codes, is_bool = _region_codes(regions)
    if region_names is not None and not is_bool:
        codes = np.union1d(codes, np.asarray(list(region_names), dtype=codes.dtype))
    n_r, n_e, n_l = codes.size, len(ecosystems), tops.size
    shapes = {"tot": (n_e, n_r, n_l, max(n_d, 1)), "plug": (n_e, n_r, n_l),
              "area_ok": (n_e, n_r), "area_miss": (n_e, n_r), "n_cells": (n_e, n_r)}
    acc = {k: np.zeros(v, dtype=np.int64 if k == "n_cells" else float)
           for k, v in shapes.items()}
    clipped: dict[str, int] = {}

    ny, nx = area.sizes["y"], area.sizes["x"]
    per_block = int(block_cells) if block_cells else max(1, (1 << 20) // max(n_d, 1))
    lazies = [i.draws if i.draws is not None else i.mean for i in all_inputs]
    row_blocks = _block_rows(ny, nx, lazies, max(per_block, 1 << 16))
    draw_idx = np.arange(max(n_d, 1))

    # the common normal of each (map, layer) under correlation ρ > 0: one per draw, all cells
    common: dict[str, NDArray[np.float64]] = {}

    def normals(label: str, keys: NDArray[np.uint64]) -> NDArray[np.float64]:
        z = np.zeros((n_d, keys.size))
        if rho < 1.0:
            z += (
                np.sqrt(1.0 - rho)
                * _keyed_normals(_label_seed(seed, label), keys, draw_idx, 1)[:, :, 0]
            )
        if rho > 0.0:
            if label not in common:
                common[label] = _keyed_normals(
                    _label_seed(seed, label + "/common"), np.zeros(1, np.uint64), draw_idx, 1
                )[:, 0, 0]
            z += np.sqrt(rho) * common[label][:, None]
        return z

    uniq: dict[int, _Input] = {id(i): i for i in all_inputs}
    store = None
    if checkpoint is not None:
        store = _StockCheckpoint(Path(checkpoint), {
            "format": "wholesoil-stock-checkpoint", "version": 1, "method": method,
            "inputs": [i.label for i in all_inputs], "ecosystems": ecosystems,
            "regions": [str(c) for c in codes], "tops": tops.tolist(),
            "bottoms": bottoms.tolist(), "n_draws": n_d, "correlation": rho, "seed": int(seed),
            "shape": [int(ny), int(nx)], "row_blocks": [[r.start, r.stop] for r in row_blocks],
        })
    for bi, rows in enumerate(row_blocks):
        block, values = _fetch_block(rows, area, regions, ecosystems, fractions, uniq)
        input_sha = "" if store is None else sha256_arrays(*[np.asarray(v) for v in values])
        if store is not None and (done := store.load(bi, input_sha)) is not None:
            parts, block_clipped = done
            for k in acc:
                acc[k] += parts[k]
            for k, v in block_clipped.items():
                clipped[k] = clipped.get(k, 0) + v
            continue
        parts, block_clipped = _block_sums(
            block, rows, nx, ecosystems=ecosystems, fractions=fractions, inputs=inputs,
            uniq=uniq, layer_fn=layer_fn, regions=regions, codes=codes, is_bool=is_bool,
            acc=acc, n_d=n_d, n_r=n_r, per_block=per_block, normals=normals)
        for k in acc:
            acc[k] += parts[k]
        for k, v in block_clipped.items():
            clipped[k] = clipped.get(k, 0) + v
        if store is not None:
            store.save(bi, input_sha, parts, block_clipped)
    labels = _region_labels(codes, is_bool, regions, region_names)
    return _stock_frame(ecosystems, labels, tops, bottoms, acc, n_d=n_d, level=level,
                        rho=rho, seed=seed, method=method, clipped=clipped)


class _StockCheckpoint:
    """Per-row-block partial sums of :func:`_totals` in a folder, for resuming after a kill.

    ``manifest.json`` names what the sums depend on (inputs, regions, layers, draws, ρ, seed,
    grid shape and row blocks); a folder made for other settings is refused with the field that
    differs. Each block is ``s{i}.npz`` (written atomically) then ``s{i}.json`` (its record,
    holding the sha256 of the block's input values): a record means a complete block, and a
    block whose inputs changed is recomputed.
    """

    def __init__(self, folder: Path, manifest: dict[str, Any]) -> None:
        self.folder = folder
        self.store = CheckpointStore(
            folder, manifest, refuse_foreign=False, mismatch_value=True,
            mismatch=lambda key, what, stored, mine: (
                "this checkpoint folder was made for other stock settings; use a new output "
                f"folder or delete {folder}"))

    def load(self, i: int, input_sha: str) -> tuple[dict[str, NDArray[Any]], dict[str, int]] | None:
        record = self.store.record(f"s{i}.json")
        if record is None or record.get("input_sha256") != input_sha:
            return None
        with np.load(self.folder / f"s{i}.npz") as z:
            parts = {k: z[k] for k in z.files}
        return parts, {str(k): int(v) for k, v in record.get("clipped", {}).items()}

    def save(self, i: int, input_sha: str, parts: dict[str, NDArray[Any]],
             clipped: dict[str, int]) -> None:
        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.savez(fh, **parts)

        self.store.write_part(f"s{i}.npz", write)
        self.store.write_record(f"s{i}.json", {"input_sha256": input_sha, "clipped": clipped})


def _check_range(inp: _Input, m: NDArray[np.float64], where: str) -> None:
    if inp.name == "beta":
        _check_beta_values(m, where)
    elif np.any(m < inp.lo):
        n = int(np.count_nonzero(m < inp.lo))
        raise InputDataError(
            f"{inp.label} must be >= {inp.lo:g}: {n} value(s){where} are below",
            field=inp.label,
            value=float(m[m < inp.lo][0]),
        )


def _region_labels(
    codes: NDArray[Any],
    is_bool: bool,
    regions: xr.DataArray | None,
    names: Mapping[Any, str] | None,
) -> list[Any]:
    if regions is None:
        return ["all"]
    names = dict(names or {})
    if is_bool:
        return [names.get(True, names.get(1, regions.name or "region"))]
    out = []
    for c in codes:
        key = int(c) if float(c) == int(c) else c
        out.append(names.get(key, names.get(c, key)))
    return out


def _fractions(
    fraction: xr.DataArray | Mapping[str, xr.DataArray] | None,
) -> tuple[list[str], dict[str, xr.DataArray | None]]:
    if fraction is None:
        return ["all"], {"all": None}
    if isinstance(fraction, Mapping):
        if not fraction:
            raise InputDataError("fraction is an empty mapping", field="fraction")
        return [str(k) for k in fraction], {str(k): v for k, v in fraction.items()}
    return ["all"], {"all": fraction}


def _density_layers(
    density: Any,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Layer tops and bottoms [cm] of a density input (from depth_bnds or attrs top/bottom)."""
    mean = density.mean if isinstance(density, CellDistribution) else density
    if "depth" in mean.dims:
        try:
            b = np.asarray(depth_bounds(mean).values, dtype=float)
        except InputDataError:
            return np.full(mean.sizes["depth"], np.nan), np.full(mean.sizes["depth"], np.nan)
        return b[:, 0], b[:, 1]
    if "top" in mean.coords and "bottom" in mean.coords:  # one layer selected from a stack
        return np.array([float(mean["top"])]), np.array([float(mean["bottom"])])
    return (
        np.array([float(mean.attrs.get("top", np.nan))]),
        np.array([float(mean.attrs.get("bottom", np.nan))]),
    )


def stock_totals(
    density: xr.DataArray | CellDistribution | Mapping[str, xr.DataArray | CellDistribution],
    *,
    area: xr.DataArray | None = None,
    fraction: xr.DataArray | Mapping[str, xr.DataArray] | None = None,
    regions: xr.DataArray | None = None,
    region_names: Mapping[Any, str] | None = None,
    n_draws: int = 1000,
    level: float = 0.95,
    correlation: float = 1.0,
    seed: int = 0,
    block_cells: int | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """SOC stocks of layer density maps, Wang H. et al. (2025) Eq. 6, with Monte Carlo intervals
    (§2.7).

    stock [Pg C] = Σ_cells density [Mg C ha⁻¹] × cell area [ha] × fraction [-] × 10⁻⁹, summed by
    region × ecosystem × layer.

    With a :class:`CellDistribution` the density of every cell is drawn ``n_draws`` times
    (normal: x = mean + sd·z with z_cell = √ρ·z_common + √(1−ρ)·e_cell), each draw is summed
    over the cells, and the mean and the equal-tailed percentiles of the totals are reported.
    Because the total is linear in the density, it is then normal with mean Σ m·a and sd
    √(ρ(Σ s·a)² + (1−ρ) Σ s²·a²) (a = area × fraction). Drawn densities below 0 are set to 0 and
    counted in ``frame.attrs["clipped_draws"]``.

    Parameters
    ----------
    density : DataArray, CellDistribution, or mapping ecosystem → either
        Layer SOC density [Mg C ha⁻¹], dims (y, x) (layer from scalar ``top``/``bottom``
        coordinates or attrs when present) or (depth, y, x) with ``top``/``bottom`` coordinates; per
        ecosystem when the ecosystems' maps differ (keys = keys of ``fraction``).
    area : DataArray, optional
        Cell areas [m²], dims (y, x); default :func:`cell_area` of the density grid.
    fraction : DataArray or mapping ecosystem → DataArray, optional
        Share of each cell in the ecosystem, or land fraction [-] in [0, 1] (NaN counts as 0);
        a mapping gives one set of totals per ecosystem (Wang H. et al.'s (2025) S_ecosystem).
        Default: the whole cell (ecosystem "all").
    regions : DataArray, optional
        Integer region code per cell (NaN = no region), or a boolean mask (one region of its
        True cells). Default: the whole grid (region "all").
    region_names : mapping code → name, optional
        Names of the region codes; named codes absent from the grid get rows with zero area.
    n_draws : int
        Monte Carlo draws (Wang H. et al. (2025): 1,000); ignored for inputs given as draws.
    level : float
        Interval level (Wang H. et al. (2025): 0.95 → 2.5 and 97.5 % percentiles).
    correlation : float
        ρ in [0, 1], correlation of the input errors between cells. ρ = 1 (default) is the case
        of one fitted model whose error is shared by all cells; ρ = 0 treats cells as
        independent, which shrinks the interval of a total as 1/√(cells). The truth lies in
        between (errors are spatially correlated over some range); report both when it matters.
    seed : int
        Seed of the counter-based draws: a cell's draws depend on (seed, map, the cell's index in
        the grid, draw), never on the block size or chunking, so totals are the same (to
        rounding) however the grid is split.
    checkpoint : path, optional
        Folder for per-block partial sums: a rerun (after a kill) adds the stored blocks back
        without drawing them again and gives bitwise the same totals.
    block_cells : int, optional
        Cells per Monte Carlo batch; memory is ~ n_draws × block_cells × layers floats. Default
        ~4 million values per array.

    Returns
    -------
    pandas.DataFrame
        One row per region × ecosystem × layer: region, ecosystem, top_cm, bottom_cm, area_km2
        (area × fraction of the cells with data), stock_pg (Monte Carlo mean, or the plug-in
        total without uncertainty), lower_pg, upper_pg, plugin_pg (Eq. 6 at the central values),
        level, n_draws, correlation, n_cells, missing_area_km2 (area × fraction of cells in the
        region without data: reported, not dropped silently). ``attrs`` carry the method, units
        and clipped draws.
    """
    ecosystems, fractions = _fractions(fraction)
    per_e = _per_ecosystem("density", density, ecosystems)
    shared = not isinstance(density, Mapping)
    made: dict[str, _Input] = {}
    inputs = {
        e: [_as_input("density", "density" if shared else f"density[{e}]", v, 0.0, np.inf, made)]
        for e, v in per_e.items()
    }
    tops, bottoms = _density_layers(next(iter(per_e.values())))
    template = inputs[ecosystems[0]][0].mean
    if area is None:
        area = cell_area(template)

    def layer_fn(density: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.moveaxis(density, 1, 0)  # (D, L, c) → (L, D, c)

    return _totals(
        ecosystems,
        fractions,
        inputs,
        layer_fn,
        tops,
        bottoms,
        area,
        regions,
        region_names,
        n_draws,
        level,
        correlation,
        seed,
        block_cells,
        method="Wang H. et al. (2025) Eq. 6 sums of layer densities; Monte Carlo per §2.7",
        checkpoint=checkpoint,
    )


def stock_totals_from_beta(
    beta: xr.DataArray | CellDistribution | Mapping[str, xr.DataArray | CellDistribution],
    topsoil: xr.DataArray | CellDistribution | Mapping[str, xr.DataArray | CellDistribution],
    *,
    d0: float = 30.0,
    depths: Sequence[float] | ArrayLike = DEFAULT_LAYER_DEPTHS,
    area: xr.DataArray | None = None,
    fraction: xr.DataArray | Mapping[str, xr.DataArray] | None = None,
    regions: xr.DataArray | None = None,
    region_names: Mapping[Any, str] | None = None,
    n_draws: int = 1000,
    level: float = 0.95,
    correlation: float = 1.0,
    seed: int = 0,
    block_cells: int | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Layer SOC stocks from β and topsoil density maps: Eqs. 3 and 6 with Monte Carlo (§2.7).

    For every draw the inputs of every cell are drawn, the layer densities are **recomputed
    through Eq. 3** (:func:`layers_from_beta`) and summed by Eq. 6; the result is the mean and
    percentiles of those totals. Because Eq. 3 is nonlinear in β, the Monte Carlo mean is not the
    plug-in total at the mean β (``plugin_pg``); both are reported. This is Wang H. et al.'s (2025)
    procedure: "we used predicted grid-level soil β to recalculate the distribution of SOC density …
    then calculated the mean along with the 2.5 % and 97.5 % percentiles".

    β draws outside (0, 1.1] are clipped (β > 1.1 → 1.1, the upper end of the range in which
    :mod:`wholesoil.depth` fits β; β ≤ 0 → the smallest positive float) and negative topsoil
    draws are set to 0; both are counted in ``frame.attrs["clipped_draws"]``. Each input map
    draws its own normals; β and topsoil errors are independent of each other.

    Parameters
    ----------
    beta : DataArray, CellDistribution or mapping ecosystem → either
        β [-] per cell (Wang H. et al. (2025) maps one β per ecosystem: give a mapping keyed as
        ``fraction``).
    topsoil : DataArray, CellDistribution or mapping ecosystem → either
        SOC density of the top ``d0`` cm [Mg C ha⁻¹].
    d0 : float
        Depth of the topsoil layer [cm].
    depths : sequence of float
        Layer bounds [cm].
    area, fraction, regions, region_names, n_draws, level, correlation, seed, block_cells,
    checkpoint
        As in :func:`stock_totals`.

    Returns
    -------
    pandas.DataFrame
        As :func:`stock_totals`, one row per region × ecosystem × layer.
    """
    bounds = _check_depths(depths, d0=d0, layers=True)
    ecosystems, fractions = _fractions(fraction)
    per_b = _per_ecosystem("beta", beta, ecosystems)
    per_t = _per_ecosystem("topsoil", topsoil, ecosystems)
    b_lab = "beta" if not isinstance(beta, Mapping) else "beta[{}]"
    t_lab = "topsoil" if not isinstance(topsoil, Mapping) else "topsoil[{}]"
    made: dict[str, _Input] = {}
    inputs = {
        e: [
            _as_input("beta", b_lab.format(e), per_b[e], _BETA_LO, _BETA_HI, made),
            _as_input("topsoil", t_lab.format(e), per_t[e], 0.0, np.inf, made),
        ]
        for e in ecosystems
    }
    for e in ecosystems:
        for inp in inputs[e]:
            if "depth" in inp.mean.dims:
                raise InputDataError(
                    f"{inp.label} must be a (y, x) map, not layered (dims {inp.mean.dims})",
                    field=inp.label,
                )
    if area is None:
        area = cell_area(inputs[ecosystems[0]][0].mean)
    d0 = float(d0)

    def layer_fn(beta: NDArray[np.float64], topsoil: NDArray[np.float64]) -> NDArray[np.float64]:
        # (D, 1, c) each → Eq. 3 ratio at every bound (K, D, c) → layers (L, D, c)
        return np.diff(_eq3_ratios(beta[:, 0], d0, bounds), axis=0) * topsoil[:, 0][None]

    return _totals(
        ecosystems,
        fractions,
        inputs,
        layer_fn,
        bounds[:-1],
        bounds[1:],
        area,
        regions,
        region_names,
        n_draws,
        level,
        correlation,
        seed,
        block_cells,
        method="Wang H. et al. (2025) Eq. 3 layers recomputed per draw, Eq. 6 sums; Monte Carlo "
               "per §2.7",
        checkpoint=checkpoint,
    )
