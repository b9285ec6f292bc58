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
from functools import cache
from importlib import resources


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
    template = code_label_map("message", "zh" if lang == "zh" else "en").get(code)
    if template is None:
        msg = f"labels.csv has no message {code!r} (add a row: message,{code},<zh>,<en>)"
        raise MessageError(msg)
    try:
        return template.format_map(values)
    except KeyError as missing:
        msg = f"message {code!r} needs the value {missing.args[0]!r} (given: {sorted(values)})"
        raise MessageError(msg) from None


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
    "projects": "project",
    "items": "item",
}
_PLURAL_WORDS = "|".join(re.escape(w) for w in sorted(PLURALS, key=len, reverse=True))
_SINGULAR_AFTER_ONE = re.compile(rf"(?<![\d.,])\b1 ({_PLURAL_WORDS})\b")
LEADING_PLURAL = re.compile(rf" ({_PLURAL_WORDS})\b")


def _singular(found: re.Match) -> str:
    return f"1 {PLURALS[found.group(1)]}"


__all__ = ["MessageError", "code_label", "code_label_map", "label_rows", "message"]
