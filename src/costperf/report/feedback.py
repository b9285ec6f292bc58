"""Charts of the feedback loop (PNG bytes; matplotlib, Agg, a CJK font)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from costperf.report.fonts import use_cjk_font

SERIES = {  # column: (zh, en)
    "requested": ("申报数", "requested"),
    "approved": ("审定数", "approved"),
    "executed": ("执行数", "executed"),
    "next_year_amount": ("下年度建议数", "recommended next year"),
}


def _png(fig) -> bytes:  # noqa: ANN001 - a matplotlib Figure
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def department_years(by_department: pd.DataFrame, department: str, *, lang: str = "zh") -> bytes:
    """Bars per year: requested, approved, executed and next year's recommendation
    (shown at the year it is for) of one department [万元]."""
    use_cjk_font()
    from matplotlib.figure import Figure

    rows = by_department[by_department["department"] == department].sort_values("year")
    shifted = rows[["year", "next_year_amount"]].assign(year=rows["year"] + 1)
    table = rows.drop(columns="next_year_amount").merge(shifted, on="year", how="outer")
    table = table.sort_values("year")
    years = table["year"].astype(int).tolist()
    fig = Figure(figsize=(8, 4.2))
    ax = fig.add_subplot()
    x = np.arange(len(years))
    width = 0.2
    for k, (column, names) in enumerate(SERIES.items()):
        values = table[column].astype(float).fillna(0.0) / 1e4
        ax.bar(x + (k - 1.5) * width, values, width, label=names[0] if lang == "zh" else names[1])
    ax.set_xticks(x, [str(y) for y in years])
    ax.set_ylabel("万元" if lang == "zh" else "10k yuan")
    title = (
        f"{department}：申报→审定→执行→下年度建议"
        if lang == "zh"
        else f"{department}: requested to next year"
    )
    ax.set_title(title)
    ax.legend(fontsize=8)
    return _png(fig)


def grade_counts(by_project: pd.DataFrame, *, lang: str = "zh") -> bytes:
    """Stacked bars: projects per evaluation grade and year."""
    use_cjk_font()
    from matplotlib.figure import Figure

    rated = by_project.dropna(subset=["grade"])
    counts = rated.groupby(["year", "grade"]).size().unstack(fill_value=0)
    order = [g for g in ("优", "良", "中", "差") if g in counts] + [
        g for g in counts if g not in ("优", "良", "中", "差")
    ]
    fig = Figure(figsize=(6, 3.6))
    ax = fig.add_subplot()
    bottom = np.zeros(len(counts))
    for grade in order:
        ax.bar([str(int(y)) for y in counts.index], counts[grade], bottom=bottom, label=grade)
        bottom += counts[grade].to_numpy()
    ax.set_ylabel("项目数" if lang == "zh" else "projects")
    ax.set_title("各年度绩效评价等级" if lang == "zh" else "Evaluation grades by year")
    ax.legend(fontsize=8)
    return _png(fig)
