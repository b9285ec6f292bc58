"""Generate the illustrative data of the sanitation-5-districts case (fixed seed).

The numbers are illustrative, not any district's real contracts. They are built to be
realistic: all-in unit costs of about 6-20 yuan per m2 per year, a cleaner covering
about 5,000-15,000 m2 depending on road grade and sweeping frequency, wages near a
Shanghai suburban cleaning wage (minimum wage x 1.1 plus social insurance and
allowances), and the cost build-up personnel + materials + equipment + management fee +
profit + tax of outsourced sanitation contracts.

Run from the repository root:  python cases/sanitation-5-districts/generate.py
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20251
HERE = Path(__file__).resolve().parent
DATA = HERE / "data"

# district: (code, wage index, staffing habit multiplier, density persons/km2)
DISTRICTS = {
    "青浦区": ("QP", 0.97, 1.00, 1900),
    "松江区": ("SJ", 1.03, 0.95, 3200),
    "嘉定区": ("JD", 1.06, 1.02, 3900),
    "金山区": ("JS", 0.93, 1.18, 1400),
    "奉贤区": ("FX", 0.95, 1.08, 1600),
}
# grade: (sweeps per day, m2 covered per cleaner at one sweep a day... see below)
GRADES = {
    "一级": (3.0, 6000.0),
    "二级": (2.0, 8500.0),
    "三级": (1.5, 11000.0),
    "四级": (1.0, 14000.0),
}
# share of a district's contracts that buy an extra half sweep a day above the grade's
# norm (busier streets, tourist areas): frequency varies within a grade, as it does in
# real contracts, and cleaners scale with the sweeps bought.
EXTRA_SWEEP_SHARE = {"青浦区": 0.5, "松江区": 0.15, "嘉定区": 0.35, "金山区": 0.1, "奉贤区": 0.2}
BASE_WAGE = 66000.0  # yuan per frontline cleaner-year incl. social insurance
CONTRACTS_PER_DISTRICT = 14
DEPARTMENT = "区绿化和市容管理局"


def contract_lines(
    rng: np.random.Generator,
    area: float,
    grade: str,
    wage_index: float,
    staffing: float,
    sweeps: float,
) -> tuple[int, list[dict]]:
    """Cost lines of one contract; returns (frontline cleaners, lines)."""
    base, coverage = GRADES[grade]
    extra = sweeps / base  # cleaners needed grow with the sweeps bought
    cleaners = max(2, round(area / coverage * staffing * extra * rng.uniform(0.94, 1.06)))
    wage = round(BASE_WAGE * wage_index * rng.uniform(0.97, 1.03), -1)
    leaders = math.ceil(cleaners / 25)
    sweepers = max(1, round(area / 160000 * sweeps / 2 * rng.uniform(0.8, 1.2)))
    tricycles = math.ceil(cleaners / 4)
    lines = [
        ("personnel", "30227", "一线保洁员", "人·年", cleaners, wage),
        ("personnel", "30227", "作业班组长", "人·年", leaders, round(wage * 1.35, -1)),
        (
            "equipment",
            "30227",
            "道路洗扫车（含燃料、维保）",
            "台·年",
            sweepers,
            round(rng.uniform(150000, 185000), -2),
        ),
        (
            "equipment",
            "30227",
            "电动保洁三轮车",
            "辆·年",
            tricycles,
            round(rng.uniform(2600, 3400), -1),
        ),
        (
            "materials",
            "30227",
            "清扫工具及耗材",
            "人·年",
            cleaners + leaders,
            round(rng.uniform(1000, 1500), -1),
        ),
        (
            "materials",
            "30227",
            "作业服装及劳保用品",
            "人·年",
            cleaners + leaders,
            round(rng.uniform(600, 900), -1),
        ),
    ]
    rows = [
        dict(
            cost_element=e,
            econ_code=c,
            item=i,
            unit=u,
            quantity=float(q),
            unit_price=float(p),
            amount=round(q * p, 2),
        )
        for e, c, i, u, q, p in lines
    ]
    direct = sum(r["amount"] for r in rows)
    management = round(direct * rng.uniform(0.04, 0.07), 2)
    profit = round((direct + management) * rng.uniform(0.03, 0.06), 2)
    tax = round((direct + management + profit) * 0.06, 2)
    for element, item, amount in (
        ("management", "企业管理费", management),
        ("profit", "利润", profit),
        ("tax", "增值税及附加", tax),
    ):
        rows.append(
            dict(
                cost_element=element,
                econ_code="30227",
                item=item,
                unit="项",
                quantity=1.0,
                unit_price=amount,
                amount=amount,
            )
        )
    return cleaners, rows


def outputs_for(rng: np.random.Generator, pid: str, area: float, sweeps: float) -> list[dict]:
    return [
        dict(
            project_id=pid,
            indicator="保洁面积",
            category="output_quantity",
            unit="m2",
            target=area,
            actual=area,
        ),
        dict(
            project_id=pid,
            indicator="日清扫频次",
            category="output_quality",
            unit="次/日",
            target=sweeps,
            actual=sweeps,
        ),
        dict(
            project_id=pid,
            indicator="道路保洁质量达标率",
            category="output_quality",
            unit="%",
            target=95.0,
            actual=round(rng.uniform(92, 99.5), 1),
        ),
        dict(
            project_id=pid,
            indicator="群众满意度",
            category="satisfaction",
            unit="分",
            target=85.0,
            actual=round(rng.uniform(82, 96), 1),
        ),
    ]


def generate(
    rng: np.random.Generator,
    year: int,
    per_district: int,
    prefix: str,
    *,
    inflate: dict[str, float] | None = None,
):
    projects, lines, outputs = [], [], []
    for district, (code, wage_index, staffing, density) in DISTRICTS.items():
        for k in range(1, per_district + 1):
            pid = f"{prefix}-{code}-{year}-{k:03d}"
            grade = list(GRADES)[(k - 1) % 4] if k <= 8 else rng.choice(list(GRADES))
            area = round(rng.uniform(80000, 900000), -2)
            sweeps = GRADES[grade][0] + (0.5 if rng.random() < EXTRA_SWEEP_SHARE[district] else 0)
            cleaners, rows = contract_lines(rng, area, grade, wage_index, staffing, sweeps)
            factor = (inflate or {}).get(pid, 1.0)
            projects.append(
                dict(
                    project_id=pid,
                    project_name=f"{district}{grade}道路保洁服务（{k:02d}标段）",
                    class_of_matter="环卫保洁",
                    district=district,
                    department=DEPARTMENT,
                    year=year,
                    road_grade=grade,
                    wage_index=wage_index,
                    density=density,
                    cleaners=cleaners,
                )
            )
            for n, row in enumerate(rows, start=1):
                if factor != 1.0 and row["cost_element"] in ("personnel", "equipment"):
                    row["unit_price"] = round(row["unit_price"] * factor, 2)
                    row["amount"] = round(row["quantity"] * row["unit_price"], 2)
                lines.append(dict(project_id=pid, line_no=n, **row))
            outputs.extend(outputs_for(rng, pid, area, sweeps))
    return pd.DataFrame(projects), pd.DataFrame(lines), pd.DataFrame(outputs)


ZH_PROJECTS = {
    "project_id": "项目编码",
    "project_name": "项目名称",
    "class_of_matter": "事项类别",
    "district": "区域",
    "department": "预算部门",
    "year": "年度",
    "road_grade": "道路等级",
    "wage_index": "工资指数",
    "density": "人口密度",
    "cleaners": "保洁人员数",
}
ZH_LINES = {
    "project_id": "项目编码",
    "line_no": "序号",
    "cost_element": "成本要素",
    "econ_code": "经济分类科目",
    "item": "明细名称",
    "unit": "计量单位",
    "quantity": "数量",
    "unit_price": "单价（元）",
    "amount": "金额（元）",
}


def main() -> None:
    rng = np.random.default_rng(SEED)
    DATA.mkdir(exist_ok=True)
    # one 2025 contract was let at padded prices: the peer screening must catch it
    padded = {"HW-JS-2025-003": 1.9}
    projects, lines, outputs = generate(rng, 2025, CONTRACTS_PER_DISTRICT, "HW", inflate=padded)
    projects.rename(columns=ZH_PROJECTS).to_csv(
        DATA / "projects.csv", index=False, encoding="utf-8-sig"
    )
    lines.rename(columns=ZH_LINES).to_csv(
        DATA / "line_items.csv", index=False, encoding="utf-8-sig"
    )
    outputs.to_csv(DATA / "outputs.csv", index=False, encoding="utf-8-sig")
    # New 2026 requests: two per district, some padded above what peers spend.
    inflate = {
        "SQ-QP-2026-001": 1.00,
        "SQ-QP-2026-002": 1.25,
        "SQ-SJ-2026-001": 1.10,
        "SQ-JD-2026-002": 1.40,
        "SQ-JS-2026-001": 1.18,
        "SQ-FX-2026-002": 0.95,
    }
    req_p, req_l, req_o = generate(rng, 2026, 2, "SQ", inflate=inflate)
    # one request arrives without its area target: it cannot be assessed
    req_o = req_o[~((req_o["project_id"] == "SQ-FX-2026-001") & (req_o["indicator"] == "保洁面积"))]
    req_p = req_p.drop(columns=["cleaners"])
    req_p.rename(columns=ZH_PROJECTS).to_csv(
        DATA / "requests.csv", index=False, encoding="utf-8-sig"
    )
    req_l.rename(columns=ZH_LINES).to_csv(
        DATA / "request_lines.csv", index=False, encoding="utf-8-sig"
    )
    req_o.to_csv(DATA / "request_outputs.csv", index=False, encoding="utf-8-sig")


if __name__ == "__main__":
    main()
