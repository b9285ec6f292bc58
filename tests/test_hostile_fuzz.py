"""Property: random bytes and random mutations of the input files never crash a command.

``costperf run`` (on the sanitation case) and ``costperf review`` (on the single-sheet
requests and on the request book of requests-2027) are fed mutated copies of their input
files. Each command must exit 0 or 2 — never 1, never a traceback — and a run that is
rejected (exit 2) must leave the record store byte for byte as it was. A run that
succeeds may append to the store, and the store must then still be a store.

Everything runs in-process (``costperf.cli.main``); examples are few in the default run
and many under ``-m slow``.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CASES, SANITATION, copy_case
from costperf.cli import main
from costperf.records import read_records

REQUESTS_CSV = CASES / "expenditure-requests" / "requests.csv"
BOOK = CASES / "requests-2027" / "book"
BOOK_STANDARDS = CASES / "requests-2027" / "standards"

# Values a hostile or careless file puts in a cell.
HOSTILE_CELLS = [
    "",
    " ",
    "-1",
    "0",
    "-0",
    "1e309",
    "inf",
    "-inf",
    "nan",
    "NaN",
    "１２３",
    "12,5",
    "1,000,000",
    "=1+1",
    "+cmd|' /C calc'!A0",
    "@SUM(A1)",
    "\t=1+1",
    "2024-13-45",
    "9999-12-31",
    "1900-01-01",
    "TRUE",
    "一类",
    "五类",
    "北京",
    "火星",
    "HY-01",
    "x" * 40_000,
    "\x00",
    "é\u202e",
    "None",
]

cell_values = st.one_of(
    st.sampled_from(HOSTILE_CELLS),
    st.text(max_size=12),
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


def _run(argv: list[str]) -> tuple[int, str]:
    """``costperf ARGV`` in-process; (exit status, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's own usage errors
            code = int(exc.code or 0)
    return code, err.getvalue()


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _store_digests(store: Path) -> dict[str, str | None]:
    """The store and its SQLite side files, by name."""
    return {s: _digest(Path(f"{store}{s}")) for s in ("", "-wal", "-journal")}


# ------------------------------------------------------------------ mutations


@st.composite
def csv_mutation(draw, n_files: int):
    """A mutation of one CSV file: (file index, kind, arguments)."""
    which = draw(st.integers(0, n_files - 1))
    kind = draw(
        st.sampled_from(["cell", "cell", "cell", "header", "drop_row", "dup_row", "bytes", "cut"])
    )
    return which, kind, draw(st.integers(0, 10**6)), draw(st.integers(0, 10**6)), draw(cell_values)


def _mutate_csv(path: Path, kind: str, a: int, b: int, value: str) -> None:
    raw = path.read_bytes()
    if kind == "bytes":
        pos = a % (len(raw) + 1)
        noise = value.encode("utf-8", "surrogatepass")[:16] or b"\xff\xfe"
        path.write_bytes(raw[:pos] + noise + raw[pos + b % 8 :])
        return
    if kind == "cut":
        path.write_bytes(raw[: a % (len(raw) + 1)])
        return
    # A file cut or garbled by an earlier mutation is read back with replacements.
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig", errors="replace"))))
    if not rows:
        return
    r = a % len(rows)
    if kind == "header":
        c = b % len(rows[0])
        rows[0][c] = value
    elif kind == "drop_row" and len(rows) > 1:
        del rows[1 + r % (len(rows) - 1)]
    elif kind == "dup_row" and len(rows) > 1:
        rows.append(list(rows[1 + r % (len(rows) - 1)]))
    elif kind == "cell" and len(rows) > 1:
        row = rows[1 + r % (len(rows) - 1)]
        if row:
            row[b % len(row)] = value
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    path.write_text(text.getvalue(), encoding="utf-8")


def _store_from_review(folder: Path) -> Path:
    """A record store holding one batch (the single-sheet requests)."""
    store = folder / "records.sqlite"
    code, err = _run(
        [
            "review",
            str(REQUESTS_CSV),
            "--out",
            str(folder / "seed-out"),
            "--records",
            str(store),
            "--date",
            "2024-03-01",
        ]
    )
    assert code == 0, err
    return store


@pytest.fixture(scope="module")
def seed_store(tmp_path_factory) -> Path:
    return _store_from_review(tmp_path_factory.mktemp("fuzz-store"))


def _check_outcome(code: int, err: str, store: Path, before: dict, runs_before: int) -> None:
    assert code in (0, 2), err
    assert "internal error" not in err and "内部错误" not in err and "Traceback" not in err, err
    if code == 2:
        assert _store_digests(store) == before, "a rejected run changed the record store"
    else:
        assert len(read_records(store, "runs")) >= runs_before


FUZZ = settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
FUZZ_SLOW = settings(FUZZ, max_examples=60, derandomize=False)

CASE_FILES = sorted((SANITATION / "data").glob("*.csv"))


def _fuzz_run(seed_store: Path, mutations: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        case = copy_case(root / "case")
        for which, kind, a, b, value in mutations:
            _mutate_csv(case / "data" / CASE_FILES[which].name, kind, a, b, value)
        store = root / "records.sqlite"
        shutil.copyfile(seed_store, store)
        before, runs = _store_digests(store), len(read_records(store, "runs"))
        code, err = _run(["run", str(case), "--out", str(root / "out"), "--records", str(store)])
        _check_outcome(code, err, store, before, runs)


@FUZZ
@given(st.lists(csv_mutation(len(CASE_FILES)), min_size=1, max_size=3))
def test_run_on_mutated_case_files_exits_0_or_2(seed_store, mutations):
    _fuzz_run(seed_store, mutations)


@pytest.mark.slow
@FUZZ_SLOW
@given(st.lists(csv_mutation(len(CASE_FILES)), min_size=1, max_size=3))
def test_run_on_mutated_case_files_many(seed_store, mutations):
    _fuzz_run(seed_store, mutations)


@FUZZ
@given(st.binary(max_size=2_000), st.sampled_from(["case.toml", "data/projects.csv"]))
def test_run_on_random_bytes_exits_2(seed_store, noise, name):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        case = copy_case(root / "case")
        (case / name).write_bytes(noise)
        store = root / "records.sqlite"
        shutil.copyfile(seed_store, store)
        before = _store_digests(store)
        code, err = _run(["run", str(case), "--out", str(root / "out"), "--records", str(store)])
        assert code == 2, err
        assert _store_digests(store) == before


def _fuzz_review(seed_store: Path, source: Path, mutations: list, extra: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if source.is_dir():
            target = root / source.name
            shutil.copytree(source, target)
            files = sorted(target.glob("*.csv"))
        else:
            target = root / source.name
            shutil.copyfile(source, target)
            files = [target]
        for which, kind, a, b, value in mutations:
            _mutate_csv(files[which % len(files)], kind, a, b, value)
        store = root / "records.sqlite"
        shutil.copyfile(seed_store, store)
        before, runs = _store_digests(store), len(read_records(store, "runs"))
        code, err = _run(
            ["review", str(target), "--out", str(root / "out"), "--records", str(store), *extra]
        )
        _check_outcome(code, err, store, before, runs)


def _fuzz_book(seed_store: Path, mutations: list) -> None:
    """The request book of requests-2027, against its own standards folder."""
    _fuzz_review(
        seed_store, BOOK, mutations, ["--standards", str(BOOK_STANDARDS), "--date", "2027-03-01"]
    )


@settings(FUZZ, max_examples=6)
@given(st.lists(csv_mutation(1), min_size=1, max_size=4))
def test_review_on_mutated_request_lines_exits_0_or_2(seed_store, mutations):
    _fuzz_review(seed_store, REQUESTS_CSV, mutations, ["--date", "2024-03-01"])


@settings(FUZZ, max_examples=3)
@given(st.lists(csv_mutation(3), min_size=1, max_size=3))
def test_review_on_a_mutated_request_book_exits_0_or_2(seed_store, mutations):
    _fuzz_book(seed_store, mutations)


@pytest.mark.slow
@FUZZ_SLOW
@given(st.lists(csv_mutation(3), min_size=1, max_size=4))
def test_review_on_a_mutated_request_book_many(seed_store, mutations):
    _fuzz_book(seed_store, mutations)


@FUZZ
@given(st.binary(max_size=4_000))
def test_review_on_random_bytes_exits_2(seed_store, noise):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        target = root / "requests.csv"
        target.write_bytes(noise)
        store = root / "records.sqlite"
        shutil.copyfile(seed_store, store)
        before = _store_digests(store)
        code, err = _run(
            ["review", str(target), "--out", str(root / "out"), "--records", str(store)]
        )
        assert code == 2, err
        assert _store_digests(store) == before
