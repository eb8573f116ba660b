"""The six estimates of I_loss of Wang, G. et al. (Extended Data Table 1), side by side.

Wang, G., Xiao, L., Mao, X., et al. Most root-derived carbon inputs do not contribute to the
global bulk soil carbon pool. Manuscript.

:class:`InputEstimate` holds one estimate of I_root, I_bulk and I_loss with its named
:class:`EstimatePiece` s (observed, predicted or model); :func:`compare_estimates` sets
estimates side by side. Equations and references: :mod:`wholesoil.radiocarbon._inputs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError
from wholesoil.radiocarbon._input_profiles import RootProfile
from wholesoil.radiocarbon._input_uncertainty import _summary
from wholesoil.radiocarbon._inputs import (
    Losses,
    PieceKind,
    _positive,
    direct_losses,
    npp_g_m2_to_mg_ha,
    root_inputs,
)

__all__ = [
    "EstimatePiece",
    "InputEstimate",
    "compare_estimates",
]


# -------------------------------------------------------------------------------- estimates
@dataclass(frozen=True)
class EstimatePiece:
    """One ingredient of an input estimate (Wang G. et al. (manuscript) Extended Data Table 1).

    Parameters
    ----------
    name : str
        What it is: ``"BNPP"``, ``"NPP"``, ``"f_BNPP"``, ``"depth distribution"``,
        ``"I_bulk"``, ``"C_stock"``, ``"C_age"``.
    source : str
        Where it comes from, e.g. ``"NPP_data"``, ``"MODIS"``, ``"miami"``,
        ``"Jackson 1996 boreal_forest"``.
    kind : {"observed", "predicted", "model"}
        OBS, PRE or MOD in Extended Data Table 1.
    """

    name: str
    source: str
    kind: PieceKind = "observed"

    def __post_init__(self) -> None:
        if self.kind not in ("observed", "predicted", "model"):
            raise InputDataError("kind must be 'observed', 'predicted' or 'model'",
                                 field="kind", value=self.kind)

    def label(self) -> str:
        tag = {"observed": "OBS", "predicted": "PRE", "model": "MOD"}[self.kind]
        return f"{self.name}: {self.source} ({tag})"


@dataclass
class InputEstimate:
    """One estimate of I_root, I_bulk and I_loss on layers, with the pieces it is made of.

    Build with :meth:`from_pieces` to compute I_root from (B)NPP, f_BNPP and a root profile.

    Parameters
    ----------
    name : str
        e.g. ``"I_loss3"``.
    profile_id : array_like, shape (P,)
    top, bottom : array_like, shape (L,) [cm]
    i_root, i_bulk : array_like, shape (P, L) [Mg C ha⁻¹ yr⁻¹]
    pieces : sequence of EstimatePiece
        The ingredients of I_root and I_bulk.
    sites : str
        Which site dataset it is made at.
    """

    name: str
    profile_id: ArrayLike
    top: ArrayLike
    bottom: ArrayLike
    i_root: ArrayLike
    i_bulk: ArrayLike
    pieces: Sequence[EstimatePiece] = ()
    sites: str = ""

    def __post_init__(self) -> None:
        self.profile_id = np.asarray(self.profile_id)
        self.top = np.asarray(self.top, dtype=float)
        self.bottom = np.asarray(self.bottom, dtype=float)
        self.i_root = np.atleast_2d(np.asarray(self.i_root, dtype=float))
        self.i_bulk = np.atleast_2d(np.asarray(self.i_bulk, dtype=float))
        shape = (self.profile_id.size, self.top.size)
        for nm, a in (("i_root", self.i_root), ("i_bulk", self.i_bulk)):
            if a.shape != shape:
                raise InputDataError(
                    f"estimate {self.name!r}: expected shape (profiles, layers) = {shape}",
                    field=nm, value=a.shape)
        self.pieces = tuple(self.pieces)

    @classmethod
    def from_pieces(
        cls,
        name: str,
        *,
        profile_id: ArrayLike,
        top: ArrayLike,
        bottom: ArrayLike,
        i_bulk: ArrayLike,
        root_fraction: ArrayLike | RootProfile,
        bnpp: ArrayLike | None = None,
        npp: ArrayLike | None = None,
        f_bnpp: ArrayLike | None = None,
        pieces: Sequence[EstimatePiece] = (),
        sites: str = "",
    ) -> InputEstimate:
        """I_root = BNPP × root fraction, BNPP given [g C m⁻² yr⁻¹] or NPP × f_BNPP.

        ``root_fraction`` is a (P, L) array of layer fractions (observed root or I_bulk depth
        distributions) or a :class:`RootProfile`.
        """
        if bnpp is None:
            if npp is None or f_bnpp is None:
                raise InputDataError(f"estimate {name!r}: give bnpp, or npp and f_bnpp",
                                     field="bnpp")
            f = np.asarray(f_bnpp, dtype=float)
            if np.any((f < 0) | (f > 1)):
                raise InputDataError(f"estimate {name!r}: expected 0 ≤ f_BNPP ≤ 1",
                                     field="f_bnpp", value=f[(f < 0) | (f > 1)].ravel()[0])
            b = _positive(npp, "npp", strict=False) * f
        else:
            b = _positive(bnpp, "bnpp", strict=False)
        frac = (root_fraction.fractions(top, bottom) if isinstance(root_fraction, RootProfile)
                else np.asarray(root_fraction, dtype=float))
        n_p = np.asarray(profile_id).size
        b = np.broadcast_to(npp_g_m2_to_mg_ha(b), (n_p,))
        i_root = root_inputs(b, np.broadcast_to(frac, (n_p, np.asarray(top).size)))
        return cls(name, profile_id, top, bottom, i_root, i_bulk, pieces, sites)

    @property
    def has_observation(self) -> bool:
        """Whether at least one piece is observed (Wang G. et al. (manuscript): every estimate uses
        one)."""
        return any(p.kind == "observed" for p in self.pieces)

    def losses(self) -> Losses:
        """Per-layer :func:`direct_losses`."""
        return direct_losses(self.i_root, self.i_bulk)

    def totals(self) -> pd.DataFrame:
        """Per-profile totals over the layers where both inputs are known."""
        return _totals(self.profile_id, self.i_root, self.i_bulk)

    def table(self) -> pd.DataFrame:
        """Long table: estimate, profile_id, top, bottom, i_root, i_bulk, i_loss,
        loss_fraction."""
        n_p, n_l = self.i_root.shape
        loss = self.losses()
        return pd.DataFrame({
            "estimate": self.name,
            "profile_id": np.repeat(self.profile_id, n_l),
            "top": np.tile(self.top, n_p), "bottom": np.tile(self.bottom, n_p),
            "i_root": self.i_root.ravel(), "i_bulk": self.i_bulk.ravel(),
            "i_loss": loss.loss.ravel(), "loss_fraction": loss.fraction.ravel(),
        })


def _totals(profile_id: ArrayLike, i_root: NDArray[np.float64],
            i_bulk: NDArray[np.float64]) -> pd.DataFrame:
    both = np.isfinite(i_root) & np.isfinite(i_bulk)
    r = np.where(both, i_root, 0.0).sum(-1)
    b = np.where(both, i_bulk, 0.0).sum(-1)
    n = both.sum(-1)
    r = np.where(n > 0, r, np.nan)
    b = np.where(n > 0, b, np.nan)
    loss = direct_losses(r, b)
    return pd.DataFrame({"profile_id": np.asarray(profile_id), "n_layers": n,
                         "i_root": r, "i_bulk": b, "i_loss": loss.loss,
                         "loss_fraction": loss.fraction})


def compare_estimates(estimates: Sequence[InputEstimate]) -> pd.DataFrame:
    """Estimates side by side: per layer and over the profile (Wang G. et al. (manuscript) Fig. 3
    summaries).

    Returns
    -------
    pandas.DataFrame
        One row per estimate × layer plus a ``layer="total"`` row per estimate (sum over the
        layers where both inputs are known, per profile): ``estimate``, ``sites``, ``pieces``
        (labels with OBS/PRE/MOD), ``has_observation``, ``layer``, ``top``, ``bottom``,
        ``n_profiles``, mean ``i_root``, ``i_bulk``, ``i_loss`` [Mg C ha⁻¹ yr⁻¹],
        ``i_loss_median``, ``loss_fraction`` (of the means), ``loss_fraction_mean`` and
        ``loss_fraction_median`` (of per-profile fractions).
    """
    if not estimates:
        raise InputDataError("no estimates to compare", field="estimates")
    rows = []
    for e in estimates:
        lab = "; ".join(p.label() for p in e.pieces)
        base = {"estimate": e.name, "sites": e.sites, "pieces": lab,
                "has_observation": e.has_observation}
        loss = e.losses()
        for j in range(e.top.size):
            rows.append({**base, "layer": f"{e.top[j]:g}-{e.bottom[j]:g}", "top": e.top[j],
                         "bottom": e.bottom[j],
                         **_summary(e.i_root[:, j], e.i_bulk[:, j], loss.fraction[:, j])})
        tot = e.totals()
        rows.append({**base, "layer": "total", "top": float(np.min(e.top)),
                     "bottom": float(np.max(e.bottom)),
                     **_summary(tot["i_root"].to_numpy(), tot["i_bulk"].to_numpy(),
                                tot["loss_fraction"].to_numpy())})
    return pd.DataFrame(rows)
