"""Quality checks of a whole ISRaD database (or any set of entries): every rule counted, every
hit listed, nothing changed.

ISRaD records depths relative to the mineral surface: organic layers above it have negative
depths (``lyr_all_org_neg`` = "yes" where an entry's organic layers are all negative; Lawrence
et al. 2020, *Earth Syst. Sci. Data* 12:61–76, doi:10.5194/essd-12-61-2020). ISRaD.extra adds
gap-filled values beside the measured ones (``*_filled`` = measured or filled, ``*_fill_extra``
= the fills alone); :func:`israd_qc` counts them separately and checks that they agree where
both exist. The rules only flag: a user (or a reproduction) decides what to exclude, and says
so with the rule's name.

:data:`ISRAD_QC_RULES` names each rule and what it means; :func:`israd_qc` returns the counts
(one row per rule, also the rules with no hit) and the rows hit (one row per layer and rule,
with the layer's ``source_row`` in its table).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from wholesoil.profiles import ProfileSet

__all__ = ["ISRAD_QC_RULES", "IsradQC", "israd_qc"]

#: Relative difference above which the reported ``lyr_soc`` and BD × C × thickness disagree.
SOC_DENSITY_TOLERANCE = 0.05

#: Rule name → what a hit means (counts in the docs, ``docs/howto/israd.md``).
ISRAD_QC_RULES: dict[str, str] = {
    "depth_missing": "top or bottom depth empty",
    "zero_thickness": "top = bottom (a point sample: no thickness, no stock)",
    "bottom_above_top": "bottom < top",
    "organic_above_surface": "layer wholly above the mineral surface (bottom ≤ 0 cm; organic "
    "layer recorded with negative depths)",
    "straddles_surface": "layer crosses the mineral surface (top < 0 < bottom)",
    "duplicated_layer": "another layer of the same profile has the same top and bottom",
    "overlap": "layer starts above the bottom of the layer before it (same profile, sorted by "
    "top; exact duplicates counted apart)",
    "gap": "layer starts below the bottom of the layer before it",
    "d14c_without_year": "Δ14C recorded but no observation year (lyr_obs_date_y)",
    "d14c_without_zone": "Δ14C recorded but the profile has no Graven atmospheric zone "
    "(pro_graven_zone) and no latitude",
    "d14c_fill_only": "no measured Δ14C (lyr_14c) but an ISRaD gap-fill (lyr_14c_fill_extra)",
    "d14c_fill_differs": "measured Δ14C and an ISRaD gap-fill both present and different",
    "bd_filled": "bulk density only filled (lyr_bd_samp_filled), none measured",
    "soc_filled": "organic C only filled (lyr_c_org_filled), none measured",
    "soc_density_filled": "SOC stock only filled (lyr_soc_filled), none reported",
    "coarse_filled": "coarse fraction only filled (lyr_coarse_tot_filled), none measured",
    "curator_fill": "a curator's gap-fill of BD, organic C or SOC stock (lyr_*_fill_extra)",
    "filled_differs_from_measured": "a *_filled value differs from the measured value of the "
    "same layer (BD, organic C or SOC stock)",
    "soc_density_implausible": "a reported or filled SOC stock above 10 Mg C ha⁻¹ per cm of "
    "layer (more than peat holds; e.g. Mg ha⁻¹ entered where ISRaD expects g cm⁻²)",
    "soc_density_mismatch": f"reported lyr_soc differs from BD × C × thickness by more than "
    f"{SOC_DENSITY_TOLERANCE:.0%}",
}


@dataclass
class IsradQC:
    """Result of :func:`israd_qc`.

    Attributes
    ----------
    counts : DataFrame
        ``rule``, ``description``, ``layers`` (hits), ``profiles`` (profiles with a hit),
        ``entries`` — one row per rule of :data:`ISRAD_QC_RULES`, in that order.
    rows : DataFrame
        ``rule``, ``profile_id``, ``source_row``, ``top``, ``bottom``, ``value``, ``detail``.
    totals : dict
        Profiles, layers, layers with Δ14C, entries.
    """

    counts: pd.DataFrame
    rows: pd.DataFrame
    totals: dict[str, int]

    def to_markdown(self) -> str:
        """The counts as a Markdown table (for the docs)."""
        lines = ["| rule | what it flags | layers | profiles | entries |",
                 "|---|---|---:|---:|---:|"]
        for r in self.counts.itertuples():
            lines.append(f"| `{r.rule}` | {r.description} | {r.layers:,} | {r.profiles:,} | "
                         f"{r.entries:,} |")
        return "\n".join(lines)


def _num(h: pd.DataFrame, col: str) -> np.ndarray:
    if col not in h:
        return np.full(len(h), np.nan)
    return pd.to_numeric(h[col], errors="coerce").to_numpy(float)


def israd_qc(ps: ProfileSet) -> IsradQC:
    """Run every rule of :data:`ISRAD_QC_RULES` over an ISRaD ProfileSet (vectorized).

    Parameters
    ----------
    ps : ProfileSet
        From :func:`wholesoil.io.read_israd` or :func:`wholesoil.datasets.load_israd`.

    Returns
    -------
    IsradQC
    """
    h = ps.horizons.reset_index(drop=True)
    s = ps.sites
    pid = h["profile_id"].astype(str).to_numpy()
    top, bot = _num(h, "top"), _num(h, "bottom")
    src = (h["source_row"].to_numpy() if "source_row" in h else np.arange(len(h)) + 2)
    hits: list[pd.DataFrame] = []

    def add(rule: str, mask: np.ndarray, value: object = None, detail: object = "") -> None:
        m = np.asarray(mask, dtype=bool)
        if not m.any():
            return
        val = np.broadcast_to(np.asarray(value, dtype=object), m.shape)[m] if value is not None \
            else np.full(int(m.sum()), None, dtype=object)
        det = np.broadcast_to(np.asarray(detail, dtype=object), m.shape)[m]
        hits.append(pd.DataFrame({"rule": rule, "profile_id": pid[m], "source_row": src[m],
                                  "top": top[m], "bottom": bot[m], "value": val,
                                  "detail": det}))

    nan_depth = np.isnan(top) | np.isnan(bot)
    add("depth_missing", nan_depth)
    add("zero_thickness", ~nan_depth & (bot == top))
    add("bottom_above_top", ~nan_depth & (bot < top))
    add("organic_above_surface", ~nan_depth & (bot <= 0))
    add("straddles_surface", ~nan_depth & (top < 0) & (bot > 0))
    # order within profile by top (stable on source row)
    ok = ~nan_depth
    idx = np.flatnonzero(ok)
    order = idx[np.lexsort((src[idx], top[idx], pid[idx]))]
    p_o, t_o, b_o = pid[order], top[order], bot[order]
    same_prev = np.r_[False, p_o[1:] == p_o[:-1]]
    prev_t = np.r_[np.nan, t_o[:-1]]
    prev_b = np.r_[np.nan, b_o[:-1]]
    dup_o = same_prev & (t_o == prev_t) & (b_o == prev_b)
    dup = np.zeros(len(h), bool)
    dup[order[dup_o]] = True
    # a duplicate's partner is flagged too
    partner = np.zeros(len(h), bool)
    partner[order[np.r_[dup_o[1:], False]]] = True
    add("duplicated_layer", dup | partner, detail=np.where(dup, "repeat", "first"))
    ov_o = same_prev & ~dup_o & (t_o < prev_b)
    gap_o = same_prev & (t_o > prev_b)
    ov = np.zeros(len(h), bool)
    ov[order[ov_o]] = True
    gap = np.zeros(len(h), bool)
    gap[order[gap_o]] = True
    pb = np.full(len(h), np.nan)
    pb[order] = prev_b
    add("overlap", ov, value=pb, detail="value = bottom of the layer above [cm]")
    add("gap", gap, value=pb, detail="value = bottom of the layer above [cm]")

    d14c = _num(h, "d14c")
    fill = _num(h, "d14c_fill_extra")
    year = _num(h, "obs_year")
    add("d14c_without_year", np.isfinite(d14c) & np.isnan(year), value=d14c)
    zone = s.set_index("profile_id")["pro_graven_zone"] if "pro_graven_zone" in s else None
    lat = s.set_index("profile_id")["lat"]
    has_zone = (pd.Series(pid).map(zone).notna().to_numpy() if zone is not None
                else np.zeros(len(h), bool))
    has_lat = pd.Series(pid).map(lat).notna().to_numpy()
    add("d14c_without_zone", np.isfinite(d14c) & ~has_zone & ~has_lat, value=d14c)
    add("d14c_fill_only", np.isnan(d14c) & np.isfinite(fill), value=fill,
        detail=h["fill_notes"].to_numpy(object) if "fill_notes" in h else "")
    add("d14c_fill_differs", np.isfinite(d14c) & np.isfinite(fill) & (np.abs(d14c - fill) > 1e-6),
        value=fill - d14c, detail="value = fill − measured [‰]")
    for rule, measured, filled in (("bd_filled", "bd", "bd_filled"),
                                   ("soc_filled", "soc", "soc_filled"),
                                   ("soc_density_filled", "soc_density_reported",
                                    "soc_density_filled"),
                                   ("coarse_filled", "coarse_tot", "coarse_tot_filled")):
        add(rule, np.isnan(_num(h, measured)) & np.isfinite(_num(h, filled)),
            value=_num(h, filled))
    cur = np.zeros(len(h), bool)
    cur_d = np.full(len(h), "", dtype=object)
    for extra in ("bd_fill_extra", "soc_fill_extra", "soc_density_fill_extra"):
        e = np.isfinite(_num(h, extra))
        cur_d[e] = cur_d[e] + f"{extra};"
        cur |= e
    add("curator_fill", cur, detail=cur_d)
    differs = np.zeros(len(h), bool)
    detail = np.full(len(h), "", dtype=object)
    for measured, filled in (("bd", "bd_filled"), ("soc", "soc_filled"),
                             ("soc_density_reported", "soc_density_filled")):
        m, f = _num(h, measured), _num(h, filled)
        d = np.isfinite(m) & np.isfinite(f) & ~np.isclose(m, f, rtol=1e-6, atol=1e-9)
        detail[d] = detail[d] + f"{measured};"
        differs |= d
    add("filled_differs_from_measured", differs, detail=detail)
    rep, comp = _num(h, "soc_density_reported"), _num(h, "soc_density_computed")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = rep / comp
    add("soc_density_mismatch", np.isfinite(rep) & np.isfinite(comp)
        & ~(np.abs(ratio - 1) <= SOC_DENSITY_TOLERANCE), value=ratio,
        detail="value = reported / (BD × C × thickness)")

    thick = bot - top
    dens = np.fmax(rep, _num(h, "soc_density_filled"))
    with np.errstate(divide="ignore", invalid="ignore"):
        per_cm = dens / thick
    add("soc_density_implausible", (thick > 0) & (per_cm > 10.0), value=per_cm,
        detail="value = Mg C ha-1 per cm")
    rows = (pd.concat(hits, ignore_index=True) if hits else pd.DataFrame(
        columns=["rule", "profile_id", "source_row", "top", "bottom", "value", "detail"]))
    entry = rows["profile_id"].str.split(":", n=1).str[0]
    counts = pd.DataFrame({"rule": list(ISRAD_QC_RULES),
                           "description": list(ISRAD_QC_RULES.values())})
    g = rows.assign(entry=entry).groupby("rule")
    counts["layers"] = counts["rule"].map(g.size()).fillna(0).astype(int)
    counts["profiles"] = counts["rule"].map(g["profile_id"].nunique()).fillna(0).astype(int)
    counts["entries"] = counts["rule"].map(g["entry"].nunique()).fillna(0).astype(int)
    totals = {"entries": int(s["entry"].nunique()) if "entry" in s else 0,
              "profiles": len(s), "layers": len(h),
              "layers_with_d14c": int(np.isfinite(d14c).sum())}
    return IsradQC(counts, rows, totals)
