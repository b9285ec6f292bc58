"""Office equipment and furniture lines 办公设备家具 (财资〔2016〕27号).

Approved units = requested units within the quantity cap (relative to staff) less the
units already held (a replacement frees the units it replaces); a replacement before
the minimum service years is rejected unless the old units are damaged beyond repair;
approved = approved units x min(unit price, price cap); the meeting-table cap is room
area x the rate of its area band.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

import numpy as np
import pandas as pd

from costperf.columns import message, message_column
from costperf.review.expenditure.lookup import (
    DATE_STATUS,
    format_amounts,
    format_money,
    join_texts,
    line_order,
    line_refs,
    lookup_dated,
    lookup_distinct,
    lookup_problems,
    select_texts,
    value_problems,
)
from costperf.review.expenditure.requests import fact_column, first_present, require_facts
from costperf.review.registry import LINE_RESULT_COLUMNS, ReviewRule, register
from costperf.schemas import check_counts, concat_problems, row_problems
from costperf.standards import StandardSet, meeting_table_price_cap, quantity_cap
from costperf.standards.lookup import OK

#: everyday names of equipment items, besides the tables' codes and labels.
EQUIPMENT_SYNONYMS = {
    "desktop": "desktop_computer",
    "laptop": "laptop_computer",
    "台式机": "desktop_computer",
    "台式电脑": "desktop_computer",
    "计算机": "desktop_computer",
    "笔记本": "laptop_computer",
    "笔记本电脑": "laptop_computer",
    "便携式电脑": "laptop_computer",
    "a4打印机": "a4_mono_printer",
    "黑白打印机": "a4_mono_printer",
    "一体机": "multifunction_fax",
    "多功能一体机": "multifunction_fax",
    "传真机": "multifunction_fax",
}

#: what a line's review found (its ``rule``), in the order they are tested; the last when
#: none of the others applies
CODES = (
    "equipment_min_service_years",
    "equipment_quantity_cap+price_cap",
    "equipment_quantity_cap",
    "equipment_price_cap",
    "meeting_table_area_cap",
    "equipment_caps",
)


_YES = {"是", "y", "yes", "true", "1", "1.0", "√", "损坏", "已损坏", "报废"}
_NO = {"否", "n", "no", "false", "0", "0.0", "×", "x", "未损坏", "无", "-", ""}


def damaged_flags(values: pd.Series) -> pd.Series:
    """损坏无法修复 as True / False (NaN: blank or neither yes nor no)."""
    return values.map(_yes_no, na_action="ignore").astype(object)


def _yes_no(value: object) -> bool | None:
    key = _key(value)
    return True if key in _YES else False if key in _NO else None


def _key(text: object) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip().lower().replace(" ", "")


def equipment_items(standards: StandardSet, table: str) -> dict[str, str]:
    """Spelling -> item code of every priced item of ``table`` (code, zh and en labels)."""
    spellings: dict[str, str] = {}
    values = standards.values[standards.values["table_id"] == table]
    priced = set(values.loc[values["component"].isin(["price", "price_per_m2"]), "item"])
    for version in standards.versions_of(table):
        for code, spec in (version.header.get("items") or {}).items():
            if code in priced:
                for text in (code, spec.get("label_zh"), spec.get("label_en")):
                    if text:
                        spellings[_key(text)] = code
    spellings.update({_key(k): v for k, v in EQUIPMENT_SYNONYMS.items() if v in priced})
    return spellings


def _quantity_items(standards: StandardSet, table: str) -> set[str]:
    """Items with a quantity cap: their own or a shared quantity line, or a tiers rule."""
    values = standards.values[standards.values["table_id"] == table]
    items = set(values.loc[values["component"] == "quantity", "item"])
    for version in standards.versions_of(table):
        rules = version.header.get("rules") or {}
        shared = (rules.get("shared_quantity") or {}).get("value") or {}
        items |= {k for k, v in shared.items() if v in items}
        items |= {r["item"] for r in rules.values() if r.get("type") == "tiers" and "item" in r}
    return items


def _level_problems(
    req: pd.DataFrame, work: pd.DataFrame, standards: StandardSet, table: str, item: pd.Series
) -> pd.DataFrame:
    """The unknown staff levels and unit types of lines missing another fact (their caps
    are not computed): their price line looked up for the problems only, in this run
    (meeting tables, priced by the room, are not)."""
    dims = [c for c in ("staff_level", "unit_type") if c in req]
    rows = item.index[req.loc[item.index, dims].notna().any(axis=1).to_numpy()] if dims else []
    query = req.loc[rows, dims].assign(item=item.loc[rows], date=work.loc[rows, "date"])
    return value_problems(
        req,
        standards,
        query,
        {dim: dim for dim in dims},
        "the facts the price cap depends on",
        table=table,
        component="price",
        dims=dims,
    )


def _review_equipment(
    req: pd.DataFrame, work: pd.DataFrame, standards: StandardSet, names: Mapping[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    table = names["equipment"]
    rows = work.index
    facts = {"the item": ("equipment_item", "item"), "the quantity": ("quantity",)}
    missing, problems = require_facts(req, rows, facts, "equipment")
    problems = [problems]
    spellings = equipment_items(standards, table)
    raw_item = first_present(req, facts["the item"], rows)
    item = raw_item.map(lambda v: spellings.get(_key(v)), na_action="ignore")
    unknown = pd.Series(False, index=req.index)
    unknown.loc[rows] = raw_item.notna() & item.isna()
    listing = "、".join(sorted({label_zh for label_zh in _item_labels(standards, table)}))
    problems.append(
        row_problems(
            req,
            unknown,
            fact_column(req, facts["the item"]),
            f"an item of {table}: {listing}",
            "unknown_item",
        )
    )
    problems.append(
        _level_problems(
            req, work, standards, table, item[missing & item.notna() & item.ne("meeting_table")]
        )
    )
    rows = rows[~(missing | unknown.loc[rows]).to_numpy()]
    if rows.empty:  # every line has a problem, reported above
        return pd.DataFrame(columns=list(LINE_RESULT_COLUMNS)), concat_problems(problems)
    sub, item = req.loc[rows], item.loc[rows]
    quantity = sub["quantity"].astype(float)
    # units of equipment are counted whole (a unit-cost line's quantity, m2 or km, is not)
    problems.append(check_counts(sub, ["quantity"], units={"quantity": "units"}))
    requested = work.loc[rows, "requested"]
    price = (
        sub["unit_price"].astype(float) if "unit_price" in sub else pd.Series(np.nan, index=rows)
    )
    price = price.where(price.notna(), requested / quantity.where(quantity > 0))
    requested = requested.where(requested.notna(), quantity * price)
    dates = work.loc[rows, "date"]
    level = sub["staff_level"] if "staff_level" in sub else pd.Series(np.nan, index=rows)
    unit_type = sub["unit_type"] if "unit_type" in sub else pd.Series(np.nan, index=rows)
    is_table = item.eq("meeting_table")

    # price caps: per unit, or for meeting tables per room (area x band rate)
    query = pd.DataFrame(
        {"item": item, "staff_level": level, "unit_type": unit_type, "date": dates}
    )
    price_line = lookup_dated(
        standards,
        query[~is_table.to_numpy()],
        table=table,
        component="price",
        dims=["staff_level", "unit_type"],
    )
    problems.append(
        lookup_problems(
            req,
            price_line,
            {"staff_level": "staff_level", "unit_type": "unit_type", "date": "date"},
            "the facts the price cap depends on",
        )
    )
    price_cap = price_line["value"].reindex(rows)
    room_cap = pd.Series(np.nan, index=rows)
    area_line = pd.DataFrame(index=rows[is_table.to_numpy()])
    if is_table.any():
        tables_rows = rows[is_table.to_numpy()]
        area = sub.loc[tables_rows, "room_area_m2"] if "room_area_m2" in sub else None
        area = pd.Series(np.nan, index=tables_rows) if area is None else area.astype(float)
        no_area = pd.Series(False, index=req.index)
        no_area.loc[tables_rows] = area.isna()
        problems.append(
            row_problems(
                req,
                no_area,
                fact_column(req, ("room_area_m2",)),
                "the meeting-room area (会议室面积, m2) for a meeting-table line",
                "missing_fact",
            )
        )
        have = area.notna()
        area_line = lookup_distinct(
            standards,
            pd.DataFrame({"room_area_m2": area[have], "date": dates.loc[tables_rows][have]}),
            on="date",
            table=table,
            item="meeting_table",
            component="price_per_m2",
            dims=[],
        )
        for when, idx in area_line.groupby("effective_from").groups.items():
            room_cap.loc[idx] = meeting_table_price_cap(
                area.loc[idx].to_numpy(), standards=standards, on=when, table=table
            )

    # quantity caps relative to staff, less the units already held
    capped = item.isin(_quantity_items(standards, table))
    staff = (
        sub["staff_count"].astype(float) if "staff_count" in sub else pd.Series(np.nan, index=rows)
    )
    no_staff = pd.Series(False, index=req.index)
    no_staff.loc[rows] = capped & staff.isna()
    problems.append(
        row_problems(
            req,
            no_staff,
            fact_column(req, ("staff_count",)),
            "the staff on the establishment (编制内实有人数): the item's quantity cap is relative to it",
            "missing_fact",
        )
    )
    have = capped & staff.notna()
    qty_cap, qty_ref, failed = _quantity_caps(
        standards, table, item[have], level[have], unit_type[have], dates[have], staff[have]
    )
    qty_cap, qty_ref = qty_cap.reindex(rows), qty_ref.reindex(rows).fillna("")
    statuses = failed.attrs["status"]
    for fact, mask in failed.items():
        if not mask.any():
            continue
        own = ("staff_level", "unit_type", "date")  # the status names the fact's column
        column = fact if fact in own else fact_column(req, facts["the item"])
        where = pd.Series(False, index=req.index)
        where.loc[mask.index[mask.to_numpy()]] = True
        text = "; ".join(sorted(set(statuses[mask])))
        expected = f"a quantity cap of {table} for the item and staff level ({text})"
        problems.append(row_problems(req, where, column, expected, "unknown_value"))
    existing = (
        sub["existing_quantity"] if "existing_quantity" in sub else pd.Series(np.nan, index=rows)
    )
    age = (
        sub["replaced_age_years"] if "replaced_age_years" in sub else pd.Series(np.nan, index=rows)
    )
    replacing = age.notna()

    # minimum service years before a replacement
    years = lookup_distinct(
        standards,
        pd.DataFrame({"item": item, "date": dates}),
        on="date",
        table=table,
        component="min_service_years",
        dims=[],
    ).set_index(rows)
    flags = damaged_flags(sub["damaged"]) if "damaged" in sub else pd.Series(None, index=rows)
    damaged = flags.eq(True)
    if "damaged" in sub:  # yes or no: '也许' is neither (it was read as no)
        unclear = pd.Series(False, index=req.index)
        unclear.loc[rows] = sub["damaged"].notna() & flags.isna()
        problems.append(
            row_problems(
                req,
                unclear,
                fact_column(req, ("damaged",)),
                "是 or 否 (损坏无法修复: the old units are damaged beyond repair)",
                "not_allowed",
            )
        )
    too_young = replacing & (age < years["value"]) & ~damaged
    held_after, _, earlier, allowed = _units_allowed(  # a rejected replacement takes no room
        sub, item, quantity.where(~too_young, 0.0), qty_cap, existing, replacing & ~too_young
    )
    allowed = quantity.where(~capped, allowed).where(~too_young, 0.0)

    unit_used = np.minimum(price, price_cap)
    cap = (allowed * price_cap).where(~is_table, room_cap)
    approved_amount = (allowed * unit_used).where(~is_table, np.minimum(requested, room_cap))
    out = pd.DataFrame(index=rows)
    out["limit_reject"] = too_young | (capped & (allowed <= 0) & (quantity > 0))
    out["approvable"] = cap
    out["_approved_amount"] = np.minimum(requested, approved_amount)
    out["quantity"], out["quantity_cap"], out["approved_quantity"] = quantity, qty_cap, allowed
    out["unit_price"], out["unit_price_cap"] = price, price_cap
    over_qty = capped & (allowed < quantity) & ~too_young
    over_price = price > price_cap
    out["rule"] = np.select(
        [too_young, over_qty & over_price, over_qty, over_price, is_table], CODES[:-1], CODES[-1]
    )
    main = pd.concat([f for f in (price_line, area_line) if len(f)]).reindex(rows)
    out["standard_id"] = main["standard_id"]
    out["standard_version"] = (main["table_id"] + "@" + main["version"].astype(str)).where(
        main["lookup_status"].eq(OK), ""
    )
    out["document_no"] = main["document_no"].astype(object).where(main["lookup_status"].eq(OK), "")
    lines = line_refs(main).where(main["lookup_status"].eq(OK), "")
    lines = join_texts(lines, qty_ref)
    lines = join_texts(lines, line_refs(years).where(replacing & years["lookup_status"].eq(OK), ""))
    out["standard_lines"] = lines
    out["verified"] = main["verified"].where(main["lookup_status"].eq(OK), True).astype(bool)
    labels = _item_label_map(standards, table)
    zh, en = _equipment_texts(
        item.map(lambda c: labels.get(c, c)).astype(str),
        quantity,
        allowed,
        qty_cap,
        held_after,
        price,
        price_cap,
        room_cap,
        age,
        years["value"],
        too_young,
        replacing,
        earlier.where(capped, 0.0),
    )
    out["basis_zh"], out["basis_en"] = zh, en
    return out, concat_problems(problems)


def _units_allowed(
    sub: pd.DataFrame,
    item: pd.Series,
    quantity: pd.Series,
    cap: pd.Series,
    existing: pd.Series,
    replacing: pd.Series,
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Units within the quantity cap, shared by the lines of one project for one item.

    The cap bounds what the unit holds, so lines of a project that buy the same item
    under the same cap and holdings share its room, in line order (序号, whatever the
    order of the rows: :func:`line_order`): a purchase split
    into lines gets no more than one line would. A replacement frees the units it
    replaces, from its own line on (a purchase on an earlier line cannot use them, or
    the replacement would be refused and the unit hold more than the cap), but never
    more than are held (replacing 5 of 3 frees 3). A blank 现有数量 is 0 held, as on
    a line that writes 0.

    In line order, line t may bring the units allowed so far up to the cap's room once
    the units freed up to t are gone, ``C_t = max(0, cap - held + freed_t)``, which
    never falls; greedily, ``allowed_t = min(allowed_{t-1} + q_t, C_t)``, that is
    ``W_t + min(0, min_{k<=t} (C_k - W_k))`` with ``W`` the cumulative request (one
    cumulative minimum per group, no loop).

    Returns ``(held after the line's replacements, room under the cap, units allowed on
    earlier lines of the group, units allowed)``, one row per line.
    """
    order = line_order(sub)
    if (order != np.arange(len(sub))).any():  # rows not in 序号 order: reviewed in it
        found = _units_allowed(
            *(s.iloc[order] for s in (sub, item, quantity, cap, existing, replacing))
        )
        return tuple(s.reindex(sub.index) for s in found)
    owner = next((c for c in ("project_id", "request_id") if c in sub), None)
    group = (
        sub[owner].astype(str)
        if owner is not None
        else pd.Series(np.arange(len(sub)).astype(str), index=sub.index)
    )
    key = [group, item, cap.fillna(-1.0), existing.fillna(0.0)]  # same cap, same holdings
    held = existing.fillna(quantity.where(replacing, 0.0))  # a replacement replaces held units
    held_before = held.groupby(key, sort=False).transform("max")
    freed = quantity.where(replacing, 0.0).fillna(0.0).groupby(key, sort=False).cumsum()
    freed = np.minimum(freed, held_before)
    held_after = held_before - freed
    room = (cap - held_after).clip(lower=0)
    wanted = quantity.fillna(0.0).groupby(key, sort=False).cumsum()
    upto = wanted + np.minimum((room - wanted).groupby(key, sort=False).cummin(), 0.0)
    earlier = upto.groupby(key, sort=False).shift(1).fillna(0.0)
    return held_after, room, earlier, np.minimum(quantity, upto - earlier)


def _item_labels(standards: StandardSet, table: str) -> list[str]:
    values = standards.values[standards.values["table_id"] == table]
    priced = values[values["component"].isin(["price", "price_per_m2"])]
    return list(dict.fromkeys(priced["item_zh"].astype(str)))


def _item_label_map(standards: StandardSet, table: str) -> dict[str, str]:
    """Item code -> Chinese label, from the table's headers."""
    labels: dict[str, str] = {}
    for version in standards.versions_of(table):
        for code, spec in (version.header.get("items") or {}).items():
            labels.setdefault(code, str(spec.get("label_zh") or code))
    return labels


def _quantity_caps(
    standards: StandardSet,
    table: str,
    item: pd.Series,
    level: pd.Series,
    unit_type: pd.Series,
    dates: pd.Series,
    staff: pd.Series,
) -> tuple[pd.Series, pd.Series, pd.DataFrame]:
    """Quantity cap and its provenance per row, over the whole frame at once.

    Items with a ``tiers`` rule (the copier) use the tiers of the version in force (one
    call per version and item); the others their own or shared ``quantity`` line, found
    by one :func:`lookup_values` over every row, times (or per) the staff, rounded as
    the version's ``rules.quantity_rounding`` says.

    Returns
    -------
    cap, ref, failed
        ``failed`` has a boolean column per fact a failed lookup points at
        (``date``, ``staff_level``, ``item``) and the statuses in ``attrs['status']``.
    """
    from costperf.standards.lookup import versions_in_force

    rows = item.index
    cap = pd.Series(np.nan, index=rows)
    ref = pd.Series("", index=rows, dtype=object)
    status = pd.Series("", index=rows, dtype=object)
    version_no = versions_in_force(standards, pd.Series(table, index=rows), dates)
    line_item = item.copy()
    mode = pd.Series("none", index=rows, dtype=object)
    tiered = pd.Series(False, index=rows)
    for ver, idx in version_no.dropna().groupby(version_no.dropna()).groups.items():
        version = standards.versions[(table, int(ver))]
        rules = version.header.get("rules") or {}
        shared = (rules.get("shared_quantity") or {}).get("value") or {}
        line_item.loc[idx] = item.loc[idx].map(lambda c, m=shared: m.get(c, c))
        mode.loc[idx] = (rules.get("quantity_rounding") or {}).get("value", "none")
        for name, spec in rules.items():
            if spec.get("type") != "tiers" or "item" not in spec:
                continue
            mine = idx[item.loc[idx].eq(spec["item"]).to_numpy()]
            if len(mine):
                cap.loc[mine] = quantity_cap(
                    spec["item"],
                    staff.loc[mine].to_numpy(),
                    standards=standards,
                    on=version.values["effective_from"].iloc[0],
                    table=table,
                )
                ref.loc[mine] = f"{version.ref} rules.{name}（{spec.get('label_zh', name)}）"
                tiered.loc[mine] = True
    lines = rows[~tiered.to_numpy()]
    query = pd.DataFrame(
        {
            "item": line_item[lines],
            "staff_level": level[lines],
            "unit_type": unit_type[lines],
            "date": dates[lines],
        }
    )
    found = lookup_dated(
        standards, query, table=table, component="quantity", dims=["staff_level", "unit_type"]
    )
    ok = found["lookup_status"].eq(OK)
    unit = found["unit"].astype(str)
    ratio = found["value"].astype(float)
    raw = (staff[lines] * ratio).where(unit.str.endswith("/人"), staff[lines] / ratio)
    raw = raw.round(9)  # 0.29 x 100 = 28.999999999999996 is 29 staff-units
    rounded = np.select(
        [mode[lines].eq("floor"), mode[lines].eq("ceil")], [np.floor(raw), np.ceil(raw)], raw
    )
    cap.loc[lines] = pd.Series(rounded, index=lines).where(ok)
    ref.loc[lines] = line_refs(found).where(ok, "")
    status.loc[lines] = found["lookup_status"].where(~ok, "")
    if "undated_status" in found:  # an unknown staff level a bad date hid
        status.loc[lines] = status.loc[lines].where(
            found["undated_status"].isna(), found["undated_status"]
        )
    failed = pd.DataFrame(index=rows)
    bad = status.ne("")
    failed["date"] = bad & status.str.contains(DATE_STATUS)
    failed["staff_level"] = bad & ~failed["date"] & status.str.contains("staff_level")
    failed["unit_type"] = (
        bad & ~failed["date"] & ~failed["staff_level"] & status.str.contains("unit_type")
    )
    failed["item"] = bad & ~failed["date"] & ~failed["staff_level"] & ~failed["unit_type"]
    failed.attrs["status"] = status
    return cap, ref, failed


def _equipment_texts(
    item: pd.Series,
    quantity: pd.Series,
    allowed: pd.Series,
    cap: pd.Series,
    held: pd.Series,
    price: pd.Series,
    price_cap: pd.Series,
    room_cap: pd.Series,
    age: pd.Series,
    min_years: pd.Series,
    too_young: pd.Series,
    replacing: pd.Series,
    earlier: pd.Series,
) -> tuple[pd.Series, pd.Series]:
    """The basis of each equipment line, in zh and en (vectorised); ``earlier``: units
    of the same cap allowed on the project's earlier lines.

    Each line's sentence is built only for the lines it applies to (a replacement too
    early, a meeting table, else the price and quantity sentence).
    """
    f = format_amounts
    index = item.index
    m = format_money
    used = m(np.minimum(price, price_cap))
    age_text, min_years_text, room_cap_text = f(age), f(min_years), m(room_cap)
    cap_text, held_text, allowed_text, quantity_text = f(cap), f(held), f(allowed), f(quantity)
    shared, earlier_text = earlier.fillna(0) > 0, f(earlier)
    price_text, price_cap_text = m(price), m(price_cap)
    has_cap, is_table = cap.notna(), room_cap.notna()
    texts = []
    for lang in ("zh", "en"):

        def young(i: pd.Index, lang: str = lang) -> pd.Series:
            values = {"item": item[i], "age": age_text[i], "min_years": min_years_text[i]}
            return message_column("reason.equipment.too_young", lang, i, **values)

        def table(i: pd.Index, lang: str = lang) -> pd.Series:
            return message_column("reason.equipment.room_area", lang, i, cap=room_cap_text[i])

        def plain(i: pd.Index, lang: str = lang) -> pd.Series:
            kept = pd.Series(
                np.where(
                    replacing[i],
                    message("reason.equipment.kept_after_replacement", lang),
                    message("reason.equipment.held", lang),
                ),
                index=i,
            )
            figures = {"cap": cap_text[i], "kept": kept, "held": held_text[i]}
            figures |= {"allowed": allowed_text[i], "quantity": quantity_text[i]}
            alone = message_column("reason.equipment.quantity", lang, i, **figures)
            together = message_column(
                "reason.equipment.quantity_shared", lang, i, **figures, earlier=earlier_text[i]
            )
            quantity_part = alone.where(~shared[i], together).where(has_cap[i], "")
            values = {"item": item[i], "quantity": quantity_part, "price": price_text[i]}
            values |= {"price_cap": price_cap_text[i], "allowed": allowed_text[i], "used": used[i]}
            return message_column("reason.equipment.price", lang, i, **values)

        cases = [(too_young, young), (is_table, table)]
        # the str column the Series inferred from np.select's arrays (put together in
        # Arrow; no object a line); no text at all: as the Series infers it
        text = select_texts(index, cases, plain, arrow=True)
        texts.append(pd.Series(text.to_numpy(), index=index) if text.dtype == object else text)
    return texts[0], texts[1]


register(
    ReviewRule(
        name="equipment",
        level="line",
        review=_review_equipment,
        tables={"equipment": "office-equipment"},
        label_zh="办公设备家具配置",
        label_en="office equipment and furniture",
        document="财资〔2016〕27号",
        codes=CODES,
    )
)
