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
