"""Step 2, the design matrix: evaluate the formula, check every transformed value is
finite, put the columns in R's order and check the model is estimable (enough rows,
no collinear terms)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import patsy
import patsy.builtins

from costperf.benchmark.costmodel.formula import FORMULA_FUNCTIONS, Formula, typed_columns, where_of
from costperf.errors import InputError, raise_if_problems
from costperf.schemas import concat_problems, row_problems

_RANK_TOL = 1e-7  # R lm's tolerance for linear dependence of design columns


@dataclass(frozen=True, eq=False)
class Design:
    y: np.ndarray | None
    X: np.ndarray
    names: list[str]
    term_slices: list[tuple[str, slice]]  # in R order, on the permuted columns
    design_info: object
    order: np.ndarray
    work: pd.DataFrame


def build_design(frame: pd.DataFrame, parsed: Formula, *, what: str) -> Design:
    """Evaluate the formula on typed data; check finiteness; put columns in R order."""
    work = typed_columns(frame, parsed.numeric, parsed.categorical, what=what)
    text = parsed.text if parsed.response else "~ " + parsed.text.split("~", 1)[-1]
    y, X = _evaluate(text, work, parsed.response is not None)
    problems = nonfinite_problems(work, frame.reset_index(drop=True), parsed, X, y)
    raise_if_problems(problems, what)
    info = X.design_info
    order, term_slices = _r_order(info, patsy.ModelDesc.from_formula(text))
    names = [info.column_names[i] for i in order]
    return Design(
        None if y is None else np.asarray(y, dtype=float)[:, 0],
        np.asarray(X, dtype=float)[:, order],
        names,
        term_slices,
        info,
        order,
        work,
    )


def _evaluate(text: str, work: pd.DataFrame, with_response: bool):
    env = patsy.EvalEnvironment([FORMULA_FUNCTIONS])
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
        msg = f"{where_of(work)}: formula {text!r} could not be evaluated: {exc}"
        raise InputError(msg) from exc
    if y is not None and y.shape[1] != 1:
        msg = (
            f"formula {text!r}: the response must be one numeric column, got "
            f"{y.shape[1]} columns ({', '.join(y.columns)})"
        )
        raise InputError(msg)
    return y, X


def nonfinite_problems(
    work: pd.DataFrame,
    raw: pd.DataFrame,
    parsed: Formula,
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
    env = patsy.EvalEnvironment([FORMULA_FUNCTIONS])
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


def check_estimable(design: Design, *, min_rows: int, what: str) -> None:
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
