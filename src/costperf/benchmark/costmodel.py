"""Cost-driver regression: OLS on logs and quantile regression, reproducing R.

Which drivers explain why one contract's unit cost differs from another's (wage level,
frequency, road grade, scale)? :func:`fit_cost_model` fits a cost function written as a
model formula, e.g. ``np.log(unit_cost) ~ np.log(wage_index) + C(road_grade)``:

* **OLS** (statsmodels) with the standard errors chosen by ``se``. Each type is the one
  R users know, named in the output:

  ==========  ==============================================================
  ``se``      R equivalent
  ==========  ==============================================================
  nonrobust   ``summary(lm(f))``
  HC0..HC3    ``lmtest::coeftest(m, vcov = sandwich::vcovHC(m, type = "HCk"))``
  cluster     ``coeftest(m, vcov = sandwich::vcovCL(m, cluster = ~g))``, i.e.
              ``vcovCL(type = "HC1", cadjust = TRUE)``: the factor
              ``G/(G-1) * (n-1)/(n-k)`` (statsmodels' and Stata's CRV1)
  ==========  ==============================================================

  Every OLS test is a *t* test with the residual degrees of freedom ``n - k``, as
  ``coeftest`` does for ``lm`` objects whatever the covariance (Stata would use
  ``G - 1`` for clusters); confidence intervals use the same *t* quantile (``coefci``).
* **Quantile regression** (``quantile=tau``, e.g. 0.25 for an efficient-quartile cost
  function) solved *exactly* as a linear program (HiGHS dual simplex on the dual of
  Koenker's LP, then the vertex recomputed from its ``p`` interpolated observations), so
  the coefficients are those of R ``quantreg::rq(method = "br")`` whenever the solution
  is unique (flagged in ``fit["solution_unique"]``). Standard errors follow the code of
  ``quantreg::summary.rq``: ``iid`` (Koenker-Bassett sparsity), ``nid`` (Hendricks-
  Koenker sandwich, Hall-Sheather bandwidth; R's default when n > 1000) and ``ker``
  (Powell kernel sandwich); tests are *t* tests with ``n - p`` degrees of freedom.
  Each LP takes about 3 s at n = 100 000 (``nid`` solves three).
  R's default for n <= 1000, ``se = "rank"`` (rank-inversion intervals, no standard
  error), is not supported.

Formulas are parsed by patsy (the engine behind statsmodels' formula API) in a fixed
namespace: ``np``, ``log``, ``log10``, ``exp``, ``sqrt`` and patsy's ``C``, ``I``, ``Q``
... Columns are named as in the data; a header that is not a Python name is written
``Q("金额（元）")``. A column used bare whose cells are all text (``district``) is a
factor, as in R; a numeric column is a factor only inside ``C()``. Terms are put in R's
order (intercept, main effects, interactions, each in formula order); ``term_r`` gives R's
coefficient name (``(Intercept)``, ``log(q)``, ``gradeB`` for ``C(grade)[T.B]``). Factor levels are sorted by code point,
so the reference level is the first in that order (R in a Chinese locale may sort
differently, which reparametrises the dummies but leaves fitted values unchanged).

Every input problem raises :class:`~costperf.errors.InputError` naming file, row and
column: unknown columns, text in a number column, blanks, the log of a value <= 0, too
few rows, collinear terms, a quantile outside (0, 1), an unknown standard-error type.

References
----------
Koenker, R. (2005). *Quantile Regression*. Cambridge University Press.
Koenker, R. quantreg (R package): ``rq.fit.br``, ``summary.rq``, ``bandwidth.rq``.
Zeileis, A. et al. sandwich (R package): ``vcovHC``, ``vcovCL``.
Duan, N. (1983). Smearing estimate. *JASA* 78(383), 605-610.
Fox, J. & Monette, G. (1992). Generalized collinearity diagnostics. *JASA* 87, 178-183.
"""

from __future__ import annotations

import ast
import numbers
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import patsy
import patsy.builtins

from costperf.errors import InputError, raise_if_problems
from costperf.schemas import (
    LOCATION,
    coerce_numeric,
    coerce_text,
    concat_problems,
    parse_numbers,
    row_problems,
)

OLS_SE_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster")
QUANTILE_SE_TYPES = ("iid", "nid", "ker")
RETRANSFORMS = ("smearing", "lognormal")

_SE_LABELS = {
    "nonrobust": "nonrobust (classical OLS; R summary(lm))",
    **{f"HC{k}": f"HC{k} (R sandwich::vcovHC(type = 'HC{k}'))" for k in range(4)},
    "iid": "iid (R quantreg summary.rq(se = 'iid'), Hall-Sheather bandwidth)",
    "nid": "nid (R quantreg summary.rq(se = 'nid'), Hall-Sheather bandwidth)",
    "ker": "ker (R quantreg summary.rq(se = 'ker'), Powell kernel)",
}
_FUNCTIONS = {
    "np": np,
    "numpy": np,
    "log": np.log,
    "log10": np.log10,
    "exp": np.exp,
    "sqrt": np.sqrt,
}
_NAMESPACE = {**{n: getattr(patsy.builtins, n) for n in patsy.builtins.__all__}, **_FUNCTIONS}
_LOG_RESPONSE = re.compile(r"^\s*(?:(?:np|numpy)\s*\.\s*)?log\((?P<inner>.+)\)\s*$")
_RANK_TOL = 1e-7  # R lm's tolerance for linear dependence of design columns
_SQRT_EPS = float(np.sqrt(np.finfo(float).eps))  # quantreg's eps in summary.rq


@dataclass(frozen=True, eq=False)
class _Spec:
    """What prediction needs to rebuild the design for new rows."""

    design_info: object  # patsy DesignInfo of the right-hand side
    order: np.ndarray  # column permutation from patsy's order to R's order
    numeric: tuple[str, ...]  # right-hand-side columns parsed as numbers
    categorical: tuple[str, ...]  # right-hand-side columns used as factors
    factor_columns: dict[str, tuple[str, ...]]  # factor code -> data columns it uses
    log_response: bool
    xtx_inv: np.ndarray  # (X'X)^-1, for R predict.lm intervals


@dataclass(frozen=True, eq=False)
class CostModel:
    """A fitted cost-driver regression.

    Attributes
    ----------
    formula
        The model formula as given.
    method
        ``"ols"`` or ``"quantile"``.
    quantile
        The quantile tau for quantile regression, else None.
    se
        Standard-error type (one of :data:`OLS_SE_TYPES` or :data:`QUANTILE_SE_TYPES`).
    coefficients
        One row per coefficient: ``term`` (patsy name), ``term_r`` (R name), ``coef``,
        ``se``, ``stat_name`` ('t'), ``stat``, ``df``, ``p_value`` (two-sided),
        ``ci_low``, ``ci_high`` (level ``1 - alpha``), ``se_method`` (the R equivalent).
    fit
        Scalars: ``n``, ``n_params``, ``df_resid``, ``se``, ``se_method`` and for OLS
        ``r2``, ``adj_r2``, ``sigma``, ``ssr``, ``loglik``, ``aic``, ``bic`` (R's
        ``AIC(lm)``, counting sigma), ``smearing_factor``; for quantile regression
        ``tau``, ``objective`` (sum of check losses), ``pseudo_r2`` (Koenker-Machado
        R1), ``solution_unique`` (None when degenerate), ``aic``/``bic`` (R ``AIC.rq``)
        and the bandwidth or sparsity used by the standard errors.
    cov
        Covariance matrix of the coefficients used for ``se``.
    result
        The statsmodels results object (OLS only; for internal use).
    """

    formula: str
    method: str
    quantile: float | None
    se: str
    coefficients: pd.DataFrame
    fit: dict[str, object]
    cov: pd.DataFrame = field(repr=False)
    result: object | None = field(default=None, repr=False)
    spec: _Spec | None = field(default=None, repr=False)


# --------------------------------------------------------------------------- formula


@dataclass(frozen=True)
class _Formula:
    text: str
    response: str | None  # left-hand-side code
    numeric: tuple[str, ...]  # columns that must be numbers (all sides)
    categorical: tuple[str, ...]  # columns used as factors
    factor_columns: dict[str, tuple[str, ...]]


def _code_names(code: str) -> list[tuple[str, str]]:
    """Names in a factor's code with their role: 'call', 'factor' (inside C()), 'value'."""
    found: list[tuple[str, str]] = []

    def visit(node: ast.AST, role: str) -> None:
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else None
            if name is None:
                visit(func, "value")
            else:
                found.append((name, "call"))
            first = node.args[0] if node.args else None
            if name == "Q" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((first.value, role))
                return
            for i, arg in enumerate(node.args):
                visit(arg, "factor" if name == "C" and i == 0 else role)
            for keyword in node.keywords:
                visit(keyword.value, "value")
        elif isinstance(node, ast.Name):
            found.append((node.id, role))
        else:
            for child in ast.iter_child_nodes(node):
                visit(child, role)

    visit(ast.parse(code.strip(), mode="eval").body, "value")
    return found


def _parse_formula(formula: object, frame: pd.DataFrame, *, need_response: bool) -> _Formula:
    """Parse ``formula`` and decide, for every column it uses, numeric or factor."""
    if not isinstance(formula, str) or not formula.strip():
        msg = f"the formula must be text such as 'np.log(cost) ~ np.log(output)', got {formula!r}"
        raise InputError(msg)
    try:
        desc = patsy.ModelDesc.from_formula(formula)
    except patsy.PatsyError as exc:
        msg = f"formula {formula!r} could not be parsed: {exc}"
        raise InputError(msg) from exc
    lhs = [f.code for t in desc.lhs_termlist for f in t.factors]
    if need_response and len(lhs) != 1:
        msg = (
            f"formula {formula!r} needs one response left of '~' "
            f"(e.g. 'np.log(unit_cost) ~ np.log(wage_index)'), got {len(lhs)}"
        )
        raise InputError(msg)
    rhs = list(dict.fromkeys(f.code for t in desc.rhs_termlist for f in t.factors))
    columns = [c for c in frame.columns if c not in LOCATION]
    numeric, categorical, bare, factor_columns = set(), set(), set(), {}
    for side, codes in (("lhs", lhs), ("rhs", rhs)):
        for code in codes:
            used = _columns_of_code(code, columns, formula, frame)
            factor_columns[code] = tuple(dict.fromkeys(name for name, _ in used))
            for name, role in used:
                if role == "factor":
                    categorical.add(name)
                elif side == "rhs" and code.strip() in (name, f'Q("{name}")', f"Q('{name}')"):
                    bare.add(name)
                else:
                    numeric.add(name)
    for name in sorted(bare - numeric - categorical):
        numbers, missing, unparsable = parse_numbers(frame[name])
        (categorical if unparsable.sum() == (~missing).sum() > 0 else numeric).add(name)
    categorical -= numeric
    return _Formula(
        formula,
        lhs[0] if lhs else None,
        tuple(sorted(numeric)),
        tuple(sorted(categorical)),
        factor_columns,
    )


def _columns_of_code(
    code: str, columns: list[str], formula: str, frame: pd.DataFrame
) -> list[tuple[str, str]]:
    """Data columns used by one factor's code; unknown names raise InputError."""
    used = []
    for name, role in _code_names(code):
        if name in columns:
            if role != "call":
                used.append((name, role))
        elif name in _NAMESPACE:
            continue
        elif role == "call":
            known = ", ".join(sorted(_NAMESPACE))
            msg = (
                f"formula {formula!r}: unknown function '{name}' in '{code}'; "
                f"known names: {known} (and np.<function>)"
            )
            raise InputError(msg)
        else:
            listing = ", ".join(str(c) for c in columns) or "none"
            msg = (
                f"{_where(frame)}: the formula {formula!r} uses column '{name}', which "
                f"is not in the data; available columns: {listing}"
            )
            raise InputError(msg)
    return used


def _where(frame: pd.DataFrame) -> str:
    source = frame.attrs.get("source", ("", ""))
    path, sheet = source if isinstance(source, tuple) else (str(source), "")
    if not path and "source_file" in frame.columns and len(frame):
        path = str(frame["source_file"].iloc[0])
        sheet = str(frame["sheet"].iloc[0]) if "sheet" in frame.columns else ""
    return (path + (f", sheet '{sheet}'" if sheet else "")) if path else "the data"


def _typed(
    frame: pd.DataFrame, numeric: tuple[str, ...], categorical: tuple[str, ...], *, what: str
) -> pd.DataFrame:
    """Coerce the used columns (numbers, factor levels as text); raise on any problem."""
    work = frame.reset_index(drop=True)
    work.attrs = dict(frame.attrs)
    work, bad_numbers = coerce_numeric(work, list(numeric))
    work, bad_levels = coerce_text(work, list(categorical), required=list(categorical))
    raise_if_problems(concat_problems([bad_numbers, bad_levels]), what)
    return work


# ---------------------------------------------------------------------------- design


@dataclass(frozen=True, eq=False)
class _Design:
    y: np.ndarray | None
    X: np.ndarray
    names: list[str]
    term_slices: list[tuple[str, slice]]  # in R order, on the permuted columns
    design_info: object
    order: np.ndarray
    work: pd.DataFrame


def _build_design(frame: pd.DataFrame, parsed: _Formula, *, what: str) -> _Design:
    """Evaluate the formula on typed data; check finiteness; put columns in R order."""
    work = _typed(frame, parsed.numeric, parsed.categorical, what=what)
    text = parsed.text if parsed.response else "~ " + parsed.text.split("~", 1)[-1]
    y, X = _evaluate(text, work, parsed.response is not None)
    problems = _nonfinite_problems(work, frame.reset_index(drop=True), parsed, X, y)
    raise_if_problems(problems, what)
    info = X.design_info
    order, term_slices = _r_order(info, patsy.ModelDesc.from_formula(text))
    names = [info.column_names[i] for i in order]
    return _Design(
        None if y is None else np.asarray(y, dtype=float)[:, 0],
        np.asarray(X, dtype=float)[:, order],
        names,
        term_slices,
        info,
        order,
        work,
    )


def _evaluate(text: str, work: pd.DataFrame, with_response: bool):
    env = patsy.EvalEnvironment([_FUNCTIONS])
    keep = patsy.NAAction(NA_types=[])
    try:
        with np.errstate(all="ignore"):
            if with_response:
                y, X = patsy.dmatrices(
                    text, work, eval_env=env, NA_action=keep, return_type="dataframe"
                )
            else:
                y, X = (
                    None,
                    patsy.dmatrix(
                        text, work, eval_env=env, NA_action=keep, return_type="dataframe"
                    ),
                )
    except Exception as exc:  # noqa: BLE001 - patsy evaluates the user's own expressions
        msg = f"{_where(work)}: formula {text!r} could not be evaluated: {exc}"
        raise InputError(msg) from exc
    if y is not None and y.shape[1] != 1:
        msg = (
            f"formula {text!r}: the response must be one numeric column, got "
            f"{y.shape[1]} columns ({', '.join(y.columns)})"
        )
        raise InputError(msg)
    return y, X


def _nonfinite_problems(
    work: pd.DataFrame,
    raw: pd.DataFrame,
    parsed: _Formula,
    X: pd.DataFrame,
    y: pd.DataFrame | None,
) -> pd.DataFrame:
    """One problem per row and column where a transform (log, sqrt, ...) is not finite.

    ``work`` holds the parsed numbers, ``raw`` (same rows) the cells as the user wrote them.
    """
    bad_rows = ~np.isfinite(X.to_numpy(dtype=float)).all(axis=1)
    if y is not None:
        bad_rows |= ~np.isfinite(y.to_numpy(dtype=float)[:, 0])
    if not bad_rows.any():
        return concat_problems([])
    parts = []
    env = patsy.EvalEnvironment([_FUNCTIONS])
    keep = patsy.NAAction(NA_types=[])
    for code, columns in parsed.factor_columns.items():
        if not columns or not set(columns) <= set(parsed.numeric):
            continue
        with np.errstate(all="ignore"):
            values = patsy.dmatrix(f"0 + {code}", work, eval_env=env, NA_action=keep)
        mask = pd.Series(~np.isfinite(np.asarray(values)).all(axis=1), index=work.index)
        expected = (
            f"a number > 0 (the formula takes {code})"
            if "log" in code
            else f"a value for which {code} is a finite number"
        )
        for column in columns:
            parts.append(
                row_problems(
                    work, mask, column, expected, "nonfinite_transform", values=raw[column]
                )
            )
    if not parts:  # not traceable to one column (e.g. an overflow in an interaction)
        expected = "values for which every term of the formula is a finite number"
        parts.append(
            row_problems(
                work, pd.Series(bad_rows, index=work.index), "", expected, "nonfinite_transform"
            )
        )
    return concat_problems(parts)


def _r_order(info, desc) -> tuple[np.ndarray, list[tuple[str, slice]]]:
    """Permutation putting patsy's columns in R's order; term slices after permuting."""
    formula_pos = {term: i for i, term in enumerate(desc.rhs_termlist)}
    terms = sorted(info.terms, key=lambda t: (len(t.factors), formula_pos.get(t, 0)))
    order, slices, start = [], [], 0
    for term in terms:
        cols = list(range(info.term_slices[term].start, info.term_slices[term].stop))
        order += cols
        slices.append((term.name(), slice(start, start + len(cols))))
        start += len(cols)
    return np.array(order, dtype=int), slices


def _check_estimable(design: _Design, *, min_rows: int, what: str) -> None:
    """Raise if there are too few rows or the design columns are collinear."""
    n, p = design.X.shape
    if n < min_rows:
        msg = (
            f"{what}: {n} row(s) for {p} coefficient(s) ({', '.join(design.names)}); "
            f"the model needs at least {min_rows} rows"
        )
        raise InputError(msg)
    norms = np.linalg.norm(design.X, axis=0)
    if (norms == 0).any():
        zero = [design.names[j] for j in np.flatnonzero(norms == 0)]
        msg = f"{what}: singular design: column(s) {', '.join(zero)} are all zero"
        raise InputError(msg)
    _, s, vt = np.linalg.svd(design.X / norms, full_matrices=False)
    null = vt[s < _RANK_TOL * s[0]]
    if len(null):
        groups = [
            "{"
            + ", ".join(
                f"'{design.names[j]}'" for j in np.flatnonzero(np.abs(v) > 1e-3 * np.abs(v).max())
            )
            + "}"
            for v in null
        ]
        msg = (
            f"{what}: singular design: these terms are collinear (one is an exact "
            f"linear combination of the others): {'; '.join(groups)}; drop one of each"
        )
        raise InputError(msg)


# ------------------------------------------------------------------------------ fit


def fit_cost_model(
    frame: pd.DataFrame,
    formula: str,
    *,
    se: str = "nonrobust",
    cluster: str | None = None,
    quantile: float | None = None,
    se_quantile: str = "nid",
    alpha: float = 0.05,
) -> CostModel:
    """Fit a cost-driver regression (OLS, or quantile regression when ``quantile``).

    Parameters
    ----------
    frame
        One row per unit (contract, project, district); the columns named in the
        formula, raw (text is parsed as numbers) or typed. ``source_file``/``source_row``
        columns, if present, locate problems.
    formula
        Model formula, e.g. ``"np.log(unit_cost) ~ np.log(wage_index) + C(road_grade)"``.
    se
        OLS standard errors: one of :data:`OLS_SE_TYPES`.
    cluster
        Column whose values define clusters; required by, and only used with,
        ``se="cluster"``.
    quantile
        Quantile tau in (0, 1) for quantile regression; None for OLS.
    se_quantile
        Quantile-regression standard errors: one of :data:`QUANTILE_SE_TYPES`.
    alpha
        1 - confidence level of ``ci_low``/``ci_high``.

    Returns
    -------
    CostModel
        Coefficient table, fit statistics and what :func:`predict_cost` needs.
    """
    _check_options(se, cluster, quantile, se_quantile, alpha)
    parsed = _parse_formula(formula, frame, need_response=True)
    where = f"{_where(frame)} (formula {formula!r})"
    extra = (cluster,) if cluster is not None else ()
    design = _build_design(frame, _with_columns(parsed, extra, frame), what=where)
    n_params = design.X.shape[1]
    _check_estimable(design, min_rows=n_params + 1, what=where)
    if quantile is None:
        groups = _cluster_codes(design.work, cluster, what=where) if cluster else None
        return _fit_ols(design, parsed, se, groups, cluster, alpha)
    return _fit_quantile(design, parsed, float(quantile), se_quantile, alpha, what=where)


def _check_options(
    se: str, cluster: str | None, quantile: float | None, se_quantile: str, alpha: float
) -> None:
    if quantile is not None:
        if not _is_fraction(quantile):
            msg = f"quantile must be a number strictly between 0 and 1, got {quantile!r}"
            raise InputError(msg)
        if se != "nonrobust" or cluster is not None:
            msg = (
                f"se={se!r}/cluster are OLS options; quantile regression takes "
                f"se_quantile, one of: {', '.join(QUANTILE_SE_TYPES)}"
            )
            raise InputError(msg)
        if se_quantile not in QUANTILE_SE_TYPES:
            hint = (
                " (R's default 'rank', rank-inversion intervals without standard errors, "
                "is not supported)"
                if se_quantile == "rank"
                else ""
            )
            msg = (
                f"unknown quantile-regression standard error {se_quantile!r}{hint}; use "
                f"one of: {', '.join(QUANTILE_SE_TYPES)}"
            )
            raise InputError(msg)
    elif se not in OLS_SE_TYPES:
        msg = f"unknown standard-error type {se!r}; use one of: {', '.join(OLS_SE_TYPES)}"
        raise InputError(msg)
    elif (se == "cluster") != (cluster is not None):
        msg = (
            "se='cluster' needs the cluster column (cluster=..., CLI --cluster COL)"
            if cluster is None
            else f"a cluster column ({cluster!r}) is only used with se='cluster', got se={se!r}"
        )
        raise InputError(msg)
    _check_alpha(alpha)


def _is_fraction(value: object) -> bool:
    return (
        isinstance(value, numbers.Real) and not isinstance(value, bool) and 0.0 < float(value) < 1.0
    )


def _check_alpha(alpha: object) -> None:
    if not _is_fraction(alpha):
        msg = f"alpha must be a number strictly between 0 and 1, got {alpha!r}"
        raise InputError(msg)


def _with_columns(parsed: _Formula, extra: tuple[str, ...], frame: pd.DataFrame) -> _Formula:
    """Add the cluster column to the columns checked for blanks (as a factor)."""
    for name in extra:
        if name not in frame.columns or name in LOCATION:
            listing = ", ".join(str(c) for c in frame.columns if c not in LOCATION)
            msg = (
                f"{_where(frame)}: cluster column '{name}' is not in the data; available "
                f"columns: {listing}"
            )
            raise InputError(msg)
    categorical = tuple(sorted(set(parsed.categorical) | (set(extra) - set(parsed.numeric))))
    return _Formula(
        parsed.text, parsed.response, parsed.numeric, categorical, parsed.factor_columns
    )


def _cluster_codes(work: pd.DataFrame, cluster: str, *, what: str) -> np.ndarray:
    codes, levels = pd.factorize(work[cluster].astype(str))
    if len(levels) < 2:
        msg = f"{what}: cluster column '{cluster}' has {len(levels)} cluster(s); need >= 2"
        raise InputError(msg)
    return codes


def _coef_table(
    names: list[str], coef: np.ndarray, se: np.ndarray, df: float, alpha: float, se_method: str
) -> pd.DataFrame:
    from scipy import stats

    with np.errstate(divide="ignore", invalid="ignore"):
        stat = coef / se
    crit = stats.t.ppf(1.0 - alpha / 2.0, df)
    return pd.DataFrame(
        {
            "term": names,
            "term_r": [r_term_name(n) for n in names],
            "coef": coef,
            "se": se,
            "stat_name": "t",
            "stat": stat,
            "df": float(df),
            "p_value": 2.0 * stats.t.sf(np.abs(stat), df),
            "ci_low": coef - crit * se,
            "ci_high": coef + crit * se,
            "se_method": se_method,
        }
    )


def _fit_ols(
    design: _Design,
    parsed: _Formula,
    se: str,
    groups: np.ndarray | None,
    cluster: str | None,
    alpha: float,
) -> CostModel:
    import statsmodels.api as sm

    if se in ("HC2", "HC3"):
        _check_leverage(design, se)
    model = sm.OLS(design.y, pd.DataFrame(design.X, columns=design.names))
    if se == "nonrobust":
        result = model.fit(method="qr")
    elif se == "cluster":
        result = model.fit(
            method="qr",
            cov_type="cluster",
            use_t=True,
            cov_kwds={"groups": groups, "use_correction": True},
        )
    else:
        result = model.fit(method="qr", cov_type=se, use_t=True)
    cov = np.asarray(result.cov_params(), dtype=float)
    label = _SE_LABELS.get(se, "")
    if se == "cluster":
        label = (
            f"cluster by '{cluster}', {groups.max() + 1} clusters (R sandwich::vcovCL("
            f"type = 'HC1', cadjust = TRUE); CRV1)"
        )
    table = _coef_table(
        design.names,
        np.asarray(result.params),
        np.sqrt(np.diag(cov)),
        result.df_resid,
        alpha,
        label,
    )
    fit = _ols_fit_stats(design, np.asarray(result.resid), se, label)
    spec = _spec(design, parsed, np.asarray(result.normalized_cov_params, dtype=float))
    return CostModel(
        parsed.text,
        "ols",
        None,
        se,
        table,
        fit,
        pd.DataFrame(cov, index=design.names, columns=design.names),
        result,
        spec,
    )


def _check_leverage(design: _Design, se: str) -> None:
    """HC2/HC3 divide by 1 - leverage: a row that alone fixes a coefficient makes it 0."""
    q, _ = np.linalg.qr(design.X)
    one = pd.Series((q**2).sum(axis=1) > 1 - 1e-8, index=design.work.index)
    expected = (
        f"a row that does not alone determine a coefficient (its leverage is 1, so {se} is "
        f"undefined, as in R); use se='HC0' or 'HC1', or drop the row or the level"
    )
    raise_if_problems(
        row_problems(design.work, one, "", expected, "leverage_one"),
        f"{_where(design.work)} (se={se!r})",
    )


def _ols_fit_stats(design: _Design, resid: np.ndarray, se: str, label: str) -> dict:
    """R's summary.lm / logLik.lm figures (R-squared uncentred without an intercept)."""
    n, k = design.X.shape
    y = design.y
    intercept = "Intercept" in design.names
    ssr = float(resid @ resid)
    tss = float(((y - y.mean()) ** 2).sum() if intercept else (y**2).sum())
    r2 = 1.0 - ssr / tss if tss > 0 else float("nan")
    loglik = -0.5 * n * (np.log(2 * np.pi) + 1.0 - np.log(n) + np.log(ssr))
    return {
        "method": "ols",
        "n": n,
        "n_params": k,
        "df_resid": n - k,
        "r2": r2,
        "adj_r2": 1.0 - (1.0 - r2) * (n - int(intercept)) / (n - k),
        "sigma": float(np.sqrt(ssr / (n - k))),
        "ssr": ssr,
        "loglik": float(loglik),
        "aic": float(-2 * loglik + 2 * (k + 1)),
        "bic": float(-2 * loglik + np.log(n) * (k + 1)),
        "smearing_factor": float(np.mean(np.exp(resid))),
        "se": se,
        "se_method": label,
    }


def _spec(design: _Design, parsed: _Formula, xtx_inv: np.ndarray) -> _Spec:
    rhs_codes = {f.code for t in design.design_info.terms for f in t.factors}
    rhs_columns = {c for code in rhs_codes for c in parsed.factor_columns.get(code, ())}
    return _Spec(
        design.design_info,
        design.order,
        tuple(c for c in parsed.numeric if c in rhs_columns),
        tuple(c for c in parsed.categorical if c in rhs_columns),
        {code: parsed.factor_columns.get(code, ()) for code in rhs_codes},
        bool(parsed.response and _LOG_RESPONSE.match(parsed.response)),
        xtx_inv,
    )


# ---------------------------------------------------------------- quantile regression


def rq_coefficients(X: np.ndarray, y: np.ndarray, tau: float) -> np.ndarray:
    """Exact quantile-regression coefficients (an optimal LP vertex, as R ``rq`` 'br').

    Solves Koenker's dual LP ``max y'a s.t. X'a = (1 - tau) X'1, 0 <= a <= 1`` with the
    HiGHS dual simplex; its equality duals are the coefficients. The vertex is then
    recomputed from the ``p`` observations it interpolates, to full precision.
    """
    from scipy.optimize import linprog

    res = linprog(
        -y,
        A_eq=X.T,
        b_eq=(1.0 - tau) * X.sum(axis=0),
        bounds=(0.0, 1.0),
        method="highs-ds",
        options={"presolve": False},  # 3x faster here: presolve gains nothing on p rows
    )
    if res.status != 0:  # the LP is always feasible and bounded
        msg = f"quantile-regression LP failed: {res.message}"
        raise RuntimeError(msg)
    coef = -np.asarray(res.eqlin.marginals, dtype=float)
    basis = np.argsort(np.abs(y - X @ coef), kind="stable")[: X.shape[1]]
    if np.linalg.matrix_rank(X[basis]) == X.shape[1]:
        vertex = np.linalg.solve(X[basis], y[basis])
        if check_loss(y - X @ vertex, tau) <= check_loss(y - X @ coef, tau) * (1 + 1e-12):
            return vertex
    return coef


def check_loss(residuals: np.ndarray, tau: float) -> float:
    """Koenker-Bassett objective: sum of rho_tau(u) = u * (tau - 1[u < 0])."""
    u = np.asarray(residuals, dtype=float)
    return float(np.sum(u * (tau - (u < 0))))


def rq_subgradient(X: np.ndarray, y: np.ndarray, tau: float, coef: np.ndarray) -> np.ndarray | None:
    """Koenker (2005, Thm 2.1) xi(h); optimal iff -tau <= xi <= 1 - tau, unique if strict.

    Returns None when the solution is degenerate (not exactly p zero residuals).
    """
    r = y - X @ coef
    zero = np.abs(r) <= 1e-9 * max(1.0, float(np.max(np.abs(y))))
    if zero.sum() != X.shape[1] or np.linalg.matrix_rank(X[zero]) < X.shape[1]:
        return None
    psi = np.where(zero, 0.0, tau - (r < 0))
    return np.linalg.solve(X[zero].T, X.T @ psi)


def bandwidth_rq(tau: float, n: int, *, hs: bool = True, alpha: float = 0.05) -> float:
    """R quantreg ``bandwidth.rq``: Hall-Sheather (``hs``) or Bofinger bandwidth."""
    from scipy.stats import norm

    x0 = norm.ppf(tau)
    f0 = norm.pdf(x0)
    if hs:
        return float(
            n ** (-1 / 3)
            * norm.ppf(1 - alpha / 2) ** (2 / 3)
            * ((1.5 * f0**2) / (2 * x0**2 + 1)) ** (1 / 3)
        )
    return float(n**-0.2 * ((4.5 * f0**4) / (2 * x0**2 + 1) ** 2) ** 0.2)


def _rq_cov(
    X: np.ndarray, y: np.ndarray, tau: float, coef: np.ndarray, se: str, *, what: str
) -> tuple[np.ndarray, dict]:
    """Covariance of rq coefficients as in R quantreg ``summary.rq`` (hs = TRUE)."""
    if se == "iid":
        return _rq_cov_iid(X, y, tau, coef, what=what)
    n = len(y)
    h = bandwidth_rq(tau, n)
    while tau - h < 0 or tau + h > 1:
        h /= 2
    if se == "nid":
        dyhat = X @ (rq_coefficients(X, y, tau + h) - rq_coefficients(X, y, tau - h))
        f = np.maximum(0.0, (2 * h) / (dyhat - _SQRT_EPS))
        info = {"bandwidth": h, "nonpositive_density": int((dyhat <= 0).sum())}
    else:  # ker: Powell's kernel estimate with a Gaussian kernel
        from scipy.stats import norm

        u = y - X @ coef
        q75, q25 = np.quantile(u, [0.75, 0.25])
        h = (norm.ppf(tau + h) - norm.ppf(tau - h)) * min(np.std(u, ddof=1), (q75 - q25) / 1.34)
        f = norm.pdf(u / h) / h
        info = {"bandwidth": float(h)}
    hessian = X.T @ (f[:, None] * X)
    if np.linalg.matrix_rank(hessian) < X.shape[1]:
        msg = (
            f"{what}: se_quantile={se!r} estimates a zero density for too many rows; "
            f"use se_quantile='iid' or more data"
        )
        raise InputError(msg)
    hinv = np.linalg.inv(hessian)
    return tau * (1 - tau) * hinv @ (X.T @ X) @ hinv, info


def _rq_cov_iid(
    X: np.ndarray, y: np.ndarray, tau: float, coef: np.ndarray, *, what: str
) -> tuple[np.ndarray, dict]:
    n, p = X.shape
    resid = y - X @ coef
    pz = int((np.abs(resid) < _SQRT_EPS).sum())
    h = max(p + 1, int(np.ceil(n * bandwidth_rq(tau, n))))
    ir = np.arange(pz + 1, h + pz + 2)  # R's 1-based (pz + 1):(h + pz + 1)
    if ir[-1] > n:
        msg = (
            f"{what}: se_quantile='iid' needs more than {ir[-1] - 1} rows for tau={tau} "
            f"(has {n}); use se_quantile='nid' or 'ker'"
        )
        raise InputError(msg)
    ord_resid = np.sort(resid[np.argsort(np.abs(resid), kind="stable")][ir - 1])
    xt = np.column_stack([np.ones(len(ir)), ir / (n - p)])
    sparsity = float(rq_coefficients(xt, ord_resid, 0.5)[1])
    cov = sparsity**2 * np.linalg.inv(X.T @ X) * tau * (1 - tau)
    return cov, {"sparsity": sparsity}


def _fit_quantile(
    design: _Design, parsed: _Formula, tau: float, se: str, alpha: float, *, what: str
) -> CostModel:
    X, y = design.X, design.y
    n, p = X.shape
    coef = rq_coefficients(X, y, tau)
    cov, info = _rq_cov(X, y, tau, coef, se, what=what)
    label = _SE_LABELS[se]
    table = _coef_table(design.names, coef, np.sqrt(np.diag(cov)), n - p, alpha, label)
    xi = rq_subgradient(X, y, tau, coef)
    unique = None if xi is None else bool(np.all(xi > -tau + 1e-9) and np.all(xi < 1 - tau - 1e-9))
    objective = check_loss(y - X @ coef, tau)
    null = check_loss(y - np.sort(y)[int(np.ceil(n * tau)) - 1], tau)
    loglik = n * (np.log(tau * (1 - tau)) - 1 - np.log(objective / n)) if objective > 0 else np.inf
    fit = {
        "method": "quantile",
        "tau": tau,
        "n": n,
        "n_params": p,
        "df_resid": n - p,
        "objective": objective,
        "pseudo_r2": 1.0 - objective / null if null > 0 else float("nan"),
        "solution_unique": unique,
        "loglik": float(loglik),
        "aic": float(-2 * loglik + 2 * p),
        "bic": float(-2 * loglik + np.log(n) * p),
        "se": se,
        "se_method": label,
        **info,
    }
    spec = _spec(design, parsed, np.linalg.inv(X.T @ X))
    return CostModel(
        parsed.text,
        "quantile",
        tau,
        se,
        table,
        fit,
        pd.DataFrame(cov, index=design.names, columns=design.names),
        None,
        spec,
    )


# ------------------------------------------------------------------------ prediction


def predict_cost(
    model: CostModel, frame: pd.DataFrame, *, alpha: float = 0.05, retransform: str = "smearing"
) -> pd.DataFrame:
    """Predict the response (and the cost, for a log response) for new rows.

    Parameters
    ----------
    model
        A model from :func:`fit_cost_model`.
    frame
        Rows with the right-hand-side columns of the formula (the response is not
        needed).
    alpha
        1 - level of the intervals.
    retransform
        For a ``log(cost)`` response under OLS, how the expected cost is obtained from
        the log scale: ``"smearing"`` (Duan 1983: ``exp(fit) * mean(exp(residuals))``)
        or ``"lognormal"`` (``exp(fit + sigma**2 / 2)``).

    Returns
    -------
    DataFrame
        Indexed like ``frame``. ``fitted``, ``se_fit``, ``ci_low``, ``ci_high`` (mean
        for OLS, as R ``predict.lm(interval = "confidence")``; the tau-quantile for
        quantile regression, as R ``predict.rq(interval = "confidence")`` with the
        model's se type). OLS adds ``pi_low``, ``pi_high`` (R ``predict.lm(interval =
        "prediction")``; classical, whatever ``se``). With a log response, OLS adds
        ``expected_cost`` [cost units], ``median_cost`` (``exp(fitted)``),
        ``cost_pi_low``, ``cost_pi_high`` and ``retransform`` (the method and factor);
        quantile regression adds ``quantile_cost`` (``exp(fitted)``, the tau-quantile
        of cost) and ``cost_ci_low``, ``cost_ci_high``.
    """
    from scipy import stats

    if retransform not in RETRANSFORMS:
        msg = f"unknown retransform {retransform!r}; use one of: {', '.join(RETRANSFORMS)}"
        raise InputError(msg)
    _check_alpha(alpha)
    X = _new_design(model, frame)
    coef = model.coefficients["coef"].to_numpy(dtype=float)
    fitted = X @ coef
    df = model.fit["df_resid"]
    crit = stats.t.ppf(1 - alpha / 2, df)
    if model.method == "ols":
        sigma = model.fit["sigma"]
        se_fit = sigma * np.sqrt(np.einsum("ij,jk,ik->i", X, model.spec.xtx_inv, X))
        se_pred = np.sqrt(se_fit**2 + sigma**2)
    else:
        se_fit = np.sqrt(np.einsum("ij,jk,ik->i", X, model.cov.to_numpy(), X))
    out = pd.DataFrame(
        {
            "fitted": fitted,
            "se_fit": se_fit,
            "ci_low": fitted - crit * se_fit,
            "ci_high": fitted + crit * se_fit,
        },
        index=frame.index,
    )
    if model.method == "ols":
        out["pi_low"], out["pi_high"] = fitted - crit * se_pred, fitted + crit * se_pred
    if model.spec.log_response:
        out = _cost_scale(out, model, retransform)
    return out


def _cost_scale(out: pd.DataFrame, model: CostModel, retransform: str) -> pd.DataFrame:
    out = out.copy()
    if model.method == "quantile":
        out["quantile_cost"] = np.exp(out["fitted"])
        out["cost_ci_low"], out["cost_ci_high"] = np.exp(out["ci_low"]), np.exp(out["ci_high"])
        return out
    if retransform == "smearing":
        factor, name = model.fit["smearing_factor"], "smearing (Duan 1983)"
    else:
        factor, name = float(np.exp(model.fit["sigma"] ** 2 / 2)), "lognormal exp(sigma^2/2)"
    out["expected_cost"] = np.exp(out["fitted"]) * factor
    out["median_cost"] = np.exp(out["fitted"])
    out["cost_pi_low"], out["cost_pi_high"] = np.exp(out["pi_low"]), np.exp(out["pi_high"])
    out["retransform"] = f"{name}, factor {factor:.6g}"
    return out


def _new_design(model: CostModel, frame: pd.DataFrame) -> np.ndarray:
    """Right-hand-side design for new rows, validated like the fitting data."""
    spec = model.spec
    missing = [c for c in (*spec.numeric, *spec.categorical) if c not in frame.columns]
    if missing:
        listing = ", ".join(str(c) for c in frame.columns if c not in LOCATION)
        msg = (
            f"{_where(frame)}: prediction needs column(s) {', '.join(missing)} used by "
            f"the formula {model.formula!r}; available columns: {listing}"
        )
        raise InputError(msg)
    what = f"{_where(frame)} (prediction with formula {model.formula!r})"
    work = _typed(frame, spec.numeric, spec.categorical, what=what)
    raise_if_problems(_unseen_levels(work, spec), what)
    try:
        with np.errstate(all="ignore"):
            (X,) = patsy.build_design_matrices(
                [spec.design_info], work, NA_action=patsy.NAAction(NA_types=[])
            )
    except patsy.PatsyError as exc:
        msg = f"{what}: the formula could not be evaluated on these rows: {exc}"
        raise InputError(msg) from exc
    parsed = _Formula(model.formula, None, spec.numeric, spec.categorical, spec.factor_columns)
    frame_x = pd.DataFrame(np.asarray(X), index=work.index)
    raw = frame.reset_index(drop=True)
    raise_if_problems(_nonfinite_problems(work, raw, parsed, frame_x, None), what)
    return np.asarray(X, dtype=float)[:, spec.order]


def _unseen_levels(work: pd.DataFrame, spec: _Spec) -> pd.DataFrame:
    parts = []
    for factor, info in spec.design_info.factor_infos.items():
        columns = spec.factor_columns.get(factor.code, ())
        if info.type != "categorical" or len(columns) != 1:
            continue
        levels = [str(c) for c in info.categories]
        bad = ~work[columns[0]].astype(str).isin(levels)
        parts.append(
            row_problems(
                work,
                bad,
                columns[0],
                f"one of the levels seen when fitting: {', '.join(levels)}",
                "unseen_level",
            )
        )
    return concat_problems(parts)


# ------------------------------------------------------------------------------- VIF


def variance_inflation(frame: pd.DataFrame, formula: str) -> pd.DataFrame:
    """Variance inflation factors per term, as R ``car::vif`` (GVIF for factor terms).

    Parameters
    ----------
    frame
        The data (the response, if the formula has one, is ignored).
    formula
        Model formula; only its right-hand side is used.

    Returns
    -------
    DataFrame
        ``term``, ``term_r``, ``vif`` (GVIF; the classical 1 / (1 - R_j^2) for a
        one-column term in a model with an intercept), ``df`` (columns of the term),
        ``gvif_adj`` (``GVIF^(1/(2 df))``, comparable across terms).
    """
    rhs_text = "~ " + formula.split("~", 1)[-1] if isinstance(formula, str) else formula
    parsed = _parse_formula(rhs_text, frame, need_response=False)
    where = f"{_where(frame)} (formula {formula!r})"
    design = _build_design(frame, parsed, what=where)
    _check_estimable(design, min_rows=design.X.shape[1], what=where)
    slices = [(t, s) for t, s in design.term_slices if t != "Intercept"]
    if len(slices) < 2:
        msg = f"{where}: VIF needs at least two terms besides the intercept"
        raise InputError(msg)
    v = np.linalg.inv(design.X.T @ design.X)
    keep = np.concatenate([np.arange(s.start, s.stop) for _, s in slices])
    v = v[np.ix_(keep, keep)]
    corr = v / np.sqrt(np.outer(np.diag(v), np.diag(v)))
    det_all = np.linalg.det(corr)
    rows, start = [], 0
    for term, s in slices:
        idx = np.arange(start, start + s.stop - s.start)
        rest = np.setdiff1d(np.arange(len(keep)), idx)
        gvif = (
            np.linalg.det(corr[np.ix_(idx, idx)])
            * np.linalg.det(corr[np.ix_(rest, rest)])
            / det_all
        )
        rows.append(
            {
                "term": term,
                "term_r": r_term_name(term),
                "vif": float(gvif),
                "df": len(idx),
                "gvif_adj": float(gvif ** (1 / (2 * len(idx)))),
            }
        )
        start += len(idx)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- names


_R_FACTOR = re.compile(r"^(?:C\((?P<c>[^,()]+)\)|(?P<v>[^\[\]]+))\[T\.(?P<level>.*)\]$")


def r_term_name(name: str) -> str:
    """R's name of a patsy coefficient: ``Intercept`` -> ``(Intercept)``,
    ``np.log(q)`` -> ``log(q)``, ``C(grade)[T.B]`` -> ``gradeB`` (term ``C(grade)`` ->
    ``grade``), ``I(x ** 2)`` ->
    ``I(x^2)``; interactions part by part (``a:b``)."""
    if name == "Intercept":
        return "(Intercept)"
    parts = []
    for part in name.split(":"):
        match = _R_FACTOR.match(part)
        if match:
            part = (match.group("c") or match.group("v")).strip() + match.group("level")
        part = re.sub(r"^C\(([^,()]+)\)$", r"\1", part)  # a factor term: C(g) -> g
        part = re.sub(r"\b(?:np|numpy)\.", "", part).replace(" ** ", "^").replace("**", "^")
        parts.append(re.sub(r"""Q\((['"])(.*?)\1\)""", r"`\2`", part))
    return ":".join(parts)


__all__ = [
    "OLS_SE_TYPES",
    "QUANTILE_SE_TYPES",
    "RETRANSFORMS",
    "CostModel",
    "bandwidth_rq",
    "check_loss",
    "fit_cost_model",
    "predict_cost",
    "r_term_name",
    "rq_coefficients",
    "rq_subgradient",
    "variance_inflation",
]
