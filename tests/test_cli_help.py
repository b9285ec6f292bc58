"""The command line as a user meets it (issue 13): --version, --lang and examples on every
command, Chinese error lines first, standards lookup listing what it accepts."""

from __future__ import annotations

import argparse

import pytest

from costperf import __version__
from costperf.cli import build_parser, main


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = any(isinstance(a, argparse._SubParsersAction) for a in sub._actions)
                if nested:
                    yield from _commands(sub, (*path, name))
                else:
                    yield (*path, name), sub


def test_version(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"costperf {__version__}"


def test_every_command_has_lang_and_examples() -> None:
    commands = dict(_commands(build_parser()))
    assert (
        ("dea",) in commands and ("costmodel",) in commands and ("standards", "lookup") in commands
    )
    for path, parser in commands.items():
        options = {o for a in parser._actions for o in a.option_strings}
        assert "--lang" in options, path
        assert parser.epilog and "costperf " in parser.epilog, path


def test_lookup_lists_items_and_dimensions(capsys: pytest.CaptureFixture) -> None:
    assert main(["standards", "lookup", "travel-lodging", "--on", "2016-08-01"]) == 2
    err = capsys.readouterr().err
    first = err.splitlines()[0]
    assert first.startswith("costperf：错误：")  # Chinese only: English with --lang en
    assert "costperf: error" not in err
    assert "lookup_value" not in err
    assert "项目 --item：lodging（住宿费）" in err
    assert "维度 -d city=值（城市）：" in err and "大连" in err
    assert "维度 -d staff_level=值（人员级别）：省部级、厅局级、其他人员" in err


def test_lookup_takes_chinese_names(capsys: pytest.CaptureFixture) -> None:
    args = ["standards", "lookup", "travel-lodging", "--on", "2016-08-01"]
    assert main([*args, "--item", "住宿费", "-d", "城市=大连", "-d", "人员级别=其他人员"]) == 0
    chinese = capsys.readouterr().out
    assert main([*args, "--item", "lodging", "-d", "city=大连", "-d", "staff_level=其他人员"]) == 0
    assert capsys.readouterr().out == chinese
    assert chinese.startswith("420 元/人·天")


def test_english_errors_with_lang_en(capsys: pytest.CaptureFixture) -> None:
    assert (
        main(["standards", "lookup", "travel-lodging", "--on", "2016-08-01", "--lang", "en"]) == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("costperf: error: ") and "costperf：" not in err
    assert "travel-lodging@2 accepts:" in err and "dimension -d city=VALUE" in err


def test_problems_are_listed_in_chinese(tmp_path, capsys: pytest.CaptureFixture) -> None:  # noqa: ANN001
    data = tmp_path / "units.csv"
    data.write_text("unit_cost,area\n1.5,10\nabc,20\n", encoding="utf-8")
    code = main(["benchmark", str(data), "--value", "unit_cost", "-o", str(tmp_path / "b.csv")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("costperf：错误：共 1 处输入问题：")
    assert "第 3 行，列“unit_cost”：不是数字，值 'abc'" in err
    assert "costperf: error" not in err and "problems table" not in err  # Chinese only
    assert err.splitlines()[-1].startswith("costperf：完整问题表（1 行）：")
