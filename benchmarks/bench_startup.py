"""Benchmark: start-up of the ``wholesoil`` command, as a user runs it.

Times three commands as subprocesses (``python -m wholesoil.cli …`` with this interpreter and
environment), each the median wall-clock time of N runs, and prints them against the targets of
issue 19:

* ``wholesoil --help`` (target < 0.5 s);
* ``wholesoil c14 age --d14c -35.9 --year 2005 --lat 45.2`` (target < 1 s);
* ``wholesoil harmonize`` of a generated 300-profile table, 4 horizons each (target < 1 s).

Run: ``python benchmarks/bench_startup.py [--repeat 5]``. To compare two trees, run it twice
with ``PYTHONPATH`` set to each tree's ``src``. ``python -X importtime -m wholesoil.cli --help``
shows where the time of one run goes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"--help": 0.5, "c14 age": 1.0, "harmonize (300 profiles)": 1.0}


def _table(path: Path, n_profiles: int = 300) -> None:
    """A horizon table: n_profiles × 4 horizons (0-10-30-60-100 cm), SOC falling with depth."""
    rows = ["profile_id,top,bottom,soc"]
    bounds = (0, 10, 30, 60, 100)
    for i in range(n_profiles):
        for j in range(4):
            soc = (30.0 + (i % 17)) * (0.55 ** j)
            rows.append(f"p{i:04d},{bounds[j]},{bounds[j + 1]},{soc:.3f}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _median_time(args: list[str], repeat: int) -> float:
    cmd = [sys.executable, "-m", "wholesoil.cli", "--quiet", *args]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr[-500:]}")
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs per command (median)")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "horizons.csv"
        _table(table)
        cases = {
            "--help": ["--help"],
            "c14 age": ["c14", "age", "--d14c", "-35.9", "--year", "2005", "--lat", "45.2"],
            "harmonize (300 profiles)": ["harmonize", str(table), "--variable", "soc",
                                         "-o", str(Path(tmp) / "out.csv")],
        }
        print(f"{'command':<26} {'median [s]':>10} {'target [s]':>10}  ok   (n = {a.repeat})")
        failed = 0
        for name, args in cases.items():
            t = _median_time(args, a.repeat)
            ok = t < TARGETS[name]
            failed += not ok
            print(f"{name:<26} {t:>10.3f} {TARGETS[name]:>10.1f}  {'yes' if ok else 'NO'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
