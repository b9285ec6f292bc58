"""The triangulation rule: median or weighted mean of the member rules per cell."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from costperf.errors import InputError
from costperf.standards.derive.registry import DeriveRule, get_rule, register
from costperf.standards.derive.result import RuleResult, finish_result, in_cell
from costperf.standards.derive.rules import RuleSpec, parse_rule


def combine_members(values: pd.DataFrame, params: Mapping[str, object]) -> pd.Series:
    """Combine member values (one column per member rule) row by row."""
    members = list(params["members"])
    table = values[members].to_numpy(dtype=float)
    if params["combine"] == "median":
        return pd.Series(np.nanmedian(table, axis=1), index=values.index)
    weights = np.asarray(params["weights"] or [1.0] * len(members), dtype=float)
    ok = np.isfinite(table)
    w = np.where(ok, weights, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ok, table, 0.0) @ weights / w.sum(axis=1)
    return pd.Series(mean, index=values.index)


def triangulation_rule(
    units: pd.DataFrame, dims: Sequence[str], spec: RuleSpec, params, digest: str
) -> RuleResult:
    """Median or weighted mean of the member rules' values per cell."""
    from costperf.standards.derive.evaluate import evaluate_spec

    names = list(params["members"])
    members = {m: evaluate_spec(units, dims, parse_rule(m), params) for m in names}
    return combine_results(members, dims, spec, params, digest)


def triangulation_of(
    units: pd.DataFrame,
    dims: Sequence[str],
    spec: RuleSpec,
    members: Mapping[str, RuleResult],
    params,  # noqa: ANN001
) -> RuleResult:
    """The triangulation from its members' results, already evaluated on the same
    ``units`` with the same checked ``params``: the numbers :func:`triangulation_rule`
    gives, without evaluating the members again."""
    from costperf.standards.derive.evaluate import hash_columns, prepare_peers
    from costperf.standards.derive.result import data_hash

    peers = prepare_peers(units, dims, params)
    digest = data_hash(peers, hash_columns(peers, dims, spec, params))
    return combine_results(members, dims, spec, params, digest)


def combine_results(
    members: Mapping[str, RuleResult], dims: Sequence[str], spec: RuleSpec, params, digest: str
) -> RuleResult:
    """Combine evaluated member rules into the triangulation's values and peer rows."""
    names = list(params["members"])
    wide = None
    for name in names:
        part = members[name].values[[*dims, "value"]].rename(columns={"value": name})
        wide = part if wide is None else wide.merge(part, on=list(dims), how="outer")
    from costperf.columns import code_label, message, sort_natural

    wide = sort_natural(wide, list(dims)).reset_index(drop=True)
    combined = combine_members(wide, params)
    peers_all = pd.concat([members[n].peers.assign(rule=f"{spec.name}/{n}") for n in names])
    rows, peers = [], []
    names_zh = {n: code_label("derive_rule", n, "zh") for n in names}  # the recorded English: codes
    for i, key in enumerate(wide[list(dims)].itertuples(index=False, name=None)):
        how = "median" if params["combine"] == "median" else "weighted_mean"
        method, method_zh = (
            message(
                "derive.method_triangulation",
                lang,
                how=code_label("derive_combine", how, lang),
                members=message("list.enumeration", lang).join(
                    f"{named[n]} {wide[n].iloc[i]:.4g}" for n in names
                ),
            )
            for lang, named in (("en", dict(zip(names, names, strict=True))), ("zh", names_zh))
        )
        cell_peers = peers_all[in_cell(peers_all, dims, key)]
        union = cell_peers.groupby("project_id")["used"].any()
        row = {
            **dict(zip(dims, key, strict=True)),
            "rule": spec.name,
            "value": float(combined.iloc[i]),
            "n_used": int(union.sum()),
            "n_excluded": int((~union).sum()),
            "method": method,
            "method_zh": method_zh,
            "peers_used": ";".join(sorted(union.index[union])),
            "peers_excluded": ";".join(sorted(union.index[~union])),
        }
        rows.append(row)
        peers.append(cell_peers)
    return finish_result(rows, peers, dims, params, spec, digest)


def _check_members(params: dict[str, object], where: str) -> dict[str, object]:
    from costperf.standards.derive.dea import names_list

    params = names_list(params, ("members",), where)
    members = [parse_rule(m, where=f"{where}: members") for m in params["members"]]
    if any(m.kind == "triangulation" for m in members) or not members:
        msg = f"{where}: members must list one or more rules other than triangulation"
        raise InputError(msg)
    params["members"] = tuple(m.name for m in members)
    weights = params["weights"]
    if weights is not None:
        ok = isinstance(weights, list | tuple) and len(weights) == len(members)
        if not ok or not all(isinstance(w, int | float) and w >= 0 for w in weights):
            msg = (
                f"{where}: weights must be {len(members)} numbers >= 0, one per member "
                f"({', '.join(params['members'])}), got {weights!r}"
            )
            raise InputError(msg)
        if sum(weights) <= 0:
            msg = f"{where}: weights must not all be 0, got {weights!r}"
            raise InputError(msg)
        params["weights"] = tuple(float(w) for w in weights)
    return params


def _hash(units, dims, spec, params) -> list[str]:  # noqa: ANN001, ARG001
    out: list[str] = []
    for member in params["members"]:
        m = parse_rule(member)
        out += get_rule(m.kind).hashed_columns(units, dims, m, params)
    return out


def _is_local(spec: RuleSpec, params) -> bool:  # noqa: ANN001, ARG001
    members = (parse_rule(m) for m in params["members"])
    return all(get_rule(m.kind).is_local(m, params) for m in members)


def _drop_grid(peers, dims, spec, params, grid_of) -> pd.DataFrame:  # noqa: ANN001, ARG001
    """The members' leave-one-out grids, combined drop by drop."""
    wide = None
    for member in params["members"]:
        part = grid_of(member).rename(columns={"value": member})
        wide = part if wide is None else wide.merge(part, on=[*dims, "dropped", "in_cell"])
    return wide[[*dims, "dropped", "in_cell"]].assign(value=combine_members(wide, params))


register(
    DeriveRule(
        kind="triangulation",
        names=("triangulation",),
        parse=lambda text: (
            RuleSpec("triangulation", "triangulation") if text == "triangulation" else None
        ),
        evaluate=triangulation_rule,
        hashed_columns=_hash,
        drop_grid=_drop_grid,
        naive_drop_grid=_drop_grid,  # the members' grids are naive there
        is_local=_is_local,
        params={
            "members": ("median", "regression", "quantile_regression", "dea"),
            "combine": "median",
            "weights": None,
        },
        choices={"combine": ("median", "weighted_mean")},
        check=_check_members,
        label_zh="多方法三角验证",
    )
)
