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
    M = t_exp.shape[1]
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
        for j in range(n):
            acc = 0.0
            for m in range(M):
                v = math.exp(t_exp[s, m, j] * lnq)
                wt = w_base[s, m, j] * w_scale[i]
                v *= wt if wt < 1.0 else 1.0
                if has_o:
                    v *= xi_o[s, m, j]
                acc += v
            x = acc / M if M > 1 else acc
            x = x * math.exp(-z_node[j] / efold[i])
            xi[j] = x * century[i]
        # mixing operator V: harmonic-mean conductances between layers j and j + 1
        g_above = 0.0
        for j in range(n):
            if j < n - 1:
                da = diffus[i] * d_bio[s, j] + cryo[i] * d_cryo[s, j]
                db = diffus[i] * d_bio[s, j + 1] + cryo[i] * d_cryo[s, j + 1]
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
        # input profile: leaf share at the surface profile, the rest by roots (b^z_top − b^z_bot)
        total = 0.0
        for j in range(n):
            v = b[i] ** z_top_cm[j] - b[i] ** z_bottom_cm[j] if mask[s, j] else 0.0
            prof[j] = v
            total += v
        for j in range(n):
            if total > 0.0:
                root = prof[j] / total / dz[j]
            else:
                root = (1.0 if j == 0 else 0.0) / dz[j]
            prof[j] = leaf[s] * surface[s, j] + (1.0 - leaf[s]) * root
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


def warm_up() -> None:
    """Compile (or load the cached compiled code) with a one-row, one-layer call."""
    one = np.ones(1)
    z = np.zeros(1)
    steady_states(np.zeros(1, np.intp), one * 1.5, one, one, one, one, one, one * 0.9,
                  np.ones((1, N_POOLS)), np.zeros((1, N_POOLS, N_POOLS)), np.zeros((1, 1, 1)),
                  np.ones((1, 1, 1)), np.ones((1, 1, 1)), False, np.ones((1, 1)), False, one,
                  z, np.full((1, 4), 0.25), np.ones((1, 1), np.bool_), np.ones((1, 1)),
                  np.zeros((1, 1)), np.zeros((1, 1)), z, z, one, one, np.zeros(0), np.zeros(0),
                  np.empty((1, N_POOLS, 1)))


@njit(cache=True, error_model="numpy", nogil=True)
def _pchip_slopes(x, y, d):
    """PCHIP node slopes ``d`` of ``y`` at nodes ``x`` (Fritsch–Carlson with Brodlie's weighted
    harmonic mean inside, the three-point shape-preserving rule at the ends): the same
    formulas as :func:`wholesoil.models._observe.pchip_derivatives`."""
    n = x.shape[0]
    if n == 2:
        s = (y[1] - y[0]) / (x[1] - x[0])
        d[0] = s
        d[1] = s
        return
    for k in range(1, n - 1):
        h0, h1 = x[k] - x[k - 1], x[k + 1] - x[k]
        m0, m1 = (y[k] - y[k - 1]) / h0, (y[k + 1] - y[k]) / h1
        if np.sign(m0) * np.sign(m1) > 0:
            w1, w2 = 2.0 * h1 + h0, h1 + 2.0 * h0
            d[k] = (w1 + w2) / (w1 / m0 + w2 / m1)
        else:
            d[k] = 0.0
    for end in range(2):
        if end == 0:
            h0, h1 = x[1] - x[0], x[2] - x[1]
            ma, mb = (y[1] - y[0]) / h0, (y[2] - y[1]) / h1
        else:
            h0, h1 = x[n - 1] - x[n - 2], x[n - 2] - x[n - 3]
            ma, mb = (y[n - 1] - y[n - 2]) / h0, (y[n - 2] - y[n - 3]) / h1
        e = ((2.0 * h0 + h1) * ma - h0 * mb) / (h0 + h1)
        if np.sign(e) != np.sign(ma):
            e = 0.0
        if np.sign(ma) != np.sign(mb) and abs(e) > 3.0 * abs(ma):
            e = 3.0 * ma
        d[0 if end == 0 else n - 1] = e


@njit(cache=True, error_model="numpy", nogil=True)
def soc_log_targets(states, prof, x, q, obs, w, sd, gaussian, lt):
    """Log targets ``lt`` (R,) of the rows' steady states against their profiles' observations.

    The mineral SOC density (S1 + S2 + S3, ``states`` (R, 7, n) [g C m⁻³]) is interpolated by
    PCHIP from the nodes ``x`` (n,) [m] to the observation depths ``q`` (P, L) [m] (NaN-padded)
    of the row's profile ``prof`` (R,), as :func:`wholesoil.models._observe.density_at_depths`;
    then, over the observed layers (``obs`` (P, L) not NaN):

    * PRODA's CLM5 cost (``gaussian`` False): lt = −Σ w·(m − o)²/(2·sd²), with the layer
      weights ``w`` and sd = 0.6·obs (:func:`wholesoil.assimilation.proda_clm5_cost`);
    * Gaussian (``gaussian`` True): lt = −Σ [(m − o)²/(2·sd²) + log sd + ½ log 2π]
      (:func:`wholesoil.assimilation.gaussian_loglik`).

    −∞ where the state or an interpolated value at an observed layer is not finite.
    """
    R = states.shape[0]
    n = x.shape[0]
    L = q.shape[1]
    y = np.empty(n)
    d = np.empty(n)
    half_log_2pi = 0.5 * math.log(2.0 * math.pi)
    for i in range(R):
        p = prof[i]
        finite = True
        for j in range(n):
            v = states[i, 4, j] + states[i, 5, j] + states[i, 6, j]
            y[j] = v
            if not np.isfinite(v):
                finite = False
        # the whole state must be finite (as the numpy path's check of the density)
        if not finite:
            lt[i] = -np.inf
            continue
        _pchip_slopes(x, y, d)
        total = 0.0
        for m_ in range(L):
            o = obs[p, m_]
            if np.isnan(o):
                continue
            qq = q[p, m_]
            k = np.searchsorted(x, qq, side="right") - 1
            k = min(max(k, 0), n - 2)
            h = x[k + 1] - x[k]
            t = (qq - x[k]) / h
            h00 = (1 + 2 * t) * (1 - t) ** 2
            h10 = t * (1 - t) ** 2
            h01 = t**2 * (3 - 2 * t)
            h11 = t**2 * (t - 1)
            mod = h00 * y[k] + h10 * h * d[k] + h01 * y[k + 1] + h11 * h * d[k + 1]
            if not np.isfinite(mod):
                total = np.inf
                break
            s = sd[p, m_]
            if gaussian:
                total += (mod - o) ** 2 / (2.0 * s**2) + math.log(s) + half_log_2pi
            else:
                total += w[p, m_] * (mod - o) ** 2 / (2.0 * s**2)
        lt[i] = -total if not np.isnan(total) else -np.inf
    return lt
