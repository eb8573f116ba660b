"""Benchmark: blockwise grid prediction with a QuantileForest (mean and three quantiles).

Predicts an N × N-cell grid of P covariates (default 2,000 × 2,000 × 10) with
``wholesoil.mapping._grid.predict_grid``: the conditional mean, Q0.05, Q0.5, Q0.95 and the
uncertainty (half-width of the 90 % interval / mean), in-process (``client=None``: a thread per
core). The covariate grid is dask-backed and generated block by block (smooth synthetic fields
of the cell indices, periodic every 250 cells, with ~14 % of the cells missing, as oceans are on
a land map), so the input is never held whole. The forest is trained in each child on T rows
drawn from the same fields.

Each case runs in its own child process, so that the peak resident memory (the RSS high-water
mark, ``resource.getrusage(RUSAGE_SELF).ru_maxrss``) of one case does not mix with another's.
It prints cells/s (all cells, masked ones included) and the peak memory for two block sizes,
then the time ratio of the N × N grid to a 500 × 500 grid with the same block size: prediction
is linear in the number of cells, so the ratio should be close to (N / 500)² = 16.

Run: ``python benchmarks/bench_grid.py [--n 2000] [--small 500] [--p 10] [--trees 100]
[--train 5000] [--chunks 256 1024]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

QUANTILES = (0.05, 0.5, 0.95)
DASK_CHUNK = 500  # cells per side of the covariate grid's own (dask) chunks
PERIOD = 250  # cells: the synthetic covariates repeat every PERIOD rows and columns


def fields(i: np.ndarray, j: np.ndarray, p: int) -> np.ndarray:
    """P smooth covariates of the cell's row i and column j, array (p, *i.shape); NaN where
    'ocean' (~14 % of the cells).

    Periodic in the cell indices with a period of PERIOD cells, so that every grid of whole
    periods has the same distribution of covariates and the same smoothness from cell to cell:
    a forest's cost per cell depends on both (neighbouring cells that fall in the same leaves
    are cheaper), and the time ratio of two grid sizes should measure the machinery, not a
    change of data. Deterministic in (i, j) alone, so any block is generated on its own.
    """
    k = np.arange(p, dtype=float).reshape((p,) + (1,) * i.ndim)
    u, v = 2.0 * np.pi * i / PERIOD, 2.0 * np.pi * j / PERIOD
    out = np.sin((k % 3 + 1) * u + (k % 2 + 1) * v + k) + 0.3 * np.cos(u - 2.0 * v + 0.5 * k)
    ocean = np.sin(u) * np.cos(v) > 0.6
    out[:, ocean] = np.nan
    return out


def make_grid(n: int, p: int):
    """Dask-backed n × n Dataset of p covariates on a global lon/lat grid."""
    import dask.array as da
    import xarray as xr

    x = np.linspace(-180.0, 180.0, n, endpoint=False) + 180.0 / n  # cell centres
    y = np.linspace(90.0, -90.0, n, endpoint=False) - 90.0 / n
    jj = da.arange(n, chunks=DASK_CHUNK, dtype=float)[None, :]
    ii = da.arange(n, chunks=DASK_CHUNK, dtype=float)[:, None]

    def block(ib: np.ndarray, jb: np.ndarray) -> np.ndarray:
        return fields(*np.broadcast_arrays(ib, jb), p)

    chunks = ((p,), ii.chunks[0], jj.chunks[1])
    stack = da.map_blocks(block, ii, jj, new_axis=0, chunks=chunks, dtype=float)
    names = [f"cov{k:02d}" for k in range(p)]
    return xr.Dataset({nm: (("y", "x"), stack[k]) for k, nm in enumerate(names)},
                      coords={"y": y, "x": x}), names


def train_model(p: int, trees: int, n_train: int, seed: int):
    import pandas as pd

    from wholesoil.mapping._learners import QuantileForest

    rng = np.random.default_rng(seed)
    F = fields(rng.uniform(0, PERIOD, 4 * n_train), rng.uniform(0, PERIOD, 4 * n_train), p)
    keep = np.flatnonzero(np.isfinite(F).all(axis=0))[:n_train]
    X = pd.DataFrame(F[:, keep].T, columns=[f"cov{k:02d}" for k in range(p)])
    target = 2.0 + X.iloc[:, 0] + 0.5 * X.iloc[:, 1] ** 2 - X.iloc[:, 2] * X.iloc[:, 3] \
        + rng.normal(0.0, 0.3, len(X))
    return QuantileForest(n_estimators=trees, oob_score=False, random_state=seed).fit(X, target)


def run_one(n: int, p: int, chunks: int, trees: int, n_train: int, seed: int) -> dict:
    from wholesoil.mapping._grid import predict_grid

    model = train_model(p, trees, n_train, seed)
    grid, names = make_grid(n, p)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    out = predict_grid(model, grid, features=names, name="soc", intervals=["quantile"],
                       level=0.90, quantiles=QUANTILES, chunks=chunks)
    seconds = time.perf_counter() - t0
    valid = int(np.isfinite(out["soc_mean"].values).sum())
    return {
        "n": n, "chunks": chunks, "blocks": int(out.attrs["n_blocks"]), "seconds": seconds,
        "cells": n * n, "valid": valid,
        "cells_per_s": n * n / seconds, "outputs": list(out.data_vars),
        "rss_before_mib": rss_before,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child(a: argparse.Namespace, n: int, chunks: int) -> dict:
    cmd = [sys.executable, __file__, "--child", "--n", str(n), "--p", str(a.p),
           "--trees", str(a.trees), "--train", str(a.train), "--seed", str(a.seed),
           "--chunks", str(chunks)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode:
        raise SystemExit(f"child {cmd} failed:\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--small", type=int, default=500)
    ap.add_argument("--p", type=int, default=10)
    ap.add_argument("--trees", type=int, default=100)
    ap.add_argument("--train", type=int, default=5000)
    ap.add_argument("--chunks", type=int, nargs="+", default=[256, 1024])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(run_one(a.n, a.p, a.chunks[0], a.trees, a.train, a.seed)))
        return
    print(f"QuantileForest ({a.trees} trees, trained on {a.train:,} rows) × {a.p} covariates; "
          f"outputs mean, Q0.05, Q0.5, Q0.95, uncertainty; client=None, "
          f"{len(os.sched_getaffinity(0))} threads")
    rows = [child(a, n, c) for c in a.chunks for n in (a.small, a.n)]
    print(f"{'grid':>13s} {'block':>11s} {'blocks':>6s} {'valid cells':>12s} {'seconds':>8s} "
          f"{'cells/s':>9s} {'peak MiB':>9s}")
    for r in rows:
        print(f"{r['n']:>6,d} × {r['n']:<,d} {r['chunks']:>5d} × {r['chunks']:<4d} "
              f"{r['blocks']:6d} {r['valid']:12,d} {r['seconds']:8.1f} {r['cells_per_s']:9,.0f} "
              f"{r['peak_rss_mib']:9,.0f}")
    for c in a.chunks:
        small, big = (next(r for r in rows if r["n"] == n and r["chunks"] == c)
                      for n in (a.small, a.n))
        note = ""
        if small["blocks"] < len(os.sched_getaffinity(0)):
            note = f"; the {a.small}² grid is {small['blocks']} block(s): fewer than the threads"
        print(f"time {a.n}² / {a.small}² with {c} × {c} blocks: "
              f"{big['seconds'] / small['seconds']:.1f} (linear: {(a.n / a.small) ** 2:.0f}"
              f"{note})")
    peak = max(r["peak_rss_mib"] for r in rows)
    print(f"peak memory of any case: {peak:,.0f} MiB ({'under' if peak < 3 * 1024 else 'OVER'} "
          "the 3 GB bound)")


if __name__ == "__main__":
    main()
