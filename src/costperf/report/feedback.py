"""Charts of the feedback loop (PNG bytes; matplotlib, Agg, a CJK font), drawn and
written as :mod:`costperf.report.charts` draws its own (placed by ``charts.fit``, drawn
once)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from costperf.columns import code_label, message
from costperf.report.charts import new_figure, to_png


def department_years(by_department: pd.DataFrame, department: str, *, lang: str = "zh") -> bytes:
    """Bars per year: requested, approved, executed and next year's recommendation
    (shown at the year it is for) of one department [万元]."""
    rows = by_department[by_department["department"] == department].sort_values("year")
    shifted = rows[["year", "next_year_amount"]].assign(year=rows["year"] + 1)
    table = rows.drop(columns="next_year_amount").merge(shifted, on="year", how="outer")
    table = table.sort_values("year")
    years = table["year"].astype(int).tolist()
    fig = new_figure(8, 4.2)
    ax = fig.add_subplot()
    x = np.arange(len(years))
    width = 0.2
    series = {
        "requested": message("feedback_chart.requested", lang),
        "approved": message("feedback_chart.approved", lang),
        "executed": message("feedback_chart.executed", lang),
        "next_year_amount": message("feedback_chart.next_year", lang),
    }
    for k, (column, name) in enumerate(series.items()):
        values = table[column].astype(float).fillna(0.0) / 1e4
        ax.bar(x + (k - 1.5) * width, values, width, label=name)
    ax.set_xticks(x, [str(y) for y in years])
    ax.set_ylabel(message("feedback_chart.wan", lang))
    ax.set_title(message("feedback_chart.department", lang, department=department))
    ax.legend(fontsize=8)
    return to_png(fig)


def grade_counts(by_project: pd.DataFrame, *, lang: str = "zh") -> bytes:
    """Stacked bars: projects per evaluation grade and year."""
    rated = by_project.dropna(subset=["grade"])
    counts = rated.groupby(["year", "grade"]).size().unstack(fill_value=0)
    order = [g for g in ("优", "良", "中", "差") if g in counts] + [
        g for g in counts if g not in ("优", "良", "中", "差")
    ]
    fig = new_figure(6, 3.6)
    ax = fig.add_subplot()
    bottom = np.zeros(len(counts))
    for grade in order:
        label = code_label("grade", grade, lang)  # 优 under zh, excellent under en
        ax.bar([str(int(y)) for y in counts.index], counts[grade], bottom=bottom, label=label)
        bottom += counts[grade].to_numpy()
    ax.set_ylabel(message("feedback_chart.projects", lang))
    ax.set_title(message("feedback_chart.grades", lang))
    ax.legend(fontsize=8)
    return to_png(fig)
