"""Benchmark: wholesoil's R-style RandomForest and QuantileForest vs plain scikit-learn.

Trains and predicts on N rows × P features (default 100,000 × 20) simulated from Friedman's #1
function plus 15 noise features, and prints for each learner: fit rows/s, predict rows/s and
the peak resident memory of the process that ran it. Each learner runs in its own child
process so the peaks do not mix. The baseline is ``sklearn.ensemble.RandomForestRegressor``
with its own defaults (max_features=1.0, min_samples_leaf=1) and the same number of trees,
run in the same script; the ratio column compares each run's fit time with the baseline's.

wholesoil's RandomForest follows R randomForest (mtry = p/3, nodesize 5), so it grows smaller,
decorrelated trees than scikit-learn's default: a different model, not only a faster one.
QuantileForest also keeps the training targets in its leaves for quantile predictions.

Run: ``python benchmarks/bench_learners.py [--n 100000] [--p 20] [--trees 100] [--jobs 2]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def friedman(n: int, p: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Friedman #1 (Friedman 1991): y = 10 sin(π x1 x2) + 20 (x3 − 0.5)² + 10 x4 + 5 x5 + ε."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, p))
    y = (
        10 * np.sin(np.pi * X[:, 0] * X[:, 1])
        + 20 * (X[:, 2] - 0.5) ** 2
        + 10 * X[:, 3]
        + 5 * X[:, 4]
        + rng.normal(0.0, 1.0, n)
    )
    return X, y


def run_one(name: str, n: int, p: int, trees: int, jobs: int, seed: int) -> dict:
    X, y = friedman(n, p, seed)
    Xt, yt = friedman(min(n, 20_000), p, seed + 1)
    if name == "sklearn RandomForestRegressor (defaults)":
        from sklearn.ensemble import RandomForestRegressor

        model = RandomForestRegressor(n_estimators=trees, n_jobs=jobs, random_state=seed)
    elif name == "wholesoil RandomForest (R-style)":
        from wholesoil.mapping._learners import RandomForest

        model = RandomForest(n_estimators=trees, n_jobs=jobs, random_state=seed)
    elif name == "wholesoil QuantileForest":
        from wholesoil.mapping._learners import QuantileForest

        model = QuantileForest(n_estimators=trees, n_jobs=jobs, random_state=seed)
    else:
        raise SystemExit(f"unknown learner {name}")
    t0 = time.perf_counter()
    model.fit(X, y)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pred = model.predict(Xt)
    predict_s = time.perf_counter() - t0
    out = {
        "learner": name,
        "fit_s": fit_s,
        "fit_rows_per_s": n / fit_s,
        "predict_rows_per_s": Xt.shape[0] / predict_s,
        "test_rmse": float(np.sqrt(np.mean((pred - yt) ** 2))),
    }
    if name == "wholesoil QuantileForest":
        t0 = time.perf_counter()
        model.predict_quantiles(Xt, quantiles=(0.05, 0.5, 0.95))
        out["quantile_rows_per_s"] = Xt.shape[0] / (time.perf_counter() - t0)
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


LEARNERS = (
    "sklearn RandomForestRegressor (defaults)",
    "wholesoil RandomForest (R-style)",
    "wholesoil QuantileForest",
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--p", type=int, default=20)
    ap.add_argument("--trees", type=int, default=100)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(run_one(a.child, a.n, a.p, a.trees, a.jobs, a.seed)))
        return
    print(f"{a.n:,} rows × {a.p} features, {a.trees} trees, n_jobs={a.jobs}")
    rows = []
    for name in LEARNERS:
        cmd = [sys.executable, __file__, "--child", name, "--n", str(a.n), "--p", str(a.p),
               "--trees", str(a.trees), "--jobs", str(a.jobs), "--seed", str(a.seed)]
        res = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
    base = rows[0]["fit_s"]
    head = f"{'learner':44s} {'fit rows/s':>11s} {'predict rows/s':>15s} {'peak MiB':>9s} " \
           f"{'test RMSE':>9s} {'fit time vs baseline':>21s}"
    print(head)
    for r in rows:
        print(f"{r['learner']:44s} {r['fit_rows_per_s']:11,.0f} {r['predict_rows_per_s']:15,.0f} "
              f"{r['peak_rss_mib']:9,.0f} {r['test_rmse']:9.3f} {r['fit_s'] / base:20.2f}×")
    q = rows[2].get("quantile_rows_per_s")
    if q:
        print(f"QuantileForest quantiles (0.05, 0.5, 0.95): {q:,.0f} rows/s")


if __name__ == "__main__":
    main()
