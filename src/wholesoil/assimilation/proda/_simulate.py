"""Global simulation with PRODA parameter maps: SOC by depth and Tao et al.'s (EarthArXiv) six
components.

Tao et al. (EarthArXiv) §2.7: "Global maps of parameters that were predicted by the best-guess
neural network using the gridded environmental variables were applied to the two process-based
models to generate global maps of SOC storage and its related components". Here every valid grid
cell gets its own parameter set (a map from :meth:`ParameterNetwork.predict_grid`, or the model's
defaults everywhere) and its own forcing from the cell's climate
(:func:`wholesoil.models.forcing_from_climate`: MAT [°C], MAP [mm yr⁻¹], latitude), and the
model's steady state is solved for all cells of a block at once (one batched solve; no loop over
cells). Outputs per cell:

* SOC stocks of the standard layers 0–30, 30–100 and 100–200 cm [Mg C ha⁻¹] and of the first
  metre, ``soc_0_100`` [kg C m⁻²] (the paper's maps, Figs. 2–3), integrated exactly over the
  model layers (:func:`wholesoil.models.layer_stocks`, Eq. O1). SOC is the mineral soil pools:
  CLM5 S1 + S2 + S3, COMPAS DOC + MIC + ENZ + mSOC (as PRODA sums them, Tao et al. (EarthArXiv)
  §2.6);
* the six components of Tao et al. (EarthArXiv) Fig. 4: ``cte`` carbon transfer efficiency (Eq. 10)
  [-], ``k_bulk`` baseline decomposition (Eq. 11) [yr⁻¹], ``xi_system`` environmental modifier
  (Eq. 13) [-], ``b_system`` input allocation (Eq. 14) [-], ``v_system`` vertical transport
  (Eq. 12) [yr⁻¹] and ``input`` plant carbon input [g C m⁻² yr⁻¹].

CLM5 components are :func:`wholesoil.models._diagnostics.system_diagnostics` with PRODA's pool
choices (donors L1–S3 in Eq. 10, S1–S3 in Eqs. 11–13; ``fun_bulk_process.m`` of
``phxtao/PRODA_PUBLIC``), as ``wholesoil simulate`` computes them.

COMPAS is nonlinear, so Eqs. 10–11 need rates that are not parameters. Its components are
computed from the steady-state fluxes, which makes them the exact first-order equivalents (the
paper's §4 argument that COMPAS behaves first order after calibration):

* Eq. 10 with the fluxes out of each donor j over the column, F_j = Σ_z f_{j,z} Δz — litter
  F_L = k_L ξ L, DOC uptake U, microbial mortality plus enzyme production, enzyme decay and
  enzymatic mSOC decomposition D (Tao et al. (EarthArXiv) Eqs. 7–8) — and the fraction r_j of each
  flux that stays in the system: L1 a_DOC,ML + (1 − a_DOC,ML) η_ML, L2 a_DOC,CL + (1 − a_DOC,CL)
  η_CL-LL, L3 a_SOC,LL + (1 − a_SOC,LL) η_CL-LL, DOC η_DOC, MIC, ENZ and mSOC 1 (their fluxes go to
  other soil pools); CTE = Σ_j r_j F_j / Σ_j F_j (donors L1–mSOC; CWD left out as for CLM5);
* Eq. 11 over the soil pools DOC, MIC, ENZ, mSOC with effective baseline rates
  k_j = F_j / Σ_z ξ_z x_{j,z} Δz (equal to 1/τ for a first-order pool);
* Eqs. 12–14 and the input exactly as for CLM5 (same functions, Tao et al. (EarthArXiv) §2.3:
  "COMPAS applies the same approach to simulate B, ξ and V"): ξ is COMPAS's ξ_T ξ_W ξ_O ξ_D (z_τ =
  0.5 m), v_z the diagonal of the mixing operator V (COMPAS's soil pools are immobile in the
  closed-form steady state, so this is the transport *rate* the parameters set, not a flux it
  carries).

A COMPAS cell without a positive steady state (Tao et al. (EarthArXiv) Eq. 9 denominators ≤ 0) is
NaN in every output, with ``valid = False`` and the reason in ``reason``; it is never filled.

Execution: the valid cells are cut into blocks of ``block_cells``; memory is bounded by one
block (times the blocks in flight on a cluster). Without a client the blocks run one after the
other in this process; with a :class:`distributed.Client` they are tasks, at most 2 × the
cluster's threads in flight. A cell's result depends on its own inputs only, so the maps are
the same whatever the block size and wherever the block ran.

References
----------
Tao et al. (EarthArXiv). §2.3, §2.6–2.7, Eqs. 7–14, Figs. 2–4.

Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError
from wholesoil.models._components import clm5_components_batch as _clm5
from wholesoil.models._components import compas_components_batch as _compas

__all__ = [
    "COMPONENTS",
    "SOC_DEPTHS_CM",
    "SOC_LAYERS",
    "default_parameters",
    "model_parameter_names",
    "simulate_cells",
    "simulate_grid",
]

ModelName = Literal["clm5", "compas"]
FloatArray = NDArray[np.float64]

#: Standard layer boundaries of the SOC maps [cm]; ``soc_0_100`` (first metre, the paper's maps)
#: is added to them.
SOC_DEPTHS_CM: tuple[float, ...] = (0.0, 30.0, 100.0, 200.0)
#: Output name → (long name, units) of the SOC maps.
SOC_LAYERS: dict[str, tuple[str, str]] = {
    "soc_0_30": ("SOC stock 0-30 cm", "Mg C ha-1"),
    "soc_30_100": ("SOC stock 30-100 cm", "Mg C ha-1"),
    "soc_100_200": ("SOC stock 100-200 cm", "Mg C ha-1"),
    "soc_0_100": ("SOC stock of the first metre (Tao et al. (EarthArXiv) Figs. 2-3)", "kg C m-2"),
}
#: The six components of Tao et al. (EarthArXiv) Fig. 4, in its row order: name → (long name,
#: units).
COMPONENTS: dict[str, tuple[str, str]] = {
    "cte": ("carbon transfer efficiency (Tao et al. (EarthArXiv) Eq. 10)", "1"),
    "k_bulk": ("baseline decomposition (Tao et al. (EarthArXiv) Eq. 11)", "yr-1"),
    "xi_system": ("environmental modifier (Tao et al. (EarthArXiv) Eq. 13)", "1"),
    "b_system": ("carbon input allocation (Tao et al. (EarthArXiv) Eq. 14)", "1"),
    "v_system": ("vertical transport rate (Tao et al. (EarthArXiv) Eq. 12)", "yr-1"),
    "input": ("plant carbon input", "g C m-2 yr-1"),
}
_OUTPUTS = (*SOC_LAYERS, *COMPONENTS)


def model_parameter_names(model: ModelName) -> tuple[str, ...]:
    """The calibrated parameters of ``model``: CLM5's 21 (Tao et al. (EarthArXiv) Supplementary
    Table 1) or COMPAS's 23 (Supplementary Table 2), in the tables' order."""
    if model == "clm5":
        from wholesoil.models._clm5 import CLM5_PRODA_PARAMETERS

        return tuple(CLM5_PRODA_PARAMETERS)
    if model == "compas":
        from wholesoil.models._compas import COMPAS_PARAMETERS

        return tuple(COMPAS_PARAMETERS)
    raise InputDataError("model must be 'clm5' or 'compas'", field="model", value=model)


def default_parameters(model: ModelName) -> dict[str, float | None]:
    """Default parameters: CLM5's (Supplementary Table 1; ``fs2s1``/``fs3s1`` None = CLM5's
    sand-dependent values) or COMPAS's (Supplementary Table 2)."""
    if model == "clm5":
        from wholesoil.models._clm5 import CLM5_DEFAULTS

        return dict(CLM5_DEFAULTS)
    from wholesoil.models._compas import COMPAS_PARAMETERS

    model_parameter_names(model)
    return {n: float(p.default) for n, p in COMPAS_PARAMETERS.items()}


def _param_arrays(model: ModelName, params: Mapping[str, Any] | None, n: int
                  ) -> dict[str, Any]:
    names = model_parameter_names(model)
    vals = default_parameters(model) if params is None else dict(params)
    unknown = sorted(set(vals) - set(names))
    if unknown:
        raise InputDataError(f"unknown {model} parameter(s) {unknown}; expected {list(names)}",
                             field=unknown[0])
    out: dict[str, Any] = {}
    for k, v in vals.items():
        if v is None:
            out[k] = None
            continue
        a = np.asarray(v, dtype=float)
        if a.ndim > 1 or (a.ndim == 1 and a.shape[0] != n):
            raise InputDataError(f"parameter {k} must be a scalar or one value per cell ({n})",
                                 field=k, value=a.shape)
        out[k] = a
    return out


def simulate_cells(
    model: ModelName,
    params: Mapping[str, ArrayLike | None] | None,
    mat: ArrayLike,
    map: ArrayLike,  # the climatologists' name for mean annual precipitation
    lat: ArrayLike | None = None,
    *,
    sand: ArrayLike = 40.0,
    cwd: ArrayLike | str | None = None,
) -> dict[str, NDArray[Any]]:
    """Steady state of ``model`` at n cells (one batched solve) and its maps' values.

    Parameters
    ----------
    model : {"clm5", "compas"}
    params : mapping name → scalar or array (n,), or None
        Parameter values in their units (missing names take the defaults of
        :func:`default_parameters`); None = all defaults.
    mat : array (n,) [°C]
        Mean annual air temperature of each cell.
    map : array (n,) [mm yr⁻¹]
        Mean annual precipitation.
    lat : array (n,) [degrees north], optional
        Sets the season and day length of the forcing.
    sand : array (n,) or float [%]
        Sand content (CLM5's sand-dependent transfers; forcing default 40 %).
    cwd : array (n,), float, "holdridge" or None
        Share of NPP entering as coarse woody debris [-]: given per cell, ``"holdridge"`` for
        :func:`wholesoil.models.cwd_from_climate` (forest by Holdridge's life zones), or None
        for no CWD input.

    Returns
    -------
    dict
        ``soc_0_30``, ``soc_30_100``, ``soc_100_200`` [Mg C ha⁻¹], ``soc_0_100`` [kg C m⁻²],
        the six :data:`COMPONENTS`, each (n,) float (NaN where not valid); ``valid`` (n,) bool
        and ``reason`` (n,) str.
    """
    from wholesoil.models._environment import forcing_from_climate

    t = np.asarray(mat, dtype=float).reshape(-1)
    n = t.size
    p = np.asarray(map, dtype=float).reshape(-1)
    la = None if lat is None else np.asarray(lat, dtype=float).reshape(-1)
    if p.shape != (n,) or (la is not None and la.shape != (n,)):
        raise InputDataError("mat, map and lat must have one value per cell", field="map",
                             value=(t.shape, p.shape, None if la is None else la.shape))
    pa = _param_arrays(model, params, n)
    out: dict[str, NDArray[Any]] = {k: np.full(n, np.nan) for k in _OUTPUTS}
    out["valid"] = np.zeros(n, dtype=bool)
    out["reason"] = np.full(n, "", dtype=object)
    if n == 0:
        out["reason"] = out["reason"].astype(str)
        return out
    forcing = forcing_from_climate(t, p, lat=la, sand=sand, cwd_fraction=_cwd(cwd, t, p, la))
    if model == "clm5":
        soc, comp, valid, reason, grid = _clm5(pa, forcing)
    else:
        soc, comp, valid, reason, grid = _compas(pa, forcing)
    _fill_soc(out, soc, valid, grid)
    for k, v in comp.items():
        out[k] = np.where(valid, v, np.nan)
    out["valid"] = valid
    out["reason"] = np.asarray(reason, dtype=str)
    return out


def _cwd(cwd: ArrayLike | str | None, mat: FloatArray, map_: FloatArray,
         lat: FloatArray | None) -> FloatArray | None:
    if cwd is None:
        return None
    if isinstance(cwd, str):
        if cwd != "holdridge":
            raise InputDataError("cwd must be 'holdridge', a share of NPP or None", field="cwd",
                                 value=cwd)
        from wholesoil.models._environment import cwd_from_climate

        return cwd_from_climate(mat, map_, lat=lat)
    a = np.asarray(cwd, dtype=float)
    if a.ndim == 0:
        return np.full(mat.shape, float(a))
    return a.reshape(-1)


def _fill_soc(out: dict[str, Any], soc: FloatArray, valid: NDArray[np.bool_], grid: Any) -> None:
    from wholesoil.models._observe import layer_stocks, standard_layer_stocks

    rows = np.flatnonzero(valid)
    if rows.size == 0:
        return
    s = soc[rows]
    lay = standard_layer_stocks(s, SOC_DEPTHS_CM, grid)  # Mg C ha⁻¹
    names = [k for k in SOC_LAYERS if k != "soc_0_100"]
    for j, name in enumerate(names):
        out[name][rows] = lay[:, j]
    out["soc_0_100"][rows] = layer_stocks(s, [0.0], [100.0], grid, unit="kg C m-2")[:, 0]


# ---------------------------------------------------------------------------------- grids


def _grid_inputs(model: ModelName, climate: Any, parameters: Any, mask: Any, source: str
                 ) -> tuple[dict[str, FloatArray] | None, FloatArray, FloatArray, FloatArray,
                            NDArray[np.bool_], tuple[int, ...], tuple[str, str]]:
    for v in ("mat", "map"):
        if v not in climate.data_vars:
            raise InputDataError(
                f"the grid lacks {v!r} (mean annual temperature [°C] and precipitation "
                f"[mm yr-1] drive the model's forcing); it has {sorted(climate.data_vars)}",
                file=source, field=v)
    mat = climate["mat"].transpose("y", "x")
    shape = tuple(int(s) for s in mat.shape)
    dims = ("y", "x")
    t = np.asarray(mat.values, dtype=float).reshape(-1)
    p = np.asarray(climate["map"].transpose("y", "x").values, dtype=float).reshape(-1)
    ys = np.asarray(climate["y"].values, dtype=float)
    lat = np.broadcast_to(ys[:, None], shape).reshape(-1)
    ok = np.isfinite(t) & np.isfinite(p)
    if mask is not None:
        mk = np.asarray(getattr(mask, "values", mask))
        if mk.shape != shape:
            raise InputDataError(f"mask must have the grid's shape {shape}", field="mask",
                                 value=mk.shape)
        ok &= mk.astype(bool).reshape(-1)
    par = None
    if parameters is not None:
        names = model_parameter_names(model)
        if hasattr(parameters, "data_vars"):
            missing = [nm for nm in names if nm not in parameters.data_vars]
            if missing:
                raise InputDataError(
                    f"the parameter maps lack {model} parameter(s) {missing}", file=source,
                    field=missing[0])
            par = {}
            for nm in names:
                a = np.asarray(parameters[nm].transpose("y", "x").values, dtype=float)
                if a.shape != shape:
                    raise InputDataError(f"parameter map {nm} has shape {a.shape}, the "
                                         f"climate grid {shape}", file=source, field=nm)
                par[nm] = a.reshape(-1)
                ok &= np.isfinite(par[nm])
        else:
            par = {k: (None if v is None else np.broadcast_to(
                np.asarray(v, dtype=float), shape).reshape(-1)) for k, v in parameters.items()}
    return par, t, p, lat, ok, shape, dims


def _block_task(model: ModelName, params: dict[str, Any] | None, mat: FloatArray,
                map_: FloatArray, lat: FloatArray, sand: Any, cwd: Any = None
                ) -> dict[str, NDArray[Any]]:
    return simulate_cells(model, params, mat, map_, lat, sand=sand, cwd=cwd)


def simulate_grid(
    model: ModelName,
    climate: Any,
    parameters: Any = None,
    *,
    mask: Any = None,
    block_cells: int = 4096,
    client: Any = None,
    sand: float = 40.0,
    cwd: str | float | None = None,
    source: str = "grid",
) -> Any:
    """SOC maps and the six component maps of ``model`` over a grid, blockwise.

    Parameters
    ----------
    model : {"clm5", "compas"}
    climate : xarray.Dataset
        Geographic grid on ``(y, x)`` (``y`` = latitude [degrees N]) with ``mat`` [°C] and
        ``map`` [mm yr⁻¹], e.g. :func:`wholesoil.datasets.load_climate_grid`.
    parameters : xarray.Dataset, mapping or None
        Parameter maps on the same grid (:meth:`ParameterNetwork.predict_grid`; every parameter
        of the model is needed, ``*_sd`` variables are ignored), or a mapping name → value used
        in every cell, or None for the defaults (:func:`default_parameters`).
    mask : array or DataArray (y, x) of bool, optional
        Cells to simulate (e.g. land, a region); others are NaN.
    block_cells : int
        Cells per block (memory is bounded by one block: ~ block_cells × 12 months × 20 layers
        × a few arrays of float64).
    client : distributed.Client, optional
        Run the blocks as tasks on this cluster (at most 2 × its threads in flight).
    sand : float [%]
        Sand content used by the forcing.
    cwd : "holdridge", float or None
        Share of NPP entering as coarse woody debris: ``"holdridge"`` puts
        :data:`~wholesoil.models.CWD_FRACTION_FOREST` where Holdridge's life zones are forest
        (:func:`wholesoil.models.holdridge_forest`), a float everywhere, None nowhere.
    source : str
        Name of the grid for messages.

    Returns
    -------
    xarray.Dataset
        ``soc_0_30``, ``soc_30_100``, ``soc_100_200`` [Mg C ha⁻¹], ``soc_0_100`` [kg C m⁻²],
        the :data:`COMPONENTS`, ``valid`` (1 where a steady state exists, 0 where not, NaN
        outside the simulated cells) on the climate grid's coordinates; ``attrs`` record the
        model, the cells simulated and those without a steady state (with the first reason).
    """
    import xarray as xr

    if int(block_cells) < 1:
        raise InputDataError("block_cells must be >= 1", field="block_cells", value=block_cells)
    par, t, p, lat, ok, shape, dims = _grid_inputs(model, climate, parameters, mask, source)
    rows = np.flatnonzero(ok)
    n = t.size
    flat = {k: np.full(n, np.nan) for k in _OUTPUTS}
    valid = np.full(n, np.nan)
    reasons: list[str] = []
    blocks = [rows[s:s + int(block_cells)] for s in range(0, rows.size, int(block_cells))]

    def args(b: NDArray[np.int64]) -> tuple[Any, ...]:
        pb = None if par is None else {k: (None if v is None else v[b]) for k, v in par.items()}
        return model, pb, t[b], p[b], lat[b], sand, cwd

    def store(b: NDArray[np.int64], res: dict[str, Any]) -> None:
        for k in _OUTPUTS:
            flat[k][b] = res[k]
        valid[b] = res["valid"].astype(float)
        bad = [r for r in res["reason"] if r]
        reasons.extend(bad[:1])

    if client is None:
        for b in blocks:
            store(b, _block_task(*args(b)))
    else:
        from distributed import as_completed

        from wholesoil.parallel import total_threads

        width = max(2, 2 * total_threads(client))
        it = iter(blocks)
        pending: dict[Any, NDArray[np.int64]] = {}
        for b in it:
            pending[client.submit(_block_task, *args(b), pure=False)] = b
            if len(pending) >= width:
                break
        ac = as_completed(list(pending))
        for fut in ac:
            b = pending.pop(fut)
            store(b, fut.result())
            fut.release()
            nxt = next(it, None)
            if nxt is not None:
                f2 = client.submit(_block_task, *args(nxt), pure=False)
                pending[f2] = nxt
                ac.add(f2)
    coords = {d: climate[d] for d in dims}
    if "spatial_ref" in climate.coords:
        coords["spatial_ref"] = climate.coords["spatial_ref"]
    data = {}
    for k, (long, units) in {**SOC_LAYERS, **COMPONENTS}.items():
        data[k] = (dims, flat[k].reshape(shape), {"long_name": long, "units": units})
    data["valid"] = (dims, valid.reshape(shape), {
        "long_name": "1 where a positive steady state exists, 0 where not", "units": "1"})
    n_bad = int(np.sum(valid == 0))
    attrs = {"model": model, "cells_simulated": int(rows.size), "cells_without_steady_state":
             n_bad, "soc_pools": "S1+S2+S3" if model == "clm5" else "DOC+MIC+ENZ+mSOC",
             "parameters": "defaults" if parameters is None else "maps" if hasattr(
                 parameters, "data_vars") else "uniform",
             "cwd": "none" if cwd is None else str(cwd)}
    if reasons:
        attrs["first_reason"] = reasons[0]
    return xr.Dataset(data, coords=coords, attrs=attrs)


def parameter_table_mean(table: Any, names: Sequence[str]) -> dict[str, float]:
    """Mean of each parameter over the rows of a wide table (PRODA's COMPAS default: the
    global mean of the site-level posterior means, Tao et al. (EarthArXiv) §3)."""
    missing = [n for n in names if n not in table.columns]
    if missing:
        raise InputDataError(f"the table lacks parameter(s) {missing}", field=missing[0])
    return {n: float(np.mean(np.asarray(table[n], dtype=float))) for n in names}
