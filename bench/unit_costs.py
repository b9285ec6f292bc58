"""Unit-cost benchmark: ``unit_table``/``group_unit_costs`` and ``decompose_gap`` vs baselines.

    python bench/unit_costs.py [--sizes 10000,100000] [--naive-max 100000] [--seed 0]

For each size N (projects), seeded typed frames as the pipeline has them after reading:
projects (district, road grade, cleaners), 8-16 line items per project (about 12; cost
elements, amounts) and two outputs per project (保洁面积, 日清扫频次). In the same run:

(a) ``unit_table`` (per-element costs, shares, output, unit cost, two driver
    expressions) and ``group_unit_costs`` by district x road grade, against the bare
    pandas floor: a groupby sum of amounts divided by the output (per project), and
    groupby sums of cost and output (per group).  Unit costs must agree to 1e-9
    (relative).
(b) ``decompose_gap`` of N units with 4 drivers against their peer median, LMDI additive
    and Shapley, against a naive per-unit Python loop written here (the textbook
    formulas: the logarithmic mean weight, and the average over all 4! orders of
    switching drivers).  Effects must agree to 1e-9 (absolute; unit costs are a few yuan
    per m2).

Prints tables of times and ratios (baseline time / costperf time for (b); costperf time /
floor time for (a)).
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from costperf.decompose.gap import decompose_gap, peer_reference  # noqa: E402
from costperf.decompose.unit_costs import group_unit_costs, unit_table  # noqa: E402
from costperf.schemas import COST_ELEMENTS  # noqa: E402

TOLERANCE = 1e-9
_NAMES = "黄浦徐汇长宁静安普陀虹口杨浦闵行宝山嘉定浦东金山松江青浦奉贤崇明"
DISTRICTS = [f"{_NAMES[i : i + 2]}区" for i in range(0, len(_NAMES), 2)]  # 16 districts
GRADES = ["一级", "二级", "三级", "四级"]
GAP_DRIVERS = ["wage_per_cleaner", "staffing", "sweeps_per_day", "overhead_factor"]
AREA, SWEEPS = "保洁面积", "日清扫频次"


def generate(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Seeded typed projects, line items (8-16 per project) and outputs (2 per project)."""
    rng = np.random.default_rng(seed)
    ids = np.char.add("XM2026", np.char.zfill(np.arange(n).astype(str), 7)).astype(object)
    projects = pd.DataFrame(
        {
            "project_id": pd.Series(ids, dtype=object),
            "district": pd.Series(rng.choice(DISTRICTS, n), dtype=object),
            "road_grade": pd.Series(rng.choice(GRADES, n), dtype=object),
            "cleaners": rng.integers(5, 200, n).astype(float),
            "source_row": np.arange(n) + 2,
        }
    )
    per_project = rng.integers(8, 17, n)
    owner = np.repeat(np.arange(n), per_project)
    m = len(owner)
    elements = np.array(list(COST_ELEMENTS), dtype=object)
    weights = np.array([0.55, 0.08, 0.1, 0.07, 0.06, 0.05, 0.06, 0.03])
    lines = pd.DataFrame(
        {
            "project_id": pd.Series(ids[owner], dtype=object),
            "line_no": (np.arange(m) - np.repeat(np.cumsum(per_project) - per_project, per_project))
            + 1.0,
            "cost_element": pd.Series(rng.choice(elements, m, p=weights), dtype=object),
            "amount": np.round(rng.lognormal(11, 1.2, m), 2),
            "source_row": np.arange(m) + 2,
        }
    )
    area = np.round(rng.uniform(2e4, 2e6, n), 1)
    sweeps = rng.integers(1, 5, n).astype(float)
    outputs = pd.DataFrame(
        {
            "project_id": pd.Series(np.repeat(ids, 2), dtype=object),
            "indicator": pd.Series(np.tile([AREA, SWEEPS], n), dtype=object),
            "target": np.c_[area, sweeps].ravel(),
            "actual": np.c_[area, sweeps].ravel(),
            "source_row": np.arange(2 * n) + 2,
        }
    )
    return projects, lines, outputs


def costperf_units(projects, lines, outputs):
    table = unit_table(
        projects,
        lines,
        outputs,
        output_indicator=AREA,
        variables={"area_m2": AREA, "sweeps_per_day": SWEEPS},
        drivers={
            "wage_per_cleaner": "cost_personnel / cleaners",
            "per_sweep": "unit_cost / sweeps_per_day",
        },
    )
    return table


def floor_units(projects, lines, outputs):
    """The bare pandas floor: total cost per project / output quantity."""
    total = lines.groupby("project_id", sort=False)["amount"].sum()
    area = outputs.loc[outputs["indicator"] == AREA].set_index("project_id")["actual"]
    table = projects.set_index("project_id")
    table = table.assign(total_cost=total, output_quantity=area)
    table["unit_cost"] = table["total_cost"] / table["output_quantity"]
    return table


def floor_groups(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    sums = table.groupby(by, sort=True)[["total_cost", "output_quantity"]].sum()
    sums["unit_cost"] = sums["total_cost"] / sums["output_quantity"]
    return sums


def max_rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert np.array_equal(np.isnan(a), np.isnan(b)), "missing values differ"
    ok = ~np.isnan(a)
    return float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(1.0, np.abs(b[ok]))))


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - t0, result


def bench_units(sizes: list[int], seed: int) -> list[dict]:
    rows = []
    by = ["district", "road_grade"]
    for n in sizes:
        projects, lines, outputs = generate(n, seed)
        t_floor, floor = timed(floor_units, projects, lines, outputs)
        t_fast, table = timed(costperf_units, projects, lines, outputs)
        t_gfloor, gfloor = timed(floor_groups, floor, by)
        t_group, groups = timed(group_unit_costs, table, by)
        aligned = floor.loc[table["project_id"]]
        diff = max(
            max_rel_diff(table["total_cost"], aligned["total_cost"]),
            max_rel_diff(table["unit_cost"], aligned["unit_cost"]),
        )
        gdiff = max_rel_diff(
            groups.set_index(by)["unit_cost"].loc[gfloor.index], gfloor["unit_cost"]
        )
        assert len(table) == len(floor) == n and len(groups) == len(gfloor)
        assert diff <= TOLERANCE, f"N={n}: unit costs differ by {diff:.3g} (relative)"
        assert gdiff <= TOLERANCE, f"N={n}: group unit costs differ by {gdiff:.3g} (relative)"
        row = {
            "N": n,
            "lines": len(lines),
            "floor": t_floor,
            "unit_table": t_fast,
            "ratio": t_fast / t_floor,
            "group_floor": t_gfloor,
            "group_unit_costs": t_group,
            "group_ratio": t_group / t_gfloor,
            "diff": max(diff, gdiff),
        }
        rows.append(row)
        print(
            f"{n:>8,d} {len(lines):>10,d} {t_floor:8.3f} {t_fast:11.3f} {row['ratio']:7.1f}x "
            f"{t_gfloor:12.4f} {t_group:17.4f} {row['group_ratio']:7.1f}x {row['diff']:9.1e}",
            flush=True,
        )
    return rows


# ---------------------------------------------------------------------------
# gap decomposition: naive per-unit loops
# ---------------------------------------------------------------------------


def gap_units(n: int, seed: int = 0) -> pd.DataFrame:
    """Seeded units with 4 positive drivers whose product is a unit cost of a few yuan/m2."""
    rng = np.random.default_rng(seed + 7)
    return pd.DataFrame(
        {
            "project_id": np.char.add("u", np.char.zfill(np.arange(n).astype(str), 7)).astype(
                object
            ),
            "wage_per_cleaner": rng.lognormal(np.log(70_000), 0.15, n),  # yuan / person-year
            "staffing": rng.lognormal(np.log(2e-5), 0.3, n),  # person-years / m2 / sweep
            "sweeps_per_day": rng.integers(1, 5, n).astype(float),
            "overhead_factor": rng.uniform(1.2, 1.8, n),
        }
    )


def naive_lmdi(units: pd.DataFrame, reference: dict[str, float], drivers: list[str]):
    """LMDI-I additive, one unit at a time: effect_k = L(V1, V0) ln(x1_k / x0_k)."""
    x0 = [reference[d] for d in drivers]
    v0 = math.prod(x0)
    rows = []
    for unit, *x1 in units[["project_id", *drivers]].itertuples(index=False, name=None):
        v1 = math.prod(x1)
        weight = v1 if v1 == v0 else (v1 - v0) / (math.log(v1) - math.log(v0))
        for name, a, b in zip(drivers, x1, x0, strict=True):
            rows.append((unit, name, weight * math.log(a / b)))
    return pd.DataFrame(rows, columns=["unit", "driver", "effect"])


def naive_shapley(units: pd.DataFrame, reference: dict[str, float], drivers: list[str]):
    """Shapley effects, one unit at a time: average over all orders of switching drivers."""
    x0 = [reference[d] for d in drivers]
    k = len(drivers)
    orders = list(itertools.permutations(range(k)))
    rows = []
    for unit, *x1 in units[["project_id", *drivers]].itertuples(index=False, name=None):
        effects = [0.0] * k
        for order in orders:
            current = list(x0)
            value = math.prod(current)
            for j in order:
                current[j] = x1[j]
                new = math.prod(current)
                effects[j] += new - value
                value = new
        for name, e in zip(drivers, effects, strict=True):
            rows.append((unit, name, e / len(orders)))
    return pd.DataFrame(rows, columns=["unit", "driver", "effect"])


def bench_gap(sizes: list[int], seed: int, naive_max: int) -> list[dict]:
    rows = []
    naive = {"lmdi_additive": naive_lmdi, "shapley": naive_shapley}
    for n in sizes:
        units = gap_units(n, seed)
        reference = peer_reference(units, GAP_DRIVERS, statistic="median")
        for method, slow in naive.items():
            t_fast, fast = timed(decompose_gap, units, reference, GAP_DRIVERS, method=method)
            row = {"N": n, "method": method, "fast": t_fast, "naive": np.nan, "diff": np.nan}
            gap_sum = fast.groupby("unit", sort=False)["effect"].sum().to_numpy()
            gaps = fast.groupby("unit", sort=False)["gap"].first().to_numpy()
            row["sum_err"] = float(np.max(np.abs(gap_sum - gaps)))
            if n <= naive_max:
                t_naive, base = timed(slow, units, reference.to_dict(), GAP_DRIVERS)
                assert (fast["unit"].to_numpy() == base["unit"].to_numpy()).all()
                assert (fast["driver"].to_numpy() == base["driver"].to_numpy()).all()
                diff = float(np.max(np.abs(fast["effect"].to_numpy() - base["effect"].to_numpy())))
                assert diff <= TOLERANCE, f"N={n} {method}: effects differ by {diff:.3g}"
                row.update(naive=t_naive, diff=diff)
            row["ratio"] = row["naive"] / t_fast
            rows.append(row)
            naive_text = "skipped" if np.isnan(row["naive"]) else f"{row['naive']:9.3f}"
            ratio = "" if np.isnan(row["ratio"]) else f"{row['ratio']:7.1f}x"
            diff_text = "" if np.isnan(row["diff"]) else f"{row['diff']:.1e}"
            print(
                f"{n:>8,d} {method:>14} {t_fast:9.3f} {naive_text:>9} {ratio:>8} "
                f"{diff_text:>10} {row['sum_err']:13.1e}",
                flush=True,
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="10000,100000",
        help="comma-separated numbers of projects / units (default 10000,100000)",
    )
    parser.add_argument(
        "--naive-max",
        type=int,
        default=100_000,
        help="skip the naive gap loops above this N (default 100000)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    print(
        f"Unit costs per project and per district x road grade (seed {args.seed}); times in "
        "seconds; ratio = costperf / pandas floor"
    )
    print(
        f"{'N':>8} {'lines':>10} {'floor':>8} {'unit_table':>11} {'ratio':>8} "
        f"{'group floor':>12} {'group_unit_costs':>17} {'ratio':>8} {'max rel':>9}"
    )
    bench_units(sizes, args.seed)
    print(
        f"\nGap decomposition, 4 drivers vs the peer median (seed {args.seed}); times in "
        "seconds; ratio = naive loop / decompose_gap"
    )
    print(
        f"{'N':>8} {'method':>14} {'fast':>9} {'naive':>9} {'ratio':>8} {'max|diff|':>10} "
        f"{'max|sum-gap|':>13}"
    )
    bench_gap(sizes, args.seed, args.naive_max)
    return 0


if __name__ == "__main__":
    sys.exit(main())
