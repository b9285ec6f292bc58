"""Write a batch review's outputs and its records.

``OUT/review.xlsx`` (汇总, 项目, 明细, 待人工复核; formatted for printing),
``projects.csv`` and ``lines.csv``, ``forms/<project>.html`` (one 评审意见表 per
project), ``summary.html`` and ``summary.json``.  Everything is rendered first, each
file moved into place atomically, and the records committed last, in one transaction:
a batch whose outputs fail leaves the store as it was.  A batch whose inputs,
standards and parameters are already in the store records nothing new and says which
batch holds them.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd

from costperf import __version__
from costperf.columns import to_display
from costperf.io.write import (
    check_destinations,
    folder_mode,
    write_new_text,
    write_table,
    write_text,
)
from costperf.records import check_store, find_batch, new_run_id, params_hash, write_batch
from costperf.report.excel import write_workbook
from costperf.report.review_book import (
    as_of_line,
    display_tables,
    print_columns,
    review_form,
    shown_result,
    split_rows,
    summary_charts,
    summary_page,
    words,
)
from costperf.report.webfont import font_rule, with_font_link
from costperf.review.batch.book import RequestBook
from costperf.review.batch.decide import BatchResult
from costperf.standards import StandardSet


def file_hashes(paths: list[str]) -> dict[str, str]:
    """``name -> sha256`` of every input file (the files of a folder book included)."""
    out = {}
    for name in paths:
        path = Path(name)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            out[str(file)] = hashlib.sha256(file.read_bytes()).hexdigest()
    return out


def standards_fingerprint(standards: StandardSet) -> list[dict]:
    """Every table version read, with its content hash (what "the same standards" means)."""
    cols = ["table_id", "version", "status", "content_hash"]
    return standards.tables[cols].astype(str).to_dict("records")


def _clean(value: object) -> object:
    if isinstance(value, float) and value != value:
        return None
    return value.item() if hasattr(value, "item") else value


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _clean(v) for k, v in r.items()} for r in frame.to_dict("records")]


#: A form's file name in UTF-8 bytes, at most: file systems allow 255 bytes for a
#: name, which leaves room for ".html" and the underscores that tell twins apart.
NAME_BYTES = 200
#: the stylesheet beside the forms holding their font (no form is named *.css)
FORMS_FONT = "font.css"


def _safe_name(project_id: object) -> str:
    """A file name for a project's form: unsafe characters as "_", cut on a whole
    character to NAME_BYTES bytes (a project code of 90 Chinese characters is 270)."""
    text = re.sub(r"[^\w.\-（）()]+", "_", str(project_id)).strip("._") or "project"
    cut = text.encode("utf-8")[:NAME_BYTES].decode("utf-8", errors="ignore")
    return cut.rstrip("._") or "project"


def csv_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A decision table as the Chinese CSV shows it: Chinese headers, codes as words
    (通过/核减, 是/否, 成本要素 and rule names), as on the review.xlsx sheet, keeping
    the English reasons beside the Chinese ones (``--lang en``: canonical codes)."""
    from costperf.columns import label
    from costperf.report.formats import label_codes

    shown = label_codes(words(frame, "zh"), "zh")
    if "route" in frame:  # how the line was matched: the column it was matched by
        routes = frame["route"]  # a few distinct codes: each labelled once
        shown["route"] = routes.map({c: label(c, "zh") for c in routes.dropna().unique()})
    english = [c for c in ("manual_review_reason_en", "reason_en") if c in frame]
    return to_display(shown.join(frame[english]), "zh")


def write_review_outputs(
    result: BatchResult,
    book: RequestBook,
    standards: StandardSet,
    out_dir: Path,
    *,
    parameters: Mapping[str, object],
    records_path: Path | None,
    lang: str = "zh",
    title: str | None = None,
    on_step: Callable[[str], None] | None = None,
) -> dict:
    """Write every output of a batch; return the summary dictionary (with the batch id).

    ``title`` heads the workbook and the summary page (default: 预算评审结果 in ``lang``).
    """
    from costperf.columns import message

    title = title or message("review.batch_title", lang)
    step = on_step or (lambda name: None)
    inputs = file_hashes([str(Path(p).resolve()) for p in book.sources])  # where, wherever run
    stds = standards_fingerprint(standards)
    inputs_hash = params_hash(sorted(inputs.values()))
    versions = [f"{r['table_id']}@{r['version']}#{r['content_hash']}" for r in stds]
    held = None
    if records_path is not None:
        check_store(records_path)
        held = find_batch(records_path, inputs_hash, versions, dict(parameters))
    batch_id = held or new_run_id()
    recorded = batch_id if records_path is not None else None  # no store: no batch to name
    as_of = as_of_line(parameters.get("date"), recorded, lang)
    summary = {
        "costperf_version": __version__,
        "batch_id": recorded,
        "already_recorded": held is not None,
        "records": str(records_path) if records_path is not None else None,
        "inputs": inputs,
        "parameters": dict(parameters),
        "standards_used": _records(result.standards_used),
        "totals": dict(result.totals),
        "summaries": {k: _records(v) for k, v in result.summaries.items()},
        "projects": _records(
            result.projects[
                [
                    "project_id",
                    "department",
                    "requested",
                    "approved",
                    "cut",
                    "cut_rate",
                    "decision",
                    "manual_review",
                    "target_check",
                ]
            ]
        ),
    }
    names = ("review.xlsx", "projects.csv", "lines.csv", "summary.html", "summary.json")
    check_destinations([out_dir / n for n in names], [out_dir / "forms"])  # none half-done
    out_dir.mkdir(parents=True, exist_ok=True)
    stored, result = result, shown_result(result, lang)  # the records keep what is stored
    png = summary_charts(result, lang)  # first: a worker may draw them meanwhile
    step("review.xlsx")
    write_workbook(  # the display tables, copies of the batch's, freed once written
        split_rows(display_tables(result, lang)),
        out_dir / "review.xlsx",
        lang=lang,
        title=title,
        subtitle=as_of,
        print_columns=print_columns(lang),
    )
    step("csv")
    for name, frame in (("projects.csv", result.projects), ("lines.csv", result.lines)):
        write_table(csv_table(frame) if lang == "zh" else frame, out_dir / name, lang=lang)
    step("forms")
    _write_forms(result, out_dir / "forms", as_of, lang)
    step("summary")
    page = summary_page(result, title=title, lang=lang, charts=png, as_of=as_of)
    write_text(page, out_dir / "summary.html")
    write_text(
        json.dumps(summary, ensure_ascii=False, indent=2, default=str), out_dir / "summary.json"
    )
    if records_path is not None and held is None:
        step("records")
        write_batch(
            records_path,
            projects=stored.projects.rename(columns={"project_rule": "rule"}).assign(
                approvable=stored.projects["project_cap"]  # the record's cap column
            ),
            lines=stored.lines,
            inputs_hash=inputs_hash,
            standards_versions=versions,
            params=dict(parameters),
            summary={"totals": dict(stored.totals), "inputs": inputs, "standards": stds},
            source_files=list(inputs),
            version=__version__,
            run_id=batch_id,
        )
    return summary


FORM_LINE_COLUMNS = [
    "project_id",
    "line_no",
    "item",
    "requested",
    "approved",
    "cut",
    "reason_zh",
    "reason_en",
    "manual_review",
    "manual_review_reason_zh",
    "manual_review_reason_en",
    "standard_version",
]


def _write_forms(result: BatchResult, folder: Path, as_of: str, lang: str) -> None:
    """One form per project, written in a scratch folder and moved over the old ones."""
    used = {f"{r['table_id']}@{r['version']}": r for r in _records(result.standards_used)}
    lines = result.lines.reindex(columns=FORM_LINE_COLUMNS)
    cited: dict[object, set[str]] = {}  # the versions each project's lines used
    versions = lines[["project_id", "standard_version"]].dropna().drop_duplicates()
    for pid, text in zip(
        versions["project_id"].tolist(), versions["standard_version"].astype(str), strict=True
    ):
        cited.setdefault(pid, set()).update(text.split("; "))
    # a form lists only the lines cut or flagged: only those become dicts
    cut = pd.to_numeric(lines["cut"], errors="coerce").fillna(0).to_numpy() > 0
    flagged = lines["manual_review"].fillna(False).astype(bool).to_numpy()
    shown = lines[cut | flagged]
    rows: dict[object, list[dict]] = {}
    for row in shown.astype(object).where(shown.notna(), None).to_dict("records"):
        rows.setdefault(row["project_id"], []).append(row)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".forms-") as scratch:
        scratch = Path(scratch)
        names: set[str] = set()
        pages: dict[str, str] = {}
        projects = result.projects.astype(object).where(result.projects.notna(), None)
        for project in projects.to_dict("records"):
            mine = rows.get(project["project_id"], [])
            refs = {str(project.get("standard_version") or "")}
            refs |= cited.get(project["project_id"], set())
            name = _safe_name(project["project_id"])
            while name.casefold() in names:  # one file on a case-blind file system
                name += "_"
            names.add(name.casefold())
            cites = [used[ref] for ref in sorted(refs) if ref in used]
            pages[name] = review_form(project, mine, cites, as_of=as_of, lang=lang)
        # one font subset covering every form, in one stylesheet they all link
        write_new_text(font_rule(pages.values()), scratch / FORMS_FONT)
        for name, page in pages.items():
            write_new_text(with_font_link(page, FORMS_FONT), scratch / f"{name}.html")
        mode = folder_mode(folder)
        if folder.exists():
            shutil.rmtree(folder)
        scratch.chmod(mode)
        scratch.rename(folder)
        scratch.mkdir()  # TemporaryDirectory removes what is at its path on exit
