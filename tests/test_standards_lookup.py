"""Lookup of the value in force on a date: effective boundaries, seasons, wildcards, reasons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costperf.errors import InputError
from costperf.standards import lookup_value, lookup_values, read_standards

STANDARDS = Path(__file__).resolve().parents[1] / "standards"


@pytest.fixture(scope="module")
def shipped():
    return read_standards(STANDARDS)


@pytest.mark.parametrize(
    ("date", "value", "version"),
    [
        ("2014-01-01", 800, 1),
        ("2015-12-31", 800, 1),
        ("2016-01-01", 1100, 2),
        ("2030-06-30", 1100, 2),
    ],
)
def test_beijing_cap_around_effective_boundaries(shipped, date, value, version):
    found = lookup_value(
        shipped, "travel-lodging", date, item="lodging", city="北京", staff_level="省部级"
    )
    assert (found.value, found.version) == (value, version)
    assert found.ref == f"travel-lodging/北京/省部级/lodging@{version}"


def test_before_any_table_no_value_and_reason(shipped):
    query = pd.DataFrame({"city": ["北京"], "staff_level": ["省部级"]})
    out = lookup_values(shipped, query, on="2013-12-31", table="travel-lodging", item="lodging")
    assert np.isnan(out.loc[0, "value"])
    assert out.loc[0, "lookup_status"] == "no 'travel-lodging' table in force on 2013-12-31"
    with pytest.raises(InputError, match="no 'travel-lodging' table in force on 2013-12-31"):
        lookup_value(
            shipped,
            "travel-lodging",
            "2013-12-31",
            item="lodging",
            city="北京",
            staff_level="省部级",
        )


@pytest.mark.parametrize(
    ("date", "city", "level", "value", "season"),
    [
        ("2016-06-30", "大连", "其他人员", 350, "淡季"),
        ("2016-07-01", "大连", "其他人员", 420, "旺季"),
        ("2016-09-30", "青岛", "其他人员", 450, "旺季"),
        ("2016-10-01", "青岛", "其他人员", 380, "淡季"),
        ("2016-10-31", "海口", "省部级", 800, "淡季"),
        ("2016-11-01", "海口", "省部级", 1040, "旺季"),
        ("2016-12-31", "海口", "厅局级", 650, "旺季"),
        ("2017-01-01", "海口", "厅局级", 650, "旺季"),
        ("2016-02-29", "海口", "其他人员", 450, "旺季"),
        ("2017-02-28", "海口", "其他人员", 450, "旺季"),
        ("2017-03-01", "海口", "其他人员", 350, "淡季"),
        ("2016-06-01", "拉萨", "省部级", 1200, "旺季"),
        ("2016-05-31", "拉萨", "省部级", 800, "淡季"),
        ("2016-08-01", "北京", "省部级", 1100, "淡季"),
    ],
)
def test_peak_seasons_including_year_end_wrap(shipped, date, city, level, value, season):
    query = pd.DataFrame({"date": [date], "city": [city], "staff_level": [level]})
    out = lookup_values(shipped, query, on="date", table="travel-lodging", item="lodging")
    assert out.loc[0, "lookup_status"] == "ok"
    assert out.loc[0, "value"] == value
    assert out.loc[0, "season"] == season


@pytest.mark.parametrize(
    ("city", "meals"),
    [
        ("拉萨", 120),
        ("拉萨市", 120),
        ("日喀则", 120),
        ("西宁", 120),
        ("乌鲁木齐", 120),
        ("北京", 100),
        ("成都", 100),
        ("海口", 100),
    ],
)
def test_meal_allowance_by_region_of_city(shipped, city, meals):
    found = lookup_value(shipped, "travel-allowance", "2020-05-01", item="meals", city=city)
    assert found.value == meals


def test_meals_by_region_given_directly_and_local_transport(shipped):
    assert (
        lookup_value(
            shipped, "travel-allowance", "2020-05-01", item="meals", region="新疆维吾尔自治区"
        ).value
        == 120
    )
    assert (
        lookup_value(
            shipped, "travel-allowance", "2020-05-01", item="local_transport", city="拉萨"
        ).value
        == 80
    )


def test_reasons_for_missing_values(shipped):
    query = pd.DataFrame(
        {
            "date": [
                "2016-08-01",
                "2015-05-01",
                "2016-08-01",
                "2016-08-01",
                "not a date",
                "2016-08-01",
                None,
            ],
            "city": ["成都", "广州", "北京", "北京", "北京", None, "北京"],
            "staff_level": ["省部级", "省部级", "科员", None, "省部级", "省部级", "省部级"],
        }
    )
    out = lookup_values(shipped, query, on="date", table="travel-lodging", item="lodging")
    assert out["lookup_status"].tolist() == [
        "unknown city '成都'",
        "no value for city '广州' in travel-lodging@1",
        "unknown staff_level '科员'",
        "no staff_level given (the 'lodging' lines differ by staff_level)",
        "no valid date (got 'not a date')",
        "no city given (the 'lodging' lines differ by city)",
        "no date",
    ]
    assert out["value"].isna().all()


def test_unknown_table_and_item(shipped):
    query = pd.DataFrame(
        {
            "table_id": ["nope", "meeting-fee"],
            "item": ["x", "dinner"],
            "category": ["二类会议", "二类会议"],
        }
    )
    out = lookup_values(shipped, query, on="2020-01-01")
    assert out["lookup_status"].tolist() == [
        "unknown table 'nope'",
        "unknown item 'dinner' in meeting-fee",
    ]


def test_vectorised_mixed_tables_keep_index_and_columns(shipped):
    query = pd.DataFrame(
        {
            "table_id": ["meeting-fee", "fujian-meeting-fee", "meeting-fee", "training-fee"],
            "item": ["total", "total", "lodging", "total"],
            "category": ["四类会议", "四类会议", "三类会议", "二类培训"],
            "when": pd.to_datetime(["2020-01-01", "2020-01-01", "2016-06-30", "2020-01-01"]),
            "amount": [1.0, 2.0, 3.0, 4.0],
        },
        index=[10, 20, 30, 40],
    )
    out = lookup_values(shipped, query, on="when")
    assert list(out.index) == [10, 20, 30, 40]
    assert out["amount"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert out["value"].tolist()[:2] == [550, 450]
    assert out.loc[30, "lookup_status"] == "no 'meeting-fee' table in force on 2016-06-30"
    assert out.loc[40, "value"] == 650
    assert out.loc[10, "document_no"] == "财行〔2016〕214号"
    assert bool(out.loc[10, "verified"]) is True


def test_unverified_values_flagged(shipped):
    found = lookup_value(shipped, "training-fee", "2020-01-01", item="lodging", category="二类培训")
    assert (found.value, found.verified) == (400, False)  # 二类 split U in the reference


def test_aliases_and_suffixes(shipped):
    found = lookup_value(
        shipped, "travel-lodging", "2017-04-01", item="lodging", city="上海市", staff_level="司局级"
    )
    assert found.value == 600
    desk = lookup_value(
        shipped,
        "office-equipment",
        "2020-01-01",
        item="desk",
        component="price",
        staff_level="厅局级",
    )
    assert desk.value == 4500


def test_wildcards_and_defaults_in_equipment(shipped):
    query = pd.DataFrame(
        {
            "item": [
                "desktop_computer",
                "desktop_computer",
                "desktop_computer",
                "desk",
                "meeting_table",
            ],
            "component": ["price", "quantity", "quantity", "price", "price_per_m2"],
            "unit_type": [None, None, "涉密单位", None, None],
            "staff_level": ["司局级", None, None, "处级及以下", None],
            "room_area_m2": [None, None, None, None, 75],
        }
    )
    out = lookup_values(shipped, query, on="2020-01-01", table="office-equipment")
    assert out["value"].tolist() == [5000, 1, 1.5, 3000, 1200]
    assert out["room_area_band"].tolist()[-1] == "50至100平方米"


def test_lookup_by_standard_id(shipped):
    query = pd.DataFrame(
        {
            "standard_id": ["travel-lodging/北京/省部级/lodging"] * 3 + ["meeting-fee/nope/total"],
            "date": ["2015-01-01", "2016-01-01", "2013-01-01", "2020-01-01"],
        }
    )
    out = lookup_values(shipped, query, on="date")
    assert out["value"].tolist()[:2] == [800, 1100]
    assert out["version"].tolist()[:2] == [1, 2]
    assert out["lookup_status"].tolist()[2:] == [
        "no 'travel-lodging' table in force on 2013-01-01",
        "unknown standard_id 'meeting-fee/nope/total' in meeting-fee@1",
    ]
    assert lookup_value(shipped, "meeting-fee/二类会议/lodging", "2020-01-01").value == 400


def test_column_clash_needs_a_prefix(shipped):
    lines = pd.DataFrame({"item": ["lodging"], "unit": ["晚"], "category": ["一类会议"]})
    with pytest.raises(ValueError, match="prefix="):
        lookup_values(shipped, lines, on="2020-01-01", table="meeting-fee")
    out = lookup_values(shipped, lines, on="2020-01-01", table="meeting-fee", prefix="standard_")
    assert out["unit"].tolist() == ["晚"]
    assert out["standard_value"].tolist() == [500]
    assert out["standard_standard_id"].tolist() == ["meeting-fee/一类会议/lodging"]


def test_dims_mapping_to_query_columns(shipped):
    query = pd.DataFrame({"dest": ["大连"], "grade": ["其他人员"], "d": ["2018-08-08"]})
    out = lookup_values(
        shipped,
        query,
        on="d",
        table="travel-lodging",
        item="lodging",
        dims={"city": "dest", "staff_level": "grade"},
    )
    assert out.loc[0, "value"] == 420


def test_missing_item_column_is_a_clear_error(shipped):
    with pytest.raises(InputError, match="no 'item' column"):
        lookup_values(
            shipped, pd.DataFrame({"city": ["北京"]}), on="2020-01-01", table="travel-lodging"
        )
    with pytest.raises(InputError, match="neither a column of the query nor a date"):
        lookup_values(
            shipped,
            pd.DataFrame({"city": ["北京"]}),
            on="dates",
            table="travel-lodging",
            item="lodging",
        )


CITIES = ["北京", "上海", "大连", "海口", "拉萨", "成都", None]
LEVELS = ["省部级", "厅局级", "其他人员", "司局级", "科员"]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(CITIES),
            st.sampled_from(LEVELS),
            st.dates(
                min_value=pd.Timestamp("2013-06-01").date(),
                max_value=pd.Timestamp("2020-12-31").date(),
            ),
        ),
        min_size=1,
        max_size=25,
    ),
    st.randoms(),
)
def test_results_do_not_depend_on_row_order(rows, rnd):
    shipped = (
        read_standards(STANDARDS)
        if not hasattr(test_results_do_not_depend_on_row_order, "cache")
        else test_results_do_not_depend_on_row_order.cache
    )
    test_results_do_not_depend_on_row_order.cache = shipped
    query = pd.DataFrame(rows, columns=["city", "staff_level", "date"])
    out = lookup_values(shipped, query, on="date", table="travel-lodging", item="lodging")
    order = list(range(len(query)))
    rnd.shuffle(order)
    shuffled = lookup_values(
        shipped, query.iloc[order], on="date", table="travel-lodging", item="lodging"
    )
    cols = ["value", "standard_id", "version", "lookup_status"]
    pd.testing.assert_frame_equal(
        shuffled.loc[out.index, cols].astype(object), out[cols].astype(object)
    )
    # each row alone gives the same answer as in the batch
    first = lookup_values(
        shipped, query.iloc[[0]], on="date", table="travel-lodging", item="lodging"
    )
    assert first["lookup_status"].iloc[0] == out["lookup_status"].iloc[0]


def test_dims_list_limits_what_is_read(shipped):
    query = pd.DataFrame({"category": ["一类会议"], "staff_level": ["x"]})
    out = lookup_values(
        shipped, query, on="2020-01-01", table="meeting-fee", item="total", dims=["category"]
    )
    assert out.loc[0, "value"] == 760
    none = lookup_values(
        shipped, query, on="2020-01-01", table="meeting-fee", item="total", dims=[]
    )
    assert (
        none.loc[0, "lookup_status"] == "no category given (the 'total' lines differ by category)"
    )
