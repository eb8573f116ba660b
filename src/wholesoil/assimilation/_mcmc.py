"""Vectorized adaptive Metropolis sampler following PRODA's two-phase protocol
(Tao et al. (EarthArXiv) §2.6).

All chains of all profiles in a batch advance together: the state is an array shaped
``(*batch_shape, n_chains, d)`` in the unit cube and the log target is called **once per
iteration** for the whole batch. The protocol (test run, formal run, acceptance control) is the
one of Tao et al. (EarthArXiv) §2.6 and the public PRODA code (``phxtao/PRODA_PUBLIC``), as
summarized in ``shared/specs/assimilation.md``; the adaptive proposal is Haario et al. (2001).

Sampler details (:func:`adaptive_metropolis`)
---------------------------------------------
**Bounds.** PRODA redraws proposals outside [0, 1] (spec: "out-of-bound proposals are
redrawn"): only the offending rows, up to ``max_redraws`` times; a row still outside after
that keeps its current state and the iteration counts as a rejection
(``out_of_bounds_rejected``). The redraws do not call the log target. Redrawing truncates
the proposal to the cube, and the truncated proposal is not symmetric near a bound (its
normalizing mass depends on the current state), so the Metropolis rule (Eq. 1 of
:func:`adaptive_metropolis`) would no longer be exact there.
The default therefore follows the acceptance rule: ``"metropolis"`` rejects out-of-bounds
proposals (``max_redraws=0``; the prior is zero outside the cube, so this is the exact
Metropolis step), ``"proda"`` redraws up to 100 times as the published code does.

**Row subsets.** A restart or rerun repeats the run for the chains that need it only. If
``log_target`` has an attribute ``evaluate_rows(u, index)`` (``u`` of shape (R, d), ``index``
a tuple of R-long integer arrays into ``(*batch_shape, n_chains)``, as
:func:`numpy.unravel_index` gives, returning shape (R,)), a rerun calls it with just those
rows; otherwise the full array is passed, the other rows at their starting state, and their
values are discarded. Either way a restart costs in proportion to the chains it moves
(``n_evaluations`` counts the rows evaluated).

**Burn-in and thinning.** The first half of the formal iterations is discarded
(Tao et al. (EarthArXiv): burn-in coefficient 50 %); every ``thin``-th state of the second half is
kept. PRODA keeps the accepted samples only and discards the first half of those; here the chain
states (with repeats) are kept, which is what a Metropolis chain's posterior estimates need and
gives the same array length for every chain.

References
----------
.. [1] Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U.,
   Jiang, L., Huang, X. and Luo, Y. Convergence in simulating global soil organic carbon by
   structurally different models after data assimilation. EarthArXiv preprint (not peer
   reviewed), §2.6.
.. [2] Haario, H., Saksman, E. and Tamminen, J. (2001). An adaptive Metropolis algorithm.
   Bernoulli 7(2), 223–242. https://doi.org/10.2307/3318737
.. [3] Welford, B. P. (1962). Note on a method for calculating corrected sums of squares and
   products. Technometrics 4(3), 419–420. https://doi.org/10.1080/00401706.1962.10490022
.. [4] Chan, T. F., Golub, G. H. and LeVeque, R. J. (1979). Updating formulae and a pairwise
   algorithm for computing sample variances. Stanford CS report STAN-CS-79-773.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np

from wholesoil.errors import InputDataError

__all__ = [
    "PRODA_MCMC_SETTINGS",
    "Acceptance",
    "MCMCResult",
    "ProposalScale",
    "adaptive_metropolis",
]

Acceptance = Literal["proda", "metropolis", "proda_compat"]
ProposalScale = Literal["proda", "haario"]

#: PRODA's MCMC protocol numbers. Source: Tao et al. (preprint, [1]) §2.6 (20,000 test and 50,000
#: formal iterations, acceptance ratio kept in 10–50 %, burn-in 50 %, three chains) and the public
#: PRODA code (``da_cesm2_clm5_cen_vr_v2.m``): U(−0.1, 0.1) test steps (range/allow, allow = 5);
#: a test run with fewer than 50 accepted restarts with allow × 1.1, i.e. a step 1/1.1 as wide,
#: at most 3 times, then runs once more at the original step and goes on; adaptation after
#: iteration 4,000; rescaling ×0.7 / ×2 at most 5 times; chains start at 0.5; an invalid state
#: costs J_old + 100.
PRODA_MCMC_SETTINGS: dict[str, float | int | tuple[float, float]] = {
    "n_chains": 3,
    "test_iterations": 20_000,
    "formal_iterations": 50_000,
    "test_step": 0.1,
    "test_step_shrink": 1.0 / 1.1,
    "min_accepted_test": 50,
    "max_restarts_test": 3,
    "adapt_start": 4_000,
    "target_acceptance": (0.10, 0.50),
    "shrink": 0.7,
    "grow": 2.0,
    "max_reruns_formal": 5,
    "start": 0.5,
    "burn_in_fraction": 0.5,
    "invalid_penalty": 100.0,
}

#: Proposal-covariance factors c(d) in Σ_prop = c(d)·Σ: PRODA's code uses 2.4/d, Haario et al.
#: (2001, §2, after Gelman et al. 1996) use s_d = 2.4²/d.
_SCALE_FACTORS: dict[str, Callable[[int], float]] = {
    "proda": lambda d: 2.4 / d,
    "haario": lambda d: 2.4**2 / d,
}

#: Haario et al.'s ε: ε·I is added to every covariance so that the proposal stays non-singular
#: (unit-cube units, i.e. a standard deviation of 1e-4 of the prior range).
_EPSILON = 1e-8


@dataclass(frozen=True)
class MCMCResult:
    """Result of :func:`adaptive_metropolis`; arrays lead with ``(*batch_shape, n_chains)``.

    Attributes
    ----------
    samples : ndarray, shape (*batch_shape, n_chains, n_kept, d)
        Formal-run chain states in [0, 1] after burn-in (the first half of the formal iterations
        is discarded) and thinning. Rejected proposals repeat the current state, as a Metropolis
        chain must for its states to sample the posterior.
    log_target : ndarray, shape (*batch_shape, n_chains, n_kept)
        Log target at each kept sample (the trace that goes with ``samples``).
    best : ndarray, shape (*batch_shape, n_chains, d)
        Highest-log-target state visited in the final formal run of each chain.
    best_log_target : ndarray, shape (*batch_shape, n_chains)
        Its log target.
    test_accepted, formal_accepted : ndarray of int, shape (*batch_shape, n_chains)
        Accepted proposals in the last test run and the last formal run of each chain.
    test_acceptance_rate, acceptance_rate : ndarray, shape (*batch_shape, n_chains)
        Accepted / iterations of the last test and formal runs (PRODA's "acceptance ratio").
    acceptance_in_range : ndarray of bool, shape (*batch_shape, n_chains)
        Whether ``acceptance_rate`` ended inside ``target_acceptance``.
    test_restarts, formal_reruns : ndarray of int, shape (*batch_shape, n_chains)
        How many times each chain's test run was restarted with a narrower step and its formal
        run rerun with a rescaled proposal.
    test_exhausted : ndarray of bool, shape (*batch_shape, n_chains)
        Chains whose test run still had fewer than ``min_accepted_test`` accepted proposals
        after ``max_restarts_test`` restarts. As in PRODA's code they run the test once more at
        the original step and go on to the formal run whatever it accepted.
    test_step : ndarray, shape (*batch_shape, n_chains)
        Half-width of the uniform test-run step in the last test run (0.1/1.1^restarts).
    proposal_scale : ndarray, shape (*batch_shape, n_chains)
        Final multiplier of the covariance: c(d)·0.7^a·2^b after the acceptance control.
    proposal_cov : ndarray, shape (*batch_shape, n_chains, d, d)
        Final formal-run proposal covariance, ``proposal_scale·(Σ + ε·I)``.
    out_of_bounds_rejected : ndarray of int, shape (*batch_shape, n_chains)
        Proposals of the last formal run still outside [0, 1] after ``max_redraws`` redraws,
        counted as rejections.
    n_log_target_calls : int
        Calls made to the log target: one at the start and one per iteration of every test and
        formal run, restarts and reruns included (a rerun calls it for its own rows only).
    n_evaluations : int
        Model evaluations (rows) over all calls: the compute actually spent.
    acceptance : str
        Acceptance rule used.
    """

    samples: np.ndarray
    log_target: np.ndarray
    best: np.ndarray
    best_log_target: np.ndarray
    test_accepted: np.ndarray
    formal_accepted: np.ndarray
    test_acceptance_rate: np.ndarray
    acceptance_rate: np.ndarray
    acceptance_in_range: np.ndarray
    test_restarts: np.ndarray
    test_exhausted: np.ndarray
    formal_reruns: np.ndarray
    test_step: np.ndarray
    proposal_scale: np.ndarray
    proposal_cov: np.ndarray
    out_of_bounds_rejected: np.ndarray
    n_log_target_calls: int
    n_evaluations: int
    acceptance: str

    @property
    def posterior_mean(self) -> np.ndarray:
        """Posterior mean over chains and kept samples, shape (*batch_shape, d)
        (Tao et al. (EarthArXiv) §2.6)."""
        return self.samples.mean(axis=(-3, -2))


def _accept(
    acceptance: str, lt_new: np.ndarray, lt_cur: np.ndarray, n: int, log_u: np.ndarray
) -> np.ndarray:
    """Acceptance decision, Eqs. (1)–(2) of :func:`adaptive_metropolis`."""
    with np.errstate(invalid="ignore"):
        diff = lt_new - lt_cur  # = −ΔJ with J = −log target; NaN when both are −inf → reject
        if acceptance == "metropolis":
            return log_u < diff
        return log_u < diff * math.log(n + 2)


def _penalize(lt_new: np.ndarray, lt_cur: np.ndarray, penalty: float | None) -> np.ndarray:
    """PRODA's cost of an invalid state: J_old + ``penalty`` (log target lt_cur − penalty)."""
    if penalty is None:
        return lt_new
    bad = ~np.isfinite(lt_new) & np.isfinite(lt_cur)
    return np.where(bad, lt_cur - penalty, lt_new)


#: States buffered before a block update of the running covariances (:class:`_BlockWelford`).
_WELFORD_BLOCK = 16

#: Candidates drawn at once for the rows whose proposal left the unit cube: the first candidate
#: inside is used, exactly as if they had been redrawn one at a time (iid draws), with far fewer
#: Python-level rounds when a chain sits near a bound in many dimensions.
_REDRAW_BLOCK = 16


class _BlockWelford:
    """Running weighted mean and scatter of R chains, merged a block of states at a time.

    States are buffered and folded in every ``block`` pushes (or on :meth:`flush`) with Chan et
    al.'s pairwise update [4]_ — the block form of Welford's algorithm [3]_: for a block with
    weight sum n_b, mean m_b and scatter M_b, ``M ← M + M_b + δδᵀ·n·n_b/(n + n_b)``,
    ``m ← m + δ·n_b/(n + n_b)``, δ = m_b − m. The result equals the one-state-at-a-time update
    up to rounding, at the cost of one batched matrix product per block instead of an outer
    product per state. Weights are 0 or 1 (the test run counts accepted states only).
    """

    def __init__(self, n_rows: int, d: int, block: int, start: np.ndarray | None = None):
        self.n = np.zeros(n_rows) if start is None else np.ones(n_rows)
        self.mean = np.zeros((n_rows, d)) if start is None else start.copy()
        self.m2 = np.zeros((n_rows, d, d))
        self.buf = np.empty((n_rows, block, d))
        self.wbuf = np.empty((n_rows, block))
        self.k = 0

    def push(self, x: np.ndarray, weight: np.ndarray | None = None) -> None:
        self.buf[:, self.k] = x
        self.wbuf[:, self.k] = 1.0 if weight is None else weight
        self.k += 1
        if self.k == self.buf.shape[1]:
            self.flush()

    def flush(self) -> None:
        k = self.k
        if k == 0:
            return
        x, w = self.buf[:, :k], self.wbuf[:, :k]
        nb = w.sum(axis=1)
        mb = np.einsum("rk,rkd->rd", w, x) / np.maximum(nb, 1.0)[:, None]
        c = (x - mb[:, None, :]) * w[:, :, None]  # weights are 0/1: w·(x − m_b)
        mb2 = np.matmul(np.swapaxes(c, 1, 2), c)
        tot = self.n + nb
        frac = np.divide(nb, tot, out=np.zeros_like(nb), where=tot > 0)
        delta = mb - self.mean
        self.m2 += mb2 + (self.n * frac)[:, None, None] * delta[:, :, None] * delta[:, None, :]
        self.mean += delta * frac[:, None]
        self.n = tot
        self.k = 0


class _Sampler:
    """Log-target calls and proposals for a compact set of rows of the flattened batch.

    The batch ``(*batch_shape, n_chains)`` is flattened to B rows. A phase (test or formal run)
    runs on the rows given to it; the log target sees only those rows when it can
    (:func:`adaptive_metropolis`, "Row subsets"), else the full array with the other rows at
    their starting state (their values are discarded).
    """

    def __init__(self, log_target, batch_shape, n_chains, d, rng, acceptance, max_redraws):
        self.log_target_fn = log_target
        self.rows_fn = getattr(log_target, "evaluate_rows", None)
        self.shape = (*batch_shape, n_chains)
        self.B = int(np.prod(self.shape, dtype=np.int64))
        self.d = d
        self.rng = rng
        self.acceptance = acceptance
        self.max_redraws = max_redraws
        self.calls = 0
        self.evaluations = 0
        self.fill: np.ndarray | None = None

    def evaluate(self, u: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Log target at ``u`` (R, d) for flat rows ``rows`` (R,); NaN → −inf."""
        self.calls += 1
        self.evaluations += rows.size
        if rows.size == self.B:
            out = self._full(u)
        elif self.rows_fn is not None:
            out = np.asarray(self.rows_fn(u, np.unravel_index(rows, self.shape)), dtype=float)
            if out.shape != (rows.size,):
                raise InputDataError(
                    f"log_target.evaluate_rows must return shape ({rows.size},)",
                    field="log_target",
                    value=out.shape,
                )
        else:
            full = self.fill.copy()
            full[rows] = u
            out = self._full(full)[rows]
        return np.where(np.isnan(out), -np.inf, out)

    def _full(self, u: np.ndarray) -> np.ndarray:
        out = np.asarray(self.log_target_fn(u.reshape(*self.shape, self.d)), dtype=float)
        if out.shape != self.shape:
            raise InputDataError(
                f"log_target must return shape {self.shape} (batch_shape + (n_chains,))",
                field="log_target",
                value=out.shape,
            )
        return out.reshape(self.B)

    def propose(self, x: np.ndarray, draw) -> tuple[np.ndarray, np.ndarray]:
        """Proposals x + step for every row; out-of-bounds rows are redrawn (Eq. 3).

        ``draw(local_rows, k)`` returns k steps per row, shape (len(local_rows), k, d). Returns
        the proposals (rows still outside [0, 1] after ``max_redraws`` redraws keep their current
        state) and a mask of the proposals that may be judged (in bounds).
        """
        n = x.shape[0]
        prop = x + draw(np.arange(n), 1)[:, 0]
        bad = np.flatnonzero(((prop < 0.0) | (prop > 1.0)).any(axis=-1))
        tries = 0
        while bad.size and tries < self.max_redraws:
            k = min(_REDRAW_BLOCK, self.max_redraws - tries)
            cand = x[bad, None, :] + draw(bad, k)  # (nb, k, d)
            inside = ((cand >= 0.0) & (cand <= 1.0)).all(axis=-1)  # (nb, k)
            found = inside.any(axis=-1)
            first = np.argmax(inside, axis=-1)
            prop[bad[found]] = cand[found, first[found]]
            bad = bad[~found]
            tries += k
        judged = np.ones(n, dtype=bool)
        if bad.size:
            prop[bad] = x[bad]
            judged[bad] = False
        return prop, judged


def _check(cond: bool, message: str, field: str, value) -> None:
    if not cond:
        raise InputDataError(message, field=field, value=value)


def adaptive_metropolis(
    log_target: Callable[[np.ndarray], np.ndarray],
    n_params: int,
    *,
    batch_shape: tuple[int, ...] = (),
    n_chains: int = 3,
    test_iterations: int = 20_000,
    formal_iterations: int = 50_000,
    scale: ProposalScale = "proda",
    acceptance: Acceptance = "proda",
    rng: np.random.Generator | int | None = None,
    start: float | np.ndarray = 0.5,
    adapt_start: int = 4_000,
    adapt_every: int = 10,
    target_acceptance: tuple[float, float] = (0.10, 0.50),
    max_restarts_test: int = 3,
    max_reruns_formal: int = 5,
    min_accepted_test: int = 50,
    test_step: float = 0.1,
    thin: int = 10,
    max_redraws: int | None = None,
    invalid_penalty: float | None = None,
) -> MCMCResult:
    r"""Sample ``exp(log_target)`` on the unit cube with PRODA's two-phase adaptive Metropolis.

    Every chain of every profile (rows of a ``(*batch_shape, n_chains, d)`` array) advances at
    once; ``log_target`` is called once per iteration with all the chains of the run.

    **Test run** (``test_iterations``): from ``start``, proposals are
    :math:`u' = u + \xi`, :math:`\xi_j \sim U(-h, h)`, :math:`h = 0.1`. A chain that accepts
    fewer than ``min_accepted_test`` (50) proposals restarts from ``start`` with
    :math:`h \leftarrow h/1.1` (PRODA's ``allow × 1.1``: a narrower step), at most
    ``max_restarts_test`` (3) times; a chain still short after that runs the test once more at
    the original step and goes on regardless (``test_exhausted``; PRODA's code does so — the
    spec's "the chain is given up" is not what the code does). The covariance
    :math:`\Sigma_0` of **all** its recorded states (the repeated current state included, as
    PRODA's ``parameters_rec1``) is kept (Welford [3]_); with no accepted proposal,
    :math:`\Sigma_0 = (h^2/3) I`, the covariance of the uniform step.

    **Formal run** (``formal_iterations``, continuing from the test run's last state):

    .. math:: u' = u + L z,\quad z \sim N(0, I),\quad L L^T = s\,c(d)\,(\Sigma_t + \varepsilon I)
       \tag{3}

    with :math:`c(d) = 2.4/d` (``scale="proda"``, PRODA's code) or :math:`2.4^2/d`
    (``scale="haario"``, [2]_), :math:`\varepsilon = 10^{-8}` and :math:`s = 1` at first.
    :math:`\Sigma_t = \Sigma_0` until iteration ``adapt_start`` (4,000); afterwards it is the
    running (Welford) covariance of the chain's formal-run history (updated every iteration),
    whose Cholesky factor is refreshed every ``adapt_every`` (10) iterations. Haario et al.
    adapt at every step (``adapt_every=1``); refreshing every k steps is a cost saving, since the
    batched Cholesky of (B, d, d) dominates an iteration's own cost. A chain whose acceptance
    rate ends below / above ``target_acceptance`` (10–50 %) reruns its formal run from the same
    starting state with :math:`s \leftarrow 0.7\,s` / :math:`s \leftarrow 2\,s`, at most
    ``max_reruns_formal`` (5) times.

    Proposals outside the cube (**Bounds**), restarts on row subsets (**Row subsets**,
    ``log_target.evaluate_rows``) and **Burn-in and thinning** are described in the module
    docstring.

    **Invalid states.** A proposal whose log target is not finite (a singular or invalid
    steady state) is rejected (``invalid_penalty=None``, right for a true posterior) or, as in
    PRODA's code, given the cost :math:`J_{old} + 100` (``invalid_penalty=100``, the default
    with ``acceptance="proda"``), which Eq. (2) accepts with probability
    :math:`(n+2)^{-100}`.

    **Acceptance** (``U ~ U(0, 1)``, :math:`\Delta \log\pi = \log\pi(u') - \log\pi(u)`):

    .. math:: \text{metropolis:}\quad \log U < \Delta\log\pi \tag{1}

    .. math:: \text{proda:}\quad \exp(-\Delta J\,\log(n + 2)) > U,
       \quad J = -\log\pi \tag{2}

    Eq. (1) is standard Metropolis (symmetric proposals) and samples the posterior; Eq. (2) is
    the annealed rule of the public PRODA code, with :math:`n` the 1-based iteration number
    within the current test or formal run. Pass the PRODA cost as ``log_target = −J``. Eq. (2)
    sharpens the target as :math:`\pi^{\log(n+2)}`, so its chains concentrate around the cost
    minimum rather than sample the posterior.

    Parameters
    ----------
    log_target : callable
        ``log_target(u)`` with ``u`` of shape ``(*batch_shape, n_chains, d)`` in [0, 1], returning
        the log posterior (up to a constant) of shape ``(*batch_shape, n_chains)``. NaN is taken
        as −inf.
    n_params : int
        Number of parameters d.
    batch_shape : tuple of int
        Leading batch shape (e.g. ``(n_profiles,)``).
    n_chains : int
        Independent chains per batch element (PRODA: 3).
    test_iterations, formal_iterations : int
        Iterations of the test and formal runs (PRODA: 20,000 and 50,000).
    scale : {"proda", "haario"}
        Proposal factor c(d) = 2.4/d or 2.4²/d in Eq. (3).
    acceptance : {"proda", "metropolis"}
        Eq. (2) (default, the published code) or Eq. (1); ``"proda_compat"`` is an old name of
        ``"proda"``.
    rng : numpy.random.Generator, int or None
        Random generator or seed.
    start : float or array broadcastable to (*batch_shape, n_chains, d)
        Starting point in [0, 1] (PRODA: 0.5).
    adapt_start : int
        Formal-run iteration after which the proposal covariance adapts (PRODA: 4,000).
    adapt_every : int
        Iterations between refreshes of the adapted covariance's Cholesky factor.
    target_acceptance : (float, float)
        Accepted band of the formal-run acceptance rate (PRODA: 0.10, 0.50).
    max_restarts_test, max_reruns_formal : int
        Caps on test-run restarts (3) and formal-run reruns (5).
    min_accepted_test : int
        Accepted proposals a test run needs (50).
    test_step : float
        Initial half-width h of the uniform test-run step (0.1).
    thin : int
        Keep every ``thin``-th post-burn-in state.
    max_redraws : int, optional
        Cap on the redraws of an out-of-bounds proposal; default 0 for ``"metropolis"``, 100 for
        ``"proda"`` (see Bounds).
    invalid_penalty : float, optional
        Cost added to J_old for a proposal with a non-finite log target (see Invalid states);
        default 100 for ``"proda"``, None (reject) for ``"metropolis"``.

    Returns
    -------
    MCMCResult

    Raises
    ------
    InputDataError
        For invalid settings (naming the field and value) or a log target of the wrong shape.
    """
    d = int(n_params)
    _check(d >= 1, "expected n_params >= 1", "n_params", n_params)
    batch_shape = tuple(int(b) for b in batch_shape)
    acceptance, invalid_penalty, band, max_redraws = _settings(
        d, batch_shape, n_chains, test_iterations, formal_iterations, scale, acceptance,
        invalid_penalty, target_acceptance, adapt_start, adapt_every, thin, test_step,
        max_restarts_test, max_reruns_formal, max_redraws)
    rng = np.random.default_rng(rng)
    s = _Sampler(log_target, batch_shape, n_chains, d, rng, acceptance, max_redraws)
    x0 = _starting_states(s, start)
    lt0 = s.evaluate(x0, np.arange(s.B))
    test = _test_phase(s, x0, lt0, test_iterations, float(test_step), min_accepted_test,
                       max_restarts_test, invalid_penalty)
    formal = _FormalRun(s, test, _SCALE_FACTORS[scale](d), formal_iterations, thin, adapt_start,
                        adapt_every, invalid_penalty)
    s_mult, reruns = formal.control_band(*band, max_reruns_formal)
    return _result(s, test, formal, formal.c_d * s_mult, reruns, band, test_iterations, acceptance)


def _result(s: _Sampler, test: _TestPhase, formal: _FormalRun, proposal_scale: np.ndarray,
            reruns: np.ndarray, band: tuple[float, float], test_iterations: int,
            acceptance: str) -> MCMCResult:
    """The flat per-row results reshaped to ``(*batch_shape, n_chains, ...)``."""
    d, sh, n_kept = s.d, s.shape, formal.n_kept
    rate = formal.n_acc / formal.iterations
    chol = formal.chol
    prop_cov = proposal_scale[:, None, None] * (chol @ np.swapaxes(chol, -1, -2))
    return MCMCResult(
        samples=formal.samples.reshape(*sh, n_kept, d),
        log_target=formal.trace.reshape(*sh, n_kept),
        best=formal.best.reshape(*sh, d),
        best_log_target=formal.best_lt.reshape(sh),
        test_accepted=test.n_acc.reshape(sh),
        formal_accepted=formal.n_acc.reshape(sh),
        test_acceptance_rate=(test.n_acc / test_iterations).reshape(sh),
        acceptance_rate=rate.reshape(sh),
        acceptance_in_range=((rate >= band[0]) & (rate <= band[1])).reshape(sh),
        test_restarts=test.restarts.reshape(sh),
        test_exhausted=test.exhausted.reshape(sh),
        formal_reruns=reruns.reshape(sh),
        test_step=test.step.reshape(sh),
        proposal_scale=proposal_scale.reshape(sh),
        proposal_cov=prop_cov.reshape(*sh, d, d),
        out_of_bounds_rejected=formal.oob.reshape(sh),
        n_log_target_calls=s.calls,
        n_evaluations=s.evaluations,
        acceptance=acceptance,
    )


def _settings(d, batch_shape, n_chains, test_iterations, formal_iterations, scale, acceptance,
              invalid_penalty, target_acceptance, adapt_start, adapt_every, thin, test_step,
              max_restarts_test, max_reruns_formal, max_redraws):
    """Check :func:`adaptive_metropolis`'s settings; resolve the acceptance-dependent defaults.

    Returns ``(acceptance, invalid_penalty, (low, high) of target_acceptance, max_redraws)``.
    """
    _check(all(b >= 1 for b in batch_shape), "expected positive sizes", "batch_shape", batch_shape)
    _check(n_chains >= 1, "expected n_chains >= 1", "n_chains", n_chains)
    _check(test_iterations >= 1, "expected >= 1", "test_iterations", test_iterations)
    _check(formal_iterations >= 2, "expected >= 2", "formal_iterations", formal_iterations)
    _check(scale in _SCALE_FACTORS, "expected 'proda' or 'haario'", "scale", scale)
    _check(
        acceptance in ("proda", "metropolis", "proda_compat"),
        "expected 'proda' or 'metropolis'",
        "acceptance",
        acceptance,
    )
    if acceptance == "proda_compat":
        acceptance = "proda"
    if invalid_penalty is None and acceptance == "proda":
        invalid_penalty = 100.0
    lo_acc, hi_acc = (float(t) for t in target_acceptance)
    _check(
        0.0 <= lo_acc < hi_acc <= 1.0,
        "expected 0 <= low < high <= 1",
        "target_acceptance",
        target_acceptance,
    )
    _check(adapt_start >= 0, "expected >= 0", "adapt_start", adapt_start)
    _check(adapt_every >= 1, "expected >= 1", "adapt_every", adapt_every)
    _check(thin >= 1, "expected >= 1", "thin", thin)
    _check(test_step > 0, "expected > 0", "test_step", test_step)
    _check(max_restarts_test >= 0, "expected >= 0", "max_restarts_test", max_restarts_test)
    _check(max_reruns_formal >= 0, "expected >= 0", "max_reruns_formal", max_reruns_formal)
    if max_redraws is None:
        max_redraws = 0 if acceptance == "metropolis" else 100
    _check(max_redraws >= 0, "expected >= 0", "max_redraws", max_redraws)
    return acceptance, invalid_penalty, (lo_acc, hi_acc), max_redraws


def _starting_states(s: _Sampler, start: float | np.ndarray) -> np.ndarray:
    """``start`` broadcast to the flat rows (B, d), checked to lie in [0, 1]; set as ``s.fill``."""
    d = s.d
    try:
        x0 = np.broadcast_to(np.asarray(start, dtype=float), (*s.shape, d)).reshape(s.B, d).copy()
    except ValueError:
        raise InputDataError(
            f"expected a value broadcastable to {(*s.shape, d)}",
            field="start",
            value=np.shape(start),
        ) from None
    _check(bool(np.all((x0 >= 0) & (x0 <= 1))), "expected values in [0, 1]", "start", start)
    s.fill = x0
    return x0


class _TestPhase(NamedTuple):
    """End of the test runs for every flat row (arrays lead with B)."""

    x: np.ndarray
    lt: np.ndarray
    n_acc: np.ndarray
    restarts: np.ndarray
    exhausted: np.ndarray
    step: np.ndarray
    chol0: np.ndarray


def _test_phase(s: _Sampler, x0: np.ndarray, lt0: np.ndarray, iterations: int, test_step: float,
                min_accepted: int, max_restarts: int, penalty: float | None) -> _TestPhase:
    """Test runs with restarts at a narrower step (:func:`adaptive_metropolis`, Test run)."""
    B, d = x0.shape
    eye = np.eye(d)
    step = np.full(B, test_step)
    restarts = np.zeros(B, dtype=np.int64)
    x_t, lt_t = x0.copy(), lt0.copy()
    n_acc_t = np.zeros(B, dtype=np.int64)
    cov0 = np.empty((B, d, d))

    def run(rows: np.ndarray) -> None:
        h = step[rows]
        x_t[rows], lt_t[rows], n_acc_t[rows], m2 = _test_run(
            s, x0[rows], lt0[rows], rows, h, iterations, penalty
        )
        cov0[rows] = np.where(
            ((n_acc_t[rows] >= 1) & (iterations >= 2))[:, None, None],
            m2 / max(iterations - 1, 1),
            (h**2 / 3.0)[:, None, None] * eye,
        )

    rows = np.arange(B)
    while True:
        run(rows)
        rows = rows[(n_acc_t[rows] < min_accepted) & (restarts[rows] < max_restarts)]
        if not rows.size:
            break
        restarts[rows] += 1
        step[rows] /= 1.1  # PRODA: allow × 1.1, the step range/allow narrows
    # PRODA's code does not drop a chain whose restarts are used up: it runs the test once more
    # at the original step (``allow`` is reset to 5, ``is_second_time`` skips the check) and
    # goes on to the formal run with whatever that run accepted.
    exhausted = n_acc_t < min_accepted
    if exhausted.any() and max_restarts > 0:
        rows = np.flatnonzero(exhausted)
        step[rows] = test_step
        run(rows)
    chol0 = np.linalg.cholesky(cov0 + _EPSILON * eye)
    return _TestPhase(x_t, lt_t, n_acc_t, restarts, exhausted, step, chol0)


def _test_run(s: _Sampler, x: np.ndarray, lt: np.ndarray, rows: np.ndarray, h: np.ndarray,
              iterations: int, penalty: float | None):
    """One test run of the chains ``rows`` from the start (compact arrays of R rows).

    Returns the last states, their log targets, the accepted counts and the scatter matrix of
    all recorded states (PRODA's ``parameters_rec1``) [3]_, [4]_.
    """
    rng, d = s.rng, s.d

    def uniform_steps(local: np.ndarray, k: int) -> np.ndarray:
        return rng.uniform(-1.0, 1.0, size=(local.size, k, d)) * h[local, None, None]

    x, lt = x.copy(), lt.copy()
    n_acc = np.zeros(rows.size, dtype=np.int64)
    stats = _BlockWelford(rows.size, d, _WELFORD_BLOCK)
    for n in range(1, iterations + 1):
        prop, judged = s.propose(x, uniform_steps)
        lt_new = _penalize(s.evaluate(prop, rows), lt, penalty)
        acc = judged & _accept(s.acceptance, lt_new, lt, n, np.log(rng.random(rows.size)))
        x[acc] = prop[acc]
        lt[acc] = lt_new[acc]
        n_acc += acc
        stats.push(x)
    stats.flush()
    return x, lt, n_acc, stats.m2


class _FormalRun:
    """Formal runs of every flat row, continuing from the test phase (Formal run, Eq. 3).

    Holds the per-row results (kept samples and their log targets, best state, accepted and
    out-of-bounds counts, final Cholesky factor); :meth:`run` fills them for a set of rows and
    :meth:`control_band` reruns the chains whose acceptance rate leaves the target band.
    """

    def __init__(self, s: _Sampler, test: _TestPhase, c_d: float, iterations: int, thin: int,
                 adapt_start: int, adapt_every: int, penalty: float | None):
        B, d = s.B, s.d
        self.s, self.test, self.c_d = s, test, c_d
        self.iterations, self.thin = iterations, thin
        self.adapt_start, self.adapt_every, self.penalty = adapt_start, adapt_every, penalty
        self.burn = iterations // 2
        self.n_kept = -(-(iterations - self.burn) // thin)
        self.samples = np.empty((B, self.n_kept, d))
        self.trace = np.empty((B, self.n_kept))
        self.best = np.empty((B, d))
        self.best_lt = np.empty(B)
        self.n_acc = np.zeros(B, dtype=np.int64)
        self.oob = np.zeros(B, dtype=np.int64)
        self.chol = np.empty((B, d, d))

    def control_band(self, lo_acc: float, hi_acc: float, max_reruns: int):
        """Run every chain; rerun those outside ``[lo_acc, hi_acc]`` with s × 0.7 or s × 2.

        Returns the final multipliers s and the rerun counts per row.
        """
        B = self.s.B
        s_mult = np.ones(B)
        reruns = np.zeros(B, dtype=np.int64)
        rows = np.arange(B)
        while True:
            self.run(rows, s_mult[rows])
            rate = self.n_acc[rows] / self.iterations
            low, high = rate < lo_acc, rate > hi_acc
            retry = (low | high) & (reruns[rows] < max_reruns)
            if not retry.any():
                break
            s_mult[rows[retry & low]] *= 0.7
            s_mult[rows[retry & high]] *= 2.0
            rows = rows[retry]
            reruns[rows] += 1
        return s_mult, reruns

    def run(self, rows: np.ndarray, s_mult: np.ndarray) -> None:
        """One formal run of the chains ``rows`` from their test-run end (R compact rows)."""
        s, d, rng = self.s, self.s.d, self.s.rng
        burn, thin, n_kept = self.burn, self.thin, self.n_kept
        eye = np.eye(d)
        L = self.test.chol0[rows].copy()
        root = np.sqrt(self.c_d * s_mult)[:, None, None]
        scaled_t = np.swapaxes(root * L, 1, 2)

        def normal_steps(local: np.ndarray, k: int) -> np.ndarray:
            z = rng.standard_normal((local.size, k, d))
            f = scaled_t if local.size == rows.size else scaled_t[local]
            return np.matmul(z, f)  # z·(√(s c) L)ᵀ: (R, k, d)

        x, lt = self.test.x[rows].copy(), self.test.lt[rows].copy()
        top, top_lt = x.copy(), lt.copy()
        n_acc = np.zeros(rows.size, dtype=np.int64)
        n_oob = np.zeros(rows.size, dtype=np.int64)
        kept = np.empty((rows.size, n_kept, d))
        kept_lt = np.empty((rows.size, n_kept))
        # running covariance of the chain history, seeded with the starting state [3], [4]
        hist = _BlockWelford(rows.size, d, _WELFORD_BLOCK, start=x)
        for n in range(1, self.iterations + 1):
            prop, judged = s.propose(x, normal_steps)
            n_oob += ~judged
            lt_new = _penalize(s.evaluate(prop, rows), lt, self.penalty)
            acc = judged & _accept(s.acceptance, lt_new, lt, n, np.log(rng.random(rows.size)))
            x[acc] = prop[acc]
            lt[acc] = lt_new[acc]
            n_acc += acc
            better = acc & (lt > top_lt)
            top[better], top_lt[better] = x[better], lt[better]
            i = n - 1
            if i >= burn and (i - burn) % thin == 0:
                k = (i - burn) // thin
                kept[:, k] = x
                kept_lt[:, k] = lt
            hist.push(x)  # n + 1 states so far, the start included
            if n >= self.adapt_start and (n - self.adapt_start) % self.adapt_every == 0:
                hist.flush()
                L = np.linalg.cholesky(hist.m2 / n + _EPSILON * eye)
                scaled_t = np.swapaxes(root * L, 1, 2)
        self.samples[rows], self.trace[rows] = kept, kept_lt
        self.best[rows], self.best_lt[rows] = top, top_lt
        self.n_acc[rows], self.oob[rows], self.chol[rows] = n_acc, n_oob, L
