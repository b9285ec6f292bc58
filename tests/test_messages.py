"""User-facing messages come from labels.csv (kind ``message``) through columns.message."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pandas as pd
import pytest

from costperf.columns import MessageError, code_labels, message, message_column

SOURCE = Path(__file__).resolve().parents[1] / "src" / "costperf"
#: a call ``message("code", ...)`` or ``message_column("code", ...)`` (or with single
#: quotes); codes are always literals.
CALL = re.compile(r"""\bmessage(?:_column)?\(\s*(["'])([^"']+)\1""")


def _templates() -> dict[str, tuple[str, str]]:
    rows = code_labels().xs("message", level="kind")
    return {str(code): (r.label_zh, r.label_en) for code, r in rows.iterrows()}


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _used_codes() -> dict[str, list[str]]:
    used: dict[str, list[str]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        for _, code in CALL.findall(path.read_text(encoding="utf-8")):
            used.setdefault(code, []).append(str(path.relative_to(SOURCE)))
    return used


def test_every_message_used_in_src_is_in_labels_csv() -> None:
    used = _used_codes()
    assert used, "no message(...) call found under src/costperf"
    missing = {code: where for code, where in used.items() if code not in _templates()}
    assert not missing


def test_every_message_in_labels_csv_is_used() -> None:
    unused = set(_templates()) - set(_used_codes())
    assert not unused


@pytest.mark.parametrize("code", sorted(_templates()))
def test_template_formats_in_both_languages(code: str) -> None:
    zh, en = _templates()[code]
    assert zh and en
    names = _fields(zh)
    assert names == _fields(en), "zh and en name different placeholders"
    assert all(name.isidentifier() for name in names), "placeholders are plain names"
    values = dict.fromkeys(names, 1)  # an int formats under every spec used (,.2f .1% d)
    for lang in ("zh", "en"):
        text = message(code, lang, **values)
        assert "{" not in text and "}" not in text


def test_unknown_code_and_missing_value_are_clear_errors() -> None:
    with pytest.raises(MessageError, match="no message 'no.such'"):
        message("no.such", "zh")
    with pytest.raises(MessageError, match="needs the value 'path'"):
        message("review.recorded", "en", batch="b1")


def test_values_are_inserted_not_evaluated() -> None:
    text = message("review.recorded", "en", batch="{path.__class__}", path="x")
    assert text == "records: batch {path.__class__} -> x"


def test_review_totals_read_as_one_language() -> None:
    values = {
        "projects": 275,
        "lines": 811,
        "approve": 97,
        "reduce": 149,
        "reject": 29,
        "requested": 1234567.5,
        "approved": 1100000,
        "cut_rate": 0.111,
        "manual_projects": 145,
        "manual_lines": 211,
    }
    zh = message("review.totals", "zh", **values)
    assert zh == (
        "评审：275 个项目，811 行；通过 97，核减 149，不予安排 29；申报 1,234,567.50 元，"
        "审定 1,100,000.00 元，核减率 11.1%；需人工复核 145 个项目 / 211 行"
    )
    assert not re.search(r"[A-Za-z]", zh)
    en = message("review.totals", "en", **values)
    assert not re.search(r"[\u4e00-\u9fff]", en)
    assert en.startswith("review: 275 projects, 811 lines; 97 approved")


def test_message_column_fills_whole_columns() -> None:
    index = pd.Index([3, 5, 7])
    batch = pd.Series(["b1", "b2", "b3"], index=index, dtype=object)
    text = message_column("review.recorded", "en", index, batch=batch, path="x")
    assert isinstance(text, pd.Series) and text.index.equals(index)
    assert list(text) == [message("review.recorded", "en", batch=b, path="x") for b in batch]
    zh = message_column("review.recorded", "zh", index, batch=batch, path="x")
    assert zh[5] == "评审记录：批次 b2 → x"
    constant = message_column("review.recorded", "zh", index, batch="b", path="p")
    assert list(constant) == ["评审记录：批次 b → p"] * 3


def test_message_column_inserts_values_verbatim() -> None:
    index = pd.RangeIndex(2)
    tricky = pd.Series(["{path.__class__}", "{0} %s {{x}}"], index=index, dtype=object)
    text = message_column("review.recorded", "en", index, batch=tricky, path="{batch}")
    assert list(text) == [
        "records: batch {path.__class__} -> {batch}",
        "records: batch {0} %s {{x}} -> {batch}",
    ]


def test_message_column_missing_text_stays_missing() -> None:
    index = pd.RangeIndex(2)
    batch = pd.Series(["b1", None], index=index, dtype=object)
    text = message_column("review.recorded", "en", index, batch=batch, path="x")
    assert text[0] == "records: batch b1 -> x" and pd.isna(text[1])


def test_message_column_errors() -> None:
    index = pd.RangeIndex(2)
    with pytest.raises(MessageError, match="no message 'no.such'"):
        message_column("no.such", "zh", index)
    with pytest.raises(MessageError, match=r"field \{value:\.1f\} must be a plain"):
        message_column("run.cost_index", "en", index, value="1")
    with pytest.raises(MessageError, match="needs the value 'path'"):
        message_column("review.recorded", "en", index, batch="b1")
    with pytest.raises(MessageError, match="not aligned"):
        message_column(
            "review.recorded", "en", index, batch=pd.Series(["a", "b"], index=[5, 6]), path="x"
        )
    with pytest.raises(MessageError, match="a Series or a str, got int"):
        message_column("review.recorded", "en", index, batch=1, path="x")


#: a call ``message_column("code", ...)``: its template must have plain fields only.
COLUMN_CALL = re.compile(r"""\bmessage_column\(\s*(["'])([^"']+)\1""")


def _column_codes() -> list[str]:
    codes = set()
    for path in sorted(SOURCE.rglob("*.py")):
        codes.update(code for _, code in COLUMN_CALL.findall(path.read_text(encoding="utf-8")))
    return sorted(codes)


def test_reason_sentences_are_in_labels_csv() -> None:
    codes = _column_codes()
    assert len(codes) > 20 and all(code.startswith("reason.") for code in codes)


@pytest.mark.parametrize("code", _column_codes())
def test_column_templates_are_plain_and_paired(code: str) -> None:
    zh, en = _templates()[code]
    names = _fields(zh)
    assert names == _fields(en), "zh and en name different fields"
    values = {name: f"<{name}>" for name in names}
    index = pd.RangeIndex(1)
    for lang in ("zh", "en"):  # plain {name} fields only, filled as message() fills them
        text = message_column(code, lang, index, **values)
        assert text[0] == message(code, lang, **values)
