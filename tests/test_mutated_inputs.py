"""Seeded random damage to a whole request book: never a crash, and a refused book leaves
the record store byte for byte as it was.

Each case copies ``cases/requests-2027/book``, writes a few hostile values into random
cells (text in numbers, formulas, NUL, huge and fractional numbers, other ids), blanks a
header or repeats a row, and reviews it with ``costperf review`` as a user runs it. The
review must end with exit 0 (the damage was reviewable: e.g. a cell the rules do not
read) or exit 2 (located problems, the problems table written), never an internal error
(exit 1, a traceback). This is how three crashes were found in the case run (a project
in two groups, a year of 1e308, a case without dimensions); ``-m slow`` runs 100 books.
"""

from __future__ import annotations

import csv
import hashlib
import random
import shutil
from pathlib import Path

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
    done = damage(book, random.Random(seed))
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
        assert any(name in err for name in FILES), (done, err[-2000:])  # names the file
        assert _sha(records) == before, done  # a refused batch records nothing


@pytest.mark.parametrize("seed", range(8))
def test_a_damaged_book_is_reviewed_or_refused_never_a_crash(seed, tmp_path, store) -> None:
    check_one(seed, tmp_path, store)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(100, 200))
def test_a_hundred_damaged_books(seed, tmp_path, store) -> None:
    check_one(seed, tmp_path, store)
