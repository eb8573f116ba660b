"""Skill scores of predictions against observations.

R² and RMSE follow Wang H. et al. (2025) Eqs. 4–5; bias is mean(predicted − observed), so a
positive bias means over-prediction. R² here is the coefficient of determination against the
observed mean (Eq. 4), not the squared Pearson correlation: it is negative when the predictions
are worse than the mean of the observations.

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def _pair(observed: ArrayLike, predicted: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(observed, dtype=float)
    p = np.asarray(predicted, dtype=float)
    if y.shape != p.shape:
        raise ValueError(f"observed and predicted differ in shape: {y.shape} vs {p.shape}")
    return y, p


def r2_score(observed: ArrayLike, predicted: ArrayLike) -> float:
    """Coefficient of determination, Wang H. et al. (2025) Eq. 4.

    R² = 1 − Σ(y_p − ŷ_p)² / Σ(y_p − ȳ)². NaN when fewer than two observations or when the
    observations have no variance.
    """
    y, p = _pair(observed, predicted)
    if y.size < 2:
        return float("nan")
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    if ss_tot == 0.0:
        return float("nan")
    return 1.0 - float(np.sum((y - p) ** 2)) / ss_tot


def rmse(observed: ArrayLike, predicted: ArrayLike) -> float:
    """Root mean square error, Wang H. et al. (2025) Eq. 5: sqrt(Σ(y_p − ŷ_p)² / q) [units of y]."""
    y, p = _pair(observed, predicted)
    if y.size == 0:
        return float("nan")
    return float(np.sqrt(np.mean((y - p) ** 2)))


def bias(observed: ArrayLike, predicted: ArrayLike) -> float:
    """Mean error, mean(ŷ − y) [units of y]; positive means the model over-predicts."""
    y, p = _pair(observed, predicted)
    if y.size == 0:
        return float("nan")
    return float(np.mean(p - y))


def skill(observed: ArrayLike, predicted: ArrayLike) -> dict[str, float]:
    """n, R² (Eq. 4), RMSE (Eq. 5) and bias of one set of predictions."""
    y, p = _pair(observed, predicted)
    return {
        "n": int(y.size),
        "r2": r2_score(y, p),
        "rmse": rmse(y, p),
        "bias": bias(y, p),
    }
