"""Checks across value lines of the long frame: duplicate lines and composite quotas
whose components do not add up to the total."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from costperf.errors import make_problems
from costperf.schemas import concat_problems
from costperf.standards.format.schema import WILDCARD


def check_lines(header: Mapping[str, object], values: pd.DataFrame) -> pd.DataFrame:
    """Problems across value lines: duplicate lines and composites that do not add up."""
    parts = []
    again = values.duplicated("standard_id", keep="first")
    if again.any():
        first = values.groupby("standard_id", sort=False)["source_row"].transform("first")
        parts.append(
            make_problems(
                [
                    {
                        "source_file": r.source_file,
                        "source_row": r.source_row,
                        "column": "item",
                        "value": r.standard_id,
                        "expected": f"one line per item and dimension values "
                        f"(this line repeats row {f})",
                        "check": "duplicate_line",
                    }
                    for r, f in zip(values[again].itertuples(), first[again], strict=True)
                ]
            )
        )
    composite = header.get("composite")
    if isinstance(composite, dict) and not values.empty:
        parts.append(
            check_composite(values, composite, list((header.get("dimensions") or {}).keys()))
        )
    return concat_problems(parts)


def check_composite(
    values: pd.DataFrame,
    composite: Mapping[str, object],
    dims: Sequence[str],
    *,
    tolerance: float = 1e-6,
) -> pd.DataFrame:
    """Problems where the component lines of a composite quota do not sum to its total."""
    total_item, parts = composite["total"], list(composite["components"])
    rows = []
    keys = [*dims, "component"]
    for key, group in values.groupby(keys, sort=False, dropna=False):
        by_item = group.set_index("item")
        if total_item not in by_item.index:
            continue
        total = by_item.loc[total_item]
        where = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        label = "/".join(str(v) for k, v in where.items() if v not in ("", WILDCARD)) or "all"
        missing = [p for p in parts if p not in by_item.index]
        if missing:
            rows.append(
                {
                    "source_file": total["source_file"],
                    "source_row": total["source_row"],
                    "column": "item",
                    "value": ", ".join(missing),
                    "expected": f"a line for every component of the composite ({label})",
                    "check": "composite_component_missing",
                }
            )
            continue
        summed = float(by_item.loc[parts, "value"].sum())
        if abs(summed - float(total["value"])) > tolerance:
            rows.append(
                {
                    "source_file": total["source_file"],
                    "source_row": total["source_row"],
                    "column": "value",
                    "value": f"{float(total['value']):g}",
                    "expected": f"the sum of the components {' + '.join(parts)} = "
                    f"{summed:g} ({label})",
                    "check": "composite_sum",
                }
            )
    return make_problems(rows)
