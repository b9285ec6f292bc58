"""Versions of standard tables: consistency checks, diffs and uprating to a new draft.

- :func:`check_standards`: overlapping effective periods, gaps between versions,
  gaps and ambiguities in dimension coverage.
- :func:`diff_tables`: added, removed and changed value lines between two tables or
  versions, with absolute and percentage change.
- :func:`uprate_table`: the next draft version = old values x a price or wage index,
  rounded as the header says (Decimal, half-up by default: not Python's banker's round).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
    InvalidOperation,
)

import numpy as np
import pandas as pd

from costperf.errors import LOCATION, InputError, make_problems
from costperf.labels import message
from costperf.schemas import concat_problems
from costperf.standards.format import WILDCARD, as_date, clean_text
from costperf.standards.lookup import match_lines
from costperf.standards.tables import StandardSet, TableVersion, check_periods

ROUNDING = {
    "half_up": ROUND_HALF_UP,
    "half_even": ROUND_HALF_EVEN,
    "down": ROUND_DOWN,
    "up": ROUND_UP,
    "floor": ROUND_FLOOR,
    "ceiling": ROUND_CEILING,
}
CHANGES_ZH = {"added": "新增", "removed": "删除", "changed": "调整", "unchanged": "未变"}
MAX_GRID = 200_000


# ---- checks ------------------------------------------------------------------------


def check_coverage(standards: StandardSet) -> pd.DataFrame:
    """Gaps (warnings) and ambiguities (errors) in the dimension coverage of each version.

    For every item/component of a version, every combination of the values of the
    dimensions it varies by (the declared ``values``, else those used in the table)
    must resolve to exactly one line, as :func:`lookup_values` would resolve it.
    """
    parts = [_coverage(version) for version in standards.versions.values()]
    return concat_problems(parts)


def _coverage(version: TableVersion) -> pd.DataFrame:
    lines, rows = version.values, []
    specs = version.header.get("dimensions") or {}
    for (item, comp), group in lines.groupby(["item", "component"], sort=False):
        used = [d for d in version.dims if group[d].ne(WILDCARD).any()]
        if not used:
            continue
        domains = [
            list(specs[d].get("values") or []) or sorted(set(lines[d]) - {WILDCARD}) for d in used
        ]
        size = int(np.prod([len(v) for v in domains]))
        if size > MAX_GRID:
            rows.append(
                _coverage_row(
                    version,
                    group,
                    "",
                    f"a grid of at most {MAX_GRID} combinations to check ({size})",
                    "coverage_skipped",
                    "warning",
                )
            )
            continue
        grid = pd.DataFrame(list(itertools.product(*domains)), columns=used)
        keys = grid.assign(item=item, component=comp)
        for dim in version.dims:
            if dim not in keys:
                keys[dim] = np.nan
        best, ties = match_lines(version, keys[["item", "component", *version.dims]])
        name = item + (f"/{comp}" if comp else "")
        for combo in grid[best.isna().to_numpy()].itertuples(index=False):
            shown = ", ".join(f"{d}={v}" for d, v in zip(used, combo, strict=True))
            rows.append(
                _coverage_row(
                    version,
                    group,
                    shown,
                    f"a value for '{name}' at {shown} (no line covers it)",
                    "coverage_gap",
                    "warning",
                )
            )
        for combo in grid[(ties > 1).to_numpy()].itertuples(index=False):
            shown = ", ".join(f"{d}={v}" for d, v in zip(used, combo, strict=True))
            rows.append(
                _coverage_row(
                    version,
                    group,
                    shown,
                    f"one line for '{name}' at {shown} (several lines match equally)",
                    "ambiguous_lines",
                    "error",
                )
            )
    return make_problems(rows)


def _coverage_row(
    version: TableVersion, group: pd.DataFrame, value: str, expected: str, check: str, severity: str
) -> dict[str, object]:
    return {
        "source_file": version.values_file,
        "source_row": int(group["source_row"].min()),
        "column": "item",
        "value": value,
        "expected": expected,
        "check": check,
        "severity": severity,
    }


def check_standards(standards: StandardSet) -> pd.DataFrame:
    """Problems across a body of standards: effective periods and dimension coverage.

    (Each table's own checks, including composites that do not sum to their total and
    edited published versions, run when it is read.)
    """
    return concat_problems([check_periods(standards.tables), check_coverage(standards)])


# ---- diff --------------------------------------------------------------------------


def diff_tables(
    standards: StandardSet, old: str, new: str, *, include_unchanged: bool = False
) -> pd.DataFrame:
    """Compare the value lines of two tables or versions (``id`` or ``id@version``).

    Lines are matched by item, component and dimension values (a dimension one table
    lacks counts as ``*``), so different tables (a province's revision of a central
    table) and versions compare line by line.

    Returns
    -------
    DataFrame
        ``change`` (added / removed / changed / unchanged), ``change_zh``, ``line``,
        ``item``, ``item_zh``, ``component``, the dimensions, ``unit_old``, ``unit_new``,
        ``value_old``, ``value_new``, ``abs_change`` [unit of the line], ``pct_change``
        [%], ``lower_old/new``, ``upper_old/new``; ``attrs['old']``/``['new']`` name
        the versions compared.
    """
    a, b = standards.get(old), standards.get(new)
    dims = list(dict.fromkeys([*a.dims, *b.dims]))
    keys = ["item", "component", *dims]
    left, right = _diff_side(a, dims, "old"), _diff_side(b, dims, "new")
    merged = left.merge(right, on=keys, how="outer", indicator=True, sort=False)
    merged["item_zh"] = merged["item_zh_new"].where(
        merged["item_zh_new"].notna(), merged["item_zh_old"]
    )
    value_old, value_new = merged["value_old"], merged["value_new"]
    same = (
        np.isclose(value_old, value_new, rtol=0, atol=1e-9)
        & (merged["unit_old"] == merged["unit_new"])
        & _same(merged, "lower")
        & _same(merged, "upper")
    )
    merged["change"] = np.select(
        [merged["_merge"] == "right_only", merged["_merge"] == "left_only", ~same],
        ["added", "removed", "changed"],
        default="unchanged",
    )
    merged["change_zh"] = merged["change"].map(CHANGES_ZH)
    merged["abs_change"] = value_new - value_old
    merged["pct_change"] = (value_new - value_old) / value_old.where(value_old != 0) * 100
    merged["line"] = [
        "/".join(str(v) for v in r if v not in ("", WILDCARD))
        for r in merged[[*dims, "item", "component"]].itertuples(index=False)
    ]
    order = merged["_order_old"].fillna(merged["_order_new"] + len(left))
    merged = merged.assign(_order=order).sort_values("_order", kind="stable")
    if not include_unchanged:
        merged = merged[merged["change"] != "unchanged"]
    columns = [
        "change",
        "change_zh",
        "line",
        "item",
        "item_zh",
        "component",
        *dims,
        "unit_old",
        "unit_new",
        "value_old",
        "value_new",
        "abs_change",
        "pct_change",
        "lower_old",
        "lower_new",
        "upper_old",
        "upper_new",
    ]
    out = merged[columns].reset_index(drop=True)
    out.attrs.update(old=a.ref, new=b.ref)
    return out


def _same(merged: pd.DataFrame, col: str) -> pd.Series:
    x, y = merged[f"{col}_old"], merged[f"{col}_new"]
    return (x.isna() & y.isna()) | np.isclose(x, y, rtol=0, atol=1e-9)


def _diff_side(version: TableVersion, dims: list[str], side: str) -> pd.DataFrame:
    lines = version.values.copy()
    for dim in dims:
        if dim not in lines:
            lines[dim] = WILDCARD
    take = {
        "item_zh": f"item_zh_{side}",
        "unit": f"unit_{side}",
        "value": f"value_{side}",
        "lower": f"lower_{side}",
        "upper": f"upper_{side}",
    }
    out = lines[["item", "component", *dims, *take]].rename(columns=take)
    out[f"_order_{side}"] = np.arange(len(out), dtype=float)
    return out


# ---- uprate ------------------------------------------------------------------------


def round_to_step(value: Decimal, step: Decimal, mode: str = "half_up") -> Decimal:
    """Round ``value`` to a multiple of ``step`` with a Decimal rounding mode.

    >>> round_to_step(Decimal("454.5"), Decimal("1"))
    Decimal('455')
    >>> round_to_step(Decimal("412.8"), Decimal("10"))
    Decimal('410')
    """
    return (value / step).quantize(Decimal(1), rounding=ROUNDING[mode]) * step


#: the range of an uprating index and of a rounding step [yuan] (an index of 1e30 or a step
#: of 1e-300 was an internal error: more digits than decimal's precision)
MAX_INDEX, MIN_STEP, MAX_STEP = Decimal(100), Decimal("0.0001"), Decimal(1_000_000)


def _decimal(value: object, what: str) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation as exc:
        msg = f"{what}: expected a number, got {value!r}"
        raise InputError(msg) from exc
    if not number.is_finite():
        msg = f"{what}: expected a finite number, got {value!r}"
        raise InputError(msg)
    return number


def _plain(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return text


def is_money_unit(unit: str) -> bool:
    """Whether a unit is an amount of money (``元/人·天``, ``元/台``): those are uprated."""
    return "元" in unit


def uprate_table(
    standards: StandardSet,
    ref: str,
    *,
    index: object,
    effective_from: object,
    step: object = None,
    mode: str | None = None,
) -> tuple[dict[str, object], pd.DataFrame]:
    """Make the next draft version of a table by a price or wage index.

    Parameters
    ----------
    ref
        ``table-id`` (its newest issued version) or ``table-id@version``.
    index
        Price or wage index, e.g. ``"1.032"`` (given as text to keep it exact).
    effective_from
        When the new version takes effect; after the base version's start.
    step, mode
        Rounding (default from the header's ``[uprate]``, else 1 yuan, half-up):
        money values become ``round_to_step(value x index, step, mode)``; other units
        (days, persons, years) are copied; composite totals are re-summed from the
        rounded components so the composite still adds up.

    Returns
    -------
    tuple
        The new header (status draft, version + 1, provenance in ``[source]``) and the
        new value rows (same columns as the base file).
    """
    base = standards.get(ref)
    factor = _decimal(index, "--index")
    if not 0 < factor <= MAX_INDEX:  # 1e30 was an internal error (decimal precision)
        msg = f"--index: expected a number > 0 and at most {MAX_INDEX}, got {index!r}"
        raise InputError(msg)
    start = as_date(effective_from) if not isinstance(effective_from, dt.date) else effective_from
    if start is None:
        msg = f"--effective: expected a date YYYY-MM-DD, got {effective_from!r}"
        raise InputError(msg)
    # the new version comes after every version of the table (drafts too): versions
    # take effect in order, so one starting on or before the last could never be sealed
    last = max(
        standards.versions_of(base.table_id),
        key=lambda v: (as_date(v.header["effective_from"]), v.version),
    )
    last_start = as_date(last.header["effective_from"])
    if start <= last_start:
        msg = (
            f"--effective {start}: must be after {last.ref} took effect ({last_start}); "
            "a new version supersedes the old one from its effective date"
        )
        raise InputError(msg)
    settings = dict(base.header.get("uprate") or {})
    step_d = _decimal(step if step is not None else settings.get("step", 1), "--step")
    mode = mode or str(settings.get("mode", "half_up"))
    if mode not in ROUNDING or not MIN_STEP <= step_d <= MAX_STEP:
        msg = (
            f"rounding: expected a step from {MIN_STEP} to {MAX_STEP} and a mode in "
            f"{', '.join(ROUNDING)}, "
            f"got step {step_d} and mode '{mode}'"
        )
        raise InputError(msg)
    raw = _uprated_rows(base, factor, step_d, mode)
    header = _uprated_header(standards, base, factor, start, step_d, mode)
    return header, raw


def _uprated_rows(base: TableVersion, factor: Decimal, step: Decimal, mode: str) -> pd.DataFrame:
    raw = base.raw.drop(columns=[c for c in LOCATION if c in base.raw.columns]).copy()
    raw = raw.astype(object).where(raw.notna(), "")
    money = clean_text(raw["unit"]).map(is_money_unit)
    for col in ("value", "lower", "upper"):
        if col not in raw:
            continue
        cells = clean_text(raw[col])
        todo = money & cells.ne("")
        raw.loc[todo, col] = [
            _plain(round_to_step(_decimal(c, col) * factor, step, mode)) for c in cells[todo]
        ]
    composite = base.header.get("composite")
    if isinstance(composite, Mapping):
        _resum_composite(raw, composite, base.dims)
    return raw


def _resum_composite(raw: pd.DataFrame, composite: Mapping[str, object], dims: list[str]) -> None:
    keys = [c for c in (*dims, "component") if c in raw.columns]
    text = raw[keys].astype(str) if keys else pd.DataFrame(index=raw.index)
    group = text.agg("\x1f".join, axis=1) if keys else pd.Series("", index=raw.index)
    items = clean_text(raw["item"])
    parts = items.isin(list(composite["components"]))
    sums = raw.loc[parts, "value"].map(lambda v: Decimal(str(v))).groupby(group[parts]).sum()
    totals = items.eq(composite["total"]) & group.isin(sums.index)
    raw.loc[totals, "value"] = [_plain(sums[g]) for g in group[totals]]


def _uprated_header(
    standards: StandardSet,
    base: TableVersion,
    factor: Decimal,
    start: dt.date,
    step: Decimal,
    mode: str,
) -> dict[str, object]:
    header = {
        k: v for k, v in base.header.items() if k not in ("content_hash", "effective_to", "values")
    }
    version = max(v.version for v in standards.versions_of(base.table_id)) + 1
    source = dict(base.header.get("source") or {})
    rounding = f"{mode} to {_plain(step)}"
    said = {"base": base.ref, "factor": _plain(factor), "mode": mode, "step": _plain(step)}
    note, zh = (message("standards.uprated", lang, **said) for lang in ("en", "zh"))
    since_en, since_zh = (
        message("standards.uprated_from", lang, start=start.isoformat()) for lang in ("en", "zh")
    )
    header.update(version=version, status="draft", effective_from=start)
    header["unverified"] = [u for u in base.header.get("unverified", []) if u != "effective_from"]
    header["source"] = {
        "method": "uprate",
        "basis": base.ref,
        "basis_hash": base.content_hash,
        "index": float(factor),
        "rounding": rounding,
        "reference": str(source.get("document_no") or source.get("document") or ""),
        "parameters": {
            "index": _plain(factor),
            "step": _plain(step),
            "mode": mode,
            "effective_from": start.isoformat(),
        },
        "note": note,
    }
    header["notes"] = [zh + since_zh, *base.header.get("notes", [])]
    header["notes_en"] = [note + since_en, *base.header.get("notes_en", [])]
    return header
