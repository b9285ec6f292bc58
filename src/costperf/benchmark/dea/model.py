"""Reusable in-process HiGHS models for DEA (one model, many units, warm starts).

The envelopment LP for unit o against reference units j (columns ``lambda_j``):

* input orientation:  min theta  s.t.  X lambda - theta x_o <= 0,  Y lambda >= y_o
* output orientation: max phi    s.t.  X lambda <= x_o,  Y lambda - phi y_o >= 0

plus the returns-to-scale row ``sum(lambda)`` (= 1 VRS, <= 1 DRS, >= 1 IRS, none CRS).
The lambda columns are the same in both orientations: ``(x_j, y_j, 1)``. Moving to the
next unit changes only ``m`` (or ``n``) coefficients of the score column and ``n`` (or
``m``) row bounds, so HiGHS restarts from the previous optimal basis.

The phase-2 (slack) model and the cost/revenue model reuse the same layout.
All data passed here are already scaled column by column (see :mod:`.frame`).
"""

from __future__ import annotations

import numpy as np

INF = float("inf")
RTS_ROW_BOUNDS = {"vrs": (1.0, 1.0), "drs": (-INF, 1.0), "irs": (1.0, INF)}

OPTIMAL, INFEASIBLE, UNBOUNDED, FAILED = "optimal", "infeasible", "unbounded", "error"


def new_highs():
    """A silent HiGHS instance tuned for many tiny warm-started LPs."""
    from costperf.solvers import quiet_highs

    return quiet_highs(presolve="off")


def model_status(h) -> str:
    import highspy

    st = h.getModelStatus()
    if st == highspy.HighsModelStatus.kOptimal:
        return OPTIMAL
    if st == highspy.HighsModelStatus.kInfeasible:
        return INFEASIBLE
    if st == highspy.HighsModelStatus.kUnbounded:
        return UNBOUNDED
    return FAILED


def _run(h) -> str:
    """Solve; on an ambiguous status retry once from scratch (no basis)."""
    h.run()
    status = model_status(h)
    if status == FAILED:
        h.clearSolver()
        h.run()
        status = model_status(h)
    return status


def _lambda_block(x: np.ndarray, y: np.ndarray, rts: str) -> np.ndarray:
    """Column-major coefficient block of lambda columns: rows (inputs, outputs, rts)."""
    cols = [x, y]
    if rts != "crs":
        cols.append(np.ones((len(x), 1)))
    return np.hstack(cols)


class EnvelopmentLP:
    """The radial envelopment model with a growing set of reference columns.

    Parameters
    ----------
    m, n
        Number of inputs and outputs.
    rts
        'crs', 'vrs', 'drs' or 'irs'.
    orientation
        'in' (min theta) or 'out' (max phi).
    """

    def __init__(self, m: int, n: int, rts: str, orientation: str) -> None:
        import highspy

        self.m, self.n, self.rts, self.orientation = m, n, rts, orientation
        self.n_rows = m + n + (rts != "crs")
        self.h = h = new_highs()
        lower = np.zeros(self.n_rows)
        upper = np.full(self.n_rows, INF)
        if orientation == "in":
            lower[:m], upper[:m] = -INF, 0.0
        else:
            lower[:m] = -INF
        if rts != "crs":
            lower[-1], upper[-1] = RTS_ROW_BOUNDS[rts]
        empty_i, empty_v = np.zeros(1, dtype=np.int32), np.zeros(1)
        h.addRows(self.n_rows, lower, upper, 0, empty_i, empty_i, empty_v)
        h.addCol(1.0, 0.0, INF, 0, empty_i[:0], empty_v[:0])
        sense = highspy.ObjSense.kMinimize if orientation == "in" else highspy.ObjSense.kMaximize
        h.changeObjectiveSense(sense)
        self.ref_ids = np.zeros(0, dtype=np.int64)  # reference unit of each lambda column
        self._rows_in = np.arange(m, dtype=np.int32)
        self._rows_out = np.arange(m, m + n, dtype=np.int32)
        self._inf_n, self._minf_m = np.full(n, INF), np.full(m, -INF)
        self._col_of: dict[int, int] = {}

    @property
    def n_columns(self) -> int:
        """Number of lambda columns."""
        return len(self.ref_ids)

    def add_units(self, ids: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
        """Add reference units ``ids`` (rows of the scaled ``x``, ``y``) as lambda columns."""
        k = len(ids)
        if k == 0:
            return
        block = _lambda_block(x, y, self.rts)
        nr = self.n_rows
        starts = np.arange(0, k * nr, nr, dtype=np.int32)
        index = np.tile(np.arange(nr, dtype=np.int32), k)
        self.h.addCols(
            k, np.zeros(k), np.zeros(k), np.full(k, INF), k * nr, starts, index, block.ravel()
        )
        first = 1 + len(self.ref_ids)
        for offset, unit in enumerate(ids):
            self._col_of[int(unit)] = first + offset
        self.ref_ids = np.concatenate([self.ref_ids, np.asarray(ids, dtype=np.int64)])

    def set_unit(self, x_o: np.ndarray, y_o: np.ndarray) -> None:
        """Make the model that of the unit with (scaled) inputs ``x_o`` and outputs ``y_o``."""
        h, m, n = self.h, self.m, self.n
        if self.orientation == "in":
            for i in range(m):
                h.changeCoeff(i, 0, -float(x_o[i]))
            h.changeRowsBounds(n, self._rows_out, np.ascontiguousarray(y_o, float), self._inf_n)
        else:
            for r in range(n):
                h.changeCoeff(m + r, 0, -float(y_o[r]))
            h.changeRowsBounds(m, self._rows_in, self._minf_m, np.ascontiguousarray(x_o, float))

    def exclude(self, unit: int | None) -> None:
        """Switch off the column of reference unit ``unit`` (super-efficiency)."""
        if unit is not None and int(unit) in self._col_of:
            self.h.changeColBounds(self._col_of[int(unit)], 0.0, 0.0)

    def include(self, unit: int | None) -> None:
        """Undo :meth:`exclude`."""
        if unit is not None and int(unit) in self._col_of:
            self.h.changeColBounds(self._col_of[int(unit)], 0.0, INF)

    def solve(self) -> tuple[str, float, np.ndarray | None, np.ndarray | None]:
        """Solve; return ``(status, score, lambdas, row_duals)`` (None when not optimal)."""
        status = _run(self.h)
        if status != OPTIMAL:
            return status, np.nan, None, None
        sol = self.h.getSolution()
        values = np.asarray(sol.col_value)
        return status, float(values[0]), values[1:], np.asarray(sol.row_dual)

    def reduced_costs(self, duals: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Reduced costs of would-be lambda columns ``(x_j, y_j)`` under row duals.

        ``duals`` has shape (k, n_rows) (one dual vector per solved unit); the result has
        shape (k, len(x)). A column can improve the objective of unit k when its reduced
        cost is < 0 (input orientation, minimising) or > 0 (output, maximising).
        """
        return -(duals @ _lambda_block(x, y, self.rts).T)

    def improving(self, duals: np.ndarray, x: np.ndarray, y: np.ndarray, tol: float) -> np.ndarray:
        """Boolean (k, len(x)): column j would improve the solution of unit k."""
        red = self.reduced_costs(duals, x, y)
        return red < -tol if self.orientation == "in" else red > tol


class SlackLP:
    """Phase 2: maximise the weighted sum of slacks with the radial score held fixed.

    Columns: lambda_j (reference), s_x (m), s_y (n). Rows: ``X lambda + s_x = tx``,
    ``Y lambda - s_y = ty`` and the returns-to-scale row. Only the right-hand sides
    change from unit to unit.
    """

    def __init__(self, x_ref: np.ndarray, y_ref: np.ndarray, rts: str, weights: np.ndarray) -> None:
        import highspy

        m, n = x_ref.shape[1], y_ref.shape[1]
        self.m, self.n, self.rts = m, n, rts
        self.n_rows = m + n + (rts != "crs")
        self.h = h = new_highs()
        lower = np.zeros(self.n_rows)
        upper = np.zeros(self.n_rows)
        if rts != "crs":
            lower[-1], upper[-1] = RTS_ROW_BOUNDS[rts]
        empty_i, empty_v = np.zeros(1, dtype=np.int32), np.zeros(1)
        h.addRows(self.n_rows, lower, upper, 0, empty_i, empty_i, empty_v)
        k = len(x_ref)
        block = _lambda_block(x_ref, y_ref, rts)
        nr = self.n_rows
        h.addCols(
            k,
            np.zeros(k),
            np.zeros(k),
            np.full(k, INF),
            k * nr,
            np.arange(0, k * nr, nr, dtype=np.int32),
            np.tile(np.arange(nr, dtype=np.int32), k),
            block.ravel(),
        )
        signs = np.r_[np.ones(m), -np.ones(n)]
        rows = np.arange(m + n, dtype=np.int32)
        h.addCols(
            m + n,
            np.asarray(weights, float),
            np.zeros(m + n),
            np.full(m + n, INF),
            m + n,
            rows.copy(),
            rows,
            signs,
        )
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.k = k
        self._rows = rows

    def solve(
        self, tx: np.ndarray, ty: np.ndarray
    ) -> tuple[str, np.ndarray | None, np.ndarray | None]:
        """Return ``(status, lambdas, slacks)`` for targets ``tx`` (inputs), ``ty`` (outputs)."""
        rhs = np.concatenate([tx, ty]).astype(float)
        self.h.changeRowsBounds(len(rhs), self._rows, rhs, rhs)
        status = _run(self.h)
        if status != OPTIMAL:
            return status, None, None
        values = np.asarray(self.h.getSolution().col_value)
        return status, values[: self.k], values[self.k :]


class PriceLP:
    """Minimum cost (or maximum revenue) over the technology for one unit at a time.

    Cost: ``min c.lambda  s.t.  Y lambda >= y_o`` (+ rts row), where ``c_j`` is the cost
    of reference unit j at unit o's prices. Revenue: ``max r.lambda  s.t.  X lambda <= x_o``.
    """

    def __init__(self, x_ref: np.ndarray, y_ref: np.ndarray, rts: str, kind: str) -> None:
        import highspy

        self.kind = kind
        goods = y_ref if kind == "cost" else x_ref
        k, g = goods.shape
        self.g = g
        self.n_rows = g + (rts != "crs")
        self.h = h = new_highs()
        lower = np.zeros(self.n_rows)
        upper = np.full(self.n_rows, INF)
        if kind == "revenue":
            lower[:g] = -INF
        if rts != "crs":
            lower[-1], upper[-1] = RTS_ROW_BOUNDS[rts]
        empty_i, empty_v = np.zeros(1, dtype=np.int32), np.zeros(1)
        h.addRows(self.n_rows, lower, upper, 0, empty_i, empty_i, empty_v)
        block = goods if rts == "crs" else np.hstack([goods, np.ones((k, 1))])
        nr = self.n_rows
        h.addCols(
            k,
            np.zeros(k),
            np.zeros(k),
            np.full(k, INF),
            k * nr,
            np.arange(0, k * nr, nr, dtype=np.int32),
            np.tile(np.arange(nr, dtype=np.int32), k),
            block.ravel(),
        )
        sense = highspy.ObjSense.kMinimize if kind == "cost" else highspy.ObjSense.kMaximize
        h.changeObjectiveSense(sense)
        self.k = k
        self._cols = np.arange(k, dtype=np.int32)
        self._rows = np.arange(g, dtype=np.int32)
        self._inf, self._minf = np.full(g, INF), np.full(g, -INF)

    def solve(self, costs: np.ndarray, bound: np.ndarray) -> tuple[str, float, np.ndarray | None]:
        """Return ``(status, objective, lambdas)`` for column costs and the unit's goods."""
        h = self.h
        h.changeColsCost(self.k, self._cols, np.ascontiguousarray(costs, float))
        b = np.ascontiguousarray(bound, float)
        if self.kind == "cost":
            h.changeRowsBounds(self.g, self._rows, b, self._inf)
        else:
            h.changeRowsBounds(self.g, self._rows, self._minf, b)
        status = _run(h)
        if status != OPTIMAL:
            return status, np.nan, None
        values = np.asarray(h.getSolution().col_value)
        return status, float(h.getInfo().objective_function_value), values[: self.k]
