"""The stock mode of ``wholesoil harmonize``: per-layer amounts to stocks of standard layers.

``harmonize --variable soc_density --mode stock`` reads horizons with a per-layer amount
(``soc_density`` [Mg C ha⁻¹], the output of ``wholesoil density``), and writes one row per
profile and standard layer with the layer's stock, its coverage by observed horizons and a
``partial`` flag (:func:`wholesoil.profiles.layer_stocks`). Splining such an amount as a
concentration is refused (:func:`refuse_extensive`).

References
----------
Bishop, T.F.A., McBratney, A.B., Laslett, G.M. (1999). Modelling soil attribute depth functions
with equal-area quadratic smoothing splines. Geoderma 91, 27–45.
https://doi.org/10.1016/S0016-7061(99)00003-8
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import get_args

import numpy as np
import pandas as pd

from wholesoil._outputs import OutputSet, check_outputs
from wholesoil._types import HarmonizeMode, SplineMethod, StockMethod
from wholesoil.errors import InputDataError, user_names
from wholesoil.io._write import user_table_writer
from wholesoil.profiles._layer_stocks import extensive_unit, layer_stocks
from wholesoil.profiles._profileset import HORIZON_COLUMNS
from wholesoil.profiles._ranges import MAX_DEPTH_CM
from wholesoil.profiles._spline import STANDARD_DEPTHS
from wholesoil.progress import step
from wholesoil.workflows._jobs import (
    JobResult,
    QCMode,
    _commit,
    _inputs,
    _qc_planned,
    _qc_side,
    check_depths_option,
    checked,
    load_horizons,
)


def refuse_extensive(variable: str, units: Mapping[str, str] | None = None,
                     file: str | None = None) -> None:
    """Raise if ``variable`` is a per-layer amount, naming the two ways that handle it."""
    unit = extensive_unit(variable, units)
    if unit is None:
        return
    raise InputDataError(
        f"a per-layer amount [{unit}], not a concentration: splining it would "
        f"average amounts of thick and thin horizons and overstate stocks. Use --mode stock "
        f"(stocks of the standard layers with coverage), or harmonize soc and bd and run "
        f"wholesoil density",
        file=file,
        field=variable,
    )


def mean_mode_options(
    mode: HarmonizeMode, lam: float | None, method: str | None, min_coverage: float
) -> tuple[float, SplineMethod]:
    """λ and method of the mean mode (defaults 0.1 and ``"mpspline2"``); stock-mode options
    are refused there."""
    if mode not in get_args(HarmonizeMode):
        raise InputDataError(f"mode must be one of {list(get_args(HarmonizeMode))}",
                             field="mode", value=mode)
    if method is not None and method not in get_args(SplineMethod):
        raise InputDataError(
            f"method {method!r} needs --mode stock; layer means use {list(get_args(SplineMethod))}",
            field="method", value=method)
    if min_coverage != 1.0:
        raise InputDataError("--min-coverage applies to --mode stock only (layer means report "
                             "coverage and are NaN only where it is 0)", field="min_coverage",
                             value=min_coverage)
    return (0.1 if lam is None else float(lam)), method or "mpspline2"  # type: ignore[return-value]


def layer_stocks_job(
    horizons: str | Path,
    variable: str,
    output: str | Path,
    *,
    depths: Sequence[float] = STANDARD_DEPTHS,
    method: str | None = None,
    lam: float | None = None,
    min_coverage: float = 1.0,
    clamp: tuple[float, float] | None = None,
    qc: QCMode = "strict",
    max_depth: float = MAX_DEPTH_CM,
    canonical_names: bool = False,
    **read_kwargs: object,
) -> JobResult:
    """Stocks of standard layers from per-horizon amounts (``harmonize --mode stock``).

    Writes ``profile_id, top, bottom, <variable>, coverage, partial``: the stock of each
    standard layer [unit of the amount, Mg C ha⁻¹ for ``soc_density``], the fraction of the
    layer covered by observed horizons [-], and whether that fraction is below 1. A layer's
    stock is NaN where its coverage is below ``min_coverage`` (default 1: only complete
    layers), and never scaled up to the whole layer. See :func:`wholesoil.profiles.layer_stocks`
    for ``method`` (default ``"uniform"``) and ``lam`` (default 0). ``clamp`` is refused: a
    clamped density would no longer add up to the horizons' amounts.

    Returns
    -------
    wholesoil.workflows.JobResult
    """
    if method is not None and method not in get_args(StockMethod):
        raise InputDataError(
            f"method {method!r} averages 1-cm values; --mode stock integrates with "
            f"{list(get_args(StockMethod))} (uniform: exactly mass-preserving, the default)",
            field="method", value=method)
    if clamp is not None:
        raise InputDataError("--clamp does not apply to --mode stock (a clamped density would "
                             "not add up to the horizons' amounts)", field="clamp", value=clamp)
    if variable in HORIZON_COLUMNS and extensive_unit(variable) is None:
        raise InputDataError(
            f"--mode stock needs a per-layer amount such as soc_density [Mg C ha-1] (wholesoil "
            f"density computes it); {variable} is {HORIZON_COLUMNS[variable]}: harmonize it "
            f"without --mode stock for layer means", field=variable)
    stock_method: StockMethod = method or "uniform"  # type: ignore[assignment]
    output = Path(output)
    check_outputs(_inputs(horizons), {"layers": output, **_qc_planned(output, qc)})
    check_depths_option(depths, max_depth)
    ps = load_horizons(horizons, max_depth=max_depth, **read_kwargs)  # type: ignore[arg-type]
    meta = ps.metadata
    with user_names(meta.get("user_names", {})):
        ps, qcres = checked(ps, qc=qc, variables=[variable])
        with step(f"stocks of standard layers from {variable}", stage="harmonize"):
            table = layer_stocks(ps, variable, depths=depths, method=stock_method,
                                 lam=0.0 if lam is None else lam, min_coverage=min_coverage)
    outs = OutputSet(_inputs(horizons))
    outs.add("layers", *user_table_writer(
        table[["profile_id", "top", "bottom", variable, "coverage", "partial"]], output, meta,
        canonical_names=canonical_names))
    result = JobResult(table, {"layers": output}, qcres, [_summary(table, variable,
                                                                    min_coverage)])
    _qc_side(outs, result, output, meta, canonical_names)
    return _commit(outs, result)


def _summary(t: pd.DataFrame, variable: str, min_coverage: float) -> str:
    """One line: how many layers got a stock, how many are partly covered and what was done."""
    has = int(np.isfinite(t[variable].to_numpy(float)).sum())
    cov = t["coverage"].to_numpy(float)
    part = int((t["partial"].to_numpy(bool) & (cov > 0)).sum())
    empty = int((cov == 0).sum())
    what = ("left NaN (--min-coverage 1; a lower --min-coverage reports the covered part)"
            if min_coverage >= 1 else
            f"reported for the covered part where coverage ≥ {min_coverage:g}, else NaN")
    return (f"{variable}: stocks of {has} of {len(t)} standard layers; {part} only "
            f"partly covered by horizons (flagged in column partial) are {what}; {empty} "
            f"{'layer has' if empty == 1 else 'layers have'} no horizon")
