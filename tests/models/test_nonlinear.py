"""Robust steady-state solver (``wholesoil.models._nonlinear``).

Reference values are closed forms of textbook systems, worked out in the comments:

* the cubic ``f(x) = −(x − 1)(x − 2)(x − 3)`` (roots 1, 2, 3; f′ = −2, 1, −2);
* the genetic toggle switch ``x′ = α/(1 + y²) − x, y′ = α/(1 + x²) − y`` (Gardner, Cantor &
  Collins 2000, Nature 403, 339, with cooperativity n = 2): besides the symmetric root
  ``s³ + s = α`` the asymmetric roots satisfy ``(x − y)(1 − xy) = 0`` and ``x + y = α``
  (subtract and add the two equations), i.e. ``x, y = (α ± √(α² − 4))/2``; for α = 2.5 they are
  (2, 0.5) and (0.5, 2), stable, and the symmetric root is a saddle; for α < 2 only the
  symmetric root exists and is stable;
* Lotka–Volterra competition ``x′ = x(3 − x − a·y), y′ = y(2 − b·x − y)``: interior root
  ``((3 − 2a)/(1 − ab), (2 − 3b)/(1 − ab))``, stable iff ab < 1 (with both positive), a saddle
  for a = 2, b = 1 at (1, 1); boundary roots (3, 0), (0, 2), (0, 0).
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from wholesoil.errors import InputDataError
from wholesoil.models._nonlinear import (
    STATUSES,
    central_difference_jacobian,
    find_steady_states,
)


def cubic(x):
    return -(x - 1.0) * (x - 2.0) * (x - 3.0)


def cubic_jac(x):
    return (-((x - 2) * (x - 3) + (x - 1) * (x - 3) + (x - 1) * (x - 2)))[..., None]


def toggle(alpha):
    alpha = np.asarray(alpha, dtype=float)

    def f(z):
        x, y = z[..., 0], z[..., 1]
        return np.stack([alpha / (1 + y**2) - x, alpha / (1 + x**2) - y], axis=-1)

    def jac(z):
        x, y = z[..., 0], z[..., 1]
        one = np.ones_like(x + alpha)
        return np.stack(
            [
                np.stack([-one, -2 * alpha * y / (1 + y**2) ** 2 * one], axis=-1),
                np.stack([-2 * alpha * x / (1 + x**2) ** 2 * one, -one], axis=-1),
            ],
            axis=-2,
        )

    return f, jac


def competition(a, b):
    def f(z):
        x, y = z[..., 0], z[..., 1]
        return np.stack([x * (3 - x - a * y), y * (2 - b * x - y)], axis=-1)

    return f


def grid_starts(lo, hi, m=5):
    g = np.linspace(lo, hi, m)
    xx, yy = np.meshgrid(g, g)
    return np.stack([xx.ravel(), yy.ravel()], axis=-1)


def symmetric_root(alpha):
    r = np.roots([1.0, 0.0, 1.0, -alpha])
    return float(r[np.abs(r.imag) < 1e-12].real[0])


def test_cubic_all_three_roots_and_stability():
    # Roots 1, 2, 3; f'(1) = f'(3) = -2 (stable), f'(2) = 1 (unstable): two positive stable states.
    x0 = np.linspace(0.2, 4.0, 9)[:, None]
    rep = find_steady_states(cubic, cubic_jac, x0)
    assert rep.status == "multiple"
    assert rep.n_found == 3
    assert_allclose(rep.states[:, 0], [1.0, 2.0, 3.0], rtol=1e-12)
    assert rep.stable.tolist() == [True, False, True]
    assert_allclose(rep.eigenvalues.real[:, 0], [-2.0, 1.0, -2.0], rtol=1e-8)
    assert np.all(rep.residual <= 1e-8)
    assert np.isnan(rep.state).all()  # "multiple": nothing picked


def test_cubic_finite_difference_jacobian_gives_the_same_roots():
    x0 = np.linspace(0.2, 4.0, 9)[:, None]
    rep = find_steady_states(cubic, None, x0)
    assert_allclose(rep.states[:, 0], [1.0, 2.0, 3.0], rtol=1e-10)
    assert rep.stable.tolist() == [True, False, True]


def test_single_stable_root_is_ok():
    # f = 2 − x^1.5: one root 2^(2/3), f' = −1.5·x^0.5 < 0.
    rep = find_steady_states(lambda x: 2.0 - x**1.5, None, np.array([[0.01], [1.0], [30.0]]))
    assert rep.status == "ok"
    assert_allclose(rep.state, [2.0 ** (2.0 / 3.0)], rtol=1e-12)
    assert rep.n_found == 1


def test_toggle_switch_bistable_and_monostable_batched():
    # alpha = 2.5: (0.5, 2), (s, s) saddle, (2, 0.5); alpha = 1.5: only (s, s), stable.
    alpha = np.array([2.5, 1.5])
    f, jac = toggle(alpha)
    x0 = np.broadcast_to(grid_starts(0.05, 3.0)[:, None, :], (25, 2, 2))
    rep = find_steady_states(f, jac, x0)
    assert rep.status.tolist() == ["multiple", "ok"]
    assert rep.n_found.tolist() == [3, 1]
    s25, s15 = symmetric_root(2.5), symmetric_root(1.5)
    # ordered by increasing x + y: the asymmetric pair (sum 2.5) and the symmetric root (sum 2s)
    found = rep.states[0]
    expected = {(0.5, 2.0), (2.0, 0.5), (s25, s25)}
    for st in expected:
        assert np.min(np.max(np.abs(found - np.array(st)), axis=-1)) < 1e-10
    stable_states = found[rep.stable[0]]
    assert_allclose(np.sort(stable_states[:, 0]), [0.5, 2.0], rtol=1e-10)
    assert not rep.stable[0][np.argmin(np.abs(found[:, 0] - s25))]
    assert_allclose(rep.state[1], [s15, s15], rtol=1e-12)
    assert np.isnan(rep.state[0]).all()
    assert np.isnan(rep.states[1, 1:]).all()


def test_batched_equals_looped():
    alpha = np.array([2.5, 1.5, 3.0, 1.0])
    starts = grid_starts(0.05, 3.5)
    f, jac = toggle(alpha)
    x0 = np.broadcast_to(starts[:, None, :], (starts.shape[0], 4, 2))
    batched = find_steady_states(f, jac, x0)
    for i, a in enumerate(alpha):
        fi, ji = toggle(a)
        single = find_steady_states(fi, ji, starts)
        assert batched.status[i] == single.status
        k = int(single.n_found)
        assert batched.n_found[i] == k
        assert_allclose(batched.states[i, :k], single.states[:k], rtol=1e-12)
        assert batched.stable[i, :k].tolist() == single.stable[:k].tolist()
        assert_allclose(batched.state[i], single.state, rtol=1e-12)


def test_competition_statuses_and_positivity():
    # a = 2, b = 1: interior (1, 1) is a saddle and the boundary states are non-positive.
    # a = b = 0.5: interior (8/3, 2/3), stable.  a = 2, b = 2: interior ((3-4)/(-3), (2-6)/(-3))
    # = (1/3, 4/3) a saddle (ab = 4 > 1).
    a = np.array([2.0, 0.5, 2.0])
    b = np.array([1.0, 0.5, 2.0])
    seen = []
    base = competition(a, b)

    def f(z):
        seen.append(float(np.min(z)))
        return base(z)

    x0 = np.broadcast_to(grid_starts(0.1, 4.0)[:, None, :], (25, 3, 2))
    rep = find_steady_states(f, None, x0)
    assert min(seen) > 0.0  # every evaluation at a strictly positive state (Eq. 2)
    assert rep.status.tolist() == ["unstable", "ok", "unstable"]
    assert_allclose(rep.state[1], [8 / 3, 2 / 3], rtol=1e-12)
    pos0 = rep.states[0][rep.positive[0]]
    assert_allclose(pos0, [[1.0, 1.0]], rtol=1e-12)
    pos2 = rep.states[2][rep.positive[2]]
    assert_allclose(pos2, [[1 / 3, 4 / 3]], rtol=1e-12)
    assert np.isnan(rep.state[[0, 2]]).all()
    # the boundary states (exclusion of one competitor) were found and flagged non-positive
    nonpos = rep.states[0][~rep.positive[0] & ~np.isnan(rep.states[0][:, 0])]
    assert len(nonpos) >= 1
    assert np.all(np.min(nonpos, axis=-1) < 1e-10)


def test_unconstrained_finds_negative_and_zero_roots():
    # a = b = 0.5 without positivity: (0, 0), (3, 0), (0, 2) and (8/3, 2/3) are all roots.
    f = competition(0.5, 0.5)
    rep = find_steady_states(f, None, grid_starts(-1.0, 4.0, 7), positive=False)
    assert rep.status == "ok"
    assert rep.n_found == 4
    expected = np.array([[0.0, 0.0], [0.0, 2.0], [3.0, 0.0], [8 / 3, 2 / 3]])
    for st in expected:
        assert np.min(np.max(np.abs(rep.states - st), axis=-1)) < 1e-10
    assert int(np.sum(rep.positive)) == 1


def test_non_positive_collapse():
    # x' = x(y − 2), y' = 1 − y(1 + x): the only roots are (0, 1) (stable: J = [[-1, 0], [-1, -1]])
    # and (-0.5, 2); a consumer x that cannot grow on the supply collapses to 0.
    def f(z):
        x, y = z[..., 0], z[..., 1]
        return np.stack([x * (y - 2.0), 1.0 - y * (1.0 + x)], axis=-1)

    rep = find_steady_states(f, None, np.array([[0.5, 0.5], [3.0, 3.0], [0.1, 5.0]]))
    assert rep.status == "non-positive"
    assert np.isnan(rep.state).all()
    assert_allclose(rep.states[0, 1], 1.0, rtol=1e-10)
    assert rep.states[0, 0] < 1e-10
    assert rep.stable[0]


def test_no_convergence():
    rep = find_steady_states(lambda x: x * x + 1.0, None, np.array([[0.5], [2.0]]), max_iter=30)
    assert rep.status == "no-convergence"
    assert rep.n_found == 0
    assert np.isnan(rep.state).all()
    assert np.isnan(rep.states).all()


def test_statuses_are_documented_and_dtype():
    f, jac = toggle(np.array([2.5, 1.5]))
    rep = find_steady_states(f, jac, np.broadcast_to(grid_starts(0.1, 3)[:, None], (25, 2, 2)))
    assert set(rep.status.tolist()) <= set(STATUSES)
    assert rep.states.shape == (2, 3, 2)
    assert rep.eigenvalues.shape == (2, 3, 2)
    assert rep.residual.shape == (2, 3)
    assert rep.ok.tolist() == [False, True]


def test_central_difference_jacobian():
    _, jac = toggle(2.5)
    f, _ = toggle(2.5)
    z = np.array([[0.3, 1.7], [2.0, 0.5]])
    assert_allclose(central_difference_jacobian(f, z), jac(z), rtol=1e-8)


def test_bad_arguments():
    with pytest.raises(InputDataError, match="x0s"):
        find_steady_states(cubic, None, np.array([1.0, 2.0]))
    with pytest.raises(InputDataError, match="> 0"):
        find_steady_states(cubic, None, np.array([[0.0], [1.0]]))
    with pytest.raises(InputDataError, match="rtol"):
        find_steady_states(cubic, None, np.array([[1.0]]), rtol=0.0)
