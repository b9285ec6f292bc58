"""``costperf records``: the feedback loop over the record store.

``import-monitoring`` and ``import-evaluation`` read 双监控 rows and evaluation results,
flag them by the rules in ``policies/`` and record them; ``feedback`` recommends next
year's budget per project; ``rederive`` re-derives a unit-cost standard from completed
projects' recorded actuals; ``list``, ``show`` and ``export`` read the records (with
filters); ``history`` writes the year-over-year view with charts.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from costperf.commands._tables import lang_argument
from costperf.errors import InputError

DEFAULT_STORE = "records.sqlite"
TABLE_NAMES = {  # what `records list TABLE` accepts -> the store's table
    "runs": "runs",
    "decisions": "review_projects",
    "lines": "review_lines",
    "standards": "standards_used",
    "proposals": "proposals",
    "monitoring": "monitoring_observations",
    "flags": "followup_actions",
    "evaluations": "evaluation_results",
    "recommendations": "recommendations",
}
FILTERS = {  # option -> column
    "year": "year",
    "department": "department",
    "class_": "class_of_matter",
    "decision": "decision",
    "recommendation": "recommendation",
    "project": "project_id",
    "run": "run_id",
}


def _common_options(p: argparse.ArgumentParser) -> None:
    """``--lang`` (the text printed and the headers written) and ``--records``."""
    lang_argument(p)
    p.add_argument(
        "--records",
        default=os.environ.get("COSTPERF_RECORDS", DEFAULT_STORE),
        help="record store: SQLite file or postgresql://… URL "
        f"(default: $COSTPERF_RECORDS or {DEFAULT_STORE})",
    )


def _filter_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--year", type=int, default=None, help="年度 year")
    p.add_argument("--department", default=None, help="预算部门 department")
    p.add_argument(
        "--class", dest="class_", metavar="CLASS", default=None, help="事项类别 class of matter"
    )
    p.add_argument("--decision", default=None, help="审核结论 approve / reduce / reject")
    p.add_argument(
        "--recommendation", default=None, help="cancel reduce improve maintain prioritise"
    )
    p.add_argument("--project", default=None, help="项目编码 project id")
    p.add_argument("--run", default=None, help="run id")
    p.add_argument("--all", action="store_true", help="include superseded rows (history)")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``costperf records <action>``."""
    parser = subparsers.add_parser(
        "records",
        help="records and the feedback loop: monitoring, evaluation, next year 绩效反馈",
        description="The record store and the feedback loop (花钱必问效): 双监控, 绩效评价, "
        "next year's recommendations, standards from experience.",
    )
    sub = parser.add_subparsers(dest="records_command", required=True, metavar="ACTION")

    p = sub.add_parser("import-monitoring", help="record 双监控 rows and flag them")
    p.add_argument("file", type=Path, help="monitoring rows (.csv, .xlsx, .parquet)")
    p.add_argument("--sheet", default=None, help="Excel sheet (default: the first)")
    p.add_argument(
        "--rules", type=Path, default=None, help="rules (default policies/monitoring.toml)"
    )
    p.add_argument("--out", type=Path, default=None, help="folder for monitoring_flags.csv")
    _common_options(p)
    p.set_defaults(func=run_import_monitoring)

    p = sub.add_parser("import-evaluation", help="record evaluation results and grade them")
    p.add_argument("file", type=Path, help="evaluation results (.csv, .xlsx, .parquet)")
    p.add_argument("--sheet", default=None, help="Excel sheet (default: the first)")
    p.add_argument(
        "--rules", type=Path, default=None, help="rules (default policies/evaluation.toml)"
    )
    p.add_argument("--out", type=Path, default=None, help="folder for evaluations.csv")
    _common_options(p)
    p.set_defaults(func=run_import_evaluation)

    p = sub.add_parser("feedback", help="next year's recommendation per project")
    p.add_argument("--year", type=int, required=True, help="the budget year recommended for")
    p.add_argument(
        "--rules", type=Path, default=None, help="rules (default policies/feedback.toml)"
    )
    p.add_argument(
        "--evaluation-rules", type=Path, default=None, help="default policies/evaluation.toml"
    )
    p.add_argument("--all-projects", action="store_true", help="every project on record")
    p.add_argument(
        "--out", type=Path, required=True, help="folder for recommendations.csv and .xlsx"
    )
    _common_options(p)
    p.set_defaults(func=run_feedback)

    p = sub.add_parser("rederive", help="re-derive a unit-cost standard from recorded actuals")
    p.add_argument(
        "--class", dest="class_", metavar="CLASS", required=True, help="事项类别, e.g. 环卫保洁"
    )
    p.add_argument(
        "--year", type=int, required=True, help="the year whose completed projects count"
    )
    p.add_argument(
        "--out", type=Path, required=True, help="folder for the new table version and its CSVs"
    )
    p.add_argument("--standards", type=Path, default=None, help="folder with the version in force")
    p.add_argument("--rules", type=Path, default=None, help="default policies/rederive.toml")
    p.add_argument("--rule", default=None, help="derivation rule (default: the class's)")
    _common_options(p)
    p.set_defaults(func=run_rederive)

    p = sub.add_parser("list", help="list records (runs, decisions, flags, ...)")
    p.add_argument("table", nargs="?", default="runs", choices=tuple(TABLE_NAMES))
    p.add_argument("--limit", type=int, default=50, help="rows shown (default 50; 0: all)")
    _filter_options(p)
    _common_options(p)
    p.set_defaults(func=run_list)

    p = sub.add_parser("show", help="one run: what it was, its inputs and rows")
    p.add_argument("run_id")
    _common_options(p)
    p.set_defaults(func=run_show)

    p = sub.add_parser("export", help="write records to Excel (headers in --lang)")
    p.add_argument("-o", "--output", type=Path, required=True, help="workbook (.xlsx)")
    _filter_options(p)
    _common_options(p)
    p.set_defaults(func=run_export)

    p = sub.add_parser("history", help="year-over-year view per department and project")
    p.add_argument(
        "--out", type=Path, required=True, help="folder for history.xlsx and history.html"
    )
    _filter_options(p)
    _common_options(p)
    p.set_defaults(func=run_history)


def _check_year(args: argparse.Namespace) -> None:
    """A ``--year`` outside the budget years a table may name (20277, -1) is refused
    (it would only find nothing)."""
    from costperf.schemas import YEARS

    year = getattr(args, "year", None)
    if year is not None and not YEARS[0] <= year <= YEARS[1]:
        low, high = YEARS
        msg = f"--year {year}: expected a year between {low} and {high}"
        raise InputError(msg)


def run_import_monitoring(args: argparse.Namespace) -> int:
    from costperf.records.loop import import_monitoring

    result = import_monitoring(
        args.file, args.records, rules=args.rules, sheet=args.sheet, out=args.out, lang=args.lang
    )
    print(result)
    _done(args)
    return 0


def _done(args: argparse.Namespace) -> None:
    """A command that succeeded removes the problems table an earlier failed one left in
    its --out folder, as ``costperf run`` does."""
    if getattr(args, "out", None) is not None:
        from costperf.commands.run import remove_stale_problems

        remove_stale_problems(args.out, args.lang)


def run_import_evaluation(args: argparse.Namespace) -> int:
    from costperf.records.loop import import_evaluation

    print(
        import_evaluation(
            args.file,
            args.records,
            rules=args.rules,
            sheet=args.sheet,
            out=args.out,
            lang=args.lang,
        )
    )
    _done(args)
    return 0


def run_feedback(args: argparse.Namespace) -> int:
    from costperf.records.loop import feedback

    _check_year(args)
    print(
        feedback(
            args.records,
            year=args.year,
            out=args.out,
            rules=args.rules,
            evaluation_rules=args.evaluation_rules,
            all_projects=args.all_projects,
            lang=args.lang,
        )
    )
    _done(args)
    return 0


def run_rederive(args: argparse.Namespace) -> int:
    from costperf.records.loop import rederive

    _check_year(args)
    print(
        rederive(
            args.records,
            class_of_matter=args.class_,
            year=args.year,
            out=args.out,
            standards=args.standards,
            rules=args.rules,
            rule=args.rule,
            lang=args.lang,
        )
    )
    _done(args)
    return 0


def _filters(args: argparse.Namespace) -> dict:
    _check_year(args)
    return {
        column: getattr(args, option)
        for option, column in FILTERS.items()
        if getattr(args, option) is not None
    }


def run_list(args: argparse.Namespace) -> int:
    from costperf.columns import message
    from costperf.records.loop import list_records, show_frame

    if args.limit < 0:  # head(-5) would leave out the last 5 rows
        msg = f"--limit: expected 0 (all rows) or a number of rows, got {args.limit}"
        raise InputError(msg)
    frame = list_records(
        args.records, TABLE_NAMES[args.table], _filters(args), current=not args.all
    )
    shown = frame if args.limit == 0 else frame.head(args.limit)
    print(show_frame(shown, args.lang, TABLE_NAMES[args.table]))
    more = len(frame) - len(shown)
    if more:
        print(message("records.list.total_more", args.lang, n=len(frame), more=more))
    else:
        print(message("records.list.total", args.lang, n=len(frame)))
    return 0


def run_show(args: argparse.Namespace) -> int:
    from costperf.records.loop import show_run

    print(show_run(args.records, args.run_id, lang=args.lang))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from costperf.columns import code_label, message
    from costperf.records.loop import export_records

    path, counts = export_records(
        args.records, args.output, _filters(args), current=not args.all, lang=args.lang
    )
    shown = [
        message(
            "records.export.count", args.lang, table=code_label("records_sheet", k, args.lang), n=v
        )
        for k, v in counts.items()
    ]
    separator = message("list.separator", args.lang)
    print(message("records.export.written", args.lang, counts=separator.join(shown), path=path))
    return 0


def run_history(args: argparse.Namespace) -> int:
    from costperf.records.loop import history

    print(history(args.records, args.out, _filters(args), lang=args.lang))
    return 0
