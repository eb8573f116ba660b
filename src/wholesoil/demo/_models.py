"""Demo stage 5: CLM5 and COMPAS steady states with default parameters at every NCSCD pedon.

Tao et al.'s (EarthArXiv) "ad hoc parameterization" baseline: both process models run with their
default parameters (Tao et al. (EarthArXiv) Supplementary Tables 1–2) under forcing generated from
each pedon's mean annual temperature and precipitation
(:func:`~wholesoil.models._environment.forcing_from_climate`: damped annual soil-temperature wave, a
MAP/PET water index, Miami NPP, a Stefan active layer), all pedons in one batched solve per model.
The modelled SOC (mineral soil pools) is integrated over the observed layers (0–30, 30–100, 100–200,
200–300 cm) and compared with the measured stocks. Misfit is expected: data assimilation (PRODA) is
what closes it.

References
----------
Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wholesoil._atomic import save_figure
from wholesoil.datasets import climate_at
from wholesoil.mapping import skill
from wholesoil.plots.report import Report
from wholesoil.workflows._simulate import _parameters, run_model

#: The observed NCSCD layers [cm].
LAYERS = ((0.0, 30.0), (30.0, 100.0), (100.0, 200.0), (200.0, 300.0))


def models_stage(
    rep: Report,
    out: Path,
    save: Callable[[str, pd.DataFrame], None],
    horizons: pd.DataFrame,
    sites: pd.DataFrame,
    *,
    timings: dict[str, float],
) -> dict[str, Any]:
    """Run the stage, add its section to ``rep``; returns parameters for run.json."""
    from wholesoil.models import forcing_from_climate, layer_stocks

    t0 = time.perf_counter()
    rep.heading("5. Process models with default parameters (Tao et al. (EarthArXiv) baseline)")
    clim = climate_at(sites["lat"], sites["lon"], method="bilinear")
    ok = np.isfinite(clim["mat"].to_numpy(float)) & np.isfinite(clim["map"].to_numpy(float))
    st = sites.loc[ok].reset_index(drop=True)
    c = clim.loc[ok].reset_index(drop=True)
    forcing = forcing_from_climate(c["mat"].to_numpy(float), c["map"].to_numpy(float),
                                   lat=st["lat"].to_numpy(float))
    top = np.array([a for a, _ in LAYERS])
    bottom = np.array([b for _, b in LAYERS])
    obs = (horizons.pivot_table(index="profile_id", columns="top", values="soc_density",
                                aggfunc="first").reindex(index=st["profile_id"], columns=top))
    rows, modelled, timing = [], {}, {}
    for name in ("clm5", "compas"):
        t1 = time.perf_counter()
        res = run_model(name, _parameters(name, {}), forcing)
        timing[name] = time.perf_counter() - t1
        stocks = layer_stocks(res["soc"], top, bottom)  # (sites, 4) Mg C ha⁻¹
        valid = np.broadcast_to(res["valid"], stocks.shape[:1])
        modelled[name] = np.where(valid[:, None], stocks, np.nan)
        for j, (a, b) in enumerate(LAYERS):
            o = obs[a].to_numpy(float)
            m = modelled[name][:, j]
            both = np.isfinite(o) & np.isfinite(m)  # pedons with both (a missing layer is
            sk = skill(o[both], m[both])             # not compared, and counted in n)
            rows.append({
                "model": name.upper(), "layer": f"{a:g}-{b:g} cm", "n": sk["n"],
                "observed_mean": float(np.mean(o[both])) if both.any() else np.nan,
                "modelled_mean": float(np.mean(m[both])) if both.any() else np.nan,
                "r2": sk["r2"], "rmse": sk["rmse"], "bias": sk["bias"],
            })
        if name == "compas":
            n_bad = int((~valid).sum())
            reasons = pd.Series(np.broadcast_to(res["reason"], valid.shape)[~valid])
            bad_tab = pd.DataFrame({"profile_id": st["profile_id"].to_numpy()[~valid],
                                    "reason": reasons.to_numpy()})
            save("models_compas_no_steady_state", bad_tab)
    comp = pd.DataFrame(rows)
    save("models_default_vs_observed", comp)
    per_site = pd.DataFrame({"profile_id": st["profile_id"], "mat": c["mat"], "map": c["map"]})
    for name, arr in modelled.items():
        for j, (a, b) in enumerate(LAYERS):
            per_site[f"{name}_{a:g}_{b:g}"] = arr[:, j]
    save("models_default_by_pedon", per_site)
    fig_path = save_figure(_figure(obs, modelled), out / "figures" / "models_default.png")
    rep.text(
        f"{len(st)} pedons (of {len(sites)}; {int((~ok).sum())} without climate at the site). "
        "Forcing from each pedon's MAT and MAP: soil temperature as an annual wave damped with "
        "depth, a MAP/PET water index, NPP by the Miami model and a Stefan active layer for "
        f"MAT < 0 °C. One batched steady-state solve per model: CLM5 {timing['clm5']:.2f} s, "
        f"COMPAS {timing['compas']:.2f} s for all pedons. COMPAS has no positive steady state "
        f"at {n_bad} pedons (listed in models_compas_no_steady_state.csv, never returned as "
        "numbers)."
    )
    rep.table(comp, "Default-parameter steady states against the observed NCSCD stocks "
              "[Mg C ha⁻¹] by layer: R² (Eq. 4), RMSE (Eq. 5), bias (modelled − observed)")
    rep.figure(fig_path, "Mean SOC stock by layer: observed (NCSCD) and simulated by CLM5 and "
               "COMPAS with default parameters", relative_to=out)
    rep.text(
        "This is Tao et al.'s (EarthArXiv) ad hoc parameterization baseline: default parameters "
        "with forcing "
        "built from two climate numbers cannot reproduce permafrost soils whose carbon sits in "
        "cryoturbated and frozen horizons; the misfit is what the data assimilation stage "
        "(PRODA) is for.", note=True,
    )
    timings["process_models"] = time.perf_counter() - t0
    return {"pedons": len(st), "compas_without_steady_state": n_bad,
            "solve_seconds": timing}


def _figure(obs: pd.DataFrame, modelled: dict[str, np.ndarray]):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4.5))
    ax = fig.subplots()
    centres = np.arange(len(LAYERS))
    labels = [f"{a:g}–{b:g}" for a, b in LAYERS]
    o = np.nanmean(obs.to_numpy(float), axis=0)
    ax.barh(centres - 0.25, o, height=0.25, label="observed (NCSCD)", color="0.4")
    for k, (name, arr) in enumerate(modelled.items()):
        ax.barh(centres + 0.25 * k, np.nanmean(arr, axis=0), height=0.25, label=name.upper())
    ax.set_yticks(centres, labels)
    ax.invert_yaxis()
    ax.set_ylabel("layer [cm]")
    ax.set_xlabel("mean SOC stock [Mg C ha⁻¹]")
    ax.legend()
    fig.tight_layout()
    return fig
