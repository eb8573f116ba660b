"""The job behind ``wholesoil simulate``: CLM5 or COMPAS steady states at sites.

Forcing comes from CLM5 history files (Tao et al. (EarthArXiv) Supplementary Table 3) or is
generated from mean annual temperature and precipitation
(:func:`~wholesoil.models._environment.forcing_from_climate`); parameters are the model's defaults
(Tao et al. (EarthArXiv) Supplementary Tables 1–2) with overrides from a JSON or CSV file. Writes
pools by layer, SOC profiles, SOC stocks of chosen layers, diagnostics (inputs, respiration, mean
transit time, system age; COMPAS: whether a positive steady state exists and why not) and a figure.

References
----------
Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from wholesoil._atomic import save_figure
from wholesoil._record import write_run_record
from wholesoil.errors import InputDataError
from wholesoil.io._write import write_table
from wholesoil.progress import step
from wholesoil.workflows._jobs import JobResult

ProcessModel = Literal["clm5", "compas"]
MODELS: tuple[str, ...] = ("clm5", "compas")
#: Pools counted as soil organic carbon when models are compared with observations: the mineral
#: soil pools (CLM5 S1–S3; COMPAS DOC, MIC, ENZ, mSOC, as PRODA sums them).
SOC_POOLS = {"clm5": ("S1", "S2", "S3"), "compas": ("DOC", "MIC", "ENZ", "mSOC")}


def read_parameters(path: str | Path) -> dict[str, Any]:
    """Parameter overrides from JSON ({name: value or list}) or CSV (a ``name,value`` table, or
    one column per parameter and one row per parameter set)."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputDataError(f"not valid JSON: {exc}", file=str(path)) from exc
        if not isinstance(raw, dict):
            raise InputDataError("expected a JSON object {parameter: value}", file=str(path))
        return {str(k): np.asarray(v, dtype=float) for k, v in raw.items()}
    from wholesoil.workflows._train import read_any_table

    tab, _ = read_any_table(path)
    if {"name", "value"} <= set(tab.columns) and len(tab.columns) == 2:
        return {str(n): float(v) for n, v in zip(tab["name"], tab["value"], strict=True)}
    return {str(c): tab[c].to_numpy(float) for c in tab.columns}


def _parameters(model: str, overrides: Mapping[str, Any]) -> Any:
    if model == "clm5":
        from wholesoil.models._clm5 import CLM5Parameters

        known = set(CLM5Parameters.__dataclass_fields__)
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise InputDataError(f"unknown CLM5 parameters; known: {sorted(known)}",
                                 field=unknown[0], value=unknown)
        return CLM5Parameters(**overrides)
    from wholesoil.models._compas import COMPAS_PARAMETERS, COMPASParameters

    known = set(COMPAS_PARAMETERS)
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise InputDataError(f"unknown COMPAS parameters; known: {sorted(known)}",
                             field=unknown[0], value=unknown)
    return COMPASParameters.default(**overrides)


def build_forcing(
    *,
    forcing: str | Path | Sequence[str | Path] | None = None,
    sites: pd.DataFrame | None = None,
    mat: float | None = None,
    map: float | None = None,
    lat: float | None = None,
    sand: float = 40.0,
    nbedrock: int = 20,
) -> Any:
    """Forcing from CLM5 history files, from a sites table (mat, map[, lat, sand]), or from one
    MAT/MAP pair."""
    from wholesoil.io import read_clm5_history
    from wholesoil.models._environment import forcing_from_climate

    if forcing is not None:
        return read_clm5_history(forcing, nbedrock=nbedrock)
    if sites is not None:
        for col in ("mat", "map"):
            if col not in sites.columns:
                raise InputDataError("the sites table needs mat [°C] and map [mm yr-1]",
                                     field=col)
        la = sites["lat"].to_numpy(float) if "lat" in sites.columns else None
        sd = sites["sand"].to_numpy(float) if "sand" in sites.columns else sand
        return forcing_from_climate(sites["mat"].to_numpy(float), sites["map"].to_numpy(float),
                                    lat=la, sand=sd, nbedrock=nbedrock)
    if mat is None or map is None:
        raise InputDataError("give --forcing FILE, a sites table, or both --mat and --map",
                             field="forcing")
    return forcing_from_climate(np.asarray([mat], float), np.asarray([map], float),
                                lat=None if lat is None else np.asarray([lat], float),
                                sand=sand, nbedrock=nbedrock)


def run_model(model: str, params: Any, forcing: Any, *, normalize_century: bool = False
              ) -> dict[str, Any]:
    """Steady state and diagnostics of ``model`` for every site (batched).

    Returns pools (sites, pools, layers) [g C m⁻³], pool names, soc (sites, layers), valid
    (sites,), reason, input and respiration [g C m⁻² yr⁻¹], and for CLM5, from the structured
    solver: mean transit time and system mean age [yr], the radiocarbon steady state's fraction
    modern (pre-bomb, F = 1 inputs, λ = ln 2/5730 yr⁻¹) and Tao et al. (EarthArXiv) Eqs. 10–14 (CTE,
    K_bulk, V_system, ξ_system, B_system; PRODA's pool choices). COMPAS's state-dependent rates make
    the linear age machinery inapplicable, so it reports existence, inputs and respiration.
    """
    from wholesoil.models._ages import age_summary, radiocarbon_steady_state
    from wholesoil.models._diagnostics import system_diagnostics

    if model == "clm5":
        from wholesoil.models._clm5 import CLM5, CLM5_POOLS

        m = CLM5(params, forcing, normalize_century=normalize_century)
        x = m.steady_state()
        names = CLM5_POOLS
        valid = np.all(np.isfinite(x), axis=(-2, -1))
        reason = np.where(valid, "", "no finite steady state")
        dz = m.grid.dz

        def solve(shift: float, rhs: np.ndarray) -> np.ndarray:
            return m.solve(rhs, shift=shift)

        ages = age_summary(solve, m.inputs, weights=dz, state_ndim=2)
        rc = radiocarbon_steady_state(solve, m.inputs, weights=dz, state_ndim=2)
        eye = np.eye(len(CLM5_POOLS))
        sd = system_diagnostics(
            m.transfer - eye, x, m.k, m.xi, m.v_bands[1], m.inputs.sum(axis=-2), dz,
            cte_pools=range(1, 7), soc_pools=(4, 5, 6),  # PRODA's choices (fun_bulk_process.m)
        )
        out = {"input": m.total_input(), "respiration": m.total_respiration(x),
               "mean_transit_time": ages.mean_transit_time,
               "system_mean_age": ages.system_mean_age,
               "fraction_modern": rc.system_fraction_modern,
               "cte": sd.cte, "k_bulk": sd.k_bulk, "v_system": sd.v_system,
               "xi_system": sd.xi_system, "b_system": sd.b_system}
    elif model == "compas":
        from wholesoil.models._compas import COMPAS, POOLS

        m = COMPAS(params, forcing)
        ss = m.steady_state()
        x, names, valid = ss.pools, POOLS, np.asarray(ss.valid)
        reason = np.asarray(ss.reason)
        dz = m.grid.dz
        out = {"input": m.column_input(),
               "respiration": (m.respiration(ss) * dz).sum(axis=(-2, -1))}
    else:
        raise InputDataError(f"model must be one of {list(MODELS)}", field="model", value=model)
    soc_idx = [names.index(p) for p in SOC_POOLS[model]]
    soc = x[..., soc_idx, :].sum(axis=-2)
    return {"pools": x, "pool_names": tuple(names), "soc": soc, "valid": valid,
            "reason": reason, "dz": dz, "model": m, **out}


def simulate_job(
    out: str | Path,
    *,
    model: ProcessModel = "clm5",
    params: str | Path | Mapping[str, Any] | None = None,
    forcing: str | Path | Sequence[str | Path] | None = None,
    sites: str | Path | pd.DataFrame | None = None,
    site_column: str = "site_id",
    mat: float | None = None,
    map: float | None = None,
    lat: float | None = None,
    sand: float = 40.0,
    nbedrock: int = 20,
    depths: Sequence[float] = (0.0, 30.0, 100.0, 200.0, 300.0),
    normalize_century: bool = False,
    column_map: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
) -> JobResult:
    """Steady states of CLM5 or COMPAS at one or many sites; writes tables, a figure, run.json.

    Parameters
    ----------
    out : path
        Output folder: ``tables/pools.csv`` (site, pool, layer, depths, g C m⁻³),
        ``tables/profiles.csv`` (SOC density by layer), ``tables/layer_stocks.csv`` (SOC per
        ``depths`` interval, Mg C ha⁻¹, integrated over the model layers),
        ``tables/diagnostics.csv``, ``figures/profiles.png``, ``run.json``.
    model : {"clm5", "compas"}
    params : path or mapping, optional
        Overrides of the default parameters (JSON or CSV; see :func:`read_parameters`).
    forcing : path(s), optional
        CLM5 history NetCDF file(s) (Tao et al. (EarthArXiv) Supplementary Table 3).
    sites : path or DataFrame, optional
        One row per site with ``mat`` [°C], ``map`` [mm yr⁻¹], optional ``lat``, ``sand`` and
        ``site_column``; forcing is generated from climate.
    mat, map, lat : float, optional
        One site from climate.
    column_map, units : mapping, optional
        How ``sites`` is read (:func:`wholesoil.workflows._read.read_any_table`): the user's
        column names → wholesoil's, and units to convert.
    """
    from wholesoil.models._observe import layer_stocks

    t0 = time.perf_counter()
    out = Path(out)
    if model not in MODELS:
        raise InputDataError(f"model must be one of {list(MODELS)}", field="model", value=model)
    table = None
    if sites is not None:
        from wholesoil.workflows._read import read_any_table

        table, _ = read_any_table(sites, column_map=column_map, units=units)
    overrides = {} if params is None else (
        dict(params) if isinstance(params, Mapping) else read_parameters(params))
    p = _parameters(model, overrides)
    f = build_forcing(forcing=forcing, sites=table, mat=mat, map=map, lat=lat, sand=sand,
                      nbedrock=nbedrock)
    with step(f"{model} steady states", stage="simulate"):
        res = run_model(model, p, f, normalize_century=normalize_century)
    x, soc, grid = res["pools"], res["soc"], res["model"].grid
    x = x.reshape(-1, *x.shape[-2:])
    soc = soc.reshape(-1, soc.shape[-1])
    n_sites = x.shape[0]
    if table is not None and site_column in table.columns and len(table) == n_sites:
        ids = table[site_column].astype(str).to_numpy()
    else:
        ids = np.array([f"site{i + 1}" for i in range(n_sites)])
    n_p, n_l = x.shape[-2:]
    names = res["pool_names"]
    pools = pd.DataFrame({
        "site": np.repeat(ids, n_p * n_l),
        "pool": np.tile(np.repeat(names, n_l), n_sites),
        "layer": np.tile(np.arange(1, n_l + 1), n_sites * n_p),
        "z_top_m": np.tile(grid.z_top, n_sites * n_p),
        "z_bottom_m": np.tile(grid.z_bottom, n_sites * n_p),
        "density_g_m3": x.ravel(),
    })
    profiles = pd.DataFrame({
        "site": np.repeat(ids, n_l), "layer": np.tile(np.arange(1, n_l + 1), n_sites),
        "z_top_m": np.tile(grid.z_top, n_sites), "z_bottom_m": np.tile(grid.z_bottom, n_sites),
        "soc_g_m3": soc.ravel(),
    })
    d = np.asarray(depths, dtype=float)
    stocks = layer_stocks(soc, d[:-1], d[1:], grid)  # (sites, n) Mg C ha⁻¹
    lay = pd.DataFrame({
        "site": np.repeat(ids, d.size - 1), "top_cm": np.tile(d[:-1], n_sites),
        "bottom_cm": np.tile(d[1:], n_sites), "soc_mg_ha": stocks.ravel(),
    })
    diag = pd.DataFrame({
        "site": ids,
        "valid": np.broadcast_to(res["valid"], (n_sites,)).reshape(-1),
        "reason": np.broadcast_to(res["reason"], (n_sites,)).reshape(-1),
        "soc_stock_kg_m2": (soc * grid.dz).sum(axis=-1) / 1000.0,
        "input_g_m2_yr": np.broadcast_to(res["input"], (n_sites,)).reshape(-1),
        "respiration_g_m2_yr": np.broadcast_to(res["respiration"], (n_sites,)).reshape(-1),
    })
    extra = {"mean_transit_time": "mean_transit_time_yr", "system_mean_age": "system_mean_age_yr",
             "fraction_modern": "fraction_modern_steady_state", "cte": "cte_eq10",
             "k_bulk": "k_bulk_eq11_per_yr", "v_system": "v_system_eq12_per_yr",
             "xi_system": "xi_system_eq13", "b_system": "b_system_eq14"}
    for key, col in extra.items():
        if key in res:
            diag[col] = np.broadcast_to(res[key], (n_sites,)).reshape(-1)
    outputs = {
        "pools": write_table(pools, out / "tables" / "pools.csv"),
        "profiles": write_table(profiles, out / "tables" / "profiles.csv"),
        "layer_stocks": write_table(lay, out / "tables" / "layer_stocks.csv"),
        "diagnostics": write_table(diag, out / "tables" / "diagnostics.csv"),
    }
    outputs["figure_profiles"] = save_figure(
        _profile_figure(soc, grid, ids, model), out / "figures" / "profiles.png")
    n_bad = int((~diag["valid"]).sum())
    messages = [f"{model}: steady states at {n_sites} site(s) in "
                f"{time.perf_counter() - t0:.2f} s"]
    if n_bad:
        messages.append(f"{n_bad} site(s) have no positive steady state (see diagnostics.csv)")
    outputs["run"] = write_run_record(
        out, command="wholesoil simulate",
        options={k: np.asarray(v).tolist() for k, v in overrides.items()},
        extra={"model": model,
               "forcing": str(forcing) if forcing is not None else (
                   "sites table" if table is not None else {"mat": mat, "map": map, "lat": lat}),
               "normalize_century": normalize_century, "depths_cm": d.tolist()},
        timings={"total": time.perf_counter() - t0}, outputs=outputs)
    return JobResult(diag, outputs, None, messages)


def _profile_figure(soc: np.ndarray, grid: Any, ids: np.ndarray, model: str, max_sites: int = 12):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5, 6))
    ax = fig.subplots()
    for i in range(min(len(ids), max_sites)):
        y = np.repeat(np.r_[grid.z_top[0], grid.z_bottom], 2)[1:-1]
        ax.plot(np.repeat(soc[i], 2) / 1000.0, y, label=str(ids[i]))
    ax.set_ylim(float(grid.z_bottom[-1]), 0.0)
    ax.set_yscale("symlog", linthresh=0.5)
    ax.set_xlabel("SOC density [kg C m⁻³]")
    ax.set_ylabel("depth [m]")
    ax.set_title(f"{model.upper()} steady state")
    if len(ids) > 1:
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
