"""Rules that are not a single number, read from the tables' [rules] data."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from costperf.errors import InputError
from costperf.standards import (
    lecturer_hours_cap,
    meeting_table_price_cap,
    quantity_cap,
    read_standards,
    rule,
    season_for,
    tiered_amount,
    training_chargeable_days,
    training_day_factor,
)
from costperf.standards.rules import (
    arrival_departure_limits,
    count_arrival_departure,
    day_tiers_text,
)

REPO = Path(__file__).resolve().parents[1]
STANDARDS = REPO / "standards"
LOCAL = REPO / "cases" / "expenditure-requests" / "local-standards"


@pytest.fixture(scope="module")
def shipped():
    return read_standards(STANDARDS)


@pytest.fixture(scope="module")
def local():
    return read_standards(LOCAL)


def test_training_35_days_is_30_full_plus_5_at_70_percent(shipped):
    assert training_chargeable_days(35, standards=shipped) == pytest.approx(30 + 5 * 0.7)
    assert training_chargeable_days(30, standards=shipped) == 30
    got = training_chargeable_days(np.array([1, 30, 31, 40]), standards=shipped)
    np.testing.assert_allclose(got, [1, 30, 30.7, 37])


def test_central_arrival_and_departure_count_one_day_each(shipped):
    """540号 第九条: 报到和撤离时间分别不得超过1天 (so at most 2 days together)."""
    assert arrival_departure_limits(shipped) == (1, 1, 2)
    assert training_chargeable_days(5, arrival_departure_days=2, standards=shipped) == 7
    assert training_chargeable_days(5, arrival_departure_days=3, standards=shipped) == 7
    assert training_chargeable_days(5, arrival_days=2, departure_days=0, standards=shipped) == 6
    assert training_chargeable_days(5, arrival_days=1, departure_days=1, standards=shipped) == 7
    # the days including arrival and departure count towards the 30: 29 + 2 = 31
    assert training_chargeable_days(
        29, arrival_departure_days=2, standards=shipped
    ) == pytest.approx(30.7)
    got = training_chargeable_days(
        np.array([5, 5, 5]),
        arrival_days=np.array([1, np.nan, 3]),
        departure_days=np.array([np.nan, np.nan, 3]),
        arrival_departure_days=np.array([0, 2, 0]),
        standards=shipped,
    )
    np.testing.assert_allclose(got, [6, 7, 7])


def test_local_table_together_one_day_and_two_tiers(local):
    """The illustrative local table: 合计不得超过1天; beyond 15 at 80%, beyond 30 at 70%."""
    assert arrival_departure_limits(local) == (math.inf, math.inf, 1)
    assert training_chargeable_days(5, arrival_days=1, departure_days=1, standards=local) == 6
    # 20 + 1 = 21 days: 15 + 6 x 0.8 = 19.8
    assert training_chargeable_days(20, arrival_departure_days=2, standards=local) == pytest.approx(
        19.8
    )
    # 40 + 1 = 41 days: 15 + 15 x 0.8 + 11 x 0.7 = 34.7
    assert training_chargeable_days(40, arrival_departure_days=1, standards=local) == pytest.approx(
        34.7
    )
    np.testing.assert_allclose(
        training_day_factor([15, 16, 30, 31], standards=local), [1, 0.8, 0.8, 0.7]
    )


def test_count_arrival_departure_examples():
    central, local_rule = (1, 1, 2), (math.inf, math.inf, 1)
    nan = np.nan
    together = [2, nan, 3, nan, nan]
    arrival = [nan, 1, nan, 2, nan]
    departure = [nan, 1, nan, nan, nan]
    np.testing.assert_array_equal(
        count_arrival_departure(together, arrival, departure, central), [2, 2, 2, 1, 0]
    )
    np.testing.assert_array_equal(
        count_arrival_departure(together, arrival, departure, local_rule), [1, 1, 1, 1, 0]
    )


@given(
    st.floats(0, 5, allow_nan=False),
    st.floats(0, 5, allow_nan=False),
    st.sampled_from([(1, 1, 2), (math.inf, math.inf, 1), (1, 0.5, 1)]),
)
def test_counted_days_never_exceed_a_limit_nor_the_claim(arrival, departure, limits):
    counted = count_arrival_departure([np.nan], [arrival], [departure], limits)[0]
    assert counted <= min(limits[0], arrival) + min(limits[1], departure) + 1e-12
    assert counted <= limits[2] and counted <= arrival + departure + 1e-12
    assert counted >= 0


def test_day_tiers_text():
    central = [{"upto": 30, "rate": 1}, {"rate": 0.7}]
    local_tiers = [{"upto": 15, "rate": 1}, {"upto": 30, "rate": 0.8}, {"rate": 0.7}]
    assert day_tiers_text(30, central) == ("", "")
    assert day_tiers_text(30.5, central) == ("超过30天部分按70%计", "days beyond 30 at 70%")
    assert day_tiers_text(15, local_tiers) == ("", "")
    assert day_tiers_text(31, local_tiers) == (
        "超过15天至30天部分按80%、超过30天部分按70%计",
        "days beyond 15 up to 30 at 80%, days beyond 30 at 70%",
    )


def test_training_day_factor(shipped):
    assert training_day_factor(30, standards=shipped) == 1.0
    assert training_day_factor(31, standards=shipped) == 0.7
    np.testing.assert_allclose(
        training_day_factor([1, 30, 31, 60], standards=shipped), [1, 1, 0.7, 0.7]
    )


def test_training_rules_before_the_table_took_effect(shipped):
    with pytest.raises(InputError, match="no 'training-fee' table in force on 2016-12-31"):
        training_chargeable_days(35, standards=shipped, on="2016-12-31")


@pytest.mark.parametrize(
    ("staff", "cap"), [(20, 1), (99, 4), (100, 5), (129, 5), (130, 6), (160, 7)]
)
def test_copier_one_per_20_up_to_100_then_one_per_30(shipped, staff, cap):
    assert quantity_cap("copier", staff, standards=shipped) == cap


def test_proportional_quantity_caps(shipped):
    assert quantity_cap("desktop_computer", 7, standards=shipped) == 7
    assert quantity_cap("desktop_computer", 7, unit_type="涉密单位", standards=shipped) == 10
    assert quantity_cap("laptop_computer", 7, standards=shipped) == 3  # 3.5 rounded down
    assert quantity_cap("a4_mono_printer", 10, standards=shipped) == 8  # shared A3+A4 cap
    assert quantity_cap("bookcase", 3, staff_level="司局级", standards=shipped) == 6
    np.testing.assert_array_equal(quantity_cap("desk", [1, 12], standards=shipped), [1, 12])
    with pytest.raises(InputError, match="no staff_level given"):
        quantity_cap("bookcase", 3, standards=shipped)
    with pytest.raises(InputError, match="unknown item 'sofa'"):
        quantity_cap("sofa", 3, standards=shipped)


@pytest.mark.parametrize(
    ("area", "cap"), [(30, 48_000), (50, 80_000), (50.5, 60_600), (100, 120_000), (120, 120_000)]
)
def test_meeting_table_price_by_room_area_band(shipped, area, cap):
    assert meeting_table_price_cap(area, standards=shipped) == pytest.approx(cap)


def test_lecturer_hours(shipped):
    assert lecturer_hours_cap(3, standards=shipped) == 12
    assert rule(shipped, "training-lecturer-fee", "hours_per_half_day")["max"] == 4


@pytest.mark.parametrize(
    ("date", "city", "season"),
    [
        ("2016-11-01", "海口", "旺季"),
        ("2016-12-15", "海口", "旺季"),
        ("2017-01-31", "海口", "旺季"),
        ("2016-02-29", "海口", "旺季"),
        ("2017-03-01", "海口", "淡季"),
        ("2016-10-31", "海口", "淡季"),
        ("2016-07-01", "大连", "旺季"),
        ("2016-09-30", "青岛", "旺季"),
        ("2016-06-01", "拉萨", "旺季"),
        ("2016-08-01", "北京", "淡季"),
    ],
)
def test_season_for(shipped, date, city, season):
    assert season_for(date, city, standards=shipped) == season


def test_season_for_arrays_and_no_seasonal_table(shipped):
    got = season_for(["2016-07-01", "2016-06-30"], ["大连", "大连市"], standards=shipped)
    assert got.tolist() == ["旺季", "淡季"]
    assert season_for("2015-08-01", "大连", standards=shipped) is None  # 2014 table: no seasons


def test_tiered_amount_examples():
    assert tiered_amount(35, [{"upto": 30, "rate": 1}, {"rate": 0.7}]) == Fraction(67, 2)
    assert tiered_amount(130, [{"upto": 100, "per": 20}, {"per": 30}]) == 6


@given(
    st.floats(min_value=0, max_value=1e4, allow_nan=False),
    st.floats(min_value=0, max_value=1e4, allow_nan=False),
)
def test_tiered_amount_is_monotone_and_bounded(a, b):
    tiers = [{"upto": 30, "rate": 1}, {"rate": 0.7}]
    lo, hi = sorted((a, b))
    assert tiered_amount(lo, tiers) <= tiered_amount(hi, tiers)
    assert 0.7 * hi - 1e-9 <= float(tiered_amount(hi, tiers)) <= hi + 1e-9
