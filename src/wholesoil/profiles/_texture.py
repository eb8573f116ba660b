"""USDA soil texture classes from sand, silt and clay (the texture triangle).

Wang et al. (2025) compare β across soil texture classes (§2.1, Fig. 1c–e); :func:`texture_class`
gives the twelve classes of the USDA texture triangle and :data:`TEXTURE_GROUPS` the four broad
groups (sandy, loam, clay loam, clay) in which that paper reports them.

References
----------
Soil Science Division Staff (2017). Soil Survey Manual. USDA Handbook 18, Chapter 3, "Soil
texture" (class definitions and texture triangle). Washington, DC: USDA.

Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted
to Earth Syst. Sci. Data. Data: doi:10.5281/zenodo.14787023
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wholesoil.errors import InputDataError

#: The twelve USDA texture classes, in the order of the Soil Survey Manual's definitions.
USDA_TEXTURE_CLASSES: tuple[str, ...] = (
    "sand",
    "loamy sand",
    "sandy loam",
    "loam",
    "silt loam",
    "silt",
    "sandy clay loam",
    "clay loam",
    "silty clay loam",
    "sandy clay",
    "silty clay",
    "clay",
)

#: USDA class → the four broad groups of Wang et al. (2025, §2.1: sandy soil, loam, clay loam,
#: clay soil). The grouping is ours (the paper names the groups, not their members): the coarse
#: classes are "sandy", the medium "loam", the moderately fine "clay loam", the fine "clay",
#: following the Soil Survey Manual's general texture terms.
TEXTURE_GROUPS: dict[str, str] = {
    "sand": "sandy",
    "loamy sand": "sandy",
    "sandy loam": "sandy",
    "loam": "loam",
    "silt loam": "loam",
    "silt": "loam",
    "sandy clay loam": "clay loam",
    "clay loam": "clay loam",
    "silty clay loam": "clay loam",
    "sandy clay": "clay",
    "silty clay": "clay",
    "clay": "clay",
}


def texture_class(
    sand: ArrayLike,
    silt: ArrayLike | None = None,
    clay: ArrayLike | None = None,
    *,
    normalize: bool = True,
    tolerance: float = 1e-9,
) -> NDArray[np.object_]:
    """USDA texture class of each sample from its sand, silt and clay contents.

    Implements the class definitions of the Soil Survey Manual (Soil Science Division Staff
    2017, Ch. 3); each is a half-open region of the triangle, so a point on a boundary belongs
    to exactly one class:

    ========================  ==========================================================
    sand                      silt + 1.5·clay < 15
    loamy sand                silt + 1.5·clay ≥ 15 and silt + 2·clay < 30
    sandy loam                7 ≤ clay < 20, sand > 52, silt + 2·clay ≥ 30; or
                              clay < 7, silt < 50, silt + 2·clay ≥ 30
    loam                      7 ≤ clay < 27, 28 ≤ silt < 50, sand ≤ 52
    silt loam                 silt ≥ 50 and 12 ≤ clay < 27; or 50 ≤ silt < 80, clay < 12
    silt                      silt ≥ 80, clay < 12
    sandy clay loam           20 ≤ clay < 35, silt < 28, sand > 45
    clay loam                 27 ≤ clay < 40, 20 < sand ≤ 45
    silty clay loam           27 ≤ clay < 40, sand ≤ 20
    sandy clay                clay ≥ 35, sand > 45
    silty clay                clay ≥ 40, silt ≥ 40
    clay                      clay ≥ 40, sand ≤ 45, silt < 40
    ========================  ==========================================================

    Parameters
    ----------
    sand, silt, clay : array_like
        Particle-size fractions of the fine earth [%] (sand 0.05–2 mm, silt 0.002–0.05 mm,
        clay < 0.002 mm), broadcast together. ``silt=None`` takes silt = 100 − sand − clay.
    normalize : bool, default True
        Rescale each sample to sand + silt + clay = 100 (laboratory sums are rarely exact).
        With False, samples whose sum is not 100 ± 1 are an error.
    tolerance : float, default 1e-9
        Values within ``tolerance`` [%] of a boundary count as on it (rounding of the rescaled
        fractions must not move a sample across a line).

    Returns
    -------
    numpy.ndarray of object
        Class names of :data:`USDA_TEXTURE_CLASSES`; ``None`` where an input is missing (NaN).

    Raises
    ------
    InputDataError
        A negative fraction, a fraction above 100 %, or (``normalize=False``) a sum off 100.

    Examples
    --------
    >>> texture_class([40.0, 10.0], [40.0, 85.0], [20.0, 5.0]).tolist()
    ['loam', 'silt']
    """
    sa = np.asarray(sand, dtype=float)
    if clay is None:
        raise InputDataError("texture_class needs clay [%]", field="clay")
    cl = np.asarray(clay, dtype=float)
    si = 100.0 - sa - cl if silt is None else np.asarray(silt, dtype=float)
    sa, si, cl = np.broadcast_arrays(sa, si, cl)
    ok = np.isfinite(sa) & np.isfinite(si) & np.isfinite(cl)
    for name, v in (("sand", sa), ("silt", si), ("clay", cl)):
        bad = ok & ((v < -tolerance) | (v > 100 + tolerance))
        if bad.any():
            i = int(np.flatnonzero(bad.ravel())[0])
            raise InputDataError(
                f"{name} must be within 0–100 % (sample {i})", field=name, value=float(v.flat[i])
            )
    total = sa + si + cl
    if normalize:
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(ok & (total > 0), 100.0 / np.where(total > 0, total, 1.0), np.nan)
        sa, si, cl = sa * scale, si * scale, cl * scale
        ok &= np.isfinite(scale)
    else:
        off = ok & (np.abs(total - 100.0) > 1.0)
        if off.any():
            i = int(np.flatnonzero(off.ravel())[0])
            raise InputDataError(
                f"sand + silt + clay must be 100 % (sample {i}); pass normalize=True to rescale",
                field="sand+silt+clay",
                value=float(total.flat[i]),
            )
    t = float(tolerance)

    def ge(a: NDArray[np.float64], b: float | NDArray[np.float64]) -> NDArray[np.bool_]:
        return a >= b - t

    def lt(a: NDArray[np.float64], b: float | NDArray[np.float64]) -> NDArray[np.bool_]:
        return a < b - t

    def gt(a: NDArray[np.float64], b: float | NDArray[np.float64]) -> NDArray[np.bool_]:
        return a > b + t

    def le(a: NDArray[np.float64], b: float | NDArray[np.float64]) -> NDArray[np.bool_]:
        return a <= b + t

    s15 = si + 1.5 * cl
    s2 = si + 2.0 * cl
    conditions = [
        lt(s15, 15),
        ge(s15, 15) & lt(s2, 30),
        (ge(cl, 7) & lt(cl, 20) & gt(sa, 52) & ge(s2, 30))
        | (lt(cl, 7) & lt(si, 50) & ge(s2, 30)),
        ge(cl, 7) & lt(cl, 27) & ge(si, 28) & lt(si, 50) & le(sa, 52),
        (ge(si, 50) & ge(cl, 12) & lt(cl, 27)) | (ge(si, 50) & lt(si, 80) & lt(cl, 12)),
        ge(si, 80) & lt(cl, 12),
        ge(cl, 20) & lt(cl, 35) & lt(si, 28) & gt(sa, 45),
        ge(cl, 27) & lt(cl, 40) & gt(sa, 20) & le(sa, 45),
        ge(cl, 27) & lt(cl, 40) & le(sa, 20),
        ge(cl, 35) & gt(sa, 45),
        ge(cl, 40) & ge(si, 40),
        ge(cl, 40) & le(sa, 45) & lt(si, 40),
    ]
    out = np.select(conditions, np.asarray(USDA_TEXTURE_CLASSES, dtype=object), default=None)
    out = np.asarray(out, dtype=object)
    out[~ok] = None
    return out


def texture_group(classes: ArrayLike) -> NDArray[np.object_]:
    """The broad group (:data:`TEXTURE_GROUPS`) of each USDA class; ``None`` stays ``None``."""
    c = np.asarray(classes, dtype=object)
    return np.asarray([TEXTURE_GROUPS.get(x) if x is not None else None for x in c.ravel()],
                      dtype=object).reshape(c.shape)
