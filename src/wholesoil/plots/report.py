"""A self-contained HTML report: one file with its figures embedded, written atomically.

The report has a table of contents, sections with "method and parameters" boxes (filled from a
stage's ``run.json`` parameters), tables sortable by clicking their headers (a small inline script,
no library), figures embedded as ``data:`` URIs (the image files stay on disk and are linked), and
print-friendly styles. The document loads nothing from anywhere: no fonts, scripts, styles or
images from the network. The only ``http(s)`` addresses it can contain are the ones a caller
writes into a :meth:`Report.link`.

Examples
--------
>>> r = Report("wholesoil demo")
>>> r.heading("1. Data")
>>> r.text("524 pedons.")
>>> r.parameters({"seed": 42, "lambda": 0.1}, "Method and parameters")
>>> "<nav" in r.to_html()
True
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wholesoil._atomic import write_text
from wholesoil.errors import InputDataError

__all__ = ["Report", "external_references"]

#: MIME types of the figure formats that are embedded; other files are linked, not embedded.
_MIME = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}

_CSS = """
:root{--fg:#222;--muted:#555;--line:#ccc;--head:#eee;--box:#f4f7fb;--boxline:#9ab}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:var(--fg);line-height:1.45}
h1{border-bottom:2px solid #666}h2{margin-top:2em;border-bottom:1px solid #bbb}
h2,h3,h4{scroll-margin-top:0.5em}
nav.toc{background:#fafafa;border:1px solid var(--line);padding:0.4em 1em;font-size:0.9em}
nav.toc ol{margin:0.2em 0;padding-left:1.4em;list-style:none}nav.toc>ol>li{margin:0.15em 0}
nav.toc a{text-decoration:none}nav.toc a:hover{text-decoration:underline}
.tablewrap{overflow-x:auto;margin:0.6em 0}
table{border-collapse:collapse;font-size:0.85em}
td,th{border:1px solid var(--line);padding:2px 6px;text-align:right;vertical-align:top}
td.t,th.t{text-align:left}
th{background:var(--head);position:relative}
table.sortable th{cursor:pointer;user-select:none;padding-right:1.2em}
table.sortable th::after{content:"\\2195";position:absolute;right:0.25em;color:#999;
font-size:0.8em}
table.sortable th[aria-sort=ascending]::after{content:"\\25B2";color:#333}
table.sortable th[aria-sort=descending]::after{content:"\\25BC";color:#333}
figure.tbl{margin:0.8em 0}figure.tbl>figcaption{font-style:italic;font-size:0.9em;
color:var(--fg);padding:3px 0}
.capnote{font-size:0.85em;color:var(--muted);margin:0.1em 0 0.8em}
figure{margin:1em 0}figcaption{font-size:0.85em;color:#444}img{max-width:100%;height:auto}
figcaption a,.capnote a{color:var(--muted)}
.note{background:#f6f6e8;border-left:4px solid #cc9;padding:0.4em 0.8em}
details.params{background:var(--box);border-left:4px solid var(--boxline);
padding:0.3em 0.8em;margin:0.8em 0;font-size:0.88em}
details.params summary{cursor:pointer;font-weight:600}
details.params dl{display:grid;grid-template-columns:max-content 1fr;gap:0.1em 1em;margin:0.4em 0}
details.params dt{font-family:ui-monospace,monospace;color:#234}
details.params dd{margin:0;font-family:ui-monospace,monospace;white-space:pre-wrap;
word-break:break-word}
details.params p{margin:0.3em 0}
@media print{
body{max-width:none;margin:0;font-size:10pt}
nav.toc{break-after:page}
h2{break-before:page}h2,h3,h4{break-after:avoid}
figure,details.params{break-inside:avoid}figure.tbl{break-inside:auto}tr{break-inside:avoid}
table.sortable th::after{content:none}
.tablewrap{overflow:visible}
a{color:inherit}figcaption a,.capnote a{text-decoration:none}
}
"""

# Sorting: numbers by their ``data-v`` value (missing values last, in both directions), text by
# localeCompare; a second click reverses. Details boxes open before printing so nothing is hidden.
_JS = """
(function(){
"use strict";
function key(td,num){
 if(!td)return null;
 if(num){var v=td.getAttribute("data-v");if(v===null||v==="")return null;
  var x=parseFloat(v);return isNaN(x)?null:x;}
 return td.textContent;
}
function sortBy(th){
 var table=th.closest("table"),tbody=table.tBodies[0];if(!tbody)return;
 var col=th.cellIndex,num=th.getAttribute("data-type")==="num";
 var dir=th.getAttribute("aria-sort")==="ascending"?-1:1;
 var rows=Array.prototype.slice.call(tbody.rows);
 rows.sort(function(a,b){
  var ka=key(a.cells[col],num),kb=key(b.cells[col],num);
  if(ka===null&&kb===null)return 0;if(ka===null)return 1;if(kb===null)return -1;
  if(num)return dir*(ka-kb);
  return dir*ka.localeCompare(kb,undefined,{numeric:true});
 });
 var frag=document.createDocumentFragment();
 rows.forEach(function(r){frag.appendChild(r);});tbody.appendChild(frag);
 Array.prototype.forEach.call(th.parentNode.cells,function(c){c.removeAttribute("aria-sort");});
 th.setAttribute("aria-sort",dir===1?"ascending":"descending");
}
function init(){
 Array.prototype.forEach.call(document.querySelectorAll("table.sortable thead th"),function(th){
  th.setAttribute("tabindex","0");th.title="click to sort";
  th.addEventListener("click",function(){sortBy(th);});
  th.addEventListener("keydown",function(e){if(e.key==="Enter"||e.key===" "){
   e.preventDefault();sortBy(th);}});
 });
}
window.addEventListener("beforeprint",function(){
 Array.prototype.forEach.call(document.querySelectorAll("details"),function(d){d.open=true;});
});
if(document.readyState==="loading")document.addEventListener("DOMContentLoaded",init);else init();
})();
"""

_URL_ATTR = re.compile(r"""<(\w+)\b[^>]*?\b(src|href|data|poster|action)\s*=\s*["']([^"']*)["']""",
                       re.IGNORECASE)
_CSS_URL = re.compile(r"""url\(\s*["']?([^)"']*)""", re.IGNORECASE)


def external_references(document: str) -> list[str]:
    """Addresses in an HTML document that a browser would fetch from outside the file.

    Anchors (``<a href>``) are links the reader may follow, not resources, and are not listed;
    every other ``src``/``href``/``data`` attribute and CSS ``url(...)`` that is neither a
    ``data:`` URI nor an in-page ``#fragment`` is returned (``http(s)``, protocol-relative
    ``//host`` and relative file paths alike).

    Parameters
    ----------
    document : str
        The HTML text.

    Returns
    -------
    list of str
        The offending addresses, in document order (empty for a self-contained document).
    """
    found = []
    for m in _URL_ATTR.finditer(document):
        tag, url = m.group(1).lower(), m.group(3).strip()
        if tag == "a" or url.startswith(("data:", "#")) or not url:
            continue
        found.append(url)
    found += [u for u in _CSS_URL.findall(document) if u and not u.startswith(("data:", "#"))]
    return found


def _slug(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^\w]+", "-", text.lower(), flags=re.UNICODE).strip("-") or "section"
    slug, k = base, 2
    while slug in taken:
        slug, k = f"{base}-{k}", k + 1
    taken.add(slug)
    return slug


def _cell(value: Any, float_format: str) -> tuple[str, str | None]:
    """Displayed text and numeric sort key (None for text) of one table cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA \
            or value is pd.NaT:
        return "–", ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value)), None
    if isinstance(value, int | np.integer):
        return str(int(value)), repr(int(value))
    if isinstance(value, float | np.floating):
        x = float(value)
        if math.isinf(x):
            return ("∞" if x > 0 else "−∞"), ("Infinity" if x > 0 else "-Infinity")
        return float_format.format(x), repr(x)
    return str(value), None


def _flat_columns(df: pd.DataFrame) -> list[str]:
    if isinstance(df.columns, pd.MultiIndex):
        return [" ".join(str(p) for p in col if str(p)) for col in df.columns]
    return [str(c) for c in df.columns]


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    return str(obj)


def _value_text(value: Any) -> str:
    """A parameter value as compact text: scalars as themselves, containers as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, float | np.floating):
        return "NaN" if math.isnan(float(value)) else f"{float(value):.6g}"
    if isinstance(value, Path):
        return str(value)
    text = json.dumps(value, default=_json_default, ensure_ascii=False)
    if len(text) > 100 and isinstance(value, Mapping | list | tuple):
        text = json.dumps(value, default=_json_default, ensure_ascii=False, indent=1)
    return text


@dataclass
class Report:
    """An HTML report built section by section, written as one self-contained file.

    Parameters
    ----------
    title : str
        Title of the document (also its first heading).
    parts : list of str
        HTML fragments in order (filled by the methods below).
    root : path-like, optional
        Folder the report will be written to; default for the ``relative_to`` argument of
        :meth:`figure` and :meth:`table` (links to figure and CSV files are relative to it).
    toc : bool
        Put a table of contents (headings of level 2 and 3) after the title.
    embed : bool
        Embed figures as ``data:`` URIs (default); with ``False`` figures are referenced by
        relative path and the report needs its ``figures/`` folder beside it.

    Examples
    --------
    >>> r = Report("wholesoil demo")
    >>> r.heading("Data")
    >>> r.text("524 pedons.")
    """

    title: str
    parts: list[str] = field(default_factory=list)
    root: str | os.PathLike[str] | None = None
    toc: bool = True
    embed: bool = True
    _headings: list[tuple[int, str, str]] = field(default_factory=list, init=False, repr=False)
    _ids: set[str] = field(default_factory=set, init=False, repr=False)

    # ------------------------------------------------------------------ text
    def heading(self, text: str, level: int = 2) -> str:
        """Add a section heading; returns its anchor id (for links within the report)."""
        if not 2 <= level <= 6:
            raise InputDataError("heading level must be 2…6 (1 is the title)", field="level",
                                 value=level)
        anchor = _slug(text, self._ids)
        self._headings.append((level, anchor, text))
        self.parts.append(f'<h{level} id="{anchor}">{html.escape(text)}</h{level}>')
        return anchor

    def text(self, text: str, *, note: bool = False) -> None:
        """Add a paragraph (plain text, escaped); ``note=True`` sets it off as a remark."""
        cls = ' class="note"' if note else ""
        self.parts.append(f"<p{cls}>{html.escape(text)}</p>")

    def note(self, text: str) -> None:
        """Add a remark set off from the text (what a result means, a caveat)."""
        self.text(text, note=True)

    def bullets(self, items: Sequence[str]) -> None:
        """Add a bullet list (plain text items, escaped)."""
        li = "".join(f"<li>{html.escape(str(i))}</li>" for i in items)
        self.parts.append(f"<ul>{li}</ul>")

    def link(self, href: str, text: str | None = None, *, before: str = "",
             after: str = "") -> None:
        """Add a paragraph with one link the reader may follow (``before`` link ``after``).

        The address is the caller's: a web page (``https://doi.org/…``) or a file relative to
        the report. Links are not fetched when the report opens.
        """
        a = f'<a href="{html.escape(href)}">{html.escape(text or href)}</a>'
        self.parts.append(f"<p>{html.escape(before)}{a}{html.escape(after)}</p>")

    def raw_html(self, fragment: str) -> None:
        """Add a raw HTML fragment (the caller is responsible for escaping it)."""
        self.parts.append(fragment)

    # ------------------------------------------------------------ parameters
    def parameters(
        self,
        params: Mapping[str, Any],
        caption: str = "Method and parameters",
        *,
        method: str | None = None,
        collapsed: bool = False,
    ) -> None:
        """Add a "method and parameters" box: a definition list of ``params``.

        Parameters
        ----------
        params : mapping
            E.g. a stage's ``run.json`` parameters. Each key is a row; scalars are shown as they
            are (floats to 6 significant digits), lists and mappings as compact JSON.
        caption : str
            The box's summary line.
        method : str, optional
            A sentence on the method (cited), shown above the list.
        collapsed : bool
            Start folded (the reader clicks the caption to unfold; printing unfolds every box).
        """
        if not isinstance(params, Mapping):
            raise InputDataError("parameters must be a mapping of name to value",
                                 field="params", value=type(params).__name__)
        rows = "".join(
            f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(_value_text(v))}</dd>"
            for k, v in params.items()
        )
        body = f"<p>{html.escape(method)}</p>" if method else ""
        body += f"<dl>{rows}</dl>" if rows else "<p>(no parameters)</p>"
        self.parts.append(
            f'<details class="params"{"" if collapsed else " open"}>'
            f"<summary>{html.escape(caption)}</summary>{body}</details>"
        )

    # ----------------------------------------------------------------- table
    def table(
        self,
        df: pd.DataFrame,
        caption: str = "",
        *,
        max_rows: int = 40,
        float_format: str = "{:.4g}",
        csv: str | os.PathLike[str] | None = None,
        relative_to: str | os.PathLike[str] | None = None,
        sortable: bool = True,
    ) -> None:
        """Add a table, sortable by clicking a column header.

        Parameters
        ----------
        df : pandas.DataFrame
            The table (its index is not shown; reset it first to show it).
        caption : str
            Caption above the table.
        max_rows : int
            Rows shown; a note under the table says how many were left out and links ``csv``.
        float_format : str
            Format of floating-point cells; sorting uses the full-precision value.
        csv : path-like, optional
            The full table on disk, linked under the table (relative to ``relative_to``, default
            the report's ``root``).
        sortable : bool
            Make the headers sort the rows.
        """
        if not isinstance(df, pd.DataFrame):
            raise InputDataError("table expects a pandas DataFrame", field="df",
                                 value=type(df).__name__)
        shown = df.head(max_rows)
        columns = _flat_columns(df)
        is_num = [
            pd.api.types.is_numeric_dtype(df.iloc[:, j]) and not pd.api.types.is_bool_dtype(
                df.iloc[:, j])
            for j in range(df.shape[1])
        ]
        head = "".join(
            f'<th scope="col" class="{"n" if num else "t"}" data-type="{"num" if num else "text"}"'
            f">{html.escape(c)}</th>"
            for c, num in zip(columns, is_num, strict=True)
        )
        rows = []
        for rec in shown.itertuples(index=False, name=None):
            cells = []
            for value, num in zip(rec, is_num, strict=True):
                text, key = _cell(value, float_format)
                attr = f' data-v="{key}"' if num and key is not None else ""
                cells.append(f'<td class="{"n" if num else "t"}"{attr}>{html.escape(text)}</td>')
            rows.append(f"<tr>{''.join(cells)}</tr>")
        cls = ' class="sortable"' if sortable else ""
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        out = (f'<figure class="tbl">{cap}<div class="tablewrap"><table{cls}>'
               f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")
        note = ""
        href = self._relative(csv, relative_to) if csv is not None else None
        if len(df) > max_rows:
            where = (f'full table: <a href="{html.escape(href)}">{html.escape(href)}</a>'
                     if href else "full table in the CSV")
            note = f"showing the first {max_rows} of {len(df)} rows; {where}"
        elif href:
            note = f'as CSV: <a href="{html.escape(href)}">{html.escape(href)}</a>'
        if note:
            out += f'<p class="capnote">{note}</p>'
        self.parts.append(out + "</figure>")

    # ---------------------------------------------------------------- figure
    def figure(
        self,
        path: str | os.PathLike[str],
        caption: str,
        *,
        relative_to: str | os.PathLike[str] | None = None,
        embed: bool | None = None,
    ) -> None:
        """Add a figure from an image file, embedded in the document as a ``data:`` URI.

        Parameters
        ----------
        path : path-like
            The image on disk (PNG, JPEG, GIF, SVG or WebP). It stays there and the caption
            links it (relative to ``relative_to``, default the report's ``root``).
        caption : str
            Caption under the figure (also the image's alternative text).
        embed : bool, optional
            Override the report's ``embed`` setting for this figure.
        """
        p = Path(path)
        rel = self._relative(p, relative_to)
        do_embed = self.embed if embed is None else embed
        if do_embed:
            mime = _MIME.get(p.suffix.lower())
            if mime is None:
                raise InputDataError(f"cannot embed a {p.suffix or 'suffix-less'} file as a "
                                     f"figure; expected one of {sorted(_MIME)}", file=str(p))
            try:
                data = p.read_bytes()
            except FileNotFoundError:
                raise InputDataError("figure file not found (save it before adding it to the "
                                     "report)", file=str(p)) from None
            src = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        else:
            src = rel
        self.parts.append(
            f'<figure><img src="{html.escape(src)}" alt="{html.escape(caption)}">'
            f'<figcaption>{html.escape(caption)} <a href="{html.escape(rel)}">'
            f"[{html.escape(p.name)}]</a></figcaption></figure>"
        )

    # -------------------------------------------------------------- document
    def _relative(self, path: str | os.PathLike[str],
                  relative_to: str | os.PathLike[str] | None) -> str:
        base = relative_to if relative_to is not None else self.root
        if base is None:
            return Path(path).as_posix()
        return Path(os.path.relpath(Path(path), Path(base))).as_posix()

    def _toc(self) -> str:
        """Nested ordered list of the level-2 headings, each with its level-3 headings."""
        groups: list[tuple[str, list[str]]] = []
        for lvl, anchor, text in self._headings:
            item = f'<a href="#{anchor}">{html.escape(text)}</a>'
            if lvl == 2 or (lvl == 3 and not groups):
                groups.append((item, []))
            elif lvl == 3:
                groups[-1][1].append(item)
        if not self.toc or sum(1 + len(sub) for _, sub in groups) < 2:
            return ""
        lis = "".join(
            f"<li>{top}" + (f"<ol>{''.join(f'<li>{s}</li>' for s in sub)}</ol>" if sub else "")
            + "</li>"
            for top, sub in groups
        )
        return (f'<nav class="toc" aria-label="contents"><strong>Contents</strong><ol>{lis}</ol>'
                "</nav>")

    def to_html(self) -> str:
        """The whole document (self-contained: styles, script and figures inline)."""
        return (
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{html.escape(self.title)}</h1>{self._toc()}\n" + "\n".join(self.parts)
            + f"\n<script>{_JS}</script></body></html>\n"
        )

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the report atomically; returns ``path``."""
        return write_text(path, self.to_html())
