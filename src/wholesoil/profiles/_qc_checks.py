"""The QC checks, vectorized over the whole horizon table (no loop over profiles).

Each method of ``_QC`` is one check of :data:`~wholesoil.profiles._qc_rules.CHECKS`; it
applies the check's rule and reports every change through ``_QCState``
(:mod:`wholesoil.profiles._qc_report`).

References
----------
Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from wholesoil.profiles._profileset import VALUE_RANGES
from wholesoil.profiles._qc_report import (
    _first_last,
    _fmts,
    _isin,
    _QCState,
    _row_text,
    _shift,
    _unit,
)
from wholesoil.profiles._qc_rules import (
    DEPTH_TOLERANCE,
    EXTENSIVE_COLUMNS,
    MISSING_BOTTOM_EXTENSION,
)

_SEED003 = "Tao et al. (EarthArXiv) §2.1"


class _QC(_QCState):
    """One QC run: the checks, in the order of :data:`~wholesoil.profiles._qc_rules.CHECKS`."""

    # --------------------------------------------------------------- checks
    def run(self, *, min_layers: int | None, min_depth: float | None) -> None:
        self.not_numeric()
        self.duplicate_site()
        self.missing_required()
        self.orphan_horizon()
        self.missing_ends()
        self.thickness()
        self.negative_depth()
        self._sort(["_p", "top", "bottom"])
        self.duplicate_horizon()
        self.overlap()
        self.value_range()
        self.missing_value()
        self.gap()  # after the checks that can exclude horizons, which may open gaps
        if min_layers is not None:
            self.min_layers(int(min_layers))
        if min_depth is not None:
            self.min_depth(float(min_depth))
        self.site_without_horizons()

    def not_numeric(self) -> None:
        h = self.h
        for col in self.numeric_vars:
            s = h[col]
            if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
                continue
            conv = pd.to_numeric(s.astype(object), errors="coerce").astype(float)
            bad = (conv.isna() & s.notna() & (s.astype(str).str.strip() != "")).to_numpy()
            self._add(
                h[bad],
                "not_numeric",
                "repair",
                col,
                s[bad],
                np.nan,
                "expected a number",
                "value set to NaN",
            )
            h[col] = conv.to_numpy()

    def duplicate_site(self) -> None:
        s = self.s
        if not s["profile_id"].duplicated().any():
            return
        cols = [c for c in s.columns if c not in ("_src", "_sid", "source_row")]
        ident = s.duplicated(cols, keep="first").to_numpy()
        self._add(
            s[ident],
            "duplicate_site",
            "repair",
            "profile_id",
            s["profile_id"][ident],
            None,
            "identical copy of another site row of this profile",
            "copy dropped",
            rule="drop_identical",
            site=True,
        )
        s = s[~ident]
        conflict = s["profile_id"].duplicated(keep=False).to_numpy()
        if self.rules["duplicate_site"] == "keep_first":
            extra = s["profile_id"].duplicated(keep="first").to_numpy()
            self._add(
                s[extra],
                "duplicate_site",
                "repair",
                "profile_id",
                s["profile_id"][extra],
                None,
                "profile id is on several site rows with different values",
                "this row dropped, the first site row kept",
                site=True,
            )
            self.s = s[~extra]
            return
        ids = s["profile_id"][conflict]
        problem = "profile id is on several site rows with different values"
        self._add(
            s[conflict],
            "duplicate_site",
            "exclude",
            "profile_id",
            ids,
            None,
            problem,
            "profile excluded",
            site=True,
        )
        self.s = s[~conflict]
        hit = _isin(self.h["profile_id"], ids)
        self._exclude(
            hit,
            "duplicate_site",
            "profile_id",
            self.h["profile_id"].to_numpy(dtype=object),
            problem,
            "profile excluded",
        )

    def missing_required(self) -> None:
        h = self.h
        pid = h["profile_id"]
        no_id = pid.isna() | pid.astype(str).str.strip().isin(["", "nan", "None", "<NA>"])
        no_id = no_id.to_numpy()
        self._exclude(no_id, "missing_required", "profile_id", np.nan, "profile id is missing")
        _, t, b = self._arrays()
        neither = ~np.isfinite(t) & ~np.isfinite(b)
        self._exclude(
            neither,
            "missing_required",
            "top",
            t,
            "top and bottom are both missing",
        )
        # position of a horizon with one missing depth: by the depth it has
        h = self.h
        t = h["top"].to_numpy(float)
        b = h["bottom"].to_numpy(float)
        # (a horizon ending at 10 cm lies above one starting at 10 cm; one without a bottom
        # lies below the others starting at the same depth)
        h["_k1"] = np.where(np.isfinite(t), t, b)
        h["_kt"] = np.isfinite(t)
        h["_k2"] = np.where(np.isfinite(b), b, np.inf)
        self._sort(["_p", "_k1", "_kt", "_k2"])
        self.h = self.h.drop(columns=["_k1", "_kt", "_k2"])
        p, t, b = self._arrays()
        first, last = _first_last(p)
        top_miss = ~np.isfinite(t) & ~first
        bot_miss = ~np.isfinite(b) & ~last
        if not (top_miss.any() or bot_miss.any()):
            return
        which = np.where(top_miss, "top", "bottom").astype(object)
        if self.rules["missing_required"] == "exclude":
            self._exclude(
                top_miss | bot_miss, "missing_required", which, np.nan, which + " is missing"
            )
            return
        prev_b = _shift(b, 1)
        next_t = _shift(t, -1)
        fill_t = top_miss & np.isfinite(prev_b)
        fill_b = bot_miss & np.isfinite(next_t)
        h = self.h
        self._add(
            h[fill_t],
            "missing_required",
            "repair",
            "top",
            np.nan,
            prev_b[fill_t],
            "top is missing",
            "filled with the bottom of the horizon above",
        )
        self._add(
            h[fill_b],
            "missing_required",
            "repair",
            "bottom",
            np.nan,
            next_t[fill_b],
            "bottom is missing",
            "filled with the top of the horizon below",
        )
        h["top"] = np.where(fill_t, prev_b, t)
        h["bottom"] = np.where(fill_b, next_t, b)
        unfill = (top_miss & ~fill_t) | (bot_miss & ~fill_b)
        self._exclude(
            unfill,
            "missing_required",
            which,
            np.nan,
            np.where(
                top_miss,
                "top is missing and so is the bottom of the horizon above",
                "bottom is missing and so is the top of the horizon below",
            ).astype(object),
        )

    def orphan_horizon(self) -> None:
        h = self.h
        orphan = ~_isin(h["profile_id"], self.s["profile_id"])
        if not orphan.any():
            return
        problem = "profile has no row in the site table"
        if self.rules["orphan_horizon"] == "exclude":
            self._exclude(
                orphan,
                "orphan_horizon",
                "profile_id",
                h["profile_id"].to_numpy(dtype=object),
                problem,
            )
            return
        firsts = h[orphan].drop_duplicates("profile_id")
        self._add(
            firsts.assign(_sid=firsts["_id"]),
            "orphan_horizon",
            "repair",
            "profile_id",
            None,
            firsts["profile_id"],
            problem,
            "site row added (no location or date)",
            site=True,
        )
        new = pd.DataFrame({"profile_id": firsts["profile_id"].to_numpy(dtype=object)})
        new["profile_id"] = new["profile_id"].astype(object)
        new["_src"] = pd.array([pd.NA] * len(new), dtype="Int64")
        new["_sid"] = np.arange(len(new)) + self.n_horizons_in + self.n_profiles_in
        self.s = pd.concat([self.s, new], ignore_index=True)

    def missing_ends(self) -> None:
        p, t, b = self._arrays()
        first, _ = _first_last(p)
        miss_t = ~np.isfinite(t) & first
        if miss_t.any():
            if self.rules["missing_top_first"] == "zero":
                self._add(
                    self.h[miss_t],
                    "missing_top_first",
                    "repair",
                    "top",
                    np.nan,
                    0.0,
                    "top of the first horizon is missing",
                    "set to 0 cm (the surface)",
                )
                self.h["top"] = np.where(miss_t, 0.0, t)
            else:
                self._exclude(
                    miss_t, "missing_top_first", "top", t, "top of the first horizon is missing"
                )
        p, t, b = self._arrays()
        _, last = _first_last(p)
        miss_b = ~np.isfinite(b) & last
        if miss_b.any():
            if self.rules["missing_bottom_last"] == "extend":
                new_b = t + MISSING_BOTTOM_EXTENSION
                self._add(
                    self.h[miss_b],
                    "missing_bottom_last",
                    "repair",
                    "bottom",
                    np.nan,
                    new_b[miss_b],
                    "bottom of the last horizon is missing",
                    f"set to top + {MISSING_BOTTOM_EXTENSION:g} cm (aqp repairMissingHzDepths)",
                )
                self.h["bottom"] = np.where(miss_b, new_b, b)
            else:
                self._exclude(
                    miss_b,
                    "missing_bottom_last",
                    "bottom",
                    b,
                    "bottom of the last horizon is missing",
                )

    def thickness(self) -> None:
        _, t, b = self._arrays()
        bad = b <= t
        if not bad.any():
            return
        tb, bb = _fmts(t[bad]).to_numpy(), _fmts(b[bad]).to_numpy()
        above = b[bad] < t[bad]
        problem_sub = np.where(
            above,
            "bottom (" + bb.astype(object) + " cm) is above top (" + tb.astype(object) + " cm)",
            "bottom ("
            + bb.astype(object)
            + " cm) equals top ("
            + tb.astype(object)
            + " cm): zero thickness",
        )
        problem = np.empty(b.size, dtype=object)
        problem[bad] = problem_sub
        self._exclude(bad, "thickness", "bottom", b, problem)

    def negative_depth(self) -> None:
        _, t, b = self._arrays()
        if not (t < 0).any():
            return
        if self.rules["negative_depth"] == "exclude":
            neg = t < 0
            problem = np.empty(t.size, dtype=object)
            problem[neg] = (
                "top (" + _fmts(t[neg]) + " cm) is above the mineral surface"
            ).to_numpy()
            self._exclude(neg, "negative_depth", "top", t, problem, "organic horizon excluded")
            return
        pmin = self.h.groupby("_p", sort=False)["top"].transform("min").to_numpy(float)
        shifted = pmin < 0
        d = np.where(shifted, -pmin, 0.0)
        rows = self.h[shifted]
        problem = (
            "profile starts at " + _fmts(pmin[shifted]) + " cm (organic horizons above "
            "the mineral surface)"
        ).to_numpy()
        done = (
            "profile shifted down by " + _fmts(d[shifted]) + " cm so that its top is 0 cm"
            " (top of the organic layer, as NCSCD)"
        ).to_numpy()
        for col, x in (("top", t), ("bottom", b)):
            self._add(
                rows, "negative_depth", "repair", col, x[shifted], (x + d)[shifted], problem, done
            )
        self.h["top"] = t + d
        self.h["bottom"] = b + d

    def duplicate_horizon(self) -> None:
        h = self.h
        key = ["_p", "top", "bottom"]
        if not h.duplicated(key).any():
            return
        value_cols = [c for c in self.columns if c != "source_row"]
        ident = h.duplicated(value_cols, keep="first").to_numpy()
        if ident.any():
            kept = _row_text(
                h.groupby(value_cols, dropna=False, sort=False)["_src"].transform("first")
            )
            self._exclude(
                ident,
                "duplicate_horizon",
                None,
                None,
                "identical copy of the horizon at " + kept,
                "copy excluded",
                rule="drop_identical",
            )
        h = self.h
        dup = h.duplicated(key, keep=False).to_numpy()
        if not dup.any():
            return
        rule = self.rules["duplicate_horizon"]
        first = ~h.duplicated(key, keep="first").to_numpy()
        kept = _row_text(h.groupby(key, sort=False)["_src"].transform("first"))
        problem = "another horizon of this profile has the same depths and different values"
        if rule == "exclude":
            self._exclude(dup, "duplicate_horizon", None, None, problem, "all copies excluded")
            return
        if rule == "average":
            num = [
                c
                for c in value_cols
                if c not in ("profile_id", "top", "bottom")
                and pd.api.types.is_numeric_dtype(h[c])
                and not pd.api.types.is_bool_dtype(h[c])
            ]
            means = h[dup].groupby(key, sort=False)[num].transform("mean")
            keep = dup & first
            for c in num:
                old = h[c].to_numpy(float)
                new = old.copy()
                new[dup] = means[c].to_numpy(float)
                changed = keep & ~((old == new) | (np.isnan(old) & np.isnan(new)))
                if changed.any():
                    self._add(
                        h[changed],
                        "duplicate_horizon",
                        "repair",
                        c,
                        old[changed],
                        new[changed],
                        problem,
                        "value replaced by the mean of the copies",
                    )
                    h[c] = np.where(changed, new, old)
            done = "merged into the first copy (" + kept + "), values averaged"
        else:
            done = "the first copy (" + kept + ") kept, this one excluded"
        self._exclude(dup & ~first, "duplicate_horizon", None, None, problem, done, rule)

    def overlap(self) -> None:
        p, t, b = self._arrays()
        if p.size < 2:
            return
        first, _ = _first_last(p)
        cm = self.h.groupby("_p", sort=False)["bottom"].cummax().to_numpy(float)
        prev_max = _shift(cm, 1, -np.inf)
        prev_max[first] = -np.inf
        start = first | (t >= prev_max - DEPTH_TOLERANCE)
        if start.all():
            return
        cl = np.cumsum(start) - 1
        size = np.bincount(cl)
        inov = size[cl] >= 2
        next_t = _shift(t, -1)
        same_next = np.zeros(t.size, dtype=bool)
        same_next[:-1] = cl[1:] == cl[:-1]
        # message: non-start rows overlap the deepest horizon above; start rows the one below
        problem = np.empty(t.size, dtype=object)
        ns = inov & ~start
        problem[ns] = (
            "top ("
            + _fmts(t[ns])
            + " cm) is above the bottom of a horizon above ("
            + _fmts(prev_max[ns])
            + " cm)"
        ).to_numpy()
        st = inov & start
        problem[st] = (
            "bottom ("
            + _fmts(b[st])
            + " cm) is below the top of the horizon below ("
            + _fmts(next_t[st])
            + " cm)"
        ).to_numpy()
        rule = self.rules["overlap"]
        if rule == "exclude_profile":
            bad_p = np.zeros(p.max() + 1, dtype=bool)
            bad_p[p[inov]] = True
            hit = bad_p[p]
            problem[hit & ~inov] = "profile has overlapping horizons"
            self._exclude(hit, "overlap", "top", t, problem, "profile excluded")
            return
        if rule == "exclude":
            self._exclude(inov, "overlap", "top", t, problem, "overlapping horizons excluded")
            return
        prev_t, prev_b = _shift(t, 1), _shift(b, 1)
        okrow = start | ((t > prev_t) & (b > prev_b))
        bad_cl = np.bincount(cl, weights=~okrow, minlength=cl.max() + 1) > 0
        nested = inov & bad_cl[cl]
        trunc = inov & ~bad_cl[cl] & same_next
        h = self.h
        by = (b - next_t)[trunc]
        self._add(
            h[trunc],
            "overlap",
            "repair",
            "bottom",
            b[trunc],
            next_t[trunc],
            (
                "bottom ("
                + _fmts(b[trunc])
                + " cm) overlaps the horizon below (top "
                + _fmts(next_t[trunc])
                + " cm) by "
                + _fmts(by)
                + " cm"
            ).to_numpy(),
            "bottom truncated to the top of the horizon below",
        )
        h["bottom"] = np.where(trunc, next_t, b)
        # layer totals (not concentrations) shrink with the layer: uniform density assumed
        factor = np.divide(next_t - t, b - t, out=np.ones_like(t), where=trunc & (b > t))
        for col in EXTENSIVE_COLUMNS:
            if col not in h.columns:
                continue
            v = h[col].to_numpy(float)
            hit = trunc & np.isfinite(v)
            if not hit.any():
                continue
            new = v * factor
            self._add(
                h[hit],
                "overlap",
                "repair",
                col,
                v[hit],
                new[hit],
                (
                    col
                    + " is a layer total and the layer was truncated by "
                    + _fmts(by[hit[trunc]])
                    + " cm"
                ).to_numpy(),
                "scaled by the kept fraction of the thickness (uniform density assumed)",
            )
            h[col] = np.where(hit, new, v)
        problem[nested] = (
            "nested or same-top overlap in a run of "
            + _fmts(size[cl][nested])
            + " overlapping horizons; cannot truncate"
        ).to_numpy()
        self._exclude(nested, "overlap", "top", t, problem, "horizon excluded")

    def gap(self) -> None:
        p, t, b = self._arrays()
        first, _ = _first_last(p)
        prev_b = _shift(b, 1)
        gap = ~first & (t > prev_b + DEPTH_TOLERANCE)
        if not gap.any():
            return
        problem = np.empty(t.size, dtype=object)
        problem[gap] = (
            "gap of " + _fmts((t - prev_b)[gap]) + " cm above this horizon (the "
            "horizon above ends at " + _fmts(prev_b[gap]) + " cm)"
        ).to_numpy()
        if self.rules["gap"] == "exclude_profile":
            bad_p = np.zeros(p.max() + 1, dtype=bool)
            bad_p[p[gap]] = True
            hit = bad_p[p]
            problem[hit & ~gap] = "profile has a gap between horizons"
            self._exclude(hit, "gap", "top", t, problem, "profile excluded")
            return
        self._add(
            self.h[gap],
            "gap",
            "flag",
            "top",
            t[gap],
            t[gap],
            problem[gap],
            "kept (the equal-area spline handles gaps)",
        )

    def value_range(self) -> None:
        rule = self.rules["value_range"]
        for col in self.range_vars:
            h = self.h
            lo, hi = VALUE_RANGES[col]
            v = h[col].to_numpy(float)
            bad = (v < lo) | (v > hi) | np.isinf(v)  # inf is out of range even when hi is
            if not bad.any():
                continue
            rng = f"{lo:g}–{hi:g}" if np.isfinite(hi) else f"≥ {lo:g}"
            problem = np.empty(v.size, dtype=object)
            problem[bad] = (
                col + " " + _fmts(v[bad]) + f" is outside the physical range {rng}{_unit(col)}"
            ).to_numpy()
            if rule == "exclude":
                self._exclude(bad, "value_range", col, v, problem)
                continue
            if rule == "flag":
                self._add(
                    h[bad],
                    "value_range",
                    "flag",
                    col,
                    v[bad],
                    v[bad],
                    problem[bad],
                    "kept as measured (rule 'flag')",
                )
                continue
            new = np.clip(v, lo, hi) if rule == "clip" else np.where(bad, np.nan, v)
            done = "value set to NaN (excluded)" if rule == "set_nan" else "clipped to the range"
            self._add(h[bad], "value_range", "repair", col, v[bad], new[bad], problem[bad], done)
            h[col] = np.where(bad, new, v)

    def missing_value(self) -> None:
        rule = self.rules["missing_value"]
        for col in self.required:
            miss = self.h[col].isna().to_numpy()
            if not miss.any():
                continue
            problem = f"no value of the required variable {col!r}"
            if rule == "exclude":
                self._exclude(miss, "missing_value", col, np.nan, problem)
            else:
                self._add(
                    self.h[miss], "missing_value", "flag", col, np.nan, np.nan, problem, "kept"
                )

    def min_layers(self, n_min: int) -> None:
        p = self.h["_p"].to_numpy()
        if p.size == 0:
            return
        counts = np.bincount(p)[p]
        bad = counts < n_min
        problem = np.empty(p.size, dtype=object)
        problem[bad] = (
            "profile has " + _fmts(counts[bad]) + f" layers, fewer than "
            f"min_layers={n_min} ({_SEED003})"
        ).to_numpy()
        self._exclude(bad, "min_layers", None, counts, problem, "profile excluded")

    def min_depth(self, d_min: float) -> None:
        if self.h.empty:
            return
        deep = self.h.groupby("_p", sort=False)["bottom"].transform("max").to_numpy(float)
        bad = deep <= d_min
        problem = np.empty(deep.size, dtype=object)
        problem[bad] = (
            "deepest bottom of the profile (" + _fmts(deep[bad]) + " cm) is no "
            f"deeper than min_depth={d_min:g} cm ({_SEED003})"
        ).to_numpy()
        self._exclude(bad, "min_depth", "bottom", deep, problem, "profile excluded")

    def site_without_horizons(self) -> None:
        s = self.s
        empty = ~_isin(s["profile_id"], self.h["profile_id"])
        if not empty.any():
            return
        n_in = s["profile_id"].map(self.input_counts).fillna(0).astype(int).to_numpy()
        problem = np.where(
            n_in[empty] > 0,
            "all "
            + _fmts(n_in[empty]).to_numpy().astype(object)
            + " horizons of the profile were excluded by QC",
            "profile has no horizons",
        )
        if self.rules["site_without_horizons"] == "keep":
            self._add(
                s[empty],
                "site_without_horizons",
                "flag",
                "profile_id",
                s["profile_id"][empty],
                s["profile_id"][empty],
                problem,
                "site kept",
                site=True,
            )
            return
        self._add(
            s[empty],
            "site_without_horizons",
            "exclude",
            "profile_id",
            s["profile_id"][empty],
            None,
            problem,
            "site row removed",
            site=True,
        )
        self.s = s[~empty]
