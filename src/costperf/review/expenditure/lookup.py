"""Looking up standard lines for request lines, and citing them in the results.

Failed look-ups become problems on the column they name; the lines, table versions
and document numbers used become the provenance columns, with :func:`fmt_amount` for the
numbers shown in reasons.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from costperf.columns import TEXT_DTYPE
from costperf.schemas import concat_problems, row_problems
from costperf.standards import StandardSet, lookup_values
from costperf.standards.lookup import OK, newest_start


def lookup_lines(
    standards: StandardSet,
    query: pd.DataFrame,
    table: str,
    item: str,
    component: str | None = None,
) -> pd.DataFrame:
    """``lookup_values`` on the ``date`` column with only the dimensions in ``query``."""
    dims = [c for c in query.columns if c not in ("date", "room_area_m2")]
    return lookup_dated(standards, query, table=table, item=item, component=component, dims=dims)


def lookup_dated(standards: StandardSet, query: pd.DataFrame, **options: object) -> pd.DataFrame:
    """:func:`lookup_distinct` on the ``date`` column, indexed as ``query``, with the
    unknown values a bad date hid (:func:`with_undated`)."""
    found = lookup_distinct(standards, query, on="date", **options).set_index(query.index)
    return with_undated(standards, query, found, **options)


#: statuses that say no table version is in force on the line's date (or it has none)
DATE_STATUS = "table in force|date"


def with_undated(
    standards: StandardSet, query: pd.DataFrame, found: pd.DataFrame, **options: object
) -> pd.DataFrame:
    """``found`` with ``undated_status`` where a bad or missing date hid an unknown value.

    A line with no table in force on its date is looked up again at the newest start of
    the table (``options['table']``); where that names a value the table knows at no date
    (``unknown category '五类会议'``: :func:`costperf.standards.lookup._explain` checks
    every version), the status is kept in ``undated_status`` and
    :func:`lookup_problems` reports it beside the date's problem, in the same run.
    """
    dated = found["lookup_status"].astype(str).str.contains(DATE_STATUS).to_numpy()
    table = options.get("table")
    start = newest_start(standards, str(table)) if dated.any() and table else None
    if start is None:
        return found
    rows = query.index[dated]
    retry = lookup_distinct(
        standards, query.loc[rows].assign(date=start), on="date", **options
    ).set_index(rows)
    text = retry["lookup_status"].astype(str)
    unknown = text.str.startswith("unknown ") & ~text.str.startswith(
        ("unknown table", "unknown item")
    )
    found = found.copy()
    found["undated_status"] = pd.Series(np.nan, index=found.index, dtype=object)
    found.loc[rows[unknown.to_numpy()], "undated_status"] = text[unknown]
    return found


def distinct_rows(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, first)``: each row's distinct-row number and the first row of each.

    Every column counts, a blank as a value of its own; in object columns ``None`` and
    NaN are told apart (a text built from the cell would differ).
    """
    if len(frame) < 2:  # each row (if any) a distinct row of its own
        return np.zeros(len(frame), dtype=np.intp), np.zeros(len(frame), dtype=np.intp)
    keys = frame.reset_index(drop=True)
    for col in frame.columns:
        if frame[col].dtype == object and frame[col].isna().any():
            keys[f"_none_{col}"] = frame[col].to_numpy() == None  # noqa: E711 - elementwise
    if keys.shape[1] == 0:
        return np.zeros(len(frame), dtype=np.intp), np.zeros(min(len(frame), 1), dtype=np.intp)
    codes = keys.groupby(list(keys.columns), dropna=False, sort=False).ngroup().to_numpy()
    # each group's lowest row, as np.unique's return_index gives it, without its sort
    # (the codes are 0 .. groups - 1, every row in one: dropna=False)
    first = np.full(codes.max() + 1, len(codes), dtype=np.intp)
    np.minimum.at(first, codes, np.arange(len(codes), dtype=np.intp))
    return codes, first


def lookup_distinct(standards: StandardSet, query: pd.DataFrame, **options: object) -> pd.DataFrame:
    """``lookup_values`` of ``query`` computed once per distinct query row.

    A batch's lines share few (dimensions, date) pairs: each is looked up once and its
    result spread to its rows, so the cost follows the distinct pairs, not the lines.
    The result equals ``lookup_values(standards, query, **options)``: every row a copy
    of its distinct row's, the query's own columns kept.
    """
    if len(query) < 2:
        return lookup_values(standards, query, **options)
    codes, first = distinct_rows(query)
    if len(first) == len(query):
        return lookup_values(standards, query, **options)
    found = lookup_values(standards, query.iloc[first], **options)
    width = len(query.columns)
    if list(found.columns[:width]) != list(query.columns) or found.columns.has_duplicates:
        out = found.iloc[codes]
        out.index = query.index
        for col in query.columns:
            out[col] = query[col]
        return out
    # the query's own columns as they are; only the looked-up ones spread by row
    added = found.iloc[codes, width:]
    added.index = query.index
    added.attrs = {}  # concat compares the frames' attrs: a frame held there cannot be
    out = pd.concat([query, added], axis=1)
    out.attrs = dict(found.attrs)
    return out


def line_order(frame: pd.DataFrame) -> np.ndarray:
    """Positions of ``frame``'s rows in line order: by 序号 (``line_no``; blanks last),
    then as written, so that what "an earlier line" means does not depend on the row
    order of the sheet (the identity when there is no ``line_no``)."""
    position = np.arange(len(frame))
    if "line_no" not in frame:
        return position
    number = pd.to_numeric(frame["line_no"], errors="coerce").to_numpy(dtype=float)
    return np.lexsort((position, np.isnan(number), np.nan_to_num(number)))


def map_distinct(values: pd.Series, func: Callable[[object], object]) -> pd.Series:
    """``values.map(func, na_action="ignore")`` calling ``func`` once per distinct value.

    For object columns of text (ids, codes, spellings: few distinct values in a long
    batch); the result, dtype included, is the row-by-row map's (the shared results are
    put back through pandas' own inference).  Other columns are mapped row by row.
    """
    if values.dtype == TEXT_DTYPE and values.notna().any():  # its blanks are all NaN
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        out = values.to_numpy(dtype=object, na_value=np.nan)
    else:
        if isinstance(values.dtype, pd.StringDtype):  # maps as its object view does
            values = values.astype(object)
        if values.dtype != object or pd.api.types.infer_dtype(values, skipna=True) != "string":
            return values.map(func, na_action="ignore")
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        out = values.to_numpy(dtype=object, copy=True)
    results = np.empty(len(uniques), dtype=object)
    results[:] = [func(u) for u in np.asarray(uniques, dtype=object)]
    given = codes >= 0
    out[given] = results[codes[given]]
    return _inferred(out, codes, results, values.index)


_TYPE_OF = np.frompyfunc(type, 1, 1)


def _inferred(
    out: np.ndarray, codes: np.ndarray, results: np.ndarray, index: pd.Index
) -> pd.Series:
    """``pd.Series(out, dtype=object).map(_same, na_action="ignore")`` (pandas' inference
    of a mapped column) with the inference run on the distinct values only: the shared
    ``results`` and one blank of each kind (None, NaN, ...), kept as they are.

    The inferred dtype follows the kinds of value present, not their counts, so the
    distinct values infer as the whole column does; each row then takes its own.
    """
    blank = np.flatnonzero(codes < 0)
    reps: list[object] = []
    where = codes.copy()
    if len(blank):
        blanks = out[blank]
        kind_of, _ = pd.factorize(_TYPE_OF(blanks).astype(object))
        _, first = np.unique(kind_of, return_index=True)
        reps = list(blanks[first])
        where[blank] = len(results) + kind_of
    sample = np.empty(len(results) + len(reps), dtype=object)
    sample[: len(results)] = results
    sample[len(results) :] = reps
    mapped = pd.Series(sample, dtype=object).map(_same, na_action="ignore")
    if mapped.dtype == object:  # nothing converted: the rows' own objects
        return pd.Series(out, index=index, dtype=object)
    taken = mapped.take(where)
    taken.index = index
    return taken


def _same(value: object) -> object:
    return value


def listed_values(
    standards: StandardSet, table: str, dim: str, given: pd.Series
) -> tuple[list[str], pd.Series] | None:
    """The values a closed dimension ``dim`` of ``table`` lists (any version, in file
    order) and ``given`` in the table's spelling (its newest version's aliases and
    suffixes); None when no version lists the dimension's values."""
    from costperf.standards.lookup import normalise_dimension

    specs = [(v.header.get("dimensions") or {}).get(dim) for v in standards.versions_of(table)]
    specs = [spec for spec in specs if spec]
    if not specs:
        return None
    known = list(dict.fromkeys(value for spec in specs for value in spec.get("values") or []))
    return known, normalise_dimension(given, specs[-1])


def value_problems(
    req: pd.DataFrame,
    standards: StandardSet,
    query: pd.DataFrame,
    columns: Mapping[str, str],
    expected: str,
    *,
    open_dims: tuple[str, ...] = (),
    **options: object,
) -> pd.DataFrame:
    """The unknown values of lines looked up for their problems only (a line missing
    another fact: its cap is not computed), in the same run as the others.

    :func:`lookup_dated` of ``query`` with ``options``; a date status counts as ok (a
    date problem is reported with the line's other facts), but for the values it hid;
    a status naming one of ``open_dims`` (a city the table does not list) is no problem.
    """
    if query.empty:
        return concat_problems([])
    found = lookup_dated(standards, query, **options)
    status = found["lookup_status"].astype(str)
    dated = status.str.contains(DATE_STATUS)
    if "undated_status" in found:
        status = status.where(~dated, found["undated_status"].fillna(OK).astype(str))
    else:
        status = status.where(~dated, OK)
    if open_dims:
        status = status.where(~status.str.contains("|".join(open_dims)), OK)
    found = found.drop(columns=["undated_status"], errors="ignore").assign(lookup_status=status)
    return lookup_problems(req, found, columns, expected)


def lookup_problems(
    req: pd.DataFrame, found: pd.DataFrame, columns: Mapping[str, str], expected: str
) -> pd.DataFrame:
    """Problems for looked-up rows whose status is not ok, on the column the status names."""
    bad = found["lookup_status"].ne(OK)
    if not bad.any():
        return concat_problems([])
    status = found.loc[bad, "lookup_status"].astype(str)
    if "undated_status" in found:  # the unknown values a bad date hid (with_undated)
        status = pd.concat([status, found.loc[bad, "undated_status"].dropna().astype(str)])
    parts = []
    for dim, column in columns.items():
        mine = status.str.contains(dim) & ~status.str.contains(DATE_STATUS)
        if dim == "date":
            mine = status.str.contains(DATE_STATUS)
        what = "a date on which the standard table is in force" if dim == "date" else expected
        parts += _by_status(req, status[mine], column, what, "unknown_value")
        status = status[~mine]
    if len(status):
        parts += _by_status(req, status, next(iter(columns.values())), expected, "lookup")
    return concat_problems(parts)


def _by_status(
    req: pd.DataFrame, status: pd.Series, column: str, what: str, check: str
) -> list[pd.DataFrame]:
    """One problem per row, each naming its own row's status (not every row's)."""
    parts = []
    for text, rows in status.groupby(status, sort=True).groups.items():
        mask = pd.Series(False, index=req.index)
        mask.loc[rows] = True
        parts.append(row_problems(req, mask, column, f"{what} ({text})", check))
    return parts


def per_distinct(
    frame: pd.DataFrame, columns: list[str], build: Callable[[pd.DataFrame], pd.Series]
) -> pd.Series:
    """``build`` on the distinct rows of ``frame[columns]`` only, spread to every row
    (reason texts of looked-up lines: a few distinct standard lines per table)."""
    keys = frame[columns]
    if not len(keys):
        return pd.Series("", index=frame.index, dtype=object)
    codes, first = distinct_rows(keys)
    distinct = keys.iloc[first].astype(object).reset_index(drop=True)
    text = build(distinct).astype(object).to_numpy()
    return pd.Series(text[codes], index=frame.index, dtype=object)


def line_refs(found: pd.DataFrame) -> pd.Series:
    """``standard_id@version=value unit`` of looked-up lines."""

    def build(lines: pd.DataFrame) -> pd.Series:
        return (
            lines["standard_id"].astype(str)
            + "@"
            + lines["version"].astype(str)
            + "="
            + format_amounts(lines["value"].astype(float))
            + " "
            + lines["unit"].astype(str)
        )

    return per_distinct(found, ["standard_id", "version", "value", "unit"], build)


def table_refs(*found: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """``table@version`` list and document numbers per row (NaN lookups skipped)."""
    refs, docs = None, None
    for frame in found:
        ok = frame["lookup_status"].eq(OK)
        ref = per_distinct(
            frame,
            ["table_id", "version"],
            lambda d: d["table_id"].astype(str) + "@" + d["version"].astype(str),
        ).where(ok, "")
        doc = frame["document_no"].astype(object).where(ok & frame["document_no"].notna(), "")
        refs = ref if refs is None else join_texts(refs, ref)
        docs = doc if docs is None else join_texts(docs, doc, unique=True)
    return refs, docs


def _texts(values: pd.Series) -> np.ndarray:
    arr = np.asarray(values, dtype=object)
    blank = pd.isna(arr)
    if blank.any():
        arr = arr.copy()
        arr[blank] = ""
    return arr


def join_texts(left: pd.Series, right: pd.Series, *, unique: bool = False) -> pd.Series:
    """``left; right`` per row (blank parts skipped; ``unique``: a part already in
    ``left`` is not repeated), over whole columns."""
    a, b = _texts(left), _texts(right)
    keep = b != ""
    if unique and keep.any():
        rows = np.flatnonzero(keep & (a != ""))
        keep[rows] = [str(b[i]) not in str(a[i]).split("; ") for i in rows]
    sep = np.where((a != "") & keep, "; ", "")
    out = np.where(keep, a + sep + b, a)
    return pd.Series(out, index=left.index, dtype=object)


def fmt_amount(x: object, *, money: bool = False) -> str:
    """Counts for reasons: 114,000 / 33.5; ``money``: yuan to the fen, 1,234.50 / 114,000."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "—"
    value = float(x)
    if value.is_integer():
        return f"{value:,.0f}"
    text = f"{value:,.2f}"
    return text if money else text.rstrip("0").rstrip(".")


def format_amounts(values: pd.Series, *, money: bool = False, arrow: bool = False) -> pd.Series:
    """:func:`fmt_amount` of a whole column (each distinct value formatted once).

    ``arrow``: the same texts in the ``str`` dtype (one Arrow take of the distinct
    texts, no object per row), for :func:`~costperf.columns.message_column`'s Arrow join.
    """
    codes, uniques = pd.factorize(pd.Series(values, copy=False).astype(float), use_na_sentinel=True)
    text = np.empty(len(uniques) + 1, dtype=object)
    text[-1] = "—"
    # 114,000.00 -> 114,000 and (counts) 1,234.50 -> 1,234.5 (what follows the point)
    shown = (f"{u:,.2f}" for u in uniques.tolist())
    if money:
        text[:-1] = [t[:-3] if t.endswith(".00") else t for t in shown]
    else:
        text[:-1] = [t.rstrip("0").rstrip(".") if "." in t else t for t in shown]
    index = values.index if isinstance(values, pd.Series) else None
    if arrow:
        import pyarrow as pa

        rows = np.where(codes < 0, len(uniques), codes)  # a blank: the last text, "—"
        taken = pa.array(text, type=pa.large_string()).take(pa.array(rows))
        array = pd.arrays.ArrowStringArray(pa.chunked_array([taken]), dtype=TEXT_DTYPE)
        return pd.Series(array, index=index, copy=False)
    return pd.Series(text[codes], index=index, dtype=object)


def format_money(values: pd.Series, *, arrow: bool = False) -> pd.Series:
    """Yuan for reasons: 1,234.50 / 114,000 (:func:`format_amounts` with ``money``)."""
    return format_amounts(values, money=True, arrow=arrow)


def select_texts(
    index: pd.Index,
    cases: list[tuple[pd.Series, Callable[[pd.Index], pd.Series] | pd.Series]],
    default: Callable[[pd.Index], pd.Series],
    *,
    arrow: bool = False,
) -> pd.Series:
    """Text per row from the first case whose mask holds, else ``default``.

    Like ``np.select`` over string columns, but each case's text is built only for
    the rows it applies to (``build(rows)`` -> a Series over ``rows``); a case may give
    a whole column instead of ``build`` (a Series over ``index``: its rows are used as
    they are, with no column of them made first).  An object Series; ``arrow``: the
    ``str`` column a frame makes of it (the texts put together in Arrow, no object per
    row), or the object Series where that has no text at all (a frame keeps it object).
    """
    out = np.full(len(index), "", dtype=object)
    left = np.ones(len(index), dtype=bool)
    pieces, start = [], 0  # start: the rows of the pieces so far
    order = np.empty(len(index), dtype=np.intp)  # each row's place among the pieces' rows
    for mask, build in [*cases, (None, default)]:
        take = left & (np.asarray(mask, dtype=bool) if mask is not None else True)
        if take.any():
            rows = index[take]
            whole = isinstance(build, pd.Series)
            if whole and not build.index.equals(index):  # its rows in the order of index
                build = build.reindex(index)
            if arrow:
                at = np.flatnonzero(take)
                chunks = _arrow_chunks(build if whole else build(rows))
                # a whole column's rows are at their own places in it
                order[at] = start + (at if whole else np.arange(len(at)))
                pieces += chunks
                start += sum(len(c) for c in chunks)
            else:
                out[take] = (build[take] if whole else build(rows)).astype(object).to_numpy()
        left &= ~take
    if not arrow or not pieces:
        return pd.Series(out, index=index, dtype=object)
    import pyarrow as pa

    # one array first: Arrow's take over a chunked array resolves each row's chunk on its
    # own, some ten times slower than a copy of the pieces and a take of one array
    joined = pa.concat_arrays(pieces) if len(pieces) > 1 else pieces[0]
    taken = pa.chunked_array([joined.take(pa.array(order))])
    text = pd.Series(pd.arrays.ArrowStringArray(taken, dtype=TEXT_DTYPE), index=index, copy=False)
    return text.astype(object) if text.isna().all() else text


def _arrow_chunks(values: pd.Series) -> list:
    """``values`` as Arrow text chunks (``large_string``): its own where it is ``str``."""
    import pyarrow as pa

    array = pa.array(values.astype(TEXT_DTYPE).array)
    chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
    return [chunk.cast(pa.large_string()) for chunk in chunks]
