"""Find the efficient frame once, then solve every unit against it only.

Why this is exact
-----------------
For every returns-to-scale assumption (CRS, VRS, DRS, IRS) a unit whose radial score
is not 1 lies inside the technology spanned by the others, so the technology (and
every unit's optimal score, and the phase-2 slack maximum) is unchanged when the
reference set is reduced to a *generating set* F: any superset of the units with
score 1. F is found in one pass over the reference units, in an order that puts
likely frame units first (units that maximise random positive linear functionals of
the scaled data are extreme efficient points): each unit is solved against the
current F and added to F when its score is >= 1 - tol (input), <= 1 + tol (output),
or its LP is infeasible. A unit with true score 1 is therefore always added.

A unit solved before F was complete is re-checked at the end with its LP duals: its
solution stays optimal for the full reference set when no column of the final F has
an improving reduced cost (LP duality). Only the units that fail this check are
solved again, against the final F.

The data are scaled column by column (each input and output by its largest absolute value)
before solving: radial scores are invariant to units of measurement, and HiGHS' default
tolerances then reach the optimum to ~1e-12 even when columns differ by 1e5.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from costperf.benchmark.dea.model import INFEASIBLE, OPTIMAL, EnvelopmentLP

FRAME_TOL = 1e-6  # score within this of 1 -> kept in the frame (extra units are harmless)
DUAL_TOL = 1e-9  # reduced-cost tolerance of the optimality re-check (scaled data)
N_DIRECTIONS = 256  # random linear functionals used to order the pass
PARALLEL_MIN_UNITS = 400  # below this a second thread costs more than it saves
QUIET_MIN, QUIET_SHARE = 500, 0.05  # go parallel after this many units added nothing


def scale_factors(*blocks: np.ndarray) -> np.ndarray:
    """Largest absolute value per column over all blocks (1 for an all-zero column)."""
    stacked = np.vstack([np.abs(b) for b in blocks])
    top = stacked.max(axis=0)
    return np.where(top > 0, top, 1.0)


def default_threads() -> int:
    """Worker threads for independent per-unit LPs (HiGHS releases the GIL)."""
    return max(1, min(4, os.cpu_count() or 1))


@dataclass
class Solutions:
    """Per-unit LP results, in unit order."""

    status: np.ndarray
    score: np.ndarray
    duals: np.ndarray
    lam_ids: list = field(default_factory=list)
    lam_vals: list = field(default_factory=list)

    @classmethod
    def empty(cls, k: int, n_rows: int) -> Solutions:
        return cls(
            np.full(k, "", dtype=object),
            np.full(k, np.nan),
            np.full((k, n_rows), np.nan),
            [None] * k,
            [None] * k,
        )

    def store(
        self,
        o: int,
        status: str,
        score: float,
        lam: np.ndarray | None,
        duals: np.ndarray | None,
        ref_ids: np.ndarray,
    ) -> None:
        self.status[o] = status
        self.score[o] = score
        if status == OPTIMAL:
            self.duals[o] = duals
            nz = np.flatnonzero(lam > 1e-12)
            self.lam_ids[o] = ref_ids[nz]
            self.lam_vals[o] = lam[nz]
        else:
            self.duals[o] = np.nan
            self.lam_ids[o] = np.zeros(0, dtype=np.int64)
            self.lam_vals[o] = np.zeros(0)


def pass_order(
    x: np.ndarray, y: np.ndarray, rts: str, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Order units so that likely frame units come first; also a warm-start grouping.

    For random positive weights (u, v), the unit maximising ``u.y - v.x`` (VRS-type
    technologies) or ``u.y / v.x`` (CRS) is an extreme efficient unit. Each unit is
    ranked by its smallest gap to such a maximum over all directions. The direction
    attaining that gap is returned too: units sharing it tend to share a facet, so
    solving them one after another makes HiGHS' warm starts cheap.
    """
    rng = np.random.default_rng(seed)
    m, n = x.shape[1], y.shape[1]
    w = rng.dirichlet(np.ones(m + n), size=N_DIRECTIONS)
    if rts == "crs":
        with np.errstate(divide="ignore", invalid="ignore"):
            num = np.log(np.maximum(y, 0) @ w[:, m:].T)
            den = np.log(x @ w[:, :m].T)
        score = np.nan_to_num(num - den, nan=-np.inf)
    else:
        score = np.hstack([-x, y]) @ w.T
    with np.errstate(invalid="ignore"):
        gap = score.max(axis=0) - score
    gap = np.nan_to_num(gap, nan=np.inf, posinf=np.inf)
    best = gap.min(axis=1)
    return np.argsort(best, kind="stable"), gap.argmin(axis=1)


def _add_rule(orientation: str, status: str, score: float) -> bool:
    if status != OPTIMAL:
        return True
    return score >= 1 - FRAME_TOL if orientation == "in" else score <= 1 + FRAME_TOL


def find_frame(
    x: np.ndarray, y: np.ndarray, rts: str, orientation: str, *, threads: int = 1
) -> tuple[EnvelopmentLP, Solutions, dict]:
    """Generating set of the technology spanned by (scaled) ``x``, ``y`` and every unit's LP.

    The pass runs sequentially while it still finds frame units; once ``quiet`` units
    in a row left the frame unchanged, the remaining units (the clearly inefficient
    ones, grouped by facet for warm starts) are solved in ``threads`` fixed chunks,
    each on its own copy of the model. Units any chunk would add join the frame
    afterwards; the duality re-check then covers everything. Results depend only on
    the data and the thread count.

    Returns the model holding the frame columns, the exact solution of every unit
    against the full reference set, and counters (LPs solved, frame size).
    """
    k, m = x.shape
    model = EnvelopmentLP(m, y.shape[1], rts, orientation)
    sols = Solutions.empty(k, model.n_rows)
    order, group = pass_order(x, y, rts)
    quiet = max(QUIET_MIN, int(QUIET_SHARE * k)) if threads > 1 else k + 1
    since_added, pos = 0, 0
    for pos, o in enumerate(order):  # noqa: B007 - pos is used after the loop
        model.set_unit(x[o], y[o])
        status, score, lam, duals = model.solve()
        sols.store(o, status, score, lam, duals, model.ref_ids)
        since_added += 1
        if _add_rule(orientation, status, score):
            model.add_units(np.array([o]), x[o : o + 1], y[o : o + 1])
            since_added = 0
        if since_added >= quiet:
            break
    rest = order[pos + 1 :]
    rest = rest[np.lexsort((rest, group[rest]))]
    added: list[list[int]] = [[] for _ in range(threads)]

    def work(chunk: np.ndarray, lp: EnvelopmentLP, slot: int) -> None:
        for o in chunk:
            lp.set_unit(x[o], y[o])
            status, score, lam, duals = lp.solve()
            sols.store(o, status, score, lam, duals, lp.ref_ids)
            if _add_rule(orientation, status, score):
                lp.add_units(np.array([o]), x[o : o + 1], y[o : o + 1])
                added[slot].append(int(o))

    run_chunks(rest, threads, lambda: clone_model(model, x, y), work, with_slot=True)
    new = [o for part in added for o in part]
    if new:
        model.add_units(np.array(new), x[new], y[new])
    frame = model.ref_ids
    stale = ~(sols.status == OPTIMAL)
    ok = np.flatnonzero(~stale)
    if len(ok):
        bad = model.improving(sols.duals[ok], x[frame], y[frame], DUAL_TOL).any(axis=1)
        stale[ok[bad]] = True
    redo = np.flatnonzero(stale)
    solve_units(model, redo, x, y, sols, threads=threads)
    stats = {
        "lp_solves": k + len(redo),
        "frame_size": len(frame),
        "pass_sequential": pos + 1,
        "resolved": len(redo),
    }
    return model, sols, stats


def prune_frame(model: EnvelopmentLP, sols: Solutions, orientation: str) -> np.ndarray:
    """Reference ids of the frame units whose exact score is 1 (within FRAME_TOL)."""
    ids = model.ref_ids
    score = sols.score[ids]
    keep = score >= 1 - FRAME_TOL if orientation == "in" else score <= 1 + FRAME_TOL
    return ids[keep | (sols.status[ids] != OPTIMAL)]


def clone_model(
    model: EnvelopmentLP, xr: np.ndarray, yr: np.ndarray, ids: np.ndarray | None = None
) -> EnvelopmentLP:
    """A new model with the same layout and the reference columns ``ids``."""
    ids = model.ref_ids if ids is None else ids
    twin = EnvelopmentLP(model.m, model.n, model.rts, model.orientation)
    twin.add_units(ids, xr[ids], yr[ids])
    return twin


def solve_units(
    model: EnvelopmentLP,
    units: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    sols: Solutions,
    *,
    threads: int = 1,
    xr: np.ndarray | None = None,
    yr: np.ndarray | None = None,
) -> None:
    """Solve ``units`` (rows of scaled x, y) against the model's columns into ``sols``.

    With ``threads`` > 1 and many units, the units are split into fixed contiguous
    chunks, each solved by its own copy of the model (deterministic for a given
    thread count).
    """
    xr = x if xr is None else xr
    yr = y if yr is None else yr

    def work(chunk: np.ndarray, lp: EnvelopmentLP) -> None:
        for o in chunk:
            lp.set_unit(x[o], y[o])
            status, score, lam, duals = lp.solve()
            sols.store(o, status, score, lam, duals, lp.ref_ids)

    run_chunks(units, threads, lambda: clone_model(model, xr, yr), work, first=model)


def run_chunks(
    units: np.ndarray,
    threads: int,
    make: Callable,
    work: Callable,
    *,
    first: object | None = None,
    with_slot: bool = False,
) -> None:
    """Run ``work(chunk, model[, slot])`` over contiguous chunks of ``units`` in threads.

    ``make()`` builds one model per chunk (``first``, if given, serves chunk 0).
    """
    units = np.asarray(units)
    if len(units) == 0:
        return
    n_chunks = threads if threads > 1 and len(units) >= PARALLEL_MIN_UNITS else 1
    chunks = np.array_split(units, n_chunks)
    models = [first if (i == 0 and first is not None) else make() for i in range(n_chunks)]
    args = [
        (c, mdl, i) if with_slot else (c, mdl)
        for i, (c, mdl) in enumerate(zip(chunks, models, strict=True))
    ]
    if n_chunks == 1:
        work(*args[0])
        return
    with ThreadPoolExecutor(max_workers=n_chunks) as pool:
        for future in [pool.submit(work, *a) for a in args]:
            future.result()


def pareto_candidates(
    x: np.ndarray, y: np.ndarray, *, max_dominators: int = 0, chunk: int = 512
) -> np.ndarray:
    """Indices of units dominated by at most ``max_dominators`` non-dominated units.

    ``max_dominators=0`` gives the non-dominated (Pareto) units: no other unit has
    <= every input and >= every output with one strict. With 1, units dominated by a
    single Pareto unit o are kept too: they may matter once o leaves its own reference
    set (super-efficiency). Dominated units never change a score, since their dominator
    does at least as well in every model here.
    """
    z = np.hstack([-x, y])
    key = z.sum(axis=1)
    order = np.argsort(-key, kind="stable")
    front = np.zeros(0, dtype=np.int64)
    for s in range(0, len(order), chunk):
        cand = order[s : s + chunk]
        if len(front):
            cand = cand[~_dominated_by(z[front], z[cand]).any(axis=0)]
        inner = _dominated_by(z[cand], z[cand]).any(axis=0)
        front = np.concatenate([front, cand[~inner]])
    front = front[~_dominated_by(z[front], z[front]).any(axis=0)]
    if max_dominators == 0:
        return np.sort(front)
    rest = np.setdiff1d(np.arange(len(z)), front)
    counts = np.zeros(len(rest), dtype=np.int64)
    for s in range(0, len(rest), chunk):
        part = rest[s : s + chunk]
        counts[s : s + chunk] = _dominated_by(z[front], z[part]).sum(axis=0)
    return np.sort(np.concatenate([front, rest[counts <= max_dominators]]))


def _dominated_by(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Boolean (len(a), len(b)): a_i dominates b_j (>= everywhere, > somewhere)."""
    ge = (a[:, None, :] >= b[None, :, :]).all(axis=2)
    gt = (a[:, None, :] > b[None, :, :]).any(axis=2)
    return ge & gt


__all__ = [
    "FRAME_TOL",
    "INFEASIBLE",
    "Solutions",
    "clone_model",
    "default_threads",
    "find_frame",
    "pareto_candidates",
    "pass_order",
    "prune_frame",
    "run_chunks",
    "scale_factors",
    "solve_units",
]
