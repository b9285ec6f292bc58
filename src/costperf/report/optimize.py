"""The optimiser's part of a report: a before/after chart by resource, the shadow prices.

One entry point, :func:`optimize_sections`, called by :mod:`costperf.outputs` (the
case report) and :mod:`costperf.optimize_outputs` (``costperf optimize``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from costperf.columns import code_label, message
from costperf.report.charts import chart, new_figure
from costperf.report.html import Section

#: resources shown in the chart at most (the largest current costs)
MAX_BARS = 30


@chart
def before_after_chart(plan: pd.DataFrame, *, lang: str = "zh"):
    """Bars of current and proposed cost per resource (the largest ``MAX_BARS``)."""
    top = plan.sort_values("current_cost", ascending=False, kind="stable").head(MAX_BARS)
    fig = new_figure(8.0, max(3.0, 0.35 * len(top) + 1.2))
    ax = fig.add_subplot()
    pos = np.arange(len(top))
    ax.barh(
        pos - 0.2,
        top["current_cost"] / 1e4,
        height=0.4,
        label=message("optimize_report.current", lang),
    )
    ax.barh(
        pos + 0.2,
        top["proposed_cost"] / 1e4,
        height=0.4,
        label=message("optimize_report.proposed", lang),
    )
    ax.set_yticks(pos, [str(v) for v in top["label"]])
    ax.invert_yaxis()
    ax.set_xlabel(message("optimize_report.chart_x", lang))
    ax.set_title(message("optimize_report.chart_title", lang))
    ax.legend(loc="lower right")
    return fig


#: in the chart worker: the plan it solved last (:func:`solve_plan`), for its chart
_SOLVED: list = []


def solve_plan(tables, **options: object):  # noqa: ANN001, ANN201
    """In the chart worker (:func:`costperf.report.background.submit_call`): the savings
    plan, :func:`costperf.optimize.optimize_plan` of ``tables`` and ``options``, kept
    for :func:`plan_chart`, the worker's next call."""
    from costperf.optimize import optimize_plan

    _SOLVED[:] = [optimize_plan(tables, **options)]
    return _SOLVED[0]


def plan_chart(lang: str) -> tuple[str | None, bytes]:
    """In the chart worker, right after :func:`solve_plan` (while the other process
    still derives the standard): the plan's before/after chart in ``lang`` as
    :func:`optimize_sections` will ask for it, with the fingerprint of its arguments
    (``before_after_chart.key``), by which the other process checks it is that chart."""
    from costperf.optimize import in_language
    from costperf.report.fonts import missing_glyphs_quiet

    plan = in_language(_SOLVED.pop().plan, lang)
    with missing_glyphs_quiet():  # as for every chart of the worker
        return before_after_chart.key(plan, lang=lang), before_after_chart.figure_png(
            plan, lang=lang
        )


def expect_plan_chart(proposal, lang: str, drawing) -> None:  # noqa: ANN001
    """In the program: the chart of ``proposal`` that :func:`plan_chart` is drawing
    (``drawing``, its call in the worker) is the one :func:`optimize_sections` will ask
    for (:func:`costperf.report.background.expect`)."""
    from costperf.optimize import in_language
    from costperf.report import background

    plan = in_language(proposal.plan, lang)
    key = before_after_chart.key(plan, lang=lang)
    if key is not None:
        background.expect(key, drawing, lambda: before_after_chart.figure_png(plan, lang=lang))


def shadow_price_table(constraints: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """The constraints with their shadow prices, binding ones first."""
    price = next(c for c in ("shadow_price", "shadow_price_lp_relaxation") if c in constraints)
    cols = ["constraint", "label", "constraint_kind", "sense", "rhs", "unit", "proposed_lhs"]
    out = constraints[[*cols, "binding", price]].copy()
    out["constraint_kind"] = [
        code_label("constraint_kind", k, lang) for k in out["constraint_kind"]
    ]
    order = np.argsort(-np.abs(out[price].fillna(0).to_numpy()), kind="stable")
    return out.iloc[order].reset_index(drop=True)


def totals_text(totals: dict, lang: str = "zh") -> str:
    """One paragraph: status, current and proposed cost, savings."""
    status = code_label("optimize_status", totals["status"], lang)
    text = message(
        "optimize_report.costs",
        lang,
        current_cost=totals["current_cost"],
        proposed_cost=totals["proposed_cost"],
        savings=totals["savings"],
        savings_rate=totals["savings_rate"],
    )
    if totals.get("integer"):
        text = message(
            "optimize_report.with_lp_relaxation",
            lang,
            text=text,
            lp_relaxation_cost=totals["lp_relaxation_cost"],
        )
    if totals["status"] == "infeasible":
        return message("optimize_report.infeasible", lang, status=status, text=text)
    return message(
        "optimize_report.status", lang, status=status, solver=totals["solver"], text=text
    )


def optimize_sections(proposal, lang: str = "zh") -> list[Section]:
    """Report sections of a :class:`~costperf.optimize.Proposal` (``lang`` 'zh' or 'en')."""
    from costperf.optimize import in_language

    plan = in_language(proposal.plan, lang)
    constraints = in_language(proposal.constraints, lang)
    sections = [
        Section(
            message("optimize_report.proposal", lang),
            totals_text(proposal.totals, lang),
            tables=[(message("optimize_report.plan", lang), plan)],
            charts=[(message("optimize_report.chart", lang), before_after_chart(plan, lang=lang))],
        ),
        Section(
            message("optimize_report.constraints", lang),
            message("optimize_report.shadow_price_note", lang),
            tables=[
                (
                    message("optimize_report.shadow_prices", lang),
                    shadow_price_table(constraints, lang),
                )
            ],
        ),
    ]
    if not proposal.infeasibility.empty:
        table = in_language(proposal.infeasibility, lang)
        sections.append(
            Section(
                message("optimize_report.infeasibility", lang),
                tables=[(message("optimize_report.rows_to_relax", lang), table)],
            )
        )
    if len(proposal.projects):
        name = message("optimize_report.by_project", lang)
        sections.append(Section(name, tables=[(name, proposal.projects)]))
    if len(proposal.groups):
        name = message("optimize_report.by_group", lang)
        sections.append(Section(name, tables=[(name, proposal.groups)]))
    return sections
