"""``costperf costmodel``: cost-driver regression (OLS or quantile) on one data file.

Writes the coefficient table (term, coef, se, t, p, confidence interval and the standard-
error method) to ``-o`` (.csv, .xlsx or .parquet) and prints a short summary. The formula
names the columns as written in the file's header row.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from costperf.commands._tables import lang_argument
from costperf.errors import LOCATION

if TYPE_CHECKING:
    from costperf.benchmark.costmodel import CostModel

EPILOG = """\
examples:
  costperf costmodel contracts.xlsx -f "np.log(unit_cost) ~ np.log(wage_index) + C(road_grade)" \\
      --se HC3 -o coef.csv
  costperf costmodel contracts.csv -f "np.log(unit_cost) ~ np.log(frequency)" \\
      --quantile 0.25 --se nid -o coef_q25.xlsx
  costperf costmodel contracts.csv -f "np.log(unit_cost) ~ np.log(wage_index)" \\
      --cluster district -o coef.csv

standard errors (--se): OLS nonrobust (default), HC0, HC1, HC2, HC3 (R sandwich::vcovHC),
cluster (R sandwich::vcovCL, type HC1, needs --cluster); quantile regression iid,
nid (default), ker (R quantreg summary.rq). A header that is not a Python name is
written Q("header") in the formula.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``costmodel`` and its options."""
    parser = subparsers.add_parser(
        "costmodel",
        help="cost-driver regression (OLS / quantile) 成本动因回归",
        description="Cost-driver regression 成本动因回归: OLS on logs with R-equivalent "
        "standard errors, or exact quantile regression (R quantreg).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("data", type=Path, help="data file (.csv, .xlsx, .parquet)")
    parser.add_argument("-f", "--formula", required=True, help="model formula, 'y ~ x + C(g)'")
    parser.add_argument(
        "-q",
        "--quantile",
        type=float,
        default=None,
        help="quantile tau in (0, 1) for quantile regression (e.g. 0.25)",
    )
    parser.add_argument("--se", default=None, help="standard-error type (see below)")
    parser.add_argument("--cluster", default=None, help="cluster column (implies --se cluster)")
    parser.add_argument("--sheet", default=None, help="Excel sheet (default: the first)")
    parser.add_argument(
        "--alpha",
        type=float,
        default=0.05,
        help="1 - confidence level of the intervals (default 0.05)",
    )
    parser.add_argument(
        "--predictions",
        type=Path,
        default=None,
        help="also write fitted values and intervals per row to this file",
    )
    parser.add_argument(
        "--vif",
        type=Path,
        default=None,
        help="also write variance inflation factors (car::vif) to this file",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="coefficient table (.csv, .xlsx or .parquet)",
    )
    lang_argument(parser)
    parser.set_defaults(func=run)


def _se_options(args: argparse.Namespace) -> dict[str, object]:
    if args.quantile is not None:
        return {
            "quantile": args.quantile,
            "se_quantile": args.se or "nid",
            **({"cluster": args.cluster} if args.cluster else {}),
        }
    se = args.se or ("cluster" if args.cluster else "nonrobust")
    return {"se": se, "cluster": args.cluster}


def run(args: argparse.Namespace) -> int:
    """Fit the model, write the table(s), print a summary; return the exit status."""
    from costperf.benchmark.costmodel import fit_cost_model, predict_cost, variance_inflation
    from costperf.commands._tables import check_options
    from costperf.expressions import check_formula
    from costperf.io import read_table, write_table

    between = "a number strictly between 0 and 1"
    check_options(
        [
            ("--alpha", args.alpha, 0 < args.alpha < 1, between),
            ("--quantile", args.quantile, args.quantile is None or 0 < args.quantile < 1, between),
        ]
    )
    check_formula(args.formula, what="--formula")  # before patsy, before any data is read
    frame = read_table(args.data, sheet=args.sheet)
    model = fit_cost_model(frame, args.formula, alpha=args.alpha, **_se_options(args))
    # compute everything before writing anything: a rejected input leaves no output behind
    outputs = [(model.coefficients, args.output)]
    if args.vif is not None:
        outputs.append((variance_inflation(frame, args.formula), args.vif))
    if args.predictions is not None:
        located = frame[[c for c in LOCATION if c in frame]]
        predicted = predict_cost(model, frame, alpha=args.alpha)
        outputs.append((located.join(predicted), args.predictions))
    for table, path in outputs:
        write_table(_shown(table, model, args.lang), path, lang=args.lang)
    for line in summary_lines(model, args.output, args.lang):
        print(line)
    return 0


def se_text(model: CostModel, lang: str) -> str:
    """The standard-error method in words (English: the library's own text)."""
    from costperf.benchmark.costmodel.model import se_words

    return se_words(model.fit, lang)


def _shown(table, model: CostModel, lang: str):  # noqa: ANN001, ANN202 - DataFrame in and out
    """A table as written: ``--lang en`` the canonical names (for scripts); Chinese
    headers and the standard-error method in Chinese otherwise."""
    from costperf.columns import to_display

    if lang != "zh":
        return table
    if "se_method" in table:
        table = table.assign(se_method=se_text(model, lang))
    if "retransform" in table:  # predict_cost's default, as run_costmodel calls it
        from costperf.benchmark.costmodel.predict import retransform_words

        table = table.assign(retransform=retransform_words(model, "smearing", lang))
    return to_display(table, lang)


def summary_lines(model: CostModel, output: Path, lang: str = "zh") -> list[str]:
    """A few lines for the terminal: model, n, fit, standard-error method, output."""
    from costperf.columns import message

    fit = model.fit
    size = {"n": fit["n"], "k": fit["n_params"]}
    if model.method == "ols":
        fits = {"r2": fit["r2"], "adj_r2": fit["adj_r2"], "sigma": fit["sigma"]}
        head = message("costmodel.ols", lang, **size, **fits)
    else:
        head = message(
            "costmodel.quantile", lang, tau=model.quantile, **size, pseudo_r2=fit["pseudo_r2"]
        )
    lines = [head, message("costmodel.se", lang, method=se_text(model, lang), df=fit["df_resid"])]
    if model.method == "quantile" and fit.get("solution_unique") is False:
        lines.append(message("costmodel.not_unique", lang))
    lines.append(message("costmodel.written", lang, n=len(model.coefficients), path=output))
    return lines
