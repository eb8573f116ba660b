"""Benchmark: vectorized equal-area spline vs a naive per-profile port.

Generates N random profiles (2–10 horizons, integer depths, ~40 % of boundaries with a gap,
signed values), harmonizes them to the 7 GlobalSoilMap depths with both methods, and prints
profiles per second and peak memory. A naive per-profile implementation (a loop over profiles
building each profile's R, Q and Z with numpy and solving densely, then evaluating the 1-cm
values with numpy, as a straightforward port of R mpspline2 would) runs on a subset side by
side; its results are checked against the vectorized ones and the speed ratio is printed.

Run: ``python benchmarks/bench_spline.py [--n N] [--baseline-n M] [--seed S]``.
BLAS is pinned to one thread so that the numbers are single-core.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402  (BLAS thread variables must be set before numpy loads)
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from wholesoil.profiles import ProfileSet  # noqa: E402
from wholesoil.profiles._spline import (  # noqa: E402
    MPSPLINE2_CLAMP,
    STANDARD_DEPTHS,
    evaluate_layers,
    fit_spline,
    harmonize,
)


def random_profiles(n_prof: int, seed: int) -> tuple[np.ndarray, ...]:
    """Padded (P, 10) random profiles with gaps, built without a loop over profiles."""
    rng = np.random.default_rng(seed)
    h_max = 10
    n = rng.integers(2, h_max + 1, n_prof)
    thick = rng.integers(2, 40, (n_prof, h_max)).astype(float)
    gap = rng.integers(1, 15, (n_prof, h_max)) * (rng.random((n_prof, h_max)) < 0.4)
    start = rng.integers(0, 10, n_prof).astype(float)
    step = thick + gap
    top = start[:, None] + np.concatenate([np.zeros((n_prof, 1)), np.cumsum(step, 1)[:, :-1]], 1)
    bottom = top + thick
    # SOC-like decreasing trend plus noise, sometimes negative (signed variables)
    value = 40.0 * np.exp(-top / 40.0) + rng.normal(0.0, 5.0, (n_prof, h_max))
    inside = np.arange(h_max) < n[:, None]
    top[~inside] = bottom[~inside] = value[~inside] = np.nan
    return top, bottom, value, n


def to_profileset(top, bottom, value, n) -> ProfileSet:
    inside = ~np.isnan(top)
    ids = np.char.add("p", np.arange(top.shape[0]).astype(str))
    horizons = pd.DataFrame(
        {
            "profile_id": np.repeat(ids, n),
            "top": top[inside],
            "bottom": bottom[inside],
            "soc": value[inside],
        }
    )
    return ProfileSet(pd.DataFrame({"profile_id": ids}), horizons)


# ------------------------------------------------------------------------ naive baseline
def naive_profile(top, bottom, y, lam, depths, vlow, vhigh):
    """One profile, the way a direct port of mpspline2 does it: dense matrices, then 1-cm."""
    n = y.size
    h = bottom - top
    g = top[1:] - bottom[:-1]
    R = np.diag(2 * (h[:-1] + h[1:]) + 6 * g) + np.diag(h[1:-1], 1) + np.diag(h[1:-1], -1)
    Q = np.zeros((n - 1, n))
    Q[np.arange(n - 1), np.arange(n - 1)] = -1
    Q[np.arange(n - 1), np.arange(1, n)] = 1
    R_inv = np.linalg.inv(R)
    Z = np.eye(n) + 6 * n * lam * Q.T @ R_inv @ Q
    s_bar = np.linalg.solve(Z, y)
    b = 6 * R_inv @ Q @ s_bar
    b0 = np.concatenate([[0.0], b])
    b1 = np.concatenate([b, [0.0]])
    gamma = (b1 - b0) / (2 * h)
    alpha = s_bar - b0 * h / 2 - gamma * h**2 / 3
    max_d = int(depths[-1])
    nj = int(min(bottom[-1], max_d))
    k = np.arange(nj, dtype=float)
    est = np.full(max_d, np.nan)
    hor = np.searchsorted(top, k, side="right") - 1  # horizon with top ≤ k
    hor_c = np.clip(hor, 0, n - 1)
    in_hor = (hor >= 0) & (k < bottom[hor_c])
    u = k - top[hor_c]
    quad = alpha[hor_c] + b0[hor_c] * u + gamma[hor_c] * u**2
    nxt = np.clip(hor_c + 1, 0, n - 1)
    line = alpha[nxt] + b1[hor_c] * (k - top[nxt])
    vals = np.where(in_hor, quad, line)
    vals[k < top[0]] = np.nan
    est[:nj] = np.clip(vals, vlow, vhigh)
    out = np.empty(len(depths) - 1)
    for j in range(len(depths) - 1):
        seg = est[int(depths[j]) : int(depths[j + 1])]
        ok = ~np.isnan(seg)
        out[j] = seg[ok].mean() if ok.any() else np.nan
    return out


def naive(top, bottom, value, n, lam, depths, clamp):
    out = np.empty((top.shape[0], len(depths) - 1))
    for p in range(top.shape[0]):  # the loop over profiles that the vectorized code avoids
        k = n[p]
        out[p] = naive_profile(
            top[p, :k], bottom[p, :k], value[p, :k], lam, depths, clamp[0], clamp[1]
        )
    return out


# -------------------------------------------------------------------------------- driver
def timed(fn, repeat=3):
    best = np.inf
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def peak_traced(fn) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="profiles (default 100000)")
    ap.add_argument("--baseline-n", type=int, default=2_000, help="profiles for the naive loop")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    depths = STANDARD_DEPTHS
    lam = 0.1

    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, pandas {pd.__version__}")
    print(f"BLAS threads pinned: OMP/OPENBLAS/MKL_NUM_THREADS={os.environ['OMP_NUM_THREADS']}")
    t0 = time.perf_counter()
    top, bottom, value, n = random_profiles(args.n, args.seed)
    ps = to_profileset(top, bottom, value, n)
    real = np.arange(1, top.shape[1]) < n[:, None]  # boundaries between two real horizons
    gapped = (top[:, 1:] > bottom[:, :-1]) & real
    print(
        f"generated {args.n:,} profiles, {int(n.sum()):,} horizons (2–10 per profile, "
        f"{gapped.sum() / real.sum():.0%} of boundaries with a gap) "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    print(f"output depths {depths} cm, λ = {lam}")
    print()
    print(f"{'step':<46}{'time [s]':>10}{'profiles/s':>14}{'peak [MiB]':>12}")

    def row(label, seconds, peak=None):
        pk = f"{peak:12.0f}" if peak is not None else f"{'':>12}"
        print(f"{label:<46}{seconds:10.3f}{args.n / seconds:14,.0f}{pk}")

    t_fit, fit = timed(lambda: fit_spline(top, bottom, value, n, lam))
    row("fit_spline (arrays)", t_fit, peak_traced(lambda: fit_spline(top, bottom, value, n, lam)))
    for method, clamp in (("mpspline2", MPSPLINE2_CLAMP), ("exact", None)):
        t_ev, _ = timed(lambda m=method, c=clamp: evaluate_layers(fit, depths, m, c))
        pk = peak_traced(lambda m=method, c=clamp: evaluate_layers(fit, depths, m, c))
        row(f"evaluate_layers method={method}", t_ev, pk)
        row(f"  fit + evaluate, method={method}", t_fit + t_ev)
    results = {}
    for method, clamp in (("mpspline2", MPSPLINE2_CLAMP), ("exact", None)):
        t_h, results[method] = timed(
            lambda m=method, c=clamp: harmonize(ps, "soc", depths, lam, m, c), repeat=2
        )
        pk = peak_traced(lambda m=method, c=clamp: harmonize(ps, "soc", depths, lam, m, c))
        row(f"harmonize(ProfileSet) method={method}", t_h, pk)
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(f"process peak RSS (ru_maxrss, all of the above incl. data): {maxrss:,.0f} MiB")
    print()

    m = min(args.baseline_n, args.n)
    sub = (top[:m], bottom[:m], value[:m], n[:m])
    t_naive, ref = timed(lambda: naive(*sub, lam, depths, MPSPLINE2_CLAMP), repeat=1)
    t_vec, (vec, _) = timed(
        lambda: evaluate_layers(fit_spline(*sub, lam), depths, "mpspline2", MPSPLINE2_CLAMP)
    )
    diff = np.nanmax(np.abs(ref - vec))
    same_nan = np.array_equal(np.isnan(ref), np.isnan(vec))
    print(f"naive per-profile loop vs vectorized, method=mpspline2, {m:,} profiles:")
    print(f"  naive      {t_naive:8.3f} s  {m / t_naive:12,.0f} profiles/s")
    print(f"  vectorized {t_vec:8.3f} s  {m / t_vec:12,.0f} profiles/s")
    print(f"  speed ratio {t_naive / t_vec:,.0f}x")
    print(f"  max |naive − vectorized| {diff:.2e}; same NaN layers: {same_nan}")
    h = results["mpspline2"]
    print(
        f"harmonize output: {len(h):,} rows; layers with coverage 0: "
        f"{int((h['coverage'] == 0).sum()):,}; partial: "
        f"{int(((h['coverage'] > 0) & (h['coverage'] < 1)).sum()):,}"
    )


if __name__ == "__main__":
    main()
