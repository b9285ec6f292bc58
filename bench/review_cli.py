"""A batch review end to end, as a user runs it, against the bare pandas writing floor.

    python bench/review_cli.py                   # 10,000 and 100,000 lines
    python bench/review_cli.py --sizes 100000

``bench/review.py`` times the review itself on a checked book in memory; a user's
``costperf review BOOK --out DIR --records DB`` also reads and checks the book, reads
the standards and writes review.xlsx (four formatted sheets), the CSVs, one form per
project, summary.html / summary.json and the records. For each size, in the same run
and each in its own process (so each peak memory is its own):

* ``costperf review`` (``python -m costperf.cli``; its chart worker's memory not counted): the generated book (``review.make_book``) written as a Parquet
  folder (projects, lines, targets), against the bench's standards (``review.bench_standards``);
* ``floor``: bare pandas on the same files: read the three tables, write the lines and
  the projects to one xlsx (``to_excel``, xlsxwriter, no formats), ``lines.csv`` and
  the lines to SQLite (``to_sql``): the least any tool writing these outputs does.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

FLOOR = """
import sqlite3, sys
import pandas as pd
book, out = sys.argv[1], sys.argv[2]
projects, lines, targets = (pd.read_parquet(f"{book}/{t}.parquet") for t in ("projects", "lines", "targets"))
with pd.ExcelWriter(f"{out}/floor.xlsx", engine="xlsxwriter") as writer:
    projects.to_excel(writer, sheet_name="projects", index=False)
    lines.to_excel(writer, sheet_name="lines", index=False)
lines.to_csv(f"{out}/lines.csv", index=False)
with sqlite3.connect(f"{out}/floor.sqlite") as conn:
    lines.to_sql("lines", conn, index=False)
"""


def write_book(n_lines: int, folder: Path) -> Path:
    """The bench's book of ``n_lines`` lines as a Parquet folder (as a user hands it in)."""
    from review import make_book

    book = make_book(n_lines)
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("projects", "lines", "targets"):
        getattr(book, name).drop(columns=["source_row"], errors="ignore").to_parquet(
            folder / f"{name}.parquet"
        )
    return folder


#: runs a module (``-m NAME``) or a script (PATH) with the rest of argv, then prints its
#: own peak memory on stderr (ru_maxrss of that process alone)
WRAP = """
import resource, runpy, sys
kind, target, *rest = sys.argv[1:]
sys.argv = [target, *rest]
try:
    if kind == "-m":
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        runpy.run_path(target, run_name="__main__")
    code = 0
except SystemExit as done:
    code = done.code or 0
print("PEAK_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def timed(kind: str, target: str, *argv: str) -> tuple[float, float]:
    """Wall seconds and peak memory (MB) of one child process; it must exit 0."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", WRAP, kind, target, *argv], capture_output=True, text=True
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{target} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    peak = [ln for ln in proc.stderr.splitlines() if ln.startswith("PEAK_KB")][-1]
    return wall, int(peak.split()[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    from review import bench_standards

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        standards = bench_standards(root / "standards")
        print(
            f"{'lines':>9} | {'costperf review':>16} | {'floor':>8} | {'ratio':>6} | "
            f"{'peak MB (review / floor)':>24}"
        )
        for n in (int(s) for s in args.sizes.split(",")):
            book = write_book(n, root / f"book-{n}")
            out = root / f"out-{n}"
            floor_out = root / f"floor-{n}"
            floor_out.mkdir()
            script = root / "floor.py"
            script.write_text(FLOOR, encoding="utf-8")
            floor_s, floor_mb = timed("path", str(script), str(book), str(floor_out))
            review_s, review_mb = timed(
                "-m",
                "costperf.cli",
                "review",
                str(book),
                "--standards",
                str(standards),
                "--date",
                "2026-03-01",
                "--out",
                str(out),
                "--records",
                str(root / f"records-{n}.sqlite"),
            )
            forms = sum(1 for _ in (out / "forms").glob("*.html"))  # not font.css
            print(
                f"{n:>9,} | {review_s:>14.1f} s | {floor_s:>6.1f} s | {review_s / floor_s:>5.1f}x | "
                f"{review_mb:>12,.0f} / {floor_mb:,.0f}  [{forms:,} forms]",
                flush=True,
            )


if __name__ == "__main__":
    main()
