"""Outputs that cannot be written are input errors naming the file (exit 2); an
output never overwrites the input; modes follow the umask; no temporary file stays."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from costperf.cli import main
from costperf.errors import InputError
from costperf.io import atomic_path, write_table, write_text
from costperf.io import write as write_module

REQUESTS = Path(__file__).resolve().parents[1] / "cases" / "expenditure-requests" / "requests.csv"


@pytest.fixture
def requests(tmp_path: Path) -> Path:
    path = tmp_path / "requests.csv"
    path.write_bytes(REQUESTS.read_bytes())
    return path


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*.tmp*"))


def test_review_output_under_a_file(tmp_path: Path, requests: Path, capsys) -> None:
    (tmp_path / "afile").write_text("x")
    code = main(
        ["review", str(requests), "-o", str(tmp_path / "afile" / "out.csv"), "--lang", "en"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert (
        "afile/out.csv: cannot write the output: " in err and "afile is a file, not a folder" in err
    )


def test_review_output_is_a_folder(tmp_path: Path, requests: Path, capsys) -> None:
    (tmp_path / "out.csv").mkdir()
    assert main(["review", str(requests), "-o", str(tmp_path / "out.csv"), "--lang", "en"]) == 2
    assert "out.csv: cannot write the output: it is a folder" in capsys.readouterr().err
    assert _leftovers(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_review_into_a_read_only_folder(tmp_path: Path, requests: Path, capsys) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        assert main(["review", str(requests), "-o", str(folder / "out.csv")]) == 2
    finally:
        folder.chmod(0o755)
    assert "ro/out.csv: cannot write the output: Permission denied" in capsys.readouterr().err


def test_a_refused_write_is_an_input_error(tmp_path: Path, requests: Path, monkeypatch, capsys):
    """What a read-only folder or a full disk gives (simulated: this suite may run as root)."""

    def denied(path: Path) -> Path:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(write_module, "_new_temp", denied)
    assert main(["review", str(requests), "-o", str(tmp_path / "out.xlsx"), "--lang", "en"]) == 2
    assert "out.xlsx: cannot write the output: Permission denied" in capsys.readouterr().err

    monkeypatch.undo()
    with pytest.raises(InputError, match=r"t.csv: cannot write the output: No space left"):
        with atomic_path(tmp_path / "t.csv"):
            raise OSError(28, "No space left on device")
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("spelling", ["same", "dotted", "symlink"])
def test_output_equal_to_the_input_is_refused(
    tmp_path: Path, requests: Path, spelling: str, capsys
) -> None:
    before = requests.read_bytes()
    output = {
        "same": requests,
        "dotted": tmp_path / "sub" / ".." / "requests.csv",
        "symlink": tmp_path / "link.csv",
    }[spelling]
    if spelling == "symlink":
        output.symlink_to(requests)
    code = main(["review", str(requests), "-o", str(output), "--lang", "en"])
    err = capsys.readouterr().err
    assert code == 2
    assert "-o/--output names the input file (REQUESTS); it would be overwritten" in err
    assert requests.read_bytes() == before


def test_problems_path_equal_to_the_input_is_refused(tmp_path: Path, requests: Path, capsys):
    before = requests.read_bytes()
    code = main(
        ["--problems", str(requests), "review", str(requests), "-o", str(tmp_path / "o.csv")]
    )
    assert code == 2
    assert "--problems names the input file" in capsys.readouterr().err
    assert requests.read_bytes() == before


def test_costmodel_vif_equal_to_the_data_is_refused(tmp_path: Path, capsys) -> None:
    data = tmp_path / "d.csv"
    data.write_text("y,x\n1,2\n2,3\n3,5\n", encoding="utf-8")
    argv = ["costmodel", str(data), "--formula", "y ~ x", "-o", str(tmp_path / "c.csv")]
    assert main([*argv, "--vif", str(data), "--lang", "en"]) == 2
    assert "--vif names the input file (DATA)" in capsys.readouterr().err
    assert data.read_text(encoding="utf-8") == "y,x\n1,2\n2,3\n3,5\n"


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet", ".txt"])
def test_new_outputs_get_the_umask_mode_and_replaced_ones_keep_theirs(
    tmp_path: Path, umask_022, suffix: str
) -> None:
    path = tmp_path / f"t{suffix}"
    write = (
        (lambda p: write_text("x", p))
        if suffix == ".txt"
        else (lambda p: write_table(pd.DataFrame({"a": [1]}), p, lang="zh"))
    )
    write(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    path.chmod(0o640)
    write(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert _leftovers(tmp_path) == []


def test_run_outputs_get_the_umask_mode(good_run) -> None:
    """Not 0600 from the temporary file: colleagues on a shared server can read them."""
    umask = os.umask(0)
    os.umask(umask)
    for name in ("summary.json", "report.xlsx", "report.html"):
        mode = stat.S_IMODE((good_run["out"] / name).stat().st_mode)
        assert mode == 0o666 & ~umask, (name, oct(mode))
    assert _leftovers(good_run["out"]) == []


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("old")

    class Boom(Exception):
        pass

    with pytest.raises(Boom), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise Boom
    with pytest.raises(KeyboardInterrupt), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert path.read_text() == "old"
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("command", "blocker", "kind"),
    [
        ("review", "forms", "file"),
        ("review", "summary.json", "folder"),
        ("run", "report.html", "folder"),
        ("run", "standards", "file"),
    ],
)
def test_an_output_in_the_way_is_refused_before_anything_is_written(
    tmp_path, capsys, command, blocker, kind
) -> None:
    """Found by an audit: --out/forms as a file was an internal error (exit 1), and a
    folder named summary.json failed the batch after 280 other files were written."""
    from conftest import CASES, SANITATION

    out = tmp_path / "out"
    out.mkdir()
    (out / blocker).mkdir() if kind == "folder" else (out / blocker).write_text("x")
    before = sorted(p.name for p in out.iterdir())
    if command == "review":
        requests = CASES / "expenditure-requests" / "requests.csv"
        args = ["review", str(requests), "--date", "2024-03-01", "--out", str(out)]
    else:
        args = ["run", str(SANITATION), "--out", str(out), "--no-records"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert str(out / blocker) in err and "内部错误" not in err
    assert sorted(p.name for p in out.iterdir()) == sorted([*before, "problems.csv"])
