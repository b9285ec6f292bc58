"""User-facing messages come from labels.csv (kind ``message``) through columns.message."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from costperf.columns import MessageError, code_labels, message

SOURCE = Path(__file__).resolve().parents[1] / "src" / "costperf"
#: a call ``message("code", ...)`` (or with single quotes); codes are always literals.
CALL = re.compile(r"""\bmessage\(\s*(["'])([^"']+)\1""")


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
