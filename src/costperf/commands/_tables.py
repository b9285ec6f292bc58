"""Helpers shared by the one-table commands (``decompose``, ``benchmark``).

Columns are named on the command line either as written in the file's header row or by
their canonical/Chinese/English names from ``columns.csv`` (``--value unit_cost`` finds a
column headed 单位成本, and ``--value 单位成本`` one headed unit_cost).  The frames keep
the headers as written, so every located error names the column the user sees.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from costperf.errors import LOCATION

if TYPE_CHECKING:
    import pandas as pd


def date_option(text: str | None, option: str = "--date") -> pd.Timestamp | None:
    """A date given on the command line (``--date``, ``--on``), checked as the data's
    dates are: YYYY-MM-DD in the years :data:`costperf.schemas.YEARS`; else a located
    error naming the option (exit 2). None stays None (the command's default)."""
    import pandas as pd

    from costperf.errors import Check, located_error

    if text is None:
        return None
    from costperf.schemas import YEARS, date_expected

    stamp = pd.to_datetime(text, errors="coerce")
    if pd.isna(stamp) or not YEARS[0] <= stamp.year <= YEARS[1]:
        (expected,) = date_expected(pd.Series([text]))
        msg = f"{option} {text!r}: expected a date YYYY-MM-DD"
        if expected != "a date YYYY-MM-DD":  # 9999-12-31: a date, of a year outside
            msg += f" in the years {YEARS[0]} to {YEARS[1]}"
        raise located_error(msg, column=option, value=text, expected=expected, check=Check.OPTION)
    return stamp


def lang_argument(
    parser: argparse.ArgumentParser,
    what: str = "output headers and the summary",
) -> None:
    """Add ``--lang zh|en`` (``what`` it sets: headers and terminal text; default zh)."""
    parser.add_argument(
        "--lang", choices=("zh", "en"), default="zh", help=f"language of {what} (default: zh)"
    )


def output_arguments(parser: argparse.ArgumentParser, what: str, run) -> None:  # noqa: ANN001
    """Add ``-o/--output`` (``what`` it holds) and ``--lang``, and set the command's ``run``."""
    parser.add_argument(
        "-o", "--output", type=Path, required=True, help=f"{what} (.csv, .xlsx or .parquet)"
    )
    lang_argument(parser)
    parser.set_defaults(func=run)


def input_arguments(parser: argparse.ArgumentParser) -> None:
    """Add DATA, ``--sheet`` and ``--header-row`` as the other data-file commands do."""
    parser.add_argument("data", type=Path, help="data file (.csv, .xlsx, .parquet)")
    parser.add_argument("--sheet", default=None, help="Excel sheet (default: the first)")
    parser.add_argument(
        "--header-row", type=int, default=None, help="1-based header row (default: detected)"
    )


def resolve_columns(
    data: pd.DataFrame, names: Sequence[str], *, option: str
) -> tuple[dict[str, str], pd.DataFrame]:
    """Find each requested column in ``data``'s headers.

    A name matches a header written the same way (ignoring case, spaces and
    full-width forms), or a header with the same canonical meaning in ``columns.csv``.

    Returns
    -------
    (dict, DataFrame)
        Requested name -> header as written, for the names found; and the problems
        table (``missing_column``) for the others.
    """
    from costperf.columns import canonical_name, normalise_header
    from costperf.schemas import concat_problems, require_columns

    headers = [str(c) for c in data.columns if c not in LOCATION]
    by_spelling = {normalise_header(h): h for h in headers}
    by_meaning = {}
    for header in headers:
        meaning = canonical_name(header)[0]
        if meaning is not None:
            by_meaning.setdefault(meaning, header)
    found, parts = {}, []
    for name in names:
        meaning = canonical_name(name)[0]
        header = (
            name
            if name in headers
            else by_spelling.get(normalise_header(name))
            or (by_meaning.get(meaning) if meaning is not None else None)
        )
        if header is None:
            parts.append(require_columns(data, [name], what=option))
        else:
            found[name] = header
    return found, concat_problems(parts)


def shown_name(header: str, lang: str) -> str:
    """Display label of a data column: its ``columns.csv`` label in ``lang`` when the header
    is the canonical name or a label of one; otherwise (aliases too) as written."""
    from costperf.columns import canonical_name, label, normalise_header

    meaning = canonical_name(header)[0]
    if meaning is None:
        return str(header)
    spellings = {normalise_header(s) for s in (meaning, label(meaning, "zh"), label(meaning, "en"))}
    return label(meaning, lang) if normalise_header(header) in spellings else str(header)


def display(frame: pd.DataFrame, lang: str, keep: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Rename the command's columns to display labels; ``keep`` maps others explicitly."""
    from costperf.columns import code_label_map, label

    keep = dict(keep or {})
    own = code_label_map("table_column", lang)  # labels.csv: this command's own headers
    names = {}
    for column in frame.columns:
        if column in keep:
            names[column] = keep[column]
        elif column in own:
            names[column] = own[column]
        elif _percentile(column) is not None:
            names[column] = _percentile_label(column, lang)
        else:
            names[column] = label(column, lang)
    return frame.rename(columns=names)


def _percentile(column: str) -> float | None:
    if not (isinstance(column, str) and column.startswith("p")):
        return None
    try:
        return float(column[1:])
    except ValueError:
        return None


def _percentile_label(column: str, lang: str) -> str:
    from costperf.columns import label, message

    if column in ("p25", "p75"):
        return label(column, lang)
    return message("table.percentile", lang, n=column[1:])


def companion_path(output: Path, tag: str) -> Path:
    """``out.csv`` -> ``out_<tag>.csv``: where a second table goes beside a CSV/Parquet."""
    return output.with_name(f"{output.stem}_{tag}{output.suffix}")


def write_tables(
    tables: Sequence[tuple[str, str, pd.DataFrame]], output: Path, lang: str = "zh"
) -> list[Path]:
    """Write ``(tag, sheet name, frame)`` tables: one workbook, or one file each.

    ``.xlsx``: one sheet per table in ``output``.  ``.csv``/``.parquet``: the first table
    to ``output``, each further one to :func:`companion_path` with its tag.  Everything
    goes through temporary files moved into place, so a failure leaves no partial file.
    """
    from costperf.io import write_table

    output = Path(output)
    if output.suffix.lower() == ".xlsx":
        return [_write_workbook([(sheet, frame) for _, sheet, frame in tables], output, lang)]
    paths = [
        output if i == 0 else companion_path(output, tag) for i, (tag, _, _) in enumerate(tables)
    ]
    return [
        write_table(frame, path, lang=lang)
        for (_, _, frame), path in zip(tables, paths, strict=True)
    ]


def _write_workbook(sheets: Sequence[tuple[str, pd.DataFrame]], path: Path, lang: str) -> Path:
    from costperf.report.excel import write_workbook

    return write_workbook(dict(sheets), path, lang=lang)


def split_names(text: str | None, option: str) -> list[str]:
    from costperf.errors import InputError

    if text is None:
        return []
    names = [t.strip() for t in str(text).split(",")]
    if not names or any(not t for t in names):
        msg = f"{option} {text!r}: expected comma-separated column names, e.g. a,b"
        raise InputError(msg)
    return names


def option_errors(checks: Sequence[tuple[str, object, bool, str]]) -> list:
    """An error for every bad option of ``checks`` (``option, value, ok, expected``),
    each located at its option."""
    from costperf.errors import Check, located_error

    return [
        located_error(
            f"{option} {value}: expected {expected}",
            column=option,
            value=value,
            expected=expected,
            check=Check.OPTION,
        )
        for option, value, ok, expected in checks
        if not ok
    ]


def check_options(checks: Sequence[tuple[str, object, bool, str]], errors: Sequence = ()) -> None:
    """Raise one error naming every bad option of ``checks`` (:func:`option_errors`) and
    the ``errors`` found otherwise, before any data is read; nothing when all are ok."""
    from costperf.errors import Check, merge_errors

    found = [*errors, *option_errors(checks)]
    if found:
        raise merge_errors(found, Check.OPTION)


__all__ = [
    "LOCATION",
    "check_options",
    "companion_path",
    "display",
    "input_arguments",
    "lang_argument",
    "option_errors",
    "resolve_columns",
    "shown_name",
    "split_names",
    "write_tables",
]
