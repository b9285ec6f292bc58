"""The feedback loop at the edges: files and the store in, outputs and records out.

Each function reads its input through :func:`costperf.io.read.read_checked` (every
problem located), runs the pure stage of :mod:`costperf.feedback`, writes its outputs
(atomically) and then records, in one transaction, what it found, with the rules used
(and their hash) and the inputs' hash.  It returns the text the command prints.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from costperf.columns import code_label, code_label_map, message
from costperf.errors import InputError, raise_if_problems
from costperf.labels import unit_words
from costperf.records import models, views
from costperf.records.read import TABLES, existing_store
from costperf.records.store import as_target, check_store
from costperf.records.writers import (
    write_evaluations,
    write_monitoring,
    write_recommendations,
    write_rederivation,
)


def _hash(frame: pd.DataFrame, columns: list[str]) -> str:
    from costperf.standards.derive import data_hash

    part = frame[[c for c in columns if c in frame]].astype(str)
    return data_hash(part, list(part.columns))


def _read_rows(file: Path, schema, sheet: str | None, check, store, lang: str) -> pd.DataFrame:  # noqa: ANN001
    """Read and type a table (headers mapped, 万元 in a header scaled to yuan), check it
    across rows with ``check(typed) -> (rows, problems)`` and against the projects the
    store has reviewed; raise every problem at once. Says on stderr which sheet of a
    workbook was read (hidden sheets are skipped)."""
    from costperf.commands.review import print_sheet_notes
    from costperf.errors import make_problems
    from costperf.io.read import blank_cells, map_headers, read_table, scale_money
    from costperf.schemas import merge_problems

    table = read_table(file, sheet=sheet)
    frame, scales = map_headers(table)
    if "备注" in frame and "note" not in frame:  # 备注 is not a data-model column elsewhere
        frame = frame.rename(columns={"备注": "note"})
        frame.attrs.setdefault("headers", {})["note"] = "备注"
    typed, problems = schema.validate(frame)
    where = f"{file}" + (f", sheet '{sheet}'" if sheet else "")
    if (problems["check"] == "missing_column").any():
        raise_if_problems(problems, where)
    typed = scale_money(typed, scales)
    errors = problems[problems["severity"] != "warning"] if len(problems) else problems
    rows, found = check(blank_cells(typed, errors))  # a bad cell: blank for the checks
    unknown = _unknown_projects(rows, store)
    raise_if_problems(merge_problems([problems, found, unknown]), where)  # each cell once
    print_sheet_notes(make_problems(table.attrs.get("read_warnings", [])), lang)  # as review
    return rows


def _unknown_projects(rows: pd.DataFrame, store: str | Path) -> pd.DataFrame:
    """Rows of projects the store has never reviewed are located errors, once the store
    holds reviews (a mistyped id was stored as a project of its own, and the feedback
    then cancelled it); a store with no review yet takes any id. An id that differs
    from a reviewed one only in case, spaces or width names that one."""
    import sqlalchemy as sa

    from costperf.review.batch.book import name_near_codes
    from costperf.schemas import concat_problems, row_problems

    opened = existing_store(store)
    if opened is None:
        return concat_problems([])
    try:
        with opened.read() as conn:
            chosen = sa.select(models.review_projects.c.project_id).distinct()
            known = {r[0] for r in conn.execute(chosen)}
    finally:
        opened.close()
    if not known:
        return concat_problems([])
    unknown = rows["project_id"].notna() & ~rows["project_id"].astype(str).isin(known)
    expected = "a project_id of a recorded review (costperf review or run with --records)"
    found = row_problems(rows, unknown, "project_id", expected, "unknown_project")
    # a-cz-001 for A-CZ-001: the reviewed code it differs from only in spelling
    spelt = "a project_id of a recorded review (the store has '{near}', spelt otherwise)"
    return name_near_codes(found, rows.loc[unknown, "project_id"].astype(str), known, spelt)


def _write_csv(frame: pd.DataFrame, path: Path, lang: str = "zh", table: str = "") -> Path:
    """A table of the loop as a CSV: in Chinese (headers, codes as words, the Chinese
    reasons) by default, as ``records list`` shows it; canonical names and codes under
    ``--lang en``, for scripts."""
    from costperf.io.write import write_table

    return write_table(shown_table(frame, table, "zh") if lang == "zh" else frame, path, lang=lang)


def shown_table(frame: pd.DataFrame, table: str, lang: str) -> pd.DataFrame:
    """A record table as a reader sees it in ``lang``: codes as words, the reasons of
    ``lang``, the columns under their labels (``records list`` and the loop's CSVs)."""
    from costperf.columns import to_display
    from costperf.report.formats import label_codes

    return to_display(
        label_codes(record_view(_display_codes(frame, lang), table, lang), lang), lang
    )


# ------------------------------------------------------------------ monitoring


def import_monitoring(
    file: Path,
    store: str | Path,
    *,
    rules: Path | None = None,
    sheet: str | None = None,
    out: Path | None = None,
    lang: str = "zh",
) -> str:
    """Read, check and flag 双监控 rows; write ``monitoring_flags.csv``; record both.

    Returns the summary the command prints, in ``lang`` ('zh' or 'en').
    """
    from costperf.feedback import monitoring_flags
    from costperf.feedback.inputs import MONITORING, check_monitoring
    from costperf.feedback.policies import load_monitoring_policy, policy_record

    policy = load_monitoring_policy(rules)
    check_store(store)
    rows = _read_rows(file, MONITORING, sheet, check_monitoring, store, lang)
    flags = monitoring_flags(rows, policy)
    observations = rows.assign(checkpoint=rows["checkpoint"].dt.strftime("%Y-%m-%d"))
    digest = _hash(observations, ["project_id", "checkpoint", "indicator", "budget", "executed",
                                  "target", "actual", "note"])  # fmt: skip
    if out is not None:
        flagged = flags.drop(columns=["source"])
        _write_csv(flagged, Path(out) / "monitoring_flags.csv", lang, "followup_actions")
    stored = flags.assign(
        details=[
            json.dumps(
                {
                    k: _json(r[k])
                    for k in ("attainment_of_plan", "budget", "executed", "target", "actual")
                },
                ensure_ascii=False,
            )
            for _, r in flags.iterrows()
        ]  # fmt: skip
    )
    written = write_monitoring(
        store, observations, stored, inputs_hash=digest, policy=policy_record(policy),
        source_files=[file], summary=_flag_counts(flags),
    )  # fmt: skip
    return _monitoring_text(file, rows, flags, written, store, out, lang)


def _json(value: object) -> object:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else value


def _flag_counts(flags: pd.DataFrame) -> dict:
    counts = flags["flag"].value_counts().to_dict() if len(flags) else {}
    return {"flags": {k: int(v) for k, v in counts.items()}, "amount": recoverable(flags)}


def recoverable(flags: pd.DataFrame) -> float:
    """The funds to recover or re-allocate: each project's amount at its latest slow
    checkpoint (the checkpoints of one project are successive views of the same money,
    not sums to add up)."""
    slow = flags[flags["flag"] == "slow_execution"] if len(flags) else flags
    if not len(slow):
        return 0.0
    latest = slow.sort_values("checkpoint", kind="stable").drop_duplicates(
        "project_id", keep="last"
    )
    return round(float(latest["amount"].fillna(0).sum()), 2)


def _monitoring_text(file, rows, flags, written, store, out, lang) -> str:  # noqa: ANN001
    slow = flags[flags["flag"] == "slow_execution"]
    dev = flags[flags["flag"] == "target_deviation"]
    path = as_target(store)
    lines = [
        message("records.monitoring.summary", lang, file=file,
                projects=rows["project_id"].nunique(), rows=len(rows), slow=len(slow),
                amount=recoverable(flags), deviations=len(dev)),
        "  " + (
            message("records.already_recorded_in", lang, run_id=written.run_id, path=path)
            if written.existing
            else message("records.monitoring.recorded", lang, run_id=written.run_id,
                         observations=len(written.ids.get("monitoring_observations", [])),
                         flags=len(flags), path=path)
        ),
    ]  # fmt: skip
    if out is not None:
        lines.append(
            "  " + message("records.outputs", lang, files=Path(out) / "monitoring_flags.csv")
        )
    return "\n".join(lines)


def _joined(lang: str, items: list[str]) -> str:
    """``items`` joined by the list separator of ``lang`` (labels.csv ``list.separator``)."""
    return message("list.separator", lang).join(items)


def _counts(lang: str, counts: Mapping[str, int], kind: str | None = None) -> str:
    """``label n`` for each entry (labelled through labels.csv ``kind`` if given), joined."""
    return _joined(lang, [
        message("records.count", lang, label=code_label(kind, k, lang) if kind else k, n=n)
        for k, n in counts.items()
    ])  # fmt: skip


# ------------------------------------------------------------------ evaluation


def import_evaluation(
    file: Path,
    store: str | Path,
    *,
    rules: Path | None = None,
    sheet: str | None = None,
    out: Path | None = None,
    lang: str = "zh",
) -> str:
    """Read, check and grade evaluations; report self/key disagreements; record both.

    Returns the summary the command prints, in ``lang`` ('zh' or 'en').
    """
    from costperf.feedback import disagreements, graded
    from costperf.feedback.inputs import EVALUATIONS, check_evaluations
    from costperf.feedback.policies import load_evaluation_policy, policy_record

    policy = load_evaluation_policy(rules)
    check_store(store)
    rows = _read_rows(
        file, EVALUATIONS, sheet, lambda typed: check_evaluations(typed, policy), store, lang
    )
    rows = graded(rows, policy)
    disputes = disagreements(rows, policy)
    digest = _hash(rows, ["project_id", "year", "kind", "score", "target_attainment", "note"])
    if out is not None:
        shown = rows.rename(columns={"kind": "evaluation_kind"})
        keep = ["project_id", "year", "evaluation_kind", "score", "grade", "target_attainment",
                "grade_rule", "source_file", "sheet", "source_row"]  # fmt: skip
        kept = shown[[c for c in keep if c in shown]]
        _write_csv(kept, Path(out) / "evaluations.csv", lang, "evaluation_results")
        disputed = disputes.drop(columns=["source"])
        _write_csv(disputed, Path(out) / "evaluation_disagreements.csv", lang, "followup_actions")
    actions = disputes.assign(
        details=[
            json.dumps(
                {
                    k: _json(r[k])
                    for k in (
                        "standing_kind",
                        "score",
                        "grade",
                        "other_kind",
                        "other_score",
                        "other_grade",
                    )
                },
                ensure_ascii=False,
            )
            for _, r in disputes.iterrows()
        ]  # fmt: skip
    )
    written = write_evaluations(
        store, rows, actions, inputs_hash=digest, policy=policy_record(policy),
        source_files=[file],
        summary={"grades": {k: int(v) for k, v in rows["grade"].value_counts().items()},
                 "disagreements": len(disputes)},
    )  # fmt: skip
    counts = rows["grade"].value_counts()
    grades = _counts(lang, {g: int(counts.get(g, 0)) for g, _ in policy.grades}, "grade")
    text = [
        message("records.evaluation.summary", lang, file=file, n=len(rows), grades=grades,
                disputes=len(disputes))
    ]  # fmt: skip
    column = "reason_zh" if lang == "zh" else "reason_en"
    for project, reason in disputes[["project_id", column]].head(10).itertuples(index=False):
        text.append(f"  {project}{'：' if lang == 'zh' else ': '}{reason}")  # which project
    text.append("  " + _recorded(written.run_id, written.existing, store, lang))
    return "\n".join(text)


def _recorded(run_id: str, existing: bool, store: str | Path, lang: str) -> str:
    if existing:
        return message("records.already_recorded", lang, run_id=run_id)
    return message("records.recorded", lang, run_id=run_id, path=as_target(store))


# ------------------------------------------------------------------ feedback


def _loop_frames(store_name: str | Path) -> dict[str, pd.DataFrame]:
    """Current decisions, observations, evaluations and recommendations of the store."""
    store = existing_store(store_name)
    if store is None:
        msg = f"{store_name}: no record store there yet (record reviews, monitoring and evaluations first)"
        raise InputError(msg)
    try:
        return {
            "decisions": views.decisions(store),
            "observations": views.current(store, "monitoring_observations"),
            "evaluations": views.current(store, "evaluation_results"),
            "recommendations": views.current(store, "recommendations"),
        }
    finally:
        store.close()


def feedback(
    store: str | Path,
    *,
    year: int,
    out: Path,
    rules: Path | None = None,
    evaluation_rules: Path | None = None,
    all_projects: bool = False,
    lang: str = "zh",
) -> str:
    """Recommend next year's budget per project; write the workbook and CSV; record them."""
    from costperf.feedback import recommend, year_end_execution
    from costperf.feedback.policies import (
        load_evaluation_policy,
        load_feedback_policy,
        policy_record,
    )

    policy = load_feedback_policy(rules)
    grading = load_evaluation_policy(evaluation_rules)
    check_store(store)
    frames = _loop_frames(store)
    decisions, evaluations = frames["decisions"], frames["evaluations"]
    execution = year_end_execution(frames["observations"], policy.year_end_from)
    projects = None
    if all_projects:
        projects = sorted(set(decisions["project_id"]) | set(evaluations["project_id"]))
    recs = recommend(year, decisions, evaluations, execution, policy, grading, projects=projects)
    if recs.empty:
        msg = (
            f"no project to recommend for {year}: no decision or evaluation of {year - 1} on record"
        )
        raise InputError(msg)
    digest = _hash(
        pd.concat(
            [decisions.get("record_id", pd.Series(dtype=str)).astype(str),
             decisions.get("approved", pd.Series(dtype=float)).astype(str),
             evaluations.get("evaluation_id", pd.Series(dtype=str)).astype(str),
             execution.get("execution_rate", pd.Series(dtype=float)).astype(str)],
            ignore_index=True,
        ).to_frame("v"),
        ["v"],
    )  # fmt: skip
    params = {"year": year, "all_projects": all_projects, "feedback": policy_record(policy),
              "evaluation": policy_record(grading)}  # fmt: skip
    out = Path(out)
    csv = recs[["project_id", "department", "base", "recommendation", "cut_rate",
                "next_year_amount", "effect", "flags", "reasons", "base_year", "base_record", "grade", "score",
                "evaluation_kind", "execution_rate", "rule", "reasons_en"]]  # fmt: skip
    _write_csv(csv, out / "recommendations.csv", lang, "recommendations")
    workbook = _feedback_workbook(recs, year, lang, out / f"recommendations-{year}.xlsx")
    stored = recs.rename(columns={"reasons": "reasons_zh"})
    totals = _feedback_totals(recs)
    written = write_recommendations(
        store, stored, year=year, inputs_hash=digest, policy=params, summary=totals
    )
    lines = [
        message("records.feedback.summary", lang, year=year, projects=len(recs),
                base=totals["base"], amount=totals["next_year_amount"], effect=totals["effect"]),
        "  " + _counts(lang, totals["recommendations"], "recommendation"),
        "  " + (message("records.feedback.already_recorded", lang, run_id=written.run_id)
                if written.existing else _recorded(written.run_id, False, store, lang)),
        "  " + message("records.outputs", lang,
                       files=_joined(lang, [str(out / "recommendations.csv"), str(workbook)])),
    ]  # fmt: skip
    return "\n".join(lines)


def _feedback_totals(recs: pd.DataFrame) -> dict:
    return {
        "projects": len(recs),
        "base": float(recs["base"].sum()),
        "next_year_amount": float(recs["next_year_amount"].sum()),
        "effect": float(recs["effect"].sum()),
        "recommendations": {k: int(v) for k, v in recs["recommendation"].value_counts().items()},
    }


def _feedback_workbook(recs: pd.DataFrame, year: int, lang: str, path: Path) -> Path:
    from costperf.report.excel import write_workbook

    shown = _display_codes(recs, lang)
    by_department = recs.groupby("department", dropna=False)[
        ["base", "next_year_amount", "effect"]
    ].sum()
    by_department["n_projects"] = recs.groupby("department", dropna=False).size()
    sheets = {
        message("feedback.recommendations", lang): shown,
        message("feedback.by_department", lang): by_department.reset_index(),
    }
    title = message("feedback.title", lang, year=year)
    return write_workbook(sheets, path, lang=lang, title=title)


def _display_codes(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Codes shown as labels in ``lang`` (recommendation, flags, kinds, grades), and the
    texts of ``lang`` only: under en the Chinese reasons give way to the English ones."""
    out = frame.copy()
    if "rule" in out:  # before the flags become words
        out["rule"] = _rule_words(out, lang)
    for column, kind in CODED:
        if column in out:
            out[column] = out[column].map(
                lambda v, k=kind: code_label(k, v, lang) if isinstance(v, str) else v
            )
    if "flags" in out:
        joiner = message("list.semicolon", lang)
        out["flags"] = out["flags"].map(
            lambda t: (
                joiner.join(code_label("flag", f, lang) for f in str(t).split(";") if f)
                if isinstance(t, str)
                else t
            )
        )
    if "manual_review" in out and pd.api.types.is_numeric_dtype(out["manual_review"]):
        out["manual_review"] = out["manual_review"].map({1: True, 0: False})  # stored 0/1: 是/否
    for column in out.columns:  # 2026, not 2026.0; record ids 5, not 5.0 (NaN made them float)
        whole = column in ("year", "supersedes") or str(column).endswith("_id")
        if whole and pd.api.types.is_float_dtype(out[column]):
            numbers = out[column].dropna()
            if (numbers % 1 == 0).all():
                out[column] = out[column].astype("Int64")
    if lang == "zh":
        return out.drop(columns=["reasons_en", "reason_en", "exclusion_reason"], errors="ignore")
    out = out.drop(columns=["reason_zh", "reasons_zh"], errors="ignore")
    if "reasons_en" in out:  # the English reasons under the header of the reasons
        out = out.drop(columns=["reasons"], errors="ignore").rename(
            columns={"reasons_en": "reasons"}
        )
    return out


def _rule_words(frame: pd.DataFrame, lang: str) -> pd.Series:
    """The ``rule`` column in words of ``lang``.

    Recommendations: each ``+``-joined rule name by labels.csv kind ``feedback_rule``
    (a rule name of one's own policy file stays as written). Flags: the rule re-stated
    from the flag and its stored threshold; a disagreement's precedence by kind.
    """
    from costperf.feedback.evaluation import kind_word

    def one(rule: object, flag: object, threshold: object) -> object:
        if not isinstance(rule, str):
            return rule
        if flag == "slow_execution" and pd.notna(threshold):
            return message("rule.slow_execution", lang, points=float(threshold) * 100)
        if flag == "target_deviation" and pd.notna(threshold):
            return message("rule.target_deviation", lang, share=float(threshold))
        if flag == "evaluation_disagreement" and rule.startswith("standing: "):
            kinds = rule.removeprefix("standing: ").split(" > ")
            return message(
                "rule.standing", lang, order=" > ".join(kind_word(k, lang) for k in kinds)
            )
        return "+".join(code_label("feedback_rule", part, lang) for part in rule.split("+"))

    flags = frame["flag"] if "flag" in frame else pd.Series(None, index=frame.index)
    limits = frame["threshold"] if "threshold" in frame else pd.Series(None, index=frame.index)
    return pd.Series(
        [one(r, f, t) for r, f, t in zip(frame["rule"], flags, limits, strict=True)],
        index=frame.index,
        dtype=object,
    )


#: coded columns of the loop's frames -> their kind in labels.csv
CODED = (
    ("recommendation", "recommendation"),
    ("flag", "flag"),
    ("evaluation_kind", "evaluation_kind"),
    ("proposed_action", "action"),
    ("grade", "grade"),
    ("previous_grade", "grade"),
    ("other_grade", "grade"),
    ("source_table", "records_sheet"),  # a flag's source: 绩效监控, not monitoring_observations
)


# ------------------------------------------------------------------ rederive


def _rederive_settings(rules: Path | None, class_of_matter: str) -> tuple[dict, str, str]:
    from costperf.feedback.policies import PolicyKeys, read_policy_file

    doc, where, digest = read_policy_file("rederive.toml", rules)
    classes = doc.get("classes", {})
    if class_of_matter not in classes:
        known = "、".join(classes) or "none"
        msg = f'{where}: no [classes."{class_of_matter}"]; classes defined: {known}'
        raise InputError(msg)
    entry = PolicyKeys(where, classes[class_of_matter], f'classes."{class_of_matter}"')
    entry.known("output", "output_unit", "dimensions", "standard_id", "name", "rule", "compare",
                "band", "year_end_from", "table_id")  # fmt: skip
    settings = {
        "output": entry.text("output", ""),
        "output_unit": entry.text("output_unit", "单位"),
        "dimensions": list(entry.texts("dimensions")),
        "standard_id": entry.text("standard_id", "UC"),
        "name": entry.text(
            "name", message("records.rederive.default_name", "zh", class_of_matter=class_of_matter)
        ),
        "rule": entry.text("rule", "median"),
        "compare": list(entry.texts("compare", ("median",))),
        "band": list(entry.texts("band", ("p25", "p75"))),
        "year_end_from": entry.text("year_end_from", "12-01"),
    }
    settings["table_id"] = entry.table.get("table_id") or ""
    return settings, where, digest


def rederive(
    store: str | Path,
    *,
    class_of_matter: str,
    year: int,
    out: Path,
    standards: Path | None = None,
    rules: Path | None = None,
    rule: str | None = None,
    lang: str = "zh",
) -> str:
    """Re-derive the class's unit-cost standard from completed projects' recorded actual
    cost and output; write a draft table version; diff it against the version in force."""
    import datetime as dt

    from costperf.feedback import actual_units
    from costperf.params import DeriveParams
    from costperf.standards.derive import (
        check_params,
        derive_standard,
        parse_rule,
        table_id_of,
        write_derived_table,
    )

    settings, where, digest = _rederive_settings(rules, class_of_matter)
    if rule is not None:
        settings["rule"] = parse_rule(rule, where="--rule").name
    frames = _loop_frames(store)
    units, excluded = actual_units(
        frames["decisions"], frames["observations"], class_of_matter=class_of_matter, year=year,
        output=settings["output"], dims=settings["dimensions"],
        year_end_from=settings["year_end_from"],
    )  # fmt: skip
    if units.empty:
        shown = excluded[["project_id", "exclusion_reason"]].head(5)
        reasons = "；".join(f"{p}: {r}" for p, r in shown.itertuples(index=False))
        msg = (
            f"no completed {class_of_matter} project of {year} with recorded actual cost and "
            f"output ('{settings['output']}') in {as_target(store)}"
            + (f" ({reasons})" if reasons else "")
        )
        raise InputError(msg)
    table_id = settings["table_id"] or table_id_of(settings["standard_id"])
    in_force, standard_set = _version_in_force(standards, table_id, year + 1)
    version = 1 if in_force is None else int(in_force.split("@")[1]) + 1
    derive = DeriveParams(
        standard_id=settings["standard_id"],
        name=settings["name"],
        rule=settings["rule"],
        params=check_params({}, where=where),
        compare=tuple(settings["compare"]),
        band=tuple(settings["band"]),
        effective_from=dt.date(year + 1, 1, 1),
        version=f"{year + 1}.{version}",
        table_version=version,
    )
    derivation = derive_standard(
        units, settings["dimensions"], derive, output_unit=settings["output_unit"],
        class_of_matter=class_of_matter,
    )  # fmt: skip
    out = Path(out)
    folder = out / "standards"
    taken = folder / f"{derivation.table.stem}.toml"
    if taken.exists():
        msg = (
            f"{taken}: already exists; a table version is never overwritten (choose another --out)"
        )
        raise InputError(msg)
    check_store(store)
    toml_path, _, _ = write_derived_table(derivation.table, folder)
    written = [toml_path]
    for name, frame in (("rederive-units.csv", units), ("rederive-excluded.csv", excluded),
                        ("rederive-comparison.csv", derivation.comparison),
                        ("rederive-provenance.csv", derivation.provenance)):  # fmt: skip
        written.append(_write_csv(frame, out / name, lang))
    diff_text = _diff(standard_set, in_force, toml_path, derivation.table.ref, out, lang)
    provenance = _rederived_rows(derivation, units)
    written_run = write_rederivation(
        store, provenance, inputs_hash=_hash(units, list(units.columns)),
        params={"class_of_matter": class_of_matter, "year": year, "settings": settings,
                "rules_file": where, "rules_hash": digest, "derive": dict(derivation.params),
                "table": derivation.table.ref, "in_force": in_force},
        class_of_matter=class_of_matter, year=year,
        summary={"table": derivation.table.ref, "in_force": in_force, "units": len(units),
                 "excluded": len(excluded)},
    )  # fmt: skip
    lines = [
        message("records.rederive.summary", lang, class_of_matter=class_of_matter, year=year,
                units=len(units), excluded=len(excluded), table=derivation.table.ref,
                rule=derivation.rule),
    ]  # fmt: skip
    for _, row in derivation.standard.iterrows():
        lines.append("  " + message("records.rederive.value", lang, dims=row["dims"],
                                    value=row["value"], unit=unit_words(row["unit"], lang),
                                    n=int(row["n_peers"])))  # fmt: skip
    lines.append(diff_text)
    lines.append("  " + (
        message("records.already_recorded_in", lang, run_id=written_run.run_id,
                path=as_target(store))
        if written_run.existing
        else message("records.rederive.recorded", lang, run_id=written_run.run_id,
                     path=as_target(store))
    ))  # fmt: skip
    lines.append("  " + message("records.outputs", lang,
                                files=_joined(lang, [str(p) for p in written])))  # fmt: skip
    return "\n".join(lines)


def _version_in_force(folder: Path | None, table_id: str, year: int):  # noqa: ANN202
    """``table_id@version`` in force on 1 January of ``year`` in ``folder`` (the newest
    issued one, else the newest draft), and the folder's standard set."""
    from costperf.standards import read_standards
    from costperf.standards.rules import table_in_force

    standards = read_standards(folder)  # None: the shipped tables
    if table_id not in set(standards.tables["table_id"]):
        return None, standards
    try:
        found = table_in_force(standards, table_id, f"{year}-01-01")
    except InputError:
        versions = standards.tables.loc[standards.tables["table_id"] == table_id, "version"]
        return f"{table_id}@{int(versions.max())}", standards
    return f"{table_id}@{found.version}", standards


def _diff(standards, in_force: str | None, toml_path: Path, ref: str, out: Path, lang: str) -> str:  # noqa: ANN001, E501
    from costperf.standards import diff_tables, read_standards

    if in_force is None:
        return "  " + message("records.rederive.no_version_in_force", lang)
    table_id, version = in_force.split("@")
    old = standards.tables
    header = old.loc[
        (old["table_id"] == table_id) & (old["version"] == int(version)), "header_file"
    ]
    both = read_standards([Path(header.iloc[0]), toml_path])
    diff = diff_tables(both, in_force, ref, include_unchanged=True)
    _write_csv(diff, out / "rederive-diff.csv", lang)
    counts = diff["change"].value_counts()
    rows = ["  " + message("records.rederive.diff", lang, old=in_force, new=ref,
                           **{k: counts.get(k, 0) for k in ("changed", "added", "removed")})]  # fmt: skip
    for _, r in diff.iterrows():
        pct = (
            ""
            if pd.isna(r.get("pct_change"))
            else message("records.rederive.pct", lang, pct=r["pct_change"])
        )
        rows.append("    " + message("records.rederive.diff_line", lang, line=r["line"],
                                     old=_num(r.get("value_old")), new=_num(r.get("value_new")),
                                     pct=pct))  # fmt: skip
    return "\n".join(rows)


def _num(value: object) -> str:
    return "—" if value is None or (isinstance(value, float) and pd.isna(value)) else f"{value:.2f}"


def _rederived_rows(derivation, units: pd.DataFrame) -> pd.DataFrame:  # noqa: ANN001
    """``standards_used`` rows of the re-derived values, with the record ids used.

    The values are those the draft table states (0.01 yuan, half-up), as a run records
    them; the unrounded figure is kept in the provenance as ``value_exact``.
    """
    from costperf.standards.derive import as_published

    standard = as_published(derivation.standard)
    ids = dict(zip(units["project_id"].astype(str), units["record_id"], strict=True))
    obs = dict(zip(units["project_id"].astype(str), units["observation_id"], strict=True))
    rows = []
    for _, row in standard.iterrows():
        used = [p for p in str(row.get("peers_used") or "").split(";") if p]
        rows.append({
            "standard_id": row["standard_id"], "version": row["version"], "dims": row["dims"],
            "value": row["value"],
            "provenance": json.dumps({
                "published_table": derivation.table.ref, "method": row.get("method"),
                "rule": derivation.rule, "value_exact": _json(row.get("value_exact")),
                "lower": _json(row.get("lower")), "upper": _json(row.get("upper")),
                "decision_records": [ids[p] for p in used if p in ids],
                "observation_records": [int(obs[p]) for p in used if p in obs and pd.notna(obs[p])],
                "peers_excluded": row.get("peers_excluded"), "data_hash": row.get("data_hash"),
            }, ensure_ascii=False),
        })  # fmt: skip
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ reading


def _narrow(
    frame: pd.DataFrame, filters: Mapping[str, object], keys: dict, name: str
) -> pd.DataFrame:
    """Rows matching every filter: on the table's own column, else through its projects
    (department, class, decision, recommendation) or its runs (year)."""
    for column, value in filters.items():
        if column in frame:
            frame = frame[frame[column].astype(str) == str(value)]
        elif column == "year" and "run_id" in frame:
            frame = frame[frame["run_id"].isin(keys["runs_of_year"])]
        elif column in keys["projects"] and "project_id" in frame:
            frame = frame[frame["project_id"].isin(keys["projects"][column])]
        else:
            msg = f"records '{name}' have no {column} to filter on"
            raise InputError(msg)
    return frame


def _filter_keys(store, filters: Mapping[str, object]) -> dict:  # noqa: ANN001 - a Store
    """Project ids per filter (from decisions or recommendations) and the runs of a year."""
    keys: dict = {"projects": {}, "runs_of_year": set()}
    sources = {"department": "decisions", "class_of_matter": "decisions",
               "decision": "decisions", "recommendation": "recommendations"}  # fmt: skip
    for column, value in filters.items():
        if column in sources:
            rows = (views.decisions(store) if sources[column] == "decisions"
                    else views.current(store, "recommendations"))  # fmt: skip
            match = (
                rows[rows[column].astype(str) == str(value)] if column in rows else rows.iloc[0:0]
            )
            keys["projects"][column] = set(match["project_id"])
        if column == "year":
            runs = views.current(store, "runs")
            keys["runs_of_year"] = set(
                runs.loc[runs["year"].astype("string") == str(value), "run_id"]
            )
    return keys


def list_records(
    store_name: str | Path, table: str, filters: Mapping[str, object], *, current: bool = True
) -> pd.DataFrame:
    """Rows of one table, filtered (``current``: without superseded rows)."""
    from costperf.records.read import select_records

    store = existing_store(store_name)
    if store is None:
        return pd.DataFrame(columns=[c.name for c in models.metadata.tables[table].columns])
    try:
        with store.read() as conn:
            frame = pd.read_sql_query(
                select_records(models.metadata.tables[table], current=current), conn
            )
        keys = _filter_keys(store, filters)
        if current and table in ("review_projects", "review_lines") and len(frame):
            # a project's decision of a year is its latest batch's (as the feedback reads
            # it): an earlier batch's rows of the same project and year are not current
            now = views.decisions(store)[["run_id", "project_id"]]
            pairs = set(zip(now["run_id"], now["project_id"].astype(str), strict=True))
            mine = zip(frame["run_id"], frame["project_id"].astype(str), strict=True)
            frame = frame[[pair in pairs for pair in mine]]
    finally:
        store.close()
    return _narrow(frame, filters, keys, table).reset_index(drop=True)


#: a column whose codes depend on its table -> their kind in labels.csv
TABLE_CODED = {
    ("runs", "kind"): "run_kind",
    ("evaluation_results", "kind"): "evaluation_kind",
    ("proposal_constraints", "kind"): "constraint_kind",
}


def record_view(frame: pd.DataFrame, table: str, lang: str) -> pd.DataFrame:
    """A record table as shown in ``lang``: its table's own codes labelled
    (:data:`TABLE_CODED`) and its columns under labels.csv ``record_column``
    (``table.column`` first, then ``column``); the columns that names not keep theirs
    (the column table's labels, :func:`~costperf.columns.to_display`)."""
    frame = frame.copy()
    for (name, column), kind in TABLE_CODED.items():
        if name == table and column in frame:
            codes = code_label_map(kind, lang)
            frame[column] = frame[column].map(lambda v, m=codes: m.get(v, v))
    labels = code_label_map("record_column", lang)
    names = {c: labels.get(f"{table}.{c}") or labels.get(c) for c in frame.columns}
    return frame.rename(columns={c: n for c, n in names.items() if n})


def show_frame(frame: pd.DataFrame, lang: str, table: str = "") -> str:
    with pd.option_context("display.max_columns", None, "display.width", 200,
                           "display.max_colwidth", 40, "display.unicode.east_asian_width", lang == "zh"):  # fmt: skip
        if not len(frame):
            return message("records.list.none", lang)
        kept = frame.drop(columns=["extra", "details"], errors="ignore")
        view = shown_table(kept, table, lang)
        view = view.astype(object).where(view.notna(), "").map(_short_json)
        return view.to_string(index=False)


def _short_json(value: object) -> object:
    """A JSON cell (the run's summary, parameters, inputs) cut to its start on the
    terminal: ``records show`` and ``records export`` give it whole; a blank for None."""
    if isinstance(value, str) and value[:1] in "{[" and len(value) > 40:
        return value[:37] + "..."
    return value


def show_run(store_name: str | Path, run_id: str, *, lang: str = "zh") -> str:
    """One run: kind, time, version, inputs hash, standards, parameters; rows per table
    (the text the command prints, in ``lang``; stored values are shown as stored)."""
    import sqlalchemy as sa

    store = existing_store(store_name)
    if store is None:
        msg = f"{store_name}: no record store there"
        raise InputError(msg)
    try:
        with store.read() as conn:
            run = (
                conn.execute(sa.select(models.runs).where(models.runs.c.run_id == run_id))
                .mappings()
                .first()
            )
            if run is None:
                msg = f"{as_target(store_name)}: no run '{run_id}'"
                raise InputError(msg)
            counts = {
                t: conn.execute(sa.select(sa.func.count()).select_from(models.metadata.tables[t])
                                .where(models.metadata.tables[t].c.run_id == run_id)).scalar()
                for t in TABLES if t not in ("meta", "runs")
            }  # fmt: skip
            superseded_by = (
                conn.execute(
                    sa.select(models.runs.c.run_id).where(models.runs.c.supersedes == run_id)
                )
                .scalars()
                .all()
            )
    finally:
        store.close()
    lines = [
        message("records.show.run", lang, run_id=run["run_id"],
                kind=code_label("run_kind", run["kind"], lang),
                case_name=run["case_name"], created_at=run["created_at"],
                version=run["costperf_version"])
    ]  # fmt: skip
    for key in ("year", "inputs_hash", "config_hash", "standards", "params_hash", "source",
                "supersedes", "summary"):  # fmt: skip
        if run[key] not in (None, "", "[]", "{}"):
            label = code_label("run_field", key, lang)
            lines.append("  " + message("records.show.field", lang, label=label, value=run[key]))
    if superseded_by:
        lines.append(
            "  " + message("records.show.superseded_by", lang, runs=", ".join(superseded_by))
        )
    shown = {t: n for t, n in counts.items() if n}
    counted = _counts(lang, shown, "records_sheet")  # 项目审核结论 275, not review_projects
    lines.append("  " + message("records.show.rows", lang, counts=counted))
    return "\n".join(lines)


#: the tables ``records export`` writes, one sheet each (in this order)
EXPORTED_TABLES = ("runs", "review_projects", "review_lines", "standards_used", "proposals",
                   "proposal_constraints", "proposal_projects", "monitoring_observations",
                   "followup_actions", "evaluation_results", "recommendations")  # fmt: skip


def export_records(
    store_name: str | Path,
    output: Path,
    filters: Mapping[str, object],
    *,
    current: bool = True,
    lang: str = "zh",
) -> tuple[Path, dict[str, int]]:
    """Every table (filtered) as one sheet of an Excel workbook, headers and sheet names
    in ``lang`` (labels.csv ``records_sheet``); returns the path and the rows per table."""
    from costperf.report.excel import write_workbook

    if Path(output).suffix.lower() != ".xlsx":
        msg = f"{output}: export writes an Excel workbook; give a .xlsx file"
        raise InputError(msg)
    sheets, counts = {}, {}
    for table in EXPORTED_TABLES:
        try:
            frame = list_records(store_name, table, filters, current=current)
        except InputError:
            continue  # the table has no column for one of the filters: left out
        counts[table] = len(frame)
        if len(frame):
            shown = record_view(_display_codes(frame, lang), table, lang)
            sheets[code_label("records_sheet", table, lang)] = shown
    if not sheets:
        msg = f"{as_target(store_name)}: no records match the filters {dict(filters)}"
        raise InputError(msg)
    return write_workbook(sheets, output, lang=lang, title=message("records.title", lang)), counts


def _projects_chosen(
    frames: dict[str, pd.DataFrame], filters: Mapping[str, object]
) -> dict[str, pd.DataFrame]:
    """The loop's frames of the projects whose decisions match the filters the
    year-over-year view has no column for (``--class``, ``--decision``, ``--run``):
    such a filter was ignored, and the view showed every project."""
    from costperf.feedback.history import PROJECT_COLUMNS

    decisions = frames["decisions"]
    chosen = None
    for column, value in filters.items():
        if column in PROJECT_COLUMNS or column not in decisions:
            continue
        matched = set(decisions.loc[decisions[column].astype(str) == str(value), "project_id"])
        chosen = matched if chosen is None else chosen & matched
    if chosen is None:
        return frames
    return {
        name: frame[frame["project_id"].isin(chosen)] if "project_id" in frame else frame
        for name, frame in frames.items()
    }


def history(
    store_name: str | Path, out: Path, filters: Mapping[str, object], *, lang: str = "zh"
) -> str:
    """The year-over-year view: ``history.xlsx`` and ``history.html`` with charts."""
    from costperf.feedback import standing, year_end_execution
    from costperf.feedback.history import year_over_year
    from costperf.feedback.policies import load_evaluation_policy, load_feedback_policy
    from costperf.io.write import write_text
    from costperf.report import feedback as charts
    from costperf.report.excel import write_workbook
    from costperf.report.html import Section, render_report

    frames = _loop_frames(store_name)
    frames = _projects_chosen(frames, filters)
    execution = year_end_execution(frames["observations"], load_feedback_policy().year_end_from)
    evals = frames["evaluations"]
    stand = standing(evals, load_evaluation_policy()) if len(evals) else evals.assign(kind=None)
    by_project, by_department = year_over_year(
        frames["decisions"], execution, stand, frames["recommendations"]
    )
    for column, value in filters.items():
        for name in ("by_project", "by_department"):
            frame = locals()[name]
            if column in frame:
                kept = frame[frame[column].astype(str) == str(value)]
                if name == "by_project":
                    by_project = kept
                else:
                    by_department = kept
    if by_project.empty:
        msg = f"{as_target(store_name)}: no records to show (filters {dict(filters)})"
        raise InputError(msg)
    out = Path(out)
    shown_project = _display_codes(by_project, lang)
    by_department_name = message("history.by_department", lang)
    by_project_name = message("history.by_project", lang)
    sheets = {by_department_name: by_department, by_project_name: shown_project}
    title = message("history.title", lang)
    book = write_workbook(sheets, out / "history.xlsx", lang=lang, title=title)
    pngs = [(f"{d}", charts.department_years(by_department, d, lang=lang))
            for d in sorted(by_department["department"].dropna().unique())]  # fmt: skip
    if by_project["grade"].notna().any():
        pngs.append((message("history.grades", lang), charts.grade_counts(by_project, lang=lang)))
    sections = [
        Section(message("history.charts", lang), "", charts=pngs),
        Section(by_department_name, "", tables=[(by_department_name, by_department)]),
        Section(by_project_name, "", tables=[(by_project_name, shown_project)]),
    ]
    html = out / "history.html"
    write_text(render_report(title, sections, lang=lang), html)
    years = sorted(by_project["year"].dropna().astype(int).unique())
    return message(
        "history.written",
        lang,
        departments=by_project["department"].nunique(),
        projects=by_project["project_id"].nunique(),
        first=years[0],
        last=years[-1],
        book=book,
        html=html,
        charts=len(pngs),
    )
