"""USDA texture classes: every vertex of the texture triangle's class polygons.

Expected classes follow the class definitions of the Soil Survey Manual (Soil Science Division
Staff 2017, USDA Handbook 18, Ch. 3), whose limits are half-open ("7 to less than 27 percent
clay", "more than 45 percent sand"); the same assignments are made by the NASIS particle-size
logic in R aqp's ``ssc_to_texcl`` (aqp 2.0). Each vertex is listed as (sand, silt, clay) [%].
"""

from __future__ import annotations

import numpy as np
import pytest

from wholesoil.errors import InputDataError
from wholesoil.profiles import (
    TEXTURE_GROUPS,
    USDA_TEXTURE_CLASSES,
    texture_class,
    texture_group,
)

# Vertices of the class polygons of the USDA texture triangle (Soil Survey Manual Fig. 3-…),
# each with the class whose half-open definition contains it.
VERTICES = [
    ((100, 0, 0), "sand"),
    ((85, 15, 0), "loamy sand"),  # silt + 1.5 clay = 15: not sand
    ((90, 0, 10), "loamy sand"),
    ((70, 30, 0), "sandy loam"),  # silt + 2 clay = 30: not loamy sand
    ((85, 0, 15), "sandy loam"),
    ((80, 0, 20), "sandy clay loam"),  # clay 20, sand > 45, silt < 28
    ((50, 50, 0), "silt loam"),  # silt 50
    ((43, 50, 7), "silt loam"),
    ((52, 41, 7), "loam"),  # sand 52 is "52 or less"
    ((52, 28, 20), "loam"),
    ((45, 28, 27), "clay loam"),  # clay 27, sand 45 ("more than 20 to 45")
    ((23, 50, 27), "clay loam"),
    ((20, 53, 27), "silty clay loam"),  # sand 20 ("20 percent or less")
    ((0, 73, 27), "silty clay loam"),
    ((20, 80, 0), "silt"),  # silt 80
    ((8, 80, 12), "silt loam"),  # clay 12
    ((0, 88, 12), "silt loam"),
    ((0, 100, 0), "silt"),
    ((0, 60, 40), "silty clay"),
    ((20, 40, 40), "silty clay"),  # clay 40 and silt 40
    ((0, 40, 60), "silty clay"),
    ((45, 15, 40), "clay"),  # sand 45 ("45 percent or less")
    ((45, 20, 35), "clay loam"),  # sand 45: sandy clay needs more than 45
    ((65, 0, 35), "sandy clay"),
    ((45, 0, 55), "clay"),
    ((0, 0, 100), "clay"),
    ((20, 60, 20), "silt loam"),
]

# One interior point per class, well away from any line.
INTERIOR = [
    ((95, 3, 2), "sand"),
    ((82, 12, 6), "loamy sand"),
    ((65, 25, 10), "sandy loam"),
    ((40, 40, 20), "loam"),
    ((20, 65, 15), "silt loam"),
    ((5, 90, 5), "silt"),
    ((60, 15, 25), "sandy clay loam"),
    ((33, 34, 33), "clay loam"),
    ((10, 56, 34), "silty clay loam"),
    ((52, 6, 42), "sandy clay"),
    ((6, 47, 47), "silty clay"),
    ((20, 20, 60), "clay"),
]


@pytest.mark.parametrize(("ssc", "expected"), VERTICES + INTERIOR)
def test_triangle_points(ssc, expected):
    sand, silt, clay = ssc
    assert texture_class(sand, silt, clay).item() == expected
    # silt by difference gives the same class
    assert texture_class(sand, None, clay).item() == expected


def test_vectorized_and_every_class_reached():
    pts = np.array([p for p, _ in VERTICES + INTERIOR], dtype=float)
    got = texture_class(pts[:, 0], pts[:, 1], pts[:, 2])
    assert got.tolist() == [c for _, c in VERTICES + INTERIOR]
    assert set(got) == set(USDA_TEXTURE_CLASSES)


def test_partition_of_the_triangle():
    # Every point of a 0.5 % grid over the triangle gets exactly one class.
    g = np.arange(0.0, 100.01, 0.5)
    sand, clay = np.meshgrid(g, g)
    keep = sand + clay <= 100
    cls = texture_class(sand[keep], None, clay[keep])
    assert all(c in USDA_TEXTURE_CLASSES for c in cls)


def test_normalize_missing_and_errors():
    # a laboratory sum of 98 % is rescaled: (39.2, 39.2, 19.6) → (40, 40, 20) loam
    assert texture_class(39.2, 39.2, 19.6).item() == "loam"
    assert texture_class(np.nan, 40.0, 20.0).item() is None
    with pytest.raises(InputDataError, match="sand"):
        texture_class(-5.0, 50.0, 55.0)
    with pytest.raises(InputDataError, match="100 %"):
        texture_class(30.0, 30.0, 30.0, normalize=False)


def test_groups():
    assert set(TEXTURE_GROUPS) == set(USDA_TEXTURE_CLASSES)
    assert texture_group(["loam", None, "sandy clay"]).tolist() == ["loam", None, "clay"]
