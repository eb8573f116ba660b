"""A small, self-contained HTML report: headings, text, tables and figures, written atomically."""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from wholesoil._atomic import write_text

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{border-bottom:2px solid #666}h2{margin-top:2em;border-bottom:1px solid #bbb}
table{border-collapse:collapse;font-size:0.85em;margin:0.6em 0}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
th{background:#eee}caption{caption-side:top;text-align:left;font-style:italic;padding:3px}
figure{margin:1em 0}figcaption{font-size:0.85em;color:#444}img{max-width:100%}
.note{background:#f6f6e8;border-left:4px solid #cc9;padding:0.4em 0.8em}
"""


@dataclass
class Report:
    """An HTML report built section by section.

    Examples
    --------
    >>> r = Report("wholesoil demo")
    >>> r.heading("Data")
    >>> r.text("524 pedons.")
    """

    title: str
    parts: list[str] = field(default_factory=list)

    def heading(self, text: str, level: int = 2) -> None:
        """Add a section heading."""
        self.parts.append(f"<h{level}>{html.escape(text)}</h{level}>")

    def text(self, text: str, *, note: bool = False) -> None:
        """Add a paragraph (plain text, escaped)."""
        cls = ' class="note"' if note else ""
        self.parts.append(f"<p{cls}>{html.escape(text)}</p>")

    def bullets(self, items: list[str]) -> None:
        """Add a bullet list."""
        li = "".join(f"<li>{html.escape(i)}</li>" for i in items)
        self.parts.append(f"<ul>{li}</ul>")

    def table(
        self,
        df: pd.DataFrame,
        caption: str = "",
        *,
        max_rows: int = 40,
        float_format: str = "{:.4g}",
    ) -> None:
        """Add a table (first ``max_rows`` rows; the caption says when rows are left out)."""
        shown = df.head(max_rows)
        cap = caption
        if len(df) > max_rows:
            cap = f"{caption} (first {max_rows} of {len(df)} rows; full table in the CSV)"
        body = shown.to_html(index=False, na_rep="–", float_format=float_format.format, border=0)
        head, rest = body.split(">", 1)  # insert the caption right after the <table ...> tag
        self.parts.append(f"{head}><caption>{html.escape(cap)}</caption>{rest}")

    def figure(self, path: str | os.PathLike[str], caption: str, *, relative_to: Path) -> None:
        """Add a figure by path (stored relative to the report's folder)."""
        rel = os.path.relpath(Path(path), relative_to)
        self.parts.append(
            f'<figure><img src="{html.escape(rel)}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )

    def to_html(self) -> str:
        """The whole document."""
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{html.escape(self.title)}</h1>" + "\n".join(self.parts) + "</body></html>\n"
        )

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the report atomically."""
        return write_text(path, self.to_html())
