"""The feedback loop through the CLI (in-process): monitoring, evaluation, feedback,
rederive, list/show/export and the year-over-year view, on SQLite and PostgreSQL.

The history (hand-checked): seven projects of two departments; A was approved 1,000,000
yuan in 2025 and 2026, B..G once in 2026; monitoring at mid-year and year-end 2026;
evaluations of 2025 and 2026 (E has a self-evaluation 92 and a key evaluation 85).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from conftest import read_problems
from costperf.cli import main
from costperf.records import find_batch, read_records
from costperf.records.loop import shown_table
from records_helpers import BACKENDS, EVALUATIONS, MONITORING, batches, store_target

DATA = Path(__file__).parent / "data"


@pytest.fixture(params=BACKENDS)
def loop(request, tmp_path):
    with store_target(request.param, tmp_path) as store:
        (tmp_path / "mon.csv").write_text(MONITORING, encoding="utf-8")
        (tmp_path / "eval.csv").write_text(EVALUATIONS, encoding="utf-8")
        yield {"store": str(store), "dir": tmp_path, "batches": batches(store)}


def cli(*args: object) -> int:
    return main([str(a) for a in args])


def test_batches_are_found_again_by_inputs_standards_and_parameters(loop) -> None:
    store = loop["store"]
    assert find_batch(store, "books-2026", ["hw-uc@1"], {"tolerance": 0.0}) == loop["batches"][1]
    assert find_batch(store, "books-2026", ["hw-uc@2"], {"tolerance": 0.0}) is None
    assert find_batch(store, "books-2026", ["hw-uc@1"], {"tolerance": 0.1}) is None
    lines = read_records(store, "review_lines", run_id=loop["batches"][1])
    assert lines["line_no"].tolist() == [1] * 7
    assert lines["standard_id"].unique().tolist() == ["hw-uc"]
    assert lines["quantity"].tolist() == [2.0] * 7
    projects = read_records(store, "review_projects", run_id=loop["batches"][1])
    assert projects["reason_zh"].iloc[0] == "超过单位成本标准"
    assert projects["extra"].iloc[0] == '{"road_grade": "一级"}'
    assert projects["manual_review"].tolist() == [0] * 7


def test_the_whole_loop(loop, capsys) -> None:
    store, folder = loop["store"], loop["dir"]
    out = folder / "out"
    out.mkdir(exist_ok=True)  # an earlier failed import left its problems table here
    (out / "problems.csv").write_text("stale", encoding="utf-8")
    monitoring = ["records", "import-monitoring", folder / "mon.csv", "--records", store]
    assert cli(*monitoring, "--out", out, "--lang", "en") == 0
    assert not (out / "problems.csv").exists()  # it described input since fixed
    flags = pd.read_csv(out / "monitoring_flags.csv", encoding="utf-8-sig")
    assert list(flags.columns[:8]) == ["project_id", "checkpoint", "flag", "planned_rate",
                                       "actual_rate", "gap", "proposed_action", "amount"]  # fmt: skip
    assert flags[["project_id", "flag", "amount"]].fillna(0).values.tolist() == [
        ["A", "slow_execution", 295_890.41],
        ["A", "target_deviation", 0],
        ["D", "slow_execution", 320_000.0],  # 800,000 x (100% - 60%)
        ["E", "slow_execution", 75_000.0],  # 300,000 x (100% - 75%)
    ]
    assert cli("records", "import-monitoring", folder / "mon.csv", "--records", store) == 0
    assert "未重复记录" in capsys.readouterr().out
    observations = read_records(store, "monitoring_observations")
    assert len(observations) == 9 and observations["note"].iloc[0] == "二季度进度偏慢"
    recorded = read_records(store, "followup_actions")
    assert recorded["flag"].tolist() == flags["flag"].tolist()
    assert recorded["amount"].fillna(0).tolist() == pytest.approx(
        flags["amount"].fillna(0).tolist()
    )

    assert cli("records", "import-evaluation", folder / "eval.csv", "--records", store) == 0
    said = capsys.readouterr().out
    assert "财政重点评价85分（良）与自评92分（优）不一致" in said
    evals = read_records(store, "evaluation_results")
    assert evals["grade"].tolist() == ["差", "差", "差", "差", "中", "优", "良", "优"]
    assert read_records(store, "followup_actions")["flag"].iloc[-1] == "evaluation_disagreement"
    shown_flags = shown_table(read_records(store, "followup_actions"), "followup_actions", "zh")
    listed = shown_flags.to_csv()  # the rules re-stated in Chinese from flag and threshold
    assert "执行进度偏慢：序时进度−执行率＞20个百分点" in listed
    assert "绩效目标偏离：累计完成值÷（年度目标×序时进度）＜60%" in listed
    assert "采信顺序：财政重点评价 > 第三方评价 > 自评" in listed and "standing:" not in listed

    assert cli("records", "feedback", "--year", 2027, "--records", store, "--out", out) == 0
    shown = pd.read_csv(out / "recommendations.csv", encoding="utf-8-sig")  # in Chinese
    assert list(shown.columns[:4]) == ["项目编码", "预算部门", "基数", "下年度预算建议"]
    assert shown["下年度预算建议"].tolist()[:3] == ["取消预算", "取消预算", "压减预算"]
    assert "reasons_en" not in shown and "recommendation" not in shown
    # rule names in Chinese (labels.csv feedback_rule), in the column and in the reason
    assert shown["审核规则"].tolist()[:2] == ["连续两年评价为差", "评价为差且目标完成率低"]
    assert "规则“连续两年评价为差”" in shown["理由"].iloc[0]
    assert cli("records", "feedback", "--year", 2027, "--records", store, "--out", out / "en",
               "--lang", "en") == 0  # fmt: skip
    recs = pd.read_csv(out / "en" / "recommendations.csv", encoding="utf-8-sig")
    recs = recs.set_index("project_id")
    assert recs["recommendation"].tolist() == ["cancel", "cancel", "reduce", "improve", "reduce",
                                               "maintain", "prioritise"]  # fmt: skip
    assert recs["next_year_amount"].tolist() == [0, 0, 350_000, 480_000, 225_000, 400_000, 600_000]
    assert recs["effect"].sum() == -3_545_000
    assert recs.loc["F", "flags"] == "unevaluated"
    assert recs["department"].tolist() == ["D1", "D1", "D1", "D2", "D2", "D2", "D1"]
    stored = read_records(store, "recommendations", current=True)
    assert stored["next_year_amount"].sum() == 2_055_000
    # each base is traced to the decision record it was read from (run_id:project_id)
    reviewed = read_records(store, "review_projects").set_index(["run_id", "project_id"])
    for row in stored.itertuples():
        run_id, project = row.base_record.split(":", 1)
        assert project == row.project_id
        assert reviewed.loc[(run_id, project), "approved"] == row.base
    assert recs["base_record"].notna().all()
    book = openpyxl.load_workbook(out / "recommendations-2027.xlsx", read_only=True)
    header = [c.value for c in next(book.worksheets[0].iter_rows(min_row=3, max_row=3))]
    assert header[:4] == ["项目编码", "预算部门", "基数", "下年度预算建议"]
    assert cli("records", "feedback", "--year", 2027, "--records", store, "--out", out) == 0
    assert len(read_records(store, "recommendations")) == 7  # the same inputs: not again


def test_rederive_history_list_show_export(tmp_path, capsys) -> None:
    """The reading commands (backend-independent: SQLite only)."""
    store, folder, out = str(tmp_path / "r.sqlite"), tmp_path, tmp_path / "out"
    ids = batches(store)
    (folder / "mon.csv").write_text(MONITORING, encoding="utf-8")
    (folder / "eval.csv").write_text(EVALUATIONS, encoding="utf-8")
    for args in (
        ("import-monitoring", folder / "mon.csv"),
        ("import-evaluation", folder / "eval.csv"),
        ("feedback", "--year", 2027, "--out", out),
    ):
        assert cli("records", *args, "--records", store) == 0
    capsys.readouterr()
    assert cli("records", "rederive", "--class", "环卫保洁", "--year", 2026, "--records", store,
               "--out", out, "--standards", DATA / "standards-in-force") == 0  # fmt: skip
    said = capsys.readouterr().out
    # unit costs 15, 19, 15, 12, 15, 19, 15 yuan/m2: median 15; v1 had 16.49
    assert "一级：15.00 元/m2（7 个项目）" in said
    assert "standards diff hw-uc@1 -> hw-uc@2" in said and "16.49 → 15.00（-9.0%）" in said
    table = pd.read_csv(out / "standards" / "hw-uc-v2.csv", encoding="utf-8-sig")
    assert table[["value", "lower", "upper"]].values.tolist() == [[15.0, 15.0, 17.0]]
    used = read_records(store, "standards_used")
    assert used["value"].iloc[-1] == 15.0 and "decision_records" in used["provenance"].iloc[-1]
    recorded = json.loads(used["provenance"].iloc[-1])
    assert recorded["published_table"] == "hw-uc@2" and recorded["value_exact"] == 15.0
    runs = len(read_records(store, "runs"))  # the same derivation again: recorded once
    assert cli("records", "rederive", "--class", "环卫保洁", "--year", 2026, "--records", store,
               "--out", out / "again", "--standards", DATA / "standards-in-force") == 0  # fmt: skip
    assert "未重复记录" in capsys.readouterr().out
    assert len(read_records(store, "runs")) == runs
    assert len(read_records(store, "standards_used")) == len(used)

    assert cli("records", "history", "--records", store, "--out", out) == 0
    by_department = pd.read_excel(
        out / "history.xlsx", sheet_name="按部门", skiprows=2, engine="openpyxl"
    )
    d1 = by_department[by_department["预算部门"] == "D1"].set_index("年度")
    assert d1.loc[2026, "审定数"] == 4_100_000  # A + B + C + G
    assert d1.loc[2026, "下年度建议数"] == 950_000  # 0 + 0 + 350,000 + 600,000
    assert (out / "history.html").read_text(encoding="utf-8").count("data:image/png") == 3

    assert cli("records", "list", "recommendations", "--department", "D2", "--records", store) == 0
    listed = capsys.readouterr().out
    assert "改进管理并压减" in listed and "（共 3 行）" in listed
    # found by an audit: a negative --limit was accepted (head(-5): all but the last 5)
    assert cli("records", "list", "recommendations", "--limit", -5, "--records", store) == 2
    assert "--limit：应为 0（全部行）或行数，实际为 -5" in capsys.readouterr().err
    assert cli("records", "show", ids[0], "--records", store) == 0
    assert "输入哈希：books-2025" in capsys.readouterr().out
    assert (
        cli("records", "export", "-o", out / "export.xlsx", "--year", 2026, "--records", store) == 0
    )
    sheets = openpyxl.load_workbook(out / "export.xlsx", read_only=True).sheetnames
    assert sheets == [
        "运行",
        "项目审核结论",
        "明细审核结论",
        "所用标准",
        "绩效监控",
        "预警与措施",
        "绩效评价",
    ]


def test_a_corrected_observation_supersedes_the_old_one(loop) -> None:
    store, folder = loop["store"], loop["dir"]
    assert cli("records", "import-monitoring", folder / "mon.csv", "--records", store) == 0
    fixed = folder / "fixed.csv"
    fixed.write_text(MONITORING.replace("D,2026-12-31,800000,480000", "D,2026-12-31,800000,700000"),
                     encoding="utf-8")  # fmt: skip
    assert cli("records", "import-monitoring", fixed, "--records", store) == 0
    every = read_records(store, "monitoring_observations")
    assert len(every) == 18  # nothing changed or deleted
    now = read_records(store, "monitoring_observations", current=True)
    assert len(now) == 9
    d = now[now["project_id"] == "D"].iloc[0]
    assert d["executed"] == 700_000 and d["supersedes"] == every["observation_id"].iloc[5]


def test_bad_monitoring_rows_are_located_and_nothing_is_recorded(loop, capsys) -> None:
    store, folder = loop["store"], loop["dir"]
    bad = folder / "bad.csv"
    bad.write_text(MONITORING.replace("2026-12-31,800000", "2026-13-31,800000").replace(
        "E,2026-12-31,300000,225000", "E,2026-12-31,-3,225000"), encoding="utf-8")  # fmt: skip
    before = read_records(store, "runs")
    assert (
        cli(
            "--problems",
            folder / "p.csv",
            "records",
            "import-monitoring",
            bad,
            "--records",
            store,
            "--lang",
            "en",
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "bad.csv, row 7, column '执行数'" not in err  # the row of the bad budget is 8
    assert "row 8, column '预算数'" in err and "row 7, column '监控时点'" in err
    pd.testing.assert_frame_equal(read_records(store, "runs"), before)


def test_an_unknown_class_names_the_rules_file(loop, capsys) -> None:
    code = cli("records", "rederive", "--class", "绿化养护", "--year", 2026, "--records",
               loop["store"], "--out", loop["dir"] / "o", "--lang", "en")  # fmt: skip
    assert code == 2
    assert 'policies/rederive.toml: no [classes."绿化养护"]' in capsys.readouterr().err


def test_feedback_of_an_empty_store_is_refused(tmp_path, capsys) -> None:
    store = tmp_path / "none.sqlite"
    assert (
        cli(
            "records",
            "feedback",
            "--year",
            2027,
            "--records",
            store,
            "--out",
            tmp_path,
            "--lang",
            "en",
        )
        == 2
    )
    assert "no record store there yet" in capsys.readouterr().err
    assert not store.exists()


def test_a_failed_import_leaves_the_sqlite_store_byte_for_byte(tmp_path) -> None:
    store = tmp_path / "r.sqlite"
    batches(store)
    digest = hashlib.sha256(store.read_bytes()).hexdigest()
    bad = tmp_path / "bad.csv"
    bad.write_text("项目编码,年度,评价得分,评价类型\nA,2026,150,自评\n", encoding="utf-8")
    assert (
        cli(
            "--problems",
            tmp_path / "p.csv",
            "records",
            "import-evaluation",
            bad,
            "--records",
            store,
        )
        == 2
    )
    assert "above_maximum" in set(read_problems(tmp_path / "p.csv")["check"])
    assert hashlib.sha256(store.read_bytes()).hexdigest() == digest


def test_the_funds_to_recover_are_a_projects_latest_gap_not_a_sum(tmp_path, capsys) -> None:
    """Found by an audit: three slow checkpoints of one 1,000,000 project summed to
    1,243,835.62 to recover, more than the budget; it is the latest gap, 12-31: planned
    100 %, executed 50 %: 500,000."""
    data = tmp_path / "m.csv"
    data.write_text(
        "项目编码,监控时点,预算数,执行数,指标名称,年度目标值,累计完成值\n"
        "P1,2026-06-30,1000000,200000,保洁面积,100,50\n"
        "P1,2026-09-30,1000000,300000,保洁面积,100,75\n"
        "P1,2026-12-31,1000000,500000,保洁面积,100,100\n"
        "P2,2026-12-31,200000,150000,保洁面积,100,100\n",
        encoding="utf-8",
    )
    store = tmp_path / "r.sqlite"
    assert cli("records", "import-monitoring", data, "--records", store, "--lang", "en") == 0
    out = capsys.readouterr().out
    # P2: 12-31 planned 100 %, executed 75 %: 25 points > 20, 50,000
    assert "slow execution 4 (recover or re-allocate 550,000.00 yuan)" in out
    import json

    summary = json.loads(read_records(store, "runs")["summary"].iloc[-1])
    assert summary == {"flags": {"slow_execution": 4}, "amount": 550_000.0}


def test_a_corrected_observation_takes_its_flag_with_it(tmp_path) -> None:
    """Found by an audit: P1 reported 500,000 of 1,000,000 at 12-31 (slow), then corrected
    to 1,000,000: the observation was superseded but its flag stayed current."""
    head = "项目编码,监控时点,预算数,执行数,指标名称,年度目标值,累计完成值\n"
    first, fixed = tmp_path / "m1.csv", tmp_path / "m1_fix.csv"
    first.write_text(head + "P1,2026-12-31,1000000,500000,保洁面积,100,100\n", encoding="utf-8")
    fixed.write_text(head + "P1,2026-12-31,1000000,1000000,保洁面积,100,100\n", encoding="utf-8")
    store = tmp_path / "r.sqlite"
    assert cli("records", "import-monitoring", first, "--records", store) == 0
    assert len(read_records(store, "followup_actions", current=True)) == 1
    assert cli("records", "import-monitoring", fixed, "--records", store) == 0
    assert read_records(store, "followup_actions", current=True).empty
    assert len(read_records(store, "followup_actions")) == 1  # kept in the history
    again = tmp_path / "m1_again.csv"  # slow once more: the new observation's flag only
    again.write_text(head + "P1,2026-12-31,1000000,600000,保洁面积,100,100\n", encoding="utf-8")
    assert cli("records", "import-monitoring", again, "--records", store) == 0
    flags = read_records(store, "followup_actions", current=True)
    assert flags["amount"].tolist() == [400_000.0]


def test_an_id_the_store_never_reviewed_is_refused(loop, capsys, monkeypatch) -> None:
    """Found by an audit: an evaluation of the mistyped SQ-QP-2026-02 was stored (exit 0)
    and the feedback then cancelled a project that does not exist; once the store holds
    reviews, an unknown project id is a located error and nothing is stored."""
    store, folder = loop["store"], loop["dir"]
    monkeypatch.chdir(folder)  # the problems table of a refused import: not in the checkout
    typo = folder / "eval_typo.csv"
    typo.write_text("项目编码,年度,评价得分,评价类型\nA,2026,80,自评\nX9,2026,40,自评\n", "utf-8")
    before = len(read_records(store, "evaluation_results"))
    assert cli("records", "import-evaluation", typo, "--records", store, "--lang", "en") == 2
    err = capsys.readouterr().err
    assert "eval_typo.csv, row 3, column '项目编码': got 'X9', expected a project_id of a " in err
    assert len(read_records(store, "evaluation_results")) == before
    mon = folder / "mon_typo.csv"
    mon.write_text(
        "项目编码,监控时点,预算数,执行数,指标名称,年度目标值,累计完成值\n"
        "Z1,2026-12-31,100,50,保洁面积,10,10\n",
        encoding="utf-8",
    )
    assert cli("records", "import-monitoring", mon, "--records", store) == 2
    assert "项目编码不存在，值 'Z1'" in capsys.readouterr().err


def test_listed_decisions_are_the_latest_batch_of_each_project(tmp_path, capsys) -> None:
    """Found by an audit: records list decisions showed every batch's rows as current,
    while the feedback reads a project's latest batch of the year; --all shows both."""
    from costperf.records.loop import list_records

    book = tmp_path / "book"
    book.mkdir()
    (book / "projects.csv").write_text("项目编码,预算部门,年度\nP1,区财政局,2027\n", "utf-8")
    (book / "targets.csv").write_text(
        "项目编码,指标类别,指标名称,单位,目标值\nP1,产出-数量,次数,次,1\n", "utf-8"
    )
    store = tmp_path / "r.sqlite"
    for amount in (1000, 1200):  # the request revised: a second batch
        (book / "lines.csv").write_text(
            f"项目编码,序号,经济分类科目,明细名称,申报数\nP1,1,30201,办公用品,{amount}\n", "utf-8"
        )
        args = ["review", book, "--date", "2027-03-01", "--records", store]
        assert cli(*args, "--out", tmp_path / f"o{amount}") == 0
    current = list_records(store, "review_projects", {})
    assert current["requested"].tolist() == [1200.0]
    assert list_records(store, "review_lines", {})["requested"].tolist() == [1200.0]
    everything = list_records(store, "review_projects", {}, current=False)
    assert everything["requested"].tolist() == [1000.0, 1200.0]


def test_rederived_values_are_recorded_as_the_table_states_them() -> None:
    """Found by an audit: the record held 15.231086 while the draft table said 15.23."""
    from types import SimpleNamespace

    from costperf.records.loop import _rederived_rows

    standard = pd.DataFrame(
        {"standard_id": ["HW-UC"], "version": ["2027.2"], "dims": ["一级"],
         "value": [15.231086], "lower": [12.004999], "upper": [np.nan],
         "method": ["median"], "peers_used": ["A;B"], "peers_excluded": [""],
         "data_hash": ["h"]}
    )  # fmt: skip
    derivation = SimpleNamespace(standard=standard, table=SimpleNamespace(ref="hw-uc@2"),
                                 rule="median")  # fmt: skip
    units = pd.DataFrame({"project_id": ["A", "B"], "record_id": [1, 2],
                          "observation_id": [10, 11]})  # fmt: skip
    rows = _rederived_rows(derivation, units)
    assert rows["value"].tolist() == [15.23]
    provenance = json.loads(rows["provenance"].iloc[0])
    assert provenance["value_exact"] == 15.231086 and provenance["lower"] == 12.0
    assert provenance["published_table"] == "hw-uc@2"
    assert provenance["decision_records"] == [1, 2] and provenance["observation_records"] == [
        10,
        11,
    ]


def test_a_rederived_table_without_a_name_is_named_after_its_class(tmp_path) -> None:
    from costperf.records.loop import _rederive_settings

    rules = tmp_path / "rederive.toml"
    rules.write_text('[classes."绿化养护"]\noutput = "养护面积"\n', encoding="utf-8")
    settings, _, _ = _rederive_settings(rules, "绿化养护")
    assert settings["name"] == "绿化养护单位成本标准"
