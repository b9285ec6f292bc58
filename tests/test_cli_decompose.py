"""``costperf decompose`` through ``costperf.cli.main`` on small files in ``tmp_path``.

Every number is checked against an independent computation written out here: the
LMDI-I log-mean formula, the two-driver Shapley value, medians via numpy.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import assert_close
from costperf.cli import main


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def log_mean(a: float, b: float) -> float:
    return a if a == b else (a - b) / (math.log(a) - math.log(b))


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"项目编码": str, "Project ID": str})


THREE = """
project_id,a,b,unit_cost
A,2,3,6
B,4,2.5,10
C,1.5,5,7.5
"""


def run(tmp_path: Path, *args: str) -> tuple[int, Path]:
    out = tmp_path / "gap.csv"
    code = main(["decompose", *args, "-o", str(out)])
    return code, out


def test_lmdi_additive_two_drivers_by_hand(tmp_path, capsys):
    data = write_csv(tmp_path / "units.csv", THREE)
    code, out = run(
        tmp_path, str(data), "--target", "unit_cost", "--drivers", "a,b", "--reference", "unit:A"
    )
    assert code == 0
    table = read(out)
    # target = a x b exactly: no residual driver, scale 1
    assert list(table["驱动因素"].unique()) == ["a", "b"]
    b_rows = table[table["项目编码"] == "B"].set_index("驱动因素")
    weight = log_mean(10.0, 6.0)
    assert_close(b_rows.loc["a", "效应"], weight * math.log(4 / 2))
    assert_close(b_rows.loc["b", "效应"], weight * math.log(2.5 / 3))
    assert_close(b_rows["效应"].sum(), 10 - 6, rtol=0, atol=1e-9)
    assert_close(b_rows.loc["a", "占差异比重"], weight * math.log(2) / 4)
    c_rows = table[table["项目编码"] == "C"]
    assert_close(c_rows["效应"].sum(), 7.5 - 6, rtol=0, atol=1e-9)
    # the reference unit itself has no gap and no effects
    a_rows = table[table["项目编码"] == "A"]
    assert_close(a_rows["效应"], [0, 0], atol=1e-12)
    assert_close(table["效应合计校验"], 0, atol=1e-9)
    assert_close(table["恒等式偏差"], 0, atol=1e-12)
    assert (table["方法"] == "LMDI加法分解").all()
    assert list(table.columns[:4]) == ["项目编码", "来源行号", "驱动因素", "本单位驱动值"]
    assert table.loc[table["项目编码"] == "B", "来源行号"].iloc[0] == 3
    text = capsys.readouterr().out
    assert "差异合计" in text and "参照 = 单位 A" in text
    assert "3 个单位" in text


def test_shapley_two_drivers_by_hand_in_english(tmp_path, capsys):
    data = write_csv(tmp_path / "units.csv", THREE)
    code, out = run(
        tmp_path,
        str(data),
        "--target",
        "unit_cost",
        "--drivers",
        "a,b",
        "--reference",
        "unit:A",
        "--method",
        "shapley",
        "--lang",
        "en",
    )
    assert code == 0
    table = read(out)
    assert "Effect" in table.columns and "Share of gap" in table.columns
    b_rows = table[table["Project ID"] == "B"].set_index("Driver")
    # v(S): average of switching a first or second
    a0, b0, a1, b1 = 2.0, 3.0, 4.0, 2.5
    assert_close(b_rows.loc["a", "Effect"], 0.5 * (a1 - a0) * (b0 + b1))
    assert_close(b_rows.loc["b", "Effect"], 0.5 * (b1 - b0) * (a0 + a1))
    assert_close(b_rows["Effect"].sum(), a1 * b1 - a0 * b0, rtol=0, atol=1e-9)
    assert "Shapley" in capsys.readouterr().out


def test_lmdi_multiplicative_effects_multiply_to_the_ratio(tmp_path):
    data = write_csv(tmp_path / "units.csv", THREE)
    code, out = run(
        tmp_path,
        str(data),
        "--target",
        "unit_cost",
        "--drivers",
        "a,b",
        "--reference",
        "unit:A",
        "--method",
        "lmdi_multiplicative",
    )
    assert code == 0
    b_rows = read(out).query("项目编码 == 'B'").set_index("驱动因素")
    assert_close(b_rows.loc["a", "效应"], 2.0)
    assert_close(b_rows.loc["b", "效应"], 2.5 / 3)
    assert_close(b_rows["效应"].prod(), 10 / 6)
    assert_close(b_rows["效应合计校验"], 0, atol=1e-12)


SCALED = """
project_id,wage,staff,unit_cost
P1,50000,2.0,10.0
P2,60000,2.5,15.0
P3,40000,3.0,12.0
P4,55000,1.0,5.5
"""


def test_median_reference_with_a_scale_and_residual(tmp_path, capsys):
    data = write_csv(tmp_path / "units.csv", SCALED)
    code, out = run(tmp_path, str(data), "--target", "unit_cost", "--drivers", "wage,staff")
    assert code == 0
    table = read(out)
    wage = np.array([50000, 60000, 40000, 55000.0])
    staff = np.array([2.0, 2.5, 3.0, 1.0])
    cost = np.array([10.0, 15.0, 12.0, 5.5])
    scale = 1e-4  # unit_cost = wage x staff / 10000 exactly
    v0 = np.median(cost)
    # the reference residual factor: median of the product vs product of the medians
    r0 = v0 / (scale * np.median(wage) * np.median(staff))
    assert_close(table["参照值"], v0)
    residual = table[table["驱动因素"] == "残差"]
    assert len(residual) == 4
    assert_close(residual["参照驱动值"], r0)
    p2 = table[table["项目编码"] == "P2"].set_index("驱动因素")
    weight = log_mean(15.0, v0)
    assert_close(p2.loc["wage", "效应"], weight * math.log(60000 / np.median(wage)))
    assert_close(p2.loc["staff", "效应"], weight * math.log(2.5 / np.median(staff)))
    assert_close(p2.loc["残差", "效应"], weight * math.log(1 / r0))
    for _, rows in table.groupby("项目编码"):
        assert_close(rows["效应"].sum(), rows["差异"].iloc[0], rtol=0, atol=1e-9)
    assert_close(table["恒等式偏差"], 0, atol=1e-12)
    text = capsys.readouterr().out
    assert "0.0001 × wage × staff" in text
    total = (cost - v0).sum()
    assert f"差异合计 {total:+,.4g}" in text


def test_identity_mismatch_is_reported_and_carried_by_the_residual(tmp_path, capsys):
    data = write_csv(
        tmp_path / "units.csv", SCALED.replace("P3,40000,3.0,12.0", "P3,40000,3.0,12.6")
    )
    code, out = run(tmp_path, str(data), "--target", "unit_cost", "--drivers", "wage,staff")
    assert code == 0
    table = read(out)
    p3 = table[table["项目编码"] == "P3"]
    assert_close(p3["恒等式偏差"], 0.05, rtol=1e-9)
    assert_close(p3.loc[p3["驱动因素"] == "残差", "本单位驱动值"], 1.05)
    assert_close(p3["效应"].sum(), 12.6 - table["参照值"].iloc[0], rtol=0, atol=1e-9)
    text = capsys.readouterr().out
    assert "1 行目标值与 比例系数×驱动因素之积 不符" in text
    assert "行 4 (+5.00%)" in text


ZEROS = """
project_id,a,b,unit_cost
A,2,3,6
B,0,2,0
C,,4,8
D,3,3,9
"""


def test_zero_and_missing_drivers_are_noted_not_fatal(tmp_path, capsys):
    data = write_csv(tmp_path / "units.csv", ZEROS)
    code, out = run(
        tmp_path, str(data), "--target", "unit_cost", "--drivers", "a,b", "--reference", "unit:A"
    )
    assert code == 0
    table = read(out)
    b_rows = table[table["项目编码"] == "B"].set_index("驱动因素")
    # delta -> 0 limit: the whole gap goes to the driver that is zero
    assert_close(b_rows.loc["a", "效应"], -6.0)
    assert_close(b_rows.loc["b", "效应"], 0.0, atol=1e-12)
    assert b_rows["说明"].str.contains("零值：a").all()
    c_rows = table[table["项目编码"] == "C"]
    assert c_rows["效应"].isna().all()
    assert c_rows["说明"].str.contains("缺失值：a；未分解").all()
    text = capsys.readouterr().out
    assert "1 个单位有缺失值，未分解：C" in text
    assert "1 个单位有零值" in text


CHINESE = """
项目编码,区域,人均工资,人员配置强度,单位成本
P01,青浦,60000,2.0,12.0
P02,青浦,50000,2.2,11.0
P03,松江,55000,1.8,9.9
P04,松江,65000,2.5,16.25
P05,嘉定,58000,2.1,12.18
"""


def test_chinese_headers_group_means_and_xlsx_sheets(tmp_path):
    data = write_csv(tmp_path / "units.csv", CHINESE)
    out = tmp_path / "gap.xlsx"
    code = main(
        [
            "decompose",
            str(data),
            "--target",
            "unit_cost",
            "--drivers",
            "wage_per_cleaner,staffing_per_10k_m2_sweep",
            "--id",
            "project_id",
            "--group",
            "district",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    sheets = pd.read_excel(out, sheet_name=None, engine="openpyxl", dtype={"项目编码": str})
    assert list(sheets) == ["差异分解", "分组均值"]
    gap, groups = sheets["差异分解"], sheets["分组均值"]
    # target = 1e-4 x product exactly; the residual is the reference's (median of the
    # product is not the product of the medians)
    assert list(gap["驱动因素"].unique()) == ["人均工资", "人员配置强度", "残差"]
    assert_close(gap["恒等式偏差"], 0, atol=1e-12)
    assert list(gap.columns[:3]) == ["项目编码", "区域", "来源行号"]
    v0 = np.median([12.0, 11.0, 9.9, 16.25, 12.18])
    qingpu = gap[gap["区域"] == "青浦"]
    expected = qingpu.groupby("驱动因素")["效应"].mean()
    row = groups[groups["区域"] == "青浦"].set_index("驱动因素")
    assert_close(row.loc[expected.index, "平均效应"], expected)
    assert_close(row["平均差异"], np.mean([12.0 - v0, 11.0 - v0]))
    assert_close(row["平均效应"].sum(), row["平均差异"].iloc[0], rtol=0, atol=1e-9)
    assert (row["单位数"] == 2).all()
    assert list(groups["区域"].drop_duplicates()) == sorted({"青浦", "松江", "嘉定"}, key=str)


def test_group_reference_uses_that_groups_median(tmp_path):
    data = write_csv(tmp_path / "units.csv", CHINESE)
    code, out = run(
        tmp_path,
        str(data),
        "--target",
        "单位成本",
        "--drivers",
        "人均工资,人员配置强度",
        "--reference",
        "group:区域=松江",
    )
    assert code == 0
    table = read(out)
    assert_close(table["参照值"], np.median([9.9, 16.25]))
    a = table[table["驱动因素"] == "人均工资"]
    assert_close(a["参照驱动值"], np.median([55000, 65000]))


def test_xlsx_input_with_sheet_and_parquet_output(tmp_path):
    frame = pd.read_csv(Path(write_csv(tmp_path / "u.csv", THREE)))
    book = tmp_path / "units.xlsx"
    with pd.ExcelWriter(book) as writer:
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="说明", index=False)
        frame.to_excel(writer, sheet_name="数据", index=False)
    out = tmp_path / "gap.parquet"
    code = main(
        [
            "decompose",
            str(book),
            "--sheet",
            "数据",
            "--target",
            "unit_cost",
            "--drivers",
            "a,b",
            "--reference",
            "mean",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    table = pd.read_parquet(out)
    assert_close(table["参照值"], np.mean([6, 10, 7.5]))
    for _, rows in table.groupby("项目编码"):
        assert_close(rows["效应"].sum(), rows["差异"].iloc[0], rtol=0, atol=1e-9)


# --- bad input: exit 2, located message, no traceback ------------------------------------


@pytest.mark.parametrize(
    ("text", "args", "expected"),
    [
        (
            THREE.replace("B,4,2.5", "B,abc,2.5"),
            ["--drivers", "a,b"],
            ["units.csv, row 3, column 'a': got 'abc', expected a number"],
        ),
        (
            THREE,
            ["--drivers", "a,wage"],
            ["units.csv", "column 'wage'", "expected a column 'wage' in --drivers"],
        ),
        (
            THREE.replace("C,1.5,5", "C,-1.5,5"),
            ["--drivers", "a,b"],
            ["units.csv, row 4, column 'a': got '-1.5'", "--method shapley"],
        ),
        (
            THREE.replace("C,1.5", "B,1.5"),
            ["--drivers", "a,b"],
            ["row 4, column 'project_id'", "a unique project_id (first used in row 3)"],
        ),
        (THREE, ["--drivers", "a,b", "--reference", "unit:Z"], ["no unit 'Z'", "A, B, C"]),
        (THREE, ["--drivers", "a,b", "--reference", "p250"], ["unknown peer statistic 'p250'"]),
        (THREE, ["--drivers", "a,,b"], ["--drivers 'a,,b'"]),
        (  # found by fuzzing: blamed every target cell ('-6', expected >= 0) for the scale
            THREE,
            ["--drivers", "a,b", "--scale", "-1"],
            ["--scale -1.0: expected a number > 0 (LMDI takes logarithms"],
        ),
        (THREE, ["--drivers", "a,b", "--tolerance", "-1"], ["--tolerance -1.0: expected"]),
        (THREE, ["--drivers", "a,b", "--tolerance", "nan"], ["--tolerance nan: expected"]),
    ],
)
def test_bad_input_exits_2_with_a_located_message(tmp_path, capsys, text, args, expected):
    data = write_csv(tmp_path / "units.csv", text)
    out = tmp_path / "gap.csv"
    code = main(
        ["decompose", str(data), "--target", "unit_cost", *args, "-o", str(out), "--lang", "en"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err and "内部错误" not in err
    for part in expected:
        assert part in err
    assert not out.exists()


def test_a_duplicate_id_is_told_in_chinese(tmp_path, capsys):
    """Found by fuzzing: the Chinese message read '应为不重复的id in 'project_id''."""
    data = write_csv(tmp_path / "units.csv", THREE.replace("C,1.5", "B,1.5"))
    code, out = run(tmp_path, str(data), "--target", "unit_cost", "--drivers", "a,b")
    assert code == 2 and not out.exists()
    err = capsys.readouterr().err
    assert "第 4 行，列“project_id”：编码重复，值 'B'，应为不重复的项目编码（第 3 行已使用）" in err


GROUPED = """
project_id,g,a,b,unit_cost
A,x,2,3,6
B,x,4,2.5,10
C,y,1.5,5,7.5
D,y,2,4,8.5
E,x,3,3,9.2
"""


@pytest.mark.parametrize(
    ("args", "zh", "en"),
    [
        (["--reference", "unit:A"], "单位 A", "unit A"),
        (["--reference", "p12.5"], "全部单位第12.5百分位数", "p12.5 of all units"),
        (["--reference", "geomean"], "全部单位几何均值", "geomean of all units"),
        (
            ["--reference", "group:g=x", "--statistic", "p30"],
            "g = x 组第30百分位数（3 个单位）",
            "p30 of g = x (3 units)",
        ),
        (["--by", "g", "--reference", "p40"], "各g组内第40百分位数", "p40 within each g"),
    ],
)
def test_the_reference_is_described_in_each_language(tmp_path, capsys, args, zh, en):
    """Each reference in words from one labels.csv row per kind (zh and en)."""
    data = write_csv(tmp_path / "units.csv", GROUPED)
    base = [str(data), "--target", "unit_cost", "--drivers", "a,b", "--id", "project_id", *args]
    assert run(tmp_path, *base)[0] == 0
    assert f"；参照 = {zh}，单位成本 " in capsys.readouterr().out
    assert run(tmp_path, *base, "--lang", "en")[0] == 0
    assert f"; reference = {en}, Unit cost " in capsys.readouterr().out


def test_a_bad_group_reference_is_told_in_each_language(tmp_path, capsys):
    data = write_csv(tmp_path / "units.csv", GROUPED)
    base = [str(data), "--target", "unit_cost", "--drivers", "a,b", "--reference", "group:g"]
    assert run(tmp_path, *base)[0] == 2
    assert capsys.readouterr().err == (
        "costperf：错误：--reference 'group:g'：应为 group:<列名>=<取值>，如 group:district=青浦\n"
    )
    assert run(tmp_path, *base, "--lang", "en")[0] == 2
    assert capsys.readouterr().err == (
        "costperf: error: --reference 'group:g': expected group:<column>=<value>, "
        "e.g. group:district=青浦\n"
    )
