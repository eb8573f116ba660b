"""Readers and writers.

Every reader returns a :class:`~wholesoil.profiles.ProfileSet` with canonical names and units
(``DESIGN.md``); readers are the only place where units are converted. Each source format keeps
its own ``VARIABLE_MAP`` (source name → canonical name, unit, factor).

Grids: :func:`read_grid` reads GeoTIFF (rioxarray) and NetCDF covariates onto one canonical
``(y, x)`` grid, regridding what differs (and saying so) or refusing; :func:`write_netcdf` writes
NetCDF-CF and :func:`write_cogs` Cloud-Optimized GeoTIFFs with SoilGrids-like names.
"""

from wholesoil.io._grid import (
    check_grid_features,
    cog_name,
    read_grid,
    write_cogs,
    write_netcdf,
)
from wholesoil.io._israd import VARIABLE_MAP as ISRAD_VARIABLE_MAP
from wholesoil.io._israd import flatten_israd, read_israd, write_israd_flat
from wholesoil.io._ncscd import VARIABLE_MAP as NCSCD_VARIABLE_MAP
from wholesoil.io._ncscd import read_ncscd
from wholesoil.io._table import UNIT_CONVERSIONS, read_table
from wholesoil.io._wosis import VARIABLE_MAP as WOSIS_VARIABLE_MAP
from wholesoil.io._wosis import parse_replicates, read_wosis
from wholesoil.io._write import atomic_path, read_profiles, write_profiles, write_table

__all__ = [
    "ISRAD_VARIABLE_MAP",
    "NCSCD_VARIABLE_MAP",
    "UNIT_CONVERSIONS",
    "WOSIS_VARIABLE_MAP",
    "atomic_path",
    "check_grid_features",
    "cog_name",
    "flatten_israd",
    "parse_replicates",
    "read_grid",
    "read_israd",
    "read_ncscd",
    "read_profiles",
    "read_table",
    "read_wosis",
    "write_cogs",
    "write_israd_flat",
    "write_netcdf",
    "write_profiles",
    "write_table",
]


# Figures live in wholesoil.plots; these names stay importable from here and load it on first use
# (this package never imports matplotlib itself).
_MOVED_TO_PLOTS = ("plot_grid_map",)


def __getattr__(name: str) -> object:
    if name in _MOVED_TO_PLOTS:
        import importlib

        return getattr(importlib.import_module("wholesoil.plots"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
