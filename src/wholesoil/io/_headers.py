"""Column headers of the files the command line writes for a user: their names, with units.

The Python API keeps canonical names and units (``profile_id``, ``top`` [cm], ``soc``
[g kg⁻¹], …). Only a file written for a user changes its header, here and nowhere else:

* a column that came from the user's table gets the user's own name back (the name before
  ``--id-column``/``--top-column``/``--bottom-column``/``--column-map`` renamed it), unless
  canonical names are asked for (``--canonical-names``);
* a column with a physical unit carries it as ``NAME [UNIT]``, the unit in plain ASCII
  (:data:`COLUMN_UNITS`; ``[-]`` for a dimensionless number); identifiers, names, flags,
  counts and text (:data:`NO_UNIT`) carry none;
* the internal ``source_row`` never appears: the QC report calls it ``row`` (the row of the
  input as a spreadsheet shows it, header = row 1), and tables of horizons leave it out.

:func:`split_header` is the inverse used by the readers: ``"hz_top [cm]"`` → ``("hz_top",
"cm")``, so every file written here reads back with the same options that wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

#: Float format of the CSV files written for a user: 6 significant digits.
CSV_FLOAT_FORMAT = "%.6g"

#: Unit of each canonical column in the files written for a user (plain ASCII; ``-`` =
#: dimensionless). Stock columns named by depth (``stock_0_30``, ``covered_0_30``) are matched by
#: :data:`UNIT_PATTERNS`.
COLUMN_UNITS: dict[str, str] = {
    # horizons (wholesoil.profiles.HORIZON_COLUMNS)
    "top": "cm",
    "bottom": "cm",
    "soc": "g kg-1",
    "bd": "g cm-3",
    "gravel": "%",
    "clay": "%",
    "silt": "%",
    "sand": "%",
    "tn": "g kg-1",
    "ph": "-",
    "soc_density": "Mg C ha-1",
    "d14c": "permil",
    "f14c": "-",
    "lat": "degrees",
    "lon": "degrees",
    # harmonize
    "coverage": "-",
    # depth functions (wholesoil.depth.DEPTH_FUNCTION_COLUMNS); stock units follow the fitted
    # value (Mg C ha-1 for soc_density, see :func:`user_headers` ``value_unit``)
    "top_depth": "cm",
    "max_depth": "cm",
    "stock_max_depth": "Mg C ha-1",
    "beta": "-",
    "beta_se": "-",
    "asymptote": "Mg C ha-1",
    "rmse_beta": "Mg C ha-1",
    "x_100": "Mg C ha-1",
    "exp_c0": "Mg C ha-1 cm-1",
    "exp_c_inf": "Mg C ha-1 cm-1",
    "exp_k": "cm-1",
    "power_a": "Mg C ha-1",
    "power_b": "-",
    "aic_beta": "-",
    "aic_exponential": "-",
    "aic_power": "-",
    "aicc_beta": "-",
    "aicc_exponential": "-",
    "aicc_power": "-",
}

#: Columns of the depth-function fits whose unit is that of the fitted value (a per-layer stock).
VALUE_UNIT_COLUMNS: frozenset[str] = frozenset(
    {"stock_max_depth", "asymptote", "rmse_beta", "x_100", "power_a"}
)

#: Columns of the fits in the unit of the fitted value per cm of depth.
PER_CM_COLUMNS: frozenset[str] = frozenset({"exp_c0", "exp_c_inf"})

#: Depth-named stock columns of ``density``'s ``.stocks`` table: stock to a depth, its coverage.
UNIT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"stock_\d+(\.\d+)?_\d+(\.\d+)?"), "Mg C ha-1"),
    (re.compile(r"covered_\d+(\.\d+)?_\d+(\.\d+)?"), "-"),
)

#: Columns of the regional stock table (``wholesoil stocks``'s ``tables/stocks.csv``) whose
#: canonical names end in their unit: the user's header names the unit in brackets instead.
SUFFIX_UNITS: dict[str, tuple[str, str]] = {
    "top_cm": ("top", "cm"),
    "bottom_cm": ("bottom", "cm"),
    "area_km2": ("area", "km2"),
    "missing_area_km2": ("missing_area", "km2"),
    "stock_pg": ("stock", "Pg C"),
    "lower_pg": ("lower", "Pg C"),
    "upper_pg": ("upper", "Pg C"),
    "plugin_pg": ("plugin", "Pg C"),
    "level": ("level", "-"),
    "correlation": ("correlation", "-"),
}

#: Units of the group comparison tables of ``beta --group-column`` (``.groups``, ``.anova``,
#: ``.duncan``, ``.tukey``): statistics of β, all dimensionless; the rest are names, letters,
#: flags and counts.
GROUP_TABLE_UNITS: dict[str, str] = dict.fromkeys(
    ("mean", "sd", "diff", "lower", "upper", "F", "p", "p_value", "q", "ms_within"), "-"
)

#: Columns that carry no unit: identifiers, names, designations, flags, counts and text.
NO_UNIT: frozenset[str] = frozenset(
    {
        "profile_id", "horizon", "date", "obs_year", "ecosystem", "dataset",  # ids and names
        "bd_filled", "gravel_assumed_zero", "converged_beta", "partial",  # flags
        "n_layers", "n_draws", "n_cells",  # counts
        "region",  # the regional stock table's names
        # the group comparison tables
        "group", "group_a", "group_b", "duncan", "tukey", "reject", "n", "df_between",
        "df_within", "left_out", "span",
        "best_model", "status", "warnings",  # text
        # the QC report
        "row", "check", "rule", "action", "field", "before", "after", "message",
    }
)

#: The public name of the internal ``source_row`` in the QC report.
ROW_COLUMN = "row"

_BRACKET = re.compile(r"^(?P<name>.*?)\s*\[(?P<unit>[^\[\]]*)\]\s*$")


def split_header(header: object) -> tuple[str, str | None]:
    """``"NAME [UNIT]"`` → ``("NAME", "UNIT")``; a header without a bracket → ``(header, None)``.

    >>> split_header("hz_top [cm]")
    ('hz_top', 'cm')
    >>> split_header("OC_gkg")
    ('OC_gkg', None)
    """
    text = str(header)
    m = _BRACKET.match(text)
    if m is None or not m.group("name").strip():
        return text, None
    return m.group("name").strip(), m.group("unit").strip()


def unit_of(column: str) -> str | None:
    """The unit :func:`user_headers` appends to a canonical column (``None``: no bracket)."""
    if column in COLUMN_UNITS:
        return COLUMN_UNITS[column]
    for pattern, unit in UNIT_PATTERNS:
        if pattern.fullmatch(column):
            return unit
    return None


def user_headers(
    df: pd.DataFrame,
    metadata: Mapping[str, object] | None = None,
    *,
    canonical_names: bool = False,
    value_unit: str | None = None,
    units: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """A canonical table with the headers of a file written for a user (a renamed copy).

    Parameters
    ----------
    df : pandas.DataFrame
        Canonical names and units, as the Python API returns it.
    metadata : mapping, optional
        The ``ProfileSet.metadata`` of the table read: ``user_names`` (``{canonical: user's
        name}``, recorded by :func:`wholesoil.io.read_table`) gives the names back and
        ``header_units`` (``{column: unit}``) the units the user's own headers carried for
        columns wholesoil does not know.
    canonical_names : bool
        Keep the canonical names (units are appended all the same).
    value_unit : str, optional
        Unit of the value the depth functions fitted; default ``Mg C ha-1`` (``soc_density``).
    units : mapping, optional
        ``{column: unit}`` of this table's own columns (e.g. :data:`GROUP_TABLE_UNITS`).

    Returns
    -------
    pandas.DataFrame
        ``df`` with headers ``NAME [UNIT]``; ``source_row`` is called ``row``.
    """
    meta = metadata or {}
    names: Mapping[str, str] = {} if canonical_names else meta.get("user_names", {})  # type: ignore[assignment]
    header_units: Mapping[str, str] = meta.get("header_units", {})  # type: ignore[assignment]
    rename = {}
    for col in df.columns:
        c = str(col)
        if c == "source_row":
            rename[col] = ROW_COLUMN
            continue
        if c in SUFFIX_UNITS:
            name, unit = SUFFIX_UNITS[c]
            rename[col] = f"{name} [{unit}]"
            continue
        unit = (units or {}).get(c) or (None if c in NO_UNIT else unit_of(c))
        if unit is not None and value_unit is not None and c in VALUE_UNIT_COLUMNS:
            unit = value_unit
        elif unit is not None and value_unit is not None and c in PER_CM_COLUMNS:
            unit = f"{value_unit} cm-1"
        if unit is None:
            unit = header_units.get(c)
        name = names.get(c, c)
        rename[col] = name if unit is None else f"{name} [{unit}]"
    return df.rename(columns=rename)


def user_name(column: str, metadata: Mapping[str, object] | None) -> str:
    """The user's name of a canonical column (the column itself if the user did not rename it)."""
    names: Mapping[str, str] = (metadata or {}).get("user_names", {})  # type: ignore[assignment]
    return names.get(column, "row" if column == "source_row" else column)
