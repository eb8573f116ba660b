"""One parameter record for every model: name, unit, range, scale, default, source.

Every model module describes its parameters as module data, a ``dict`` name → :class:`Parameter`
(``MIMICS_PARAMETERS``, ``COMPAS_PARAMETERS``, ``CLM5_PRODA_PARAMETERS``, Millennial's and the
Tao et al. (2024) model's ``PARAMETERS``, ``AWB_PARAMETERS``). The calibration layer
(:class:`~wholesoil.assimilation.ParameterSpace`) builds its prior box from the same records,
and :func:`parameter_table` shows any of them as a table.

What ``low``/``high`` mean is stated by :attr:`Parameter.bounds`:

* ``"accepted"``: the values the model accepts (MIMICS, Millennial, Tao 2024, AWB);
* ``"prior"``: the uniform prior range of a calibration (CLM5 and COMPAS, Supplementary
  Tables 1–2 of Tao, F., Houlton, B. Z., Huang, Y., et al., *Convergence in simulating global
  soil organic carbon by structurally different models after data assimilation*, EarthArXiv
  preprint); the values the model accepts are then named by :attr:`Parameter.domain`.

:attr:`Parameter.closed` says whether each end of ``[low, high]`` is itself allowed. For priors
it is open where the model's domain forbids the end (:func:`open_ends`), e.g. a turnover time
whose prior starts at 0. :attr:`Parameter.scale` is ``"log"`` where the range is sampled on a
log10 scale (:func:`prior_scale`: lower > 0 and upper/lower ≥ :data:`LOG_SCALE_MIN_RATIO`).

References
----------
Tao, F., Houlton, B. Z., Frey, S. D., et al. (2024). Reply to: Model uncertainty obscures major
driver of soil carbon. Nature. https://doi.org/10.1038/s41586-023-07000-9
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "LOG_SCALE_MIN_RATIO",
    "Parameter",
    "Scale",
    "named",
    "open_ends",
    "parameter_table",
    "prior_scale",
]

Scale = Literal["linear", "log"]
Bounds = Literal["accepted", "prior"]

#: A prior with lower > 0 and upper/lower at least this (two decades) is sampled on a log scale.
#: Chosen so that exactly the parameter PRODA's code log-scales, τ_ENZ,decay (ratio 1,000),
#: qualifies; the next widest, COMPAS's η_DOC (0.01–0.7, ratio 70), stays linear as in the code
#: (``phxtao/PRODA_MIC``, ``matrix_fun.m``: ``10^(3·kp − 3)``).
LOG_SCALE_MIN_RATIO: float = 100.0


def prior_scale(low: float, high: float) -> Scale:
    """``"log"`` where ``low > 0`` and ``high/low ≥`` :data:`LOG_SCALE_MIN_RATIO`, else linear."""
    return "log" if low > 0 and high / low >= LOG_SCALE_MIN_RATIO else "linear"


def open_ends(domain: str, low: float, high: float) -> tuple[bool, bool]:
    """Whether the prior's lower/upper end is forbidden by the model's ``domain``.

    ``domain`` is one of ``"positive"`` (> 0), ``"nonnegative"`` (≥ 0), ``"fraction"``
    ([0, 1]), ``"efficiency"`` ([0, 1)), ``"open_unit"`` ((0, 1)) or ``""`` (any value).
    """
    open_lower = domain in ("positive", "open_unit") and low <= 0.0
    open_upper = (domain == "open_unit" and high >= 1.0) or (domain == "efficiency" and high >= 1.0)
    return open_lower, open_upper


@dataclass(frozen=True)
class Parameter:
    """One model parameter (or forcing): name, unit, range, scale, default and source.

    Attributes
    ----------
    name : str
        Name the model accepts (keyword of its constructor).
    unit : str
        Unit of the value.
    low, high : float
        Range; see :attr:`bounds` for whether it is the accepted range or a prior.
    scale : {"linear", "log"}
        Scale on which the range is sampled (``"log"``: log10 uniform).
    default : float or None
        Published default; None where the model derives it (e.g. CLM5's sand-dependent
        transfer fractions) or the forcing has none.
    source : str
        Where the default (and range) come from.
    description : str
        What the parameter is, with the equation it enters.
    symbol : str
        Symbol in the model's equations or the source table.
    closed : (bool, bool)
        Whether ``low`` and ``high`` are themselves allowed.
    bounds : {"accepted", "prior"}
        ``low``/``high`` are the values the model accepts, or a calibration prior.
    domain : str
        For priors: the values the model accepts (see :func:`open_ends`); ``""`` if any.
    term : str
        Matrix term of the model equation the parameter builds (CLM5/COMPAS: A, K, ξ, V, B).
    code : str
        Variable (and index) in the published reference code.
    number : int or None
        Row number in the source table.
    note : str
        Corrections of the source and other decisions.
    """

    name: str
    unit: str
    low: float
    high: float
    scale: Scale = "linear"
    default: float | None = None
    source: str = ""
    description: str = ""
    symbol: str = ""
    closed: tuple[bool, bool] = (True, True)
    bounds: Bounds = "accepted"
    domain: str = ""
    term: str = ""
    code: str = ""
    number: int | None = None
    note: str = ""

    # Names of the records this one replaces (kept so that ``info.prior`` etc. still work).
    @property
    def prior(self) -> tuple[float, float]:
        """``(low, high)``, the prior range (records with ``bounds="prior"``)."""
        return (self.low, self.high)

    @property
    def valid(self) -> tuple[float, float]:
        """``(low, high)``, the accepted range (records with ``bounds="accepted"``)."""
        return (self.low, self.high)

    @property
    def value(self) -> float | None:
        """The default (alias)."""
        return self.default

    @property
    def lower(self) -> float:
        """``low`` (alias)."""
        return self.low

    @property
    def upper(self) -> float:
        """``high`` (alias)."""
        return self.high

    @property
    def lower_open(self) -> bool:
        """Whether ``low`` is excluded."""
        return not self.closed[0]

    @property
    def upper_open(self) -> bool:
        """Whether ``high`` is excluded."""
        return not self.closed[1]

    @property
    def proda(self) -> str:
        """``code`` (alias: the variable in the published PRODA code)."""
        return self.code

    def range_text(self) -> str:
        """The range as text, e.g. ``(0, 1]``."""
        lo = "[" if self.closed[0] else "("
        hi = "]" if self.closed[1] else ")"
        return f"{lo}{self.low:g}, {self.high:g}{hi}"

    def ok(self, v: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Elementwise: not NaN and within ``[low, high]`` (ends as :attr:`closed` says)."""
        lo = v >= self.low if self.closed[0] else v > self.low
        hi = v <= self.high if self.closed[1] else v < self.high
        return ~np.isnan(v) & lo & hi


def named(parameters: Mapping[str, Parameter]) -> dict[str, Parameter]:
    """The records with :attr:`Parameter.name` set to their key (for tables keyed by name)."""
    return {k: replace(v, name=k) for k, v in parameters.items()}


def parameter_table(parameters: Mapping[str, Parameter] | Iterable[Parameter]) -> pd.DataFrame:
    """The records as a table, one row per parameter (index: name).

    Columns: every field of :class:`Parameter` except ``name`` and the empty optional ones
    (columns that are empty for every row are dropped).
    """
    import pandas as pd

    records = list(parameters.values()) if isinstance(parameters, Mapping) else list(parameters)
    rows = [{f.name: getattr(p, f.name) for f in fields(Parameter)} for p in records]
    df = pd.DataFrame(rows).set_index("name")
    keep = [
        c for c in df.columns
        if not df[c].map(lambda x: x is None or x == "").all()
    ]
    return df[keep]
