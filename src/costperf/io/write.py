"""Writers for plain tables (CSV, XLSX, Parquet), chosen by file suffix.

Writes go to a temporary file in the target folder and are moved into place, so an
interrupted run never leaves a half-written file behind.  A new file gets the mode the
umask gives (0644 under umask 022); a replaced file keeps its mode.

Every text cell written for a spreadsheet is text, never a formula: text that Excel
would read as one (starting with ``= + - @``, tab or carriage return) gets a leading
apostrophe (:func:`neutralise_text`, OWASP's advice for CSV injection), and xlsxwriter
is told never to turn strings into formulas (:data:`XLSXWRITER_OPTIONS`).
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from costperf.errors import InputError, located_error

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a text cell as a formula."""

XLSXWRITER_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False}
"""xlsxwriter ``Workbook`` options: strings stay strings (no formulas, no links)."""


def neutralise_text(value: object) -> object:
    """Text that a spreadsheet would run as a formula, with a leading apostrophe.

    ``"=1+1"`` -> ``"'=1+1"``, ``"\\t=1+1"`` -> ``"'\\t=1+1"``; anything else, numbers
    included, is returned unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _neutralise_column(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = values.cat.categories
        if not (categories.dtype == object or pd.api.types.is_string_dtype(categories)):
            return values
        return values.cat.rename_categories([neutralise_text(c) for c in categories])
    if values.dtype == object:
        if pd.api.types.infer_dtype(values, skipna=True) not in (
            "string",
            "mixed",
            "mixed-integer",
        ):
            return values
    elif not pd.api.types.is_string_dtype(values):
        return values
    if values.dtype == object:  # text beside numbers or None: only the text is looked at
        risky = np.fromiter(
            (isinstance(v, str) and v.startswith(FORMULA_STARTS) for v in values.tolist()),
            dtype=bool,
            count=len(values),
        )
    else:
        first = values.str[:1]  # NaN for missing cells, which stay as they are
        risky = first.isin(FORMULA_STARTS).fillna(False).astype(bool).to_numpy()
    if not risky.any():
        return values
    out = values.copy()
    out[risky] = "'" + values[risky].astype(str)
    return out


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and headers pass :func:`neutralise_text`."""
    out = frame.copy()
    for i, (_, column) in enumerate(out.items()):  # by position (iloc's own path)
        neutral = _neutralise_column(column)
        if neutral is not column:
            out.isetitem(i, neutral)
    out.columns = [neutralise_text(c) for c in out.columns]
    out.attrs = dict(frame.attrs)
    return out


def excel_writer(path: str | Path) -> pd.ExcelWriter:
    """A pandas ``ExcelWriter`` (xlsxwriter) that never writes a string as a formula."""
    return pd.ExcelWriter(path, engine="xlsxwriter", engine_kwargs={"options": XLSXWRITER_OPTIONS})


def output_error(path: Path, exc: OSError, option: str = "") -> InputError:
    """An output that cannot be written (folder missing, read-only, a file in the way)."""
    reason = exc.strerror or type(exc).__name__
    blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        reason = f"{blocker} is a file, not a folder"
    elif path.is_dir():
        reason = "it is a folder; give a file name"
    named = f" ({option})" if option else ""
    msg = f"{path}: cannot write the output{named}: {reason}"
    return located_error(
        msg,
        source_file=path,
        column=option,
        check="output_not_writable",
        expected="a file name in a folder that can be written to",
    )


def check_destinations(files: list[Path], folders: tuple | list = ()) -> None:
    """Refuse, before anything is written, outputs that cannot land where they go: a
    folder where a file goes, a file where a folder goes (or is under one). A run
    that fails half-way would leave some outputs new and some old beside them.

    Raises :class:`InputError` naming the first such path (exit status 2).
    """
    for path in files:
        path = Path(path)
        if path.is_dir():
            raise output_error(path, IsADirectoryError(21, "Is a directory", str(path)))
        if any(p.exists() and not p.is_dir() for p in path.parents):
            raise output_error(path, NotADirectoryError(20, "Not a directory", str(path)))
    for folder in folders:
        folder = Path(folder)
        blocker = next(
            (p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None
        )
        if blocker is not None:
            msg = f"{folder}: cannot write the output folder: {blocker} is a file, not a folder"
            raise located_error(
                msg,
                source_file=folder,
                check="output_not_writable",
                expected="a folder that can be written to",
            )


def folder_mode(folder: Path) -> int:
    """The mode for a folder about to be replaced: its own if it exists, else the one the
    umask gives a new folder (0755 under umask 022), not a scratch folder's 0700."""
    if folder.is_dir():
        return stat.S_IMODE(folder.stat().st_mode)
    mask = os.umask(0)
    os.umask(mask)
    return 0o777 & ~mask


def _new_temp(path: Path) -> Path:
    """Create an empty temporary file beside ``path``, with the mode the umask gives."""
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp{path.suffix}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    msg = f"{path}: could not create a temporary file beside it"
    raise FileExistsError(msg)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` on success.

    The temporary file is removed on every path out.  An output that cannot be written
    is an :class:`InputError` naming it (exit status 2), not an internal error.
    """
    path = Path(path)
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "Is a directory", str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = _new_temp(path)
    except OSError as exc:
        raise output_error(path, exc) from exc
    try:
        yield tmp
        try:
            if path.is_file():  # a replaced file keeps its mode
                tmp.chmod(stat.S_IMODE(path.stat().st_mode))
            tmp.replace(path)
        except OSError as exc:
            raise output_error(path, exc) from exc
    except OSError as exc:  # the writer failed: disk full, quota ...
        raise output_error(path, exc) from exc
    finally:
        tmp.unlink(missing_ok=True)


def write_text(text: str, path: str | Path) -> None:
    """Write UTF-8 text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_new_text(text: str, path: str | Path) -> None:
    """Write UTF-8 text to a new file in a scratch folder that is moved into place whole
    (the review's forms): no temporary file of its own; an existing file is an error."""
    path = Path(path)
    try:
        with path.open("x", encoding="utf-8", newline="") as file:
            file.write(text)
    except OSError as exc:
        raise output_error(path, exc) from exc


def _write_xlsx(frame: pd.DataFrame, path: Path, sheet: str = "Sheet1", lang: str = "zh") -> None:
    # formatted by column type like every workbook (costperf.report.excel); codes as
    # words and headers in ``lang``
    from costperf.report.excel import write_sheets

    write_sheets({sheet: frame}, path, lang=lang)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    # CRLF line ends, so a cell holding a bare CR is quoted (else it starts a new row)
    neutralise_frame(frame).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")


def _writer(suffix: str) -> Callable[[pd.DataFrame, Path], None]:
    if suffix in {".csv", ".txt"}:
        return _write_csv
    if suffix == ".xlsx":
        return _write_xlsx
    if suffix in {".parquet", ".pq"}:
        return lambda f, p: f.to_parquet(p, index=False)
    msg = f"{suffix or 'no suffix'}: unsupported output type; use .csv, .xlsx or .parquet"
    raise InputError(msg)


def write_table(frame: pd.DataFrame, path: str | Path, *, lang: str) -> Path:
    """Write ``frame`` to CSV (UTF-8 with BOM, opens in Excel), XLSX or Parquet by suffix.

    Text cells that a spreadsheet would run as formulas are neutralised in CSV and XLSX
    (:func:`neutralise_text`); Parquet keeps them as they are.  An XLSX sheet shows its
    codes as words and its canonical headers as labels in ``lang``
    (:func:`costperf.report.excel.write_sheets`); CSV and Parquet are written as given.
    """
    path = Path(path)
    write = _writer(path.suffix.lower())
    with atomic_path(path) as tmp:
        if write is _write_xlsx:  # the sheet is named after the file, not "Sheet1"
            _write_xlsx(frame, tmp, sheet=path.stem, lang=lang)
        else:
            write(frame, tmp)
    return path


PROBLEM_VALUE_CHARS = 200
"""Longest cell value copied into a problems table; longer ones are cut (and say so)."""


def shorten_text(value: object, limit: int = PROBLEM_VALUE_CHARS) -> object:
    """Text longer than ``limit`` characters cut to its start plus a note of its length."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]}… ({len(value):,} characters)"
    return value


def write_problems(problems: pd.DataFrame, path: str | Path, lang: str = "en") -> Path:
    """Write a problems table as CSV: long values shortened, formulas neutralised.

    In Chinese (``lang='zh'``) the headers, the checks, the severities and every
    ``expected`` text labels.csv has a template for are Chinese (the others stay as
    written); ``en`` keeps the canonical columns and codes.
    """
    return write_table(problems_for_display(problems, lang), path, lang=lang)


def problems_for_display(problems: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """The problems table as shown to a user in ``lang`` (see :func:`write_problems`)."""
    from costperf.columns import code_label_map, expected_label

    shown = problems.copy()
    if "value" in shown.columns:
        shown["value"] = shown["value"].map(shorten_text)
    if lang == "en":
        return shown
    if {"column", "value", "check"} <= set(shown.columns):
        from costperf.errors import problem_cells_zh

        cells = [
            problem_cells_zh(c, v, k)
            for c, v, k in zip(shown["column"], shown["value"], shown["check"], strict=True)
        ]
        shown["column"] = [c for c, _ in cells]
        shown["value"] = [v for _, v in cells]
    if "expected" in shown.columns:
        texts = {e: expected_label(e, lang) for e in shown["expected"].astype(str).unique()}
        shown["expected"] = [texts[e] or e for e in shown["expected"].astype(str)]
    for column in ("check", "severity"):
        if column in shown.columns:
            labels = code_label_map(column, lang)
            shown[column] = shown[column].map(lambda c, m=labels: m.get(str(c), c))
    return shown.rename(columns=code_label_map("problem_column", lang))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def check_outputs_are_not_inputs(
    inputs: Iterable[tuple[str, object]], outputs: Iterable[tuple[str, object]]
) -> None:
    """Refuse an output path that names an input file (it would be overwritten).

    ``inputs`` and ``outputs`` are ``(option, path)`` pairs; ``None`` paths are skipped.
    """
    given = [(option, Path(p)) for option, p in inputs if p is not None]
    for option, out in ((o, Path(p)) for o, p in outputs if p is not None):
        for source_option, source in given:
            if _same_file(out, source) or out.resolve() == source.resolve():
                msg = (
                    f"{out}: {option} names the input file ({source_option}); it would be "
                    "overwritten. Choose another output name"
                )
                raise located_error(
                    msg,
                    source_file=out,
                    column=option,
                    check="output_is_input",
                    expected="an output path other than the input file",
                )
