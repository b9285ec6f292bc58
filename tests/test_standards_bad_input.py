"""``costperf standards`` fed bad input as a finance-bureau user editing the tables
would: exit status 2 with a message naming the place, nothing half-written."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from conftest import CASES
from costperf.cli import main

REPO = Path(__file__).resolve().parents[1]
STANDARDS = REPO / "standards"


def hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file below ``folder``."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def meeting(tmp_path):
    """A folder with a copy of the central meeting-fee table."""
    folder = tmp_path / "standards"
    folder.mkdir()
    for path in STANDARDS.glob("mof-meeting-fee-2016.*"):
        shutil.copy(path, folder)
    return folder


def test_derive_into_a_file_is_refused_before_anything_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocker = tmp_path / "afile"
    blocker.write_text("x", encoding="utf-8")
    case = str(CASES / "sanitation-5-districts")
    assert main(["standards", "derive", case, "--out", str(blocker), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    assert f"{blocker}: cannot write the output folder" in err
    assert blocker.read_text(encoding="utf-8") == "x"
