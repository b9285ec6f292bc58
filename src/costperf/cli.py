"""Command-line entry point: parse arguments, dispatch to a sub-command, map errors to exit codes.

Exit status: 0 success; 2 the user's input is wrong (usage, config or data: the message
names file, sheet, row and column and the full problems table is written); 1 an internal
failure (a short message; the traceback only with ``--debug``).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import NoReturn

from costperf.commands import COMMAND_MODULES
from costperf.errors import InputError

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2

#: cyclic-garbage thresholds while a command runs (Python's default: 700, 10, 10): the
#: youngest generation collected 30x less often, the older ones in the default ratios
#: (so cyclic garbage of a long batch is still freed every ~2 M allocations)
GC_THRESHOLDS = (20_000, 10, 10)


@contextmanager
def fewer_collections(*, restore: bool = True) -> Iterator[None]:
    """Run the cyclic garbage collector less often while a command runs.

    A case run makes millions of short-lived objects (matplotlib artists, pandas
    frames) beside a large heap of imported modules; at the default threshold the
    collector ran about 900 times and took ~0.6 s (a tenth) of ``costperf run``; at
    :data:`GC_THRESHOLDS` about 30 times and 0.2-0.3 s. With ``restore`` the thresholds
    are set back afterwards (``main`` called in process); the program itself does not,
    since that starts a full collection (~0.15 s) just before it exits.
    """
    before = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        if restore:
            gc.set_threshold(*before)


#: the language of the usage messages of the command line being parsed (``--lang``)
_USAGE_LANG: ContextVar[str] = ContextVar("costperf_usage_lang", default="zh")


def argv_lang(argv: list[str]) -> str:
    """``en`` when the last ``--lang`` of the command line (before the command or after
    it) says ``en``, else ``zh`` (read before argparse, so that its own usage errors come
    in that language too)."""
    lang = "zh"
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg.startswith("--lang="):
            lang = "en" if arg == "--lang=en" else "zh"
        elif arg == "--lang":
            lang = "en" if argv[i + 1 : i + 2] == ["en"] else "zh"
    return lang


class Parser(argparse.ArgumentParser):
    """argparse in the user's language: under zh its usage errors, the usage line and
    the help headings come from labels.csv (the option texts stay as written)."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - argparse's own
        super().__init__(*args, **kwargs)
        if _USAGE_LANG.get() == "zh":
            from costperf.labels import message

            self._positionals.title = message("cli.positionals", "zh")
            self._optionals.title = message("cli.options", "zh")

    def _zh_usage(self, text: str) -> str:
        if _USAGE_LANG.get() != "zh" or not text.startswith("usage: "):
            return text
        from costperf.labels import message

        return message("cli.usage", "zh") + text.removeprefix("usage: ")

    def format_usage(self) -> str:
        return self._zh_usage(super().format_usage())

    def format_help(self) -> str:
        if _USAGE_LANG.get() != "zh":
            return super().format_help()
        from costperf.labels import code_label_map

        chinese = code_label_map("help", "zh")  # labels.csv kind help: English -> zh
        texts = [self, *self._actions]
        texts += [c for a in self._actions if isinstance(a, argparse._SubParsersAction)
                  for c in a._choices_actions]  # fmt: skip
        saved = [(t, t.description if t is self else t.help) for t in texts]
        epilog = self.epilog
        try:
            self.description = chinese.get(self.description, self.description)
            self.epilog = _zh_epilog(epilog, chinese)
            for action in texts[1:]:
                action.help = chinese.get(action.help, action.help)
            text = self._zh_usage(super().format_help())
            for group in self._action_groups:  # argparse writes "title:", ASCII
                text = text.replace(f"\n{group.title}:\n", f"\n{group.title}：\n")
            return text
        finally:  # the parser is left as it was built (formatting twice gives the same)
            self.epilog = epilog
            for target, text in saved:
                if target is self:
                    self.description = text
                else:
                    target.help = text

    def error(self, text: str) -> NoReturn:  # argparse passes its message positionally
        if _USAGE_LANG.get() != "zh":
            super().error(text)
        from costperf.columns import expected_label, message

        chinese = expected_label(text, "zh")
        if chinese is None:
            chinese = message("error.untranslated", "zh") + text
        self.print_usage(sys.stderr)
        self.exit(
            EXIT_INPUT, message("cli.usage_error", "zh", prog=self.prog, error=chinese) + "\n"
        )


def split_epilog(epilog: str | None) -> tuple[str, str]:
    """A command's epilog: its ``examples:`` block (commands as typed) and the notes
    after the first blank line (prose, translated as a labels.csv ``help`` row)."""
    head, _, notes = (epilog or "").partition("\n\n")
    return head, notes


def _zh_epilog(epilog: str | None, chinese: dict[str, str]) -> str | None:
    if not epilog:
        return epilog
    from costperf.labels import message

    head, notes = split_epilog(epilog)
    if head.startswith("examples:"):
        head = message("cli.examples", "zh") + head.removeprefix("examples:")
    return f"{head}\n\n{chinese.get(notes, notes)}" if notes else head


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every registered sub-command."""
    parser = Parser(
        prog="costperf",
        description="成本预算绩效分析 cost-budget performance analysis",
    )
    from costperf import __version__

    parser.add_argument("--version", action="version", version=f"costperf {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument(
        "--lang",
        dest="lang_before",
        choices=("zh", "en"),
        default=None,
        help="language of messages and outputs, before the command as after it (default: zh)",
    )
    parser.add_argument(
        "--problems",
        type=Path,
        default=None,
        help="where to write the full problems table (CSV) when input is rejected",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"costperf.commands.{name}")
        except ModuleNotFoundError as exc:  # a stage not built yet
            if exc.name != f"costperf.commands.{name}":
                raise
            continue
        module.add_parser(sub)
    _every_command_has_lang(sub)
    _every_command_has_examples(sub, "")
    return parser


def _every_command_has_examples(sub: argparse._SubParsersAction, prefix: str) -> None:
    """Put the examples of :mod:`costperf.commands.examples` under each ``--help``."""
    from costperf.commands.examples import epilog

    for name, parser in sub.choices.items():
        command = f"{prefix}{name}"
        if not parser.epilog and epilog(command):
            parser.epilog = epilog(command)
            parser.formatter_class = argparse.RawDescriptionHelpFormatter
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                _every_command_has_examples(action, f"{command} ")


def _every_command_has_lang(sub: argparse._SubParsersAction) -> None:
    """Give each (sub-)command without one a ``--lang zh|en`` (messages and outputs)."""
    from costperf.commands._tables import lang_argument

    for parser in dict.fromkeys(sub.choices.values()):
        nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        for action in nested:
            _every_command_has_lang(action)
        if not nested and not any("--lang" in a.option_strings for a in parser._actions):
            lang_argument(parser)


def _problems_path(args: argparse.Namespace, problems=None) -> Path | None:  # noqa: ANN001
    """Where the problems table goes: ``--problems``, else the output folder or beside
    the output file, else the working folder; None for a command with no output whose
    every problem of ``problems`` is a command-line option's (the message says it all)."""
    if args.problems is not None:
        return args.problems
    out_dir = getattr(args, "out", None)  # always a folder, out.2026 too
    if out_dir is not None:
        return Path(out_dir) / "problems.csv"
    output = getattr(args, "output", None)
    if output is not None:
        output = Path(output)
        return output.with_name(output.stem + ".problems.csv")
    if problems is not None and _options_only(problems):  # the message says it all
        return None
    return Path("costperf-problems.csv")


def _options_only(problems) -> bool:  # noqa: ANN001 - a problems frame
    """Whether every problem is a command-line option's (a bad --date, --engine, no
    --out): named by the option, in no file."""
    from costperf.errors import Check

    option = problems["check"].astype(str).eq(str(Check.OPTION))
    named = problems["column"].astype(str).str.startswith("-")
    if "source_file" in problems:
        named &= problems["source_file"].fillna("").astype(str).eq("")
    return bool((option | named).all())


def _lang(args: argparse.Namespace) -> str:
    """The language the command was asked for (zh unless ``--lang en``)."""
    return "en" if getattr(args, "lang", "zh") == "en" else "zh"


def _report_input_error(exc: InputError, args: argparse.Namespace) -> None:
    lang = _lang(args)
    if lang == "zh":  # Chinese only; --lang en: English only
        from costperf.errors import chinese_summary

        print(chinese_summary(exc), file=sys.stderr)
    else:
        from costperf.labels import filled

        print(filled("error.head", "en", text=exc), file=sys.stderr)
    out = getattr(args, "out", None)
    if isinstance(out, Path) and (out / "summary.json").is_file():  # an earlier run's
        from costperf.labels import message

        print(message("problems.earlier_outputs", lang, path=out), file=sys.stderr)
    if exc.problems is None or exc.problems.empty:
        _drop_earlier_problems(args)
        return
    from costperf.io.write import check_outputs_are_not_inputs, write_problems

    path = _problems_path(args, exc.problems)
    if path is None:
        return
    inputs = [(n, getattr(args, a)) for a, n in _INPUT_OPTIONS.items() if getattr(args, a, None)]
    try:
        check_outputs_are_not_inputs(inputs, [("--problems", path)])
        write_problems(exc.problems, path, lang)
    except (OSError, InputError) as err:
        from costperf.labels import message

        print(message("problems.unwritten", lang, path=path, error=err), file=sys.stderr)
        return
    from costperf.labels import message

    print(message("problems.table", lang, n=len(exc.problems), path=path), file=sys.stderr)


def _drop_earlier_problems(args: argparse.Namespace) -> None:
    """A failure its message alone tells: the problems table an earlier failed run left
    in the output folder (or beside the output file) would seem to be this run's; drop
    it. A ``--problems`` path is the user's and stays."""
    if args.problems is not None:
        return
    if getattr(args, "out", None) is None and getattr(args, "output", None) is None:
        return
    path = _problems_path(args)
    if path is not None:
        with contextlib.suppress(OSError):  # --out a file, a read-only folder: leave it
            path.unlink(missing_ok=True)


_INPUT_OPTIONS = {"data": "DATA", "requests": "REQUESTS"}
_OUTPUT_OPTIONS = {"output": "-o/--output", "vif": "--vif", "predictions": "--predictions"}


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse an output option that names the input file (it would be overwritten)."""
    inputs = [(n, getattr(args, a)) for a, n in _INPUT_OPTIONS.items() if getattr(args, a, None)]
    if not inputs:
        return
    from costperf.io.write import check_outputs_are_not_inputs

    outputs = [(n, getattr(args, a, None)) for a, n in _OUTPUT_OPTIONS.items()]
    outputs.append(("--problems", _problems_path(args)))
    check_outputs_are_not_inputs(inputs, outputs)


def main(argv: list[str] | None = None) -> int:
    """Run the ``costperf`` command line; return the exit status."""
    given = sys.argv[1:] if argv is None else list(argv)
    token = _USAGE_LANG.set(argv_lang(given))
    try:
        parser = build_parser()
        args = parser.parse_args(argv)  # argparse itself exits 2 on a usage error
    finally:
        _USAGE_LANG.reset(token)
    if args.lang_before is not None:  # costperf --lang en review ...: the last one given
        args.lang = argv_lang(given)
    lang = _lang(args)
    try:
        _check_outputs(args)
        if argv is None:  # the program itself: a worker process may draw the charts
            from costperf.report.background import allow

            allow()
        from costperf.report.fonts import missing_glyphs_quiet

        with fewer_collections(restore=argv is not None), missing_glyphs_quiet():
            status = args.func(args)  # argv None: the program itself
    except InputError as exc:
        if args.debug:
            traceback.print_exc()
        _report_input_error(exc, args)
        return EXIT_INPUT
    except KeyboardInterrupt:
        from costperf.labels import message

        print(message("cli.interrupted", lang), file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `costperf run ... | head`: the reader went away
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the one place internal failures are mapped
        if args.debug:
            traceback.print_exc()
        from costperf.labels import message

        error = message("cli.internal_error", lang, name=type(exc).__name__, error=exc)
        print(error, file=sys.stderr)
        return EXIT_INTERNAL
    return EXIT_OK if status is None else int(status)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
