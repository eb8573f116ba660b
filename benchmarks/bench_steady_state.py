"""Benchmark: CLM5 steady states, structured batched solver vs dense numpy, same systems.

Draws N parameter sets (default 10,000) uniformly within the PRODA priors of seed 003
Supplementary Table 1 (a lower bound of 0 for tau4s1, tau4l1, efolding and w_scaling, where the
steady state does not exist or is ill-conditioned (condition number ~1e16 for w_scaling ~ 1e-6),
is replaced by 2 % of the upper bound; b ≤ 0.999) for one site with monthly forcing from
``forcing_from_climate(MAT, MAP)``, builds the batched model (ξ per month then averaged, mixing
bands, input profiles, B·I) and solves the 140-state steady state X* = (V − A·ξ·K)⁻¹·B·I:

* structured: :meth:`CLM5.steady_state` (CWD by division, litter by Thomas, SOC by 3 × 3
  block Thomas, everything vectorized over the parameter sets), timed from a freshly built model
  so the batch-last layout and block assembly are included;
* dense: ``numpy.linalg.solve`` (LAPACK LU) on the assembled 140 × 140 matrices of the *same*
  systems, in chunks; the dense assembly is not timed (it favours the dense path).

BLAS/OpenMP threads are pinned to 1 before numpy loads (one core), and each timing is the best
of ``--repeat`` runs (the machine may be shared). It also reports build time, end-to-end
(build + solve) rate, the largest structured-vs-dense difference and the mass balance.

Run: ``python benchmarks/bench_steady_state.py [--n 10000] [--mat 8] [--map 900] [--repeat 5]``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from wholesoil.models._clm5 import CLM5, CLM5_PRODA_PARAMETERS, CLM5Parameters  # noqa: E402
from wholesoil.models._environment import forcing_from_climate  # noqa: E402


def prior_draws(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for name, info in CLM5_PRODA_PARAMETERS.items():
        lo, hi = info.prior
        if lo == 0.0 and name in ("tau4s1", "tau4l1", "efolding", "w_scaling"):
            lo = 0.02 * hi
        if name == "b":
            hi = 0.999
        out[name] = lo + (hi - lo) * rng.random(n)
    return out


def best_of(fn, repeat: int) -> tuple[float, float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), float(np.median(times)), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--mat", type=float, default=8.0)
    ap.add_argument("--map", type=float, default=900.0)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--chunk", type=int, default=500, help="dense systems per numpy call")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    forcing = forcing_from_climate(np.array([a.mat]), np.array([a.map]))
    params = CLM5Parameters(**prior_draws(a.n, a.seed))
    print(f"CLM5 steady states: {a.n:,} parameter sets (Supplementary Table 1 priors) × 1 site "
          f"(MAT {a.mat} °C, MAP {a.map} mm, 12 months), 7 pools × 20 layers = 140 states; "
          f"1 thread; best of {a.repeat}")

    def build():
        return CLM5(params, forcing)

    t_build, _, model = best_of(build, a.repeat)

    def fresh_solve():
        m = CLM5.from_arrays(model.k, model.transfer, model.xi, model.v_bands, model.inputs)
        t0 = time.perf_counter()
        x = m.steady_state()
        return time.perf_counter() - t0, x

    runs = [fresh_solve() for _ in range(a.repeat)]
    t_struct = min(t for t, _ in runs)
    t_struct_med = float(np.median([t for t, _ in runs]))
    x = runs[-1][1]
    t_cached, _, _ = best_of(model.steady_state, a.repeat)  # operator already assembled

    # dense reference on the same systems (assembly untimed)
    t_dense = 0.0
    max_rel = 0.0
    for start in range(0, a.n, a.chunk):
        sl = slice(start, min(start + a.chunk, a.n))
        sub = CLM5.from_arrays(model.k[sl], model.transfer[sl], model.xi[sl],
                               tuple(b[sl] for b in model.v_bands), model.inputs[sl])
        mats = sub.matrices()
        M, BI = -mats["M"], mats["BI"][..., None]
        t0 = time.perf_counter()
        xd = np.linalg.solve(M, BI)[..., 0]
        t_dense += time.perf_counter() - t0
        xd = xd.reshape(-1, 7, 20)
        scale = np.abs(xd).max(axis=(-2, -1), keepdims=True)
        max_rel = max(max_rel, float(np.max(np.abs(x[sl] - xd) / scale)))
    balance = np.max(np.abs(model.total_respiration(x) / model.total_input() - 1.0))

    rate_struct = a.n / t_struct
    rate_dense = a.n / t_dense
    print(f"{'path':46s} {'seconds':>9s} {'evaluations/s':>14s}")
    print(f"{'structured (block Thomas), fresh model':46s} {t_struct:9.4f} {rate_struct:14,.0f}"
          f"   (median {a.n / t_struct_med:,.0f}/s)")
    print(f"{'structured, operator already assembled':46s} {t_cached:9.4f} "
          f"{a.n / t_cached:14,.0f}")
    print(f"{'dense numpy.linalg.solve (140 x 140 LU)':46s} {t_dense:9.4f} {rate_dense:14,.0f}")
    print(f"{'model build (xi monthly, V, profiles, B.I)':46s} {t_build:9.4f} "
          f"{a.n / t_build:14,.0f}")
    print(f"{'build + structured solve (end to end)':46s} {t_build + t_struct:9.4f} "
          f"{a.n / (t_build + t_struct):14,.0f}")
    print(f"speed-up structured / dense: {rate_struct / rate_dense:,.1f}×  "
          f"(targets: ≥ 100,000/s and ≥ 50×)")
    print(f"max |structured − dense| / max|dense| per set: {max_rel:.2e}; "
          f"max |respiration/input − 1|: {balance:.2e}; min X*: {x.min():.3g}")


if __name__ == "__main__":
    main()
