"""Tests for costperf.decompose.unit_costs, with hand-checked numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costperf.decompose.unit_costs import (
    check_units,
    cost_index,
    cost_shares,
    evaluate_drivers,
    group_cost_index,
    group_unit_costs,
    output_variables,
    project_costs,
    unit_table,
)
from costperf.errors import InputError
from costperf.schemas import COST_ELEMENTS


@pytest.fixture
def lines() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "project_id": ["A", "A", "A", "B", "B"],
            "cost_element": ["personnel", "materials", "personnel", "equipment", "tax"],
            "amount": [100.0, 50.0, 30.0, 20.0, 5.0],
        }
    )


@pytest.fixture
def projects() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "project_id": ["A", "B"],
            "district": ["青浦区", "松江区"],
            "road_grade": ["一级", "二级"],
            "cleaners": [2.0, 1.0],
            "source_row": [2, 3],
        }
    )


@pytest.fixture
def outputs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "project_id": ["A", "A", "B", "B"],
            "indicator": ["保洁面积", "日清扫频次", "保洁面积", "日清扫频次"],
            "target": [100.0, 2.0, 50.0, 1.0],
            "actual": [90.0, 2.0, np.nan, 1.0],  # B has no actual yet: its target is used
        }
    )


def test_project_costs(lines: pd.DataFrame) -> None:
    costs = project_costs(lines)
    assert list(costs.index) == ["A", "B"]
    assert list(costs.columns) == ["total_cost", *[f"cost_{e}" for e in COST_ELEMENTS]]
    assert costs.loc["A", ["total_cost", "cost_personnel", "cost_materials"]].tolist() == [
        180.0,
        130.0,
        50.0,
    ]
    assert costs.loc[
        "B", ["total_cost", "cost_equipment", "cost_tax", "cost_personnel"]
    ].tolist() == [25.0, 20.0, 5.0, 0.0]


def test_cost_shares(lines: pd.DataFrame) -> None:
    shares = cost_shares(project_costs(lines))
    assert shares.loc["A", "share_personnel"] == pytest.approx(130 / 180)
    assert shares.loc["B", "share_equipment"] == pytest.approx(0.8)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    zero = cost_shares(project_costs(lines.assign(amount=0.0)))
    assert zero.isna().all().all()  # no cost: shares undefined, not 0/0 = inf


def test_output_variables_fall_back(outputs: pd.DataFrame) -> None:
    actual = output_variables(outputs, {"area_m2": "保洁面积", "x": "没有的指标"})
    assert actual["area_m2"].tolist() == [90.0, 50.0]
    assert actual["x"].isna().all()
    target = output_variables(outputs, {"area_m2": "保洁面积"}, value="target")
    assert target["area_m2"].tolist() == [100.0, 50.0]


def test_output_variables_without_the_optional_target_column(outputs: pd.DataFrame) -> None:
    """A file with no target column (it is optional): the requests' outputs are the
    actual values, not a crash (found by the fuzz run: KeyError 'target')."""
    no_target = outputs.drop(columns="target")
    got = output_variables(no_target, {"area_m2": "保洁面积"}, value="target")
    want = output_variables(no_target, {"area_m2": "保洁面积"}, value="actual")
    pd.testing.assert_frame_equal(got, want)
    assert got["area_m2"].notna().any()
    blank = no_target.assign(actual=np.nan)
    assert output_variables(blank, {"area_m2": "保洁面积"}, value="target")["area_m2"].isna().all()


def test_unit_table(projects: pd.DataFrame, lines: pd.DataFrame, outputs: pd.DataFrame) -> None:
    table = unit_table(
        projects,
        lines,
        outputs,
        output_indicator="保洁面积",
        variables={"area_m2": "保洁面积", "sweeps_per_day": "日清扫频次"},
        drivers={
            "wage_per_cleaner": "cost_personnel / cleaners",
            "per_sweep": "unit_cost / sweeps_per_day",
        },
    )
    assert table["project_id"].tolist() == ["A", "B"]
    assert table["output_quantity"].tolist() == [90.0, 50.0]
    assert table["unit_cost"].tolist() == [2.0, 0.5]  # 180 / 90, 25 / 50
    assert table["wage_per_cleaner"].tolist() == [65.0, 0.0]
    assert table["per_sweep"].tolist() == [1.0, 0.5]
    assert projects.columns.tolist()[-1] == "source_row"  # inputs untouched
    by_target = unit_table(
        projects,
        lines,
        outputs,
        output_indicator="保洁面积",
        variables={},
        drivers={},
        output_value="target",
    )
    assert by_target["unit_cost"].tolist() == [1.8, 0.5]


def test_evaluate_drivers() -> None:
    table = pd.DataFrame({"a": [1.0, 2.0], "b": [0.0, 4.0]})
    out = evaluate_drivers(table, {"ratio": "a / b"})
    assert np.isnan(out["ratio"].iloc[0]) and out["ratio"].iloc[1] == 0.5  # x / 0 -> NaN
    assert "ratio" not in table
    with pytest.raises(
        InputError,
        match=r"driver 'r' = 'a / c' in \[drivers\] cannot be "
        r"evaluated.*numeric variables are: a, b",
    ):
        evaluate_drivers(table, {"r": "a / c"})
    with pytest.raises(InputError, match="driver 'r'"):
        evaluate_drivers(table, {"r": "a /"})


def test_check_units(projects: pd.DataFrame, lines: pd.DataFrame, outputs: pd.DataFrame) -> None:
    three = pd.concat(
        [projects, pd.DataFrame({"project_id": ["C"], "district": ["嘉定区"], "source_row": [4]})],
        ignore_index=True,
    )
    zero = outputs.assign(actual=[0.0, 2.0, 5.0, 1.0])
    table = unit_table(three, lines, zero, output_indicator="保洁面积", variables={}, drivers={})
    problems = check_units(table, output_indicator="保洁面积")
    assert problems[["source_row", "check"]].values.tolist() == [
        [4, "missing_output"],
        [2, "zero_output"],
    ]
    assert np.isnan(table.loc[0, "unit_cost"])  # never inf


def test_group_unit_costs_is_total_over_total() -> None:
    table = pd.DataFrame(
        {
            "project_id": list("ABC"),
            "district": ["X", "X", "Y"],
            "total_cost": [100.0, 300.0, 50.0],
            "output_quantity": [100.0, 100.0, 10.0],
            "unit_cost": [1.0, 3.0, 5.0],
        }
    )
    groups = group_unit_costs(table, ["district"]).set_index("district")
    assert groups.loc["X", "unit_cost"] == 2.0  # 400 / 200, not the mean of 1 and 3
    assert groups.loc["X", "median_unit_cost"] == 2.0
    assert groups["n"].tolist() == [2, 1]
    assert groups.loc["Y", "unit_cost"] == 5.0


def test_cost_index() -> None:
    table = pd.DataFrame(
        {
            "project_id": list("AB"),
            "district": ["X", "X"],
            "road_grade": ["一级", "二级"],
            "total_cost": [180.0, 25.0],
            "output_quantity": [90.0, 50.0],
        }
    )
    reference = pd.DataFrame({"road_grade": ["一级", "二级"], "mean": [1.5, 1.0]})
    index = cost_index(table, reference, dims=["road_grade"])
    np.testing.assert_allclose(index, [180 / 135 * 100, 50.0])
    grouped = group_cost_index(table, reference, dims=["road_grade"])
    assert grouped["cost_index"].iloc[0] == pytest.approx(205 / 185 * 100)
    # a grade without a reference has no index
    missing = cost_index(table.assign(road_grade=["一级", "五级"]), reference, dims=["road_grade"])
    assert np.isnan(missing.iloc[1])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from("ABC"), st.sampled_from(list(COST_ELEMENTS)), st.integers(0, 10_000_000)
        ),
        min_size=1,
        max_size=25,
    ),
    st.randoms(use_true_random=False),
)
def test_elements_sum_to_total_whatever_the_row_order(rows, rnd) -> None:
    lines = pd.DataFrame(rows, columns=["project_id", "cost_element", "fen"])
    lines["amount"] = lines.pop("fen") / 100.0
    costs = project_costs(lines)
    elements = costs.drop(columns="total_cost")
    np.testing.assert_allclose(elements.sum(axis=1), costs["total_cost"], rtol=1e-12)
    np.testing.assert_allclose(costs["total_cost"].sum(), lines["amount"].sum(), rtol=1e-12)
    order = list(range(len(lines)))
    rnd.shuffle(order)
    shuffled = project_costs(lines.iloc[order])
    pd.testing.assert_frame_equal(shuffled, costs, rtol=1e-12)


def test_check_units_points_at_the_outputs_cell(
    projects: pd.DataFrame, lines: pd.DataFrame, outputs: pd.DataFrame
) -> None:
    c = pd.DataFrame({"project_id": ["C"], "district": ["嘉定区"], "source_row": [4]})
    three = pd.concat([projects, c], ignore_index=True).assign(source_file="projects.csv", sheet="")
    three.attrs = {"source": ("projects.csv", ""), "headers": {"project_id": "项目编码"}}
    located = outputs.assign(
        actual=[0.0, 2.0, np.nan, 1.0],  # A: 0 delivered; B: blank actual, target 50 used
        target=[100.0, 2.0, 0.0, 1.0],  # B's target is 0 as well
        source_file="outputs.xlsx",
        sheet="产出",
        source_row=[3, 4, 5, 6],
    )
    located.attrs = {"source": ("outputs.xlsx", "产出"), "headers": {"actual": "指标值"}}
    table = unit_table(three, lines, located, output_indicator="保洁面积", variables={}, drivers={})
    problems = check_units(table, output_indicator="保洁面积")
    got = problems[["source_file", "sheet", "source_row", "column", "value", "check"]]
    assert got.values.tolist() == [
        ["projects.csv", "", 4, "项目编码", "C", "missing_output"],
        ["outputs.xlsx", "产出", 3, "指标值", "0", "zero_output"],
        ["outputs.xlsx", "产出", 5, "target", "0", "zero_output"],
    ]
    assert "project A" in problems["expected"].iloc[1]


def test_composite_output_is_the_weighted_sum(
    projects: pd.DataFrame, lines: pd.DataFrame, outputs: pd.DataFrame
) -> None:
    extra = pd.DataFrame(
        {"project_id": ["A"], "indicator": ["垃圾清运量"], "target": [5.0], "actual": [4.0]}
    )
    table = unit_table(
        projects,
        lines,
        pd.concat([outputs, extra], ignore_index=True),
        output_indicator="composite",
        output_weights={"保洁面积": 1.0, "垃圾清运量": 10.0},
        variables={"area_m2": "保洁面积"},
        drivers={},
    )
    # A: 90 m2 + 10 x 4 t = 130; B reports no waste: its component counts as 0 -> 50
    assert table["output_quantity"].tolist() == [130.0, 50.0]
    assert table["unit_cost"].tolist() == [180 / 130, 25 / 50]
    assert "output_part_2" not in table.columns and table["area_m2"].tolist() == [90.0, 50.0]
    none = unit_table(
        projects,
        lines,
        outputs,
        output_indicator="composite",
        output_weights={"垃圾清运量": 1.0, "清运车次": 2.0},
        variables={},
        drivers={},
    )
    assert none["output_quantity"].isna().all()  # reporting none of them is no output
    problems = check_units(none, output_indicator="composite")
    assert problems["check"].eq("missing_output").all() and len(problems) == 2
