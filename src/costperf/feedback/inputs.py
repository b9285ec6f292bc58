"""Schemas and checks of the feedback loop's inputs: monitoring rows and evaluations.

Read with :func:`costperf.io.read.read_checked` (headers in Chinese or English, every
problem located), then checked here across rows (dates, duplicates, consistency); the
checks return a problems frame and never raise.
"""

from __future__ import annotations

import pandas as pd

from costperf.errors import Check
from costperf.feedback.policies import EvaluationPolicy
from costperf.schemas import (
    Schema,
    concat_problems,
    date_expected,
    parse_dates,
    require_columns,
    row_problems,
)

MONITORING = Schema(
    "monitoring",
    "绩效运行监控",
    required=("project_id", "checkpoint", "budget", "executed", "indicator", "target", "actual"),
    optional=("note", "year", "project_name", "department"),
    minimum={"budget": 0.0, "executed": 0.0, "target": 0.0, "actual": 0.0},
    nullable=("target", "actual", "note", "year", "project_name", "department"),
)

EVALUATIONS = Schema(
    "evaluations",
    "绩效评价结果",
    required=("project_id", "year", "score"),
    optional=("evaluation_kind", "kind", "target_attainment", "note", "project_name", "department"),
    minimum={"score": 0.0, "target_attainment": 0.0},
    nullable=("evaluation_kind", "kind", "target_attainment", "note", "project_name", "department"),
)


def check_monitoring(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Dates, duplicates and budget/executed consistency of monitoring rows.

    Returns the rows with ``checkpoint`` as a date and ``year`` its year, and the
    problems: a checkpoint that is not a date; a repeated (project, checkpoint,
    indicator); a project whose rows at one checkpoint give different budgets or
    executed amounts; an executed amount above the budget (执行数 of a row in 万元
    under a header in 元, or the columns swapped: an execution rate above 100 % would
    pass as no slow execution); a ``year`` column that is not the checkpoint's year.
    """
    out = frame.copy()
    out["checkpoint"] = parse_dates(frame["checkpoint"])
    bad = out["checkpoint"].isna()
    parts = [row_problems(frame, bad, "checkpoint", "a date YYYY-MM-DD (监控时点)", Check.BAD_DATE)]
    if bad.any():  # a date formatted as a number says so
        parts[0]["expected"] = date_expected(frame.loc[bad, "checkpoint"], "监控时点")
    year = out["checkpoint"].dt.year
    if "year" in frame:
        given = pd.to_numeric(frame["year"], errors="coerce")
        off = given.notna() & ~bad & given.ne(year)
        parts.append(
            row_problems(
                frame, off, "year", "the year of the checkpoint (监控时点)", Check.INCONSISTENT
            )
        )
    out["year"] = year.astype("Int64")
    ok = ~bad
    key = ["project_id", "checkpoint", "indicator"]
    dup = out.duplicated(key, keep="first") & ok
    parts.append(
        row_problems(
            frame, dup, "indicator", "one row per project, checkpoint and indicator",
            Check.DUPLICATE_ID,
        )
    )  # fmt: skip
    over = out["executed"].gt(out["budget"])  # a blank (bad) cell compares False
    parts.append(
        row_problems(
            frame, over, "executed", "an executed amount at most the budget (预算数) of the row",
            Check.ABOVE_MAXIMUM,
        )
    )  # fmt: skip
    for column in ("budget", "executed"):
        spread = out[ok].groupby(["project_id", "checkpoint"])[column].transform("nunique")
        mixed = pd.Series(False, index=out.index)
        mixed.loc[spread.index] = spread.gt(1)
        parts.append(
            row_problems(
                frame, mixed, column,
                f"the same {column} on every row of the project at this checkpoint",
                Check.INCONSISTENT,
            )
        )  # fmt: skip
    return out, concat_problems(parts)


def check_evaluations(
    frame: pd.DataFrame, policy: EvaluationPolicy
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Kinds, ranges and duplicates of evaluation rows typed by :data:`EVALUATIONS`
    (whose validation reports a year that is not whole).

    Returns the rows with ``kind`` as a code (self / key / third_party) and ``year`` a
    whole number, and the problems: a score above 100, an attainment above 2 (a share:
    write 85% or 0.85), an unknown kind, a repeated (project, year, kind).
    """
    out = frame.copy()
    given = frame.get("evaluation_kind")
    if given is None:
        given = frame.get("kind", pd.Series(None, index=frame.index, dtype=object))
    elif "kind" in frame:
        given = given.fillna(frame["kind"])
    names = {name: code for code, spelled in policy.kinds.items() for name in spelled}
    column = "evaluation_kind" if "evaluation_kind" in frame else "kind"
    out["kind"] = given.map(lambda v: names.get(str(v).strip()) if pd.notna(v) else None)
    allowed = "、".join(n for spelled in policy.kinds.values() for n in spelled[:1])
    if "evaluation_kind" in frame or "kind" in frame:
        parts = [
            row_problems(frame, out["kind"].isna(), column, f"one of {allowed}", Check.NOT_ALLOWED)
        ]
    else:  # no 评价类型 column: one problem at the header, not one per row of a column
        # named after the standards' 标准类型
        what = f"{EVALUATIONS.label_zh} ({EVALUATIONS.name})"
        parts = [require_columns(frame, ["evaluation_kind"], what=what)]
    parts.append(
        row_problems(frame, out["score"].gt(100), "score", "a score 0-100", Check.ABOVE_MAXIMUM)
    )
    if "target_attainment" in out:
        high = out["target_attainment"].gt(2)
        parts.append(
            row_problems(
                frame, high, "target_attainment",
                "a share of the targets attained, at most 2 (write 85% or 0.85)",
                Check.ABOVE_MAXIMUM,
            )
        )  # fmt: skip
    # a year that is not whole is the schema's problem (schemas.check_years); its rows
    # are left out of the repeat check
    fractional = out["year"].notna() & out["year"].ne(out["year"].round())
    out["year"] = out["year"].round().astype("Int64")
    counted = out[~fractional & out["kind"].notna()]
    dup = counted.duplicated(["project_id", "year", "kind"], keep="first")
    dup = dup.reindex(out.index, fill_value=False)
    parts.append(
        row_problems(
            frame, dup, column, "one evaluation per project, year and kind", Check.DUPLICATE_ID
        )
    )
    return out.drop(columns=["evaluation_kind"], errors="ignore"), concat_problems(parts)
