"""Unit costs, cost composition and driver ratios from line items and outputs.

All functions are pure: they take the typed frames from :mod:`costperf.io` and return new
frames with canonical columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from costperf.errors import InputError, make_problems
from costperf.expressions import ExpressionError, allowed_text, evaluate_expression
from costperf.params import UnitsParams
from costperf.schemas import COST_ELEMENTS, concat_problems, row_problems, shown_header

_CARRIED_ATTRS = ("source", "headers", "header_row")


def project_costs(line_items: pd.DataFrame, *, key: str = "project_id") -> pd.DataFrame:
    """Total cost and cost per element of each project.

    Returns
    -------
    DataFrame
        Indexed by ``key``: ``total_cost`` and ``cost_<element>`` for every element in
        :data:`costperf.schemas.COST_ELEMENTS` (0 where a project has none). [yuan]
    """
    by_element = line_items.pivot_table(
        index=key,
        columns="cost_element",
        values="amount",
        aggfunc="sum",
        fill_value=0.0,
        observed=True,
    )
    by_element = by_element.reindex(columns=list(COST_ELEMENTS), fill_value=0.0)
    by_element.columns = [f"cost_{c}" for c in by_element.columns]
    by_element.columns.name = None
    by_element.insert(0, "total_cost", by_element.sum(axis=1))
    return by_element.astype(float)


def cost_shares(costs: pd.DataFrame) -> pd.DataFrame:
    """Share of each cost element in the total (rows sum to 1), from :func:`project_costs`."""
    elements = [c for c in costs.columns if c.startswith("cost_")]
    shares = costs[elements].div(costs["total_cost"].where(costs["total_cost"] != 0), axis=0)
    shares.columns = [c.replace("cost_", "share_") for c in elements]
    return shares


def output_variables(
    outputs: pd.DataFrame,
    variables: Mapping[str, str],
    *,
    key: str = "project_id",
    value: str = "actual",
) -> pd.DataFrame:
    """Pivot named output indicators into one column per variable.

    ``variables`` maps a variable name to an indicator name (``area_m2 = '保洁面积'``).
    ``value`` is 'actual' for delivered outputs or 'target' for requested ones; a blank
    actual falls back to the target.
    """
    wanted = outputs[outputs["indicator"].isin(set(variables.values()))]
    other = "target" if value == "actual" else "actual"
    if value not in wanted:  # an optional column left out: the other one alone
        values = wanted[other] if other in wanted else pd.Series(np.nan, index=wanted.index)
    else:
        values = wanted[value]
        if other in wanted:
            values = values.fillna(wanted[other])
    table = wanted.assign(_v=values).pivot_table(
        index=key, columns="indicator", values="_v", aggfunc="first"
    )
    out = pd.DataFrame(index=table.index)
    for name, indicator in variables.items():
        out[name] = table[indicator] if indicator in table.columns else np.nan
    return out


def unit_table(
    projects: pd.DataFrame,
    line_items: pd.DataFrame,
    outputs: pd.DataFrame,
    *,
    output_indicator: str,
    variables: Mapping[str, str],
    drivers: Mapping[str, str],
    output_value: str = "actual",
    output_weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """One row per project: attributes, costs, shares, output, unit cost and drivers.

    Parameters
    ----------
    output_indicator
        Indicator the unit cost is measured against (e.g. '保洁面积'); with
        ``output_weights``, only the name shown in messages.
    output_weights
        A composite output: indicator -> weight; the output is the weighted sum of the
        indicators' values (a component a project does not report counts as 0; a project
        reporting none of them has no output).
    variables
        Output indicators to expose as variables (name -> indicator).
    drivers
        Driver ratios as expressions over the project variables
        (e.g. ``'cost_personnel / cleaners'``). Division by zero gives NaN.

    Returns
    -------
    DataFrame
        Projects with ``total_cost``, ``cost_*``, ``share_*``, ``output_quantity``,
        ``unit_cost`` [yuan per output unit] and one column per driver.  ``attrs`` keep
        the projects file's ``source``, ``headers`` and ``header_row`` (so problems name
        the columns as the user wrote them) and ``output_cells``: for each project
        with a blank or non-positive output, where it was read (:func:`output_cells`).
    """
    variables = {**variables}
    components = dict(output_weights or {output_indicator: 1.0})
    names = {}
    for i, indicator in enumerate(components):
        name = next((k for k, v in variables.items() if v == indicator), None)
        if name is None:
            name = "output_quantity" if output_weights is None else f"output_part_{i + 1}"
            variables[name] = indicator
        names[indicator] = name
    costs = project_costs(line_items)
    outs = output_variables(outputs, variables, value=output_value)
    table = (
        projects.set_index("project_id", drop=False)
        .join(costs, how="left")
        .join(cost_shares(costs), how="left")
        .join(outs, how="left")
    )
    parts = pd.DataFrame({ind: table[names[ind]] * w for ind, w in components.items()})
    table["output_quantity"] = parts.sum(axis=1, min_count=1)
    table = table.drop(columns=[n for n in names.values() if n.startswith("output_part_")])
    positive = table["output_quantity"].where(table["output_quantity"] > 0)
    table["unit_cost"] = table["total_cost"] / positive
    table = evaluate_drivers(table, drivers)
    table = table.reset_index(drop=True)
    table.attrs = {k: projects.attrs[k] for k in _CARRIED_ATTRS if k in projects.attrs}
    # only the cells check_units may report: attrs are copied along with the frame
    bad = table["output_quantity"].isna() | (table["output_quantity"] <= 0)
    wanted = set(table.loc[bad, "project_id"].astype(str))
    cells: dict[str, dict[str, object]] = {}
    for indicator in components if wanted else ():  # the first component to blame
        found = output_cells(outputs, indicator, value=output_value)
        for project, cell in found.items():
            if project in wanted:
                cells.setdefault(project, cell)
    table.attrs["output_cells"] = cells
    return table


def output_cells(
    outputs: pd.DataFrame, indicator: str, *, key: str = "project_id", value: str = "actual"
) -> dict[str, dict[str, object]]:
    """Where each project's ``indicator`` value was read: file, sheet, row and header.

    Mirrors :func:`output_variables`: the ``value`` column, or the other of
    'actual'/'target' when that cell is blank and the other is not.  Returns a plain
    dict (project id -> {source_file, sheet, source_row, column}) so it can live in a
    frame's ``attrs``; empty if ``outputs`` has no ``source_row`` column.
    """
    if not {"indicator", key, "source_row"} <= set(outputs.columns) or outputs.empty:
        return {}  # no rows to point at: problems fall back to the projects rows
    wanted = outputs[outputs["indicator"] == indicator]
    other = "target" if value == "actual" else "actual"
    source_file, sheet = outputs.attrs.get("source", ("", ""))
    cells: dict[str, dict[str, object]] = {}
    for row in wanted.to_dict("records"):
        project = row.get(key)
        if project is None or (isinstance(project, float) and pd.isna(project)):
            continue
        column = value
        if pd.isna(row.get(value, np.nan)) and not pd.isna(row.get(other, np.nan)):
            column = other
        location = {
            "source_file": row.get("source_file", source_file),
            "sheet": row.get("sheet", sheet),
            "source_row": row["source_row"],
            "column": shown_header(outputs, column),
        }
        cells.setdefault(str(project), location)  # the first row, as output_variables
    return cells


def evaluate_drivers(table: pd.DataFrame, drivers: Mapping[str, str]) -> pd.DataFrame:
    """Add one column per driver expression; infinities (x / 0) become NaN.

    Each expression is checked against the allow-list of :mod:`costperf.expressions`
    and evaluated there with numpy (never by ``eval``).
    """
    out = table.copy()
    for name, expression in drivers.items():
        try:
            values = evaluate_expression(expression, out, what=f"[drivers] {name}")
        except ExpressionError as exc:
            known = ", ".join(c for c in out.columns if pd.api.types.is_numeric_dtype(out[c]))
            msg = (
                f"driver '{name}' = '{expression}' in [drivers] cannot be evaluated: "
                f"{exc.reason}; numeric variables are: {known}; expressions may use "
                f"{allowed_text(formula=False)}"
            )
            raise InputError(msg) from exc
        out[name] = values.where(np.isfinite(values))
    return out


def check_units(table: pd.DataFrame, *, output_indicator: str) -> pd.DataFrame:
    """Projects whose unit cost cannot be computed (no or zero output).

    A zero or negative output points at the outputs cell holding it; a missing output at
    the project's row in the projects file (column as the user wrote it), or at the
    outputs row if the indicator is there with a blank value.  The locations come from
    the ``attrs`` :func:`unit_table` sets; without them, at the project row.
    """
    quantity = table["output_quantity"]
    missing = quantity.isna()
    zero = quantity.notna() & (quantity <= 0)
    cells = table.attrs.get("output_cells", {})
    ids = table["project_id"].astype(str)
    located = ids.map(lambda p: p in cells).astype(bool)
    missing_text = f"an output '{output_indicator}' for this project in the outputs table"
    zero_text = f"a positive output '{output_indicator}'"
    return concat_problems(
        [
            row_problems(
                table,
                missing & ~located,
                "project_id",
                missing_text,
                "missing_output",
                values=table["project_id"],
            ),
            _cell_problems(
                table, missing & located, cells, "a value for this output", "missing_output"
            ),
            _cell_problems(table, zero & located, cells, zero_text, "zero_output"),
            row_problems(
                table,
                zero & ~located,
                "project_id",
                zero_text,
                "zero_output",
                values=quantity,
            ),
        ]
    )


def _cell_problems(
    table: pd.DataFrame,
    mask: pd.Series,
    cells: Mapping[str, Mapping[str, object]],
    expected: str,
    check: str,
) -> pd.DataFrame:
    """Problems at the outputs cells (from ``output_cells``) of the masked projects."""
    rows = []
    for project, quantity in zip(
        table.loc[mask, "project_id"], table.loc[mask, "output_quantity"], strict=True
    ):
        where = cells[str(project)]
        rows.append(
            {
                **where,
                "value": "" if pd.isna(quantity) else f"{quantity:g}",
                "expected": f"{expected} (project {project})",
                "check": check,
            }
        )
    return make_problems(rows)


def group_unit_costs(table: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Unit cost of each group as total cost over total output (a weighted mean)."""
    grouped = table.groupby(list(by), observed=True, sort=True)
    out = grouped.agg(
        n=("project_id", "size"),
        total_cost=("total_cost", "sum"),
        output_quantity=("output_quantity", "sum"),
        median_unit_cost=("unit_cost", "median"),
    )
    out["unit_cost"] = out["total_cost"] / out["output_quantity"]
    return out.reset_index()


def cost_index(
    table: pd.DataFrame,
    reference: pd.DataFrame,
    *,
    dims: Sequence[str],
    reference_value: str = "mean",
) -> pd.Series:
    """Activity-mix-standardised cost index (actual / expected x 100).

    Expected cost = output x the peer reference unit cost of the project's dimension
    cell (e.g. road grade), so a district doing more expensive grades is not penalised:
    the NHS reference cost index construction. ``reference`` has ``dims`` and
    ``reference_value`` columns (e.g. peer statistics).
    """
    ref = reference.set_index(list(dims))[reference_value]
    keys = (
        pd.MultiIndex.from_frame(table[list(dims)]) if len(dims) > 1 else pd.Index(table[dims[0]])
    )
    expected_unit = ref.reindex(keys).to_numpy()
    return pd.Series(
        table["total_cost"].to_numpy()
        / (table["output_quantity"].to_numpy() * expected_unit)
        * 100.0,
        index=table.index,
        name="cost_index",
    )


def group_cost_index(
    table: pd.DataFrame,
    reference: pd.DataFrame,
    *,
    dims: Sequence[str],
    by: str = "district",
    reference_value: str = "mean",
) -> pd.DataFrame:
    """Cost index of each group: sum of actual / sum of expected costs x 100."""
    idx = cost_index(table, reference, dims=dims, reference_value=reference_value)
    expected = table["total_cost"] / (idx / 100.0)
    frame = pd.DataFrame({by: table[by], "actual": table["total_cost"], "expected": expected})
    out = frame.groupby(by, sort=True).sum()
    out["cost_index"] = out["actual"] / out["expected"] * 100.0
    return out.reset_index()


def case_units(
    projects: pd.DataFrame,
    line_items: pd.DataFrame,
    outputs: pd.DataFrame,
    params: UnitsParams,
    *,
    output_value: str = "actual",
    with_drivers: bool = True,
) -> pd.DataFrame:
    """:func:`unit_table` with the settings of ``params``: the peers' unit table
    (``output_value="actual"``) or the requests' (``"target"``, drivers left out)."""
    return unit_table(
        projects,
        line_items,
        outputs,
        output_indicator=params.output_indicator,
        output_weights=params.output_weights,
        variables=params.variables,
        drivers=params.drivers if with_drivers else {},
        output_value=output_value,
    )
