"""``costperf optimize CASE --out DIR`` / ``costperf optimize --model DIR --out DIR``.

The cheapest resource plan that still meets every output baseline, with the shadow
price of each constraint; when the constraints cannot all hold, which must give and by
how much (status ``infeasible``, exit 0). The model is the case's ``[optimize]`` tables,
or the three tables of a folder (``resources``, ``constraints``, ``coefficients``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from costperf.commands._tables import date_option, lang_argument


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "optimize",
        help="savings proposal (节支优化): the cheapest plan that keeps every baseline",
        description="Solve the resource-output model of a case ([optimize] in case.toml) "
        "or of a folder of three tables (resources, constraints, coefficients): the "
        "cheapest plan meeting every baseline, policy and limit, with shadow prices. "
        "Writes DIR/optimize/ (plan.csv, constraints.csv, ...) and DIR/summary.json.",
    )
    p.add_argument("case", type=Path, nargs="?", help="case folder (with [optimize] in case.toml)")
    p.add_argument(
        "--model", type=Path, default=None, help="folder with resources, constraints, coefficients"
    )
    p.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out)")
    p.add_argument("--solver", choices=("highs", "cbc"), default=None, help="default: highs")
    p.add_argument(
        "--records",
        default=None,
        help="record store for the proposals: an SQLite file or a postgresql:// URL "
        "(default: none)",
    )
    p.add_argument("--write-lp", type=Path, default=None, help="also write the model as an LP file")
    p.add_argument(
        "--max-group-cut",
        type=float,
        default=None,
        help="with --model: the largest share of a group's current cost that may be cut (equity)",
    )
    p.add_argument(
        "--project-floor",
        type=float,
        default=None,
        help="with --model: the share of its current cost every project keeps, e.g. 0.8 (floor)",
    )
    p.add_argument(
        "--date",
        default=None,
        help="with --model: date whose standards are in force (default: today)",
    )
    p.add_argument("--standards", type=Path, default=None, help="with --model: standards folder")
    lang_argument(p, "the outputs and the summary")
    p.set_defaults(func=run)


def _model_params(args: argparse.Namespace):
    from costperf.errors import InputError
    from costperf.io.model import model_paths
    from costperf.params import OptimizeParams

    for option, value in (
        ("--max-group-cut", args.max_group_cut),
        ("--project-floor", args.project_floor),
    ):
        if value is not None and not 0.0 <= value <= 1.0:
            msg = f"{option} {value:g}: expected a share in [0, 1]"
            raise InputError(msg)
    paths = model_paths(args.model)
    return OptimizeParams(
        **paths,
        solver=args.solver or "highs",
        max_group_cut=args.max_group_cut,
        project_floor=args.project_floor,
        date=None if args.date is None else date_option(args.date).date(),
        standards=args.standards,
    )


def _case_params(args: argparse.Namespace):
    from dataclasses import replace

    from costperf.case import load_case
    from costperf.errors import InputError

    config = load_case(args.case)
    if config.optimize is None:
        msg = f"{config.path}: the case has no [optimize] section (see README, costperf optimize)"
        raise InputError(msg)
    given = [
        option
        for option, value in (
            ("--max-group-cut", args.max_group_cut),
            ("--project-floor", args.project_floor),
            ("--date", args.date),
            ("--standards", args.standards),
        )
        if value is not None
    ]
    if given:  # a case's own [optimize] settings hold: these would be silently ignored
        options = ", ".join(given)
        msg = f"{options}: only with --model; a case sets them in its case.toml [optimize]"
        raise InputError(msg)
    params = config.optimize
    if args.solver:
        params = replace(params, solver=args.solver)
    return config, params


def run(args: argparse.Namespace) -> int:
    from costperf.commands.run import check_out_dir, remove_stale_problems
    from costperf.errors import InputError

    if (args.case is None) == (args.model is None):
        msg = "give a CASE folder or --model DIR (one of them)"
        raise InputError(msg)
    check_out_dir(args.out)
    if args.case is not None:
        config, params = _case_params(args)
        name, title = config.name, config.title
    else:
        params = _model_params(args)
        from costperf.columns import message

        name, title = args.model.name, message("optimize_report.proposal", args.lang)
    summary = optimize_params(params, args.out, name=name, title=title, args=args)
    remove_stale_problems(args.out, args.lang)
    print_summary(summary, args.out, args.lang)
    return 0


def optimize_params(params, out: Path, *, name: str, title: str, args: argparse.Namespace) -> dict:
    """Read, solve and write one model (the command's and ``run``'s optimiser-only path)."""
    from costperf.io.model import read_model_tables
    from costperf.optimize import optimize_plan
    from costperf.optimize_outputs import inputs_hash, write_optimize_outputs

    if getattr(args, "records", None) is not None:
        from costperf.records import check_store

        check_store(args.records)
    on = params.date or dt.date.today()
    tables = read_model_tables(params.paths, standards_dir=params.standards, on=on)
    check_share_columns(tables.resources, params)
    proposal = optimize_plan(
        tables,
        solver=params.solver,
        max_group_cut=params.max_group_cut,
        project_floor=params.project_floor,
        time_limit=params.time_limit,
    )
    return write_optimize_outputs(
        proposal,
        out,
        case_name=name,
        title=title,
        inputs=inputs_hash(params.paths),
        params=solve_params(params, on),
        records_path=getattr(args, "records", None),
        lang=args.lang,
        lp_path=getattr(args, "write_lp", None),
    )


def check_share_columns(resources, params) -> None:
    """A group cut or project floor needs resources naming their group or project: else
    the option would change nothing, silently."""
    from costperf.errors import InputError

    for option, value, column, header in (
        ("--max-group-cut", params.max_group_cut, "group", "group 分组"),
        ("--project-floor", params.project_floor, "project_id", "project_id 项目编码"),
    ):
        if value is None or resources[column].notna().any():
            continue
        path = params.paths["resources"]
        msg = (
            f"{option} {value:g}: {path} names no {header} for any resource, so the option "
            "would change nothing; fill that column or drop the option"
        )
        raise InputError(msg)


def solve_params(params, on: dt.date) -> dict:
    """The parameters recorded with a proposal (and compared for "already recorded")."""
    return {
        "solver": params.solver,
        "max_group_cut": params.max_group_cut,
        "project_floor": params.project_floor,
        "date": on.isoformat(),
    }


def has_plan(totals: dict) -> bool:
    """Whether the solver gave a plan to report (not when it stopped without one)."""
    keys = ("current_cost", "proposed_cost", "savings", "savings_rate")
    return all(totals.get(k) is not None for k in keys)


def print_summary(summary: dict, out: Path, lang: str) -> None:
    """A short account on the terminal, in the report's language."""
    from costperf.columns import code_label, message

    t = summary["optimize"]["totals"]
    status = code_label("optimize_status", t["status"], lang)
    values = {"title": summary["title"], "case": summary["case"], "status": status}
    values["current_cost"] = t["current_cost"]
    if has_plan(t):
        figures = {k: t[k] for k in ("proposed_cost", "savings", "savings_rate")}
        print(message("optimize.totals", lang, **values, **figures))
    else:  # the solver stopped without a plan: nothing to format
        print(message("optimize.totals_no_plan", lang, **values))
    for row in summary["optimize"]["infeasibility"]:
        print("  " + str(row["explanation"]))
    issues = summary["optimize"]["current_issues"]
    if issues:
        print("  " + message("optimize.current_issues", lang, n=len(issues)), file=sys.stderr)
    records = summary["records"]
    if records["run_id"]:
        values = {"run_id": records["run_id"], "path": records["path"]}
        if records["already_recorded"]:
            print("  " + message("optimize.already_recorded", lang, **values))
        else:
            print("  " + message("optimize.recorded", lang, **values))
    print("  " + message("optimize.outputs", lang, out=out))
