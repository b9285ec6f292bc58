"""Standard tables (支出标准 / 成本标准): format, loading, lookup, versions, publication.

A body of standards is a folder of tables, each a TOML header plus a CSV of value lines
(``standards/README.md``).  Reading gives a :class:`StandardSet` (one long frame of value
lines plus one row per table version); :func:`lookup_values` answers "which value applied
on date D for dimensions X" for a whole frame of queries; :mod:`.rules` exposes rules that
are not a single number; :mod:`.versions` diffs, checks and uprates; :mod:`costperf.report.standard_page`
writes a table a bureau could issue.  Peer-derived standards live in :mod:`.derive`.
"""

from __future__ import annotations

from costperf.standards.format import (
    KINDS,
    STATUSES,
    WILDCARD,
    build_values,
    check_standard_table,
    content_hash,
)
from costperf.standards.lookup import (
    RESULT_COLUMNS,
    StandardValue,
    lookup_value,
    lookup_values,
)
from costperf.standards.rules import (
    lecturer_hours_cap,
    meeting_table_price_cap,
    quantity_cap,
    rule,
    season_for,
    shipped_standards,
    tiered_amount,
    training_chargeable_days,
    training_day_factor,
)
from costperf.standards.tables import (
    StandardSet,
    TableVersion,
    default_standards_dir,
    effective_periods,
    load_standards,
    package_standards_dir,
    read_standards,
    seal_table,
    write_table_version,
)
from costperf.standards.versions import (
    check_coverage,
    check_standards,
    diff_tables,
    round_to_step,
    uprate_table,
)

__all__ = [
    "KINDS",
    "RESULT_COLUMNS",
    "STATUSES",
    "WILDCARD",
    "StandardSet",
    "StandardValue",
    "TableVersion",
    "build_values",
    "check_coverage",
    "check_standard_table",
    "check_standards",
    "content_hash",
    "default_standards_dir",
    "diff_tables",
    "effective_periods",
    "lecturer_hours_cap",
    "load_standards",
    "lookup_value",
    "lookup_values",
    "meeting_table_price_cap",
    "package_standards_dir",
    "quantity_cap",
    "read_standards",
    "round_to_step",
    "rule",
    "season_for",
    "seal_table",
    "shipped_standards",
    "tiered_amount",
    "training_chargeable_days",
    "training_day_factor",
    "uprate_table",
    "write_table_version",
]
