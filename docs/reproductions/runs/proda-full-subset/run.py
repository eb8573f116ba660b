"""Full PRODA protocol (3 × (20,000 + 50,000)) on a random subset of the real profiles that pass
the paper's filters, both models; prints the kept counts, R-hat and NSE distributions."""
import time, json
import numpy as np
import pandas as pd
from wholesoil.reproduce import proda_convergence as pc
from wholesoil.assimilation import ProfileData, calibrate
from wholesoil.datasets import load_climate_grid, load_israd, load_ncscd

climate = load_climate_grid()
i_lay, i_sites, _ = pc.israd_layers(load_israd())
n_lay, n_sites, _ = pc.ncscd_layers(load_ncscd(), climate)
sites = pd.concat([i_sites, n_sites], ignore_index=True)
sites["cwd_fraction"] = pc.cwd_rule(sites["ecosystem"], sites["mat"].to_numpy(float),
                                    sites["map"].to_numpy(float), sites["lat"].fillna(45.0).to_numpy(float))
layers = pd.concat([i_lay, n_lay], ignore_index=True)
data = ProfileData.from_table(layers[["profile_id", "top", "bottom", "soc_density"]],
                              sites[["profile_id", "mat", "map", "lat", "cwd_fraction"]])
db = sites.set_index("profile_id")["database"]
is_israd = np.array([db.get(str(i)) == "ISRaD" for i in data.profile_id])
rng = np.random.default_rng(2026)
pick = np.sort(np.r_[rng.permutation(np.flatnonzero(is_israd))[:24],
                     rng.permutation(np.flatnonzero(~is_israd))[:8]])
sub = data.subset(pick)
out = {}
for model in ("clm5", "compas"):
    t0 = time.process_time()
    res = calibrate(sub, model, mode="proda", seed=7, thin=10, max_predictive=50)
    p = res.profiles[res.profiles["calibrated"].astype(bool)]
    out[model] = {
        "profiles": int(len(p)), "kept": int(p["accepted"].sum()),
        "rhat_mean_quantiles_10_50_90": np.nanquantile(p["rhat_mean"], [.1, .5, .9]).round(3).tolist(),
        "share_rhat_le_1.05": float(np.mean(p["rhat_mean"] <= 1.05)),
        "nse_quantiles_10_50_90": np.nanquantile(p["nse"], [.1, .5, .9]).round(3).tolist(),
        "share_nse_ge_0": float(np.mean(p["nse"] >= 0)),
        "nse_median_kept": float(p.loc[p["accepted"].astype(bool), "nse"].median()),
        "cpu_s": round(time.process_time() - t0, 1),
    }
    print(model, json.dumps(out[model]), flush=True)
    p.to_csv(f"/work/full_subset_{model}.csv", index=False)
