"""Solving a :class:`~costperf.optimize.model.LinearModel`: HiGHS directly, or pulp + CBC.

HiGHS gets the arrays straight (``passModel``); the LP relaxation is solved first (its
duals are the shadow prices, its objective ``lp_relaxation_cost``), then, when some
columns are integers, the same model again with their integrality set. Nothing reaches
stdout: HiGHS is made by :func:`costperf.solvers.quiet_highs`, CBC runs with
``msg=False`` under :func:`costperf.solvers.stdout_silenced`.
"""

from __future__ import annotations

import contextlib
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from costperf.optimize.model import LinearModel
from costperf.solvers import quiet_highs, stdout_silenced

SOLVERS = ("highs", "cbc")


@dataclass(frozen=True)
class Solution:
    """What a solve gives.

    ``status`` is ``optimal``, ``infeasible``, ``time_limit`` (a feasible MILP plan not
    proven optimal when the time limit struck) or ``not_solved``; ``x`` the columns'
    values; ``row_dual``/``col_dual`` the LP relaxation's duals (yuan per unit of rhs /
    reduced costs); ``objective`` the (MILP) cost, ``lp_objective`` the relaxation's.
    """

    status: str
    x: np.ndarray
    row_dual: np.ndarray
    col_dual: np.ndarray
    objective: float
    lp_objective: float
    solve_seconds: float
    solver: str


def _status(h, highspy) -> str:
    status = h.getModelStatus()
    states = highspy.HighsModelStatus
    if status == states.kOptimal:
        return "optimal"
    if status in (states.kInfeasible, states.kUnboundedOrInfeasible):
        return "infeasible"
    return "not_solved"


#: relative MIP gap at which a MILP counts as solved (HiGHS's default is 1e-4; a
#: proposal's objective should be exact to 1e-6)
MIP_REL_GAP = 1e-6


def solve_highs(
    model: LinearModel, *, time_limit: float | None = None, mip_rel_gap: float = MIP_REL_GAP
) -> Solution:
    """Solve with HiGHS: the LP relaxation, then the MILP when there are integers."""
    import highspy

    options = {"mip_rel_gap": float(mip_rel_gap)}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    h = quiet_highs(**options)
    a = model.matrix
    n_rows, n_cols = a.shape
    start = time.perf_counter()
    h.passModel(
        n_cols,
        n_rows,
        a.nnz,
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        0.0,
        np.ascontiguousarray(model.cost, dtype=np.float64),
        np.ascontiguousarray(model.lower, dtype=np.float64),
        np.ascontiguousarray(model.upper, dtype=np.float64),
        np.ascontiguousarray(model.row_lower, dtype=np.float64),
        np.ascontiguousarray(model.row_upper, dtype=np.float64),
        a.indptr.astype(np.int32),
        a.indices.astype(np.int32),
        np.ascontiguousarray(a.data, dtype=np.float64),
        np.zeros(n_cols, dtype=np.int32),
    )
    h.run()
    status = _status(h, highspy)
    nan_rows, nan_cols = np.full(n_rows, np.nan), np.full(n_cols, np.nan)
    if status != "optimal":
        seconds = time.perf_counter() - start
        return Solution(status, nan_cols, nan_rows, nan_cols, np.nan, np.nan, seconds, "highs")
    solution = h.getSolution()
    row_dual, col_dual = np.array(solution.row_dual), np.array(solution.col_dual)
    x = np.array(solution.col_value)
    lp_objective = float(h.getInfo().objective_function_value)
    objective = lp_objective
    integer = np.flatnonzero(model.integer)
    if len(integer):
        kinds = np.full(len(integer), int(highspy.HighsVarType.kInteger), dtype=np.int32)
        h.changeColsIntegrality(len(integer), integer.astype(np.int32), kinds)
        h.run()
        status = _status(h, highspy)
        if status == "not_solved" and h.getInfo().primal_solution_status == 2:
            status = "time_limit"  # stopped with a feasible plan, not proven optimal
        usable = status in ("optimal", "time_limit")
        x = np.array(h.getSolution().col_value) if usable else nan_cols
        objective = float(h.getInfo().objective_function_value) if usable else np.nan
    seconds = time.perf_counter() - start
    return Solution(status, x, row_dual, col_dual, objective, lp_objective, seconds, "highs")


def lp_name(text: object) -> str:
    """A name an LP file can hold: ``[`` ``]`` ``=`` and spaces become ``_``."""
    return re.sub(r"[^0-9A-Za-z_\u4e00-\u9fff.]+", "_", str(text)).strip("_") or "x"


@contextlib.contextmanager
def _pulp_quiet():
    """pulp 3.3 warns that its 4.0 API changes: not the user's concern (stderr stays clean)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with stdout_silenced():
            yield


def pulp_problem(model: LinearModel, *, relaxed: bool = False):
    """The model as a ``pulp.LpProblem`` (for CBC and for ``--write-lp``).

    Variables and constraints carry the resources' and constraints' codes.
    """
    with _pulp_quiet():
        return _pulp_problem(model, relaxed)


def _pulp_problem(model: LinearModel, relaxed: bool):
    import pulp

    prob = pulp.LpProblem("costperf_optimize", pulp.LpMinimize)
    names = _unique([lp_name(c) for c in model.columns])
    variables = [
        pulp.LpVariable(
            n,
            lowBound=float(lo),
            upBound=None if not np.isfinite(up) else float(up),
            cat=pulp.LpInteger if (ints and not relaxed) else pulp.LpContinuous,
        )
        for n, lo, up, ints in zip(names, model.lower, model.upper, model.integer, strict=True)
    ]
    prob += pulp.LpAffineExpression(zip(variables, model.cost.tolist(), strict=True)), "cost"
    csr = model.matrix.tocsr()
    row_names = _unique([lp_name(r) for r in model.rows])
    for i, name in enumerate(row_names):
        lo, hi = csr.indptr[i], csr.indptr[i + 1]
        expr = pulp.LpAffineExpression(
            [
                (variables[j], float(v))
                for j, v in zip(csr.indices[lo:hi], csr.data[lo:hi], strict=True)
            ]
        )
        low, up = model.row_lower[i], model.row_upper[i]
        if np.isfinite(low) and np.isfinite(up) and low == up:
            prob += pulp.LpConstraint(expr, pulp.LpConstraintEQ, name, float(low))
        elif np.isfinite(low):
            prob += pulp.LpConstraint(expr, pulp.LpConstraintGE, name, float(low))
        elif np.isfinite(up):
            prob += pulp.LpConstraint(expr, pulp.LpConstraintLE, name, float(up))
    return prob, variables


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        out.append(name if count == 0 else f"{name}_{count}")
    return out


#: seconds each CBC solve may take when no ``time_limit`` is given: CBC may not prove the
#: 1e-6 gap of a model HiGHS solves in a second (the sanitation case's 280 integer
#: resources: not done after 12 minutes); its best plan is then ``time_limit``
CBC_TIME_LIMIT = 60.0


def solve_cbc(
    model: LinearModel, *, time_limit: float | None = None, mip_rel_gap: float = MIP_REL_GAP
) -> Solution:
    """Solve with pulp + CBC (the fallback): the LP relaxation, then the MILP, each within
    ``time_limit`` seconds (default :data:`CBC_TIME_LIMIT`); a MILP stopped by it with a
    feasible plan is ``time_limit``, as with HiGHS."""
    import pulp

    start = time.perf_counter()
    n_rows, n_cols = model.shape
    nan_rows, nan_cols = np.full(n_rows, np.nan), np.full(n_cols, np.nan)
    limit = CBC_TIME_LIMIT if time_limit is None else time_limit
    with _pulp_quiet():
        solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=limit, gapRel=mip_rel_gap)
    prob, variables = pulp_problem(model, relaxed=True)
    with _pulp_quiet():
        prob.solve(solver)
        constraints = list(prob.constraints.values())
    status = _pulp_status(prob)
    if status != "optimal":
        return Solution(
            status, nan_cols, nan_rows, nan_cols, np.nan, np.nan, time.perf_counter() - start, "cbc"
        )
    row_dual = _row_values(constraints, lambda c: c.pi)
    col_dual = np.array([v.dj if v.dj is not None else np.nan for v in variables])
    x = np.array([v.varValue for v in variables], dtype=float)
    lp_objective = float(model.cost @ x)
    objective = lp_objective
    if model.integer.any():
        prob, variables = pulp_problem(model)
        with _pulp_quiet():
            prob.solve(solver)
        status = _pulp_status(prob)
        if status == "optimal" and prob.sol_status == pulp.LpSolutionIntegerFeasible:
            status = "time_limit"  # stopped with a feasible plan, not proven optimal
        usable = status in ("optimal", "time_limit")
        x = np.array([v.varValue for v in variables], dtype=float) if usable else nan_cols
        objective = float(model.cost @ x) if usable else np.nan
    seconds = time.perf_counter() - start
    return Solution(status, x, row_dual, col_dual, objective, lp_objective, seconds, "cbc")


def _row_values(constraints: list, value) -> np.ndarray:
    """One value per model row (every row is a pulp constraint, in order)."""
    return np.array([np.nan if value(c) is None else float(value(c)) for c in constraints])


def _pulp_status(prob) -> str:
    import pulp

    text = pulp.LpStatus.get(prob.status, "")
    if text == "Optimal":
        return "optimal"
    if text == "Infeasible":
        return "infeasible"
    return "not_solved"


def write_lp(model: LinearModel, path: Path) -> None:
    """Write the model (integers as declared) as an LP file through pulp."""
    prob, _ = pulp_problem(model)
    with _pulp_quiet():
        prob.writeLP(str(path))


def solve(
    model: LinearModel,
    solver: str = "highs",
    *,
    time_limit: float | None = None,
    mip_rel_gap: float = MIP_REL_GAP,
):
    """Solve with ``solver`` (``highs`` or ``cbc``)."""
    if solver == "highs":
        return solve_highs(model, time_limit=time_limit, mip_rel_gap=mip_rel_gap)
    if solver == "cbc":
        return solve_cbc(model, time_limit=time_limit, mip_rel_gap=mip_rel_gap)
    msg = f"unknown solver '{solver}'; use one of: {', '.join(SOLVERS)}"
    raise ValueError(msg)
