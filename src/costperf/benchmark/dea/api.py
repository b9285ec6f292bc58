"""``solve_dea``: the public entry point for radial, FDH and graph DEA scores."""

from __future__ import annotations

import numpy as np
import pandas as pd

from costperf.benchmark.dea import results
from costperf.benchmark.dea.checks import normalize_orientation, normalize_rts, prepare
from costperf.benchmark.dea.fdh import fdh_scores, fdh_slacks
from costperf.benchmark.dea.frame import default_threads, scale_factors
from costperf.benchmark.dea.graph import solve_graph
from costperf.benchmark.dea.radial import Technology, solve_scores, solve_slacks, solve_super
from costperf.errors import InputError

Reference = tuple[pd.DataFrame, pd.DataFrame]


def solve_dea(
    inputs: pd.DataFrame,
    outputs: pd.DataFrame,
    *,
    rts: str = "vrs",
    orientation: str = "in",
    slack: bool = False,
    super_efficiency: bool = False,
    reference: Reference | None = None,
    threads: int | None = None,
    checked: bool = False,
) -> pd.DataFrame:
    """Data envelopment analysis scores of every unit, as R Benchmarking computes them.

    Parameters
    ----------
    inputs, outputs
        One row per unit (index = unit id, unique), one numeric column per input and
        output. [any units; scores are unit-free]
    rts
        Returns to scale: 'crs', 'vrs', 'drs' (non-increasing; alias 'nirs'), 'irs'
        (non-decreasing; alias 'ndrs') or 'fdh' (free disposal hull).
    orientation
        'in' (Farrell input efficiency theta in (0, 1]), 'out' (Farrell output
        efficiency phi >= 1 and its reciprocal, the Shephard distance) or 'graph'
        (hyperbolic G <= 1: x -> G x, y -> y / G).
    slack
        Also compute phase-2 slacks: with the radial score fixed, the plain sum of all
        input and output slacks (original units) is maximised.
    super_efficiency
        Also compute Andersen-Petersen super-efficiency (each unit removed from its own
        reference set; 'in' or 'out' only, not with ``reference``).
    reference
        Optional ``(inputs, outputs)`` of the units spanning the technology (same
        columns); default: the evaluated units themselves. Units outside that
        technology can score beyond the ranges above (theta > 1, phi < 1) or be
        infeasible.
    threads
        Workers (default: up to 4 cores). From 20,000 units the radial scores are
        computed in two fixed parts on a pool of up to 2 worker processes; results,
        lambdas included, are identical for any value. Below that, the number of
        threads for the per-unit HiGHS LPs (scores do not depend on it; among equally
        optimal lambdas, the one reported may).
    checked
        The values (float columns, units and reference) are rows of data that already
        passed these checks: skip them (leave-one-out re-solves of subsets; the
        scores are the same).

    Returns
    -------
    DataFrame
        Indexed like ``inputs``, with: ``efficiency_in`` | ``efficiency_out_farrell`` and
        ``efficiency_out_shephard`` | ``efficiency_graph``; ``status`` ('optimal',
        'infeasible' when the unit lies outside an external reference technology,
        'unbounded'); ``peers`` (comma-separated reference ids with lambda > 1e-9) and
        ``lambdas`` ('id:value;...'); with ``slack``: ``slack_<column>`` per input and
        output and ``slack_sum`` (the lambdas are then the phase-2 ones); with
        ``super_efficiency``: ``super_efficiency_in`` or ``super_efficiency_out_farrell``
        (NaN when the LP is infeasible) and ``super_status`` ('optimal' or
        'infeasible'). Scores within 1e-7 of 1 are reported as exactly 1.
        ``attrs['dea']`` records the model and solver counters (LPs solved, frame size).

    Notes
    -----
    The LPs are solved on column-scaled data against the efficient frame only. Below
    2,000 reference units: in-process with HiGHS, the frame found in one screening
    pass (:mod:`costperf.benchmark.dea.frame` says why this is exact). From 2,000 on
    (radial 'in'/'out', and the input scores behind 'graph'): the frame by divide and
    conquer and every score by a batched dual simplex over the facets, each certified
    optimal, with HiGHS for any unit it cannot certify (:mod:`.scale`, :mod:`.walk`).
    Slacks, super-efficiency and the graph root search then use HiGHS on that frame.
    FDH needs no LP.

    Raises
    ------
    InputError
        Non-numeric, missing or infinite values, negative inputs, negative outputs
        (allowed only for VRS/FDH input orientation), units with all inputs zero (or all
        outputs zero where the score is undefined), mismatched or duplicated ids,
        unknown ``rts``/``orientation``.

    References
    ----------
    Bogetoft, P. and Otto, L. (2011) *Benchmarking with DEA, SFA, and R*, Springer;
    R package Benchmarking 0.33 (functions ``dea``, ``sdea``, ``slack``).
    Andersen, P. and Petersen, N.C. (1993) Management Science 39(10), 1261-1264.
    """
    rts = normalize_rts(rts)
    orientation = normalize_orientation(orientation)
    if super_efficiency and orientation == "graph":
        msg = "super-efficiency is available for orientation 'in' or 'out', not 'graph'"
        raise InputError(msg)
    if super_efficiency and reference is not None:
        msg = (
            "super-efficiency removes each unit from its own reference set; "
            "it cannot be combined with an external reference set"
        )
        raise InputError(msg)
    check = _as_arrays if checked else prepare
    x, y = check(inputs, outputs, rts=rts, orientation=orientation)
    ref_inputs, ref_outputs = reference_of(inputs, outputs, reference)
    if reference is None:
        xr, yr = x, y
    else:
        xr, yr = check(
            ref_inputs, ref_outputs, rts=rts, orientation=orientation, what="the reference set"
        )
    sx, sy = scale_factors(x, xr), scale_factors(y, yr)
    tech = Technology(x / sx, y / sy, xr / sx, yr / sy, rts, orientation, same=reference is None)
    threads = threads or default_threads()
    if rts == "fdh":
        cols, stats = _fdh(
            tech, np.r_[sx, sy], inputs, outputs, slack, super_efficiency, ref_inputs.index
        )
    else:
        cols, stats = _radial(
            tech, np.r_[sx, sy], inputs, outputs, slack, super_efficiency, ref_inputs.index, threads
        )
    frame = pd.DataFrame(cols, index=inputs.index)
    frame.attrs["dea"] = dict(
        stats, rts=rts, orientation=orientation, units=len(x), reference_units=len(xr)
    )
    return frame


def _as_arrays(
    inputs: pd.DataFrame, outputs: pd.DataFrame, **_checks: object
) -> tuple[np.ndarray, np.ndarray]:
    """``(X, Y)`` of values already checked (``solve_dea(..., checked=True)``)."""
    return inputs.to_numpy(dtype=float), outputs.to_numpy(dtype=float)


def reference_of(
    inputs: pd.DataFrame, outputs: pd.DataFrame, reference: Reference | None
) -> Reference:
    if reference is None:
        return inputs, outputs
    if not (isinstance(reference, tuple) and len(reference) == 2):
        msg = "reference must be a tuple (inputs, outputs) of two DataFrames"
        raise InputError(msg)
    ref_in, ref_out = reference
    for name, mine, theirs in (("input", inputs, ref_in), ("output", outputs, ref_out)):
        if not isinstance(theirs, pd.DataFrame) or list(theirs.columns) != list(mine.columns):
            got = list(getattr(theirs, "columns", []))
            msg = (
                f"the reference {name}s must have the same columns as the evaluated units: "
                f"expected {list(mine.columns)}, got {got}"
            )
            raise InputError(msg)
    return ref_in, ref_out


def _radial(
    tech: Technology,
    scales: np.ndarray,
    inputs: pd.DataFrame,
    outputs: pd.DataFrame,
    slack: bool,
    super_eff: bool,
    labels: pd.Index,
    threads: int,
) -> tuple[dict, dict]:
    graph = tech.orientation == "graph"
    if graph:
        tech.orientation = "in"
    sols = solve_scores(tech, threads=threads)
    if graph:
        sols = solve_graph(
            tech.x, tech.y, tech.xr, tech.yr, tech.frame, tech.rts, sols, threads=threads
        )
        tech.orientation = "graph"
    cols = dict(results.score_columns(tech.orientation, sols.score))
    cols["status"] = sols.status.astype(object)
    lam_ids, lam_vals = sols.lam_ids, sols.lam_vals
    if slack:
        m = tech.x.shape[1]
        slacks, lam_ids2, lam_vals2 = solve_slacks(
            tech, sols, scales[:m], scales[m:], threads=threads
        )
        lam_ids = [b if len(b) else a for a, b in zip(lam_ids, lam_ids2, strict=True)]
        lam_vals = [b if len(b) else a for a, b in zip(lam_vals, lam_vals2, strict=True)]
    cols["peers"], cols["lambdas"] = results.peer_strings(lam_ids, lam_vals, labels)
    if slack:
        cols.update(results.slack_columns(inputs, outputs, slacks))
    if super_eff:
        sup = solve_super(tech, sols, threads=threads)
        cols.update(results.super_columns(tech.orientation, sup.status, sup.score))
    return cols, dict(tech.stats or {})


def _fdh(
    tech: Technology,
    scales: np.ndarray,
    inputs: pd.DataFrame,
    outputs: pd.DataFrame,
    slack: bool,
    super_eff: bool,
    labels: pd.Index,
) -> tuple[dict, dict]:
    status, score, peer = fdh_scores(tech.x, tech.y, tech.xr, tech.yr, tech.orientation)
    cols = dict(results.score_columns(tech.orientation, score))
    cols["status"] = status
    if slack:
        slacks, peer2 = fdh_slacks(
            tech.x, tech.y, tech.xr, tech.yr, score, tech.orientation, scales
        )
        peer = np.where(peer2 >= 0, peer2, peer)
    ids = [np.array([p]) if p >= 0 else np.zeros(0, dtype=np.int64) for p in peer]
    vals = [np.ones(len(i)) for i in ids]
    cols["peers"], cols["lambdas"] = results.peer_strings(ids, vals, labels)
    if slack:
        cols.update(results.slack_columns(inputs, outputs, slacks))
    if super_eff:
        s_status, s_score, _ = fdh_scores(
            tech.x, tech.y, tech.xr, tech.yr, tech.orientation, exclude_self=True
        )
        cols.update(results.super_columns(tech.orientation, s_status, s_score))
    return cols, {"lp_solves": 0}
