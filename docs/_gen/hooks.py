"""MkDocs hook: regenerate the equations, validations and command-line pages before a build.

Each page is rewritten only when its content changes, so ``mkdocs serve`` does not loop.
"""

from __future__ import annotations

import importlib.util
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
