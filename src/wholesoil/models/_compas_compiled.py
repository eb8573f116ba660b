"""Compiled COMPAS steady states for samplers: one row (parameter set at a site) at a time.

The same arithmetic as :meth:`wholesoil.models._compas.COMPAS.steady_state` without soil mixing
(the paper's immobile soil pools) and with the nitrogen scalar on the L1–L3 rates, written as
loops over layers for each row and compiled with numba: the time-mean environmental modifier ξ
(ξ_T·ξ_W·ξ_O averaged over months, times ξ_D), the input profile B·I, the mixing operator V, the
litter steady state (CWD directly, L1–L3 by the Thomas algorithm with the CWD source), the soil
inputs u_S and the closed form of Tao et al. (EarthArXiv) Eq. 9 layer by layer, and whether the
row has a positive steady state (the rule of :attr:`COMPASSteadyState.valid`). The reasons for
an invalid row are left to the numpy path.

A sampler evaluates a few hundred rows per step; numpy then spends most of its time in the
overhead of many small array operations (and in ξ over months × layers for every row), which this
path does not have (measured in ``benchmarks/bench_mcmc.py --model compas``).

numba is imported here only: the module is loaded by the kernel when the calibration first needs
it, so that no other command pays its import. ``WHOLESOIL_NUMBA=0`` in the environment turns the
compiled path off (the numpy path gives the same states up to rounding; the tests check both).

References
----------
.. [1] Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U.,
   Jiang, L., Huang, X. and Luo, Y. Convergence in simulating global soil organic carbon by
   structurally different models after data assimilation. EarthArXiv preprint (not peer
   reviewed), §2.3, Eqs. 2, 6–9.
.. [2] Patankar, S. V. (1980). Numerical Heat Transfer and Fluid Flow. Hemisphere, Washington
   (finite volumes with harmonic-mean interface diffusivity).
"""

from __future__ import annotations

import math
import os

import numpy as np
from numba import njit

from wholesoil.models._clm5_compiled import input_profile, mixing_bands, month_mean_xi

#: Columns of the parameter matrix (R, 23): Tao et al. (EarthArXiv) Supplementary Table 2 order
#: (that of ``COMPAS_PARAMETERS``).
COLUMNS = ("cue_doc", "cue_ml", "cue_cl_ll", "km_assim", "tau_assim", "tau_decom", "km_decom",
           "tau_enz_prod", "tau_ml", "tau_cwd", "tau_cl_ll", "tau_enz_decay", "tau_mic",
           "a_soc_mic", "a_cl_cwd", "a_doc_ml", "a_doc_cl", "a_soc_ll", "w_scaling", "q10", "cryo",
           "diffus", "b")
(_CUE_DOC, _CUE_ML, _CUE_CL_LL, _KM_ASSIM, _TAU_ASSIM, _TAU_DECOM, _KM_DECOM, _TAU_ENZ_PROD,
 _TAU_ML, _TAU_CWD, _TAU_CL_LL, _TAU_ENZ_DECAY, _TAU_MIC, _A_SOC_MIC, _A_CL_CWD, _A_DOC_ML,
 _A_DOC_CL, _A_SOC_LL, _W_SCALING, _Q10, _CRYO, _DIFFUS, _B) = range(len(COLUMNS))
#: Pools: CWD, L1–L3, DOC, MIC, ENZ, mSOC (Tao et al. (EarthArXiv) Eq. 6 ordering).
N_POOLS = 8


def enabled() -> bool:
    """Whether the compiled path is on (``WHOLESOIL_NUMBA`` unset or not ``0``)."""
    return os.environ.get("WHOLESOIL_NUMBA", "1") != "0"


@njit(cache=True, error_model="numpy", nogil=True)
def steady_states(site, par, t_exp, w_base, xi_o, has_o, xi_d, xi_n, has_n,
                  npp, leaf, share, mask, surface, d_bio, d_cryo, z_top_cm, z_bottom_cm, dz,
                  w_int, dzn, out, valid, raw=False):
    """Steady states ``out`` (R, 8, n) [g C m⁻³] and ``valid`` (R,) of R rows.

    Invalid rows (no finite, non-negative litter state, or a layer with soil inputs where ξ = 0
    or either denominator of Eq. 9a/9d is not positive) get NaN pools and ``valid = False``.
    With ``raw``, rows whose only failure is a denominator of Eq. 9a/9d that is not positive
    keep the closed form's values (negative, or infinite where a denominator is 0), as
    ``matrix_fun.m`` of ``phxtao/PRODA_MIC`` computes them; ``valid`` is still False.

    Parameters (all float64 unless said; R rows, S sites, M months (1 for a time mean), n layers)
    ----------
    site : (R,) int — each row's site.
    par : (R, 23) — the parameters in the order of :data:`COLUMNS`.
    t_exp, w_base, xi_o : (S, M, n) — (T − 25)/10, the water term before scaling, ξ_O.
    has_o, has_n : bool — whether ξ_O and ξ_N apply.
    xi_d : (n,) — ξ_D = exp(−z/z_τ).
    xi_n : (S, n) — ξ_N on the L1–L3 rates.
    npp, leaf : (S,); share : (S, 4) — NPP [g C m⁻² yr⁻¹], the leaf share of the input, and
        the shares of CWD and L1–L3.
    mask, surface, d_bio, d_cryo : (S, n) — input layers (1/0), the surface input profile
        [m⁻¹], the bioturbation and cryoturbation diffusivity patterns.
    z_top_cm, z_bottom_cm, dz : (n,); w_int, dzn : (n − 1,) — the grid; the share of the node
        distance in the lower layer and the node distances.
    """
    R = site.shape[0]
    n = dz.shape[0]
    xi = np.empty(n)
    lo = np.empty(n)
    dg = np.empty(n)
    up = np.empty(n)
    prof = np.empty(n)
    r = np.empty((4, n))
    c = np.empty(n)
    for i in range(R):
        s = site[i]
        p = par[i]
        lnq = math.log(p[_Q10])
        # ξ: mean over months of ξ_T·ξ_W (·ξ_O), times the depth term; V; the input profile
        # (the helpers of the CLM5 kernel: one vertical frame)
        month_mean_xi(s, lnq, p[_W_SCALING], t_exp, w_base, xi_o, has_o, xi)
        for j in range(n):
            xi[j] = xi[j] * xi_d[j]
        mixing_bands(s, p[_DIFFUS], p[_CRYO], d_bio, d_cryo, w_int, dzn, dz, lo, dg, up)
        input_profile(s, p[_B], mask, surface, leaf, z_top_cm, z_bottom_cm, dz, prof)
        # litter rates k·ξ (·ξ_N on L1–L3)
        k_cwd, k_ml, k_cl = 1.0 / p[_TAU_CWD], 1.0 / p[_TAU_ML], 1.0 / p[_TAU_CL_LL]
        for j in range(n):
            r[0, j] = k_cwd * xi[j]
            r1 = k_ml * xi[j]
            r23 = k_cl * xi[j]
            if has_n:
                r1 *= xi_n[s, j]
                r23 *= xi_n[s, j]
            r[1, j] = r1
            r[2, j] = r23
            r[3, j] = r23
        ok = True
        soft = False  # a denominator of Eq. 9a/9d not positive (the closed form still exists)
        # CWD: not mixed, no donors; its flux k·ξ·CWD is its input
        for j in range(n):
            b0 = npp[s] * share[s, 0] * prof[j]
            out[i, 0, j] = b0 / r[0, j] if b0 > 0.0 else 0.0
        # L1–L3: tridiagonal (k·ξ + V)·L = B·I (+ a_CL,CWD or 1 − a_CL,CWD of the CWD flux)
        a = p[_A_CL_CWD]
        for q in range(1, 4):
            for j in range(n):
                b0 = npp[s] * share[s, 0] * prof[j]
                cwd_flux = b0 if b0 > 0.0 else 0.0
                rj = npp[s] * share[s, q] * prof[j]
                if q == 2:
                    rj = rj + a * cwd_flux
                elif q == 3:
                    rj = rj + (1.0 - a) * cwd_flux
                dj = dg[j] + r[q, j]
                if j > 0:
                    inv = 1.0 / (dj - lo[j] * c[j - 1])
                    out[i, q, j] = (rj - lo[j] * out[i, q, j - 1]) * inv
                else:
                    inv = 1.0 / dj
                    out[i, q, j] = rj * inv
                c[j] = up[j] * inv
            for j in range(n - 2, -1, -1):
                out[i, q, j] -= c[j] * out[i, q, j + 1]
        for q in range(4):
            for j in range(n):
                x = out[i, q, j]
                if not (math.isfinite(x) and x >= 0.0):
                    ok = False
        # soil: inputs u_S and the closed form of Eq. 9 layer by layer
        cue = p[_CUE_DOC]
        p1, p2, p3 = p[_A_DOC_ML], p[_A_DOC_CL], p[_A_SOC_LL]
        cue1, cue2 = p[_CUE_ML], p[_CUE_CL_LL]
        k_mic = 1.0 / p[_TAU_MIC]
        k_prod = 1.0 / p[_TAU_ENZ_PROD]
        k_turn = k_mic + k_prod
        enz_ratio = k_prod / (1.0 / p[_TAU_ENZ_DECAY])
        a_k = p[_A_SOC_MIC] * k_mic
        v_decom, v_assim = 1.0 / p[_TAU_DECOM], 1.0 / p[_TAU_ASSIM]
        km_decom, km_assim = p[_KM_DECOM], p[_KM_ASSIM]
        for j in range(n):
            if not ok:
                break
            f1 = r[1, j] * out[i, 1, j]
            f2 = r[2, j] * out[i, 2, j]
            f3 = r[3, j] * out[i, 3, j]
            i_doc = p1 * f1 + p2 * f2
            i_mic = (1 - p1) * cue1 * f1 + (1 - p2) * cue2 * f2 + (1 - p3) * cue2 * f3
            i_soc = p3 * f3
            i_tot = i_doc + i_mic + i_soc
            if not (i_tot > 0.0):  # no soil input: the layer holds no soil carbon
                for q in range(4, 8):
                    out[i, q, j] = 0.0
                continue
            x = xi[j]
            mic = (i_mic + cue * (i_doc + i_soc)) / ((1 - cue) * k_turn * x)  # Eq. 9b
            enz = enz_ratio * mic  # Eq. 9c
            supply = i_soc + a_k * x * mic
            den_soc = v_decom * x * enz - supply
            uptake = i_tot / (1 - cue)
            den_doc = v_assim * x * mic - uptake
            if not x > 0.0:
                ok = False
                break
            if not (den_soc > 0.0 and den_doc > 0.0):
                soft = True
            out[i, 4, j] = uptake * km_assim * x / den_doc  # Eq. 9a
            out[i, 5, j] = mic
            out[i, 6, j] = enz
            out[i, 7, j] = supply * km_decom * x / den_soc  # Eq. 9d
        valid[i] = ok and not soft
        if not ok or (soft and not raw):
            for q in range(N_POOLS):
                for j in range(n):
                    out[i, q, j] = np.nan
    return out, valid


def warm_up() -> None:
    """Compile (or load the cached compiled code) with a one-row, one-layer call."""
    one = np.ones(1)
    z = np.zeros(1)
    par = np.full((1, len(COLUMNS)), 0.5)
    steady_states(np.zeros(1, np.intp), par, np.zeros((1, 1, 1)), np.ones((1, 1, 1)),
                  np.ones((1, 1, 1)), False, one, np.ones((1, 1)), False, one, z,
                  np.full((1, 4), 0.25), np.ones((1, 1), np.bool_), np.ones((1, 1)),
                  np.zeros((1, 1)), np.zeros((1, 1)), z, one, one, np.zeros(0), np.zeros(0),
                  np.empty((1, N_POOLS, 1)), np.empty(1, np.bool_), False)
