"""The standard-table format: a TOML header plus a CSV of value lines.

``check_standard_table`` validates one table (header and raw value rows) and returns a
problems frame; ``build_values`` turns a valid table into long canonical rows;
``content_hash`` fingerprints a version so an edited published table is caught.
The format is documented for users in ``standards/README.md``.

Steps (one module each)
-----------------------
``schema``        the format as data: header keys and types, value-file and frame columns
``dates``         ISO dates and MM-DD season bounds
``keys``          header problem collector, type checks, known/required keys
``header``        :func:`check_header`, every header section
``header_rules``  the ``[rules]`` sections of the header
``values``        :func:`check_values`, the raw value rows
``frame``         :func:`build_values`, the long frame of value lines
``lines``         :func:`check_lines`, duplicates and composite sums
``hashing``       :func:`content_hash`
``check``         :func:`check_standard_table` and :func:`check_and_build`
"""

from __future__ import annotations

from costperf.standards.format.check import check_and_build, check_standard_table
from costperf.standards.format.dates import as_date, as_end_date, parse_month_day
from costperf.standards.format.frame import build_values, line_kind, standard_ids
from costperf.standards.format.hashing import content_hash
from costperf.standards.format.header import check_header
from costperf.standards.format.lines import check_composite, check_lines
from costperf.standards.format.schema import (
    COMPOSITE_KEYS,
    CONFIDENCES,
    DERIVING_RULES,
    DIMENSION_KEYS,
    FRAME_COLUMNS,
    FRAME_TAIL,
    HEADER_KEYS,
    KINDS,
    LABEL_KEYS,
    LAYOUT_KEYS,
    LIST_SEPARATOR,
    REQUIRED_VALUE_COLUMNS,
    RESERVED_NAMES,
    ROUNDING_MODES,
    RULE_COMMON,
    RULE_KEYS,
    SOURCE_KEYS,
    STATUSES,
    UNHASHED_KEYS,
    UPRATE_KEYS,
    VALUE_FILE_COLUMNS,
    WILDCARD,
)
from costperf.standards.format.values import check_values, clean_text

__all__ = [
    "COMPOSITE_KEYS",
    "CONFIDENCES",
    "DERIVING_RULES",
    "DIMENSION_KEYS",
    "FRAME_COLUMNS",
    "FRAME_TAIL",
    "HEADER_KEYS",
    "KINDS",
    "LABEL_KEYS",
    "LAYOUT_KEYS",
    "LIST_SEPARATOR",
    "REQUIRED_VALUE_COLUMNS",
    "RESERVED_NAMES",
    "ROUNDING_MODES",
    "RULE_COMMON",
    "RULE_KEYS",
    "SOURCE_KEYS",
    "STATUSES",
    "UNHASHED_KEYS",
    "UPRATE_KEYS",
    "VALUE_FILE_COLUMNS",
    "WILDCARD",
    "as_date",
    "as_end_date",
    "build_values",
    "check_and_build",
    "check_composite",
    "check_header",
    "check_lines",
    "check_standard_table",
    "check_values",
    "clean_text",
    "content_hash",
    "line_kind",
    "parse_month_day",
    "standard_ids",
]
