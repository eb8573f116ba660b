"""ParameterSpace: Eq. 1 of _space (linear map by the prior ranges of Tao et al. (EarthArXiv) Suppl. Tables 1–2)."""

import numpy as np
import pytest

from wholesoil.assimilation._space import ParameterSpace
from wholesoil.errors import InputDataError
from wholesoil.models import (
    CLM5_PRODA_PARAMETERS,
    COMPAS_PARAMETERS,
    CLM5Parameters,
    COMPASParameters,
)


def test_clm5_space_matches_table_1():
    s = ParameterSpace.from_clm5()
    assert s.names == tuple(CLM5_PRODA_PARAMETERS)
    assert s.n_params == 21
    # Tao et al. (EarthArXiv) Suppl. Table 1: q10 prior [1.2, 3.0], tau4s3 [200, 1000]
    j = s.names.index("q10")
    assert (s.lower[j], s.upper[j]) == (1.2, 3.0)
    # sand-dependent defaults are NaN; efolding keeps CLM5's 10 m (outside the prior)
    assert np.isnan(s.defaults[s.names.index("fs2s1")])
    assert np.isnan(s.defaults[s.names.index("fs3s1")])
    assert s.defaults[s.names.index("efolding")] == 10.0
    # priors starting at 0 where CLM5 needs > 0, and b < 1: open ends
    assert [n for n, o in zip(s.names, s.open_lower, strict=True) if o] == [
        "tau4s1", "tau4l1", "efolding"]
    assert [n for n, o in zip(s.names, s.open_upper, strict=True) if o] == ["b"]


def test_compas_space_matches_table_2():
    s = ParameterSpace.from_compas()
    assert s.names == tuple(COMPAS_PARAMETERS)
    assert s.n_params == 23
    assert [n for n, o in zip(s.names, s.open_lower, strict=True) if o] == [
        "tau_decom", "tau_ml", "tau_mic"]
    assert [n for n, o in zip(s.names, s.open_upper, strict=True) if o] == ["b"]


def test_from_unit_hand_values():
    s = ParameterSpace.from_clm5()
    u = np.full(21, 0.25)
    v = s.from_unit(u)
    # Eq. 1: q10 = 1.2 + 0.25·(3.0 − 1.2) = 1.65; tau4s3 = 200 + 0.25·800 = 400
    np.testing.assert_allclose(v["q10"], 1.65, rtol=1e-15)
    np.testing.assert_allclose(v["tau4s3"], 400.0, rtol=1e-15)
    c = ParameterSpace.from_compas().from_unit(np.full(23, 0.5))
    # PRODA code: tau_decom = 3e-4·kp → 1.5e-4 at kp = 0.5
    np.testing.assert_allclose(c["tau_decom"], 1.5e-4, rtol=1e-15)


def test_round_trip_batched():
    rng = np.random.default_rng(1)
    for s in (ParameterSpace.from_clm5(), ParameterSpace.from_compas()):
        u = rng.uniform(size=(4, 3, s.n_params))
        v = s.from_unit(u)
        assert v[s.names[0]].shape == (4, 3)
        np.testing.assert_allclose(s.to_unit(v), u, atol=1e-12)
        np.testing.assert_allclose(s.to_unit(np.stack([v[n] for n in s.names], -1)), u,
                                   atol=1e-12)


def test_interior_of_the_cube_gives_valid_models():
    # every u strictly inside (0, 1) builds a model parameter set that passes its own checks
    rng = np.random.default_rng(2)
    u = np.concatenate([rng.uniform(size=(50, 21)), np.full((1, 21), 1e-9),
                        np.full((1, 21), 1 - 1e-9)])
    s = ParameterSpace.from_clm5()
    assert s.contains(u).all()
    CLM5Parameters.from_dict(s.from_unit(u))
    c = ParameterSpace.from_compas()
    uc = np.concatenate([rng.uniform(size=(50, 23)), np.full((1, 23), 1e-9),
                         np.full((1, 23), 1 - 1e-9)])
    assert c.contains(uc).all()
    COMPASParameters(**c.from_unit(uc))


def test_contains_open_and_closed_ends():
    s = ParameterSpace.from_clm5()
    u = np.full((6, 21), 0.5)
    u[1, s.names.index("tau4s1")] = 0.0  # open: CLM5 needs tau > 0
    u[2, s.names.index("fs3s1")] = 0.0  # closed: a transfer fraction may be 0
    u[3, s.names.index("b")] = 1.0  # open: Jackson β < 1
    u[4, 0] = 1.0 + 1e-12
    u[5, 0] = np.nan
    np.testing.assert_array_equal(s.contains(u), [True, False, True, False, False, False])
    # and the open ends really are outside the model's domain
    with pytest.raises(InputDataError, match="tau4s1"):
        CLM5Parameters.from_dict(s.from_unit(u[1]))


def test_bad_input():
    with pytest.raises(InputDataError, match="lower < upper"):
        ParameterSpace(["a"], [1.0], [1.0], [1.0])
    with pytest.raises(InputDataError, match="unique"):
        ParameterSpace(["a", "a"], [0, 0], [1, 1], [0, 0])
    with pytest.raises(InputDataError, match="shape"):
        ParameterSpace(["a", "b"], [0], [1, 1], [0, 0])
    s = ParameterSpace(["a", "b"], [0, 0], [1, 2], [0.5, 1])
    with pytest.raises(InputDataError, match=r"\(\.\.\., 2\)"):
        s.from_unit(np.zeros(3))
    with pytest.raises(InputDataError, match="missing"):
        s.to_unit({"a": 1.0})
