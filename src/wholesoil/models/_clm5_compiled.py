"""Compiled CLM5 steady states for samplers: one row (parameter set at a site) at a time.

The same arithmetic as the numpy path of :class:`wholesoil.models._clm5._SteadyStateKernel`
(Tao et al. (EarthArXiv) Eqs. 2–5: the environmental modifier ξ, the input profile, the
mixing operator V, and the steady state of (I − A)·K·ξ + V solved pool group by pool group —
CWD directly, the three litter pools by the Thomas algorithm, the three SOC pools by block
Thomas with 3 × 3 blocks inverted by the scaled cofactor rule), written as loops over layers
for each row and compiled with numba. A sampler evaluates a few hundred rows per step; numpy
then spends most of its time in the overhead of ~300 small array operations per step, which
this path does not have (measured in ``benchmarks/bench_mcmc.py``).

numba is imported here only: the module is loaded by the kernel when the calibration first
needs it, so that no other command pays its import. ``WHOLESOIL_NUMBA=0`` in the environment
turns the compiled path off (the numpy path gives the same states up to rounding; the tests
check both).

References
----------
.. [1] Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U.,
   Jiang, L., Huang, X. and Luo, Y. Convergence in simulating global soil organic carbon by
   structurally different models after data assimilation. EarthArXiv preprint (not peer
   reviewed), Eqs. 2–5.
.. [2] Patankar, S. V. (1980). Numerical Heat Transfer and Fluid Flow. Hemisphere, Washington
   (finite volumes with harmonic-mean interface diffusivity).
"""

from __future__ import annotations

import math
import os

import numpy as np
from numba import njit

#: Pools: CWD, litter 1–3, SOC 1–3 (Tao et al. (EarthArXiv) Eq. 5 ordering).
N_POOLS = 7


def enabled() -> bool:
    """Whether the compiled path is on (``WHOLESOIL_NUMBA`` unset or not ``0``)."""
    return os.environ.get("WHOLESOIL_NUMBA", "1") != "0"


@njit(cache=True, error_model="numpy", nogil=True)
def month_mean_xi(s, lnq, w_scale, t_exp, w_base, xi_o, has_o, out):
    """``out`` (n,) = mean over months of ξ_T·ξ_W (·ξ_O) at site ``s``: ξ_T = exp(ln q10·t_exp),
    ξ_W = min(w_scale·w_base, 1) (Tao et al. (EarthArXiv) Eq. 2, without the depth term).
    Shared by the CLM5 and COMPAS kernels (one vertical frame). numba's cache does not see
    edits here from the callers' modules: clear ``__pycache__`` after changing it."""
    M = t_exp.shape[1]
    for j in range(out.shape[0]):
        acc = 0.0
        for m in range(M):
            v = math.exp(t_exp[s, m, j] * lnq)
            wt = w_base[s, m, j] * w_scale
            v *= wt if wt < 1.0 else 1.0
            if has_o:
                v *= xi_o[s, m, j]
            acc += v
        out[j] = acc / M if M > 1 else acc


@njit(cache=True, error_model="numpy", nogil=True)
def mixing_bands(s, diffus, cryo, d_bio, d_cryo, w_int, dzn, dz, lo, dg, up):
    """Bands of the mixing operator V at site ``s`` (D = diffus·D_bio + cryo·D_cryo; harmonic-
    mean interface conductances, zero-flux ends [2]_), as
    :func:`wholesoil.models._transport.mixing_operator`."""
    n = dz.shape[0]
    g_above = 0.0
    for j in range(n):
        if j < n - 1:
            da = diffus * d_bio[s, j] + cryo * d_cryo[s, j]
            db = diffus * d_bio[s, j + 1] + cryo * d_cryo[s, j + 1]
            if da > 0.0 and db > 0.0:
                g_below = (1.0 / ((1.0 - w_int[j]) / da + w_int[j] / db)) / dzn[j]
            else:
                g_below = 0.0
        else:
            g_below = 0.0
        dg[j] = (g_above + g_below) / dz[j]
        lo[j] = -g_above / dz[j]
        up[j] = -g_below / dz[j]
        g_above = g_below


@njit(cache=True, error_model="numpy", nogil=True)
def input_profile(s, b, mask, surface, leaf, z_top_cm, z_bottom_cm, dz, prof):
    """Input profile ``prof`` (n,) [m⁻¹] at site ``s``: the leaf share on the surface profile,
    the rest by roots b^z_top − b^z_bottom over the input layers, renormalised (all in the top
    layer where they sum to 0), as :func:`wholesoil.models._allocation.normalized_profile`."""
    n = dz.shape[0]
    total = 0.0
    for j in range(n):
        v = b ** z_top_cm[j] - b ** z_bottom_cm[j] if mask[s, j] else 0.0
        prof[j] = v
        total += v
    for j in range(n):
        if total > 0.0:
            root = prof[j] / total / dz[j]
        else:
            root = (1.0 if j == 0 else 0.0) / dz[j]
        prof[j] = leaf[s] * surface[s, j] + (1.0 - leaf[s]) * root


@njit(cache=True, error_model="numpy", nogil=True)
def steady_states(site, q10, w_scale, efold, century, diffus, cryo, b, k, tr,
                  t_exp, w_base, xi_o, has_o, xi_n, has_n, npp, leaf, share, mask, surface,
                  d_bio, d_cryo, z_node, z_top_cm, z_bottom_cm, dz, w_int, dzn, out):
    """Steady states ``out`` (R, 7, n) [g C m⁻³] of R rows.

    Parameters (all float64 unless said; R rows, S sites, M months (1 for a time mean), n layers)
    ----------
    site : (R,) int — each row's site.
    q10, w_scale, efold, century, diffus, cryo, b : (R,) — Q10, water scaling, e-folding depth
        [m], the CENTURY normalization factor of ξ_T (1 when off), bioturbation and
        cryoturbation diffusivities [m² yr⁻¹], root-profile parameter b.
    k : (R, 7) — turnover rates 1/τ [yr⁻¹] (CWD, L1, L2, L3, S1, S2, S3).
    tr : (R, 7, 7) — transfer fractions (receiver, donor).
    t_exp, w_base, xi_o : (S, M, n) — (T − 25)/10, the water term before scaling, ξ_O.
    has_o, has_n : bool — whether ξ_O and ξ_N apply.
    xi_n : (S, n) — ξ_N on the litter rates.
    npp, leaf : (S,); share : (S, 4) — NPP [g C m⁻² yr⁻¹], the leaf share of the input, and
        the shares of CWD and litter 1–3.
    mask, surface, d_bio, d_cryo : (S, n) — input layers (1/0), the surface input profile
        [m⁻¹], the bioturbation and cryoturbation diffusivity patterns.
    z_node, z_top_cm, z_bottom_cm, dz : (n,); w_int, dzn : (n − 1,) — the grid; the share of
        the node distance in the lower layer and the node distances.
    """
    R = site.shape[0]
    n = z_node.shape[0]
    xi = np.empty(n)
    lo = np.empty(n)
    dg = np.empty(n)
    up = np.empty(n)
    prof = np.empty(n)
    r = np.empty((N_POOLS, n))
    c = np.empty(n)
    G = np.empty((n, 3, 3))
    y = np.empty((n, 3))
    D = np.empty((3, 3))
    Dt = np.empty((3, 3))
    C = np.empty((3, 3))
    s3 = np.empty(3)
    rr = np.empty(3)
    for i in range(R):
        s = site[i]
        lnq = math.log(q10[i])
        # ξ: mean over months of ξ_T·ξ_W (·ξ_O), times the depth term (and CENTURY's factor)
        month_mean_xi(s, lnq, w_scale[i], t_exp, w_base, xi_o, has_o, xi)
        for j in range(n):
            xi[j] = xi[j] * math.exp(-z_node[j] / efold[i]) * century[i]
        mixing_bands(s, diffus[i], cryo[i], d_bio, d_cryo, w_int, dzn, dz, lo, dg, up)
        input_profile(s, b[i], mask, surface, leaf, z_top_cm, z_bottom_cm, dz, prof)
        # rates K·ξ (ξ_N on the litter pools)
        for p in range(N_POOLS):
            for j in range(n):
                r[p, j] = k[i, p] * xi[j]
        if has_n:
            for p in range(1, 4):
                for j in range(n):
                    r[p, j] *= xi_n[s, j]
        # CWD: not mixed, no donors
        for j in range(n):
            b0 = npp[s] * share[s, 0] * prof[j]
            out[i, 0, j] = b0 / r[0, j]
        # litter: three tridiagonal systems with the CWD source (Thomas)
        for q in range(1, 4):
            for j in range(n):
                dj = r[q, j] + dg[j]
                rj = npp[s] * share[s, q] * prof[j] + tr[i, q, 0] * (r[0, j] * out[i, 0, j])
                if j > 0:
                    dj = dj - lo[j] * c[j - 1]
                    rj = rj - lo[j] * out[i, q, j - 1]
                inv = 1.0 / dj
                c[j] = up[j] * inv
                out[i, q, j] = rj * inv
            for j in range(n - 2, -1, -1):
                out[i, q, j] -= c[j] * out[i, q, j + 1]
        # SOC: block Thomas on 3 × 3 blocks (I − F)·r + V_jj·I, off-diagonal blocks V·I
        for j in range(n):
            for a in range(3):
                for bb in range(3):
                    f = (1.0 if a == bb else 0.0) - tr[i, 4 + a, 4 + bb]
                    D[a, bb] = f * r[4 + bb, j]
                D[a, a] += dg[j]
            for a in range(3):
                v = 0.0
                for q in range(3):
                    v += tr[i, 4 + a, 1 + q] * (r[1 + q, j] * out[i, 1 + q, j])
                rr[a] = v
            if j > 0:
                f = lo[j] * up[j - 1]
                for a in range(3):
                    for bb in range(3):
                        D[a, bb] -= f * G[j - 1, a, bb]
                    rr[a] -= lo[j] * y[j - 1, a]
            for bb in range(3):
                s3[bb] = 1.0 / D[bb, bb]
            for a in range(3):
                for bb in range(3):
                    Dt[a, bb] = D[a, bb] * s3[bb]
            for a in range(3):
                a1, a2 = (a + 1) % 3, (a + 2) % 3
                for bb in range(3):
                    b1, b2 = (bb + 1) % 3, (bb + 2) % 3
                    C[a, bb] = Dt[a1, b1] * Dt[a2, b2] - Dt[a1, b2] * Dt[a2, b1]
            det = Dt[0, 0] * C[0, 0] + Dt[0, 1] * C[0, 1] + Dt[0, 2] * C[0, 2]
            for a in range(3):
                fa = s3[a] / det
                for bb in range(3):
                    G[j, a, bb] = C[bb, a] * fa
            for a in range(3):
                y[j, a] = G[j, a, 0] * rr[0] + G[j, a, 1] * rr[1] + G[j, a, 2] * rr[2]
        for j in range(n - 2, -1, -1):
            u0, u1, u2 = up[j] * y[j + 1, 0], up[j] * y[j + 1, 1], up[j] * y[j + 1, 2]
            for a in range(3):
                y[j, a] -= G[j, a, 0] * u0 + G[j, a, 1] * u1 + G[j, a, 2] * u2
        for a in range(3):
            for j in range(n):
                out[i, 4 + a, j] = y[j, a]
    return out

