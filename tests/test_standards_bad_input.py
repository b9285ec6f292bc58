"""``costperf standards`` fed bad input as a finance-bureau user editing the tables
would: exit status 2 with a message naming the place, nothing half-written."""

from __future__ import annotations

import hashlib
import re
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


def _header_mutations(header: dict) -> list[dict]:
    """The header with an unknown key added to, or a key removed from or mistyped in,
    each of its sections."""
    import copy

    def nodes(d: object, path: list) -> list:
        found = [path]
        if isinstance(d, dict):
            for k, v in d.items():
                found += nodes(v, [*path, k])
        return found

    out = []
    for path in nodes(header, []):
        parent = header
        for p in path[:-1]:
            parent = parent[p]
        node = parent[path[-1]] if path else header
        if isinstance(node, dict):
            g = copy.deepcopy(header)
            t = g
            for p in path:
                t = t[p]
            t["zzz_unknown"] = 1
            out.append(g)
        if path:
            for repl in (None, "x", -1, [1], {"a": 1}):
                g = copy.deepcopy(header)
                t = g
                for p in path[:-1]:
                    t = t[p]
                if repl is None:
                    del t[path[-1]]
                else:
                    t[path[-1]] = repl
                out.append(g)
    return out


@pytest.mark.parametrize(
    "stem", ["mof-training-fee-2016", "mof-office-equipment-2016", "mof-travel-lodging-2016"]
)
def test_every_problem_of_a_bad_header_or_value_file_reads_in_chinese(stem):
    """Unknown keys, missing keys, wrong types in every section of a header, and bad
    cells or missing columns of the value file: each problem's expected text has its
    Chinese in labels.csv (none printed as 说明（暂无中文译文）)."""
    import tomllib

    import pandas as pd

    from costperf.columns import expected_label
    from costperf.standards.format.header import check_header
    from costperf.standards.format.values import check_values

    header = tomllib.loads((STANDARDS / f"{stem}.toml").read_text(encoding="utf-8"))
    texts = set()
    for mutated in _header_mutations(header):
        texts |= set(check_header(mutated)["expected"].astype(str))  # and no exception
    raw = pd.read_csv(STANDARDS / f"{stem}.csv", dtype=str, keep_default_na=False)
    raw = raw.assign(source_file=f"{stem}.csv", sheet="", source_row=range(2, len(raw) + 2))
    columns = [c for c in raw.columns if c not in ("source_file", "sheet", "source_row")]
    for column in columns:
        for cell in ("", "x", "-1", "五类"):
            texts |= set(check_values(header, raw.assign(**{column: cell}))["expected"])
        texts |= set(check_values(header, raw.drop(columns=[column]))["expected"])
    texts |= set(check_values(header, raw.assign(zzz="1"))["expected"])
    untranslated = sorted(t for t in texts if t and expected_label(t, "zh") is None)
    assert not untranslated


@pytest.mark.parametrize(
    ("edits", "column"),
    [
        ((('kind = "composite_quota"', 'kind = "composite_quota"\nitems = 1'),), "items"),
        (
            (('kind = "composite_quota"', 'kind = "composite_quota"\ndimensions = "x"'),),
            "dimensions",
        ),
        ((('type = "option"', 'type = ["option"]'),), "rules.lodging_deduction.type"),
    ],
)
def test_a_section_of_the_wrong_type_is_a_problem_not_an_internal_error(
    meeting, tmp_path, capsys, monkeypatch, edits, column
):
    """``items = 1`` beside no [items.*] section, a rule type that is a list: exit 2
    naming the key, not an internal error."""
    monkeypatch.chdir(tmp_path)
    header = meeting / "mof-meeting-fee-2016.toml"
    text = header.read_text(encoding="utf-8")
    if column in ("items", "dimensions"):  # the [items.*] sections go: items is a plain key
        text = re.sub(rf"(?ms)^\[{column}\..*?(?=^\[(?!{column}\.))", "", text)
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    header.write_text(text, encoding="utf-8")
    assert main(["standards", "check", "--standards", str(meeting), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and "Traceback" not in err
    assert "mof-meeting-fee-2016.toml, row" in err and f"column '{column}'" in err


def test_uprate_starts_after_every_version_and_seal_refuses_a_colliding_draft(
    meeting, tmp_path, capsys, monkeypatch
):
    """A second uprate on the first's date was written (version 3 beside draft 2, both
    2027-01-01) and sealed after it, leaving a set `check` refuses; now the uprate is
    refused, and so is sealing a draft whose start collides with an issued version
    (the folder unchanged byte for byte)."""
    monkeypatch.chdir(tmp_path)
    drafts = meeting / "up"
    uprate = ["standards", "uprate", "meeting-fee", "--standards", str(meeting)]
    uprate += ["--effective", "2027-01-01", "-o", str(drafts), "--lang", "en"]
    assert main([*uprate, "--index", "1.05"]) == 0
    capsys.readouterr()
    assert main([*uprate, "--index", "1.1"]) == 2
    err = capsys.readouterr().err
    assert "--effective 2027-01-01: must be after meeting-fee@2 took effect (2027-01-01)" in err
    assert sorted(p.name for p in drafts.iterdir()) == ["meeting-fee-v2.csv", "meeting-fee-v2.toml"]
    # a version 3 made by hand on the same day: sealing 2 then 3 is refused at 3
    text = (drafts / "meeting-fee-v2.toml").read_text(encoding="utf-8")
    (drafts / "meeting-fee-v3.toml").write_text(
        text.replace("version = 2", "version = 3"), encoding="utf-8"
    )
    shutil.copy(drafts / "meeting-fee-v2.csv", drafts / "meeting-fee-v3.csv")
    seal = ["standards", "seal", "--standards", str(meeting), "--lang", "en"]
    assert main([*seal, str(drafts / "meeting-fee-v2.toml")]) == 0
    capsys.readouterr()
    before = hashes(meeting)
    assert main([*seal, "meeting-fee@3"]) == 2
    err = capsys.readouterr().err
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t.startswith("effective_from"))
    assert f"meeting-fee-v3.toml, row {line}, column 'effective_from'" in err
    assert "meeting-fee v2 and v3 start the same day" in err
    assert hashes(meeting) == before
    assert main(["standards", "check", "--standards", str(meeting)]) == 0


def draft(folder: Path) -> None:
    """Make the copied meeting-fee table a draft, so its edits are read as a draft's."""
    header = folder / "mof-meeting-fee-2016.toml"
    text = header.read_text(encoding="utf-8")
    header.write_text(text.replace('status = "published"', 'status = "draft"'), encoding="utf-8")


def test_a_wrong_unit_is_a_problem_naming_the_row(meeting, tmp_path, capsys, monkeypatch):
    """A component in 元/台 beside a composite in 元/人·天, or a quota in 万元: each
    was read as it stood (a lookup printed '150 元每人天')."""
    monkeypatch.chdir(tmp_path)
    draft(meeting)
    values = meeting / "mof-meeting-fee-2016.csv"
    text = values.read_text(encoding="utf-8")
    text = text.replace("二类会议,food,150,元/人·天", "二类会议,food,150,元/台")
    text = text.replace("一类会议,food,150,元/人·天", "一类会议,food,0.015,万元/人·天")
    values.write_text(text, encoding="utf-8")
    assert main(["standards", "check", "--standards", str(meeting)]) == 2
    err = capsys.readouterr().err
    assert "mof-meeting-fee-2016.csv，第 7 行，列“unit”：单位不一致，值 '元/台'" in err
    assert "应为综合定额合计及其组成项的单位：元/人·天" in err
    assert "第 3 行，列“unit”：金额单位不是元，值 '万元/人·天'" in err
    assert main(["standards", "check", "--standards", str(meeting), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "row 7, column 'unit': got '元/台', expected the unit of the composite total" in err


@pytest.mark.parametrize(
    ("number", "near"),
    [
        ("财行[2016]214号", "财行〔2016〕214号"),
        ("财行（2016）214", "财行〔2016〕214号"),
        ("财行〔2016〕第214号", "财行〔2016〕214号"),
        ("214", None),
    ],
)
def test_a_document_number_in_a_wrong_form_is_a_problem(
    meeting, tmp_path, capsys, monkeypatch, number, near
):
    """The value's source document is cited as written: a number with square or round
    brackets or without 号 was accepted, and printed so on every published table."""
    monkeypatch.chdir(tmp_path)
    draft(meeting)
    header = meeting / "mof-meeting-fee-2016.toml"
    text = header.read_text(encoding="utf-8")
    header.write_text(text.replace("财行〔2016〕214号", number), encoding="utf-8")
    assert main(["standards", "check", "--standards", str(meeting), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t.startswith("document_no"))
    assert f"row {line}, column 'source.document_no': got '{number}'" in err
    assert ("e.g. " + near in err) if near else "e.g." not in err
    assert main(["standards", "check", "--standards", str(meeting)]) == 2
    assert "文号格式有误" in capsys.readouterr().err


def test_an_uprated_value_names_its_basis_and_document(meeting, tmp_path, capsys, monkeypatch):
    """A lookup of an uprated version printed no source at all (its header has no
    document_no); it names the basis, the basis' document and the index, and the
    values are the documented half-up rounding to 10 yuan (525 -> 530, 157.5 -> 160)."""
    monkeypatch.chdir(tmp_path)
    drafts = meeting / "up"
    uprate = ["standards", "uprate", "meeting-fee", "--standards", str(meeting)]
    assert main([*uprate, "--index", "1.05", "--effective", "2027-01-01", "-o", str(drafts)]) == 0
    capsys.readouterr()
    lines = (drafts / "meeting-fee-v2.csv").read_text(encoding="utf-8-sig").splitlines()
    got = {tuple(line.split(",")[:3]) for line in lines[1:]}
    assert {("一类会议", "lodging", "530"), ("一类会议", "food", "160")} <= got
    assert {("一类会议", "other", "120"), ("一类会议", "total", "810")} <= got
    assert ("三类会议|四类会议", "total", "580") in got  # 360 + 140 + 80, re-summed
    lookup = ["standards", "lookup", "meeting-fee", "--standards", str(meeting), "--drafts"]
    lookup += ["--on", "2027-06-01", "--item", "total", "-d", "category=一类会议"]
    assert main(lookup) == 0
    out = capsys.readouterr().out
    assert out.startswith("810 元/人·天  meeting-fee/一类会议/total@2")
    assert "据meeting-fee@1（财行〔2016〕214号）按指数1.05调整" in out
    assert main([*lookup, "--lang", "en"]) == 0
    assert "meeting-fee@1 (财行〔2016〕214号) uprated by index 1.05" in capsys.readouterr().out


def test_lookup_names_a_misspelt_dimension(capsys):
    """-d categry=…: the misspelt name was dropped unseen and the error said the
    category was not given; it names the unknown dimension and what the table accepts."""
    args = ["standards", "lookup", "meeting-fee", "--on", "2020-01-01", "--item", "lodging"]
    assert main([*args, "-d", "categry=一类会议"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("costperf：错误：-d categry：不是 meeting-fee 的维度\n")
    assert "-d category=值（会议类别）" in err
    assert main([*args, "-d", "categry=一类会议", "--lang", "en"]) == 2
    assert "-d categry: not a dimension of meeting-fee" in capsys.readouterr().err
    assert main([*args, "-d", "会议类别=一类会议"]) == 0  # a dimension by its label
    assert capsys.readouterr().out.startswith("500 元/人·天")


def test_an_overlapping_end_names_its_line(tmp_path, capsys, monkeypatch):
    """A retired version's effective_to inside the next version: the problem names the
    line of effective_to in its header (it named the column only)."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "standards"
    folder.mkdir()
    for path in STANDARDS.glob("mof-travel-lodging-201*"):
        shutil.copy(path, folder)
    header = folder / "mof-travel-lodging-2014.toml"
    text = header.read_text(encoding="utf-8")
    header.write_text(re.sub(r"(?m)^effective_to = .*$", "effective_to = 2016-03-01", text))
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t.startswith("effective_to"))
    before = hashes(folder)
    assert main(["standards", "check", "--standards", str(folder), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert (
        f"mof-travel-lodging-2014.toml, row {line}, column 'effective_to': got '2016-03-01'" in err
    )
    assert hashes(folder) == before


def test_a_value_file_without_item_names_the_column_as_written(
    meeting, tmp_path, capsys, monkeypatch
):
    """A missing 'item' column was shown as 列“明细名称” (a request book's label) while
    the file must say 'item'; a file saved with semicolons says so."""
    monkeypatch.chdir(tmp_path)
    draft(meeting)
    values = meeting / "mof-meeting-fee-2016.csv"
    text = values.read_text(encoding="utf-8-sig")
    values.write_text(text.replace("category,item,", "category,itme,", 1), encoding="utf-8")
    assert main(["standards", "check", "--standards", str(meeting)]) == 2
    err = capsys.readouterr().err
    assert "第 1 行，列“item”：数值文件缺少列，值 'item'，应为数值文件中的列 'item'\n" in err
    assert "明细名称" not in err
    values.write_text(text.replace(",", ";"), encoding="utf-8")
    assert main(["standards", "check", "--standards", str(meeting)]) == 2
    assert "列 'value'（分隔符似为分号；请另存为逗号分隔的 CSV）" in capsys.readouterr().err


def test_a_header_problem_does_not_hide_the_value_problems(meeting, tmp_path, capsys, monkeypatch):
    """A misspelt required key (isuer) stopped the check before the sections and the
    value rows: '四百' in the same table came only on the next run."""
    monkeypatch.chdir(tmp_path)
    draft(meeting)
    header = meeting / "mof-meeting-fee-2016.toml"
    header.write_text(header.read_text(encoding="utf-8").replace("issuer =", "isuer ="))
    values = meeting / "mof-meeting-fee-2016.csv"
    text = values.read_text(encoding="utf-8-sig")
    values.write_text(
        text.replace("二类会议,lodging,400", "二类会议,lodging,四百"), encoding="utf-8"
    )
    assert main(["standards", "check", "--standards", str(meeting), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "column 'isuer'" in err and "column 'issuer'" in err
    assert "mof-meeting-fee-2016.csv, row 6, column 'value': got '四百'" in err
