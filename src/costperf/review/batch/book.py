"""The request book as three tables, checked across them.

:class:`RequestBook` holds the validated projects, lines and targets (canonical
columns, see ``schemas.BOOK_*``).  :func:`check_book` finds every problem between the
tables (lines or targets of unknown projects, categories and travel items outside their
closed lists, fractional line numbers, amounts that are neither given nor quantity x
unit price) and returns the book ready for review (``requested`` filled, categories as
codes).  :func:`book_from_requests` turns the single-sheet request format of
``cases/expenditure-requests`` into a book: each request a project of its own, no
targets sheet (so no target gate).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from costperf.labels import code_label_map, message
from costperf.schemas import blanked_rows, concat_problems, row_problems, table_problem
from costperf.standards.derive.table import round_half_up_values

#: performance-target categories (指标类别), zh -> code; codes and the English labels of
#: labels.csv (``output: quantity``, as the English template lists them) are accepted too
TARGET_CATEGORIES = {
    "产出-数量": "output_quantity",
    "产出-质量": "output_quality",
    "产出-时效": "output_timeliness",
    "产出-成本": "output_cost",
    "效益": "benefit",
    "满意度": "satisfaction",
}
_CATEGORY_SPELLINGS = {
    **{k: v for k, v in TARGET_CATEGORIES.items()},
    **{v: v for v in TARGET_CATEGORIES.values()},
    **{en: code for code, en in code_label_map("target_category", "en").items()},
    "数量指标": "output_quantity",
    "质量指标": "output_quality",
    "时效指标": "output_timeliness",
    "成本指标": "output_cost",
    "效益指标": "benefit",
    "满意度指标": "satisfaction",
}

#: travel components (费用项目), zh -> code; codes and the English labels of labels.csv
#: (``meal allowance``, as the English template lists them) are accepted too
TRAVEL_ITEMS = {
    "住宿费": "lodging",
    "伙食补助费": "meals",
    "市内交通费": "local_transport",
    "城市间交通费": "intercity",
}
_TRAVEL_SPELLINGS = {
    **TRAVEL_ITEMS,
    **{v: v for v in TRAVEL_ITEMS.values()},
    **{en: code for code, en in code_label_map("travel_item", "en").items()},
    "住宿": "lodging",
    "伙食补助": "meals",
    "伙食费": "meals",
    "市内交通": "local_transport",
    "城市间交通": "intercity",
    "交通费": "intercity",
    "大交通": "intercity",
}

#: a request without a department: a group of its own, stored in Chinese (the records
#: keep it so); the outputs name it in their language (report.review_book.department_words)
UNFILLED_DEPARTMENT = message("review.unfilled_department", "zh")
AMOUNT_REL_TOL, AMOUNT_ABS_TOL = 0.005, 1.0


@dataclass(frozen=True)
class RequestBook:
    """Projects, lines and targets of one request book (validated frames).

    ``has_targets`` is False for the single-sheet request format (no target gate);
    ``sources`` names the files read (for the records' input hashes).
    """

    projects: pd.DataFrame
    lines: pd.DataFrame
    targets: pd.DataFrame
    has_targets: bool = True
    sources: tuple[str, ...] = field(default_factory=tuple)
    #: errors found while reading and left for the review to report with its own
    #: (``read_request_book(..., defer=True)``): all problems of a run come at once
    errors: pd.DataFrame | None = None


def _key(value: object) -> str:
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return text.replace("—", "-").replace("－", "-").replace(" ", "")


def _codes(values: pd.Series, spellings: dict[str, str]) -> pd.Series:
    folded = {_key(k).lower(): v for k, v in spellings.items()}
    return values.map(lambda v: folded.get(_key(v).lower()), na_action="ignore")


def near_codes(values: pd.Series, known: Iterable[str]) -> pd.Series:
    """The code of ``known`` each value differs from only in case, spaces, dashes or
    width (``a-cz-001``, ``Ａ-ＣＺ-001`` for ``A-CZ-001``); NaN where there is none."""
    return _codes(values, {k: k for k in known if k == k})


def name_near_codes(
    found: pd.DataFrame, values: pd.Series, known: Iterable[str], expected: str
) -> pd.DataFrame:
    """``found`` (the problems of the unknown codes ``values``, in their order) with the
    expected text ``expected`` (its ``{near}`` the code) where a value differs from a
    known code only in spelling (:func:`near_codes`)."""
    if not len(found):
        return found
    near = near_codes(values, known)
    hint = near.map(lambda k: expected.format(near=k), na_action="ignore")
    found["expected"] = hint.where(near.notna(), found["expected"].to_numpy()).to_numpy()
    return found


def target_category_codes(values: pd.Series) -> pd.Series:
    """The code of each 指标类别 as written (产出-数量, 数量指标, output_quantity ...);
    NaN where it is no category (and for a blank)."""
    return _codes(values, _CATEGORY_SPELLINGS)


def category_problems(frame: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """The codes of ``frame``'s 指标类别 column (a request book's targets, a case's
    outputs) and a located problem for each value outside the closed list (a blank is
    none)."""
    raw = frame["category"].astype(object)
    code = target_category_codes(raw)
    bad = raw.notna() & raw.astype(str).str.strip().ne("") & code.isna()
    listing = "、".join(TARGET_CATEGORIES)
    return code, row_problems(frame, bad, "category", f"one of: {listing}", "unknown_category")


def book_from_requests(requests: pd.DataFrame) -> RequestBook:
    """A book from the single-sheet request format: one project per ``request_id``."""
    lines = requests.rename(columns={"request_id": "project_id"})
    lines.attrs = dict(requests.attrs)
    headers = dict(lines.attrs.get("headers", {}))
    if "request_id" in headers:
        headers["project_id"] = headers.pop("request_id")
    lines.attrs["headers"] = headers
    cols = [c for c in ("project_name", "department") if c in lines]
    first = lines.groupby("project_id", sort=False)[cols].first() if cols else None
    projects = pd.DataFrame({"project_id": pd.unique(lines["project_id"])})
    if first is not None:
        projects = projects.join(first, on="project_id")
    if "department" not in projects:
        projects["department"] = np.nan
    projects["department"] = projects["department"].astype(object).fillna(UNFILLED_DEPARTMENT)
    targets = pd.DataFrame(columns=["project_id", "category", "indicator", "unit", "target"])
    return RequestBook(projects, lines, targets, has_targets=False)


def check_book(book: RequestBook) -> tuple[RequestBook, pd.DataFrame]:
    """The book ready for review and every problem across its tables (never raises)."""
    projects = book.projects
    lines, found_lines = check_table("lines", book.lines)
    targets, found_targets = check_table("targets", book.targets)
    problems = [check_table("projects", projects)[1], found_lines, found_targets]
    known = set(projects["project_id"])
    for frame, what in ((lines, "lines"), (targets, "targets")):
        unknown = frame["project_id"].notna() & ~frame["project_id"].isin(known)
        found = row_problems(
            frame,
            unknown,
            "project_id",
            f"a project_id of the projects sheet ({what} of an unknown project)",
            "unknown_project",
        )
        # a-cz-001 for A-CZ-001: the code it differs from only in spelling
        spelt = "a project_id of the projects sheet (it has '{near}', spelt otherwise)"
        problems.append(name_near_codes(found, frame.loc[unknown, "project_id"], known, spelt))
    without = ~projects["project_id"].isin(set(lines["project_id"]))
    problems.append(
        row_problems(
            projects,
            without,
            "project_id",
            "a project with lines",
            "project_without_lines",
            severity="warning",
        )
    )
    return replace(book, lines=lines, targets=targets), concat_problems(problems)


def check_table(table: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The checks of one table of a book that need no other table (closed lists, whole
    line numbers, amounts), so that they run even when another table cannot be read."""
    problems = []
    if table == "projects":
        if frame.empty:
            problems.append(
                table_problem(frame, "project_id", "at least one project", "no_projects")
            )
        return frame, concat_problems(problems)
    out = frame.copy()
    out.attrs = dict(frame.attrs)
    if table == "lines":
        if "line_no" in out:
            fractional = out["line_no"].notna() & (out["line_no"] % 1 != 0)
            problems.append(
                row_problems(out, fractional, "line_no", "a whole line number", "not_whole")
            )
        out, found = _amounts(out)
        problems.append(found)
        if "econ_code" in out:
            out["econ_code"], found = _econ_codes(out)
            problems.append(found)
        if "travel_item" in out:
            code = _codes(out["travel_item"], _TRAVEL_SPELLINGS)
            # a blank cell (read as '' from the single-sheet format) names no component
            given = out["travel_item"].notna() & out["travel_item"].astype(str).str.strip().ne("")
            bad = given & code.isna()
            listing = "、".join(TRAVEL_ITEMS)
            expected = f"one of: {listing} (or blank)"
            problems.append(row_problems(out, bad, "travel_item", expected, "unknown_travel_item"))
            out["travel_item"] = code
    elif table == "targets" and len(out):
        code, found = category_problems(out)
        problems.append(found)
        out["category"] = code
        if "target" in out:  # an output quantity below 0 is no target (it drops a cap)
            from costperf.schemas import parse_numbers

            numbers, _, _ = parse_numbers(out["target"])
            negative = code.eq("output_quantity") & (numbers < 0)
            expected = "an output quantity of 0 or more (产出-数量 目标值)"
            problems.append(row_problems(out, negative, "target", expected, "below_minimum"))
    return out, concat_problems(problems)


def _no_amount_column(lines: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """No 申报数 column and lines without quantity x unit price (申报数 typed 申报书): one
    problem naming the headers the book does not know, not one "missing amount" per
    line."""
    from costperf.schemas import unknown_headers

    unknown = unknown_headers(lines)
    expected = "a column 'requested', or 'quantity' and 'unit_price'"
    value = ", ".join(unknown)
    if unknown:
        expected += "; the header has columns the book does not know"
    problem = table_problem(  # the column named as the rows' problems name it
        lines, "requested", expected, "missing_column", value=value, row=_head(lines)
    )
    out = lines.copy()
    out.attrs = dict(lines.attrs)
    out["requested"] = np.nan
    return out, problem


def _head(frame: pd.DataFrame) -> int | None:
    row = frame.attrs.get("header_row")
    return int(row) if row else None


#: an economic classification code: 类 (3 digits) or 款 (5 digits) of the government
#: expenditure classification; a trailing ".0" (a code column saved from a float) is
#: dropped
_ECON_CODE = r"^([0-9]{3}|[0-9]{5})(?:\.0+)?$"


def _econ_codes(lines: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """``econ_code`` as routed (``"30215.0"`` -> ``"30215"``) and the codes that are
    no 3- or 5-digit code (``"030215"``, ``"3021"``, ``"差旅费"``): a located problem
    each, not a line routed silently to 无适用标准."""
    codes = lines["econ_code"]
    text = codes.astype(object).where(codes.notna(), None)
    given = text.notna() & text.astype(str).str.strip().ne("")
    parts = text.astype(str).str.strip().str.extract(_ECON_CODE, expand=False)
    bad = given & parts.isna()
    expected = "an econ code of 3 or 5 digits (e.g. 302 or 30215)"
    found = row_problems(lines, bad, "econ_code", expected, "bad_econ_code")
    return parts.where(given & ~bad, text), found


def _amounts(lines: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``requested`` = the amount given, else quantity x unit_price; mismatches found."""
    nan = pd.Series(np.nan, index=lines.index)
    given = lines["requested"] if "requested" in lines else nan
    if "amount" in lines:
        given = given.where(given.notna(), lines["amount"])
    quantity = lines["quantity"] if "quantity" in lines else nan
    price = lines["unit_price"] if "unit_price" in lines else nan
    product = round_half_up_values(quantity * price)
    # an equipment line may leave the amount to quantity x unit price; others need it
    missing = given.isna() & product.isna()
    missing &= ~blanked_rows(lines, ("quantity", "unit_price"))  # a problem of its own
    if missing.any() and not {"requested", "amount"} & set(lines):
        return _no_amount_column(lines)
    column = "requested" if "requested" in lines else "amount" if "amount" in lines else "requested"
    problems = [
        row_problems(
            lines,
            missing,
            column,
            "the requested amount [yuan] ('requested'), or 'quantity' x 'unit_price'",
            "missing_fact",
        )
    ]
    tolerance = np.maximum(AMOUNT_REL_TOL * product.abs(), AMOUNT_ABS_TOL)
    differ = given.notna() & product.notna() & ((given - product).abs() > tolerance)
    expected = "'quantity' x 'unit_price', within 0.5 % or 1 yuan"
    problems.append(row_problems(lines, differ, column, expected, "amount_mismatch"))
    out = lines.copy()
    out.attrs = dict(lines.attrs)
    # to the fen, half-up on the amount as written (20.005 -> 20.01, not 20.00)
    out["requested"] = round_half_up_values(given.where(given.notna(), product))
    return out, concat_problems(problems)
