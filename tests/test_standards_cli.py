"""``costperf standards ...`` end to end: exit status 0 on success, 2 on bad input."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from conftest import CASES, read_problems
from costperf.cli import main

REPO = Path(__file__).resolve().parents[1]
STANDARDS = REPO / "standards"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    # The installed package, as a user runs it (not the source folder: the
    # standard tables ship as package data mapped from standards/).
    env = dict(os.environ)
    env.pop("COSTPERF_STANDARDS", None)
    return subprocess.run(
        [sys.executable, "-m", "costperf.cli", "standards", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )


@pytest.fixture
def copy(tmp_path):
    folder = tmp_path / "standards"
    shutil.copytree(STANDARDS, folder)
    return folder


def test_list_uses_the_repository_standards_by_default(tmp_path):
    done = run("list", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "travel-lodging" in done.stdout and "财行〔2016〕214号" in done.stdout


def test_list_headers_and_titles_in_the_language(tmp_path, capsys, monkeypatch):
    """Found by the language audit: ``standards list --lang en`` printed the canonical
    names (table_id, effective_from, n_lines); the headers are columns.csv's labels and
    the title the table's English one where it has one."""
    monkeypatch.chdir(tmp_path)
    assert main(["standards", "list"]) == 0
    zh = capsys.readouterr().out.splitlines()
    assert zh[0].split() == [
        "标准表", "版本", "状态", "类型", "施行日期", "截止日期", "数值行", "未核实", "文号", "标题",
    ]  # fmt: skip
    assert any("meeting-fee" in line and "中央和国家机关会议费综合定额标准" in line for line in zh)
    assert main(["standards", "list", "--lang", "en"]) == 0
    en = capsys.readouterr().out.splitlines()
    assert re.split(r"\s{2,}|(?<=\S) (?=[A-Z])", en[0].strip()) == [
        "Table", "Version", "Status", "Kind", "Effective from", "In force to", "Lines",
        "Unverified (n)", "Document number", "Title",
    ]  # fmt: skip
    meeting = next(line for line in en if line.split()[0] == "meeting-fee")
    assert "Meeting-fee composite quota, central government bodies" in meeting
    assert "composite quota" in meeting and "published" in meeting
    assert not re.search(r"table_id|effective_from|n_lines|in_force_to", en[0])


def test_diff_prints_and_writes_csv(tmp_path):
    done = run("diff", "meeting-fee", "fujian-meeting-fee", "-o", "diff.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "meeting-fee@1 → fujian-meeting-fee@1：变动 12，新增 0，删除 0" in done.stdout
    diff = pd.read_csv(tmp_path / "diff.csv", encoding="utf-8-sig")
    assert len(diff) == 12
    row = diff.set_index("line").loc["四类会议/total"]
    assert (row["value_old"], row["value_new"], row["abs_change"]) == (550, 450, -100)


def test_uprate_writes_a_draft_and_refuses_to_overwrite(copy, tmp_path):
    args = (
        "uprate",
        "meeting-fee",
        "--index",
        "1.032",
        "--effective",
        "2027-01-01",
        "--standards",
        str(copy),
    )
    done = run(*args, "--lang", "en", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    header = tomllib.loads((copy / "meeting-fee-v2.toml").read_text(encoding="utf-8"))
    assert (header["version"], header["status"]) == (2, "draft")
    values = pd.read_csv(copy / "meeting-fee-v2.csv", encoding="utf-8-sig", dtype=str)
    assert values.set_index(["category", "item"]).loc[("一类会议", "total"), "value"] == "780"
    # from the repository's tables the next version is 2 again, and that file now exists
    again = run(
        "uprate",
        "meeting-fee",
        "--index",
        "1.05",
        "--effective",
        "2028-01-01",
        "-o",
        str(copy),
        "--lang",
        "en",
        cwd=tmp_path,
    )
    assert again.returncode == 2
    assert "already exists" in again.stderr
    assert main(["standards", "seal", str(copy / "meeting-fee-v2.toml"), "--lang", "en"]) == 0
    assert main(["standards", "check", "--standards", str(copy), "--lang", "en"]) == 0


def test_publish_xlsx(tmp_path):
    done = run("publish", "travel-lodging", "--format", "xlsx", "-o", "t.xlsx", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    sheet = openpyxl.load_workbook(tmp_path / "t.xlsx").worksheets[0]
    assert sheet["A1"].value == "中央和国家机关工作人员赴地方差旅住宿费标准（2016年）"
    assert sheet.freeze_panes == "C6"


def test_lookup_and_its_errors(tmp_path):
    done = run(
        "lookup",
        "travel-lodging",
        "--on",
        "2016-08-01",
        "--item",
        "lodging",
        "-d",
        "city=大连",
        "-d",
        "staff_level=其他人员",
        "--lang",
        "en",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("420 yuan/person-day")
    bad = run("publish", "no-such-table", "--format", "html", "--lang", "en", cwd=tmp_path)
    assert bad.returncode == 2
    assert "unknown standard table 'no-such-table'" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_check_a_broken_copy_exits_2_and_writes_problems(copy, tmp_path):
    csv = copy / "mof-meeting-fee-2016.csv"
    csv.write_text(
        csv.read_text(encoding="utf-8").replace("二类会议,lodging,400", "二类会议,lodging,四百"),
        encoding="utf-8",
    )
    done = run("check", "--standards", str(copy), "--lang", "en", cwd=tmp_path)
    assert done.returncode == 2
    assert "mof-meeting-fee-2016.csv, row 6, column 'value'" in done.stderr
    problems = read_problems(tmp_path / "costperf-problems.csv")
    assert {"not_a_number", "content_hash"} <= set(problems["check"])


def test_in_process_commands(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["standards", "check"]) == 0
    assert re.fullmatch(r"\d+ 张标准表，\d+ 个版本，\d+ 行数值：无错误\n", capsys.readouterr().out)
    assert main(["standards", "check", "--lang", "en"]) == 0
    assert capsys.readouterr().out.endswith("value lines: no errors\n")
    assert main(["standards", "show", "travel-allowance", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "travel-allowance/西藏/meals" in out and "meal allowance" in out
    assert main(["standards", "publish", "meeting-fee", "--format", "html"]) == 0
    assert (tmp_path / "meeting-fee-v1.html").exists()
    assert (
        main(
            [
                "standards",
                "lookup",
                "travel-lodging",
                "--on",
                "2013-05-01",
                "--item",
                "lodging",
                "-d",
                "city=北京",
                "-d",
                "staff_level=省部级",
            ]
        )
        == 2
    )
    assert "2013-05-01 没有生效的 'travel-lodging' 标准表" in capsys.readouterr().err
    assert main(["standards", "lookup", "travel-lodging", "--on", "2016-05-01", "-d", "x"]) == 2
    assert capsys.readouterr().err == "costperf：错误：'x'：应为“维度=值”（如 city=大连）\n"
    bad = ["standards", "lookup", "travel-lodging", "--on", "2016-05-01", "-d", "x", "--lang", "en"]
    assert main(bad) == 2
    assert capsys.readouterr().err == "costperf: error: 'x': expected DIM=VALUE (e.g. city=大连)\n"
    assert main(["standards", "list", "--standards", str(tmp_path / "missing")]) == 2


def test_lookup_line_in_each_language(capsys):
    args = ["standards", "lookup", "travel-lodging", "--on", "2016-08-01", "--item", "住宿费"]
    args += ["-d", "城市=大连", "-d", "staff_level=其他人员"]
    ref = "travel-lodging/大连/其他人员/旺季/lodging@2  住宿费  财行〔2015〕497号"
    assert main(args) == 0
    assert capsys.readouterr().out == f"420 元/人·天  {ref}  自 2016-01-01 起生效\n"
    assert main([*args, "--lang", "en"]) == 0  # the unit in English (labels.csv standard_unit)
    assert capsys.readouterr().out == f"420 yuan/person-day  {ref}  in force 2016-01-01\n"


def test_lookup_unit_of_a_derived_table_in_each_language(capsys):
    """A derived table's unit is 元/<the case's output unit>: yuan/m2 under en."""
    args = ["standards", "lookup", "hw-uc", "--on", "2027-03-01", "--item", "环卫保洁单位成本"]
    args += ["-d", "道路等级=一级", "--standards", str(CASES / "requests-2027" / "standards")]
    ref = "hw-uc/一级/unit_cost@1  环卫保洁单位成本  "
    assert main(args) == 0
    source = "同类数据测算：同类中位数，数据指纹 4ef7347fc8f1279e"  # no document: the derivation
    assert capsys.readouterr().out == f"16.49 元/m2  {ref}{source}  自 2026-01-01 起生效\n"
    assert main([*args, "--lang", "en"]) == 0
    source = "derived from peer data: peer median, data hash 4ef7347fc8f1279e"
    assert capsys.readouterr().out == f"16.49 yuan/m2  {ref}{source}  in force 2026-01-01\n"


def test_a_lookup_that_finds_nothing_says_why_in_chinese(capsys):
    """The table and date, then the reason, each from labels.csv (no English left under
    zh); the lines after it list what the table accepts."""
    args = ["standards", "lookup", "meeting-fee", "--on", "2020-01-01"]
    assert main([*args, "--item", "二类会议"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "costperf：错误：meeting-fee（2020-01-01）：meeting-fee 中没有品目 '二类会议'\n"
        "meeting-fee@1 可查询：\n"
    )
    assert main([*args, "--item", "lodging", "-d", "category=五类会议"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "costperf：错误：meeting-fee（2020-01-01，category=五类会议）：未知类别 '五类会议'\n"
    )
    assert main([*args, "--item", "二类会议", "--lang", "en"]) == 2
    assert capsys.readouterr().err.startswith(
        "costperf: error: meeting-fee on 2020-01-01: unknown item '二类会议' in meeting-fee\n"
    )


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        ("9999-12-31", "应为 1900 至 2200 年间的日期 YYYY-MM-DD"),
        ("2020-13-01", "应为日期 YYYY-MM-DD"),
    ],
)
def test_a_lookup_date_is_checked_as_the_review_checks_its_date(
    tmp_path, capsys, monkeypatch, on, expected
):
    """--on as --date: the years 1900-2200 (year 9999 found the open-ended value);
    an option's problem writes no problems table into the working folder."""
    monkeypatch.chdir(tmp_path)
    args = ["standards", "lookup", "meeting-fee", "--on", on, "--item", "lodging"]
    assert main([*args, "-d", "category=二类会议"]) == 2
    assert capsys.readouterr().err == (
        f"costperf：错误：共 1 处输入问题：\n  选项“--on”：命令行选项错误，值 '{on}'，{expected}\n"
    )
    assert main([*args, "-d", "category=二类会议", "--lang", "en"]) == 2
    assert capsys.readouterr().err.startswith(f"costperf: error: --on '{on}': expected a date")
    assert list(tmp_path.iterdir()) == []
