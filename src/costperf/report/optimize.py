"""The optimiser's part of a report: a before/after chart by resource, the shadow prices.

One entry point, :func:`optimize_sections`, called by :mod:`costperf.outputs` (the
case report) and :mod:`costperf.optimize_outputs` (``costperf optimize``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from costperf.columns import code_label
from costperf.report.charts import chart
from costperf.report.fonts import use_cjk_font
from costperf.report.html import Section

#: resources shown in the chart at most (the largest current costs)
MAX_BARS = 30


def _figure(width: float, height: float):
    use_cjk_font()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


@chart
def before_after_chart(plan: pd.DataFrame, *, lang: str = "zh"):
    """Bars of current and proposed cost per resource (the largest ``MAX_BARS``)."""
    zh = lang == "zh"
    top = plan.sort_values("current_cost", ascending=False, kind="stable").head(MAX_BARS)
    fig = _figure(8.0, max(3.0, 0.35 * len(top) + 1.2))
    ax = fig.add_subplot()
    pos = np.arange(len(top))
    ax.barh(pos - 0.2, top["current_cost"] / 1e4, height=0.4, label="现状" if zh else "current")
    ax.barh(
        pos + 0.2, top["proposed_cost"] / 1e4, height=0.4, label="优化方案" if zh else "proposed"
    )
    ax.set_yticks(pos, [str(v) for v in top["label"]])
    ax.invert_yaxis()
    ax.set_xlabel("成本（万元/年）" if zh else "Cost (10k yuan per year)")
    ax.set_title("各资源现状与优化方案成本" if zh else "Cost by resource: current and proposed")
    ax.legend(loc="lower right")
    return fig


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
    if lang == "zh":
        text = (
            f"求解状态：{status}（{totals['solver']}）。现状成本 {totals['current_cost']:,.2f} 元，"
            f"优化方案成本 {totals['proposed_cost']:,.2f} 元，节约 {totals['savings']:,.2f} 元"
            f"（节约率 {totals['savings_rate']:.1%}），各项绩效基线均不降低。"
        )
        if totals.get("integer"):
            text += (
                f"线性松弛成本 {totals['lp_relaxation_cost']:,.2f} 元；影子价格取线性松弛的对偶值。"
            )
        if totals["status"] == "infeasible":
            text = (
                f"求解状态：{status}。约束无法同时满足，需放宽的约束见下表。"
                + text[text.index("现状") :]
            )
        return text
    text = (
        f"Status: {status} ({totals['solver']}). Current cost {totals['current_cost']:,.2f} yuan, "
        f"proposed {totals['proposed_cost']:,.2f}, savings {totals['savings']:,.2f} "
        f"({totals['savings_rate']:.1%}), every baseline held."
    )
    if totals.get("integer"):
        text += (
            f" LP relaxation cost {totals['lp_relaxation_cost']:,.2f} yuan; shadow prices are "
            "the LP relaxation's duals."
        )
    return text


def optimize_sections(proposal, lang: str = "zh") -> list[Section]:
    """Report sections of a :class:`~costperf.optimize.Proposal` (``lang`` 'zh' or 'en')."""
    from costperf.optimize import in_language

    zh = lang == "zh"
    plan = in_language(proposal.plan, lang)
    constraints = in_language(proposal.constraints, lang)
    chart = ("现状与优化方案成本（按资源）" if zh else "Before and after, by resource",)
    sections = [
        Section(
            "节支优化方案" if zh else "Savings proposal",
            totals_text(proposal.totals, lang),
            tables=[("资源方案" if zh else "Plan", plan)],
            charts=[(chart[0], before_after_chart(plan, lang=lang))],
        ),
        Section(
            "约束与影子价格" if zh else "Constraints and shadow prices",
            "影子价格：右端值每提高一个单位，最低成本增加的元数。"
            if zh
            else "Shadow price: yuan the least cost rises per unit of rhs.",
            tables=[("影子价格" if zh else "Shadow prices", shadow_price_table(constraints, lang))],
        ),
    ]
    if not proposal.infeasibility.empty:
        table = in_language(proposal.infeasibility, lang)
        sections.append(
            Section(
                "不可行说明" if zh else "Infeasibility",
                tables=[("需放宽的约束" if zh else "Rows that must give", table)],
            )
        )
    for frame, zh_name, en_name in (
        (proposal.projects, "各项目节约", "Savings by project"),
        (proposal.groups, "各分组节约", "Savings by group"),
    ):
        if len(frame):
            name = zh_name if zh else en_name
            sections.append(Section(name, tables=[(name, frame)]))
    return sections
