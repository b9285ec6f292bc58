"""``--engine processes``: the batch review over local processes, partitioned by project,
gives the pandas engine's result; every part's problems come in one error."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pandas as pd
import pytest

from conftest import REQUESTS_2027 as CASE
from conftest import REQUESTS_2027_DATE as DATE
from conftest import problem_cells, set_cell
from costperf.cli import main
from costperf.errors import InputError

BOOK, STANDARDS = CASE / "book", CASE / "standards"


@pytest.fixture(scope="module")
def standards():
    from costperf.commands.review import read_standard_folders

    return read_standard_folders([STANDARDS])


def assert_same_result(got, expected) -> None:
    pd.testing.assert_frame_equal(got.lines, expected.lines)
    pd.testing.assert_frame_equal(got.projects, expected.projects)
    assert got.summaries.keys() == expected.summaries.keys()
    for by, table in expected.summaries.items():
        pd.testing.assert_frame_equal(got.summaries[by], table)
    assert got.totals == expected.totals
    pd.testing.assert_frame_equal(got.standards_used, expected.standards_used)


@pytest.mark.parametrize("shuffled", [False, True])
def test_the_processes_engine_gives_the_pandas_engine_s_result(standards, shuffled) -> None:
    """Split in two (the threshold lowered), in the book's order or with its lines and
    projects shuffled (each part's rows then put back where they were)."""
    from costperf.io.book import read_request_book
    from costperf.review.batch.engine import review_book
    from costperf.review.batch.parallel import partition_book, review_book_processes

    book = read_request_book(BOOK)
    if shuffled:
        lines = book.lines.sample(frac=1, random_state=3)
        lines.attrs = dict(book.lines.attrs)
        book = replace(book, lines=lines, projects=book.projects.sample(frac=1, random_state=4))
    assert len(partition_book(book, 2)) == 2
    expected = review_book(book, standards, on=DATE)
    got = review_book_processes(book, standards, on=DATE, workers=2, threshold=0)
    assert_same_result(got, expected)


def test_parts_are_runs_of_about_as_many_lines_and_keep_a_project_whole() -> None:
    from costperf.io.book import read_request_book
    from costperf.review.batch.parallel import partition_book

    book = read_request_book(BOOK)
    parts = partition_book(book, 5)
    sizes = [len(p.lines) for p in parts]
    assert sum(sizes) == len(book.lines) and max(sizes) - min(sizes) < 60
    owners = [set(p.projects["project_id"]) for p in parts]
    assert sum(map(len, owners)) == len(book.projects)
    for part, mine in zip(parts, owners, strict=True):
        assert set(part.lines["project_id"]) <= mine
        assert set(part.targets["project_id"]) <= mine


def test_a_small_book_or_one_worker_is_reviewed_in_this_process(standards, monkeypatch) -> None:
    from costperf.io.book import read_request_book
    from costperf.review.batch import parallel

    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("no pool for a small book")

    monkeypatch.setattr(parallel, "ProcessPoolExecutor", no_pool)
    book = read_request_book(BOOK)
    assert len(book.lines) < parallel.PROCESS_THRESHOLD
    steps = []
    got = parallel.review_book_processes(book, standards, on=DATE, on_step=steps.append)
    assert steps == ["route", "line", "project", "check", "decide"]
    one = parallel.review_book_processes(book, standards, on=DATE, workers=1, threshold=0)
    assert got.totals == one.totals


def test_every_part_s_problems_come_in_one_error(tmp_path, standards) -> None:
    """Problems in both parts, and the read's own, come at once, as the pandas engine's."""
    from costperf.io.book import read_request_book
    from costperf.review.batch.engine import review_book
    from costperf.review.batch.parallel import review_book_processes

    bad = tmp_path / "book"
    shutil.copytree(BOOK, bad)
    set_cell(bad / "lines.csv", 3, "申报数", "一千二")  # the schema
    for row in (6, 40, 80):  # the meeting rule (the meetings are in the first part)
        set_cell(bad / "lines.csv", row, "会议类别", "五类")
    for row in (500, 700):  # the router, in the second part
        set_cell(bad / "lines.csv", row, "支出类型", "旅游")
    book = read_request_book(bad, defer=True)
    with pytest.raises(InputError) as pandas_engine:
        review_book(book, standards, on=DATE)
    with pytest.raises(InputError) as processes:
        review_book_processes(book, standards, on=DATE, workers=2, threshold=0)
    cells = ["source_file", "source_row", "column", "check"]
    mine = pandas_engine.value.problems[cells].astype(str)
    theirs = processes.value.problems[cells].astype(str)
    assert set(map(tuple, theirs.to_numpy())) == set(map(tuple, mine.to_numpy()))
    assert {("6", "会议类别"), ("700", "支出类型")} <= set(
        map(tuple, theirs[cells[1:3]].to_numpy())
    )


def test_review_engine_processes_through_the_cli(tmp_path, capsys, monkeypatch) -> None:
    """The CLI's reviewed lines with --engine processes are the pandas engine's; a bad book
    exits 2 with the problems of every part; nothing of the children's on stdout."""
    from costperf.review.batch import parallel

    monkeypatch.setattr(parallel, "PROCESS_THRESHOLD", 0)
    args = ["review", str(BOOK), "--standards", str(STANDARDS), "--date", DATE]
    assert main([*args, "-o", str(tmp_path / "pandas.csv"), "--engine", "pandas"]) == 0
    pandas_out = capsys.readouterr().out
    engine = ["--engine", "processes", "--workers", "2"]
    assert main([*args, "-o", str(tmp_path / "processes.csv"), *engine]) == 0
    assert capsys.readouterr().out == pandas_out.replace("pandas.csv", "processes.csv")
    mine = (tmp_path / "processes.csv").read_bytes()
    assert mine == (tmp_path / "pandas.csv").read_bytes()
    bad = tmp_path / "bad"
    shutil.copytree(BOOK, bad)
    set_cell(bad / "lines.csv", 6, "会议类别", "五类")  # in the first part
    set_cell(bad / "lines.csv", 700, "支出类型", "旅游")  # in the second
    bad_args = ["review", str(bad), "--standards", str(STANDARDS), "--date", DATE, *engine]
    assert main([*bad_args, "--out", str(tmp_path / "bad-out")]) == 2
    cells = problem_cells(tmp_path / "bad-out" / "problems.csv")
    assert {(r, c) for _, r, c, _ in cells} >= {("6", "会议类别"), ("700", "支出类型")}


def test_an_unknown_engine_names_every_engine(tmp_path, capsys) -> None:
    args = ["review", str(BOOK), "--out", str(tmp_path / "out"), "--engine", "spark"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "pandas、auto、processes、dask 之一" in err


def test_the_engine_help_names_the_threshold() -> None:
    from costperf.commands.review import DEFAULT_ENGINE, ENGINE_HELP, ENGINES
    from costperf.review.batch.parallel import PROCESS_THRESHOLD

    assert f"{PROCESS_THRESHOLD:,} lines" in ENGINE_HELP
    assert DEFAULT_ENGINE in ENGINES and ENGINE_HELP.count("(default") == 1
