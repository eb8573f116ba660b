"""Diagnosis of the PRODA totals of this run (not part of the reproduction): the global network
of one model retrained, as the reproduction trains it (same settings, seed, MAT/MAP grid
covariates, PRODA's ratio loss), on the kept profiles *without* the ISRaD entry Finstad_2020,
whose stocks the toolkit's ISRaD QC flags (rule ``soc_density_implausible``); the totals inside
the network's area of applicability beside the reproduction's.

Run from the repository root with the full run's cache in DIR (the calibrations are read from
it, nothing is recalibrated):

    python docs/reproductions/runs/proda-convergence-full/diagnosis/without_finstad.py DIR clm5
"""

import sys

import matplotlib
import numpy as np
import xarray as xr

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from wholesoil.assimilation.proda import simulate_grid
from wholesoil.assimilation.proda._covariates import sample_grid
from wholesoil.mapping._stocks import cell_area
from wholesoil.reproduce import proda_convergence as pc
from wholesoil.reproduce._common import Reproduction

out, model = sys.argv[1], sys.argv[2]
ctx = Reproduction(name="proda-convergence", title="", citation="", out=out, workers=1)
settings = dict(pc.FULL)
climate, data, sites, rejected, is_israd, pick = pc._profiles(ctx, settings,
                                                              np.random.default_rng(0))
cals, train, _, _ = pc._calibrations(ctx, data, settings, rejected, is_israd, pick, plt)
ids = data.profile_id[train[model]]
keep = ~np.char.startswith(ids.astype(str), "Finstad_2020")
st = sites.set_index("profile_id").loc[[str(i) for i in ids]]
X = sample_grid(climate, st["lat"].to_numpy(float), st["lon"].to_numpy(float),
                pc.GRID_COVARIATES)
ok = np.all(np.isfinite(X), axis=1) & keep
net = pc._network(model, ctx.seed, settings["network"]).fit(
    X[ok], pc._unit_targets(model, cals[model], ids)[ok],
    covariate_names=list(pc.GRID_COVARIATES))
frac = pc._land(climate, False)
area = cell_area(climate)
mask = (frac > 0).values & np.isfinite(climate["map"].values) & np.isfinite(
    climate["mat"].values)
aoa = net.applicability_grid(climate[list(pc.GRID_COVARIATES)])
inside = (aoa["inside_aoa"].transpose("y", "x").values == 1) & mask
pm = net.predict_grid(climate[list(pc.GRID_COVARIATES)])
cal = simulate_grid(model, climate, pm, mask=mask, cwd="holdridge")
dflt = simulate_grid(model, climate, None, mask=mask, cwd="holdridge")
ins = xr.DataArray(inside, dims=("y", "x"))
rows = pc.totals_table(model, {"calibrated": cal.where(ins), "calibrated (all land)": cal,
                               "default (AOA cells)": dflt.where(ins)},
                       inside, mask, area, frac)
print(f"{model}: {int(ok.sum())} training profiles (Finstad_2020 left out: "
      f"{int((~keep).sum())})")
for r in rows:
    print(f"  {r['parameters']:<24s} {r['pg_c']:>10,.0f} Pg C  land share "
          f"{r['land_area_share']:.3f}")
soc = cal["soc_0_100"].transpose("y", "x").values
print(f"  cells inside with SOC 0-100 cm > 100 kg C m-2: {int((inside & (soc > 100)).sum())}; "
      f"max {np.nanmax(np.where(inside, soc, np.nan)):,.0f}")
