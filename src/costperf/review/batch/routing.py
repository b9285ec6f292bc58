"""Routing: which rule reviews each line of a request book.

Each line is matched by its explicit ``standard_id`` (the table it names, and the rule
that reads that table); else by its ``expense_kind`` (zh or en); else by its
``econ_code`` through the routing table ``standards/review-routing.csv`` (data, not
code).  A line matched by none has no line rule: a unit-cost standard of its project
may still cover it, else it is flagged (无适用标准).  An unknown standard id or expense
kind is bad input: a closed list.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from costperf.review.batch.context import BatchContext
from costperf.review.registry import ReviewRule, register, review_rules
from costperf.schemas import concat_problems, row_problems

ROUTING_FILE = "review-routing.csv"
_VERSION = re.compile(r"@[^/]*")  # a version in a standard id: table@2/item/component
UNIT_COST = "unit_cost"


@cache
def _read_routing(path: str) -> pd.DataFrame:
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    table["econ_code"] = table["econ_code"].str.strip()
    return table


def routing_table(folder: str | Path | None = None) -> pd.DataFrame:
    """The routing table: ``econ_code, expense_kind, label_zh, label_en, note``.

    Read from ``folder`` when it holds a ``review-routing.csv``, else the shipped one
    (``standards/review-routing.csv``).  A blank ``expense_kind`` means no line rule.
    """
    from costperf.standards import package_standards_dir

    candidate = Path(folder) / ROUTING_FILE if folder is not None else None
    path = candidate if candidate is not None and candidate.is_file() else None
    path = path or package_standards_dir() / ROUTING_FILE
    return _read_routing(str(path)).copy()


def econ_names(lang: str = "zh", routing: pd.DataFrame | None = None) -> dict[str, str]:
    """``econ_code -> name`` (办公费 ...) of the codes the routing table lists."""
    table = routing_table() if routing is None else routing
    column = "label_zh" if lang == "zh" else "label_en"
    return {
        str(code).strip(): str(name).strip()
        for code, name in zip(table["econ_code"], table[column], strict=True)
        if str(name).strip()
    }


def econ_kinds(routing: pd.DataFrame | None = None) -> dict[str, str]:
    """``econ_code -> expense_kind`` of the codes the routing table routes to a rule."""
    table = routing_table() if routing is None else routing
    routed = table[table["expense_kind"].ne("")]
    return dict(zip(routed["econ_code"], routed["expense_kind"], strict=True))


def _key(value: object) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip().lower()


def _table_rules(context: BatchContext) -> dict[str, str]:
    """Table id -> the line rule that reads it; unit-cost tables -> ``unit_cost``."""
    owners: dict[str, str] = {}
    for name, rule in review_rules("line").items():
        for role in rule.tables:
            owners[context.tables.get(role, rule.tables[role])] = name
    tables = context.standards.tables
    for table_id in tables.loc[tables["kind"].eq("unit_cost"), "table_id"]:
        owners.setdefault(str(table_id), UNIT_COST)
    return owners


def route_lines(
    lines: pd.DataFrame, projects: pd.DataFrame, context: BatchContext
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rule of every line and how it was matched.

    Returns
    -------
    routes, problems
        ``routes`` aligned with ``lines``: ``rule`` (a line rule's name, ``unit_cost``
        for a line naming a unit-cost table, ``''`` for none) and ``route``
        (``standard_id`` / ``expense_kind`` / ``econ_code`` / ``''``).
    """
    from costperf.review.expenditure.lookup import map_distinct
    from costperf.review.expenditure.requests import KINDS, KINDS_ZH, normalise_kinds

    rule = pd.Series("", index=lines.index, dtype=object)
    how = pd.Series("", index=lines.index, dtype=object)
    problems = []
    blank = pd.Series(np.nan, index=lines.index, dtype=object)
    given_id = lines["standard_id"] if "standard_id" in lines else blank
    if given_id.notna().any():
        owners = _table_rules(context)
        table_id = given_id.map(
            lambda v: str(v).split("/", 1)[0].split("@", 1)[0].strip(), na_action="ignore"
        )
        found = table_id.map(owners)
        unknown = given_id.notna() & found.isna()
        listing = ", ".join(sorted(owners))
        problems.append(
            row_problems(
                lines,
                unknown,
                "standard_id",
                f"a standard id of a table the review reads ({listing})",
                "unknown_standard",
            )
        )
        # an id naming a value line (table/item/component, a version after @ aside) must
        # name one the table has: 九类会议 for 二类会议 is a typo, not a standard to flag
        named = map_distinct(given_id, lambda v: _VERSION.sub("", str(v)).strip()).astype(object)
        an_item = named.fillna("").str.contains("/", regex=False)
        no_line = found.notna() & an_item & ~named.isin(context.standards.values["standard_id"])
        problems.append(
            row_problems(
                lines,
                no_line,
                "standard_id",
                "the standard_id of one of the named table's value lines "
                "(table/item/component, a version after @)",
                "unknown_standard",
            )
        )
        use = given_id.notna() & found.notna() & ~no_line
        rule, how = rule.where(~use, found), how.where(~use, "standard_id")
    kind_cell = lines["expense_kind"] if "expense_kind" in lines else blank
    kinds = normalise_kinds(kind_cell)
    unknown = kind_cell.notna() & kinds.isna()
    allowed = ", ".join(f"{KINDS_ZH[k]} {k}" for k in KINDS)
    problems.append(
        row_problems(
            lines, unknown, "expense_kind", f"one of: {allowed} (or blank)", "unknown_kind"
        )
    )
    free = how.eq("") & kinds.notna()
    rule, how = rule.where(~free, kinds), how.where(~free, "expense_kind")
    codes = lines["econ_code"] if "econ_code" in lines else blank
    by_code = map_distinct(codes, lambda v: str(v).strip()).map(
        econ_kinds(context.routing if len(context.routing) else None)
    )
    free = how.eq("") & by_code.notna()
    rule, how = rule.where(~free, by_code), how.where(~free, "econ_code")
    return pd.DataFrame({"rule": rule, "route": how}), concat_problems(problems)


register(
    ReviewRule(
        name="routing",
        level="route",
        review=route_lines,
        label_zh="规则匹配",
        label_en="routing",
        document="standards/review-routing.csv",
    )
)
