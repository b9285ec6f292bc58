"""Build the [optimize] model of the sanitation case from its own contract data.

For every 2025 contract (70, five districts, road grades 一级-四级) the resources are
its frontline cleaners, team leaders, sweeper trucks and electric tricycles, priced at
the contract's own unit prices (a person also brings the per-person tools and clothing
lines); the current plan is the contract's quantities. The constraints hold what the
contract buys fixed and keep the operating norms:

* ``keep_output[P]`` (baseline): swept area per day, m2 x sweeps, at least the
  contract's area x its sweeps per day. A cleaner sweeps the road grade's norm per day
  (``COVERAGE``, m2 x sweeps per cleaner: the case's staffing norm), a sweeper truck
  ``TRUCK_M2_SWEEPS`` m2 x sweeps;
* ``manual_share[P]`` (policy): at least ``MANUAL_SHARE`` of it swept by hand
  (pavements, kerbs and bins need people);
* ``leaders[P]``, ``tricycles[P]`` (policy): one team leader per 25 cleaners, one
  tricycle per 4 cleaners;
* ``fleet[D]`` (limit): a district's trucks at most its current fleet.

Deterministic (no random numbers). Run from the repository root:
``python cases/sanitation-5-districts/optimize_model.py``
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
OUT = HERE / "optimize"

#: m2 x sweeps one cleaner does per day, by road grade: the generator's staffing norm
#: (m2 per cleaner at the grade's sweeps per day) x those sweeps
COVERAGE = {"一级": 6000.0 * 3, "二级": 8500.0 * 2, "三级": 11000.0 * 1.5, "四级": 14000.0 * 1}
TRUCK_M2_SWEEPS = 80000.0  # m2 x sweeps per day one sweeper truck adds
MANUAL_SHARE = 0.70
CLEANERS_PER_LEADER = 25
CLEANERS_PER_TRICYCLE = 4
ITEMS = {  # line item -> (resource suffix, label, per-person materials added)
    "一线保洁员": ("cleaner", "一线保洁员", True),
    "作业班组长": ("leader", "作业班组长", True),
    "道路洗扫车（含燃料、维保）": ("sweeper", "道路洗扫车", False),
    "电动保洁三轮车": ("tricycle", "电动保洁三轮车", False),
}
PER_PERSON = ("清扫工具及耗材", "作业服装及劳保用品")


def main() -> None:
    projects = pd.read_csv(DATA / "projects.csv", dtype=str)
    lines = pd.read_csv(DATA / "line_items.csv", dtype={"项目编码": str})
    outputs = pd.read_csv(DATA / "outputs.csv", dtype={"project_id": str})
    lines["数量"] = lines["数量"].astype(float)
    lines["单价（元）"] = lines["单价（元）"].astype(float)
    materials = lines[lines["明细名称"].isin(PER_PERSON)].groupby("项目编码")["单价（元）"].sum()
    kept = lines[lines["明细名称"].isin(ITEMS)].copy()
    kind = kept["明细名称"].map(lambda i: ITEMS[i][0])
    person = kept["明细名称"].map(lambda i: ITEMS[i][2])
    extra = kept["项目编码"].map(materials).fillna(0.0).where(person, 0.0)
    facts = projects.set_index("项目编码")[["区域", "道路等级"]]
    resources = pd.DataFrame(
        {
            "资源编码": kept["项目编码"] + "/" + kind,
            "名称": kept["项目编码"] + " " + kept["明细名称"].map(lambda i: ITEMS[i][1]),
            "单位": kept["计量单位"],
            "单位成本": (kept["单价（元）"] + extra).round(2),
            "是否取整": "是",
            "下限": 0,
            "上限": "",
            "现状数量": kept["数量"].astype(int),
            "项目编码": kept["项目编码"],
            "分组": kept["项目编码"].map(facts["区域"]),
        }
    )
    wide = outputs.pivot_table(index="project_id", columns="indicator", values="actual")
    swept = wide["保洁面积"] * wide["日清扫频次"]
    ids = list(swept.index)
    grade = facts.loc[ids, "道路等级"]
    rows, coefs = [], []
    for pid in ids:
        need = float(swept[pid])
        cov = COVERAGE[grade[pid]]
        rows += [
            (f"keep_output[{pid}]", f"{pid} 日保洁作业面积", "绩效基线", ">=", need, "m2·次/日"),
            (f"manual_share[{pid}]", f"{pid} 人工保洁占比≥70%", "政策约束", ">=", 0.0, "m2·次/日"),
            (f"leaders[{pid}]", f"{pid} 每25名保洁员1名班组长", "政策约束", ">=", 0.0, "人"),
            (f"tricycles[{pid}]", f"{pid} 每4名保洁员1辆三轮车", "政策约束", ">=", 0.0, "辆"),
        ]
        coefs += [
            (f"keep_output[{pid}]", f"{pid}/cleaner", cov),
            (f"keep_output[{pid}]", f"{pid}/sweeper", TRUCK_M2_SWEEPS),
            # cleaners' sweeping - 70 % of the whole >= 0
            (f"manual_share[{pid}]", f"{pid}/cleaner", cov * (1 - MANUAL_SHARE)),
            (f"manual_share[{pid}]", f"{pid}/sweeper", -MANUAL_SHARE * TRUCK_M2_SWEEPS),
            (f"leaders[{pid}]", f"{pid}/leader", float(CLEANERS_PER_LEADER)),
            (f"leaders[{pid}]", f"{pid}/cleaner", -1.0),
            (f"tricycles[{pid}]", f"{pid}/tricycle", float(CLEANERS_PER_TRICYCLE)),
            (f"tricycles[{pid}]", f"{pid}/cleaner", -1.0),
        ]
    trucks = resources[resources["资源编码"].str.endswith("/sweeper")]
    for district, part in trucks.groupby("分组", sort=True):
        name = f"fleet[{district}]"
        rows.append(
            (
                name,
                f"{district} 洗扫车不超过现有车队",
                "资源限制",
                "<=",
                float(part["现状数量"].sum()),
                "台",
            )
        )
        coefs += [(name, r, 1.0) for r in part["资源编码"]]
    constraints = pd.DataFrame(rows, columns=["约束编码", "名称", "类型", "方向", "右端值", "单位"])
    coefficients = pd.DataFrame(coefs, columns=["约束编码", "资源编码", "系数"])
    OUT.mkdir(exist_ok=True)
    for name, frame in (
        ("resources", resources),
        ("constraints", constraints),
        ("coefficients", coefficients),
    ):
        frame.to_csv(OUT / f"{name}.csv", index=False, encoding="utf-8-sig")
    print(
        f"{len(resources)} resources, {len(constraints)} constraints, {len(coefficients)} coefficients"
    )  # noqa: T201
    assert np.isfinite(constraints["右端值"]).all()


if __name__ == "__main__":
    main()
