"""The optimiser's model stated as data: resources, constraints and coefficients.

Three tables (``README.md``, "costperf optimize"):

* ``resources`` (资源): resource 资源编码, label 名称, unit 单位, unit_cost 单位成本
  [yuan per unit per year] or standard_id 适用标准, integer 是否取整, lower 下限,
  upper 上限, current 现状数量, optional project_id and group;
* ``constraints`` (约束): constraint 约束编码, label 名称, kind 类型 (baseline 绩效基线 /
  policy 政策约束 / limit 资源限制), sense 方向 (>=, <=, =), rhs 右端值;
* ``coefficients`` (系数): constraint, resource, coefficient 系数 (long format).

:func:`check_model` returns every problem of the three (a problems frame, never
raises); :func:`normalise_model` gives the typed tables the model is built from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from costperf.errors import Check, empty_problems
from costperf.schemas import Schema, concat_problems, row_problems

RESOURCES = Schema(
    "resources",
    "资源",
    required=("resource", "current"),
    optional=("label", "unit", "unit_cost", "standard_id", "integer", "lower", "upper")
    + ("project_id", "group"),
    minimum={"current": 0.0, "unit_cost": 0.0, "lower": 0.0, "upper": 0.0},
    nullable=("label", "unit", "unit_cost", "standard_id", "integer", "lower", "upper")
    + ("project_id", "group"),
    key=("resource",),
)
CONSTRAINTS = Schema(
    "constraints",
    "约束",
    required=("constraint", "constraint_kind", "sense", "rhs"),
    optional=("label", "unit", "project_id"),
    nullable=("label", "unit", "project_id"),
    key=("constraint",),
)
COEFFICIENTS = Schema(
    "coefficients",
    "系数",
    required=("constraint", "resource", "coefficient"),
    key=("constraint", "resource"),
)
SCHEMAS = {"resources": RESOURCES, "constraints": CONSTRAINTS, "coefficients": COEFFICIENTS}

#: headers that other tables' columns claim (名称 is ``name``, 系数 ``coef``, kind
#: ``kind``, 单价 ``unit_price``): in these three tables they mean the optimiser's own
#: columns (a resource's 单价 is its unit cost)
HEADER_MEANINGS = {
    "name": "label",
    "kind": "constraint_kind",
    "coef": "coefficient",
    "unit_price": "unit_cost",
}

KINDS = {
    "baseline": "baseline",
    "绩效基线": "baseline",
    "基线": "baseline",
    "policy": "policy",
    "政策约束": "policy",
    "政策": "policy",
    "limit": "limit",
    "资源限制": "limit",
    "限制": "limit",
}
SENSES = {
    **{s: ">=" for s in (">=", "≥", "=>", "＞＝", "≧", ">", "ge", "大于等于", "不小于", "不低于")},
    **{s: "<=" for s in ("<=", "≤", "=<", "＜＝", "≦", "<", "le", "小于等于", "不大于", "不超过")},
    **{s: "=" for s in ("=", "==", "＝", "eq", "等于")},
}
_TRUE = {"true", "yes", "y", "1", "是", "整数", "取整", "t"}
_FALSE = {"false", "no", "n", "0", "否", "f", "连续"}


def _mapped(frame: pd.DataFrame, column: str, mapping: dict[str, str]) -> pd.Series:
    """``column``'s cells as codes of ``mapping`` (case and spaces ignored; else NaN)."""
    raw = frame[column]
    key = raw.astype(object).where(raw.notna(), "").astype(str).str.strip().str.lower()
    return key.map(mapping).where(raw.notna())


def check_table(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Problems of one typed table on its own: closed lists (kind, sense, integer),
    ``lower <= upper``, a unit cost or a standard for every resource (the schema has
    checked the numbers, their size too: :data:`costperf.schemas.MAX_MAGNITUDE`)."""
    if name == "constraints":
        return concat_problems(
            [
                _closed(
                    frame,
                    "constraint_kind",
                    KINDS,
                    "baseline 绩效基线, policy 政策约束, limit 资源限制",
                ),
                _closed(frame, "sense", SENSES, ">=, <=, = (≥ 大于等于, ≤ 小于等于, ＝ 等于)"),
            ]
        )
    if name != "resources":
        return empty_problems()
    parts = []
    if "integer" in frame:
        allowed = {v: v for v in _TRUE | _FALSE}
        parts.append(_closed(frame, "integer", allowed, "true/false, 是/否", blank=True))
    if {"lower", "upper"} <= set(frame.columns):
        bad = frame["lower"].notna() & frame["upper"].notna() & (frame["lower"] > frame["upper"])
        parts.append(
            row_problems(frame, bad, "lower", "a lower bound <= upper", Check.BOUNDS_ORDER)
        )
    cost = frame.get("unit_cost", pd.Series(np.nan, index=frame.index))
    standard = frame.get("standard_id", pd.Series(None, index=frame.index, dtype=object))
    parts.append(
        row_problems(
            frame,
            cost.isna() & standard.isna(),
            "unit_cost",
            "a unit cost [yuan per unit per year] or a standard_id (适用标准)",
            Check.MISSING_VALUE,
        )
    )
    parts.append(
        row_problems(
            frame,
            cost.notna() & standard.notna(),
            "standard_id",
            "a blank cell when unit_cost is given (the unit cost comes from one of them)",
            Check.INCONSISTENT,
        )
    )
    return concat_problems(parts)


def check_links(
    resources: pd.DataFrame, constraints: pd.DataFrame, coefficients: pd.DataFrame
) -> pd.DataFrame:
    """Coefficients naming a resource or constraint absent from its table."""
    parts = []
    for key, table, check in (
        ("resource", resources, Check.UNKNOWN_RESOURCE),
        ("constraint", constraints, Check.UNKNOWN_CONSTRAINT),
    ):
        known = pd.Index(table[key].dropna().unique())
        sample = ", ".join(table[key].dropna().astype(str).head(5))
        found = known.get_indexer(coefficients[key]) >= 0  # (isin on a set is slow in pandas 3)
        unknown = coefficients[key].notna() & ~pd.Series(found, index=coefficients.index)
        where = f"a {key} listed in the {key}s table (e.g. {sample})"
        parts.append(row_problems(coefficients, unknown, key, where, check))
    return concat_problems(parts)


def check_groups(resources: pd.DataFrame) -> pd.DataFrame:
    """Resources of one project naming different groups: a project is in one group (the
    proposal sums each project once, within its group)."""
    if "group" not in resources or "project_id" not in resources:
        return empty_problems()
    group, project = resources["group"], resources["project_id"]
    named = group.notna() & project.notna()
    first = group.where(named).groupby(project.where(named)).transform("first")
    differs = named & group.ne(first)
    if not differs.any():
        return empty_problems()
    expected = (
        "the group its project's other resources name ('" + first[differs].astype(str) + "' for "
        "project '" + project[differs].astype(str) + "'): a project belongs to one group"
    )
    problems = row_problems(resources, differs, "group", "", Check.INCONSISTENT)
    problems["expected"] = expected.to_numpy()
    return problems


def check_model(
    resources: pd.DataFrame, constraints: pd.DataFrame, coefficients: pd.DataFrame
) -> pd.DataFrame:
    """Every problem of the three typed tables, across them too (never raises)."""
    frames = {"resources": resources, "constraints": constraints, "coefficients": coefficients}
    parts = [check_table(name, frame) for name, frame in frames.items()]
    links = check_links(resources, constraints, coefficients)
    return concat_problems([*parts, links, check_groups(resources)])


def _closed(
    frame: pd.DataFrame, column: str, mapping: dict[str, str], listing: str, *, blank=False
):
    if column not in frame:
        return empty_problems()
    bad = frame[column].notna() & _mapped(frame, column, mapping).isna()
    expected = f"one of: {listing} (or blank)" if blank else f"one of: {listing}"
    return row_problems(frame, bad, column, expected, Check.NOT_ALLOWED)


def normalise_model(
    resources: pd.DataFrame, constraints: pd.DataFrame, coefficients: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Checked tables with canonical codes and defaults (new frames, inputs unchanged).

    Resources get ``integer`` as bool, ``lower`` 0 and ``upper`` inf when blank;
    constraints get ``constraint_kind`` and ``sense`` as codes.
    """
    res = resources.copy()
    if "integer" in res:
        res["integer"] = _mapped(res, "integer", dict.fromkeys(_TRUE, "true")).eq("true")
    else:
        res["integer"] = False
    res["lower"] = res["lower"].fillna(0.0) if "lower" in res else 0.0
    res["upper"] = res["upper"].fillna(np.inf) if "upper" in res else np.inf
    for col in ("label", "unit", "project_id", "group", "standard_id"):
        if col not in res:
            res[col] = None
    res["label"] = res["label"].where(res["label"].notna(), res["resource"])
    if "unit_cost" not in res:
        res["unit_cost"] = np.nan
    con = constraints.copy()
    con["constraint_kind"] = _mapped(con, "constraint_kind", KINDS)
    con["sense"] = _mapped(con, "sense", SENSES)
    for col in ("label", "unit", "project_id"):
        if col not in con:
            con[col] = None
    con["label"] = con["label"].where(con["label"].notna(), con["constraint"])
    coef = coefficients.copy()
    for frame in (res, con, coef):  # the readers' warnings frames: not for the results
        frame.attrs = {}
    return res, con, coef
