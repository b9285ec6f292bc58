"""A held-out request book, reviewed once per module, against hand computations.

Every expected amount below is written out from the formulas in
``cases/expenditure-requests/README.md`` (line rules) and
``cases/requests-2027/README.md`` (the batch: routing, itemised travel, unit-cost caps,
target gate, flags) and from the figures of the shipped tables in ``standards/*.csv``
(and the sealed ``cases/requests-2027/standards/hw-uc-v1.csv``).  No costperf function
is called to compute an expectation.

The second half feeds malformed books and checks exit status 2, a located message
(file, sheet, row, column), every problem of a book in one run, an untouched records
store and no outputs that claim success.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from conftest import REQUESTS_2027, run_cli

DATE = "2027-03-01"
UNIT_COST_STANDARDS = REQUESTS_2027 / "standards"  # hw-uc@1, 环卫保洁 per road grade

# --- the held-out book -------------------------------------------------------------------

# 项目: (项目编码, 项目名称, 预算部门, 事项类别, 区域, 年度, 道路等级)
PROJECTS = [
    ("HM-01", "年度工作会议", "区财政局", None, None, 2027, None),
    ("HM-02", "业务培训交流会", "区财政局", None, None, 2027, None),
    ("HM-03", "专题研讨会", "区财政局", None, None, 2027, None),
    ("HM-04", "基层工作会议", "区教育局", None, None, 2027, None),
    ("HM-05", "全市工作会议", "区教育局", None, None, 2027, None),
    ("HT-01", "骨干教师培训", "区教育局", None, None, 2027, None),
    ("HT-02", "校医业务培训", "区卫生健康委", None, None, 2027, None),
    ("HT-03", "高级研修班", "区教育局", None, None, 2027, None),
    ("HD-01", "赴沪调研差旅", "区卫生健康委", None, None, 2027, None),
    ("HD-02", "赴青岛考察差旅", "区卫生健康委", None, None, 2027, None),
    ("HD-03", "援藏对接差旅", "区卫生健康委", None, None, 2027, None),
    ("HC-01", "赴京汇报差旅", "区卫生健康委", None, None, 2027, None),
    ("HC-02", "赴穗学习差旅", "区财政局", None, None, 2027, None),
    ("HC-03", "赴蓉调研差旅", "区教育局", None, None, 2027, None),
    ("HE-01", "办公计算机购置", "区机关事务管理局", None, None, 2027, None),
    ("HE-02", "便携机和办公椅购置", "区机关事务管理局", None, None, 2027, None),
    ("HE-03", "复印机购置及便携机更新", "区机关事务管理局", None, None, 2027, None),
    ("HN-01", "办公楼维修", "区机关事务管理局", None, None, 2027, None),
    ("HG-01", "未编目标的会议", "区财政局", None, None, 2027, None),
    ("HG-02", "目标无数量的会议", "区教育局", None, None, 2027, None),
    ("HU-01", "三级道路保洁服务", "区绿化和市容管理局", "环卫保洁", "嘉定区", 2027, "三级"),
    ("HU-02", "二级道路保洁服务", "区绿化和市容管理局", "环卫保洁", "金山区", 2027, "二级"),
    ("HM-06", "全区卫生工作会议", "区卫生健康委", None, None, 2027, None),
    ("HC-04", "赴琼调研差旅", "区财政局", None, None, 2027, None),
    ("HE-04", "会议桌和办公桌购置", "区机关事务管理局", None, None, 2027, None),
]

# 明细: dicts keyed by the template's Chinese headers.
LINES: list[dict] = [
    # HM-01: 二类 meeting within its quota, plus a printing line no standard covers
    {"项目编码": "HM-01", "序号": 1, "经济分类科目": "30215", "明细名称": "会议费",
     "申报数": 50000, "日期": "2027-04-10", "会议类别": "二类会议", "人数": 40, "天数": 2},
    {"项目编码": "HM-01", "序号": 2, "经济分类科目": "30201", "明细名称": "会议资料印制",
     "申报数": 3000},
    # HM-02: 三类 meeting over its quota (routed by 支出类型)
    {"项目编码": "HM-02", "序号": 1, "明细名称": "会议费", "支出类型": "会议", "申报数": 70000,
     "日期": "2027-05-10", "会议类别": "三类会议", "人数": 60, "天数": 2},
    # HM-03: 四类 meeting of 3 days -> rejected (routed by 适用标准)
    {"项目编码": "HM-03", "序号": 1, "明细名称": "会议费", "适用标准": "meeting-fee/四类会议/total",
     "申报数": 40000, "日期": "2027-05-12", "会议类别": "四类会议", "人数": 30, "天数": 3},
    # HM-04: 四类 meeting of 60 attendees, and a 二类 briefing meeting of 2 days -> rejected
    {"项目编码": "HM-04", "序号": 1, "经济分类科目": "30215", "明细名称": "基层会议",
     "申报数": 30000, "日期": "2027-06-01", "会议类别": "四类会议", "人数": 60, "天数": 1},
    {"项目编码": "HM-04", "序号": 2, "经济分类科目": "30215", "明细名称": "传达会议",
     "申报数": 20000, "日期": "2027-06-02", "会议类别": "二类会议", "会议性质": "传达布置类",
     "人数": 20, "天数": 2},
    # HM-05: 一类 meeting of 3 days: the table sets no day limit for 一类; over its quota
    {"项目编码": "HM-05", "序号": 1, "经济分类科目": "30215", "明细名称": "会议费",
     "申报数": 240000, "日期": "2027-06-15", "会议类别": "一类会议", "人数": 100, "天数": 3},
    # HT-01: 二类 training with arrival and departure days, and a lecturer line
    {"项目编码": "HT-01", "序号": 1, "经济分类科目": "30216", "明细名称": "培训费",
     "申报数": 240000, "日期": "2027-04-06", "培训类别": "二类培训", "人数": 50, "天数": 5,
     "报到天数": 1, "撤离天数": 1},
    {"项目编码": "HT-01", "序号": 2, "经济分类科目": "30216", "明细名称": "讲课费",
     "申报数": 9000, "日期": "2027-04-06", "讲课人员职称": "正高级", "讲课人员姓名": "李华",
     "讲课学时": 6, "授课半天数": 2},
    # the same lecture claimed again (a second class): flagged, not cut
    {"项目编码": "HT-01", "序号": 3, "经济分类科目": "30216", "明细名称": "讲课费（二班）",
     "申报数": 6000, "日期": "2027-04-06", "讲课人员职称": "正高级", "讲课人员姓名": "李华",
     "讲课学时": 6, "授课半天数": 2},
    # HT-02: 三类 training, departure 2 days given separately (counts 1); lecturer hours
    # capped by the half days
    {"项目编码": "HT-02", "序号": 1, "经济分类科目": "30216", "明细名称": "培训费",
     "申报数": 90000, "日期": "2027-05-06", "培训类别": "三类培训", "人数": 30, "天数": 3,
     "报到天数": 1, "撤离天数": 2},
    {"项目编码": "HT-02", "序号": 2, "经济分类科目": "30216", "明细名称": "讲课费",
     "申报数": 5000, "日期": "2027-05-06", "讲课人员职称": "副高级", "讲课人员姓名": "王强",
     "讲课学时": 10, "授课半天数": 2},
    # HT-03: 一类 training of 33 days + arrival 1 + departure 1 = 35 days (beyond 30 at 70 %)
    {"项目编码": "HT-03", "序号": 1, "经济分类科目": "30216", "明细名称": "培训费",
     "申报数": 266000, "日期": "2027-09-01", "培训类别": "一类培训", "人数": 10, "天数": 33,
     "报到天数": 1, "撤离天数": 1},
    # HD-01: whole trip to 上海 on one line
    {"项目编码": "HD-01", "序号": 1, "经济分类科目": "30211", "明细名称": "差旅费",
     "申报数": 5000, "日期": "2027-05-10", "人数": 2, "天数": 4, "出差城市": "上海",
     "人员级别": "其他人员", "住宿天数": 3},
    # HD-02: whole trip to 青岛 across the start of the peak season (7-9 月)
    {"项目编码": "HD-02", "序号": 1, "经济分类科目": "30211", "明细名称": "差旅费",
     "申报数": 2500, "日期": "2027-06-29", "人数": 1, "天数": 4, "出差城市": "青岛",
     "人员级别": "厅局级", "住宿天数": 3},
    # HD-03: whole trip to 拉萨 in its peak season (6-9 月), meals 120; within the cap
    {"项目编码": "HD-03", "序号": 1, "经济分类科目": "30211", "明细名称": "差旅费",
     "申报数": 3000, "日期": "2027-07-10", "人数": 2, "天数": 3, "出差城市": "拉萨",
     "人员级别": "其他人员", "住宿天数": 2},
    # HC-01: itemised trip to 北京: lodging over its cap, meals under, local transport
    # over, intercity passed and flagged
    *[
        {"项目编码": "HC-01", "序号": n, "经济分类科目": "30211", "明细名称": item,
         "支出类型": "差旅", "费用项目": item, "申报数": amount, "日期": "2027-04-12",
         "人数": 3, "天数": 4, "出差城市": "北京", "人员级别": "厅局级", "住宿天数": 3}
        for n, item, amount in [
            (1, "住宿费", 6300),
            (2, "伙食补助费", 1000),
            (3, "市内交通费", 1200),
            (4, "城市间交通费", 4800),
        ]
    ],
    # HC-02: itemised trip to 广州: lodging under its cap, meals over the allowance
    *[
        {"项目编码": "HC-02", "序号": n, "经济分类科目": "30211", "明细名称": item,
         "支出类型": "差旅", "费用项目": item, "申报数": amount, "日期": "2027-10-20",
         "人数": 2, "天数": 3, "出差城市": "广州", "人员级别": "其他人员", "住宿天数": 2}
        for n, item, amount in [(1, "住宿费", 800), (2, "伙食补助费", 900)]
    ],
    # HC-03: itemised trip to 成都 (not in the lodging table)
    *[
        {"项目编码": "HC-03", "序号": n, "经济分类科目": "30211", "明细名称": item,
         "支出类型": "差旅", "费用项目": item, "申报数": amount, "日期": "2027-11-03",
         "人数": 1, "天数": 3, "出差城市": "成都", "人员级别": "其他人员", "住宿天数": 2}
        for n, item, amount in [(1, "住宿费", 1000), (2, "伙食补助费", 400), (3, "市内交通费", 240)]
    ],
    # HE-01: desktops over the quantity cap (20 staff, 18 held)
    {"项目编码": "HE-01", "序号": 1, "经济分类科目": "31002", "明细名称": "台式计算机",
     "支出类型": "办公设备家具", "数量": 5, "单价": 4800, "设备家具品目": "台式计算机",
     "编制内实有人数": 20, "现有数量": 18},
    # HE-02: laptops over the unit-price cap; office chairs within both caps
    {"项目编码": "HE-02", "序号": 1, "经济分类科目": "31002", "明细名称": "便携式计算机",
     "申报数": 16000, "数量": 2, "单价": 8000, "设备家具品目": "便携式计算机",
     "编制内实有人数": 10, "现有数量": 0},
    {"项目编码": "HE-02", "序号": 2, "经济分类科目": "31002", "明细名称": "办公椅",
     "申报数": 8000, "数量": 10, "单价": 800, "设备家具品目": "办公椅",
     "编制内实有人数": 10, "现有数量": 0, "人员级别": "处级及以下"},
    # HE-03: copiers against the tiered cap (130 staff, 5 held); a laptop replaced too early
    {"项目编码": "HE-03", "序号": 1, "经济分类科目": "31002", "明细名称": "复印机",
     "申报数": 60000, "数量": 2, "单价": 30000, "设备家具品目": "复印机",
     "编制内实有人数": 130, "现有数量": 5},
    {"项目编码": "HE-03", "序号": 2, "经济分类科目": "31007", "明细名称": "便携式计算机更新",
     "申报数": 6000, "数量": 1, "单价": 6000, "设备家具品目": "便携式计算机",
     "编制内实有人数": 130, "现有数量": 10, "被更新资产已使用年限": 4, "损坏无法修复": "否"},
    # HN-01: repairs (no standard), the same repair line again (a duplicate)
    {"项目编码": "HN-01", "序号": 1, "经济分类科目": "30213", "明细名称": "屋面防水维修",
     "申报数": 80000},
    {"项目编码": "HN-01", "序号": 2, "经济分类科目": "30213", "明细名称": "屋面防水维修",
     "申报数": 80000},
    # HG-01: a meeting within its quota, but the project has no targets
    {"项目编码": "HG-01", "序号": 1, "经济分类科目": "30215", "明细名称": "会议费",
     "申报数": 10000, "日期": "2027-04-20", "会议类别": "二类会议", "人数": 10, "天数": 1},
    # HG-02: a meeting over its quota; targets without a numeric 产出-数量 indicator
    {"项目编码": "HG-02", "序号": 1, "经济分类科目": "30215", "明细名称": "会议费",
     "申报数": 12000, "日期": "2027-04-21", "会议类别": "二类会议", "人数": 10, "天数": 1},
    # HU-01: 环卫保洁 contracted services, capped by hw-uc@1 x 保洁面积
    {"项目编码": "HU-01", "序号": 1, "经济分类科目": "30227", "明细名称": "一线保洁员",
     "申报数": 800000},
    {"项目编码": "HU-01", "序号": 2, "经济分类科目": "30227", "明细名称": "保洁耗材",
     "申报数": 200000},
    {"项目编码": "HU-01", "序号": 3, "经济分类科目": "30227", "明细名称": "管理费",
     "申报数": 200000},
    # HU-02: 环卫保洁 with a travel line: the travel cap first, then the unit-cost cap
    {"项目编码": "HU-02", "序号": 1, "经济分类科目": "30227", "明细名称": "保洁服务",
     "申报数": 700000},
    {"项目编码": "HU-02", "序号": 2, "经济分类科目": "30211", "明细名称": "外出考察差旅",
     "申报数": 1000, "日期": "2027-05-10", "人数": 1, "天数": 2, "出差城市": "上海",
     "人员级别": "其他人员", "住宿天数": 1},
    # HM-06: 二类 meeting of exactly 300 attendees (the limit): capped, not rejected
    {"项目编码": "HM-06", "序号": 1, "经济分类科目": "30215", "明细名称": "会议费",
     "申报数": 200000, "日期": "2027-03-20", "会议类别": "二类会议", "人数": 300, "天数": 1},
    # HC-04: itemised lodging in 海口 across the start of its peak season (11-2 月)
    {"项目编码": "HC-04", "序号": 1, "经济分类科目": "30211", "明细名称": "住宿费",
     "支出类型": "差旅", "费用项目": "住宿费", "申报数": 1800, "日期": "2027-10-30",
     "人数": 1, "天数": 4, "出差城市": "海口", "人员级别": "厅局级", "住宿天数": 3},
    # HE-04: a meeting table priced by room area; desks split over two lines sharing the cap
    {"项目编码": "HE-04", "序号": 1, "经济分类科目": "31002", "明细名称": "会议桌",
     "申报数": 80000, "数量": 1, "设备家具品目": "会议桌", "会议室面积": 60},
    {"项目编码": "HE-04", "序号": 2, "经济分类科目": "31002", "明细名称": "办公桌（一批）",
     "数量": 2, "单价": 3000, "设备家具品目": "办公桌", "编制内实有人数": 5, "现有数量": 2,
     "人员级别": "处级及以下"},
    {"项目编码": "HE-04", "序号": 3, "经济分类科目": "31002", "明细名称": "办公桌（二批）",
     "数量": 2, "单价": 3000, "设备家具品目": "办公桌", "编制内实有人数": 5, "现有数量": 2,
     "人员级别": "处级及以下"},
]  # fmt: skip

# 绩效目标: (项目编码, 指标类别, 指标名称, 计量单位, 目标值); HG-01 has none
_QUANTITY = {
    "HM-01": ("参会人数", "人", 40),
    "HM-02": ("参会人数", "人", 60),
    "HM-03": ("参会人数", "人", 30),
    "HM-04": ("参会人数", "人", 80),
    "HM-05": ("参会人数", "人", 100),
    "HT-01": ("培训人数", "人", 50),
    "HT-02": ("培训人数", "人", 30),
    "HT-03": ("培训人数", "人", 10),
    "HD-01": ("调研次数", "次", 1),
    "HD-02": ("考察次数", "次", 1),
    "HD-03": ("对接次数", "次", 1),
    "HC-01": ("汇报次数", "次", 1),
    "HC-02": ("学习次数", "次", 1),
    "HC-03": ("调研次数", "次", 1),
    "HE-01": ("购置台数", "台", 5),
    "HE-02": ("购置数量", "台", 12),
    "HE-03": ("购置台数", "台", 3),
    "HN-01": ("维修面积", "m2", 1200),
    "HU-01": ("保洁面积", "m2", 100000),
    "HU-02": ("保洁面积", "m2", 50000),
    "HM-06": ("参会人数", "人", 300),
    "HC-04": ("调研次数", "次", 1),
    "HE-04": ("购置数量", "套", 5),
}
TARGETS = [(pid, "产出-数量", name, unit, value) for pid, (name, unit, value) in _QUANTITY.items()]
TARGETS += [(pid, "满意度", "服务对象满意度", "%", "≥90%") for pid in _QUANTITY]
TARGETS += [
    ("HG-02", "产出-质量", "会议组织合格率", "%", "≥95%"),
    ("HG-02", "满意度", "参会人员满意度", "%", "≥90%"),
    ("HG-02", "产出-数量", "会议组织", "场", "按计划完成"),  # a quantity, but not a number
]

YES, NO = "是", "否"

# Expected per line: (approved, decision, manual review).  cut = requested - approved.
EXPECTED_LINES: dict[tuple[str, int], tuple[float, str, str]] = {
    # 二类 650 元/人·天 x 40 attendees x 2 days = 52,000 >= 50,000 requested
    ("HM-01", 1): (50000, "通过", NO),
    # 30201 has no standard: as requested, flagged 无适用标准
    ("HM-01", 2): (3000, "通过", YES),
    # 三类 550 x 60 x 2 = 66,000 < 70,000
    ("HM-02", 1): (550 * 60 * 2, "核减", NO),
    # 四类 meeting of 3 days > 2 -> 不予安排
    ("HM-03", 1): (0, "不予安排", NO),
    # 四类 with 60 attendees > 50 -> 不予安排
    ("HM-04", 1): (0, "不予安排", NO),
    # 二类 传达布置类 of 2 days > 1 -> 不予安排
    ("HM-04", 2): (0, "不予安排", NO),
    # 一类 760 x 100 x 3 = 228,000 (no day limit for 一类) < 240,000
    ("HM-05", 1): (760 * 100 * 3, "核减", NO),
    # 二类 650 x 50 x (5 + 1 + 1) = 227,500 < 240,000
    ("HT-01", 1): (650 * 50 * 7, "核减", NO),
    # 正高级 1000 元/学时 x 6 h (<= 4 x 2 half days) = 6,000 < 9,000
    ("HT-01", 2): (1000 * 6, "核减", NO),
    # the same lecturer, title, hours and date as line 2: flagged, not cut (1000 x 6 = 6,000)
    ("HT-01", 3): (6000, "通过", YES),
    # 三类 550 x 30 x (3 + 1 + min(2, 1)) = 82,500 < 90,000
    ("HT-02", 1): (550 * 30 * 5, "核减", NO),
    # 副高级 500 x min(10, 4 x 2) = 4,000 < 5,000
    ("HT-02", 2): (500 * 8, "核减", NO),
    # 一类 760 x 10 x (30 + (35 - 30) x 0.7) = 760 x 10 x 33.5 = 254,600 < 266,000
    ("HT-03", 1): (760 * 10 * 33.5, "核减", NO),
    # 上海 其他人员 2 x (500 x 3 nights + (100 + 80) x 4 days) = 4,440 < 5,000
    ("HD-01", 1): (2 * (500 * 3 + (100 + 80) * 4), "核减", NO),
    # 青岛 厅局级, nights 6-29, 6-30 淡季 490, 7-01 旺季 590: 1 x (490 + 490 + 590 + 180 x 4)
    ("HD-02", 1): (1 * (490 + 490 + 590 + (100 + 80) * 4), "核减", NO),
    # 拉萨 其他人员 旺季: 2 x (530 x 2 + (120 + 80) x 3) = 3,320 >= 3,000
    ("HD-03", 1): (3000, "通过", NO),
    # 北京 厅局级 650 x 3 nights x 3 persons = 5,850 < 6,300
    ("HC-01", 1): (650 * 3 * 3, "核减", NO),
    # meals 100 x 4 days x 3 persons = 1,200 >= 1,000 (not offset by lodging)
    ("HC-01", 2): (1000, "通过", NO),
    # local transport 80 x 4 x 3 = 960 < 1,200
    ("HC-01", 3): (80 * 4 * 3, "核减", NO),
    # intercity fares: passed, flagged 需核对舱位/席别等级
    ("HC-01", 4): (4800, "通过", YES),
    # 广州 其他人员 450 x 2 nights x 2 persons = 1,800 >= 800
    ("HC-02", 1): (800, "通过", NO),
    # meals 100 x 3 x 2 = 600 < 900
    ("HC-02", 2): (100 * 3 * 2, "核减", NO),
    # 成都 not in the lodging table: kept as requested, flagged
    ("HC-03", 1): (1000, "通过", YES),
    # meals 100 x 3 x 1 = 300 < 400
    ("HC-03", 2): (100 * 3 * 1, "核减", NO),
    # local transport 80 x 3 x 1 = 240 = 240
    ("HC-03", 3): (240, "通过", NO),
    # min(5, 20 x 100 % - 18) = 2 units x min(4,800, 5,000) = 9,600 < 5 x 4,800
    ("HE-01", 1): (2 * 4800, "核减", NO),
    # min(2, floor(10 x 50 %) - 0) = 2 units x min(8,000, 7,000) = 14,000 < 16,000
    ("HE-02", 1): (2 * 7000, "核减", NO),
    # 处级及以下 chair: min(10, 10 x 1 - 0) = 10 x min(800, 800) = 8,000
    ("HE-02", 2): (10 * 800, "通过", NO),
    # copier cap 100 / 20 + floor(30 / 30) = 6; min(2, 6 - 5) = 1 x min(30,000, 35,000)
    ("HE-03", 1): (1 * 30000, "核减", NO),
    # laptop replaced after 4 < 6 years, not damaged -> 不予安排
    ("HE-03", 2): (0, "不予安排", NO),
    # 30213 no standard: as requested, flagged
    ("HN-01", 1): (80000, "通过", YES),
    # the same item and amount again: flagged as a duplicate (also no standard)
    ("HN-01", 2): (80000, "通过", YES),
    # no targets: 不予安排, approved 0 (未编制绩效目标)
    ("HG-01", 1): (0, "不予安排", NO),
    # 二类 650 x 10 x 1 = 6,500 < 12,000; project flagged 无可量化产出指标
    ("HG-02", 1): (650 * 10 * 1, "核减", NO),
    # hw-uc@1 三级 10.80 元/m2 x 100,000 m2 = 1,080,000 against 1,200,000: x 0.9 pro rata
    ("HU-01", 1): (800000 * 0.9, "核减", NO),
    ("HU-01", 2): (200000 * 0.9, "核减", NO),
    ("HU-01", 3): (200000 * 0.9, "核减", NO),
    # travel first: 上海 其他人员 1 x (500 x 1 night + 180 x 2 days) = 860 < 1,000; then
    # hw-uc@1 二级 12.46 x 50,000 m2 = 623,000 against 700,000 + 860 = 700,860, pro rata
    ("HU-02", 1): (700000 * 623000 / 700860, "核减", NO),
    ("HU-02", 2): (860 * 623000 / 700860, "核减", NO),
    # 二类 with 300 attendees (<= 300): 650 x 300 x 1 = 195,000 < 200,000
    ("HM-06", 1): (650 * 300 * 1, "核减", NO),
    # 海口 厅局级: 10-30, 10-31 淡季 500, 11-01 旺季 650: 1 x (500 + 500 + 650) = 1,650 < 1,800
    ("HC-04", 1): (500 + 500 + 650, "核减", NO),
    # meeting table: 60 m2 (50-100 band) x 1,200 元/m2 = 72,000 < 80,000
    ("HE-04", 1): (60 * 1200, "核减", NO),
    # desks: cap 5 x 1 - 2 held = 3 units shared in 序号 order: line 2 gets 2 x 3,000
    ("HE-04", 2): (2 * 3000, "通过", NO),
    # ... and line 3 the 1 unit left: 1 x 3,000 < 2 x 3,000
    ("HE-04", 3): (1 * 3000, "核减", NO),
}

# Expected per project: (申报数, 审定数, decision, manual review)
EXPECTED_PROJECTS: dict[str, tuple[float, float, str, str]] = {
    "HM-01": (50000 + 3000, 50000 + 3000, "通过", YES),
    "HM-02": (70000, 66000, "核减", NO),
    "HM-03": (40000, 0, "不予安排", NO),
    "HM-04": (30000 + 20000, 0, "不予安排", NO),
    "HM-05": (240000, 228000, "核减", NO),
    "HT-01": (240000 + 9000 + 6000, 227500 + 6000 + 6000, "核减", YES),
    "HT-02": (90000 + 5000, 82500 + 4000, "核减", NO),
    "HT-03": (266000, 254600, "核减", NO),
    "HD-01": (5000, 4440, "核减", NO),
    "HD-02": (2500, 2290, "核减", NO),
    "HD-03": (3000, 3000, "通过", NO),
    "HC-01": (6300 + 1000 + 1200 + 4800, 5850 + 1000 + 960 + 4800, "核减", YES),
    "HC-02": (800 + 900, 800 + 600, "核减", NO),
    "HC-03": (1000 + 400 + 240, 1000 + 300 + 240, "核减", YES),
    "HE-01": (5 * 4800, 9600, "核减", NO),
    "HE-02": (16000 + 8000, 14000 + 8000, "核减", NO),
    "HE-03": (60000 + 6000, 30000, "核减", NO),
    "HN-01": (80000 + 80000, 160000, "通过", YES),
    "HG-01": (10000, 0, "不予安排", NO),
    "HG-02": (12000, 6500, "核减", YES),
    "HU-01": (1200000, 1080000, "核减", NO),
    "HU-02": (700000 + 1000, 12.46 * 50000, "核减", NO),
    "HM-06": (200000, 195000, "核减", NO),
    "HC-04": (1800, 1650, "核减", NO),
    "HE-04": (80000 + 6000 + 6000, 72000 + 6000 + 3000, "核减", NO),
}


def write_template(path: Path) -> Path:
    """The empty workbook ``costperf template requests -o PATH`` writes."""
    code, _, err = run_cli("template", "requests", "-o", path, cwd=path.parent)
    assert code == 0, err
    return path


def fill_book(path: Path, lines: list[dict] = LINES, projects=PROJECTS, targets=TARGETS) -> Path:
    """Fill the template at ``path`` under its own Chinese headers."""
    wb = openpyxl.load_workbook(path)
    for row in projects:
        wb["项目"].append(list(row))
    header = [c.value for c in wb["明细"][1]]
    unknown = {k for line in lines for k in line} - set(header)
    assert not unknown, unknown
    for line in lines:
        wb["明细"].append([line.get(h) for h in header])
    for row in targets:
        wb["绩效目标"].append(list(row))
    wb.save(path)
    return path


def build_book(folder: Path, **kw) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return fill_book(write_template(folder / "book.xlsx"), **kw)


def review_args(book: Path, out: Path, records: Path, *extra: object) -> list[object]:
    return ["review", book, "--standards", UNIT_COST_STANDARDS, "--date", DATE,
            "--out", out, "--records", records, *extra]  # fmt: skip


@pytest.fixture(scope="module")
def heldout(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The held-out book reviewed once (Chinese outputs, records in a SQLite file)."""
    root = tmp_path_factory.mktemp("heldout")
    book = build_book(root / "in")
    out, records = root / "out", root / "records.sqlite"
    code, stdout, stderr = run_cli(*review_args(book, out, records), cwd=root)
    assert code == 0, stderr
    read = lambda name: pd.read_csv(out / name, encoding="utf-8-sig")  # noqa: E731
    return {
        "root": root,
        "book": book,
        "out": out,
        "records": records,
        "stdout": stdout,
        "lines": read("lines.csv").set_index(["项目编码", "序号"]),
        "projects": read("projects.csv").set_index("项目编码"),
        "summary": json.loads((out / "summary.json").read_text(encoding="utf-8")),
    }


def _requested(pid: str, n: int) -> float:
    line = next(x for x in LINES if x["项目编码"] == pid and x["序号"] == n)
    return line.get("申报数") or line["数量"] * line["单价"]  # blank 申报数 -> 数量 x 单价


def test_every_line_and_project_is_reviewed_once(heldout) -> None:
    assert sorted(heldout["lines"].index) == sorted(EXPECTED_LINES)
    assert sorted(heldout["projects"].index) == sorted(EXPECTED_PROJECTS)
    assert heldout["projects"]["预算部门"].nunique() >= 3


@pytest.mark.parametrize("key", sorted(EXPECTED_LINES), ids=lambda k: f"{k[0]}-{k[1]}")
def test_line_amounts_decision_and_flag(heldout, key) -> None:
    approved, decision, flag = EXPECTED_LINES[key]
    requested = _requested(*key)
    row = heldout["lines"].loc[key]
    assert row["申报数"] == pytest.approx(requested)
    assert row["审定数"] == pytest.approx(approved, abs=0.005)
    assert row["核减数"] == pytest.approx(requested - approved, abs=0.005)
    assert row["核减率"] == pytest.approx((requested - approved) / requested, abs=1e-6)
    assert (row["审核结论"], row["需人工复核"]) == (decision, flag)


@pytest.mark.parametrize("pid", sorted(EXPECTED_PROJECTS))
def test_project_amounts_decision_and_flag(heldout, pid) -> None:
    requested, approved, decision, flag = EXPECTED_PROJECTS[pid]
    row = heldout["projects"].loc[pid]
    assert row["申报数"] == pytest.approx(requested)
    assert row["审定数"] == pytest.approx(approved, abs=0.005)
    assert row["核减数"] == pytest.approx(requested - approved, abs=0.005)
    assert row["核减率"] == pytest.approx((requested - approved) / requested, abs=1e-6)
    assert (row["审核结论"], row["需人工复核"]) == (decision, flag)
    # the lines add up to their project
    lines = heldout["lines"].loc[pid]
    assert lines["审定数"].sum() == pytest.approx(row["审定数"], abs=0.005)


def test_reasons_name_what_fired(heldout) -> None:
    lines, projects = heldout["lines"], heldout["projects"]
    why = lines["人工复核原因"].fillna("")
    assert "无适用标准，需人工审核" in why[("HM-01", 2)]
    assert "需核对舱位/席别等级" in why[("HC-01", 4)]
    assert "成都不在住宿费标准表中" in why[("HC-03", 1)]
    assert "与本项目序号 1 重复" in why[("HN-01", 2)]
    assert "重复" not in why[("HN-01", 1)]
    assert "不重复计算讲课费" in why[("HT-01", 3)]
    assert projects.loc["HG-01", "绩效目标审核"] == "未编制绩效目标"
    assert projects.loc["HG-01", "核减理由"].startswith("未编制绩效目标")
    assert projects.loc["HG-02", "绩效目标审核"] == "无可量化产出指标"
    assert "无可量化产出指标" in projects.loc["HG-02", "人工复核原因"]
    assert projects.loc["HM-01", "绩效目标审核"] == "有可量化产出指标"
    # the unit-cost cap: hw-uc@1 value x the m2 target, on the projects sheet
    assert projects.loc["HU-01", "项目核定上限"] == pytest.approx(10.80 * 100000)
    assert projects.loc["HU-02", "项目核定上限"] == pytest.approx(12.46 * 50000)
    # line amounts before the project cap: the travel line capped first
    assert lines.loc[("HU-02", 2), "明细审定数"] == 500 * 1 + (100 + 80) * 2
    # every cut line names a standard and version
    cut = lines[lines["核减数"] > 0]
    assert cut["标准版本"].notna().all() or cut["适用标准"].notna().all()


def test_summary_and_records_hold_the_batch(heldout) -> None:
    import sqlite3

    totals = heldout["summary"]["totals"]
    requested = sum(v[0] for v in EXPECTED_PROJECTS.values())
    approved = sum(v[1] for v in EXPECTED_PROJECTS.values())
    assert totals["approved"] == pytest.approx(approved, abs=0.01)
    assert totals["requested"] == pytest.approx(requested)
    assert totals["projects_reject"] == sum(v[2] == "不予安排" for v in EXPECTED_PROJECTS.values())
    forms = sorted(p.stem for p in (heldout["out"] / "forms").glob("*.html"))
    assert forms == sorted(EXPECTED_PROJECTS)
    sheets = openpyxl.load_workbook(heldout["out"] / "review.xlsx", read_only=True).sheetnames
    assert sheets == ["汇总", "项目", "明细", "待人工复核"]
    batch = heldout["summary"]["batch_id"]
    with sqlite3.connect(heldout["records"]) as conn:
        (n,) = conn.execute("SELECT COUNT(*) FROM review_lines WHERE run_id=?", (batch,)).fetchone()
    assert n == len(EXPECTED_LINES)


# --- the English template ------------------------------------------------------------------

#: the held-out book's Chinese list words and the English ones the English template lists
#: (labels.csv expense_kind/travel_item/target_category/boolean, the tables' item labels)
ENGLISH_WORDS = {
    "支出类型": {"会议": "meeting", "培训": "training", "差旅": "travel",
                 "办公设备家具": "office equipment and furniture"},
    "费用项目": {"住宿费": "lodging", "伙食补助费": "meal allowance",
                 "市内交通费": "local transport", "城市间交通费": "intercity transport"},
    "设备家具品目": {"台式计算机": "desktop computer", "便携式计算机": "laptop computer",
                     "办公椅": "office chair", "复印机": "copier", "会议桌": "meeting table",
                     "办公桌": "desk"},
    "损坏无法修复": {"是": "yes", "否": "no"},
    "指标类别": {"产出-数量": "output: quantity", "产出-质量": "output: quality",
                 "满意度": "satisfaction"},
}  # fmt: skip


def _in_english(header: str, value: object) -> object:
    words = ENGLISH_WORDS.get(header)
    return words[value] if words and value is not None else value


def test_the_english_template_reviews_as_the_chinese_one(heldout, tmp_path) -> None:
    """The held-out book filled into ``template requests --lang en`` (English sheets,
    headers and list words) reviews to the same decisions and amounts as the Chinese
    template; every English word filled in is one of its drop-down list."""
    from costperf.columns import canonical_name, label

    path = tmp_path / "book-en.xlsx"
    code, out, err = run_cli("template", "requests", "-o", path, "--lang", "en", cwd=tmp_path)
    assert code == 0, err
    assert out == f"request book template: {path}\n"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Instructions", "Code lists", "Projects", "Lines", "Targets"]
    lists = {
        col[0].value: {c.value for c in col[1:] if c.value is not None}
        for col in wb["Code lists"].iter_cols()
    }
    english = {zh: label(canonical_name(zh)[0], "en") for zh in {k for x in LINES for k in x}}
    english["指标类别"] = "Indicator category"
    for zh, words in ENGLISH_WORDS.items():  # the words filled in are the listed ones
        assert set(words.values()) <= lists[english[zh]], zh
    assert lists["Expense kind"] == set(ENGLISH_WORDS["支出类型"].values())
    assert lists["Travel item"] == set(ENGLISH_WORDS["费用项目"].values())
    assert lists["Damaged beyond repair"] == {"yes", "no"}
    assert "二类会议" in lists["Meeting category"]  # the standard's own values, as spelled
    for row in PROJECTS:
        wb["Projects"].append(list(row))
    header = [c.value for c in wb["Lines"][1]]
    assert {v for k, v in english.items() if k != "指标类别"} <= set(header)
    for line in LINES:
        by_en = {english[k]: _in_english(k, v) for k, v in line.items()}
        wb["Lines"].append([by_en.get(h) for h in header])
    assert [c.value for c in wb["Targets"][1]] == [
        "Project ID", "Indicator category", "Indicator", "Unit", "Target"
    ]  # fmt: skip
    for pid, category, *rest in TARGETS:
        wb["Targets"].append([pid, _in_english("指标类别", category), *rest])
    wb.save(path)
    got = tmp_path / "out"
    code, _, err = run_cli(*review_args(path, got, tmp_path / "records.sqlite"), cwd=tmp_path)
    assert code == 0, err
    for name, key in (("lines.csv", ["项目编码", "序号"]), ("projects.csv", "项目编码")):
        review = pd.read_csv(got / name, encoding="utf-8-sig").set_index(key)
        expected = pd.read_csv(heldout["out"] / name, encoding="utf-8-sig").set_index(key)
        # the same review, but for where a line was read and the items as written
        own = [c for c in ("来源文件", "工作表", "设备家具品目") if c in review]
        if name == "lines.csv":
            assert set(own) == {"来源文件", "工作表", "设备家具品目"}
            assert set(review["来源文件"]) == {str(path)} and set(review["工作表"]) == {"Lines"}
            items = expected["设备家具品目"].map(ENGLISH_WORDS["设备家具品目"], na_action="ignore")
            pd.testing.assert_series_equal(review["设备家具品目"], items, check_dtype=False)
        pd.testing.assert_frame_equal(review.drop(columns=own), expected.drop(columns=own))
        assert len(review) == len(EXPECTED_LINES if name == "lines.csv" else EXPECTED_PROJECTS)


# --- malformed books ----------------------------------------------------------------------


def line_row(pid: str, n: int) -> int:
    """The sheet row of a line of LINES (row 1 is the header)."""
    return next(i for i, x in enumerate(LINES) if (x["项目编码"], x["序号"]) == (pid, n)) + 2


def _column(ws, name: str) -> int:
    return [c.value for c in ws[1]].index(name) + 1


def _set(wb, pid: str, n: int, header: str, value: object) -> None:
    ws = wb["明细"]
    ws.cell(line_row(pid, n), _column(ws, header)).value = value


def _formula(wb) -> None:  # 申报数 = 数量 x 单价 as a formula openpyxl stores uncomputed
    ws, r = wb["明细"], line_row("HE-04", 2)
    q = openpyxl.utils.get_column_letter(_column(ws, "数量"))
    u = openpyxl.utils.get_column_letter(_column(ws, "单价"))
    ws.cell(r, _column(ws, "申报数")).value = f"={q}{r}*{u}{r}"


def _wrong_header(wb) -> None:
    ws = wb["明细"]
    ws.cell(1, _column(ws, "会议类别")).value = "会议级别"


def _dup_project(wb) -> None:
    wb["项目"].append(list(PROJECTS[0]))


def _empty_lines(wb) -> None:
    wb["明细"].delete_rows(2, wb["明细"].max_row)


def _merged(wb) -> None:
    ws, r = wb["明细"], line_row("HN-01", 1)
    c = _column(ws, "申报数")
    ws.merge_cells(start_row=r, start_column=c, end_row=r + 1, end_column=c)


P_ROW_DUP = len(PROJECTS) + 2  # the appended duplicate project row

# Problems of values, each in its own row of 明细: (line, header, bad value)
VALUE_PROBLEMS = [
    (("HM-02", 1), "人数", "六十"),  # text where a number belongs
    (("HE-02", 1), "数量", -2),  # a negative quantity
    (("HN-01", 1), "申报数", -80000),  # a negative amount
    (("HG-02", 1), "会议类别", "五类会议"),  # outside the closed list of categories
    (("HD-01", 1), "人员级别", "局长"),  # outside the closed list of staff levels
    (("HC-01", 1), "费用项目", "餐费"),  # outside the closed list of travel components
    (("HM-03", 1), "适用标准", "no-such-table"),  # a standard id no table has
    (("HM-05", 1), "日期", "2027-02-30"),  # not a date
    (("HM-06", 1), "人数", "#DIV/0!"),  # an Excel error value
]


def _value_problems(wb) -> None:
    for (pid, n), header, value in VALUE_PROBLEMS:
        _set(wb, pid, n, header, value)
    _formula(wb)


# name -> (edit, [(sheet, row, column or None)] every one of which the message names);
# the message counts exactly these problems
MALFORMED = {
    "wrong_header": (_wrong_header, [("明细", 1, "会议类别")]),
    "duplicate_project_id": (_dup_project, [("项目", P_ROW_DUP, "项目编码")]),
    "empty_lines_sheet": (_empty_lines, [("明细", 1, None)]),
    "merged_cells": (_merged, [("明细", line_row("HN-01", 1), "申报数")]),
    "ten_problems_one_sheet": (
        _value_problems,
        [("明细", line_row(*key), header) for key, header, _ in VALUE_PROBLEMS]
        + [("明细", line_row("HE-04", 2), "申报数")],  # the formula without a cached value
    ),
}

SUCCESS_OUTPUTS = ("review.xlsx", "projects.csv", "lines.csv", "summary.html", "summary.json")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _bad_book(heldout: dict, tmp_path: Path, edit) -> tuple[Path, Path]:
    """A copy of the good book with ``edit`` applied, and a copy of the store that holds
    the good batch."""
    book = tmp_path / "book.xlsx"
    shutil.copy(heldout["book"], book)
    wb = openpyxl.load_workbook(book)
    edit(wb)
    wb.save(book)
    records = tmp_path / "records.sqlite"
    shutil.copy(heldout["records"], records)
    return book, records


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_book_is_rejected_located_and_stores_nothing(
    heldout, tmp_path, monkeypatch, name
) -> None:
    edit, cells = MALFORMED[name]
    monkeypatch.chdir(tmp_path)
    book, records = _bad_book(heldout, tmp_path, edit)
    before = _sha256(records)
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(*review_args(book, out, records), cwd=tmp_path)
    assert code == 2, stderr
    assert "Traceback" not in stderr and "内部错误" not in stderr
    for sheet, row, column in cells:
        where = f"{book}，工作表“{sheet}”，第 {row} 行"
        if column:
            where += f"，列“{column}”"
        assert where in stderr, (where, stderr)
    if name != "merged_cells":  # see test_a_merge_is_one_problem
        assert f"共 {len(cells)} 处输入问题" in stderr, stderr
    assert _sha256(records) == before  # the good batch stored earlier, byte for byte
    left = {p.name for p in out.iterdir()} if out.exists() else set()
    assert not left & {*SUCCESS_OUTPUTS, "forms"}, left
    assert "评审：" not in stdout and "评审记录" not in stdout


def test_a_merge_is_one_problem(heldout, tmp_path, monkeypatch) -> None:
    """The cell a merge covers is not reported again as blank (README, "Input limits")."""
    monkeypatch.chdir(tmp_path)
    book, records = _bad_book(heldout, tmp_path, _merged)
    code, _, stderr = run_cli(*review_args(book, tmp_path / "out", records), cwd=tmp_path)
    assert code == 2 and "共 1 处输入问题" in stderr, stderr


def _bad_quantity_no_amount(wb) -> None:
    _set(wb, "HE-02", 1, "数量", -2)
    _set(wb, "HE-02", 1, "申报数", None)  # left to 数量 × 单价, as an equipment line may


def test_a_bad_quantity_is_not_also_a_missing_amount(heldout, tmp_path, monkeypatch) -> None:
    """申报数 left to 数量 × 单价 with a negative 数量: the quantity is the one problem."""
    monkeypatch.chdir(tmp_path)
    book, records = _bad_book(heldout, tmp_path, _bad_quantity_no_amount)
    code, _, stderr = run_cli(*review_args(book, tmp_path / "out", records), cwd=tmp_path)
    assert code == 2 and "共 1 处输入问题" in stderr, stderr
    assert f"第 {line_row('HE-02', 1)} 行，列“数量”" in stderr


def _merged_project_codes(wb) -> None:
    """项目编码 merged down over a project's lines, as many hand-made books do."""
    ws, r = wb["明细"], line_row("HN-01", 1)
    c = _column(ws, "项目编码")
    assert ws.cell(r + 1, c).value == ws.cell(r, c).value  # the next line is the project's
    ws.cell(r + 1, c).value = None
    ws.merge_cells(start_row=r, start_column=c, end_row=r + 1, end_column=c)


def test_project_codes_merged_down_are_one_problem(heldout, tmp_path, monkeypatch) -> None:
    """Not also "no project code" for the covered line: it belongs to the merge's project
    (what the user has once the merge is undone and every cell filled, as advised)."""
    monkeypatch.chdir(tmp_path)
    book, records = _bad_book(heldout, tmp_path, _merged_project_codes)
    before = _sha256(records)
    code, _, stderr = run_cli(*review_args(book, tmp_path / "out", records), cwd=tmp_path)
    assert code == 2 and "共 1 处输入问题" in stderr, stderr
    assert "数据区有合并单元格" in stderr and "列“项目编码”" in stderr
    assert _sha256(records) == before


def _two_sheets(wb) -> None:
    _dup_project(wb)
    _set(wb, "HN-01", 1, "申报数", "八万元")


def test_malformed_message_in_english_names_file_sheet_row_column(
    heldout, tmp_path, monkeypatch
) -> None:
    """Two problems in two sheets, one run, told in English; nothing stored, no outputs."""
    edit = _two_sheets
    monkeypatch.chdir(tmp_path)
    book, records = _bad_book(heldout, tmp_path, edit)
    before = _sha256(records)
    args = review_args(book, tmp_path / "out", records, "--lang", "en")
    code, _, stderr = run_cli(*args, cwd=tmp_path)
    assert code == 2
    assert f"{book}, sheet '项目', row {P_ROW_DUP}, column '项目编码'" in stderr
    assert f"{book}, sheet '明细', row {line_row('HN-01', 1)}, column '申报数'" in stderr
    assert "2 problem(s)" in stderr and "Traceback" not in stderr
    assert _sha256(records) == before
    out = tmp_path / "out"
    assert not {p.name for p in out.iterdir()} & {*SUCCESS_OUTPUTS, "forms"}


def test_a_named_hidden_sheet_is_read_with_a_note(heldout, tmp_path, monkeypatch) -> None:
    """README.md 'Input limits': a hidden sheet named (the book's 明细) is read, with a
    warning naming it; the result is the same as the visible book's."""
    monkeypatch.chdir(tmp_path)

    def hide(wb) -> None:
        wb["明细"].sheet_state = "hidden"

    book, records = _bad_book(heldout, tmp_path, hide)
    code, _, stderr = run_cli(*review_args(book, tmp_path / "out", records), cwd=tmp_path)
    assert code == 0, stderr
    assert "工作表“明细”在工作簿中是隐藏的" in stderr
    got = pd.read_csv(tmp_path / "out" / "projects.csv", encoding="utf-8-sig")
    assert got["审定数"].sum() == pytest.approx(heldout["projects"]["审定数"].sum())


def test_a_standard_id_naming_no_value_line_is_bad_input(heldout, tmp_path, monkeypatch) -> None:
    """九类会议 is outside meeting-fee's closed list: a located error, not a flag."""
    monkeypatch.chdir(tmp_path)
    book, records = _bad_book(
        heldout, tmp_path, lambda wb: _set(wb, "HM-03", 1, "适用标准", "meeting-fee/九类会议/total")
    )
    before = _sha256(records)
    code, _, stderr = run_cli(*review_args(book, tmp_path / "out", records), cwd=tmp_path)
    assert code == 2
    assert f"{book}，工作表“明细”，第 {line_row('HM-03', 1)} 行，列“适用标准”" in stderr
    assert _sha256(records) == before


# --- a second, small book of boundaries and less common facts -----------------------------

EDGE_PROJECTS = [
    (f"X-0{i}", f"边界情形{i}", "区财政局", None, None, 2027, None) for i in (1, 2, 3, 4)
]
EDGE_TARGETS = [(p[0], "产出-数量", "服务人次", "人", 10) for p in EDGE_PROJECTS]


def _edge(pid: str, n: int, approved: float, **facts) -> tuple[dict, float]:
    return {"项目编码": pid, "序号": n, "明细名称": f"明细{n}", **facts}, approved


EDGE = [
    # 会议类别 given as 3 (1-4 accepted): 三类 550 x 10 x 2 = 11,000
    _edge("X-01", 1, 550 * 10 * 2, 经济分类科目="30215", 申报数=12000, 日期="2027-04-01",
          会议类别=3, 人数=10, 天数=2),
    # 28 days + arrival 1 + departure 1 = 30: all at the full quota, 550 x 10 x 30
    _edge("X-01", 2, 550 * 10 * 30, 经济分类科目="30216", 申报数=170000, 日期="2027-04-01",
          培训类别="三类培训", 人数=10, 天数=28, 报到天数=1, 撤离天数=1),
    # arrival 2 days alone counts 1: 二类 650 x 10 x (3 + 1)
    _edge("X-01", 3, 650 * 10 * (3 + 1), 经济分类科目="30216", 申报数=30000, 日期="2027-04-01",
          培训类别="二类培训", 人数=10, 天数=3, 报到天数=2),
    # 住宿天数 blank -> 天数 - 1 = 2 nights: 北京 其他人员 1 x (500 x 2 + 180 x 3)
    _edge("X-02", 1, 500 * 2 + (100 + 80) * 3, 经济分类科目="30211", 申报数=2000,
          日期="2027-04-01", 人数=1, 天数=3, 出差城市="北京", 人员级别="其他人员"),
    # 拉萨 itemised meals: 120 (西藏) x 3 days x 1
    _edge("X-02", 2, 120 * 3 * 1, 经济分类科目="30211", 支出类型="差旅", 费用项目="伙食补助费",
          申报数=400, 日期="2027-03-10", 人数=1, 天数=3, 出差城市="拉萨", 人员级别="其他人员",
          住宿天数=2),
    # 拉萨 itemised lodging in March (淡季): 350 x 2 nights x 1
    _edge("X-02", 3, 350 * 2 * 1, 经济分类科目="30211", 支出类型="差旅", 费用项目="住宿费",
          申报数=800, 日期="2027-03-10", 人数=1, 天数=3, 出差城市="拉萨", 人员级别="其他人员",
          住宿天数=2),
    # 结束日期 instead of 天数: 04-01..04-03 = 3 days, 2 nights; 上海 厅局级 600 x 2 + 180 x 3
    _edge("X-02", 4, 600 * 2 + (100 + 80) * 3, 经济分类科目="30211", 申报数=2000,
          日期="2027-04-01", 结束日期="2027-04-03", 人数=1, 出差城市="上海", 人员级别="厅局级"),
    # copier replacement (7 >= 6 years): cap 6 - (5 held - 2 replaced) = 3 >= 2; 2 x 30,000
    _edge("X-03", 1, 2 * 30000, 经济分类科目="31002", 申报数=60000, 数量=2, 单价=30000,
          设备家具品目="复印机", 编制内实有人数=130, 现有数量=5, 被更新资产已使用年限=7),
    # A4 printers: floor(10 x 80 %) - 6 held = 2 units x min(1,500, 1,200)
    _edge("X-03", 2, 2 * 1200, 经济分类科目="31007", 数量=4, 单价=1500,
          设备家具品目="A4黑白打印机", 编制内实有人数=10, 现有数量=6),
    # multifunction: floor(10 x 30 %) = 3 units x min(2,500, 3,000)
    _edge("X-03", 3, 3 * 2500, 经济分类科目="31002", 数量=4, 单价=2500,
          设备家具品目="多功能一体机/传真机", 编制内实有人数=10),
    # 司局级 bookcases: 3 staff x 2 = 6 >= 4 units x min(2,500, 2,000)
    _edge("X-03", 4, 4 * 2000, 经济分类科目="31002", 数量=4, 单价=2500, 设备家具品目="书柜",
          编制内实有人数=3, 人员级别="司局级"),
    # 涉密单位 desktops: floor(10 x 150 %) - 12 held = 3 units x min(5,000, 5,000)
    _edge("X-03", 5, 3 * 5000, 经济分类科目="31002", 数量=4, 单价=5000,
          设备家具品目="台式计算机", 编制内实有人数=10, 现有数量=12, 单位类型="涉密单位"),
    # meeting table, 120 m2 (> 100 band): 1,000 x 120
    _edge("X-03", 6, 1000 * 120, 经济分类科目="31002", 申报数=130000, 数量=1,
          设备家具品目="会议桌", 会议室面积=120),
    # meeting table, exactly 50 m2 (<= 50 band): 1,600 x 50
    _edge("X-03", 7, 1600 * 50, 经济分类科目="31002", 申报数=90000, 数量=1,
          设备家具品目="会议桌", 会议室面积=50),
    # laptop replaced after 3 years but damaged: allowed; cap 5 - (5 - 1) = 1 x min(8,000, 7,000)
    _edge("X-03", 8, 1 * 7000, 经济分类科目="31002", 申报数=8000, 数量=1, 单价=8000,
          设备家具品目="便携式计算机", 编制内实有人数=10, 现有数量=5, 被更新资产已使用年限=3,
          损坏无法修复="是"),
    # 二类 with 301 attendees (> 300): 不予安排
    _edge("X-04", 1, 0, 经济分类科目="30215", 申报数=100000, 日期="2027-04-01",
          会议类别="二类会议", 人数=301, 天数=1),
    # 三类 with 151 attendees (> 150): 不予安排
    _edge("X-04", 2, 0, 经济分类科目="30215", 申报数=100000, 日期="2027-04-01",
          会议类别="三类会议", 人数=151, 天数=1),
    # 二类 传达布置类 of 1 day (<= 1): 650 x 20 x 1
    _edge("X-04", 3, 650 * 20 * 1, 经济分类科目="30215", 申报数=14000, 日期="2027-04-01",
          会议类别="二类会议", 会议性质="传达布置类", 人数=20, 天数=1),
    # 院士、全国知名专家 1,500 元/学时 x 2 h
    _edge("X-04", 4, 1500 * 2, 经济分类科目="30216", 申报数=4000, 日期="2027-04-01",
          讲课人员职称="院士、全国知名专家", 讲课学时=2),
]  # fmt: skip


@pytest.fixture(scope="module")
def edge_lines(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    root = tmp_path_factory.mktemp("edge")
    book = build_book(
        root / "in", lines=[x for x, _ in EDGE], projects=EDGE_PROJECTS, targets=EDGE_TARGETS
    )
    code, _, stderr = run_cli("review", book, "--date", DATE, "--out", root / "out", cwd=root)
    assert code == 0, stderr
    lines = pd.read_csv(root / "out" / "lines.csv", encoding="utf-8-sig")
    return lines.set_index(["项目编码", "序号"])


@pytest.mark.parametrize(
    ("line", "approved"), EDGE, ids=[f"{x['项目编码']}-{x['序号']}" for x, _ in EDGE]
)
def test_edge_line_approved(edge_lines, line, approved) -> None:
    row = edge_lines.loc[(line["项目编码"], line["序号"])]
    requested = line.get("申报数") or line["数量"] * line["单价"]
    assert row["申报数"] == pytest.approx(requested)
    assert row["审定数"] == pytest.approx(approved, abs=0.005)
    decision = "不予安排" if approved == 0 else ("通过" if approved == requested else "核减")
    assert (row["审核结论"], row["需人工复核"]) == (decision, NO)


def test_a_rejected_book_says_the_outputs_beside_it_are_an_earlier_runs(
    heldout, tmp_path, monkeypatch
) -> None:
    """A bad book reviewed into a folder holding a good batch's outputs: they are left as
    they were, and the message says they are an earlier run's, not this book's."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    shutil.copytree(heldout["out"], out)
    before = _sha256(out / "summary.json")
    book, records = _bad_book(heldout, tmp_path, lambda wb: _set(wb, "HM-02", 1, "人数", "六十"))
    code, _, stderr = run_cli(*review_args(book, out, records), cwd=tmp_path)
    assert code == 2
    assert f"{out} 中已有的评审结果和报告来自此前一次运行，本次未写出也未改动" in stderr
    assert _sha256(out / "summary.json") == before
    code, _, stderr = run_cli(*review_args(book, out, records, "--lang", "en"), cwd=tmp_path)
    assert code == 2 and f"already in {out} are an earlier run's" in stderr
    fresh = tmp_path / "fresh"
    code, _, stderr = run_cli(*review_args(book, fresh, records), cwd=tmp_path)
    assert code == 2 and "此前一次运行" not in stderr  # a new folder: nothing to say
