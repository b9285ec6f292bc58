"""Batch review at scale: costperf's review against a bare pandas floor and a naive loop.

    python bench/review.py                      # 10k, 100k, 1M lines (10 lines a project)
    python bench/review.py --sizes 10000,100000 --naive 2000
    python bench/review.py --workers 1          # without the processes engine beside
    python bench/review.py --dask               # also Dask throughput at 1M and 10M (Parquet)

A generated book mixes meeting, training, travel (itemised and whole trips) and
office-equipment lines, lines with no standard and unit-cost projects (one standard
cell per district and road grade: 1,250 x 4 = 5,000 rows), with dates over several
table versions (the shipped tables plus uprated versions from 2025 and 2026).  In the
same process, for each size:

* ``review``: :func:`costperf.review.batch.engine.review_book` on the checked book;
* ``floor``: one merge of the lines with their standard rows, the capped arithmetic and
  the group sums per project (pandas, categorical keys);
* ``naive``: a per-row loop (``iterrows`` and a boolean filter of the standards per row)
  on a sample, scaled to the size;
* ``--engine processes`` (``--workers``, default 2; 1: not run): the same review over
  that many forked processes (:func:`costperf.review.batch.parallel.review_book_processes`,
  its threshold lowered to 0), in a process of its own: wall time, CPU of the parent and
  of its children, peak memory of the parent and of the largest child (``ru_maxrss`` of
  ``RUSAGE_CHILDREN`` is the largest child's, not a sum; the children share the parent's
  pages until they write them, so parent + workers x largest child is an upper bound).
  Its result must equal the single process's (a hash of every table and the totals).

Each size runs in its own process so its peak memory (``ru_maxrss``) is its own.  The
growth exponent is log(t_1M / t_10k) / log(100): 1 means linear in lines.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

DISTRICTS = 1250
GRADES = ["一级", "二级", "三级", "四级"]
CITIES = [
    ("北京", "厅局级"),
    ("上海", "其他人员"),
    ("广州", "厅局级"),
    ("大连", "其他人员"),
    ("海口", "其他人员"),
    ("青岛", "厅局级"),
    ("成都", "其他人员"),
]
ITEMS = ["台式计算机", "便携式计算机", "办公桌", "办公椅", "文件柜"]


def bench_standards(folder: Path) -> Path:
    """The shipped tables, uprated versions from 2025/2026, and a 5,000-cell unit-cost table."""
    from costperf.standards import (
        package_standards_dir,
        read_standards,
        seal_table,
        uprate_table,
        write_table_version,
    )

    folder.mkdir(parents=True, exist_ok=True)
    for path in package_standards_dir().iterdir():
        if path.suffix in (".toml", ".csv"):
            (folder / path.name).write_bytes(path.read_bytes())
    standards = read_standards(folder)
    for table, when in (
        ("travel-lodging", "2025-01-01"),
        ("meeting-fee", "2026-01-01"),
        ("training-fee", "2025-07-01"),
        ("office-equipment", "2026-01-01"),
    ):
        header, rows = uprate_table(standards, table, index="1.05", effective_from=when)
        toml, _ = write_table_version(header, rows, folder)
        seal_table(toml)
    cells = pd.DataFrame(
        [
            (
                f"D{d:04d}",
                g,
                "unit_cost",
                round(6 + 10 * ((d * 7919) % 997) / 997 + 3 * (3 - i), 2),
                "元/m2",
            )
            for d in range(DISTRICTS)
            for i, g in enumerate(GRADES)
        ],
        columns=["district", "road_grade", "item", "value", "unit"],
    )
    header = {
        "table_id": "bench-uc",
        "version": 1,
        "status": "draft",
        "kind": "unit_cost",
        "title": "基准测试单位成本标准",
        "issuer": "bench",
        "class_of_matter": "环卫保洁",
        "effective_from": pd.Timestamp("2024-01-01").date(),
        "source": {"method": "bench", "note": "generated", "data_hash": "bench"},
        "dimensions": {
            "district": {"label_zh": "区域", "values": sorted(cells["district"].unique())},
            "road_grade": {"label_zh": "道路等级", "values": GRADES},
        },
        "items": {"unit_cost": {"label_zh": "单位成本"}},
    }
    toml, _ = write_table_version(header, cells.astype(str), folder, stem="bench-uc-v1")
    seal_table(toml)
    return folder


def make_book(n_lines: int, seed: int = 1):
    """A checked request book of ``n_lines`` lines in ``n_lines / 10`` projects."""
    from costperf.review.batch.book import RequestBook, check_book

    rng = np.random.default_rng(seed)
    n_projects = max(n_lines // 10, 1)
    pid = np.array([f"P{i:07d}" for i in range(n_projects)], dtype=object)
    uc = rng.random(n_projects) < 0.05
    projects = pd.DataFrame(
        {
            "project_id": pid,
            "department": pd.Series(rng.integers(0, 40, n_projects))
            .map(lambda d: f"部门{d:02d}")
            .to_numpy(dtype=object),
            "class_of_matter": np.where(uc, "环卫保洁", None).astype(object),
            "district": np.where(
                uc,
                pd.Series(rng.integers(0, DISTRICTS, n_projects)).map(lambda d: f"D{d:04d}"),
                None,
            ).astype(object),
            "road_grade": np.where(
                uc, np.array(GRADES, dtype=object)[rng.integers(0, 4, n_projects)], None
            ).astype(object),
        }
    )
    owner = np.sort(rng.integers(0, n_projects, n_lines))
    line_no = np.arange(n_lines) - np.searchsorted(owner, owner) + 1
    kind = rng.choice(6, n_lines, p=[0.2, 0.2, 0.25, 0.1, 0.15, 0.1])
    kind = np.where(uc[owner], 5, kind)  # unit-cost projects: contract lines
    n = n_lines
    obj = lambda: np.full(n, None, dtype=object)  # noqa: E731
    nan = lambda: np.full(n, np.nan)  # noqa: E731
    cols = {
        c: obj()
        for c in (
            "expense_kind",
            "econ_code",
            "travel_item",
            "meeting_category",
            "training_category",
            "city",
            "staff_level",
            "equipment_item",
            "item",
            "date",
        )
    }
    for c in (
        "persons",
        "days",
        "nights",
        "quantity",
        "unit_price",
        "staff_count",
        "existing_quantity",
        "requested",
    ):
        cols[c] = nan()
    day = pd.Timestamp("2024-06-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    cols["date"] = day.strftime("%Y-%m-%d").to_numpy(dtype=object)
    persons, days = rng.integers(5, 120, n).astype(float), rng.integers(1, 4, n).astype(float)
    m = kind == 0
    cols["expense_kind"][m] = "会议"
    cols["meeting_category"][m] = np.array(["二类", "三类", "四类"], dtype=object)[
        rng.integers(0, 3, m.sum())
    ]
    cols["persons"][m], cols["days"][m] = np.minimum(persons[m], 50), np.minimum(days[m], 2)
    cols["requested"][m] = np.round(
        600 * cols["persons"][m] * cols["days"][m] * rng.uniform(0.8, 1.3, m.sum()), -1
    )
    t = kind == 1
    cols["econ_code"][t] = "30216"
    cols["training_category"][t] = np.array(["一类", "二类", "三类"], dtype=object)[
        rng.integers(0, 3, t.sum())
    ]
    cols["persons"][t], cols["days"][t] = persons[t], days[t] + 2
    cols["requested"][t] = np.round(
        650 * persons[t] * (days[t] + 2) * rng.uniform(0.8, 1.3, t.sum()), -1
    )
    for k, itemised in ((2, True), (3, False)):
        v = kind == k
        which = rng.integers(0, len(CITIES), v.sum())
        cols["expense_kind"][v] = "差旅"
        cols["city"][v] = np.array([c for c, _ in CITIES], dtype=object)[which]
        cols["staff_level"][v] = np.array([lv for _, lv in CITIES], dtype=object)[which]
        cols["persons"][v] = rng.integers(1, 4, v.sum())
        cols["nights"][v] = rng.integers(1, 5, v.sum())
        cols["days"][v] = cols["nights"][v] + 1
        base = cols["persons"][v] * cols["days"][v]
        if itemised:
            part = rng.integers(0, 4, v.sum())
            cols["travel_item"][v] = np.array(
                ["lodging", "meals", "local_transport", "intercity"], dtype=object
            )[part]
            rate = np.array([650.0, 110.0, 80.0, 900.0])[part]
            cols["requested"][v] = np.round(rate * base * rng.uniform(0.8, 1.3, v.sum()), -1)
        else:
            cols["requested"][v] = np.round(800 * base * rng.uniform(0.8, 1.3, v.sum()), -1)
    e = kind == 4
    cols["expense_kind"][e] = "办公设备家具"
    cols["equipment_item"][e] = np.array(ITEMS, dtype=object)[rng.integers(0, len(ITEMS), e.sum())]
    cols["staff_level"][e] = "处级及以下"
    cols["quantity"][e] = rng.integers(1, 10, e.sum())
    cols["unit_price"][e] = np.round(rng.uniform(500, 8000, e.sum()), -1)
    cols["staff_count"][e] = rng.integers(10, 200, e.sum())
    cols["existing_quantity"][e] = np.maximum(
        cols["staff_count"][e] - rng.integers(0, 20, e.sum()), 0
    )
    cols["requested"][e] = cols["quantity"][e] * cols["unit_price"][e]
    o = kind == 5
    cols["econ_code"][o] = np.where(uc[owner][o], "30227", "30201")
    cols["item"][o] = np.where(uc[owner][o], "保洁服务", "办公用品")
    cols["requested"][o] = np.round(rng.uniform(1e3, 2e5, o.sum()), -1)
    lines = pd.DataFrame({"project_id": pid[owner], "line_no": line_no.astype(float), **cols})
    lines["travel_item"] = lines["travel_item"]  # codes already (check_book keeps them)
    lines["source_row"] = np.arange(n) + 2
    lines.attrs["source"] = ("bench-lines", "")
    area = np.where(uc, rng.integers(100, 900, n_projects) * 1000.0, 10.0)
    targets = pd.DataFrame(
        {
            "project_id": pid,
            "category": "产出-数量",
            "indicator": np.where(uc, "保洁面积", "数量"),
            "unit": np.where(uc, "m2", "个"),
            "target": area.astype(str),
        }
    )
    book, problems = check_book(RequestBook(projects, lines, targets))
    errors = problems[problems["severity"] == "error"] if len(problems) else problems
    assert errors.empty, errors.head()
    return book


def floor(book, standards) -> tuple[float, float]:
    """One merge with a 5,000-row standard frame, the capped arithmetic, group sums."""
    lines = book.lines
    table = standards.values[["standard_id", "value"]].drop_duplicates("standard_id")
    table = table.reset_index(drop=True)
    n = len(lines)
    rng = np.random.default_rng(0)
    key = pd.Categorical.from_codes(rng.integers(0, len(table), n), categories=table["standard_id"])
    t0 = time.perf_counter()
    frame = pd.DataFrame(
        {
            "project_id": lines["project_id"].astype("category"),
            "key": key,
            "requested": lines["requested"].to_numpy(),
            "units": lines["persons"].fillna(1.0).to_numpy(),
        }
    )
    merged = frame.merge(
        table.assign(key=pd.Categorical(table["standard_id"], categories=table["standard_id"])),
        on="key",
        how="left",
        validate="many_to_one",
    )
    cap = merged["value"].to_numpy() * merged["units"].to_numpy() * 3.0
    merged["approved"] = np.minimum(merged["requested"].to_numpy(), cap)
    sums = merged.groupby("project_id", observed=True)[["requested", "approved"]].sum()
    elapsed = time.perf_counter() - t0
    return elapsed, float(sums["approved"].sum())


def naive(book, standards, sample: int) -> float:
    """A per-row loop (iterrows; filter the standards per row) on ``sample`` lines [s/line]."""
    values = standards.values
    lines = book.lines.head(sample)
    t0 = time.perf_counter()
    approved = []
    for _, row in lines.iterrows():
        if row["expense_kind"] == "会议":
            hit = values[
                (values["table_id"] == "meeting-fee")
                & (values["item"] == "total")
                & (values["category"] == f"{row['meeting_category']}会议")
            ]
            cap = hit["value"].iloc[-1] * row["persons"] * row["days"] if len(hit) else np.inf
        elif row["expense_kind"] == "差旅":
            hit = values[(values["table_id"] == "travel-lodging") & (values["city"] == row["city"])]
            cap = (hit["value"].max() * row["nights"] if len(hit) else 0) + 180 * row["days"]
        else:
            hit = values[values["table_id"] == "office-equipment"]
            cap = hit["value"].max() * (
                row["quantity"] if row["quantity"] == row["quantity"] else 1
            )
        approved.append(min(row["requested"], cap))
    return (time.perf_counter() - t0) / max(len(lines), 1)


def one(n_lines: int, standards_dir: Path, sample: int) -> dict:
    """Time one size with the single-process engine (run in its own process)."""
    from costperf.review.batch.engine import review_book
    from costperf.standards import read_standards

    standards = read_standards(standards_dir)
    t0 = time.perf_counter()
    book = make_book(n_lines)
    made = time.perf_counter() - t0
    floor_s, _ = floor(book, standards)
    t0, c0 = time.perf_counter(), time.process_time()
    result = review_book(book, standards, on="2026-03-01")
    review_s, review_cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    per_line = naive(book, standards, sample)
    assert len(result.lines) == n_lines
    return {
        "lines": n_lines,
        "projects": len(book.projects),
        "standard_rows": len(standards.values),
        "generate_s": made,
        "review_s": review_s,
        "review_cpu_s": review_cpu,
        "floor_s": floor_s,
        "naive_s_est": per_line * n_lines,
        "peak_mb": peak,
        "approved": result.totals["approved"],
        "flagged": result.totals["lines_manual_review"],
        "digest": digest(result),
    }


def one_processes(n_lines: int, standards_dir: Path, workers: int) -> dict:
    """Time one size with ``--engine processes`` (run in its own process): the wall time,
    the CPU of this process and of its children, the peak memory of each."""
    from costperf.review.batch.parallel import review_book_processes
    from costperf.standards import read_standards

    standards = read_standards(standards_dir)
    book = make_book(n_lines)
    t0, c0 = time.perf_counter(), time.process_time()
    result = review_book_processes(book, standards, on="2026-03-01", workers=workers, threshold=0)
    review_s, review_cpu = time.perf_counter() - t0, time.process_time() - c0
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "lines": n_lines,
        "review_s": review_s,
        "review_cpu_s": review_cpu,
        "children_cpu_s": children.ru_utime + children.ru_stime,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "child_peak_mb": children.ru_maxrss / 1024,  # the largest child's, not a sum
        "approved": result.totals["approved"],
        "flagged": result.totals["lines_manual_review"],
        "digest": digest(result),
    }


def digest(result) -> str:
    """A hash of a BatchResult's tables, totals and columns (two engines' results equal)."""
    h = hashlib.sha256()
    frames = [result.lines, result.projects, result.standards_used, *result.summaries.values()]
    for frame in frames:
        h.update(pd.util.hash_pandas_object(frame).to_numpy().tobytes())
        h.update(repr([(c, str(t)) for c, t in frame.dtypes.items()]).encode())
    h.update(json.dumps(result.totals, sort_keys=True, default=str).encode())
    return h.hexdigest()


def dask_throughput(n_lines: int, standards_dir: Path, folder: Path, workers: int) -> dict:
    """Lines a second of --engine dask on a book written as Parquet partitions."""
    from distributed import Client, LocalCluster

    from costperf.standards import read_standards

    parts = max(n_lines // 250_000, 2)
    per = n_lines // parts
    paths = []
    for k in range(parts):
        book = make_book(per, seed=100 + k)
        sub = folder / f"part-{k:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        book.projects.assign(project_id=lambda f, k=k: f"{k}-" + f["project_id"]).to_parquet(
            sub / "projects.parquet"
        )
        book.lines.assign(project_id=lambda f, k=k: f"{k}-" + f["project_id"]).to_parquet(
            sub / "lines.parquet"
        )
        book.targets.assign(project_id=lambda f, k=k: f"{k}-" + f["project_id"]).to_parquet(
            sub / "targets.parquet"
        )
        paths.append(str(sub))
        del book
    standards = read_standards(standards_dir)
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            memory_limit="8GB",
        ) as cluster,
        Client(cluster) as client,
    ):
        shared = client.scatter(standards, broadcast=True)
        t0 = time.perf_counter()
        futures = client.map(_review_parquet, paths, standards=shared, pure=False)
        done = client.gather(futures)
        elapsed = time.perf_counter() - t0
    lines = sum(d["lines"] for d in done)
    return {"lines": lines, "seconds": elapsed, "lines_per_s": lines / elapsed, "parts": parts}


def _review_parquet(path: str, standards) -> dict:
    from costperf.review.batch.book import RequestBook, check_book
    from costperf.review.batch.engine import review_book

    folder = Path(path)
    book = RequestBook(
        *(pd.read_parquet(folder / f"{t}.parquet") for t in ("projects", "lines", "targets"))
    )
    book, _ = check_book(book)
    result = review_book(book, standards, on="2026-03-01")
    return {"lines": len(result.lines), "approved": result.totals["approved"]}


def _in_process(size: int, standards_dir: Path, *options: str) -> dict:
    """One size timed in a process of its own (its peak memory its own)."""
    proc = subprocess.run(
        [sys.executable, __file__, "--one", str(size), "--standards", str(standards_dir), *options],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--naive", type=int, default=2000, help="lines in the naive sample")
    parser.add_argument("--dask", action="store_true", help="Dask throughput at 1M and 10M")
    parser.add_argument("--dask-sizes", default="1000000,10000000")
    parser.add_argument(
        "--workers", type=int, default=2, help="--engine processes (and Dask) workers; 1: none"
    )
    parser.add_argument("--processes", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--standards", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None and args.processes:
        print(json.dumps(one_processes(args.one, args.standards, args.processes)))
        return
    if args.one is not None:
        print(json.dumps(one(args.one, args.standards, args.naive)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        standards_dir = bench_standards(Path(tmp) / "standards")
        rows = []
        for size in (int(s) for s in args.sizes.split(",")):
            rows.append(_in_process(size, standards_dir, "--naive", str(args.naive)))
            r = rows[-1]
            print(
                f"{r['lines']:>9,} lines {r['projects']:>8,} projects vs {r['standard_rows']:,} "
                f"standard rows: review {r['review_s']:7.2f} s (CPU {r['review_cpu_s']:6.2f} s) "
                f"| floor {r['floor_s']:6.3f} s "
                f"({r['review_s'] / r['floor_s']:6.1f}x) | naive {r['naive_s_est']:8.1f} s "
                f"(review {r['naive_s_est'] / r['review_s']:6.1f}x faster) | peak "
                f"{r['peak_mb']:,.0f} MB",
                flush=True,
            )
            if args.workers > 1:
                p = _in_process(size, standards_dir, "--processes", str(args.workers))
                assert p["digest"] == r["digest"], "the engines' results differ"
                children = p["child_peak_mb"]
                print(
                    f"{'':>9}   --engine processes, {args.workers} workers: review "
                    f"{p['review_s']:7.2f} s (CPU parent {p['review_cpu_s']:5.2f} s + children "
                    f"{p['children_cpu_s']:6.2f} s) | {p['review_s'] / r['review_s']:5.2f}x the "
                    f"single process, {p['review_s'] / r['floor_s']:6.1f}x the floor | peak "
                    f"parent {p['peak_mb']:,.0f} MB, largest child {children:,.0f} MB, parent + "
                    f"{args.workers} x largest {p['peak_mb'] + args.workers * children:,.0f} MB "
                    "(children share the parent's pages until written: an upper bound)",
                    flush=True,
                )
        if len(rows) >= 2:
            a, b = rows[0], rows[-1]
            exponent = math.log(b["review_s"] / a["review_s"]) / math.log(b["lines"] / a["lines"])
            print(
                f"growth exponent {a['lines']:,} -> {b['lines']:,} lines: {exponent:.2f} "
                "(1 = linear)"
            )
        if args.dask:
            for size in (int(s) for s in args.dask_sizes.split(",")):
                r = dask_throughput(size, standards_dir, Path(tmp) / f"dask-{size}", args.workers)
                print(
                    f"dask, {args.workers} workers, Parquet: {r['lines']:,} lines in "
                    f"{r['seconds']:.1f} s = {r['lines_per_s']:,.0f} lines/s "
                    f"({r['parts']} partitions)",
                    flush=True,
                )


if __name__ == "__main__":
    main()
