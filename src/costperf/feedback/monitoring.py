"""双监控 flags: slow execution and target deviation against the time-proportional plan.

Pure: checked observations and a :class:`MonitoringPolicy` in, one row per flag out,
each with its numbers, rule and reasons.
"""

from __future__ import annotations

import pandas as pd

from costperf.feedback.policies import MonitoringPolicy
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
    hit["reason_zh"] = [
        f"截至{_day(c)}执行率{a:.1%}（执行数{e:,.2f}元/预算数{b:,.2f}元），序时进度{p:.1%}，"
        f"落后{g * 100:.1f}个百分点，超过{policy.max_gap * 100:g}个百分点；"
        f"建议收回或调剂预计无法支出的资金{m:,.2f}元（预算数×差距）"
        for c, a, e, b, p, g, m in _cols(hit, "actual_rate", "executed", "budget", "planned_rate",
                                          "gap", "amount")
    ]  # fmt: skip
    hit["reason_en"] = [
        f"by {_day(c)} executed {a:.1%} ({e:,.2f} of {b:,.2f} yuan) against a plan of {p:.1%}: "
        f"{g * 100:.1f} points behind (more than {policy.max_gap * 100:g}); recover or "
        f"re-allocate {m:,.2f} yuan (budget x gap)"
        for c, a, e, b, p, g, m in _cols(hit, "actual_rate", "executed", "budget", "planned_rate",
                                          "gap", "amount")
    ]  # fmt: skip
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
    hit["reason_zh"] = [
        f"截至{_day(c)}「{i}」累计完成{a:,.6g}，年度目标{t:,.6g}，完成率{r:.1%}，"
        f"为序时目标（{p:.1%}）的{q:.1%}，低于{policy.min_attainment:.0%}；建议调整绩效目标或暂缓执行"
        for c, i, a, t, r, p, q in _cols(hit, "indicator", "actual", "target", "actual_rate",
                                          "planned_rate", "attainment_of_plan")
    ]  # fmt: skip
    hit["reason_en"] = [
        f"by {_day(c)} '{i}' reached {a:,.6g} of an annual target of {t:,.6g} ({r:.1%}), "
        f"{q:.1%} of the time-proportional target ({p:.1%}), below "
        f"{policy.min_attainment:.0%}: adjust the targets or suspend"
        for c, i, a, t, r, p, q in _cols(hit, "indicator", "actual", "target", "actual_rate",
                                          "planned_rate", "attainment_of_plan")
    ]  # fmt: skip
    return hit


def _cols(frame: pd.DataFrame, *names: str):  # noqa: ANN202 - an iterator of tuples
    return zip(frame["checkpoint"], *(frame[n] for n in names), strict=True)


def _day(value: object) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d")
