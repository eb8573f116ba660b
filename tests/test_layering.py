"""Computation below the workflows draws nothing: no module under models/, profiles/, depth/,
stats/, mapping/, radiocarbon/ or assimilation/ imports matplotlib or wholesoil.plots.

Their figure functions live in :mod:`wholesoil.plots`; the few old public names (e.g.
``wholesoil.models.plot_elasticities``) stay importable through a module ``__getattr__`` of the
package ``__init__`` that loads :mod:`wholesoil.plots` only when such a name is asked for.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import wholesoil

COMPUTATION = ("models", "profiles", "depth", "stats", "mapping", "radiocarbon", "assimilation")
SRC = Path(wholesoil.__file__).parent

#: An import statement (top level or inside a function) of matplotlib or of the figures.
IMPORT = re.compile(
    r"^\s*(?:import\s+(?:matplotlib|wholesoil\.plots)\b"
    r"|from\s+(?:matplotlib|wholesoil\.plots)\b"
    r"|from\s+wholesoil\s+import\s+[^#\n]*\bplots\b)",
    re.MULTILINE,
)


def _modules() -> list[str]:
    names = []
    for package in COMPUTATION:
        pkg = importlib.import_module(f"wholesoil.{package}")
        names.append(pkg.__name__)
        names += [m.name for m in pkgutil.walk_packages(pkg.__path__, prefix=f"{pkg.__name__}.")]
    return sorted(names)


def test_computation_modules_load_neither_matplotlib_nor_plots() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules\n"
        "                        if m.split('.')[0] == 'matplotlib' or m.startswith('wholesoil.plots'))))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(run.stdout.strip().splitlines()[-1]) == []


@pytest.mark.parametrize("package", COMPUTATION)
def test_computation_sources_import_neither_matplotlib_nor_plots(package: str) -> None:
    offenders = [
        f"{path.relative_to(SRC)}: {m.group(0).strip()}"
        for path in sorted((SRC / package).rglob("*.py"))
        for m in IMPORT.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_grep_sees_imports() -> None:
    for line in ("import matplotlib", "    from matplotlib.figure import Figure",
                 "from wholesoil.plots import plot_map", "import wholesoil.plots.maps",
                 "from wholesoil import plots"):
        assert IMPORT.search(line), line
    assert not IMPORT.search("# matplotlib is not imported here")


@pytest.mark.parametrize(("module", "name"), [
    ("wholesoil.models", "plot_elasticities"),
    ("wholesoil.models", "plot_response_surfaces"),
    ("wholesoil.mapping", "plot_importance"),
    ("wholesoil.mapping", "plot_partial_dependence"),
    ("wholesoil.assimilation.proda", "latitude_figure"),
    ("wholesoil.assimilation.proda", "component_figure"),
    ("wholesoil.io", "plot_grid_map"),
])
def test_moved_figures_stay_importable_from_their_old_packages(module: str, name: str) -> None:
    import wholesoil.plots

    assert getattr(importlib.import_module(module), name) is getattr(wholesoil.plots, name)


def test_unknown_names_still_raise() -> None:
    import wholesoil.models

    with pytest.raises(AttributeError):
        wholesoil.models.plot_nothing  # noqa: B018
