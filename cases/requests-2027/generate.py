"""Generate the worked request book of cases/requests-2027 (illustrative data, fixed seed).

    python cases/requests-2027/generate.py            # book/ (byte-identical)
    python cases/requests-2027/generate.py --derive   # also re-derive standards/hw-uc-v1.*

``--derive`` runs ``costperf run cases/sanitation-5-districts`` in a scratch folder,
copies the draft unit-cost table it derives (``OUT/standards/hw-uc-v1.*``) here and
seals it (``costperf standards seal``): the sanitation contracts of this book are
reviewed against it.  See README.md for what each group shows.
"""

from __future__ import annotations

import csv
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20270

PROJECT_HEADER = ["项目编码", "项目名称", "预算部门", "事项类别", "区域", "年度", "道路等级"]
LINE_HEADER = [
    "项目编码",
    "序号",
    "经济分类科目",
    "明细名称",
    "支出类型",
    "费用项目",
    "申报数",
    "数量",
    "单价",
    "适用标准",
    "日期",
    "会议类别",
    "会议性质",
    "培训类别",
    "人数",
    "天数",
    "报到天数",
    "撤离天数",
    "讲课人员职称",
    "讲课人员姓名",
    "讲课学时",
    "授课半天数",
    "出差城市",
    "人员级别",
    "住宿天数",
    "设备家具品目",
    "编制内实有人数",
    "现有数量",
    "被更新资产已使用年限",
    "损坏无法修复",
    "成本要素",
]
TARGET_HEADER = ["项目编码", "指标类别", "指标名称", "单位", "目标值"]
DEPTS = {
    "CZ": "区财政局",
    "FG": "区发展改革委",
    "JY": "区教育局",
    "WJ": "区卫生健康委",
    "LH": "区绿化和市容管理局",
    "JG": "区机关事务管理局",
}
DISTRICTS = ["青浦区", "松江区", "嘉定区", "金山区", "奉贤区"]
GRADES = {"一级": 16.49, "二级": 12.46, "三级": 10.80, "四级": 7.85}  # hw-uc@1, yuan/m2


class Book:
    """Rows of the three sheets, with a line counter per project."""

    def __init__(self) -> None:
        self.projects: list[dict] = []
        self.lines: list[dict] = []
        self.targets: list[dict] = []
        self._n: dict[str, int] = {}

    def project(self, pid: str, name: str, dept: str, **extra: object) -> str:
        self.projects.append(
            {"项目编码": pid, "项目名称": name, "预算部门": DEPTS[dept], "年度": 2027, **extra}
        )
        return pid

    def line(self, pid: str, item: str, **cells: object) -> None:
        self._n[pid] = self._n.get(pid, 0) + 1
        self.lines.append({"项目编码": pid, "序号": self._n[pid], "明细名称": item, **cells})

    def target(self, pid: str, category: str, indicator: str, unit: str, value: object) -> None:
        self.targets.append(
            {
                "项目编码": pid,
                "指标类别": category,
                "指标名称": indicator,
                "单位": unit,
                "目标值": value,
            }
        )

    def usual_targets(self, pid: str, indicator: str, unit: str, value: object) -> None:
        self.target(pid, "产出-数量", indicator, unit, value)
        self.target(pid, "产出-质量", "验收合格率", "%", "≥95%")
        self.target(pid, "满意度", "服务对象满意度", "%", "≥90%")


def meetings(b: Book, rng: np.random.Generator) -> None:
    """Group A: meetings within and over the quota, over the day and head-count limits."""
    quota = {"一类": 760, "二类": 650, "三类": 550, "四类": 550}
    for k in range(40):
        dept = ["CZ", "FG"][k % 2]
        pid = b.project(f"A-{dept}-{k + 1:03d}", f"2027年度业务工作会议（{k + 1}）", dept)
        cat = ["二类", "三类", "四类", "二类", "三类"][k % 5]
        persons, days = int(rng.integers(30, 140)), int(rng.integers(1, 3))
        if k % 10 == 7:
            days = 3  # over the 2-day limit of 二/三/四类 meetings: rejected
        if cat == "四类":
            persons = min(persons, 50) if k % 20 != 3 else 70  # over 50 attendees: rejected
        factor = [0.92, 1.0, 1.12, 1.25][k % 4]
        amount = round(quota[cat] * persons * days * factor, -2)
        cells = {
            "申报数": amount,
            "会议类别": cat,
            "人数": persons,
            "天数": days,
            "日期": f"2027-{3 + k % 9:02d}-15",
        }
        if k % 4 == 0:  # routed by its economic classification code alone
            cells["经济分类科目"] = "30215"
        else:
            cells["支出类型"] = "会议"
        if k % 13 == 5:  # briefing meeting of 2 days: over its 1-day limit
            cells.update({"会议性质": "传达布置类", "天数": 2, "会议类别": "二类"})
        if k % 17 == 2:  # named by its standard id
            cells.pop("支出类型", None)
            cells["适用标准"] = f"meeting-fee/{cat}会议/total"
        b.line(pid, "会议费", **cells)
        b.line(pid, "会议资料印制", 经济分类科目="30201", 申报数=round(persons * 35.0, -1))
        b.usual_targets(pid, "参会人数", "人", persons)


def trainings(b: Book, rng: np.random.Generator) -> None:
    """Group B: training quota and lecturer fees, long trainings, a repeated lecture."""
    quota = {"一类": 760, "二类": 650, "三类": 550}
    for k in range(40):
        dept = ["JY", "WJ"][k % 2]
        pid = b.project(f"B-{dept}-{k + 1:03d}", f"2027年度业务骨干培训班（{k + 1}）", dept)
        cat = ["二类", "三类", "一类"][k % 3]
        persons = int(rng.integers(20, 80))
        days = [3, 5, 7, 35][k % 4] if k % 8 else 32
        charged = days + 2
        charged = min(charged, 30) + max(charged - 30, 0) * 0.7
        factor = [0.95, 1.08, 1.2][k % 3]
        amount = round(quota[cat] * persons * charged * factor, -2)
        date = f"2027-{3 + k % 8:02d}-10"
        kind = {"支出类型": "培训"} if k % 3 else {"经济分类科目": "30216"}
        b.line(
            pid,
            "培训费",
            申报数=amount,
            培训类别=cat,
            人数=persons,
            天数=days,
            报到天数=1,
            撤离天数=1,
            日期=date,
            **kind,
        )
        hours = [6, 8, 12][k % 3]
        title = ["副高级", "正高级", "院士、全国知名专家"][k % 3]
        rate = {"副高级": 500, "正高级": 1000, "院士、全国知名专家": 1500}[title]
        lecturer = f"讲师{k + 1:02d}"
        b.line(
            pid,
            "讲课费",
            支出类型="培训",
            申报数=rate * hours * (1.25 if k % 5 == 1 else 1),
            讲课人员职称=title,
            讲课人员姓名=lecturer,
            讲课学时=hours,
            授课半天数=2,
            日期=date,
        )
        if k % 10 == 4:  # the same lecture claimed again: flagged, not cut
            b.line(
                pid,
                "讲课费（二班）",
                支出类型="培训",
                申报数=rate * hours,
                讲课人员职称=title,
                讲课人员姓名=lecturer,
                讲课学时=hours,
                日期=date,
            )
        b.usual_targets(pid, "培训人次", "人次", persons)


def travel(b: Book, rng: np.random.Generator) -> None:
    """Group C: itemised trips (lodging, meals, local, intercity); D: whole trips."""
    trips = [
        ("北京", "厅局级", 650),
        ("上海", "其他人员", 500),
        ("广州", "厅局级", 600),
        ("大连", "其他人员", 420),
        ("海口", "其他人员", 450),
    ]
    for k in range(50):
        dept = list(DEPTS)[k % 6]
        pid = b.project(f"C-{dept}-{k + 1:03d}", f"赴外地调研学习差旅（{k + 1}）", dept)
        city, level, _ = trips[k % 5]
        if k % 25 == 11:
            city = "成都"  # not in the lodging table: flagged, the rest reviewed
        persons, nights = int(rng.integers(1, 5)), int(rng.integers(2, 5))
        days = nights + 1
        date = f"2027-{4 + k % 8:02d}-0{1 + k % 8}"
        per_night = [800, 600, 500, 700, 450][k % 5]
        common = {
            "支出类型": "差旅",
            "出差城市": city,
            "人员级别": level,
            "日期": date,
            "人数": persons,
            "天数": days,
            "住宿天数": nights,
        }
        b.line(
            pid,
            "住宿费",
            费用项目="住宿费",
            申报数=per_night * nights * persons,
            数量=nights * persons,
            单价=per_night,
            **common,
        )
        meal = 100 if k % 3 else 130  # 130 > 100: cut even when lodging is below its cap
        b.line(pid, "伙食补助费", 费用项目="伙食补助费", 申报数=meal * days * persons, **common)
        b.line(pid, "市内交通费", 费用项目="市内交通费", 申报数=80 * days * persons, **common)
        b.line(
            pid,
            "城市间交通费",
            费用项目="城市间交通费",
            申报数=round(float(rng.uniform(900, 2600)) * persons, -1),
            **common,
        )
        b.usual_targets(pid, "调研报告", "篇", 1)
    for k in range(15):
        dept = list(DEPTS)[k % 6]
        pid = b.project(f"D-{dept}-{k + 1:03d}", f"外地会议差旅（整次申报）（{k + 1}）", dept)
        city, level, _ = trips[k % 5]
        nights = 2 + k % 3
        b.line(
            pid,
            "差旅费",
            经济分类科目="30211",
            出差城市=city,
            人员级别=level,
            日期=f"2027-0{5 + k % 4}-20",
            天数=nights + 1,
            住宿天数=nights,
            人数=2,
            申报数=float(2 * (700 * nights + 200 * (nights + 1))),
        )
        b.usual_targets(pid, "出差人次", "人次", 2)


def equipment(b: Book, rng: np.random.Generator) -> None:
    """Group E: office equipment and furniture: price and quantity caps, replacements."""
    items = [
        ("台式计算机", 5000),
        ("便携式计算机", 7000),
        ("办公桌", 3000),
        ("复印机", 35000),
        ("办公椅", 800),
    ]
    for k in range(40):
        pid = b.project(f"E-JG-{k + 1:03d}", f"办公设备家具购置（{k + 1}）", "JG")
        name, cap = items[k % 5]
        staff = int(rng.integers(20, 120))
        quantity = int(rng.integers(2, 12))
        held = staff - quantity + (k % 3) * 2  # some ask for more than the cap allows
        price = cap * [0.9, 1.0, 1.2][k % 3]
        cells = {
            "支出类型": "办公设备家具",
            "设备家具品目": name,
            "数量": quantity,
            "单价": price,
            "申报数": price * quantity,
            "编制内实有人数": staff,
            "现有数量": max(held, 0),
            "人员级别": "处级及以下",
            "日期": "2027-03-01",
        }
        if name == "复印机":
            cells.update({"数量": 1, "申报数": price, "现有数量": staff // 20})
        if k % 10 == 6:  # replacement after 4 years, not damaged: rejected
            cells.update({"被更新资产已使用年限": 4, "现有数量": staff, "损坏无法修复": "否"})
        b.line(pid, f"{name}购置", **cells)
        b.usual_targets(pid, "购置数量", "台（套）", quantity)


def sanitation(b: Book, rng: np.random.Generator) -> None:
    """Group F: road-cleaning contracts against the unit-cost standard hw-uc@1."""
    shares = [
        ("personnel", "一线保洁员", 0.62),
        ("personnel", "作业班组长", 0.05),
        ("equipment", "道路洗扫车（含燃料、维保）", 0.12),
        ("materials", "保洁耗材", 0.06),
        ("management", "管理费", 0.06),
        ("profit", "利润", 0.04),
        ("tax", "税金", 0.05),
    ]
    for k in range(40):
        district = DISTRICTS[k % 5]
        grade = list(GRADES)[k % 4]
        pid = b.project(
            f"F-LH-{k + 1:03d}",
            f"{district}{grade}道路保洁服务（{k + 1:02d}标段）",
            "LH",
            事项类别="环卫保洁",
            区域=district,
            道路等级=grade,
        )
        area = int(rng.integers(150, 800)) * 1000
        factor = [0.9, 1.0, 1.15, 1.35][k % 4]
        total = GRADES[grade] * area * factor
        for element, item, share in shares:
            amount = round(total * share, -2)
            b.line(pid, item, 经济分类科目="30227", 成本要素=element, 申报数=amount)
        if k % 10 == 3:  # a travel line inside a contract: lines first, then the cap
            b.line(
                pid,
                "外出考察差旅",
                支出类型="差旅",
                出差城市="上海",
                人员级别="其他人员",
                日期="2027-05-10",
                天数=3,
                住宿天数=2,
                人数=2,
                申报数=3500,
            )
        if k == 17:  # no area target in m2: not capped, flagged
            b.target(pid, "产出-数量", "保洁道路长度", "km", 42)
        else:
            b.target(pid, "产出-数量", "保洁面积", "m2", area)
        b.target(pid, "产出-质量", "道路保洁质量达标率", "%", "≥95%")


def other(b: Book, rng: np.random.Generator) -> None:
    """Groups G-J: no targets, no quantified output, no applicable standard, duplicates."""
    for k in range(20):
        dept = list(DEPTS)[k % 6]
        pid = b.project(f"G-{dept}-{k + 1:03d}", f"信息系统运行维护（{k + 1}）", dept)
        b.line(
            pid,
            "系统运维服务",
            经济分类科目="30213",
            申报数=round(float(rng.uniform(2, 9)) * 1e5, -2),
        )
        b.line(
            pid,
            "办公耗材",
            经济分类科目="30201",
            申报数=round(float(rng.uniform(0.5, 2)) * 1e4, -1),
        )
        if k % 2 == 0:  # group G: no targets at all -> 不予安排
            continue
        if k % 4 == 1:  # group H: targets without a numeric 产出-数量 -> flagged
            b.target(pid, "产出-时效", "按期完成率", "%", "100%")
            b.target(pid, "满意度", "使用单位满意度", "%", "≥90%")
        else:
            b.usual_targets(pid, "运维系统数", "个", 3)
    for k in range(30):  # group I: no applicable standard (approved as requested, flagged)
        dept = list(DEPTS)[k % 6]
        pid = b.project(f"I-{dept}-{k + 1:03d}", f"日常公用经费（{k + 1}）", dept)
        b.line(
            pid, "办公用品", 经济分类科目="30201", 申报数=round(float(rng.uniform(1, 5)) * 1e4, -1)
        )
        b.line(
            pid, "房屋维修", 经济分类科目="30213", 申报数=round(float(rng.uniform(5, 30)) * 1e4, -2)
        )
        if k % 4 == 0:  # group J: the same item and amount twice
            b.line(pid, "房屋维修", 经济分类科目="30213", 申报数=b.lines[-1]["申报数"])
        b.usual_targets(pid, "维修面积", "m2", int(rng.integers(200, 2000)))


def write(path: Path, header: list[str], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})


def derive_standard() -> None:
    """Re-derive hw-uc@1 with ``costperf run`` on the sanitation case, copy and seal it."""
    from costperf.cli import main
    from costperf.standards import seal_table

    case = HERE.parent / "sanitation-5-districts"
    with tempfile.TemporaryDirectory() as tmp:
        assert main(["run", str(case), "--out", tmp, "--no-records"]) == 0
        target = HERE / "standards"
        target.mkdir(exist_ok=True)
        for path in (Path(tmp) / "standards").glob("hw-uc-v1.*"):
            shutil.copy(path, target / path.name)
    seal_table(HERE / "standards" / "hw-uc-v1.toml")


def main(argv: list[str]) -> None:
    rng = np.random.default_rng(SEED)
    book = Book()
    for group in (meetings, trainings, travel, equipment, sanitation, other):
        group(book, rng)
    out = HERE / "book"
    out.mkdir(exist_ok=True)
    write(out / "projects.csv", PROJECT_HEADER, book.projects)
    write(out / "lines.csv", LINE_HEADER, book.lines)
    write(out / "targets.csv", TARGET_HEADER, book.targets)
    if "--derive" in argv:
        derive_standard()
    print(f"{len(book.projects)} projects, {len(book.lines)} lines, {len(book.targets)} targets")


if __name__ == "__main__":
    main(sys.argv[1:])
