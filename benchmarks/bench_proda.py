"""Benchmark: PRODA's network training, global simulation throughput, e2e vs two-step compute.

Three measurements (issue 8 acceptance):

1. **Training time per epoch** of the parameter network with seed 003's architecture
   (256-512-512-256, dropout 0.2, batch 32, ratio × MSE loss) on ``--profiles`` synthetic
   profiles × 21 CLM5 parameters × ``--covariates`` covariates, and of the end-to-end network
   (same architecture, loss through the differentiable CLM5 steady state) on ``--e2e-profiles``
   profiles.
2. **Grid cells simulated per second**: CLM5's steady state (forcing from MAT/MAP, one parameter
   set per cell, SOC by depth and the six components) with
   :func:`wholesoil.assimilation.proda.simulate_cells` over ``--cells`` cells in blocks, side by
   side with a per-cell loop (``CLM5(params, forcing).steady_state()`` one cell at a time, the
   way a non-vectorised code would run) over ``--loop-cells`` cells; and COMPAS batched.
3. **e2e versus two-step total compute on the same profiles** (``--e2e-profiles`` NCSCD pedons):
   two-step = per-profile MCMC (seed 003: 3 chains × (20,000 + 50,000) iterations = 210,000
   model evaluations per profile) at the evaluation rate measured here with the vectorised
   sampler (all chains of all profiles in one batch), plus the network's training; e2e = the
   end-to-end network's training time (same epochs).

Defaults run in about 1–2 minutes on 2 cores. torch uses ``--threads`` threads.

Run: ``python benchmarks/bench_proda.py [--profiles 512] [--covariates 10] [--epochs 3]
[--cells 20000] [--loop-cells 200] [--e2e-profiles 16] [--e2e-epochs 50]
[--mcmc-iterations 300]
[--threads 1]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

MCMC_EVALS_PER_PROFILE = 3 * (20_000 + 50_000)  # seed 003 §2.6: 3 chains, test + formal run


def bench_training(n: int, c: int, epochs: int) -> float:
    from wholesoil.assimilation.proda import ParameterNetwork

    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (n, c))
    U = np.clip(0.2 + 0.6 * X[:, :1] @ np.ones((1, 21)) + rng.normal(0, 0.02, (n, 21)),
                0.01, 0.99)
    net = ParameterNetwork(max_epochs=epochs, patience=epochs + 1, seed=0, device="cpu")
    net.fit(X, U)
    return float(net.history_[0]["seconds_per_epoch"])


def bench_cells(n_cells: int, n_loop: int) -> dict[str, float]:
    from wholesoil.assimilation import ParameterSpace
    from wholesoil.assimilation.proda import simulate_cells
    from wholesoil.models import CLM5, CLM5Parameters, forcing_from_climate

    rng = np.random.default_rng(1)
    mat, mp = rng.uniform(-15, 28, n_cells), rng.uniform(100, 3000, n_cells)
    lat = rng.uniform(-50, 75, n_cells)
    sp = ParameterSpace.from_clm5()
    theta = sp.from_unit(rng.uniform(0.1, 0.9, (n_cells, sp.n_params)))
    out = {}
    block = 4096
    t = time.perf_counter()
    for s in range(0, n_cells, block):
        simulate_cells("clm5", {k: v[s:s + block] for k, v in theta.items()}, mat[s:s + block],
                       mp[s:s + block], lat[s:s + block])
    out["clm5_batched"] = n_cells / (time.perf_counter() - t)
    t = time.perf_counter()
    for i in range(n_loop):
        f = forcing_from_climate(mat[i:i + 1], mp[i:i + 1], lat=lat[i:i + 1])
        CLM5(CLM5Parameters(**{k: v[i] for k, v in theta.items()}), f).steady_state()
    out["clm5_loop"] = n_loop / (time.perf_counter() - t)
    t = time.perf_counter()
    for s in range(0, n_cells, block):
        simulate_cells("compas", None, mat[s:s + block], mp[s:s + block], lat[s:s + block])
    out["compas_batched"] = n_cells / (time.perf_counter() - t)
    return out


def _ncscd_data(p: int):
    from wholesoil.assimilation import ProfileData
    from wholesoil.datasets import climate_at, load_ncscd
    from wholesoil.profiles._qc import run_qc

    ps = run_qc(load_ncscd()).profiles
    h = ps.horizons[["profile_id", "top", "bottom", "soc_density"]]
    sites = ps.sites[["profile_id", "lat", "lon"]].copy()
    clim = climate_at(sites["lat"], sites["lon"], method="nearest")
    sites["mat"], sites["map"] = clim["mat"].to_numpy(), clim["map"].to_numpy()
    sites = sites[np.isfinite(sites["mat"]) & np.isfinite(sites["map"])]
    data = ProfileData.from_table(h, sites)
    idx = np.arange(min(p, data.n_profiles))
    d = data.subset(idx)
    X = sites.set_index("profile_id").loc[d.profile_id, ["mat", "map"]].to_numpy(float)
    return d, X


def bench_e2e_vs_two_step(p: int, epochs: int, iters: int) -> dict[str, float]:
    from wholesoil.assimilation import calibrate
    from wholesoil.assimilation._calibrate import make_log_target
    from wholesoil.assimilation.proda import ParameterNetwork, fit_end_to_end

    data, X = _ncscd_data(p)
    p = data.n_profiles
    # the model evaluation the sampler repeats: one batched steady state + cost for all
    # chains of all profiles (P, 3, 21)
    lt = make_log_target("clm5", data)
    u = np.random.default_rng(2).uniform(0.2, 0.8, (p, 3, 21))
    lt(u)
    reps = max(5, iters // 20)
    t = time.perf_counter()
    for _ in range(reps):
        lt(u)
    per_eval_target = (time.perf_counter() - t) / (reps * p * 3)
    test_it, formal_it = iters // 3, iters - iters // 3
    t = time.perf_counter()
    res = calibrate(data, "clm5", n_chains=3, test_iterations=test_it,
                    formal_iterations=formal_it, adapt_start=max(1, formal_it // 2), seed=0)
    t_mcmc = time.perf_counter() - t
    evals = p * 3 * (test_it + formal_it)
    per_eval = t_mcmc / evals  # whole sampler (restarts, adaptation, summaries) per nominal eval
    # network training of the two-step variant on the (short-chain) posterior means
    t = time.perf_counter()
    two = ParameterNetwork(max_epochs=epochs, patience=epochs + 1, seed=0, device="cpu",
                           loss="mse")
    par = res.parameters.pivot(index="profile_id", columns="parameter", values="mean")
    U = two.space_.to_unit(par.loc[data.profile_id, list(two.space_.names)].to_numpy(float))
    two.fit(X, np.clip(U, 0.0, 1.0))
    t_net = time.perf_counter() - t
    t = time.perf_counter()
    e2e = fit_end_to_end(data, X, network=ParameterNetwork(max_epochs=epochs,
                                                           patience=epochs + 1, seed=0,
                                                           device="cpu"))
    t_e2e = time.perf_counter() - t
    return {"profiles": p, "evals_measured": evals, "seconds_per_eval": per_eval,
            "seconds_per_eval_target": per_eval_target,
            "mcmc_full": per_eval_target * MCMC_EVALS_PER_PROFILE * p,
            "mcmc_full_sampler": per_eval * MCMC_EVALS_PER_PROFILE * p, "net": t_net, "e2e": t_e2e,
            "e2e_per_epoch": float(e2e.history_[0]["seconds_per_epoch"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--profiles", type=int, default=512)
    ap.add_argument("--covariates", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--cells", type=int, default=20_000)
    ap.add_argument("--loop-cells", type=int, default=200)
    ap.add_argument("--e2e-profiles", type=int, default=16)
    ap.add_argument("--e2e-epochs", type=int, default=50)
    ap.add_argument("--mcmc-iterations", type=int, default=300)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    import torch

    torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, {a.threads} thread(s), CPU")

    spe = bench_training(a.profiles, a.covariates, a.epochs)
    print(f"\n1. network training (256-512-512-256, batch 32, ratio×MSE), {a.profiles} profiles "
          f"× {a.covariates} covariates → 21 parameters:")
    print(f"   {spe:.3f} s per epoch ({spe / np.ceil(a.profiles * 0.9 / 32) * 1000:.1f} ms per "
          f"batch of 32)")

    c = bench_cells(a.cells, a.loop_cells)
    print(f"\n2. global simulation, CLM5 steady state + SOC layers + 6 components, one parameter "
          f"set per cell ({a.cells} cells batched in blocks of 4096; loop over {a.loop_cells}):")
    print(f"   batched  {c['clm5_batched']:10.0f} cells/s")
    print(f"   per cell {c['clm5_loop']:10.0f} cells/s   (batched / loop = "
          f"{c['clm5_batched'] / c['clm5_loop']:.0f}×)")
    print(f"   COMPAS batched {c['compas_batched']:8.0f} cells/s")

    r = bench_e2e_vs_two_step(a.e2e_profiles, a.e2e_epochs, a.mcmc_iterations)
    print(f"\n3. e2e vs two-step on the same {r['profiles']} NCSCD profiles ({a.e2e_epochs} "
          f"epochs each):")
    print(f"   model evaluation (batched steady state + cost, {r['profiles']} × 3 chains): "
          f"{r['seconds_per_eval_target'] * 1e6:.1f} µs per profile-evaluation")
    print(f"   whole short sampler run ({r['evals_measured']} nominal evaluations, with restarts "
          f"and summaries): {r['seconds_per_eval'] * 1e6:.1f} µs per profile-evaluation")
    print(f"   two-step = {MCMC_EVALS_PER_PROFILE:,} evals/profile × {r['profiles']} at the model "
          f"rate → {r['mcmc_full']:.1f} s (at the sampler rate {r['mcmc_full_sampler']:.1f} s) "
          f"+ network {r['net']:.1f} s = {r['mcmc_full'] + r['net']:.1f} s")
    print(f"   e2e      = training {r['e2e']:.1f} s ({r['e2e_per_epoch']:.2f} s per epoch)")
    print(f"   two-step / e2e = {(r['mcmc_full'] + r['net']) / r['e2e']:.1f}× at {a.e2e_epochs} "
          f"epochs (e2e cost grows with epochs; break-even at "
          f"{(r['mcmc_full'] + r['net']) / r['e2e_per_epoch']:.0f} e2e epochs)")


if __name__ == "__main__":
    main()
