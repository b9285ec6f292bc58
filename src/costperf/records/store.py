"""Opening a record store: SQLite file (default) or PostgreSQL database, checked first.

A store is named by a path (an SQLite file; created on first write) or by a
``postgresql://user:password@host/db`` URL.  Before anything is written the target is
inspected: a missing or empty database becomes a new store (SQLite: built from
``head_schema.sql``, the migrations' result, without Alembic); a costperf store of an
older schema is upgraded in place (Alembic, in the same transaction that holds the write
lock); anything else (a text file, another application's database, an SQLite file
another application stamped with a ``user_version`` or ``application_id``, a malformed
file, a store of a newer costperf, a read-only file) is refused with an
:class:`~costperf.errors.InputError` naming it, and is left exactly as it was.

Every write is one transaction, and writers take turns: SQLite ``BEGIN IMMEDIATE`` (WAL
journal, 60 s busy timeout), PostgreSQL a transaction-level advisory lock.  Creating a
store happens inside that lock, so concurrent first writers cannot race.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from costperf.errors import InputError
from costperf.records.models import (
    APPLICATION_ID,
    HEAD_REVISION,
    SCHEMA_VERSION,
    VERSION_TABLE,
)

BUSY_TIMEOUT_S = 60.0
LOCK_KEY = APPLICATION_ID  # PostgreSQL advisory lock id of costperf writers
SCHEMA1_TABLES = frozenset({"meta", "runs", "review_projects", "review_lines", "standards_used"})
REVISIONS = ("0001", "0002", "0003")  # oldest first; the last is HEAD_REVISION
_URL = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://", re.IGNORECASE)


@dataclass(frozen=True)
class Target:
    """Where a store is: an SQLite ``path`` or a PostgreSQL ``url``; ``label`` for messages
    (a URL's password hidden)."""

    label: str
    path: Path | None = None
    url: str | None = None

    @property
    def backend(self) -> str:
        return "sqlite" if self.path is not None else "postgresql"

    def __str__(self) -> str:
        return self.label


def as_target(target: str | Path | Target) -> Target:
    """The store named by a path, an ``sqlite:///`` URL or a ``postgresql://`` URL."""
    if isinstance(target, Target):
        return target
    text = str(target)
    found = _URL.match(text) if isinstance(target, str) else None
    if found is None:
        return Target(label=text, path=Path(target))
    scheme = found["scheme"].lower()
    if scheme.startswith(("postgresql", "postgres")):
        url = sa.engine.make_url(text).set(drivername="postgresql+psycopg")
        label = url.render_as_string(hide_password=True)
        return Target(label=label, url=url.render_as_string(hide_password=False))
    if scheme == "sqlite":
        path = Path(text[len("sqlite:///") :])
        return Target(label=str(path), path=path)
    msg = f"--records {text}: unknown kind of store '{scheme}'; give a file or postgresql://…"
    raise InputError(msg)


# ------------------------------------------------------------------ inspection


@dataclass(frozen=True)
class State:
    """What a database is: ``empty``, ``ours`` (at ``revision``) or refused (``why``)."""

    kind: str
    revision: str | None = None
    why: str = ""


def _sqlite_state(conn: sqlite3.Connection) -> State:
    application_id = conn.execute("PRAGMA application_id").fetchone()[0]
    user_version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables and application_id == 0 and user_version == 0:
        return State("empty")
    ours = application_id == APPLICATION_ID or (application_id == 0 and SCHEMA1_TABLES <= tables)
    if not ours or "meta" not in tables:
        found = ", ".join(sorted(tables)) or "none"
        stamp = []
        if application_id not in (0, APPLICATION_ID):
            stamp.append(f"application_id {application_id}")
        if user_version:
            stamp.append(f"user_version {user_version}")
        return State(
            "other",
            why=(
                "not a costperf record store (an SQLite database of another application: "
                f"tables {found}{'; ' + ', '.join(stamp) if stamp else ''}); "
                "name a new file or an earlier costperf store"
            ),
        )
    rows = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    revision = None
    if VERSION_TABLE in tables:
        row = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
        revision = row[0] if row else None
    return _our_state(rows.get("schema_version"), revision)


def _our_state(schema_version: object, revision: str | None) -> State:
    version = str(schema_version or "").strip()
    if not version.isdigit():
        return State("other", why=f"not a costperf record store (schema version {version!r})")
    if int(version) > SCHEMA_VERSION or (revision is not None and revision not in REVISIONS):
        return State(
            "newer",
            why=(
                f"record store schema version {version} (revision {revision}), this costperf "
                f"writes version {SCHEMA_VERSION}: use a newer costperf"
            ),
        )
    return State("ours", revision=revision)


def _check_integrity(conn: sqlite3.Connection) -> str:
    rows = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
    return "" if rows == ["ok"] else "; ".join(str(r) for r in rows[:3])


def inspect_sqlite(path: Path) -> State:
    """Inspect an existing SQLite file without changing it.

    The connection only reads. It is opened read-write where the file and its folder
    can be written, because only such a connection removes the ``-wal`` and ``-shm``
    files SQLite makes beside a WAL store when it closes; a read-only one would leave
    them behind after a rejected run.
    """
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)
    mode = "rw" if writable else "ro"
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True, timeout=5)
    except sqlite3.Error as exc:
        return State("other", why=f"cannot open the record store (SQLite said: {exc})")
    try:
        state = _sqlite_state(conn)
        if state.kind in ("ours", "empty"):
            problem = _check_integrity(conn)
            if problem:
                return State(
                    "malformed",
                    why=f"the record store is damaged (integrity check: {problem}); "
                    "nothing is appended to it: restore it from a backup or name a new file",
                )
        return state
    except sqlite3.DatabaseError as exc:
        damaged = "malformed" in str(exc)
        why = (
            f"the record store is damaged (SQLite said: {exc}); nothing is appended to it"
            if damaged
            else f"not a costperf record store (SQLite said: {exc})"
        )
        return State("malformed" if damaged else "other", why=why)
    finally:
        conn.close()


def _pg_state(conn: sa.Connection) -> State:
    tables = set(sa.inspect(conn).get_table_names())
    if not tables:
        return State("empty")
    if VERSION_TABLE not in tables or "meta" not in tables:
        found = ", ".join(sorted(tables)[:12])
        return State(
            "other",
            why=f"not a costperf record store (a database of another application: tables "
            f"{found}); name an empty database or schema",
        )
    rows = dict(conn.execute(sa.text("SELECT key, value FROM meta")).fetchall())
    revision = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    return _our_state(rows.get("schema_version"), revision)


# ------------------------------------------------------------------ engines


def _sqlite_engine(path: Path) -> sa.Engine:
    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(
            str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    engine = sa.create_engine("sqlite://", creator=connect, poolclass=NullPool)

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:  # SQLAlchemy's recipe for SQLite locking
        read = conn.get_execution_options().get("costperf_read", False)
        conn.exec_driver_sql("BEGIN DEFERRED" if read else "BEGIN IMMEDIATE")

    return engine


def _pg_engine(url: str) -> sa.Engine:
    return sa.create_engine(url, poolclass=NullPool)


class Store:
    """An open record store: :meth:`write` and :meth:`read` give a connection in one
    transaction.  Close it with :meth:`close` (or use it as a context manager)."""

    def __init__(self, target: Target, engine: sa.Engine) -> None:
        self.target = target
        self.engine = engine

    @property
    def backend(self) -> str:
        return self.target.backend

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """One write transaction, holding the store's write lock until it commits."""
        with _errors(self.target), self.engine.connect() as conn, conn.begin():
            if self.backend == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
            yield conn

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """One read transaction (a consistent snapshot: SQLite's deferred transaction,
        PostgreSQL's REPEATABLE READ)."""
        options = {"costperf_read": True}
        if self.backend == "postgresql":
            options["isolation_level"] = "REPEATABLE READ"
        with (
            _errors(self.target),
            self.engine.connect().execution_options(**options) as conn,
            conn.begin(),
        ):
            yield conn

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def _errors(target: Target) -> Iterator[None]:
    """Database errors that are the store's fault (read-only, locked, gone) as InputError."""
    try:
        yield
    except sa.exc.OperationalError as exc:
        text = str(exc.orig) if exc.orig is not None else str(exc)
        if target.backend == "sqlite" and re.search(
            r"readonly|read-only|unable to open|disk I/O|locked|full", text
        ):
            raise InputError(_sqlite_write_problem(target.path, text)) from exc
        if target.backend == "postgresql" and "connection" in text.lower():
            msg = f"{target}: cannot connect to the record store ({text.strip()})"
            raise InputError(msg) from exc
        raise


def _sqlite_write_problem(path: Path, text: str) -> str:
    if "locked" in text:
        return f"{path}: the record store stayed locked by another writer ({text})"
    if "full" in text:
        return f"{path}: the record store cannot grow: the disk is full ({text})"
    return (
        f"{path}: the record store cannot be written (read-only file or folder; SQLite "
        f"said: {text}); give a store that can be written, or --no-records"
    )


# ------------------------------------------------------------------ open / check


def open_store(target: str | Path | Target) -> Store:
    """Open a record store for writing, creating or upgrading it; refuse what is not one.

    Parameters
    ----------
    target
        An SQLite file path (created with its folder when missing) or a
        ``postgresql://`` URL.

    Returns
    -------
    Store
        Close it when done.

    Raises
    ------
    InputError
        Naming the store: a folder, a text file, another application's database, a
        damaged file, a newer schema, a store that cannot be written.
    """
    target = as_target(target)
    if target.backend == "sqlite":
        engine = _prepare_sqlite(target)
    else:
        engine = _pg_engine(target.url)
    store = Store(target, engine)
    try:
        _ensure_schema(store)
    except BaseException:
        store.close()
        raise
    return store


def check_store(target: str | Path | Target) -> None:
    """Refuse, before anything is written anywhere, a store a run could not write to.

    Nothing is created or changed.  A missing SQLite file needs a folder that can be
    created or written; an existing one must be a costperf store (or an empty SQLite
    database), pass the integrity check and be writable.
    """
    target = as_target(target)
    if target.backend == "postgresql":
        engine = _pg_engine(target.url)
        try:
            with Store(target, engine).read() as conn:
                state = _pg_state(conn)
        finally:
            engine.dispose()
        _refuse(target, state)
        return
    path = target.path
    if path.is_dir():
        msg = f"{path}: is a folder, not a costperf record store"
        raise InputError(msg)
    if not path.exists():
        parent = next((p for p in path.parents if p.exists()), Path())
        if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
            msg = f"{path}: the record store cannot be created here (no writable folder)"
            raise InputError(msg)
        return
    if path.stat().st_size:
        _refuse(target, inspect_sqlite(path))
    _check_writable(path)


def _refuse(target: Target, state: State) -> None:
    if state.kind not in ("ours", "empty"):
        msg = f"{target}: {state.why}"
        raise InputError(msg)


def _check_writable(path: Path) -> None:
    if not os.access(path, os.W_OK):
        msg = (
            f"{path}: the record store is read-only; give a store that can be written, "
            "or --no-records"
        )
        raise InputError(msg)
    if not os.access(path.parent, os.W_OK | os.X_OK):
        msg = (
            f"{path}: the record store's folder {path.parent} is read-only (SQLite needs to "
            "write its journal beside the file)"
        )
        raise InputError(msg)


def _prepare_sqlite(target: Target) -> sa.Engine:
    path = target.path
    if path.is_dir():
        msg = f"{path}: is a folder, not a costperf record store"
        raise InputError(msg)
    new = not path.exists() or path.stat().st_size == 0
    if not new:
        _refuse(target, inspect_sqlite(path))
        _check_writable(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"{path}: cannot create the record store's folder: {exc}"
        raise InputError(msg) from exc
    _use_wal(path)
    return _sqlite_engine(path)


def _use_wal(path: Path) -> None:
    """Switch the file to the WAL journal (concurrent readers, one writer); retried while
    another process holds a lock; a store that stays in its old mode still works."""
    for attempt in range(50):
        try:
            conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise InputError(_sqlite_write_problem(path, str(exc))) from exc
        try:
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if mode == "wal":
                return
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise InputError(_sqlite_write_problem(path, str(exc))) from exc
            time.sleep(0.02 * (attempt + 1))
        finally:
            conn.close()


def _state(store: Store, conn: sa.Connection) -> State:
    if store.backend == "postgresql":
        return _pg_state(conn)
    return _sqlite_state(conn.connection.dbapi_connection)


def _ensure_schema(store: Store) -> None:
    """Create or upgrade the schema inside the write lock (checked again once held)."""
    with store.read() as conn:
        state = _state(store, conn)
    _refuse(store.target, state)
    if state.kind == "ours" and state.revision == HEAD_REVISION:
        return
    with store.write() as conn:
        state = _state(store, conn)
        _refuse(store.target, state)
        if state.kind == "ours" and state.revision == HEAD_REVISION:
            return
        if state.kind == "empty" and store.backend == "sqlite":
            create_head(conn)  # a new SQLite store: the head schema, without alembic
        else:
            migrate(conn)


#: the schema of a new SQLite store at :data:`HEAD_REVISION`: what the migrations build
#: on an empty file, statement by statement (``tests/test_records_store.py`` checks that
#: it still is; :func:`head_script` writes it again after a new migration)
HEAD_SCRIPT = Path(__file__).with_name("head_schema.sql")


def create_head(conn: sa.Connection) -> None:
    """Build the head schema on an empty SQLite store (in ``conn``'s transaction) from
    :data:`HEAD_SCRIPT`: the same tables, indexes, triggers, rows and stamps as
    :func:`migrate`, without importing alembic (about 0.2 s of a ``costperf run``)."""
    for statement in script_statements(HEAD_SCRIPT.read_text(encoding="utf-8")):
        conn.exec_driver_sql(statement)


def script_statements(text: str) -> list[str]:
    """The statements of an SQL script (``;`` inside a trigger's body kept)."""
    statements, lines = [], []
    for line in text.splitlines():
        if not lines and (not line.strip() or line.startswith("--")):
            continue
        lines.append(line)
        if sqlite3.complete_statement("\n".join(lines)):
            statements.append("\n".join(lines).strip().removesuffix(";"))
            lines = []
    return statements


def head_script(conn: sqlite3.Connection) -> str:
    """The script that rebuilds a store's schema and stamps: every ``sqlite_master``
    statement in creation order, the rows of ``meta`` and of the version table, then
    ``application_id`` and ``user_version`` (run on a store :func:`migrate` built)."""
    lines = [
        "-- The schema of a new SQLite record store at the head revision, as the migrations",
        "-- build it (generated by costperf.records.store.head_script; do not edit).",
        "",
    ]
    for (sql,) in conn.execute(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
    ):
        lines += [f"{sql};", ""]
    for table in ("meta", VERSION_TABLE):
        cursor = conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
        names = ", ".join(d[0] for d in cursor.description)
        for row in cursor.fetchall():
            values = ", ".join("'" + str(v).replace("'", "''") + "'" for v in row)
            lines += [f"INSERT INTO {table} ({names}) VALUES ({values});", ""]
    for pragma in ("application_id", "user_version"):
        value = conn.execute(f"PRAGMA {pragma}").fetchone()[0]
        lines += [f"PRAGMA {pragma} = {int(value)};", ""]
    return "\n".join(lines).rstrip() + "\n"


def migrate(conn: sa.Connection) -> None:
    """Upgrade the schema on ``conn`` (in its transaction) to the head revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    config.attributes["connection"] = conn
    command.upgrade(config, "head")
