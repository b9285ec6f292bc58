"""Which standard value applied on date D for dimensions X: one vectorised lookup.

``lookup_values`` matches a whole query frame at once: it picks, per row, the version of
the table in force on the row's date, derives dimensions the table computes from other
columns (the season from the date and city, the region from the city, the area band
from the room area), normalises spellings (aliases such as 司局级 -> 厅局级), then
merges with the value lines.  A dimension cell ``*`` (or blank) in a table matches
anything; the most specific line wins.  Rows that match nothing get NaN and a
``lookup_status`` saying why.
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from costperf.errors import InputError
from costperf.standards.format import WILDCARD, parse_month_day
from costperf.standards.tables import StandardSet, TableVersion, effective_periods

#: columns added by :func:`lookup_values` (before the prefix).
RESULT_COLUMNS = (
    "value",
    "lower",
    "upper",
    "unit",
    "standard_id",
    "table_id",
    "version",
    "kind",
    "name_zh",
    "document_no",
    "verified",
    "effective_from",
    "effective_to",
    "lookup_status",
)
OK = "ok"
_LINE_FIELDS = (
    "value",
    "lower",
    "upper",
    "unit",
    "standard_id",
    "kind",
    "name_zh",
    "document_no",
    "verified",
)


@dataclass(frozen=True)
class StandardValue:
    """One looked-up standard value with its provenance."""

    value: float
    lower: float
    upper: float
    unit: str
    standard_id: str
    table_id: str
    version: int
    kind: str
    name_zh: str
    document_no: str
    verified: bool
    effective_from: dt.date
    effective_to: dt.date | None

    @property
    def ref(self) -> str:
        """``standard_id@version``, as review lines cite it."""
        return f"{self.standard_id}@{self.version}"


def as_dates(on: object, query: pd.DataFrame) -> pd.Series:
    """The lookup date of every query row: a column name or one date for all rows."""
    if isinstance(on, str) and on in query.columns:
        return pd.to_datetime(query[on], errors="coerce").dt.normalize().reset_index(drop=True)
    try:
        stamp = pd.Timestamp(on)
    except (TypeError, ValueError) as exc:
        msg = f"on={on!r}: neither a column of the query nor a date (expected YYYY-MM-DD)"
        raise InputError(msg) from exc
    if pd.isna(stamp):
        msg = f"on={on!r}: expected a date or a date column"
        raise InputError(msg)
    return pd.Series(stamp.normalize(), index=range(len(query)))


def versions_in_force(
    standards: StandardSet, table_ids: pd.Series, dates: pd.Series, *, include_drafts: bool = False
) -> pd.Series:
    """Version of each row's table in force on the row's date (NaN when none)."""
    out = np.full(len(table_ids), np.nan)
    codes, uniques = pd.factorize(table_ids, use_na_sentinel=True)
    if not len(uniques):
        return pd.Series(out, index=table_ids.index)
    same = dates.index.equals(table_ids.index)
    all_dates = (dates if same else dates.loc[table_ids.index]).to_numpy()
    for k, table_id in enumerate(uniques):
        starts, ends, numbers = _table_periods(standards, include_drafts, table_id)
        if not len(starts):
            continue
        rows = np.flatnonzero(codes == k)
        when = all_dates[rows]
        starts, ends = starts.astype(when.dtype), ends.astype(when.dtype)
        pos = np.searchsorted(starts, when, side="right") - 1
        found = pos >= 0
        safe = np.where(found, pos, 0)
        end = ends[safe]
        found &= ~np.isnat(when) & (np.isnat(end) | (when <= end))
        out[rows] = np.where(found, numbers[safe], np.nan)
    return pd.Series(out, index=table_ids.index)


def _table_periods(
    standards: StandardSet, include_drafts: bool, table_id: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(starts, ends, versions)`` of one table's periods by start, once per set."""
    cached = _PERIODS.setdefault(standards, {}).setdefault(("table", include_drafts), {})
    if table_id not in cached:
        periods = _periods(standards, include_drafts)
        mine = periods[periods["table_id"] == table_id].sort_values("start")
        cached[table_id] = tuple(mine[c].to_numpy() for c in ("start", "end", "version"))
    return cached[table_id]


def newest_start(standards: StandardSet, table_id: str) -> pd.Timestamp | None:
    """The start of the newest version of ``table_id`` in force at any date (no drafts)."""
    periods = _periods(standards, False)
    starts = periods.loc[periods["table_id"].eq(table_id), "start"]
    return None if starts.empty else pd.Timestamp(starts.max())


_PERIODS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _periods(standards: StandardSet, include_drafts: bool) -> pd.DataFrame:
    """:func:`effective_periods` of a set, computed once per set (a set is immutable)."""
    cached = _PERIODS.setdefault(standards, {})
    if include_drafts not in cached:
        cached[include_drafts] = effective_periods(standards.tables, include_drafts=include_drafts)
    return cached[include_drafts]


# ---- dimension values of the query ----------------------------------------------------


def normalise_dimension(values: pd.Series, spec: Mapping[str, object]) -> pd.Series:
    """Map spellings to the table's values: aliases, then listed suffixes stripped.

    Works on the distinct values only, so it is cheap on long frames.
    """
    aliases = dict(spec.get("aliases") or {})
    suffixes = list(spec.get("strip_suffixes") or [])
    known = set(spec.get("values") or [])

    def one(value: object) -> str:
        text = str(value).strip()
        new = aliases.get(text, text)
        if new not in known:
            for suffix in suffixes:
                if new.endswith(suffix) and len(new) > len(suffix):
                    return aliases.get(new[: -len(suffix)], new[: -len(suffix)])
        return new

    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    mapped = np.array([one(u) for u in uniques] + [np.nan], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def season_labels(rule: Mapping[str, object], keys: pd.Series, dates: pd.Series) -> pd.Series:
    """Peak / off-peak label per row from a ``seasons`` rule (windows may wrap the year).

    A key (city) without windows is off-peak all year; a missing date or key gives NaN.
    """
    month_day = (dates.dt.month * 100 + dates.dt.day).to_numpy(dtype=float)
    peak = np.zeros(len(keys), dtype=bool)
    for key, windows in rule["windows"].items():
        mine = (keys == key).to_numpy(dtype=bool)
        for window in windows:
            sm, sd = parse_month_day(window["start"])
            em, ed = parse_month_day(window["end"])
            start, end = sm * 100 + sd, em * 100 + ed
            inside = (
                ((month_day >= start) & (month_day <= end))
                if start <= end
                else ((month_day >= start) | (month_day <= end))
            )
            peak |= mine & inside
    labels = np.where(peak, rule["peak"], rule["off_peak"]).astype(object)
    labels[keys.isna().to_numpy() | np.isnan(month_day)] = np.nan
    return pd.Series(labels, index=keys.index, dtype=object)


def band_labels(rule: Mapping[str, object], amounts: pd.Series) -> pd.Series:
    """Band label per row from a ``bands`` rule (``upto`` inclusive; last band open)."""
    numbers = pd.to_numeric(amounts, errors="coerce")
    labels = pd.Series(np.nan, index=amounts.index, dtype=object)
    remaining = numbers.notna()
    for band in rule["bands"]:
        upto = band.get("upto")
        hit = remaining & (numbers <= upto if upto is not None else True)
        labels[hit] = band["label"]
        remaining &= ~hit
    return labels


def query_dimensions(
    table: TableVersion,
    query: pd.DataFrame,
    dates: pd.Series,
    columns: Mapping[str, str],
    *,
    only_listed: bool = False,
) -> pd.DataFrame:
    """The table's dimension values for each query row: given, normalised or derived.

    Parameters
    ----------
    columns
        Table dimension (or rule key) -> query column holding it.
    only_listed
        Read only the dimensions listed in ``columns`` from the query (others are
        derived by the table's rules, take their default, or count as not given).
    """
    specs = table.header.get("dimensions") or {}
    out: dict[str, pd.Series] = {}  # the dimensions' columns, made one frame at the end
    for dim, spec in specs.items():
        col = columns.get(dim, dim)
        use = col in query.columns and (not only_listed or dim in columns)
        if use:
            out[dim] = normalise_dimension(query[col], spec)
        else:  # not given: blank (what normalise_dimension makes of a blank column)
            out[dim] = pd.Series(np.nan, index=query.index, dtype=object)
    for rule in (table.header.get("rules") or {}).values():
        dim = rule.get("dim")
        if rule.get("type") not in ("seasons", "map", "bands") or dim not in out:
            continue
        need = out[dim].isna()
        if not need.any():
            continue
        key_col = columns.get(rule["key"], rule["key"])
        if rule["key"] in out:
            key = out[rule["key"]]
        elif key_col in query.columns:
            key = query[key_col]
        else:
            continue
        if rule["type"] == "seasons":
            derived = season_labels(rule, key, dates)
        elif rule["type"] == "map":
            spec = {"values": list(rule["map"]), "strip_suffixes": rule.get("strip_suffixes")}
            derived = normalise_dimension(key, spec).map(rule["map"], na_action="ignore")
        else:
            derived = band_labels(rule, key)
        out[dim] = out[dim].where(~need, derived)
    for dim, spec in specs.items():
        if spec.get("default") is not None:
            out[dim] = out[dim].where(out[dim].notna(), spec["default"])
    return pd.DataFrame(out, index=query.index) if out else pd.DataFrame(index=query.index)


# ---- matching -----------------------------------------------------------------------


_LINE_INDEX: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _line_index(table: TableVersion) -> list[tuple[tuple[str, ...], dict[tuple, list[int]]]]:
    """The lines of ``table.values`` by wildcard pattern: per pattern, the dimensions it
    names (not ``*``) and ``(item, component, *those values) -> line positions``
    (ascending).  Computed once per version (a version is immutable)."""
    cached = _LINE_INDEX.get(table)
    if cached is not None:
        return cached
    lines = table.values.reset_index(drop=True)
    dims = table.dims
    wild = [lines[dim].eq(WILDCARD).to_numpy() for dim in dims]
    cells = {c: lines[c].to_numpy(dtype=object) for c in ("item", "component", *dims)}
    groups: dict[tuple[str, ...], dict[tuple, list[int]]] = {}
    for pos in range(len(lines)):
        literal = tuple(d for d, w in zip(dims, wild, strict=True) if not w[pos])
        key = tuple(cells[c][pos] for c in ("item", "component", *literal))
        groups.setdefault(literal, {}).setdefault(key, []).append(pos)
    cached = list(groups.items())
    _LINE_INDEX[table] = cached
    return cached


def match_lines(table: TableVersion, keys: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Best line of ``table.values`` for each row of ``keys`` (item, component, dims).

    Returns ``(line_position, n_best)``: the position in ``table.values`` of the most
    specific matching line (NaN: none) and how many lines tie at that specificity.
    A line matches a row whose values equal its own in every dimension it names (not
    ``*``); a row missing one of those values matches none of its pattern's lines.
    """
    n = len(keys)
    spec = np.full(n, -1, dtype=np.intp)
    first = np.zeros(n, dtype=np.intp)
    count = np.zeros(n, dtype=np.intp)
    cells = {c: keys[c].to_numpy(dtype=object) for c in ("item", "component", *table.dims)}
    given = {c: ~pd.isna(v) for c, v in cells.items()}
    for literal, index in _line_index(table) if n else ():
        on = ("item", "component", *literal)
        rows = np.flatnonzero(np.logical_and.reduce([given[c] for c in on]))
        found = [index.get(key) for key in zip(*(cells[c][rows] for c in on), strict=True)]
        width = len(literal)
        for row, hit in zip(rows.tolist(), found, strict=True):
            if hit is None or width < spec[row]:
                continue
            if width > spec[row]:
                spec[row], first[row], count[row] = width, hit[0], len(hit)
            else:
                first[row], count[row] = min(first[row], hit[0]), count[row] + len(hit)
    hit = spec >= 0
    best_line = pd.Series(np.where(hit, first, np.nan), index=keys.index)
    return best_line, pd.Series(count, index=keys.index)


def _match_distinct(table: TableVersion, keys: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """:func:`match_lines` computed once per distinct key row (the dates of a version
    share few keys), spread to every row."""
    if len(keys) < 2:
        return match_lines(table, keys)
    codes = keys.groupby(list(keys.columns), dropna=False, sort=False).ngroup().to_numpy()
    _, first = np.unique(codes, return_index=True)
    if len(first) == len(keys):
        return match_lines(table, keys)
    best, ties = match_lines(table, keys.iloc[first].reset_index(drop=True))
    order = np.empty(len(first), dtype=np.intp)
    order[codes[first]] = np.arange(len(first))  # group number -> distinct row
    rows = order[codes]
    return (
        pd.Series(best.to_numpy()[rows], index=keys.index),
        pd.Series(ties.to_numpy()[rows], index=keys.index),
    )


def _explain(table: TableVersion, standards: StandardSet, key: Mapping[str, object]) -> str:
    """Why one (item, component, dims) key matched nothing in ``table``."""
    lines = table.values
    items = table.header.get("items") or {}
    item, comp = key["item"], key["component"]
    if pd.isna(item) or item == "":
        return "no item given"
    if item not in items:
        return f"unknown item '{item}' in {table.table_id}"
    cand = lines[lines["item"] == item]
    if cand.empty:
        return f"no '{item}' line in {table.ref}"
    cand = cand[cand["component"] == ("" if pd.isna(comp) else comp)]
    if cand.empty:
        have = ", ".join(sorted(set(lines.loc[lines["item"] == item, "component"]))) or "none"
        return f"no component '{comp}' for '{item}' in {table.ref} (components: {have})"
    every = standards.values[standards.values["table_id"] == table.table_id]
    for dim in table.dims:
        value = key.get(dim)
        wildcard = cand[dim].eq(WILDCARD)
        if pd.isna(value):
            if not wildcard.any():
                return f"no {dim} given (the '{item}' lines differ by {dim})"
            cand = cand[wildcard]
            continue
        declared = set((table.header["dimensions"][dim] or {}).get("values") or [])
        exact = cand[dim].eq(value)
        if exact.any():
            cand = cand[exact]
        elif wildcard.any():
            cand = cand[wildcard]
        elif value not in declared and not every[dim].eq(value).any():
            return f"unknown {dim} '{value}'"
        else:
            return f"no value for {dim} '{value}' in {table.ref}"
    return f"no matching line in {table.ref}"


def _result_frame(n: int) -> dict[str, np.ndarray]:
    cols: dict[str, np.ndarray] = {c: np.full(n, np.nan, dtype=object) for c in RESULT_COLUMNS}
    for c in ("value", "lower", "upper"):
        cols[c] = np.full(n, np.nan)
    return cols


def lookup_values(
    standards: StandardSet,
    query: pd.DataFrame,
    *,
    on: object,
    table: str | None = None,
    item: str | None = None,
    component: str | None = None,
    dims: Sequence[str] | Mapping[str, str] | None = None,
    include_drafts: bool = False,
    prefix: str = "",
) -> pd.DataFrame:
    """Attach to each query row the standard value that applied on its date.

    Parameters
    ----------
    standards
        The tables (:func:`~costperf.standards.read_standards`).
    query
        One row per lookup.  Identifies the table by ``table`` or a ``table_id``
        column, the value line by ``item``/``component`` (arguments or columns) and
        dimension columns; or, with no table given, by a ``standard_id`` column.
    on
        Name of the date column, or one date for every row.
    dims
        Table dimensions to read from the query: a list (same names) or a mapping
        dimension -> query column; dimensions not listed count as not given (derived
        by the table's rules, or their default).  Default (None): every query column
        named like a dimension.  Columns a table's rules derive from (``city``,
        ``room_area_m2``) are read by name or through the mapping.
    include_drafts
        Let draft versions take effect from their ``effective_from``.
    prefix
        Put before every added column name (e.g. ``'standard_'``), for queries that
        already have columns such as ``unit``.

    Returns
    -------
    DataFrame
        The query (same index, same columns) plus :data:`RESULT_COLUMNS` (prefixed)
        and any dimension derived (e.g. ``season``) not already in the query.
        ``lookup_status`` is ``'ok'`` or the reason there is no value, e.g.
        ``"no 'travel-lodging' table in force on 2013-05-01"``, ``"unknown city 'X'"``.
    """
    by_id = (
        table is None
        and item is None
        and "table_id" not in query.columns
        and "standard_id" in query.columns
    )
    added = [prefix + c for c in RESULT_COLUMNS]
    keep_inputs = {"standard_id"} if by_id else ({"table_id"} if table is None else set())
    clash = [c for c in added if c in query.columns and c.removeprefix(prefix) not in keep_inputs]
    if clash:
        msg = (
            f"the query already has column(s) {', '.join(clash)}; pass prefix="
            "'standard_' (or another prefix) to lookup_values"
        )
        raise ValueError(msg)
    frame = query.reset_index(drop=True)
    dates = as_dates(on, frame)
    raw_dates = frame[on] if isinstance(on, str) and on in frame.columns else None
    mapping = dict(dims) if isinstance(dims, Mapping) else {d: d for d in (dims or [])}
    if by_id:
        result, derived = _lookup_by_id(standards, frame, dates, raw_dates, include_drafts)
    else:
        result, derived = _lookup_by_table(
            standards,
            frame,
            dates,
            raw_dates,
            table,
            item,
            component,
            mapping,
            include_drafts,
            only_listed=dims is not None,
        )
    added = {}
    for col in RESULT_COLUMNS:
        if col in keep_inputs and col in query.columns:
            continue
        values = result[col]
        if col in ("effective_from", "effective_to"):
            values = pd.to_datetime(pd.Series(values)).array
        elif col == "version":
            values = pd.Series(values).astype("Int64").array
        elif values.dtype == object:  # keep object: inferring str dtype costs ~0.3 s/1M
            values = pd.Series(values, index=query.index, dtype=object)
        added[prefix + col] = values
    # the query's columns (one it already holds is replaced in place), then the added
    # ones (one frame: no insert per column)
    base = query
    held = [c for c in added if c in query.columns]
    if held:
        base = query.copy()
        for col in held:
            base[col] = added.pop(col)
    out = pd.concat([base, pd.DataFrame(added, index=query.index)], axis=1)
    out = out.__finalize__(query)  # its attrs and flags, as query.copy() keeps them
    for dim, values in derived.items():
        if dim not in out.columns and values.notna().any():
            out[dim] = values.to_numpy()
    return out


def _status_no_version(
    table_ids: pd.Series,
    dates: pd.Series,
    raw_dates: pd.Series | None,
    known: set[str],
    versions: pd.Series,
) -> np.ndarray:
    """``'ok'`` where a version is in force, else why not (computed for those rows only)."""
    status = np.full(len(table_ids), OK, dtype=object)
    missing = versions.isna().to_numpy()
    if not missing.any():
        return status
    ids = table_ids[missing].astype(str)
    when = dates[missing]
    text = "no '" + ids + "' table in force on " + when.dt.strftime("%Y-%m-%d").fillna("")
    if raw_dates is None:
        no_date = pd.Series("no date", index=when.index)
    else:
        raw = raw_dates.reset_index(drop=True)[missing].astype(object)
        blank = raw.isna() | raw.astype(str).str.strip().eq("")
        no_date = ("no valid date (got '" + raw.astype(str) + "')").where(~blank, "no date")
    text = text.where(when.notna(), no_date)
    text = text.where(ids.isin(list(known)), "unknown table '" + ids + "'")
    status[missing] = text.to_numpy(dtype=object)
    return status


def _lookup_by_table(
    standards: StandardSet,
    frame: pd.DataFrame,
    dates: pd.Series,
    raw_dates: pd.Series | None,
    table: str | None,
    item: str | None,
    component: str | None,
    mapping: Mapping[str, str],
    include_drafts: bool,
    only_listed: bool = False,
) -> tuple[dict[str, np.ndarray], dict[str, pd.Series]]:
    n = len(frame)
    table_ids = _column_or_scalar(frame, "table_id", table, "table")
    items = _column_or_scalar(frame, "item", item, "item")
    comps = (
        pd.Series("", index=frame.index, dtype=object)
        if component is None and "component" not in frame.columns
        else _column_or_scalar(frame, "component", component, "component")
    )
    comps = comps.astype(object).where(comps.notna(), "")
    versions = versions_in_force(standards, table_ids, dates, include_drafts=include_drafts)
    result = _result_frame(n)
    result["table_id"] = table_ids.to_numpy(dtype=object)
    status = _status_no_version(table_ids, dates, raw_dates, set(standards.table_ids()), versions)
    derived: dict[str, pd.Series] = {}
    # the rows of each (table, version) in force, in order of first appearance
    t_codes, t_ids = pd.factorize(table_ids)
    v_codes, v_numbers = pd.factorize(versions)
    pair = np.where((t_codes >= 0) & (v_codes >= 0), t_codes * len(v_numbers) + v_codes, -1)
    found, first = np.unique(pair, return_index=True)
    for code in found[np.argsort(first)]:
        if code < 0:
            continue
        tid, ver = t_ids[code // len(v_numbers)], v_numbers[code % len(v_numbers)]
        version = standards.versions[(tid, int(ver))]
        pos = np.flatnonzero(pair == code)  # = labels: frame has a RangeIndex
        rows = frame.iloc[pos]
        dim_values = query_dimensions(
            version, rows, dates.iloc[pos], mapping, only_listed=only_listed
        )
        for dim in dim_values.columns:
            if dim not in mapping and dim not in frame.columns:
                derived.setdefault(dim, pd.Series(np.nan, index=frame.index, dtype=object))
                derived[dim].iloc[pos] = dim_values[dim].to_numpy()
        keys = pd.concat(
            [
                pd.DataFrame(
                    {"item": items.iloc[pos].astype(object), "component": comps.iloc[pos]}
                ),
                dim_values,
            ],
            axis=1,
        )
        keys = keys.reset_index(drop=True)
        best, ties = _match_distinct(version, keys)
        _fill(result, status, pos, version, best, ties, keys, standards)
    result["lookup_status"] = status
    return result, derived


_LINE_CELLS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _line_cells(version: TableVersion) -> dict[str, np.ndarray]:
    """The fields :func:`_fill` copies, as object arrays by line position, once per
    version (a version is immutable; the arrays are only read)."""
    cached = _LINE_CELLS.get(version)
    if cached is None:
        lines = version.values
        cols = (*_LINE_FIELDS, "effective_from", "effective_to")
        cached = {col: lines[col].to_numpy(dtype=object) for col in cols}
        _LINE_CELLS[version] = cached
    return cached


def _fill(
    result: dict[str, np.ndarray],
    status: np.ndarray,
    positions: np.ndarray,
    version: TableVersion,
    best: pd.Series,
    ties: pd.Series,
    keys: pd.DataFrame,
    standards: StandardSet,
) -> None:
    cells = _line_cells(version)
    hit = best.notna().to_numpy()
    where = positions[hit]
    picked = best[hit].astype(int).to_numpy()
    for col in (*_LINE_FIELDS, "effective_from", "effective_to"):
        result[col][where] = cells[col][picked]
    result["version"][where] = version.version
    ambiguous = (ties > 1).to_numpy()
    status[positions[ambiguous]] = [
        f"ambiguous: {k} lines of {version.ref} match equally" for k in ties[ambiguous]
    ]
    for col in _LINE_FIELDS:
        result[col][positions[ambiguous]] = np.nan
    if hit.all():
        return
    missing = keys.loc[~hit].astype(object)
    codes, combos = pd.factorize(pd.MultiIndex.from_frame(missing))
    reasons = np.array(
        [
            _explain(
                version,
                standards,
                {
                    c: (None if pd.isna(v) else v)
                    for c, v in zip(missing.columns, combo, strict=True)
                },
            )
            for combo in combos
        ],
        dtype=object,
    )
    status[positions[~hit]] = reasons[codes]


def _lookup_by_id(
    standards: StandardSet,
    frame: pd.DataFrame,
    dates: pd.Series,
    raw_dates: pd.Series | None,
    include_drafts: bool,
) -> tuple[dict[str, np.ndarray], dict[str, pd.Series]]:
    ids = frame["standard_id"].astype(object)
    table_ids = ids.map(lambda s: str(s).split("/", 1)[0], na_action="ignore")
    versions = versions_in_force(
        standards, table_ids.fillna(""), dates, include_drafts=include_drafts
    )
    result = _result_frame(len(frame))
    status = _status_no_version(
        table_ids.fillna(""), dates, raw_dates, set(standards.table_ids()), versions
    )
    keys = pd.DataFrame(
        {
            "table_id": table_ids,
            "version": versions,
            "standard_id": ids,
            "_row": np.arange(len(frame)),
        }
    ).dropna(subset=["version"])
    lines = standards.values.assign(_line=np.arange(len(standards.values)))
    hits = keys.merge(
        lines[["table_id", "version", "standard_id", "_line"]],
        on=["table_id", "version", "standard_id"],
        how="inner",
    )
    rows, picked = hits["_row"].to_numpy(), lines.iloc[hits["_line"].to_numpy()]
    for col in (*_LINE_FIELDS, "table_id", "version", "effective_from", "effective_to"):
        result[col][rows] = picked[col].to_numpy()
    unmatched = versions.notna().to_numpy().copy()
    unmatched[rows] = False
    status[unmatched] = [
        f"unknown standard_id '{i}' in {t}@{int(v)}"
        for i, t, v in zip(ids[unmatched], table_ids[unmatched], versions[unmatched], strict=True)
    ]
    result["lookup_status"] = status
    return result, {}


def _column_or_scalar(frame: pd.DataFrame, column: str, scalar: str | None, arg: str) -> pd.Series:
    if scalar is not None:
        return pd.Series(scalar, index=frame.index, dtype=object)
    if column not in frame.columns:
        msg = (
            f"lookup: the query has no '{column}' column; add one or pass {arg}=... "
            f"(columns: {', '.join(map(str, frame.columns))})"
        )
        raise InputError(msg)
    return frame[column].astype(object)


def lookup_value(
    standards: StandardSet,
    key: str,
    on: object,
    *,
    item: str | None = None,
    component: str | None = None,
    include_drafts: bool = False,
    **dims: object,
) -> StandardValue:
    """Look up one value: ``key`` is a table id (with ``item``) or a standard_id.

    Examples
    --------
    >>> lookup_value(s, "travel-lodging", "2016-08-01", item="lodging",
    ...              city="大连", staff_level="其他人员").value   # doctest: +SKIP
    420.0

    Raises
    ------
    InputError
        When nothing matches, with the reason (``lookup_status``).
    """
    row = dict(dims)
    if "/" in key and item is None:
        row["standard_id"] = key
        query = pd.DataFrame([row])
        found = lookup_values(standards, query, on=on, include_drafts=include_drafts)
    else:
        if item is None:
            msg = f"table '{key}': give an item (--item), one of the table's items"
            raise InputError(msg)
        query = pd.DataFrame([row]) if row else pd.DataFrame(index=[0])
        found = lookup_values(
            standards,
            query,
            on=on,
            table=key,
            item=item,
            component=component,
            include_drafts=include_drafts,
        )
    hit = found.iloc[0]
    if hit["lookup_status"] != OK:
        shown = ", ".join(f"{k}={v}" for k, v in dims.items())
        msg = f"{key} on {on}" + (f" ({shown})" if shown else "") + f": {hit['lookup_status']}"
        raise InputError(msg)
    end = hit["effective_to"]
    return StandardValue(
        value=float(hit["value"]),
        lower=float(hit["lower"]),
        upper=float(hit["upper"]),
        unit=str(hit["unit"]),
        standard_id=str(hit["standard_id"]),
        table_id=str(hit["table_id"]),
        version=int(hit["version"]),
        kind=str(hit["kind"]),
        name_zh=str(hit["name_zh"]),
        document_no=str(hit["document_no"]),
        verified=bool(hit["verified"]),
        effective_from=pd.Timestamp(hit["effective_from"]).date(),
        effective_to=None if pd.isna(end) else pd.Timestamp(end).date(),
    )
