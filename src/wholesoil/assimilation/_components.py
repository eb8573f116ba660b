"""Posterior of the six Tao et al. (EarthArXiv) components per calibrated profile, and thinned
chains as a table.

Tao et al. (EarthArXiv) (§2.7, Fig. 4) explains SOC through six components of the calibrated model:
carbon transfer efficiency (CTE, Eq. 10), baseline decomposition (K_bulk, Eq. 11), vertical
transport (V_system, Eq. 12), environmental modifier (ξ_system, Eq. 13), input allocation (B_system,
Eq. 14) and the carbon input itself. For each profile they are computed at the posterior mean
and over a random subsample of the kept posterior draws (one batched model build and steady
state for profiles × draws), giving the posterior mean and 2.5/97.5 % quantiles of each.

For CLM5 they follow the linear matrix form (Eq. 2 of Tao et al. (EarthArXiv)) with PRODA's pool
choices; COMPAS is nonlinear (Michaelis–Menten microbial uptake), so its components are computed
from the steady-state fluxes as the global simulation does (:mod:`wholesoil.assimilation.proda`).

References
----------
Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from wholesoil.assimilation._calibrate import (
    CalibrationResult,
    ProfileData,
    _with_chain_axis,
)
from wholesoil.errors import InputDataError

__all__ = ["COMPONENTS", "chains_table", "clm5_components", "compas_components",
           "posterior_components"]

#: The six components of Tao et al. (EarthArXiv) Fig. 4 with their units, in the order the paper
#: lists them.
COMPONENTS: dict[str, str] = {
    "cte": "-",  # carbon transfer efficiency, Eq. 10
    "k_bulk": "yr-1",  # baseline decomposition, Eq. 11
    "xi_system": "-",  # environmental modifier, Eq. 13
    "b_system": "-",  # input allocation, Eq. 14
    "v_system": "yr-1",  # vertical transport, Eq. 12
    "input": "g C m-2 yr-1",  # carbon input (NPP entering the soil)
}

#: PRODA's pool choices for the CLM5 components (fun_bulk_process.m, as in ``simulate``):
#: CTE over the litter and soil pools L1–S3, the soil-weighted indices over S1–S3.
CLM5_CTE_POOLS = (1, 2, 3, 4, 5, 6)
CLM5_SOC_POOLS = (4, 5, 6)


def clm5_components(theta: dict[str, Any], forcing: Any) -> dict[str, NDArray[np.float64]]:
    """The six components of a batch of CLM5 steady states (Tao et al. (EarthArXiv) Eqs. 10–14 and
    input).

    Parameters
    ----------
    theta : dict of arrays
        CLM5 parameters in their units (:data:`wholesoil.models.CLM5_PRODA_PARAMETERS`), each
        broadcastable to the batch shape (...).
    forcing : Forcing or Environment
        Batched like ``theta``.

    Returns
    -------
    dict of arrays (...)
        Keys of :data:`COMPONENTS`.
    """
    from wholesoil.models import CLM5, CLM5Parameters
    from wholesoil.models._diagnostics import system_diagnostics

    m = CLM5(CLM5Parameters.from_dict(theta), forcing)
    x = m.steady_state()
    eye = np.eye(x.shape[-2])
    sd = system_diagnostics(
        m.transfer - eye, x, m.k, m.xi, m.v_bands[1], m.inputs.sum(axis=-2), m.grid.dz,
        cte_pools=CLM5_CTE_POOLS, soc_pools=CLM5_SOC_POOLS,
    )
    return {"cte": sd.cte, "k_bulk": sd.k_bulk, "xi_system": sd.xi_system,
            "b_system": sd.b_system, "v_system": sd.v_system, "input": m.total_input()}


def compas_components(theta: dict[str, Any], forcing: Any, profile: NDArray[np.intp]
                      ) -> dict[str, NDArray[np.float64]]:
    """The six components of a flat batch of COMPAS steady states, row r at profile[r].

    COMPAS is nonlinear, so the components come from its steady-state fluxes (flux-weighted
    CTE, effective first-order rates for K_bulk; Eqs. 12–14 and the input exactly as for
    CLM5): :mod:`wholesoil.models._components` documents them. NaN where there is no positive
    steady state.
    """
    from wholesoil.assimilation._calibrate import _env_batch_shape, _select
    from wholesoil.models._components import compas_components_batch

    env = forcing if _env_batch_shape(forcing) == () else _select(forcing, profile)
    _, comp, _, _, _ = compas_components_batch(theta, env)
    return {k: np.asarray(v, dtype=float) for k, v in comp.items()}


def posterior_components(
    result: CalibrationResult,
    data: ProfileData,
    *,
    draws: int = 50,
    seed: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """Posterior of the six Tao et al. (EarthArXiv) components for every calibrated profile.

    Parameters
    ----------
    result : CalibrationResult
        From :func:`~wholesoil.assimilation.calibrate` on ``data``.
    data : ProfileData
        The profiles that were calibrated (same order).
    draws : int
        Kept posterior samples drawn per profile (without replacement, pooled over chains) for
        the posterior mean and quantiles; capped at the number kept.
    seed : int or Generator
        For the subsample.

    Returns
    -------
    DataFrame
        One row per (profile, component): ``profile_id``, ``component``, ``unit``,
        ``at_mean`` (at the posterior-mean parameters), ``mean``, ``q025``, ``q975`` (over the
        draws), ``note`` (why a value is NaN: no finite/positive steady state at some draws).
    """
    if draws < 1:
        raise InputDataError("draws must be >= 1", field="draws", value=draws)
    p = data.n_profiles
    if result.posterior_mean.shape[0] != p:
        raise InputDataError("result and data describe different profiles", field="data",
                             value=p)
    names = list(COMPONENTS)
    rng = np.random.default_rng(seed)
    space = result.space
    u = result.mcmc.samples  # (P, chains, kept, d)
    pooled = u.reshape(p, -1, u.shape[-1])
    n = min(int(draws), pooled.shape[1])
    pick = np.argsort(rng.random((p, pooled.shape[1])), axis=1)[:, :n]
    sub = np.take_along_axis(pooled, pick[..., None], axis=1)  # (P, n, d)
    mean_u = space.to_unit(result.posterior_mean)[:, None, :]  # (P, 1, d)
    both = np.concatenate([mean_u, sub], axis=1)  # (P, 1 + n, d)
    if result.model == "clm5":
        comp = clm5_components(space.from_unit(both), _with_chain_axis(data.forcing))
    else:
        comp = compas_components(space.from_unit(both.reshape(-1, both.shape[-1])),
                                 data.forcing, np.repeat(np.arange(p), both.shape[1]))
        comp = {k: v.reshape(both.shape[:2]) for k, v in comp.items()}
    rows = []
    for c in names:
        v = np.broadcast_to(comp[c], both.shape[:2])
        at_mean, post = v[:, 0], v[:, 1:]
        finite = np.isfinite(post)
        count = finite.sum(axis=1)
        mean = np.where(count > 0, np.where(finite, post, 0.0).sum(axis=1)
                        / np.maximum(count, 1), np.nan)
        q = np.full((p, 2), np.nan)
        ok = finite.all(axis=1)
        if ok.any():
            q[ok] = np.quantile(post[ok], [0.025, 0.975], axis=1).T
        note = np.where(ok & np.isfinite(at_mean), "",
                        "no finite (COMPAS: positive) steady state at some draws")
        rows.append(pd.DataFrame({"profile_id": data.profile_id, "component": c,
                                  "unit": COMPONENTS[c], "at_mean": at_mean, "mean": mean,
                                  "q025": q[:, 0], "q975": q[:, 1], "note": note}))
    out = pd.concat(rows, ignore_index=True)
    order = {pid: i for i, pid in enumerate(data.profile_id)}
    out["_o"] = out["profile_id"].map(order)
    return out.sort_values(["_o"], kind="stable").drop(columns="_o").reset_index(drop=True)


def chains_table(result: CalibrationResult, profile_id: NDArray[Any]) -> pd.DataFrame:
    """Thinned post-burn-in chains in parameter units, one row per (profile, chain, sample).

    Columns ``profile_id``, ``chain``, ``sample`` (index among the kept states), ``log_target``
    and one column per parameter (in ``result.space`` order and units).
    """
    s = result.mcmc.samples  # (P, c, k, d)
    p, c, k, d = s.shape
    theta = result.space.from_unit(s.reshape(-1, d))
    df = pd.DataFrame({
        "profile_id": np.repeat(np.asarray(profile_id, dtype=object), c * k),
        "chain": np.tile(np.repeat(np.arange(c), k), p),
        "sample": np.tile(np.arange(k), p * c),
        "log_target": result.mcmc.log_target.reshape(-1),
    })
    for name in result.space.names:
        df[name] = np.asarray(theta[name], dtype=float).reshape(-1)
    return df
