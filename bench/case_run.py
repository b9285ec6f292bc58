"""The case run against a bare ``import pandas``: cold (a new process) and warm (in process).

    python bench/case_run.py                   # 5 repeats of each figure
    python bench/case_run.py --repeats 7 --before main   # also time another commit's code

Timed in the same run, each figure beside the bare-pandas floor (issue 14's goal: the
case run within 3x ``python -c "import pandas"``):

* **import pandas**: ``python -c "import pandas"``, a subprocess per repeat;
* **cold run**: ``python -m costperf.cli run cases/sanitation-5-districts --out OUT``
  (records included, a fresh OUT each time), a subprocess per repeat. The font-subset
  cache (``COSTPERF_CACHE_DIR``) and the bytecode cache (``PYTHONPYCACHEPREFIX``,
  ``PYTHONDONTWRITEBYTECODE`` unset) are fresh folders of this benchmark: the first run
  fills them (its figure is shown on its own row), the others read them, as an
  installed costperf reads the bytecode pip compiled (and ``import pandas`` its own);
* **warm run**: the same command run by ``costperf.cli.main`` again and again in one
  process after a first run (imports and in-process memos paid, as in the test suite);
  with ``--before`` the two codes' processes take turns, run by run.

Wall time and CPU time (user + system of the child processes) are medians over the
repeats; the cold runs and the bare imports are interleaved, so load from other
processes falls on both.
With ``--before COMMIT`` the same figures are taken for that commit's code (a temporary
git worktree, its ``src`` first on ``PYTHONPATH``), interleaved too. The summaries of
both are compared with ``bench/summary_equal.py``'s rules.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CASE = REPO / "cases" / "sanitation-5-districts"

WARM = """
import contextlib, io, json, sys, time
from costperf.cli import main
case, out = sys.argv[1], sys.argv[2]
for i, _ in enumerate(sys.stdin):  # one run per line: the bench alternates the codes' runs
    wall, cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["run", case, "--out", f"{out}/warm{i}"])
    assert code == 0, code
    print(json.dumps((time.perf_counter() - wall, time.process_time() - cpu)), flush=True)
"""


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall, CPU of the child, its stdout) of one subprocess."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout


class Code:
    """One tree's code: its environment (``PYTHONPATH``, a cache folder of its own)."""

    def __init__(self, name: str, src: Path, scratch: Path) -> None:
        self.name, self.scratch = name, scratch
        cache, pycache = scratch / "cache", scratch / "pycache"
        # a shell with PYTHONDONTWRITEBYTECODE (this project's sandboxes) would compile
        # every costperf module from source in each cold run (~0.3 s of CPU)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        self.env = {**env, "PYTHONPATH": str(src), "COSTPERF_CACHE_DIR": str(cache),
                    "PYTHONPYCACHEPREFIX": str(pycache)}  # fmt: skip
        self.first: tuple[float, float] | None = None
        self.cold: list[tuple[float, float]] = []
        self.warm: list[tuple[float, float]] = []
        self.runs = 0

    def cold_run(self) -> None:
        out = self.scratch / f"cold{self.runs}"
        self.runs += 1
        argv = [sys.executable, "-m", "costperf.cli", "run", str(CASE), "--out", str(out)]
        wall, cpu, _ = timed(argv, self.env)
        if self.first is None:
            self.first = (wall, cpu)
        else:
            self.cold.append((wall, cpu))

    def start_warm(self) -> subprocess.Popen:
        """The process of the warm runs: one run per line sent (:func:`warm_runs`)."""
        argv = [sys.executable, "-c", WARM, str(CASE), str(self.scratch / "warm")]
        return subprocess.Popen(
            argv, env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def summary(self) -> dict:
        return json.loads((self.scratch / "cold0" / "summary.json").read_text(encoding="utf-8"))


def warm_runs(codes: list[Code], repeats: int) -> None:
    """One process per code: a first run, then the repeats, the codes' runs alternated
    (a burst of load from other processes falls on both, not on one code's runs)."""
    procs = [code.start_warm() for code in codes]
    try:
        for i in range(repeats + 1):
            for code, proc in zip(codes, procs, strict=True):
                proc.stdin.write("run\n")
                proc.stdin.flush()
                line = proc.stdout.readline()
                if not line:
                    raise SystemExit(f"the warm runs of {code.name} failed")
                if i:  # the first: cold
                    code.warm.append(tuple(json.loads(line)))
    finally:
        for proc in procs:
            proc.stdin.close()
            proc.wait()


def median(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def table(floor: tuple[float, float], codes: list[Code], repeats: int) -> str:
    rows = [("`import pandas` (subprocess)", floor)]
    for code in codes:
        tag = f" [{code.name}]" if len(codes) > 1 else ""
        rows.append((f"cold run, empty caches{tag} (1 run)", code.first))
        rows.append((f"cold run{tag} (subprocess)", median(code.cold)))
        rows.append((f"warm run, in process{tag}", median(code.warm)))
    lines = [
        f"medians of {repeats}; ratio = figure / `import pandas` (goal: <= 3x)",
        "",
        "| figure | wall (s) | CPU (s) | ratio wall | ratio CPU |",
        "|:--|--:|--:|--:|--:|",
    ]
    for name, (wall, cpu) in rows:
        lines.append(
            f"| {name} | {wall:.2f} | {cpu:.2f} | {wall / floor[0]:.1f}x | {cpu / floor[1]:.1f}x |"
        )
    return "\n".join(lines)


def worktree(commit: str, folder: Path) -> Path:
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(folder), commit],
        check=True,
        capture_output=True,
    )
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="repeats of each figure")
    parser.add_argument("--before", default=None, help="also time this commit's code")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average at the start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    with tempfile.TemporaryDirectory(prefix="case-run-") as tmp:
        tmp = Path(tmp)
        codes = [Code("this tree", REPO / "src", tmp / "after")]
        tree = None
        if args.before:
            tree = worktree(args.before, tmp / "before-tree")
            codes.insert(0, Code(args.before, tree / "src", tmp / "before"))
        try:
            bare, floor_env = [], {**os.environ}
            for _ in range(args.repeats + 1):  # + 1: each code's first cold run
                bare.append(timed([sys.executable, "-c", "import pandas"], floor_env)[:2])
                for code in codes:
                    code.cold_run()
            warm_runs(codes, args.repeats)
            for _ in codes:
                bare.append(timed([sys.executable, "-c", "import pandas"], floor_env)[:2])
            floor = median(bare)
            print(table(floor, codes, args.repeats))
            if args.before:
                sys.path.insert(0, str(REPO / "bench"))
                from summary_equal import compare

                diffs, only, n = compare(codes[0].summary(), codes[1].summary())
                print(f"\nsummary.json: {n} values compared, {len(diffs)} differ, {len(only)} keys "
                      "on one side only")  # fmt: skip
                for line in diffs[:20] + only[:20]:
                    print("  " + line)
        finally:
            if tree is not None:
                subprocess.run(
                    ["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
                    check=False,
                    capture_output=True,
                )
    load = os.getloadavg()
    print(f"\nload average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
