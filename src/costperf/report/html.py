"""Self-contained HTML report: headings, tables and embedded PNG charts (UTF-8).

Every page embeds the subset of the CJK font it uses (:mod:`costperf.report.webfont`),
so it reads the same on a machine without a Chinese font. Cells are formatted by column
type (:mod:`costperf.report.formats`: 11.26%, 1,234.50, m²), codes are shown as words
(``labels.csv``), long id lists collapse, wide tables scroll inside their box, and the
page prints on A4 (a page break before each top section, no scroll boxes).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from costperf.columns import label, message
from costperf.report.background import PendingChart, png_bytes
from costperf.report.formats import (
    column_kind,
    column_unit_words,
    format_value,
    label_codes,
    pretty_units,
)
from costperf.report.webfont import FONT_STACK, embed_font

#: a ``;``-separated text with more parts than this collapses into a summary.
ID_LIST_OPEN = 3


@dataclass
class Section:
    """One report section: a heading, an optional text, tables and charts.

    ``html`` is markup built by costperf itself (already escaped) shown after the text;
    ``collapsed`` puts the body in a closed ``<details>``, printed open, or (with
    ``print_open`` False: tables the workbook holds in full) not printed at all: its
    "click to open" line alone took a printed page; ``level`` 2 starts a new printed
    page, 3 is a subsection.
    """

    heading: str
    text: str = ""
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    charts: list[tuple[str, bytes]] = field(default_factory=list)
    html: str = ""
    collapsed: bool = False
    level: int = 2
    print_open: bool = True  # a collapsed section printed open (else not printed at all)


CSS = (
    f"body{{font-family:{FONT_STACK};margin:0 auto;padding:24px 32px;color:#222;"
    "max-width:1180px;line-height:1.55;font-size:14px}"
    """
h1{font-size:26px;margin:0 0 6px}h2{font-size:20px;border-bottom:2px solid #3b6ea5;
padding-bottom:3px;margin:28px 0 10px}h3{font-size:16px;margin:18px 0 6px}
p.lead{font-size:15px;color:#333;margin:4px 0 14px}
.kpis{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0 14px}
.kpi{border:1px solid #c5d3e6;border-radius:6px;background:#f4f7fb;padding:8px 14px;
min-width:150px}.kpi .k{color:#555;font-size:13px}.kpi .v{font-size:22px;font-weight:700;
color:#1d3f6e;white-space:nowrap}.kpi .s{color:#666;font-size:12px;white-space:nowrap}
.scroll{overflow-x:auto;max-width:100%;margin:.3em 0 1.2em}
table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #bbb;padding:3px 7px;vertical-align:top}
th{background:#ddebf7;font-weight:600;text-align:center;white-space:nowrap}
td{white-space:nowrap}
td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:700;padding:4px 0;white-space:nowrap}
td.long{white-space:normal;min-width:18em;max-width:36em}
details.ids summary{cursor:pointer;color:#2a5a8c;white-space:nowrap}
details.ids div{max-width:28em;word-break:break-all;font-size:12px}
details.more{margin:8px 0}details.more>summary{cursor:pointer;font-size:17px;
font-weight:600;color:#1d3f6e;padding:4px 0}
figure{margin:.6em 0 1.2em}figure img{max-width:100%;border:1px solid #eee}
figcaption{color:#444;font-size:13px;max-width:900px}
ul.why li{margin:3px 0}
@media print{
@page{size:A4;margin:14mm 12mm}
body{max-width:none;padding:0;font-size:11px}
h2,details.more{break-before:page;page-break-before:always}.first{break-before:auto;page-break-before:auto}
details.more:not(.print-open){display:none}
.scroll{overflow:visible}
table{font-size:8.5px}th,td{padding:1px 3px;white-space:normal}td.long{min-width:0}
tr,figure,.kpi{break-inside:avoid;page-break-inside:avoid}
thead{display:table-header-group}
details.ids div{max-width:none}
figure img{max-width:100%;max-height:230mm}
details.print-open::details-content{content-visibility:visible;display:block}
details>summary{list-style:none}
}
"""
)


def header_text(column: str, lang: str) -> str:
    """The column's label with its unit, e.g. ``核减数（元）``, ``单位成本（元/m²）``."""
    text = label(str(column), lang)
    unit = column_unit_words(str(column), lang)
    if unit and unit not in text:
        text = message("table.with_unit", lang, text=text, unit=unit)
    return pretty_units(text)


def _cell(kind: str, value: object, lang: str) -> str:
    if kind != "text" and not isinstance(value, str | bool):
        return f'<td class="num">{html.escape(format_value(kind, value))}</td>'
    text = format_value("text", value)
    parts = [p for p in text.split(";") if p.strip()] if ";" in text else []
    if len(parts) > ID_LIST_OPEN:
        shown = html.escape("; ".join(p.strip() for p in parts))
        count = message("table.n_items", lang, n=len(parts))
        return (
            f'<td><details class="ids"><summary>{count}</summary><div>{shown}</div></details></td>'
        )
    cls = ' class="long"' if len(text) > 40 else ""
    return f"<td{cls}>{html.escape(pretty_units(text))}</td>"


def one_language(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Keep the text columns of ``lang`` only: ``x_zh`` replaces ``x``/``x_en`` in Chinese,
    and is dropped in English."""
    cols = [str(c) for c in frame.columns]
    drop = set()
    for c in cols:
        if c.endswith("_zh"):
            base = c[:-3]
            if lang == "zh":
                drop.update(x for x in (base, base + "_en") if x in cols)
            else:
                drop.add(c)
        elif c.endswith("_en") and lang == "zh" and c[:-3] + "_zh" in cols:
            drop.add(c)
    return frame.drop(columns=[c for c in frame.columns if str(c) in drop])


def table_html(caption: str, frame: pd.DataFrame, lang: str) -> str:
    """One table in its scroll box: headers with units, cells formatted by column kind."""
    frame = one_language(frame, lang)
    shown = label_codes(frame, lang)
    kinds = [column_kind(str(c), frame[c]) for c in frame.columns]
    head = "".join(f"<th>{html.escape(header_text(c, lang))}</th>" for c in frame.columns)
    rows = []
    for values in shown.itertuples(index=False, name=None):
        cells = "".join(_cell(k, v, lang) for k, v in zip(kinds, values, strict=True))
        rows.append(f"<tr>{cells}</tr>")
    return (
        f'<div class="scroll"><table><caption>{html.escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def figure_html(caption: str, png: bytes | PendingChart) -> str:
    data = base64.b64encode(png_bytes(png)).decode("ascii")
    return (
        f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _section_html(s: Section, lang: str, first: bool, tables: list[str]) -> str:
    """A section; ``tables`` the HTML of its tables (:func:`table_html`)."""
    body = []
    if s.text:
        body.append(f"<p>{html.escape(s.text)}</p>")
    if s.html:
        body.append(s.html)
    body += [figure_html(c, png) for c, png in s.charts]
    body += tables
    tag = f"h{s.level}"
    cls = ' class="first"' if first else ""
    if s.collapsed:
        cls = "more print-open" if s.print_open else "more"
        return (
            f'<details class="{cls}"><summary>{html.escape(s.heading)}</summary>'
            f"{''.join(body)}</details>"
        )
    return f"<{tag}{cls}>{html.escape(s.heading)}</{tag}>{''.join(body)}"


def render_report(
    title: str,
    sections: Sequence[Section],
    *,
    lang: str = "zh",
    lead: str = "",
    embed: bool = True,
) -> str:
    """Render the report as one HTML string (charts as data URIs, the font embedded)."""
    parts = [
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
        f'<meta charset="utf-8"><meta name="viewport" content="width=device-width">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
    ]
    if lead:
        parts.append(f'<p class="lead">{html.escape(lead)}</p>')
    # every table first: a chart may still be drawn by the worker meanwhile
    tables = [[table_html(c, frame, lang) for c, frame in s.tables] for s in sections]
    parts += [
        _section_html(s, lang, i == 0, t)
        for i, (s, t) in enumerate(zip(sections, tables, strict=True))
    ]
    parts.append("</body></html>")
    page = "\n".join(parts)
    return embed_font(page) if embed else page
