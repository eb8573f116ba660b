"""wholesoil: whole-soil-profile soil organic carbon science in one toolkit.

Subpackages are imported when first used (``wholesoil.profiles``, ``wholesoil.models`` …), so
that ``import wholesoil`` and every command's start-up load only what they need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["ProfileSet", "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from wholesoil.profiles import ProfileSet


def __getattr__(name: str) -> Any:
    if name == "ProfileSet":
        from wholesoil.profiles import ProfileSet

        return ProfileSet
    raise AttributeError(f"module 'wholesoil' has no attribute {name!r}")
