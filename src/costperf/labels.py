"""The label table of everything shown to users (``labels.csv``), read without pandas.

Each row is ``kind, code, label_zh, label_en``: the words of a code (a decision, a rule,
a check), a message template (kind ``message``), a help text (kind ``help``) and so on.
The command line reads it before any pandas is imported (``costperf --version`` and
``--help`` stay quick); :mod:`costperf.columns` re-exports these functions and keeps the
pandas view of the same table (:func:`costperf.columns.code_labels`).
"""

from __future__ import annotations

import csv
import re
import string
from collections.abc import Callable
from functools import cache
from importlib import resources
from itertools import repeat, starmap


@cache
def label_rows() -> dict[str, dict[str, tuple[str, str]]]:
    """kind -> code -> (label_zh, label_en), in the file's order."""
    rows: dict[str, dict[str, tuple[str, str]]] = {}
    with resources.files("costperf").joinpath("labels.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            kind, code = row["kind"] or "", row["code"] or ""
            rows.setdefault(kind, {})[code] = (row["label_zh"] or "", row["label_en"] or "")
    return rows


def code_label(kind: str, code: object, lang: str = "zh") -> str:
    """Display label of a code (e.g. kind ``check``, code ``not_a_number``): the code
    itself when the table has none."""
    return code_label_map(kind, lang).get(str(code), str(code))


@cache
def code_label_map(kind: str, lang: str = "zh") -> dict[str, str]:
    """Every code of ``kind`` -> its label (for mapping whole columns at once)."""
    column = 0 if lang == "zh" else 1
    return {code: (texts[column] or code) for code, texts in label_rows().get(kind, {}).items()}


class MessageError(LookupError):
    """A message code that ``labels.csv`` (kind ``message``) does not hold."""


def message(code: str, lang: str = "zh", /, **values: object) -> str:
    """A user-facing message: the template of ``code`` (labels.csv, kind ``message``)
    in ``lang`` filled with ``values`` by name, e.g.
    ``message("run.records", "en", run_id="r1", path="x")`` -> ``'Records: run r1 -> x'``.

    Templates come only from the package's own table and use ``str.format_map`` with a
    plain dict, so inserted values are formatted, never evaluated.  An unknown code, or a
    template that names a value not given, raises :class:`MessageError`.  English count
    nouns after a 1 read singular ("1 persons" -> "1 person").
    """
    text = filled(code, lang, **values)
    return text if lang == "zh" else _SINGULAR_AFTER_ONE.sub(_singular, text)


def filled(code: str, lang: str = "zh", /, **values: object) -> str:
    """The template of message ``code`` filled with ``values`` exactly as given (no
    plural rule: a problem's place quotes the user's sheet and column names as written)."""
    template = _template(code, lang)
    try:
        return template.format_map(values)
    except KeyError as missing:
        msg = f"message {code!r} needs the value {missing.args[0]!r} (given: {sorted(values)})"
        raise MessageError(msg) from None


def message_rows(code: str, lang: str = "zh", /, **values: object) -> list[str]:
    """:func:`message` for many rows at once, the template looked up and parsed once.

    Each value is a list, a numpy array or a pandas Series (one item a row, all of one
    length) or one value for every row; the template's format specs apply to each row's
    item, e.g. ``message_rows("benchmark.reason.super", "en", s=[1.5, 2.0],
    threshold=1.2)`` -> ``['super-efficiency 1.500 > 1.2', 'super-efficiency 2.000 >
    1.2']``, the texts :func:`message` gives row by row.  With no list among the values,
    no row: an empty list.
    """
    rows = {}
    for name, value in values.items():
        items = value.tolist() if hasattr(value, "tolist") else value
        if isinstance(items, list | tuple):
            rows[name] = items
    if len({len(items) for items in rows.values()}) > 1:
        shown = ", ".join(f"{name}: {len(items)}" for name, items in rows.items())
        msg = f"message {code!r}: the values' rows differ in number ({shown})"
        raise MessageError(msg)
    fill = _positional(code, "zh" if lang == "zh" else "en", tuple(values))
    args = [rows[name] if name in rows else repeat(value) for name, value in values.items()]
    texts = list(starmap(fill, zip(*args, strict=False))) if rows else []  # repeat() is endless
    if lang == "zh":
        return texts
    one = _SINGULAR_AFTER_ONE.sub
    return [one(_singular, text) if "1 " in text else text for text in texts]


@cache
def _positional(code: str, lang: str, names: tuple[str, ...]) -> Callable[..., str]:
    """The template of ``code`` as a ``str.format`` taking the values of ``names`` by
    position (for :func:`message_rows`: one C-level format a row)."""
    parts = []
    for literal, field, spec, conversion in string.Formatter().parse(_template(code, lang)):
        parts.append(literal.replace("{", "{{").replace("}", "}}"))
        if field is None:
            continue
        name = re.match(r"[^.\[]*", field).group()
        if name not in names:
            msg = f"message {code!r} needs the value {name!r} (given: {sorted(names)})"
            raise MessageError(msg)
        parts.append(
            "{"
            + str(names.index(name))
            + field[len(name) :]
            + (f"!{conversion}" if conversion else "")
            + (f":{spec}" if spec else "")
            + "}"
        )
    return "".join(parts).format


def _template(code: str, lang: str) -> str:
    template = code_label_map("message", "zh" if lang == "zh" else "en").get(code)
    if template is None:
        msg = f"labels.csv has no message {code!r} (add a row: message,{code},<zh>,<en>)"
        raise MessageError(msg)
    return template


def error_text(template: str, /, **values: object) -> str:
    """An input error's message (English, as raised): ``template``, the code of its
    labels.csv row of kind ``error``, filled with ``values`` by name, e.g.
    ``error_text("{value}: expected DIM=VALUE (e.g. city=大连)", value="'x'")``.

    For a message that holds words of the user's language (an example value): the
    row gives both its English and, under ``--lang zh``, its Chinese
    (:func:`costperf.errors.chinese_summary` matches the English to the row). A
    template without its row raises :class:`MessageError`.
    """
    texts = label_rows().get("error", {}).get(template)
    if texts is None:
        msg = f"labels.csv has no error {template!r} (add a row: error,{template},<zh>,<en>)"
        raise MessageError(msg)
    try:
        return (texts[1] or template).format_map(values)
    except KeyError as missing:
        msg = f"error {template!r} needs the value {missing.args[0]!r} (given: {sorted(values)})"
        raise MessageError(msg) from None


def unit_words(unit: object, lang: str) -> str:
    """A standard's unit in ``lang``: the units of the shipped tables by labels.csv (kind
    ``standard_unit``: ``元/人·天`` is ``yuan/person-day``), another ``元/<unit>`` (a
    derived table's, ``元/m2``) as ``run.unit`` (``yuan/m2``: the output unit is the
    case's own); any other unit as the table states it."""
    text = "" if unit is None else str(unit)
    if lang == "zh" or not text:
        return text
    known = code_label_map("standard_unit", lang)
    if text in known:
        return known[text]
    if text.startswith("元/"):
        return message("run.unit", lang, unit=text.removeprefix("元/"))
    return text


#: English count nouns of the messages: "1 persons" reads "1 person" (also used by
#: :func:`costperf.columns.message_column`, row by row)
PLURALS = {
    "persons": "person",
    "attendees": "attendee",
    "nights": "night",
    "days": "day",
    "chargeable days": "chargeable day",
    "half-days": "half-day",
    "hours": "hour",
    "lines": "line",
    "rows": "row",
    "projects": "project",
    "items": "item",
    "departments": "department",
    "charts": "chart",
}
_PLURAL_WORDS = "|".join(re.escape(w) for w in sorted(PLURALS, key=len, reverse=True))
_SINGULAR_AFTER_ONE = re.compile(rf"(?<![\d.,])\b1 ({_PLURAL_WORDS})\b")
LEADING_PLURAL = re.compile(rf" ({_PLURAL_WORDS})\b")


def _singular(found: re.Match) -> str:
    return f"1 {PLURALS[found.group(1)]}"


__all__ = [
    "MessageError",
    "code_label",
    "code_label_map",
    "error_text",
    "label_rows",
    "message",
    "message_rows",
    "unit_words",
]
