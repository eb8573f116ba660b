"""The vertical soil grid of CLM5 ("20SL_8.5m"), on which the process models keep their pools.

Layer thicknesses (CLM5 technical note §2.2.2; CTSM ``src/main/initVerticalMod.F90``, option
``20SL_8.5m``; ``shared/specs/process-models.md``)::

    dz_j = 0.02·j                    j = 1–4
    dz_j = dz_4 + 0.04·(j − 4)       j = 5–13
    dz_j = dz_13 + 0.10·(j − 13)     j = 14–20

Interfaces are the running sums of ``dz`` (the last one at 8.60 m; Tao et al. (EarthArXiv) §2.2 says
8.4 m, the CLM5 code and PRODA's ``matrix_fun.m`` say 8.6 m) and the node of each layer is its
midpoint, ``zsoi_j = (zisoi_{j−1} + zisoi_j) / 2`` = 0.01, 0.04, 0.09, … , 8.03 m.

References
----------
Lawrence, D. M. et al. (2019). The Community Land Model version 5: description of new features,
benchmarking, and impact of forcing uncertainty. J. Adv. Model. Earth Syst. 11, 4245–4287.
https://doi.org/10.1029/2018MS001583

Tao, F. et al. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation (Tao et al. (EarthArXiv)), §2.2.

Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = ["N_LAYERS", "VerticalGrid", "clm5_grid"]

#: Number of decomposition layers of CLM5's 20SL_8.5m grid.
N_LAYERS: int = 20


def _frozen(a: NDArray[np.float64]) -> NDArray[np.float64]:
    a = np.array(a, dtype=float)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class VerticalGrid:
    """Layers of a soil column, depths positive downward.

    Parameters
    ----------
    dz : array (n_layers,) [m]
        Layer thicknesses.
    z_node : array (n_layers,) [m]
        Node (centre) depth of each layer.
    z_top, z_bottom : array (n_layers,) [m]
        Upper and lower interface of each layer; ``z_top[0] = 0`` and ``z_bottom = z_top + dz``.

    Notes
    -----
    The arrays are stored read-only. Build the CLM5 grid with :func:`clm5_grid`; any other grid with
    contiguous layers, positive thicknesses and nodes inside their layers is accepted.
    """

    dz: NDArray[np.float64]
    z_node: NDArray[np.float64]
    z_top: NDArray[np.float64]
    z_bottom: NDArray[np.float64]
    name: str = field(default="custom")

    def __post_init__(self) -> None:
        from wholesoil.errors import InputDataError

        arrays = {k: _frozen(getattr(self, k)) for k in ("dz", "z_node", "z_top", "z_bottom")}
        n = arrays["dz"].shape
        for k, a in arrays.items():
            if a.ndim != 1 or a.shape != n:
                raise InputDataError(
                    f"{k} must be a 1-D array of {n[0]} layers [m]", field=k, value=a.shape
                )
            object.__setattr__(self, k, a)
        if not np.all(self.dz > 0):
            raise InputDataError("layer thicknesses dz must be > 0 [m]", field="dz", value=self.dz)
        if not np.allclose(self.z_bottom, self.z_top + self.dz, rtol=0, atol=1e-12):
            raise InputDataError(
                "z_bottom must equal z_top + dz", field="z_bottom", value=self.z_bottom
            )
        if not np.allclose(self.z_top[1:], self.z_bottom[:-1], rtol=0, atol=1e-12):
            raise InputDataError("layers must be contiguous", field="z_top", value=self.z_top)
        if not np.all((self.z_node >= self.z_top) & (self.z_node <= self.z_bottom)):
            raise InputDataError(
                "each node must lie within its layer", field="z_node", value=self.z_node
            )

    @property
    def n_layers(self) -> int:
        """Number of layers."""
        return int(self.dz.shape[0])

    @property
    def dz_node(self) -> NDArray[np.float64]:
        """Distance between successive nodes, ``z_node[j+1] − z_node[j]`` (n_layers − 1,) [m]."""
        return np.diff(self.z_node)

    @property
    def depth(self) -> float:
        """Depth of the lowest interface [m] (8.60 m for CLM5)."""
        return float(self.z_bottom[-1])


def clm5_grid() -> VerticalGrid:
    """Return CLM5's 20-layer decomposition grid "20SL_8.5m" (thicknesses and nodes as in CTSM).

    Returns
    -------
    VerticalGrid
        ``dz`` = 0.02, 0.04, 0.06, 0.08, 0.12, … , 0.44, 0.54, … , 1.14 m; ``z_node`` = 0.01, 0.04,
        0.09, 0.16, 0.26, 0.40, 0.58, 0.80, 1.06, 1.36, 1.70, 2.08, 2.50, 2.99, 3.58, 4.27, 5.06,
        5.95, 6.94, 8.03 m; last interface 8.60 m.

    Examples
    --------
    >>> g = clm5_grid()
    >>> round(g.depth, 2), round(float(g.z_node[-1]), 2)
    (8.6, 8.03)
    """
    j = np.arange(1, N_LAYERS + 1, dtype=float)
    dz = np.where(j <= 4, 0.02 * j, 0.0)
    dz4 = 0.02 * 4
    dz = np.where((j >= 5) & (j <= 13), dz4 + 0.04 * (j - 4), dz)
    dz13 = dz4 + 0.04 * 9
    dz = np.where(j >= 14, dz13 + 0.10 * (j - 13), dz)
    # Round to the decimal values CTSM lists (sums of 0.02/0.04/0.10 steps carry 1e-17 noise).
    dz = np.round(dz, 10)
    z_bottom = np.round(np.cumsum(dz), 10)
    z_top = np.concatenate([[0.0], z_bottom[:-1]])
    z_node = np.round(0.5 * (z_top + z_bottom), 10)
    return VerticalGrid(dz=dz, z_node=z_node, z_top=z_top, z_bottom=z_bottom, name="20SL_8.5m")
