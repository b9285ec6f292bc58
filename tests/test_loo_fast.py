"""The fast leave-one-out paths give today's numbers: each rule's ``drop_grid`` against
its ``naive_drop_grid`` (the rule recomputed per drop) on the sanitation case's peers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costperf.benchmark.costmodel import rq_coefficients
from costperf.benchmark.costmodel.quantile import WarmRQ, check_loss
from costperf.case import load_case
from costperf.pipeline import load_case_data
from costperf.standards.derive import leave_one_out, leave_one_out_values, model_drops
from costperf.standards.derive.drops import sorted_quantile
from costperf.standards.derive.sensitivity import summarise_drops

CASE = Path(__file__).resolve().parents[1] / "cases" / "sanitation-5-districts"


@pytest.fixture(scope="module")
def case():
    config = load_case(CASE)
    units = load_case_data(config).peer_units
    return units, list(config.units.dimensions), config.standard


def _compare(units, dims, rules, params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The fast and the naive drop grids, asserted equal (returned for more checks)."""
    fast = leave_one_out_values(units, dims, rules, **params)
    naive = leave_one_out_values(units, dims, rules, naive=True, **params)
    merged = fast.merge(naive, on=["rule", *dims, "dropped"], how="outer", validate="1:1")
    assert len(merged) == len(fast) == len(naive)
    assert (merged["value_x"].isna() == merged["value_y"].isna()).all()
    np.testing.assert_allclose(merged["value_x"], merged["value_y"], rtol=1e-9, atol=0)
    for rule in rules:  # every peer once per cell of a local rule, per cell of a pooled one
        assert (fast["rule"] == rule).sum() >= len(units)
    return fast, naive


def test_the_case_rules_give_the_naive_table(case):
    units, dims, standard = case
    params = dict(standard.params)
    rules = list(standard.rules)
    assert {"median", "regression", "quantile_regression", "dea", "triangulation"} <= set(rules)
    drops, naive_drops = _compare(units, dims, rules, params)
    # the table leave_one_out makes of each grid (each grid computed once: the naive one
    # is the slow part of this test)
    fast = summarise_drops(units, dims, drops, **params)
    naive = summarise_drops(units, dims, naive_drops, **params)
    pd.testing.assert_frame_equal(fast, naive, check_exact=False, rtol=1e-9, atol=0)
    pd.testing.assert_frame_equal(fast, leave_one_out(units, dims, rules, **params))


@pytest.mark.parametrize(
    "rules, change",
    [
        (["mean", "p10", "quantile:0.9"], {}),
        (["median", "mean", "p90"], {"outlier_rule": "mad"}),
        (["median", "mean"], {"outlier_rule": "none"}),
        (["median", "p75"], {"k": 0.5, "quantile_method": "hazen"}),
        (["regression", "quantile_regression"], {"at": "mean_prediction"}),
        (["regression"], {"retransform": "lognormal"}),
        (["dea"], {"dea_rts": "crs"}),
    ],
)
def test_rule_variants_give_the_naive_table(case, rules, change):
    units, dims, standard = case
    _compare(units, dims, rules, {**dict(standard.params), **change})


def test_missing_values_and_a_peer_alone_in_its_cell(case):
    units, dims, standard = case
    units = units.copy()
    units.loc[3, "unit_cost"] = np.nan  # no value: its drop changes nothing
    units.loc[10, "cost_equipment"] = np.nan  # not in the DEA
    units.loc[[20, 21, 22], "road_grade"] = "五级"  # a small cell: not screened
    params = dict(standard.params)
    _compare(units, dims, ["median", "mean", "dea", "regression"], params)


def test_the_warm_started_quantile_regression_drops(monkeypatch):
    """Continuous drivers (a unique optimum for every drop): the warm path, forced on a
    small sample, gives the from-scratch LP's coefficients."""
    rng = np.random.default_rng(3)
    n = 120
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.uniform(1, 3, size=n)])
    y = X @ [1.0, 0.5, -0.2] + rng.standard_t(4, size=n) * 0.3
    warm = WarmRQ(X, y, 0.3, working=40)
    accepted = 0
    for j in range(0, n, 3):
        keep = np.arange(n) != j
        got = warm.without(j)
        want = rq_coefficients(X[keep], y[keep], 0.3)
        if got is not None:
            accepted += 1
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
            loss = check_loss(y[keep] - X[keep] @ got, 0.3)
            assert loss == pytest.approx(check_loss(y[keep] - X[keep] @ want, 0.3), rel=1e-12)
    assert accepted >= 30  # nearly every drop stays in the working set's reach
    monkeypatch.setattr(model_drops, "RQ_EXACT_MAX", 0)
    beta, ok = model_drops.rq_drops(X, y, 0.3)
    assert ok.all()
    for j in range(0, n, 7):
        keep = np.arange(n) != j
        np.testing.assert_allclose(beta[1 + j], rq_coefficients(X[keep], y[keep], 0.3), rtol=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=30),
    q=st.floats(0, 1),
    method=st.sampled_from(["linear", "hazen", "weibull", "median_unbiased", "lower", "nearest"]),
    data=st.data(),
)
def test_sorted_quantile_is_numpy_quantile_without_one_value(values, q, method, data):
    v = np.sort(np.asarray(values))
    n = len(v)
    start = data.draw(st.integers(0, n - 1))
    stop = data.draw(st.integers(start + 1, n))
    skip = data.draw(st.integers(-1, n - 1))
    got = sorted_quantile(v, np.array([start]), np.array([stop]), np.array([skip]), q, method)
    rest = [v[i] for i in range(start, stop) if i != skip]
    if not rest:
        assert np.isnan(got[0])
    else:
        want = np.quantile(rest, q, method=method)
        assert got[0] == pytest.approx(want, rel=1e-12, abs=1e-9)


def test_quantile_regression_drops_by_simplex_steps():
    """Every drop walked from the full fit's vertex: the unique optimum where there is
    one (the LP's coefficients), else a vertex with the LP's check loss; a factor with
    whole counts times tau makes many drops degenerate."""
    from costperf.benchmark.costmodel.quantile_drops import OPTIMAL, UNIQUE, rq_drop_fits

    rng = np.random.default_rng(5)
    n, tau = 160, 0.25
    group = np.repeat([0, 1], n // 2)
    X = np.column_stack([np.ones(n), group, rng.normal(size=n), rng.uniform(1, 3, size=n)])
    y = X @ [1.0, 0.3, 0.5, -0.2] + rng.standard_t(4, size=n) * 0.3
    b0 = rq_coefficients(X, y, tau)
    beta, state = rq_drop_fits(X, y, tau, b0)
    assert (state == UNIQUE).sum() >= 20 and (state == OPTIMAL).sum() >= 20
    assert (state == 0).sum() <= X.shape[1]  # the basis observations, left to the LP
    for j in np.flatnonzero(state > 0):
        keep = np.arange(n) != j
        want = rq_coefficients(X[keep], y[keep], tau)
        if state[j] == UNIQUE:
            np.testing.assert_allclose(beta[j], want, rtol=1e-9, atol=1e-12)
        loss = check_loss(y[keep] - X[keep] @ beta[j], tau)
        assert loss == pytest.approx(check_loss(y[keep] - X[keep] @ want, tau), rel=1e-12)
    base, base_state = rq_drop_fits(X, y, tau, b0, steps=0)  # the base certificate alone
    assert (base[base_state == UNIQUE] == b0).all()
    assert set(np.flatnonzero(base_state == UNIQUE)) <= set(np.flatnonzero(state == UNIQUE))


def test_full_rank_without_a_row_is_numpy_matrix_rank():
    rng = np.random.default_rng(2)
    X = np.column_stack([np.ones(30), rng.normal(size=30), np.zeros(30)])
    X[7, 2] = 1.0  # the only row with this column: dropping it loses a rank
    X[8:10, 1] = X[8:10, 1] * 1e-9
    rows = np.arange(30)
    got = model_drops.full_rank_without(X, rows)
    want = [np.linalg.matrix_rank(np.delete(X, j, axis=0)) == 3 for j in rows]
    assert got.tolist() == want
    assert not got[7] and got.sum() == 29
