"""Charts for reports, returned as PNG bytes (matplotlib, Agg, a CJK font).

Each function takes result frames and a language ('zh' or 'en') and draws on a fresh
:class:`matplotlib.figure.Figure` (no global pyplot state).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd

from costperf.columns import natural_key
from costperf.report.fonts import use_cjk_font

TEXT = {
    "unit_cost": ("单位成本（元/{u}）", "Unit cost (yuan/{u})"),
    "box_title": ("各合同单位成本分布（按{d}）", "Unit cost per contract by {d}"),
    "standard": ("标准值", "standard"),
    "district_title": (
        "各区域单位成本（总成本/总产出）",
        "Unit cost by district (total cost / total output)",
    ),
    "gap_title": ("{unit}与参照值的差异分解", "Gap of {unit} to the reference, by driver"),
    "reference": ("参照值", "reference"),
    "actual": ("实际值", "actual"),
    "frontier_title": ("成本效率（DEA）", "Cost efficiency (DEA)"),
    "efficiency": ("效率值", "efficiency"),
    "efficient": ("前沿上的合同（效率值=1）", "on the frontier (score 1)"),
    "frontier_scatter": (
        "效率前沿：各合同投入与产出（颜色为 DEA 效率值）",
        "Frontier: inputs against output per unit (colour: DEA score)",
    ),
    "expected_title": (
        "实际单位成本与成本回归预期值（对角线：实际=预期）",
        "Actual vs regression-expected unit cost (diagonal: actual = expected)",
    ),
    "expected": ("回归预期单位成本（元/{u}）", "Expected unit cost (yuan/{u})"),
    "actual_uc": ("实际单位成本（元/{u}）", "Actual unit cost (yuan/{u})"),
}


def _t(key: str, lang: str, **kw: object) -> str:
    zh, en = TEXT[key]
    return (zh if lang == "zh" else en).format(**kw)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def _figure(width: float = 8.0, height: float = 4.5):
    use_cjk_font()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def unit_cost_box(
    units: pd.DataFrame,
    *,
    by: str,
    hue: str = "district",
    standard: pd.DataFrame | None = None,
    output_unit: str = "m2",
    dim_label: str = "",
    lang: str = "zh",
) -> bytes:
    """Box plot of unit costs per ``by`` group, with each contract as a dot coloured by ``hue``."""
    fig = _figure()
    ax = fig.add_subplot()
    groups = sorted(units[by].dropna().unique(), key=natural_key)
    data = [units.loc[units[by] == g, "unit_cost"].dropna().to_numpy() for g in groups]
    ax.boxplot(data, showfliers=False, widths=0.5)
    ax.set_xticks(range(1, len(groups) + 1), [str(g) for g in groups])
    rng = np.random.default_rng(0)
    for k, name in enumerate(sorted(units[hue].dropna().unique())):
        sub = units[units[hue] == name]
        x = sub[by].map({g: i + 1 for i, g in enumerate(groups)}).to_numpy(float)
        ax.scatter(
            x + rng.uniform(-0.18, 0.18, len(x)),
            sub["unit_cost"],
            s=18,
            alpha=0.8,
            label=str(name),
            color=f"C{k}",
        )
    if standard is not None and not standard.empty:
        for i, g in enumerate(groups, start=1):
            value = standard.loc[standard[by] == g, "value"]
            if len(value):
                ax.hlines(value.iloc[0], i - 0.3, i + 0.3, colors="black", linestyles="--")
        ax.plot([], [], "k--", label=_t("standard", lang))
    ax.set_ylabel(_t("unit_cost", lang, u=output_unit))
    ax.set_title(_t("box_title", lang, d=dim_label or by))
    ax.legend(fontsize=8, ncol=3)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def district_bars(
    groups: pd.DataFrame, *, by: str = "district", output_unit: str = "m2", lang: str = "zh"
) -> bytes:
    """Bar chart of each district's unit cost (total cost / total output)."""
    fig = _figure(7.0, 4.0)
    ax = fig.add_subplot()
    ax.bar(groups[by].astype(str), groups["unit_cost"], color="C0")
    for x, y in zip(range(len(groups)), groups["unit_cost"], strict=True):
        ax.annotate(f"{y:.2f}", (x, y), ha="center", va="bottom", fontsize=9)
    ax.set_ylabel(_t("unit_cost", lang, u=output_unit))
    ax.set_title(_t("district_title", lang))
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def waterfall(
    reference_value: float,
    effects: pd.Series,
    *,
    unit_name: str,
    labels: dict[str, str] | None = None,
    lang: str = "zh",
    value_label: str = "",
) -> bytes:
    """Waterfall from the reference value through each driver's additive effect."""
    fig = _figure(8.0, 4.5)
    ax = fig.add_subplot()
    names = (
        [_t("reference", lang)]
        + [(labels or {}).get(k, k) for k in effects.index]
        + [_t("actual", lang)]
    )
    steps = effects.to_numpy(float)
    starts = reference_value + np.concatenate([[0.0], np.cumsum(steps)[:-1]])
    final = reference_value + steps.sum()
    ax.bar(0, reference_value, color="grey")
    colors = ["C3" if s > 0 else "C2" for s in steps]
    ax.bar(range(1, len(steps) + 1), steps, bottom=starts, color=colors)
    ax.bar(len(steps) + 1, final, color="C0")
    for i, (s, b) in enumerate(zip(steps, starts, strict=True), start=1):
        ax.annotate(f"{s:+.2f}", (i, b + max(s, 0)), ha="center", va="bottom", fontsize=8)
    ax.annotate(f"{reference_value:.2f}", (0, reference_value), ha="center", va="bottom")
    ax.annotate(f"{final:.2f}", (len(steps) + 1, final), ha="center", va="bottom")
    # zoom on the steps: the axis starts near the lowest level reached, not at zero
    levels = np.concatenate([[reference_value, final], starts, starts + steps])
    span = max(float(levels.max() - levels.min()), 1e-9 + abs(reference_value) * 0.01)
    ax.set_ylim(max(0.0, float(levels.min()) - 1.5 * span), float(levels.max()) + 0.6 * span)
    ax.set_xticks(range(len(names)), names, rotation=20, ha="right")
    ax.set_ylabel(value_label)
    ax.set_title(_t("gap_title", lang, unit=unit_name), pad=12)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def efficiency_bars(
    scores: pd.DataFrame, *, id_column: str, score: str, group: str | None = None, lang: str = "zh"
) -> bytes:
    """Sorted efficiency scores (e.g. DEA), coloured by group."""
    fig = _figure(9.0, 4.0)
    ax = fig.add_subplot()
    ordered = scores.sort_values(score)
    colors = "C0"
    if group is not None:
        from matplotlib.patches import Patch

        names = sorted(ordered[group].unique(), key=natural_key)
        colors = ordered[group].map({n: f"C{i}" for i, n in enumerate(names)}).tolist()
        handles = [Patch(color=f"C{i}", label=str(n)) for i, n in enumerate(names)]
        ax.legend(handles=handles, fontsize=8, ncol=3)
    ax.bar(range(len(ordered)), ordered[score], color=colors)
    ax.set_xticks([])
    ax.set_ylabel(_t("efficiency", lang))
    ax.set_title(_t("frontier_title", lang))
    ax.set_ylim(0, 1.05)
    return _png(fig)


def frontier_scatter(
    scores: pd.DataFrame,
    *,
    input_total: pd.Series,
    output: pd.Series,
    score: str = "efficiency",
    input_label: str = "",
    output_label: str = "",
    lang: str = "zh",
) -> bytes:
    """Each unit's total input against its output, shaded by its DEA score; the units on
    the frontier (score 1) are starred and joined in order of output (with one input and
    one output, that line is the VRS frontier itself)."""
    fig = _figure(7.5, 5.0)
    ax = fig.add_subplot()
    dots = ax.scatter(
        output, input_total, c=scores[score], cmap="viridis_r", vmin=0.5, vmax=1.0, s=22
    )
    fig.colorbar(dots, ax=ax, label=_t("efficiency", lang))
    on = (scores[score] >= 1 - 1e-9).to_numpy()
    order = np.argsort(output.to_numpy()[on])
    ax.plot(
        output.to_numpy()[on][order],
        input_total.to_numpy()[on][order],
        marker="*",
        markersize=11,
        color="C3",
        linewidth=1,
        label=_t("efficient", lang),
    )
    ax.set_xlabel(output_label)
    ax.set_ylabel(input_label)
    ax.set_title(_t("frontier_scatter", lang), fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    return _png(fig)


def expected_scatter(
    units: pd.DataFrame,
    *,
    actual: str,
    expected: str,
    group: str | None = None,
    output_unit: str = "m2",
    lang: str = "zh",
) -> bytes:
    """Actual against regression-expected unit cost, one dot per unit, with the diagonal."""
    fig = _figure(6.5, 5.5)
    ax = fig.add_subplot()
    groups = sorted(units[group].unique(), key=natural_key) if group else [None]
    for i, name in enumerate(groups):
        part = units if name is None else units[units[group] == name]
        ax.scatter(part[expected], part[actual], s=18, color=f"C{i}", label=name)
    both = pd.concat([units[expected], units[actual]])
    lo, hi = float(both.min()), float(both.max())
    ax.plot([lo, hi], [lo, hi], color="0.4", linewidth=1, linestyle="--")
    ax.set_xlabel(_t("expected", lang, u=output_unit))
    ax.set_ylabel(_t("actual_uc", lang, u=output_unit))
    ax.set_title(_t("expected_title", lang), fontsize=10)
    if group:
        ax.legend(fontsize=8)
    return _png(fig)


def chart_titles(lang: str) -> Sequence[str]:
    """All fixed chart texts in ``lang`` (for glyph tests)."""
    return [v[0] if lang == "zh" else v[1] for v in TEXT.values()]


def cut_bars(
    groups: pd.DataFrame, *, label: str, title: str, lang: str = "zh", top: int = 15
) -> bytes:
    """Horizontal bars of the cut and the approved amount per group (largest cut first).

    ``groups`` has ``group``, ``approved`` and ``cut`` [yuan]; ``label`` names the axis.
    """
    shown = groups.sort_values("cut", ascending=False).head(top).iloc[::-1]
    fig = _figure(8.0, max(2.5, 0.38 * len(shown) + 1.2))
    ax = fig.add_subplot()
    names = shown["group"].astype(str)
    wan = 1e4 if lang == "zh" else 1.0
    ax.barh(
        names, shown["approved"] / wan, color="C0", label="审定数" if lang == "zh" else "approved"
    )
    ax.barh(
        names,
        shown["cut"] / wan,
        left=shown["approved"] / wan,
        color="C3",
        label="核减数" if lang == "zh" else "cut",
    )
    for y, (a, c, r) in enumerate(
        zip(shown["approved"], shown["cut"], shown["cut_rate"], strict=True)
    ):
        rate = "" if pd.isna(r) else f" {r:.1%}"
        ax.annotate(rate, ((a + c) / wan, y), va="center", fontsize=8)
    ax.set_xlabel("万元" if lang == "zh" else "yuan")
    ax.set_ylabel(label)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def rate_histogram(rates: pd.Series, *, title: str, lang: str = "zh") -> bytes:
    """Distribution of project cut rates (0 to 100 %), 20 bins."""
    fig = _figure(7.0, 3.8)
    ax = fig.add_subplot()
    ax.hist(rates.dropna() * 100, bins=np.linspace(0, 100, 21), color="C0", edgecolor="white")
    ax.set_xlabel("核减率（%）" if lang == "zh" else "cut rate (%)")
    ax.set_ylabel("项目数" if lang == "zh" else "projects")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)
