"""Progress on stderr for long work: a rich bar on a terminal, nothing otherwise.

Library code reports progress through a plain callback (``on_step(name)`` or
``advance(n)``); only the CLI makes a :class:`Progress` and passes its methods in, so
the core never touches the terminal. Nothing is printed when stderr is not a terminal
(a pipe, a file, a test), and never on stdout.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


class Progress:
    """A task with a description, a total and an ``advance`` method (a no-op off a tty).

    Step names are shown by their labels in ``lang`` (labels.csv ``progress_step``).
    """

    def __init__(self, bar: object = None, task: object = None, lang: str = "zh") -> None:
        self._bar, self._task, self.lang = bar, task, lang

    def advance(self, n: float = 1.0) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, n)

    def describe(self, text: str) -> None:
        """Show what is being done now (e.g. the name of the current step)."""
        if self._bar is not None:
            self._bar.update(self._task, description=text)

    def step(self, name: str) -> None:
        """``on_step`` callback: name the step and count the previous one as done."""
        self.describe(self.label(name))
        self.advance()

    def label(self, name: str) -> str:
        """A step's name as shown (labels.csv ``progress_step``; the name if it has none)."""
        from costperf.columns import code_label

        return code_label("progress_step", name, self.lang)


def shows_progress() -> bool:
    """Whether stderr is an interactive terminal."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


@contextmanager
def progress(
    description: str, total: float | None = None, *, lang: str = "zh"
) -> Iterator[Progress]:
    """A progress bar on stderr for the duration (transient; nothing off a terminal)."""
    if not shows_progress():
        yield Progress(lang=lang)
        return
    from rich.console import Console
    from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichProgress

    bar = RichProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with bar:
        yield Progress(bar, bar.add_task(description, total=total), lang)
