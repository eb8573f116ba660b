"""Readers and writers.

Every reader returns a :class:`~wholesoil.profiles.ProfileSet` with canonical names and units
(``DESIGN.md``); readers are the only place where units are converted. Each source format keeps
its own ``VARIABLE_MAP`` (source name → canonical name, unit, factor).

Grids: :func:`read_grid` reads GeoTIFF (rioxarray) and NetCDF covariates onto one canonical
``(y, x)`` grid, regridding what differs (and saying so) or refusing; :func:`write_netcdf` writes
NetCDF-CF and :func:`write_cogs` Cloud-Optimized GeoTIFFs with SoilGrids-like names.


Readers are registered by name in :mod:`wholesoil.io._registry` (:func:`register_reader`,
:data:`READERS`): the command line's ``--format`` choices come from there. Names are imported
on first use (PEP 562), so ``import wholesoil.io`` and the registry load no pandas.
"""

from __future__ import annotations

from wholesoil._lazy import lazy_exports

#: Public name → (module, attribute), imported on first access.
_EXPORTS: dict[str, tuple[str, str]] = {
    "CLM5_HISTORY_VARIABLES": ("wholesoil.io._clm5_history", "CLM5_HISTORY_VARIABLES"),
    "ISRAD_VARIABLE_MAP": ("wholesoil.io._israd", "VARIABLE_MAP"),
    "NCSCD_VARIABLE_MAP": ("wholesoil.io._ncscd", "VARIABLE_MAP"),
    "READERS": ("wholesoil.io._registry", "READERS"),
    "Reader": ("wholesoil.io._registry", "Reader"),
    "UNIT_CONVERSIONS": ("wholesoil.io._table", "UNIT_CONVERSIONS"),
    "WOSIS_VARIABLE_MAP": ("wholesoil.io._wosis", "VARIABLE_MAP"),
    "atomic_path": ("wholesoil.io._write", "atomic_path"),
    "check_grid_features": ("wholesoil.io._grid", "check_grid_features"),
    "cog_name": ("wholesoil.io._grid_write", "cog_name"),
    "flatten_israd": ("wholesoil.io._israd", "flatten_israd"),
    "format_help": ("wholesoil.io._registry", "format_help"),
    "get_reader": ("wholesoil.io._registry", "get_reader"),
    "parse_replicates": ("wholesoil.io._wosis", "parse_replicates"),
    # a figure: it lives in wholesoil.plots and loads it (and matplotlib) on first use
    "plot_grid_map": ("wholesoil.plots", "plot_grid_map"),
    "read_clm5_history": ("wholesoil.io._clm5_history", "read_clm5_history"),
    "read_grid": ("wholesoil.io._grid", "read_grid"),
    "read_israd": ("wholesoil.io._israd", "read_israd"),
    "read_ncscd": ("wholesoil.io._ncscd", "read_ncscd"),
    "read_profiles": ("wholesoil.io._write", "read_profiles"),
    "read_table": ("wholesoil.io._table", "read_table"),
    "read_wosis": ("wholesoil.io._wosis", "read_wosis"),
    "reader_names": ("wholesoil.io._registry", "reader_names"),
    "register_reader": ("wholesoil.io._registry", "register_reader"),
    "unregister_reader": ("wholesoil.io._registry", "unregister_reader"),
    "write_cogs": ("wholesoil.io._grid_write", "write_cogs"),
    "write_israd_flat": ("wholesoil.io._israd", "write_israd_flat"),
    "write_netcdf": ("wholesoil.io._grid_write", "write_netcdf"),
    "write_profiles": ("wholesoil.io._write", "write_profiles"),
    "write_table": ("wholesoil.io._write", "write_table"),
}

__all__ = sorted(n for n in _EXPORTS if n != "plot_grid_map")

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
