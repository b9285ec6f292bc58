"""Tests for costperf.report: workbook sheets and headers, charts with a CJK font, HTML."""

from __future__ import annotations

import datetime
import re
import warnings
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_cli
from costperf.report import charts
from costperf.report.excel import write_workbook
from costperf.report.fonts import use_cjk_font
from costperf.report.html import Section, render_report

ZH_SHEETS = {
    "概要",
    "合同单位成本",
    "区域比较",
    "同类统计",
    "成本标准",
    "差异分解",
    "合同差异分解",
    "成本回归",
    "效率前沿",
    "审核结果",
    "审核明细",
    "提示",
    "方差膨胀因子",
    "异常值",
    "分解参照值",
    "测算规则比较",
    "留一敏感性",
    "标准测算来源",
    "优化方案",
    "优化约束",
}
EN_SHEETS = {
    "Summary",
    "Unit costs",
    "Districts",
    "Peer statistics",
    "Standard",
    "Gap decomposition",
    "Gap by contract",
    "Cost regression",
    "Frontier",
    "Review",
    "Review lines",
    "Warnings",
    "VIF",
    "Outliers",
    "Gap reference",
    "Rule comparison",
    "Leave-one-out",
    "Standard provenance",
    "Savings proposal",
    "Proposal constraints",
}
CORE_ZH = [
    "合同单位成本",
    "区域比较",
    "成本标准",
    "差异分解",
    "成本回归",
    "效率前沿",
    "异常值",
    "测算规则比较",
    "留一敏感性",
    "审核结果",
    "审核明细",
]
CORE_EN = [
    "Unit costs",
    "Districts",
    "Standard",
    "Gap decomposition",
    "Cost regression",
    "Frontier",
    "Outliers",
    "Rule comparison",
    "Leave-one-out",
    "Review",
    "Review lines",
]


def _header_row(ws) -> list[str]:
    for row in ws.iter_rows(min_row=1, max_row=5, values_only=True):
        if row and sum(v is not None for v in row) > 1:
            return [v for v in row if v is not None]
    return []


def test_workbook_sheets_are_chinese_by_default(good_run: dict) -> None:
    book = openpyxl.load_workbook(good_run["out"] / "report.xlsx", read_only=True)
    names = book.sheetnames
    assert set(names) <= ZH_SHEETS, names
    assert all(n in names for n in CORE_ZH), names
    headers = _header_row(book["审核结果"])
    assert {"项目编码", "申报数", "审定数", "核减数", "核减率"} <= set(headers), headers
    # every header of every sheet is Chinese: no snake_case name leaks into the report
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for ws in book.worksheets:
        english = [h for h in _header_row(ws) if not cjk.search(str(h))]
        assert not english, (ws.title, english)
    drivers = {row[1] for row in book["差异分解"].iter_rows(min_row=4, values_only=True)}
    assert "人均工资（元/人·年）" in drivers, drivers  # the case's [labels]
    book.close()


def test_coded_cells_read_as_words_in_chinese(good_run: dict) -> None:
    """Found by an audit: vrs, in, t, ols, unit_cost, median, input and column names such
    as cost_personnel were printed as codes in the Chinese report."""

    def column(sheet: str, header: str) -> set:
        rows = book[sheet].iter_rows(min_row=3, values_only=True)
        at = next(rows).index(header)
        return {r[at] for r in rows if r[at] is not None}

    book = openpyxl.load_workbook(good_run["out"] / "report.xlsx", read_only=True)
    assert column("效率前沿", "规模报酬") == {"规模报酬可变（VRS）"}
    assert column("效率前沿", "导向") == {"投入导向"}
    assert column("效率前沿", "前沿投入项") == {"人员成本合计、设备成本、材料成本"}
    assert column("效率前沿", "前沿产出项") == {"日保洁作业面积（m2·次）"}  # the case's [labels]
    assert column("成本回归", "统计量") == {"t 统计量"}
    assert column("成本回归", "模型") == {"最小二乘回归（OLS）", "分位数回归（tau=0.25）"}
    assert column("成本标准", "标准类型") == {"成本标准"}
    assert column("成本标准", "审核规则") == {"同类中位数"}
    sources = column("优化方案", "单位成本来源")  # the resources table, or a standard
    assert "资源表" in sources and all(v == "资源表" or "@" in v for v in sources)
    book.close()


def test_methods_notes_and_reasons_read_in_chinese(good_run: dict) -> None:
    """Found by the language audit: lmdi_additive, 'peer median per road_grade', the gap
    notes, the R standard-error texts, patsy's terms, the English outlier reasons of the
    peers excluded and the constraint kinds were shown as written in the Chinese report;
    the recorded English method stays beside its Chinese, headed 方法（英文）."""

    def column(sheet: str, header: str) -> set:
        rows = book[sheet].iter_rows(min_row=3, values_only=True)
        at = next(rows).index(header)
        return {r[at] for r in rows if r[at] is not None}

    book = openpyxl.load_workbook(good_run["out"] / "report.xlsx", read_only=True)
    for sheet in ("差异分解", "合同差异分解"):
        assert column(sheet, "方法") == {"对数平均迪氏指数加法分解（LMDI）"}
    assert column("差异分解", "参照") == {"按道路等级分组的同类中位数"}
    assert column("合同差异分解", "说明") == {"残差因子 = 目标值 / 驱动因素之积"}
    assert column("成本回归", "标准误方法") == {
        "异方差稳健标准误 HC1（同 R sandwich::vcovHC(type = 'HC1')）",
        "分位数回归标准误（同 R quantreg::summary.rq(se='nid')，Hall-Sheather 带宽）",
    }
    assert {"截距", "ln(保洁面积（m2）)", "ln(工资指数)"} <= column("成本回归", "回归项")
    assert "ln(保洁面积（m2）)" in column("方差膨胀因子", "回归项")
    assert "HW-JS-2025-003：高于上四分位数+1.5倍四分位距（16.58 > 15.61）" in column(
        "成本标准", "剔除样本"
    )
    assert "同类17个合同经四分位距法筛查异常值后的中位数" in column("成本标准", "方法说明")
    assert "peer median of 17 contracts after iqr screening" in column("成本标准", "方法（英文）")
    provenance = column("标准测算来源", "测算规则")
    assert {"同类中位数", "多方法综合/同类中位数", "多方法综合/分位数回归前沿"} <= provenance
    assert "同类17个合同经四分位距法筛查异常值后的中位数" in column("标准测算来源", "方法说明")
    assert column("优化约束", "约束类型") == {"绩效基线", "政策约束", "资源限制"}
    book.close()
    page = (good_run["out"] / "report.html").read_text(encoding="utf-8")
    assert "HW-JS-2025-003：高于上四分位数+1.5倍四分位距（16.58 &gt; 15.61）" in page
    assert "HC1 (R sandwich" not in page and "above Q3" not in page


def test_workbook_sheets_are_english_with_lang_en(good_run: dict, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(
        "run", good_run["case"], "--out", out, "--lang", "en", "--no-records", cwd=tmp_path
    )
    assert code == 0, stderr
    assert not (out / "records.sqlite").exists()
    book = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    names = book.sheetnames
    assert set(names) <= EN_SHEETS, names
    assert all(n in names for n in CORE_EN), names
    headers = _header_row(book["Review"])
    assert {"Project ID", "Requested", "Approved", "Cut", "Cut rate"} <= set(headers), headers
    # English only, as review.xlsx: no Chinese twin columns; methods in words
    for ws in book.worksheets:
        assert not [h for h in _header_row(ws) if "(zh)" in str(h)], ws.title
    rows = book["Gap decomposition"].iter_rows(min_row=3, values_only=True)
    header = list(next(rows))
    gap = [dict(zip(header, r, strict=False)) for r in rows]
    assert {r["Method"] for r in gap} == {"additive LMDI decomposition"}
    assert {r["Reference"] for r in gap} == {"peer median per Road grade"}
    rows = book["Cost regression"].iter_rows(min_row=3, values_only=True)
    header = list(next(rows))
    methods = {r[header.index("SE method")] for r in rows}
    assert "HC1 (R sandwich::vcovHC(type = 'HC1'))" in methods  # as the library says it
    book.close()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html


def test_html_report(good_run: dict) -> None:
    html = (good_run["out"] / "report.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html and '<meta charset="utf-8">' in html
    assert "五区道路环卫保洁一类事成本比较" in html
    assert html.count('src="data:image/png;base64,') >= 2
    assert "核减率" in html


def test_write_workbook_labels_and_escapes(tmp_path: Path) -> None:
    frame = pd.DataFrame({"project_id": ["001"], "amount": [1234.5], "cut_rate": [0.125]})
    path = write_workbook({"审核结果": frame, "a" * 40: frame}, tmp_path / "r.xlsx", title="测试")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["审核结果", "a" * 31]  # Excel's 31-character limit
    ws = book["审核结果"]
    assert ws["A1"].value == "测试 — 审核结果"
    assert [c.value for c in ws[3]] == ["项目编码", "金额", "核减率"]
    assert [c.value for c in ws[4]] == ["001", 1234.5, 0.125]
    en = write_workbook({"Review": frame}, tmp_path / "e.xlsx", lang="en")
    assert [c.value for c in openpyxl.load_workbook(en)["Review"][1]] == [
        "Project ID",
        "Amount",
        "Cut rate",
    ]


def test_render_report_escapes_text() -> None:
    html = render_report(
        "<标题>",
        [
            Section(
                "节",
                "a & b",
                tables=[("表", pd.DataFrame({"item": ["<script>"], "amount": [1234.5]}))],
            )
        ],
    )
    assert "&lt;标题&gt;" in html and "&lt;script&gt;" in html and "a &amp; b" in html
    assert "1,234.50" in html and "<th>明细名称</th>" in html


# --- charts: Chinese must render as glyphs -------------------------------------------


def test_a_cjk_font_is_found() -> None:
    # fails when neither a system CJK font nor the bundled one is available
    assert use_cjk_font() is not None


@pytest.fixture
def chinese_units() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "project_id": ["甲", "乙", "丙", "丁", "戊", "己"],
            "district": ["青浦区", "松江区", "嘉定区", "金山区", "奉贤区", "青浦区"],
            "road_grade": ["一级", "一级", "二级", "二级", "三级", "三级"],
            "unit_cost": [16.2, 17.1, 11.5, 12.0, -8.6, 9.0],  # a minus sign is drawn too
        }
    )


def _no_warnings(draw) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph 38738 (\\N{...}) missing from font(s)" fails
        png = draw()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return png


def test_charts_with_chinese_labels_have_every_glyph(chinese_units: pd.DataFrame) -> None:
    standard = pd.DataFrame({"road_grade": ["一级", "二级", "三级"], "value": [16.4, 11.6, 8.8]})
    _no_warnings(
        lambda: charts.unit_cost_box(
            chinese_units, by="road_grade", standard=standard, dim_label="道路等级"
        )
    )
    districts = pd.DataFrame({"district": ["青浦区", "松江区"], "unit_cost": [12.2, 10.1]})
    _no_warnings(lambda: charts.district_bars(districts, output_unit="平方米"))
    effects = pd.Series({"人均工资": 1.2, "人员配置强度": -0.4, "残差": 0.05})
    _no_warnings(
        lambda: charts.waterfall(10.0, effects, unit_name="嘉定区", value_label="单位成本（元/m2）")
    )
    scores = pd.DataFrame(
        {"project_id": ["甲", "乙"], "efficiency": [0.8, 1.0], "district": ["青浦区", "松江区"]}
    )
    _no_warnings(
        lambda: charts.efficiency_bars(
            scores, id_column="project_id", score="efficiency", group="district"
        )
    )
    titles = "、".join(charts.chart_titles("zh"))
    _no_warnings(
        lambda: charts.district_bars(
            pd.DataFrame({"district": [titles[:20], titles[20:40]], "unit_cost": [1.0, 2.0]})
        )
    )


def _parts(path: Path) -> dict[str, bytes]:
    import zipfile

    with zipfile.ZipFile(path) as book:  # docProps/core.xml holds the creation time
        return {n: book.read(n) for n in book.namelist() if n != "docProps/core.xml"}


def test_direct_cell_writer_gives_the_workbook_pandas_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from costperf.report import excel

    frame = pd.DataFrame(
        {
            "amount_yuan": [1.5, np.nan, np.inf, -np.inf, 0.0, -2.25],
            "count": np.arange(6, dtype="int64"),
            "flag": [True, False, True, True, False, False],
            "district": pd.array(["青浦区", None, "", "=1+1", "松江区", "a"], dtype="str"),
            "mixed": pd.Series([1, 2.5, 3, None, np.float64(4.0), 7], dtype=object),
            "text": pd.Series(["x", None, "y", np.nan, "", "z"], dtype=object),
            "grade": pd.Categorical(["一级", "二级", "一级", None, "三级", "二级"]),
            "n": pd.array([1, None, 3, 4, 5, 6], dtype="Int64"),
        }
    )
    sheets = {"甲": frame, "乙": frame.iloc[:0], "丙": frame[["count"]]}
    direct = excel.write_workbook(sheets, tmp_path / "direct.xlsx", title="标题")
    assert excel.cell_columns(frame) is not None
    monkeypatch.setattr(excel, "cell_columns", lambda _frame: None)  # pandas' to_excel
    through_pandas = excel.write_workbook(sheets, tmp_path / "pandas.xlsx", title="标题")
    assert _parts(direct) == _parts(through_pandas)


def _both_ways(sheets: dict, folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple:
    """The workbook by the column writer and by pandas' ``to_excel`` (per-cell calls);
    the writer's own per-cell calls (an xlsxwriter release it is not written against)
    must give the same as the first."""
    from costperf.report import excel, sheetdata

    folder.mkdir(parents=True, exist_ok=True)
    direct = excel.write_workbook(sheets, folder / "direct.xlsx", title="标题", subtitle="副标题")
    with monkeypatch.context() as m:
        m.setattr(sheetdata, "SUPPORTED", False)
        per_cell = excel.write_workbook(
            sheets, folder / "per_cell.xlsx", title="标题", subtitle="副标题"
        )
    assert _parts(per_cell) == _parts(direct)
    with monkeypatch.context() as m:
        m.setattr(excel, "cell_columns", lambda _frame: None)
        through_pandas = excel.write_workbook(
            sheets, folder / "pandas.xlsx", title="标题", subtitle="副标题"
        )
    return _parts(direct), _parts(through_pandas)


def test_column_writer_over_many_blocks_of_rows_and_wrapped_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows across several 16-row span blocks and several render blocks, tall wrapped
    rows, an all-blank row (not written), a block of rows whose first cells are blank
    (its span starts later), and strings shared between sheets."""
    from costperf.report import sheetdata

    monkeypatch.setattr(sheetdata, "BLOCK_ROWS", 7)
    n = 45
    rng = np.random.default_rng(3)
    amounts = rng.normal(1e4, 5e3, n)
    amounts[[4, 20]] = np.nan
    reason = np.array([("住宿费超标，按标准核定。" * k) or None for k in rng.integers(0, 9, n)])
    frame = pd.DataFrame(
        {
            "project_id": [None if 10 <= i <= 28 else f"P{i % 7}" for i in range(n)],
            "requested_yuan": amounts,
            "manual_review": rng.random(n) > 0.5,
            "reason": pd.Series(reason, dtype=object),
            "line_no": np.arange(n, dtype="int64"),
        }
    )
    frame = frame.astype({"manual_review": object, "line_no": object})
    frame.loc[11, ["requested_yuan", "reason"]] = [np.nan, "长" * 400]
    frame.loc[12, :] = [None, np.nan, None, None, None]
    sheets = {"明细": frame, "项目": frame.iloc[::3], "空": frame.iloc[:0]}
    direct, through_pandas = _both_ways(sheets, tmp_path, monkeypatch)
    assert direct == through_pandas
    sheet = direct["xl/worksheets/sheet1.xml"].decode()
    assert 'customHeight="1"' in sheet  # the wrapped rows are tall
    assert '<row r="16"' not in sheet  # frame row 12: no cell, no height
    assert '<row r="17" spans="2:5"' in sheet  # rows 17-32: no project_id
    assert '<row r="33" spans="1:5"' in sheet


_cell_values = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(-(10**17), 10**17),
    st.booleans(),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12),
)


@settings(max_examples=25, deadline=None)
@given(
    columns=st.lists(
        st.sampled_from(["float", "int", "bool", "text", "object"]), min_size=1, max_size=5
    ),
    rows=st.integers(0, 40),
    data=st.data(),
)
def test_column_writer_gives_pandas_workbook_property(
    tmp_path_factory: pytest.TempPathFactory, columns: list, rows: int, data: object
) -> None:
    """Any frame of numbers, booleans, texts and blanks: the same workbook to the byte."""
    frame = {}
    for j, kind in enumerate(columns):
        if kind == "float":
            values = data.draw(st.lists(st.floats(width=64), min_size=rows, max_size=rows))
        elif kind == "int":
            values = data.draw(st.lists(st.integers(-(2**40), 2**40), min_size=rows, max_size=rows))
        elif kind == "bool":
            values = data.draw(st.lists(st.booleans(), min_size=rows, max_size=rows))
        elif kind == "text":  # texts and blanks only: the writer's array path
            texts = st.one_of(
                st.none(),
                st.just(np.nan),
                st.just(""),
                _cell_values.filter(lambda v: isinstance(v, str)),
            )
            values = data.draw(st.lists(texts, min_size=rows, max_size=rows))
        else:
            values = data.draw(st.lists(_cell_values, min_size=rows, max_size=rows))
        dtype = {"float": "float64", "int": "int64", "bool": "bool"}.get(kind, object)
        frame[f"{kind}_{j}"] = pd.Series(values, dtype=dtype)
    with pytest.MonkeyPatch.context() as monkeypatch:
        direct, through_pandas = _both_ways(
            {"甲": pd.DataFrame(frame)}, tmp_path_factory.mktemp("book"), monkeypatch
        )
    assert direct == through_pandas


def test_dates_are_left_to_pandas() -> None:
    from costperf.report import excel

    dates = pd.DataFrame({"date": pd.to_datetime(["2026-01-01", "2026-02-01"])})
    assert excel.cell_columns(dates) is None
    assert excel.cell_columns(pd.DataFrame({"d": [datetime.date(2026, 1, 1)]})) is None


def test_a_chart_of_the_same_arguments_is_drawn_once(monkeypatch: pytest.MonkeyPatch) -> None:
    groups = pd.DataFrame({"district": ["青浦区", "松江区"], "unit_cost": [12.2, 10.1]})
    drawn: list[int] = []
    real_png = charts.to_png

    def counting_png(fig) -> bytes:  # noqa: ANN001
        drawn.append(1)
        return real_png(fig)

    monkeypatch.setattr(charts, "to_png", counting_png)
    charts._MEMO.clear()
    first = charts.district_bars(groups, peer_median=11.0)
    assert charts.district_bars(groups.copy(), peer_median=11.0) is first
    assert len(drawn) == 1
    changed = groups.assign(unit_cost=[12.2, 10.2])
    assert charts.district_bars(changed, peer_median=11.0) != first
    charts.district_bars(groups, peer_median=11.5)  # another argument
    charts.district_bars(groups.astype({"unit_cost": "float32"}), peer_median=11.0)  # dtype
    assert len(drawn) == 4
    charts._MEMO.clear()


def test_unit_column_in_english_says_yuan() -> None:
    """Under --lang en a standard's unit reads as the terminal prints it (元/m2 ->
    yuan/m2, 元/人·天 -> yuan/person-day); a unit of the data (人·年) and blanks stay."""
    from costperf.report.formats import label_codes

    frame = pd.DataFrame({"unit": ["元/m2", "元/人·天", "人·年", None], "value": [1, 2, 3, 4]})
    shown = label_codes(frame, "en")["unit"].tolist()
    assert shown[:3] == ["yuan/m2", "yuan/person-day", "人·年"]
    assert pd.isna(shown[3])
    assert label_codes(frame, "zh")["unit"].tolist()[:2] == ["元/m2", "元/人·天"]
