"""Tests for costperf.benchmark.peers: peer statistics and outlier rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from costperf.benchmark.peers import (
    OUTLIER_COLUMNS,
    cooks_distance_outliers,
    flag_outliers,
    peer_statistics,
    super_efficiency_outliers,
)
from costperf.errors import InputError

DEA_DIR = Path(__file__).parent / "reference" / "dea"


def roads() -> pd.DataFrame:
    # class "cleaning", grade 1: 10, 11, 12, 13, 30 (+ one missing); grade 2: 5, 6, 7
    return pd.DataFrame(
        {
            "class_of_matter": ["cleaning"] * 9,
            "road_grade": [1, 1, 1, 1, 1, 1, 2, 2, 2],
            "unit_cost": [10.0, 11.0, 12.0, 13.0, 30.0, np.nan, 5.0, 6.0, 7.0],
        }
    )


# ---------------------------------------------------------------------------
# peer statistics
# ---------------------------------------------------------------------------


def test_peer_statistics_by_hand():
    # [1, 2, 3, 4, 10]: mean 4; squared deviations 9 + 4 + 1 + 0 + 36 = 50 -> var 12.5,
    # std 3.535534, cv 0.883883; type 7: p25 at h = 4 * 0.25 = 1 -> 2, p75 at h = 3 -> 4
    frame = pd.DataFrame({"v": [4.0, 1.0, 10.0, 3.0, 2.0]})
    stats = peer_statistics(frame, "v").iloc[0]
    assert stats["n"] == 5
    assert stats["n_missing"] == 0
    assert stats["mean"] == 4.0
    assert stats["std"] == pytest.approx(3.535534, abs=1e-6)
    assert stats["cv"] == pytest.approx(0.883883, abs=1e-6)
    assert (stats["min"], stats["p25"], stats["p50"], stats["p75"]) == (1.0, 2.0, 3.0, 4.0)
    assert (stats["median"], stats["iqr"], stats["max"]) == (3.0, 2.0, 10.0)


def test_peer_statistics_columns_and_groups():
    stats = peer_statistics(roads(), "unit_cost", by=["class_of_matter", "road_grade"])
    assert list(stats.columns) == [
        "class_of_matter",
        "road_grade",
        "n",
        "n_missing",
        "mean",
        "std",
        "cv",
        "min",
        "p25",
        "p50",
        "p75",
        "median",
        "iqr",
        "max",
    ]
    assert stats["road_grade"].tolist() == [1, 2]
    assert stats["n"].tolist() == [5, 3]
    assert stats["n_missing"].tolist() == [1, 0]
    # grade 2: [5, 6, 7] -> p25 = 5.5, p75 = 6.5 (type 7), iqr 1
    assert stats.loc[1, ["p25", "p75", "iqr"]].tolist() == [5.5, 6.5, 1.0]


def test_quantiles_match_excel_percentile_inc_and_exc():
    # Excel: PERCENTILE.INC({1,2,3,4}, 0.3) = 1.9 (type 7, h = 3 * 0.3 = 0.9);
    #        PERCENTILE.EXC({1,2,3,4}, 0.3) = 1.5 (type 6 = numpy "weibull", h = 5 * 0.3 = 1.5)
    frame = pd.DataFrame({"v": [3.0, 1.0, 4.0, 2.0]})
    assert peer_statistics(frame, "v", quantiles=[0.3])["p30"].iloc[0] == pytest.approx(1.9)
    weibull = peer_statistics(frame, "v", quantiles=[0.3], quantile_method="weibull")
    assert weibull["p30"].iloc[0] == pytest.approx(1.5)
    # R type 7 on (7, 15, 36, 39, 40, 41), p = 0.1: h = 0.5 -> 7 + 0.5 * 8 = 11
    frame = pd.DataFrame({"v": [7.0, 15.0, 36.0, 39.0, 40.0, 41.0]})
    stats = peer_statistics(frame, "v", quantiles=(0.1, 0.025, 0.9))
    assert stats["p10"].iloc[0] == pytest.approx(11.0)
    assert stats["p2.5"].iloc[0] == pytest.approx(7.0 + 0.125 * 8)
    assert stats["p90"].iloc[0] == pytest.approx(40.5)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.floats(-1e6, 1e6, allow_nan=False)),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from(["linear", "weibull", "hazen", "median_unbiased", "inverted_cdf", "nearest"]),
)
def test_quantiles_match_numpy_per_group(rows, method):
    frame = pd.DataFrame(rows, columns=["group", "value"])
    quantiles = (0.1, 0.25, 0.5, 0.75, 0.9)
    stats = peer_statistics(frame, "value", by="group", quantiles=quantiles, quantile_method=method)
    for _, row in stats.iterrows():
        values = frame.loc[frame["group"] == row["group"], "value"].to_numpy()
        expected = np.quantile(values, quantiles, method=method)
        got = row[["p10", "p25", "p50", "p75", "p90"]].to_numpy(dtype=float)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-9)
        assert row["median"] == pytest.approx(np.median(values), abs=1e-9)
        assert row["n"] == len(values)


def test_peer_statistics_keeps_missing_keys_and_zero_mean():
    frame = pd.DataFrame({"g": ["a", "a", None], "v": [-1.0, 1.0, 2.0]})
    stats = peer_statistics(frame, "v", by="g")
    assert stats["n"].tolist() == [2, 1]
    assert np.isnan(stats.loc[0, "cv"])  # mean 0: cv undefined
    assert np.isnan(stats.loc[1, "std"])  # one value: no sample std


def test_peer_statistics_bad_input():
    frame = roads().assign(source_file="roads.csv", source_row=range(2, 11))
    frame["unit_cost"] = frame["unit_cost"].astype(object)
    frame.loc[3, "unit_cost"] = "n/a"
    with pytest.raises(InputError, match="roads.csv, row 5, column 'unit_cost': got 'n/a'"):
        peer_statistics(frame, "unit_cost")
    with pytest.raises(InputError, match=r"unknown column\(s\) 'grade' in peers"):
        peer_statistics(roads(), "unit_cost", by="grade")
    with pytest.raises(InputError, match=r"quantiles must lie in \[0, 1\], got \[25.0\]"):
        peer_statistics(roads(), "unit_cost", quantiles=[25])
    with pytest.raises(InputError, match="unknown quantile_method 'type7'"):
        peer_statistics(roads(), "unit_cost", quantile_method="type7")


# ---------------------------------------------------------------------------
# IQR and MAD rules
# ---------------------------------------------------------------------------


def test_iqr_flags_by_hand():
    # grade 1: Q1 = 11, Q3 = 13, IQR = 2 -> fences 8 and 16: 30 is flagged
    result = flag_outliers(roads(), "unit_cost", by=["road_grade"])
    assert list(result.columns) == [*roads().columns, *OUTLIER_COLUMNS]
    assert result["outlier"].tolist() == [False] * 4 + [True] + [False] * 4
    assert result.loc[4, "outlier_reason"] == "above Q3 + 1.5·IQR (30.00 > 16.00)"
    assert result.loc[4, "outlier_reason_zh"] == "高于上四分位数+1.5倍四分位距（30.00 > 16.00）"
    assert result.loc[0, ["lower_fence", "upper_fence"]].tolist() == [8.0, 16.0]
    assert result.loc[0, "outlier_reason"] == ""
    assert result.loc[5, "outlier_reason"] == "not screened: value missing"
    # grade 2 has 3 values: not screened
    assert result.loc[6, "outlier_reason"] == "not screened: group has 3 value(s), fewer than 4"
    assert result.loc[6, "outlier_reason_zh"] == "未筛查：组内仅3个有效值，少于4个"
    assert np.isnan(result.loc[6, "upper_fence"])
    assert (result["outlier_rule"] == "iqr").all()


def test_iqr_low_outlier_and_k():
    # [1, 10, 11, 12, 13]: Q1 = 10, Q3 = 12 -> lower fence 7: 1 is flagged
    frame = pd.DataFrame({"v": [1.0, 10.0, 11.0, 12.0, 13.0]})
    result = flag_outliers(frame, "v")
    assert result["outlier"].tolist() == [True, False, False, False, False]
    assert result.loc[0, "outlier_reason"] == "below Q1 - 1.5·IQR (1.00 < 7.00)"
    # k = 4: lower fence 10 - 8 = 2 still flags 1; k = 5: fence 0 keeps it
    assert flag_outliers(frame, "v", k=4)["outlier"].sum() == 1
    assert flag_outliers(frame, "v", k=5)["outlier"].sum() == 0


def test_mad_flags_by_hand():
    # grade 1: median 12, |x - 12| = 2, 1, 0, 1, 18 -> MAD 1;
    # modified z of 30: 0.6745 * 18 / 1 = 12.14 > 3.5; of 10: 1.35.  Upper fence 12 + 3.5 /
    # 0.6745 = 17.19
    result = flag_outliers(roads(), "unit_cost", by="road_grade", rule="mad")
    assert result["outlier"].tolist() == [False] * 4 + [True] + [False] * 4
    assert result.loc[0, "upper_fence"] == pytest.approx(12 + 3.5 / 0.6745)
    assert result.loc[4, "outlier_reason"] == (
        "above median + 3.5·MAD/0.6745 (30.00 > 17.19; modified z-score 12.14)"
    )
    assert result.loc[4, "outlier_reason_zh"].startswith("高于中位数+3.5×MAD/0.6745（30.00 > 17.19")


def test_mad_zero_is_not_screened():
    frame = pd.DataFrame({"v": [5.0, 5.0, 5.0, 6.0, 50.0]})
    result = flag_outliers(frame, "v", rule="mad")
    assert not result["outlier"].any()
    assert result.loc[4, "outlier_reason"].startswith("not screened: MAD = 0")
    # the IQR rule still applies (Q1 = Q3 = 5 ... Q3 = 6: fences 3.5 and 7.5)
    assert flag_outliers(frame, "v")["outlier"].tolist() == [False] * 4 + [True]


def test_rule_none_and_min_group_size():
    result = flag_outliers(roads(), "unit_cost", rule="none")
    assert not result["outlier"].any()
    assert (result["outlier_reason"] == "").all()
    assert result["upper_fence"].isna().all()
    small = flag_outliers(roads(), "unit_cost", by="road_grade", min_group_size=3)
    assert small.loc[6, "outlier_reason"] == ""  # grade 2 is now screened


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.floats(-1e3, 1e3, allow_nan=False)),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from(["iqr", "mad"]),
    st.randoms(use_true_random=False),
)
def test_flags_match_numpy_and_ignore_row_order(rows, rule, random):
    frame = pd.DataFrame(rows, columns=["g", "v"])
    result = flag_outliers(frame, "v", by="g", rule=rule)
    for _, group in frame.groupby("g"):
        x = group["v"].to_numpy()
        if rule == "iqr":
            q1, q3 = np.quantile(x, [0.25, 0.75])
            expected = (x < q1 - 1.5 * (q3 - q1)) | (x > q3 + 1.5 * (q3 - q1))
        else:
            mad = np.median(np.abs(x - np.median(x)))
            z = 0.6745 * (x - np.median(x)) / mad if mad > 0 else np.zeros_like(x)
            expected = np.abs(z) > 3.5
        expected &= len(x) >= 4
        assert result.loc[group.index, "outlier"].tolist() == expected.tolist()
    shuffled = frame.sample(frac=1.0, random_state=random.randint(0, 2**31))
    again = flag_outliers(shuffled, "v", by="g", rule=rule).sort_index()
    pd.testing.assert_frame_equal(again, result)


def test_flag_outliers_does_not_mutate_and_rejects_bad_input():
    frame = roads()
    before = frame.copy()
    flag_outliers(frame, "unit_cost", by="road_grade", rule="mad")
    pd.testing.assert_frame_equal(frame, before)
    with pytest.raises(
        InputError, match="unknown outlier rule 'zscore'; use one of: iqr, mad, none"
    ):
        flag_outliers(frame, "unit_cost", rule="zscore")
    with pytest.raises(InputError, match="k must be a positive number, got -1"):
        flag_outliers(frame, "unit_cost", k=-1)
    with pytest.raises(InputError, match="expected a finite number"):
        flag_outliers(frame.assign(unit_cost=np.inf), "unit_cost")


# ---------------------------------------------------------------------------
# Cook's distance and super-efficiency
# ---------------------------------------------------------------------------


def test_cooks_distance_against_the_formula():
    x = np.arange(10.0)
    y = 2 * x + np.array([0, 0.1, -0.1, 0, 0.2, -0.2, 0, 0.1, 5, 0])
    index = list("abcdefghij")
    design = sm.add_constant(pd.Series(x, index=index, name="x"))
    result = sm.OLS(pd.Series(y, index=index), design).fit()
    # independent: D_i = e_i^2 / (p s^2) * h_i / (1 - h_i)^2
    X = design.to_numpy()
    hat = np.diag(X @ np.linalg.inv(X.T @ X) @ X.T)
    resid = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    s2 = resid @ resid / (10 - 2)
    expected = resid**2 / (2 * s2) * hat / (1 - hat) ** 2
    out = cooks_distance_outliers(result)
    np.testing.assert_allclose(out["cooks_distance"], expected, rtol=1e-10)
    assert list(out.index) == index
    assert out.index[out["outlier"]].tolist() == ["i"]  # 4 / n = 0.4
    assert out.loc["i", "outlier_reason"] == f"Cook's distance {expected[8]:.3f} > 4/n = 0.400"
    assert out.loc["i", "outlier_reason_zh"].startswith("库克距离")
    assert (out["upper_fence"] == 0.4).all()
    assert cooks_distance_outliers(result, threshold=0.02)["outlier"].sum() == int(
        (expected > 0.02).sum()
    )
    with pytest.raises(TypeError, match="expects an OLS fit"):
        cooks_distance_outliers(design)
    with pytest.raises(InputError, match="threshold must be a positive number"):
        cooks_distance_outliers(result, threshold=0)


def test_cooks_and_super_efficiency_reasons_in_both_languages():
    x = np.arange(10.0)
    y = 2 * x + np.array([0, 0.1, -0.1, 0, 0.2, -0.2, 0, 0.1, 5, 0])
    result = sm.OLS(y, sm.add_constant(x)).fit()
    flagged = cooks_distance_outliers(result, threshold=0.5).loc[8]
    d = f"{flagged['cooks_distance']:.3f}"
    assert flagged["outlier_reason"] == f"Cook's distance {d} > threshold = 0.500"
    assert flagged["outlier_reason_zh"] == f"库克距离{d}超过阈值0.500"
    assert (
        cooks_distance_outliers(result).loc[8, "outlier_reason_zh"]
        == f"库克距离{d}超过阈值4/n（0.400）"
    )
    scores = pd.Series([1.964, 1.1, np.inf], index=["a", "b", "c"])
    out = super_efficiency_outliers(scores)
    assert out["outlier_reason"].tolist() == [
        "super-efficiency 1.964 > 1.2",
        "",
        "infeasible super-efficiency LP: outside the frontier's reach",
    ]
    assert out["outlier_reason_zh"].tolist() == [
        "超效率得分1.964高于1.2",
        "",
        "超效率线性规划无可行解：超出其余单元所构成前沿的可及范围",
    ]
    low = super_efficiency_outliers(pd.Series([0.5, 0.9]), threshold=1.25, orientation="output")
    assert low["outlier_reason"].tolist() == ["output super-efficiency 0.500 < 1/1.25 = 0.800", ""]
    assert low["outlier_reason_zh"].tolist() == ["产出导向超效率得分0.500低于1/1.25（0.800）", ""]


def test_low_reasons_and_group_sizes_in_both_languages():
    # [1, 10, 11, 12, 13]: MAD 1, median 11: 1 is 10 below; z = 0.6745 * -10 = -6.75
    frame = pd.DataFrame({"g": [0] * 5 + [1] * 3, "v": [1.0, 10, 11, 12, 13, 4, 4, 4]})
    mad = flag_outliers(frame, "v", by="g", rule="mad")
    assert mad.loc[0, "outlier_reason"] == (
        "below median - 3.5·MAD/0.6745 (1.00 < 5.81; modified z-score -6.75)"
    )
    assert (
        mad.loc[0, "outlier_reason_zh"]
        == "低于中位数-3.5×MAD/0.6745（1.00 < 5.81；修正Z分数-6.75）"
    )
    iqr = flag_outliers(frame, "v", by="g", k=2)
    assert iqr.loc[0, "outlier_reason"] == "below Q1 - 2·IQR (1.00 < 6.00)"
    assert iqr.loc[0, "outlier_reason_zh"] == "低于下四分位数-2倍四分位距（1.00 < 6.00）"
    assert iqr["outlier_reason_zh"].tolist()[5:] == ["未筛查：组内仅3个有效值，少于4个"] * 3
    assert (
        iqr["outlier_reason"].tolist()[5:]
        == ["not screened: group has 3 value(s), fewer than 4"] * 3
    )


def test_super_efficiency_on_benchmarking_reference():
    data = pd.read_csv(DEA_DIR / "milkProd.csv").set_index("dmu")
    out = super_efficiency_outliers(data["super_vrs_in"])
    # R Benchmarking sdea: 4 units above 1.2, one infeasible (Inf): dmu 28, 29, 31, 41, 52
    assert out.index[out["outlier"]].tolist() == [28, 29, 31, 41, 52]
    assert out.loc[31, "outlier_reason"] == (
        "infeasible super-efficiency LP: outside the frontier's reach"
    )
    assert out.loc[28, "outlier_reason"] == "super-efficiency 1.964 > 1.2"
    output = super_efficiency_outliers(data["super_vrs_out"], orientation="output")
    expected = (data["super_vrs_out"] < 1 / 1.2) | np.isinf(data["super_vrs_out"])
    assert output["outlier"].tolist() == expected.tolist()
    assert expected.sum() == 6  # 3 finite scores below 1/1.2 and 3 infeasible (-Inf)
    assert output["outlier_reason"].str.startswith("infeasible").sum() == 3


def test_super_efficiency_bad_input():
    with pytest.raises(InputError, match="threshold must be a number > 1"):
        super_efficiency_outliers(pd.Series([1.0]), threshold=0.9)
    with pytest.raises(InputError, match="unknown orientation 'graph'"):
        super_efficiency_outliers(pd.Series([1.0]), orientation="graph")
    with pytest.raises(InputError, match="index 'B', column 'super_efficiency': got '-0.5'"):
        super_efficiency_outliers(pd.Series([1.0, -0.5], index=["A", "B"]))
