"""The batch review over several processes: the book partitioned by project, each part
reviewed by the pandas engine (:func:`~costperf.review.batch.engine.review_book`), the
parts put back in the book's order.  Every rule reads one project at a time (lines,
caps, gates, duplicates within a project), so the result is identical to the pandas
engine's.

:func:`review_book_processes` (``costperf review --engine processes|auto --workers N``)
forks N local processes, one part each; :func:`review_book_dask` (``pip install
"costperf[dask]"`` adds ``dask[distributed]``; ``--engine dask --workers N``) starts a
local cluster of N processes (or takes a ``client``).  Both cut the book with
:func:`partition_book`'s codes and merge with :func:`merge_parts`.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from costperf.errors import InputError, raise_if_problems
from costperf.review.batch.book import RequestBook
from costperf.review.batch.decide import BatchResult, standards_used, summaries, totals
from costperf.review.batch.engine import batch_context, review_book
from costperf.schemas import merge_problems
from costperf.standards import StandardSet, shipped_standards

_POSITION = "_book_position"


def partition_codes(book: RequestBook, parts: int) -> tuple[np.ndarray, ...]:
    """The part of each project, line and target: the projects, in the book's order, cut
    into ``parts`` runs of about as many lines each; a line and a target go with their
    project (a repeated id with its first row; an unknown one to part 0).  A book whose
    lines come project by project, as the projects do, is cut into runs of lines."""
    ids = book.projects["project_id"]
    index = pd.Index(ids[~ids.duplicated()])
    line_at = index.get_indexer(book.lines["project_id"])
    counts = np.bincount(line_at[line_at >= 0], minlength=len(index))
    before = np.cumsum(counts) - counts
    run = np.minimum(before * parts // max(len(line_at), 1), parts - 1)
    return (
        run[index.get_indexer(ids)],
        _with_project(run, line_at),
        _with_project(run, index.get_indexer(book.targets["project_id"])),
    )


def _with_project(run: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The part of the project at ``at`` (-1: none, part 0)."""
    return np.where(at >= 0, run[np.maximum(at, 0)] if len(run) else 0, 0)


def book_part(book: RequestBook, k: int, codes: tuple[np.ndarray, ...]) -> RequestBook:
    """Part ``k`` of :func:`partition_codes`: its projects, their lines (each with its
    position in the book) and targets; the book's read errors are left to the caller."""
    at = np.flatnonzero(codes[1] == k)
    lines = book.lines.iloc[at].assign(**{_POSITION: at})
    lines.attrs = dict(book.lines.attrs)
    projects, targets = book.projects[codes[0] == k], book.targets[codes[2] == k]
    return replace(book, projects=projects, lines=lines, targets=targets, errors=None)


def partition_book(book: RequestBook, parts: int) -> list[RequestBook]:
    """The book split into at most ``parts`` books by project (:func:`partition_codes`;
    none empty)."""
    codes = partition_codes(book, parts)
    return [book_part(book, k, codes) for k in parts_held(codes)]


def parts_held(codes: tuple[np.ndarray, ...]) -> list[int]:
    """The parts holding a project or a line, in order."""
    return [int(k) for k in np.union1d(codes[0], codes[1])]


def _review_part(
    part: RequestBook,
    standards: StandardSet,
    on: object,
    tables: Mapping[str, str] | None,
    routing: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame | None]:
    """One part reviewed: its lines and projects, or the problems it was refused for."""
    try:
        result = review_book(part, standards, on=on, tables=tables, routing=routing)
    except InputError as exc:  # every part's problems come back, raised together
        return None, None, exc.problems
    return result.lines, result.projects, None


#: lines below which :func:`review_book_processes` reviews in one process: forking,
#: sending the parts' results back and merging them cost more than a second core saves
#: (bench/review.py, bench/README.md)
PROCESS_THRESHOLD = 200_000

#: what a child process of :func:`review_book_processes` was handed (at fork: inherited,
#: not pickled): the book, its parts' codes, the standards, date, tables and routing
_HELD: tuple | None = None


def review_book_processes(
    book: RequestBook,
    standards: StandardSet | None = None,
    *,
    on: object = None,
    tables: Mapping[str, str] | None = None,
    workers: int = 2,
    routing: pd.DataFrame | None = None,
    threshold: int = PROCESS_THRESHOLD,
    on_step: Callable[[str], None] | None = None,
) -> BatchResult:
    """:func:`review_book` over ``workers`` local processes, partitioned by project; the
    same result.

    Each child takes its part of the book (:func:`book_part`) and reviews it with the
    pandas engine; the parent merges them (:func:`merge_parts`).  Where the platform
    forks, the children inherit the book and standards instead of receiving them
    pickled.  A book of fewer than ``threshold`` lines, or ``workers <= 1``, is reviewed
    in this process (``on_step`` as :func:`review_book`'s; the parts report no steps).
    """
    standards = shipped_standards() if standards is None else standards
    if workers <= 1 or len(book.lines) < threshold:
        return review_book(book, standards, on=on, tables=tables, routing=routing, on_step=on_step)
    codes = partition_codes(book, workers)
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    held = (book, codes, standards, on, tables, routing)
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_hold, initargs=held) as pool:
        done = list(pool.map(_review_held, parts_held(codes)))
    return merge_parts(book, done, standards, on, tables)


def _hold(*held: object) -> None:
    """A child's start: keep what it was handed; its stdout (Python's and the file
    descriptor's) is not the parent's."""
    global _HELD  # noqa: PLW0603 - one per process, set once at its start
    _HELD = held
    sys.stdout = Path(os.devnull).open("w")  # noqa: SIM115 - the child's for its life
    os.dup2(sys.stdout.fileno(), 1)


def _review_held(k: int) -> tuple[pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame | None]:
    """Part ``k`` of the held book reviewed (in a child)."""
    book, codes, standards, on, tables, routing = _HELD
    return _review_part(book_part(book, k, codes), standards, on, tables, routing)


def review_book_dask(
    book: RequestBook,
    standards: StandardSet | None = None,
    *,
    on: object = None,
    tables: Mapping[str, str] | None = None,
    workers: int = 2,
    partitions: int | None = None,
    client: object = None,
    routing: pd.DataFrame | None = None,
) -> BatchResult:
    """:func:`review_book` on Dask, partitioned by project; the same result.

    Parameters
    ----------
    workers
        Processes of the local cluster started when no ``client`` is given.
    partitions
        Parts the book is split into (default: 4 per worker).
    client
        A ``distributed.Client`` to use (e.g. of a remote cluster).
    """
    try:
        from distributed import Client, LocalCluster
    except ModuleNotFoundError as exc:
        msg = (
            '--engine dask needs Dask: pip install "costperf[dask]" '
            "(dask[distributed]); or use --engine pandas"
        )
        raise InputError(msg) from exc
    standards = shipped_standards() if standards is None else standards
    parts = partition_book(book, partitions or 4 * max(workers, 1))
    if client is None:
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as own,
        ):
            done = _run(own, parts, standards, on, tables, routing)
    else:
        done = _run(client, parts, standards, on, tables, routing)
    return merge_parts(book, done, standards, on, tables)


def _run(
    client: object,
    parts: list[RequestBook],
    standards: StandardSet,
    on: object,
    tables: Mapping[str, str] | None,
    routing: pd.DataFrame | None,
) -> list[tuple]:
    shared = client.scatter(standards, broadcast=True)
    futures = client.map(
        _review_part, parts, standards=shared, on=on, tables=tables, routing=routing, pure=False
    )
    return client.gather(futures)


def merge_parts(
    book: RequestBook,
    done: list,
    standards: StandardSet,
    on: object,
    tables: Mapping[str, str] | None,
) -> BatchResult:
    """The parts' results (:func:`_review_part`) as one: the book's read problems and
    every part's raised together, else the lines and projects in the book's order."""
    problems = merge_problems([book.errors, *(d[2] for d in done)])
    where = ", ".join(book.sources) or "the request book"
    raise_if_problems(problems, where)  # the read's and every part's, at once
    lines = pd.concat([d[0] for d in done], ignore_index=True)
    lines = _in_order(lines, lines.pop(_POSITION).to_numpy())
    projects = pd.concat([d[1] for d in done], ignore_index=True)
    order = {p: i for i, p in enumerate(book.projects["project_id"])}
    projects = _in_order(projects, projects["project_id"].map(order).to_numpy())
    context = batch_context(book, standards, on=on, tables=tables)
    return BatchResult(
        lines=lines,
        projects=projects,
        summaries=summaries(lines, projects),
        totals=totals(lines, projects),
        standards_used=standards_used(lines, projects, context),
    )


def _in_order(frame: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """``frame``'s rows in the order of their ``positions`` in the book: as they are if
    they come in order already (the parts cut in runs, :func:`partition_codes`)."""
    if (positions[1:] > positions[:-1]).all():
        return frame
    return frame.iloc[np.argsort(positions, kind="stable")].reset_index(drop=True)
