"""Radial DEA (CRS, VRS, DRS, IRS) on scaled arrays: scores, slacks, super-efficiency."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from costperf.benchmark.dea import scale
from costperf.benchmark.dea.frame import (
    DUAL_TOL,
    FRAME_TOL,
    Solutions,
    clone_model,
    find_frame,
    prune_frame,
    run_chunks,
    solve_units,
)
from costperf.benchmark.dea.model import INFEASIBLE, OPTIMAL, EnvelopmentLP, SlackLP

SLACK_ZERO = 1e-9  # scaled slacks below this are 0 (Benchmarking uses 1e-7 on its scale)
MAX_NEW_COLUMNS = 64  # columns added per round of super-efficiency column generation


@dataclass
class Technology:
    """Scaled data of the evaluated units and the reference set, and the frame found."""

    x: np.ndarray
    y: np.ndarray
    xr: np.ndarray
    yr: np.ndarray
    rts: str
    orientation: str
    same: bool
    model: EnvelopmentLP | None = None
    frame: np.ndarray | None = None
    stats: dict | None = None


def solve_scores(tech: Technology, *, threads: int = 1) -> Solutions:
    """Exact radial score, lambdas and duals of every evaluated unit.

    Large reference sets go to the facet walk (:mod:`.scale`); smaller ones to the
    sequential HiGHS pass of :mod:`.frame`.
    """
    if scale.uses_walk(tech):
        return scale.solve_by_walk(tech, threads=threads)
    model, ref_sols, stats = find_frame(
        tech.xr, tech.yr, tech.rts, tech.orientation, threads=threads
    )
    frame = prune_frame(model, ref_sols, tech.orientation)
    tech.stats = dict(stats, reference_units=len(tech.xr), frame_size=len(frame))
    if len(frame) < model.n_columns:
        model = clone_model(model, tech.xr, tech.yr, frame)
    tech.model, tech.frame = model, frame
    if tech.same:
        return ref_sols
    sols = Solutions.empty(len(tech.x), model.n_rows)
    solve_units(
        model, np.arange(len(tech.x)), tech.x, tech.y, sols, threads=threads, xr=tech.xr, yr=tech.yr
    )
    tech.stats["lp_solves"] += len(tech.x)
    return sols


def solve_slacks(
    tech: Technology, sols: Solutions, sx: np.ndarray, sy: np.ndarray, *, threads: int = 1
) -> tuple[np.ndarray, list, list]:
    """Phase 2: max sum of slacks (in original units) with the radial score fixed.

    Returns slacks in original units (k, m+n) and the phase-2 lambdas (ids, values).
    Reducing the reference set to the frame does not change the maximum: any point of
    the technology is dominated by a combination of frame units, which leaves at least
    as much slack.
    """
    k, m = tech.x.shape
    n = tech.y.shape[1]
    slacks = np.full((k, m + n), np.nan)
    lam_ids: list = [np.zeros(0, dtype=np.int64)] * k
    lam_vals: list = [np.zeros(0)] * k
    frame = tech.frame
    weights = np.r_[sx, sy]
    todo = np.flatnonzero(sols.status == OPTIMAL)

    def work(chunk: np.ndarray, lp: SlackLP) -> None:
        for o in chunk:
            tx, ty = _targets(tech, o, sols.score[o])
            status, lam, s = lp.solve(tx, ty)
            if status != OPTIMAL:  # theta a hair too small for phase 2: relax by 1e-9
                relax = 1 + 1e-9 if tech.orientation == "in" else 1 - 1e-9
                status, lam, s = lp.solve(*_targets(tech, o, sols.score[o] * relax))
            if status != OPTIMAL:
                continue
            s = np.where(np.abs(s) < SLACK_ZERO, 0.0, s)
            slacks[o] = s * weights
            nz = np.flatnonzero(lam > 1e-12)
            lam_ids[o], lam_vals[o] = frame[nz], lam[nz]

    def make() -> SlackLP:
        return SlackLP(tech.xr[frame], tech.yr[frame], tech.rts, weights)

    run_chunks(todo, threads, make, work)
    if tech.stats is not None:
        tech.stats["slack_solves"] = len(todo)
    return slacks, lam_ids, lam_vals


def _targets(tech: Technology, o: int, score: float) -> tuple[np.ndarray, np.ndarray]:
    if tech.orientation == "in":
        return score * tech.x[o], tech.y[o]
    if tech.orientation == "out":
        return tech.x[o], score * tech.y[o]
    return score * tech.x[o], tech.y[o] / score  # graph


def solve_super(tech: Technology, sols: Solutions, *, threads: int = 1) -> Solutions:
    """Andersen-Petersen super-efficiency: each unit removed from its own reference set.

    Units that are not efficient keep their ordinary score (removing them does not
    change the technology). For efficient units the LP starts from the frame without
    the unit and adds, by column generation, every reference unit whose reduced cost
    shows it would improve the optimum (units that only the removed unit enveloped).
    When the restricted LP is infeasible, the unit is solved against all other units
    to tell a true infeasibility (reported as such) from a missing column.
    """
    sup = Solutions(
        sols.status.copy(),
        sols.score.copy(),
        sols.duals.copy(),
        list(sols.lam_ids),
        list(sols.lam_vals),
    )
    score = sols.score
    eff = (score >= 1 - FRAME_TOL) if tech.orientation == "in" else (score <= 1 + FRAME_TOL)
    units = np.flatnonzero(eff & (sols.status == OPTIMAL))
    counts: list[dict] = []

    def work(chunk: np.ndarray, lp: EnvelopmentLP) -> None:
        full: EnvelopmentLP | None = None
        counters = {"super_solves": 0, "super_full_solves": 0}
        counts.append(counters)
        for o in chunk:
            status, value, lam, duals, ids = _super_one(tech, lp, o, counters)
            if status == INFEASIBLE:
                full = full or _full_model(tech)
                full.exclude(o)
                full.set_unit(tech.x[o], tech.y[o])
                status, value, lam, duals = full.solve()
                full.include(o)
                counters["super_full_solves"] += 1
                ids = full.ref_ids
            sup.store(o, status, value, lam, duals, ids)

    run_chunks(
        units,
        threads,
        lambda: clone_model(tech.model, tech.xr, tech.yr),
        work,
        first=clone_model(tech.model, tech.xr, tech.yr),
    )
    if tech.stats is not None:
        for key in ("super_solves", "super_full_solves"):
            tech.stats[key] = sum(c[key] for c in counts)
    return sup


def _full_model(tech: Technology) -> EnvelopmentLP:
    lp = EnvelopmentLP(tech.x.shape[1], tech.y.shape[1], tech.rts, tech.orientation)
    ids = np.arange(len(tech.xr))
    lp.add_units(ids, tech.xr, tech.yr)
    return lp


def _super_one(tech: Technology, lp: EnvelopmentLP, o: int, counters: dict):
    """Column generation for one unit's super-efficiency LP on the frame model ``lp``."""
    lp.exclude(o)
    lp.set_unit(tech.x[o], tech.y[o])
    others = np.ones(len(tech.xr), dtype=bool)
    others[o] = False
    try:
        while True:
            status, value, lam, duals = lp.solve()
            counters["super_solves"] += 1
            if status != OPTIMAL:
                return status, value, lam, duals, lp.ref_ids
            red = lp.reduced_costs(duals[None, :], tech.xr, tech.yr)[0]
            sign = 1.0 if tech.orientation == "in" else -1.0
            better = (sign * red < -DUAL_TOL) & others
            better[lp.ref_ids] = False
            if not better.any():
                return status, value, lam, duals, lp.ref_ids
            new = np.flatnonzero(better)
            new = new[np.argsort(sign * red[new], kind="stable")[:MAX_NEW_COLUMNS]]
            lp.add_units(new, tech.xr[new], tech.yr[new])
    finally:
        lp.include(o)
