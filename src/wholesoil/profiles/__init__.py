"""Soil profiles: the ProfileSet container, QC, equal-area splines, SOC density, pedotransfer."""

from wholesoil.profiles._profileset import (
    HORIZON_COLUMNS,
    SITE_COLUMNS,
    VALUE_RANGES,
    PaddedProfiles,
    ProfileSet,
    pad_horizons,
)

__all__ = [
    "HORIZON_COLUMNS",
    "SITE_COLUMNS",
    "VALUE_RANGES",
    "PaddedProfiles",
    "ProfileSet",
    "pad_horizons",
]
