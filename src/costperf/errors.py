"""Error types and the problems table shared by every stage.

A *problem* is one thing wrong with the user's input, located precisely enough that
the user can find it in the file they edited: file, sheet, row (as seen in Excel or a
text editor), column, the offending value and what was expected.  Checks collect every
problem of a table into one frame (``check_*`` functions never raise); the loader then
raises :class:`InputError` once, carrying the whole frame, and the CLI prints the first
ten and writes the full table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING

from costperf.labels import filled

if TYPE_CHECKING:  # pandas is imported where a problems table is built (not for --version)
    import pandas as pd

#: where a row came from: every loader adds these columns, and every problem names them
LOCATION = ("source_file", "sheet", "source_row")


class Check(StrEnum):
    """Every check code a problem may carry (the ``check`` column of the problems table).

    One enumerated set, so a user (and a test) can rely on the codes; their Chinese and
    English labels are in ``labels.csv`` (kind ``check``). A new check is one member here
    and one row there.
    """

    # files and sheets
    FILE = "file"
    FILE_NOT_FOUND = "file_not_found"
    NOT_A_FILE = "not_a_file"
    UNSUPPORTED_FILE_TYPE = "unsupported_file_type"
    UNREADABLE_FILE = "unreadable_file"
    UNREADABLE_WORKBOOK = "unreadable_workbook"
    UNREADABLE_PARQUET = "unreadable_parquet"
    UNKNOWN_ENCODING = "unknown_encoding"
    MALFORMED_CSV = "malformed_csv"
    UNKNOWN_SHEET = "unknown_sheet"
    EMPTY_TABLE = "empty_table"
    NO_DATA_ROWS = "no_data_rows"
    BAD_HEADER_ROW = "bad_header_row"
    BLANK_HEADER = "blank_header"
    DUPLICATE_COLUMN = "duplicate_column"
    FILE_TOO_LARGE = "file_too_large"
    WORKBOOK_TOO_LARGE = "workbook_too_large"
    TABLE_TOO_LARGE = "table_too_large"
    UNSAFE_XML = "unsafe_xml"
    FORMULA_WITHOUT_VALUE = "formula_without_value"
    EXCEL_ERROR = "excel_error"
    AMBIGUOUS_TABLE = "ambiguous_table"
    MERGED_CELLS = "merged_cells"
    MIXED_ENCODING = "mixed_encoding"
    CELL_TOO_LONG = "cell_too_long"
    SHEET_READ = "sheet_read"
    HIDDEN_SHEET = "hidden_sheet"
    MISSING_FILE = "missing_file"
    # columns and cells
    MISSING_COLUMN = "missing_column"
    UNKNOWN_COLUMN = "unknown_column"
    MISSING_VALUE = "missing_value"
    NOT_A_NUMBER = "not_a_number"
    NOT_FINITE = "not_finite"
    NOT_WHOLE = "not_whole"
    BELOW_MINIMUM = "below_minimum"
    ABOVE_MAXIMUM = "above_maximum"
    NOT_ALLOWED = "not_allowed"
    NOT_POSITIVE = "not_positive"
    NEGATIVE_FOR_LMDI = "negative_for_lmdi"
    WRONG_TYPE = "wrong_type"
    BAD_DATE = "bad_date"
    DUPLICATE_ID = "duplicate_id"
    MISSING_ID = "missing_id"
    # across tables
    UNKNOWN_PROJECT = "unknown_project"
    PROJECT_WITHOUT_LINES = "project_without_lines"
    AMOUNT_MISMATCH = "amount_mismatch"
    UNKNOWN_COST_ELEMENT = "unknown_cost_element"
    UNKNOWN_STANDARD = "unknown_standard"
    MISSING_DIMENSION = "missing_dimension"
    MISSING_OUTPUT = "missing_output"
    ZERO_OUTPUT = "zero_output"
    ZERO_COST = "zero_cost"
    # requests against the standard tables
    UNKNOWN_KIND = "unknown_kind"
    UNKNOWN_ITEM = "unknown_item"
    UNKNOWN_VALUE = "unknown_value"
    MISSING_FACT = "missing_fact"
    INCONSISTENT = "inconsistent"
    LOOKUP = "lookup"
    # request books (projects, lines, targets)
    UNKNOWN_CATEGORY = "unknown_category"
    UNKNOWN_TRAVEL_ITEM = "unknown_travel_item"
    BAD_ECON_CODE = "bad_econ_code"
    UNKNOWN_ENGINE = "unknown_engine"
    NO_PROJECTS = "no_projects"
    # configuration
    CONFIG = "config"
    OPTION = "option"
    TOML_SYNTAX = "toml_syntax"
    UNSAFE_EXPRESSION = "unsafe_expression"
    BAD_EXPRESSION = "bad_expression"
    EXPRESSION_TOO_LONG = "expression_too_long"
    # models
    UNSEEN_LEVEL = "unseen_level"
    NONFINITE_TRANSFORM = "nonfinite_transform"
    LEVERAGE_ONE = "leverage_one"
    NO_INPUTS = "no_inputs"
    NO_OUTPUTS = "no_outputs"
    NO_UNITS = "no_units"
    INDEX_MISMATCH = "index_mismatch"
    LENGTH_MISMATCH = "length_mismatch"
    PRICE_COLUMNS = "price_columns"
    PRICE_COUNT = "price_count"
    ALL_INPUTS_ZERO = "all_inputs_zero"
    ALL_OUTPUTS_ZERO = "all_outputs_zero"
    # the optimiser's model (resources, constraints, coefficients)
    UNKNOWN_RESOURCE = "unknown_resource"
    UNKNOWN_CONSTRAINT = "unknown_constraint"
    BOUNDS_ORDER = "bounds_order"
    # standard tables
    COMPOSITE_COMPONENT_MISSING = "composite_component_missing"
    COMPOSITE_SUM = "composite_sum"
    UNIT_MISMATCH = "unit_mismatch"
    MONEY_UNIT = "money_unit"
    DOCUMENT_NO_FORM = "document_no_form"
    CONFIDENCE = "confidence"
    DUPLICATE_LINE = "duplicate_line"
    DUPLICATE_VERSION = "duplicate_version"
    LOWER_ABOVE_VALUE = "lower_above_value"
    UPPER_BELOW_VALUE = "upper_below_value"
    OVERLAPPING_PERIODS = "overlapping_periods"
    PERIOD_GAP = "period_gap"
    UNKNOWN_COMPONENT = "unknown_component"
    UNKNOWN_DIMENSION_VALUE = "unknown_dimension_value"
    VERSION_ORDER = "version_order"
    AMBIGUOUS_LINES = "ambiguous_lines"
    CONTENT_HASH = "content_hash"
    COVERAGE_GAP = "coverage_gap"
    COVERAGE_SKIPPED = "coverage_skipped"
    EFFECTIVE_DATES = "effective_dates"
    HEADER_NAME = "header_name"
    HEADER_VALUE = "header_value"
    LAYOUT_FIELD = "layout_field"
    MISSING_DIMENSION_COLUMN = "missing_dimension_column"
    #: a column of a standard table's value file, named by its code (item, value, unit)
    MISSING_VALUE_COLUMN = "missing_value_column"
    MISSING_HASH = "missing_hash"
    MISSING_HEADER_KEY = "missing_header_key"
    MISSING_PROVENANCE = "missing_provenance"
    MISSING_SOURCE = "missing_source"
    RETIRED_WITHOUT_END = "retired_without_end"
    RULE_BAND = "rule_band"
    RULE_DIMENSION = "rule_dimension"
    RULE_LIMIT = "rule_limit"
    RULE_ROUNDING = "rule_rounding"
    RULE_TIER = "rule_tier"
    RULE_TYPE = "rule_type"
    RULE_WINDOW = "rule_window"
    UNKNOWN_HEADER_KEY = "unknown_header_key"
    # outputs
    OUTPUT_NOT_WRITABLE = "output_not_writable"
    OUTPUT_IS_INPUT = "output_is_input"
    # anything else about the input
    INPUT = "input"


def check_code(value: object) -> Check:
    """The :class:`Check` of ``value``; an unknown code is a bug in costperf (ValueError)."""
    return value if isinstance(value, Check) else Check(str(value))


PROBLEM_COLUMNS = [
    "source_file",
    "sheet",
    "source_row",
    "column",
    "value",
    "expected",
    "check",
    "severity",
]


class CostperfError(Exception):
    """Base class of costperf's own errors."""


class InputError(CostperfError):
    """The user's input (data, config or command line) is wrong: exit status 2.

    Parameters
    ----------
    message
        Human-readable summary naming file, sheet, row and column where known.
    problems
        Optional problems table (columns :data:`PROBLEM_COLUMNS`) with every problem
        found, not only the first.
    """

    def __init__(self, message: str, problems: pd.DataFrame | None = None) -> None:
        super().__init__(message)
        self.problems = problems if problems is not None else empty_problems()


class ParameterError(InputError):
    """A stage parameter that does not fit the data (e.g. a district with no contract).

    ``parameter`` names it, so the caller can point at the config key or command-line
    option that set it.
    """

    def __init__(self, message: str, parameter: str) -> None:
        super().__init__(message)
        self.parameter = parameter


def located_error(
    message: str,
    *,
    source_file: object = "",
    sheet: str | None = "",
    row: int | None = None,
    column: str = "",
    value: object = "",
    expected: str = "",
    check: str = Check.INPUT,
) -> InputError:
    """An :class:`InputError` whose problems table holds one located row.

    For errors found before a table exists (a missing file, an empty sheet, a bad key in
    case.toml), so the CLI can still write the problems table.
    """
    problems = make_problems(
        [
            {
                "source_file": str(source_file),
                "sheet": sheet or "",
                "source_row": "" if row is None else row,
                "column": column,
                "value": "" if value is None else str(value),
                "expected": expected or message,
                "check": check_code(check),
            }
        ]
    )
    return InputError(message, problems)


def empty_problems() -> pd.DataFrame:
    """Return an empty problems table with the canonical columns (a fresh copy)."""
    return _empty_problems_template().copy()


@cache
def _empty_problems_template() -> pd.DataFrame:
    import pandas as pd  # here, not at import: ``costperf --version`` needs no pandas

    return pd.DataFrame({c: pd.Series(dtype="object") for c in PROBLEM_COLUMNS})


def held_problems(problems: pd.DataFrame) -> tuple[dict[str, object], ...]:
    """A problems table as plain records, to be held in a frame's ``attrs``.

    pandas compares and deep-copies ``attrs`` in its own operations (``concat``,
    ``astype`` of several columns): a DataFrame held there makes them raise ("the truth
    value of a DataFrame is ambiguous"), records compare as values.
    :func:`problems_held` turns them back into a table.
    """
    return tuple(problems.to_dict("records")) if len(problems) else ()


def problems_held(records: object) -> pd.DataFrame:
    """The problems table :func:`held_problems` made records of."""
    import pandas as pd

    if not records:
        return empty_problems()
    return pd.DataFrame.from_records(list(records), columns=PROBLEM_COLUMNS)


def make_problems(rows: Iterable[Mapping[str, object]]) -> pd.DataFrame:
    """Build a problems table from dict-like rows, filling absent fields with ''."""
    import pandas as pd

    records = [{c: r.get(c, "") for c in PROBLEM_COLUMNS} for r in rows]
    if not records:
        return empty_problems()
    frame = pd.DataFrame.from_records(records, columns=PROBLEM_COLUMNS)
    frame["check"] = [str(check_code(c or Check.INPUT)) for c in frame["check"]]
    frame["severity"] = frame["severity"].replace("", "error")
    return frame


def format_problem(row: Mapping[str, object], label: str = "") -> str:
    """Format one problem as ``file, sheet 'S', row N, column 'X': got 'v', expected …``.

    ``label`` names the row when there is no file row (e.g. ``project_id 'A'``).
    """
    parts = _where(row, row.get("column"), "en")
    if label:
        parts.insert(len(parts) - bool(row.get("column")), label)
    where = ", ".join(parts)
    value = row.get("value")
    got = "" if value in (None, "") else f"{filled('problems.value', 'en', value=_show(value))}, "
    expected = row.get("expected") or ""
    text = f"{got}expected {expected}" if expected else got.rstrip(", ")
    return f"{where}: {text}" if where else text


def _where(row: Mapping[str, object], column: object, lang: str) -> list[str]:
    """The place of a problem, in ``lang``: its file, sheet, row and column (or option)."""
    parts = [str(row["source_file"])] if row.get("source_file") else []
    if row.get("sheet"):
        parts.append(filled("problems.sheet", lang, sheet=row["sheet"]))
    src_row = row.get("source_row")
    if src_row not in (None, "") and not (isinstance(src_row, float) and math.isnan(src_row)):
        parts.append(filled("problems.row", lang, row=int(src_row)))
    if str(column).startswith("--"):  # a command-line option (--date), not a column
        parts.append(filled("problems.option", lang, column=column))
    elif column:
        parts.append(filled("problems.column", lang, column=column))
    return parts


def _show(value: object) -> str:
    text = str(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return repr(text)


def raise_if_problems(problems: pd.DataFrame, what: str, *, limit: int = 10) -> None:
    """Raise :class:`InputError` listing the first ``limit`` errors, if there are any.

    Warnings (``severity == 'warning'``) never raise.
    """
    errors = problems[problems["severity"] != "warning"] if len(problems) else problems
    if errors.empty:
        return
    lines = [format_problem(r) for r in errors.head(limit).to_dict("records")]
    more = len(errors) - len(lines)
    tail = f"\n... and {more} more problem(s)" if more > 0 else ""
    msg = f"{len(errors)} problem(s) in {what}:\n" + "\n".join(lines) + tail
    raise InputError(msg, problems)


def raise_all(errors: list[InputError], problems: list[pd.DataFrame], what: str) -> None:
    """Raise one :class:`InputError` carrying every error and every problem found.

    ``errors`` are errors raised while reading (each keeps its own message, e.g. "the
    file is empty"); ``problems`` are problem tables found by checks (warnings never
    raise). Nothing is raised when there is neither.
    """
    found = [p for p in problems if p is not None and not p.empty]
    found = [p[p["severity"] != "warning"] for p in found]
    found = [p for p in found if not p.empty]
    if not errors and not found:
        return
    checked = None
    if found:
        import pandas as pd

        try:
            raise_if_problems(pd.concat(found, ignore_index=True), what)
        except InputError as exc:
            checked = exc
    raise merge_errors([*errors, *([checked] if checked else [])])


def merge_errors(errors: list[InputError], check: str = Check.FILE) -> InputError:
    """One :class:`InputError` carrying the messages and problems of several; an error
    with no problems table becomes one row of ``check`` (e.g. ``config`` or ``option``)."""
    if len(errors) == 1:
        return errors[0]
    import pandas as pd

    parts = [
        e.problems
        if not e.problems.empty
        else make_problems([{"expected": str(e), "check": check}])
        for e in errors
    ]
    # a file-level error met once per sheet read (a workbook with a DTD) is one problem
    text = "\n".join(dict.fromkeys(str(e) for e in errors))
    problems = pd.concat(parts, ignore_index=True).drop_duplicates(ignore_index=True)
    return InputError(text, problems)


_COLUMN_OF_SHEET = re.compile(r"column ([A-Z]+|\d+)")
_CELLS = re.compile(r"(\d[\d,]*) cells")
_CHARACTERS = re.compile(r"… \(([\d,]+) characters\)$")


def problem_cells_zh(column: object, value: object, check: object = "") -> tuple[object, object]:
    """The column and value of a problem as a Chinese reader sees them: ``column 8`` ->
    ``第 8 列``, a missing column's canonical name -> its Chinese label (``department`` ->
    ``预算部门``), ``31 cells`` -> ``31 个单元格``, a cut value's ``(40,000 characters)``
    -> ``（共 40,000 个字符）``, a formula whose text is not stored ``(formula)`` ->
    ``（公式）``; the data as written otherwise."""
    if isinstance(column, str):
        found = _COLUMN_OF_SHEET.fullmatch(column)
        if found:
            column = filled("problems.sheet_column", "zh", number=found.group(1))
        elif str(check) in (Check.MISSING_COLUMN, Check.MISSING_FACT) and column.isascii():
            from costperf.columns import label  # a fact's canonical name: its label

            column = label(column, "zh")
    if isinstance(value, str):
        cells = _CELLS.fullmatch(value)
        if cells:
            value = filled("problems.cells", "zh", n=cells.group(1))
        cut = _CHARACTERS.search(value)
        if cut:
            value = value[: cut.start()] + filled("problems.characters", "zh", n=cut.group(1))
        if value == "(formula)" and str(check) == "formula_without_value":
            value = filled("problems.formula", "zh")
    return column, value


def format_problem_zh(row: Mapping[str, object]) -> str:
    """One problem in Chinese: ``文件，工作表“S”，第 N 行，列“X”：<check 的中文名>，值 'v'``."""
    from costperf.columns import code_label, expected_label, message

    column, value = problem_cells_zh(row.get("column"), row.get("value"), row.get("check"))
    parts = _where(row, column, "zh")
    what = code_label("check", row.get("check") or Check.INPUT, "zh")
    shown = "" if value in (None, "") else f"，{filled('problems.value', 'zh', value=_show(value))}"
    english = row.get("expected") or ""
    expected = expected_label(english, "zh")
    if expected:
        gap = " " if str(expected)[:1].isascii() and str(expected)[:1].isalnum() else ""
        shown += f"，{message('problems.expected', 'zh')}{gap}{expected}"  # 应为 office-…
    elif english:  # no Chinese template yet: the English text, marked as such
        shown += f"，{message('problems.untranslated', 'zh')}{english}"
    where = "，".join(parts)
    return f"{where}：{what}{shown}" if where else f"{what}{shown}"


_HAN = re.compile(r"[\u4e00-\u9fff]")


def chinese_summary(exc: InputError, *, limit: int = 10) -> str:
    """An input error in Chinese, as printed under ``--lang zh`` (instead of the English).

    Each problem row, or a message with no problems table, is translated through the
    labels.csv templates; a text no template matches is shown in English, marked as such,
    so nothing the English message says is lost."""
    problems = exc.problems
    if problems is not None and len(problems):
        problems = problems[problems["severity"] != "warning"]
    if problems is None or problems.empty:
        from costperf.columns import expected_label, message

        text = str(exc)
        head, newline, rest = text.partition("\n")
        chinese = None
        if newline and _HAN.search(rest):  # lines after the first already zh: the first
            first = expected_label(head, "zh")
            chinese = f"{first}\n{rest}" if first else None
        if chinese is None:
            chinese = expected_label(text, "zh")  # labels.csv kind ``error``
        if chinese:
            return filled("error.head", "zh", text=chinese)
        return filled("error.head", "zh", text=f"{message('error.untranslated', 'zh')}{exc}")
    rows = problems.head(limit).to_dict("records")
    head = filled("error.problems", "zh", n=len(problems))
    head += filled("error.first", "zh", n=len(rows)) if len(problems) > len(rows) else "："
    return "\n".join([head, *(f"  {format_problem_zh(r)}" for r in rows)])
