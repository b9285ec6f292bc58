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
    assert not out.loc[0, "verified"]  # the limits are U in the reference
    assert "会期 3 天超过上限 2 天" in out.loc[0, "reason_zh"]


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
        requested=130_000,
    )
    # arrival + departure count at most 1 day: 5 + 1 = 6 days
    expected = 650 * 30 * 6 + 500 * 12
    assert line["approvable"] == expected
    assert line["approved"] == expected and line["cut"] == 130_000 - expected
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
                "city": "成都",
                "staff_level": "其他人员",
                "travel_days": 2,
                "requested": 1,
            },
            "unknown city '成都'",
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


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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
    assert approved["PX-01/1"] == 650 * 30 * (5 + 1)
    assert approved["PX-01/2"] == 500 * 12
    assert approved["PX-02/1"] == pytest.approx(550 * 40 * (30 + 6 * 0.7) + 1000 * 2 * 4)
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
    assert {"申报编码", "审定数", "核减数", "审核意见", "核减理由", "文号"} <= set(frame.columns)
    assert len(frame) == 14
    en = tmp_path / "reviewed-en.xlsx"
    assert main(["review", str(EXAMPLE), "--lang", "en", "-o", str(en)]) == 0
    assert "Approved" in pd.read_excel(en, engine="calamine").columns


def test_cli_bad_input_exits_2_naming_file_row_column(tmp_path) -> None:
    data = tmp_path / "requests.csv"
    shutil.copy(EXAMPLE, data)
    set_cell(data, 10, "出差城市", "成都")  # file row 10 = CL-02
    code, stdout, stderr = run_cli("review", data, "-o", tmp_path / "out.csv", cwd=tmp_path)
    assert code == 2, stderr
    assert "requests.csv, row 10, column '出差城市'" in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "out.csv").exists()
    assert (tmp_path / "out.problems.csv").exists()
