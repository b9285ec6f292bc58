"""Self-contained HTML report: headings, tables and embedded PNG charts (UTF-8)."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from costperf.columns import to_display


@dataclass
class Section:
    """One report section: a heading, an optional text, tables and charts."""

    heading: str
    text: str = ""
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    charts: list[tuple[str, bytes]] = field(default_factory=list)


CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2em;
color:#222;max-width:1200px}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}
th,td{border:1px solid #bbb;padding:3px 7px}th{background:#ddebf7}
td.num{text-align:right;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:bold;padding:4px 0}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}
"""


def _table_html(caption: str, frame: pd.DataFrame, lang: str) -> str:
    shown = to_display(frame, lang)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    rows = []
    for values in shown.itertuples(index=False, name=None):
        cells = []
        for v in values:
            if isinstance(v, float):
                text = "" if pd.isna(v) else f"{v:,.4g}" if abs(v) < 10 else f"{v:,.2f}"
                cells.append(f'<td class="num">{text}</td>')
            elif isinstance(v, int):
                cells.append(f'<td class="num">{v}</td>')
            else:
                cells.append(f"<td>{html.escape('' if v is None else str(v))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def render_report(title: str, sections: Sequence[Section], *, lang: str = "zh") -> str:
    """Render the report as one HTML string with charts embedded as data URIs."""
    parts = [
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
        f'<meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"
    ]
    for s in sections:
        parts.append(f"<h2>{html.escape(s.heading)}</h2>")
        if s.text:
            parts.append(f"<p>{html.escape(s.text)}</p>")
        for caption, png in s.charts:
            data = base64.b64encode(png).decode("ascii")
            parts.append(
                f'<figure><img alt="{html.escape(caption)}" '
                f'src="data:image/png;base64,{data}"><figcaption>'
                f"{html.escape(caption)}</figcaption></figure>"
            )
        for caption, frame in s.tables:
            parts.append(_table_html(caption, frame, lang))
    parts.append("</body></html>")
    return "\n".join(parts)
