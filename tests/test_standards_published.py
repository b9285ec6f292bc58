"""The shipped standard tables against the published documents.

Expected numbers are typed by hand from /work/shared/reference/published-standards.md
(not read back from the CSVs), so a typo in a table fails here.
"""

from __future__ import annotations

import filecmp
from pathlib import Path

import pandas as pd
import pytest

from costperf.standards import check_standards, package_standards_dir, read_standards

REPO = Path(__file__).resolve().parents[1]
STANDARDS = REPO / "standards"


@pytest.fixture(scope="module")
def shipped():
    return read_standards(STANDARDS)


@pytest.fixture(scope="module")
def by_id(shipped):
    return shipped.values.set_index(["table_id", "version", "standard_id"])


def _line(by_id, table, version, standard_id):
    return by_id.loc[(table, version, standard_id)]


# (table, version, standard_id, value, unit, verified)
MEETING = [
    ("一类会议", 500, 150, 110, 760),
    ("二类会议", 400, 150, 100, 650),
    ("三类会议", 340, 130, 80, 550),
    ("四类会议", 340, 130, 80, 550),
]
FUJIAN = [
    ("一类会议", 400, 150, 100, 650),
    ("二类会议", 360, 150, 90, 600),
    ("三类会议", 300, 130, 70, 500),
    ("四类会议", 270, 130, 50, 450),
]
TRAINING = [
    ("一类培训", 500, 150, 80, 30, 760),
    ("二类培训", 400, 150, 70, 30, 650),
    ("三类培训", 340, 130, 50, 30, 550),
]
TRAVEL_2016 = {  # city: (省部级, 厅局级, 其他人员, peak caps or None)
    "北京": (1100, 650, 500, None),
    "上海": (1100, 600, 500, None),
    "广州": (900, 550, 450, None),
    "深圳": (900, 550, 450, None),
    "杭州": (900, 500, 400, None),
    "南京": (900, 490, 380, None),
    "天津": (800, 480, 380, None),
    "大连": (800, 490, 350, (960, 590, 420)),
    "青岛": (800, 490, 380, (960, 590, 450)),
    "海口": (800, 500, 350, (1040, 650, 450)),
    "拉萨": (800, 500, 350, (1200, 750, 530)),
}
LEVELS = ("省部级", "厅局级", "其他人员")
EQUIPMENT = [  # standard_id (without table), value, unit
    ("desktop_computer/price", 5000, "元/台"),
    ("一般单位/desktop_computer/quantity", 1, "台/人"),
    ("涉密单位/desktop_computer/quantity", 1.5, "台/人"),
    ("desktop_computer/min_service_years", 6, "年"),
    ("laptop_computer/price", 7000, "元/台"),
    ("laptop_computer/quantity", 0.5, "台/人"),
    ("laptop_computer/min_service_years", 6, "年"),
    ("a4_mono_printer/price", 1200, "元/台"),
    ("a4_mono_printer/min_service_years", 6, "年"),
    ("printers_a3_a4/quantity", 0.8, "台/人"),
    ("copier/price", 35000, "元/台"),
    ("copier/min_service_years", 6, "年"),
    ("copier/min_service_copies", 300000, "张"),
    ("multifunction_fax/price", 3000, "元/台"),
    ("multifunction_fax/quantity", 0.3, "台/人"),
    ("multifunction_fax/min_service_years", 6, "年"),
    ("司局级/desk/price", 4500, "元/套"),
    ("处级及以下/desk/price", 3000, "元/套"),
    ("desk/quantity", 1, "套/人"),
    ("desk/min_service_years", 15, "年"),
    ("司局级/chair/price", 1500, "元/把"),
    ("处级及以下/chair/price", 800, "元/把"),
    ("chair/quantity", 1, "把/人"),
    ("chair/min_service_years", 15, "年"),
    ("司局级/bookcase/price", 2000, "元/个"),
    ("处级及以下/bookcase/price", 1200, "元/个"),
    ("司局级/bookcase/quantity", 2, "个/人"),
    ("处级及以下/bookcase/quantity", 1, "个/人"),
    ("bookcase/min_service_years", 15, "年"),
    ("司局级/file_cabinet/price", 2000, "元/个"),
    ("处级及以下/file_cabinet/price", 1000, "元/个"),
    ("file_cabinet/quantity", 1, "个/人"),
    ("file_cabinet/min_service_years", 20, "年"),
    ("50平方米及以下/meeting_table/price_per_m2", 1600, "元/平方米"),
    ("50至100平方米/meeting_table/price_per_m2", 1200, "元/平方米"),
    ("100平方米以上/meeting_table/price_per_m2", 1000, "元/平方米"),
    ("meeting_table/min_service_years", 20, "年"),
    ("meeting_chair/price", 800, "元/把"),
    ("meeting_chair/min_service_years", 15, "年"),
]
SUPPLIED_CONFIDENCE_S = {"a4_mono_printer", "printers_a3_a4", "multifunction_fax"}


def _expected_lines():
    rows = []
    for cat, *vals in MEETING:
        for item, v in zip(("lodging", "food", "other", "total"), vals, strict=True):
            rows.append(("meeting-fee", 1, f"meeting-fee/{cat}/{item}", v, "元/人·天", True))
    for cat, *vals in FUJIAN:
        for item, v in zip(("lodging", "food", "other", "total"), vals, strict=True):
            rows.append(
                ("fujian-meeting-fee", 1, f"fujian-meeting-fee/{cat}/{item}", v, "元/人·天", True)
            )
    for cat, days, heads in (("二类会议", 2, 300), ("三类会议", 2, 150), ("四类会议", 2, 50)):
        rows.append(("meeting-limits", 1, f"meeting-limits/{cat}/max_days", days, "天", True))
        # 传达、布置类会议不得超过1天
        rows.append(
            ("meeting-limits", 1, f"meeting-limits/{cat}/传达布置类/max_days", 1, "天", True)
        )
        rows.append(("meeting-limits", 1, f"meeting-limits/{cat}/max_attendees", heads, "人", True))
    items = ("lodging", "food", "venue_materials_transport", "other", "total")
    for cat, *vals in TRAINING:
        for item, v in zip(items, vals, strict=True):
            verified = not (cat == "二类培训" and item != "total")  # split U in the reference
            rows.append(("training-fee", 1, f"training-fee/{cat}/{item}", v, "元/人·天", verified))
    for title, v in (("副高级", 500), ("正高级", 1000), ("院士、全国知名专家", 1500)):
        rows.append(
            (
                "training-lecturer-fee",
                1,
                f"training-lecturer-fee/{title}/lecturer_fee",
                v,
                "元/学时",
                True,
            )
        )
    for city, (a, b, c, peak) in TRAVEL_2016.items():
        base = f"travel-lodging/{city}/{{level}}/" + ("淡季/" if peak else "") + "lodging"
        for level, v in zip(LEVELS, (a, b, c), strict=True):
            rows.append(("travel-lodging", 2, base.format(level=level), v, "元/人·天", True))
        for level, v in zip(LEVELS, peak, strict=True) if peak else ():
            rows.append(
                (
                    "travel-lodging",
                    2,
                    f"travel-lodging/{city}/{level}/旺季/lodging",
                    v,
                    "元/人·天",
                    True,
                )
            )
    for city in ("北京", "上海"):
        for level, v in zip(LEVELS, (800, 500, 350), strict=True):
            rows.append(
                ("travel-lodging", 1, f"travel-lodging/{city}/{level}/lodging", v, "元/人·天", True)
            )
    rows.append(("travel-allowance", 1, "travel-allowance/meals", 100, "元/人·天", True))
    for region in ("西藏", "青海", "新疆"):
        rows.append(
            ("travel-allowance", 1, f"travel-allowance/{region}/meals", 120, "元/人·天", True)
        )
    rows.append(("travel-allowance", 1, "travel-allowance/local_transport", 80, "元/人·天", True))
    for sid, v, unit in EQUIPMENT:
        rows.append(("office-equipment", 1, f"office-equipment/{sid}", v, unit, True))
    for sid, v, unit in (
        ("desktop_computer/price", 4000, "元/台"),
        ("desktop_computer/min_service_years", 5, "年"),
        ("laptop_computer/price", 5000, "元/台"),
        ("laptop_computer/min_service_years", 5, "年"),
        ("a3_printer/price", 6500, "元/台"),
        ("a4_printer/price", 1500, "元/台"),
    ):
        rows.append(("anhui-office-equipment", 1, f"anhui-office-equipment/{sid}", v, unit, True))
    return rows


EXPECTED = _expected_lines()


@pytest.mark.parametrize(
    ("table", "version", "standard_id", "value", "unit", "verified"),
    EXPECTED,
    ids=[f"{r[2]}@{r[1]}" for r in EXPECTED],
)
def test_published_value(by_id, table, version, standard_id, value, unit, verified):
    line = _line(by_id, table, version, standard_id)
    assert line["value"] == pytest.approx(value, abs=0)
    assert line["unit"] == unit
    assert bool(line["verified"]) is verified


def test_no_line_beyond_the_documents(shipped):
    expected = {(t, v, s) for t, v, s, *_ in EXPECTED}
    actual = set(
        zip(
            shipped.values["table_id"],
            shipped.values["version"],
            shipped.values["standard_id"],
            strict=True,
        )
    )
    assert actual == expected


def test_confidence_marks_follow_the_reference(shipped):
    eq = shipped.values[shipped.values["table_id"] == "office-equipment"]
    secondary = set(eq.loc[eq["confidence"] == "S", "item"])
    assert secondary == SUPPLIED_CONFIDENCE_S
    meeting = shipped.values[shipped.values["table_id"].isin(["meeting-fee", "meeting-limits"])]
    assert set(meeting["confidence"]) == {"S"}  # raised from U for the limits (issue 15)
    assert set(
        shipped.values.loc[shipped.values["table_id"] == "fujian-meeting-fee", "confidence"]
    ) == {"V"}
    local = shipped.values["standard_id"] == "travel-allowance/local_transport"
    assert shipped.values.loc[local, "confidence"].item() == "S"


@pytest.mark.parametrize(
    ("table", "version", "document_no", "effective_from", "status"),
    [
        ("meeting-fee", 1, "财行〔2016〕214号", "2016-07-01", "published"),
        ("meeting-limits", 1, "财行〔2016〕214号", "2016-07-01", "published"),
        ("fujian-meeting-fee", 1, "", "2017-09-01", "published"),
        ("training-fee", 1, "财行〔2016〕540号", "2017-01-01", "published"),
        ("training-lecturer-fee", 1, "财行〔2016〕540号", "2017-01-01", "published"),
        ("travel-lodging", 1, "财行〔2013〕531号", "2014-01-01", "retired"),
        ("travel-lodging", 2, "财行〔2015〕497号", "2016-01-01", "published"),
        ("travel-allowance", 1, "财行〔2013〕531号", "2014-01-01", "published"),
        ("office-equipment", 1, "财资〔2016〕27号", "2016-07-01", "published"),
        ("anhui-office-equipment", 1, "财资〔2013〕491号", "2014-01-01", "published"),
    ],
)
def test_table_metadata(shipped, table, version, document_no, effective_from, status):
    row = shipped.tables.set_index(["table_id", "version"]).loc[(table, version)]
    assert row["document_no"] == document_no
    assert row["effective_from"] == pd.Timestamp(effective_from)
    assert row["status"] == status
    assert row["content_hash"].startswith("sha256:")


def test_unverified_metadata_is_marked(shipped):
    unverified = shipped.tables.set_index(["table_id", "version"])["unverified_fields"]
    assert "source.document_no" in unverified[("travel-lodging", 2)]  # 497号 is U
    # the notice's date (2016-06-29, in force 2016-07-01) is read in a copy (issue 15)
    assert unverified[("meeting-fee", 1)] == unverified[("meeting-limits", 1)] == ""
    assert "effective_from" in unverified[("training-fee", 1)]  # not in the reference
    assert "source.document_no" in unverified[("fujian-meeting-fee", 1)]
    assert unverified[("travel-lodging", 1)] == ""


def test_rules_are_data(shipped):
    training = shipped.header("training-fee", 1)["rules"]
    assert training["day_tiers"]["tiers"] == [{"upto": 30, "rate": 1}, {"rate": 0.7}]
    # 540号 第九条: 报到和撤离时间分别不得超过1天 (issue 15: not "together at most 1 day")
    assert training["arrival_days"]["max"] == training["departure_days"]["max"] == 1
    assert training["arrival_departure_days"]["max"] == 2
    assert shipped.header("training-lecturer-fee", 1)["rules"]["hours_per_half_day"]["max"] == 4
    windows = shipped.header("travel-lodging", 2)["rules"]["peak_season"]["windows"]
    assert windows["海口"] == [{"start": "11-01", "end": "02-29"}]
    assert windows["拉萨"] == [{"start": "06-01", "end": "09-30"}]
    assert windows["大连"] == windows["青岛"] == [{"start": "07-01", "end": "09-30"}]
    copier = shipped.header("office-equipment", 1)["rules"]["copier_quantity"]
    assert copier["tiers"] == [{"upto": 100, "per": 20}, {"per": 30}]


def test_retired_2014_table_ends_when_2016_table_starts(shipped):
    row = shipped.tables.set_index(["table_id", "version"]).loc[("travel-lodging", 1)]
    assert row["in_force_to"] == pd.Timestamp("2015-12-31")


def test_shipped_set_checks_clean(shipped):
    problems = check_standards(shipped)
    assert problems.empty, problems.to_string()


def test_shipped_tables_are_the_root_folder():
    """One copy: the installed package reads standards/ itself (setup.py maps it)."""
    package = package_standards_dir()
    names = sorted(p.name for p in STANDARDS.iterdir() if p.suffix in {".toml", ".csv"})
    shipped = sorted(p.name for p in package.iterdir() if p.suffix in {".toml", ".csv"})
    assert shipped == names
    if package.resolve() != STANDARDS.resolve():  # an installed wheel: same bytes
        match, mismatch, errors = filecmp.cmpfiles(STANDARDS, package, names, shallow=False)
        assert not mismatch and not errors


@pytest.mark.parametrize(
    ("table", "old_hash"),
    [
        ("training-fee", "53969e4c1ee2f791fa815579097e78c81d1930b4ae04f0cc6ff59ec4aba1d00b"),
        ("meeting-fee", "e1c4ed2391e9b8d5354017abc3140aac0fa3920013f7c5950076e8e8e833489d"),
        ("meeting-limits", "facde05a9a2fa14bf6c2b65ba19e26290583bf88a9c0c76d2febf06dc7467b05"),
    ],
)
def test_corrected_tables_record_the_hash_they_replace(shipped, table, old_hash):
    """Corrected in place (standards/README.md, "Corrections"): the fingerprint of the
    content before the correction stays in the header, so a result citing it is told apart."""
    version = shipped.get(table)
    assert version.version == 1 and version.status == "published"
    note = version.header["source"]["note"]
    assert f"sha256:{old_hash}" in note and "issue 15" in note
    assert version.content_hash != f"sha256:{old_hash}"


def test_meeting_facts_name_their_sources(shipped):
    for table in ("meeting-fee", "meeting-limits"):
        notes = " ".join(shipped.header(table, 1)["notes"])
        assert "2016年6月29日" in notes and "2016年7月1日" in notes
    fee = " ".join(shipped.header("meeting-fee", 1)["notes"])
    assert "2016年7月14日" in fee and "第十五条" in fee
    limits = shipped.values[shipped.values["table_id"] == "meeting-limits"].set_index("standard_id")
    assert (
        "二、三、四类会议会期均不得超过2天"
        in limits.loc["meeting-limits/二类会议/max_days", "note"]
    )
    assert "2013年版" in limits.loc["meeting-limits/四类会议/max_attendees", "note"]
    subtype = shipped.header("meeting-limits", 1)["dimensions"]["meeting_subtype"]
    assert subtype["values"] == ["传达布置类"]
    assert subtype["aliases"]["传达、布置类会议"] == "传达布置类"
