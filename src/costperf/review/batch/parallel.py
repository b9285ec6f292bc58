"""The batch review on Dask: the book partitioned by project, each part reviewed by the
pandas engine (:func:`~costperf.review.batch.engine.review_book`), the parts put back
in the book's order.  Every rule reads one project at a time (lines, caps, gates,
duplicates within a project), so the result is identical to the pandas engine's.

``pip install "costperf[dask]"`` adds ``dask[distributed]``; ``costperf review --engine
dask --workers N`` starts a local cluster of N processes (or pass a ``client``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import pandas as pd

from costperf.errors import InputError, raise_if_problems
from costperf.review.batch.book import RequestBook
from costperf.review.batch.decide import BatchResult, standards_used, summaries, totals
from costperf.review.batch.engine import batch_context, review_book
from costperf.schemas import merge_problems
from costperf.standards import StandardSet, shipped_standards

_POSITION = "_book_position"


def partition_book(book: RequestBook, parts: int) -> list[RequestBook]:
    """The book split into ``parts`` books by a hash of the project id (none empty)."""
    codes = pd.util.hash_array(book.projects["project_id"].astype(str).to_numpy()) % parts
    of = dict(zip(book.projects["project_id"], codes, strict=True))
    out = []
    lines = book.lines.assign(**{_POSITION: np.arange(len(book.lines))})
    for k in range(parts):
        mine = book.projects[codes == k]
        if mine.empty:
            continue
        ids = set(mine["project_id"])
        part_lines = lines[lines["project_id"].map(of).eq(k)]
        part_lines.attrs = dict(book.lines.attrs)
        targets = book.targets[book.targets["project_id"].isin(ids)]
        part = replace(book, projects=mine, lines=part_lines, targets=targets, errors=None)
        out.append(part)  # the book's read errors are reported once, with every part's
    return out


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
    problems = merge_problems([book.errors, *(d[2] for d in done)])
    where = ", ".join(book.sources) or "the request book"
    raise_if_problems(problems, where)  # the read's and every part's, at once
    return _merge(book, done, standards, on, tables)


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


def _merge(
    book: RequestBook,
    done: list,
    standards: StandardSet,
    on: object,
    tables: Mapping[str, str] | None,
) -> BatchResult:
    lines = pd.concat([d[0] for d in done], ignore_index=True)
    lines = lines.sort_values(_POSITION, kind="stable").drop(columns=_POSITION)
    lines = lines.reset_index(drop=True)
    order = {p: i for i, p in enumerate(book.projects["project_id"])}
    projects = pd.concat([d[1] for d in done], ignore_index=True)
    projects = projects.iloc[
        np.argsort(projects["project_id"].map(order).to_numpy(), kind="stable")
    ].reset_index(drop=True)
    context = batch_context(book, standards, on=on, tables=tables)
    return BatchResult(
        lines=lines,
        projects=projects,
        summaries=summaries(lines, projects),
        totals=totals(lines, projects),
        standards_used=standards_used(lines, projects, context),
    )
