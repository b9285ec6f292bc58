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

from costperf.benchmark.costmodel import fit_cost_model, predict_cost, variance_inflation
from costperf.benchmark.frontier import solve_dea
from costperf.benchmark.peers import OUTLIER_COLUMNS, flag_outliers
from costperf.case import CaseConfig, TableSource
from costperf.decompose.gap import decompose_gap, peer_reference
from costperf.decompose.unit_costs import (
    check_units,
    group_cost_index,
    group_unit_costs,
    unit_table,
)
from costperf.errors import (
    InputError,
    empty_problems,
    located_error,
    merge_errors,
    raise_if_problems,
)
from costperf.io.read import read_checked
from costperf.review import review_lines, review_projects, review_totals
from costperf.schemas import LINE_ITEMS, OUTPUTS, PROJECTS, coerce_numeric, concat_problems
from costperf.standards.derive import Derivation, derive_for_case, peer_table, round_half_up
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
    reference: pd.DataFrame
    review_projects: pd.DataFrame = field(default_factory=pd.DataFrame)
    review_lines: pd.DataFrame = field(default_factory=pd.DataFrame)
    review_totals: dict = field(default_factory=dict)
    regression: dict = field(default_factory=dict)
    frontier: pd.DataFrame = field(default_factory=pd.DataFrame)
    outliers: pd.DataFrame = field(default_factory=pd.DataFrame)
    derivation: Derivation | None = None
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
    sources: dict[str, TableSource],
    what: str,
    config: CaseConfig,
    numeric: set[str],
    *,
    standards: set[str] | None = None,
) -> tuple[TableSet, pd.DataFrame]:
    """Read and check one set; collect problems of all its files before raising."""
    frames, errors = {}, []
    for table, schema in (("projects", PROJECTS), ("line_items", LINE_ITEMS), ("outputs", OUTPUTS)):
        if table not in sources:  # e.g. requests without an outputs file: no rows
            columns = [*schema.required, *schema.optional]
            frames[table] = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
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
                standards=standards,
            ),
            _dimension_problems(projects, config),
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


def known_standard_ids(config: CaseConfig) -> set[str]:
    """Standard ids a line may name: the case's own standard and the shipped tables."""
    from costperf.standards import shipped_standards

    return {config.standard.standard_id, *shipped_standards().table_ids()}


def _dimension_problems(projects: pd.DataFrame, config: CaseConfig) -> pd.DataFrame:
    """A [units] dimension that is not a projects column is a case.toml error."""
    missing = [d for d in config.dimensions if d not in projects.columns]
    if missing:
        path = config.folder / "case.toml"
        headers = projects.attrs.get("headers", {})
        available = ", ".join(
            f"{c} ({headers[c]})" if c in headers else c
            for c in projects.columns
            if c not in ("source_file", "sheet", "source_row")
        )
        msg = (
            f"{path}: [units] dimensions names {', '.join(map(repr, missing))}, which is "
            f"not a column of the projects table; columns: {available}"
        )
        raise located_error(
            msg,
            source_file=path,
            column="units.dimensions",
            value=", ".join(missing),
            expected=f"a projects column ({available})",
            check="config",
        )
    from costperf import validate

    check = getattr(validate, "check_dimension_values", None)
    return check(projects, list(config.dimensions)) if check else None


def load_case_data(config: CaseConfig) -> CaseData:
    """Read and validate every file of a case; raise one InputError listing problems."""
    numeric = _driver_columns(config)
    peers, warn_p = _read_set(config.peers, "peer", config, numeric)
    requests, warn_r = (None, empty_problems())
    if config.requests:
        requests, warn_r = _read_set(
            config.requests, "request", config, set(), standards=known_standard_ids(config)
        )
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
        output_weights=config.output_weights,
        variables=config.variables,
        drivers=drivers,
        output_value=output_value,
    )


def _gap(
    units: pd.DataFrame, config: CaseConfig
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Each contract's gap to its peers' reference, split into the [decomposition] drivers.

    Contracts are compared within their dimension cell (e.g. road grade), so the mix of
    grades does not masquerade as a driver.  The reference of a cell is the peer
    statistic (``[decomposition] reference``, median by default) of each driver and of
    the unit cost; the ``residual`` driver carries the difference between the median
    unit cost and the product of the driver medians (and whatever the listed drivers
    leave out), so the effects add up to the whole gap.  A district's gap is the mean of
    its contracts' gaps, split by the mean effects (exact, since the mean is linear).
    Additive effects are in yuan per output unit.
    """
    drivers = list(config.decomposition_drivers)
    if not drivers:
        return pd.DataFrame(), pd.DataFrame(), pd.DataFrame()
    scale = config.decomposition_scale
    scaled = units.assign(scaled_unit_cost=units["unit_cost"] * scale)
    statistic, named = config.decomposition_reference, None
    if statistic.startswith("district:"):  # a named district's median contract profile
        named, statistic = statistic.split(":", 1)[1], "median"
        _check_reference_district(units, named, config)
    method = config.decomposition_method
    dims = list(config.dimensions)
    cells = scaled.groupby(dims, sort=False) if dims else [((), scaled)]
    parts, references = [], []
    for key, cell in cells:
        peers = cell if named is None else cell[cell["district"] == named]
        if peers.empty:  # the named district has no contract of this grade
            continue
        reference = peer_reference(peers, drivers, statistic=statistic, target="scaled_unit_cost")
        part = decompose_gap(
            cell,
            reference,
            drivers,
            method=method,
            id_column="project_id",
            target="scaled_unit_cost",
        )
        key = key if isinstance(key, tuple) else (key,)
        for dim, value in zip(dims, key, strict=True):
            part[dim] = value
        parts.append(part)
        ref = reference.rename({"scaled_unit_cost": "unit_cost"})
        ref["unit_cost"] = ref["unit_cost"] / scale
        references.append(pd.Series(dict(zip(dims, key, strict=True))).combine_first(ref))
    gap = pd.concat(parts, ignore_index=True)
    for col in ("unit_driver_value", "reference_driver_value"):
        gap[col] = gap[col].astype(float)
    additive = method != "lmdi_multiplicative"  # multiplicative effects are ratios
    for col in (("effect",) if additive else ()) + ("unit_value", "reference_value", "gap"):
        gap[col] = gap[col] / scale
    district = units.set_index("project_id")["district"]
    gap["district"] = gap["unit"].map(district)
    if additive:
        effect = gap.groupby(["district", "driver"], sort=False)["effect"].mean()
    else:  # geometric mean of ratios multiplies to the geometric mean of the unit ratios
        effect = np.exp(np.log(gap["effect"]).groupby([gap["district"], gap["driver"]]).mean())
    by_district = effect.reset_index()
    totals = gap.drop_duplicates("unit").groupby("district")
    by_district = by_district.join(
        totals[["unit_value", "reference_value", "gap"]].mean(), on="district"
    )
    by_district["method"] = method
    by_district["reference"] = (f"peer {statistic}" if named is None else f"{named} median") + (
        f" per {', '.join(dims)}" if dims else ""
    )
    reference_table = pd.DataFrame(references)
    reference_table = reference_table[[*dims, "unit_cost", *drivers]]
    return gap, by_district, reference_table


def _check_reference_district(units: pd.DataFrame, district: str, config: CaseConfig) -> None:
    known = sorted(units["district"].dropna().astype(str).unique())
    if district not in known:
        path = config.folder / "case.toml"
        msg = (
            f"{path}: [decomposition] reference names district '{district}', which has no "
            f"peer contract; districts: {', '.join(known)}"
        )
        raise located_error(
            msg, source_file=path, column="decomposition.reference", value=district, check="config"
        )


def _config_error(config: CaseConfig, key: str, exc: InputError) -> InputError:
    """Re-locate an error about a case.toml setting (e.g. a formula) at that key."""
    if not exc.problems.empty:
        return exc
    path = config.folder / "case.toml"
    section, _, name = key.partition(".")
    where = f"[{section}] {name}" if name else f"[{section}]"
    return located_error(
        f"{path}: {where}: {exc}",
        source_file=path,
        column=key,
        expected=str(exc),
        check="config",
    )


def _regression(units: pd.DataFrame, config: CaseConfig) -> tuple[dict, pd.DataFrame]:
    """Cost-driver regression of the case ([benchmark] formula): expected unit cost.

    OLS on logs with the configured standard errors; the expected unit cost of each
    contract is the retransformed prediction (Duan smearing), and the regression index
    is actual / expected x 100.  With ``[benchmark] quantile`` a quantile regression
    gives the efficient-quantile unit cost too.
    """
    formula = config.regression_formula
    if not formula:
        return {}, units
    try:
        model = fit_cost_model(units, formula, se=config.regression_se)
        pred = predict_cost(model, units)
        vif = variance_inflation(units, formula)
        qmodel = None
        if config.regression_quantile is not None:
            qmodel = fit_cost_model(units, formula, quantile=config.regression_quantile)
            qpred = predict_cost(qmodel, units)
    except InputError as exc:
        raise _config_error(config, "benchmark.formula", exc) from exc
    units = units.copy()
    expected = pred.get("expected_cost", pred["fitted"])
    units["expected_unit_cost"] = expected.to_numpy()
    units["regression_index"] = units["unit_cost"] / units["expected_unit_cost"] * 100
    if "cost_pi_low" in pred:
        units["expected_pi_low"] = pred["cost_pi_low"].to_numpy()
        units["expected_pi_high"] = pred["cost_pi_high"].to_numpy()
    coefficients = model.coefficients.assign(model="ols")
    result = {
        "formula": formula,
        "method": "ols",
        "se": model.se,
        "se_method": model.fit.get("se_method"),
        "fit": {k: v for k, v in model.fit.items() if np.isscalar(v) or v is None},
        "vif": vif.to_dict("records"),
    }
    if qmodel is not None:
        units["quantile_unit_cost"] = qpred.get("quantile_cost", qpred["fitted"]).to_numpy()
        coefficients = pd.concat(
            [coefficients, qmodel.coefficients.assign(model=f"quantile tau={qmodel.quantile}")]
        )
        result["quantile"] = {
            "tau": qmodel.quantile,
            "se": qmodel.se,
            "se_method": qmodel.fit.get("se_method"),
            "fit": {k: v for k, v in qmodel.fit.items() if np.isscalar(v) or v is None},
        }
    result["coefficients"] = coefficients.reset_index(drop=True).to_dict("records")
    return result, units


def _frontier(units: pd.DataFrame, config: CaseConfig) -> pd.DataFrame:
    """DEA scores of the peer contracts on the case's frontier inputs and outputs."""
    inputs, outputs = list(config.frontier_inputs), list(config.frontier_outputs)
    if not inputs or not outputs:
        return pd.DataFrame()
    missing = [c for c in inputs + outputs if c not in units.columns]
    if missing:
        path = config.folder / "case.toml"
        msg = (
            f"{path}: [benchmark] frontier column(s) {', '.join(missing)} are not project "
            f"variables, drivers or cost elements; available: "
            f"{', '.join(c for c in units.columns if units[c].dtype.kind == 'f')}"
        )
        raise located_error(
            msg, source_file=path, column="benchmark.frontier_inputs", check="config"
        )
    table = units.set_index("project_id")
    orientation = config.frontier_orientation
    with_super = config.frontier_rts != "fdh"
    try:
        scores = solve_dea(
            table[inputs],
            table[outputs],
            rts=config.frontier_rts,
            orientation=orientation,
            super_efficiency=with_super,
        )
    except InputError as exc:
        raise _config_error(config, "benchmark.frontier_inputs", exc) from exc
    score = "efficiency_in" if orientation == "in" else "efficiency_out_shephard"
    keep = [c for c in units.columns if c in ("district", *config.dimensions)]
    frame = table[keep].join(scores).reset_index()
    frame.insert(len(keep) + 1, "efficiency", frame[score])
    frame["rts"] = config.frontier_rts
    frame["orientation"] = orientation
    frame["frontier_inputs"] = ",".join(inputs)
    frame["frontier_outputs"] = ",".join(outputs)
    return frame


def _outliers(units: pd.DataFrame, config: CaseConfig) -> pd.DataFrame:
    """Peer unit costs flagged by the standard's outlier rule, with the reason."""
    rule = config.standard.outlier_rule
    flagged = flag_outliers(units, "unit_cost", by=list(config.dimensions) or None, rule=rule)
    cols = ["project_id", "district", *config.dimensions, "unit_cost", *OUTLIER_COLUMNS]
    return flagged.loc[flagged["outlier"], [c for c in cols if c in flagged.columns]]


def analyse(config: CaseConfig, data: CaseData) -> CaseResults:
    """Run every stage on validated case data (pure: no files are read or written)."""
    dims = list(config.dimensions)
    try:
        units = _units(data.peers, config, drivers=config.drivers, output_value="actual")
    except InputError as exc:
        raise _config_error(config, "drivers", exc) from exc
    raise_if_problems(check_units(units, output_indicator=config.output_indicator), "the peer data")
    try:
        derivation = derive_for_case(config, data, units=units)  # built and checked above
    except InputError as exc:
        raise _config_error(config, "standard", exc) from exc
    standard = _as_published(derivation.standard)
    standard["published_table"] = derivation.table.ref  # where the values are published
    stats = peer_table(units, dims=dims)
    units = units.assign(cost_index=np.nan)
    if dims:
        # the index compares with the standard as derived (not the rounded table value)
        ref = standard.rename(columns={"value_exact": "standard_value"})
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
    regression, units = _regression(units, config)
    frontier = _frontier(units, config)
    districts = _district_benchmarks(districts, units, frontier)
    results = CaseResults(
        units=units,
        districts=districts,
        peer_stats=stats,
        standard=standard,
        gap=gap,
        district_gap=district_gap,
        reference=reference,
        regression=regression,
        frontier=frontier,
        outliers=_outliers(units, config),
        derivation=derivation,
    )
    if data.requests is not None:
        _review(results, data.requests, config)
    return results


def _as_published(standard: pd.DataFrame) -> pd.DataFrame:
    """Values as the published table states them (0.01 yuan, half-up); the review
    applies these, so an auditor can recompute every cut from the published table.
    The unrounded figures stay in ``value_exact``, ``lower_exact``, ``upper_exact``."""
    out = standard.copy()
    for col in ("value", "lower", "upper"):
        out[f"{col}_exact"] = out[col]
        out[col] = out[col].map(lambda x: round_half_up(x, 2) if pd.notna(x) else x)
    return out


def _district_benchmarks(
    districts: pd.DataFrame, units: pd.DataFrame, frontier: pd.DataFrame
) -> pd.DataFrame:
    """Add the regression-adjusted index and mean frontier score to the district table."""
    out = districts.copy()
    if "expected_unit_cost" in units:
        expected_cost = (
            (units["expected_unit_cost"] * units["output_quantity"])
            .groupby(units["district"])
            .sum()
        )
        output = units.groupby("district")["output_quantity"].sum()
        actual = units.groupby("district")["total_cost"].sum()
        out["expected_unit_cost"] = out["district"].map(expected_cost / output)
        out["regression_index"] = out["district"].map(actual / expected_cost * 100)
    if not frontier.empty:
        out["mean_efficiency"] = out["district"].map(
            frontier.groupby("district")["efficiency"].mean()
        )
    return out


def _review_adjustment(
    requests: pd.DataFrame, peers: pd.DataFrame, config: CaseConfig
) -> tuple[pd.Series | None, pd.Series | None]:
    """``[review] adjust_by``: scale each request's standard by (its value of the variable
    / the peer median of its dimension cell) ** elasticity, e.g. the sweeps a day a
    request buys against the grade's norm. A request without the value is not adjusted.
    """
    name = config.review.adjust_by
    if name is None:
        return None, None
    if name not in peers.columns or name not in requests.columns:
        path = config.folder / "case.toml"
        msg = (
            f"{path}: [review] adjust_by = '{name}' is not a variable of the peers and the "
            f"requests; use a name from [variables]: {', '.join(config.variables) or 'none'}"
        )
        raise located_error(
            msg, source_file=path, column="review.adjust_by", value=name, check="config"
        )
    dims = list(config.dimensions)
    if dims:
        norm = peers.groupby(dims)[name].median().rename("_norm")
        reference = requests[dims].join(norm, on=dims)["_norm"]
    else:
        reference = pd.Series(peers[name].median(), index=requests.index)
    value = pd.to_numeric(requests[name], errors="coerce")
    e = config.review.adjust_elasticity
    factor = (value / reference) ** e
    factor = factor.where(np.isfinite(factor) & (factor > 0))
    power = "" if e == 1 else f"^{e:g}"
    label = config.label(name)
    text = [
        f"{label} {v:g} ÷ 同类中位数 {r:g}{power}, {name}" if pd.notna(f) else ""
        for v, r, f in zip(value, reference, factor, strict=True)
    ]
    return factor, pd.Series(text, index=requests.index)


def _review(results: CaseResults, requests: TableSet, config: CaseConfig) -> None:
    dims = list(config.dimensions)
    units = _units(requests, config, drivers={}, output_value="target")
    factor, text = _review_adjustment(units, results.units, config)
    decided = review_projects(
        units,
        results.standard,
        dims=dims,
        output_unit=config.output_unit,
        tolerance=config.review.tolerance,
        adjustment=factor,
        adjustment_text=text,
    )
    results.review_projects = decided
    results.review_lines = review_lines(requests.line_items, decided)
    results.review_totals = review_totals(decided)
