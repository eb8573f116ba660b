"""What the demo writes to disk, measured, so that a run can say so before it starts.

Sizes in MB (10⁶ bytes, ``du -sk`` / 1000) by what writes them. The ``quick`` column was
measured with ``du -sk`` on a ``wholesoil demo --quick`` run of 2026-12-07 (wholesoil main at
0fd7eca: 63.2 MB in all). The ``full`` column was measured the same way on a full
``wholesoil demo --keep-models`` run of 2026-12-07 (main at 414af41: 410.0 MB in all, of which
the two Monte Carlo interval models — β and 0–30 cm SOC density — are 186.3 MB each); a default
full run at the same commit left 37.8 MB (``du -sb``), under the 100 MB issue 24 asks for.
The Monte Carlo models are what ``--keep-models`` keeps: by default they are deleted once the
stocks stage has used them. Checked: a default ``--quick`` run after that change (2026-12-07)
left 17.5 MB (estimate 19).
"""

from __future__ import annotations

#: Date the sizes below were measured.
MEASURED = "2026-12-07"

#: MB written per stage (both measured; see the module notes).
DISK_MB: dict[str, dict[str, float]] = {
    "quick": {
        "mapping (β and layer models, tables, figures)": 31.2 - 22.8,
        "stocks (topsoil model, maps, blocks)": 26.5 - 22.8,
        "tables, figures, PRODA, radiocarbon, inputs": 4.4,
        "report.html and run.json": 2.1,
        "Monte Carlo interval models (kept with --keep-models)": 2 * 22.8,
    },
    "full": {  # du -sk / 1000 of each folder; mapping less the two Monte Carlo models
        "mapping (β and layer models, tables, figures)": 403.696 - 186.332 - 186.324,
        "stocks (topsoil model, maps, blocks)": 0.848,
        "tables, figures, PRODA, radiocarbon, inputs": 1.180 + 1.012 + 1.012 + 0.104 + 0.072,
        "report.html and run.json": 2.068 + 0.012,
        "Monte Carlo interval models (kept with --keep-models)": 186.332 + 186.324,
    },
}

_MODELS = "Monte Carlo interval models (kept with --keep-models)"


def disk_estimate_mb(*, quick: bool, keep_models: bool) -> tuple[float, float]:
    """(MB left on disk at the end, MB at the peak while the stocks stage runs)."""
    table = DISK_MB["quick" if quick else "full"]
    kept = sum(v for k, v in table.items() if k != _MODELS)
    peak = sum(table.values())
    return (peak if keep_models else kept), peak


def disk_message(*, quick: bool, keep_models: bool) -> str:
    """The line the demo prints before it starts."""
    end, peak = disk_estimate_mb(quick=quick, keep_models=keep_models)
    kind = "--quick" if quick else "full"
    if keep_models:
        return (f"demo ({kind}): will write about {end:.0f} MB, including the Monte Carlo "
                f"interval models (--keep-models); sizes measured {MEASURED}")
    return (f"demo ({kind}): will write about {end:.0f} MB (up to {peak:.0f} MB while the "
            "stocks stage runs; the Monte Carlo interval models are deleted after it, keep "
            f"them with --keep-models); sizes measured {MEASURED}")
