"""Honest validation: grouped and spatial k-fold, skill by depth band, independent test sets.

A soil profile contributes several layers, and layers of one profile are far more alike than
layers of two profiles; a fold that trains on the 0–10 cm layer and tests on the 10–20 cm layer
of the same profile reports skill the model will not have at a new site. :class:`ProfileKFold`
keeps every profile in one fold; :class:`SpatialBlockKFold` keeps whole blocks of the globe in one
fold and can drop training rows within a buffer of the test rows, against spatial
autocorrelation. :func:`cross_validate` scores out-of-fold predictions with R² and RMSE (Wang et
al., Wang H. et al. (2025), §2.5 Eqs. 4–5; 10-fold CV) and :meth:`ValidationResult.by_depth` shows
how skill falls with depth, as Fig. 1e of Wang G. et al. (2025) does (R² 0.96 in 0–30 cm, 0.67 in
30–100 cm, 0.48 in 100–200 cm for a WoSIS-trained random forest tested in Nei Mongol).
:func:`validate_independent` scores a fitted model on an independent set, the test of
Wang G. et al. (2025).

References
----------
Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon distribution in
the 20–100 cm soil profile for different ecosystems: a global meta-analysis. Manuscript submitted to
Earth System Science Data. Data: https://doi.org/10.5281/zenodo.14787023

Wang, G., Luo, Z., Song, C., et al. (2025). Digging deeper towards accurate mapping of deep soil
organic carbon in grasslands. Science Bulletin. https://doi.org/10.1016/j.scib.2025.06.006

Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils.validation import check_is_fitted

from wholesoil.errors import InputDataError
from wholesoil.mapping._check import feature_matrix, require_columns, target_vector
from wholesoil.mapping._metrics import skill

#: Folds of :func:`cross_validate`: ``"kfold"`` is :class:`ProfileKFold`, ``"spatial"`` is
#: :class:`SpatialBlockKFold`.
CVScheme = Literal["kfold", "spatial"]

#: How :func:`depthwise_metrics` puts a layer in a depth band: ``"midpoint"`` by the band that
#: holds its midpoint, ``"overlap"`` in every band it overlaps.
BandAssignment = Literal["midpoint", "overlap"]

#: Mean Earth radius R₁ = (2a + b)/3 of the WGS84 ellipsoid [km] (Moritz 2000, Geodetic Reference
#: System 1980, J. Geodesy 74:128–133, doi:10.1007/s001900050278), the sphere of the haversine
#: buffer: 1° of latitude is 2π·6371.0088/360 = 111.195 km.
EARTH_RADIUS_KM = 6371.0088

#: Depth bands [cm] of :meth:`ValidationResult.by_depth`: topsoil 0–30, subsoil 30–100 and deep
#: soil 100–200 cm as in Wang G. et al. (2025) (Fig. 1e), and 200–300 cm below.
DEFAULT_DEPTH_BANDS: tuple[tuple[float, float], ...] = ((0, 30), (30, 100), (100, 200), (200, 300))


# --------------------------------------------------------------------------------------------
# splitters
# --------------------------------------------------------------------------------------------


def _balanced_folds(
    sizes: np.ndarray, n_splits: int, rng: np.random.RandomState | None
) -> np.ndarray:
    """Fold of each unit (profile or block) so that folds hold about equal numbers of rows.

    Units are sorted by size, largest first (ties in random order when ``rng`` is given), and
    dealt in rounds of ``n_splits``: each fold receives exactly one unit per round. Within a
    round sizes differ little and the differences telescope over the rounds, so the row counts of
    two folds differ by at most the largest unit. Rounds are dealt in random order of the folds
    (``rng``) or as a snake, 0…k−1 then k−1…0 (no ``rng``). Every fold gets a unit as long as
    there are at least ``n_splits`` units.
    """
    n_units = sizes.size
    order = np.arange(n_units) if rng is None else rng.permutation(n_units)
    order = order[np.argsort(-sizes[order], kind="stable")]
    n_rounds = -(-n_units // n_splits)
    if rng is None:
        lane = np.arange(n_splits)
        deal = np.where(np.arange(n_rounds)[:, None] % 2 == 0, lane, lane[::-1])
    else:
        deal = np.argsort(rng.random_sample((n_rounds, n_splits)), axis=1)
    fold = np.empty(n_units, dtype=np.intp)
    fold[order] = deal.ravel()[:n_units]
    return fold


def _group_codes(groups: ArrayLike, n_rows: int, *, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer code of each row's group and the row of each group's first appearance."""
    values = np.asarray(groups)
    if values.ndim != 1 or values.size != n_rows:
        raise InputDataError(
            f"{what} needs one group (profile id) per row: got groups of shape {values.shape} "
            f"for {n_rows} rows"
        )
    missing = np.flatnonzero(pd.isna(values))
    if missing.size:
        i = int(missing[0])
        raise InputDataError(
            f"{what}: every row needs a group (profile id); {missing.size} row(s) have none, "
            f"the first at position {i}",
            field="groups", value=values[i], has_value=True,
        )
    codes, uniques = pd.factorize(values, sort=False)
    first = np.full(len(uniques), n_rows, dtype=np.intp)
    np.minimum.at(first, codes, np.arange(n_rows))
    return codes.astype(np.intp), first


def _n_rows(X: Any) -> int:
    if X is None:
        raise InputDataError("a splitter needs X (or at least its number of rows)")
    shape = getattr(X, "shape", None)
    return int(shape[0]) if shape is not None else len(X)


def _yield_folds(fold: np.ndarray, n_splits: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for f in range(n_splits):
        test = fold == f
        yield np.flatnonzero(~test), np.flatnonzero(test)


class ProfileKFold(BaseCrossValidator):
    """K-fold cross-validation that never splits a profile.

    Every layer (row) of a profile — a group — lands in the same fold, so no profile is on both
    the training and the test side. Folds hold about equal numbers of rows: profiles are dealt
    largest first, one per fold per round, so two folds differ by at most the row count of the
    largest profile. Wang H. et al. (2025) (§2.5) validates by 10-fold CV, the default here.

    Parameters
    ----------
    n_splits : int, default 10
        Number of folds k ≥ 2.
    shuffle : bool, default True
        Deal profiles of equal size, and the folds within each round, in random order. Without
        shuffling, folds follow a fixed snake order (reproducible without a seed).
    random_state : int, RandomState or None
        Seed of the shuffle.

    Notes
    -----
    ``split(X, y=None, groups=None)`` requires ``groups``: one profile id per row. Data with one
    row per profile (e.g. a β per profile, Wang H. et al. (2025)) pass ``groups=np.arange(n)``; that
    is plain k-fold.
    """

    __metadata_request__split = {"groups": True}  # noqa: RUF012 -- scikit-learn's routing API

    def __init__(
        self, n_splits: int = 10, *, shuffle: bool = True, random_state: Any = None
    ) -> None:
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of folds k."""
        return int(self.n_splits)

    def test_folds(self, X: Any, y: Any = None, groups: ArrayLike | None = None) -> np.ndarray:
        """Fold (0 … k−1) of each row; rows of one group share a fold."""
        k = _check_n_splits(self.n_splits)
        n = _n_rows(X)
        if groups is None:
            raise InputDataError(
                "ProfileKFold needs groups: one profile id per row (pass groups=np.arange(n) "
                "for data with one row per profile)", field="groups"
            )
        codes, first = _group_codes(groups, n, what="ProfileKFold")
        if first.size < k:
            raise InputDataError(
                f"{k} folds need at least {k} profiles; got {first.size}", field="groups"
            )
        sizes = np.bincount(codes, minlength=first.size)
        rng = np.random.RandomState(_seed(self.random_state)) if self.shuffle else None
        return _balanced_folds(sizes, k, rng)[codes]

    def split(
        self, X: Any, y: Any = None, groups: ArrayLike | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train, test)`` row positions for each of the k folds."""
        yield from _yield_folds(self.test_folds(X, y, groups), self.get_n_splits())


def _check_n_splits(n_splits: Any) -> int:
    if isinstance(n_splits, bool) or not isinstance(n_splits, int | np.integer) or n_splits < 2:
        raise InputDataError(
            "n_splits must be an integer ≥ 2", field="n_splits", value=n_splits, has_value=True
        )
    return int(n_splits)


def _seed(random_state: Any) -> Any:
    """A RandomState is used as is; an int or None seeds a new one."""
    if isinstance(random_state, np.random.RandomState):
        return random_state.randint(np.iinfo(np.int32).max)
    return random_state


def haversine_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> np.ndarray:
    """Great-circle distance [km] between points given in decimal degrees (broadcasting).

    d = 2R·asin(√(sin²(Δφ/2) + cos φ₁ cos φ₂ sin²(Δλ/2))) on a sphere of radius
    R = :data:`EARTH_RADIUS_KM` (Sinnott 1984, Sky Telesc. 68:159).
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2, float) - np.asarray(lon1, float))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def _unit_vectors(latlon: np.ndarray) -> np.ndarray:
    lat, lon = np.radians(latlon[:, 0]), np.radians(latlon[:, 1])
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def _near_any_km(points: np.ndarray, targets: np.ndarray, radius_km: float) -> np.ndarray:
    """Whether each point lies within ``radius_km`` (≤) of any target; both (lat, lon) [°].

    The nearest target of each point by great-circle distance is its nearest by straight chord
    through the sphere (chord = 2R·sin(d / 2R) grows with d), which a k-d tree over unit vectors
    finds fast, searching only within the chord of ``radius_km``; the decision is then taken on
    the exact :func:`haversine_km` distance to that nearest target.
    """
    near = np.zeros(points.shape[0], dtype=bool)
    if points.shape[0] == 0 or targets.shape[0] == 0:
        return near
    if radius_km >= np.pi * EARTH_RADIUS_KM:  # half the circumference: everything is near
        near[:] = True
        return near
    chord = 2.0 * np.sin(radius_km / (2.0 * EARTH_RADIUS_KM))
    dist, j = cKDTree(_unit_vectors(targets)).query(
        _unit_vectors(points), k=1, distance_upper_bound=chord * (1 + 1e-9) + 1e-12
    )
    found = np.flatnonzero(np.isfinite(dist))
    t = targets[j[found]]
    p = points[found]
    near[found] = haversine_km(p[:, 0], p[:, 1], t[:, 0], t[:, 1]) <= radius_km
    return near


class SpatialBlockKFold(BaseCrossValidator):
    """K-fold over blocks of latitude × longitude, with an optional buffer around the test rows.

    The globe is cut into cells of ``block_size`` degrees of latitude by ``block_size`` degrees of
    longitude; all rows of a cell go to the same fold, and cells are dealt to folds so that the
    folds hold about equal numbers of rows (as :class:`ProfileKFold` deals profiles). With
    ``buffer_km > 0`` every training row within ``buffer_km`` (great-circle distance on a sphere
    of radius :data:`EARTH_RADIUS_KM`) of any test row is dropped from that fold's training set,
    so training and test rows are at least ``buffer_km`` apart.

    Parameters
    ----------
    n_splits : int, default 5
        Number of folds k ≥ 2.
    block_size : float, default 5.0
        Side of a block [° of latitude and of longitude]. A degree of longitude shrinks with
        cos(latitude), so blocks are narrower toward the poles.
    buffer_km : float, default 0.0
        Radius around the test rows within which training rows are dropped [km].
    lat, lon : str, default "lat", "lon"
        Columns of X with the latitude and longitude [decimal °, WGS84] when ``coords`` is not
        given.
    coords : array (n, 2), optional
        Latitude and longitude [°] of each row, for X that carry no coordinates (a feature
        matrix); used instead of the ``lat``/``lon`` columns, and must have one row per row of X.
    shuffle : bool, default True
        Deal blocks of equal size, and folds within a round, in random order.
    random_state : int, RandomState or None
        Seed of the shuffle.

    Notes
    -----
    Layers of a profile share their coordinates, so they share a block and are never split. When
    ``groups`` (profile ids) are given to :meth:`split`, each group is placed by the block of its
    first row, so a group stays whole even if its rows' coordinates disagree.
    """

    __metadata_request__split = {"groups": True}  # noqa: RUF012 -- scikit-learn's routing API

    def __init__(
        self,
        n_splits: int = 5,
        *,
        block_size: float = 5.0,
        buffer_km: float = 0.0,
        lat: str = "lat",
        lon: str = "lon",
        coords: ArrayLike | None = None,
        shuffle: bool = True,
        random_state: Any = None,
    ) -> None:
        self.n_splits = n_splits
        self.block_size = block_size
        self.buffer_km = buffer_km
        self.lat = lat
        self.lon = lon
        self.coords = coords
        self.shuffle = shuffle
        self.random_state = random_state

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of folds k."""
        return int(self.n_splits)

    def coordinates(self, X: Any) -> np.ndarray:
        """Latitude and longitude [°] of each row, (n, 2), from ``coords`` or X's columns."""
        n = _n_rows(X)
        if self.coords is not None:
            xy = np.asarray(self.coords, dtype=float)
            if xy.ndim != 2 or xy.shape[1] != 2 or xy.shape[0] != n:
                raise InputDataError(
                    f"coords must be an (n, 2) array of latitude, longitude with one row per "
                    f"row of X ({n}); got shape {xy.shape}", field="coords"
                )
            names = ("coords[:, 0] (latitude)", "coords[:, 1] (longitude)")
        elif isinstance(X, pd.DataFrame):
            require_columns(X, [self.lat, self.lon], what="coordinate")
            xy = X[[self.lat, self.lon]].apply(pd.to_numeric, errors="coerce").to_numpy(float)
            names = (self.lat, self.lon)
        else:
            raise InputDataError(
                "SpatialBlockKFold needs coordinates: give X as a DataFrame with columns "
                f"{self.lat!r} and {self.lon!r}, or coords=(latitude, longitude) array at init"
            )
        bad = ~np.isfinite(xy)
        bad[:, 0] |= np.abs(xy[:, 0]) > 90.0
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise InputDataError(
                "expected a finite latitude in [−90, 90] and a finite longitude [°]",
                row=int(i) + 2, field=names[j], value=float(xy[i, j]), has_value=True,
            )
        return xy

    def block_ids(self, X: Any, groups: ArrayLike | None = None) -> np.ndarray:
        """Block label of each row: ``lat_index * n_lon_cells + lon_index``.

        Cells start at (−90°, −180°); longitudes are taken modulo 360°. With ``groups``, every
        row of a group gets the block of the group's first row.
        """
        size = float(self.block_size)
        if not np.isfinite(size) or size <= 0.0 or size > 180.0:
            raise InputDataError(
                "block_size must be in (0, 180] degrees", field="block_size",
                value=self.block_size, has_value=True,
            )
        xy = self.coordinates(X)
        n_lat = int(np.ceil(180.0 / size))
        n_lon = int(np.ceil(360.0 / size))
        i = np.minimum(np.floor((xy[:, 0] + 90.0) / size).astype(np.int64), n_lat - 1)
        j = np.minimum(np.floor(np.mod(xy[:, 1] + 180.0, 360.0) / size).astype(np.int64), n_lon - 1)
        block = i * n_lon + j
        if groups is not None:
            codes, first = _group_codes(groups, xy.shape[0], what="SpatialBlockKFold")
            block = block[first][codes]
        return block

    def test_folds(self, X: Any, y: Any = None, groups: ArrayLike | None = None) -> np.ndarray:
        """Fold (0 … k−1) of each row; rows of one block (and of one group) share a fold."""
        k = _check_n_splits(self.n_splits)
        block = self.block_ids(X, groups)
        labels, codes = np.unique(block, return_inverse=True)
        if labels.size < k:
            raise InputDataError(
                f"{k} folds need at least {k} occupied blocks; got {labels.size} blocks of "
                f"{self.block_size}° (use a smaller block_size or fewer folds)",
                field="block_size",
            )
        rng = np.random.RandomState(_seed(self.random_state)) if self.shuffle else None
        return _balanced_folds(np.bincount(codes), k, rng)[codes]

    def split(
        self, X: Any, y: Any = None, groups: ArrayLike | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train, test)`` row positions; training rows inside the buffer are dropped."""
        fold = self.test_folds(X, y, groups)
        buffer = float(self.buffer_km)
        if not np.isfinite(buffer) or buffer < 0.0:
            raise InputDataError(
                "buffer_km must be a finite distance ≥ 0 km", field="buffer_km",
                value=self.buffer_km, has_value=True,
            )
        if buffer == 0.0:
            yield from _yield_folds(fold, self.get_n_splits())
            return
        # distances between distinct sites only: layers of a profile share coordinates
        xy = self.coordinates(X)
        site_key, site = np.unique(xy[:, 0] + 1j * xy[:, 1], return_inverse=True)
        sites = np.column_stack([site_key.real, site_key.imag])
        for f in range(self.get_n_splits()):
            test = fold == f
            test_sites = np.unique(site[test])
            train_sites = np.unique(site[~test])
            near = np.zeros(sites.shape[0], dtype=bool)
            near[train_sites] = _near_any_km(sites[train_sites], sites[test_sites], buffer)
            train = np.flatnonzero(~test & ~near[site])
            if train.size == 0:
                raise InputDataError(
                    f"fold {f}: a buffer of {buffer} km around the test rows leaves no training "
                    "rows (use a smaller buffer_km)", field="buffer_km"
                )
            yield train, np.flatnonzero(test)


# --------------------------------------------------------------------------------------------
# depth bands
# --------------------------------------------------------------------------------------------


def _band_label(top: float, bottom: float) -> str:
    return f"{top:g}-{bottom:g}cm"


def _check_bands(bands: Sequence[Sequence[float]]) -> np.ndarray:
    b = np.asarray(bands, dtype=float)
    if b.ndim != 2 or b.shape[1] != 2 or b.shape[0] == 0:
        raise InputDataError(
            "bands must be a sequence of (top, bottom) depth pairs [cm], e.g. ((0, 30), (30, 100))",
            field="bands", value=bands, has_value=True,
        )
    bad = ~np.isfinite(b).all(axis=1) | (b[:, 1] <= b[:, 0]) | (b[:, 0] < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputDataError(
            "each band needs 0 ≤ top < bottom [cm]", field="bands",
            value=tuple(bands[i]), has_value=True,
        )
    return b


def depthwise_metrics(
    observed: ArrayLike,
    predicted: ArrayLike,
    top: ArrayLike,
    bottom: ArrayLike,
    bands: Sequence[Sequence[float]] = DEFAULT_DEPTH_BANDS,
    *,
    assign: BandAssignment = "midpoint",
) -> pd.DataFrame:
    """Skill of layer predictions within each depth band (Wang G. et al. (2025) Fig. 1e).

    Parameters
    ----------
    observed, predicted : array (n,)
        Observed and predicted values of n layers [unit of the target].
    top, bottom : array (n,)
        Upper and lower depth of each layer [cm], top < bottom.
    bands : sequence of (top, bottom) [cm]
        Depth bands; default 0–30, 30–100, 100–200 and 200–300 cm (Wang G. et al.'s (2025) topsoil,
        subsoil, deep soil, and below).
    assign : {"midpoint", "overlap"}
        ``"midpoint"``: a layer belongs to each band with top ≤ (top + bottom)/2 < bottom (one band
        when bands do not overlap). ``"overlap"``: a layer belongs to every band it overlaps by
        more than 0 cm, so a 20–50 cm layer counts in both 0–30 and 30–100 cm.

    Returns
    -------
    pandas.DataFrame
        One row per band: ``band`` (e.g. ``"0-30cm"``), ``top``, ``bottom`` [cm], ``n``, ``r2``
        (Eq. 4 of Wang H. et al. (2025) within the band, against the band's own observed mean),
        ``rmse`` (Eq. 5), ``bias`` (mean predicted − observed). Metrics are NaN for an empty band
        (R² also for a band with fewer than two layers or no variance).
    """
    y = np.asarray(observed, dtype=float).ravel()
    p = np.asarray(predicted, dtype=float).ravel()
    t = np.asarray(top, dtype=float).ravel()
    b = np.asarray(bottom, dtype=float).ravel()
    if not (y.size == p.size == t.size == b.size):
        raise InputDataError(
            "observed, predicted, top and bottom need one value per layer; got sizes "
            f"{y.size}, {p.size}, {t.size}, {b.size}"
        )
    bad = ~(np.isfinite(t) & np.isfinite(b) & (b > t))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputDataError(
            f"expected finite depths with bottom > top (top {t[i]:g} cm)",
            row=i + 2, field="bottom", value=float(b[i]), has_value=True,
        )
    if assign not in ("midpoint", "overlap"):
        raise InputDataError(
            "assign must be 'midpoint' or 'overlap'", field="assign", value=assign, has_value=True
        )
    edges = _check_bands(bands)
    if assign == "midpoint":
        mid = 0.5 * (t + b)
        member = (mid[:, None] >= edges[None, :, 0]) & (mid[:, None] < edges[None, :, 1])
    else:
        member = (t[:, None] < edges[None, :, 1]) & (b[:, None] > edges[None, :, 0])
    rows = []
    for k, (top_k, bottom_k) in enumerate(edges):
        sel = member[:, k]
        rows.append(
            {"band": _band_label(top_k, bottom_k), "top": top_k, "bottom": bottom_k,
             **skill(y[sel], p[sel])}
        )
    return pd.DataFrame(rows, columns=["band", "top", "bottom", "n", "r2", "rmse", "bias"])


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class ValidationResult:
    """Predictions of a model for rows it was not trained on, and their skill.

    Attributes
    ----------
    predictions : pandas.DataFrame
        One row per table row, indexed like the table: ``row`` (0-based position in the table),
        ``fold`` (cross-validation only), ``group`` (when groups were given), ``observed``,
        ``predicted``, and ``top``, ``bottom`` [cm] when the table has them.
    metrics : dict
        ``n``, ``r2`` (Wang H. et al. (2025) Eq. 4), ``rmse`` (Eq. 5), ``bias`` (mean predicted −
        observed) over all rows.
    target : str
        Name of the target column.
    features : tuple of str
        Feature columns.
    bands : tuple of (top, bottom)
        Default depth bands of :meth:`by_depth` [cm].
    description : str
        How the predictions were made, e.g. ``"10-fold ProfileKFold"``.
    """

    predictions: pd.DataFrame
    metrics: dict[str, float]
    target: str
    features: tuple[str, ...]
    bands: tuple[tuple[float, float], ...] = DEFAULT_DEPTH_BANDS
    description: str = "independent validation"

    def __repr__(self) -> str:
        m = self.metrics
        return (
            f"{type(self).__name__}({self.description}, target={self.target!r}, n={m['n']}, "
            f"R²={m['r2']:.3f}, RMSE={m['rmse']:.4g}, bias={m['bias']:.4g})"
        )

    @property
    def has_depths(self) -> bool:
        """Whether the predictions carry layer depths (``top`` and ``bottom``)."""
        return {"top", "bottom"} <= set(self.predictions.columns)

    def by_depth(
        self,
        bands: Sequence[Sequence[float]] | None = None,
        *,
        assign: BandAssignment = "midpoint",
    ) -> pd.DataFrame:
        """Skill per depth band (Wang G. et al. (2025) Fig. 1e); see :func:`depthwise_metrics`."""
        if not self.has_depths:
            raise InputDataError(
                "skill by depth needs layer depths: the validated table had no top/bottom "
                "columns (pass top=/bottom= with the depth column names)", field="top"
            )
        p = self.predictions
        return depthwise_metrics(
            p["observed"], p["predicted"], p["top"], p["bottom"],
            self.bands if bands is None else bands, assign=assign,
        )


@dataclass(frozen=True, repr=False, eq=False)
class CVResult(ValidationResult):
    """Out-of-fold predictions of a cross-validation and their skill.

    As :class:`ValidationResult`, with ``predictions["fold"]`` and:

    Attributes
    ----------
    fold_metrics : pandas.DataFrame
        One row per fold: ``fold``, ``n_train``, ``n_test``, ``n_dropped`` (rows dropped from
        training by a spatial buffer, or left out by the splitter), ``r2``, ``rmse``, ``bias``
        (Eqs. 4–5 of Wang H. et al. (2025) on that fold's test rows).
    """

    fold_metrics: pd.DataFrame = field(default_factory=pd.DataFrame)


# --------------------------------------------------------------------------------------------
# cross-validation and independent validation
# --------------------------------------------------------------------------------------------


def _model_input(estimator: Any, X: np.ndarray, features: Sequence[str], index: Any) -> Any:
    """X as the estimator was fitted: a DataFrame if it knows feature names, else the matrix."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        return X
    if list(names) != list(features):
        raise InputDataError(
            f"the model was fitted on features {list(names)} (in this order); got "
            f"{list(features)}", field="features"
        )
    return pd.DataFrame(X, columns=list(features), index=index)


def _fit_accepts_groups(estimator: Any) -> bool:
    try:
        return "groups" in inspect.signature(estimator.fit).parameters
    except (TypeError, ValueError):
        return False


def _depth_columns(
    table: pd.DataFrame, top: str | None, bottom: str | None
) -> dict[str, np.ndarray]:
    if top is None or bottom is None or top not in table or bottom not in table:
        return {}
    return {
        "top": pd.to_numeric(table[top], errors="coerce").to_numpy(float),
        "bottom": pd.to_numeric(table[bottom], errors="coerce").to_numpy(float),
    }


def _resolve_groups(
    table: pd.DataFrame, groups: str | ArrayLike | None, source: str | None
) -> np.ndarray | None:
    if groups is None:
        return None
    if isinstance(groups, str):
        require_columns(table, [groups], source=source, what="group")
        values = table[groups]
    else:
        values = pd.Series(np.asarray(groups, dtype=object))
    if len(values) != len(table):
        raise InputDataError(
            f"groups need one profile id per row: got {len(values)} for {len(table)} rows",
            file=source, field="groups",
        )
    missing = np.flatnonzero(values.isna().to_numpy())
    if missing.size:
        i = int(missing[0])
        raise InputDataError(
            "every row needs a group (profile id)", file=source, row=i + 2,
            field=groups if isinstance(groups, str) else "groups", value=None, has_value=True,
        )
    return values.to_numpy(dtype=object)


def _make_splitter(
    cv: CVScheme | BaseCrossValidator | Any,
    *,
    n_splits: int,
    block_size: float,
    buffer_km: float,
    lat: str,
    lon: str,
    random_state: Any,
) -> Any:
    if isinstance(cv, str):
        if cv == "kfold":
            return ProfileKFold(n_splits, shuffle=True, random_state=random_state)
        if cv == "spatial":
            return SpatialBlockKFold(
                n_splits, block_size=block_size, buffer_km=buffer_km, lat=lat, lon=lon,
                shuffle=True, random_state=random_state,
            )
        raise InputDataError(
            "cv must be 'kfold', 'spatial' or a splitter with split(X, y, groups)", field="cv",
            value=cv, has_value=True,
        )
    if not hasattr(cv, "split"):
        raise InputDataError(
            "cv must be 'kfold', 'spatial' or a splitter with split(X, y, groups)", field="cv",
            value=cv, has_value=True,
        )
    return cv


def _check_fold(f: int, train: np.ndarray, test: np.ndarray, fold: np.ndarray,
                group_values: np.ndarray | None) -> None:
    """Refuse a fold that predicts a row twice or puts one profile on both sides."""
    if (fold[test] >= 0).any():
        i = int(test[fold[test] >= 0][0])
        raise InputDataError(
            f"the splitter put row position {i} in the test set of folds {fold[i]} and {f}; "
            "cross-validation needs each row predicted exactly once", field="cv"
        )
    if group_values is not None:
        leak = np.isin(group_values[test], group_values[train])
        if leak.any():
            g = group_values[test][leak][0]
            raise InputDataError(
                f"the splitter put layers of profile {g!r} on both the training and the test "
                f"side of fold {f}; use cv='kfold' (ProfileKFold) or a group-aware splitter",
                profile=g, field="cv",
            )


def cross_validate(
    estimator: Any,
    table: pd.DataFrame,
    target: str,
    features: Sequence[str],
    *,
    groups: str | ArrayLike | None = None,
    cv: CVScheme | Any = "kfold",
    n_splits: int = 10,
    block_size: float = 5.0,
    buffer_km: float = 0.0,
    lat: str = "lat",
    lon: str = "lon",
    top: str | None = "top",
    bottom: str | None = "bottom",
    bands: Sequence[Sequence[float]] = DEFAULT_DEPTH_BANDS,
    random_state: Any = 0,
    source: str | None = None,
) -> CVResult:
    """Out-of-fold predictions of every row and their skill (Wang H. et al. (2025) §2.5, Eqs. 4–5).

    A fresh copy of the estimator (``sklearn.base.clone``) is fitted on each fold's training rows
    and predicts its test rows, so each row is predicted exactly once by a model that did not
    see it — nor, with ``groups``, any layer of its profile.

    Parameters
    ----------
    estimator : scikit-learn-compatible regressor
        Unfitted model; ``fit(X, y)`` (``fit(X, y, groups=…)`` when its ``fit`` takes groups)
        and ``predict(X)``. X is a DataFrame of the feature columns, as floats.
    table : pandas.DataFrame
        One row per observation (a layer, or a profile).
    target : str
        Column to predict [its unit].
    features : sequence of str
        Predictor columns; every value must be a finite number.
    groups : str or array (n,), optional
        Profile id of each row, or the name of its column. Rows of one group are never split
        between training and test. Without groups every row is its own group, which is right only
        when rows are independent (one row per profile, as Wang H. et al.'s (2025) β); a table with
        layer depths and no groups draws a warning.
    cv : {"kfold", "spatial"} or splitter
        ``"kfold"``: :class:`ProfileKFold` with ``n_splits``; ``"spatial"``:
        :class:`SpatialBlockKFold` with ``n_splits``, ``block_size`` [°], ``buffer_km`` [km] and
        the ``lat``/``lon`` columns of the table. Any other object with ``split(X, y, groups)``
        is called with the table as X; its test sets must cover each row exactly once.
    n_splits : int, default 10
        Folds of the named schemes (10, as Wang H. et al. (2025)).
    block_size, buffer_km, lat, lon
        Options of ``cv="spatial"``; see :class:`SpatialBlockKFold`.
    top, bottom : str, default "top", "bottom"
        Layer depth columns [cm], carried into the predictions for :meth:`CVResult.by_depth`
        when present.
    bands : sequence of (top, bottom) [cm]
        Default depth bands of the result.
    random_state : int or None, default 0
        Seed of the fold assignment (not of the estimator).
    source : str, optional
        File name for error messages.

    Returns
    -------
    CVResult

    Raises
    ------
    MissingColumnError
        A target, feature, group or coordinate column is absent.
    InputDataError
        A NaN/infinite/non-numeric feature, a non-finite or constant target, more folds than
        profiles or blocks, a splitter that predicts a row twice or never, or that puts one
        profile on both sides of a fold.
    """
    features = tuple(features)
    X = feature_matrix(table, features, source=source)
    y = target_vector(table, target, source=source)
    n = y.size
    group_values = _resolve_groups(table, groups, source)
    depths = _depth_columns(table, top, bottom)
    if group_values is None and depths:
        warnings.warn(
            "cross_validate without groups on a table with layer depths: layers of one profile "
            "may fall on both sides of a fold and inflate the skill; pass groups='profile_id'",
            UserWarning, stacklevel=2,
        )
    splitter = _make_splitter(
        cv, n_splits=n_splits, block_size=block_size, buffer_km=buffer_km, lat=lat, lon=lon,
        random_state=random_state,
    )
    # rows are their own groups when none are given; other splitters then get groups=None
    split_groups = group_values if group_values is not None else np.arange(n)
    cv_groups = (
        split_groups if group_values is not None or isinstance(splitter, ProfileKFold) else None
    )
    X_frame = pd.DataFrame(X, columns=list(features), index=table.index)
    pass_groups = _fit_accepts_groups(estimator)

    predicted = np.full(n, np.nan)
    fold = np.full(n, -1, dtype=np.intp)
    fold_rows = []
    for f, (train, test) in enumerate(splitter.split(table, y, cv_groups)):
        train = np.asarray(train, dtype=np.intp)
        test = np.asarray(test, dtype=np.intp)
        _check_fold(f, train, test, fold, group_values)
        model = clone(estimator)
        kwargs = {"groups": split_groups[train]} if pass_groups else {}
        model.fit(X_frame.iloc[train], y[train], **kwargs)
        predicted[test] = np.asarray(model.predict(X_frame.iloc[test]), dtype=float).ravel()
        fold[test] = f
        fold_rows.append(
            {"fold": f, "n_train": train.size, "n_test": test.size,
             "n_dropped": n - train.size - test.size,
             **{k: v for k, v in skill(y[test], predicted[test]).items() if k != "n"}}
        )
    never = np.flatnonzero(fold < 0)
    if never.size:
        raise InputDataError(
            f"the splitter never put {never.size} row(s) in a test set (the first at position "
            f"{int(never[0])}); cross-validation needs each row predicted exactly once",
            field="cv",
        )
    columns: dict[str, Any] = {"row": np.arange(n), "fold": fold}
    if group_values is not None:
        columns["group"] = group_values
    columns.update(observed=y, predicted=predicted, **depths)
    k = len(fold_rows)
    name = type(splitter).__name__
    return CVResult(
        predictions=pd.DataFrame(columns, index=table.index),
        metrics=skill(y, predicted),
        target=target,
        features=features,
        bands=tuple(tuple(float(v) for v in b) for b in _check_bands(bands)),
        description=f"{k}-fold {name}",
        fold_metrics=pd.DataFrame(
            fold_rows, columns=["fold", "n_train", "n_test", "n_dropped", "r2", "rmse", "bias"]
        ),
    )


def validate_independent(
    estimator: Any,
    table: pd.DataFrame,
    target: str,
    features: Sequence[str],
    *,
    top: str | None = "top",
    bottom: str | None = "bottom",
    groups: str | ArrayLike | None = None,
    bands: Sequence[Sequence[float]] = DEFAULT_DEPTH_BANDS,
    source: str | None = None,
) -> ValidationResult:
    """Skill of a fitted model on an independent set, overall and by depth band
    (Wang G. et al. (2025)).

    Wang G. et al. (2025) trains a random forest on WoSIS layer stocks and tests it on 17 sites
    sampled in Nei Mongol to 200 cm; :meth:`ValidationResult.by_depth` of the result gives its Fig.
    1e.

    Parameters
    ----------
    estimator : fitted scikit-learn-compatible regressor
        Model with ``predict``; if it records ``feature_names_in_``, ``features`` must match them
        in order.
    table : pandas.DataFrame
        The independent observations (never used in fitting).
    target, features, top, bottom, groups, bands, source
        As in :func:`cross_validate`.

    Returns
    -------
    ValidationResult
    """
    try:
        check_is_fitted(estimator)
    except NotFittedError as err:
        raise InputDataError(
            f"validate_independent needs a fitted model; {type(estimator).__name__} is not "
            "fitted (fit it on the training data first, or use cross_validate)"
        ) from err
    features = tuple(features)
    X = feature_matrix(table, features, source=source)
    y = target_vector(table, target, source=source)
    group_values = _resolve_groups(table, groups, source)
    predicted = np.asarray(
        estimator.predict(_model_input(estimator, X, features, table.index)), dtype=float
    ).ravel()
    columns: dict[str, Any] = {"row": np.arange(y.size)}
    if group_values is not None:
        columns["group"] = group_values
    columns.update(observed=y, predicted=predicted, **_depth_columns(table, top, bottom))
    return ValidationResult(
        predictions=pd.DataFrame(columns, index=table.index),
        metrics=skill(y, predicted),
        target=target,
        features=features,
        bands=tuple(tuple(float(v) for v in b) for b in _check_bands(bands)),
        description=f"independent validation of {type(estimator).__name__}",
    )


def stratified_split(
    y: ArrayLike,
    *,
    test_size: float = 0.2,
    n_bins: int = 5,
    groups: ArrayLike | None = None,
    random_state: Any = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Training and test row indices of a split stratified by the target's quantiles.

    As R caret's ``createDataPartition(y, p = 1 − test_size)`` for a numeric target, which
    Wang G. et al. (manuscript) uses for its 80/20 split: y is cut at its quantiles into ``n_bins``
    groups (caret:
    5) and ``test_size`` of each group goes to the test set, so both sets span the range of y.
    With ``groups`` (profile or site ids) whole groups are drawn, stratified by their mean y, so
    no group is on both sides.

    Parameters
    ----------
    y : array (n,)
        Target [its unit]; finite.
    test_size : float, default 0.2
        Share of rows (of groups, with ``groups``) in the test set, 0 < test_size < 1.
    n_bins : int, default 5
        Quantile bins of y (fewer when there are fewer distinct values).
    groups : array (n,), optional
        Group of each row; groups are never split.
    random_state : int or Generator, default 0
        Seed of the draw within each bin.

    Returns
    -------
    (train, test) : arrays of int
        Sorted row indices; together they cover every row once.
    """
    ya = np.asarray(y, dtype=float).ravel()
    if not np.all(np.isfinite(ya)):
        raise InputDataError("y must be finite for a stratified split", field="y")
    if not 0 < float(test_size) < 1:
        raise InputDataError("test_size must be between 0 and 1", field="test_size",
                             value=test_size)
    if int(n_bins) < 1:
        raise InputDataError("n_bins must be ≥ 1", field="n_bins", value=n_bins)
    rng = np.random.default_rng(random_state)
    if groups is None:
        codes = np.arange(ya.size)
        unit_y = ya
    else:
        g = np.asarray(groups)
        if g.shape[0] != ya.size:
            raise InputDataError("groups need one value per row", field="groups",
                                 value=g.shape[0])
        _, codes = np.unique(g.astype(str), return_inverse=True)
        unit_y = np.bincount(codes, weights=ya) / np.bincount(codes)
    n_units = unit_y.size
    edges = np.unique(np.quantile(unit_y, np.linspace(0, 1, int(n_bins) + 1)))
    bins = np.clip(np.searchsorted(edges, unit_y, side="right") - 1, 0, max(edges.size - 2, 0))
    test_unit = np.zeros(n_units, dtype=bool)
    for b in np.unique(bins):
        members = np.flatnonzero(bins == b)
        k = round(members.size * float(test_size))
        if k:
            test_unit[rng.choice(members, size=k, replace=False)] = True
    test_rows = test_unit[codes]
    return np.flatnonzero(~test_rows), np.flatnonzero(test_rows)
