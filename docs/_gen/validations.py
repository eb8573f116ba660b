"""Write ``docs/validations.md``: each reference value the tests check and where it comes from.

Two parts:

1. a curated summary (:data:`PEERS`, kept by hand): peer program or paper → what is compared →
   test files;
2. a generated index: for every test file, its docstring (which states its references), and for
   every test function the comments and docstring lines in it that name a source (a peer
   program, a paper, a table, an exact or closed form …); then the files of
   ``tests/reference/`` with the header that says how each was produced.

Run ``python docs/_gen/validations.py [OUT]``; the MkDocs hook runs it before every build.
"""

from __future__ import annotations

import ast
import io
import json
import re
import sys
import tokenize
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TESTS = REPO / "tests"

#: (source, what is compared, test files) — the peer programs and papers the tests check against.
PEERS: list[tuple[str, str, str]] = [
    ("R mpspline2 0.1.x (README example)", "equal-area spline layer means 6.105160, 5.618341, "
     "4.316876, 4.192058, 9.732400 (1e-6); NA below the last horizon; 1-cm logic re-implemented "
     "for random profiles", "tests/profiles/test_spline.py, tests/cli/test_cli.py; "
     "tests/reference/mpspline2_readme.md"),
    ("R 4.2.2 stats::aov, TukeyHSD, ptukey/qtukey; agricolae::duncan.test transcribed in base R",
     "one-way ANOVA (F, df, p, sums of squares), Tukey HSD, Duncan critical ranges, p-values and "
     "letters on PlantGrowth and chickwts", "tests/stats/test_anova.py; "
     "tests/reference/anova_reference.R/.json"),
    ("Montgomery, Design and Analysis of Experiments, Example 3-1 (Table 3-1)", "ANOVA of "
     "tensile strength by cotton percentage and the letters of the textbook's conclusion",
     "tests/stats/test_anova.py, tests/stats/test_cli_stats.py"),
    ("R lme4 1.1-31 + performance 0.10.2 / insight 0.19.0", "fixed effects (1e-4 rel.), "
     "variance components (1e-3 rel.), Nakagawa R² and ICC (1e-3 abs.), conditional fitted "
     "values on sleepstudy, a seed-002-shaped set and Pastes (REML and ML); the CLI report on "
     "515 NCSCD pedons", "tests/stats/test_mixed.py, tests/stats/test_cli_stats.py; "
     "tests/reference/mixed_reference.R/.json"),
    ("R caret 6.0-93 findCorrelation / findLinearCombos", "removed columns and linear "
     "combinations on USJudgeRatings, longley, mtcars, a synthetic seed-004 table and "
     "hand-made tied matrices", "tests/stats/test_collinearity.py; "
     "tests/reference/collinearity_reference.R/.json"),
    ("R stats::prcomp", "grouped PCA eigenvalues, rotations (up to sign) and scores",
     "tests/stats/test_grouped_pca.py; tests/reference/collinearity_reference.R/.json"),
    ("R earth 5.3.2", "MARS forward and backward passes, knots, RSS, RSq, GCV, GRSq, "
     "coefficients (1e-9 rel.), automatic spans", "tests/mapping/test_mars.py; "
     "tests/reference/mars_reference.R/.json"),
    ("R 4.2.2 + deSolve lsoda as SoilR OnepModel14 runs it", "one-pool bulk-soil Δ14C for "
     "k = 0.01, 0.1, 1 yr⁻¹ in 1942, 1963, 1970, 2019 (Hua 2021 NH zone 1, λ = ln 2/5730), "
     "to 2e-6 ‰", "tests/radiocarbon/test_onepool.py, tests/radiocarbon/test_cli_c14.py"),
    ("R splinefun (fmm)", "the Hua 2021 NH zone 1 curve interpolated at 1942, 1963.5, 1970.25, "
     "2005, 2019 (1e-8 ‰)", "tests/radiocarbon/test_atmosphere.py"),
    ("SoilR constants", "λ = ln 2/5730 = 1.209681e-4 yr⁻¹ (OnepModel14 default)",
     "tests/radiocarbon/test_atmosphere.py"),
    ("scipy solve_ivp (DOP853, rtol 1e-12)", "the one-pool model forced by the bomb curve",
     "tests/radiocarbon/test_onepool.py"),
    ("Hua et al. (2022), IntCal20 / SHCal20", "bundled curves: coverage, bomb peak, F14C "
     "against Hua's own F14C (0.002)", "tests/test_datasets.py, "
     "tests/radiocarbon/test_atmosphere.py"),
    ("Wang H. et al. (2025) Eq. 1, Eqs. 2–3, Eqs. 4–5, Eq. 6", "SOC density, β model closed forms "
            "and "
     "fitting, R² and RMSE worked by hand, stocks by closed form",
     "tests/profiles/test_density.py, tests/depth/test_beta.py, tests/mapping/test_cv.py, "
     "tests/workflows/test_demo_helpers.py, tests/mapping/test_stocks.py, "
     "tests/workflows/test_grid_jobs.py"),
    ("Wang G. et al. (2025) Fig. 1e, Fig. S1", "depth bands 0–30, 30–100, 100–200 cm; partial "
                                               "correlations "
     "against exact definitions (residual correlations, Fisher's three-variable formula, "
     "scipy pearsonr/spearmanr)", "tests/mapping/test_cv.py, tests/stats/test_partial.py"),
    ("He et al. (2024) Fig. 1; Tao et al. (2024)", "direction of the input elasticity "
     "as β rises; elasticities recomputed from reported SOC", "tests/models/test_mimics.py, "
     "tests/models/test_tao2024.py, tests/workflows/test_sensitivity_job.py"),
    ("Tao et al. (EarthArXiv) Supplementary Tables 1–2, Eqs. 2–14, §2.1, §2.6", "CLM5/COMPAS "
            "parameters and "
     "priors, Eq. 9 closed form, diagnostics transcribed from PRODA's fun_bulk_process.m, "
     "profile filters, Gelman–Rubin formula, costs", "tests/models/test_clm5.py, "
     "tests/models/test_compas.py, tests/models/test_diagnostics.py, tests/profiles/test_qc.py, "
     "tests/assimilation/test_diagnostics.py, tests/assimilation/test_costs.py"),
    ("CTSM source (SoilBiogeochemDecompCascadeBGCMod, VerticalProfileMod, LittVertTranspMod, "
     "initVerticalMod)", "environmental scalars, litter allocation, mixing, the 20-layer grid",
     "tests/models/test_scalars.py, tests/models/test_allocation.py, "
     "tests/models/test_transport.py, tests/models/test_vertical.py"),
    ("Wang G. et al. (manuscript) Methods, Eqs. 4–6, Extended Data Table 1", "conversions, I_bulk, "
            "I_root, "
     "I_loss by hand; the six estimates", "tests/radiocarbon/test_inputs.py, "
     "tests/radiocarbon/test_atmosphere.py"),
    ("Wieder et al. (2015) reference script MIMIC2_LIDET_GMDD_2015_public.R", "MIMICS parameter "
     "formulas and right-hand side, transcribed independently", "tests/models/test_mimics.py"),
    ("Millennial v2 release (Zenodo 10.5281/zenodo.6353519)", "fitted parameter file and the "
     "reference equations (derivs_V2_MM.R)", "tests/models/test_millennial.py"),
    ("Jackson et al. (1996), Schenk & Jackson (2002)", "root distributions in closed form",
     "tests/depth/test_roots.py"),
    ("Metzler & Sierra (2018)", "ages and transit times against quadrature of e^{aM}·u "
     "(scipy expm)", "tests/models/test_ages.py"),
    ("Haario et al. (2001); exact Gaussian targets", "adaptive Metropolis means and covariances",
     "tests/assimilation/test_mcmc.py"),
    ("simulation-based calibration", "90 % credible intervals cover the truth in 80–97 % of 50 "
     "synthetic profiles", "tests/assimilation/test_coverage_sbc.py"),
    ("finite differences (float64)", "gradients of the differentiable CLM5 steady state, "
     "relative error < 1e-5", "tests/assimilation/proda/test_differentiable.py"),
    ("scikit-learn 1.9", "estimator checks of every learner; permutation importance",
     "tests/mapping/test_estimator_checks.py, tests/mapping/test_interpret.py"),
    ("known simulated functions", "90 % prediction-interval coverage of 85–95 % on held-out "
     "points", "tests/mapping/test_coverage_acceptance.py"),
    ("global-land-mask 1.0.0; CIA World Factbook", "land area north of 60°N and of the globe",
     "tests/mapping/test_regions.py"),
    ("GDAL (gdalinfo 3.6.2), rioxarray 0.19 reproject_match", "NetCDF-CF and COG outputs "
     "read back; regridding", "tests/io/test_grid.py"),
    ("Ishigami function (exact Sobol indices)", "Sobol' indices",
     "tests/models/test_sensitivity.py"),
    ("textbook systems (cubic, toggle switch, Lotka–Volterra)", "every root and its stability",
     "tests/models/test_nonlinear.py"),
    ("numpy dense LU", "batched Thomas and block-Thomas solvers",
     "tests/models/test_blocksolve.py"),
]

#: A comment or docstring line names a source when it matches this.
SOURCE = re.compile(
    r"\b(R \d|R's|\bR\b|lme4|performance|deSolve|SoilR|mpspline2|earth|caret|agricolae|"
    r"Montgomery|scipy|numpy|scikit-learn|sklearn|statsmodels|closed form|closed-form|exact|"
    r"by hand|hand[- ]|seed 00\d|Seed 00\d|Table|Fig\.|Eqs?\.|Hua|IntCal|PRODA|CTSM|worked|"
    r"[Rr]eference|[Pp]eer|Based on|textbook|GDAL|gdalinfo|rioxarray|Ishigami|FAO|"
    r"et al\.|\(\d{4}\)|Friedman|Metzler|Haario|Gelman|Nakagawa|Coulston|Meinshausen|spec)"
)


def _md(s: str) -> str:
    s = s.replace("``", "`")
    s = s.replace("\\", "\\\\")
    for ch in "*_[]|$":
        s = s.replace(ch, "\\" + ch)
    return s.replace("<", "&lt;").replace(">", "&gt;").replace("`", "")


def _tests(tree: ast.Module) -> list[tuple[int, int, str, str]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            out.append((first, node.end_lineno or node.lineno, node.name,
                        ast.get_docstring(node) or ""))
    return sorted(out)


def _comments(src: str) -> list[tuple[int, str]]:
    return [(tok.start[0], tok.string.lstrip("#").strip())
            for tok in tokenize.generate_tokens(io.StringIO(src).readline)
            if tok.type == tokenize.COMMENT]


def _notes(comments: list[tuple[int, str]], start: int, end: int, doc: str) -> list[str]:
    """Source-naming comment blocks inside lines [start, end] and the test's docstring."""
    notes: list[str] = []
    if doc and SOURCE.search(doc):
        notes.append(" ".join(doc.split()))
    block: list[str] = []
    last = -2
    inside = [(ln, t) for ln, t in comments if start <= ln <= end]
    for line, text in [*inside, (10**9, "")]:
        if line != last + 1 and block:
            joined = " ".join(block)
            if SOURCE.search(joined) and "noqa" not in joined[:8]:
                notes.append(joined)
            block = []
        if text:
            block.append(text)
        last = line
    return notes


def _clip(s: str, n: int = 400) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def test_index() -> list[str]:
    out: list[str] = []
    for path in sorted(TESTS.rglob("test_*.py")):
        rel = path.relative_to(REPO).as_posix()
        src = path.read_text(encoding="utf-8")
        tree = ast.parse(src)
        doc = ast.get_docstring(tree) or ""
        out += [f"### `{rel}`", ""]
        if doc:
            out += ["> " + _md(line) if line else ">" for line in doc.splitlines()]
            out.append("")
        rows = []
        comments = _comments(src)
        for first, last, name, tdoc in _tests(tree):
            for note in _notes(comments, first, last, tdoc):
                rows.append(f"| `{name}` | {_md(_clip(' '.join(note.split())))} |")
        if rows:
            out += ["| test | source named in the test |", "|---|---|", *rows, ""]
    return out


def reference_index() -> list[str]:
    out = ["| file | how it was produced |", "|---|---|"]
    for path in sorted((TESTS / "reference").iterdir()):
        rel = path.relative_to(REPO).as_posix()
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                data = {}
            meta = {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(
                data, dict) else {}
            how = "; ".join(f"{k}: {v}" for k, v in meta.items()) or "JSON"
        elif path.suffix == ".R":
            head = []
            for line in text.splitlines():
                if not line.startswith("#"):
                    break
                head.append(line.lstrip("#").strip())
            how = " ".join(h for h in head if h)
        elif path.suffix == ".md":
            lines = [ln for ln in text.splitlines() if ln.strip()]
            how = " ".join(lines[:4])
        else:
            how = f"data set ({len(text.splitlines()) - 1} rows), read by the R script beside it"
        out.append(f"| `{rel}` | {_md(_clip(' '.join(how.split()), 600))} |")
    return out


def render() -> str:
    n_tests = sum(len(_tests(ast.parse(p.read_text(encoding="utf-8"))))
                  for p in TESTS.rglob("test_*.py"))
    out = [
        "# Validations",
        "",
        "Every number a test asserts comes from a named source: a worked value in a paper, an "
        "exact answer (closed form, high-precision computation), a limiting case, a gradient "
        "check, or the output of a peer program run on the same data (the program and its "
        "version are recorded beside the values). This page lists them. The summary is "
        "curated; the index below it is generated by `docs/_gen/validations.py` from the "
        f"test files ({n_tests} test functions) and `tests/reference/`.",
        "",
        "Run them with `.venv/bin/python -m pytest -m \"not slow\"` (then `-m slow`); CI runs "
        "both.",
        "",
        "## Peer programs and papers (curated)",
        "",
        "| source | what is compared | tests |",
        "|---|---|---|",
        *[f"| {_md(s)} | {_md(w)} | {_md(t)} |" for s, w, t in PEERS],
        "",
        "## Reference files (`tests/reference/`)",
        "",
        "Values produced by peer programs are stored with the script that produced them, so "
        "the tests never need R:",
        "",
        *reference_index(),
        "",
        "## Every test file and the sources its tests name (generated)",
        "",
        "Each file's docstring states where its reference values come from; the table under "
        "it quotes the comments in each test that name a source.",
        "",
        *test_index(),
    ]
    return "\n".join(out) + "\n"


def generate(out: Path | None = None) -> str:
    page = render()
    if out is not None and (not out.exists() or out.read_text(encoding="utf-8") != page):
        out.write_text(page, encoding="utf-8")
    return page


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else HERE.parent / "validations.md"
    generate(out)
    print(f"validations -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
