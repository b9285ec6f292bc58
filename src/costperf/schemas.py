"""Typed schemas for the stage boundaries, built from ``columns.csv``.

Every ``check``/``coerce`` function returns a problems frame (see :mod:`costperf.errors`)
instead of raising, so a loader can collect all problems of a table and raise once.
Problems name the column as the user wrote it (the original header is kept in
``frame.attrs['headers']`` by the reader).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from costperf.columns import column_attribute, column_table
from costperf.errors import LOCATION, check_code, empty_problems, make_problems


def shown_header(frame: pd.DataFrame, name: str) -> str:
    """The header the user wrote for canonical column ``name``; for a column the file
    lacks, its Chinese header (人员级别) when the file's headers are Chinese, else
    ``name`` (a problem names the column to add as the user would write it)."""
    headers = frame.attrs.get("headers", {})
    if name in headers:
        return headers[name]
    if name not in frame.columns and any(_CJK.search(str(h)) for h in headers.values()):
        zh = column_table()["label_zh"].get(name)
        if isinstance(zh, str) and zh:
            return zh
    return name


_CJK = re.compile("[\u3400-\u9fff]")


def _file_of(frame: pd.DataFrame) -> tuple[str, str]:
    files = frame.attrs.get("source", ("", ""))
    return files if isinstance(files, tuple) else (str(files), "")


def row_problems(
    frame: pd.DataFrame,
    mask: pd.Series,
    column: str,
    expected: str,
    check: str,
    *,
    severity: str = "error",
    values: pd.Series | None = None,
) -> pd.DataFrame:
    """Problems for the rows of ``frame`` selected by ``mask`` (vectorised)."""
    if not mask.any():
        return empty_problems()
    rows = frame.loc[mask]
    out = pd.DataFrame(index=rows.index)
    source_file, sheet = _file_of(frame)
    for col, default in (("source_file", source_file), ("sheet", sheet)):
        out[col] = rows[col].astype(object) if col in rows else default
    out["source_row"] = rows["source_row"] if "source_row" in rows else rows.index + 1
    out["column"] = shown_header(frame, column)
    shown = (
        values.loc[mask]
        if values is not None
        else rows.get(column, pd.Series("", index=rows.index))
    )
    out["value"] = shown.astype(object).where(shown.notna(), "").astype(str)
    out["expected"] = expected
    out["check"] = str(check_code(check))
    out["severity"] = severity
    return out.reset_index(drop=True)


def unknown_headers(frame: pd.DataFrame) -> list[str]:
    """The headers of ``frame`` (as written) that name no column costperf knows: where a
    mistyped header shows up when a column is found missing."""
    from costperf.columns import column_table
    from costperf.errors import LOCATION

    known = set(column_table().index) | set(LOCATION) | {"_row"}
    return [str(shown_header(frame, c)) for c in frame.columns if c not in known]


def table_problem(
    frame: pd.DataFrame,
    column: str,
    expected: str,
    check: str,
    *,
    value: str = "",
    severity: str = "error",
    row: int | None = None,
) -> pd.DataFrame:
    """One problem about a whole table or column (``row``: e.g. the header row, or none)."""
    source_file, sheet = _file_of(frame)
    return make_problems(
        [
            {
                "source_file": source_file,
                "sheet": sheet,
                "source_row": "" if row is None else row,
                "column": column,
                "value": value,
                "expected": expected,
                "check": check,
                "severity": severity,
            }
        ]
    )


def concat_problems(parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate problem frames (empty frames are skipped)."""
    parts = [p for p in parts if p is not None and not p.empty]
    if not parts:
        return empty_problems()
    return pd.concat(parts, ignore_index=True)


def blanked_rows(frame: pd.DataFrame, columns: Iterable[str]) -> pd.Series:
    """Rows of ``frame`` whose cell in any of ``columns`` :func:`costperf.io.read.blank_cells` blanked
    (a bad value, reported): a fact derived from them is not missing as well."""
    blanked = frame.attrs.get("blanked", {})
    bad = {row for column in columns for row in blanked.get(column, ())}
    if not bad or "source_row" not in frame:
        return pd.Series(False, index=frame.index)
    return frame["source_row"].isin(bad)


def merge_problems(parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate problem frames, a cell reported once (the first report is kept).

    A check that runs after the schema's sees a cell the schema found bad as blank;
    its "missing value" for that cell repeats the schema's problem and is dropped.
    """
    found = concat_problems(parts)
    if found.empty:
        return found
    cell = [*LOCATION, "column"]
    located = found["source_row"].astype(str).ne("")
    found = found[~(found.duplicated(subset=cell, keep="first") & located)]
    # file by file (in the order first met), each in row order
    order = pd.DataFrame(
        {
            "file": pd.factorize(
                found["source_file"].astype(str) + "\0" + found["sheet"].astype(str)
            )[0],
            "row": pd.to_numeric(found["source_row"], errors="coerce"),
        },
        index=found.index,
    )
    order = order.sort_values(["file", "row"], kind="stable", na_position="first")
    return found.loc[order.index].reset_index(drop=True)


def require_columns(frame: pd.DataFrame, names: Sequence[str], *, what: str = "") -> pd.DataFrame:
    """Problems for each of ``names`` missing from ``frame``; a CSV header row holding
    ';' (a file saved with semicolons, read as one column) says so."""
    present = list(frame.columns.drop(list(LOCATION), errors="ignore"))
    headers = [shown_header(frame, str(c)) for c in present]
    listing = ", ".join(headers) or "none"
    header_row = frame.attrs.get("header_row")
    text_file = str(_file_of(frame)[0]).lower().endswith((".csv", ".txt"))
    semicolons = text_file and any(";" in h for h in headers)
    parts = []
    for name in names:
        if name not in frame.columns:
            zh = column_table()["label_zh"].get(name, "")
            spelled = f"'{name}'" + (f" or '{zh}'" if zh else "")
            expected = (
                f"a column {spelled}{' in ' + what if what else ''} (columns found: {listing})"
            )
            if semicolons:
                expected += (
                    " (the separator looks like a semicolon; save the file as a "
                    "comma-separated CSV)"
                )
            parts.append(table_problem(frame, name, expected, "missing_column", row=header_row))
    return concat_problems(parts)


_NUMBER_JUNK = r"[,，\s\u00a0'’¥￥元]"


def parse_numbers(
    values: pd.Series, *, percent: bool = False
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse a column of cells into floats.

    Returns ``(numbers, missing, unparsable)``.  Accepts numbers, and text such as
    ``"1,234.50"`` (commas only between groups of three digits: ``"1,5"`` is no
    number), ``"¥1 234"``, and with ``percent`` (a column of fractions) ``"12%"``
    (= 0.12); elsewhere a ``%`` makes the cell no number (``"40%"`` persons is a typing
    error, not 0.4 of a person).  Blank cells are missing.  A negative zero is 0
    (pandas' ``to_numeric`` keeps or drops the sign of ``-0`` depending on the other
    cells of the column).
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype(float) + 0.0  # + 0.0 turns -0.0 into 0.0
        infinite = pd.Series(np.isinf(numbers.to_numpy()), index=values.index)
        return numbers.where(~infinite), numbers.isna(), infinite  # inf (Parquet) is no number
    numbers, missing, unparsable = _plain_numbers(values, percent) or _parse_cells(values, percent)
    return numbers + 0.0, missing, unparsable


def _arrow_text(values: pd.Series):  # noqa: ANN202 - a pyarrow ChunkedArray, or None
    """The Arrow strings behind a ``str`` column (a CSV read as text), else None."""
    dtype = values.dtype
    if not isinstance(dtype, pd.StringDtype) or dtype.storage != "pyarrow":
        return None
    return values.array.__arrow_array__()


#: a plain decimal that Arrow's cast and pandas' ``to_numeric`` both round correctly:
#: at most 15 characters (so at most 15 digits, exact in a double) and no exponent
_PLAIN_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$"
_PLAIN_CHARS = 15


def _plain_numbers(
    values: pd.Series, percent: bool
) -> tuple[pd.Series, pd.Series, pd.Series] | None:
    """:func:`parse_numbers` of an Arrow text column, with plain decimals cast by Arrow.

    A CSV column of numbers is nearly all plain decimals (``1234.5``): those are cast
    in one vectorised step, blank cells are missing, and only the other cells (``1,234``,
    ``12%``, full-width digits, junk) go through the cell parser.  The results are the
    cell parser's exactly.  None when ``values`` is not an Arrow text column.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    text = _arrow_text(values)
    if text is None:
        return None
    blank = pc.fill_null(pc.equal(text, ""), True)
    short = pc.and_(pc.less_equal(pc.utf8_length(text), _PLAIN_CHARS), pc.invert(blank))
    plain = pc.fill_null(
        pc.and_(short, pc.invert(pc.match_substring(text, "e", ignore_case=True))), False
    )
    try:  # a clean column: every short cell is a plain decimal
        cast = pc.cast(pc.filter(text, plain), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        plain = pc.and_(plain, pc.match_substring_regex(text, _PLAIN_NUMBER))
        try:
            cast = pc.cast(pc.filter(text, plain), pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
    is_plain = plain.to_numpy(zero_copy_only=False)
    numbers = np.full(len(values), np.nan)
    numbers[is_plain] = cast.to_numpy()
    is_plain &= np.isfinite(numbers)  # 'nan', 'inf': the cell parser words them
    missing = blank.to_numpy(zero_copy_only=False)
    unparsable = np.zeros(len(values), dtype=bool)
    rest = ~is_plain & ~missing
    numbers[~is_plain] = np.nan
    if rest.any():
        parsed, rest_missing, rest_bad = _parse_cells(values[rest], percent)
        numbers[rest] = parsed.to_numpy()
        missing[rest] = rest_missing.to_numpy()
        unparsable[rest] = rest_bad.to_numpy()
    index = values.index
    return (
        pd.Series(numbers, index=index),
        pd.Series(missing, index=index),
        pd.Series(unparsable, index=index),
    )


def _parse_cells(
    values: pd.Series, percent: bool = False
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """:func:`parse_numbers` cell by cell (text cleaned of separators, units, ``%``)."""
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    missing = text.eq("") | values.isna()
    numbers, share = _parse_text(text)
    retry = numbers.isna() & ~missing
    if retry.any():  # full-width digits from a Chinese IME: "１２３．５"
        folded = text[retry].str.normalize("NFKC")
        numbers.loc[retry], share.loc[retry] = _parse_text(folded)
    # a share where none belongs is no number; in a column of fractions, 12% is 0.12
    numbers = numbers.where(~share, numbers / 100.0 if percent else np.nan)
    numbers = numbers.where(np.isfinite(numbers))
    unparsable = numbers.isna() & ~missing
    numbers = numbers.where(~missing)
    return numbers, missing, unparsable


#: a comma that is no thousands separator: not followed by exactly three digits (then
#: the end, a point or another comma), or after a point ("1,5" and "1.234,5" are no
#: numbers here; a user typing a decimal comma must not get 15 or 12345)
_STRAY_COMMA = r"[,，](?![0-9]{3}(?:[.,，%％元]|\s|$))|\.[0-9]*[,，]"


def _parse_text(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    share = text.str.endswith("%") | text.str.endswith("％")
    cleaned = text.str.replace(_NUMBER_JUNK, "", regex=True).str.rstrip("%％")
    numbers = pd.to_numeric(cleaned, errors="coerce").astype(float)
    stray = text.str.contains(_STRAY_COMMA, regex=True)
    return numbers.where(~stray), share


#: the largest magnitude of any number read from a table: far beyond any budget in yuan
#: (a province's is about 1e12), below what HiGHS takes as infinite (1e20) and what the
#: rounding to cents can hold; 1e308 parses as a number and overflows what follows
MAX_MAGNITUDE = 1e18


def coerce_numeric(
    frame: pd.DataFrame,
    names: Sequence[str],
    *,
    min_value: float | None = None,
    allow_missing: bool = False,
    scale: dict[str, float] | None = None,
    max_magnitude: float | None = MAX_MAGNITUDE,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse ``names`` as numbers; return the new frame and the problems found.

    Parameters
    ----------
    max_magnitude
        Largest absolute value allowed (default :data:`MAX_MAGNITUDE`), or None.
    min_value
        Smallest allowed value (e.g. 0 for quantities and prices), or None.
    allow_missing
        Whether blank cells are allowed (left as NaN).
    scale
        Optional multiplier per column (e.g. 10000 for amounts given in 万元).
    """
    out = frame.copy()
    parts = []
    for name in names:
        if name not in frame.columns:
            continue
        numbers, missing, bad = parse_numbers(frame[name], percent=column_unit(name) == "fraction")
        parts.append(row_problems(frame, bad, name, "a number", "not_a_number"))
        if not allow_missing:
            parts.append(
                row_problems(frame, missing, name, "a value (the cell is blank)", "missing_value")
            )
        if min_value is not None:
            low = numbers < min_value
            parts.append(
                row_problems(frame, low, name, f"a number >= {min_value:g}", "below_minimum")
            )
        if max_magnitude is not None:  # 1e308 parses, and overflows what follows
            huge = numbers.abs() > max_magnitude
            expected = f"a number of at most {max_magnitude:g} in magnitude"
            parts.append(row_problems(frame, huge, name, expected, "above_maximum"))
        factor = (scale or {}).get(name, 1.0)
        out[name] = numbers * factor if factor != 1.0 else numbers
    return out, concat_problems(parts)


def coerce_text(
    frame: pd.DataFrame, names: Sequence[str], *, required: Sequence[str] = ()
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn ``names`` into clean text (codes keep leading zeros; 30201.0 -> '30201')."""
    out = frame.copy()
    parts = []
    for name in names:
        if name not in frame.columns:
            continue
        text = _clean_texts(frame[name])
        out[name] = text
        if name in required:
            parts.append(
                row_problems(
                    frame, text.isna(), name, "a value (the cell is blank)", "missing_value"
                )
            )
    return out, concat_problems(parts)


def _clean_texts(col: pd.Series) -> pd.Series:
    """:func:`_cell_text` of every cell as an object column, None for blanks.

    A column of strings (a CSV read as text) is cleaned once per distinct value and
    the rows point at the shared results: fast, and small in memory where values repeat
    (ids, codes, units).  Other columns (Excel cells: numbers, dates, text) per cell.
    """
    is_text = _arrow_text(col) is not None or (
        col.dtype == object and pd.api.types.infer_dtype(col, skipna=True) in ("string", "empty")
    )
    if not is_text:
        text = col.map(_cell_text, na_action="ignore").astype(object)
        return text.where(text.notna() & text.ne(""), None)
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    cleaned = np.empty(len(uniques) + 1, dtype=object)  # the last: blank cells (code -1)
    cleaned[:-1] = [_cell_text(u) or None for u in np.asarray(uniques, dtype=object)]
    return pd.Series(cleaned[codes], index=col.index, dtype=object)


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def check_unique(frame: pd.DataFrame, key: Sequence[str], *, what: str) -> pd.DataFrame:
    """Problems for rows whose ``key`` repeats an earlier row's.

    A key with a column absent from ``frame`` is not checked: without 序号, the lines of
    one project all share its project_id and are not duplicates.
    """
    key = list(key)
    if not key or frame.empty or any(k not in frame.columns for k in key):
        return empty_problems()
    dup = frame.duplicated(subset=key, keep="first") & frame[key].notna().all(axis=1)
    if not dup.any():
        return empty_problems()
    first_row = (
        frame.groupby(key, dropna=True, sort=False)["source_row"].transform("first")
        if "source_row" in frame
        else pd.Series("", index=frame.index)
    )
    keys = (
        frame.loc[dup, key]
        .map(_cell_text)
        .astype(str)
        .agg(" / ".join, axis=1)
        .reindex(frame.index, fill_value="")
    )
    problems = row_problems(frame, dup, key[-1], "", "duplicate_id", values=keys)
    problems["expected"] = [
        f"a unique {what} (first used in row {r})" for r in first_row[dup].tolist()
    ]
    return problems


NUMERIC_DTYPES = ("int", "float")


def column_dtype(name: str) -> str:
    """The dtype ``columns.csv`` gives a canonical column ('' when it is not listed)."""
    return column_attribute("dtype").get(name, "")


def column_unit(name: str) -> str:
    """The unit ``columns.csv`` gives a canonical column ('' when none)."""
    return column_attribute("unit").get(name, "")


#: budget years a table may name (a year outside is a typing error, e.g. 20277 or 1e308)
YEARS = (1900, 2200)


def within_years(dates: pd.Series) -> pd.Series:
    """``dates`` with those outside :data:`YEARS` missing, as ``datetime64[ns]``.

    A date parser reads "-1" or "0001-01-01" as a date centuries away, held at a coarser
    resolution than nanoseconds, which the date arithmetic that follows cannot hold.
    """
    years = dates.dt.year
    kept = dates.where(years.between(*YEARS))
    return kept.astype("datetime64[ns]")


#: a date as users write it: 2027-03-01, 2027/3/1, 2027.3.1, 2027年3月1日 or 20270301,
#: with a time of day that is dropped (a date-time cell from Excel: 2027-03-01 00:00:00)
_DATE_TEXT = re.compile(
    r"(?P<y>\d{4})(?:\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"|(?P<m8>\d{2})(?P<d8>\d{2}))"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)


def parse_dates(values: pd.Series) -> pd.Series:
    """The dates of cells, ``datetime64[ns]`` (NaT where a cell holds no date).

    Text as :data:`_DATE_TEXT` (year first: 2027/3/1 is never read as 3 January),
    ``datetime``/``date`` cells (Excel's), and nothing else: no month names, no day-first
    forms, no impossible days (2027-02-30) and no year outside :data:`YEARS`. Each
    distinct cell is parsed once.
    """
    import datetime
    import unicodedata

    if pd.api.types.is_datetime64_any_dtype(values):
        return within_years(values.dt.tz_localize(None) if values.dt.tz else values).dt.normalize()

    def one(cell: object) -> pd.Timestamp:
        if isinstance(cell, datetime.date):  # datetime too, and pandas' Timestamp
            year, month, day = cell.year, cell.month, cell.day
        else:
            found = _DATE_TEXT.fullmatch(unicodedata.normalize("NFKC", str(cell)).strip())
            if found is None:
                return pd.NaT
            year = int(found["y"])
            month, day = int(found["m"] or found["m8"]), int(found["d"] or found["d8"])
        if not YEARS[0] <= year <= YEARS[1]:
            return pd.NaT
        try:
            return pd.Timestamp(year=year, month=month, day=day)
        except ValueError:  # 2027-02-30, month 13
            return pd.NaT

    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    parsed = pd.DatetimeIndex([*(one(u) for u in uniques), pd.NaT], dtype="datetime64[ns]")
    return pd.Series(parsed[codes], index=values.index, name=values.name)


def _date_year(cell: object) -> int | None:
    """The year a date cell names (a date, or text of :data:`_DATE_TEXT`), else None."""
    import datetime
    import unicodedata

    if isinstance(cell, datetime.date):
        return cell.year
    found = _DATE_TEXT.fullmatch(unicodedata.normalize("NFKC", str(cell)).strip())
    return int(found["y"]) if found else None


def date_expected(cells: pd.Series, what: str = "") -> list[str]:
    """What a date cell should hold, per cell: a whole number an Excel date serial could
    be (a date cell formatted as a number, 46082 = 2026-03-01) says so and names the date;
    a date of a year outside :data:`YEARS` (9999-12-31) names the years a date may take.
    """
    base = f"a date YYYY-MM-DD ({what})" if what else "a date YYYY-MM-DD"
    out = []
    for cell in cells.tolist():
        year = _date_year(cell)
        if year is not None and not YEARS[0] <= year <= YEARS[1]:
            out.append(f"{base} in the years {YEARS[0]} to {YEARS[1]}")
            continue
        text = str(cell).strip().removesuffix(".0")
        serial = int(text) if text.isdigit() and len(text) <= 6 else 0
        day = pd.Timestamp("1899-12-30") + pd.Timedelta(days=serial) if serial >= 61 else None
        if day is not None and YEARS[0] <= day.year <= YEARS[1]:
            out.append(
                f"{base}; {text} looks like an Excel date serial number ({day:%Y-%m-%d}): "
                "format the cell as a date"
            )
        else:
            out.append(base)
    return out


def check_years(
    frame: pd.DataFrame, column: str = "year", *, shown: pd.Series | None = None
) -> pd.DataFrame:
    """A year that is not a whole number, or outside :data:`YEARS`, in a typed column
    (``shown``: the cells as the file gave them, for the messages)."""
    year = pd.to_numeric(frame[column], errors="coerce")
    given = year.notna()
    fractional = given & year.ne(year.round())
    low, high = YEARS
    outside = given & ~fractional & ((year < low) | (year > high))
    return concat_problems(
        [
            row_problems(frame, fractional, column, "a whole year", "not_whole", values=shown),
            row_problems(
                frame, outside, column, f"a year from {low} to {high}", "not_allowed", values=shown
            ),
        ]
    )


#: the units of ``columns.csv`` that count whole things: persons, nights, days, units
#: of equipment held and half-days of teaching (a count of half-days is whole itself)
COUNT_UNITS = {
    "persons": "a whole number of persons",
    "nights": "a whole number of nights",
    "days": "a whole number of days",
    "units": "a whole number of units",
    "half-days": "a whole number of half-days",
}
#: counts of days that may end in half a day: a training's arrival and departure
#: (财行〔2016〕540号 第九条 limits each to 1 day; local measures cap them at 1 day
#: together, half a day each: ``cases/expenditure-requests/local-standards``)
HALF_DAY_COLUMNS = frozenset({"arrival_days", "departure_days", "arrival_departure_days"})


def check_counts(
    frame: pd.DataFrame, names: Iterable[str], units: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """A count (a column whose ``columns.csv`` unit, or whose unit in ``units``, is one
    of :data:`COUNT_UNITS`) that is not a whole number: 2.5 persons, 1.5 nights; the
    columns of :data:`HALF_DAY_COLUMNS` take multiples of half a day (0.5, 1.5). Cells
    below 0 or not a number are the numbers' own problems, not counted here."""
    parts = []
    for name in names:
        unit = (units or {}).get(name) or column_unit(name)
        if name not in frame.columns or unit not in COUNT_UNITS:
            continue
        values = pd.to_numeric(frame[name], errors="coerce").astype(float)
        half = name in HALF_DAY_COLUMNS
        steps = values * 2 if half else values
        with np.errstate(invalid="ignore"):  # inf % 1 is NaN: above the maximum already
            off = values.ge(0) & np.isfinite(values) & (steps % 1 != 0)
        expected = (
            "a whole number of days or half days (a multiple of 0.5)" if half else COUNT_UNITS[unit]
        )
        parts.append(row_problems(frame, off, name, expected, "not_whole"))
    return concat_problems(parts)


@dataclass(frozen=True)
class Schema:
    """Columns, types and checks of one input table.

    A column's type comes from ``columns.csv`` (``dtype`` int or float: parsed as a
    number; anything else: text), unless the schema forces it (``text``, ``numbers``:
    columns a case defines, such as its dimensions and driver inputs).

    Attributes
    ----------
    name
        Table name (``line_items``); ``label_zh`` its Chinese name.
    required, optional
        Canonical columns that must / may be present.
    minimum
        Smallest allowed value of some numeric columns (others: no minimum).
    nullable
        Numeric or text columns that may be blank.
    key
        Columns that identify a row uniquely.
    text, numbers
        Columns typed as text / as numbers whatever ``columns.csv`` says.
    counts
        Whether the counts among the numeric columns (persons, nights, days ...:
        :func:`check_counts`) must be whole numbers.
    """

    name: str
    label_zh: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    minimum: Mapping[str, float] = field(default_factory=dict)
    nullable: tuple[str, ...] = ()
    key: tuple[str, ...] = ()
    allow_extra_numeric: bool = False
    text: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    counts: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional

    @property
    def numeric(self) -> dict[str, float | None]:
        """Numeric columns and their minimum (None: no minimum)."""
        return {
            c: self.minimum.get(c)
            for c in self.columns
            if c in self.numbers or (c not in self.text and column_dtype(c) in NUMERIC_DTYPES)
        }

    def with_columns(
        self, *, text: Iterable[str] = (), numbers: Iterable[str] = (), minimum: float = 0.0
    ) -> Schema:
        """This schema plus optional, nullable columns a case defines (its dimensions as
        text, the project columns its drivers use as numbers >= ``minimum``)."""
        text = tuple(c for c in dict.fromkeys(text) if c not in self.required)
        numbers = tuple(c for c in dict.fromkeys(numbers) if c not in text)
        added = tuple(c for c in (*text, *numbers) if c not in self.columns)
        return replace(
            self,
            optional=self.optional + added,
            nullable=tuple(dict.fromkeys((*self.nullable, *added))),
            minimum={**self.minimum, **dict.fromkeys(numbers, minimum)},
            text=self.text + text,
            numbers=self.numbers + numbers,
        )

    def validate(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Check and type ``frame``; return ``(typed_frame, problems)``."""
        missing = require_columns(frame, self.required, what=f"{self.label_zh} ({self.name})")
        # a missing column: the columns present are still checked, so that the sheet's
        # other problems come with it (the frame itself is returned untyped)
        absent = set(self.required) - set(frame.columns) if not missing.empty else set()
        parts = [missing, self._unknown_columns(frame)]
        out = frame
        for name, minimum in self.numeric.items():
            if name in absent:
                continue
            out, found = coerce_numeric(
                out,
                [name],
                min_value=minimum,
                allow_missing=name in self.nullable,
                max_magnitude=None if name == "year" else MAX_MAGNITUDE,  # its own range
            )
            parts.append(found)
        text_cols = [c for c in self.columns if c not in self.numeric and c not in absent]
        required = [c for c in self.required if c not in self.nullable and c not in self.numeric]
        out, found = coerce_text(out, text_cols, required=[c for c in required if c not in absent])
        parts.append(found)
        if self.counts:
            parts.append(check_counts(out, [c for c in self.numeric if c not in absent]))
        if "year" in self.numeric and "year" in out:
            parts.append(check_years(out, shown=frame["year"]))
        if not absent & set(self.key):
            parts.append(check_unique(out, self.key, what=" + ".join(self.key)))
        if absent:
            return frame, concat_problems(parts)
        out.attrs = dict(frame.attrs)
        return out, concat_problems(parts)

    def _unknown_columns(self, frame: pd.DataFrame) -> pd.DataFrame:
        known = set(self.columns) | set(LOCATION)
        extra = [c for c in frame.columns if c not in known]
        if self.allow_extra_numeric:
            return empty_problems()  # extra columns are drivers; checked by the caller
        parts = [
            table_problem(
                frame,
                shown_header(frame, c),
                f"one of the known columns of {self.name}; it is ignored",
                "unknown_column",
                severity="warning",
            )
            for c in extra
        ]
        return concat_problems(parts)


PROJECTS = Schema(
    "projects",
    "项目",
    required=("project_id", "district"),
    optional=("project_name", "class_of_matter", "department", "year"),
    nullable=("year", "project_name", "class_of_matter", "department"),
    key=("project_id",),
    allow_extra_numeric=True,  # a case's own columns: see Schema.with_columns
)

LINE_ITEMS = Schema(
    "line_items",
    "明细",
    required=("project_id", "cost_element", "amount"),
    optional=("line_no", "econ_code", "item", "unit", "quantity", "unit_price", "standard_id"),
    minimum={"quantity": 0.0, "unit_price": 0.0, "amount": 0.0},
    nullable=("line_no", "quantity", "unit_price", "econ_code", "item", "unit", "standard_id"),
    key=("project_id", "line_no"),
)

OUTPUTS = Schema(
    "outputs",
    "产出",
    required=("project_id", "indicator", "actual"),
    optional=("category", "unit", "target"),
    nullable=("target", "category", "unit"),
    key=("project_id", "indicator"),
)

COST_ELEMENTS = {
    "personnel": "人员",
    "materials": "材料",
    "equipment": "设备",
    "services": "委托服务",
    "management": "管理费",
    "profit": "利润",
    "tax": "税金",
    "other": "其他",
}

# Expenditure requests (支出申报明细): meetings, training, travel, office equipment,
# one row per request line; the facts each kind needs are checked by
# :func:`costperf.review.expenditure.check_requests`.
_REQUEST_NUMBERS = (
    "requested",
    "amount",
    "persons",
    "attendees",
    "trainees",
    "travellers",
    "days",
    "meeting_days",
    "training_days",
    "travel_days",
    "arrival_departure_days",
    "arrival_days",
    "departure_days",
    "teaching_hours",
    "teaching_half_days",
    "nights",
    "quantity",
    "unit_price",
    "staff_count",
    "existing_quantity",
    "replaced_age_years",
    "room_area_m2",
)
_REQUEST_OPTIONAL = (
    "line_no",
    "project_name",
    "department",
    "econ_code",
    "expense_kind",
    "meeting_category",
    "training_category",
    "category",
    "lecturer_title",
    "lecturer_name",
    "meeting_subtype",
    "city",
    "staff_level",
    "date",
    "end_date",
    "equipment_item",
    "item",
    "unit_type",
    "damaged",
    *_REQUEST_NUMBERS,
)
REQUESTS = Schema(
    "requests",
    "支出申报明细",
    required=("request_id",),
    optional=_REQUEST_OPTIONAL,
    minimum=dict.fromkeys(_REQUEST_NUMBERS, 0.0),
    nullable=_REQUEST_OPTIONAL,  # every optional fact may be blank
    key=("request_id", "line_no"),
    counts=True,
)

# The request book (申报书): projects, their lines and their performance targets; see
# :mod:`costperf.review.batch` and ``cases/requests-2027/README.md``.
BOOK_PROJECTS = Schema(
    "projects",
    "项目",
    required=("project_id", "department"),
    optional=("project_name", "class_of_matter", "district", "year"),
    nullable=("project_name", "class_of_matter", "district", "year"),
    key=("project_id",),
    allow_extra_numeric=True,  # the dimension columns unit-cost standards use (road_grade)
)
_BOOK_LINE_OPTIONAL = (
    *_REQUEST_OPTIONAL,
    "travel_item",
    "standard_id",
    "cost_element",
    "unit",
)
BOOK_LINES = Schema(
    "lines",
    "明细",
    required=("project_id",),
    optional=_BOOK_LINE_OPTIONAL,
    minimum=dict.fromkeys(_REQUEST_NUMBERS, 0.0),
    nullable=_BOOK_LINE_OPTIONAL,
    key=("project_id", "line_no"),
    counts=True,
)
BOOK_TARGETS = Schema(
    "targets",
    "绩效目标",
    required=("project_id", "category", "indicator"),
    optional=("unit", "target"),
    nullable=("unit", "target"),
    text=("target",),  # "≥95%" and "按时完成" are targets too; numbers parsed by the review
)
