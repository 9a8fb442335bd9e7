"""PiecewiseLinear: a continuous piecewise-linear function on the whole line.

The value type of pwlmodels. It needs numpy only (scipy for the interop
constructors, torch for :meth:`PiecewiseLinear.to_torch`, both imported
lazily).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np

from ._numeric import (
    call_user,
    cone_simplify,
    crossing,
    nearer_end_eval,
    nearer_end_table,
    ray_zero,
    refine,
    segment_slopes,
)
from ._validate import (
    as_finite_1d,
    as_float_array,
    as_knots,
    as_real_scalar,
    check_choice,
    check_finite,
    check_int,
    is_real,
)

__all__ = ["PiecewiseLinear"]

_MAX_KNOTS = 10**8  # the largest max_knots for interpolate: 0.8 GB per float64 array


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64, copy=True)
    a.setflags(write=False)
    return a


class PiecewiseLinear:
    """A continuous piecewise-linear function of one variable on the real line.

    Between consecutive knots the function interpolates ``values`` linearly; before the
    first knot it continues with ``left_slope`` and after the last with ``right_slope``.
    Instances are immutable values: the arrays are read-only, ``==`` is exact equality of
    the data and equal functions hash equally (compare computed ones with :meth:`allclose`).

    Parameters
    ----------
    knots : array_like, shape (K,)
        Strictly increasing finite knots, K >= 1.
    values : array_like, shape (K,)
        Finite function values at the knots.
    left_slope, right_slope : float, optional
        Slopes of the two unbounded end pieces. ``None`` (default) continues
        the first (last) segment; both are required when K = 1.

    See Also
    --------
    PiecewiseLinear.from_points : the ``numpy.interp`` / ``PPoly`` conventions.
    pwlmodels.spline_to_relu : the same function as an exact ReLU network.

    Examples
    --------
    >>> import numpy as np
    >>> from pwlmodels import PiecewiseLinear
    >>> f = PiecewiseLinear([0.0, 1.0, 3.0], [0.0, 2.0, 1.0])
    >>> f([-1.0, 0.5, 2.0, 5.0])
    array([-2. ,  1. ,  1.5,  0. ])
    >>> f.slopes
    array([ 2. ,  2. , -0.5, -0.5])
    >>> f.slope_changes
    array([ 0. , -2.5,  0. ])
    >>> bool(f.integrate(0.0, 3.0) == 4.0)
    True
    """

    __slots__ = ("_knots", "_slopes", "_table", "_values")
    __array_ufunc__ = None  # let numpy scalars defer to our reflected operators

    def __init__(
        self,
        knots: object,
        values: object,
        *,
        left_slope: float | None = None,
        right_slope: float | None = None,
    ) -> None:
        t = as_knots(knots, "knots")
        v = as_finite_1d(values, "values")
        if v.shape != t.shape:
            raise ValueError(
                f"`values` must have one entry per knot; got {v.size} values for {t.size} knots"
            )
        if t.size == 1 and (left_slope is None or right_slope is None):
            raise ValueError(
                "`left_slope` and `right_slope` are both required when there is one knot"
            )
        inner = segment_slopes(t, v)
        left = inner[0] if left_slope is None else as_real_scalar(left_slope, "left_slope")
        right = inner[-1] if right_slope is None else as_real_scalar(right_slope, "right_slope")
        self._set(t, v, np.concatenate([[left], inner, [right]]))

    def _set(self, t: np.ndarray, v: np.ndarray, slopes: np.ndarray) -> None:
        object.__setattr__(self, "_knots", _readonly(t))
        object.__setattr__(self, "_values", _readonly(v))
        object.__setattr__(self, "_slopes", _readonly(slopes))
        table = nearer_end_table(self._knots, self._values, self._slopes)
        object.__setattr__(self, "_table", tuple(_readonly(a) for a in table))

    @classmethod
    def _make(cls, t: np.ndarray, v: np.ndarray, left: float, right: float) -> PiecewiseLinear:
        """Build from arrays already known to be valid; check only finiteness."""
        t = np.asarray(t, dtype=np.float64)
        v = np.asarray(v, dtype=np.float64)
        inner = segment_slopes(t, v)
        slopes = np.concatenate([[left], inner, [right]])
        if not (np.isfinite(v).all() and np.isfinite(slopes).all()):
            raise ValueError("the result overflows float64; rescale the inputs")
        obj = cls.__new__(cls)
        obj._set(t, v, slopes)
        return obj

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("PiecewiseLinear is immutable; build a new one instead")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("PiecewiseLinear is immutable; build a new one instead")

    def __reduce__(self):  # pickle through the public constructor
        return (
            _rebuild,
            (self._knots, self._values, self.left_slope, self.right_slope),
        )

    # ------------------------------------------------------------------ data
    @property
    def knots(self) -> np.ndarray:
        """ndarray, shape (K,): the knots, strictly increasing (read-only)."""
        return self._knots.view()  # a view cannot be made writeable again

    @property
    def values(self) -> np.ndarray:
        """ndarray, shape (K,): the function values at the knots (read-only)."""
        return self._values.view()

    @property
    def left_slope(self) -> float:
        """float: slope of the piece left of the first knot."""
        return float(self._slopes[0])

    @property
    def right_slope(self) -> float:
        """float: slope of the piece right of the last knot."""
        return float(self._slopes[-1])

    @property
    def slopes(self) -> np.ndarray:
        """ndarray, shape (K + 1,): left slope, the K - 1 segment slopes, right slope."""
        return self._slopes.view()

    @property
    def slope_changes(self) -> np.ndarray:
        """ndarray, shape (K,): the jump of the slope at each knot (right minus left)."""
        return np.diff(self._slopes)

    def __repr__(self) -> str:
        def fmt(a: np.ndarray) -> str:
            return np.array2string(a, precision=17, threshold=8, separator=", ")

        return (
            f"PiecewiseLinear(knots={fmt(self._knots)}, values={fmt(self._values)}, "
            f"left_slope={self.left_slope!r}, right_slope={self.right_slope!r})"
        )

    def __eq__(self, other: object) -> bool:
        """Bit-for-bit equality of the data: computed results rarely pass it (on random data
        ``relu_to_spline(spline_to_relu(f)) == f.simplify()`` fails by a few ulps); use
        :meth:`allclose`, with an ``atol`` near ``1e-12 * max|f|`` for values near zero."""
        if not isinstance(other, PiecewiseLinear):
            return NotImplemented
        return (
            np.array_equal(self._knots, other._knots)
            and np.array_equal(self._values, other._values)
            and self.left_slope == other.left_slope
            and self.right_slope == other.right_slope
        )

    def __hash__(self) -> int:
        return hash(
            (self._knots.tobytes(), self._values.tobytes(), self.left_slope, self.right_slope)
        )

    def allclose(self, other: PiecewiseLinear, *, rtol: float = 1e-12, atol: float = 0.0) -> bool:
        """Whether knots, values and end slopes agree within ``rtol`` and ``atol``.

        Functions with different numbers of knots are never close; compare
        ``f.simplify()`` with ``g.simplify()`` to ignore collinear knots.

        Parameters
        ----------
        other : PiecewiseLinear
        rtol, atol : float, default 1e-12 and 0.0
            As in ``numpy.allclose``, entry by entry.

        Examples
        --------
        >>> f = PiecewiseLinear([0.0, 1.0], [0.0, 1.0])
        >>> f.allclose(f * (1 + 1e-15)), f.allclose(f + 1e-15)
        (True, False)
        """
        if not isinstance(other, PiecewiseLinear):
            raise TypeError(f"`other` must be a PiecewiseLinear; got {type(other).__name__}")
        if other._knots.shape != self._knots.shape:
            return False
        pairs = [
            (self._knots, other._knots),
            (self._values, other._values),
            (self._slopes[[0, -1]], other._slopes[[0, -1]]),
        ]
        return all(np.allclose(a, b, rtol=rtol, atol=atol) for a, b in pairs)

    # ------------------------------------------------------------ evaluation
    def __call__(self, x: object) -> np.ndarray:
        """Evaluate at ``x`` (any shape; numpy in, numpy out, float64).

        A scalar gives a numpy scalar. Non-finite inputs raise a ValueError.

        Each point is evaluated from the end of its piece nearer to it,
        ``y = v_j + s * d`` with ``d = fl(x - t_j)``, ``t_j`` the nearer knot
        (the pieces split at their rounded midpoints) and ``s`` the stored
        slope (``slopes``). With ``u = 2**-53``, and
        ``f(x)`` the real-arithmetic value of the spline defined by the
        stored ``knots``, ``values`` and end slopes (the interior slopes exact
        quotients of the data), the error is

        ``|y - f(x)| <= 2 u |y| + 6 u |s| |d| + 2**-1074 (1 + |d|)``.

        Derivation (Higham 2002, ch. 3): an interior slope is stored as
        ``s = S (1 + theta_3)``, ``|theta_3| <= gamma_3``, with ``S`` the
        exact quotient; then ``fl(s fl(x - t_j)) = S (x - t_j)(1 + theta_5)``
        and the final addition rounds once more, so ``|y - f(x)| <= u/(1 - u)
        |y| + gamma_5 |S| |x - t_j|``, below the
        stated terms once ``|S| <= |s|/(1 - gamma_3)`` and ``|x - t_j| <=
        |d|/(1 - u)``; ``2**-1074 (1 + |d|)`` covers underflow in the slope
        and the product. Because ``|d|`` is at most half the piece, the bound
        is a few ulps of ``y`` plus ``6 u |s| |d|``, which vanishes at the
        knots, where ``y`` is the stored value exactly. (The formula of
        ``numpy.interp``, always from the left end, can be off by ``u |s| h``
        at the right end of a piece of width ``h``: tens of millions of ulps
        on steep pieces.) :func:`pwlmodels.rounding_bound` includes this term.

        Examples
        --------
        A steep piece, evaluated one ulp left of its right knot, against
        exact rational arithmetic:

        >>> from fractions import Fraction as Q
        >>> f = PiecewiseLinear([0.4536111451758895, 0.4616305669599977],
        ...                     [269396315057.2506, 81.18337814406866])
        >>> (t0, t1), (v0, v1), x = f.knots, f.values, 0.46163056695999766
        >>> exact = Q(v1) + (Q(v1) - Q(v0)) / (Q(t1) - Q(t0)) * (Q(x) - Q(t1))
        >>> bool(abs(Q(float(f(x))) - exact) <= 2**-53 * abs(exact))
        True
        """
        x = as_float_array(x, "x")
        check_finite(x, "x")
        return nearer_end_eval(self._table, x)[0][()]

    def slope(self, x: object, *, side: str = "right") -> np.ndarray:
        """The exact one-sided derivative at ``x`` (any shape).

        Parameters
        ----------
        x : array_like
            Points, finite.
        side : {"right", "left"}, default "right"
            Which one-sided derivative to return at a knot; elsewhere both agree.

        Examples
        --------
        >>> f = PiecewiseLinear([0.0], [0.0], left_slope=-1.0, right_slope=1.0)
        >>> float(f.slope(0.0)), float(f.slope(0.0, side="left"))
        (1.0, -1.0)
        """
        check_choice(side, "side", ("right", "left"))
        x = as_float_array(x, "x")
        check_finite(x, "x")
        return self._slopes[np.searchsorted(self._knots, x, side=side)][()]

    # ---------------------------------------------------------- constructors
    @classmethod
    def from_points(cls, x: object, y: object, *, extrapolate: str = "linear") -> PiecewiseLinear:
        """Interpolate the points ``(x, y)``.

        Parameters
        ----------
        x : array_like, shape (K,)
            Strictly increasing finite abscissae.
        y : array_like, shape (K,)
            Finite ordinates.
        extrapolate : {"linear", "constant"}, default "linear"
            ``"linear"`` continues the end segments, as scipy's ``PPoly``
            (needs K >= 2); ``"constant"`` holds the end values, as
            ``numpy.interp``.

        Examples
        --------
        >>> import numpy as np
        >>> x, y = [0.0, 1.0, 2.0], [1.0, 3.0, 2.0]
        >>> f = PiecewiseLinear.from_points(x, y, extrapolate="constant")
        >>> xs = np.linspace(-1.0, 3.0, 9)
        >>> bool(np.allclose(f(xs), np.interp(xs, x, y), rtol=1e-15, atol=1e-15))
        True
        """
        check_choice(extrapolate, "extrapolate", ("linear", "constant"))
        t = as_knots(x, "x")
        if extrapolate == "linear":
            if t.size < 2:
                raise ValueError(
                    "`x` needs at least 2 points for extrapolate='linear'; got 1 "
                    "(use extrapolate='constant' or the constructor with end slopes)"
                )
            return cls(t, _check_len(y, t))
        return cls(t, _check_len(y, t), left_slope=0.0, right_slope=0.0)

    @classmethod
    def interpolate(
        cls,
        f: Callable[[np.ndarray], object],
        a: float,
        b: float,
        *,
        n: int | None = None,
        tol: float | None = None,
        max_knots: int = 100_000,
    ) -> PiecewiseLinear:
        """Interpolate a callable on ``[a, b]``, continuing the end segments.

        Give exactly one of ``n`` (uniform knots) or ``tol``. With ``tol`` the
        knots are refined by bisection until the interpolation error at every
        interval midpoint is at most ``tol``: an estimate of the maximum error
        (exact for functions whose error peaks at midpoints, such as
        quadratics), not a guarantee for functions with features narrower
        than the final spacing.

        Parameters
        ----------
        f : callable
            Vectorised: maps a float64 array to an array of the same shape.
        a, b : float
            Finite, ``a < b``.
        n : int, optional
            Number of uniform knots, from 2 to ``max_knots``.
        tol : float, optional
            Target absolute error, positive.
        max_knots : int, default 100000
            Guard, at most 10**8: a ValueError when ``n`` or the refinement
            would exceed it (rather than running out of memory).

        Examples
        --------
        >>> import numpy as np
        >>> g = PiecewiseLinear.interpolate(np.square, 0.0, 1.0, tol=1e-4)
        >>> xs = np.linspace(0.0, 1.0, 10001)
        >>> bool(np.max(np.abs(g(xs) - xs**2)) <= 1e-4)
        True
        """
        if not callable(f):
            raise TypeError(f"`f` must be callable; got {type(f).__name__}")
        a = as_real_scalar(a, "a")
        b = as_real_scalar(b, "b")
        if not a < b:
            raise ValueError(f"`a` must be less than `b`; got a = {a!r}, b = {b!r}")
        if (n is None) == (tol is None):
            raise ValueError("give exactly one of `n` (uniform knots) or `tol` (adaptive)")
        max_knots = check_int(max_knots, "max_knots", minimum=9, maximum=_MAX_KNOTS)
        if n is not None:
            if isinstance(n, bool) or not isinstance(n, numbers.Integral):
                raise TypeError(f"`n` must be an integer; got {type(n).__name__}")
            if n < 2:
                raise ValueError(f"`n` must be at least 2; got {int(n)}")
            if n > max_knots:
                raise ValueError(
                    f"`n` must be at most `max_knots` = {int(max_knots)}; got {int(n)} "
                    f"(raise max_knots, up to {_MAX_KNOTS}, for more knots)"
                )
            x = np.linspace(a, b, int(n))
            return cls(x, call_user(f, x))
        tol = as_real_scalar(tol, "tol")
        if tol <= 0:
            raise ValueError(f"`tol` must be positive; got {tol!r}")
        x, y = refine(f, a, b, tol, int(max_knots))
        return cls(x, y)

    @classmethod
    def from_scipy(cls, obj: object) -> PiecewiseLinear:
        """Convert a scipy piecewise-linear interpolant, end slopes included.

        Accepted: ``PPoly`` of degree <= 1 that is continuous, ``BSpline``
        of degree 1, and ``interp1d(kind="linear")``, each defined on the
        whole line (``extrapolate=True``, ``fill_value="extrapolate"``, or
        a fill equal to the end values, which gives constant extrapolation).

        Parameters
        ----------
        obj : scipy.interpolate.PPoly, BSpline or interp1d

        Examples
        --------
        >>> from scipy.interpolate import make_interp_spline
        >>> b = make_interp_spline([0.0, 1.0, 2.0], [0.0, 1.0, 0.0], k=1)
        >>> f = PiecewiseLinear.from_scipy(b)
        >>> bool(f(3.0) == b(3.0))
        True
        """
        from ._scipy import from_scipy_object

        t, v, left, right = from_scipy_object(obj)
        return cls(t, v, left_slope=left, right_slope=right)

    def _extended(self) -> tuple[np.ndarray, np.ndarray]:
        """Knots and values with one extra point beyond each end."""
        t, v = self._knots, self._values
        d = t[-1] - t[0] if t.size > 1 else max(1.0, abs(t[0]))
        xe = np.concatenate([[t[0] - d], t, [t[-1] + d]])
        ve = np.concatenate([[v[0] - self._slopes[0] * d], v, [v[-1] + self._slopes[-1] * d]])
        check_finite(np.concatenate([xe, ve]), "extended knots and values")
        return xe, ve

    def to_ppoly(self):
        """A ``scipy.interpolate.PPoly`` (degree 1) equal to this function.

        One extra breakpoint beyond each end carries the end slopes, which
        scipy reproduces through ``extrapolate=True``.

        Examples
        --------
        >>> import numpy as np
        >>> f = PiecewiseLinear([0.0, 1.0], [0.0, 1.0], left_slope=0.0, right_slope=3.0)
        >>> p = f.to_ppoly()
        >>> xs = np.array([-5.0, 0.5, 4.0])
        >>> np.allclose(p(xs), f(xs), rtol=1e-15, atol=0)
        True
        """
        from scipy.interpolate import PPoly

        xe, ve = self._extended()
        c = np.vstack([self._slopes, ve[:-1]])
        return PPoly(c, xe, extrapolate=True)

    def to_bspline(self):
        """A degree-1 ``scipy.interpolate.BSpline`` equal to this function.

        Examples
        --------
        >>> import numpy as np
        >>> f = PiecewiseLinear([0.0, 1.0], [0.0, 1.0], left_slope=0.0, right_slope=3.0)
        >>> np.allclose(f.to_bspline()([-5.0, 4.0]), [0.0, 10.0], rtol=1e-15, atol=0)
        True
        """
        from scipy.interpolate import BSpline

        xe, ve = self._extended()
        return BSpline(np.concatenate([xe[:1], xe, xe[-1:]]), ve, 1, extrapolate=True)

    def to_torch(self, *, dtype=None, device=None):
        """A differentiable torch module evaluating this function fast.

        It locates ``x`` with ``torch.searchsorted`` and maps any shape to
        the same shape: use it to evaluate; use
        :func:`pwlmodels.spline_to_relu` for an exact network to train,
        compose or verify.

        Parameters
        ----------
        dtype : torch.dtype, default torch.float64
        device : torch.device or str, optional (CPU)

        Examples
        --------
        >>> import torch
        >>> f = PiecewiseLinear([0.0, 1.0], [0.0, 2.0])
        >>> f.to_torch()(torch.tensor([0.25, 3.0], dtype=torch.float64))
        tensor([0.5000, 6.0000], dtype=torch.float64)
        """
        from .network._spline_module import SplineModule

        return SplineModule(self, dtype=dtype, device=device)

    # ---------------------------------------------------------------- algebra
    def __add__(self, other: object) -> PiecewiseLinear:
        if isinstance(other, PiecewiseLinear):
            u = np.union1d(self._knots, other._knots)
            return PiecewiseLinear._make(
                u,
                self(u) + other(u),
                self.left_slope + other.left_slope,
                self.right_slope + other.right_slope,
            )
        if is_real(other):
            c = as_real_scalar(other, "other")
            return PiecewiseLinear._make(self._knots, self._values + c, *self._ends())
        return NotImplemented

    __radd__ = __add__

    def __neg__(self) -> PiecewiseLinear:
        return self * -1.0

    def __sub__(self, other: object) -> PiecewiseLinear:
        if isinstance(other, PiecewiseLinear) or is_real(other):
            return self + (-other)
        return NotImplemented

    def __rsub__(self, other: object) -> PiecewiseLinear:
        if is_real(other):
            return (-self) + other
        return NotImplemented

    def __mul__(self, other: object) -> PiecewiseLinear:
        if isinstance(other, PiecewiseLinear):
            raise TypeError(
                "the product of two PiecewiseLinear functions is not piecewise linear; "
                "only a real scalar times a PiecewiseLinear is supported"
            )
        if not is_real(other):
            return NotImplemented
        c = as_real_scalar(other, "other")
        left, right = self._ends()
        return PiecewiseLinear._make(self._knots, self._values * c, left * c, right * c)

    __rmul__ = __mul__

    def __truediv__(self, other: object) -> PiecewiseLinear:
        if not is_real(other):
            return NotImplemented
        c = as_real_scalar(other, "other")
        if c == 0:
            raise ZeroDivisionError("division of a PiecewiseLinear by zero")
        return self * (1.0 / c)

    def _ends(self) -> tuple[float, float]:
        return self.left_slope, self.right_slope

    def integrate(self, a: float, b: float) -> float:
        """The exact integral over ``[a, b]`` (negative when ``a > b``).

        Parameters
        ----------
        a, b : float
            Finite limits.

        Returns
        -------
        float

        Examples
        --------
        >>> f = PiecewiseLinear([0.0, 1.0], [0.0, 1.0], left_slope=0.0, right_slope=0.0)
        >>> f.integrate(-1.0, 2.0)
        1.5
        """
        a = as_real_scalar(a, "a")
        b = as_real_scalar(b, "b")
        if a > b:
            return -self.integrate(b, a)
        t = self._knots
        p = np.concatenate([[a], t[(t > a) & (t < b)], [b]])
        y = self(p)
        return float(np.sum(np.diff(p) * (y[:-1] + y[1:])) / 2.0)

    def _extreme(self, a: float | None, b: float | None, sign: float) -> tuple[float, float]:
        """(argmax, max) of sign * f over [a, b]; None ends mean unbounded."""
        lo = -np.inf if a is None else as_real_scalar(a, "a")
        hi = np.inf if b is None else as_real_scalar(b, "b")
        if lo > hi:
            raise ValueError(f"`a` must not exceed `b`; got a = {lo!r}, b = {hi!r}")
        word = "above" if sign > 0 else "below"
        if a is None and sign * self.left_slope < 0:
            raise ValueError(
                f"f is unbounded {word} as x -> -inf (left_slope = {self.left_slope!r}); "
                "give a finite `a`"
            )
        if b is None and sign * self.right_slope > 0:
            raise ValueError(
                f"f is unbounded {word} as x -> +inf (right_slope = {self.right_slope!r}); "
                "give a finite `b`"
            )
        t = self._knots
        cand = t[(t >= lo) & (t <= hi)]
        ends = [e for e in (lo, hi) if np.isfinite(e)]
        cand = np.unique(np.concatenate([cand, ends]))
        if cand.size == 0:  # unbounded side(s) and no knot inside: nearest knot
            cand = t[[0]] if hi < t[0] else t[[-1]]
        y = sign * self(cand)
        i = int(np.argmax(y))
        return float(cand[i]), float(sign * y[i])

    def max(self, a: float | None = None, b: float | None = None) -> float:
        """The maximum over ``[a, b]``.

        Parameters
        ----------
        a, b : float, optional
            Ends of the interval, ``a <= b``; ``None`` (default) extends it to
            infinity. A ValueError when ``f`` is unbounded above there.

        Returns
        -------
        float

        Examples
        --------
        >>> f = PiecewiseLinear([0.0, 1.0, 2.0], [0.0, 1.0, 0.0])
        >>> f.max(), f.max(-1.0, 0.5), f.argmax()
        (1.0, 0.5, 1.0)
        """
        return self._extreme(a, b, 1.0)[1]

    def min(self, a: float | None = None, b: float | None = None) -> float:
        """The minimum over ``[a, b]``.

        Parameters
        ----------
        a, b : float, optional
            Ends of the interval, ``a <= b``; ``None`` (default) extends it to
            infinity. A ValueError when ``f`` is unbounded below there.

        Returns
        -------
        float

        Examples
        --------
        >>> f = PiecewiseLinear([0.0], [1.0], left_slope=-1.0, right_slope=2.0)
        >>> f.min(), f.argmin()
        (1.0, 0.0)
        """
        return self._extreme(a, b, -1.0)[1]

    def argmax(self, a: float | None = None, b: float | None = None) -> float:
        """The smallest knot or end point of ``[a, b]`` where the maximum is attained.

        Parameters
        ----------
        a, b : float, optional
            As in :meth:`max`.

        Returns
        -------
        float

        Examples
        --------
        >>> f = PiecewiseLinear([0.0, 1.0, 2.0, 3.0], [0.0, 2.0, 2.0, 0.0])
        >>> f.argmax(), f.argmax(1.5, 3.0)
        (1.0, 1.5)
        """
        return self._extreme(a, b, 1.0)[0]

    def argmin(self, a: float | None = None, b: float | None = None) -> float:
        """The smallest knot or end point of ``[a, b]`` where the minimum is attained.

        Parameters
        ----------
        a, b : float, optional
            As in :meth:`min`.

        Returns
        -------
        float

        Examples
        --------
        >>> f = PiecewiseLinear([0.0, 1.0], [1.0, -1.0], left_slope=0.0, right_slope=1.0)
        >>> f.argmin(), f.argmin(-5.0, 0.5)
        (1.0, 0.5)
        """
        return self._extreme(a, b, -1.0)[0]

    def roots(self, y: float = 0.0) -> np.ndarray:
        """All ``x`` with ``f(x) == y``, sorted.

        Where ``f`` equals ``y`` on a whole segment or end piece, the finite
        end points of that piece are returned. Crossing points are computed
        in float64 and are correct to a few ulps; zeros beyond the float64
        range are omitted.

        Parameters
        ----------
        y : float, default 0.0

        Returns
        -------
        ndarray, shape (n_roots,)

        Examples
        --------
        >>> f = PiecewiseLinear([0.0, 1.0], [-1.0, 1.0])
        >>> f.roots()
        array([0.5])
        """
        y = as_real_scalar(y, "y")
        t = self._knots
        d = self._values - y
        found = [t[d == 0]]
        i = np.nonzero(d[:-1] * d[1:] < 0)[0]
        found.append(crossing(t[i], t[i + 1], d[i], d[i + 1]))
        left, right = self._ends()
        found += [ray_zero(t[0], d[0], left, -1.0), ray_zero(t[-1], d[-1], right, 1.0)]
        return np.unique(np.concatenate(found))

    def inverse(self) -> PiecewiseLinear:
        """The inverse function of a strictly monotone ``f``.

        Examples
        --------
        >>> f = PiecewiseLinear([0.0, 1.0], [0.0, 2.0])
        >>> g = f.inverse()
        >>> float(g(f(0.3)))
        0.3
        """
        s = self._slopes
        if not ((s > 0).all() or (s < 0).all()):
            j = int(np.argmax(s <= 0)) if s[0] > 0 else int(np.argmax(s >= 0))
            if s[0] == 0:
                j = 0
            raise ValueError(
                "f must be strictly monotone to have an inverse; got slopes[0] = "
                f"{float(s[0])!r}" + ("" if j == 0 else f" and slopes[{j}] = {float(s[j])!r}")
            )
        t, v = self._knots, self._values
        if s[0] > 0:
            knots, vals, left, right = v, t, 1.0 / s[0], 1.0 / s[-1]
        else:
            knots, vals, left, right = v[::-1], t[::-1], 1.0 / s[-1], 1.0 / s[0]
        if (np.diff(knots) <= 0).any():
            raise ValueError(
                "f is monotone but two knot values coincide in float64; "
                "the inverse has no strictly increasing knots"
            )
        return PiecewiseLinear._make(knots, vals, left, right)

    def simplify(self, tol: float = 0.0) -> PiecewiseLinear:
        """Drop knots whose removal changes ``f`` by at most ``tol * (1 + max|f|)``.

        ``max|f|`` is taken over the knots. End knots go only where the slope
        does not change at all (removing them otherwise changes ``f`` without
        bound). With ``tol=0`` exactly the knots whose slope change is zero
        in float64 are dropped; collinear data usually leave changes near
        1e-17 and so keep their knots. At least one knot is always kept.

        Parameters
        ----------
        tol : float, default 0.0
            Non-negative relative tolerance.

        Returns
        -------
        PiecewiseLinear

        Examples
        --------
        >>> f = PiecewiseLinear([0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 2.0, 0.0])
        >>> f.simplify().knots  # only the knot at 2 bends f
        array([2.])
        """
        tol = as_real_scalar(tol, "tol")
        if tol < 0:
            raise ValueError(f"`tol` must be non-negative; got {tol!r}")
        keep = self.slope_changes != 0
        if tol > 0 and keep.sum() > 2:
            threshold = tol * (1.0 + float(np.max(np.abs(self._values))))
            idx = np.nonzero(keep)[0]
            sub = cone_simplify(self._knots[idx], self._values[idx], threshold)
            keep = np.zeros_like(keep)
            keep[idx[sub]] = True
        if not keep.any():
            keep[0] = True
        return PiecewiseLinear._make(self._knots[keep], self._values[keep], *self._ends())


# ----------------------------------------------------------------- helpers
def _rebuild(t, v, left, right) -> PiecewiseLinear:
    return PiecewiseLinear(t, v, left_slope=left, right_slope=right)


def _check_len(y: object, t: np.ndarray) -> np.ndarray:
    v = as_finite_1d(y, "y")
    if v.size != t.size:
        raise ValueError(f"`y` must have one entry per x; got {v.size} for {t.size}")
    return v
