"""``costperf run CASE --out DIR``: run every stage of a case and write its outputs."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from costperf.errors import InputError

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
    p.add_argument(
        "--lang",
        choices=("zh", "en"),
        default="zh",
        help="language of report headers and charts (default: zh)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from costperf.case import load_case
    from costperf.outputs import write_outputs
    from costperf.pipeline import STEPS, analyse, load_case_data
    from costperf.progress import progress

    check_out_dir(args.out)
    records = None if args.no_records else (args.records or args.out / "records.sqlite")
    if records is not None:  # refused before the analysis, and checked again before writing
        from costperf.records import check_store

        check_store(records)
    config = load_case(args.case)
    if not config.peers:  # a case of the optimiser alone (e.g. cases/household-survey)
        return _optimize_only(config, args, records)
    check_expressions(config)
    with progress("costperf run", total=len(STEPS) + 2) as bar:
        bar.describe("reading and checking the case files")
        data = load_case_data(config)
        results = analyse(config, data, on_step=bar.step)
        bar.step("writing the reports")
        summary = write_outputs(
            config,
            data,
            results,
            args.out,
            records_path=records,
            lang=args.lang,
            on_step=lambda name: bar.describe(f"writing the reports: {name}"),
        )
        bar.advance()
    remove_stale_problems(args.out)
    _print_summary(summary, args, data)
    if "optimize" in summary:
        _print_optimize(summary["optimize"]["totals"], args.lang)
    return 0


def _optimize_only(config, args: argparse.Namespace, records) -> int:  # noqa: ANN001
    """``costperf run`` on a case with [optimize] and no peers: the optimiser's outputs."""
    from costperf.commands.optimize import optimize_params, print_summary

    ns = argparse.Namespace(records=records, lang=args.lang, write_lp=None)
    summary = optimize_params(
        config.optimize, args.out, name=config.name, title=config.title, args=ns
    )
    remove_stale_problems(args.out)
    print_summary(summary, args.out, args.lang)
    return 0


def _print_optimize(totals: dict, lang: str) -> None:
    from costperf.columns import code_label

    status = code_label("optimize_status", totals["status"], lang)
    print(
        f"  节支优化：{status}，现状成本 {totals['current_cost']:,.2f} 元，优化方案 "
        f"{totals['proposed_cost']:,.2f} 元，节约 {totals['savings']:,.2f} 元"
        f"（{totals['savings_rate']:.1%}），见 optimize/"
        if lang == "zh"
        else f"  Savings proposal: {status}, current {totals['current_cost']:,.2f} yuan, "
        f"proposed {totals['proposed_cost']:,.2f}, savings {totals['savings']:,.2f} "
        f"({totals['savings_rate']:.1%}), see optimize/"
    )


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


def remove_stale_problems(out: Path) -> None:
    """After a successful run, drop the problems table an earlier failed run left in ``out``.

    Otherwise ``problems.csv`` next to the fresh report would describe input that has
    since been fixed.
    """
    stale = out / PROBLEMS_FILE
    try:
        stale.unlink(missing_ok=True)
    except OSError as exc:  # the run itself succeeded: say so, do not fail it
        print(f"costperf: could not remove the old problems table {stale}: {exc}", file=sys.stderr)


def _print_summary(summary: dict, args: argparse.Namespace, data) -> None:
    """A short account of the run on the terminal, in the report's language."""
    zh = args.lang == "zh"
    unit = f"元/{summary['output']['unit']}" if zh else f"yuan/{summary['output']['unit']}"
    n = summary["n_contracts"]
    print(
        f"{summary['title']}（{summary['case']}）：同类合同 {n} 个"
        if zh
        else f"{summary['title']} ({summary['case']}): {n} peer contracts"
    )
    print("  区域单位成本：" if zh else "  Unit cost by district:")
    for d in summary["districts"]:
        extra = []
        if d.get("cost_index") is not None:
            extra.append(("成本指数 " if zh else "cost index ") + f"{d['cost_index']:.1f}")
        if d.get("regression_index") is not None:
            label = "回归调整指数 " if zh else "regression index "
            extra.append(label + f"{d['regression_index']:.1f}")
        if d.get("mean_efficiency") is not None:
            extra.append(
                ("平均效率 " if zh else "mean DEA efficiency ") + f"{d['mean_efficiency']:.3f}"
            )
        print(
            f"    {d['district']}：{d['unit_cost']:.2f} {unit}  " + "，".join(extra)
            if zh
            else f"    {d['district']}: {d['unit_cost']:.2f} {unit}  " + ", ".join(extra)
        )
    print("  单位成本标准：" if zh else "  Unit-cost standard:")
    for s in summary["standards"]:
        ref = f"{s['standard_id']}@{s['version']}"
        band = f"[{s['lower']:.2f}, {s['upper']:.2f}]"
        method = s.get("method_zh") if zh and s.get("method_zh") else s["method"]
        print(
            f"    {ref} {s['dims']}：{s['value']:.2f} {unit}，合理区间 {band}（{method}）"
            if zh
            else f"    {ref} {s['dims']}: {s['value']:.2f} {unit}, range {band} ({method})"
        )
    totals = summary["review"]["totals"]
    if totals:
        print(
            f"  审核：申报 {totals['requests']} 项，申报数 {totals['requested']:,.2f} 元，"
            f"审定数 {totals['approved']:,.2f} 元，核减 {totals['cut']:,.2f} 元"
            f"（核减率 {totals['cut_rate']:.1%}）"
            if zh
            else f"  Review: {totals['requests']} requests, requested {totals['requested']:,.2f}, "
            f"approved {totals['approved']:,.2f}, cut {totals['cut']:,.2f} "
            f"({totals['cut_rate']:.1%})"
        )
    if summary["records"]["run_id"]:
        run_id, path = summary["records"]["run_id"], summary["records"]["path"]
        if summary["records"].get("already_recorded"):
            print(
                f"  评审记录：运行 {run_id} 已含相同的输入和参数，未重复记录 → {path}"
                if zh
                else f"  Records: run {run_id} already holds the same inputs and parameters; "
                f"nothing new recorded -> {path}"
            )
        else:
            print(
                f"  评审记录：运行 {run_id} → {path}"
                if zh
                else f"  Records: run {run_id} -> {path}"
            )
    if len(data.warnings):
        print(
            f"  提示 {len(data.warnings)} 条，见报告“提示”工作表"
            if zh
            else f"  {len(data.warnings)} warning(s), see the report's Warnings sheet",
            file=sys.stderr,
        )
    files = [
        "summary.json",
        "report.xlsx",
        "report.html",
        *(str(Path(p).relative_to(args.out)) for p in summary.get("published_standard", [])),
    ]
    print(("  输出：" if zh else "  Outputs: ") + f"{args.out}: " + ", ".join(files))
