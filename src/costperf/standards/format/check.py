"""The entry points: validate a table (header, values, lines, content hash) and build
its long frame in one pass."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from costperf.schemas import concat_problems
from costperf.standards.format.frame import build_values
from costperf.standards.format.hashing import content_hash
from costperf.standards.format.header import check_header
from costperf.standards.format.keys import HeaderProblems
from costperf.standards.format.lines import check_lines
from costperf.standards.format.values import check_values


def check_standard_table(
    header: Mapping[str, object],
    raw: pd.DataFrame,
    *,
    header_file: str = "",
    header_text: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Validate one standard table: header, value rows, lines and its content hash.

    Parameters
    ----------
    header
        Parsed TOML header.
    raw
        Value rows as read by :func:`costperf.io.read_table` (raw text cells plus
        ``source_file``, ``sheet``, ``source_row``).
    header_file, header_text
        The header's path and text (to give line numbers).
    extra
        Digests of side files that belong to the version (peer rows).

    Returns
    -------
    DataFrame
        Problems table; empty when the table is valid.
    """
    return check_and_build(
        header, raw, header_file=header_file, header_text=header_text, extra=extra
    )[0]


def check_and_build(
    header: Mapping[str, object],
    raw: pd.DataFrame,
    *,
    header_file: str = "",
    header_text: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame | None, str]:
    """:func:`check_standard_table`, also returning the long values (None if the value
    rows have errors) and the content hash, so a loader builds them once."""
    problems = check_header(header, header_file=header_file, header_text=header_text)
    errors = problems[problems["severity"] == "error"]
    if len(errors):
        # the value rows are still checked when the sections they are read against
        # (dimensions, items, components) are sound: all problems of the table at once
        read_against = errors["column"].astype(str).str.match(r"(dimensions|items|components)\b")
        if not read_against.any():
            problems = concat_problems([problems, check_values(header, raw)])
        return problems, None, ""
    value_problems = check_values(header, raw)
    parts = [problems, value_problems]
    actual = content_hash(header, raw, extra=extra)
    values = None
    if not (value_problems["severity"] == "error").any():
        values = build_values(header, raw, content_hash=actual)
        parts.append(check_lines(header, values))
    recorded = header.get("content_hash")
    if recorded and recorded != actual:
        severity = "error" if header.get("status") in ("published", "retired") else "warning"
        out = HeaderProblems(header_file, header_text)
        out.add(
            "content_hash",
            recorded,
            f"{actual}: the content changed after the version was sealed; published "
            "versions are immutable, make a new version instead",
            "content_hash",
            severity,
        )
        parts.append(out.frame())
    return concat_problems(parts), values, actual
