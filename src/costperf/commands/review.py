"""``costperf review``: review meeting, training, travel and equipment requests line by line.

Reads the request lines (CSV, XLSX or Parquet; Chinese or English headers), applies the
published expenditure standards in force on each line's date, and writes one reviewed
line per request line (approved, cut, decision, reason, standard and document used) with
Chinese headers (``--lang en``: English).  Bad input exits with status 2 and names the
file, row and column.
"""

from __future__ import annotations

import argparse
from pathlib import Path

EPILOG = """\
examples:
  costperf review cases/expenditure-requests/requests.csv -o reviewed.xlsx
  costperf review requests.csv --date 2024-03-01 --lang en -o reviewed.csv
  costperf review requests.xlsx --sheet 申报明细 --standards my-standards/ -o reviewed.csv

request format and rules: cases/expenditure-requests/README.md
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``review`` and its options."""
    parser = subparsers.add_parser(
        "review",
        help="review expenditure requests against published standards 支出标准审核",
        description="Review meeting, training, travel and office-equipment requests "
        "(会议费、培训费、差旅费、办公设备家具) against the published expenditure standards.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("requests", type=Path, help="request lines (.csv, .xlsx, .parquet)")
    parser.add_argument(
        "--standards",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of standard tables (default: the shipped standards/)",
    )
    parser.add_argument(
        "--date",
        default=None,
        metavar="D",
        help="date YYYY-MM-DD for lines without one (default: today)",
    )
    parser.add_argument("--sheet", default=None, help="Excel sheet (default: the first)")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="output headers")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="reviewed lines (.csv, .xlsx or .parquet)",
    )
    parser.set_defaults(func=run)


def _date(text: str | None) -> object:
    import pandas as pd

    from costperf.errors import located_error

    if text is None:
        return None
    stamp = pd.to_datetime(text, errors="coerce")
    if pd.isna(stamp):
        msg = f"--date {text!r}: expected a date YYYY-MM-DD"
        raise located_error(msg, column="--date", value=text, expected="a date YYYY-MM-DD")
    return stamp


def print_sheet_notes(frame) -> None:  # noqa: ANN001 - a frame from read_checked
    """Say on stderr which sheet of a workbook was read (hidden sheets are skipped)."""
    import sys

    from costperf.io.read import problems_in

    notes = problems_in(frame)
    if notes.empty:
        return
    for row in notes[notes["check"].isin(("sheet_read", "hidden_sheet"))].to_dict("records"):
        print(f"costperf: note: {row['source_file']}: {row['expected']}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Read, review, write; print a one-line summary; return the exit status."""
    from costperf.columns import to_display
    from costperf.io import read_checked, write_table
    from costperf.review.expenditure import review_expenditure
    from costperf.schemas import REQUESTS
    from costperf.standards import read_standards, shipped_standards

    on = _date(args.date)
    standards = shipped_standards() if args.standards is None else read_standards(args.standards)
    requests = read_checked(args.requests, REQUESTS, sheet=args.sheet)
    print_sheet_notes(requests)
    reviewed = review_expenditure(requests, standards, on=on)
    write_table(to_display(reviewed, args.lang), args.output)
    counts = reviewed["decision"].value_counts()
    requested, approved = reviewed["requested"].sum(), reviewed["approved"].sum()
    rate = (requested - approved) / requested if requested else 0.0
    print(
        f"review 审核: {len(reviewed)} lines 行; 通过 {counts.get('approve', 0)}, "
        f"核减 {counts.get('reduce', 0)}, 不予安排 {counts.get('reject', 0)}; "
        f"申报 {requested:,.2f} 元, 审定 {approved:,.2f} 元, 核减率 {rate:.1%}"
    )
    print(f"reviewed lines 审核结果: {args.output}")
    return 0
