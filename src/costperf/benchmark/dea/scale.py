"""Radial DEA for many units: frame search and facet walk, on a process pool when large.

From ``WALK_MIN_UNITS`` reference units on, :func:`solve_by_walk` replaces the HiGHS
pass of :mod:`.frame`:

1. the frame: :func:`.walk.frame_search` drops every unit certified inside the
   technology of the others (a primal certificate), by divide and conquer;
2. the scores: every evaluated unit is walked against the frame only
   (:func:`.walk.walk_chunked`), each score certified optimal (primal and dual);
3. the few units the walk could not certify (degenerate ties, numerical trouble,
   units outside an external technology) are solved by HiGHS against the frame, on one
   warm-started model, exactly as the small-N path does.

Reducing the reference set to the frame is exact for the same reason as in
:mod:`.frame`: a unit inside the technology of the others never changes it.

From ``walk.CHUNK_MIN_UNITS`` units on the work is split into ``walk.CHUNKS`` fixed
parts (the two halves of the frame search, then spatial chunks of units), which a pool
of worker processes runs side by side (HiGHS' and numpy's threads do not help here:
the per-unit work holds the GIL). The parts are the same with one worker or several, so
the results are identical; only the wall time changes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from costperf.benchmark.dea import walk
from costperf.benchmark.dea.frame import FRAME_TOL, Solutions, clone_model, solve_units
from costperf.benchmark.dea.model import OPTIMAL, EnvelopmentLP

WALK_MIN_UNITS = 2000  # reference units from which the facet walk replaces the HiGHS pass


def uses_walk(tech) -> bool:
    """Whether ``tech`` is scored by :func:`solve_by_walk`."""
    return tech.orientation in ("in", "out") and len(tech.xr) >= WALK_MIN_UNITS


@contextlib.contextmanager
def worker_map(workers: int, units: int) -> Iterator:
    """A ``map`` over a pool of ``workers`` processes when worth it, else in-process."""
    if workers < 2 or units < walk.CHUNK_MIN_UNITS:
        yield walk.serial_map
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork where there is one: spawn would re-run the caller's main script (a script
    # without an ``if __name__ == "__main__"`` guard would recurse). The workers only
    # run numpy and scipy (the walk), never HiGHS, so the parent's solver threads are
    # not needed there.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=min(workers, walk.CHUNKS), mp_context=context) as pool:
        yield lambda fn, jobs: list(pool.map(_run_job, [(fn, job) for job in jobs]))


def _run_job(task: tuple):
    """One part in a worker process, with BLAS on one thread there too."""
    fn, job = task
    with walk.single_threaded_blas():
        return fn(job)


def solve_by_walk(tech, *, threads: int = 1) -> Solutions:
    """Exact radial scores, lambdas and duals of every evaluated unit of ``tech``.

    Sets ``tech.frame`` (reference ids of the frame), ``tech.model`` (a HiGHS model on
    the frame, for slacks and super-efficiency) and ``tech.stats``.
    """
    rts, orientation = tech.rts, tech.orientation
    with worker_map(threads, max(len(tech.x), len(tech.xr))) as mapper, walk.single_threaded_blas():
        frame = walk.frame_search(tech.xr, tech.yr, rts, orientation, mapper=mapper)
        res = walk.walk_chunked(
            tech.x, tech.y, tech.xr[frame], tech.yr[frame], rts, orientation, mapper=mapper
        )
    model = EnvelopmentLP(tech.x.shape[1], tech.y.shape[1], rts, orientation)
    model.add_units(frame, tech.xr[frame], tech.yr[frame])
    sols = _solutions(tech, res, frame, model.n_rows)
    failed = np.flatnonzero(res.state != walk.CERTIFIED)
    solve_units(model, failed, tech.x, tech.y, sols, xr=tech.xr, yr=tech.yr)
    kept = frame
    if tech.same:
        kept = _prune(frame, sols, orientation)
        if len(kept) < len(frame):
            model = clone_model(model, tech.xr, tech.yr, kept)
    tech.model, tech.frame = model, kept
    tech.stats = {
        "method": "facet walk",
        "lp_solves": len(failed),
        "walk_certified": int((res.state == walk.CERTIFIED).sum()),
        "frame_size": len(kept),
        "frame_search_size": len(frame),
        "reference_units": len(tech.xr),
        **{f"walk_{key}": value for key, value in res.counters.items()},
    }
    return sols


def _solutions(tech, res: walk.WalkResult, frame: np.ndarray, n_rows: int) -> Solutions:
    """Certified walk results as :class:`.frame.Solutions` (lambdas over reference ids)."""
    k = len(tech.x)
    sols = Solutions.empty(k, n_rows)
    good = np.flatnonzero(res.state == walk.CERTIFIED)
    sols.status[good] = OPTIMAL
    sols.score[good] = res.score[good]
    sols.duals[good] = _row_duals(tech, res.normal[good], good)
    if len(good) == 0:
        return sols
    ids, weights = res.facet_ids[good], res.basic[good]
    use = (ids < len(frame)) & (weights > 1e-12)  # lambdas, not slacks
    cuts = np.cumsum(use.sum(axis=1))[:-1]
    lam_ids = np.split(frame[np.where(use, ids, 0)[use]], cuts)
    lam_vals = np.split(weights[use], cuts)
    for o, i, v in zip(good.tolist(), lam_ids, lam_vals, strict=True):
        sols.lam_ids[o], sols.lam_vals[o] = i, v
    return sols


def _row_duals(tech, normal: np.ndarray, units: np.ndarray) -> np.ndarray:
    """HiGHS-convention row duals of each unit's LP from its facet (v, u[, w])."""
    m, n = tech.x.shape[1], tech.y.shape[1]
    v, u, w = normal[:, :m], normal[:, m : m + n], normal[:, m + n :]
    if tech.orientation == "in":
        den = np.einsum("ki,ki->k", v, tech.x[units])
        return np.hstack([-v, u, w]) / den[:, None]
    den = np.einsum("ki,ki->k", u, tech.y[units])
    return np.hstack([v, -u, -w]) / den[:, None]


def _prune(frame: np.ndarray, sols: Solutions, orientation: str) -> np.ndarray:
    """Frame units whose own exact score is 1 (within FRAME_TOL), as :func:`prune_frame`."""
    score, status = sols.score[frame], sols.status[frame]
    eff = score >= 1 - FRAME_TOL if orientation == "in" else score <= 1 + FRAME_TOL
    return frame[eff | (status != OPTIMAL)]
