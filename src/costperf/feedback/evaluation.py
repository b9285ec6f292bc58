"""Evaluation grades, and which evaluation of a project-year stands.

Pure: evaluations and an :class:`EvaluationPolicy` in, grades, the standing evaluation
per project and year, and the disagreements (抽查复核) out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from costperf.feedback.policies import EvaluationPolicy
from costperf.labels import code_label, message_rows

DISAGREEMENT_COLUMNS = [
    "project_id",
    "year",
    "flag",
    "standing_kind",
    "score",
    "grade",
    "other_kind",
    "other_score",
    "other_grade",
    "gap",
    "proposed_action",
    "rule",
    "reason_zh",
    "reason_en",
    "source",
]


def grade_scores(scores: pd.Series, policy: EvaluationPolicy) -> pd.Series:
    """The grade of each score: the first grade whose ``min_score`` it reaches."""
    out = pd.Series(None, index=scores.index, dtype=object)
    for grade, low in reversed(policy.grades):
        out = out.mask(scores >= low, grade)
    return out


def grade_rule(policy: EvaluationPolicy) -> str:
    """The grading rule in words: ``优>=90; 良>=80; 中>=60; 差>=0``."""
    return "; ".join(f"{g}>={s:g}" for g, s in policy.grades)


def graded(evaluations: pd.DataFrame, policy: EvaluationPolicy) -> pd.DataFrame:
    """``evaluations`` with ``grade`` and ``grade_rule`` added."""
    return evaluations.assign(
        grade=grade_scores(evaluations["score"], policy), grade_rule=grade_rule(policy)
    )


def standing(evaluations: pd.DataFrame, policy: EvaluationPolicy) -> pd.DataFrame:
    """The evaluation that stands per project and year (the first kind of
    ``policy.precedence``; the latest row of that kind if several are on record)."""
    rank = {k: i for i, k in enumerate(policy.precedence)}
    ordered = evaluations.assign(
        _rank=evaluations["kind"].map(rank), _pos=np.arange(len(evaluations))
    )
    ordered = ordered.sort_values(
        ["project_id", "year", "_rank", "_pos"], ascending=[True, True, True, False]
    )
    return ordered.drop_duplicates(["project_id", "year"]).drop(columns=["_rank", "_pos"])


def disagreements(evaluations: pd.DataFrame, policy: EvaluationPolicy) -> pd.DataFrame:
    """Evaluations whose grade differs from the standing one of their project and year.

    The standing (e.g. key) evaluation's result is kept; each disagreement is reported
    with both scores and grades (抽查复核). ``source`` is the position in
    ``evaluations`` of the standing evaluation.
    """
    frame = evaluations.reset_index(drop=True).assign(source=lambda f: np.arange(len(f)))
    frame.attrs = {}
    stand = standing(frame, policy)
    pairs = frame.merge(
        stand[["project_id", "year", "kind", "score", "grade", "source"]],
        on=["project_id", "year"],
        suffixes=("_other", ""),
    )
    pairs = pairs[
        (pairs["source_other"] != pairs["source"]) & (pairs["grade_other"] != pairs["grade"])
    ]
    if pairs.empty:
        return pd.DataFrame(columns=DISAGREEMENT_COLUMNS)
    out = pd.DataFrame(
        {
            "project_id": pairs["project_id"],
            "year": pairs["year"],
            "flag": "evaluation_disagreement",
            "standing_kind": pairs["kind"],
            "score": pairs["score"],
            "grade": pairs["grade"],
            "other_kind": pairs["kind_other"],
            "other_score": pairs["score_other"],
            "other_grade": pairs["grade_other"],
            "gap": pairs["score_other"] - pairs["score"],
            "proposed_action": "spot_check",
            "rule": "standing: " + " > ".join(policy.precedence),
            "source": pairs["source"],
        }
    )
    for column, lang in (("reason_zh", "zh"), ("reason_en", "en")):
        out[column] = message_rows(
            "feedback.reason.disagreement",
            lang,
            year=out["year"],
            kind=[kind_word(k, lang) for k in out["standing_kind"]],
            score=out["score"],
            grade=[code_label("grade", g, lang) for g in out["grade"]],
            other_kind=[kind_word(k, lang) for k in out["other_kind"]],
            other_score=out["other_score"],
            other_grade=[code_label("grade", g, lang) for g in out["other_grade"]],
            gap=out["gap"],
        )
    return out[DISAGREEMENT_COLUMNS].reset_index(drop=True)


def kind_word(kind: object, lang: str) -> str:
    """An evaluation's kind as the feedback reasons name it (labels.csv
    ``evaluation_kind``: key -> 财政重点评价 / key evaluation); a kind the table does not
    know as it is."""
    return code_label("evaluation_kind", kind, lang)


def grade_en(grade: object) -> str:
    """A grade in English words (labels.csv ``grade``: 良 -> good); a grade the table does
    not know (a policy's own) as it is."""
    return code_label("grade", grade, "en")
