"""Helpers shared by the figure modules: step lines of layers and cell edges."""

from __future__ import annotations

import numpy as np


def _step(top: np.ndarray, bottom: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step-line coordinates (x, depth) of layer values; gaps break the line with NaN."""
    xs, ys = [], []
    for t, b, v in zip(top, bottom, value, strict=True):
        xs += [v, v, np.nan]
        ys += [t, b, np.nan]
    return np.asarray(xs, float), np.asarray(ys, float)


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges from monotonic cell centres (half-way between, extended at both ends)."""
    c = np.asarray(centres, float)
    if c.size == 1:
        return np.array([c[0] - 0.5, c[0] + 0.5])
    mid = 0.5 * (c[1:] + c[:-1])
    return np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])



#: Axis labels — quantity and unit — of the covariates and targets the package knows, by column
#: name; :func:`axis_label` shows any other name as it is.
AXIS_LABELS: dict[str, str] = {
    "mat": "MAT [°C]",
    "map": "MAP [mm yr⁻¹]",
    "top": "depth [cm]",
    "bottom": "depth [cm]",
    "depth": "depth [cm]",
    "top_cm": "depth [cm]",
    "bottom_cm": "depth [cm]",
    "mid": "depth [cm]",
    "beta": "β [-]",
    "soc_density": "SOC density [Mg C ha⁻¹]",
    "soc_density_per_cm": "SOC density per cm [Mg C ha⁻¹ cm⁻¹]",
    "soc_0_30": "SOC density 0–30 cm [Mg C ha⁻¹]",
    "soc": "SOC [g kg⁻¹]",
    "oc": "SOC [g kg⁻¹]",
    "bd": "bulk density [g cm⁻³]",
    "bulk_density": "bulk density [g cm⁻³]",
    "clay": "clay [%]",
    "sand": "sand [%]",
    "silt": "silt [%]",
    "ph": "pH [-]",
    "npp": "NPP [g C m⁻² yr⁻¹]",
    "lat": "latitude [°N]",
    "lon": "longitude [°E]",
    "elevation": "elevation [m]",
    "d14c": "Δ¹⁴C [‰]",
    "fm": "fraction modern [-]",
}


def axis_label(name: object) -> str:
    """The quantity and unit of a known column (``"mat"`` → ``"MAT [°C]"``), else the name."""
    key = str(name)
    return AXIS_LABELS.get(key, AXIS_LABELS.get(key.lower(), key))
