"""Step 1, the formula: parse it, find the data columns it uses (numeric or factor)
and coerce them, with the file and sheet named in every message."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import patsy
import patsy.builtins

from costperf.errors import InputError, raise_if_problems
from costperf.expressions import FUNCTIONS, check_formula
from costperf.schemas import LOCATION, coerce_numeric, coerce_text, concat_problems, parse_numbers

FORMULA_FUNCTIONS = {"np": np, "numpy": np, **FUNCTIONS}  # what a checked formula may call
_NAMESPACE = {
    **{n: getattr(patsy.builtins, n) for n in patsy.builtins.__all__},
    **FORMULA_FUNCTIONS,
}
LOG_RESPONSE = re.compile(r"^\s*(?:(?:np|numpy)\s*\.\s*)?log\((?P<inner>.+)\)\s*$")


@dataclass(frozen=True)
class Formula:
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


def parse_formula(formula: object, frame: pd.DataFrame, *, need_response: bool) -> Formula:
    """Parse ``formula`` and decide, for every column it uses, numeric or factor."""
    if not isinstance(formula, str) or not formula.strip():
        msg = f"the formula must be text such as 'np.log(cost) ~ np.log(output)', got {formula!r}"
        raise InputError(msg)
    check_formula(formula, what="")  # nothing reaches patsy that is not on the allow-list
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
    unknown = [  # every column the formula names and the data lacks, told at once
        name for code in lhs + rhs for name in _unknown_columns(code, columns)
    ]
    _raise_unknown(list(dict.fromkeys(unknown)), columns, formula, frame)
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
    return Formula(
        formula,
        lhs[0] if lhs else None,
        tuple(sorted(numeric)),
        tuple(sorted(categorical)),
        factor_columns,
    )


def _unknown_columns(code: str, columns: list[str]) -> list[str]:
    """Names one factor's code uses as data that are neither columns nor functions."""
    return [
        name
        for name, role in _code_names(code)
        if role != "call" and name not in columns and name not in _NAMESPACE
    ]


def _raise_unknown(unknown: list[str], columns: list[str], formula: str, frame) -> None:
    if len(unknown) < 2:  # one is told by _columns_of_code, in its words
        return
    listing = ", ".join(str(c) for c in columns) or "none"
    missing = ", ".join(f"'{name}'" for name in unknown)
    msg = (
        f"{where_of(frame)}: the formula {formula!r} uses columns {missing}, which are "
        f"not in the data; available columns: {listing}"
    )
    raise InputError(msg)


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
                f"{where_of(frame)}: the formula {formula!r} uses column '{name}', which "
                f"is not in the data; available columns: {listing}"
            )
            raise InputError(msg)
    return used


def where_of(frame: pd.DataFrame) -> str:
    source = frame.attrs.get("source", ("", ""))
    path, sheet = source if isinstance(source, tuple) else (str(source), "")
    if not path and "source_file" in frame.columns and len(frame):
        path = str(frame["source_file"].iloc[0])
        sheet = str(frame["sheet"].iloc[0]) if "sheet" in frame.columns else ""
    return (path + (f", sheet '{sheet}'" if sheet else "")) if path else "the data"


def typed_columns(
    frame: pd.DataFrame, numeric: tuple[str, ...], categorical: tuple[str, ...], *, what: str
) -> pd.DataFrame:
    """Coerce the used columns (numbers, factor levels as text); raise on any problem."""
    work = frame.reset_index(drop=True)
    work.attrs = dict(frame.attrs)
    work, bad_numbers = coerce_numeric(work, list(numeric))
    work, bad_levels = coerce_text(work, list(categorical), required=list(categorical))
    raise_if_problems(concat_problems([bad_numbers, bad_levels]), what)
    return work
