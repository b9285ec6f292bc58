"""Batch review of request books (issue 9): each registered rule on tiny hand-checked books.

The worked case (cases/requests-2027) is checked in tests/test_case_requests_2027.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CASES
from costperf.errors import InputError, raise_if_problems
from costperf.review.batch.book import RequestBook, book_from_requests, check_book
from costperf.review.batch.checks import flag_duplicates
from costperf.review.batch.engine import batch_context, review_book
from costperf.review.batch.routing import econ_kinds, route_lines, routing_table
from costperf.review.registry import LEVELS, review_rules
from costperf.schemas import BOOK_LINES, BOOK_PROJECTS, BOOK_TARGETS, REQUESTS

ON = "2027-03-01"
CASE_STANDARDS = CASES / "requests-2027" / "standards"


def make_book(projects: list[dict], lines: list[dict], targets: list[dict] | None = None):
    frames = []
    for schema, rows in (
        (BOOK_PROJECTS, projects),
        (BOOK_LINES, lines),
        (BOOK_TARGETS, targets or []),
    ):
        raw = pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(schema.required))
        typed, problems = schema.validate(raw)
        raise_if_problems(problems, schema.name)
        frames.append(typed)
    book = RequestBook(*frames, has_targets=targets is not None)
    book, problems = check_book(book)
    raise_if_problems(problems, "the book")
    return book


def targets_for(*ids: str, area: float | None = None) -> list[dict]:
    rows = []
    for pid in ids:
        rows.append(
            {
                "project_id": pid,
                "category": "产出-数量",
                "indicator": "保洁面积" if area else "人次",
                "unit": "m2" if area else "人次",
                "target": area or 10,
            }
        )
    return rows


@pytest.fixture(scope="module")
def case_standards():
    from costperf.commands.review import read_standard_folders

    return read_standard_folders([CASE_STANDARDS])


# ---- the registry ------------------------------------------------------------------------


def test_every_level_has_its_rules_in_order() -> None:
    levels = {name: rule.level for name, rule in review_rules().items()}
    assert set(levels.values()) == set(LEVELS)
    assert [n for n, lv in levels.items() if lv == "project"] == [
        "unit_cost",
        "target_gate",
        "no_lines",
    ]
    assert {n for n, lv in levels.items() if lv == "check"} == {
        "no_standard",
        "duplicates",
        "standard_mismatch",
    }
    assert review_rules("line")["travel"].open_dims == ("city",)


def test_routing_table_agrees_with_the_tables_scope_codes() -> None:
    """The routing data routes each code to the rule reading the tables scoped to it."""
    from costperf.standards import shipped_standards

    kinds = econ_kinds()
    tables = shipped_standards().tables
    rules = review_rules("line")
    for code, kind in kinds.items():
        scoped = tables[tables["scope_econ_codes"].str.split("|").map(lambda c, x=code: x in c)]
        assert set(scoped["table_id"]) & set(rules[kind].tables.values()), code
    assert routing_table().loc[lambda t: t["econ_code"] == "30227", "expense_kind"].item() == ""


def test_route_by_standard_id_then_kind_then_econ_code() -> None:
    book = make_book(
        [{"project_id": "P", "department": "D"}],
        [
            {
                "project_id": "P",
                "line_no": 1,
                "standard_id": "travel-lodging/北京/厅局级/lodging",
                "expense_kind": "会议",
                "econ_code": "30216",
                "requested": 1,
            },
            {
                "project_id": "P",
                "line_no": 2,
                "expense_kind": "会议",
                "econ_code": "30216",
                "requested": 1,
            },
            {"project_id": "P", "line_no": 3, "econ_code": "30216", "requested": 1},
            {"project_id": "P", "line_no": 4, "econ_code": "30227", "requested": 1},
            {"project_id": "P", "line_no": 5, "standard_id": "hw-uc", "requested": 1},
        ],
    )
    from costperf.commands.review import read_standard_folders

    context = batch_context(book, read_standard_folders([CASE_STANDARDS]), on=ON)
    routes, problems = route_lines(book.lines, book.projects, context)
    assert problems.empty
    assert routes["rule"].tolist() == ["travel", "meeting", "training", "", "unit_cost"]
    assert routes["route"].tolist() == [
        "standard_id",
        "expense_kind",
        "econ_code",
        "",
        "standard_id",
    ]


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ({"expense_kind": "宴请", "requested": 1}, "row 1, column 'expense_kind'.*宴请"),
        ({"standard_id": "no-such-table/x", "requested": 1}, "column 'standard_id'"),
        ({"expense_kind": "差旅", "travel_item": "餐费", "requested": 1}, "column 'travel_item'"),
        (
            {
                "expense_kind": "会议",
                "meeting_category": "五类",
                "persons": 1,
                "days": 1,
                "requested": 1,
            },
            "unknown category '五类会议'",
        ),
    ],
)
def test_a_value_outside_a_closed_list_is_bad_input(line: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        book = make_book(
            [{"project_id": "P", "department": "D"}], [{"project_id": "P", "line_no": 1, **line}]
        )
        review_book(book, on=ON)


def test_a_trip_whose_days_nights_and_dates_disagree_is_bad_input() -> None:
    """Found by an independent audit: 5 days from 04-01 to 04-03 was capped at 2 nights
    and 5 days of meals. The trip's facts must agree: each problem located, all at once."""
    trip = {"project_id": "T", "expense_kind": "差旅", "city": "北京", "requested": 5_000}
    trip |= {"staff_level": "其他人员", "date": "2027-04-01"}
    lines = [
        {**trip, "line_no": 1, "end_date": "2027-04-03", "days": 5},  # 3 calendar days
        {**trip, "line_no": 2, "days": 0},
        {**trip, "line_no": 3, "days": 2, "nights": 3},
        {**trip, "line_no": 4, "end_date": "2027-04-03", "days": 3, "nights": 2},  # agrees
    ]
    book = make_book([{"project_id": "T", "department": "D"}], lines, targets_for("T"))
    with pytest.raises(InputError) as raised:
        review_book(book, on=ON)
    problems = raised.value.problems
    assert problems[["source_row", "column", "check"]].values.tolist() == [
        [1, "days", "inconsistent"],
        [2, "days", "below_minimum"],
        [3, "nights", "inconsistent"],
    ]


def test_a_named_standard_its_facts_do_not_select_is_flagged() -> None:
    """Found by an independent audit: a line naming meeting-fee/二类会议/total with 会议类别
    三类 was reviewed as 三类 and the standard id replaced without a word."""
    meeting = {"project_id": "M", "expense_kind": "会议", "persons": 10, "days": 1}
    meeting |= {"requested": 7_000, "date": "2027-04-01"}
    lines = [
        {
            **meeting,
            "line_no": 1,
            "meeting_category": "三类",
            "standard_id": "meeting-fee/二类会议/total",
        },
        {
            **meeting,
            "line_no": 2,
            "meeting_category": "二类",
            "standard_id": "meeting-fee/二类会议/total",
        },
        {**meeting, "line_no": 3, "meeting_category": "三类", "standard_id": "meeting-fee"},
    ]
    book = make_book([{"project_id": "M", "department": "D"}], lines, targets_for("M"))
    out = review_book(book, on=ON).lines.set_index("line_no")
    assert out["manual_review"].tolist() == [True, False, False]
    assert out.loc[1, "standard_id"] == "meeting-fee/三类会议/total"
    assert out.loc[1, "approved"] == 5_500  # 550 x 10 x 1: reviewed by its facts
    assert out.loc[1, "manual_review_reason_zh"] == (
        "所列适用标准 meeting-fee/二类会议/total 与按明细事实适用的标准 "
        "meeting-fee/三类会议/total 不一致，已按后者审核，需人工复核"
    )


def test_a_damaged_cell_is_yes_or_no_and_a_quantity_target_not_negative() -> None:
    """Found by an audit: 损坏无法修复 '也许' was read as no, and a target of -513000 m2
    dropped a project's unit-cost cap; both are located input errors now."""
    line = _desktops(
        {"quantity": 1, "staff_count": 3, "existing_quantity": 3, "replaced_age_years": 2}
    )
    book = make_book(
        [{"project_id": "Q", "department": "财政"}],
        [{**line[0], "damaged": "也许"}, {**line[0], "line_no": 2, "damaged": "是"}],
        targets_for("Q"),
    )
    with pytest.raises(InputError) as raised:
        review_book(book, on=ON)
    found = raised.value.problems
    assert found[["source_row", "column", "check"]].values.tolist() == [
        [1, "damaged", "not_allowed"]
    ]
    with pytest.raises(InputError, match="output quantity of 0 or more") as raised:
        make_book(
            [{"project_id": "S", "department": "绿化"}],
            [{"project_id": "S", "line_no": 1, "requested": 1}],
            targets_for("S", area=-513_000),
        )
    assert raised.value.problems["column"].tolist() == ["target"]


def test_each_unknown_value_is_named_on_its_own_row() -> None:
    """Found by an audit: each row's message listed every unknown category of the column
    (row 2, '五类', also named 'VIP')."""
    meeting = {"project_id": "M", "expense_kind": "会议", "persons": 10, "days": 1}
    meeting |= {"requested": 7_000, "date": "2027-04-01"}
    lines = [
        {**meeting, "line_no": k, "meeting_category": c}
        for k, c in enumerate(["五类", "二类", "VIP"], start=1)
    ]
    book = make_book([{"project_id": "M", "department": "D"}], lines, targets_for("M"))
    with pytest.raises(InputError) as raised:
        review_book(book, on=ON)
    problems = raised.value.problems.sort_values("source_row")
    assert problems["source_row"].tolist() == [1, 3]
    first, last = problems["expected"].tolist()
    assert "'五类会议'" in first and "VIP" not in first
    assert "'VIP'" in last and "五类" not in last


def test_no_amount_column_is_one_problem_naming_the_unknown_header() -> None:
    """Found by an audit: 申报数 typed 申报书 gave one "missing amount" per line, never
    naming the header; now the first problem names it."""
    with pytest.raises(InputError) as raised:
        make_book(
            [{"project_id": "P", "department": "D"}],
            [
                {"project_id": "P", "line_no": k, "申报书": 100, "econ_code": "30201"}
                for k in (1, 2)
            ],
            targets_for("P"),
        )
    assert len(raised.value.problems) == 1
    first = raised.value.problems.iloc[0]
    # named by its canonical name, as the rows' problems name it (申报数 in Chinese)
    assert (first["column"], first["value"], first["check"]) == (
        "requested",
        "申报书",
        "missing_column",
    )
    assert "column 'requested': got '申报书', expected a column 'requested', or " in str(
        raised.value
    )
    assert "'quantity' and 'unit_price'; the header has columns the book does not know" in str(
        raised.value
    )
    from costperf.errors import chinese_summary

    said = chinese_summary(raised.value)
    assert (
        "列“申报数”：缺少列，值 '申报书'，应为申报数列，或数量和单价两列；表头中有无法识别的列"
        in said
    )


def test_target_category_outside_the_list_is_located() -> None:
    with pytest.raises(InputError, match="row 1, column 'category'.*产出-数量"):
        make_book(
            [{"project_id": "P", "department": "D"}],
            [{"project_id": "P", "line_no": 1, "requested": 1}],
            [{"project_id": "P", "category": "产出", "indicator": "x", "target": 1}],
        )


def test_lines_of_an_unknown_project_and_fractional_line_numbers() -> None:
    with pytest.raises(InputError) as err:
        make_book(
            [{"project_id": "P", "department": "D"}],
            [{"project_id": "Q", "line_no": 1.5, "requested": 1}],
        )
    checks = set(err.value.problems["check"])
    assert {"unknown_project", "not_whole"} <= checks


def test_an_unknown_project_spelt_otherwise_names_the_listed_code() -> None:
    """Found by an audit: a line's a-cz-001 (or full-width Ａ-ＣＺ-001) for the projects'
    A-CZ-001 said only that the project does not exist; it now names the listed code."""
    from costperf.errors import chinese_summary

    with pytest.raises(InputError) as err:
        make_book(
            [{"project_id": "A-CZ-001", "department": "D"}, {"project_id": "B", "department": "D"}],
            [
                {"project_id": "a-cz-001", "line_no": 1, "requested": 1},
                {"project_id": "Ａ-ＣＺ-001", "line_no": 2, "requested": 1},
                {"project_id": "Q", "line_no": 1, "requested": 1},
                {"project_id": "B", "line_no": 1, "requested": 1},
            ],
            targets_for("A-CZ-001", "B") + [{**targets_for("b")[0]}],
        )
    problems = err.value.problems
    problems = problems[problems["check"].eq("unknown_project")]
    assert problems["expected"].tolist() == [
        "a project_id of the projects sheet (it has 'A-CZ-001', spelt otherwise)",
        "a project_id of the projects sheet (it has 'A-CZ-001', spelt otherwise)",
        "a project_id of the projects sheet (lines of an unknown project)",
        "a project_id of the projects sheet (it has 'B', spelt otherwise)",
    ]
    said = chinese_summary(err.value)
    assert (
        "值 'a-cz-001'，应为项目表中已有的项目编码（项目表中为 'A-CZ-001'，大小写、空格或全半角不同）"
        in said
    )
    assert "值 'Q'，应为项目表中已有的项目编码（该明细的项目不存在）" in said


# ---- line rules: travel components ---------------------------------------------------------


def test_travel_components_are_capped_on_their_own() -> None:
    """北京 厅局级 lodging cap 650, meals 100, local transport 80; 2 nights, 3 days, 1 person."""
    trip = {
        "project_id": "T",
        "expense_kind": "差旅",
        "city": "北京",
        "staff_level": "司局级",
        "date": "2027-04-01",
        "days": 3,
        "nights": 2,
        "persons": 1,
    }
    book = make_book(
        [{"project_id": "T", "department": "D"}],
        [
            {
                **trip,
                "line_no": 1,
                "travel_item": "住宿费",
                "requested": 1600,
                "quantity": 2,
                "unit_price": 800,
            },
            {**trip, "line_no": 2, "travel_item": "伙食补助费", "requested": 390},
            {**trip, "line_no": 3, "travel_item": "市内交通费", "requested": 200},
            {**trip, "line_no": 4, "travel_item": "城市间交通费", "requested": 2480},
        ],
        targets_for("T"),
    )
    lines = review_book(book, on=ON).lines.set_index("line_no")
    assert lines["approved"].tolist() == [1300.0, 300.0, 200.0, 2480.0]
    assert lines.loc[1, "unit_price"] == 800 and lines.loc[1, "unit_price_cap"] == 650
    assert "住宿费每晚 800 元超过北京司局级标准 650 元，按标准核定" in lines.loc[1, "reason_zh"]
    # the English sentences say all the Chinese ones say: capped, cut and approved
    assert lines.loc[1, "reason_en"] == (
        "lodging 800 yuan a night is above the cap of 北京, 司局级 650 yuan, capped at the "
        "standard (2 nights x 1 person, each night at its season: 1,300 yuan); requested "
        "1,600 yuan is above it: cut 300 yuan, approved 1,300 yuan"
    )
    assert lines.loc[2, "reason_en"].endswith("cut 90 yuan, approved 300 yuan")
    assert lines.loc[2, "cut"] == 90  # meals cut although lodging is below... its own cap
    assert lines.loc[4, "manual_review"]
    assert "需核对舱位/席别等级" in lines.loc[4, "manual_review_reason_zh"]
    assert not lines.loc[[1, 2, 3], "manual_review"].any()


def test_city_outside_the_lodging_table_is_flagged_and_the_rest_reviewed() -> None:
    trip = {
        "project_id": "T",
        "expense_kind": "差旅",
        "city": "成都",
        "staff_level": "其他人员",
        "date": "2027-04-01",
        "days": 3,
        "nights": 2,
        "persons": 2,
    }
    book = make_book(
        [{"project_id": "T", "department": "D"}],
        [
            {**trip, "line_no": 1, "travel_item": "住宿费", "requested": 2000},
            {**trip, "line_no": 2, "travel_item": "伙食补助费", "requested": 800},
        ],
        targets_for("T"),
    )
    lines = review_book(book, on=ON).lines.set_index("line_no")
    assert lines.loc[1, "approved"] == 2000 and lines.loc[1, "manual_review"]
    assert "成都不在住宿费标准表中" in lines.loc[1, "manual_review_reason_zh"]
    assert lines.loc[2, "approved"] == 100 * 3 * 2  # meals of 成都 are still capped


# ---- project rules: unit-cost cap and target gate -------------------------------------------


def test_unit_cost_cap_after_the_line_rules_cut_pro_rata(case_standards) -> None:
    """hw-uc@1 一级 16.49 元/m2 x 1,000 m2 = 16,490; lines first (a meeting line capped at
    650 x 10 x 1 = 6,500), then the cap on the approved sum 10,000 + 4,000 + 6,500."""
    book = make_book(
        [
            {
                "project_id": "S",
                "department": "绿化",
                "class_of_matter": "环卫保洁",
                "road_grade": "一级",
            }
        ],
        [
            {"project_id": "S", "line_no": 1, "econ_code": "30227", "requested": 10_000},
            {"project_id": "S", "line_no": 2, "econ_code": "30227", "requested": 4_000},
            {
                "project_id": "S",
                "line_no": 3,
                "expense_kind": "会议",
                "meeting_category": "二类",
                "persons": 10,
                "days": 1,
                "requested": 7_000,
                "date": "2027-05-01",
            },
        ],
        targets_for("S", area=1000),
    )
    result = review_book(book, case_standards, on=ON)
    lines, project = result.lines, result.projects.iloc[0]
    assert lines["line_approved"].tolist() == [10_000, 4_000, 6_500]
    assert project["project_cap"] == 16_490 and project["approved"] == 16_490
    share = 16_490 / 20_500
    # the shares 8,043.9024, 3,217.5610, 5,228.5366 to the fen: 8,043.90 + 3,217.56 +
    # 5,228.53 = 16,489.99; the missing fen to the share that lost most (0.66 fen)
    exact = [10_000 * share, 4_000 * share, 6_500 * share]
    expected = [8_043.90, 3_217.56, 5_228.54]
    assert [abs(e - x) < 0.01 for e, x in zip(expected, exact, strict=True)] == [True] * 3
    assert lines["approved"].tolist() == expected
    assert set(lines["review_rule"]) == {"unit_cost"} and project["decision"] == "reduce"
    # by rule, each cut under the rule that made it: the meeting standard's 500, then the
    # cap's 4,010 on the 20,500 the line rules let through (not all 4,510 under the cap)
    cols = ["group", "n_projects", "n_lines", "requested", "approved", "cut"]
    by_rule = result.summaries["review_rule"][cols].values.tolist()
    assert by_rule == [
        ["meeting", 1, 1, 7_000, 6_500, 500],
        ["unit_cost", 1, 3, 20_500, 16_490, 4_010],
    ]
    assert result.summaries["review_rule"]["cut"].sum() == result.totals["cut"] == 4_510
    assert "hw-uc/一级/unit_cost@1" in lines.loc[0, "reason_zh"]
    basis = "hw-uc/一级/unit_cost@1（一级）16.49 元/m2 × 产出目标 1,000 m2 = 16,490 元"
    assert basis in lines.loc[0, "reason_zh"]
    # the English basis names the standard's cell too
    basis = "hw-uc/一级/unit_cost@1 (一级) 16.49 yuan/m2 x output target 1,000 m2 = 16,490 yuan"
    assert basis in lines.loc[0, "reason_en"]
    # yuan to the fen as an auditor writes them (8,043.9 was shown), the cut in yuan
    assert expected[0] == 8_043.9
    assert lines.loc[0, "reason_zh"].endswith("本行审定 8,043.90 元，核减 1,956.10 元")
    assert lines.loc[0, "reason_en"].endswith("this line approved 8,043.90 yuan, cut 1,956.10 yuan")
    assert not lines["manual_review"].any()  # covered by the project's standard


def _unit_cost_book(area: float):
    projects = [
        {"project_id": pid, "department": "绿化", "class_of_matter": "环卫保洁", "road_grade": g}
        for pid, g in (("S1", "一级"), ("S4", "四级"))
    ]
    lines = [
        {"project_id": pid, "line_no": 1, "econ_code": "30227", "requested": 900_000}
        for pid in ("S1", "S4")
    ]
    return make_book(projects, lines, targets_for("S1", "S4", area=area))


def test_unit_cost_cap_is_rounded_half_up_to_the_fen(case_standards) -> None:
    """Found by an independent audit: 7.85 x 10,000.5 = 78,503.925 is 78,503.93 (numpy's
    round of the float 78503.92499999999 gave .92), 16.49 x 10,000.5 = 164,908.245 is
    164,908.25."""
    result = review_book(_unit_cost_book(10_000.5), case_standards, on=ON)
    projects = result.projects.set_index("project_id")
    assert projects.loc["S4", "project_cap"] == 78_503.93
    assert projects.loc["S1", "project_cap"] == 164_908.25
    assert projects["approved"].tolist() == projects["project_cap"].tolist()
    assert result.totals["approved"] == round(78_503.93 + 164_908.25, 2)


def test_a_line_within_its_projects_unit_cost_cap_names_that_rule(case_standards) -> None:
    """Found by an audit: the lines of a covered project within its cap had a blank rule
    and the project's reason quoted no cap; they name the unit-cost standard (a capped
    one the cap), and the reason the cap it is within."""
    result = review_book(_unit_cost_book(200_000), case_standards, on=ON)  # caps above 900,000
    lines = result.lines.set_index("project_id")
    assert lines["rule"].to_dict() == {"S1": "unit_cost", "S4": "unit_cost"}
    s4 = result.projects.set_index("project_id").loc["S4", "reason_zh"]
    assert s4.startswith("环卫保洁单位成本标准 hw-uc/四级/unit_cost@1（四级）7.85 元/m2")
    assert "= 1,570,000 元；明细审定合计 900,000 元未超过上限；申报 900,000 元" in s4
    capped = review_book(_unit_cost_book(1_000), case_standards, on=ON).lines
    assert capped["rule"].tolist() == ["unit_cost_cap", "unit_cost_cap"]


def test_a_line_naming_another_grades_unit_cost_is_flagged(case_standards) -> None:
    """Found by an audit: a 四级 project's line naming hw-uc/一级/unit_cost is capped at the
    四级 value and flagged, as a meeting line naming another category is; the 一级
    project's line naming its own cell is not."""
    from dataclasses import replace

    book = _unit_cost_book(1_000)
    named = book.lines.assign(standard_id=["hw-uc/一级/unit_cost", "hw-uc/一级/unit_cost@1"])
    result = review_book(replace(book, lines=named), case_standards, on=ON)
    lines = result.lines.set_index("project_id")
    assert lines["manual_review"].to_dict() == {"S1": False, "S4": True}
    assert lines.loc["S4", "manual_review_reason_en"] == (
        "names the standard hw-uc/一级/unit_cost, but its facts select hw-uc/四级/unit_cost "
        "(reviewed by it): check by hand"
    )
    assert lines["approved"].to_dict() == {"S1": 16_490.0, "S4": 7_850.0}


def test_a_project_without_targets_is_rejected_without_further_flags(case_standards) -> None:
    """Found by an audit: a 环卫保洁 project with no targets is 不予安排, and neither the
    unit-cost cap ('no quantified output, not capped') nor its lines ('no applicable
    standard') add a manual review to a project that is not funded at all."""
    from dataclasses import replace

    book = _unit_cost_book(1_000)
    paper = {"project_id": "S4", "line_no": 2, "econ_code": "30201", "requested": 800.0}
    lines = pd.concat([book.lines, pd.DataFrame([paper])], ignore_index=True)
    targets = book.targets[book.targets["project_id"].eq("S1")]
    book = replace(book, lines=lines.assign(source_row=range(2, 5)), targets=targets)
    result = review_book(book, case_standards, on=ON)
    projects = result.projects.set_index("project_id")
    assert projects.loc["S4", "decision"] == "reject" and projects.loc["S4", "approved"] == 0
    assert projects.loc["S4", "target_check"] == "no_targets"
    assert not projects.loc["S4", "manual_review"]
    assert not result.lines["manual_review"].any()


@pytest.mark.parametrize("dtype", ["object", "string", "string[pyarrow]"])
def test_a_blank_dimension_is_flagged_whatever_its_column_type(case_standards, dtype) -> None:
    """Found by an audit: a blank 道路等级 read from a workbook (a string column) crashed the
    reason text (join of a float NaN); it is flagged, as from a CSV."""
    from dataclasses import replace

    book = _unit_cost_book(10_000)
    grades = book.projects["road_grade"].astype(object)
    grades.iloc[0] = None
    book = replace(book, projects=book.projects.assign(road_grade=grades.astype(dtype)))
    projects = review_book(book, case_standards, on=ON).projects.set_index("project_id")
    assert projects.loc["S1", "manual_review"] and pd.isna(projects.loc["S1", "project_cap"])
    assert projects.loc["S4", "project_cap"] == 78_500


def test_a_standard_value_is_applied_as_published(tmp_path) -> None:
    """A sealed table holding 16.485 and 7.845: the review applies 16.49 and 7.85 (0.01
    yuan, half-up, as the README says), and its reason quotes the value it used."""
    import shutil

    from costperf.commands.review import read_standard_folders
    from costperf.standards.tables import seal_table

    folder = tmp_path / "standards"
    shutil.copytree(CASE_STANDARDS, folder)
    values = folder / "hw-uc-v1.csv"
    text = values.read_text(encoding="utf-8-sig")
    values.write_text(text.replace(",16.49,", ",16.485,").replace(",7.85,", ",7.845,"))
    header = folder / "hw-uc-v1.toml"
    lines = header.read_text(encoding="utf-8").splitlines()
    lines = [
        'status = "draft"' if line.startswith("status") else line
        for line in lines
        if not line.startswith("content_hash")
    ]
    header.write_text("\n".join(lines) + "\n", encoding="utf-8")
    seal_table(header)
    result = review_book(_unit_cost_book(10_000), read_standard_folders([folder]), on=ON)
    projects = result.projects.set_index("project_id")
    assert (
        projects.loc["S1", "project_cap"] == 164_900 and projects.loc["S4", "project_cap"] == 78_500
    )
    reasons = result.lines.set_index("project_id")["reason_zh"]
    assert "16.49 元/m2 × 产出目标 10,000 m2 = 164,900 元" in reasons["S1"]
    assert "7.85 元/m2 × 产出目标 10,000 m2 = 78,500 元" in reasons["S4"]


def test_amounts_below_a_fen_are_rounded_half_up_once() -> None:
    """10.005 and 20.005 are 10.01 and 20.01 (the float 20.005 is 20.00499..., which
    numpy's round made 20.00), and the line and project amounts agree."""
    book = make_book(
        [{"project_id": "P", "department": "财政"}],
        [
            {"project_id": "P", "line_no": 1, "econ_code": "30201", "requested": 10.005},
            {"project_id": "P", "line_no": 2, "econ_code": "30201", "requested": 20.005},
            {
                "project_id": "P",
                "line_no": 3,
                "econ_code": "30201",
                "quantity": 3,
                "unit_price": 0.335,
            },
        ],
        targets_for("P"),
    )
    result = review_book(book, on=ON)
    lines = result.lines
    assert lines["requested"].tolist() == [10.01, 20.01, 1.01]
    assert lines["line_approved"].tolist() == lines["requested"].tolist()
    assert lines["approved"].tolist() == lines["requested"].tolist()
    assert result.projects["requested"].tolist() == [31.03]


def _desktops(*lines: dict) -> list[dict]:
    base = {"project_id": "Q", "expense_kind": "办公设备", "equipment_item": "台式计算机"}
    base |= {"unit_price": 5_000, "date": ON}
    return [
        {**base, "line_no": k, "requested": 5_000 * line["quantity"], **line}
        for k, line in enumerate(lines, start=1)
    ]


def test_a_purchase_split_into_lines_shares_the_quantity_cap() -> None:
    """Found by an independent audit: 10 staff and 5 desktops held leave room for 5; two
    lines of 5 and 4 got 9. The project's lines for one item share the room, in order."""
    book = make_book(
        [{"project_id": "Q", "department": "财政"}],
        _desktops(
            {"quantity": 5, "staff_count": 10, "existing_quantity": 5},
            {"quantity": 4, "staff_count": 10, "existing_quantity": 5},
            {"quantity": 1, "staff_count": 12, "existing_quantity": 5},  # another cap: alone
        ),
        targets_for("Q"),
    )
    lines = review_book(book, on=ON).lines.set_index("line_no")
    assert lines["approved_quantity"].tolist() == [5, 0, 1]
    assert lines["approved"].tolist() == [25_000, 0, 5_000]
    assert "本项目前面各行已配置 5，可配置 0（申报 4）" in lines.loc[2, "reason_zh"]
    assert "5 allowed on the project's earlier lines, allowed 0 (of 4)" in lines.loc[2, "reason_en"]
    assert "前面各行" not in lines.loc[1, "reason_zh"] + lines.loc[3, "reason_zh"]


def test_a_replacement_frees_no_more_units_than_are_held() -> None:
    """Cap 3 (3 staff), 3 held, 5 replaced (8 years old): 3 units, not 5."""
    book = make_book(
        [{"project_id": "Q", "department": "财政"}],
        _desktops(
            {"quantity": 5, "staff_count": 3, "existing_quantity": 3, "replaced_age_years": 8}
        ),
        targets_for("Q"),
    )
    line = review_book(book, on=ON).lines.iloc[0]
    assert line["approved_quantity"] == 3 and line["approved"] == 15_000
    assert "更新后保有 0，可配置 3（申报 5）" in line["reason_zh"]


def test_a_purchase_before_a_replacement_cannot_use_the_units_it_frees() -> None:
    """Found by an audit: cap 10, 9 held; line 1 buys 3 new, line 2 replaces 2 old (7
    years).  Line 1 took the 2 units line 2 frees (3 approved, "held 7") and the
    replacement was refused: 12 desktops under a cap of 10.  In line order: line 1 gets
    the 1 unit of room, line 2 its 2 (9 - 2 + 1 + 2 = 10); the other order gives the same."""
    held = {"staff_count": 10, "existing_quantity": 9}
    new, renew = {"quantity": 3, **held}, {"quantity": 2, "replaced_age_years": 7, **held}
    for order, expected in (((new, renew), [1, 2]), ((renew, new), [2, 1])):
        book = make_book(
            [{"project_id": "Q", "department": "财政"}], _desktops(*order), targets_for("Q")
        )
        lines = review_book(book, on=ON).lines
        assert lines["approved_quantity"].tolist() == expected
        assert lines["approved"].sum() == 3 * 5_000
        first = lines.loc[0, "reason_zh"]
        assert ("现有保有 9，可配置 1（申报 3）" in first) == (order[0] is new), first


def test_a_blank_holding_is_zero_held_and_shares_the_cap_with_a_written_zero() -> None:
    """Found by an audit: 现有数量 blank on one line and 0 on the other split the lines'
    shared cap (12 desktops under a cap of 10); a blank is 0 held."""
    book = make_book(
        [{"project_id": "Q", "department": "财政"}],
        _desktops(
            {"quantity": 6, "staff_count": 10, "existing_quantity": None},
            {"quantity": 6, "staff_count": 10, "existing_quantity": 0},
        ),
        targets_for("Q"),
    )
    assert review_book(book, on=ON).lines["approved_quantity"].tolist() == [6, 4]


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 12),
    st.integers(0, 14),
    st.lists(st.tuples(st.integers(0, 6), st.booleans()), min_size=1, max_size=5),
)
def test_shared_units_equal_a_line_by_line_count(cap: int, held: int, lines) -> None:
    """The vectorised share (one cumulative minimum per group) equals the count a reviewer
    makes line by line: a replacement first gives up the old units it replaces (no more
    than are still held), then any line gets what room the cap leaves."""
    from costperf.review.expenditure.equipment import _units_allowed

    n = len(lines)
    index = pd.RangeIndex(n)
    quantity = pd.Series([float(q) for q, _ in lines], index=index)
    replacing = pd.Series([r for _, r in lines], index=index)
    *_, allowed = _units_allowed(
        pd.DataFrame({"project_id": ["Q"] * n}, index=index),
        pd.Series(["desktop_computer"] * n, index=index),
        quantity,
        pd.Series(float(cap), index=index),
        pd.Series(float(held), index=index),
        replacing,
    )
    old, holding, expected = held, held, []
    for q, renew in lines:
        if renew:
            gone = min(q, old)
            old, holding = old - gone, holding - gone
        got = min(q, max(0, cap - holding))
        holding += got
        expected.append(got)
    assert allowed.tolist() == expected


def test_two_indicators_in_the_standard_s_unit_are_flagged_not_summed(case_standards) -> None:
    """Found by an audit: targets 保洁面积 90,000 m2 and 绿化面积 5,000 m2 were summed (cap
    10.80 x 95,000); which one the standard prices is for a reviewer.  One indicator on
    two rows is summed."""
    project = {"department": "绿化", "class_of_matter": "环卫保洁", "road_grade": "三级"}
    area = {"category": "产出-数量", "unit": "m2"}
    book = make_book(
        [{"project_id": p, **project} for p in ("TWO", "ONE")],
        [
            {"project_id": p, "line_no": 1, "econ_code": "30227", "requested": 1_000_000}
            for p in ("TWO", "ONE")
        ],
        [
            {"project_id": "TWO", **area, "indicator": "保洁面积", "target": 90_000},
            {"project_id": "TWO", **area, "indicator": "绿化面积", "target": 5_000},
            {"project_id": "ONE", **area, "indicator": "保洁面积", "target": 50_000},
            {"project_id": "ONE", **area, "indicator": "保洁面积", "target": 40_000},
        ],
    )
    projects = review_book(book, case_standards, on=ON).projects.set_index("project_id")
    two, one = projects.loc["TWO"], projects.loc["ONE"]
    assert np.isnan(two["project_cap"]) and two["approved"] == 1_000_000
    assert two["manual_review"]
    assert (
        "产出-数量指标（保洁面积、绿化面积），无法确定按哪一个核定"
        in two["manual_review_reason_zh"]
    )
    assert one["project_cap"] == one["approved"] == 972_000  # 10.80 x (50,000 + 40,000)


def test_unit_cost_without_a_target_in_its_unit_is_flagged_not_capped(case_standards) -> None:
    book = make_book(
        [
            {
                "project_id": "S",
                "department": "绿化",
                "class_of_matter": "环卫保洁",
                "road_grade": "一级",
            }
        ],
        [{"project_id": "S", "line_no": 1, "econ_code": "30227", "requested": 50_000}],
        [
            {
                "project_id": "S",
                "category": "产出-数量",
                "indicator": "长度",
                "unit": "km",
                "target": 3,
            }
        ],
    )
    result = review_book(book, case_standards, on=ON)
    project = result.projects.iloc[0]
    assert project["approved"] == 50_000 and project["manual_review"]
    assert "无与单位成本标准单位（m2）一致的可量化产出指标" in project["manual_review_reason_zh"]
    assert result.lines.loc[0, "manual_review"]  # no standard covers the line either


def test_target_gate() -> None:
    book = make_book(
        [{"project_id": p, "department": "D"} for p in ("NONE", "VAGUE", "OK")],
        [
            {"project_id": p, "line_no": 1, "econ_code": "30201", "requested": 100.0}
            for p in ("NONE", "VAGUE", "OK")
        ],
        [
            {"project_id": "VAGUE", "category": "满意度", "indicator": "满意度", "target": "≥90%"},
            {"project_id": "VAGUE", "category": "产出-数量", "indicator": "数量", "target": "若干"},
            {"project_id": "OK", "category": "数量指标", "indicator": "份数", "target": "1,000"},
        ],
    )
    projects = review_book(book, on=ON).projects.set_index("project_id")
    assert projects.loc["NONE", ["approved", "decision", "target_check"]].tolist() == [
        0.0,
        "reject",
        "no_targets",
    ]
    assert "未编制绩效目标" in projects.loc["NONE", "reason_zh"]
    assert projects.loc["VAGUE", "approved"] == 100 and projects.loc["VAGUE", "manual_review"]
    assert "无可量化产出指标" in projects.loc["VAGUE", "manual_review_reason_zh"]
    assert projects.loc["OK", "target_check"] == "ok"


def test_the_single_sheet_format_has_no_target_gate() -> None:
    req, problems = REQUESTS.validate(
        pd.DataFrame(
            [
                {
                    "request_id": "R",
                    "line_no": 1,
                    "expense_kind": "会议",
                    "meeting_category": "一类",
                    "persons": 10,
                    "days": 1,
                    "requested": 9000,
                }
            ]
        )
    )
    book, _ = check_book(book_from_requests(req))
    projects = review_book(book, on=ON).projects
    assert projects.loc[0, "target_check"] == "not_applicable"
    assert projects.loc[0, "approved"] == 7600 and projects.loc[0, "decision"] == "reduce"


# ---- checks ---------------------------------------------------------------------------------


def test_no_applicable_standard_is_never_approved_silently() -> None:
    book = make_book(
        [{"project_id": "P", "department": "D"}],
        [{"project_id": "P", "line_no": 1, "econ_code": "30213", "requested": 123.45}],
        targets_for("P"),
    )
    line = review_book(book, on=ON).lines.iloc[0]
    assert line["approved"] == 123.45 and line["manual_review"]
    assert line["review_rule"] == "no_standard"
    assert "无适用标准，需人工审核" in line["manual_review_reason_zh"]


def test_duplicates_are_flagged_naming_the_first_line() -> None:
    lines = pd.DataFrame(
        {
            "project_id": ["P", "P", "P", "Q"],
            "line_no": [1, 2, 3, 1],
            "item": ["房屋 维修", "房屋维修", "房屋维修", "房屋维修"],
            "requested": [500.0, 500.0, 400.0, 500.0],
        }
    )
    flags = flag_duplicates(lines, pd.DataFrame(), None)
    assert flags["manual_review"].tolist() == [False, True, False, False]
    assert flags.loc[1, "manual_review_reason_zh"].startswith("与本项目序号 1 重复")


def test_earlier_lines_are_earlier_by_line_number_not_by_row() -> None:
    """Rows written 2, 1, 4, 3: line 1 takes the room for desks first (10 staff, 8 held:
    2 more), and line 4 repeats line 3, as if the rows were in order."""
    desk = {"expense_kind": "办公设备家具", "equipment_item": "台式计算机", "quantity": 3}
    desk |= {"unit_price": 5000.0, "requested": 15000.0, "staff_count": 10}
    desk |= {"existing_quantity": 8, "staff_level": "处级及以下", "date": "2027-04-01"}
    paper = {"econ_code": "30201", "item": "办公用品", "requested": 800.0}
    lines = [
        {"project_id": "D02", "line_no": 2, **desk},
        {"project_id": "D02", "line_no": 1, **desk},
        {"project_id": "D02", "line_no": 4, **paper},
        {"project_id": "D02", "line_no": 3, **paper},
    ]
    book = make_book([{"project_id": "D02", "department": "D"}], lines, targets_for("D02"))
    out = review_book(book, on=ON).lines
    assert out["line_no"].tolist() == [2, 1, 4, 3]  # the rows stay as written
    assert out["approved_quantity"].tolist()[:2] == [0.0, 2.0]
    assert out["approved"].tolist() == [0.0, 10000.0, 800.0, 800.0]
    repeats = out["manual_review_reason_zh"].str.contains("重复").tolist()
    assert repeats == [False, False, True, False]
    assert "与本项目序号 3 重复" in out.loc[2, "manual_review_reason_zh"]


# ---- properties -----------------------------------------------------------------------------

_line = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["meeting", "travel", "equipment", "none"]),
        "requested": st.integers(0, 200_000),
        "persons": st.integers(1, 60),
    }
)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 3), _line), min_size=1, max_size=10), st.randoms())
def test_amounts_add_up_and_do_not_depend_on_row_order(rows, random) -> None:
    lines = []
    for k, (p, line) in enumerate(rows):
        base = {
            "project_id": f"P{p}",
            "line_no": k + 1,
            "requested": float(line["requested"]),
            "persons": line["persons"],
            "days": 2,
        }
        if line["kind"] == "meeting":
            base.update(expense_kind="会议", meeting_category="三类")
        elif line["kind"] == "travel":
            base.update(expense_kind="差旅", city="青岛", staff_level="其他人员", date="2027-07-30")
        elif line["kind"] == "equipment":  # the lines of a project share the room for desks
            quantity = 1 + line["persons"] % 3
            base.update(expense_kind="办公设备家具", equipment_item="台式计算机", quantity=quantity)
            base.update(unit_price=5000.0, requested=5000.0 * quantity, staff_count=3)
            base.update(existing_quantity=1, staff_level="处级及以下", date="2027-04-01")
        else:  # a few amounts, so that lines repeat one another (flagged from the second)
            base.update(econ_code="30201", item="印刷费", requested=float(line["persons"] % 3))
        lines.append(base)
    ids = sorted({r["project_id"] for r in lines})
    projects = [{"project_id": p, "department": "D"} for p in ids]
    result = review_book(make_book(projects, lines, targets_for(*ids[:-1])), on=ON)
    out = result.lines
    assert (out["approved"] <= out["requested"] + 1e-9).all()
    np.testing.assert_allclose(out["approved"] + out["cut"], out["requested"])
    per_project = out.groupby("project_id")["approved"].sum()
    np.testing.assert_allclose(
        result.projects.set_index("project_id")["approved"],
        per_project.reindex(result.projects["project_id"]),
    )
    random.shuffle(lines)
    again = review_book(make_book(projects, lines, targets_for(*ids[:-1])), on=ON).lines
    key = ["project_id", "line_no"]
    a = out.sort_values(key).reset_index(drop=True)
    b = again.sort_values(key).reset_index(drop=True)
    pd.testing.assert_series_equal(a["approved"], b["approved"])
    assert a["reason_zh"].tolist() == b["reason_zh"].tolist()
    # which line is 'earlier' (the shared room, the first of repeated lines) is by 序号
    assert a["manual_review_reason_zh"].tolist() == b["manual_review_reason_zh"].tolist()


def test_every_check_code_and_rule_has_labels() -> None:
    """Check codes (errors.Check) and the rule codes of the batch have zh and en labels."""
    from costperf.columns import code_label_map
    from costperf.errors import Check

    checks = code_label_map("check", "zh")
    assert {c.value for c in Check} <= set(checks)
    rules = code_label_map("rule", "en")
    assert set(review_rules()) - {"routing"} <= set(rules)
    for code in ("unit_cost_cap", "travel_lodging", "travel_intercity", "meeting_quota"):
        assert code_label_map("rule", "zh")[code] != code


def test_a_long_project_code_gets_a_form_under_the_file_name_limit(tmp_path) -> None:
    """Found by an audit: a project code of 90 Chinese characters (270 bytes) was an
    internal error (File name too long) writing its form; two codes alike but for case
    get two forms."""
    from costperf.review_outputs import NAME_BYTES, write_review_outputs
    from costperf.standards import shipped_standards

    long_id = "城区道路清扫保洁" * 11 + "项目甲乙"
    ids = [long_id, "road-a", "ROAD-A"]
    book = make_book(
        [{"project_id": p, "department": "D"} for p in ids],
        [{"project_id": p, "line_no": 1, "econ_code": "30201", "requested": 100.0} for p in ids],
        targets_for(*ids),
    )
    result = review_book(book, on=ON)
    out = tmp_path / "out"
    write_review_outputs(
        result, book, shipped_standards(), out, parameters={"date": ON}, records_path=None
    )
    names = sorted(p.name for p in (tmp_path / "out" / "forms").glob("*.html"))
    assert len(names) == 3 and {"road-a.html", "ROAD-A_.html"} < set(names)
    (long_name,) = (n for n in names if n.startswith("城区"))
    assert len(long_name.removesuffix(".html").encode()) <= NAME_BYTES
    assert long_id.startswith(long_name.removesuffix(".html"))
    # no store: no batch id is printed as if it were recorded
    form = (out / "forms" / "road-a.html").read_text(encoding="utf-8")
    assert "评审基准日：2027-03-01；评审批次：未记录（未指定 --records）" in form


def test_summaries_count_flagged_projects_and_lines_apart() -> None:
    """Found by an audit: one 需人工复核数 column counted projects on the department rows
    and lines on the rule rows. Now both counts on every row; a blank class of matter is
    a group of its own, named （空） / (blank) where it is shown."""
    from costperf.report.review_book import summary_table

    trip = {"expense_kind": "差旅", "city": "北京", "staff_level": "司局级", "date": ON}
    trip |= {"days": 1, "nights": 1, "persons": 1, "travel_item": "住宿费", "requested": 100}
    unknown = {"econ_code": "30213", "requested": 50.0}  # no standard: flagged
    book = make_book(
        [
            {"project_id": "A", "department": "D1", "class_of_matter": "X"},
            {"project_id": "B", "department": "D1", "class_of_matter": "X"},
            {"project_id": "C", "department": "D2"},
        ],
        [
            {"project_id": "A", "line_no": 1, **unknown},
            {"project_id": "A", "line_no": 2, **unknown},
            {"project_id": "A", "line_no": 3, **trip},
            {"project_id": "B", "line_no": 1, **trip},
            {"project_id": "C", "line_no": 1, **unknown},
        ],
        targets_for("A", "B", "C"),
    )
    result = review_book(book, on=ON)
    cols = ["group", "n_projects", "n_lines", "n_projects_manual_review", "n_lines_manual_review"]
    got = {by: frame[cols].values.tolist() for by, frame in result.summaries.items()}
    assert got["department"] == [["D1", 2, 4, 1, 2], ["D2", 1, 1, 1, 1]]
    assert got["class_of_matter"][0] == ["X", 2, 4, 1, 2]
    assert pd.isna(got["class_of_matter"][1][0]) and got["class_of_matter"][1][1:] == [1, 1, 1, 1]
    rules = dict((g, rest) for g, *rest in got["review_rule"])
    # by rule, the projects with a flagged line under that rule (A's travel line is not)
    assert rules["no_standard"] == [2, 3, 2, 3] and rules["travel"] == [2, 2, 0, 0]
    shown = summary_table(result.summaries, result.totals, "en")
    assert shown.iloc[0, -2:].tolist() == [2, 3]  # the totals: projects A and C, 3 lines
    assert "(blank)" in shown["group"].tolist() and "（空）" not in shown["group"].tolist()


def test_a_line_with_one_problem_is_still_checked_for_the_others() -> None:
    """Found by an audit: a meeting line without its attendees was not looked up, so its
    unknown category came one run later (a bad amount: tests/test_case_requests_2027)."""
    meeting = {"expense_kind": "会议", "meeting_category": "五类", "days": 1, "date": ON}
    book = make_book(
        [{"project_id": "P", "department": "D"}],
        [
            {"project_id": "P", "line_no": 1, **meeting, "requested": 10},  # no persons
            {"project_id": "P", "line_no": 2, **meeting, "persons": 3, "requested": 10},
        ],
        targets_for("P"),
    )
    with pytest.raises(InputError) as info:
        review_book(book, on=ON)
    got = info.value.problems[["source_row", "column", "check"]].values.tolist()
    assert got == [
        [1, "persons", "missing_fact"],
        [1, "meeting_category", "unknown_value"],
        [2, "meeting_category", "unknown_value"],
    ]


_MEETING = {"expense_kind": "会议", "meeting_category": "五类", "days": 1, "persons": 2}
_TRAINING = {"expense_kind": "培训", "training_category": "五类", "days": 1, "persons": 2}
_LECTURE = {"expense_kind": "培训", "lecturer_title": "教授X", "teaching_hours": 2}
_TRIP = {"expense_kind": "差旅", "city": "北京", "staff_level": "部长X", "days": 2}
_DESK = {"expense_kind": "办公设备", "equipment_item": "办公桌", "staff_level": "部长X"}
_DESK |= {"quantity": 1, "unit_price": 10, "staff_count": 5}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (_MEETING | {"date": "2027-13-45"}, [["date", "bad_date"], ["meeting_category"]]),
        (_TRAINING | {"date": "xx"}, [["date", "bad_date"], ["training_category"]]),
        (_TRAINING | {"persons": None}, [["persons", "missing_fact"], ["training_category"]]),
        (_LECTURE | {"date": "xx"}, [["date", "bad_date"], ["lecturer_title"]]),
        (
            _LECTURE | {"teaching_hours": None},
            [["teaching_hours", "missing_fact"], ["lecturer_title"]],
        ),
        (_TRIP | {"date": "xx"}, [["date", "bad_date"], ["staff_level"]]),
        (_TRIP | {"days": None}, [["days", "missing_fact"], ["staff_level"]]),
        (_DESK | {"date": "xx"}, [["date", "bad_date"], ["staff_level"]]),
        (_DESK | {"quantity": None}, [["quantity", "missing_fact"], ["staff_level"]]),
        # a city outside the lodging table is not bad input (flagged when reviewed)
        (
            _TRIP | {"city": "拉萨", "staff_level": "司局级", "days": None},
            [["days", "missing_fact"]],
        ),
    ],
    ids=[
        "meeting-bad-date",
        "training-bad-date",
        "training-no-trainees",
        "lecturer-bad-date",
        "lecturer-no-hours",
        "travel-bad-date",
        "travel-no-days",
        "equipment-bad-date",
        "equipment-no-quantity",
        "travel-open-city",
    ],
)
def test_an_unknown_value_is_reported_beside_a_bad_date_or_a_missing_fact(line, expected) -> None:
    """Found by an audit: a bad date (no table version to look in) or a missing fact (the
    line not looked up) hid the unknown category, title or staff level on the same line;
    it came one run later.  The value is now checked against every version of the table."""
    book = make_book(
        [{"project_id": "P", "department": "D"}],
        [{"project_id": "P", "line_no": 1, "date": ON, "requested": 10, **line}],
        targets_for("P"),
    )
    with pytest.raises(InputError) as info:
        review_book(book, on=None)
    found = info.value.problems
    got = [
        [c, k] if k != "unknown_value" else [c]
        for c, k in found[["column", "check"]].values.tolist()
    ]
    assert got == expected
    assert found["source_row"].tolist() == [1] * len(expected)
    unknown = found[found["check"].eq("unknown_value")]
    assert unknown["value"].isin(["五类", "教授X", "部长X"]).all()


def test_a_trip_over_the_lodging_table_change_takes_each_night_at_its_own_table() -> None:
    """The 2016 city table (财行〔2015〕497号) replaced the 2014 one on 2016-01-01: Beijing,
    厅局级 500 -> 650 yuan a night.  Nights of 2015-12-30/31: 2 x 500; of 2015-12-31 and
    2016-01-01: 500 + 650, for 2 persons.  The reason names the nights' range beside the
    average (575 is no table's cap)."""
    trip = {"expense_kind": "差旅", "city": "北京", "staff_level": "厅局级", "persons": 2}
    trip |= {"travel_item": "住宿费", "requested": 5_000, "days": 3}
    book = make_book(
        [{"project_id": "P", "department": "D"}],
        [
            {"project_id": "P", "line_no": 1, **trip, "date": "2015-12-30"},
            {"project_id": "P", "line_no": 2, **trip, "date": "2015-12-31"},
        ],
        targets_for("P"),
    )
    lines = review_book(book, on=None).lines
    assert lines["approved"].tolist() == [2 * 2 * 500, 2 * (500 + 650)]
    old, both = lines["standard_lines"]
    assert old == "travel-lodging/北京/厅局级/lodging@1=500 元/人·天 ×2晚"
    assert "lodging@1=500 元/人·天 ×1晚" in both and "lodging@2=650 元/人·天 ×1晚" in both
    # shown in the outputs' language: the unit and the nights in words
    from costperf.report.review_book import standard_lines_words

    assert standard_lines_words(lines["standard_lines"], "zh").equals(lines["standard_lines"])
    old_en, both_en = standard_lines_words(lines["standard_lines"], "en")
    assert old_en == "travel-lodging/北京/厅局级/lodging@1=500 yuan/person-day ×2 nights"
    assert "lodging@1=500 yuan/person-day ×1 night; " in both_en
    assert "lodging@2=650 yuan/person-day ×1 night" in both_en and "晚" not in both_en
    assert "标准 500 元，按标准核定" in lines.loc[0, "reason_zh"]
    assert "（各晚平均，每晚 500–650 元）" not in lines.loc[0, "reason_zh"]
    assert "标准 575 元（各晚平均，每晚 500–650 元），按标准核定" in lines.loc[1, "reason_zh"]
    assert "575 yuan (the nights' average: 500–650 yuan a night)" in lines.loc[1, "reason_en"]


def test_a_sub_fen_unit_price_is_approved_as_requested_when_within_the_caps() -> None:
    """Found by an audit: quantity x unit price with a sub-fen price (3 x 2,333.335 =
    7,000.005) was requested as 7,000.01 (half-up) but approved as 7,000.00 (numpy's
    round), a 0.01 cut and a 'reduce' on a line within every cap."""
    book = make_book(
        [{"project_id": "Q", "department": "财政"}],
        _desktops(
            {"quantity": 3, "unit_price": 2_333.335, "staff_count": 10, "requested": None},
            {"quantity": 3, "unit_price": 4_999.995, "staff_count": 10, "requested": None},
            {"quantity": 1, "unit_price": 20.005, "staff_count": 10, "requested": 20.005},
        ),
        targets_for("Q"),
    )
    lines = review_book(book, on=ON).lines
    assert lines["requested"].tolist() == [7_000.01, 14_999.99, 20.01]
    assert lines["approved"].tolist() == lines["requested"].tolist()
    assert set(lines["decision"]) == {"approve"} and lines["cut"].eq(0).all()


def test_lodging_on_a_day_trip_says_there_is_no_night() -> None:
    """Found by an audit: a 住宿费 line of a 1-day trip was rightly refused, but its reason
    read 'lodging — yuan a night is within the cap ... — yuan'."""
    trip = {"expense_kind": "差旅", "city": "北京", "staff_level": "厅局级", "days": 1}
    trip |= {"travel_item": "住宿费", "persons": 1, "requested": 300, "date": ON}
    book = make_book(
        [{"project_id": "P", "department": "D"}],
        [{"project_id": "P", "line_no": 1, **trip}],
        targets_for("P"),
    )
    line = review_book(book, on=None).lines.iloc[0]
    assert line["approved"] == 0 and line["decision"] == "reject"
    assert (
        line["reason_zh"]
        == "住宿费：出差 1 天，无住宿（0 晚），住宿费上限 0 元；申报 300 元，不予安排"
    )
    assert "—" not in line["reason_en"] and "no night away (0 nights)" in line["reason_en"]


def test_a_date_typed_as_an_excel_serial_number_is_named_so(tmp_path, monkeypatch, capsys) -> None:
    """A 日期 cell formatted as a number (46082) is refused, and the message says which
    date the serial number is, in Chinese by default."""
    from costperf.cli import main

    monkeypatch.chdir(tmp_path)
    book = tmp_path / "book"
    book.mkdir()
    (book / "projects.csv").write_text("项目编码,预算部门\nP1,区财政局\n", encoding="utf-8")
    (book / "lines.csv").write_text(
        "项目编码,序号,经济分类科目,明细名称,支出类型,申报数,会议类别,人数,天数,日期\n"
        "P1,1,30215,会议费,会议,1000,三类,10,1,46082\n",
        encoding="utf-8",
    )
    (book / "targets.csv").write_text(
        "项目编码,指标类别,指标名称,单位,目标值\nP1,产出-数量,次数,次,1\n", encoding="utf-8"
    )
    assert main(["review", "book", "--out", "out"]) == 2
    assert (
        "book/lines.csv，第 2 行，列“日期”：日期错误，值 '46082'，应为日期 YYYY-MM-DD；"
        "46082 像是 Excel 日期序列号（即 2026-03-01），请将单元格设为日期格式"
    ) in capsys.readouterr().err


def test_a_blank_department_is_named_in_the_outputs_language() -> None:
    """A request without a department is one group, stored as （未填）; the outputs name
    it from labels.csv: （未填） in Chinese, (blank) in English."""
    from costperf.report.review_book import department_words

    book = book_from_requests(pd.DataFrame({"request_id": ["A", "B"], "requested": [1.0, 2.0]}))
    stored = book.projects["department"]
    assert stored.tolist() == ["（未填）", "（未填）"]
    assert department_words(stored, "zh") is stored
    assert department_words(stored, "en").tolist() == ["(blank)", "(blank)"]
    given = pd.Series(["财务处", "（未填）"])
    assert department_words(given, "en").tolist() == ["财务处", "(blank)"]


def test_the_english_list_words_of_the_template_are_read() -> None:
    """The English template's list words (labels.csv) read as the Chinese ones do."""
    from costperf.review.batch.book import check_table, target_category_codes
    from costperf.review.expenditure.requests import normalise_kinds

    categories = pd.Series(["output: quantity", "Output: Quality", "产出-数量", "satisfaction"])
    assert target_category_codes(categories).tolist() == [
        "output_quantity", "output_quality", "output_quantity", "satisfaction"
    ]  # fmt: skip
    kinds = pd.Series(["office equipment and furniture", "Meeting", "travel", "办公设备家具"])
    assert normalise_kinds(kinds).tolist() == ["equipment", "meeting", "travel", "equipment"]
    lines = pd.DataFrame(
        {
            "project_id": ["P1"] * 4,
            "line_no": [1, 2, 3, 4],
            "requested": [1.0, 2.0, 3.0, 4.0],
            "travel_item": ["lodging", "meal allowance", "Local transport", "intercity transport"],
        }
    )
    out, problems = check_table("lines", lines)
    assert out["travel_item"].tolist() == ["lodging", "meals", "local_transport", "intercity"]
    assert problems.empty
