"""``costperf optimize`` and the [optimize] step of ``costperf run``, in process.

One shared run of the household-survey case (records, LP file) serves most tests; bad
input is checked cell by cell with the exact located message and exit status 2.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import CASES, problem_cells, read_problems
from costperf.cli import main

SURVEY = CASES / "household-survey"


def run_main(*args: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def write_model(folder: Path, resources: str, constraints: str, coefficients: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (
        ("resources", resources),
        ("constraints", constraints),
        ("coefficients", coefficients),
    ):
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


RESOURCES = """资源编码,名称,单位,单位成本,是否取整,下限,上限,现状数量
cleaner,保洁员,人·年,65000,是,0,,120
truck,扫路车,台·年,180000,是,0,10,6
"""
CONSTRAINTS = """约束编码,名称,类型,方向,右端值,单位
area,保洁作业面积,绩效基线,>=,2000000,m2·次/日
manual,人工保洁比例,政策约束,>=,0,人
"""
COEFFICIENTS = """约束编码,资源编码,系数
area,cleaner,12000
area,truck,150000
manual,cleaner,1
manual,truck,-10
"""


@pytest.fixture(scope="module")
def survey_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("optimize")
    case = root / "case"
    shutil.copytree(SURVEY, case, ignore=shutil.ignore_patterns("generate.py", "__pycache__"))
    out, db, lp = root / "out", root / "records.sqlite", root / "model.lp"
    code, stdout, stderr = run_main(
        "optimize", case, "--out", out, "--records", db, "--write-lp", lp
    )
    assert code == 0, stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {"case": case, "out": out, "db": db, "lp": lp, "stdout": stdout, "summary": summary}


def test_outputs_and_totals(survey_run: dict) -> None:
    folder = survey_run["out"] / "optimize"
    assert {p.name for p in folder.iterdir()} >= {"plan.csv", "constraints.csv", "report.html"}
    plan = pd.read_csv(folder / "plan.csv")
    assert list(plan.columns[:3]) == ["资源编码", "显示名称", "项目编码"]
    totals = survey_run["summary"]["optimize"]["totals"]
    assert totals["status"] == "optimal" and totals["solver"] == "highs"
    assert totals["current_cost"] == pytest.approx(plan["现状成本"].sum())
    assert totals["proposed_cost"] == pytest.approx(plan["建议成本"].sum())
    assert totals["savings_rate"] == pytest.approx(
        1 - totals["proposed_cost"] / totals["current_cost"]
    )
    assert totals["lp_relaxation_cost"] <= totals["proposed_cost"] + 1e-6
    cons = pd.read_csv(folder / "constraints.csv")
    assert "影子价格（线性松弛）" in cons.columns  # integers: the relaxation's dual
    # codes as words in the Chinese CSVs (labels.csv), as on the report's sheets
    assert set(cons["约束类型"]) <= {"绩效基线", "政策约束", "资源限制"}
    assert set(cons["是否紧约束"]) | set(cons["现状是否满足"]) <= {"是", "否"}
    assert set(plan["是否取整"]) <= {"是", "否"} and "资源表" in set(plan["单位成本来源"])
    base = cons[cons["约束类型"] == "绩效基线"]
    assert len(base) and (base["建议左端值"] >= base["右端值"]).all()
    assert survey_run["stdout"].startswith(
        "入户调查项目成本优化（调查方式组合）（household-survey）：最优"
    )


def test_report_has_chart_and_shadow_prices(survey_run: dict) -> None:
    html = (survey_run["out"] / "optimize" / "report.html").read_text(encoding="utf-8")
    assert "约束与影子价格" in html and "data:image/png;base64," in html
    assert "现状与优化方案成本（按资源）" in html


def test_lp_file_names_the_model(survey_run: dict) -> None:
    text = survey_run["lp"].read_text(encoding="utf-8")
    assert text.splitlines()[1] == "Minimize"
    assert "completes: 0.62 f2f_first + 0.3 f2f_revisit + 0.25 online + 0.22 phone >= 2000" in text
    assert "Generals" in text


def test_records_written_once(survey_run: dict) -> None:
    from costperf.records import read_proposals

    first = read_proposals(survey_run["db"])
    assert len(first) == 4 and first["run_id"].nunique() == 1
    constraints = read_proposals(survey_run["db"], "proposal_constraints")
    assert set(constraints["shadow_price_basis"]) == {"lp_relaxation"}
    code, stdout, _ = run_main(
        "optimize",
        survey_run["case"],
        "--out",
        survey_run["out"].parent / "again",
        "--records",
        survey_run["db"],
    )
    assert code == 0 and "已有相同记录" in stdout
    assert len(read_proposals(survey_run["db"])) == 4


def test_english_outputs(survey_run: dict, tmp_path: Path) -> None:
    code, stdout, _ = run_main("optimize", survey_run["case"], "--out", tmp_path, "--lang", "en")
    assert code == 0
    assert stdout.startswith(
        "入户调查项目成本优化（调查方式组合） (household-survey): optimal, current cost"
    )
    plan = pd.read_csv(tmp_path / "optimize" / "plan.csv")
    assert list(plan.columns[:4]) == ["resource", "label", "project_id", "group"]
    assert "input" in set(plan["unit_cost_source"])  # canonical codes, for scripts
    cons = pd.read_csv(tmp_path / "optimize" / "constraints.csv")
    assert "baseline" in set(cons["constraint_kind"]) and cons["binding"].dtype == bool
    html = (tmp_path / "optimize" / "report.html").read_text(encoding="utf-8")
    assert "Constraints and shadow prices" in html


def test_model_folder_and_cbc_print_nothing_but_costperf(tmp_path: Path, capfd) -> None:
    model = write_model(tmp_path / "m", RESOURCES, CONSTRAINTS, COEFFICIENTS)
    for solver in ("highs", "cbc"):
        assert (
            main(
                [
                    "optimize",
                    "--model",
                    str(model),
                    "--out",
                    str(tmp_path / solver),
                    "--solver",
                    solver,
                ]
            )
            == 0
        )
        captured = capfd.readouterr()
        lines = captured.out.splitlines()
        assert lines[0] == (
            "节支优化方案（m）：最优，现状成本 8,880,000.00 元，优化方案 6,460,000.00 元，"
            "节约 2,420,000.00 元（27.3%）"
        )
        assert len(lines) == 2 and lines[1].startswith("  输出：")
        assert captured.err == ""


def test_infeasible_model_exits_0_with_sentences(tmp_path: Path) -> None:
    limits = (
        CONSTRAINTS + "trucks,扫路车上限,资源限制,<=,2,台\nstaff,保洁员编制,资源限制,<=,100,人\n"
    )
    coefs = COEFFICIENTS + "trucks,truck,1\nstaff,cleaner,1\n"
    model = write_model(tmp_path / "m", RESOURCES, limits, coefs)
    code, stdout, _ = run_main("optimize", "--model", model, "--out", tmp_path / "o")
    assert code == 0
    table = pd.read_csv(tmp_path / "o" / "optimize" / "infeasibility.csv")
    # 100 cleaners + 2 trucks sweep 1,500,000 of 2,000,000: the least relative give is
    # the baseline's 25 % (the staff limit would need +41.7 %, the trucks +167 %)
    assert list(table["约束编码"]) == ["area"]
    assert table["需放宽量"].iloc[0] == pytest.approx(500000.0)
    assert "不可行" in stdout and table["不可行说明"].iloc[0] in stdout
    summary = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))
    assert summary["optimize"]["totals"]["status"] == "infeasible"


BAD = {
    "text_unit_cost": (
        "resources",
        RESOURCES.replace("65000", "六万五"),
        "resources.csv, row 2, column '单位成本': got '六万五', expected a number",
    ),
    "unknown_resource": (
        "coefficients",
        COEFFICIENTS.replace("area,truck,", "area,tractor,"),
        "coefficients.csv, row 3, column '资源编码': got 'tractor', expected a resource listed "
        "in the resources table (e.g. cleaner, truck)",
    ),
    "unknown_constraint": (
        "coefficients",
        COEFFICIENTS.replace("manual,truck", "manul,truck"),
        "coefficients.csv, row 5, column '约束编码': got 'manul', expected a constraint listed "
        "in the constraints table (e.g. area, manual)",
    ),
    "bad_sense": (
        "constraints",
        CONSTRAINTS.replace(">=,0", ">>,0"),
        "constraints.csv, row 3, column '方向': got '>>', expected one of: >=, <=, = (≥ 大于等于, "
        "≤ 小于等于, ＝ 等于)",
    ),
    "sense_chinese_words": (  # found by fuzzing: 大于等于 was refused
        "constraints",
        CONSTRAINTS.replace(">=,2000000", "大于等于,2000000").replace(">=,0", "不小于,0"),
        None,
    ),
    "bad_kind": (
        "constraints",
        CONSTRAINTS.replace("政策约束", "政策"),  # an accepted short form ...
        None,
    ),
    "unit_price_header": (  # found by fuzzing: 单价 was ignored, every unit cost "blank"
        "resources",
        RESOURCES.replace("单位成本", "单价"),
        None,
    ),
    "upper_inf": ("resources", RESOURCES.replace("0,,120", "0,∞,120"), None),  # no bound
    "sense_full_width": ("constraints", CONSTRAINTS.replace(">=,0", "≥,0"), None),
    "bounds": (
        "resources",
        RESOURCES.replace("0,10,6", "12,10,6"),
        "resources.csv, row 3, column '下限': got '12', expected a lower bound <= upper",
    ),
    "integer_word": (
        "resources",
        RESOURCES.replace("65000,是", "65000,也许"),
        "resources.csv, row 2, column '是否取整': got '也许', expected one of: true/false, 是/否 "
        "(or blank)",
    ),
    "duplicate_coefficient": (
        "coefficients",
        COEFFICIENTS + "area,cleaner,13000\n",
        "coefficients.csv, row 6, column '资源编码': got 'area / cleaner', expected a unique "
        "constraint + resource (first used in row 2)",
    ),
    "huge_lower_bound": (  # found by fuzzing: HiGHS took it as infinite, no plan, a crash
        "resources",
        RESOURCES.replace("0,10,6", "1e308,,6"),
        "resources.csv, row 3, column '下限': got '1e308', expected a number of at most 1e+18 "
        "in magnitude",
    ),
    "huge_coefficient": (
        "coefficients",
        COEFFICIENTS.replace("area,truck,150000", "area,truck,-2e20"),
        "coefficients.csv, row 3, column '系数': got '-2e20', expected a number of at most",
    ),
    "negative_current": (
        "resources",
        RESOURCES.replace(",120", ",-1"),
        "resources.csv, row 2, column '现状数量': got '-1', expected a number >= 0",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_exits_2_with_located_message(name: str, tmp_path: Path) -> None:
    table, text, message = BAD[name]
    files = {"resources": RESOURCES, "constraints": CONSTRAINTS, "coefficients": COEFFICIENTS}
    files[table] = text
    model = write_model(
        tmp_path / "m", files["resources"], files["constraints"], files["coefficients"]
    )
    code, _, stderr = run_main(
        "optimize", "--model", model, "--out", tmp_path / "o", "--lang", "en"
    )
    if message is None:
        assert code == 0, stderr
        return
    assert code == 2, stderr
    assert message in stderr
    problems = read_problems(tmp_path / "o" / "problems.csv")
    assert len(problems) >= 1


def test_closed_lists_in_chinese_have_no_english_words(tmp_path: Path) -> None:
    """Found by fuzzing: the Chinese message listed the senses as '>=, <= or =' and the
    integer words as 'true/false (是/否) or blank'."""
    model = write_model(
        tmp_path / "m",
        RESOURCES.replace("65000,是", "65000,也许"),
        CONSTRAINTS.replace(">=,0", "?,0"),
        COEFFICIENTS,
    )
    code, _, stderr = run_main("optimize", "--model", model, "--out", tmp_path / "o")
    assert code == 2, stderr
    assert "应为以下之一：true/false, 是/否（或留空）" in stderr
    assert "应为以下之一：>=, <=, = (≥ 大于等于, ≤ 小于等于, ＝ 等于)" in stderr
    assert " or " not in stderr


def test_every_problem_of_every_file_at_once(tmp_path: Path) -> None:
    model = write_model(
        tmp_path / "m",
        RESOURCES.replace("65000", "x"),
        CONSTRAINTS.replace(">=,0", "?,0"),
        COEFFICIENTS,
    )
    code, _, stderr = run_main(
        "optimize", "--model", model, "--out", tmp_path / "o", "--lang", "en"
    )
    assert code == 2
    assert "resources.csv, row 2, column '单位成本'" in stderr
    assert "constraints.csv, row 3, column '方向'" in stderr


def test_bad_cells_and_broken_links_come_together(tmp_path: Path) -> None:
    """A cell refused by its table no longer hides a link no table holds: one run
    reports the text in a number cell and the coefficient of an unknown resource."""
    model = write_model(
        tmp_path / "m",
        RESOURCES.replace("180000", "十八万"),
        CONSTRAINTS,
        COEFFICIENTS.replace("manual,truck,-10", "manual,bus,-10"),
    )
    code, _, stderr = run_main("optimize", "--model", model, "--out", tmp_path / "o")
    assert code == 2, stderr
    found = {(f, r, c) for f, r, c, _ in problem_cells(tmp_path / "o" / "problems.csv")}
    assert ("resources.csv", "3", "单位成本") in found, found
    assert any(f == "coefficients.csv" and r == "5" for f, r, _ in found), found


def test_config_range_is_checked(tmp_path: Path) -> None:
    case = tmp_path / "case"
    shutil.copytree(SURVEY, case)
    toml = case / "case.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "max_group_cut = 1.5\n", encoding="utf-8")
    code, _, stderr = run_main("optimize", case, "--out", tmp_path / "o", "--lang", "en")
    assert code == 2
    assert "key 'optimize.max_group_cut': got 1.5, expected a finite number in [0, 1]" in stderr


def test_case_without_optimize_section(tmp_path: Path) -> None:
    from conftest import SANITATION

    case = tmp_path / "case"
    shutil.copytree(SANITATION, case)
    toml = case / "case.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text[: text.index("[optimize]")], encoding="utf-8")
    code, _, stderr = run_main("optimize", case, "--out", tmp_path / "o", "--lang", "en")
    assert code == 2 and "the case has no [optimize] section" in stderr


def test_run_writes_optimize_outputs_and_records(good_run: dict) -> None:
    from costperf.records import read_proposals

    summary = good_run["summary"]
    assert summary["optimize"]["totals"]["status"] == "optimal"
    assert (good_run["out"] / "optimize" / "plan.csv").is_file()
    html = (good_run["out"] / "report.html").read_text(encoding="utf-8")
    assert "约束与影子价格" in html
    proposals = read_proposals(good_run["records"])
    assert proposals["run_id"].nunique() == 1 and len(proposals) == 280
    assert proposals["run_id"].iloc[0] == summary["optimize"]["records"]["run_id"]


def test_a_run_without_a_plan_says_so(capsys) -> None:
    """A solver that stopped without a plan (no costs to show) is reported, not a crash."""
    from costperf.commands.optimize import print_summary

    totals = {"status": "not_solved", "current_cost": 1200.0, "proposed_cost": None}
    totals |= {"savings": None, "savings_rate": None}
    summary = {"title": "节支优化方案", "case": "c", "optimize": {"totals": totals}}
    summary["optimize"] |= {"infeasibility": [], "current_issues": []}
    summary["records"] = {"run_id": None}
    print_summary(summary, Path("out"), "zh")
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "节支优化方案（c）：未求解，现状成本 1,200.00 元，没有优化方案"
    from costperf.commands.run import _print_optimize

    _print_optimize(totals, "en")
    said = capsys.readouterr().out.strip()
    assert (
        said
        == "Savings proposal: not solved, current 1,200.00 yuan, no proposed plan; see optimize/"
    )


def test_a_date_outside_the_years_is_a_located_option_error(tmp_path: Path) -> None:
    """--date is checked as the review's: 1900-2200, YYYY-MM-DD; the problems table goes
    into the --out folder, and nothing else is written."""
    model = write_model(tmp_path / "m", RESOURCES, CONSTRAINTS, COEFFICIENTS)
    out = tmp_path / "o"
    code, _, stderr = run_main("optimize", "--model", model, "--out", out, "--date", "9999-12-31")
    assert code == 2
    assert "选项“--date”：命令行选项错误，值 '9999-12-31'，应为 1900 至 2200 年间的日期" in stderr
    assert sorted(p.name for p in out.iterdir()) == ["problems.csv"]
    code, _, stderr = run_main(
        "optimize",
        "--model",
        model,
        "--out",
        tmp_path / "e",
        "--date",
        "2027-02-30",
        "--lang",
        "en",
    )
    assert code == 2
    assert "--date '2027-02-30': expected a date YYYY-MM-DD" in stderr


@pytest.mark.parametrize(
    ("option", "column"), [("--max-group-cut", "group 分组"), ("--project-floor", "project_id")]
)
def test_share_option_without_its_column_exits_2(option: str, column: str, tmp_path: Path):
    """Found by fuzzing: a group cut or project floor on resources naming no group or
    project changed nothing, silently."""
    model = write_model(tmp_path / "m", RESOURCES, CONSTRAINTS, COEFFICIENTS)
    code, stdout, stderr = run_main(
        "optimize", "--model", model, "--out", tmp_path / "o", option, "0.5", "--lang", "en"
    )
    assert code == 2 and stdout == ""
    assert f"{option} 0.5: {model / 'resources.csv'} names no {column}" in stderr


def test_model_options_with_a_case_exit_2(tmp_path: Path) -> None:
    """Found by fuzzing: --max-group-cut and --date with a CASE were silently ignored (the
    case's [optimize] settings held)."""
    code, stdout, stderr = run_main(
        "optimize",
        SURVEY,
        "--out",
        tmp_path / "o",
        "--max-group-cut",
        "0.5",
        "--date",
        "2020-01-01",
    )
    assert code == 2 and stdout == ""
    assert "--max-group-cut, --date：仅配合 --model 使用" in stderr
    assert not (tmp_path / "o" / "summary.json").exists()


@pytest.mark.parametrize("unit", [None, "", float("nan")])
def test_infeasibility_sentence_without_a_unit(unit: object) -> None:
    """Found by fuzzing: a row with no unit read '由 10 降低 6 （…）至 4 ，' in Chinese."""
    from costperf.optimize.infeasible import explain

    row = {
        "constraint_kind": "baseline",
        "label": "C1",
        "constraint": "c1",
        "unit": unit,
        "relaxation": 6.0,
        "rhs": 10.0,
        "relative_relaxation": 0.6,
        "lowered": True,
        "relaxed_rhs": 4.0,
    }
    assert explain(row) == (
        "绩效基线“C1”（c1）无法满足：需将右端值由 10 降低 6（占右端值的 60.0%）至 4，"
        "其余约束方可同时成立。"
    )
    assert explain(row, "en") == (
        "The baseline 'C1' (c1) cannot hold: its right-hand side must be lowered from 10 by 6 "
        "(60.0% of it) to 4 for all other constraints to hold."
    )


def test_an_unknown_standard_is_told_in_chinese_at_its_column(tmp_path: Path) -> None:
    """Found by fuzzing: the problem named the column 'standard_id' (not the file's
    适用标准) and its expected text had no Chinese ('说明（暂无中文译文）')."""
    resources = RESOURCES.replace("现状数量", "现状数量,适用标准").replace(",120", ",120,")
    resources = resources.replace("65000,是,0,,120,", ",是,0,,120,NOPE-1").replace(",6\n", ",6,\n")
    model = write_model(tmp_path / "m", resources, CONSTRAINTS, COEFFICIENTS)
    code, _, stderr = run_main(
        "optimize", "--model", model, "--out", tmp_path / "o", "--date", "2026-01-01"
    )
    assert code == 2, stderr
    assert (
        "resources.csv，第 2 行，列“适用标准”：未知标准，值 'NOPE-1'，应为 2026-01-01 生效的标准"
        "（未知的标准表 'NOPE-1'）"
    ) in stderr
    assert "暂无中文译文" not in stderr


def test_one_table_in_two_files_or_none_exits_2_for_every_table(tmp_path: Path) -> None:
    """Found by fuzzing: with resources.csv and resources.xlsx the CSV was read, silently;
    of two missing tables only the first was told."""
    model = write_model(tmp_path / "m", RESOURCES, CONSTRAINTS, COEFFICIENTS)
    pd.read_csv(model / "resources.csv").to_excel(model / "resources.xlsx", index=False)
    (model / "coefficients.csv").unlink()
    code, stdout, stderr = run_main("optimize", "--model", model, "--out", tmp_path / "o")
    assert code == 2 and stdout == ""
    assert "共 2 处输入问题" in stderr
    assert "同一张表有两个来源，值 'resources.csv, resources.xlsx'，应为每张表一个文件" in stderr
    assert (
        "缺少文件，应为--model 文件夹中的文件之一：coefficients.csv, coefficients.xlsx, "
        "coefficients.parquet"
    ) in stderr


def test_a_failure_told_by_its_message_drops_an_earlier_problems_table(tmp_path: Path):
    """Found by fuzzing: after a run with bad cells, a run failing on a plain message (the
    --model path is a file) left the earlier problems.csv, which then seemed to be its."""
    model = write_model(tmp_path / "m", RESOURCES.replace("65000", "x"), CONSTRAINTS, COEFFICIENTS)
    out = tmp_path / "o"
    assert run_main("optimize", "--model", model, "--out", out)[0] == 2
    assert (out / "problems.csv").is_file()
    code, _, stderr = run_main("optimize", "--model", model / "resources.csv", "--out", out)
    assert code == 2
    assert "resources.csv：不是文件夹；--model 应为含 resources" in stderr
    assert not (out / "problems.csv").exists()
