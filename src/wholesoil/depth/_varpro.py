"""Batched separable least squares with one nonlinear parameter (variable projection).

Every depth function in :mod:`wholesoil.depth` has the form

    y ≈ f0(θ; d) + B(θ; d) · c

with a single nonlinear parameter θ and ``m ∈ {0, 1, 2}`` linear coefficients ``c``. For a given θ
the coefficients are an ordinary linear least-squares solution, so they can be *profiled out*
(Golub & Pereyra 1973, "variable projection"), leaving a one-dimensional problem in θ. This module
solves that problem for many profiles at once, with no Python loop over profiles:

1. the profiled residual sum of squares is evaluated on a grid of θ for all profiles;
2. the best grid point of each profile brackets the minimum, refined by golden-section search;
3. a Gauss–Newton polish with Kaufman's (1975) reduced Jacobian ``(I − P_B) ∂(f0 + B c)/∂θ``,
   with step halving, takes θ to machine precision on noiseless data.

The reduced Jacobian also gives the standard error of θ: for the full Jacobian ``J = [B, J_θ]``,
``[(JᵀJ)⁻¹]_θθ = 1 / ‖(I − P_B) J_θ‖²`` (Schur complement), so ``se(θ) = s / ‖J_red‖`` with
``s² = SSR / (n − m − 1)``.

Inputs are padded ``(P, K)`` arrays; a ``(P, K)`` boolean mask marks the valid points.

References
----------
Golub, G. H. & Pereyra, V. (1973). The differentiation of pseudo-inverses and nonlinear least
squares problems whose variables separate. SIAM J. Numer. Anal. 10, 413–432.
https://doi.org/10.1137/0710036

Kaufman, L. (1975). A variable projection method for solving separable nonlinear least squares
problems. BIT 15, 49–57. https://doi.org/10.1007/BF01932995
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

#: basis(theta (P,), depth (P, K)) -> (f0 (P, K), df0 (P, K), B (P, K, m), dB (P, K, m))
Basis = Callable[
    [NDArray[np.float64], NDArray[np.float64]],
    tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]],
]

_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0
#: Profiles per block when evaluating the θ grid (bounds memory at ~block·grid·K floats).
_BLOCK = 8192


@dataclass(frozen=True)
class VarProResult:
    """Per-profile solution of a separable least-squares problem (arrays of length P)."""

    theta: NDArray[np.float64]
    theta_se: NDArray[np.float64]
    coef: NDArray[np.float64]  # (P, m)
    ssr: NDArray[np.float64]
    n: NDArray[np.int64]
    converged: NDArray[np.bool_]
    at_bound: NDArray[np.bool_]


def _linear_solve(
    B: NDArray[np.float64], y: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Batched least squares ``B c ≈ y`` for m ≤ 2; returns (c (P, m), B c (P, K)).

    Masked points must already be zero in both ``B`` and ``y``.
    """
    P, K, m = B.shape
    if m == 0:
        return np.zeros((P, 0)), np.zeros((P, K))
    if m == 1:
        b = B[..., 0]
        bb = np.sum(b * b, axis=1)
        ok = bb > 0
        c = np.where(ok, np.sum(b * y, axis=1) / np.where(ok, bb, 1.0), 0.0)
        return c[:, None], b * c[:, None]
    if m != 2:
        # internal precondition: the depth families have at most two linear coefficients
        raise ValueError(f"variable projection supports 0, 1 or 2 linear coefficients, got {m}")
    # m = 2: batched QR by Gram–Schmidt with one re-orthogonalization (columns can be nearly
    # collinear, e.g. d and (1 − e^{−kd})/k at small k); much faster than a batched SVD.
    b1, b2 = B[..., 0], B[..., 1]
    r11 = np.sqrt(np.sum(b1 * b1, axis=1))
    ok1 = r11 > 0
    q1 = b1 / np.where(ok1, r11, 1.0)[:, None]
    r12 = np.sum(q1 * b2, axis=1)
    v = b2 - r12[:, None] * q1
    s = np.sum(q1 * v, axis=1)
    v = v - s[:, None] * q1
    r12 = r12 + s
    r22 = np.sqrt(np.sum(v * v, axis=1))
    ok2 = r22 > 1e-13 * np.sqrt(np.sum(b2 * b2, axis=1))
    q2 = np.where(ok2[:, None], v / np.where(ok2, r22, 1.0)[:, None], 0.0)
    z1 = np.sum(q1 * y, axis=1)
    z2 = np.sum(q2 * y, axis=1)
    c2 = np.where(ok2, z2 / np.where(ok2, r22, 1.0), 0.0)
    c1 = np.where(ok1, (z1 - r12 * c2) / np.where(ok1, r11, 1.0), 0.0)
    c = np.stack([c1, c2], axis=1)
    return c, q1 * z1[:, None] + q2 * z2[:, None]


def _evaluate(
    basis: Basis,
    theta: NDArray[np.float64],
    depth: NDArray[np.float64],
    y: NDArray[np.float64],
    mask: NDArray[np.bool_],
    want_jacobian: bool = False,
) -> tuple[NDArray[np.float64], ...]:
    """Profiled fit at ``theta``: returns (ssr, coef, residual[, reduced Jacobian])."""
    f0, df0, B, dB = basis(theta, depth)
    w = mask.astype(float)
    f0 = f0 * w
    B = B * w[..., None]
    target = (y - f0) * w
    c, fitted = _linear_solve(B, target)
    r = target - fitted
    ssr = np.sum(r * r, axis=1)
    if not want_jacobian:
        return ssr, c, r
    J = (df0 + np.einsum("pkm,pm->pk", dB, c)) * w
    _, proj = _linear_solve(B, J)
    return ssr, c, r, J - proj


def fit_separable(
    basis: Basis,
    depth: NDArray[np.float64],
    y: NDArray[np.float64],
    mask: NDArray[np.bool_],
    grid: NDArray[np.float64],
    n_linear: int,
    golden_iter: int = 60,
    newton_iter: int = 30,
) -> VarProResult:
    """Fit ``y ≈ f0(θ) + B(θ) c`` for every profile (row) at once.

    Parameters
    ----------
    basis : callable
        ``basis(theta, depth) -> (f0, df0, B, dB)``, vectorized over profiles.
    depth, y : ndarray, shape (P, K)
        Abscissa and observations, padded; padded entries may hold any finite value.
    mask : ndarray of bool, shape (P, K)
        Valid points.
    grid : ndarray, shape (G,)
        Increasing θ grid that brackets the admissible range; its ends are the bounds.
    n_linear : int
        Number of linear coefficients ``m``.
    golden_iter, newton_iter : int
        Iterations of the golden-section search and of the Gauss–Newton polish.
    """
    depth = np.where(mask, depth, 1.0)
    y = np.where(mask, y, 0.0)
    P = depth.shape[0]
    n = mask.sum(axis=1).astype(np.int64)
    G = grid.size
    lo_b, hi_b = float(grid[0]), float(grid[-1])

    # 1. grid search, in blocks of profiles to bound memory
    best = np.empty(P, dtype=np.int64)
    for start in range(0, P, _BLOCK):
        sl = slice(start, min(start + _BLOCK, P))
        ssr_grid = np.empty((sl.stop - sl.start, G))
        for g in range(G):
            th = np.full(sl.stop - sl.start, grid[g])
            ssr_grid[:, g] = _evaluate(basis, th, depth[sl], y[sl], mask[sl])[0]
        best[sl] = np.argmin(np.where(np.isfinite(ssr_grid), ssr_grid, np.inf), axis=1)

    # 2. golden section inside the bracket around the best grid point
    a = grid[np.maximum(best - 1, 0)].astype(float)
    b = grid[np.minimum(best + 1, G - 1)].astype(float)
    x1 = b - _GOLDEN * (b - a)
    x2 = a + _GOLDEN * (b - a)
    f1 = _evaluate(basis, x1, depth, y, mask)[0]
    f2 = _evaluate(basis, x2, depth, y, mask)[0]
    for _ in range(golden_iter):
        left = f1 <= f2  # minimum in [a, x2]
        b = np.where(left, x2, b)
        a = np.where(left, a, x1)
        new_x1 = b - _GOLDEN * (b - a)
        new_x2 = a + _GOLDEN * (b - a)
        x_new = np.where(left, new_x1, new_x2)
        f_new = _evaluate(basis, x_new, depth, y, mask)[0]
        # left: (x1, x2) ← (new x1, old x1); right: (x1, x2) ← (old x2, new x2)
        x1, x2, f1, f2 = (
            np.where(left, x_new, x2),
            np.where(left, x1, x_new),
            np.where(left, f_new, f2),
            np.where(left, f1, f_new),
        )
    theta = np.where(f1 <= f2, x1, x2)

    # 3. Gauss–Newton polish with Kaufman's reduced Jacobian and step halving
    ssr, c, r, Jr = _evaluate(basis, theta, depth, y, mask, want_jacobian=True)
    step = np.zeros(P)
    for _ in range(newton_iter):
        jj = np.sum(Jr * Jr, axis=1)
        ok = jj > 0
        step = np.where(ok, np.sum(Jr * r, axis=1) / np.where(ok, jj, 1.0), 0.0)
        trial = np.clip(theta + step, lo_b, hi_b)
        accepted = np.zeros(P, dtype=bool)
        for _halving in range(8):
            ssr_t = _evaluate(basis, trial, depth, y, mask)[0]
            good = (ssr_t <= ssr) & ~accepted
            theta = np.where(good, trial, theta)
            accepted |= good
            if accepted.all():
                break
            trial = np.clip(theta + 0.5 * (trial - theta), lo_b, hi_b)
        step = np.where(accepted, step, 0.0)
        ssr, c, r, Jr = _evaluate(basis, theta, depth, y, mask, want_jacobian=True)
        if np.all(np.abs(step) <= 1e-14 * np.maximum(np.abs(theta), 1e-3)):
            break

    jj = np.sum(Jr * Jr, axis=1)
    dof = n - n_linear - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = np.where(dof > 0, ssr / np.maximum(dof, 1), np.nan)
        se = np.where((dof > 0) & (jj > 0), np.sqrt(s2 / np.where(jj > 0, jj, 1.0)), np.nan)
    width = hi_b - lo_b
    at_bound = (theta <= lo_b + 1e-9 * width) | (theta >= hi_b - 1e-9 * width)
    converged = (
        np.isfinite(theta)
        & np.isfinite(ssr)
        & ~at_bound
        & (np.abs(step) <= 1e-8 * np.maximum(np.abs(theta), 1e-3))
    )
    return VarProResult(
        theta=theta, theta_se=se, coef=c, ssr=ssr, n=n, converged=converged, at_bound=at_bound
    )
