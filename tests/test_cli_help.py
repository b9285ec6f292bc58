"""The command line as a user meets it (issue 13): --version, --lang and examples on every
command, Chinese error lines first, standards lookup listing what it accepts."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

import pytest

from costperf import __version__
from costperf.cli import build_parser, main, split_epilog


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


def test_lang_before_the_command_as_after_it(tmp_path, monkeypatch, capsys) -> None:  # noqa: ANN001
    """Found by an audit: ``costperf --lang en review ...`` said "invalid choice: 'en'"
    (--lang was only the command's own); now it may come before the command too, the
    last one given counting.  An option-only problem of a command with no output given
    (no --out) leaves no problems table in the working folder."""
    monkeypatch.chdir(tmp_path)
    lookup = ["standards", "lookup", "travel-lodging", "--on", "2016-08-01"]
    for argv, english in (
        (["--lang", "en", *lookup], True),
        (["--lang", "en", *lookup, "--lang", "zh"], False),
        (["--lang", "zh", *lookup, "--lang", "en"], True),
        (["--lang=en", *lookup], True),
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("costperf: error: " if english else "costperf：错误："), argv
    assert main(["--lang", "en", "review", "book.xlsx"]) == 2
    err = capsys.readouterr().err
    assert "give --out DIR (the batch outputs) or -o FILE" in err and "problems table" not in err
    assert list(tmp_path.iterdir()) == []
    assert main(["review", "book.xlsx", "--out", "out", "--engine", "fast"]) == 2
    assert "未知计算引擎，值 'fast'" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["problems.csv"]  # as asked


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


USAGE_ERRORS = [  # argv, the Chinese error line, the English one (argparse's own)
    (["review"], "costperf review：错误：缺少必需的参数：requests",
     "costperf review: error: the following arguments are required: requests"),
    (["reviw"], "costperf：错误：参数 COMMAND：无效的取值 'reviw'（可选：'run',",
     "costperf: error: argument COMMAND: invalid choice: 'reviw' (choose from 'run',"),
    (["optimize", "--max-group-cut", "x"], "costperf optimize：错误：参数 --max-group-cut：'x' 不是数字",
     "costperf optimize: error: argument --max-group-cut: invalid float value: 'x'"),
    (["review", "r.csv", "--out"], "costperf review：错误：参数 --out：需要一个值",
     "costperf review: error: argument --out: expected one argument"),
    (["records", "list", "nope"], "costperf records list：错误：参数 table：无效的取值 'nope'",
     "costperf records list: error: argument table: invalid choice: 'nope'"),
    (["--bogus", "run", "c"], "costperf：错误：无法识别的参数：--bogus",
     "costperf: error: unrecognized arguments: --bogus"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "chinese", "english"), USAGE_ERRORS)
def test_usage_errors_in_the_user_s_language(argv, chinese, english, capsys) -> None:  # noqa: ANN001
    """argparse's own errors: Chinese (用法：…) by default, English with --lang en (given
    anywhere on the line); exit status 2 either way."""
    for lang, extra, wanted, usage in (
        ("zh", [], chinese, "用法：costperf"),
        ("en", ["--lang", "en"], english, "usage: costperf"),
    ):
        with pytest.raises(SystemExit) as done:
            main([*argv, *extra])
        err = capsys.readouterr().err
        assert done.value.code == 2, lang
        assert err.startswith(usage), err
        assert wanted in err, err
        assert "暂无中文" not in err and ("错误" in err) == (lang == "zh"), err


def test_help_headings_in_chinese_options_as_written(capsys) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit):
        main(["review", "--help"])
    out = capsys.readouterr().out
    assert out.startswith("用法：costperf review")
    assert "位置参数" in out and "选项" in out and "显示此帮助并退出" in out
    assert "\n位置参数：\n" in out and "\n选项：\n" in out  # full-width colons
    assert (
        "\n示例：\n  costperf review " in out and "\n申报书：cases/requests-2027/README.md" in out
    )
    with pytest.raises(SystemExit):
        main(["review", "--help", "--lang", "en"])
    out = capsys.readouterr().out
    assert out.startswith("usage: costperf review") and "options:" in out and "位置参数" not in out
    assert "\nexamples:\n  costperf review " in out and "\nrequest book: cases/" in out


def test_an_internal_error_is_told_in_the_user_s_language(monkeypatch, capsys) -> None:  # noqa: ANN001
    """A bug (not bad input): exit 1, one line in the user's language, no traceback."""
    import costperf.commands.template as template

    def broken(args):  # noqa: ANN001, ANN202
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(template, "run", broken)  # bound when main builds the parser
    assert main(["template", "requests", "-o", "x.xlsx"]) == 1
    assert capsys.readouterr().err == (
        "costperf：内部错误：ZeroDivisionError：boom（加 --debug 重新运行可查看详情）\n"
    )
    assert main(["template", "requests", "-o", "x.xlsx", "--lang", "en"]) == 1
    assert capsys.readouterr().err == (
        "costperf: internal error: ZeroDivisionError: boom (rerun with --debug for details)\n"
    )


def _help_texts(parser: argparse.ArgumentParser, path: str = "costperf") -> dict[str, str]:
    """Every description and option help of the command tree: text -> where."""
    found = {parser.description: f"{path} (description)"} if parser.description else {}
    notes = split_epilog(parser.epilog)[1]
    if notes:
        found[notes] = f"{path} (notes after the examples)"
    for action in parser._actions:
        if action.help and action.help is not argparse.SUPPRESS:
            found.setdefault(
                action.help, f"{path} {'/'.join(action.option_strings) or action.dest}"
            )
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                found.setdefault(choice.help, f"{path} {choice.dest}")
            for name, sub in action.choices.items():
                for text, where in _help_texts(sub, f"{path} {name}").items():
                    found.setdefault(text, where)
    return found


def test_every_help_text_has_its_chinese_and_every_row_is_used() -> None:
    """labels.csv kind ``help``: the English text as written in the parser, its Chinese."""
    from costperf.cli import _USAGE_LANG
    from costperf.columns import code_label_map

    token = _USAGE_LANG.set("en")  # the parser as written (the -h line in English too)
    try:
        texts = _help_texts(build_parser())
    finally:
        _USAGE_LANG.reset(token)
    rows = code_label_map("help", "zh")
    missing = {where: text for text, where in texts.items() if text not in rows}
    assert not missing, missing
    assert not set(rows) - set(texts), "help rows no option uses"
    for text in texts:
        assert re.search("[\u4e00-\u9fff]", rows[text]) and rows[text] != text, text


def _options_without_help(parser: argparse.ArgumentParser, path: str = "costperf") -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _options_without_help(sub, f"{path} {name}")
        elif action.option_strings and not action.help:
            found.append(f"{path} {'/'.join(action.option_strings)}")
    return found


def test_every_option_says_what_it_does() -> None:
    assert _options_without_help(build_parser()) == []


def _subparser(parser: argparse.ArgumentParser, path: list[str]) -> argparse.ArgumentParser:
    for name in path:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[name]
    return parser


def test_help_reads_in_chinese_by_default_and_in_english_with_lang_en(capsys) -> None:  # noqa: ANN001
    """Each option's help as the parser shows it: the Chinese row under zh, the English
    under --lang en (compared without the line breaks of the wrapping)."""
    from costperf.cli import _USAGE_LANG
    from costperf.columns import code_label_map

    def flat(text: str) -> str:
        return re.sub(r"\s+", "", text)

    rows = code_label_map("help", "zh")
    token = _USAGE_LANG.set("en")
    try:
        root = build_parser()
    finally:
        _USAGE_LANG.reset(token)
    for path in ([], ["review"], ["records", "feedback"], ["standards", "derive"]):
        shown = [a.help for a in _subparser(root, path)._actions if a.help in rows]
        assert len(shown) >= 2, path
        with pytest.raises(SystemExit):
            main([*path, "--help"])
        zh = flat(capsys.readouterr().out)
        with pytest.raises(SystemExit):
            main([*path, "--help", "--lang", "en"])
        en = flat(capsys.readouterr().out)
        assert zh.startswith("用法：") and en.startswith("usage:")
        for text in shown:
            assert flat(rows[text]) in zh and flat(text) not in zh, (path, text)
            assert flat(text) in en, (path, text)


def test_version_and_help_do_not_import_pandas() -> None:
    """``costperf --version`` and ``--help`` read labels.csv without pandas (0.1 s, not 0.4)."""
    code = (
        "import contextlib, io, sys\n"
        "from costperf.cli import main\n"
        "for argv in (['--version'], ['--help'], ['review', '--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "        try:\n"
        "            main(argv)\n"
        "        except SystemExit:\n"
        "            pass\n"
        "    assert out.getvalue().strip(), argv\n"
        "print(sorted(m for m in ('pandas', 'numpy') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
