"""``costperf benchmark`` through ``costperf.cli.main`` on small files in ``tmp_path``.

Statistics are checked against numpy (type-7 quantiles), the fences against Tukey's and
Iglewicz-Hoaglin's formulas computed here, Cook's distance against its closed form.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import assert_close
from costperf.cli import main

ONE = [10.0, 11.0, 12.0, 10.5, 11.5, 30.0]  # 30 is far above Q3 + 1.5 IQR
TWO = [20.0, 21.0, 19.0, 22.0, 20.5]
THREE = [5.0, 6.0, 7.0]  # too small to screen


def peers_csv(path: Path, *, chinese: bool = False) -> Path:
    rows = [("一级", v) for v in ONE] + [("二级", v) for v in TWO] + [("三级", v) for v in THREE]
    frame = pd.DataFrame(
        {
            "project_id": [f"P{i:02d}" for i in range(1, len(rows) + 1)],
            "road_grade": [g for g, _ in rows],
            "unit_cost": [v for _, v in rows],
        }
    )
    if chinese:
        frame.columns = ["项目编码", "道路等级", "单位成本"]
    frame.to_csv(path, index=False, encoding="utf-8")
    return path


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"项目编码": str})


def tukey(values: list[float], k: float = 1.5) -> tuple[float, float]:
    q1, q3 = np.quantile(values, [0.25, 0.75])
    return q1 - k * (q3 - q1), q3 + k * (q3 - q1)


def test_iqr_screen_then_statistics_match_numpy(tmp_path, capsys):
    data = peers_csv(tmp_path / "peers.csv")
    out = tmp_path / "stats.csv"
    code = main(
        ["benchmark", str(data), "--value", "unit_cost", "--by", "road_grade", "-o", str(out)]
    )
    assert code == 0
    stats = read(out).set_index("道路等级")
    assert list(stats.index) == ["一级", "二级", "三级"]  # natural order of grades
    low, high = tukey(ONE)
    assert 30.0 > high
    kept = [v for v in ONE if low <= v <= high]
    row = stats.loc["一级"]
    assert row["样本数"] == len(kept) == 5
    assert row["剔除异常值数"] == 1 and row["缺失数"] == 0
    assert_close(row["中位数"], np.median(kept))
    assert_close(row["均值"], np.mean(kept))
    q1, q3 = np.quantile(kept, [0.25, 0.75])
    assert_close([row["下四分位数"], row["上四分位数"]], [q1, q3])
    assert_close(row["四分位距"], q3 - q1)
    assert_close(row["变异系数"], np.std(kept, ddof=1) / np.mean(kept))
    assert_close(stats.loc["二级", "中位数"], np.median(TWO))
    assert stats.loc["二级", "剔除异常值数"] == 0
    assert stats.loc["三级", "样本数"] == 3
    assert "未筛查" in stats.loc["三级", "说明"]
    assert set(stats["筛查规则"]) == {"四分位距（IQR）法，k = 1.5"}  # words, not "iqr k=1.5"
    outliers = read(tmp_path / "stats_outliers.csv")
    assert len(outliers) == 1
    flagged = outliers.iloc[0]
    assert flagged["项目编码"] == "P06" and flagged["来源行号"] == 7
    assert_close([flagged["下限"], flagged["上限"]], [low, high])
    assert flagged["筛查规则"] == "四分位距（IQR）法"
    assert flagged["异常原因"] == f"高于上四分位数+1.5倍四分位距（30.00 > {high:.2f}）"
    text = capsys.readouterr().out
    assert "按 道路等级 分 3 组" in text and "标记 1 行" in text


def test_mad_rule_and_custom_quantiles(tmp_path):
    data = peers_csv(tmp_path / "peers.csv")
    out = tmp_path / "stats.csv"
    code = main(
        [
            "benchmark",
            str(data),
            "--value",
            "unit_cost",
            "--by",
            "road_grade",
            "--outliers",
            "mad",
            "--k",
            "3",
            "--quantiles",
            "0.1,0.9",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    median = np.median(ONE)
    mad = np.median(np.abs(np.array(ONE) - median))
    upper = median + 3 * mad / 0.6745
    outliers = read(tmp_path / "stats_outliers.csv")
    assert outliers["单位成本"].tolist() == [30.0]
    assert_close(outliers["上限"], upper)
    stats = read(out).set_index("道路等级")
    kept = [v for v in ONE if v <= upper]
    assert_close(
        stats.loc["一级", ["第10百分位数", "第90百分位数"]].astype(float),
        np.quantile(kept, [0.1, 0.9]),
    )


def test_no_screening_keeps_every_value(tmp_path):
    data = peers_csv(tmp_path / "peers.csv")
    out = tmp_path / "stats.csv"
    code = main(
        ["benchmark", str(data), "--value", "unit_cost", "--outliers", "none", "-o", str(out)]
    )
    assert code == 0
    stats = read(out)
    every = ONE + TWO + THREE
    assert stats["样本数"].tolist() == [len(every)]
    assert_close(stats["中位数"], np.median(every))
    assert_close(stats["四分位距"], np.subtract(*np.quantile(every, [0.75, 0.25])))
    assert read(tmp_path / "stats_outliers.csv").empty


def test_chinese_headers_xlsx_two_sheets_and_english_labels(tmp_path):
    data = peers_csv(tmp_path / "peers.csv", chinese=True)
    out = tmp_path / "stats.xlsx"
    code = main(
        [
            "benchmark",
            str(data),
            "--value",
            "unit_cost",
            "--by",
            "road_grade",
            "--id",
            "project_id",
            "-o",
            str(out),
            "--lang",
            "en",
        ]
    )
    assert code == 0
    sheets = pd.read_excel(out, sheet_name=None, engine="openpyxl")
    assert list(sheets) == ["Peer statistics", "Outliers"]
    stats = sheets["Peer statistics"].set_index("Road grade")
    assert_close(stats.loc["二级", "Median"], np.median(TWO))
    assert sheets["Outliers"]["Project ID"].tolist() == ["P06"]
    assert sheets["Outliers"]["Reason"].iloc[0].startswith("above Q3 + 1.5·IQR (30.00 >")
    assert not (tmp_path / "stats_outliers.xlsx").exists()


def test_cooks_distance_model_flags_by_hand(tmp_path):
    x = np.arange(1.0, 11.0)
    y = 2 * x + np.array([0, 0.1, -0.1, 0, 0.2, -0.2, 0, 0.1, 6, 0])
    frame = pd.DataFrame({"project_id": [f"U{i}" for i in range(10)], "x": x, "y": y})
    data = tmp_path / "m.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "stats.csv"
    code = main(
        [
            "benchmark",
            str(data),
            "--value",
            "y",
            "--outliers",
            "none",
            "--model",
            "y ~ x",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    X = np.column_stack([np.ones(10), x])
    hat = np.diag(X @ np.linalg.inv(X.T @ X) @ X.T)
    resid = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    s2 = resid @ resid / 8
    cooks = resid**2 / (2 * s2) * hat / (1 - hat) ** 2
    flagged = read(tmp_path / "stats_outliers.csv")
    assert flagged["project_id" if "project_id" in flagged else "项目编码"].tolist() == [
        f"U{i}" for i in np.flatnonzero(cooks > 0.4)
    ]
    assert_close(flagged["库克距离"], cooks[cooks > 0.4], rtol=1e-8)
    stats = read(out)
    kept = y[cooks <= 0.4]
    assert stats["样本数"].tolist() == [len(kept)]
    assert_close(stats["中位数"], np.median(kept))
    assert stats["筛查规则"].tolist() == ["不筛查，另加库克距离 > 4/n"]


# --- bad input: exit 2, located message, no traceback ------------------------------------


@pytest.mark.parametrize(
    ("edit", "args", "expected"),
    [
        (
            ("P03,一级,12.0", "P03,一级,十二"),
            ["--value", "unit_cost"],
            ["peers.csv, row 4, column 'unit_cost': got '十二', expected a number"],
        ),
        (None, ["--value", "unit_cost", "--by", "district"], ["peers.csv", "'district' or '区域'"]),
        (None, ["--value", "cost"], ["peers.csv", "expected a column 'cost' in --value"]),
        (None, ["--value", "unit_cost", "--quantiles", "25,50"], ["quantiles must lie in [0, 1]"]),
        (None, ["--value", "unit_cost", "--quantiles", "a"], ["--quantiles 'a'"]),
        (None, ["--value", "unit_cost", "--k", "-1"], ["--k -1.0: expected a number > 0"]),
        (
            ("P03,一级,12.0", "P03,一级,-12.0"),
            ["--value", "unit_cost", "--model", "np.log(unit_cost) ~ 1"],
            ["row 4, column 'unit_cost'", "a number > 0"],
        ),
    ],
)
def test_bad_input_exits_2_with_a_located_message(tmp_path, capsys, edit, args, expected):
    data = peers_csv(tmp_path / "peers.csv")
    if edit:
        data.write_text(data.read_text(encoding="utf-8").replace(*edit), encoding="utf-8")
    out = tmp_path / "stats.csv"
    code = main(["benchmark", str(data), *args, "-o", str(out), "--lang", "en"])
    assert code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err and "内部错误" not in err
    for part in expected:
        assert part in err
    assert not out.exists()


def test_a_text_in_the_model_column_is_reported_beside_one_in_the_value(tmp_path, capsys):
    """--value and --model columns are checked together: both bad cells in one run."""
    frame = pd.DataFrame(
        {
            "project_id": [f"P{i}" for i in range(1, 7)],
            "road_grade": ["一级"] * 6,
            "unit_cost": ["10", "十一", "12", "10.5", "11.5", "13"],
            "area": ["5", "6", "7", "多", "9", "10"],
        }
    )
    data = tmp_path / "peers.csv"
    frame.to_csv(data, index=False, encoding="utf-8")
    out = tmp_path / "stats.csv"
    args = ["--value", "unit_cost", "--model", "np.log(unit_cost) ~ np.log(area)"]
    assert main(["benchmark", str(data), *args, "-o", str(out), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "2 problem(s)" in err
    assert "row 3, column 'unit_cost': got '十一', expected a number" in err
    assert "row 5, column 'area': got '多', expected a number" in err
    assert not out.exists()


def test_percentile_headers_in_each_language():
    from costperf.commands._tables import display

    frame = pd.DataFrame({"p10": [1.0], "p25": [2.0], "p12.5": [3.0]})
    assert list(display(frame, "zh").columns) == ["第10百分位数", "下四分位数", "第12.5百分位数"]
    assert list(display(frame, "en").columns) == ["P10", "P25", "P12.5"]


def test_bad_numeric_options_are_told_at_once_by_option(tmp_path, capsys):
    """Found by fuzzing: '--k -1' read 'outlier multiplier k 应为正数' (the library's
    English name in the Chinese message), and only the first bad option was told."""
    data = peers_csv(tmp_path / "units.csv")
    args = ["benchmark", str(data), "--value", "unit_cost", "-o", str(tmp_path / "p.csv")]
    args += ["--k", "-1", "--min-group-size", "0", "--cooks-threshold", "nan"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "共 3 处输入问题" in err
    assert "选项“--k”：命令行选项错误，值 '-1.0'，应为大于 0 的数字" in err
    assert "选项“--min-group-size”：命令行选项错误，值 '0'，应为不小于 1 的整数" in err
    assert "选项“--cooks-threshold”：命令行选项错误，值 'nan'，应为大于 0 的数字" in err
    assert not (tmp_path / "p.csv").exists()


def test_costmodel_alpha_and_quantile_are_told_by_option(tmp_path, capsys):
    data = peers_csv(tmp_path / "units.csv")
    args = ["costmodel", str(data), "-f", "unit_cost ~ 1", "-o", str(tmp_path / "c.csv")]
    assert main([*args, "--alpha", "2", "-q", "1", "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "--alpha 2.0: expected a number strictly between 0 and 1" in err
    assert "--quantile 1.0: expected a number strictly between 0 and 1" in err
