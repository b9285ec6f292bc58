"""The case run: read and check every file of a case, then run the stages as named steps.

:func:`load_case_data` is the edge that reads files: every input file of a case (peers
and requests) is read and checked, and every problem found, in any file or across them,
goes into one problems table before anything raises. :func:`analyse` is pure: it runs
:data:`STEPS` in order, each a thin adapter that calls one stage's public function with
frames and the case's parameters (:mod:`costperf.params`) and keeps the result.
Writing outputs lives in :mod:`costperf.outputs`.

The steps::

    unit_costs   the peers' unit table (built and checked while loading)
    derive       the unit-cost standard by the case's rule, compared and tested
    publish      the standard as the published table states it (0.01 yuan)
    cost_index   each contract's and district's unit cost against the standard
    gap          the gap split per contract (within its cell) and per district
    regression   expected unit cost from the cost-driver regression
    frontier     DEA scores on the frontier inputs and outputs
    districts    the district table with the regression index and mean score
    outliers     contracts the standard's outlier rule flags, and why
    review       the requests reviewed against the published standard
    optimize     the savings optimiser's plan, when the case has [optimize]
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from costperf.benchmark.units import (
    expected_unit_costs,
    frontier_scores,
    group_benchmarks,
    unit_cost_outliers,
)
from costperf.case import CaseConfig, TableSource
from costperf.decompose.cells import gap_by_cell, group_effects
from costperf.decompose.unit_costs import (
    case_units,
    check_units,
    cost_index,
    group_cost_index,
    group_unit_costs,
)
from costperf.errors import (
    LOCATION,
    InputError,
    empty_problems,
    raise_all,
)
from costperf.io.read import problems_in, read_validated, without_repeated_keys
from costperf.review import review_unit_cost
from costperf.schemas import (
    LINE_ITEMS,
    OUTPUTS,
    PROJECTS,
    Schema,
    concat_problems,
    merge_problems,
)
from costperf.standards.derive import Derivation, as_published, derive_standard, peer_table
from costperf.validate import (
    check_dimension_values,
    check_inputs,
    normalise_cost_elements,
    normalise_output_categories,
)


@dataclass(frozen=True)
class TableSet:
    """Projects, line items and outputs of one set (peers or requests)."""

    projects: pd.DataFrame
    line_items: pd.DataFrame
    outputs: pd.DataFrame


@dataclass(frozen=True)
class CaseData:
    """Everything a case reads, validated, with the unit tables built from it."""

    peers: TableSet
    requests: TableSet | None
    warnings: pd.DataFrame
    data_hash: str
    config_hash: str
    peer_units: pd.DataFrame = field(default_factory=pd.DataFrame)
    request_units: pd.DataFrame | None = None
    files: tuple[Path, ...] = ()
    optimize: object | None = None  # costperf.optimize.ModelTables, with [optimize]


@dataclass
class CaseResults:
    """Results of every step of one case run (filled in step by step)."""

    units: pd.DataFrame = field(default_factory=pd.DataFrame)
    districts: pd.DataFrame = field(default_factory=pd.DataFrame)
    peer_stats: pd.DataFrame = field(default_factory=pd.DataFrame)
    standard: pd.DataFrame = field(default_factory=pd.DataFrame)
    gap: pd.DataFrame = field(default_factory=pd.DataFrame)
    district_gap: pd.DataFrame = field(default_factory=pd.DataFrame)
    reference: pd.DataFrame = field(default_factory=pd.DataFrame)
    review_projects: pd.DataFrame = field(default_factory=pd.DataFrame)
    review_lines: pd.DataFrame = field(default_factory=pd.DataFrame)
    review_totals: dict = field(default_factory=dict)
    regression: dict = field(default_factory=dict)
    frontier: pd.DataFrame = field(default_factory=pd.DataFrame)
    outliers: pd.DataFrame = field(default_factory=pd.DataFrame)
    derivation: Derivation | None = None
    notes: list[str] = field(default_factory=list)
    optimize: object | None = None  # costperf.optimize.Proposal, with [optimize]


# ---------------------------------------------------------------------------- loading


def load_case_data(config: CaseConfig) -> CaseData:
    """Read and check every file of a case; raise one InputError listing every problem.

    Every file of the peers and of the requests is read, each set is checked across its
    tables (unknown projects, amount = quantity x price, blank dimensions, unknown
    standards), and the unit tables are built and checked (zero or missing outputs);
    then all the problems found are raised together.
    """
    numeric = _driver_columns(config)
    sets = {"peers": (config.peers, None)}
    if config.requests:
        sets["requests"] = (config.requests, known_standard_ids(config))
    read, errors, problems, warnings, units = {}, [], [], [], {}
    for what, (sources, standards) in sets.items():
        tables, failed, found, warned = _read_set(sources, config, numeric, standards=standards)
        read[what] = tables
        errors += failed
        problems.append(found)
        warnings.append(warned)
        if tables is not None and _has_no_errors(found):
            units[what], found = _units_of(tables, config, requests=what == "requests")
            problems.append(found)
    model, failed = None, []
    if config.optimize is not None:
        try:
            model = load_optimize_tables(config)
        except InputError as exc:
            failed.append(exc)
    raise_all(errors + failed, problems, "the case files")
    files = tuple(s.path for s in (*config.peers.values(), *config.requests.values()))
    if config.optimize is not None:
        files += tuple(config.optimize.paths.values())
    return CaseData(
        peers=read["peers"],
        requests=read.get("requests"),
        warnings=concat_problems(warnings),
        data_hash=_hash_files(list(files)),
        config_hash=_hash_files([config.path]) if config.path.exists() else "",
        peer_units=units["peers"],
        request_units=units.get("requests"),
        files=files,
        optimize=model,
    )


def load_optimize_tables(config: CaseConfig):
    """The case's [optimize] tables, read and checked (:class:`~costperf.optimize.ModelTables`)."""
    from costperf.io.model import read_model_tables

    params = config.optimize
    return read_model_tables(params.paths, standards_dir=params.standards, on=optimize_date(config))


def optimize_date(config: CaseConfig):
    """The date whose standards price the optimiser's resources: [optimize] date, else
    [review] date, else today."""
    import datetime as dt

    return (config.optimize.date if config.optimize else None) or dt.date.today()


def _has_no_errors(problems: pd.DataFrame) -> bool:  # warnings do not stop a run
    return problems.empty or (problems["severity"] == "warning").all()


def _schemas(config: CaseConfig, numeric: set[str]) -> dict[str, Schema]:
    """The schemas of one set: the projects table gets the case's own columns (its
    dimensions as text, the columns its drivers use as numbers >= 0)."""
    dims = list(config.units.dimensions)
    projects = PROJECTS.with_columns(text=dims, numbers=sorted(numeric - set(dims)))
    return {"projects": projects, "line_items": LINE_ITEMS, "outputs": OUTPUTS}


def _read_set(
    sources: Mapping[str, TableSource],
    config: CaseConfig,
    numeric: set[str],
    *,
    standards: set[str] | None,
) -> tuple[TableSet | None, list[InputError], pd.DataFrame, pd.DataFrame]:
    """Read and check one set: (tables or None, errors reading its files, problems
    found checking them, warnings); never raises."""
    frames, failed, cell_errors = {}, [], []
    for table, schema in _schemas(config, numeric).items():
        if table not in sources:  # e.g. requests without an outputs file: no rows
            columns = [*schema.required, *schema.optional]
            frames[table] = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
            continue
        source = sources[table]
        try:  # a bad cell is blanked and reported, and the checks below go on
            frames[table], errors = read_validated(
                source.path,
                schema,
                sheet=source.sheet,
                header_row=source.header_row,
                amount_scale=source.amount_scale,
            )
        except InputError as exc:  # read every file, then report all of them
            failed.append(exc)
            continue
        cell_errors.append(errors)
        if table == "projects":  # a project counted twice would be checked twice
            frames[table] = without_repeated_keys(frames[table], errors)
    if failed:
        return None, failed, concat_problems(cell_errors), empty_problems()
    lines, bad_elements = normalise_cost_elements(frames["line_items"])
    outputs, bad_categories = normalise_output_categories(frames["outputs"])
    frames["outputs"] = outputs
    projects = frames["projects"]
    found = merge_problems(
        [
            *cell_errors,
            bad_elements,
            bad_categories,
            check_inputs(
                projects,
                lines,
                frames["outputs"],
                rel_tol=config.units.amount_rel_tol,
                abs_tol=config.units.amount_abs_tol,
                standards=standards,
            ),
            _dimension_problems(projects, config),
        ]
    )
    warnings = concat_problems([problems_in(f) for f in (projects, lines, frames["outputs"])])
    return TableSet(projects, lines, frames["outputs"]), [], found, warnings


def _units_of(
    tables: TableSet, config: CaseConfig, *, requests: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The unit table of a set and its problems (blank or zero outputs)."""
    try:
        units = case_units(
            tables.projects,
            tables.line_items,
            tables.outputs,
            config.units,
            output_value="target" if requests else "actual",
            with_drivers=not requests,
        )
    except InputError as exc:
        raise relocate(config, "drivers", exc) from exc
    if requests:  # a request without an output target is decided by the review
        return units, empty_problems()
    return units, check_units(units, output_indicator=config.units.output_indicator)


def _hash_files(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _driver_columns(config: CaseConfig) -> set[str]:
    """Project columns the driver expressions may use as numbers, and those the case's
    formulas take the log or square root of."""
    from costperf.expressions import nonnegative_names

    names = set()
    for expression in config.units.drivers.values():
        names.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expression))
    for formula in (config.regression.formula, config.standard.params.get("formula")):
        names.update(nonnegative_names(formula))
    return names


def known_standard_ids(config: CaseConfig) -> set[str]:
    """Standard ids a line may name: the case's own standard and the shipped tables."""
    from costperf.standards.tables import header_table_ids

    return {config.standard.standard_id, *header_table_ids()}


def _dimension_problems(projects: pd.DataFrame, config: CaseConfig) -> pd.DataFrame:
    """A [units] dimension that is not a projects column is a case.toml problem; a
    project with a blank dimension value is a problem at its cell."""
    dims = list(config.units.dimensions)
    missing = [d for d in dims if d not in projects.columns]
    if not missing:
        return check_dimension_values(projects, dims)
    headers = projects.attrs.get("headers", {})
    available = ", ".join(
        f"{c} ({headers[c]})" if c in headers else c for c in projects.columns if c not in LOCATION
    )
    message = (
        f"[units] dimensions names {', '.join(map(repr, missing))}, which is not a column "
        f"of the projects table; columns: {available}"
    )
    return config.config_error("units.dimensions", message, ", ".join(missing)).problems


# ---------------------------------------------------------------------------- the steps


@dataclass(frozen=True)
class Step:
    """One named step of the run.

    ``run(config, data, results)`` reads what earlier steps left in ``results`` and
    adds its own. An :class:`InputError` without a location is about a setting: it is
    relocated at ``config_key`` in case.toml (``keys`` maps a stage parameter named by
    a :class:`ParameterError` to its own key).
    """

    name: str
    run: Callable[[CaseConfig, CaseData, CaseResults], None]
    config_key: str = ""
    keys: Mapping[str, str] = field(default_factory=dict)


def _unit_costs(config: CaseConfig, data: CaseData, results: CaseResults) -> None:
    results.units = data.peer_units
    results.peer_stats = peer_table(data.peer_units, dims=list(config.units.dimensions))


def _derive(config: CaseConfig, data: CaseData, results: CaseResults) -> None:
    dims = config.units.dimensions
    results.derivation = derive_standard(
        results.units,
        dims,
        config.standard,
        output_unit=config.units.output_unit,
        class_of_matter=config.class_of_matter,
        dim_labels={d: config.label(d) for d in dims},
    )


def _publish(config: CaseConfig, data: CaseData, results: CaseResults) -> None:
    derivation = results.derivation
    results.standard = as_published(derivation.standard)
    results.standard["published_table"] = derivation.table.ref  # where the values are


def _cost_index(config: CaseConfig, data: CaseData, results: CaseResults) -> None:
    dims = list(config.units.dimensions)
    units = results.units.assign(cost_index=float("nan"))
    if not dims:
        results.units, results.districts = units, group_unit_costs(units, ["district"])
        return
    # the index compares with the standard as derived (not the rounded table value)
    reference = results.standard.rename(columns={"value_exact": "standard_value"})
    reference = reference[[*dims, "standard_value"]]
    units["cost_index"] = cost_index(units, reference, dims=dims, reference_value="standard_value")
    groups = group_cost_index(units, reference, dims=dims, reference_value="standard_value")
    results.units = units
    results.districts = group_unit_costs(units, ["district"]).merge(
        groups[["district", "cost_index"]], on="district"
    )


def _gap(config: CaseConfig, data: CaseData, results: CaseResults) -> None:
    params = config.gap
    if not params.drivers:
        return
    gap, reference = gap_by_cell(results.units, config.units.dimensions, params)
    by_district = group_effects(gap, "district", params.method)
    by_district = by_district.drop(columns=["ratio"], errors="ignore")
    by_district["method"] = params.method
    dims = list(config.units.dimensions)
    by_district["reference"] = params.reference_text + (f" per {', '.join(dims)}" if dims else "")
    results.gap, results.district_gap, results.reference = gap, by_district, reference


def _regression(config: CaseConfig, data: CaseData, results: CaseResults) -> None:
    results.regression, results.units = expected_unit_costs(results.units, config.regression)


def _frontier(config: CaseConfig, data: CaseData, results: CaseResults) -> None:
    results.frontier = frontier_scores(results.units, config.units.dimensions, config.frontier)


def _districts(config: CaseConfig, data: CaseData, results: CaseResults) -> None:
    results.districts = group_benchmarks(results.districts, results.units, results.frontier)


def _outliers(config: CaseConfig, data: CaseData, results: CaseResults) -> None:
    rule = str(config.standard.params["outlier_rule"])
    results.outliers = unit_cost_outliers(results.units, config.units.dimensions, rule)


def _review(config: CaseConfig, data: CaseData, results: CaseResults) -> None:
    if data.requests is None:
        return
    adjust_by = config.review.adjust_by
    decided, lines, totals = review_unit_cost(
        data.request_units,
        data.requests.line_items,
        results.standard,
        results.units,
        dims=config.units.dimensions,
        params=config.review,
        output_unit=config.units.output_unit,
        adjust_label={g: config.label(adjust_by, g) for g in ("zh", "en")} if adjust_by else None,
    )
    results.review_projects, results.review_lines, results.review_totals = decided, lines, totals


def _optimize(config: CaseConfig, data: CaseData, results: CaseResults) -> None:
    if data.optimize is None:
        return
    from costperf.optimize import optimize_plan

    results.optimize = optimize_plan(data.optimize, **optimize_options(config))


def optimize_options(config: CaseConfig) -> dict[str, object]:
    """The keyword arguments of :func:`costperf.optimize.optimize_plan` for the case."""
    params = config.optimize
    return {
        "solver": params.solver,
        "max_group_cut": params.max_group_cut,
        "project_floor": params.project_floor,
        "time_limit": params.time_limit,
    }


#: the run, in order (``docs/architecture.md`` shows this list)
STEPS: tuple[Step, ...] = (
    Step("unit_costs", _unit_costs, "units"),
    Step("derive", _derive, "standard"),
    Step("publish", _publish, "standard"),
    Step("cost_index", _cost_index, "units.dimensions"),
    Step("gap", _gap, "decomposition", {"district": "decomposition.reference"}),
    Step("regression", _regression, "benchmark.formula"),
    Step("frontier", _frontier, "benchmark.frontier_inputs"),
    Step("districts", _districts, "units"),
    Step("outliers", _outliers, "standard.outlier_rule"),
    Step("review", _review, "review", {"adjust_by": "review.adjust_by"}),
    Step("optimize", _optimize, "optimize"),
)


def steps_named(*names: str) -> tuple[Step, ...]:
    """The steps of :data:`STEPS` with these names, in run order (for a command that
    runs part of the case, e.g. ``standards derive``: ``unit_costs`` and ``derive``)."""
    unknown = set(names) - {s.name for s in STEPS}
    if unknown:
        msg = f"unknown step(s): {', '.join(sorted(unknown))}"
        raise ValueError(msg)
    return tuple(s for s in STEPS if s.name in names)


def analyse(
    config: CaseConfig,
    data: CaseData,
    *,
    steps: tuple[Step, ...] = STEPS,
    on_step: Callable[[str], None] | None = None,
    after_step: Callable[[str, CaseResults], None] | None = None,
) -> CaseResults:
    """Run ``steps`` on validated case data (pure: no files are read or written).

    ``on_step(name)`` is called before each step (e.g. to show progress);
    ``after_step(name, results)`` after it, with the results so far (e.g. to start
    drawing charts whose data are complete).
    """
    results = CaseResults()
    for step in steps:
        if on_step is not None:
            on_step(step.name)
        try:
            step.run(config, data, results)
        except InputError as exc:
            key = step.keys.get(getattr(exc, "parameter", ""), step.config_key)
            raise relocate(config, key, exc) from exc
        if after_step is not None:
            after_step(step.name, results)
    return results


def relocate(config: CaseConfig, key: str, exc: InputError) -> InputError:
    """An error about a case.toml setting (e.g. a formula) located at its key; an error
    that already names its cells is kept as it is."""
    if not exc.problems.empty:
        return exc
    section, _, name = key.partition(".")
    where = f"[{section}] {name}" if name else f"[{section}]"
    return config.config_error(key, f"{where}: {exc}")
