"""Linear mixed-effects models as the seeds report them (He et al. (2024) Table 1;
Wang G. et al. (manuscript) Eqs. 7–8).

He et al. (2024, Table 1) fit ``log10(SOC) ~ NPP + MAT + depth + (1 | source)`` with
z-scored predictors and report estimates with 95 % CI and P, the residual variance σ², the
between-source variance τ00, the intraclass correlation, the number of groups and observations
and the marginal / conditional R² of Nakagawa & Schielzeth. Wang G. et al. (manuscript, Methods
"Drivers of I_root and I_bulk", Eqs. 7–8) fit biome as a random effect on intercepts and slopes::

    y_i ~ N(X_i β_j[i], σ_y²)          (Eq. 7)
    β_j ~ N(μ_α, σ_α²), j = biome       (Eq. 8)

:func:`fit_mixed` fits both with :class:`statsmodels.regression.mixed_linear_model.MixedLM`
(REML or ML) from a patsy formula, with random intercepts, correlated random slopes
(``slopes``/``re_formula``, lme4's ``(1 + x | g)``) and variance components for groups nested in
the grouping factor (``vc_formula``, lme4's ``(1 | g/h)``). What statsmodels does not give is
computed here: the Nakagawa R² and ICC exactly as R ``performance::r2_nakagawa`` / ``icc``
(performance 0.10.2, insight 0.19.0, read for behaviour) compute them, conditional predictions
that include the predicted random effects, and the report table in the He et al. (2024) layout.

Variance decomposition (Nakagawa & Schielzeth 2013, Eqs. 26–27; random slopes as Johnson 2014
and Nakagawa et al. 2017, Eq. 11)::

    σ²_f = var(X β̂)                              sample variance, n − 1 denominator
    σ²_r = (1/n) Σ_i z_iᵀ Σ z_i + Σ_v τ_v (1/n) Σ_i ‖w_vi‖²
    σ²_ε = σ̂²
    R²_marginal = σ²_f / (σ²_f + σ²_r + σ²_ε)
    R²_conditional = (σ²_f + σ²_r) / (σ²_f + σ²_r + σ²_ε)
    ICC_adjusted = σ²_r / (σ²_r + σ²_ε),  ICC_unadjusted = σ²_r / (σ²_f + σ²_r + σ²_ε)

with z_i the random-effects design row of observation i (1 for a random intercept, (1, x_i) for
a random slope), Σ the random-effects covariance and w_vi the design row of variance component v
(an indicator for a nested random intercept, so the mean is 1). For a random intercept only,
σ²_r = τ00.

References
----------
Nakagawa, S., Schielzeth, H. (2013). A general and simple method for obtaining R² from
generalized linear mixed-effects models. Methods Ecol. Evol. 4, 133–142.
https://doi.org/10.1111/j.2041-210x.2012.00261.x

Johnson, P. C. D. (2014). Extension of Nakagawa & Schielzeth's R²_GLMM to random slopes models.
Methods Ecol. Evol. 5, 944–946. https://doi.org/10.1111/2041-210X.12225

Nakagawa, S., Johnson, P. C. D., Schielzeth, H. (2017). The coefficient of determination R² and
intra-class correlation coefficient from generalized linear mixed-effects models revisited and
expanded. J. R. Soc. Interface 14, 20170213. https://doi.org/10.1098/rsif.2017.0213

Lüdecke, D., et al. (2021). performance: An R package for assessment, comparison and testing of
statistical models. J. Open Source Softw. 6, 3139. https://doi.org/10.21105/joss.03139

He, X., Abramoff, R. Z., Abs, E., Georgiou, K., Zhang, H. & Goll, D. S. (2024). Model uncertainty
obscures major driver of soil carbon. Nature. https://doi.org/10.1038/s41586-023-06999-1

Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import patsy
from scipy import stats

from wholesoil.errors import InputDataError, MissingColumnError

#: How the Wald p-values and intervals of the fixed effects are referred: ``"normal"`` (z, as
#: statsmodels and lme4's ``confint(method = "Wald")``) or ``"residual"`` (Student t with
#: n − p degrees of freedom, as R ``parameters``/``sjPlot`` default for ``lmer`` fits).
DfMethod = Literal["normal", "residual"]

#: Optimizers tried in turn by MixedLM.fit (the first that converges is kept).
FIT_METHODS: tuple[str, ...] = ("lbfgs", "bfgs", "cg", "nm")
#: A converged fit is then polished by BFGS from its solution with this gradient tolerance
#: (MixedLM.fit passes no tolerance to L-BFGS-B), so that the variance parameters agree with
#: lme4 (bobyqa) to ~1e-6 relative (tests/stats/test_mixed.py).
POLISH_GTOL = 1e-7


# ---- z-scoring -------------------------------------------------------------------------------


class _ZScore:
    """patsy stateful transform: (x − mean) / sd with the sd of R ``scale()`` (n − 1)."""

    def __init__(self) -> None:
        self._sum = 0.0
        self._sumsq = 0.0
        self._n = 0

    def memorize_chunk(self, x: Any, ddof: int = 1) -> None:
        a = np.asarray(x, dtype=float)
        self._sum += float(a.sum())
        self._sumsq += float((a**2).sum())
        self._n += a.size

    def memorize_finish(self, ddof: int = 1) -> None:
        n = self._n
        self.mean_ = self._sum / n
        var = (self._sumsq - n * self.mean_**2) / max(n - ddof, 1)
        self.sd_ = float(np.sqrt(max(var, 0.0)))

    def transform(self, x: Any, ddof: int = 1) -> Any:
        a = np.asarray(x, dtype=float)
        if not self.sd_ > 0:
            raise InputDataError("cannot z-score a constant variable (sd = 0)", field="zscore")
        out = (a - self.mean_) / self.sd_
        return pd.Series(out, index=x.index) if isinstance(x, pd.Series) else out


#: ``zscore(x)`` inside a formula: standardize with the training mean and sd (n − 1, R
#: ``scale``); predictions on new data reuse the training mean and sd.
zscore = patsy.stateful_transform(_ZScore)


def zscore_columns(
    data: pd.DataFrame, columns: Sequence[str], *, ddof: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Z-score columns of a table: (x − mean) / sd, as R ``scale()`` (He et al. (2024) Table 1
    note).

    Parameters
    ----------
    data : pandas.DataFrame
        The table; it is not modified.
    columns : sequence of str
        Numeric columns to standardize.
    ddof : int, default 1
        Delta degrees of freedom of the sd (1 = R's ``sd``).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        A copy with the columns standardized, and a table ``column``, ``mean``, ``sd`` to
        transform new data or back-transform coefficients (β_raw = β_z / sd).
    """
    out = data.copy()
    rows = []
    for col in columns:
        if col not in data.columns:
            raise MissingColumnError(
                "cannot z-score: column not in the table; available: "
                f"{list(map(str, data.columns))}",
                field=col,
            )
        x = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(x)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputDataError(
                "cannot z-score: expected finite numbers", row=i + 2, field=col,
                value=data[col].iloc[i], has_value=True,
            )
        mean = float(x.mean())
        sd = float(x.std(ddof=ddof))
        if not sd > 0:
            raise InputDataError("cannot z-score a constant column (sd = 0)", field=col,
                                 value=mean)
        out[col] = (x - mean) / sd
        rows.append({"column": col, "mean": mean, "sd": sd})
    return out, pd.DataFrame(rows, columns=["column", "mean", "sd"])


# ---- formula checks ----------------------------------------------------------------------------

#: Functions available inside formulas besides patsy's own (C, I, Q, center, standardize, scale).
#: Only these may be called: a formula is an allow-listed expression tree, never code.
FORMULA_NAMESPACE: dict[str, Any] = {
    "log": np.log, "log10": np.log10, "log2": np.log2, "log1p": np.log1p,
    "exp": np.exp, "sqrt": np.sqrt, "abs": np.abs, "zscore": zscore,
}
_PATSY_BUILTINS = {"C", "I", "Q", "center", "standardize", "scale", "Treatment", "Sum", "Diff",
                   "Poly", "Helmert", "True", "False", "None"}
#: Functions a formula term may call (patsy's and :data:`FORMULA_NAMESPACE`).
FORMULA_FUNCTIONS: frozenset[str] = frozenset(FORMULA_NAMESPACE) | (
    _PATSY_BUILTINS - {"True", "False", "None"})
#: Arithmetic allowed inside a term: + − × ÷ and powers (``**``).
_ALLOWED_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
_ALLOWED_UNARY = (ast.UAdd, ast.USub)


def _eval_env() -> patsy.EvalEnvironment:
    # the namespace holds only the allow-listed functions; Python adds __builtins__ to any
    # eval, which is why every term is checked by _check_term before patsy evaluates it
    return patsy.EvalEnvironment([FORMULA_NAMESPACE])


def _refuse(code: str, formula: str, what: str) -> InputDataError:
    return InputDataError(
        f"formula {formula!r}: term {code!r} uses {what}, which formulas do not allow; a term "
        "may use column names, numbers, + - * / ** and the functions "
        f"{sorted(FORMULA_FUNCTIONS)}",
        field="formula",
    )


def _check_term(code: str, formula: str) -> ast.Expression:
    """Parse one term and refuse anything but the allow-listed expression tree."""
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError as exc:
        raise InputDataError(f"cannot parse term {code!r} of formula {formula!r}",
                             field="formula") from exc

    def visit(node: ast.AST, callee: bool = False) -> None:
        if isinstance(node, ast.Expression):
            visit(node.body)
        elif isinstance(node, ast.Name):
            if node.id.startswith("_"):
                raise _refuse(code, formula, f"the name {node.id!r}")
            if callee and node.id not in FORMULA_FUNCTIONS:
                raise _refuse(code, formula, f"a call of {node.id!r}")
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float | str):
                raise _refuse(code, formula, f"the constant {node.value!r}")
        elif isinstance(node, ast.BinOp):
            if not isinstance(node.op, _ALLOWED_BINOPS):
                hint = " (write ** for a power)" if isinstance(node.op, ast.BitXor) else ""
                raise _refuse(code, formula, f"the operator {type(node.op).__name__}{hint}")
            visit(node.left)
            visit(node.right)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, _ALLOWED_UNARY):
                raise _refuse(code, formula, f"the operator {type(node.op).__name__}")
            visit(node.operand)
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise _refuse(code, formula, "a call of something other than a named function")
            visit(node.func, callee=True)
            for a in node.args:
                visit(a)
            for kw in node.keywords:
                if kw.arg is None:
                    raise _refuse(code, formula, "** arguments")
                visit(kw.value)
        else:
            raise _refuse(code, formula, f"a {type(node).__name__} expression")

    visit(tree)
    return tree


def check_formula(formula: str) -> None:
    """Refuse a formula whose terms are not allow-listed expressions (before any evaluation).

    Allowed in a term: column names, numbers (and text inside ``C()``/``Q()``), ``+ - * /``
    and ``**``, and calls of :data:`FORMULA_FUNCTIONS`. Attributes (``np.x``), subscripts,
    lambdas, comprehensions, names starting with ``_`` and calls of anything else are an
    :class:`~wholesoil.errors.InputDataError`.
    """
    _formula_columns(formula)


def _formula_columns(formula: str) -> list[str]:
    """Data columns a patsy formula refers to (names that are not functions in its namespace).

    Every term is checked against the allow-list first (:func:`check_formula`).
    """
    try:
        desc = patsy.ModelDesc.from_formula(formula)
    except patsy.PatsyError as exc:
        raise InputDataError(f"cannot parse formula {formula!r}: {exc}", field="formula") from exc
    names: list[str] = []
    for term in [*desc.lhs_termlist, *desc.rhs_termlist]:
        for factor in term.factors:
            code = factor.name()
            tree = _check_term(code, formula)
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id == "Q" and node.args
                        and isinstance(node.args[0], ast.Constant)):
                    names.append(str(node.args[0].value))
                elif isinstance(node, ast.Name) and node.id not in FORMULA_NAMESPACE \
                        and node.id not in _PATSY_BUILTINS:
                    names.append(node.id)
    return list(dict.fromkeys(names))


def _check_columns(data: pd.DataFrame, formula: str, what: str) -> list[str]:
    cols = _formula_columns(formula)
    available = [str(c) for c in data.columns]
    for c in cols:
        if c not in data.columns:
            raise MissingColumnError(
                f"the {what} {formula!r} names column {c!r}, which is not in the table; "
                f"available columns: {available}",
                field=c,
            )
    return cols


# ---- result ------------------------------------------------------------------------------------


@dataclass
class MixedModelResult:
    """A fitted linear mixed model with the quantities of He et al. (2024) Table 1.

    Attributes
    ----------
    formula, group : str
        Fixed-effects formula and grouping column.
    re_formula : str
        Random-effects formula within groups (``"1"``: random intercept).
    vc_formula : dict
        Variance components (nested groups), name → formula.
    reml : bool
        REML (True) or ML (False).
    fixed_effects : pandas.DataFrame
        One row per fixed-effect column: ``term``, ``estimate``, ``std_error``, ``statistic``,
        ``ci_lower``, ``ci_upper``, ``p_value``.
    variance_components : pandas.DataFrame
        ``component`` (sigma2, tau00, tau11, tau01, rho01, vc), ``group``, ``term``, ``value``.
    sigma2 : float
        Residual variance σ² [response units²].
    cov_re : pandas.DataFrame
        Random-effects covariance Σ (rows/columns: random-effect terms).
    vcomp : pandas.Series
        Variances of the variance components.
    var_fixed, var_random, var_residual : float
        σ²_f, σ²_r, σ²_ε of the module docstring.
    r2_marginal, r2_conditional, icc_adjusted, icc_unadjusted : float
        Nakagawa & Schielzeth R² and ICC (performance::r2_nakagawa, performance::icc).
    n_obs, n_groups : int
    loglik, aic, bic : float
        Log-likelihood (REML criterion when ``reml``) and information criteria.
    converged : bool
    warnings : list of str
        Warnings raised while fitting (convergence, boundary), kept rather than swallowed.
    random_effects : pandas.DataFrame
        Predicted random effects (conditional modes), one row per group.
    fitted : numpy.ndarray
        Conditional fitted values X β̂ + Z b̂ (with the random effects).
    fitted_fixed : numpy.ndarray
        Marginal fitted values X β̂.
    """

    formula: str
    group: str
    re_formula: str
    vc_formula: dict[str, str]
    reml: bool
    fixed_effects: pd.DataFrame
    variance_components: pd.DataFrame
    sigma2: float
    cov_re: pd.DataFrame
    vcomp: pd.Series
    var_fixed: float
    var_random: float
    var_residual: float
    r2_marginal: float
    r2_conditional: float
    icc_adjusted: float
    icc_unadjusted: float
    n_obs: int
    n_groups: int
    loglik: float
    aic: float
    bic: float
    converged: bool
    warnings: list[str]
    random_effects: pd.DataFrame
    fitted: np.ndarray
    fitted_fixed: np.ndarray
    response: str
    ci_level: float
    df_method: str
    statsmodels_result: Any = field(repr=False)
    _designs: dict[str, Any] = field(repr=False)

    @property
    def params(self) -> pd.Series:
        """Fixed-effect estimates indexed by term."""
        return self.fixed_effects.set_index("term")["estimate"]

    def predict(self, data: pd.DataFrame | None = None, *, conditional: bool = True
                ) -> np.ndarray:
        """Predictions, including the predicted random effects unless ``conditional=False``.

        statsmodels' ``MixedLMResults.predict`` returns X β̂ only; here the group's random
        effects are added (lme4 ``predict(m)``; groups not seen in fitting get zero random
        effects, lme4's ``allow.new.levels = TRUE``).

        Parameters
        ----------
        data : pandas.DataFrame, optional
            New data with the formula's columns and the group column; default: the fitted data.
        conditional : bool, default True
            Add the random effects (True) or return the fixed part X β̂ (False).

        Returns
        -------
        numpy.ndarray, shape (n,)
            Predictions on the scale of the formula's left-hand side (e.g. log10(SOC)).
        """
        if data is None:
            return (self.fitted if conditional else self.fitted_fixed).copy()
        d = self._designs
        _check_columns(data, d["rhs_formula"], "formula")
        with np.errstate(all="ignore"):
            (X,) = patsy.build_design_matrices([d["x_info"]], data, NA_action="raise",
                                               return_type="dataframe")
        pred = X.to_numpy(float) @ self.fixed_effects["estimate"].to_numpy()
        if not conditional:
            return pred
        if self.group not in data.columns:
            raise MissingColumnError(
                f"conditional predictions need the group column; available: "
                f"{list(map(str, data.columns))}", field=self.group)
        g = data[self.group].to_numpy().astype(str)  # group labels are kept as text
        re = self.random_effects
        pos = pd.Index(re.index).get_indexer(pd.Index(g))
        seen = pos >= 0
        if d["z_info"] is not None:
            with np.errstate(all="ignore"):
                (Z,) = patsy.build_design_matrices([d["z_info"]], data, NA_action="raise")
            Z = np.asarray(Z, dtype=float)
        else:  # random intercept only
            Z = np.ones((len(data), 1))
        B = re[d["re_names"]].to_numpy(float)
        pred[seen] += np.einsum("ij,ij->i", Z[seen], B[pos[seen]])
        for v, f in self.vc_formula.items():
            with np.errstate(all="ignore"):
                W = patsy.dmatrix(f, data, eval_env=_eval_env(), return_type="dataframe",
                                  NA_action="raise")
            cols = [f"{v}[{c}]" for c in W.columns]
            E = re.reindex(columns=cols).to_numpy(float)
            E = np.nan_to_num(E, nan=0.0)  # a level absent from a group in fitting: effect 0
            pred[seen] += np.einsum("ij,ij->i", W.to_numpy(float)[seen], E[pos[seen]])
        return pred

    def report_table(self, *, digits: int = 2, r2_digits: int = 3) -> pd.DataFrame:
        """The model as He et al. (2024) Table 1 lays it out (strings, ready to print).

        Columns ``Predictors``, ``Estimates``, ``CI``, ``p``: the fixed effects, then
        "Random effects": σ², τ00 (and τ11, ρ01 for a random slope; τ for each variance
        component), ICC (adjusted), N of the group, Observations, "Marginal R² / conditional R²".
        """
        fmt = f"{{:.{digits}f}}"
        rows: list[dict[str, str]] = []
        for r in self.fixed_effects.itertuples():
            lo, hi = fmt.format(r.ci_lower), fmt.format(r.ci_upper)
            sep = "–" if r.ci_lower >= 0 and r.ci_upper >= 0 else " to "
            rows.append({"Predictors": r.term, "Estimates": fmt.format(r.estimate),
                         "CI": f"{lo}{sep}{hi}", "p": _format_p(r.p_value)})
        rows.append({"Predictors": "Random effects", "Estimates": "", "CI": "", "p": ""})

        def add(name: str, value: float, d: int = digits) -> None:
            # variances below the display precision keep 3 significant digits, not "0.00"
            text = f"{value:.{d}f}" if value == 0 or abs(value) >= 10**-d else f"{value:.3g}"
            rows.append({"Predictors": name, "Estimates": text, "CI": "", "p": ""})

        add("σ²", self.sigma2)
        names = list(self.cov_re.index)
        for i, nm in enumerate(names):
            label = f"τ00 {self.group}" if i == 0 and nm == "Intercept" else (
                f"τ{i}{i} {self.group}.{nm}")
            add(label, float(self.cov_re.iloc[i, i]))
        for i in range(1, len(names)):
            c = float(self.cov_re.iloc[0, i])
            rho = c / np.sqrt(float(self.cov_re.iloc[0, 0]) * float(self.cov_re.iloc[i, i]))
            add(f"ρ0{i} {self.group}.{names[i]}", rho)
        for v, val in self.vcomp.items():
            add(f"τ00 {v}:{self.group}", float(val))
        add("ICC", self.icc_adjusted)
        rows.append({"Predictors": f"N {self.group}", "Estimates": str(self.n_groups),
                     "CI": "", "p": ""})
        rows.append({"Predictors": "Observations", "Estimates": str(self.n_obs), "CI": "",
                     "p": ""})
        r2 = f"{self.r2_marginal:.{r2_digits}f}/{self.r2_conditional:.{r2_digits}f}"
        rows.append({"Predictors": "Marginal R² / conditional R²", "Estimates": r2, "CI": "",
                     "p": ""})
        return pd.DataFrame(rows, columns=["Predictors", "Estimates", "CI", "p"])

    def summary_dict(self) -> dict[str, Any]:
        """Scalars of the fit for run.json."""
        return {
            "formula": self.formula, "group": self.group, "re_formula": self.re_formula,
            "vc_formula": self.vc_formula, "reml": self.reml, "sigma2": self.sigma2,
            "var_fixed": self.var_fixed, "var_random": self.var_random,
            "r2_marginal": self.r2_marginal, "r2_conditional": self.r2_conditional,
            "icc_adjusted": self.icc_adjusted, "icc_unadjusted": self.icc_unadjusted,
            "n_obs": self.n_obs, "n_groups": self.n_groups, "loglik": self.loglik,
            "aic": self.aic, "bic": self.bic, "converged": self.converged,
            "warnings": list(self.warnings), "ci_level": self.ci_level,
            "df_method": self.df_method,
        }


def _format_p(p: float) -> str:
    if not np.isfinite(p):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def table_to_markdown(table: pd.DataFrame) -> str:
    """A plain pipe table (GitHub Markdown) of a string table such as :meth:`report_table`."""
    cols = [str(c) for c in table.columns]
    cells = table.astype(str).to_numpy()
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
    return "\n".join(lines) + "\n"


# ---- fitting -----------------------------------------------------------------------------------


def _design(formula: str, data: pd.DataFrame, what: str) -> tuple[Any, ...]:
    check_formula(formula)  # never evaluate a term that is not allow-listed
    try:
        with np.errstate(all="ignore"):
            if "~" in formula and not formula.strip().startswith("~"):
                y, X = patsy.dmatrices(formula, data, eval_env=_eval_env(),
                                       return_type="dataframe", NA_action="raise")
                return y, X
            Z = patsy.dmatrix(formula, data, eval_env=_eval_env(), return_type="dataframe",
                              NA_action="raise")
            return (Z,)
    except patsy.PatsyError as exc:
        raise InputDataError(f"cannot build the {what} {formula!r}: {exc}",
                             field="formula") from exc


def _check_finite(frame: pd.DataFrame, data: pd.DataFrame, what: str) -> None:
    a = frame.to_numpy(dtype=float)
    bad = ~np.isfinite(a)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise InputDataError(
            f"{what} column {frame.columns[j]!r} is not finite (e.g. log of a value ≤ 0)",
            row=int(i) + 2, field=str(frame.columns[j]), value=float(a[i, j]),
        )


def _check_missing(data: pd.DataFrame, columns: Sequence[str]) -> None:
    for c in columns:
        na = data[c].isna().to_numpy()
        if na.any():
            i = int(np.flatnonzero(na)[0])
            raise InputDataError(
                f"missing value ({int(na.sum())} row(s) in this column); fill or remove these "
                "rows first — mixed models are not fitted on silently dropped rows",
                row=i + 2, field=str(c),
            )


def _check_rank(X: pd.DataFrame) -> None:
    from wholesoil.stats._collinearity import find_linear_combos

    a = X.to_numpy(float)
    if np.linalg.matrix_rank(a) == a.shape[1]:
        return
    names = [str(c) for c in X.columns]
    combos = find_linear_combos(a)
    parts = [
        f"{names[c[0]]!r} is a linear combination of {[names[i] for i in c[1:]]}"
        for c in combos.linear_combos
    ]
    constant = [n for n, col in zip(names, a.T, strict=True)
                if n != "Intercept" and np.ptp(col) == 0]
    if constant:
        parts.append(f"constant column(s) {constant}")
    raise InputDataError(
        "the fixed-effects design is singular (collinear columns): " + "; ".join(parts)
        + f"; design columns: {names}",
        field="formula",
    )


def fit_mixed(
    data: pd.DataFrame,
    formula: str,
    group: str,
    *,
    slopes: Sequence[str] | None = None,
    re_formula: str | None = None,
    vc_formula: Mapping[str, str] | None = None,
    reml: bool = True,
    ci_level: float = 0.95,
    df_method: DfMethod = "normal",
) -> MixedModelResult:
    """Fit a linear mixed model, lme4 style, and compute He et al. (2024) Table 1's statistics.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per observation.
    formula : str
        patsy formula of the fixed effects, e.g. ``"log10(soc) ~ npp + mat + depth"``; numpy
        functions (``log10``, ``log``, ``sqrt``, ``exp``, ``np.*``), ``zscore(x)`` (R's
        ``scale``, see :data:`zscore`), ``C(x)``, ``I(...)`` and ``Q("odd name")`` work.
    group : str
        Column of the grouping factor (source, biome, region): random intercepts by default.
    slopes : sequence of str, optional
        Variables with correlated random slopes, lme4's ``(1 + x | group)``
        (Wang G. et al. (manuscript) Eq. 8).
    re_formula : str, optional
        Full random-effects formula within groups instead of ``slopes`` (``"1 + x"``,
        ``"0 + x"`` for uncorrelated slope without intercept).
    vc_formula : mapping, optional
        Variance components for factors nested in ``group``, e.g. ``{"site": "0 + C(site)"}``
        is lme4's ``(1 | group/site)``.
    reml : bool, default True
        Restricted maximum likelihood (lme4's default) or maximum likelihood.
    ci_level : float, default 0.95
        Level of the Wald intervals of the fixed effects.
    df_method : {"normal", "residual"}
        Reference distribution of the Wald tests (see :data:`DfMethod`).

    Returns
    -------
    MixedModelResult

    Raises
    ------
    MissingColumnError
        A formula names a column that is not in ``data`` (the message lists the columns).
    InputDataError
        Missing or non-finite values in a used column, a grouping with fewer than two levels,
        a singular fixed-effects design (the collinear columns are named).
    """
    from statsmodels.regression.mixed_linear_model import MixedLM, VCSpec

    re_f = _check_arguments(data, formula, group, slopes, re_formula, ci_level, df_method)
    vc = dict(vc_formula or {})
    used = _check_columns(data, formula, "formula")
    if re_f.strip() != "1":
        used += _check_columns(data, "~ " + re_f, "random-effects formula")
    for v, f in vc.items():
        used += _check_columns(data, "~ " + f, f"variance-component formula ({v})")
    used = list(dict.fromkeys([*used, group]))
    _check_missing(data, used)
    data = data.reset_index(drop=True)

    y_df, X = _design(formula, data, "formula")
    if y_df.shape[1] != 1:
        raise InputDataError("the response must be one numeric column", field="formula",
                             value=list(y_df.columns), has_value=True)
    _check_finite(y_df, data, "response")
    _check_finite(X, data, "fixed-effects design")
    g = data[group].to_numpy()
    levels, codes = np.unique(g.astype(str), return_inverse=True)
    if levels.size < 2:
        raise InputDataError(
            "the grouping factor needs at least two levels for a random effect",
            field=group, value=levels.tolist(), has_value=True,
        )
    if X.shape[0] <= X.shape[1]:
        raise InputDataError(f"{X.shape[0]} observations for {X.shape[1]} fixed effects",
                             field="formula")
    _check_rank(X)

    z_info = None
    if re_f.strip() == "1":
        Z = pd.DataFrame({"Intercept": np.ones(len(data))})
    else:
        (Z,) = _design("~ " + re_f, data, "random-effects formula")
        _check_finite(Z, data, "random-effects design")
        z_info = Z.design_info
    re_names = [str(c) for c in Z.columns]

    rows_of = [np.flatnonzero(codes == k) for k in range(levels.size)]
    vc_names, vc_cols, vc_mats, vc_sumsq = _variance_component_designs(vc, data, rows_of)
    y = y_df.iloc[:, 0].to_numpy(float)
    model = MixedLM(
        y, X.to_numpy(float), groups=codes, exog_re=Z.to_numpy(float),
        exog_vc=VCSpec(vc_names, vc_cols, vc_mats),
    )
    res, converged, messages = _fit(model, reml)

    beta, fixed = _fixed_effects(res, X, y.size, ci_level, df_method)
    p = beta.size
    n = y.size
    sigma2 = float(res.scale)
    cov_re = np.atleast_2d(np.asarray(res.cov_re, dtype=float))
    vcomp = np.asarray(res.vcomp, dtype=float).ravel()

    Za = Z.to_numpy(float)
    eta = X.to_numpy(float) @ beta
    var_fixed = float(np.var(eta, ddof=1))
    var_random = float(np.mean(np.einsum("ij,jk,ik->i", Za, cov_re, Za)))
    var_random += float(np.dot(vcomp, vc_sumsq)) if vcomp.size else 0.0
    total = var_fixed + var_random + sigma2

    # random effects (conditional modes), one row per group
    try:
        re_dict = res.random_effects
    except ValueError:  # singular Σ (boundary fit, e.g. τ00 = 0): BLUPs directly
        re_dict = _blups(y - eta, Za, cov_re, vc_mats, vcomp, sigma2, rows_of)
    ranef, fitted = _random_effects_and_fit(re_dict, levels, re_names, vc_names, vc_cols,
                                            vc_mats, rows_of, group, eta, Za, codes)
    vc_rows = _variance_rows(sigma2, re_names, cov_re, group, vc_names, vcomp, vc)

    k_params = p + len(re_names) * (len(re_names) + 1) // 2 + len(vc_names) + 1
    llf = float(res.llf)
    return MixedModelResult(
        formula=formula, group=group, re_formula=re_f, vc_formula=vc, reml=reml,
        fixed_effects=fixed, variance_components=pd.DataFrame(vc_rows),
        sigma2=sigma2, cov_re=pd.DataFrame(cov_re, index=re_names, columns=re_names),
        vcomp=pd.Series(vcomp, index=vc_names, dtype=float),
        var_fixed=var_fixed, var_random=var_random, var_residual=sigma2,
        r2_marginal=var_fixed / total, r2_conditional=(var_fixed + var_random) / total,
        icc_adjusted=var_random / (var_random + sigma2), icc_unadjusted=var_random / total,
        n_obs=int(n), n_groups=int(levels.size), loglik=llf,
        aic=-2 * llf + 2 * k_params, bic=-2 * llf + np.log(n) * k_params,
        converged=converged, warnings=messages, random_effects=ranef,
        fitted=fitted, fitted_fixed=eta, response=str(y_df.columns[0]),
        ci_level=ci_level, df_method=df_method, statsmodels_result=res,
        _designs={"x_info": X.design_info, "z_info": z_info, "re_names": re_names,
                  "rhs_formula": "~ " + formula.split("~", 1)[1]},
    )


def _check_arguments(data, formula, group, slopes, re_formula, ci_level, df_method) -> str:
    """Check :func:`fit_mixed`'s arguments; return the random-effects formula within groups."""
    if not isinstance(data, pd.DataFrame):
        raise InputDataError("data must be a pandas DataFrame", field="data",
                             value=type(data).__name__, has_value=True)
    if slopes and re_formula:
        raise InputDataError("give either slopes or re_formula, not both", field="slopes")
    if not 0 < ci_level < 1:
        raise InputDataError("ci_level must be in (0, 1)", field="ci_level", value=ci_level)
    if df_method not in ("normal", "residual"):
        raise InputDataError("df_method must be 'normal' or 'residual'", field="df_method",
                             value=df_method)
    if "~" not in formula:
        raise InputDataError("formula needs a response: 'y ~ x1 + x2'", field="formula",
                             value=formula)
    if group not in data.columns:
        raise MissingColumnError(
            f"group column not in the table; available columns: {list(map(str, data.columns))}",
            field=group,
        )
    return "1" if not slopes and not re_formula else (
        re_formula if re_formula else "1 + " + " + ".join(slopes or []))


def _variance_component_designs(vc: Mapping[str, str], data: pd.DataFrame,
                                rows_of: list[np.ndarray]):
    """Per variance component (sorted by name): column names and design matrices per group,
    and the mean squared design entry (its weight in the random-effect variance)."""
    vc_names, vc_cols, vc_mats = [], [], []
    vc_sumsq = []
    for v in sorted(vc):
        cols_g, mats_g = [], []
        ss = 0.0
        for ix in rows_of:
            (W,) = _design(vc[v], data.iloc[ix], f"variance-component formula ({v})")
            _check_finite(W, data.iloc[ix], f"variance-component ({v})")
            cols_g.append([str(c) for c in W.columns])
            mats_g.append(W.to_numpy(float))
            ss += float((W.to_numpy(float) ** 2).sum())
        vc_names.append(v)
        vc_cols.append(cols_g)
        vc_mats.append(mats_g)
        vc_sumsq.append(ss / len(data))
    return vc_names, vc_cols, vc_mats, vc_sumsq


def _fixed_effects(res, X: pd.DataFrame, n: int, ci_level: float, df_method: str):
    """β and the table of fixed effects with Wald statistics, intervals and p-values."""
    beta = np.asarray(res.fe_params, dtype=float)
    p = beta.size
    cov_fe = np.asarray(res.cov_params())[:p, :p]
    se = np.sqrt(np.diag(cov_fe))
    stat = beta / se
    if df_method == "normal":
        pval = 2 * stats.norm.sf(np.abs(stat))
        crit = stats.norm.ppf(0.5 + ci_level / 2)
    else:
        pval = 2 * stats.t.sf(np.abs(stat), n - p)
        crit = stats.t.ppf(0.5 + ci_level / 2, n - p)
    xnames = [str(c) for c in X.columns]
    fixed = pd.DataFrame({
        "term": ["(Intercept)" if c == "Intercept" else c for c in xnames],
        "estimate": beta, "std_error": se, "statistic": stat,
        "ci_lower": beta - crit * se, "ci_upper": beta + crit * se, "p_value": pval,
    })
    return beta, fixed


def _random_effects_and_fit(re_dict, glabels, re_names, vc_names, vc_cols, vc_mats, rows_of,
                            group, eta, Za, codes):
    """Conditional modes as a table (one row per group) and the conditional fitted values."""
    re_rows = []
    for k, lab in enumerate(glabels):
        vals = np.asarray(re_dict[k], dtype=float)
        names = list(re_names)
        for j, v in enumerate(vc_names):
            names += [f"{v}[{c}]" for c in vc_cols[j][k]]
        re_rows.append(pd.Series(vals, index=names, name=lab))
    ranef = pd.DataFrame(re_rows)
    ranef.index.name = group
    ranef = ranef.fillna(0.0)
    B = ranef[re_names].to_numpy(float)
    fitted = eta + np.einsum("ij,ij->i", Za, B[codes])
    for j, v in enumerate(vc_names):
        for k, ix in enumerate(rows_of):
            b = ranef.iloc[k][[f"{v}[{c}]" for c in vc_cols[j][k]]].to_numpy(float)
            fitted[ix] += vc_mats[j][k] @ b
    return ranef, fitted


def _variance_rows(sigma2, re_names, cov_re, group, vc_names, vcomp, vc) -> list[dict]:
    """Rows of the variance-component table (σ², τ00, τii, τ0i, ρ0i, nested components)."""
    vc_rows = [{"component": "sigma2", "group": "Residual", "term": "", "value": sigma2}]
    for i, nm in enumerate(re_names):
        vc_rows.append({"component": "tau00" if i == 0 and nm == "Intercept" else f"tau{i}{i}",
                        "group": group, "term": nm, "value": float(cov_re[i, i])})
    for i in range(1, len(re_names)):
        vc_rows.append({"component": f"tau0{i}", "group": group,
                        "term": f"{re_names[0]}:{re_names[i]}", "value": float(cov_re[0, i])})
        vc_rows.append({"component": f"rho0{i}", "group": group,
                        "term": f"{re_names[0]}:{re_names[i]}",
                        "value": float(cov_re[0, i] / np.sqrt(cov_re[0, 0] * cov_re[i, i]))})
    for v, val in zip(vc_names, vcomp, strict=True):
        vc_rows.append({"component": "vc", "group": f"{v}:{group}", "term": vc[v],
                        "value": float(val)})
    return vc_rows


def _blups(resid: np.ndarray, Z: np.ndarray, cov_re: np.ndarray, vc_mats: list[list[np.ndarray]],
           vcomp: np.ndarray, sigma2: float, rows_of: list[np.ndarray]) -> list[np.ndarray]:
    """Conditional means of the random effects, b_g = G Ugᵀ V_g⁻¹ (y_g − X_g β̂).

    U_g = [Z_g, W_g1, …] stacks the random-effects and variance-component designs of group g,
    G = blockdiag(Σ, τ_1 I, …) and V_g = σ² I + U_g G U_gᵀ (Henderson). Used when Σ is
    singular (a boundary fit), where statsmodels declines; a zero variance gives zero effects.
    """
    out = []
    for k, ix in enumerate(rows_of):
        blocks = [Z[ix]] + [m[k] for m in vc_mats]
        U = np.concatenate(blocks, axis=1)
        G = np.zeros((U.shape[1], U.shape[1]))
        q = Z.shape[1]
        G[:q, :q] = cov_re
        pos = q
        for j, m in enumerate(vc_mats):
            w = m[k].shape[1]
            G[pos:pos + w, pos:pos + w] = vcomp[j] * np.eye(w)
            pos += w
        V = sigma2 * np.eye(ix.size) + U @ G @ U.T
        out.append(G @ U.T @ np.linalg.solve(V, resid[ix]))
    return out


def _fit(model: Any, reml: bool) -> tuple[Any, bool, list[str]]:
    """Fit with each optimizer of :data:`FIT_METHODS` until one converges.

    The warnings statsmodels raises during the fit that is returned (convergence, boundary,
    singular covariance) are returned as text and re-issued as warnings, not swallowed; an
    optimizer that failed before is mentioned too.
    """
    notes: list[str] = []
    best, best_msgs = None, []
    for method in FIT_METHODS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                res = model.fit(reml=reml, method=[method])
            except (np.linalg.LinAlgError, ValueError) as exc:
                notes.append(f"optimizer {method} failed: {type(exc).__name__}: {exc}")
                continue
        msgs = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
        if not (np.isfinite(res.llf) and np.all(np.isfinite(res.fe_params))):
            # statsmodels can report convergence with llf = inf at Σ = 0 exactly
            notes.append(f"optimizer {method} ended at a degenerate point (log-likelihood "
                         f"{res.llf}); discarded")
            continue
        if best is None or (res.converged and not best.converged) or (
                res.converged == best.converged and res.llf > best.llf):
            best, best_msgs = res, msgs
        if res.converged:
            if notes:
                notes.append(f"optimizer {method} converged")
            break
        notes.append(f"optimizer {method} did not converge")
    if best is not None and best.converged:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                pol = model.fit(reml=reml, method=["bfgs"], start_params=best.params_object,
                                gtol=POLISH_GTOL)
                if pol.converged and np.isfinite(pol.llf) and pol.llf >= best.llf:
                    best = pol
            except (np.linalg.LinAlgError, ValueError):
                pass  # keep the converged fit
    if best is None:
        raise InputDataError("MixedLM could not fit the model with any optimizer: "
                             + "; ".join(notes), field="formula")
    if not best.converged:
        notes.append("no optimizer converged; the estimates are those with the highest "
                     "likelihood and may be unreliable")
    messages = [*notes, *best_msgs]
    # optimizers that failed before another converged are recorded in the result only
    for m in (messages if not best.converged else best_msgs):
        warnings.warn(f"MixedLM: {m}", UserWarning, stacklevel=3)
    return best, bool(best.converged), messages
