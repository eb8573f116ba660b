"""Option types shared across modules (one place, as xarray's ``core/types.py``)."""

from __future__ import annotations

from typing import Literal

#: Equal-area spline evaluation: ``"mpspline2"`` reproduces R mpspline2 (1-cm left-edge values,
#: clamping, partial-coverage averaging); ``"exact"`` integrates the fitted quadratics exactly.
SplineMethod = Literal["mpspline2", "exact"]

#: Depth function of a per-layer amount in the stock mode of harmonize: ``"uniform"`` density
#: within each horizon (exactly mass-preserving), or the equal-area spline integrated ``"exact"``.
StockMethod = Literal["uniform", "exact"]

#: What ``harmonize`` does with a variable: ``"mean"`` layer means of a concentration (the
#: equal-area spline), ``"stock"`` stocks of the standard layers from per-layer amounts.
HarmonizeMode = Literal["mean", "stock"]

#: What QC did about a finding: a value changed by a named rule, a horizon or profile
#: excluded, or the finding noted and the data kept as they are.
QCAction = Literal["repair", "exclude", "flag"]

#: Depth-function families compared by AIC.
DepthModel = Literal["beta", "exponential", "power"]

#: Post-hoc multiple-comparison procedures after one-way ANOVA.
PostHoc = Literal["duncan", "tukey"]
