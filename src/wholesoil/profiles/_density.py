"""SOC density of layers and cumulative stocks.

References
----------
.. [1] Wang et al., Global patterns of SOC distribution in the 20–100 cm soil profile for
   different ecosystems, Earth Syst. Sci. Data (Wang H. et al. (2025)), §2.2, Eq. 1.

.. [2] Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon
   distribution in the 20–100 cm soil profile for different ecosystems: a global meta-analysis.
   Manuscript submitted to Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import MissingColumnError


def soc_density(
    soc: ArrayLike, bd: ArrayLike, thickness: ArrayLike, gravel: ArrayLike = 0.0
) -> NDArray[np.float64]:
    """SOC density of a layer, Eq. 1 in [1]_.

    .. math:: \\mathrm{SOCD} = \\mathrm{SOC}\\cdot\\mathrm{BD}\\cdot D\\cdot(1 - GC/100)/10

    Parameters
    ----------
    soc : array_like
        SOC concentration of the fine earth [g C kg⁻¹].
    bd : array_like
        Bulk density [g cm⁻³].
    thickness : array_like
        Layer thickness D [cm].
    gravel : array_like, default 0
        Coarse fragments (> 2 mm) GC [volume %].

    Returns
    -------
    ndarray
        SOC density [Mg C ha⁻¹]. NaN wherever an input is NaN.

    Examples
    --------
    10 g kg⁻¹ at 1.3 g cm⁻³ over 20 cm with 10 % gravel:
    10 · 1.3 · 20 · 0.9 / 10 = 23.4 Mg C ha⁻¹.

    >>> float(soc_density(10.0, 1.3, 20.0, 10.0))
    23.4
    """
    soc, bd, d, gc = (np.asarray(x, dtype=float) for x in (soc, bd, thickness, gravel))
    return soc * bd * d * (1.0 - gc / 100.0) / 10.0


def add_soc_density(
    horizons: pd.DataFrame,
    *,
    soc: str = "soc",
    bd: str = "bd",
    gravel: str = "gravel",
    out: str = "soc_density",
    overwrite: bool = False,
) -> pd.DataFrame:
    """Return a copy of ``horizons`` with an Eq. 1 SOC density column [Mg C ha⁻¹].

    Parameters
    ----------
    horizons : pandas.DataFrame
        Canonical horizon table (``top``, ``bottom`` [cm], ``soc`` [g kg⁻¹], ``bd`` [g cm⁻³],
        optional ``gravel`` [vol %]; missing gravel counts as 0 % and is flagged).
    overwrite : bool, default False
        If ``out`` already exists (e.g. a density reported by the source), keep it and write the
        computed one to ``f"{out}_computed"`` instead, so that both can be compared.

    Returns
    -------
    pandas.DataFrame
        With the density column, and ``gravel_assumed_zero`` (bool) when ``gravel`` is absent
        or NaN for a row.
    """
    for col in ("top", "bottom", soc, bd):
        if col not in horizons.columns:
            raise MissingColumnError(
                f"SOC density needs column {col!r} (has {sorted(map(str, horizons.columns))})",
                field=col,
            )
    h = horizons.copy()
    thickness = h["bottom"].to_numpy(float) - h["top"].to_numpy(float)
    if gravel in h.columns:
        gc = h[gravel].to_numpy(float)
    else:
        gc = np.full(len(h), np.nan)
    assumed = np.isnan(gc)
    dens = soc_density(h[soc], h[bd], thickness, np.where(assumed, 0.0, gc))
    target = out if (overwrite or out not in h.columns) else f"{out}_computed"
    h[target] = dens
    h["gravel_assumed_zero"] = assumed
    return h


def cumulative_stocks(
    layers: pd.DataFrame, value: str = "soc_density", id_col: str = "profile_id"
) -> pd.DataFrame:
    """Cumulative stock from the surface to the bottom of each layer.

    Parameters
    ----------
    layers : pandas.DataFrame
        Per-layer densities [Mg C ha⁻¹] with ``top``/``bottom`` [cm]; sorted within profile.

    Returns
    -------
    pandas.DataFrame
        ``profile_id, depth, cumulative`` with depth = layer bottom [cm]. A NaN layer makes
        the cumulative value NaN from there down (nothing is skipped silently).
    """
    lay = layers.sort_values([id_col, "top"], kind="stable")
    v = lay[value].to_numpy(float)
    cum = lay.assign(_v=v).groupby(id_col, sort=False)["_v"].cumsum(skipna=False)
    return pd.DataFrame(
        {
            "profile_id": lay[id_col].to_numpy(),
            "depth": lay["bottom"].to_numpy(float),
            "cumulative": cum.to_numpy(float),
        }
    )


def stock_to_depth(
    layers: pd.DataFrame,
    depths: Sequence[float] = (30.0, 100.0),
    value: str = "soc_density",
    id_col: str = "profile_id",
) -> pd.DataFrame:
    """SOC stock from the surface to each depth, prorating a layer that the depth cuts.

    A layer's density is assumed uniform within the layer when prorated. Stocks are NaN when
    the profile's layers do not reach the depth or a contributing layer is NaN, and the
    ``covered_<d>`` column gives the fraction of 0–d cm that layers cover (gaps count as
    uncovered).

    Parameters
    ----------
    layers : pandas.DataFrame
        Per-layer densities [Mg C ha⁻¹] with ``top``/``bottom`` [cm].
    depths : sequence of float
        Depths [cm].

    Returns
    -------
    pandas.DataFrame
        One row per profile: ``profile_id``, ``stock_0_<d>`` [Mg C ha⁻¹], ``covered_0_<d>`` [-].
    """
    top = layers["top"].to_numpy(float)
    bot = layers["bottom"].to_numpy(float)
    v = layers[value].to_numpy(float)
    thick = bot - top
    ids = layers[id_col].to_numpy()
    out = pd.DataFrame({"profile_id": pd.unique(ids)})
    for d in depths:
        overlap = np.clip(np.minimum(bot, d) - np.maximum(top, 0.0), 0.0, None)
        frac = np.divide(overlap, thick, out=np.zeros_like(thick), where=thick > 0)
        used = overlap > 0
        contrib = np.where(used, v * frac, 0.0)
        missing = used & np.isnan(v)
        df = pd.DataFrame(
            {"id": ids, "c": np.where(missing, 0.0, contrib), "o": overlap, "m": missing}
        )
        g = df.groupby("id", sort=False).sum()
        covered = (g["o"] / d).reindex(out["profile_id"]).to_numpy()
        stock = g["c"].reindex(out["profile_id"]).to_numpy()
        has_nan = g["m"].reindex(out["profile_id"]).to_numpy() > 0
        stock = np.where(np.isclose(covered, 1.0) & ~has_nan, stock, np.nan)
        label = f"0_{d:g}"
        out[f"stock_{label}"] = stock
        out[f"covered_{label}"] = covered
    return out
