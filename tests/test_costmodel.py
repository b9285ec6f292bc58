"""Tests for costperf.benchmark.costmodel (cost-driver OLS and quantile regression).

Reference values: the Nerlove (1963) data and its printed gretl OLS output, values derived
independently (tests/reference/nerlove/), R quantreg output on Engel's food-expenditure
data (shipped with statsmodels), and numpy implementations written out below.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import sparse, stats
from scipy.optimize import linprog

from costperf.benchmark.costmodel import (
    OLS_SE_TYPES,
    check_loss,
    fit_cost_model,
    predict_cost,
    r_term_name,
    rq_coefficients,
    rq_subgradient,
    variance_inflation,
)
from costperf.errors import InputError

REF = Path(__file__).parent / "reference" / "nerlove"
SRC = Path(__file__).resolve().parents[1] / "src"
NERLOVE = "np.log(cost) ~ np.log(output) + np.log(labor) + np.log(fuel) + np.log(capital)"
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


@pytest.fixture(scope="module")
def nerlove() -> pd.DataFrame:
    data = pd.read_csv(REF / "nerlove1963.csv")
    data["group"] = data["firm"] // 100  # Nerlove's five output-size groups
    return data


@pytest.fixture(scope="module")
def engel() -> pd.DataFrame:
    return sm.datasets.engel.load_pandas().data


def _assert_printed(value: float, printed: str) -> None:
    """``value`` rounds to ``printed`` (a number as printed, e.g. '-3.5265')."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    assert abs(value - float(printed)) <= 0.5 * 10.0**-decimals * (1 + 1e-9), (value, printed)


# ----------------------------------------------------------- independent numpy versions


def _numpy_ols(X: np.ndarray, y: np.ndarray, se: str, groups=None):
    """OLS by QR and the sandwich estimators written out (sandwich::vcovHC / vcovCL)."""
    n, k = X.shape
    q, r = np.linalg.qr(X)
    b = np.linalg.solve(r, q.T @ y)
    rinv = np.linalg.inv(r)
    bread = rinv @ rinv.T
    e = y - X @ b
    h = (q**2).sum(axis=1)
    if se == "nonrobust":
        return b, e @ e / (n - k) * bread
    if se == "cluster":
        sums = np.array([X[groups == g].T @ e[groups == g] for g in np.unique(groups)])
        g = len(sums)
        return b, bread @ (sums.T @ sums) @ bread * g / (g - 1) * (n - 1) / (n - k)
    weight = {"HC0": 1, "HC1": n / (n - k), "HC2": 1 / (1 - h), "HC3": 1 / (1 - h) ** 2}[se]
    return b, bread @ (X.T * (e**2 * weight)) @ X @ bread


def _primal_rq_objective(X: np.ndarray, y: np.ndarray, tau: float) -> float:
    """Optimal check loss from the primal LP (costperf solves the dual)."""
    n, p = X.shape
    eye = sparse.identity(n, format="csr")
    res = linprog(
        np.concatenate([np.zeros(p), np.full(n, tau), np.full(n, 1 - tau)]),
        A_eq=sparse.hstack([sparse.csr_matrix(X), eye, -eye], format="csr"),
        b_eq=y,
        bounds=[(None, None)] * p + [(0, None)] * (2 * n),
        method="highs",
    )
    return float(res.fun)


def _random_frame(seed: int, n: int, p: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        rng.normal(size=(n, p)) * rng.uniform(0.5, 20, size=p), columns=[f"x{j}" for j in range(p)]
    )
    frame["y"] = frame.sum(axis=1) + rng.standard_t(4, size=n) * (1 + frame["x0"].abs())
    frame["g"] = rng.integers(0, max(2, n // 5), size=n)
    return frame


# --------------------------------------------------------------- OLS: printed results


def test_ols_reproduces_printed_nerlove_coefficients(nerlove):
    printed = pd.read_csv(REF / "printed_gretl_ols.csv", dtype=str)
    table = fit_cost_model(nerlove, NERLOVE).coefficients.set_index("term_r")
    assert list(table.index) == list(printed["term_r"])
    for row in printed.itertuples():
        got = table.loc[row.term_r]
        for column, text in (
            ("coef", row.coef),
            ("se", row.se),
            ("stat", row.t),
            ("p_value", row.p_value),
        ):
            _assert_printed(got[column], text)
    assert (table["stat_name"] == "t").all() and (table["df"] == 140).all()


def test_ols_reproduces_printed_nerlove_fit(nerlove):
    printed = pd.read_csv(REF / "printed_gretl_fit.csv", dtype=str).set_index("statistic")
    fit = fit_cost_model(nerlove, NERLOVE).fit
    for name in ("ssr", "sigma", "r2", "adj_r2"):
        _assert_printed(fit[name], printed.at[name, "value"])
    assert fit["n"] == 145 and fit["df_resid"] == 140
    # R's AIC(lm)/BIC(lm) count sigma as a parameter; gretl does not.
    assert fit["aic"] - 2 == pytest.approx(float(printed.at["aic_gretl", "value"]), abs=5e-4)
    assert fit["bic"] - np.log(145) == pytest.approx(
        float(printed.at["bic_gretl", "value"]), abs=5e-4
    )


def _expected_groups(path: Path):
    expected = pd.read_csv(path)
    for (model, tau, se), rows in expected.groupby(
        ["model", "tau", "se_type"], dropna=False, sort=False
    ):
        yield model, (None if pd.isna(tau) else float(tau)), se, rows


def _fit_like(nerlove, model, tau, se):
    if model == "ols":
        return fit_cost_model(nerlove, NERLOVE, se=se, cluster="group" if se == "cluster" else None)
    return fit_cost_model(nerlove, NERLOVE, quantile=tau, se_quantile=se)


@pytest.mark.parametrize(
    ("model", "tau", "se", "rows"), list(_expected_groups(REF / "expected_derived.csv"))
)
def test_nerlove_matches_independent_derivation(nerlove, model, tau, se, rows):
    table = _fit_like(nerlove, model, tau, se).coefficients
    assert list(table["term_r"]) == list(rows["term_r"])
    np.testing.assert_allclose(table["coef"], rows["coef"], rtol=1e-9)
    np.testing.assert_allclose(table["se"], rows["se"], rtol=1e-9)


# -------------------------------------------------------------- OLS: numpy and statsmodels


@settings(max_examples=25, deadline=None)
@given(seed=SEEDS, n=st.integers(12, 60), p=st.integers(1, 4), se=st.sampled_from(OLS_SE_TYPES))
def test_ols_equals_numpy_sandwich(seed, n, p, se):
    frame = _random_frame(seed, n, p)
    formula = "y ~ " + " + ".join(frame.columns[:p])
    model = fit_cost_model(frame, formula, se=se, cluster="g" if se == "cluster" else None)
    X = np.column_stack([np.ones(n), frame.iloc[:, :p].to_numpy()])
    b, cov = _numpy_ols(X, frame["y"].to_numpy(), se, frame["g"].to_numpy())
    np.testing.assert_allclose(model.coefficients["coef"], b, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.coefficients["se"], np.sqrt(np.diag(cov)), rtol=1e-9)
    t = b / np.sqrt(np.diag(cov))
    np.testing.assert_allclose(
        model.coefficients["p_value"], 2 * stats.t.sf(np.abs(t), n - p - 1), rtol=1e-9, atol=1e-300
    )


def test_ols_t_tests_use_residual_df_for_every_se_type(nerlove):
    # R: lmtest::coeftest(m, vcov = vcovCL(...)) uses df.residual(m), not G - 1.
    model = fit_cost_model(nerlove, NERLOVE, se="cluster", cluster="group")
    table = model.coefficients
    crit = stats.t.ppf(0.975, 140)
    np.testing.assert_allclose(table["ci_high"] - table["coef"], crit * table["se"], rtol=1e-12)
    assert "vcovCL" in table["se_method"].iloc[0] and "5 clusters" in model.fit["se_method"]
    from costperf.commands.costmodel import se_text

    assert se_text(model, "en") == model.fit["se_method"]
    assert se_text(model, "zh").startswith("按“group”聚类的稳健标准误，5 个聚类（同 R sandwich")


def test_ols_rows_order_does_not_matter(nerlove):
    shuffled = nerlove.sample(frac=1.0, random_state=7)
    a = fit_cost_model(nerlove, NERLOVE, se="HC3").coefficients
    b = fit_cost_model(shuffled, NERLOVE, se="HC3").coefficients
    np.testing.assert_allclose(a[["coef", "se"]], b[["coef", "se"]], rtol=1e-10)


def test_log_and_np_log_are_the_same(nerlove):
    a = fit_cost_model(nerlove, NERLOVE).coefficients
    b = fit_cost_model(nerlove, NERLOVE.replace("np.log", "log")).coefficients
    np.testing.assert_allclose(a["coef"], b["coef"], rtol=1e-14)
    assert list(b["term_r"]) == list(a["term_r"])


def test_terms_follow_r_order_and_names(nerlove):
    model = fit_cost_model(
        nerlove,
        "np.log(cost) ~ C(group) + np.log(output) + np.log(output):C(group) + I(np.log(fuel) ** 2)",
    )
    assert list(model.coefficients["term_r"][:7]) == [
        "(Intercept)",
        "group2",
        "group3",
        "group4",
        "group5",
        "log(output)",
        "I(log(fuel)^2)",
    ]
    assert model.coefficients["term_r"].iloc[7] == "log(output):group2"


@pytest.mark.parametrize(
    ("patsy_name", "r_name"),
    [
        ("Intercept", "(Intercept)"),
        ("np.log(q)", "log(q)"),
        ("C(grade)[T.B]", "gradeB"),
        ("district[T.青浦]", "district青浦"),
        ("I(x ** 2)", "I(x^2)"),
        ("np.log(q):C(g)[T.b]", "log(q):gb"),
        ("Q('金额 元')", "`金额 元`"),
    ],
)
def test_r_term_name(patsy_name, r_name):
    assert r_term_name(patsy_name) == r_name


# ------------------------------------------------------------------ quantile regression

# R quantreg: rq(foodexp ~ income, tau = 1:9/10, data = engel) with summary(se = "nid"),
# as asserted in the R test suite of the easystats 'parameters' package
# (tests/testthat/test-quantreg.R); tau = 0.5 also in quantreg's vignette.
ENGEL_R_NID = {
    0.1: (110.14157, 0.40177, 29.39768, 0.04024),
    0.2: (102.31388, 0.44690, 21.42836, 0.02997),
    0.3: (99.11058, 0.48124, 22.18115, 0.02987),
    0.4: (101.95988, 0.50990, 22.06032, 0.02936),
    0.5: (81.48225, 0.56018, 19.25066, 0.02828),
    0.6: (79.70227, 0.58585, 17.61762, 0.02506),
    0.7: (79.28362, 0.60885, 14.25039, 0.02176),
    0.8: (58.00666, 0.65951, 19.21719, 0.02635),
    0.9: (67.35087, 0.68630, 22.39538, 0.02849),
}


@pytest.mark.parametrize("tau", sorted(ENGEL_R_NID))
def test_rq_nid_matches_r_quantreg_on_engel(engel, tau):
    model = fit_cost_model(engel, "foodexp ~ income", quantile=tau, se_quantile="nid")
    got = [*model.coefficients["coef"], *model.coefficients["se"]]
    np.testing.assert_allclose(got, ENGEL_R_NID[tau], rtol=0, atol=5.01e-6)
    assert model.fit["solution_unique"] is True


@pytest.mark.parametrize(
    ("se", "expected"),
    [
        # R: summary(rq(foodexp ~ income, tau = .5, data = engel), se = ...), 7 significant
        # digits, as quoted in the tests of a public econometrics package.
        ("iid", (13.23908, 0.01192)),
        ("ker", (30.21532, 0.03732)),
    ],
)
def test_rq_iid_and_ker_match_r_on_engel(engel, se, expected):
    model = fit_cost_model(engel, "foodexp ~ income", quantile=0.5, se_quantile=se)
    np.testing.assert_allclose(model.coefficients["se"], expected, rtol=0, atol=5.01e-6)
    assert se in model.coefficients["se_method"].iloc[0]


def test_rq_fitted_values_match_r_to_machine_precision(engel):
    results = pytest.importorskip(
        "statsmodels.regression.tests.results.results_quantile_regression"
    )
    # statsmodels' test suite stores R's rq(foodexp ~ income, tau = 0.1) fitted values.
    model = fit_cost_model(engel, "foodexp ~ income", quantile=0.1)
    X = np.column_stack([np.ones(len(engel)), engel["income"]])
    fitted = X @ model.coefficients["coef"].to_numpy()
    np.testing.assert_allclose(fitted, results.Rquantreg.fittedvalues, rtol=1e-11)


def test_rq_degenerate_stackloss_matches_r():
    # R: rq(stack.loss ~ Air.Flow + Water.Temp, tau = .25) gives -36, 0.5, 1 (degenerate).
    data = sm.datasets.stackloss.load_pandas().data
    model = fit_cost_model(data, "STACKLOSS ~ AIRFLOW + WATERTEMP", quantile=0.25)
    np.testing.assert_allclose(model.coefficients["coef"], [-36.0, 0.5, 1.0], atol=1e-10)
    assert model.fit["solution_unique"] is None


def test_rq_nerlove_is_optimal_and_agrees_with_statsmodels(nerlove):
    tau = 0.25
    model = fit_cost_model(nerlove, NERLOVE, quantile=tau)
    X = np.column_stack([np.ones(145), np.log(nerlove[["output", "labor", "fuel", "capital"]])])
    y = np.log(nerlove["cost"].to_numpy())
    coef = model.coefficients["coef"].to_numpy()
    xi = rq_subgradient(X, y, tau, coef)  # Koenker (2005) Thm 2.1
    assert np.all(xi > -tau) and np.all(xi < 1 - tau)
    reference = sm.QuantReg(y, X).fit(q=tau, max_iter=5000, p_tol=1e-10)
    assert check_loss(y - X @ coef, tau) <= check_loss(y - X @ reference.params, tau)
    np.testing.assert_allclose(coef, reference.params, atol=1e-4)
    assert model.fit["objective"] == pytest.approx(_primal_rq_objective(X, y, tau), rel=1e-10)
    null = check_loss(y - np.quantile(y, tau, method="inverted_cdf"), tau)
    assert model.fit["pseudo_r2"] == pytest.approx(1 - model.fit["objective"] / null)


def _linprog_rq(X: np.ndarray, y: np.ndarray, tau: float) -> np.ndarray:
    """rq_coefficients as it was with scipy's linprog (its HiGHS), the vertex step kept."""
    from costperf.benchmark.costmodel.quantile import rq_vertex

    res = linprog(
        -y,
        A_eq=X.T,
        b_eq=(1.0 - tau) * X.sum(axis=0),
        bounds=(0.0, 1.0),
        method="highs-ds",
        options={"presolve": False},
    )
    assert res.status == 0
    return rq_vertex(X, y, tau, -np.asarray(res.eqlin.marginals, dtype=float))


def test_rq_equals_scipy_linprog_also_when_degenerate(engel):
    rng = np.random.default_rng(11)
    problems = [
        (engel[["income"]].assign(c=1.0)[["c", "income"]].to_numpy(), engel["foodexp"], t)
        for t in (0.05, 0.25, 0.5, 0.9)
    ]
    for i in range(60):
        n, p = int(rng.integers(6, 150)), int(rng.integers(1, 5))
        if i % 2:  # integer data: ties, many optimal vertices
            X = np.column_stack([np.ones(n), rng.integers(0, 3, size=(n, p - 1))]).astype(float)
            y = rng.integers(0, 5, size=n).astype(float)
        else:
            X = np.column_stack([np.ones(n), rng.normal(size=(n, p - 1)) * 50])
            y = X @ rng.normal(size=p) + rng.standard_t(3, size=n)
        if np.linalg.matrix_rank(X) == p:
            problems.append((X, y, float(rng.choice([0.1, 0.25, 0.5, 0.75]))))
    degenerate = 0
    for X, y, tau in problems:
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        np.testing.assert_array_equal(rq_coefficients(X, y, tau), _linprog_rq(X, y, tau))
        degenerate += rq_subgradient(X, y, tau, rq_coefficients(X, y, tau)) is None
    assert degenerate >= 10  # the degenerate problems were there


@settings(max_examples=30, deadline=None)
@given(seed=SEEDS, n=st.integers(8, 80), p=st.integers(1, 3), tau=st.floats(0.05, 0.95))
def test_rq_properties(seed, n, p, tau):
    frame = _random_frame(seed, n, p)
    assume(n > p + 2)
    X = np.column_stack([np.ones(n), frame.iloc[:, :p].to_numpy()])
    y = frame["y"].to_numpy()
    coef = rq_coefficients(X, y, tau)
    r = y - X @ coef
    zero = np.abs(r) <= 1e-9 * np.abs(y).max()
    # Koenker (2005) Thm 2.2 (with an intercept): N- <= n tau <= N- + N0.
    assert (r < 0)[~zero].sum() <= n * tau + 1e-9 <= (r < 0)[~zero].sum() + zero.sum() + 1e-9
    assert check_loss(r, tau) == pytest.approx(_primal_rq_objective(X, y, tau), rel=1e-9, abs=1e-9)
    order = np.random.default_rng(seed).permutation(n)
    assert check_loss(
        y[order] - X[order] @ rq_coefficients(X[order], y[order], tau), tau
    ) == pytest.approx(check_loss(r, tau), rel=1e-10, abs=1e-10)
    np.testing.assert_allclose(rq_coefficients(X, 3.0 * y, tau), 3.0 * coef, rtol=1e-8, atol=1e-8)


# --------------------------------------------------------------------------- prediction


def test_predict_matches_r_predict_lm_formulas(nerlove):
    model = fit_cost_model(nerlove, NERLOVE, se="HC1")
    new = nerlove.head(6).assign(output=[5, 50, 500, 5000, 10000, 20000])
    pred = predict_cost(model, new, alpha=0.1)
    X = np.column_stack([np.ones(6), np.log(new[["output", "labor", "fuel", "capital"]])])
    Xall = np.column_stack([np.ones(145), np.log(nerlove[["output", "labor", "fuel", "capital"]])])
    b, cov = _numpy_ols(Xall, np.log(nerlove["cost"].to_numpy()), "nonrobust")
    sigma2 = model.fit["sigma"] ** 2
    se_fit = np.sqrt(np.einsum("ij,jk,ik->i", X, cov, X))
    crit = stats.t.ppf(0.95, 140)
    np.testing.assert_allclose(pred["fitted"], X @ b, rtol=1e-10)
    np.testing.assert_allclose(pred["se_fit"], se_fit, rtol=1e-9)
    np.testing.assert_allclose(
        pred["pi_high"], X @ b + crit * np.sqrt(se_fit**2 + sigma2), rtol=1e-9
    )
    resid = np.log(nerlove["cost"]) - Xall @ b
    np.testing.assert_allclose(
        pred["expected_cost"], np.exp(X @ b) * np.mean(np.exp(resid)), rtol=1e-9
    )
    np.testing.assert_allclose(pred["cost_pi_low"], np.exp(pred["pi_low"]), rtol=1e-12)
    assert pred.index.equals(new.index) and pred["retransform"].str.startswith("smearing").all()
    normal = predict_cost(model, new, retransform="lognormal")
    np.testing.assert_allclose(normal["expected_cost"], np.exp(X @ b + sigma2 / 2), rtol=1e-9)


def fit_resid(data: pd.DataFrame) -> np.ndarray:
    """The OLS residuals of the Nerlove log-cost model (for the smearing factor)."""
    logs = np.log(data[["output", "labor", "fuel", "capital"]].to_numpy(dtype=float))
    X = np.column_stack([np.ones(len(data)), logs])
    y = np.log(data["cost"].to_numpy(dtype=float))
    return y - X @ np.linalg.lstsq(X, y, rcond=None)[0]


def test_term_words_read_the_terms_in_chinese() -> None:
    from costperf.benchmark.costmodel.names import term_words

    names = {"area_m2": "保洁面积", "road_grade": "道路等级", "x": "x"}.get
    assert term_words("Intercept", names, "zh") == "截距"
    assert term_words("Intercept", names, "en") == "Intercept"
    assert term_words("np.log(area_m2)", names, "zh") == "ln(保洁面积)"
    assert term_words("C(road_grade)[T.二级]", names, "zh") == "道路等级：二级"
    assert term_words("road_grade[T.二级]", names, "en") == "道路等级: 二级"
    assert term_words("C(road_grade)", names, "zh") == "道路等级"
    assert term_words("np.log(area_m2):C(road_grade)[T.二级]", names, "zh") == (
        "ln(保洁面积) × 道路等级：二级"
    )
    assert term_words("I(x ** 2)", names, "zh") == "I(x ** 2)"  # not read: as written


def test_predict_quantile_gives_quantile_cost(nerlove):
    model = fit_cost_model(nerlove, NERLOVE, quantile=0.25, se_quantile="ker")
    pred = predict_cost(model, nerlove.tail(4))
    X = np.column_stack(
        [np.ones(4), np.log(nerlove.tail(4)[["output", "labor", "fuel", "capital"]])]
    )
    se_fit = np.sqrt(np.einsum("ij,jk,ik->i", X, model.cov.to_numpy(), X))
    np.testing.assert_allclose(pred["se_fit"], se_fit, rtol=1e-10)
    np.testing.assert_allclose(pred["quantile_cost"], np.exp(pred["fitted"]), rtol=1e-12)
    assert "pi_low" not in pred and "expected_cost" not in pred


def _contracts(rows: int = 40, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    grade = rng.choice(["一级", "二级", "三级"], size=rows)
    frame = pd.DataFrame(
        {
            "contract_id": [f"C{i:03d}" for i in range(rows)],
            "wage_index": rng.uniform(0.8, 1.4, rows),
            "frequency": rng.integers(1, 4, rows).astype(float),
            "road_grade": grade,
        }
    )
    effect = pd.Series(grade).map({"一级": 0.3, "二级": 0.1, "三级": 0.0}).to_numpy()
    frame["unit_cost"] = np.exp(
        2
        + 0.8 * np.log(frame["wage_index"])
        + 0.5 * np.log(frame["frequency"])
        + effect
        + rng.normal(0, 0.1, rows)
    )
    frame["source_file"], frame["sheet"], frame["source_row"] = "c.xlsx", "合同", range(2, rows + 2)
    return frame


def test_case_runner_formula_with_factor_and_prediction():
    data = _contracts()
    formula = "np.log(unit_cost) ~ np.log(wage_index) + np.log(frequency) + C(road_grade)"
    model = fit_cost_model(data, formula)
    # R order (formula order); reference level = first in code-point order (一 < 三 < 二).
    assert list(model.coefficients["term_r"]) == [
        "(Intercept)",
        "log(wage_index)",
        "log(frequency)",
        "road_grade三级",
        "road_grade二级",
    ]
    pred = predict_cost(model, data)
    assert (pred["expected_cost"] > 0).all() and len(pred) == len(data)
    assert model.fit["r2"] > 0.8


def test_inputs_are_not_changed_and_response_not_needed_to_predict():
    data = _contracts()
    before = data.copy()
    model = fit_cost_model(data, "np.log(unit_cost) ~ np.log(wage_index) + C(road_grade)")
    pred = predict_cost(model, data.drop(columns="unit_cost"))
    pd.testing.assert_frame_equal(data, before)
    np.testing.assert_allclose(pred["fitted"], np.log(data["unit_cost"]) - model.result.resid)


def test_text_cells_from_a_file_are_parsed(tmp_path):
    from costperf.io import read_table

    data = _contracts(12).drop(columns=["source_file", "sheet", "source_row"])
    data["unit_cost"] = [f"{v:,.2f}" for v in data["unit_cost"] * 1000]  # "1,234.56"
    data = data.rename(columns={"unit_cost": "单位成本", "wage_index": "工资指数"})
    data.to_csv(tmp_path / "c.csv", index=False, encoding="utf-8-sig")
    raw = read_table(tmp_path / "c.csv")
    model = fit_cost_model(raw, "np.log(单位成本) ~ np.log(工资指数) + road_grade")
    assert model.fit["n"] == 12
    assert "road_grade二级" in set(model.coefficients["term_r"])  # text column -> factor


def test_predict_rejects_unseen_level_missing_column_and_bad_cells():
    data = _contracts()
    model = fit_cost_model(data, "np.log(unit_cost) ~ np.log(wage_index) + C(road_grade)")
    new = data.head(3).copy()
    new["road_grade"] = ["一级", "四级", "二级"]
    with pytest.raises(
        InputError,
        match=r"row 3, column 'road_grade': got '四级', expected one "
        r"of the levels seen when fitting",
    ):
        predict_cost(model, new)
    with pytest.raises(InputError, match=r"prediction needs column\(s\) wage_index"):
        predict_cost(model, data.drop(columns="wage_index"))
    bad = data.head(3).assign(wage_index=[1.0, 0.0, "x"])
    with pytest.raises(
        InputError,
        match=r"row 4, column 'wage_index': got 'x', expected a "
        r"number",
    ):
        predict_cost(model, bad)
    with pytest.raises(InputError, match=r"unknown retransform 'mean'; use one of: smearing"):
        predict_cost(model, data, retransform="mean")


# ---------------------------------------------------------------------------------- VIF


def test_vif_equals_one_over_one_minus_auxiliary_r2(nerlove):
    vif = variance_inflation(nerlove, NERLOVE)
    logs = np.log(nerlove[["output", "labor", "fuel", "capital"]].to_numpy())
    for j, row in enumerate(vif.itertuples()):
        others = np.column_stack([np.ones(145), np.delete(logs, j, axis=1)])
        fitted = others @ np.linalg.lstsq(others, logs[:, j], rcond=None)[0]
        r2 = 1 - ((logs[:, j] - fitted) ** 2).sum() / ((logs[:, j] - logs[:, j].mean()) ** 2).sum()
        assert row.vif == pytest.approx(1 / (1 - r2), rel=1e-10)
        assert row.df == 1 and row.gvif_adj == pytest.approx(np.sqrt(row.vif))


def test_gvif_of_a_factor_does_not_depend_on_its_coding():
    data = _contracts(60)
    formula = "np.log(unit_cost) ~ np.log(wage_index) + frequency + C(road_grade)"
    a = variance_inflation(data, formula).set_index("term")
    recoded = data.assign(
        road_grade=data["road_grade"].map({"一级": "c", "二级": "a", "三级": "b"})
    )
    b = variance_inflation(recoded, formula).set_index("term")
    np.testing.assert_allclose(a["vif"], b["vif"], rtol=1e-9)
    assert a.at["C(road_grade)", "df"] == 2
    no_response = variance_inflation(data.drop(columns="unit_cost"), formula).set_index("term")
    np.testing.assert_allclose(no_response["vif"], a["vif"], rtol=1e-12)
    assert a.at["C(road_grade)", "term_r"] == "road_grade"
    with pytest.raises(InputError, match="VIF needs at least two terms"):
        variance_inflation(data, "np.log(unit_cost) ~ np.log(wage_index)")


# ---------------------------------------------------------------------------- bad input


def _small() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cost": [1.0, 2.0, 3.5, 4.0, 5.5, 7.0],
            "q": [1.0, 2.0, 3.0, 4.0, 6.0, 7.0],
            "g": ["a", "b", "a", "b", "a", "b"],
            "source_file": "d.csv",
            "sheet": "",
            "source_row": [2, 3, 4, 5, 6, 7],
        }
    )


@pytest.mark.parametrize(
    ("change", "formula", "pattern"),
    [
        (
            {},
            "np.log(cost) ~ np.log(qq)",
            r"d\.csv: the formula .* uses column 'qq', which is not in the data; available columns: "
            r"cost, q, g",
        ),
        (  # found by fuzzing: only the first unknown column was told
            {},
            "np.log(cst) ~ np.log(qq) + C(gg) + q",
            r"d\.csv: the formula .* uses columns 'cst', 'qq', 'gg', which are not in the data; "
            r"available columns: cost, q, g",
        ),
        ({}, "cost ~ mylog(q)", r"unknown function 'mylog' in 'mylog\(q\)'"),
        ({}, "cost ~ q +", r"could not be parsed"),
        ({}, "~ q", r"needs one response left of '~'"),
        (
            {"q": ["1", "2", "three", "4", "6", "7"]},
            "cost ~ q",
            r"d\.csv, row 4, column 'q': got 'three', expected a number",
        ),
        (
            {"q": [1.0, None, 3.0, 4.0, 6.0, 7.0]},
            "cost ~ q",
            r"row 3, column 'q': expected a value \(the cell is blank\)",
        ),
        (
            {"cost": [1.0, 2.0, 0.0, 4.0, -5.0, 7.0]},
            "np.log(cost) ~ q",
            r"(?s)2 problem\(s\).*row 4, column 'cost': got '0.0', expected a number > 0 \(the formula "
            r"takes np.log\(cost\)\)\n.*row 6, column 'cost'",
        ),
        (
            {"q": [1.0, 2.0, -3.0, 4.0, 6.0, 7.0]},
            "cost ~ np.sqrt(q)",
            r"row 4, column 'q': got '-3.0', expected a value for which np.sqrt\(q\) is a finite",
        ),
        (
            {"g": ["a", "b", None, "b", "a", "b"]},
            "cost ~ C(g)",
            r"row 4, column 'g': expected a value \(the cell is blank\)",
        ),
    ],
)
def test_bad_data_is_reported_with_row_and_column(change, formula, pattern):
    with pytest.raises(InputError, match=pattern):
        fit_cost_model(_small().assign(**change), formula)


def test_too_few_rows_and_collinear_terms_are_named():
    data = _small().assign(q2=lambda d: 2 * d["q"] + 1)
    with pytest.raises(
        InputError,
        match=r"3 row\(s\) for 3 coefficient\(s\) \(Intercept, "
        r"q, C\(g\)\[T.b\]\); the model needs at least 4",
    ):
        fit_cost_model(data.head(3), "cost ~ q + C(g)")
    with pytest.raises(InputError, match=r"singular design: .*\{'Intercept', 'q', 'q2'\}"):
        fit_cost_model(data, "cost ~ q + q2")
    with pytest.raises(InputError, match=r"singular design: column\(s\) zero are all zero"):
        fit_cost_model(data.assign(zero=0.0), "cost ~ q + zero")
    with pytest.raises(InputError, match=r"singular design"):
        fit_cost_model(data.assign(h=data["q"] * 3), "cost ~ q + h", quantile=0.5)


def test_hc3_with_a_leverage_one_row_names_the_row():
    data = _small().assign(g=["a", "b", "a", "b", "a", "c"])  # level 'c' has one row
    with pytest.raises(
        InputError,
        match=r"d\.csv, row 7: expected a row that does not alone "
        r"determine a coefficient \(its leverage is 1",
    ):
        fit_cost_model(data, "cost ~ q + C(g)", se="HC3")
    assert np.isfinite(fit_cost_model(data, "cost ~ q + C(g)", se="HC1").coefficients["se"]).all()


@pytest.mark.parametrize("quantile", [0, 1, 1.0, -0.25, 1.5, float("nan"), True, "0.5"])
def test_quantile_outside_zero_one_is_rejected(quantile):
    with pytest.raises(InputError, match=r"quantile must be a number strictly between 0 and 1"):
        fit_cost_model(_small(), "cost ~ q", quantile=quantile)


@pytest.mark.parametrize(
    ("options", "pattern"),
    [
        (
            {"se": "HC4"},
            r"unknown standard-error type 'HC4'; use one of: nonrobust, HC0, HC1, HC2, "
            r"HC3, cluster",
        ),
        (
            {"quantile": 0.5, "se_quantile": "rank"},
            r"'rank' .*is not supported\); use one of: iid, nid, ker",
        ),
        ({"quantile": 0.5, "se_quantile": "boot"}, r"unknown quantile-regression standard error"),
        ({"quantile": 0.5, "se": "HC3"}, r"OLS options; quantile regression takes se_quantile"),
        ({"se": "cluster"}, r"se='cluster' needs the cluster column"),
        ({"cluster": "g"}, r"only used with se='cluster', got se='nonrobust'"),
        (
            {"se": "cluster", "cluster": "district"},
            r"cluster column 'district' is not in the data; "
            r"available columns: cost, q, g",
        ),
        ({"alpha": 1.5}, r"alpha must be a number strictly between 0 and 1"),
    ],
)
def test_bad_options_name_the_allowed_values(options, pattern):
    with pytest.raises(InputError, match=pattern):
        fit_cost_model(_small(), "cost ~ q", **options)


def test_cluster_needs_two_clusters_and_no_blanks():
    data = _small()
    with pytest.raises(InputError, match=r"cluster column 'g' has 1 cluster\(s\); need >= 2"):
        fit_cost_model(data.assign(g="a"), "cost ~ q", se="cluster", cluster="g")
    with pytest.raises(InputError, match=r"row 2, column 'g': expected a value"):
        fit_cost_model(
            data.assign(g=[None, "a", "b", "a", "b", "a"]), "cost ~ q", se="cluster", cluster="g"
        )


# ---------------------------------------------------------------------------------- CLI


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    # The installed package, as a user runs it (not the source folder: the
    # standard tables ship as package data mapped from standards/).
    env = dict(os.environ)
    return subprocess.run(
        [sys.executable, "-m", "costperf.cli", "costmodel", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=None,
        check=False,
    )


def test_cli_writes_coefficient_tables(tmp_path):
    data = pd.read_csv(REF / "nerlove1963.csv")
    data.to_excel(tmp_path / "nerlove.xlsx", sheet_name="data", index=False)
    done = _cli(
        "nerlove.xlsx",
        "--sheet",
        "data",
        "-f",
        NERLOVE,
        "--se",
        "HC3",
        "-o",
        "coef.parquet",
        "--vif",
        "vif.csv",
        "--predictions",
        "pred.csv",
        "--lang",
        "en",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "n = 145" in done.stdout and "R² = 0.9260" in done.stdout and "HC3" in done.stdout
    table = pd.read_parquet(tmp_path / "coef.parquet")
    expected = pd.read_csv(REF / "expected_derived.csv").query("se_type == 'HC3'")
    np.testing.assert_allclose(table["se"], expected["se"], rtol=1e-9)
    assert list(pd.read_csv(tmp_path / "vif.csv")["term"])[0] == "np.log(output)"
    pred = pd.read_csv(tmp_path / "pred.csv")
    assert list(pred["source_row"][:2]) == [2, 3] and "expected_cost" in pred
    factor = f"{np.mean(np.exp(fit_resid(data))):.6g}"
    assert set(pred["retransform"]) == {f"smearing (Duan 1983), factor {factor}"}
    # Chinese by default: the retransformation in words (labels.csv), the same factor
    zh = _cli("nerlove.xlsx", "--sheet", "data", "-f", NERLOVE, "-o", "c.csv", "--predictions",
              "p.csv", cwd=tmp_path)  # fmt: skip
    assert zh.returncode == 0, zh.stderr
    shown = pd.read_csv(tmp_path / "p.csv", encoding="utf-8-sig")
    assert set(shown["逆变换方法"]) == {f"Duan 涂抹估计（Duan 1983），修正系数 {factor}"}

    data.to_csv(tmp_path / "nerlove.csv", index=False)
    done = _cli("nerlove.csv", "-f", NERLOVE, "-q", "0.25", "-o", "q.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # Chinese by default: the summary, the headers and the standard-error method
    assert done.stdout.startswith("costmodel 分位数回归 tau = 0.25（精确线性规划")
    assert "标准误：分位数回归标准误（同 R quantreg::summary.rq(se='nid')" in done.stdout
    q = pd.read_csv(tmp_path / "q.csv", encoding="utf-8-sig")
    assert list(q.columns[:3]) == ["回归项", "回归项（R写法）", "系数"]
    assert (
        q["标准误方法"]
        .str.startswith("分位数回归标准误（同 R quantreg::summary.rq(se='nid')")
        .all()
    )


def test_cli_exit_2_names_file_row_and_column(tmp_path):
    (tmp_path / "d.csv").write_text("cost,q\n1,2\n2,abc\n3,4\n4,5\n", encoding="utf-8")
    done = _cli(
        "d.csv", "-f", "np.log(cost) ~ np.log(q)", "-o", "out.csv", "--lang", "en", cwd=tmp_path
    )
    assert done.returncode == 2
    assert "d.csv, row 3, column 'q': got 'abc', expected a number" in done.stderr
    assert (tmp_path / "out.problems.csv").exists() and not (tmp_path / "out.csv").exists()
    done = _cli("d.csv", "-f", "cost ~ price", "-o", "out.csv", "--lang", "en", cwd=tmp_path)
    assert done.returncode == 2 and "column 'price'" in done.stderr and "cost, q" in done.stderr
    done = _cli(
        "d.csv",
        "-f",
        "cost ~ q",
        "-q",
        "0.5",
        "--se",
        "rank",
        "-o",
        "o.csv",
        "--lang",
        "en",
        cwd=tmp_path,
    )
    assert done.returncode == 2 and "use one of: iid, nid, ker" in done.stderr
