"""Compiled observation side of the calibration's log target: model SOC to the observation
depths by PCHIP, then PRODA's cost (CLM5 or COMPAS) or the Gaussian likelihood, row by row.

The same arithmetic as :func:`wholesoil.models._observe.density_at_depths` followed by
:func:`~wholesoil.assimilation.proda_clm5_cost`, :func:`~wholesoil.assimilation.proda_compas_cost`
or :func:`~wholesoil.assimilation.gaussian_loglik` (Tao et al. (EarthArXiv) §2.6; the published
PRODA code's ``interp1(…, 'pchip')`` and cost functions), fed by a compiled steady-state kernel
(:mod:`wholesoil.models._clm5_compiled`, :mod:`wholesoil.models._compas_compiled`): one
compiled pass per step of the sampler instead of some forty small numpy operations. numba is
imported here only, when a calibration first needs it.

References
----------
.. [1] Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U.,
   Jiang, L., Huang, X. and Luo, Y. Convergence in simulating global soil organic carbon by
   structurally different models after data assimilation. EarthArXiv preprint (not peer
   reviewed), §2.6.
.. [2] Fritsch, F. N. and Butland, J. (1984). A method for constructing local monotone piecewise
   cubic interpolants. SIAM J. Sci. Stat. Comput. 5(2), 300–304. doi:10.1137/0905021
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: Cost kinds of :func:`soc_log_targets`.
PRODA_CLM5, GAUSSIAN, PRODA_COMPAS = 0, 1, 2


@njit(cache=True, error_model="numpy", nogil=True)
def _pchip_slopes(x, y, d):
    """PCHIP node slopes ``d`` of ``y`` at nodes ``x`` (Fritsch–Carlson with Brodlie's weighted
    harmonic mean inside, the three-point shape-preserving rule at the ends) [2]_: the same
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
def soc_log_targets(states, pool_lo, pool_hi, row_ok, mic_pool, min_ratio, dz, prof, x, q, obs,
                    w, sd, kind, scale, lt, negate=False):
    """Log targets ``lt`` (R,) of the rows' steady states against their profiles' observations.

    The SOC density (pools ``pool_lo`` … ``pool_hi − 1`` of ``states`` (R, pools, n),
    [g C m⁻³]: CLM5 S1–S3, COMPAS DOC + MIC + ENZ + mSOC) is interpolated by PCHIP from the
    nodes ``x`` (n,) [m] to the observation depths ``q`` (P, L) [m] of the row's profile
    ``prof`` (R,), as :func:`wholesoil.models._observe.density_at_depths`; over the observed
    layers (``obs`` (P, L) not NaN), with m the model and o the observation:

    * ``kind`` 0, PRODA's CLM5 cost: lt = −Σ w·(m − o)²/(2·sd²), sd = 0.6·o (weights ``w``);
    * ``kind`` 1, Gaussian: lt = −Σ [(m − o)²/(2·sd²) + log sd + ½ log 2π];
    * ``kind`` 2, PRODA's COMPAS cost: lt = −scale·(1 − NSE), NSE = 1 − Σ(o − m)²/Σ(o − ō)²
      (−∞ where the NSE is undefined: fewer than 2 layers or no variance).

    −∞ where ``row_ok`` is False, where the state is not finite, where soil C (Σ dz·density)
    is below ``min_ratio`` × microbial C (pool ``mic_pool``, if ≥ 0; PRODA_MIC's rule for
    COMPAS), or where an interpolated value at an observed layer is not finite. With
    ``negate``, a finite state with a negative pool (any of ``states``' pools) or failing the
    ``min_ratio`` rule is scored instead, its density replaced by −|density| in every layer:
    ``matrix_fun.m`` of ``phxtao/PRODA_MIC`` negates such states and its sampler scores them
    with the cost like any other.
    """
    R = states.shape[0]
    n = x.shape[0]
    L = q.shape[1]
    y = np.empty(n)
    d = np.empty(n)
    half_log_2pi = 0.5 * math.log(2.0 * math.pi)
    for i in range(R):
        if not row_ok[i]:
            lt[i] = -np.inf
            continue
        p = prof[i]
        finite = True
        total = 0.0
        mic = 0.0
        for j in range(n):
            v = states[i, pool_lo, j]
            for k in range(pool_lo + 1, pool_hi):
                v += states[i, k, j]
            y[j] = v
            if not np.isfinite(v):
                finite = False
            total += v * dz[j]
            if mic_pool >= 0:
                mic += states[i, mic_pool, j] * dz[j]
        if not finite:
            lt[i] = -np.inf
            continue
        if mic_pool >= 0 and not total >= min_ratio * mic:
            if not negate:
                lt[i] = -np.inf
                continue
            bad = True
        else:
            bad = False
            if negate:
                for k in range(states.shape[1]):
                    for j in range(n):
                        if states[i, k, j] < 0.0:
                            bad = True
        if bad:
            for j in range(n):
                y[j] = -abs(y[j])
        _pchip_slopes(x, y, d)
        acc = 0.0
        nobs = 0
        mean = 0.0
        if kind == 2:
            for m_ in range(L):
                if not np.isnan(obs[p, m_]):
                    mean += obs[p, m_]
                    nobs += 1
            mean = mean / max(nobs, 1)
        ss_tot = 0.0
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
                acc = np.inf
                break
            if kind == 0:
                acc += w[p, m_] * (mod - o) ** 2 / (2.0 * sd[p, m_] ** 2)
            elif kind == 1:
                s = sd[p, m_]
                acc += (mod - o) ** 2 / (2.0 * s**2) + math.log(s) + half_log_2pi
            else:
                acc += (o - mod) ** 2
                ss_tot += (o - mean) ** 2
        if kind == 2:
            if nobs < 2 or not ss_tot > 0 or not np.isfinite(acc):
                lt[i] = -np.inf
                continue
            e = 1.0 - acc / ss_tot
            lt[i] = -(scale * (1.0 - e))
        else:
            lt[i] = -acc if not np.isnan(acc) else -np.inf
    return lt
