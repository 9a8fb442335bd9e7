"""PiecewiseAffine: a continuous piecewise-affine function on a polyhedral domain in R^d.

numpy and scipy only (``scipy.spatial`` and ``scipy.optimize`` are imported when
first needed; pandas in :meth:`PiecewiseAffine.to_frame`, matplotlib in
:meth:`PiecewiseAffine.plot`). The geometry lives in ``_pwa_build`` and ``_geometry``.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from ._geometry import Polytope, seed_vertices, unit_rows
from ._pwa_build import (
    as_box,
    as_points_values,
    check_each,
    check_regions,
    checked_scale,
    facet_pairs,
    geometric_tol,
    group_maps,
    intersection,
    interval,
    merge,
    parse_regions,
    refinement,
)
from ._pwa_locate import PointLocation, barycentric, triangulation
from ._validate import as_float_array, as_real_scalar, check_choice, check_finite, check_int
from .spline import PiecewiseLinear

__all__ = ["PiecewiseAffine"]

_TOL = 1e-9


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


class PiecewiseAffine:
    """A continuous piecewise-affine function from a polyhedral domain in R^d to R^m.

    The domain is the union of ``n_regions`` bounded H-polytopes ``A x <= b`` with
    disjoint interiors, each carrying an affine map ``x -> K x + c`` (``K`` of shape
    (m, d)); the maps agree where regions meet. Build one with :meth:`from_triangulation`,
    :meth:`from_regions` or :meth:`from_spline` (calling the class directly is a
    TypeError). Instances are immutable values: arrays are read-only, ``==`` is exact
    equality of the regions and maps in order (compare functions with
    :meth:`allclose`), and equal values hash equally.

    Tolerance: ``tol`` (1e-9 unless given to :meth:`from_regions`) sets ``h = tol x
    the diagonal of the domain's bounding box + 64 eps x its largest coordinate``, the
    distance below which points count as inside (``__call__``) and sets as flat; and
    ``tol x max(|K| |x| + |c|)`` over the box, the difference below which two maps are
    one piece (``n_pieces``, :meth:`simplify`).

    Examples
    --------
    >>> import numpy as np
    >>> from pwlmodels import PiecewiseAffine
    >>> square = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    >>> f = PiecewiseAffine.from_triangulation(square, [0.0, 1.0, 1.0, 3.0])
    >>> f.n_inputs, f.n_outputs, f.n_regions, f.n_pieces
    (2, 1, 2, 2)
    >>> f([[0.5, 0.5], [1.0, 1.0]])
    array([1.5, 3. ])
    >>> f.max(), f.argmax().tolist()
    (3.0, [1.0, 1.0])
    """

    __slots__ = (
        "_K",
        "_anchor",
        "_c",
        "_cache",
        "_convex",
        "_h",
        "_lower",
        "_pieces",
        "_polys",
        "_tol",
        "_tri",
        "_upper",
        "_value",
        "_verts",
        "_vtol",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise TypeError(
            "build a PiecewiseAffine with PiecewiseAffine.from_triangulation, "
            "from_regions or from_spline"
        )

    @classmethod
    def _build(
        cls, polys, K, anchor, value, *, tol=_TOL, tri=None, convex=True, units=None, source="`f`"
    ) -> PiecewiseAffine:
        """From valid parts: regions (with vertices), and each map as K and its value at
        an anchor point, ``f(x) = value + K (x - anchor)`` (the form evaluated); whether
        the domain is known to be convex; ``units``, when the rows are unit already;
        ``source``, the argument named when the maps overflow."""
        obj = cls.__new__(cls)
        put = object.__setattr__
        verts = [p.vertices() for p in polys]
        allv = np.vstack(verts)
        lower, upper = allv.min(axis=0), allv.max(axis=0)
        K, anchor, value = (_readonly(a) for a in (K, anchor, value))
        with np.errstate(all="ignore"):
            c = _readonly(value - np.einsum("rmd,rd->rm", K, anchor))
        if units is None:
            units = [unit_rows(p.A_ub, p.b_ub)[:2] for p in polys]
        vtol = tol * checked_scale(K, c, lower, upper, source)
        for name, val in (
            ("_polys", tuple(polys)),
            ("_verts", tuple(verts)),
            ("_K", K),
            ("_c", c),
            ("_anchor", anchor),
            ("_value", value),
            ("_lower", _readonly(lower)),
            ("_upper", _readonly(upper)),
            ("_tol", float(tol)),
            ("_h", geometric_tol(lower, upper, tol)),
            ("_vtol", vtol),
            ("_tri", tri),
            ("_convex", bool(convex)),
            ("_cache", {"units": units}),
        ):
            put(obj, name, val)
        pieces = group_maps(K, c, lower, upper, vtol)
        pieces.setflags(write=False)
        put(obj, "_pieces", pieces)
        return obj

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("PiecewiseAffine is immutable; build a new one instead")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("PiecewiseAffine is immutable; build a new one instead")

    def __reduce__(self):  # pickle the parts; a triangulation is triangulated again
        if self._tri is not None:
            return (_rebuild_triangulation, self._tri[1])
        regions = [(p.A_ub, p.b_ub, v) for p, v in zip(self._polys, self._verts, strict=True)]
        state = (regions, self._K, self._anchor, self._value, self._tol, self._convex)
        return (_rebuild, state)

    # ---------------------------------------------------------- constructors
    @classmethod
    def from_triangulation(cls, points: object, values: object) -> PiecewiseAffine:
        """The linear interpolant of values at points, on their Delaunay triangulation.

        Each simplex of ``scipy.spatial.Delaunay(points)`` is a region (simplices
        Qhull leaves degenerate, with no interior, are dropped) with the affine map
        through its vertices' values: on the convex hull of the points this is
        ``scipy.interpolate.LinearNDInterpolator(points, values)``, evaluated the same
        way (barycentric coordinates; to rounding). One input: the intervals between
        sorted points, ``numpy.interp`` on them.

        Parameters
        ----------
        points : array_like, shape (N, d), or (N,) for d = 1
            Finite, distinct, not all on one hyperplane, N >= d + 1, and each a vertex
            of the triangulation (Qhull merges points closer than its precision, which
            grows with |points|: merged points are triangulated again about their centre).
        values : array_like, shape (N,) or (N, m)
            Finite; m outputs.

        Returns
        -------
        PiecewiseAffine

        Examples
        --------
        >>> import numpy as np
        >>> from scipy.interpolate import LinearNDInterpolator
        >>> rng = np.random.default_rng(0)
        >>> pts, vals = rng.random((30, 2)), rng.random(30)
        >>> f = PiecewiseAffine.from_triangulation(pts, vals)
        >>> x = np.array([[0.5, 0.5], [0.4, 0.6]])
        >>> np.allclose(f(x), LinearNDInterpolator(pts, vals)(x), rtol=1e-13, atol=0)
        True
        """
        pts, vals, order = as_points_values(points, values)
        pts, vals = _readonly(pts), _readonly(vals)
        if pts.shape[1] == 1:
            t, v = pts[order, 0], vals[order]
            polys = [interval(a, b) for a, b in itertools.pairwise(t)]
            with np.errstate(all="ignore"):
                K = (np.diff(v, axis=0) / np.diff(t)[:, None])[:, :, None]
            return cls._build(
                polys, K, t[:-1, None], v[:-1], tri=(None, (pts, vals)), source="`values`"
            )
        parts = triangulation(pts, vals)
        args = (parts["polys"], parts["K"], parts["anchor"], parts["anchor_value"])
        return cls._build(*args, tri=(parts["bary"], (pts, vals)), source="`values`")

    @classmethod
    def from_regions(
        cls, regions: object, *, tol: float = _TOL, convex: bool = True
    ) -> PiecewiseAffine:
        """A function from its regions and maps, checked.

        Checks, in this order, each a ValueError naming the region (``regions[i]``):

        1. every region is non-empty (its Chebyshev ball has radius >= 0), bounded (no
           direction y != 0 with A y <= 0) and full-dimensional: it holds a ball of
           radius more than ``h = tol x the diagonal of the domain's bounding box``
           (plus a rounding margin of 64 eps x its largest coordinate);
        2. no two regions overlap: unless a row of one has every vertex of the other on
           its far side (within ``h``), the largest ball in both has radius <= ``h``;
        3. continuity: where two regions share a facet (a (d-1)-dimensional contact),
           their maps agree at the vertices of both facets, which makes them agree on
           the whole common hyperplane; where they touch in a lower-dimensional set,
           at the vertices of either that lie in the other. Agree means within ``tol x
           max(|K| |x| + |c|)`` over the bounding box, output by output;
        4. with ``convex=True``, no gaps: the volume of the convex hull of all vertices
           exceeds the sum of the regions' volumes by at most ``d x tol`` of it (the
           message names a region with an interior facet no region lies across, when
           there is one). With ``convex=False`` the domain is the union as given.

        Parameters
        ----------
        regions : iterable of tuple
            ``(A, b, K, c)`` or ``(Polytope, K, c)`` per region: ``A`` shape (k, d),
            ``b`` (k,), ``K`` (m, d) (or (d,) when m = 1), ``c`` (m,) (or a number).
        tol : float, default 1e-9
            Relative tolerance, in (0, 1e-3].
        convex : bool, default True
            Whether the domain must be convex (checked as in 4).

        Returns
        -------
        PiecewiseAffine

        Examples
        --------
        ``|x|`` on [-1, 1] as two regions, and a gap refused:

        >>> f = PiecewiseAffine.from_regions([([[1.0], [-1.0]], [0.0, 1.0], [-1.0], 0.0),
        ...                                   ([[1.0], [-1.0]], [1.0, 0.0], [1.0], 0.0)])
        >>> f([-0.5, 0.25]).tolist()
        [0.5, 0.25]
        >>> PiecewiseAffine.from_regions([([[1.0], [-1.0]], [0.0, 1.0], [-1.0], 0.0),
        ...                               ([[1.0], [-1.0]], [1.0, -0.5], [1.0], 0.0)])
        ... # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: the regions do not cover the convex hull of their union: ...
        """
        tol = as_real_scalar(tol, "tol")
        if not 0 < tol <= 1e-3:
            raise ValueError(f"`tol` must be in (0, 1e-3]; got {tol!r}")
        if not isinstance(convex, (bool, np.bool_)):
            raise TypeError(f"`convex` must be a bool; got {type(convex).__name__}")
        polys, K, c = parse_regions(regions)
        check_each(polys)
        anchor = np.array([p.vertices()[0] for p in polys])  # f = c + K anchor there
        value = c + np.einsum("rmd,rd->rm", K, anchor)
        f = cls._build(polys, K, anchor, value, tol=tol, convex=bool(convex), source="`regions`")
        for i, p in enumerate(polys):
            radius = p.chebyshev_center()[1]
            if radius <= f._h:
                raise ValueError(
                    f"`regions[{i}]` is not full-dimensional: its largest ball has radius "
                    f"{radius:.3g} <= {f._h:.3g} (tol x the domain's diameter)"
                )
        f._cache["facets"] = check_regions(
            polys, f._cache["units"], f._verts, f._map_at, tol, f._h, f._vtol, bool(convex)
        )
        return f

    @classmethod
    def from_spline(cls, spline: PiecewiseLinear, lower: float, upper: float) -> PiecewiseAffine:
        """A :class:`~pwlmodels.PiecewiseLinear` restricted to ``[lower, upper]``.

        One region per piece: the intervals between ``lower``, the knots strictly
        inside, and ``upper``; each map is the spline's slope there, anchored at the
        interval's left end (the spline's value there).

        Parameters
        ----------
        spline : PiecewiseLinear
        lower, upper : float
            Finite, ``lower < upper``.

        Returns
        -------
        PiecewiseAffine

        Examples
        --------
        >>> from pwlmodels import PiecewiseLinear
        >>> s = PiecewiseLinear([0.0, 1.0, 2.0], [0.0, 2.0, 1.0])
        >>> f = PiecewiseAffine.from_spline(s, -1.0, 1.5)
        >>> f.n_regions, f.n_pieces, f.domain  # slope 2 on both sides of the knot at 0
        (3, 2, (array([-1.]), array([1.5])))
        >>> bool(np.allclose(f([-1.0, 0.5, 1.5]), s([-1.0, 0.5, 1.5]), rtol=1e-15))
        True
        """
        if not isinstance(spline, PiecewiseLinear):
            raise TypeError(f"`spline` must be a PiecewiseLinear; got {type(spline).__name__}")
        lo, hi = as_real_scalar(lower, "lower"), as_real_scalar(upper, "upper")
        if not lo < hi:
            raise ValueError(f"`lower` must be less than `upper`; got {lo!r} and {hi!r}")
        t = spline.knots
        ends = np.concatenate([[lo], t[(t > lo) & (t < hi)], [hi]])
        polys = [interval(a, b) for a, b in itertools.pairwise(ends)]
        K = spline.slope(ends[:-1])[:, None, None]
        values = np.asarray(spline(ends[:-1]))[:, None]
        return cls._build(
            polys, K, ends[:-1, None], values, source="`spline` on [`lower`, `upper`]"
        )

    # ------------------------------------------------------------------ data
    @property
    def n_inputs(self) -> int:
        """int: d, the dimension of the domain."""
        return int(self._lower.size)

    @property
    def n_outputs(self) -> int:
        """int: m, the number of outputs."""
        return int(self._K.shape[1])

    @property
    def n_regions(self) -> int:
        """int: the number of regions."""
        return len(self._polys)

    @property
    def n_pieces(self) -> int:
        """int: the number of distinct affine maps (to the class's tolerance)."""
        return int(self._pieces.max()) + 1

    @property
    def pieces(self) -> np.ndarray:
        """ndarray of int, shape (n_regions,): each region's piece, numbered in order of
        first appearance; regions whose maps are one piece share it."""
        return self._pieces.view()

    @property
    def regions(self) -> tuple[Polytope, ...]:
        """tuple of Polytope: the regions, with their vertices computed."""
        return self._polys

    @property
    def maps(self) -> tuple[np.ndarray, np.ndarray]:
        """(K, c): ndarray shape (n_regions, m, d) and (n_regions, m); ``f(x) = K[i] x +
        c[i]`` on region i (read-only)."""
        return self._K.view(), self._c.view()

    @property
    def domain(self) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper): the domain's bounding box, each ndarray shape (d,)."""
        return self._lower.view(), self._upper.view()

    @property
    def tol(self) -> float:
        """float: the relative tolerance (class docstring)."""
        return self._tol

    def __repr__(self) -> str:
        box = [self._lower.tolist(), self._upper.tolist()]
        return (
            f"PiecewiseAffine(n_inputs={self.n_inputs}, n_outputs={self.n_outputs}, "
            f"n_regions={self.n_regions}, n_pieces={self.n_pieces}, domain={box})"
        )

    def __eq__(self, other: object) -> bool:
        """Exact equality of the regions (``A``, ``b``, in order) and maps (``K``, ``c``)."""
        if not isinstance(other, PiecewiseAffine):
            return NotImplemented
        if self.n_regions != other.n_regions or self._K.shape != other._K.shape:
            return False
        same = all(
            np.array_equal(p.A_ub, q.A_ub) and np.array_equal(p.b_ub, q.b_ub)
            for p, q in zip(self._polys, other._polys, strict=True)
        )
        return same and np.array_equal(self._K, other._K) and np.array_equal(self._c, other._c)

    def __hash__(self) -> int:
        parts = [p.A_ub.tobytes() + p.b_ub.tobytes() for p in self._polys]
        return hash((tuple(parts), self._K.tobytes(), self._c.tobytes()))

    # ------------------------------------------------------------ evaluation
    def __call__(self, x: object, *, outside: str = "raise") -> np.ndarray:
        """Evaluate at points (numpy in, numpy out, float64).

        Each point takes the map of the region it is deepest in (the smallest largest
        violation of the region's rows); by continuity any region containing it gives
        the same value. Triangulations locate with ``Delaunay.find_simplex`` and
        evaluate barycentrically, as ``LinearNDInterpolator``.

        Parameters
        ----------
        x : array_like, shape (N, d) or (d,); for d = 1 also (N,) or ()
            Finite points.
        outside : {"raise", "nan"}, default "raise"
            For points farther than ``h`` (class docstring) from every region: a
            ValueError naming the first, or NaN.

        Returns
        -------
        ndarray, shape (N,) or (N, m) when m > 1; a scalar or (m,) for one point
            ((d,) for d > 1, () for d = 1).

        Examples
        --------
        >>> f = PiecewiseAffine.from_triangulation([[0, 0], [1, 0], [0, 1]], [0.0, 1.0, 2.0])
        >>> f([0.25, 0.25]), f([[2.0, 2.0]], outside="nan")
        (np.float64(0.75), array([nan]))
        """
        check_choice(outside, "outside", ("raise", "nan"))
        arr = as_float_array(x, "x")
        check_finite(arr, "x")
        d, m = self.n_inputs, self.n_outputs
        if d == 1 and arr.ndim <= 1:
            lead, pts = arr.shape, arr.reshape(-1, 1)
        elif arr.ndim == 2 and arr.shape[1] == d:
            lead, pts = arr.shape[:1], arr
        elif arr.ndim == 1 and arr.shape[0] == d:
            lead, pts = (), arr[None, :]
        else:
            one = " or (N,)" if d == 1 else ""
            raise ValueError(f"`x` must have shape (N, {d}) or ({d},){one}; got {arr.shape}")
        y = self._evaluate(pts, outside, single=not lead)
        y = y.reshape(lead + ((m,) if m > 1 else ()))
        return y[()] if y.ndim == 0 else y

    def _evaluate(self, pts: np.ndarray, outside: str, *, single: bool = False) -> np.ndarray:
        if "locate" not in self._cache:
            walk = None if self._tri is None or self._tri[0] is None else self._tri[0]
            self._cache["locate"] = PointLocation(
                self._cache["units"], list(self._verts), self._h, self._convex, walk, self._anchor
            )
        region, dist = self._cache["locate"](pts)
        far = dist > self._h
        if far.any() and outside == "raise":
            k = int(np.argmax(far))
            name = "x" if single else f"x[{k}]"
            raise ValueError(
                f"`{name}` = {pts[k].tolist()} is outside the domain: at least "
                f"{dist[k]:.3g} from every region (allowed {self._h:.3g}); "
                "pass outside='nan' for NaN there"
            )
        if self._tri is not None and self._tri[0] is not None:
            y = barycentric(self._tri[0], region, pts, self._anchor)  # as LinearNDInterpolator
        else:
            y = self._value[region] + np.einsum(
                "nmd,nd->nm", self._K[region], pts - self._anchor[region]
            )
        y[far] = np.nan
        return y

    def _map_at(self, i: int, x: np.ndarray) -> np.ndarray:
        """Region i's map at points x (k, d): shape (k, m)."""
        return self._value[i] + (x - self._anchor[i]) @ self._K[i].T

    # ------------------------------------------------------------- analysis
    def _vertex_table(self) -> tuple[np.ndarray, np.ndarray]:
        if "vertex_table" not in self._cache:  # a triangulation's vertices: its data
            if self._tri is not None:
                v, y = self._tri[1]
            else:
                v = np.vstack(self._verts)
                y = np.vstack([self._map_at(i, w) for i, w in enumerate(self._verts)])
            self._cache["vertex_table"] = (v, y)
        return self._cache["vertex_table"]

    def _extreme(self, output: int | None, sign: float) -> tuple[np.ndarray, np.ndarray]:
        m = self.n_outputs
        cols = np.arange(m) if output is None else [check_int(output, "output", minimum=0)]
        if output is not None and cols[0] >= m:
            raise ValueError(f"`output` must be less than n_outputs = {m}; got {cols[0]}")
        v, y = self._vertex_table()
        best = np.argmax(sign * y[:, cols], axis=0)
        value, point = y[best, cols], v[best].copy()
        if output is not None or m == 1:
            return value[0], point[0]
        return value, point

    def max(self, *, output: int | None = None) -> float | np.ndarray:
        """The maximum over the domain, exact: the best of each region's map at its vertices.

        Parameters
        ----------
        output : int, optional
            Which output; None (default): all of them (a float when m = 1).

        Returns
        -------
        float, or ndarray shape (m,) for every output of m > 1

        Examples
        --------
        >>> f = PiecewiseAffine.from_triangulation([[0, 0], [2, 0], [0, 1]],
        ...                                        [[0.0, 5.0], [4.0, 1.0], [1.0, -1.0]])
        >>> f.max().tolist(), f.max(output=1), f.min(output=1)
        ([4.0, 5.0], 5.0, -1.0)
        """
        value = self._extreme(output, 1.0)[0]
        return float(value) if np.ndim(value) == 0 else value

    def min(self, *, output: int | None = None) -> float | np.ndarray:
        """The minimum over the domain (as :meth:`max`).

        Parameters
        ----------
        output : int, optional
            As in :meth:`max`.

        Returns
        -------
        float, or ndarray shape (m,)

        Examples
        --------
        >>> f = PiecewiseAffine.from_triangulation([0.0, 1.0, 3.0], [1.0, -1.0, 2.0])
        >>> f.min(), f.argmin().tolist()
        (-1.0, [1.0])
        """
        value = self._extreme(output, -1.0)[0]
        return float(value) if np.ndim(value) == 0 else value

    def argmax(self, *, output: int | None = None) -> np.ndarray:
        """A vertex where :meth:`max` is attained (the first, in region order).

        Parameters
        ----------
        output : int, optional
            As in :meth:`max`.

        Returns
        -------
        ndarray, shape (d,), or (m, d): one point per output

        Examples
        --------
        >>> f = PiecewiseAffine.from_triangulation([[0, 0], [1, 0], [0, 1]], [0.0, 1.0, 2.0])
        >>> f.argmax().tolist(), float(f(f.argmax())) == f.max()
        ([0.0, 1.0], True)
        """
        return self._extreme(output, 1.0)[1]

    def argmin(self, *, output: int | None = None) -> np.ndarray:
        """A vertex where :meth:`min` is attained (the first, in region order).

        Parameters
        ----------
        output : int, optional
            As in :meth:`max`.

        Returns
        -------
        ndarray, shape (d,), or (m, d)

        Examples
        --------
        >>> f = PiecewiseAffine.from_triangulation([[0, 0], [1, 0], [0, 1]], [0.0, 1.0, 2.0])
        >>> f.argmin().tolist()
        [0.0, 0.0]
        """
        return self._extreme(output, -1.0)[1]

    def _facets(self) -> list[tuple[int, int]]:
        """Pairs of regions that share a facet."""
        if "facets" not in self._cache:
            self._cache["facets"] = facet_pairs(self._cache["units"], list(self._verts), self._h)
        return self._cache["facets"]

    def simplify(self) -> PiecewiseAffine:
        """Merge neighbouring regions of one piece where their union is convex.

        Regions that share a facet and whose maps are one piece (``pieces``) are
        merged: a whole connected group at once when its union is convex (volume of
        the hull within ``d x tol`` of the sum), else pair by pair, greedily, while
        some union is convex. The result is the same function (each merged region
        takes the map of its first member) on the same domain.

        Returns
        -------
        PiecewiseAffine
            ``self`` when nothing merges.

        Examples
        --------
        An affine function on a triangulation is one region after simplifying:

        >>> rng = np.random.default_rng(1)
        >>> pts = np.vstack([[[0, 0], [1, 0], [0, 1], [1, 1]], rng.random((20, 2))])
        >>> f = PiecewiseAffine.from_triangulation(pts, pts @ [2.0, -1.0] + 3.0)
        >>> g = f.simplify()
        >>> f.n_regions > 1, g.n_regions, len(g.regions[0].vertices()), g.allclose(f)
        (True, 1, 4, True)
        """
        groups = merge(
            list(self._polys), list(self._verts), self._pieces, self._facets(), self._tol, self._h
        )
        if len(groups) == self.n_regions:
            return self
        first = [g[0] for g, _ in groups]
        polys = [self._polys[g[0]] if p is None else p for g, p in groups]
        return type(self)._build(
            polys,
            self._K[first],
            self._anchor[first],
            self._value[first],
            tol=self._tol,
            convex=self._convex,
        )

    def restrict(self, lower: object, upper: object) -> PiecewiseAffine:
        """The function on the part of its domain inside the box ``[lower, upper]``.

        Each region is cut by the box; pieces without a ball of radius ``h`` (empty or
        flat) are dropped, and rows that no longer bound a region are removed.

        Parameters
        ----------
        lower, upper : float or array_like, shape (d,)
            Finite, ``lower < upper`` in every coordinate (numbers broadcast).

        Returns
        -------
        PiecewiseAffine
            A ValueError when the box meets the domain in no set of positive volume.

        Examples
        --------
        >>> f = PiecewiseAffine.from_triangulation([[0, 0], [1, 0], [0, 1], [1, 1]],
        ...                                        [0.0, 1.0, 1.0, 0.0])
        >>> g = f.restrict([0.0, 0.0], [0.5, 1.0])
        >>> g.domain[1].tolist(), g.n_regions, bool(g([0.25, 0.5]) == f([0.25, 0.5]))
        ([0.5, 1.0], 2, True)
        """
        d = self.n_inputs
        lo, hi = as_box(lower, upper, d)
        rows, rhs = np.vstack([np.eye(d), -np.eye(d)]), np.concatenate([hi, -lo])
        keep, polys = [], []
        for i, (p, v) in enumerate(zip(self._polys, self._verts, strict=True)):
            q = intersection(p, v, rows, rhs, self._h)
            if q is not None:
                keep.append(i)
                polys.append(q)
        if not keep:
            raise ValueError(
                f"the box [lower, upper] = [{lo.tolist()}, {hi.tolist()}] does not meet the "
                f"domain (bounding box [{self._lower.tolist()}, {self._upper.tolist()}]) in a "
                "set of positive volume"
            )
        return type(self)._build(
            polys,
            self._K[keep],
            self._anchor[keep],
            self._value[keep],
            tol=self._tol,
            convex=self._convex,
        )

    def allclose(self, other: PiecewiseAffine, *, rtol: float = 1e-9, atol: float = 0.0) -> bool:
        """Whether two functions have the same domain and close values everywhere.

        Compared on their common refinement (the full-dimensional intersections of a
        region of each): at every vertex of every intersection, output by output,
        ``|f - g| <= atol + rtol x max|g|`` (the maximum of ``|g|`` over its domain,
        per output); the domains agree when the intersections' volumes add up to
        each domain's volume within ``d x tol``. Exact for piecewise-affine
        functions (their difference is affine on each intersection), unlike
        :meth:`PiecewiseLinear.allclose`, which compares the data.

        Parameters
        ----------
        other : PiecewiseAffine
        rtol, atol : float, default 1e-9 and 0.0

        Returns
        -------
        bool

        Examples
        --------
        >>> f = PiecewiseAffine.from_triangulation([[0, 0], [1, 0], [0, 1], [1, 1]],
        ...                                        [0.0, 1.0, 1.0, 2.0])
        >>> f.allclose(f.simplify()), f.allclose(f.restrict(0.0, 0.5))
        (True, False)
        """
        if not isinstance(other, PiecewiseAffine):
            raise TypeError(f"`other` must be a PiecewiseAffine; got {type(other).__name__}")
        rtol, atol = as_real_scalar(rtol, "rtol"), as_real_scalar(atol, "atol")
        if rtol < 0 or atol < 0:
            raise ValueError(f"`rtol` and `atol` must be non-negative; got {rtol!r}, {atol!r}")
        if (self.n_inputs, self.n_outputs) != (other.n_inputs, other.n_outputs):
            return False
        h = max(self._h, other._h)
        limit = atol + rtol * np.abs(other._vertex_table()[1]).max(axis=0)
        total = 0.0
        units = (self._cache["units"], other._cache["units"])
        cells = refinement(self._polys, units[0], list(self._verts), units[1], other._verts, h)
        for i, j, q in cells:
            v = q.vertices()
            if (np.abs(self._map_at(i, v) - other._map_at(j, v)) > limit).any():
                return False
            total += q.volume()
        slack = self.n_inputs * max(self._tol, other._tol)
        return all(
            abs(sum(p.volume() for p in f._polys) - total) <= slack * total for f in (self, other)
        )

    # ------------------------------------------------------------- output
    def to_frame(self):
        """One row per region: a pandas DataFrame.

        Columns: ``region`` (index), ``piece`` (``pieces``), ``n_constraints`` (rows
        of ``A``), ``n_vertices``, ``volume`` (length in 1-D, area in 2-D).

        Returns
        -------
        pandas.DataFrame

        Examples
        --------
        >>> f = PiecewiseAffine.from_triangulation([[0, 0], [1, 0], [0, 1], [1, 1]],
        ...                                        [0.0, 1.0, 1.0, 2.0])
        >>> f.to_frame()
           region  piece  n_constraints  n_vertices  volume
        0       0      0              3           3     0.5
        1       1      0              3           3     0.5
        """
        import pandas as pd

        return pd.DataFrame(
            {
                "region": np.arange(self.n_regions),
                "piece": self._pieces.copy(),
                "n_constraints": [len(p.b_ub) for p in self._polys],
                "n_vertices": [len(v) for v in self._verts],
                "volume": [p.volume() for p in self._polys],
            }
        )

    def plot(self, ax=None, *, path: str | Path | None = None, color: str = "piece"):
        """Draw the regions of a function of 2 inputs.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Drawn into; a new figure when None.
        path : str or Path, optional
            Write a PNG there, atomically.
        color : {"piece", "value"}, default "piece"
            One colour per piece (regions of one colour share an affine map), or the
            first output's value.

        Returns
        -------
        matplotlib Axes

        Examples
        --------
        >>> import matplotlib; matplotlib.use("Agg")
        >>> f = PiecewiseAffine.from_triangulation([[0, 0], [1, 0], [0, 1], [1, 1]],
        ...                                        [0.0, 1.0, 1.0, 0.0])
        >>> f.plot().get_xlabel()
        'input x[0]'
        """
        if self.n_inputs != 2:
            raise ValueError(f"plot() draws functions of 2 inputs; this one has {self.n_inputs}")
        from .plotting import plot_piecewise_affine

        return plot_piecewise_affine(self, ax, path=path, color=color)


# ----------------------------------------------------------------- helpers
def _rebuild(regions, K, anchor, value, tol, convex) -> PiecewiseAffine:  # pickle
    polys = [seed_vertices(Polytope(a, b), v) for a, b, v in regions]
    return PiecewiseAffine._build(polys, K, anchor, value, tol=tol, convex=convex)


def _rebuild_triangulation(points, values) -> PiecewiseAffine:  # pickle
    return PiecewiseAffine.from_triangulation(points, values)
