"""Tests for costperf.io: reading CSV/XLSX/Parquet with located rows, and atomic writes."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from costperf.columns import canonical_name
from costperf.errors import PROBLEM_COLUMNS, InputError
from costperf.io import (
    atomic_path,
    map_headers,
    read_line_items,
    read_outputs,
    read_projects,
    read_table,
    write_table,
    write_text,
)
from costperf.io.read import detect_header_row, problems_in, read_checked
from costperf.schemas import PROJECTS

LINES_CSV = (
    "项目编码,序号,成本要素,经济分类科目,数量,单价（元）,金额（元）\n"
    '001,1,人员,030227,2,"1,000.00","2,000.00"\n'
    "001,2,材料,30227,3,10,30\n"
    "\n"
    "002,1,设备,30227,1,500,500\n"
)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def xlsx(
    path: Path,
    rows: list[list[object]],
    *,
    sheet: str = "明细",
    merge_title: bool = False,
    extra_sheets: tuple[str, ...] = (),
) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    if merge_title:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=4)
    for name in extra_sheets:
        book.create_sheet(name)
    book.save(path)
    return path


def raises_located(func, *args, match: str, **kwargs) -> pd.DataFrame:
    """Assert ``func`` raises InputError matching ``match``; return its problems table."""
    with pytest.raises(InputError, match=match) as info:
        func(*args, **kwargs)
    problems = info.value.problems
    assert list(problems.columns) == PROBLEM_COLUMNS
    assert len(problems) >= 1
    return problems


# --- read_table ------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_encodings_read_the_same(tmp_path: Path, encoding: str) -> None:
    frame = read_table(write(tmp_path / "lines.csv", LINES_CSV, encoding))
    assert list(frame.columns[:3]) == ["source_file", "sheet", "项目编码"]
    assert frame["成本要素"].tolist() == ["人员", "材料", "设备"]
    assert frame["项目编码"].tolist() == ["001", "001", "002"]  # text: leading zeros kept


def test_source_rows_are_the_rows_the_user_sees(tmp_path: Path) -> None:
    frame = read_table(write(tmp_path / "lines.csv", LINES_CSV))
    # header is row 1, the first data row is row 2; the blank row 4 is dropped, not renumbered
    assert frame["source_row"].tolist() == [2, 3, 5]
    assert frame.attrs["header_row"] == 1
    assert (frame["sheet"] == "").all()
    assert frame["source_file"].str.endswith("lines.csv").all()


def test_blank_trailing_rows_and_columns_are_ignored(tmp_path: Path) -> None:
    text = LINES_CSV.replace("\n", ",\n") + ",,,,,,,\n\n,,,,,,,\n"
    frame = read_table(write(tmp_path / "lines.csv", text))
    assert len(frame) == 3
    assert "" not in frame.columns


def test_title_row_above_csv_header_is_skipped(tmp_path: Path) -> None:
    frame = read_table(write(tmp_path / "lines.csv", "2025年明细表,,,,,,\n" + LINES_CSV))
    assert frame.attrs["header_row"] == 2
    assert frame["source_row"].tolist() == [3, 4, 6]


def test_xlsx_merged_title_rows_detected(tmp_path: Path) -> None:
    rows = [
        ["2025年道路保洁合同明细", None, None, None],
        ["单位：元", None, None, None],
        ["项目编码", "成本要素", "数量", "金额（元）"],
        ["001", "人员", 2, 2000.0],
        [None, None, None, None],
        ["002", "材料", 3, 30],
    ]
    path = xlsx(tmp_path / "lines.xlsx", rows, merge_title=True)
    frame = read_table(path)
    assert frame.attrs["header_row"] == 3
    assert frame["source_row"].tolist() == [4, 6]
    assert (frame["sheet"] == "明细").all()
    assert frame["项目编码"].tolist() == ["001", "002"]
    assert detect_header_row(pd.DataFrame(rows)) == 2  # 0-based


def test_xlsx_header_row_and_sheet_options(tmp_path: Path) -> None:
    rows = [["说明：本表"], ["项目编码", "金额"], ["A", 1.0]]
    path = xlsx(tmp_path / "b.xlsx", [["封面"]], sheet="封面", extra_sheets=("数据",))
    book = openpyxl.load_workbook(path)
    for row in rows:
        book["数据"].append(row)
    book.save(path)
    frame = read_table(path, sheet="数据", header_row=2)
    assert frame["source_row"].tolist() == [3]
    assert frame.attrs["source"] == (str(path), "数据")
    problems = raises_located(
        read_table, path, sheet="数据", header_row=9, match="header_row 9 is outside"
    )
    assert problems.loc[0, "sheet"] == "数据"


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "lines.parquet"
    pd.DataFrame({"项目编码": ["001", "002"], "金额": [1.0, 2.0]}).to_parquet(path)
    frame = read_table(path)
    assert frame["source_row"].tolist() == [1, 2]
    assert frame["项目编码"].tolist() == ["001", "002"]


# --- read_table errors: an InputError with a located problems table ---------------------


def test_missing_file(tmp_path: Path) -> None:
    problems = raises_located(read_table, tmp_path / "nope.csv", match="nope.csv: file not found")
    assert problems.loc[0, "source_file"].endswith("nope.csv")
    assert problems.loc[0, "check"] == "file_not_found"


def test_folder(tmp_path: Path) -> None:
    raises_located(read_table, tmp_path, match="is a folder")


def test_unsupported_suffix(tmp_path: Path) -> None:
    problems = raises_located(
        read_table, write(tmp_path / "a.json", "{}"), match="unsupported file type '.json'"
    )
    assert problems.loc[0, "value"] == ".json"


@pytest.mark.parametrize("text", ["", "\n\n", ",,,\n,,\n"])
def test_empty_csv(tmp_path: Path, text: str) -> None:
    raises_located(read_table, write(tmp_path / "e.csv", text), match="e.csv: the file is empty")


def test_header_only(tmp_path: Path) -> None:
    problems = raises_located(
        read_table,
        write(tmp_path / "h.csv", "项目编码,金额\n"),
        match=r"no data rows below the header \(row 1\)",
    )
    assert problems.loc[0, "source_row"] == 1


def test_empty_sheet(tmp_path: Path) -> None:
    raises_located(
        read_table, xlsx(tmp_path / "e.xlsx", []), match="sheet '明细': the sheet is empty"
    )


def test_unknown_sheet(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "s.xlsx", [["项目编码", "金额"], ["A", 1]])
    problems = raises_located(
        read_table, path, sheet="明细表", match="no sheet '明细表'; sheets are: 明细"
    )
    assert problems.loc[0, "check"] == "unknown_sheet"


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04broken zip", "项目编码,金额\n".encode()])
def test_corrupt_workbook(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "c.xlsx"
    path.write_bytes(content)
    raises_located(read_table, path, match="not a readable Excel workbook")


def test_corrupt_parquet(tmp_path: Path) -> None:
    raises_located(
        read_table, write(tmp_path / "c.parquet", "nope"), match="not a readable Parquet file"
    )


def test_ragged_row_names_the_row(tmp_path: Path) -> None:
    text = "项目编码,金额\nA,1\nB,2,3,4\n"
    problems = raises_located(
        read_table,
        write(tmp_path / "r.csv", text),
        match=r"r.csv, row 3: 4 cells, but the rows above have 2",
    )
    assert problems.loc[0, "source_row"] == 3


def test_undecodable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_bytes(bytes(range(128, 256)) * 4)
    raises_located(read_table, path, match="text encoding not recognised")


def test_blank_header_over_data(tmp_path: Path) -> None:
    text = "项目编码,,金额\nA,x,1\n"
    problems = raises_located(
        read_table,
        write(tmp_path / "b.csv", text),
        match=r"row 1, column 2: the header cell is blank",
    )
    assert problems.loc[0, "source_row"] == 1


def test_duplicate_header(tmp_path: Path) -> None:
    raises_located(
        read_table,
        write(tmp_path / "d.csv", "项目编码,金额,金额\nA,1,2\n"),
        match="row 1: the column '金额' appears twice",
    )


# --- table readers: header mapping, scales, validation ---------------------------------


def test_read_line_items_maps_headers_and_parses_numbers(tmp_path: Path) -> None:
    lines = read_line_items(write(tmp_path / "lines.csv", LINES_CSV))
    assert {
        "project_id",
        "line_no",
        "cost_element",
        "econ_code",
        "quantity",
        "unit_price",
        "amount",
    } <= set(lines.columns)
    assert lines["amount"].tolist() == [2000.0, 30.0, 500.0]  # "2,000.00" accepted
    assert lines["unit_price"].tolist() == [1000.0, 10.0, 500.0]
    assert lines["econ_code"].tolist() == ["030227", "30227", "30227"]
    assert lines.attrs["headers"]["amount"] == "金额（元）"


def test_english_headers_map_too(tmp_path: Path) -> None:
    text = "Project ID,Cost element,Amount,quantity,Unit price\nA,personnel,10,2,5\n"
    lines = read_line_items(write(tmp_path / "lines.csv", text))
    assert lines[["project_id", "cost_element", "amount"]].iloc[0].tolist() == [
        "A",
        "personnel",
        10.0,
    ]


@pytest.mark.parametrize(
    ("header", "scale"),
    [
        ("金额（万元）", 1e4),
        ("金额(万元)", 1e4),
        ("金额（元）", 1.0),
        ("金额", 1.0),
        ("金额（千元）", 1e3),
    ],
)
def test_amount_unit_in_header_scales_to_yuan(tmp_path: Path, header: str, scale: float) -> None:
    text = f"项目编码,成本要素,{header}\nA,人员,1.5\n"
    lines = read_line_items(write(tmp_path / "lines.csv", text))
    assert lines["amount"].iloc[0] == pytest.approx(1.5 * scale)


def test_amount_scale_option_and_header_precedence(tmp_path: Path) -> None:
    text = "项目编码,成本要素,单价,数量,金额（元）\nA,人员,0.5,2,10000\n"
    lines = read_line_items(write(tmp_path / "lines.csv", text), amount_scale=1e4)
    assert lines["unit_price"].iloc[0] == pytest.approx(5000.0)  # 万元 from the config
    assert lines["amount"].iloc[0] == pytest.approx(10000.0)  # the header says 元
    assert lines["quantity"].iloc[0] == 2.0  # quantities are never scaled


def test_two_headers_with_one_meaning(tmp_path: Path) -> None:
    text = "项目编码,成本要素,金额,amount\nA,人员,1,1\n"
    problems = raises_located(
        read_line_items,
        write(tmp_path / "l.csv", text),
        match=r"l.csv, row 1: columns '金额' and 'amount' both mean",
    )
    assert problems.loc[0, "column"] == "amount"


def test_every_header_problem_comes_at_once(tmp_path: Path) -> None:
    """Found by an audit: only the first blank name over data, the first repeated name
    and the first pair of names with one meaning were reported, one run each."""
    cells = lambda p: p[["source_row", "column", "check"]].values.tolist()  # noqa: E731
    blank = raises_located(
        read_table, write(tmp_path / "b.csv", "项目编码,,金额,\nA,x,1,y\n"), match="blank"
    )
    assert cells(blank) == [[1, "column 2", "blank_header"], [1, "column 4", "blank_header"]]
    twice = raises_located(
        read_table, write(tmp_path / "d.csv", "金额,人数,金额,人数\n1,2,3,4\n"), match="twice"
    )
    assert cells(twice) == [[1, "金额", "duplicate_column"], [1, "人数", "duplicate_column"]]
    text = "项目编码,成本要素,金额,amount,cost_element\nA,人员,1,1,人员\n"
    meaning = raises_located(read_line_items, write(tmp_path / "l.csv", text), match="both mean")
    assert meaning["column"].tolist() == ["amount", "cost_element"]


def test_an_error_in_the_header_row_is_named_not_read_as_blank(tmp_path: Path) -> None:
    """Found by an audit: a header cell holding #REF! was reported as a blank name; now
    the error itself, and none of the follow-on problems of a missing column."""
    path = xlsx(tmp_path / "h.xlsx", [["项目编码", "金额"], ["A", 1]])
    raw = path.read_bytes()
    import zipfile

    with zipfile.ZipFile(path) as old:
        parts = {i.filename: old.read(i.filename) for i in old.infolist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/sheet"))
    data = parts[sheet].decode()
    start = data.index('<c r="B1"')
    end = data.index("</c>", start) + 4
    parts[sheet] = (data[:start] + '<c r="B1" t="e"><v>#REF!</v></c>' + data[end:]).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for name, part in parts.items():
            new.writestr(name, part)
    assert raw != path.read_bytes()
    problems = raises_located(read_table, path, match="Excel error", defer_hidden=True)
    assert problems[["source_row", "column", "value", "check"]].values.tolist() == [
        [1, "column B", "#REF!", "excel_error"]
    ]


def test_map_headers_keeps_unknown_columns_and_original_headers() -> None:
    frame = pd.DataFrame({"项目编码": ["A"], "备注": ["x"], "source_row": [2]})
    mapped, scales = map_headers(frame)
    assert list(mapped.columns) == ["project_id", "备注", "source_row"]
    assert mapped.attrs["headers"] == {"project_id": "项目编码"}
    assert scales == {}


def test_missing_column_names_header_row_and_headers_found(tmp_path: Path) -> None:
    text = "标题,,\n项目编码,成本要素,金 额X\nA,人员,1\n"
    problems = raises_located(
        read_line_items,
        write(tmp_path / "l.csv", text),
        match=r"l.csv, row 2, column 'amount': expected a column "
        r"'amount' or '金额'.*columns found: 项目编码, 成本要素, 金 额X",
    )
    assert problems["check"].tolist() == ["missing_column"]


def test_every_bad_cell_is_reported_once(tmp_path: Path) -> None:
    text = "项目编码,成本要素,数量,单价,金额\nA,人员,abc,1,1\nA,人员,-1,1,1\n,人员,1,-2,x\n"
    with pytest.raises(InputError) as info:
        read_line_items(write(tmp_path / "l.csv", text))
    got = info.value.problems[["source_row", "column", "check"]].values.tolist()
    assert sorted(map(tuple, got)) == sorted(
        [
            (2, "数量", "not_a_number"),
            (3, "数量", "below_minimum"),
            (4, "单价", "below_minimum"),
            (4, "金额", "not_a_number"),
            (4, "项目编码", "missing_value"),
        ]
    )
    assert "l.csv, row 2, column '数量': got 'abc', expected a number" in str(info.value)


def test_read_projects_and_outputs(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", "项目编码,区域,年度,保洁人员数\n007,青浦区,2025,3\n")
    projects = read_projects(path)
    assert projects[["project_id", "district", "year", "cleaners"]].iloc[0].tolist() == [
        "007",
        "青浦区",
        2025.0,
        "3",  # a case's own column: typed by the case, not by the core schema
    ]
    typed = read_checked(path, PROJECTS.with_columns(numbers=["cleaners"]))
    assert typed["cleaners"].iloc[0] == 3.0
    outputs = read_outputs(
        write(tmp_path / "o.csv", '项目编码,指标名称,目标值,实际值\n007,保洁面积,10,"1,200"\n')
    )
    assert outputs["actual"].iloc[0] == 1200.0


def test_a_read_frames_attrs_survive_pandas_own_copies(tmp_path: Path) -> None:
    """Found by a 100,000-line book against a unit-cost table of two dimensions: the
    reader held its warnings as a DataFrame in ``attrs``, and ``astype`` of two columns
    (which compares the columns' copied attrs) raised "the truth value of a DataFrame is
    ambiguous": an internal error, exit 1. The warnings are held as records now."""
    lines = read_line_items(write(tmp_path / "l.csv", "项目编码,成本要素,金额,备注\nA,人员,1,x\n"))
    both = lines[["project_id", "cost_element"]].astype(str)
    assert both.attrs == lines.attrs and both.agg("/".join, axis=1).tolist() == ["A/人员"]
    joined = pd.concat([lines, lines.copy(deep=True)])
    assert problems_in(joined)["check"].tolist() == ["unknown_column"]


def test_unknown_columns_are_warnings_not_errors(tmp_path: Path) -> None:
    lines = read_line_items(write(tmp_path / "l.csv", "项目编码,成本要素,金额,备注\nA,人员,1,x\n"))
    warnings = problems_in(lines)
    assert warnings["check"].tolist() == ["unknown_column"]
    assert warnings["column"].tolist() == ["备注"]


# --- writers ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_write_table_round_trip(tmp_path: Path, suffix: str) -> None:
    frame = pd.DataFrame({"project_id": ["001", "002"], "amount": [1.5, 2.0]})
    path = write_table(frame, tmp_path / "sub" / f"t{suffix}", lang="zh")
    back = read_table(path)
    # a workbook carries the Chinese headers (项目编码, 金额); they read back to the names
    back = back.rename(columns=lambda h: canonical_name(h)[0] or h)
    assert back["project_id"].astype(str).str.zfill(3).tolist() == ["001", "002"]
    assert [float(v) for v in back["amount"]] == [1.5, 2.0]
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left


@pytest.mark.parametrize(
    ("lang", "headers"), [("zh", ["项目编码", "金额"]), ("en", ["Project ID", "Amount"])]
)
def test_a_workbook_is_headed_in_the_language_asked(tmp_path: Path, lang, headers) -> None:
    """Every command's ``-o x.xlsx`` passes its ``--lang`` (found: the sheets of dea,
    costmodel and standards diff came out headed in Chinese under en)."""
    frame = pd.DataFrame({"project_id": ["001"], "amount": [1.5]})
    sheet = openpyxl.load_workbook(write_table(frame, tmp_path / "t.xlsx", lang=lang)).active
    assert [c.value for c in sheet[1]] == headers


def test_write_table_unsupported_suffix(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unsupported output type"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.json", lang="zh")


def test_atomic_path_leaves_the_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]
    write_text("新", target)
    assert target.read_text(encoding="utf-8") == "新"


def test_csv_export_reads_back_as_written(tmp_path: Path) -> None:
    """costperf's reader drops the apostrophe its writers put in: a lossless round trip."""
    frame = pd.DataFrame({"name": ["=x", "-", "+86 21", "'plain"], "value": ["1", "2", "3", "4"]})
    back = read_table(write_table(frame, tmp_path / "t.csv", lang="zh"), header_row=1)
    assert back["name"].tolist() == ["=x", "-", "+86 21", "'plain"]


@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_excel_s_sep_line_names_the_separator(tmp_path: Path, sep: str) -> None:
    """Found by an audit: a CSV opening with Excel's "sep=;" line was read with commas (one
    column named "sep=;"). The line names the separator and is no data; rows keep their
    numbers in the file."""
    rows = [["项目编码", "序号", "金额"], ["A", "1", "10"], ["A", "2", "两万"]]
    text = f"sep={sep}\r\n" + "".join(sep.join(r) + "\r\n" for r in rows)
    path = write(tmp_path / "s.csv", "\ufeff" + text)
    frame = read_table(path)
    assert list(frame.columns[2:5]) == ["项目编码", "序号", "金额"]
    assert frame["source_row"].tolist() == [3, 4]
    bad = write(tmp_path / "b.csv", text + sep.join(["A", "3", "1", "x"]) + "\r\n")
    problems = raises_located(read_table, bad, match="row 5: 4 cells")
    assert problems.loc[0, "source_row"] == 5
