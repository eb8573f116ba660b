"""One parameter record for every model (wholesoil.models._parameters)."""

from __future__ import annotations

import numpy as np
import pytest

from wholesoil.assimilation import ParameterSpace
from wholesoil.models import (
    AWB_PARAMETERS,
    CLM5_PRODA_PARAMETERS,
    COMPAS_PARAMETERS,
    Parameter,
    parameter_table,
)
from wholesoil.models._millennial import FORCING as MILLENNIAL_FORCING
from wholesoil.models._millennial import PARAMETERS as MILLENNIAL_PARAMETERS
from wholesoil.models._mimics import MIMICS_FORCING, MIMICS_PARAMETERS
from wholesoil.models._parameters import LOG_SCALE_MIN_RATIO, open_ends, prior_scale
from wholesoil.models._tao2024 import FORCING as TAO_FORCING
from wholesoil.models._tao2024 import PARAMETERS as TAO_PARAMETERS

TABLES = {
    "mimics": MIMICS_PARAMETERS,
    "mimics_forcing": MIMICS_FORCING,
    "millennial": MILLENNIAL_PARAMETERS,
    "millennial_forcing": MILLENNIAL_FORCING,
    "tao2024": TAO_PARAMETERS,
    "tao2024_forcing": TAO_FORCING,
    "awb": AWB_PARAMETERS,
    "clm5": CLM5_PRODA_PARAMETERS,
    "compas": COMPAS_PARAMETERS,
}


@pytest.mark.parametrize("table", TABLES.values(), ids=TABLES.keys())
def test_every_model_uses_the_one_record_keyed_by_its_name(table):
    for key, p in table.items():
        assert type(p) is Parameter
        assert p.name == key
        assert p.unit and p.source and p.description, key
        assert p.scale in ("linear", "log")
        assert p.bounds in ("accepted", "prior")


def test_priors_are_the_tables_and_log_scale_only_where_proda_samples_on_log():
    # Supplementary Tables 1-2 of Tao et al. (2023) as PRODA codes them: only tau_ENZ,decay
    # (0.001-1 yr, ``10^(3*kp - 3)`` in phxtao/PRODA_MIC matrix_fun.m) is log-scaled.
    logs = [n for t in (CLM5_PRODA_PARAMETERS, COMPAS_PARAMETERS)
            for n, p in t.items() if p.scale == "log"]
    assert logs == ["tau_enz_decay"]
    assert COMPAS_PARAMETERS["tau_enz_decay"].prior == (0.001, 1.0)
    assert all(p.bounds == "prior" for p in CLM5_PRODA_PARAMETERS.values())
    assert all(p.bounds == "accepted" for p in MIMICS_PARAMETERS.values())
    assert prior_scale(0.001, 0.1) == "log" and LOG_SCALE_MIN_RATIO == 100.0
    assert prior_scale(0.01, 0.7) == "linear" and prior_scale(0.0, 1.0) == "linear"


def test_parameter_space_is_built_from_the_records():
    for table, space in ((CLM5_PRODA_PARAMETERS, ParameterSpace.from_clm5()),
                         (COMPAS_PARAMETERS, ParameterSpace.from_compas())):
        assert space.names == tuple(table)
        np.testing.assert_array_equal(space.lower, [p.low for p in table.values()])
        np.testing.assert_array_equal(space.log, [p.scale == "log" for p in table.values()])
        np.testing.assert_array_equal(space.open_lower, [not p.closed[0] for p in table.values()])
        np.testing.assert_array_equal(space.open_upper, [not p.closed[1] for p in table.values()])
    # open ends as the model domains require (turnover times > 0, Jackson beta < 1)
    clm5 = ParameterSpace.from_clm5()
    assert {n for n, o in zip(clm5.names, clm5.open_lower, strict=True) if o} == {
        "tau4s1", "tau4l1", "efolding"}
    assert {n for n, o in zip(clm5.names, clm5.open_upper, strict=True) if o} == {"b"}
    assert open_ends("efficiency", 0.0, 1.0) == (False, True)


def test_parameter_table_and_range_checks():
    df = parameter_table(COMPAS_PARAMETERS)
    assert list(df.index) == list(COMPAS_PARAMETERS)
    assert {"unit", "low", "high", "scale", "default", "source", "number"} <= set(df.columns)
    assert df.loc["cue_doc", "default"] == 0.27
    beta = MIMICS_PARAMETERS["beta"]
    assert beta.range_text() == "[1, 3]"
    assert list(beta.ok(np.array([0.5, 1.0, 3.0, np.nan]))) == [False, True, True, False]
    # the old record names read the same fields
    assert beta.lower == beta.low and beta.value == beta.default
    assert COMPAS_PARAMETERS["b"].proda == COMPAS_PARAMETERS["b"].code
