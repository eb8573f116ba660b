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

**Scheduling and row subsets.** Every chain (row) follows its own sequence of runs — test run,
restarts, formal run, reruns — and all rows that have not finished advance together, one step
of their own current run per log-target call: a chain that restarts or reruns does so at once,
in the same batched calls as the chains still in their first run, instead of in a later pass
with only the chains that need it (small, poorly batched calls). The calls made are those of
the longest chain's sequence of runs. Once some chains have finished, a call covers the others
only: if ``log_target`` has an attribute ``evaluate_rows(u, index)`` (``u`` of shape (R, d),
``index`` a tuple of R-long integer arrays into ``(*batch_shape, n_chains)``, as
:func:`numpy.unravel_index` gives, returning shape (R,)), it is called with just those rows;
otherwise the full array is passed, the other rows at their starting state, and their values are
discarded. Either way a chain costs in proportion to its own runs (``n_evaluations`` counts the
rows evaluated). Random numbers are drawn for the active rows of each step, so which numbers a
chain gets depends on the batch (as in any batched sampler); each chain's rules do not.

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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

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
    formal_steps : ndarray of int, shape (*batch_shape, n_chains)
        Formal-run iterations evaluated over all of a chain's formal runs: the last run's
        ``formal_iterations`` plus each rerun run's length (cut short once its rate could no
        longer end inside the band).
    n_log_target_calls : int
        Calls made to the log target: one at the start and one per step, i.e. per iteration of
        the longest chain's test and formal runs, restarts and reruns included (each call
        covers the chains still running).
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
    formal_steps: np.ndarray | None = None

    @property
    def posterior_mean(self) -> np.ndarray:
        """Posterior mean over chains and kept samples, shape (*batch_shape, d)
        (Tao et al. (EarthArXiv) §2.6)."""
        return self.samples.mean(axis=(-3, -2))


def _accept(
    acceptance: str, lt_new: np.ndarray, lt_cur: np.ndarray, n: np.ndarray, log_u: np.ndarray
) -> np.ndarray:
    """Acceptance decision, Eqs. (1)–(2) of :func:`adaptive_metropolis` (``n`` per row)."""
    with np.errstate(invalid="ignore"):
        diff = lt_new - lt_cur  # = −ΔJ with J = −log target; NaN when both are −inf → reject
        if acceptance == "metropolis":
            return log_u < diff
        return log_u < diff * np.log(n + 2.0)


def _penalize(lt_new: np.ndarray, lt_cur: np.ndarray, penalty: float | None) -> np.ndarray:
    """PRODA's cost of an invalid state: J_old + ``penalty`` (log target lt_cur − penalty)."""
    if penalty is None:
        return lt_new
    bad = ~np.isfinite(lt_new) & np.isfinite(lt_cur)
    return np.where(bad, lt_cur - penalty, lt_new)


#: States buffered before a block update of the running covariances (:class:`_BlockWelford`).
_WELFORD_BLOCK = 16

#: Candidates drawn per round for the rows whose proposal left the unit cube (cumulative 2, 8,
#: 32, then the rest of ``max_redraws``): the first candidate inside is used, exactly as if they
#: had been redrawn one at a time (iid draws), in at most four Python-level rounds. Growing
#: rounds keep the candidates drawn near the number needed: on NCSCD pedons (CLM5, mode proda)
#: half the proposals that leave the cube need ≤ 2 redraws and a tenth need more than 40, so a
#: fixed first block of 16 drew about 1.6 times the candidates of these rounds.
_REDRAW_ROUNDS = (2, 6, 24)


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
        if self.k == 0:
            return
        self._merge(slice(None))
        self.k = 0

    def flush_rows(self, rows: np.ndarray) -> None:
        """Fold the buffered states of ``rows`` only (their buffer weights are then zeroed, so
        that the next :meth:`flush` does not count them twice)."""
        if self.k == 0 or not rows.size:
            return
        self._merge(rows)
        self.wbuf[rows, : self.k] = 0.0

    def reset(self, rows: np.ndarray, start: np.ndarray | None = None) -> None:
        """Restart the statistics of ``rows``: empty, or seeded with one state ``start``."""
        self.wbuf[rows, : self.k] = 0.0
        if start is None:
            self.n[rows] = 0.0
            self.mean[rows] = 0.0
        else:
            self.n[rows] = 1.0
            self.mean[rows] = start
        self.m2[rows] = 0.0

    def _merge(self, rows) -> None:
        k = self.k
        x, w = self.buf[rows, :k], self.wbuf[rows, :k]
        n, mean = self.n[rows], self.mean[rows]
        nb = w.sum(axis=1)
        mb = np.einsum("rk,rkd->rd", w, x) / np.maximum(nb, 1.0)[:, None]
        c = (x - mb[:, None, :]) * w[:, :, None]  # weights are 0/1: w·(x − m_b)
        mb2 = np.matmul(np.swapaxes(c, 1, 2), c)
        tot = n + nb
        frac = np.divide(nb, tot, out=np.zeros_like(nb), where=tot > 0)
        delta = mb - mean
        self.m2[rows] += mb2 + (n * frac)[:, None, None] * delta[:, :, None] * delta[:, None, :]
        self.mean[rows] = mean + delta * frac[:, None]
        self.n[rows] = tot


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
    ``max_reruns_formal`` (5) times. A formal run whose rate can no longer end inside the band
    — more than 50 % of its iterations already accepted, or too few left to reach 10 % — is
    cut short there and rerun at once: the decision is the one its end would give, and a rerun
    discards the run's samples, best state and statistics, so the outcome is that of the full
    protocol with fewer evaluations (only which random numbers later steps draw changes).

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
    run = _Protocol(s, x0, lt0, test_iterations=test_iterations, test_step=float(test_step),
                    min_accepted=min_accepted_test, max_restarts=max_restarts_test,
                    c_d=_SCALE_FACTORS[scale](d), formal_iterations=formal_iterations,
                    thin=thin, adapt_start=adapt_start, adapt_every=adapt_every, band=band,
                    max_reruns=max_reruns_formal, penalty=invalid_penalty)
    run.run()
    return _result(s, run, band, acceptance)


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



class _Protocol:
    """PRODA's protocol for every flat row at once, each row in its own phase (test or formal
    run, restart or rerun), all active rows advancing in **one** log-target call per step.

    A row whose test run ends short of ``min_accepted`` restarts at once with a narrower step,
    and a row whose formal run ends outside the band reruns at once with its own rescaled
    proposal, while the other rows go on: restarts and reruns share each batched evaluation
    with the rows that are in their first run, instead of running afterwards in small batches.
    What each row does (its rules and the order of its own runs) is that of the published code;
    only the interleaving of rows, and so the assignment of random numbers to rows, depends on
    the batch.
    """

    def __init__(self, s: _Sampler, x0: np.ndarray, lt0: np.ndarray, *, test_iterations: int,
                 test_step: float, min_accepted: int, max_restarts: int, c_d: float,
                 formal_iterations: int, thin: int, adapt_start: int, adapt_every: int,
                 band: tuple[float, float], max_reruns: int, penalty: float | None):
        B, d = s.B, s.d
        self.s, self.d = s, d
        self.x0, self.lt0 = x0, lt0
        self.test_iterations, self.test_step0 = test_iterations, test_step
        self.min_accepted, self.max_restarts = min_accepted, max_restarts
        self.c_d, self.iterations, self.thin = c_d, formal_iterations, thin
        self.adapt_start, self.adapt_every = adapt_start, adapt_every
        self.band, self.max_reruns, self.penalty = band, max_reruns, penalty
        self.burn = formal_iterations // 2
        self.n_kept = -(-(formal_iterations - self.burn) // thin)
        self.eye = np.eye(d)
        # per-row state: phase 0 = test run, 1 = formal run, 2 = done
        self.phase = np.zeros(B, dtype=np.int8)
        self.n = np.zeros(B, dtype=np.int64)  # iterations done in the current run
        self.x, self.lt = x0.copy(), lt0.copy()
        self.stats = _BlockWelford(B, d, _WELFORD_BLOCK)
        # test runs
        self.step = np.full(B, test_step)
        self.restarts = np.zeros(B, dtype=np.int64)
        self.exhausted = np.zeros(B, dtype=bool)
        self.final_test = np.zeros(B, dtype=bool)  # the extra run at the original step
        self.test_acc = np.zeros(B, dtype=np.int64)
        self.test_x, self.test_lt = np.empty((B, d)), np.empty(B)
        self.chol0 = np.empty((B, d, d))
        # formal runs; the rescaling factor s is one per chain (row), as PRODA keeps one per run
        self.s_mult = np.ones(B)
        self.reruns = np.zeros(B, dtype=np.int64)
        self.acc = np.zeros(B, dtype=np.int64)
        self.oob = np.zeros(B, dtype=np.int64)
        self.formal_steps = np.zeros(B, dtype=np.int64)
        self.chol = np.empty((B, d, d))
        self.scaled_t = np.empty((B, d, d))  # (√(s·c) L)ᵀ, the step is z·scaled_t
        self.best, self.best_lt = np.empty((B, d)), np.empty(B)
        self.samples = np.empty((B, self.n_kept, d))
        self.trace = np.empty((B, self.n_kept))

    # ------------------------------------------------------------------ run starts
    def _start_test(self, rows: np.ndarray) -> None:
        self.phase[rows] = 0
        self.n[rows] = 0
        self.x[rows], self.lt[rows] = self.x0[rows], self.lt0[rows]
        self.test_acc[rows] = 0
        self.stats.reset(rows)

    def _start_formal(self, rows: np.ndarray) -> None:
        self.phase[rows] = 1
        self.n[rows] = 0
        x = self.test_x[rows]
        self.x[rows], self.lt[rows] = x, self.test_lt[rows]
        self.best[rows], self.best_lt[rows] = x, self.test_lt[rows]
        self.acc[rows] = 0
        self.oob[rows] = 0
        L = self.chol0[rows]
        self.chol[rows] = L
        self._scale(rows, L)
        self.stats.reset(rows, start=x)  # history seeded with the starting state [3], [4]

    def _scale(self, rows: np.ndarray, L: np.ndarray) -> None:
        root = np.sqrt(self.c_d * self.s_mult[rows])[:, None, None]
        self.scaled_t[rows] = np.swapaxes(root * L, 1, 2)

    # ------------------------------------------------------------------ run ends
    def _end_test(self, rows: np.ndarray) -> None:
        """Covariance of the run; restart (narrower, or once more at the original step) or go on.
        """
        it, h = self.test_iterations, self.step[rows]
        self.stats.flush_rows(rows)
        n_acc = self.test_acc[rows]
        cov0 = np.where(((n_acc >= 1) & (it >= 2))[:, None, None],
                        self.stats.m2[rows] / max(it - 1, 1),
                        (h**2 / 3.0)[:, None, None] * self.eye)
        self.test_x[rows], self.test_lt[rows] = self.x[rows], self.lt[rows]
        short = (n_acc < self.min_accepted) & ~self.final_test[rows]
        narrower = short & (self.restarts[rows] < self.max_restarts)
        r = rows[narrower]
        self.restarts[r] += 1
        self.step[r] /= 1.1  # PRODA: allow × 1.1, the step range/allow narrows
        # PRODA's code does not drop a chain whose restarts are used up: it runs the test once
        # more at the original step (``allow`` is reset to 5, ``is_second_time`` skips the check)
        # and goes on to the formal run with whatever that run accepted.
        used_up = short & ~narrower
        self.exhausted[rows[used_up]] = True
        last = rows[used_up] if self.max_restarts > 0 else rows[:0]
        self.step[last] = self.test_step0
        self.final_test[last] = True
        again = np.concatenate([r, last])
        if again.size:
            self._start_test(again)
        go = ~narrower & ~(used_up if self.max_restarts > 0 else np.zeros_like(used_up))
        if go.any():
            g = rows[go]
            self.chol0[g] = np.linalg.cholesky(cov0[go] + _EPSILON * self.eye)
            self._start_formal(g)

    def _end_formal(self, rows: np.ndarray) -> None:
        """Rerun with s × 0.7 / s × 2 when the acceptance rate left the band, else done."""
        lo_acc, hi_acc = self.band
        rate = self.acc[rows] / self.iterations
        low, high = rate < lo_acc, rate > hi_acc
        retry = (low | high) & (self.reruns[rows] < self.max_reruns)
        self.s_mult[rows[retry & low]] *= 0.7
        self.s_mult[rows[retry & high]] *= 2.0
        self.reruns[rows[retry]] += 1
        self.phase[rows[~retry]] = 2
        if retry.any():
            self._start_formal(rows[retry])

    # ------------------------------------------------------------------ one step
    def _draw(self, rows: np.ndarray, formal: np.ndarray, k: int) -> np.ndarray:
        """k steps per row (R, k, d): U(−h, h) for test rows, z·(√(s c) L)ᵀ for formal rows."""
        rng, d = self.s.rng, self.d
        nf = int(np.count_nonzero(formal))
        if nf == 0:
            return rng.uniform(-1.0, 1.0, size=(rows.size, k, d)) * self.step[rows, None, None]
        if nf == rows.size:
            f = self.scaled_t if nf == self.s.B else self.scaled_t[rows]  # all rows: no copy
            return np.matmul(rng.standard_normal((nf, k, d)), f)
        out = np.empty((rows.size, k, d))
        t = ~formal
        out[t] = rng.uniform(-1.0, 1.0, size=(rows.size - nf, k, d)) \
            * self.step[rows[t], None, None]
        out[formal] = np.matmul(rng.standard_normal((nf, k, d)), self.scaled_t[rows[formal]])
        return out

    def _propose(self, rows: np.ndarray, formal: np.ndarray, x: np.ndarray):
        """Proposals x + step for the rows; out-of-bounds rows are redrawn (Eq. 3).

        Returns the proposals (rows still outside [0, 1] after ``max_redraws`` redraws keep their
        current state) and a mask of the proposals that may be judged (in bounds).
        """
        max_redraws = self.s.max_redraws
        prop = x + self._draw(rows, formal, 1)[:, 0]
        bad = np.flatnonzero(((prop < 0.0) | (prop > 1.0)).any(axis=-1))
        tries, rnd = 0, 0
        while bad.size and tries < max_redraws:
            # growing rounds, then every remaining redraw at once
            k = min(_REDRAW_ROUNDS[rnd] if rnd < len(_REDRAW_ROUNDS) else max_redraws,
                    max_redraws - tries)
            rnd += 1
            cand = x[bad, None, :] + self._draw(rows[bad], formal[bad], k)  # (nb, k, d)
            inside = ((cand >= 0.0) & (cand <= 1.0)).all(axis=-1)  # (nb, k)
            found = inside.any(axis=-1)
            first = np.argmax(inside, axis=-1)
            prop[bad[found]] = cand[found, first[found]]
            bad = bad[~found]
            tries += k
        judged = np.ones(rows.size, dtype=bool)
        if bad.size:
            prop[bad] = x[bad]
            judged[bad] = False
        return prop, judged

    def run(self) -> None:
        """Advance every row until all have finished their last formal run."""
        s, rng = self.s, self.s.rng
        all_rows = np.arange(s.B)
        active = all_rows
        while active.size:
            ph = self.phase[active]
            formal = ph == 1
            n = self.n[active] + 1  # 1-based iteration number within each row's current run
            x, lt = self.x[active], self.lt[active]
            prop, judged = self._propose(active, formal, x)
            lt_new = _penalize(s.evaluate(prop, active), lt, self.penalty)
            acc = judged & _accept(s.acceptance, lt_new, lt, n, np.log(rng.random(active.size)))
            x[acc] = prop[acc]
            lt[acc] = lt_new[acc]
            self.x[active], self.lt[active], self.n[active] = x, lt, n
            self.stats.push(self.x, self.phase < 2)
            test = ~formal
            if test.any():
                self.test_acc[active[test]] += acc[test]
            if formal.any():
                self._formal_bookkeeping(active[formal], x[formal], lt[formal], n[formal],
                                         acc[formal], judged[formal])
            # runs that end at this step (a row's next run starts at the next step), and formal
            # runs whose rate can no longer end inside the band (cut short: they will be rerun)
            ends = n == np.where(formal, self.iterations, self.test_iterations)
            if formal.any():
                f = active[formal]
                a_now = self.acc[f]
                sure = (((a_now / self.iterations > self.band[1])
                         | ((a_now + (self.iterations - n[formal])) / self.iterations
                            < self.band[0]))
                        & (self.reruns[f] < self.max_reruns))
                ends[formal] |= sure
            if ends.any():
                e = active[ends]
                ef = formal[ends]
                if (~ef).any():
                    self._end_test(e[~ef])
                if ef.any():
                    self._end_formal(e[ef])
                active = all_rows[self.phase < 2]

    def _formal_bookkeeping(self, f, x, lt, n, acc, judged) -> None:
        """Counts, best state, kept samples and the covariance adaptation of formal rows f."""
        self.acc[f] += acc
        self.oob[f] += ~judged
        self.formal_steps[f] += 1
        better = acc & (lt > self.best_lt[f])
        if better.any():
            fb = f[better]
            self.best[fb], self.best_lt[fb] = x[better], lt[better]
        i = n - 1
        rel = i - self.burn
        keep = (rel >= 0) & (rel % self.thin == 0)
        if keep.any():
            k = rel[keep] // self.thin
            self.samples[f[keep], k] = x[keep]
            self.trace[f[keep], k] = lt[keep]
        due = (n >= self.adapt_start) & ((n - self.adapt_start) % self.adapt_every == 0)
        if due.any():
            fd = f[due]
            self.stats.flush_rows(fd)
            L = np.linalg.cholesky(self.stats.m2[fd] / n[due][:, None, None]
                                   + _EPSILON * self.eye)
            self.chol[fd] = L
            self._scale(fd, L)


def _result(s: _Sampler, run: _Protocol, band: tuple[float, float],
            acceptance: str) -> MCMCResult:
    """The flat per-row results reshaped to ``(*batch_shape, n_chains, ...)``."""
    d, sh, n_kept = s.d, s.shape, run.n_kept
    rate = run.acc / run.iterations
    proposal_scale = run.c_d * run.s_mult
    chol = run.chol
    prop_cov = proposal_scale[:, None, None] * (chol @ np.swapaxes(chol, -1, -2))
    return MCMCResult(
        samples=run.samples.reshape(*sh, n_kept, d),
        log_target=run.trace.reshape(*sh, n_kept),
        best=run.best.reshape(*sh, d),
        best_log_target=run.best_lt.reshape(sh),
        test_accepted=run.test_acc.reshape(sh),
        formal_accepted=run.acc.reshape(sh),
        test_acceptance_rate=(run.test_acc / run.test_iterations).reshape(sh),
        acceptance_rate=rate.reshape(sh),
        acceptance_in_range=((rate >= band[0]) & (rate <= band[1])).reshape(sh),
        test_restarts=run.restarts.reshape(sh),
        test_exhausted=run.exhausted.reshape(sh),
        formal_reruns=run.reruns.reshape(sh),
        test_step=run.step.reshape(sh),
        proposal_scale=proposal_scale.reshape(sh),
        proposal_cov=prop_cov.reshape(*sh, d, d),
        out_of_bounds_rejected=run.oob.reshape(sh),
        n_log_target_calls=s.calls,
        n_evaluations=s.evaluations,
        acceptance=acceptance,
        formal_steps=run.formal_steps.reshape(sh),
    )
