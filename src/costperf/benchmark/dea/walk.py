"""Exact radial scores of many units at once: a batched dual simplex over facets.

Every unit's envelopment LP (see :mod:`.model`) has the same lambda columns; only the
score column and the right-hand side belong to the unit. Its dual is

    input:  max (u.y_o + w) / (v.x_o)    output:  min (v.x_o - w) / (u.y_o)

over the cone ``K`` of valid inequalities ``v.x - u.y >= w`` of the technology
(``v, u >= 0``; ``w`` free for VRS, ``<= 0`` DRS, ``>= 0`` IRS, absent CRS). ``K`` does not
depend on the unit, and its extreme rays are the *facets* of the technology, each
fixed by ``R - 1`` tight constraints (``R`` = rows of the LP): reference units on the
facet, or ``v_i = 0`` / ``u_r = 0`` / the sign of ``w`` (the slack columns of the LP).
A facet together with the unit's score column is a basis of the unit's LP, and it is
dual feasible for *every* unit whose normalisation (``v.x_o`` or ``u.y_o``) is positive.

So the dual simplex method can run for all units together ("facet walk"): each unit
sits on a facet; solving its ``R x R`` basis gives its score and the weights of the
facet's units; when a weight is negative, the unit moves to the neighbouring facet
across the ridge without that unit (a ratio test over the reference units). The
neighbour depends only on the facet and the dropped constraint, never on the unit,
so it is computed once and cached for every unit that passes. Units start from the
facet where a similar unit (nearest in a k-d tree) ended, which is usually a step or
two from their own.

A unit is *certified* when its basis is primal feasible (all weights >= 0, checked
with the residual of the equations) and its facet is valid for every reference unit
(checked once per facet), with primal and dual scores equal to 1e-9: that is LP
optimality, so the score is exact whatever path led there. Anything else (a facet
that could not be computed, a step cap, a unit outside the technology) is reported as
not certified and solved by HiGHS by the caller.

With many reference units the ratio test first looks only at the units nearest to the
ridge (k-d tree neighbours of its units); the facet it finds is kept when one product
over all constraints shows it valid, and the full test runs otherwise.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

BASIC_TOL = 1e-11  # basis weights above -this count as >= 0 (scaled data)
VALID_TOL = 1e-11  # a facet is valid when no constraint is below -this (unit normal)
CERT_TOL = 1e-9  # primal and dual score of a certified unit agree to this
RESIDUAL_TOL = 1e-9  # the clipped weights reproduce the unit's equations to this
RATIO_EPS = 1e-13  # constraints whose rate along the rotation is below -this can enter
NEIGHBOUR_CHUNK = 128  # ridges per ratio-test block (the block is chunk x frame size)
MAX_STEPS = 300  # a walk longer than this gives up (the unit goes to HiGHS)
FIRST_BATCH, BATCH_GROWTH = 256, 4  # units per warm-start round: 256, 1024, 4096, ...
LOCAL_NEIGHBOURS = 16  # reference units per ridge vertex in the local ratio test
LOCAL_MIN_REFERENCE = 1500  # from this many reference units on, try the local test first
WARM_CANDIDATES = 8  # a unit starts at the best facet of its nearest solved units

UNKNOWN, VALID, INVALID = 0, 1, 2
CERTIFIED, FEASIBLE, FAILED, STOPPED = 1, 2, 3, 4


@dataclass
class WalkResult:
    """Per-unit outcome of :func:`walk_scores` (scaled data, reference indices)."""

    score: np.ndarray  # radial score (NaN where failed)
    state: np.ndarray  # CERTIFIED, FEASIBLE (primal only) or FAILED
    facet_ids: np.ndarray  # (k, R-1) tight constraints of the final facet
    basic: np.ndarray  # (k, R-1) their weights (lambdas for ids < n_ref, else slacks)
    normal: np.ndarray  # (k, R) the final facet's (v, u[, w])
    valid: np.ndarray  # the final facet is valid for the whole reference set
    counters: dict


class FacetWalker:
    """Facets of the technology spanned by ``xr``, ``yr`` (scaled) and walks over them.

    Parameters
    ----------
    xr, yr
        Reference inputs (K, m) and outputs (K, n), scaled.
    rts
        'crs', 'vrs', 'drs' or 'irs'.
    orientation
        'in' or 'out'.
    """

    def __init__(self, xr: np.ndarray, yr: np.ndarray, rts: str, orientation: str) -> None:
        k, m = xr.shape
        n = yr.shape[1]
        self.xr, self.yr, self.rts, self.orientation = xr, yr, rts, orientation
        self.k, self.m, self.n = k, m, n
        self.r = r = m + n + (rts != "crs")
        n_slack = m + n + (rts in ("drs", "irs"))
        g = np.zeros((k + n_slack, r))
        g[:k, :m], g[:k, m : m + n] = xr, -yr
        if rts != "crs":
            g[:k, -1] = -1.0
        g[k : k + m + n, : m + n] = np.eye(m + n)
        if rts in ("drs", "irs"):
            g[-1, -1] = -1.0 if rts == "drs" else 1.0
        self.g = g  # constraint vectors: g.(v, u, w) >= 0
        self.gt = np.ascontiguousarray(g.T)
        sign = np.r_[np.ones(m), -np.ones(n), [-1.0] * (rts != "crs")]
        self.a = g * sign  # the LP column of each constraint (lambda_j or a slack)
        self.norm_row = np.r_[np.ones(m + n), [0.0] * (rts != "crs")]
        cap = 1024
        self.ids = np.zeros((cap, r - 1), dtype=np.int64)
        self.nrm = np.zeros((cap, r))
        self.nb = np.full((cap, r - 1), -2, dtype=np.int64)  # -2 unknown, -1 none
        self.valid = np.zeros(cap, dtype=np.int8)
        self.count = 0
        self._index: dict[bytes, int] = {}
        self._knn: np.ndarray | None = None
        self.local = k >= LOCAL_MIN_REFERENCE
        self.counters = {"facets": 0, "ratio_tests": 0, "local_ratio_tests": 0, "steps": 0}

    # -- facet store -------------------------------------------------------------------

    def _grow(self, need: int) -> None:
        cap = len(self.ids)
        if need <= cap:
            return
        new = max(need, 2 * cap)
        fills = (("ids", 0), ("nrm", 0.0), ("nb", -2), ("valid", UNKNOWN))
        for name, fill in fills:
            old = getattr(self, name)
            arr = np.full((new, *old.shape[1:]), fill, dtype=old.dtype)
            arr[:cap] = old
            setattr(self, name, arr)

    def _add(self, ids: np.ndarray, normals: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Store facets (rows of sorted ids), once each; return their indices."""
        keys = np.ascontiguousarray(ids).view(np.dtype((np.void, 8 * ids.shape[1]))).ravel()
        out = np.array([self._index.get(key, -1) for key in keys.tolist()], dtype=np.int64)
        new = np.flatnonzero(out < 0)
        if len(new):
            fresh: dict[bytes, int] = {}
            for p in new.tolist():
                out[p] = fresh.setdefault(keys[p].tobytes(), self.count + len(fresh))
            rows = new[out[new] >= self.count]
            first = rows[np.unique(out[rows], return_index=True)[1]]
            self._grow(self.count + len(fresh))
            self.ids[out[first]], self.nrm[out[first]] = ids[first], normals[first]
            self._index.update(fresh)
            self.count += len(fresh)
        self.valid[out[valid == VALID]] = VALID
        self.counters["facets"] = self.count
        return out

    def normals_of(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unit normals of the facets with tight constraints ``ids`` (P, R-1), and ok mask.

        The normal solves ``g_j . n = 0`` (tight j) with ``sum(v) + sum(u) = 1``, so it
        depends on the ids only (the same facet reached by two paths is the same).
        """
        p = len(ids)
        mat = np.empty((p, self.r, self.r))
        mat[:, :-1, :] = self.g[ids]
        mat[:, -1, :] = self.norm_row
        rhs = np.zeros((p, self.r))
        rhs[:, -1] = 1.0
        nrm, ok = solve_many(mat, rhs)
        length = np.linalg.norm(nrm, axis=1)
        ok &= length > 0
        nrm[ok] /= length[ok, None]
        return nrm, ok

    def trivial(self) -> np.ndarray:
        """Facets valid for any data: v = e_i (input) or u = e_r (output) and its bound."""
        k, m, n, rts = self.k, self.m, self.n, self.rts
        v_sl = [k + i for i in range(m)]
        u_sl = [k + m + r for r in range(n)]
        w_sl = [k + m + n] if rts in ("drs", "irs") else []
        sets = []
        if self.orientation == "in":
            for i in range(m):
                rest = [s for s in v_sl if s != k + i] + u_sl
                if rts == "crs":
                    sets.append(rest)
                elif rts == "drs":
                    sets.append(rest + w_sl)
                else:
                    sets.append(rest + [int(np.argmin(self.xr[:, i]))])
        else:
            for r in range(n):
                rest = [s for s in u_sl if s != k + m + r]
                if rts in ("vrs", "drs"):
                    sets.append(v_sl + rest + [int(np.argmax(self.yr[:, r]))])
                    continue
                for i in range(m):
                    col = self.xr[:, i]
                    if np.any((col <= 0) & (self.yr[:, r] > 0)):
                        continue
                    ratio = np.divide(self.yr[:, r], col, out=np.zeros(k), where=col > 0)
                    other_v = [s for s in v_sl if s != k + i]
                    sets.append(other_v + rest + [int(np.argmax(ratio))] + w_sl)
        if not sets:
            return np.zeros(0, dtype=np.int64)
        ids = np.sort(np.array(sets, dtype=np.int64), axis=1)
        nrm, ok = self.normals_of(ids)
        ok[ok] = (self.g @ nrm[ok].T).min(axis=0) >= -VALID_TOL
        return self._add(ids[ok], nrm[ok], np.full(int(ok.sum()), VALID))

    # -- one step ----------------------------------------------------------------------

    def _knn_lists(self) -> np.ndarray:
        if self._knn is None:
            from scipy.spatial import cKDTree

            pts = np.hstack([self.xr, self.yr])
            q = min(LOCAL_NEIGHBOURS, self.k)
            _, knn = cKDTree(pts).query(pts, k=q)
            self._knn = np.asarray(knn, dtype=np.int64).reshape(self.k, q)
        return self._knn

    def neighbours(self, fac: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """The facet across the ridge ``ids[fac] - ids[fac][pos]``; -1 where none.

        With a large reference set the ratio test first looks at the units near the
        ridge only; the facet found is then checked against every constraint (one
        product instead of the full test), and the full test runs where that fails. A
        facet stored from a valid one is thus always valid.
        """
        out = np.full(len(fac), -1, dtype=np.int64)
        for s in range(0, len(fac), NEIGHBOUR_CHUNK):
            f, p = fac[s : s + NEIGHBOUR_CHUNK], pos[s : s + NEIGHBOUR_CHUNK]
            new_ids, nrm, ok = self._rotate(f, p, local=self.local)
            checked = np.zeros(len(f), dtype=bool)
            if self.local:
                checked[ok] = (nrm[ok] @ self.gt).min(axis=1) >= -VALID_TOL
                miss = np.flatnonzero(~checked)
                self.counters["local_misses"] = self.counters.get("local_misses", 0) + len(miss)
                if len(miss):
                    new_ids[miss], nrm[miss], ok[miss] = self._rotate(f[miss], p[miss], local=False)
                ok = checked | ok
            if ok.any():
                # the full ratio test keeps validity: a facet reached from a valid one is valid
                valid = checked[ok] | (self.valid[f[ok]] == VALID)
                flags = np.where(valid, VALID, UNKNOWN).astype(np.int8)
                out[s : s + NEIGHBOUR_CHUNK][ok] = self._add(new_ids[ok], nrm[ok], flags)
        return out

    def _rotate(self, fac: np.ndarray, pos: np.ndarray, local: bool):
        """Ratio test: rotate facet ``fac`` about its ridge without constraint ``pos``.

        Returns the new facets' sorted ids, unit normals and an ok mask.
        """
        p, r = len(fac), self.r
        rows = np.arange(p)
        ids, nf = self.ids[fac], self.nrm[fac]
        keep = np.ones(ids.shape, dtype=bool)
        keep[rows, pos] = False
        ridge = ids[keep].reshape(p, r - 2)
        drop = ids[rows, pos]
        # the rotation about the ridge: perp _|_ ridge and nf, moving off the dropped one
        mat = np.empty((p, r, r))
        mat[:, : r - 2, :] = self.g[ridge]
        mat[:, r - 2, :] = nf
        mat[:, r - 1, :] = self.g[drop]
        rhs = np.zeros((p, r))
        rhs[:, -1] = 1.0
        perp, ok = solve_many(mat, rhs)
        # t_j = s_j / -(rate_j) for constraints moving towards violation; the smallest
        # t enters. Computed as argmin (rate_j + eps) / s_j (negative exactly there).
        if local:
            cand = self._local_candidates(ridge, drop)
            gc = self.g[cand]  # (p, L, r)
            sh = np.einsum("plr,pr->pl", gc, nf)
            sp = np.einsum("plr,pr->pl", gc, perp)
            self.counters["local_ratio_tests"] += p
        else:
            sh = nf @ self.gt
            sp = perp @ self.gt
            self.counters["ratio_tests"] += p
        np.maximum(sh, 1e-300, out=sh)
        np.add(sp, RATIO_EPS, out=sp)
        np.divide(sp, sh, out=sp)
        if not local:  # (near the ridge, s_j = 0 and rate_j + eps > 0 keep them out)
            sp[rows[:, None], ridge] = np.inf
            sp[rows, drop] = np.inf
        best = sp.argmin(axis=1)
        ok &= sp[rows, best] < 0
        enter = cand[rows, best] if local else best
        rate = np.einsum("pr,pr->p", self.g[enter], perp)
        step = np.divide(
            np.einsum("pr,pr->p", self.g[enter], nf).clip(0.0),
            -rate,
            out=np.zeros(p),
            where=ok & (rate < 0),
        )
        new_ids = np.sort(np.concatenate([ridge, enter[:, None]], axis=1), axis=1)
        guess = nf + step[:, None] * perp
        guess /= np.linalg.norm(guess, axis=1, keepdims=True)
        nrm, ok2 = self.normals_of(new_ids)
        ok &= ok2 & (np.abs(nrm - guess).max(axis=1) <= 1e-12)
        return new_ids, nrm, ok

    def _local_candidates(self, ridge: np.ndarray, drop: np.ndarray) -> np.ndarray:
        """Reference units near the ridge (k-NN of its units), plus every slack."""
        knn = self._knn_lists()
        verts = np.concatenate([ridge, drop[:, None]], axis=1)
        is_ref = verts < self.k
        lists = knn[np.where(is_ref, verts, 0)]  # (p, r-1, q)
        # a slack vertex contributes the first ridge unit's list again (harmless)
        first = np.where(is_ref.any(axis=1), verts[np.arange(len(verts)), is_ref.argmax(1)], 0)
        lists = np.where(is_ref[:, :, None], lists, knn[first][:, None, :])
        slacks = np.broadcast_to(np.arange(self.k, len(self.g)), (len(verts), len(self.g) - self.k))
        return np.concatenate([lists.reshape(len(verts), -1), slacks], axis=1)

    def check(self, fac: np.ndarray) -> np.ndarray:
        """Global validity of facets ``fac`` (cached); True where valid."""
        fac = np.asarray(fac, dtype=np.int64)
        todo = np.unique(fac[self.valid[fac] == UNKNOWN])
        for s in range(0, len(todo), NEIGHBOUR_CHUNK):
            part = todo[s : s + NEIGHBOUR_CHUNK]
            low = (self.nrm[part] @ self.g.T).min(axis=1)
            self.valid[part] = np.where(low >= -VALID_TOL, VALID, INVALID)
        return self.valid[fac] == VALID

    # -- walks -------------------------------------------------------------------------

    def unit_columns(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Score column and right-hand side of each unit's LP (rows: x, y[, rts])."""
        k, m, n = len(x), self.m, self.n
        col, rhs = np.zeros((k, self.r)), np.zeros((k, self.r))
        if self.orientation == "in":
            col[:, :m], rhs[:, m : m + n] = -x, y
        else:
            col[:, m : m + n], rhs[:, :m] = -y, x
        if self.rts != "crs":
            rhs[:, -1] = 1.0
        return col, rhs

    def bound(self, x: np.ndarray, y: np.ndarray, fac: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Dual score numerator and denominator of each unit at facet ``fac``."""
        nrm = self.nrm[fac]
        m, n = self.m, self.n
        v, u = nrm[:, :m], nrm[:, m : m + n]
        w = nrm[:, -1] if self.rts != "crs" else 0.0
        if self.orientation == "in":
            return np.einsum("ki,ki->k", u, y) + w, np.einsum("ki,ki->k", v, x)
        return np.einsum("ki,ki->k", v, x) - w, np.einsum("ki,ki->k", u, y)

    def walk(
        self,
        x: np.ndarray,
        y: np.ndarray,
        start: np.ndarray,
        *,
        stop: float | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Walk each unit from facet ``start`` to a primal feasible basis.

        Returns ``(score, facet, basic, state)`` with state FEASIBLE (a primal feasible
        basis was reached), FAILED, or STOPPED: the unit stood on a valid facet whose
        dual score (a bound on its score) had reached ``stop`` (input: >= stop; output:
        <= stop), the score then being that bound.
        """
        k, r = len(x), self.r
        col, rhs = self.unit_columns(x, y)
        cur = start.astype(np.int64).copy()
        score = np.full(k, np.nan)
        basic = np.zeros((k, r - 1))
        state = np.full(k, FAILED, dtype=np.int8)
        sign = 1.0 if self.orientation == "in" else -1.0
        active = np.flatnonzero(cur >= 0)
        for _ in range(MAX_STEPS):
            if len(active) == 0:
                break
            self.counters["steps"] += len(active)
            f = cur[active]
            num, den = self.bound(x[active], y[active], f)
            if stop is not None:
                bound = np.divide(num, den, out=np.full(len(f), np.nan), where=den > 1e-14)
                hit = (self.valid[f] == VALID) & (sign * bound >= sign * stop)
                state[active[hit]], score[active[hit]] = STOPPED, bound[hit]
                active, f, den = active[~hit], f[~hit], den[~hit]
            mat = np.empty((len(active), r, r))
            mat[:, :, 0] = col[active]
            mat[:, :, 1:] = np.transpose(self.a[self.ids[f]], (0, 2, 1))
            sol, ok = solve_many(mat, rhs[active])
            ok &= den > 1e-14
            weights = sol[:, 1:]
            term = ok & (weights >= -BASIC_TOL).all(axis=1)
            fin = active[term]
            score[fin], basic[fin], state[fin] = sol[term, 0], weights[term], FEASIBLE
            go = ok & ~term
            mv, fm = active[go], f[go]
            leave = weights[go].argmin(axis=1)
            nxt = self.nb[fm, leave]
            miss = np.flatnonzero(nxt == -2)
            if len(miss):
                key = np.unique(fm[miss] * r + leave[miss])
                found = self.neighbours(key // r, key % r)
                self.nb[key // r, key % r] = found  # (self.nb may have grown)
                nxt = self.nb[fm, leave]
            moved = nxt >= 0
            cur[mv[moved]] = nxt[moved]
            active = mv[moved]
        return score, cur, basic, state


def solve_many(mat: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve a stack of square systems; ok is False for singular or non-finite ones."""
    try:
        sol = np.linalg.solve(mat, rhs[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        sol = np.full(rhs.shape, np.nan)
        for i in range(len(mat)):
            try:
                sol[i] = np.linalg.solve(mat[i], rhs[i])
            except np.linalg.LinAlgError:
                pass
    return sol, np.isfinite(sol).all(axis=1)


def _features(x: np.ndarray, y: np.ndarray, orientation: str) -> np.ndarray:
    """Units with the same radial projection get the same point (for warm starts)."""
    if orientation == "in":
        return np.hstack([x / np.abs(x).sum(axis=1, keepdims=True), y])
    return np.hstack([x, y / np.abs(y).sum(axis=1, keepdims=True)])


def _trivial_start(walker: FacetWalker, x, y, triv: np.ndarray) -> np.ndarray:
    if len(triv) == 0:
        return np.full(len(x), -1, dtype=np.int64)
    vals = np.empty((len(triv), len(x)))
    for i, f in enumerate(triv):
        num, den = walker.bound(x, y, np.full(len(x), f))
        vals[i] = np.divide(num, den, out=np.full(len(x), np.nan), where=den > 1e-14)
    if walker.orientation == "in":
        vals = np.where(np.isnan(vals), -np.inf, vals)
        best = vals.argmax(axis=0)
    else:
        vals = np.where(np.isnan(vals), np.inf, vals)
        best = vals.argmin(axis=0)
    usable = np.isfinite(vals[best, np.arange(len(x))])
    return np.where(usable, triv[best], -1)


def _warm_start(walker, x, y, feats, solved_feats, solved_facets, fallback):
    """Start each unit at the final facet of the nearest solved unit, if usable."""
    if len(solved_feats) == 0:
        return fallback
    from scipy.spatial import cKDTree

    q = min(WARM_CANDIDATES, len(solved_feats))
    _, near = cKDTree(solved_feats).query(feats, k=q)
    cand = solved_facets[np.asarray(near).reshape(len(feats), q)]  # (k, q)
    num, den = walker.bound(np.repeat(x, q, axis=0), np.repeat(y, q, axis=0), cand.ravel())
    val = np.divide(num, den, out=np.full(len(num), np.nan), where=den > 1e-14)
    val = val.reshape(len(feats), q)
    if walker.orientation == "in":
        val = np.where(np.isnan(val), -np.inf, val)
        pick = val.argmax(axis=1)
    else:
        val = np.where(np.isnan(val), np.inf, -val)
        pick = val.argmax(axis=1)
    best = cand[np.arange(len(feats)), pick]
    usable = np.isfinite(val[np.arange(len(feats)), pick])
    return np.where(usable, best, fallback)


_CONTROLLER: list = []


def single_threaded_blas() -> contextlib.AbstractContextManager:
    """BLAS on one thread: the products here are small, and OpenBLAS' threads on a
    loaded machine made them 100x slower (40 ms instead of 0.1 ms for 128 x 866 x 5)."""
    if not _CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - declared dependency; only slower without
            return contextlib.nullcontext()
        _CONTROLLER.append(ThreadpoolController())  # finding the libraries takes ~20 ms
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def walk_scores(
    x: np.ndarray,
    y: np.ndarray,
    xr: np.ndarray,
    yr: np.ndarray,
    rts: str,
    orientation: str,
    *,
    certify: bool = True,
    stop: float | None = None,
    seed: int = 0,
) -> WalkResult:
    """Scores of units (x, y) against the technology of (xr, yr), all scaled.

    With ``certify`` every score of state CERTIFIED is an exact LP optimum. Without it,
    a FEASIBLE score has a primal certificate only (the unit's true score is at most
    (input) / at least (output) this value), which is what the frame search needs;
    with ``stop`` a unit also ends (STOPPED) once a valid facet bounds its score past
    ``stop``. Units are processed in rounds of growing size in a seeded random order,
    each round starting from the facets the earlier rounds ended on. Call it inside
    :func:`single_threaded_blas` (the callers here do).
    """
    walker = FacetWalker(xr, yr, rts, orientation)
    k, r = len(x), walker.r
    triv = walker.trivial()
    feats = _features(x, y, orientation)
    order = np.random.default_rng(seed).permutation(k)
    score = np.full(k, np.nan)
    facet = np.full(k, -1, dtype=np.int64)
    basic = np.zeros((k, r - 1))
    state = np.full(k, FAILED, dtype=np.int8)
    lo, size = 0, FIRST_BATCH
    while lo < k:
        units = order[lo : lo + size]
        fallback = _trivial_start(walker, x[units], y[units], triv)
        seen = order[:lo]
        solved = seen[(state[seen] == FEASIBLE) | (state[seen] == STOPPED)]
        start = _warm_start(
            walker, x[units], y[units], feats[units], feats[solved], facet[solved], fallback
        )
        out = walker.walk(x[units], y[units], start, stop=None if certify else stop)
        score[units], facet[units], basic[units], state[units] = out
        lo, size = lo + size, size * BATCH_GROWTH
    if certify:
        state = _certify(walker, x, y, score, facet, basic, state, feats, triv)
    facet_ids = walker.ids[np.maximum(facet, 0)]
    normal = walker.nrm[np.maximum(facet, 0)]
    valid = (facet >= 0) & (walker.valid[np.maximum(facet, 0)] == VALID)
    score = np.where(state == FAILED, np.nan, score)
    return WalkResult(score, state, facet_ids, basic, normal, valid, dict(walker.counters))


def _certify(walker, x, y, score, facet, basic, state, feats, triv) -> np.ndarray:
    """CERTIFIED where the final basis is optimal; walk the rest again (full ratio test)."""
    reached = state == FEASIBLE
    good = reached & _optimal(walker, x, y, score, facet, basic, reached)
    state = np.where(good, CERTIFIED, FAILED).astype(np.int8)
    redo = np.flatnonzero(~good)
    walker.counters["rewalked"] = len(redo)
    if len(redo) == 0:
        return state
    fallback = _trivial_start(walker, x[redo], y[redo], triv)
    ok = np.flatnonzero(good)
    start = _warm_start(walker, x[redo], y[redo], feats[redo], feats[ok], facet[ok], fallback)
    s, f, b, st = walker.walk(x[redo], y[redo], start)
    score[redo], facet[redo], basic[redo] = s, f, b
    again = np.zeros(len(x), dtype=bool)
    again[redo] = st == FEASIBLE
    state[again & _optimal(walker, x, y, score, facet, basic, again)] = CERTIFIED
    return state


def _optimal(walker, x, y, score, facet, basic, mask) -> np.ndarray:
    """Primal feasibility (residuals), facet validity and equal primal/dual scores."""
    out = np.zeros(len(x), dtype=bool)
    units = np.flatnonzero(mask)
    if len(units) == 0:
        return out
    f = facet[units]
    valid = walker.check(f)
    num, den = walker.bound(x[units], y[units], f)
    dual = num / np.where(den > 0, den, np.nan)
    col, rhs = walker.unit_columns(x[units], y[units])
    w = np.maximum(basic[units], 0.0)
    cols = walker.a[walker.ids[f]]  # (k, R-1, R)
    resid = col * score[units, None] + np.einsum("kj,kjr->kr", w, cols) - rhs
    close = np.abs(score[units] - dual) <= CERT_TOL
    out[units] = valid & close & (np.abs(resid).max(axis=1) <= RESIDUAL_TOL)
    return out


# -- chunks, and the frame --------------------------------------------------------------

FRAME_TOL = 1e-6  # score within this of 1: kept in the frame (as in .frame)
BASE_UNITS = 2048  # a set this small is searched directly, units against themselves
CHUNK_MIN_UNITS = 20_000  # from this many units on, walks run in CHUNKS independent parts
CHUNKS = 2


def serial_map(fn, *iterables) -> list:
    """``map`` that returns a list (the in-process stand-in for a process pool's map)."""
    return list(map(fn, *iterables))


def chunks_of(x: np.ndarray, y: np.ndarray, orientation: str) -> list[np.ndarray]:
    """Split units into CHUNKS spatially coherent parts (by input or output mix).

    Units with similar mixes end on nearby facets, so each part's walk reuses its own
    facets; the split depends only on the data, never on the number of workers.
    """
    k = len(x)
    if k < CHUNK_MIN_UNITS:
        return [np.arange(k)]
    key = _features(x, y, orientation)[:, 0 if orientation == "in" else x.shape[1]]
    order = np.argsort(key, kind="stable")
    return [np.sort(part) for part in np.array_split(order, CHUNKS)]


def walk_chunked(
    x: np.ndarray,
    y: np.ndarray,
    xr: np.ndarray,
    yr: np.ndarray,
    rts: str,
    orientation: str,
    *,
    mapper=serial_map,
    **options,
) -> WalkResult:
    """:func:`walk_scores` over :func:`chunks_of` parts (``mapper`` may be a pool's map)."""
    parts = chunks_of(x, y, orientation)
    if len(parts) == 1:
        return walk_scores(x, y, xr, yr, rts, orientation, **options)
    jobs = [
        (x[p], y[p], xr, yr, rts, orientation, options | {"seed": options.get("seed", 0) + i})
        for i, p in enumerate(parts)
    ]
    results = mapper(_walk_job, jobs)
    return _combine(parts, results, len(x))


def _walk_job(job: tuple) -> WalkResult:
    x, y, xr, yr, rts, orientation, options = job
    return walk_scores(x, y, xr, yr, rts, orientation, **options)


def _combine(parts: list[np.ndarray], results: list[WalkResult], k: int) -> WalkResult:
    first = results[0]
    score = np.full(k, np.nan)
    state = np.full(k, FAILED, dtype=np.int8)
    ids = np.zeros((k, first.facet_ids.shape[1]), dtype=np.int64)
    basic = np.zeros((k, first.basic.shape[1]))
    normal = np.zeros((k, first.normal.shape[1]))
    valid = np.zeros(k, dtype=bool)
    counters: dict = {}
    for part, res in zip(parts, results, strict=True):
        score[part], state[part], ids[part] = res.score, res.state, res.facet_ids
        basic[part], normal[part], valid[part] = res.basic, res.normal, res.valid
        for key, value in res.counters.items():
            counters[key] = counters.get(key, 0) + value
    return WalkResult(score, state, ids, basic, normal, valid, counters)


def frame_search(
    x: np.ndarray,
    y: np.ndarray,
    rts: str,
    orientation: str,
    units: np.ndarray | None = None,
    *,
    seed: int = 0,
    mapper=serial_map,
) -> np.ndarray:
    """Sorted indices of a generating set of the technology of ``units`` (scaled data).

    Every unit with score >= 1 - FRAME_TOL (input; <= 1 + FRAME_TOL output) is in it:
    a unit is left out only with a primal certificate that a convex (conical) combination
    of other units does at least as well with a margin, i.e. it lies inside the
    technology of the rest, so dropping it changes no score, slack or technology.

    Divide and conquer: the frame of a set is the frame of the union of the frames of
    its two (seeded random) halves. A unit kept in a half comes with its proof, a valid
    facet that bounds its score past the margin; at the union the proof still holds when
    no unit of the other half violates the facet, and only the other units are walked
    again. ``mapper`` runs the two halves of the top level and the chunks of its last
    step (e.g. a process pool's ``map``); the result does not depend on it.
    """
    units = np.arange(len(x)) if units is None else np.asarray(units)
    return _search(x, y, rts, orientation, units, seed, mapper)[0]


def _search(x, y, rts, orientation, units, seed, mapper=serial_map, *, top=True):
    """(kept units, sorted; their proof normals, NaN rows where none)."""
    if len(units) <= BASE_UNITS:
        return frame_of(x, y, units, units, rts, orientation, seed=seed)
    half = np.random.default_rng(seed).random(len(units)) < 0.5
    if top:  # the two halves side by side (``mapper``), then their union
        jobs = [
            (x, y, rts, orientation, units[half], 2 * seed + 1),
            (x, y, rts, orientation, units[~half], 2 * seed + 2),
        ]
        (a, proof_a), (b, proof_b) = mapper(_frame_job, jobs)
        proven = np.concatenate(
            [_holds(proof_a, x[b], y[b], rts), _holds(proof_b, x[a], y[a], rts)]
        )
        return _merge(x, y, a, b, proof_a, proof_b, proven, rts, orientation, seed, mapper)
    # one half's frame, then the other half screened against it: only the units that
    # are not certified inside it (few) join the union
    a, proof_a = _search(x, y, rts, orientation, units[half], 2 * seed + 1, top=False)
    rest = np.sort(units[~half])
    b, _ = frame_of(x, y, a, rest, rts, orientation, seed=seed)
    proof_b = np.full((len(b), proof_a.shape[1]), np.nan)
    proven = np.concatenate([_holds(proof_a, x[b], y[b], rts), np.zeros(len(b), dtype=bool)])
    return _merge(x, y, a, b, proof_a, proof_b, proven, rts, orientation, seed, mapper)


def _merge(x, y, a, b, proof_a, proof_b, proven, rts, orientation, seed, mapper):
    """The frame of ``a`` + ``b``; units with a proof that still holds are kept as they are."""
    union = np.concatenate([a, b])
    proofs = np.concatenate([proof_a, proof_b])
    kept, new = frame_of(x, y, union, union[~proven], rts, orientation, seed=seed, mapper=mapper)
    units = np.concatenate([union[proven], kept])
    proofs = np.concatenate([proofs[proven], new])
    order = np.argsort(units)
    return units[order], proofs[order]


def _frame_job(job: tuple):
    x, y, rts, orientation, units, seed = job
    return _search(x, y, rts, orientation, units, seed, top=False)


def _holds(normals: np.ndarray, xp: np.ndarray, yp: np.ndarray, rts: str) -> np.ndarray:
    """Which facets (unit normals; NaN rows never) no point (xp, yp) violates."""
    out = np.zeros(len(normals), dtype=bool)
    has = np.flatnonzero(np.isfinite(normals).all(axis=1))
    if len(xp) == 0:  # nothing can violate them
        out[has] = True
        return out
    m, n = xp.shape[1], yp.shape[1]
    for s in range(0, len(has), NEIGHBOUR_CHUNK):
        part = has[s : s + NEIGHBOUR_CHUNK]
        nrm = normals[part]
        slack = nrm[:, :m] @ xp.T - nrm[:, m : m + n] @ yp.T
        if rts != "crs":
            slack -= nrm[:, -1:]
        out[part] = slack.min(axis=1) >= -VALID_TOL
    return out


def frame_of(
    x: np.ndarray,
    y: np.ndarray,
    units: np.ndarray,
    todo: np.ndarray,
    rts: str,
    orientation: str,
    *,
    seed: int = 0,
    mapper=serial_map,
) -> tuple[np.ndarray, np.ndarray]:
    """Walk ``todo`` against the technology of ``units``: the ones not certified inside.

    Returns the kept units of ``todo`` (sorted) and, aligned with them, the normal of a
    valid facet proving each one's score past the margin (NaN where there is none, e.g.
    a failed walk).
    """
    todo = np.sort(todo)
    inner = 1 - FRAME_TOL if orientation == "in" else 1 + FRAME_TOL
    proofs = np.full((len(todo), x.shape[1] + y.shape[1] + (rts != "crs")), np.nan)
    if len(todo) == 0:
        return np.zeros(0, dtype=np.int64), proofs
    res = walk_chunked(
        x[todo],
        y[todo],
        x[units],
        y[units],
        rts,
        orientation,
        mapper=mapper,
        certify=False,
        stop=inner,
        seed=seed,
    )
    past = res.score >= inner if orientation == "in" else res.score <= inner
    inside = (res.state == FEASIBLE) & ~past
    proven = res.valid & past & ((res.state == FEASIBLE) | (res.state == STOPPED))
    proofs[proven] = res.normal[proven]
    return todo[~inside], proofs[~inside]
