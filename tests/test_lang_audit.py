"""Audit of the language rule: Chinese for users by default, English with ``--lang en``.

Each worked case is run once per language (module fixture, in process): ``costperf run``
on the sanitation case, the batch review of cases/requests-2027, the single-sheet review
of cases/expenditure-requests (``-o .xlsx``, ``-o .csv`` and ``--out``), ``standards
derive/show/publish``, ``template requests`` and two bad inputs.  The tests then scan
every file a user opens (xlsx: sheet names and every cell; html: visible text and
alt/title; csv) and what was printed, in general terms:

* under zh no cell is a code or an English label of labels.csv (``approve``,
  ``composite_quota``, ``HC1 (R sandwich...)``), no ``True``/``False``, no English words
  (identifiers, paths, versions, numbers, options and JSON excepted; columns headed
  ``（英文）`` are the documented English reasons beside the Chinese ones);
* under en every run of Han characters is the user's data: it occurs in the input files
  of that case or in the shipped standard tables; and no cell is a code with an
  English label of its own.

A check that finds a defect is marked ``xfail(strict=True)`` naming it, so a fix turns
it into a failure to be unmarked.  tests/test_messages.py (the label table and the raise
sites) and tests/test_records_lang.py (the ``records`` actions) are not repeated here.
"""

from __future__ import annotations

import csv
import io
import json
import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest

from conftest import CASES, REPO, SANITATION, copy_case, review_2027_args, run_cli
from costperf.columns import code_labels

#: a scan of every output of every worked case in both languages (about 40 s of CPU):
#: run with -m slow; each defect it found has its own exact-word test in the default run
pytestmark = pytest.mark.slow

EXPENDITURE = CASES / "expenditure-requests"
SRC = REPO / "src" / "costperf"
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
#: a token that is an identifier, path, version, number, hash or option, not a word
ID_TOKEN = re.compile(r"\S*[_@/\\.\[\]:=#0-9]\S*|(?<!\S)--?[A-Za-z]\S*")
WORD = re.compile(r"(?<![A-Za-z])[a-z]{3,}(?![A-Za-z])")
#: English words that are names, not text: the program, the solvers
NAMES = {"costperf", "highs", "cbc"}
TABLE_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+")
TOKEN_SPLIT = re.compile(r"[\s，；：、（）()“”\"',;:]+")


# --- the runs --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """``{lang: {"root": folder, "said": {name: (status, stdout, stderr)}}}``."""
    result = {}
    for lang in ("zh", "en"):
        root = tmp_path_factory.mktemp(f"lang-{lang}")
        case = copy_case(root / "case")
        bad = root / "bad"
        bad.mkdir()
        _bad_inputs(bad)
        said = {}
        runs = {
            "run": ("run", case, "--out", root / "run"),
            "review27": review_2027_args(root / "review27", root / "review27.sqlite"),
            "expenditure_xlsx": ("review", EXPENDITURE / "requests.csv", "-o", root / "reviewed.xlsx"),
            "expenditure_csv": ("review", EXPENDITURE / "requests.csv", "-o", root / "reviewed.csv"),
            "expenditure_out": ("review", EXPENDITURE / "requests.csv", "--out", root / "expenditure"),
            "derive": ("standards", "derive", case, "--out", root / "derived"),
            "show": ("standards", "show", "meeting-fee"),
            "publish_xlsx": ("standards", "publish", "meeting-fee", "--format", "xlsx",
                             "-o", root / "meeting.xlsx"),
            "publish_html": ("standards", "publish", "meeting-fee", "--format", "html",
                             "-o", root / "meeting.html"),
            "template": ("template", "requests", "-o", root / "template.xlsx"),
            "bad_header": ("review", bad / "header.csv", "-o", bad / "h.xlsx"),
            "text_in_number": ("review", bad / "number.csv", "-o", bad / "n.xlsx"),
        }  # fmt: skip
        for name, args in runs.items():
            said[name] = run_cli(*args, "--lang", lang, cwd=root)
        result[lang] = {"root": root, "said": said}
    return result


def _bad_inputs(folder: Path) -> None:
    """The expenditure requests with a wrong header, and with a text in a number column."""
    rows = list(csv.reader(io.StringIO((EXPENDITURE / "requests.csv").read_text("utf-8-sig"))))
    col = rows[0].index("申报数")
    header = [list(r) for r in rows]
    header[0][col] = "申报金额X"
    number = [list(r) for r in rows]
    number[2][col] = "一万元"
    for name, table in (("header.csv", header), ("number.csv", number)):
        with (folder / name).open("w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows(table)


#: the outputs a user opens, by group: (globs under the run folder, the case inputs)
OUTPUTS = {
    "run/report.xlsx": (["run/report.xlsx"], SANITATION),
    "run/report.html": (["run/report.html"], SANITATION),
    "run/hw-uc-v1 publication": (["run/hw-uc-v1.xlsx", "run/hw-uc-v1.html"], SANITATION),
    "run/optimize csv": (["run/optimize/*.csv"], SANITATION),
    "review27/review.xlsx": (["review27/review.xlsx"], CASES / "requests-2027"),
    "review27 pages": (["review27/summary.html", "review27/forms/*.html"], CASES / "requests-2027"),
    "review27 csv": (["review27/*.csv"], CASES / "requests-2027"),
    "review -o reviewed.xlsx": (["reviewed.xlsx"], EXPENDITURE),
    "review -o reviewed.csv": (["reviewed.csv"], EXPENDITURE),
    "review --out (expenditure)": (["expenditure/*.xlsx", "expenditure/*.csv",
                                    "expenditure/*.html", "expenditure/forms/*.html"], EXPENDITURE),
    "standards publish meeting-fee": (["meeting.xlsx", "meeting.html"], None),
    "standards derive csv": (["derived/*.csv"], SANITATION),
    "template requests": (["template.xlsx"], None),
}  # fmt: skip


def _files(made: dict, lang: str, group: str) -> list[Path]:
    root = made[lang]["root"]
    files = sorted({p for pattern in OUTPUTS[group][0] for p in root.glob(pattern)})
    assert files, (group, "no output written", made[lang]["said"])
    return files


# --- reading what a user sees ----------------------------------------------------------


class _Visible(HTMLParser):
    """Visible text nodes of a page, and its alt/title/aria-label texts."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("style", "script"):
            self._hidden += 1
        self.texts += [v for k, v in attrs if k in ("alt", "title", "aria-label") and v]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.texts.append(data.strip())


def cells(path: Path) -> list[tuple[str, str, object]]:
    """(where, header, value) of everything shown in an xlsx, csv or html file.

    A sheet's header row is the first row with two or more cells (a title may be above);
    sheet names come as cells of their own (header ``<sheet>``), but for a sheet named
    after the file (``-o reviewed.xlsx``) or after a table id (``meeting-fee``)."""
    out: list[tuple[str, str, object]] = []
    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        for ws in book.worksheets:
            if ws.title != path.stem and not TABLE_ID.fullmatch(ws.title):
                out.append((f"{path.name}:{ws.title}", "<sheet>", ws.title))
            header: list[str] | None = None
            for row in ws.iter_rows(values_only=True):
                for j, value in enumerate(row):
                    if value is not None:
                        head = header[j] if header and j < len(header) else ""
                        out.append((f"{path.name}:{ws.title}", str(head), value))
                if header is None and sum(v is not None for v in row) > 1:
                    header = ["" if v is None else str(v) for v in row]
    elif path.suffix == ".csv":
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
        out += [(path.name, "<header>", h) for h in rows[0]]
        for row in rows[1:]:
            out += [(path.name, h, v) for h, v in zip(rows[0], row, strict=False) if v != ""]
    elif path.suffix == ".html":
        page = _Visible()
        page.feed(path.read_text(encoding="utf-8"))
        out += [(path.name, "", t) for t in page.texts]
    return out


def canonical_csv(path: Path) -> bool:
    """A CSV with canonical (ASCII) headers: the machine format (``--lang en`` of the
    review and optimiser tables, the standards format), not a sheet for people."""
    if path.suffix != ".csv":
        return False
    first = path.read_text(encoding="utf-8-sig").splitlines()[0]
    return not HAN.search(first)


# --- what counts as a leak -------------------------------------------------------------


@cache
def _code_rows() -> list[tuple[str, str, str, str]]:
    """(kind, code, zh, en) of the labels.csv rows that name codes shown to users."""
    table = code_labels().reset_index()
    text_kinds = {"message", "error", "expected", "help", "progress_step"}
    rows = []
    for kind, code, zh, en in table[["kind", "code", "label_zh", "label_en"]].itertuples(
        index=False
    ):
        if re.fullmatch(r"[a-z_]+", str(kind)) and kind not in text_kinds and HAN.search(zh):
            rows.append((kind, str(code), zh, en))
    return rows


@cache
def zh_forbidden() -> frozenset[str]:
    """Codes and English labels that have a Chinese label (shown as such they leak)."""
    out = {"True", "False"}
    for _, code, zh, en in _code_rows():
        out |= {t for t in (code, en) if t and t != zh and not HAN.search(t)}
    return frozenset(out)


@cache
def shipped_notes() -> frozenset[str]:
    """The notes of the shipped standard tables (sealed text: ``standards show`` quotes
    them as the table holds them, confidence marks such as "S" included)."""
    import tomllib

    notes = set()
    for path in (REPO / "standards").glob("*.toml"):
        header = tomllib.loads(path.read_text(encoding="utf-8"))
        notes |= set(header.get("notes", []))
    return frozenset(notes)


@cache
def en_forbidden() -> frozenset[str]:
    """Codes (snake_case) whose English label differs: under en the label is shown."""
    return frozenset(code for _, code, _, en in _code_rows() if "_" in code and en and en != code)


def english_words(text: str) -> list[str]:
    """Lower-case English words of ``text`` once identifiers, paths, versions, numbers
    and options are taken out."""
    if text.lstrip().startswith(("{", "[")):  # JSON parameters: machine provenance
        return []
    words = WORD.findall(ID_TOKEN.sub(" ", text))
    return [w for w in words if w not in NAMES]


def zh_leaks(items: list[tuple[str, str, object]]) -> set[tuple[str, str, str]]:
    """(where, header, text) of the cells a Chinese user should not see."""
    found = set()
    for where, head, value in items:
        if isinstance(value, bool):
            found.add((where, head, repr(value)))
            continue
        if not isinstance(value, str) or "英文" in head:
            continue
        text = value.strip()
        if text in zh_forbidden() or english_words(text):
            found.add((where, head, text[:160]))
    return found


@cache
def vocabulary(case: Path | None) -> str:
    """All text of a case's inputs and of the shipped standards and policies: where the
    Chinese of the user's data comes from."""
    folders = [REPO / "standards", REPO / "policies"] + ([case] if case else [])
    texts = []
    for folder in folders:
        for p in sorted(folder.rglob("*")):
            if p.suffix in {".csv", ".toml"} and "expected" not in p.parts:
                texts.append(p.read_text(encoding="utf-8-sig", errors="replace"))
    return "\n".join(texts)


def en_leaks(items: list[tuple[str, str, object]], case: Path | None, *, codes: bool = True):
    """(where, header, text) of the cells with Han characters no input holds, and (with
    ``codes``) of the cells that are snake_case codes with an English label."""
    data = vocabulary(case)
    found = set()
    for where, head, value in items:
        if not isinstance(value, str):
            continue
        made_here = [run for run in HAN.findall(value) if run not in data]
        if made_here or (codes and value.strip() in en_forbidden()):
            found.add((where, head, value[:160]))
    return found


# --- zh: no codes, no English ------------------------------------------------------------

ZH_DEFECTS: dict[str, str] = {}


@pytest.mark.parametrize(
    "group",
    [
        pytest.param(g, marks=pytest.mark.xfail(strict=True, reason=ZH_DEFECTS[g]))
        if g in ZH_DEFECTS
        else g
        for g in OUTPUTS
    ],
)
def test_zh_outputs_show_words_not_codes(made, group) -> None:
    items = []
    for path in _files(made, "zh", group):
        if not canonical_csv(path):  # the standards format keeps canonical columns
            items += cells(path)
    assert items
    leaks = zh_leaks(items)
    assert not leaks, sorted(leaks)[:25]


ZH_PRINTED_DEFECTS: dict[str, str] = {}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=ZH_PRINTED_DEFECTS[n]))
        if n in ZH_PRINTED_DEFECTS
        else n
        for n in ("run", "review27", "expenditure_xlsx", "expenditure_out", "derive", "show",
                  "publish_xlsx", "template")
    ],
)  # fmt: skip
def test_zh_printed_lines_have_no_codes(made, name) -> None:
    code, out, err = made["zh"]["said"][name]
    assert code == 0, err
    root = str(made["zh"]["root"])
    bad = []
    for line in (out + err).replace(root, "DIR").splitlines():
        if re.sub(r"^\d+\. ", "", line) in shipped_notes():
            continue  # a sealed table's own note, quoted as written (its "S" is the source's)
        tokens = set(TOKEN_SPLIT.split(line))
        if tokens & zh_forbidden() or english_words(line):
            bad.append(line)
    assert HAN.search(out), out
    assert not bad, bad[:10]


# --- en: no Chinese but the user's data ---------------------------------------------------

EN_DEFECTS: dict[str, str] = {}


@pytest.mark.parametrize(
    "group",
    [
        pytest.param(g, marks=pytest.mark.xfail(strict=True, reason=EN_DEFECTS[g]))
        if g in EN_DEFECTS
        else g
        for g in OUTPUTS
    ],
)
def test_en_outputs_have_no_chinese_of_costperf(made, group) -> None:
    case, leaks, seen = OUTPUTS[group][1], set(), 0
    for path in _files(made, "en", group):
        found, machine = cells(path), canonical_csv(path)
        if machine:  # the machine format: canonical codes, and its *_zh columns documented
            found = [c for c in found if not c[1].endswith("_zh") and c[1] != "<header>"]
        seen += len(found)
        leaks |= en_leaks(found, case, codes=not machine)
    assert seen
    assert not leaks, sorted(leaks)[:25]


EN_PRINTED_DEFECTS: dict[str, str] = {}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=EN_PRINTED_DEFECTS[n]))
        if n in EN_PRINTED_DEFECTS
        else n
        for n in ("run", "review27", "expenditure_xlsx", "expenditure_out", "derive", "show",
                  "publish_xlsx", "template")
    ],
)  # fmt: skip
def test_en_printed_lines_have_no_chinese_of_costperf(made, name) -> None:
    code, out, err = made["en"]["said"][name]
    assert code == 0, err
    case = {"run": SANITATION, "derive": SANITATION, "review27": CASES / "requests-2027"}.get(
        name, EXPENDITURE
    )
    data = vocabulary(case)
    bad = []
    for line in (out + err).splitlines():
        made_here = [run for run in HAN.findall(line) if run not in data]
        tokens = set(TOKEN_SPLIT.split(line))
        if made_here or tokens & en_forbidden() or "元/" in line:
            bad.append(line)
    assert not bad, bad[:10]


# --- error messages -----------------------------------------------------------------------

QUOTED = re.compile(r"'[^']*'|“[^”]*”|\S*\.csv\S*")


@pytest.mark.parametrize(
    ("name", "lang"),
    [
        ("bad_header", "zh"),
        ("bad_header", "en"),
        ("text_in_number", "zh"),
        ("text_in_number", "en"),
    ],
)
def test_an_input_error_reads_in_one_language(made, name, lang) -> None:
    """Exit 2, and outside the quoted values and file names (the user's own words) the
    message is Chinese only (zh) or English only (en)."""
    code, out, err = made[lang]["said"][name]
    assert code == 2 and out == "" and "Traceback" not in err
    lines = [QUOTED.sub(" ", line) for line in err.splitlines() if line.strip()]
    assert lines
    if lang == "zh":
        bad = [line for line in lines if english_words(line)]
    else:
        bad = [line for line in lines if HAN.search(line)]
    assert not bad, bad


# --- texts built outside the label table ------------------------------------------------

FSTRING_CJK = re.compile(r"""\bf(["'])(?:(?!\1).)*[\u4e00-\u9fff](?:(?!\1).)*\1""")


def test_no_chinese_text_is_built_outside_the_label_table() -> None:
    """Every Chinese text a user sees is a labels.csv/columns.csv row (templates with
    placeholders); an f-string holding Chinese in src/ bypasses the table."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.lstrip().startswith("#") and FSTRING_CJK.search(line):
                found.append(f"{path.relative_to(SRC)}:{number}: {line.strip()[:100]}")
    assert not found, "\n".join(found)


def test_summary_json_is_machine_facing(made) -> None:
    """summary.json keeps canonical keys and codes in both languages (not translated)."""
    keys = []
    for lang in ("zh", "en"):
        summary = json.loads((made[lang]["root"] / "run" / "summary.json").read_text("utf-8"))
        keys.append(sorted(summary))
        assert not [k for k in summary if HAN.search(k)]
    assert keys[0] == keys[1]
