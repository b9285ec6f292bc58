"""Every number in summary.json equal before and after a change, on a case's data.

    python bench/summary_equal.py                      # HEAD~1 against the work tree
    python bench/summary_equal.py --before 73a570a     # a given commit
    python bench/summary_equal.py A/summary.json B/summary.json

With a commit, the case is run by that commit's code (a temporary git worktree, run
with its own ``src`` first on ``PYTHONPATH``) and by the work tree's, each in its own
process. Every number and text in the two summaries is compared (run ids, paths, the
version string and the optimiser's timings excepted); keys only one side has are
listed, not failed, since a change may add figures. Exit 1 when a value differs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VOLATILE = {"run_id", "path", "costperf_version", "published_standard"}
VOLATILE |= {"build_seconds", "solve_seconds"}  # the optimiser's timings


def flatten(value: object, prefix: str = "") -> dict[str, object]:
    """``{"a.b[0].c": leaf}`` for every leaf; lists of records keyed by position."""
    out: dict[str, object] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            if key in VOLATILE:
                continue
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{i}]"))
    else:
        out[prefix] = value
    return out


def same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, str) and isinstance(b, str):
        try:  # JSON text inside a field (parameters): compare parsed
            return json.loads(a) == json.loads(b)
        except ValueError:
            return a == b
    return a == b


def compare(before: dict, after: dict) -> tuple[list[str], list[str], int]:
    """(differences, keys on one side only, values compared)."""
    a, b = flatten(before), flatten(after)
    diffs = [f"{k}: {a[k]!r} -> {b[k]!r}" for k in a.keys() & b.keys() if not same(a[k], b[k])]
    only = [f"only before: {k}" for k in a.keys() - b.keys()]
    only += [f"only after: {k}" for k in b.keys() - a.keys()]
    return sorted(diffs), sorted(only), len(a.keys() & b.keys())


def run_case(src: Path, case: Path, out: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    code = (
        "import sys; from costperf.cli import main; "
        f"sys.exit(main(['run', {str(case)!r}, '--out', {str(out)!r}, '--no-records']))"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="two summary.json files")
    parser.add_argument("--before", default="HEAD~1", help="commit of the 'before' code")
    parser.add_argument("--case", type=Path, default=REPO / "cases" / "sanitation-5-districts")
    args = parser.parse_args()
    if len(args.files) == 2:
        before, after = (json.loads(p.read_text(encoding="utf-8")) for p in args.files)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            tree = Path(tmp) / "before"
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), args.before],
                check=True,
                capture_output=True,
            )
            try:
                before = run_case(tree / "src", args.case, Path(tmp) / "out-before")
            finally:
                subprocess.run(
                    ["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
                    check=False,
                    capture_output=True,
                )
            after = run_case(REPO / "src", args.case, Path(tmp) / "out-after")
    diffs, only, n = compare(before, after)
    print(f"{n} values compared, {len(diffs)} differ, {len(only)} keys on one side only")
    for line in diffs[:50] + only[:50]:
        print("  " + line)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
