"""Tests for costperf.decompose.gap: LMDI (additive, multiplicative) and Shapley splits."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costperf.decompose.gap import GAP_COLUMNS, decompose_gap, log_mean, peer_reference
from costperf.errors import InputError

METHODS = ["lmdi_additive", "lmdi_multiplicative", "shapley"]


def two_units() -> pd.DataFrame:
    # reference R: wage 4, staff 2.5 -> V0 = 10; unit U: wage 6, staff 3 -> V1 = 18
    return pd.DataFrame({"project_id": ["R", "U"], "wage": [4.0, 6.0], "staff": [2.5, 3.0]})


def effects_of(result: pd.DataFrame, unit: str) -> pd.Series:
    return result[result["unit"] == unit].set_index("driver")["effect"]


def brute_force_shapley(x1: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """Shapley values by averaging over all n! orders (independent of the library)."""
    n = len(x1)
    totals = np.zeros(n)
    for order in itertools.permutations(range(n)):
        current = x0.astype(float).copy()
        for k in order:
            before = np.prod(current)
            current[k] = x1[k]
            totals[k] += np.prod(current) - before
    return totals / math.factorial(n)


# ---------------------------------------------------------------------------
# hand-checked tiny examples
# ---------------------------------------------------------------------------


def test_lmdi_additive_two_drivers_by_hand():
    # gap = 18 - 10 = 8; L(18, 10) = 8 / ln 1.8 = 13.61015
    # wage:  L * ln(6/4)   = 8 * 0.4054651 / 0.5877867 = 5.518534
    # staff: L * ln(3/2.5) = 8 * 0.1823216 / 0.5877867 = 2.481466
    result = decompose_gap(two_units(), "R", ["wage", "staff"])
    effects = effects_of(result, "U")
    assert effects["wage"] == pytest.approx(5.518534, abs=1e-6)
    assert effects["staff"] == pytest.approx(2.481466, abs=1e-6)
    assert effects.sum() == pytest.approx(8.0, rel=1e-12)
    row = result[result["unit"] == "U"].iloc[0]
    assert (row["unit_value"], row["reference_value"], row["gap"]) == (18.0, 10.0, 8.0)
    assert row["ratio"] == pytest.approx(1.8)
    shares = result[result["unit"] == "U"].set_index("driver")["effect_share"]
    assert shares["wage"] == pytest.approx(math.log(1.5) / math.log(1.8))
    assert list(result.columns) == GAP_COLUMNS
    # the reference itself has no gap and zero effects
    assert (effects_of(result, "R") == 0).all()


def test_lmdi_multiplicative_two_drivers_by_hand():
    # effects are the driver ratios 6/4 = 1.5 and 3/2.5 = 1.2; 1.5 * 1.2 = 1.8 = 18/10
    result = decompose_gap(two_units(), "R", ["wage", "staff"], method="lmdi_multiplicative")
    effects = effects_of(result, "U")
    assert effects["wage"] == pytest.approx(1.5)
    assert effects["staff"] == pytest.approx(1.2)
    assert effects.prod() == pytest.approx(1.8, rel=1e-12)
    # share of the log ratio: ln 1.5 / ln 1.8 = 0.689817
    shares = result[result["unit"] == "U"].set_index("driver")["effect_share"]
    assert shares["wage"] == pytest.approx(0.689817, abs=1e-6)
    assert set(result["method"]) == {"lmdi_multiplicative"}


def test_shapley_two_drivers_by_hand():
    # wage:  (6 - 4) * (2.5 + 3) / 2 = 5.5;  staff: (3 - 2.5) * (4 + 6) / 2 = 2.5; sum = 8
    result = decompose_gap(two_units(), "R", ["wage", "staff"], method="shapley")
    effects = effects_of(result, "U")
    assert effects["wage"] == pytest.approx(5.5, rel=1e-12)
    assert effects["staff"] == pytest.approx(2.5, rel=1e-12)


def test_shapley_three_drivers_by_hand():
    # a: 5 -> 6, b: 2 -> 1.5, c: 1 -> 2; V0 = 10, V1 = 18.  Effect of a with weights
    # 1/3 (no other switched), 1/6 (one switched), 1/3 (both switched):
    #   a: 1    * (2*1/3 + (1.5*1 + 2*2)/6 + 1.5*2/3)                           = 31/12
    #   b: -0.5 * (5*1/3 + (6*1 + 5*2)/6 + 6*2/3)                               = -25/6
    #   c: 1    * (5*2/3 + (6*2 + 5*1.5)/6 + 6*1.5/3)                           = 115/12
    units = pd.DataFrame({"id": ["R", "U"], "a": [5.0, 6.0], "b": [2.0, 1.5], "c": [1.0, 2.0]})
    result = decompose_gap(units, "R", ["a", "b", "c"], method="shapley", id_column="id")
    effects = effects_of(result, "U")
    assert effects["a"] == pytest.approx(31 / 12, rel=1e-12)
    assert effects["b"] == pytest.approx(-25 / 6, rel=1e-12)
    assert effects["c"] == pytest.approx(115 / 12, rel=1e-12)
    assert effects.sum() == pytest.approx(8.0, rel=1e-12)


def test_reference_as_given_values():
    result = decompose_gap(two_units(), {"wage": 4.0, "staff": 2.5}, ["wage", "staff"])
    assert effects_of(result, "U")["wage"] == pytest.approx(5.518534, abs=1e-6)


def test_peer_median_reference_with_residual_by_hand():
    # medians: wage 5, staff 1.5, freq 2, cost 10.5 -> product 15, reference residual 0.7
    units = pd.DataFrame(
        {
            "project_id": ["A", "B", "C"],
            "wage": [5.0, 6.0, 4.0],
            "staff": [2.0, 1.5, 1.0],
            "freq": [1.0, 2.0, 3.0],
            "cost": [10.5, 18.0, 12.0],
        }
    )
    drivers = ["wage", "staff", "freq"]
    reference = peer_reference(units, drivers, target="cost")
    assert reference.to_dict() == {"wage": 5.0, "staff": 1.5, "freq": 2.0, "cost": 12.0}
    # reference cost is the median cost 12 (not the product of medians, 15)
    result = decompose_gap(units, reference, drivers, target="cost")
    b = result[result["unit"] == "B"].set_index("driver")
    assert list(b.index) == [*drivers, "residual"]
    assert b["reference_driver_value"]["residual"] == pytest.approx(12 / 15)
    assert b["unit_driver_value"]["residual"] == pytest.approx(18 / 18)
    assert b["reference_value"].iloc[0] == 12.0
    # B: gap 6; logs: wage ln 1.2, staff 0, freq 0, residual ln(1/0.8);
    # L = 6 / ln 1.5; wage effect = 6 ln 1.2 / ln 1.5 = 2.697962
    assert b["effect"]["wage"] == pytest.approx(2.697962, abs=1e-6)
    assert b["effect"]["staff"] == 0
    assert b["effect"].sum() == pytest.approx(6.0, rel=1e-12)
    assert "residual factor = target / product of drivers" in b["note"]["residual"]
    assert b["note"]["wage"] == ""


def test_no_residual_when_target_is_the_product():
    units = two_units().assign(cost=[10.0, 18.0])
    result = decompose_gap(units, "R", ["wage", "staff"], target="cost")
    assert "residual" not in set(result["driver"])


def test_geomean_reference_is_consistent_without_residual():
    rng = np.random.default_rng(1)
    units = pd.DataFrame(rng.uniform(0.5, 3, size=(7, 3)), columns=["a", "b", "c"])
    units["cost"] = units["a"] * units["b"] * units["c"]
    reference = peer_reference(units, ["a", "b", "c"], statistic="geomean", target="cost")
    assert reference["cost"] == pytest.approx(reference[["a", "b", "c"]].prod(), rel=1e-12)
    result = decompose_gap(units, reference, ["a", "b", "c"], id_column=None, target="cost")
    assert "residual" not in set(result["driver"])


def test_peer_reference_statistics():
    units = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, np.nan], "b": [2.0, 2.0, 8.0, 8.0, 1.0]})
    assert peer_reference(units, ["a", "b"], statistic="mean").to_dict() == {"a": 2.5, "b": 4.2}
    # p25 type 7 on [1, 2, 3, 4]: h = 3 * 0.25 = 0.75 -> 1.75
    assert peer_reference(units, "a", statistic="p25")["a"] == pytest.approx(1.75)
    with pytest.raises(InputError, match="unknown peer statistic 'avg'"):
        peer_reference(units, ["a"], statistic="avg")
    with pytest.raises(InputError, match="expected a number > 0"):
        peer_reference(units.assign(a=[0.0, 1, 2, 3, 4]), ["a"], statistic="geomean")


# ---------------------------------------------------------------------------
# zeros and missing values
# ---------------------------------------------------------------------------


def zero_units() -> pd.DataFrame:
    # reference R: 5 * 2 * 1 = 10
    return pd.DataFrame(
        {
            "project_id": ["R", "Z1", "Z2", "ZB"],
            "wage": [5.0, 4.0, 0.0, 4.0],
            "staff": [2.0, 0.0, 2.0, 0.0],
            "freq": [1.0, 3.0, 0.0, 3.0],
        }
    )


def test_lmdi_zero_limit_by_hand():
    result = decompose_gap(zero_units(), "R", ["wage", "staff", "freq"])
    # Z1: staff 0 -> the whole gap (0 - 10) goes to staff, nothing to the others
    z1 = effects_of(result, "Z1")
    assert z1.to_dict() == {"wage": 0.0, "staff": -10.0, "freq": 0.0}
    # Z2: two zeros -> the gap is shared equally by wage and freq
    z2 = effects_of(result, "Z2")
    assert z2.to_dict() == {"wage": -5.0, "staff": 0.0, "freq": -5.0}
    note = result.loc[result["unit"] == "Z2", "note"].iloc[0]
    assert note.startswith("zero value(s) in: wage, freq;")
    assert "Ang & Liu 2007" in note
    assert (result.loc[result["unit"] == "R", "note"] == "").all()


def test_lmdi_zero_in_reference_and_in_both():
    units = zero_units()
    # reference ZB has staff 0: unit R (V = 10) owes its whole gap +10 to staff
    result = decompose_gap(units, "ZB", ["wage", "staff", "freq"])
    assert effects_of(result, "R").to_dict() == {"wage": 0.0, "staff": 10.0, "freq": 0.0}
    # Z1 and ZB both have staff 0: no gap, all effects 0 (delta / delta = 1)
    assert (effects_of(result, "Z1") == 0).all()
    multiplicative = decompose_gap(
        units, "ZB", ["wage", "staff", "freq"], method="lmdi_multiplicative"
    )
    assert effects_of(multiplicative, "Z1")["staff"] == 1.0
    assert effects_of(multiplicative, "R")["staff"] == np.inf


def test_lmdi_multiplicative_zero():
    result = decompose_gap(
        zero_units(), "R", ["wage", "staff", "freq"], method="lmdi_multiplicative"
    )
    z1 = result[result["unit"] == "Z1"].set_index("driver")
    assert z1["effect"].to_dict() == {"wage": 0.8, "staff": 0.0, "freq": 3.0}
    assert z1["effect"].prod() == z1["ratio"].iloc[0] == 0.0
    assert z1["effect_share"].to_dict() == {"wage": 0.0, "staff": 1.0, "freq": 0.0}


def test_lmdi_small_value_strategy_converges_to_the_limit():
    units = zero_units()
    drivers = ["wage", "staff", "freq"]
    limit = decompose_gap(units, "R", drivers)["effect"].to_numpy()
    distances = []
    for delta in [1e-10, 1e-20, 1e-50, 1e-100, 1e-300]:
        result = decompose_gap(units, "R", drivers, zero_value=delta)
        # with any delta the effects still add up to the gap
        sums = result.groupby("unit")["effect"].sum()
        gaps = result.groupby("unit")["gap"].first()
        np.testing.assert_allclose(sums, gaps, rtol=1e-9, atol=1e-9)
        distances.append(np.abs(result["effect"].to_numpy() - limit).max())
        assert f"replaced by δ = {delta:g}" in result.loc[4, "note"]
    assert all(a > b for a, b in itertools.pairwise(distances))
    # the error decays like 1 / ln(1/delta): slow, hence the closed-form default
    assert distances[-1] < 0.01 * 10 < distances[0]


def test_shapley_handles_zeros_and_signs_without_note():
    units = zero_units().assign(freq=[1.0, -3.0, 0.0, 3.0])
    result = decompose_gap(units, "R", ["wage", "staff", "freq"], method="shapley")
    sums = result.groupby("unit")["effect"].sum()
    gaps = result.groupby("unit")["gap"].first()
    np.testing.assert_allclose(sums, gaps, rtol=1e-12, atol=1e-12)
    assert (result["note"] == "").all()
    x1, x0 = np.array([4.0, 0.0, -3.0]), np.array([5.0, 2.0, 1.0])
    np.testing.assert_allclose(effects_of(result, "Z1"), brute_force_shapley(x1, x0))


def test_missing_driver_is_reported_not_decomposed():
    units = two_units().assign(staff=[2.5, np.nan])
    units.loc[2] = ["V", 5.0, 2.5]
    for method in METHODS:
        result = decompose_gap(units, "R", ["wage", "staff"], method=method)
        u = result[result["unit"] == "U"]
        assert u["effect"].isna().all()
        assert (u["note"] == "missing value(s) in: staff; not decomposed").all()
        assert effects_of(result, "V").notna().all()


def test_missing_target_and_undefined_residual_are_reported():
    units = pd.DataFrame(
        {
            "project_id": ["R", "M", "Z"],
            "wage": [4.0, 6.0, 0.0],
            "staff": [2.5, 3.0, 3.0],
            "cost": [11.0, np.nan, 5.0],
        }
    )
    result = decompose_gap(units, "R", ["wage", "staff"], target="cost")
    m = result[result["unit"] == "M"]
    assert m["effect"].isna().all()
    assert m["note"].str.contains("missing value(s) in: cost; not decomposed", regex=False).all()
    z = result[result["unit"] == "Z"]
    assert z["effect"].isna().all()
    assert z["note"].str.contains("residual undefined; not decomposed").all()


# ---------------------------------------------------------------------------
# identities on random data (hypothesis)
# ---------------------------------------------------------------------------

positive = st.floats(min_value=1e-2, max_value=1e2, allow_nan=False, allow_infinity=False)


@st.composite
def driver_data(draw, max_drivers=6, signed=False):
    n = draw(st.integers(min_value=1, max_value=max_drivers))
    m = draw(st.integers(min_value=1, max_value=8))
    # signed: zeros and either sign, kept away from subnormal floats (pure underflow)
    values = st.one_of(st.just(0.0), positive, positive.map(lambda v: -v)) if signed else positive
    x1 = np.array(draw(st.lists(st.lists(values, min_size=n, max_size=n), min_size=m, max_size=m)))
    x0 = np.array(draw(st.lists(values, min_size=n, max_size=n)))
    return x1, x0


def frame_of(x1: np.ndarray) -> tuple[pd.DataFrame, list[str]]:
    drivers = [f"d{j}" for j in range(x1.shape[1])]
    units = pd.DataFrame(x1, columns=drivers)
    units.insert(0, "project_id", [f"u{i:03d}" for i in range(len(units))])
    return units, drivers


def assert_sums_to_gap(result: pd.DataFrame) -> None:
    grouped = result.groupby("unit")
    sums, gaps = grouped["effect"].sum(), grouped["gap"].first()
    scale = grouped["unit_value"].first().abs() + abs(result["reference_value"].iloc[0])
    size = grouped["effect"].apply(lambda e: e.abs().sum())
    # 1e-9 relative to the gap, plus rounding of the terms themselves
    assert ((sums - gaps).abs() <= 1e-9 * gaps.abs() + 1e-12 * (scale + size)).all()


@settings(max_examples=150, deadline=None)
@given(driver_data())
def test_lmdi_additive_sums_to_gap(data):
    x1, x0 = data
    units, drivers = frame_of(x1)
    result = decompose_gap(units, dict(zip(drivers, x0, strict=True)), drivers)
    assert_sums_to_gap(result)
    # agrees with the textbook formula L(V1, V0) ln(x1/x0) (independent computation)
    v1, v0 = x1.prod(axis=1), x0.prod()
    textbook = log_mean(v1, v0)[:, None] * np.log(x1 / x0)
    np.testing.assert_allclose(
        result["effect"].to_numpy().reshape(x1.shape), textbook, rtol=1e-7, atol=1e-9 * v0
    )


@settings(max_examples=150, deadline=None)
@given(driver_data())
def test_lmdi_multiplicative_multiplies_to_ratio(data):
    x1, x0 = data
    units, drivers = frame_of(x1)
    result = decompose_gap(
        units, dict(zip(drivers, x0, strict=True)), drivers, method="lmdi_multiplicative"
    )
    grouped = result.groupby("unit")
    np.testing.assert_allclose(grouped["effect"].prod(), grouped["ratio"].first(), rtol=1e-9)


@settings(max_examples=150, deadline=None)
@given(driver_data(signed=True))
def test_shapley_sums_to_gap_any_sign(data):
    x1, x0 = data
    units, drivers = frame_of(x1)
    result = decompose_gap(units, dict(zip(drivers, x0, strict=True)), drivers, method="shapley")
    assert_sums_to_gap(result)


@settings(max_examples=60, deadline=None)
@given(driver_data(max_drivers=5, signed=True))
def test_shapley_equals_average_over_all_orders(data):
    x1, x0 = data
    units, drivers = frame_of(x1)
    result = decompose_gap(units, dict(zip(drivers, x0, strict=True)), drivers, method="shapley")
    expected = np.array([brute_force_shapley(row, x0) for row in x1])
    scale = np.abs(x1).max() ** len(x0) + np.abs(x0).max() ** len(x0)
    np.testing.assert_allclose(
        result["effect"].to_numpy().reshape(x1.shape), expected, rtol=1e-9, atol=1e-12 * scale
    )


@settings(max_examples=100, deadline=None)
@given(positive, positive, positive, positive)
def test_shapley_two_drivers_closed_form(a0, b0, a1, b1):
    units = pd.DataFrame({"project_id": ["u"], "a": [a1], "b": [b1]})
    result = decompose_gap(units, {"a": a0, "b": b0}, ["a", "b"], method="shapley")
    effects = effects_of(result, "u")
    assert effects["a"] == pytest.approx((a1 - a0) * (b0 + b1) / 2, rel=1e-12, abs=1e-12)
    assert effects["b"] == pytest.approx((b1 - b0) * (a0 + a1) / 2, rel=1e-12, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(driver_data(), st.sampled_from(METHODS), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_row_order(data, method, random):
    x1, x0 = data
    units, drivers = frame_of(x1)
    reference = dict(zip(drivers, x0, strict=True))
    shuffled = units.sample(frac=1.0, random_state=random.randint(0, 2**31))
    pd.testing.assert_frame_equal(
        decompose_gap(units, reference, drivers, method=method),
        decompose_gap(shuffled, reference, drivers, method=method),
    )


@settings(max_examples=100, deadline=None)
@given(driver_data(max_drivers=4))
def test_cancelling_drivers_keep_their_effects(data):
    # a unit whose drivers offset each other exactly has no gap but non-zero effects
    _, x0 = data
    x1 = x0.copy()
    x1[0] *= 2.0
    x1 = np.append(x1, 0.5)[None, :]
    x0 = np.append(x0, 1.0)
    units, drivers = frame_of(x1)
    result = decompose_gap(units, dict(zip(drivers, x0, strict=True)), drivers)
    effects = result["effect"].to_numpy()
    v0 = x0.prod()
    assert effects[0] == pytest.approx(v0 * math.log(2), rel=1e-9)
    assert effects[-1] == pytest.approx(-v0 * math.log(2), rel=1e-9)
    assert_sums_to_gap(result)


@settings(max_examples=100, deadline=None)
@given(positive, positive)
def test_log_mean_properties(a, b):
    value = float(log_mean(a, b))
    assert value == pytest.approx(float(log_mean(b, a)), rel=1e-12)
    assert math.sqrt(a * b) * (1 - 1e-12) <= value <= (a + b) / 2 * (1 + 1e-12)
    assert float(log_mean(a, a)) == pytest.approx(a, rel=1e-15)


def test_log_mean_values():
    # L(2, 1) = 1 / ln 2; L(a, 0) = 0
    assert float(log_mean(2.0, 1.0)) == pytest.approx(1 / math.log(2), rel=1e-15)
    assert float(log_mean(3.0, 0.0)) == 0.0


def test_inputs_not_mutated():
    units = zero_units().assign(cost=[11.0, 0.0, 0.0, 0.0])
    before = units.copy()
    reference = pd.Series({"wage": 5.0, "staff": 2.0, "freq": 1.0, "cost": 11.0})
    reference_before = reference.copy()
    for method in METHODS:
        decompose_gap(units, reference, ["wage", "staff", "freq"], method=method, target="cost")
    pd.testing.assert_frame_equal(units, before)
    pd.testing.assert_series_equal(reference, reference_before)


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------


def test_negative_driver_for_lmdi_names_the_cell():
    units = two_units().assign(
        staff=[2.5, -3.0], source_file="peers.xlsx", sheet="环卫", source_row=[6, 7]
    )
    with pytest.raises(
        InputError, match="row 7, project_id 'U', column 'staff': got '-3.0'"
    ) as exc:
        decompose_gap(units, "R", ["wage", "staff"])
    assert "use method='shapley'" in str(exc.value)
    assert exc.value.problems.loc[0, "source_row"] == 7
    # Shapley accepts signed drivers
    result = decompose_gap(units, "R", ["wage", "staff"], method="shapley")
    assert effects_of(result, "U").sum() == pytest.approx(6 * -3 - 10)


def test_negative_reference_for_lmdi():
    with pytest.raises(InputError, match="reference value for 'staff': got -1.0"):
        decompose_gap(two_units(), {"wage": 1.0, "staff": -1.0}, ["wage", "staff"])


def test_unknown_driver_column():
    with pytest.raises(InputError, match=r"unknown driver column\(s\) 'wages' in units"):
        decompose_gap(two_units(), "R", ["wages", "staff"])


def test_unknown_target_column():
    with pytest.raises(InputError, match=r"unknown target column\(s\) 'cost'"):
        decompose_gap(two_units(), "R", ["wage", "staff"], target="cost")


def test_unknown_method():
    with pytest.raises(InputError, match="unknown decomposition method 'lmdi'; use one of: "):
        decompose_gap(two_units(), "R", ["wage", "staff"], method="lmdi")


def test_unknown_reference_unit_and_incomplete_reference():
    with pytest.raises(InputError, match="reference unit 'Q' not found in column 'project_id'"):
        decompose_gap(two_units(), "Q", ["wage", "staff"])
    with pytest.raises(InputError, match=r"the reference lacks driver\(s\) 'staff'"):
        decompose_gap(two_units(), {"wage": 4.0}, ["wage", "staff"])


def test_non_numeric_driver_and_duplicate_ids():
    units = two_units().astype({"wage": object})
    units.loc[1, "wage"] = "six"
    with pytest.raises(
        InputError, match="project_id 'U', column 'wage': got 'six', expected a number"
    ):
        decompose_gap(units, "R", ["wage", "staff"])
    twice = pd.concat([two_units(), two_units()], ignore_index=True)
    with pytest.raises(InputError, match="expected a unique unit id"):
        decompose_gap(twice, "R", ["wage", "staff"])


def test_missing_id_column_and_bad_zero_value():
    with pytest.raises(InputError, match="id column 'unit_id' not found"):
        decompose_gap(two_units(), "R", ["wage", "staff"], id_column="unit_id")
    with pytest.raises(InputError, match="zero_value must be a small positive number"):
        decompose_gap(two_units(), "R", ["wage", "staff"], zero_value=0.5)
    with pytest.raises(InputError, match="listed more than once"):
        decompose_gap(two_units(), "R", ["wage", "wage"])
