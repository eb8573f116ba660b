"""Profile-level Bayesian calibration of CLM5 or COMPAS against observed SOC
(Tao et al. (EarthArXiv) §2.6).

For a batch of P soil profiles, the parameters of each profile are sampled by
:func:`~wholesoil.assimilation._mcmc.adaptive_metropolis` (all profiles and chains advance
together; one batched model build and steady-state solve per iteration). The log target of a unit
vector u of profile p is

.. math::

    \\log \\pi_p(u) = -J\\big(S_p(\\theta(u)),\\, O_p\\big)                               (1)

with θ(u) the prior map of :class:`~wholesoil.assimilation._space.ParameterSpace` (uniform
priors, so the prior is constant inside the unit cube and −∞ outside), S_p the model's SOC
density at the observation depths — the steady-state density at the model's nodes interpolated
by PCHIP to each observed layer's mid-depth (:func:`wholesoil.models._observe.density_at_depths`,
as PRODA's ``interp1(..., 'pchip')``) — O_p the observed SOC density (layer stock / thickness)
and J PRODA's cost: the rank-weighted relative squared error for CLM5 (``proda_clm5_cost``,
weights ranked on the densities and the mid-depths) or 5·(1 − NSE) for COMPAS
(``proda_compas_cost``). With ``cost="gaussian"`` it is the Gaussian log-likelihood instead
(``gaussian_loglik``, σ = 0.6·obs). Modelled SOC is the mineral soil organic carbon: CLM5's
S1 + S2 + S3, and COMPAS's DOC + MIC + ENZ + mSOC (as PRODA sums them). States without a finite
steady state are invalid: their log target is −∞, which the ``proda`` sampler turns into
PRODA's J_old + 100. COMPAS states with a negative pool or with total soil C below 10× microbial
C (column totals) are invalid too, but PRODA's COMPAS code (``matrix_fun.m`` of
``phxtao/PRODA_MIC``) does not discard them: it negates their pools, and its sampler scores the
negated SOC with the cost like any other state (only a non-finite state costs J_old + 100).
With PRODA's COMPAS cost the same is done here: the density −|SOC| is scored. With observations
o > 0 its cost is at least 5·Σo²/Σ(o − ō)² — above that of every valid state whose squared error
is below Σo², so a chain that fits at all does not return to such states — while a chain that
starts among them can still move towards valid states. With the Gaussian cost they are −∞ (a state
with negative carbon has no likelihood). The posterior predictive never uses negated values:
:meth:`LogTarget.predict` gives NaN for every invalid state.

Two modes (:func:`calibrate`): ``"proda"`` (default) — PRODA's costs with the code's annealed
acceptance exp(−ΔJ·log(n + 2)) > U: it reproduces the paper's point estimates but its chains
concentrate near the cost minimum, so the spread of its samples is no posterior uncertainty;
``"gaussian"`` — plain Metropolis on the Gaussian likelihood: a true posterior whose credible
intervals mean what they say, for users who need calibrated uncertainty.

Per profile the posterior is summarized (:func:`calibrate`) by the mean (PRODA's point estimate),
median, 2.5/97.5 % quantiles and a histogram mode — in mode ``"proda"`` over the kept samples of
the chain whose mean fits the observations best (lowest RMSE, PRODA's ``opt_parallel``), in mode
``"gaussian"`` over all chains pooled — the Gelman–Rubin R̂ and effective sample size
per parameter, the acceptance rate, the NSE of the fit at the posterior mean, the acceptance
decision of Tao et al. (EarthArXiv) §2.6 (mean R̂ ≤ 1.05 and NSE ≥ 0) and the posterior predictive
SOC by layer.

References
----------
.. [1] Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U.,
   Jiang, L., Huang, X. and Luo, Y. Convergence in simulating global soil organic carbon by
   structurally different models after data assimilation. EarthArXiv preprint (not peer
   reviewed), §2.6.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from wholesoil.assimilation._costs import (
    PRODA_CLM5_RELATIVE_SD,
    PRODA_COMPAS_COST_SCALE,
    gaussian_loglik,
    nse,
    proda_clm5_cost,
    proda_clm5_weights,
    proda_compas_cost,
    profile_filter,
)
from wholesoil.assimilation._diagnostics import (
    RHAT_THRESHOLD,
    effective_sample_size,
    gelman_rubin,
)
from wholesoil.assimilation._mcmc import (
    Acceptance,
    MCMCResult,
    ProposalScale,
    adaptive_metropolis,
)
from wholesoil.assimilation._space import ParameterSpace
from wholesoil.errors import InputDataError
from wholesoil.models._vertical import clm5_grid

__all__ = [
    "COMPAS_MIN_SOC_TO_MIC",
    "MODE_BINS",
    "NSE_THRESHOLD",
    "CalibrationResult",
    "LogTarget",
    "ProfileData",
    "calibrate",
    "make_log_target",
]

FloatArray = NDArray[np.float64]
ModelName = Literal["clm5", "compas"]
CostName = Literal["proda", "gaussian"]
CalibrationMode = Literal["proda", "gaussian"]

#: COMPAS validity rule of the published PRODA code (``phxtao/PRODA_MIC``, ``matrix_fun.m``): a
#: state whose column total of soil C (DOC + MIC + ENZ + mSOC) is below this many times its
#: column microbial C is invalid.
COMPAS_MIN_SOC_TO_MIC: float = 10.0
#: 1 g C m⁻³ × 1 m = 1 g C m⁻² = 0.01 Mg C ha⁻¹: stock [Mg C ha⁻¹] = density × thickness [m] × this.
_G_M2_TO_MG_HA: float = 0.01

#: A profile is accepted only when the NSE of its posterior predictive mean (the mean simulated
#: SOC, as PRODA's code scores it) is ≥ 0 (Tao et al. (EarthArXiv) §2.6;
#: ``shared/specs/assimilation.md``: NSE with the mean of the observations).
NSE_THRESHOLD: float = 0.0
#: Bins over each parameter's prior range (unit interval) for the histogram mode. PRODA fits a
#: GEV distribution and reports its mode; a 20-bin histogram peak is used here (documented
#: substitute; the posterior mean remains the point estimate).
MODE_BINS: int = 20

#: Bottom of the CLM5 grid that both models use [cm] (860 cm); observed layers must lie above.
_GRID_BOTTOM_CM: float = 100.0 * float(clm5_grid().depth)

# Trailing (non-batch) axes of each environment field: (Environment, Forcing).
_CORE_AXES: dict[str, tuple[int, int]] = {
    "tsoi": (1, 2),
    "soilpsi": (1, 2),
    "o_scalar": (1, 2),
    "fpi_vr": (1, 2),
    "npp": (0, 1),
    "altmax": (0, 1),
    "altmax_lastyear": (0, 1),
    "sand": (0, 0),
    "nbedrock": (0, 0),
    "leaf_fraction": (0, 0),
    "cwd_fraction": (0, 0),
}


def _is_forcing(env: Any) -> bool:
    from wholesoil.models._environment import Forcing

    return isinstance(env, Forcing)


def _env_batch_shape(env: Any) -> tuple[int, ...]:
    if _is_forcing(env):
        return tuple(env.tsoi.shape[:-2])
    return tuple(env.batch_shape)


def _with_chain_axis(env: Any) -> Any:
    """The environment with a length-1 axis after its batch axes: (P, ...) → (P, 1, ...)."""
    k = 1 if _is_forcing(env) else 0
    changes = {}
    for name, cores in _CORE_AXES.items():
        v = getattr(env, name, None)
        if v is None:
            continue
        a = np.asarray(v)
        core = cores[k]
        if a.ndim > core:
            changes[name] = np.expand_dims(a, a.ndim - core)
    return replace(env, **changes)


def _select(env: Any, index: NDArray[np.intp]) -> Any:
    """Profiles ``index`` of an environment batched over (P,)."""
    k = 1 if _is_forcing(env) else 0
    changes = {}
    for name, cores in _CORE_AXES.items():
        v = getattr(env, name, None)
        if v is None:
            continue
        a = np.asarray(v)
        if a.ndim > cores[k]:
            changes[name] = a[index]
    return replace(env, **changes)


@dataclass(frozen=True, eq=False)
class ProfileData:
    """Observed SOC layers and model forcing of P profiles, ready for calibration.

    Parameters
    ----------
    profile_id : array (P,)
        Profile identifiers (unique).
    top, bottom : array (P, L) [cm]
        Observed layer depths, top layer first, NaN-padded; within the model grid (0–860 cm).
    soc : array (P, L) [Mg C ha⁻¹]
        Observed SOC stock of each layer (density × thickness), > 0, NaN-padded like the depths.
    forcing : Environment or Forcing
        Model forcing with batch shape (P,) (or () shared by all), e.g. from
        :func:`wholesoil.models.forcing_from_climate`.
    rejected : DataFrame, optional
        Profiles dropped before calibration, columns ``profile_id``, ``reason``.

    Raises
    ------
    InputDataError
        For mismatched shapes, duplicate ids, a forcing batch other than (P,) or (), or layers
        outside the model grid, naming the field and value.
    """

    profile_id: NDArray[Any]
    top: FloatArray
    bottom: FloatArray
    soc: FloatArray
    forcing: Any
    rejected: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        ids = np.asarray(self.profile_id)
        if ids.ndim != 1:
            raise InputDataError("profile_id must be 1-D (P,)", field="profile_id",
                                 value=ids.shape)
        if len(pd.unique(ids)) != ids.size:
            dup = pd.Series(ids)[pd.Series(ids).duplicated()].iloc[0]
            raise InputDataError("profile ids must be unique", field="profile_id", value=dup)
        p = ids.size
        arrays = {}
        for name in ("top", "bottom", "soc"):
            a = np.array(getattr(self, name), dtype=float)
            if a.ndim != 2 or a.shape[0] != p:
                raise InputDataError(f"{name} must have shape (P={p}, n_layers)", field=name,
                                     value=a.shape)
            arrays[name] = a
        if not (arrays["top"].shape == arrays["bottom"].shape == arrays["soc"].shape):
            raise InputDataError("top, bottom and soc must have the same shape (P, L)",
                                 field="bottom", value=arrays["bottom"].shape)
        t, b = arrays["top"], arrays["bottom"]
        if np.any(t < 0) or np.any(b > _GRID_BOTTOM_CM):
            bad = np.nanmax(b) if np.any(b > _GRID_BOTTOM_CM) else np.nanmin(t)
            raise InputDataError(
                f"layers must lie within the model grid, 0–{_GRID_BOTTOM_CM:g} cm",
                field="bottom" if np.any(b > _GRID_BOTTOM_CM) else "top", value=float(bad),
            )
        if np.any(~np.isnan(b) & ~np.isnan(t) & ~(b > t)):
            raise InputDataError("bottom must be deeper than top [cm]", field="bottom",
                                 value=float(b[~np.isnan(b) & ~np.isnan(t) & ~(b > t)][0]))
        if np.any(np.isnan(arrays["soc"]) != (np.isnan(t) | np.isnan(b))):
            raise InputDataError("soc must be given exactly for the layers with depths "
                                 "(NaN-padded like top/bottom)", field="soc")
        if np.any(arrays["soc"] <= 0):
            raise InputDataError("observed SOC must be > 0 [Mg C ha-1]", field="soc",
                                 value=float(arrays["soc"][arrays["soc"] <= 0][0]))
        batch = _env_batch_shape(self.forcing)
        if batch not in ((), (p,)):
            raise InputDataError(f"forcing must be batched over the P={p} profiles",
                                 field="forcing", value=batch)
        object.__setattr__(self, "profile_id", ids)
        for name, a in arrays.items():
            a.setflags(write=False)
            object.__setattr__(self, name, a)
        if self.rejected is None:
            object.__setattr__(self, "rejected",
                               pd.DataFrame({"profile_id": pd.Series([], dtype=ids.dtype),
                                             "reason": pd.Series([], dtype=str)}))

    @property
    def n_profiles(self) -> int:
        """P."""
        return int(self.profile_id.size)

    @property
    def depth(self) -> FloatArray:
        """Observation depths, the layers' mid-depths (P, L) [cm]."""
        return 0.5 * (self.top + self.bottom)

    @property
    def thickness_m(self) -> FloatArray:
        """Layer thicknesses (P, L) [m]."""
        return (self.bottom - self.top) / 100.0

    @property
    def density(self) -> FloatArray:
        """Observed SOC density (P, L) [g C m⁻³]: stock / thickness."""
        return self.soc / _G_M2_TO_MG_HA / self.thickness_m

    def subset(self, index: ArrayLike) -> ProfileData:
        """Profiles at positions ``index`` (the rejected table is kept)."""
        i = np.atleast_1d(np.asarray(index, dtype=np.intp))
        env = self.forcing if _env_batch_shape(self.forcing) == () else _select(self.forcing, i)
        return ProfileData(self.profile_id[i], self.top[i], self.bottom[i], self.soc[i], env,
                           self.rejected)

    @classmethod
    def from_table(
        cls,
        layers: pd.DataFrame,
        sites: pd.DataFrame,
        **forcing_kwargs: Any,
    ) -> ProfileData:
        """Build from a long layer table and a sites table, filtering profiles
        (Tao et al. (EarthArXiv) §2.1).

        Parameters
        ----------
        layers : DataFrame
            One row per layer: ``profile_id``, ``top`` and ``bottom`` [cm], ``soc_density``
            [Mg C ha⁻¹ per layer]. Layers are sorted by ``top`` within a profile.
        sites : DataFrame
            One row per profile: ``profile_id``, ``mat`` [°C], ``map`` [mm yr⁻¹], optional
            ``lat`` [degrees N] (without it: northern-hemisphere season and 12-h days);
            optional ``sand`` [%] and ``cwd_fraction`` [-] columns are passed on.
        **forcing_kwargs
            Passed to :func:`wholesoil.models.forcing_from_climate` (e.g. ``amplitude``).

        Returns
        -------
        ProfileData
            Kept profiles in order of first appearance in ``layers``; ``rejected`` lists the others
            with every reason: the checks of
            :func:`~wholesoil.assimilation._costs.profile_filter`, "deeper than the model grid",
            "no site climate" (absent from ``sites`` or with missing mat/map).

        Raises
        ------
        InputDataError
            For a missing column or a profile id repeated in ``sites``.
        """
        from wholesoil.models import forcing_from_climate

        for name, df, cols in (("layers", layers, ("profile_id", "top", "bottom",
                                                   "soc_density")),
                               ("sites", sites, ("profile_id", "mat", "map"))):
            missing = [c for c in cols if c not in df.columns]
            if missing:
                raise InputDataError(f"{name} table lacks column(s) {missing}", field=missing[0])
        if sites["profile_id"].duplicated().any():
            raise InputDataError("sites has a profile_id more than once", field="profile_id",
                                 value=sites.loc[sites["profile_id"].duplicated(),
                                                 "profile_id"].iloc[0])
        ids = pd.unique(layers["profile_id"])
        lay = layers.assign(_order=pd.Categorical(layers["profile_id"], categories=ids).codes)
        lay = lay.sort_values(["_order", "top"], kind="stable")
        rank = lay.groupby("_order").cumcount().to_numpy()
        n_layers = int(rank.max()) + 1 if len(lay) else 0
        p = len(ids)
        shape = (p, n_layers)
        arrays = {}
        for name, col in (("top", "top"), ("bottom", "bottom"), ("soc", "soc_density")):
            a = np.full(shape, np.nan)
            a[lay["_order"].to_numpy(), rank] = pd.to_numeric(lay[col]).to_numpy(dtype=float)
            arrays[name] = a
        keep, reason = profile_filter(arrays["top"], arrays["bottom"], arrays["soc"])
        reason = reason.astype(object)
        with np.errstate(invalid="ignore"):
            too_deep = np.any(arrays["bottom"] > _GRID_BOTTOM_CM, axis=-1) | np.any(
                arrays["top"] < 0, axis=-1)
        site = sites.set_index("profile_id").reindex(ids)
        no_climate = (site["mat"].isna() | site["map"].isna()).to_numpy()
        for failed, text in ((too_deep, f"layers outside the model grid (0–"
                                        f"{_GRID_BOTTOM_CM:g} cm)"),
                             (no_climate, "no site climate (mat/map)")):
            reason = np.where(failed, np.where(reason == "", text, reason + "; " + text), reason)
            keep &= ~failed
        rejected = pd.DataFrame({"profile_id": ids[~keep], "reason": reason[~keep].astype(str)})
        idx = np.flatnonzero(keep)
        s = site.iloc[idx]
        kwargs = dict(forcing_kwargs)
        for col in ("sand", "cwd_fraction"):
            if col in s.columns and col not in kwargs:
                kwargs[col] = s[col].to_numpy(dtype=float)
        # without a lat column the forcing takes the northern season and 12-h days (lat=None)
        lat = s["lat"].to_numpy(dtype=float) if "lat" in s.columns else None
        forcing = forcing_from_climate(
            s["mat"].to_numpy(dtype=float), s["map"].to_numpy(dtype=float),
            lat=None if lat is None else (np.where(np.isnan(lat), 0.0, lat) if lat.size
                                          else lat), **kwargs,
        )
        # trim padding columns that only rejected profiles used
        used = ~np.all(np.isnan(arrays["top"][idx]), axis=0) if idx.size else np.zeros(0, bool)
        width = int(np.flatnonzero(used).max()) + 1 if used.any() else 0
        return cls(ids[idx], arrays["top"][idx, :width], arrays["bottom"][idx, :width],
                   arrays["soc"][idx, :width], forcing, rejected)


def _default_space(model: str) -> ParameterSpace:
    if model == "clm5":
        return ParameterSpace.from_clm5()
    if model == "compas":
        return ParameterSpace.from_compas()
    raise InputDataError('model must be "clm5" or "compas"', field="model", value=model)


@dataclass(frozen=True, eq=False)
class LogTarget:
    """Log target of Eq. 1 for a batch of profiles; call with u (P, n, d) → (P, n).

    Built by :func:`make_log_target`. ``predict(u)`` gives the modelled SOC of the observed
    layers (P, n, L) as stocks [Mg C ha⁻¹] (PCHIP density at the mid-depth × thickness, so that
    it compares with the observed stocks) and whether each state is valid (P, n).
    """

    model: str
    data: ProfileData
    space: ParameterSpace
    cost: str
    sigma: FloatArray | None
    _grid: Any

    def predict(self, u: ArrayLike) -> tuple[FloatArray, NDArray[np.bool_]]:
        """Modelled SOC of the observed layers for unit vectors u (P, n, d).

        Returns
        -------
        stocks : array (P, n, L) [Mg C ha⁻¹]
            Model density PCHIP-interpolated to the layer mid-depth × layer thickness; NaN at
            padded layers and for invalid states.
        valid : array (P, n) of bool
            In the support of the prior and with a finite (COMPAS: positive) steady state.
        """
        a = np.asarray(u, dtype=float)
        p, d = self.data.n_profiles, self.space.n_params
        if a.ndim != 3 or a.shape[0] != p or a.shape[-1] != d:
            raise InputDataError(f"u must have shape (P={p}, n, d={d})", field="u",
                                 value=a.shape)
        dens, valid = self._densities(a, self.data.depth[:, None, :], np.arange(p)[:, None])
        return dens * self.data.thickness_m[:, None, :] * _G_M2_TO_MG_HA, valid

    @cached_property
    def _kernel(self) -> Any:
        """CLM5 steady states at the profiles' sites, site-only work done once."""
        from wholesoil.models._clm5 import _SteadyStateKernel

        # ξ_N (fpi_vr) multiplies the litter rates when the forcing has it (PRODA's xin)
        return _SteadyStateKernel(self.data.forcing, self._grid, nitrogen=True)

    @cached_property
    def _fused(self) -> dict[str, Any] | None:
        """The observation side of the log target, once (PCHIP depths [m], observed densities,
        the cost's weights and SDs), for the compiled pass
        (:func:`wholesoil.assimilation._compiled.soc_log_targets`) when the model's kernel is
        compiled; None otherwise (the numpy path)."""
        kernel = self._kernel if self.model == "clm5" else self._compas_kernel
        if kernel._compiled is None:
            return None
        from wholesoil.assimilation import _compiled as cc

        depth = np.asarray(self.data.depth, dtype=float)
        obs = np.ascontiguousarray(self.data.density, dtype=float)
        w = np.zeros_like(obs)
        sd = np.ones_like(obs)
        if self.cost == "gaussian":
            kind, sd = cc.GAUSSIAN, np.asarray(self.sigma, dtype=float)
            gaussian_loglik(obs, obs, sd)  # its checks (sigma > 0 at observed layers), once
        elif self.model == "clm5":
            kind = cc.PRODA_CLM5
            proda_clm5_cost(obs, obs, depth)  # its checks (observations > 0), once
            w = proda_clm5_weights(obs, depth)
            sd = PRODA_CLM5_RELATIVE_SD * np.where(np.isnan(obs), 1.0, obs)
        else:
            kind = cc.PRODA_COMPAS
        clm5 = self.model == "clm5"
        return {"fn": cc.soc_log_targets, "kernel": kernel, "kind": kind,
                "negate": self._negates_invalid,
                "pools": (4, 7) if clm5 else (4, 8), "mic": -1 if clm5 else 5,
                "dz": np.ascontiguousarray(self._grid.dz, dtype=float),
                "q": np.ascontiguousarray(depth / 100.0), "obs": obs,
                "w": np.ascontiguousarray(w), "sd": np.ascontiguousarray(sd),
                "x": np.ascontiguousarray(self._grid.z_node, dtype=float)}

    def _fused_log_target(self, a: FloatArray, prof: NDArray[np.intp]) -> FloatArray:
        """Log targets of unit vectors a (R, d) of profiles ``prof`` (R,) by the compiled path:
        the same Eq. 1 as :meth:`_densities` + :meth:`_log_target`, without their numpy steps."""
        from wholesoil.models import CLM5Parameters, COMPASParameters

        f = self._fused
        ok = self.space.contains(a)
        safe = np.where(ok[:, None], a, 0.5)
        theta = self.space.from_unit(safe)
        s = None if _env_batch_shape(self.data.forcing) == () else prof
        if self.model == "clm5":
            x = f["kernel"](CLM5Parameters._from_batch(theta), s)
            row_ok = ok
        else:
            from wholesoil.models import COMPAS_PARAMETERS

            full = {n: info.default for n, info in COMPAS_PARAMETERS.items()}
            full.update(theta)
            x, ss_valid = f["kernel"](COMPASParameters._from_batch(full), s,
                                      keep_invalid=f["negate"])
            row_ok = ok if f["negate"] else ok & ss_valid
        lo, hi = f["pools"]
        return f["fn"](x, lo, hi, np.ascontiguousarray(row_ok), f["mic"],
                       COMPAS_MIN_SOC_TO_MIC, f["dz"], np.ascontiguousarray(prof, dtype=np.intp),
                       f["x"], f["q"], f["obs"], f["w"], f["sd"], f["kind"],
                       PRODA_COMPAS_COST_SCALE, np.empty(a.shape[0]), f["negate"])

    @property
    def _negates_invalid(self) -> bool:
        """Whether invalid COMPAS states are scored with their SOC negated (PRODA's COMPAS cost,
        as ``matrix_fun.m`` of ``phxtao/PRODA_MIC``) rather than given −∞."""
        return self.model == "compas" and self.cost == "proda"

    @cached_property
    def _compas_kernel(self) -> Any:
        """COMPAS steady states at the profiles' sites, site-only work done once."""
        from wholesoil.models._compas import _COMPASSteadyStateKernel

        # ξ_N (fpi_vr) multiplies the L1–L3 rates when the forcing has it (PRODA's kk_matrix)
        return _COMPASSteadyStateKernel(self.data.forcing, self._grid, nitrogen=True)

    def _densities(self, a: FloatArray, depth: FloatArray,
                   site: NDArray[np.intp] | None = None, *, score_invalid: bool = False
                   ) -> tuple[FloatArray, NDArray[np.bool_]]:
        """Density at ``depth`` (..., L) [g C m⁻³] and validity (...) for unit vectors a.

        ``site`` (broadcast to ``a.shape[:-1]``) gives each state's profile: its index in the
        data's forcing, at which the precomputed kernel of the model solves the steady state.
        ``score_invalid`` (COMPAS, PRODA's cost): finite states that break PRODA_MIC's rules (a
        negative pool, soil C below 10 × MIC) get the density −|density| and count as valid,
        so that the cost scores them (``matrix_fun.m`` of ``phxtao/PRODA_MIC``).
        """
        from wholesoil.models import CLM5Parameters, COMPASParameters
        from wholesoil.models._observe import density_at_depths

        ok = self.space.contains(a)
        safe = np.where(ok[..., None], a, 0.5)  # invalid rows: a harmless interior point
        batch = a.shape[:-1]
        flat = safe.reshape(-1, a.shape[-1])
        theta = self.space.from_unit(flat)
        if _env_batch_shape(self.data.forcing) == ():
            s = None
        else:
            s = np.broadcast_to(site, batch).reshape(-1)
        if self.model == "clm5":
            x = self._kernel(CLM5Parameters._from_batch(theta), s)
            density = x[..., 4:7, :].sum(axis=-2).reshape(*batch, -1)  # S1 + S2 + S3 [g C m-3]
            good = np.ones(density.shape[:-1], bool)
        else:
            from wholesoil.models import COMPAS_PARAMETERS

            full = {n: info.default for n, info in COMPAS_PARAMETERS.items()}
            full.update(theta)
            pools, ss_valid = self._compas_kernel(COMPASParameters._from_batch(full), s,
                                                  keep_invalid=score_invalid)
            pools = pools.reshape(*batch, *pools.shape[-2:])
            density = pools[..., 4:, :].sum(axis=-2)  # DOC + MIC + ENZ + mSOC [g C m-3]
            dz = np.asarray(self._grid.dz, dtype=float)
            with np.errstate(invalid="ignore"):
                total = (density * dz).sum(axis=-1)
                mic = (pools[..., 5, :] * dz).sum(axis=-1)
                good = ss_valid.reshape(batch) & (total >= COMPAS_MIN_SOC_TO_MIC * mic)
                if score_invalid:  # PRODA_MIC: negate the rule-breaking states and score them
                    density = np.where(good[..., None], density, -np.abs(density))
                    good = np.all(np.isfinite(pools), axis=(-2, -1))
        density = np.broadcast_to(density, (*batch, density.shape[-1]))
        good = np.broadcast_to(good, batch) & np.all(np.isfinite(density), axis=-1)
        valid = ok & good
        density = np.where(valid[..., None], density, 0.0)
        at = density_at_depths(density, depth, self._grid)
        return np.where(valid[..., None], at, np.nan), valid

    def _log_target(self, mod: FloatArray, valid: NDArray[np.bool_], obs: FloatArray,
                    sigma: FloatArray | None, depth: FloatArray) -> FloatArray:
        m0 = np.where(valid[..., None], mod, obs)  # placeholder; replaced by −inf below
        if self.cost == "gaussian":
            lt = gaussian_loglik(m0, obs, sigma)
        elif self.model == "clm5":
            lt = -proda_clm5_cost(m0, obs, depth)
        else:
            lt = -proda_compas_cost(m0, obs)
        return np.where(valid & ~np.isnan(lt), lt, -np.inf)

    def __call__(self, u: ArrayLike) -> FloatArray:
        """Log target (P, n): −J (``cost="proda"``) or log L (``"gaussian"``); −∞ if invalid."""
        a = np.asarray(u, dtype=float)
        p, d = self.data.n_profiles, self.space.n_params
        if a.ndim != 3 or a.shape[0] != p or a.shape[-1] != d:
            raise InputDataError(f"u must have shape (P={p}, n, d={d})", field="u",
                                 value=a.shape)
        if self._fused is not None:
            n = a.shape[1]
            prof = np.repeat(np.arange(p), n)
            return self._fused_log_target(a.reshape(-1, d), prof).reshape(p, n)
        z = self.data.depth[:, None, :]
        mod, valid = self._densities(a, z, np.arange(p)[:, None],
                                     score_invalid=self._negates_invalid)
        sigma = None if self.sigma is None else self.sigma[:, None, :]
        return self._log_target(mod, valid, self.data.density[:, None, :], sigma, z)

    def evaluate_rows(self, u: ArrayLike, index: tuple[NDArray[np.intp], ...]) -> FloatArray:
        """Log target of R single rows: u (R, d), ``index`` = (profile, chain) arrays → (R,).

        The sampler's row-subset protocol (restarts and reruns evaluate only their chains):
        row r is profile ``index[0][r]``; the chain index is not needed.
        """
        a = np.asarray(u, dtype=float)
        prof = np.asarray(index[0], dtype=np.intp)
        if self._fused is not None:
            return self._fused_log_target(a, prof)
        z = self.data.depth[prof]
        mod, valid = self._densities(a, z, prof, score_invalid=self._negates_invalid)
        sigma = None if self.sigma is None else self.sigma[prof]
        return self._log_target(mod, valid, self.data.density[prof], sigma, z)


def make_log_target(
    model: ModelName,
    data: ProfileData,
    space: ParameterSpace | None = None,
    *,
    cost: CostName = "proda",
    sigma: ArrayLike | None = None,
) -> LogTarget:
    """Batched log target of Eq. 1 for :func:`~wholesoil.assimilation._mcmc.adaptive_metropolis`.

    One call with u of shape (P, chains, d) maps u to parameters (Eqs. 1–2 of ``_space``),
    builds one batched model (parameters (P, chains), forcing (P, 1)), solves its steady state,
    sums the mineral SOC (CLM5: S1–S3; COMPAS: DOC + MIC + ENZ + mSOC), interpolates its density
    to the layers' mid-depths by PCHIP and returns the log target (P, chains) against the
    observed densities.

    Parameters
    ----------
    model : {"clm5", "compas"}
    data : ProfileData
    space : ParameterSpace, optional
        Calibrated parameters; default all of the model's (``from_clm5``/``from_compas``).
        Model parameters not in the space keep their defaults (CLM5: ``fs2s1``/``fs3s1`` then
        follow sand as in CLM5; they must be both in or both out).
    cost : {"proda", "gaussian"}
        ``"proda"``: −J with PRODA's cost of the model (CLM5 Eq. 2 of ``_costs``, COMPAS
        5·(1 − NSE)). ``"gaussian"``: the Gaussian log-likelihood with ``sigma``.
    sigma : array broadcastable to (P, L) [Mg C ha⁻¹, of the layer stocks], optional
        Observation SD for ``cost="gaussian"``; default ``0.6·obs`` (PRODA's relative error).
        Converted to density SD by the layer thickness.

    Returns
    -------
    LogTarget
        Callable u (P, n, d) → (P, n); −∞ outside the prior's support and where the model has no
        finite (COMPAS: positive) steady state.
    """
    if model not in ("clm5", "compas"):
        raise InputDataError('model must be "clm5" or "compas"', field="model", value=model)
    if cost not in ("proda", "gaussian"):
        raise InputDataError('cost must be "proda" or "gaussian"', field="cost", value=cost)
    sp = _default_space(model) if space is None else space
    known = _model_parameter_names(model)
    unknown = [n for n in sp.names if n not in known]
    if unknown:
        raise InputDataError(f"parameter(s) {unknown} are not {model} parameters",
                             field="space", value=unknown[0])
    if model == "clm5" and (("fs2s1" in sp.names) != ("fs3s1" in sp.names)):
        raise InputDataError("fs2s1 and fs3s1 must both be calibrated or both left out "
                             "(sand dependent)", field="space")
    sig = None
    if cost == "gaussian":
        s = PRODA_CLM5_RELATIVE_SD * data.soc if sigma is None else np.asarray(sigma, float)
        try:
            sig = np.array(np.broadcast_to(s, data.soc.shape), dtype=float)
        except ValueError as exc:
            raise InputDataError(f"sigma must broadcast to {data.soc.shape} (P, L)",
                                 field="sigma", value=np.shape(s)) from exc
        sig = sig / _G_M2_TO_MG_HA / data.thickness_m
    return LogTarget(model, data, sp, cost, sig, clm5_grid())


def _model_parameter_names(model: str) -> set[str]:
    if model == "clm5":
        from wholesoil.models import CLM5_PRODA_PARAMETERS

        return set(CLM5_PRODA_PARAMETERS)
    from wholesoil.models import COMPAS_PARAMETERS

    return set(COMPAS_PARAMETERS)


@dataclass(frozen=True, eq=False)
class CalibrationResult:
    """Per-profile posterior summaries of :func:`calibrate`, as tidy tables.

    Attributes
    ----------
    parameters : DataFrame
        One row per (profile, parameter): ``profile_id``, ``parameter``, ``mean`` (PRODA's point
        estimate), ``median``, ``q025``, ``q975``, ``mode`` (centre of the fullest of
        :data:`MODE_BINS` bins over the prior range), ``rhat``, ``ess``; in parameter units.
    profiles : DataFrame
        One row per profile, calibrated ones first: ``profile_id``, ``calibrated``, ``rhat_mean``,
        ``rhat_max``, ``acceptance_rate`` (mean over chains), ``summary_chain`` (the chain the
        summaries come from in mode ``"proda"``, −1 when pooled), ``nse`` (of the posterior
        predictive mean, on densities: the statistic PRODA's code filters on),
        ``nse_at_mean`` (of the fit at the posterior-mean parameters),
        ``log_target_mean`` (log target at the posterior mean), ``accepted`` and ``reason``
        (empty when accepted; filtered profiles carry their filter reasons).
    predictive : DataFrame
        One row per observed layer: ``profile_id``, ``layer`` (0 = top), ``top``, ``bottom``,
        ``observed``, ``fit`` (model at the posterior mean), ``mean``, ``q025``, ``q975``
        (posterior predictive over the kept samples), in Mg C ha⁻¹.
    posterior_mean : array (P, d)
        Posterior means in parameter units, in the order of ``space.names``.
    mcmc : MCMCResult
    space : ParameterSpace
    model : str
    """

    parameters: pd.DataFrame
    profiles: pd.DataFrame
    predictive: pd.DataFrame
    posterior_mean: FloatArray
    mcmc: MCMCResult
    space: ParameterSpace
    model: str


def _histogram_mode(u: FloatArray, bins: int) -> FloatArray:
    """Centre of the fullest bin on [0, 1], (..., n, d) → (..., d); ties go to the lower bin."""
    idx = np.clip(np.floor(u * bins).astype(int), 0, bins - 1)  # (..., n, d)
    counts = (idx[..., None] == np.arange(bins)).sum(axis=-3)  # (..., d, bins)
    return (np.argmax(counts, axis=-1) + 0.5) / bins


def calibrate(
    data: ProfileData,
    model: ModelName = "clm5",
    *,
    mode: CalibrationMode = "proda",
    space: ParameterSpace | None = None,
    n_chains: int = 3,
    test_iterations: int = 20_000,
    formal_iterations: int = 50_000,
    acceptance: Acceptance | None = None,
    scale: ProposalScale = "proda",
    seed: int | np.random.Generator | None = None,
    cost: CostName | None = None,
    sigma: ArrayLike | None = None,
    adapt_start: int = 4_000,
    thin: int = 10,
    max_predictive: int | None = 300,
    **mcmc_kwargs: Any,
) -> CalibrationResult:
    """Calibrate ``model`` for every profile of ``data`` at once and summarize the posteriors.

    Runs :func:`~wholesoil.assimilation._mcmc.adaptive_metropolis` with batch (P,) on the log
    target of :func:`make_log_target` (PRODA's protocol; defaults are its numbers,
    :data:`~wholesoil.assimilation._mcmc.PRODA_MCMC_SETTINGS`). A profile is **accepted** when
    the mean R̂ over its parameters is ≤ 1.05 (:data:`RHAT_THRESHOLD`) and the NSE
    (Tao et al. (EarthArXiv) Eq. 1) of the model at the posterior mean is ≥ 0
    (:data:`NSE_THRESHOLD`), Tao et al. (EarthArXiv) §2.6.

    Modes (which question each answers):

    * ``"proda"`` (default) — the published code: PRODA's cost of the model (CLM5: weighted
      relative squared error; COMPAS: 5·(1 − NSE)), the annealed acceptance
      exp(−ΔJ·log(n + 2)) > U, invalid states costing J_old + 100. Answers "which parameters fit
      this profile best, as PRODA found them": the point estimates the paper's maps and network
      are built on. Its sample spread is *not* a posterior uncertainty.
    * ``"gaussian"`` — plain Metropolis on a Gaussian likelihood with σ = 0.6·obs (PRODA's stated
      observation error) and uniform priors: a true posterior. Answers "how uncertain are the
      parameters given this profile": credible intervals with their nominal coverage. Its fits
      are looser than ``"proda"``'s (it samples, it does not anneal toward the minimum).

    Parameters
    ----------
    data : ProfileData
    model : {"clm5", "compas"}
    mode : {"proda", "gaussian"}
        Sets ``cost`` (above) unless it is given explicitly; ``acceptance`` then follows the
        cost (annealed for PRODA's cost, Metropolis for the Gaussian likelihood) unless given.
    space : ParameterSpace, optional
        Default: all of the model's PRODA parameters.
    n_chains, test_iterations, formal_iterations, acceptance, scale, adapt_start, thin
        Passed to ``adaptive_metropolis``; ``acceptance`` defaults to ``"proda"`` in mode
        ``"proda"`` and ``"metropolis"`` in mode ``"gaussian"``.
    seed : int or Generator, optional
        Random seed; the same seed gives the same result.
    cost, sigma
        As in :func:`make_log_target`.
    max_predictive : int or None
        The posterior predictive uses at most this many kept samples per profile, evenly spaced
        over the pooled chains (None: all), to bound the cost of the extra model solve.
    **mcmc_kwargs
        Other keywords of ``adaptive_metropolis`` (e.g. ``max_restarts_test``).

    Returns
    -------
    CalibrationResult
    """
    if mode not in ("proda", "gaussian"):
        raise InputDataError('mode must be "proda" or "gaussian"', field="mode", value=mode)
    if cost is None:
        cost = "proda" if mode == "proda" else "gaussian"
    if acceptance is None:  # a Gaussian likelihood is sampled, PRODA's cost annealed
        acceptance = "proda" if cost == "proda" else "metropolis"
    target = make_log_target(model, data, space, cost=cost, sigma=sigma)
    sp = target.space
    p, d = data.n_profiles, sp.n_params
    if p == 0:
        raise InputDataError("no profile to calibrate", field="data", value=0)
    res = adaptive_metropolis(
        target, d, batch_shape=(p,), n_chains=n_chains, test_iterations=test_iterations,
        formal_iterations=formal_iterations, scale=scale, acceptance=acceptance,
        rng=seed, adapt_start=adapt_start, thin=thin, **mcmc_kwargs,
    )
    samples = res.samples  # (P, C, n, d) in [0, 1]
    n_kept = samples.shape[-2]
    to_theta = sp.theta  # Eqs. 1–2 of _space (log-scaled priors included)
    best_chain, pooled, pred_mean, pred_q = _summary_states(res, target, data, n_chains,
                                                            max_predictive)
    mean_u = pooled.mean(axis=1)
    q = np.quantile(pooled, [0.5, 0.025, 0.975], axis=1)  # (3, P, d)
    mode_u = _histogram_mode(pooled, MODE_BINS)
    if n_chains >= 2 and n_kept >= 4:
        rhat = gelman_rubin(samples)
    else:
        rhat = np.full((p, d), np.nan)
    ess = effective_sample_size(samples) if n_kept >= 4 else np.full((p, d), np.nan)

    fit, _ = target.predict(mean_u[:, None, :])
    fit = fit[:, 0, :]
    # NSE of the densities, as the cost compares them: PRODA's code scores the posterior
    # predictive mean (the mean simulated SOC of the summarized states), Tao et al.
    # (EarthArXiv) Eq. 1 with the mean of the observations; the fit at the posterior-mean
    # parameters is reported beside it (−inf where that state is invalid)
    obs_density = data.soc / data.thickness_m
    fit_nse = nse(pred_mean / data.thickness_m, obs_density)
    nse_at_mean = nse(fit / data.thickness_m, obs_density)
    lt_mean = target(mean_u[:, None, :])[:, 0]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rhat_mean = np.nanmean(rhat, axis=-1)
        rhat_max = np.nanmax(rhat, axis=-1)
    reasons_a = _rejection_reasons(rhat_mean, fit_nse)
    ids = data.profile_id

    parameters = pd.DataFrame({
        "profile_id": np.repeat(ids, d),
        "parameter": np.tile(np.array(sp.names, dtype=object), p),
        "mean": to_theta(mean_u).ravel(),
        "median": to_theta(q[0]).ravel(),
        "q025": to_theta(q[1]).ravel(),
        "q975": to_theta(q[2]).ravel(),
        "mode": to_theta(mode_u).ravel(),
        "rhat": rhat.ravel(),
        "ess": ess.ravel(),
    })
    profiles = pd.DataFrame({
        "profile_id": ids,
        "calibrated": True,
        "rhat_mean": rhat_mean,
        "rhat_max": rhat_max,
        "acceptance_rate": res.acceptance_rate.mean(axis=-1),
        "summary_chain": best_chain,
        "nse": fit_nse,
        "nse_at_mean": nse_at_mean,
        "log_target_mean": lt_mean,
        "accepted": reasons_a == "",
        "reason": reasons_a.astype(str),
    })
    profiles = _with_rejected(profiles, data.rejected)
    predictive = _predictive_table(data, fit, pred_mean, pred_q)
    return CalibrationResult(parameters, profiles, predictive, to_theta(mean_u), res, sp, model)


def _summary_states(res, target, data, n_chains: int, max_predictive: int | None):
    """The states summarized per profile (P, n, d), the chain they come from (−1: pooled), and
    their posterior predictive mean and 2.5/97.5 % quantiles of the stocks.

    PRODA's code (``da_cesm2_clm5_cen_vr_v2.m``, ``opt_parallel``) summarizes the chain whose
    mean *simulated* SOC over the second half of its formal run — the posterior predictive
    mean — has the lowest RMSE against the observations, not the three chains pooled: annealed
    chains sit in different minima, and averaging them gives a state that fits none; its fit
    statistic is computed on that predictive mean too. Metropolis chains sample one posterior
    and are pooled.
    """
    samples = res.samples
    p, c, d = samples.shape[0], samples.shape[1], samples.shape[-1]
    if res.acceptance == "proda" and n_chains > 1:
        take = _evenly(samples.shape[-2], max_predictive)
        pred, _ = target.predict(samples[:, :, take, :].reshape(p, c * take.size, d))
        pred = pred.reshape(p, c, take.size, -1)  # (P, C, k, L) stocks, NaN where invalid
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            chain_mean = np.nanmean(pred, axis=2)  # (P, C, L)
            err = (chain_mean / data.thickness_m[:, None, :]
                   - (data.soc / data.thickness_m)[:, None, :]) ** 2
            rmse = np.sqrt(np.nanmean(err, axis=-1))
        rmse = np.where(np.isfinite(rmse), rmse, np.inf)
        best_chain = np.argmin(rmse, axis=1)
        rows = np.arange(p)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            pred_q = np.nanquantile(pred[rows, best_chain], [0.025, 0.975], axis=1)
        return best_chain, samples[rows, best_chain], chain_mean[rows, best_chain], pred_q
    pooled = samples.reshape(p, -1, d)
    pred_mean, pred_q = _posterior_predictive(target, pooled, max_predictive)
    return np.full(p, -1), pooled, pred_mean, pred_q


def _evenly(n: int, at_most: int | None) -> np.ndarray:
    """At most ``at_most`` indices of ``range(n)``, evenly spaced (all when None)."""
    if at_most is None or n <= at_most:
        return np.arange(n)
    return np.linspace(0, n - 1, at_most).round().astype(int)


def _posterior_predictive(target, pooled, max_predictive):
    """Mean and 2.5/97.5 % quantiles of the predicted stocks over (at most
    ``max_predictive``, evenly spaced) summarized states; NaN for invalid states."""
    take = _evenly(pooled.shape[1], max_predictive)
    pred, _ = target.predict(pooled[:, take, :])  # (P, n, L), NaN for invalid states
    with warnings.catch_warnings():  # all-NaN slices (padding, all states invalid) give NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        pred_mean = np.nanmean(pred, axis=1)
        pred_q = np.nanquantile(pred, [0.025, 0.975], axis=1)
    return pred_mean, pred_q


def _rejection_reasons(rhat_mean, fit_nse):
    """Per profile, why its calibration is not accepted (R-hat, NSE); "" when accepted."""
    reasons = []
    for i in range(rhat_mean.shape[0]):
        r = []
        if not rhat_mean[i] <= RHAT_THRESHOLD:
            r.append(f"mean R-hat {rhat_mean[i]:.3g} > {RHAT_THRESHOLD:g}"
                     if np.isfinite(rhat_mean[i]) else "R-hat undefined")
        if not fit_nse[i] >= NSE_THRESHOLD:
            r.append(f"NSE {fit_nse[i]:.3g} < {NSE_THRESHOLD:g}"
                     if not np.isnan(fit_nse[i]) else "NSE undefined")
        reasons.append("; ".join(r))
    return np.array(reasons, dtype=object)


def _with_rejected(profiles: pd.DataFrame, rej: pd.DataFrame | None) -> pd.DataFrame:
    """The profile table with the profiles the data filter rejected (not calibrated)."""
    if rej is not None and len(rej):
        extra = pd.DataFrame({
            "profile_id": rej["profile_id"].to_numpy(),
            "calibrated": False,
            "rhat_mean": np.nan, "rhat_max": np.nan, "acceptance_rate": np.nan,
            "nse": np.nan, "nse_at_mean": np.nan, "log_target_mean": np.nan, "accepted": False,
            "summary_chain": -1,
            "reason": ("filtered: " + rej["reason"].astype(str)).to_numpy(),
        })
        profiles = pd.concat([profiles, extra], ignore_index=True)
    return profiles


def _predictive_table(data, fit, pred_mean, pred_q) -> pd.DataFrame:
    """One row per observed layer: observation, fit at the posterior mean and predictive band."""
    ids = data.profile_id
    observed = ~np.isnan(data.soc)
    pi, li = np.nonzero(observed)
    return pd.DataFrame({
        "profile_id": ids[pi],
        "layer": li,
        "top": data.top[pi, li],
        "bottom": data.bottom[pi, li],
        "observed": data.soc[pi, li],
        "fit": fit[pi, li],
        "mean": pred_mean[pi, li],
        "q025": pred_q[0][pi, li],
        "q975": pred_q[1][pi, li],
    })

