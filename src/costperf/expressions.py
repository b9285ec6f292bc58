"""Formulas and expressions written by users, checked before anything evaluates them.

Text from a case.toml or the command line is never evaluated as Python.  A model
formula (``np.log(unit_cost) ~ np.log(wage_index) + C(road_grade)``) or a driver
expression (``cost_personnel / cleaners``) is parsed with :func:`ast.parse` and every
node of the tree is checked against an allow-list:

* names: data columns (and, in formulas, the functions below);
* numbers (and, in formulas, text constants as arguments of ``Q()``, ``C()`` and the
  contrast functions);
* arithmetic ``+ - * / **`` and unary ``-``/``+``; in formulas also patsy's ``:`` and
  one ``~``;
* calls of :data:`FUNCTIONS` by name (``log(x)``) or as exactly ``np.<name>`` /
  ``numpy.<name>``; in formulas also patsy's :data:`FORMULA_FUNCTIONS`.

Anything else (attributes such as ``np.__builtins__``, subscripts, other calls,
comprehensions, lambdas, names beginning with ``__``) is an :class:`InputError` naming
the setting and the offending name.  Only a checked formula is handed to patsy; a
checked driver expression is evaluated here, with numpy, on the frame's columns
(:func:`evaluate_expression`), never by ``eval``.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Collection, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from costperf.errors import InputError, located_error

FUNCTIONS = {
    "log": np.log,
    "log10": np.log10,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "power": np.power,
    "abs": np.abs,
}
"""Functions an expression may call: ``log(x)`` or ``np.log(x)`` (numpy's)."""

FORMULA_FUNCTIONS = frozenset(
    {"I", "C", "Q", "Treatment", "Sum", "Helmert", "Diff", "Poly", "center", "standardize"}
)
"""patsy's functions a formula may call besides :data:`FUNCTIONS`."""

NUMPY_NAMES = ("np", "numpy")
_TEXT_ARGUMENTS = FORMULA_FUNCTIONS - {"I", "center", "standardize"}  # Q("列 名"), C(g, ...)
_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_UNARY = {ast.USub: "-", ast.UAdd: "+"}

MAX_CHARS = 2_000
"""The longest expression or formula accepted (a 20,000-term sum was a RecursionError)."""
MAX_CONSTANT = 1e15
"""The largest number an expression may write (a 400-digit integer overflowed a float)."""
MAX_EXPONENT = 100
"""The largest constant power: ``x ** 2``, but not ``9 ** 9 ** 9``, which patsy computes
as an exact Python integer for ever.  An exponent that reads a column is float
arithmetic on the column (numpy) and is allowed."""


def allowed_text(*, formula: bool) -> str:
    """What an expression (``formula=False``) or a formula may contain, for messages."""
    calls = ", ".join(FUNCTIONS) + " (also as np.<name>)"
    if formula:
        return (
            "column names, numbers, + - * / ** : ( ), one '~', "
            f"{calls}, and I(), C(), Q(), center(), standardize()"
        )
    return f"column names, numbers, + - * / ** ( ), {calls}"


class ExpressionError(InputError):
    """A formula or expression the allow-list refuses (exit status 2).

    ``name`` is the offending part as the user wrote it, ``reason`` the short cause.
    """

    def __init__(self, message: str, problems: pd.DataFrame, name: str, reason: str) -> None:
        super().__init__(message, problems)
        self.name = name
        self.reason = reason


class _Refused(Exception):
    """One node the allow-list does not admit (``name`` is what the user wrote)."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(reason)
        self.name = name
        self.reason = reason


def _source(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # noqa: BLE001 - only used to show the offending part
        return type(node).__name__


def _call_name(func: ast.expr) -> str | None:
    """``log`` for ``log`` or ``np.log``; None for any other callee."""
    if isinstance(func, ast.Name):
        return func.id
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in NUMPY_NAMES
        and func.attr in FUNCTIONS
    ):
        return func.attr
    return None


class _Checker:
    """Walk a parsed expression; collect the column names it reads."""

    def __init__(self, *, formula: bool, columns: Collection[str] | None) -> None:
        self.formula = formula
        self.columns = None if columns is None else {str(c) for c in columns}
        self.functions = set(FUNCTIONS) | (set(FORMULA_FUNCTIONS) if formula else set())
        self.used: list[str] = []

    def visit(self, node: ast.AST, *, text_ok: bool = False) -> None:
        if isinstance(node, ast.Expression):
            self.visit(node.body)
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            self.visit(node.left)
            self.visit(node.right)
            if isinstance(node.op, ast.Pow):
                self._exponent(node)
        elif isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            self.visit(node.operand)
        elif isinstance(node, ast.Constant):
            self._constant(node, text_ok)
        elif isinstance(node, ast.Name):
            self._name(node.id)
        elif isinstance(node, ast.Call):
            self._call(node)
        elif isinstance(node, ast.List | ast.Tuple) and text_ok:
            for item in node.elts:  # C(g, levels=["a", "b"])
                self.visit(item, text_ok=True)
        elif isinstance(node, ast.Attribute | ast.Subscript):
            self._access(node)
        else:
            name = _source(node)
            raise _Refused(name, f"'{name}' is not allowed ({type(node).__name__})")

    def _access(self, node: ast.Attribute | ast.Subscript) -> None:
        """Refuse ``x.attr`` / ``x[i]``, naming the innermost offending part."""
        base = node.value
        if isinstance(node, ast.Attribute) and isinstance(base, ast.Name):
            if base.id in NUMPY_NAMES:
                name = f"{base.id}.{node.attr}"
                raise _Refused(name, f"'{name}' is not allowed (np only as np.<function>)")
        elif not isinstance(base, ast.Name):
            self.visit(base)  # e.g. __import__('os').system: name '__import__' first
        name = _source(node)
        kind = "attributes" if isinstance(node, ast.Attribute) else "subscripts"
        raise _Refused(name, f"'{name}' is not allowed (no {kind})")

    def _exponent(self, node: ast.BinOp) -> None:
        """A power's exponent: a number of at most :data:`MAX_EXPONENT`, or one reading
        a column."""
        power = node.right
        if any(isinstance(n, ast.Name) for n in ast.walk(power)):
            return
        while isinstance(power, ast.UnaryOp):
            power = power.operand
        if isinstance(power, ast.Constant) and abs(power.value) <= MAX_EXPONENT:
            return
        name = _source(node)
        raise _Refused(
            name,
            f"'{name}': a power's exponent is a number of at most {MAX_EXPONENT} or reads a column",
        )

    def _constant(self, node: ast.Constant, text_ok: bool) -> None:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise _Refused(repr(value), f"the constant {value!r} is not allowed")
        if not isinstance(value, str) and not abs(value) <= MAX_CONSTANT:  # inf, nan, 10**400
            shown = f"{value:.3g}" if isinstance(value, float) else f"{str(value)[:12]}..."
            raise _Refused(shown, f"the number {shown} is larger than {MAX_CONSTANT:.0e}")
        if isinstance(value, str) and not text_ok:
            raise _Refused(repr(value), f"the text {value!r} is not allowed here")

    def _name(self, name: str) -> None:
        if name.startswith("__"):
            raise _Refused(name, f"the name '{name}' is not allowed")
        if name in NUMPY_NAMES:
            raise _Refused(name, f"'{name}' may be used only as {name}.<function>")
        if self.columns is not None and name not in self.columns:
            raise _Refused(name, f"'{name}' is not a column")
        self.used.append(name)

    def _call(self, node: ast.Call) -> None:
        name = _call_name(node.func)
        if name is None:
            self.visit(node.func)  # refuses, naming the innermost offending part
            name = _source(node.func)
            raise _Refused(name, f"'{name}' cannot be called")
        if name not in self.functions:
            raise _Refused(name, f"unknown function '{name}' in '{_source(node)}'")
        text_ok = name in _TEXT_ARGUMENTS
        if name == "Q":
            self._quoted(node)
            return
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise _Refused(_source(arg), f"'{_source(arg)}' is not allowed")
            self.visit(arg, text_ok=text_ok)
        for keyword in node.keywords:  # C(g, Treatment(reference="b")), C(g, levels=[...])
            if not text_ok or keyword.arg is None or keyword.arg.startswith("_"):
                raise _Refused(_source(keyword), f"'{_source(keyword)}' is not allowed")
            self.visit(keyword.value, text_ok=text_ok)

    def _quoted(self, node: ast.Call) -> None:
        """``Q("列 名")``: one text constant, a column name."""
        (arg,) = node.args if len(node.args) == 1 and not node.keywords else (None,)
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            name = _source(node)
            raise _Refused(name, f"'{name}': Q() takes one column name in quotes")
        self._name(arg.value)


def _refuse(
    text: str,
    what: str,
    source_file: object,
    name: str,
    reason: str,
    *,
    formula: bool,
    check: str = "unsafe_expression",
    expected: str | None = None,
) -> ExpressionError:
    """The error for a refused or unparsable expression, located at its setting."""
    where = "".join(f"{part}: " for part in (source_file, what) if part)
    shown = f"{where}{'formula' if formula else 'expression'} {text!r}"
    if check == "unsafe_expression":
        msg = f"{shown}: {reason}; allowed are {allowed_text(formula=formula)}"
    else:
        msg = f"{shown} {reason}"
    if expected is None:
        expected = f"an expression of {allowed_text(formula=formula)}"
    located = located_error(
        msg,
        source_file=source_file,
        column=what,
        value=name,
        expected=expected,
        check=check,
    )
    return ExpressionError(msg, located.problems, name, reason)


def _parse(
    code: str, text: str, what: str, source_file: object, *, formula: bool
) -> ast.Expression:
    if len(text) > MAX_CHARS:
        reason = f"is {len(text):,} characters long; at most {MAX_CHARS:,} are accepted"
        head = f"{text[:40]}..."
        raise _refuse(
            head,
            what,
            source_file,
            head,
            reason,
            formula=formula,
            check="expression_too_long",
            expected=f"at most {MAX_CHARS} characters",
        )
    try:
        return ast.parse(code, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        reason = "could not be parsed: " + (
            exc.msg if isinstance(exc, SyntaxError) else str(exc) or type(exc).__name__
        )
        raise _refuse(
            text, what, source_file, text, reason, formula=formula, check="bad_expression"
        ) from None


def check_expression(
    text: object,
    *,
    what: str = "expression",
    source_file: object = "",
    columns: Collection[str] | None = None,
) -> ast.Expression:
    """Parse an arithmetic expression and check it against the allow-list.

    Parameters
    ----------
    text
        The expression, e.g. ``"cost_personnel / cleaners"``.
    what
        The setting it came from, named in messages (``"[drivers] wage_per_cleaner"``).
    source_file
        The file holding the setting (case.toml), if any.
    columns
        When given, every name must be one of these columns.

    Returns
    -------
    ast.Expression
        The checked tree, for :func:`evaluate_expression`.
    """
    if not isinstance(text, str) or not text.strip():
        reason = "is empty; expected an expression as text"
        raise _refuse(
            str(text), what, source_file, str(text), reason, formula=False, check="bad_expression"
        )
    tree = _parse(text.strip(), text, what, source_file, formula=False)
    checker = _Checker(formula=False, columns=columns)
    try:
        checker.visit(tree)
    except _Refused as exc:
        raise _refuse(text, what, source_file, exc.name, exc.reason, formula=False) from None
    return tree


def expression_names(tree: ast.Expression) -> list[str]:
    """Column names a checked expression reads, in order of appearance (once each)."""
    checker = _Checker(formula=False, columns=None)
    checker.visit(tree)
    return list(dict.fromkeys(checker.used))


def _formula_sides(text: str, what: str, source_file: object) -> list[str]:
    """The formula's sides as Python source: patsy's ``:`` read as ``*``, ``~`` split.

    Every token patsy would evaluate is kept, so the check sees all of them.
    """
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError) as exc:
        reason = f"could not be parsed: {exc.args[0] if exc.args else exc}"
        raise _refuse(
            text, what, source_file, text, reason, formula=True, check="bad_expression"
        ) from None
    sides: list[list[str]] = [[]]
    depth = 0
    for token in tokens:
        kind, string = token.type, token.string
        if kind in (tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER, tokenize.INDENT):
            continue
        if kind in (tokenize.COMMENT, tokenize.DEDENT) or kind == tokenize.ERRORTOKEN:
            if string.strip():
                raise _refuse(
                    text, what, source_file, string, f"'{string}' is not allowed", formula=True
                )
            continue
        if kind == tokenize.OP and string in "([{":
            depth += 1
        elif kind == tokenize.OP and string in ")]}":
            depth -= 1
        if kind == tokenize.OP and string == "~":
            if depth != 0 or len(sides) > 1:
                reason = "'~' may appear once, between the response and the terms"
                raise _refuse(text, what, source_file, "~", reason, formula=True)
            sides.append([])
            continue
        if kind == tokenize.OP and string in (":=", ";", ",") and depth == 0:
            raise _refuse(
                text, what, source_file, string, f"'{string}' is not allowed", formula=True
            )
        sides[-1].append("*" if (kind == tokenize.OP and string == ":") else string)
    return [" ".join(side) for side in sides]


def check_formula(
    text: object,
    *,
    what: str = "formula",
    source_file: object = "",
    columns: Collection[str] | None = None,
) -> list[str]:
    """Check a model formula (patsy syntax) against the allow-list before patsy sees it.

    Parameters
    ----------
    text
        The formula, e.g. ``"np.log(unit_cost) ~ np.log(wage_index) + C(road_grade)"``.
    what
        The setting or option it came from (``"[benchmark] formula"``, ``"--model"``).
    source_file
        The file holding the setting, if any.
    columns
        When given, every name must be one of these columns.

    Returns
    -------
    list of str
        The names the formula reads (columns), once each.
    """
    if not isinstance(text, str) or not text.strip():
        reason = "is empty; expected text such as 'np.log(cost) ~ np.log(output)'"
        raise _refuse(
            str(text), what, source_file, str(text), reason, formula=True, check="bad_expression"
        )
    checker = _Checker(formula=True, columns=columns)
    for i, side in enumerate(_formula_sides(text, what, source_file)):
        if not side.strip():
            if i == 0:
                continue  # one-sided: '~ x'
            reason = "could not be parsed: no terms right of '~'"
            raise _refuse(
                text, what, source_file, text, reason, formula=True, check="bad_expression"
            )
        tree = _parse(side, text, what, source_file, formula=True)
        try:
            checker.visit(tree)
        except _Refused as exc:
            raise _refuse(text, what, source_file, exc.name, exc.reason, formula=True) from None
    return list(dict.fromkeys(checker.used))


#: functions whose argument must be a number >= 0 (their columns are typed at ingest)
_NONNEGATIVE_ARGUMENTS = frozenset({"log", "log10", "sqrt"})


def nonnegative_names(formula: object) -> list[str]:
    """The columns a formula takes the log or square root of (``np.log(wage_index)``):
    numbers >= 0, checked with the data files (a text in 工资指数 was found only when the
    model was fitted, after every other problem was fixed).  Empty for a formula that
    does not parse: its own check says why."""
    if not isinstance(formula, str) or not formula.strip():
        return []
    try:
        sides = _formula_sides(formula, "formula", "")
        trees = [ast.parse(side, mode="eval") for side in sides if side.strip()]
    except (ExpressionError, SyntaxError, ValueError, RecursionError):
        return []
    names: list[str] = []
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node.func) in _NONNEGATIVE_ARGUMENTS:
                for arg in node.args:
                    names += [n.id for n in ast.walk(arg) if isinstance(n, ast.Name)]
    return list(dict.fromkeys(n for n in names if n not in NUMPY_NAMES))


def check_case_expressions(
    source_file: str | Path, formulas: Mapping[str, object], drivers: Mapping[str, str]
) -> None:
    """Check a case's formulas (``{"[benchmark] formula": text}``) and ``[drivers]``.

    Raises one :class:`InputError` naming the first offending setting and name.
    """
    for what, text in formulas.items():
        if text is not None:
            check_formula(text, what=what, source_file=source_file)
    for name, text in drivers.items():
        check_expression(text, what=f"[drivers] {name}", source_file=source_file)


class _NotNumeric(_Refused):
    """An expression reads a text column."""


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    values = frame[name]
    if not (pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)):
        raise _NotNumeric(name, f"uses the column '{name}', which is not numeric")
    return values.to_numpy(dtype=float, na_value=np.nan)


def _evaluate(node: ast.AST, frame: pd.DataFrame) -> np.ndarray | float:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, frame)
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id not in frame.columns:
            raise _Refused(node.id, f"'{node.id}' is not a column")
        return _column(frame, node.id)
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, frame)
        return -value if isinstance(node.op, ast.USub) else +value
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left, frame), _evaluate(node.right, frame)
        op = type(node.op)
        if op is ast.Add:
            return np.add(left, right)
        if op is ast.Sub:
            return np.subtract(left, right)
        if op is ast.Mult:
            return np.multiply(left, right)
        if op is ast.Div:
            return np.divide(left, right)
        return np.power(left, right)
    if isinstance(node, ast.Call):
        function = FUNCTIONS[str(_call_name(node.func))]
        return function(*(_evaluate(a, frame) for a in node.args))
    raise _Refused(_source(node), f"'{_source(node)}' is not allowed")  # never: checked


def evaluate_expression(
    text: str, frame: pd.DataFrame, *, what: str = "expression", source_file: object = ""
) -> pd.Series:
    """Evaluate a checked arithmetic expression on ``frame``'s numeric columns with numpy.

    Division by zero and logs of non-positive numbers give inf/NaN (no warning);
    callers decide what to do with them.

    Returns
    -------
    Series
        One float per row of ``frame`` (same index).
    """
    tree = check_expression(text, what=what, source_file=source_file, columns=frame.columns)
    try:
        with np.errstate(all="ignore"):
            values = _evaluate(tree, frame)
    except _NotNumeric as exc:
        raise _refuse(
            text, what, source_file, exc.name, exc.reason, formula=False, check="bad_expression"
        ) from None
    except _Refused as exc:
        raise _refuse(text, what, source_file, exc.name, exc.reason, formula=False) from None
    except TypeError as exc:  # e.g. power() with one argument
        reason = f"cannot be evaluated: {exc}"
        raise _refuse(
            text, what, source_file, text, reason, formula=False, check="bad_expression"
        ) from None
    return pd.Series(np.broadcast_to(values, len(frame)).astype(float), index=frame.index)


__all__ = [
    "FORMULA_FUNCTIONS",
    "FUNCTIONS",
    "ExpressionError",
    "allowed_text",
    "check_case_expressions",
    "check_expression",
    "check_formula",
    "evaluate_expression",
    "expression_names",
]
