"""Option types shared across modules (one place, as xarray's ``core/types.py``)."""

from __future__ import annotations

from typing import Literal

#: Equal-area spline evaluation: ``"mpspline2"`` reproduces R mpspline2 (1-cm left-edge values,
#: clamping, partial-coverage averaging); ``"exact"`` integrates the fitted quadratics exactly.
SplineMethod = Literal["mpspline2", "exact"]

#: What QC does with a finding: fix it by the named rule, or exclude the horizon/profile.
QCAction = Literal["repair", "exclude"]

#: Depth-function families compared by AIC.
DepthModel = Literal["beta", "exponential", "power"]

#: Post-hoc multiple-comparison procedures after one-way ANOVA.
PostHoc = Literal["duncan", "tukey"]
