"""Tests for costperf.report.charts: texts from labels.csv, labels that fit the figure."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import SANITATION, review_2027_args
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


# --- layout: every text inside the figure, decorations apart ----------------------------


def _outside_or_overlapping(fig) -> list[str]:  # noqa: ANN001 - a drawn matplotlib Figure
    """Texts of a drawn figure reaching out of it, and pairs of axis decorations (tick
    labels, axis labels, titles, suptitle, supxlabel) that overlap."""
    from matplotlib.text import Text

    renderer = fig.canvas.get_renderer()
    ticks, drawn = set(), []  # tick labels: only those of ticks inside the view are drawn
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            span = (high - low) * 1e-9
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                ticks.update({id(tick.label1), id(tick.label2)})
                if low - span <= tick.get_loc() <= high + span:
                    drawn += [tick.label1, tick.label2]
    texts = [t for t in fig.findobj(Text) if id(t) not in ticks] + drawn
    shown = [t for t in texts if t.get_visible() and t.get_text().strip()]
    problems = []
    for t in shown:
        box = t.get_window_extent(renderer)
        if box.x0 < 0 or box.y0 < 0 or box.x1 > fig.bbox.width or box.y1 > fig.bbox.height:
            problems.append(f"outside: {t.get_text()!r} {box.extents}")
    decorations = [ax.title for ax in fig.axes] + [fig._suptitle, fig._supxlabel]
    decorations += [axis.label for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)]
    decorations += [t for t in drawn if t.get_visible()]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in decorations
             if t is not None and t.get_visible() and t.get_text().strip()]  # fmt: skip
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1 :]:
            if box_a.overlaps(box_b):
                problems.append(f"overlap: {a!r} {b!r}")
    return problems


@pytest.fixture(scope="module")
def long_labels() -> dict:
    names = ["青浦区新城环卫所", "松江区", "嘉定区南翔镇", "金山区", "奉贤区海湾旅游区"]
    units = pd.DataFrame({
        "project_id": [f"HW-QP-2025-{i:03d}" for i in range(20)],
        "district": [names[i % 5] for i in range(20)],
        "road_grade": [["一级", "二级", "三级", "四级"][i % 4] for i in range(20)],
        "unit_cost": [8.0 + (i * 7 % 13) for i in range(20)],
        "expected_unit_cost": [8.5 + (i * 5 % 11) for i in range(20)],
        "efficiency": [0.6 + (i * 3 % 8) / 20 for i in range(20)],
    })  # fmt: skip
    gaps = pd.DataFrame({
        "district": [d for d in names for _ in range(3)],
        "driver": ["非人工成本系数（总成本/人工成本）", "人员配置强度（人/万m2·次）", "residual"] * 5,
        "effect": [0.4, -0.2, 0.05] * 5,
        "reference_value": [12.0] * 15,
    })  # fmt: skip
    return {"units": units, "gaps": gaps, "names": names}


def _figures(frames: dict, lang: str) -> dict:
    from costperf.report.optimize import before_after_chart

    units, gaps = frames["units"], frames["gaps"]
    districts = units.groupby("district", as_index=False)["unit_cost"].mean()
    standard = pd.DataFrame(
        {"road_grade": ["一级", "二级", "三级", "四级"], "value": [16, 12, 11, 8]}
    )
    plan = pd.DataFrame({
        "label": [f"{p} 一线保洁员（含机扫驾驶员）" for p in units["project_id"]],
        "current_cost": units["unit_cost"] * 1e6, "proposed_cost": units["unit_cost"] * 9e5,
    })  # fmt: skip
    cuts = pd.DataFrame({
        "group": frames["names"], "approved": [1e7, 2e6, 3e6, 4e5, 5e6],
        "cut": [1e6, 2e5, 0.0, 4e4, 5e5], "cut_rate": [0.09, 0.09, 0.0, 0.09, 0.09],
    })  # fmt: skip
    return {
        "box": charts.unit_cost_box.figure(
            units, by="road_grade", standard=standard, dim_label="道路等级", lang=lang),
        "bars": charts.district_bars.figure(districts, peer_median=11.7, lang=lang),
        "waterfall": charts.waterfall.figure(
            12.0, gaps.iloc[:3].set_index("driver")["effect"], unit_name="青浦区",
            value_label="单位成本（元/m2）", lang=lang),
        "panel": charts.waterfall_panel.figure(gaps, lang=lang),
        "efficiency": charts.efficiency_bars.figure(
            units, id_column="project_id", score="efficiency", group="district", lang=lang),
        "frontier": charts.frontier_scatter.figure(
            units, input_total=units["unit_cost"] * 1e6, output=units["unit_cost"] * 1e5,
            input_label="人员成本合计 + 设备成本 + 材料成本（元）",
            output_label="日保洁作业面积（m2·次）", lang=lang),
        "expected": charts.expected_scatter.figure(
            units, actual="unit_cost", expected="expected_unit_cost", group="district",
            lang=lang),
        "optimiser": before_after_chart.figure(plan, lang=lang),
        "cuts": charts.cut_bars.figure(cuts, label="预算部门", title="各部门核减", lang=lang),
        "rates": charts.rate_histogram.figure(
            pd.Series([0.1, 0.2, 0.5]), title="核减率分布", lang=lang),
    }  # fmt: skip


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_chart_text_fits_inside_the_figure(long_labels: dict, lang: str) -> None:
    for name, fig in _figures(long_labels, lang).items():
        assert fig.get_layout_engine() is None  # placed by charts.fit, drawn once
        png = charts.to_png(fig)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert _outside_or_overlapping(fig) == [], name


def test_a_character_the_font_lacks_draws_without_a_warning() -> None:
    """An emoji in a district name: an empty box in the PNG, nothing on stderr from the
    program; the chart tests' own draws still warn (test_report_pages fails on it)."""
    import warnings

    from costperf.report.fonts import missing_glyphs_quiet

    def draw(title: str) -> bytes:
        fig = charts.new_figure(3.0, 2.0)
        fig.add_subplot().set_title(title)
        return charts.to_png(fig)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with missing_glyphs_quiet():
            png = draw("青浦区\U0001f600")
            plain = draw("青浦区")
        assert [str(w.message) for w in caught] == []
        draw("青浦区\U0001f600")  # outside: matplotlib warns, so the filter is needed
        assert [w for w in caught if "missing from font" in str(w.message)]
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png != plain


def test_the_fit_check_can_fail() -> None:
    fig = charts.new_figure(4.0, 3.0)
    ax = fig.add_subplot()
    ax.set_ylabel("一个很长很长的纵轴标题" * 3)
    ax.set_yticks([0, 1], ["很长的刻度标签一", "很长的刻度标签二"])
    fig.canvas.draw()  # matplotlib's default margins, not fitted
    problems = _outside_or_overlapping(fig)
    assert any(p.startswith("outside") for p in problems)
    charts.fit(fig)
    fig.canvas.draw()
    assert [p for p in problems if "刻度" in p]
    assert not [p for p in _outside_or_overlapping(fig) if "刻度" in p]


def test_the_png_is_the_drawn_figure_without_its_opaque_alpha() -> None:
    import io

    import numpy as np
    from PIL import Image

    fig = charts.district_bars.figure(
        pd.DataFrame({"district": ["青浦区", "松江区"], "unit_cost": [12.2, 10.1]})
    )
    png = charts.to_png(fig)
    rgba = np.asarray(fig.canvas.buffer_rgba())
    assert (rgba[..., 3] == 255).all()  # the figure is opaque: nothing lost with alpha
    image = Image.open(io.BytesIO(png))
    assert image.mode == "RGB"
    assert image.size == (round(8 * charts.DPI * 7.5 / 8), round(4.2 * charts.DPI))
    assert np.array_equal(np.asarray(image), rgba[..., :3])


def test_a_worker_process_draws_the_same_reports(tmp_path, good_run, reviewed) -> None:
    """The program itself draws its charts in a worker process (report.background): the
    case's report.html and the batch's summary.html are byte for byte the ones drawn in
    process (the shared in-process run and review). The case's charts are sent while
    its last steps run, and found sent when the report is written; the worker solves the
    case's savings plan beside the derivation (and draws its chart next), and its files
    are the in-process ones."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: the program draws its charts in process")
    out, batch = tmp_path / "out", tmp_path / "batch"
    review = review_2027_args(batch, tmp_path / "r.sqlite")
    code = (
        "import contextlib, io\n"
        "from costperf.report import background\n"
        "sent = []\n"
        "submit = background.submit\n"
        "def counted(*args):\n"
        "    pending = submit(*args)\n"
        "    sent.append(pending is not None)\n"
        "    return pending\n"
        "background.submit = counted\n"
        "found = []\n"
        "sent_before = background.sent\n"
        "def looked_up(key):\n"
        "    pending = sent_before(key)\n"
        "    found.append(pending is not None)\n"
        "    return pending\n"
        "background.sent = looked_up\n"
        "calls = []\n"
        "submit_call = background.submit_call\n"
        "def called(func, *args, **kwargs):\n"
        "    pending = submit_call(func, *args, **kwargs)\n"
        "    calls.append(func.__name__ if pending is not None else '-')\n"
        "    return pending\n"
        "background.submit_call = called\n"
        "background.allow()\n"
        "from costperf.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main(['run', {str(SANITATION)!r}, '--out', {str(out)!r}, '--no-records'])\n"
        f"    code += main({review!r})\n"
        "print(code, len(sent), all(sent), sum(found), ','.join(calls) or '-')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    status, sent, all_sent, early, calls = proc.stdout.split()
    assert status == "0" and int(sent) >= 8 and all_sent == "True", proc.stdout
    # the case's charts were sent before the outputs, and the plan's drawn with the plan
    assert int(early) >= 6, proc.stdout
    assert calls == "solve_plan,plan_chart", proc.stdout  # the worker solved the plan
    _assert_same_bytes(out / "report.html", good_run["out"] / "report.html", proc.stderr)
    plan_files = sorted((good_run["out"] / "optimize").glob("*.csv"))
    assert plan_files
    for path in plan_files:  # its plan: the same files
        _assert_same_bytes(out / "optimize" / path.name, path, proc.stderr)
    # the same but for the batch id (each run its own store) printed on the page
    ids = [
        json.loads((d / "summary.json").read_text())["batch_id"] for d in (batch, reviewed["out"])
    ]
    _assert_same_bytes(
        batch / "summary.html", reviewed["out"] / "summary.html", proc.stderr, ids=ids
    )


def _assert_same_bytes(got: Path, want: Path, stderr: str, ids: list[str] | None = None) -> None:
    """Byte-for-byte equal, or a failure naming the first difference (seen flaky once);
    ``ids``: a batch id in ``got`` read as the other in ``want``."""
    a, b = got.read_bytes(), want.read_bytes()
    if ids:
        assert a.count(ids[0].encode()) == 1
        a = a.replace(ids[0].encode(), ids[1].encode())
    if a == b:
        return
    at = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    pytest.fail(
        f"{got.name}: {len(a)} vs {len(b)} bytes, first difference at {at}:\n"
        f"  got  {a[max(0, at - 80) : at + 120]!r}\n  want {b[max(0, at - 80) : at + 120]!r}\n"
        f"stderr: {stderr[-1500:]}"
    )
