"""The six Tao et al. (EarthArXiv) components (Fig. 4: CTE, baseline decomposition, environmental
modifier, input allocation, vertical transport, input) of flat batches of CLM5 and COMPAS steady
states.

CLM5: Tao et al. (EarthArXiv) Eqs. 10–14 on its matrix form with PRODA's pool choices (CTE over
L1–S3, the soil-weighted indices over S1–S3). COMPAS is nonlinear, so its components are computed
from the steady-state fluxes, which makes them the exact first-order equivalents: Eq. 10 with the
column fluxes out of each donor (litter, DOC uptake, microbial mortality and enzyme production,
enzyme decay, enzymatic decomposition) and the fraction of each flux that stays in the soil; Eq. 11
with effective baseline rates k_j = F_j / Σ_z ξ_z x_{j,z} Δz over DOC, MIC, ENZ and mSOC;
Eqs. 12–14 and the input exactly as for CLM5. Used by the per-profile posterior components
(:mod:`wholesoil.assimilation`) and the global simulation (:mod:`wholesoil.assimilation.proda`).

References
----------
Tao et al. (EarthArXiv). §2.3, §2.7, Eqs. 7–14, Fig. 4.

Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: The six components of Tao et al. (EarthArXiv) Fig. 4, in its row order.
COMPONENTS = ("cte", "k_bulk", "xi_system", "b_system", "v_system", "input")


def clm5_components_batch(pa: dict[str, Any], forcing: Any) -> tuple[Any, ...]:
    """Steady state, mineral SOC and the six Tao et al. (EarthArXiv) components of a flat CLM5
    batch.

    Returns ``(soc (n, layers) [g C m⁻³], components {name: (n,)}, valid (n,), reason (n,),
    grid)``; PRODA's pool choices (fun_bulk_process.m) for Eqs. 10–14.
    """
    from wholesoil.models._clm5 import CLM5, CLM5Parameters
    from wholesoil.models._diagnostics import system_diagnostics

    m = CLM5(CLM5Parameters(**pa), forcing)
    x = m.steady_state()  # (n, 7, 20) [g C m⁻³]
    valid = np.all(np.isfinite(x), axis=(-2, -1))
    reason = np.where(valid, "", "no finite steady state")
    soc = x[..., 4:7, :].sum(axis=-2)
    dz = m.grid.dz
    n = x.shape[0]
    comp = {k: np.full(n, np.nan) for k in COMPONENTS}
    rows = np.flatnonzero(valid)
    if rows.size:
        def pick(a: Any, core: int) -> Any:
            a = np.asarray(a)
            return a[rows] if a.ndim > core else a

        eye = np.eye(7)
        sd = system_diagnostics(
            pick(m.transfer, 2) - eye, x[rows], pick(m.k, 1), pick(m.xi, 1),
            pick(m.v_bands[1], 1), pick(m.inputs, 2).sum(axis=-2), dz,
            cte_pools=range(1, 7), soc_pools=(4, 5, 6),  # PRODA's choices (fun_bulk_process.m)
        )
        for k in ("cte", "k_bulk", "xi_system", "b_system", "v_system"):
            comp[k][rows] = np.broadcast_to(getattr(sd, k), (rows.size,))
    comp["input"] = np.broadcast_to(m.total_input(), (n,)).astype(float)
    return soc, comp, valid, reason, m.grid


def compas_components_batch(pa: dict[str, Any], forcing: Any) -> tuple[Any, ...]:
    """As :func:`clm5_components_batch` for COMPAS, the components from its steady-state
    fluxes (see the module docstring); NaN where there is no positive steady state."""
    from wholesoil.models._compas import COMPAS, COMPASParameters, _soil_terms, soil_inputs
    from wholesoil.models._diagnostics import (
        environmental_scalar_system,
        input_allocation_index,
        vertical_transport_system,
    )

    p = COMPASParameters.default(**pa)
    m = COMPAS(p, forcing)
    ss = m.steady_state()
    n = int(np.prod(m.batch_shape)) if m.batch_shape else 1
    valid = np.broadcast_to(np.asarray(ss.valid), (n,)).copy()
    reason = np.broadcast_to(np.asarray(ss.reason, dtype=str), (n,))
    x = np.broadcast_to(ss.pools, (n, *ss.pools.shape[-2:]))
    soc = x[..., 4:, :].sum(axis=-2)
    dz = np.asarray(m.grid.dz, dtype=float)
    comp = {k: np.full(n, np.nan) for k in COMPONENTS}
    comp["input"] = np.broadcast_to(m.column_input(), (n,)).astype(float)
    rows = np.flatnonzero(valid)
    if rows.size == 0:
        return soc, comp, valid, reason, m.grid

    def pick(a: Any, core: int) -> Any:
        a = np.asarray(a)
        return np.broadcast_to(a, (n, *a.shape[a.ndim - core:]))[rows] if a.ndim > core else a

    pr = COMPASParameters(**{k: pick(getattr(p, k), 0) for k in p.__dataclass_fields__})
    xv = x[rows]
    xi = np.broadcast_to(m.xi, (n, dz.size))[rows]
    lit_f = np.broadcast_to(m.litter_rates, (n, 4, dz.size))[rows] * xv[:, :4, :]
    si = soil_inputs(lit_f[:, 1], lit_f[:, 2], lit_f[:, 3], pr)
    terms = _soil_terms(xv[:, 4:, :], si, xi, pr)
    uptake = -terms[0][4]  # U
    mic_out = -(terms[1][2] + terms[1][3])  # mortality + enzyme production
    enz_out = terms[0][2]  # enzyme decay
    decomp = terms[0][3]  # D
    lay = np.stack([lit_f[:, 1], lit_f[:, 2], lit_f[:, 3], uptake, mic_out, enz_out, decomp],
                   axis=1)  # (r, 7, n_layers) donor fluxes [g C m⁻³ yr⁻¹]
    flux = (lay * dz).sum(axis=-1)  # F_j [g C m⁻² yr⁻¹]
    a1, a2, a3 = pr.a_doc_ml, pr.a_doc_cl, pr.a_soc_ll
    retained = np.stack(np.broadcast_arrays(
        a1 + (1 - a1) * pr.cue_ml, a2 + (1 - a2) * pr.cue_cl_ll, a3 + (1 - a3) * pr.cue_cl_ll,
        pr.cue_doc, np.ones(rows.size), np.ones(rows.size), np.ones(rows.size)), axis=-1)
    total = flux.sum(axis=-1)
    comp["cte"][rows] = _ratio((retained * flux).sum(axis=-1), total)
    soil = xv[:, 4:, :]
    xi_stock = (soil * (xi * dz)[:, None, :]).sum(axis=-1)  # Σ_z ξ x Δz, soil pools
    k_eff = _ratio(flux[:, 3:], xi_stock)  # DOC, MIC, ENZ, mSOC
    stock = (soil * dz).sum(axis=-1)
    comp["k_bulk"][rows] = _ratio(np.nansum(k_eff * stock, axis=-1), stock.sum(axis=-1))
    s = soc[rows]
    comp["xi_system"][rows] = environmental_scalar_system(xi, s, dz)
    diag = np.broadcast_to(m.bands[1], (n, dz.size))[rows]
    comp["v_system"][rows] = vertical_transport_system(diag, s, dz)
    inp = np.broadcast_to(m.inputs, (n, 4, dz.size))[rows].sum(axis=-2)
    comp["b_system"][rows] = input_allocation_index(inp, dz)
    return soc, comp, valid, reason, m.grid


def _ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    num, den = np.broadcast_arrays(np.asarray(num, float), np.asarray(den, float))
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out
