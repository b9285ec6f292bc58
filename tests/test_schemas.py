"""Tests for costperf.schemas, costperf.columns and costperf.errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from costperf.columns import (
    canonical_name,
    column_table,
    label,
    natural_key,
    normalise_header,
    sort_natural,
    split_unit,
    to_display,
)
from costperf.errors import (
    PROBLEM_COLUMNS,
    InputError,
    empty_problems,
    format_problem,
    located_error,
    make_problems,
    merge_errors,
    raise_if_problems,
)
from costperf.schemas import (
    LINE_ITEMS,
    OUTPUTS,
    PROJECTS,
    check_unique,
    coerce_numeric,
    coerce_text,
    parse_numbers,
    require_columns,
)


def located(
    frame: pd.DataFrame, headers: dict[str, str] | None = None, source: str = "lines.csv"
) -> pd.DataFrame:
    """Give a hand-made frame the location columns and attrs a reader adds."""
    out = frame.copy()
    out.insert(0, "source_file", source)
    out.insert(1, "sheet", "")
    out["source_row"] = range(2, len(out) + 2)
    out.attrs = {"source": (source, ""), "headers": headers or {}, "header_row": 1}
    return out


# --- columns ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "name", "scale"),
    [
        ("项目编码", "project_id", 1.0),
        ("project_id", "project_id", 1.0),
        ("Project ID", "project_id", 1.0),
        ("合同编号", "project_id", 1.0),
        ("数量", "quantity", 1.0),
        ("Quantity", "quantity", 1.0),
        ("金额", "amount", 1.0),
        ("金额（元）", "amount", 1.0),
        ("金额(元)", "amount", 1.0),
        ("金额（万元）", "amount", 1e4),
        ("金额 (万元)", "amount", 1e4),
        ("amount (10k yuan)", "amount", 1e4),
        ("单价（万元）", "unit_price", 1e4),
        ("金额（亿元）", "amount", 1e8),
        ("保洁面积", "area_m2", 1.0),
        ("保洁人员数", "cleaners", 1.0),
        (" 成本要素 ", "cost_element", 1.0),
        ("备注", None, 1.0),
        ("金额X", None, 1.0),
    ],
)
def test_canonical_name_maps_chinese_and_english(
    header: str, name: str | None, scale: float
) -> None:
    assert canonical_name(header) == (name, scale)


def test_every_column_has_both_labels() -> None:
    table = column_table()
    assert table.index.is_unique
    assert (table["label_zh"] != "").all() and (table["label_en"] != "").all()
    for row in table.itertuples(index=False):
        assert canonical_name(row.label_zh)[0] == row.name
        assert canonical_name(row.name)[0] == row.name


def test_header_helpers() -> None:
    assert normalise_header("Unit_Price （元）") == "unitprice(元)"
    assert split_unit("金额（万元）") == ("金额", "万元")
    assert split_unit("金额") == ("金额", "")


def test_labels_and_display() -> None:
    assert label("amount") == "金额" and label("amount", "en") == "Amount"
    assert label("no_such_column") == "no_such_column"
    shown = to_display(pd.DataFrame(columns=["project_id", "cut_rate", "x"]))
    assert list(shown.columns) == ["项目编码", "核减率", "x"]
    shown = to_display(pd.DataFrame(columns=["project_id", "cut_rate"]), "en")
    assert list(shown.columns) == ["Project ID", "Cut rate"]


def test_natural_order_of_grades() -> None:
    assert sorted(["三级", "十级", "一级", "二级"], key=natural_key) == [
        "一级",
        "二级",
        "三级",
        "十级",
    ]
    assert sorted(["grade 10", "grade 2"], key=natural_key) == ["grade 2", "grade 10"]
    frame = sort_natural(pd.DataFrame({"g": ["四级", "一级", "二级"]}), ["g"])
    assert frame["g"].tolist() == ["一级", "二级", "四级"]


# --- parse_numbers / coerce_numeric ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,234.50", 1234.5),
        ("1，234.50", 1234.5),
        ("¥1 234", 1234.0),
        ("￥12", 12.0),
        ("12元", 12.0),
        ("1,234,567", 1234567.0),
        (" 7 ", 7.0),
        ("-3", -3.0),
        ("1e3", 1000.0),
        ("１２３．５", 123.5),
        ("1\u00a0000", 1000.0),
    ],
)
def test_parse_numbers_accepts_written_numbers(text: str, value: float) -> None:
    numbers, missing, bad = parse_numbers(pd.Series([text], dtype=object))
    assert numbers.iloc[0] == pytest.approx(value)
    assert not missing.iloc[0] and not bad.iloc[0]


@pytest.mark.parametrize(
    "text", ["abc", "十元", "n/a", "nan", "inf", "-inf", "1.2.3", "1e999", "12万"]
)
def test_parse_numbers_rejects_text(text: str) -> None:
    numbers, missing, bad = parse_numbers(pd.Series([text], dtype=object))
    assert bad.iloc[0] and not missing.iloc[0] and np.isnan(numbers.iloc[0])


@pytest.mark.parametrize(("text", "value"), [("12%", 0.12), ("12％", 0.12), ("3,000%", 30.0)])
def test_a_share_is_a_number_only_in_a_column_of_fractions(text: str, value: float) -> None:
    """``12%`` is 0.12 where the column holds fractions (columns.csv unit ``fraction``);
    in a count or an amount it is a typing error, not 0.12 of a person or a yuan."""
    for cells in (pd.Series([text], dtype=object), pd.Series([text], dtype="str")):
        numbers, _, bad = parse_numbers(cells, percent=True)
        assert numbers.iloc[0] == pytest.approx(value) and not bad.iloc[0]
        numbers, missing, bad = parse_numbers(cells)
        assert bad.iloc[0] and not missing.iloc[0] and np.isnan(numbers.iloc[0])
    frame = pd.DataFrame({"share_tax": [text], "persons": [text]})
    typed, problems = coerce_numeric(frame, ["share_tax", "persons"])
    assert typed["share_tax"].iloc[0] == pytest.approx(value)
    assert problems["column"].tolist() == ["persons"]
    assert problems["check"].tolist() == ["not_a_number"]


@pytest.mark.parametrize("text", ["1,5", "12,34", "1.234,5", "1,2345", ",5", "1,000,00"])
def test_a_comma_out_of_thousands_position_is_no_number(text: str) -> None:
    """A comma only separates groups of three digits: a decimal comma (``1,5``) is not
    read as 15, in either the object or the Arrow path."""
    for cells in (pd.Series([text], dtype=object), pd.Series([text], dtype="str")):
        numbers, missing, bad = parse_numbers(cells)
        assert bad.iloc[0] and not missing.iloc[0] and np.isnan(numbers.iloc[0])


def test_parse_numbers_blanks_and_numeric_columns() -> None:
    numbers, missing, bad = parse_numbers(pd.Series(["", None, "  ", "3"], dtype=object))
    assert missing.tolist() == [True, True, True, False]
    assert not bad.any() and numbers.iloc[3] == 3.0
    numbers, missing, bad = parse_numbers(pd.Series([1.5, np.nan]))
    assert missing.tolist() == [False, True] and not bad.any()
    numbers, missing, bad = parse_numbers(pd.Series([True, False]))  # booleans are not numbers
    assert bad.all()


def test_coerce_numeric_reports_each_bad_cell_with_its_header() -> None:
    frame = located(
        pd.DataFrame({"quantity": ["2", "abc", "-1", ""]}), headers={"quantity": "数量"}
    )
    out, problems = coerce_numeric(frame, ["quantity"], min_value=0.0)
    assert out["quantity"].tolist()[:1] == [2.0]
    got = problems[["source_row", "column", "value", "check"]].values.tolist()
    assert got == [
        [3, "数量", "abc", "not_a_number"],
        [5, "数量", "", "missing_value"],
        [4, "数量", "-1", "below_minimum"],
    ]
    assert (problems["source_file"] == "lines.csv").all()


def test_coerce_numeric_allow_missing_and_scale() -> None:
    frame = located(pd.DataFrame({"amount": ["1.5", ""]}))
    out, problems = coerce_numeric(frame, ["amount"], allow_missing=True, scale={"amount": 1e4})
    assert problems.empty
    assert out["amount"].iloc[0] == 15000.0 and np.isnan(out["amount"].iloc[1])
    assert frame["amount"].tolist() == ["1.5", ""]  # the input is not changed


def test_coerce_text_keeps_codes() -> None:
    frame = located(
        pd.DataFrame({"econ_code": [30227.0, "030227", " 302 ", None], "item": ["a", "b", "", "d"]})
    )
    out, problems = coerce_text(frame, ["econ_code", "item"], required=["item"])
    assert out["econ_code"].tolist() == ["30227", "030227", "302", None]
    assert problems[["source_row", "check"]].values.tolist() == [[4, "missing_value"]]


# --- check_unique / require_columns / Schema ------------------------------------------


def test_check_unique_names_the_first_row() -> None:
    frame = located(
        pd.DataFrame({"project_id": ["A", "B", "A", "A"]}), headers={"project_id": "项目编码"}
    )
    problems = check_unique(frame, ["project_id"], what="project_id")
    assert problems["source_row"].tolist() == [4, 5]
    assert problems["column"].tolist() == ["项目编码", "项目编码"]
    assert problems["expected"].tolist() == ["a unique project_id (first used in row 2)"] * 2


def test_check_unique_compound_key_shows_whole_numbers() -> None:
    frame = located(
        pd.DataFrame({"project_id": ["A", "A", None, "B"], "line_no": [1.0, 1.0, 1.0, 1.0]})
    )
    problems = check_unique(frame, ["project_id", "line_no"], what="project + line")
    assert problems["value"].tolist() == ["A / 1"]  # not "A / 1.0"; the blank id is skipped
    assert problems["source_row"].tolist() == [3]


def test_check_unique_skips_a_key_with_an_absent_column() -> None:
    # lines without 序号: several lines of one project are not duplicates
    frame = located(pd.DataFrame({"project_id": ["A", "A"]}))
    assert check_unique(frame, ["project_id", "line_no"], what="x").empty


def test_require_columns_lists_the_headers_as_written() -> None:
    frame = located(
        pd.DataFrame({"project_id": ["A"], "金 额X": ["1"]}), headers={"project_id": "项目编码"}
    )
    problems = require_columns(frame, ["project_id", "amount"], what="明细")
    assert problems["column"].tolist() == ["amount"]
    assert problems["source_row"].tolist() == [1]  # the header row
    assert "'amount' or '金额' in 明细" in problems.loc[0, "expected"]
    assert "(columns found: 项目编码, 金 额X)" in problems.loc[0, "expected"]


def test_schema_validate_types_every_column() -> None:
    frame = located(
        pd.DataFrame(
            {
                "project_id": ["A", "A", "B"],
                "line_no": ["1", "2", "1"],
                "cost_element": ["人员", "材料", "设备"],
                "quantity": ["2", "", "1"],
                "unit_price": ["10", "", "5"],
                "amount": ["20", "7", "5"],
                "econ_code": ["30227", "30227", "030227"],
                "备注": ["", "", "x"],
            }
        )
    )
    typed, problems = LINE_ITEMS.validate(frame)
    assert typed["amount"].dtype == float and typed["line_no"].tolist() == [1.0, 2.0, 1.0]
    assert typed["econ_code"].tolist() == ["30227", "30227", "030227"]
    assert problems["check"].tolist() == ["unknown_column"]
    assert (problems["severity"] == "warning").all()
    assert typed.attrs["source"] == ("lines.csv", "")


def test_schema_missing_columns_stop_validation() -> None:
    frame = located(pd.DataFrame({"project_id": ["A"]}))
    typed, problems = OUTPUTS.validate(frame)
    assert sorted(problems["column"]) == ["actual", "indicator"]
    assert (problems["check"] == "missing_column").all()


def test_projects_schema_allows_driver_columns() -> None:
    frame = located(pd.DataFrame({"project_id": ["A"], "district": ["青浦区"], "机扫率": ["0.8"]}))
    typed, problems = PROJECTS.validate(frame)
    assert problems.empty


# --- errors ----------------------------------------------------------------------------


def test_format_problem() -> None:
    row = {
        "source_file": "a.xlsx",
        "sheet": "明细",
        "source_row": 7.0,
        "column": "数量",
        "value": "abc",
        "expected": "a number",
    }
    assert (
        format_problem(row) == "a.xlsx, sheet '明细', row 7, column '数量': got 'abc', "
        "expected a number"
    )
    assert (
        format_problem({"source_file": "a.csv", "value": "x" * 100, "expected": ""})
        == f"a.csv: got '{'x' * 57}...'"
    )


def test_raise_if_problems_limits_and_ignores_warnings() -> None:
    rows = [
        {"source_file": "a.csv", "source_row": i, "column": "数量", "expected": "a number"}
        for i in range(2, 15)
    ]
    problems = make_problems(rows + [{"source_file": "a.csv", "severity": "warning"}])
    with pytest.raises(InputError, match=r"13 problem\(s\) in a.csv") as info:
        raise_if_problems(problems, "a.csv")
    assert "... and 3 more problem(s)" in str(info.value)
    assert len(info.value.problems) == 14
    raise_if_problems(make_problems([{"severity": "warning"}]), "a.csv")  # no raise
    raise_if_problems(empty_problems(), "a.csv")


def test_located_error_and_merge() -> None:
    err = located_error("b.csv: file not found", source_file="b.csv", check="file_not_found")
    assert err.problems.loc[0, "expected"] == "b.csv: file not found"
    assert list(err.problems.columns) == PROBLEM_COLUMNS
    plain = InputError("c.csv: bad")
    merged = merge_errors([err, plain])
    assert str(merged) == "b.csv: file not found\nc.csv: bad"
    assert merged.problems["check"].tolist() == ["file_not_found", "file"]
    assert merge_errors([plain]) is plain
    # found by an audit: a workbook with a DTD, refused once per sheet read, was 3 problems
    again = located_error("b.csv: file not found", source_file="b.csv", check="file_not_found")
    once = merge_errors([err, again, plain])
    assert str(once) == "b.csv: file not found\nc.csv: bad"
    assert once.problems["check"].tolist() == ["file_not_found", "file"]


def test_a_number_beyond_the_largest_magnitude_is_a_located_problem() -> None:
    """1e308 parses as a float, and overflowed what followed (found by fuzzing: a budget
    of 1e308 broke the rounding to cents); a year keeps its own range check."""
    from costperf.schemas import MAX_MAGNITUDE, PROJECTS, coerce_numeric

    frame = pd.DataFrame({"amount": ["1e308", "-2e18", "1e18", "5"], "source_row": [2, 3, 4, 5]})
    _, problems = coerce_numeric(frame, ["amount"])
    assert problems["source_row"].tolist() == [2, 3]
    assert set(problems["check"]) == {"above_maximum"}
    assert problems["expected"].iloc[0] == f"a number of at most {MAX_MAGNITUDE:g} in magnitude"
    year = pd.DataFrame({"project_id": ["P"], "district": ["D"], "year": ["1e308"]})
    year["source_row"] = 2
    _, found = PROJECTS.validate(year)
    assert found.loc[found["column"] == "year", "expected"].tolist() == ["a year from 1900 to 2200"]


def test_dates_outside_the_years_are_not_dates() -> None:
    """Found by fuzzing: a date cell "-1" parsed as the year -1 (a coarser resolution than
    nanoseconds), and the review's date arithmetic then failed."""
    from costperf.schemas import parse_dates

    cells = pd.Series(["-1", "2024-06-29", "0001-01-01", "9999-12-31", None, "2024年6月1日"])
    got = parse_dates(cells)
    assert got.dtype == "datetime64[ns]"
    assert got.isna().tolist() == [True, False, True, True, True, False]


def test_one_date_parser_reads_what_users_write_and_nothing_else() -> None:
    """The review's lines, travel end dates and monitoring checkpoints share it."""
    import datetime

    from costperf.schemas import parse_dates

    ok = {
        "2027-03-01": "2027-03-01",
        "2027/3/1": "2027-03-01",  # year first: never 3 January
        "2027.3.1": "2027-03-01",
        "2027年3月1日": "2027-03-01",
        " ２０２７年３月１日 ": "2027-03-01",  # full-width digits
        "20270301": "2027-03-01",
        "2027-03-01 00:00:00": "2027-03-01",
        "2027-03-01 14:30": "2027-03-01",
        datetime.datetime(2027, 3, 1, 9, 15): "2027-03-01",
        datetime.date(2027, 3, 1): "2027-03-01",
        pd.Timestamp("2027-03-01"): "2027-03-01",
    }
    bad = ["2027-02-30", "2027-13-01", "1/3/2027", "March 1, 2027", "2027-03", "46082", "", "x"]
    cells = pd.Series([*ok, *bad, None, np.nan], dtype=object)
    got = parse_dates(cells)
    assert got.dtype == "datetime64[ns]"
    assert got.iloc[: len(ok)].dt.strftime("%Y-%m-%d").tolist() == list(ok.values())
    assert got.iloc[len(ok) :].isna().all()
    typed = parse_dates(pd.Series(pd.to_datetime(["2027-03-01 10:00", None])))
    assert typed.iloc[0] == pd.Timestamp("2027-03-01") and pd.isna(typed.iloc[1])


@pytest.mark.parametrize(
    ("column", "value", "check", "shown"),
    [
        ("column 8", "", "empty_header", ("第 8 列", "")),
        ("column AB", "x", "formula_without_value", ("第 AB 列", "x")),
        ("department", "", "missing_column", ("预算部门", "")),
        ("requested", "", "missing_fact", ("申报数", "")),
        ("department", "", "not_a_number", ("department", "")),  # a header as written
        ("", "31 cells", "csv_format", ("", "31 个单元格")),
        (
            "明细名称",
            "长长… (40,000 characters)",
            "too_long",
            ("明细名称", "长长…（共 40,000 个字符）"),
        ),
        ("金额", "5 cells left", "x", ("金额", "5 cells left")),  # data: as written
        ("申报数", "(formula)", "formula_without_value", ("申报数", "（公式）")),
        ("申报数", "(formula)", "not_a_number", ("申报数", "(formula)")),  # data: as written
    ],
)
def test_a_problem_reads_in_chinese_with_its_data_as_written(column, value, check, shown) -> None:
    """Found by an audit: 'column 8', '31 cells', '(40,000 characters)' and canonical
    names (department) in the Chinese messages."""
    from costperf.errors import problem_cells_zh

    assert problem_cells_zh(column, value, check) == shown


def test_a_date_formatted_as_a_number_is_named_as_an_excel_serial() -> None:
    """46082 in a date column is 2026-03-01 in Excel's serial numbers (day 1 = 1900-01-01,
    with its 1900-02-29): the message says so; other bad cells keep the plain text."""
    from costperf.schemas import date_expected

    got = date_expected(pd.Series(["46082", "46082.0", "2026-13-01", "60", "9999999", "abc"]))
    hint = "a date YYYY-MM-DD; {} looks like an Excel date serial number (2026-03-01): "
    assert got[:2] == [hint.format("46082") + "format the cell as a date",
                       hint.format("46082") + "format the cell as a date"]  # fmt: skip
    assert got[2:] == ["a date YYYY-MM-DD"] * 4
    assert date_expected(pd.Series([45658]), "监控时点") == [
        "a date YYYY-MM-DD (监控时点); 45658 looks like an Excel date serial number "
        "(2025-01-01): format the cell as a date"
    ]
