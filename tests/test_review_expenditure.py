"""Tests for costperf.review.expenditure and ``costperf review``.

Every expected amount is computed by hand from the figures of
/work/shared/reference/published-standards.md (written out below), not through the lookup.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CASES, assert_close, run_cli, set_cell
from costperf.cli import main
from costperf.errors import InputError
from costperf.review.expenditure import OUTPUT_COLUMNS, review_expenditure

EXAMPLE = CASES / "expenditure-requests" / "requests.csv"
LOCAL = CASES / "expenditure-requests" / "local-standards"
ON = "2024-03-01"


def review(*rows: dict, on: object = ON) -> pd.DataFrame:
    frame = pd.DataFrame([{"request_id": f"R{i}", "line_no": 1, **r} for i, r in enumerate(rows)])
    return review_expenditure(frame, on=on)


def one(**row: object) -> pd.Series:
    return review(row).iloc[0]


# ---- meetings: 财行〔2016〕214号 --------------------------------------------------------


def test_meeting_cap_is_quota_times_attendees_times_days() -> None:
    line = one(
        expense_kind="会议",
        meeting_category="一类",
        attendees=50,
        meeting_days=3,
        requested=120_000,
    )
    assert line["approvable"] == 760 * 50 * 3
    assert line["approved"] == 760 * 50 * 3
    assert line["cut"] == 120_000 - 760 * 50 * 3
    assert line["decision"] == "reduce" and line["decision_zh"] == "核减"
    assert line["standard_id"] == "meeting-fee/一类会议/total"
    assert line["document_no"] == "财行〔2016〕214号"
    assert "meeting-fee/一类会议/total@1=760" in line["standard_lines"]
    assert "760 元/人·天 × 50 人 × 3 天" in line["reason_zh"]


def test_meeting_within_cap_is_approved_and_categories_3_4_share_a_quota() -> None:
    out = review(
        {
            "expense_kind": "meeting",
            "meeting_category": "三类会议",
            "persons": 100,
            "days": 2,
            "requested": 100_000,
        },
        {
            "expense_kind": "meeting",
            "meeting_category": "4",
            "persons": 40,
            "days": 1,
            "requested": 30_000,
        },
    )
    assert out["approvable"].tolist() == [550 * 100 * 2, 550 * 40 * 1]
    assert out["approved"].tolist() == [100_000, 550 * 40 * 1]
    assert out["decision"].tolist() == ["approve", "reduce"]


def test_meeting_over_duration_or_head_count_limit_is_rejected() -> None:
    out = review(
        {
            "expense_kind": "会议",
            "meeting_category": "二类",
            "attendees": 100,
            "meeting_days": 3,
            "requested": 100_000,
        },
        {
            "expense_kind": "会议",
            "meeting_category": "四类",
            "attendees": 51,
            "meeting_days": 1,
            "requested": 20_000,
        },
        {
            "expense_kind": "会议",
            "meeting_category": "一类",
            "attendees": 500,
            "meeting_days": 5,
            "requested": 10_000,
        },  # category 1 has no limits in the table
    )
    assert out["decision"].tolist() == ["reject", "reject", "approve"]
    assert out["rule"].tolist()[:2] == ["meeting_days_limit", "meeting_attendees_limit"]
    assert out["approved"].tolist() == [0, 0, 10_000]
    assert out["cut"].tolist() == [100_000, 20_000, 0]
    assert out["verified"].all()  # the limits are S since issue 15 (secondary sources)
    assert out.loc[0, "reason_zh"].startswith("二类会议会期 3 天超过上限 2 天；")
    assert "未经核实" not in out.loc[0, "reason_zh"]


# ---- training: 财行〔2016〕540号 --------------------------------------------------------


def test_training_quota_plus_lecturer_fee() -> None:
    line = one(
        expense_kind="培训",
        training_category="二类",
        trainees=30,
        training_days=5,
        arrival_departure_days=2,
        lecturer_title="副高级",
        teaching_hours=12,
        requested=150_000,
    )
    # 540号 第九条: arrival and departure count up to 1 day each: 5 + 2 = 7 days
    expected = 650 * 30 * 7 + 500 * 12
    assert line["approvable"] == expected == 142_500
    assert line["approved"] == expected and line["cut"] == 150_000 - expected
    assert "training-fee@1" in line["standard_version"]
    assert "training-lecturer-fee@1" in line["standard_version"]


def test_training_days_beyond_30_at_70_percent() -> None:
    line = one(
        expense_kind="training",
        training_category="三类培训",
        trainees=40,
        training_days=35,
        requested=1_000_000,
    )
    assert_close(line["approvable"], 550 * 40 * (30 + 5 * 0.7))
    assert_close(line["approved"], 737_000)
    line = one(
        expense_kind="training",
        training_category="三类",
        trainees=10,
        training_days=31,
        requested=1_000_000,
    )
    assert_close(line["approvable"], 550 * 10 * (30 + 1 * 0.7))


def test_lecturer_hours_capped_at_4_per_half_day() -> None:
    line = one(
        expense_kind="培训",
        lecturer_title="院士",
        teaching_hours=10,
        teaching_half_days=2,
        requested=20_000,
    )
    assert line["approvable"] == 1500 * (2 * 4)
    assert line["approved"] == 12_000 and line["decision"] == "reduce"


# ---- arrival and departure, day tiers: 540号 第九条 and a local variant --------------------
#
# Central (training-fee): arrival and departure count up to 1 day EACH (分别不得超过1天), so
# at most 2 together; days up to 30 in full, beyond 30 at 70%.  Local (the illustrative
# table in cases/expenditure-requests/local-standards): together at most 1 day (合计不得超过
# 1天); days up to 15 in full, 16-30 at 80%, beyond 30 at 70%.  Quotas: 一类 760, 二类 650,
# 三类 550 yuan per person-day in both (published-standards.md §2).


@pytest.fixture(scope="module")
def local_standards():
    from costperf.standards import read_standards

    return read_standards(LOCAL)


def training(**row: object) -> dict:
    return {"expense_kind": "培训", **row}


def test_issue_15_worked_example_is_no_longer_cut() -> None:
    line = one(
        **training(
            training_category="二类", trainees=40, training_days=5, arrival_departure_days=2
        ),
        requested=182_000,
    )
    assert line["approvable"] == 650 * 40 * (5 + 2) == 182_000
    assert line["approved"] == 182_000 and line["cut"] == 0 and line["decision"] == "approve"
    assert "计费 7 天（培训 5 天 + 报到撤离 2 天）" in line["reason_zh"]


@pytest.mark.parametrize(
    ("facts", "counted"),
    [
        ({"arrival_departure_days": 2}, 2),  # together: capped at 2
        ({"arrival_departure_days": 3}, 2),
        ({"arrival_departure_days": 1}, 1),
        ({"arrival_days": 1, "departure_days": 1}, 2),
        ({"arrival_days": 2, "departure_days": 1}, 2),  # arrival counts 1
        ({"arrival_days": 1}, 1),  # departure blank = 0
        ({"departure_days": 3}, 1),
        ({"arrival_days": 0.5, "departure_days": 0.5}, 1),
        ({"arrival_days": 1, "departure_days": 1, "arrival_departure_days": 2}, 2),
        ({}, 0),
    ],
)
def test_central_arrival_and_departure_count_one_day_each(facts: dict, counted: float) -> None:
    # 三类, 37 trainees, 12 days: well below 30 days, so the tiers do not apply
    line = one(
        **training(training_category="三类", trainees=37, training_days=12, **facts),
        requested=1_000_000,
    )
    assert line["approvable"] == pytest.approx(550 * 37 * (12 + counted), abs=0.005)


def test_central_to_the_fen_with_days_beyond_30() -> None:
    # 33 days + arrival 1 + departure 1 = 35 days: 30 + 5 x 0.7 = 33.5 chargeable days;
    # 550 x 37 x 33.5 = 681,725.00; requested 700,000.55 -> cut 18,275.55
    line = one(
        **training(
            training_category="三类",
            trainees=37,
            training_days=33,
            arrival_days=1,
            departure_days=1,
        ),
        requested=700_000.55,
    )
    assert line["approvable"] == 681_725.00
    assert line["approved"] == 681_725.00 and line["cut"] == 18_275.55
    assert "超过30天部分按70%计" in line["reason_zh"]
    assert "days beyond 30 at 70%" in line["reason_en"]


def test_local_variant_together_one_day_and_two_tiers(local_standards) -> None:
    rows = [
        # 二类 23 x (17 + 1 [2 claimed, together <= 1]) = 18 days -> 15 + 3 x 0.8 = 17.4
        training(
            training_category="二类",
            trainees=23,
            training_days=17,
            arrival_days=1,
            departure_days=1,
            requested=270_000.01,
        ),
        # 一类 7 x (40 + 1) = 41 days -> 15 + 15 x 0.8 + 11 x 0.7 = 34.7
        training(
            training_category="一类",
            trainees=7,
            training_days=40,
            arrival_departure_days=1,
            requested=190_000.37,
        ),
        # the issue's request under the local rule: 5 + 1 days
        training(
            training_category="二类",
            trainees=40,
            training_days=5,
            arrival_departure_days=2,
            requested=182_000,
        ),
        # 三类 9 x 15 days exactly, nothing claimed for arrival: all at the full quota
        training(training_category="三类", trainees=9, training_days=15, requested=80_000),
    ]
    frame = pd.DataFrame([{"request_id": f"L{i}", "line_no": 1, **r} for i, r in enumerate(rows)])
    out = review_expenditure(frame, local_standards, on=ON)
    assert out["approvable"].tolist() == [
        260_130.00,  # 650 x 23 x 17.4
        184_604.00,  # 760 x 7 x 34.7
        156_000.00,  # 650 x 40 x 6
        74_250.00,  # 550 x 9 x 15
    ]
    assert out["cut"].tolist() == [9_870.01, 5_396.37, 26_000.00, 5_750.00]
    assert not out["verified"].any()  # the example table is U throughout
    assert "合计最多计 1 天" in out.loc[0, "reason_zh"]
    assert "超过15天至30天部分按80%计" in out.loc[0, "reason_zh"]
    assert "超过15天至30天部分按80%、超过30天部分按70%计" in out.loc[1, "reason_zh"]
    assert "80%" not in out.loc[3, "reason_zh"]


def test_a_local_table_beside_the_shipped_ones_needs_no_code(tmp_path, local_standards) -> None:
    """A province's table under its own id, read with the shipped tables (``tables=``)."""
    from costperf.standards import package_standards_dir, read_standards

    text = (LOCAL / "example-local-training-fee.toml").read_text(encoding="utf-8")
    text = text.replace('table_id = "training-fee"', 'table_id = "province-training-fee"')
    text = text.replace(
        "tiers = [{ upto = 15, rate = 1 }, { upto = 30, rate = 0.8 }, { rate = 0.7 }]",
        "tiers = [{ upto = 10, rate = 1 }, { upto = 20, rate = 0.9 }, { rate = 0.6 }]",
    )
    text = text.replace('status = "published"', 'status = "draft"')
    (tmp_path / "p.toml").write_text(text, encoding="utf-8")
    shutil.copy(LOCAL / "example-local-training-fee.csv", tmp_path / "p.csv")
    from costperf.standards import seal_table

    seal_table(tmp_path / "p.toml")
    standards = read_standards([package_standards_dir(), tmp_path / "p.toml"])
    frame = pd.DataFrame(
        [
            {
                "request_id": "P",
                "line_no": 1,
                **training(
                    training_category="三类",
                    trainees=3,
                    training_days=24,
                    arrival_days=1,
                    departure_days=1,
                    requested=50_000,
                ),
            }
        ]
    )
    out = review_expenditure(frame, standards, on=ON, tables={"training": "province-training-fee"})
    # 24 + 1 = 25 days: 10 + 10 x 0.9 + 5 x 0.6 = 22 -> 550 x 3 x 22 = 36,300
    assert out.loc[0, "approvable"] == 36_300.00
    assert "province-training-fee@1" in out.loc[0, "standard_version"]
    central = review_expenditure(frame, standards, on=ON)
    assert central.loc[0, "approvable"] == 550 * 3 * (24 + 2)


def test_arrival_and_departure_that_disagree_is_an_error() -> None:
    with pytest.raises(InputError, match="column 'arrival_departure_days'.*报到天数 \\+ 撤离天数"):
        one(
            **training(
                training_category="二类",
                trainees=1,
                training_days=1,
                arrival_days=1,
                departure_days=1,
                arrival_departure_days=1,
            ),
            requested=1,
        )
    with pytest.raises(InputError, match="column 'arrival_days': got '-1'"):
        one(
            **training(training_category="二类", trainees=1, training_days=1, arrival_days=-1),
            requested=1,
        )


@settings(max_examples=30, deadline=None)
@given(
    st.integers(0, 45),
    st.one_of(st.none(), st.integers(0, 3)),
    st.one_of(st.none(), st.integers(0, 3)),
    st.one_of(st.none(), st.integers(0, 4)),
)
def test_chargeable_days_match_an_independent_count(days, arrival, departure, together) -> None:
    facts = {"arrival_days": arrival, "departure_days": departure}
    facts = {k: v for k, v in facts.items() if v is not None}
    if not facts and together is not None:
        facts["arrival_departure_days"] = together
    line = one(
        **training(training_category="二类", trainees=10, training_days=days, **facts),
        requested=10_000_000,
    )
    if "arrival_departure_days" in facts:
        extra = min(together, 2)
    else:
        extra = min(arrival or 0, 1) + min(departure or 0, 1)
    total = days + extra
    full = min(total, 30) + 0.7 * max(total - 30, 0)
    assert line["approvable"] == pytest.approx(round(650 * 10 * full, 2), abs=0.005)


# ---- one lecture to several classes is paid once: flag for manual review ------------------


def test_repeated_lecture_of_one_request_is_flagged_not_cut() -> None:
    lecture = {
        "expense_kind": "培训",
        "lecturer_title": "副高级",
        "teaching_hours": 3,
        "requested": 1_500,
        "date": "2024-05-06",
    }
    frame = pd.DataFrame(
        [
            {"request_id": "T1", "line_no": 1, **lecture, "lecturer_name": "李华"},
            {
                "request_id": "T1",
                "line_no": 2,
                **lecture,
                "lecturer_name": "李 华",
                "lecturer_title": "副高级技术职称",
            },  # same person and title, other spelling
            {
                "request_id": "T1",
                "line_no": 3,
                **lecture,
                "lecturer_name": "李华",
                "teaching_hours": 4,
                "requested": 2_000,
            },  # other hours
            {
                "request_id": "T1",
                "line_no": 4,
                **lecture,
                "lecturer_name": "李华",
                "date": "2024-05-07",
            },  # other date
            {"request_id": "T2", "line_no": 1, **lecture, "lecturer_name": "李华"},  # other request
            {"request_id": "T1", "line_no": 5, **lecture, "lecturer_name": "王芳"},
            {"request_id": "T1", "line_no": 6, **lecture},  # no name: cannot tell
            {"request_id": "T1", "line_no": 7, **lecture},
            {"request_id": "T1", "line_no": 8, **lecture, "lecturer_name": "李华"},  # third time
        ]
    )
    out = review_expenditure(frame)
    assert out["manual_review"].tolist() == [
        False,
        True,
        False,
        False,
        False,
        False,
        False,
        False,
        True,
    ]
    assert (out["approved"] == out["requested"]).all()  # flagged, not cut
    reason = out.loc[1, "manual_review_reason_zh"]
    assert reason.startswith("与本项目序号 1 的讲课为同一讲课人员（李 华）")
    assert "不重复计算讲课费（财行〔2016〕540号）" in reason
    assert "paid once" in out.loc[8, "manual_review_reason_en"]
    assert "line 1 of this project" in out.loc[8, "manual_review_reason_en"]
    assert out.loc[0, "manual_review_reason_zh"] == ""


def test_the_first_of_repeated_lectures_is_the_first_by_line_number() -> None:
    """Rows written 2, 1: line 2 repeats line 1, not the other way round."""
    lecture = {"request_id": "T1", "expense_kind": "培训", "lecturer_title": "副高级"}
    lecture |= {"teaching_hours": 3, "requested": 1_500, "date": "2024-05-06"}
    lecture |= {"lecturer_name": "李华"}
    frame = pd.DataFrame([{"line_no": 2, **lecture}, {"line_no": 1, **lecture}])
    out = review_expenditure(frame)
    assert out["manual_review"].tolist() == [True, False]
    assert out.loc[0, "manual_review_reason_zh"].startswith("与本项目序号 1 的讲课")


def test_lines_of_other_kinds_are_never_flagged() -> None:
    out = review(
        {
            "expense_kind": "会议",
            "meeting_category": "二类",
            "attendees": 10,
            "meeting_days": 1,
            "requested": 1,
        },
        {
            "expense_kind": "会议",
            "meeting_category": "二类",
            "attendees": 10,
            "meeting_days": 1,
            "requested": 1,
        },
    )
    assert not out["manual_review"].any()
    assert out["manual_review_reason_en"].tolist() == ["", ""]


# ---- briefing meetings 传达、布置类会议 at most 1 day --------------------------------------


def test_briefing_meeting_at_most_one_day() -> None:
    out = review(
        {
            "expense_kind": "会议",
            "meeting_category": "三类",
            "meeting_subtype": "传达布置类",
            "attendees": 40,
            "meeting_days": 2,
            "requested": 40_000,
        },
        {
            "expense_kind": "会议",
            "meeting_category": "三类",
            "meeting_subtype": "传达、布置类会议",
            "attendees": 40,
            "meeting_days": 1,
            "requested": 30_000,
        },
        {
            "expense_kind": "会议",
            "meeting_category": "三类",
            "attendees": 40,
            "meeting_days": 2,
            "requested": 40_000,
        },  # no subtype: the 2-day limit
    )
    assert out["decision"].tolist() == ["reject", "reduce", "approve"]
    assert out["approved"].tolist() == [0, 550 * 40 * 1, 40_000]
    assert out.loc[0, "rule"] == "meeting_days_limit"
    assert out.loc[0, "reason_zh"].startswith("三类会议（传达布置类）会期 2 天超过上限 1 天")
    assert "meeting-limits/三类会议/传达布置类/max_days@1=1 天" in out.loc[1, "standard_lines"]
    assert "meeting-limits/三类会议/max_days@1=2 天" in out.loc[2, "standard_lines"]


def test_unknown_meeting_subtype_is_an_error() -> None:
    with pytest.raises(InputError, match="column 'meeting_subtype': got '研讨类'.*传达布置类"):
        one(
            expense_kind="会议",
            meeting_category="二类",
            meeting_subtype="研讨类",
            attendees=1,
            meeting_days=1,
            requested=1,
        )


# ---- travel: 财行〔2013〕531号 and the 2016 city table -------------------------------------


def test_travel_lodging_meals_transport() -> None:
    line = one(
        expense_kind="差旅",
        city="北京市",
        staff_level="司局级",
        date="2024-05-06",
        travel_days=3,
        nights=2,
        travellers=2,
        requested=5_000,
    )
    expected = 2 * (650 * 2 + (100 + 80) * 3)
    assert line["approvable"] == expected
    assert line["approved"] == expected


def test_travel_peak_season_per_night() -> None:
    # 大连 peak Jul-Sep: nights of 6-29 and 6-30 off-peak (350), 7-1 peak (420)
    line = one(
        expense_kind="差旅",
        city="大连",
        staff_level="其他人员",
        date="2024-06-29",
        end_date="2024-07-02",
        requested=3_000,
    )
    expected = (350 + 350 + 420) + (100 + 80) * 4
    assert line["approvable"] == expected
    assert "旺季" in line["standard_lines"] and "淡季" in line["standard_lines"]
    # 海口 peak Nov-Feb wraps the year end
    line = one(
        expense_kind="差旅",
        city="海口",
        staff_level="省部级",
        date="2024-12-30",
        travel_days=3,
        requested=10_000,
    )
    assert line["approvable"] == 1040 * 2 + (100 + 80) * 3


def test_travel_lhasa_meals_120_and_old_table_by_date() -> None:
    line = one(
        expense_kind="差旅",
        city="拉萨",
        staff_level="其他人员",
        date="2024-07-10",
        travel_days=3,
        nights=2,
        requested=1_800,
    )
    assert line["approvable"] == 530 * 2 + (120 + 80) * 3
    assert line["approved"] == 1_660
    line = one(
        expense_kind="差旅",
        city="上海",
        staff_level="厅局级",
        date="2015-05-01",
        travel_days=2,
        requested=5_000,
    )
    assert line["approvable"] == 500 * 1 + (100 + 80) * 2  # 2014 table: 800/500/350
    assert "travel-lodging@1" in line["standard_version"]


# ---- equipment: 财资〔2016〕27号 -----------------------------------------------------------


def test_equipment_over_quantity_and_price_cap() -> None:
    line = one(
        expense_kind="办公设备",
        equipment_item="台式计算机",
        quantity=10,
        unit_price=5_500,
        staff_count=20,
        existing_quantity=15,
    )
    assert line["requested"] == 10 * 5_500
    assert line["quantity_cap"] == 20 * 1.0 and line["approved_quantity"] == 20 - 15
    assert line["approved"] == (20 - 15) * 5_000
    assert line["decision"] == "reduce"


def test_equipment_copier_tiers_and_replacement() -> None:
    # copier: 100 / 20 + 30 / 30 = 6 for 130 staff; replacing 2 of 5 held
    line = one(
        expense_kind="办公设备",
        equipment_item="复印机",
        quantity=2,
        unit_price=30_000,
        staff_count=130,
        existing_quantity=5,
        replaced_age_years=7,
        requested=60_000,
    )
    assert line["quantity_cap"] == 100 / 20 + 30 / 30
    assert line["approved"] == 60_000 and line["decision"] == "approve"


def test_equipment_replacement_before_min_years_is_rejected_unless_damaged() -> None:
    out = review(
        {
            "expense_kind": "办公设备",
            "equipment_item": "便携式计算机",
            "quantity": 2,
            "unit_price": 6_000,
            "staff_count": 10,
            "existing_quantity": 5,
            "replaced_age_years": 3,
        },
        {
            "expense_kind": "办公设备",
            "equipment_item": "便携式计算机",
            "quantity": 2,
            "unit_price": 6_000,
            "staff_count": 10,
            "existing_quantity": 5,
            "replaced_age_years": 3,
            "damaged": "是",
        },
    )
    assert out["decision"].tolist() == ["reject", "approve"]
    assert out["approved"].tolist() == [0, 2 * 6_000]
    assert out.loc[0, "rule"] == "equipment_min_service_years"


def test_furniture_by_staff_level_and_meeting_table_by_area() -> None:
    out = review(
        {
            "expense_kind": "办公设备",
            "equipment_item": "书柜",
            "quantity": 3,
            "unit_price": 1_500,
            "staff_count": 5,
            "staff_level": "司局级",
            "existing_quantity": 8,
        },
        {
            "expense_kind": "办公设备",
            "equipment_item": "会议桌",
            "quantity": 1,
            "room_area_m2": 60,
            "requested": 80_000,
        },
        {
            "expense_kind": "办公设备",
            "equipment_item": "办公椅",
            "quantity": 4,
            "unit_price": 900,
            "staff_count": 4,
            "staff_level": "处级",
        },
    )
    assert out["approved"].tolist() == [(5 * 2 - 8) * 1_500, 60 * 1_200, 4 * 800]
    assert out["approvable"].tolist() == [(5 * 2 - 8) * 2_000, 60 * 1_200, 4 * 800]


# ---- input errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ({"expense_kind": "宴请", "requested": 1}, "column 'expense_kind'"),
        (
            {
                "expense_kind": "会议",
                "meeting_category": "五类",
                "attendees": 1,
                "meeting_days": 1,
                "requested": 1,
            },
            "unknown category '五类会议'",
        ),
        (
            {"expense_kind": "会议", "meeting_category": "一类", "meeting_days": 1, "requested": 1},
            "column '参会人数'",
        ),
        (
            {
                "expense_kind": "差旅",
                "city": "北京",
                "staff_level": "处长",
                "travel_days": 2,
                "requested": 1,
            },
            "column 'staff_level': got '处长', expected one of: 省部级、厅局级、其他人员",
        ),
        (
            {
                "expense_kind": "办公设备",
                "equipment_item": "台式计算机",
                "quantity": -1,
                "unit_price": 1,
                "staff_count": 1,
            },
            "column 'quantity': got '-1'",
        ),
        (
            {
                "expense_kind": "办公设备",
                "equipment_item": "台式计算机",
                "quantity": 1,
                "unit_price": 1,
            },
            "编制内实有人数",
        ),
        (
            {"expense_kind": "培训", "lecturer_title": "中级", "teaching_hours": 2, "requested": 1},
            "unknown professional_title '中级'",
        ),
    ],
)
def test_bad_input_names_row_and_column(row: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        review(row)


def test_city_outside_the_lodging_table_is_flagged_not_rejected() -> None:
    """A city the lodging table does not list is kept as requested and flagged; the
    other lines are reviewed (issue 9: one such trip used to reject the whole file)."""
    out = review(
        {
            "expense_kind": "差旅",
            "city": "成都",
            "staff_level": "其他人员",
            "travel_days": 2,
            "requested": 1800,
        },
        {
            "expense_kind": "差旅",
            "city": "北京",
            "staff_level": "其他人员",
            "travel_days": 2,
            "requested": 9000,
        },
    )
    assert out.loc[0, "approved"] == 1800 and out.loc[0, "manual_review"]
    assert "成都不在住宿费标准表中" in out.loc[0, "manual_review_reason_zh"]
    # 北京 其他人员: 500 x 1 night + (100 + 80) x 2 days = 860
    assert out.loc[1, "approved"] == 860 and not out.loc[1, "manual_review"]


def test_travel_without_a_date_is_an_error() -> None:
    with pytest.raises(InputError, match="start date"):
        review(
            {
                "expense_kind": "差旅",
                "city": "北京",
                "staff_level": "其他人员",
                "travel_days": 2,
                "requested": 1,
            },
            on=None,
        )


# ---- properties ----------------------------------------------------------------------------

_kinds = st.sampled_from(
    [
        {"expense_kind": "会议", "meeting_category": "二类"},
        {"expense_kind": "培训", "training_category": "三类"},
        {"expense_kind": "差旅", "city": "青岛", "staff_level": "厅局级"},
    ]
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            _kinds,
            st.integers(0, 400),
            st.integers(1, 40),
            st.floats(0, 2e6, allow_nan=False),
            st.dates(pd.Timestamp("2017-01-01").date(), pd.Timestamp("2026-12-31").date()),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_approved_never_exceeds_requested_or_cap(lines: list) -> None:
    rows = [
        {**kind, "persons": n, "days": d, "requested": round(r, 2), "date": str(when)}
        for kind, n, d, r, when in lines
    ]
    out = review(*rows)
    assert list(out.columns) == OUTPUT_COLUMNS
    assert (out["approved"] <= out["requested"] + 1e-9).all()
    assert (out["approved"] <= out["approvable"] + 1e-9).all()
    assert_close(out["cut"], out["requested"] - out["approved"], atol=1e-6)
    assert (out["cut"] >= 0).all()
    assert out["decision"].isin(["approve", "reduce", "reject"]).all()


# ---- the example case and the command line ------------------------------------------------


def test_example_case_amounts() -> None:
    from costperf.io import read_checked
    from costperf.schemas import REQUESTS

    out = review_expenditure(read_checked(EXAMPLE, REQUESTS))
    approved = dict(
        zip(out["request_id"] + "/" + out["line_no"].astype(str), out["approved"], strict=True)
    )
    assert approved["HY-01/1"] == 760 * 50 * 3
    assert approved["HY-02/1"] == 650 * 120 * 2
    assert approved["HY-03/1"] == 0 and approved["HY-04/1"] == 0
    assert approved["HY-05/1"] == 0  # 传达布置类, 2 days > 1
    assert approved["PX-01/1"] == 650 * 30 * (5 + 1)
    assert approved["PX-01/2"] == approved["PX-01/3"] == 500 * 12
    assert approved["PX-02/1"] == pytest.approx(550 * 40 * (30 + 6 * 0.7) + 1000 * 2 * 4)
    assert approved["PX-03/1"] == 650 * 40 * 7 == 182_000  # issue 15: no longer 156,000
    assert approved["PX-04/1"] == 550 * 20 * (3 + 1 + 1)  # departure 2 counts 1
    key = out["request_id"] + "/" + out["line_no"].astype(str)
    assert key[out["manual_review"]].tolist() == ["PX-01/3"]
    assert approved["CL-01/1"] == 2_600  # cap 650 * 3 + 180 * 4 = 2,670 (海口 peak)
    assert approved["CL-02/1"] == 2 * ((350 + 350 + 420) + 180 * 4)
    assert approved["CL-03/1"] == 530 * 2 + 200 * 3
    assert approved["SB-01/1"] == 5 * 5_000
    assert approved["SB-02/1"] == 60_000 and approved["SB-03/1"] == 0
    assert approved["SB-04/1"] == 60 * 1_200
    assert np.isclose(out["cut"], out["requested"] - out["approved"]).all()


def test_cli_writes_chinese_headers(tmp_path) -> None:
    out = tmp_path / "reviewed.csv"
    assert main(["review", str(EXAMPLE), "-o", str(out)]) == 0
    frame = pd.read_csv(out, encoding="utf-8-sig")
    assert {"申报编码", "审定数", "核减数", "审核结论", "核减理由", "文号"} <= set(frame.columns)
    assert len(frame) == 18
    assert {"需人工复核", "人工复核原因", "核减理由（英文）"} <= set(frame.columns)
    assert "审核意见" not in frame  # the decision once, in words (as lines.csv shows it)
    en = tmp_path / "reviewed-en.xlsx"
    assert main(["review", str(EXAMPLE), "--lang", "en", "-o", str(en)]) == 0
    assert "Approved" in pd.read_excel(en, engine="calamine").columns


def test_cli_one_table_shows_words_in_its_language(tmp_path) -> None:
    """``-o`` shows what the batch outputs show: a CSV as lines.csv (Chinese words; under
    en canonical headers and codes), an XLSX as the 明细 sheet (words in its language,
    the other language's texts left out); a blank department from labels.csv."""
    shown = {}
    for lang in ("zh", "en"):
        for suffix in ("csv", "xlsx"):
            out = tmp_path / f"reviewed-{lang}.{suffix}"
            assert main(["review", str(EXAMPLE), "--lang", lang, "-o", str(out)]) == 0
            read = pd.read_csv if suffix == "csv" else pd.read_excel
            kwargs = {"encoding": "utf-8-sig"} if suffix == "csv" else {"engine": "calamine"}
            shown[lang, suffix] = read(out, dtype=str, keep_default_na=False, **kwargs)
    first = {k: frame.iloc[0].to_dict() for k, frame in shown.items()}
    zh = {
        "支出类型": "会议",
        "审核结论": "通过",
        "审核规则": "会议费综合定额",
        "适用规则": "会议费标准",
    }
    zh |= {"标准已核实": "是", "需人工复核": "否", "预算部门": "（未填）"}
    for suffix in ("csv", "xlsx"):
        assert {k: first["zh", suffix][k] for k in zh} == zh
    en_csv = {"expense_kind": "meeting", "decision": "approve", "rule": "meeting_quota"}
    en_csv |= {"review_rule": "meeting", "verified": "True", "department": "(blank)"}
    assert {k: first["en", "csv"][k] for k in en_csv} == en_csv
    en_xlsx = {"Decision": "approve", "Rule": "meeting composite quota", "Verified": "yes"}
    en_xlsx |= {"Review rule": "meeting fee standard", "Manual review": "no"}
    en_xlsx |= {"Department": "(blank)"}
    assert {k: first["en", "xlsx"][k] for k in en_xlsx} == en_xlsx
    assert not [c for c in shown["en", "xlsx"].columns if "(zh)" in c]
    assert "Reason" in shown["en", "xlsx"] and "审核意见" not in shown["zh", "xlsx"]
    trip = shown["en", "csv"].set_index("request_id").loc["CL-02", "standard_lines"]
    assert "lodging@2=350 yuan/person-day ×2 nights; " in trip
    assert "lodging@2=420 yuan/person-day ×1 night; " in trip
    trip_zh = shown["zh", "csv"].set_index("申报编码").loc["CL-02", "适用标准值"]
    assert "lodging@2=350 元/人·天 ×2晚; " in trip_zh


def test_cli_bad_input_exits_2_naming_file_row_column(tmp_path) -> None:
    data = tmp_path / "requests.csv"
    shutil.copy(EXAMPLE, data)
    set_cell(data, 14, "人员级别", "处长")  # file row 14 = CL-02; not a staff level
    code, stdout, stderr = run_cli(
        "review", data, "-o", tmp_path / "out.csv", "--lang", "en", cwd=tmp_path
    )
    assert code == 2, stderr
    assert "requests.csv, row 14, column '人员级别'" in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "out.csv").exists()
    assert (tmp_path / "out.problems.csv").exists()


def test_cli_local_variant_example(tmp_path) -> None:
    out = tmp_path / "local.csv"
    requests = CASES / "expenditure-requests" / "requests-local.csv"
    assert main(["review", str(requests), "--standards", str(LOCAL), "-o", str(out)]) == 0
    frame = pd.read_csv(out, encoding="utf-8-sig")
    # LX-01 650 x 40 x 6; LX-02 550 x 30 x (15 + 6 x 0.8); LX-03 760 x 10 x (15 + 12 + 4.2)
    assert frame["审定数"].tolist() == [156_000.00, 326_700.00, 237_120.00]
    assert frame["核减数"].tolist() == [26_000.00, 36_300.00, 62_880.00]


def test_an_uprated_version_in_standards_is_added_after_the_shipped_ones(tmp_path) -> None:
    """travel-lodging@2 uprated by 1.10 (to 10 yuan) from 2027 and sealed, alone in
    --standards: a 2026 trip still meets the shipped v2 (650 a night in 北京 for 厅局级),
    a 2027 trip the new v3 (650 x 1.10 = 715 -> 720); the folder does not replace the
    table, which would leave 2026 with none in force."""
    folder = tmp_path / "std"
    uprate = ["standards", "uprate", "travel-lodging@2", "--index", "1.10", "--step", "10"]
    assert main([*uprate, "--effective", "2027-01-01", "-o", str(folder)]) == 0
    assert main(["standards", "seal", str(folder / "travel-lodging-v3.toml")]) == 0
    requests = tmp_path / "req.csv"
    requests.write_text(
        "申报编码,序号,支出类型,日期,申报数,人数,天数,出差城市,人员级别,住宿天数\n"
        "CL-1,1,差旅,2026-06-01,9000,1,3,北京,厅局级,2\n"
        "CL-2,1,差旅,2027-03-01,9000,1,3,北京,厅局级,2\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    assert main(["review", str(requests), "--standards", str(folder), "-o", str(out)]) == 0
    frame = pd.read_csv(out, encoding="utf-8-sig")
    # lodging x 2 nights + meals 100 x 3 days + local transport 80 x 3 days
    assert frame["审定数"].tolist() == [650 * 2 + 100 * 3 + 80 * 3, 720 * 2 + 100 * 3 + 80 * 3]
    assert [v.split("; ")[0] for v in frame["标准版本"]] == ["travel-lodging@2", "travel-lodging@3"]


def test_a_table_not_made_from_a_shipped_version_replaces_it(tmp_path) -> None:
    """The same v3 with its basis hash changed is a local table of that id: it replaces
    the shipped one (and a 2026 line then has no table in force)."""
    from costperf.commands.review import continues_shipped
    from costperf.standards import read_standards, shipped_standards

    folder = tmp_path / "std"
    uprate = ["standards", "uprate", "travel-lodging@2", "--index", "1.10", "--step", "10"]
    assert main([*uprate, "--effective", "2027-01-01", "-o", str(folder)]) == 0
    shipped = shipped_standards()
    assert continues_shipped(read_standards(folder), shipped, "travel-lodging")
    header = folder / "travel-lodging-v3.toml"
    text = header.read_text(encoding="utf-8")
    header.write_text(text.replace('basis_hash = "sha256:', 'basis_hash = "sha256:0'), "utf-8")
    assert not continues_shipped(read_standards(folder), shipped, "travel-lodging")
    header.write_text(text.replace("version = 3", "version = 2"), encoding="utf-8")
    assert not continues_shipped(read_standards(folder), shipped, "travel-lodging")


def test_category_spellings_normalise_and_others_stay_as_written() -> None:
    from costperf.review.expenditure.requests import normalise_category

    got = normalise_category(
        pd.Series(["二类", "2", "二类会议", "３", " 一类 ", "四", "-1", "12", "False", "五类"]),
        "会议",
    )
    assert got.tolist() == [
        "二类会议",
        "二类会议",
        "二类会议",
        "三类会议",
        "一类会议",
        "四类会议",
        "-1",  # no class: reported as written (not '-一类会议', not '-1类会议')
        "12",
        "False",  # an Excel TRUE/FALSE cell: not 'False类会议'
        "五类会议",  # a class the table does not have: reported by the lookup
    ]


def test_a_city_the_lodging_table_does_not_list_quotes_no_cap(tmp_path) -> None:
    """成都 is not in the lodging table: the line is kept as requested and flagged, and
    its reason says why, not 'above the cap of 0 yuan'; a blank 费用项目 beside a filled
    one is a whole trip (the single-sheet format read it as an unknown component)."""
    requests = tmp_path / "req.csv"
    requests.write_text(
        "申报编码,序号,支出类型,费用项目,日期,申报数,人数,天数,出差城市,人员级别,住宿天数\n"
        "CL-1,1,差旅,住宿费,2027-04-01,1500,2,3,成都,其他人员,2\n"
        "CL-2,1,差旅,,2027-04-01,3000,1,5,乌鲁木齐,其他人员,4\n"
        "CL-3,1,差旅,伙食补助费,2027-04-01,1000,2,3,成都,其他人员,\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    assert main(["review", str(requests), "-o", str(out)]) == 0
    frame = pd.read_csv(out, encoding="utf-8-sig")
    assert frame["审定数"].tolist() == [1500.0, 3000.0, 100 * 3 * 2]
    assert frame["单价上限"].isna().tolist() == [True, True, False]
    assert frame["核减理由"].tolist()[:2] == [
        "住宿当晚适用的住宿费标准未列出成都，无适用标准；申报 1,500 元按申报数列示，需人工审核",
        "住宿当晚适用的住宿费标准未列出乌鲁木齐，无适用标准；申报 3,000 元按申报数列示，需人工审核",
    ]
    assert frame["核减理由（英文）"].iloc[0] == (
        "the lodging table in force on the nights does not list 成都: no applicable standard; "
        "requested 1,500 yuan kept as requested: check by hand"
    )
    assert frame["需人工复核"].tolist() == ["是", "是", "否"]


def test_an_intercity_fare_is_passed_not_within_a_standard(tmp_path) -> None:
    """Found by an audit: an intercity fare (no cap) read '未超过标准，通过'."""
    requests = tmp_path / "req.csv"
    requests.write_text(
        "申报编码,序号,支出类型,费用项目,日期,申报数,人数,天数,出差城市,人员级别\n"
        "CL-1,1,差旅,城市间交通费,2027-04-01,5000,2,3,北京,其他人员\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    assert main(["review", str(requests), "-o", str(out)]) == 0
    frame = pd.read_csv(out, encoding="utf-8-sig")
    assert frame["核减理由"].tolist() == ["城市间交通费按实际票价；申报 5,000 元按申报数列示"]
    assert frame["核减理由（英文）"].tolist() == [
        "intercity fares as ticketed; requested 5,000 yuan passed as requested"
    ]
    assert frame["审定数"].tolist() == [5000.0] and frame["需人工复核"].tolist() == ["是"]


def test_a_missing_fact_column_is_named_as_the_file_names_its_columns(
    tmp_path, monkeypatch
) -> None:
    """A desk without its staff level, in a file of Chinese headers with no 人员级别
    column: the column to add and the item are named in Chinese, not by their codes."""
    monkeypatch.chdir(tmp_path)
    book = tmp_path / "d.csv"
    book.write_text(
        "申报编码,支出类型,申报数,设备家具品目,数量,单价,编制内实有人数\n"
        "R1,办公设备,3000,办公桌,1,3000,10\n",
        encoding="utf-8",
    )
    code, _, err = run_cli("review", book, "--out", "o", "--date", "2026-03-01", cwd=tmp_path)
    assert code == 2
    assert "d.csv，第 2 行，列“人员级别”" in err and "品目“办公桌”" in err
    assert "staff_level" not in err and "desk" not in err


def test_lines_decided_in_the_rules_order_are_those_decided_in_their_own() -> None:
    """``decide_lines`` over the rules' results as they come (grouped by rule: the batch
    review's order) gives every line the row it gets over them in the lines' order."""
    from costperf.review.expenditure.decide import decide_lines
    from costperf.review.expenditure.requests import prepare_requests
    from costperf.review.expenditure.review import apply_line_rules
    from costperf.review.registry import default_tables
    from costperf.schemas import REQUESTS
    from costperf.standards import shipped_standards

    travel = dict(expense_kind="差旅", city="北京市", staff_level="司局级", date="2024-05-06")
    travel |= dict(travel_days=3, nights=2, travellers=2)
    kinds = [
        dict(expense_kind="会议", meeting_category="一类", attendees=50, meeting_days=3),
        dict(expense_kind="办公设备", equipment_item="台式计算机", quantity=10, unit_price=5_500),
        travel,
        dict(expense_kind="培训", training_category="二类", trainees=30, training_days=5),
    ]
    rows = [{**kinds[i % 4], "requested": 1_000.0 * (i + 1)} for i in range(12)]
    for i in range(1, 12, 4):
        rows[i] |= {"requested": np.nan, "staff_count": 20, "existing_quantity": 15}
    frame = pd.DataFrame(
        [{"request_id": f"R{i // 3}", "line_no": i % 3 + 1, **r} for i, r in enumerate(rows)]
    )
    req, problems = REQUESTS.validate(frame)
    assert problems.empty
    work, problems = prepare_requests(req, on=ON)
    results, found = apply_line_rules(req, work, shipped_standards(), default_tables())
    assert problems.empty and found.empty
    assert not results.index.equals(work.index)  # grouped by rule
    for arrow in (False, True):
        in_lines_order = decide_lines(req, work, results.reindex(work.index), arrow=arrow)
        as_they_come = decide_lines(req, work, results, arrow=arrow)
        assert as_they_come.index.equals(results.index)
        pd.testing.assert_frame_equal(
            as_they_come.loc[work.index], in_lines_order, check_exact=True
        )
