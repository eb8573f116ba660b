"""CLM5 20SL_8.5m grid against the node depths and thicknesses listed in
shared/specs/process-models.md (read from CTSM initVerticalMod.F90 and PRODA matrix_fun.m)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from wholesoil.errors import InputDataError
from wholesoil.models._vertical import N_LAYERS, VerticalGrid, clm5_grid

# fmt: off
# Spec "Vertical grid": node depths zsoi [m] (also PRODA matrix_fun.m `zsoi`, first 20 values).
SPEC_Z_NODE = [0.01, 0.04, 0.09, 0.16, 0.26, 0.40, 0.58, 0.80, 1.06, 1.36, 1.70, 2.08, 2.50,
               2.99, 3.58, 4.27, 5.06, 5.95, 6.94, 8.03]
# PRODA matrix_fun.m `dz` (first 20 values) and `zisoi`.
PRODA_DZ = [0.02, 0.04, 0.06, 0.08, 0.12, 0.16, 0.20, 0.24, 0.28, 0.32, 0.36, 0.40, 0.44,
            0.54, 0.64, 0.74, 0.84, 0.94, 1.04, 1.14]
PRODA_ZISOI = [0.02, 0.06, 0.12, 0.20, 0.32, 0.48, 0.68, 0.92, 1.20, 1.52, 1.88, 2.28, 2.72,
               3.26, 3.90, 4.64, 5.48, 6.42, 7.46, 8.60]
# fmt: on


def test_clm5_grid_matches_spec_and_proda():
    g = clm5_grid()
    assert g.n_layers == N_LAYERS == 20
    assert_allclose(g.z_node, SPEC_Z_NODE, rtol=0, atol=1e-12)
    assert_allclose(g.dz, PRODA_DZ, rtol=0, atol=1e-12)
    assert_allclose(g.z_bottom, PRODA_ZISOI, rtol=0, atol=1e-12)
    assert g.depth == pytest.approx(8.60, abs=1e-12)  # spec: last interface 8.60 m
    assert g.z_top[0] == 0.0
    assert_allclose(g.z_top[1:], g.z_bottom[:-1], atol=0)
    assert_allclose(g.dz.sum(), 8.60, atol=1e-12)
    assert_allclose(g.dz_node, np.diff(SPEC_Z_NODE), atol=1e-12)


def test_grid_arrays_are_read_only():
    g = clm5_grid()
    with pytest.raises(ValueError):
        g.dz[0] = 1.0


def test_grid_validation():
    dz = np.array([0.1, 0.2])
    top = np.array([0.0, 0.1])
    with pytest.raises(InputDataError, match="contiguous"):
        VerticalGrid(dz=dz, z_node=[0.05, 0.3], z_top=[0.0, 0.2], z_bottom=[0.1, 0.4])
    with pytest.raises(InputDataError, match="dz must be > 0"):
        VerticalGrid(dz=[0.1, -0.2], z_node=[0.05, 0.0], z_top=top, z_bottom=[0.1, -0.1])
    with pytest.raises(InputDataError, match="node"):
        VerticalGrid(dz=dz, z_node=[0.05, 0.5], z_top=top, z_bottom=[0.1, 0.3])
    with pytest.raises(InputDataError, match="z_node"):
        VerticalGrid(dz=dz, z_node=[0.05], z_top=top, z_bottom=[0.1, 0.3])
