"""The case report (``report.html``) in the order a director reads it.

1. 结论: the standard per dimension with its reasonable range and the savings it
   implies, the review totals (申报, 审定, 核减, 核减率) and the projects cut most, each
   with one sentence of why;
2. 原因: what drives the district differences (the gap decomposition) and how the
   districts compare once their drivers are allowed for (regression, DEA), with charts;
3. 方法 and the rule comparison, collapsed;
4. the full tables, collapsed, last.

Everything here builds text and frames from the results; :mod:`costperf.report.html`
renders them.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping

import pandas as pd

from costperf.columns import code_label
from costperf.report.formats import pretty_units
from costperf.report.html import Section, table_html

TOP_CUTS = 5


def _t(key: str, lang: str) -> str:
    """A heading of the report (labels.csv, kind ``report_heading``)."""
    return code_label("report_heading", key, lang)


def wan(yuan: float, lang: str) -> str:
    """Money for a headline: 万元 with two decimals (yuan in English)."""
    return f"{yuan / 1e4:,.2f} 万元" if lang == "zh" else f"{yuan:,.0f} yuan"


def _kpi(name: str, value: str, sub: str = "") -> str:
    small = f'<div class="s">{html.escape(sub)}</div>' if sub else ""
    return (
        f'<div class="kpi"><div class="k">{html.escape(name)}</div>'
        f'<div class="v">{html.escape(value)}</div>{small}</div>'
    )


def review_kpis(totals: Mapping[str, object], lang: str) -> str:
    """The review totals as headline boxes: 申报, 审定, 核减, 核减率, decisions."""
    zh = lang == "zh"
    boxes = [
        _kpi(
            "申报数" if zh else "Requested",
            wan(totals["requested"], lang),
            f"{totals['requested']:,.2f} 元" if zh else "",
        ),
        _kpi(
            "审定数" if zh else "Approved",
            wan(totals["approved"], lang),
            f"{totals['approved']:,.2f} 元" if zh else "",
        ),
        _kpi(
            "核减数" if zh else "Cut",
            wan(totals["cut"], lang),
            f"{totals['cut']:,.2f} 元" if zh else "",
        ),
        _kpi("核减率" if zh else "Cut rate", f"{totals['cut_rate']:.2%}"),
        _kpi(
            "申报项目" if zh else "Requests",
            f"{totals['requests']} 项" if zh else str(totals["requests"]),
            ("，" if zh else ", ").join(
                f"{code_label('decision', d, lang)} {totals.get('n_' + d, 0)}"
                for d in ("approve", "reduce", "reject")
            ),
        ),
    ]
    return f'<div class="kpis">{"".join(boxes)}</div>'


def standard_rows(results: object, dims: list[str]) -> pd.DataFrame:
    """Per dimension cell: value, range, peers, and the savings of the chosen rule."""
    std = results.standard
    rows = std[[*dims, "value", "lower", "upper", "n_peers", "unit"]].copy()
    derivation = results.derivation
    if derivation is not None and "savings_yuan" in derivation.comparison:
        comp = derivation.comparison
        mine = comp[(comp["rule"] == derivation.rule) & (comp["scope"] == "cell")]
        rows = rows.merge(mine[[*dims, "savings_yuan", "savings_pct"]], on=dims, how="left")
    return rows


def standard_html(results: object, dims: list[str], lang: str, dim_label: str) -> str:
    """The standard per dimension with its reasonable range and implied savings."""
    zh = lang == "zh"
    rows = standard_rows(results, dims)
    unit = pretty_units(str(rows["unit"].iloc[0])) if len(rows) else ""
    if not zh:
        unit = unit.replace("元", "yuan")
    has_savings = "savings_yuan" in rows
    head = [
        dim_label,
        f"标准值（{unit}）" if zh else f"Standard ({unit})",
        f"合理区间（{unit}）" if zh else f"Reasonable range ({unit})",
        "同类合同数" if zh else "Peer contracts",
    ]
    if has_savings:
        head += ["按标准可节约（万元）" if zh else "Savings (yuan)", "节约率" if zh else "Savings"]
    body = []
    for r in rows.to_dict("records"):
        cells = [
            f"<td>{html.escape(' / '.join(str(r[d]) for d in dims))}</td>",
            f'<td class="num"><b>{r["value"]:,.2f}</b></td>',
            f'<td class="num">{r["lower"]:,.2f} – {r["upper"]:,.2f}</td>',
            f'<td class="num">{int(r["n_peers"])}</td>',
        ]
        if has_savings:
            money = r["savings_yuan"] / 1e4 if zh else r["savings_yuan"]
            cells += [
                f'<td class="num">{money:,.2f}</td>'
                if zh
                else f'<td class="num">{money:,.0f}</td>',
                f'<td class="num">{r["savings_pct"] / 100:.2%}</td>',
            ]
        body.append(f"<tr>{''.join(cells)}</tr>")
    ths = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    caption = _t("standard", lang)
    return (
        f'<div class="scroll"><table><caption>{html.escape(caption)}</caption>'
        f"<thead><tr>{ths}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def band_words(stat: str, lang: str) -> str:
    """``p25`` -> 第25百分位数 / 25th percentile; ``median``, ``mean`` in words."""
    zh = lang == "zh"
    if stat.startswith("p") and stat[1:].isdigit():
        return f"第{stat[1:]}百分位数" if zh else f"{stat[1:]}th percentile"
    return {"median": ("中位数", "median"), "mean": ("均值", "mean")}.get(stat, (stat, stat))[
        0 if zh else 1
    ]


def savings_sentence(results: object, lang: str, band: tuple[str, str] = ("p25", "p75")) -> str:
    derivation = results.derivation
    if derivation is None or "savings_yuan" not in derivation.comparison:
        return ""
    comp = derivation.comparison
    total = comp[(comp["rule"] == derivation.rule) & (comp["scope"] == "total")]
    if total.empty:
        return ""
    t = total.iloc[0]
    rule = code_label("derive_rule", derivation.rule, lang)
    low, high = (band_words(b, lang) for b in band)
    if lang == "zh":
        return (
            f"标准按{rule}测算，合理区间为同类合同单位成本的{low}至{high}。"
            f"若{int(t['n_peers'])}个同类合同的单位成本均不超过标准，可节约 "
            f"{wan(t['savings_yuan'], lang)}，占同类合同总成本的 {t['savings_pct'] / 100:.2%}。"
        )
    return (
        f"The standard is the {rule} of each cell's peer contracts (reasonable range: the "
        f"{low} to the {high}). Had none of the {int(t['n_peers'])} peers cost more than the "
        f"standard, {t['savings_yuan']:,.0f} yuan ({t['savings_pct'] / 100:.2%} of their "
        "cost) would have been saved."
    )


def cut_reason(project: Mapping[str, object], unit: str, lang: str) -> str:
    """One sentence of why a project was cut."""
    zh = lang == "zh"
    unit = pretty_units(unit)
    out_q = project.get("output_quantity")
    if project.get("rule") == "unit_cost_cap" and out_q and pd.notna(out_q):
        asked = float(project["requested"]) / float(out_q)
        cap = float(project["approvable"]) / float(out_q)
        adj = float(project.get("adjustment") or 1.0)
        how = (
            f"标准 {project['standard_value']:,.2f}"
            if zh
            else f"standard {project['standard_value']:,.2f}"
        )
        if abs(adj - 1) > 1e-9:
            how += f" × 调整系数 {adj:.3g}" if zh else f" x adjustment {adj:.3g}"
        if zh:
            return (
                f"申报单位成本 {asked:,.2f} 元/{unit}，高于核定的 {cap:,.2f} 元/{unit}"
                f"（{how}），超出部分核减。"
            )
        return (
            f"requested {asked:,.2f} yuan/{unit}, above the {cap:,.2f} yuan/{unit} allowed "
            f"({how}); the excess is cut."
        )
    return str(project.get("reason_zh" if zh else "reason_en") or "")


def top_cuts(projects: pd.DataFrame, unit: str, lang: str, n: int = TOP_CUTS) -> pd.DataFrame:
    """The ``n`` projects with the largest cuts and one sentence of why each."""
    cut = projects[projects["cut"] > 0].sort_values("cut", ascending=False).head(n)
    out = cut[
        [
            "project_id",
            "project_name",
            "district",
            "requested",
            "approved",
            "cut",
            "cut_rate",
            "decision",
        ]
    ].copy()
    out["cut_reason"] = [cut_reason(p, unit, lang) for p in cut.to_dict("records")]
    return out


def review_sentence(totals: Mapping[str, object], lang: str) -> str:
    if lang == "zh":
        return (
            f"按该标准审核 {totals['requests']} 个新申报项目：申报 {wan(totals['requested'], lang)}，"
            f"审定 {wan(totals['approved'], lang)}，核减 {wan(totals['cut'], lang)}，"
            f"核减率 {totals['cut_rate']:.2%}。"
        )
    return (
        f"Against this standard, {totals['requests']} requests ask for "
        f"{totals['requested']:,.2f} yuan; {totals['approved']:,.2f} yuan is approved and "
        f"{totals['cut']:,.2f} yuan cut ({totals['cut_rate']:.2%})."
    )


def why_sentences(results: object, name: Callable[[str], str], unit: str, lang: str) -> list[str]:
    """One sentence per district: its gap to the reference and its largest driver."""
    zh = lang == "zh"
    unit = pretty_units(unit)
    out = []
    gaps = results.district_gap
    districts = results.districts.set_index("district") if len(results.districts) else None
    if not gaps.empty:
        for district, rows in gaps.groupby("district", sort=False):
            rows = rows[rows["driver"] != "residual"]
            if rows.empty:
                continue
            gap = float(rows["gap"].iloc[0])
            top = rows.loc[rows["effect"].abs().idxmax()]
            direction = ("高" if gap > 0 else "低") if zh else ("above" if gap > 0 else "below")
            if zh:
                text = (
                    f"{district}：合同平均单位成本比同类参照值{direction} {abs(gap):.2f} 元/{unit}，"
                    f"影响最大的是{name(top['driver'])}（{top['effect']:+.2f} 元/{unit}）"
                )
            else:
                text = (
                    f"{district}: {abs(gap):.2f} yuan/{unit} {direction} the peer reference; "
                    f"largest driver {name(top['driver'])} ({top['effect']:+.2f} yuan/{unit})"
                )
            if districts is not None and district in districts.index:
                d = districts.loc[district]
                if "regression_index" in d and pd.notna(d["regression_index"]):
                    text += (
                        f"；扣除驱动因素后为回归预期的 {d['regression_index']:.1f}%"
                        if zh
                        else f"; {d['regression_index']:.1f}% of the regression expectation"
                    )
                if "mean_efficiency" in d and pd.notna(d["mean_efficiency"]):
                    text += (
                        f"，DEA 平均效率值 {d['mean_efficiency']:.3f}"
                        if zh
                        else f", mean DEA efficiency {d['mean_efficiency']:.3f}"
                    )
            out.append(text + ("。" if zh else "."))
    return out


def gap_words(frame: pd.DataFrame, config: object, lang: str) -> pd.DataFrame:
    """The decomposition method and reference of the gap table in words."""
    out = frame.copy()
    if "method" in out:
        out["method"] = out["method"].map(lambda m: code_label("gap_method", m, lang))
    if "reference" in out and lang == "zh":

        def words(text: object) -> object:
            head, _, by = str(text).partition(" per ")
            if head == "peer median" and by:
                return f"按{config.label(by, lang)}分组的同类中位数"
            return "同类中位数" if head == "peer median" else text

        out["reference"] = out["reference"].map(words)
    return out


def case_sections(
    config: object,
    results: object,
    tables: Mapping[str, pd.DataFrame],
    charts: list[tuple[str, bytes]],
    lang: str,
    sheet: Callable[[str, str], str],
) -> tuple[str, list[Section]]:
    """The lead sentence and the sections of ``report.html`` (decision first)."""
    zh = lang == "zh"
    dims = list(config.units.dimensions)
    unit = config.units.output_unit
    totals = results.review_totals
    lead = (
        f"本报告比较 {len(results.units)} 个同类合同（{config.class_of_matter or config.title}）"
        f"的单位成本，测算单位成本标准，并据此审核新申报项目。"
        if zh
        else config.description
        or f"{len(results.units)} peer contracts compared, a unit-cost standard derived and "
        "the new requests reviewed against it."
    )
    decision = []
    if not results.standard.empty and dims and {"lower", "upper"} <= set(results.standard):
        dim_label = " / ".join(config.label(d, lang) for d in dims)
        decision.append(standard_html(results, dims, lang, dim_label))
        sentence = savings_sentence(results, lang, tuple(config.standard.band))
        if sentence:
            decision.append(f"<p>{html.escape(sentence)}</p>")
    if totals:
        decision.append(f"<h3>{html.escape(_t('review', lang))}</h3>")
        decision.append(review_kpis(totals, lang))
        decision.append(f"<p>{html.escape(review_sentence(totals, lang))}</p>")
        cuts = top_cuts(results.review_projects, unit, lang)
        if len(cuts):
            decision.append(table_html(_t("cuts", lang), cuts, lang))
    sections = [Section(_t("decision", lang), html="".join(decision))]

    why = why_sentences(results, lambda d: config.label(d, lang), unit, lang)
    items = "".join(f"<li>{html.escape(pretty_units(s))}</li>" for s in why)
    why_html = f'<ul class="why">{items}</ul>' if items else ""
    sections.append(Section(_t("why", lang), html=why_html, charts=charts))
    if "districts" in tables:
        sections[-1].tables.append((sheet("districts", lang), tables["districts"]))

    method_text = ""
    derivation = results.derivation
    if derivation is not None:
        method_text = "；".join(derivation.notes) if zh else "; ".join(derivation.notes)
    method = Section(_t("method", lang), method_text, collapsed=True)
    for key in ("rule_comparison", "sensitivity", "outliers", "gap_reference", "regression"):
        if key in tables:
            method.tables.append((sheet(key, lang), tables[key]))
    sections.append(method)
    full = Section(_t("tables", lang), collapsed=True, print_open=False)
    for key in ("standard", "peer_stats", "district_gap", "frontier", "review_projects"):
        if key in tables:
            frame = gap_words(tables[key], config, lang) if key == "district_gap" else tables[key]
            full.tables.append((sheet(key, lang), frame))
    sections.append(full)
    return lead, sections
