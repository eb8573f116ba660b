"""Checks of training and prediction tables, with errors that say where and what.

Every learner, cross-validation and workflow in :mod:`wholesoil.mapping` goes through these, so
a missing feature column, a NaN or infinite feature, or a target with no variance is reported the
same way everywhere: the table, the 1-based spreadsheet row (header = row 1), the field and value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from wholesoil.errors import InputDataError, MissingColumnError


def require_columns(
    table: pd.DataFrame, columns: Sequence[str], *, source: str | None = None, what: str = "feature"
) -> None:
    """Raise :class:`MissingColumnError` naming every absent column and the ones present."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise MissingColumnError(
            f"{what} column(s) {missing} not in the table; it has {list(table.columns)}",
            file=source,
            field=missing[0],
        )


def _first_bad(values: np.ndarray) -> tuple[int, int] | None:
    bad = ~np.isfinite(values)
    if not bad.any():
        return None
    row, col = np.argwhere(bad)[0]
    return int(row), int(col)


def feature_matrix(
    table: pd.DataFrame, features: Sequence[str], *, source: str | None = None
) -> np.ndarray:
    """Features as a float matrix (rows × features); every value must be a finite number.

    Raises
    ------
    MissingColumnError
        A feature column is absent.
    InputDataError
        A feature is not numeric, or is NaN or infinite ("Input X contains NaN or inf"), naming
        the row and field.
    """
    features = list(features)
    if not features:
        raise InputDataError("expected at least one feature column", file=source)
    require_columns(table, features, source=source)
    for name in features:
        column = table[name]
        if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
            coerced = pd.to_numeric(column, errors="coerce")
            bad = np.flatnonzero(coerced.isna().to_numpy() & column.notna().to_numpy())
            if bad.size:
                i = int(bad[0])
                raise InputDataError(
                    "expected a number (encode categories as dummy columns first)",
                    file=source, row=i + 2, field=name, value=column.iloc[i],
                )
    X = table[features].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    hit = _first_bad(X)
    if hit is not None:
        i, j = hit
        raise InputDataError(
            "Input X contains NaN or inf: every feature value must be a finite number "
            "(fill or drop such rows explicitly before training or predicting)",
            file=source, row=i + 2, field=features[j], value=float(X[i, j]), has_value=True,
        )
    return X


def target_vector(
    table: pd.DataFrame, target: str, *, source: str | None = None
) -> np.ndarray:
    """The target column as floats: present, finite, and with variance > 0."""
    require_columns(table, [target], source=source, what="target")
    y = pd.to_numeric(table[target], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        i = int(bad[0])
        raise InputDataError(
            "expected a finite target value", file=source, row=i + 2, field=target,
            value=table[target].iloc[i], has_value=True,
        )
    check_target_variance(y, name=target, source=source)
    return y


def check_target_variance(y: np.ndarray, *, name: str = "y", source: str | None = None) -> None:
    """A constant target cannot be learned or validated (R² undefined): raise, saying so."""
    y = np.asarray(y, dtype=float)
    if y.size < 2 or np.ptp(y) == 0.0:
        raise InputDataError(
            f"target has no variance ({y.size} value(s), all equal to {y[0] if y.size else 'n/a'}"
            "); nothing to learn",
            file=source, field=name,
        )
