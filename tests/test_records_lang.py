"""``costperf records ...`` in both languages, run as a user runs them (in process).

One record store per language is prepared once for the module (the history of
tests/test_records_loop.py: seven projects, monitoring, evaluations), every action is
run on it in order, and the tests read what each printed.  Chinese is the default;
``--lang en`` prints English only: the Han characters left are data values the user
gave (the class of matter 环卫保洁, the road grades 一级..四级, the indicator 保洁面积).
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import openpyxl
import pytest

from costperf.cli import main
from costperf.records import read_records
from records_helpers import EVALUATIONS, MONITORING, batches

DATA = Path(__file__).parent / "data"
HAN = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
#: the Chinese data values an English summary may quote (user data, not our texts)
DATA_VALUES = ("环卫保洁", "一级", "二级", "三级", "四级", "保洁面积")
ACTIONS = {  # name -> arguments after `records` (the store and --lang are added)
    "monitoring": ("import-monitoring", "{dir}/mon.csv", "--out", "{out}"),
    "monitoring_again": ("import-monitoring", "{dir}/mon.csv"),
    "evaluation": ("import-evaluation", "{dir}/eval.csv", "--out", "{out}"),
    "evaluation_again": ("import-evaluation", "{dir}/eval.csv"),
    "feedback": ("feedback", "--year", "2027", "--out", "{out}"),
    "feedback_again": ("feedback", "--year", "2027", "--out", "{out}"),
    "rederive": ("rederive", "--class", "环卫保洁", "--year", "2026", "--out", "{out}",
                 "--standards", str(DATA / "standards-in-force")),
    "rederive_alone": ("rederive", "--class", "环卫保洁", "--year", "2026", "--out", "{out}2"),
    "list_recommendations": ("list", "recommendations", "--department", "D2"),
    "list_runs": ("list", "runs", "--limit", "2"),
    "list_flags": ("list", "flags"),
    "list_none": ("list", "evaluations", "--year", "2030"),
    "show": ("show", "{first_batch}"),
    "export": ("export", "-o", "{out}/export.xlsx", "--year", "2026"),
    "history": ("history", "--out", "{out}"),
    "bad_show": ("show", "nope"),
    "bad_export": ("export", "-o", "{out}/export.csv"),
    "bad_class": ("rederive", "--class", "绿化养护", "--year", "2026", "--out", "{out}/o"),
    "bad_monitoring": ("import-monitoring", "{dir}/bad.csv"),
}  # fmt: skip


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def said(tmp_path_factory) -> dict:
    """``{lang: {action: (exit status, stdout, stderr)}}`` plus the stores and folders."""
    result = {}
    for lang in ("zh", "en"):
        folder = tmp_path_factory.mktemp(f"records-{lang}")
        store = folder / "r.sqlite"
        ids = batches(store)
        (folder / "mon.csv").write_text(MONITORING, encoding="utf-8")
        (folder / "eval.csv").write_text(EVALUATIONS, encoding="utf-8")
        (folder / "bad.csv").write_text(
            MONITORING.replace("E,2026-12-31,300000", "E,2026-12-31,-3"), encoding="utf-8"
        )
        values = {"dir": folder, "out": folder / "out", "first_batch": ids[0]}
        runs = {}
        for name, args in ACTIONS.items():
            argv = ["--problems", str(folder / "p.csv"), "records"]
            argv += [a.format(**values) for a in args] + ["--records", str(store)]
            runs[name] = _run(argv if lang == "zh" else [*argv, "--lang", "en"])
        result[lang] = {"runs": runs, "store": store, "dir": folder, "batches": ids}
    return result


def _lines(said: dict, lang: str, action: str) -> list[str]:
    code, out, err = said[lang]["runs"][action]
    assert code == 0, err
    return out.replace(str(said[lang]["dir"]), "DIR").splitlines()


def _run_id(said: dict, lang: str, kind: str) -> str:
    runs = read_records(said[lang]["store"], "runs")
    return runs.loc[runs["kind"] == kind, "run_id"].iloc[0]


def test_every_action_has_lang_and_chinese_is_the_default() -> None:
    for action in ("import-monitoring", "import-evaluation", "feedback", "rederive", "list",
                   "show", "export", "history"):  # fmt: skip
        code, out, _ = _run_help(action)
        out = " ".join(out.split())  # help wraps its lines
        assert code == 0 and "--lang {zh,en}" in out and "（默认：zh）" in out


def _run_help(action: str) -> tuple[int, str, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_:
        main(["records", action, "--help"])
    return exit_.value.code, out.getvalue(), ""


def test_import_monitoring(said) -> None:
    for lang, first, recorded, again in (
        ("zh", "双监控：DIR/mon.csv，7 个项目、9 行；执行进度偏慢 3 项（建议收回或调剂 690,890.41 元），"
               "绩效目标偏离 1 项",
         "  已记录：运行 {run}，观测 9 行、预警 4 条 → DIR/r.sqlite",
         "  相同内容已于运行 {run} 记录，未重复记录（DIR/r.sqlite）"),
        ("en", "Dual monitoring: DIR/mon.csv, 7 projects, 9 rows; slow execution 3 (recover or "
               "re-allocate 690,890.41 yuan), target deviation 1",
         "  Recorded: run {run}, 9 observations, 4 flags -> DIR/r.sqlite",
         "  The same content was recorded as run {run}: nothing new recorded (DIR/r.sqlite)"),
    ):  # fmt: skip
        run = _run_id(said, lang, "monitoring")
        outputs = "输出：" if lang == "zh" else "Outputs: "
        assert _lines(said, lang, "monitoring") == [
            first,
            recorded.format(run=run),
            f"  {outputs}DIR/out/monitoring_flags.csv",
        ]
        assert _lines(said, lang, "monitoring_again") == [first, again.format(run=run)]


def test_import_evaluation(said) -> None:
    zh = _lines(said, "zh", "evaluation")
    assert zh == [
        "绩效评价：DIR/eval.csv，8 条；优 2，良 1，中 1，差 4；自评与重点评价不一致 1 项（以重点评价为准，抽查复核）",
        "  E：2026年度财政重点评价85分（良）与自评92分（优）不一致，以财政重点评价结果为准，相差+7分，建议抽查复核",
        f"  已记录：运行 {_run_id(said, 'zh', 'evaluation')} → DIR/r.sqlite",
    ]
    en = _lines(said, "en", "evaluation")
    assert en == [
        "Evaluations: DIR/eval.csv, 8 rows; excellent 2, good 1, fair 1, poor 4; self- and key "
        "evaluations disagree on 1 (the key evaluation stands; spot-check)",
        "  E: 2026: key evaluation 85 (good) and self-evaluation 92 (excellent) disagree; the key "
        "evaluation stands (+7 points); spot-check",
        f"  Recorded: run {_run_id(said, 'en', 'evaluation')} -> DIR/r.sqlite",
    ]
    run = _run_id(said, "en", "evaluation")
    assert _lines(said, "en", "evaluation_again")[-1] == (
        f"  The same content was recorded as run {run}: nothing new recorded"
    )
    assert _lines(said, "zh", "evaluation_again")[-1] == (
        f"  相同内容已于运行 {_run_id(said, 'zh', 'evaluation')} 记录，未重复记录"
    )


def test_feedback(said) -> None:
    zh_run, en_run = _run_id(said, "zh", "feedback"), _run_id(said, "en", "feedback")
    assert _lines(said, "zh", "feedback") == [
        "2027年度预算建议：7 个项目；基数 5,600,000.00 元，建议数 2,055,000.00 元，影响 -3,545,000.00 元",
        "  取消预算 2，压减预算 2，改进管理并压减 1，保持 1，优先安排 1",
        f"  已记录：运行 {zh_run} → DIR/r.sqlite",
        "  输出：DIR/out/recommendations.csv，DIR/out/recommendations-2027.xlsx",
    ]
    assert _lines(said, "en", "feedback") == [
        "Budget recommendations for 2027: 7 projects; base 5,600,000.00 yuan, recommended "
        "2,055,000.00 yuan, effect -3,545,000.00 yuan",
        "  cancel 2, reduce 2, improve management (and reduce) 1, maintain 1, prioritise 1",
        f"  Recorded: run {en_run} -> DIR/r.sqlite",
        "  Outputs: DIR/out/recommendations.csv, DIR/out/recommendations-2027.xlsx",
    ]
    assert (
        _lines(said, "zh", "feedback_again")[2] == f"  相同建议已于运行 {zh_run} 记录，未重复记录"
    )
    assert _lines(said, "en", "feedback_again")[2] == (
        f"  The same recommendations were recorded as run {en_run}: nothing new recorded"
    )


def test_feedback_workbook_in_english_has_the_english_reasons_only(said) -> None:
    book = openpyxl.load_workbook(said["en"]["dir"] / "out" / "recommendations-2027.xlsx")
    sheet = book["Recommendations"]
    header = [c.value for c in sheet[3]]
    assert header[:4] == ["Project ID", "Department", "Base", "Recommendation"]
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in sheet.iter_rows(4, values_only=True)}
    assert rows["D"]["Grade"] == "fair" and rows["D"]["Flags"] == "low year-end execution"
    assert rows["D"]["Reasons"].startswith("2026 self-evaluation 75 (fair): rule 'graded fair'")
    assert {k: r["Rule"] for k, r in rows.items() if k in "CD"} == {
        "C": "graded poor",  # the rule in words, as the reasons name it
        "D": "graded fair + low year-end execution",
    }
    assert not [
        v for r in rows.values() for v in r.values() if isinstance(v, str) and HAN.search(v)
    ]
    zh = openpyxl.load_workbook(said["zh"]["dir"] / "out" / "recommendations-2027.xlsx")
    zh_rows = list(zh.worksheets[0].iter_rows(3, 4, values_only=True))
    assert zh_rows[1][zh_rows[0].index("理由")].startswith(
        "2026年度财政重点评价50分（差），上年度差："
    )


def test_rederive(said) -> None:
    run = read_records(said["zh"]["store"], "runs")
    zh_run, alone_zh = run.loc[run["kind"] == "rederive", "run_id"].tolist()
    assert _lines(said, "zh", "rederive")[:7] == [
        "环卫保洁 2026年度完工项目 7 个（剔除 0 个）按实际成本重新测算：hw-uc@2（草案，规则 median）",
        "  一级：15.00 元/m2（7 个项目）",
        "  standards diff hw-uc@1 -> hw-uc@2：变动 1，新增 0，删除 3",
        "    一级/unit_cost：16.49 → 15.00（-9.0%）",
        "    二级/unit_cost：12.46 → —",
        "    三级/unit_cost：10.80 → —",
        "    四级/unit_cost：7.85 → —",
    ]
    assert _lines(said, "zh", "rederive")[7] == (
        f"  已记录：运行 {zh_run}（所用记录编号见 rederive-units.csv）→ DIR/r.sqlite"
    )
    assert _lines(said, "zh", "rederive_alone")[2] == (
        "  无现行版本可比较（用 --standards 指定现行标准表所在文件夹）"
    )
    run = read_records(said["en"]["store"], "runs")
    en_run = run.loc[run["kind"] == "rederive", "run_id"].iloc[0]
    en = _lines(said, "en", "rederive")
    assert en[:4] == [
        "环卫保洁: 7 projects completed in 2026 (0 excluded) re-derived from their actual cost: "
        "hw-uc@2 (draft, rule median)",
        "  一级: 15.00 yuan/m2 (7 projects)",
        "  standards diff hw-uc@1 -> hw-uc@2: changed 1, added 0, removed 3",
        "    一级/unit_cost: 16.49 -> 15.00 (-9.0%)",
    ]
    assert en[7] == (
        f"  Recorded: run {en_run} (the record ids used are in rederive-units.csv) -> DIR/r.sqlite"
    )
    assert en[8].startswith(
        "  Outputs: DIR/out/standards/hw-uc-v2.toml, DIR/out/rederive-units.csv"
    )
    assert _lines(said, "en", "rederive_alone")[2] == (
        "  no version in force to compare with (name the folder of the tables in force with "
        "--standards)"
    )


def test_list(said) -> None:
    zh = _lines(said, "zh", "list_recommendations")
    assert "改进管理并压减" in zh[1] and zh[-1] == "（共 3 行）"
    en = _lines(said, "en", "list_recommendations")
    assert en[0].split()[:8] == ["Recommendation", "id", "Run", "id", "Project", "ID"] + [
        "Department",
        "Year",
    ]
    assert zh[0].split()[:4] == ["建议编号", "运行编号", "项目编码", "预算部门"]
    assert "improve management (and reduce)" in en[1] and "fair" in en[1]
    assert "2026 self-evaluation 75 (fair)" in en[1] and en[-1] == "(3 rows)"
    assert _lines(said, "zh", "list_runs")[-1] == "（共 7 行，另有 5 行未显示，--limit 0 显示全部）"
    assert _lines(said, "en", "list_runs")[-1] == "(7 rows, 5 not shown; --limit 0 shows all)"
    assert _lines(said, "zh", "list_none") == ["（无记录）", "（共 0 行）"]
    assert _lines(said, "en", "list_none") == ["(no records)", "(0 rows)"]
    flags = _lines(said, "en", "list_flags")
    assert "slow execution" in flags[1] and "recover or re-allocate" in flags[1]
    assert "by 2026-06-30 executed 20.0% (200,000.00 of 1,000,000.00 yuan)" in flags[1]
    assert "执行进度偏慢" in _lines(said, "zh", "list_flags")[1]


def test_show(said) -> None:
    zh_id, en_id = said["zh"]["batches"][0], said["en"]["batches"][0]
    zh, en = _lines(said, "zh", "show"), _lines(said, "en", "show")
    assert zh[0].startswith(f"运行 {zh_id}（批量评审）review  20")
    assert zh[1:] == ["  年度：2025", "  输入哈希：books-2025", '  所用标准：["hw-uc@1"]',
                      "  参数哈希：d8d75ba6b947a7b1", "  记录：项目审核结论 1，明细审核结论 1"]  # fmt: skip
    assert en[0].startswith(f"Run {en_id} (batch review) review  20")
    assert en[1:] == ["  Year: 2025", "  Inputs hash: books-2025", '  Standards used: ["hw-uc@1"]',
                      "  Parameters hash: d8d75ba6b947a7b1",
                      "  Records: Project decisions 1, Line decisions 1"]  # fmt: skip


def test_export(said) -> None:
    zh = ("运行 5 行，项目审核结论 7 行，明细审核结论 7 行，所用标准 2 行，优化方案 0 行，"
          "优化约束 0 行，优化项目 0 行，绩效监控 9 行，预警与措施 5 行，绩效评价 7 行，"
          "下年度建议 0 行")  # fmt: skip
    assert _lines(said, "zh", "export") == [f"导出：{zh} → DIR/out/export.xlsx"]
    en = ("Runs 5 rows, Project decisions 7 rows, Line decisions 7 rows, Standards used 2 rows, "
          "Proposals 0 rows, Proposal constraints 0 rows, Proposal projects 0 rows, "
          "Monitoring 9 rows, Flags and actions 5 rows, Evaluations 7 rows, "
          "Recommendations 0 rows")  # fmt: skip
    assert _lines(said, "en", "export") == [f"Exported: {en} -> DIR/out/export.xlsx"]
    zh_book = openpyxl.load_workbook(said["zh"]["dir"] / "out" / "export.xlsx", read_only=True)
    assert zh_book.sheetnames == ["运行", "项目审核结论", "明细审核结论", "所用标准", "绩效监控",
                                  "预警与措施", "绩效评价"]  # fmt: skip
    en_book = openpyxl.load_workbook(said["en"]["dir"] / "out" / "export.xlsx", read_only=True)
    assert en_book.sheetnames == ["Runs", "Project decisions", "Line decisions", "Standards used",
                                  "Monitoring", "Flags and actions", "Evaluations"]  # fmt: skip
    rows = list(en_book["Evaluations"].iter_rows(min_row=3, values_only=True))
    grades = {r[rows[0].index("Grade")] for r in rows[1:]}
    assert grades == {"poor", "fair", "excellent", "good"}


def test_history(said) -> None:
    assert _lines(said, "zh", "history") == [
        "年度对比：2 个部门、7 个项目，2025–2026 年度；输出：DIR/out/history.xlsx，"
        "DIR/out/history.html（图表 3 张）"
    ]
    assert _lines(said, "en", "history") == [
        "Year over year: 2 departments, 7 projects, 2025–2026; outputs: DIR/out/history.xlsx, "
        "DIR/out/history.html (3 charts)"
    ]


def test_english_prints_no_chinese_but_the_data(said) -> None:
    for action, (code, out, err) in said["en"]["runs"].items():
        assert code in (0, 2)
        text = out + err
        for value in DATA_VALUES:
            text = text.replace(value, "")
        if action == "bad_class":
            text = text.replace("绿化养护", "")  # the class the user asked for
        if action == "bad_monitoring":
            text = text.replace("预算数", "")  # the header as the user wrote it
        assert not HAN.search(text), (action, HAN.findall(text))
    for action in ("monitoring", "evaluation", "feedback", "rederive", "show", "export",
                   "history"):  # fmt: skip
        assert HAN.search(said["zh"]["runs"][action][1]), action


@pytest.mark.parametrize(
    ("action", "zh", "en"),
    [
        ("bad_show", "DIR/r.sqlite：没有运行记录 'nope'", "DIR/r.sqlite: no run 'nope'"),
        (
            "bad_export",
            "DIR/out/export.csv：导出结果为 Excel 工作簿；请给出 .xlsx 文件",
            "DIR/out/export.csv: export writes an Excel workbook; give a .xlsx file",
        ),
        (
            "bad_class",
            'policies/rederive.toml：没有 [classes."绿化养护"]；已定义的事项类别：环卫保洁',
            'policies/rederive.toml: no [classes."绿化养护"]; classes defined: 环卫保洁',
        ),
        (
            "bad_monitoring",
            "DIR/bad.csv，第 8 行，列“预算数”：低于下限，值 '-3'，应为不小于 0 的数字",
            "DIR/bad.csv, row 8, column '预算数': got '-3', expected a number >= 0",
        ),
    ],
)
def test_bad_input_is_exit_2_with_a_located_message_in_both_languages(said, action, zh, en) -> None:
    """Each language alone: Chinese by default, English with --lang en."""
    for lang, located in (("zh", zh), ("en", en)):
        code, out, err = said[lang]["runs"][action]
        err = err.replace(str(said[lang]["dir"]), "DIR")
        assert code == 2 and out == "" and "Traceback" not in err
        assert located in err, err
        assert err.startswith("costperf：错误：" if lang == "zh" else "costperf: error: ")
        assert ("costperf: error" in err) == (lang == "en")


def test_every_record_column_has_a_chinese_header() -> None:
    """Each table as `records list` and `records export` show it under zh: every header
    Chinese, and the English reason columns left to --lang en."""
    import re

    import pandas as pd

    from costperf.columns import to_display
    from costperf.records import models
    from costperf.records.loop import _display_codes, record_view

    for table in models.metadata.sorted_tables:
        frame = pd.DataFrame(columns=[c.name for c in table.columns])
        zh = to_display(record_view(_display_codes(frame, "zh"), table.name, "zh"), "zh")
        english = [h for h in zh.columns if not re.search("[\u4e00-\u9fff]", str(h))]
        assert not english, (table.name, english)
        assert not {"核减理由（英文）", "理由（英文）"} & set(zh.columns), table.name
    runs = pd.DataFrame({"kind": ["run", "review", "proposals"]})
    assert record_view(runs, "runs", "zh")["运行类型"].tolist() == [
        "案例测算",
        "批量评审",
        "优化方案",
    ]


def test_record_ids_show_as_whole_numbers() -> None:
    """Found by an audit: a record id beside a blank (supersedes) showed as 5.0."""
    import pandas as pd

    from costperf.records.loop import _display_codes

    frame = pd.DataFrame(
        {"recommendation_id": [5.0, 11.0], "supersedes": [None, 5.0], "amount": [1.5, 2.0]}
    )
    shown = _display_codes(frame, "zh")
    assert shown["recommendation_id"].tolist() == [5, 11]
    assert shown["supersedes"].iloc[1] == 5 and pd.isna(shown["supersedes"].iloc[0])
    assert shown["amount"].tolist() == [1.5, 2.0]


@pytest.mark.parametrize(("lang", "word"), [("zh", "绩效监控"), ("en", "Monitoring")])
def test_a_flags_source_table_is_named_in_words(lang, word) -> None:
    """``records list flags``: the 来源表 of a flag reads 绩效监控 (Monitoring), not the
    store's table name monitoring_observations."""
    import pandas as pd

    from costperf.records.loop import shown_table

    frame = pd.DataFrame({"action_id": [1], "source_table": ["monitoring_observations"]})
    shown = shown_table(frame, "followup_actions", lang)
    assert word in shown.iloc[0].tolist()
