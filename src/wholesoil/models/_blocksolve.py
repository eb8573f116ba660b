"""Batched tridiagonal and block-tridiagonal linear solvers (Thomas and block Thomas).

The process models' operators are tridiagonal in depth (vertical mixing) and, for coupled pools,
block-tridiagonal with small dense blocks (Tao et al. (EarthArXiv) Eq. 2: M = A·ξ·K − V on a
20-layer grid). These routines solve ``(M − shift·I)·x = b`` for many systems at once: every array
carries a leading batch shape ``...`` (sites × parameter sets) and the only Python loop is the sweep
over the ``n`` rows (layers) that *is* the Thomas algorithm; each step is a numpy operation over the
whole batch. The ``shift`` argument lets the same routine give radiocarbon steady states
((M − λI)·x = b, λ = ln 2 / 5730 yr⁻¹) and implicit time steps ((M − I/Δt)·x = b).

Band convention (the same for every routine here): ``lower[..., i]`` is ``M[i, i−1]`` and
``upper[..., i]`` is ``M[i, i+1]``; all three bands have length ``n``, and ``lower[..., 0]`` and
``upper[..., n−1]`` are ignored.

Neither routine pivots. They are exact (to rounding) for the block-diagonally dominant
M-matrices of the carbon models (−M has a positive diagonal, non-positive off-diagonals and
non-negative column sums); for a general matrix use :func:`numpy.linalg.solve` on the dense form
(:func:`tridiagonal_to_dense`, :func:`block_tridiagonal_to_dense`).

References
----------
Thomas, L. H. (1949). Elliptic problems in linear difference equations over a network. Watson
Sci. Comput. Lab. Rept., Columbia University. Block version: Isaacson, E. & Keller, H. B.
(1966). *Analysis of Numerical Methods*, Wiley, §2.3 (block tridiagonal systems).

Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

OffDiagonal = Literal["full", "diagonal"]

__all__ = [
    "OffDiagonal",
    "block_thomas_batch_last",
    "block_tridiagonal_to_dense",
    "inverse_3x3",
    "solve_block_tridiagonal",
    "solve_tridiagonal",
    "thomas_batch_last",
    "tridiagonal_to_dense",
]


def _batch_last(a: np.ndarray, batch: tuple[int, ...], core: int) -> np.ndarray:
    """Broadcast ``a`` to ``batch + core_shape`` and return it as ``core_shape + (N,)``."""
    core_shape = a.shape[a.ndim - core:] if core else ()
    b = np.broadcast_to(a, batch + core_shape).reshape((-1, *core_shape))
    return np.ascontiguousarray(np.moveaxis(b, 0, -1))


def solve_tridiagonal(
    lower: np.ndarray,
    diag: np.ndarray,
    upper: np.ndarray,
    rhs: np.ndarray,
    *,
    shift: float | np.ndarray = 0.0,
) -> np.ndarray:
    """Solve ``(T − shift·I)·x = rhs`` for batched tridiagonal ``T`` (Thomas algorithm).

    Parameters
    ----------
    lower, diag, upper : array (..., n)
        Bands of T: ``lower[..., i] = T[i, i−1]`` (``lower[..., 0]`` ignored), ``diag[..., i] =
        T[i, i]``, ``upper[..., i] = T[i, i+1]`` (``upper[..., n−1]`` ignored). Leading shapes
        broadcast against each other and against ``rhs``.
    rhs : array (..., n)
        Right-hand sides.
    shift : float or array (...)
        Scalar λ subtracted from the diagonal (per batch element if an array).

    Returns
    -------
    x : array (..., n), float64
        The solution; the batch shape is the broadcast of all inputs' leading shapes.

    Notes
    -----
    Forward elimination c'_i = u_i / (d_i − l_i c'_{i−1}), y_i = (r_i − l_i y_{i−1}) /
    (d_i − l_i c'_{i−1}); back substitution x_i = y_i − c'_i x_{i+1} (Thomas 1949). No pivoting:
    stable for diagonally dominant T (a singular pivot gives inf/NaN in that batch element).
    """
    lower, diag, upper, rhs = (np.asarray(a, dtype=float) for a in (lower, diag, upper, rhs))
    n = diag.shape[-1]
    for name, a in (("lower", lower), ("upper", upper), ("rhs", rhs)):
        if a.ndim == 0 or a.shape[-1] != n:
            raise ValueError(f"{name} must have the last axis of length n = {n}; got {a.shape}")
    shift = np.asarray(shift, dtype=float)
    diag = diag - shift[..., None]
    batch = np.broadcast_shapes(*(a.shape[:-1] for a in (lower, diag, upper, rhs)))
    lo, d, up, r = (_batch_last(a, batch, 1) for a in (lower, diag, upper, rhs))
    y = thomas_batch_last(lo, d, up, r)
    return np.moveaxis(y, -1, 0).reshape((*batch, n))


def thomas_batch_last(
    lower: np.ndarray, diag: np.ndarray, upper: np.ndarray, rhs: np.ndarray
) -> np.ndarray:
    """Thomas sweep on batch-last bands (n, N) → x (n, N); the kernel of :func:`solve_tridiagonal`.

    For callers (the process models) that build their operators batch-last already and so skip
    the layout copies. Same band convention; no shift (subtract it from ``diag`` first).
    """
    n = diag.shape[0]
    c = np.empty(np.broadcast_shapes(diag.shape, upper.shape, lower.shape))
    y = np.empty(np.broadcast_shapes(c.shape, rhs.shape))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inv = 1.0 / diag[0]
        c[0] = upper[0] * inv
        y[0] = rhs[0] * inv
        for i in range(1, n):
            inv = 1.0 / (diag[i] - lower[i] * c[i - 1])
            c[i] = upper[i] * inv
            y[i] = (rhs[i] - lower[i] * y[i - 1]) * inv
        for i in range(n - 2, -1, -1):
            y[i] -= c[i] * y[i + 1]
    return y


def inverse_3x3(m: np.ndarray) -> np.ndarray:
    """Inverse of 3 × 3 matrices stored batch-last, written out by cofactors.

    Parameters
    ----------
    m : array (3, 3, N)
        ``m[i, j]`` is entry (i, j) of each of the N matrices.

    Returns
    -------
    array (3, 3, N)
        adj(m) / det(m) (Cramer's rule); a singular matrix gives inf/NaN in its slot.
    """
    a, b, c = m[0, 0], m[0, 1], m[0, 2]
    d, e, f = m[1, 0], m[1, 1], m[1, 2]
    g, h, k = m[2, 0], m[2, 1], m[2, 2]
    out = np.empty_like(m)
    c00 = e * k - f * h
    c01 = f * g - d * k
    c02 = d * h - e * g
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rdet = 1.0 / (a * c00 + b * c01 + c * c02)
    out[0, 0] = c00 * rdet
    out[1, 0] = c01 * rdet
    out[2, 0] = c02 * rdet
    out[0, 1] = (c * h - b * k) * rdet
    out[1, 1] = (a * k - c * g) * rdet
    out[2, 1] = (b * g - a * h) * rdet
    out[0, 2] = (b * f - c * e) * rdet
    out[1, 2] = (c * d - a * f) * rdet
    out[2, 2] = (a * e - b * d) * rdet
    return out


def _inverse(m: np.ndarray) -> np.ndarray:
    """Inverse of (k, k, N) batch-last matrices: closed forms for k ≤ 3, LAPACK otherwise."""
    k = m.shape[0]
    if k == 3:
        return inverse_3x3(m)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if k == 1:
            return 1.0 / m
        if k == 2:
            rdet = 1.0 / (m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0])
            return np.stack(
                [np.stack([m[1, 1], -m[0, 1]]), np.stack([-m[1, 0], m[0, 0]])]
            ) * rdet
    return np.ascontiguousarray(np.moveaxis(np.linalg.inv(np.moveaxis(m, -1, 0)), 0, -1))


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(k, k, N) @ (k, k|·, N) batch-last, as k explicit rank-1 updates."""
    if b.ndim == a.ndim - 1:  # matrix @ vector
        out = a[:, 0] * b[0]
        for j in range(1, a.shape[1]):
            out += a[:, j] * b[j]
        return out
    out = a[:, 0, None] * b[0][None]
    for j in range(1, a.shape[1]):
        out += a[:, j, None] * b[j][None]
    return out


def solve_block_tridiagonal(
    lower: np.ndarray,
    diag: np.ndarray,
    upper: np.ndarray,
    rhs: np.ndarray,
    *,
    shift: float | np.ndarray = 0.0,
    offdiagonal: OffDiagonal = "full",
) -> np.ndarray:
    """Solve ``(M − shift·I)·x = rhs`` for batched block-tridiagonal ``M`` (block Thomas).

    M has ``n`` block rows of ``m × m`` blocks: ``D_i`` on the diagonal, ``L_i = M[i, i−1]``
    and ``U_i = M[i, i+1]`` beside it. The unknown is ordered row-major ``x[..., i, p]``
    (block row i, component p); in the carbon models row i is a layer and p a pool.

    Parameters
    ----------
    lower, upper : array (..., n, m, m) or (..., n, m)
        Off-diagonal blocks, full (``offdiagonal="full"``) or diagonal, given by their
        diagonals (``offdiagonal="diagonal"``: the vertical-mixing case, where a pool only mixes
        with itself). ``lower[..., 0, ...]`` and ``upper[..., n−1, ...]`` are ignored.
    diag : array (..., n, m, m)
        Diagonal blocks.
    rhs : array (..., n, m)
        Right-hand sides.
    shift : float or array (...)
        Scalar λ subtracted from the diagonal of M (per batch element if an array).
    offdiagonal : {"full", "diagonal"}
        How ``lower`` and ``upper`` are stored.

    Returns
    -------
    x : array (..., n, m), float64

    Notes
    -----
    Forward sweep G_i = (D_i − L_i C_{i−1})⁻¹, C_i = G_i U_i, y_i = G_i (r_i − L_i y_{i−1});
    back substitution x_i = y_i − C_i x_{i+1} (Isaacson & Keller 1966, §2.3). The m × m inverses
    are written out (cofactors for m ≤ 3) and evaluated over the whole batch at once, batch axis
    last so every operation runs on contiguous memory. No pivoting across blocks: exact for the
    block-diagonally dominant operators of the carbon models; a singular block gives inf/NaN in
    that batch element.
    """
    if offdiagonal not in ("full", "diagonal"):
        raise ValueError(f"offdiagonal must be 'full' or 'diagonal'; got {offdiagonal!r}")
    lower, diag, upper, rhs = (np.asarray(a, dtype=float) for a in (lower, diag, upper, rhs))
    if diag.ndim < 3 or diag.shape[-1] != diag.shape[-2]:
        raise ValueError(f"diag must have shape (..., n, m, m); got {diag.shape}")
    n, m = diag.shape[-3], diag.shape[-1]
    core_off = (n, m, m) if offdiagonal == "full" else (n, m)
    for name, a in (("lower", lower), ("upper", upper)):
        if a.shape[a.ndim - len(core_off):] != core_off:
            raise ValueError(
                f"{name} must end in shape {core_off} (offdiagonal={offdiagonal!r}); "
                f"got {a.shape}"
            )
    if rhs.shape[-2:] != (n, m):
        raise ValueError(f"rhs must end in shape {(n, m)}; got {rhs.shape}")
    shift = np.asarray(shift, dtype=float)
    if np.any(shift != 0.0):
        diag = diag - shift[..., None, None, None] * np.eye(m)
    ncore = len(core_off)
    batch = np.broadcast_shapes(
        lower.shape[: lower.ndim - ncore], diag.shape[:-3], upper.shape[: upper.ndim - ncore],
        rhs.shape[:-2],
    )
    lo = _batch_last(lower, batch, ncore)
    up = _batch_last(upper, batch, ncore)
    d = _batch_last(diag, batch, 3)
    r = _batch_last(rhs, batch, 2)
    y = block_thomas_batch_last(lo, d, up, r, offdiagonal=offdiagonal)
    return np.moveaxis(y, -1, 0).reshape((*batch, n, m))


def _inverse_entries(D: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    """Inverse of m × m (m ≤ 3) matrices given entry by entry, each entry an (N,) array.

    Written out so every operation runs on one contiguous (N,) array that stays in cache,
    which for m = 3 is several times faster than operating on (3, 3, N) stacks. The columns are
    first scaled by the diagonal, D = D̃·diag(s) with s_b = D_bb, so D̃ has a unit diagonal and
    D⁻¹ = diag(1/s)·adj(D̃)/det(D̃) (Cramer's rule on D̃). For the diagonally dominant blocks of
    the carbon models this keeps det(D̃) in (0, 1] whatever the scale of the rates (ξ of 1e-100
    at depth would otherwise underflow det(D) ~ rate³ to 0).
    """
    m = len(D)
    if m == 1:
        return [[1.0 / D[0][0]]]
    if m == 2:
        s0, s1 = 1.0 / D[0][0], 1.0 / D[1][1]
        b, c = D[0][1] * s1, D[1][0] * s0
        rdet = 1.0 / (1.0 - b * c)
        t0, t1 = rdet * s0, rdet * s1
        return [[t0, -b * t0], [-c * t1, t1]]
    s0, s1, s2 = 1.0 / D[0][0], 1.0 / D[1][1], 1.0 / D[2][2]
    b, c = D[0][1] * s1, D[0][2] * s2
    d, f = D[1][0] * s0, D[1][2] * s2
    g, h = D[2][0] * s0, D[2][1] * s1
    c00 = 1.0 - f * h
    c01 = f * g - d
    c02 = d * h - g
    rdet = 1.0 / (c00 + b * c01 + c * c02)
    t0, t1, t2 = rdet * s0, rdet * s1, rdet * s2
    return [
        [c00 * t0, (c * h - b) * t0, (b * f - c) * t0],
        [c01 * t1, (1.0 - c * g) * t1, (c * d - f) * t1],
        [c02 * t2, (b * g - h) * t2, (1.0 - b * d) * t2],
    ]


def _sum(terms):
    """Sum of arrays without numpy's ``0 + a`` copy that ``sum()`` makes."""
    it = iter(terms)
    out = next(it)
    for t in it:
        out = out + t
    return out


def block_thomas_batch_last(
    lower: np.ndarray,
    diag: np.ndarray,
    upper: np.ndarray,
    rhs: np.ndarray,
    *,
    offdiagonal: OffDiagonal = "full",
) -> np.ndarray:
    """Block-Thomas sweep on batch-last arrays; the kernel of :func:`solve_block_tridiagonal`.

    Shapes: ``diag`` (n, m, m, N); ``lower``/``upper`` (n, m, m, N) (full) or (n, m, N)
    (diagonal; a middle axis of length 1 is broadcast to all m components); ``rhs`` (n, m, N)
    → x (n, m, N). The batch width N may be 1 in any argument (shared). No shift (subtract it
    from ``diag`` first). For callers that assemble their blocks batch-last already.
    """
    n, m = diag.shape[0], diag.shape[1]
    if m > 3:
        return _block_thomas_stacked(lower, diag, upper, rhs, offdiagonal == "full")
    full = offdiagonal == "full"
    width = max(a.shape[-1] for a in (lower, diag, upper, rhs))
    if (m == 3 and not full and lower.shape[1] == 1 and upper.shape[1] == 1
            and width <= _STACKED_3X3_MAX_WIDTH):
        return _block_thomas_3x3_stacked(lower[:, 0], diag, upper[:, 0], rhs)
    if not full:
        lower = np.broadcast_to(lower, (n, m, lower.shape[-1]))
        upper = np.broadcast_to(upper, (n, m, upper.shape[-1]))
    R = range(m)
    Gs: list[list[list[np.ndarray]]] = []
    ys: list[list[np.ndarray]] = []
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i in range(n):
            D = [[diag[i, a, b] for b in R] for a in R]
            r = [rhs[i, a] for a in R]
            if i > 0:
                Gp, yp = Gs[-1], ys[-1]
                if full:
                    L, U = lower[i], upper[i - 1]
                    GU = [[_sum(Gp[a][k] * U[k, b] for k in R) for b in R] for a in R]
                    D = [[D[a][b] - _sum(L[a, k] * GU[k][b] for k in R) for b in R] for a in R]
                    r = [r[a] - _sum(L[a, k] * yp[k] for k in R) for a in R]
                else:
                    li, up = lower[i], upper[i - 1]
                    same = li.strides[0] == 0 and up.strides[0] == 0
                    if same:  # scalar multiples of I (one mixing operator for all pools)
                        w = li[0] * up[0]
                        D = [[D[a][b] - w * Gp[a][b] for b in R] for a in R]
                    else:
                        D = [[D[a][b] - (li[a] * up[b]) * Gp[a][b] for b in R] for a in R]
                    r = [r[a] - li[a] * yp[a] for a in R]
            G = _inverse_entries(D)
            Gs.append(G)
            ys.append([_sum(G[a][k] * r[k] for k in R) for a in R])
        x = np.empty((n, m, width))
        for a in R:
            x[n - 1, a] = ys[n - 1][a]
        for i in range(n - 2, -1, -1):
            G, xn = Gs[i], x[i + 1]
            if full:
                v = [_sum(upper[i, a, k] * xn[k] for k in R) for a in R]
            else:
                v = [upper[i, a] * xn[a] for a in R]
            for a in R:
                x[i, a] = ys[i][a] - _sum(G[a][k] * v[k] for k in R)
    return x


#: Widest batch for which the 3 × 3 scalar-coupled sweep runs on stacked (3, 3, N) arrays
#: (:func:`_block_thomas_3x3_stacked`): a quarter as many numpy calls as the entry-by-entry sweep,
#: which wins while the per-call overhead dominates (a sampler's few hundred chains) and loses to
#: the cache-resident entry rows for wide batches.
_STACKED_3X3_MAX_WIDTH = 2048

_ROLL1, _ROLL2 = np.array([1, 2, 0]), np.array([2, 0, 1])
_DIAG3 = (np.arange(3), np.arange(3))


def _block_thomas_3x3_stacked(lower, diag, upper, rhs):
    """Block Thomas for m = 3 with scalar off-diagonal blocks on stacked arrays.

    ``lower``/``upper`` (n, N) multiply the identity, ``diag`` (n, 3, 3, N), ``rhs`` (n, 3, N).
    Each diagonal block's inverse is Cramer's rule after scaling its columns by the diagonal
    (D = D̃·diag(1/s), s_b = 1/D_bb, D⁻¹ = diag(s)·adj(D̃)/det(D̃)), as in
    :func:`_inverse_entries`, written with the cyclic cofactor formula
    C_ij = D̃[i+1, j+1]·D̃[i+2, j+2] − D̃[i+1, j+2]·D̃[i+2, j+1] (indices mod 3).
    """
    n = diag.shape[0]
    width = max(a.shape[-1] for a in (lower, diag, upper, rhs))
    G = np.empty((n, 3, 3, width))
    y = np.empty((n, 3, width))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i in range(n):
            D = diag[i]
            r = rhs[i]
            if i > 0:
                D = D - (lower[i] * upper[i - 1]) * G[i - 1]
                r = r - lower[i] * y[i - 1]
            s = 1.0 / D[_DIAG3]  # (3, N)
            Dt = D * s
            A1, A2 = Dt[_ROLL1], Dt[_ROLL2]
            C = A1[:, _ROLL1] * A2[:, _ROLL2] - A1[:, _ROLL2] * A2[:, _ROLL1]
            det = (Dt[0] * C[0]).sum(axis=0)
            Gi = G[i]
            np.multiply(C.transpose(1, 0, 2), s[:, None, :] / det, out=Gi)
            np.einsum("abn,bn->an", Gi, r, out=y[i])
        x = y
        for i in range(n - 2, -1, -1):
            x[i] -= np.einsum("abn,bn->an", G[i], upper[i] * x[i + 1])
    return x


def _block_thomas_stacked(lower, diag, upper, rhs, full):
    """Block Thomas on (m, m, N) stacks with LAPACK inverses (m > 3)."""
    n = diag.shape[0]
    C = np.empty(np.broadcast_shapes(diag.shape, (1, 1, 1, rhs.shape[-1])))
    y = np.empty(np.broadcast_shapes(rhs.shape, diag.shape[:2] + diag.shape[3:]))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        G = _inverse(np.broadcast_to(diag[0], C.shape[1:]))
        y[0] = _matmul(G, rhs[0])
        for i in range(1, n):
            if full:
                C[i - 1] = _matmul(G, np.broadcast_to(upper[i - 1], C.shape[1:]))
                Di = diag[i] - _matmul(lower[i], C[i - 1])
                ri = rhs[i] - _matmul(lower[i], y[i - 1])
            else:
                C[i - 1] = G * upper[i - 1][None, :]
                Di = diag[i] - lower[i][:, None] * C[i - 1]
                ri = rhs[i] - lower[i] * y[i - 1]
            G = _inverse(np.broadcast_to(Di, C.shape[1:]))
            y[i] = _matmul(G, ri)
        for i in range(n - 2, -1, -1):
            y[i] -= _matmul(C[i], y[i + 1])
    return y


def tridiagonal_to_dense(lower: np.ndarray, diag: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Dense (..., n, n) matrix from bands (..., n) in this module's convention (for tests)."""
    lower, diag, upper = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in
                                               (lower, diag, upper)))
    n = diag.shape[-1]
    out = np.zeros((*diag.shape, n))
    i = np.arange(n)
    out[..., i, i] = diag
    out[..., i[1:], i[:-1]] = lower[..., 1:]
    out[..., i[:-1], i[1:]] = upper[..., :-1]
    return out


def block_tridiagonal_to_dense(
    lower: np.ndarray,
    diag: np.ndarray,
    upper: np.ndarray,
    *,
    offdiagonal: OffDiagonal = "full",
    order: Literal["block", "component"] = "block",
) -> np.ndarray:
    """Dense (..., n·m, n·m) matrix of a block-tridiagonal operator (reference path for tests).

    ``order="block"`` numbers unknowns row-major (i·m + p, as :func:`solve_block_tridiagonal`
    orders them); ``order="component"`` numbers them p·n + i (pool-major, the ordering of
    Tao et al. (EarthArXiv) Eq. 3).
    """
    diag = np.asarray(diag, dtype=float)
    n, m = diag.shape[-3], diag.shape[-1]
    lower = np.asarray(lower, dtype=float)
    upper = np.asarray(upper, dtype=float)
    if offdiagonal == "diagonal":
        eye = np.eye(m)
        lower = lower[..., :, None] * eye
        upper = upper[..., :, None] * eye
    lower, diag, upper = np.broadcast_arrays(lower, diag, upper)
    batch = diag.shape[:-3]
    out = np.zeros((*batch, n, m, n, m))
    i = np.arange(n)
    out[..., i, :, i, :] = np.moveaxis(diag, -3, 0)
    out[..., i[1:], :, i[:-1], :] = np.moveaxis(lower[..., 1:, :, :], -3, 0)
    out[..., i[:-1], :, i[1:], :] = np.moveaxis(upper[..., :-1, :, :], -3, 0)
    if order == "component":
        out = out.transpose(*range(len(batch)), -3, -4, -1, -2)
    return out.reshape((*batch, n * m, n * m))
