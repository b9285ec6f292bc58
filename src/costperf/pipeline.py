"""The case pipeline: load a case's files, run every stage, collect the results.

``load_case_data`` is the edge that reads files (all of them, validating everything
before anything is written). ``analyse`` is pure: frames in, :class:`CaseResults` out.
Writing outputs lives in :mod:`costperf.outputs`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from costperf.case import CaseConfig, TableSource
from costperf.decompose.gap import decompose_gap, peer_reference
from costperf.decompose.unit_costs import (
    check_units,
    group_cost_index,
    group_unit_costs,
    unit_table,
)
from costperf.errors import InputError, empty_problems, merge_errors, raise_if_problems
from costperf.io.read import read_checked
from costperf.review import review_lines, review_projects, review_totals
from costperf.schemas import LINE_ITEMS, OUTPUTS, PROJECTS, coerce_numeric, concat_problems
from costperf.standards.derive import derive_unit_cost_standard, peer_table
from costperf.validate import check_inputs, normalise_cost_elements


@dataclass(frozen=True)
class TableSet:
    """Projects, line items and outputs of one set (peers or requests)."""

    projects: pd.DataFrame
    line_items: pd.DataFrame
    outputs: pd.DataFrame


@dataclass(frozen=True)
class CaseData:
    """Everything a case reads, validated."""

    peers: TableSet
    requests: TableSet | None
    warnings: pd.DataFrame
    data_hash: str
    config_hash: str


@dataclass
class CaseResults:
    """Results of every stage of one case run."""

    units: pd.DataFrame
    districts: pd.DataFrame
    peer_stats: pd.DataFrame
    standard: pd.DataFrame
    gap: pd.DataFrame
    district_gap: pd.DataFrame
    reference: pd.Series
    review_projects: pd.DataFrame = field(default_factory=pd.DataFrame)
    review_lines: pd.DataFrame = field(default_factory=pd.DataFrame)
    review_totals: dict = field(default_factory=dict)
    regression: dict = field(default_factory=dict)
    frontier: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)


def _read(source: TableSource, schema, what: str) -> pd.DataFrame:
    return read_checked(
        source.path,
        schema,
        sheet=source.sheet,
        header_row=source.header_row,
        amount_scale=source.amount_scale,
    )


def _read_set(
    sources: dict[str, TableSource], what: str, config: CaseConfig, numeric: set[str]
) -> tuple[TableSet, pd.DataFrame]:
    """Read and check one set; collect problems of all its files before raising."""
    frames, errors = {}, []
    for table, schema in (("projects", PROJECTS), ("line_items", LINE_ITEMS), ("outputs", OUTPUTS)):
        if table not in sources:
            frames[table] = pd.DataFrame(columns=list(schema.required))
            continue
        try:
            frames[table] = _read(sources[table], schema, what)
        except InputError as exc:  # read every file, then report all of them
            errors.append(exc)
    if errors:
        raise merge_errors(errors)
    lines, bad_elements = normalise_cost_elements(frames["line_items"])
    projects = frames["projects"]
    extra = sorted(c for c in numeric if c in projects.columns)
    projects, bad_numbers = coerce_numeric(projects, extra, min_value=0.0, allow_missing=True)
    found = concat_problems(
        [
            bad_elements,
            bad_numbers,
            check_inputs(
                projects,
                lines,
                frames["outputs"],
                rel_tol=config.amount_rel_tol,
                abs_tol=config.amount_abs_tol,
            ),
        ]
    )
    raise_if_problems(found, f"the {what} files")
    warnings = concat_problems(
        [f.attrs.get("warnings", empty_problems()) for f in (projects, lines, frames["outputs"])]
    )
    return TableSet(projects, lines, frames["outputs"]), warnings


def _hash_files(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _driver_columns(config: CaseConfig) -> set[str]:
    """Project columns the driver expressions may use as numbers."""
    import re

    names = set()
    for expression in config.drivers.values():
        names.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expression))
    return names


def load_case_data(config: CaseConfig) -> CaseData:
    """Read and validate every file of a case; raise one InputError listing problems."""
    numeric = _driver_columns(config)
    peers, warn_p = _read_set(config.peers, "peer", config, numeric)
    requests, warn_r = (None, empty_problems())
    if config.requests:
        requests, warn_r = _read_set(config.requests, "request", config, set())
    files = [s.path for s in (*config.peers.values(), *config.requests.values())]
    config_path = config.folder / "case.toml"
    return CaseData(
        peers=peers,
        requests=requests,
        warnings=concat_problems([warn_p, warn_r]),
        data_hash=_hash_files(files),
        config_hash=_hash_files([config_path]) if config_path.exists() else "",
    )


def _units(
    tables: TableSet, config: CaseConfig, *, drivers: dict[str, str], output_value: str
) -> pd.DataFrame:
    return unit_table(
        tables.projects,
        tables.line_items,
        tables.outputs,
        output_indicator=config.output_indicator,
        variables=config.variables,
        drivers=drivers,
        output_value=output_value,
    )


def _gap(units: pd.DataFrame, config: CaseConfig) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    drivers = list(config.decomposition_drivers)
    if not drivers:
        return pd.DataFrame(), pd.DataFrame(), pd.Series(dtype=float)
    scaled = units.assign(scaled_unit_cost=units["unit_cost"] * config.decomposition_scale)
    reference = peer_reference(scaled, drivers, statistic="median", target="scaled_unit_cost")
    gap = decompose_gap(
        scaled,
        reference,
        drivers,
        method="lmdi_additive",
        id_column="project_id",
        target="scaled_unit_cost",
    )
    for col in ("unit_driver_value", "reference_driver_value"):
        gap[col] = gap[col].astype(float)
    for col in ("effect", "unit_value", "reference_value", "gap"):
        gap[col] = gap[col] / config.decomposition_scale
    district = units.set_index("project_id")["district"]
    gap["district"] = gap["unit"].map(district)
    by_district = gap.groupby(["district", "driver"], sort=False)["effect"].mean().reset_index()
    totals = gap.drop_duplicates("unit").groupby("district")[["unit_value", "gap"]].mean()
    by_district = by_district.join(totals, on="district")
    by_district["reference_value"] = (
        float(reference["scaled_unit_cost"]) / config.decomposition_scale
    )
    return gap, by_district, reference / config.decomposition_scale


def analyse(config: CaseConfig, data: CaseData) -> CaseResults:
    """Run every stage on validated case data (pure: no files are read or written)."""
    dims = list(config.dimensions)
    units = _units(data.peers, config, drivers=config.drivers, output_value="actual")
    raise_if_problems(check_units(units, output_indicator=config.output_indicator), "the peer data")
    std = config.standard
    standard = derive_unit_cost_standard(
        units,
        dims=dims,
        standard_id=std.standard_id,
        name=std.name,
        version=std.version,
        effective_from=std.effective_from,
        rule=std.rule,
        outlier_rule=std.outlier_rule,
        band=std.band,
        unit=f"元/{config.output_unit}",
    )
    stats = peer_table(units, dims=dims)
    units = units.assign(cost_index=np.nan)
    if dims:
        ref = standard.rename(columns={"value": "standard_value"})
        idx_ref = ref[[*dims, "standard_value"]]
        from costperf.decompose.unit_costs import cost_index

        units["cost_index"] = cost_index(
            units, idx_ref, dims=dims, reference_value="standard_value"
        )
        districts = group_unit_costs(units, ["district"]).merge(
            group_cost_index(units, idx_ref, dims=dims, reference_value="standard_value")[
                ["district", "cost_index"]
            ],
            on="district",
        )
    else:
        districts = group_unit_costs(units, ["district"])
    gap, district_gap, reference = _gap(units, config)
    results = CaseResults(
        units=units,
        districts=districts,
        peer_stats=stats,
        standard=standard,
        gap=gap,
        district_gap=district_gap,
        reference=reference,
    )
    if data.requests is not None:
        _review(results, data.requests, config)
    return results


def _review(results: CaseResults, requests: TableSet, config: CaseConfig) -> None:
    dims = list(config.dimensions)
    units = _units(requests, config, drivers={}, output_value="target")
    decided = review_projects(
        units,
        results.standard,
        dims=dims,
        output_unit=config.output_unit,
        tolerance=config.review.tolerance,
    )
    results.review_projects = decided
    results.review_lines = review_lines(requests.line_items, decided)
    results.review_totals = review_totals(decided)
