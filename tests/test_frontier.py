"""Tests for the DEA frontier (costperf.benchmark.frontier) against R Benchmarking 0.33.

Reference data: tests/reference/dea/ (see its README.md for every column and tolerance).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from costperf.benchmark.frontier import (
    check_dea_data,
    cost_efficiency,
    naive_scores,
    revenue_efficiency,
    solve_dea,
)
from costperf.errors import InputError

REF = Path(__file__).parent / "reference" / "dea"
SRC = Path(__file__).resolve().parents[1] / "src"
FILES = ["charnes1981", "milkProd", "pigdata", "norWood2004", "cst_hospital", "radial_11dmu"]
SCORE_TOL, GRAPH_TOL = 1e-6, 2e-6
SCORE_COLUMN = {"in": "efficiency_in", "out": "efficiency_out_farrell", "graph": "efficiency_graph"}
SUPER_COLUMN = {"in": "super_efficiency_in", "out": "super_efficiency_out_farrell"}


def load(name: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    data = pd.read_csv(REF / f"{name}.csv")
    data.index = pd.Index(data["dmu"].astype(str), name="dmu")
    return data, data.filter(regex="^in_"), data.filter(regex="^out_")


def columns(prefix: str) -> list[tuple[str, str]]:
    found = []
    for name in FILES:
        header = pd.read_csv(REF / f"{name}.csv", nrows=0).columns
        found += [(name, c) for c in header if c.startswith(prefix)]
    return found


def lp_score(x, y, xr, yr, rts: str, orientation: str) -> float:
    """Independent envelopment LP (scipy/HiGHS on the raw data); NaN if infeasible."""
    k, m = xr.shape
    n = yr.shape[1]
    c = np.r_[1.0 if orientation == "in" else -1.0, np.zeros(k)]
    if orientation == "in":
        a_ub = np.vstack([np.c_[-x, xr.T], np.c_[np.zeros(n), -yr.T]])
        b_ub = np.r_[np.zeros(m), -y]
    else:
        a_ub = np.vstack([np.c_[np.zeros(m), xr.T], np.c_[y, -yr.T]])
        b_ub = np.r_[x, np.zeros(n)]
    ones = np.r_[0.0, np.ones(k)][None, :]
    a_eq = b_eq = None
    if rts == "vrs":
        a_eq, b_eq = ones, [1.0]
    elif rts == "drs":
        a_ub, b_ub = np.vstack([a_ub, ones]), np.r_[b_ub, 1.0]
    elif rts == "irs":
        a_ub, b_ub = np.vstack([a_ub, -ones]), np.r_[b_ub, -1.0]
    res = linprog(
        c,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a_eq,
        b_eq=b_eq,
        method="highs",
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    return res.x[0] if res.status == 0 else np.nan


def snap(values) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return np.where(np.abs(values - 1) < 1e-7, 1.0, values)


def parse_lambdas(text: str, labels: pd.Index) -> np.ndarray:
    lam = np.zeros(len(labels))
    where = {label: i for i, label in enumerate(labels)}
    for part in filter(None, str(text).split(";")):
        label, value = part.rsplit(":", 1)
        lam[where[label]] = float(value)
    return lam


# --- reference sets: every column this module computes -------------------------------


@pytest.mark.parametrize(("name", "column"), columns("eff_"))
def test_scores_match_benchmarking(name, column):
    data, x, y = load(name)
    _, rts, orientation = column.split("_")
    result = solve_dea(x, y, rts=rts, orientation=orientation)
    tol = GRAPH_TOL if orientation == "graph" else SCORE_TOL
    np.testing.assert_allclose(result[SCORE_COLUMN[orientation]], data[column], rtol=0, atol=tol)
    assert (result["status"] == "optimal").all()
    if orientation == "out":
        np.testing.assert_allclose(
            result["efficiency_out_shephard"], 1 / data[column], rtol=0, atol=tol
        )
        assert (result["efficiency_out_farrell"] >= 1).all()
    if orientation == "in":
        assert ((result["efficiency_in"] > 0) & (result["efficiency_in"] <= 1)).all()


@pytest.mark.parametrize(
    ("name", "column"), [c for c in columns("slack_") if c[1].endswith("_sum")]
)
def test_slack_sums_match_benchmarking(name, column):
    """Slack sums are unique (individual slacks need not be: see the feasibility test)."""
    data, x, y = load(name)
    _, rts, orientation, _ = column.split("_")
    result = solve_dea(x, y, rts=rts, orientation=orientation, slack=True)
    expected = data[column].to_numpy()
    tol = 1e-6 * np.maximum(1.0, np.abs(expected))
    assert (np.abs(result["slack_sum"].to_numpy() - expected) <= tol).all()
    assert (result.filter(like="slack_") >= 0).all().all()


@pytest.mark.parametrize("name", ["charnes1981", "milkProd", "pigdata", "norWood2004"])
def test_slacks_are_feasible(name):
    """Phase-2 slacks and lambdas satisfy X lam + s_x = theta x_o, Y lam - s_y = y_o."""
    _, x, y = load(name)
    result = solve_dea(x, y, rts="vrs", orientation="in", slack=True)
    xv, yv = x.to_numpy(), y.to_numpy()
    sx = result[[f"slack_{c}" for c in x.columns]].to_numpy()
    sy = result[[f"slack_{c}" for c in y.columns]].to_numpy()
    for o, text in enumerate(result["lambdas"]):
        lam = parse_lambdas(text, x.index)
        theta = result["efficiency_in"].iloc[o]
        scale_x, scale_y = np.abs(xv).max(axis=0), np.abs(yv).max(axis=0)
        assert np.all(np.abs(lam @ xv + sx[o] - theta * xv[o]) <= 1e-6 * scale_x)
        assert np.all(np.abs(lam @ yv - sy[o] - yv[o]) <= 1e-6 * scale_y)
        assert abs(lam.sum() - 1) <= 1e-8


@pytest.mark.parametrize(("name", "column"), columns("super_"))
def test_super_efficiency_matches_benchmarking(name, column):
    data, x, y = load(name)
    _, rts, orientation = column.split("_")
    result = solve_dea(x, y, rts=rts, orientation=orientation, super_efficiency=True)
    expected = data[column].to_numpy()
    infeasible = np.isinf(expected)
    got = result[SUPER_COLUMN[orientation]].to_numpy()
    assert ((result["super_status"] == "infeasible").to_numpy() == infeasible).all()
    assert np.isnan(got[infeasible]).all()
    np.testing.assert_allclose(got[~infeasible], expected[~infeasible], rtol=0, atol=SCORE_TOL)
    score = result[SCORE_COLUMN[orientation]]
    inefficient = (score < 1) if orientation == "in" else (score > 1)
    np.testing.assert_allclose(got[inefficient.to_numpy()], score[inefficient], atol=1e-12)


@pytest.mark.parametrize("rts", ["vrs", "crs"])
def test_cost_revenue_allocative_match_benchmarking(rts):
    data, x, y = load("pigdata")
    w, p = data.filter(regex="^price_in_"), data.filter(regex="^price_out_")
    cost = cost_efficiency(x, y, w, rts=rts)
    np.testing.assert_allclose(cost["cost_efficiency"], data[f"cost_eff_{rts}"], atol=SCORE_TOL)
    np.testing.assert_allclose(
        cost["allocative_efficiency_in"], data[f"alloc_eff_in_{rts}"], atol=SCORE_TOL
    )
    np.testing.assert_allclose(
        cost["cost_efficiency"],
        cost["efficiency_in"] * cost["allocative_efficiency_in"],
        atol=1e-12,
    )
    optimal = cost[[f"optimal_{c}" for c in x.columns]].to_numpy()
    np.testing.assert_allclose(
        (optimal * w.to_numpy()).sum(axis=1), cost["cost_minimum"], rtol=1e-9
    )
    np.testing.assert_allclose(cost["cost_observed"], data["info_cost"], rtol=1e-9)
    revenue = revenue_efficiency(x, y, p, rts=rts)
    np.testing.assert_allclose(revenue["revenue_observed"], data["info_rev"], rtol=1e-9)
    np.testing.assert_allclose(
        revenue["revenue_efficiency"], data[f"rev_eff_{rts}"], atol=SCORE_TOL
    )
    np.testing.assert_allclose(
        revenue["allocative_efficiency_out"], data[f"alloc_eff_out_{rts}"], atol=SCORE_TOL
    )


@pytest.mark.parametrize(
    ("name", "rts"),
    [(f, r) for f in FILES for r in ("vrs", "crs") if f != "norWood2004"]
    + [("norWood2004", "vrs")],
)
def test_lambdas_are_feasible_and_peers_efficient(name, rts):
    """Lambdas are not unique: check X lam <= theta x_o, Y lam >= y_o, sum = 1 (VRS)."""
    data, x, y = load(name)
    result = solve_dea(x, y, rts=rts, orientation="in")
    xv, yv = x.to_numpy(), y.to_numpy()
    theta = result["efficiency_in"].to_numpy()
    for o, text in enumerate(result["lambdas"]):
        lam = parse_lambdas(text, x.index)
        assert np.all(lam @ xv <= theta[o] * xv[o] + 1e-6 * np.abs(xv).max(axis=0))
        assert np.all(lam @ yv >= yv[o] - 1e-6 * np.abs(yv).max(axis=0))
        if rts == "vrs":
            assert abs(lam.sum() - 1) <= 1e-8
        peers = result["peers"].iloc[o].split(",")
        assert set(peers) == {x.index[i] for i in np.flatnonzero(lam)}
        assert (result.loc[peers, "efficiency_in"] == 1).all()
    # Benchmarking's own lambdas are one valid solution too: same constraints hold
    column = f"lambda_{rts}_in"
    for o, text in enumerate(data[column]):
        lam = np.zeros(len(x))
        for part in text.split(";"):
            j, value = part.split(":")
            lam[int(j) - 1] = float(value)
        assert np.all(lam @ xv <= theta[o] * xv[o] + 1e-6 * np.abs(xv).max(axis=0))


def test_printed_textbook_scores():
    """Scores printed (6 digits) in the DataEnvelopmentAnalysis.jl radial example."""
    data, x, y = load("radial_11dmu")
    for printed, rts, orientation in (
        ("printed_crs_in", "crs", "in"),
        ("printed_vrs_in", "vrs", "in"),
        ("printed_vrs_out", "vrs", "out"),
    ):
        got = solve_dea(x, y, rts=rts, orientation=orientation)[SCORE_COLUMN[orientation]]
        np.testing.assert_allclose(got, data[printed], rtol=0, atol=5e-6)


def test_one_input_one_output_by_hand():
    """x = (2, 4, 3, 5, 4), y = (1, 3, 2, 3, 1): every score can be checked on paper."""
    x = pd.DataFrame({"x": [2.0, 4.0, 3.0, 5.0, 4.0]}, index=list("ABCDE"))
    y = pd.DataFrame({"y": [1.0, 3.0, 2.0, 3.0, 1.0]}, index=list("ABCDE"))
    # CRS: (y/x) / max(y/x) with max 3/4 at B
    crs = solve_dea(x, y, rts="crs")["efficiency_in"]
    np.testing.assert_allclose(crs, [2 / 3, 1, 8 / 9, 0.8, 1 / 3], atol=1e-12)
    # VRS: C = (A + B) / 2 exactly; D needs y >= 3 -> B (x = 4); E needs y >= 1 -> A (x = 2)
    vrs = solve_dea(x, y, rts="vrs", slack=True)
    np.testing.assert_allclose(vrs["efficiency_in"], [1, 1, 1, 0.8, 0.5], atol=1e-12)
    assert vrs.loc["C", "lambdas"] in {"C:1", "A:0.5;B:0.5"}  # C lies on the A-B facet
    assert vrs.loc["D", "peers"] == "B" and vrs.loc["E", "lambdas"] == "A:1"
    np.testing.assert_allclose(vrs["slack_sum"], 0, atol=1e-12)
    # output VRS: E (x = 4) can reach y = 3 (B): phi = 3; D (x = 5) also reaches only 3
    out = solve_dea(x, y, rts="vrs", orientation="out")
    np.testing.assert_allclose(out["efficiency_out_farrell"], [1, 1, 1, 1, 3], atol=1e-12)
    np.testing.assert_allclose(out["efficiency_out_shephard"], [1, 1, 1, 1, 1 / 3])
    # super VRS input: A has no other unit with y >= 1 at less... C (3) or B/D mixes: 3/2
    sup = solve_dea(x, y, rts="vrs", super_efficiency=True)
    assert sup.loc["B", "super_status"] == "optimal"
    np.testing.assert_allclose(
        sup.loc[["A", "B", "D", "E"], "super_efficiency_in"], [1.5, 5 / 4, 0.8, 0.5], atol=1e-12
    )
    # C without itself: the A-B segment still gives x = 3 at y = 2 -> exactly 1
    assert sup.loc["C", "super_efficiency_in"] == 1


# --- the fast path equals the naive loop ---------------------------------------------


def random_units(rng: np.random.Generator, k: int, m: int, n: int, ties: bool):
    if ties:
        x = rng.integers(1, 5, size=(k, m)).astype(float)
        y = rng.integers(0, 5, size=(k, n)).astype(float)
        y[y.sum(axis=1) == 0, 0] = 1.0
        x[k // 2], y[k // 2] = x[0], y[0]  # an exact duplicate unit
    else:
        x = rng.lognormal(size=(k, m)) * 10.0 ** rng.integers(-2, 5, size=m)
        y = rng.lognormal(size=(k, n)) * 10.0 ** rng.integers(-2, 5, size=n)
    return (
        pd.DataFrame(x, columns=[f"x{i}" for i in range(m)]),
        pd.DataFrame(y, columns=[f"y{i}" for i in range(n)]),
    )


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("rts", ["crs", "vrs", "drs", "irs"])
def test_fast_path_equals_naive_loop(seed, rts):
    rng = np.random.default_rng(seed)
    x, y = random_units(
        rng, int(rng.integers(20, 300)), 2 + seed % 2, 1 + seed % 3, ties=seed % 2 == 1
    )
    for orientation in ("in", "out"):
        fast = solve_dea(x, y, rts=rts, orientation=orientation, threads=2)
        naive = naive_scores(x.to_numpy(), y.to_numpy(), rts=rts, orientation=orientation)
        np.testing.assert_allclose(fast[SCORE_COLUMN[orientation]], snap(naive), rtol=0, atol=1e-9)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    rts=st.sampled_from(["crs", "vrs", "drs", "irs"]),
    orientation=st.sampled_from(["in", "out"]),
)
def test_fast_path_equals_naive_loop_property(data, rts, orientation):
    k = data.draw(st.integers(2, 40))
    m, n = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    cell = st.integers(1, 6).map(float)
    x = np.array(
        data.draw(st.lists(st.lists(cell, min_size=m, max_size=m), min_size=k, max_size=k))
    )
    y = np.array(
        data.draw(st.lists(st.lists(cell, min_size=n, max_size=n), min_size=k, max_size=k))
    )
    fast = solve_dea(
        pd.DataFrame(x),
        pd.DataFrame(y, columns=[f"y{i}" for i in range(n)]),
        rts=rts,
        orientation=orientation,
    )
    naive = naive_scores(x, y, rts=rts, orientation=orientation)
    np.testing.assert_allclose(fast[SCORE_COLUMN[orientation]], snap(naive), atol=1e-9)


def bench_module():
    """``bench/dea.py`` (its seeded data generator) as a module."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "bench" / "dea.py"
    spec = importlib.util.spec_from_file_location("bench_dea", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


@pytest.mark.slow
def test_fast_path_at_scale_against_full_lps():
    """N = 10,000 (the bench data): sampled units re-solved against all units."""
    bench = bench_module()
    x, y = bench.generate(10_000, seed=2)
    fast = solve_dea(x, y, rts="vrs", orientation="in", slack=True)
    xv, yv = x.to_numpy(), y.to_numpy()
    sample = np.random.default_rng(0).choice(len(x), size=60, replace=False)
    for o in sample:
        want = lp_score(xv[o], yv[o], xv, yv, "vrs", "in")
        assert fast["efficiency_in"].iloc[o] == pytest.approx(snap(want), abs=1e-9)


def test_results_do_not_depend_on_row_order_units_or_threads():
    _, x, y = load("charnes1981")
    base = solve_dea(x, y, rts="vrs", slack=True, super_efficiency=True, threads=2)
    order = np.random.default_rng(3).permutation(len(x))
    shuffled = solve_dea(
        x.iloc[order], y.iloc[order], rts="vrs", slack=True, super_efficiency=True, threads=1
    ).loc[x.index]
    rescaled = solve_dea(x * 1000, y / 7, rts="vrs", super_efficiency=True)
    for col in ("efficiency_in", "super_efficiency_in"):
        np.testing.assert_allclose(shuffled[col], base[col], atol=1e-9)
        np.testing.assert_allclose(rescaled[col], base[col], atol=1e-9)
    np.testing.assert_allclose(shuffled["slack_sum"], base["slack_sum"], rtol=1e-7, atol=1e-7)


def test_super_efficiency_against_independent_lp():
    rng = np.random.default_rng(11)
    x, y = random_units(rng, 60, 2, 2, ties=True)
    xv, yv = x.to_numpy(), y.to_numpy()
    for rts in ("vrs", "crs", "drs", "irs"):
        for orientation in ("in", "out"):
            got = solve_dea(x, y, rts=rts, orientation=orientation, super_efficiency=True)
            for o in range(len(x)):
                keep = np.arange(len(x)) != o
                want = lp_score(xv[o], yv[o], xv[keep], yv[keep], rts, orientation)
                value = got[SUPER_COLUMN[orientation]].iloc[o]
                if np.isnan(want):
                    assert got["super_status"].iloc[o] == "infeasible" and np.isnan(value)
                else:
                    assert abs(value - snap(abs(want))) <= 1e-7


def test_external_reference_set():
    rng = np.random.default_rng(5)
    x, y = random_units(rng, 80, 2, 2, ties=False)
    ref_x, ref_y = x.iloc[:50], y.iloc[:50]
    got = solve_dea(x, y, rts="vrs", orientation="in", reference=(ref_x, ref_y))
    for o in range(len(x)):
        want = lp_score(
            x.to_numpy()[o], y.to_numpy()[o], ref_x.to_numpy(), ref_y.to_numpy(), "vrs", "in"
        )
        if np.isnan(want):
            assert got["status"].iloc[o] == "infeasible"
            assert np.isnan(got["efficiency_in"].iloc[o])
        else:
            assert got["efficiency_in"].iloc[o] == pytest.approx(snap(want), abs=1e-8)
    assert set("".join(got["peers"]).replace(",", "")) <= set("".join(ref_x.index.astype(str)))


# --- the facet walk (large N) equals the HiGHS path and the naive loop ----------------


@pytest.fixture
def walk_everywhere(monkeypatch):
    """Force the facet walk at any N."""
    from costperf.benchmark.dea import scale

    monkeypatch.setattr(scale, "WALK_MIN_UNITS", 0)


@pytest.fixture
def walk_path(walk_everywhere, monkeypatch):
    """The facet walk with tiny recursion bases, rounds and chunks, so that every step of
    the large-N path (frame search by halves, warm-start rounds, chunks) runs on small
    data."""
    from costperf.benchmark.dea import walk

    monkeypatch.setattr(walk, "BASE_UNITS", 12)
    monkeypatch.setattr(walk, "FIRST_BATCH", 5)
    monkeypatch.setattr(walk, "CHUNK_MIN_UNITS", 30)
    return walk


def unit_frames(x: np.ndarray, y: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    index = pd.Index([f"u{i}" for i in range(len(x))])
    return (
        pd.DataFrame(x, index=index, columns=[f"x{i}" for i in range(x.shape[1])]),
        pd.DataFrame(y, index=index, columns=[f"y{i}" for i in range(y.shape[1])]),
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    data=st.data(),
    rts=st.sampled_from(["crs", "vrs", "drs", "irs"]),
    orientation=st.sampled_from(["in", "out"]),
)
def test_walk_equals_naive_loop_and_highs_path_property(walk_path, data, rts, orientation):
    """Small integer cells: ties, duplicate units, weakly efficient units with slacks."""
    k = data.draw(st.integers(2, 60))
    m, n = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    cells = st.lists(st.integers(1, 5).map(float), min_size=k * (m + n), max_size=k * (m + n))
    values = np.array(data.draw(cells)).reshape(k, m + n)
    x, y = unit_frames(values[:, :m], values[:, m:])
    got = solve_dea(x, y, rts=rts, orientation=orientation)
    assert got.attrs["dea"]["method"] == "facet walk"
    naive = naive_scores(x.to_numpy(), y.to_numpy(), rts=rts, orientation=orientation)
    column = SCORE_COLUMN[orientation]
    np.testing.assert_allclose(got[column], snap(naive), rtol=0, atol=1e-9)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("costperf.benchmark.dea.scale.WALK_MIN_UNITS", 10**9)
        highs = solve_dea(x, y, rts=rts, orientation=orientation)
    assert "method" not in highs.attrs["dea"]
    np.testing.assert_allclose(got[column], highs[column], rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    ("seed", "rts", "orientation"), [(0, "vrs", "in"), (1, "crs", "out"), (2, "drs", "in")]
)
def test_walk_lambdas_feasible_peers_efficient(walk_path, seed, rts, orientation):
    rng = np.random.default_rng(seed)
    x, y = random_units(rng, 120, 2, 3, ties=seed == 1)
    x, y = unit_frames(x.to_numpy(), y.to_numpy())
    got = solve_dea(x, y, rts=rts, orientation=orientation)
    naive = naive_scores(x.to_numpy(), y.to_numpy(), rts=rts, orientation=orientation)
    column = SCORE_COLUMN[orientation]
    np.testing.assert_allclose(got[column], snap(naive), rtol=0, atol=1e-9)
    xv, yv = x.to_numpy(), y.to_numpy()
    sx, sy = np.abs(xv).max(axis=0), np.abs(yv).max(axis=0)
    for o, text in enumerate(got["lambdas"]):
        lam = parse_lambdas(text, x.index)
        score = got[column].iloc[o]
        tx, ty = (score * xv[o], yv[o]) if orientation == "in" else (xv[o], score * yv[o])
        assert np.all(lam @ xv <= tx + 1e-7 * sx) and np.all(lam @ yv >= ty - 1e-7 * sy)
        if rts == "vrs":
            assert abs(lam.sum() - 1) <= 1e-8
        elif rts == "drs":
            assert lam.sum() <= 1 + 1e-8
        peers = [p for p in got["peers"].iloc[o].split(",") if p]
        assert (got.loc[peers, column] == 1).all()


def test_walk_weakly_efficient_and_duplicate_units(walk_path):
    """Units on the frontier with slack (W, score 1) and copies of efficient units.

    1 input, 2 outputs, VRS input: A (1 | 4, 1), B (1 | 1, 4) and C (1 | 2.5, 2.5) span
    the frontier at x = 1; W (1 | 4, 0.5) has theta 1 but 0.5 of output-2 slack (A
    dominates it); A2 duplicates A; D (2 | 2, 2) needs x = 1 (C covers it): theta 1/2.
    """
    x = pd.DataFrame({"x": [1.0, 1.0, 1.0, 1.0, 1.0, 2.0]}, index=["A", "B", "C", "W", "A2", "D"])
    y = pd.DataFrame(
        {"y1": [4.0, 1.0, 2.5, 4.0, 4.0, 2.0], "y2": [1.0, 4.0, 2.5, 0.5, 1.0, 2.0]},
        index=x.index,
    )
    got = solve_dea(x, y, rts="vrs", slack=True, super_efficiency=True)
    np.testing.assert_allclose(got["efficiency_in"], [1, 1, 1, 1, 1, 0.5], atol=1e-12)
    assert got.loc["W", "slack_y2"] == pytest.approx(0.5, abs=1e-9)
    np.testing.assert_allclose(got.loc[["A", "B", "C", "A2"], "slack_sum"], 0, atol=1e-9)
    assert got.loc["D", "slack_sum"] == pytest.approx(1.0, abs=1e-9)  # 0.5 each output
    # A without itself still has its twin: super-efficiency exactly 1
    assert got.loc["A", "super_efficiency_in"] == 1 and got.loc["A2", "super_efficiency_in"] == 1
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("costperf.benchmark.dea.scale.WALK_MIN_UNITS", 10**9)
        highs = solve_dea(x, y, rts="vrs", slack=True, super_efficiency=True)
    for column in ("efficiency_in", "slack_sum", "super_efficiency_in"):
        np.testing.assert_allclose(got[column], highs[column], atol=1e-9)


@pytest.mark.parametrize("name", FILES)
def test_walk_matches_benchmarking(walk_everywhere, name):
    """The reference sets through the facet walk: scores, slack sums, super-efficiency."""
    data, x, y = load(name)
    for column in [c for c in data.columns if c.startswith(("eff_", "super_"))]:
        kind, rts, orientation = column.split("_")
        result = solve_dea(x, y, rts=rts, orientation=orientation, super_efficiency=kind == "super")
        tol = GRAPH_TOL if orientation == "graph" else SCORE_TOL
        if kind == "eff":
            np.testing.assert_allclose(result[SCORE_COLUMN[orientation]], data[column], atol=tol)
            continue
        expected = data[column].to_numpy()
        finite = np.isfinite(expected)
        got = result[SUPER_COLUMN[orientation]].to_numpy()
        np.testing.assert_allclose(got[finite], expected[finite], rtol=0, atol=tol)
        assert np.isnan(got[~finite]).all()
    for column in [c for c in data.columns if c.startswith("slack_") and c.endswith("_sum")]:
        _, rts, orientation, _ = column.split("_")
        result = solve_dea(x, y, rts=rts, orientation=orientation, slack=True)
        expected = data[column].to_numpy()
        assert (np.abs(result["slack_sum"] - expected) <= 1e-6 * np.maximum(1, expected)).all()


def test_walk_row_duals_are_the_lp_duals(walk_everywhere):
    """Continuous data (unique optima): the facet's duals equal HiGHS' row duals."""
    from costperf.benchmark.dea.frame import scale_factors
    from costperf.benchmark.dea.radial import Technology, solve_scores

    rng = np.random.default_rng(4)
    x, y = rng.lognormal(size=(120, 2)), rng.lognormal(size=(120, 2))
    x, y = x / scale_factors(x), y / scale_factors(y)
    for orientation in ("in", "out"):
        walked = solve_scores(Technology(x, y, x, y, "vrs", orientation, same=True))
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("costperf.benchmark.dea.scale.WALK_MIN_UNITS", 10**9)
            highs = solve_scores(Technology(x, y, x, y, "vrs", orientation, same=True))
        inner = np.abs(highs.score - 1) > 1e-6  # efficient units have degenerate duals
        np.testing.assert_allclose(walked.duals[inner], highs.duals[inner], atol=1e-7)


def test_walk_on_a_process_pool_is_identical_to_serial(walk_path):
    """Two worker processes run the same fixed parts: the same numbers, bit for bit."""
    rng = np.random.default_rng(8)
    x, y = random_units(rng, 240, 3, 3, ties=False)
    serial = solve_dea(x, y, rts="vrs", threads=1)
    pooled = solve_dea(x, y, rts="vrs", threads=2)
    pd.testing.assert_frame_equal(serial, pooled, check_exact=True)
    assert serial.attrs["dea"] == pooled.attrs["dea"]


def test_walk_at_a_few_thousand_units_against_full_lps():
    """N = 4,000 of the bench data (the walk by default): sampled units vs all units."""
    bench = bench_module()
    x, y = bench.generate(4000, seed=3)
    got = solve_dea(x, y, rts="vrs", orientation="in")
    assert got.attrs["dea"]["method"] == "facet walk"
    xv, yv = x.to_numpy(), y.to_numpy()
    for o in np.random.default_rng(1).choice(len(x), size=25, replace=False):
        want = lp_score(xv[o], yv[o], xv, yv, "vrs", "in")
        assert got["efficiency_in"].iloc[o] == pytest.approx(snap(want), abs=1e-9)


# --- FDH and graph -------------------------------------------------------------------


def test_fdh_by_enumeration_with_slacks_and_super():
    x = pd.DataFrame({"x": [2.0, 4.0, 3.0, 5.0, 4.0]}, index=list("ABCDE"))
    y = pd.DataFrame({"y": [1.0, 3.0, 2.0, 3.0, 1.0]}, index=list("ABCDE"))
    res = solve_dea(x, y, rts="fdh", slack=True, super_efficiency=True)
    # D (5, 3) is dominated by B (4, 3): theta = 4/5; E (4, 1) by A (2, 1): theta = 1/2
    np.testing.assert_allclose(res["efficiency_in"], [1, 1, 1, 0.8, 0.5])
    assert res.loc["D", "peers"] == "B" and res.loc["E", "lambdas"] == "A:1"
    np.testing.assert_allclose(res["slack_sum"], 0, atol=1e-12)
    # super (self excluded): A -> C (3 / 2), B -> D (5 / 4), C -> B (4 / 3)
    np.testing.assert_allclose(res["super_efficiency_in"], [1.5, 5 / 4, 4 / 3, 0.8, 0.5])
    out = solve_dea(x, y, rts="fdh", orientation="out")
    np.testing.assert_allclose(out["efficiency_out_farrell"], [1, 1, 1, 1, 3])


def test_graph_crs_is_sqrt_of_input_efficiency():
    _, x, y = load("charnes1981")
    graph = solve_dea(x, y, rts="crs", orientation="graph")["efficiency_graph"]
    theta = solve_dea(x, y, rts="crs")["efficiency_in"]
    np.testing.assert_allclose(graph, np.sqrt(theta), atol=1e-12)


@pytest.mark.parametrize("rts", ["vrs", "drs", "irs"])
def test_graph_efficiency_is_the_exact_root(rts):
    """G solves theta(x_o, y_o / G) = G (Benchmarking's bisection is only ~1e-6 exact)."""
    _, x, y = load("cst_hospital")
    result = solve_dea(x, y, rts=rts, orientation="graph", slack=True)
    xv, yv = x.to_numpy(), y.to_numpy()
    for o, g in enumerate(result["efficiency_graph"]):
        assert 0 < g <= 1
        theta = lp_score(xv[o], yv[o] / g, xv, yv, rts, "in")
        assert theta == pytest.approx(g, abs=1e-9)
    assert (result["slack_sum"] >= 0).all()


def test_fdh_prices_and_external_reference_by_enumeration():
    x = pd.DataFrame({"a": [2.0, 4.0, 3.0, 5.0], "b": [3.0, 1.0, 2.0, 2.0]}, index=list("PQRS"))
    y = pd.DataFrame({"y": [1.0, 2.0, 2.0, 1.0]}, index=list("PQRS"))
    cost = cost_efficiency(x, y, [1.0, 1.0], rts="fdh")
    # S (cost 7, y 1): cheapest unit with y >= 1 is P or Q or R at 5 -> 5/7
    np.testing.assert_allclose(cost["cost_efficiency"], [1, 1, 1, 5 / 7])
    assert cost.loc["S", "cost_minimum"] == 5
    revenue = revenue_efficiency(x, y, [3.0], rts="fdh")
    # S (5, 2) can use the inputs of Q (4, 1) or R (3, 2), both make y = 2: 3 / 6
    np.testing.assert_allclose(revenue["revenue_efficiency"], [1, 1, 1, 0.5])
    ref = solve_dea(x, y, rts="fdh", reference=(x.iloc[:2], y.iloc[:2]))
    # R (3, 2 | 2) against P, Q: only Q produces 2 -> max(4/3, 1/2) = 4/3 (> 1: outside)
    # S (5, 2 | 1): P gives max(2/5, 3/2), Q gives max(4/5, 1/2) = 0.8
    np.testing.assert_allclose(ref["efficiency_in"], [1, 1, 4 / 3, 0.8])
    assert ref.loc["R", "peers"] == "Q"


# --- bad input -----------------------------------------------------------------------


def small():
    x = pd.DataFrame({"staff": [3.0, 4.0, 5.0], "cost": [10.0, 12.0, 9.0]}, index=["a", "b", "c"])
    y = pd.DataFrame({"served": [100.0, 140.0, 90.0]}, index=["a", "b", "c"])
    return x, y


def test_bad_input_text_missing_negative_and_zero_rows():
    x, y = small()
    x = x.astype(object)
    x.loc["b", "staff"] = "four"
    x.loc["c", "cost"] = -1.0
    with pytest.raises(InputError, match="row 2, column 'staff': got 'four', expected a number"):
        solve_dea(x, y)
    with pytest.raises(
        InputError, match=r"row 3, column 'cost': got '-1.0', expected a number >= 0"
    ):
        solve_dea(x, y)
    x, y = small()
    x.loc["a"] = 0.0
    with pytest.raises(InputError, match="row 1, column 'staff'.*at least one input > 0"):
        solve_dea(x, y)
    x, y = small()
    y.loc["b", "served"] = np.nan
    with pytest.raises(InputError, match="row 2, column 'served'.*blank"):
        solve_dea(x, y)
    y.loc["b", "served"] = np.inf
    with pytest.raises(InputError, match="row 2, column 'served'.*finite"):
        solve_dea(x, y)


def test_negative_outputs_only_where_the_model_allows():
    x, y = small()
    y.loc["a", "served"] = -5.0
    assert solve_dea(x, y, rts="vrs")["status"].eq("optimal").all()
    assert solve_dea(x, y, rts="fdh")["status"].eq("optimal").all()
    with pytest.raises(InputError, match="row 1, column 'served'.*negative outputs are allowed"):
        solve_dea(x, y, rts="crs")
    with pytest.raises(InputError, match="negative outputs"):
        solve_dea(x, y, rts="vrs", orientation="out")
    y.loc["a", "served"] = 0.0
    with pytest.raises(InputError, match="row 1, column 'served'.*at least one output > 0"):
        solve_dea(x, y, rts="crs")


def test_bad_shapes_ids_and_options():
    x, y = small()
    with pytest.raises(InputError, match="as many output rows as input rows"):
        solve_dea(x, y.iloc[:2])
    with pytest.raises(InputError, match="same index"):
        solve_dea(x, y.set_axis(["a", "b", "z"]))
    with pytest.raises(InputError, match="unique unit ids"):
        solve_dea(x.set_axis(["a", "a", "c"]), y.set_axis(["a", "a", "c"]))
    with pytest.raises(InputError, match="unknown returns to scale 'cvrs'; use one of: crs"):
        solve_dea(x, y, rts="cvrs")
    with pytest.raises(InputError, match="unknown orientation 'both'"):
        solve_dea(x, y, orientation="both")
    with pytest.raises(InputError, match="external reference"):
        solve_dea(x, y, super_efficiency=True, reference=(x, y))
    with pytest.raises(InputError, match="not 'graph'"):
        solve_dea(x, y, orientation="graph", super_efficiency=True)
    with pytest.raises(InputError, match="distinct input and output column names"):
        solve_dea(x, x[["staff"]])
    with pytest.raises(InputError, match="same columns"):
        solve_dea(x, y, reference=(x[["staff"]], y))
    with pytest.raises(InputError, match="at least one input column"):
        solve_dea(x[[]], y)


def test_bad_prices():
    x, y = small()
    with pytest.raises(InputError, match="2 input prices, one per column"):
        cost_efficiency(x, y, [1.0])
    with pytest.raises(InputError, match="column 'price_cost'.*expected a number >= 0"):
        cost_efficiency(x, y, [1.0, -2.0])
    with pytest.raises(InputError, match="observed cost.*> 0"):
        cost_efficiency(x, y, [0.0, 0.0])
    ok = cost_efficiency(x, y, {"staff": 2.0, "cost": 1.0})
    assert ((ok["cost_efficiency"] > 0) & (ok["cost_efficiency"] <= 1)).all()


def test_check_dea_data_collects_every_problem_with_locations():
    x, y = small()
    x = x.astype(object)
    x.loc["a", "staff"], x.loc["b", "cost"] = "n/a", -3
    where = pd.DataFrame(
        {"source_file": "units.xlsx", "sheet": "2024", "source_row": [5, 6, 7]}, index=x.index
    )
    problems = check_dea_data(x, y, rts="vrs", orientation="in", locations=where)
    assert list(problems["source_row"]) == [5, 6]
    assert list(problems["column"]) == ["staff", "cost"]
    assert set(problems["sheet"]) == {"2024"}


# --- CLI -----------------------------------------------------------------------------


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    # The installed package, as a user runs it (not the source folder: the
    # standard tables ship as package data mapped from standards/).
    env = dict(os.environ)
    return subprocess.run(
        [sys.executable, "-m", "costperf.cli", "dea", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
    )


def test_cli_writes_chinese_headers_and_words_by_default(tmp_path, capsys):
    """Without --lang: Chinese headers (松弛量：<input>, 成本效率), statuses in words, the
    same numbers as the reference (the --lang en table keeps canonical names)."""
    from costperf.cli import main

    data, x, y = load("pigdata")
    data.to_csv(tmp_path / "pigs.csv", index=False)
    prices = ",".join(f"price_in_w{i}" for i in range(1, 7))
    args = ["dea", str(tmp_path / "pigs.csv"), "--inputs", ",".join(x.columns)]
    args += ["--outputs", ",".join(y.columns), "--slack", "--prices", prices]
    assert main([*args, "-o", str(tmp_path / "zh.csv")]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"costperf dea：{len(data)} 个单元，VRS，投入导向：有效 ")
    assert "投入导向效率值均值" in printed
    out = pd.read_csv(tmp_path / "zh.csv", encoding="utf-8-sig")
    first = x.columns[0]
    assert {"投入导向效率值", "状态", "参照单元", f"松弛量：{first}", "松弛量合计"} <= set(out)
    assert {"成本效率", "投入配置效率", f"最优投入量：{first}", "成本效率求解状态"} <= set(out)
    assert set(out["状态"]) == {"已求得最优解"} and set(out["成本效率求解状态"]) == {"已求得最优解"}
    np.testing.assert_allclose(out["投入导向效率值"], data["eff_vrs_in"], atol=SCORE_TOL)
    np.testing.assert_allclose(out["成本效率"], data["cost_eff_vrs"], atol=SCORE_TOL)
    np.testing.assert_allclose(out["松弛量合计"], data["slack_vrs_in_sum"], rtol=1e-6, atol=1e-6)


def test_cli_reports_a_duplicate_id_and_a_negative_input_at_once(tmp_path, capsys):
    """Found by an audit: a duplicate id hid the negative input (checked by id)."""
    from conftest import read_problems
    from costperf.cli import main

    data = pd.DataFrame(
        {
            "单元号": ["U1", "U2", "U3", "U2", "U5", "U6"],
            "labour": [10.0, 12, 9, 11, 14, 8],
            "capital": [5.0, 6, -100, 4, 7, 5],
            "output": [100.0, 110, 90, 95, 120, 80],
        }
    )
    data.to_csv(tmp_path / "u.csv", index=False)
    args = ["dea", str(tmp_path / "u.csv"), "--inputs", "labour,capital", "--id", "单元号"]
    assert main([*args, "--outputs", "output", "-o", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert "应为不重复的单元号（第 3 行已使用）" in err and "id in column" not in err
    got = read_problems(tmp_path / "o.problems.csv")[["source_row", "column"]].values.tolist()
    assert got == [["4", "capital"], ["5", "单元号"]]


@pytest.mark.parametrize("prices", ["1,-2", "1,nan", "inf,1"])
def test_cli_refuses_a_negative_or_missing_constant_price_once(tmp_path, capsys, prices):
    """Found by fuzzing: --prices 1,-2 gave one problem per row, at no file, in a made-up
    column 'price_labour'; a constant price is the command line's, told once."""
    from costperf.cli import main

    data = pd.DataFrame({"labour": [10.0, 12, 9], "capital": [5.0, 6, 4], "output": [1.0, 2, 3]})
    data.to_csv(tmp_path / "u.csv", index=False)
    args = ["dea", str(tmp_path / "u.csv"), "--inputs", "labour,capital", "--outputs", "output"]
    assert main([*args, "--prices", prices, "-o", str(tmp_path / "o.csv"), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert err == f"costperf: error: --prices '{prices}': expected prices that are numbers >= 0\n"
    assert not (tmp_path / "o.csv").exists()


def test_cli_tells_every_bad_option_at_once(tmp_path, capsys):
    """Found by fuzzing: --rts xyz hid --orientation up, and --threads -1 passed."""
    from costperf.cli import main

    data = pd.DataFrame({"labour": [10.0, 12, 9], "output": [1.0, 2, 3]})
    data.to_csv(tmp_path / "u.csv", index=False)
    args = ["dea", str(tmp_path / "u.csv"), "--inputs", "labour", "--outputs", "output"]
    args += ["--rts", "xyz", "--orientation", "up", "--threads", "0"]
    assert main([*args, "-o", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert "共 3 处输入问题" in err
    assert "选项“--rts”：命令行选项错误，值 'xyz'，应为以下之一：crs, vrs" in err
    assert "选项“--orientation”：命令行选项错误，值 'up'，应为以下之一：in, out, graph" in err
    assert "选项“--threads”：命令行选项错误，值 '0'，应为不小于 1 的整数" in err
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(
    ("orientation", "zh"), [("out", "VRS 产出导向"), ("graph", "VRS 双向（graph）导向")]
)
def test_cli_zero_outputs_are_told_in_chinese(tmp_path, capsys, orientation, zh):
    """Found by fuzzing: 'its VRS output score' had no Chinese, and graph read 'graphput'."""
    from costperf.cli import main

    data = pd.DataFrame({"labour": [10.0, 12, 9], "output": [1.0, 0, 3]})
    data.to_csv(tmp_path / "u.csv", index=False)
    args = ["dea", str(tmp_path / "u.csv"), "--inputs", "labour", "--outputs", "output"]
    assert main([*args, "--orientation", orientation, "-o", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert "第 3 行，列“output”：产出全为零，值 '0.0'，应为至少一项产出大于 0" in err
    assert f"其 {zh}效率无定义" in err and "暂无中文译文" not in err


def test_cli_scores_and_errors(tmp_path):
    data, x, y = load("pigdata")
    data.to_csv(tmp_path / "pigs.csv", index=False)
    prices = ",".join(f"price_in_w{i}" for i in range(1, 7))
    done = run_cli(
        "pigs.csv",
        "--inputs",
        ",".join(x.columns),
        "--outputs",
        ",".join(y.columns),
        "--rts",
        "vrs",
        "--orientation",
        "in",
        "--slack",
        "--super",
        "--prices",
        prices,
        "-o",
        "out.csv",
        "--lang",
        "en",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    out = pd.read_csv(tmp_path / "out.csv", encoding="utf-8-sig")
    assert out.columns[0] == "dmu" and list(out["dmu"]) == list(data["dmu"])
    np.testing.assert_allclose(out["efficiency_in"], data["eff_vrs_in"], atol=SCORE_TOL)
    np.testing.assert_allclose(out["cost_efficiency"], data["cost_eff_vrs"], atol=SCORE_TOL)
    np.testing.assert_allclose(out["slack_sum"], data["slack_vrs_in_sum"], rtol=1e-6, atol=1e-6)

    units = data.drop(columns=["dmu"]).assign(name=[f"单位{i}" for i in range(len(data))])
    with pd.ExcelWriter(tmp_path / "pigs.xlsx") as writer:
        units.head(3).to_excel(writer, sheet_name="notes", index=False)
        units.to_excel(writer, sheet_name="2024", index=False)
    done = run_cli(
        "pigs.xlsx",
        "--sheet",
        "2024",
        "--id",
        "name",
        "--inputs",
        ",".join(x.columns),
        "--outputs",
        ",".join(y.columns),
        "--rts",
        "crs",
        "--orientation",
        "out",
        "--output-prices",
        "price_out_p2,price_out_p4",
        "-o",
        "out.parquet",
        "--lang",
        "en",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert out.columns[0] == "name" and out["name"].iloc[0] == "单位0"
    np.testing.assert_allclose(out["efficiency_out_farrell"], data["eff_crs_out"], atol=SCORE_TOL)
    np.testing.assert_allclose(out["revenue_efficiency"], data["rev_eff_crs"], atol=SCORE_TOL)

    bad = data.astype(object)
    bad.iloc[4, bad.columns.get_loc("in_x2")] = "n/a"  # 5th data row = file row 6
    bad.to_csv(tmp_path / "bad.csv", index=False)
    failed = run_cli(
        "bad.csv",
        "--inputs",
        "in_x1,in_x2",
        "--outputs",
        "out_y2",
        "-o",
        "out2.csv",
        "--lang",
        "en",
        cwd=tmp_path,
    )
    assert failed.returncode == 2
    assert "bad.csv, row 6, column 'in_x2': got 'n/a', expected a number" in failed.stderr
    assert not (tmp_path / "out2.csv").exists()
    missing = run_cli(
        "pigs.csv",
        "--inputs",
        "in_x1,labour",
        "--outputs",
        "out_y2",
        "-o",
        "out3.csv",
        "--lang",
        "en",
        cwd=tmp_path,
    )
    assert missing.returncode == 2 and "'labour'" in missing.stderr
