"""``costperf review``: review a request book (or single-sheet request lines) in one batch.

Reads a request book — a workbook with the sheets 项目/明细/绩效目标
(``costperf template requests``), a folder of ``projects``/``lines``/``targets`` tables
(CSV or Parquet), or the single-sheet request format of ``cases/expenditure-requests``
— and reviews every project and line with every registered rule.  ``--out DIR`` writes
``review.xlsx``, ``projects.csv``, ``lines.csv``, ``forms/``, ``summary.html`` and
``summary.json`` (and records with ``--records``); ``-o FILE`` writes the reviewed lines
as one table (the single-sheet format's output).  Bad input exits with status 2 and
names the file, sheet, row and column; the store is then left as it was.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from costperf.commands._tables import date_option, lang_argument

EPILOG = """\
examples:
  costperf review cases/requests-2027/book --standards cases/requests-2027/standards --date 2027-03-01 --out out/requests-2027
  costperf review requests.xlsx --out out/ --records out/records.sqlite
  costperf review cases/expenditure-requests/requests.csv -o reviewed.xlsx --date 2024-03-01
  costperf review book/ --out out/ --engine processes --workers 2
  costperf review book/ --out out/ --engine dask --workers 2

request book: cases/requests-2027/README.md; single-sheet lines: cases/expenditure-requests/README.md
"""
ENGINES = ("pandas", "auto", "processes", "dask")
DEFAULT_ENGINE = "pandas"
ENGINE_HELP = (
    "pandas (default: one process), auto (processes for a book of 200,000 lines or more on "
    "2 cores or more, else pandas), processes (--workers local processes, the book split "
    "by project) or dask"
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``review`` and its options."""
    parser = subparsers.add_parser(
        "review",
        help="review a request book against the standards 预算评审",
        description="Review budget requests (项目/明细/绩效目标) against the published "
        "expenditure standards and unit-cost standards, with the target gate.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "requests", type=Path, help="request book (.xlsx, a folder) or request lines (.csv ...)"
    )
    parser.add_argument(
        "--standards",
        type=Path,
        action="append",
        default=None,
        metavar="DIR",
        help="folder of standard tables read beside the shipped ones; a table id in it "
        "replaces the shipped table of that id, unless its versions were uprated from a "
        "shipped version (then added after it) (repeatable)",
    )
    parser.add_argument(
        "--date",
        default=None,
        metavar="D",
        help="date YYYY-MM-DD for lines without one and for project caps (default: today)",
    )
    parser.add_argument("--sheet", default=None, help="sheet of single-sheet request lines")
    lang_argument(parser, "the outputs and the summary")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR", help="output folder")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="the reviewed lines as one table (.csv, .xlsx or .parquet)",
    )
    parser.add_argument(
        "--records",
        type=Path,
        default=None,
        metavar="DB",
        help="SQLite record store (the batch is written in one transaction)",
    )
    parser.add_argument("--engine", default=DEFAULT_ENGINE, help=ENGINE_HELP)
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="worker processes of auto (at most one a core), processes and dask (default 2)",
    )
    parser.set_defaults(func=run)


def _options(args: argparse.Namespace) -> None:
    from costperf.errors import located_error

    if args.out is None and args.output is None:
        msg = "give --out DIR (the batch outputs) or -o FILE (the reviewed lines)"
        raise located_error(msg, column="--out", expected="--out DIR or -o FILE")
    if args.engine not in ENGINES:
        msg = f"--engine {args.engine!r}: use one of: {', '.join(ENGINES)}"
        raise located_error(
            msg,
            column="--engine",
            value=args.engine,
            expected=", ".join(ENGINES),
            check="unknown_engine",
        )
    if args.out is not None:
        from costperf.commands.run import check_out_dir

        check_out_dir(args.out)


def read_standard_folders(folders: list[Path] | None) -> object:
    """The shipped tables plus those of ``folders``. A folder's table id replaces the
    shipped table of that id (a local variant needs no code), unless the folder's
    versions of it continue the shipped ones (:func:`continues_shipped`): then they are
    read after the shipped versions, which stay in force for the dates before them."""
    from costperf.standards import package_standards_dir, read_standards, shipped_standards
    from costperf.standards.tables import header_files, read_header

    if not folders:
        return shipped_standards()
    own = read_standards(folders)
    ours = shipped_standards()
    replaced = {t for t in own.table_ids() if not continues_shipped(own, ours, t)}
    shipped = [
        p
        for p in header_files(package_standards_dir())
        if str(read_header(p)[0].get("table_id")) not in replaced
    ]
    return read_standards([*shipped, *folders])


def continues_shipped(own: object, shipped: object, table_id: str) -> bool:
    """Whether ``own``'s versions of ``table_id`` continue the shipped table: none of
    them has a shipped version's number, and the oldest was made from a shipped version
    (``[source] basis = "id@v"`` with that version's content hash, as ``costperf standards
    uprate`` writes it)."""
    mine = own.versions_of(table_id)
    theirs = {t.version: t for t in shipped.versions_of(table_id)}
    if not mine or not theirs or any(t.version in theirs for t in mine):
        return False
    source = mine[0].header.get("source") or {}
    if not isinstance(source, dict):
        return False
    ref, _, version = str(source.get("basis", "")).rpartition("@")
    base = theirs.get(int(version)) if ref == table_id and version.isdigit() else None
    return base is not None and source.get("basis_hash") == base.content_hash


def _routing(folders: list[Path] | None) -> object:
    """The routing table of the last ``--standards`` folder holding one, else the shipped."""
    from costperf.review.batch.routing import ROUTING_FILE, routing_table

    own = [f for f in folders or [] if (Path(f) / ROUTING_FILE).is_file()]
    return routing_table(own[-1]) if own else None


def _routing_hash(folders: list[Path] | None) -> str:
    """``shipped``, or the sha256 of the routing table a ``--standards`` folder gives."""
    import hashlib

    from costperf.review.batch.routing import ROUTING_FILE

    own = [Path(f) / ROUTING_FILE for f in folders or [] if (Path(f) / ROUTING_FILE).is_file()]
    return "sha256:" + hashlib.sha256(own[-1].read_bytes()).hexdigest() if own else "shipped"


def print_sheet_notes(notes, lang: str = "zh") -> None:  # noqa: ANN001 - a problems frame
    """Say on stderr which sheet of a workbook was read (hidden sheets are skipped), from
    the reader's ``notes`` (:func:`costperf.io.read.problems_in` of a table read)."""
    from costperf.columns import message

    if notes.empty:
        return
    for row in notes[notes["check"].isin(("sheet_read", "hidden_sheet"))].to_dict("records"):
        where = {"file": row["source_file"], "sheet": row["sheet"]}
        if row["check"] == "hidden_sheet":
            text = message("review.hidden_sheet_read", lang, **where)
        elif row.get("value"):
            text = message("review.sheet_read_skipping", lang, **where, hidden=row["value"])
        else:
            text = message("review.sheet_read", lang, **where)
        print(text, file=sys.stderr)


STEPS = (
    "read",
    "route",
    "line",
    "project",
    "check",
    "decide",
    "review.xlsx",
    "csv",
    "forms",
    "summary",
    "records",
)


def run(args: argparse.Namespace) -> int:
    """Read, review, write; print a short summary; return the exit status."""
    _options(args)
    on = date_option(args.date)
    from contextlib import ExitStack

    from costperf.progress import progress

    with (
        progress("costperf review", total=len(STEPS), lang=args.lang) as bar,
        ExitStack() as stack,
    ):
        step = bar.step
        step("read")
        from costperf.io.book import read_request_book

        standards = read_standard_folders(args.standards)
        book = read_request_book(args.requests, sheet=args.sheet, defer=True)
        from costperf.io.read import problems_in

        for frame in (book.projects, book.lines, book.targets):
            print_sheet_notes(problems_in(frame), args.lang)
        routing = _routing(args.standards)
        from costperf.report.background import charts_beside

        stack.enter_context(charts_beside())  # the inputs read: a worker may draw the charts
        result = _review(args, book, standards, on, routing, step)
        summary = None
        if args.out is not None:
            from costperf.review_outputs import write_review_outputs

            # the tables used are recorded by id, version and content hash; the folders'
            # paths are not parameters (the same tables typed another way, or copied,
            # are the same batch), but a folder's own routing table is, by its content
            parameters = {
                "date": None if on is None else f"{on:%Y-%m-%d}",
                "routing": _routing_hash(args.standards),
            }
            if on is None:  # "today" changes daily: record the day used
                import pandas as pd

                parameters["date"] = f"{pd.Timestamp.today():%Y-%m-%d}"
            summary = write_review_outputs(
                result,
                book,
                standards,
                args.out,
                parameters=parameters,
                records_path=args.records,
                lang=args.lang,
                on_step=step,
            )
        if args.output is not None:
            _write_lines(result, args)
    if args.out is not None:  # the problems of an earlier failed batch no longer hold
        from costperf.commands.run import remove_stale_problems

        remove_stale_problems(args.out, args.lang)
    _print(result, summary, args)
    return 0


def _review(args: argparse.Namespace, book, standards, on, routing, step):  # noqa: ANN001, ANN202
    """The book reviewed by the engine ``--engine`` names (``auto``: :func:`engine_workers`)."""
    if args.engine == "dask":
        from costperf.review.batch.parallel import review_book_dask

        return review_book_dask(book, standards, on=on, workers=args.workers, routing=routing)
    if args.engine == "pandas":
        from costperf.review.batch.engine import review_book

        return review_book(book, standards, on=on, routing=routing, on_step=step)
    from costperf.review.batch.parallel import review_book_processes

    workers = engine_workers(args.engine, args.workers)
    return review_book_processes(
        book, standards, on=on, workers=workers, routing=routing, on_step=step
    )


def engine_workers(engine: str, workers: int) -> int:
    """The processes of ``--engine processes`` (``--workers``) or ``auto`` (``--workers``,
    at most one a core: a single core reviews in one process)."""
    import os

    return workers if engine == "processes" else min(workers, os.cpu_count() or 1)


def _write_lines(result: object, args: argparse.Namespace) -> None:
    """The reviewed lines as one table (the single-sheet format keeps its columns), shown
    as the batch outputs show them: an ``.xlsx`` as the review.xlsx 明细 sheet (codes as
    words, the texts of the other language left out), a ``.csv`` as ``lines.csv``
    (Chinese headers and words; ``--lang en``: canonical headers and codes)."""
    from costperf.columns import to_display
    from costperf.io import write_table
    from costperf.report.review_book import shown_values, words
    from costperf.review.expenditure import OUTPUT_COLUMNS
    from costperf.review_outputs import csv_table

    lang = args.lang
    lines = shown_values(result.lines, lang).rename(columns={"project_id": "request_id"})
    columns = [c for c in OUTPUT_COLUMNS if c in lines]
    columns += [c for c in ("review_rule", "line_approved", "department") if c in lines]
    frame = lines[columns]
    suffix = Path(args.output).suffix.lower()
    if suffix == ".xlsx":  # the writer labels the codes and headers in lang
        write_table(words(frame, lang), args.output, lang=lang)
    elif suffix in (".csv", ".txt"):
        write_table(csv_table(frame) if lang == "zh" else frame, args.output, lang=lang)
    else:
        write_table(to_display(frame, lang), args.output, lang=lang)


def _print(result: object, summary: dict | None, args: argparse.Namespace) -> None:
    from costperf.columns import message

    t = result.totals
    lang = args.lang
    print(
        message(
            "review.totals",
            lang,
            projects=t["projects"],
            lines=t["lines"],
            approve=t["projects_approve"],
            reduce=t["projects_reduce"],
            reject=t["projects_reject"],
            requested=t["requested"],
            approved=t["approved"],
            cut_rate=t["cut_rate"],
            manual_projects=t["projects_manual_review"],
            manual_lines=t["lines_manual_review"],
        )
    )
    if args.output is not None:
        print(message("review.lines_written", lang, path=args.output))
    if summary is not None:
        print(message("review.outputs", lang, out=args.out))
        batch = summary["batch_id"]
        if batch and summary["already_recorded"]:
            print(message("review.already_recorded", lang, batch=batch, path=args.records))
        elif batch:
            print(message("review.recorded", lang, batch=batch, path=args.records))
