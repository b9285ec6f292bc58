"""The LP/MILP built from whole tables: one sparse matrix, no call per coefficient.

Columns are resources (cost = unit cost, bounds = lower/upper, integrality as
declared); rows are the constraints table plus, in portfolio mode, one equity row per
group (``max_group_cut``: a group's cost keeps at least ``1 - max_group_cut`` of its
current cost) and one floor row per project (``project_floor``: likewise per project).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from costperf.labels import message_rows

LANGS = ("zh", "en")  # the languages of a constraint's label: label, label_en


@dataclass(frozen=True)
class LinearModel:
    """``min cost @ x`` s.t. ``row_lower <= matrix @ x <= row_upper``, ``lower <= x <= upper``.

    ``matrix`` is CSC (rows x columns); ``integer`` marks integer columns;
    ``columns``/``rows`` are the resource and constraint codes (LP names).
    """

    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    matrix: sp.csc_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    columns: np.ndarray
    rows: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    def relaxed(self) -> LinearModel:
        """The LP relaxation (every column continuous)."""
        return replace(self, integer=np.zeros_like(self.integer))


def row_bounds(sense: pd.Series, rhs: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Row bounds of ``>=``, ``<=`` and ``=`` rows [rhs units]."""
    s = sense.to_numpy(dtype=object)
    b = rhs.to_numpy(dtype=float)
    lower = np.where((s == ">=") | (s == "="), b, -np.inf)
    upper = np.where((s == "<=") | (s == "="), b, np.inf)
    return lower, upper


def equity_rows(
    resources: pd.DataFrame, by: str, keep: float, *, prefix: str
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Rows ``sum(unit_cost * x over the by-value) >= keep * its current cost``.

    Returns the constraint rows (constraints-table columns) and, per coefficient, its
    row position and column position; resources without a ``by`` value are in no row.
    """
    codes, values = pd.factorize(resources[by], sort=True)
    cols = np.flatnonzero(codes >= 0)
    current = resources["unit_cost"].to_numpy(float) * resources["current"].to_numpy(float)
    totals = np.bincount(codes[cols], weights=current[cols], minlength=len(values))
    names = [f"{prefix}[{by}={v}]" for v in values]
    cut = 1.0 - keep
    if by == "group":
        zh, en = (message_rows("optimize.equity.group", g, value=values, cut=cut) for g in LANGS)
    else:
        zh, en = (message_rows("optimize.equity.project", g, value=values, cut=cut) for g in LANGS)
    rows = pd.DataFrame(
        {
            "constraint": names,
            "label": zh,
            "label_en": en,
            "constraint_kind": "policy",
            "sense": ">=",
            "rhs": keep * totals,
            "unit": "元",
            "project_id": list(values) if by == "project_id" else None,
        }
    )
    return rows, codes[cols], cols


def build_model(
    resources: pd.DataFrame,
    constraints: pd.DataFrame,
    coefficients: pd.DataFrame,
    *,
    max_group_cut: float | None = None,
    project_floor: float | None = None,
) -> tuple[LinearModel, pd.DataFrame]:
    """The model of normalised, checked tables, and the constraints it holds.

    Returns the model and the constraints table with the generated equity and floor
    rows appended (in row order).
    """
    columns = pd.Index(resources["resource"])
    row_names = pd.Index(constraints["constraint"])
    r = row_names.get_indexer(coefficients["constraint"])
    c = columns.get_indexer(coefficients["resource"])
    v = coefficients["coefficient"].to_numpy(dtype=float)
    parts = [constraints.assign(label_en=constraints["label"])]
    unit_cost = resources["unit_cost"].to_numpy(dtype=float)
    n_rows = len(constraints)
    triplets = [(r, c, v)]
    for by, keep, prefix in (
        ("group", None if max_group_cut is None else 1.0 - max_group_cut, "equity"),
        ("project_id", project_floor, "floor"),
    ):
        if keep is None or resources[by].isna().all():
            continue
        rows, row_pos, col_pos = equity_rows(resources, by, keep, prefix=prefix)
        triplets.append((row_pos + n_rows, col_pos, unit_cost[col_pos]))
        parts.append(rows)
        n_rows += len(rows)
    held = pd.concat(parts, ignore_index=True)
    rr, cc, vv = (np.concatenate(t) for t in zip(*triplets, strict=True))
    matrix = sp.csc_matrix((vv, (rr, cc)), shape=(n_rows, len(columns)))
    lower, upper = row_bounds(held["sense"], held["rhs"])
    model = LinearModel(
        cost=unit_cost,
        lower=resources["lower"].to_numpy(dtype=float),
        upper=resources["upper"].to_numpy(dtype=float),
        integer=resources["integer"].to_numpy(dtype=bool),
        matrix=matrix,
        row_lower=lower,
        row_upper=upper,
        columns=columns.to_numpy(dtype=object),
        rows=held["constraint"].to_numpy(dtype=object),
    )
    return model, held


def elastic_model(model: LinearModel) -> tuple[LinearModel, np.ndarray, np.ndarray]:
    """The elastic version: every row may give, at a cost of 1/|rhs| per unit.

    Adds one non-negative column per finite row bound (``+1`` for a ``>=`` side, ``-1``
    for a ``<=`` side); the objective is the total relative relaxation (the original
    costs are zero). Returns the model, each added column's row and its sign.
    """
    n_rows, n_cols = model.shape
    low = np.flatnonzero(np.isfinite(model.row_lower))
    up = np.flatnonzero(np.isfinite(model.row_upper))
    rows = np.concatenate([low, up])
    signs = np.concatenate([np.ones(len(low)), -np.ones(len(up))])
    rhs = np.where(signs > 0, model.row_lower[rows], model.row_upper[rows])
    weight = 1.0 / np.where(np.abs(rhs) > 0, np.abs(rhs), 1.0)
    extra = sp.csc_matrix((signs, (rows, np.arange(len(rows)))), shape=(n_rows, len(rows)))
    elastic = LinearModel(
        cost=np.concatenate([np.zeros(n_cols), weight]),
        lower=np.concatenate([model.lower, np.zeros(len(rows))]),
        upper=np.concatenate([model.upper, np.full(len(rows), np.inf)]),
        integer=np.concatenate([model.integer, np.zeros(len(rows), dtype=bool)]),
        matrix=sp.hstack([model.matrix, extra], format="csc"),
        row_lower=model.row_lower,
        row_upper=model.row_upper,
        columns=np.concatenate([model.columns, [f"relax[{model.rows[i]}]" for i in rows]]),
        rows=model.rows,
    )
    return elastic, rows, signs


def with_budget_row(model: LinearModel, weights: np.ndarray, limit: float, cost: np.ndarray):
    """``model`` with one more row ``weights @ x <= limit`` and a new objective ``cost``."""
    row = sp.csc_matrix(weights.reshape(1, -1))
    return replace(
        model,
        cost=cost,
        matrix=sp.vstack([model.matrix, row], format="csc"),
        row_lower=np.append(model.row_lower, -np.inf),
        row_upper=np.append(model.row_upper, limit),
        rows=np.append(model.rows, "total_relaxation"),
    )
