"""Next year's recommendation per project (高效优先、低效压减、无效退出).

Pure: the recorded decisions, evaluations and year-end execution, a budget year and a
:class:`FeedbackPolicy` in; one recommendation per project out, with its numbers, the
rule that gave it and its reasons.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from costperf.feedback.evaluation import EvaluationPolicy, kind_word, standing
from costperf.feedback.policies import FeedbackPolicy, FeedbackRule
from costperf.labels import code_label, message
from costperf.standards.derive import round_half_up

RECOMMENDATION_COLUMNS = [
    "project_id",
    "department",
    "base",
    "recommendation",
    "cut_rate",
    "next_year_amount",
    "effect",
    "flags",
    "reasons",
    "year",
    "base_year",
    "grade",
    "score",
    "evaluation_kind",
    "target_attainment",
    "previous_grade",
    "execution_rate",
    "rule",
    "reasons_en",
    "evaluation_id",
    "base_record",
]


def year_end_execution(observations: pd.DataFrame, year_end_from: str) -> pd.DataFrame:
    """The year-end execution rate per project and year: executed / budget at the latest
    checkpoint of the year on or after ``year_end_from`` (MM-DD)."""
    obs = observations.copy()
    obs["checkpoint"] = pd.to_datetime(obs["checkpoint"])
    month, day = (int(x) for x in year_end_from.split("-"))
    late = (obs["checkpoint"].dt.month > month) | (
        (obs["checkpoint"].dt.month == month) & (obs["checkpoint"].dt.day >= day)
    )
    last = obs[late & obs["budget"].gt(0)].sort_values(["project_id", "year", "checkpoint"])
    last = last.drop_duplicates(["project_id", "year"], keep="last")
    return last.assign(execution_rate=last["executed"] / last["budget"])[
        ["project_id", "year", "checkpoint", "budget", "executed", "execution_rate"]
    ]


def recommend(
    year: int,
    decisions: pd.DataFrame,
    evaluations: pd.DataFrame,
    execution: pd.DataFrame,
    policy: FeedbackPolicy,
    evaluation_policy: EvaluationPolicy,
    *,
    projects: list[str] | None = None,
) -> pd.DataFrame:
    """One recommendation for budget year ``year`` per project.

    Parameters
    ----------
    decisions
        Approved amounts: ``project_id``, ``year``, ``approved`` [yuan], ``department``
        and, when read from the records, ``record_id`` (one row per project and year; of
        several, the last is the one in force).
    evaluations
        Graded evaluations: ``project_id``, ``year``, ``kind``, ``score``, ``grade``,
        ``target_attainment``, ``evaluation_id``.
    execution
        :func:`year_end_execution` rows.
    projects
        The projects to recommend for (default: every project with an approved amount
        or an evaluation of ``year - 1``).

    Returns
    -------
    DataFrame
        :data:`RECOMMENDATION_COLUMNS`: ``base`` is the approved amount of the year
        evaluated (of ``year - 1`` when unevaluated) [yuan]; ``next_year_amount`` =
        base x (1 - cut_rate) [yuan, 0.01]; ``effect`` = next_year_amount - base;
        ``base_record`` is the ``record_id`` of the decision the base was read from.
    """
    before = evaluations[evaluations["year"] < year]
    stand = standing(before, evaluation_policy) if len(before) else before
    if projects is None:
        last = year - 1
        projects = sorted(
            set(decisions.loc[decisions["year"] == last, "project_id"])
            | set(stand.loc[stand["year"] == last, "project_id"])
        )
    approved = decisions.set_index(["project_id", "year"])
    rates = execution.set_index(["project_id", "year"])["execution_rate"]
    grades = stand.set_index(["project_id", "year"])
    rows = [
        _one(p, year, stand[stand["project_id"] == p], grades, approved, rates, policy)
        for p in projects
    ]
    out = pd.DataFrame(rows, columns=RECOMMENDATION_COLUMNS)
    return out.sort_values("project_id", kind="stable").reset_index(drop=True)


def _lookup(frame: pd.DataFrame | pd.Series, key: tuple, column: str | None = None) -> object:
    if key not in frame.index:
        return None
    value = frame.loc[key] if column is None else frame.loc[key, column]
    if isinstance(value, pd.Series | pd.DataFrame):
        value = value.iloc[-1]
    return None if _missing(value) else value


def _latest_department(approved: pd.DataFrame, project: str) -> str | None:
    """The department of the project's latest decision (when the base year has none)."""
    if "department" not in approved or project not in approved.index.get_level_values(0):
        return None
    known = approved.xs(project, level=0)["department"].dropna()
    return None if known.empty else str(known.iloc[-1])


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _matches(
    rule: FeedbackRule, grade: str, previous: str | None, attainment: float | None
) -> bool:
    if rule.grade and grade not in rule.grade:
        return False
    if rule.previous_grade and previous not in rule.previous_grade:
        return False
    return not (
        rule.attainment_below is not None
        and (attainment is None or not attainment < rule.attainment_below)
    )


def _one(
    project: str,
    year: int,
    evaluated: pd.DataFrame,
    grades: pd.DataFrame,
    approved: pd.DataFrame,
    rates: pd.Series,
    policy: FeedbackPolicy,
) -> dict:
    flags: list[str] = []
    zh: list[str] = []
    en: list[str] = []

    def say(reason: Callable[[str], str]) -> None:  # one reason, in both languages
        zh.append(reason("zh"))
        en.append(reason("en"))

    latest = evaluated.sort_values("year").iloc[-1] if len(evaluated) else None
    if latest is None:
        rule = policy.unevaluated
        base_year = year - 1
        flags.append(policy.unevaluated_flag)
        say(lambda lang: message("feedback.reason.unevaluated", lang))
        grade = score = kind = attainment = previous = evaluation_id = None
    else:
        base_year = int(latest["year"])
        grade, score, kind = latest["grade"], float(latest["score"]), latest["kind"]
        attainment = (
            None
            if _missing(latest.get("target_attainment"))
            else float(latest["target_attainment"])
        )
        previous = _lookup(grades, (project, base_year - 1), "grade")
        evaluation_id = (
            None if _missing(latest.get("evaluation_id")) else int(latest["evaluation_id"])
        )
        rule = next((r for r in policy.rules if _matches(r, grade, previous, attainment)), None)
        if rule is None:
            rule = policy.unevaluated
            flags.append("no_rule")
        say(lambda lang: _evaluation_reason(lang, base_year, kind, score, grade, previous,
                                            attainment, rule))  # fmt: skip
    recommendation, cut_rate, names = rule.recommendation, rule.cut_rate, [rule.name]
    rate = _lookup(rates, (project, base_year))
    if rate is None:
        flags.append("no_year_end")
        say(lambda lang: message("feedback.reason.no_year_end", lang, year=base_year))
    elif rate < policy.min_execution_rate - 1e-12:
        unspent = 1.0 - float(rate)
        flags.append("low_execution")
        names.append("low_execution")
        larger = unspent > cut_rate
        values = {"year": base_year, "rate": rate, "limit": policy.min_execution_rate,
                  "unspent": unspent, "cut": cut_rate}  # fmt: skip
        if larger:
            say(lambda lang: message("feedback.reason.low_execution_larger", lang, **values))
        else:
            say(lambda lang: message("feedback.reason.low_execution", lang, **values))
        if larger:
            cut_rate = unspent
            recommendation = policy.becomes.get(recommendation, recommendation)
    base = _lookup(approved, (project, base_year), "approved")
    base_record = (
        _lookup(approved, (project, base_year), "record_id") if "record_id" in approved else None
    )
    department = _lookup(approved, (project, base_year), "department") or _latest_department(
        approved, project
    )
    if base is None:
        flags.append("no_base")
        say(lambda lang: message("feedback.reason.no_base", lang, year=base_year))
        amount = effect = np.nan
    else:
        base = float(base)
        amount = round_half_up(base * (1.0 - cut_rate), 2)
        effect = round_half_up(amount - base, 2) + 0.0  # -0.0 would print as -0.00
        values = {"base": base, "year": base_year, "cut": cut_rate, "amount": amount,
                  "effect": effect}  # fmt: skip
        say(lambda lang: message("feedback.reason.amount", lang, **values))
    return {
        "project_id": project,
        "department": department,
        "base": base,
        "recommendation": recommendation,
        "cut_rate": cut_rate,
        "next_year_amount": amount,
        "effect": effect,
        "flags": ";".join(flags),
        "reasons": "；".join(zh),
        "year": year,
        "base_year": base_year,
        "grade": grade,
        "score": score,
        "evaluation_kind": kind,
        "target_attainment": attainment,
        "previous_grade": previous,
        "execution_rate": rate,
        "rule": "+".join(names),
        "reasons_en": "; ".join(en),
        "evaluation_id": evaluation_id,
        "base_record": None if base is None else base_record,
    }


def _evaluation_reason(
    lang: str,
    year: int,
    kind: object,
    score: float,
    grade: object,
    previous: object,
    attainment: float | None,
    rule: FeedbackRule,
) -> str:
    """The evaluation a recommendation rests on and the rule it met, in ``lang``.

    The Chinese states a cut of 0 or 100% by the action's words alone (保持, 取消预算)."""
    more = ""
    if previous is not None:
        more += message("feedback.reason.previous", lang, grade=code_label("grade", previous, lang))
    if attainment is not None:
        more += message("feedback.reason.attainment", lang, share=attainment)
    shown = lang != "zh" or 0 < rule.cut_rate < 1
    return message(
        "feedback.reason.rule",
        lang,
        year=year,
        kind=kind_word(kind, lang),
        score=score,
        grade=code_label("grade", grade, lang),
        more=more,
        rule=code_label("feedback_rule", rule.name, lang),
        action=code_label("recommendation_action", rule.recommendation, lang),
        cut=message("feedback.reason.cut", lang, share=rule.cut_rate) if shown else "",
    )
