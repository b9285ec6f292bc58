"""Tests for costperf.report.charts: texts from labels.csv, labels that fit the figure."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pandas as pd
import pytest

from costperf.columns import code_label_map
from costperf.report import charts

SOURCE = Path(__file__).resolve().parents[1] / "src" / "costperf"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")

# --- texts: labels.csv, messages chart.* -------------------------------------------------


def _text_literals(path: Path) -> list[str]:
    """The string constants of a module, its docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and id(node) not in docstrings
    ]  # fmt: skip


@pytest.mark.parametrize("module", ["report/charts.py", "report/optimize.py", "report/feedback.py"])
def test_chart_modules_hold_no_chinese_text(module: str) -> None:
    # every chart text is a labels.csv message; the feedback chart's grade names are data
    # codes (the evaluation policy's grades 优 良 中 差), not texts of the chart
    literals = [t for t in _text_literals(SOURCE / module) if t not in {"优", "良", "中", "差"}]
    assert [t for t in literals if CJK.search(t)] == []
    assert len(literals) > 10  # the check reads the module's strings


def test_the_chinese_text_check_can_fail(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('"""文档。"""\nTITLE = ("标题", "title")\n', encoding="utf-8")
    assert _text_literals(module) == ["标题", "title"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_chart_texts_are_the_labels_csv_messages(lang: str) -> None:
    templates = code_label_map("message", lang)
    districts = pd.DataFrame({"district": ["青浦区", "松江区"], "unit_cost": [12.2, 10.1]})
    fig = charts.district_bars.figure(
        districts, peer_median=11.7, standard_at_mix=pd.Series({"青浦区": 12.0, "松江区": 11.0}),
        output_unit="m2", lang=lang,
    )  # fmt: skip
    ax = fig.axes[0]
    assert ax.get_title() == templates["chart.district_title"]
    unit = "元/m²" if lang == "zh" else "yuan/m²"
    assert ax.get_ylabel() == templates["chart.unit_cost"].format(u="m2").replace("/m2", "/m²")
    assert unit in ax.get_ylabel()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [
        templates["chart.peer_median"].format(v=11.7),
        templates["chart.standard_mix"],
    ]
    assert set(charts.chart_titles(lang)) >= {templates["chart.district_title"]}


def test_chart_texts_read_as_before() -> None:
    # the texts moved from charts.py into labels.csv unchanged
    box = charts.unit_cost_box.figure(
        pd.DataFrame({"road_grade": ["一级"], "district": ["青浦区"], "unit_cost": [16.2]}),
        by="road_grade", dim_label="道路等级", output_unit="m2",
    )  # fmt: skip
    ax = box.axes[0]
    assert ax.get_title() == "各合同单位成本分布（按道路等级）"
    assert ax.get_ylabel() == "单位成本（元/m²）"
    en = charts.efficiency_bars.figure(
        pd.DataFrame({"project_id": ["a"], "efficiency": [0.9], "district": ["x"]}),
        id_column="project_id", score="efficiency", group="district", lang="en",
    )  # fmt: skip
    assert en.axes[0].get_ylabel() == "efficiency (DEA, 1 = frontier)"
    assert en.axes[0].get_title() == "Cost efficiency (DEA) per district"
