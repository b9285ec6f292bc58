"""Tests for costperf.review.unit_cost: requests against a unit-cost standard, line by line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costperf.review import (
    LINE_COLUMNS,
    PROJECT_COLUMNS,
    allocate_cut,
    review_lines,
    review_projects,
    review_totals,
    variable_adjustment,
)

STANDARD = pd.DataFrame(
    {
        "road_grade": ["一级", "二级"],
        "standard_id": ["HW-UC", "HW-UC"],
        "version": ["2026.1", "2026.1"],
        "value": [10.0, 8.0],
    }
)


def requests() -> pd.DataFrame:
    # P1 within (900 <= 10 x 100), P2 above (1,000 > 8 x 100 = 800), P3 no target,
    # P4 a grade without a standard
    return pd.DataFrame(
        {
            "project_id": ["P1", "P2", "P3", "P4"],
            "project_name": ["一", "二", "三", "四"],
            "district": ["青浦区", "松江区", "嘉定区", "金山区"],
            "road_grade": ["一级", "二级", "一级", "五级"],
            "total_cost": [900.0, 1000.0, 500.0, 300.0],
            "output_quantity": [100.0, 100.0, np.nan, 10.0],
        }
    )


def test_review_projects_decisions() -> None:
    out = review_projects(requests(), STANDARD, dims=["road_grade"], output_unit="m2")
    assert list(out.columns) == PROJECT_COLUMNS
    out = out.set_index("project_id")
    assert out["decision"].tolist() == ["approve", "reduce", "reject", "approve"]
    assert out["decision_zh"].tolist() == ["通过", "核减", "不予安排", "通过"]
    assert out["rule"].tolist() == [
        "within_standard",
        "unit_cost_cap",
        "no_output_target",
        "no_standard",
    ]
    assert out["approved"].tolist() == [900.0, 800.0, 0.0, 300.0]
    assert out["cut"].tolist() == [0.0, 200.0, 500.0, 0.0]
    assert out.loc["P2", "cut_rate"] == pytest.approx(0.2)
    assert out.loc["P2", "standard_id"] == "HW-UC" and out.loc["P2", "standard_version"] == "2026.1"
    assert pd.isna(out.loc["P3", "standard_id"]) and pd.isna(out.loc["P4", "standard_id"])
    assert (
        "HW-UC@2026.1" in out.loc["P2", "reason_zh"]
        and "核减 200.00 元" in out.loc["P2", "reason_zh"]
    )
    assert "cut 200.00 yuan" in out.loc["P2", "reason_en"]
    assert "未填报产出目标" in out.loc["P3", "reason_zh"]
    assert "五级无适用单位成本标准" in out.loc["P4", "reason_zh"]


def test_tolerance() -> None:
    out = review_projects(requests(), STANDARD, dims=["road_grade"], tolerance=0.25)
    assert out.set_index("project_id").loc["P2", "approved"] == 1000.0  # 8 x 100 x 1.25
    out = review_projects(requests(), STANDARD, dims=["road_grade"], tolerance=0.1)
    assert out.set_index("project_id").loc["P2", "approved"] == 880.0


def adjusted(text: pd.Series | pd.DataFrame) -> pd.DataFrame:
    """The requests with P2 buying 1.2x its grade's norm, P1 without a factor."""
    return review_projects(
        requests(),
        STANDARD,
        dims=["road_grade"],
        output_unit="m2",
        adjustment=pd.Series([np.nan, 1.2, 1.0, 1.0]),
        adjustment_text=text,
    ).set_index("project_id")


def test_adjustment_scales_the_standard() -> None:
    # P2 buys 1.2x its grade's norm: cap 8 x 100 x 1.2 = 960; P1 has no factor (NaN -> 1)
    out = adjusted(pd.Series(["", "sweeps 2.4 / 2", "", ""]))
    assert out["adjustment"].tolist() == [1.0, 1.2, 1.0, 1.0]
    assert out.loc["P2", "approved"] == 960.0 and out.loc["P2", "cut"] == 40.0
    assert "调整系数 1.2（sweeps 2.4 / 2）" in out.loc["P2", "reason_zh"]
    assert out.loc["P1", "approved"] == 900.0 and "调整系数" not in out.loc["P1", "reason_zh"]


def test_adjustment_text_in_each_language() -> None:
    peers = pd.DataFrame({"road_grade": ["一级", "一级", "二级"], "sweeps": [2.0, 4.0, 1.0]})
    mine = pd.DataFrame({"road_grade": ["一级", "二级", "一级"], "sweeps": [6.0, np.nan, 3.0]})
    label = {"zh": "日清扫频次", "en": "Sweeps per day"}
    factor, texts = variable_adjustment(mine, peers, ["road_grade"], "sweeps", label=label)
    assert factor.tolist()[0::2] == [2.0, 1.0] and np.isnan(factor[1])
    assert texts["zh"].tolist() == [
        "日清扫频次 6 ÷ 同类中位数 3",
        "",
        "日清扫频次 3 ÷ 同类中位数 3",
    ]
    assert texts["en"].tolist() == [
        "Sweeps per day 6 ÷ peer median 3",
        "",
        "Sweeps per day 3 ÷ peer median 3",
    ]
    _, texts = variable_adjustment(mine, peers, ["road_grade"], "sweeps", elasticity=0.5)
    assert texts.loc[0].tolist() == ["sweeps 6 ÷ 同类中位数 3^0.5", "sweeps 6 ÷ peer median 3^0.5"]
    out = adjusted(
        pd.DataFrame({"zh": ["", "频次 2.4 ÷ 2", "", ""], "en": ["", "sweeps 2.4 ÷ 2", "", ""]})
    )
    assert "调整系数 1.2（频次 2.4 ÷ 2）" in out.loc["P2", "reason_zh"]
    assert "x adjustment 1.2 (sweeps 2.4 ÷ 2)" in out.loc["P2", "reason_en"]


def test_allocate_cut_is_exact_to_the_fen() -> None:
    amounts = pd.Series([100.00, 100.00, 100.01, 50.0, 0.0])
    groups = pd.Series(["A", "A", "A", "B", "B"])
    approved = allocate_cut(amounts, groups, pd.Series({"A": 200.00, "B": 50.0}))
    assert approved.groupby(groups).sum().round(2).tolist() == [200.00, 50.0]
    assert approved.tolist()[3:] == [50.0, 0.0]
    # 200 / 300.01 of each line: 66.6644, 66.6644, 66.6711 -> 66.66 + 66.66 + 66.67 = 199.99;
    # the missing fen goes to the share rounding down cut most (0.44 fen; of the two equal
    # lines the first)
    assert approved.tolist()[:3] == [66.67, 66.66, 66.67]


def test_allocate_cut_gives_the_missing_fen_by_largest_remainder() -> None:
    # 10 equal lines of 0.10 scaled to 0.95: each share is 0.095; five lines get 0.10 and
    # five 0.09 (not one line 0.14), whatever the row order; ties go by line number
    amounts = pd.Series([0.10] * 10)
    groups = pd.Series(["A"] * 10)
    order = pd.Series([10, 9, 8, 7, 6, 5, 4, 3, 2, 1])
    approved = allocate_cut(amounts, groups, pd.Series({"A": 0.95}), order=order)
    assert approved.tolist() == [0.09] * 5 + [0.10] * 5
    # a group of nothing to scale gets nothing; a group with no approved total neither
    approved = allocate_cut(pd.Series([0.0, 5.0]), pd.Series(["Z", "Q"]), pd.Series({"Z": 10.0}))
    assert approved.tolist() == [0.0, 0.0]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 10_000_000), st.sampled_from("ABC"), st.integers(1, 30)),
        min_size=1,
        max_size=25,
    ),
    st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3),
)
def test_allocate_cut_sums_exactly_and_each_line_is_within_a_fen(rows, scales) -> None:
    amounts = pd.Series([fen / 100 for fen, _, _ in rows])
    groups = pd.Series([g for _, g, _ in rows])
    order = pd.Series([o * 100 + i for i, (_, _, o) in enumerate(rows)])  # no two alike
    total = amounts.groupby(groups).sum()
    cap = (total * pd.Series(scales[: len(total)], index=total.index)).round(2)
    approved = allocate_cut(amounts, groups, cap, order=order)
    got = approved.groupby(groups).sum().round(2)
    reachable = total > 0
    assert (got[reachable] == cap[reachable]).all()
    exact = amounts * groups.map(cap / total.where(reachable)).fillna(0.0)
    assert ((approved - exact).abs() < 0.01 + 1e-9).all()
    assert (approved <= amounts + 1e-9).all() and (approved >= 0).all()
    # the row order does not matter
    flipped = allocate_cut(amounts[::-1], groups[::-1], cap, order=order[::-1])
    assert flipped.sort_index().tolist() == approved.tolist()


def test_review_lines_carry_the_decision_down() -> None:
    lines = pd.DataFrame(
        {
            "project_id": ["P1", "P2", "P2", "P2", "P3"],
            "line_no": [1, 1, 2, 3, 1],
            "cost_element": ["personnel", "personnel", "equipment", "tax", "personnel"],
            "item": ["保洁员", "保洁员", "洗扫车", "税金", "保洁员"],
            "amount": [900.0, 600.0, 333.33, 66.67, 500.0],
            "source_file": "request_lines.csv",
            "source_row": [2, 3, 4, 5, 6],
        }
    )
    decided = review_projects(requests().iloc[:3], STANDARD, dims=["road_grade"])
    out = review_lines(lines, decided)
    assert list(out.columns) == LINE_COLUMNS
    assert out["approved"].tolist() == [900.0, 480.0, 266.66, 53.34, 0.0]
    np.testing.assert_allclose(out["approved"] + out["cut"], out["requested"])
    assert out["decision"].tolist() == ["approve", "reduce", "reduce", "reduce", "reject"]
    assert out["rule"].tolist()[1] == "unit_cost_cap"
    assert out["reason_zh"].iloc[1].endswith("本行按金额比例分摊核减")
    assert out["source_row"].tolist() == [2, 3, 4, 5, 6]
    per_project = out.groupby("project_id")["approved"].sum().round(2)
    assert per_project.tolist() == decided.set_index("project_id")["approved"].tolist()


def test_review_totals() -> None:
    totals = review_totals(review_projects(requests(), STANDARD, dims=["road_grade"]))
    assert totals == {
        "requests": 4,
        "requested": 2700.0,
        "approved": 2000.0,
        "cut": 700.0,
        "cut_rate": pytest.approx(700 / 2700),
        "n_approve": 2,
        "n_reduce": 1,
        "n_reject": 1,
    }


# --- properties ------------------------------------------------------------------------

fen = st.integers(min_value=0, max_value=50_000_000)  # amounts in fen, up to 500,000 yuan


@st.composite
def batches(draw, *, distinct: bool = False):
    n_projects = draw(st.integers(1, 6))
    projects = []
    lines = []
    for p in range(n_projects):
        pid = f"P{p}"
        amounts = draw(st.lists(fen, min_size=1, max_size=6, unique=distinct))
        lines += [(pid, k + 1, a / 100.0) for k, a in enumerate(amounts)]
        output = draw(st.one_of(st.just(np.nan), st.integers(0, 500_000).map(float)))
        projects.append((pid, draw(st.sampled_from(["一级", "二级", "三级"])), output))
    units = pd.DataFrame(projects, columns=["project_id", "road_grade", "output_quantity"])
    line_items = pd.DataFrame(lines, columns=["project_id", "line_no", "amount"])
    line_items["cost_element"] = "personnel"
    units["total_cost"] = units["project_id"].map(line_items.groupby("project_id")["amount"].sum())
    return units, line_items, draw(st.randoms(use_true_random=False))


def _review(
    units: pd.DataFrame, line_items: pd.DataFrame, tolerance: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    decided = review_projects(units, STANDARD, dims=["road_grade"], tolerance=tolerance)
    return decided, review_lines(line_items, decided)


@settings(max_examples=60, deadline=None)
@given(batches(), st.sampled_from([0.0, 0.05]))
def test_review_invariants(batch, tolerance: float) -> None:
    units, line_items, _ = batch
    decided, lines = _review(units, line_items, tolerance)
    assert (decided["approved"] <= decided["requested"] + 1e-9).all()
    assert (decided["approved"] >= 0).all()
    np.testing.assert_allclose(
        decided["approved"] + decided["cut"], decided["requested"], atol=0.005
    )
    # lines: approved + cut = requested, and each project's lines sum to its approved total
    np.testing.assert_allclose(lines["approved"] + lines["cut"], lines["requested"], atol=0.005)
    assert (lines["approved"] >= 0).all()
    assert (lines["approved"] <= lines["requested"] + 1e-9).all()
    per_project = lines.groupby("project_id")["approved"].sum()
    expected = decided.set_index("project_id")["approved"]
    assert (per_project.round(2) == expected.loc[per_project.index].round(2)).all()
    fen_values = lines["approved"] * 100
    np.testing.assert_allclose(fen_values, fen_values.round(), atol=1e-6)


@settings(max_examples=50, deadline=None)
@given(batches(distinct=True))  # equal amounts: see test_tied_lines_do_not_depend_on_order
def test_review_does_not_depend_on_row_order(batch) -> None:
    units, line_items, rnd = batch
    decided, lines = _review(units, line_items, 0.0)
    unit_order = list(range(len(units)))
    line_order = list(range(len(line_items)))
    rnd.shuffle(unit_order)
    rnd.shuffle(line_order)
    decided2, lines2 = _review(units.iloc[unit_order], line_items.iloc[line_order], 0.0)
    pd.testing.assert_frame_equal(
        decided2.set_index("project_id").loc[decided["project_id"]], decided.set_index("project_id")
    )
    key = ["project_id", "line_no"]
    pd.testing.assert_frame_equal(
        lines2.sort_values(key).reset_index(drop=True)[["approved", "cut", "decision"]],
        lines.sort_values(key).reset_index(drop=True)[["approved", "cut", "decision"]],
    )


def test_tied_lines_do_not_depend_on_order() -> None:
    lines = pd.DataFrame(
        {
            "project_id": ["P2"] * 3,
            "line_no": [1, 2, 3],
            "cost_element": "personnel",
            "amount": [300.0, 300.0, 300.0],
        }
    )
    decided = pd.DataFrame(
        {
            "project_id": ["P2"],
            "approved": [800.0],
            "rule": ["r"],
            "standard_id": ["S"],
            "standard_version": ["1"],
            "reason_zh": [""],
            "reason_en": [""],
        }
    )
    first = review_lines(lines, decided).set_index("line_no")["approved"]
    second = review_lines(lines.iloc[[2, 0, 1]], decided).set_index("line_no")["approved"]
    assert first.sum() == pytest.approx(800.0)
    assert second.loc[first.index].tolist() == first.tolist()
