"""Write a case run's outputs: summary.json, report.xlsx, report.html and the records.

Everything is rendered in memory first and each file is moved into place atomically,
so a failure never leaves a half-written report; the records go in one transaction.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from costperf import __version__
from costperf.case import CaseConfig
from costperf.columns import code_label, message
from costperf.errors import LOCATION
from costperf.io.write import check_destinations, write_text
from costperf.pipeline import CaseData, CaseResults
from costperf.records import as_target, check_store, find_run, new_run_id, write_run
from costperf.report import charts
from costperf.report.case_report import case_tables_words
from costperf.report.excel import write_workbook
from costperf.report.html import Section, render_report
from costperf.report.webfont import embed_fonts

#: what the wide decision sheets print (their print area, one A4 landscape page wide);
#: every other column stays on screen
PRINT_COLUMNS = {
    "review_projects": (
        "project_id",
        "project_name",
        "district",
        "requested",
        "approved",
        "cut",
        "cut_rate",
        "decision",
        "reason_zh",
        "reason_en",
    ),
    "review_lines": (
        "project_id",
        "line_no",
        "cost_element",
        "item",
        "requested",
        "approved",
        "cut",
        "cut_rate",
        "decision",
        "reason_zh",
        "reason_en",
    ),
}


def _sheet(key: str, lang: str) -> str:
    """The workbook sheet name of ``key`` (labels.csv, kind ``report_sheet``)."""
    return code_label("report_sheet", key, lang)


def _clean(value: object) -> object:
    """JSON-safe scalars: NaN -> None, numpy -> Python."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


def _derivation_summary(derivation: object) -> dict:
    """The chosen rule, the rule comparison and the leave-one-out sensitivity."""
    if derivation is None:
        return {}
    return {
        "rule": derivation.rule,
        "parameters": _clean_tree(dict(derivation.params)),
        "rules_compared": list(derivation.compared),
        "comparison": _records(derivation.comparison),
        "sensitivity": _records(derivation.sensitivity),
        "table": derivation.table.ref,
        "notes": list(derivation.notes),
    }


def _clean_tree(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _clean_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_tree(v) for v in value]
    return _clean(value)


def _records(frame: pd.DataFrame, columns: list[str] | None = None) -> list[dict]:
    if frame is None or frame.empty:
        return []
    part = frame[[c for c in (columns or frame.columns) if c in frame.columns]]
    return [{k: _clean(v) for k, v in row.items()} for row in part.to_dict("records")]


UNIT_COLUMNS = [  # the case's dimensions follow the district
    "project_id",
    "district",
    "total_cost",
    "output_quantity",
    "unit_cost",
    "cost_index",
    "expected_unit_cost",
    "regression_index",
    "quantile_unit_cost",
]
GAP_COLUMNS = [
    "unit",
    "district",
    "driver",
    "unit_driver_value",
    "reference_driver_value",
    "effect",
    "unit_value",
    "reference_value",
    "gap",
    "note",
]


def build_summary(
    config: CaseConfig,
    data: CaseData,
    results: CaseResults,
    *,
    run_id: str | None,
    records_path: Path | None,
) -> dict:
    """Machine-readable summary of a run (every figure recomputable from the case data)."""
    dims = list(config.units.dimensions)
    unit_columns = [*UNIT_COLUMNS[:2], *dims, *(c for c in UNIT_COLUMNS[2:] if c not in dims)]
    return {
        "case": config.name,
        "title": config.title,
        "class_of_matter": config.class_of_matter,
        "costperf_version": __version__,
        "data_hash": data.data_hash,
        "config_hash": data.config_hash,
        "output": {
            "indicator": config.units.output_indicator,
            "unit": config.units.output_unit,
            "weights": config.units.output_weights,
        },
        "unit_cost_definition": "sum of line-item amounts / output actual [yuan per output unit]",
        "n_contracts": int(len(results.units)),
        "districts": _records(results.districts),
        "contracts": _records(results.units, unit_columns),
        "standards": _records(results.standard),
        "gap_reference": _records(results.reference),
        "district_gap": _records(results.district_gap),
        "contract_gap": _records(results.gap, GAP_COLUMNS),
        "regression": _clean_tree(results.regression),
        "frontier": _records(results.frontier),
        "outliers": _records(results.outliers),
        "derivation": _derivation_summary(results.derivation),
        "review": {
            "totals": {k: _clean(v) for k, v in results.review_totals.items()},
            "projects": _records(results.review_projects),
        },
        "records": {
            "path": str(as_target(records_path)) if records_path else None,
            "run_id": run_id,
            "review_projects": int(len(results.review_projects)),
            "review_lines": int(len(results.review_lines)),
        },
        "notes": results.notes,
    }


def _standard_at_mix(units: pd.DataFrame, standard: pd.DataFrame, dims: list[str]) -> pd.Series:
    """Per district: the standard weighted by its contracts' outputs in each cell."""
    if not dims or standard.empty or not set(dims) <= set(standard):
        return pd.Series(dtype=float)
    merged = units.merge(standard[[*dims, "value"]], on=dims, how="left")
    weighted = (merged["value"] * merged["output_quantity"]).groupby(merged["district"]).sum()
    return weighted / merged.groupby("district")["output_quantity"].sum()


#: the step of :data:`costperf.pipeline.STEPS` after which every chart of the case
#: report has its data (:func:`send_charts`)
CHARTS_READY_AFTER = "districts"


def send_charts(config: CaseConfig, results: CaseResults, lang: str) -> None:
    """Send the case report's charts to the chart worker now, while the last steps
    (outliers, review, optimiser) run: :func:`write_outputs` then finds them sent (the
    same arguments) instead of sending them again. Nothing without a worker."""
    from costperf.report import background

    if background.active():
        _charts(config, results, lang)


def _charts(config: CaseConfig, results: CaseResults, lang: str) -> list[tuple[str, bytes]]:
    dims = list(config.units.dimensions)
    unit = config.units.output_unit
    out = []
    if dims:
        out.append(
            (
                message("case_chart.unit_costs", lang),
                charts.unit_cost_box(
                    results.units,
                    by=dims[0],
                    standard=results.standard,
                    output_unit=unit,
                    dim_label=config.label(dims[0], lang),
                    lang=lang,
                ),
            )
        )
    peer_median = float(results.units["unit_cost"].median()) if len(results.units) else None
    out.append(
        (
            message("case_chart.districts", lang),
            charts.district_bars(
                results.districts,
                output_unit=unit,
                lang=lang,
                peer_median=peer_median,
                standard_at_mix=_standard_at_mix(results.units, results.standard, dims),
            ),
        )
    )
    if not results.district_gap.empty:
        names = {d: config.label(d, lang) for d in results.district_gap["driver"].unique()}
        names["residual"] = message("case_chart.residual", lang)
        out.append(
            (
                message("case_chart.gap", lang),
                charts.waterfall_panel(
                    results.district_gap, labels=names, output_unit=unit, lang=lang
                ),
            )
        )
    if not results.frontier.empty and "efficiency" in results.frontier:
        out.append(
            (
                message("case_chart.efficiency", lang),
                charts.efficiency_bars(
                    results.frontier,
                    id_column="project_id",
                    score="efficiency",
                    group="district",
                    lang=lang,
                ),
            )
        )
    if not results.frontier.empty and len(config.frontier.outputs) == 1:
        table = results.units.set_index("project_id").loc[results.frontier["project_id"]]
        inputs, output = list(config.frontier.inputs), config.frontier.outputs[0]
        names = " + ".join(config.label(c, lang) for c in inputs)
        out.append(
            (
                message("case_chart.frontier", lang),
                charts.frontier_scatter(
                    results.frontier.reset_index(drop=True),
                    input_total=table[inputs].sum(axis=1).reset_index(drop=True),
                    output=table[output].reset_index(drop=True),
                    input_label=message("case_chart.frontier_inputs", lang, names=names),
                    output_label=config.label(output, lang).replace("_", " "),
                    lang=lang,
                ),
            )
        )
    if "expected_unit_cost" in results.units:
        out.append(
            (
                message("case_chart.expected", lang),
                charts.expected_scatter(
                    results.units,
                    actual="unit_cost",
                    expected="expected_unit_cost",
                    group="district",
                    output_unit=unit,
                    lang=lang,
                ),
            )
        )
    return out


def _tables(results: CaseResults, data: CaseData) -> dict[str, pd.DataFrame]:
    reg = results.regression.get("coefficients")
    derivation = results.derivation
    return {
        "units": results.units.drop(columns=list(LOCATION), errors="ignore"),
        "districts": results.districts,
        "peer_stats": results.peer_stats,
        "standard": results.standard,
        "district_gap": results.district_gap,
        "gap": results.gap.rename(columns={"unit": "project_id"}),
        "regression": pd.DataFrame(reg) if reg else pd.DataFrame(),
        "vif": pd.DataFrame(results.regression.get("vif") or []),
        "frontier": results.frontier,
        "outliers": results.outliers,
        "gap_reference": results.reference,
        "rule_comparison": _derive_table(derivation, "comparison"),
        "sensitivity": _derive_table(derivation, "sensitivity"),
        "provenance": _derive_table(derivation, "provenance"),
        "review_projects": results.review_projects,
        "review_lines": results.review_lines,
        "warnings": data.warnings,
    }


def _with_case_labels(frame: pd.DataFrame, config: CaseConfig) -> pd.DataFrame:
    """Chinese report: the case's [labels] for its own column names and driver values,
    and in the frontier's lists of input and output columns (``swept_area_m2``)."""
    out = frame.rename(columns=config.labels)
    if "driver" in out:
        out["driver"] = out["driver"].map(
            lambda d: config.label(d) if d != "residual" else "残差（参照调整）"
        )
    for col in ("frontier_inputs", "frontier_outputs"):
        if col in out:
            out[col] = out[col].map(
                lambda names: ",".join(config.labels.get(n.strip(), n) for n in names.split(",")),
                na_action="ignore",
            )
    return out


def _derive_table(derivation: object, name: str) -> pd.DataFrame | None:
    """A derivation table for the report; its ``rule`` is the derivation rule."""
    if derivation is None:
        return None
    return getattr(derivation, name).rename(
        columns={
            "rule": "derive_rule",
            "reason": "exclusion_reason",
            "reason_zh": "exclusion_reason_zh",
        }
    )


def write_outputs(
    config: CaseConfig,
    data: CaseData,
    results: CaseResults,
    out_dir: Path,
    *,
    records_path: Path | str | None,
    lang: str = "zh",
    on_step: Callable[[str], None] | None = None,
) -> dict:
    """Write every output of a run; return the summary dictionary.

    ``on_step(name)`` is told what is being written (a progress display).

    Order: a record store that cannot be used rejects the run before anything is
    written; everything is rendered; each file is moved into place atomically; only
    then are the review records committed, in one transaction. A run whose outputs
    fail leaves the store as it was.
    """
    folders = [out_dir / "standards"] + ([out_dir / "optimize"] if results.optimize else [])
    check_destinations(  # a folder in the way of a file (or a file of a folder): refused now
        [out_dir / n for n in ("report.xlsx", "report.html", "summary.json")], folders
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = {k: v for k, v in _tables(results, data).items() if v is not None and len(v)}
    tables = case_tables_words(tables, config, results, lang)  # methods, reasons in words
    if lang == "zh":  # the case's own names (drivers, variables) get its [labels]
        tables = {k: _with_case_labels(v, config) for k, v in tables.items()}
    step = on_step or (lambda _name: None)
    step("charts")
    png = _charts(config, results, lang)
    workbook = {_sheet(k, lang): v for k, v in tables.items()}
    lead, sections = _sections(config, results, tables, png, lang)
    optimizer = _Optimizer(config, results, records_path, lang)
    sections += optimizer.sections()
    workbook.update(optimizer.sheets())
    run_id, held = None, None
    params = {"case": config.name, "config_hash": data.config_hash}
    if records_path is not None and not results.review_projects.empty:
        check_store(records_path)
        held = find_run(records_path, "run", data.data_hash, params)  # the same: not again
        run_id = held or new_run_id()
    optimizer.check_records()
    step("report.xlsx")
    write_workbook(
        workbook,
        out_dir / "report.xlsx",
        lang=lang,
        title=config.title,
        print_columns={_sheet(k, lang): cols for k, cols in PRINT_COLUMNS.items()},
    )
    step("standard")
    published = _write_derived_standard(results, out_dir, lang)
    summary = build_summary(config, data, results, run_id=run_id, records_path=records_path)
    summary["records"]["already_recorded"] = held is not None
    summary["published_standard"] = [str(p) for p in published]
    summary.update(optimizer.write_files(out_dir))
    step("report.html")  # last: the charts may still be drawn by a worker until now
    html = render_report(config.title, sections, lang=lang, lead=lead, embed=False)
    pages = [p for p in published if p.suffix == ".html"]  # one font subset for all pages
    texts = embed_fonts([html, *(p.read_text(encoding="utf-8") for p in pages)])
    write_text(texts[0], out_dir / "report.html")
    for path, text in zip(pages, texts[1:], strict=True):
        write_text(text, path)
    write_text(
        json.dumps(summary, ensure_ascii=False, indent=2, default=str), out_dir / "summary.json"
    )
    if run_id is not None and held is None:
        write_run(
            records_path,
            run_id=run_id,
            case_name=config.name,
            projects=results.review_projects,
            lines=results.review_lines,
            standards=_standards_used(results.standard),
            config_hash=data.config_hash,
            data_hash=data.data_hash,
            version=__version__,
            summary=results.review_totals,
            project_facts=data.requests.projects if data.requests is not None else None,
            class_of_matter=config.class_of_matter,
            params=params,
        )
    optimizer.record()
    return summary


class _Optimizer:
    """The optimiser's part of a run (when the case has [optimize]): its report
    sections, its files in ``OUT/optimize/``, its summary entry and its records, each
    at its moment of :func:`write_outputs`."""

    def __init__(self, config: CaseConfig, results: CaseResults, records_path, lang: str):
        self.proposal, self.records_path, self.lang = results.optimize, records_path, lang
        self.config, self.held, self.run_id = config, None, None
        if self.proposal is not None:
            from costperf.commands.optimize import solve_params
            from costperf.optimize_outputs import inputs_hash, proposal_params
            from costperf.pipeline import optimize_date

            self.inputs = inputs_hash(config.optimize.paths)
            raw = solve_params(config.optimize, optimize_date(config))
            self.params = proposal_params(config.name, raw)

    def sections(self) -> list[Section]:
        if self.proposal is None:
            return []
        from costperf.report.optimize import optimize_sections

        return optimize_sections(self.proposal, self.lang)

    def sheets(self) -> dict[str, pd.DataFrame]:
        """The plan and the constraints as workbook sheets (优化方案, 优化约束)."""
        if self.proposal is None:
            return {}
        from costperf.optimize import in_language

        return {
            _sheet("optimize_plan", self.lang): in_language(self.proposal.plan, self.lang),
            _sheet("optimize_constraints", self.lang): in_language(
                self.proposal.constraints, self.lang
            ),
        }

    def check_records(self) -> None:
        if self.proposal is None or self.records_path is None:
            return
        from costperf.optimize_outputs import check_records

        self.held = check_records(self.records_path, self.inputs, self.params)
        self.run_id = self.held or new_run_id()

    def write_files(self, out_dir: Path) -> dict:
        if self.proposal is None:
            return {}
        from costperf.optimize_outputs import optimize_summary, write_files

        write_files(self.proposal, out_dir, self.lang)
        entry = optimize_summary(self.proposal, self.lang)
        entry["records"] = {"run_id": self.run_id, "already_recorded": self.held is not None}
        return {"optimize": entry}

    def record(self) -> None:
        if self.run_id is None or self.held is not None:
            return
        from costperf.optimize_outputs import record_proposal

        record_proposal(
            self.records_path,
            self.proposal,
            case_name=self.config.name,
            inputs=self.inputs,
            params=self.params,
            run_id=self.run_id,
        )


def _write_derived_standard(results: CaseResults, out_dir: Path, lang: str) -> list[Path]:
    """The derived standard as a draft table version (TOML + CSV + peer rows) in
    ``OUT/standards/`` and its publication (xlsx, html) in ``OUT``.

    A run regenerates its own outputs: the files are written in a scratch folder and
    moved over the previous run's.
    """
    derivation = results.derivation
    if derivation is None:
        return []
    from costperf.report.standard_page import publish_table
    from costperf.standards import read_standards
    from costperf.standards.derive import write_derived_table

    table = derivation.table
    final = out_dir / "standards"
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".standard-") as scratch:
        scratch = Path(scratch)
        files = list(write_derived_table(table, scratch / "standards"))
        standards = read_standards(files[0])
        pubs = [
            publish_table(
                standards, table.ref, scratch / f"{table.stem}.{fmt}", lang=lang, embed=False
            )
            for fmt in ("xlsx", "html")
        ]
        final.mkdir(exist_ok=True)
        moved = []
        for path in files:
            moved.append(final / path.name)
            path.replace(moved[-1])
        for path in pubs:
            moved.append(out_dir / path.name)
            path.replace(moved[-1])
    return moved


def _standards_used(standard: pd.DataFrame) -> pd.DataFrame:
    keys = ["method", "parameters", "data_hash", "peers_used", "peers_excluded", "published_table"]
    prov = standard[[k for k in keys if k in standard]]
    return pd.DataFrame(
        {
            "standard_id": standard["standard_id"],
            "version": standard["version"],
            "dims": standard["dims"],
            "value": standard["value"],
            "provenance": [json.dumps(r, ensure_ascii=False) for r in prov.to_dict("records")],
        }
    )


def _sections(
    config: CaseConfig,
    results: CaseResults,
    tables: dict[str, pd.DataFrame],
    png: list[tuple[str, bytes]],
    lang: str,
) -> tuple[str, list[Section]]:
    """The lead sentence and sections of report.html (:mod:`costperf.report.case_report`)."""
    from costperf.report.case_report import case_sections

    return case_sections(config, results, tables, png, lang, _sheet)
