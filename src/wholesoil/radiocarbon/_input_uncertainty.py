"""Monte Carlo uncertainty of I_bulk, I_root and I_loss (500 runs, as Wang, G. et al.).

Wang, G., Xiao, L., Mao, X., et al. Most root-derived carbon inputs do not contribute to the
global bulk soil carbon pool. Manuscript, Methods ("Global mapping and prediction uncertainty").

:func:`monte_carlo_inputs` propagates uncertainty in stocks, ages, NPP, f_BNPP and the root
profile by Monte Carlo draws (a leading array axis) and summarizes mean, sd and percentiles.
Equations and references: :mod:`wholesoil.radiocarbon._inputs`.

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError
from wholesoil.radiocarbon._input_profiles import InputProfiles, RootProfile
from wholesoil.radiocarbon._inputs import (
    DEFAULT_F_BNPP,
    MONTE_CARLO_DRAWS,
    SEED004_DEPTHS,
    HarmonizeMethod,
    direct_losses,
    harmonize_inputs,
    npp_g_m2_to_mg_ha,
    root_inputs,
)

__all__ = [
    "MonteCarloInputs",
    "monte_carlo_inputs",
]


def _summary(r: NDArray[np.float64], b: NDArray[np.float64],
             frac: NDArray[np.float64]) -> dict[str, float]:
    ok = np.isfinite(r) & np.isfinite(b)
    if not np.any(ok):
        return {"n_profiles": 0, "i_root": np.nan, "i_bulk": np.nan, "i_loss": np.nan,
                "i_loss_median": np.nan, "loss_fraction": np.nan,
                "loss_fraction_mean": np.nan, "loss_fraction_median": np.nan}
    rm, bm = float(r[ok].mean()), float(b[ok].mean())
    fr = frac[ok & np.isfinite(frac)]
    return {"n_profiles": int(ok.sum()), "i_root": rm, "i_bulk": bm, "i_loss": rm - bm,
            "i_loss_median": float(np.median(r[ok] - b[ok])),
            "loss_fraction": (rm - bm) / rm if rm != 0 else np.nan,
            "loss_fraction_mean": float(fr.mean()) if fr.size else np.nan,
            "loss_fraction_median": float(np.median(fr)) if fr.size else np.nan}


# ------------------------------------------------------------------------------ Monte Carlo
@dataclass
class MonteCarloInputs:
    """Monte Carlo draws of inputs and losses, draws on the leading axis.

    Attributes
    ----------
    profile_id : ndarray, shape (P,)
    top, bottom : ndarray, shape (L,) [cm]
    i_bulk, i_root, i_loss, loss_fraction : ndarray, shape (D, P, L)
        [Mg C ha⁻¹ yr⁻¹]; loss_fraction [-].
    total_i_bulk, total_i_root, total_i_loss, total_loss_fraction : ndarray, shape (D, P)
        Sums over the layers where the deterministic I_bulk is known.
    seed : int or None
    """

    profile_id: NDArray[Any]
    top: NDArray[np.float64]
    bottom: NDArray[np.float64]
    i_bulk: NDArray[np.float64]
    i_root: NDArray[np.float64]
    i_loss: NDArray[np.float64]
    loss_fraction: NDArray[np.float64]
    total_i_bulk: NDArray[np.float64]
    total_i_root: NDArray[np.float64]
    total_i_loss: NDArray[np.float64]
    total_loss_fraction: NDArray[np.float64]
    seed: int | None = None

    @property
    def draws(self) -> int:
        return int(self.i_bulk.shape[0])

    def summary(self) -> pd.DataFrame:
        """Mean, sd, 2.5 % and 97.5 % over draws per profile × layer and per profile total.

        Long format: ``profile_id``, ``layer`` ("0-20", …, "total"), ``top``, ``bottom``,
        ``variable`` (i_bulk, i_root, i_loss, loss_fraction), ``mean``, ``sd``, ``q025``,
        ``q975``, ``draws``.
        """
        n_p, n_l = self.i_bulk.shape[1:]
        labels = [f"{a:g}-{b:g}" for a, b in zip(self.top, self.bottom, strict=True)]
        parts = []
        for var in ("i_bulk", "i_root", "i_loss", "loss_fraction"):
            x = np.concatenate([getattr(self, var),
                                getattr(self, f"total_{var}")[..., None]], axis=-1)
            stats = _draw_stats(x)
            parts.append(pd.DataFrame({
                "profile_id": np.repeat(self.profile_id, n_l + 1),
                "layer": np.tile([*labels, "total"], n_p),
                "top": np.tile([*self.top, self.top.min()], n_p),
                "bottom": np.tile([*self.bottom, self.bottom.max()], n_p),
                "variable": var, **{k: v.ravel() for k, v in stats.items()},
                "draws": self.draws,
            }))
        return pd.concat(parts, ignore_index=True)


def _draw_stats(x: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
    ok = np.isfinite(x).all(axis=0)
    xs = np.where(ok, x, 0.0)
    q = np.percentile(xs, [2.5, 97.5], axis=0)
    return {"mean": np.where(ok, xs.mean(0), np.nan),
            "sd": np.where(ok, xs.std(0, ddof=1) if x.shape[0] > 1 else 0.0, np.nan),
            "q025": np.where(ok, q[0], np.nan), "q975": np.where(ok, q[1], np.nan)}


def _draw(rng: np.random.Generator, mean: NDArray[np.float64], sd: NDArray[np.float64],
          n: int, name: str, *, strict: bool, upper: float | None = None
          ) -> NDArray[np.float64]:
    """Normal draws N(mean, sd) of shape (n, *mean.shape); a draw below 0 (≤ 0 if ``strict``)
    or above ``upper`` is an error, never truncated."""
    x = mean + sd * rng.standard_normal((n, *mean.shape))
    bad = (x <= 0) if strict else (x < 0)
    if upper is not None:
        bad = bad | (x > upper)
    bad &= np.isfinite(x)
    if np.any(bad):
        rng_txt = f"{'(' if strict else '['}0, {upper if upper is not None else '∞'}" + (
            "]" if upper is not None else ")")
        raise InputDataError(
            f"{int(bad.sum())} Monte Carlo draw(s) of {name} fell outside {rng_txt}; the "
            "uncertainty is too large for a normal distribution — reduce it",
            field=f"{name}_sd")
    return x


def monte_carlo_inputs(
    profiles: InputProfiles,
    *,
    npp: ArrayLike,
    roots: RootProfile,
    f_bnpp: ArrayLike = DEFAULT_F_BNPP,
    bnpp: ArrayLike | None = None,
    depths: Sequence[float] = SEED004_DEPTHS,
    method: HarmonizeMethod = "uniform",
    lam: float = 0.1,
    min_coverage: float = 1.0,
    draws: int = MONTE_CARLO_DRAWS,
    seed: int | None = None,
    cv: float = 0.1,
    stock_sd: ArrayLike | None = None,
    age_sd: ArrayLike | None = None,
    npp_sd: ArrayLike | None = None,
    f_bnpp_sd: ArrayLike | None = None,
    beta_sd: ArrayLike = 0.0,
    d50_sd: ArrayLike | None = None,
    d95_sd: ArrayLike | None = None,
) -> MonteCarloInputs:
    """Propagate uncertainty to I_bulk, I_root, I_loss and the loss fraction by Monte Carlo.

    Every uncertain input is drawn from a normal distribution N(x, sd), independently per
    profile, horizon and draw; where no sd is given it is ``cv · x`` (the N(x, 0.1x) convention
    of Wang et al., Wang H. et al. (2025) §2.8). β is held fixed unless ``beta_sd`` is given (an
    absolute sd; 0.1·β would be far outside the published range of β). A draw outside the quantity's
    range (stock < 0, age ≤ 0, NPP < 0, f_BNPP outside [0, 1], β outside (0, 1)) is an error rather
    than a silent truncation. Draws are a leading axis of every array; harmonization is one linear
    operator applied to all draws at once.

    Parameters
    ----------
    profiles : InputProfiles
        Horizon stocks [Mg C ha⁻¹] and ages [yr]; its ``stock_sd`` / ``age_sd`` are used when
        ``stock_sd`` / ``age_sd`` are not given.
    npp : array_like, shape (P,) [g C m⁻² yr⁻¹]
    roots : RootProfile
    f_bnpp : array_like, shape (P,) or scalar [-]
        Default :data:`DEFAULT_F_BNPP`.
    bnpp : array_like, shape (P,), optional [g C m⁻² yr⁻¹]
        Observed belowground NPP; replaces npp × f_bnpp (then ``npp_sd`` applies to it).
    depths, method, lam, min_coverage
        Harmonization (:func:`harmonization_weights`).
    draws : int, default 500
        Monte Carlo runs (Wang G. et al. (manuscript)).
    seed : int, optional
        Seed of ``numpy.random.default_rng``; the same seed gives the same draws.
    cv : float, default 0.1
        Relative sd of inputs without an explicit sd.
    stock_sd, age_sd : array_like, shape (P, H), optional
    npp_sd, f_bnpp_sd : array_like, shape (P,), optional
    beta_sd, d50_sd, d95_sd : array_like, optional
    """
    if int(draws) < 2:
        raise InputDataError("expected at least 2 draws", field="draws", value=draws)
    n = int(draws)
    rng = np.random.default_rng(seed)
    w = profiles.weights(depths, method=method, lam=lam, min_coverage=min_coverage)
    n_p = profiles.profile_id.size
    s0, a0 = profiles.stock, profiles.age
    ssd = np.asarray(stock_sd if stock_sd is not None else (
        profiles.stock_sd if profiles.stock_sd is not None else cv * s0), dtype=float)
    asd = np.asarray(age_sd if age_sd is not None else (
        profiles.age_sd if profiles.age_sd is not None else cv * a0), dtype=float)
    ssd = np.where(np.isfinite(ssd), ssd, cv * s0)
    asd = np.where(np.isfinite(asd), asd, cv * a0)
    stock_d = _draw(rng, s0, ssd, n, "stock", strict=False)
    age_d = _draw(rng, a0, asd, n, "age", strict=True)
    h = harmonize_inputs(w, stock_d, age_d)
    lt, lb = w.top, w.bottom
    if bnpp is not None:
        b0 = np.broadcast_to(np.asarray(bnpp, dtype=float), (n_p,))
        bsd = np.broadcast_to(np.asarray(npp_sd if npp_sd is not None else cv * b0, float),
                              (n_p,))
        bnpp_d = _draw(rng, b0, bsd, n, "bnpp", strict=False)
    else:
        npp0 = np.broadcast_to(np.asarray(npp, dtype=float), (n_p,))
        nsd = np.broadcast_to(np.asarray(npp_sd if npp_sd is not None else cv * npp0, float),
                              (n_p,))
        f0 = np.broadcast_to(np.asarray(f_bnpp, dtype=float), (n_p,))
        fsd = np.broadcast_to(np.asarray(f_bnpp_sd if f_bnpp_sd is not None else cv * f0,
                                         float), (n_p,))
        bnpp_d = (_draw(rng, npp0, nsd, n, "npp", strict=False)
                  * _draw(rng, f0, fsd, n, "f_bnpp", strict=False, upper=1.0))
    if roots.beta is not None:
        b_mean = np.broadcast_to(np.asarray(roots.beta, dtype=float), (n_p,))
        b_sd = np.broadcast_to(np.asarray(beta_sd, dtype=float), (n_p,))
        frac = roots.fractions(lt, lb, beta=_draw(rng, b_mean, b_sd, n, "beta", strict=True,
                                                   upper=1.0 - 1e-12))
    else:
        m50 = np.broadcast_to(np.asarray(roots.d50, dtype=float), (n_p,))
        m95 = np.broadcast_to(np.asarray(roots.d95, dtype=float), (n_p,))
        sd50 = np.broadcast_to(np.asarray(d50_sd if d50_sd is not None else cv * m50), (n_p,))
        sd95 = np.broadcast_to(np.asarray(d95_sd if d95_sd is not None else cv * m95), (n_p,))
        frac = roots.fractions(lt, lb, d50=_draw(rng, m50, sd50, n, "d50", strict=True),
                               d95=_draw(rng, m95, sd95, n, "d95", strict=True))
    i_root = root_inputs(npp_g_m2_to_mg_ha(bnpp_d), frac)
    known = np.isfinite(h.i_bulk[0])  # (P, L), the same in every draw
    i_root = np.where(known, i_root, np.nan)
    loss = direct_losses(i_root, h.i_bulk)
    tr = np.where(known, i_root, 0.0).sum(-1)
    tb = np.where(known, h.i_bulk, 0.0).sum(-1)
    any_k = known.any(-1)
    tr = np.where(any_k, tr, np.nan)
    tb = np.where(any_k, tb, np.nan)
    tl = direct_losses(tr, tb)
    return MonteCarloInputs(profiles.profile_id, lt, lb, h.i_bulk, i_root, loss.loss,
                            loss.fraction, tb, tr, tl.loss, tl.fraction, seed)
