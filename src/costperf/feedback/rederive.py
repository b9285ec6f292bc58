"""Standards from experience (动态调整): completed projects' actual unit costs.

Pure: recorded decisions (the projects, their class and dimensions) and monitoring
observations (year-end executed amount and output) in; the peer table the derivation
rules take, and the projects left out with the reason, out.  Each unit carries the ids
of the records it came from.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from costperf.columns import expected_label
from costperf.feedback.recommend import year_end_execution

UNIT_COLUMNS = [
    "project_id",
    "district",
    "department",
    "total_cost",
    "output_quantity",
    "unit_cost",
    "record_id",
    "observation_id",
]


def actual_units(
    decisions: pd.DataFrame,
    observations: pd.DataFrame,
    *,
    class_of_matter: str,
    year: int,
    output: str,
    dims: Sequence[str],
    year_end_from: str = "12-01",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Actual unit costs of the class's completed projects of ``year``.

    Parameters
    ----------
    decisions
        :func:`costperf.records.views.decisions` rows (``class_of_matter``, ``year``,
        the dimension columns, ``record_id``).
    observations
        Current monitoring observations (``observation_id``, ``indicator``, ``actual``).
    output
        The output indicator: its cumulative actual at the year-end checkpoint is the
        output quantity.
    year_end_from
        A project is completed when it has a checkpoint on or after this day (MM-DD).

    Returns
    -------
    (units, excluded)
        ``units``: :data:`UNIT_COLUMNS` plus ``dims``; ``unit_cost`` = executed / actual
        output [yuan per output unit]. ``excluded``: ``project_id``,
        ``exclusion_reason_zh``, ``exclusion_reason`` (English).
    """
    dims = list(dims)
    mine = decisions[
        decisions["class_of_matter"].eq(class_of_matter) & decisions["year"].eq(year)
    ].copy()
    obs = observations[observations["year"] == year]
    last = year_end_execution(obs, year_end_from)
    outputs = obs[obs["indicator"] == output].merge(
        last[["project_id", "checkpoint"]].assign(
            checkpoint=lambda f: f["checkpoint"].dt.strftime("%Y-%m-%d")
        ),
        on=["project_id", "checkpoint"],
    )
    merged = mine.merge(
        last[["project_id", "executed", "checkpoint"]], on="project_id", how="left"
    ).merge(outputs[["project_id", "actual", "observation_id"]], on="project_id", how="left")
    reason = pd.Series("", index=merged.index)
    missing_dims = [d for d in dims if d not in merged]
    for d in dims:
        if d in merged:
            reason = reason.mask(reason.eq("") & merged[d].isna(), f"no {d} recorded")
    reason = reason.mask(
        reason.eq("") & merged["executed"].isna(), "not completed: no year-end checkpoint"
    )
    reason = reason.mask(
        reason.eq("") & merged["actual"].isna(), f"no year-end actual of '{output}'"
    )
    reason = reason.mask(
        reason.eq("") & ~merged["actual"].gt(0), f"year-end actual of '{output}' is 0"
    )
    if missing_dims:
        reason[:] = f"no {', '.join(missing_dims)} recorded"
    keep = reason.eq("")
    units = merged[keep].copy()
    units["total_cost"] = units["executed"]
    units["output_quantity"] = units["actual"]
    units["unit_cost"] = units["executed"] / units["actual"]
    units["observation_id"] = units["observation_id"].astype("Int64")
    # the peer rows of the derived table name the records each unit came from
    units["source_file"] = "records " + units["record_id"].astype(str)
    units["source_row"] = units["observation_id"]
    for column in (*missing_dims, "district", "department"):  # every unit excluded: empty
        if column not in units:
            units[column] = None
    units = units[
        [*UNIT_COLUMNS[:1], *dims, *(c for c in UNIT_COLUMNS[1:] if c not in dims)]
        + ["source_file", "source_row"]
    ]
    excluded = pd.DataFrame(
        {
            "project_id": merged.loc[~keep, "project_id"],
            "exclusion_reason_zh": reason[~keep].map(lambda text: expected_label(text, "zh")),
            "exclusion_reason": reason[~keep],
        }
    )
    return units.reset_index(drop=True), excluded.reset_index(drop=True)
