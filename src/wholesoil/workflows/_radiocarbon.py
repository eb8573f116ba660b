"""The jobs behind ``wholesoil c14 forward | age | profile`` (Wang G. et al. (manuscript) Eqs. 1–5).

``forward`` runs the one-pool model for one k; ``age`` inverts one observation; ``profile``
reads an ISRaD entry and writes the carbon age of every layer with all roots, the chosen root,
ambiguity flags, a figure of Δ14C versus depth with the model and ``run.json``.

References
----------
Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wholesoil._atomic import save_figure
from wholesoil._record import write_run_record
from wholesoil.errors import InputDataError
from wholesoil.io._write import write_table
from wholesoil.radiocarbon._atmosphere import (
    LAMBDA_ISRAD,
    LAMBDA_SEED004,
    AtmosphericCurve,
    Interpolation,
    delta14c_from_fraction_modern,
    zone_from_latitude,
)
from wholesoil.radiocarbon._onepool import (
    DEFAULT_K_RANGE,
    DEFAULT_START_YEAR,
    RootChoice,
    invert_onepool,
    onepool_ages,
    onepool_d14c,
)
from wholesoil.workflows._jobs import JobResult

#: Root choices as the CLI explains them.
CHOICES = {
    "slow": "smallest k (oldest carbon; Wang G. et al. (manuscript) treats bulk soil so)",
    "fast": "largest k (carbon that has taken up bomb 14C)",
}


def parse_prebomb(text: str | float) -> str | float:
    """``"intcal"`` or a constant Δ14C [‰] given as text."""
    if isinstance(text, float | int):
        return float(text)
    if text.strip().lower() == "intcal":
        return "intcal"
    try:
        return float(text)
    except ValueError as exc:
        raise InputDataError("prebomb must be 'intcal' or a number (constant Δ14C, ‰)",
                             field="prebomb", value=text) from exc


def forward_table(
    k: float,
    years: Any,
    *,
    zone: str = "NHZone1",
    curve: str = "hua2021",
    start_year: float = DEFAULT_START_YEAR,
    lam: float = LAMBDA_SEED004,
    interpolation: Interpolation = "spline",
    prebomb: str | float = "intcal",
    extend: bool = False,
) -> pd.DataFrame:
    """Bulk-soil Δ14C of the one-pool model at ``years`` (columns ``year``, ``delta14c`` [‰]).

    ``extend=True`` extends the curve to the last year by extrapolation
    (:meth:`~wholesoil.radiocarbon._atmosphere.AtmosphericCurve.load`, ``extend_to``); the
    table then has a column ``extrapolated`` (year after the compilation's end) and its
    ``attrs["extension"]`` holds the extrapolation's parameters.
    """
    y = np.asarray(years, dtype=float)
    pb = parse_prebomb(prebomb)
    c = AtmosphericCurve.load(zone, curve, pb, interpolation,
                              float(np.max(y)) if extend and y.size else None)
    d = onepool_d14c(k, y, zone=zone, curve=c, start_year=start_year, lam=lam,
                     interpolation=interpolation, prebomb=pb)
    table = pd.DataFrame({"year": y, "delta14c": np.asarray(d, dtype=float).ravel()})
    if extend:
        table["extrapolated"] = y > c.data_end
        table.attrs["extension"] = c.extension
    return table


def age_of(
    d14c: float,
    year: float,
    *,
    lat: float | None = None,
    zone: str | None = None,
    curve: str = "hua2021",
    start_year: float = DEFAULT_START_YEAR,
    lam: float = LAMBDA_SEED004,
    interpolation: Interpolation = "spline",
    prebomb: str | float = "intcal",
    choose: RootChoice = "slow",
    k_range: tuple[float, float] = DEFAULT_K_RANGE,
    extend: bool = False,
) -> dict[str, Any]:
    """Invert one observation; raise :class:`InputDataError` when no k in the range reaches it.

    ``extend=True`` extends the curve to ``year`` when it is after the curve's end
    (extrapolation, off by default; :meth:`AtmosphericCurve.load`, ``extend_to``).

    Returns a dict: ``zone``, ``zone_source``, ``k`` [yr⁻¹], ``age`` [yr], ``roots`` [yr⁻¹],
    ``root_ages`` [yr], ``n_roots``, ``ambiguous``, ``choice``, ``attainable`` [‰],
    ``extension`` (``None``, or the extrapolation's parameters when ``year`` is past the
    compilation's end) and ``atmosphere_d14c`` [‰] (the curve at ``year``).
    """
    if lat is None and zone is None:
        raise InputDataError("give --lat (the zone follows from it) or --zone", field="zone")
    z = str(zone_from_latitude(0.0 if lat is None else lat, zone))
    res = invert_onepool(d14c, year, zone=z, curve=curve, start_year=start_year, lam=lam,
                         interpolation=interpolation, prebomb=parse_prebomb(prebomb),
                         choose=choose, k_range=k_range,
                         extend_to=float(year) if extend else None)
    atm = AtmosphericCurve.load(z, curve, parse_prebomb(prebomb), interpolation,
                                float(year) if extend else None)
    lo, hi = (float(v) for v in res.attainable)
    if str(res.status) != "ok":
        why = {"below_range": f"more depleted than the slowest k = {k_range[0]:g} yr⁻¹ reaches",
               "above_range": "more enriched than any k reaches",
               "no_root": "not reached by any k", "no_observation": "missing"}[str(res.status)]
        raise InputDataError(
            f"Δ14C {d14c:g} ‰ in {year:g} is {why} in the one-pool model for k in "
            f"{k_range[0]:g} … {k_range[1]:g} yr⁻¹ ({z}, {curve}: attainable {lo:.1f} … "
            f"{hi:.1f} ‰)", field="d14c", value=d14c)
    roots = res.roots[np.isfinite(res.roots)]
    return {
        "zone": z,
        "zone_source": "given" if zone else f"latitude {lat:g} °N",
        "k": float(res.k), "age": float(res.age), "roots": roots.tolist(),
        "root_ages": (1.0 / roots).tolist(), "n_roots": int(res.n_roots),
        "ambiguous": bool(res.ambiguous), "choice": choose, "attainable": [lo, hi],
        "extension": atm.extension, "atmosphere_d14c": float(atm.d14c(float(year))),
    }


def read_israd_layers(path: str | Path) -> tuple[pd.DataFrame, list[str]]:
    """Layers of an ISRaD entry with latitude, year and Δ14C (filled from fraction modern).

    As Wang G. et al. (manuscript) uses ISRaD's ``lyr_14c_fill_extra``: where ``lyr_14c`` is empty
    and ``lyr_fraction_modern`` is given, Δ14C = (Fm·exp(λ(1950 − year)) − 1)·1000 with ISRaD's
    λ = 0.00012097 yr⁻¹ and the observation year; ``d14c_source`` says which.
    """
    from wholesoil.io import read_israd

    ps = read_israd(path)
    h = ps.horizons.copy()
    sites = ps.sites[["profile_id", "lat"]]
    h = h.merge(sites, on="profile_id", how="left")
    msgs: list[str] = []
    h["year"] = h["obs_year"] if "obs_year" in h.columns else np.nan
    if "d14c" not in h.columns:
        h["d14c"] = np.nan
    h["d14c_source"] = np.where(h["d14c"].notna(), "lyr_14c", "")
    if "f14c" in h.columns:
        fill = h["d14c"].isna() & h["f14c"].notna() & h["year"].notna()
        if fill.any():
            h.loc[fill, "d14c"] = delta14c_from_fraction_modern(
                h.loc[fill, "f14c"], h.loc[fill, "year"], lam=LAMBDA_ISRAD)
            h.loc[fill, "d14c_source"] = "from lyr_fraction_modern"
            msgs.append(f"{int(fill.sum())} layer(s): Δ14C computed from fraction modern "
                        "(ISRaD convention, λ = 0.00012097)")
    return h, msgs


#: What ``c14 profile`` reads, as its errors say it.
ISRAD_FORMS = ("an ISRaD entry folder (metadata.csv, site.csv, profile.csv, layer.csv, …), a "
               "folder with the ISRaD database's table files (PREFIX_layer.csv.gz, …) or an "
               "ISRaD flat layer file (lyr_*, pro_*, site_lat columns, e.g. "
               "ISRaD_extra_flat_layer.csv)")

#: Columns of a plain table read with ``--format table``.
TABLE_COLUMNS = "profile_id, top, bottom (cm), d14c (‰), year (AD) and lat (°N) or zone"


def _check_israd_input(path: Path) -> None:
    """Refuse, naming what is wanted, a file that is no ISRaD table or flat layer file."""
    if not path.exists():
        raise InputDataError(f"not found; c14 profile reads {ISRAD_FORMS}", file=str(path),
                             value=str(path))
    if path.is_dir():
        return
    name = path.name.lower()
    from wholesoil.io._israd import TABLES

    stem = name.removesuffix(".gz").removesuffix(".csv")
    if any(stem == t or stem.endswith("_" + t) for t in TABLES):
        return
    if name.endswith((".csv", ".csv.gz")):
        head = pd.read_csv(path, nrows=0).columns if path.stat().st_size else []
        if any(str(c).startswith("lyr_") for c in head):
            return
    raise InputDataError(
        f"this is not ISRaD data: c14 profile reads {ISRAD_FORMS} (default --format israd); "
        f"for a plain table with columns {TABLE_COLUMNS} pass --format table",
        file=str(path), value=str(path))


def read_plain_layers(path: str | Path, **read_kwargs: Any) -> pd.DataFrame:
    """A plain layer table (``--format table``): :data:`TABLE_COLUMNS`, read by
    :func:`~wholesoil.workflows._read.read_layer_table` with ``read_kwargs`` (``id_column``,
    ``top_column``, ``bottom_column``, ``column_map``, ``units``)."""
    from wholesoil.errors import MissingColumnError
    from wholesoil.workflows._read import read_layer_table

    table, file = read_layer_table(path, format="table", **read_kwargs)
    missing = [c for c in ("d14c", "year") if c not in table]
    if "lat" not in table and "zone" not in table:
        missing.append("lat or zone")
    if missing:
        raise MissingColumnError(
            f"--format table needs columns {TABLE_COLUMNS}; missing {', '.join(missing)} "
            f"(columns read: {list(map(str, table.columns))})", file=file, row=1,
            field=missing[0].split()[0])
    table = table.copy()
    table["d14c_source"] = "d14c"
    return table


def profile_job(
    israd: str | Path,
    out: str | Path,
    *,
    zone: str | None = None,
    curve: str = "hua2021",
    start_year: float = DEFAULT_START_YEAR,
    lam: float = LAMBDA_SEED004,
    interpolation: Interpolation = "spline",
    prebomb: str | float = "intcal",
    choose: RootChoice = "slow",
    k_range: tuple[float, float] = DEFAULT_K_RANGE,
    input_format: str = "israd",
    **read_kwargs: Any,
) -> JobResult:
    """Carbon age of every layer of an ISRaD entry (Wang G. et al. (manuscript) Eqs. 1–5).

    ``input_format="table"`` reads a plain CSV with :data:`TABLE_COLUMNS` instead, with the
    input options ``read_kwargs`` (:func:`read_plain_layers`); any other file is refused with a
    message naming what is read (:data:`ISRAD_FORMS`).

    Writes ``tables/ages.csv`` (one row per layer: depths, Δ14C and its source, zone, chosen k
    and age, all roots, ``ambiguous``, ``status``, the attainable Δ14C range and the model at
    the chosen k), ``figures/d14c_depth.png`` (Δ14C and age versus depth, depth downward) and
    ``run.json``.
    """
    t0 = time.perf_counter()
    out = Path(out)
    if input_format == "table":
        layers, messages = read_plain_layers(israd, **read_kwargs), []
    elif input_format == "israd":
        keys = {"id_column": "profile_id", "top_column": "top", "bottom_column": "bottom"}
        if any(v != keys[k] if k in keys else bool(v) for k, v in read_kwargs.items()):
            raise InputDataError(
                "the input options (--id-column, --top-column, --bottom-column, --column-map, "
                "--units) apply to a plain table; next step: add --format table (an ISRaD "
                "entry has ISRaD's names and units)", file=Path(israd).name, field="format",
                value=input_format)
        _check_israd_input(Path(israd))
        layers, messages = read_israd_layers(israd)
    else:
        raise InputDataError("--format must be israd or table", field="format",
                             value=input_format)
    kw = dict(curve=curve, start_year=start_year, lam=lam, interpolation=interpolation,
              prebomb=parse_prebomb(prebomb), choose=choose, k_range=k_range)
    table = onepool_ages(layers, zone=zone, **kw)
    keep = ["profile_id", "layer_name", "horizon", "top", "bottom", "year", "lat", "d14c",
            "d14c_source", "zone", "status", "k", "age", "n_roots", "roots", "root_ages",
            "k_slow", "k_fast", "ambiguous", "d14c_min", "d14c_max", "d14c_model"]
    table = table[[c for c in keep if c in table.columns]]
    outputs = {"ages": write_table(table, out / "tables" / "ages.csv")}
    outputs["figure"] = save_figure(_figure(table, choose), out / "figures" / "d14c_depth.png")
    counts = table["status"].value_counts().to_dict()
    n_obs = int((table["status"] != "no_observation").sum())
    messages.append(f"{n_obs} layer(s) with Δ14C in {table['profile_id'].nunique()} profile(s): "
                    + ", ".join(f"{v} {k}" for k, v in counts.items()))
    n_amb = int(table["ambiguous"].sum())
    if n_amb:
        messages.append(f"{n_amb} layer(s) have two or more roots (ambiguous); the {choose} root "
                        f"is used: {CHOICES[choose]}")
    outputs["run"] = write_run_record(
        out, command="wholesoil c14 profile", inputs={"israd": israd},
        options={"format": input_format, "zone": zone or "from latitude", "curve": curve,
                 "prebomb": prebomb,
                 "interpolation": interpolation, "start_year": start_year,
                 "decay_constant_per_yr": lam, "choose": choose,
                 "k_range_per_yr": list(k_range)},
        extra={"input": str(israd), "status_counts": counts, "ambiguous_layers": n_amb},
        timings={"total": time.perf_counter() - t0}, outputs=outputs)
    return JobResult(table, outputs, None, messages)


def _figure(table: pd.DataFrame, choose: str) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 6))
    ax1, ax2 = fig.subplots(1, 2, sharey=True)
    obs = table[table["status"] != "no_observation"]
    for i, (pid, g) in enumerate(obs.groupby("profile_id", sort=False)):
        g = g.sort_values("top")
        mid = 0.5 * (g["top"] + g["bottom"])
        color = f"C{i % 10}"
        label = str(pid).split(":")[-1]
        ax1.plot(g["d14c"], mid, "o", color=color, label=f"{label} observed")
        ok = g["status"] == "ok"
        ax1.plot(g.loc[ok, "d14c_model"], mid[ok], "x--", color=color, lw=0.8,
                 label=f"{label} one-pool ({choose} root)")
        amb = g["ambiguous"].to_numpy(bool)
        if amb.any():
            ax1.plot(g.loc[amb, "d14c"], mid[amb], "o", mfc="none", ms=12, color="k")
        ax2.plot(g.loc[ok, "age"], mid[ok], "o-", color=color, label=label)
        for _, row in g[amb].iterrows():
            others = [float(a) for a in str(row["root_ages"]).split(";") if a]
            m = 0.5 * (row["top"] + row["bottom"])
            ax2.plot(others, [m] * len(others), "o", mfc="none", color=color)
    ax1.invert_yaxis()
    ax1.set_xlabel("Δ14C [‰]")
    ax1.set_ylabel("depth [cm] (layer mid-point; organic horizons < 0)")
    ax1.set_title("Δ14C: observed (●), one-pool model (×); ◯ ambiguous")
    ax1.legend(fontsize=6)
    ax2.set_xscale("log")
    ax2.set_xlabel("carbon age 1/k [yr] (open: other roots)")
    ax2.set_title("one-pool carbon age")
    fig.tight_layout()
    return fig
