"""The records commands fed bad input as a finance bureau's Excel user would: every
problem of a run at once, located, in Chinese by default (English with --lang en), and
the record store byte-for-byte unchanged when the run is refused.

Found by trying the loop with bad files: an unknown project id was only reported once
the cells were fixed; ``a`` for the reviewed ``A`` did not name ``A``; a hidden sheet was
skipped silently; a store of a newer schema was refused in English only under --lang
zh; ``--year 20277`` said "no project to recommend"; 2.212 万元 was 22120.000000000004.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import openpyxl
import pytest

from conftest import read_problems
from costperf.cli import main
from costperf.records import read_records
from records_helpers import batches

HEAD = ["项目编码", "监控时点", "预算数", "执行数", "指标名称", "年度目标值", "累计完成值"]


def cli(*args: object) -> int:
    return main([str(a) for a in args])


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)  # a refused run's problems table: not in the checkout
    path = tmp_path / "r.sqlite"
    batches(path)  # reviews of projects A..G
    return path


def workbook(path: Path, rows: list[list[object]], *, hidden_first: bool = False) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    if hidden_first:
        sheet.title = "说明"
        sheet.sheet_state = "hidden"
        sheet.append(["填表说明"])
        sheet = book.create_sheet("监控")
    else:
        sheet.title = "监控"
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_an_unknown_project_is_reported_with_the_bad_cells(store, tmp_path) -> None:
    bad = tmp_path / "m.csv"
    bad.write_text(",".join(HEAD) + "\nZ1,2026-13-01,abc,-1,保洁面积,10,10\n", "utf-8")
    digest = sha(store)
    problems = tmp_path / "p.csv"
    assert cli("--problems", problems, "records", "import-monitoring", bad, "--records", store) == 2
    found = read_problems(problems)
    assert set(zip(found["column"], found["check"], strict=True)) >= {
        ("项目编码", "unknown_project"),
        ("监控时点", "bad_date"),
        ("执行数", "below_minimum"),
    }
    assert sha(store) == digest


def test_an_id_differing_only_in_case_names_the_reviewed_one(store, tmp_path, capsys) -> None:
    bad = tmp_path / "e.csv"
    bad.write_text("项目编码,年度,评价得分,评价类型\na,2026,80,自评\n", "utf-8")
    digest = sha(store)
    assert cli("records", "import-evaluation", bad, "--records", store) == 2
    err = capsys.readouterr().err
    assert "第 2 行，列“项目编码”：项目编码不存在，值 'a'" in err
    assert "记录库中为 'A'，大小写、空格或全半角不同" in err
    mon = workbook(tmp_path / "m.xlsx", [HEAD, ["Ａ", "2026-12-31", 100, 50, "保洁面积", 10, 10]])
    assert cli("records", "import-monitoring", mon, "--records", store, "--lang", "en") == 2
    err = capsys.readouterr().err
    assert "sheet '监控', row 2, column '项目编码': got 'Ａ'" in err
    assert "(the store has 'A', spelt otherwise)" in err
    assert sha(store) == digest


def test_a_hidden_sheet_skipped_is_said(store, tmp_path, capsys) -> None:
    rows = [HEAD, ["A", "2026-12-31", 100, 100, "保洁面积", 10, 10]]
    book = workbook(tmp_path / "m.xlsx", rows, hidden_first=True)
    assert cli("records", "import-monitoring", book, "--records", store) == 0
    assert "读取了第一个可见的工作表“监控”，已跳过隐藏的工作表：说明" in capsys.readouterr().err


def test_a_store_of_a_newer_schema_is_refused_in_chinese(store, tmp_path, capsys) -> None:
    import sqlite3

    with sqlite3.connect(store) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.close()
    digest = sha(store)
    mon = tmp_path / "m.csv"
    mon.write_text(",".join(HEAD) + "\nA,2026-12-31,100,100,保洁面积,10,10\n", "utf-8")
    assert cli("records", "import-monitoring", mon, "--records", store) == 2
    err = capsys.readouterr().err
    assert "记录库的结构版本为 99" in err and "请使用更新版本的 costperf" in err
    assert "暂无中文" not in err
    assert sha(store) == digest


@pytest.mark.parametrize(
    "action",
    [
        ["feedback", "--out", "o"],
        ["rederive", "--class", "环卫保洁", "--out", "o"],
        ["list", "runs"],
        ["history", "--out", "o"],
    ],
)
@pytest.mark.parametrize("year", ["20277", "-1"])
def test_a_year_out_of_range_is_refused(store, capsys, action, year) -> None:
    digest = sha(store)
    assert cli("records", *action, "--year", year, "--records", store) == 2
    assert f"--year {year}：应为 1900 至 2200 年之间的年度" in capsys.readouterr().err
    assert cli("records", *action, "--year", year, "--records", store, "--lang", "en") == 2
    assert f"--year {year}: expected a year between 1900 and 2200" in capsys.readouterr().err
    assert sha(store) == digest


def test_wan_yuan_in_a_header_is_scaled_to_whole_yuan(store, tmp_path) -> None:
    head = ["项目编码", "监控时点", "预算数（万元）", "执行数（万元）", "指标名称", "年度目标值",
            "累计完成值"]  # fmt: skip
    book = workbook(tmp_path / "m.xlsx", [head, ["A", "2026-06-30", 2.212, 0.5, "保洁面积", 4, 1]])
    out = tmp_path / "out"
    assert cli("records", "import-monitoring", book, "--records", store, "--out", out,
               "--lang", "en") == 0  # fmt: skip
    observed = read_records(store, "monitoring_observations")
    assert observed[["budget", "executed"]].values.tolist() == [[22120.0, 5000.0]]
    flags = (out / "monitoring_flags.csv").read_text(encoding="utf-8-sig")
    assert "22120.000000000004" not in flags
    import pandas as pd

    slow = pd.read_csv(out / "monitoring_flags.csv", encoding="utf-8-sig").iloc[0]
    assert slow["flag"] == "slow_execution"
    assert slow["actual_rate"] == pytest.approx(5000 / 22120)
    assert slow["budget"] == 22120.0


@pytest.mark.parametrize(
    ("rules", "zh", "en"),
    [
        ("bad.toml", "TOML 语法错误，应为合法的 TOML（", "not a valid TOML file"),
        ("folder", "应为规则文件（TOML），而不是文件夹", "is a folder, not a rules file"),
        ("none.toml", "文件不存在，应为存在的规则文件（TOML）", "rules file not found"),
    ],
)
def test_a_bad_rules_file_is_said_plainly(store, tmp_path, capsys, rules, zh, en) -> None:
    (tmp_path / "bad.toml").write_text("max_gap = [\n", "utf-8")
    (tmp_path / "folder").mkdir()
    mon = tmp_path / "m.csv"
    mon.write_text(",".join(HEAD) + "\nA,2026-12-31,100,100,保洁面积,10,10\n", "utf-8")
    digest = sha(store)
    command = ["records", "import-monitoring", mon, "--records", store, "--rules", tmp_path / rules]
    assert cli(*command) == 2
    err = capsys.readouterr().err
    assert zh in err and "应为/" not in err  # the expected text is no message repeated
    assert cli(*command, "--lang", "en") == 2
    assert en in capsys.readouterr().err
    assert sha(store) == digest


def test_history_keeps_to_the_class_and_decision_asked(store, tmp_path, capsys) -> None:
    """Found by trying the loop with bad input: ``history --class 不存在`` wrote every
    project (exit 0): the view has no class column and the filter was dropped."""
    out = tmp_path / "h"
    assert cli("records", "history", "--class", "环卫保洁", "--records", store, "--out", out) == 0
    assert "7 个项目" in capsys.readouterr().out
    digest = sha(store)
    for option, value in (("--class", "绿化养护"), ("--decision", "reject")):
        assert cli("records", "history", option, value, "--records", store, "--out", out) == 2
        assert "没有可显示的记录" in capsys.readouterr().err
    assert sha(store) == digest


def test_an_evaluation_without_its_kind_column_names_the_column(store, tmp_path) -> None:
    """Found by trying the loop with bad input: with no 评价类型 column every row was
    reported in a column '标准类型' (the standards' kind), which the file does not have."""
    bad = tmp_path / "e.csv"
    bad.write_text("项目编码,年度,评价得分\nA,2026,80\nB,2026,70\n", "utf-8")
    problems = tmp_path / "p.csv"
    digest = sha(store)
    assert cli("--problems", problems, "records", "import-evaluation", bad, "--records", store) == 2
    found = read_problems(problems)
    assert found[["source_row", "column", "check"]].values.tolist() == [
        ["1", "评价类型", "missing_column"]
    ]
    assert sha(store) == digest


def test_one_row_is_one_row_in_english(store, tmp_path, capsys) -> None:
    mon = tmp_path / "m.csv"
    mon.write_text(",".join(HEAD) + "\nA,2026-12-31,100,100,保洁面积,10,10\n", "utf-8")
    assert cli("records", "import-monitoring", mon, "--records", store, "--lang", "en") == 0
    out = capsys.readouterr().out
    assert "1 project, 1 row;" in out and "1 rows" not in out
