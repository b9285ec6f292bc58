"""The year-over-year view: requested -> approved -> executed -> evaluated -> next year.

Pure: the recorded decisions, year-end execution, standing evaluations and
recommendations in; one row per project and year, and per department and year, out.
"""

from __future__ import annotations

import pandas as pd

PROJECT_COLUMNS = [
    "department",
    "project_id",
    "project_name",
    "year",
    "requested",
    "approved",
    "cut",
    "executed",
    "execution_rate",
    "score",
    "grade",
    "evaluation_kind",
    "recommendation",
    "next_year_amount",
    "effect",
]
DEPARTMENT_COLUMNS = [
    "department",
    "year",
    "n_projects",
    "requested",
    "approved",
    "cut",
    "cut_rate",
    "executed",
    "execution_rate",
    "score",
    "next_year_amount",
    "effect",
]


def year_over_year(
    decisions: pd.DataFrame,
    execution: pd.DataFrame,
    evaluations: pd.DataFrame,
    recommendations: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per project and year, and per department and year.

    Parameters
    ----------
    decisions
        Project decisions (``project_id``, ``year``, ``department``, ``requested``,
        ``approved``, ``cut``) [yuan].
    execution
        Year-end execution (``project_id``, ``year``, ``executed``, ``budget``).
    evaluations
        Standing evaluations (``project_id``, ``year``, ``score``, ``grade``, ``kind``).
    recommendations
        Current recommendations (``project_id``, ``year`` = the budget year recommended
        for, ``recommendation``, ``next_year_amount``, ``effect``).

    Returns
    -------
    (by_project, by_department)
        :data:`PROJECT_COLUMNS` and :data:`DEPARTMENT_COLUMNS`; a project-year's
        ``recommendation`` is the one for the following year. ``execution_rate`` =
        executed / budget per project; per department executed / approved.
    """
    keys = ["project_id", "year"]
    frames = [
        decisions[
            [
                c
                for c in (*keys, "department", "project_name", "requested", "approved", "cut")
                if c in decisions
            ]
        ],
        execution[[*keys, "executed", "budget"]],
        evaluations.rename(columns={"kind": "evaluation_kind"})[
            [*keys, "score", "grade", "evaluation_kind"]
        ],
        recommendations.assign(year=recommendations["year"] - 1)[
            [*keys, "recommendation", "next_year_amount", "effect", "department"]
        ].rename(columns={"department": "_department"}),
    ]
    rows = frames[0]
    for part in frames[1:]:
        rows = rows.merge(part, on=keys, how="outer")
    if "department" not in rows:
        rows["department"] = None
    rows["department"] = rows["department"].fillna(rows.pop("_department"))
    known = rows.dropna(subset=["department"]).drop_duplicates("project_id", keep="last")
    rows["department"] = rows["department"].fillna(
        rows["project_id"].map(known.set_index("project_id")["department"])
    )
    rows["execution_rate"] = rows["executed"] / rows["budget"]
    for column in PROJECT_COLUMNS:
        if column not in rows:
            rows[column] = None
    by_project = rows.sort_values(["department", "project_id", "year"], kind="stable")[
        PROJECT_COLUMNS
    ]
    grouped = rows.groupby(["department", "year"], dropna=False)
    money = ["requested", "approved", "cut", "executed", "next_year_amount", "effect"]
    by_department = grouped[money].sum(min_count=1)
    by_department["n_projects"] = grouped["project_id"].nunique()
    by_department["score"] = grouped["score"].mean()
    by_department = by_department.reset_index()
    by_department["cut_rate"] = by_department["cut"] / by_department["requested"]
    by_department["execution_rate"] = by_department["executed"] / by_department["approved"]
    return by_project.reset_index(drop=True), by_department[DEPARTMENT_COLUMNS]
