"""Print-ready outputs of a batch review: the workbook, the review forms, the summary page.

* :func:`display_tables`: the sheets 汇总, 项目, 明细 and 待人工复核 with words, not codes
  (决策 通过/核减/不予安排, 支出类型, 费用项目, 规则, 是/否);
* the workbook is written by :func:`costperf.report.excel.write_workbook` (number
  formats by column type, fitted widths, frozen and filtered header, A4 print setup);
* :func:`review_form`: one printable 评审意见表 per project (HTML);
* :func:`summary_page`: charts of the cuts by department and by rule and the
  distribution of project cut rates (HTML).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from functools import lru_cache

import numpy as np
import pandas as pd

from costperf.columns import code_label, code_label_map, label, message
from costperf.labels import unit_words
from costperf.report.formats import format_value
from costperf.report.webfont import FONT_STACK
from costperf.review.expenditure.lookup import fmt_amount

EXCEL_MAX_ROWS = 1_048_575  # below the header
_CODED = {
    "decision": "decision",
    "expense_kind": "expense_kind",
    "travel_item": "travel_item",
    "review_rule": "rule",
    "target_check": "target_check",
}
_DROP_ZH = ("decision_zh", "target_check_zh", "manual_review_reason_en", "reason_en")


#: what each wide sheet prints (its print area, one A4 landscape page wide): the decision
#: and its reason; the request's facts and the provenance stay on screen and in the CSVs
PRINT_COLUMNS = {
    "projects": (
        "project_id",
        "project_name",
        "requested",
        "approved",
        "cut",
        "cut_rate",
        "decision",
        "target_check",
        "manual_review",
        "reason_zh",
        "reason_en",
    ),
    "lines": (
        "project_id",
        "line_no",
        "item",
        "requested",
        "approved",
        "cut",
        "cut_rate",
        "decision",
        "manual_review",
        "reason_zh",
        "reason_en",
    ),
}


def print_columns(lang: str) -> dict[str, tuple[str, ...]]:
    """:data:`PRINT_COLUMNS` by the workbook's sheet names in ``lang``."""
    return {sheet_name(key, lang): cols for key, cols in PRINT_COLUMNS.items()}


def sheet_name(key: str, lang: str) -> str:
    """The review workbook's sheet name of ``key`` (labels.csv, kind ``review_sheet``)."""
    return code_label("review_sheet", key, lang)


def rule_words(rule: pd.Series, lang: str) -> pd.Series:
    """``meeting_quota+unit_cost_cap`` -> 会议费综合定额＋单位成本标准上限 (each part labelled)."""

    labels = code_label_map("rule", lang)

    def one(text: str) -> str:
        if not text or text in labels:
            return labels.get(text, "")
        return ("＋" if lang == "zh" else " + ").join(labels.get(p, p) for p in text.split("+"))

    codes, uniques = pd.factorize(rule.astype(object).fillna(""))
    return pd.Series(np.array([one(u) for u in uniques], dtype=object)[codes], index=rule.index)


def words(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Codes replaced by words in the report's language (decision, kind, rule, yes/no)."""
    out = frame.copy()
    for col, kind in _CODED.items():
        if col in out:
            values = out[col].astype(object)
            codes, uniques = pd.factorize(values)
            labels = code_label_map(kind, lang)
            shown = np.array([labels.get(str(u), str(u)) for u in uniques] + [""], dtype=object)
            out[col] = shown[codes]
    if "rule" in out:
        out["rule"] = rule_words(out["rule"], lang)
    yes, no = (code_label("boolean", b, lang) for b in ("True", "False"))
    for col in ("manual_review", "verified", "damaged"):
        if col in out:  # a blank (no standard used, a fact not given) stays blank
            flags = out[col].astype(object)
            given = flags.notna().to_numpy()
            out[col] = np.where(given, np.where(flags.fillna(False).astype(bool), yes, no), "")
    if lang == "zh":
        out = out.drop(columns=[c for c in _DROP_ZH if c in out])
    else:
        out = out.drop(
            columns=[
                c
                for c in ("decision_zh", "target_check_zh", "manual_review_reason_zh", "reason_zh")
                if c in out
            ]
        )
    return out.drop(columns=[c for c in ("route",) if c in out])


@lru_cache(maxsize=1)
def _nights_pattern() -> re.Pattern:
    """A stored lodging line, ``<ref> ×2晚`` (labels.csv ``reason.standard_line_nights``
    in Chinese, the language the review stores it in)."""
    template = message("reason.standard_line_nights", "zh", ref="\0", n="\1")
    ref, _, rest = template.partition("\0")
    before, _, after = rest.partition("\1")
    return re.compile(
        f"{re.escape(ref)}(?P<ref>.*){re.escape(before)}(?P<n>\\d+){re.escape(after)}", re.S
    )


_STANDARD_LINE = re.compile(r"(?P<ref>.+@\d+)=(?P<value>\S+) (?P<unit>.+)")


def standard_lines_words(values: pd.Series, lang: str) -> pd.Series:
    """The value lines used (``standard_lines``, stored in Chinese) in ``lang``: each
    ``id@v=650 元/人·天 ×2晚`` with its unit (:func:`costperf.labels.unit_words`) and its
    nights in words (``650 yuan/person-day ×2 nights``). Chinese: the values as they are."""
    if lang == "zh":
        return values
    nights = _nights_pattern()

    def part(text: str) -> str:
        count = None
        found = nights.fullmatch(text)
        if found:
            text, count = found.group("ref"), found.group("n")
        line = _STANDARD_LINE.fullmatch(text)
        if line:
            unit = line.group("unit")
            text = message(
                "reason.standard_line",
                lang,
                ref=line.group("ref"),
                value=line.group("value"),
                unit=unit_words(unit, lang),
            )
        if count is not None:
            text = message("reason.standard_line_nights", lang, ref=text, n=count)
        return text

    def one(text: object) -> object:
        if not isinstance(text, str) or not text:
            return text
        return "; ".join(part(p) for p in text.split("; "))

    codes, uniques = pd.factorize(values.astype(object))
    shown = np.array([one(u) for u in uniques] + [None], dtype=object)[codes]
    blank = codes < 0
    shown[blank] = values.to_numpy(dtype=object)[blank]
    return pd.Series(shown, index=values.index, name=values.name, dtype=object)


def department_words(values: pd.Series, lang: str) -> pd.Series:
    """A request without a department (stored as labels.csv ``review.unfilled_department``
    in Chinese, a group of its own) named in ``lang``: （未填） / (blank)."""
    from costperf.review.batch.book import UNFILLED_DEPARTMENT

    shown = message("review.unfilled_department", lang)
    if shown == UNFILLED_DEPARTMENT:
        return values
    return values.astype(object).mask(values.astype(object).eq(UNFILLED_DEPARTMENT), shown)


def shown_values(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``frame`` (a batch's projects or lines) with the texts costperf stores in Chinese
    shown in ``lang``: the blank department, the value lines used. The frame itself
    under zh (nothing to change)."""
    changes = {}
    if "department" in frame:
        department = department_words(frame["department"], lang)
        if department is not frame["department"]:
            changes["department"] = department
    if "standard_lines" in frame:
        lines = standard_lines_words(frame["standard_lines"], lang)
        if lines is not frame["standard_lines"]:
            changes["standard_lines"] = lines
    if not changes:
        return frame
    out = frame.assign(**changes)
    out.attrs = dict(frame.attrs)
    return out


def shown_result(result: object, lang: str) -> object:
    """A batch's result as its outputs show it in ``lang`` (:func:`shown_values` on its
    projects and lines, the blank department named in the summary by department); the
    result itself under zh. The records keep the result as stored."""
    from dataclasses import replace

    summaries = dict(result.summaries)
    if "department" in summaries:
        by = summaries["department"]
        group = department_words(by["group"], lang)
        if group is not by["group"]:
            summaries["department"] = by.assign(group=group)
    return replace(
        result,
        projects=shown_values(result.projects, lang),
        lines=shown_values(result.lines, lang),
        summaries=summaries,
    )


def _blank_named(summary: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A summary with its blank group (no department, no class) named （空） / (blank)."""
    blank = message("benchmark.blank", lang)
    return summary.assign(group=summary["group"].astype(object).fillna(blank))


def summary_table(
    summaries: Mapping[str, pd.DataFrame], totals: Mapping[str, object], lang: str
) -> pd.DataFrame:
    """One table of every summary, the totals on top."""
    top = pd.DataFrame(
        [
            {
                "group_by": "total",
                "group": message("review_summary.all", lang),
                "n_projects": totals["projects"],
                "n_lines": totals["lines"],
                "requested": totals["requested"],
                "approved": totals["approved"],
                "cut": totals["cut"],
                "cut_rate": totals["cut_rate"],
                "n_projects_manual_review": totals["projects_manual_review"],
                "n_lines_manual_review": totals["lines_manual_review"],
            }
        ]
    )
    parts = [top]
    for by, frame in summaries.items():
        shown = _blank_named(frame, lang)  # a copy
        if by in ("review_rule", "decision"):
            kind = "rule" if by == "review_rule" else "decision"
            shown["group"] = [code_label(kind, c, lang) for c in shown["group"]]
        elif by == "econ_code":  # 30211 差旅费: the code with its name
            from costperf.review.batch.routing import econ_names

            names = econ_names(lang)
            shown["group"] = [
                f"{g} {names[str(g)]}" if str(g) in names else g for g in shown["group"]
            ]
        parts.append(shown)
    out = pd.concat(parts, ignore_index=True)
    out["group_by"] = out["group_by"].map(code_label_map("review_group_by", lang))
    return out


def manual_table(lines: pd.DataFrame, projects: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """Projects and lines flagged for manual review, project by project (a project's own
    flag on a row of its own, its item （项目） / (project))."""
    cols = [
        "project_id",
        "line_no",
        "project_name",
        "department",
        "item",
        "requested",
        "approved",
        "manual_review_reason_zh",
        "manual_review_reason_en",
    ]
    own = projects[projects["manual_review_reason_zh"].fillna("").str.len() > 0].assign(
        line_no=pd.NA, item=message("review.project_row", lang)
    )
    flagged = lines[lines["manual_review"]]
    out = pd.concat([own.reindex(columns=cols), flagged.reindex(columns=cols)], ignore_index=True)
    out["line_no"] = out["line_no"].astype("Int64")
    return out.sort_values(["project_id", "line_no"], na_position="first", kind="stable")


def display_tables(result: object, lang: str) -> dict[str, pd.DataFrame]:
    """The four sheets, canonical column names, values in words."""
    return {
        sheet_name("summary", lang): summary_table(result.summaries, result.totals, lang),
        sheet_name("projects", lang): words(result.projects, lang),
        sheet_name("lines", lang): words(
            result.lines.drop(columns=["sheet"], errors="ignore"), lang
        ),
        sheet_name("manual", lang): words(manual_table(result.lines, result.projects, lang), lang),
    }


def split_rows(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Sheets longer than Excel's row limit continued on 明细(2), 明细(3) ..."""
    out = {}
    for name, frame in tables.items():
        if len(frame) <= EXCEL_MAX_ROWS:
            out[name] = frame
            continue
        for k, start in enumerate(range(0, len(frame), EXCEL_MAX_ROWS)):
            out[name if k == 0 else f"{name}({k + 1})"] = frame.iloc[start : start + EXCEL_MAX_ROWS]
    return out


# ---- HTML: the review form of one project, the summary page ----------------------------

FORM_CSS = (
    "@page{size:A4;margin:15mm}"
    f"body{{font-family:{FONT_STACK};color:#111;"
    """font-size:12px;max-width:190mm;margin:auto}
h1{text-align:center;font-size:20px;letter-spacing:4px}
table{border-collapse:collapse;width:100%;margin:6px 0 12px}
th,td{border:1px solid #444;padding:4px 6px;vertical-align:top;overflow-wrap:anywhere}
th{background:#eee;font-weight:normal;white-space:nowrap}
td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.sign td{height:48px;width:30%}.sign th{width:1%;vertical-align:middle}
td.nw{white-space:nowrap}
thead{display:table-header-group}tr{page-break-inside:avoid}
"""
)


def _e(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return html.escape(str(value))


def _money(value: object) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value):,.2f}"


def as_of_line(date: object, batch: str | None, lang: str = "zh") -> str:
    """ "评审基准日：2027-03-01；评审批次：<id>", or 未记录 when no store was given."""
    shown = batch or message("review.batch_unrecorded", lang)
    return message("review.as_of", lang, date=date or "", batch=shown)


def _basis(standard: Mapping[str, object], lang: str) -> object:
    """A table's document number; for a table costperf derived (no document), who made
    it and by which rule: 同类项目成本测算（costperf）：同类中位数."""

    def text(key: str) -> str:
        value = standard.get(key)
        return "" if value is None or pd.isna(value) else str(value).strip()

    method = text("source_method")
    if text("document_no") or not method:
        return standard.get("document_no")
    rule = method.removeprefix("derive:")
    shown = code_label("derive_rule", rule, lang) if rule != method else method
    issuer = text("issuer")
    return f"{issuer}{'：' if lang == 'zh' else ': '}{shown}" if issuer else shown


def _title(standard: Mapping[str, object], lang: str) -> object:
    """A standard's title as issued (a sealed table without the draft mark it was derived
    with), or its English title under ``--lang en``."""
    from costperf.report.standard_page import issued_title

    english = standard.get("title_en") if lang == "en" else None
    title = english or standard.get("title")
    return issued_title(str(title), str(standard.get("status") or "")) if title else title


#: the fields of a cited standard a form shows (its row is made once per batch)
_STANDARD_KEYS = (
    "table_id",
    "version",
    "title",
    "title_en",
    "status",
    "document_no",
    "source_method",
    "issuer",
    "content_hash",
)


@lru_cache(maxsize=4096)
def _standard_row(values: tuple, lang: str) -> str:
    """A form's row for one cited standard; ``values`` by :data:`_STANDARD_KEYS` (every
    form citing the same table version shows the same row)."""
    s = dict(zip(_STANDARD_KEYS, values, strict=True))
    return (
        f"<tr><td class=nw>{_e(s['table_id'])}@{_e(s['version'])}</td><td>{_e(_title(s, lang))}</td>"
        f"<td class=nw>{_e(_basis(s, lang))}</td><td class=nw>{_e(str(s.get('content_hash') or '')[:19])}</td></tr>"
    )


def review_form(
    project: Mapping[str, object],
    lines: pd.DataFrame,
    standards: pd.DataFrame,
    *,
    as_of: str = "",
    lang: str = "zh",
) -> str:
    """One project's 评审意见表 as a printable HTML page; ``as_of`` is its footer line
    (:func:`as_of_line`: the review date and the batch that records it)."""
    zh = lang == "zh"

    rate = project.get("cut_rate")
    rate_text = "" if rate is None or pd.isna(rate) else f"{float(rate):.2%}"
    decision = code_label("decision", project["decision"], lang)
    target = code_label("target_check", project.get("target_check", ""), lang)
    head = [
        (message("form.project_id", lang), project["project_id"]),
        (message("form.project_name", lang), project.get("project_name")),
        (message("form.department", lang), project.get("department")),
        (message("form.class_of_matter", lang), project.get("class_of_matter")),
        (message("form.year", lang), format_value("code_int", project.get("year"))),
        (message("form.target_check", lang), target),
    ]
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in head)
    totals = (
        f"<table><tr><th>{message('form.requested_yuan', lang)}</th>"
        f"<th>{message('form.approved_yuan', lang)}</th><th>{message('form.cut_yuan', lang)}</th>"
        f"<th>{message('form.cut_rate', lang)}</th><th>{message('form.decision', lang)}</th></tr>"
        f"<tr><td class=num>{_money(project['requested'])}</td>"
        f"<td class=num>{_money(project['approved'])}</td>"
        f"<td class=num>{_money(project['cut'])}</td><td class=num>{rate_text}</td>"
        f"<td>{_e(decision)}</td></tr></table>"
        f"<p>{_e(project.get('reason_zh' if zh else 'reason_en'))}</p>"
    )
    cut = [r for r in lines if (r["cut"] or 0) > 0]
    reason = "reason_zh" if zh else "reason_en"
    body = (
        "".join(
            f"<tr><td class=num>{_e(r.get('line_no'))}</td><td>{_e(r.get('item'))}</td>"
            f"<td class=num>{_money(r['requested'])}</td><td class=num>{_money(r['approved'])}</td>"
            f"<td class=num>{_money(r['cut'])}</td><td>{_e(r[reason])}</td></tr>"
            for r in cut
        )
        or f"<tr><td colspan=6>{message('form.no_line_cut', lang)}</td></tr>"
    )
    cuts = (
        f"<h2>{message('form.lines_cut', lang)}</h2><table><thead><tr><th>{message('form.line_no', lang)}</th>"
        f"<th>{message('form.item', lang)}</th><th>{message('form.requested', lang)}</th>"
        f"<th>{message('form.approved', lang)}</th><th>{message('form.cut', lang)}</th>"
        f"<th>{message('form.reason', lang)}</th></tr></thead><tbody>{body}</tbody></table>"
    )
    flag_col = "manual_review_reason_zh" if zh else "manual_review_reason_en"
    flagged = [r for r in lines if r["manual_review"]]
    items = [f"<li>{_e(project.get(flag_col))}</li>"] if project.get(flag_col) else []
    items += [
        "<li>"
        + message(
            "form.manual_line",
            lang,
            line_no=_e(r.get("line_no")),
            item=_e(r.get("item")),
            reason=_e(r[flag_col]),
        )
        + "</li>"
        for r in flagged
    ]
    manual = (
        f"<h2>{message('form.manual_review', lang)}</h2><ul>{''.join(items)}</ul>" if items else ""
    )
    std_rows = (
        "".join(_standard_row(tuple(s.get(k) for k in _STANDARD_KEYS), lang) for s in standards)
        or f"<tr><td colspan=4>{message('form.no_standard', lang)}</td></tr>"
    )
    stds = (
        f"<h2>{message('form.standards', lang)}</h2><table><tr><th>{message('form.table_version', lang)}</th>"
        f"<th>{message('form.title', lang)}</th><th>{message('form.document_no', lang)}</th><th>{message('form.content_hash', lang)}</th></tr>"
        f"{std_rows}</table>"
    )
    sign = (
        f"<table class=sign><tr><th>{message('form.reviewer', lang)}</th><td></td>"
        f"<th>{message('form.checked_by', lang)}</th><td></td><th>{message('form.date', lang)}</th><td></td></tr></table>"
        f"<p style='color:#666'>{_e(as_of)}</p>"
    )
    title = message("form.heading", lang)
    return (
        f'<!DOCTYPE html><html lang="{"zh-CN" if zh else "en"}"><head><meta charset="utf-8">'
        f"<title>{_e(title)} {_e(project['project_id'])}</title><style>{FORM_CSS}</style></head>"
        f"<body><h1>{_e(title)}</h1><table>{rows}</table>{totals}{cuts}{manual}{stds}{sign}"
        f"</body></html>"
    )


def summary_charts(result: object, lang: str = "zh") -> list[tuple[str, bytes]]:
    """The charts of ``summary.html``: cuts by department and by rule, the cut rates
    (captions and PNGs, or charts a worker is drawing: :mod:`costperf.report.background`)."""
    from costperf.report import charts

    s = result.summaries
    png = []
    if "department" in s:
        png.append(
            (
                (t := message("review_summary.cuts_by_department", lang)),
                charts.cut_bars(
                    _blank_named(s["department"], lang),
                    label=label("department", lang),
                    title=t,
                    lang=lang,
                ),
            )
        )
    if "review_rule" in s:
        by_rule = s["review_rule"].assign(
            group=lambda f: f["group"].map(lambda c: code_label("rule", c, lang))
        )
        png.append(
            (
                (t := message("review_summary.cuts_by_rule", lang)),
                charts.cut_bars(by_rule, label=label("rule", lang), title=t, lang=lang),
            )
        )
    png.append(
        (
            (t := message("review_summary.cut_rates", lang)),
            charts.rate_histogram(result.projects["cut_rate"], title=t, lang=lang),
        )
    )
    return png


def summary_page(
    result: object,
    *,
    title: str,
    lang: str = "zh",
    charts: list[tuple[str, bytes]] | None = None,
    as_of: str = "",
) -> str:
    """``summary.html``: totals, charts of the cuts (:func:`summary_charts`, drawn here
    unless given) and the summary tables; ``as_of`` (:func:`as_of_line`) follows the
    overview's text."""
    from costperf.report.html import Section, render_report

    s, tot = result.summaries, result.totals
    png = summary_charts(result, lang) if charts is None else charts
    text = message(
        "review_summary.text",
        lang,
        projects=tot["projects"],
        lines=tot["lines"],
        requested=fmt_amount(tot["requested"], money=True),
        approved=fmt_amount(tot["approved"], money=True),
        cut=fmt_amount(tot["cut"], money=True),
        cut_rate=tot["cut_rate"],
        rejected=tot["projects_reject"],
        manual=tot["projects_manual_review"],
    )
    table = summary_table(s, tot, lang)
    sections = [
        Section(
            message("review_summary.overview", lang),
            text,
            charts=png,
            html=f"<p>{html.escape(as_of)}</p>" if as_of else "",
        ),
        Section(
            message("review_summary.summary", lang),
            tables=[(message("review_summary.summary", lang), table)],
        ),
    ]
    return render_report(title, sections, lang=lang)
