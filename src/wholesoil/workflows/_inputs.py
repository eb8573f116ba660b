"""The job behind ``wholesoil inputs``: inputs to bulk soil, root-derived inputs and losses.

Reads a layer table (``profile_id``, ``top``, ``bottom`` [cm], ``soc_stock`` or
``soc_density`` [Mg C ha⁻¹], ``c_age`` [yr] or ``d14c`` [‰] + ``year``, optional ``lat``,
``lon``, ``mat``, ``map``, ``npp``, ``f_bnpp``, ``vegetation``, ``beta``), computes per
standard layer of Wang G. et al. (manuscript) I_bulk = C_stock / C_age (Eq. 6), I_root = NPP ×
f_BNPP × root fraction and I_loss = I_root − I_bulk with its fraction, propagates uncertainty by
Monte Carlo (500 draws), and writes tables, a figure and ``run.json``.

References
----------
Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wholesoil._atomic import save_figure
from wholesoil._record import write_run_record
from wholesoil.errors import InputDataError, MissingColumnError
from wholesoil.io._write import write_table
from wholesoil.workflows._jobs import JobResult


def _npp_values(npp: float | str, sites: pd.DataFrame, file: str | None
                ) -> tuple[np.ndarray, np.ndarray, str]:
    from wholesoil.radiocarbon._inputs import profile_npp

    def col(name: str) -> np.ndarray | None:
        return sites[name].to_numpy(float) if name in sites.columns else None

    clim = {"mat": col("mat"), "map": col("map"), "lat": col("lat"), "lon": col("lon")}
    n = len(sites)
    if isinstance(npp, int | float) and not isinstance(npp, bool):
        if not np.isfinite(npp) or npp < 0:
            raise InputDataError("expected NPP ≥ 0 g C m-2 yr-1", field="--npp", value=npp)
        return np.full(n, float(npp)), np.full(n, "data"), f"{npp:g} g C m-2 yr-1 (given)"
    text = str(npp)
    if text.lower() == "miami":
        if clim["mat"] is None and clim["lat"] is None:
            raise MissingColumnError(
                "--npp miami needs mat and map columns, or lat and lon (climate grid)",
                file=file, field="mat")
        v, s = profile_npp(np.full(n, np.nan), **{k: v for k, v in clim.items()
                                                  if v is not None})
        return v, s, "Miami model (Lieth 1975) from climate"
    if text not in sites.columns:
        raise MissingColumnError(
            f"--npp must be a number [g C m-2 yr-1], 'miami' or a column; no column {text!r} "
            f"(site columns: {list(sites.columns)})", file=file, field=text)
    v, s = profile_npp(sites[text].to_numpy(float), **{k: v for k, v in clim.items()
                                                      if v is not None})
    return v, s, f"column {text!r} (Miami model where missing)"


def _f_values(f_bnpp: float | str | None, sites: pd.DataFrame, file: str | None
              ) -> tuple[np.ndarray, str]:
    from wholesoil.radiocarbon._inputs import DEFAULT_F_BNPP

    n = len(sites)
    if f_bnpp is None:
        if "f_bnpp" in sites.columns:
            f_bnpp = "f_bnpp"
        else:
            return (np.full(n, DEFAULT_F_BNPP),
                    f"{DEFAULT_F_BNPP} (Wang G. et al. (manuscript) mean over 725 NPP_data sites)")
    if isinstance(f_bnpp, str):
        if f_bnpp not in sites.columns:
            raise MissingColumnError(f"no f_BNPP column {f_bnpp!r}", file=file, field=f_bnpp)
        v = sites[f_bnpp].to_numpy(float)
        what = f"column {f_bnpp!r}"
    else:
        v = np.full(n, float(f_bnpp))
        what = f"{float(f_bnpp):g} (given)"
    bad = ~np.isfinite(v) | (v < 0) | (v > 1)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise InputDataError("expected 0 ≤ f_BNPP ≤ 1", file=file,
                             profile=sites["profile_id"].iloc[i], field="f_bnpp",
                             value=float(v[i]))
    return v, what


def _root_profile(roots: str | None, d50: float | None, d95: float | None,
                  sites: pd.DataFrame, file: str | None) -> tuple[Any, str]:
    from wholesoil.depth._roots import jackson_beta
    from wholesoil.radiocarbon._inputs import RootProfile

    if d50 is not None or d95 is not None:
        if d50 is None or d95 is None or roots is not None:
            raise InputDataError("give --d50 and --d95 together, without --roots",
                                 field="--d50/--d95")
        return (RootProfile(d50=d50, d95=d95, label=f"Schenk & Jackson 2002 D50={d50:g} cm, "
                            f"D95={d95:g} cm"), "schenk_jackson")
    if roots is None:
        if "beta" in sites.columns:
            b = sites["beta"].to_numpy(float)
            return RootProfile(beta=b, label="column 'beta'"), "column beta"
        if "vegetation" in sites.columns:
            vals = sites["vegetation"].astype(str).to_numpy()
            try:
                b = np.array([jackson_beta(v) for v in vals])  # one lookup per profile
            except InputDataError as exc:
                raise InputDataError(exc.reason, file=file, field="vegetation",
                                     value=exc.value) from exc
            return (RootProfile(beta=b, label="Jackson 1996 β by column 'vegetation'"),
                    "column vegetation")
        roots = "all"
    return (RootProfile(beta=jackson_beta(roots), label=f"Jackson 1996 β ({roots})"),
            f"jackson:{roots}")


#: Units of the columns of ``wholesoil inputs``' tables, written into their headers as
#: ``NAME [UNIT]`` (the scheme of :mod:`wholesoil.io._headers`); the long Monte Carlo table
#: carries them in a ``unit`` column instead, one per ``variable``.
INPUT_UNITS: dict[str, str] = {
    "stock": "Mg C ha-1", "c_age": "yr", "c_age_sd": "yr",
    "i_bulk": "Mg C ha-1 yr-1", "i_root": "Mg C ha-1 yr-1", "i_loss": "Mg C ha-1 yr-1",
    "i_root_all_layers": "Mg C ha-1 yr-1", "bnpp": "Mg C ha-1 yr-1", "npp": "g C m-2 yr-1",
    "f_bnpp": "-", "root_fraction": "-", "loss_fraction": "-", "beta": "-", "d50": "cm",
    "d95": "cm", "bottom_covered": "cm",
}


def _write(df: pd.DataFrame, path: Path) -> Path:
    """A table for the user: units in the headers, 6 significant digits."""
    from wholesoil.io._headers import CSV_FLOAT_FORMAT, user_headers

    own = {c: INPUT_UNITS[c] for c in df.columns if c in INPUT_UNITS}
    return write_table(user_headers(df, units=own), path, float_format=CSV_FLOAT_FORMAT)


def _horizon_table(ip: Any) -> pd.DataFrame:
    """Per measured horizon: stock, age, I_bulk, and the Δ14C inversion's diagnostics."""
    inside = np.arange(ip.top.shape[1]) < ip.n_horizons[:, None]
    hz = pd.DataFrame({
        "profile_id": np.repeat(ip.profile_id, ip.n_horizons), "row": ip.row[inside],
        "top": ip.top[inside], "bottom": ip.bottom[inside], "stock": ip.stock[inside],
        "c_age": ip.age[inside], "i_bulk": ip.stock[inside] / ip.age[inside],
    })
    if ip.age_info is not None:
        for c in ("d14c", "year", "zone", "k", "n_roots", "root_ages", "ambiguous", "status"):
            if c in ip.age_info.columns:
                hz[c] = ip.age_info[c].to_numpy()
    return hz


def _messages(ip: Any, npp_src: np.ndarray, i_bulk: np.ndarray, loss: np.ndarray,
              known: np.ndarray, draws: int, seconds: float) -> list[str]:
    """What the inputs job tells the user (counts, sources, warnings)."""
    messages = [f"inputs: {i_bulk.shape[0]} profile(s), {int(known.sum())} standard layer(s) "
                f"with I_bulk, {draws} Monte Carlo draws in {seconds:.2f} s"]
    n_miami = int(np.isin(npp_src, ["miami", "miami_climate_grid"]).sum())
    if n_miami:
        messages.append(f"NPP from the Miami model (Lieth 1975) for {n_miami} profile(s) "
                        "(npp_source in profiles.csv)")
    if len(ip.excluded):
        messages.append(f"{len(ip.excluded)} layer(s) left out (see excluded.csv)")
    if ip.age_info is not None and "ambiguous" in ip.age_info.columns:
        n_amb = int(ip.age_info["ambiguous"].astype(bool).sum())
        if n_amb:
            messages.append(f"{n_amb} layer(s) have more than one Δ14C age root "
                            "(ambiguous, see horizons.csv)")
    if np.any(np.isfinite(loss) & (loss < 0)):
        messages.append(f"{int((loss < 0).sum())} layer(s) with negative I_loss "
                        "(I_bulk > I_root), reported unclipped")
    if np.any(np.isfinite(i_bulk) & (i_bulk < 0)):
        messages.append("the spline gave negative I_bulk in some layers; "
                        "consider --method uniform")
    return messages


def inputs_job(
    profiles: str | Path | pd.DataFrame,
    out: str | Path,
    *,
    npp: float | str = "miami",
    f_bnpp: float | str | None = None,
    roots: str | None = None,
    d50: float | None = None,
    d95: float | None = None,
    draws: int = 500,
    seed: int = 0,
    depths: Sequence[float] | None = None,
    method: str = "uniform",
    lam: float = 0.1,
    min_coverage: float = 1.0,
    exclude_missing: bool = False,
    cv: float = 0.1,
    **read_kwargs: Any,
) -> JobResult:
    """Inputs to bulk soil, root-derived inputs and direct losses by standard layer.

    Parameters
    ----------
    profiles : path or DataFrame
        Layer table (module docstring).
    out : path
        Output folder: ``tables/layers.csv`` (per profile × standard layer),
        ``tables/profiles.csv`` (totals, NPP and its source), ``tables/monte_carlo.csv``
        (mean, sd, 2.5/97.5 % of I_bulk, I_root, I_loss, loss fraction), ``tables/horizons.csv``
        (per measured horizon: stock, age, I_bulk; inversion diagnostics with Δ14C),
        ``tables/excluded.csv`` (layers left out and why), ``figures/inputs.png``, ``run.json``.
    npp : float, "miami" or column name
        NPP [g C m⁻² yr⁻¹]: one number for all profiles, the Miami model (Lieth 1975) from the
        ``mat``/``map`` columns (or the climate grid at ``lat``/``lon``), or a column (Miami
        where it is empty). The source of each profile's NPP is in ``profiles.csv``.
    f_bnpp : float or column name, optional
        Belowground fraction of NPP; default the ``f_bnpp`` column if present, else
        :data:`~wholesoil.radiocarbon._inputs.DEFAULT_F_BNPP` (0.377, Wang G. et al. (manuscript)).
    roots : str, optional
        Jackson et al. (1996) vegetation type; default the ``beta`` or ``vegetation`` column if
        present, else the global mean β = 0.966 ("all").
    d50, d95 : float, optional [cm]
        Schenk & Jackson (2002) logistic instead.
    draws, seed, cv
        Monte Carlo runs, seed and relative sd of inputs without an explicit sd
        (:func:`~wholesoil.radiocarbon._inputs.monte_carlo_inputs`).
    depths, method, lam, min_coverage
        Harmonization (:func:`~wholesoil.radiocarbon._inputs.harmonization_weights`).
    exclude_missing : bool
        Leave out (and list) layers without stock or age instead of stopping.
    **read_kwargs
        How the table is read (``id_column``, ``top_column``, ``bottom_column``, ``column_map``,
        ``units``, ``format``): :func:`~wholesoil.workflows._read.read_layer_table`, the reader
        of the profile commands.
    """
    from wholesoil.radiocarbon._inputs import (
        SEED004_DEPTHS,
        InputProfiles,
        harmonize_inputs,
        monte_carlo_inputs,
        npp_g_m2_to_mg_ha,
        root_inputs,
    )
    from wholesoil.workflows._read import read_layer_table

    t0 = time.perf_counter()
    out = Path(out)
    table, file = read_layer_table(profiles, **read_kwargs)
    ip = InputProfiles.from_table(table, file=file,
                                  missing="exclude" if exclude_missing else "error")
    d = tuple(SEED004_DEPTHS if depths is None else depths)
    npp_v, npp_src, npp_what = _npp_values(npp, ip.sites, file)
    f_v, f_what = _f_values(f_bnpp, ip.sites, file)
    rp, roots_what = _root_profile(roots, d50, d95, ip.sites, file)
    w = ip.weights(d, method=method, lam=lam, min_coverage=min_coverage)  # type: ignore[arg-type]
    h = harmonize_inputs(w, ip.stock, ip.age)
    frac = rp.fractions(w.top, w.bottom)
    frac = np.broadcast_to(frac, h.i_bulk.shape)
    bnpp = npp_g_m2_to_mg_ha(npp_v * f_v)
    i_root_all = root_inputs(bnpp, frac)
    known = np.isfinite(h.i_bulk)
    i_root = np.where(known, i_root_all, np.nan)
    loss = i_root - h.i_bulk
    with np.errstate(invalid="ignore", divide="ignore"):
        lfrac = loss / i_root
    n_p, n_l = h.i_bulk.shape
    ids = ip.profile_id
    layers = pd.DataFrame({
        "profile_id": np.repeat(ids, n_l), "top": np.tile(w.top, n_p),
        "bottom": np.tile(w.bottom, n_p), "coverage": h.coverage.ravel(),
        "stock": h.stock.ravel(), "c_age": h.c_age.ravel(), "i_bulk": h.i_bulk.ravel(),
        "root_fraction": frac.ravel(), "i_root": i_root_all.ravel(),
        "i_loss": loss.ravel(), "loss_fraction": lfrac.ravel(),
    })
    r_tot = np.where(known, i_root, 0.0).sum(-1)
    b_tot = np.where(known, h.i_bulk, 0.0).sum(-1)
    any_k = known.any(-1)
    depth_cov = np.where(known, w.bottom, np.nan)
    prof = pd.DataFrame({
        "profile_id": ids, "npp": npp_v, "npp_source": npp_src, "f_bnpp": f_v,
        "bnpp": bnpp,
        "root_profile": roots_what,
        "n_layers": known.sum(-1),
        "bottom_covered": np.where(any_k, np.nanmax(np.where(known, depth_cov, -np.inf), -1),
                                   np.nan),
        "i_root": np.where(any_k, r_tot, np.nan), "i_bulk": np.where(any_k, b_tot, np.nan),
    })
    prof["i_loss"] = prof["i_root"] - prof["i_bulk"]
    prof["loss_fraction"] = prof["i_loss"] / prof["i_root"]
    prof["i_root_all_layers"] = i_root_all.sum(-1)
    if rp.beta is not None:
        prof["beta"] = np.broadcast_to(np.asarray(rp.beta, float), (n_p,))
    else:
        prof["d50"], prof["d95"] = rp.d50, rp.d95
    mc = monte_carlo_inputs(ip, npp=npp_v, roots=rp, f_bnpp=f_v, depths=d,
                            method=method, lam=lam, min_coverage=min_coverage,  # type: ignore[arg-type]
                            draws=draws, seed=seed, cv=cv)
    mc_tab = mc.summary()
    hz = _horizon_table(ip)
    outputs = {
        "layers": _write(layers, out / "tables" / "layers.csv"),
        "profiles": _write(prof, out / "tables" / "profiles.csv"),
        "monte_carlo": _write(mc_tab.assign(unit=mc_tab["variable"].map(INPUT_UNITS)),
                              out / "tables" / "monte_carlo.csv"),
        "horizons": _write(hz, out / "tables" / "horizons.csv"),
    }
    if len(ip.excluded):
        outputs["excluded"] = _write(ip.excluded, out / "tables" / "excluded.csv")
    outputs["figure"] = save_figure(_figure(layers, ids), out / "figures" / "inputs.png")
    messages = _messages(ip, npp_src, h.i_bulk, loss, known, draws,
                         time.perf_counter() - t0)
    outputs["run"] = write_run_record(
        out, command="wholesoil inputs", seed=seed,
        inputs={"profiles": profiles},
        extra={
            "profiles": str(profiles) if not isinstance(profiles, pd.DataFrame) else "DataFrame",
            "npp": npp_what, "f_bnpp": f_what, "roots": rp.label, "age_source": ip.age_source,
            "depths_cm": list(d), "harmonization": {"method": method, "lam": lam,
                                                    "min_coverage": min_coverage},
            "monte_carlo": {"draws": draws, "seed": seed, "cv": cv},
            "exclude_missing": exclude_missing,
            "references": ["Wang G. et al. (manuscript) Eq. 6 and Extended Data Table 1",
                           "Jackson et al. 1996 Oecologia 108:389-411",
                           "Schenk & Jackson 2002 Ecol. Monogr. 72:311-328",
                           "Lieth 1975 (Miami model)"]},
        timings={"total": time.perf_counter() - t0}, outputs=outputs)
    return JobResult(layers, outputs, None, messages)


def _figure(layers: pd.DataFrame, ids: np.ndarray, max_profiles: int = 6) -> Any:
    """I_root and I_bulk per cm of layer against depth (depth increasing downward)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 6))
    ax = fig.subplots()
    colors = [f"C{i}" for i in range(10)]
    for i, pid in enumerate(ids[:max_profiles]):
        sub = layers[layers["profile_id"] == pid]
        y = np.column_stack([sub["top"], sub["bottom"]]).ravel()
        for var, style in (("i_root", "-"), ("i_bulk", "--")):
            thick = (sub["bottom"] - sub["top"]).to_numpy(float)
            x = np.repeat(sub[var].to_numpy(float) / thick, 2)  # per cm: layers of 20/50 cm
            ax.plot(x, y, style, color=colors[i % 10],
                    label=f"{pid} {'I_root' if var == 'i_root' else 'I_bulk'}")
    ax.set_ylim(float(layers["bottom"].max()), 0.0)
    ax.set_xlabel("carbon input per cm of layer [Mg C ha⁻¹ yr⁻¹ cm⁻¹]")
    ax.set_ylabel("depth [cm]")
    ax.set_title("Root-derived inputs (solid) and inputs to bulk soil (dashed)")
    ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def israd_example_layers(profile: str | None = "Tower Pit") -> pd.DataFrame:
    """The bundled ISRaD Howland Forest entry (Gaudinski 2001) as an ``inputs`` layer table.

    Columns: ``profile_id``, ``top``, ``bottom`` [cm], ``soc_stock`` [Mg C ha⁻¹] — ISRaD's
    reported ``lyr_soc`` where given, else SOC × BD × thickness (``stock_source`` says which) —
    ``d14c`` [‰], ``year`` (observation year), ``lat``, ``lon``, ``mat``, ``map``,
    ``vegetation`` (temperate_coniferous_forest: red spruce, balsam fir, eastern hemlock).
    Only ``profile`` (a suffix of the profile id; None: all five) is returned. Organic
    horizons keep their negative ISRaD depths; :func:`inputs_job` lists and leaves them out.
    """
    from wholesoil import datasets

    ps = datasets.load_israd_example()
    h = ps.horizons.merge(ps.sites[["profile_id", "lat", "lon", "mat", "map"]],
                          on="profile_id", how="left")
    if profile is not None:
        h = h[h["profile_id"].str.endswith(profile)]
        if h.empty:
            raise InputDataError("no such profile in the ISRaD example", field="profile",
                                 value=profile)
    rep = h["soc_density_reported"].to_numpy(float)
    comp = h["soc_density_computed"].to_numpy(float)
    out = pd.DataFrame({
        "profile_id": h["profile_id"].to_numpy(), "top": h["top"].to_numpy(float),
        "bottom": h["bottom"].to_numpy(float),
        "soc_stock": np.where(np.isfinite(rep), rep, comp),
        "stock_source": np.where(np.isfinite(rep), "israd lyr_soc",
                                 np.where(np.isfinite(comp), "soc x bd x thickness", "")),
        "d14c": h["d14c"].to_numpy(float), "year": h["obs_year"].to_numpy(float),
        "lat": h["lat"].to_numpy(float), "lon": h["lon"].to_numpy(float),
        "mat": h["mat"].to_numpy(float), "map": h["map"].to_numpy(float),
        "vegetation": "temperate_coniferous_forest",
    })
    return out.reset_index(drop=True)


def inputs_demo(out: str | Path, *, draws: int = 100, seed: int = 0) -> JobResult:
    """Demo stage: Howland Forest Tower Pit — carbon ages from Δ14C (one-pool inversion),
    I_bulk by standard layer, I_root from Miami NPP and the Jackson temperate coniferous
    forest profile, I_loss and its fraction, with Monte Carlo uncertainty."""
    return inputs_job(israd_example_layers("Tower Pit"), out, npp="miami", draws=draws,
                      seed=seed, exclude_missing=True)
