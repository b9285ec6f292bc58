"""Header check, first step: the problem collector that locates a key in the TOML
text, the value-type checks and the known/required-key check of one section."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import pandas as pd

from costperf.errors import make_problems
from costperf.standards.format.dates import as_date
from costperf.standards.format.schema import CONFIDENCES, KINDS, ROUNDING_MODES, STATUSES

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


class HeaderProblems:
    """Collects header problems, locating keys in the TOML text where possible."""

    def __init__(self, header_file: str, header_text: str | None) -> None:
        self.file = header_file
        self.lines = (header_text or "").splitlines()
        self.rows: list[dict[str, object]] = []

    def add(
        self, key: str, value: object, expected: str, check: str, severity: str = "error"
    ) -> None:
        shown = "" if value is None else value if isinstance(value, str) else repr(value)
        self.rows.append(
            {
                "source_file": self.file,
                "sheet": "",
                "source_row": self.line_of(key),
                "column": key,
                "value": shown,
                "expected": expected,
                "check": check,
                "severity": severity,
            }
        )

    def line_of(self, dotted: str) -> int | str:
        """1-based line of ``dotted`` key in the header text ('' when not found)."""
        parts = dotted.split(".")
        start, section = 0, ".".join(parts[:-1])
        if section:
            pattern = re.compile(r"^\s*\[\s*" + _section_pattern(parts[:-1]) + r"\s*\]\s*$")
            hits = [i for i, line in enumerate(self.lines) if pattern.match(line)]
            if hits:
                start = hits[0] + 1
            else:
                return self.line_of(section) if len(parts) > 2 else ""
        key = re.compile(r'^\s*"?' + re.escape(parts[-1]) + r'"?\s*=')
        for i in range(start, len(self.lines)):
            if section and self.lines[i].lstrip().startswith("[") and i > start:
                break
            if not section and self.lines[i].lstrip().startswith("["):
                break
            if key.match(self.lines[i]):
                return i + 1
        return start if section and start else ""

    def frame(self) -> pd.DataFrame:
        return make_problems(self.rows)


def _section_pattern(parts: Sequence[str]) -> str:
    return r"\s*\.\s*".join(r'"?' + re.escape(p) + r'"?' for p in parts)


_TYPE_CHECKS: dict[str, tuple[Callable[[object], bool], str]] = {
    "str": (lambda v: isinstance(v, str), "text"),
    "id": (
        lambda v: isinstance(v, str) and bool(_ID.match(v)),
        "an id of lower-case letters, digits and '-' (e.g. 'meeting-fee')",
    ),
    "int": (
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
        "a whole number >= 1",
    ),
    "number": (lambda v: isinstance(v, int | float) and not isinstance(v, bool), "a number"),
    "positive": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v > 0,
        "a number > 0",
    ),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "date": (lambda v: as_date(v) is not None, "a date YYYY-MM-DD"),
    "status": (lambda v: v in STATUSES, "one of: " + ", ".join(STATUSES)),
    "kind": (lambda v: v in KINDS, "one of: " + ", ".join(KINDS)),
    "confidence": (lambda v: v in CONFIDENCES, "one of: V, S, U"),
    "rounding": (lambda v: v in ROUNDING_MODES, "one of: " + ", ".join(ROUNDING_MODES)),
    "str_list": (
        lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "a list of text values",
    ),
    "str_map": (
        lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
        "a table of text values",
    ),
    "table": (lambda v: isinstance(v, dict), "a table ([section])"),
    "list": (lambda v: isinstance(v, list), "a list"),
    "any": (lambda v: True, "any value"),
}


def check_header_keys(
    data: Mapping[str, object],
    spec: Mapping[str, tuple[str, bool]],
    prefix: str,
    out: HeaderProblems,
) -> bool:
    """Check known/required keys and value types; return True when all is well."""
    ok = True
    where = f"[{prefix.rstrip('.')}]" if prefix else "the header"
    for key, value in data.items():
        if key not in spec:
            out.add(
                prefix + key,
                key,
                f"a known key in {where}: " + ", ".join(spec),
                "unknown_header_key",
            )
            ok = False
            continue
        test, expected = _TYPE_CHECKS[spec[key][0]]
        if not test(value):
            out.add(prefix + key, value, expected, "header_value")
            ok = False
    for key, (_, required) in spec.items():
        if required and key not in data:
            out.add(
                prefix + key,
                None,
                f"the key '{key}' in {where} (it is required)",
                "missing_header_key",
            )
            ok = False
    return ok
