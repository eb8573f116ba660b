"""Issue 18, property: corrupted horizon tables never give a traceback or a negative stock.

Generated tables (1–3 profiles of 1–4 contiguous horizons with SOC, bulk density and gravel)
receive random corruptions: text in a number, ±inf, swapped depths, out-of-range bulk density
and gravel, a negative SOC, a duplicated row, a header-only or a 0-byte file. Each of ``qc``,
``harmonize``, ``density`` and ``beta`` (strict and repair) then either succeeds, accounting for every
input row (rows in = rows out + horizons the QC report excludes), or exits non-zero with one
line ``error: …`` that names the file.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from wholesoil.cli import app

runner = CliRunner()


def _read(path, **kwargs) -> pd.DataFrame:
    """An output CSV with the units of its headers set aside (``"top [cm]"`` → ``"top"``)."""
    from wholesoil.io._headers import split_header

    return pd.read_csv(path, **kwargs).rename(columns=lambda c: split_header(c)[0])

CORRUPTIONS = ("text", "inf", "-inf", "swap", "bd_low", "bd_high", "gravel_high",
               "gravel_neg", "soc_neg", "dup_row", "nan_depth")


@st.composite
def tables(draw):
    rows = []
    for p in range(draw(st.integers(1, 3))):
        n = draw(st.integers(1, 4))
        cuts = sorted(draw(st.sets(st.integers(1, 300), min_size=n, max_size=n)))
        edges = [0, *cuts]
        for k in range(n):
            rows.append({
                "profile_id": f"P{p}", "top": float(edges[k]), "bottom": float(edges[k + 1]),
                "soc": draw(st.floats(0.5, 200)), "bd": draw(st.floats(0.3, 1.9)),
                "gravel": draw(st.floats(0, 60)),
            })
    df = pd.DataFrame(rows).astype(object)
    kind = draw(st.sampled_from(["ok", "corrupt", "corrupt", "corrupt", "header", "zero"]))
    if kind == "header":
        return "profile_id,top,bottom,soc,bd,gravel\n"
    if kind == "zero":
        return ""
    if kind == "corrupt":
        for _ in range(draw(st.integers(1, 3))):
            what = draw(st.sampled_from(CORRUPTIONS))
            i = draw(st.integers(0, len(df) - 1))
            if what == "text":
                df.loc[i, draw(st.sampled_from(["top", "soc", "bd"]))] = "abc"
            elif what in ("inf", "-inf"):
                df.loc[i, draw(st.sampled_from(["top", "bottom", "soc", "bd", "gravel"]))] = what
            elif what == "swap":
                df.loc[i, ["top", "bottom"]] = [df.loc[i, "bottom"], df.loc[i, "top"]]
            elif what == "bd_low":
                df.loc[i, "bd"] = draw(st.sampled_from([0.0, -1.0]))
            elif what == "bd_high":
                df.loc[i, "bd"] = 50.0
            elif what == "gravel_high":
                df.loc[i, "gravel"] = 150.0
            elif what == "gravel_neg":
                df.loc[i, "gravel"] = -5.0
            elif what == "soc_neg":
                df.loc[i, "soc"] = -3.0
            elif what == "dup_row":
                df = pd.concat([df, df.iloc[[i]]], ignore_index=True)
            elif what == "nan_depth":
                df.loc[i, "bottom"] = ""
    return df.to_csv(index=False)


def _invoke(args):
    res = runner.invoke(app, [str(a) for a in args])
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise AssertionError(f"{args}: uncaught {res.exception!r}")
    out = res.output
    assert "Traceback" not in out, out
    if res.exit_code != 0:
        lines = [ln for ln in out.splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.startswith("error:")]
        assert len(errors) == 1, out
        assert "h.csv" in errors[0] or "field" in errors[0], errors[0]
    return res.exit_code


def _excluded(report) -> int:
    rep = pd.read_csv(report)
    return int(((rep["action"] == "exclude") & rep["horizon"].notna()).sum())


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(text=tables())
def test_corrupted_tables_succeed_accounted_or_fail_in_one_line(tmp_path_factory, text):
    d = tmp_path_factory.mktemp("prop")
    src = d / "h.csv"
    src.write_text(text)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    n_in = max(len(text.splitlines()) - 1, 0)

    if _invoke(["qc", src, "-o", d / "q.csv"]) == 0:
        assert n_in == len(pd.read_csv(d / "q.csv")) + _excluded(d / "q.qc.csv")

    for mode in ("strict", "repair"):
        out = d / f"dens_{mode}.csv"
        if _invoke(["density", src, "-o", out, "--qc", mode]) == 0:
            h = _read(out)
            stocks = pd.read_csv(out.with_name(f"{out.stem}.stocks.csv"))
            assert (h["soc_density"].dropna() >= 0).all()
            assert (stocks.filter(like="stock_").stack().dropna() >= 0).all()
            excluded = _excluded(out.with_name(f"{out.stem}.qc.csv")) if mode == "repair" else 0
            assert n_in == len(h) + excluded

        lay = d / f"lay_{mode}.csv"
        if _invoke(["harmonize", src, "--variable", "soc", "-o", lay, "--qc", mode]) == 0:
            got = _read(lay)
            assert (pd.to_numeric(got["coverage"]).dropna() >= 0).all()
            ids_in = set(pd.read_csv(src, dtype={"profile_id": str})["profile_id"])
            assert set(got["profile_id"].astype(str)) <= ids_in

        fits = d / f"beta_{mode}.csv"
        if _invoke(["beta", src, "--value", "soc", "-o", fits, "--qc", mode]) == 0:
            got = _read(fits, dtype={"profile_id": str})
            ok = got["status"] == "ok"
            assert got.loc[ok, ["beta", "asymptote"]].notna().all().all()

    assert hashlib.sha256(src.read_bytes()).hexdigest() == digest
