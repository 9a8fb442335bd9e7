"""The free-knot search behind fit_pwl (variable projection on segment moments).

SSR(t) for a knot vector t is the minimum over the node values, solved
exactly from segment moments in O(K log n); its gradient follows from the
envelope theorem: dSSR/dt_j = 2 gamma_j sum_{u > t_j} w^2 r (gamma_j the
slope change at t_j, r the residual). SSR(t) is only piecewise smooth (the
gradient jumps where a knot crosses a data point), so quasi-Newton descent is followed by
a discrete polish that moves single knots to neighbouring data intervals or
anywhere on a grid of bin edges, and then restarts the descent.
"""

from __future__ import annotations

import numpy as np

from . import _lsq

__all__: list[str] = []

_BINS = 256
_ROUNDS = 30
_ITERATIONS = 200


class _Objective:
    """SSR and gradient of a knot vector (scaled units), counting evaluations."""

    def __init__(self, d: _lsq.Data, cons) -> None:
        self.d, self.cons = d, cons
        self.yy = float(d.prefix[-1, 5])
        self.evaluations = 0

    def batch(self, t: np.ndarray) -> np.ndarray:
        """SSR for many sorted knot vectors t (M, K); +yy where the design is singular."""
        self.evaluations += t.shape[0]
        if self.cons is not None:
            return np.array([self.value_and_grad(ti, grad=False)[0] for ti in t])
        diag, off, rhs, empty = _lsq.gram_fast(self.d, t)
        v, ratio = _lsq.solve_tridiagonal(diag, off, rhs)
        with np.errstate(all="ignore"):
            ssr = _lsq.ssr_of(diag, off, rhs, v, self.yy)
        bad = empty | ~(ratio > 1e-12) | ~np.isfinite(ssr)
        return np.where(bad, self.yy * (1 + 1e-6), np.maximum(ssr, 0.0))

    def value_and_grad(self, t: np.ndarray, *, grad: bool = True):
        order = np.argsort(t)
        ts = np.clip(t[order], 1e-12, 1 - 1e-12)
        self.evaluations += 1
        diag, off, rhs, empty = _lsq.gram_fast(self.d, ts[None, :])
        v, ratio = _lsq.solve_tridiagonal(diag, off, rhs)
        if empty[0] or not (ratio[0] > 1e-12) or not np.isfinite(v).all():
            return self.yy * (1 + 1e-6), np.zeros_like(t)
        v = v[0]
        if self.cons is not None:
            a_ub, b_ub, a_eq, b_eq = self.cons.matrices(ts, self.d.y_mean)
            try:
                v = _lsq.lsi(_lsq.dense_gram(diag[0], off[0]), rhs[0], a_ub, b_ub, a_eq, b_eq)
            except (ValueError, np.linalg.LinAlgError):
                return self.yy * (1 + 1e-6), np.zeros_like(t)
        ssr = float(_lsq.ssr_of(diag[0], off[0], rhs[0], v, self.yy))
        if not grad:
            return ssr, None
        g_sorted = self._gradient(ts, v)
        g = np.empty_like(t)
        g[order] = g_sorted
        return ssr, g

    def _gradient(self, ts: np.ndarray, v: np.ndarray) -> np.ndarray:
        d = self.d
        nodes = _lsq.nodes_of(ts[None, :])[0]
        idx = np.searchsorted(d.u, nodes, side="left")
        idx[0], idx[-1] = 0, d.n
        s = d.prefix[idx[1:]] - d.prefix[idx[:-1]]
        b = np.diff(v) / np.diff(nodes)  # slope per interval
        a = v[:-1] - b * nodes[:-1]
        resid = s[:, 3] - a * s[:, 0] - b * s[:, 1]  # sum of w2 r per interval
        tail = np.cumsum(resid[::-1])[::-1]  # sum over the intervals from k on
        gamma = np.diff(b)  # slope change at each interior knot
        return 2.0 * gamma * tail[1:]


def search_knots(d: _lsq.Data, k: int, cons, *, n_starts: int, seed: int):
    """The best knot vector found (scaled, sorted) and the number of SSR evaluations."""
    if k == 0:
        return np.zeros(0), 0
    obj = _Objective(d, cons)
    edges = _bin_edges(d)
    starts = [_dp_start(d, k, edges)]
    rng = np.random.default_rng(seed)
    for _ in range(n_starts):
        jitter = rng.normal(scale=0.5 / (k + 1), size=k)
        starts.append(np.sort(np.clip(starts[0] + jitter, 0.01, 0.99)))
    best_t, best = _optimise(obj, starts[0], edges)
    for t0 in starts[1:]:  # the discrete polish only for starts that beat the best so far
        t, ssr = _lbfgs(obj, t0)
        if ssr < best:
            best_t, best = _optimise(obj, t, edges)
    return best_t, obj.evaluations


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
    s = p[None, :, :] - p[:, None, :]  # s[i, j]: bins i..j-1
    s0, s1, s2, sy, suy, syy = (s[..., c] for c in range(6))
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


def _optimise(obj: _Objective, t0: np.ndarray, edges: np.ndarray):
    """L-BFGS, then discrete relocation of single knots, until nothing improves."""
    t, ssr = _lbfgs(obj, t0)
    u = obj.d.u
    for _ in range(_ROUNDS):
        improved = False
        for j in range(t.size):
            cand = _candidates(u, t[j], edges)
            trial = np.repeat(t[None, :], cand.size, axis=0)
            trial[:, j] = cand
            trial.sort(axis=1)
            keep = (np.diff(trial, axis=1) > 0).all(axis=1)
            if not keep.any():
                continue
            trial = trial[keep]
            values = obj.batch(trial)
            i = int(np.argmin(values))
            if values[i] < ssr * (1 - 1e-12) - 1e-300:
                t, ssr = _lbfgs(obj, trial[i])
                improved = True
        if not improved:
            break
    return t, ssr


def _candidates(u: np.ndarray, tj: float, edges: np.ndarray) -> np.ndarray:
    """Neighbouring data points and midpoints around tj, and every bin edge."""
    i = int(np.searchsorted(u, tj))
    near = u[max(i - 4, 0) : i + 4]
    mids = (near[:-1] + near[1:]) / 2
    cand = np.unique(np.concatenate([near, mids, edges]))
    return cand[(cand > 0) & (cand < 1)]


def _lbfgs(obj: _Objective, t0: np.ndarray):
    """Projected quasi-Newton descent on the knots (BFGS with Armijo backtracking).

    Written out because the knot vectors are short: scipy's L-BFGS-B spends
    about a millisecond per iteration in bookkeeping, more than an SSR costs.
    Without an exact gradient (knot-dependent constraints) it takes central
    differences.
    """
    lo, hi = 1e-9, 1 - 1e-9
    t = np.clip(np.sort(t0), lo, hi)
    f, g = _value_grad(obj, t)
    h = np.eye(t.size) * (0.1 / max(np.linalg.norm(g), 1e-300))
    for _ in range(_ITERATIONS):
        step = -h @ g
        if g @ step >= 0:  # not a descent direction: restart from steepest descent
            h = np.eye(t.size) * (0.1 / max(np.linalg.norm(g), 1e-300))
            step = -h @ g
        alpha, accepted = 1.0, False
        while alpha > 1e-10:
            trial = np.clip(t + alpha * step, lo, hi)
            if (np.diff(np.sort(trial)) > 0).all():
                f_new, g_new = _value_grad(obj, trial)
                if f_new <= f + 1e-4 * (g @ (trial - t)):
                    accepted = True
                    break
            alpha *= 0.5
        if not accepted or f - f_new <= 1e-15 * max(f, 1e-300):
            if accepted and f_new < f:
                t, f = trial, f_new
            break
        s_vec, y_vec = trial - t, g_new - g
        t, f, g = trial, f_new, g_new
        sy = s_vec @ y_vec
        if sy > 1e-300:  # BFGS update of the inverse Hessian
            rho = 1.0 / sy
            v = np.eye(t.size) - rho * np.outer(s_vec, y_vec)
            h = v @ h @ v.T + rho * np.outer(s_vec, s_vec)
    order = np.argsort(t)
    return t[order], f


def _value_grad(obj: _Objective, t: np.ndarray):
    if obj.cons is None or obj.cons.knot_independent:
        return obj.value_and_grad(t)
    f = obj.value_and_grad(t, grad=False)[0]
    g = np.empty_like(t)
    for j in range(t.size):  # central differences, one data interval wide at most
        e = np.zeros_like(t)
        e[j] = 1e-7
        g[j] = (
            obj.value_and_grad(t + e, grad=False)[0] - obj.value_and_grad(t - e, grad=False)[0]
        ) / 2e-7
    return f, g
