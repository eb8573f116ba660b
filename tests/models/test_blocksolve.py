"""Batched Thomas / block-Thomas solvers against numpy's dense LU (numpy.linalg.solve)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wholesoil.models._blocksolve import (
    block_tridiagonal_to_dense,
    inverse_3x3,
    solve_block_tridiagonal,
    solve_tridiagonal,
    tridiagonal_to_dense,
)


def _dense_solve(M, b):
    return np.linalg.solve(M, b[..., None])[..., 0]


def _m_matrix_bands(rng, shape, n):
    """Bands of a strictly diagonally dominant tridiagonal matrix (carbon-model-like sign)."""
    lo = -rng.random((*shape, n))
    up = -rng.random((*shape, n))
    d = np.abs(lo) + np.abs(up) + 0.1 + rng.random((*shape, n))
    return lo, d, up


def test_tridiagonal_matches_dense_with_broadcast_and_shift():
    rng = np.random.default_rng(0)
    lo, d, up = _m_matrix_bands(rng, (3, 4), 20)
    rhs = rng.normal(size=(3, 4, 20))
    shift = -rng.random((3, 4))
    x = solve_tridiagonal(lo, d, up, rhs, shift=shift)
    M = tridiagonal_to_dense(lo, d, up) - shift[..., None, None] * np.eye(20)
    np.testing.assert_allclose(x, _dense_solve(M, rhs), rtol=1e-12, atol=1e-13)
    # bands shared by all right-hand sides (batch broadcast)
    x2 = solve_tridiagonal(lo[0, 0], d[0, 0], up[0, 0], rhs)
    np.testing.assert_allclose(x2, _dense_solve(tridiagonal_to_dense(lo[0, 0], d[0, 0], up[0, 0]),
                                                rhs), rtol=1e-12, atol=1e-13)


def test_tridiagonal_ignores_unused_band_ends():
    rng = np.random.default_rng(1)
    lo, d, up = _m_matrix_bands(rng, (), 6)
    b = rng.normal(size=6)
    lo2, up2 = lo.copy(), up.copy()
    lo2[0], up2[-1] = 1e6, -1e6  # outside the matrix: must not matter
    np.testing.assert_array_equal(solve_tridiagonal(lo, d, up, b),
                                  solve_tridiagonal(lo2, d, up2, b))


@pytest.mark.parametrize("m", [1, 2, 3, 4])
@pytest.mark.parametrize("offdiagonal", ["full", "diagonal"])
def test_block_tridiagonal_matches_dense(m, offdiagonal):
    rng = np.random.default_rng(m)
    n, batch = 20, (5,)
    off = (*batch, n, m, m) if offdiagonal == "full" else (*batch, n, m)
    lo = -0.3 * rng.random(off)
    up = -0.3 * rng.random(off)
    d = -0.2 * rng.random((*batch, n, m, m)) + 3.0 * np.eye(m)
    rhs = rng.normal(size=(*batch, n, m))
    shift = 0.7
    x = solve_block_tridiagonal(lo, d, up, rhs, shift=shift, offdiagonal=offdiagonal)
    M = block_tridiagonal_to_dense(lo, d, up, offdiagonal=offdiagonal) - shift * np.eye(n * m)
    ref = _dense_solve(M, rhs.reshape(*batch, n * m)).reshape(*batch, n, m)
    np.testing.assert_allclose(x, ref, rtol=1e-12, atol=1e-13)


def test_component_order_is_the_pool_major_permutation():
    rng = np.random.default_rng(3)
    n, m = 4, 3
    lo, up = rng.random((n, m)), rng.random((n, m))
    d = rng.random((n, m, m))
    Mb = block_tridiagonal_to_dense(lo, d, up, offdiagonal="diagonal")
    Mc = block_tridiagonal_to_dense(lo, d, up, offdiagonal="diagonal", order="component")
    perm = np.arange(n * m).reshape(n, m).T.ravel()  # component-major index → block-major
    np.testing.assert_array_equal(Mc, Mb[np.ix_(perm, perm)])


def test_inverse_3x3_matches_lapack():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(3, 3, 50)) + 4 * np.eye(3)[:, :, None]
    inv = inverse_3x3(a)
    ref = np.moveaxis(np.linalg.inv(np.moveaxis(a, -1, 0)), 0, -1)
    np.testing.assert_allclose(inv, ref, rtol=1e-12, atol=1e-14)


def test_shape_errors():
    with pytest.raises(ValueError, match="rhs must have"):
        solve_tridiagonal(np.ones(5), np.ones(5), np.ones(5), np.ones(4))
    with pytest.raises(ValueError, match="diag must have shape"):
        solve_block_tridiagonal(np.ones((4, 3)), np.ones((4, 3)), np.ones((4, 3)), np.ones((4, 3)))
    with pytest.raises(ValueError, match="offdiagonal"):
        solve_block_tridiagonal(np.ones((4, 3)), np.ones((4, 3, 3)), np.ones((4, 3)),
                                np.ones((4, 3)), offdiagonal="banded")


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 25), m=st.integers(1, 3),
       lam=st.floats(0.0, 5.0))
def test_block_thomas_on_random_compartmental_operators(seed, n, m, lam):
    """Property: for −M column-diagonally dominant (compartmental, as in the carbon models),
    the block-Thomas solution of (M − λI)x = b equals the dense LU solution to 1e-10."""
    rng = np.random.default_rng(seed)
    lo = -rng.random((n, m))
    up = -rng.random((n, m))
    off = -rng.random((n, m, m)) * 0.5
    idx = np.arange(m)
    off[:, idx, idx] = 0.0
    d = off.copy()
    colsum = np.abs(off).sum(axis=1)  # within-block column sums
    d[:, idx, idx] = colsum + np.abs(lo) + np.abs(up) + rng.random((n, m)) + 1e-3
    P = block_tridiagonal_to_dense(lo, d, up, offdiagonal="diagonal")
    b = rng.random(n * m)
    x = solve_block_tridiagonal(lo, d, up, b.reshape(n, m), shift=-lam, offdiagonal="diagonal")
    ref = _dense_solve(P + lam * np.eye(n * m), b)
    assert np.max(np.abs(x.ravel() - ref)) <= 1e-10 * np.max(np.abs(ref))
