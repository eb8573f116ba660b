"""Calibrated parameters mapped linearly to the unit cube by their prior ranges
(Tao et al. (EarthArXiv) §2.6).

PRODA samples every parameter in [0, 1] and maps it to the model's value by the prior range of
Tao et al. (EarthArXiv) Supplementary Tables 1–2 (CLM5 and COMPAS), with uniform priors:

.. math::

    \\theta_j = l_j + u_j (h_j - l_j), \\qquad u_j \\in [0, 1]                          (1)

Several priors start at 0 where the model needs a value > 0 (turnover times, e-folding depth,
COMPAS's τ_decom …), and a few end at 1 where it needs < 1 (the Jackson β). The bounds are kept as
the tables and PRODA's code print them (so Eq. 1 is PRODA's own map, e.g. ``3e-4·kp`` for
τ_decom), and the offending *end* is made open: :meth:`ParameterSpace.contains` rejects
``u_j = 0`` (or ``u_j = 1``) for those parameters. A continuous sampler reaches that end with
probability zero, and a proposal that does is treated as out of bounds (redrawn).

Priors that span two decades or more (upper/lower ≥ :data:`LOG_SCALE_MIN_RATIO`, lower > 0) are
sampled on a log scale, the unit interval mapping to log10 of the range:

.. math::

    \\theta_j = 10^{\\log_{10} l_j + u_j (\\log_{10} h_j - \\log_{10} l_j)}          (2)

Of the 44 CLM5 and COMPAS priors only τ_ENZ,decay (0.001–1 yr) qualifies; the published PRODA
COMPAS code samples it so, ``10^(3·kp − 3)`` (``phxtao/PRODA_MIC``, ``matrix_fun.m``).

References
----------
Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError
from wholesoil.models._clm5 import CLM5_DOMAINS
from wholesoil.models._parameters import LOG_SCALE_MIN_RATIO, Parameter

__all__ = ["CLM5_MODEL_DOMAINS", "LOG_SCALE_MIN_RATIO", "ParameterSpace"]

FloatArray = NDArray[np.float64]

#: What CLM5 (:class:`~wholesoil.models.CLM5Parameters`) accepts for the parameters whose prior
#: touches a forbidden value (the ``domain`` of their records; source and meaning in
#: :data:`wholesoil.models._clm5.CLM5_DOMAINS`).
CLM5_MODEL_DOMAINS: dict[str, str] = dict(CLM5_DOMAINS)


@dataclass(frozen=True, init=False)
class ParameterSpace:
    """Named parameters with uniform priors on ``[lower, upper]``, mapped to ``[0, 1]^d`` (Eq. 1).

    Parameters
    ----------
    names : sequence of str
        Parameter names (d of them, unique), in the order of the last axis of unit vectors.
    lower, upper : array (d,)
        Prior range in the parameters' own units; finite, ``lower < upper``.
    defaults : array (d,)
        Model defaults in the parameters' units (NaN where the model resolves it itself, e.g.
        CLM5's sand-dependent ``fs2s1``/``fs3s1``). Informative only; may lie outside the prior.
    open_lower, open_upper : array (d,) of bool, optional
        Ends excluded from the support (the model needs a value strictly inside). Default none.
    log : array (d,) of bool, optional
        Parameters mapped on a log10 scale (Eq. 2); need lower > 0. Default none.

    Raises
    ------
    InputDataError
        For duplicate names, mismatched lengths, non-finite bounds or ``lower >= upper``.
    """

    names: tuple[str, ...]
    lower: FloatArray
    upper: FloatArray
    defaults: FloatArray
    open_lower: NDArray[np.bool_]
    open_upper: NDArray[np.bool_]
    log: NDArray[np.bool_]

    def __init__(
        self,
        names: Sequence[str],
        lower: ArrayLike,
        upper: ArrayLike,
        defaults: ArrayLike,
        *,
        open_lower: ArrayLike | None = None,
        open_upper: ArrayLike | None = None,
        log: ArrayLike | None = None,
    ) -> None:
        names_t = tuple(str(n) for n in names)
        d = len(names_t)
        if len(set(names_t)) != d:
            dup = next(n for n in names_t if names_t.count(n) > 1)
            raise InputDataError("parameter names must be unique", field="names", value=dup)
        arrays = {}
        for field, val, fill in (
            ("lower", lower, None),
            ("upper", upper, None),
            ("defaults", defaults, None),
            ("open_lower", open_lower, False),
            ("open_upper", open_upper, False),
            ("log", log, False),
        ):
            if val is None:
                val = np.full(d, fill)
            a = np.asarray(val, dtype=bool if fill is not None else float)
            if a.shape != (d,):
                raise InputDataError(
                    f"expected shape ({d},) (one value per name)", field=field, value=a.shape
                )
            arrays[field] = a
        lo, hi = arrays["lower"], arrays["upper"]
        for field, a in (("lower", lo), ("upper", hi)):
            if not np.all(np.isfinite(a)):
                i = int(np.flatnonzero(~np.isfinite(a))[0])
                raise InputDataError(
                    f"prior bound of {names_t[i]!r} must be finite", field=field, value=float(a[i])
                )
        if np.any(lo >= hi):
            i = int(np.flatnonzero(lo >= hi)[0])
            raise InputDataError(
                f"prior of {names_t[i]!r} needs lower < upper (lower {lo[i]})",
                field="upper",
                value=float(hi[i]),
            )
        if np.any(arrays["log"] & ~(lo > 0)):
            i = int(np.flatnonzero(arrays["log"] & ~(lo > 0))[0])
            raise InputDataError(f"log-scaled prior of {names_t[i]!r} needs lower > 0",
                                 field="lower", value=float(lo[i]))
        object.__setattr__(self, "names", names_t)
        for field, a in arrays.items():
            a.setflags(write=False)
            object.__setattr__(self, field, a)

    @property
    def n_params(self) -> int:
        """Number of parameters d."""
        return len(self.names)

    @classmethod
    def from_clm5(cls) -> ParameterSpace:
        """The 21 CLM5 parameters of PRODA (Tao et al. (EarthArXiv) Supplementary Table 1).

        From :data:`~wholesoil.models.CLM5_PRODA_PARAMETERS`; ends forbidden by CLM5 are open
        (:data:`CLM5_MODEL_DOMAINS`): ``tau4s1``, ``tau4l1``, ``efolding`` at 0 and ``b`` at 1.
        """
        from wholesoil.models import CLM5_PRODA_PARAMETERS

        return cls.from_parameters(CLM5_PRODA_PARAMETERS)

    @classmethod
    def from_compas(cls) -> ParameterSpace:
        """The 23 COMPAS parameters of PRODA (Tao et al. (EarthArXiv) Supplementary Table 2).

        From :data:`~wholesoil.models.COMPAS_PARAMETERS`, whose ``domain`` decides the open ends
        (``tau_decom`` at 0, ``b`` at 1, …).
        """
        from wholesoil.models import COMPAS_PARAMETERS

        return cls.from_parameters(COMPAS_PARAMETERS)

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Parameter]) -> ParameterSpace:
        """The space of prior records (:class:`~wholesoil.models.Parameter`), in their order.

        Bounds are ``low``/``high``; ends with ``closed`` False are open; ``scale == "log"``
        maps by Eq. 2. A missing default (None) becomes NaN.
        """
        recs = list(parameters.values())
        return cls(
            [p.name for p in recs],
            [p.low for p in recs],
            [p.high for p in recs],
            [np.nan if p.default is None else p.default for p in recs],
            open_lower=[not p.closed[0] for p in recs],
            open_upper=[not p.closed[1] for p in recs],
            log=[p.scale == "log" for p in recs],
        )

    def _stack(self, values: Mapping[str, ArrayLike] | ArrayLike) -> FloatArray:
        if isinstance(values, Mapping):
            missing = [n for n in self.names if n not in values]
            if missing:
                raise InputDataError(
                    f"missing parameter(s) {missing}", field="values", value=sorted(values)
                )
            unknown = sorted(set(values) - set(self.names))
            if unknown:
                raise InputDataError(f"unknown parameter(s) {unknown}", field=unknown[0])
            arrs = np.broadcast_arrays(*(np.asarray(values[n], dtype=float) for n in self.names))
            return np.stack(arrs, axis=-1)
        a = np.asarray(values, dtype=float)
        if a.ndim == 0 or a.shape[-1] != self.n_params:
            raise InputDataError(
                f"expected an array (..., {self.n_params}) (last axis = parameters)",
                field="values",
                value=a.shape,
            )
        return a

    def to_unit(self, values: Mapping[str, ArrayLike] | ArrayLike) -> FloatArray:
        """Parameter values → unit coordinates, the inverse of Eqs. 1–2: ``(θ − l)/(h − l)``.

        Parameters
        ----------
        values : mapping name → array (...), or array (..., d)
            Values in the parameters' units (broadcast together when a mapping).

        Returns
        -------
        array (..., d)
            Unit coordinates (outside [0, 1] for values outside the prior; no clipping).
        """
        a = self._stack(values)
        lin = (a - self.lower) / (self.upper - self.lower)
        if not self.log.any():
            return lin
        lo, hi = self._log_bounds()
        with np.errstate(divide="ignore", invalid="ignore"):
            lg = (np.log10(a) - lo) / (hi - lo)
        return np.where(self.log, lg, lin)

    def _log_bounds(self) -> tuple[FloatArray, FloatArray]:
        lo = np.log10(np.where(self.log, self.lower, 1.0))
        hi = np.log10(np.where(self.log, self.upper, 10.0))
        return lo, hi

    def theta(self, u: ArrayLike) -> FloatArray:
        """Unit coordinates (..., d) → parameter values (..., d) by Eqs. 1–2 (array form)."""
        a = self._stack(u)
        lin = self.lower + a * (self.upper - self.lower)
        if not self.log.any():
            return lin
        lo, hi = self._log_bounds()
        return np.where(self.log, 10.0 ** (lo + a * (hi - lo)), lin)

    def from_unit(self, u: ArrayLike) -> dict[str, FloatArray]:
        """Unit coordinates → parameter values by Eq. 1.

        Parameters
        ----------
        u : array (..., d)
            Unit coordinates; the last axis runs over :attr:`names`.

        Returns
        -------
        dict
            name → array (...) in the parameter's units.
        """
        theta = self.theta(u)
        return {n: theta[..., j] for j, n in enumerate(self.names)}

    def contains(self, u: ArrayLike) -> NDArray[np.bool_]:
        """Whether unit vectors lie in the support: ``0 ≤ u_j ≤ 1``, open where the model needs.

        Parameters
        ----------
        u : array (..., d)

        Returns
        -------
        array (...) of bool
            False also for NaN coordinates.
        """
        a = self._stack(u)
        above = np.where(self.open_lower, a > 0.0, a >= 0.0)
        below = np.where(self.open_upper, a < 1.0, a <= 1.0)
        return np.all(above & below, axis=-1)
