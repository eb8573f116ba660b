"""The HTML report: self-contained, embedded figures, sortable tables, contents, parameter boxes."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from wholesoil._atomic import save_figure
from wholesoil.errors import InputDataError
from wholesoil.report import Report, external_references

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"  # PNG specification (ISO/IEC 15948) §5.2 signature


def _png(folder: Path, name: str = "f.png") -> Path:
    fig = Figure(figsize=(2, 1.5))
    fig.subplots().plot([0, 1], [1, 0])
    return save_figure(fig, folder / "figures" / name, dpi=50)


def test_figure_is_embedded_and_file_linked(tmp_path: Path) -> None:
    path = _png(tmp_path)
    rep = Report("t", root=tmp_path)
    rep.figure(path, "a <figure>")
    doc = rep.to_html()
    src = re.search(r'<img src="data:image/png;base64,([^"]+)"', doc)
    assert src is not None
    assert base64.b64decode(src.group(1)) == path.read_bytes()  # the very bytes on disk
    assert base64.b64decode(src.group(1))[:8] == PNG_MAGIC
    assert '<a href="figures/f.png">[f.png]</a>' in doc
    assert 'alt="a &lt;figure&gt;"' in doc
    assert external_references(doc) == []


def test_figure_old_call_with_relative_to_and_no_embed(tmp_path: Path) -> None:
    """The call the demo stages make (``relative_to=out``) still works; embed=False links."""
    path = _png(tmp_path)
    rep = Report("t")
    rep.figure(path, "cap", relative_to=tmp_path, embed=False)
    doc = rep.to_html()
    assert '<img src="figures/f.png"' in doc
    assert external_references(doc) == ["figures/f.png"]


def test_figure_errors_name_the_file(tmp_path: Path) -> None:
    rep = Report("t", root=tmp_path)
    with pytest.raises(InputDataError, match=r"missing\.png.*not found"):
        rep.figure(tmp_path / "missing.png", "x")
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    with pytest.raises(InputDataError, match=r"x\.pdf.*cannot embed a \.pdf"):
        rep.figure(tmp_path / "x.pdf", "x")


def test_table_sortable_with_full_precision_keys() -> None:
    df = pd.DataFrame({"site": ["a", "b"], "x": [1.23456789, np.nan], "n": [3, 4],
                       "ok": [True, False]})
    rep = Report("t")
    rep.table(df, "cap")
    doc = rep.to_html()
    assert ('<figure class="tbl"><figcaption>cap</figcaption><div class="tablewrap">'
            '<table class="sortable"><thead>') in doc
    assert '<th scope="col" class="n" data-type="num">x</th>' in doc
    assert '<th scope="col" class="t" data-type="text">site</th>' in doc
    assert '<th scope="col" class="t" data-type="text">ok</th>' in doc  # booleans sort as text
    assert '<td class="n" data-v="1.23456789">1.235</td>' in doc  # shown {:.4g}, sorted exact
    assert '<td class="n" data-v="">–</td>' in doc  # NaN: shown as a dash, sorted last
    assert '<td class="n" data-v="3">3</td>' in doc
    assert "addEventListener(\"click\"" in doc


def test_large_table_capped_with_link_to_csv(tmp_path: Path) -> None:
    df = pd.DataFrame({"i": np.arange(100)})
    rep = Report("t", root=tmp_path)
    rep.table(df, "big", max_rows=10, csv=tmp_path / "tables" / "big.csv")
    doc = rep.to_html()
    assert doc.count("<tr>") == 11  # header + 10 rows
    assert ('showing the first 10 of 100 rows; full table: '
            '<a href="tables/big.csv">tables/big.csv</a>') in doc
    rep2 = Report("t")
    rep2.table(df, "big", max_rows=10)
    assert "showing the first 10 of 100 rows; full table in the CSV" in rep2.to_html()


def test_table_rejects_non_frames() -> None:
    with pytest.raises(InputDataError, match=r"DataFrame.*got 'list'"):
        Report("t").table([1, 2], "x")  # type: ignore[arg-type]


def test_contents_nested_and_anchors_unique() -> None:
    rep = Report("t")
    a = rep.heading("1. Data")
    b = rep.heading("QC", level=3)
    c = rep.heading("QC", level=3)
    d = rep.heading("2. Maps")
    assert (a, b, c, d) == ("1-data", "qc", "qc-2", "2-maps")
    doc = rep.to_html()
    nav = re.search(r"<nav.*?</nav>", doc).group(0)
    assert nav == ('<nav class="toc" aria-label="contents"><strong>Contents</strong><ol>'
                   '<li><a href="#1-data">1. Data</a><ol><li><a href="#qc">QC</a></li>'
                   '<li><a href="#qc-2">QC</a></li></ol></li>'
                   '<li><a href="#2-maps">2. Maps</a></li></ol></nav>')
    assert '<h3 id="qc-2">QC</h3>' in doc
    assert "<nav" not in Report("t", toc=False).to_html()
    with pytest.raises(InputDataError, match="level"):
        rep.heading("x", level=1)


def test_parameters_box() -> None:
    rep = Report("t")
    rep.parameters({"seed": 42, "lambda": 0.1, "depths": [0, 30, 100],
                    "priors": {"b": (0.1, 0.9)}, "nan": float("nan"), "x": np.float64(1 / 3)},
                   "Method and parameters", method="Spline of Bishop et al. (1999).")
    doc = rep.to_html()
    box = re.search(r'<details class="params" open>.*?</details>', doc).group(0)
    assert "<summary>Method and parameters</summary>" in box
    assert "<p>Spline of Bishop et al. (1999).</p>" in box
    for k, v in [("seed", "42"), ("lambda", "0.1"), ("depths", "[0, 30, 100]"),
                 ("priors", html.escape('{"b": [0.1, 0.9]}')), ("nan", "NaN"),
                 ("x", "0.333333")]:
        assert f"<dt>{k}</dt><dd>{v}</dd>" in box
    rep.parameters({}, "empty", collapsed=True)
    assert '<details class="params"><summary>empty</summary><p>(no parameters)</p>' in (
        rep.to_html())
    with pytest.raises(InputDataError, match="mapping"):
        rep.parameters([("a", 1)])  # type: ignore[arg-type]


def test_text_is_escaped_and_links_are_the_callers() -> None:
    rep = Report("<t>")
    rep.text("a < b & c")
    rep.note("caveat")
    rep.bullets(["x<y"])
    rep.link("https://doi.org/10.5194/essd-5-393-2013", "Hugelius et al. (2013)",
             before="Data: ")
    doc = rep.to_html()
    assert "<title>&lt;t&gt;</title>" in doc
    assert "<p>a &lt; b &amp; c</p>" in doc
    assert '<p class="note">caveat</p>' in doc
    assert "<li>x&lt;y</li>" in doc
    # the only web address is the caller's link, which is not a resource
    assert re.findall(r"https?://[^\"'<\s]+", doc) == ["https://doi.org/10.5194/essd-5-393-2013"]
    assert external_references(doc) == []


def test_external_references_finds_resources() -> None:
    doc = ("<img src='https://x.org/a.png'><script src=\"//cdn.x/y.js\"></script>"
           "<link rel=stylesheet href='s.css'><a href='https://ok.org'>ok</a>"
           "<style>body{background:url(https://x.org/b.png)}</style><img src='data:image/png;'>")
    assert external_references(doc) == ["https://x.org/a.png", "//cdn.x/y.js", "s.css",
                                         "https://x.org/b.png"]


def test_print_styles_and_write(tmp_path: Path) -> None:
    rep = Report("t", root=tmp_path)
    rep.heading("s")
    rep.figure(_png(tmp_path), "f")
    out = rep.write(tmp_path / "report.html")
    doc = out.read_text(encoding="utf-8")
    assert "@media print" in doc and "break-inside:avoid" in doc
    assert 'addEventListener("beforeprint"' in doc  # parameter boxes unfold when printed
    assert external_references(doc) == []
    assert not re.search(r"https?://", doc)
    assert list(tmp_path.glob(".report.html.*")) == []  # atomic write left no temporary
