"""``costperf template requests -o FILE.xlsx``: an empty request book to fill in.

The workbook has the sheets 填表说明 (instructions), 项目, 明细 and 绩效目标, with
Chinese headers that ``costperf review`` reads back, and drop-down validation that
blocks bad entries on every coded column (the lists come from the standard tables and
the routing table, so a new table version needs no code). With ``--lang en`` the same
workbook in English: the sheets Instructions, Projects, Lines and Targets, the English
headers and list words the reader accepts as well (report/template.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

KINDS = ("requests",)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "template",
        help="write an empty input workbook to fill in",
        description="Write an empty request book (projects, lines, targets) with instructions "
        "and drop-down lists, in Chinese or, with --lang en, in English.",
    )
    p.add_argument("kind", choices=KINDS, help="requests: a budget request book")
    p.add_argument("-o", "--output", type=Path, required=True, help="the workbook (.xlsx)")
    p.add_argument(
        "--standards",
        type=Path,
        action="append",
        default=None,
        metavar="DIR",
        help="standard tables the lists come from, beside the shipped ones",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from costperf.commands.review import read_standard_folders
    from costperf.errors import located_error
    from costperf.report.template import write_request_template

    if args.output.suffix.lower() != ".xlsx":
        msg = f"{args.output}: the template is an Excel workbook; give a .xlsx file name"
        raise located_error(msg, source_file=args.output, column="-o", expected="a .xlsx path")
    standards = read_standard_folders(args.standards)
    write_request_template(args.output, standards, args.lang)
    from costperf.columns import message

    print(message("template.wrote", args.lang, path=args.output))
    return 0
