"""双监控 flags: slow execution and target deviation against the time-proportional plan.

Pure: checked observations and a :class:`MonitoringPolicy` in, one row per flag out,
each with its numbers, rule and reasons.
"""

from __future__ import annotations

import pandas as pd

from costperf.feedback.policies import MonitoringPolicy
from costperf.labels import message_rows
from costperf.standards.derive import round_half_up

FLAG_COLUMNS = [
    "project_id",
    "checkpoint",
    "flag",
    "planned_rate",
    "actual_rate",
    "gap",
    "proposed_action",
    "amount",
    "indicator",
    "threshold",
    "attainment_of_plan",
    "budget",
    "executed",
    "target",
    "actual",
    "year",
    "rule",
    "reason_zh",
    "reason_en",
    "source",
]


def planned_rate(checkpoints: pd.Series) -> pd.Series:
    """The time-proportional plan: days elapsed (the checkpoint day included) / days in
    its year (2026-06-30: 181/365; 2024-06-30: 182/366; 12-31: 1)."""
    dates = pd.to_datetime(checkpoints)
    days = 365 + dates.dt.is_leap_year.astype(int)
    return dates.dt.day_of_year / days


def monitoring_flags(observations: pd.DataFrame, policy: MonitoringPolicy) -> pd.DataFrame:
    """Flags of monitoring rows (one per project, checkpoint and indicator).

    Parameters
    ----------
    observations
        ``project_id``, ``checkpoint`` (date), ``budget``, ``executed`` [yuan],
        ``indicator``, ``target`` (annual), ``actual`` (cumulative).
    policy
        Thresholds: slow execution when planned rate - execution rate > ``max_gap``;
        target deviation when actual / (target x planned rate) < ``min_attainment``.

    Returns
    -------
    DataFrame
        :data:`FLAG_COLUMNS`. Slow execution is per project and checkpoint (``indicator``
        blank): ``actual_rate`` = executed / budget, ``gap`` = planned - actual,
        ``amount`` = budget x gap [yuan, 0.01] to recover or re-allocate. Target deviation
        is per indicator: ``actual_rate`` = actual / target, ``gap`` = planned - actual
        rate, ``attainment_of_plan`` = actual rate / planned rate; no amount. ``source``
        is the position of the observation in ``observations``.
    """
    obs = observations.reset_index(drop=True).copy()
    obs.attrs = {}  # a reader's warnings (frames) would be compared by concat
    obs["source"] = obs.index
    obs["planned_rate"] = planned_rate(obs["checkpoint"])
    obs["year"] = pd.to_datetime(obs["checkpoint"]).dt.year
    flags = [_slow(obs, policy), _deviation(obs, policy)]
    out = (
        pd.concat([f for f in flags if len(f)], ignore_index=True) if any(map(len, flags)) else None
    )
    if out is None:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    out["checkpoint"] = pd.to_datetime(out["checkpoint"]).dt.strftime("%Y-%m-%d")
    order = {"slow_execution": 0, "target_deviation": 1}
    out = out.assign(_o=out["flag"].map(order)).sort_values(
        ["project_id", "checkpoint", "_o", "source"], kind="stable"
    )
    return out[FLAG_COLUMNS].reset_index(drop=True)


def _slow(obs: pd.DataFrame, policy: MonitoringPolicy) -> pd.DataFrame:
    first = obs.drop_duplicates(["project_id", "checkpoint"]).copy()
    first = first[first["budget"].gt(0)]
    first["actual_rate"] = first["executed"] / first["budget"]
    first["gap"] = first["planned_rate"] - first["actual_rate"]
    hit = first[first["gap"] > policy.max_gap + 1e-12].copy()
    if hit.empty:
        return hit
    hit["amount"] = [
        round_half_up(b * g, 2) for b, g in zip(hit["budget"], hit["gap"], strict=True)
    ]
    hit["flag"] = "slow_execution"
    hit["threshold"] = policy.max_gap
    hit["proposed_action"] = policy.slow_action
    hit["indicator"] = None
    hit["attainment_of_plan"] = None
    hit["target"] = None
    hit["actual"] = None
    hit["rule"] = f"slow_execution: planned - executed rate > {policy.max_gap:g}"
    values = {
        "day": [_day(c) for c in hit["checkpoint"]],
        "rate": hit["actual_rate"],
        "executed": hit["executed"],
        "budget": hit["budget"],
        "planned": hit["planned_rate"],
        "points": hit["gap"] * 100,
        "limit": policy.max_gap * 100,
        "amount": hit["amount"],
    }
    for column, lang in (("reason_zh", "zh"), ("reason_en", "en")):
        hit[column] = message_rows("feedback.reason.slow_execution", lang, **values)
    return hit


def _deviation(obs: pd.DataFrame, policy: MonitoringPolicy) -> pd.DataFrame:
    rows = obs[obs["target"].gt(0) & obs["actual"].notna()].copy()
    rows["actual_rate"] = rows["actual"] / rows["target"]
    rows["gap"] = rows["planned_rate"] - rows["actual_rate"]
    rows["attainment_of_plan"] = rows["actual_rate"] / rows["planned_rate"]
    hit = rows[rows["attainment_of_plan"] < policy.min_attainment - 1e-12].copy()
    if hit.empty:
        return hit
    hit["flag"] = "target_deviation"
    hit["threshold"] = policy.min_attainment
    hit["proposed_action"] = policy.deviation_action
    hit["amount"] = None
    hit["rule"] = f"target_deviation: actual / (target x planned rate) < {policy.min_attainment:g}"
    values = {
        "day": [_day(c) for c in hit["checkpoint"]],
        "indicator": hit["indicator"],
        "actual": hit["actual"],
        "target": hit["target"],
        "rate": hit["actual_rate"],
        "planned": hit["planned_rate"],
        "share": hit["attainment_of_plan"],
        "limit": policy.min_attainment,
    }
    for column, lang in (("reason_zh", "zh"), ("reason_en", "en")):
        hit[column] = message_rows("feedback.reason.target_deviation", lang, **values)
    return hit


def _day(value: object) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d")
