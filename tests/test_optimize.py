"""The optimiser's core (costperf.optimize) against independently built LPs.

The independent reference is scipy: ``linprog`` (HiGHS through scipy, a dense matrix
built here row by row from the three tables) for objectives and duals, ``milp`` for
integer instances. Nothing of costperf's model builder is used to build it.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from conftest import REPO
from costperf.optimize import optimize_plan, prepare_model


def tables(resources: list[dict], constraints: list[dict], coefficients: list[tuple]):
    """Typed frames as the readers give them (with locations)."""
    res = pd.DataFrame(resources)
    for col, default in (("lower", np.nan), ("upper", np.nan), ("integer", None)):
        if col not in res:
            res[col] = default
    res["source_file"], res["sheet"] = "resources.csv", ""
    res["source_row"] = np.arange(2, len(res) + 2)
    con = pd.DataFrame(constraints)
    con["source_file"], con["sheet"] = "constraints.csv", ""
    con["source_row"] = np.arange(2, len(con) + 2)
    coef = pd.DataFrame(coefficients, columns=["constraint", "resource", "coefficient"])
    coef["source_file"], coef["sheet"] = "coefficients.csv", ""
    coef["source_row"] = np.arange(2, len(coef) + 2)
    return res, con, coef


def solved(res, con, coef, **options):
    prepared, problems = prepare_model(res, con, coef, **options.pop("prepare", {}))
    assert problems.empty, problems
    return optimize_plan(prepared, **options)


def reference(res: pd.DataFrame, con: pd.DataFrame, coef: pd.DataFrame, *, integer=False):
    """The same model built independently: dense A, scipy's linprog / milp."""
    cols = {r: j for j, r in enumerate(res["resource"])}
    rows = {c: i for i, c in enumerate(con["constraint"])}
    a = np.zeros((len(rows), len(cols)))
    for c, r, v in coef[["constraint", "resource", "coefficient"]].itertuples(index=False):
        a[rows[c], cols[r]] += v
    cost = res["unit_cost"].to_numpy(float)
    lower = res["lower"].fillna(0).to_numpy(float)
    upper = res["upper"].fillna(np.inf).to_numpy(float)
    sense, b = con["sense"].to_numpy(), con["rhs"].to_numpy(float)
    ge, le, eq = sense == ">=", sense == "<=", sense == "="
    if integer:
        lo = np.where(ge | eq, b, -np.inf)
        hi = np.where(le | eq, b, np.inf)
        ints = res["integer"].fillna(False).astype(bool).to_numpy().astype(int)
        out = milp(
            cost,
            constraints=LinearConstraint(a, lo, hi),
            bounds=Bounds(lower, upper),
            integrality=ints,
        )
        return out.fun, None
    a_ub = np.vstack([-a[ge], a[le]])
    b_ub = np.concatenate([-b[ge], b[le]])
    out = linprog(
        cost,
        A_ub=a_ub if len(a_ub) else None,
        b_ub=b_ub if len(b_ub) else None,
        A_eq=a[eq] if eq.any() else None,
        b_eq=b[eq] if eq.any() else None,
        bounds=list(zip(lower, upper, strict=True)),
        method="highs",
    )
    assert out.status == 0, out.message
    duals = np.zeros(len(b))
    marg = out.ineqlin.marginals
    duals[ge] = -marg[: ge.sum()]  # d cost / d rhs of a >= row
    duals[le] = marg[ge.sum() :]
    if eq.any():
        duals[eq] = out.eqlin.marginals
    return out.fun, duals


# --------------------------------------------------------------------- hand-solved


def street_model(integer: bool = False):
    """Cleaners (65,000 yuan, 12,000 m2 sweeps) and trucks (180,000, 150,000); area
    baseline 2,000,000; one supervisor per 10 ... here: cleaners >= 10 x trucks."""
    flag = "是" if integer else "否"
    return tables(
        [
            {"resource": "cleaner", "unit_cost": 65000.0, "current": 120.0, "integer": flag},
            {
                "resource": "truck",
                "unit_cost": 180000.0,
                "current": 6.0,
                "integer": flag,
                "upper": 10.0,
            },
        ],
        [
            {"constraint": "area", "constraint_kind": "绩效基线", "sense": ">=", "rhs": 2.0e6},
            {"constraint": "manual", "constraint_kind": "policy", "sense": "≥", "rhs": 0.0},
        ],
        [
            ("area", "cleaner", 12000.0),
            ("area", "truck", 150000.0),
            ("manual", "cleaner", 1.0),
            ("manual", "truck", -10.0),
        ],
    )


def test_hand_solved_lp() -> None:
    # cleaners = 10 t (manual binds), 12,000 x 10 t + 150,000 t = 2e6 -> t = 200/27
    p = solved(*street_model())
    t = 2.0e6 / 270000.0
    plan = p.plan.set_index("resource")
    assert plan.at["truck", "proposed"] == pytest.approx(t, rel=1e-9)
    assert plan.at["cleaner", "proposed"] == pytest.approx(10 * t, rel=1e-9)
    assert p.totals["proposed_cost"] == pytest.approx(830000.0 * t, rel=1e-9)
    assert p.totals["current_cost"] == 120 * 65000.0 + 6 * 180000.0
    # shadow price of the area: cost of one more m2 sweep along (10, 1) = 830,000 / 270,000
    prices = p.constraints.set_index("constraint")["shadow_price"]
    assert prices["area"] == pytest.approx(830000.0 / 270000.0, rel=1e-9)
    assert p.constraints.set_index("constraint").at["area", "binding"]


def test_integer_plan_and_relaxation_dual_name() -> None:
    p = solved(*street_model(integer=True))
    assert p.totals["proposed_cost"] == pytest.approx(6460000.0)  # 80 cleaners, 7 trucks
    assert p.totals["lp_relaxation_cost"] == pytest.approx(830000.0 * 2.0e6 / 270000.0)
    assert "shadow_price_lp_relaxation" in p.constraints and "shadow_price" not in p.constraints
    assert p.totals["shadow_price_basis"] == "lp_relaxation"


def test_cbc_agrees_with_highs() -> None:
    for integer in (False, True):
        highs = solved(*street_model(integer))
        cbc = solved(*street_model(integer), solver="cbc")
        assert cbc.totals["solver"] == "cbc"
        assert cbc.totals["proposed_cost"] == pytest.approx(highs.totals["proposed_cost"], rel=1e-6)
        price = highs.constraints.columns[-2]  # the shadow price column (before label_en)
        assert np.allclose(cbc.constraints[price], highs.constraints[price], rtol=1e-6)


def test_cbc_stops_at_its_time_limit_with_its_plan_marked_so(monkeypatch) -> None:
    """Found by an audit: ``--solver cbc`` on the sanitation case had not finished after
    12 minutes (no time limit), and a MILP stopped by ``[optimize] time_limit`` with a
    feasible plan was reported 最优.  CBC now stops after ``CBC_TIME_LIMIT`` seconds
    unless told otherwise, and such a plan is ``time_limit`` (达到时间限制), as HiGHS's."""
    import pulp

    from costperf.optimize.solve import CBC_TIME_LIMIT

    limits, made = [], pulp.PULP_CBC_CMD

    def command(**options):  # the limit CBC is given
        limits.append(options["timeLimit"])
        return made(**options)

    monkeypatch.setattr(pulp, "PULP_CBC_CMD", command)
    assert solved(*street_model(True), solver="cbc").totals["status"] == "optimal"
    assert limits == [CBC_TIME_LIMIT]  # one command for the relaxation and the MILP
    solved(*street_model(True), solver="cbc", time_limit=5.0)
    assert limits[-1] == 5.0
    # CBC's answer when its limit strikes: status Optimal with an integer-feasible plan
    solve, marked = pulp.LpProblem.solve, []

    def stopped(self, *args, **kwargs):
        status = solve(self, *args, **kwargs)
        if any(v.cat == pulp.LpInteger for v in self.variables()):
            self.sol_status = pulp.LpSolutionIntegerFeasible
            marked.append(True)
        return status

    monkeypatch.setattr(pulp.LpProblem, "solve", stopped)
    plan = solved(*street_model(True), solver="cbc")
    assert marked and plan.totals["status"] == "time_limit"
    highs = solved(*street_model(True))
    assert plan.totals["proposed_cost"] == pytest.approx(highs.totals["proposed_cost"], rel=1e-6)


def test_inputs_are_not_changed() -> None:
    res, con, coef = street_model()
    before = [f.copy() for f in (res, con, coef)]
    solved(res, con, coef)
    for frame, copy in zip((res, con, coef), before, strict=True):
        pd.testing.assert_frame_equal(frame, copy)


# ------------------------------------------------------------------- random instances


def random_instance(rng: np.random.Generator, n: int, m: int, *, integer: bool = False):
    """n resources, m baselines with positive yields, a policy ratio and a limit; feasible
    by construction (each baseline asks 30-100 % of what a whole-number plan within every
    bound and the ratio yields: a baseline on a capped resource alone once asked more
    than its cap allowed)."""
    resources = [
        {
            "resource": f"r{j}",
            "unit_cost": float(rng.uniform(1, 100)),
            "current": float(rng.integers(5, 50)),
            "integer": "true" if integer else "false",
            "upper": float(rng.uniform(40, 80)) if j % 3 == 2 else np.nan,
        }
        for j in range(n)
    ]
    constraints = [
        {
            "constraint": f"b{i}",
            "constraint_kind": "baseline",
            "sense": ">=",
            "rhs": float(rng.uniform(0.3, 1.0)),  # a share of the feasible plan's yield
        }
        for i in range(m)
    ]
    coefficients = [
        (f"b{i}", f"r{j}", float(rng.uniform(0.5, 10)))
        for i in range(m)
        for j in range(n)
        if rng.random() < 0.7 or j == i % n
    ]
    # a plan within every bound (54 or 90 % of the upper bound, whole numbers; 3 x r0 >=
    # the last resource, as the ratio asks; far below the cap)
    plan = {r["resource"]: np.floor(0.9 * np.fmin(r["upper"], 60.0)) for r in resources}
    for c in constraints:
        c["rhs"] *= sum(a * plan[r] for k, r, a in coefficients if k == c["constraint"])
    constraints.append(
        {"constraint": "ratio", "constraint_kind": "policy", "sense": ">=", "rhs": 0.0}
    )
    coefficients += [("ratio", "r0", 3.0), ("ratio", f"r{n - 1}", -1.0)]
    cap = max(1e4, 2.0 * sum(plan.values()))  # far below it at any n (400 x 54 > 1e4)
    constraints.append({"constraint": "cap", "constraint_kind": "limit", "sense": "<=", "rhs": cap})
    coefficients += [("cap", f"r{j}", 1.0) for j in range(n)]
    return tables(resources, constraints, coefficients)


@pytest.mark.parametrize("seed", range(12))
def test_objective_and_shadow_prices_match_linprog(seed: int) -> None:
    rng = np.random.default_rng(seed)
    res, con, coef = random_instance(rng, int(rng.integers(2, 7)), int(rng.integers(1, 4)))
    p = solved(res, con, coef)
    fun, duals = reference(res, con, coef)
    assert p.totals["proposed_cost"] == pytest.approx(fun, rel=1e-6)
    assert p.totals["lp_relaxation_cost"] == pytest.approx(fun, rel=1e-6)
    np.testing.assert_allclose(p.constraints["shadow_price"], duals, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_milp_objective_matches_scipy_milp(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    res, con, coef = random_instance(rng, int(rng.integers(2, 6)), 2, integer=True)
    p = solved(res, con, coef)
    fun, _ = reference(res, con, coef, integer=True)
    lp, duals = reference(res, con, coef)
    assert p.totals["proposed_cost"] == pytest.approx(fun, rel=1e-6)
    assert p.totals["lp_relaxation_cost"] == pytest.approx(lp, rel=1e-6)
    np.testing.assert_allclose(
        p.constraints["shadow_price_lp_relaxation"], duals, rtol=1e-6, atol=1e-9
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 6),
    m=st.integers(1, 4),
    integer=st.booleans(),
    shuffle=st.booleans(),
)
def test_every_baseline_holds_and_savings_do_not_depend_on_order(
    seed, n, m, integer, shuffle
) -> None:
    rng = np.random.default_rng(seed)
    res, con, coef = random_instance(rng, n, m, integer=integer)
    p = solved(res, con, coef)
    assert p.status == "optimal"
    rows = p.constraints
    base = rows[rows["constraint_kind"] == "baseline"]
    assert (base["proposed_lhs"] >= base["rhs"] * (1 - 1e-9) - 1e-9).all()
    assert (p.plan["proposed"] >= -1e-9).all()
    if integer:
        assert np.allclose(p.plan["proposed"], np.round(p.plan["proposed"]))
    if shuffle:  # the same model with its rows in another order: the same least cost
        again = solved(res.iloc[::-1], con.iloc[::-1], coef.sample(frac=1.0, random_state=seed))
        assert again.totals["proposed_cost"] == pytest.approx(p.totals["proposed_cost"], rel=1e-6)


def test_savings_never_negative_when_the_current_plan_is_feasible() -> None:
    for seed in range(10):
        rng = np.random.default_rng(500 + seed)
        res, con, coef = random_instance(rng, 4, 2)
        p = solved(res, con, coef)
        if p.constraints["current_holds"].all():
            assert p.totals["savings"] >= -1e-6


# ----------------------------------------------------------------------- infeasible


def shortfall_model(limit_x: float):
    """x + y >= 100 (baseline), x <= limit_x and y <= 50 (limits): 10 short when limit_x
    is 40. Relative relaxations: baseline 10/100, x-limit 10/limit_x, y-limit 10/50."""
    return tables(
        [
            {"resource": "x", "unit_cost": 2.0, "current": 40.0},
            {"resource": "y", "unit_cost": 3.0, "current": 50.0},
        ],
        [
            {
                "constraint": "output",
                "label": "产出",
                "constraint_kind": "baseline",
                "sense": ">=",
                "rhs": 100.0,
                "unit": "件",
            },
            {
                "constraint": "x_cap",
                "label": "x 上限",
                "constraint_kind": "limit",
                "sense": "<=",
                "rhs": limit_x,
                "unit": "人",
            },
            {
                "constraint": "y_cap",
                "label": "y 上限",
                "constraint_kind": "limit",
                "sense": "<=",
                "rhs": 50.0,
                "unit": "人",
            },
        ],
        [("output", "x", 1.0), ("output", "y", 1.0), ("x_cap", "x", 1.0), ("y_cap", "y", 1.0)],
    )


def test_infeasible_explained_by_the_row_that_gives_least() -> None:
    p = solved(*shortfall_model(40.0))
    assert p.status == "infeasible"
    (row,) = p.infeasibility.to_dict("records")
    assert row["constraint"] == "output"
    assert row["relaxation"] == pytest.approx(10.0)
    assert row["relative_relaxation"] == pytest.approx(0.1)
    assert row["relaxed_rhs"] == pytest.approx(90.0)
    assert row["explanation"] == (
        "绩效基线“产出”（output）无法满足：需将右端值由 100 件 降低 10 件（占右端值的 10.0%）"
        "至 90 件，其余约束方可同时成立。"
    )
    assert row["explanation_en"] == (
        "The baseline '产出' (output) cannot hold: its right-hand side must be lowered from "
        "100 件 by 10 件 (10.0% of it) to 90 件 for all other constraints to hold."
    )


def test_infeasible_a_shared_limit_gives_when_it_is_the_least_relative() -> None:
    # x >= 100 and y >= 100 (baselines), x + y <= 150 (a shared limit): 50 short.
    # Relative relaxation: the two baselines 50/100 together, the limit 50/150: it gives.
    res, con, coef = tables(
        [
            {"resource": "x", "unit_cost": 1.0, "current": 75.0},
            {"resource": "y", "unit_cost": 1.0, "current": 75.0},
        ],
        [
            {
                "constraint": "bx",
                "label": "x 产出",
                "constraint_kind": "baseline",
                "sense": ">=",
                "rhs": 100.0,
                "unit": "件",
            },
            {
                "constraint": "by",
                "label": "y 产出",
                "constraint_kind": "baseline",
                "sense": ">=",
                "rhs": 100.0,
                "unit": "件",
            },
            {
                "constraint": "staff",
                "label": "编制上限",
                "constraint_kind": "limit",
                "sense": "<=",
                "rhs": 150.0,
                "unit": "人",
            },
        ],
        [("bx", "x", 1.0), ("by", "y", 1.0), ("staff", "x", 1.0), ("staff", "y", 1.0)],
    )
    p = solved(res, con, coef)
    (row,) = p.infeasibility.to_dict("records")
    assert row["constraint"] == "staff"
    assert row["relaxation"] == pytest.approx(50.0)
    assert row["relative_relaxation"] == pytest.approx(1 / 3)
    assert row["relaxed_rhs"] == pytest.approx(200.0)
    assert "提高 50 人" in row["explanation"]
    assert "must be raised from 150 人 by 50 人 (33.3% of it) to 200 人" in row["explanation_en"]
    # the plan at the relaxed limit meets both baselines, at the least cost
    assert p.totals["proposed_cost"] == pytest.approx(200.0)


def test_current_plan_that_misses_a_baseline_is_reported_not_an_error() -> None:
    res, con, coef = street_model()
    res.loc[res["resource"] == "cleaner", "current"] = 20.0  # 240,000 + 900,000 < 2e6
    p = solved(res, con, coef)
    assert p.status == "optimal"
    issues = p.current_issues.set_index("constraint")["current_shortfall"]
    assert list(issues.index) == ["area", "manual"]
    assert issues["area"] == pytest.approx(2.0e6 - 20 * 12000 - 6 * 150000)
    assert issues["manual"] == pytest.approx(10 * 6 - 20)  # cleaners >= 10 x trucks


# ------------------------------------------------------------------------ portfolio


def portfolio(k: int = 3):
    """k projects in two groups, each: cleaners and trucks for its own area."""
    resources, constraints, coefficients = [], [], []
    for i in range(k):
        p, g = f"P{i}", "A" if i % 2 == 0 else "B"
        resources += [
            {
                "resource": f"{p}/c",
                "unit_cost": 60000.0 + 1000 * i,
                "current": 100.0,
                "project_id": p,
                "group": g,
            },
            {
                "resource": f"{p}/t",
                "unit_cost": 150000.0,
                "current": 5.0,
                "project_id": p,
                "group": g,
            },
        ]
        constraints.append(
            {
                "constraint": f"area[{p}]",
                "constraint_kind": "baseline",
                "sense": ">=",
                "rhs": 1.0e6 + 1e5 * i,
            }
        )
        coefficients += [(f"area[{p}]", f"{p}/c", 12000.0), (f"area[{p}]", f"{p}/t", 150000.0)]
    return tables(resources, constraints, coefficients)


def test_equity_rows_are_labelled_in_both_languages() -> None:
    from costperf.optimize.model import equity_rows

    resources = pd.DataFrame({"group": ["A", "A", "B"], "project_id": ["P0", "P1", "P1"],
                              "unit_cost": [1.0, 2.0, 3.0], "current": [1.0, 1.0, 1.0]})  # fmt: skip
    groups, _, _ = equity_rows(resources, "group", 0.875, prefix="equity")
    assert groups["label"].tolist() == ["分组 A 成本降幅不超过 12%", "分组 B 成本降幅不超过 12%"]
    assert groups["label_en"].tolist() == [
        "group A: cost falls by at most 12%",
        "group B: cost falls by at most 12%",
    ]
    projects, _, _ = equity_rows(resources, "project_id", 0.5, prefix="floor")
    assert projects["label"].tolist() == [
        "项目 P0 成本降幅不超过 50%",
        "项目 P1 成本降幅不超过 50%",
    ]
    assert projects["label_en"].tolist()[0] == "project P0: cost falls by at most 50%"


def test_portfolio_equity_rows_hold_and_report_per_group() -> None:
    free = solved(*portfolio())
    held = solved(*portfolio(), max_group_cut=0.10, project_floor=0.5)
    assert free.totals["savings_rate"] > 0.10  # without equity, cuts beyond 10 %
    groups = held.groups.set_index("group")
    assert (groups["savings_rate"] <= 0.10 + 1e-9).all()
    assert set(held.projects["project_id"]) == {"P0", "P1", "P2"}
    assert held.projects["savings"].sum() == pytest.approx(held.totals["savings"])
    equity = held.constraints[held.constraints["constraint"].str.startswith("equity[")]
    assert list(equity["constraint"]) == ["equity[group=A]", "equity[group=B]"]
    floors = held.constraints[held.constraints["constraint"].str.startswith("floor[")]
    assert len(floors) == 3 and (floors["constraint_kind"] == "policy").all()
    # the independent LP with the equity rows written out by hand
    res, con, coef = portfolio()
    for g in ("A", "B"):
        part = res[res["group"] == g]
        con = pd.concat(
            [
                con,
                pd.DataFrame(
                    [
                        {
                            "constraint": f"eq{g}",
                            "constraint_kind": "policy",
                            "sense": ">=",
                            "rhs": 0.9 * (part["unit_cost"] * part["current"]).sum(),
                        }
                    ]
                ),
            ],
            ignore_index=True,
        )
        coef = pd.concat(
            [
                coef,
                pd.DataFrame(
                    {
                        "constraint": f"eq{g}",
                        "resource": part["resource"],
                        "coefficient": part["unit_cost"],
                    }
                ),
            ],
            ignore_index=True,
        )
    for p, part in res.groupby("project_id"):
        con = pd.concat(
            [
                con,
                pd.DataFrame(
                    [
                        {
                            "constraint": f"fl{p}",
                            "constraint_kind": "policy",
                            "sense": ">=",
                            "rhs": 0.5 * (part["unit_cost"] * part["current"]).sum(),
                        }
                    ]
                ),
            ],
            ignore_index=True,
        )
        coef = pd.concat(
            [
                coef,
                pd.DataFrame(
                    {
                        "constraint": f"fl{p}",
                        "resource": part["resource"],
                        "coefficient": part["unit_cost"],
                    }
                ),
            ],
            ignore_index=True,
        )
    fun, duals = reference(res, con, coef)
    assert held.totals["proposed_cost"] == pytest.approx(fun, rel=1e-6)


# ------------------------------------------------------------------------ standards


def test_unit_cost_from_a_standard_in_force_records_its_version() -> None:
    from costperf.standards import read_standards

    standards = read_standards(REPO / "cases" / "requests-2027" / "standards")
    res, con, coef = street_model()
    res["unit_cost"] = res["unit_cost"].astype(float)
    res.loc[0, "unit_cost"] = np.nan
    res["standard_id"] = ["hw-uc/一级/unit_cost", None]
    prepared, problems = prepare_model(res, con, coef, standards=standards, on=dt.date(2026, 6, 1))
    assert problems.empty
    plan = optimize_plan(prepared).plan.set_index("resource")
    assert plan.at["cleaner", "unit_cost"] == 16.49
    assert plan.at["cleaner", "unit_cost_source"] == "hw-uc/一级/unit_cost@1"
    assert plan.at["cleaner", "standard_version"] == "1"
    assert list(prepared.standards_used["standard_id"]) == ["hw-uc/一级/unit_cost"]
    _, problems = prepare_model(res, con, coef, standards=standards, on=dt.date(2025, 6, 1))
    (row,) = problems.to_dict("records")
    assert (row["source_row"], row["column"], row["check"]) == (
        2,
        "standard_id",
        "unknown_standard",
    )
    assert row["expected"].startswith("a standard in force on 2025-06-01")


# ------------------------------------------------------------------------ the cases


@pytest.mark.parametrize("case", ["household-survey", "sanitation-5-districts"])
def test_cases_every_baseline_holds_and_saves(case: str) -> None:
    from costperf.case import load_case
    from costperf.pipeline import load_optimize_tables

    config = load_case(REPO / "cases" / case)
    params = config.optimize
    p = optimize_plan(
        load_optimize_tables(config),
        max_group_cut=params.max_group_cut,
        project_floor=params.project_floor,
    )
    assert p.status == "optimal"
    base = p.constraints[p.constraints["constraint_kind"] == "baseline"]
    assert (base["proposed_lhs"] >= base["rhs"] * (1 - 1e-9)).all()
    assert p.totals["savings"] > 0
    if case == "household-survey":  # 1,940 -> 627 yuan per completed household
        assert p.totals["current_cost"] / 2000 == pytest.approx(1939.581)
        assert p.totals["proposed_cost"] / 2000 == pytest.approx(626.6845)
    else:  # every district at the 10 % equity cap
        assert np.allclose(p.groups["savings_rate"], 0.10, atol=5e-4)


@pytest.mark.slow
def test_large_portfolio_matches_linprog() -> None:
    rng = np.random.default_rng(7)
    res, con, coef = random_instance(rng, 400, 60)
    p = solved(res, con, coef)
    fun, duals = reference(res, con, coef)
    assert p.totals["proposed_cost"] == pytest.approx(fun, rel=1e-6)


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("zh", "每个项目至少保留的现状成本比例"),
        ("en", "the share of its current cost every project keeps"),
    ],
)
def test_project_floor_help_says_the_share_kept(lang, said, capsys) -> None:
    """``--project-floor 0.8`` keeps 80 % of each project's cost (model.py's floor rows):
    the help says so, not that 0.8 may be cut."""
    from costperf.cli import main

    with pytest.raises(SystemExit):
        main(["optimize", "--help", "--lang", lang])
    text = "".join(capsys.readouterr().out.split())  # unwrapped
    assert "".join(said.split()) in text
