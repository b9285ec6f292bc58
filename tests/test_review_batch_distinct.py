"""The batch review shares work between lines with the same facts (look-ups, texts per
distinct fact set); a line reviewed on its own must come out exactly as in the batch.

Random books draw their lines from a few fact sets (so most lines repeat another's
facts, and the shared paths are taken) with random amounts; the straightforward
computation reviews every line in a book of its own (its own project, so no rule sees
another line) and the two results must be equal cell for cell.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costperf.columns import TEXT_DTYPE
from costperf.errors import raise_if_problems
from costperf.review.batch.book import RequestBook, check_book
from costperf.review.batch.engine import review_book
from costperf.schemas import BOOK_LINES, BOOK_PROJECTS, BOOK_TARGETS

ON = "2027-03-01"
DATES = ["2027-01-15", "2027-04-01", "2027-07-30", "2027-11-20"]
TRIP = [("北京", "司局级"), ("青岛", "其他人员"), ("上海", "其他人员"), ("海口", "厅局级")]

FACTS = st.one_of(
    st.builds(
        lambda c, p, d: {
            "expense_kind": "会议",
            "meeting_category": c,
            "persons": p,
            "days": d,
        },
        st.sampled_from(["二类", "三类", "四类"]),
        st.sampled_from([20, 40, 80]),
        st.sampled_from([1, 2, 3]),
    ),
    st.builds(
        lambda c, p, d: {"econ_code": "30216", "training_category": c, "persons": p, "days": d},
        st.sampled_from(["一类", "二类", "三类"]),
        st.sampled_from([30, 60]),
        st.sampled_from([2, 5]),
    ),
    st.builds(
        lambda trip, part, n: {
            "expense_kind": "差旅",
            "city": trip[0],
            "staff_level": trip[1],
            "nights": n,
            "days": n + 1,
            "persons": 2,
            **({"travel_item": part} if part else {}),
        },
        st.sampled_from(TRIP),
        st.sampled_from([None, "住宿费", "伙食补助费", "市内交通费", "城市间交通费"]),
        st.sampled_from([1, 3]),
    ),
    st.builds(
        lambda item, q: {
            "expense_kind": "办公设备家具",
            "equipment_item": item,
            "staff_level": "处级及以下",
            "quantity": q,
            "unit_price": 5000,
            "staff_count": 20,
            "existing_quantity": 18,
        },
        st.sampled_from(["台式计算机", "办公椅", "文件柜"]),
        st.sampled_from([1, 4]),
    ),
    st.just({"econ_code": "30201", "item": "办公用品"}),
)
LINE = st.tuples(FACTS, st.sampled_from(DATES), st.integers(1, 40).map(lambda k: k * 1000.0))


def book_of(lines: list[dict]) -> RequestBook:
    """A checked book: one project per line, each with a quantified target."""
    ids = [line["project_id"] for line in lines]
    frames = []
    for schema, rows in (
        (BOOK_PROJECTS, [{"project_id": p, "department": "D"} for p in ids]),
        (BOOK_LINES, lines),
        (
            BOOK_TARGETS,
            [
                {"project_id": p, "category": "产出-数量", "indicator": "人次", "target": 10}
                for p in ids
            ],
        ),
    ):
        typed, problems = schema.validate(pd.DataFrame(rows))
        raise_if_problems(problems, schema.name)
        frames.append(typed)
    book, problems = check_book(RequestBook(*frames))
    raise_if_problems(problems, "the book")
    return book


def _cells(frame: pd.DataFrame) -> list[list[object]]:
    def cell(value: object) -> object:
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
            return None
        return value.item() if hasattr(value, "item") else value

    return [[cell(v) for v in row] for row in frame.astype(object).itertuples(index=False)]


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINE, min_size=2, max_size=5))
def test_each_line_reviewed_alone_equals_the_batch(drawn) -> None:
    lines = [
        {
            "project_id": f"P{k}",
            "line_no": 1,
            "date": date,
            "requested": facts["quantity"] * facts["unit_price"]
            if "quantity" in facts
            else requested,
            **facts,
        }
        for k, (facts, date, requested) in enumerate(drawn)
    ]
    # the same facts again under other projects: the batch shares their look-ups and texts
    lines += [{**line, "project_id": line["project_id"] + "b"} for line in lines]
    batch = review_book(book_of(lines), on=ON).lines
    columns = [c for c in batch.columns if c not in ("source_row", "source_file", "sheet")]
    for k, line in enumerate(lines):
        alone = review_book(book_of([line]), on=ON).lines.reindex(columns=columns)
        assert _cells(alone) == _cells(batch.iloc[[k]][columns]), line


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=30))
def test_amounts_formatted_once_per_value_equal_the_one_value_format(fen: list[int]) -> None:
    """format_amounts / format_money (a column, each value once) equal fmt_amount of
    each value, and read back as the value: counts drop trailing zeros (32.8 days), yuan
    keep the fen (8,043.90), whole numbers have no decimals in either."""
    from costperf.review.expenditure.lookup import fmt_amount, format_amounts, format_money

    values = pd.Series([f / 100 for f in fen] + [math.nan])
    counts, money = format_amounts(values), format_money(values)
    assert counts.tolist() == [fmt_amount(v) for v in values]
    assert money.tolist() == [fmt_amount(v, money=True) for v in values]
    for value, c, m in zip(values[:-1], counts, money, strict=False):
        assert float(c.replace(",", "")) == value == float(m.replace(",", ""))
        whole = value == int(value)
        assert ("." in m) == ("." in c) == (not whole)
        assert whole or len(m.rpartition(".")[2]) == 2
        assert not c.endswith("0") or "." not in c
    assert counts.iloc[-1] == money.iloc[-1] == "—"
    # the Arrow form (for message_column's join): the same texts in the str dtype
    for text, arrow in (
        (counts, format_amounts(values, arrow=True)),
        (money, format_money(values, arrow=True)),
    ):
        assert arrow.dtype == TEXT_DTYPE
        pd.testing.assert_series_equal(arrow.astype(object), text, check_exact=True)


def test_a_query_carrying_a_frame_in_its_attrs_is_looked_up() -> None:
    """Found by the slow fuzz (a damaged workbook): the distinct look-up joined its
    result with pd.concat, which compares the frames' attrs, and a frame held there
    (the read's warnings) raised 'truth value of a DataFrame is ambiguous'."""
    from costperf.review.expenditure.lookup import lookup_distinct
    from costperf.standards import read_standards

    query = pd.DataFrame(
        {"staff_level": ["处级及以下"] * 3, "item": ["台式计算机"] * 3, "date": ["2027-04-01"] * 3}
    )
    query.attrs["warnings"] = pd.DataFrame({"check": ["sheet_read"]})
    options = {"on": "date", "table": "office-equipment", "component": "price",
               "dims": ["staff_level"]}  # fmt: skip
    found = lookup_distinct(read_standards(), query, **options)
    assert len(found) == 3 and list(found.columns[:3]) == ["staff_level", "item", "date"]
    assert found["lookup_status"].nunique() == 1  # every row a copy of the one looked up


KIND_CELLS = st.one_of(
    st.none(),
    st.just(math.nan),
    st.sampled_from(["会议", "差旅费", " Travel ", "ＭＥＥＴＩＮＧ", "trip", "家具", "other", ""]),
    st.text(max_size=4),
    st.integers(-3, 3),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(KIND_CELLS, max_size=30), st.booleans())
def test_kinds_spelled_once_per_value_equal_the_row_by_row_map(cells, as_str) -> None:
    """normalise_kinds (each distinct cell spelled once) equals the normalised cells
    mapped row by row through the spellings, values and dtype."""
    import unicodedata

    from costperf.review.expenditure.lookup import map_distinct
    from costperf.review.expenditure.requests import _KIND_SPELLINGS, normalise_kinds

    values = pd.Series(cells, dtype=object)
    if as_str:
        values = values.map(lambda v: v if isinstance(v, str) else None).astype(TEXT_DTYPE)
    key = map_distinct(values, lambda v: unicodedata.normalize("NFKC", str(v)).strip().lower())
    expected = key.map(_KIND_SPELLINGS)
    pd.testing.assert_series_equal(normalise_kinds(values), expected, check_names=False)


#: (case, text) rows: a case number 0-3 (0 and 1 select, others fall through) and a
#: text or a blank
CASE_ROWS = st.lists(
    st.tuples(st.integers(0, 3), st.one_of(st.none(), st.text(max_size=3))), max_size=25
)


@settings(max_examples=200, deadline=None)
@given(
    CASE_ROWS,
    st.booleans(),
)
def test_texts_selected_in_arrow_equal_the_frame_made_of_the_objects(rows, as_str) -> None:
    """select_texts(arrow=True) gives the column a frame makes of the object texts
    (values and dtype), whatever the pieces' dtypes and blanks."""
    from costperf.review.expenditure.lookup import select_texts

    index = pd.Index([10 * k + 3 for k in range(len(rows))])
    case = pd.Series([c for c, _ in rows], index=index)
    cells = pd.Series([t for _, t in rows], index=index, dtype=object)
    texts = cells.astype(TEXT_DTYPE) if as_str else cells

    def piece(tag: str):
        return lambda i: (tag + texts[i]) if tag else texts[i]

    cases = [(case.eq(0), piece("a")), (case.eq(1), piece(""))]
    built = select_texts(index, cases, piece("b"))
    arrow = select_texts(index, cases, piece("b"), arrow=True)
    framed = pd.DataFrame({"t": built.to_numpy()}, index=index)["t"]
    if arrow.dtype == object:
        framed = pd.DataFrame({"t": arrow.to_numpy()}, index=index)["t"]
    pd.testing.assert_series_equal(pd.DataFrame({"t": arrow}, index=index)["t"], framed)


@settings(max_examples=200, deadline=None)
@given(
    CASE_ROWS,
    st.booleans(),
    st.booleans(),
)
def test_a_whole_column_as_a_case_equals_its_rows_built(rows, as_str, arrow) -> None:
    """A case given as a whole column (a Series over the index) selects the same texts
    as a case that builds those rows from it, in either mode, whatever the blanks."""
    from costperf.review.expenditure.lookup import select_texts

    index = pd.Index([10 * k + 3 for k in range(len(rows))])
    case = pd.Series([c for c, _ in rows], index=index)
    cells = pd.Series([t for _, t in rows], index=index, dtype=object)
    texts = cells.astype(TEXT_DTYPE) if as_str else cells
    own = ("x" + texts) if as_str else texts

    def built(tag: str):
        return lambda i: tag + texts[i]

    given_cases = [(case.eq(0), built("a")), (case.le(2), own), (case.eq(1), built("c"))]
    built_cases = [(m, (lambda i: own[i]) if t is own else t) for m, t in given_cases]
    whole = select_texts(index, given_cases, built("b"), arrow=arrow)
    expected = select_texts(index, built_cases, built("b"), arrow=arrow)
    pd.testing.assert_series_equal(whole, expected)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.just(math.nan), st.sampled_from(["a", "b", ""])),
            st.one_of(st.just(math.nan), st.sampled_from([0.0, 1.5, -2.0])),
        ),
        max_size=30,
    )
)
def test_distinct_rows_number_each_row_and_find_each_first_row(rows) -> None:
    """distinct_rows: rows with equal cells (None and NaN told apart) share a code, and
    each code's first row is the lowest row holding it (np.unique's return_index)."""
    from costperf.review.expenditure.lookup import distinct_rows

    index = pd.Index([7 * k + 1 for k in range(len(rows))])
    texts = pd.Series([t for t, _ in rows], index=index, dtype=object)  # None kept
    frame = pd.DataFrame({"t": texts, "v": pd.Series([v for _, v in rows], index=index)})
    codes, first = distinct_rows(frame)
    assert len(codes) == len(frame)

    def cell(value: object) -> object:
        return ("none",) if value is None else ("nan",) if value != value else value

    keys = [(cell(t), cell(v)) for t, v in rows]
    for i in range(len(rows)):
        for j in range(len(rows)):
            assert (codes[i] == codes[j]) == (keys[i] == keys[j])
    if len(rows) >= 2:
        np.testing.assert_array_equal(first, np.unique(codes, return_index=True)[1])
    else:
        assert first.tolist() == list(range(len(rows)))
