"""Load the whole bundled ISRaD database (2023-02-08) and print wall time and peak memory.

Target (issue 20): ≤ 3 s and ≤ 1 GB on one core. Run as

    python benchmarks/bench_israd_load.py [--flat]

``--flat`` also writes the database's flat layer file to a temporary folder and times reading
it. Peak memory is the process's maximum resident set size (``ru_maxrss``), which includes the
interpreter and the imports (numpy, pandas, pyarrow); the import cost is printed apart.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kB


def main() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    t0 = time.perf_counter()
    from wholesoil.datasets import load_israd

    t_import = time.perf_counter() - t0
    rss_import = _rss_mb()
    t1 = time.perf_counter()
    ps = load_israd()
    t_load = time.perf_counter() - t1
    print(f"import wholesoil.datasets: {t_import:6.2f} s, peak RSS {rss_import:7.1f} MB")
    print(f"load_israd():              {t_load:6.2f} s, peak RSS {_rss_mb():7.1f} MB "
          f"({len(ps.sites):,} profiles, {len(ps.horizons):,} layers, "
          f"{int(ps.horizons.d14c.notna().sum()):,} with Δ14C)")
    if "--flat" in sys.argv:
        from wholesoil.datasets import REGISTRY, data_path
        from wholesoil.io import read_israd, write_israd_flat

        with tempfile.TemporaryDirectory() as tmp:
            path = write_israd_flat(data_path(REGISTRY["israd"]["files"][0]).parent,
                                    os.path.join(tmp, "ISRaD_extra_flat_layer.csv.gz"))
            t2 = time.perf_counter()
            flat = read_israd(path)
            print(f"read_israd(flat file):     {time.perf_counter() - t2:6.2f} s, peak RSS "
                  f"{_rss_mb():7.1f} MB ({len(flat.horizons):,} layers)")


if __name__ == "__main__":
    main()
