"""Deriving unit-cost standards by rules stated as data: values recomputed independently."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from costperf.cli import main
from costperf.errors import InputError
from costperf.standards import read_standards
from costperf.standards.derive import (
    Derivation,
    build_standard_table,
    compare_rules,
    derive_standard,
    leave_one_out,
    leave_one_out_values,
    override_params,
    rule_provenance,
    rule_values,
    standard_frame,
    write_derived_table,
)

REPO = Path(__file__).resolve().parents[1]
CASE = REPO / "cases" / "sanitation-5-districts"
FORMULA = "np.log(unit_cost) ~ np.log(wage_index) + np.log(sweeps_per_day)"
DEA = {"dea_inputs": ["cost_personnel", "cost_equipment"], "dea_outputs": ["area_m2"]}
DIMS = ["grade"]


@pytest.fixture(scope="module")
def units() -> pd.DataFrame:
    """Three grades of 9 contracts; one clear outlier in grade A."""
    rng = np.random.default_rng(7)
    rows = []
    for g, level in (("A", 16.0), ("B", 11.0), ("C", 7.0)):
        for i in range(9):
            wage = rng.uniform(0.9, 1.1)
            sweeps = rng.choice([1.0, 2.0, 3.0])
            area = rng.uniform(1e5, 8e5)
            unit_cost = level * wage**0.8 * sweeps**0.1 * np.exp(rng.normal(0, 0.05))
            if g == "A" and i == 0:
                unit_cost *= 1.8
            total = unit_cost * area
            personnel = total * rng.uniform(0.65, 0.75)
            rows.append(
                {
                    "project_id": f"{g}-{i:02d}",
                    "grade": g,
                    "source_file": "peers.csv",
                    "source_row": len(rows) + 2,
                    "wage_index": wage,
                    "sweeps_per_day": sweeps,
                    "area_m2": area,
                    "output_quantity": area,
                    "total_cost": total,
                    "unit_cost": unit_cost,
                    "cost_personnel": personnel,
                    "cost_equipment": total * rng.uniform(0.08, 0.14),
                }
            )
    return pd.DataFrame(rows)


def _iqr_kept(values: np.ndarray) -> np.ndarray:
    q1, q3 = np.quantile(values, [0.25, 0.75])
    return (values >= q1 - 1.5 * (q3 - q1)) & (values <= q3 + 1.5 * (q3 - q1))


def _median_point(frame: pd.DataFrame, grade: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "grade": [grade],
            "wage_index": [frame["wage_index"].median()],
            "sweeps_per_day": [frame["sweeps_per_day"].median()],
        }
    )


# ------------------------------------------------------------------- peer quantiles


@pytest.mark.parametrize(("rule", "q"), [("median", 0.5), ("p25", 0.25), ("quantile:0.4", 0.4)])
def test_peer_quantiles_after_iqr_screen(units, rule, q):
    got = rule_values(units, DIMS, rule).set_index("grade")
    for grade, cell in units.groupby("grade"):
        x = cell["unit_cost"].to_numpy()
        kept = _iqr_kept(x)
        assert got.at[grade, "value"] == pytest.approx(np.quantile(x[kept], q), rel=1e-12)
        assert got.at[grade, "n_used"] == kept.sum()
        assert got.at[grade, "n_excluded"] == (~kept).sum()
    assert got.at["A", "n_excluded"] == 1
    assert got.at["A", "peers_excluded"].startswith("A-00: above Q3 + 1.5·IQR")


def test_no_screening_and_mad(units):
    plain = rule_values(units, DIMS, "median", outlier_rule="none").set_index("grade")
    assert plain.at["A", "value"] == pytest.approx(
        units.loc[units.grade == "A", "unit_cost"].median()
    )
    assert (plain["n_excluded"] == 0).all()
    # no screening named (not "after none screening"); each language from one labels.csv row
    assert plain.loc["A", ["method", "method_zh"]].tolist() == [
        "peer median of 9 contracts",
        "同类9个合同的中位数",
    ]
    mad = rule_values(units, DIMS, "mean", outlier_rule="mad").set_index("grade")
    assert mad.loc["A", ["method", "method_zh"]].tolist() == [
        "peer mean of 8 contracts after mad screening",
        "同类8个合同经中位数绝对偏差法筛查异常值后的均值",
    ]
    x = units.loc[units.grade == "A", "unit_cost"].to_numpy()
    med = np.median(x)
    z = 0.6745 * (x - med) / np.median(np.abs(x - med))
    assert mad.at["A", "value"] == pytest.approx(x[np.abs(z) <= 3.5].mean())


# -------------------------------------------------------------------------- models


def test_regression_rule_is_expected_cost_at_median_drivers(units):
    got = rule_values(units, DIMS, "regression", formula=FORMULA).set_index("grade")
    fit = smf.ols(FORMULA + " + C(grade)", data=units).fit()
    smearing = np.mean(np.exp(fit.resid))
    for grade, cell in units.groupby("grade"):
        expected = np.exp(fit.predict(_median_point(cell, grade)).iloc[0]) * smearing
        assert got.at[grade, "value"] == pytest.approx(expected, rel=1e-10)
    formula = FORMULA + " + C(grade)"
    assert got.loc["A", ["method", "method_zh"]].tolist() == [
        f"expected unit cost from OLS {formula} on 27 contracts (smearing retransform), "
        "at the cell's median drivers",
        f"成本回归（最小二乘 {formula}，27个合同，Duan 涂抹估计（Duan 1983））的期望单位成本，"
        "按本组驱动因素中位数取值",
    ]
    mean = rule_values(units, DIMS, "regression", formula=FORMULA, at="mean_prediction")
    b = units[units.grade == "B"]
    assert mean.set_index("grade").at["B", "value"] == pytest.approx(
        np.mean(np.exp(fit.predict(b)) * smearing), rel=1e-10
    )


def test_quantile_regression_rule_matches_statsmodels_quantreg(units):
    got = rule_values(units, DIMS, "quantile_regression", formula=FORMULA, tau=0.25)
    got = got.set_index("grade")
    fit = smf.quantreg(FORMULA + " + C(grade)", data=units).fit(q=0.25, max_iter=5000)
    for grade, cell in units.groupby("grade"):
        expected = np.exp(fit.predict(_median_point(cell, grade)).iloc[0])
        assert got.at[grade, "value"] == pytest.approx(expected, rel=1e-4)
    formula = FORMULA + " + C(grade)"
    assert got.loc["A", ["method", "method_zh"]].tolist() == [
        f"tau = 0.25 quantile-regression frontier {formula} on 27 contracts, "
        "at the cell's median drivers",
        f"分位数回归前沿（分位点 0.25，{formula}，27个合同），按本组驱动因素中位数取值",
    ]


def _vrs_input_theta(x: np.ndarray, y: np.ndarray, o: int) -> float:
    """min theta s.t. X'l <= theta x_o, Y'l >= y_o, sum l = 1, l >= 0."""
    n = len(x)
    c = np.r_[1.0, np.zeros(n)]
    a_in = np.c_[-x[o][:, None], x.T]
    a_out = np.c_[np.zeros((y.shape[1], 1)), -y.T]
    res = linprog(
        c,
        A_ub=np.r_[a_in, a_out],
        b_ub=np.r_[np.zeros(x.shape[1]), -y[o]],
        A_eq=np.r_[0.0, np.ones(n)][None, :],
        b_eq=[1.0],
        bounds=[(None, None)] + [(0, None)] * n,
        method="highs",
    )
    return float(res.x[0])


def test_dea_rule_is_cell_median_of_efficient_unit_costs(units):
    got = rule_values(units, DIMS, "dea", **DEA).set_index("grade")
    for grade, cell in units.groupby("grade"):
        x = cell[DEA["dea_inputs"]].to_numpy()
        y = cell[DEA["dea_outputs"]].to_numpy()
        theta = np.array([_vrs_input_theta(x, y, o) for o in range(len(cell))])
        efficient = cell["unit_cost"].to_numpy() * theta
        assert got.at[grade, "value"] == pytest.approx(np.median(efficient), rel=1e-6)
        assert got.at[grade, "n_used"] == len(cell)
    assert got.loc["A", ["method", "method_zh"]].tolist() == [
        "median efficient unit cost (unit cost x input-oriented VRS DEA theta) of 9 contracts; "
        "inputs cost_personnel, cost_equipment; outputs area_m2",
        "同类9个合同有效单位成本（单位成本×VRS投入导向技术效率）的中位数；"
        "投入：cost_personnel、cost_equipment；产出：area_m2",
    ]


def test_triangulation_median_and_weighted_mean(units):
    params = {"formula": FORMULA, **DEA}
    members = {
        r: rule_values(units, DIMS, r, **params).set_index("grade")["value"]
        for r in ("median", "regression", "quantile_regression", "dea")
    }
    table = pd.DataFrame(members)
    got = rule_values(units, DIMS, "triangulation", **params).set_index("grade")["value"]
    pd.testing.assert_series_equal(got, table.median(axis=1), check_names=False)
    weighted = rule_values(
        units,
        DIMS,
        "triangulation",
        members=["median", "dea"],
        combine="weighted_mean",
        weights=[3, 1],
        **params,
    ).set_index("grade")
    expected = (3 * table["median"] + table["dea"]) / 4
    pd.testing.assert_series_equal(weighted["value"], expected, check_names=False)
    assert weighted.loc["A", ["method", "method_zh"]].tolist() == [
        "weighted mean of median 16.22, dea 15.7",
        "各法结果（同类中位数 16.22、数据包络分析（DEA）有效成本 15.7）的加权平均",
    ]


# ---------------------------------------------------------------- comparison, LOO


def test_compare_rules_savings_by_hand(units):
    params = {"formula": FORMULA, **DEA}
    table = compare_rules(units, DIMS, ["median", "p25", "regression"], **params)
    for rule in ("median", "p25", "regression"):
        cells = table[(table.rule == rule) & (table.scope == "cell")].set_index("grade")
        total_savings = 0.0
        for grade, cell in units.groupby("grade"):
            standard = cells.at[grade, "value"]
            savings = sum(
                max(0.0, u - standard) * q
                for u, q in zip(cell["unit_cost"], cell["output_quantity"], strict=True)
            )
            total_savings += savings
            assert cells.at[grade, "savings_yuan"] == pytest.approx(savings, rel=1e-12)
            assert cells.at[grade, "savings_pct"] == pytest.approx(
                100 * savings / cell["total_cost"].sum(), rel=1e-12
            )
        total = table[(table.rule == rule) & (table.scope == "total")].iloc[0]
        assert total["savings_yuan"] == pytest.approx(total_savings, rel=1e-12)
        assert total["savings_pct"] == pytest.approx(
            100 * total_savings / units["total_cost"].sum(), rel=1e-12
        )
        assert total["n_peers"] == len(units)
    # a lower standard never implies smaller savings
    totals = table[table.scope == "total"].set_index("rule")["savings_yuan"]
    assert totals["p25"] >= totals["median"] >= 0


def test_compare_rules_notes_a_rule_it_cannot_compute(units):
    table = compare_rules(units, DIMS, ["median", "dea"], on_error="note")
    note = table[table.rule == "dea"].iloc[0]
    assert np.isnan(note["savings_yuan"]) and "frontier_inputs" in note["method"]
    with pytest.raises(InputError, match="needs inputs and outputs"):
        compare_rules(units, DIMS, ["dea"])


@pytest.mark.parametrize(
    "rule", ["median", "regression", "quantile_regression", "dea", "triangulation"]
)
def test_leave_one_out_equals_brute_force(units, rule):
    params = {"formula": FORMULA, **DEA}
    base = rule_values(units, DIMS, rule, **params).set_index("grade")["value"]
    pooled = rule in ("regression", "quantile_regression", "triangulation")
    brute = []
    for i in units.index:
        dropped = units.loc[i, "project_id"]
        values = rule_values(units.drop(index=i), DIMS, rule, **params)
        for grade, value in zip(values["grade"], values["value"], strict=True):
            if pooled or grade == units.loc[i, "grade"]:
                brute.append({"grade": grade, "dropped": dropped, "brute": value})
    brute = pd.DataFrame(brute)
    fast = leave_one_out_values(units, DIMS, [rule], **params)
    merged = fast.merge(brute, on=["grade", "dropped"], how="outer", validate="1:1")
    assert len(merged) == len(brute) == len(fast)
    np.testing.assert_allclose(merged["value"], merged["brute"], rtol=1e-9)
    summary = leave_one_out(units, DIMS, [rule], **params).set_index("grade")
    for grade, group in brute.groupby("grade"):
        change = (group["brute"] - base[grade]).abs()
        row = summary.loc[grade]
        assert row["loo_min"] == pytest.approx(group["brute"].min(), rel=1e-9)
        assert row["loo_max"] == pytest.approx(group["brute"].max(), rel=1e-9)
        assert row["max_abs_pct_change"] == pytest.approx(
            100 * change.max() / base[grade], rel=1e-6
        )
        assert row["most_influential_peer"] == group.loc[change.idxmax(), "dropped"]
        assert row["n_drops"] == len(group)


def test_leave_one_out_finds_the_outlier_for_the_mean(units):
    summary = leave_one_out(units, DIMS, ["mean"], outlier_rule="none").set_index("grade")
    assert summary.at["A", "most_influential_peer"] == "A-00"


# ------------------------------------------------------------------ provenance


def test_provenance_rows_and_fields(units):
    params = {"formula": FORMULA, **DEA}
    rules = ["median", "regression", "dea"]
    prov = rule_provenance(units, DIMS, rules, **params)
    for column in (
        "rule",
        "grade",
        "project_id",
        "source_file",
        "source_row",
        "used",
        "reason",
        "reason_zh",
        "peer_value",
        "method",
        "parameters",
        "data_hash",
    ):
        assert column in prov.columns, column
    assert len(prov) == len(rules) * len(units)
    median = prov[prov.rule == "median"].set_index("project_id")
    assert not median.at["A-00", "used"]
    assert "IQR" in median.at["A-00", "reason"] and "四分位距" in median.at["A-00", "reason_zh"]
    assert median.at["A-00", "source_row"] == 2
    values = rule_values(units, DIMS, "regression", **params)
    params_json = json.loads(values["parameters"].iloc[0])
    assert params_json["formula"] == FORMULA and params_json["at"] == "median_drivers"
    assert len(values["data_hash"].iloc[0]) == 16
    # the hash does not depend on row order, but on the values
    shuffled = rule_values(units.sample(frac=1, random_state=1), DIMS, "regression", **params)
    assert shuffled["data_hash"].iloc[0] == values["data_hash"].iloc[0]
    changed = units.assign(wage_index=units["wage_index"] * 1.01)
    assert (
        rule_values(changed, DIMS, "regression", **params)["data_hash"].iloc[0]
        != (values["data_hash"].iloc[0])
    )


def test_standard_table_round_trips_through_the_standards_loader(units, tmp_path):
    values = rule_values(units, DIMS, "median")
    band = (rule_values(units, DIMS, "p25"), rule_values(units, DIMS, "p75"))
    standard = standard_frame(
        values,
        band,
        dims=DIMS,
        standard_id="T-UC",
        name="测试单位成本标准",
        version="2026.1",
        effective_from=pd.Timestamp("2026-01-01").date(),
        unit="元/m2",
    )
    table = build_standard_table(
        standard,
        dims=DIMS,
        table_id="t-uc",
        version=1,
        title="测试单位成本标准",
        effective_from=pd.Timestamp("2026-01-01").date(),
        peer_rows=rule_provenance(units, DIMS, ["median"]),
        unit="元/m2",
        dim_labels={"grade": "等级"},
    )
    toml_path, csv_path, peers_path = write_derived_table(table, tmp_path)
    header = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    assert (header["status"], header["kind"], header["version"]) == ("draft", "unit_cost", 1)
    assert header["source"]["method"] == "derive:median"
    assert header["source"]["parameters"]["outlier_rule"] == "iqr"
    assert header["source"]["data_hash"] == values["data_hash"].iloc[0]
    assert header["source"]["peer_rows"] == peers_path.name
    assert header["notes"][:2] == [
        "本表为由同类合同数据测算的草案（测算规则：同类中位数），未经发布。",
        "测算方法：同类中位数，按四分位距法筛查异常值后计算；各档所用合同数：A 8 个、B 7 个、C 9 个。",
    ]
    assert header["notes_en"][:2] == [
        "Draft derived from peer contracts (rule: peer median); not issued.",
        "Method: peer median, after interquartile range screening; "
        "contracts used per cell: A 8, B 7, C 9.",
    ]
    standards = read_standards(toml_path)
    lines = standards.values.set_index("grade")
    assert lines.at["A", "value"] == pytest.approx(round(values["value"].iloc[0], 2))
    with pytest.raises(InputError, match="already exists"):
        write_derived_table(table, tmp_path)


# ---------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rule": "median2"}, "unknown rule 'median2'; use one of: median"),
        ({"rule": "quantile:1.5"}, "unknown rule"),
        ({"rule": "median", "tau": 1.2}, "tau must be a number strictly between 0 and 1"),
        ({"rule": "median", "outliers": "iqr"}, "unknown parameter 'outliers'"),
        ({"rule": "regression"}, r"needs a cost-model formula: set \[benchmark\] formula"),
        ({"rule": "triangulation", "weights": [1, 2]}, "weights must be 4 numbers"),
    ],
)
def test_bad_rules_and_parameters(units, kwargs, match):
    rule = kwargs.pop("rule")
    with pytest.raises(InputError, match=match):
        rule_values(units, DIMS, rule, **kwargs)


# ----------------------------------------------------------------- the case and CLI


@pytest.fixture(scope="module")
def derivation() -> Derivation:
    from costperf.case import load_case
    from costperf.pipeline import load_case_data

    config = load_case(CASE)
    settings = override_params(config.standard, compare=["median", "regression", "dea"])
    data = load_case_data(config)
    return derive_standard(data.peer_units, config.units.dimensions, settings, output_unit="m2")


def test_derive_standard_on_the_case(derivation):
    assert derivation.rule == "median" and derivation.compared == ("median", "regression", "dea")
    dims = ["road_grade"]
    again = rule_values(derivation.units, dims, "median")
    np.testing.assert_allclose(derivation.standard["value"], again["value"])
    assert list(derivation.standard["road_grade"]) == ["一级", "二级", "三级", "四级"]
    assert (derivation.standard["lower"] <= derivation.standard["value"]).all()
    assert set(derivation.comparison["rule"]) == {"median", "regression", "dea"}
    assert set(derivation.sensitivity["rule"]) == {"median", "regression", "dea"}
    assert derivation.table.header["table_id"] == "hw-uc"
    assert derivation.table.header["source"]["data_hash"] == again["data_hash"].iloc[0]
    assert (derivation.table.peer_rows["rule"] == "median").all()
    assert len(derivation.table.peer_rows) == len(derivation.units)


def test_the_band_of_compared_rules_is_the_band_evaluated_again():
    """The band (p25, p75) taken from the compared rules' results is the band
    ``rule_values`` computes on its own (the reference), with and without them compared."""
    from costperf.case import load_case
    from costperf.pipeline import load_case_data

    config = load_case(CASE)
    data = load_case_data(config)
    dims = config.units.dimensions
    standards = []
    for compare in (["median", "p25", "p75"], ["median"]):
        settings = override_params(config.standard, compare=compare)
        derived = derive_standard(data.peer_units, dims, settings, output_unit="m2")
        standards.append(derived.standard)
    pd.testing.assert_frame_equal(standards[0], standards[1], check_exact=True)
    for column, rule in (("lower", "p25"), ("upper", "p75")):
        again = rule_values(data.peer_units, dims, rule, **dict(config.standard.params))
        assert standards[0][column].tolist() == again["value"].tolist()


@pytest.fixture
def case(tmp_path) -> Path:
    folder = tmp_path / "case"
    shutil.copytree(CASE, folder)
    return folder


@pytest.mark.parametrize("version", ["-3", "0"])
def test_cli_derive_refuses_a_version_below_1_before_writing(case, tmp_path, capsys, version):
    """Found by an audit: --version -3 failed after writing hw-uc-v-3.*, and 0 was written
    as version 1."""
    out = tmp_path / "out"
    status = main(["standards", "derive", str(case), "--out", str(out), "--version", version])
    err = capsys.readouterr().err
    assert status == 2
    assert f"--version：应为不小于 1 的表版本号，实际为 {version}" in err
    assert not out.exists()


def test_cli_derive_writes_everything(case, tmp_path, capsys):
    out = tmp_path / "out"
    status = main(["standards", "derive", str(case), "--out", str(out)])
    printed = capsys.readouterr()
    assert status == 0, printed.err
    for name in (
        "derive-comparison.csv",
        "derive-sensitivity.csv",
        "derive-provenance.csv",
        "derive-standard.csv",
        "hw-uc-v1.xlsx",
        "hw-uc-v1.html",
        "standards/hw-uc-v1.toml",
        "standards/hw-uc-v1.csv",
        "standards/hw-uc-v1.peers.csv",
    ):
        assert (out / name).is_file(), name
    assert "规则 同类中位数" in printed.out and "节约额" in printed.out
    comparison = pd.read_csv(out / "derive-comparison.csv", encoding="utf-8-sig")
    assert {"测算规则", "隐含节约额（元）", "节约率%"} <= set(comparison.columns)
    # codes as words in the Chinese CSVs (the --lang en ones keep the codes)
    assert set(comparison["测算规则"]) >= {
        "同类中位数",
        "成本回归预期值",
        "数据包络分析（DEA）有效成本",
        "多方法综合",
    }
    assert set(comparison["范围"]) == {"分组", "合计"}
    provenance = pd.read_csv(out / "derive-provenance.csv", encoding="utf-8-sig")
    assert set(provenance["是否采用"]) <= {"是", "否"} and "剔除原因" in provenance
    standard = pd.read_csv(out / "derive-standard.csv", encoding="utf-8-sig")
    assert set(standard["类型"]) == {"成本标准"} and set(standard["状态"]) == {"草案"}
    excluded = set(standard["剔除的合同及原因"].dropna())  # the reasons in Chinese
    assert "HW-JS-2025-003：高于上四分位数+1.5倍四分位距（16.58 > 15.61）" in excluded
    sheet = openpyxl.load_workbook(out / "hw-uc-v1.xlsx").worksheets[0]
    assert "测算草案" in str(sheet["A1"].value)
    assert main(["standards", "check", "--standards", str(out / "standards")]) == 0
    again = main(["standards", "derive", str(case), "--out", str(out), "--lang", "en"])
    assert again == 2
    assert "already exists" in capsys.readouterr().err


def test_cli_derive_prints_rules_units_and_title_in_the_language(case, tmp_path, capsys):
    """Found by the language audit: the rules were printed as codes (规则 median,
    quantile_regression：…), and under --lang en the unit 元/m2 and the title …（测算草案）."""
    assert main(["standards", "derive", str(case), "--out", str(tmp_path / "zh")]) == 0
    zh = capsys.readouterr().out.splitlines()
    assert (
        zh[0]
        == "道路环卫保洁单位成本标准（测算草案） hw-uc@1：规则 同类中位数，同类合同 70 个，状态：草案"
    )
    assert zh[1] == "  一级：16.49 元/m2（采用 17 个，剔除 0 个；去掉任一合同最多变动 2.1%）"
    assert "    分位数回归前沿：3,296.7 万元，占合同总成本 7.9%" in zh
    assert "    数据包络分析（DEA）有效成本：3,519.7 万元，占合同总成本 8.4%" in zh
    assert not [line for line in zh if "median" in line or "quantile_regression" in line]
    out = tmp_path / "en"
    assert main(["standards", "derive", str(case), "--out", str(out), "--lang", "en"]) == 0
    en = capsys.readouterr().out.splitlines()
    assert en[0] == (
        "Unit-cost standard hw-uc (derived draft) hw-uc@1: rule peer median, "
        "70 peer contract(s), status: draft"
    )
    assert en[1] == (
        "  一级: 16.49 yuan/m2 (17 used, 0 excluded; dropping any one contract moves it by "
        "at most 2.1%)"
    )
    assert (
        "    quantile-regression frontier: 3,296.7 x 10,000 yuan, 7.9% of the contracts' total cost"
    ) in en
    assert not [line for line in en if "元" in line or "测算草案" in line]
    # the stored table is Chinese (its title, issuer, unit and line notes), with English
    # labels where the format has a field for them; the same in both languages
    header = tomllib.loads((out / "standards" / "hw-uc-v1.toml").read_text(encoding="utf-8"))
    assert header["title"] == "道路环卫保洁单位成本标准（测算草案）"
    assert header["title_en"] == "Unit-cost standard hw-uc (derived draft)"
    assert header["issuer"] == "同类项目成本测算（costperf）"
    assert header["dimensions"]["road_grade"]["label_en"] == "Road grade"
    assert header["dimensions"]["road_grade"]["label_zh"] == "道路等级"
    assert header["items"]["unit_cost"] == {"label_zh": "环卫保洁单位成本", "label_en": "unit cost"}
    values = pd.read_csv(out / "standards" / "hw-uc-v1.csv", encoding="utf-8-sig")
    assert list(values["note"])[:2] == ["17个合同测算，剔除0个", "20个合同测算，剔除0个"]
    assert set(values["unit"]) == {"元/m2"}
    for name in ("hw-uc-v1.toml", "hw-uc-v1.csv"):
        zh_file = (tmp_path / "zh" / "standards" / name).read_bytes()
        assert zh_file == (out / "standards" / name).read_bytes()


def test_derived_publication_prints_costperf_words_in_the_language(case, tmp_path, capsys):
    """Found by the language audit: the English page of a derived table showed the issuer
    同类项目成本测算（costperf）, the notes 17个合同测算，剔除0个, the header road_grade,
    the unit 元/m2 and the kind unit_cost; the Chinese page the kind unit_cost."""
    out = tmp_path / "out"
    assert main(["standards", "derive", str(case), "--out", str(out), "--lang", "en"]) == 0
    capsys.readouterr()
    standards = read_standards(out / "standards")
    from costperf.report.standard_page import build_publication

    en = build_publication(standards, "hw-uc@1", lang="en")
    assert en.title == "Unit-cost standard hw-uc (derived draft)"
    assert en.meta[0] == "Issuer: peer-cost derivation (costperf)"
    heads = [c.text for c in en.header]
    assert heads == ["Road grade", "unit cost", "yuan/m2", "Reasonable range (yuan/m2)"]
    first = en.lines.iloc[0]
    assert (first["Road grade"], first["Kind"], first["Unit"]) == (
        "一级",
        "unit-cost standard",
        "yuan/m2",
    )
    assert list(en.lines["Note"])[2] == "contracts used: 15, excluded: 1"
    zh = build_publication(standards, "hw-uc@1", lang="zh")
    assert zh.meta[0] == "发布单位：同类项目成本测算（costperf）"
    assert [c.text for c in zh.header] == [
        "道路等级",
        "环卫保洁单位成本",
        "元/m2",
        "合理区间（元/m2）",
    ]
    first = zh.lines.iloc[0]
    assert (first["道路等级"], first["类型"], first["单位"]) == ("一级", "成本标准", "元/m2")
    assert list(zh.lines["说明"])[2] == "15个合同测算，剔除1个"
    sheet = openpyxl.load_workbook(out / "hw-uc-v1.xlsx").worksheets[1]
    assert [c.value for c in sheet[2]][4] == "unit-cost standard"
    page = (out / "hw-uc-v1.html").read_text(encoding="utf-8")
    assert "Issuer: peer-cost derivation (costperf)" in page
    assert "Reasonable range (yuan/m²)" in page and "同类项目" not in page


def test_cli_bad_rule_exits_2_naming_case_toml(case, tmp_path, capsys):
    toml = case / "case.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('rule = "median"', 'rule = "median2"'),
        encoding="utf-8",
    )
    status = main(["standards", "derive", str(case), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert status == 2
    assert "case.toml" in err and "median2" in err


def test_cli_bad_rule_option_exits_2(case, tmp_path, capsys):
    status = main(
        [
            "standards",
            "derive",
            str(case),
            "--rule",
            "bogus",
            "--out",
            str(tmp_path / "o"),
            "--lang",
            "en",
        ]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert "unknown rule 'bogus'" in err and "case.toml" in err


def test_cli_every_bad_option_is_reported_at_once(case, tmp_path, capsys):
    """A bad rule, tau, outlier rule, k and compared rule: one run names all five, each a
    problem of check ``option``, 命令行选项错误 (not a file that could not be read), in Chinese."""
    import pandas as pd

    out = tmp_path / "o"
    args = ["standards", "derive", str(case), "--out", str(out)]
    bad = ["--rule", "bogus", "--tau", "2", "--outlier-rule", "zz", "--compare", "p25,p99"]
    assert main([*args, *bad]) == 2
    err = capsys.readouterr().err
    assert "共 4 处输入问题" in err
    assert "--rule（代替" in err and "未知规则 'bogus'" in err
    assert "--compare（代替" in err and "未知规则 'p99'" in err
    assert "命令行所给的值（代替" in err and "derive options" not in err
    assert "异常值规则 outlier_rule 的取值 'zz' 未知；可用：iqr, mad, none" in err
    assert "tau 应为严格介于 0 与 1 之间的数字，实际为 2.0" in err
    assert "文件无法读取" not in err
    problems = pd.read_csv(out / "problems.csv", dtype=str, encoding="utf-8-sig")
    assert list(problems["问题"]) == ["命令行选项错误"] * 4
    assert not (out / "standards").exists()


def test_screening_parameters_are_checked_together(units):
    with pytest.raises(InputError) as caught:
        rule_values(units, DIMS, "median", outlier_rule="x", k=-1, min_group_size=0)
    text = str(caught.value)
    assert "unknown outlier_rule 'x'" in text
    assert "outlier multiplier k must be a positive number, got -1" in text
    assert "min_group_size must be a positive integer, got 0" in text


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 4),
            st.one_of(
                st.just(float("nan")),
                st.floats(-1e9, 1e12, allow_nan=False),
                st.floats(0, 1, allow_nan=False),
            ),
        ),
        max_size=60,
    )
)
def test_group_sums_equal_pandas_sum_per_group(rows: list[tuple[int, float]]) -> None:
    """The savings' group sums are pandas' ``sum(min_count=1)`` of each group, bit for
    bit (the reference: a groupby with the per-group Series sum)."""
    from costperf.standards.derive.compare import group_sums

    frame = pd.DataFrame(rows, columns=["key", "value"]).astype({"key": int, "value": float})
    grouped = frame.groupby("key", sort=False, dropna=False)
    want = grouped["value"].agg(lambda s: s.sum(min_count=1)).to_numpy()
    got = group_sums(frame["value"].to_numpy(), grouped.ngroup().to_numpy(), grouped.ngroups)
    assert got.tobytes() == want.astype(float).tobytes()


def test_a_peer_lacking_a_column_is_excluded_with_its_reason_in_each_language():
    from costperf.standards.derive.result import missing_reason

    cell = pd.DataFrame({"a": [1.0, np.nan, np.nan, 2.0], "b": [np.nan, 2.0, np.nan, 3.0]})
    mask, reason, reason_zh = missing_reason(cell, ["a", "b"])
    assert mask.tolist() == [True, True, True, False]
    assert reason == ["missing b", "missing a", "missing a, b", ""]
    assert reason_zh == ["缺少b", "缺少a", "缺少a, b", ""]
