"""Reader for the NCSCD pedon table of Hugelius et al. (2013).

Hugelius, G. et al. (2013) A new data set for estimating organic carbon storage to 3 m depth in
soils of the northern circumpolar permafrost region. *Earth Syst. Sci. Data* 5:393–402,
doi:10.5194/essd-5-393-2013 (ESSDD 6:73–93 supplement). Licence: CC BY 3.0.

The file is tab-delimited Latin-1 text with CRLF line ends, one row per pedon; ``read_me.txt``
beside it describes the columns. Stocks are given per depth range in kg C m⁻².
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from wholesoil import units
from wholesoil.io._table import (
    PathLike,
    check_unique,
    data_rows,
    file_label,
    raise_at_first,
    read_csv_checked,
    require_columns,
    text_column,
    to_numeric_checked,
)
from wholesoil.profiles import ProfileSet

#: NCSCD column → (canonical name, unit in the file, factor to the canonical unit).
#: Text columns have unit and factor ``None``. Site columns first, then the four stock columns.
VARIABLE_MAP: dict[str, tuple[str, str | None, float | None]] = {
    "Pedon_Id_nr": ("pedon_nr", "-", 1.0),
    "Citation": ("citation", None, None),
    "Profile_ID": ("source_code", None, None),
    "NCSCD_region": ("region", None, None),
    "Soil_Order": ("soil_order", None, None),
    "Suborder": ("suborder", None, None),
    "Great_Group": ("great_group", None, None),
    "Veg_Class": ("ecosystem", None, None),
    "Lat": ("lat", "decimal degrees N (WGS84)", 1.0),
    "Long": ("lon", "decimal degrees E (WGS84)", 1.0),
    "Basal_Depth": ("basal_depth", "cm", 1.0),
    "Thaw depth when sampling": ("thaw_depth", "cm", 1.0),
    "Geomorphological setting": ("geomorphology", None, None),
    "Sample_date": ("date", None, None),
    "Footnotes gapfilling/extrapolation": ("footnote_gapfill", None, None),
    "Footnote %C method": ("footnote_c_method", None, None),
    "Footnote BD gap-fill method": ("footnote_bd_method", None, None),
    "Comment": ("comment", None, None),
    # stocks [kg C m⁻²] → soc_density [Mg C ha⁻¹]
    "SOCC 0-30 cm (kg C m-2)": ("soc_density", "kg C m-2", units.KG_M2_TO_MG_HA),
    "SOCC 0-100 cm (kg C m-2)": ("soc_density", "kg C m-2", units.KG_M2_TO_MG_HA),
    "SOCC 100-200 cm (kg C m-2)": ("soc_density", "kg C m-2", units.KG_M2_TO_MG_HA),
    "SOCC 200-300 cm (kg C m-2)": ("soc_density", "kg C m-2", units.KG_M2_TO_MG_HA),
}

STOCK_COLUMNS = {
    (0, 30): "SOCC 0-30 cm (kg C m-2)",
    (0, 100): "SOCC 0-100 cm (kg C m-2)",
    (100, 200): "SOCC 100-200 cm (kg C m-2)",
    (200, 300): "SOCC 200-300 cm (kg C m-2)",
}

REQUIRED = ("Pedon_Id_nr", "Profile_ID", "Lat", "Long", "Basal_Depth", *STOCK_COLUMNS.values())
_NUMERIC = ("Lat", "Long", "Basal_Depth", "Thaw depth when sampling", *STOCK_COLUMNS.values())

DATASET = "NCSCD pedons (Hugelius et al. 2013)"


def read_ncscd(path: PathLike, encoding: str = "latin-1") -> ProfileSet:
    """Read the NCSCD pedon table (Hugelius et al. 2013) into a ProfileSet.

    Parameters
    ----------
    path : str or path-like
        The tab-delimited pedon file, e.g.
        ``Hugelius_etal_ESSDD_OSM_pedon_database_20130326.txt``.
    encoding : str
        Text encoding of the file (the published file is Latin-1).

    Returns
    -------
    ProfileSet
        Sites, one per pedon: ``profile_id`` (``"NCSCD-001"`` … from ``Pedon_Id_nr``, unique and
        stable), ``source_code`` (the original ``Profile_ID``, not unique in the file), ``lat``,
        ``lon``, ``date`` (as written: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``), ``ecosystem``
        (``Veg_Class``), ``region``, ``soil_order``, ``suborder``, ``great_group``,
        ``basal_depth`` and ``thaw_depth`` [cm], ``geomorphology``, ``citation``, the three
        footnote columns, ``comment`` and ``dataset``.

        Horizons, four per pedon: 0–30, 30–100, 100–200 and 200–300 cm with ``soc_density``
        [Mg C ha⁻¹] (kg C m⁻² × 10), ``by_difference`` (True for 30–100 cm, computed as the
        0–100 cm stock minus the 0–30 cm stock), ``below_basal_depth`` (True where the layer
        reaches below the sampled depth ``Basal_Depth``, so its stock was gap-filled or
        extrapolated; see the footnote columns), ``extrapolated_fraction`` (share of the layer
        thickness below the basal depth, 0–1) and ``source_row``. Missing stocks stay NaN;
        no pedon or layer is dropped.

    Notes
    -----
    Text cells are stripped of surrounding blanks (the file has e.g. ``"Inceptisol "``). Rows
    that are entirely empty (the file ends with one) are skipped and listed in
    ``metadata["skipped_empty_rows"]``.
    """
    label = file_label(path)
    raw = read_csv_checked(
        path,
        sep="\t",
        encoding=encoding,
        dtype=str,
        keep_default_na=False,
        na_values=[""],
        quotechar='"',
    )
    raw.columns = [str(c).strip() for c in raw.columns]
    rows_all = data_rows(len(raw))
    empty_cols = [c for c in raw.columns if c.startswith("Unnamed:") and raw[c].isna().all()]
    raw = raw.drop(columns=empty_cols)
    empty = raw.isna().all(axis=1).to_numpy()
    skipped = [int(r) for r in rows_all[empty]]
    raw = raw.loc[~empty].reset_index(drop=True)
    rows = rows_all[~empty]
    require_columns(raw, REQUIRED, label)

    ids = to_numeric_checked(
        raw["Pedon_Id_nr"],
        file=label,
        field="Pedon_Id_nr",
        rows=rows,
        profiles=text_column(raw["Profile_ID"]),
        integer=True,
    )
    raise_at_first(
        ids.isna(),
        "pedon number is empty",
        file=label,
        rows=rows,
        field="Pedon_Id_nr",
        values=raw["Pedon_Id_nr"],
        profiles=raw["Profile_ID"],
    )
    width = max(3, len(str(int(ids.max()))))
    pid = pd.Series([f"NCSCD-{int(n):0{width}d}" for n in ids], dtype="string")
    check_unique(pid, file=label, field="Pedon_Id_nr", rows=rows, what="pedon number")

    num = {
        col: to_numeric_checked(raw[col], file=label, field=col, rows=rows, profiles=pid)
        for col in _NUMERIC
        if col in raw.columns
    }
    sites = pd.DataFrame({"profile_id": pid})
    for col, (canon, unit, _factor) in VARIABLE_MAP.items():
        if col in STOCK_COLUMNS.values() or col not in raw.columns:
            continue
        if col == "Pedon_Id_nr":
            sites[canon] = ids.astype("int64")
        elif unit is None:
            sites[canon] = text_column(raw[col])
        else:
            sites[canon] = num[col]
    sites["dataset"] = DATASET

    stock = {k: num[c] * units.KG_M2_TO_MG_HA for k, c in STOCK_COLUMNS.items()}
    layers = [
        (0.0, 30.0, stock[(0, 30)], False),
        (30.0, 100.0, stock[(0, 100)] - stock[(0, 30)], True),
        (100.0, 200.0, stock[(100, 200)], False),
        (200.0, 300.0, stock[(200, 300)], False),
    ]
    basal = num["Basal_Depth"].to_numpy()
    parts = []
    for top, bottom, dens, diff in layers:
        below = np.clip((bottom - np.maximum(top, basal)) / (bottom - top), 0.0, 1.0)
        parts.append(
            pd.DataFrame(
                {
                    "profile_id": pid,
                    "top": top,
                    "bottom": bottom,
                    "soc_density": dens.to_numpy(),
                    "by_difference": diff,
                    "below_basal_depth": pd.array(
                        np.where(np.isnan(basal), None, bottom > basal), dtype="boolean"
                    ),
                    "extrapolated_fraction": below,
                    "source_row": rows,
                }
            )
        )
    horizons = pd.concat(parts, ignore_index=True)
    d30_100 = horizons.loc[horizons["by_difference"], "soc_density"]
    meta = {
        "source": "ncscd",
        "file": label,
        "path": str(path),
        "dataset": DATASET,
        "skipped_empty_rows": skipped,
        "variable_map": {k: {"name": v[0], "unit": v[1]} for k, v in VARIABLE_MAP.items()},
        "notes": [
            "soc_density [Mg C ha-1] = SOCC [kg C m-2] x 10.",
            "30-100 cm is derived: SOCC 0-100 cm minus SOCC 0-30 cm (by_difference = True).",
            "Depth zero is the top of the O horizon, litter excluded (read_me.txt).",
            "below_basal_depth / extrapolated_fraction: layer lies (partly) below Basal_Depth, "
            "its stock is gap-filled or extrapolated (see footnote_gapfill).",
            f"{int((d30_100 < 0).sum())} pedons have a negative 30-100 cm difference.",
        ],
    }
    return ProfileSet(sites, horizons, meta)
