"""Standards derivation with leave-one-out at a province's scale, and the case run.

    python bench/derive.py                                  # 700, 2,800, 10,000 contracts
    python bench/derive.py --sizes 70,700 --naive-max 700   # a quick look
    python bench/derive.py --sizes 700 --run-reps 7         # the case-run section too

(a) The sanitation case scaled (its own generator, ``cases/sanitation-5-districts/
    generate.py``, seeded) to N contracts over the same five districts and four road
    grades, one padded contract kept. For each N, in the same run:

    * ``costperf standards derive`` on the scaled case (every rule of case.toml, their
      comparison and leave-one-out), a subprocess timed from start to exit;
    * the leave-one-out table alone, in process: the fast path (each rule's
      ``drop_grid``) and, up to ``--naive-max`` contracts, the naive one
      (``naive=True``: each rule recomputed per drop, the code before issue 14). Both
      tables must agree to 1e-9 (relative), value by value.

    The growth exponent is log(t(N_last) / t(N_first)) / log(N_last / N_first).
(b) ``costperf run cases/sanitation-5-districts`` against a bare ``python -c "import
    pandas"``, both subprocesses, interleaved, ``--run-reps`` times; medians.

Every figure is printed in one table, as a ratio to its baseline timed in the same run.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CASE = REPO / "cases" / "sanitation-5-districts"
sys.path.insert(0, str(REPO / "src"))

TOLERANCE = 1e-9
CLI = "import sys; from costperf.cli import main; sys.exit(main())"


def _generator():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("sanitation_generate", CASE / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def scaled_case(n: int, folder: Path, seed: int) -> Path:
    """The sanitation case with ``n`` 2025 contracts (n / 5 per district), seeded."""
    gen = _generator()
    rng = np.random.default_rng(seed)
    per_district = max(1, round(n / len(gen.DISTRICTS)))
    padded = {"HW-JS-2025-003": 1.9}
    projects, lines, outputs = gen.generate(rng, 2025, per_district, "HW", inflate=padded)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data").mkdir(exist_ok=True)
    shutil.copy(CASE / "case.toml", folder / "case.toml")
    shutil.copytree(CASE / "optimize", folder / "optimize", dirs_exist_ok=True)  # read by
    # every command that loads the case ([optimize] tables), unused by the derivation
    for name in ("requests.csv", "request_lines.csv", "request_outputs.csv"):
        shutil.copy(CASE / "data" / name, folder / "data" / name)
    kw = {"index": False, "encoding": "utf-8-sig"}
    projects.rename(columns=gen.ZH_PROJECTS).to_csv(folder / "data" / "projects.csv", **kw)
    lines.rename(columns=gen.ZH_LINES).to_csv(folder / "data" / "line_items.csv", **kw)
    outputs.to_csv(folder / "data" / "outputs.csv", **kw)
    return folder


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    return env


def timed(command: list[str]) -> tuple[float, float]:
    """Wall and CPU time of a subprocess [s] (CPU: user + system, steadier than wall
    time on a shared machine); it must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=_env(), check=False)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        msg = f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}"
        raise RuntimeError(msg)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return elapsed, cpu


def loo_tables(case: Path, naive: bool) -> tuple[float, object, object]:
    """Leave-one-out of every rule the case derives: seconds, values, summary."""
    import patsy  # noqa: F401 - imported before the clock starts, as in a warm process
    import scipy.optimize  # noqa: F401
    import statsmodels.api  # noqa: F401

    from costperf.case import load_case
    from costperf.pipeline import load_case_data
    from costperf.standards.derive import leave_one_out_values
    from costperf.standards.derive.sensitivity import summarise_drops

    config = load_case(case)
    units = load_case_data(config).peer_units
    dims, settings = list(config.units.dimensions), config.standard
    params = dict(settings.params)
    t0, c0 = time.perf_counter(), time.process_time()
    values = leave_one_out_values(units, dims, settings.rules, naive=naive, **params)
    summary = summarise_drops(units, dims, values, **params)
    return (time.perf_counter() - t0, time.process_time() - c0), values, summary


def max_rel_diff(fast, naive, dims: list[str]) -> float:  # noqa: ANN001
    """Largest relative difference of two leave-one-out tables (they must match 1:1)."""
    merged = fast.merge(naive, on=["rule", *dims, "dropped"], how="outer", validate="1:1")
    a, b = merged["value_x"].to_numpy(float), merged["value_y"].to_numpy(float)
    if len(merged) != len(fast) or len(merged) != len(naive) or (np.isnan(a) != np.isnan(b)).any():
        return math.inf
    ok = ~np.isnan(a)
    return float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1e-300), initial=0.0))


def summary_diff(fast, naive, naive_values) -> float:  # noqa: ANN001
    """Largest relative difference of the leave-one-out summaries' numbers; a different
    most influential peer counts only if its drop does not tie (to 1e-9) with the
    naive one's (equal changes: either is the most influential)."""
    worst = 0.0
    for column in ("value", "loo_min", "loo_max", "max_abs_change", "value_without_it"):
        a, b = fast[column].to_numpy(float), naive[column].to_numpy(float)
        scale = np.maximum(np.abs(fast["value"].to_numpy(float)), 1e-300)
        worst = max(worst, float(np.nanmax(np.abs(a - b) / scale, initial=0.0)))
    differ = fast["most_influential_peer"].to_numpy() != naive["most_influential_peer"].to_numpy()
    for i in np.flatnonzero(differ):
        row = fast.iloc[i]
        mine = naive_values[
            (naive_values["rule"] == row["rule"])
            & (naive_values["road_grade"] == row["road_grade"])
            & (naive_values["dropped"] == row["most_influential_peer"])
        ]["value"]
        change = abs(float(mine.iloc[0]) - row["value"]) if len(mine) else math.inf
        worst = max(worst, abs(change - naive.iloc[i]["max_abs_change"]) / abs(row["value"]))
    return worst


def bench_derive(sizes: list[int], naive_max: int, seed: int, root: Path) -> list[dict]:
    rows = []
    for n in sizes:
        case = scaled_case(n, root / f"case-{n}", seed)
        derive, derive_cpu = timed(
            [sys.executable, "-c", CLI, "standards", "derive", str(case), "--out", str(case / "o")]
        )
        (fast, fast_cpu), values, summary = loo_tables(case, naive=False)
        row = {"N": len(values["dropped"].unique()), "derive": derive, "loo": fast}
        row.update(derive_cpu=derive_cpu, loo_cpu=fast_cpu)
        if n <= naive_max:
            (slow, slow_cpu), naive_values, naive_summary = loo_tables(case, naive=True)
            row.update(naive=slow, naive_cpu=slow_cpu)
            row["diff"] = max_rel_diff(values, naive_values, ["road_grade"])
            row["summary_diff"] = summary_diff(summary, naive_summary, naive_values)
        rows.append(row)
        print(f"  N = {row['N']}: {row}", flush=True)
    return rows


def bench_run(reps: int) -> tuple[float, float, float, float]:
    """Median wall time of the case run and of a bare ``import pandas``, then their
    median CPU times [s]."""
    out = Path(tempfile.mkdtemp(prefix="costperf-run-"))
    run, bare = [], []
    try:
        for _ in range(reps):
            bare.append(timed([sys.executable, "-c", "import pandas"]))
            command = [sys.executable, "-c", CLI, "run", str(CASE), "--out", str(out / "o")]
            run.append(timed(command))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    median = lambda rows, k: statistics.median(r[k] for r in rows)  # noqa: E731
    return median(run, 0), median(bare, 0), median(run, 1), median(bare, 1)


def exponent(rows: list[dict], key: str) -> float:
    a, b = rows[0], rows[-1]
    if len(rows) < 2 or a["N"] == b["N"]:
        return math.nan
    return math.log(b[key] / a[key]) / math.log(b["N"] / a["N"])


def report(rows: list[dict], run: tuple[float, float] | None) -> bool:
    """Print the one table of figures and ratios; whether every check passed."""
    print(
        f"\n{'figure':<46} {'wall (s)':>9} {'CPU (s)':>8} {'baseline wall':>14} "
        f"{'baseline CPU':>13} {'ratio wall':>11} {'ratio CPU':>10}"
    )
    ok = True
    for row in rows:
        n = f"{row['N']:,}"
        line = f"standards derive, N = {n:>6} (subprocess)"
        print(f"{line:<46} {row['derive']:>9.2f} {row['derive_cpu']:>8.2f}")
        if "naive" in row:
            line = f"leave-one-out,    N = {n:>6}; base: naive"
            print(
                f"{line:<46} {row['loo']:>9.2f} {row['loo_cpu']:>8.2f} {row['naive']:>14.2f} "
                f"{row['naive_cpu']:>13.2f} {row['naive'] / row['loo']:>10.1f}x "
                f"{row['naive_cpu'] / row['loo_cpu']:>9.1f}x"
            )
            print(f"{'  max relative difference, fast vs naive':<46} {row['diff']:>9.1e}")
            print(f"{'  the same in the summary table':<46} {row['summary_diff']:>9.1e}")
            ok &= row["diff"] <= TOLERANCE and row["summary_diff"] <= TOLERANCE
        else:
            line = f"leave-one-out,    N = {n:>6} (naive skipped)"
            print(f"{line:<46} {row['loo']:>9.2f} {row['loo_cpu']:>8.2f}")
    if len(rows) > 1:
        n0, n1 = f"{rows[0]['N']:,}", f"{rows[-1]['N']:,}"
        size = rows[-1]["N"] / rows[0]["N"]
        for key, what in (("derive", "standards derive"), ("loo", "leave-one-out")):
            line = f"{what} {n1} / {n0} (size x{size:.1f})"
            wall, cpu = rows[-1][key] / rows[0][key], rows[-1][f"{key}_cpu"] / rows[0][f"{key}_cpu"]
            print(
                f"{line:<46} {wall:>8.1f}x {cpu:>7.1f}x {'exponent':>14} "
                f"{exponent(rows, key):>13.2f} {exponent(rows, key + '_cpu'):>11.2f} (CPU)"
            )
    if run is not None:
        line = "costperf run, 70-contract case; base: pandas"
        print(
            f"{line:<46} {run[0]:>9.2f} {run[2]:>8.2f} {run[1]:>14.2f} {run[3]:>13.2f} "
            f"{run[0] / run[1]:>10.2f}x {run[2] / run[3]:>9.2f}x"
        )
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="700,2800,10000", help="contracts (default 700,2800,10000)"
    )
    parser.add_argument(
        "--naive-max", type=int, default=700, help="naive leave-one-out up to this N (700)"
    )
    parser.add_argument("--run-reps", type=int, default=5, help="case runs (0: skip; default 5)")
    parser.add_argument("--seed", type=int, default=20251)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    print(f"cpus: {os.cpu_count()}; python {sys.version.split()[0]}; seed {args.seed}")
    root = Path(tempfile.mkdtemp(prefix="costperf-derive-"))
    try:
        rows = bench_derive(sizes, args.naive_max, args.seed, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    run = bench_run(args.run_reps) if args.run_reps > 0 else None
    ok = report(rows, run)
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
