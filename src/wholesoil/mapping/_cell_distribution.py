"""Per-cell input distributions of the stock Monte Carlo (§2.7 of [1]).

A mapped quantity with its per-cell uncertainty: a normal with mean and sd, an interval read as
a normal, or explicit draws (:class:`CellDistribution`); :func:`wholesoil.mapping.stock_totals`
propagates them to regional stocks.

References
----------
[1] Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution
    in the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript
    submitted to *Earth Syst. Sci. Data*; data doi:10.5281/zenodo.14787023.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.special import ndtri

from wholesoil.errors import InputDataError

# --------------------------------------------------------------------------------------------
# Per-cell input distributions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CellDistribution:
    """Per-cell uncertainty of one input grid, for :func:`stock_totals` and friends.

    Either a normal distribution per cell, N(mean, sd) — build it with :meth:`from_interval`
    (sd = half-width / z, z the standard normal quantile of (1 + level)/2) or :meth:`from_dataset`
    (a predicted grid's ``{name}_mean`` and ``{name}_Q…`` variables) — or Monte Carlo draws
    given directly (:meth:`from_draws`, e.g. from
    :meth:`~wholesoil.mapping.MonteCarloInterval.predict_draws`), whose own correlation is used
    as it is.

    Attributes
    ----------
    mean : DataArray, dims (y, x) or (depth, y, x)
        Central value per cell [units of the input]; NaN marks a missing cell.
    sd : DataArray or None
        Standard deviation per cell [units of the input] (normal inputs).
    draws : DataArray or None
        Draws with a leading ``draw`` dimension (draw inputs); ``mean`` is then their mean.
    """

    mean: xr.DataArray
    sd: xr.DataArray | None = None
    draws: xr.DataArray | None = None

    def __post_init__(self) -> None:
        if (self.sd is None) == (self.draws is None):
            raise ValueError("give exactly one of sd (normal per cell) or draws")
        if self.draws is not None and self.draws.dims[0] != "draw":
            raise InputDataError(
                f"draws must have 'draw' as their first dimension (got dims {self.draws.dims})",
                field="draws",
            )

    @classmethod
    def normal(cls, mean: xr.DataArray, sd: xr.DataArray) -> CellDistribution:
        """N(mean, sd) per cell; sd [units of the input] ≥ 0."""
        return cls(mean=mean, sd=sd)

    @classmethod
    def from_interval(
        cls,
        mean: xr.DataArray,
        lower: xr.DataArray,
        upper: xr.DataArray,
        level: float,
    ) -> CellDistribution:
        """Normal per cell with sd = (upper − lower)/2 / z_{(1+level)/2}.

        Parameters
        ----------
        mean : DataArray
            Centre [units of the input] (kept as given, also when the interval is asymmetric).
        lower, upper : DataArray
            Interval bounds at ``level`` [units of the input].
        level : float
            Nominal level of the interval, e.g. 0.90 for Q0.05–Q0.95.
        """
        if not 0.0 < float(level) < 1.0:
            raise ValueError(f"level must be in (0, 1), e.g. 0.90 (got {level!r})")
        z = float(ndtri(0.5 + float(level) / 2.0))
        sd = (upper - lower) / (2.0 * z)
        return cls(mean=mean, sd=sd.assign_attrs(mean.attrs))

    @classmethod
    def from_draws(cls, draws: xr.DataArray) -> CellDistribution:
        """Draws per cell, dims ("draw", y, x) or ("draw", depth, y, x)."""
        return cls(mean=draws.mean("draw").assign_attrs(draws.attrs), draws=draws)

    @classmethod
    def from_dataset(
        cls, ds: xr.Dataset, name: str, *, method: str | None = None
    ) -> CellDistribution:
        """From a predicted grid's ``{name}_mean`` and its outermost ``{name}_Q{q}`` pair.

        Variables follow the grid naming ``{name}_{stat}`` or ``{name}_{stat}_{method}``; the
        level is q_upper − q_lower (Q0.05/Q0.95 → 0.90).
        """
        suffix = "" if method is None else f"_{method}"
        mean_name = f"{name}_mean{suffix}"
        if mean_name not in ds:
            mean_name = f"{name}_mean"
        if mean_name not in ds:
            raise InputDataError(
                f"the grid has no {name}_mean{suffix}; it has {sorted(map(str, ds.data_vars))}",
                field=f"{name}_mean{suffix}",
            )
        qs: dict[float, str] = {}
        prefix = f"{name}_Q"
        for var in map(str, ds.data_vars):
            if var.startswith(prefix) and var.endswith(suffix):
                core = var[len(prefix) : len(var) - len(suffix)] if suffix else var[len(prefix) :]
                try:
                    qs[float(core)] = var
                except ValueError:
                    continue
        lo = [q for q in qs if q < 0.5]
        hi = [q for q in qs if q > 0.5]
        if not lo or not hi:
            raise InputDataError(
                f"need a lower and an upper quantile {name}_Q…{suffix} around the median; "
                f"found {sorted(qs.values())}",
                field=f"{name}_Q",
            )
        q_lo, q_hi = min(lo), max(hi)
        level = q_hi - q_lo
        if not np.isclose(q_lo, 1.0 - q_hi):
            raise InputDataError(
                f"quantiles {q_lo:g} and {q_hi:g} are not symmetric about the median",
                field=qs[q_lo],
            )
        return cls.from_interval(ds[mean_name], ds[qs[q_lo]], ds[qs[q_hi]], level)
