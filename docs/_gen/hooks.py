"""MkDocs hook: regenerate the equations, validations and command-line pages before a build.

Each page is rewritten only when its content changes, so ``mkdocs serve`` does not loop. The
generated pages are committed too, so that links to them work when the Markdown is read in the
repository (tests/test_links.py); a build always refreshes them.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"_wholesoil_docs_{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def on_pre_build(config: Any, **kwargs: Any) -> None:
    docs = Path(config["docs_dir"])
    _load("equations").generate(docs / "equations.md")
    _load("validations").generate(docs / "validations.md")
    _load("cli").generate(docs / "cli.md")


#: ``<!-- comparison: NAME -->`` in a page is replaced by the table of the committed run
#: ``docs/reproductions/runs/NAME/comparison.csv`` (written by ``wholesoil reproduce NAME``).
_MARK = re.compile(r"<!--\s*comparison:\s*([a-z0-9-]+)\s*-->")


def comparison_markdown(csv_path: Path) -> str:
    """A comparison.csv as a Markdown table (numbers to 4 significant digits)."""
    import csv

    if not csv_path.is_file():
        return f"*(no run committed yet: `{csv_path.as_posix()}` is missing)*"
    with open(csv_path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))

    def cell(v: str) -> str:
        try:
            f = float(v)
        except ValueError:
            return v.replace("|", "\\|")
        return f"{f:.4g}"

    cols = ["label", "unit", "paper", "ours", "ours_low", "ours_high", "n", "note"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(cell(r.get(c, "") or "") for c in cols) + " |")
    return "\n".join(lines)


def on_page_markdown(markdown: str, page: Any, config: Any, **kwargs: Any) -> str:
    docs = Path(config["docs_dir"])
    return _MARK.sub(
        lambda m: comparison_markdown(docs / "reproductions" / "runs" / m.group(1)
                                      / "comparison.csv"), markdown)
