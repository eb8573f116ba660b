"""Vectorized adaptive Metropolis (PRODA protocol, Tao et al. (EarthArXiv) §2.6) against exact targets.

Reference values: Gaussian targets whose mean and covariance are known exactly (truncation to the
unit cube is negligible: every mean is at least 5 standard deviations from a bound); the Monte
Carlo error of each estimate is measured from the spread between independent chains. Protocol
numbers (restarts with a step 1/1.1 as wide at most 3 times, ×2 / ×0.7 rescaling at most 5 times,
2.4/d and 2.4²/d) are from the public PRODA code (``phxtao/PRODA_PUBLIC``,
``da_cesm2_clm5_cen_vr_v2.m``: ``allow = allow*1.1`` with step ``range/allow``) and Haario et al.
(2001). Tests of posterior moments pass ``acceptance="metropolis"`` (the default is PRODA's
annealed rule, which does not sample the posterior). Iteration counts are
shortened so that the file runs in a few seconds.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from wholesoil.assimilation._mcmc import MCMCResult, adaptive_metropolis
from wholesoil.errors import InputDataError

# Three different 2-D Gaussian targets, one per row of the batch (exact moments).
MEANS = np.array([[0.40, 0.55], [0.25, 0.70], [0.60, 0.35]])
SDS = np.array([[0.07, 0.09], [0.04, 0.05], [0.08, 0.06]])
RHOS = np.array([0.5, -0.3, 0.0])
COVS = np.einsum("bi,bj->bij", SDS, SDS) * np.array([[[1.0, r], [r, 1.0]] for r in RHOS])
PRECISIONS = np.linalg.inv(COVS)

SHORT = {"test_iterations": 1000, "formal_iterations": 4000, "adapt_start": 500}


def gaussian_log_target(u: np.ndarray) -> np.ndarray:
    """u: (3, n_rep, n_chains, 2) → log N(u; MEANS[b], COVS[b]) up to a constant."""
    r = u - MEANS[:, None, None, :]
    return -0.5 * np.einsum("b...i,bij,b...j->b...", r, PRECISIONS, r)


@pytest.mark.parametrize("scale", ["proda", "haario"])
def test_gaussian_moments_batched_targets(scale):
    """Three targets × 8 replicate profiles × 3 chains in one batch: per-target sample mean and
    covariance equal the exact ones within 4 Monte Carlo standard errors (from 24 independent
    chains per target)."""
    res = adaptive_metropolis(
        gaussian_log_target,
        2,
        batch_shape=(3, 8),
        n_chains=3,
        scale=scale,
        thin=5,
        rng=7,
        acceptance="metropolis",
        **SHORT,
    )
    assert isinstance(res, MCMCResult)
    assert res.samples.shape == (3, 8, 3, 400, 2)  # (4000 − 2000 burn-in) / thin 5
    assert res.log_target.shape == (3, 8, 3, 400)
    assert res.proposal_cov.shape == (3, 8, 3, 2, 2)
    chains = res.samples.reshape(3, 24, 400, 2)
    chain_means = chains.mean(axis=2)  # (3, 24, 2)
    centred = chains - chain_means[:, :, None, :]
    chain_covs = np.einsum("bcni,bcnj->bcij", centred, centred) / (400 - 1)  # (3, 24, 2, 2)
    mean = chain_means.mean(axis=1)
    mean_se = chain_means.std(axis=1, ddof=1) / np.sqrt(24)
    cov = chain_covs.mean(axis=1)
    cov_se = chain_covs.std(axis=1, ddof=1) / np.sqrt(24)
    # the test has power: errors well below the targets' own spread
    assert np.all(mean_se < 0.1 * SDS)
    assert np.all(cov_se[:, [0, 1], [0, 1]] < 0.1 * SDS**2)
    assert np.all(np.abs(mean - MEANS) < 4 * mean_se)
    assert np.all(np.abs(cov - COVS) < 4 * cov_se + 1e-12)
    # the acceptance control worked: every chain ended inside PRODA's 10–50 %
    assert res.acceptance_in_range.all()
    assert np.all((res.acceptance_rate >= 0.10) & (res.acceptance_rate <= 0.50))
    assert_allclose(res.posterior_mean, res.samples.mean(axis=(-3, -2)))


def test_proposal_scale_factors_and_rescaling_exact():
    """Flat target on [0, 1]³: every in-bounds proposal is accepted (rate 1 > 0.5), so each
    chain is rerun 5 times with the scale doubled: c(d)·2⁵ with c = 2.4/d or 2.4²/d. The test
    run accepts every proposal (out-of-bounds ones are redrawn), so it is never restarted."""
    d = 3
    for scale, c in [("proda", 2.4 / d), ("haario", 2.4**2 / d)]:
        res = adaptive_metropolis(
            lambda u: np.zeros(u.shape[:-1]),
            d,
            batch_shape=(2,),
            scale=scale,
            rng=0,
            test_iterations=200,
            formal_iterations=100,
            adapt_start=50,
            max_redraws=100,  # PRODA's redraw, so that every proposal is judged
        )
        assert_array_equal(res.formal_reruns, 5)
        assert_allclose(res.proposal_scale, c * 2.0**5, rtol=1e-15)
        assert_array_equal(res.test_restarts, 0)
        assert_array_equal(res.test_accepted, 200)
        assert not res.acceptance_in_range.any()
        # one call per iteration for the whole batch: start + test run + 6 formal runs, of
        # which the first 5 are cut once 51 of 100 are accepted (the rate can no longer end
        # ≤ 50 %: the rerun starts at once; at iteration 51 unless a proposal stayed outside
        # the cube after its redraws) and the last (no rerun left) runs all 100
        steps = res.formal_steps
        assert ((steps >= 5 * 51 + 100) & (steps < 6 * 100)).all()
        assert res.n_log_target_calls == 1 + 200 + int(steps.max())
        assert res.n_evaluations == 2 * 3 * (1 + 200) + int(steps.sum())
    # the proda scale's early runs keep every proposal inside: each cut exactly at 51
    assert_array_equal(adaptive_metropolis(
        lambda u: np.zeros(u.shape[:-1]), d, batch_shape=(2,), scale="proda", rng=0,
        test_iterations=200, formal_iterations=100, adapt_start=50,
        max_redraws=100).formal_steps, 5 * 51 + 100)


def test_test_run_restarts_with_narrower_step_and_one_call_per_iteration():
    """A target 10⁻⁴ wide at the start point accepts (almost) none of the U(−0.1, 0.1) steps:
    each chain restarts 3 times with a step 1/1.1 as wide each time (PRODA's allow × 1.1),
    then runs once more at the original step (as PRODA's code) and goes on."""
    calls = []

    def peaked(u):
        calls.append(u.shape)
        return -0.5 * (((u - 0.5) / 1e-4) ** 2).sum(-1)

    res = adaptive_metropolis(
        peaked,
        2,
        batch_shape=(4,),
        n_chains=3,
        rng=3,
        test_iterations=300,
        formal_iterations=200,
        adapt_start=100,
        acceptance="metropolis",
    )
    assert_array_equal(res.test_restarts, 3)
    assert_allclose(res.test_step, 0.1, rtol=1e-15)  # the final run is at the original step
    assert np.all(res.test_accepted < 50)
    assert res.test_exhausted.all()
    assert set(calls) == {(4, 3, 2)}
    expected = 1 + 300 * (1 + 3 + 1) + 200 * (1 + res.formal_reruns.max())
    assert res.n_log_target_calls == len(calls) == expected
    # the scale after the acceptance control is c(d)·0.7^a·2^b with a + b = reruns
    ok = [
        any(np.isclose(s, (2.4 / 2) * 0.7**a * 2.0 ** (k - a)) for a in range(k + 1))
        for s, k in zip(res.proposal_scale.ravel(), res.formal_reruns.ravel(), strict=True)
    ]
    assert all(ok)


def test_proda_compat_concentrates():
    """The annealed rule exp(−ΔJ·log(n + 2)) > U samples ∝ π^{log(n+2)}: for a Gaussian the
    spread shrinks by 1/sqrt(log(n + 2)) (≈ 0.35 at n ≈ 3000), so its kept samples are much
    narrower than Metropolis's, around the same mode."""
    kwargs = dict(batch_shape=(3, 4), n_chains=3, thin=5, rng=11, **SHORT)
    met = adaptive_metropolis(gaussian_log_target, 2, acceptance="metropolis", **kwargs)
    ann = adaptive_metropolis(gaussian_log_target, 2, acceptance="proda_compat", **kwargs)
    assert ann.acceptance == "proda"  # the old name is an alias
    sd_met = met.samples.std(axis=(1, 2, 3))  # (3, 2) per target
    sd_ann = ann.samples.std(axis=(1, 2, 3))
    assert np.all(sd_ann < 0.6 * sd_met)
    shrink = 1 / np.sqrt(np.log(np.array([2000, 4000]) + 2))  # over the kept iterations
    # closed form: sd/sqrt(log(n + 2)) lies between its values at n = 4000 and n = 2000
    assert np.all(sd_ann > 0.9 * shrink[1] * SDS) and np.all(sd_ann < 1.1 * shrink[0] * SDS)
    assert np.all(np.abs(ann.samples.mean(axis=(1, 2, 3)) - MEANS) < 0.2 * SDS)


@pytest.mark.parametrize("max_redraws", [100, 0])
def test_bounds_respected(max_redraws):
    """Mode in a corner of the cube: the log target never sees a point outside [0, 1]; with no
    redraws allowed, out-of-bounds proposals are counted as rejections instead."""
    seen = {"min": 1.0, "max": 0.0}

    def corner(u):
        seen["min"] = min(seen["min"], u.min())
        seen["max"] = max(seen["max"], u.max())
        return -0.5 * (((u - np.array([0.99, 0.01])) / 0.2) ** 2).sum(-1)

    res = adaptive_metropolis(
        corner,
        2,
        batch_shape=(5,),
        rng=5,
        max_redraws=max_redraws,
        test_iterations=300,
        formal_iterations=400,
        adapt_start=100,
    )
    assert 0.0 <= seen["min"] and seen["max"] <= 1.0
    assert np.all((res.samples >= 0) & (res.samples <= 1))
    if max_redraws == 0:
        assert res.out_of_bounds_rejected.sum() > 0
    else:
        assert res.out_of_bounds_rejected.sum() == 0


def test_reproducible_with_seed():
    kwargs = dict(
        batch_shape=(3, 2), n_chains=2, test_iterations=200, formal_iterations=300, adapt_start=100
    )
    a = adaptive_metropolis(gaussian_log_target, 2, rng=42, **kwargs)
    b = adaptive_metropolis(gaussian_log_target, 2, rng=np.random.default_rng(42), **kwargs)
    c = adaptive_metropolis(gaussian_log_target, 2, rng=43, **kwargs)
    assert_array_equal(a.samples, b.samples)
    assert_array_equal(a.proposal_cov, b.proposal_cov)
    assert not np.array_equal(a.samples, c.samples)


def test_nan_log_target_is_rejected():
    """NaN is −inf: a target that is NaN on half the cube is never entered."""

    def half(u):
        out = -0.5 * (((u - 0.3) / 0.1) ** 2).sum(-1)
        return np.where(u[..., 0] > 0.5, np.nan, out)

    res = adaptive_metropolis(
        half,
        2,
        batch_shape=(4,),
        rng=1,
        test_iterations=300,
        formal_iterations=300,
        adapt_start=100,
    )
    assert np.all(res.samples[..., 0] <= 0.5)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"scale": "gelman"}, "scale"),
        ({"acceptance": "annealed"}, "acceptance"),
        ({"start": 1.5}, "start"),
        ({"target_acceptance": (0.5, 0.1)}, "target_acceptance"),
        ({"thin": 0}, "thin"),
    ],
)
def test_invalid_settings(kwargs, field):
    with pytest.raises(InputDataError) as err:
        adaptive_metropolis(lambda u: np.zeros(u.shape[:-1]), 2, **kwargs)
    assert err.value.field == field


def test_wrong_log_target_shape():
    with pytest.raises(InputDataError, match=r"\(4, 3\)") as err:
        adaptive_metropolis(lambda u: np.zeros(u.shape[:-2]), 2, batch_shape=(4,))
    assert err.value.field == "log_target"


class _RowsTarget:
    """Gaussians 10⁻⁴ wide (every chain restarts) and 0.1 wide (none does) side by side, with
    and without the row-subset protocol."""

    WIDTH = np.array([1e-4, 0.1, 0.1, 1e-4])

    def __init__(self, rows: bool):
        self.shapes: list[tuple[int, ...]] = []
        if rows:
            self.evaluate_rows = self._rows

    def __call__(self, u):
        self.shapes.append(u.shape)
        return -0.5 * (((u - 0.5) / self.WIDTH[:, None, None]) ** 2).sum(-1)

    def _rows(self, u, index):
        self.shapes.append(u.shape)
        assert len(index) == 2 and index[0].shape == (u.shape[0],)
        return -0.5 * (((u - 0.5) / self.WIDTH[index[0], None]) ** 2).sum(-1)


def test_restarts_evaluate_only_their_rows_with_identical_results():
    """Restarts and reruns through ``evaluate_rows`` give bit-identical chains to the full-array
    fallback (same draws), and cost only the rows that move: n_evaluations counts them."""
    kwargs = dict(batch_shape=(4,), n_chains=3, rng=3, test_iterations=300,
                  formal_iterations=200, adapt_start=100)
    full_t, rows_t = _RowsTarget(rows=False), _RowsTarget(rows=True)
    a = adaptive_metropolis(full_t, 2, **kwargs)
    b = adaptive_metropolis(rows_t, 2, **kwargs)
    for field in ("samples", "log_target", "best", "test_restarts", "formal_reruns",
                  "proposal_cov", "acceptance_rate"):
        assert_array_equal(getattr(a, field), getattr(b, field))
    assert a.n_log_target_calls == b.n_log_target_calls
    # the fallback passes the whole batch; the protocol only the rows being rerun
    assert set(full_t.shapes) == {(4, 3, 2)}
    assert_array_equal(a.test_restarts, [[3] * 3, [0] * 3, [0] * 3, [3] * 3])
    rerun_sizes = {s for s in rows_t.shapes if len(s) == 2}
    assert (6, 2) in rerun_sizes and all(s[0] < 12 for s in rerun_sizes)
    # + one final test run at the original step for each chain whose restarts were used up
    # (formal runs to be rerun stop once their rate cannot end in the band: formal_steps)
    assert_array_equal(a.formal_steps, b.formal_steps)
    # the last formal run is whole (it is not rerun); each rerun one took ≥ 1 and ≤ 200 steps
    assert ((a.formal_steps <= 200 * (1 + a.formal_reruns))
            & (a.formal_steps >= 200 + a.formal_reruns)).all()
    expected = 12 * (1 + 300) + 300 * int(a.test_restarts.sum()) \
        + 300 * int(a.test_exhausted.sum()) + int(a.formal_steps.sum())
    assert a.n_evaluations == b.n_evaluations == expected
    # restarts and reruns share each step's call with the chains in their first run: the calls
    # are those of the longest chain's runs (plus the start), not the sum of separate passes
    runs = 300 * (1 + a.test_restarts + a.test_exhausted) + a.formal_steps
    assert a.n_log_target_calls == 1 + int(runs.max())


def test_formal_run_below_the_band_is_cut_when_it_cannot_reach_it():
    """A target so peaked that no move is ever accepted: a formal run of 100 iterations can
    still end at 10 % while accepted + iterations left ≥ 10, so with none accepted it stops at
    iteration 91 (0 + 9 < 10) and is rerun at s × 0.7 — twice (max_reruns_formal=2); the last
    run is whole. Same decisions as running the runs out: rate 0, two reruns, scale c·0.7²."""
    d = 2
    res = adaptive_metropolis(
        lambda u: -1e12 * ((u - 0.5) ** 2).sum(-1), d, batch_shape=(3,), n_chains=2, rng=1,
        test_iterations=50, formal_iterations=100, adapt_start=20, max_reruns_formal=2,
        max_restarts_test=0)
    assert_array_equal(res.formal_accepted, 0)
    assert_array_equal(res.formal_reruns, 2)
    assert_allclose(res.proposal_scale, 2.4 / d * 0.7**2, rtol=1e-15)
    assert_array_equal(res.formal_steps, 2 * 91 + 100)
    assert res.n_log_target_calls == 1 + 50 + 2 * 91 + 100


def test_block_welford_equals_numpy_covariance():
    """Block (Chan et al. 1979) merge of 0/1-weighted states == np.cov of the kept states."""
    from wholesoil.assimilation._mcmc import _BlockWelford

    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 37, 3)) * [1.0, 5.0, 0.1] + 100.0  # offset: a rounding trap
    w = rng.random((4, 37)) < 0.6
    st = _BlockWelford(4, 3, block=5)
    for i in range(37):
        st.push(x[:, i], w[:, i])
    st.flush()
    for r in range(4):
        kept = x[r, w[r]]
        assert_allclose(st.n[r], len(kept))
        assert_allclose(st.mean[r], kept.mean(axis=0), rtol=1e-13)
        assert_allclose(st.m2[r] / (len(kept) - 1), np.cov(kept.T), rtol=1e-10)
    seeded = _BlockWelford(2, 3, block=4, start=x[:2, 0])
    for i in range(1, 37):
        seeded.push(x[:2, i])
    seeded.flush()
    assert_allclose(seeded.m2[1] / 36, np.cov(x[1].T), rtol=1e-10)


def test_default_bounds_rule_is_exact_for_metropolis():
    """Uniform target on [0, 1] (log target 0) with a wide proposal: rejecting out-of-bounds
    proposals (the Metropolis default) samples U(0, 1) exactly — variance 1/12; PRODA's redraw
    truncates the proposal, whose stationary density ∝ its mass in the cube is lower at the
    edges, so the variance falls below 1/12."""
    flat = lambda u: np.zeros(u.shape[:-1])  # noqa: E731
    kwargs = dict(batch_shape=(40,), n_chains=3, rng=2, test_iterations=500,
                  formal_iterations=4000, adapt_start=500,
                  target_acceptance=(0.0, 1.0))  # no reruns: keep the proposal sd ≈ 0.45
    exact = adaptive_metropolis(flat, 1, acceptance="metropolis", **kwargs)
    redraw = adaptive_metropolis(flat, 1, acceptance="metropolis", max_redraws=100, **kwargs)
    assert redraw.out_of_bounds_rejected.sum() < 1e-3 * exact.out_of_bounds_rejected.sum()
    var_exact = exact.samples.var()
    var_redraw = redraw.samples.var()
    assert abs(var_exact - 1 / 12) < 0.0015  # MC error (spread of the 40 batch means) ≈ 0.0003
    assert var_redraw < 1 / 12 - 0.005


def test_failed_test_run_restarts_with_step_one_over_1p1_as_wide():
    """Pinned rule (PRODA code: allow × 1.1, step = range/allow): a chain that accepts fewer
    than 50 proposals restarts with a step 1/1.1 as wide, up to 3 times (0.1, 0.1/1.1,
    0.1/1.1², 0.1/1.1³), then runs once more at 0.1 and goes on. The steps are read from the
    half-widths of the proposals the target sees; one that accepts everything never restarts."""
    seen = []

    def none(u):  # rejects everything but the start point
        seen.append(np.abs(u - 0.5).max())
        return np.where(np.all(u == 0.5, axis=-1), 0.0, -np.inf)

    res = adaptive_metropolis(none, 2, batch_shape=(2,), n_chains=2, rng=0, test_iterations=300,
                              formal_iterations=20, adapt_start=10, acceptance="metropolis")
    assert_array_equal(res.test_restarts, 3)
    widths = [max(seen[1 + 300 * k: 1 + 300 * (k + 1)]) for k in range(5)]
    for k, w in enumerate(widths[:4]):  # max |step| over 300 × 8 uniform draws ≈ the width
        assert 0.99 * 0.1 / 1.1**k < w <= 0.1 / 1.1**k
    assert 0.099 < widths[4] <= 0.1
    assert res.test_exhausted.all()
    flat = lambda u: np.zeros(u.shape[:-1])  # noqa: E731
    ok = adaptive_metropolis(flat, 2, batch_shape=(2,), n_chains=2, rng=0, test_iterations=60,
                             formal_iterations=20, adapt_start=10)
    assert_array_equal(ok.test_restarts, 0)
    assert_allclose(ok.test_step, 0.1)
    assert not ok.test_exhausted.any()


def test_formal_run_outside_band_is_redone_with_07_or_2():
    """Pinned rule (PRODA code): a formal run whose acceptance ends outside 10–50 % is redone
    with the proposal factor ×0.7 (too low) or ×2 (too high), at most 5 times. A flat target
    accepts every proposal (rate 1 > 0.5): 5 reruns, scale (2.4/d)·2⁵. A target that is −inf
    away from the test run's end accepts nothing (rate 0 < 0.1): 5 reruns, (2.4/d)·0.7⁵."""
    d = 2
    flat = lambda u: np.zeros(u.shape[:-1])  # noqa: E731
    hi = adaptive_metropolis(flat, d, batch_shape=(3,), n_chains=1, rng=1, test_iterations=100,
                             formal_iterations=50, adapt_start=20, max_redraws=100)
    assert_array_equal(hi.formal_reruns, 5)
    assert_allclose(hi.proposal_scale, 2.4 / d * 2.0**5)
    assert not hi.acceptance_in_range.any()
    calls = {"n": 0}

    def closing(u):  # open for the test run, then only the current state is valid
        calls["n"] += 1
        if calls["n"] <= 1 + 100:
            return np.zeros(u.shape[:-1])
        return np.full(u.shape[:-1], -np.inf)

    lo = adaptive_metropolis(closing, d, batch_shape=(3,), n_chains=1, rng=1,
                             test_iterations=100, formal_iterations=50, adapt_start=20,
                             acceptance="metropolis")
    assert_array_equal(lo.formal_reruns, 5)
    assert_allclose(lo.proposal_scale, 2.4 / d * 0.7**5)
    assert_array_equal(lo.formal_accepted, 0)


def test_invalid_state_costs_j_old_plus_100():
    """Pinned rule (PRODA code: ``cost_new = cost_old + 100`` for a singular state): with the
    annealed rule a non-finite log target is a cost J_old + 100, accepted with probability
    (n + 2)^−100 (never, in practice); the chain stays put, as with a rejection."""
    from wholesoil.assimilation._mcmc import _penalize

    lt = _penalize(np.array([-np.inf, -3.0, np.nan]), np.array([-2.0, -2.0, -1.0]), 100.0)
    assert_allclose(lt, [-102.0, -3.0, -101.0])
    assert_allclose(_penalize(np.array([-np.inf]), np.array([-2.0]), None), [-np.inf])


def test_rescaling_factor_is_per_chain():
    """The acceptance control's factor s (×0.7 / ×2) belongs to each chain, as in PRODA's code
    (one ``scale`` per chain run): two chains of the same profile, one on a flat target (rate 1,
    five reruns at ×2) and one that rejects everything after the test run (rate 0, five reruns
    at ×0.7), end with c(d)·2⁵ and c(d)·0.7⁵ respectively, side by side in one batch."""
    d, test_it = 2, 100
    calls = {"n": 0}

    def split(u):  # (P, 2, d): chain 0 flat throughout; chain 1 flat in the test run only
        calls["n"] += 1
        out = np.zeros(u.shape[:-1])
        if calls["n"] > 1 + test_it:
            out[:, 1] = -np.inf
        return out

    res = adaptive_metropolis(split, d, batch_shape=(3,), n_chains=2, rng=4,
                              test_iterations=test_it, formal_iterations=50, adapt_start=20,
                              acceptance="metropolis", max_redraws=100)
    assert_array_equal(res.formal_reruns, 5)
    assert_allclose(res.proposal_scale[:, 0], 2.4 / d * 2.0**5, rtol=1e-15)
    assert_allclose(res.proposal_scale[:, 1], 2.4 / d * 0.7**5, rtol=1e-15)
    assert_array_equal(res.formal_accepted[:, 1], 0)
    assert np.all(res.acceptance_rate[:, 0] > 0.5)  # in-bounds proposals are all accepted
