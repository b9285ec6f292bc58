"""Write the optimiser's outputs (``DIR/optimize/``) and its records.

``plan.csv``, ``constraints.csv``, ``projects.csv``/``groups.csv`` (portfolio),
``current_issues.csv`` (rows the current plan misses), ``infeasibility.csv`` (when the
constraints cannot all hold) and, from ``costperf optimize``, ``report.html``; the
totals go to ``summary.json`` under ``optimize``. Everything is rendered first, each
file moved into place atomically (:mod:`costperf.io.write`), and the proposals are
recorded last, in one transaction (:func:`costperf.records.write_proposals`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from costperf import __version__
from costperf.columns import to_display
from costperf.io.write import atomic_path, write_table, write_text

FOLDER = "optimize"


def _clean(value: object) -> object:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _clean(v) for k, v in r.items()} for r in frame.to_dict("records")]


def inputs_hash(paths: Mapping[str, Path]) -> str:
    """SHA-256 (16 hex digits) over the model's files (names and bytes)."""
    digest = hashlib.sha256()
    for name in sorted(paths):
        digest.update(name.encode())
        digest.update(Path(paths[name]).read_bytes())
    return digest.hexdigest()[:16]


def output_tables(proposal, lang: str = "zh") -> dict[str, pd.DataFrame]:
    """File name -> frame to write: Chinese headers and codes as words for ``zh`` (约束类型
    绩效基线, 是/否, 单位成本来源 资源表, as on the report's sheets), canonical names and
    codes for ``en`` (for scripts)."""
    from costperf.optimize import in_language
    from costperf.report.formats import label_codes

    frames = {
        "plan.csv": proposal.plan,
        "constraints.csv": proposal.constraints,
        "projects.csv": proposal.projects,
        "groups.csv": proposal.groups,
        "current_issues.csv": proposal.current_issues,
        "infeasibility.csv": proposal.infeasibility,
    }
    out = {}
    for name, frame in frames.items():
        if name in ("plan.csv", "constraints.csv") or len(frame):
            shown = in_language(frame, lang)
            out[name] = to_display(label_codes(shown, lang), lang) if lang == "zh" else shown
    return out


def optimize_summary(proposal, lang: str = "zh") -> dict:
    """The ``optimize`` entry of summary.json: totals, projects, groups, what must give."""
    from costperf.optimize import in_language

    price = "shadow_price_lp_relaxation" if proposal.totals["integer"] else "shadow_price"
    rows = proposal.constraints[["constraint", "constraint_kind", "rhs", "binding", price]]
    return {
        "totals": {k: _clean(v) for k, v in proposal.totals.items()},
        "projects": _records(proposal.projects),
        "groups": _records(proposal.groups),
        "shadow_prices": _records(rows),
        "current_issues": _records(in_language(proposal.current_issues, lang)),
        "infeasibility": _records(in_language(proposal.infeasibility, lang)),
        "standards_used": _records(proposal.standards_used),
    }


def write_files(proposal, out_dir: Path, lang: str = "zh") -> list[Path]:
    """Write the CSVs of ``DIR/optimize/`` (each atomically); remove stale ones."""
    folder = out_dir / FOLDER
    tables = output_tables(proposal, lang)
    written = [write_table(frame, folder / name, lang=lang) for name, frame in tables.items()]
    for name in ("projects.csv", "groups.csv", "current_issues.csv", "infeasibility.csv"):
        if name not in tables:  # an earlier run's file would describe another plan
            (folder / name).unlink(missing_ok=True)
    return written


def write_lp_file(proposal, path: Path) -> Path:
    """The model as an LP file (through pulp), written atomically."""
    from costperf.optimize import write_lp

    with atomic_path(path) as tmp:
        write_lp(proposal.model, tmp.with_suffix(".lp"))
        tmp.with_suffix(".lp").replace(tmp)
    return path


def proposal_params(case_name: str, params: Mapping[str, object]) -> dict:
    """What makes two optimiser runs the same (with the inputs hash)."""
    return {"case": case_name, **{k: _clean(v) for k, v in params.items()}}


def check_records(records_path, inputs: str, params: dict) -> str | None:
    """Refuse an unusable store before anything is written; the run already holding
    these inputs and parameters, or None."""
    from costperf.records import check_store, find_run

    check_store(records_path)
    return find_run(records_path, "proposals", inputs, params)


def record_proposal(
    records_path, proposal, *, case_name: str, inputs: str, params: dict, run_id: str
) -> str:
    """Store the proposal (plan, constraints, projects, standards) in one transaction."""
    from costperf.records import write_proposals

    constraints = proposal.constraints.drop(columns=["label_en"], errors="ignore")
    relax = proposal.infeasibility.set_index("constraint")["relaxation"]
    constraints["relaxation"] = constraints["constraint"].map(relax)
    return write_proposals(
        records_path,
        run_id=run_id,
        case_name=case_name,
        plan=proposal.plan,
        constraints=constraints,
        projects=proposal.projects,
        standards=proposal.standards_used,
        totals={k: _clean(v) for k, v in proposal.totals.items()},
        data_hash=inputs,
        version=__version__,
        params=params,
    )


def write_optimize_outputs(
    proposal,
    out_dir: Path,
    *,
    case_name: str,
    title: str,
    inputs: str,
    params: Mapping[str, object],
    records_path: Path | str | None,
    lang: str = "zh",
    lp_path: Path | None = None,
) -> dict:
    """Everything ``costperf optimize`` writes; return the summary dictionary.

    Order: the store is checked, the report rendered, every file moved into place, and
    only then the proposals recorded (one transaction): failed outputs leave the store
    as it was. The same inputs and parameters already on record are not stored again.
    """
    from costperf.records import new_run_id
    from costperf.report.html import render_report
    from costperf.report.optimize import optimize_sections

    params = proposal_params(case_name, params)
    held = check_records(records_path, inputs, params) if records_path is not None else None
    run_id = (held or new_run_id()) if records_path is not None else None
    html = render_report(title, optimize_sections(proposal, lang), lang=lang)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = write_files(proposal, out_dir, lang)
    write_text(html, out_dir / FOLDER / "report.html")
    if lp_path is not None:
        written.append(write_lp_file(proposal, lp_path))
    summary = {
        "case": case_name,
        "title": title,
        "costperf_version": __version__,
        "inputs_hash": inputs,
        "parameters": params,
        "optimize": optimize_summary(proposal, lang),
        "records": {
            "path": str(records_path) if records_path is not None else None,
            "run_id": run_id,
            "already_recorded": held is not None,
        },
        "outputs": [str(p) for p in [*written, out_dir / FOLDER / "report.html"]],
    }
    text = json.dumps(summary, ensure_ascii=False, indent=2, default=str)
    write_text(text, out_dir / "summary.json")
    if run_id is not None and held is None:
        record_proposal(
            records_path, proposal, case_name=case_name, inputs=inputs, params=params, run_id=run_id
        )
    return summary
