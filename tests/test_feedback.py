"""The feedback stages (pure): plan rates, monitoring flags, grades, the standing
evaluation, recommendations and the policies that state their rules."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costperf.errors import InputError
from costperf.feedback import (
    disagreements,
    graded,
    monitoring_flags,
    planned_rate,
    recommend,
    standing,
)
from costperf.feedback.inputs import EVALUATIONS, check_evaluations, check_monitoring
from costperf.feedback.policies import (
    load_evaluation_policy,
    load_feedback_policy,
    load_monitoring_policy,
)

MON = load_monitoring_policy()
EVAL = load_evaluation_policy()
FEED = load_feedback_policy()


def test_the_plan_is_the_elapsed_share_of_the_year() -> None:
    days = pd.Series(["2026-01-01", "2026-06-30", "2024-06-30", "2026-12-31"])
    assert planned_rate(days).tolist() == pytest.approx([1 / 365, 181 / 365, 182 / 366, 1.0])


def _obs(**columns) -> pd.DataFrame:
    frame = pd.DataFrame(columns)
    frame["checkpoint"] = pd.to_datetime(frame["checkpoint"])
    return frame


def test_slow_execution_and_target_deviation_state_their_numbers() -> None:
    obs = _obs(
        project_id=["A", "B", "C", "D"],
        checkpoint=["2026-06-30", "2026-12-31", "2026-12-31", "2026-06-30"],
        budget=[1_000_000.0, 500_000.0, 0.0, 100.0],
        executed=[200_000.0, 400_000.0, 0.0, 40.0],
        indicator=["面积", "面积", "面积", "户数"],
        target=[60_000.0, 10.0, 10.0, 1000.0],
        actual=[12_000.0, 6.0, 10.0, 297.0],
    )
    flags = monitoring_flags(obs, MON)
    got = flags[["project_id", "flag"]].values.tolist()
    # B: 100% planned, 80% executed: exactly 20 points behind is not "more than" 20;
    # its attainment 6/10 = 60% of the plan is not below 60%.  C has no budget.
    # D: attainment 29.7% / 49.59% = 59.9% < 60%; executed 40% is 9.6 points behind.
    assert got == [["A", "slow_execution"], ["A", "target_deviation"], ["D", "target_deviation"]]
    slow = flags.iloc[0]
    assert slow["planned_rate"] == pytest.approx(181 / 365)
    assert slow["actual_rate"] == pytest.approx(0.2)
    assert slow["gap"] == pytest.approx(181 / 365 - 0.2)
    assert slow["amount"] == 295_890.41  # 1,000,000 x (0.4958904 - 0.2), to the fen
    assert slow["proposed_action"] == "recover_or_reallocate"
    assert "295,890.41" in slow["reason_zh"] and "20个百分点" in slow["reason_zh"]
    dev = flags.iloc[1]
    assert dev["actual_rate"] == pytest.approx(0.2)
    assert dev["attainment_of_plan"] == pytest.approx(0.2 / (181 / 365))
    assert pd.isna(dev["amount"]) and dev["indicator"] == "面积"
    assert flags["source"].tolist() == [0, 0, 3]


def test_monitoring_reasons_in_both_languages() -> None:
    obs = _obs(project_id=["A"], checkpoint=["2026-06-30"], budget=[1_000_000.0],
               executed=[200_000.0], indicator=["面积"], target=[60_000.0], actual=[12_000.0])  # fmt: skip
    slow, deviation = monitoring_flags(obs, MON).to_dict("records")
    assert slow["reason_zh"] == (
        "截至2026-06-30执行率20.0%（执行数200,000.00元/预算数1,000,000.00元），序时进度49.6%，"
        "落后29.6个百分点，超过20个百分点；建议收回或调剂预计无法支出的资金295,890.41元（预算数×差距）"
    )
    assert slow["reason_en"] == (
        "by 2026-06-30 executed 20.0% (200,000.00 of 1,000,000.00 yuan) against a plan of 49.6%: "
        "29.6 points behind (more than 20); recover or re-allocate 295,890.41 yuan (budget x gap)"
    )
    assert deviation["reason_zh"] == (
        "截至2026-06-30「面积」累计完成12,000，年度目标60,000，完成率20.0%，为序时目标（49.6%）的40.3%，"
        "低于60%；建议调整绩效目标或暂缓执行"
    )
    assert deviation["reason_en"] == (
        "by 2026-06-30 '面积' reached 12,000 of an annual target of 60,000 (20.0%), 40.3% of the "
        "time-proportional target (49.6%), below 60%: adjust the targets or suspend"
    )


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        (100, "优"),
        (90, "优"),
        (89.5, "良"),
        (80, "良"),
        (79.99, "中"),
        (60, "中"),
        (59.9, "差"),
        (0, "差"),
    ],
)
def test_grades_by_score(score: float, grade: str) -> None:
    frame = pd.DataFrame({"score": [score]})
    assert graded(frame, EVAL)["grade"].iloc[0] == grade


def test_grades_are_configurable(tmp_path) -> None:
    rules = tmp_path / "grades.toml"
    rules.write_text(
        '[[grade]]\ngrade = "A"\nmin_score = 85\n[[grade]]\ngrade = "B"\nmin_score = 0\n',
        encoding="utf-8",
    )
    policy = load_evaluation_policy(rules)
    assert graded(pd.DataFrame({"score": [85, 84.9]}), policy)["grade"].tolist() == ["A", "B"]


def _evals() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "project_id": ["E", "E", "F", "F"],
            "year": [2026, 2026, 2026, 2026],
            "kind": ["self", "key", "self", "key"],
            "score": [92.0, 85.0, 81.0, 88.0],
        }
    )
    return graded(frame, EVAL)


def test_the_key_evaluation_stands_and_a_different_grade_is_reported() -> None:
    stood = standing(_evals(), EVAL)
    assert stood[["project_id", "kind", "score"]].values.tolist() == [
        ["E", "key", 85.0],
        ["F", "key", 88.0],
    ]
    found = disagreements(_evals(), EVAL)
    assert len(found) == 1  # F: self 81 and key 88 are both 良
    row = found.iloc[0]
    assert (row["project_id"], row["grade"], row["other_grade"], row["gap"]) == (
        "E",
        "良",
        "优",
        7.0,
    )
    assert row["source"] == 1  # the key evaluation's position
    assert "以财政重点评价结果为准" in row["reason_zh"]


def _scenario():
    decisions = pd.DataFrame(
        {
            "project_id": ["A", "A", "B", "C", "D", "E", "F", "G"],
            "year": [2025, 2026, 2026, 2026, 2026, 2026, 2026, 2026],
            "department": ["D1", "D1", "D1", "D1", "D2", "D2", "D2", "D1"],
            "approved": [1e6, 1e6, 2e6, 5e5, 8e5, 3e5, 4e5, 6e5],
        }
    )
    evals = graded(
        pd.DataFrame(
            {
                "project_id": ["A", "A", "B", "C", "D", "E", "E", "G"],
                "year": [2025, 2026, 2026, 2026, 2026, 2026, 2026, 2026],
                "kind": ["key", "key", "self", "self", "self", "self", "key", "key"],
                "score": [55, 50, 58, 59.5, 75, 92, 85, 95],
                "target_attainment": [None, None, 0.4, 0.8, None, None, None, None],
                "evaluation_id": range(1, 9),
            }
        ),
        EVAL,
    )
    execution = pd.DataFrame(
        {
            "project_id": list("ABCDEFG"),
            "year": [2026] * 7,
            "execution_rate": [0.9, 0.95, 0.9, 0.6, 0.75, 0.95, 1.0],
        }
    )
    return decisions, evals, execution


def test_recommendations_of_the_feedback_table() -> None:
    recs = recommend(2027, *_scenario(), FEED, EVAL)
    got = recs.set_index("project_id")
    assert got["recommendation"].to_dict() == {
        "A": "cancel",  # 差 in 2025 and 2026
        "B": "cancel",  # 差 with attainment 40% < 50%
        "C": "reduce",  # 差: 30%
        "D": "improve",  # 中: 10%, but execution 60%: the unspent 40% is larger
        "E": "reduce",  # the key 良 stands: maintain, but execution 75%: 25%
        "F": "maintain",  # unevaluated
        "G": "prioritise",  # 优
    }
    assert got["cut_rate"].tolist() == pytest.approx([1.0, 1.0, 0.3, 0.4, 0.25, 0.0, 0.0])
    assert got["next_year_amount"].tolist() == [
        0.0,
        0.0,
        350_000.0,
        480_000.0,
        225_000.0,
        400_000.0,
        600_000.0,
    ]
    assert got["effect"].sum() == -3_545_000.0
    assert got.loc["F", "flags"] == "unevaluated"
    assert got.loc["D", "flags"] == "low_execution"
    assert got.loc["A", "rule"] == "poor_twice"
    assert got.loc["E", "grade"] == "良" and got.loc["E", "rule"] == "good+low_execution"
    assert got["base_year"].tolist() == [2026] * 7
    assert "基数800,000.00元" in got.loc["D", "reasons"]
    assert got.loc["D", "reasons"] == (
        "2026年度自评75分（中）：规则“评价为中”，改进管理并压减10%；"
        "2026年度年末执行率60.0%，低于80%，按未执行比例40.0%压减（取较大者）；"
        "基数800,000.00元（2026年度审定数）×（1−40.0%）= 480,000.00元，影响-320,000.00元"
    )
    assert got.loc["D", "reasons_en"] == (
        "2026 self-evaluation 75 (fair): rule 'graded fair', improve 10%; year-end execution 60.0% in "
        "2026, below 80%: cut by the unspent share 40.0% (the larger cut); base 800,000.00 yuan "
        "(2026 approved) x (1 - 40.0%) = 480,000.00 yuan, effect -320,000.00"
    )
    # a cut of 0 or 100% reads in the action's Chinese words alone; the previous grade
    assert got.loc["A", "reasons"].startswith(
        "2026年度财政重点评价50分（差），上年度差：规则“连续两年评价为差”，取消预算；"
    )
    assert got.loc["A", "reasons_en"].startswith(
        "2026 key evaluation 50 (poor, previous year poor): rule 'poor two years running', cancel 100%; "
    )
    assert got.loc["F", "reasons"].startswith("无评价记录（未评价），保持；")
    assert got.loc["F", "reasons_en"].startswith(
        "no evaluation on record (unevaluated): maintained; "
    )


def test_the_base_is_the_approved_amount_of_the_year_evaluated() -> None:
    decisions, evals, execution = _scenario()
    evals = evals[evals["project_id"].eq("A") & evals["year"].eq(2025)]
    more = pd.DataFrame(
        {"project_id": ["A"], "year": [2025], "department": ["D1"], "approved": [7e5]}
    )
    decisions = pd.concat([decisions[decisions["year"] == 2026], more])
    rec = recommend(2027, decisions, evals, execution, FEED, EVAL, projects=["A"]).iloc[0]
    assert (rec["base_year"], rec["base"], rec["recommendation"]) == (2025, 7e5, "reduce")
    assert rec["next_year_amount"] == 490_000.0
    assert rec["flags"] == "no_year_end"


@settings(max_examples=60, deadline=None)
@given(
    score=st.floats(0, 100),
    rate=st.one_of(st.none(), st.floats(0, 1.2)),
    base=st.floats(0, 1e9),
    attainment=st.one_of(st.none(), st.floats(0, 1.5)),
)
def test_a_recommendation_never_raises_the_budget(score, rate, base, attainment) -> None:
    decisions = pd.DataFrame(
        {"project_id": ["P"], "year": [2026], "department": ["D"], "approved": [base]}
    )
    evals = graded(
        pd.DataFrame(
            {"project_id": ["P"], "year": [2026], "kind": ["key"], "score": [score],
             "target_attainment": [attainment], "evaluation_id": [1]}
        ),
        EVAL,
    )  # fmt: skip
    execution = pd.DataFrame(
        {"project_id": ["P"] * (rate is not None), "year": [2026] * (rate is not None),
         "execution_rate": [rate] * (rate is not None)}
    )  # fmt: skip
    rec = recommend(2027, decisions, evals, execution, FEED, EVAL).iloc[0]
    assert 0.0 <= rec["cut_rate"] <= 1.0
    assert 0.0 <= rec["next_year_amount"] <= base + 0.005
    assert rec["effect"] == pytest.approx(rec["next_year_amount"] - base, abs=0.011)
    if rate is not None and rate < 0.8:
        assert rec["cut_rate"] >= 1 - rate - 1e-12


def test_every_problem_of_a_rules_file_comes_at_once(tmp_path) -> None:
    """Found by an audit: an unknown key, max_gap = 1.5 and min_attainment = "sixty"
    came one per run; and a feedback file's cut_rate = 1.3 with min_rate = -1."""
    rules = tmp_path / "monitoring.toml"
    rules.write_text(
        '[slow_execution]\nmax_gap = 1.5\ncolour = "red"\n'
        '[target_deviation]\nmin_attainment = "sixty"\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        load_monitoring_policy(rules)
    assert sorted(caught.value.problems["column"]) == [
        "slow_execution.colour",
        "slow_execution.max_gap",
        "target_deviation.min_attainment",
    ]
    assert set(caught.value.problems["check"]) == {"config"}
    rules.write_text(
        "[[rule]]\nname = 'x'\nrecommendation = 'reduce'\ncut_rate = 1.3\n"
        "[execution]\nmin_rate = -1\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        load_feedback_policy(rules)
    assert sorted(caught.value.problems["column"]) == ["execution.min_rate", "rule 1.cut_rate"]


def test_policy_errors_name_the_file_and_key(tmp_path) -> None:
    rules = tmp_path / "monitoring.toml"
    rules.write_text("[slow_execution]\nmax_gap = 1.5\n", encoding="utf-8")
    with pytest.raises(
        InputError,
        match=r"monitoring.toml: \[slow_execution\] max_gap: expected a number in \[0, 1\]",
    ):
        load_monitoring_policy(rules)
    rules.write_text("[slow_execution]\nmax_gapp = 0.1\n", encoding="utf-8")
    with pytest.raises(InputError, match="max_gapp"):
        load_monitoring_policy(rules)
    rules.write_text(
        "[[rule]]\nname = 'x'\nrecommendation = 'drop'\ncut_rate = 0.1\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match=r"\[rule 1\] recommendation: expected one of cancel"):
        load_feedback_policy(rules)
    rules.write_text("x = [", encoding="utf-8")
    with pytest.raises(InputError, match="not a valid TOML file"):
        load_feedback_policy(rules)
    rules.write_text(
        '[[grade]]\ngrade = "A"\nmin_score = 50\n[[grade]]\ngrade = "B"\nmin_score = 60\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="from the highest min_score down"):
        load_evaluation_policy(rules)


def test_monitoring_rows_are_checked_across_rows() -> None:
    raw = pd.DataFrame(
        {
            "project_id": ["A", "A", "A", "B"],
            "checkpoint": ["2026-06-30", "2026/6/30", "2026年13月1日", "2026-06-30"],
            "budget": [100.0, 120.0, 100.0, 100.0],
            "executed": [10.0, 10.0, 10.0, 10.0],
            "indicator": ["x", "y", "x", "x"],
            "target": [1.0] * 4,
            "actual": [1.0] * 4,
            "source_row": [2, 3, 4, 5],
        }
    )
    rows, problems = check_monitoring(raw)
    assert rows["year"].tolist()[:2] == [2026, 2026]
    found = problems[["source_row", "column", "check"]].values.tolist()
    assert found == [
        [4, "checkpoint", "bad_date"],
        [2, "budget", "inconsistent"],
        [3, "budget", "inconsistent"],
    ]


def test_evaluation_rows_are_checked() -> None:
    raw = pd.DataFrame(
        {
            "project_id": ["A", "B", "C", "C"],
            "year": [2026.0, 2026.0, 2026.5, 2026.0],
            "score": [101.0, 80.0, 70.0, 70.0],
            "evaluation_kind": ["自评", "外部评价", "重点评价", "财政重点评价"],
            "target_attainment": [0.8, 85.0, None, None],
            "source_row": [2, 3, 4, 5],
        }
    )
    typed, typing = EVALUATIONS.validate(raw)  # as `records import-evaluation` reads
    rows, problems = check_evaluations(typed, EVAL)
    problems = pd.concat([typing, problems], ignore_index=True)
    assert rows["kind"].fillna("?").tolist() == ["self", "?", "key", "key"]
    found = sorted(problems[["source_row", "column", "check"]].values.tolist())
    assert found == [
        [2, "score", "above_maximum"],
        [3, "evaluation_kind", "not_allowed"],
        [3, "target_attainment", "above_maximum"],
        [4, "year", "not_whole"],
    ]


def test_rederive_units_without_a_dimension_column_are_excluded_not_a_crash() -> None:
    """Found by an audit: decisions recorded without 道路等级 crashed (KeyError); every
    unit is excluded, with its reason, and the message reads in Chinese."""
    from costperf.columns import expected_label
    from costperf.feedback.rederive import actual_units

    decisions = pd.DataFrame(
        {"project_id": ["P1"], "class_of_matter": ["环卫保洁"], "year": [2027], "record_id": [1]}
    )
    observations = pd.DataFrame(
        {
            "observation_id": [1],
            "project_id": ["P1"],
            "year": [2027],
            "checkpoint": ["2027-12-31"],
            "budget": [1000.0],
            "executed": [900.0],
            "indicator": ["保洁面积"],
            "actual": [100.0],
        }
    )
    units, excluded = actual_units(
        decisions, observations, class_of_matter="环卫保洁", year=2027, output="保洁面积",
        dims=["road_grade"],
    )  # fmt: skip
    assert units.empty and "road_grade" in units.columns
    assert excluded.values.tolist() == [["P1", "未记录道路等级", "no road_grade recorded"]]
    from costperf.records.loop import shown_table  # rederive-excluded.csv, in Chinese

    assert shown_table(excluded, "", "zh").to_dict("list") == {
        "项目编码": ["P1"],
        "剔除理由": ["未记录道路等级"],
    }
    text = (
        "no completed 环卫保洁 project of 2027 with recorded actual cost and output ('保洁面积') "
        "in r.sqlite (P1: no road_grade recorded)"
    )
    assert expected_label(text, "zh") == (
        "r.sqlite 中没有 2027 年已完成且记录了实际成本和产出（'保洁面积'）的环卫保洁项目"
        "（P1：未记录道路等级）"
    )


def test_an_executed_amount_above_the_budget_is_located() -> None:
    """Found by trying the loop with bad input: 执行数 30,000 of a 22,120 budget (a row in
    the wrong unit) was recorded as an execution rate of 135 %, so never slow."""
    raw = pd.DataFrame(
        {
            "project_id": ["A", "B"],
            "checkpoint": ["2026-06-30", "2026-06-30"],
            "budget": [22_120.0, 100.0],
            "executed": [30_000.0, 100.0],
            "indicator": ["x", "x"],
            "target": [1.0, 1.0],
            "actual": [1.0, 1.0],
            "source_row": [2, 3],
        }
    )
    _, problems = check_monitoring(raw)
    assert problems[["source_row", "column", "check"]].values.tolist() == [
        [2, "executed", "above_maximum"]
    ]
