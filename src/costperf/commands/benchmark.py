"""``costperf benchmark DATA --value unit_cost --by road_grade -o OUT``: peer statistics.

Each peer group is screened for outliers (:func:`costperf.benchmark.peers.flag_outliers`:
Tukey IQR fences or the MAD modified z-score; optionally Cook's distance of an OLS cost
model, ``--model``), and described without them
(:func:`costperf.benchmark.peers.peer_statistics`: n, mean, std, cv, quantiles, median,
IQR).  Two tables are written: the statistics per group, and the flagged rows with the
rule, the fences and the reason (``.xlsx``: two sheets; ``.csv``/``.parquet``: ``OUT`` and
``OUT-stem_outliers.<suffix>``).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from costperf.commands._tables import (
    display,
    input_arguments,
    output_arguments,
    resolve_columns,
    shown_name,
    split_names,
    write_tables,
)
from costperf.errors import LOCATION

if TYPE_CHECKING:
    import pandas as pd

EPILOG = """\
examples:
  costperf benchmark units.csv --value unit_cost --by road_grade -o peers.xlsx
  costperf benchmark units.xlsx --value 单位成本 --by 道路等级,区域 --outliers mad -o peers.csv
  costperf benchmark units.csv --value unit_cost --by road_grade \\
      --model "np.log(unit_cost) ~ np.log(wage_index) + C(road_grade)" -o peers.csv

--outliers iqr: Tukey fences Q1 - k IQR, Q3 + k IQR (k = 1.5); mad: |0.6745 (x - median)
/ MAD| > k (k = 3.5). Groups with fewer than --min-group-size values are not screened.
--model adds Cook's distance > 4/n (or --cooks-threshold) of the OLS fit; the formula
names columns as written in the header row (Q("单位成本") for non-Python names).
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``benchmark`` and its options."""
    p = subparsers.add_parser(
        "benchmark",
        help="peer statistics with outlier screening (同类比较)",
        description="Peer statistics per group (同类比较: n, mean, median, quantiles, "
        "IQR, CV) after outlier screening, and the flagged rows with the reason. Reads "
        "CSV, XLSX or Parquet.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    input_arguments(p)
    p.add_argument("--value", required=True, help="numeric column to describe (unit_cost)")
    p.add_argument("--by", default=None, help="grouping columns, comma-separated")
    p.add_argument(
        "--quantiles",
        default="0.25,0.5,0.75",
        help="probabilities in [0, 1], comma-separated (default 0.25,0.5,0.75)",
    )
    p.add_argument(
        "--quantile-method",
        default="linear",
        help="numpy quantile method (default linear = R type 7 = Excel PERCENTILE.INC)",
    )
    p.add_argument(
        "--outliers",
        choices=("iqr", "mad", "none"),
        default="iqr",
        help="outlier screen before the statistics: iqr (quartile fences), mad (modified "
        "z-score) or none (default iqr)",
    )
    p.add_argument("--k", type=float, default=None, help="fence multiplier (iqr 1.5, mad 3.5)")
    p.add_argument(
        "--min-group-size",
        type=int,
        default=4,
        help="groups with fewer values are not screened (default 4)",
    )
    p.add_argument("--model", default=None, help="OLS formula for Cook's-distance outliers")
    p.add_argument(
        "--cooks-threshold", type=float, default=None, help="Cook's distance screen (default 4/n)"
    )
    p.add_argument(
        "--id",
        default=None,
        help="id column shown with the flagged rows (default: project_id if present)",
    )
    output_arguments(p, "statistics file", run)


def run(args: argparse.Namespace) -> int:
    """Screen, describe, write both tables, print a summary; return the exit status."""
    import math

    from costperf.benchmark.peers import flag_outliers, peer_statistics
    from costperf.commands._tables import check_options
    from costperf.expressions import check_formula
    from costperf.io import read_table

    positive = "a number > 0"
    check_options(
        [
            ("--k", args.k, args.k is None or (math.isfinite(args.k) and args.k > 0), positive),
            (
                "--min-group-size",
                args.min_group_size,
                args.min_group_size >= 1,
                "a whole number >= 1",
            ),
            (
                "--cooks-threshold",
                args.cooks_threshold,
                args.cooks_threshold is None
                or (math.isfinite(args.cooks_threshold) and args.cooks_threshold > 0),
                positive,
            ),
        ]
    )
    if args.model:
        check_formula(args.model, what="--model")  # before patsy, before any data is read
    data = read_table(args.data, sheet=args.sheet, header_row=args.header_row)
    spec = _spec(args, data)
    frame = _typed(data, spec, args)
    quantiles = _quantiles(args.quantiles)
    screened = flag_outliers(
        frame,
        spec["value"],
        spec["by"],
        rule=args.outliers,
        k=args.k,
        quantile_method=args.quantile_method,
        min_group_size=args.min_group_size,
    )
    cooks = _cooks(data, args) if args.model else None
    outlier = screened["outlier"].to_numpy(copy=True)
    if cooks is not None:
        outlier |= cooks["outlier"].to_numpy()
    kept = frame.assign(**{spec["value"]: frame[spec["value"]].where(~outlier)})
    stats = peer_statistics(
        kept, spec["value"], spec["by"], quantiles, quantile_method=args.quantile_method
    )
    stats = _with_counts(stats, frame, screened, outlier, spec, args)
    flagged = _flagged(screened, cooks, spec, args.lang)
    tables = _tables(stats, flagged, spec, args.lang)
    written = write_tables(tables, args.output, args.lang)
    for line in _summary(stats, flagged, frame, spec, args, written):
        print(line)
    return 0


# --------------------------------------------------------------------------- inputs


def _spec(args: argparse.Namespace, data: pd.DataFrame) -> dict:
    from costperf.errors import InputError, raise_if_problems
    from costperf.schemas import concat_problems

    value = split_names(args.value, "--value")
    if len(value) != 1:
        msg = f"--value {args.value!r}: expected one column name"
        raise InputError(msg)
    by = split_names(args.by, "--by")
    wanted = [("--value", value), ("--by", by)] + ([("--id", [args.id])] if args.id else [])
    found, parts = {}, []
    for option, names in wanted:
        hit, problems = resolve_columns(data, names, option=option)
        found.update(hit)
        parts.append(problems)
    raise_if_problems(concat_problems(parts), str(args.data))
    if args.id:
        id_col = found[args.id]
    else:
        id_col = resolve_columns(data, ["project_id"], option="--id")[0].get("project_id")
    spec = {"value": found[value[0]], "by": [found[b] for b in by], "id": id_col}
    if spec["value"] in spec["by"]:
        msg = f"column '{spec['value']}' is both --value and a --by column"
        raise InputError(msg)
    if len(set(spec["by"])) != len(spec["by"]):
        msg = f"--by {args.by!r}: a column is listed more than once"
        raise InputError(msg)
    return spec


def _typed(data: pd.DataFrame, spec: dict, args: argparse.Namespace) -> pd.DataFrame:
    """The value parsed as numbers (blanks allowed), group keys and id as text; the
    --model formula's numeric columns checked too, so that all problems come at once."""
    from costperf.errors import raise_if_problems
    from costperf.schemas import coerce_numeric, coerce_text, concat_problems

    frame, problems = coerce_numeric(data, [spec["value"]], allow_missing=True)
    text = [*spec["by"], *([spec["id"]] if spec["id"] and spec["id"] not in spec["by"] else [])]
    frame, text_problems = coerce_text(frame, text)
    parts = [problems, text_problems]
    if args.model:
        from costperf.benchmark.costmodel.formula import parse_formula

        parsed = parse_formula(args.model, data, need_response=True)
        numeric = [c for c in parsed.numeric if c != spec["value"] and c in data.columns]
        parts.append(coerce_numeric(data, numeric)[1])
    raise_if_problems(concat_problems(parts), str(args.data))
    return frame


def _quantiles(text: str) -> list[float]:
    from costperf.errors import InputError

    items = split_names(text, "--quantiles")
    try:
        return [float(q) for q in items]
    except ValueError:
        msg = f"--quantiles {text!r}: expected numbers in [0, 1], e.g. 0.25,0.5,0.75"
        raise InputError(msg) from None


def _cooks(data: pd.DataFrame, args: argparse.Namespace) -> pd.DataFrame:
    """Cook's-distance flags of the OLS fit, one row per data row (same order)."""
    from costperf.benchmark.costmodel import fit_cost_model
    from costperf.benchmark.peers import cooks_distance_outliers

    model = fit_cost_model(data, args.model)
    flags = cooks_distance_outliers(model.result, threshold=args.cooks_threshold)
    # the fit uses every row in order (blanks are rejected), so positions match
    return flags.reset_index(drop=True).set_axis(data.index)


# --------------------------------------------------------------------------- results


def _with_counts(stats, frame, screened, outlier, spec: dict, args) -> pd.DataFrame:
    """Add outliers excluded per group, the rule, and why a group was not screened."""
    import numpy as np
    import pandas as pd

    from costperf.columns import sort_natural

    by = spec["by"]
    if by:
        grouper = frame.groupby(by, dropna=False, sort=True)
        codes = grouper.ngroup().to_numpy()
    else:
        codes = np.zeros(len(frame), dtype=int)
    n_outliers = np.bincount(codes, weights=outlier, minlength=len(stats)).astype(int)
    stats = stats.copy()
    stats["n_missing"] = stats["n_missing"] - n_outliers  # excluded values are not missing
    stats.insert(len(by) + 2, "n_outliers", n_outliers)
    stats["outlier_rule"] = _screening(args, args.lang)
    reasons = pd.Series(screened["outlier_reason"].to_numpy(), index=codes)
    zh = pd.Series(screened["outlier_reason_zh"].to_numpy(), index=codes)
    group_note = reasons.str.startswith("not screened: group") | reasons.str.startswith(
        "not screened: MAD"
    )
    notes = (zh if args.lang == "zh" else reasons)[group_note.to_numpy()]
    stats["note"] = notes.groupby(level=0).first().reindex(range(len(stats))).fillna("").to_numpy()
    return sort_natural(stats, by).reset_index(drop=True)


def _screening(args: argparse.Namespace, lang: str) -> str:
    """The screening rule in words: 四分位距（IQR）法，k = 1.5，另加库克距离 > 4/n."""
    from costperf.columns import code_label, message

    screening = code_label("outlier_screen", args.outliers, lang)
    if args.outliers != "none":
        screening = message("benchmark.screening_k", lang, rule=screening, k=_k(args))
    if args.model:
        threshold = "4/n" if args.cooks_threshold is None else f"{args.cooks_threshold:g}"
        screening = message("benchmark.plus_cooks", lang, screening=screening, threshold=threshold)
    return screening


def _k(args: argparse.Namespace) -> float:
    from costperf.benchmark.peers import DEFAULT_K

    return DEFAULT_K[args.outliers] if args.k is None else args.k


def _flagged(screened, cooks, spec: dict, lang: str) -> pd.DataFrame:
    """One row per flag (a row flagged by two rules appears twice), in file order."""
    import pandas as pd

    reason = "outlier_reason_zh" if lang == "zh" else "outlier_reason"
    keys = [c for c in ([spec["id"]] if spec["id"] else []) if c not in spec["by"]]
    columns = [*keys, *spec["by"], spec["value"]]
    rule = ["outlier_rule", "lower_fence", "upper_fence"]
    where = list(LOCATION)
    parts = [
        screened.loc[screened["outlier"], [*columns, *rule, reason, *where]].rename(
            columns={reason: "outlier_reason"}
        )
    ]
    if cooks is not None:
        hit = cooks["outlier"].to_numpy()
        part = screened.loc[hit, [*columns, *where]].copy()
        for column in [*rule, "cooks_distance"]:
            part[column] = cooks.loc[hit, column].to_numpy()
        part["outlier_reason"] = cooks.loc[hit, reason].to_numpy()
        parts.append(part)
    table = pd.concat(parts, ignore_index=False)
    table = table.assign(_order=table.index).sort_values(["_order"], kind="stable")
    ordered = [*columns, *rule, "outlier_reason"]
    ordered += ["cooks_distance"] if "cooks_distance" in table else []
    return table[[*ordered, *where]].reset_index(drop=True)


def _tables(stats, flagged, spec: dict, lang: str) -> list[tuple[str, str, pd.DataFrame]]:
    from costperf.columns import code_label_map, message

    keep = {c: shown_name(c, lang) for c in [*spec["by"], *([spec["id"]] if spec["id"] else [])]}
    keep[spec["value"]] = shown_name(spec["value"], lang)
    names = code_label_map("outlier_screen", lang)
    flagged = flagged.assign(outlier_rule=flagged["outlier_rule"].map(names))
    return [
        ("stats", message("benchmark.stats_sheet", lang), display(stats, lang, keep)),
        ("outliers", message("benchmark.outliers_sheet", lang), display(flagged, lang, keep)),
    ]


def _summary(stats, flagged, frame, spec: dict, args, written) -> list[str]:
    import pandas as pd

    from costperf.columns import message

    lang = args.lang
    value = shown_name(spec["value"], lang)
    by = message("list.enumeration", lang).join(shown_name(b, lang) for b in spec["by"])
    screening = _screening(args, lang)
    groups = (
        message("benchmark.groups", lang, by=by, n=len(stats))
        if by
        else message("benchmark.one_group", lang)
    )
    lines = [
        message(
            "benchmark.summary",
            lang,
            value=value,
            n_rows=len(frame),
            groups=groups,
            screening=screening,
            n_flagged=len(flagged.drop_duplicates("source_row")),
        )
    ]
    blank = message("benchmark.blank", lang)
    for row in stats.head(20).to_dict("records"):
        key = " / ".join(blank if pd.isna(row[b]) else str(row[b]) for b in spec["by"])
        lines.append(
            "  "
            + message(
                "benchmark.group",
                lang,
                key=key or message("benchmark.all", lang),
                n=row["n"],
                median=row["median"],
                iqr=row["iqr"],
                cv=row["cv"],
            )
        )
    if len(stats) > 20:
        lines.append("  " + message("benchmark.more_groups", lang, n=len(stats) - 20))
    shown = ", ".join(str(p) for p in written)
    lines.append(message("command.written", lang, files=shown))
    return lines


__all__ = ["add_parser", "run"]
