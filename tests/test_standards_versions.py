"""Versions: diff, uprate with rounding rules, supersession, and set-level checks."""

from __future__ import annotations

import re
import shutil
import tomllib
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from costperf.errors import InputError
from costperf.standards import (
    check_coverage,
    check_standards,
    diff_tables,
    load_standards,
    lookup_value,
    read_standards,
    round_to_step,
    uprate_table,
    write_table_version,
)

STANDARDS = Path(__file__).resolve().parents[1] / "standards"


@pytest.fixture(scope="module")
def shipped():
    return read_standards(STANDARDS)


@pytest.fixture
def copy(tmp_path):
    folder = tmp_path / "standards"
    shutil.copytree(STANDARDS, folder)
    return folder


def _as_draft(path: Path, **replace: str) -> None:
    """Turn a shipped (sealed) header into an editable draft, with text replacements."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^content_hash = .*\n", "", text, flags=re.M)
    text = re.sub(r"^status = .*$", 'status = "draft"', text, count=1, flags=re.M)
    for old, new in replace.items():
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


# ---- diff ---------------------------------------------------------------------------

FUJIAN_VS_CENTRAL = {  # line: (central, Fujian 2017)
    "一类会议/lodging": (500, 400),
    "一类会议/other": (110, 100),
    "一类会议/total": (760, 650),
    "二类会议/lodging": (400, 360),
    "二类会议/other": (100, 90),
    "二类会议/total": (650, 600),
    "三类会议/lodging": (340, 300),
    "三类会议/other": (80, 70),
    "三类会议/total": (550, 500),
    "四类会议/lodging": (340, 270),
    "四类会议/other": (80, 50),
    "四类会议/total": (550, 450),
}


def test_diff_fujian_2017_against_the_central_meeting_table(shipped):
    diff = diff_tables(shipped, "meeting-fee", "fujian-meeting-fee")
    assert diff.attrs == {"old": "meeting-fee@1", "new": "fujian-meeting-fee@1"}
    assert set(diff["change"]) == {"changed"}
    got = {r.line: (r.value_old, r.value_new) for r in diff.itertuples()}
    assert got == FUJIAN_VS_CENTRAL
    row = diff.set_index("line").loc["四类会议/other"]
    assert row["abs_change"] == -30
    assert row["pct_change"] == pytest.approx(-37.5)
    full = diff_tables(shipped, "meeting-fee", "fujian-meeting-fee", include_unchanged=True)
    assert (full["change"] == "unchanged").sum() == 4  # food is the same in every category
    assert set(full.loc[full["change"] == "unchanged", "item"]) == {"food"}


def test_diff_travel_2014_to_2016(shipped):
    diff = diff_tables(shipped, "travel-lodging@1", "travel-lodging@2")
    counts = diff["change"].value_counts().to_dict()
    assert counts == {"added": 39, "changed": 6}
    beijing = diff.set_index("line").loc["北京/省部级/lodging"]
    assert (beijing["value_old"], beijing["value_new"], beijing["abs_change"]) == (800, 1100, 300)
    assert beijing["pct_change"] == pytest.approx(37.5)
    back = diff_tables(shipped, "travel-lodging@2", "travel-lodging@1")
    assert back["change"].value_counts().to_dict() == {"removed": 39, "changed": 6}


def test_diff_across_jurisdictions_equipment(shipped):
    diff = diff_tables(shipped, "office-equipment", "anhui-office-equipment")
    lines = diff.set_index("line")
    assert lines.loc["desktop_computer/price", ["value_old", "value_new"]].tolist() == [5000, 4000]
    assert lines.loc["a3_printer/price", "change"] == "added"
    assert lines.loc["copier/price", "change"] == "removed"


# ---- uprate -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "step", "mode", "expected"),
    [
        ("454.5", "1", "half_up", "455"),
        ("454.5", "1", "half_even", "454"),
        ("412.8", "10", "half_up", "410"),
        ("415", "10", "half_up", "420"),
        ("425", "10", "half_even", "420"),
        ("419.99", "10", "down", "410"),
        ("410.01", "10", "up", "420"),
        ("1234", "100", "half_up", "1200"),
    ],
)
def test_round_to_step(value, step, mode, expected):
    assert round_to_step(Decimal(value), Decimal(step), mode) == Decimal(expected)


def test_uprate_half_up_not_bankers_rounding(shipped):
    # 450 x 1.01 = 454.5 exactly: half-up gives 455 (Python's round would give 454)
    header, raw = uprate_table(
        shipped, "training-fee", index="1.01", effective_from="2027-01-01", step="1"
    )
    said = "training-fee@1 by index 1.01 (rounding half_up to 1; money values only)"
    assert header["source"]["note"] == f"uprated from {said}"
    assert header["notes_en"][0] == f"uprated from {said}, effective 2027-01-01"
    assert header["notes"][0] == (
        "本版为草案：由training-fee@1按指数1.01调整（取整规则：half_up，步长1元），"
        "自2027-01-01起施行；综合定额合计为调整后分项之和。"
    )
    lines = raw.set_index(["category", "item"])["value"]
    assert lines[("三类培训", "lodging")] == "343"  # 340 x 1.01 = 343.4
    assert lines[("一类培训", "food")] == "152"  # 150 x 1.01 = 151.5 -> 152
    assert round(151.5) == 152 and round(150 * 1.01) == 152  # (banker's agrees here)
    header, raw = uprate_table(
        shipped, "meeting-fee", index="1.01", effective_from="2027-01-01", step="1"
    )
    assert raw.set_index(["category", "item"])["value"][("一类会议", "food")] == "152"
    header, raw = uprate_table(
        shipped, "travel-lodging", index="1.01", effective_from="2027-01-01", step="1"
    )
    lodging = raw.set_index(["city", "staff_level", "season"])["value"]
    assert lodging[("广州", "其他人员", "")] == "455"  # 450 x 1.01 = 454.5 -> 455, not 454
    assert round(454.5) == 454


def test_uprate_meeting_fee_by_1_032_to_ten_yuan(shipped):
    header, raw = uprate_table(shipped, "meeting-fee", index="1.032", effective_from="2027-01-01")
    got = raw.set_index(["category", "item"])["value"].to_dict()
    # 500x1.032=516->520, 150->154.8->150, 110->113.52->110, total re-summed = 780
    assert got[("一类会议", "lodging")] == "520"
    assert got[("一类会议", "food")] == "150"
    assert got[("一类会议", "other")] == "110"
    assert got[("一类会议", "total")] == "780"
    assert got[("二类会议", "total")] == "660"  # 410 + 150 + 100
    assert got[("三类会议|四类会议", "total")] == "560"  # 350 + 130 + 80
    assert header["version"] == 2 and header["status"] == "draft"
    assert str(header["effective_from"]) == "2027-01-01"
    source = header["source"]
    assert source["method"] == "uprate" and source["basis"] == "meeting-fee@1"
    assert source["basis_hash"] == shipped.get("meeting-fee").content_hash
    assert "uprated from meeting-fee@1 by index 1.032 (rounding half_up to 10" in source["note"]


def test_uprate_leaves_non_money_values(shipped):
    header, raw = uprate_table(
        shipped, "office-equipment", index="1.5", effective_from="2027-01-01"
    )
    lines = raw.set_index(["item", "component", "staff_level", "unit_type", "room_area_band"])
    assert lines.loc[("desktop_computer", "price", "", "", ""), "value"] == "7500"
    assert lines.loc[("desktop_computer", "quantity", "", "涉密单位", ""), "value"] == "1.5"
    assert lines.loc[("desk", "min_service_years", "", "", ""), "value"] == "15"


@given(
    st.integers(min_value=1, max_value=5000),
    st.sampled_from(["1", "10", "100"]),
    st.decimals(min_value="0.5", max_value="2", places=3),
)
def test_uprate_rounding_properties(value, step, index):
    step_d = Decimal(step)
    rounded = round_to_step(Decimal(value) * index, step_d)
    assert rounded % step_d == 0
    assert abs(rounded - Decimal(value) * index) <= step_d / 2
    assert round_to_step(Decimal(value) * step_d, step_d) == Decimal(value) * step_d


def test_uprated_draft_supersedes_from_its_date(shipped, copy, tmp_path):
    header, raw = uprate_table(
        shipped, "travel-lodging", index="1.032", effective_from="2027-01-01"
    )
    toml_path, csv_path = write_table_version(header, raw, copy)
    assert toml_path.name == "travel-lodging-v3.toml" and csv_path.exists()
    written = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    assert written["version"] == 3 and written["status"] == "draft"
    standards = read_standards(copy)
    kwargs = {"item": "lodging", "city": "北京", "staff_level": "省部级"}
    assert lookup_value(standards, "travel-lodging", "2027-06-01", **kwargs).value == 1100
    drafted = lookup_value(standards, "travel-lodging", "2027-06-01", include_drafts=True, **kwargs)
    assert (drafted.value, drafted.version) == (1140, 3)  # 1100 x 1.032 = 1135.2 -> 1140
    before = lookup_value(standards, "travel-lodging", "2026-12-31", include_drafts=True, **kwargs)
    assert before.version == 2
    with pytest.raises(InputError, match="already exists; a table version is never overwritten"):
        write_table_version(header, raw, copy)


def test_uprate_rejects_bad_input(shipped):
    with pytest.raises(InputError, match="--index: expected a number"):
        uprate_table(shipped, "meeting-fee", index="1,03x", effective_from="2027-01-01")
    with pytest.raises(InputError, match="--index: expected a number > 0"):
        uprate_table(shipped, "meeting-fee", index="-1", effective_from="2027-01-01")
    with pytest.raises(InputError, match="must be after meeting-fee@1 took effect"):
        uprate_table(shipped, "meeting-fee", index="1.03", effective_from="2016-01-01")
    with pytest.raises(InputError, match="--effective: expected a date"):
        uprate_table(shipped, "meeting-fee", index="1.03", effective_from="next year")
    with pytest.raises(InputError, match="unknown standard table 'meeting'"):
        uprate_table(shipped, "meeting", index="1.03", effective_from="2027-01-01")
    with pytest.raises(InputError, match="has no version '7'"):
        uprate_table(shipped, "meeting-fee@7", index="1.03", effective_from="2027-01-01")
    # found by an audit: more digits than decimal's precision were an internal error
    with pytest.raises(InputError, match="--index: expected a number > 0 and at most 100"):
        uprate_table(shipped, "meeting-fee", index="1e30", effective_from="2027-01-01")
    for step in ("1e-300", "1e30", "0"):
        with pytest.raises(InputError, match="expected a step from 0.0001 to 1000000"):
            uprate_table(
                shipped, "meeting-fee", index="1.03", effective_from="2027-01-01", step=step
            )


# ---- check --------------------------------------------------------------------------


def test_check_finds_overlapping_periods(copy):
    toml = copy / "mof-travel-lodging-2014.toml"  # effective_to is outside the hash
    toml.write_text(
        toml.read_text(encoding="utf-8").replace(
            "effective_to = 2015-12-31", "effective_to = 2016-06-30"
        ),
        encoding="utf-8",
    )
    standards, problems = load_standards(copy)
    row = problems[problems["check"] == "overlapping_periods"].iloc[0]
    assert row["source_file"].endswith("mof-travel-lodging-2014.toml")
    assert "before 2016-01-01" in row["expected"]
    with pytest.raises(InputError, match="overlap"):
        read_standards(copy)


def test_overlapping_periods_are_found_beside_a_duplicate_line(copy):
    """A version refused for a repeated line still has its dates checked: the folder's
    problems come in one run, and the overlap reads in Chinese."""
    from costperf.columns import expected_label

    toml = copy / "mof-travel-lodging-2014.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace(
            "effective_to = 2015-12-31", "effective_to = 2016-06-30"
        ),
        encoding="utf-8",
    )
    values = copy / "mof-travel-lodging-2014.csv"
    lines = values.read_text(encoding="utf-8").splitlines()
    values.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")
    _, problems = load_standards(copy)
    assert {"duplicate_line", "overlapping_periods"} <= set(problems["check"])
    row = problems[problems["check"] == "overlapping_periods"].iloc[0]
    assert row["source_file"].endswith("mof-travel-lodging-2014.toml")
    assert row["value"] == "2016-06-30"
    assert row["expected"].endswith("(travel-lodging v1 and v2 overlap)")
    assert expected_label(row["expected"], "zh") == (
        "早于 2016-01-01（版本 2 生效之日）的日期（travel-lodging 第 1 版与第 2 版的有效期重叠）"
    )


def test_check_finds_a_gap_between_versions(copy):
    toml = copy / "mof-travel-lodging-2014.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace(
            "effective_to = 2015-12-31", "effective_to = 2015-06-30"
        ),
        encoding="utf-8",
    )
    problems = check_standards(read_standards(copy))  # a warning does not stop loading
    gap = problems[problems["check"] == "period_gap"]
    assert gap["severity"].tolist() == ["warning"]


def test_check_finds_a_component_sum_mismatch(copy):
    _as_draft(copy / "mof-meeting-fee-2016.toml")
    csv = copy / "mof-meeting-fee-2016.csv"
    csv.write_text(
        csv.read_text(encoding="utf-8").replace("二类会议,total,650", "二类会议,total,660"),
        encoding="utf-8",
    )
    standards, problems = load_standards(copy)
    row = problems[problems["check"] == "composite_sum"].iloc[0]
    assert row["source_file"].endswith("mof-meeting-fee-2016.csv")
    assert int(row["source_row"]) == 9 and row["column"] == "value"
    assert "lodging + food + other = 650" in row["expected"]
    assert "meeting-fee" not in standards.table_ids()
    with pytest.raises(InputError, match=r"mof-meeting-fee-2016\.csv, row 9, column 'value'"):
        read_standards(copy)


def test_check_finds_a_missing_component(copy):
    _as_draft(copy / "mof-training-fee-2016.toml")
    csv = copy / "mof-training-fee-2016.csv"
    text = csv.read_text(encoding="utf-8")
    csv.write_text(
        "\n".join(line for line in text.splitlines() if not line.startswith("三类培训,food"))
        + "\n",
        encoding="utf-8",
    )
    _, problems = load_standards(copy)
    assert "composite_component_missing" in set(problems["check"])


def _edit_travel_2016(copy: Path, *, drop: str, add: list[str]) -> None:
    _as_draft(copy / "mof-travel-lodging-2016.toml")
    csv = copy / "mof-travel-lodging-2016.csv"
    lines = [
        line for line in csv.read_text(encoding="utf-8").splitlines() if not line.startswith(drop)
    ]
    csv.write_text("\n".join([*lines, *add]) + "\n", encoding="utf-8")


def test_check_finds_a_coverage_gap(copy):
    _edit_travel_2016(copy, drop="青岛,厅局级,旺季", add=[])
    problems = check_coverage(read_standards(copy))
    assert problems["check"].tolist() == ["coverage_gap"]
    assert problems["value"].tolist() == ["city=青岛, staff_level=厅局级, season=旺季"]
    assert problems["severity"].tolist() == ["warning"]
    assert problems["source_file"].str.endswith("mof-travel-lodging-2016.csv").all()


def test_check_finds_ambiguous_lines(copy):
    # two lines, each with two literal dimensions, both match 青岛/厅局级/旺季
    _edit_travel_2016(
        copy,
        drop="青岛,厅局级,旺季",
        add=["青岛,*,旺季,lodging,600,元/人·天,V", "*,厅局级,旺季,lodging,610,元/人·天,V"],
    )
    standards = read_standards(copy)
    problems = check_coverage(standards)
    ambiguous = problems[problems["check"] == "ambiguous_lines"]
    assert "city=青岛, staff_level=厅局级, season=旺季" in set(ambiguous["value"])
    assert set(ambiguous["severity"]) == {"error"}
    assert (problems["check"] != "coverage_gap").all()
    with pytest.raises(InputError, match="ambiguous: 2 lines of travel-lodging@2 match"):
        lookup_value(
            standards,
            "travel-lodging",
            "2017-08-01",
            item="lodging",
            city="青岛",
            staff_level="厅局级",
            include_drafts=True,
        )


def test_tables_frame_periods(shipped):
    tables = shipped.tables.set_index(["table_id", "version"])
    assert tables.loc[("travel-lodging", 2), "in_force_to"] is pd.NaT
