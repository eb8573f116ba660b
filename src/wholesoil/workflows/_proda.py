"""The jobs behind ``wholesoil proda``: train the parameter network, map, and end-to-end.

PRODA's second step (Tao et al. (EarthArXiv) §2.6–2.7) from files:

* :func:`proda_train_job` — the network of :class:`~wholesoil.assimilation.proda.ParameterNetwork`
  trained on the accepted profile calibrations of ``wholesoil assimilate`` (its
  ``tables/parameters.csv`` and ``tables/profiles.csv``) and a site covariate table, or the
  bundled 2.5° climate grid (MAT, MAP) sampled at the sites;
* :func:`proda_map_job` — parameter maps on a covariate grid, then the process model's steady
  state in every cell (:func:`~wholesoil.assimilation.proda.simulate_grid`): SOC by depth and the
  six component maps of Tao et al. (EarthArXiv) Fig. 4, with calibrated and with default parameters;
* :func:`proda_e2e_job` — the end-to-end variant (network → differentiable CLM5 → layer stocks,
  :func:`~wholesoil.assimilation.proda.fit_end_to_end`) trained directly on observed profiles.

A trained model folder holds the network (``network.json``, ``member_<k>.pt``) and
``proda.json`` (process model, covariates and where they came from, the default parameters of
the comparison).

References
----------
Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wholesoil._atomic import save_figure, write_json
from wholesoil._record import write_run_record
from wholesoil.errors import InputDataError
from wholesoil.io._write import write_table
from wholesoil.workflows._jobs import JobResult

#: Keyword that stands for the bundled 2.5° climate grid (covariates ``mat`` and ``map``).
CLIMATE = "climate"
CLIMATE_COVARIATES = ("mat", "map")
PROFILE_META = "proda.json"
#: Columns of a covariate table that are identifiers or coordinates, not covariates, unless
#: named explicitly.
_NOT_COVARIATES = ("profile_id", "lat", "lon", "site_id")


# ------------------------------------------------------------------------------------ inputs


def resolve_posteriors(path: str | Path) -> tuple[Path, Path, dict[str, Any]]:
    """``parameters.csv``, ``profiles.csv`` and the run record of an assimilate output.

    ``path`` is the output folder of ``wholesoil assimilate`` (``tables/`` inside) or its
    ``parameters.csv``, with ``profiles.csv`` beside it.
    """
    p = Path(path)
    if p.is_dir():
        base = p / "tables" if (p / "tables" / "parameters.csv").is_file() else p
        par = base / "parameters.csv"
    else:
        par = p
        base = p.parent
    prof = base / "profiles.csv"
    for f, what in ((par, "posterior parameters (parameters.csv)"),
                    (prof, "profile acceptance table (profiles.csv)")):
        if not f.is_file():
            raise InputDataError(f"expected the {what} of `wholesoil assimilate`; not found",
                                 file=str(f))
    run: dict[str, Any] = {}
    for cand in (base / "run.json", base.parent / "run.json"):
        if cand.is_file():
            run = json.loads(cand.read_text(encoding="utf-8"))
            break
    return par, prof, run


def infer_model(names: Sequence[str], source: str | None = None) -> str:
    """"clm5" or "compas" from the parameter names of a calibration table."""
    from wholesoil.assimilation.proda._simulate import model_parameter_names

    got = set(names)
    for model in ("clm5", "compas"):
        if got == set(model_parameter_names(model)):
            return model
    raise InputDataError(
        "the calibration's parameters are neither CLM5's 21 (Tao et al. (EarthArXiv) Supplementary "
        "Table 1) "
        f"nor COMPAS's 23 (Table 2): {sorted(got)}", file=source, field="parameter")


def site_covariates(
    covariates: str | Path | pd.DataFrame,
    *,
    sites: pd.DataFrame | None = None,
    names: Sequence[str] | None = None,
    source_hint: str | None = None,
) -> tuple[pd.DataFrame, list[str], str]:
    """Covariate table (``profile_id`` + covariates) and the covariate names.

    ``covariates`` is a table (file or DataFrame) or :data:`CLIMATE`, which samples the bundled
    2.5° grid (:func:`wholesoil.datasets.load_climate_grid`, nearest cell) at the ``lat``/``lon``
    of ``sites`` — or takes the sites' own ``mat``/``map`` when they have no coordinates.
    """
    from wholesoil.workflows._read import read_any_table

    if isinstance(covariates, str | Path) and str(covariates) == CLIMATE:
        if sites is None:
            raise InputDataError("'climate' covariates need the sites (profile_id with lat and "
                                 "lon, or mat and map)", field="covariates")
        first = sites.groupby("profile_id", sort=False).first().reset_index()
        if {"lat", "lon"} <= set(first.columns):
            from wholesoil.assimilation.proda._covariates import sample_grid
            from wholesoil.datasets import load_climate_grid

            X = sample_grid(load_climate_grid(), first["lat"].to_numpy(float),
                            first["lon"].to_numpy(float), CLIMATE_COVARIATES,
                            source="bundled climate grid")
            tab = pd.DataFrame(X, columns=list(CLIMATE_COVARIATES))
            tab.insert(0, "profile_id", first["profile_id"].to_numpy())
            return tab, list(CLIMATE_COVARIATES), "bundled 2.5° climate grid at site lat/lon"
        if set(CLIMATE_COVARIATES) <= set(first.columns):
            return (first[["profile_id", *CLIMATE_COVARIATES]].copy(), list(CLIMATE_COVARIATES),
                    "mat/map of the sites")
        raise InputDataError("'climate' covariates need lat and lon (or mat and map) for every "
                             "site", file=source_hint, field="lat")
    tab, src = read_any_table(covariates)
    src = src or "<DataFrame>"
    if "profile_id" not in tab.columns:
        raise InputDataError(f"the covariate table needs a profile_id column; it has "
                             f"{list(tab.columns)}", file=src, field="profile_id")
    if names is None:
        names = [c for c in tab.columns if c not in _NOT_COVARIATES
                 and pd.api.types.is_numeric_dtype(tab[c])]
        if not names:
            raise InputDataError("the covariate table has no numeric covariate column",
                                 file=src, field="covariates")
    return tab, [str(n) for n in names], src


def _space(model: str) -> Any:
    from wholesoil.assimilation import ParameterSpace

    return ParameterSpace.from_clm5() if model == "clm5" else ParameterSpace.from_compas()


def _write_meta(folder: Path, meta: dict[str, Any]) -> Path:
    return write_json(folder / PROFILE_META, meta)


def read_model_dir(model_dir: str | Path) -> tuple[Any, dict[str, Any], Path]:
    """Network and ``proda.json`` of a ``proda train``/``proda e2e`` output (or its model/)."""
    from wholesoil.assimilation.proda import ParameterNetwork

    d = Path(model_dir)
    folder = d / "model" if (d / "model" / "network.json").is_file() else d
    meta_path = folder / PROFILE_META
    if not (folder / "network.json").is_file() or not meta_path.is_file():
        raise InputDataError("expected a model folder of `wholesoil proda train` or `proda e2e` "
                             f"(network.json and {PROFILE_META})", file=str(model_dir))
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    return ParameterNetwork.load(folder), meta, folder


def _run_record(command: str, seed: int | None, inputs: dict[str, Any], params: dict[str, Any],
                t0: float, outputs: dict[str, Path], out: Path, *,
                timings: dict[str, float] | None = None, scheduler: str | None = None) -> Path:
    """Write ``run.json`` of a PRODA job (versions include torch, which every PRODA job uses)."""
    import torch  # noqa: F401  (imported: its version goes into the record)

    return write_run_record(
        out, command=command, seed=seed, inputs=inputs, options=params, scheduler=scheduler,
        timings={"total": time.perf_counter() - t0, **(timings or {})}, outputs=outputs)


# ------------------------------------------------------------------------------------ train


def proda_train_job(
    posteriors: str | Path,
    covariates: str | Path | pd.DataFrame,
    out: str | Path,
    *,
    covariate_names: Sequence[str] | None = None,
    sites: str | Path | pd.DataFrame | None = None,
    loss: str = "ratio_mse",
    members: int = 1,
    max_epochs: int = 6000,
    patience: int = 1200,
    hidden: Sequence[int] = (256, 512, 512, 256),
    statistic: str = "mean",
    seed: int = 0,
    device: str = "auto",
) -> JobResult:
    """Train PRODA's parameter network on the accepted calibrations of an assimilate run.

    Parameters
    ----------
    posteriors : path
        Output folder of ``wholesoil assimilate`` or its ``parameters.csv`` (``profiles.csv``
        beside it says which profiles were accepted: mean R̂ ≤ 1.05 and NSE ≥ 0).
    covariates : path, DataFrame or "climate"
        Site covariates (``profile_id`` + numeric columns, any units), or ``"climate"``: MAT and
        MAP of the bundled 2.5° grid at the sites' lat/lon (from ``sites``, or from the profile
        table the assimilate run recorded).
    out : path
        ``model/`` (network + ``proda.json``), ``tables/training.csv`` (per member: epochs,
        best epoch, seconds per epoch, best validation loss), ``tables/fit.csv`` (R² per
        parameter on the training profiles and on each member's held-out 10 %),
        ``tables/excluded.csv`` (profiles not used, with the reason), ``run.json``.
    covariate_names : sequence of str, optional
        Columns to use (default: every numeric column but profile_id/lat/lon/site_id).
    sites : path or DataFrame, optional
        ``profile_id, lat, lon`` for ``"climate"``.
    loss, members, max_epochs, patience, hidden, statistic, seed, device
        :class:`~wholesoil.assimilation.proda.ParameterNetwork` settings (Tao et al. (EarthArXiv)
        §2.6: ratio × MSE loss, up to 6,000 epochs, 256-512-512-256).
    """
    from wholesoil.assimilation.proda import ParameterNetwork, accepted_targets
    from wholesoil.workflows._read import read_any_table

    t0 = time.perf_counter()
    out = Path(out)
    par_path, prof_path, run = resolve_posteriors(posteriors)
    targets, excluded = accepted_targets(par_path, prof_path, statistic=statistic)
    model = infer_model(targets.columns, str(par_path))
    if sites is None and str(covariates) == CLIMATE:
        src = run.get("inputs", {}).get("profiles")
        if src and Path(src).is_file():
            sites_tab, _ = read_any_table(src)
        else:
            raise InputDataError("'climate' covariates need the sites' lat/lon: give --sites "
                                 "(profile_id, lat, lon); the assimilate run's profile table "
                                 "was not found", file=str(src) if src else None, field="sites")
    else:
        sites_tab = None if sites is None else read_any_table(sites)[0]
    cov, names, cov_src = site_covariates(covariates, sites=sites_tab, names=covariate_names)
    net = ParameterNetwork(_space(model), hidden=tuple(int(h) for h in hidden), loss=loss,
                           n_members=int(members), max_epochs=int(max_epochs),
                           patience=int(patience), seed=int(seed), device=device)
    net.fit_calibrations(par_path, cov, names, profiles=prof_path, statistic=statistic,
                         source=cov_src)
    folder = out / "model"
    net.save(folder)
    sp = net.space_
    default = {n: float(v) for n, v in targets[list(sp.names)].mean().items()}
    meta = {"format": "wholesoil.proda.model/1", "kind": "two-step", "model": model,
            "covariates": names, "covariate_source": cov_src if str(covariates) != CLIMATE
            else CLIMATE, "posteriors": str(par_path), "statistic": statistic,
            "mean_calibrated_parameters": default, "n_training_profiles": len(
                net.training_ids_)}
    _write_meta(folder, meta)
    training = pd.DataFrame([{k: v for k, v in h.items() if k not in ("train", "validation")}
                             | {"member": k, "best_validation_loss": float(np.min(
                                 h["validation"])) if len(h["validation"]) else np.nan}
                             for k, h in enumerate(net.history_)])
    fit = _fit_table(net, cov, names, targets)
    outputs = {
        "model": folder,
        "training": write_table(training, out / "tables" / "training.csv"),
        "fit": write_table(fit, out / "tables" / "fit.csv"),
        "excluded": write_table(excluded, out / "tables" / "excluded.csv"),
    }
    outputs["figure_training"] = save_figure(_history_figure(net.history_),
                                             out / "figures" / "training.png")
    spe = float(np.mean([h["seconds_per_epoch"] for h in net.history_]))
    messages = [
        f"{model}: network trained on {len(net.training_ids_)} accepted profiles "
        f"({len(excluded)} excluded), {len(names)} covariates, {len(net.members_)} member(s), "
        f"{spe * 1000:.1f} ms per epoch",
    ]
    outputs["run"] = _run_record("wholesoil proda train", seed, {
        "posteriors": str(posteriors), "covariates": str(covariates) if not isinstance(
            covariates, pd.DataFrame) else "<DataFrame>"}, {
        "model": model, "loss": loss, "members": members, "max_epochs": max_epochs,
        "patience": patience, "hidden": list(hidden), "statistic": statistic,
        "covariates": names, "device": device}, t0, outputs, out)
    return JobResult(fit, outputs, None, messages)


def _r2(y: np.ndarray, yhat: np.ndarray) -> np.ndarray:
    ss = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    res = ((y - yhat) ** 2).sum(axis=0)
    out = np.full(y.shape[1], np.nan)
    np.divide(ss - res, ss, out=out, where=ss > 0)
    return out


def _fit_table(net: Any, cov: pd.DataFrame, names: Sequence[str], targets: pd.DataFrame
               ) -> pd.DataFrame:
    """R² of the ensemble mean on the training profiles, and of each member on its held-out
    validation profiles (pooled over members), per parameter, in unit coordinates."""
    from wholesoil.assimilation.proda._covariates import profile_covariates
    from wholesoil.assimilation.proda._network import _split

    sp = net.space_
    ids, X = profile_covariates(cov, names, profile_ids=net.training_ids_)
    U = sp.to_unit(targets.loc[ids, list(sp.names)].to_numpy(float))
    pred = net.predict_unit(X)
    rows = {"parameter": list(sp.names), "r2_training": _r2(U, pred.mean(axis=0))}
    ys, yh = [], []
    for k in range(len(net.members_)):
        _, va = _split(len(ids), net.validation_fraction, np.random.default_rng([int(net.seed),
                                                                                 k]))
        ys.append(U[va])
        yh.append(pred[k, va])
    y, h = np.concatenate(ys), np.concatenate(yh)
    rows["r2_validation"] = _r2(y, h) if len(y) > 1 else np.full(sp.n_params, np.nan)
    rows["n_validation"] = len(y)
    return pd.DataFrame(rows)


def _history_figure(history: list[dict[str, Any]]) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5, 3.6), layout="constrained")
    ax = fig.subplots()
    for k, h in enumerate(history):
        ax.plot(h["train"], color=f"C{k}", lw=0.8, label=f"member {k} train" if k < 3 else None)
        ax.plot(h["validation"], color=f"C{k}", ls="--", lw=0.8,
                label=f"member {k} validation" if k < 3 else None)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend(fontsize=7)
    return fig


# ------------------------------------------------------------------------------------ map


def load_grid(grid: str | Path | Any, *, region: str | None = None, land_samples: int = 5
              ) -> tuple[Any, Any, str]:
    """The covariate grid, a mask of the cells to simulate, and its description.

    ``grid`` is a Dataset, a NetCDF/GeoTIFF path (:func:`wholesoil.io.read_grid`) or
    :data:`CLIMATE`. ``region="circumpolar"`` keeps the cells north of 45° N with MAT < 0 °C and
    land (:func:`wholesoil.mapping._regions.circumpolar_region`, the demo's rule); a geographic
    grid is otherwise masked to cells with land (the climate grid covers the oceans), sampled
    at ``land_samples`` × ``land_samples`` points per cell; ``land_samples=0`` keeps every cell
    with covariates (no land mask).
    """
    from wholesoil.mapping._regions import circumpolar_region, land_fraction

    if region not in (None, "circumpolar", "global"):
        raise InputDataError("region must be 'circumpolar' or 'global'", field="region",
                             value=region)
    if isinstance(grid, str | Path):
        if str(grid) == CLIMATE:
            from wholesoil.datasets import load_climate_grid

            ds, src = load_climate_grid(), "bundled 2.5° climate grid"
        else:
            from wholesoil.io import read_grid

            ds, src = read_grid(grid), str(grid)
    else:
        ds, src = grid, "<Dataset>"
    if region == "circumpolar":
        if "mat" not in ds.data_vars:
            raise InputDataError("the circumpolar region needs mat [°C] on the grid", file=src,
                                 field="mat")
        ds = ds.isel(y=np.flatnonzero(ds["y"].values > 45.0))
        reg = circumpolar_region(ds, "mat", lat_min=45.0, mat_max=0.0,
                                 samples=max(land_samples, 1))
        return ds, reg["region"].values, f"{src}, circumpolar region (> 45° N, MAT < 0 °C, land)"
    if land_samples == 0:
        return ds, None, src
    try:
        land = land_fraction(ds, samples=land_samples).values > 0
        return ds, land, f"{src}, land cells"
    except InputDataError:  # not geographic: every cell with covariates
        return ds, None, src


def proda_map_job(
    model_dir: str | Path,
    grid: str | Path | Any,
    out: str | Path,
    *,
    region: str | None = None,
    defaults: bool = True,
    block_cells: int = 4096,
    scheduler: str | None = None,
    land_samples: int = 5,
    cwd: str | float | None = None,
    outside_aoa: str = "keep",
) -> JobResult:
    """Parameter maps, SOC maps and component maps from a trained network (Tao et al. (EarthArXiv)
    §2.7).

    Parameters
    ----------
    model_dir : path
        Output of ``wholesoil proda train`` or ``proda e2e`` (or its ``model/``).
    grid : path, Dataset or "climate"
        Covariates the network needs, plus ``mat`` [°C] and ``map`` [mm yr⁻¹] for the forcing.
    out : path
        ``maps/parameters.nc``, ``maps/soc_calibrated.nc`` (and ``maps/soc_default.nc``),
        PNG maps under ``figures/``, ``tables/summary.csv`` (per output: cells, mean, min, max),
        ``tables/comparison.csv`` (calibrated vs default: correlation of log SOC and of each
        component), ``tables/zonal.csv``, ``run.json``.
    region : {"circumpolar", "global"}, optional
    defaults : bool
        Also simulate with default parameters (CLM5's; for COMPAS the mean of the calibrated
        parameters, Tao et al. (EarthArXiv) §3) for comparison.
    block_cells : int
        Cells per block of the simulation.
    scheduler : str, optional
        None: :data:`wholesoil.parallel.DEFAULT_SCHEDULER` (``"threads"``: this process);
        ``"processes"`` (or ``"local"``): a local dask cluster; an address: a running scheduler
        (:func:`wholesoil.parallel.client_for`). Recorded in ``run.json`` under ``scheduler``.
    cwd : "holdridge", float or None
        Coarse-woody-debris input of the forcing: ``"holdridge"`` (20 % of NPP where
        Holdridge's life zones of the cell's climate are forest,
        :func:`wholesoil.models.holdridge_forest`), a share of NPP everywhere, or None (no CWD,
        the default); recorded in ``run.json``.
    outside_aoa : {"keep", "mask"}
        Cells outside the network's area of applicability (Meyer & Pebesma (2021),
        :meth:`~wholesoil.assimilation.proda.ParameterNetwork.applicability_grid`: covariates
        unlike any training profile's, where the network extrapolates): ``"keep"`` simulates
        them and flags them in ``maps/applicability.nc`` and the messages; ``"mask"`` leaves
        them out (NaN parameters and SOC). A network without an applicability (older
        wholesoil) maps every cell and says so.
    """
    from wholesoil.assimilation.proda._compare import zonal_means
    from wholesoil.assimilation.proda._simulate import COMPONENTS, simulate_grid
    from wholesoil.io import write_netcdf
    from wholesoil.parallel import client_for, parse_scheduler
    from wholesoil.plots.assimilation import latitude_figure
    from wholesoil.plots.maps import plot_grid_map

    t0 = time.perf_counter()
    if outside_aoa not in ("keep", "mask"):
        raise InputDataError("outside_aoa must be 'keep' or 'mask'", field="outside_aoa",
                             value=outside_aoa)
    out = Path(out)
    scheduler = parse_scheduler(scheduler)
    net, meta, _folder = read_model_dir(model_dir)
    model = meta["model"]
    ds, mask, gsrc = load_grid(grid, region=region, land_samples=land_samples)
    t_pred = time.perf_counter()
    params = net.predict_grid(ds, source=gsrc)
    aoa_messages: list[str] = []
    aoa = None
    land = mask
    if getattr(net, "applicability_", None) is not None:
        aoa = net.applicability_grid(ds, source=gsrc)
        inside = aoa["inside_aoa"] == 1
        mapped = np.isfinite(params[net.space_.names[0]].values)
        if mask is not None:
            mapped &= np.asarray(mask, bool)
        n_out = int((mapped & ~inside.values).sum())
        aoa_messages.append(
            f"{n_out} of {int(mapped.sum())} cells lie outside the network's area of "
            f"applicability (dissimilarity index > {aoa.attrs['threshold']:.3g}; Meyer & "
            f"Pebesma 2021): the network extrapolates there; "
            + ("they are left out (--outside-aoa mask)" if outside_aoa == "mask" else
               "they are simulated and flagged in maps/applicability.nc (--outside-aoa mask "
               "leaves them out)"))
        if outside_aoa == "mask":
            mask = inside if mask is None else (inside & mask)
    else:
        aoa_messages.append("this network has no area of applicability (saved by an older "
                            "wholesoil): every cell is mapped; retrain to get one")
    if mask is not None:
        params = params.where(mask)
    t_pred = time.perf_counter() - t_pred
    crs = ds.rio.crs if hasattr(ds, "rio") and ds.rio.crs is not None else None
    runs = {"calibrated": params}
    if defaults:
        runs["default"] = _default_params(model, meta)
    maps: dict[str, Any] = {}
    t_sim = time.perf_counter()
    with client_for(scheduler) as client:
        for label, p in runs.items():
            maps[label] = simulate_grid(model, ds, p, mask=mask, block_cells=block_cells,
                                        client=client, source=gsrc, cwd=cwd)
    t_sim = time.perf_counter() - t_sim
    outputs: dict[str, Path] = {}
    extra = () if aoa is None else (("applicability", aoa),)
    for name, d in (("parameters", params), *((f"soc_{k}", v) for k, v in maps.items()),
                    *extra):
        if crs is not None:
            d = d.rio.write_crs(crs)
        outputs[name] = write_netcdf(d, out / "maps" / f"{name}.nc")
    figs = out / "figures"
    cal = maps["calibrated"]
    for var in ("soc_0_100", *COMPONENTS):
        outputs[f"map_{var}"] = plot_grid_map(cal[var], figs / f"{var}_calibrated.png",
                                              title=f"{model.upper()} after PRODA: "
                                              f"{cal[var].attrs['long_name']}")
    if "default" in maps:
        outputs["map_soc_0_100_default"] = plot_grid_map(
            maps["default"]["soc_0_100"], figs / "soc_0_100_default.png",
            title=f"{model.upper()} with default parameters: SOC 0-100 cm")
    for n in net.space_.names[:2]:  # the first two; every parameter is in parameters.nc
        outputs[f"map_parameter_{n}"] = plot_grid_map(params[n], figs / f"parameter_{n}.png")
    zonal = zonal_means(maps)
    outputs["zonal"] = write_table(zonal, out / "tables" / "zonal.csv")
    outputs["figure_latitude"] = save_figure(
        latitude_figure(zonal, title=f"{model.upper()}: SOC 0-100 cm by latitude"),
        figs / "latitude_soc_0_100.png")
    summary = _summary(maps, params)
    outputs["summary"] = write_table(summary, out / "tables" / "summary.csv")
    if "default" in maps:
        from wholesoil.assimilation.proda._compare import compare_structures

        comp = compare_structures({"default vs calibrated": maps["default"]},
                                  {"default vs calibrated": maps["calibrated"]})
        outputs["comparison"] = write_table(comp, out / "tables" / "comparison.csv")
    if aoa is not None:
        outputs["map_applicability"] = plot_grid_map(
            aoa["dissimilarity"] if land is None else aoa["dissimilarity"].where(land),
            figs / "applicability.png",
            title=f"dissimilarity to the training covariates (AOA: ≤ "
                  f"{aoa.attrs['threshold']:.3g})")
    n_cells = int(cal.attrs["cells_simulated"])
    messages = [f"{model}: parameters predicted and steady states solved in {n_cells} cells of "
                f"{gsrc} ({n_cells * len(maps) / max(t_sim, 1e-9):.0f} cells s-1)",
                *aoa_messages]
    bad = int(cal.attrs["cells_without_steady_state"])
    if bad:
        messages.append(f"{bad} cell(s) have no positive steady state (NaN; valid = 0 in the "
                        f"maps): {cal.attrs.get('first_reason', '')}")
    outputs["run"] = _run_record(
        "wholesoil proda map", None,
        {"model_dir": str(model_dir),
         "grid": str(grid) if isinstance(grid, str | Path) else "<Dataset>"},
        {"model": model, "region": region, "defaults": defaults, "cwd": cwd,
         "outside_aoa": outside_aoa,
         "block_cells": block_cells,
         "scheduler": scheduler, "cells": n_cells}, t0, outputs, out,
        timings={"predict_parameters": t_pred, "simulate": t_sim}, scheduler=scheduler)
    return JobResult(summary, outputs, None, messages)


def _default_params(model: str, meta: dict[str, Any]) -> dict[str, Any] | None:
    """CLM5: its defaults (None); COMPAS: the mean calibrated parameters when known
    (Tao et al. (EarthArXiv) §3: "we used the global mean values of the selected parameters after
    site-level data assimilation as the default parameterization"), else Supplementary Table 2's."""
    if model == "compas" and meta.get("mean_calibrated_parameters"):
        return dict(meta["mean_calibrated_parameters"])
    return None


def _summary(maps: dict[str, Any], params: Any) -> pd.DataFrame:
    rows = []
    for label, d in maps.items():
        for var in d.data_vars:
            if var == "valid":
                continue
            v = np.asarray(d[var].values, float)
            fin = v[np.isfinite(v)]
            rows.append({"parameters": label, "variable": var, "units": d[var].attrs.get(
                "units", ""), "cells": fin.size, "mean": fin.mean() if fin.size else np.nan,
                "min": fin.min() if fin.size else np.nan,
                "max": fin.max() if fin.size else np.nan})
    for var in params.data_vars:
        if str(var).endswith("_sd"):
            continue
        v = np.asarray(params[var].values, float)
        fin = v[np.isfinite(v)]
        rows.append({"parameters": "network", "variable": f"parameter {var}",
                     "units": params[var].attrs.get("units", ""), "cells": fin.size,
                     "mean": fin.mean() if fin.size else np.nan,
                     "min": fin.min() if fin.size else np.nan,
                     "max": fin.max() if fin.size else np.nan})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------ e2e


def proda_e2e_job(
    profiles: str | Path | pd.DataFrame,
    covariates: str | Path | pd.DataFrame,
    out: str | Path,
    *,
    covariate_names: Sequence[str] | None = None,
    members: int = 1,
    max_epochs: int = 6000,
    patience: int = 1200,
    hidden: Sequence[int] = (256, 512, 512, 256),
    seed: int = 0,
    device: str = "auto",
    **read_kwargs: Any,
) -> JobResult:
    """End-to-end calibration of the parameter network against observed SOC (CLM5 only).

    Parameters
    ----------
    profiles : path or DataFrame
        As for ``wholesoil assimilate``: one row per layer, ``profile_id``, ``top``, ``bottom``
        [cm], ``soc_density`` [Mg C ha⁻¹ per layer], and per profile ``mat`` [°C] and ``map``
        [mm yr⁻¹] or ``lat``/``lon`` (the bundled climate is then sampled). Profiles failing
        Tao et al. (EarthArXiv) §2.1's filters (≥ 3 layers, deeper than 50 cm) are left out and
        listed.
    covariates : path, DataFrame or "climate"
        Site covariates (``profile_id`` + numeric columns) or ``"climate"`` (MAT/MAP of the
        bundled grid at the profiles' lat/lon, or their own mat/map).
    out : path
        ``model/`` (network + ``proda.json``, usable by ``proda map``), ``tables/fit.csv``
        (NSE per profile, held out or not), ``tables/layers.csv`` (observed and simulated SOC by
        layer), ``tables/excluded.csv``, ``run.json``.
    ``read_kwargs`` read ``profiles`` as ``wholesoil assimilate`` does
    (:func:`~wholesoil.workflows._read.read_layer_table`).
    """
    from wholesoil.assimilation import ProfileData
    from wholesoil.assimilation.proda import (
        ParameterNetwork,
        fit_end_to_end,
        predict_layer_stocks,
    )
    from wholesoil.assimilation.proda._covariates import profile_covariates
    from wholesoil.workflows._assimilate import PROFILE_COLUMNS, _sites
    from wholesoil.workflows._read import read_layer_table

    t0 = time.perf_counter()
    out = Path(out)
    table, source = read_layer_table(profiles, **read_kwargs)
    source = source or "<DataFrame>"
    missing = [c for c in PROFILE_COLUMNS if c not in table.columns]
    if missing:
        raise InputDataError(f"the profile table needs columns {list(PROFILE_COLUMNS)}",
                             file=source, field=missing[0])
    sites = _sites(table, source)
    if "lat" not in sites.columns:
        raise InputDataError("profiles need lat (the season of the forcing) besides mat/map",
                             file=source, field="lat")
    data = ProfileData.from_table(table[list(PROFILE_COLUMNS)], sites)
    first = table.groupby("profile_id", sort=False).first().reset_index()
    cov, names, cov_src = site_covariates(covariates, sites=first, names=covariate_names)
    _ids, X = profile_covariates(cov, names, profile_ids=data.profile_id, source=cov_src)
    net = ParameterNetwork(_space("clm5"), hidden=tuple(int(h) for h in hidden),
                           n_members=int(members), max_epochs=int(max_epochs),
                           patience=int(patience), seed=int(seed), device=device)
    t_fit = time.perf_counter()
    fit_end_to_end(data, X, covariate_names=names, network=net)
    t_fit = time.perf_counter() - t_fit
    folder = out / "model"
    net.save(folder)
    _write_meta(folder, {"format": "wholesoil.proda.model/1", "kind": "end-to-end",
                         "model": "clm5", "covariates": names,
                         "covariate_source": cov_src if str(covariates) != CLIMATE else CLIMATE,
                         "profiles": source, "n_training_profiles": int(data.n_profiles)})
    stocks, nse = predict_layer_stocks(net, data, X)
    held = set(map(str, np.concatenate(net.validation_ids_))) if net.validation_ids_ else set()
    fit = pd.DataFrame({"profile_id": data.profile_id, "nse": nse,
                        "held_out": [str(p) in held for p in data.profile_id]})
    n_l = data.soc.shape[1]
    lay = pd.DataFrame({
        "profile_id": np.repeat(data.profile_id, n_l), "top": data.top.ravel(),
        "bottom": data.bottom.ravel(), "observed_mg_ha": data.soc.ravel(),
        "simulated_mg_ha": stocks.ravel()}).dropna(subset=["top"])
    rejected = data.rejected if data.rejected is not None else pd.DataFrame(
        columns=["profile_id", "reason"])
    outputs = {
        "model": folder,
        "fit": write_table(fit, out / "tables" / "fit.csv"),
        "layers": write_table(lay, out / "tables" / "layers.csv"),
        "excluded": write_table(rejected, out / "tables" / "excluded.csv"),
    }
    outputs["figure_training"] = save_figure(_history_figure(net.history_),
                                             out / "figures" / "training.png")
    ho = fit.loc[fit["held_out"], "nse"]
    spe = float(np.mean([h["seconds_per_epoch"] for h in net.history_]))
    messages = [
        f"clm5 end-to-end: {data.n_profiles} profiles ({len(rejected)} filtered out), "
        f"{len(names)} covariates, {t_fit:.1f} s ({spe * 1000:.0f} ms per epoch); median NSE "
        f"{np.nanmedian(nse):.3f} (all), "
        + (f"{np.nanmedian(ho):.3f} (held out, {len(ho)})" if len(ho) else "no held-out "
           "profiles")
    ]
    outputs["run"] = _run_record("wholesoil proda e2e", seed, {
        "profiles": source, "covariates": str(covariates) if not isinstance(
            covariates, pd.DataFrame) else "<DataFrame>"}, {
        "members": members, "max_epochs": max_epochs, "patience": patience,
        "hidden": list(hidden), "covariates": names, "device": device}, t0, outputs, out,
        timings={"fit": t_fit})
    return JobResult(fit, outputs, None, messages)
