"""Canonical units and the conversions between them.

wholesoil converts at the boundary (readers, writers) and nowhere else; everything inside the
package works in the canonical units of ``DESIGN.md``:

=============================  ==========================
horizon depths                 cm, positive downward
SOC concentration              g C kg⁻¹ fine earth
bulk density                   g cm⁻³
coarse fragments (gravel)      volume %
SOC density of a layer         Mg C ha⁻¹
=============================  ==========================

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023

Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: SOM → SOC conversion factor (Don et al. 2011), used by Wang H. et al. (2025 §2.1).
SOM_TO_SOC = 0.58

#: Van Bemmelen factor OM = 1.724 · SOC, used by Tao et al. (EarthArXiv §2.1) in the BD
#: pedotransfer.
SOC_TO_OM = 1.724

#: 1 kg C m⁻² = 10 Mg C ha⁻¹.
KG_M2_TO_MG_HA = 10.0

#: 1 % = 10 g kg⁻¹.
PERCENT_TO_G_KG = 10.0

#: 1 Pg = 1e9 Mg.
MG_TO_PG = 1e-9


def som_to_soc(som: ArrayLike) -> NDArray[np.float64]:
    """Soil organic matter to soil organic carbon, SOC = 0.58 · SOM (Wang H. et al. (2025) §2.1).

    Parameters
    ----------
    som : array_like
        Soil organic matter [any mass-fraction unit]; the result is in the same unit.
    """
    return np.asarray(som, dtype=float) * SOM_TO_SOC


def soc_to_om(soc: ArrayLike) -> NDArray[np.float64]:
    """Soil organic carbon to organic matter, OM = 1.724 · SOC (Tao et al. (EarthArXiv) §2.1).

    Parameters
    ----------
    soc : array_like
        Soil organic carbon [any mass-fraction unit]; the result is in the same unit.
    """
    return np.asarray(soc, dtype=float) * SOC_TO_OM


def percent_to_g_kg(x: ArrayLike) -> NDArray[np.float64]:
    """Mass fraction in % to g kg⁻¹."""
    return np.asarray(x, dtype=float) * PERCENT_TO_G_KG


def g_kg_to_percent(x: ArrayLike) -> NDArray[np.float64]:
    """Mass fraction in g kg⁻¹ to %."""
    return np.asarray(x, dtype=float) / PERCENT_TO_G_KG


def kg_m2_to_mg_ha(x: ArrayLike) -> NDArray[np.float64]:
    """Areal carbon density in kg C m⁻² to Mg C ha⁻¹."""
    return np.asarray(x, dtype=float) * KG_M2_TO_MG_HA


def mg_ha_to_kg_m2(x: ArrayLike) -> NDArray[np.float64]:
    """Areal carbon density in Mg C ha⁻¹ to kg C m⁻²."""
    return np.asarray(x, dtype=float) / KG_M2_TO_MG_HA
