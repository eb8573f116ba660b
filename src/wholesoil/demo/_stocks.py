"""Demo stage 4: β and topsoil maps over the northern circumpolar region, and its SOC stocks.

The NCSCD pedons' β (stage 2) and 0–30 cm SOC density are modelled from MAT and MAP (random
forests with Wang H. et al.'s (2025) Monte Carlo interval models) and mapped over the bundled 2.5°
climate grid, block by block (:func:`wholesoil.mapping.predict_grid`). The region is defined by a
rule anyone can reproduce: land north of 45°N with mean annual air temperature below 0 °C, with the
land fraction of each cell from the 1 km GLOBE-derived mask (``global-land-mask``). Layer
densities follow Wang H. et al. (2025) Eq. 3 from the β and topsoil maps, and stocks Eq. 6 with
Wang H. et al.'s (2025) Monte Carlo (§2.7): 1,000 joint draws of β and topsoil per cell (draw k of
both models uses the same bootstrap resample of pedons and forest k mod 100), Eq. 3 recomputed per
draw, summed over the region, 2.5 and 97.5 % percentiles. The totals are set beside
Hugelius et al. (2014).

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from wholesoil._atomic import save_figure
from wholesoil.datasets import load_climate_grid
from wholesoil.io import write_cogs, write_netcdf
from wholesoil.mapping import (
    CellDistribution,
    circumpolar_region,
    interval_from_draws,
    layers_from_beta,
    load_model,
    predict_grid,
    stock_totals_from_beta,
)
from wholesoil.plots import plot_map
from wholesoil.plots.report import Report
from wholesoil.workflows._train import train_job

#: Northern circumpolar permafrost region of Hugelius et al. (2014, Biogeosciences 11:6573–6593):
#: soil area [km²] and SOC stocks [Pg C] (mean, ± the published uncertainty) by depth.
HUGELIUS2014_AREA_KM2 = 17.8e6
HUGELIUS2014_STOCKS_PG = {"0-30": (217.0, 12.0), "0-100": (472.0, 27.0), "0-300": (1035.0, 150.0)}

#: The demo's region rule (see module notes) and Monte Carlo settings (Wang H. et al. (2025) §2.7).
REGION_LAT_MIN = 45.0
REGION_MAT_MAX = 0.0
LAND_SAMPLES = 25  # 25 × 25 mask points per 2.5° cell (≈ 11 km apart)
MC_DRAWS = 1000
MC_BOOT = 100
LEVEL = 0.95


def stocks_stage(
    rep: Report,
    out: Path,
    save: Callable[[str, pd.DataFrame], None],
    beta_table: pd.DataFrame,
    horizons: pd.DataFrame,
    beta_model: Path,
    *,
    seed: int,
    forest: dict[str, Any],
    interval_trees: int,
    timings: dict[str, float],
    mc_boot: int = MC_BOOT,
    mc_draws: int = MC_DRAWS,
) -> dict[str, Any]:
    """Run the stage, add its section to ``rep``; returns parameters for run.json.

    ``beta_table`` is stage 3's β training table (profile_id, beta, mat, map) and
    ``beta_model`` its saved model folder (trained with intervals).
    """
    sdir = out / "stocks"
    # the demo retrains its models on every run, so block checkpoints of an earlier run
    # (another model) are stale: start the stores afresh
    shutil.rmtree(sdir / "blocks", ignore_errors=True)
    rep.heading("4. Circumpolar maps and SOC stocks")

    tab, top_cv = _topsoil_model(out, save, beta_table, horizons, seed=seed, forest=forest,
                                 interval_trees=interval_trees, timings=timings,
                                 mc_boot=mc_boot, mc_draws=mc_draws)
    clim, north, reg = _region(timings)
    t0 = time.perf_counter()
    grids, draws, written = _maps_and_draws(out, sdir, beta_model, clim, north, reg)
    figs, fig_paths = _map_figures(sdir, grids, reg)
    timings["stocks_maps"] = time.perf_counter() - t0
    stocks = _monte_carlo_stocks(save, draws, reg, seed=seed, timings=timings)
    _report_section(rep, out, reg, tab, top_cv, stocks, figs, fig_paths,
                    mc_draws=mc_draws, mc_boot=mc_boot)
    return {
        "region_rule": reg.attrs["rule"],
        "region_land_area_km2": float(reg.attrs["land_area_km2"]),
        "region_cells": int(reg.attrs["n_cells"]),
        "land_samples_per_side": LAND_SAMPLES,
        "mc_draws": mc_draws,
        "mc_boot": mc_boot,
        "level": LEVEL,
        "stocks_pg": stocks[["layer", "stock_pg", "lower_pg", "upper_pg"]].to_dict("records"),
        "grids": [str(p.relative_to(out)) for p in written],
    }


def _topsoil_model(out: Path, save: Callable[[str, pd.DataFrame], None],
                   beta_table: pd.DataFrame, horizons: pd.DataFrame, *, seed: int,
                   forest: dict[str, Any], interval_trees: int, timings: dict[str, float],
                   mc_boot: int, mc_draws: int) -> tuple[pd.DataFrame, pd.Series]:
    """0–30 cm SOC density from MAT and MAP on the pedons of the β model."""
    t0 = time.perf_counter()
    top30 = horizons.loc[(horizons["top"] == 0) & (horizons["bottom"] == 30),
                         ["profile_id", "soc_density"]].rename(columns={"soc_density": "soc_0_30"})
    tab = beta_table.merge(top30, on="profile_id", how="left", validate="one_to_one")
    missing = tab["soc_0_30"].isna()
    if missing.any():
        save("stocks_pedons_without_topsoil", tab.loc[missing, ["profile_id"]])
    tab = tab[~missing].reset_index(drop=True)
    res_top = train_job(
        tab, "soc_0_30", ["mat", "map"], out / "mapping" / "topsoil", groups="profile_id",
        learner="rf", learner_params=forest, n_splits=10, intervals=True, level=LEVEL,
        interval_trees=interval_trees, interval_models=("montecarlo",), mc_boot=mc_boot,
        mc_draws=mc_draws, importance_repeats=3, units="Mg C ha-1", random_state=seed,
    )
    top_cv = pd.read_csv(res_top.outputs["cv_metrics"]).iloc[0]
    timings["stocks_topsoil_model"] = time.perf_counter() - t0
    return tab, top_cv


def _region(timings: dict[str, float]) -> tuple[xr.Dataset, xr.Dataset, xr.Dataset]:
    """The climate grid, its part north of the region's latitude and the region there."""
    t0 = time.perf_counter()
    clim = load_climate_grid()
    north = clim.isel(y=np.flatnonzero(clim["y"].values > REGION_LAT_MIN))
    reg = circumpolar_region(north, "mat", lat_min=REGION_LAT_MIN, mat_max=REGION_MAT_MAX,
                             samples=LAND_SAMPLES)
    timings["stocks_region"] = time.perf_counter() - t0

    return clim, north, reg


def _maps_and_draws(out: Path, sdir: Path, beta_model: Path, clim: xr.Dataset,
                    north: xr.Dataset, reg: xr.Dataset) -> tuple[xr.Dataset, dict[str, Any],
                                                                  list[Path]]:
    """Mean and interval maps of β and topsoil density, their joint draws, the grid files."""
    in_region = reg["region"]
    # Mean maps through the blockwise engine (cells outside the region masked: NaN covariates
    # are never passed to the model). Wang H. et al.'s (2025) Monte Carlo draws per cell (§2.7) give
    # both the interval maps and, jointly, the stock totals. Region cells without MAP (CMAP has no
    # data there) stay NaN: their area is reported as missing_area_km2, not dropped silently.
    ok = in_region.values & np.isfinite(north["mat"].values) & np.isfinite(north["map"].values)
    yy, xx = np.nonzero(ok)
    X = pd.DataFrame({"mat": north["mat"].values[yy, xx], "map": north["map"].values[yy, xx]})
    coords = {"y": north["y"], "x": north["x"]}
    tail = (1.0 - LEVEL) / 2.0
    grids = xr.Dataset(coords=coords)
    draws = {}
    for name, folder in (("beta", beta_model),
                         ("soc_0_30", out / "mapping" / "topsoil" / "model")):
        pred = predict_grid(folder, north[["mat", "map"]].where(in_region), chunks=36,
                            store=sdir / "blocks" / name)
        grids[f"{name}_mean"] = pred[f"{name}_mean"].load()
        mc = load_model(Path(folder) / "intervals" / "montecarlo").estimator
        d = np.full((mc.n_draws, *in_region.shape), np.nan)
        d[:, yy, xx] = mc.predict_draws(X)
        iv = interval_from_draws(d[:, yy, xx], LEVEL)
        for stat, vals in ((f"Q{tail:g}", iv.lower), (f"Q{1 - tail:g}", iv.upper),
                           ("uncertainty", iv.uncertainty), ("mean_montecarlo", iv.mean)):
            arr = np.full(in_region.shape, np.nan)
            arr[yy, xx] = vals
            grids[f"{name}_{stat}"] = xr.DataArray(arr, dims=("y", "x"), coords=coords, attrs={
                "interval_method": iv.method, "interval_kind": iv.kind, "level": LEVEL})
        draws[name] = CellDistribution.from_draws(xr.DataArray(
            d, dims=("draw", "y", "x"), coords=coords).rio.write_crs(clim.rio.crs))
    units = {"beta": "1", "soc_0_30": "Mg C ha-1"}
    for var in grids.data_vars:
        prop = "beta" if str(var).startswith("beta") else "soc_0_30"
        grids[var].attrs["units"] = "1" if str(var).endswith("uncertainty") else units[prop]
    grids["soc_mean"] = layers_from_beta(
        grids["beta_mean"], grids["soc_0_30_mean"], d0=30.0,
        depths=(0.0, 30.0, 100.0, 200.0, 300.0),
    ).assign_attrs(units="Mg C ha-1", long_name="SOC density of the layer, Wang H. et al. (2025) "
                                                "Eq. 3")
    grids = grids.rio.write_crs(clim.rio.crs)
    written = [write_netcdf(grids, sdir / "circumpolar_maps.nc"),
               *write_cogs(grids, sdir / "cog")]
    return grids, draws, written


def _map_figures(sdir: Path, grids: xr.Dataset,
                 reg: xr.Dataset) -> tuple[dict[str, tuple[str, str, str, str]], dict[str, Path]]:
    """The stage's map figures; returns their titles etc. and their paths."""
    in_region = reg["region"]
    figs = {  # title, colour map, quantity, units
        "beta_mean": ("β (mean of the model)", "viridis", "β", "-"),
        "beta_uncertainty": ("β: relative width of the 95 % Monte Carlo interval", "magma_r",
                             "(Q0.975 − Q0.025) / mean", "-"),
        "soc_0_30_mean": ("SOC density 0–30 cm", "YlOrBr", "SOC density 0–30 cm", "Mg C ha⁻¹"),
        "soc_0_30_uncertainty": ("0–30 cm: relative width of the 95 % Monte Carlo interval",
                                 "magma_r", "(Q0.975 − Q0.025) / mean", "-"),
    }
    # coastlines: the 0.5 contour of the land fraction this stage already computed
    coast = reg["land_fraction"].transpose("y", "x").values
    fig_paths = {}
    for var, (title, cmap, label, units) in figs.items():
        fig_paths[var] = save_figure(
            plot_map(grids[var], land=coast, label=label, units=units, cmap=cmap, title=title),
            sdir / "figures" / f"{var}.png")
    fig_paths["soc_0_30_interval"] = save_figure(
        plot_map({"2.5 %": grids["soc_0_30_Q0.025"], "mean": grids["soc_0_30_mean"],
                  "97.5 %": grids["soc_0_30_Q0.975"]}, land=coast,
                 label="SOC density 0–30 cm", units="Mg C ha⁻¹", cmap="YlOrBr"),
        sdir / "figures" / "soc_0_30_interval.png")
    fig_paths["region"] = save_figure(
        plot_map(reg["land_fraction"].where(in_region), land=coast, label="land fraction",
                 units="-", cmap="Greens", vmin=0, vmax=1,
                 title="Region: land fraction of the cells in it"),
        sdir / "figures" / "region_land_fraction.png")
    return figs, fig_paths


def _monte_carlo_stocks(save: Callable[[str, pd.DataFrame], None], draws: dict[str, Any],
                        reg: xr.Dataset, *, seed: int, timings: dict[str, float]) -> pd.DataFrame:
    """Regional stocks by layer from the joint draws (Wang H. et al. (2025) §2.7) beside the
    published."""
    in_region = reg["region"]
    land = reg["land_fraction"].where(in_region, 0.0)
    t0 = time.perf_counter()
    rows = []
    for depths in ((0.0, 30.0, 100.0, 200.0, 300.0), (0.0, 100.0), (0.0, 300.0)):
        tab_s = stock_totals_from_beta(
            draws["beta"], draws["soc_0_30"], d0=30.0, depths=depths, fraction=land,
            regions=in_region, level=LEVEL, seed=seed, checkpoint=None,
        )
        rows.append(tab_s)
    stocks = pd.concat(rows, ignore_index=True).drop_duplicates(["top_cm", "bottom_cm"])
    stocks = stocks.sort_values(["top_cm", "bottom_cm"]).reset_index(drop=True)
    stocks["layer"] = [f"{a:g}-{b:g}" for a, b in zip(stocks.top_cm, stocks.bottom_cm,
                                                        strict=True)]
    pub = []
    for lab in stocks["layer"]:
        m, sd = HUGELIUS2014_STOCKS_PG.get(lab, (np.nan, np.nan))
        pub.append((m, sd))
    stocks["hugelius2014_pg"] = [p[0] for p in pub]
    stocks["hugelius2014_pm"] = [p[1] for p in pub]
    stocks["ratio_to_published"] = stocks["stock_pg"] / stocks["hugelius2014_pg"]
    save("stocks_circumpolar", stocks)
    timings["stocks_monte_carlo"] = time.perf_counter() - t0
    return stocks


def _report_section(rep: Report, out: Path, reg: xr.Dataset, tab: pd.DataFrame,
                    top_cv: pd.Series, stocks: pd.DataFrame,
                    figs: dict[str, tuple[str, str, str, str]], fig_paths: dict[str, Path], *,
                    mc_draws: int, mc_boot: int) -> None:
    """The stage's text, figures and stock table in the report."""
    area_km2 = float(reg.attrs["land_area_km2"])
    show = stocks[["layer", "stock_pg", "lower_pg", "upper_pg", "plugin_pg",
                   "hugelius2014_pg", "hugelius2014_pm", "ratio_to_published"]]
    rep.text(
        f"Region, reproducibly defined: {reg.attrs['rule']} on the bundled 2.5° climate grid, "
        f"each cell weighted by its land fraction from the 1 km GLOBE-derived mask "
        f"(global-land-mask, {LAND_SAMPLES}² points per cell). {reg.attrs['n_cells']} cells, "
        f"land area {area_km2 / 1e6:.2f} × 10⁶ km² against the 17.8 × 10⁶ km² of soil of the "
        "published permafrost region (Hugelius et al. 2014)."
    )
    rep.text(
        f"Models on the same {len(tab)} pedons: β (stage 3) and 0–30 cm SOC density "
        f"[Mg C ha⁻¹] from MAT and MAP (random forests; 0–30 cm 10-fold CV by pedon "
        f"R² {top_cv['r2']:.2f}, RMSE {top_cv['rmse']:.1f}). Maps: the model's mean and "
        f"Wang H. et al.'s (2025) Monte Carlo interval ({mc_draws} draws, {mc_boot} bootstrap "
        f"forests, covariates "
        "~ N(x, 0.1·x)), predicted block by block with checkpoints."
    )
    captions = {**{k: v[0] for k, v in figs.items()},
                "soc_0_30_interval": "SOC density 0–30 cm: the 95 % Monte Carlo interval's "
                                     "bounds beside the mean (one colour scale)",
                "region": "Region and land fraction"}
    for var in ("beta_mean", "soc_0_30_interval", "beta_uncertainty", "region"):
        rep.figure(fig_paths[var], captions[var], relative_to=out)
    rep.table(show, f"SOC stocks [Pg C] of the region with {int(LEVEL * 100)} % Monte Carlo "
              "intervals (Wang H. et al. (2025) §2.7: joint draws of β and topsoil, Eq. 3 per "
              "draw), the "
              "plug-in total at the mean maps, and the published totals (Hugelius et al. 2014, "
              "± their uncertainty)")
    s = stocks.set_index("layer")["stock_pg"]
    rep.text(_discussion(s, area_km2), note=True)


def per_area_kg_m2(stock_pg: float, area_km2: float) -> float:
    """A regional stock as a mean per unit area: Pg C over km² → kg C m⁻².

    1 Pg = 10¹² kg and 1 km² = 10⁶ m², so kg C m⁻² = Pg · 10¹² / (km² · 10⁶)
    (375.6 Pg over 23.16 × 10⁶ km² is 16.2 kg C m⁻²).
    """
    return float(stock_pg) * 1e12 / (float(area_km2) * 1e6)


def _discussion(s: pd.Series, area_km2: float) -> str:
    """Why the totals differ from Hugelius et al. (2014), in numbers, not tuned away."""
    per_area = {k: per_area_kg_m2(s[k], area_km2) for k in ("0-30", "0-100", "0-300")
                if k in s}
    pub_per_area = {k: per_area_kg_m2(v[0], HUGELIUS2014_AREA_KM2)
                    for k, v in HUGELIUS2014_STOCKS_PG.items()}
    parts = [
        f"Per unit area our estimate is {per_area.get('0-30', np.nan):.1f} / "
        f"{per_area.get('0-100', np.nan):.1f} / {per_area.get('0-300', np.nan):.1f} kg C m⁻² "
        f"for 0–30 / 0–100 / 0–300 cm against {pub_per_area['0-30']:.1f} / "
        f"{pub_per_area['0-100']:.1f} / {pub_per_area['0-300']:.1f} published, over "
        f"{area_km2 / 1e6:.2f} vs 17.8 × 10⁶ km².",
        "Why they differ: (1) the region is a temperature rule, not the permafrost-zone map "
        "(Brown et al. 1997) Hugelius et al. use; it includes ice sheets, glaciers and bare rock "
        "(Greenland alone is ~2 × 10⁶ km² of land with no soil), which the published soil area "
        "excludes; (2) the only covariates are MAT and MAP at 2.5°, so the maps cannot see "
        "peatlands, soil orders or Yedoma deposits, which Hugelius et al. upscale by soil "
        "class; (3) below 30 cm the stocks come from one β per cell through Eq. 3, an "
        "exponential that cannot follow deep carbon in cryoturbated and Yedoma soils, which "
        "is most of the 100–300 cm stock; (4) the pedons over-represent carbon-rich Gelisols "
        "and Histosols. The Monte Carlo interval is Wang H. et al.'s (2025): model (bootstrap "
        "forests) and "
        "input (N(x, 0.1·x)) uncertainty of the mean maps, a confidence interval, so it is "
        "narrower than the published ranges, which include the spread of soil classes.",
    ]
    return " ".join(parts)
