"""The target gate: a project without performance targets is not funded.

未编制绩效目标的，一律不予安排: a project with no targets is rejected (approved 0,
reason 未编制绩效目标); a project whose targets hold no numeric 产出-数量 indicator is
reviewed, but flagged for manual review (无可量化产出指标).  The single-sheet request
format has no targets sheet: the gate does not apply to it (``target_check``
``not_applicable``).

A project with no request lines (its targets set, nothing asked for: lines forgotten
or filed under another code) is flagged for manual review (项目无申报明细), not passed
at 0 in silence.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from costperf.columns import isin_texts, message
from costperf.review.batch.context import BatchContext
from costperf.review.registry import ReviewRule, register
from costperf.review.unit_cost import VERDICT_COLUMNS, quantified_outputs

LANGS = ("zh", "en")  # the languages a verdict's texts are kept in


def target_gate(
    projects: pd.DataFrame, lines: pd.DataFrame, targets: pd.DataFrame, context: BatchContext
) -> pd.DataFrame:
    """The target check of every project.

    Returns
    -------
    DataFrame
        :data:`~costperf.review.unit_cost.VERDICT_COLUMNS` plus ``target_check``
        (``ok`` / ``no_targets`` / ``no_quantified_output`` / ``not_applicable``),
        indexed by ``project_id``, one row per project.
    """
    ids = pd.Index(projects["project_id"], name="project_id")
    if not context.has_targets:
        check = pd.Series("not_applicable", index=ids)
    else:
        # object views: isin between Arrow str columns is slow (isin_texts)
        own = pd.Index(ids.to_numpy(dtype=object))
        has_any = isin_texts(own, pd.unique(targets["project_id"].to_numpy(dtype=object)))
        given = quantified_outputs(targets)["project_id"].to_numpy(dtype=object)
        quantified = isin_texts(own, pd.unique(given))
        check = pd.Series(
            np.select([~has_any, ~quantified], ["no_targets", "no_quantified_output"], "ok"),
            index=ids,
        )
    none, vague = check.eq("no_targets"), check.eq("no_quantified_output")
    out = project_verdicts(
        ids,
        reject=none.to_numpy(),
        manual=vague.to_numpy(),
        manual_reason={lang: message("reason.gate.no_quantified_output", lang) for lang in LANGS},
        basis={lang: message("reason.gate.no_targets", lang) for lang in LANGS},
        rule="target_gate",
    )
    return out.assign(target_check=check)


def project_verdicts(
    ids: pd.Index,
    *,
    reject: np.ndarray | bool,
    manual: np.ndarray,
    manual_reason: Mapping[str, str],
    basis: Mapping[str, str] | None = None,
    rule: str = "",
) -> pd.DataFrame:
    """The :data:`~costperf.review.unit_cost.VERDICT_COLUMNS` of a project rule that sets
    no cap: the projects rejected (``reject``, with ``rule`` and ``basis``) and those
    flagged for manual review (``manual``, with ``manual_reason``), indexed by ``ids``;
    the texts by language (zh, en)."""
    rejected = np.broadcast_to(np.asarray(reject, dtype=bool), (len(ids),))
    out: dict[str, object] = {"cap": np.nan, "reject": rejected, "covered": False}
    out["manual_review"] = manual
    for lang in ("zh", "en"):
        out[f"manual_review_reason_{lang}"] = np.where(manual, manual_reason[lang], "")
    out["rule"] = np.where(rejected, rule, "")
    out["standard_id"] = np.nan
    out["standard_version"] = np.nan
    for lang in ("zh", "en"):
        out[f"basis_{lang}"] = np.where(rejected, (basis or {}).get(lang, ""), "")
    return pd.DataFrame({c: out[c] for c in VERDICT_COLUMNS}, index=ids)


register(
    ReviewRule(
        name="target_gate",
        level="project",
        review=target_gate,
        label_zh="绩效目标审核",
        label_en="performance target check",
        document="未编制绩效目标的，一律不予安排",
    )
)


def flag_no_lines(
    projects: pd.DataFrame, lines: pd.DataFrame, targets: pd.DataFrame, context: BatchContext
) -> pd.DataFrame:
    """Projects without a request line: flagged for manual review; no amount changes.

    Returns
    -------
    DataFrame
        :data:`~costperf.review.unit_cost.VERDICT_COLUMNS`, indexed by ``project_id``,
        one row per project.
    """
    ids = pd.Index(projects["project_id"], name="project_id")
    own = pd.Index(ids.to_numpy(dtype=object))
    none = ~isin_texts(own, pd.unique(lines["project_id"].to_numpy(dtype=object)))
    reason = {lang: message("reason.gate.no_lines", lang) for lang in LANGS}
    return project_verdicts(ids, reject=False, manual=none, manual_reason=reason)


register(
    ReviewRule(
        name="no_lines",
        level="project",
        review=flag_no_lines,
        label_zh="项目无申报明细",
        label_en="project without request lines",
    )
)
