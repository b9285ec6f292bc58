"""DEA benchmark: ``solve_dea`` against a one-LP-per-unit HiGHS loop, timed in the same run.

    python bench/dea.py [--sizes 10000,30000,100000] [--dims 2,3] [--sample 500]
                        [--naive-full-max 0] [--threads 2] [--seed 0]

For each number of inputs = outputs d (2 x 2 and 3 x 3) and each size N, seeded random
units (inputs U(10, 100); total output a Cobb-Douglas frontier times a half-normal
inefficiency, spread over the outputs by a random mix) are scored VRS, input oriented:

* **fast**: ``solve_dea`` (frame search, facet walk, process pool; see
  ``src/costperf/benchmark/dea/scale.py``), timed in full, wall and CPU (this process
  and its workers);
* **naive**: ``naive_scores``, a fresh HiGHS LP per unit against all N units (no
  screening, no warm start, one process), timed on a seeded random sample of
  ``--sample`` units (all units when N is that small, or when N <= --naive-full-max).

The script asserts that the fast scores equal the naive ones on the sample to 1e-6 and
prints the largest difference. Where the naive loop ran on a sample only, its full time
is extrapolated as (sample time / sample size) x N (each naive LP costs about the same:
same columns, no warm start) and the ratio is marked "extrapolated".
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from costperf.benchmark.frontier import naive_scores, solve_dea  # noqa: E402

TOLERANCE = 1e-6  # fast and naive scores must agree to this on the sample
SNAP = 1e-7  # solve_dea reports scores within this of 1 as exactly 1


def generate(n: int, seed: int = 0, dims: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded units with ``dims`` inputs U(10, 100) and ``dims`` outputs.

    Total output ``10 f(x) exp(-|N(0, 0.3)|)`` with f Cobb-Douglas (2 x 2: exponents
    0.35, 0.45; 3 x 3: 0.3, 0.25, 0.2), split over the outputs by a direction on the
    positive quarter circle / octant sphere kept 0.1 rad away from the axes.
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(10, 100, size=(n, dims))
    exponents = [0.35, 0.45] if dims == 2 else [0.3, 0.25, 0.2]
    frontier = np.prod(x ** np.array(exponents), axis=1)
    total = 10 * frontier * np.exp(-np.abs(rng.normal(0, 0.3, n)))
    a = rng.uniform(0.1, np.pi / 2 - 0.1, n)
    if dims == 2:
        mix = np.c_[np.cos(a), np.sin(a)]
    else:
        b = rng.uniform(0.1, np.pi / 2 - 0.1, n)
        mix = np.c_[np.cos(a) * np.cos(b), np.cos(a) * np.sin(b), np.sin(a)]
    y = total[:, None] * mix
    index = pd.Index([f"u{i}" for i in range(n)], name="unit")
    return (
        pd.DataFrame(x, columns=[f"x{i + 1}" for i in range(dims)], index=index),
        pd.DataFrame(y, columns=[f"y{i + 1}" for i in range(dims)], index=index),
    )


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the pool's workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_one(n: int, dims: int, args: argparse.Namespace) -> dict:
    inputs, outputs = generate(n, args.seed, dims)
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    fast = solve_dea(inputs, outputs, rts="vrs", orientation="in", threads=args.threads)
    t_fast, cpu_fast = time.perf_counter() - t0, cpu_seconds() - cpu0
    info = fast.attrs["dea"]
    full = n <= max(args.sample, args.naive_full_max)
    rng = np.random.default_rng(args.seed + 1)
    sample = np.arange(n) if full else np.sort(rng.choice(n, size=args.sample, replace=False))
    t0 = time.perf_counter()
    naive = naive_scores(
        inputs.to_numpy(), outputs.to_numpy(), rts="vrs", orientation="in", units=sample
    )
    t_naive = time.perf_counter() - t0
    naive = np.where(np.abs(naive - 1) < SNAP, 1.0, naive)
    diff = float(np.max(np.abs(fast["efficiency_in"].to_numpy()[sample] - naive)))
    assert diff <= TOLERANCE, f"{dims}x{dims}, N={n}: scores differ by {diff:.3g}"
    naive_total = t_naive / len(sample) * n
    return {
        "dims": f"{dims}x{dims}",
        "N": n,
        "frame": info["frame_size"],
        "fast_s": t_fast,
        "cpu_s": cpu_fast,
        "highs_lps": info["lp_solves"],
        "sample": len(sample),
        "naive_sample_s": t_naive,
        "naive_ms_per_unit": 1e3 * t_naive / len(sample),
        "naive_s": naive_total,
        "naive_is": "measured" if full else "extrapolated",
        "ratio": naive_total / t_fast,
        "max_abs_diff": diff,
    }


HEADER = (
    f"{'dims':>5} {'N':>7} {'frame':>6} {'fast s':>7} {'cpu s':>6} {'HiGHS':>6} "
    f"{'sample':>6} {'naive ms/unit':>13} {'naive s':>8} {'':>12} {'ratio':>7} {'max|diff|':>9}"
)


def line(row: dict) -> str:
    return (
        f"{row['dims']:>5} {row['N']:>7d} {row['frame']:>6d} {row['fast_s']:>7.2f} "
        f"{row['cpu_s']:>6.1f} {row['highs_lps']:>6d} {row['sample']:>6d} "
        f"{row['naive_ms_per_unit']:>13.2f} {row['naive_s']:>8.1f} {row['naive_is']:>12} "
        f"{row['ratio']:>6.0f}x {row['max_abs_diff']:>9.1e}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,30000,100000", help="numbers of units")
    parser.add_argument("--dims", default="2,3", help="inputs = outputs per unit, e.g. 2,3")
    parser.add_argument("--sample", type=int, default=500, help="units the naive loop scores")
    parser.add_argument(
        "--naive-full-max",
        type=int,
        default=0,
        help="run the naive loop on every unit up to this N (default: sample only)",
    )
    parser.add_argument("--threads", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    dims = [int(d) for d in args.dims.split(",") if d.strip()]
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"DEA, VRS, input orientation (seed {args.seed}); {os.cpu_count()} cores, "
        f"load average {load} at start; times in seconds"
    )
    print(
        "fast = solve_dea in full (wall; cpu = this process + workers); naive = a fresh "
        "HiGHS LP per unit against all N units, timed on the sample; ratio = naive / fast"
    )
    print(HEADER, flush=True)
    rows = []
    for d in dims:
        for n in sizes:
            rows.append(run_one(n, d, args))
            print(line(rows[-1]), flush=True)
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"load average at the end: {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
