"""The request-book template (``costperf template requests``), written with xlsxwriter."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from costperf.columns import label
from costperf.io.write import XLSXWRITER_OPTIONS, atomic_path
from costperf.review.batch.book import TARGET_CATEGORIES, TRAVEL_ITEMS
from costperf.review.batch.routing import routing_table
from costperf.standards import StandardSet

PROJECT_COLUMNS = (
    "project_id",
    "project_name",
    "department",
    "class_of_matter",
    "district",
    "year",
    "road_grade",
)
LINE_COLUMNS = (
    "project_id",
    "line_no",
    "econ_code",
    "item",
    "expense_kind",
    "travel_item",
    "requested",
    "quantity",
    "unit_price",
    "standard_id",
    "date",
    "meeting_category",
    "meeting_subtype",
    "training_category",
    "persons",
    "days",
    "arrival_days",
    "departure_days",
    "lecturer_title",
    "lecturer_name",
    "teaching_hours",
    "teaching_half_days",
    "city",
    "staff_level",
    "nights",
    "end_date",
    "equipment_item",
    "staff_count",
    "existing_quantity",
    "replaced_age_years",
    "damaged",
    "unit_type",
    "room_area_m2",
)
TARGET_COLUMNS = ("project_id", "category", "indicator", "unit", "target")
ROWS = 2000  # rows that carry the validation
NUMBERS = {
    "requested",
    "quantity",
    "unit_price",
    "persons",
    "days",
    "arrival_days",
    "departure_days",
    "teaching_hours",
    "teaching_half_days",
    "nights",
    "staff_count",
    "existing_quantity",
    "replaced_age_years",
    "room_area_m2",
}
WHOLE = {"line_no", "year"}
DATES = {"date", "end_date"}
TEXT = {"project_id", "econ_code", "standard_id"}  # codes: leading zeros kept


def _dimension_values(standards: StandardSet, table: str, dim: str) -> list[str]:
    values: list[str] = []
    for version in standards.versions_of(table):
        spec = (version.header.get("dimensions") or {}).get(dim) or {}
        values += [v for v in spec.get("values") or [] if v not in values]
    return values


def _item_labels(standards: StandardSet, table: str) -> list[str]:
    frame = standards.values[standards.values["table_id"] == table]
    priced = frame[frame["component"].isin(["price", "price_per_m2"])]
    return list(dict.fromkeys(priced["item_zh"].astype(str)))


def code_lists(standards: StandardSet) -> dict[str, list[str]]:
    """Column -> the values its drop-down allows."""
    routing = routing_table()
    levels = _dimension_values(standards, "travel-lodging", "staff_level")
    levels += [
        v
        for v in _dimension_values(standards, "office-equipment", "staff_level")
        if v not in levels
    ]
    return {
        "econ_code": list(routing["econ_code"]),
        "expense_kind": ["会议", "培训", "差旅", "办公设备家具"],
        "travel_item": list(TRAVEL_ITEMS),
        "meeting_category": _dimension_values(standards, "meeting-fee", "category"),
        "meeting_subtype": _dimension_values(standards, "meeting-limits", "meeting_subtype"),
        "training_category": _dimension_values(standards, "training-fee", "category"),
        "lecturer_title": _dimension_values(
            standards, "training-lecturer-fee", "professional_title"
        ),
        "staff_level": levels,
        "equipment_item": _item_labels(standards, "office-equipment"),
        "damaged": ["是", "否"],
        "unit_type": _dimension_values(standards, "office-equipment", "unit_type"),
        "category": list(TARGET_CATEGORIES),
    }


INSTRUCTIONS = [
    ("预算项目申报书填表说明", ""),
    ("", ""),
    (
        "工作表",
        "每个项目在“项目”表填一行；每笔支出在“明细”表填一行；每个绩效指标在“绩效目标”表填一行。三表以“项目编码”关联。",
    ),
    (
        "必填",
        "项目：项目编码、预算部门；明细：项目编码、申报数（或数量和单价）；绩效目标：项目编码、指标类别、指标名称。",
    ),
    (
        "绩效目标",
        "未编制绩效目标的项目一律不予安排；绩效目标中应有数值型的“产出-数量”指标（单位与成本标准一致，如 m2），否则需人工复核。",
    ),
    ("下拉列表", "带下拉箭头的列只能从列表中选择（列表来自标准表）；输入其他值会被拒绝。"),
    (
        "规则匹配",
        "每行按“适用标准”编码审核；未填时按“支出类型”；再未填时按“经济分类科目”（30211 差旅、30215 会议、30216 培训、31002/31007 办公设备）。",
    ),
    (
        "会议",
        "填会议类别、人数（参会人数）、天数（会期，不含报到和离开）；传达布置类会议填会议性质。",
    ),
    (
        "培训",
        "填培训类别、人数（参训人数）、天数（培训天数）、报到天数、撤离天数；讲课费行填讲课人员职称、讲课学时、授课半天数。",
    ),
    (
        "差旅",
        "填出差城市、人员级别、日期（出发日期）、天数（出差天数）或结束日期、人数；分项申报时在“费用项目”选 住宿费/伙食补助费/市内交通费/城市间交通费。城市间交通费按实际票价，需人工核对舱位。",
    ),
    (
        "办公设备家具",
        "填设备家具品目、数量、单价、编制内实有人数、现有数量；更新资产时填被更新资产已使用年限和损坏无法修复。",
    ),
    (
        "单位成本标准",
        "项目的事项类别与成本标准表一致（如 环卫保洁）且填了标准的维度列（如 道路等级）时，按 标准 × 产出目标 核定项目总额：先按明细规则审核，再以项目上限控制明细审定数合计，超出部分按比例分摊核减。",
    ),
    ("金额", "单位为元；可填千分位。代码列（项目编码、经济分类科目）按文本填写，保留前导零。"),
    (
        "英文表头",
        "表头也可用英文（project_id、line_no、requested ……），见 cases/requests-2027/README.md。",
    ),
]


def write_request_template(path: str | Path, standards: StandardSet) -> Path:
    """Write the request-book template to ``path`` (atomically)."""
    import xlsxwriter

    lists = code_lists(standards)
    path = Path(path)
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(str(tmp), XLSXWRITER_OPTIONS)  # strings stay strings
        head = book.add_format(
            {
                "bold": True,
                "bg_color": "#DDEBF7",
                "border": 1,
                "text_wrap": True,
                "valign": "vcenter",
            }
        )
        coded = book.add_format(
            {
                "bold": True,
                "bg_color": "#FCE4D6",
                "border": 1,
                "text_wrap": True,
                "valign": "vcenter",
            }
        )
        text_fmt = book.add_format({"num_format": "@"})
        date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        bold = book.add_format({"bold": True, "font_size": 14})
        notes = book.add_worksheet("填表说明")
        notes.set_column(0, 0, 14)
        notes.set_column(1, 1, 110, wrap)
        for i, (key, text) in enumerate(INSTRUCTIONS):
            notes.write_string(i, 0, key, bold if i == 0 else head if key else wrap)
            if text:
                notes.write_string(i, 1, text, wrap)
        codes = book.add_worksheet("代码表")
        ranges = {}
        for j, (col, values) in enumerate(lists.items()):
            codes.write_string(0, j, label(col))
            for i, value in enumerate(values):
                codes.write_string(i + 1, j, str(value))
            letter = xlsxwriter.utility.xl_col_to_name(j)
            ranges[col] = f"=代码表!${letter}$2:${letter}${max(len(values), 1) + 1}"
        for name, columns in (
            ("项目", PROJECT_COLUMNS),
            ("明细", LINE_COLUMNS),
            ("绩效目标", TARGET_COLUMNS),
        ):
            ws = book.add_worksheet(name)
            for j, col in enumerate(columns):
                ws.write_string(0, j, label(col), coded if col in lists else head)
                width = max(10, 2 * len(label(col)) + 2)
                fmt = (
                    text_fmt if col in TEXT or col in lists else date_fmt if col in DATES else None
                )
                ws.set_column(j, j, width, fmt)
                _validate(ws, j, col, lists, ranges)
            ws.freeze_panes(1, 0)
        codes.hide()
        notes.activate()
        book.close()
    return path


def _validate(ws: object, j: int, col: str, lists: dict, ranges: dict) -> None:
    rows = (1, j, ROWS, j)
    common = {"error_type": "stop", "show_error": True, "ignore_blank": True}
    if col in lists and lists[col]:
        ws.data_validation(
            *rows,
            {
                "validate": "list",
                "source": ranges[col],
                "error_title": label(col),
                "error_message": f"{label(col)}：请从下拉列表中选择",
                **common,
            },
        )
    elif col in NUMBERS:
        ws.data_validation(
            *rows,
            {
                "validate": "decimal",
                "criteria": ">=",
                "value": 0,
                "error_message": f"{label(col)}：请填写不小于 0 的数字",
                **common,
            },
        )
    elif col in WHOLE:
        ws.data_validation(
            *rows,
            {
                "validate": "integer",
                "criteria": ">=",
                "value": 0,
                "error_message": f"{label(col)}：请填写整数",
                **common,
            },
        )
    elif col in DATES:
        ws.data_validation(
            *rows,
            {
                "validate": "date",
                "criteria": "between",
                "minimum": pd.Timestamp("2000-01-01").to_pydatetime(),
                "maximum": pd.Timestamp("2100-12-31").to_pydatetime(),
                "error_message": f"{label(col)}：请填写日期 YYYY-MM-DD",
                **common,
            },
        )
