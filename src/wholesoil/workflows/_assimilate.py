"""The job behind ``wholesoil assimilate``: profile-level calibration (Tao et al. (EarthArXiv)
§2.6), resumable.

Profiles (a long layer table) are filtered (Tao et al. (EarthArXiv) §2.1, every rejection with its
reason), cut into batches and calibrated batch by batch with the vectorized adaptive-Metropolis
sampler — all chains of all profiles of a batch advance together — on this machine or a dask
cluster. Each finished batch is written at once (Parquet parts + a record written last); a killed
run restarts where it stopped, never recomputing or duplicating a finished profile.

References
----------
Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wholesoil._record import write_run_record
from wholesoil.errors import InputDataError
from wholesoil.io._write import write_table
from wholesoil.progress import watch
from wholesoil.workflows._jobs import JobResult

#: Columns of the profile table; mat/map may be absent when lat/lon are given (the bundled
#: 2.5° climate is then sampled bilinearly at each profile).
PROFILE_COLUMNS = ("profile_id", "top", "bottom", "soc_density")

#: Posterior draws per profile for the six Tao et al. (EarthArXiv) components' mean and 95 %
#: interval.
COMPONENT_DRAWS = 50


def _calibrate_batch(ids: list, seed: int, *, data: Any, settings: dict[str, Any]
                     ) -> dict[str, pd.DataFrame]:
    """Calibrate the profiles ``ids`` of ``data`` (one batch of the runner)."""
    from wholesoil.assimilation._calibrate import calibrate
    from wholesoil.assimilation._components import chains_table, posterior_components

    # the runner's ids are strings; the table's ids may be numbers (a CSV of integer ids)
    index = np.flatnonzero(np.isin(data.profile_id.astype(str), [str(i) for i in ids]))
    sub = data.subset(index)
    res = calibrate(sub, seed=seed, **settings)
    comps = posterior_components(res, sub, draws=COMPONENT_DRAWS, seed=seed)
    keep = {str(i) for i in ids}  # filtered profiles are reported once, by the job, not per batch
    return {name: tab[tab["profile_id"].astype(str).isin(keep)].reset_index(drop=True)
            for name, tab in (("parameters", res.parameters), ("profiles", res.profiles),
                              ("predictive", res.predictive), ("components", comps),
                              ("chains", chains_table(res, sub.profile_id)))}


def _first_bad_rows(table: pd.DataFrame, rejected: pd.DataFrame, source: str) -> pd.Series:
    """Each filtered profile's reason with the first offending row of the user's file named, in
    the user's column names: a layer whose bottom is not below its top, or whose top or bottom
    is not below the next layer's (layers in order of top, as the filter takes them), a missing
    depth, or SOC missing or not > 0 (:func:`wholesoil.assimilation._costs.profile_filter`)."""
    names = {"top": "top", "bottom": "bottom", "soc_density": "soc_density",
             **table.attrs.get("user_names", {})}
    rows = table.attrs.get("source_row")
    where = f" of {source}" if source else ""
    t_, b_, c_ = names["top"], names["bottom"], names["soc_density"]

    def row(i: Any) -> str:
        return (f"row {int(rows[i])}{where}" if rows is not None
                else f"table row {i}")

    out = rejected["reason"].astype(str).copy()
    bad = rejected["profile_id"].astype(str).to_numpy()
    pid = table["profile_id"].astype(str)
    for k, p in enumerate(bad):
        lay = table[pid == p].sort_values("top", kind="stable")
        top = pd.to_numeric(lay["top"], errors="coerce").to_numpy(float)
        bot = pd.to_numeric(lay["bottom"], errors="coerce").to_numpy(float)
        soc = pd.to_numeric(lay["soc_density"], errors="coerce").to_numpy(float)
        idx = lay.index.to_numpy()
        detail = []
        miss = np.flatnonzero(np.isnan(top) | np.isnan(bot))
        if miss.size:
            detail.append(f"{row(idx[miss[0]])}: {t_} or {b_} empty")
        dated = np.flatnonzero(~np.isnan(top) & ~np.isnan(bot))
        thin = dated[~(bot[dated] > top[dated])]
        if thin.size:
            j = thin[0]
            detail.append(f"{row(idx[j])}: {b_} {bot[j]:g} is not deeper than {t_} {top[j]:g}")
        else:
            for a, b in itertools.pairwise(dated):
                if not (top[b] > top[a] and bot[b] > bot[a]):
                    detail.append(f"{row(idx[a])} and {row(idx[b])}: layers overlap or repeat "
                                  f"({t_} {top[a]:g} → {top[b]:g}, {b_} {bot[a]:g} → "
                                  f"{bot[b]:g})")
                    break
        with np.errstate(invalid="ignore"):
            nosoc = np.flatnonzero(~(soc > 0))
        if nosoc.size:
            v = soc[nosoc[0]]
            detail.append(f"{row(idx[nosoc[0]])}: {c_} {'empty' if np.isnan(v) else f'{v:g}'}, "
                          "needs a value > 0")
        if detail:
            out.iloc[k] = f"{out.iloc[k]} ({'; '.join(detail)}; correct or remove the row)"
    return out


def _sites(table: pd.DataFrame, source: str) -> pd.DataFrame:
    from wholesoil.datasets import climate_at

    first = table.groupby("profile_id", sort=False).first().reset_index()
    if {"mat", "map"} <= set(first.columns):
        cols = ["profile_id", "mat", "map"] + [c for c in ("lat", "sand") if c in first]
        return first[cols]
    if not {"lat", "lon"} <= set(first.columns):
        raise InputDataError("profiles need mat and map columns, or lat and lon to sample the "
                             "bundled climate", file=source, field="mat")
    clim = climate_at(first["lat"], first["lon"], method="bilinear")
    out = first[["profile_id", "lat"]].copy()
    out["mat"] = clim["mat"].to_numpy(float)
    out["map"] = clim["map"].to_numpy(float)
    return out


def assimilate_job(
    profiles: str | Path | pd.DataFrame,
    out: str | Path,
    *,
    model: str = "clm5",
    iterations: Sequence[int] = (20_000, 50_000),
    chains: int = 3,
    mode: str = "proda",
    acceptance: str | None = None,
    scale: str = "proda",
    batch_size: int = 64,
    scheduler: str | None = None,
    seed: int = 0,
    **read_kwargs: Any,
) -> JobResult:
    """Calibrate ``model`` at every profile; resumable, batched, optionally on a dask cluster.

    Parameters
    ----------
    profiles : path or DataFrame
        One row per layer: ``profile_id``, ``top``, ``bottom`` [cm], ``soc_density``
        [Mg C ha⁻¹ per layer], and per profile ``mat`` [°C] and ``map`` [mm yr⁻¹] (or ``lat``
        and ``lon`` to sample the bundled climate).
    out : path
        ``tables/parameters.csv`` (posterior mean, median, mode, 2.5/97.5 %, R̂, ESS per
        parameter), ``tables/profiles.csv`` (accepted or rejected with the reason; NSE, R̂,
        acceptance), ``tables/predictive.csv`` (posterior predictive SOC by layer),
        ``tables/components.csv`` (the six Tao et al. (EarthArXiv) components at the posterior mean
        and their posterior mean and 95 % interval over :data:`COMPONENT_DRAWS` draws),
        ``tables/chains.parquet`` (thinned post-burn-in chains in parameter units),
        ``run.json``, and the per-batch checkpoints under ``runs/`` (Parquet, one part per
        batch and table, written as each batch finishes).
    iterations : (test, formal)
        Tao et al. (EarthArXiv): 20,000 and 50,000.
    mode : {"proda", "gaussian"}
        ``"proda"``: PRODA's costs and annealed acceptance (the paper's point estimates);
        ``"gaussian"``: Metropolis on a Gaussian likelihood, σ = 0.6·obs (a true posterior).
    acceptance : str, optional
        Override of the acceptance rule the mode sets.
    scheduler : str, optional
        None: :data:`wholesoil.parallel.DEFAULT_SCHEDULER` (``"threads"``: this process);
        ``"processes"`` (or ``"local"``): a local dask cluster; an address: a running scheduler
        (:func:`wholesoil.parallel.client_for`). Recorded in ``run.json`` under ``scheduler``.
    **read_kwargs
        How the table is read (``id_column``, ``top_column``, ``bottom_column``, ``column_map``,
        ``units``, ``format``): :func:`~wholesoil.workflows._read.read_layer_table`.
    """
    from wholesoil.assimilation._calibrate import ProfileData
    from wholesoil.assimilation._runner import collect, run_profiles
    from wholesoil.parallel import client_for, parse_scheduler
    from wholesoil.workflows._read import read_layer_table

    t0 = time.perf_counter()
    out = Path(out)
    scheduler = parse_scheduler(scheduler)
    if model not in ("clm5", "compas"):
        raise InputDataError("model must be clm5 or compas", field="model", value=model)
    if len(iterations) != 2 or min(iterations) < 1:
        raise InputDataError("iterations are two positive numbers: test,formal",
                             field="iterations", value=list(iterations))
    table, source = read_layer_table(profiles, **read_kwargs)
    source = source or "<DataFrame>"
    missing = [c for c in PROFILE_COLUMNS if c not in table.columns]
    if missing:
        raise InputDataError(f"the profile table needs columns {list(PROFILE_COLUMNS)}",
                             file=source, field=missing[0])
    table = table.assign(profile_id=table["profile_id"].astype(str))  # ids are labels
    data = ProfileData.from_table(table[list(PROFILE_COLUMNS)], _sites(table, source))
    if data.n_profiles == 0:
        first = data.rejected.iloc[0] if len(data.rejected) else None
        raise InputDataError(
            f"no profile passes the calibration filters ({len(data.rejected)} rejected"
            + ("" if first is None else f"; e.g. {first['profile_id']}: {first['reason']}")
            + "); the filters of Tao et al. (EarthArXiv) need at least 3 layers, deeper than "
            "50 cm, with SOC density and site climate", file=source, field="profile_id")
    settings = {"model": model, "n_chains": int(chains),
                "test_iterations": int(iterations[0]), "formal_iterations": int(iterations[1]),
                "mode": mode, "acceptance": acceptance, "scale": scale,
                "adapt_start": min(4000, max(1, int(iterations[1]) // 2))}
    work = functools.partial(_calibrate_batch, data=data, settings=settings)
    ids = [str(p) for p in data.profile_id]
    n_batches = -(-len(ids) // batch_size)
    records = out / "runs" / "records"

    def finished() -> tuple[int, int]:
        return (sum(1 for _ in records.glob("*.json")) if records.is_dir() else 0), n_batches

    with client_for(scheduler) as client, watch(finished, "calibration batches",
                                                   stage="assimilate", unit="batches"):
        summary = run_profiles(ids, work, out / "runs", batch_size=batch_size, client=client,
                               seed=seed, settings=settings)
    tables = collect(out / "runs")
    rejected = data.rejected if data.rejected is not None else pd.DataFrame(
        columns=["profile_id", "reason"])
    prof = tables["profiles"]
    if len(rejected):
        detailed = _first_bad_rows(table, rejected, source)
        extra = rejected.assign(calibrated=False, accepted=False,
                                reason="filtered: " + detailed.to_numpy())
        prof = pd.concat([prof, extra[~extra["profile_id"].isin(prof["profile_id"])]],
                         ignore_index=True)
    outputs = {
        "parameters": write_table(tables["parameters"], out / "tables" / "parameters.csv"),
        "profiles": write_table(prof, out / "tables" / "profiles.csv"),
        "predictive": write_table(tables["predictive"], out / "tables" / "predictive.csv"),
        "components": write_table(tables["components"], out / "tables" / "components.csv"),
        "chains": write_table(tables["chains"], out / "tables" / "chains.parquet"),
    }
    n_acc = int(prof.get("accepted", pd.Series(dtype=bool)).fillna(False).astype(bool).sum())
    messages = [
        f"{len(ids)} profiles calibrated in {summary.n_batches} batches "
        f"({len(summary.computed)} computed, {len(summary.reused)} from checkpoints); "
        f"{n_acc} accepted (R̂ ≤ 1.05 and NSE ≥ 0); {len(rejected)} filtered out",
    ]
    outputs["run"] = write_run_record(
        out, command="wholesoil assimilate", seed=seed, scheduler=scheduler,
        inputs={"profiles": source},
        options={**settings, "batch_size": batch_size, "scheduler": scheduler},
        extra={"forcing": {k: str(v) for k, v in getattr(data.forcing, "attrs", {}).items()}
               | {"source": "forcing_from_climate (profile MAT/MAP)"},
               "batches": {"n": summary.n_batches, "computed": list(summary.computed),
                           "reused": list(summary.reused)}},
        timings={"total": time.perf_counter() - t0},
        outputs=outputs,
    )
    return JobResult(prof, outputs, None, messages)
