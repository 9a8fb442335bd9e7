"""The free-knot search behind fit_pwl (variable projection on segment moments).

SSR(t) for a knot vector t is the minimum over the node values, solved
exactly from segment moments in O(K log n); its gradient follows from the
envelope theorem: dSSR/dt_j = 2 gamma_j sum_{u > t_j} w^2 r (gamma_j the
slope change at t_j, r the residual). The starts (a dynamic program on
binned data and ``n_starts`` perturbations of it) descend together by a
batched quasi-Newton method, every evaluation vectorised over the starts.
SSR(t) is only piecewise smooth (the gradient jumps where a knot crosses a
data point), so BFGS creeps once it nears a cell's optimum (a cell: which
data points lie left of each knot); a creeping start jumps to that optimum,
found exactly by line fits (:func:`_cell_optima`). A discrete polish then
moves single knots to neighbouring data intervals or anywhere on a grid of
bin edges and descends again from the best moves whose cells can still
beat the best SSR (:func:`_cell_floor`), until nothing improves."""

from __future__ import annotations

import numpy as np

from . import _lsq

__all__: list[str] = []

_BINS = 256
_ROUNDS = 30
_ITERATIONS = 200
_CREEP = 1e-5  # a row whose SSR fell by less than this (relative) tries its cell's optimum
_GAIN = 1e-10  # a polish round must lower the SSR by more than this (relative) to go on
_ALPHAS = np.array([1.0, 0.5, 0.25, 0.1, 0.03, 0.01, 3e-3, 1e-3, 3e-4, 1e-4])


class _Objective:
    """SSR and gradient of knot vectors (scaled units), counting evaluations."""

    def __init__(self, d: _lsq.Data, cons) -> None:
        self.d, self.cons = d, cons
        self.yy = float(d.prefix[-1, 5])
        self.evaluations = 0

    @property
    def failed(self) -> float:
        """The value given to a knot vector whose design is singular: above any real SSR."""
        return self.yy * (1 + 1e-6)

    def batch(self, t: np.ndarray) -> np.ndarray:
        """SSR for many knot vectors t (M, K)."""
        return self.values_and_grads(t, grad=False)[0]

    def values_and_grads(self, t: np.ndarray, *, grad: bool = True):
        """SSR (M,) and, with ``grad``, its gradient (M, K) for knot vectors t (M, K).

        Singular designs get :attr:`failed` and a zero gradient.
        """
        if self.cons is not None:
            out = [self._constrained(ti, grad) for ti in t]
            return np.array([f for f, _ in out]), np.array([g for _, g in out]) if grad else None
        self.evaluations += t.shape[0]
        ordered = bool((t[:, 1:] >= t[:, :-1]).all())  # the usual case: no reordering
        order = None if ordered else np.argsort(t, axis=1)
        ts = np.clip(t if ordered else np.take_along_axis(t, order, axis=1), 1e-12, 1 - 1e-12)
        parts = _lsq.intervals(self.d, ts)
        diag, off, rhs, empty = _lsq.gram_fast(self.d, ts, parts)
        v, ratio = _lsq.solve_tridiagonal(diag, off, rhs)
        with np.errstate(all="ignore"):
            ssr = _lsq.ssr_of(diag, off, rhs, v, self.yy)
        bad = empty | ~(ratio > 1e-12) | ~np.isfinite(ssr)
        ssr = np.where(bad, self.failed, np.maximum(ssr, 0.0))
        if not grad:
            return ssr, None
        with np.errstate(all="ignore"):
            g_sorted = np.where(bad[:, None], 0.0, self._gradients(ts, v, parts))
        if ordered:
            return ssr, g_sorted
        g = np.empty_like(t)
        np.put_along_axis(g, order, g_sorted, axis=1)
        return ssr, g

    def _constrained(self, t: np.ndarray, grad: bool):
        """SSR and gradient of one knot vector under constraints.

        Constraints that do not move with the knots keep the envelope
        theorem's gradient; others take central differences.
        """
        order = np.argsort(t)
        ts = np.clip(t[order], 1e-12, 1 - 1e-12)
        f, v = self._constrained_fit(ts)
        if not grad:
            return f, None
        if v is None:
            return f, np.zeros_like(t)
        g = np.empty_like(t)
        if self.cons.knot_independent:
            g[order] = self._gradients(ts[None], v[None])[0]
            return f, g
        for j in range(t.size):  # central differences, one data interval wide at most
            e = np.zeros_like(t)
            e[j] = 1e-7
            g[j] = (self._constrained(t + e, False)[0] - self._constrained(t - e, False)[0]) / 2e-7
        return f, g

    def _constrained_fit(self, ts: np.ndarray):
        """(SSR, node values) of the constrained fit at sorted knots ts; (failed, None)."""
        self.evaluations += 1
        diag, off, rhs, empty = _lsq.gram_fast(self.d, ts[None, :])
        v, ratio = _lsq.solve_tridiagonal(diag, off, rhs)
        if empty[0] or not (ratio[0] > 1e-12) or not np.isfinite(v).all():
            return self.failed, None
        try:
            v = self.cons.solve(diag[0], off[0], rhs[0], ts, self.d.y_mean)
        except (ValueError, np.linalg.LinAlgError):
            return self.failed, None
        return float(_lsq.ssr_of(diag[0], off[0], rhs[0], v, self.yy)), v

    def _gradients(self, ts: np.ndarray, v: np.ndarray, parts: tuple | None = None) -> np.ndarray:
        """dSSR/dt for sorted knots ts (M, K) with node values v (M, K + 2)."""
        nodes, _, s = _lsq.intervals(self.d, ts) if parts is None else parts
        b = np.diff(v, axis=1) / np.diff(nodes, axis=1)  # slope per interval
        a = v[:, :-1] - b * nodes[:, :-1]
        resid = s[..., 3] - a * s[..., 0] - b * s[..., 1]  # sum of w2 r per interval
        tail = np.cumsum(resid[:, ::-1], axis=1)[:, ::-1]  # sum over the intervals from k on
        gamma = np.diff(b, axis=1)  # slope change at each interior knot
        return 2.0 * gamma * tail[:, 1:]


def search_knots(
    d: _lsq.Data,
    k: int,
    cons,
    *,
    n_starts: int,
    seed: int,
    starts=None,
    edges=None,
    with_ends=False,
):
    """The best knot vector found (scaled, sorted) and the number of SSR evaluations.

    The out-of-core fit, whose data are partly pseudo-points, passes ``starts`` (M, k),
    knot vectors descended from besides the search's own, and ``edges``, the equal-count
    bin edges of the full data (default: those of ``d``); with ``with_ends`` it gets a third
    item, the end of every start's descent and polish (M', k): local optima of ``d``
    whose neighbourhoods it reads in full.
    """
    if k == 0:
        return (np.zeros(0), 0, np.zeros((0, 0))) if with_ends else (np.zeros(0), 0)
    obj = _Objective(d, cons)
    edges = _bin_edges(d) if edges is None else edges
    first = _dp_start(d, k, edges[1::2])  # 128 bins: a quarter of the cost, starts as good
    rng = np.random.default_rng(seed)
    jitter = rng.normal(scale=0.5 / (k + 1), size=(n_starts, k))
    own = np.vstack([first, np.sort(np.clip(first + jitter, 0.01, 0.99), axis=1)])
    extra = np.zeros((0, k)) if starts is None else np.sort(np.asarray(starts, float), axis=1)
    ends, values = _descend(obj, np.vstack([own, extra]))  # all starts at once
    best_t, best = None, np.inf
    for i in np.argsort(values, kind="stable"):  # polish a start only if it beats the best
        if values[i] < best:
            best_t, best = _polish(obj, ends[i], values[i], edges)
            ends[i] = best_t
    best_t = _settle(obj, best_t, best)
    return (best_t, obj.evaluations, ends) if with_ends else (best_t, obj.evaluations)


def _settle(obj: _Objective, t: np.ndarray, ssr: float) -> np.ndarray:
    """The exact optimum of the cell of t when it lies inside the cell and is no worse.

    BFGS may stop a few ulps of SSR short of it, with knots off by up to 1e-7
    relative (SSR is quadratic there); the cell's optimum is line fits' meeting points.
    """
    if obj.cons is not None:
        return t
    props, side = _cell_optima(obj.d, t[None, :])
    if np.isnan(props).any() or (side != 0).any():
        return t
    return props[0] if obj.batch(props)[0] <= ssr + 1e-12 * obj.yy else t  # yy: its rounding


def _bin_edges(d: _lsq.Data) -> np.ndarray:
    """Equal-count bin boundaries strictly inside (0, 1): candidate knot positions."""
    q = np.unique(d.u[np.linspace(0, d.n - 1, min(_BINS, d.n) + 1).astype(int)[1:-1]])
    return q[(q > 0) & (q < 1)]


def _dp_start(d: _lsq.Data, k: int, edges: np.ndarray) -> np.ndarray:
    """Breakpoints of the best discontinuous (k + 1)-segment line fit on binned data."""
    cuts = np.concatenate([[0.0], edges, [1.0 + 1e-12]])
    idx = np.searchsorted(d.u, cuts, side="left")
    idx[-1] = d.n
    p = d.prefix[idx]  # (B + 1, 6)
    # s[i, j]: bins i..j-1, one contiguous matrix per moment
    s0, s1, s2, sy, suy, syy = (col[None, :] - col[:, None] for col in p.T)
    with np.errstate(all="ignore"):
        det = s0 * s2 - s1 * s1
        fit = (s2 * sy * sy - 2 * s1 * sy * suy + s0 * suy * suy) / det
        cost = np.where(det > 1e-14 * np.maximum(s0 * s2, 1e-300), syy - fit, syy - sy * sy / s0)
    cost = np.where(np.isfinite(cost), np.maximum(cost, 0.0), np.inf)
    nb = cuts.size - 1
    cost[np.tril_indices(nb + 1)] = np.inf
    best = cost[0].copy()  # one segment ending at each cut
    back = []
    for _ in range(k):
        total = best[:, None] + cost
        arg = np.argmin(total, axis=0)
        best = total[arg, np.arange(nb + 1)]
        back.append(arg)
    j, breaks = nb, []
    for arg in reversed(back):
        j = int(arg[j])
        breaks.append(cuts[j])
    t = np.sort(np.array(breaks))
    if np.unique(t).size < k or not np.all((t > 0) & (t < 1)):
        t = np.linspace(0, 1, k + 2)[1:-1]
    return t


def _polish(obj: _Objective, t: np.ndarray, ssr: float, edges: np.ndarray):
    """Move single knots to other data intervals and descend again, until nothing improves.

    Every single-knot move to a candidate position (:func:`_candidates`) is
    evaluated in one batch; the best two moves of each knot, and every move
    that lowers the SSR by itself, are the starts of one batched descent. A
    move into a neighbouring data interval rarely lowers the SSR before the
    other knots adjust, hence descending from the best moves of every knot.
    """
    u, k = obj.d.u, t.size
    if obj.cons is not None:  # one solve per candidate: neighbouring intervals only
        edges = edges[:0]
    for _ in range(_ROUNDS):
        trials, owner = [], []
        for j in range(k):
            cand = _candidates(u, t[j], edges)
            trial = np.repeat(t[None, :], cand.size, axis=0)
            trial[:, j] = cand
            trials.append(trial)
            owner.append(np.full(cand.size, j))
        trial, owner = np.vstack(trials), np.concatenate(owner)
        trial.sort(axis=1)
        keep = (np.diff(trial, axis=1) > 0).all(axis=1)
        trial, owner = trial[keep], owner[keep]
        values = obj.batch(trial)
        order = np.argsort(values, kind="stable")
        chosen = np.zeros(values.size, bool)
        for j in range(k):
            chosen[order[owner[order] == j][:2]] = True
        chosen[order[: 2 * k]] |= values[order[: 2 * k]] < ssr
        if obj.cons is None:  # skip the moves into cells that cannot beat ssr
            chosen &= _cell_floor(obj.d, trial) < ssr * (1 - _GAIN)
            if not chosen.any():
                break
        ends, end_values = _descend(obj, trial[chosen])
        i = int(np.argmin(end_values))
        if not end_values[i] < ssr * (1 - _GAIN) - 1e-300:
            break
        t, ssr = ends[i], float(end_values[i])
    return t, ssr


def _candidates(u: np.ndarray, tj: float, edges: np.ndarray) -> np.ndarray:
    """Neighbouring data points and midpoints around tj, and every bin edge."""
    i = int(np.searchsorted(u, tj))
    near = u[max(i - 4, 0) : i + 4]
    mids = (near[:-1] + near[1:]) / 2
    cand = np.unique(np.concatenate([near, mids, edges]))
    return cand[(cand > 0) & (cand < 1)]


def _descend(obj: _Objective, t0: np.ndarray):
    """Projected BFGS with Armijo backtracking from each row of t0 (M, K), all in step.

    Written out because the knot vectors are short: scipy's L-BFGS-B spends
    about a millisecond per iteration in bookkeeping, more than an SSR costs,
    and runs one start at a time; here every evaluation is batched over the
    starts still descending. A row whose SSR falls by less than ``_CREEP``
    (relative) in a step tries the optimum of its cell with the next line
    search, and stops there if it is lower. Returns the sorted end points
    (M, K) and SSRs (M,).
    """
    lo, hi = 1e-9, 1 - 1e-9
    t = np.clip(np.sort(t0, axis=1), lo, hi)
    f, g = obj.values_and_grads(t)
    eye = np.eye(t.shape[1])

    def steepest(gi: np.ndarray) -> np.ndarray:
        scale = 0.1 / np.maximum(np.linalg.norm(gi, axis=1), 1e-300)
        return eye * scale[:, None, None]

    h = steepest(g)
    live = np.arange(t.shape[0])
    alive = np.ones(t.shape[0], bool)
    tried = np.full(t.shape, -1)  # the cell of each row's last jump
    jump_rows, jumps, side = live[:0], t[:0], t[:0]  # cell optima for the next line search
    for _ in range(_ITERATIONS):
        if not live.size:
            break
        step = -np.einsum("mij,mj->mi", h[live], g[live])
        uphill = np.einsum("mi,mi->m", g[live], step) >= 0  # restart from steepest descent
        if uphill.any():
            h[live[uphill]] = steepest(g[live[uphill]])
            step[uphill] = -np.einsum("mij,mj->mi", h[live[uphill]], g[live[uphill]])
        nudged = np.where(side < 0, np.nextafter(jumps, 1.0), jumps)  # just inside the cell
        trial, f_new, g_new, ok, f_jump, g_jump = _backtrack(
            obj, t[live], f[live], g[live], step, lo, hi, np.concatenate([jumps, nudged])
        )
        f_jump, g_jump, g_inside = f_jump[: jumps.shape[0]], *np.split(g_jump, 2)
        gain = f[live] - f_new
        move = ok & (gain > 0)
        stop = ~ok | (gain <= 1e-15 * np.maximum(f[live], 1e-300))
        s_vec, y_vec = trial - t[live], g_new - g[live]
        rows = live[move]
        t[rows], f[rows], g[rows] = trial[move], f_new[move], g_new[move]
        update = ~stop
        sy = np.einsum("mi,mi->m", s_vec, y_vec)
        update &= sy > 1e-300
        if update.any():  # BFGS update of the inverse Hessian
            rho = 1.0 / sy[update]
            v = eye - rho[:, None, None] * np.einsum("mi,mj->mij", s_vec[update], y_vec[update])
            hv = np.einsum("mij,mkj->mik", h[live[update]], v)
            h[live[update]] = np.einsum("mij,mjk->mik", v, hv) + rho[:, None, None] * np.einsum(
                "mi,mj->mij", s_vec[update], s_vec[update]
            )
        # A row jumps to its cell's optimum when that is lower, and stops there when it
        # is a local minimum over the cell (the polish then tries the neighbouring
        # cells): BFGS would creep there for a dozen iterations. A knot pinned to the
        # lower end of its gap must not gain by moving in (the one-sided derivative
        # just inside, >= 0), one pinned to the upper end likewise (<= 0).
        tol = 1e-12 * f[jump_rows, None]
        minimum = ((side >= 0) | (g_inside >= -tol)) & ((side <= 0) | (g_jump <= tol))
        done = f_jump <= f[jump_rows]
        landed = jump_rows[done]
        t[landed], f[landed], g[landed] = jumps[done], f_jump[done], g_jump[done]
        settled = done & minimum.all(axis=1)
        h[jump_rows[done & ~settled]] = steepest(g_jump[done & ~settled])
        creeping = live[~stop & (gain <= _CREEP * f[live])]
        alive[live[stop]] = alive[jump_rows[settled]] = False
        live = np.flatnonzero(alive)
        jump_rows, jumps, side = _jumps(obj, t, creeping[alive[creeping]], tried)
    return np.sort(t, axis=1), f


def _jumps(obj: _Objective, t: np.ndarray, rows: np.ndarray, tried: np.ndarray) -> tuple:
    """The rows with a cell optimum (:func:`_cell_optima`) not tried before, the optima
    and their knots' pins."""
    if obj.cons is not None or not rows.size:
        return rows[:0], t[:0], t[:0]
    ts = np.sort(t[rows], axis=1)
    cells = np.searchsorted(obj.d.u, ts)
    fresh = (cells != tried[rows]).any(axis=1)  # a cell tried once gives the same again
    tried[rows] = cells
    rows, (props, side) = rows[fresh], _cell_optima(obj.d, ts[fresh])
    found = ~np.isnan(props).any(axis=1)
    return rows[found], props[found], side[found]


def _segments(d: _lsq.Data, ts: np.ndarray):
    """Segments of sorted knot vectors ts (M, K): (knot cut indices, segment cuts, left ends,
    moments (w2, w2 v, w2 v^2, w2 y, w2 v y, w2 y^2) about the left ends, v = u - left).

    Moments are taken about each segment's left end to keep digits.
    """
    idx = np.searchsorted(d.u, ts, side="left")
    cuts = np.concatenate([np.zeros_like(idx[:, :1]), idx, np.full_like(idx[:, :1], d.n)], axis=1)
    s = d.prefix[cuts[:, 1:]] - d.prefix[cuts[:, :-1]]
    left = _lsq.nodes_of(ts)[:, :-1]
    s0, s1, sy = s[..., 0], s[..., 1], s[..., 3]
    m1 = s1 - left * s0
    m2 = s[..., 2] - 2 * left * s1 + left * left * s0
    my = s[..., 4] - left * sy
    return idx, cuts, left, (s0, m1, m2, sy, my, s[..., 5])


def _cell_floor(d: _lsq.Data, ts: np.ndarray) -> np.ndarray:
    """A lower bound (M,) of the SSR anywhere in the cell of each sorted knot vector.

    The SSR of separate line fits on the segments: a continuous fit in the
    cell is one of them.
    """
    _, _, _, (s0, m1, m2, sy, my, syy) = _segments(d, ts)
    with np.errstate(all="ignore"):
        det = s0 * m2 - m1 * m1
        line = syy - (m2 * sy * sy - 2 * m1 * sy * my + s0 * my * my) / det
        flat = syy - sy * sy / s0  # one distinct x (or none): a line through the mean
    per = np.where(det > 1e-14 * s0 * m2, line, np.where(s0 > 0, flat, 0.0))
    return np.maximum(per, 0.0).sum(axis=1)


def _cell_optima(d: _lsq.Data, ts: np.ndarray) -> tuple:
    """Knots (M, K) near the optimum of the cell of each sorted knot vector (nan where none
    was found), and each knot's pin (M, K): 0 free, -1 or 1 pinned to its gap's lower or
    upper end.

    A cell fixes which data points lie left of each knot. Inside it, the
    continuous fit with free knots is a fit of one line per segment whose
    neighbours meet inside the gaps between the data points (2K + 2
    parameters either way): when separate line fits meet inside those gaps,
    their meeting points are the cell's exact optimum (the separate fits
    are the best of a larger family). A meeting point outside its gap puts
    the optimum on the cell's boundary, some knot on a gap's end (a data
    point, where SSR(t) has a kink). Then the knots that leave their gaps
    are pinned to the end they left by, their two lines made to meet there
    (an equality constraint), and the lines fitted again until no free knot
    leaves its gap (an active set, at most K + 1 batched KKT solves): a
    point of the cell's boundary, often but not always its optimum (the
    optimum may pin knots at their other ends).
    """
    m, k = ts.shape
    nseg = k + 1
    idx, cuts, left, (s0, m1, m2, sy, my, _) = _segments(d, ts)
    below = d.u[np.maximum(idx - 1, 0)]
    above = d.u[np.minimum(idx, d.n - 1)]
    ok = (np.diff(cuts, axis=1) >= 2).all(axis=1) & (s0 * m2 - m1 * m1 > 1e-14 * s0 * m2).all(1)
    size = 2 * nseg + k
    kkt = np.zeros((m, size, size))
    rhs = np.zeros((m, size))
    seg = np.arange(nseg)
    kkt[:, 2 * seg, 2 * seg], kkt[:, 2 * seg + 1, 2 * seg + 1] = s0, m2
    kkt[:, 2 * seg, 2 * seg + 1] = kkt[:, 2 * seg + 1, 2 * seg] = m1
    rhs[:, 0 : 2 * nseg : 2], rhs[:, 1 : 2 * nseg : 2] = sy, my
    lam = 2 * nseg + np.arange(k)
    kkt[:, lam, lam] = 1.0  # free knots: multiplier 0
    pin = np.full((m, k), np.nan)
    out = np.full((m, k), np.nan)
    active = ok.copy()
    for _ in range(k + 1):
        rows = np.flatnonzero(active)
        if not rows.size:
            break
        try:
            sol = np.linalg.solve(kkt[rows], rhs[rows][..., None])[..., 0]
        except np.linalg.LinAlgError:  # some pinned system is singular: give up on all
            break
        with np.errstate(all="ignore"):
            a, b = sol[:, 0 : 2 * nseg : 2], sol[:, 1 : 2 * nseg : 2]
            lr = left[rows]
            meet = (a[:, 1:] - a[:, :-1] - b[:, 1:] * lr[:, 1:] + b[:, :-1] * lr[:, :-1]) / (
                b[:, :-1] - b[:, 1:]
            )
        meet = np.where(np.isnan(pin[rows]), meet, pin[rows])
        lo_, hi_ = below[rows], above[rows]
        leaves = ~((meet > lo_) & (meet < hi_)) & np.isnan(pin[rows])
        settled = ~leaves.any(axis=1) & (np.diff(meet, axis=1) > 0).all(axis=1)
        out[rows[settled]] = meet[settled]
        active[rows[settled]] = False
        r, j = np.nonzero(leaves & np.isfinite(meet))
        where = np.where(meet[r, j] <= lo_[r, j], lo_[r, j], hi_[r, j])
        rr = rows[r]
        pin[rr, j] = where
        # the pinned knot's constraint row: line j and line j + 1 agree at the pin
        kkt[rr, lam[j], lam[j]] = 0.0
        for col, val in (
            (2 * j, 1.0),
            (2 * j + 1, where - left[rr, j]),
            (2 * j + 2, -1.0),
            (2 * j + 3, -(where - left[rr, j + 1])),
        ):
            kkt[rr, lam[j], col] = kkt[rr, col, lam[j]] = val
        stuck = rows[(leaves & ~np.isfinite(meet)).any(axis=1)]
        active[stuck] = False
    side = np.where(np.isnan(pin), 0.0, np.where(pin == below, -1.0, 1.0))
    return out, side


def _backtrack(obj: _Objective, t, f, g, step, lo, hi, extra):
    """A line search for every row at once: (trial, f, g, accepted) per row, then the
    SSR and gradient of the knot vectors ``extra``, evaluated in the same call.

    The step lengths :data:`_ALPHAS` are tried in chunks, and a row takes
    the longest length of the first chunk that satisfies Armijo's condition.
    Without constraints an evaluation costs little beside the per-call
    overhead, so one chunk holds every length and one batched call replaces
    a backtracking loop (2-3x fewer calls per fit); near a kink, where the
    gradient jumps, the short steps that still descend are among them. With
    constraints every knot vector is one solve: plain backtracking.
    """
    m = t.shape[0]
    f_extra, g_extra = np.zeros(0), np.zeros((0, t.shape[1]))
    chunk = _ALPHAS.size if obj.cons is None else 1
    trial, f_new, g_new = t.copy(), f.copy(), g.copy()
    ok = np.zeros(m, bool)
    for first in range(0, _ALPHAS.size, chunk):
        rows = np.flatnonzero(~ok)
        alphas = _ALPHAS[first : first + chunk]
        cand = np.clip(t[rows, None, :] + alphas[None, :, None] * step[rows, None, :], lo, hi)
        distinct = (np.diff(np.sort(cand, axis=2), axis=2) > 0).all(axis=2)
        fc = np.full(distinct.shape, np.inf)
        gc = np.zeros(cand.shape)
        pts = np.concatenate([cand[distinct], extra])
        if pts.shape[0]:
            f_all, g_all = obj.values_and_grads(pts)
            n_c = pts.shape[0] - extra.shape[0]
            fc[distinct], gc[distinct] = f_all[:n_c], g_all[:n_c]
            f_extra, g_extra = f_all[n_c:], g_all[n_c:]
            extra = extra[:0]
        decrease = np.einsum("mi,mai->ma", g[rows], cand - t[rows, None, :])
        armijo = fc <= f[rows, None] + 1e-4 * decrease
        best = np.argmax(armijo, axis=1)  # the longest step that satisfies it
        done = armijo.any(axis=1)
        r, b = rows[done], best[done]
        trial[r], f_new[r], g_new[r] = cand[done, b], fc[done, b], gc[done, b]
        ok[r] = True
        if ok.all():
            break
    return trial, f_new, g_new, ok, f_extra, g_extra
