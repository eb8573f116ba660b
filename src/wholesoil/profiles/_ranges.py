"""The one table of physical ranges that every command checks, each with its source.

Strict mode (``--qc strict``, the default) refuses a value outside its range with a located
error; repair mode applies the ``value_range`` rule of :func:`wholesoil.profiles.run_qc`
(default ``set_nan``: the value is excluded, reported with its row; a missing bulk density is
then filled by the pedotransfer function and flagged) and writes the QC report.

Depths have a documented maximum, :data:`MAX_DEPTH_CM`, that every command enforces (and
that ``--max-depth`` overrides): a horizon bottom of 1e9 cm is a typing error, not a soil.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PhysicalRange:
    """Inclusive range of a canonical horizon variable.

    Attributes
    ----------
    low, high : float
        Bounds in the canonical unit (``high`` may be ``inf``).
    unit : str
        Canonical unit.
    source : str
        Why: a physical bound stated as such, or a citation (authors, year, journal, DOI).
    """

    low: float
    high: float
    unit: str
    source: str


#: Physical ranges of canonical horizon variables (canonical units, inclusive).
#:
#: References
#: ----------
#: [1] Pribyl, D. W. (2010). A critical review of the conventional SOC to SOM conversion
#:     factor. *Geoderma* 156, 75–83. doi:10.1016/j.geoderma.2010.02.003
#: [2] Blake, G. R. & Hartge, K. H. (1986). Bulk density. In *Methods of Soil Analysis,
#:     Part 1* (2nd ed.), SSSA Book Series 5, 363–375. doi:10.2136/sssabookser5.1.2ed.c13
#: [3] Stuiver, M. & Polach, H. A. (1977). Discussion: reporting of ¹⁴C data. *Radiocarbon*
#:     19, 355–363. doi:10.1017/S0033822200003672
PHYSICAL_RANGES: dict[str, PhysicalRange] = {
    "soc": PhysicalRange(
        0.0, 600.0, "g C kg⁻¹",
        "physical bound: a mass fraction ≥ 0; pure organic matter holds about 50–58 % C [1], so "
        "no soil exceeds ~600 g C kg⁻¹"),
    "bd": PhysicalRange(
        0.05, 2.65, "g cm⁻³",
        "physical bound: bulk density cannot exceed the particle density of quartz, 2.65 g cm⁻³ "
        "[2]; the low bound keeps > 0 and admits the lightest peats (use value_range=flag for "
        "moss layers below it)"),
    "gravel": PhysicalRange(0.0, 100.0, "volume %", "physical bound: a volume fraction"),
    "clay": PhysicalRange(0.0, 100.0, "mass %", "physical bound: a mass fraction"),
    "silt": PhysicalRange(0.0, 100.0, "mass %", "physical bound: a mass fraction"),
    "sand": PhysicalRange(0.0, 100.0, "mass %", "physical bound: a mass fraction"),
    "tn": PhysicalRange(0.0, 100.0, "g N kg⁻¹",
                        "physical bound: a mass fraction ≥ 0; 100 g kg⁻¹ is far above any "
                        "soil's nitrogen (a C:N of 6 at the SOC maximum)"),
    "ph": PhysicalRange(0.0, 14.0, "-", "physical bound: the aqueous pH scale at 25 °C"),
    "soc_density": PhysicalRange(
        0.0, 600.0 * 2.65 * 1000.0 * 0.1, "Mg C ha⁻¹",
        "physical bound: a mass per area ≥ 0, and at most the SOC and bulk-density maxima "
        "over a 10-m layer (600 g kg⁻¹ × 2.65 g cm⁻³ × 1000 cm × 0.1 = 159 000 Mg C ha⁻¹)"),
    "f14c": PhysicalRange(0.0, np.inf, "-", "definition: F14C ≥ 0 (0 = radiocarbon-dead) [3]"),
    "d14c": PhysicalRange(-1000.0, np.inf, "‰", "definition: Δ14C = 1000 (F14C − 1) ≥ −1000 ‰ "
                          "[3]"),
}

#: ``{variable: (low, high)}``, the bounds of :data:`PHYSICAL_RANGES` (what QC reads).
VALUE_RANGES: dict[str, tuple[float, float]] = {
    k: (r.low, r.high) for k, r in PHYSICAL_RANGES.items()
}

#: Deepest horizon bottom (and standard depth) accepted [cm], unless overridden with
#: ``max_depth`` / ``--max-depth``. 10 m is below the deepest soil profiles of WoSIS and
#: ISRaD and far below any typing error such as 1e9; deeper regolith studies raise it.
MAX_DEPTH_CM: float = 1000.0

#: Largest working memory a single request may need [bytes] before it is refused (the
#: equal-area spline's 1-cm grid, say); ``WHOLESOIL_MAX_MEMORY`` (bytes) overrides it.
DEFAULT_MAX_MEMORY: int = 4 * 1024**3


def max_memory() -> int:
    """The memory budget of one request [bytes] (``WHOLESOIL_MAX_MEMORY`` or 4 GiB)."""
    import os

    text = os.environ.get("WHOLESOIL_MAX_MEMORY")
    if text:
        try:
            return int(float(text))
        except ValueError:
            pass
    return DEFAULT_MAX_MEMORY
