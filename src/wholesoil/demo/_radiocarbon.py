"""Demo stage 9: carbon ages from Δ14C and the fate of root-derived inputs
(Wang G. et al. (manuscript)).

The bundled ISRaD Howland Forest entry (Gaudinski et al. 2000/2001): every layer with Δ14C is
inverted through the one-pool model forced by the Hua 2021 NH zone 1 bomb curve
(Wang G. et al. (manuscript) Eqs. 1–3, all roots found, the slow root used, ambiguous layers
flagged), giving carbon ages; then inputs to bulk soil I_bulk = C_stock / C_age (Eq. 6) on the seven
standard layers, root inputs I_root from Miami NPP, the Wang G. et al. (manuscript) mean belowground
fraction and a temperate coniferous Jackson root profile, and the direct losses I_loss = I_root −
I_bulk with Monte Carlo intervals.

References
----------
Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from wholesoil.plots.report import Report

#: Monte Carlo runs of the inputs (Wang G. et al. (manuscript) uses 500; quick mode fewer).
DEMO_DRAWS = {"default": 500, "quick": 100}


def radiocarbon_stage(
    rep: Report,
    out: Path,
    save: Callable[[str, pd.DataFrame], None],
    *,
    seed: int,
    timings: dict[str, float],
    quick: bool = False,
) -> dict[str, Any]:
    """Run the stage, add its section to ``rep``; returns parameters for run.json."""
    from wholesoil.datasets import data_path
    from wholesoil.workflows._inputs import inputs_demo
    from wholesoil.workflows._radiocarbon import profile_job

    t0 = time.perf_counter()
    rep.heading("9. Carbon ages from Δ14C and the fate of root inputs "
                "(Wang G. et al. (manuscript))")
    ages = profile_job(data_path("profiles/israd_gaudinski2001"), out / "radiocarbon")
    tab = ages.table
    obs = tab[tab["status"] == "ok"]
    save("radiocarbon_ages", tab)
    rep.text(
        "Each layer's Δ14C (filled from fraction modern with the observation year where only "
        "Fm is reported, ISRaD's convention, λ = 0.00012097 yr⁻¹) is inverted through the "
        "one-pool model dA/dt = k·A_atm(t) − (k + λ)·A (Wang G. et al. (manuscript) Eqs. 1–3, λ = "
        "1/8267 yr⁻¹), "
        "started at its pre-bomb steady state in 1950 and forced by the Hua et al. (2022) "
        "NH zone 1 curve (cubic spline of the monthly values) joined to IntCal20 before it. "
        "Every root k in 10⁻⁵–10 yr⁻¹ is found; post-bomb observations often have two "
        "(a fast pool that took up bomb carbon and a slow one), and the slow root — bulk soil, "
        "as Wang G. et al. (manuscript) — is used; C_age = 1/k. " + " ".join(ages.messages)
    )
    show = obs[["horizon", "top", "bottom", "year", "d14c", "n_roots", "age",
                "ambiguous"]].copy()
    show.insert(0, "profile", obs["profile_id"].str.split(":").str[-1])
    rep.table(show, "Carbon age of every Howland Forest layer with Δ14C [yr]",
              float_format="{:.4g}")
    rep.figure(ages.outputs["figure"], "Δ14C against depth (depth downward) with the one-pool "
               "model at the chosen root, and the carbon ages.", relative_to=out)

    draws = DEMO_DRAWS["quick" if quick else "default"]
    inp = inputs_demo(out / "inputs", draws=draws, seed=seed)
    lay = inp.table
    save("inputs_layers", lay)
    mc = pd.read_csv(inp.outputs["monte_carlo"])
    save("inputs_monte_carlo", mc)
    rep.text(
        "Inputs to bulk soil I_bulk = C_stock / C_age (Wang G. et al. (manuscript) Eq. 6) on the "
        "standard layers "
        "0–20 … 150–200 cm (stock and I_bulk harmonized as masses; layers the horizons do not "
        "cover are left empty, never extrapolated). Root inputs I_root = NPP · f_BNPP · root "
        "fraction, with NPP from the Miami model (Lieth 1975) at the site's climate, "
        "f_BNPP = 0.377 (Wang G. et al.'s (manuscript) mean over its NPP sites) and the temperate "
        "coniferous "
        "Jackson et al. (1996) profile (β = 0.976). Direct losses I_loss = I_root − I_bulk. "
        f"Monte Carlo: {draws} draws, 10 % normal error on every piece (seed {seed}). "
        + " ".join(inp.messages)
    )
    rep.table(lay.drop(columns=["profile_id"]), "Inputs by standard layer, Tower Pit "
              "[Mg C ha⁻¹ yr⁻¹; stock Mg C ha⁻¹; age yr]", float_format="{:.3g}")
    rep.table(mc, "Monte Carlo summary (mean, sd, 2.5/97.5 %)", float_format="{:.3g}")
    rep.figure(inp.outputs["figure"], "Root-derived inputs against inputs to bulk soil by "
               "depth (depth downward): most of what roots put in never reaches bulk soil.",
               relative_to=out)
    total = lay.dropna(subset=["i_bulk", "i_root"])
    frac = 1 - total["i_bulk"].sum() / total["i_root"].sum() if len(total) else float("nan")
    rep.text(
        f"Over the covered layers, {frac:.0%} of root inputs are lost directly; "
        f"Wang G. et al. (manuscript) "
        "finds about 80 % across its sites."
    )
    timings["radiocarbon_inputs"] = time.perf_counter() - t0
    return {"israd_entry": "israd_gaudinski2001", "zone": "NHZone1", "curve": "hua2021",
            "lambda_model": 1 / 8267, "start_year": 1950, "root_choice": "slow",
            "draws": draws, "f_bnpp": 0.377, "jackson_beta": 0.976,
            "loss_fraction_covered_layers": frac}
