"""The derivation: rules evaluated, compared and tested, and the standard laid out.

Pure: frames and :class:`~costperf.params.DeriveParams` in, a :class:`Derivation` out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import pandas as pd

from costperf.columns import label, message
from costperf.errors import InputError
from costperf.params import DeriveParams
from costperf.standards.derive.compare import comparison_of
from costperf.standards.derive.evaluate import evaluate_rule, rule_values
from costperf.standards.derive.provenance import provenance_of
from costperf.standards.derive.rules import check_params, parse_rule
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


def override_params(
    settings: DeriveParams, *, rule: str | None = None, config: object = "", **overrides: object
) -> DeriveParams:
    """The derivation settings with options given on the command line instead.

    ``rule`` replaces the chosen rule; ``compare`` the compared rules; ``table_version``
    the table version; every other keyword is a rule parameter (None values are
    ignored). Everything is checked again, naming the option (and ``config``, the file
    whose settings they replace).
    """
    from costperf.errors import Check, merge_errors

    compare = overrides.pop("compare", None)
    table_version = overrides.pop("table_version", None)
    errors: list[InputError] = []  # every bad option at once, not only the first
    if table_version is not None and int(table_version) < 1:  # checked before any file
        msg = f"--version: expected a table version of 1 or more, got {table_version}"
        errors.append(InputError(msg))
    given = {k: v for k, v in overrides.items() if v is not None}
    instead = f" (given instead of [standard] in {config})" if config else ""
    chosen, names, params = settings.rule, settings.compare, settings.params
    if rule is not None:
        try:
            chosen = parse_rule(rule, where=f"--rule{instead}").name
        except InputError as exc:
            errors.append(exc)
    for name in compare or ():
        try:
            parse_rule(name, where=f"--compare{instead}")
        except InputError as exc:
            errors.append(exc)
    try:
        params = check_params(
            {**settings.params, **given}, where=f"derive options{instead}", check=Check.OPTION
        )
    except InputError as exc:
        errors.append(exc)
    if errors:
        raise merge_errors(errors, Check.OPTION)
    if compare:
        names = tuple(parse_rule(r).name for r in compare)
    return replace(
        settings,
        rule=chosen,
        params=params,
        compare=names,
        table_version=settings.table_version if table_version is None else int(table_version),
    )


def derive_standard(
    units: pd.DataFrame,
    dims: Sequence[str],
    settings: DeriveParams,
    *,
    output_unit: str = "",
    class_of_matter: str = "",
    dim_labels: Mapping[str, str] | None = None,
) -> Derivation:
    """Derive the unit-cost standard by the chosen rule, compare rules, test sensitivity.

    Parameters
    ----------
    units
        The checked peer unit table (:func:`costperf.decompose.unit_costs.unit_table`).
    dims
        Dimension columns: one standard per cell.
    settings
        Rule, parameters, compared rules, band and the table's identity.
    output_unit
        Unit of the output (the standard is in yuan per it).
    class_of_matter
        The class of matter the table is for (一类事).
    dim_labels
        Display labels of the dimensions (default: the data model's).

    Returns
    -------
    Derivation
    """
    dims = list(dims)
    params = dict(settings.params)
    results, notes = {}, []
    for name in settings.rules:
        try:
            results[name] = _evaluate(units, dims, name, params, results)
        except InputError as exc:
            if name == settings.rule:
                raise
            notes.append(f"{name}: {exc}")
    done = tuple(results)
    comparison = comparison_of(units, dims, results, params)
    base = {name: result.values for name, result in results.items()}
    sensitivity = leave_one_out(units, dims, done, base=base, **params)
    provenance = provenance_of(results)
    # the table's unit in its own (Chinese) words; pages in English: unit_words
    unit = message("run.unit", "zh", unit=output_unit) if output_unit else ""
    band = tuple(_band_values(units, dims, b, params, results) for b in settings.band)
    standard = standard_frame(
        results[settings.rule].values,
        band,
        dims=dims,
        standard_id=settings.standard_id,
        name=settings.name,
        version=settings.version,
        effective_from=settings.effective_from,
        unit=unit,
    )
    labels = {d: (dim_labels or {}).get(d) or label(d, "zh") for d in dims}
    table = build_standard_table(
        standard,
        dims=dims,
        table_id=table_id_of(settings.standard_id),
        version=int(settings.table_version),
        title=settings.name,
        effective_from=settings.effective_from,
        peer_rows=provenance[provenance["rule"] == settings.rule],
        unit=unit,
        class_of_matter=class_of_matter,
        dim_labels=labels,
        dim_labels_en={d: label(d, "en") for d in dims},
        item_label=message("derive.item", "zh", matter=class_of_matter),
        standard_ref=f"{settings.standard_id}@{settings.version}",
    )
    return Derivation(
        settings.rule,
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


def _evaluate(units, dims, name: str, params, done: Mapping[str, object]):  # noqa: ANN001, ANN202
    """One rule's result; a triangulation whose members are all in ``done`` combines
    their results (the numbers of evaluating them again)."""
    from costperf.standards.derive.triangulation import triangulation_of  # registered last

    spec = parse_rule(name)
    if spec.kind == "triangulation":
        checked = check_params(params)
        by_name = {parse_rule(n).name: result for n, result in done.items()}
        if all(m in by_name for m in checked["members"]):
            members = {m: by_name[m] for m in checked["members"]}
            return triangulation_of(units, dims, spec, members, checked)
    return evaluate_rule(units, dims, name, **params)


def _band_values(units, dims, name: str, params, done: Mapping[str, object]) -> pd.DataFrame:  # noqa: ANN001
    """A band rule's values: those of the compared rule of that name when it was
    evaluated (by :func:`evaluate_rule`, the call :func:`rule_values` makes with the same
    arguments), else evaluated here."""
    result = done.get(name)
    if result is not None and parse_rule(name).kind != "triangulation":
        return result.values
    return rule_values(units, dims, name, **params)
