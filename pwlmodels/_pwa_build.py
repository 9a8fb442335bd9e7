"""The geometry behind PiecewiseAffine (pwa.py): input checks, the checks of
``from_regions``, pieces, merging for ``simplify``, intersections for ``restrict`` and
``allclose`` (triangulations and point location are in ``_pwa_locate``).

numpy/scipy only. Regions travel as parallel lists: ``polys`` (Polytope), ``units``
(rows scaled to unit norm, so slacks are distances) and ``verts`` (vertex arrays).
Distances are compared with ``h`` (see ``geometric_tol``), function values with
``vtol`` (see ``value_scale``).
"""

from __future__ import annotations

import numpy as np

from ._geometry import (
    Polytope,
    chebyshev,
    cut,
    flat,
    hull_volume,
    is_bounded,
    seed_vertices,
    unique_points,
    unit_rows,
)
from ._validate import as_float_array, check_finite

__all__: list[str] = []

_EPS = float(np.finfo(np.float64).eps)


# ------------------------------------------------------------------ scales
def geometric_tol(lower: np.ndarray, upper: np.ndarray, tol: float) -> float:
    """Distances below ``tol`` x the bounding box's diagonal (plus a rounding margin of
    64 eps x the largest coordinate) count as zero."""
    size = float(np.linalg.norm(upper - lower))
    far = float(max(np.abs(lower).max(), np.abs(upper).max()))
    return tol * size + 64 * _EPS * far


def value_scale(K: np.ndarray, c: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """The size of the terms of ``K x + c`` over the bounding box: max |K| |x| + |c|."""
    far = np.maximum(np.abs(lower), np.abs(upper))
    return float((np.abs(K) @ far + np.abs(c)).max(initial=0.0))


MAX_SCALE = 1e300  # larger maps leave no headroom for differences and sums of terms


def checked_scale(K, c, lower, upper, source: str) -> float:
    """``value_scale``, refused (a ValueError naming ``source``) when it is not finite or
    above ``MAX_SCALE``: maps that overflow float64 have no tolerances or networks."""
    with np.errstate(all="ignore"):
        scale = value_scale(K, c, lower, upper)
    if not scale <= MAX_SCALE:  # also NaN
        raise ValueError(
            f"{source} must give maps whose terms |K| |x| + |c| stay below {MAX_SCALE:.0e} "
            f"on the domain; got {scale:.3g} (overflow): rescale the values or the inputs"
        )
    return scale


def affine_rank(p: np.ndarray, h: float) -> int:
    """The dimension of the affine hull of points, spreads below ``h`` ignored."""
    if len(p) <= 1:
        return 0
    return int((np.linalg.svd(p - p[0], compute_uv=False) > h).sum())


# ------------------------------------------------------------- input
def interval(a: float, b: float) -> Polytope:
    return seed_vertices(Polytope([[1.0], [-1.0]], [b, -a]), np.array([[a], [b]]))


def parse_regions(regions: object) -> tuple[list, np.ndarray, np.ndarray]:
    """Polytopes, K (n, m, d) and c (n, m) from ``(A, b, K, c)`` / ``(Polytope, K, c)``."""
    if isinstance(regions, (str, bytes, np.ndarray)) or not hasattr(regions, "__iter__"):
        raise TypeError(
            f"`regions` must be an iterable of tuples (A, b, K, c) or (Polytope, K, c); "
            f"got {type(regions).__name__}"
        )
    polys, Ks, cs = [], [], []
    for i, item in enumerate(regions):
        name = f"regions[{i}]"
        if not isinstance(item, (tuple, list)) or len(item) not in (3, 4):
            size = f" of length {len(item)}" if isinstance(item, (tuple, list)) else ""
            raise TypeError(
                f"`{name}` must be a tuple (A, b, K, c) or (Polytope, K, c); "
                f"got {type(item).__name__}{size}"
            )
        if len(item) == 3:
            poly, k, c = item
            if not isinstance(poly, Polytope):
                raise TypeError(
                    f"`{name}` has 3 entries, so it must be (Polytope, K, c); got a "
                    f"{type(poly).__name__} first (give (A, b, K, c) for inequalities)"
                )
        else:
            a, b, k, c = item
            a, b = as_float_array(a, f"{name}.A"), as_float_array(b, f"{name}.b")
            if a.ndim != 2 or b.shape != (len(a),) or a.shape[1] == 0:
                raise ValueError(
                    f"`{name}.A` must have shape (k, d) and `{name}.b` shape (k,); "
                    f"got {a.shape} and {b.shape}"
                )
            check_finite(a, f"{name}.A")
            check_finite(b, f"{name}.b")
            # rows far from unit size scaled by a power of two (exact): the geometry's
            # squares would overflow (rows of 1e150) or underflow (1e-200)
            e = np.frexp(np.abs(a).max(axis=1, initial=0.0))[1]
            e = np.where(np.abs(e) > 100, e, 0)
            poly = Polytope(np.ldexp(a, -e[:, None]), np.ldexp(b, -e))
        k, c = as_float_array(k, f"{name}.K"), as_float_array(c, f"{name}.c")
        k, c = (k[None, :] if k.ndim == 1 else k), c.reshape(-1) if c.ndim == 0 else c
        d, m = (poly.A_ub.shape[1], k.shape[0]) if not polys else (Ks[0].shape[1], Ks[0].shape[0])
        if poly.A_ub.shape[1] != d:
            raise ValueError(f"`{name}` has {poly.A_ub.shape[1]} inputs; regions[0] has {d}")
        if k.shape != (m, d) or c.shape != (m,):
            raise ValueError(
                f"`{name}.K` must have shape ({m}, {d}) and `{name}.c` shape ({m},); "
                f"got {k.shape} and {c.shape}"
            )
        check_finite(k, f"{name}.K")
        check_finite(c, f"{name}.c")
        polys.append(poly)
        Ks.append(k)
        cs.append(c)
    if not polys:
        raise ValueError("`regions` must hold at least one region; got none")
    return polys, np.array(Ks), np.array(cs)


def as_points_values(points: object, values: object) -> tuple:
    """Checked float64 points (N, d) and values (N, m) for from_triangulation, and the
    lexicographic order of the points."""
    pts = as_float_array(points, "points")
    if pts.ndim == 1:
        pts = pts[:, None]
    if pts.ndim != 2 or pts.shape[1] == 0:
        raise ValueError(f"`points` must have shape (N, d) or (N,); got {pts.shape}")
    check_finite(pts, "points")
    n, d = pts.shape
    vals = as_float_array(values, "values")
    check_finite(vals, "values")
    vals = vals[:, None] if vals.ndim == 1 else vals
    if vals.ndim != 2 or len(vals) != n or vals.shape[1] == 0:
        raise ValueError(
            f"`values` must have shape ({n},) or ({n}, m), one row per point; "
            f"got {np.shape(values)}"
        )
    if n < d + 1:
        raise ValueError(
            f"`points` must hold at least d + 1 = {d + 1} points in {d} dimensions; got {n}"
        )
    order = np.lexsort(pts.T[::-1])
    same = np.all(pts[order[1:]] == pts[order[:-1]], axis=1)
    if same.any():
        i, j = sorted(int(k) for k in order[[np.argmax(same), np.argmax(same) + 1]])
        raise ValueError(
            f"`points` must be distinct; got points[{i}] = points[{j}] = {pts[i].tolist()}"
        )
    spread = np.linalg.svd(pts - pts.mean(axis=0), compute_uv=False)
    rank = int((spread > 1e-12 * spread[0]).sum()) if spread[0] > 0 else 0
    if rank < d:
        raise ValueError(
            f"`points` must not all lie on one hyperplane; they span {rank} of {d} dimensions"
        )
    return pts, vals, order


def as_box(lower: object, upper: object, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Finite bounds of shape (d,) (numbers broadcast) with lower < upper."""
    box = []
    for name, bound in (("lower", lower), ("upper", upper)):
        arr = as_float_array(bound, name)
        if arr.shape not in ((), (d,)):
            raise ValueError(f"`{name}` must be a number or have shape ({d},); got {arr.shape}")
        check_finite(arr, name)
        box.append(np.broadcast_to(arr, (d,)).astype(np.float64))
    lo, hi = box
    if (lo >= hi).any():
        i = int(np.argmax(lo >= hi))
        raise ValueError(
            f"`lower` must be less than `upper`; got lower[{i}] = {float(lo[i])!r} "
            f">= upper[{i}] = {float(hi[i])!r}"
        )
    return lo, hi


def check_each(polys: list) -> None:
    """Each region non-empty, bounded, and not flat (vertices computed)."""
    for i, p in enumerate(polys):
        radius = p.chebyshev_center()[1]
        if radius == -np.inf:
            raise ValueError(f"`regions[{i}]` is empty: no x satisfies A x <= b")
        if radius == np.inf or not is_bounded(p.A_ub):
            raise ValueError(f"`regions[{i}]` is unbounded; every region must be bounded")
        if radius <= flat(p.chebyshev_center()[0]):
            raise ValueError(f"`regions[{i}]` is not full-dimensional: it holds no ball")
        try:
            p.vertices()
        except ValueError as exc:
            raise ValueError(f"`regions[{i}]` is not full-dimensional ({exc})") from None


# ------------------------------------------------------------------ contacts
class Padded:
    """Regions as padded arrays, for vectorised separation tests: rows ``a`` (n, R, d)
    with ``b`` (n, R) (padding: b = inf), vertices ``v`` (n, W, d) with mask ``ok``."""

    def __init__(self, units: list, verts: list) -> None:
        n, d = len(units), verts[0].shape[1]
        rows, width = max(len(b) for _, b in units), max(len(v) for v in verts)
        self.a, self.b = np.zeros((n, rows, d)), np.full((n, rows), np.inf)
        self.v, self.ok = np.zeros((n, width, d)), np.zeros((n, width), dtype=bool)
        for i, ((a, b), v) in enumerate(zip(units, verts, strict=True)):
            self.a[i, : len(b)], self.b[i, : len(b)] = a, b
            self.v[i, : len(v)], self.ok[i, : len(v)] = v, True
        self.lo = np.array([v.min(axis=0) for v in verts])
        self.hi = np.array([v.max(axis=0) for v in verts])


def near_pairs(p: Padded, q: Padded, thr: float, *, same: bool) -> list[tuple[int, int]]:
    """Pairs (i, j) of a region of p and one of q (i < j when ``same``) that no row of
    either separates by more than ``thr``: the other's vertices all beyond it."""
    out = []
    for i in range(len(p.lo)):
        first = i + 1 if same else 0
        box = np.all((q.lo[first:] <= p.hi[i] + thr) & (q.hi[first:] >= p.lo[i] - thr), axis=1)
        j = first + np.flatnonzero(box)
        if not j.size:
            continue
        s = np.einsum("jwd,rd->jwr", q.v[j], p.a[i]) - p.b[i]  # rows of i, vertices of j
        s[~q.ok[j]] = np.inf
        apart = (s.min(axis=1) > thr).any(axis=1)
        vi = p.v[i][p.ok[i]]
        s = np.einsum("wd,jrd->jwr", vi, q.a[j]) - q.b[j][:, None, :]  # rows of j, vertices of i
        apart |= (s.min(axis=1) > thr).any(axis=1)
        out += [(i, int(k)) for k in j[~apart]]
    return out


def _separator(a: np.ndarray, b: np.ndarray, v: np.ndarray, h: float) -> int | None:
    """A unit row of (a, b) with every point of ``v`` on its far side (within ``h``):
    the one with most points on it; None when no row separates."""
    s = v @ a.T - b
    ok = s.min(axis=0) >= -h
    if not ok.any():
        return None
    on = np.where(ok, (np.abs(s) <= h).sum(axis=0), -1)
    return int(np.argmax(on))


def _facet_contact(
    fi: np.ndarray, fj: np.ndarray, normal: np.ndarray, units: list, h: float
) -> bool:
    """Whether two facets on one hyperplane meet in a set of full dimension (d - 1)."""
    d = fi.shape[1]
    if d == 1:
        return True
    if d == 2:  # facets are segments of one line: do their extents overlap by more than h?
        along = np.array([-normal[1], normal[0]]) / np.linalg.norm(normal)
        si, sj = fi @ along, fj @ along
        return min(si.max(), sj.max()) - max(si.min(), sj.min()) > h
    if affine_rank(fi, h) < d - 1 or affine_rank(fj, h) < d - 1:
        return False
    near = np.abs(fi[:, None, :] - fj[None, :, :]).max(axis=2).min(axis=1) <= h
    if affine_rank(fi[near], h) == d - 1:  # shared vertices span the facet: face to face
        return True
    a = np.vstack([u[0] for u in units])
    b = np.concatenate([u[1] for u in units])
    along = a - np.outer(a @ normal, normal)
    size = np.linalg.norm(along, axis=1)
    keep = size > 1e-12
    off = float(fi[0] @ normal)
    # the largest (d - 1)-ball in the hyperplane inside both: rows not parallel to it
    return _ball_in_plane(a[keep], b[keep], size[keep], normal, off) > h


def _ball_in_plane(a, b, size, normal, off) -> float:
    from scipy.optimize import linprog

    d = a.shape[1]
    cost = np.zeros(d + 1)
    cost[-1] = -1.0
    res = linprog(
        cost,
        A_ub=np.hstack([a, size[:, None]]),
        b_ub=b,
        A_eq=np.append(normal, 0.0)[None, :],
        b_eq=[off],
        bounds=(None, None),
        method="highs",
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    return float(res.x[-1]) if res.status == 0 else -np.inf


def contact(i: int, j: int, units: list, verts: list, h: float) -> tuple[str, object]:
    """How regions i and j meet: ("apart", None), ("overlap", radius), ("facet", (points,
    normal, offset)) with the two facets' vertices, or ("touch", points) with the vertices
    of either that lie in the other (a lower-dimensional contact)."""
    (ai, bi), (aj, bj) = units[i], units[j]
    vi, vj = verts[i], verts[j]
    r = _separator(ai, bi, vj, h)
    if r is not None:
        normal, off = ai[r], bi[r]
    elif (r := _separator(aj, bj, vi, h)) is not None:
        normal, off = aj[r], bj[r]
    else:
        radius = chebyshev(np.vstack([ai, aj]), np.concatenate([bi, bj]))[1]
        if radius > h:
            return "overlap", radius
        normal = None
    if normal is not None:
        fi = vi[np.abs(vi @ normal - off) <= h]
        fj = vj[np.abs(vj @ normal - off) <= h]
        if len(fi) == 0 or len(fj) == 0:
            return "apart", None
        if _facet_contact(fi, fj, normal, [units[i], units[j]], h):
            return "facet", (np.vstack([fi, fj]), normal, off)
    inside = [vi[(vi @ aj.T - bj).max(axis=1) <= h], vj[(vj @ ai.T - bi).max(axis=1) <= h]]
    pts = np.vstack(inside)
    return ("touch", pts) if len(pts) else ("apart", None)


# ------------------------------------------------------------ from_regions
def check_regions(
    polys: list, units: list, verts: list, maps, tol: float, h: float, vtol: float, convex: bool
) -> list[tuple[int, int]]:
    """The checks of PiecewiseAffine.from_regions (its docstring states them); returns the
    pairs of regions that share a facet."""
    evaluate = maps  # evaluate(i, x) -> values (k, m) of region i's map at points x
    padded = Padded(units, verts)
    facets, covered = [], [np.zeros(len(u[1]), bool) for u in units]
    for i, j in near_pairs(padded, padded, h, same=True):
        kind, info = contact(i, j, units, verts, h)
        if kind == "overlap":
            raise ValueError(
                f"`regions[{i}]` and `regions[{j}]` overlap: a ball of radius {info:.3g} lies "
                f"in both (allowed: {h:.3g}, tol x the domain's diameter)"
            )
        if kind == "apart":
            continue
        pts = info[0] if kind == "facet" else info
        gap = np.abs(evaluate(i, pts) - evaluate(j, pts))
        if gap.max() > vtol:
            k, o = np.unravel_index(int(np.argmax(gap)), gap.shape)
            raise ValueError(
                f"`regions[{i}]` and `regions[{j}]` are not continuous across their common "
                f"boundary: at x = {pts[k].tolist()} output {o} differs by {gap[k, o]:.3g} > "
                f"{vtol:.3g} (tol x the largest term of K x + c)"
            )
        if kind == "facet":
            facets.append((i, j))
            _, normal, off = info
            for k in (i, j):
                a, b = units[k]
                side = np.round(a @ normal)  # +-1 on rows parallel to the facet
                covered[k] |= (np.abs(a @ normal - side) <= 1e-9) & (np.abs(b - side * off) <= h)
    if convex:
        _check_coverage(polys, units, verts, covered, tol, h)
    return facets


def _check_coverage(polys, units, verts, covered, tol, h) -> None:
    allv = np.vstack(verts)
    hull = hull_volume(allv)
    total = float(sum(p.volume() for p in polys))
    d = allv.shape[1]
    if hull - total <= d * tol * hull:
        return
    where = ""
    for k, ((a, b), v) in enumerate(zip(units, verts, strict=True)):
        for r in np.flatnonzero(~covered[k]):
            on = v[np.abs(v @ a[r] - b[r]) <= h]
            inner = (allv @ a[r] - b[r]).max() > h  # not a face of the hull
            if inner and len(on) >= d and affine_rank(on, h) == d - 1:
                where = (
                    f"; `regions[{k}]` has a facet (row {r} of its A) inside the hull "
                    "with no region across it"
                )
                break
        if where:
            break
    raise ValueError(
        "the regions do not cover the convex hull of their union: it has volume "
        f"{hull:.6g}, the regions {total:.6g}{where}; pass convex=False for a domain "
        "that is not convex"
    )


# ---------------------------------------------------------------- pieces
def group_maps(
    K: np.ndarray, c: np.ndarray, lower: np.ndarray, upper: np.ndarray, vtol: float
) -> np.ndarray:
    """Piece ids: region i takes the id of the earlier representative whose map differs
    from its own the least, when that is at most ``vtol`` everywhere on the bounding box
    (every output); else it is a representative itself.

    The difference of two maps on the box is ``max_o |dK_o mid + dc_o| + |dK_o| half``,
    at least the max-norm distance of the features ``(K mid + c, K half)``, so only
    neighbours within ``vtol`` in a k-d tree over distinct features are compared.
    """
    from scipy.spatial import cKDTree

    n = len(K)
    mid, half = (lower + upper) / 2, (upper - lower) / 2
    feats = np.concatenate([(K @ mid + c).reshape(n, -1), (K * half).reshape(n, -1)], axis=1)
    uniq, first, inverse = np.unique(feats, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    pairs = cKDTree(uniq).query_pairs(vtol * (1 + 1e-9) + 1e-300, p=np.inf, output_type="ndarray")
    near: dict[int, list[int]] = {}
    for u, v in pairs.tolist():
        near.setdefault(u, []).append(v)
        near.setdefault(v, []).append(u)
    rep_of = np.full(len(uniq), -1, dtype=np.intp)  # a feature's representative region
    alone = np.ones(len(uniq), dtype=bool)
    alone[pairs.reshape(-1)] = False
    rep_of[alone] = first[alone]  # no other map within vtol: a piece of its own
    for u in sorted(near, key=lambda u: first[u]):  # only maps with a close one, in order
        i = first[u]
        reps = sorted(rep_of[v] for v in near[u] if 0 <= rep_of[v] < i)
        if reps:
            dk, dc = K[reps] - K[i], c[reps] - c[i]
            worst = (np.abs(dk @ mid + dc) + np.abs(dk) @ half).max(axis=1)
            k = int(np.argmin(worst))
            if worst[k] <= vtol:
                rep_of[u] = -2 - reps[k]  # joins the piece of region reps[k]
                continue
        rep_of[u] = i
    is_rep = rep_of >= 0
    piece = np.full(n, -1, dtype=np.intp)
    reps_in_order = np.sort(rep_of[is_rep])
    piece[reps_in_order] = np.arange(len(reps_in_order))
    ids = np.where(is_rep, piece[np.maximum(rep_of, 0)], piece[np.maximum(-2 - rep_of, 0)])
    return ids[inverse]


# ---------------------------------------------------------------- simplify
def merge(polys: list, verts: list, pieces: np.ndarray, facets: list, tol: float, h: float):
    """Groups of regions (original indices) of one piece whose union is convex, each with
    its merged Polytope (None for a group of one)."""
    d = verts[0].shape[1]
    vol = {i: p.volume() for i, p in enumerate(polys)}
    members = {i: [i] for i in range(len(polys))}
    pts = dict(enumerate(verts))
    adj: dict[int, set] = {i: set() for i in range(len(polys))}
    for i, j in facets:
        if pieces[i] == pieces[j]:
            adj[i].add(j)
            adj[j].add(i)
    for comp in _components(adj):  # a whole component first: the common case
        if len(comp) > 1:
            u = np.vstack([pts[k] for k in comp])
            hv, total = hull_volume(u), sum(vol[k] for k in comp)
            if hv - total <= d * tol * hv:
                new = min(comp)
                members[new] = sorted(k for c in comp for k in members[c])
                pts[new], vol[new] = _extreme(u), total
                for k in comp:
                    adj.pop(k)
                    if k != new:
                        members.pop(k)
                adj[new] = set()
    queue = sorted((i, j) for i in adj for j in adj[i] if i < j)
    nxt = len(polys)
    while queue:
        p, q = queue.pop()
        if p not in adj or q not in adj:
            continue
        u = np.vstack([pts[p], pts[q]])
        hv = hull_volume(u)
        if hv - vol[p] - vol[q] > d * tol * hv:
            continue
        members[nxt] = sorted(members.pop(p) + members.pop(q))
        pts[nxt], vol[nxt] = _extreme(u), vol[p] + vol[q]
        adj[nxt] = (adj.pop(p) | adj.pop(q)) - {p, q}
        for k in adj[nxt]:
            adj[k] -= {p, q}
            adj[k].add(nxt)
            queue.append((k, nxt))
        nxt += 1
    out = []
    for key in sorted(members, key=lambda k: members[k][0]):
        group = members[key]
        out.append((group, None if len(group) == 1 else _hull_polytope(pts[key], h)))
    return out


def _components(adj: dict) -> list[list[int]]:
    seen, out = set(), []
    for start in sorted(adj):
        if start in seen:
            continue
        stack, comp = [start], []
        seen.add(start)
        while stack:
            k = stack.pop()
            comp.append(k)
            for m in adj[k] - seen:
                seen.add(m)
                stack.append(m)
        out.append(sorted(comp))
    return out


def _extreme(u: np.ndarray) -> np.ndarray:
    """The extreme points of a point set (the vertices of its convex hull)."""
    from scipy.spatial import ConvexHull

    if u.shape[1] == 1:
        return np.array([[u.min()], [u.max()]])
    return u[ConvexHull(u).vertices]


def _hull_polytope(v: np.ndarray, h: float) -> Polytope:
    """The convex hull of the points ``v`` (its vertices) as an H-polytope, unit rows."""
    from scipy.spatial import ConvexHull

    if v.shape[1] == 1:
        return seed_vertices(Polytope([[1.0], [-1.0]], [v.max(), -v.min()]), v)
    eq = ConvexHull(v).equations  # unit normal n, offset e: n x + e <= 0
    scale = 1.0 + float(np.abs(v).max())
    eq = unique_points(np.hstack([eq[:, :-1], eq[:, -1:] / scale]), max(1e-9, h / scale))
    return seed_vertices(Polytope(eq[:, :-1], -eq[:, -1] * scale), v)


# ----------------------------------------------------- restrict and allclose
def intersection(
    p: Polytope, vp: np.ndarray, a: np.ndarray, b: np.ndarray, h: float, vq=None
) -> Polytope | None:
    """``p`` (vertices ``vp``) cut by the unit rows ``a x <= b`` (of a polytope with
    vertices ``vq``, when given); None when nothing of full dimension (no ball of
    radius ``h``) is left. Redundant rows are dropped."""
    d = vp.shape[1]
    s = vp @ a.T - b
    if (s.min(axis=0) >= -h).any():  # a row has all of p on its far side
        return None
    if vq is not None:
        ap, bp, _ = unit_rows(p.A_ub, p.b_ub)
        if ((vq @ ap.T - bp).min(axis=0) >= -h).any():
            return None
    if (s.max(axis=1) <= h).all():  # p lies inside
        return p
    rows = np.vstack([p.A_ub, a])
    rhs = np.concatenate([p.b_ub, b])
    if d == 1:
        lo = max(float(vp.min()), float(np.max(-b[a[:, 0] < 0], initial=-np.inf)))
        hi = min(float(vp.max()), float(np.min(b[a[:, 0] > 0], initial=np.inf)))
        if hi - lo <= 2 * h:
            return None
        v = np.array([[lo], [hi]])
    elif d == 2:
        v = vp
        for row, r in zip(a, b, strict=True):
            dist = v @ row - r
            if len(v) and dist.max() > 0:
                v = cut(v, None, dist, 0.0)[0][0] if dist.min() < 0 else v[:0]
        v = unique_points(v, h) if len(v) else v
        if len(v) < 3 or _inradius_2d(v) <= h:
            return None
    else:
        center, radius = chebyshev(rows, rhs)
        if not radius > h:
            return None
        q = Polytope(rows, rhs)
        q.__dict__["_chebyshev"] = (center, radius)
        v = q.vertices()
    return prune(rows, rhs, v, h)


def _inradius_2d(v: np.ndarray) -> float:
    """2 area / perimeter of a convex polygon: at least its inradius."""
    x, y = v[:, 0], v[:, 1]
    area = 0.5 * abs(float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)))
    return 2 * area / float(np.linalg.norm(v - np.roll(v, 1, axis=0), axis=1).sum())


def prune(rows: np.ndarray, rhs: np.ndarray, v: np.ndarray, h: float) -> Polytope:
    """The polytope with vertices ``v`` keeping only its facet rows (unit norm, once each)."""
    a, b, _ = unit_rows(rows, rhs)
    d = v.shape[1]
    keep = []
    for k in range(len(a)):
        on = v[np.abs(v @ a[k] - b[k]) <= h]
        if len(on) >= d and affine_rank(on, h) == d - 1:
            if not any(np.abs(a[k] - a[m]).max() <= 1e-9 and abs(b[k] - b[m]) <= h for m in keep):
                keep.append(k)
    return seed_vertices(Polytope(a[keep], b[keep]), v)


def facet_pairs(units: list, verts: list, h: float) -> list[tuple[int, int]]:
    """Pairs of regions that share a facet."""
    padded = Padded(units, verts)
    pairs = near_pairs(padded, padded, h, same=True)
    return [(i, j) for i, j in pairs if contact(i, j, units, verts, h)[0] == "facet"]


def refinement(f_polys, f_units, f_verts, g_units, g_verts, h):
    """(i, j, polytope) for every pair of regions of f and g whose intersection is of
    full dimension (see ``intersection``): the cells of the common refinement."""
    pairs = near_pairs(Padded(f_units, f_verts), Padded(g_units, g_verts), -h, same=False)
    for i, j in pairs:
        q = intersection(f_polys[i], f_verts[i], *g_units[j], h, g_verts[j])
        if q is not None:
            yield i, j, q
