"""Every relative link in the README and under docs/ points to a file of the repository.

The pages MkDocs generates (``docs/cli.md``, ``docs/equations.md``, ``docs/validations.md``) are
committed, so a link to them works when the Markdown is read in the repository as well as in
the built site (the strict build in tests/test_docs.py checks the site's links). Offline: web
addresses are not fetched, only their form is checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"```.*?```", re.S)


def _pages() -> list[Path]:
    return [REPO / "README.md",
            *sorted(p for p in (REPO / "docs").rglob("*.md") if "_gen" not in p.parts)]


def _links(page: Path) -> list[str]:
    return [m.group(1) for m in LINK.finditer(FENCE.sub("", page.read_text(encoding="utf-8")))]


def _anchors(page: Path) -> set[str]:
    """Heading anchors as MkDocs (Python-Markdown toc) writes them, and explicit HTML ids."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    out = set(re.findall(r"""\b(?:id|name)=["']([^"']+)["']""", text))
    for line in text.splitlines():
        m = re.match(r"#{1,6}\s+(.*)", line)
        if m:
            text = re.sub(r"[`*_]", "", m.group(1)).strip().lower()
            slug = re.sub(r"[^\w\s-]", "", text)
            out.add(re.sub(r"[-\s]+", "-", slug).strip("-"))
    return out


@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(page):
    broken = []
    for target in _links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):   # https:, mailto: … (not fetched)
            assert re.match(r"^(https?://[^\s]+|mailto:[^\s]+)$", target), target
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target} (no file {dest.relative_to(REPO)})")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target} (no heading #{anchor} in {dest.relative_to(REPO)})")
    assert not broken, f"{page.relative_to(REPO)}: " + "; ".join(dict.fromkeys(broken))
