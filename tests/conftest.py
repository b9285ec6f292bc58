"""Shared paths, the CLI runner, case copies and the tolerance used by the foundation tests."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import subprocess as _subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
CASES = REPO / "cases"
SANITATION = CASES / "sanitation-5-districts"
REQUESTS_2027 = CASES / "requests-2027"
REQUESTS_2027_DATE = "2027-03-01"
RTOL = 1e-9


_OWN_CACHE: list[str] = []


def pytest_configure(config: pytest.Config) -> None:  # noqa: ARG001
    """The suite's own cache folder (font subsets), shared by its runs, workers and
    subprocesses but not the user's: tests never write to ~/.cache."""
    if "COSTPERF_CACHE_DIR" not in os.environ:
        _OWN_CACHE.append(tempfile.mkdtemp(prefix="costperf-cache-"))
        os.environ["COSTPERF_CACHE_DIR"] = _OWN_CACHE[0]


def pytest_unconfigure(config: pytest.Config) -> None:  # noqa: ARG001
    """Remove the cache folder this process made (xdist workers use the controller's)."""
    for folder in _OWN_CACHE:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def _every_reported_error_reads_in_chinese(monkeypatch: pytest.MonkeyPatch):
    """Each input error the CLI reports during a test, in either language, must have
    its Chinese (labels.csv kinds ``expected`` and ``error``): a new raise site that a
    test reaches without a template fails that test, naming the text to add."""
    import costperf.cli as cli
    from costperf.columns import message
    from costperf.errors import chinese_summary

    markers = (message("error.untranslated", "zh"), message("problems.untranslated", "zh"))
    untranslated: list[str] = []
    report = cli._report_input_error

    def checked(exc, args):  # noqa: ANN001, ANN202
        shown = chinese_summary(exc, limit=len(exc.problems) or 1)
        untranslated.extend(line for line in shown.splitlines() if any(m in line for m in markers))
        return report(exc, args)

    monkeypatch.setattr(cli, "_report_input_error", checked)
    yield
    if untranslated:
        pytest.fail("no Chinese in labels.csv for:\n" + "\n".join(untranslated), pytrace=False)


def assert_close(
    actual: object, expected: object, *, rtol: float = RTOL, atol: float = 0.0, what: str = ""
) -> None:
    """``np.testing.assert_allclose`` with the suite's fixed tolerance."""
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float),
        np.asarray(expected, dtype=float),
        rtol=rtol,
        atol=atol,
        err_msg=what,
    )


def run_cli(*args: object, cwd: Path, subprocess: bool = False) -> tuple[int, str, str]:
    """Run ``costperf ARGS`` in ``cwd``; return (exit status, stdout, stderr).

    Under the default language (Chinese) an input error is told in Chinese only; a test
    that reads the English message passes ``"--lang", "en"``.

    In-process by default (``costperf.cli.main``, the same entry point the console script
    calls), so a test pays for the work and not for a new interpreter and its imports.
    ``subprocess=True`` starts ``python -m costperf.cli`` instead, for the few tests
    that check the command as a separate program.
    """
    argv = [str(a) for a in args]
    if subprocess:
        proc = _subprocess.run(
            [sys.executable, "-m", "costperf.cli", *argv],
            cwd=cwd,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=300,
            check=False,
        )
        return proc.returncode, proc.stdout, proc.stderr
    from costperf.cli import main

    out, err = io.StringIO(), io.StringIO()
    here = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse's usage errors exit 2 by themselves
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        os.chdir(here)
    return code, out.getvalue(), err.getvalue()


def copy_case(dest: Path, source: Path = SANITATION) -> Path:
    """Copy a case folder (data and case.toml, not its generator) to ``dest``."""
    shutil.copytree(
        source, dest, ignore=shutil.ignore_patterns("__pycache__", "generate.py", "expected")
    )
    return dest


@pytest.fixture
def case_copy(tmp_path: Path) -> Path:
    """A fresh copy of the sanitation case in ``tmp_path / 'case'``."""
    return copy_case(tmp_path / "case")


@pytest.fixture(scope="session")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One good ``costperf run`` of the untouched sanitation case (once per worker).

    Returns ``{"case", "out", "records", "summary", "stdout", "stderr"}``; treat the files
    as read-only (copy them before changing anything).
    """
    root = tmp_path_factory.mktemp("good_run")
    case = copy_case(root / "case")
    out = root / "out"
    code, stdout, stderr = run_cli("run", case, "--out", out, cwd=root)
    assert code == 0, stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {
        "case": case,
        "out": out,
        "records": out / "records.sqlite",
        "summary": summary,
        "stdout": stdout,
        "stderr": stderr,
    }


def review_2027_args(out: Path, records: Path) -> list[str]:
    """``costperf review`` of cases/requests-2027 as its README runs it."""
    book, standards = REQUESTS_2027 / "book", REQUESTS_2027 / "standards"
    return ["review", str(book), "--standards", str(standards), "--date", REQUESTS_2027_DATE,
            "--out", str(out), "--records", str(records)]  # fmt: skip


@pytest.fixture(scope="session")
def reviewed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One in-process ``costperf review`` of cases/requests-2027 (outputs and records),
    once per worker; treat the files as read-only."""
    import pandas as pd

    from costperf.cli import main

    root = tmp_path_factory.mktemp("requests2027")
    out, records = root / "out", root / "records.sqlite"
    code = main(review_2027_args(out, records))
    assert code == 0
    read = lambda name: pd.read_csv(out / name, encoding="utf-8-sig", dtype={"序号": "Int64"})  # noqa: E731
    return {
        "out": out,
        "records": records,
        "lines": read("lines.csv"),
        "projects": read("projects.csv"),
        "summary": json.loads((out / "summary.json").read_text(encoding="utf-8")),
    }


# --- editing CSV files the way a user would (cells addressed by file row and header) ------


def read_rows(path: Path, encoding: str = "utf-8-sig") -> list[list[str]]:
    """All rows of a CSV file as lists of cell texts (row 1 = header)."""
    return list(csv.reader(io.StringIO(Path(path).read_text(encoding=encoding))))


def write_rows(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    Path(path).write_text(buf.getvalue(), encoding=encoding)


def read_problems(path: Path) -> pd.DataFrame:
    """A problems.csv as written in either language, with canonical columns and codes
    (the Chinese file's headers, checks and severities mapped back through labels.csv)."""
    from costperf.columns import code_label_map

    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    table = table.rename(columns={v: k for k, v in code_label_map("problem_column").items()})
    for column in ("check", "severity"):
        codes = {v: k for k, v in code_label_map(column).items()}
        table[column] = table[column].map(lambda v, m=codes: m.get(v, v))
    return table


def problem_cells(path: Path) -> set[tuple[str, str, str, str]]:
    """(file name, row, column, check) of every problem of a problems.csv; asserts that
    no cell is reported twice."""
    found = read_problems(path)
    assert not found.duplicated(["source_file", "source_row", "column"]).any(), found
    files = found["source_file"].map(lambda f: Path(f).name)
    return set(zip(files, found["source_row"], found["column"], found["check"], strict=True))


def set_cell(path: Path, row: int, header: str, value: str, encoding: str = "utf-8-sig") -> str:
    """Set the cell at file row ``row`` (header = row 1) under ``header``; return the old value."""
    rows = read_rows(path, encoding)
    col = rows[0].index(header)
    old = rows[row - 1][col]
    rows[row - 1][col] = value
    write_rows(path, rows, encoding)
    return old


def edit_toml(case: Path, old: str, new: str) -> None:
    """Replace the first ``old`` in the case's case.toml by ``new`` (``old`` must occur)."""
    path = case / "case.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in case.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


#: modules whose module-scoped fixtures run whole cases (each language, each book): their
#: tests go to one xdist worker (``--dist loadgroup`` in pyproject.toml), so the fixture
#: runs once, not once in each worker
ONE_WORKER_MODULES = ("test_lang_audit", "test_review_adversarial", "test_review_heldout")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:  # noqa: ARG001
    for item in items:
        name = item.module.__name__.rpartition(".")[2] if item.module else ""
        if name in ONE_WORKER_MODULES:
            item.add_marker(pytest.mark.xdist_group(name))
