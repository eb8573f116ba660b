"""Table-level depth-function fitting: one row per profile, as workflows and the CLI use it.

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from wholesoil._types import DepthModel
from wholesoil.depth._alternatives import aic, aicc, fit_exponential, fit_power
from wholesoil.depth._beta import (
    DEFAULT_BETA_BOUNDS,
    BetaMethod,
    beta_cumulative_fraction,
    fit_beta,
)
from wholesoil.errors import InputDataError, MissingColumnError

_MODELS: tuple[str, ...] = ("beta", "exponential", "power")

#: Output columns of :func:`fit_depth_functions`, with units.
DEPTH_FUNCTION_COLUMNS: dict[str, str] = {
    "profile_id": "profile identifier",
    "n_layers": "layers used in the fit",
    "top_depth": "top of the first layer used [cm]",
    "max_depth": "bottom of the deepest layer used [cm]",
    "stock_max_depth": "measured cumulative SOC stock to max_depth [Mg C ha⁻¹]",
    "beta": "β of the Jobbágy–Jackson model [-]",
    "beta_se": "standard error of β [-]",
    "asymptote": "A, fitted stock to infinite depth (method 'stock'), or the stock at the "
    "deepest layer taken as the total (method 'fraction') [Mg C ha⁻¹]",
    "rmse_beta": "RMSE of the β fit on cumulative stocks [Mg C ha⁻¹]",
    "converged_beta": "β fit converged to an interior optimum",
    "x_100": "0–100 cm SOC density: A·(1 − β^100) (method 'stock'), or Eq. 3 from the deepest "
    "layer, X_dmax·(1 − β^100)/(1 − β^dmax) (method 'fraction') [Mg C ha⁻¹]",
    "exp_c0": "exponential model: surface density [Mg C ha⁻¹ cm⁻¹]",
    "exp_c_inf": "exponential model: asymptotic density [Mg C ha⁻¹ cm⁻¹]",
    "exp_k": "exponential model: decay rate [cm⁻¹]",
    "power_a": "power model: a [Mg C ha⁻¹]",
    "power_b": "power model: exponent b [-]",
    "aic_beta": "AIC of the β model",
    "aic_exponential": "AIC of the exponential model",
    "aic_power": "AIC of the power model",
    "aicc_beta": "AICc of the β model",
    "aicc_exponential": "AICc of the exponential model",
    "aicc_power": "AICc of the power model",
    "best_model": "model with the lowest AIC among those compared (missing if none has an AIC)",
    "status": "'ok' or 'not fitted'",
    "warnings": "reasons and warnings, '; '-separated ('' if none)",
}


def _row_of(layers: pd.DataFrame, i: int) -> int:
    """Row of the i-th (positional) record as a spreadsheet shows it."""
    if "source_row" in layers.columns:
        v = layers["source_row"].iloc[i]
        if pd.notna(v):
            return int(v)
    return i + 2


def _numeric(layers: pd.DataFrame, col: str, id_col: str) -> np.ndarray:
    raw = layers[col]
    num = pd.to_numeric(raw, errors="coerce")
    bad = num.isna() & raw.notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputDataError(
            "expected a number",
            row=_row_of(layers, i),
            profile=layers[id_col].iloc[i],
            field=col,
            value=raw.iloc[i],
        )
    return num.to_numpy(dtype=float)


def _check_layers(
    layers: pd.DataFrame, value: str, id_col: str, top_col: str, bottom_col: str
) -> pd.DataFrame:
    if not isinstance(layers, pd.DataFrame):
        raise InputDataError(
            "layers must be a pandas.DataFrame", value=type(layers).__name__, has_value=True
        )
    for col in (id_col, top_col, bottom_col, value):
        if col not in layers.columns:
            raise MissingColumnError(
                f"layer table lacks column {col!r} (has {sorted(map(str, layers.columns))})",
                field=col,
            )
    top = _numeric(layers, top_col, id_col)
    bottom = _numeric(layers, bottom_col, id_col)
    val = _numeric(layers, value, id_col)
    ids = layers[id_col]

    def fail(mask: np.ndarray, msg: str, field: str, vals: np.ndarray) -> None:
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            raise InputDataError(
                msg, row=_row_of(layers, i), profile=ids.iloc[i], field=field, value=vals[i]
            )

    fail(ids.isna().to_numpy(), "missing profile identifier", id_col, ids.to_numpy())
    fail(np.isnan(top), "missing top depth", top_col, top)
    fail(np.isnan(bottom), "missing bottom depth", bottom_col, bottom)
    fail(top < 0, "expected top ≥ 0 cm", top_col, top)
    with np.errstate(invalid="ignore"):
        fail(bottom <= top, "expected bottom > top", bottom_col, bottom)
        fail(val < 0, "expected a SOC density ≥ 0 Mg C ha⁻¹", value, val)
    return pd.DataFrame(
        {
            "pid": ids.astype(str).to_numpy(),
            "top": top,
            "bottom": bottom,
            "value": val,
            "order": np.arange(len(layers)),
        }
    )


def _profile_messages(codes: np.ndarray, messages: list[str], n_profiles: int) -> list[list[str]]:
    """Lists of messages per profile from parallel (code, message) arrays."""
    out: list[list[str]] = [[] for _ in range(n_profiles)]
    for c, m in zip(codes.tolist(), messages, strict=True):
        out[c].append(m)
    return out


def fit_depth_functions(
    layers: pd.DataFrame,
    value: str = "soc_density",
    id_col: str = "profile_id",
    top_col: str = "top",
    bottom_col: str = "bottom",
    models: Sequence[DepthModel] = ("beta", "exponential", "power"),
    method: BetaMethod = "fraction",
    beta_bounds: tuple[float, float] = DEFAULT_BETA_BOUNDS,
) -> pd.DataFrame:
    """Fit β (and alternative depth functions) to every profile of a layer table.

    Layer SOC densities are cumulated from the top of each profile to give the cumulative stock at
    each layer bottom, to which the Jobbágy–Jackson β model (Wang H. et al. (2025) Eq. 2,
    :func:`fit_beta`) and the exponential and power alternatives
    (:mod:`wholesoil.depth._alternatives`) are fitted, all profiles at once. Models are compared by
    AIC on the same cumulative stocks.

    Parameters
    ----------
    layers : pandas.DataFrame
        One row per layer: profile identifier, top and bottom depth [cm] and the layer's SOC
        density [Mg C ha⁻¹] (Wang H. et al. (2025) Eq. 1). Layers should be contiguous from the
        surface. An optional ``source_row`` column gives the row in the original file for error
        messages.
    value, id_col, top_col, bottom_col : str
        Column names.
    models : sequence of {"beta", "exponential", "power"}
        Models compared by AIC; β is always fitted and reported.
    method : {"fraction", "stock"}
        How β is fitted (see :func:`fit_beta`): ``"fraction"`` (default), least squares on the
        cumulative fraction as Wang et al. (2025) and Jobbágy & Jackson (2000); ``"stock"``,
        least squares on the cumulative stocks with a free asymptote.
    beta_bounds : (float, float)
        Admissible range of β.

    Returns
    -------
    pandas.DataFrame
        One row per profile, in order of first appearance, with the columns of
        :data:`DEPTH_FUNCTION_COLUMNS`. No profile is dropped: those that cannot be fitted have
        NaN results, ``status = "not fitted"`` and the reason in ``warnings``.

    Raises
    ------
    InputDataError
        Missing columns, non-numeric or missing depths, negative depths or densities,
        bottom ≤ top, naming the row, profile, field and value.

    Notes
    -----
    Findings that do not stop a fit are reported in ``warnings``: a profile whose first layer
    does not start at 0 cm (the stock above it counts as zero, which biases β), gaps between
    layers (counted as holding no carbon), a missing density (the profile is used down to the last
    layer above it), β ≥ 1, fits on a bound, and ``x_100`` extrapolated below the deepest layer.
    Overlapping layers make the cumulative stock undefined; such profiles are not fitted.
    """
    unknown = [m for m in models if m not in _MODELS]
    if unknown:
        raise InputDataError(
            f"unknown depth model(s); expected some of {list(_MODELS)}",
            field="models",
            value=unknown,
        )
    t = _check_layers(layers, value, id_col, top_col, bottom_col)
    pids = pd.unique(t["pid"])
    prof = _cumulative_stocks(t, pids, value)
    P = len(pids)
    depth, stock, stock_max = prof.depth, prof.stock, prof.stock_max

    # floating-point trouble (overflow of huge values, say) must not print numpy warnings and
    # pass as "ok": it is silenced here and any non-finite fit is reported per profile below
    with np.errstate(all="ignore"):
        fb = fit_beta(depth, stock, method=method, beta_bounds=beta_bounds)
        fe = fit_exponential(depth, stock)
        fp = fit_power(depth, stock)
    numeric = np.isfinite(fb.beta) & ~(
        np.isfinite(fb.asymptote) & np.isfinite(fb.rmse) & np.isfinite(stock_max))
    fb.beta[numeric] = np.nan

    out = _fit_table(pids, prof, fb, fe, fp, method, models)
    has_overlap, n_layers, max_depth = prof.has_overlap, prof.n_layers, prof.max_depth
    fitted = np.isfinite(fb.beta)
    out["status"] = np.where(fitted, "ok", "not fitted")
    pn = np.arange(P)
    few = ~has_overlap & (n_layers < 2)
    extra: list[tuple[np.ndarray, str | Any]] = [
        (has_overlap, "not fitted: overlapping layers"),
        (numeric, "not fitted: numerical overflow (values too large to fit)"),
        (few, lambda p: f"not fitted: {n_layers[p]} usable layer(s), need ≥ 2"),
        (~has_overlap & ~few & ~numeric & ~(stock_max > 0), "not fitted: zero SOC stock"),
        (fitted & (fb.beta >= 1), "β ≥ 1: density does not decline with depth"),
        (fitted & ~fb.converged, "β fit did not converge or ended on a bound"),
        (fitted & (max_depth < 100), lambda p: f"x_100 extrapolated below {max_depth[p]:g} cm"),
        (fitted & ~out["best_model"].notna().to_numpy(), "too few layers to compare by AIC"),
    ]
    codes_msg, msgs = prof.codes_msg, prof.msgs
    for mask, msg in extra:
        for p in pn[mask]:
            codes_msg.append(int(p))
            msgs.append(msg(p) if callable(msg) else msg)
    codes_arr = np.asarray(codes_msg, dtype=np.int64)
    per = _profile_messages(codes_arr, msgs, P)
    out["warnings"] = ["; ".join(m) for m in per]
    return out[list(DEPTH_FUNCTION_COLUMNS)]


class _Profiles(NamedTuple):
    """Cumulative stocks per profile (P, K) and what the layer checks found."""

    depth: np.ndarray
    stock: np.ndarray
    has_overlap: np.ndarray
    n_layers: np.ndarray
    max_depth: np.ndarray
    stock_max: np.ndarray
    used_top: np.ndarray
    codes_msg: list[int]
    msgs: list[str]


def _cumulative_stocks(t: pd.DataFrame, pids: np.ndarray, value: str) -> _Profiles:
    """Layers (checked table ``t``) → cumulative stock at each layer bottom, per profile.

    Notes gaps (no carbon), overlaps (profile not fitted), a first layer below 0 cm and a
    missing density (profile used above it) as messages per profile code.
    """
    P = len(pids)
    t["code"] = pd.Categorical(t["pid"], categories=pids).codes.astype(np.int64)
    t = t.sort_values(["code", "top", "bottom", "order"], kind="stable").reset_index(drop=True)

    code = t["code"].to_numpy()
    top = t["top"].to_numpy()
    bottom = t["bottom"].to_numpy()
    val = t["value"].to_numpy()
    first = np.r_[True, code[1:] != code[:-1]]
    prev_bottom = np.r_[np.nan, bottom[:-1]]
    gap = ~first & (top > prev_bottom)
    overlap = ~first & (top < prev_bottom)
    not_surface = first & (top > 0)

    # a missing density ends the usable part of the profile
    missing = np.isnan(val)
    after_missing = t.assign(m=missing).groupby("code")["m"].cummax().to_numpy()
    used = ~after_missing
    cum = t.assign(v=np.where(used, val, 0.0)).groupby("code")["v"].cumsum().to_numpy()

    pos = t.groupby("code").cumcount().to_numpy()
    K = int(pos.max()) + 1 if len(t) else 1
    depth = np.full((P, K), np.nan)
    stock = np.full((P, K), np.nan)
    depth[code[used], pos[used]] = bottom[used]
    stock[code[used], pos[used]] = cum[used]

    codes_msg: list[int] = []
    msgs: list[str] = []

    def note(mask: np.ndarray, fmt) -> None:
        for i in np.flatnonzero(mask):
            codes_msg.append(int(code[i]))
            msgs.append(fmt(i))

    note(not_surface, lambda i: f"first layer starts at {top[i]:g} cm, not 0 (stock above is 0)")
    note(gap, lambda i: f"gap {prev_bottom[i]:g}–{top[i]:g} cm counted as no carbon")
    note(overlap, lambda i: f"overlapping layers at {top[i]:g}–{prev_bottom[i]:g} cm")
    first_missing = missing & ~np.r_[False, after_missing[:-1] & (code[1:] == code[:-1])]
    note(
        first_missing,
        lambda i: f"missing {value} in layer {top[i]:g}–{bottom[i]:g} cm; profile used above it",
    )

    has_overlap = np.zeros(P, dtype=bool)
    has_overlap[code[overlap]] = True
    depth[has_overlap] = np.nan
    stock[has_overlap] = np.nan

    n_layers = np.isfinite(depth).sum(axis=1)
    with np.errstate(invalid="ignore"):
        max_depth = np.nanmax(np.where(np.isfinite(depth), depth, -np.inf), axis=1)
    max_depth = np.where(n_layers > 0, max_depth, np.nan)
    k_last = np.maximum(n_layers - 1, 0)
    stock_max = np.where(n_layers > 0, stock[np.arange(P), k_last], np.nan)
    used_top = np.full(P, np.nan)
    first_used = first & ~has_overlap[code] & used
    used_top[code[first_used]] = top[first_used]
    return _Profiles(depth, stock, has_overlap, n_layers, max_depth, stock_max, used_top,
                     codes_msg, msgs)


def _fit_table(pids, prof: _Profiles, fb, fe, fp, method: str,
               models: Sequence[DepthModel]) -> pd.DataFrame:
    """The fits as a table: β, x_100 (Eq. 3), the alternatives, AIC/AICc and the best model."""
    n_layers, max_depth, stock_max = prof.n_layers, prof.max_depth, prof.stock_max
    out = pd.DataFrame(
        {
            "profile_id": pids,
            "n_layers": n_layers.astype(np.int64),
            "top_depth": prof.used_top,
            "max_depth": max_depth,
            "stock_max_depth": stock_max,
            "beta": fb.beta,
            "beta_se": fb.beta_se,
            "asymptote": fb.asymptote,
            "rmse_beta": fb.rmse,
            "converged_beta": fb.converged,
        }
    )
    b_ok = np.where(np.isfinite(fb.beta), fb.beta, 0.5)
    if method == "stock":
        with np.errstate(all="ignore"):  # overflowing profiles are reported, not warned about
            out["x_100"] = fb.asymptote * beta_cumulative_fraction(100.0, b_ok)
    else:  # Eq. 3 of Wang et al. (2025) from the deepest sample (X_100 = X_dmax at 100 cm)
        d_ok = np.where(n_layers > 0, max_depth, 100.0)
        with np.errstate(all="ignore"):
            out["x_100"] = stock_max * (
                beta_cumulative_fraction(100.0, b_ok) / beta_cumulative_fraction(d_ok, b_ok)
            )
    out.loc[~np.isfinite(fb.beta), "x_100"] = np.nan
    out["exp_c0"], out["exp_c_inf"], out["exp_k"] = fe.c0, fe.c_inf, fe.k
    out["power_a"], out["power_b"] = fp.a, fp.b
    fits: dict[str, Any] = {"beta": fb, "exponential": fe, "power": fp}
    with np.errstate(all="ignore"):
        for name, f in fits.items():
            out[f"aic_{name}"] = aic(f.ssr, f.n, f.n_params, scale=stock_max)
            out[f"aicc_{name}"] = aicc(f.ssr, f.n, f.n_params, scale=stock_max)
    compared = [m for m in _MODELS if m in models]
    if compared:
        a = out[[f"aic_{m}" for m in compared]].to_numpy()
        has_aic = np.isfinite(a).any(axis=1)
        best = np.argmin(np.where(np.isfinite(a), a, np.inf), axis=1)
        out["best_model"] = np.where(has_aic, np.asarray(compared, dtype=object)[best], None)
    else:
        out["best_model"] = None
    return out


class BetaModel:
    """Jobbágy–Jackson β per profile as a scikit-learn-style estimator.

    Parameters
    ----------
    method : {"fraction", "stock"}, default "fraction"
        How β is fitted (:func:`fit_beta`).
    models : sequence of {"beta", "exponential", "power"}
        Models compared by AIC in ``table_``.
    value, id_col, top_col, bottom_col : str
        Column names of the layer table.
    beta_bounds : (float, float)
        Admissible range of β.

    Attributes
    ----------
    table_ : pandas.DataFrame
        Output of :func:`fit_depth_functions`.
    beta_, beta_se_, asymptote_ : pandas.Series
        β [-], its standard error [-] and A [Mg C ha⁻¹], indexed by profile id.
    """

    def __init__(
        self,
        method: BetaMethod = "fraction",
        models: Sequence[DepthModel] = ("beta", "exponential", "power"),
        value: str = "soc_density",
        id_col: str = "profile_id",
        top_col: str = "top",
        bottom_col: str = "bottom",
        beta_bounds: tuple[float, float] = DEFAULT_BETA_BOUNDS,
    ) -> None:
        self.method = method
        self.models = models
        self.value = value
        self.id_col = id_col
        self.top_col = top_col
        self.bottom_col = bottom_col
        self.beta_bounds = beta_bounds

    def fit(self, layers: pd.DataFrame, y: None = None) -> BetaModel:
        """Fit every profile of ``layers`` (see :func:`fit_depth_functions`); returns self."""
        self.table_ = fit_depth_functions(
            layers,
            value=self.value,
            id_col=self.id_col,
            top_col=self.top_col,
            bottom_col=self.bottom_col,
            models=self.models,
            method=self.method,
            beta_bounds=self.beta_bounds,
        )
        idx = pd.Index(self.table_["profile_id"], name="profile_id")
        self.beta_ = pd.Series(self.table_["beta"].to_numpy(), index=idx, name="beta")
        self.beta_se_ = pd.Series(self.table_["beta_se"].to_numpy(), index=idx, name="beta_se")
        self.asymptote_ = pd.Series(
            self.table_["asymptote"].to_numpy(), index=idx, name="asymptote"
        )
        return self

    def cumulative_stock(self, depth: ArrayLike) -> pd.DataFrame:
        """Fitted cumulative SOC stock A·(1 − β^d) [Mg C ha⁻¹], profiles × ``depth`` [cm].

        A is the fitted asymptote (``method="stock"``) or the stock at the deepest layer, which
        the fraction fit takes as the total (``method="fraction"``, the default).
        """
        if not hasattr(self, "table_"):
            raise InputDataError("BetaModel is not fitted; call fit(layers) first")
        d = np.atleast_1d(np.asarray(depth, dtype=float))
        b = self.beta_.to_numpy()
        frac = beta_cumulative_fraction(d[None, :], np.where(np.isfinite(b), b, 1.0)[:, None])
        vals = self.asymptote_.to_numpy()[:, None] * frac
        vals[~np.isfinite(b)] = np.nan
        return pd.DataFrame(vals, index=self.beta_.index, columns=d)
