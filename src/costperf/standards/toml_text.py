"""A small TOML writer for standard-table headers (``tomllib`` only reads TOML).

Covers what headers use: strings, booleans, integers, floats, dates, arrays of those,
arrays of inline tables, nested tables.  Top-level scalars come first, then one
``[section]`` per nested table, so the output reads like a hand-written header.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def dumps(data: Mapping[str, object], *, comment: str = "") -> str:
    """Serialise ``data`` as TOML text (``tomllib.loads(dumps(d)) == d``)."""
    lines = [f"# {line}" for line in comment.splitlines()] if comment else []
    _emit_table(data, [], lines)
    return "\n".join(lines).strip("\n") + "\n"


def _emit_table(data: Mapping[str, object], path: list[str], lines: list[str]) -> None:
    scalars = {k: v for k, v in data.items() if not _is_section(v)}
    sections = {k: v for k, v in data.items() if _is_section(v)}
    if path and (scalars or not sections):
        lines.append("")
        lines.append("[" + ".".join(_key(p) for p in path) + "]")
    for key, value in scalars.items():
        lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in sections.items():
        _emit_table(value, [*path, key], lines)


def _is_section(value: object) -> bool:
    return isinstance(value, Mapping) and len(value) > 0


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _string(key)


_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _string(text: str) -> str:
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            msg = f"TOML cannot hold the number {value!r}"
            raise ValueError(msg)
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    msg = f"TOML cannot hold a {type(value).__name__}: {value!r}"
    raise TypeError(msg)
