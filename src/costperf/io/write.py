"""Writers for plain tables (CSV, XLSX, Parquet), chosen by file suffix.

Writes go to a temporary file in the target folder and are moved into place, so an
interrupted run never leaves a half-written file behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from costperf.errors import InputError


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        tmp_path.replace(path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text(text: str, path: str | Path) -> None:
    """Write UTF-8 text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _writer(suffix: str) -> Callable[[pd.DataFrame, Path], None]:
    if suffix in {".csv", ".txt"}:
        return lambda f, p: f.to_csv(p, index=False, encoding="utf-8-sig")
    if suffix == ".xlsx":
        return lambda f, p: f.to_excel(p, index=False, engine="xlsxwriter")
    if suffix in {".parquet", ".pq"}:
        return lambda f, p: f.to_parquet(p, index=False)
    msg = f"{suffix or 'no suffix'}: unsupported output type; use .csv, .xlsx or .parquet"
    raise InputError(msg)


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` to CSV (UTF-8 with BOM, opens in Excel), XLSX or Parquet by suffix."""
    path = Path(path)
    write = _writer(path.suffix.lower())
    with atomic_path(path) as tmp:
        write(frame, tmp)
    return path
