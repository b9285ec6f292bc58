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

from costperf.review.expenditure.lookup import fmt_amount, join_texts, line_refs, lookup_problems
from costperf.review.expenditure.requests import fact_column, first_present, require_facts
from costperf.review.registry import ReviewRule, register
from costperf.schemas import concat_problems, row_problems
from costperf.standards import StandardSet, lookup_values, meeting_table_price_cap, quantity_cap
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


_YES = {"是", "y", "yes", "true", "1", "√", "损坏", "已损坏", "报废"}


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


def _review_equipment(
    req: pd.DataFrame, work: pd.DataFrame, standards: StandardSet, names: Mapping[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    table = names["equipment"]
    rows = work.index
    facts = {"the item": ("equipment_item", "item"), "the quantity": ("quantity",)}
    missing, problems = require_facts(req, rows, facts, "equipment")
    problems = [problems]
    spellings = equipment_items(standards, table)
    raw_item = first_present(req.loc[rows], facts["the item"])
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
    rows = rows[~(missing | unknown.loc[rows]).to_numpy()]
    sub, item = req.loc[rows], item.loc[rows]
    quantity = sub["quantity"].astype(float)
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
    price_line = lookup_values(
        standards,
        query[~is_table.to_numpy()],
        on="date",
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
        area_line = lookup_values(
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
    qty_cap = pd.Series(np.nan, index=rows)
    qty_ref = pd.Series("", index=rows, dtype=object)
    groups = pd.DataFrame(
        {
            "item": item,
            "level": level.astype(object).fillna(""),
            "unit_type": unit_type.astype(object).fillna(""),
            "date": dates,
        }
    )[capped & staff.notna()]
    for (code, lev, utype, when), idx in groups.groupby(
        ["item", "level", "unit_type", "date"]
    ).groups.items():
        try:
            qty_cap.loc[idx] = quantity_cap(
                code,
                staff.loc[idx].to_numpy(),
                standards=standards,
                on=when,
                table=table,
                staff_level=lev or None,
                unit_type=utype or None,
            )
        except Exception as exc:  # noqa: BLE001 - an InputError naming the missing fact
            mask = pd.Series(False, index=req.index)
            mask.loc[idx] = True
            column = (
                "staff_level" if "staff_level" in str(exc) else fact_column(req, facts["the item"])
            )
            problems.append(row_problems(req, mask, column, str(exc), "unknown_value"))
            continue
        qty_ref.loc[idx] = _quantity_ref(standards, table, code, lev, utype, when)
    existing = (
        sub["existing_quantity"] if "existing_quantity" in sub else pd.Series(np.nan, index=rows)
    )
    age = (
        sub["replaced_age_years"] if "replaced_age_years" in sub else pd.Series(np.nan, index=rows)
    )
    replacing = age.notna()
    held_after = existing.fillna(0.0).where(~replacing, existing.fillna(quantity) - quantity)
    room = (qty_cap - held_after).clip(lower=0)
    allowed = quantity.where(~capped, np.minimum(quantity, room))

    # minimum service years before a replacement
    years = lookup_values(
        standards,
        pd.DataFrame({"item": item, "date": dates}),
        on="date",
        table=table,
        component="min_service_years",
        dims=[],
    ).set_index(rows)
    damaged = (
        sub["damaged"].map(lambda v: _key(v) in _YES, na_action="ignore").fillna(False)
        if "damaged" in sub
        else pd.Series(False, index=rows)
    ).astype(bool)
    too_young = replacing & (age < years["value"]) & ~damaged
    allowed = allowed.where(~too_young, 0.0)

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
        [too_young, over_qty & over_price, over_qty, over_price, is_table],
        [
            "equipment_min_service_years",
            "equipment_quantity_cap+price_cap",
            "equipment_quantity_cap",
            "equipment_price_cap",
            "meeting_table_area_cap",
        ],
        "equipment_caps",
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
    zh, en = [], []
    for i in rows:
        z, e = _equipment_text(
            labels.get(item[i], item[i]),
            quantity[i],
            allowed[i],
            qty_cap[i],
            held_after[i],
            price[i],
            price_cap[i],
            room_cap[i],
            age[i],
            years.at[i, "value"],
            bool(too_young[i]),
            bool(replacing[i]),
        )
        zh.append(z)
        en.append(e)
    out["basis_zh"], out["basis_en"] = zh, en
    return out, concat_problems(problems)


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


def _quantity_ref(
    standards: StandardSet, table: str, item: str, level: str, unit_type: str, when: object
) -> str:
    """Provenance of one item's quantity cap: its (shared) quantity line or tiers rule."""
    from costperf.standards.rules import table_in_force

    version = table_in_force(standards, table, when)
    rules = version.header.get("rules") or {}
    for name, spec in rules.items():
        if spec.get("type") == "tiers" and spec.get("item") == item:
            return f"{version.ref} rules.{name}（{spec.get('label_zh', name)}）"
    shared = (rules.get("shared_quantity") or {}).get("value") or {}
    found = lookup_values(
        standards,
        pd.DataFrame(
            {"staff_level": [level or np.nan], "unit_type": [unit_type or np.nan], "date": [when]}
        ),
        on="date",
        table=table,
        item=shared.get(item, item),
        component="quantity",
        dims=["staff_level", "unit_type"],
    )
    return "" if found["lookup_status"].iloc[0] != OK else line_refs(found).iloc[0]


def _equipment_text(
    item: str,
    quantity: float,
    allowed: float,
    cap: float,
    held: float,
    price: float,
    price_cap: float,
    room_cap: float,
    age: float,
    min_years: float,
    too_young: bool,
    replacing: bool,
) -> tuple[str, str]:
    if too_young:
        return (
            f"{item}已使用 {fmt_amount(age)} 年，未达到最低使用年限 {fmt_amount(min_years)} 年且未损坏，"
            "不予更新",
            f"{item}: in service {fmt_amount(age)} years, below the minimum of {fmt_amount(min_years)} "
            "and not damaged beyond repair: no replacement",
        )
    if room_cap == room_cap:
        return (
            f"会议桌价格上限按会议室面积计 {fmt_amount(room_cap)} 元",
            f"meeting-table cap by room area {fmt_amount(room_cap)} yuan",
        )
    qzh = qen = ""
    if cap == cap:
        qzh = (
            f"数量上限 {fmt_amount(cap)}，{'更新后' if replacing else '现有'}保有 {fmt_amount(held)}，"
            f"可配置 {fmt_amount(allowed)}（申报 {fmt_amount(quantity)}）；"
        )
        qen = (
            f"quantity cap {fmt_amount(cap)}, {'kept after replacement' if replacing else 'held'} "
            f"{fmt_amount(held)}, allowed {fmt_amount(allowed)} (of {fmt_amount(quantity)}); "
        )
    return (
        f"{item}：{qzh}单价 {fmt_amount(price)} 元，价格上限 {fmt_amount(price_cap)} 元，"
        f"按 {fmt_amount(allowed)} × {fmt_amount(min(price, price_cap))} 元核定",
        f"{item}: {qen}unit price {fmt_amount(price)} yuan, cap {fmt_amount(price_cap)} yuan; "
        f"approved {fmt_amount(allowed)} x {fmt_amount(min(price, price_cap))} yuan",
    )


register(
    ReviewRule(
        name="equipment",
        level="line",
        review=_review_equipment,
        tables={"equipment": "office-equipment"},
        label_zh="办公设备家具配置",
        label_en="office equipment and furniture",
        document="财资〔2016〕27号",
    )
)
