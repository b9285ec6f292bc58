"""Run every benchmark at moderate sizes (about 2-3 minutes on the 2-core machine).

    python bench/run_all.py [--quick]

Each benchmark runs in its own Python process (so one's memory does not slow the next)
and prints its own table with ratios against its same-run baseline; a benchmark that
fails (e.g. results disagree) makes the exit status non-zero.  ``--quick`` uses small
sizes (a smoke test, under a minute).  For other sizes run each script on its own
(``--help``); see ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHMARKS = {
    "dea": (["--sizes", "1000,3000"], ["--sizes", "300,1000"]),
    "ingest": (
        ["--csv-sizes", "100000,1000000", "--xlsx-sizes", "50000,200000"],
        ["--csv-sizes", "20000", "--xlsx-sizes", "5000"],
    ),
    "unit_costs": (["--sizes", "10000,100000"], ["--sizes", "2000,10000"]),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument(
        "--only",
        default=",".join(BENCHMARKS),
        help=f"comma-separated benchmarks to run (default all: {','.join(BENCHMARKS)})",
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; use: {', '.join(BENCHMARKS)}")
    failed = []
    start = time.perf_counter()
    for name in names:
        options = BENCHMARKS[name][1 if args.quick else 0]
        command = [sys.executable, str(HERE / f"{name}.py"), *options]
        print(f"\n=== {name}: python bench/{name}.py {' '.join(options)}", flush=True)
        t0 = time.perf_counter()
        status = subprocess.run(command, check=False).returncode
        print(f"=== {name}: {time.perf_counter() - t0:.0f} s, exit status {status}", flush=True)
        if status != 0:
            failed.append(name)
    total = time.perf_counter() - start
    print(f"\nall benchmarks: {total:.0f} s" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
