"""The record store as a database: schema and migrations, upgrade of a 0.1 store,
append-only history, refusals, and concurrency with real processes (SQLite and
PostgreSQL; the PostgreSQL cases skip, saying so, without a server)."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import alembic.command  # noqa: F401 - imported once here, so forked writers need not
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

import costperf.records.store
from costperf.cli import main
from costperf.errors import InputError
from costperf.records import (
    HISTORY_TABLES,
    SCHEMA_VERSION,
    check_store,
    open_store,
    read_records,
    write_evaluations,
    write_monitoring,
    write_proposals,
    write_recommendations,
    write_run,
)
from costperf.records import store as store_module
from costperf.records.models import HEAD_REVISION, VERSION_TABLE, metadata
from records_helpers import BACKENDS, decisions, store_target

FIXTURE = Path(__file__).parent / "data" / "records-schema1.sqlite"
FORK = multiprocessing.get_context("fork")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(params=BACKENDS)
def target(request, tmp_path):
    with store_target(request.param, tmp_path) as name:
        yield name


# ------------------------------------------------------------------ schema


def test_migrations_build_exactly_the_model_tables(target) -> None:
    store = open_store(target)
    try:
        with store.read() as conn:
            found = sa.inspect(conn)
            tables = set(found.get_table_names()) - {"costperf_migrations"}
            assert tables == set(metadata.tables)
            for name, table in metadata.tables.items():
                columns = [c["name"] for c in found.get_columns(name)]
                assert columns == [c.name for c in table.columns], name
    finally:
        store.close()


def _sqlite_schema(path: Path) -> dict:
    with sqlite3.connect(path) as conn:
        master = conn.execute(  # not rootpage: the rebuilt review_lines leaves pages to reuse
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid"
        ).fetchall()
        rows = {t: conn.execute(f"SELECT * FROM {t}").fetchall() for t in ("meta", VERSION_TABLE)}
        pragmas = {p: conn.execute(f"PRAGMA {p}").fetchone()[0] for p in PRAGMAS}
    conn.close()
    return {"master": master, "rows": rows, "pragmas": pragmas}


PRAGMAS = ("application_id", "user_version", "journal_mode", "foreign_keys")


def test_a_new_sqlite_store_is_what_the_migrations_build(tmp_path) -> None:
    """A new SQLite store is built from records/head_schema.sql (no alembic): the same
    sqlite_master (tables, indexes, triggers, in creation order, to the text), rows and
    stamps as alembic's upgrade of an empty store; after a new migration, write the
    script again with ``head_script`` of a migrated store."""
    migrated, created = tmp_path / "migrated.sqlite", tmp_path / "created.sqlite"
    store = open_store(migrated)  # created from the script, then emptied and migrated
    store.close()
    migrated.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{migrated}{suffix}").unlink(missing_ok=True)
    store = open_store(created)
    store.close()
    engine_store = store_module.Store(
        store_module.as_target(migrated),
        store_module._prepare_sqlite(store_module.as_target(migrated)),
    )
    try:
        with engine_store.write() as conn:
            store_module.migrate(conn)
    finally:
        engine_store.close()
    with sqlite3.connect(migrated) as conn:
        script = store_module.head_script(conn)
    conn.close()
    assert script == store_module.HEAD_SCRIPT.read_text("utf-8"), (
        "records/head_schema.sql is not the migrations' schema (a new migration?): write "
        "it again with head_script() of a store that migrate() built"
    )
    assert _sqlite_schema(created) == _sqlite_schema(migrated)


def _schema1_tables(path: Path) -> dict[str, pd.DataFrame]:
    with sqlite3.connect(path) as conn:
        return {
            t: pd.read_sql_query(f"SELECT * FROM {t} ORDER BY rowid", conn)
            for t in ("runs", "review_projects", "review_lines", "standards_used")
        }


def test_a_store_of_release_0_1_is_upgraded_in_place_with_nothing_lost(tmp_path) -> None:
    """tests/data/records-schema1.sqlite: two `costperf run`s of the sanitation case by
    0.1 (commit 5069660), 2 runs, 20 project and 180 line decisions, 8 standards."""
    store = tmp_path / "records.sqlite"
    shutil.copy(FIXTURE, store)
    before = _schema1_tables(store)
    assert [len(f) for f in before.values()] == [2, 20, 180, 8]
    open_store(store).close()
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == (
            str(SCHEMA_VERSION),
        )
        assert conn.execute("SELECT version_num FROM costperf_migrations").fetchone() == (
            HEAD_REVISION,
        )
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        kinds = conn.execute("SELECT typeof(line_no), count(*) FROM review_lines GROUP BY 1")
        assert kinds.fetchall() == [("integer", 180)]
    conn.close()
    for table, old in before.items():
        new = read_records(store, table)
        assert len(new) == len(old)
        for column in old.columns:  # every old value, in the old order
            if column == "line_no":
                assert new[column].tolist() == old[column].astype(int).tolist()
            else:
                pd.testing.assert_series_equal(
                    new[column], old[column], check_dtype=False, check_names=False
                )
    assert read_records(store, "runs")["kind"].tolist() == ["run", "run"]
    added = write_run(store, case_name="c", **decisions(2))
    assert read_records(store, "runs")["run_id"].tolist()[-1] == added
    pd.testing.assert_frame_equal(
        read_records(store, "review_projects").iloc[:20][list(before["review_projects"])],
        read_records(store, "review_projects", run_id=None).iloc[:20][
            list(before["review_projects"])
        ],
    )


def test_a_schema_2_store_gains_base_record_and_keeps_its_rows_and_triggers(tmp_path) -> None:
    """Revision 0003 adds recommendations.base_record; rows recorded before keep NULL."""
    from alembic import command
    from alembic.config import Config

    store = tmp_path / "records.sqlite"
    engine = sa.create_engine(f"sqlite:///{store}")
    with engine.begin() as conn:
        config = Config()
        config.set_main_option(
            "script_location", str(Path(costperf.records.store.__file__).with_name("migrations"))
        )
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
        conn.execute(sa.text(
            "INSERT INTO runs (run_id, case_name, created_at, costperf_version, kind) "
            "VALUES ('r2', 'c', '2026-01-01', '0.1', 'feedback')"
        ))  # fmt: skip
        conn.execute(sa.text(
            "INSERT INTO recommendations (run_id, project_id, year, base, recommendation, rule) "
            "VALUES ('r2', 'A', 2027, 100.0, 'maintain', 'maintain')"
        ))  # fmt: skip
    engine.dispose()
    open_store(store).close()
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT version_num FROM costperf_migrations").fetchone() == ("0003",)
        assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == (
            "3",
        )
        assert conn.execute(
            "SELECT project_id, base, base_record FROM recommendations"
        ).fetchall() == [("A", 100.0, None)]
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE recommendations SET base_record = 'x'")
    conn.close()


def test_a_fractional_line_number_survives_the_upgrade(tmp_path) -> None:
    store = tmp_path / "records.sqlite"
    shutil.copy(FIXTURE, store)
    with sqlite3.connect(store) as conn:
        conn.execute("UPDATE review_lines SET line_no = 2.5 WHERE rowid = 1")
    conn.close()
    open_store(store).close()
    assert read_records(store, "review_lines")["line_no"].iloc[0] == 2.5


def test_an_old_release_refuses_an_upgraded_store(tmp_path) -> None:
    """0.1 checks meta.schema_version == 1: it refuses the upgraded store, never writes it."""
    store = tmp_path / "records.sqlite"
    shutil.copy(FIXTURE, store)
    open_store(store).close()
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() != (
            "1",
        )
    conn.close()


# ------------------------------------------------------------------ append-only


def _every_kind_of_record(target) -> None:
    write_run(target, case_name="c", **decisions(2))
    plan = pd.DataFrame(
        {
            "resource": ["cleaners"],
            "unit_cost": [65000.0],
            "current": [10.0],
            "current_cost": [650000.0],
        }
    )
    constraints = pd.DataFrame(
        {"constraint": ["keep_area"], "constraint_kind": ["output"], "sense": [">="], "rhs": [1.0]}
    )
    projects = pd.DataFrame({"project_id": ["P0"], "current_cost": [650000.0]})
    write_proposals(
        target,
        case_name="c",
        plan=plan,
        constraints=constraints,
        projects=projects,
        standards=decisions()["standards"],
        totals={"savings": 0.0},
    )
    obs = pd.DataFrame(
        {
            "project_id": ["P0"],
            "year": [2026],
            "checkpoint": ["2026-06-30"],
            "indicator": ["保洁面积"],
            "budget": [100.0],
            "executed": [10.0],
        }
    )
    flags = pd.DataFrame(
        {"project_id": ["P0"], "flag": ["slow_execution"], "rule": ["r"], "source": [0]}
    )
    write_monitoring(target, obs, flags, inputs_hash="h1", policy={})
    ev = pd.DataFrame(
        {"project_id": ["P0"], "year": [2026], "kind": ["key"], "score": [55.0], "grade": ["差"]}
    )
    write_evaluations(target, ev, pd.DataFrame(), inputs_hash="h2", policy={})
    rec = pd.DataFrame(
        {"project_id": ["P0"], "year": [2027], "recommendation": ["reduce"], "rule": ["poor"]}
    )
    write_recommendations(target, rec, year=2027, inputs_hash="h3", policy={})


def test_update_and_delete_on_every_history_table_fail(target) -> None:
    _every_kind_of_record(target)
    store = open_store(target)
    try:
        for table in HISTORY_TABLES:
            with store.read() as conn:
                assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() > 0, table
            first = metadata.tables[table].columns.keys()[1]
            statements = [f"UPDATE {table} SET {first} = {first}", f"DELETE FROM {table}"]
            if store.backend == "postgresql":
                statements.append(f"TRUNCATE {table} CASCADE")
            for statement in statements:
                with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.write() as c:
                    c.execute(sa.text(statement))
    finally:
        store.close()
    assert len(read_records(target, "runs")) == 5


# ------------------------------------------------------------------ refusals


def test_a_malformed_store_is_refused_and_not_appended_to(tmp_path) -> None:
    store = tmp_path / "records.sqlite"
    write_run(store, case_name="c", **decisions(200, lines_per=20))
    data = bytearray(store.read_bytes())
    page = 4096
    data[page * 3 : page * 3 + 200] = b"\xff" * 200  # a table page overwritten
    store.write_bytes(bytes(data))
    before = sha(store)
    for call in (
        lambda: check_store(store),
        lambda: write_run(store, case_name="c", **decisions()),
    ):
        with pytest.raises(InputError, match=r"records.sqlite: .*damaged"):
            call()
    assert sha(store) == before


def test_an_empty_sqlite_file_of_another_application_is_not_taken_over(tmp_path) -> None:
    other = tmp_path / "app.db"
    with sqlite3.connect(other) as conn:
        conn.execute("PRAGMA user_version = 7")
    conn.close()
    before = sha(other)
    for call in (
        lambda: check_store(other),
        lambda: write_run(other, case_name="c", **decisions()),
    ):
        with pytest.raises(
            InputError, match=r"app.db: not a costperf record store.*user_version 7"
        ):
            call()
    assert sha(other) == before


def test_another_applications_postgresql_database_is_refused() -> None:
    from records_helpers import postgres_schema

    with postgres_schema() as url:
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE people (name text)"))
        engine.dispose()
        with pytest.raises(InputError, match=r"not a costperf record store.*people"):
            write_run(url, case_name="c", **decisions())
        assert "costperf:costperf@" not in str(pytest.raises)  # the password is never shown


def test_a_password_in_the_url_is_hidden_in_messages() -> None:
    from costperf.records import as_target

    target = as_target("postgresql://me:s3cret@127.0.0.1:1/db")
    assert "s3cret" not in str(target)
    assert target.url.startswith("postgresql+psycopg://me:s3cret@")


def _immutable(path: Path, on: bool) -> bool:
    if shutil.which("chattr") is None:
        return False
    done = subprocess.run(["chattr", "+i" if on else "-i", str(path)], capture_output=True)
    return done.returncode == 0


def test_a_read_only_store_is_exit_2_naming_the_file(tmp_path, capsys) -> None:
    store = tmp_path / "records.sqlite"
    write_run(store, case_name="c", **decisions())
    before = sha(store)
    if not _immutable(store, True):
        pytest.skip("cannot make a file read-only for root here (chattr +i failed)")
    try:
        with pytest.raises(InputError, match=r"records.sqlite: the record store is read-only"):
            check_store(store)
        with pytest.raises(InputError, match=r"records.sqlite: .*read-only"):
            write_run(store, case_name="c", **decisions())
        out = tmp_path / "out"
        argv = ["run", "cases/sanitation-5-districts", "--out", str(out), "--records", str(store)]
        assert main([*argv, "--lang", "en"]) == 2
        assert f"{store}: the record store is read-only" in capsys.readouterr().err
        assert not out.exists()
    finally:
        _immutable(store, False)
    assert sha(store) == before


# ------------------------------------------------------------------ processes


def _write_runs(target, count: int, prefix: str, barrier=None) -> None:
    if barrier is not None:
        barrier.wait()
    for k in range(count):
        write_run(target, case_name=f"{prefix}{k}", **decisions(3, prefix=prefix, lines_per=4))


def _processes(target, jobs: list[tuple[int, str]], barrier=None) -> list[int]:
    procs = [
        FORK.Process(target=_write_runs, args=(target, n, prefix, barrier)) for n, prefix in jobs
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    return [p.exitcode for p in procs]


def test_two_writers_at_once_lose_nothing(target) -> None:
    assert _processes(target, [(8, "A"), (8, "B")]) == [0, 0]
    runs = read_records(target, "runs")
    assert len(runs) == 16
    assert sorted(runs["case_name"]) == sorted(
        [f"A{k}" for k in range(8)] + [f"B{k}" for k in range(8)]
    )
    lines = read_records(target, "review_lines")
    assert lines.groupby("run_id").size().tolist() == [12] * 16


def _first_writers(backend: str, folder: Path, rounds: int) -> None:
    for k in range(rounds):
        with store_target(backend, folder / str(k) if backend == "sqlite" else folder) as target:
            if backend == "sqlite":
                target.parent.mkdir()
            barrier = FORK.Barrier(6)
            codes = _processes(target, [(1, f"W{i}-") for i in range(6)], barrier)
            assert codes == [0] * 6, f"round {k}: exit codes {codes}"
            assert len(read_records(target, "runs")) == 6, f"round {k}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_six_concurrent_first_writers_are_all_recorded(backend, tmp_path) -> None:
    """Six processes create the same new store at once (short version: 2 rounds)."""
    _first_writers(backend, tmp_path, 2)


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_six_concurrent_first_writers_30_times(backend, tmp_path) -> None:
    _first_writers(backend, tmp_path, 30)


def _write_and_hang(target, pipe) -> None:
    from costperf.records import models
    from costperf.records.write import rows_for, run_row

    store = open_store(target)
    lines = decisions(100, prefix="K", lines_per=100)["lines"]
    with store.write() as conn:
        run = run_row("run", case_name="killed")
        conn.execute(models.runs.insert(), [run])
        conn.execute(
            models.review_lines.insert(), rows_for(models.review_lines, lines, run_id=run["run_id"])
        )
        pipe.send("inserted")
        time.sleep(60)


def test_a_writer_killed_mid_write_leaves_the_store_as_it_was(target) -> None:
    write_run(target, case_name="before", **decisions(2))
    before = {t: read_records(target, t) for t in ("runs", "review_lines", "review_projects")}
    mine, theirs = FORK.Pipe()
    proc = FORK.Process(target=_write_and_hang, args=(target, theirs))
    proc.start()
    assert mine.poll(60), "the writer never got its rows in"
    assert mine.recv() == "inserted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(30)
    assert proc.exitcode == -signal.SIGKILL
    for table, frame in before.items():
        pd.testing.assert_frame_equal(read_records(target, table), frame)
    write_run(target, case_name="after", **decisions(1))  # the lock went with the writer
    assert read_records(target, "runs")["case_name"].tolist() == ["before", "after"]


def _big_batches(target) -> None:
    for k in range(100):
        write_run(target, case_name=f"big{k}", **decisions(100, prefix=f"B{k}-", lines_per=40))


def test_a_writer_killed_at_any_moment_leaves_whole_runs_only(target) -> None:
    """Killed at 0.5 s, 1 s, ... (mid-run, as a run takes a good part of a second)."""
    delays = [0.5, 1.1, 1.7, 2.3]
    runs = read_records(target, "runs")
    while delays and (len(runs) == 0 or len(delays) > 2):
        proc = FORK.Process(target=_big_batches, args=(target,))
        proc.start()
        time.sleep(delays.pop(0))
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(30)
        runs = read_records(target, "runs")
    lines = read_records(target, "review_lines")
    assert len(runs) >= 1
    assert lines.groupby("run_id").size().reindex(runs["run_id"]).tolist() == [4_000] * len(runs)
    assert read_records(target, "review_projects").groupby("run_id").size().eq(100).all()


# ------------------------------------------------------------------ the CLI


def test_run_refuses_a_store_it_could_not_write_before_anything_else(tmp_path, capsys) -> None:
    """`costperf run` refuses an unusable store first: exit 2, nothing written."""
    store = tmp_path / "app.db"
    with sqlite3.connect(store) as conn:
        conn.execute("PRAGMA user_version = 3")
    conn.close()
    out = tmp_path / "out"
    code = main(
        [
            "run",
            "cases/sanitation-5-districts",
            "--out",
            str(out),
            "--records",
            str(store),
            "--lang",
            "en",
        ]
    )
    assert code == 2
    assert "app.db: not a costperf record store" in capsys.readouterr().err
    assert not (out / "report.xlsx").exists()


def test_a_case_run_records_each_lines_quantity_and_unit_price(good_run) -> None:
    """Found by an audit: the run stored quantity and unit price as NULL for every line,
    although request_lines.csv gives 数量 and 单价 (76 一线保洁员 at 65,490)."""
    lines = read_records(good_run["records"], "review_lines")
    assert lines["quantity"].notna().all() and lines["unit_price"].notna().all()
    first = lines[lines["project_id"].eq("SQ-QP-2026-001") & lines["line_no"].eq(1)].iloc[0]
    assert (first["quantity"], first["unit_price"], first["requested"]) == (
        76.0,
        65_490.0,
        4_977_240.0,
    )


_CELL = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_CELL, _CELL, _CELL, _CELL), min_size=1, max_size=30))
def test_sqlite_rows_go_to_the_driver_as_sqlalchemy_would_store_them(cells) -> None:
    """On SQLite, :func:`costperf.records.write.insert` hands the rows to the driver's
    executemany; the stored values and their storage classes are those SQLAlchemy's own
    executemany stores, for texts, integers, floats and NULLs in each column type."""
    from costperf.records import models
    from costperf.records.write import insert

    table = models.review_lines
    rows = [
        {
            "run_id": "r",
            "project_id": "p",
            "requested": 1.0,
            "approved": 1.0,
            "cut": 0.0,
            "rule": "meeting",
            "decision": "approve",
            "line_no": a,
            "cut_rate": b,
            "reason_zh": c,
            "quantity": d,
        }  # fmt: skip
        for a, b, c, d in cells
    ]
    columns = [c.name for c in table.columns]
    query = ", ".join(f"quote({c}), typeof({c})" for c in columns)
    dumps = []
    for put in (
        lambda conn, r: insert(conn, table, r),
        lambda conn, r: conn.execute(table.insert(), r),
    ):
        engine = sa.create_engine("sqlite://")
        metadata.create_all(engine)
        with engine.begin() as conn:
            try:
                put(conn, [dict(row) for row in rows])
            except sa.exc.StatementError as exc:  # a text no float() reads, in both
                dumps.append(type(exc.orig).__name__)
            else:
                sql = f"SELECT {query} FROM review_lines ORDER BY rowid"  # noqa: S608
                dumps.append(conn.exec_driver_sql(sql).fetchall())
        engine.dispose()
    assert dumps[0] == dumps[1]
    assert isinstance(dumps[0], str) or len(dumps[0]) == len(rows)


_EXTRA = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=6),
    st.sampled_from(["部门01", 'a"b\\c', "\n", "-0.0", ""]),
)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(_EXTRA, _EXTRA, st.one_of(st.text(max_size=4), st.just(float("nan")), st.none())),
        min_size=1,
        max_size=25,
    )
)
def test_a_row_s_extra_json_is_json_dumps_of_its_values(cells) -> None:
    """The columns a table lacks go to ``extra`` as the JSON of the row's non-missing
    values: the same text ``json.dumps`` gives, and a column of texts and missing values
    (NaN, None) as :func:`costperf.records.write._cell` converts each cell."""
    from costperf.records import models
    from costperf.records.write import _cell, rows_for

    frame = pd.DataFrame(cells, columns=["mixed", "other", "note"], dtype=object)
    frame.insert(0, "project_id", "p")
    rows = rows_for(models.review_projects, frame, run_id="r")
    for row, values in zip(rows, cells, strict=True):
        kept = {}
        for key, value in zip(("mixed", "other", "note"), values, strict=True):
            cell = _cell(value)
            if cell is not None:
                kept[key] = cell
        expected = json.dumps(kept, ensure_ascii=False, default=str) if kept else None
        assert row["extra"] == expected
