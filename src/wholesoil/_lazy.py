"""Names of a package imported on first use (PEP 562), from one table.

A package's ``__init__`` lists ``name → (module, attribute)`` and binds the two module hooks::

    _EXPORTS = {"ProfileSet": ("wholesoil.profiles._profileset", "ProfileSet"), ...}
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

so that ``import wholesoil.profiles`` costs nothing until a name is used, and a command loads
only the modules it needs.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, tuple[str, str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` for the names in ``exports``.

    A name is imported from its module on first access and then cached in the package's
    namespace (later accesses are plain attribute look-ups).
    """

    def __getattr__(name: str) -> Any:
        try:
            module, attr = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module), attr)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
