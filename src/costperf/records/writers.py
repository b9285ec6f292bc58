"""The record-writing functions the rest of costperf calls (one transaction each).

=========================== ===========================================================
:func:`write_run`           a case run's review (``costperf run``), kind ``run``
:func:`write_batch`         a batch review of request books, kind ``review``
:func:`find_batch`          the batch already recorded for identical inputs, or None
:func:`write_proposals`     the optimiser's plan, constraints and project totals
:func:`write_monitoring`    双监控 observations and their flags
:func:`write_evaluations`   evaluation results and self/key disagreements
:func:`write_recommendations` next year's recommendations
:func:`write_rederivation`  a standard re-derived from recorded actuals
=========================== ===========================================================
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from costperf.records import models
from costperf.records.write import (
    StoreName,
    Written,
    find_run,
    params_hash,
    record,
    row_chunks,
    rows_for,
    run_row,
    standards_key,
    with_supersedes,
)

PROJECT_FACTS = ("department", "class_of_matter", "year")


def _with_facts(
    projects: pd.DataFrame, facts: pd.DataFrame | None, class_of_matter: str, year: int | None
) -> pd.DataFrame:
    """Project decisions with the projects' own columns (department, year, dimensions)."""
    out = projects.copy()
    if facts is not None and len(facts) and "project_id" in facts:
        drop = ("source_file", "sheet", "source_row")
        extra = [c for c in facts.columns if c not in out.columns and c not in drop]
        if extra:
            part = facts.drop_duplicates("project_id").set_index("project_id")[extra]
            out = out.join(part, on="project_id")
    if class_of_matter and "class_of_matter" not in out:
        out["class_of_matter"] = class_of_matter
    if year is not None and "year" not in out:
        out["year"] = int(year)
    return out


def write_run(
    path: StoreName,
    *,
    case_name: str,
    projects: pd.DataFrame,
    lines: pd.DataFrame,
    standards: pd.DataFrame,
    config_hash: str = "",
    data_hash: str = "",
    summary: dict | None = None,
    version: str = "",
    run_id: str | None = None,
    project_facts: pd.DataFrame | None = None,
    class_of_matter: str = "",
    year: int | None = None,
    params: Mapping[str, object] | None = None,
) -> str:
    """Store one case run's review records atomically; return its run id.

    A run of the same inputs (``data_hash``) and ``params`` already on record stores
    nothing: that run's id is returned (see :func:`find_run`).

    Parameters
    ----------
    path
        The store: an SQLite file or a ``postgresql://`` URL.
    projects, lines
        Project and line decisions (``review_projects`` / ``review_lines`` columns; any
        other column is kept in ``extra``).
    standards
        The standard values applied (``standard_id``, ``version``, ``dims``, ``value``,
        ``provenance``).
    project_facts
        The requests' project table: its department, year, class of matter and
        dimensions are stored with each decision.
    run_id
        Default: a new id (:func:`new_run_id`).
    """
    projects = _with_facts(projects, project_facts, class_of_matter, year)
    years = pd.to_numeric(projects.get("year"), errors="coerce") if "year" in projects else None
    run_year = year
    if run_year is None and years is not None and years.notna().any():
        run_year = int(years.max())
    used = _refs(standards)
    run = run_row(
        "run",
        run_id=run_id,
        case_name=case_name,
        version=version,
        config_hash=config_hash,
        data_hash=data_hash,
        summary=summary,
        year=run_year,
        inputs_hash=data_hash,
        standards=used,
        params=params,
    )
    rows = _decision_rows(projects, lines, standards)
    return record(path, run, rows, unless_recorded=params is not None).run_id


def _refs(standards: pd.DataFrame | None) -> list[str]:
    if standards is None or standards.empty:
        return []
    return standards_key(
        f"{i}@{v}" for i, v in zip(standards["standard_id"], standards["version"], strict=True)
    )


def _decision_rows(
    projects: pd.DataFrame, lines: pd.DataFrame, standards: pd.DataFrame | None
) -> dict[str, list[dict]]:
    return {
        "review_projects": row_chunks(models.review_projects, _reasons(projects)),
        "review_lines": row_chunks(models.review_lines, _line_frame(lines)),
        "standards_used": rows_for(models.standards_used, standards),
    }


def _line_frame(lines: pd.DataFrame) -> pd.DataFrame:
    """Line decisions; a ``standard`` given as ``id@version`` is split into its parts."""
    ref = next((c for c in ("standard", "standard_ref") if c in lines), None)
    out = lines
    if ref is not None and "standard_id" not in out:
        out = lines.copy()
        parts = out[ref].astype("string").str.split("@", n=1, expand=True)
        out["standard_id"] = parts[0]
        out["standard_version"] = parts[1] if parts.shape[1] > 1 else None
        out = out.drop(columns=[ref])
    return _reasons(out)


def _reasons(frame: pd.DataFrame) -> pd.DataFrame:
    """``reasons`` (text, or a list of reasons joined by '；') stored as ``reason_zh``."""
    if "reasons" not in frame or "reason_zh" in frame:
        return frame
    joined = frame["reasons"].map(
        lambda r: "；".join(map(str, r)) if isinstance(r, list | tuple) else r
    )
    return frame.drop(columns=["reasons"]).assign(reason_zh=joined)


def write_batch(
    path: StoreName,
    *,
    projects: pd.DataFrame,
    lines: pd.DataFrame,
    inputs_hash: str,
    standards_versions: Sequence[str],
    params: Mapping[str, object],
    standards: pd.DataFrame | None = None,
    case_name: str = "",
    year: int | None = None,
    summary: Mapping | None = None,
    source_files: Sequence[str | Path] = (),
    version: str = "",
    supersedes: str | None = None,
    run_id: str | None = None,
) -> str:
    """Store one batch review of request books in one transaction; return its run id.

    Parameters
    ----------
    projects
        Project decisions, one row per project: ``project_id``, ``requested``,
        ``approved``, ``cut``, ``cut_rate``, ``decision``, ``manual_review`` (bool),
        ``rule``, ``reason_zh``/``reason_en`` (or ``reasons``), and the project's
        ``project_name``, ``department``, ``district``, ``class_of_matter``, ``year``;
        any other column is kept in ``extra`` (JSON). [yuan]
    lines
        Line decisions: ``project_id``, ``line_no`` (whole number), ``quantity``,
        ``unit_price``, ``requested``, ``approved``, ``cut``, ``cut_rate``, ``decision``,
        ``rule``, ``standard_id`` + ``standard_version`` (or ``standard`` as
        ``id@version``), ``reason_zh``/``reason_en``, ``source_file``, ``sheet``,
        ``source_row``. [yuan]
    inputs_hash
        Hash of the request books' content (what :func:`find_batch` matches).
    standards_versions
        Every standard table version used, ``id@version``.
    params
        The review's parameters (JSON-able); stored with their hash.
    standards
        Optional standard values applied (``standards_used`` columns).
    supersedes
        Run id of an earlier batch this one corrects.
    """
    run = run_row(
        "review",
        run_id=run_id,
        case_name=case_name or "review",
        version=version,
        summary=summary,
        year=year,
        inputs_hash=inputs_hash,
        data_hash=inputs_hash,
        standards=standards_versions,
        params=_batch_params(standards_versions, params),
        source=source_files,
        supersedes=supersedes,
    )
    return record(path, run, _decision_rows(projects, lines, standards)).run_id


def _batch_params(standards_versions: Sequence[str], params: Mapping[str, object]) -> dict:
    return {"standards": standards_key(standards_versions), "params": dict(params)}


def find_batch(
    path: StoreName,
    inputs_hash: str,
    standards_versions: Sequence[str],
    params: Mapping[str, object],
) -> str | None:
    """The run id of a batch recorded with identical inputs, standards and parameters.

    None when there is none (or no store yet: nothing is created).  A rerun that finds
    one can skip the review and point at the recorded batch.
    """
    return find_run(path, "review", inputs_hash, _batch_params(standards_versions, params))


def write_proposals(
    path: StoreName,
    *,
    case_name: str,
    plan: pd.DataFrame,
    constraints: pd.DataFrame,
    projects: pd.DataFrame,
    standards: pd.DataFrame,
    totals: dict,
    config_hash: str = "",
    data_hash: str = "",
    version: str = "",
    params: Mapping[str, object] | None = None,
    run_id: str | None = None,
) -> str:
    """Store one optimiser run's proposals in one transaction; return its run id.

    Parameters
    ----------
    plan
        One row per resource: ``resource``, ``label``, ``project_id``, ``group``,
        ``unit``, ``integer``, ``unit_cost``, ``current``, ``proposed``, ``change``,
        ``current_cost``, ``proposed_cost``, ``reduced_cost``, ``unit_cost_source``,
        ``standard_id``, ``standard_version``. [yuan per year]
    constraints
        One row per constraint: ``constraint``, ``label``, ``constraint_kind``,
        ``sense``, ``rhs``, ``unit``, ``current_lhs``, ``proposed_lhs``, ``slack``,
        ``binding``, ``shadow_price`` (or ``shadow_price_lp_relaxation``),
        ``relaxation``, ``project_id``.
    projects
        Per-project totals (``project_id``, ``group``, ``current_cost``,
        ``proposed_cost``, ``savings``, ``savings_rate``); may be empty.
    standards
        The standards the unit costs came from (``standards_used`` columns).
    totals
        The run's totals (stored as its summary).
    """
    run = run_row(
        "proposals",
        run_id=run_id,
        case_name=case_name,
        version=version,
        config_hash=config_hash,
        data_hash=data_hash,
        inputs_hash=data_hash,
        summary=totals,
        standards=_refs(standards),
        params=params,
    )
    tables = {
        "proposals": rows_for(models.proposals, _plan_frame(plan)),
        "proposal_constraints": rows_for(
            models.proposal_constraints, _constraint_frame(constraints)
        ),
        "proposal_projects": rows_for(
            models.proposal_projects, projects.rename(columns={"group": "grp"})
        ),
        "standards_used": rows_for(models.standards_used, standards),
    }
    return record(path, run, tables).run_id


def _plan_frame(plan: pd.DataFrame) -> pd.DataFrame:
    return plan.rename(columns={"group": "grp", "integer": "is_integer"})


def _constraint_frame(constraints: pd.DataFrame) -> pd.DataFrame:
    price = next(
        (c for c in ("shadow_price", "shadow_price_lp_relaxation") if c in constraints), None
    )
    out = constraints.rename(columns={"constraint": "constraint_id", "constraint_kind": "kind"})
    if price is not None:
        out["shadow_price"] = constraints[price]
        out["shadow_price_basis"] = "lp_relaxation" if price != "shadow_price" else "lp"
        if price != "shadow_price":
            out = out.drop(columns=[price])
    return out


def _link_source(source_table: str) -> object:
    """A ``record`` link: flags' ``observation`` (row position) -> the inserted row id."""

    def link(conn: sa.Connection, name: str, rows: list[dict], ids: dict) -> list[dict]:
        table = models.metadata.tables[name]
        if name == "followup_actions":
            for row in rows:
                position = row.pop("_source", None)
                if position is not None:
                    row["source_id"] = ids[source_table][int(position)]
                row["source_table"] = source_table
            return rows
        key = _NATURAL_KEYS.get(name)
        return with_supersedes(conn, table, key, rows) if key else rows

    return link


_NATURAL_KEYS = {
    "monitoring_observations": ("project_id", "checkpoint", "indicator"),
    "evaluation_results": ("project_id", "year", "kind"),
    "recommendations": ("project_id", "year"),
}


def _actions(flags: pd.DataFrame | None) -> list[dict]:
    if flags is None or flags.empty:
        return []
    frame = flags.rename(columns={"source": "_source"})
    rows = rows_for(models.followup_actions, frame)
    positions = frame["_source"].tolist() if "_source" in frame else [None] * len(rows)
    for row, position in zip(rows, positions, strict=True):
        row["_source"] = None if pd.isna(position) else int(position)
        if isinstance(row.get("details"), dict):
            row["details"] = json.dumps(row["details"], ensure_ascii=False)
    return rows


def write_monitoring(
    path: StoreName,
    observations: pd.DataFrame,
    flags: pd.DataFrame,
    *,
    inputs_hash: str,
    policy: Mapping[str, object],
    source_files: Sequence[str | Path] = (),
    summary: Mapping | None = None,
    version: str = "",
) -> Written:
    """Store 双监控 observations and their flags in one transaction.

    Parameters
    ----------
    observations
        One row per project, checkpoint and indicator (``monitoring_observations``
        columns). An observation whose (project, checkpoint, indicator) is on record
        supersedes it.
    flags
        ``followup_actions`` columns; ``source`` is the position (0-based) in
        ``observations`` of the observation the flag is about.
    policy
        The monitoring rules used (stored as the run's parameters, with their hash).

    Returns
    -------
    Written
        With ``existing=True`` and nothing stored when an import of the same content
        under the same rules is already on record.
    """
    return _import(
        path,
        "monitoring",
        "monitoring_observations",
        observations,
        flags,
        inputs_hash=inputs_hash,
        policy=policy,
        source_files=source_files,
        summary=summary,
        version=version,
    )


def write_evaluations(
    path: StoreName,
    evaluations: pd.DataFrame,
    disagreements: pd.DataFrame,
    *,
    inputs_hash: str,
    policy: Mapping[str, object],
    source_files: Sequence[str | Path] = (),
    summary: Mapping | None = None,
    version: str = "",
) -> Written:
    """Store evaluation results (and self/key disagreements as follow-up actions).

    An evaluation whose (project, year, kind) is on record supersedes it; ``source`` of
    a disagreement is the position in ``evaluations`` of the evaluation that stands.
    """
    return _import(
        path,
        "evaluation",
        "evaluation_results",
        evaluations,
        disagreements,
        inputs_hash=inputs_hash,
        policy=policy,
        source_files=source_files,
        summary=summary,
        version=version,
    )


def _import(
    path: StoreName,
    kind: str,
    table: str,
    rows: pd.DataFrame,
    flags: pd.DataFrame | None,
    *,
    inputs_hash: str,
    policy: Mapping[str, object],
    source_files: Sequence[str | Path],
    summary: Mapping | None,
    version: str,
) -> Written:
    years = pd.to_numeric(rows["year"], errors="coerce") if "year" in rows else pd.Series()
    run = run_row(
        kind,
        version=version,
        inputs_hash=inputs_hash,
        data_hash=inputs_hash,
        params=policy,
        source=source_files,
        summary=summary,
        year=int(years.max()) if years.notna().any() else None,
    )
    tables = {
        table: rows_for(models.metadata.tables[table], rows),
        "followup_actions": _actions(flags),
    }
    return record(path, run, tables, link=_link_source(table), unless_recorded=True)


def write_recommendations(
    path: StoreName,
    recommendations: pd.DataFrame,
    *,
    year: int,
    inputs_hash: str,
    policy: Mapping[str, object],
    summary: Mapping | None = None,
    version: str = "",
) -> Written:
    """Store next year's recommendations (one per project) in one transaction.

    A recommendation for a (project, year) already on record supersedes it.  Nothing is
    stored when the same recommendations were already derived from the same records
    under the same rules (``existing=True``).
    """
    run = run_row(
        "feedback",
        year=year,
        version=version,
        inputs_hash=inputs_hash,
        params=policy,
        summary=summary,
    )
    tables = {"recommendations": rows_for(models.recommendations, recommendations)}
    return record(path, run, tables, link=_link_source("recommendations"), unless_recorded=True)


def write_rederivation(
    path: StoreName,
    standard: pd.DataFrame,
    *,
    inputs_hash: str,
    params: Mapping[str, object],
    class_of_matter: str,
    year: int,
    summary: Mapping | None = None,
    version: str = "",
) -> Written:
    """Store a standard re-derived from recorded actuals (``standards_used`` rows whose
    provenance names the record ids used). Nothing is stored when the same derivation
    (the same units under the same settings) is on record (``existing=True``)."""
    run = run_row(
        "rederive",
        case_name=class_of_matter,
        year=year,
        version=version,
        inputs_hash=inputs_hash,
        data_hash=inputs_hash,
        params=params,
        summary=summary,
        standards=_refs(standard),
    )
    tables = {"standards_used": rows_for(models.standards_used, standard)}
    return record(path, run, tables, unless_recorded=True)


__all__ = [
    "find_batch",
    "params_hash",
    "write_batch",
    "write_evaluations",
    "write_monitoring",
    "write_proposals",
    "write_recommendations",
    "write_rederivation",
    "write_run",
]
