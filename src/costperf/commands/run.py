"""``costperf run CASE --out DIR``: run every stage of a case and write its outputs."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from costperf.commands._tables import lang_argument
from costperf.errors import InputError

if TYPE_CHECKING:
    from costperf.case import CaseConfig
    from costperf.pipeline import CaseData, CaseResults, Step

PROBLEMS_FILE = "problems.csv"  # written to --out by the CLI when input is rejected


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run",
        help="run a case (cases/<name>/case.toml) end to end",
        description="Run a case: unit costs, decomposition, benchmarking, standard, "
        "review and records. Writes summary.json, report.xlsx, report.html "
        "and review records.",
    )
    p.add_argument("case", type=Path, help="case folder (with case.toml) or the case.toml")
    p.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out)")
    p.add_argument(
        "--records",
        default=None,
        help="record store: an SQLite file (default: OUT/records.sqlite) or a "
        "postgresql://user@host/db URL",
    )
    p.add_argument("--no-records", action="store_true", help="do not store review records")
    lang_argument(p, "report headers and charts")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_out_dir(args.out)
    from costperf.report.background import charts_beside

    # a worker process (when allowed) imports its modules and loads its font from now on,
    # beside this process's own imports and its reading of the case
    with charts_beside():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from costperf.case import load_case
    from costperf.lazy_imports import defer_numpy_extras
    from costperf.outputs import CHARTS_READY_AFTER, send_charts, write_outputs
    from costperf.pipeline import STEPS, analyse, load_case_data
    from costperf.progress import progress
    from costperf.report.background import freeze_heap

    defer_numpy_extras()  # before SciPy (the optimiser's tables, the t quantiles)
    records = None if args.no_records else (args.records or args.out / "records.sqlite")
    if records is not None:  # refused before the analysis, and checked again before writing
        from costperf.records import check_store

        check_store(records)
    config = load_case(args.case)
    if not config.peers:  # a case of the optimiser alone (e.g. cases/household-survey)
        return _optimize_only(config, args, records)
    check_expressions(config)
    from costperf.columns import message

    with progress("costperf run", total=len(STEPS) + 2, lang=args.lang) as bar:
        bar.describe(message("progress.reading_case", args.lang))
        data = load_case_data(config)
        freeze_heap()  # the program's modules and the case's data: out of later collections

        def charts_early(name: str, results: CaseResults) -> None:
            if name == CHARTS_READY_AFTER:  # drawn beside the last steps
                send_charts(config, results, args.lang)

        steps = optimize_beside(config, data, args.lang)
        results = analyse(config, data, steps=steps, on_step=bar.step, after_step=charts_early)
        bar.step("writing")
        summary = write_outputs(
            config,
            data,
            results,
            args.out,
            records_path=records,
            lang=args.lang,
            on_step=lambda name: bar.describe(
                message("progress.writing", args.lang, part=bar.label(name))
            ),
        )
        bar.advance()
    remove_stale_problems(args.out, args.lang)
    _print_summary(summary, args, data)
    if "optimize" in summary:
        _print_optimize(summary["optimize"]["totals"], args.lang)
    return 0


def optimize_beside(config: CaseConfig, data: CaseData, lang: str) -> tuple[Step, ...]:
    """The run's steps, the optimiser's plan solved by the worker process from now on
    (when there is one, see :mod:`costperf.report.background`), beside the derivation,
    and its before/after chart drawn there right after it
    (:func:`costperf.report.optimize.plan_chart`): its step then takes the worker's
    plan (the same pure call), or solves it here when the worker could not (an input
    error then raised here, located as always)."""
    from dataclasses import replace

    from costperf.pipeline import STEPS, optimize_options
    from costperf.report import background

    if data.optimize is None or not background.active():
        return STEPS
    from costperf.report.optimize import expect_plan_chart, plan_chart, solve_plan

    options = optimize_options(config)
    pending = background.submit_call(solve_plan, data.optimize, **options)
    if pending is None:
        return STEPS
    drawing = background.submit_call(plan_chart, lang)

    def take_plan(config: CaseConfig, data: CaseData, results: CaseResults) -> None:
        results.optimize = pending.result()
        if drawing is not None:  # found by optimize_sections' call of the chart
            expect_plan_chart(results.optimize, lang, drawing)

    return tuple(replace(s, run=take_plan) if s.name == "optimize" else s for s in STEPS)


def _optimize_only(config, args: argparse.Namespace, records) -> int:  # noqa: ANN001
    """``costperf run`` on a case with [optimize] and no peers: the optimiser's outputs."""
    from costperf.commands.optimize import optimize_params, print_summary

    ns = argparse.Namespace(records=records, lang=args.lang, write_lp=None)
    summary = optimize_params(
        config.optimize, args.out, name=config.name, title=config.title, args=ns
    )
    remove_stale_problems(args.out, args.lang)
    print_summary(summary, args.out, args.lang)
    return 0


def _print_optimize(totals: dict, lang: str) -> None:
    from costperf.columns import code_label, message
    from costperf.commands.optimize import has_plan

    values = {"status": code_label("optimize_status", totals["status"], lang)}
    values["current_cost"] = totals["current_cost"]
    if has_plan(totals):
        figures = {k: totals[k] for k in ("proposed_cost", "savings", "savings_rate")}
        print("  " + message("run.optimize", lang, **values, **figures))
    else:  # the solver stopped without a plan: nothing to format
        print("  " + message("run.optimize_no_plan", lang, **values))


def check_out_dir(out: Path) -> None:
    """Refuse an ``--out`` that cannot be the output folder, before anything is read.

    It must be a folder, or not exist yet under a folder that can be written to: a file
    of that name (or a file where one of its parent folders should be) is an input
    error naming it, not an internal ``FileExistsError`` after the whole analysis.  No
    problems table is written: its default place is the --out folder itself.
    """
    for path in (out, *out.parents):
        if not path.exists():
            continue
        if not path.is_dir():
            if path == out:
                msg = f"{path}: --out names a file, not a folder; give a folder for the outputs"
            else:
                msg = f"{path}: a file, not a folder, so --out {out} cannot be made under it"
            raise InputError(msg)
        if not os.access(path, os.W_OK | os.X_OK):
            msg = f"{path}: --out {out} cannot be written here (permission denied)"
            raise InputError(msg)
        return


def check_expressions(config) -> None:  # noqa: ANN001 - a CaseConfig
    """Check the case's formulas and [drivers] against the allow-list, naming the key.

    The stages check them again where they are used; this names the setting in
    case.toml before any data is read.
    """
    from costperf.expressions import check_case_expressions

    check_case_expressions(
        config.path,
        {
            "[benchmark] formula": config.regression.formula,
            "[standard] formula": config.standard.params.get("formula"),
        },
        config.units.drivers,
    )


def remove_stale_problems(out: Path, lang: str = "zh") -> None:
    """After a successful run, drop the problems table an earlier failed run left in ``out``.

    Otherwise ``problems.csv`` next to the fresh report would describe input that has
    since been fixed.
    """
    stale = out / PROBLEMS_FILE
    try:
        stale.unlink(missing_ok=True)
    except OSError as exc:  # the run itself succeeded: say so, do not fail it
        from costperf.columns import message

        print(message("run.stale_problems", lang, path=stale, error=exc), file=sys.stderr)


def _print_summary(summary: dict, args: argparse.Namespace, data) -> None:
    """A short account of the run on the terminal, in the report's language."""
    from costperf.columns import message

    lang = args.lang
    unit = message("run.unit", lang, unit=summary["output"]["unit"])
    print(
        message(
            "run.header",
            lang,
            title=summary["title"],
            case=summary["case"],
            n=summary["n_contracts"],
        )
    )
    print("  " + message("run.districts", lang))
    for d in summary["districts"]:
        extra = []
        if d.get("cost_index") is not None:
            extra.append(message("run.cost_index", lang, value=d["cost_index"]))
        if d.get("regression_index") is not None:
            extra.append(message("run.regression_index", lang, value=d["regression_index"]))
        if d.get("mean_efficiency") is not None:
            extra.append(message("run.mean_efficiency", lang, value=d["mean_efficiency"]))
        extra = message("list.separator", lang).join(extra)
        print(
            "    "
            + message(
                "run.district",
                lang,
                district=d["district"],
                unit_cost=d["unit_cost"],
                unit=unit,
                extra=extra,
            )
        )
    print("  " + message("run.standards", lang))
    for s in summary["standards"]:
        method = (s.get("method_zh") if lang == "zh" else None) or s["method"]
        print(
            "    "
            + message(
                "run.standard",
                lang,
                ref=f"{s['standard_id']}@{s['version']}",
                dims=s["dims"],
                value=s["value"],
                unit=unit,
                band=f"[{s['lower']:.2f}, {s['upper']:.2f}]",
                method=method,
            )
        )
    totals = summary["review"]["totals"]
    if totals:
        print(
            "  "
            + message(
                "run.review",
                lang,
                requests=totals["requests"],
                requested=totals["requested"],
                approved=totals["approved"],
                cut=totals["cut"],
                cut_rate=totals["cut_rate"],
            )
        )
    if summary["records"]["run_id"]:
        run_id, path = summary["records"]["run_id"], summary["records"]["path"]
        if summary["records"].get("already_recorded"):
            print("  " + message("run.already_recorded", lang, run_id=run_id, path=path))
        else:
            print("  " + message("run.records", lang, run_id=run_id, path=path))
    if len(data.warnings):
        print("  " + message("run.warnings", lang, n=len(data.warnings)), file=sys.stderr)
    files = [
        "summary.json",
        "report.xlsx",
        "report.html",
        *(str(Path(p).relative_to(args.out)) for p in summary.get("published_standard", [])),
    ]
    print("  " + message("run.outputs", lang, out=args.out, files=", ".join(files)))
