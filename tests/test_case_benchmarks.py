"""The decomposition, regression and frontier figures of the worked case, recomputed.

Independent of costperf: the case CSVs are read with pandas, the drivers are formed as
``case.toml`` defines them, LMDI is written out by hand, OLS and its HC1 covariance by
numpy, quantile regression and DEA as linear programmes solved with scipy's ``linprog``
(one LP per unit, no screening).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from conftest import SANITATION

DATA = SANITATION / "data"


def _csv(name: str) -> pd.DataFrame:
    frame = pd.read_csv(DATA / name, encoding="utf-8-sig", dtype={"项目编码": str})
    return frame.rename(columns={"项目编码": "project_id"})


@pytest.fixture(scope="module")
def peers() -> pd.DataFrame:
    proj = _csv("projects.csv").set_index("project_id")
    lines = _csv("line_items.csv")
    by_element = lines.pivot_table(
        index="project_id", columns="成本要素", values="金额（元）", aggfunc="sum", fill_value=0
    )
    outs = _csv("outputs.csv").pivot(index="project_id", columns="indicator", values="actual")
    frame = proj.join(by_element).join(outs)
    frame["cost"] = lines.groupby("project_id")["金额（元）"].sum()
    frame["area"] = frame["保洁面积"]
    frame["sweeps"] = frame["日清扫频次"]
    frame["unit_cost"] = frame["cost"] / frame["area"]
    # the [drivers] of case.toml
    frame["wage"] = frame["personnel"] / frame["保洁人员数"]
    frame["staffing"] = frame["保洁人员数"] / (frame["area"] / 10000) / frame["sweeps"]
    frame["overhead"] = frame["cost"] / frame["personnel"]
    return frame


DRIVERS = ["wage", "staffing", "sweeps", "overhead"]
NAMES = {
    "wage": "wage_per_cleaner",
    "staffing": "staffing_per_10k_m2_sweep",
    "sweeps": "sweeps_per_day",
    "overhead": "overhead_factor",
}


def _logmean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (a - b) / (np.log(a) - np.log(b))
    return np.where(np.isclose(a, b, rtol=1e-15, atol=0), a, out)


@pytest.fixture(scope="module")
def lmdi(peers: pd.DataFrame) -> pd.DataFrame:
    """LMDI-I additive effects of each contract against its road grade's peer medians."""
    rows = []
    for _grade, cell in peers.groupby("道路等级"):
        ref = {d: cell[d].median() for d in DRIVERS}
        v0 = cell["unit_cost"].median() * 10000
        ref["residual"] = v0 / np.prod([ref[d] for d in DRIVERS])
        for pid, unit in cell.iterrows():
            vt = unit["unit_cost"] * 10000
            values = {d: unit[d] for d in DRIVERS}
            values["residual"] = vt / np.prod([values[d] for d in DRIVERS])
            weight = _logmean(np.array(vt), np.array(v0))
            for d in [*DRIVERS, "residual"]:
                effect = float(weight * np.log(values[d] / ref[d])) / 10000
                rows.append(
                    {
                        "unit": pid,
                        "driver": NAMES.get(d, d),
                        "effect": effect,
                        "gap": unit["unit_cost"] - v0 / 10000,
                        "district": unit["区域"],
                    }
                )
    return pd.DataFrame(rows)


def test_contract_gap_effects_match_hand_lmdi(good_run: dict, lmdi: pd.DataFrame) -> None:
    got = pd.DataFrame(good_run["summary"]["contract_gap"]).set_index(["unit", "driver"])
    want = lmdi.set_index(["unit", "driver"])
    assert sorted(got.index) == sorted(want.index)
    np.testing.assert_allclose(got.loc[want.index, "effect"], want["effect"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got.loc[want.index, "gap"], want["gap"], rtol=1e-12, atol=1e-12)


def test_effects_add_up_to_each_gap(good_run: dict) -> None:
    got = pd.DataFrame(good_run["summary"]["contract_gap"])
    sums = got.groupby("unit")["effect"].sum()
    gaps = got.groupby("unit")["gap"].first()
    np.testing.assert_allclose(sums, gaps, rtol=0, atol=1e-9)
    assert (
        got.groupby("unit")["unit_value"].first()
        - got.groupby("unit")["reference_value"].first()
        - gaps
    ).abs().max() < 1e-12


def test_district_gap_is_mean_of_contract_gaps(good_run: dict, lmdi: pd.DataFrame) -> None:
    got = pd.DataFrame(good_run["summary"]["district_gap"]).set_index(["district", "driver"])
    want = lmdi.groupby(["district", "driver"])["effect"].mean()
    np.testing.assert_allclose(got.loc[want.index, "effect"], want, rtol=1e-9, atol=1e-9)
    district_sum = got.groupby(level="district")["effect"].sum()
    np.testing.assert_allclose(
        district_sum, got.groupby(level="district")["gap"].first(), atol=1e-9
    )
    # the named split the issue asks for is present for every district
    drivers = set(got.index.get_level_values("driver"))
    assert {
        "wage_per_cleaner",
        "staffing_per_10k_m2_sweep",
        "sweeps_per_day",
        "residual",
    } <= drivers


def _design(peers: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    X = np.column_stack(
        [
            np.ones(len(peers)),
            np.log(peers["工资指数"]),
            np.log(peers["sweeps"]),
            np.log(peers["area"]),
        ]
    )
    return X, np.log(peers["unit_cost"].to_numpy())


def test_regression_matches_numpy_ols_with_hc1(good_run: dict, peers: pd.DataFrame) -> None:
    X, y = _design(peers)
    n, k = X.shape
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    bread = np.linalg.inv(X.T @ X)
    meat = (X * resid[:, None] ** 2).T @ X
    hc1 = bread @ meat @ bread * n / (n - k)
    reg = good_run["summary"]["regression"]
    coef = pd.DataFrame(reg["coefficients"])
    ols = coef[coef["model"] == "ols"]
    np.testing.assert_allclose(ols["coef"], beta, rtol=1e-9)
    np.testing.assert_allclose(ols["se"], np.sqrt(np.diag(hc1)), rtol=1e-9)
    assert reg["se"] == "HC1" and "HC1" in reg["se_method"]
    r2 = 1 - resid @ resid / ((y - y.mean()) @ (y - y.mean()))
    assert reg["fit"]["r2"] == pytest.approx(r2, rel=1e-12)
    # expected unit cost: Duan smearing retransformation of the log prediction
    expected = np.exp(X @ beta) * np.mean(np.exp(resid))
    got = pd.DataFrame(good_run["summary"]["contracts"]).set_index("project_id").loc[peers.index]
    np.testing.assert_allclose(got["expected_unit_cost"], expected, rtol=1e-9)
    np.testing.assert_allclose(
        got["regression_index"], peers["unit_cost"] / expected * 100, rtol=1e-9
    )


def test_quantile_regression_matches_lp(good_run: dict, peers: pd.DataFrame) -> None:
    X, y = _design(peers)
    n, k = X.shape
    tau = 0.25
    # min tau 1'u + (1 - tau) 1'v  s.t.  X b + u - v = y,  u, v >= 0,  b free
    c = np.r_[np.zeros(k), tau * np.ones(n), (1 - tau) * np.ones(n)]
    A = np.hstack([X, np.eye(n), -np.eye(n)])
    bounds = [(None, None)] * k + [(0, None)] * (2 * n)
    lp = linprog(c, A_eq=A, b_eq=y, bounds=bounds, method="highs")
    assert lp.status == 0
    coef = pd.DataFrame(good_run["summary"]["regression"]["coefficients"])
    qr = coef[coef["model"].str.startswith("quantile")]
    assert len(qr) == k
    # the objective is the defining property (the minimiser can be non-unique)
    got_b = qr["coef"].to_numpy()
    r = y - X @ got_b
    objective = np.sum(np.where(r >= 0, tau * r, (tau - 1) * r))
    assert objective == pytest.approx(lp.fun, rel=1e-9)
    np.testing.assert_allclose(got_b, lp.x[:k], rtol=1e-4, atol=1e-6)


def test_frontier_scores_match_one_lp_per_unit(good_run: dict, peers: pd.DataFrame) -> None:
    x = peers[["personnel", "equipment", "materials"]].to_numpy(float)
    y = (peers["area"] * peers["sweeps"]).to_numpy(float)[:, None]
    n = len(x)
    scores = []
    for o in range(n):
        # min theta  s.t.  X'lambda <= theta x_o,  Y'lambda >= y_o,  sum lambda = 1
        c = np.r_[1.0, np.zeros(n)]
        a_in = np.hstack([-x[o][:, None], x.T])
        a_out = np.hstack([np.zeros((1, 1)), -y.T])
        lp = linprog(
            c,
            A_ub=np.vstack([a_in, a_out]),
            b_ub=np.r_[np.zeros(3), -y[o]],
            A_eq=np.r_[0.0, np.ones(n)][None, :],
            b_eq=[1.0],
            bounds=[(None, None)] + [(0, None)] * n,
            method="highs",
        )
        scores.append(lp.fun)
    frontier = pd.DataFrame(good_run["summary"]["frontier"]).set_index("project_id")
    np.testing.assert_allclose(frontier.loc[peers.index, "efficiency"], scores, atol=1e-6)
    assert frontier["efficiency"].between(0, 1 + 1e-12).all()
    assert (frontier["rts"] == "vrs").all() and (frontier["orientation"] == "in").all()


def test_outlier_is_reported_with_reason(good_run: dict) -> None:
    flagged = pd.DataFrame(good_run["summary"]["outliers"])
    assert flagged["project_id"].tolist() == ["HW-JS-2025-003"]
    assert "1.5" in flagged["outlier_reason_zh"].iloc[0]


def test_run_publishes_the_derived_standard(good_run: dict) -> None:
    out = good_run["out"]
    toml_text = (out / "standards" / "hw-uc-v1.toml").read_text(encoding="utf-8")
    assert 'status = "draft"' in toml_text and "derive:median" in toml_text
    values = pd.read_csv(out / "standards" / "hw-uc-v1.csv", encoding="utf-8-sig")
    standards = pd.DataFrame(good_run["summary"]["standards"]).set_index("road_grade")
    value_col = [c for c in values.columns if c in ("value", "标准值")][0]
    grade_col = [c for c in values.columns if c in ("road_grade", "道路等级")][0]
    got = values.set_index(grade_col)[value_col]
    np.testing.assert_allclose(got.loc[standards.index], standards["value"], rtol=1e-6)
    assert (out / "hw-uc-v1.xlsx").is_file() and (out / "hw-uc-v1.html").is_file()
    assert "道路环卫保洁单位成本标准" in (out / "hw-uc-v1.html").read_text(encoding="utf-8")
    # the records trace each standard value used in the review to that published table
    import json
    import sqlite3

    with sqlite3.connect(good_run["records"]) as db:
        rows = db.execute("select provenance from standards_used").fetchall()
    assert rows and all(json.loads(r[0])["published_table"] == "hw-uc@1" for r in rows)
    # ... and the table names the standard as the run records it (HW-UC@2026.1)
    with sqlite3.connect(good_run["records"]) as db:
        named = db.execute("select distinct standard_id || '@' || version from standards_used")
        assert named.fetchall() == [("HW-UC@2026.1",)]
    assert 'standard = "HW-UC@2026.1"' in toml_text


def _screened_quantile(x: np.ndarray, q: float) -> float:
    """Type-7 quantile of the values inside the 1.5 IQR fences (numpy's default is type 7)."""
    q1, q3 = np.quantile(x, [0.25, 0.75])
    keep = (x >= q1 - 1.5 * (q3 - q1)) & (x <= q3 + 1.5 * (q3 - q1)) if len(x) >= 4 else True
    return float(np.quantile(x[keep], q))


def test_rule_comparison_and_savings(good_run: dict, peers: pd.DataFrame) -> None:
    derivation = good_run["summary"]["derivation"]
    assert derivation["rule"] == "median"
    cells = pd.DataFrame(derivation["comparison"])
    cells = cells[cells["scope"] == "cell"]
    for rule, q in (("median", 0.5), ("p25", 0.25), ("p75", 0.75)):
        mine = cells[cells["rule"] == rule].set_index("road_grade")
        for grade, cell in peers.groupby("道路等级"):
            value = _screened_quantile(cell["unit_cost"].to_numpy(), q)
            assert mine.loc[grade, "value"] == pytest.approx(value, rel=1e-12)
            savings = (np.maximum(0, cell["unit_cost"] - value) * cell["area"]).sum()
            assert mine.loc[grade, "savings_yuan"] == pytest.approx(savings, rel=1e-9)
    totals = pd.DataFrame(derivation["comparison"])
    totals = totals[totals["scope"] == "total"].set_index("rule")
    assert set(totals.index) == set(derivation["rules_compared"])
    median_total = cells[cells["rule"] == "median"]["savings_yuan"].sum()
    assert totals.loc["median", "savings_yuan"] == pytest.approx(median_total, rel=1e-12)
    assert totals.loc["median", "savings_pct"] == pytest.approx(
        100 * median_total / peers["cost"].sum(), rel=1e-9
    )


def test_leave_one_out_of_the_median(good_run: dict, peers: pd.DataFrame) -> None:
    loo = pd.DataFrame(good_run["summary"]["derivation"]["sensitivity"])
    loo = loo[loo["rule"] == "median"].set_index("road_grade")
    for grade, cell in peers.groupby("道路等级"):
        x = cell["unit_cost"].to_numpy()
        full = _screened_quantile(x, 0.5)
        drops = np.array([_screened_quantile(np.delete(x, i), 0.5) for i in range(len(x))])
        assert loo.loc[grade, "loo_min"] == pytest.approx(drops.min(), rel=1e-12)
        assert loo.loc[grade, "loo_max"] == pytest.approx(drops.max(), rel=1e-12)
        assert loo.loc[grade, "max_abs_change"] == pytest.approx(
            np.abs(drops - full).max(), rel=1e-9
        )


def test_composite_output_in_a_case(case_copy, tmp_path) -> None:
    from conftest import edit_toml, run_cli

    edit_toml(
        case_copy,
        'output = "保洁面积"',
        'output = { "保洁面积" = 1.0, "道路保洁质量达标率" = 1000.0 }',
    )
    out = tmp_path / "out"
    code, _, stderr = run_cli("run", case_copy, "--out", out, "--no-records", cwd=tmp_path)
    assert code == 0, stderr
    import json

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["output"]["weights"] == {"保洁面积": 1.0, "道路保洁质量达标率": 1000.0}
    lines = _csv("line_items.csv").groupby("project_id")["金额（元）"].sum()
    outs = _csv("outputs.csv").pivot(index="project_id", columns="indicator", values="actual")
    composite = outs["保洁面积"] + 1000.0 * outs["道路保洁质量达标率"]
    got = pd.DataFrame(summary["contracts"]).set_index("project_id")
    np.testing.assert_allclose(got.loc[composite.index, "output_quantity"], composite, rtol=1e-12)
    np.testing.assert_allclose(
        got.loc[composite.index, "unit_cost"], lines[composite.index] / composite, rtol=1e-12
    )


def test_composite_output_with_a_bad_weight_names_the_key(case_copy, tmp_path) -> None:
    from conftest import edit_toml, run_cli

    edit_toml(case_copy, 'output = "保洁面积"', 'output = { "保洁面积" = -1 }')
    code, _, stderr = run_cli("run", case_copy, "--out", tmp_path / "o", cwd=tmp_path)
    assert code == 2 and "case.toml" in stderr and "units.output" in stderr, stderr


def test_gap_to_a_named_district(case_copy, tmp_path, peers: pd.DataFrame) -> None:
    import json

    from conftest import edit_toml, run_cli

    edit_toml(case_copy, 'reference = "median"', 'reference = "district:松江区"')
    out = tmp_path / "out"
    code, _, stderr = run_cli("run", case_copy, "--out", out, "--no-records", cwd=tmp_path)
    assert code == 0, stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    refs = pd.DataFrame(summary["gap_reference"]).set_index("road_grade")["unit_cost"]
    songjiang = peers[peers["区域"] == "松江区"].groupby("道路等级")["unit_cost"].median()
    np.testing.assert_allclose(refs.loc[songjiang.index], songjiang, rtol=1e-12)
    gaps = pd.DataFrame(summary["contract_gap"])
    sums = gaps.groupby("unit")["effect"].sum()
    np.testing.assert_allclose(sums, gaps.groupby("unit")["gap"].first(), atol=1e-9)
    assert set(pd.DataFrame(summary["district_gap"])["reference"]) == {
        "松江区 median per road_grade"
    }


def test_gap_to_an_unknown_district_names_the_key(case_copy, tmp_path) -> None:
    from conftest import edit_toml, run_cli

    edit_toml(case_copy, 'reference = "median"', 'reference = "district:浦东新区"')
    code, _, stderr = run_cli("run", case_copy, "--out", tmp_path / "o", cwd=tmp_path)
    assert code == 2 and "case.toml" in stderr and "浦东新区" in stderr, stderr
