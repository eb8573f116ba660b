"""Write ``docs/equations.md``: every equation wholesoil implements, with its source.

Two parts:

1. a curated table (:data:`CURATED`, kept by hand): module → equations → paper;
2. a generated index: every line of ``src/wholesoil`` that mentions an equation (``Eq. 3``,
   ``Eqs. 10–14``, ``Eq. S1`` …), in a docstring or a comment, with the object it belongs to,
   the equation labels, the source named in the same sentence (or, failing that, in the
   object's docstring or the module's) and the sentence itself.

The index is complete by construction: :func:`scan` reads every line of every module, and
:func:`main` checks that the number of indexed lines equals the number of lines a plain
``grep -E 'Eqs?\\.'`` finds. Run ``python docs/_gen/equations.py [--check] [OUT]``; the MkDocs
hook ``docs/_gen/hooks.py`` runs it before every build, so the page never goes stale.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SRC = REPO / "src" / "wholesoil"

#: The papers wholesoil implements (``shared/seeds/README.md``), by the short label the code
#: cites them with: label → (anchor on the page, full citation, DOI or None).
PAPERS: dict[str, tuple[str, str, str | None]] = {
    "Wang H. et al. (2025)": (
        "wang-h-2025",
        "Wang, H., Cai, T., Tian, X., et al. (2025). Global patterns of soil organic carbon "
        "distribution in the 20–100 cm soil profile for different ecosystems: a global "
        "meta-analysis. Manuscript submitted to *Earth System Science Data*. Data:",
        "10.5281/zenodo.14787023"),
    "Wang G. et al. (2025)": (
        "wang-g-2025",
        "Wang, G., Luo, Z., Song, C., et al. (2025). Digging deeper towards accurate mapping of "
        "deep soil organic carbon in grasslands. *Science Bulletin*.",
        "10.1016/j.scib.2025.06.006"),
    "He et al. (2024)": (
        "he-2024",
        "He, X., Abramoff, R. Z., Abs, E., Georgiou, K., Zhang, H. & Goll, D. S. (2024). Model "
        "uncertainty obscures major driver of soil carbon. *Nature*.",
        "10.1038/s41586-023-06999-1"),
    "Tao et al. (2024)": (
        "tao-2024",
        "Tao, F., Houlton, B. Z., Frey, S. D., et al. (2024). Reply to: Model uncertainty "
        "obscures major driver of soil carbon. *Nature*.",
        "10.1038/s41586-023-07000-9"),
    "Tao et al. (EarthArXiv)": (
        "tao-eartharxiv",
        "Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., "
        "Jiang, L., Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by "
        "structurally different models after data assimilation. EarthArXiv preprint (not peer "
        "reviewed).",
        None),
    "Wang G. et al. (manuscript)": (
        "wang-g-manuscript",
        "Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, "
        "G., Shi, Z. & Luo, Z. Most root-derived carbon inputs do not contribute to the global "
        "bulk soil carbon pool. Manuscript.",
        None),
}

#: Curated: (module, equations, what it computes, source). "local" numbers are the module's own
#: labels (its docstring states and derives them); the paper they come from is in the last column.
CURATED: list[tuple[str, str, str, str]] = [
    ("profiles._density", "Eq. 1", "SOC density of a layer, SOC·BD·D·(1 − gravel/100)/10 "
     "[Mg C ha⁻¹]; cumulative stocks", "Wang H. et al. (2025) §2.2"),
    ("profiles._spline", "local (1)–(7)", "equal-area quadratic smoothing spline, mpspline2 "
     "parity and exact layer means", "Bishop, McBratney & Laslett (1999), Geoderma 91:27–45"),
    ("profiles._layer_stocks", "local (1)–(5)", "stock mode of harmonize: per-layer amounts "
     "÷ thickness, uniform or equal-area spline, exact integral over the observed part of each "
     "standard layer, coverage", "Bishop, McBratney & Laslett (1999), Geoderma 91:27–45"),
    ("profiles._pedotransfer", "§2.1", "BD = α + β·exp(−γ·OM), α = 0.32, β = 1.30, γ = 0.0089",
     "Tao et al. (EarthArXiv) §2.1"),
    ("depth._beta", "Eqs. 2–3", "Jobbágy–Jackson β: Y = 1 − β^d; X_100 from X_d0; layer "
     "densities by difference (§2.6)", "Wang H. et al. (2025); Gale & Grigal (1987); Jobbágy & "
                                       "Jackson "
     "(2000)"),
    ("depth._table", "Eqs. 1–3 (through depth._beta)", "β and its alternatives for every "
     "profile of a layer table", "Wang H. et al. (2025)"),
    ("depth._alternatives", "AIC, AICc", "exponential and power depth functions compared with "
     "β by AIC", "Akaike (1974); Hurvich & Tsai (1989)"),
    ("depth._roots", "local (1)–(2)", "root distributions: Y(d) = 1 − β^d per biome; "
     "Schenk–Jackson logistic with c = 2.94/ln(D50/D95)", "Jackson et al. (1996) Eq. 1, Table 1; "
     "Schenk & Jackson (2002)"),
    ("mapping._metrics, mapping._cv", "Eqs. 4–5", "R² against the observed mean, RMSE; "
     "skill by depth band", "Wang H. et al. (2025) §2.5; Wang G. et al. (2025) Fig. 1e"),
    ("mapping._uncertainty", "Eqs. 9–10; §2.7", "Coulston τ prediction intervals; quantile "
     "regression forest; Monte Carlo CI of the mean (inputs ~ N(x, 0.1x), 1,000 draws, 100 "
     "forests)", "Wang G. et al. (manuscript); Coulston et al. (2016); Meinshausen (2006); "
                 "Wang H. et al. (2025) §2.7"),
    ("mapping._stocks", "Eqs. 2–3, 6, 7; local A1", "layers from β maps, stocks = density × "
     "area, U = CI/x; exact cell areas on the authalic sphere (ellipsoid: Eq. 3-13 of the "
     "geodesy reference in the module)", "Wang H. et al. (2025) §2.6–2.7"),
    ("mapping._beta_layers", "Eqs. 2–3", "cumulative and layer SOC densities from β and "
     "topsoil density maps (Eq. 3, layers by difference)", "Wang et al. (2025) §2.6"),
    ("mapping._cells", "local A1", "exact cell areas on the authalic sphere (ellipsoid: Eq. "
     "3-13 of the geodesy reference in the module)", "Snyder (1987), USGS PP 1395"),
    ("mapping._mars", "Friedman Eqs. 30, 32, 43, 45", "MARS forward/backward pass, GCV "
     "with C(M) = M + d·(M − 1)/2", "Friedman (1991), Ann. Stat. 19:1–67; R earth 5.3"),
    ("mapping._forests, mapping._learners", "Wang H. et al. (2025) Eqs. 4–5 (OOB); Meinshausen "
                                            "Eqs. 4–6",
     "R-style random "
     "forests with OOB skill, bootstrap tuning of mtry and ntree; quantile regression forest",
     "Wang H. et al. (2025) §2.5; Meinshausen (2006), JMLR 7:983–999"),
    ("mapping._grid", "Wang H. et al. (2025) Eq. 7; Wang G. et al. (manuscript) Eqs. "
                      "9–10", "blockwise maps of the mean, "
     "interval bounds and uncertainty U = half-width / mean", "Wang H. et al. (2025) §2.7; "
             "Wang G. et al. (manuscript)"),
    ("mapping._ensemble", "Methods", "top-three learners stacked by principal-component "
     "regression", "Wang G. et al. (manuscript) Methods"),
    ("mapping._applicability", "Eqs. 1–4", "dissimilarity index: distance to the nearest "
     "training point over the mean training distance, in standardized covariate space; area of "
     "applicability: DI ≤ the upper whisker of the training DIs against other CV folds",
     "Meyer & Pebesma (2021), Methods Ecol. Evol. 12:1620–1633, doi:10.1111/2041-210X.13650"),
    ("models._clm5", "Eqs. 2–5", "dX/dt = B·I + A·ξ·K·X − V·X, 7 pools × 20 layers; "
     "Supplementary Table 1 parameters", "Tao et al. (EarthArXiv) §2.2; Huang et al. (2018); "
                                         "Lu et al. (2020)"),
    ("models._compas, models._compas_parameters, models._compas_soil", "Eqs. 6–9",
     "COMPAS 8 pools × 20 layers, microbial uptake and enzyme "
     "kinetics; Eq. 9 closed-form steady state; Supplementary Table 2", "Tao et al. (EarthArXiv) "
             "§2.3; "
     "Allison et al. (2010)"),
    ("models._clm5_compiled, models._compas_compiled", "Eqs. 2–5; 6–9",
     "the CLM5 and COMPAS steady states of the calibration kernels, compiled (numba) row by "
     "row: the same equations as models._clm5 and models._compas (equal to 1e-11 in the "
     "tests)", "Tao et al. (EarthArXiv) §2.2–2.3"),
    ("models._scalars", "Eq. 2 (ξ)", "temperature, water, oxygen, depth scalars of "
     "decomposition", "Tao et al. (EarthArXiv); CTSM SoilBiogeochemDecompCascadeBGCMod.F90"),
    ("models._transport", "Eq. 2 (V)", "bio- and cryoturbation diffusion, Patankar finite "
     "volumes", "Tao et al. (EarthArXiv); Koven et al. (2009, 2013); Patankar (1980)"),
    ("models._allocation", "Eq. 2 (B)", "vertical allocation of root and surface litter",
     "Tao et al. (EarthArXiv); Jackson et al. (1996); CTSM SoilBiogeochemVerticalProfileMod.F90"),
    ("models._components", "Eqs. 7–14", "the six Fig. 4 components of CLM5 and COMPAS batches "
     "(COMPAS from its steady-state fluxes)", "Tao et al. (EarthArXiv) §2.3, §2.7"),
    ("models._diagnostics", "Eqs. 10–14", "CTE, K_bulk, V_system, ξ_system, B_system",
     "Tao et al. (EarthArXiv) §2.7"),
    ("models._ages", "local A1–A6; Tao et al. (EarthArXiv) Eq. 2", "steady states, radiocarbon, "
            "pool ages "
     "and transit times of compartmental systems", "Metzler & Sierra (2018)"),
    ("models._blocksolve", "Tao et al. (EarthArXiv) Eqs. 2–3 (structure)", "batched Thomas and "
            "block-Thomas "
     "solvers for the tridiagonal and block-tridiagonal operators", "(numerical method)"),
    ("models._observe", "local O1", "exact integration of layer densities over observed "
     "intervals", "(definition)"),
    ("models._environment", "FAO-56 Eqs. 24, 25, 34; Miami model", "forcing generated from "
     "MAT/MAP: daylight hours, NPP", "Allen et al. (1998); Lieth (1975)"),
    ("models._mimics", "local (1)–(10)", "MIMICS with density-dependent microbial "
     "turnover ∝ MIC^β", "Wieder et al. (2015), GMD 8:1789; He et al. (2024)"),
    ("models._millennial", "Abramoff et al. Eqs. 1–21", "Millennial v2 with turnover exponent "
     "β", "Abramoff et al. (2022), SBB 164:108466; He et al. (2024)"),
    ("models._awb", "local A1–A3 (temperature) and the model's ODEs", "Allison–Wallenstein–"
     "Bradford microbial-enzyme model with β (turnover) and β_enz (enzyme production); "
     "closed-form steady state; CUE and input sensitivities", "Allison, Wallenstein & "
     "Bradford (2010), Nat. Geosci. 3:336–340, doi:10.1038/ngeo846; He et al. (2024)"),
    ("models._tao2024", "Tao et al. (EarthArXiv) Eqs. 7–9; local T1–T7", "the reply's microbial "
            "model with "
     "β and β_enz", "Tao et al. (2024); Tao et al. (EarthArXiv) §2.3"),
    ("models._nonlinear", "local (1)–(6)", "damped, positivity-keeping Newton from several "
     "starts; stability by eigenvalues", "(numerical method)"),
    ("models._sensitivity", "local (1)–(4)", "elasticities by central and one-sided "
     "differences; z-scored surfaces; Sobol indices", "He et al. (2024) Fig. 1; Saltelli (2002); "
     "Sobol' (2001)"),
    ("assimilation._runner", "local (1)", "batch seeds from the run seed and the batch index "
     "(reproducible fan-out)", "(definition)"),
    ("assimilation._components", "Eqs. 10–14", "posterior of the six components per "
     "calibrated profile", "Tao et al. (EarthArXiv) §2.7, Fig. 4"),
    ("assimilation._space", "local (1)", "θ = l + u·(h − l): prior ranges to the unit cube",
     "Tao et al. (EarthArXiv) §2.6, Supplementary Tables 1–2"),
    ("assimilation._costs", "Tao et al. (EarthArXiv) Eq. 1 (NSE); local 2–5", "rank-weighted "
            "relative cost "
     "(CLM5), COMPAS cost, Gaussian likelihood, NSE, profile filters", "Tao et al. (EarthArXiv) "
             "§2.1, §2.6; "
     "PRODA code"),
    ("assimilation._calibrate", "local (1)", "log target of a profile's unit vector",
     "Tao et al. (EarthArXiv) §2.6"),
    ("assimilation._mcmc", "Haario proposals", "adaptive Metropolis, two-phase PRODA protocol",
     "Tao et al. (EarthArXiv) §2.6; Haario et al. (2001)"),
    ("assimilation._diagnostics", "local (1)–(2)", "Gelman–Rubin R̂, effective sample size",
     "Tao et al. (EarthArXiv) §2.6; Gelman & Rubin (1992); Gelman et al. (2013); Geyer (1992)"),
    ("assimilation.proda._covariates", "local S1", "min–max scaling with clipping",
     "Tao et al. (EarthArXiv) §2.6"),
    ("assimilation.proda._network", "local N1", "network 256-512-512-256, ratio-loss × MSE",
     "Tao et al. (EarthArXiv) §2.6; PRODA code"),
    ("assimilation.proda._differentiable", "Eqs. 2–5", "differentiable CLM5 steady state",
     "Tao et al. (EarthArXiv)"),
    ("assimilation.proda._simulate", "Eqs. 10–14; local O1", "global simulation with "
     "parameter maps: SOC by depth and the six component maps", "Tao et al. (EarthArXiv) §2.7, "
             "Figs. 2–4"),
    ("assimilation.proda._e2e", "local E1–E2", "end-to-end loss against observed layer SOC",
     "beyond Tao et al. (EarthArXiv) (issue 8)"),
    ("radiocarbon._onepool", "Eqs. 1–3", "one-pool ¹⁴C model, steady state, inversion to "
     "age 1/k", "Wang G. et al. (manuscript) Methods; Cherkinsky & Brovkin (1993)"),
    ("radiocarbon._atmosphere", "Eqs. 4–5", "Δ14C ↔ absolute fraction modern; F14C with the "
     "sample year", "Wang G. et al. (manuscript); Stuiver & Polach (1977); "
                    "Hua et al. (2013, 2022)"),
    ("radiocarbon._inputs, radiocarbon._input_profiles, radiocarbon._estimates, "
     "radiocarbon._input_uncertainty", "Eq. 6 (ages by Eqs. 1–5)", "I_bulk = C_stock / C_age, "
     "I_root = NPP·f_BNPP·root fraction, I_loss = I_root − I_bulk, Monte Carlo",
     "Wang G. et al. (manuscript) Methods, Extended Data Table 1"),
    ("stats._mixed", "Eqs. 7–8; Nakagawa Eqs. 26–27", "linear mixed models, Nakagawa R² "
     "(random slopes: Nakagawa et al. 2017 Eq. 11), ICC, conditional predictions",
     "He et al. (2024) Table 1; Wang G. et al. (manuscript); Nakagawa & Schielzeth (2013); "
     "Johnson (2014)"),
    ("stats._anova", "§2.8", "one-way ANOVA, Duncan's multiple range test, Tukey HSD, "
     "compact letters", "Wang H. et al. (2025) §2.8"),
    ("stats._partial", "local (1)–(2)", "partial correlation by depth band and its t test",
     "Wang G. et al. (2025) Fig. S1; Fisher (1924)"),
    ("stats._grouped_pca", "Methods", "PCA per covariate group, Kaiser rule",
     "Wang G. et al. (manuscript) Methods"),
]

#: An equation mention: "Eq." or "Eqs." then labels such as 3, 9b, S1, O1, A4.
MENTION = re.compile(
    r"\bEqs?\.\s*(?P<labels>\(?[A-Z]?\d+[a-z]?\)?"
    r"(?:\s*(?:[–,-]|and)\s*\(?[A-Z]?\d+[a-z]?\)?)*)"
)
GREP = re.compile(r"Eqs?\.")
#: A paper label, also possessive ("Wang G. et al.'s (manuscript)"), merged with a locator ("He
#: et al. (2024, Table 1)") or broken over lines.
PAPER = re.compile(r"\b(Wang\s+[GH]\.|He|Tao)\s+et\s+al\.(?:'s)?\s+\("
                   r"(2024|2025|EarthArXiv|manuscript)\b")
#: Author–year citations: "Wieder et al. 2015", "Abramoff et al. (2022)", "Bishop, McBratney &
#: Laslett (1999)", "Metzler & Sierra 2018", "Friedman (1991)".
CITATION = re.compile(
    r"\b([A-Z][A-Za-zÀ-ÿ'’-]+(?:,? (?:et al\.|(?:&|and) [A-Z][A-Za-zÀ-ÿ'’-]+)"
    r"|(?:, [A-Z][A-Za-zÀ-ÿ'’-]+)+ & [A-Z][A-Za-zÀ-ÿ'’-]+)?)"
    r",? \(?((?:19|20)\d\d)[a-z]?\)?"
)
_ABBREV = ("Eq", "Eqs", "al", "e.g", "i.e", "Fig", "Figs", "Sec", "Suppl", "vs", "cf", "No",
           "approx", "Ann", "Stat", "Biol", "Geosci", "Dev", "Sci", "Soc", "Ecol", "Appl")


@dataclass
class Mention:
    module: str          # wholesoil.models._clm5
    obj: str             # CLM5.steady_state, or "" for the module
    line: int
    labels: list[str]
    source: str
    found_in: str        # sentence | docstring | module
    excerpt: str
    kind: str            # docstring | comment | string


def uncurated(mentions: list[Mention]) -> list[str]:
    """Science modules that name an equation but have no row in :data:`CURATED`.

    Workflows, the demo, the command line, figures, readers and package ``__init__`` files only
    refer to equations implemented elsewhere, so they need none.
    """
    curated = {"wholesoil." + part.strip() for row in CURATED for part in row[0].split(",")}
    out = []
    for module in sorted({m.module for m in mentions}):
        last = module.rsplit(".", 1)[-1]
        if (module.startswith(("wholesoil.workflows", "wholesoil.io", "wholesoil._cli",
                               "wholesoil.plots", "wholesoil.demo"))
                or module == "wholesoil.cli" or not last.startswith("_")):
            continue
        if module not in curated:
            out.append(module)
    return out


def expand(labels: str, plural: bool = True) -> list[str]:
    """'10–14' → 10, 11, 12, 13, 14; '3, 6 and 7' → 3, 6, 7; '9b' → 9b; 'S1' → S1.

    A hyphen is a range after "Eqs." only: "Eq. 3-13" is one equation (chapter-numbered).
    """
    out: list[str] = []
    labels = labels.replace("(", "").replace(")", "")
    if not plural and "–" not in labels:
        return [lb.strip() for lb in re.split(r"\s*(?:,|and)\s*", labels) if lb.strip()]
    for part in re.split(r"\s*(?:,|and)\s*", labels):
        m = re.fullmatch(r"([A-Z]?)(\d+)([a-z]?)\s*[–-]\s*([A-Z]?)(\d+)([a-z]?)", part.strip())
        if m and not m.group(3) and not m.group(6) and int(m.group(5)) - int(m.group(2)) < 60:
            out += [f"{m.group(1)}{i}" for i in range(int(m.group(2)), int(m.group(5)) + 1)]
        elif part.strip():
            out.append(part.strip())
    return out


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence of ``text`` holding [start, end), abbreviations such as 'Eq.' kept inside."""

    def boundary(i: int) -> bool:  # text[i] == "." ends a sentence?
        if i + 1 < len(text) and not text[i + 1].isspace():
            return False
        word = re.search(r"([A-Za-z.]+)$", text[max(0, i - 8):i])
        return not (word and word.group(1).rstrip(".") in _ABBREV)

    a = start
    while a > 0 and not (text[a - 1] == "." and boundary(a - 1)) and text[a - 1:a + 1] != "\n\n":
        a -= 1
    b = end
    while b < len(text) and not (text[b] == "." and boundary(b)) and text[b:b + 2] != "\n\n":
        b += 1
    s = " ".join(text[a:b + 1].split())
    if len(s) > 320:  # keep the mention in view
        rel = " ".join(text[a:start].split())
        cut = max(0, len(rel) - 150)
        s = ("…" if cut else "") + s[cut:cut + 300] + "…"
    return s


def paper_label(authors: str, tag: str) -> str | None:
    """The :data:`PAPERS` label for a match of :data:`PAPER`, or None if there is none."""
    lab = f"{' '.join(authors.split())} et al. ({tag})"
    return lab if lab in PAPERS else None


def sources_in(text: str) -> list[str]:
    """The papers first (``Tao et al. (EarthArXiv)``), then other author–year citations, in
    order, without repeats."""
    found: list[str] = []
    spans: list[tuple[int, int]] = []
    for m in PAPER.finditer(text):
        s = paper_label(m.group(1), m.group(2))
        if s is None:
            continue
        spans.append((m.start(), m.end()))
        if s not in found:
            found.append(s)
    for m in CITATION.finditer(text):
        if any(a < m.end() and m.start() < b for a, b in spans):
            continue
        name = m.group(1)
        if name.split()[0] in {"In", "The", "See", "From", "Since", "Version", "CTSM", "R"}:
            continue
        s = f"{name} ({m.group(2)})"
        if s not in found:
            found.append(s)
    return found


def _link_papers(cell: str) -> str:
    """A Markdown cell (already escaped by :func:`_md`) with each paper label linked to its full
    citation under "The papers"."""
    def sub(m: re.Match[str]) -> str:
        lab = paper_label(m.group(1), m.group(2))
        return f"[{m.group(0)}](#{PAPERS[lab][0]})" if lab else m.group(0)

    return re.sub(PAPER.pattern + r"\)?", sub, cell)


def _citation(label: str) -> str:
    anchor, text, doi = PAPERS[label]
    link = f" [doi:{doi}](https://doi.org/{doi})" if doi else ""
    return f'<a id="{anchor}"></a>{text}{link}'


def _objects(tree: ast.Module) -> list[tuple[int, int, str, str]]:
    """(first line, last line, qualified name, docstring) of every def and class."""
    out: list[tuple[int, int, str, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                first = min([child.lineno] + [d.lineno for d in child.decorator_list])
                out.append((first, child.end_lineno or child.lineno, name,
                            ast.get_docstring(child) or ""))
                visit(child, name + ".")

    visit(tree, "")
    return out


def scan_file(path: Path) -> list[Mention]:
    src = path.read_text(encoding="utf-8")
    tree = ast.parse(src)
    module = "wholesoil." + ".".join(path.relative_to(SRC).with_suffix("").parts)
    module = module.removesuffix(".__init__")
    mod_doc = ast.get_docstring(tree) or ""
    objs = _objects(tree)
    doc_lines = {n.body[0].value.lineno for n in [tree, *ast.walk(tree)]
                 if isinstance(n, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef
                               | ast.ClassDef)
                 and n.body and isinstance(n.body[0], ast.Expr)
                 and isinstance(n.body[0].value, ast.Constant)
                 and isinstance(n.body[0].value.value, str)}
    mentions: list[Mention] = []
    seen_lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        if tok.type not in (tokenize.STRING, tokenize.COMMENT) or not GREP.search(tok.string):
            continue
        text = tok.string
        kind = ("comment" if tok.type == tokenize.COMMENT
                else "docstring" if tok.start[0] in doc_lines else "string")
        # enclosing object: the innermost def/class whose span holds the token
        enclosing = [o for o in objs if o[0] <= tok.start[0] <= o[1]]
        obj, obj_doc = (max(enclosing, key=lambda o: o[0])[2:4] if enclosing else ("", ""))
        for m in MENTION.finditer(text):
            line = tok.start[0] + text.count("\n", 0, m.start())
            labels = expand(m.group("labels"), m.group(0).startswith("Eqs"))
            if line in seen_lines:
                # one row per line keeps the count comparable with grep; merge the labels
                prev = next(x for x in mentions if x.line == line)
                prev.labels += [lb for lb in labels if lb not in prev.labels]
                continue
            seen_lines.add(line)
            body, lead = _body(text)
            sent = sentence_around(body, max(0, m.start() - lead), max(0, m.end() - lead))
            srcs, found_in = [], "—"
            for place, where in (("sentence", sent), ("docstring", obj_doc), ("module", mod_doc)):
                srcs = sources_in(where)
                if srcs:
                    found_in = place
                    break
            mentions.append(Mention(module, obj, line, labels, ", ".join(srcs[:3]), found_in,
                                    sent, kind))
        # a grep hit that MENTION does not parse ("Eq. (3)", "Eqs." at a line end) still counts
        for i, ln in enumerate(text.split("\n")):
            line = tok.start[0] + i
            if GREP.search(ln) and line not in seen_lines:
                seen_lines.add(line)
                mentions.append(Mention(module, obj, line, [], "", "—", " ".join(ln.split()),
                                        kind))
    return sorted(mentions, key=lambda x: x.line)


_OPEN = re.compile(r"^(?:#+ ?|[rRbBuUfF]*(?:\"\"\"|\'\'\'|\"|\'))")


def _body(text: str) -> tuple[str, int]:
    """A string or comment token without its quotes / ``#``; and how many characters went."""
    lead = _OPEN.match(text)
    n = lead.end() if lead else 0
    body = text[n:]
    for q in ('"""', "'''", '"', "'"):
        if n and body.endswith(q) and not text.startswith("#"):
            body = body[: -len(q)]
            break
    return body, n


def scan(root: Path = SRC) -> list[Mention]:
    out: list[Mention] = []
    for path in sorted(root.rglob("*.py")):
        out += scan_file(path)
    return out


def grep_count(root: Path = SRC) -> int:
    """Lines of ``root/**/*.py`` matching ``Eqs?\\.``, as ``grep -rcE`` counts them."""
    return sum(sum(1 for ln in p.read_text(encoding="utf-8").splitlines() if GREP.search(ln))
               for p in root.rglob("*.py"))


def _md(s: str) -> str:
    """Plain text for a Markdown table cell: roles and backticks dropped, specials escaped."""
    s = re.sub(r":(?:func|class|meth|mod|data|attr|math|obj|ref):`~?([^`]*)`", r"\1", s)
    s = s.replace("``", "").replace("`", "")
    s = s.replace("\\", "\\\\")
    for ch in "*_[]|<>$":
        s = s.replace(ch, "\\" + ch if ch not in "<>" else {"<": "&lt;", ">": "&gt;"}[ch])
    return s


def render(mentions: list[Mention], total: int) -> str:
    out = [
        "# Equations",
        "",
        "Every equation wholesoil implements, with its source. The first table is curated; the "
        "index below it is generated by `docs/_gen/equations.py` from the docstrings and "
        "comments of `src/wholesoil` (run before every documentation build), so it lists every "
        "place the code names an equation.",
        "",
        "## The papers",
        "",
        "The five papers the toolkit implements (one of them with its reply) are cited in the "
        "code by these short labels; every label in the tables below links here:",
        "",
        "| label | reference |",
        "|---|---|",
        *[f"| {lab} | {_citation(lab)} |" for lab in PAPERS],
        "",
        "Other sources are cited by author and year in the docstrings (and in the API "
        "reference). Some modules number their own equations (*local* labels such as (1), "
        "A1, O1, S1, E1, T5): these are derivations or definitions written out in the module "
        "docstring, with the paper they follow named there.",
        "",
        "## By module (curated)",
        "",
        "| module | equations | what | source |",
        "|---|---|---|---|",
        *[f"| `wholesoil.{m}` | {_link_papers(_md(e))} | {_md(w)} | {_link_papers(_md(s))} |"
          for m, e, w, s in CURATED],
        "",
        "## Every equation reference in the code (generated)",
        "",
        f"{len(mentions)} lines of `src/wholesoil` name an equation (`grep -rE 'Eqs?\\.'` "
        f"finds {total}). *Labels* are the equation numbers as written; *source* is the paper "
        "named in the same sentence or, failing that, in the object's docstring "
        "(*docstring*) or the module's (*module*). Numbers without a paper or citation in "
        "their sentence belong to the source named there.",
        "",
    ]
    by_module: dict[str, list[Mention]] = {}
    for x in mentions:
        by_module.setdefault(x.module, []).append(x)
    for module, rows in by_module.items():
        eqs = sorted({lb for r in rows for lb in r.labels}, key=_label_key)
        out += [
            f"### `{module}`",
            "",
            f"Labels: {', '.join(eqs) or '—'}.",
            "",
            "| object | line | labels | source (found in) | text |",
            "|---|---|---|---|---|",
        ]
        for r in rows:
            where = f"{_link_papers(_md(r.source))} ({r.found_in})" if r.source else "—"
            obj = f"`{r.obj}`" if r.obj else "module"
            kind = "" if r.kind == "docstring" else f" ({r.kind})"
            out.append(f"| {obj}{kind} | {r.line} | {', '.join(r.labels) or '—'} | {where} | "
                       f"{_md(r.excerpt)} |")
        out.append("")
    return "\n".join(out)


def _label_key(label: str) -> tuple[str, int, str]:
    m = re.fullmatch(r"([A-Z]?)(\d+)([a-z]?)", label)
    return (m.group(1), int(m.group(2)), m.group(3)) if m else ("~", 0, label)


def generate(out: Path | None = None) -> tuple[str, int, int]:
    """Return (page, indexed lines, grep count); write it to ``out`` if that differs."""
    mentions = scan()
    total = grep_count()
    page = render(mentions, total)
    if out is not None and (not out.exists() or out.read_text(encoding="utf-8") != page):
        out.write_text(page, encoding="utf-8")
    return page, len(mentions), total


def main(argv: list[str]) -> int:
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    out = Path(args[0]) if args else HERE.parent / "equations.md"
    page, n, total = generate(None if check else out)
    if n != total:
        print(f"equations: indexed {n} lines but grep finds {total}", file=sys.stderr)
        return 1
    if check and (not out.exists() or out.read_text(encoding="utf-8") != page):
        print(f"equations: {out} is out of date; run python docs/_gen/equations.py",
              file=sys.stderr)
        return 1
    print(f"equations: {n} lines indexed (grep: {total}) -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
