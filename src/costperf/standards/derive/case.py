"""The case entry point: settings from case.toml, then derive, compare, test, lay out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from costperf.errors import InputError, located_error
from costperf.standards.derive.compare import _comparison
from costperf.standards.derive.evaluate import evaluate_rule, rule_values
from costperf.standards.derive.provenance import _provenance
from costperf.standards.derive.rules import DEFAULT_PARAMS, check_params, parse_rule
from costperf.standards.derive.sensitivity import leave_one_out
from costperf.standards.derive.table import (
    DerivedTable,
    build_standard_table,
    standard_frame,
    table_id_of,
)

DEFAULT_COMPARE = (
    "median",
    "p25",
    "p75",
    "regression",
    "quantile_regression",
    "dea",
    "triangulation",
)


@dataclass(frozen=True, eq=False)
class Derivation:
    """Everything ``costperf standards derive`` produces for one case.

    Attributes
    ----------
    rule
        The chosen rule.
    params
        Every rule parameter used (defaults filled in).
    units
        The peer table the rules ran on.
    standard
        The chosen rule's standard per cell, :data:`STANDARD_COLUMNS` shape.
    comparison
        :func:`compare_rules` over ``compared`` rules.
    sensitivity
        :func:`leave_one_out` for the same rules.
    provenance
        :func:`rule_provenance` rows of every compared rule.
    table
        The chosen standard as a draft table version (:class:`DerivedTable`).
    notes
        Rules that could not be computed, and why.
    """

    rule: str
    params: dict[str, object]
    units: pd.DataFrame
    standard: pd.DataFrame
    comparison: pd.DataFrame
    sensitivity: pd.DataFrame
    provenance: pd.DataFrame
    table: DerivedTable
    compared: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def derivation_settings(
    config: object, *, rule: str | None = None, **overrides: object
) -> tuple[str, dict[str, object], tuple[str, ...]]:
    """Rule, parameters and rules to compare for a case: case.toml, then ``overrides``.

    Parameters come from ``[standard]`` (rule, outlier_rule), ``[benchmark]`` (formula,
    quantile -> tau, frontier_inputs/outputs/rts -> dea_*), any raw ``[standard]`` keys
    the config carries in ``extra["standard"]`` that name a rule parameter, and finally
    ``overrides`` (None values are ignored). ``compare`` lists the rules to compare.
    """
    std = config.standard
    path = Path(config.folder) / "case.toml"
    raw = dict((getattr(config, "extra", None) or {}).get("standard", {}) or {})
    params: dict[str, object] = {
        "outlier_rule": std.outlier_rule,
        "formula": config.regression_formula,
        "tau": getattr(config, "regression_quantile", None),
        "dea_inputs": tuple(config.frontier_inputs),
        "dea_outputs": tuple(config.frontier_outputs),
        "dea_rts": getattr(config, "frontier_rts", None),
    }
    params.update({k: v for k, v in raw.items() if k in DEFAULT_PARAMS})
    compare = overrides.pop("compare", None) or raw.get("compare") or DEFAULT_COMPARE
    params.update({k: v for k, v in overrides.items() if v is not None})
    if rule is not None:
        chosen = parse_rule(rule, where=f"--rule (given instead of [standard] rule in {path})").name
    else:
        where = f"{path}: [standard] rule"
        try:
            chosen = parse_rule(raw.get("rule", std.rule), where=where).name
        except InputError as exc:
            raise located_error(
                str(exc), source_file=path, column="standard.rule", value=std.rule, check="config"
            ) from exc
    checked = check_params(params, where=f"{path}: [standard]")
    names = [parse_rule(r, where=f"{path}: compare").name for r in compare]
    return chosen, checked, tuple(dict.fromkeys([chosen, *names]))


def derive_for_case(
    config: object,
    data: object,
    *,
    rule: str | None = None,
    units: pd.DataFrame | None = None,
    **overrides: object,
) -> Derivation:
    """Derive the case's unit-cost standard by its rule, compare rules, test sensitivity.

    Parameters
    ----------
    config
        The :class:`~costperf.case.CaseConfig`.
    data
        The :class:`~costperf.pipeline.CaseData` from :func:`~costperf.pipeline.load_case_data`.
    rule
        Overrides ``[standard] rule`` (any rule of :func:`rule_values`).
    units
        The peers' unit table when the caller has already built and checked it (as
        :func:`costperf.pipeline.analyse` has); by default it is built from ``data``.
    **overrides
        Rule parameters (``tau``, ``formula``, ``dea_inputs`` ...), ``compare`` (rules
        to compare) and ``table_version`` (whole number, default 1).

    Returns
    -------
    Derivation
    """
    from costperf.decompose.unit_costs import check_units, unit_table
    from costperf.errors import raise_if_problems

    table_version = overrides.pop("table_version", None) or 1
    chosen, params, compare = derivation_settings(config, rule=rule, **overrides)
    if units is None:
        peers = data.peers
        units = unit_table(
            peers.projects,
            peers.line_items,
            peers.outputs,
            output_indicator=config.output_indicator,
            output_weights=getattr(config, "output_weights", None),
            variables=config.variables,
            drivers=config.drivers,
            output_value="actual",
        )
        problems = check_units(units, output_indicator=config.output_indicator)
        raise_if_problems(problems, "the peer data")
    dims = list(config.dimensions)
    results, notes = {}, []
    for name in compare:
        try:
            results[name] = evaluate_rule(units, dims, name, **params)
        except InputError as exc:
            if name == chosen:
                raise
            notes.append(f"{name}: {exc}")
    done = tuple(results)
    comparison = _comparison(units, dims, results, params)
    sensitivity = leave_one_out(units, dims, done, **params)
    provenance = _provenance(results)
    std = config.standard
    unit = f"元/{config.output_unit}" if config.output_unit else ""
    band = tuple(rule_values(units, dims, b, **params) for b in std.band)
    standard = standard_frame(
        results[chosen].values,
        band,
        dims=dims,
        standard_id=std.standard_id,
        name=std.name,
        version=std.version,
        effective_from=std.effective_from,
        unit=unit,
    )
    label = getattr(config, "label", None)
    table = build_standard_table(
        standard,
        dims=dims,
        table_id=table_id_of(std.standard_id),
        version=int(table_version),
        title=std.name,
        effective_from=std.effective_from,
        peer_rows=provenance[provenance["rule"] == chosen],
        unit=unit,
        class_of_matter=config.class_of_matter,
        dim_labels={d: label(d) if label else _column_label(d) for d in dims},
        item_label=f"{config.class_of_matter}单位成本",
    )
    return Derivation(
        chosen,
        params,
        units,
        standard,
        comparison,
        sensitivity,
        provenance,
        table,
        done,
        tuple(notes),
    )


def _column_label(name: str) -> str:
    from costperf.columns import label

    return label(name)
