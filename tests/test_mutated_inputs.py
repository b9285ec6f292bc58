"""Seeded random damage to a whole request book: never a crash, and a refused book leaves
the record store byte for byte as it was.

Each case copies ``cases/requests-2027/book``, writes a few hostile values into random
cells (text in numbers, formulas, NUL, huge and fractional numbers, other ids), blanks a
header or repeats a row, and reviews it with ``costperf review`` as a user runs it. The
review must end with exit 0 (the damage was reviewable: e.g. a cell the rules do not
read) or exit 2 (located problems, the problems table written), never an internal error
(exit 1, a traceback). The same book as a workbook takes what only Excel cells hold
(dates, times, booleans, formulas, error values, hidden sheets, merged cells). This is
how three crashes were found in the case run (a project in two groups, a year of 1e308,
a case without dimensions) and one in the records (an Excel date in an extra column);
``-m slow`` runs 100 books and 40 workbooks.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import math
import random
import shutil
from pathlib import Path

import openpyxl
import pytest

from conftest import CASES, run_cli

CASE = CASES / "requests-2027"
FILES = ("lines.csv", "projects.csv", "targets.csv")
VALUES = (
    "", " ", "abc", "-5", "0", "1e308", "inf", "nan", "=1+1", "@SUM(A1)", "+1", "-",
    "１２３", "2027-02-30", "9999-12-31", "1,000", "3.5.6", "\x00", "😀", "None", "TRUE",
    "10%", "-0", "2e3", "A-CZ-001", "99999999999999999999999", "   12  ", "12元", "一百",
    "2027/03/15", "会议费", "五类", "2027.5",
)  # fmt: skip


def damage(book: Path, rng: random.Random) -> list[tuple]:
    """Write 1-4 kinds of damage into the book; return what was done."""
    done = []
    for _ in range(rng.randint(1, 4)):
        name = rng.choice(FILES)
        path = book / name
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        kind = rng.random()
        if kind < 0.8:
            r, c = rng.randrange(1, len(rows)), rng.randrange(len(rows[0]))
            rows[r][c] = rng.choice(VALUES)
            done.append((name, r + 1, rows[0][c], rows[r][c]))
        elif kind < 0.9:
            c = rng.randrange(len(rows[0]))
            done.append((name, "header", rows[0][c]))
            rows[0][c] = rng.choice(["X", "", rows[0][(c + 1) % len(rows[0])]])
        else:
            r = rng.randrange(1, len(rows))
            rows.append(list(rows[r]))
            done.append((name, "repeated row", r + 1))
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows(rows)
    return done


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """A record store holding the intact book's batch."""
    folder = tmp_path_factory.mktemp("store")
    records = folder / "records.sqlite"
    code, _, err = run_cli(*review_args(CASE / "book", folder / "out", records), cwd=folder)
    assert code == 0, err
    return records


def review_args(book: Path, out: Path, records: Path) -> list[object]:
    return [
        "review", book, "--standards", CASE / "standards", "--date", "2027-03-01",
        "--out", out, "--records", records,
    ]  # fmt: skip


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_one(seed: int, tmp_path: Path, store: Path) -> None:
    book = tmp_path / "book"
    shutil.copytree(CASE / "book", book)
    review_damaged(book, damage(book, random.Random(seed)), FILES, tmp_path, store)


def review_damaged(book: Path, done: list, names: tuple, tmp_path: Path, store: Path) -> None:
    """Review the damaged ``book``: exit 0, or exit 2 naming one of ``names`` with the
    problems table written and the record store unchanged; never an internal error."""
    records = tmp_path / "records.sqlite"
    shutil.copy(store, records)
    before = _sha(records)
    code, _, err = run_cli(*review_args(book, tmp_path / "out", records), cwd=tmp_path)
    assert code in (0, 2), (done, err[-2000:])
    assert "Traceback" not in err and "internal error" not in err and "内部错误" not in err, (
        done,
        err[-2000:],
    )
    if code == 2:
        assert (tmp_path / "out" / "problems.csv").is_file(), (done, err[-2000:])
        assert any(name in err for name in names), (done, err[-2000:])  # names the file
        assert _sha(records) == before, done  # a refused batch records nothing


@pytest.mark.parametrize("seed", range(8))
def test_a_damaged_book_is_reviewed_or_refused_never_a_crash(seed, tmp_path, store) -> None:
    check_one(seed, tmp_path, store)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(100, 200))
def test_a_hundred_damaged_books(seed, tmp_path, store) -> None:
    check_one(seed, tmp_path, store)


# ------------------------------------------------------- the same book as a workbook

#: what a workbook cell can hold that a CSV cell cannot (typed by Excel)
CELL_VALUES = (
    "=1+1", "=A1", dt.datetime(2027, 3, 1), dt.date(1900, 1, 1), dt.time(8, 30), True, False,
    0, -1, 1e308, "", None, "１２３", "\u3000", "#N/A", "#DIV/0!", 3.5, "x" * 300,
)  # fmt: skip
SHEETS = (("projects.csv", "项目"), ("lines.csv", "明细"), ("targets.csv", "绩效目标"))


def book_workbook(path: Path) -> None:
    """cases/requests-2027/book as one workbook (numbers as numbers, codes as text)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, title in SHEETS:
        ws = wb.create_sheet(title)
        with (CASE / "book" / name).open(encoding="utf-8-sig", newline="") as fh:
            for i, row in enumerate(csv.reader(fh)):
                ws.append([_typed(v) if i else v for v in row])
    wb.save(path)


def _typed(value: str) -> object:
    try:
        number = float(value)
    except ValueError:
        return value
    return value if value.startswith("0") or not math.isfinite(number) else number


def damage_workbook(path: Path, rng: random.Random) -> list[tuple]:
    """1-4 kinds of workbook damage: typed cells, a hidden sheet, merged cells, rows
    inserted, a column deleted, an instructions sheet first."""
    wb = openpyxl.load_workbook(path)
    done = []
    for _ in range(rng.randint(1, 4)):
        ws = rng.choice(wb.worksheets)
        kind = rng.random()
        if kind < 0.6:
            r, c = rng.randint(1, ws.max_row), rng.randint(1, ws.max_column)
            ws.cell(r, c).value = value = rng.choice(CELL_VALUES)
            done.append((ws.title, r, c, repr(value)[:40]))
        elif kind < 0.7:
            ws.sheet_state = "hidden"
            done.append((ws.title, "hidden"))
        elif kind < 0.8:
            r, c = rng.randint(1, ws.max_row), rng.randint(1, max(1, ws.max_column - 1))
            ws.merge_cells(
                start_row=r, start_column=c, end_row=r + rng.randint(0, 2), end_column=c + 1
            )
            done.append((ws.title, "merged", r, c))
        elif kind < 0.88:
            ws.insert_rows(rng.randint(1, ws.max_row), rng.randint(1, 3))
            done.append((ws.title, "rows inserted"))
        elif kind < 0.95:
            ws.delete_cols(rng.randint(1, ws.max_column))
            done.append((ws.title, "column deleted"))
        else:
            wb.create_sheet("填表说明", 0).append(["请按模板填写"])
            done.append(("instructions sheet first",))
    wb.save(path)
    return done


def check_workbook(seed: int, tmp_path: Path, store: Path) -> None:
    book = tmp_path / "book.xlsx"
    book_workbook(book)
    done = damage_workbook(book, random.Random(seed))
    review_damaged(book, done, ("book.xlsx",), tmp_path, store)


@pytest.mark.parametrize("seed", range(4))
def test_a_damaged_workbook_is_reviewed_or_refused_never_a_crash(seed, tmp_path, store) -> None:
    check_workbook(seed, tmp_path, store)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(300, 340))
def test_forty_damaged_workbooks(seed, tmp_path, store) -> None:
    check_workbook(seed, tmp_path, store)
