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

from costperf.columns import code_label, code_label_map, message
from costperf.labels import unit_words
from costperf.report.formats import pretty_units
from costperf.report.html import Section, table_html

TOP_CUTS = 5


def _t(key: str, lang: str) -> str:
    """A heading of the report (labels.csv, kind ``report_heading``)."""
    return code_label("report_heading", key, lang)


def wan(yuan: float, lang: str) -> str:
    """Money for a headline: 万元 with two decimals (yuan in English)."""
    return message("case_report.wan", lang, amount=yuan / 1e4 if lang == "zh" else yuan)


def _kpi(name: str, value: str, sub: str = "") -> str:
    small = f'<div class="s">{html.escape(sub)}</div>' if sub else ""
    return (
        f'<div class="kpi"><div class="k">{html.escape(name)}</div>'
        f'<div class="v">{html.escape(value)}</div>{small}</div>'
    )


def review_kpis(totals: Mapping[str, object], lang: str) -> str:
    """The review totals as headline boxes: 申报, 审定, 核减, 核减率, decisions."""
    zh = lang == "zh"  # the exact yuan under a 万元 headline; English shows yuan already

    def money(name: str, key: str) -> str:
        return _kpi(
            name,
            wan(totals[key], lang),
            message("case_report.yuan", lang, amount=totals[key]) if zh else "",
        )

    decisions = message("list.separator", lang).join(
        f"{code_label('decision', d, lang)} {totals.get('n_' + d, 0)}"
        for d in ("approve", "reduce", "reject")
    )
    boxes = [
        money(message("case_report.kpi_requested", lang), "requested"),
        money(message("case_report.kpi_approved", lang), "approved"),
        money(message("case_report.kpi_cut", lang), "cut"),
        _kpi(message("case_report.kpi_cut_rate", lang), f"{totals['cut_rate']:.2%}"),
        _kpi(
            message("case_report.kpi_requests", lang),
            message("case_report.n_requests", lang, n=totals["requests"]),
            decisions,
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
    unit = pretty_units(unit_words(rows["unit"].iloc[0], lang)) if len(rows) else ""
    has_savings = "savings_yuan" in rows
    head = [
        dim_label,
        message("case_report.standard_value", lang, unit=unit),
        message("case_report.reasonable_range", lang, unit=unit),
        message("case_report.peer_contracts", lang),
    ]
    if has_savings:
        head += [message("case_report.savings", lang), message("case_report.savings_rate", lang)]
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
    if stat.startswith("p") and stat[1:].isdigit():
        return message("case_report.percentile", lang, n=stat[1:])
    if stat == "median":
        return message("case_report.median", lang)
    if stat == "mean":
        return message("case_report.mean", lang)
    return stat


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
    return message(
        "case_report.savings_sentence",
        lang,
        rule=rule,
        low=low,
        high=high,
        n_peers=int(t["n_peers"]),
        savings=wan(t["savings_yuan"], lang),
        savings_pct=t["savings_pct"] / 100,
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
        how = message("case_report.how_standard", lang, value=project["standard_value"])
        if abs(adj - 1) > 1e-9:
            how = message("case_report.how_adjusted", lang, how=how, adjustment=adj)
        return message("case_report.cut_reason", lang, asked=asked, cap=cap, unit=unit, how=how)
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
    def money(yuan: float) -> str:  # 万元 in Chinese, yuan with fen in English
        return wan(yuan, lang) if lang == "zh" else message("case_report.yuan", lang, amount=yuan)

    return message(
        "case_report.review_sentence",
        lang,
        requests=totals["requests"],
        requested=money(totals["requested"]),
        approved=money(totals["approved"]),
        cut=money(totals["cut"]),
        cut_rate=totals["cut_rate"],
    )


def why_sentences(results: object, name: Callable[[str], str], unit: str, lang: str) -> list[str]:
    """One sentence per district: its gap to the reference and its largest driver."""
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
            if gap > 0:
                direction = message("case_report.above", lang)
            else:
                direction = message("case_report.below", lang)
            text = message(
                "case_report.why",
                lang,
                district=district,
                direction=direction,
                gap=abs(gap),
                unit=unit,
                driver=name(top["driver"]),
                effect=top["effect"],
            )
            if districts is not None and district in districts.index:
                d = districts.loc[district]
                if "regression_index" in d and pd.notna(d["regression_index"]):
                    text = message(
                        "case_report.why_regression", lang, text=text, index=d["regression_index"]
                    )
                if "mean_efficiency" in d and pd.notna(d["mean_efficiency"]):
                    text = message(
                        "case_report.why_dea", lang, text=text, efficiency=d["mean_efficiency"]
                    )
            out.append(message("case_report.sentence", lang, text=text))
    return out


def gap_words(frame: pd.DataFrame, config: object, lang: str) -> pd.DataFrame:
    """The decomposition method, reference and notes of a gap table in words
    (labels.csv: kinds ``gap_method`` and ``gap_note``, messages ``case_report.reference_*``)."""
    out = frame.copy()
    if "method" in out:
        methods = code_label_map("gap_method", lang)
        out["method"] = out["method"].map(lambda m: methods.get(str(m), m), na_action="ignore")
    if "reference" in out:

        def words(text: object) -> object:
            head, _, by = str(text).partition(" per ")
            if head != "peer median":
                return text
            if by:
                return message("case_report.reference_by", lang, by=config.label(by, lang))
            return message("case_report.reference_median", lang)

        out["reference"] = out["reference"].map(words, na_action="ignore")
    if "note" in out and lang == "zh":  # the library's notes (English as recorded)
        notes = code_label_map("gap_note", lang)
        shown = {
            note: "；".join(notes.get(part, part) for part in note.split("; "))
            for note in out["note"].dropna().unique()
            if isinstance(note, str)
        }
        out["note"] = out["note"].map(lambda n: shown.get(n, n), na_action="ignore")
    return out


def regression_words(frame: pd.DataFrame, regression: Mapping, config: object, lang: str):
    """The regression tables (coefficients, VIF) in words: the standard-error method of
    each model (labels.csv ``se_method``) and, in Chinese, the terms (ln(保洁面积),
    道路等级：二级); English keeps the library's texts and patsy's terms."""
    from costperf.benchmark.costmodel.model import se_words
    from costperf.benchmark.costmodel.names import term_words

    out = frame.copy()
    if "se_method" in out and lang == "zh":
        quantile = (regression.get("quantile") or {}).get("fit") or {}
        words = {
            "ols": se_words(regression.get("fit") or {}, lang),
            "quantile": se_words(quantile, lang) if quantile else "",
        }
        kind = out["model"].astype(str).str.split(" ").str[0] if "model" in out else "ols"
        out["se_method"] = pd.Series(kind, index=out.index).map(words).fillna(out["se_method"])
    if "term" in out and lang == "zh":
        terms = {
            t: term_words(t, lambda n: config.label(n, lang), lang) for t in out["term"].unique()
        }
        out["term"] = out["term"].map(terms)
    return out


def derivation_words(key: str, frame: pd.DataFrame, results: object, lang: str) -> pd.DataFrame:
    """A derivation table (standard, rule comparison, provenance) in words: a member of
    a combined rule (``triangulation/dea``) part by part; in Chinese the peers excluded
    with their Chinese reasons, and the recorded English method headed 方法（英文）
    beside its Chinese (方法说明)."""
    from costperf.standards.derive.result import excluded_words

    out = frame.copy()
    if "derive_rule" in out:
        rules = code_label_map("derive_rule", lang)

        def rule(text: object) -> object:
            if not isinstance(text, str) or "/" not in text:
                return text
            return "/".join(rules.get(part, part) for part in text.split("/"))

        out["derive_rule"] = out["derive_rule"].map(rule)
    if lang != "zh":
        return out
    derivation = results.derivation
    if "peers_excluded" in out:
        reasons = _reasons_zh(results)
        out["peers_excluded"] = out["peers_excluded"].map(lambda t: excluded_words(t, reasons))
    if "method" in out:
        if "method_zh" not in out:  # the provenance: each rule's method, as compared
            known = [results.standard]
            if derivation is not None:
                known.append(derivation.comparison)
            methods = {}
            for table in known:
                if {"method", "method_zh"} <= set(table):
                    methods.update(zip(table["method"], table["method_zh"], strict=True))
            at = out.columns.get_loc("method") + 1
            out.insert(at, "method_zh", out["method"].map(methods))
        out = out.rename(columns={"method": "method_en"})
    return out


def _reasons_zh(results: object) -> dict[str, str]:
    """English -> Chinese of every reason a peer was excluded or flagged in this run."""
    from costperf.standards.derive.result import reasons_zh

    reasons = reasons_zh(results.outliers, "outlier_reason", "outlier_reason_zh")
    if results.derivation is not None:
        reasons.update(reasons_zh(results.derivation.provenance))
    return reasons


def case_tables_words(
    tables: Mapping[str, pd.DataFrame], config: object, results: object, lang: str
) -> dict[str, pd.DataFrame]:
    """The run's tables as report.xlsx and report.html show them in ``lang``: methods,
    references, notes and reasons in words (:func:`gap_words`, :func:`regression_words`,
    :func:`derivation_words`); under ``en`` the Chinese twin columns (``*_zh``) left out,
    as the batch review's workbook does. Under zh the English reasons stay beside the
    Chinese ones, headed （英文）."""
    from costperf.report.html import one_language

    out = {}
    for key, frame in tables.items():
        if key in ("gap", "district_gap"):
            frame = gap_words(frame, config, lang)
        elif key in ("regression", "vif"):
            frame = regression_words(frame, results.regression, config, lang)
        elif key in ("standard", "rule_comparison", "provenance"):
            frame = derivation_words(key, frame, results, lang)
        out[key] = one_language(frame, lang) if lang == "en" else frame
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
    lead = message(
        "case_report.lead",
        lang,
        n=len(results.units),
        matter=config.class_of_matter or config.title,
    )
    if not zh and config.description:
        lead = config.description
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
        method_text = message("list.clauses", lang).join(derivation.notes)
    method = Section(_t("method", lang), method_text, collapsed=True)
    for key in ("rule_comparison", "sensitivity", "outliers", "gap_reference", "regression"):
        if key in tables:
            method.tables.append((sheet(key, lang), tables[key]))
    sections.append(method)
    full = Section(_t("tables", lang), collapsed=True, print_open=False)
    for key in ("standard", "peer_stats", "district_gap", "frontier", "review_projects"):
        if key in tables:
            full.tables.append((sheet(key, lang), tables[key]))
    sections.append(full)
    return lead, sections
