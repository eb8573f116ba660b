"""Benchmark: profile-level calibration of CLM5 or COMPAS (Tao et al. (EarthArXiv) §2.6), batched
sampler against one profile at a time.

Runs the protocol of Tao et al. (EarthArXiv) §2.6 in mode ``proda`` — 3 chains × (test + formal)
iterations, all the model's parameters, PRODA's cost of the model on PCHIP densities, the annealed
acceptance, narrowing test restarts, the 10–50 % band with reruns — for a batch of NCSCD pedons
at once (one batched steady-state solve per step for every chain that is still running, restarts
and reruns included), and for a baseline that calibrates one profile at a time (the published
code's loop), side by side.

**The full-protocol cost is extrapolated honestly.** The full protocol is 20,000 test + 50,000
formal iterations per chain; the benchmark runs ``--iterations T,F`` (default 2,000 + 5,000:
the same 2 : 5 ratio, 1/10 of the length) with the adaptation starting at the same fraction of
the formal run (PRODA: iteration 4,000 of 50,000, here 8 % of F). Every run of every chain —
restarts and reruns included — is then 70,000/(T + F) times as long in the full protocol, so
the steps and the evaluations, and with them the time, scale by that factor, *given the restart
and rerun counts measured at this length*. Those counts are measured, not assumed: the table
prints the evaluations the restarts and reruns added. (They depend on the run length: a short
formal run leaves the 10–50 % band more often, so a shorter benchmark would overstate them.)

Time is CPU time of this process (``time.process_time``, one BLAS/OpenMP thread): core-seconds,
less sensitive than wall time to other jobs on a shared machine (wall time is printed too).

``--model`` picks the model (default ``clm5``: 21 parameters, PRODA's weighted relative
squared-error cost; ``compas``: 23 parameters, PRODA's 5·(1 − NSE) cost and its rule that soil C
be at least 10 × the microbial C). The steady states are solved by the model's compiled kernel
and the PCHIP and cost by one compiled pass (numba) unless ``WHOLESOIL_NUMBA=0``;
``--compare-numpy`` adds a row with the numpy path, batched the same way.

**Batch size matters.** A step costs a fixed ~0.7 ms of Python and numpy overhead plus a cost
per row; and the calls are those of the longest chain (a chain whose formal run is redone up to
five times keeps the step loop going with few rows). Both are shared by the profiles of the
batch, so the cost per profile falls with the batch: run it at ``--profiles 32`` and ``128``.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_mcmc.py [--model compas] [--profiles 128]
[--iterations 2000,5000] [--baseline-profiles 2] [--compare-numpy]``.
``--iterations 20000,50000`` runs the full protocol itself (slow).

References
----------
.. [1] Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U.,
   Jiang, L., Huang, X. and Luo, Y. Convergence in simulating global soil organic carbon by
   structurally different models after data assimilation. EarthArXiv preprint (not peer
   reviewed), §2.6.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402

#: Iterations per chain of the full protocol (Tao et al. (EarthArXiv) §2.6): test + formal.
FULL_TEST, FULL_FORMAL = 20_000, 50_000
#: PRODA's adaptation start (iteration 4,000 of the 50,000 formal iterations), as a fraction.
ADAPT_FRACTION = 4_000 / FULL_FORMAL


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


def _time(data, test: int, formal: int, model: str = "clm5") -> dict:
    """One batched calibration: CPU and wall seconds, calls, evaluations, restarts, reruns."""
    from wholesoil.assimilation._calibrate import calibrate

    c0, w0 = time.process_time(), time.perf_counter()
    res = calibrate(data, model, mode="proda", test_iterations=test, formal_iterations=formal,
                    seed=0, adapt_start=max(1, round(ADAPT_FRACTION * formal)))
    m = res.mcmc
    return {"cpu": time.process_time() - c0, "wall": time.perf_counter() - w0,
            "calls": int(m.n_log_target_calls), "evals": int(m.n_evaluations),
            "restarts": int(m.test_restarts.sum() + m.test_exhausted.sum()),
            "reruns": int(m.formal_reruns.sum()), "chains": int(m.formal_reruns.size)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=("clm5", "compas"), default="clm5")
    ap.add_argument("--profiles", type=int, default=128)
    ap.add_argument("--iterations", default="2000,5000", help="test,formal per chain")
    ap.add_argument("--baseline-profiles", type=int, default=2,
                    help="profiles calibrated one at a time for the baseline (mean per profile; "
                         "0: none)")
    ap.add_argument("--compare-numpy", action="store_true",
                    help="also run the batched path on numpy (kernel, PCHIP and cost) "
                         "(WHOLESOIL_NUMBA=0): the measured reason for the compiled kernel")
    args = ap.parse_args()
    test, formal = (int(x) for x in args.iterations.split(","))
    scale = (FULL_TEST + FULL_FORMAL) / (test + formal)
    data = _data(args.profiles)
    p = data.n_profiles
    model = args.model
    batched = _time(data, test, formal, model)
    nb = min(args.baseline_profiles, p)
    rows = [("batched (all profiles × 3 chains per step)", p, batched)]
    if args.compare_numpy:
        os.environ["WHOLESOIL_NUMBA"] = "0"
        rows.append(("batched, numpy path (WHOLESOIL_NUMBA=0)", p,
                     _time(data, test, formal, model)))
        del os.environ["WHOLESOIL_NUMBA"]
    if nb:
        one = [_time(data.subset([i]), test, formal, model) for i in range(nb)]
        base = {k: sum(r[k] for r in one) for k in one[0]}
        rows.append((f"one profile at a time (baseline, {nb} profiles)", nb, base))
    n_params = 21 if model == "clm5" else 23
    print(f"{model.upper()} calibration (mode proda), Tao et al. (EarthArXiv) §2.6 protocol at "
          f"{test:,} + {formal:,} iterations × 3 chains (adaptation from iteration "
          f"{max(1, round(ADAPT_FRACTION * formal)):,}), NCSCD pedons, {n_params} parameters; "
          "1 process, 1 thread")
    print(f"{'path':44s} {'prof':>4s} {'CPU s':>8s} {'wall s':>8s} {'evals/s':>8s} "
          f"{'evals/prof':>10s} {'added':>6s} {'restarts':>8s} {'reruns':>7s} "
          f"{'core-s/profile FULL':>20s}")
    full = []
    nominal = 3 * (test + formal)
    for name, n, r in rows:
        added = r["evals"] / (n * nominal) - 1.0  # restarts + reruns, measured at this length
        per_profile_full = r["cpu"] / n * scale
        full.append(per_profile_full)
        print(f"{name:44s} {n:4d} {r['cpu']:8.1f} {r['wall']:8.1f} {r['evals'] / r['cpu']:8,.0f} "
              f"{r['evals'] / n:10,.0f} {added:6.0%} {r['restarts']:8d} {r['reruns']:7d} "
              f"{per_profile_full:20.2f}")
    print(f"core-s/profile FULL = CPU s / profiles × {scale:g} (70,000 / {test + formal:,} "
          "iterations per chain: every run, restarts and reruns included, is that many times as "
          "long in the full protocol; restart and rerun counts as measured at this length)")
    if nb:
        print(f"baseline / batched: {full[-1] / full[0]:.1f}× — target: full protocol ≤ 10 "
              "core-seconds per profile (batched)")
    if args.compare_numpy:
        print(f"numpy path / compiled path (batched): {full[1] / full[0]:.2f}×")
    print(f"log-target calls (steps): batched {batched['calls']:,} (the longest chain's runs)"
          + (f"; baseline {base['calls']:,} over {nb} profiles" if nb else ""))


if __name__ == "__main__":
    main()
