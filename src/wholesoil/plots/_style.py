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

