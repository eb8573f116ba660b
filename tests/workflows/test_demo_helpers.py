"""Helpers of the demo workflow against brute force."""

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from wholesoil.demo._profiles import (
    _leave_one_out_group_median,
    _leave_one_out_median,
    r2_rmse,
)


@given(st.lists(st.one_of(st.floats(-5, 5), st.just(float("nan"))), min_size=0, max_size=12))
def test_leave_one_out_median_equals_brute_force(vals):
    v = np.array(vals, dtype=float)
    fin = np.isfinite(v)
    expect = np.full(v.size, np.nan)
    for i in range(v.size):
        others = np.delete(v, i) if fin[i] else v
        others = others[np.isfinite(others)]
        if others.size:
            expect[i] = np.median(others)
    assert_allclose(_leave_one_out_median(v), expect, rtol=0, atol=1e-12)


def test_group_median_falls_back_to_all_others_for_a_lonely_group():
    fits = pd.DataFrame({"beta": [0.90, 0.92, 0.94, 0.99], "g": ["a", "a", "a", "b"]})
    out = _leave_one_out_group_median(fits, "g")
    assert_allclose(out, [0.93, 0.92, 0.91, 0.92])


def test_r2_rmse_seed000_eqs_4_5_by_hand():
    # Eqs. 4–5 of Wang H. et al. (2025) worked by hand: obs 1,2,3; pred 1,2,4 → SSres = 1, SStot = 2.
    r2, rmse, n = r2_rmse(np.array([1.0, 2.0, 3.0, np.nan]), np.array([1.0, 2.0, 4.0, 5.0]))
    assert (n, r2) == (3, 0.5)
    assert_allclose(rmse, np.sqrt(1 / 3), rtol=1e-15)
