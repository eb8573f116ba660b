"""The documentation: the MkDocs site builds offline without warnings, with every page.

The build runs ``mkdocs build --strict`` on a copy of ``mkdocs.yml`` and ``docs/`` in a temporary
folder (``src`` and ``tests`` linked in, since the generators read them), so nothing in the
repository is written. Skipped, with the reason, where MkDocs and its plugins are not installed
(``pip install mkdocs mkdocs-material 'mkdocstrings[python]'``, the ``docs`` extra).

The equations page is checked against the code: every line of ``src/wholesoil`` that a plain
``grep -E 'Eqs?\\.'`` finds is indexed, every science module that names an equation has a row in
the curated table, and every paper the code cites is on the page by its label, with its full
citation and DOI.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GEN = REPO / "docs" / "_gen"
#: The papers by the label the code cites them with, and their DOIs (None: no DOI yet).
PAPERS = {
    "Wang H. et al. (2025)": "10.5281/zenodo.14787023",
    "Wang G. et al. (2025)": "10.1016/j.scib.2025.06.006",
    "He et al. (2024)": "10.1038/s41586-023-06999-1",
    "Tao et al. (2024)": "10.1038/s41586-023-07000-9",
    "Tao et al. (EarthArXiv)": None,
    "Wang G. et al. (manuscript)": None,
}

PAGES = [
    "index.html",
    "getting-started/index.html",
    "cli/index.html",
    "equations/index.html",
    "validations/index.html",
    *(f"howto/{p}/index.html" for p in (
        "wosis", "israd", "rasters", "dask", "process-models", "calibration", "radiocarbon",
        "drivers", "data-safety")),
    "api/index.html",
    *(f"api/{p}/index.html" for p in (
        "profiles", "depth", "mapping", "models", "assimilation", "proda",
        "radiocarbon", "stats", "io", "datasets", "workflows", "utilities")),
]


@functools.cache
def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_docs_gen_{name}", GEN / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _missing_docs_tools() -> str | None:
    for mod, pip in (("mkdocs", "mkdocs"), ("material", "mkdocs-material"),
                     ("mkdocstrings", "mkdocstrings"), ("mkdocstrings_handlers.python",
                                                        "mkdocstrings-python")):
        try:
            found = importlib.util.find_spec(mod)
        except ModuleNotFoundError:
            found = None
        if found is None:
            return f"{pip} is not installed (pip install -e '.[docs]')"
    return None


@functools.cache
def _mentions():
    return _load("equations").scan()


# ----------------------------------------------------------------- generators (fast)
def test_equations_index_covers_every_grep_hit_and_every_paper():
    eq = _load("equations")
    mentions = _mentions()
    # the same count as `grep -rE 'Eqs?\.' src/wholesoil --include=*.py | wc -l`
    grep = sum(sum(1 for line in p.read_text(encoding="utf-8").splitlines()
                   if re.search(r"Eqs?\.", line))
               for p in (REPO / "src" / "wholesoil").rglob("*.py"))
    assert len(mentions) == grep
    assert len({m.line for m in mentions if m.module == "wholesoil.models._clm5"}) > 0
    page = eq.render(mentions, grep)
    assert set(eq.PAPERS) == set(PAPERS)
    for label, doi in PAPERS.items():
        anchor = eq.PAPERS[label][0]
        assert f'<a id="{anchor}"></a>' in page, label          # the full citation
        assert f"[{label}](#{anchor})" in page, label           # linked from the tables
        if doi:
            assert f"https://doi.org/{doi}" in page, label
    # the index attributes lines to the papers by label, no longer to "seed 00N"
    assert not re.search(r"\bseeds? 00\d", page, re.IGNORECASE)
    by_source = {lab: sum(lab in m.source for m in mentions) for lab in PAPERS}
    assert all(n > 0 for lab, n in by_source.items() if lab != "Tao et al. (2024)"), by_source


def test_sources_in_finds_paper_labels_in_every_form():
    eq = _load("equations")
    text = ("as in Wang G. et al.'s (manuscript) ensemble, He et al. (2024, Table 1) and Tao et "
            "al. (EarthArXiv) Eq. 2; Wieder et al. (2015); Wang H. et al. (2025) §2.7")
    assert eq.sources_in(text) == ["Wang G. et al. (manuscript)", "He et al. (2024)",
                                   "Tao et al. (EarthArXiv)", "Wang H. et al. (2025)",
                                   "Wieder et al. (2015)"]


def test_every_science_module_naming_an_equation_has_a_curated_row():
    eq = _load("equations")
    missing = eq.uncurated(_mentions())
    assert missing == [], (
        f"add a row for {missing} to CURATED in docs/_gen/equations.py (module, equations, "
        "what, source)")
    for row in eq.CURATED:
        for part in row[0].split(","):
            path = REPO / "src" / "wholesoil" / (part.strip().replace(".", "/") + ".py")
            assert path.exists(), f"CURATED names {part.strip()!r}, which has no file {path}"


def test_equation_labels_are_expanded_as_written():
    eq = _load("equations")
    assert eq.expand("10–14") == ["10", "11", "12", "13", "14"]
    assert eq.expand("3, 6 and 7") == ["3", "6", "7"]
    assert eq.expand("(1)–(2)") == ["1", "2"]
    assert eq.expand("9b") == ["9b"]
    assert eq.expand("3-13", plural=False) == ["3-13"]  # one chapter-numbered equation
    assert eq.expand("9-10", plural=True) == ["9", "10"]


def test_validations_page_cites_every_test_file_and_reference_file():
    page = _load("validations").render()
    for path in sorted((REPO / "tests").rglob("test_*.py")):
        assert f"`{path.relative_to(REPO).as_posix()}`" in page
    for path in sorted((REPO / "tests" / "reference").iterdir()):
        assert f"`{path.relative_to(REPO).as_posix()}`" in page
    for peer in ("lme4", "deSolve", "mpspline2", "earth 5.3.2", "caret 6.0-93", "Montgomery"):
        assert peer in page, peer
    # the page is built from the tests' docstrings: they cite the papers, not "seed 00N"
    assert not re.search(r"\bseeds? 00\d", page, re.IGNORECASE)


# ----------------------------------------------------------------- the site (slow)
@pytest.mark.slow
def test_mkdocs_builds_strict_offline_with_every_page(tmp_path):
    reason = _missing_docs_tools()
    if reason:
        pytest.skip(reason)
    work = tmp_path / "repo"
    work.mkdir()
    shutil.copy(REPO / "mkdocs.yml", work / "mkdocs.yml")
    shutil.copytree(REPO / "docs", work / "docs")
    for name in ("src", "tests"):
        (work / name).symlink_to(REPO / name, target_is_directory=True)
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=work, capture_output=True, text=True, env=env, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "WARNING" not in proc.stderr, proc.stderr[-4000:]

    for page in PAGES:
        assert (site / page).is_file(), page

    html = {p: (site / p).read_text(encoding="utf-8") for p in PAGES}
    # offline: no script, stylesheet or font fetched from another host
    for page, text in html.items():
        external = re.findall(r'<(?:script|link)\b[^>]*(?:src|href)="(?:https?:)?//[^"]*"', text)
        assert external == [], (page, external[:3])
    # the generated pages
    for label, doi in PAPERS.items():
        assert label in html["equations/index.html"], label
        if doi:
            assert f"https://doi.org/{doi}" in html["equations/index.html"], label
    assert "wholesoil.models._clm5" in html["equations/index.html"]
    assert "tests/reference/mixed_reference.R" in html["validations/index.html"]
    for command in ("qc", "harmonize", "density", "beta", "train", "predict", "stocks",
                    "simulate", "sensitivity", "assimilate", "demo", "inputs", "mixed",
                    "anova", "c14 age"):
        assert f"wholesoil {command}" in html["cli/index.html"], command
    # the API reference is generated from the docstrings, constants included (#: comments)
    api = html["api/depth/index.html"]
    assert 'id="wholesoil.depth.beta_cumulative_fraction"' in api
    assert 'id="wholesoil.depth.JACKSON_1996_BETA"' in api
    assert "Eq. 2" in api
    # the build did not write into the repository's docs
    assert not (REPO / "docs" / "site").exists()
