"""Tests for costperf.validate: cross-table checks on loaded inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from costperf.validate import (
    check_amounts,
    check_dimension_values,
    check_inputs,
    check_known_projects,
    check_known_standards,
    check_projects_have_lines,
    normalise_cost_elements,
    normalise_output_categories,
)


def located(
    frame: pd.DataFrame, source: str, headers: dict[str, str] | None = None
) -> pd.DataFrame:
    out = frame.copy()
    out["source_file"] = source
    out["sheet"] = ""
    out["source_row"] = range(2, len(out) + 2)
    out.attrs = {"source": (source, ""), "headers": headers or {}}
    return out


LINE_HEADERS = {
    "project_id": "项目编码",
    "amount": "金额",
    "cost_element": "成本要素",
    "standard_id": "适用标准",
}


@pytest.fixture
def projects() -> pd.DataFrame:
    return located(
        pd.DataFrame({"project_id": ["A", "B"], "district": ["青浦区", "松江区"]}),
        "projects.csv",
        {"project_id": "项目编码"},
    )


@pytest.fixture
def lines() -> pd.DataFrame:
    return located(
        pd.DataFrame(
            {
                "project_id": ["A", "A", "B", "B"],
                "cost_element": ["personnel", "materials", "equipment", "tax"],
                "quantity": [2.0, 3.0, np.nan, 1.0],
                "unit_price": [100.0, 0.333, 50.0, 10.0],
                "amount": [200.0, 1.0, 50.0, 10.0],
            }
        ),
        "lines.csv",
        LINE_HEADERS,
    )


def test_check_amounts_within_tolerance(lines: pd.DataFrame) -> None:
    # 3 x 0.333 = 0.999 is within 1 yuan of 1.00; the line without a quantity is skipped
    assert check_amounts(lines).empty


def test_check_amounts_flags_a_typo(lines: pd.DataFrame) -> None:
    bad = lines.assign(amount=[2000.0, 1.0, 50.0, 10.0])
    problems = check_amounts(bad)
    assert problems[["source_file", "source_row", "column", "check"]].values.tolist() == [
        ["lines.csv", 2, "金额", "amount_mismatch"]
    ]
    assert problems.loc[0, "expected"] == "quantity x unit_price = 200.00 (within 10.00)"
    assert problems.loc[0, "value"] == "2000.0"


def test_check_amounts_relative_tolerance() -> None:
    lines = located(
        pd.DataFrame(
            {"quantity": [1.0, 1.0], "unit_price": [1e6, 1e6], "amount": [1_004_000.0, 1_006_000.0]}
        ),
        "l.csv",
    )
    assert check_amounts(lines)["source_row"].tolist() == [3]  # 0.5 % of 1,006,000 = 5,030
    assert check_amounts(lines, rel_tol=0.01).empty
    assert check_amounts(lines.drop(columns="quantity")).empty


def test_check_known_projects(lines: pd.DataFrame, projects: pd.DataFrame) -> None:
    bad = lines.assign(project_id=["A", "Z", "B", None])
    problems = check_known_projects(bad, projects)
    assert problems[["source_row", "column", "value", "check"]].values.tolist() == [
        [3, "项目编码", "Z", "unknown_project"]
    ]
    assert "listed in the projects table (e.g. A, B)" in problems.loc[0, "expected"]


def test_check_projects_have_lines(lines: pd.DataFrame, projects: pd.DataFrame) -> None:
    assert check_projects_have_lines(projects, lines).empty
    problems = check_projects_have_lines(projects, lines[lines["project_id"] == "A"])
    assert problems[["source_file", "source_row", "value"]].values.tolist() == [
        ["projects.csv", 3, "B"]
    ]


def test_normalise_cost_elements(lines: pd.DataFrame) -> None:
    written = lines.assign(cost_element=["人员", " Materials ", "机械费", "招待费"])
    out, problems = normalise_cost_elements(written)
    assert out["cost_element"].tolist() == ["personnel", "materials", "equipment", "招待费"]
    assert problems[["source_row", "column", "value", "check"]].values.tolist() == [
        [5, "成本要素", "招待费", "unknown_cost_element"]
    ]
    assert "personnel 人员" in problems.loc[0, "expected"]
    assert written["cost_element"].tolist()[0] == "人员"  # the input is not changed


def test_normalise_output_categories() -> None:
    """A case's outputs: 指标类别 in Chinese, as a code or blank; anything else located."""
    outputs = pd.DataFrame(
        {
            "project_id": ["A", "A", "B", "B", "B"],
            "category": ["产出-数量", "output_quality", "满意度指标", None, "output_amount"],
            "source_file": "outputs.csv",
            "source_row": [2, 3, 4, 5, 6],
        }
    )
    out, problems = normalise_output_categories(outputs)
    assert out["category"].tolist()[:3] == ["output_quantity", "output_quality", "satisfaction"]
    assert pd.isna(out["category"].iloc[3]) and out["category"].iloc[4] == "output_amount"
    assert problems[["source_row", "column", "value", "check"]].values.tolist() == [
        [6, "category", "output_amount", "unknown_category"]
    ]
    assert problems.loc[0, "expected"].startswith("one of: 产出-数量、产出-质量")


def test_check_known_standards(lines: pd.DataFrame) -> None:
    named = lines.assign(standard_id=["HW-UC", None, "XX-1", "HW-UC"])
    problems = check_known_standards(named, {"HW-UC"})
    assert problems[["source_row", "column", "value", "check"]].values.tolist() == [
        [4, "适用标准", "XX-1", "unknown_standard"]
    ]
    assert check_known_standards(lines, {"HW-UC"}).empty  # no 适用标准 column


def test_check_inputs_collects_everything(lines: pd.DataFrame, projects: pd.DataFrame) -> None:
    outputs = located(
        pd.DataFrame(
            {"project_id": ["A", "Q"], "indicator": ["面积", "面积"], "actual": [1.0, 2.0]}
        ),
        "outputs.csv",
    )
    bad = lines.assign(amount=[2000.0, 1.0, 50.0, 10.0], standard_id=["X", None, None, None])
    problems = check_inputs(projects, bad, outputs)
    assert sorted(problems["check"]) == ["amount_mismatch", "unknown_project"]
    problems = check_inputs(projects, bad, outputs, standards=["HW-UC"])
    assert sorted(problems["check"]) == ["amount_mismatch", "unknown_project", "unknown_standard"]
    assert check_inputs(projects, lines, outputs.iloc[:1]).empty


def test_check_dimension_values_locates_blank_cells() -> None:
    projects = located(
        pd.DataFrame(
            {
                "project_id": ["A", "B", "C", "D"],
                "road_grade": ["一级", None, "  ", "二级"],
                "district": ["青浦区", "松江区", "", "闵行区"],
            }
        ),
        "projects.csv",
        {"project_id": "项目编码", "road_grade": "道路等级"},
    )
    found = check_dimension_values(projects, ["road_grade", "not_a_column"])
    assert found[["source_file", "source_row", "column", "check"]].values.tolist() == [
        ["projects.csv", 3, "道路等级", "missing_dimension"],
        ["projects.csv", 4, "道路等级", "missing_dimension"],
    ]
    assert (found["severity"] == "error").all()
    assert "[units] dimension" in found["expected"].iloc[0]
    assert check_dimension_values(projects, []).empty
    assert check_dimension_values(projects.iloc[[0, 3]], ["road_grade"]).empty
