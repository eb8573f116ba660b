"""Robust steady states of batched nonlinear soil models: every root, its stability, a status.

Microbial soil models (MIMICS, Millennial, the Tao et al. reply model) are nonlinear: with
density-dependent turnover (β > 1) or sub-linear enzyme production (β_enz < 1) a site can have no
positive steady state, one, or several, and a state can be unstable. A single Newton solve from a
single start hides all of that. :func:`find_steady_states` instead

1. runs a damped Newton iteration (Eq. 1) from several starts per batch element, all batch
   elements and starts at once (the loop is over iterations only);
2. keeps the iterates positive when asked (Eq. 2) and globalises with a backtracking line search
   on a flux-scaled merit function (Eq. 3);
3. accepts a state when the residual relative to the gross flux scale is small (Eq. 4), polishes
   it with up to two more Newton steps, and de-duplicates the converged states (Eq. 5);
4. classifies each distinct state as stable when every eigenvalue of the Jacobian has a negative
   real part (Eq. 6), and each batch element by a status (:data:`STATUSES`).

It never returns a number for a batch element whose status is not ``"ok"``: the field
``state`` is NaN there, and all distinct states found are still reported in ``states`` so that
the caller can look at them, but nothing is picked silently.

Equations
---------
Newton step with damping α ∈ {1, 1/2, 1/4, …} (Eq. 1)::

    J(x_k)·Δx = −f(x_k),     x_{k+1} = P(x_k, x_k + α·Δx)

Positivity (``positive=True``, Eq. 2): the projection P replaces every pool that the step would
take to ≤ 0 by a tenth of its current value, ``P_i = x_k,i + αΔx_i`` if that is > 0, else
``θ·x_k,i`` with θ = 0.1. Iterates stay strictly positive, so models with fractional powers of
the pools (MIC^β) are never evaluated at negative values, and a pool that tends to zero does so
geometrically. With ``positive=False`` P is the identity.

Merit function of the line search (Eq. 3), with the flux scale ``s(x)`` of Eq. 4 held at the
current iterate::

    φ(y) = Σ_i (f_i(y) / w_i)²,   w_i = max(s_i(x_k), 10⁻¹²·max_j s_j(x_k)),

and a step is accepted when ``φ(x_{k+1}) ≤ (1 − 10⁻⁴·α)·φ(x_k)`` (Armijo). When no α down to
2⁻³⁰ decreases φ, the smallest step is taken anyway (the iteration may leave a stall this way;
``max_iter`` bounds it).

Relative residual (Eq. 4), the convergence test ``r ≤ rtol``::

    r(x) = ‖f(x)‖₂ / ‖s(x)‖₂,   s_i(x) = Σ_j |J_ij(x)·x_j|   (default)

``s`` is the size of the gross fluxes through each pool: for a linear model ``f = A·x + b`` at a
steady state, ``s_i ≥ |b_i|`` (the inputs) and ``s`` is the sum of all transfers in and out. A
model may pass its own gross-flux scale (``flux_scale``), e.g. the sum of the absolute values of
its flux terms. ``r`` is what the report calls ``residual``. ``f(x) = 0`` exactly also counts
as converged (``r`` is then reported as 0).

De-duplication (Eq. 5): two converged states of the same batch element are the same state when
``‖x_a − x_b‖_∞ ≤ dedup_tol·max(‖x_a‖_∞, ‖x_b‖_∞)`` (default 10⁻⁶); the first start wins.
Distinct states are ordered by increasing sum of pools.

Stability (Eq. 6), linear stability of the steady state x*::

    stable ⇔ max_i Re λ_i(J(x*)) < −stab_tol·max_i |λ_i(J(x*))|   (stab_tol = 10⁻¹⁰)

so a (numerically) zero eigenvalue counts as not stable.

A state is *positive* when every pool is > ``zero_tol·max_i |x_i|`` (default 10⁻¹⁰), both at the
converged iterate x and at the root estimate ``x + Δx`` of one more (unprojected) Newton step: a
pool converging to 0 from above (e.g. a collapsed microbial biomass, MIC = 0), which the
projection of Eq. 2 only lets approach 0 geometrically, is thus recognised as a zero pool and
the state as non-positive.

Statuses per batch element (:data:`STATUSES`):

``"ok"``
    exactly one positive stable state (``state`` holds it; unstable or non-positive states may
    also have been found and are in ``states``);
``"multiple"``
    two or more positive stable states (all in ``states``; ``state`` is NaN);
``"unstable"``
    positive states were found but none is stable;
``"non-positive"``
    only states with a pool ≤ 0 (within ``zero_tol``) converged;
``"no-convergence"``
    no start converged within ``max_iter`` iterations.

The Jacobian, when not given, is a vectorized central difference with step
``h_j = 10⁻⁶·max(|x_j|, 10⁻⁸·max_i |x_i|, 10⁻³⁰)``, or ``10⁻⁶·x_j`` with ``positive=True`` so
that no evaluation leaves the positive orthant (second-order accurate; the fallback that the
common model protocol allows).

References
----------
Dennis, J. E. & Schnabel, R. B. (1996). Numerical Methods for Unconstrained Optimization and
Nonlinear Equations. SIAM, Classics in Applied Mathematics 16, §6.3 (line search, Armijo
condition), §6.5 (Newton with a merit function). https://doi.org/10.1137/1.9781611971200

Nocedal, J. & Wright, S. J. (2006). Numerical Optimization, 2nd ed., Springer, §11.2 (line search
for nonlinear equations), §19.2 (fraction-to-the-boundary / positivity of iterates).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError

FloatArray = NDArray[np.float64]

#: Status of a batch element, see the module docstring.
STATUSES: tuple[str, ...] = ("ok", "multiple", "unstable", "non-positive", "no-convergence")

#: θ of Eq. 2: a pool that a step would take to ≤ 0 is multiplied by θ instead.
POSITIVITY_SHRINK: float = 0.1
#: Armijo constant of the line search (Eq. 3).
ARMIJO_C: float = 1e-4
#: Largest number of step halvings in the line search (α ≥ 2⁻³⁰).
MAX_HALVINGS: int = 30
#: Newton steps taken after convergence to polish a state (kept only where they help).
POLISH_STEPS: int = 2


@dataclass(frozen=True)
class SteadyStateReport:
    """Steady states of a batch of nonlinear systems and what is known about them.

    The batch shape ``B`` is that of the starts without their leading axis and the pool axis;
    ``k`` is the largest number of distinct converged states over the batch (at least 1); rows
    beyond an element's ``n_found`` are NaN (``stable`` False).

    Attributes
    ----------
    state : ndarray, shape B + (n,)
        The steady state where ``status == "ok"``, NaN elsewhere.
    states : ndarray, shape B + (k, n)
        All distinct converged states (Eq. 5), ordered by increasing sum of pools.
    residual : ndarray, shape B + (k,)
        Relative residual ‖f‖/‖s‖ of each state (Eq. 4).
    stable : ndarray of bool, shape B + (k,)
        Linear stability of each state (Eq. 6).
    positive : ndarray of bool, shape B + (k,)
        Whether every pool of the state is > 0 (within ``zero_tol``).
    eigenvalues : ndarray of complex, shape B + (k, n)
        Eigenvalues of the Jacobian at each state (NaN rows where no state).
    status : ndarray of str, shape B
        One of :data:`STATUSES`.
    n_found : ndarray of int, shape B
        Number of distinct converged states.
    iterations : ndarray of int, shape (n_starts,) + B
        Newton iterations used by each start.
    """

    state: FloatArray
    states: FloatArray
    residual: FloatArray
    stable: NDArray[np.bool_]
    positive: NDArray[np.bool_]
    eigenvalues: NDArray[np.complex128]
    status: NDArray[np.str_]
    n_found: NDArray[np.int64]
    iterations: NDArray[np.int64]

    @property
    def ok(self) -> NDArray[np.bool_]:
        """Boolean mask of the batch elements with status ``"ok"``."""
        return self.status == "ok"


def central_difference_jacobian(
    rhs: Callable[[FloatArray], FloatArray], x: ArrayLike, *, relative: bool = False
) -> FloatArray:
    """Vectorized central-difference Jacobian ``J_ij = ∂f_i/∂x_j`` of a batched right-hand side.

    Parameters
    ----------
    rhs : callable
        ``f(x)`` with ``x`` of shape ``(..., n)`` returning shape ``(..., n)``.
    x : array_like, shape (..., n)
        Point of evaluation.
    relative : bool
        Use ``h_j = 10⁻⁶·|x_j|`` (for strictly positive x: ``x ± h`` stays positive, so models
        with fractional powers of the pools are never evaluated at negative values).

    Returns
    -------
    ndarray, shape (..., n, n)
        ``(f(x + h_j e_j) − f(x − h_j e_j)) / (2 h_j)`` in column j, with
        ``h_j = 10⁻⁶·max(|x_j|, 10⁻⁸·max_i |x_i|, 10⁻³⁰)``.
    """
    x = np.asarray(x, dtype=float)
    n = x.shape[-1]
    big = np.max(np.abs(x), axis=-1, keepdims=True)
    h = 1e-6 * np.maximum(np.maximum(np.abs(x), 1e-8 * big), 1e-30)
    if relative:
        h = np.where(x != 0.0, 1e-6 * np.abs(x), h)
    cols = []
    for j in range(n):
        e = np.zeros_like(x)
        e[..., j] = h[..., j]
        cols.append((np.asarray(rhs(x + e)) - np.asarray(rhs(x - e))) / (2.0 * h[..., j : j + 1]))
    return np.stack(cols, axis=-1)


def _default_scale(jac: FloatArray, x: FloatArray) -> FloatArray:
    """Gross flux scale of Eq. 4, ``s_i = Σ_j |J_ij·x_j|``."""
    return np.sum(np.abs(jac * x[..., None, :]), axis=-1)


def _newton_step(jac: FloatArray, f: FloatArray, active: NDArray[np.bool_]) -> FloatArray:
    """Solve J·Δx = −f for the active elements; NaN where J is singular or not finite."""
    step = np.full_like(f, np.nan)
    idx = np.nonzero(active)
    if idx[0].size == 0:
        return step
    ja = jac[idx]
    fa = f[idx]
    good = np.all(np.isfinite(ja), axis=(-2, -1)) & np.all(np.isfinite(fa), axis=-1)
    sol = np.full_like(fa, np.nan)
    if np.any(good):
        jg, fg = ja[good], fa[good]
        try:
            sol[good] = np.linalg.solve(jg, -fg[..., None])[..., 0]
        except np.linalg.LinAlgError:
            # One singular matrix fails the whole batched call: solve one by one (rare path).
            out = np.full_like(fg, np.nan)
            for m in range(fg.shape[0]):
                try:
                    out[m] = np.linalg.solve(jg[m], -fg[m])
                except np.linalg.LinAlgError:
                    pass
            sol[good] = out
    step[idx] = sol
    return step


def _project(x: FloatArray, trial: FloatArray, positive: bool) -> FloatArray:
    """Eq. 2: keep iterates strictly positive (pools that would go ≤ 0 shrink by θ)."""
    if not positive:
        return trial
    return np.where(trial > 0.0, trial, POSITIVITY_SHRINK * x)


def find_steady_states(
    rhs: Callable[[FloatArray], FloatArray],
    jac: Callable[[FloatArray], FloatArray] | None,
    x0s: ArrayLike,
    *,
    rtol: float = 1e-8,
    max_iter: int = 100,
    positive: bool = True,
    flux_scale: Callable[[FloatArray], FloatArray] | None = None,
    dedup_tol: float = 1e-6,
    zero_tol: float = 1e-10,
    stab_tol: float = 1e-10,
) -> SteadyStateReport:
    """All steady states of ``dx/dt = f(x)`` reachable from several starts, for a whole batch.

    Damped Newton (Eqs. 1–3 of the module docstring) from every start of every batch element at
    once, convergence by the relative residual (Eq. 4), de-duplication (Eq. 5), stability from
    the Jacobian's eigenvalues (Eq. 6) and a status per batch element.

    Parameters
    ----------
    rhs : callable
        ``f(x) -> dx/dt``; ``x`` has shape ``(n_starts,) + B + (n,)`` and the result the same.
        The model's parameters must broadcast against ``x[..., i]`` (shape ``(n_starts,) + B``),
        which numpy's right-aligned broadcasting gives for parameters of shape ``B``.
    jac : callable or None
        ``J(x)`` of shape ``(n_starts,) + B + (n, n)``, ``J[..., i, j] = ∂f_i/∂x_j``; None for
        the central difference of :func:`central_difference_jacobian`.
    x0s : array_like, shape (n_starts,) + B + (n,)
        Starting points; with ``positive=True`` every pool must be > 0.
    rtol : float
        Convergence threshold on the relative residual (Eq. 4) [unitless].
    max_iter : int
        Largest number of Newton iterations per start.
    positive : bool
        Keep iterates strictly positive with the projection of Eq. 2.
    flux_scale : callable or None
        ``s(x)`` of shape ``(n_starts,) + B + (n,)``, the gross flux through each pool (≥ 0), in
        the rhs's units; None for ``Σ_j |J_ij·x_j|``.
    dedup_tol : float
        Relative distance below which two converged states are the same (Eq. 5).
    zero_tol : float
        A pool ≤ ``zero_tol·max|x|`` makes a state non-positive.
    stab_tol : float
        Relative margin of Eq. 6.

    Returns
    -------
    SteadyStateReport

    Raises
    ------
    InputDataError
        If ``x0s`` has fewer than 2 dimensions, is not finite, or (``positive=True``) has a pool
        ≤ 0; if ``rtol`` is not > 0 or ``max_iter`` < 1.
    """
    x = _checked_starts(x0s, positive, rtol, max_iter)
    system = _System(rhs, jac, flux_scale, positive)
    starts_shape = x.shape[:-1]
    converged = np.zeros(starts_shape, dtype=bool)
    dead = np.zeros(starts_shape, dtype=bool)
    polish_left = np.full(starts_shape, POLISH_STEPS, dtype=np.int64)
    iterations = np.zeros(starts_shape, dtype=np.int64)

    with np.errstate(all="ignore"):
        for _ in range(max_iter + POLISH_STEPS + 1):
            f, jm, s, r = system.residual(x)
            finite = np.all(np.isfinite(x), axis=-1) & np.all(np.isfinite(f), axis=-1)
            dead |= ~finite
            newly = ~converged & ~dead & (r <= rtol)
            converged |= newly
            out_of_iters = ~converged & (iterations >= max_iter)
            active = ~dead & ~out_of_iters & (~converged | (polish_left > 0))
            if not np.any(active):
                break
            step = _newton_step(jm, f, active)
            bad_step = active & ~np.all(np.isfinite(step), axis=-1)
            # A singular Jacobian ends a start that has not converged; a converged one stops
            # polishing.
            dead |= bad_step & ~converged
            polish_left = np.where(bad_step & converged, 0, polish_left)
            active &= ~bad_step
            if not np.any(active):
                break
            step = np.where(active[..., None], step, 0.0)
            smax = np.max(s, axis=-1, keepdims=True)
            w = np.maximum(s, 1e-12 * smax)
            w = np.where(w > 0.0, w, 1.0)
            phi0 = np.sum((f / w) ** 2, axis=-1)

            polishing = active & converged
            searching = active & ~converged
            new_x = x.copy()
            if np.any(polishing):
                new_x, polish_left = _polish(system, x, step, w, phi0, polishing, new_x,
                                             polish_left)
            if np.any(searching):
                new_x = _line_search(system, x, step, w, phi0, searching, new_x)
                iterations = iterations + searching
            x = new_x

        # Final evaluation at the polished states.
        f, jm, s, r = system.residual(x)
        good_j = np.all(np.isfinite(jm), axis=(-2, -1))
        conv = converged & ~dead & (r <= rtol) & good_j & np.all(np.isfinite(x), axis=-1)
        jm_safe = np.where(conv[..., None, None], jm, 0.0)
        eig = np.linalg.eigvals(jm_safe)
        last = _newton_step(jm, f, conv)
        root_estimate = np.where(np.isfinite(last), x + last, x)

    return _collect(x, root_estimate, r, eig, conv, iterations, dedup_tol, zero_tol, stab_tol)


def _checked_starts(x0s: ArrayLike, positive: bool, rtol: float, max_iter: int) -> FloatArray:
    """The starts as a float array (a copy), after the checks of :func:`find_steady_states`."""
    x = np.array(x0s, dtype=float)
    if x.ndim < 2:
        raise InputDataError(
            "expected starts of shape (n_starts, ..., n_pools)", field="x0s", value=x.shape
        )
    if not np.all(np.isfinite(x)):
        raise InputDataError("expected finite starting points", field="x0s", value="non-finite")
    if positive and np.any(x <= 0.0):
        raise InputDataError(
            "expected every pool of every start > 0 with positive=True",
            field="x0s",
            value=float(np.min(x)),
        )
    if not rtol > 0.0:
        raise InputDataError("expected rtol > 0", field="rtol", value=rtol)
    if max_iter < 1:
        raise InputDataError("expected max_iter >= 1", field="max_iter", value=max_iter)
    return x


class _System:
    """The right-hand side, its Jacobian and flux scale as :func:`find_steady_states` uses them."""

    def __init__(self, rhs, jac, flux_scale, positive: bool) -> None:
        self.rhs, self.jac, self.flux_scale, self.positive = rhs, jac, flux_scale, positive

    def jacobian(self, y: FloatArray) -> FloatArray:
        if self.jac is None:
            return central_difference_jacobian(self.rhs, y, relative=self.positive)
        return np.broadcast_to(np.asarray(self.jac(y), dtype=float), y.shape + y.shape[-1:])

    def evaluate(self, y: FloatArray) -> FloatArray:
        return np.broadcast_to(np.asarray(self.rhs(y), dtype=float), y.shape)

    def scale_of(self, y: FloatArray, jy: FloatArray) -> FloatArray:
        if self.flux_scale is None:
            return _default_scale(jy, y)
        return np.broadcast_to(np.abs(np.asarray(self.flux_scale(y), dtype=float)), y.shape)

    def residual(self, y: FloatArray):
        """``f(y)``, ``J(y)``, the flux scale and the relative residual (Eq. 4)."""
        f = self.evaluate(y)
        jm = self.jacobian(y)
        s = self.scale_of(y, jm)
        fn = np.linalg.norm(f, axis=-1)
        sn = np.linalg.norm(s, axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(fn == 0.0, 0.0, fn / sn)
        return f, jm, s, np.where(np.isfinite(r), r, np.inf)


def _polish(system: _System, x, step, w, phi0, polishing, new_x, polish_left):
    """Converged starts: one full Newton step, kept only if the residual does not grow."""
    trial = _project(x, x + step, system.positive)
    ft = system.evaluate(trial)
    phit = np.sum((ft / w) ** 2, axis=-1)
    keep = polishing & np.all(np.isfinite(trial), axis=-1) & (phit <= phi0)
    new_x = np.where(keep[..., None], trial, new_x)
    polish_left = np.where(polishing, np.where(keep, polish_left - 1, 0), polish_left)
    return new_x, polish_left


def _line_search(system: _System, x, step, w, phi0, searching, new_x):
    """Backtracking line search (Eq. 3) for the starts still searching."""
    pending = searching.copy()
    alpha = 1.0
    last_trial = x
    for _h in range(MAX_HALVINGS + 1):
        trial = _project(x, x + alpha * step, system.positive)
        ft = system.evaluate(trial)
        phit = np.sum((ft / w) ** 2, axis=-1)
        ok = (
            pending
            & np.all(np.isfinite(ft), axis=-1)
            & (phit <= (1.0 - ARMIJO_C * alpha) * phi0)
        )
        new_x = np.where(ok[..., None], trial, new_x)
        pending &= ~ok
        last_trial = trial
        if not np.any(pending):
            break
        alpha *= 0.5
    # No decrease for any α: take the smallest step (finite trials only).
    fallback = pending & np.all(np.isfinite(last_trial), axis=-1)
    return np.where(fallback[..., None], last_trial, new_x)


def _collect(
    x: FloatArray,
    root_estimate: FloatArray,
    r: FloatArray,
    eig: NDArray[np.complex128],
    conv: NDArray[np.bool_],
    iterations: NDArray[np.int64],
    dedup_tol: float,
    zero_tol: float,
    stab_tol: float,
) -> SteadyStateReport:
    """De-duplicate (Eq. 5), classify (Eq. 6) and pack the report; batch axis first."""
    n_starts = x.shape[0]
    batch = x.shape[1:-1]
    # Starts last: (B, S, n).
    xs = np.moveaxis(x, 0, -2)
    zs = np.moveaxis(root_estimate, 0, -2)
    rs = np.moveaxis(r, 0, -1)
    es = np.moveaxis(eig, 0, -2)
    cs = np.moveaxis(conv, 0, -1)

    xabs = np.max(np.abs(xs), axis=-1)  # (B, S)
    diff = np.max(np.abs(xs[..., :, None, :] - xs[..., None, :, :]), axis=-1)  # (B, S, S)
    close = diff <= dedup_tol * np.maximum(xabs[..., :, None], xabs[..., None, :])
    earlier = np.tril(np.ones((n_starts, n_starts), dtype=bool), k=-1)  # j < i
    dup = np.any(close & earlier & cs[..., None, :], axis=-1)
    distinct = cs & ~dup  # (B, S)

    n_found = np.sum(distinct, axis=-1).astype(np.int64)
    k = max(int(np.max(n_found, initial=0)), 1)
    total = np.where(distinct, np.sum(xs, axis=-1), np.inf)
    order = np.argsort(total, axis=-1, kind="stable")[..., :k]  # distinct first, by size
    if k > n_starts:  # pragma: no cover - k <= n_starts always
        raise AssertionError
    take = np.take_along_axis
    sel = take(distinct, order, axis=-1)  # (B, k)
    states = np.where(sel[..., None], take(xs, order[..., None], axis=-2), np.nan)
    estimates = np.where(sel[..., None], take(zs, order[..., None], axis=-2), np.nan)
    residual = np.where(sel, take(rs, order, axis=-1), np.nan)
    eigenvalues = np.where(
        sel[..., None], take(es, order[..., None], axis=-2), np.complex128(np.nan)
    )
    with np.errstate(invalid="ignore"):
        maxre = np.max(eigenvalues.real, axis=-1)
        maxabs = np.max(np.abs(eigenvalues), axis=-1)
        stable = sel & (maxre < -stab_tol * maxabs)
        big = np.max(np.abs(states), axis=-1, keepdims=True)
        positive = (
            sel
            & np.all(states > zero_tol * big, axis=-1)
            & np.all(estimates > zero_tol * big, axis=-1)
        )

    pos_stable = positive & stable
    n_ps = np.sum(pos_stable, axis=-1)
    status = np.full(batch, "no-convergence", dtype="<U14")
    status[n_found > 0] = "non-positive"
    status[np.any(positive, axis=-1)] = "unstable"
    status[n_ps >= 2] = "multiple"
    status[n_ps == 1] = "ok"

    first = np.argmax(pos_stable, axis=-1)  # index of the one positive stable state
    chosen = take(states, first[..., None, None], axis=-2)[..., 0, :]
    state = np.where((status == "ok")[..., None], chosen, np.nan)
    return SteadyStateReport(
        state=state,
        states=states,
        residual=residual,
        stable=stable,
        positive=positive,
        eigenvalues=eigenvalues,
        status=status,
        n_found=n_found,
        iterations=iterations,
    )
