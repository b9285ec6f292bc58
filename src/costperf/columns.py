"""The one place that defines every canonical column (``columns.csv``).

Readers map Chinese or English headers (and listed aliases) to canonical names once, at
load time; writers map canonical names to display labels just before writing
(:func:`to_display`).  The core never sees Chinese column names.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from costperf.labels import (  # noqa: F401 - re-exported: the label table without pandas
    LEADING_PLURAL,
    PLURALS,
    MessageError,
    code_label,
    code_label_map,
    error_text,
    message,
)

#: the default text dtype (``str``: Arrow storage, NaN for missing)
TEXT_DTYPE = pd.StringDtype(storage="pyarrow", na_value=np.nan)


def texts_of_codes(codes: np.ndarray, texts: list[str], index: pd.Index) -> pd.Series:
    """``texts[codes]`` as a ``str`` column over ``index``: what a frame makes of
    ``np.select`` over constant texts, in one Arrow take of the few texts (not a
    conversion of a text per row)."""
    taken = pd.array(texts, dtype=TEXT_DTYPE).take(np.asarray(codes, dtype=np.intp))
    return pd.Series(taken, index=index, copy=False)


def isin_texts(values: pd.Series | pd.Index, candidates: object) -> np.ndarray:
    """``values.isin(candidates)`` as a boolean array; a ``str`` column without blanks
    is matched through an object view (Arrow's ``isin`` converts the candidates one by
    one: ~3 µs each, a fifth of a second for the ids of 50,000 projects)."""
    if values.dtype == TEXT_DTYPE and not values.isna().any():
        wanted = np.empty(len(candidates), dtype=object)  # type: ignore[arg-type]
        wanted[:] = list(candidates)  # type: ignore[call-overload]
        return pd.Index(values.to_numpy(dtype=object), dtype=object).isin(wanted)
    return np.asarray(values.isin(candidates))


#: unit words in a header that scale amounts to yuan, e.g. "金额（万元）".
UNIT_SCALES = {"元": 1.0, "yuan": 1.0, "万元": 1e4, "10k yuan": 1e4, "千元": 1e3, "亿元": 1e8}


@cache
def column_table() -> pd.DataFrame:
    """Return the canonical column table (name, dtype, unit, label_zh, label_en, ...)."""
    with resources.files("costperf").joinpath("columns.csv").open(encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype=str, keep_default_na=False)
    return table.set_index("name", drop=False)


@cache
def column_attribute(attribute: str) -> dict[str, str]:
    """One attribute of ``columns.csv`` (``dtype``, ``unit`` ...) by canonical column name:
    a dict, for the checks and formats that ask column by column."""
    table = column_table()
    return dict(zip(table.index, table[attribute], strict=True))


def normalise_header(text: object) -> str:
    """Normalise a header for matching: NFKC, no spaces/underscores, lower case.

    NFKC folds full-width brackets and letters (``（元）`` -> ``(元)``).
    """
    folded = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return re.sub(r"[\s_\-·*]+", "", folded)


_UNIT_SUFFIX = re.compile(r"^(?P<base>.*?)\s*[(\[](?P<unit>[^()\[\]]*)[)\]]\s*$")


def split_unit(header: str) -> tuple[str, str]:
    """Split ``'金额（万元）'`` into ``('金额', '万元')``; no unit gives ``(header, '')``."""
    folded = unicodedata.normalize("NFKC", str(header)).strip()
    match = _UNIT_SUFFIX.match(folded)
    if not match:
        return folded, ""
    return match.group("base"), match.group("unit").strip()


@cache
def header_lookup() -> dict[str, str]:
    """Map every accepted (normalised) header spelling to its canonical name.

    Precedence, when two columns share a spelling: a canonical name, then a Chinese
    label, then an English label, then an alias (earlier rows first within each).
    """
    lookup: dict[str, str] = {}
    rows = list(column_table().itertuples(index=False))
    passes = (
        lambda r: [r.name],
        lambda r: [r.label_zh],
        lambda r: [r.label_en],
        lambda r: r.aliases.split(";"),
    )
    for spellings_of in passes:
        for row in rows:
            for spelling in spellings_of(row):
                if spelling:
                    lookup.setdefault(normalise_header(spelling), row.name)
    return lookup


def canonical_name(header: object) -> tuple[str | None, float]:
    """Return the canonical name for a header and the yuan scale its unit implies.

    ``'金额（万元）'`` -> ``('amount', 10000.0)``; an unknown header gives ``(None, 1.0)``.
    """
    lookup = header_lookup()
    whole = normalise_header(header)
    if whole in lookup:
        return lookup[whole], 1.0
    base, unit = split_unit(str(header))
    name = lookup.get(normalise_header(base))
    if name is None:
        return None, 1.0
    return name, UNIT_SCALES.get(unit.lower(), 1.0)


def label(name: str, lang: str = "zh") -> str:
    """Display label of a canonical column (falls back to the name itself)."""
    text = column_attribute("label_zh" if lang == "zh" else "label_en").get(name)
    return text or name


def to_display(frame: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """Rename canonical columns to display labels (``lang`` 'zh' or 'en') for writing."""
    return frame.rename(columns={c: label(c, lang) for c in frame.columns})


_ZH_DIGITS = {
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}


def natural_key(value: object) -> tuple:
    """Sort key that orders '一级' < '二级' < '十级' and 'grade 2' < 'grade 10'."""
    text = str(value)
    parts = re.split(r"(\d+|[一二三四五六七八九十])", text)
    return tuple(
        (0, int(p)) if p.isdigit() else (0, _ZH_DIGITS[p]) if p in _ZH_DIGITS else (1, p)
        for p in parts
        if p
    )


def sort_natural(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Sort ``frame`` by ``columns`` with :func:`natural_key` (stable)."""
    if not columns:
        return frame
    return frame.sort_values(columns, key=lambda s: s.map(natural_key), kind="stable")


@cache
def code_labels() -> pd.DataFrame:
    """The label table of codes shown to users (``labels.csv``: kind, code, zh, en)."""
    with resources.files("costperf").joinpath("labels.csv").open(encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype=str, keep_default_na=False)
    return table.set_index(["kind", "code"])


#: placeholders of the ``expected`` templates that hold a number (and nothing else)
_NUMERIC_FIELDS = frozenset({"n", "low", "high", "row", "got", "share", "pct"})
_NUMBER = r"[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?"
#: placeholders that hold one kind of text only (a date is a date, not a paragraph)
_FIELD_PATTERNS = {"date": r"\d{4}-\d{2}-\d{2}"}


def _field_pattern(name: str) -> str:
    if name in _FIELD_PATTERNS:
        return _FIELD_PATTERNS[name]
    return _NUMBER if name in _NUMERIC_FIELDS else ".+?"


#: the kinds of labels.csv whose codes are English text patterns: a problem's
#: ``expected`` text, and an error's whole message (kind ``error``)
_TEXT_TEMPLATE_KINDS = ("expected", "error")


@cache
def _expected_templates(lang: str) -> tuple[tuple[str, str, str], ...]:
    """The text templates of labels.csv (kinds ``expected`` and ``error``), most
    specific (most literal text) first: (literal prefix, pattern source, translation)."""
    table = code_labels()
    kinds = table.index.get_level_values("kind")
    column = "label_zh" if lang == "zh" else "label_en"
    pairs = [
        (code, text)
        for kind in _TEXT_TEMPLATE_KINDS
        if kind in kinds
        for code, text in table.xs(kind, level="kind")[column].items()
    ]
    found = []
    for code, text in pairs:
        parts = re.split(r"\{(\w+)\}", str(code))
        literal = "".join(parts[::2])
        pattern = "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>{_field_pattern(part)})"
            for i, part in enumerate(parts)
        )
        found.append((len(literal), parts[0], pattern, text or str(code)))
    found.sort(key=lambda t: -t[0])
    return tuple((prefix, pattern, text) for _, prefix, pattern, text in found)


@cache
def _compiled(pattern: str) -> re.Pattern:
    """A template's pattern, compiled when a text first starts with its prefix (most of
    some 500 templates are never needed in a run: compiling them all took 0.1 s)."""
    return re.compile(pattern, re.S)


def expected_label(text: object, lang: str = "zh") -> str | None:
    """A problem's ``expected`` text, or an error's message, in ``lang``: the English
    text as it is for ``en``; else the translation of the labels.csv template (kind
    ``expected`` or ``error``) it fills, or None when no template matches (the caller
    keeps the English)."""
    text = "" if text is None else str(text)
    if lang == "en" or not text:
        return text
    found = _fill_template(text, lang)
    if found is None:  # "where: what" (a case.toml section or a path): the what alone
        where, sep, rest = text.partition(": ")
        plain = where.startswith("[") or not re.search(r"\s", where)
        named = where if plain else _place_label(where, lang)  # "hw-uc on 2027-01-01"
        if sep and rest and (plain or named != where):
            inner = _fill_template(rest, lang)
            if inner is not None:
                found = f"{named}：{inner}" if lang == "zh" else f"{named}: {inner}"
    if found is None:  # "what (why; why)": e.g. a lookup's statuses after what it wanted
        found = _with_reasons(text, lang)
    return found


def _with_reasons(text: str, lang: str) -> str | None:
    """``head (a; b)`` translated part by part: the head and each ``;``-joined reason
    in the closing parentheses must each fill a template (None otherwise)."""
    if not text.endswith(")"):
        return None
    depth = 0
    for i in range(len(text) - 1, -1, -1):  # the "(" that the final ")" closes
        depth += {")": 1, "(": -1}.get(text[i], 0)
        if depth == 0:
            break
    head, inner = text[:i].rstrip(), text[i + 1 : -1]
    if depth or not head or not inner:
        return None
    parts = [_fill_template(head, lang)] + [_fill_template(r, lang) for r in inner.split("; ")]
    if any(p is None for p in parts):
        return None
    joiner, opening, closing = ("；", "（", "）") if lang == "zh" else ("; ", " (", ")")
    return f"{parts[0]}{opening}{joiner.join(parts[1:])}{closing}"


#: a schema's table as named in a message: its Chinese name, then its own in brackets
_TABLE_NAMED = re.compile(r"(.*[^\x00-\x7f].*?) \([\x20-\x7e]+\)")


def _fill_template(text: str, lang: str) -> str | None:
    """The first labels.csv text template ``text`` fills, in ``lang`` (None: none)."""
    for prefix, pattern, template in _expected_templates(lang):
        if text.startswith(prefix):
            found = _compiled(pattern).fullmatch(text)
            if found:
                values = found.groupdict()
                if "fields" in values:  # canonical column names: their labels
                    names = values["fields"].split(" + ")
                    values["fields"] = " + ".join(label(n, lang) for n in names)
                if "item" in values:  # a standard's item code (desk): its label (办公桌)
                    from costperf.standards.tables import item_labels

                    named = item_labels().get(values["item"])
                    values["item"] = named[0 if lang == "zh" else 1] if named else values["item"]
                if "kind" in values:  # an expense kind code: its label
                    values["kind"] = code_label("expense_kind", values["kind"], lang)
                if "reasons" in values:  # "P1: why；P2: why": each why in lang
                    values["reasons"] = "；".join(
                        _with_own_words(part, lang) for part in values["reasons"].split("；")
                    )
                if "reason" in values:  # a library's own words, e.g. SQLite's
                    values["reason"] = code_label("library_reason", values["reason"], lang)
                if "part" in values:  # a part of the data, e.g. a DEA model's inputs
                    values["part"] = code_label("problem_part", values["part"], lang)
                if "sheets" in values and lang == "zh":  # a book's sheet names, listed
                    values["sheets"] = "、".join(values["sheets"].split(", "))
                if "schema" in values and lang == "zh":  # "项目 (projects)": 项目表
                    named = _TABLE_NAMED.fullmatch(values["schema"])
                    values["schema"] = (
                        message("problems.schema_table", "zh", name=named.group(1))
                        if named
                        else f"{values['schema']} "
                    )
                for key in ("where", "what"):  # e.g. "derive options (given instead of ...)"
                    if key in values:
                        values[key] = _place_label(values[key], lang)
                if "type" in values:  # a case.toml value type, e.g. "text or a table"
                    types = values["type"].split(" or ")
                    joiner = message("list.or", lang)
                    values["type"] = joiner.join(code_label("value_type", t, lang) for t in types)
                return template.format(**values)
    return None


def _with_own_words(part: str, lang: str) -> str:
    """``id: why`` with the why translated where a template fits (else as it is)."""
    head, sep, why = part.partition(": ")
    found = _fill_template(why, lang) if sep else None
    return f"{head}：{found}" if found is not None and lang == "zh" else part


@cache
def _place_templates(lang: str) -> tuple[tuple[re.Pattern, str], ...]:
    """labels.csv's ``place`` templates: where a message's problem lies, in words."""
    table = code_labels()
    if "place" not in table.index.get_level_values("kind"):
        return ()
    column = "label_zh" if lang == "zh" else "label_en"
    found = []
    for code, text in table.xs("place", level="kind")[column].items():
        parts = re.split(r"\{(\w+)\}", str(code))
        pattern = "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)
        )
        found.append((len("".join(parts[::2])), re.compile(pattern + "(?=$|: )", re.S), text))
    found.sort(key=lambda t: -t[0])
    return tuple((pattern, text) for _, pattern, text in found)


def _place_label(value: str, lang: str) -> str:
    """A message's place (``derive options (given instead of [standard] in case.toml)``,
    maybe followed by ``: key``) in ``lang``; the value as it is when no template fits."""
    for pattern, template in _place_templates(lang):
        found = pattern.match(value)
        if found:
            rest = value[found.end() :]
            if rest.startswith(": ") and lang == "zh":
                rest = "：" + rest[2:]
            return template.format(**found.groupdict()) + rest
    return value


def _count_noun(literal: str, value: object) -> object:
    """``literal`` after an inserted ``value``: its leading count noun singular where the
    value is "1" (one ``str``, or a Series row by row)."""
    found = LEADING_PLURAL.match(literal)
    if found is None:
        return literal
    one = literal[: found.start(1)] + PLURALS[found.group(1)] + literal[found.end(1) :]
    if isinstance(value, str):
        return one if value.strip() == "1" else literal
    is_one = value.astype(object).eq("1").to_numpy()
    if not is_one.any():
        return literal
    return pd.Series(np.where(is_one, one, literal), index=value.index, dtype=object)


@cache
def _message_parts(code: str, lang: str) -> tuple[tuple[str, str | None], ...]:
    """The template of ``code`` parsed once: ``(literal, field name or None)`` pairs.

    For :func:`message_column`, whose fields are plain names only: a format spec, a
    conversion, an index or an attribute raises :class:`MessageError`.
    """
    template = code_label_map("message", lang).get(code)
    if template is None:
        msg = f"labels.csv has no message {code!r} (add a row: message,{code},<zh>,<en>)"
        raise MessageError(msg)
    parts = []
    for literal, name, spec, conversion in string.Formatter().parse(template):
        if name is not None and (spec or conversion or not name.isidentifier()):
            shown = (
                "{"
                + name
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "")
                + "}"
            )
            msg = (
                f"message {code!r} ({lang}) fills whole columns: its field {shown} must be a "
                "plain {name} (format the values before, e.g. with format_amounts)"
            )
            raise MessageError(msg)
        parts.append((literal, name))
    return tuple(parts)


def message_column(code: str, lang: str, index: pd.Index, /, **values: object) -> pd.Series:
    """:func:`message` for whole columns: the template of ``code`` filled row by row.

    Each value is a Series of text aligned to ``index`` (the same labels) or one ``str``
    for every row; the result is an object Series over ``index``, the one the Series
    additions of a hand-written ``"申报 " + amount + " 元"`` give (a missing value gives
    a missing text; ``str`` values give ``str``), built with one ``%`` format a row or
    one Arrow join (:func:`_fill_arrays`).  Values are inserted verbatim, never formatted or evaluated;
    the template's fields must be plain ``{name}`` s.
    """
    parts = _message_parts(code, "zh" if lang == "zh" else "en")
    for name, value in values.items():
        if isinstance(value, pd.Series):
            if not value.index.equals(index):
                msg = f"message {code!r}: the value {name!r} is not aligned to the index"
                raise MessageError(msg)
        elif not isinstance(value, str):
            msg = f"message {code!r}: the value {name!r} must be a Series or a str, got {type(value).__name__}"
            raise MessageError(msg)
    for name in (name for _, name in parts if name is not None):
        if name not in values:
            msg = f"message {code!r} needs the value {name!r} (given: {sorted(values)})"
            raise MessageError(msg)
    fast = _fill_arrays(parts, lang, index, values)
    if fast is not None:
        return fast
    text: object = ""
    before = None  # the value just inserted: "1" takes a singular noun in English
    for literal, name in parts:
        if literal:
            if before is not None and lang != "zh":
                literal = _count_noun(literal, before)
            text = text + literal
        before = None
        if name is not None:
            if name not in values:
                msg = f"message {code!r} needs the value {name!r} (given: {sorted(values)})"
                raise MessageError(msg)
            value = values[name]
            text = value if isinstance(text, str) and not text else text + value
            before = value
    if isinstance(text, str):
        return pd.Series(text, index=index, dtype=object)
    return text


def _fill_arrays(
    parts: tuple[tuple[str, str | None], ...], lang: str, index: pd.Index, values: dict
) -> pd.Series | None:
    """:func:`message_column`'s result built row by row with one ``%`` format of the
    template, or None where the pandas additions are needed (a value of another dtype,
    a template of one bare field).

    The same result as the Series additions, dtype, index and name included: a row
    missing an inserted value gets NaN; the ``str`` dtype where an inserted value has
    it, else object.
    """
    fields = [name for _, name in parts if name is not None]
    inserted = {n: values[n] for n in fields if isinstance(values[n], pd.Series)}
    if not inserted or len(parts) == 1 and not parts[0][0]:
        return None
    if any(v.dtype != object and v.dtype != TEXT_DTYPE for v in inserted.values()):
        return None
    if any(v.dtype == TEXT_DTYPE for v in inserted.values()):
        return _join_arrow(parts, lang, index, values, inserted)
    arrays, missing = {}, np.zeros(len(index), dtype=bool)
    for name, value in inserted.items():
        arr = value.to_numpy()  # object: its own cells (a pd.NA must stay visible)
        blank = pd.isna(arr)
        if blank.any():
            if any(x is pd.NA for x in arr[blank]):  # "a" + pd.NA is pd.NA, not NaN
                return None
            missing |= blank
            arr = arr.copy()
            arr[blank] = ""
        arrays[name] = arr
    template, columns = [], []

    def shown(name: str, value: pd.Series) -> pd.Series:  # blanks as the "" inserted
        return pd.Series(arrays[name], index=value.index, dtype=object, copy=False)

    pieces, res_index, res_name = _template_pieces(parts, lang, index, values, shown)
    for kind, piece in pieces:
        if kind == "text":
            template.append(piece.replace("%", "%%"))
        else:
            template.append("%s")
            columns.append(arrays[piece] if kind == "value" else piece)
    form = "".join(template)
    text = np.empty(len(index), dtype=object)
    text[:] = [form % row for row in zip(*columns, strict=True)]
    if missing.any():
        text[missing] = np.nan
    return pd.Series(text, index=res_index, dtype=object, name=res_name, copy=False)


def _template_pieces(
    parts: tuple[tuple[str, str | None], ...],
    lang: str,
    index: pd.Index,
    values: dict,
    shown: Callable[[str, pd.Series], object],
) -> tuple[list[tuple[str, object]], pd.Index, object]:
    """The template of :func:`_fill_arrays` / :func:`_join_arrow` as pieces in order:
    ``("text", str)``, ``("rows", object array)`` (a count noun of its own per row) or
    ``("value", name)`` (an inserted Series), with the result's index and name as the
    Series additions give them. ``shown(name, value)`` is the value a count noun after it
    reads (English: "1" takes a singular noun)."""
    pieces: list[tuple[str, object]] = []
    res_index, res_name, is_series = index, None, False
    before = None  # the value just inserted
    for literal, name in parts:
        if literal:
            noun = literal
            if before is not None and lang != "zh":
                noun = _count_noun(literal, before)
            if isinstance(noun, pd.Series):  # a text of its own per row, with no name
                res_name = None
                pieces.append(("rows", noun.to_numpy(dtype=object)))
            else:
                pieces.append(("text", noun))
        before = None
        if name is None:
            continue
        value = values[name]
        before = value
        if isinstance(value, str):
            pieces.append(("text", value))
            continue
        if not is_series:
            res_index, res_name, is_series = value.index, value.name, True
        elif not (res_name == value.name or res_name is value.name):
            res_name = None
        pieces.append(("value", name))
        before = shown(name, value)
    return pieces, res_index, res_name


def _join_arrow(
    parts: tuple[tuple[str, str | None], ...],
    lang: str,
    index: pd.Index,
    values: dict,
    inserted: dict[str, pd.Series],
) -> pd.Series | None:
    """:func:`_fill_arrays` where a value has the ``str`` dtype: the Series additions
    give ``str`` then, done here in one Arrow join (a missing value: a missing text)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text_type = pa.large_string()
    columns = {}
    for name, value in inserted.items():
        if value.dtype == TEXT_DTYPE:
            columns[name] = pa.array(value.array).cast(text_type)
            continue
        arr = value.to_numpy()
        try:
            column = pa.array(arr, type=text_type, from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError):  # not text: the additions say so
            return None
        if column.null_count:  # the blanks, found by Arrow: a pd.NA among them stays visible
            blank = column.is_null().to_numpy(zero_copy_only=False)
            if any(x is pd.NA for x in arr[blank]):
                return None
        columns[name] = column
    pieces, res_index, res_name = _template_pieces(parts, lang, index, values, lambda n, v: v)
    arrays = [
        pa.scalar(piece, type=text_type)
        if kind == "text"
        else columns[piece]
        if kind == "value"
        else pa.array(piece, type=text_type)
        for kind, piece in pieces
    ]
    joined = pc.binary_join_element_wise(*arrays, pa.scalar("", type=text_type))
    if isinstance(joined, pa.Scalar):
        return None
    if not isinstance(joined, pa.ChunkedArray):
        joined = pa.chunked_array([joined], type=text_type)
    text = pd.arrays.ArrowStringArray(joined, dtype=TEXT_DTYPE)
    return pd.Series(text, index=res_index, name=res_name, copy=False)
