"""The worked request book cases/requests-2027, reviewed once per test session.

Amounts are checked against an independent computation from the book's own CSVs and
the published figures (meeting quotas 650/550, lodging 650, hw-uc@1 values).
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3

import openpyxl
import pandas as pd
import pytest

from conftest import CASES, problem_cells, read_rows, set_cell
from conftest import REQUESTS_2027 as CASE
from conftest import REQUESTS_2027_DATE as DATE
from costperf.cli import main
from costperf.columns import code_label, code_label_map

BOOK, STANDARDS = CASE / "book", CASE / "standards"
HW_UC = {"一级": 16.49, "二级": 12.46, "三级": 10.80, "四级": 7.85}


def _book(name: str) -> pd.DataFrame:
    return pd.read_csv(
        BOOK / name, encoding="utf-8-sig", dtype={"项目编码": str, "经济分类科目": str}
    )


def test_every_rule_fires_in_at_least_five_departments(reviewed) -> None:
    lines, projects = reviewed["lines"], reviewed["projects"]
    assert len(projects) >= 200 and projects["预算部门"].nunique() >= 5
    fired = set(lines["适用规则"])  # the zh CSV shows words, as the workbook does
    rules = ("meeting", "training", "travel", "equipment", "unit_cost", "target_gate")
    assert {code_label("rule", r, "zh") for r in (*rules, "no_standard")} <= fired
    reasons = lines["人工复核原因"].fillna("")
    assert reasons.str.contains("重复（明细名称和申报数相同）").any()  # duplicates
    assert reasons.str.contains("成都不在住宿费标准表中").any()  # uncovered city
    assert reasons.str.contains("需核对舱位/席别等级").any()  # intercity fares
    assert reasons.str.contains("不重复计算讲课费").any()  # a repeated lecture
    assert {"适用标准", "支出类型", "经济分类科目"} <= set(lines["匹配方式"].dropna())
    assert set(projects["绩效目标审核"]) >= {
        "未编制绩效目标",
        "无可量化产出指标",
        "有可量化产出指标",
    }


def test_meetings_match_an_independent_computation(reviewed) -> None:
    book = _book("lines.csv")
    mine = book[book["项目编码"].str.startswith("A-") & book["明细名称"].eq("会议费")]
    quota = {"二类": 650, "三类": 550, "四类": 550}
    over = (
        (mine["天数"] > 2)
        | (mine["会议类别"].eq("四类") & (mine["人数"] > 50))
        | (mine["会议性质"].eq("传达布置类") & (mine["天数"] > 1))
    )
    cap = mine["会议类别"].map(quota) * mine["人数"] * mine["天数"]
    expected = mine["申报数"].clip(upper=cap).where(~over, 0.0)
    got = reviewed["lines"].set_index(["项目编码", "序号"])["审定数"]
    keys = list(zip(mine["项目编码"], mine["序号"], strict=True))
    assert got.loc[keys].tolist() == pytest.approx(expected.tolist())
    assert over.any() and (expected < mine["申报数"]).sum() > over.sum()


def test_sanitation_contracts_are_capped_at_the_derived_standard(reviewed) -> None:
    """Approved = min(the lines' approved sum, hw-uc@1 value of the grade x the m2 target)."""
    projects = _book("projects.csv").set_index("项目编码")
    targets = _book("targets.csv")
    area = targets[targets["单位"].eq("m2") & targets["指标类别"].eq("产出-数量")]
    area = area.set_index("项目编码")["目标值"].astype(float)
    got = reviewed["projects"].set_index("项目编码")
    lines = reviewed["lines"]
    f_ids = [p for p in projects.index if p.startswith("F-") and p in area.index]
    capped = 0
    for pid in f_ids:
        cap = round(HW_UC[projects.loc[pid, "道路等级"]] * area[pid], 2)
        line_sum = lines.loc[lines["项目编码"].eq(pid), "明细审定数"].sum()
        assert got.loc[pid, "审定数"] == pytest.approx(min(line_sum, cap), abs=0.005), pid
        assert lines.loc[lines["项目编码"].eq(pid), "审定数"].sum() == pytest.approx(
            got.loc[pid, "审定数"], abs=0.005
        )
        capped += line_sum > cap
    assert capped >= 10
    # the travel line inside F-LH-004: lines first (上海 其他人员 2 x (500 x 2 + 180 x 3))
    row = lines[lines["项目编码"].eq("F-LH-004") & lines["明细名称"].eq("外出考察差旅")].iloc[0]
    assert row["明细审定数"] == 3080 and row["审定数"] < 3080
    flagged = got.loc["F-LH-018"]  # its output is in km: not capped, flagged
    assert flagged["审定数"] == flagged["申报数"] and flagged["需人工复核"] == "是"


def test_lodging_reason_and_target_gate(reviewed) -> None:
    lines = reviewed["lines"].set_index(["项目编码", "序号"])
    lodging = lines.loc[("C-CZ-001", 1)]
    assert lodging["审定数"] == 650 * 2 * 4
    assert lodging["核减理由"].startswith("住宿费每晚 800 元超过北京厅局级标准 650 元，按标准核定")
    projects = reviewed["projects"].set_index("项目编码")
    assert projects.loc["G-CZ-001", ["审定数", "审核结论"]].tolist() == [0.0, "不予安排"]
    assert projects.loc["G-CZ-001", "核减理由"].startswith("未编制绩效目标")


def test_workbook_is_formatted_for_printing(reviewed) -> None:
    import openpyxl

    book = openpyxl.load_workbook(reviewed["out"] / "review.xlsx")
    assert book.sheetnames == ["汇总", "项目", "明细", "待人工复核"]
    for ws in book:
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
        assert ws.print_title_rows == "$3:$3" and ws.freeze_panes == "A4" and ws.auto_filter.ref
        assert ws.print_options.gridLines  # a number never runs into the text beside it
    ws = book["明细"]
    header = [c.value for c in ws[3]]
    first = {h: c for h, c in zip(header, ws[4], strict=True)}
    assert first["申报数"].number_format == "#,##0.00" and first["核减率"].number_format == "0.00%"
    assert first["序号"].number_format == "0"
    # a line's 日期 is a date cell (sorted and filtered as a date), as the request gives it
    lines = pd.read_csv(reviewed["out"] / "lines.csv", dtype=str)
    dated = [r for r in ws.iter_rows(min_row=4) if r[header.index("日期")].value is not None]
    assert len(dated) == lines["日期"].notna().sum() > 0
    cell = dated[0][header.index("日期")]
    assert cell.number_format == "yyyy-mm-dd" and cell.is_date
    assert cell.value.date().isoformat() == lines["日期"].dropna().iloc[0]
    decisions = {r[header.index("审核结论")] for r in ws.iter_rows(min_row=4, values_only=True)}
    assert decisions == {"通过", "核减", "不予安排"}
    kinds = {r[header.index("支出类型")] for r in ws.iter_rows(min_row=4, values_only=True)}
    assert {"会议", "差旅", "办公设备家具"} <= kinds and "meeting" not in kinds


def test_wide_sheets_print_the_decision_and_wrapped_reasons_fit(reviewed) -> None:
    """明细 and 项目 print their decision columns (one page wide, readable); every other
    column stays on screen; a wrapped reason's row is tall enough for its lines."""
    import openpyxl

    book = openpyxl.load_workbook(reviewed["out"] / "review.xlsx")
    printed = {
        "明细": [
            "项目编码",
            "序号",
            "明细名称",
            "申报数",
            "审定数",
            "核减数",
            "核减率",
            "审核结论",
        ],
        "项目": ["项目编码", "项目名称", "申报数", "审定数", "核减数", "核减率", "审核结论"],
    }
    for name, first in printed.items():
        ws = book[name]
        header = [c.value for c in ws[3]]
        assert header[: len(first)] == first
        area = ws.print_area[0] if isinstance(ws.print_area, list) else ws.print_area
        last = openpyxl.utils.get_column_letter(header.index("核减理由") + 1)
        assert area.replace("'", "").endswith(f"!$A$1:${last}${ws.max_row}")
        assert len(header) > header.index("核减理由") + 5  # the facts are still there
    ws = book["明细"]
    header = [c.value for c in ws[3]]
    wrapped = [header.index(h) for h in ("核减理由", "人工复核原因", "适用标准值")]
    # openpyxl keeps neighbouring columns of one width as one group (min..max)
    groups = [d for d in ws.column_dimensions.values() if d.min is not None]
    width = {j: next(d.width for d in groups if d.min <= j + 1 <= d.max) for j in wrapped}

    # the printed reason 60 wide; the texts on screen only as wide as their longest
    # (at most 150), so that they make no row taller than its printed reason needs
    def widest(j: int) -> int:
        texts = (str(r[j] or "") for r in ws.iter_rows(min_row=4, values_only=True))
        return max(len(t) + sum(1 for ch in t if ord(ch) >= 0x2E80) for t in texts)

    reason = header.index("核减理由")
    assert 60 <= width[reason] < 61, width
    for j in wrapped:
        if j != reason:
            assert 60 <= width[j] < 151 and width[j] >= min(widest(j) + 2, 150), (j, width)
    tall = 0
    for r, row in enumerate(ws.iter_rows(min_row=4, values_only=True), start=4):
        needed = 1
        for j in wrapped:
            text = str(row[j] or "")
            wide = len(text) + sum(1 for ch in text if ord(ch) >= 0x2E80)  # CJK: two wide
            needed = max(needed, -(-wide // (int(width[j]) - 1)))  # less a margin
        height = ws.row_dimensions[r].height
        assert all(ws.cell(r, j + 1).alignment.wrap_text for j in wrapped if row[j])
        if needed > 1:
            tall += 1
            assert height is not None and height >= 16 * needed, (r, row[wrapped[0]], height)
        else:
            assert height is None, (r, row[wrapped[0]], height)
    assert tall > 50


def test_forms_share_one_font_stylesheet_covering_every_form(reviewed) -> None:
    """The forms link forms/font.css, one @font-face (a WOFF data URI) whose glyphs
    cover every character any form shows; no form carries a font of its own."""
    import base64
    import io

    from fontTools.ttLib import TTFont

    from costperf.report.webfont import FAMILY, page_characters

    folder = reviewed["out"] / "forms"
    rule = (folder / "font.css").read_text(encoding="utf-8")
    assert rule.count("@font-face") == 1 and f'font-family:"{FAMILY}"' in rule
    data = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)\)", rule).group(1))
    cmap = set(TTFont(io.BytesIO(data)).getBestCmap())
    pages = [p.read_text(encoding="utf-8") for p in folder.glob("*.html")]
    assert all('<link rel="stylesheet" href="font.css"><style>' in p for p in pages)
    assert not any("@font-face" in p for p in pages)
    shown = page_characters(pages) - {" "}
    assert len(shown) > 300 and {ord(c) for c in shown} <= cmap
    assert sorted(p.name for p in folder.iterdir() if p.suffix != ".html") == ["font.css"]


def test_forms_summary_and_json_agree(reviewed) -> None:
    out, projects = reviewed["out"], reviewed["projects"]
    forms = sorted((out / "forms").glob("*.html"))
    assert len(forms) == len(projects)
    form = (out / "forms" / "F-LH-003.html").read_text(encoding="utf-8")
    assert "项目预算评审意见表" in form and "hw-uc@1" in form and "按比例分摊" in form
    # the sealed table cited by its title as issued, not as the draft it was derived as
    assert "道路环卫保洁单位成本标准" in form and "测算草案" not in form
    # a derived table has no document number: who derived it, and by which rule
    assert "同类项目成本测算（costperf）：同类中位数" in form
    assert "财行〔2016〕214号" in (out / "forms" / "A-CZ-001.html").read_text(encoding="utf-8")
    # the review date and the batch recording it: on each form, the summary page and sheet
    batch = reviewed["summary"]["batch_id"]
    as_of = f"评审基准日：{DATE}；评审批次：{batch}"
    assert as_of in form and as_of in (out / "summary.html").read_text(encoding="utf-8")
    sheet = openpyxl.load_workbook(out / "review.xlsx", read_only=True)["汇总"]
    assert next(sheet.iter_rows(min_row=2, max_row=2, values_only=True))[0] == as_of
    totals = reviewed["summary"]["totals"]
    assert totals["approved"] == pytest.approx(projects["审定数"].sum())
    assert totals["projects_reject"] == int(projects["审核结论"].eq("不予安排").sum())
    assert (out / "summary.html").read_text(encoding="utf-8").count("<img") == 3


def test_records_hold_every_decision_with_quantity_and_price(reviewed) -> None:
    with sqlite3.connect(reviewed["records"]) as conn:
        batch = reviewed["summary"]["batch_id"]
        n = conn.execute("SELECT COUNT(*) FROM review_lines WHERE run_id=?", (batch,)).fetchone()
        assert n[0] == len(reviewed["lines"])
        assert {r[0] for r in conn.execute("SELECT typeof(line_no) FROM review_lines")} == {
            "integer"
        }
        row = conn.execute(
            "SELECT quantity, unit_price, approved FROM review_lines WHERE "
            "project_id='C-CZ-001' AND line_no=1"
        ).fetchone()
        assert row == (8.0, 800.0, 5200.0)
        kind, source, summary = conn.execute(
            "SELECT kind, source, summary FROM runs WHERE run_id=?", (batch,)
        ).fetchone()
        assert kind == "review" and len(json.loads(source)) == 3
        inputs = json.loads(summary)["inputs"]
        assert len(inputs) == 3 and all(len(h) == 64 for h in inputs.values())


def test_same_batch_again_records_nothing_and_english_csv(tmp_path, capsys) -> None:
    """Single-sheet requests: the same batch again (in English) records nothing new; CSV
    headers are canonical under --lang en; a malformed book leaves the store byte for
    byte as it was."""
    from costperf.io.book import read_request_book
    from costperf.review.batch.engine import review_book
    from costperf.review_outputs import write_review_outputs
    from costperf.standards import shipped_standards

    book = read_request_book(CASES / "expenditure-requests" / "requests.csv")
    standards = shipped_standards()
    result = review_book(book, standards, on="2024-03-01")
    records = tmp_path / "r.sqlite"
    first = write_review_outputs(
        result,
        book,
        standards,
        tmp_path / "a",
        parameters={"date": "2024-03-01"},
        records_path=records,
    )
    before = records.read_bytes()
    again = write_review_outputs(
        result,
        book,
        standards,
        tmp_path / "b",
        parameters={"date": "2024-03-01"},
        records_path=records,
        lang="en",
    )
    assert records.read_bytes() == before
    assert again["already_recorded"] and again["batch_id"] == first["batch_id"]
    head = pd.read_csv(tmp_path / "b" / "lines.csv", nrows=0, encoding="utf-8-sig").columns
    assert {
        "project_id",
        "line_no",
        "requested",
        "approved",
        "cut",
        "cut_rate",
        "decision",
        "manual_review",
        "rule",
        "standard_id",
        "reason_zh",
        "reason_en",
    } <= set(head)
    titles = {  # the title row of each sheet, in the language of the batch
        lang: [ws["A1"].value for ws in openpyxl.load_workbook(tmp_path / d / "review.xlsx")]
        for lang, d in (("zh", "a"), ("en", "b"))
    }
    assert titles["en"][0] == "Budget review results — Summary"
    assert titles["zh"][0].startswith("预算评审结果 — ")
    # an English form: the date and batch, and the standards' English titles
    pages = [p.read_text(encoding="utf-8") for p in (tmp_path / "b" / "forms").glob("*.html")]
    assert all(f"Review date: 2024-03-01; batch: {first['batch_id']}" in p for p in pages)
    assert any("Travel accommodation caps, central government staff" in p for p in pages)
    assert not any("中央和国家机关" in p for p in pages)
    bad = tmp_path / "book"
    shutil.copytree(BOOK, bad)
    set_cell(bad / "targets.csv", 5, "指标类别", "产出")
    code = main(
        [
            "review",
            str(bad),
            "--standards",
            str(STANDARDS),
            "--date",
            DATE,
            "--out",
            str(tmp_path / "c"),
            "--records",
            str(records),
            "--lang",
            "en",
        ]
    )
    assert code == 2 and records.read_bytes() == before
    err = capsys.readouterr().err
    assert "targets.csv, row 5, column '指标类别'" in err


def test_template_round_trip(tmp_path) -> None:
    """The template's lists block bad entries; a filled template is read back as a book."""
    import openpyxl

    from costperf.io.book import read_request_book

    path = tmp_path / "book.xlsx"
    assert main(["template", "requests", "-o", str(path)]) == 0
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "填表说明" and {"项目", "明细", "绩效目标"} <= set(wb.sheetnames)
    rules = {str(v.sqref): v for v in wb["明细"].data_validations.dataValidation}
    header = [c.value for c in wb["明细"][1]]
    coded = [
        "经济分类科目",
        "支出类型",
        "费用项目",
        "会议类别",
        "培训类别",
        "人员级别",
        "设备家具品目",
    ]
    for name in coded:
        letter = openpyxl.utils.get_column_letter(header.index(name) + 1)
        rule = rules[f"{letter}2:{letter}2001"]
        assert rule.type == "list" and rule.showErrorMessage and rule.errorStyle in (None, "stop")
    wb["项目"].append(["P1", "会议", "区财政局"])
    wb["明细"].append(
        [
            "P1",
            1,
            "30215",
            "会议费",
            "会议",
            None,
            7000,
            None,
            None,
            None,
            "2027-04-01",
            "二类会议",
            None,
            None,
            10,
            1,
        ]
    )
    wb["绩效目标"].append(["P1", "产出-数量", "参会人数", "人", 10])
    wb.save(path)
    book = read_request_book(path)
    assert book.has_targets and book.lines.loc[0, "requested"] == 7000


def test_money_in_wan_or_qian_yuan_in_a_header_is_read_in_yuan(tmp_path) -> None:
    """Found by an audit: 申报数（万元） was read as yuan (20900 万元 reviewed as 20,900
    yuan); every money column of a book is scaled by its header's unit, and only those
    (人数（万元） is no money: as given)."""
    from costperf.io.book import read_request_book

    folder = tmp_path / "book"
    folder.mkdir()
    pd.DataFrame({"项目编码": ["P1"], "预算部门": ["区财政局"]}).to_csv(
        folder / "projects.csv", index=False
    )
    pd.DataFrame(
        {
            "项目编码": ["P1", "P1"],
            "序号": [1, 2],
            "经济分类科目": ["30201", "30201"],
            "申报数（万元）": [2.09, None],
            "数量": [None, 3],
            "单价（千元）": [None, 1.5],
            "人数（万元）": [4, None],
        }
    ).to_csv(folder / "lines.csv", index=False)
    pd.DataFrame(
        {"项目编码": ["P1"], "指标类别": ["产出-数量"], "指标名称": ["x"], "目标值": [1]}
    ).to_csv(folder / "targets.csv", index=False)
    lines = read_request_book(folder).lines
    assert lines["requested"].tolist() == [20_900.0, 4_500.0]
    assert lines.loc[1, "unit_price"] == 1_500.0 and lines.loc[0, "persons"] == 4


def _template(tmp_path, lang: str) -> openpyxl.Workbook:
    path = tmp_path / f"template-{lang}.xlsx"
    assert main(["template", "requests", "-o", str(path), "--lang", lang]) == 0
    return openpyxl.load_workbook(path)


def _notes(wb: openpyxl.Workbook) -> list[tuple[object, object]]:
    return [(r[0], r[1]) for r in wb.worksheets[0].iter_rows(values_only=True, max_col=2)]


def _lists(wb: openpyxl.Workbook) -> dict[str, list[str]]:
    ws = wb.worksheets[1]
    return {c[0].value: [x.value for x in c[1:] if x.value is not None] for c in ws.iter_cols()}


def test_the_chinese_template_is_unchanged(tmp_path) -> None:
    """The Chinese template as it was before its texts moved into labels.csv."""
    wb = _template(tmp_path, "zh")
    assert wb.sheetnames == ["填表说明", "代码表", "项目", "明细", "绩效目标"]
    assert wb.active.title == "填表说明" and wb["代码表"].sheet_state == "hidden"
    notes = _notes(wb)
    assert [k for k, _ in notes] == [
        "预算项目申报书填表说明", "", "工作表", "必填", "绩效目标", "下拉列表", "规则匹配",
        "会议", "培训", "差旅", "办公设备家具", "单位成本标准", "金额", "英文表头",
    ]  # fmt: skip
    assert notes[5][1] == "带下拉箭头的列只能从列表中选择（列表来自标准表）；输入其他值会被拒绝。"
    assert notes[-1][1] == (
        "表头也可用英文（project_id、line_no、requested ……），见 cases/requests-2027/README.md。"
    )
    assert wb.worksheets[0].column_dimensions["A"].width == pytest.approx(14.7109375)
    lists = _lists(wb)
    assert lists["支出类型"] == ["会议", "培训", "差旅", "办公设备家具"]
    assert lists["费用项目"] == ["住宿费", "伙食补助费", "市内交通费", "城市间交通费"]
    assert lists["指标类别"] == [
        "产出-数量",
        "产出-质量",
        "产出-时效",
        "产出-成本",
        "效益",
        "满意度",
    ]
    assert lists["损坏无法修复"] == ["是", "否"]
    assert lists["设备家具品目"][:2] == ["台式计算机", "便携式计算机"]
    ws = wb["明细"]
    assert ws["A1"].value == "项目编码" and ws.column_dimensions["C"].width == pytest.approx(
        14.7109375
    )
    rules = {str(v.sqref): v for v in ws.data_validations.dataValidation}
    assert rules["E2:E2001"].formula1 == "代码表!$B$2:$B$5"
    assert rules["E2:E2001"].error == "支出类型：请从下拉列表中选择"
    assert rules["G2:G2001"].error == "申报数：请填写不小于 0 的数字"
    assert rules["B2:B2001"].error == "序号：请填写整数"
    assert rules["K2:K2001"].error == "日期：请填写日期 YYYY-MM-DD"


def test_the_english_template_is_english(tmp_path) -> None:
    """``--lang en``: the sheets, headers, instructions, list words and validation
    messages in English; the sheet names and headers are those the reader accepts."""
    from costperf.columns import canonical_name
    from costperf.io.book import BOOK_TABLES

    wb = _template(tmp_path, "en")
    assert wb.sheetnames == ["Instructions", "Code lists", "Projects", "Lines", "Targets"]
    for sheet, table in (("Projects", "projects"), ("Lines", "lines"), ("Targets", "targets")):
        assert sheet.lower() in BOOK_TABLES[table][1]
        header = [c.value for c in wb[sheet][1]]
        assert all(canonical_name(h)[0] for h in header), header
    assert [c.value for c in wb["Projects"][1]][:3] == ["Project ID", "Project name", "Department"]
    notes = _notes(wb)
    assert notes[0] == ("Budget request book: how to fill it in", None)
    assert [k for k, _ in notes][2:6] == ["Sheets", "Required", "Targets", "Drop-down lists"]
    assert notes[3][1] == (
        "Projects: Project ID, Department; Lines: Project ID, Requested (or Quantity and "
        "Unit price); Targets: Project ID, Indicator category, Indicator."
    )
    assert notes[-1][0] == "Chinese headers"
    han = re.compile(r"[\u3400-\u9fff]")
    assert not [t for row in notes for t in row if t and han.search(t)]
    lists = _lists(wb)
    assert lists["Expense kind"] == [
        "meeting",
        "training",
        "travel",
        "office equipment and furniture",
    ]
    assert lists["Travel item"] == [
        "lodging", "meal allowance", "local transport", "intercity transport"
    ]  # fmt: skip
    assert lists["Indicator category"] == [
        "output: quantity", "output: quality", "output: timeliness", "output: cost",
        "benefit", "satisfaction",
    ]  # fmt: skip
    assert lists["Damaged beyond repair"] == ["yes", "no"]
    assert lists["Equipment item"][:2] == ["desktop computer", "laptop computer"]
    # the standards' own dimension values, the only spellings their lookups know
    assert lists["Meeting category"] == ["一类会议", "二类会议", "三类会议", "四类会议"]
    ws = wb["Lines"]
    assert ws.column_dimensions["C"].width == pytest.approx(30.7109375)  # not 2 x 28 + 2
    rules = {str(v.sqref): v for v in ws.data_validations.dataValidation}
    assert rules["E2:E2001"].formula1 == "'Code lists'!$B$2:$B$5"
    assert rules["E2:E2001"].errorTitle == "Expense kind"
    assert rules["E2:E2001"].error == "Expense kind: choose a value from the drop-down list"
    assert rules["G2:G2001"].error == "Requested: enter a number of 0 or more"
    assert rules["B2:B2001"].error == "Line number: enter a whole number"
    assert rules["K2:K2001"].error == "Date: enter a date YYYY-MM-DD"


@pytest.mark.slow  # a 2-process LocalCluster and two reviews: ~40 s on 2 cores
def test_dask_engine_gives_the_same_result() -> None:
    pytest.importorskip("distributed", reason="dask is not installed: pip install 'costperf[dask]'")
    from distributed import Client, LocalCluster

    from costperf.commands.review import read_standard_folders
    from costperf.io.book import read_request_book
    from costperf.review.batch.engine import review_book
    from costperf.review.batch.parallel import review_book_dask

    standards = read_standard_folders([STANDARDS])
    book = read_request_book(BOOK)
    expected = review_book(book, standards, on=DATE)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        got = review_book_dask(book, standards, on=DATE, client=client, partitions=5)
    pd.testing.assert_frame_equal(got.lines, expected.lines)
    pd.testing.assert_frame_equal(got.projects, expected.projects)
    assert got.totals == expected.totals


def test_problems_of_every_stage_come_in_one_run(tmp_path, capsys) -> None:
    """A cell the schema refuses, a code the book check refuses and a value the rules
    refuse are reported by one run (located, exit 2), and the store is not touched."""
    bad = tmp_path / "book"
    shutil.copytree(BOOK, bad)
    set_cell(bad / "lines.csv", 3, "申报数", "一千二")  # the schema: not a number
    set_cell(bad / "lines.csv", 4, "人数", "-3")  # the schema: below the minimum
    set_cell(bad / "targets.csv", 5, "指标类别", "产出")  # the book: not a category
    set_cell(bad / "lines.csv", 6, "会议类别", "五类")  # the meeting rule: closed list
    set_cell(bad / "lines.csv", 2, "日期", "2027-02-30")  # the router: not a date
    set_cell(bad / "projects.csv", 3, "项目编码", "A-CZ-001")  # the schema: a repeated id
    records = tmp_path / "r.sqlite"
    args = ["review", str(bad), "--standards", str(STANDARDS), "--date", DATE]
    code = main([*args, "--out", str(tmp_path / "out"), "--records", str(records)])
    assert code == 2 and not records.exists()
    # one problem per cell: the blanked bad cells are not reported again as missing
    cells = problem_cells(tmp_path / "out" / "problems.csv")
    assert {
        ("lines.csv", "3", "申报数", "not_a_number"),
        ("lines.csv", "4", "人数", "below_minimum"),
        ("targets.csv", "5", "指标类别", "unknown_category"),
        ("lines.csv", "2", "日期", "bad_date"),
        ("projects.csv", "3", "项目编码", "duplicate_id"),
    } <= cells
    assert any(f == "lines.csv" and r == "6" and c == "会议类别" for f, r, c, _ in cells)
    # a meeting line with a bad amount is still looked up: its unknown category too
    rows = read_rows(bad / "lines.csv")
    at = next(i + 1 for i, r in enumerate(rows) if i > 6 and r[rows[0].index("会议类别")])
    set_cell(bad / "lines.csv", at, "申报数", "两万")
    set_cell(bad / "lines.csv", at, "会议类别", "五类")
    assert main([*args, "--out", str(tmp_path / "again")]) == 2
    cells = problem_cells(tmp_path / "again" / "problems.csv")
    assert {(str(at), "申报数"), (str(at), "会议类别")} <= {(r, c) for _, r, c, _ in cells}
    err = capsys.readouterr().err
    assert "lines.csv，第 3 行，列“申报数”：不是数字" in err


@pytest.mark.slow  # a 2-process LocalCluster: ~20 s on 2 cores
def test_dask_engine_reports_every_part_s_problems_at_once(tmp_path) -> None:
    """Problems in several partitions, and the read's own, come in one error on Dask."""
    pytest.importorskip("distributed", reason="dask is not installed: pip install 'costperf[dask]'")
    from distributed import Client, LocalCluster

    from costperf.commands.review import read_standard_folders
    from costperf.errors import InputError
    from costperf.io.book import read_request_book
    from costperf.review.batch.engine import review_book
    from costperf.review.batch.parallel import review_book_dask

    bad = tmp_path / "book"
    shutil.copytree(BOOK, bad)
    set_cell(bad / "lines.csv", 3, "申报数", "一千二")  # the schema
    for row in (6, 40, 90, 200, 400):  # the meeting rule, in several projects
        set_cell(bad / "lines.csv", row, "会议类别", "五类")
    set_cell(bad / "lines.csv", 2, "日期", "2027-02-30")  # the router
    standards = read_standard_folders([STANDARDS])
    book = read_request_book(bad, defer=True)
    with pytest.raises(InputError) as pandas_engine:
        review_book(book, standards, on=DATE)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
        pytest.raises(InputError) as dask_engine,
    ):
        review_book_dask(book, standards, on=DATE, client=client, partitions=5)
    cells = ["source_file", "source_row", "column", "check"]
    mine = pandas_engine.value.problems[cells].astype(str)
    theirs = dask_engine.value.problems[cells].astype(str)
    assert set(map(tuple, theirs.to_numpy())) == set(map(tuple, mine.to_numpy()))
    assert len(mine) >= 3


def test_a_book_without_the_standard_s_dimension_flags_every_contract() -> None:
    """No 道路等级 column: each sanitation contract is flagged for review by hand with the
    missing dimension named, and approved as its lines (a crash once: all-blank units)."""
    from costperf.commands.review import read_standard_folders
    from costperf.io.book import read_request_book
    from costperf.review.batch.engine import review_book

    book = read_request_book(BOOK)
    book = type(book)(
        book.projects.drop(columns="road_grade"), book.lines, book.targets, has_targets=True
    )
    got = review_book(book, read_standard_folders([STANDARDS]), on=DATE).projects
    sanitation = got[got["class_of_matter"].eq("环卫保洁")]
    assert len(sanitation) >= 10
    assert sanitation["manual_review"].all()
    assert sanitation["manual_review_reason_zh"].str.contains("未给出道路等级").all()
    assert sanitation["manual_review_reason_en"].str.contains("no road_grade given").all()
    assert (
        sanitation["project_cap"].isna().all() and sanitation["standard_id"].fillna("").eq("").all()
    )
    assert (sanitation["approved"] - sanitation["line_approved"]).abs().max() < 0.005


def test_the_chinese_csvs_show_words_not_codes(reviewed) -> None:
    """The zh CSVs read like the workbook's sheets (codes are the --lang en CSVs')."""
    lines, projects = reviewed["lines"], reviewed["projects"]
    for table in (lines, projects):
        assert set(table["审核结论"]) <= {"通过", "核减", "不予安排"}
        assert set(table["需人工复核"]) == {"是", "否"}
        assert table["核减理由（英文）"].str.contains(r"[a-z]{4} ").all()  # both languages kept
    assert set(lines["成本要素"].dropna()) <= set(code_label_map("cost_element", "zh").values())
    assert set(lines["费用项目"].dropna()) <= set(code_label_map("travel_item", "zh").values())
    assert not lines["适用规则"].str.contains(r"[a-z]{3}").any()
    assert "审核意见" not in projects  # the decision in words already


def test_records_list_shows_words_and_blanks(reviewed, capsys) -> None:
    """``records list`` on the batch: decisions and rules as words in the user's
    language, no NaN/None, a run's JSON cut to its start (``records show`` has it all)."""
    args = ["records", "list", "lines", "--records", str(reviewed["records"]), "--limit", "20"]
    assert main(args) == 0
    zh = capsys.readouterr().out
    assert "通过" in zh and "会议费综合定额" in zh
    assert not re.search(r"\b(approve|reduce|meeting_quota|NaN|None)\b", zh)
    assert main([*args, "--lang", "en"]) == 0
    en = capsys.readouterr().out
    assert "approve" in en and "meeting composite quota" in en and "NaN" not in en
    runs = ["records", "list", "runs", "--records", str(reviewed["records"])]
    assert main(runs) == 0
    shown = capsys.readouterr().out
    assert '{"totals": {"projects": 275, "lines":...' in shown and "sha256:e19" not in shown


def test_a_good_batch_removes_the_problems_table_of_an_earlier_failed_one(tmp_path) -> None:
    """Found by an independent audit: problems.csv of a rejected batch stayed in --out
    beside the outputs of the corrected batch."""
    requests, out = tmp_path / "requests.csv", tmp_path / "out"
    shutil.copy(CASES / "expenditure-requests" / "requests.csv", requests)
    original = requests.read_bytes()
    set_cell(requests, 2, "申报数", "abc")
    args = ["review", str(requests), "--date", "2024-03-01", "--out", str(out)]
    assert main(args) == 2
    assert (out / "problems.csv").exists()
    requests.write_bytes(original)  # the user fixes the cell
    assert main(args) == 0
    assert not (out / "problems.csv").exists() and (out / "review.xlsx").exists()


def test_two_sources_for_one_table_is_bad_input(tmp_path, capsys) -> None:
    """Found by an audit: with both 明细 and lines one was read, silently."""
    book = tmp_path / "book"
    shutil.copytree(BOOK, book)
    shutil.copy(book / "lines.csv", book / "明细.csv")
    args = ["review", str(book), "--standards", str(STANDARDS), "--date", DATE]
    assert main([*args, "-o", str(tmp_path / "x.csv"), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "明细.csv and lines.csv are both the lines table; keep one of them" in err


def test_a_missing_column_does_not_hide_the_other_tables_problems(tmp_path, capsys) -> None:
    """Found by an audit: a projects header typo (预算部们) stopped the read, so the lines'
    unknown category and unknown project came one run later."""
    book = tmp_path / "book"
    shutil.copytree(BOOK, book)
    text = (book / "projects.csv").read_text(encoding="utf-8-sig")
    (book / "projects.csv").write_text(text.replace("预算部门", "预算部们", 1), encoding="utf-8")
    set_cell(book / "lines.csv", 2, "项目编码", "Z-NONE-1")
    args = ["review", str(book), "--standards", str(STANDARDS), "--date", DATE]
    assert main([*args, "-o", str(tmp_path / "x.csv"), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "projects.csv, row 1, column 'department'" in err
    assert "lines.csv, row 2, column '项目编码'" in err and "Z-NONE-1" in err


def test_a_mistyped_fact_header_is_one_problem_not_one_per_line(tmp_path, capsys) -> None:
    """Found by an audit: 人数 typed 参会人 gave a "missing attendees" problem on each of
    the 80 meeting and training lines, and the typed header was named nowhere."""
    book = tmp_path / "book"
    shutil.copytree(BOOK, book)
    text = (book / "lines.csv").read_text(encoding="utf-8-sig")
    (book / "lines.csv").write_text(text.replace(",人数,", ",参会人,", 1), encoding="utf-8")
    lines = pd.read_csv(BOOK / "lines.csv", encoding="utf-8-sig", dtype=str)
    meetings, trainings = (int(lines[c].notna().sum()) for c in ("会议类别", "培训类别"))
    args = ["review", str(book), "--standards", str(STANDARDS), "--date", DATE]
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    problems = pd.read_csv(tmp_path / "out" / "problems.csv", encoding="utf-8-sig", dtype=str)
    assert problems[["行号", "列", "单元格取值"]].values.tolist() == [
        ["1", "参会人数", "参会人"],
        ["1", "参训人数", "参会人"],
    ]
    err = capsys.readouterr().err
    assert f"会议明细共 {meetings} 行需要" in err and f"培训明细共 {trainings} 行需要" in err


def test_a_book_without_its_targets_table_is_refused(tmp_path) -> None:
    """Without 绩效目标 the gate would fund every project: the book is refused (exit 2),
    the store untouched; an empty targets table is refused as any empty sheet is."""
    import hashlib

    store = tmp_path / "records.sqlite"
    folder = tmp_path / "book"
    shutil.copytree(CASE / "book", folder)
    small = pd.read_csv(folder / "projects.csv", dtype=str).head(3)
    small.to_csv(folder / "projects.csv", index=False)
    lines = pd.read_csv(folder / "lines.csv", dtype=str)
    lines[lines["项目编码"].isin(small["项目编码"])].to_csv(folder / "lines.csv", index=False)
    targets = pd.read_csv(folder / "targets.csv", dtype=str)
    kept = targets[targets["项目编码"].isin(small["项目编码"])]
    kept.to_csv(folder / "targets.csv", index=False)
    args = ["review", str(folder), "--date", DATE, "--records", str(store), "--lang", "en"]
    assert main([*args, "--out", str(tmp_path / "good")]) == 0
    before = hashlib.sha256(store.read_bytes()).hexdigest()

    (folder / "targets.csv").rename(folder / "target.csv")
    assert main([*args, "--out", str(tmp_path / "o1")]) == 2
    problems = pd.read_csv(tmp_path / "o1" / "problems.csv", dtype=str)
    assert problems["check"].tolist() == ["missing_file"]
    assert problems["expected"].tolist() == ["projects, lines and targets tables"]
    assert "target.csv" in problems["value"].iloc[0]

    workbook = tmp_path / "book.xlsx"
    with pd.ExcelWriter(workbook) as writer:
        for sheet, name in (("项目", "projects.csv"), ("明细", "lines.csv")):
            pd.read_csv(folder / name, dtype=str).to_excel(writer, sheet_name=sheet, index=False)
        kept.to_excel(writer, sheet_name="绩效指标", index=False)  # not a sheet of the book
    status = main(["review", str(workbook), "--date", DATE, "--out", str(tmp_path / "o2")])
    assert status == 2
    problems = pd.read_csv(tmp_path / "o2" / "problems.csv", dtype=str, encoding="utf-8-sig")
    assert problems["应为"].tolist() == [
        "工作表“绩效目标”或“targets”（本簿工作表：项目、明细、绩效指标）"
    ]
    assert problems["问题"].tolist() == ["工作表不存在"]  # the file is there
    assert problems["单元格取值"].isna().all()  # the sheets are named in 应为

    kept.head(0).to_csv(folder / "target.csv", index=False)  # the header alone
    (folder / "target.csv").rename(folder / "targets.csv")
    assert main([*args, "--out", str(tmp_path / "o3")]) == 2  # as any empty sheet
    problems = pd.read_csv(tmp_path / "o3" / "problems.csv", dtype=str)
    assert problems["check"].tolist() == ["no_data_rows"]
    assert hashlib.sha256(store.read_bytes()).hexdigest() == before


def test_a_missing_key_column_comes_with_the_sheets_other_problems(tmp_path) -> None:
    """项目 without its 项目编码 header (written 编号): the missing column, a 年度 that is
    no number in the same sheet and a bad amount in 明细, in one run."""
    from costperf.errors import InputError
    from costperf.io.book import read_request_book

    folder = tmp_path / "book"
    folder.mkdir()
    projects = "编号,项目名称,预算部门,年度\nP1,会议,区财政局,2027\nP2,培训,区财政局,二〇二七\n"
    (folder / "projects.csv").write_text(projects, encoding="utf-8")
    lines = "项目编码,序号,经济分类科目,申报数\nP1,1,30215,1000\nP2,1,30216,二万元\n"
    (folder / "lines.csv").write_text(lines, encoding="utf-8")
    targets = "项目编码,指标类别,指标名称,单位,目标值\nP1,产出-数量,会议,次,1\n"
    (folder / "targets.csv").write_text(targets, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_request_book(folder)
    got = caught.value.problems[["source_file", "source_row", "column", "check"]]
    got = got.assign(source_file=got["source_file"].map(lambda p: p.rsplit("/", 1)[-1]))
    assert sorted(map(tuple, got.astype(str).to_numpy())) == [
        ("lines.csv", "3", "申报数", "not_a_number"),
        ("projects.csv", "1", "project_id", "missing_column"),
        ("projects.csv", "3", "年度", "not_a_number"),
    ]


def _gbk_book_problems(tmp_path, amount: str, line_no: str, category: str) -> pd.DataFrame:
    """The problems of a folder book whose lines.csv row 3 is in GBK (the rest UTF-8)."""
    from costperf.errors import InputError
    from costperf.io.book import read_request_book

    folder = tmp_path / "book"
    folder.mkdir()
    (folder / "projects.csv").write_text("项目编码,预算部门\nP1,区财政局\n", encoding="utf-8")
    head = f"项目编码,序号,经济分类科目,明细名称,申报数\nP1,1,30201,纸,{amount}\n".encode()
    (folder / "lines.csv").write_bytes(head + f"P1,{line_no},30201,办公用品,200\n".encode("gbk"))
    targets = f"项目编码,指标类别,指标名称,单位,目标值\nP1,{category},次数,次,1\n"
    (folder / "targets.csv").write_text(targets, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_request_book(folder)
    return caught.value.problems


def test_a_gbk_line_does_not_hide_the_other_tables_checks(tmp_path) -> None:
    """lines.csv holds a line in GBK: the targets' unknown 指标类别 is reported with it."""
    got = _gbk_book_problems(tmp_path, "100", "2", "产出数量X")
    found = {
        (f.rsplit("/", 1)[-1], c) for f, c in zip(got["source_file"], got["check"], strict=True)
    }
    assert found == {("lines.csv", "mixed_encoding"), ("targets.csv", "unknown_category")}


def test_the_other_rows_of_a_file_with_a_gbk_line_are_still_checked(tmp_path) -> None:
    """A GBK line is reported as such (its garbled cells are not reported again: its
    序号 二 is not) and the file's other rows are checked in the same run: row 2's text
    申报数 is found."""
    got = _gbk_book_problems(tmp_path, "一百", "二", "产出-数量")
    assert sorted(zip(got["source_row"].astype(int), got["check"], strict=True)) == [
        (2, "not_a_number"),
        (3, "mixed_encoding"),
    ]


def test_provenance_and_words_of_the_lines_found_by_an_audit(reviewed) -> None:
    """A 市内交通费 line names the local-transport standard (it named the meals one); a
    line that used no standard has no 标准已核实 (a blank read as 是); a travel line cut by
    its project's unit-cost cap lists both tables; a project not capped lists none."""
    lines, projects = reviewed["lines"], reviewed["projects"].set_index("项目编码")
    local = lines[lines["费用项目"].eq("市内交通费")]
    assert len(local) and set(local["适用标准"]) == {"travel-allowance/local_transport"}
    meals = lines[lines["费用项目"].eq("伙食补助费")]
    assert set(meals["适用标准"]) == {"travel-allowance/meals"}
    no_standard = lines[lines["审核规则"].eq("无适用标准")]
    assert len(no_standard) and no_standard["标准已核实"].isna().all()
    intercity = lines[lines["费用项目"].eq("城市间交通费")]
    assert intercity["标准已核实"].isna().all()
    assert set(lines["标准已核实"].dropna()) <= {"是", "否"}
    trip = lines[lines["项目编码"].eq("F-LH-004") & lines["支出类型"].eq("差旅")]
    assert len(trip) == 1
    assert trip["标准版本"].iloc[0].split("; ") == [
        "travel-lodging@2",
        "travel-allowance@1",
        "hw-uc@1",
    ]
    assert pd.isna(projects.loc["F-LH-018", "标准版本"])  # output in km: not capped
    form = (reviewed["out"] / "forms" / "F-LH-018.html").read_text(encoding="utf-8")
    assert "hw-uc@1" not in form


def test_the_english_tables_carry_codes(tmp_path) -> None:
    """Under --lang en, 支出类型 is its code (travel, not 差旅) and 损坏无法修复 a boolean;
    a rule chain in the workbook reads 'a + b' with single spaces."""
    import openpyxl

    from conftest import review_2027_args

    out = tmp_path / "en"
    assert main([*review_2027_args(out, tmp_path / "r.sqlite"), "--lang", "en"]) == 0
    lines = pd.read_csv(out / "lines.csv")
    assert set(lines["expense_kind"].dropna()) <= {"meeting", "training", "travel", "equipment"}
    assert set(lines["damaged"].dropna().astype(str)) <= {"True", "False"}
    sheet = openpyxl.load_workbook(out / "review.xlsx", read_only=True)["Lines"]
    rows = sheet.iter_rows(values_only=True)
    header = next(list(r) for r in rows if r[0] == "Project ID")  # below the title lines
    rules = {r[header.index("Rule")] for r in rows if r[header.index("Rule")]}
    chained = [r for r in rules if "+" in r]
    assert chained and not [r for r in chained if "  " in r], chained


def test_the_same_tables_by_another_path_are_the_same_batch(tmp_path, monkeypatch) -> None:
    """Found by an audit: the --standards folder's path was a parameter, so the README's
    relative command and the same with absolute paths (or a copied folder) recorded two
    batches; the tables are recorded by id, version and content hash."""
    store = tmp_path / "r.sqlite"
    copy = tmp_path / "standards-copy"
    shutil.copytree(CASE / "standards", copy)
    monkeypatch.chdir(CASE.parents[1])
    relative = [
        "review",
        "cases/requests-2027/book",
        "--standards",
        "cases/requests-2027/standards",
    ]
    assert (
        main([*relative, "--date", DATE, "--out", str(tmp_path / "a"), "--records", str(store)])
        == 0
    )
    absolute = ["review", str(CASE / "book"), "--standards", str(copy), "--date", DATE]
    assert main([*absolute, "--out", str(tmp_path / "b"), "--records", str(store)]) == 0
    runs = pd.read_sql("select run_id, source from runs", sqlite3.connect(store))
    assert len(runs) == 1
    assert all(p.startswith("/") for p in json.loads(runs["source"].iloc[0]))


def test_a_capped_projects_record_holds_the_caps_factors(reviewed) -> None:
    """Found by an audit: the batch stored output_quantity, standard_value and approvable
    as NULL for every unit-cost project; F-LH-003: 10.80 x 513,000 = 5,540,400."""
    with sqlite3.connect(reviewed["records"]) as conn:
        row = pd.read_sql(
            "select output_quantity, standard_value, approvable, approved from review_projects "
            "where project_id = 'F-LH-003'",
            conn,
        )
    assert row.values.tolist() == [[513_000.0, 10.80, 5_540_400.0, 5_540_400.0]]
    shown = reviewed["projects"].set_index("项目编码").loc["F-LH-003"]
    assert (shown["产出量"], shown["标准值（元/单位）"], shown["项目核定上限"]) == (
        513_000.0,
        10.80,
        5_540_400.0,
    )


def test_the_summary_by_rule_books_each_cut_to_the_rule_that_made_it(reviewed) -> None:
    """Found by reading the summary: a trip cut by the travel standard and then by its
    project's unit-cost cap had its whole cut booked under the cap. Now each rule's row
    has the cut it made: the line rules' from 申报数 to 明细审定数, the cap's and the
    gate's from 明细审定数 to 审定数 (computed here from lines.csv)."""
    from costperf.review.registry import review_rules

    lines = reviewed["lines"]
    by_rule = {r["group"]: r for r in reviewed["summary"]["summaries"]["review_rule"]}
    own_cut = lines["申报数"] - lines["明细审定数"]
    project_cut = lines["明细审定数"] - lines["审定数"]
    last = lines["适用规则"]
    for rule in ("unit_cost", "target_gate"):
        mine = last.eq(code_label("rule", rule, "zh"))
        assert by_rule[rule]["cut"] == pytest.approx(project_cut[mine].sum(), abs=0.005)
    first = lines["审核规则"].str.split("＋").str[0]
    travel = {code_label("rule", c, "zh") for c in review_rules("line")["travel"].codes}
    trips = first.isin(travel)
    assert last[trips].eq(code_label("rule", "unit_cost", "zh")).sum() == 4  # capped trips
    assert by_rule["travel"]["n_lines"] == trips.sum()
    assert by_rule["travel"]["cut"] == pytest.approx(own_cut[trips].sum(), abs=0.005)
    assert sum(r["cut"] for r in by_rule.values()) == pytest.approx(
        reviewed["summary"]["totals"]["cut"], abs=0.005
    )


def test_every_code_a_line_rule_writes_is_its_own_and_has_words() -> None:
    from costperf.review.registry import review_rules, rule_of_code

    for name, rule in review_rules("line").items():
        assert rule.codes, name
        for code in rule.codes:
            assert rule_of_code(code) == name
            assert code_label("rule", code, "zh") != code and code_label("rule", code, "en")
    assert rule_of_code("unit_cost") == "unit_cost"


def test_records_made_in_chunks_are_those_made_at_once(reviewed, tmp_path, monkeypatch) -> None:
    """A batch's decision rows are converted and inserted a chunk at a time (one
    transaction): chunks of 7 rows store what one chunk of every row stores."""
    from conftest import review_2027_args
    from costperf.records import write

    monkeypatch.setattr(write, "CHUNK_ROWS", 7)
    records = tmp_path / "records.sqlite"
    assert main(review_2027_args(tmp_path / "out", records)) == 0

    def rows(path, table: str) -> pd.DataFrame:
        with sqlite3.connect(path) as conn:
            frame = pd.read_sql(f"SELECT * FROM {table} ORDER BY rowid", conn)  # noqa: S608
        return frame.drop(columns=["run_id"])

    for table in ("review_projects", "review_lines"):
        chunked, whole = rows(records, table), rows(reviewed["records"], table)
        assert len(whole) > 7 * 10
        pd.testing.assert_frame_equal(chunked, whole)


def test_case_folder_given_instead_of_its_book_names_the_subfolder(tmp_path, capsys) -> None:
    """``costperf review cases/requests-2027`` (the case, not its book/): the message
    names the subfolder that holds the book and the command to type."""
    case = tmp_path / "case"
    (case / "book").mkdir(parents=True)
    (case / "README.md").write_text("x", encoding="utf-8")
    for name in ("projects.csv", "lines.csv"):
        shutil.copy(BOOK / name, case / "book" / name)
    command = f"costperf review {case / 'book'}"
    assert main(["review", str(case), "--out", str(tmp_path / "zh")]) == 2
    err = capsys.readouterr().err
    assert f"（子文件夹 book 中有项目表和明细表：{command}）" in err
    problems = pd.read_csv(tmp_path / "zh" / "problems.csv", dtype=str, encoding="utf-8-sig")
    assert problems["问题"].tolist() == ["缺少文件"]
    assert problems["应为"].iloc[0].endswith(f"（子文件夹 book 中有项目表和明细表：{command}）")
    assert main(["review", str(case), "--out", str(tmp_path / "en"), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert f"; the subfolder book holds them: {command}" in err
    assert not re.search(r"[\u4e00-\u9fff]", err.split("found:")[1])
    shutil.rmtree(case / "book")  # no book below: the message stays as it was
    assert main(["review", str(case), "--out", str(tmp_path / "none")]) == 2
    assert "子文件夹" not in capsys.readouterr().err
