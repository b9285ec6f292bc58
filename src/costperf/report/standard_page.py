"""Publish a standard table as a bureau would issue it: Excel workbook and HTML page.

:func:`build_publication` lays the table out once (title, document number, grouped
header rows, units, rows, notes); :func:`write_workbook` and :func:`render_html` only
draw that layout, so the two formats always carry the same content.
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from costperf.columns import code_label, code_label_map, message, natural_key
from costperf.errors import InputError
from costperf.labels import unit_words
from costperf.report.excel import text_width
from costperf.report.formats import pretty_units
from costperf.report.webfont import FONT_STACK, embed_font
from costperf.standards.format import WILDCARD
from costperf.standards.tables import StandardSet, TableVersion

UNVERIFIED_MARK = "※"
#: the columns of the long sheet of values (labels.csv, kind ``publication_column``)
LONG_COLUMNS = (
    "standard_id",
    "item_zh",
    "component_zh",
    "kind",
    "value",
    "lower",
    "upper",
    "unit",
    "verified",
    "confidence",
    "note",
)


@dataclass(frozen=True)
class HeaderCell:
    """One cell of the header block: text spanning ``colspan`` x ``rowspan`` cells."""

    text: str
    row: int
    col: int
    rowspan: int = 1
    colspan: int = 1


@dataclass(frozen=True)
class Publication:
    """A laid-out standard table, ready to draw as a workbook or an HTML page."""

    title: str
    meta: list[str]
    header: list[HeaderCell]
    header_height: int
    n_label_columns: int
    n_columns: int
    body: list[list[object]]
    unverified: list[list[bool]]
    notes: list[str]
    sheet_name: str
    lang: str
    lines: pd.DataFrame = field(repr=False)


#: the texts costperf writes into a table it derives (labels.csv messages): the table is
#: Chinese and stores them in Chinese; a page in English shows them in English
OWN_TEXTS = ("derive.issuer", "derive.line_note")


def derived(version: TableVersion) -> bool:
    """Whether costperf derived the table (``[source] method = "derive:<rule>"``): its
    issuer, unit and line notes are then costperf's words, not a document's."""
    return str((version.header.get("source") or {}).get("method", "")).startswith("derive:")


@cache
def _zh_pattern(code: str) -> re.Pattern:
    """The Chinese template of message ``code`` as a pattern with a group per field."""
    template = code_label_map("message", "zh")[code]
    parts = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name:
            parts.append(f"(?P<{name}>.+?)")
    return re.compile("".join(parts), re.S)


def own_words(text: object, lang: str) -> str:
    """A text of a derived table in ``lang``: one that fills a Chinese template of
    :data:`OWN_TEXTS` in that template's words of ``lang`` (the same fields), any other
    text as it is."""
    text = "" if text is None else str(text)
    if lang == "zh" or not text:
        return text
    for code in OWN_TEXTS:
        found = _zh_pattern(code).fullmatch(text)
        if found:
            return message(code, lang, **found.groupdict())
    return text


def _check_lang(lang: str) -> None:
    if lang not in ("zh", "en"):
        msg = f"--lang {lang!r}: use zh or en"
        raise InputError(msg)


def _label(spec: Mapping[str, object] | None, code: str, lang: str) -> str:
    spec = spec or {}
    return str(spec.get("label_en" if lang == "en" else "label_zh") or spec.get("label_zh") or code)


def _field_label(version: TableVersion, fld: str, lang: str) -> str:
    if fld == "item":
        return message("publication.item", lang)
    if fld == "component":
        return message("publication.component", lang)
    return _label((version.header.get("dimensions") or {}).get(fld), fld, lang)


def _value_label(version: TableVersion, fld: str, value: str, lang: str) -> str:
    header = version.header
    if fld == "item":
        return _label((header.get("items") or {}).get(value), value, lang)
    if fld == "component":
        return _label((header.get("components") or {}).get(value), value, lang) if value else ""
    if value == WILDCARD:
        spec = (header.get("dimensions") or {}).get(fld) or {}
        return str(spec.get("wildcard_en" if lang == "en" else "wildcard_zh") or "—")
    return value


def _order(version: TableVersion, fld: str, values: Sequence[str]) -> list[str]:
    header = version.header
    declared: list[str] = []
    if fld == "item":
        declared = list(header.get("items") or {})
    elif fld == "component":
        declared = ["", *(header.get("components") or {})]
    else:
        declared = [WILDCARD, *((header.get("dimensions") or {}).get(fld, {}).get("values") or [])]
    rank = {v: i for i, v in enumerate(declared)}
    first = {v: i for i, v in enumerate(dict.fromkeys(values))}
    return sorted(set(values), key=lambda v: (rank.get(v, len(rank)), first[v]))


def _layout(version: TableVersion) -> tuple[list[str], list[str]]:
    layout = version.header.get("layout") or {}
    lines = version.values
    used = [d for d in version.dims if lines[d].ne(WILDCARD).any()]
    has_comp = lines["component"].ne("").any()
    rows = list(layout.get("rows") or ([*used, "item"] if has_comp else used or ["item"]))
    default_cols = ["component"] if has_comp else ["item"]
    cols = list(layout.get("columns") or [c for c in default_cols if c not in rows])
    return rows, cols


def build_publication(standards: StandardSet, ref: str, *, lang: str = "zh") -> Publication:
    """Lay out one table version for publication.

    Parameters
    ----------
    ref
        ``table-id`` (newest issued version, else newest draft) or ``table-id@version``.
    lang
        ``'zh'`` (Chinese title, headers and notes) or ``'en'``.
    """
    _check_lang(lang)
    version = standards.get(ref)
    lines = version.values
    rows, cols = _layout(version)
    row_keys = _keys(version, lines, rows)
    col_keys = _keys(version, lines, cols)
    cells: dict[tuple[tuple[str, ...], tuple[str, ...]], pd.Series] = {}
    for _, line in lines.iterrows():
        key = (tuple(line[f] for f in rows), tuple(line[f] for f in cols))
        if key in cells:
            msg = (
                f"{version.header_file}: [layout] rows {rows} and columns {cols} put two "
                f"lines in one cell ({line['standard_id']}); add the dimension that "
                "separates them to [layout]"
            )
            raise InputError(msg)
        cells[key] = line
    header, height = _header_cells(version, rows, cols, col_keys, lines, lang)
    body, marks = [], []
    for rk in row_keys:
        labels = [_value_label(version, f, v, lang) for f, v in zip(rows, rk, strict=True)]
        values = [cells.get((rk, ck)) for ck in col_keys]
        body.append([*labels, *[None if v is None else float(v["value"]) for v in values]])
        marks.append(
            [False] * len(rows) + [bool(v is not None and not v["verified"]) for v in values]
        )
    title = issued_title(
        str(
            version.header.get("title_en")
            if lang == "en" and version.header.get("title_en")
            else version.header["title"]
        ),
        version.status,
    )
    _add_ranges(version, header, height, body, marks, row_keys, rows, lang)
    n_columns = len(body[0]) if body else len(rows) + len(col_keys)
    return Publication(
        title=title,
        meta=_meta(version, standards, lang),
        header=header,
        header_height=height,
        n_label_columns=len(rows),
        n_columns=n_columns,
        body=body,
        unverified=marks,
        notes=_notes(version, lang),
        sheet_name=version.table_id[:31],
        lang=lang,
        lines=_long_lines(version, lang),
    )


DRAFT_MARKS = ("（测算草案）", "（草案）", " (derived draft)", " (draft)")


def issued_title(title: str, status: str) -> str:
    """A sealed (published) table's title without the draft mark it was derived with."""
    if status == "draft":
        return title
    for mark in DRAFT_MARKS:
        title = title.replace(mark, "")
    return title


def _add_ranges(
    version: TableVersion,
    header: list[HeaderCell],
    height: int,
    body: list[list[object]],
    marks: list[list[bool]],
    row_keys: list[tuple[str, ...]],
    rows: list[str],
    lang: str,
) -> None:
    """One value per row with a lower and upper bound: add the 合理区间 column."""
    lines = version.values
    if not {"lower", "upper"} <= set(lines) or lines[["lower", "upper"]].isna().all().all():
        return
    if any(len(r) != len(rows) + 1 for r in body):
        return
    texts = []
    for key in row_keys:
        mask = pd.Series(True, index=lines.index)
        for fld, value in zip(rows, key, strict=True):
            mask &= lines[fld].eq(value)
        line = lines[mask]
        low, high = (
            (line["lower"].iloc[0], line["upper"].iloc[0]) if len(line) == 1 else (None, None)
        )
        texts.append("" if pd.isna(low) or pd.isna(high) else f"{low:,.2f} – {high:,.2f}")
    if not any(texts):
        return
    joiner = message("publication.field_sep", lang)
    unit = joiner.join(dict.fromkeys(_units(lines["unit"], lang)))
    header.append(
        HeaderCell(
            message("publication.range", lang, unit=unit),
            0,
            len(rows) + 1,
            rowspan=height,
        )
    )
    for row, mark, text in zip(body, marks, texts, strict=True):
        row.append(text)
        mark.append(False)


def _keys(version: TableVersion, lines: pd.DataFrame, fields: list[str]) -> list[tuple[str, ...]]:
    present = list(dict.fromkeys(tuple(r) for r in lines[fields].itertuples(index=False)))
    ranks = [{v: i for i, v in enumerate(_order(version, f, lines[f].tolist()))} for f in fields]
    return sorted(
        present, key=lambda k: tuple((r[v], natural_key(v)) for r, v in zip(ranks, k, strict=True))
    )


def _header_cells(
    version: TableVersion,
    rows: list[str],
    cols: list[str],
    col_keys: list[tuple[str, ...]],
    lines: pd.DataFrame,
    lang: str,
) -> tuple[list[HeaderCell], int]:
    items = version.header.get("items") or {}
    group_key = "group_en" if lang == "en" else "group_zh"
    groups = [
        str((items.get(k[0]) or {}).get(group_key) or "") if cols[0] == "item" else ""
        for k in col_keys
    ]
    levels: list[list[str]] = []
    if any(groups):
        levels.append(groups)
    for i, fld in enumerate(cols):
        levels.append([_value_label(version, fld, k[i], lang) for k in col_keys])
    units, joiner = [], message("publication.field_sep", lang)
    for key in col_keys:
        mask = pd.Series(True, index=lines.index)
        for fld, value in zip(cols, key, strict=True):
            mask &= lines[fld].eq(value)
        units.append(joiner.join(dict.fromkeys(_units(lines.loc[mask, "unit"], lang))))
    levels.append(units)
    height, first = len(levels), len(rows)
    cells = [
        HeaderCell(_field_label(version, f, lang), 0, i, rowspan=height) for i, f in enumerate(rows)
    ]
    grouped = any(groups)
    for level, labels in enumerate(levels):
        c = 0
        while c < len(labels):
            if grouped and level == 0 and not labels[c]:  # ungrouped: its label spans down
                cells.append(HeaderCell(levels[1][c], 0, first + c, rowspan=2))
                c += 1
                continue
            if grouped and level == 1 and not groups[c]:
                c += 1
                continue
            end = c
            while (
                level < height - 1
                and end + 1 < len(labels)
                and labels[end + 1] == labels[c]
                and _same_parent(levels, level, c, end + 1)
                and not (grouped and not groups[end + 1])
            ):
                end += 1
            cells.append(HeaderCell(labels[c], level, first + c, colspan=end - c + 1))
            c = end + 1
    return cells, height


def _same_parent(levels: list[list[str]], level: int, a: int, b: int) -> bool:
    return all(levels[up][a] == levels[up][b] for up in range(level))


def _meta(version: TableVersion, standards: StandardSet, lang: str) -> list[str]:
    h, source = version.header, version.header.get("source") or {}
    first = []
    if source.get("document_no"):
        first.append(message("publication.document_no", lang, value=source["document_no"]))
    issuer = own_words(h["issuer"], lang) if derived(version) else h["issuer"]
    first.append(message("publication.issuer", lang, value=issuer))
    if h.get("jurisdiction"):
        first.append(message("publication.jurisdiction", lang, value=h["jurisdiction"]))
    row = standards.tables[
        (standards.tables["table_id"] == version.table_id)
        & (standards.tables["version"] == version.version)
    ].iloc[0]
    start = f"{row['effective_from']:%Y-%m-%d}"
    end = row["in_force_to"]
    period = (
        message("publication.period_open", lang, start=start)
        if pd.isna(end)
        else message("publication.period", lang, start=start, end=f"{end:%Y-%m-%d}")
    )
    status = code_label("standard_status", version.status, lang)
    second = [
        message("publication.effective", lang, period=period),
        message("publication.version", lang, version=version.version, status=status),
    ]
    if h.get("scope_econ_codes"):
        codes = message("publication.field_sep", lang).join(h["scope_econ_codes"])
        second.append(message("publication.econ", lang, codes=codes))
    kind = code_label("standard_kind", str(h["kind"]), lang)
    second.append(message("publication.kind", lang, kind=kind))
    gap = message("publication.gap", lang)
    return [gap.join(first), gap.join(second)]


def _rule_note(rule: Mapping[str, object], lang: str) -> str:
    label = str(rule.get("label_en" if lang == "en" else "label_zh") or "")
    note = str(rule.get("note_en" if lang == "en" else "note_zh") or "")
    sep, lsep = message("publication.sep", lang), message("list.semicolon", lang)
    body = ""
    if rule["type"] == "seasons":
        body = lsep.join(
            f"{k} {w['start']}—{w['end']}" for k, ws in rule["windows"].items() for w in ws
        )
    elif rule["type"] == "limit":
        bound = rule.get("max", rule.get("min"))
        body = f"{'≤' if 'max' in rule else '≥'} {bound:g} {unit_words(rule.get('unit', ''), lang)}".strip()
    elif rule["type"] == "bands":
        body = lsep.join(str(b["label"]) for b in rule["bands"])
    elif rule["type"] == "option" and isinstance(rule["value"], bool):
        body = code_label("boolean", rule["value"], lang)
    elif rule["type"] == "option" and not isinstance(rule["value"], Mapping):
        body = str(rule["value"])
    parts = [p for p in (f"{label}{sep}{body}" if body else label, note) if p]
    mark = f"（{UNVERIFIED_MARK}）" if rule.get("confidence") == "U" else ""
    return (lsep.join(parts) + mark) if parts else ""


def _notes(version: TableVersion, lang: str) -> list[str]:
    h, source = version.header, version.header.get("source") or {}
    notes = list(h.get("notes_en" if lang == "en" else "notes") or h.get("notes") or [])
    if version.status != "draft":  # a sealed draft: its notes no longer call it a draft
        notes = [
            n.replace("的草案", "")
            .replace("，未经发布", "，已发布")
            .replace("Draft derived", "Derived")
            .replace("; not issued", "; issued")
            for n in notes
        ]
    notes += [n for r in (h.get("rules") or {}).values() if (n := _rule_note(r, lang))]
    n_unverified = int((~version.values["verified"]).sum())
    if n_unverified:
        notes.append(message("publication.unverified", lang, mark=UNVERIFIED_MARK, n=n_unverified))
    if h.get("unverified"):
        shown = [code_label("standard_field", f, lang) for f in h["unverified"]]
        fields = message("publication.field_sep", lang).join(shown)
        notes.append(message("publication.unverified_meta", lang, fields=fields))
    if source.get("document"):
        doc = str(source["document"]) + (
            f"（{source['document_no']}）" if source.get("document_no") else ""
        )
        notes.append(message("publication.source", lang, document=doc))
    if source.get("method"):
        method = str(source["method"])
        if method.startswith("derive:"):  # the derivation rule, in words (once)
            rule = method.removeprefix("derive:")
            if not any(n.startswith(message("publication.method", lang, method="")) for n in notes):
                words = code_label("derive_rule", rule, lang)
                notes.append(message("publication.method", lang, method=words))
        else:
            notes.append(
                message("publication.method", lang, method=method)
                + (f"（{source['note']}）" if source.get("note") else "")
            )
        params = source.get("parameters") or {}
        if params and lang == "en":  # parameter names are code; the Chinese notes say the rule
            notes.append(
                message(
                    "publication.parameters",
                    lang,
                    parameters=", ".join(f"{k}={v}" for k, v in params.items()),
                )
            )
        if source.get("data_hash"):
            notes.append(message("publication.data_hash", lang, hash=source["data_hash"]))
    notes.append(message("publication.hash", lang, hash=version.content_hash))
    return notes


def _long_lines(version: TableVersion, lang: str) -> pd.DataFrame:
    cols = [*LONG_COLUMNS[:3], *version.dims, *LONG_COLUMNS[3:]]  # the cell after the item
    out = version.values[cols].copy()
    out["verified"] = out["verified"].map(lambda v: code_label("boolean", bool(v), lang))
    marks = code_label_map("confidence", lang)  # V / S / U: how the figure was read
    out["confidence"] = out["confidence"].map(lambda c: marks.get(str(c), c))
    kinds = code_label_map("standard_kind", lang)
    out["kind"] = out["kind"].map(lambda k: kinds.get(str(k), k))
    out["unit"] = _units(out["unit"], lang)
    if derived(version):  # costperf's own words: the line notes in lang
        out["note"] = out["note"].map(lambda n: own_words(n, lang))
    if lang == "en":
        items, comps = version.header.get("items") or {}, version.header.get("components") or {}
        out["item_zh"] = version.values["item"].map(lambda c: _label(items.get(c), c, "en"))
        out["component_zh"] = version.values["component"].map(
            lambda c: _label(comps.get(c), c, "en") if c else ""
        )
    names = {
        c: code_label("publication_column", c, lang)
        if c in LONG_COLUMNS
        else _field_label(version, c, lang)
        for c in cols
    }
    return out.rename(columns=names)


def _units(units: pd.Series, lang: str) -> list[str]:
    """The units of a table's lines in ``lang`` (:func:`unit_words`)."""
    return [unit_words(u, lang) for u in units]


# ---- drawing ------------------------------------------------------------------------


def _number_format(places: int, unverified: bool) -> str:
    base = "#,##0" + ("." + "0" * places if places else "")
    return base + (f'"{UNVERIFIED_MARK}"' if unverified else "")


def write_workbook(pub: Publication, path: str | Path) -> Path:
    """Write the publication as an .xlsx workbook (xlsxwriter, as every workbook of
    costperf), atomically.

    Sheet 1: title, document line, grouped header rows, units, values (unverified ones
    marked ``※`` by number format, still numbers), notes; panes frozen below the
    header and right of the row labels.  Sheet 2: the value lines in long form.
    """
    import xlsxwriter

    from costperf.io import atomic_path
    from costperf.io.write import XLSXWRITER_OPTIONS
    from costperf.io.write import neutralise_text as text

    path = Path(path)
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(str(tmp), XLSXWRITER_OPTIONS)  # strings stay strings
        _write_table_sheet(book, pub, text)
        _write_lines_sheet(book, pub, text)
        book.close()
    return path


def _write_table_sheet(book, pub: Publication, text) -> None:  # noqa: ANN001 - xlsxwriter
    sheet = book.add_worksheet(pub.sheet_name)
    ncol, last = pub.n_columns, pub.n_columns - 1
    box = {"border": 1, "border_color": "#808080"}
    title = book.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
    left = book.add_format({"align": "left"})
    head = book.add_format(
        {**box, "bold": True, "bg_color": "#DDE4EE", "align": "center", "valign": "vcenter"}
        | {"text_wrap": True}
    )
    label = book.add_format(box)
    spanned = book.add_format({**box, "valign": "vcenter"})
    numbers: dict[tuple[int, bool], object] = {}

    def number(places: int, mark: bool) -> object:
        if (places, mark) not in numbers:
            style = {**box, "align": "right", "num_format": _number_format(places, mark)}
            numbers[places, mark] = book.add_format(style)
        return numbers[places, mark]

    def across(row: int, value: str, style: object) -> None:  # one row over every column
        if last > 0:
            sheet.merge_range(row, 0, row, last, value, style)
        else:
            sheet.write_string(row, 0, value, style)

    across(0, text(pub.title), title)
    sheet.set_row(0, 30)
    for i, line in enumerate(pub.meta, start=1):
        across(i, text(line), left)
    top = 1 + len(pub.meta)  # 0-based row of the header block
    covered = set()
    for cell in pub.header:
        row, col = top + cell.row, cell.col
        if cell.rowspan > 1 or cell.colspan > 1:
            end_row, end_col = row + cell.rowspan - 1, col + cell.colspan - 1
            sheet.merge_range(row, col, end_row, end_col, text(cell.text), head)
            covered |= {(r, c) for r in range(row, end_row + 1) for c in range(col, end_col + 1)}
        else:
            sheet.write_string(row, col, text(cell.text), head)
            covered.add((row, col))
    for r in range(top, top + pub.header_height):
        for c in range(ncol):
            if (r, c) not in covered:
                sheet.write_blank(r, c, None, head)
    first_row = top + pub.header_height
    places = column_decimals(pub)
    spans = row_spans(pub)
    for i, (values, marks) in enumerate(zip(pub.body, pub.unverified, strict=True)):
        for j, (value, mark) in enumerate(zip(values, marks, strict=True)):
            span = spans.get((i, j), 1)
            if span == 0:  # under a merged label
                continue
            row = first_row + i
            if span > 1:
                sheet.merge_range(row, j, row + span - 1, j, text(value), spanned)
            elif j >= pub.n_label_columns and isinstance(value, int | float):
                sheet.write_number(row, j, value, number(places.get(j, 0), mark))
            elif value is None or (isinstance(value, float) and pd.isna(value)):
                sheet.write_blank(row, j, None, label)
            elif isinstance(value, int | float):
                sheet.write_number(row, j, value, label)
            else:
                sheet.write_string(row, j, str(text(value)), label)
    notes_row = first_row + len(pub.body) + 1
    heading = message("publication.notes", pub.lang) + message("publication.sep", pub.lang)
    sheet.write_string(notes_row, 0, heading, book.add_format({"bold": True}))
    wrapped = book.add_format({"text_wrap": True, "valign": "top"})
    total = sum(max(10, text_width(str(h.text))) for h in pub.header) or 60
    for k, note in enumerate(pub.notes, start=1):
        across(notes_row + k, text(f"{k}. {note}"), wrapped)
        sheet.set_row(notes_row + k, 15 * max(1, -(-text_width(str(note)) // max(total, 60))))
    sheet.freeze_panes(first_row, pub.n_label_columns)
    for c in range(ncol):
        texts = [h.text for h in pub.header if h.col == c and h.colspan == 1]
        texts += [row[c] for row in pub.body if c < pub.n_label_columns]
        sheet.set_column(c, c, min(max([text_width(str(t)) for t in texts] + [10]) + 2, 40))
    sheet.repeat_rows(top, first_row - 1)


def _write_lines_sheet(book, pub: Publication, text) -> None:  # noqa: ANN001 - xlsxwriter
    sheet = book.add_worksheet(message("publication.lines", pub.lang))
    bold = book.add_format({"bold": True})
    for j, column in enumerate(pub.lines.columns):
        sheet.write_string(0, j, str(text(column)), bold)
    for i, row in enumerate(pub.lines.itertuples(index=False), start=1):
        for j, value in enumerate(row):
            if value is None or value == "" or (isinstance(value, float) and pd.isna(value)):
                continue
            if isinstance(value, bool | np.bool_):
                sheet.write_boolean(i, j, bool(value))
            elif isinstance(value, int | float | np.integer | np.floating):
                sheet.write_number(i, j, float(value))
            else:
                sheet.write_string(i, j, str(text(value)))
    sheet.freeze_panes(1, 1)
    for j, col in enumerate(pub.lines.columns):
        width = max([text_width(str(col)), *(text_width(str(v)) for v in pub.lines.iloc[:, j])]) + 2
        sheet.set_column(j, j, min(width, 60))


def row_spans(pub: Publication) -> dict[tuple[int, int], int]:
    """Vertical merges of repeated row labels: ``(row, col) -> span`` (0 = covered).

    Only label columns before the last merge, and only under the same outer labels.
    """
    spans: dict[tuple[int, int], int] = {}
    for j in range(pub.n_label_columns - 1):
        i = 0
        while i < len(pub.body):
            end = i
            while end + 1 < len(pub.body) and all(
                pub.body[end + 1][k] == pub.body[i][k] for k in range(j + 1)
            ):
                end += 1
            spans[(i, j)] = end - i + 1
            for k in range(i + 1, end + 1):
                spans[(k, j)] = 0
            i = end + 1
    return spans


def column_decimals(pub: Publication) -> dict[int, int]:
    """Decimal places per value column: as many as its most precise value needs (<= 4),
    so a column reads 16.49, 10.80, 7.85 rather than 10.8."""
    places: dict[int, int] = {}
    for row in pub.body:
        for j, value in enumerate(row):
            if j < pub.n_label_columns or not isinstance(value, int | float):
                continue
            text = f"{float(value):.4f}".rstrip("0")
            places[j] = max(places.get(j, 0), len(text.split(".")[1]))
    return places


_CSS = (
    f"body {{ font-family: {FONT_STACK}; margin: 2em; color: #222; }}"
    """
h1 { font-size: 1.5em; text-align: center; margin-bottom: .3em; }
p.meta { text-align: center; margin: .2em 0; color: #444; }
table { border-collapse: collapse; margin: 1em auto; }
th, td { border: 1px solid #808080; padding: .3em .7em; }
th { background: #dde4ee; text-align: center; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.unverified { color: #a0522d; }
ol.notes { max-width: 60em; margin: 1em auto; font-size: .92em; }
@media print { @page { size: A4; margin: 15mm; } body { margin: 0; }
  table { page-break-inside: auto; } tr { page-break-inside: avoid; } }
"""
)


def render_html(pub: Publication, *, embed: bool = True) -> str:
    """The publication as one self-contained UTF-8 HTML page (inline CSS, the subset
    CJK font embedded, no other assets)."""
    esc = html.escape
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if pub.lang == "zh" else "en"}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(pub.title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{esc(pub.title)}</h1>",
    ]
    out += [f'<p class="meta">{esc(line)}</p>' for line in pub.meta]
    out.append("<table>")
    out.append("<thead>")
    for r in range(pub.header_height):
        cells = sorted((c for c in pub.header if c.row == r), key=lambda c: c.col)
        row = "".join(
            f"<th{_span('rowspan', c.rowspan)}{_span('colspan', c.colspan)}>"
            f"{esc(pretty_units(c.text))}</th>"
            for c in cells
        )
        out.append(f"<tr>{row}</tr>")
    out.append("</thead>")
    out.append("<tbody>")
    spans = row_spans(pub)
    places = column_decimals(pub)
    for i, (values, marks) in enumerate(zip(pub.body, pub.unverified, strict=True)):
        cells = []
        for j, (value, mark) in enumerate(zip(values, marks, strict=True)):
            span = spans.get((i, j), 1)
            if j < pub.n_label_columns and span == 0:
                continue
            if j < pub.n_label_columns:
                cells.append(f'<th scope="row"{_span("rowspan", span)}>{esc(str(value))}</th>')
            elif value is None:
                cells.append("<td></td>")
            elif isinstance(value, str):
                cells.append(f'<td class="num">{esc(value)}</td>')
            else:
                cls = "num unverified" if mark else "num"
                shown = f"{value:,.{places[j]}f}" + (UNVERIFIED_MARK if mark else "")
                title = ' title="unverified"' if mark else ""
                cells.append(f'<td class="{cls}"{title}>{esc(shown)}</td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody>")
    out.append("</table>")
    out.append(f"<h2>{esc(message('publication.notes', pub.lang))}</h2>")
    out.append('<ol class="notes">' + "".join(f"<li>{esc(n)}</li>" for n in pub.notes) + "</ol>")
    out += ["</body>", "</html>"]
    page = "\n".join(out) + "\n"
    return embed_font(page) if embed else page  # the page's characters, from Noto Sans CJK


def _span(name: str, n: int) -> str:
    return f' {name}="{n}"' if n > 1 else ""


def write_html(pub: Publication, path: str | Path, *, embed: bool = True) -> Path:
    """Write :func:`render_html` to ``path`` (UTF-8), atomically."""
    from costperf.io import write_text

    path = Path(path)
    write_text(render_html(pub, embed=embed), path)
    return path


def publish_table(
    standards: StandardSet,
    ref: str,
    path: str | Path,
    *,
    fmt: str | None = None,
    lang: str = "zh",
    embed: bool = True,
) -> Path:
    """Publish table ``ref`` to ``path`` as ``xlsx`` or ``html`` (default: by suffix);
    ``embed=False`` leaves the font out of the page (a caller embedding one subset in
    several pages, :func:`costperf.report.webfont.embed_fonts`)."""
    fmt = (fmt or Path(path).suffix.lstrip(".")).lower()
    if fmt in ("htm", "html"):
        return write_html(build_publication(standards, ref, lang=lang), path, embed=embed)
    if fmt == "xlsx":
        return write_workbook(build_publication(standards, ref, lang=lang), path)
    msg = f"--format {fmt!r}: use xlsx or html"
    raise InputError(msg)
