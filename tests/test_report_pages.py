"""Reports a director can read (issue 13): formats by column type, the embedded font,
the decision-first report, charts in Chinese, the published standard and its seal."""

from __future__ import annotations

import base64
import datetime as dt
import html as htmllib
import io
import re
import shutil
import warnings
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from costperf.report import charts
from costperf.report.excel import write_workbook
from costperf.report.formats import column_kind, format_value, label_codes, pretty_units
from costperf.report.html import table_html
from costperf.report.webfont import FAMILY, embed_font, page_characters

# --- formats from columns.csv ----------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "kind"),
    [
        ("year", "code_int"),
        ("line_no", "code_int"),
        ("n_peers", "count"),
        ("df", "count"),
        ("requested", "money"),
        ("unit_cost", "money"),
        ("cut_rate", "fraction"),
        ("share_personnel", "fraction"),
        ("p_value", "probability"),
        ("savings_pct", "percent"),
        ("efficiency", "score"),
        ("cost_index", "index"),
        ("coef", "coefficient"),
        ("project_id", "text"),
        ("核减率", "fraction"),  # a display label maps back to its column
        ("年度", "code_int"),
    ],
)
def test_column_kind_from_columns_csv(column: str, kind: str) -> None:
    assert column_kind(column) == kind


@pytest.mark.parametrize(
    ("name", "values", "days"),
    [
        ("date", ["2027-03-15", None, " 1900-03-01 "], [46461.0, None, 61.0]),
        ("日期", ["2024-02-29", ""], [45351.0, None]),  # a display label maps back
        ("end_date", ["2026-12-31"], [46387.0]),
        ("date", ["2027/03/15"], None),  # not YYYY-MM-DD: the text as the request gives it
        ("date", ["2027-02-30"], None),  # no such day
        ("date", ["2027-03-15", "next week"], None),  # one text keeps the column text
        ("date", [None, ""], None),  # no date at all
        ("project_name", ["2027-03-15"], None),  # not a date column
    ],
)
def test_date_texts_become_excel_day_numbers(name, values, days) -> None:
    from costperf.report.formats import excel_dates

    got = excel_dates(name, pd.Series(values, dtype=object))
    if days is None:
        assert got is None
    else:
        assert [None if pd.isna(v) else v for v in got] == days


@given(st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2200, 12, 31)))
def test_a_date_s_day_number_is_excel_s(day: dt.date) -> None:
    """Excel's 1900 day numbers (from 1900-03-01 on, past its leap-year bug)."""
    from costperf.report.formats import excel_dates

    (got,) = excel_dates("date", pd.Series([day.isoformat()]))
    assert got == (day - dt.date(1899, 12, 30)).days


def test_values_are_shown_by_kind() -> None:
    assert format_value("fraction", 0.11259187) == "11.26%"
    assert format_value("money", 684525.42) == "684,525.42"
    assert format_value("money", 0.0) == "0.00"
    assert format_value("probability", 1e-14) == "1.00e-14"
    assert format_value("probability", 0.0312) == "0.0312"
    assert format_value("code_int", 2025) == "2025"
    assert format_value("count", 12345) == "12,345"
    assert format_value("money", float("nan")) == ""
    assert pretty_units("元/m2，人/km2，area_m2") == "元/m²，人/km²，area_m2"


def test_codes_become_words_from_the_label_table() -> None:
    frame = pd.DataFrame(
        {
            "decision": ["approve", "reduce", "reject"],
            "cost_element": ["personnel", "tax", "other"],
            "status": ["draft", "published", "optimal"],
            "rule": ["unit_cost_cap", "meeting_quota+unit_cost_cap", "within_standard"],
            "manual_review": [True, False, True],
        }
    )
    zh = label_codes(frame, "zh")
    assert zh["decision"].tolist() == ["通过", "核减", "不予安排"]
    assert zh["cost_element"].tolist() == ["人员", "税金", "其他"]
    assert zh["status"].tolist() == ["测算草案", "已发布", "已求得最优解"]
    assert zh["rule"].tolist() == [
        "单位成本标准上限",
        "会议费综合定额＋单位成本标准上限",
        "未超过单位成本标准",
    ]
    assert zh["manual_review"].tolist() == ["是", "否", "是"]
    assert label_codes(frame, "en")["decision"].tolist() == ["approve", "reduce", "reject"]
    assert frame["decision"].tolist() == ["approve", "reduce", "reject"]  # input unchanged

    models = pd.DataFrame({"model": ["ols", "quantile tau=0.25", "quantile", "lasso a=1"]})
    assert label_codes(models, "zh")["model"].tolist() == [
        "最小二乘回归（OLS）",
        "分位数回归（tau=0.25）",
        "分位数回归",
        "lasso a=1",  # not a code of the table: as written
    ]
    assert label_codes(models, "en")["model"].tolist()[1] == "quantile regression (tau=0.25)"


# --- Excel by column type ----------------------------------------------------------------


def test_workbook_formats_widths_filter_and_print_setup(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "year": [2025, 2026],
            "n_peers": [17, 2000],
            "requested": [7155589.38, 0.0],
            "cut_rate": [0.1126, 0.0],
            "p_value": [1e-14, 0.5],
            "df": [66.0, 66.0],
            "project_id": ["SQ-QP-2026-001", "SQ-QP-2026-002"],
            "decision": ["approve", "reduce"],
        }
    )
    path = write_workbook({"审核": frame}, tmp_path / "t.xlsx", title="标题")
    ws = openpyxl.load_workbook(path)["审核"]
    header = [c.value for c in ws[3]]
    assert header[:4] == ["年度", "采用样本数", "申报数", "核减率"]
    formats = {h: ws.cell(4, j + 1).number_format for j, h in enumerate(header)}
    assert formats["年度"] == "0"
    assert formats["采用样本数"] == "#,##0"
    assert formats["申报数"] == "#,##0.00"
    assert formats["核减率"] == "0.00%"
    assert formats["P值"] == "0.00E+00"
    assert formats["自由度"] == "#,##0"
    assert ws.cell(4, 1).value == 2025 and ws.cell(4, 4).value == pytest.approx(0.1126)
    assert [ws.cell(r, 8).value for r in (4, 5)] == ["通过", "核减"]
    assert ws.freeze_panes == "A4"
    assert ws.auto_filter.ref == "A3:H5"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == "$3:$3"
    widths = {h: ws.column_dimensions[chr(65 + j)].width for j, h in enumerate(header)}
    assert widths["项目编码"] >= len("SQ-QP-2026-001")
    assert widths["申报数"] >= len("7,155,589.38")


def test_a_table_written_by_write_table_is_formatted(tmp_path: Path) -> None:
    from costperf.io import write_table

    frame = pd.DataFrame({"核减率": [0.25], "年度": [2026], "申报数": [1234.5]})
    ws = openpyxl.load_workbook(write_table(frame, tmp_path / "lines.xlsx", lang="zh")).active
    assert ws.title == "lines"  # not "Sheet1"
    assert [ws.cell(2, j).number_format for j in (1, 2, 3)] == ["0.00%", "0", "#,##0.00"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:C2"


def test_report_workbook_formats_by_column(good_run: dict) -> None:
    book = openpyxl.load_workbook(good_run["out"] / "report.xlsx")

    def formats(sheet: str) -> dict[str, str]:
        ws = book[sheet]
        header = [c.value for c in ws[3]]
        return {h: ws.cell(4, j + 1).number_format for j, h in enumerate(header) if h}

    review = formats("审核结果")
    assert review["核减率"] == "0.00%" and review["申报数"] == "#,##0.00"
    regression = formats("成本回归")
    assert regression["P值"] == "0.00E+00"
    assert formats("合同单位成本")["年度"] == "0"
    assert formats("区域比较")["样本数"] == "#,##0"
    ws = book["审核结果"]
    column = [c.value for c in ws[3]].index("审核结论") + 1
    decisions = {ws.cell(r, column).value for r in range(4, ws.max_row + 1)}
    # the decision sheet prints its decision columns, up to the Chinese reason
    header = [c.value for c in ws[3]]
    assert header[:3] == ["项目编码", "项目名称", "区域"] and "核减理由（英文）" in header[9:]
    last = openpyxl.utils.get_column_letter(header.index("核减理由") + 1)
    assert str(ws.print_area).replace("'", "") == f"审核结果!$A$1:${last}${ws.max_row}"
    assert decisions <= {"通过", "核减", "不予安排"}, decisions


# --- HTML: tables, the font, the report -----------------------------------------------


def _visible(page: str) -> str:
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", page))


def test_table_cells_by_kind_ids_collapsed_units_in_headers() -> None:
    frame = pd.DataFrame(
        {
            "project_id": ["A"],
            "requested": [6079705.42],
            "cut": [0.0],
            "cut_rate": [0.11259],
            "decision": ["reduce"],
            "peers_used": ["P1;P2;P3;P4;P5"],
            "unit": ["元/m2"],
        }
    )
    page = table_html("审核", frame, "zh")
    assert "<th>申报数（元）</th>" in page and "<th>核减率</th>" in page
    assert ">6,079,705.42<" in page and ">0.00<" in page and ">11.26%<" in page
    assert ">核减<" in page and "reduce" not in page
    assert '<details class="ids"><summary>5 项</summary>' in page
    assert "元/m²" in page and 'class="scroll"' in page


def _embedded_font(page: str):
    from fontTools.ttLib import TTFont

    match = re.search(r"url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", page)
    assert match, "no embedded font"
    data = base64.b64decode(match.group(1))
    assert data[:4] == b"wOFF"
    return TTFont(io.BytesIO(data)), len(data)


def test_embedded_font_covers_exactly_the_page() -> None:
    page = "<html><head><style>p{}</style></head><body><p>核减率 19.94%，道路等级</p></body></html>"
    out = embed_font(page)
    assert f'font-family:"{FAMILY}"' in out
    font, size = _embedded_font(out)
    cmap = font.getBestCmap()
    assert {ord(c) for c in "核减率道路等级，%"} <= set(cmap)
    assert ord("国") not in cmap  # only what the page uses
    assert size < 40_000


def test_report_html_is_decision_first_and_chinese(good_run: dict) -> None:
    page = (good_run["out"] / "report.html").read_text(encoding="utf-8")
    order = [
        page.index(s) for s in ("<h2", ">结论<", ">原因<", '<details class="more', "完整数据表")
    ]
    assert order == sorted(order)
    decision = _visible(page[page.index(">结论<") : page.index(">原因<")])
    for text in ("16.49", "16.15 – 18.19", "6,206.93 万元", "1,237.71 万元", "19.94%"):
        assert text in decision, text
    assert "SQ-FX-2026-001" in decision and "未填报产出目标" in decision
    assert "申报单位成本 17.55 元/m²，高于核定的 15.57 元/m²" in decision  # 6,079,705.42 / 346,400
    shown = _visible(page)
    for code in ("approve", "unit_cost_cap", "peer median", "True", " m2", "/m2"):
        assert code not in shown, code
    read_first = _visible(page[: page.index('<details class="more')])  # decision and why
    assert "sweeps_per_day" not in read_first and "iqr" not in read_first
    assert "本报告比较 70 个同类合同" in shown
    font, _ = _embedded_font(page)
    missing = {c for c in page_characters([page]) if c.strip() and ord(c) not in font.getBestCmap()}
    assert not missing


def test_published_standard_page_and_seal(good_run: dict, tmp_path: Path) -> None:
    from costperf.report.standard_page import publish_table
    from costperf.standards import read_standards, seal_table

    page = (good_run["out"] / "hw-uc-v1.html").read_text(encoding="utf-8")
    shown = _visible(page)
    assert "道路环卫保洁单位成本标准（测算草案）" in shown
    assert "10.80" in shown and "10.8 " not in shown
    assert "合理区间（元/m²）" in shown and "9.74 – 11.88" in shown
    assert "[source]" not in shown and "iqr" not in shown
    assert "一级 17 个、二级 20 个、三级 15 个、四级 17 个" in shown
    _embedded_font(page)
    folder = tmp_path / "standards"
    shutil.copytree(good_run["out"] / "standards", folder)
    seal_table(folder / "hw-uc-v1.toml")
    sealed = publish_table(read_standards(folder / "hw-uc-v1.toml"), "hw-uc", tmp_path / "s.html")
    title = re.search(r"<h1>(.*?)</h1>", sealed.read_text(encoding="utf-8")).group(1)
    assert title == "道路环卫保洁单位成本标准"
    assert "未经发布" not in _visible(sealed.read_text(encoding="utf-8"))


# --- charts: every glyph drawn, no English in a Chinese chart ---------------------------

LATIN_WORD = re.compile(r"[\w\-.]*[A-Za-z_]{2,}[\w\-.]*", re.ASCII)
ALLOWED = re.compile(r"^(?:DEA|VRS|[A-Z]{2}(?:-[A-Z0-9]+)+)$")  # abbreviations and ids


def english_words(fig) -> list[str]:  # noqa: ANN001 - a matplotlib Figure
    """Latin words in the texts of a figure that are neither abbreviations nor ids."""
    from matplotlib.text import Text

    texts = [t.get_text() for t in fig.findobj(Text)]
    return [w for t in texts for w in LATIN_WORD.findall(t) if not ALLOWED.match(w)]


@pytest.fixture(scope="module")
def chart_frames() -> dict:
    units = pd.DataFrame(
        {
            "project_id": ["HW-A-1", "HW-A-2", "HW-B-1", "HW-B-2", "HW-C-1", "HW-C-2"],
            "district": ["青浦区", "青浦区", "松江区", "松江区", "金山区", "金山区"],
            "road_grade": ["一级", "二级", "一级", "二级", "一级", "二级"],
            "unit_cost": [16.2, 12.1, 17.1, 11.5, 18.0, 12.4],
            "expected_unit_cost": [16.0, 12.5, 16.8, 11.9, 17.2, 12.0],
            "efficiency": [1.0, 0.82, 0.9, 1.0, 0.7, 0.95],
        }
    )
    gaps = pd.DataFrame(
        {
            "district": ["青浦区"] * 3 + ["金山区"] * 3,
            "driver": ["人均工资", "日清扫频次", "residual"] * 2,
            "effect": [0.4, -0.2, 0.05, 1.2, 0.3, -0.1],
            "reference_value": [12.0] * 3 + [11.8] * 3,
        }
    )
    return {"units": units, "gaps": gaps}


def _zh_charts(frames: dict, dim_label: str = "道路等级") -> list:
    units, gaps = frames["units"], frames["gaps"]
    standard = pd.DataFrame({"road_grade": ["一级", "二级"], "value": [16.49, 12.46]})
    districts = pd.DataFrame({"district": ["青浦区", "松江区"], "unit_cost": [12.2, 10.1]})
    return [
        charts.unit_cost_box.figure(units, by="road_grade", standard=standard, dim_label=dim_label),
        charts.district_bars.figure(
            districts, peer_median=11.7, standard_at_mix=pd.Series({"青浦区": 12.0, "松江区": 11.0})
        ),
        charts.waterfall_panel.figure(gaps, labels={"residual": "残差（参照调整）"}),
        charts.efficiency_bars.figure(
            units, id_column="project_id", score="efficiency", group="district"
        ),
        charts.frontier_scatter.figure(
            units,
            input_total=units["unit_cost"] * 1e6,
            output=units["unit_cost"] * 1e5,
            input_label="投入合计（元）",
            output_label="日保洁作业面积（m2·次）",
        ),
        charts.expected_scatter.figure(
            units, actual="unit_cost", expected="expected_unit_cost", group="district"
        ),
    ]


def test_chinese_charts_have_every_glyph_and_no_english(chart_frames: dict) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" fails
        figures = _zh_charts(chart_frames)
        for fig in figures:
            charts.to_png(fig)
    for fig in figures:
        assert english_words(fig) == []
        for ax in fig.axes:  # plain tick labels: no 1e6 offset text
            assert ax.xaxis.get_offset_text().get_text() == ""
            assert ax.yaxis.get_offset_text().get_text() == ""


def test_the_chart_checks_can_fail(chart_frames: dict) -> None:
    box = _zh_charts(chart_frames, dim_label="swept_area_m2")[0]
    assert set(english_words(box)) == {"swept_area_m2"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="missing from font"):
            charts.to_png(_zh_charts(chart_frames, dim_label="道路等级 \U0001f600")[0])


def test_waterfall_panel_is_zero_based_with_one_axis_per_district(chart_frames: dict) -> None:
    fig = charts.waterfall_panel.figure(chart_frames["gaps"])
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in axes] == ["青浦区", "金山区"]
    assert all(ax.get_xlim()[0] == 0 for ax in axes)


def test_headline_money_is_wan_yuan_in_chinese_and_yuan_in_english() -> None:
    from costperf.report.case_report import wan

    assert wan(62_069_300.4, "zh") == "6,206.93 万元"
    assert wan(62_069_300.4, "en") == "62,069,300 yuan"
