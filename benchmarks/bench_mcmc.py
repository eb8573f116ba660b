"""Benchmark: profile-level calibration of CLM5 (seed 003 §2.6) with the vectorized sampler.

Runs the seed 003 protocol in mode ``proda`` — 3 chains × (test + formal) iterations, all 21 CLM5
parameters, PRODA's weighted relative squared-error cost on PCHIP densities, the annealed
acceptance, narrowing test restarts, the 10–50 % band with reruns — for a batch of real NCSCD
pedons at once (one batched CLM5 build + steady-state solve per iteration for all profiles ×
chains), and prints steady-state evaluations per second, core-seconds per profile for the FULL
protocol (extrapolated linearly from the iterations run: the cost per iteration is constant),
profiles per hour per core, and the same for a baseline that advances one profile at a time (the
published code's loop), side by side.

Run: ``python benchmarks/bench_mcmc.py [--profiles 32] [--iterations 200,400]``. The full
protocol is ``--iterations 20000,50000`` (slow).
"""

from __future__ import annotations

import argparse
import os
import time

FULL = 3 * (20_000 + 50_000)  # steady-state evaluations per profile in the seed 003 protocol


def _data(n: int):
    from wholesoil.assimilation._calibrate import ProfileData
    from wholesoil.datasets import climate_at, load_ncscd
    from wholesoil.profiles._qc import run_qc

    ps = run_qc(load_ncscd()).profiles
    h = ps.horizons[["profile_id", "top", "bottom", "soc_density"]]
    sites = ps.sites[["profile_id", "lat", "lon"]].copy()
    clim = climate_at(sites["lat"], sites["lon"], method="bilinear")
    sites["mat"], sites["map"] = clim["mat"].to_numpy(), clim["map"].to_numpy()
    data = ProfileData.from_table(h, sites.dropna())
    return data.subset(list(range(min(n, data.n_profiles))))


def _time(data, test: int, formal: int) -> tuple[float, int, int]:
    from wholesoil.assimilation._calibrate import calibrate

    t0 = time.perf_counter()
    res = calibrate(data, mode="proda", test_iterations=test, formal_iterations=formal, seed=0,
                    adapt_start=max(1, formal // 2))
    return (time.perf_counter() - t0, int(res.mcmc.n_log_target_calls),
            int(res.mcmc.n_evaluations))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profiles", type=int, default=128)
    ap.add_argument("--iterations", default="200,400", help="test,formal")
    args = ap.parse_args()
    test, formal = (int(x) for x in args.iterations.split(","))
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    data = _data(args.profiles)
    p = data.n_profiles
    rows = []
    t_batch, calls, evals = _time(data, test, formal)
    rows.append(("batched (all profiles × 3 chains per step)", p, t_batch, calls, evals))
    one = data.subset([0])
    t_one, calls_one, evals_one = _time(one, test, formal)
    rows.append(("one profile at a time (baseline, × profiles)", p, t_one * p, calls_one * p,
                 evals_one * p))
    print(f"CLM5 calibration (mode proda), seed 003 protocol shortened to {test}+{formal} "
          f"iterations × 3 chains, {p} NCSCD pedons, 21 parameters; 1 process")
    print(f"{'path':46s} {'seconds':>8s} {'SS evals/s':>11s} {'evals/profile':>14s} "
          f"{'core-s/profile (full)':>22s} {'profiles/h/core':>16s}")
    nominal = 3 * (test + formal)
    for name, n, secs, _calls, ev in rows:
        rate = ev / secs  # steady states actually computed (restarts and reruns included)
        full = FULL / rate  # the nominal 210,000 evaluations of the full protocol
        print(f"{name:46s} {secs:8.2f} {rate:11,.0f} {ev / n:14,.0f} {full:22.1f} "
              f"{3600 / full:16.1f}")
    print(f"speed-up batched / one-at-a-time (same work): "
          f"{(rows[1][2] / rows[1][4]) / (rows[0][2] / rows[0][4]):.1f}×  "
          "(target: full protocol < 10 core-seconds per profile)")
    print(f"nominal evaluations per profile {nominal:,}; restarts and reruns added "
          f"{evals / (p * nominal) - 1:.0%} (batched run) — the full protocol's share depends on "
          "how many chains leave the 10–50 % acceptance band")
    print(f"log-target calls: batched {rows[0][3]:,}, baseline {rows[1][3]:,}")


if __name__ == "__main__":
    main()
