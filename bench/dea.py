"""DEA benchmark: the fast path of ``solve_dea`` against a naive one-LP-per-unit HiGHS loop.

    python bench/dea.py [--sizes 1000,3000,10000] [--naive-max 10000] [--seed 0]

For each size N, seeded random data (2 inputs, 2 outputs; a Cobb-Douglas frontier with
half-normal inefficiency and a random output mix) is scored with VRS, input orientation
by both methods in the same run. The naive loop builds a fresh HiGHS LP per unit against
all N units (no screening, no warm start, no threads). The script asserts that both give
the same scores and prints a table with times and the speed-up.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from costperf.benchmark.frontier import naive_scores, solve_dea  # noqa: E402

TOLERANCE = 1e-9  # scores must agree to this (both are exact LP optima)


def generate(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded units: inputs U(10, 100); outputs on a circle of radius f(x) * efficiency."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(10, 100, size=(n, 2))
    frontier = x[:, 0] ** 0.35 * x[:, 1] ** 0.45
    total = 10 * frontier * np.exp(-np.abs(rng.normal(0, 0.3, n)))
    angle = rng.uniform(0.1, np.pi / 2 - 0.1, n)
    y = np.c_[total * np.cos(angle), total * np.sin(angle)]
    index = pd.Index([f"u{i}" for i in range(n)], name="unit")
    return (
        pd.DataFrame(x, columns=["x1", "x2"], index=index),
        pd.DataFrame(y, columns=["y1", "y2"], index=index),
    )


def run(sizes: list[int], naive_max: int, seed: int, threads: int | None) -> list[dict]:
    rows = []
    for n in sizes:
        inputs, outputs = generate(n, seed)
        t0 = time.perf_counter()
        fast = solve_dea(inputs, outputs, rts="vrs", orientation="in", threads=threads)
        t_fast = time.perf_counter() - t0
        info = fast.attrs["dea"]
        row = {
            "N": n,
            "fast_s": t_fast,
            "frame": info["frame_size"],
            "lp_solves": info["lp_solves"],
            "naive_s": np.nan,
            "ratio": np.nan,
            "max_abs_diff": np.nan,
        }
        if n <= naive_max:
            t0 = time.perf_counter()
            naive = naive_scores(inputs.to_numpy(), outputs.to_numpy(), rts="vrs", orientation="in")
            row["naive_s"] = time.perf_counter() - t0
            naive = np.where(np.abs(naive - 1) < 1e-7, 1.0, naive)
            diff = float(np.max(np.abs(fast["efficiency_in"].to_numpy() - naive)))
            row["max_abs_diff"] = diff
            row["ratio"] = row["naive_s"] / t_fast
            assert diff <= TOLERANCE, f"N={n}: scores differ by {diff:.3g} > {TOLERANCE:g}"
        rows.append(row)
        print(_line(row), flush=True)
    return rows


def _line(row: dict) -> str:
    naive = "skipped" if np.isnan(row["naive_s"]) else f"{row['naive_s']:9.2f}"
    ratio = "" if np.isnan(row["ratio"]) else f"{row['ratio']:7.1f}x"
    diff = "" if np.isnan(row["max_abs_diff"]) else f"{row['max_abs_diff']:.1e}"
    return (
        f"{row['N']:>7d} {row['fast_s']:9.2f} {naive:>9} {ratio:>8} {diff:>10} "
        f"{row['frame']:>6d} {row['lp_solves']:>9d}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="1000,3000,10000",
        help="comma-separated numbers of units (default 1000,3000,10000)",
    )
    parser.add_argument(
        "--naive-max",
        type=int,
        default=10_000,
        help="skip the naive loop above this N (default 10000)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads for the fast path (default: up to 4 cores)",
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    print(f"DEA, VRS, input orientation, 2 inputs, 2 outputs (seed {args.seed}); times in seconds")
    print(
        f"{'N':>7} {'fast':>9} {'naive':>9} {'ratio':>8} {'max|diff|':>10} {'frame':>6} {'LPs':>9}"
    )
    run(sizes, args.naive_max, args.seed, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
