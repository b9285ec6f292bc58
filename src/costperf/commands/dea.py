"""``costperf dea DATA --inputs a,b --outputs c,d -o OUT``: DEA efficiency of every row.

One output row per data row, the id column first, then the scores (see
:func:`costperf.benchmark.frontier.solve_dea` for every column). With ``--prices``
(input prices) cost and allocative efficiency are added; with ``--output-prices``
revenue and output allocative efficiency.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from costperf.commands._tables import split_names
from costperf.errors import LOCATION


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "dea",
        help="DEA efficiency scores (数据包络分析) of units with several inputs and outputs",
        description="Data envelopment analysis as in R's Benchmarking package: radial "
        "scores under CRS/VRS/DRS/IRS/FDH, input, output or graph orientation, "
        "slacks, super-efficiency, cost/revenue/allocative efficiency. Reads "
        "CSV, XLSX or Parquet; writes one row per data row.",
    )
    p.add_argument("data", type=Path, help="data file (.csv, .xlsx, .parquet)")
    p.add_argument("--inputs", required=True, help="input columns, comma-separated")
    p.add_argument("--outputs", required=True, help="output columns, comma-separated")
    p.add_argument(
        "--rts",
        default="vrs",
        help="returns to scale: crs, vrs, drs (nirs), irs (ndrs), fdh (default vrs)",
    )
    p.add_argument(
        "--orientation",
        default="in",
        help="in (theta <= 1), out (Farrell phi >= 1 and 1/phi) or graph (default in)",
    )
    p.add_argument("--slack", action="store_true", help="add phase-2 slacks per column")
    p.add_argument(
        "--super",
        action="store_true",
        dest="super_efficiency",
        help="add Andersen-Petersen super-efficiency",
    )
    p.add_argument(
        "--prices",
        default=None,
        help="input prices for cost efficiency: price columns (one per input, "
        "per-unit prices) or numbers (the same for all units)",
    )
    p.add_argument(
        "--output-prices",
        default=None,
        help="output prices for revenue efficiency (columns or numbers)",
    )
    p.add_argument(
        "--id",
        default=None,
        help="id column kept in the output (default: the first column that is "
        "not an input, output or price; else the row number)",
    )
    p.add_argument("--sheet", default=None, help="Excel sheet (default: the first)")
    p.add_argument(
        "--header-row", type=int, default=None, help="1-based header row (default: detected)"
    )
    p.add_argument("--threads", type=int, default=None, help="worker threads for the LPs")
    p.add_argument(
        "-o", "--output", type=Path, required=True, help="result file (.csv, .xlsx or .parquet)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from costperf.benchmark.frontier import cost_efficiency, revenue_efficiency, solve_dea
    from costperf.io import read_table, write_table

    _check_options(args)
    data = read_table(args.data, sheet=args.sheet, header_row=args.header_row)
    spec = _spec(args, data)
    inputs, outputs, ids, prices, out_prices = _frames(data, spec, args)
    result = solve_dea(
        inputs,
        outputs,
        rts=args.rts,
        orientation=args.orientation,
        slack=args.slack,
        super_efficiency=args.super_efficiency,
        threads=args.threads,
    )
    parts = [result]
    if prices is not None:
        cost = cost_efficiency(inputs, outputs, prices, rts=args.rts, threads=args.threads)
        parts.append(_extra(cost, parts, "cost_status"))
    if out_prices is not None:
        rev = revenue_efficiency(inputs, outputs, out_prices, rts=args.rts, threads=args.threads)
        parts.append(_extra(rev, parts, "revenue_status"))
    table = _join(ids, parts)
    written = write_table(_shown(table, spec, args.lang), args.output, lang=args.lang)
    _summary(result, args, written)
    return 0


def _check_options(args: argparse.Namespace) -> None:
    """--rts, --orientation and --threads, all told at once (before the data is read)."""
    from costperf.benchmark.dea.checks import (
        ORIENTATIONS,
        RETURNS_TO_SCALE,
        normalize_orientation,
        normalize_rts,
    )
    from costperf.commands._tables import check_options
    from costperf.errors import Check, InputError, located_error

    errors = []
    for option, check, value, names in (
        ("--rts", normalize_rts, args.rts, (*RETURNS_TO_SCALE, "nirs", "ndrs")),
        ("--orientation", normalize_orientation, args.orientation, ORIENTATIONS),
    ):
        try:
            check(value)
        except InputError as exc:
            expected = f"one of: {', '.join(names)}"
            error = located_error(
                str(exc), column=option, value=value, expected=expected, check=Check.OPTION
            )
            errors.append(error)
    threads = args.threads is None or args.threads >= 1
    check_options([("--threads", args.threads, threads, "a whole number >= 1")], errors)


def _price_spec(
    text: str | None, option: str, count: int, what: str
) -> tuple[list[str], list[float] | None]:
    """Price columns, or constant prices when every item is a number."""
    import math

    from costperf.errors import InputError

    items = split_names(text, option)
    if not items:
        return [], None
    try:
        numbers = [float(t) for t in items]
    except ValueError:
        numbers = None
    if len(items) != count:
        msg = f"{option} {text!r}: expected {count} values, one per {what} column, got {len(items)}"
        raise InputError(msg)
    if numbers is not None and not all(math.isfinite(n) and n >= 0 for n in numbers):
        msg = f"{option} {text!r}: expected prices that are numbers >= 0"
        raise InputError(msg)
    return ([], numbers) if numbers is not None else (items, None)


def _spec(args: argparse.Namespace, data) -> dict:
    from costperf.errors import InputError, raise_if_problems
    from costperf.schemas import concat_problems, require_columns

    inputs = split_names(args.inputs, "--inputs")
    outputs = split_names(args.outputs, "--outputs")
    price_cols, price_consts = _price_spec(args.prices, "--prices", len(inputs), "input")
    oprice_cols, oprice_consts = _price_spec(
        args.output_prices, "--output-prices", len(outputs), "output"
    )
    both = set(inputs) & set(outputs)
    if both:
        msg = f"column(s) {', '.join(sorted(both))} given both in --inputs and --outputs"
        raise InputError(msg)
    wanted = inputs + outputs + price_cols + oprice_cols + ([args.id] if args.id else [])
    raise_if_problems(concat_problems([require_columns(data, wanted)]), str(args.data))
    used = set(wanted) | set(LOCATION)
    id_col = args.id or next((c for c in data.columns if c not in used), None)
    return {
        "inputs": inputs,
        "outputs": outputs,
        "prices": price_cols or price_consts,
        "output_prices": oprice_cols or oprice_consts,
        "id": id_col,
    }


def _frames(data, spec: dict, args: argparse.Namespace):
    import pandas as pd

    from costperf.benchmark.frontier import check_dea_data
    from costperf.errors import raise_if_problems
    from costperf.schemas import check_unique, coerce_numeric, coerce_text, concat_problems

    price_cols = [
        c
        for key in ("prices", "output_prices")
        if spec[key] and isinstance(spec[key][0], str)
        for c in spec[key]
    ]
    frame, problems = coerce_numeric(data, spec["inputs"] + spec["outputs"])
    frame, price_problems = coerce_numeric(frame, list(dict.fromkeys(price_cols)), min_value=0)
    parts = [problems, price_problems]
    id_col = spec["id"]
    if id_col is not None:
        frame, id_problems = coerce_text(frame, [id_col], required=[id_col])
        parts += [id_problems, check_unique(frame, [id_col], what=id_col)]
        ids = frame[id_col].astype(object).where(frame[id_col].notna(), "")
    else:
        id_col = "row"
        ids = frame["source_row"].astype(str)
    index = pd.Index(ids.astype(str), name=id_col)
    inputs = frame[spec["inputs"]].set_axis(index)
    outputs = frame[spec["outputs"]].set_axis(index)
    locations = frame[list(LOCATION)].set_axis(index)
    # checked by position, so that a duplicate id does not hide a negative input
    rows = pd.RangeIndex(len(frame))
    model = check_dea_data(
        inputs.set_axis(rows),
        outputs.set_axis(rows),
        rts=args.rts,
        orientation=args.orientation,
        locations=locations.set_axis(rows),
        what=str(args.data),
    )
    # blanks and text were reported by coerce_numeric already
    parts.append(_raw_values(model[model["check"] != "missing_value"], data))
    problems = concat_problems(parts)
    if not problems.empty:
        rows = pd.to_numeric(problems["source_row"], errors="coerce")
        problems = problems.iloc[rows.argsort(kind="stable")].reset_index(drop=True)
    raise_if_problems(problems, str(args.data))
    prices = _prices(frame, spec["prices"], index, args, "--prices")
    out_prices = _prices(frame, spec["output_prices"], index, args, "--output-prices")
    if prices is not None:
        raise_if_problems(_raw_values(_zero_cost(frame, inputs, prices), data), str(args.data))
    return inputs, outputs, pd.Series(ids.to_numpy(), index=index, name=id_col), prices, out_prices


def _raw_values(problems, data):
    """Show each problem's cell as the user typed it (not the parsed number)."""
    if problems.empty:
        return problems
    raw = data.set_index("source_row")
    shown = [
        str(raw.at[row, col]) if col in raw.columns and row in raw.index else value
        for row, col, value in zip(
            problems["source_row"], problems["column"], problems["value"], strict=True
        )
    ]
    return problems.assign(value=shown)


def _prices(frame, spec, index, args: argparse.Namespace, option: str):
    if not spec:
        return None
    if isinstance(spec[0], str):
        return frame[spec].set_axis(index)
    return list(spec)


def _zero_cost(frame, inputs, prices):
    """Rows whose observed cost (prices x inputs) is 0: cost efficiency is undefined."""
    import numpy as np
    import pandas as pd

    from costperf.schemas import row_problems

    w = prices.to_numpy(dtype=float) if hasattr(prices, "to_numpy") else np.asarray(prices)
    cost = (inputs.to_numpy(dtype=float) * w).sum(axis=1)
    mask = pd.Series(cost <= 0, index=frame.index)
    return row_problems(
        frame,
        mask,
        str(inputs.columns[0]),
        "inputs with a positive price (observed cost = prices x inputs is 0)",
        "zero_cost",
    )


def _extra(frame, parts, status_name: str):
    """Columns of ``frame`` not already in ``parts`` (its status renamed)."""
    frame = frame.rename(columns={"status": status_name})
    have = {c for part in parts for c in part.columns}
    return frame[[c for c in frame.columns if c not in have]]


def _join(ids, parts):
    import pandas as pd

    table = pd.concat(parts, axis=1)
    table.insert(0, ids.name, ids.to_numpy())
    return table.reset_index(drop=True)


def _shown(table, spec: dict, lang: str):  # noqa: ANN001, ANN202 - DataFrame in and out
    """The table as written: ``--lang en`` the canonical names and codes (for scripts);
    Chinese headers and status words otherwise (松弛量：保洁人员数, 已求得最优解)."""
    from costperf.columns import label, message
    from costperf.report.formats import label_codes

    if lang != "zh":
        return table
    inputs, outputs = set(spec["inputs"]), set(spec["outputs"])
    names = {}
    for column in table.columns[1:]:  # the first is the id column, as in the data
        rest = column.partition("_")[2]
        if column.startswith("slack_") and rest in inputs | outputs:
            names[column] = message("dea.slack_column", lang, column=rest)
        elif column.startswith("optimal_") and rest in inputs:
            names[column] = message("dea.optimal_input", lang, column=rest)
        elif column.startswith("optimal_") and rest in outputs:
            names[column] = message("dea.optimal_output", lang, column=rest)
        else:
            names[column] = label(column, lang)
    return label_codes(table, lang).rename(columns=names)


def _summary(result, args: argparse.Namespace, written: Path) -> None:
    col = next(
        c for c in ("efficiency_in", "efficiency_out_farrell", "efficiency_graph") if c in result
    )
    score = result[col]
    efficient = int((score == 1).sum())
    info = result.attrs.get("dea", {})
    from costperf.columns import code_label, label, message

    model = {"rts": info.get("rts", args.rts).upper()}
    orientation = info.get("orientation", args.orientation)
    model["orientation"] = code_label("dea_orientation", orientation, args.lang)
    shown = label(col, args.lang) if args.lang == "zh" else col
    scores = {"efficient": efficient, "score": shown, "mean": f"{score.mean():.4f}"}
    scores["not_optimal"] = int((result["status"] != "optimal").sum())
    line = message("dea.summary", args.lang, n=len(result), **model, **scores, path=written)
    print(line, file=sys.stdout)
