"""Review new budget requests against unit-cost standards, line by line.

A request is a project with line items and output targets. Its approvable total is the
standard unit cost of its dimension cell (e.g. road grade) times its output target,
plus the tolerance the case allows. Above that, the excess is cut from the lines in
proportion to their amounts (so the request keeps its cost structure) and every line
names the rule, the standard and its version. A request without an output target cannot
be assessed against a unit-cost standard and is not funded (不予安排).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from costperf.columns import isin_texts, message, message_column, texts_of_codes
from costperf.errors import ParameterError
from costperf.params import ReviewParams
from costperf.review.registry import ReviewRule, register
from costperf.standards.derive.table import round_half_up_values

DECISIONS_ZH = {"approve": "通过", "reduce": "核减", "reject": "不予安排"}


def decision_columns(
    reject: pd.Series | np.ndarray, reduce: pd.Series | np.ndarray, index: pd.Index
) -> tuple[pd.Series, pd.Series]:
    """``decision`` (reject, else reduce, else approve) and ``decision_zh``, as ``str``
    columns (:func:`~costperf.columns.texts_of_codes`)."""
    codes = np.select([np.asarray(reject, dtype=bool), np.asarray(reduce, dtype=bool)], [1, 2], 0)
    names = ["approve", "reject", "reduce"]
    zh = [DECISIONS_ZH[name] for name in names]
    return texts_of_codes(codes, names, index), texts_of_codes(codes, zh, index)


# what every reviewed project and line says: the decision, the rule, the standard, why
DECISION_COLUMNS = [
    "cut",
    "cut_rate",
    "decision",
    "decision_zh",
    "rule",
    "standard_id",
    "standard_version",
    "reason_zh",
    "reason_en",
]
PROJECT_COLUMNS = [
    "project_id",
    "project_name",
    "district",
    "requested",
    "output_quantity",
    "standard_value",
    "adjustment",
    "approvable",
    "approved",
    *DECISION_COLUMNS,
]
LINE_COLUMNS = [
    "project_id",
    "line_no",
    "cost_element",
    "item",
    "quantity",
    "unit_price",
    "requested",
    "approved",
    *DECISION_COLUMNS,
    "source_file",
    "source_row",
]


def variable_adjustment(
    requests: pd.DataFrame,
    peers: pd.DataFrame,
    dims: Sequence[str],
    variable: str,
    *,
    elasticity: float = 1.0,
    label: str | Mapping[str, str] | None = None,
) -> tuple[pd.Series, pd.DataFrame]:
    """The factor scaling each request's standard by a variable (``[review] adjust_by``).

    factor = (the request's value / the peer median of its dimension cell) **
    ``elasticity``, e.g. the sweeps a day a request buys against its grade's norm. A
    request without the value (or a non-positive factor) gets NaN, i.e. no adjustment.

    ``label`` names the variable in the texts: one name, or one per language
    (``{"zh": ..., "en": ...}``); the variable's own name by default.

    Returns
    -------
    factor, texts
        Aligned with ``requests``; ``texts`` says how each factor was formed, in columns
        ``zh`` and ``en`` (empty where there is no factor).
    """
    if variable not in peers.columns or variable not in requests.columns:
        msg = f"'{variable}' is not a variable of both the peers and the requests"
        raise ParameterError(msg, "adjust_by")
    dims = list(dims)
    if dims:
        norm = peers.groupby(dims)[variable].median().rename("_norm")
        reference = requests[dims].join(norm, on=dims)["_norm"]
    else:
        reference = pd.Series(peers[variable].median(), index=requests.index)
    value = pd.to_numeric(requests[variable], errors="coerce")
    factor = (value / reference) ** elasticity
    factor = factor.where(np.isfinite(factor) & (factor > 0))
    power = "" if elasticity == 1 else f"^{elasticity:g}"
    names = label if isinstance(label, Mapping) else dict.fromkeys(("zh", "en"), label)
    texts = pd.DataFrame(index=requests.index)
    for lang in ("zh", "en"):
        name = names.get(lang) or variable
        texts[lang] = [
            message("reason.unit_cost.formed", lang, label=name, value=v, reference=r, power=power)
            if pd.notna(f)
            else ""
            for v, r, f in zip(value, reference, factor, strict=True)
        ]
    return factor, texts


def _match_standard(
    units: pd.DataFrame, standard: pd.DataFrame, dims: Sequence[str]
) -> pd.DataFrame:
    cols = [*dims, "standard_id", "version", "value"]
    return units.merge(standard[cols], on=list(dims), how="left", validate="many_to_one")


def review_projects(
    units: pd.DataFrame,
    standard: pd.DataFrame,
    *,
    dims: Sequence[str],
    output_unit: str = "",
    tolerance: float = 0.0,
    adjustment: pd.Series | None = None,
    adjustment_text: pd.Series | pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Decide each request's approved total against the unit-cost standard.

    Parameters
    ----------
    units
        One row per request (from :func:`costperf.decompose.unit_costs.unit_table` with
        output targets): ``project_id``, ``total_cost``, ``output_quantity`` and ``dims``.
    standard
        Standard values: ``dims``, ``standard_id``, ``version``, ``value`` [yuan per
        output unit].
    tolerance
        Share above the standard accepted without a cut (0.05 = 5 %).
    adjustment, adjustment_text
        Optional factor per request (aligned with ``units``) multiplying the standard,
        e.g. the ratio of the sweeps a request buys to the peers' norm for its grade,
        and how it was formed (shown in the reason): one text for both languages, or
        columns ``zh`` and ``en`` as :func:`variable_adjustment` gives them. Missing
        factors count as 1.

    Returns
    -------
    DataFrame
        :data:`PROJECT_COLUMNS`; approved + cut = requested on every row.
    """
    frame = _match_standard(units, standard, dims)
    requested = frame["total_cost"].fillna(0.0)
    output = frame["output_quantity"]
    value = frame["value"]
    factor = pd.Series(1.0, index=frame.index)
    if adjustment is not None:
        factor = pd.Series(np.asarray(adjustment, dtype=float), index=frame.index).fillna(1.0)
    approvable = round_half_up_values(value * output * factor * (1.0 + tolerance))
    no_output = output.isna() | (output <= 0)
    no_standard = ~no_output & value.isna()
    over = ~no_output & ~no_standard & (requested > approvable)
    approved = np.select([no_output, over], [0.0, approvable], default=requested)
    out = pd.DataFrame(
        {
            "project_id": frame["project_id"],
            "project_name": frame.get("project_name"),
            "district": frame.get("district"),
            "requested": requested,
            "output_quantity": output,
            "standard_value": value,
            "adjustment": factor,
            "approvable": approvable,
            "approved": approved,
        }
    )
    out["cut"] = (out["requested"] - out["approved"]).round(2)
    out["cut_rate"] = out["cut"] / out["requested"].where(out["requested"] > 0)
    out["decision"] = np.select([no_output, over], ["reject", "reduce"], default="approve")
    out["decision_zh"] = out["decision"].map(DECISIONS_ZH)
    out["rule"] = np.select(
        [no_output, no_standard, over],
        ["no_output_target", "no_standard", "unit_cost_cap"],
        default="within_standard",
    )
    has_std = ~no_output & ~no_standard
    out["standard_id"] = frame["standard_id"].where(has_std)
    out["standard_version"] = frame["version"].where(has_std)
    dim_text = _dims_text(frame[list(dims)]) if dims else ""
    texts = pd.DataFrame(index=frame.index)
    for lang in ("zh", "en"):
        given = adjustment_text
        if isinstance(given, pd.DataFrame):
            given = given[lang]
        texts[lang] = "" if given is None else np.asarray(given, dtype=object)
    out["reason_zh"], out["reason_en"] = _project_reasons(
        out, dim_text, output_unit, tolerance, texts
    )
    return out[PROJECT_COLUMNS]


def _project_reasons(
    out: pd.DataFrame, dims: pd.Series, unit: str, tolerance: float, texts: pd.DataFrame
) -> tuple[list[str], list[str]]:
    zh, en = [], []
    tol = {
        g: message("reason.unit_cost.tolerance", g, tolerance=tolerance) if tolerance else ""
        for g in ("zh", "en")
    }
    if isinstance(dims, str):
        dims = pd.Series(dims, index=out.index)
    rows = zip(out.itertuples(index=False), dims, texts["zh"], texts["en"], strict=True)
    for r, d, text_zh, text_en in rows:
        std = f"{r.standard_id}@{r.standard_version}"
        shown = {"zh": text_zh, "en": text_en}
        for lang, reasons in (("zh", zh), ("en", en)):
            adj = (
                message("reason.unit_cost.adjustment", lang, factor=r.adjustment, text=shown[lang])
                if r.adjustment != 1
                else ""
            )
            values = {"standard": std, "dims": d, "value": r.standard_value, "unit": unit}
            if r.rule == "no_output_target":
                reasons.append(message("reason.unit_cost.no_output_target", lang))
            elif r.rule == "no_standard":
                reasons.append(message("reason.unit_cost.no_standard", lang, dims=d))
            elif r.rule == "unit_cost_cap":
                reasons.append(
                    message(
                        "reason.unit_cost.cap",
                        lang,
                        **values,
                        output=r.output_quantity,
                        adjustment=adj,
                        tolerance=tol[lang],
                        approvable=r.approvable,
                        cut=r.cut,
                    )
                )
            else:
                reasons.append(message("reason.unit_cost.within", lang, **values, adjustment=adj))
    return zh, en


def allocate_cut(
    amounts: pd.Series,
    groups: pd.Series,
    approved_total: pd.Series,
    *,
    order: pd.Series | None = None,
) -> pd.Series:
    """Scale each group's line amounts to its approved total, exact to the fen.

    Each line gets its exact share of the group's total, in whole fen by the largest
    remainder method (最大余数法): every line is first given its share rounded down to
    the fen, and the fen still missing from the group's total go one each to the lines
    whose shares lost the most in rounding down.  So the lines sum exactly to the
    approved total and each is within one fen of its exact share (an independent
    ``round(share, 2)`` differs from it by at most 0.01 on any line).  Of equal
    remainders the larger line, then the one first by ``order`` (e.g. the line number;
    blanks last), then the first row takes the fen, so the result does not depend on the
    row order.
    """
    amount = amounts.to_numpy(dtype=float)
    code, _ = pd.factorize(groups.to_numpy(), use_na_sentinel=False)
    k = int(code.max()) + 1 if len(code) else 0
    total = np.bincount(code, weights=amount, minlength=k)
    target = groups.map(approved_total).to_numpy(dtype=float)
    target_fen = np.round(np.nan_to_num(target) * 100.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(total[code] > 0, target / total[code], 0.0)
    ratio = np.nan_to_num(ratio)
    # each share in fen; rounded to 1e-6 fen first so that 6666.999999999 counts as 6667
    share = np.round(amount * ratio * 100.0, 6)
    floor = np.floor(share)
    group_target = np.zeros(k)
    group_target[code] = target_fen
    given = np.bincount(code, weights=floor, minlength=k)
    # (a group of no amount to scale gets nothing: there is no share to give it by)
    missing = np.where(total > 0, np.round(group_target - given), 0)
    # rank each group's lines by what rounding down took from them (ties as documented)
    rank_order = np.nan if order is None else pd.to_numeric(order, errors="coerce").to_numpy()
    ranked = pd.DataFrame(
        {
            "group": code,
            "lost": -(share - floor),
            "amount": -amount,
            "order": rank_order,
            "position": np.arange(len(amount)),
        }
    ).sort_values(["group", "lost", "amount", "order", "position"], kind="stable")
    ranked["rank"] = ranked.groupby("group", sort=False).cumcount().to_numpy()
    rank = np.empty(len(amount), dtype=np.int64)
    rank[ranked["position"].to_numpy()] = ranked["rank"].to_numpy()
    fen = floor + (rank < missing[code])
    return pd.Series(np.round(fen / 100.0, 2), index=amounts.index)


def review_lines(line_items: pd.DataFrame, projects: pd.DataFrame) -> pd.DataFrame:
    """Carry each request's decision down to its lines (approved / cut / reason per line)."""
    decided = projects.set_index("project_id")
    lines = line_items.reset_index(drop=True)
    approved = allocate_cut(
        lines["amount"], lines["project_id"], decided["approved"], order=lines.get("line_no")
    )
    out = pd.DataFrame(
        {
            "project_id": lines["project_id"],
            "line_no": lines.get("line_no"),
            "cost_element": lines["cost_element"],
            "item": lines.get("item"),
            "quantity": lines.get("quantity"),  # as requested (recorded with the decision)
            "unit_price": lines.get("unit_price"),
            "requested": lines["amount"],
            "approved": approved,
        }
    )
    out["cut"] = (out["requested"] - out["approved"]).round(2)
    out["cut_rate"] = out["cut"] / out["requested"].where(out["requested"] > 0)
    per_project = decided.reindex(lines["project_id"])
    line_decision = np.where(
        out["cut"] <= 0, "approve", np.where(out["approved"] <= 0, "reject", "reduce")
    )
    out["decision"] = line_decision
    out["decision_zh"] = pd.Series(line_decision).map(DECISIONS_ZH).to_numpy()
    for col in ("rule", "standard_id", "standard_version"):
        out[col] = per_project[col].to_numpy()
    for lang in ("zh", "en"):
        share = np.where(out["cut"] > 0, message("reason.unit_cost.line_share", lang), "")
        out[f"reason_{lang}"] = per_project[f"reason_{lang}"].to_numpy() + share
    out["source_file"] = lines.get("source_file")
    out["source_row"] = lines.get("source_row")
    return out[LINE_COLUMNS]


def review_totals(projects: pd.DataFrame) -> dict[str, float]:
    """Requested, approved, cut and cut rate over all requests, and counts by decision."""
    requested = float(projects["requested"].sum())
    approved = float(projects["approved"].sum())
    counts = projects["decision"].value_counts()
    return {
        "requests": int(len(projects)),
        "requested": round(requested, 2),
        "approved": round(approved, 2),
        "cut": round(requested - approved, 2),
        "cut_rate": (requested - approved) / requested if requested else 0.0,
        **{f"n_{d}": int(counts.get(d, 0)) for d in DECISIONS_ZH},
    }


def review_unit_cost(
    request_units: pd.DataFrame,
    request_lines: pd.DataFrame,
    standard: pd.DataFrame,
    peer_units: pd.DataFrame,
    *,
    dims: Sequence[str],
    params: ReviewParams,
    output_unit: str = "",
    adjust_label: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Review requests against the published unit-cost standard, project and line.

    Parameters
    ----------
    request_units
        One row per request (:func:`~costperf.decompose.unit_costs.unit_table` with
        output targets).
    request_lines
        The requests' line items (the cut is allocated to them pro rata).
    standard
        The standard as published: ``dims``, ``standard_id``, ``version``, ``value``.
    peer_units
        The peers' unit table (the reference of ``params.adjust_by``).
    params
        Tolerance and the optional variable adjustment.

    Returns
    -------
    projects, lines, totals
        :func:`review_projects`, :func:`review_lines` and :func:`review_totals`.
    """
    factor = text = None
    if params.adjust_by is not None:
        factor, text = variable_adjustment(
            request_units,
            peer_units,
            dims,
            params.adjust_by,
            elasticity=params.adjust_elasticity,
            label=adjust_label,
        )
    decided = review_projects(
        request_units,
        standard,
        dims=dims,
        output_unit=output_unit,
        tolerance=params.tolerance,
        adjustment=factor,
        adjustment_text=text,
    )
    return decided, review_lines(request_lines, decided), review_totals(decided)


# ---- the unit-cost standard as a project cap in a batch review -------------------------

VERDICT_COLUMNS = [
    "cap",
    "reject",
    "covered",
    "manual_review",
    "manual_review_reason_zh",
    "manual_review_reason_en",
    "rule",
    "standard_id",
    "standard_version",
    "basis_zh",
    "basis_en",
]


#: a unit-cost verdict's facts beside :data:`VERDICT_COLUMNS`: the cap's factors
CAP_FACTS = ["output_quantity", "standard_value"]


def output_unit(unit: object) -> str:
    """The output unit of a standard's unit (``元/m2`` -> ``m2``), folded for matching."""
    import unicodedata

    text = unicodedata.normalize("NFKC", str(unit)).strip()
    tail = text.split("/", 1)[1] if "/" in text else text
    return {"平方米": "m2", "m^2": "m2", "㎡": "m2"}.get(tail, tail).lower().replace(" ", "")


def quantified_outputs(targets: pd.DataFrame) -> pd.DataFrame:
    """Numeric 产出-数量 targets: ``project_id, indicator, unit_key, value`` (value > 0)."""
    from costperf.schemas import parse_numbers

    rows = targets[targets["category"].eq("output_quantity")]
    if rows.empty:
        return pd.DataFrame(columns=["project_id", "indicator", "unit_key", "value"])
    text = rows["target"] if "target" in rows else pd.Series(np.nan, index=rows.index)
    numbers, _, _ = parse_numbers(text)
    unit = rows["unit"] if "unit" in rows else pd.Series("", index=rows.index)
    out = pd.DataFrame(
        {
            "project_id": rows["project_id"],
            "indicator": rows["indicator"],
            "unit_key": unit.fillna("").map(output_unit),
            "value": numbers,
        }
    )
    return out[out["value"].gt(0)]


def _unit_cost_tables(context: object) -> list[tuple[str, str, object]]:
    """``(table_id, class_of_matter, version in force)`` of the unit-cost tables."""
    from costperf.standards.lookup import versions_in_force

    standards = context.standards
    ids = sorted(set(standards.tables.loc[standards.tables["kind"].eq("unit_cost"), "table_id"]))
    found = []
    for table_id in ids:
        ver = versions_in_force(standards, pd.Series([table_id]), pd.Series([context.on]))
        if ver.notna().iloc[0]:
            version = standards.versions[(table_id, int(ver.iloc[0]))]
            found.append((table_id, str(version.header.get("class_of_matter") or ""), version))
    return found


def _dims_text(frame: pd.DataFrame) -> pd.Series:
    """``一级/城区``: the dimension values of each row, a blank cell as ''. (``astype(str)``
    keeps a missing value of a string column as a float, which ``join`` refuses.)"""
    cells = frame.astype(object).where(frame.notna(), "").astype(str)
    if cells.empty:
        return cells.agg("/".join, axis=1)
    text = cells.iloc[:, 0]  # joined by whole columns (the str dtype's Arrow kernels)
    for k in range(1, cells.shape[1]):
        text = text + "/" + cells.iloc[:, k]
    return text.rename(None)


def _status_zh(status: object) -> object:
    """A lookup status (why no standard value applies) in Chinese where labels.csv has it
    (``ok`` as it is: no template is matched against it, which compiled some 170 of them)."""
    from costperf.columns import expected_label
    from costperf.standards.lookup import OK

    if status == OK:
        return status
    return expected_label(status, "zh") or status


def cap_unit_cost(
    projects: pd.DataFrame, lines: pd.DataFrame, targets: pd.DataFrame, context: object
) -> pd.DataFrame:
    """Cap each project of a class of matter at its unit-cost standard x output target.

    A project whose ``class_of_matter`` is that of a ``unit_cost`` table in force (e.g.
    the table ``costperf run`` derives, sealed) is looked up by the table's dimensions
    (e.g. ``road_grade``); its output is the sum of its numeric 产出-数量 targets in the
    standard's output unit (``元/m2`` -> targets in m2).  The cap applies to the
    approved sum of its lines (lines first); the excess is cut pro rata.  A project of
    the class with no standard value or no such target is flagged, not capped.

    Returns
    -------
    DataFrame
        :data:`VERDICT_COLUMNS`, indexed by ``project_id`` (projects of a class only).
    """
    from costperf.review.expenditure.lookup import format_amounts, format_money, map_distinct
    from costperf.standards import lookup_values
    from costperf.standards.lookup import OK

    parts = []
    outputs = None  # the numeric output targets, read when a project is of a class
    klass = projects["class_of_matter"] if "class_of_matter" in projects else None
    if klass is None or not context.has_targets:
        empty = pd.Index([], name="project_id")
        return pd.DataFrame(columns=[*VERDICT_COLUMNS, *CAP_FACTS], index=empty)
    for table_id, class_of_matter, version in _unit_cost_tables(context):
        mine = projects[klass.astype(str).str.strip().eq(class_of_matter)]
        if mine.empty:
            continue
        outputs = quantified_outputs(targets) if outputs is None else outputs
        items = list((version.header.get("items") or {}).keys())
        dims = [d for d in version.dims if d in mine.columns]
        query = mine[dims].assign(date=context.on)
        found = lookup_values(
            context.standards, query, on="date", table=table_id, item=items[0], dims=dims
        ).set_index(mine["project_id"])
        unit = found["unit"].map(output_unit, na_action="ignore")
        want = pd.DataFrame(
            {
                "project_id": mine["project_id"].to_numpy(),
                "unit_key": unit.astype(object).to_numpy(),
            }
        )
        matched = want.merge(outputs, on=["project_id", "unit_key"], how="left")
        by_project = matched.groupby("project_id", sort=False)
        # two indicators in the standard's unit (保洁面积 and 绿化面积, both m2): which one
        # the standard prices is for a reviewer to say, not their sum; flagged, not capped
        # (one indicator on several rows, phases 1 and 2 of 保洁面积, is summed)
        named = matched["indicator"].where(matched["value"].notna())
        several = named.groupby(matched["project_id"], sort=False).nunique()
        several = several.reindex(found.index).gt(1)
        flagged = matched["project_id"].isin(several.index[several.to_numpy()]).to_numpy()
        pairs = matched.loc[flagged, ["project_id"]].assign(name=named[flagged].astype(str))
        pairs = pairs[named[flagged].notna().to_numpy()].drop_duplicates()
        # the indicators' names, for the flagged projects only (a join per project)
        names = pairs.groupby("project_id", sort=False)["name"].agg("、".join)
        output = by_project["value"].sum(min_count=1).reindex(found.index).where(~several)
        ok = found["lookup_status"].eq(OK)
        # the value as published (0.01 yuan, half-up), and the cap to the fen, half-up
        published = round_half_up_values(found["value"])
        cap = round_half_up_values(published * output).where(ok)
        verdict = pd.DataFrame(index=found.index)
        verdict["cap"] = cap
        # what the cap was made of, recorded with the decision
        verdict["output_quantity"] = output.where(cap.notna())
        verdict["standard_value"] = published.where(cap.notna())
        verdict["reject"] = False
        verdict["covered"] = cap.notna()
        verdict["rule"] = "unit_cost"
        # the standard applied: none for a project not capped (no output in its unit)
        verdict["standard_id"] = found["standard_id"].where(verdict["covered"])
        verdict["standard_version"] = (
            found["table_id"] + "@" + found["version"].astype(str)
        ).where(verdict["covered"])
        shown_unit = found["unit"].fillna("").astype(str).str.rpartition("/")[2]
        dim_text = _dims_text(mine[dims]).to_numpy() if dims else ""
        standard_ref = verdict["standard_id"].astype(str) + "@" + found["version"].astype(str)
        values = {
            "class_of_matter": str(class_of_matter),
            "standard": standard_ref,
            "value": format_money(published),
            "output": format_amounts(output),
            "output_unit": shown_unit,
            "cap": format_money(cap),
        }
        no_value = ~ok
        # a project with no targets at all is the target gate's (不予安排), not flagged here
        targeted = pd.Series(isin_texts(found.index, set(targets["project_id"])), index=found.index)
        no_output = ok & output.isna() & targeted
        verdict["manual_review"] = no_value | no_output
        status = found["lookup_status"].astype(str)
        dim_series = pd.Series(dim_text, index=found.index).astype(str)
        unit = found["unit"].astype(str)
        for lang in ("zh", "en"):
            # the table's unit, 元/m2, with the currency in the reason's language
            values["unit"] = unit if lang == "zh" else unit.str.replace("元/", "yuan/", n=1)
            values["dims"] = (
                message_column("reason.unit_cost.basis_dims", lang, found.index, dims=dim_series)
                if dims
                else " "
            )
            basis = message_column("reason.unit_cost.basis", lang, found.index, **values)
            verdict[f"basis_{lang}"] = basis.where(verdict["covered"], "")
            verdict[f"manual_review_reason_{lang}"] = np.select(
                [no_value, several & ok, no_output],
                [
                    message_column(
                        "reason.unit_cost.no_value",
                        lang,
                        found.index,
                        class_of_matter=str(class_of_matter),
                        status=status if lang == "en" else map_distinct(status, _status_zh),
                    ),
                    message_column(
                        "reason.unit_cost.several_outputs",
                        lang,
                        found.index,
                        unit=shown_unit,
                        indicators=names.reindex(found.index).fillna(""),
                    ),
                    message_column(
                        "reason.unit_cost.no_output", lang, found.index, unit=shown_unit
                    ),
                ],
                "",
            )
        parts.append(verdict)
    if not parts:
        empty = pd.Index([], name="project_id")
        return pd.DataFrame(columns=[*VERDICT_COLUMNS, *CAP_FACTS], index=empty)
    out = pd.concat(parts)
    out.index.name = "project_id"
    return out[[*VERDICT_COLUMNS, *CAP_FACTS]]


register(
    ReviewRule(
        name="unit_cost",
        level="project",
        review=cap_unit_cost,
        label_zh="单位成本标准",
        label_en="unit-cost standard",
        document="the class of matter's derived unit-cost standard (standards derive, seal)",
    )
)
