"""No formula in any export: every text cell written for a spreadsheet stays text.

Each test writes text that Excel or WPS would run ("=HYPERLINK(...)", "\\t=1+1", "+1",
"-2+3", "@SUM(A1)") through one of costperf's writers, reads the file back with
openpyxl (or as CSV) and checks that no cell is a formula and that the text got the
leading apostrophe (OWASP), while numbers stay numbers.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from costperf.cli import main
from costperf.commands._tables import write_tables
from costperf.errors import InputError, located_error
from costperf.io.write import neutralise_frame, neutralise_text, write_problems, write_table
from costperf.report.excel import write_workbook
from costperf.report.html import Section, render_report
from costperf.report.standard_page import build_publication
from costperf.report.standard_page import write_workbook as write_publication
from costperf.standards import shipped_standards

HOSTILE = ['=HYPERLINK("http://x","y")', "\t=1+1", "+1", "-2+3", "@SUM(A1)", "\r=1", "ok"]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "project_id": HOSTILE,
            "amount": [1.5, -2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            "mixed": ["=1", 2, None, "-x", 3.5, "a", "b"],
            "=header": range(7),
        }
    )


def _cells(path: Path) -> list[openpyxl.cell.cell.Cell]:
    book = openpyxl.load_workbook(path)  # not data_only: formulas would show as 'f'
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def _assert_no_formula(path: Path) -> list[object]:
    cells = _cells(path)
    formulas = [(c.coordinate, c.value) for c in cells if c.data_type == "f"]
    assert formulas == []
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert not [t for t in texts if t.startswith(("=", "+", "-", "@", "\t", "\r"))]
    return [c.value for c in cells]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1", "'\r=1"),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("a=1", "a=1"),
        ("", ""),
        (-2.0, -2.0),
        (3, 3),
        (None, None),
    ],
)
def test_neutralise_text(value: object, shown: object) -> None:
    assert neutralise_text(value) == shown


def test_neutralise_frame_keeps_numbers_and_the_input() -> None:
    frame = _frame()
    out = neutralise_frame(frame)
    assert out["project_id"].tolist() == ["'" + v for v in HOSTILE[:-1]] + ["ok"]
    assert out["amount"].tolist() == frame["amount"].tolist()
    assert out["mixed"].tolist()[:4] == ["'=1", 2, None, "'-x"]
    assert list(out.columns) == ["project_id", "amount", "mixed", "'=header"]
    assert frame["project_id"].tolist() == HOSTILE  # the input is not changed
    categorical = neutralise_frame(pd.DataFrame({"c": pd.Categorical(["=a", "b", "=a"])}))
    assert categorical["c"].tolist() == ["'=a", "b", "'=a"]
    # text beside numpy numbers, booleans and None (an object column of a hand-built table)
    odd = pd.Series(["=x", np.int64(3), np.float64(2.5), True, None, "+1", b"=b"], dtype=object)
    shown = neutralise_frame(pd.DataFrame({"o": odd}))["o"].tolist()
    assert shown == ["'=x", 3, 2.5, True, None, "'+1", b"=b"]


def test_write_table_xlsx(tmp_path: Path) -> None:
    path = write_table(_frame(), tmp_path / "t.xlsx", lang="zh")
    values = _assert_no_formula(path)
    assert "'\t=1+1" in values and '\'=HYPERLINK("http://x","y")' in values
    sheet = openpyxl.load_workbook(path).active
    assert [sheet.cell(r, 2).value for r in range(2, 4)] == [1.5, -2.0]  # numbers stay numbers
    assert sheet.cell(2, 2).data_type == "n"


def test_write_table_csv(tmp_path: Path) -> None:
    path = write_table(_frame(), tmp_path / "t.csv", lang="zh")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["project_id", "amount", "mixed", "'=header"]
    assert [r[0] for r in rows[1:]] == ["'" + v for v in HOSTILE[:-1]] + ["ok"]
    assert [r[1] for r in rows[1:3]] == ["1.5", "-2.0"]  # negative numbers stay numbers


def test_report_workbook_title_headers_and_cells(tmp_path: Path) -> None:
    path = write_workbook({"明细": _frame()}, tmp_path / "report.xlsx", title="=cmd|' /C calc'!A0")
    values = _assert_no_formula(path)
    assert values[0] == "'=cmd|' /C calc'!A0 — 明细"
    assert "'=header" in values


def test_command_workbooks(tmp_path: Path) -> None:
    (path,) = write_tables([("a", "表一", _frame()), ("b", "表二", _frame())], tmp_path / "o.xlsx")
    values = _assert_no_formula(path)
    assert values.count("'\t=1+1") == 2


def test_published_standard_workbook(tmp_path: Path) -> None:
    pub = build_publication(shipped_standards(), "meeting-fee")
    body = [list(row) for row in pub.body]
    body[0][0] = "=1+1"
    lines = pub.lines.copy()
    lines.iloc[0, 0] = "@x"
    hostile = dataclasses.replace(
        pub, title="=t", meta=["+m"], notes=["-n"], body=body, lines=lines
    )
    path = write_publication(hostile, tmp_path / "pub.xlsx")
    values = _assert_no_formula(path)
    assert {"'=t", "'+m", "'=1+1", "'@x"} <= set(values)
    assert any(isinstance(v, float | int) for v in values)


def test_html_stays_escaped() -> None:
    frame = pd.DataFrame({"project_id": ["<script>alert(1)</script>", "=1+1"]})
    page = render_report("<b>t</b>", [Section("<h>", "<i>x</i>", [("<c>", frame)])])
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>t</b>" not in page and "<i>x</i>" not in page


def test_problems_table_is_neutralised_and_short(tmp_path: Path) -> None:
    problems = located_error("bad", source_file="=f.csv", value="=" + "x" * 5000).problems
    path = write_problems(problems, tmp_path / "p.csv")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert row["source_file"] == "'=f.csv"
    assert row["value"].startswith("'=xxx") and row["value"].endswith("(5,001 characters)")
    assert len(row["value"]) < 300


def test_review_exports_hostile_request_ids(tmp_path: Path, capsys) -> None:
    source = Path(__file__).resolve().parents[1] / "cases" / "expenditure-requests"
    requests = pd.read_csv(source / "requests.csv", dtype=str, keep_default_na=False)
    first = requests.columns[0]
    requests[first] = ['=HYPERLINK("http://evil","x")', "\t=1+1", "@A1"] + list(requests[first][3:])
    data = tmp_path / "requests.csv"
    requests.to_csv(data, index=False, encoding="utf-8-sig")
    for suffix in (".xlsx", ".csv"):
        out = tmp_path / f"reviewed{suffix}"
        assert main(["review", str(data), "-o", str(out)]) == 0, capsys.readouterr().err
        if suffix == ".xlsx":
            values = _assert_no_formula(out)
        else:
            with out.open(encoding="utf-8-sig", newline="") as fh:
                values = [cell for row in csv.reader(fh) for cell in row]
        # ids are stripped when read, so "\t=1+1" is exported as "'=1+1"
        assert {"'=1+1", "'@A1", '\'=HYPERLINK("http://evil","x")'} <= set(values)


def test_rejected_input_problems_csv_has_no_formula(tmp_path: Path, capsys) -> None:
    data = tmp_path / "d.csv"
    data.write_text("value\n=1+1\n", encoding="utf-8")
    out = tmp_path / "o.csv"
    code = main(["costmodel", str(data), "--formula", "value ~ 1", "-o", str(out), "--lang", "en"])
    assert code == 2
    problems = (tmp_path / "o.problems.csv").read_text(encoding="utf-8-sig")
    assert ",=1+1," not in problems and "'=1+1" in problems
    assert "error" in capsys.readouterr().err
    with pytest.raises(InputError):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.unknown", lang="zh")
