"""Bulk-density pedotransfer: BD = α + β·exp(−γ·OM).

References
----------
.. [1] Tao et al., Convergence in simulating global SOC by structurally different models after
   data assimilation (Tao et al. (EarthArXiv)), §2.1, after Grigal et al. (1989) and
   Yigini et al. (2018).

.. [2] Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang,
   L., Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally
   different models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import curve_fit

from wholesoil.errors import InputDataError, MissingColumnError
from wholesoil.units import SOC_TO_OM, g_kg_to_percent

#: Parameters of BD = α + β·exp(−γ·OM) fitted by Tao et al. (EarthArXiv §2.1) to 78,913 WoSIS
#: layers from 16,248 profiles (R² = 0.55); OM [%] = 1.724 · SOC [%]. As published, with OM in
#: per cent the curve is shallow: 1.62 g cm⁻³ at OM = 0 %, 1.15 g cm⁻³ at OM = 50 %, 0.85 g cm⁻³
#: at OM = 100 %; refit on your own data (:func:`fit_bd_pedotransfer`) where you have BD.
TAO2022_BD_PTF: dict[str, float] = {"alpha": 0.32, "beta": 1.30, "gamma": 0.0089}


def bd_pedotransfer(
    om: ArrayLike, alpha: float = 0.32, beta: float = 1.30, gamma: float = 0.0089
) -> NDArray[np.float64]:
    """Bulk density from organic matter, BD = α + β·exp(−γ·OM) (Tao et al. (EarthArXiv) §2.1).

    Parameters
    ----------
    om : array_like
        Organic matter [%], OM = 1.724 · SOC [%].
    alpha, beta : float
        Fitted parameters [g cm⁻³]; defaults from :data:`TAO2022_BD_PTF`.
    gamma : float
        Fitted parameter [%⁻¹].

    Returns
    -------
    ndarray
        Bulk density [g cm⁻³].
    """
    return alpha + beta * np.exp(-gamma * np.asarray(om, dtype=float))


def om_percent_from_soc(soc: ArrayLike) -> NDArray[np.float64]:
    """OM [%] from SOC [g C kg⁻¹]: OM = 1.724 · SOC/10 (Tao et al. (EarthArXiv) §2.1)."""
    return g_kg_to_percent(soc) * SOC_TO_OM


@dataclass(frozen=True)
class PedotransferFit:
    """Result of refitting the BD pedotransfer on measured pairs.

    Attributes
    ----------
    alpha, beta, gamma : float
        Parameters of BD = α + β·exp(−γ·OM), OM in %.
    stderr : dict
        Standard errors of the parameters from the least-squares covariance.
    r2 : float
        Coefficient of determination on the fitting data.
    rmse : float
        Root-mean-square error [g cm⁻³].
    n : int
        Number of (OM, BD) pairs used.
    """

    alpha: float
    beta: float
    gamma: float
    stderr: dict[str, float]
    r2: float
    rmse: float
    n: int

    @property
    def params(self) -> dict[str, float]:
        """The parameters as keyword arguments of :func:`bd_pedotransfer`."""
        return {"alpha": self.alpha, "beta": self.beta, "gamma": self.gamma}


def fit_bd_pedotransfer(
    soc: ArrayLike, bd: ArrayLike, p0: dict[str, float] | None = None
) -> PedotransferFit:
    """Refit BD = α + β·exp(−γ·OM) by nonlinear least squares on measured pairs.

    Parameters
    ----------
    soc : array_like
        SOC [g C kg⁻¹]; converted to OM [%] as in Tao et al. (EarthArXiv).
    bd : array_like
        Measured bulk density [g cm⁻³]. Pairs with NaN in either are not used.
    p0 : dict, optional
        Starting values (default: the published :data:`TAO2022_BD_PTF`).
    """
    om = om_percent_from_soc(soc)
    y = np.asarray(bd, dtype=float)
    ok = np.isfinite(om) & np.isfinite(y)
    n = int(ok.sum())
    if n < 4:
        raise InputDataError(
            f"refitting the BD pedotransfer needs at least 4 horizons with both SOC and BD, "
            f"found {n}"
        )
    start = p0 or TAO2022_BD_PTF
    popt, pcov = curve_fit(
        lambda x, a, b, g: bd_pedotransfer(x, a, b, g),
        om[ok],
        y[ok],
        p0=[start["alpha"], start["beta"], start["gamma"]],
        maxfev=20000,
    )
    pred = bd_pedotransfer(om[ok], *popt)
    resid = y[ok] - pred
    ss_tot = float(np.sum((y[ok] - y[ok].mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else np.nan
    se = np.sqrt(np.diag(pcov))
    return PedotransferFit(
        alpha=float(popt[0]),
        beta=float(popt[1]),
        gamma=float(popt[2]),
        stderr={"alpha": float(se[0]), "beta": float(se[1]), "gamma": float(se[2])},
        r2=r2,
        rmse=float(np.sqrt(np.mean(resid**2))),
        n=n,
    )


def fill_bulk_density(
    horizons: pd.DataFrame,
    params: dict[str, float] | PedotransferFit | None = None,
    *,
    soc: str = "soc",
    bd: str = "bd",
) -> pd.DataFrame:
    """Fill missing bulk density by the pedotransfer; every filled value is flagged.

    Parameters
    ----------
    horizons : pandas.DataFrame
        Canonical horizon table with ``soc`` [g kg⁻¹] and optionally ``bd`` [g cm⁻³].
    params : dict or PedotransferFit, optional
        Pedotransfer parameters; default the published :data:`TAO2022_BD_PTF`.

    Returns
    -------
    pandas.DataFrame
        A copy with ``bd`` filled where it was NaN (and SOC is known) and a boolean
        ``bd_filled`` column marking the filled rows. Measured values are never changed.
    """
    if soc not in horizons.columns:
        raise MissingColumnError(f"bulk-density pedotransfer needs column {soc!r}", field=soc)
    p = params.params if isinstance(params, PedotransferFit) else (params or TAO2022_BD_PTF)
    h = horizons.copy()
    measured = h[bd].to_numpy(float) if bd in h.columns else np.full(len(h), np.nan)
    est = bd_pedotransfer(om_percent_from_soc(h[soc]), **p)
    fill = np.isnan(measured) & np.isfinite(est)
    h[bd] = np.where(fill, est, measured)
    h["bd_filled"] = fill
    return h
