"""``costperf run`` end to end through the real CLI, on copies of the sanitation case.

The bad-input battery: every malformed input must exit 2 with a message naming the file
(and, where there is one, the row as the user sees it and the column as written in the
file), print no traceback, write the problems table where the CLI says, and leave what
is already stored (records, earlier outputs) exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from conftest import (
    assert_close,
    copy_case,
    edit_toml,
    problem_cells,
    read_problems,
    read_rows,
    run_cli,
    set_cell,
    write_rows,
)

LINES = "data/line_items.csv"
PROJECTS = "data/projects.csv"
OUTPUTS = "data/outputs.csv"
SENTINEL = '{"sentinel": "output of an earlier run"}'


# --- mutations -------------------------------------------------------------------------


def cell(rel: str, row: int, header: str, value: str) -> Callable[[Path], None]:
    def mutate(case: Path) -> None:
        set_cell(case / rel, row, header, value)

    return mutate


def toml(old: str, new: str) -> Callable[[Path], None]:
    def mutate(case: Path) -> None:
        edit_toml(case, old, new)

    return mutate


def rename_header(rel: str, old: str, new: str) -> Callable[[Path], None]:
    def mutate(case: Path) -> None:
        rows = read_rows(case / rel)
        rows[0][rows[0].index(old)] = new
        write_rows(case / rel, rows)

    return mutate


def copy_cell_from_row_above(rel: str, row: int, header: str) -> Callable[[Path], None]:
    def mutate(case: Path) -> None:
        rows = read_rows(case / rel)
        j = rows[0].index(header)
        rows[row - 1][j] = rows[row - 2][j]
        write_rows(case / rel, rows)

    return mutate


def header_only(case: Path) -> None:
    write_rows(case / LINES, read_rows(case / LINES)[:1])


def empty_file(case: Path) -> None:
    (case / OUTPUTS).write_bytes(b"")


def delete_row(rel: str, row: int) -> Callable[[Path], None]:
    def mutate(case: Path) -> None:
        rows = read_rows(case / rel)
        del rows[row - 1]
        write_rows(case / rel, rows)

    return mutate


def line_items_frame(case: Path) -> pd.DataFrame:
    frame = pd.read_csv(case / LINES, dtype=str, encoding="utf-8-sig")
    for col in frame.columns[[1, 6, 7, 8]]:  # 序号, 数量, 单价, 金额: numbers in Excel
        frame[col] = frame[col].astype(float)
    return frame.astype(object)


def write_xlsx(
    case: Path, frame: pd.DataFrame | None, *, sheet: str = "明细", title_rows: bool = True
) -> Path:
    """Line items as an XLSX the way bureaus send them: a merged title row, a unit note."""
    path = case / "data" / "line_items.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    if frame is not None:
        if title_rows:
            ws.append(["2025年道路保洁合同成本明细表"])
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(frame.columns))
            ws.append(["金额单位：元"])
        ws.append(list(frame.columns))
        for values in frame.itertuples(index=False):
            ws.append(list(values))
    book.save(path)
    edit_toml(case, f'"{LINES}"', '"data/line_items.xlsx"')
    return path


def xlsx_text_in_quantity(case: Path) -> None:
    frame = line_items_frame(case)
    frame.loc[4, "数量"] = "abc"  # 5th data row: title, note, header, then row 4 -> row 8
    write_xlsx(case, frame)


def xlsx_unknown_sheet(case: Path) -> None:
    write_xlsx(case, line_items_frame(case))
    edit_toml(case, "[requests]", '[peers.options.line_items]\nsheet = "明细表"\n\n[requests]')


def xlsx_empty_sheet(case: Path) -> None:
    write_xlsx(case, None)


def xlsx_corrupt(case: Path) -> None:
    (case / "data" / "line_items.xlsx").write_bytes(b"PK\x03\x04" + b"not a zip archive" * 50)
    edit_toml(case, f'"{LINES}"', '"data/line_items.xlsx"')


def blank_header_with_data(case: Path) -> None:
    rows = read_rows(case / LINES)
    rows[0].append("")
    for r in rows[1:]:
        r.append("备注")
    write_rows(case / LINES, rows)


def ragged_row(case: Path) -> None:
    path = case / LINES
    text = path.read_text(encoding="utf-8-sig").splitlines()
    text[4] += ",多出的,两格"  # file row 5
    path.write_text("\n".join(text) + "\n", encoding="utf-8-sig")


def two_headers_same_meaning(case: Path) -> None:
    rows = read_rows(case / LINES)
    rows[0].append("amount")
    for r in rows[1:]:
        r.append(r[8])
    write_rows(case / LINES, rows)


def gbk_with_text_in_number(case: Path) -> None:
    path = case / PROJECTS
    rows = read_rows(path)
    rows[3][rows[0].index("保洁人员数")] = "六十"
    write_rows(path, rows, encoding="gbk")


def unknown_standard_in_request_lines(case: Path) -> None:
    path = case / "data" / "request_lines.csv"
    rows = read_rows(path)
    rows[0].append("适用标准")
    for r in rows[1:]:
        r.append("HW-UC")
    rows[4][-1] = "XX-NOPE"
    write_rows(path, rows)


def records_text_file(case: Path) -> list[str]:
    notes = case / "records.sqlite"
    notes.write_text("这不是数据库 / not a database\n", encoding="utf-8")
    return ["--records", str(notes)]


def records_foreign_sqlite(case: Path) -> list[str]:
    path = case / "other-app.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE runs (x INTEGER)")
        conn.execute("INSERT INTO runs VALUES (1)")
    conn.close()
    return ["--records", str(path)]


def out_is_a_file(case: Path) -> list[str]:
    target = case / "out.txt"
    target.write_text("a file, not a folder\n", encoding="utf-8")
    return ["--out", str(target)]


# --- the battery -----------------------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    """One malformed input and where its message must point."""

    id: str
    mutate: Callable[[Path], list[str] | None]
    file: str
    row: int | None = None
    column: str | None = None
    sheet: str | None = None
    contains: tuple[str, ...] = ()
    problems_table: bool = True  # the CLI writes (and names) the problems table
    xfail: str = ""  # a known bug: the reason, naming the function at fault


BATTERY = [
    # headers
    Bad(
        "misspelt_amount_header",
        rename_header(LINES, "金额（元）", "金 额X"),
        "line_items.csv",
        row=1,
        contains=("金额", "金 额X"),
    ),
    Bad(
        "misspelt_project_id_header",
        rename_header(PROJECTS, "项目编码", "项目编吗"),
        "projects.csv",
        row=1,
        contains=("项目编码", "项目编吗"),
    ),
    Bad(
        "duplicate_header",
        rename_header(LINES, "计量单位", "明细名称"),
        "line_items.csv",
        row=1,
        column="明细名称",
    ),
    Bad(
        "two_headers_same_meaning",
        two_headers_same_meaning,
        "line_items.csv",
        row=1,
        column="amount",
        contains=("金额（元）",),
    ),
    Bad(
        "blank_header_over_data",
        blank_header_with_data,
        "line_items.csv",
        row=1,
        contains=("column 10",),
    ),
    # cells
    Bad("text_in_quantity", cell(LINES, 4, "数量", "abc"), "line_items.csv", 4, "数量"),
    Bad(
        "text_in_unit_price",
        cell(LINES, 5, "单价（元）", "十元"),
        "line_items.csv",
        5,
        "单价（元）",
    ),
    Bad("text_in_amount", cell(LINES, 6, "金额（元）", "n/a"), "line_items.csv", 6, "金额（元）"),
    Bad(
        "negative_quantity",
        cell(LINES, 6, "数量", "-120"),
        "line_items.csv",
        6,
        "数量",
        contains=(">= 0",),
    ),
    Bad(
        "negative_unit_price",
        cell(LINES, 7, "单价（元）", "-760"),
        "line_items.csv",
        7,
        "单价（元）",
        contains=(">= 0",),
    ),
    Bad(
        "amount_not_quantity_x_price",
        cell(LINES, 9, "金额（元）", "9999999.99"),
        "line_items.csv",
        9,
        "金额（元）",
        contains=("expected quantity x unit_price = ",),
    ),
    Bad("blank_project_id", cell(LINES, 5, "项目编码", ""), "line_items.csv", 5, "项目编码"),
    Bad(
        "year_out_of_range",
        cell("data/requests.csv", 3, "年度", "1e308"),
        "requests.csv",
        3,
        "年度",
        contains=("a year from 1900 to 2200", "'1e308'"),
    ),
    Bad(
        "fractional_year",
        cell("data/requests.csv", 3, "年度", "2027.5"),
        "requests.csv",
        3,
        "年度",
        contains=("a whole year",),
    ),
    Bad(
        "project_in_two_groups",
        cell("optimize/resources.csv", 261, "分组", "四类"),
        "resources.csv",
        261,
        "分组",
        contains=("a project belongs to one group", "'奉贤区' for project 'HW-FX-2025-009'"),
    ),
    Bad(
        "unknown_cost_element",
        cell(LINES, 12, "成本要素", "招待费"),
        "line_items.csv",
        12,
        "成本要素",
        contains=("招待费",),
    ),
    Bad(
        "text_in_driver_column",
        cell(PROJECTS, 9, "保洁人员数", "abc"),
        "projects.csv",
        9,
        "保洁人员数",
    ),
    Bad("negative_driver", cell(PROJECTS, 7, "保洁人员数", "-57"), "projects.csv", 7, "保洁人员数"),
    Bad("text_in_year", cell(PROJECTS, 5, "年度", "二〇二五"), "projects.csv", 5, "年度"),
    Bad("blank_output_actual", cell(OUTPUTS, 14, "actual", ""), "outputs.csv", 14, "actual"),
    Bad(
        "gbk_file_with_text_in_number",
        gbk_with_text_in_number,
        "projects.csv",
        4,
        "保洁人员数",
        contains=("六十",),
    ),
    Bad("ragged_csv_row", ragged_row, "line_items.csv", row=5),
    Bad(
        "text_in_request_quantity",
        cell("data/request_lines.csv", 5, "数量", "x"),
        "request_lines.csv",
        5,
        "数量",
    ),
    # keys and cross-table references
    Bad(
        "duplicate_project_id",
        copy_cell_from_row_above(PROJECTS, 6, "项目编码"),
        "projects.csv",
        6,
        "项目编码",
        contains=("row 5",),
    ),
    Bad(
        "duplicate_line_no", copy_cell_from_row_above(LINES, 9, "序号"), "line_items.csv", 9, "序号"
    ),
    Bad(
        "line_of_unknown_project",
        cell(LINES, 10, "项目编码", "HW-XX-2025-999"),
        "line_items.csv",
        10,
        "项目编码",
        contains=("HW-XX-2025-999",),
    ),
    Bad(
        "output_of_unknown_project",
        cell(OUTPUTS, 12, "project_id", "HW-XX-2025-999"),
        "outputs.csv",
        12,
        "project_id",
    ),
    Bad(
        "request_line_of_unknown_project",
        cell("data/request_lines.csv", 5, "项目编码", "SQ-XX-2026-999"),
        "request_lines.csv",
        5,
        "项目编码",
    ),
    Bad(
        "project_without_lines",
        lambda c: write_rows(
            c / LINES, [r for r in read_rows(c / LINES) if r[0] != "HW-QP-2025-003"]
        ),
        "projects.csv",
        4,
        "项目编码",
    ),
    # outputs of peers
    Bad(
        "zero_output_for_peer",
        cell(OUTPUTS, 14, "actual", "0"),
        "outputs.csv",
        14,
        "actual",
    ),
    Bad(
        "missing_output_for_peer",
        delete_row(OUTPUTS, 14),
        "projects.csv",
        5,
        "项目编码",
    ),
    Bad(
        "blank_dimension_value",  # [units] dimensions = ["road_grade"]
        cell(PROJECTS, 5, "道路等级", ""),
        "projects.csv",
        5,
        "道路等级",
    ),
    # whole files
    Bad("empty_file", empty_file, "outputs.csv", contains=("empty",)),
    Bad("header_only", header_only, "line_items.csv", row=1, contains=("no data rows",)),
    Bad(
        "missing_data_file",
        lambda c: (c / OUTPUTS).unlink(),
        "outputs.csv",
        contains=("not found",),
    ),
    Bad("data_path_is_a_folder", toml(f'"{OUTPUTS}"', '"data"'), "data", contains=("folder",)),
    Bad("unsupported_file_type", toml(f'"{OUTPUTS}"', '"data/outputs.json"'), "outputs.json"),
    # Excel
    Bad(
        "xlsx_text_below_merged_title",
        xlsx_text_in_quantity,
        "line_items.xlsx",
        8,
        "数量",
        sheet="明细",
    ),
    Bad("xlsx_unknown_sheet", xlsx_unknown_sheet, "line_items.xlsx", sheet="明细表"),
    Bad("xlsx_empty_sheet", xlsx_empty_sheet, "line_items.xlsx", sheet="明细", contains=("empty",)),
    Bad("xlsx_corrupt", xlsx_corrupt, "line_items.xlsx"),
    # case.toml
    Bad(
        "toml_unknown_key",
        toml("[units]", '[units]\nouptut_unit = "m2"'),
        "case.toml",
        contains=("ouptut_unit", "[units]"),
    ),
    Bad("toml_unknown_section", toml("[review]", "[reveiw]"), "case.toml", contains=("[reveiw]",)),
    Bad(
        "toml_bad_value_type",
        toml("tolerance = 0.0 ", 'tolerance = "five" '),
        "case.toml",
        contains=("review.tolerance", "five"),
    ),
    Bad("toml_invalid", toml("[units]", "[units"), "case.toml", contains=("line 20",)),
    Bad(
        "toml_unknown_standard_rule",
        toml('rule = "median"', 'rule = "median2"'),
        "case.toml",
        contains=("median2", "median, p10"),
    ),
    Bad(
        "toml_unknown_amount_unit",
        toml("[requests]", '[peers.options.line_items]\namount_unit = "万"\n\n[requests]'),
        "case.toml",
        contains=("amount_unit", "万元"),
    ),
    Bad(
        "toml_header_row_outside_sheet",
        toml("[requests]", "[peers.options.line_items]\nheader_row = 999\n\n[requests]"),
        "line_items.csv",
        contains=("header_row",),
    ),
    Bad(
        "toml_sheet_not_text",
        toml("[requests]", "[peers.options.line_items]\nsheet = 3\n\n[requests]"),
        "case.toml",
        contains=("sheet",),
    ),
    Bad(
        "toml_unknown_dimension",
        toml('dimensions = ["road_grade"]', 'dimensions = ["road_grad"]'),
        "case.toml",
        contains=("road_grad",),
    ),
    Bad(
        "toml_driver_unknown_name",
        toml('"total_cost / cost_personnel"', '"total_cost / cost_personel"'),
        "case.toml",
        contains=("cost_personel",),
    ),
    Bad(
        "toml_formula_unknown_column",
        toml("np.log(wage_index)", "np.log(wage_indx)"),
        "case.toml",
        contains=("wage_indx",),
    ),
    Bad(
        "toml_no_dimensions",
        toml('dimensions = ["road_grade"]', "dimensions = []"),
        "case.toml",
        column="units.dimensions",
        contains=("one or more columns that split the peers into cells",),
    ),
    Bad(
        "toml_frontier_unknown_output",
        toml('frontier_outputs = ["swept_area_m2"]', 'frontier_outputs = ["swept_area"]'),
        "case.toml",
        contains=("swept_area",),
    ),
    Bad(
        "toml_quantile_out_of_range",
        toml("quantile = 0.25", "quantile = 1.5"),
        "case.toml",
        contains=("quantile",),
    ),
    Bad(
        "toml_standard_tau_out_of_range",
        toml('rule = "median"', 'rule = "quantile_regression"\ntau = 2'),
        "case.toml",
        contains=("tau",),
    ),
    Bad(
        "toml_review_adjust_by_unknown_variable",
        toml('adjust_by = "sweeps_per_day"', 'adjust_by = "sweeps"'),
        "case.toml",
        contains=("sweeps",),
    ),
    Bad(
        "toml_unknown_frontier_rts",
        toml('frontier_rts = "vrs"', 'frontier_rts = "xyz"'),
        "case.toml",
        contains=("xyz",),
    ),
    # standards and records
    Bad(
        "unknown_standard_in_request_line",
        unknown_standard_in_request_lines,
        "request_lines.csv",
        5,
        "适用标准",
        contains=("XX-NOPE",),
    ),
    Bad(
        "records_path_is_a_text_file",
        records_text_file,
        "records.sqlite",
        contains=("record store",),
        problems_table=False,
    ),
    Bad(
        "records_path_is_another_sqlite_db",
        records_foreign_sqlite,
        "other-app.sqlite",
        problems_table=False,
    ),
    Bad(
        "out_is_a_file",
        out_is_a_file,
        "out.txt",
        problems_table=False,
    ),
]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: sorted(map(repr, conn.execute(f"SELECT * FROM {n}"))) for n in sorted(names)}
    finally:
        conn.close()


def _problems_path(stderr: str) -> Path | None:
    found = re.search(r"full problems table \(\d+ row\(s\)\): (.+)$", stderr, re.MULTILINE)
    return Path(found.group(1).strip()) if found else None


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(
            b, id=b.id, marks=[pytest.mark.xfail(reason=b.xfail, strict=True)] if b.xfail else []
        )
        for b in BATTERY
    ],
)
def test_bad_input_exits_2_naming_file_row_column(bad: Bad, tmp_path: Path, good_run: dict) -> None:
    case = copy_case(tmp_path / "case")
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text(SENTINEL, encoding="utf-8")
    records = tmp_path / "records.sqlite"  # a store from an earlier good run
    shutil.copyfile(good_run["records"], records)
    before = (_sha(records), _rows(records))

    args = bad.mutate(case) or []
    protected = None
    if "--records" in args:
        protected = Path(args[args.index("--records") + 1])
        protected_sha = _sha(protected)
    if "--out" not in args:
        args = ["--out", str(out), *args]
    if "--records" not in args:
        args += ["--records", str(records)]
    code, stdout, stderr = run_cli("run", case, *args, "--lang", "en", cwd=tmp_path)

    assert "Traceback" not in stderr + stdout
    assert code == 2, f"exit {code}\n{stderr}"
    message = stderr
    assert bad.file in message, message
    if bad.row is not None:
        assert re.search(rf"\brow {bad.row}\b", message), message
    if bad.column is not None:
        assert f"'{bad.column}'" in message, message
    if bad.sheet is not None:
        assert f"sheet '{bad.sheet}'" in message, message
    for text in bad.contains:
        assert text in message, message

    # the problems table is written where the CLI says, and locates the problem
    written = _problems_path(stderr)
    if bad.problems_table:
        assert written is not None, f"no problems table announced:\n{stderr}"
    if written is not None:
        table = read_problems(written)
        assert len(table) >= 1
        assert table["source_file"].str.contains(bad.file, regex=False).any(), table
        if bad.row is not None:
            assert str(bad.row) in set(table["source_row"]), table

    # nothing stored is lost or half-written
    assert (_sha(records), _rows(records)) == before
    if protected is not None:
        assert _sha(protected) == protected_sha
    assert (out / "summary.json").read_text(encoding="utf-8") == SENTINEL
    if protected is None:
        assert {p.name for p in out.iterdir()} <= {"summary.json", "problems.csv"}


#: the Chinese battery in the default run: every third case (the whole battery is the
#: English test's; ``-m slow`` runs every case in Chinese too)
ZH_DEFAULT = 3


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(b, id=b.id, marks=[] if k % ZH_DEFAULT == 0 else [pytest.mark.slow])
        for k, b in enumerate(b for b in BATTERY if not b.xfail)
    ],
)
def test_bad_input_is_told_in_chinese_only_by_default(bad: Bad, tmp_path: Path) -> None:
    """The battery again under the default language: the message is Chinese, located
    the Chinese way, with no English block (that is for --lang en)."""
    case = copy_case(tmp_path / "case")
    args = bad.mutate(case) or []
    if "--out" not in args:
        args = ["--out", str(tmp_path / "out"), *args]
    if "--records" not in args:
        args += ["--no-records"]
    code, stdout, stderr = run_cli("run", case, *args, cwd=tmp_path)
    assert code == 2 and "Traceback" not in stderr + stdout, stderr
    assert stderr.startswith("costperf：错误："), stderr
    assert "costperf: error" not in stderr and "problems table" not in stderr, stderr
    assert bad.file in stderr, stderr
    if bad.row is not None:
        assert re.search(rf"第 {bad.row} 行", stderr), stderr
    if bad.column is not None:
        assert f"列“{bad.column}”" in stderr, stderr
    if bad.sheet is not None:
        assert f"工作表“{bad.sheet}”" in stderr, stderr
    found = re.search(r"^costperf：完整问题表（\d+ 行）：(.+)$", stderr, re.MULTILINE)
    if bad.problems_table:
        assert found is not None, stderr
        assert "问题" in read_rows(Path(found.group(1).strip()))[0], "headers in Chinese"


def test_battery_is_large_enough() -> None:
    assert len(BATTERY) >= 25
    assert len({b.id for b in BATTERY}) == len(BATTERY)


def test_bad_records_path_leaves_earlier_outputs(tmp_path: Path, good_run: dict) -> None:
    case = copy_case(tmp_path / "case")
    out = tmp_path / "out"
    shutil.copytree(good_run["out"], out)
    before = {str(p): _sha(p) for p in out.rglob("*") if p.is_file()}
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n", encoding="utf-8")
    code, _, stderr = run_cli("run", case, "--out", out, "--records", notes, cwd=tmp_path)
    assert code == 2, stderr
    after = {str(p): _sha(p) for p in out.rglob("*") if p.is_file() and p.name != "problems.csv"}
    assert after == before


def test_requests_without_outputs_file_are_rejected_for_want_of_targets(
    case_copy: Path, tmp_path: Path
) -> None:
    """No request outputs: no output target to multiply the standard by, so every request
    is 不予安排 with that reason (not an internal error, not a silent approval)."""
    edit_toml(case_copy, 'outputs = "data/request_outputs.csv"\n', "")
    code, stdout, stderr = run_cli(
        "run", case_copy, "--out", tmp_path / "out", "--no-records", cwd=tmp_path
    )
    assert code == 0, stderr
    review = json.loads((tmp_path / "out" / "summary.json").read_text("utf-8"))["review"]
    totals = review["totals"]
    assert totals["requests"] == 10 and totals["n_reject"] == 10
    assert totals["approved"] == 0.0 and totals["cut"] == totals["requested"] > 0
    assert {p["reason_zh"] for p in review["projects"]} == {
        "未填报产出目标，无法按单位成本标准核定，不予安排"
    }


# --- inputs that must be accepted, with the same figures --------------------------------


def thousands_separators(case: Path) -> None:
    rows = read_rows(case / LINES)
    for r in rows[1:]:
        r[7], r[8] = f"{float(r[7]):,.2f}", f"{float(r[8]):,.2f}"  # "1,234.50" (quoted)
    write_rows(case / LINES, rows)


def blank_trailing_rows(case: Path) -> None:
    for rel in (LINES, PROJECTS, OUTPUTS):
        path = case / rel
        width = len(read_rows(path)[0])
        extra = ("," * (width - 1) + "\n") * 2 + "\n"
        path.write_text(path.read_text(encoding="utf-8-sig") + extra, encoding="utf-8-sig")


def reencode(encoding: str) -> Callable[[Path], None]:
    def mutate(case: Path) -> None:
        for path in (case / "data").glob("*.csv"):
            path.write_text(path.read_text(encoding="utf-8-sig"), encoding=encoding)

    return mutate


def xlsx_auto_header(case: Path) -> None:
    write_xlsx(case, line_items_frame(case))


def xlsx_explicit_header(case: Path) -> None:
    write_xlsx(case, line_items_frame(case), sheet="合同明细")
    edit_toml(
        case,
        "[requests]",
        '[peers.options.line_items]\nsheet = "合同明细"\nheader_row = 3\n\n[requests]',
    )


def in_wan_yuan(header: bool) -> Callable[[Path], None]:
    def mutate(case: Path) -> None:
        for rel in (LINES, "data/request_lines.csv"):
            rows = read_rows(case / rel)
            for r in rows[1:]:
                r[7], r[8] = repr(float(r[7]) / 1e4), repr(float(r[8]) / 1e4)
            # the unit in the header, or plain headers and amount_unit in case.toml
            rows[0][7], rows[0][8] = (
                ("单价（万元）", "金额（万元）") if header else ("单价", "金额")
            )
            write_rows(case / rel, rows)
        if not header:
            edit_toml(
                case,
                "[requests]",
                '[peers.options.line_items]\namount_unit = "万元"\n\n'
                "[requests.options.line_items]\n"
                'amount_unit = "万元"\n\n[requests]',
            )

    return mutate


def english_headers(case: Path) -> None:
    rows = read_rows(case / PROJECTS)
    rows[0] = [
        "Project ID",
        "project_name",
        "Class of matter",
        "district",
        "Department",
        "year",
        "road_grade",
        "Wage index",
        "density",
        "cleaners",
    ]
    write_rows(case / PROJECTS, rows)


ACCEPTED = {
    "thousands_separators": thousands_separators,
    "blank_trailing_rows": blank_trailing_rows,
    "utf8_without_bom": reencode("utf-8"),
    "gbk": reencode("gbk"),
    "xlsx_merged_title_auto_detected": xlsx_auto_header,
    "xlsx_sheet_and_header_row_options": xlsx_explicit_header,
    "amount_unit_wan_yuan": in_wan_yuan(header=False),
    "wan_yuan_in_header": in_wan_yuan(header=True),
    "english_headers": english_headers,
}
# variants that can share one copy of the case, so the CLI runs twice, not nine times
CLI_COMBINATIONS = {
    "gbk+thousands+blank_rows+english_headers": [
        "thousands_separators",
        "blank_trailing_rows",
        "english_headers",
        "gbk",
    ],
    "xlsx_merged_title+wan_yuan_header": ["wan_yuan_in_header", "xlsx_merged_title_auto_detected"],
}
KEYS = {
    "projects": ["project_id", "district", "road_grade", "wage_index", "cleaners"],
    "line_items": [
        "project_id",
        "line_no",
        "cost_element",
        "econ_code",
        "quantity",
        "unit_price",
        "amount",
    ],
    "outputs": ["project_id", "indicator", "target", "actual"],
}


def _loaded(case: Path) -> dict[str, pd.DataFrame]:
    from costperf.case import load_case
    from costperf.pipeline import load_case_data

    data = load_case_data(load_case(case))
    out = {}
    for side, tables in (("peers", data.peers), ("requests", data.requests)):
        for name, cols in KEYS.items():
            frame = getattr(tables, name)
            out[f"{side}.{name}"] = frame[[c for c in cols if c in frame]].reset_index(drop=True)
    return out


@pytest.fixture(scope="module")
def baseline_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    return _loaded(copy_case(tmp_path_factory.mktemp("baseline") / "case"))


@pytest.mark.parametrize("variant", list(ACCEPTED))
def test_accepted_variants_load_the_same_data(
    variant: str, tmp_path: Path, baseline_data: dict
) -> None:
    case = copy_case(tmp_path / "case")
    ACCEPTED[variant](case)
    loaded = _loaded(case)
    for name, expected in baseline_data.items():
        got = loaded[name]
        assert list(got.columns) == list(expected.columns), name
        for col in expected.columns:
            if pd.api.types.is_numeric_dtype(expected[col]):
                assert_close(got[col], expected[col], what=f"{name}.{col}")
            else:
                assert got[col].tolist() == expected[col].tolist(), f"{name}.{col}"


def _figures(summary: dict) -> dict[str, list[float]]:
    return {
        "district_unit_cost": [d["unit_cost"] for d in summary["districts"]],
        "contract_unit_cost": [c["unit_cost"] for c in summary["contracts"]],
        "standard": [s["value"] for s in summary["standards"]],
        "review": [summary["review"]["totals"][k] for k in ("requested", "approved", "cut")],
    }


@pytest.mark.parametrize("combination", list(CLI_COMBINATIONS))
def test_accepted_variants_through_the_cli(
    combination: str, tmp_path: Path, good_run: dict
) -> None:
    case = copy_case(tmp_path / "case")
    for variant in CLI_COMBINATIONS[combination]:
        ACCEPTED[variant](case)
    code, stdout, stderr = run_cli(
        "run", case, "--out", tmp_path / "out", "--no-records", cwd=tmp_path
    )
    assert "Traceback" not in stderr
    assert code == 0, stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    expected = _figures(good_run["summary"])
    for key, values in _figures(summary).items():
        assert_close(values, expected[key], what=key)


# --- good runs -------------------------------------------------------------------------


def test_good_run_writes_outputs(good_run: dict) -> None:
    out = good_run["out"]
    for name in ("summary.json", "report.xlsx", "report.html", "records.sqlite"):
        assert (out / name).stat().st_size > 0, name
    assert not (out / "problems.csv").exists()
    assert "Traceback" not in good_run["stderr"]
    summary = good_run["summary"]
    assert summary["n_contracts"] == 70
    assert summary["records"]["run_id"]
    assert "同类合同 70 个" in good_run["stdout"]
    assert "核减率" in good_run["stdout"] and "单位成本标准" in good_run["stdout"]


def test_the_same_run_again_records_nothing_new(tmp_path: Path, good_run: dict) -> None:
    """Same inputs and parameters: no new rows, and the run says which run holds them."""
    records = tmp_path / "records.sqlite"
    shutil.copyfile(good_run["records"], records)
    before = records.read_bytes()
    code, stdout, stderr = run_cli(
        "run",
        good_run["case"],
        "--out",
        tmp_path / "out",
        "--records",
        records,
        cwd=tmp_path,
    )
    assert code == 0, stderr
    assert records.read_bytes() == before
    held = good_run["summary"]["records"]["run_id"]
    assert f"运行 {held} 已含相同的输入和参数，未重复记录" in stdout
    new_run = json.loads((tmp_path / "out" / "summary.json").read_text("utf-8"))
    assert new_run["records"]["run_id"] == held and new_run["records"]["already_recorded"]


def test_problems_option_chooses_the_table_path(case_copy: Path, tmp_path: Path) -> None:
    set_cell(case_copy / LINES, 4, "数量", "abc")
    target = tmp_path / "elsewhere" / "issues.csv"
    code, _, stderr = run_cli(
        "--problems", target, "run", case_copy, "--out", tmp_path / "out", cwd=tmp_path
    )
    assert code == 2
    assert str(target) in stderr
    table = read_problems(target)
    assert table[["source_row", "column", "value", "check"]].values.tolist() == [
        ["4", "数量", "abc", "not_a_number"]
    ]


def test_an_out_folder_with_a_dot_gets_the_problems_table(case_copy: Path, tmp_path: Path) -> None:
    """Found by an audit: --out out.2026 (a suffix) was taken for a file, the table went
    to ./costperf-problems.csv."""
    set_cell(case_copy / LINES, 4, "数量", "abc")
    code, _, stderr = run_cli("run", case_copy, "--out", tmp_path / "out.2026", cwd=tmp_path)
    assert code == 2
    assert read_problems(tmp_path / "out.2026" / "problems.csv")["value"].tolist() == ["abc"]
    assert not (tmp_path / "costperf-problems.csv").exists()


def test_a_text_in_a_column_the_formula_logs_comes_with_the_other_problems(
    case_copy: Path, tmp_path: Path
) -> None:
    """Found by an audit: 高 in 工资指数 (np.log(wage_index) in [benchmark] formula) was
    found only when the model was fitted, a run after the other problems were fixed."""
    set_cell(case_copy / PROJECTS, 9, "工资指数", "高")
    set_cell(case_copy / LINES, 4, "数量", "abc")
    code, _, _ = run_cli("run", case_copy, "--out", tmp_path / "out", cwd=tmp_path)
    assert code == 2
    table = read_problems(tmp_path / "out" / "problems.csv")
    got = table[["source_row", "column", "value"]].values.tolist()
    assert ["9", "工资指数", "高"] in got and ["4", "数量", "abc"] in got


def test_every_problem_of_every_file_is_reported_at_once(case_copy: Path, tmp_path: Path) -> None:
    set_cell(case_copy / LINES, 4, "数量", "abc")
    set_cell(case_copy / LINES, 7, "单价（元）", "")
    set_cell(case_copy / PROJECTS, 3, "区域", "")
    code, _, stderr = run_cli("run", case_copy, "--out", tmp_path / "out", cwd=tmp_path)
    assert code == 2
    table = read_problems(tmp_path / "out" / "problems.csv")
    found = {
        (Path(f).name, r, c)
        for f, r, c in table[["source_file", "source_row", "column"]].itertuples(index=False)
    }
    assert {("line_items.csv", "4", "数量"), ("projects.csv", "3", "区域")} <= found
    assert "projects.csv" in stderr and "line_items.csv" in stderr


def test_usage_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    # the command as a separate program: the console entry point's exit status
    code, _, stderr = run_cli(
        "run", tmp_path / "no-such-case", "--out", tmp_path / "o", cwd=tmp_path, subprocess=True
    )
    assert code == 2 and "case.toml" in stderr and "Traceback" not in stderr
    code, _, stderr = run_cli("run", "x", "--lang", "fr", cwd=tmp_path, subprocess=True)
    assert code == 2 and "Traceback" not in stderr


def test_a_good_run_removes_the_problems_table_of_an_earlier_failed_run(
    case_copy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    original = (case_copy / LINES).read_bytes()
    set_cell(case_copy / LINES, 4, "数量", "abc")
    code, _, stderr = run_cli("run", case_copy, "--out", out, "--no-records", cwd=tmp_path)
    assert code == 2, stderr
    assert (out / "problems.csv").exists()
    (case_copy / LINES).write_bytes(original)  # the user fixes the cell
    code, _, stderr = run_cli("run", case_copy, "--out", out, "--no-records", cwd=tmp_path)
    assert code == 0, stderr
    assert not (out / "problems.csv").exists()
    assert (out / "summary.json").exists()


def test_out_under_a_file_is_an_input_error(tmp_path: Path) -> None:
    from costperf.commands.run import check_out_dir
    from costperf.errors import InputError

    blocker = tmp_path / "results"
    blocker.write_text("a file\n", encoding="utf-8")
    with pytest.raises(InputError, match="a file, not a folder") as info:
        check_out_dir(blocker / "2026")
    assert str(blocker) in str(info.value)
    check_out_dir(tmp_path / "new" / "folder")  # not there yet: fine
    check_out_dir(tmp_path)
    assert not (tmp_path / "new").exists()  # checking creates nothing


def test_problems_of_every_check_come_in_one_run(case_copy: Path, tmp_path: Path) -> None:
    """A cell the schema refuses no longer hides what the checks after it find: one run
    reports the bad number, the unknown cost element, the repeated project and the
    unknown standard of another file together (exit 2, nothing recorded)."""
    set_cell(case_copy / LINES, 3, "数量", "一百一十")  # the schema: not a number
    set_cell(case_copy / LINES, 5, "成本要素", "fuel")  # cost elements: unknown
    repeated = read_rows(case_copy / PROJECTS)[1][0]
    set_cell(case_copy / PROJECTS, 4, "项目编码", repeated)  # the schema: a repeated id
    unknown_standard_in_request_lines(case_copy)  # the requests' check: row 5
    out, records = tmp_path / "out", tmp_path / "r.sqlite"
    args = ["run", str(case_copy), "--out", str(out), "--records", str(records)]
    code, _, err = run_cli(*args, cwd=tmp_path)
    assert code == 2 and not records.exists(), err
    cells = problem_cells(out / "problems.csv")  # each cell once
    assert {
        ("line_items.csv", "3", "数量", "not_a_number"),
        ("line_items.csv", "5", "成本要素", "unknown_cost_element"),
        ("projects.csv", "4", "项目编码", "duplicate_id"),
        ("request_lines.csv", "5", "适用标准", "unknown_standard"),
    } <= cells, cells
