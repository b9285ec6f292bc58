"""``costperf standards``: list, show, check, diff, uprate, publish, seal and look up
standard tables (a folder of TOML headers + CSV values; see ``standards/README.md``), and
derive a unit-cost standard from a case's peer data (``derive``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from costperf.commands._tables import date_option, lang_argument

SUBCOMMANDS = ("list", "show", "check", "diff", "uprate", "publish", "seal", "lookup", "derive")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``costperf standards <sub-command>``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--standards",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of standard tables (default: the shipped standards/)",
    )
    parser = subparsers.add_parser(
        "standards",
        help="maintain standard tables (标准表): list, diff, uprate, publish",
        description="Versioned expenditure and cost standard tables (支出标准/成本标准).",
    )
    sub = parser.add_subparsers(dest="standards_command", required=True, metavar="ACTION")

    p = sub.add_parser("list", parents=[common], help="list tables and versions")
    lang_argument(p)
    p.set_defaults(func=run_list)

    p = sub.add_parser("show", parents=[common], help="show one table's header and values")
    p.add_argument("table", help="table id or id@version")
    lang_argument(p)
    p.set_defaults(func=run_show)

    p = sub.add_parser(
        "check",
        parents=[common],
        help="validate every table; overlaps, coverage gaps, composite sums",
    )
    p.set_defaults(func=run_check)

    p = sub.add_parser("diff", parents=[common], help="compare two tables or versions")
    p.add_argument("old", help="table id or id@version (before)")
    p.add_argument("new", help="table id or id@version (after)")
    p.add_argument("-o", "--output", type=Path, default=None, help="write the diff as CSV")
    p.add_argument("--all", action="store_true", help="include unchanged lines")
    lang_argument(p)
    p.set_defaults(func=run_diff)

    p = sub.add_parser(
        "uprate", parents=[common], help="make the next draft version by a price or wage index"
    )
    p.add_argument("table", help="table id or id@version to start from")
    p.add_argument("--index", required=True, help="index, e.g. 1.032")
    p.add_argument("--effective", required=True, help="effective date of the new version")
    p.add_argument("--step", default=None, help="round money values to this step [yuan]")
    p.add_argument(
        "--rounding", default=None, help="half_up (default), half_even, down, up, floor, ceiling"
    )
    p.add_argument(
        "-o",
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder for the new files (default: the standards folder)",
    )
    p.set_defaults(func=run_uprate)

    p = sub.add_parser("publish", parents=[common], help="write a table as xlsx or html")
    p.add_argument("table", help="table id or id@version")
    p.add_argument(
        "--format", choices=("xlsx", "html"), required=True, dest="fmt", help="xlsx or html"
    )
    p.add_argument("-o", "--output", type=Path, default=None, help="output file")
    lang_argument(p)
    p.set_defaults(func=run_publish)

    p = sub.add_parser(
        "seal", parents=[common], help="publish a draft: set status and record its content hash"
    )
    p.add_argument("table", help="table id@version of a draft (or its .toml file)")
    p.set_defaults(func=run_seal)

    p = sub.add_parser("lookup", parents=[common], help="the value in force on a date")
    p.add_argument("table", help="table id, or a standard_id")
    p.add_argument("--on", required=True, help="date YYYY-MM-DD")
    p.add_argument(
        "--item", default=None, help="item code or name (without it: the table's items are listed)"
    )
    p.add_argument(
        "--component", default=None, help="component of the item (e.g. price or quantity)"
    )
    p.add_argument("--drafts", action="store_true", help="let drafts take effect too")
    p.add_argument(
        "-d",
        "--dim",
        action="append",
        default=[],
        dest="dims",
        metavar="DIM=VALUE",
        help="a dimension value, e.g. -d city=大连 (repeat)",
    )
    p.set_defaults(func=run_lookup)

    _add_derive(sub)


def _add_derive(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "derive",
        help="derive a unit-cost standard from a case's peer data (测算成本标准)",
        description="Derive unit-cost standards per dimension cell from a case's peer "
        "contracts by a rule (median, p25, p75, quantile:0.4, regression, "
        "quantile_regression, dea, triangulation); compare the rules with the savings "
        "each implies, test leave-one-out sensitivity, and write the chosen standard as "
        "a draft table version (OUT/standards/) with its provenance, plus xlsx and html.",
    )
    p.add_argument("case", type=Path, help="case folder (with case.toml) or the case.toml")
    p.add_argument("--rule", default=None, help="rule (default: [standard] rule in case.toml)")
    p.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out)")
    lang_argument(p)
    p.add_argument(
        "--compare", default=None, help="rules to compare, comma-separated (default: all)"
    )
    p.add_argument("--outlier-rule", default=None, help="iqr (default), mad or none")
    p.add_argument("--tau", type=float, default=None, help="quantile of quantile_regression")
    p.add_argument("--formula", default=None, help="cost-model formula (default: [benchmark])")
    p.add_argument(
        "--at",
        default=None,
        help="regression standard at median_drivers (default) or mean_prediction",
    )
    p.add_argument("--dea-inputs", default=None, help="DEA inputs, comma-separated")
    p.add_argument("--dea-outputs", default=None, help="DEA outputs, comma-separated")
    p.add_argument("--dea-score", default=None, help="technical (default) or cost")
    p.add_argument("--members", default=None, help="triangulation members, comma-separated")
    p.add_argument("--weights", default=None, help="triangulation weights, comma-separated")
    p.add_argument("--version", type=int, default=None, help="table version number (default 1)")
    p.set_defaults(func=run_derive)


def _load(args: argparse.Namespace):  # noqa: ANN202 - returns a StandardSet
    from costperf.standards import read_standards

    return read_standards(args.standards)


def _show(frame, lang: str = "zh") -> str:  # noqa: ANN001 - a DataFrame
    import pandas as pd

    with pd.option_context(
        "display.max_rows",
        None,
        "display.max_columns",
        None,
        "display.width",
        200,
        "display.unicode.east_asian_width",
        lang == "zh",
    ):
        return frame.to_string(index=False)


def run_list(args: argparse.Namespace) -> int:
    standards = _load(args)
    tables = standards.tables.copy()
    for col in ("effective_from", "in_force_to"):
        tables[col] = tables[col].dt.strftime("%Y-%m-%d").fillna("")
    cols = [
        "table_id",
        "version",
        "status",
        "kind",
        "effective_from",
        "in_force_to",
        "n_lines",
        "n_unverified",
        "document_no",
        "title",
    ]
    from costperf.columns import code_label_map
    from costperf.report.formats import label_codes

    out = label_codes(tables[cols], args.lang)  # status in words
    if args.lang == "zh":
        kinds = code_label_map("standard_kind", "zh")
        out = out.assign(kind=out["kind"].map(lambda k: kinds.get(k, k)))
    else:  # the English title where the table has one
        titles = tables["title_en"].fillna("").astype(str)
        out = out.assign(title=titles.where(titles.ne(""), out["title"]))
    out = out.rename(columns=code_label_map("standards_list_column", args.lang))
    print(_show(out, args.lang))
    return 0


def run_show(args: argparse.Namespace) -> int:
    from costperf.report.standard_page import build_publication

    standards = _load(args)
    pub = build_publication(standards, args.table, lang=args.lang)
    print(pub.title)
    for line in pub.meta:
        print(line)
    print()
    print(_show(pub.lines.astype(object).fillna(""), args.lang))
    print()
    for k, note in enumerate(pub.notes, start=1):
        print(f"{k}. {note}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from costperf.errors import raise_if_problems
    from costperf.schemas import concat_problems
    from costperf.standards import check_coverage, load_standards

    standards, problems = load_standards(args.standards)
    problems = concat_problems([problems, check_coverage(standards)])
    warnings = problems[problems["severity"] == "warning"] if len(problems) else problems
    from costperf.columns import message
    from costperf.errors import format_problem, format_problem_zh

    shown = format_problem_zh if args.lang == "zh" else format_problem
    for row in warnings.to_dict("records"):
        print(message("standards.warning", args.lang, problem=shown(row)), file=sys.stderr)
    raise_if_problems(problems, "the standard tables")
    counts = {"n_tables": len(standards.table_ids()), "n_versions": len(standards.versions)}
    line = message("standards.check_ok", args.lang, **counts, n_values=len(standards.values))
    if len(warnings):
        line += message("standards.check_warnings", args.lang, n=len(warnings))
    print(line)
    return 0


def run_diff(args: argparse.Namespace) -> int:
    from costperf.io import write_table
    from costperf.standards import diff_tables

    standards = _load(args)
    diff = diff_tables(standards, args.old, args.new, include_unchanged=args.all)
    from costperf.columns import message

    counts = {k: int(diff["change"].eq(k).sum()) for k in ("changed", "added", "removed")}
    ends = {"old": diff.attrs["old"], "new": diff.attrs["new"]}
    print(message("standards.diff_summary", args.lang, **ends, **counts))
    if not diff.empty:
        shown = diff.assign(pct_change=diff["pct_change"].round(1))
        cols = [
            "change_zh" if args.lang == "zh" else "change",
            "line",
            "unit_new",
            "value_old",
            "value_new",
            "abs_change",
            "pct_change",
        ]
        shown = shown[cols].astype(object).fillna("")
        if args.lang == "zh":
            shown = shown.rename(
                columns={
                    "change_zh": "变动",
                    "line": "数值行",
                    "unit_new": "单位",
                    "value_old": "原值",
                    "value_new": "新值",
                    "abs_change": "变动额",
                    "pct_change": "变动率%",
                }
            )
        print(_show(shown, args.lang))
    if args.output is not None:
        write_table(diff, args.output, lang=args.lang)
        print(message("standards.wrote", args.lang, path=args.output))
    return 0


def run_uprate(args: argparse.Namespace) -> int:
    from costperf.errors import InputError
    from costperf.standards import (
        default_standards_dir,
        package_standards_dir,
        uprate_table,
        write_table_version,
    )

    standards = _load(args)
    header, raw = uprate_table(
        standards,
        args.table,
        index=args.index,
        effective_from=args.effective,
        step=args.step,
        mode=args.rounding,
    )
    out = args.out or args.standards or default_standards_dir()
    if args.out is None and Path(out).resolve() == package_standards_dir().resolve():
        msg = "the standards folder is the installed package's copy; give -o DIR for the new draft"
        raise InputError(msg)
    toml_path, csv_path = write_table_version(
        header,
        raw,
        out,
        comment=f"Draft {header['table_id']}@{header['version']}: {header['source']['note']}.",
    )
    from costperf.columns import message

    ref = f"{header['table_id']}@{header['version']}"
    written = {"toml": toml_path, "csv": csv_path}
    date = header["effective_from"]
    print(message("standards.wrote_draft", args.lang, ref=ref, date=date, **written))
    print(message("standards.seal_next", args.lang, toml=toml_path))
    return 0


def run_publish(args: argparse.Namespace) -> int:
    from costperf.report.standard_page import publish_table

    standards = _load(args)
    version = standards.get(args.table)
    output = args.output or Path(f"{version.table_id}-v{version.version}.{args.fmt}")
    path = publish_table(standards, version.ref, output, fmt=args.fmt, lang=args.lang)
    from costperf.columns import message

    print(message("standards.wrote", args.lang, path=path))
    return 0


def run_seal(args: argparse.Namespace) -> int:
    from costperf.standards import load_standards, seal_table

    target = Path(args.table)
    standards, _ = load_standards(args.standards)  # the set whose dates it must fit
    if target.suffix.lower() != ".toml" or not target.exists():
        target = Path(standards.get(args.table, latest=True).header_file)
    digest = seal_table(target, standards.tables)
    from costperf.columns import message

    print(message("standards.sealed", args.lang, path=target, digest=digest))
    return 0


def run_lookup(args: argparse.Namespace) -> int:
    from costperf.errors import InputError
    from costperf.labels import error_text
    from costperf.standards import lookup_value

    dims = {}
    for pair in args.dims:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            msg = error_text("{value}: expected DIM=VALUE (e.g. city=大连)", value=f"'{pair}'")
            raise InputError(msg)
        dims[key.strip()] = value.strip()
    standards = _load(args)
    version = _table_or_none(standards, args.table)
    item, dims = _codes_from_names(version, args.item, dims)
    if version is not None:  # -d categry=…: said, not dropped as a column it does not read
        rules = (version.header.get("rules") or {}).values()
        read = {*version.dims, *(r["key"] for r in rules if isinstance(r, dict) and "key" in r)}
        unknown = [k for k in dims if k not in read]
        if unknown:
            said = error_text(
                "-d {names}: not a dimension of {table}",
                names=", ".join(unknown),
                table=version.table_id,
            )
            msg = f"{said}\n{lookup_choices(version, args.lang)}"
            raise InputError(msg)
    try:
        found = lookup_value(
            standards,
            args.table,
            date_option(args.on, "--on").date(),
            item=item,
            component=args.component,
            include_drafts=args.drafts,
            **dims,
        )
    except InputError as exc:
        if version is None:
            raise
        msg = f"{exc}\n{lookup_choices(version, args.lang)}"
        raise InputError(msg, exc.problems) from None
    from costperf.columns import message
    from costperf.labels import unit_words

    lang = args.lang
    unverified = "" if found.verified else message("standards.unverified", lang)
    dates = {"start": found.effective_from}
    if found.effective_to:
        in_force = message("standards.in_force_between", lang, **dates, end=found.effective_to)
    else:
        in_force = message("standards.in_force_from", lang, **dates)
    shown = {"value": f"{found.value:g}", "unit": unit_words(found.unit, lang), "ref": found.ref}
    version = standards.get(f"{found.table_id}@{found.version}")
    source = {"name": found.name_zh, "document_no": _source_words(version, lang)}
    print(
        message(
            "standards.lookup_value",
            lang,
            **shown,
            **source,
            unverified=unverified,
            in_force=in_force,
        )
    )
    return 0


def _source_words(version: object, lang: str) -> str:
    """Where a looked-up value comes from: the document number; for an uprated version
    its basis, the basis' document and the index; for a derived one its derivation."""
    from costperf.columns import code_label, message

    source = version.header.get("source") or {}
    method = str(source.get("method") or "")
    if source.get("document_no") or not method:
        return str(source.get("document_no") or "")
    if method == "uprate":
        exact = (source.get("parameters") or {}).get("index", source.get("index", ""))
        basis = {"basis": source.get("basis", ""), "factor": str(exact)}
        if source.get("reference"):
            return message("standards.source_uprated_doc", lang, **basis, doc=source["reference"])
        return message("standards.source_uprated", lang, **basis)
    rule = code_label("derive_rule", method.removeprefix("derive:"), lang)
    return message(
        "standards.source_derived", lang, rule=rule, data_hash=source.get("data_hash", "")
    )


def _table_or_none(standards: object, ref: str) -> object:
    """The table version ``ref`` names, or None (``ref`` may be a standard_id)."""
    from costperf.errors import InputError

    try:
        return standards.get(ref)
    except InputError:
        return None


def _codes_from_names(
    version: object, item: str | None, dims: dict[str, str]
) -> tuple[str | None, dict[str, str]]:
    """Chinese (or English) names of an item and of dimensions mapped to their codes."""
    if version is None:
        return item, dims
    header = version.header

    def code(names: dict, text: str | None) -> str | None:
        if text is None or text in names:
            return text
        for key, spec in names.items():
            if text in ((spec or {}).get("label_zh"), (spec or {}).get("label_en")):
                return key
        return text

    spec_dims = header.get("dimensions") or {}
    return code(header.get("items") or {}, item), {code(spec_dims, k): v for k, v in dims.items()}


def lookup_choices(version: object, lang: str = "zh") -> str:
    """What ``standards lookup`` accepts for a table: its items and dimensions."""
    from costperf.columns import message

    header = version.header
    sep = message("list.enumeration", lang)

    def named(code: str, spec: dict | None) -> str | None:
        """The label of ``code`` in ``lang``; None when it would only repeat the code."""
        name = (spec or {}).get("label_zh" if lang == "zh" else "label_en")
        return name if name and name.replace(" ", "_").lower() != code.lower() else None

    lines = [message("standards.accepts", lang, table=f"{version.table_id}@{version.version}")]
    items = header.get("items") or {}
    if items:
        shown = sep.join(
            message("standards.item", lang, code=k, name=name) if (name := named(k, v)) else k
            for k, v in items.items()
        )
        lines.append("  " + message("standards.accepts_items", lang, items=shown))
    for dim in version.dims:
        spec = (header.get("dimensions") or {}).get(dim) or {}
        values = spec.get("values") or sorted(set(version.values[dim].astype(str)) - {"*"}, key=str)
        shown = sep.join(map(str, values[:12])) + ("…" if len(values) > 12 else "")
        name = named(dim, spec)
        if name:
            text = message("standards.accepts_dimension", lang, dim=dim, name=name, values=shown)
        else:
            text = message("standards.accepts_dimension_plain", lang, dim=dim, values=shown)
        lines.append("  " + text)
    return "\n".join(lines)


#: coded columns of the derivation tables -> the ``labels.csv`` kind naming their codes
_DERIVE_CODES = {"rule": "derive_rule", "kind": "standard_kind", "status": "standard_status"}


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [t.strip() for t in text.split(",") if t.strip()]


def _display(frame, lang: str, reasons: dict | None = None):  # noqa: ANN001, ANN202
    """The derivation tables as the Chinese CSVs show them: Chinese headers, codes as words
    (rule, scope, kind, status, outlier rule; 是/否), the peers excluded with their Chinese
    reasons (``reasons``: English -> Chinese); ``--lang en`` keeps the canonical names
    and codes, for scripts."""
    from costperf.columns import code_label_map, label
    from costperf.report.formats import label_codes
    from costperf.standards.derive.result import excluded_words

    if lang != "zh":
        return frame
    shown = label_codes(frame.drop(columns=list(_DERIVE_CODES), errors="ignore"), "zh")
    if "peers_excluded" in shown:
        shown["peers_excluded"] = shown["peers_excluded"].map(
            lambda text: excluded_words(text, reasons or {})
        )
    for column, kind in _DERIVE_CODES.items():
        if column in frame:
            words = code_label_map(kind, "zh")
            shown[column] = frame[column].map(lambda c, w=words: w.get(str(c), c))
    shown = shown[list(frame.columns)]
    own = code_label_map("derive_column", "zh")  # labels.csv: the derivation's headers
    names = {c: own.get(c) or label(c) for c in frame.columns}
    return shown.rename(columns=names)


def run_derive(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from costperf.case import load_case
    from costperf.commands.run import check_expressions
    from costperf.errors import InputError
    from costperf.expressions import check_formula
    from costperf.io import write_table
    from costperf.io.write import check_destinations
    from costperf.pipeline import analyse, load_case_data, steps_named
    from costperf.report.standard_page import publish_table
    from costperf.standards import read_standards
    from costperf.standards.derive import override_params, write_derived_table
    from costperf.standards.derive.result import reasons_zh

    weights = _split(args.weights)
    if weights is not None:
        try:
            weights = [float(w) for w in weights]
        except ValueError:
            msg = f"--weights: expected numbers separated by commas, got {args.weights!r}"
            raise InputError(msg) from None
    config = load_case(args.case)
    check_expressions(config)
    if args.formula is not None:
        check_formula(args.formula, what="--formula")
    settings = override_params(
        config.standard,
        rule=args.rule,
        config=config.path,
        compare=_split(args.compare),
        outlier_rule=args.outlier_rule,
        tau=args.tau,
        formula=args.formula,
        at=args.at,
        dea_inputs=_split(args.dea_inputs),
        dea_outputs=_split(args.dea_outputs),
        dea_score=args.dea_score,
        members=_split(args.members),
        weights=weights,
        table_version=args.version,
    )
    config = replace(config, standard=settings)
    out = Path(args.out)
    check_destinations([], [out, out / "standards"])  # a file where --out goes: refused now
    data = load_case_data(config)
    derivation = analyse(config, data, steps=steps_named("unit_costs", "derive")).derivation
    table = derivation.table
    folder = out / "standards"
    taken = [
        str(p) for p in (folder / f"{table.stem}.toml", out / f"{table.stem}.xlsx") if p.exists()
    ]
    if taken:
        msg = (
            f"{', '.join(taken)}: already exists; a table version is never overwritten "
            "(choose another --out or --version)"
        )
        raise InputError(msg)
    toml_path, _, _ = write_derived_table(table, folder)
    lang = args.lang
    written = [toml_path]
    reasons = reasons_zh(derivation.provenance)  # the peers excluded: why, in Chinese
    for name, frame in (
        ("derive-comparison.csv", derivation.comparison),
        ("derive-sensitivity.csv", derivation.sensitivity),
        ("derive-provenance.csv", derivation.provenance),
        ("derive-standard.csv", derivation.standard),
    ):
        written.append(write_table(_display(frame, lang, reasons), out / name, lang=lang))
    standards = read_standards(toml_path)
    for fmt in ("xlsx", "html"):
        path = out / f"{table.stem}.{fmt}"
        written.append(publish_table(standards, table.ref, path, fmt=fmt, lang=lang))
    _print_derivation(derivation, written, lang)
    return 0


def _print_derivation(derivation, written: list[Path], lang: str) -> None:  # noqa: ANN001
    from costperf.columns import code_label, expected_label, message
    from costperf.labels import unit_words

    def rule_words(rule: str) -> str:
        return code_label("derive_rule", rule, lang)

    standard, comparison = derivation.standard, derivation.comparison
    dims = [c for c in standard.columns[: list(standard.columns).index("standard_id")]]
    table = derivation.table
    title = table.header["title_en" if lang == "en" else "title"]
    head = {"title": title, "ref": table.ref, "rule": rule_words(derivation.rule)}
    print(message("derive.head", lang, **head, n=len(derivation.units)))
    loo = derivation.sensitivity
    for _, row in standard.iterrows():
        key = tuple(row[d] for d in dims)
        cell = "/".join(str(k) for k in key) or message("derive.all_cells", lang)
        mine = loo[(loo["rule"] == derivation.rule)]
        for d, k in zip(dims, key, strict=True):
            mine = mine[mine[d] == k]
        pct = f"{mine['max_abs_pct_change'].iloc[0]:.1f}" if len(mine) else None
        move = message("derive.cell_move", lang, pct=pct) if pct is not None else ""
        counts = {"n_peers": int(row["n_peers"]), "n_excluded": int(row["n_excluded"])}
        value = {"value": f"{row['value']:.2f}", "unit": unit_words(row["unit"], lang)}
        print(message("derive.cell", lang, cell=cell, **value, **counts, move=move))
    totals = comparison[comparison["scope"] == "total"]
    print(message("derive.savings_head", lang))
    for _, row in totals.iterrows():
        if row["savings_yuan"] != row["savings_yuan"]:  # NaN: the rule could not run
            words, why = rule_words(row["rule"]), str(row["method"])
            why = expected_label(why, lang) or why  # the error's words in lang
            print(message("derive.savings_none", lang, rule=words, method=why))
            continue
        wan, pct = f"{row['savings_yuan'] / 1e4:,.1f}", f"{row['savings_pct']:.1f}"
        print(message("derive.savings", lang, rule=rule_words(row["rule"]), wan=wan, pct=pct))
    for note in derivation.notes:  # "rule: why", the why in lang
        rule, _, why = note.partition(": ")
        why = expected_label(why, lang) or why
        note = f"{rule_words(rule)}{message('publication.sep', lang)}{why}" if why else note
        print(message("derive.not_computed", lang, note=note), file=sys.stderr)
    joined = ("，" if lang == "zh" else ", ").join(str(p) for p in written)
    print(message("derive.outputs", lang, paths=joined))
