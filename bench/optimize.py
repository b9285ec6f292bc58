"""Optimiser benchmark: a portfolio of projects x 6 resources with equity constraints.

    python bench/optimize.py [--projects 5000] [--groups 20] [--seed 0] [--no-cbc]

Seeded portfolio: every project has six resources (cleaners, team leaders, sweeper
trucks, tricycles, contract hours, supervisors), two baselines (area x sweeps, and
service hours), two policies (one leader per 25 cleaners, one supervisor per 40
staff) and a truck limit; projects belong to ``--groups`` districts, no district's cost
may fall by more than 10 % (``max_group_cut``) and no project's by more than 30 %
(``project_floor`` 0.7). Solved as an LP and as a MILP (people and vehicles integer),
in the same run, by:

* **costperf**: ``prepare_model`` + ``optimize_plan`` on the three tables (build =
  checks, the sparse model; solve = HiGHS, LP relaxation and MILP, results);
* **direct**: the same model written straight as arrays (numpy, scipy.sparse) and
  passed to ``highspy`` with ``passModel`` (the baseline);
* **pulp+HiGHS**, **pulp+CBC**: the model built with pulp (one variable and one
  ``lpSum`` per row, as a modeller would) and solved with ``msg=False``.

Objectives must agree (LP 1e-6 relative; MILP within twice ``--mip-gap``, default
HiGHS's 1e-4; costperf's own default is 1e-6).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from costperf.optimize import optimize_plan, prepare_model  # noqa: E402
from costperf.solvers import quiet_highs, stdout_silenced  # noqa: E402

KINDS = ["cleaner", "leader", "truck", "tricycle", "hours", "supervisor"]
COST = np.array([66000.0, 89000.0, 170000.0, 3000.0, 45.0, 120000.0])
INTEGER = np.array([True, True, True, True, False, True])
# yields: m2 x sweeps per day (cleaner, truck, tricycle); service hours (cleaner,
# leader, hours, supervisor)
AREA_YIELD = np.array([15000.0, 0.0, 80000.0, 2000.0, 0.0, 0.0])
HOUR_YIELD = np.array([2000.0, 1800.0, 0.0, 0.0, 1.0, 1600.0])


def generate(n: int, groups: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    """The three tables of a seeded portfolio of ``n`` projects."""
    rng = np.random.default_rng(seed)
    pid = np.array([f"P{i:05d}" for i in range(n)])
    group = np.array([f"G{g:02d}" for g in rng.integers(0, groups, n)])
    area = rng.uniform(2e5, 2e6, n) * rng.choice([1.0, 1.5, 2.0, 3.0], n)
    hours = area / 80.0 * rng.uniform(0.8, 1.2, n)
    staffing = rng.uniform(1.0, 1.35, n)  # over the norm: what the optimiser can save
    cleaners = np.ceil(area * 0.8 / 15000.0 * staffing)
    trucks = np.ceil(area * 0.2 / 80000.0)
    current = np.c_[
        cleaners,
        np.ceil(cleaners / 25.0),
        trucks,
        np.ceil(cleaners / 8.0),
        np.round(hours * 0.1),
        np.ceil(cleaners / 40.0),
    ]
    cost = COST * rng.uniform(0.92, 1.08, (n, 6))
    res = pd.DataFrame(
        {
            "resource": np.char.add(np.repeat(pid, 6), np.tile([f"/{k}" for k in KINDS], n)),
            "unit_cost": cost.ravel().round(2),
            "current": current.ravel(),
            "integer": np.tile(np.where(INTEGER, "true", "false"), n),
            "lower": 0.0,
            "upper": np.c_[np.full((n, 2), np.nan), trucks + 2, np.full((n, 3), np.nan)].ravel(),
            "project_id": np.repeat(pid, 6),
            "group": np.repeat(group, 6),
        }
    )
    names = {
        "area": np.char.add("area[", np.char.add(pid, "]")),
        "hours": np.char.add("hours[", np.char.add(pid, "]")),
        "leaders": np.char.add("leaders[", np.char.add(pid, "]")),
        "supervisors": np.char.add("supervisors[", np.char.add(pid, "]")),
    }
    con = pd.DataFrame(
        {
            "constraint": np.concatenate(list(names.values())),
            "constraint_kind": np.repeat(["baseline", "baseline", "policy", "policy"], n),
            "sense": ">=",
            "rhs": np.concatenate([area, hours, np.zeros(n), np.zeros(n)]),
        }
    )
    r = {k: np.char.add(pid, f"/{k}") for k in KINDS}
    parts = []
    for j, k in enumerate(KINDS):
        if AREA_YIELD[j]:
            parts.append((names["area"], r[k], np.full(n, AREA_YIELD[j])))
        if HOUR_YIELD[j]:
            parts.append((names["hours"], r[k], np.full(n, HOUR_YIELD[j])))
    parts += [
        (names["leaders"], r["leader"], np.full(n, 25.0)),
        (names["leaders"], r["cleaner"], np.full(n, -1.0)),
        (names["supervisors"], r["supervisor"], np.full(n, 40.0)),
        (names["supervisors"], r["cleaner"], np.full(n, -1.0)),
        (names["supervisors"], r["leader"], np.full(n, -1.0)),
    ]
    coef = pd.DataFrame(
        {
            "constraint": np.concatenate([p[0] for p in parts]),
            "resource": np.concatenate([p[1] for p in parts]),
            "coefficient": np.concatenate([p[2] for p in parts]),
        }
    )
    for frame in (res, con, coef):
        frame["source_file"], frame["sheet"] = "bench", ""
        frame["source_row"] = np.arange(2, len(frame) + 2)
    return {"resources": res, "constraints": con, "coefficients": coef}


GAP = {"mip_rel_gap": 1e-4, "time_limit": 300.0}  # set by --mip-gap, --time-limit


def run_costperf(t: dict[str, pd.DataFrame], integer: bool) -> tuple[float, float, float]:
    res = t["resources"] if integer else t["resources"].assign(integer="false")
    start = time.perf_counter()
    prepared, problems = prepare_model(res, t["constraints"], t["coefficients"])
    assert problems.empty
    built = time.perf_counter()
    p = optimize_plan(
        prepared,
        max_group_cut=0.10,
        project_floor=0.70,
        mip_rel_gap=GAP["mip_rel_gap"],
        time_limit=GAP["time_limit"],
    )
    total = time.perf_counter() - start
    value = p.totals["proposed_cost"] if p.status == "optimal" else float("nan")
    return value, p.totals["build_seconds"] + built - start, total


def direct_arrays(t: dict[str, pd.DataFrame], integer: bool):
    """The model as arrays, written straight from the generator's structure."""
    res, con, coef = t["resources"], t["constraints"], t["coefficients"]
    n_cols = len(res)
    col = pd.Index(res["resource"])
    row = pd.Index(con["constraint"])
    rr = row.get_indexer(coef["constraint"])
    cc = col.get_indexer(coef["resource"])
    vv = coef["coefficient"].to_numpy()
    cost = res["unit_cost"].to_numpy()
    current = cost * res["current"].to_numpy()
    g_codes = pd.factorize(res["group"], sort=True)[0]
    p_codes = pd.factorize(res["project_id"], sort=True)[0]
    n_g, n_p, n_r = g_codes.max() + 1, p_codes.max() + 1, len(con)
    rows = np.concatenate([rr, n_r + g_codes, n_r + n_g + p_codes])
    cols = np.concatenate([cc, np.arange(n_cols), np.arange(n_cols)])
    vals = np.concatenate([vv, cost, cost])
    a = sp.csc_matrix((vals, (rows, cols)), shape=(n_r + n_g + n_p, n_cols))
    lo = np.concatenate(
        [
            con["rhs"].to_numpy(),
            0.9 * np.bincount(g_codes, current),
            0.7 * np.bincount(p_codes, current),
        ]
    )
    up = np.full(len(lo), np.inf)
    ints = (res["integer"].to_numpy() == "true") & integer
    return cost, res["lower"].to_numpy(), res["upper"].fillna(np.inf).to_numpy(), a, lo, up, ints


def run_direct(
    t: dict[str, pd.DataFrame], integer: bool, lp_first: bool = False
) -> tuple[float, float, float]:
    """``lp_first``: solve the LP relaxation, then set the integers and solve again (what
    costperf does, for the relaxation's duals); else the MILP from scratch."""
    import highspy

    start = time.perf_counter()
    cost, lower, upper, a, lo, up, ints = direct_arrays(t, integer)
    h = quiet_highs(mip_rel_gap=GAP["mip_rel_gap"], time_limit=GAP["time_limit"])
    solve_ints = np.zeros(len(ints), dtype=np.int32) if lp_first else ints.astype(np.int32)
    h.passModel(
        len(cost),
        len(lo),
        a.nnz,
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        0.0,
        cost,
        lower,
        upper,
        lo,
        up,
        a.indptr.astype(np.int32),
        a.indices.astype(np.int32),
        a.data,
        solve_ints,
    )
    built = time.perf_counter()
    h.run()
    if lp_first and ints.any():
        idx = np.flatnonzero(ints).astype(np.int32)
        kinds = np.full(len(idx), int(highspy.HighsVarType.kInteger), dtype=np.int32)
        h.changeColsIntegrality(len(idx), idx, kinds)
        h.run()
    optimal = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    value = h.getInfo().objective_function_value if optimal else float("nan")
    return value, built - start, time.perf_counter() - start


def run_pulp(t: dict[str, pd.DataFrame], integer: bool, solver: str) -> tuple[float, float, float]:
    import pulp

    warnings.simplefilter("ignore", DeprecationWarning)
    res, con, coef = t["resources"], t["constraints"], t["coefficients"]
    start = time.perf_counter()
    prob = pulp.LpProblem("portfolio", pulp.LpMinimize)
    ints = (res["integer"] == "true") & integer
    x = {
        r: pulp.LpVariable(
            r.replace("/", "_"),
            lowBound=0,
            upBound=None if np.isnan(u) else u,
            cat="Integer" if i else "Continuous",
        )
        for r, u, i in zip(res["resource"], res["upper"], ints, strict=True)
    }
    cost = dict(zip(res["resource"], res["unit_cost"], strict=True))
    prob += pulp.lpSum(cost[r] * v for r, v in x.items())
    terms: dict[str, list] = {}
    for c, r, v in zip(coef["constraint"], coef["resource"], coef["coefficient"], strict=True):
        terms.setdefault(c, []).append((x[r], v))
    for c, rhs in zip(con["constraint"], con["rhs"], strict=True):
        prob += pulp.lpSum(v * var for var, v in terms[c]) >= rhs, c
    current = res["unit_cost"] * res["current"]
    for key, keep in (("group", 0.9), ("project_id", 0.7)):
        for value, part in res.groupby(key):
            prob += (
                pulp.lpSum(cost[r] * x[r] for r in part["resource"])
                >= keep * current[part.index].sum(),
                f"{key}_{value}",
            )
    built = time.perf_counter()
    gap = GAP["mip_rel_gap"]
    engine = (
        pulp.HiGHS(msg=False, gapRel=gap, timeLimit=GAP["time_limit"])
        if solver == "highs"
        else pulp.PULP_CBC_CMD(msg=False, gapRel=gap, timeLimit=GAP["time_limit"])
    )
    with stdout_silenced():
        prob.solve(engine)
    optimal = pulp.LpStatus[prob.status] == "Optimal"
    value = pulp.value(prob.objective) if optimal else float("nan")
    return value, built - start, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=5000)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-cbc", action="store_true", help="skip pulp + CBC (the slowest)")
    parser.add_argument(
        "--mip-gap",
        type=float,
        default=1e-4,
        help="relative MIP gap of every solver (HiGHS default)",
    )
    parser.add_argument("--no-milp", action="store_true", help="LP only")
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds per solve")
    args = parser.parse_args(argv)
    GAP["mip_rel_gap"], GAP["time_limit"] = args.mip_gap, args.time_limit
    tables = generate(args.projects, args.groups, args.seed)
    print(
        f"portfolio: {args.projects:,} projects x 6 resources = {len(tables['resources']):,} "
        f"columns, {len(tables['constraints']):,} rows + {args.groups} equity + "
        f"{args.projects:,} floor rows, {len(tables['coefficients']):,} coefficients"
    )
    runners = {
        "direct highspy": run_direct,
        "direct, LP 1st": lambda t, i: run_direct(t, i, lp_first=True),
        "costperf": run_costperf,
        "pulp+HiGHS": lambda t, i: run_pulp(t, i, "highs"),
    }
    if not args.no_cbc:
        runners["pulp+CBC"] = lambda t, i: run_pulp(t, i, "cbc")
    ok = True
    print(
        f"{'model':5} {'method':15} {'build s':>8} {'total s':>8} {'vs direct':>9} {'objective':>18}"
    )
    for integer in (False,) if args.no_milp else (False, True):
        kind = "MILP" if integer else "LP"
        base = None
        for name, run in runners.items():
            if name == "direct, LP 1st" and not integer:
                continue  # the same as the direct LP
            value, build, total = run(tables, integer)
            base = base or (value, total)
            tol = 2 * args.mip_gap if integer else 1e-6
            solved = np.isfinite(value)
            agree = (
                not solved or not np.isfinite(base[0]) or abs(value - base[0]) <= tol * abs(base[0])
            )
            ok &= agree
            ratio = total / base[1]
            note = "" if agree else "  DISAGREES"
            note = note if solved else f"  time limit {args.time_limit:g} s"
            print(
                f"{kind:5} {name:15} {build:8.2f} {total:8.2f} {ratio:8.2f}x {value:18,.2f}{note}"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
