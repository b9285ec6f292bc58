"""The run as named steps: the same stage functions behind the run and the commands,
all problems of a run at once, and a derivation rule added in one place."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import read_problems
from costperf.case import load_case
from costperf.cli import main
from costperf.columns import code_label
from costperf.errors import Check, InputError
from costperf.pipeline import STEPS, analyse, load_case_data, steps_named
from costperf.standards.derive import (
    DeriveRule,
    derive_rules,
    get_rule,
    register,
    rule_names,
    rule_values,
)
from costperf.standards.derive.result import base_hash_columns
from costperf.standards.derive.rules import RuleSpec

REPO = Path(__file__).resolve().parents[1]
CASE = REPO / "cases" / "sanitation-5-districts"


@pytest.fixture(scope="module")
def case_run():
    config = load_case(CASE)
    data = load_case_data(config)
    return config, data, analyse(config, data)


def test_the_run_is_a_list_of_named_steps():
    assert [s.name for s in STEPS] == [
        "unit_costs",
        "derive",
        "publish",
        "cost_index",
        "gap",
        "regression",
        "frontier",
        "districts",
        "outliers",
        "review",
        "optimize",
    ]
    assert [s.name for s in steps_named("derive", "unit_costs")] == ["unit_costs", "derive"]
    with pytest.raises(ValueError, match="unknown step"):
        steps_named("nope")


def test_decompose_command_and_run_give_the_same_district_effects(case_run, tmp_path, capsys):
    """`costperf decompose --by road_grade --group district` calls the run's functions."""
    config, _, results = case_run
    units = results.units.drop(columns=["source_file", "sheet", "source_row"])
    path = tmp_path / "units.csv"
    units.to_csv(path, index=False)
    drivers = ",".join(config.gap.drivers)
    out = tmp_path / "gap.xlsx"
    status = main(
        ["decompose", str(path), "--target", "unit_cost", "--drivers", drivers,
         "--by", "road_grade", "--group", "district", "--scale", "0.0001",
         "--method", config.gap.method, "--lang", "en", "-o", str(out)]
    )  # fmt: skip
    assert status == 0, capsys.readouterr().err
    groups = pd.read_excel(out, sheet_name="Group means", engine="calamine")
    run = results.district_gap.set_index(["district", "driver"])["effect"]
    drivers_en = {config.label(d, "en"): d for d in config.gap.drivers}
    drivers_en[code_label("driver", "residual", "en")] = "residual"  # shown as a word
    mine = groups.assign(driver=groups[groups.columns[2]].map(drivers_en))
    mine = mine.set_index([groups.columns[0], "driver"])[groups.columns[3]]
    assert len(mine) == len(run) == 25
    np.testing.assert_allclose(mine.loc[run.index].to_numpy(), run.to_numpy(), rtol=1e-9)


def _break(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_one_broken_cell_in_each_of_three_files_is_listed_in_one_run(tmp_path, capsys):
    case = tmp_path / "case"
    shutil.copytree(CASE, case, ignore=shutil.ignore_patterns("generate.py", "optimize"))
    data = case / "data"
    lines = (data / "line_items.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[3].split(",")
    row[header.index("数量")] = "十二"  # text where a number belongs
    lines[3] = ",".join(row)
    (data / "line_items.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    projects = (data / "projects.csv").read_text(encoding="utf-8").splitlines()
    first = projects[1].split(",")
    projects.append(",".join(first))  # a duplicate project id
    (data / "projects.csv").write_text("\n".join(projects) + "\n", encoding="utf-8")
    requests = (data / "request_lines.csv").read_text(encoding="utf-8").splitlines()
    rheader = requests[0].split(",")
    rrow = requests[2].split(",")
    rrow[rheader.index("数量")] = "-3"  # a negative quantity
    requests[2] = ",".join(rrow)
    (data / "request_lines.csv").write_text("\n".join(requests) + "\n", encoding="utf-8")
    status = main(["run", str(case), "--out", str(tmp_path / "out"), "--lang", "en"])
    err = capsys.readouterr().err
    assert status == 2
    assert "line_items.csv, row 4, column '数量': got '十二', expected a number" in err
    assert f"projects.csv, row {len(projects)}, column '项目编码'" in err
    assert "request_lines.csv, row 3, column '数量': got '-3', expected a number >= 0" in err
    table = read_problems(tmp_path / "out" / "problems.csv")
    assert {"not_a_number", "duplicate_id", "below_minimum"} <= set(table["check"])
    assert set(table["check"]) <= {c.value for c in Check}


def test_problems_carry_codes_of_one_enumerated_set():
    from costperf.errors import located_error, make_problems

    assert make_problems([{"check": "zero_output"}])["check"].tolist() == ["zero_output"]
    with pytest.raises(ValueError, match="not a valid Check"):
        make_problems([{"check": "made up"}])
    with pytest.raises(ValueError, match="not a valid Check"):
        located_error("x", check="free text")


def test_every_check_code_has_both_labels():
    from costperf.columns import code_label

    for check in Check:
        assert code_label("check", check, "zh") != check.value, check
        assert code_label("check", check, "en") != check.value, check


def test_a_derivation_rule_is_one_registered_definition(case_run, tmp_path):
    """A trimmed mean, added by one register() call, is known to parsing, parameter
    checks, the case.toml keys, comparison and leave-one-out."""
    from costperf.standards.derive.sensitivity import refit_drop_grid

    def evaluate(units, dims, spec, params, digest):
        from costperf.standards.derive.quantile import peer_statistic_rule

        cut = float(params["trim"])
        trimmed = units.groupby(dims, group_keys=False)[list(units.columns)].apply(
            lambda c: c[c["unit_cost"].between(*c["unit_cost"].quantile([cut, 1 - cut]))]
        )
        median = RuleSpec("trimmed_mean", "mean")
        result = peer_statistic_rule(
            trimmed, dims, median, {**params, "outlier_rule": "none"}, digest
        )
        result.values["rule"] = spec.name
        return result

    rule = DeriveRule(
        kind="trimmed_mean",
        names=("trimmed_mean",),
        parse=lambda t: RuleSpec("trimmed_mean", "trimmed_mean") if t == "trimmed_mean" else None,
        evaluate=evaluate,
        hashed_columns=lambda units, dims, spec, params: base_hash_columns(units, dims, params),
        drop_grid=refit_drop_grid,
        is_local=lambda spec, params: True,
        params={"trim": 0.1},
    )
    register(rule)
    try:
        assert "trimmed_mean" in rule_names() and get_rule("trimmed_mean") is rule
        config, data, _ = case_run
        units = data.peer_units
        values = rule_values(units, ["road_grade"], "trimmed_mean", trim=0.2)
        grade = units[units["road_grade"] == "一级"]["unit_cost"]
        kept = grade[grade.between(*grade.quantile([0.2, 0.8]))]
        first = values.set_index("road_grade").loc["一级", "value"]
        assert first == pytest.approx(kept.mean(), rel=1e-12)
        toml = tmp_path / "case.toml"
        shutil.copytree(CASE, tmp_path / "c", ignore=shutil.ignore_patterns("generate.py"))
        toml = tmp_path / "c" / "case.toml"
        text = toml.read_text(encoding="utf-8").replace(
            'rule = "median"', 'rule = "trimmed_mean"\ntrim = 0.25\ncompare = ["median"]'
        )
        toml.write_text(text, encoding="utf-8")
        loaded = load_case(toml.parent)
        assert loaded.standard.rule == "trimmed_mean" and loaded.standard.params["trim"] == 0.25
        derived = analyse(loaded, load_case_data(loaded), steps=steps_named("unit_costs", "derive"))
        assert set(derived.derivation.sensitivity["rule"]) == {"trimmed_mean", "median"}
    finally:
        derive_rules().pop("trimmed_mean")


def test_config_numbers_out_of_range_are_located(tmp_path):
    shutil.copytree(CASE, tmp_path / "c", ignore=shutil.ignore_patterns("generate.py"))
    toml = tmp_path / "c" / "case.toml"
    for old, new, key in (
        ("scale = 10000", "scale = 0", "decomposition.scale"),
        ("adjust_elasticity = 1.0", "adjust_elasticity = inf", "review.adjust_elasticity"),
        ("amount_tolerance = 0.005", "amount_tolerance = nan", "units.amount_tolerance"),
    ):
        original = toml.read_text(encoding="utf-8")
        toml.write_text(original.replace(old, new), encoding="utf-8")
        with pytest.raises(InputError, match=rf"key '{key}': got .*, expected a finite number"):
            load_case(toml.parent)
        toml.write_text(original, encoding="utf-8")


def test_progress_is_silent_off_a_terminal(capsys):
    from costperf.progress import progress, shows_progress

    assert not shows_progress()  # pytest captures stderr: not a terminal
    with progress("work", total=2) as bar:
        bar.step("one")
        bar.advance()
    assert capsys.readouterr() == ("", "")


def test_progress_on_a_terminal_goes_to_stderr(monkeypatch, capsys):
    import costperf.progress as p

    monkeypatch.setattr(p, "shows_progress", lambda: True)
    with p.progress("work", total=2) as bar:
        bar.step("one")
        bar.advance()
    assert capsys.readouterr().out == ""


def test_no_module_imports_another_modules_private_names():
    import ast

    offenders = []
    for path in (REPO / "src" / "costperf").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("costperf"):
                private = [
                    a.name for a in node.names if a.name.startswith("_") and a.name[:2] != "__"
                ]
                offenders += [f"{path.name}: {node.module}.{n}" for n in private]
    assert offenders == []


def test_core_stages_do_not_import_the_cli_or_the_report():
    import ast

    core = ("decompose", "benchmark", "standards", "review", "optimize")
    edges = ("costperf.cli", "costperf.commands", "costperf.report", "costperf.outputs")
    offenders = []
    for stage in core:
        for path in (REPO / "src" / "costperf" / stage).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                elif isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                offenders += [f"{path}: {n}" for n in names if n.startswith(edges)]
    assert offenders == []


def test_standard_ids_from_the_headers_alone_are_those_of_the_full_read():
    """The run checks a request's standard_id against the headers only (cheap); the
    names must be exactly those of the tables a full read and check accepts."""
    from costperf.standards import shipped_standards
    from costperf.standards.tables import header_table_ids

    assert header_table_ids() == set(shipped_standards().table_ids())
    assert "travel-lodging" in header_table_ids()
