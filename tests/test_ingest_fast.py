"""The fast ingest paths (Arrow text columns) find exactly what the row-by-row paths found.

The expected values below were captured from the implementation before the fast paths
(commit bf8a2ad: ``_is_blank`` over an object copy of the grid, ``_cell_text`` per cell,
the regex number parser per cell); they are literal values, not a second computation.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costperf.errors import InputError
from costperf.io.read import (
    _blanks_by_column,
    _is_blank,
    _text_blanks,
    map_headers,
    read_checked,
    read_table,
)
from costperf.schemas import LINE_ITEMS, coerce_text, parse_numbers

BAD_CSV = [
    "项目编码,序号,成本要素,经济分类科目,明细名称,计量单位,数量,单价（元）,金额（元）",
    "XM001,1,人员,30201,保洁员工资,人·年,2,50000,100000",
    'XM001,2,材料, 30218 ,清洁用品 ,批,"1,200",¥5,6000',
    "XM001,2,材料,30218,重复序号,批,1,5,5",
    "XM002,1,设备,31003,清扫车,辆,abc,80000,80000",
    "XM002,2,其他,30211,差旅费,人次,-3,300,-900",
    "XM002,3,管理费,30299,管理费,项,1,12%,",
    "XM002,4,税金,30299,增值税,项,１２３．５,1e3,123500",
    " ,5,利润,30299,合理利润,项,1,1234567890123456,1234567890123456",
    "XM003,1,人员,30201,'=cmd,人·年,-0,0.1,0.1",
    "XM003,2,材料,,   ,批,  ,.5,7.",
    "XM003,3,委托服务,30227,垃圾清运,吨,1.5.5,inf,nan",
    "XM003,x,材料,30218,清洁用品,批,+5,5 ,25",
]

EXPECTED_PROBLEMS = {
    "source_file": ["bad.csv"] * 11,
    "sheet": [""] * 11,
    # row 7's unit price "12%" was read as 0.12 yuan; a % belongs only in a fraction column
    "source_row": [12, 7, 6, 13, 5, 12, 6, 7, 12, 9, 4],
    "column": [
        "金额（元）",
        "金额（元）",
        "金额（元）",
        "序号",
        "数量",
        "数量",
        "数量",
        "单价（元）",
        "单价（元）",
        "项目编码",
        "序号",
    ],
    "value": ["nan", "", "-900", "x", "abc", "1.5.5", "-3", "12%", "inf", " ", "XM001 / 2"],
    "expected": [
        "a number",
        "a value (the cell is blank)",
        "a number >= 0",
        "a number",
        "a number",
        "a number",
        "a number >= 0",
        "a number",
        "a number",
        "a value (the cell is blank)",
        "a unique project_id + line_no (first used in row 3.0)",
    ],
    "check": [
        "not_a_number",
        "missing_value",
        "below_minimum",
        "not_a_number",
        "not_a_number",
        "not_a_number",
        "below_minimum",
        "not_a_number",
        "not_a_number",
        "missing_value",
        "duplicate_id",
    ],
    "severity": ["error"] * 11,
}

nan = float("nan")
EXPECTED_TYPED = {
    "project_id": [
        "XM001",
        "XM001",
        "XM001",
        "XM002",
        "XM002",
        "XM002",
        "XM002",
        None,
        "XM003",
        "XM003",
        "XM003",
        "XM003",
    ],
    "line_no": [1.0, 2.0, 2.0, 1.0, 2.0, 3.0, 4.0, 5.0, 1.0, 2.0, 3.0, nan],
    "cost_element": [
        "人员",
        "材料",
        "材料",
        "设备",
        "其他",
        "管理费",
        "税金",
        "利润",
        "人员",
        "材料",
        "委托服务",
        "材料",
    ],
    "econ_code": [
        "30201",
        "30218",
        "30218",
        "31003",
        "30211",
        "30299",
        "30299",
        "30299",
        "30201",
        None,
        "30227",
        "30218",
    ],
    "item": [
        "保洁员工资",
        "清洁用品",
        "重复序号",
        "清扫车",
        "差旅费",
        "管理费",
        "增值税",
        "合理利润",
        "=cmd",
        None,
        "垃圾清运",
        "清洁用品",
    ],
    "unit": ["人·年", "批", "批", "辆", "人次", "项", "项", "项", "人·年", "批", "吨", "批"],
    "quantity": [2.0, 1200.0, 1.0, nan, -3.0, 1.0, 123.5, 1.0, 0.0, nan, nan, 5.0],  # "-0": 0
    "unit_price": [
        50000.0,
        5.0,
        5.0,
        80000.0,
        300.0,
        nan,
        1000.0,
        1234567890123456.0,
        0.1,
        0.5,
        nan,
        5.0,
    ],
    "amount": [
        100000.0,
        6000.0,
        5.0,
        80000.0,
        -900.0,
        nan,
        123500.0,
        1234567890123456.0,
        0.1,
        7.0,
        nan,
        25.0,
    ],
    "source_row": [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
}


def _same_numbers(got: list, want: list) -> bool:
    """Equal as floats, NaN equal to NaN and the sign of zero kept (-0.0 is not 0.0)."""
    return len(got) == len(want) and all(
        (math.isnan(g) and math.isnan(w)) or (g == w and math.copysign(1, g) == math.copysign(1, w))
        for g, w in zip(got, want, strict=True)
    )


@pytest.fixture
def bad_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    Path("bad.csv").write_text("\n".join(BAD_CSV) + "\n", encoding="utf-8")
    return Path("bad.csv")


def test_bad_cells_give_the_same_problems_as_before(bad_csv: Path) -> None:
    frame, _ = map_headers(read_table(bad_csv))
    typed, problems = LINE_ITEMS.validate(frame)
    assert problems.to_dict("list") == EXPECTED_PROBLEMS
    for column, want in EXPECTED_TYPED.items():
        got = typed[column].tolist()
        if column in ("line_no", "quantity", "unit_price", "amount"):
            assert typed[column].dtype == np.float64
            assert _same_numbers(got, want), column
        else:
            assert got == want, column
    text = ["project_id", "cost_element", "econ_code", "item", "unit"]
    assert all(typed[c].dtype == object for c in text)
    with pytest.raises(InputError) as caught:
        read_checked(bad_csv, LINE_ITEMS)
    assert caught.value.problems.to_dict("list") == EXPECTED_PROBLEMS


def _slow_parse(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """parse_numbers on the same cells held as Python objects (the row-by-row path)."""
    return parse_numbers(values.astype(object))


CELLS = st.one_of(
    st.from_regex(r"\A-?[0-9]{1,15}(\.[0-9]{0,6})?\Z"),
    st.from_regex(r"\A-?\.[0-9]{1,8}\Z"),
    st.from_regex(r"\A[ +\-0-9.,%eE¥元]{0,20}\Z"),
    st.sampled_from(["", " ", "-0", "-0.0", "0", "00.50", "inf", "nan", "1e400", "1,234.5"]),
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(CELLS, min_size=1, max_size=30))
def test_arrow_number_parsing_equals_the_row_by_row_parser(cells: list[str]) -> None:
    arrow = pd.Series(cells, dtype="str")
    fast = parse_numbers(arrow)
    slow = _slow_parse(arrow)
    assert _same_numbers(fast[0].tolist(), slow[0].tolist()), (cells, fast[0], slow[0])
    assert fast[1].tolist() == slow[1].tolist()
    assert fast[2].tolist() == slow[2].tolist()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["", " a", "a ", "a", "30201", " ", "\u3000b", "b"]), min_size=1))
def test_arrow_text_cleaning_equals_the_row_by_row_cleaning(cells: list[str]) -> None:
    arrow = pd.DataFrame({"item": pd.Series(cells, dtype="str")})
    fast, _ = coerce_text(arrow, ["item"])
    slow, _ = coerce_text(arrow.astype(object), ["item"])
    assert fast["item"].tolist() == slow["item"].tolist()
    assert fast["item"].dtype == slow["item"].dtype == object


def test_a_negative_zero_reads_as_zero_whatever_the_other_cells() -> None:
    """pandas keeps or drops the sign of "-0" depending on the column (found by the
    property above: ['0.', '- 0']); a zero is 0 either way, on both paths."""
    for cells in (["0.", "- 0"], ["-0"], ["-0", "1"], ["-0.0", "2.5"], ["1", "-0", "x"]):
        for values in (pd.Series(cells, dtype="str"), pd.Series(cells, dtype=object)):
            numbers = parse_numbers(values)[0].dropna()
            zeros = numbers[numbers == 0].to_numpy()
            assert len(zeros) and not np.signbit(zeros).any(), cells


GRID_CELLS = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "\u3000", "\t", "'", "'=x", " '", "a", "\xa0", "\u2003b ", "长文本"]),
    st.text(max_size=8),
)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda n: st.lists(st.lists(GRID_CELLS, min_size=n, max_size=n), min_size=1, max_size=12)
    )
)
def test_whole_grid_blanks_equal_the_column_by_column_ones(rows: list[list[str | None]]) -> None:
    """A CSV grid's blank cells, longest texts and apostrophes found in one Arrow array
    are those found column by column by pandas' string methods (the reference)."""
    grid = pd.DataFrame(rows).astype("str")
    grid = grid.where(pd.DataFrame(rows).notna())  # the missing cells stay missing
    fast = _text_blanks(grid)
    assert fast is not None
    slow = _blanks_by_column(grid)
    assert fast[0].tolist() == slow[0].tolist()
    assert fast[1] == slow[1]
    assert fast[2] == slow[2]
    seen: dict = {}
    blank = _is_blank(grid, seen)
    assert blank.to_numpy().tolist() == slow[0].tolist()
    assert (seen["longest"], seen["quoted"]) == (slow[1], slow[2])
    assert _text_blanks(grid.astype(object)) is None
