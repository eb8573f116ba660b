"""wholesoil: whole-soil-profile soil organic carbon science in one toolkit."""

from wholesoil.profiles import ProfileSet

__version__ = "0.1.0"
__all__ = ["ProfileSet", "__version__"]
