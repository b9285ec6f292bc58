"""Tests for costperf.benchmark.costmodel.lsq (least squares in numpy) against statsmodels,
the implementation it reproduces, and the scipy.special forms of the t and normal
functions against scipy.stats; a case run imports none of statsmodels, scipy.stats and
scipy.optimize.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.regression.linear_model import OLS

from conftest import REPO, SANITATION
from costperf.benchmark.costmodel import OLS_SE_TYPES, OlsFit, fit_cost_model
from costperf.benchmark.costmodel.lsq import least_squares
from costperf.benchmark.costmodel.quantile import norm_pdf, norm_ppf
from costperf.benchmark.costmodel.results import t_ppf, t_sf
from costperf.benchmark.peers import cooks_distance_outliers
from costperf.case import load_case
from costperf.pipeline import load_case_data

RTOL = 1e-10
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


def _statsmodels(X: np.ndarray, y: np.ndarray, se: str, groups: np.ndarray | None = None):
    model = OLS(y, X)
    if se == "nonrobust":
        return model.fit(method="qr")
    if se == "cluster":
        kwds = {"groups": groups, "use_correction": True}
        return model.fit(method="qr", cov_type="cluster", use_t=True, cov_kwds=kwds)
    return model.fit(method="qr", cov_type=se, use_t=True)


def _close(actual, expected, what: str) -> None:
    """Equal to RTOL, entries near zero judged against the largest entry."""
    expected = np.asarray(expected, dtype=float)
    scale = np.abs(expected).max() if expected.size else 0.0
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=RTOL * scale, err_msg=what)


def _design(seed: int, n: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intercept, numeric columns on scales from 0.01 to 1000, a 0/1 dummy;
    heteroskedastic t errors; cluster codes 0..G-1."""
    rng = np.random.default_rng(seed)
    columns = [np.ones(n)]
    for j in range(1, k):
        if j == k - 1 and k > 2:
            columns.append((rng.uniform(size=n) < 0.4).astype(float))
        else:
            columns.append(rng.normal(size=n) * 10.0 ** rng.uniform(-2, 3))
    X = np.column_stack(columns)
    y = X @ rng.normal(size=k) + rng.standard_t(4, size=n) * (1 + np.abs(X[:, -1]))
    labels = rng.integers(0, max(2, n // 4), size=n)
    labels[:2] = [0, 1]  # at least two clusters (fewer are refused)
    groups = pd.factorize(labels)[0]
    return X, y, groups


def _assert_same_fit(fit: OlsFit, expected, se: str) -> None:
    _close(fit.params, expected.params, f"{se}: params")
    _close(fit.cov, expected.cov_params(), f"{se}: cov")
    _close(fit.resid, expected.resid, f"{se}: resid")
    _close(fit.fitted, expected.fittedvalues, f"{se}: fitted")
    _close(fit.xtx_inv, expected.normalized_cov_params, f"{se}: (X'X)^-1")
    assert fit.df_resid == expected.df_resid and fit.nobs == expected.nobs
    assert fit.scale == pytest.approx(expected.scale, rel=RTOL)


# ---------------------------------------------------------------- fit and covariances


@settings(max_examples=60, deadline=None)
@given(seed=SEEDS, n=st.integers(8, 80), k=st.integers(1, 5), se=st.sampled_from(OLS_SE_TYPES))
def test_least_squares_equals_statsmodels(seed, n, k, se):
    X, y, groups = _design(seed, n, k)
    assume(n > k and np.linalg.matrix_rank(X) == k)
    leverage = (np.linalg.qr(X)[0] ** 2).sum(axis=1)
    assume(se not in ("HC2", "HC3") or (leverage < 1 - 1e-8).all())  # else refused
    fit = least_squares(X, y, se, groups if se == "cluster" else None)
    expected = _statsmodels(X, y, se, groups)
    _assert_same_fit(fit, expected, se)
    if se == "cluster":
        assert fit.n_groups == len(np.unique(groups))


@pytest.fixture(scope="module")
def case_units() -> pd.DataFrame:
    """The case's 70 contracts, drivers as numbers (the unit table keeps the cells' text)."""
    units = load_case_data(load_case(SANITATION)).peer_units
    drivers = ("unit_cost", "wage_index", "sweeps_per_day", "area_m2")
    return units.assign(**{c: pd.to_numeric(units[c]) for c in drivers})


CASE_FORMULA = "np.log(unit_cost) ~ np.log(wage_index) + np.log(sweeps_per_day) + np.log(area_m2)"


@pytest.mark.parametrize("se", OLS_SE_TYPES)
def test_case_model_equals_statsmodels_formula_fit(case_units, se):
    cluster = "district" if se == "cluster" else None
    model = fit_cost_model(case_units, CASE_FORMULA, se=se, cluster=cluster)
    ols = smf.ols(CASE_FORMULA, case_units)
    if se == "nonrobust":
        expected = ols.fit(method="qr")
    elif se == "cluster":
        groups = pd.factorize(case_units["district"])[0]
        expected = ols.fit(
            method="qr",
            cov_type="cluster",
            use_t=True,
            cov_kwds={"groups": groups, "use_correction": True},
        )
    else:
        expected = ols.fit(method="qr", cov_type=se, use_t=True)
    table = model.coefficients
    assert list(table["term"]) == list(expected.params.index)
    _close(table["coef"], expected.params, "coef")
    _close(table["se"], expected.bse, "se")
    # t tests on n - k df for every type, as R coeftest (statsmodels: G - 1 for clusters)
    t = expected.params / expected.bse
    crit = stats.t.ppf(0.975, expected.df_resid)
    _close(table["p_value"], 2 * stats.t.sf(np.abs(t), expected.df_resid), "p")
    _close(table["ci_low"], expected.params - crit * expected.bse, "ci_low")
    _close(table["ci_high"], expected.params + crit * expected.bse, "ci_high")
    if se != "cluster":
        _close(table["p_value"], expected.pvalues, "p")
        _close(table[["ci_low", "ci_high"]], expected.conf_int(), "ci")
    _close(model.cov, expected.cov_params(), "cov")
    assert model.fit["df_resid"] == expected.df_resid == 66
    _assert_same_fit(model.result, expected, se)


# ---------------------------------------------------------------------- Cook's distance


@settings(max_examples=30, deadline=None)
@given(seed=SEEDS, n=st.integers(6, 60), k=st.integers(1, 4))
def test_cooks_distance_equals_statsmodels(seed, n, k):
    X, y, _ = _design(seed, n, k)
    assume(n > k and np.linalg.matrix_rank(X) == k)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = _statsmodels(X, y, "nonrobust").get_influence().cooks_distance[0]
    got = least_squares(X, y).cooks_distance()
    finite = np.isfinite(expected)
    assert (np.isfinite(got) == finite).all()
    _close(got[finite], expected[finite], "Cook's distance")


def test_cooks_distance_of_a_leverage_one_row_is_infinite_as_in_statsmodels():
    # the dummy is 1 on the last row only: the fit passes through it (h = 1)
    X = np.column_stack([np.ones(6), np.arange(1.0, 7.0), [0, 0, 0, 0, 0, 1.0]])
    y = np.array([1.0, 2.2, 2.9, 4.1, 5.0, 9.0])
    fit = least_squares(X, y)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = _statsmodels(X, y, "nonrobust").get_influence().cooks_distance[0]
    np.testing.assert_allclose(fit.hat_diagonal()[-1], 1.0, rtol=1e-12)
    assert np.isinf(expected[-1]) and np.isinf(fit.cooks_distance()[-1])
    _close(fit.cooks_distance()[:-1], expected[:-1], "Cook's distance")
    flags = cooks_distance_outliers(fit)
    assert flags["outlier"].iloc[-1] and "undefined" in flags["outlier_reason"].iloc[-1]


def test_cooks_flags_of_a_cost_model_equal_those_of_statsmodels(case_units):
    model = fit_cost_model(case_units, CASE_FORMULA)
    ours = cooks_distance_outliers(model.result)
    theirs = cooks_distance_outliers(smf.ols(CASE_FORMULA, case_units).fit(method="qr"))
    assert ours.index.equals(pd.RangeIndex(len(case_units)))
    _close(ours["cooks_distance"], theirs["cooks_distance"], "Cook's distance")
    pd.testing.assert_frame_equal(
        ours.drop(columns="cooks_distance"), theirs.drop(columns="cooks_distance")
    )
    assert ours["outlier"].any()  # the comparison covers flagged rows and reasons


# --------------------------------------------------- t and normal without scipy.stats


def test_t_functions_are_scipy_stats_t_exactly():
    q = np.array([0.5, 0.6, 0.9, 0.95, 0.975, 0.995, 1 - 1e-12])
    x = np.array([-np.inf, -40.0, -2.0, -1e-300, 0.0, 0.3, 1.96, 8.0, 60.0, np.inf, np.nan])
    for df in (1, 2.0, 3, 7.5, 66, 140.0, 1e6):
        np.testing.assert_array_equal(t_ppf(q, df), stats.t.ppf(q, df))
        assert t_ppf(0.975, df) == stats.t.ppf(0.975, df)
        np.testing.assert_array_equal(t_sf(x, df), stats.t.sf(x, df))
        np.testing.assert_array_equal(t_sf(np.abs(x), df), stats.t.sf(np.abs(x), df))


def test_normal_functions_are_scipy_stats_norm_exactly():
    q = np.array([0.0, 1e-300, 0.01, 0.1, 0.25, 0.5, 0.75, 0.975, 1 - 1e-16, 1.0])
    np.testing.assert_array_equal(norm_ppf(q), stats.norm.ppf(q))
    x = np.concatenate([np.linspace(-40, 40, 4001), [-np.inf, np.inf, np.nan]])
    np.testing.assert_array_equal(norm_pdf(x), stats.norm.pdf(x))
    for value in (0.25, 0.5, 1.959963984540054, -0.6744897501960817, 0.0):
        assert norm_pdf(value) == stats.norm.pdf(value)
        assert norm_ppf(value % 1) == stats.norm.ppf(value % 1)


# ------------------------------------------------------------------------- the imports


def test_a_case_run_imports_neither_statsmodels_nor_scipy_stats_or_optimize(tmp_path):
    code = (
        "import contextlib, io, sys\n"
        "from costperf.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main(['run', {str(SANITATION)!r}, '--out', {str(tmp_path / 'out')!r},"
        " '--no-records'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] == 'statsmodels'"
        " or m.split('.')[:2] in (['scipy', 'stats'], ['scipy', 'optimize']))\n"
        "print(code, heavy)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[-2] == "0 []", proc.stdout[-2000:]
    assert (tmp_path / "out" / "summary.json").is_file()


def test_cluster_covariance_needs_two_clusters_and_the_groups():
    X, y, _ = _design(3, 20, 2)
    with pytest.raises(ValueError, match="at least 2 clusters, got 1"):
        least_squares(X, y, "cluster", np.zeros(20, dtype=int))
    with pytest.raises(ValueError, match="needs groups"):
        least_squares(X, y, "cluster")
