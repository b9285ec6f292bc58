"""Derive unit-cost standards from peer data, with provenance for every value.

A derived value records which peer rows it used and which it excluded (and why), the
method and its parameters, and a hash of the data, so an auditor can recompute it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from costperf.benchmark.peers import flag_outliers, peer_statistics
from costperf.columns import sort_natural
from costperf.errors import InputError, located_error
from costperf.standards.derive_rules import (
    DEFAULT_PARAMS,
    LOCAL_KINDS,
    RuleResult,
    RuleSpec,
    _model_columns,
    case_formula,
    check_params,
    combine_members,
    dea_rule,
    in_cell,
    parse_rule,
    peer_statistic_rule,
    regression_drop_grid,
    regression_rule,
    triangulation_rule,
)

RULE_QUANTILES = {"median": 0.5, "p25": 0.25, "p75": 0.75, "p10": 0.10, "p90": 0.90}
STANDARD_COLUMNS = [
    "standard_id",
    "version",
    "name",
    "kind",
    "dims",
    "value",
    "lower",
    "upper",
    "unit",
    "method",
    "rule",
    "outlier_rule",
    "n_peers",
    "n_excluded",
    "peers_used",
    "peers_excluded",
    "parameters",
    "data_hash",
    "effective_from",
    "status",
]


def data_hash(frame: pd.DataFrame, columns: Sequence[str]) -> str:
    """SHA-256 (first 16 hex digits) of the given columns, independent of row order."""
    part = frame[list(columns)].sort_values(list(columns)).to_csv(index=False)
    return hashlib.sha256(part.encode("utf-8")).hexdigest()[:16]


def _statistic(values: pd.Series, rule: str) -> float:
    if rule == "mean":
        return float(values.mean())
    return float(values.quantile(RULE_QUANTILES[rule], interpolation="linear"))


def derive_unit_cost_standard(
    units: pd.DataFrame,
    *,
    dims: Sequence[str],
    standard_id: str,
    name: str,
    version: str,
    effective_from: dt.date,
    rule: str = "median",
    outlier_rule: str = "iqr",
    band: tuple[str, str] = ("p25", "p75"),
    unit: str = "",
    value: str = "unit_cost",
) -> pd.DataFrame:
    """Peer-statistic unit-cost standard per dimension cell, after outlier screening.

    Parameters
    ----------
    units
        One row per peer (``project_id``, ``dims``, ``value`` [yuan per output unit]).
    rule
        Statistic of the screened peers: median, mean, p25, p75, p10, p90 (quantiles are
        type 7, as Excel PERCENTILE.INC).
    outlier_rule
        'iqr' (1.5 IQR fences), 'mad' (modified z-score > 3.5) or 'none'.
    band
        Statistics giving the reasonable range (合理区间) ``lower``..``upper``.

    Returns
    -------
    DataFrame
        One row per dimension cell with :data:`STANDARD_COLUMNS` plus the ``dims``.
    """
    missing = [c for c in (*dims, value, "project_id") if c not in units.columns]
    if missing:
        msg = f"cannot derive a standard: the peer table has no column(s) {', '.join(missing)}"
        raise InputError(msg)
    peers = units.dropna(subset=[value, *dims])
    if peers.empty:
        msg = f"cannot derive a standard: no peer has a {value} and {', '.join(dims)}"
        raise InputError(msg)
    flagged = flag_outliers(peers, value, by=list(dims), rule=outlier_rule)
    digest = data_hash(peers, ["project_id", *dims, value])
    rows = []
    for key, cell in flagged.groupby(list(dims), sort=True, observed=True):
        key = key if isinstance(key, tuple) else (key,)
        kept = cell[~cell["outlier"]]
        dropped = cell[cell["outlier"]]
        params = {
            "rule": rule,
            "outlier_rule": outlier_rule,
            "band": list(band),
            "quantile_type": 7,
            "value_column": value,
        }
        rows.append(
            {
                **dict(zip(dims, key, strict=True)),
                "standard_id": standard_id,
                "version": version,
                "name": name,
                "kind": "unit_cost",
                "dims": "/".join(str(k) for k in key),
                "value": _statistic(kept[value], rule),
                "lower": _statistic(kept[value], band[0]),
                "upper": _statistic(kept[value], band[1]),
                "unit": unit,
                "method": f"peer {rule} of {len(kept)} contracts after {outlier_rule} screening",
                "rule": rule,
                "outlier_rule": outlier_rule,
                "n_peers": int(len(kept)),
                "n_excluded": int(len(dropped)),
                "peers_used": ";".join(sorted(kept["project_id"].astype(str))),
                "peers_excluded": ";".join(
                    f"{p}: {r}"
                    for p, r in sorted(
                        zip(
                            dropped["project_id"].astype(str),
                            dropped["outlier_reason"],
                            strict=True,
                        )
                    )
                ),
                "parameters": json.dumps(params, ensure_ascii=False),
                "data_hash": digest,
                "effective_from": effective_from.isoformat(),
                "status": "draft",
            }
        )
    table = pd.DataFrame(rows, columns=[*dims, *STANDARD_COLUMNS])
    return sort_natural(table, list(dims)).reset_index(drop=True)


def peer_table(
    units: pd.DataFrame, *, dims: Sequence[str], value: str = "unit_cost"
) -> pd.DataFrame:
    """Peer statistics per dimension cell (n, mean, median, quantiles, IQR, CV ...)."""
    return sort_natural(peer_statistics(units, value, by=list(dims)), list(dims))


# ---------------------------------------------------------------------------
# rules as data: values, comparison, sensitivity, provenance
# ---------------------------------------------------------------------------


def _prepare(units: pd.DataFrame, dims: Sequence[str], params: dict) -> pd.DataFrame:
    """Peers that belong to a cell (all dimensions given), with a plain row index."""
    needed = [params["id"], params["value"], *dims]
    missing = [c for c in needed if c not in units.columns]
    if missing:
        msg = f"cannot derive a standard: the peer table has no column(s) {', '.join(missing)}"
        raise InputError(msg)
    peers = units.dropna(subset=list(dims)).reset_index(drop=True)
    # header bookkeeping in attrs is deep-copied by every pandas operation; the rules
    # locate peers by their source_file/source_row columns and do not need it
    peers.attrs = {}
    if peers.empty:
        msg = f"cannot derive a standard: no peer has {', '.join(dims) or 'a row'}"
        raise InputError(msg)
    return peers


def _hash_columns(units: pd.DataFrame, dims: Sequence[str], spec: RuleSpec, params) -> list[str]:
    base = [params["id"], *dims, params["value"], params["output"], params["cost"]]
    if spec.kind in ("regression", "quantile_regression") and params["formula"]:
        base += _model_columns(units, case_formula(str(params["formula"]), dims))
    elif spec.kind == "dea":
        base += [*params["dea_inputs"], *params["dea_outputs"]]
    elif spec.kind == "triangulation":
        for member in params["members"]:
            base += _hash_columns(units, dims, parse_rule(member), params)
    return [c for c in dict.fromkeys(base) if c in units.columns]


def _evaluate(units: pd.DataFrame, dims: Sequence[str], spec: RuleSpec, params) -> RuleResult:
    digest = data_hash(units, _hash_columns(units, dims, spec, params))
    if spec.kind in ("quantile", "mean"):
        return peer_statistic_rule(units, dims, spec, params, digest)
    if spec.kind in ("regression", "quantile_regression"):
        return regression_rule(units, dims, spec, params, digest)
    if spec.kind == "dea":
        return dea_rule(units, dims, spec, params, digest)
    members = {m: _evaluate(units, dims, parse_rule(m), params) for m in params["members"]}
    return triangulation_rule(members, dims, spec, params, digest)


def evaluate_rule(
    units: pd.DataFrame, dims: Sequence[str], rule: str, **params: object
) -> RuleResult:
    """Values per cell and the peer rows behind them (used/excluded, with reasons).

    See :mod:`costperf.standards.derive_rules` for the rules and their parameters.
    """
    spec = parse_rule(rule)
    checked = check_params(params)
    return _evaluate(_prepare(units, dims, checked), list(dims), spec, checked)


def rule_values(
    units: pd.DataFrame, dims: Sequence[str], rule: str, **params: object
) -> pd.DataFrame:
    """The standard of every dimension cell under one rule, with its provenance.

    Parameters
    ----------
    units
        One row per peer contract: ``project_id``, the ``dims``, ``unit_cost`` [yuan per
        output unit], ``output_quantity``, ``total_cost`` [yuan] and whatever the rule
        uses (formula drivers, DEA inputs and outputs).
    dims
        Dimension columns (e.g. ``["road_grade"]``); one value per cell.
    rule
        ``median``, ``mean``, ``p10``, ``p25``, ``p75``, ``p90``, ``quantile:<q>``,
        ``regression``, ``quantile_regression``, ``dea`` or ``triangulation``.
    **params
        Rule parameters (:data:`~costperf.standards.derive_rules.DEFAULT_PARAMS`):
        ``outlier_rule``, ``k``, ``quantile_method``, ``formula``, ``at``
        (``median_drivers`` | ``mean_prediction``), ``tau``, ``model_outliers``,
        ``dea_inputs``, ``dea_outputs``, ``dea_rts``, ``dea_score``, ``members``,
        ``combine``, ``weights`` ...

    Returns
    -------
    DataFrame
        One row per cell: the ``dims``, ``rule``, ``value`` [yuan per output unit],
        ``n_used``, ``n_excluded``, ``method``, ``method_zh``, ``parameters`` (JSON),
        ``data_hash``, ``peers_used``, ``peers_excluded`` ("id: reason;...").
    """
    return evaluate_rule(units, dims, rule, **params).values


def rule_savings(
    units: pd.DataFrame, values: pd.DataFrame, dims: Sequence[str], **params: object
) -> pd.DataFrame:
    """Savings a standard implies across the peers of each cell.

    ``savings_yuan`` = sum over the cell's peers (all of them, outliers included) of
    ``max(0, unit_cost - standard) * output_quantity``; ``savings_pct`` is that as a
    percentage of the same peers' ``total_cost``.
    """
    p = check_params(params)
    peers = _prepare(units, dims, p)
    peers = peers[np.isfinite(peers[p["value"]]) & np.isfinite(peers[p["output"]])]
    merged = peers.merge(values[[*dims, "value"]], on=list(dims), how="inner")
    excess = np.maximum(0.0, merged[p["value"]] - merged["value"]) * merged[p["output"]]
    merged = merged.assign(_savings=excess.where(merged["value"].notna()))
    grouped = merged.groupby(list(dims), sort=False, dropna=False)
    out = grouped.agg(
        n_peers=(p["id"], "size"),
        peer_cost_yuan=(p["cost"], "sum"),
        savings_yuan=("_savings", lambda s: s.sum(min_count=1)),
    ).reset_index()
    out["savings_pct"] = 100.0 * out["savings_yuan"] / out["peer_cost_yuan"]
    return out


COMPARISON_COLUMNS = [
    "rule",
    "scope",
    "value",
    "n_used",
    "n_excluded",
    "n_peers",
    "peer_cost_yuan",
    "savings_yuan",
    "savings_pct",
    "method",
    "method_zh",
]


def compare_rules(
    units: pd.DataFrame,
    dims: Sequence[str],
    rules: Sequence[str],
    *,
    on_error: str = "raise",
    **params: object,
) -> pd.DataFrame:
    """Standards of several rules side by side, with the savings each implies.

    Parameters
    ----------
    rules
        Rule names (see :func:`rule_values`).
    on_error
        ``"raise"``; or ``"note"``: a rule that cannot be computed (no formula, no DEA
        inputs, a singular model) gets one row with NaN values and the reason in
        ``method``.

    Returns
    -------
    DataFrame
        :data:`COMPARISON_COLUMNS` with the ``dims`` after ``scope``: one ``scope =
        "cell"`` row per rule and cell, then one ``scope = "total"`` row per rule
        (dims blank) summing ``n_*``, ``peer_cost_yuan`` and ``savings_yuan``;
        ``savings_pct`` = savings / peer cost x 100.
    """
    dims = list(dims)
    parts = []
    for rule in rules:
        try:
            values = rule_values(units, dims, rule, **params)
        except InputError as exc:
            if on_error != "note":
                raise
            note = {"rule": rule, "scope": "total", "method": str(exc), "method_zh": str(exc)}
            parts.append(pd.DataFrame([note]))
            continue
        parts.append(_comparison_rows(units, dims, values, params))
    columns = [*COMPARISON_COLUMNS[:2], *dims, *COMPARISON_COLUMNS[2:]]
    return pd.concat(parts, ignore_index=True).reindex(columns=columns)


def _comparison_rows(units, dims, values: pd.DataFrame, params) -> pd.DataFrame:  # noqa: ANN001
    """Cell rows plus one total row of one rule's values and savings."""
    dims = list(dims)
    cells = values.merge(rule_savings(units, values, dims, **params), on=dims, how="left")
    cells["scope"] = "cell"
    total = {
        "rule": values["rule"].iloc[0],
        "scope": "total",
        **{d: "" for d in dims},
        **{c: cells[c].sum() for c in ("n_used", "n_excluded", "n_peers", "peer_cost_yuan")},
        "savings_yuan": cells["savings_yuan"].sum(min_count=1),
        "method": values["method"].iloc[0] if len(values) == 1 else "all cells",
        "method_zh": values["method_zh"].iloc[0] if len(values) == 1 else "全部",
    }
    total["savings_pct"] = 100.0 * total["savings_yuan"] / total["peer_cost_yuan"]
    columns = [*COMPARISON_COLUMNS[:2], *dims, *COMPARISON_COLUMNS[2:]]
    out = pd.concat([cells, pd.DataFrame([total])], ignore_index=True)
    return out.reindex(columns=columns)


def leave_one_out_values(
    units: pd.DataFrame, dims: Sequence[str], rules: Sequence[str], **params: object
) -> pd.DataFrame:
    """The standard of each rule and cell recomputed with each peer dropped in turn.

    For rules whose cell value depends only on the cell's peers (peer statistics, DEA,
    a triangulation of those) the peers of the cell are dropped; for pooled model rules
    (regression, quantile regression) every peer is. Screening and fitting are redone
    after each drop. A rule that cannot be computed without a peer gives NaN.

    Returns
    -------
    DataFrame
        ``rule``, the ``dims``, ``dropped`` (project id), ``value`` [yuan per output unit].
    """
    checked = check_params(params)
    peers = _prepare(units, dims, checked)
    dims = list(dims)
    specs = [parse_rule(r) for r in rules]
    needed = [s.name for s in specs if s.kind != "triangulation"]
    if any(s.kind == "triangulation" for s in specs):
        needed += list(checked["members"])
    grids = {
        name: _drop_grid(peers, dims, parse_rule(name), checked) for name in dict.fromkeys(needed)
    }
    parts = []
    for spec in specs:
        if spec.kind == "triangulation":
            wide = None
            for member in checked["members"]:
                part = grids[member].rename(columns={"value": member})
                wide = part if wide is None else wide.merge(part, on=[*dims, "dropped", "in_cell"])
            grid = wide[[*dims, "dropped", "in_cell"]].assign(value=combine_members(wide, checked))
        else:
            grid = grids[spec.name]
        if _is_local(spec, checked):
            grid = grid[grid["in_cell"]]
        parts.append(grid.drop(columns="in_cell").assign(rule=spec.name))
    out = pd.concat(parts, ignore_index=True)
    return out[["rule", *dims, "dropped", "value"]]


def _drop_grid(peers: pd.DataFrame, dims: list[str], spec: RuleSpec, params) -> pd.DataFrame:
    """Value of every cell with every peer dropped (a local rule recomputes one cell only)."""
    if spec.kind in ("regression", "quantile_regression") and params["model_outliers"] == "none":
        return regression_drop_grid(peers, dims, spec, params)
    ids = peers[params["id"]].astype(str)
    local = spec.kind in LOCAL_KINDS
    base = _evaluate(peers, dims, spec, params).values[[*dims, "value"]]
    rows = []
    for i in peers.index:
        home = tuple(peers.loc[i, d] for d in dims)
        scope = in_cell(peers, dims, home) if local else pd.Series(True, index=peers.index)
        try:
            values = _evaluate(peers[scope & (peers.index != i)], dims, spec, params).values
        except InputError:
            values = pd.DataFrame([home], columns=dims).assign(value=np.nan)
        values = values[[*dims, "value"]]
        if local:  # the other cells keep their value
            values = pd.concat([base[~in_cell(base, dims, home)], values], ignore_index=True)
        rows.append(values.assign(dropped=ids[i], in_cell=in_cell(values, dims, home)))
    return pd.concat(rows, ignore_index=True)


def _is_local(spec: RuleSpec, params) -> bool:
    if spec.kind == "triangulation":
        return all(parse_rule(m).kind in LOCAL_KINDS for m in params["members"])
    return spec.kind in LOCAL_KINDS


SENSITIVITY_COLUMNS = [
    "rule",
    "value",
    "n_drops",
    "loo_min",
    "loo_max",
    "max_abs_change",
    "max_abs_pct_change",
    "most_influential_peer",
    "value_without_it",
]


def leave_one_out(
    units: pd.DataFrame, dims: Sequence[str], rules: Sequence[str], **params: object
) -> pd.DataFrame:
    """How far each rule's standard moves when one peer is dropped.

    Returns
    -------
    DataFrame
        One row per rule and cell: the ``dims`` after ``rule``, ``value`` (all peers),
        ``n_drops``, ``loo_min``, ``loo_max`` [yuan per output unit],
        ``max_abs_change``, ``max_abs_pct_change`` (% of ``value``), and the
        ``most_influential_peer`` with ``value_without_it``.
    """
    dims = list(dims)
    drops = leave_one_out_values(units, dims, rules, **params)
    rows = []
    for rule in dict.fromkeys(drops["rule"]):
        base = rule_values(units, dims, rule, **params)
        for _, cell in base.iterrows():
            key = tuple(cell[d] for d in dims)
            mine = drops[(drops["rule"] == rule) & in_cell(drops, dims, key)]
            change = (mine["value"] - cell["value"]).abs()
            top = change.idxmax() if change.notna().any() else None
            rows.append(
                {
                    "rule": rule,
                    **dict(zip(dims, key, strict=True)),
                    "value": cell["value"],
                    "n_drops": len(mine),
                    "loo_min": mine["value"].min(),
                    "loo_max": mine["value"].max(),
                    "max_abs_change": change.max(),
                    "max_abs_pct_change": 100.0 * change.max() / abs(cell["value"]),
                    "most_influential_peer": "" if top is None else mine.at[top, "dropped"],
                    "value_without_it": np.nan if top is None else mine.at[top, "value"],
                }
            )
    return pd.DataFrame(rows, columns=[SENSITIVITY_COLUMNS[0], *dims, *SENSITIVITY_COLUMNS[1:]])


def rule_provenance(
    units: pd.DataFrame, dims: Sequence[str], rules: Sequence[str], **params: object
) -> pd.DataFrame:
    """Every peer row behind every rule's values: used or excluded, and why.

    Returns
    -------
    DataFrame
        ``rule``, the ``dims``, ``project_id``, ``source_file``, ``source_row``,
        ``unit_cost``, ``output_quantity``, ``total_cost``, ``peer_value`` (what the rule
        used for the peer: its unit cost, model prediction or efficient unit cost),
        ``used``, ``reason``, ``reason_zh``, then the rule's ``method``, ``parameters``
        (JSON) and ``data_hash``.
    """
    return _provenance({rule: evaluate_rule(units, dims, rule, **params) for rule in rules})


# ---------------------------------------------------------------------------
# the derived standard table (standards format) and the case entry point
# ---------------------------------------------------------------------------

DEFAULT_COMPARE = (
    "median",
    "p25",
    "p75",
    "regression",
    "quantile_regression",
    "dea",
    "triangulation",
)
ISSUER = "同类项目成本测算（costperf）"


@dataclass(frozen=True, eq=False)
class DerivedTable:
    """A derived standard table version, ready for :func:`write_derived_table`.

    Attributes
    ----------
    header
        TOML header (status draft, kind unit_cost, ``[source]`` method + parameters +
        data hash + the peer-rows file).
    raw
        Value rows: the dims, ``item``, ``value``, ``lower``, ``upper``, ``unit``, ``note``.
    peer_rows
        The peer rows used and excluded (written next to the header; hashed with it).
    stem
        File stem, ``<table_id>-v<version>``.
    """

    header: dict[str, object]
    raw: pd.DataFrame
    peer_rows: pd.DataFrame
    stem: str

    @property
    def ref(self) -> str:
        return f"{self.header['table_id']}@{self.header['version']}"


def _toml_safe(value: object) -> object:
    """Parameters as TOML can hold them: no None/NaN, lists for tuples."""
    if isinstance(value, dict):
        return {str(k): _toml_safe(v) for k, v in value.items() if _keep(v)}
    if isinstance(value, list | tuple):
        return [_toml_safe(v) for v in value if _keep(v)]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _keep(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def table_id_of(standard_id: str) -> str:
    """A standard id as a table id: lower case, digits and '-' (``HW-UC`` -> ``hw-uc``)."""
    text = re.sub(r"[^a-z0-9-]+", "-", str(standard_id).lower()).strip("-")
    return text or "derived-unit-cost"


def build_standard_table(
    standard: pd.DataFrame,
    *,
    dims: Sequence[str],
    table_id: str,
    version: int,
    title: str,
    effective_from: dt.date,
    peer_rows: pd.DataFrame,
    unit: str = "",
    class_of_matter: str = "",
    issuer: str = ISSUER,
    dim_labels: Mapping[str, str] | None = None,
    item_label: str = "单位成本",
    decimals: int = 2,
) -> DerivedTable:
    """Lay out a derived standard as a table version in the standards format.

    Parameters
    ----------
    standard
        One row per cell with the ``dims``, ``value``, ``lower``, ``upper``, ``rule``,
        ``method``, ``parameters`` (JSON), ``data_hash``, ``n_peers``, ``n_excluded``
        (as :func:`standard_frame` or :func:`derive_unit_cost_standard` give).
    version
        Whole number >= 1 (standard tables number their versions).
    peer_rows
        The provenance rows of the chosen rule (see :func:`rule_provenance`).
    decimals
        Values are rounded half-up to this many decimals. [yuan per output unit]

    Returns
    -------
    DerivedTable
        Status ``draft``, kind ``unit_cost``; ``[source]`` holds the method, the
        parameters, the data hash and the peer-rows file name. ``lower``/``upper``
        (the peer band) are kept only where they hold the value.
    """
    dims = list(dims)
    stem = f"{table_id}-v{version}"
    labels = dict(dim_labels or {})

    def rounded(x: float) -> float:
        return round_half_up(x, decimals)

    values = standard["value"].map(rounded)
    lower = standard["lower"].map(lambda x: rounded(x) if pd.notna(x) else np.nan)
    upper = standard["upper"].map(lambda x: rounded(x) if pd.notna(x) else np.nan)
    holds = (lower <= values) & (values <= upper)
    raw = pd.DataFrame(
        {
            **{d: standard[d].astype(str).to_numpy() for d in dims},
            "item": "unit_cost",
            "value": values.to_numpy(),
            "lower": lower.where(holds).to_numpy(),
            "upper": upper.where(holds).to_numpy(),
            "unit": unit,
            "note": [
                f"{int(n)}个合同测算，剔除{int(x)}个"
                for n, x in zip(standard["n_peers"], standard["n_excluded"], strict=True)
            ],
        }
    )
    rule = str(standard["rule"].iloc[0])
    parameters = _toml_safe(json.loads(standard["parameters"].iloc[0]))
    methods = list(dict.fromkeys(standard["method"]))
    header = {
        "table_id": table_id,
        "version": int(version),
        "status": "draft",
        "kind": "unit_cost",
        "title": f"{title}（测算草案）",
        "title_en": f"Unit-cost standard {table_id} (derived draft)",
        "issuer": issuer,
        **({"class_of_matter": class_of_matter} if class_of_matter else {}),
        "effective_from": effective_from,
        "notes": [
            f"本表为由同类合同数据测算的草案（规则：{rule}），未经发布。",
            f"测算方法：{standard['method_zh'].iloc[0]}"
            if "method_zh" in standard
            else f"测算方法：{methods[0]}",
            "每个数值所用及剔除的合同、参数和数据指纹见同名 .peers.csv 与 [source]。",
        ],
        "notes_en": [
            f"Draft derived from peer contracts (rule {rule}); not issued.",
            f"Method: {methods[0]}",
            "The contracts used and excluded per value are in the .peers.csv file.",
        ],
        "source": {
            "method": f"derive:{rule}",
            "note": " | ".join(methods),
            "parameters": parameters,
            "data_hash": str(standard["data_hash"].iloc[0]),
            "peer_rows": f"{stem}.peers.csv",
        },
        "dimensions": {
            d: {
                "label_zh": labels.get(d, d),
                "label_en": d,
                "values": list(dict.fromkeys(standard[d].astype(str))),
            }
            for d in dims
        },
        "items": {"unit_cost": {"label_zh": item_label, "label_en": "unit cost"}},
        "layout": {"rows": dims or ["item"], "columns": ["item"] if dims else []},
    }
    if not dims:
        del header["layout"]
    return DerivedTable(header, raw, peer_rows.reset_index(drop=True), stem)


def round_half_up(value: float, decimals: int = 2) -> float:
    """Round as a published table does: half-up on the decimal digits shown."""
    from decimal import ROUND_HALF_UP, Decimal

    step = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(float(value))).quantize(step, rounding=ROUND_HALF_UP))


def write_derived_table(table: DerivedTable, folder: str | Path) -> tuple[Path, Path, Path]:
    """Write the header, values and peer rows of a derived table into ``folder``.

    Uses :func:`~costperf.standards.tables.write_table_version` (which never overwrites
    a version); the peer-rows file is written first, so the header never points at a
    missing file, and removed again if the version cannot be written.
    """
    from costperf.io import write_table
    from costperf.standards.tables import write_table_version

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    peers_path = folder / f"{table.stem}.peers.csv"
    if peers_path.exists():
        msg = (
            f"{peers_path}: already exists; a table version is never overwritten "
            "(choose another output folder or remove the draft first)"
        )
        raise InputError(msg)
    write_table(table.peer_rows, peers_path)
    try:
        toml_path, csv_path = write_table_version(
            table.header,
            table.raw,
            folder,
            stem=table.stem,
            comment=f"Draft {table.ref} derived by costperf: {table.header['source']['method']}.",
        )
    except BaseException:
        peers_path.unlink(missing_ok=True)
        raise
    return toml_path, csv_path, peers_path


def standard_frame(
    values: pd.DataFrame,
    band: tuple[pd.DataFrame, pd.DataFrame] | None,
    *,
    dims: Sequence[str],
    standard_id: str,
    name: str,
    version: str,
    effective_from: dt.date,
    unit: str = "",
) -> pd.DataFrame:
    """A rule's values in the :data:`STANDARD_COLUMNS` shape the pipeline and review use.

    ``band`` gives the frames of the two band rules (e.g. p25 and p75 after screening)
    for ``lower``/``upper``; None leaves them NaN.
    """
    dims = list(dims)
    out = values.copy()
    if band is not None:
        for col, frame in zip(("lower", "upper"), band, strict=True):
            out = out.merge(
                frame[[*dims, "value"]].rename(columns={"value": col}), on=dims, how="left"
            )
    else:
        out["lower"] = out["upper"] = np.nan
    params = json.loads(out["parameters"].iloc[0]) if len(out) else {}
    return out.assign(
        standard_id=standard_id,
        version=version,
        name=name,
        kind="unit_cost",
        dims=["/".join(str(v) for v in row) for row in out[dims].itertuples(index=False)]
        if dims
        else "",
        unit=unit,
        outlier_rule=params.get("outlier_rule", ""),
        n_peers=out["n_used"],
        effective_from=effective_from.isoformat(),
        status="draft",
    ).reindex(columns=[*dims, *STANDARD_COLUMNS, "method_zh"])


@dataclass(frozen=True, eq=False)
class Derivation:
    """Everything ``costperf standards derive`` produces for one case.

    Attributes
    ----------
    rule
        The chosen rule.
    params
        Every rule parameter used (defaults filled in).
    units
        The peer table the rules ran on.
    standard
        The chosen rule's standard per cell, :data:`STANDARD_COLUMNS` shape.
    comparison
        :func:`compare_rules` over ``compared`` rules.
    sensitivity
        :func:`leave_one_out` for the same rules.
    provenance
        :func:`rule_provenance` rows of every compared rule.
    table
        The chosen standard as a draft table version (:class:`DerivedTable`).
    notes
        Rules that could not be computed, and why.
    """

    rule: str
    params: dict[str, object]
    units: pd.DataFrame
    standard: pd.DataFrame
    comparison: pd.DataFrame
    sensitivity: pd.DataFrame
    provenance: pd.DataFrame
    table: DerivedTable
    compared: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def derivation_settings(
    config: object, *, rule: str | None = None, **overrides: object
) -> tuple[str, dict[str, object], tuple[str, ...]]:
    """Rule, parameters and rules to compare for a case: case.toml, then ``overrides``.

    Parameters come from ``[standard]`` (rule, outlier_rule), ``[benchmark]`` (formula,
    quantile -> tau, frontier_inputs/outputs/rts -> dea_*), any raw ``[standard]`` keys
    the config carries in ``extra["standard"]`` that name a rule parameter, and finally
    ``overrides`` (None values are ignored). ``compare`` lists the rules to compare.
    """
    std = config.standard
    path = Path(config.folder) / "case.toml"
    raw = dict((getattr(config, "extra", None) or {}).get("standard", {}) or {})
    params: dict[str, object] = {
        "outlier_rule": std.outlier_rule,
        "formula": config.regression_formula,
        "tau": getattr(config, "regression_quantile", None),
        "dea_inputs": tuple(config.frontier_inputs),
        "dea_outputs": tuple(config.frontier_outputs),
        "dea_rts": getattr(config, "frontier_rts", None),
    }
    params.update({k: v for k, v in raw.items() if k in DEFAULT_PARAMS})
    compare = overrides.pop("compare", None) or raw.get("compare") or DEFAULT_COMPARE
    params.update({k: v for k, v in overrides.items() if v is not None})
    if rule is not None:
        chosen = parse_rule(rule, where=f"--rule (given instead of [standard] rule in {path})").name
    else:
        where = f"{path}: [standard] rule"
        try:
            chosen = parse_rule(raw.get("rule", std.rule), where=where).name
        except InputError as exc:
            raise located_error(
                str(exc), source_file=path, column="standard.rule", value=std.rule, check="config"
            ) from exc
    checked = check_params(params, where=f"{path}: [standard]")
    names = [parse_rule(r, where=f"{path}: compare").name for r in compare]
    return chosen, checked, tuple(dict.fromkeys([chosen, *names]))


def derive_for_case(
    config: object, data: object, *, rule: str | None = None, **overrides: object
) -> Derivation:
    """Derive the case's unit-cost standard by its rule, compare rules, test sensitivity.

    Parameters
    ----------
    config
        The :class:`~costperf.case.CaseConfig`.
    data
        The :class:`~costperf.pipeline.CaseData` from :func:`~costperf.pipeline.load_case_data`.
    rule
        Overrides ``[standard] rule`` (any rule of :func:`rule_values`).
    **overrides
        Rule parameters (``tau``, ``formula``, ``dea_inputs`` ...), ``compare`` (rules
        to compare) and ``table_version`` (whole number, default 1).

    Returns
    -------
    Derivation
    """
    from costperf.decompose.unit_costs import check_units, unit_table
    from costperf.errors import raise_if_problems

    table_version = overrides.pop("table_version", None) or 1
    chosen, params, compare = derivation_settings(config, rule=rule, **overrides)
    peers = data.peers
    units = unit_table(
        peers.projects,
        peers.line_items,
        peers.outputs,
        output_indicator=config.output_indicator,
        output_weights=getattr(config, "output_weights", None),
        variables=config.variables,
        drivers=config.drivers,
        output_value="actual",
    )
    raise_if_problems(check_units(units, output_indicator=config.output_indicator), "the peer data")
    dims = list(config.dimensions)
    results, notes = {}, []
    for name in compare:
        try:
            results[name] = evaluate_rule(units, dims, name, **params)
        except InputError as exc:
            if name == chosen:
                raise
            notes.append(f"{name}: {exc}")
    done = tuple(results)
    comparison = _comparison(units, dims, results, params)
    sensitivity = leave_one_out(units, dims, done, **params)
    provenance = _provenance(results)
    std = config.standard
    unit = f"元/{config.output_unit}" if config.output_unit else ""
    band = tuple(rule_values(units, dims, b, **params) for b in std.band)
    standard = standard_frame(
        results[chosen].values,
        band,
        dims=dims,
        standard_id=std.standard_id,
        name=std.name,
        version=std.version,
        effective_from=std.effective_from,
        unit=unit,
    )
    label = getattr(config, "label", None)
    table = build_standard_table(
        standard,
        dims=dims,
        table_id=table_id_of(std.standard_id),
        version=int(table_version),
        title=std.name,
        effective_from=std.effective_from,
        peer_rows=provenance[provenance["rule"] == chosen],
        unit=unit,
        class_of_matter=config.class_of_matter,
        dim_labels={d: label(d) if label else _column_label(d) for d in dims},
        item_label=f"{config.class_of_matter}单位成本",
    )
    return Derivation(
        chosen,
        params,
        units,
        standard,
        comparison,
        sensitivity,
        provenance,
        table,
        done,
        tuple(notes),
    )


def _column_label(name: str) -> str:
    from costperf.columns import label

    return label(name)


def _comparison(units, dims, results: Mapping[str, RuleResult], params) -> pd.DataFrame:  # noqa: ANN001
    parts = []
    for result in results.values():
        parts.append(_comparison_rows(units, dims, result.values, params))
    return pd.concat(parts, ignore_index=True)


def _provenance(results: Mapping[str, RuleResult]) -> pd.DataFrame:
    parts = []
    for result in results.values():
        meta = result.values[["method", "parameters", "data_hash"]].iloc[0]
        parts.append(result.peers.assign(**meta.to_dict()))
    return pd.concat(parts, ignore_index=True)
