"""Publication: a workbook and an HTML page a bureau could issue, read back."""

from __future__ import annotations

import html.parser
from pathlib import Path

import openpyxl
import pytest

from costperf.report.standard_page import build_publication, publish_table, render_html
from costperf.standards import read_standards

STANDARDS = Path(__file__).resolve().parents[1] / "standards"


@pytest.fixture(scope="module")
def shipped():
    return read_standards(STANDARDS)


@pytest.fixture(scope="module")
def meeting_book(shipped, tmp_path_factory):
    path = tmp_path_factory.mktemp("pub") / "meeting.xlsx"
    publish_table(shipped, "meeting-fee", path, fmt="xlsx")
    return openpyxl.load_workbook(path)


def _merged(sheet, coordinate):
    return any(coordinate in r for r in sheet.merged_cells.ranges)


def test_workbook_title_document_and_grouped_header(meeting_book):
    sheet = meeting_book.worksheets[0]
    assert sheet.title == "meeting-fee"
    assert sheet["A1"].value == "中央和国家机关会议费综合定额标准"
    assert sheet["A1"].font.bold
    assert "文号：财行〔2016〕214号" in sheet["A2"].value
    assert "施行日期：2016-07-01" in sheet["A3"].value
    assert _merged(sheet, "A1") and _merged(sheet, "E1")
    # grouped header: 综合定额 over 住宿费/伙食费/其他费用/合计, units below
    assert sheet["A4"].value == "会议类别" and _merged(sheet, "A6")
    assert sheet["B4"].value == "综合定额"
    assert any(str(r) == "B4:E4" for r in sheet.merged_cells.ranges)
    assert [sheet.cell(5, c).value for c in range(2, 6)] == ["住宿费", "伙食费", "其他费用", "合计"]
    assert [sheet.cell(6, c).value for c in range(2, 6)] == ["元/人·天"] * 4
    assert sheet.freeze_panes == "B7"


def test_workbook_values_are_numbers(meeting_book):
    sheet = meeting_book.worksheets[0]
    rows = [[sheet.cell(r, c).value for c in range(1, 6)] for r in range(7, 11)]
    assert rows == [
        ["一类会议", 500, 150, 110, 760],
        ["二类会议", 400, 150, 100, 650],
        ["三类会议", 340, 130, 80, 550],
        ["四类会议", 340, 130, 80, 550],
    ]
    assert sheet["B7"].number_format == "#,##0"
    assert sheet.column_dimensions["A"].width >= 10


def test_workbook_notes_and_line_sheet(meeting_book):
    sheet = meeting_book.worksheets[0]
    notes = [sheet.cell(r, 1).value for r in range(12, sheet.max_row + 1)]
    assert notes[0] == "注："
    text = "\n".join(notes[1:])
    assert "可以调剂使用" in text
    assert "依据：《中央和国家机关会议费管理办法》（财行〔2016〕214号）" in text
    assert "以下表头信息待核实" not in text  # the notice's dates are confirmed (issue 15)
    assert "内容指纹：sha256:" in text
    lines = meeting_book.worksheets[1]
    assert lines.title == "数值明细"
    assert [c.value for c in lines[1]][:3] == ["标准编码", "项目", "指标"]
    assert lines["A2"].value == "meeting-fee/一类会议/lodging"


def test_unverified_values_are_marked(shipped, tmp_path):
    path = publish_table(shipped, "training-fee", tmp_path / "t.xlsx")
    sheet = openpyxl.load_workbook(path).worksheets[0]
    row = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == "二类培训")
    lodging, total = sheet.cell(row, 2), sheet.cell(row, 6)
    assert lodging.value == 400 and lodging.number_format.endswith('"※"')
    assert total.value == 650 and "※" not in total.number_format
    notes = "\n".join(str(sheet.cell(r, 1).value) for r in range(row, sheet.max_row + 1))
    assert "标注※的数值未在文件原文中核实（共4项）" in notes
    assert "超过30天部分按70%控制" in notes
    assert "以下表头信息待核实：施行日期" in notes


class _Cells(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self._in = [], None

    def handle_starttag(self, tag, attrs):
        if tag in ("td", "th", "h1", "li", "p"):
            self._in = [tag, dict(attrs), ""]

    def handle_data(self, data):
        if self._in is not None:
            self._in[2] += data

    def handle_endtag(self, tag):
        if self._in is not None and tag == self._in[0]:
            self.cells.append(tuple(self._in))
            self._in = None


def test_html_has_the_same_content(shipped, tmp_path):
    pub = build_publication(shipped, "travel-lodging")
    page = render_html(pub)
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert "http" not in page and "<link" not in page and "<script" not in page
    parser = _Cells()
    parser.feed(page)
    texts = [c[2] for c in parser.cells]
    assert pub.title in texts
    assert texts.count("1,040") == 1  # 海口 peak, 省部级
    headers = [c for c in parser.cells if c[0] == "th"]
    dalian = next(c for c in headers if c[2] == "大连")
    assert dalian[1].get("rowspan") == "2"  # 淡季 and 旺季 rows
    assert any("海口 11-01—02-29" in t for t in texts)
    for note in pub.notes:
        assert note in texts
    written = publish_table(shipped, "travel-lodging", tmp_path / "t.html", fmt="html")
    assert written.read_text(encoding="utf-8") == page


def test_english_headers(shipped, tmp_path):
    path = publish_table(shipped, "meeting-fee", tmp_path / "en.xlsx", lang="en")
    sheet = openpyxl.load_workbook(path).worksheets[0]
    assert sheet["A1"].value == "Meeting-fee composite quota, central government bodies"
    assert sheet["A4"].value == "meeting category"
    assert sheet["B4"].value == "composite quota"
    assert [sheet.cell(5, c).value for c in range(2, 6)] == ["lodging", "food", "other", "total"]
    assert "Document: 财行〔2016〕214号" in sheet["A2"].value
    page = render_html(build_publication(shipped, "meeting-fee", lang="en"))
    assert '<html lang="en">' in page and "<th>lodging</th>" in page


@pytest.mark.parametrize(
    ("lang", "kind", "unit", "range_head"),
    [
        ("zh", "综合定额", "元/人·天", "元/人·天"),
        ("en", "composite quota", "yuan/person-day", "yuan/person-day"),
    ],
)
def test_value_lines_show_kind_and_unit_in_the_page_language(
    shipped, tmp_path, lang, kind, unit, range_head
):
    """Found by the language audit: the value-lines sheet (数值明细 / lines) and
    ``standards show`` gave the kind as its code (composite_quota); under en the unit is
    in English words too (labels.csv kind standard_unit)."""
    pub = build_publication(shipped, "meeting-fee", lang=lang)
    head = {"zh": ("类型", "单位"), "en": ("Kind", "Unit")}[lang]
    assert set(pub.lines[head[0]]) == {kind} and set(pub.lines[head[1]]) == {unit}
    assert [c.text for c in pub.header if c.row == 2] == [range_head] * 4
    path = publish_table(shipped, "meeting-fee", tmp_path / "m.xlsx", lang=lang)
    sheet = openpyxl.load_workbook(path).worksheets[1]
    header = [c.value for c in sheet[1]]
    assert sheet.cell(2, header.index(head[0]) + 1).value == kind
    page = render_html(build_publication(shipped, "meeting-fee", lang=lang), embed=False)
    assert f"<th>{unit}</th>" in page and "composite_quota" not in page


def test_units_and_own_words_in_english():
    from costperf.labels import unit_words
    from costperf.report.standard_page import own_words

    assert unit_words("元/人·天", "en") == "yuan/person-day"
    assert unit_words("元/学时", "en") == "yuan/class hour"
    assert unit_words("元/m2", "en") == "yuan/m2"  # a derived table's: the output unit as given
    assert unit_words("套/人", "en") == "sets/person"
    assert unit_words("元/人·天", "zh") == "元/人·天"
    assert unit_words("公顷", "en") == "公顷"  # unknown: as the table states it
    assert own_words("17个合同测算，剔除0个", "en") == "contracts used: 17, excluded: 0"
    assert own_words("17个合同测算，剔除0个", "zh") == "17个合同测算，剔除0个"
    assert own_words("同类项目成本测算（costperf）", "en") == "peer-cost derivation (costperf)"
    assert own_words("文件将三类、四类会议并列为一档", "en") == "文件将三类、四类会议并列为一档"


@pytest.mark.parametrize(
    ("lang", "meta", "note"),
    [
        (
            "zh",
            "版本：1（已发布）　经济分类科目：31002、31007　类型：单价上限",
            "以下表头信息待核实：施行日期、标题。",
        ),
        (
            "en",
            "Version: 1 (published)   Economic classification: 31002, 31007   Kind: price cap",
            "Header fields to be verified: effective from, title.",
        ),
    ],
)
def test_header_words_come_in_the_page_language(shipped, lang, meta, note):
    """The kind, the status and the fields to verify are words of the page's language
    (labels.csv), not the codes of the table file."""
    pub = build_publication(shipped, "anhui-office-equipment", lang=lang)
    assert pub.meta[1].endswith(meta)
    assert note in pub.notes
    assert not any("price_cap" in line or "effective_from" in line for line in pub.meta + pub.notes)


@pytest.mark.parametrize(
    "table",
    [
        "meeting-fee",
        "meeting-limits",
        "fujian-meeting-fee",
        "training-fee",
        "training-lecturer-fee",
        "travel-lodging@1",
        "travel-lodging@2",
        "travel-allowance",
        "office-equipment",
        "anhui-office-equipment",
    ],
)
def test_every_shipped_table_publishes(shipped, tmp_path, table):
    pub = build_publication(shipped, table)
    n_values = sum(v is not None for row in pub.body for v in row[pub.n_label_columns :])
    assert n_values == len(shipped.get(table).values)
    publish_table(shipped, table, tmp_path / "x.xlsx")
    publish_table(shipped, table, tmp_path / "x.html")


@pytest.mark.parametrize(
    ("lang", "column", "counts"),
    [
        ("zh", "可信度", {"据二手资料": 6, "已核对原文": 5, "未核实": 4}),
        ("en", "Confidence", {"from a secondary source": 6, "checked in the document": 5,
                              "not verified": 4}),
    ],
)  # fmt: skip
def test_confidence_marks_read_as_words(shipped, lang, column, counts):
    """The V / S / U marks of standards/README.md (read in the document, on a secondary
    page, not found) are shown as words; the 4 U lines are the 4 ※ values."""
    pub = build_publication(shipped, "training-fee", lang=lang)
    assert pub.lines[column].value_counts().to_dict() == counts
