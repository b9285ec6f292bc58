"""Tests for costperf.records: the SQLite review-record store, one transaction per run."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy

from costperf.errors import InputError
from costperf.records import SCHEMA_VERSION, open_store, read_records, write_run
from records_helpers import decisions


def frames(n: int = 2) -> dict[str, pd.DataFrame]:
    return decisions(n)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_runs_are_appended_and_old_runs_kept(tmp_path: Path) -> None:
    store = tmp_path / "sub" / "records.sqlite"
    first = write_run(store, case_name="c", summary={"cut": 40.0}, **frames(2))
    old = read_records(store)
    second = write_run(store, case_name="c", **frames(3))
    assert first != second
    runs = read_records(store, "runs")
    assert runs["run_id"].tolist() == [first, second]
    assert len(read_records(store)) == 5
    pd.testing.assert_frame_equal(read_records(store, run_id=first), old)
    got = read_records(store, "review_projects", run_id=second)
    assert got["reason_zh"].tolist() == ["超过标准"] * 3
    assert read_records(store, "review_lines", run_id=second)["source_row"].tolist() == [2] * 3
    assert read_records(store, "standards_used")["value"].tolist() == [16.4, 16.4]


def test_a_failure_mid_write_leaves_nothing(tmp_path: Path) -> None:
    store = tmp_path / "records.sqlite"
    write_run(store, case_name="c", **frames(2))
    before = {
        t: read_records(store, t)
        for t in ("runs", "review_projects", "review_lines", "standards_used")
    }
    bad = frames(2)
    bad["lines"].loc[1, "approved"] = None  # NOT NULL: fails after runs + projects are inserted
    with pytest.raises(sqlalchemy.exc.IntegrityError, match="NOT NULL"):
        write_run(store, case_name="c", **bad)
    for table, frame in before.items():
        pd.testing.assert_frame_equal(read_records(store, table), frame)


def test_a_text_file_is_refused_and_unchanged(tmp_path: Path) -> None:
    notes = tmp_path / "records.sqlite"
    notes.write_text("这不是数据库\n", encoding="utf-8")
    before = sha(notes)
    with pytest.raises(InputError, match=r"records.sqlite: not a costperf record store"):
        write_run(notes, case_name="c", **frames())
    with pytest.raises(InputError, match="not a costperf record store"):
        read_records(notes)
    assert sha(notes) == before


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    store = tmp_path / "records.sqlite"
    open_store(store).close()
    with sqlite3.connect(store) as conn:
        conn.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),)
        )
    conn.close()
    with pytest.raises(InputError, match=f"schema version {SCHEMA_VERSION + 1}"):
        write_run(store, case_name="c", **frames())


def test_unknown_table(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown record table 'x'"):
        read_records(tmp_path / "r.sqlite", "x")


def test_another_applications_database_is_refused_and_unchanged(tmp_path: Path) -> None:
    other = tmp_path / "app.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE people (name TEXT)")
        conn.execute("INSERT INTO people VALUES ('张三')")
    conn.close()
    before = sha(other)
    with pytest.raises(InputError, match="not a costperf record store"):
        write_run(other, case_name="c", **frames())
    assert sha(other) == before


def test_an_empty_file_becomes_a_store(tmp_path: Path) -> None:
    store = tmp_path / "records.sqlite"
    store.write_bytes(b"")
    run_id = write_run(store, case_name="c", **frames())
    assert read_records(store, "runs")["run_id"].tolist() == [run_id]


def test_a_store_written_before_the_application_id_is_still_accepted(tmp_path: Path) -> None:
    store = tmp_path / "records.sqlite"
    first = write_run(store, case_name="c", **frames())
    with sqlite3.connect(store) as conn:
        conn.execute("PRAGMA application_id = 0")
    conn.close()
    second = write_run(store, case_name="c", **frames())
    assert read_records(store, "runs")["run_id"].tolist() == [first, second]


def test_a_database_stamped_by_another_application_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "app.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("PRAGMA application_id = 12345")
    conn.close()
    before = sha(other)
    with pytest.raises(InputError, match="app.sqlite: not a costperf record store"):
        write_run(other, case_name="c", **frames())
    assert sha(other) == before


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="folder"):
        write_run(tmp_path, case_name="c", **frames())


def test_the_same_run_is_recorded_once_and_others_append(tmp_path) -> None:
    """write_run of inputs and parameters already on record writes nothing and returns
    that run; other inputs append a run; line_no is stored as an integer."""
    import sqlite3

    import pandas as pd

    from costperf.records import find_run, write_run

    path = tmp_path / "r.sqlite"
    projects = pd.DataFrame(
        {
            "project_id": ["P"],
            "requested": [10.0],
            "approved": [8.0],
            "cut": [2.0],
            "decision": ["reduce"],
            "rule": ["unit_cost_cap"],
        }
    )
    lines = projects.assign(line_no=[1.0])
    standards = pd.DataFrame(columns=["standard_id", "version", "dims", "value"])
    params = {"case": "c", "config_hash": "config"}
    assert find_run(path, "run", "data", params) is None and not path.exists()  # no store made
    kwargs = dict(case_name="c", projects=projects, lines=lines, standards=standards)
    first = write_run(path, data_hash="data", params=params, **kwargs)
    again = write_run(path, data_hash="data", params=params, **kwargs)
    assert again == first and find_run(path, "run", "data", params) == first
    other = write_run(path, data_hash="data2", params=params, **kwargs)
    assert other != first
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2
        assert {r[0] for r in conn.execute("SELECT typeof(line_no) FROM review_lines")} == {
            "integer"
        }


def test_an_excel_date_in_an_extra_column_is_stored_as_text() -> None:
    """A workbook cell that Excel typed as a date (a datetime, not a pandas Timestamp)
    in a column the schema does not know goes into ``extra`` as ISO text (it crashed)."""
    import datetime as dt
    import json

    from costperf.records import models
    from costperf.records.write import rows_for

    table = models.review_projects
    frame = pd.DataFrame(
        {
            "project_id": ["P1", "P2", "P3"],
            "road_grade": [dt.datetime(2027, 3, 1), pd.Timestamp("2027-03-01 08:30"), "一级"],
        }
    )
    rows = rows_for(table, frame)
    extra = [json.loads(r["extra"]) if isinstance(r["extra"], str) else r["extra"] for r in rows]
    assert [e["road_grade"] for e in extra] == ["2027-03-01", "2027-03-01T08:30:00", "一级"]


def _rows_cell_by_cell(table, frame: pd.DataFrame) -> list[dict]:
    """rows_for as it was written before its columns were converted whole: every value
    through _cell (and _as_int in an integer column), row by row (the reference)."""
    import json

    import sqlalchemy as sa

    from costperf.records.write import _as_int, _cell

    names = [c.name for c in table.columns]
    integer = {c.name for c in table.columns if isinstance(c.type, sa.Integer)}
    extras = [c for c in frame.columns if c not in names]
    out = []
    for _, row in frame.astype(object).iterrows():
        rec = {}
        for c in (c for c in names if c in frame.columns):
            value = _cell(row[c])
            rec[c] = _as_int(value) if c in integer and value is not None else value
        if extras and "extra" in names:
            kept = {k: _cell(row[k]) for k in extras if _cell(row[k]) is not None}
            rec["extra"] = json.dumps(kept, ensure_ascii=False, default=str) if kept else None
        out.append(rec)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_rows_for_converts_whole_columns_as_each_cell_would(seed: int) -> None:
    import math

    import numpy as np

    from costperf.records import models
    from costperf.records.write import rows_for

    rng = np.random.default_rng(seed)
    n = 40
    floats = rng.choice([1.0, 2.5, np.nan, np.inf, -3.0, 1e15], n)
    frame = pd.DataFrame(
        {
            "project_id": rng.choice(["P1", "P2", "项目"], n).astype(object),
            "line_no": floats,  # an integer column: whole floats stored as int
            "quantity": rng.integers(-5, 5, n),
            "manual_review": rng.random(n) < 0.5,
            "source_row": rng.random(n) < 0.5,  # an integer column of booleans: 0/1
            "requested": pd.array(rng.choice([1.5, None], n), dtype="Float64"),
            "approved": floats,
            "item": pd.Series(rng.choice(["a", "", None], n), dtype="string"),
            "road_grade": rng.choice([pd.Timestamp("2027-03-01"), np.float64("nan"), "一级"], n),
            "note_extra": pd.array(rng.choice([1, None], n), dtype="Int64"),
        }
    )
    table = models.review_lines
    assert {"line_no", "source_row"} <= {
        c.name for c in table.columns if isinstance(c.type, sqlalchemy.Integer)
    }
    got, want = rows_for(table, frame), _rows_cell_by_cell(table, frame)
    assert [list(r) for r in got] == [[*list(r)] for r in want]
    for g, w in zip(got, want, strict=True):
        for key in w:
            a, b = g[key], w[key]
            assert type(a) is type(b) and (a == b or (a != a and b != b)), (key, a, b)
            assert not (isinstance(a, float) and (math.isnan(a) or math.isinf(a)))
