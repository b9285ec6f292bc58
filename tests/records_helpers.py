"""Shared helpers of the record-store tests: store targets on both backends, tiny frames.

PostgreSQL tests need a server: set ``COSTPERF_TEST_POSTGRES_URL`` (``.ci/run`` starts one
on loopback and sets it).  Each test gets a schema of its own in that database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from costperf.records import write_batch

POSTGRES_URL = os.environ.get("COSTPERF_TEST_POSTGRES_URL", "")
SKIP_POSTGRES = (
    "PostgreSQL store tests skipped: no server (set COSTPERF_TEST_POSTGRES_URL, as .ci/run "
    "does after starting one on loopback)"
)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh, empty schema in the test database; yields a URL whose search_path is it."""
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    import sqlalchemy as sa

    name = f"t_{uuid.uuid4().hex[:12]}"
    url = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {name}"))
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{name}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {name} CASCADE"))
        engine.dispose()


@contextmanager
def store_target(backend: str, folder: Path) -> Iterator[str | Path]:
    """A not-yet-created store on ``backend`` (an SQLite path in ``folder``, or a schema)."""
    if backend == "sqlite":
        yield folder / f"records-{uuid.uuid4().hex[:6]}.sqlite"
        return
    with postgres_schema() as url:
        yield url


def decisions(n: int = 2, *, prefix: str = "P", lines_per: int = 1) -> dict[str, pd.DataFrame]:
    """Frames for :func:`costperf.records.write_run`: n projects, 100 asked, 80 approved."""
    ids = [f"{prefix}{i}" for i in range(n)]
    projects = pd.DataFrame(
        {
            "project_id": ids,
            "requested": [100.0] * n,
            "approved": [80.0] * n,
            "cut": [20.0] * n,
            "decision": ["reduce"] * n,
            "rule": ["unit_cost_cap"] * n,
            "standard_id": ["HW-UC"] * n,
            "standard_version": ["2026.1"] * n,
            "reason_zh": ["超过标准"] * n,
        }
    )
    lines = pd.DataFrame(
        {
            "project_id": [p for p in ids for _ in range(lines_per)],
            "line_no": [k + 1 for _ in ids for k in range(lines_per)],
            "requested": 100.0 / lines_per,
            "approved": 80.0 / lines_per,
            "cut": 20.0 / lines_per,
            "decision": "reduce",
            "rule": "unit_cost_cap",
            "source_row": 2,
        }
    )
    standards = pd.DataFrame(
        {"standard_id": ["HW-UC"], "version": ["2026.1"], "dims": ["一级"], "value": [16.4]}
    )
    return {"projects": projects, "lines": lines, "standards": standards}


# the feedback loop's history (tests/test_records_loop.py explains it)
APPROVED = {
    2025: [("A", "D1", 1_000_000)],
    2026: [("A", "D1", 1_000_000), ("B", "D1", 2_000_000), ("C", "D1", 500_000),
           ("D", "D2", 800_000), ("E", "D2", 300_000), ("F", "D2", 400_000),
           ("G", "D1", 600_000)],
}  # fmt: skip
MONITORING = """项目编码,监控时点,预算数,执行数,指标名称,年度目标值,累计完成值,备注
A,2026-06-30,1000000,200000,保洁面积,60000,12000,二季度进度偏慢
C,2026-06-30,500000,200000,保洁面积,30000,12000,
A,2026-12-31,1000000,900000,保洁面积,60000,60000,
B,2026-12-31,2000000,1900000,保洁面积,100000,100000,
C,2026-12-31,500000,450000,保洁面积,30000,30000,
D,2026-12-31,800000,480000,保洁面积,40000,40000,
E,2026-12-31,300000,225000,保洁面积,15000,15000,
F,2026-12-31,400000,380000,保洁面积,20000,20000,
G,2026-12-31,600000,600000,保洁面积,40000,40000,
"""
EVALUATIONS = """项目编码,年度,评价得分,评价类型,目标完成率
A,2025,55,财政重点评价,
A,2026,50,财政重点评价,
B,2026,58,自评,40%
C,2026,59.5,自评,0.8
D,2026,75,自评,
E,2026,92,自评,
E,2026,85,财政重点评价,
G,2026,95,财政重点评价,
"""


def batches(store) -> list[str]:
    ids = []
    for year, items in APPROVED.items():
        projects = pd.DataFrame(
            [{"project_id": p, "department": d, "year": year, "class_of_matter": "环卫保洁",
              "road_grade": "一级", "requested": a * 1.25, "approved": float(a),
              "cut": a * 0.25, "cut_rate": 0.2, "decision": "reduce", "manual_review": False,
              "rule": "unit_cost_cap", "reasons": "超过单位成本标准"} for p, d, a in items]
        )  # fmt: skip
        lines = pd.DataFrame(
            [{"project_id": p, "line_no": 1, "quantity": 2.0, "unit_price": a * 0.625,
              "requested": a * 1.25, "approved": float(a), "cut": a * 0.25, "decision": "reduce",
              "rule": "unit_cost_cap", "standard": "hw-uc@1"} for p, _, a in items]
        )  # fmt: skip
        ids.append(
            write_batch(store, projects=projects, lines=lines, inputs_hash=f"books-{year}",
                        standards_versions=["hw-uc@1"], params={"tolerance": 0.0}, year=year)
        )  # fmt: skip
    return ids
