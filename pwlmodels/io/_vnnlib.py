"""VNN-LIB property files: the standard subset VNN-COMP benchmarks use.

A file declares inputs ``X_0 ... X_{n-1}`` and outputs ``Y_0 ... Y_{m-1}``
(``(declare-const X_0 Real)``) and asserts the *unsafe* set: bounds on the
inputs (possibly a disjunction of boxes) and linear constraints on the
outputs (possibly a disjunction of conjunctions). The property holds when no
input of a box reaches an output that meets its constraints.

Read here: ``declare-const`` of ``X_i`` / ``Y_j`` (sort ``Real``), ``assert``,
``and``, ``or``, ``<=`` and ``>=`` between linear terms (numbers, variables,
``+``, ``-``, and ``*`` by a constant), constraints that bound one input by a
constant, and constraints on outputs and constants. Anything else (strict
inequalities, ``not``, products of variables, constraints mixing inputs and
outputs...) is refused with the construct and its line named. Numerals are
ASCII decimals and names have no leading zeros (``Y_01`` is not ``Y_1``).
Arithmetic on the constants is exact (decimals of 100 digits and exponents of
any size; an inexact sum or product is refused); the resulting constants are
rounded outward to float64 (input lower bounds down, upper bounds up, the
right-hand side of an output constraint up), and an output coefficient must
be exact in float64, so the sets read hold the sets written; each case also
keeps the constants rounded inward, whose sets the written ones hold (where a
counterexample must lie).
"""

from __future__ import annotations

import decimal
import math
import os
import re
from dataclasses import dataclass
from decimal import Decimal
from itertools import product
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .._validate import as_finite_1d, as_float_array, check_finite, check_int, round_outward

__all__ = ["VnnlibCase", "VnnlibSpec", "load_vnnlib"]

_VARIABLE = re.compile(r"([XY])_(0|[1-9][0-9]*)\Z", flags=re.ASCII)  # one name per index
_NUMERAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")
_MAX_TERMS = 100_000  # conjunctions after distributing "and" over "or"
_MAX_BYTES = 64 * 2**20


@dataclass(frozen=True)
class VnnlibCase:
    """One input box and the unsafe outputs for it.

    Attributes
    ----------
    lower, upper : ndarray, shape (n_inputs,)
        The box ``lower <= x <= upper``.
    unsafe : tuple of (A, b)
        A disjunction: the output ``y`` is unsafe when ``A @ y <= b`` holds for
        one of the pairs (``A`` of shape (k, n_outputs), ``b`` of shape (k,)).
    inner_lower, inner_upper, inner_b
        The same constants rounded inward (``inner_b[j]`` pairs with
        ``unsafe[j]``): the sets they give lie inside the sets written, so an
        input in the inner box whose output meets ``A @ y <= inner_b`` is a
        counterexample to the file as written. Equal to ``lower``, ``upper``,
        ``b`` where the file's constants are doubles.
    """

    lower: np.ndarray
    upper: np.ndarray
    unsafe: tuple[tuple[np.ndarray, np.ndarray], ...]
    inner_lower: np.ndarray
    inner_upper: np.ndarray
    inner_b: tuple[np.ndarray, ...]

    def __post_init__(self) -> None:
        # a case built by hand is checked as the reader's are built: finite float64
        # arrays of matching shapes, read-only
        sides = {}
        for name in ("lower", "upper", "inner_lower", "inner_upper"):
            sides[name] = _frozen(as_finite_1d(getattr(self, name), name).copy())
        n = sides["lower"].size
        for name, arr in sides.items():
            if arr.size != n or n == 0:
                raise ValueError(f"`{name}` must have one entry per input ({n}); got {arr.size}")
        if (sides["lower"] > sides["upper"]).any():
            i = int(np.argmax(sides["lower"] > sides["upper"]))
            raise ValueError(f"`lower` must be <= `upper`; got lower[{i}] > upper[{i}]")
        pairs = _pairs(self.unsafe)
        if not isinstance(self.inner_b, (tuple, list)) or len(self.inner_b) != len(pairs):
            raise ValueError(f"`inner_b` must hold one vector per pair of `unsafe` ({len(pairs)})")
        inner_b = []
        for j, ((_, b), c) in enumerate(zip(pairs, self.inner_b, strict=True)):
            c = as_finite_1d(c, f"inner_b[{j}]")
            if c.shape != b.shape:
                raise ValueError(f"`inner_b[{j}]` must have shape {b.shape}; got {c.shape}")
            inner_b.append(_frozen(c.copy()))
        for name, value in (*sides.items(), ("unsafe", pairs), ("inner_b", tuple(inner_b))):
            object.__setattr__(self, name, value)


@dataclass(frozen=True)
class VnnlibSpec:
    """A VNN-LIB property: the unsafe set as a disjunction of :class:`VnnlibCase`.

    Attributes
    ----------
    n_inputs, n_outputs : int
    cases : tuple of VnnlibCase
        The property holds when no case has an input in its box whose output
        is unsafe.
    """

    n_inputs: int
    n_outputs: int
    cases: tuple[VnnlibCase, ...]

    def __post_init__(self) -> None:
        n_in, n_out = check_int(self.n_inputs, "n_inputs"), check_int(self.n_outputs, "n_outputs")
        if not isinstance(self.cases, (tuple, list)):
            raise TypeError(
                f"`cases` must be a tuple of VnnlibCase; got {type(self.cases).__name__}"
            )
        for i, case in enumerate(self.cases):
            if not isinstance(case, VnnlibCase):
                raise TypeError(f"`cases[{i}]` must be a VnnlibCase; got {type(case).__name__}")
            if case.lower.size != n_in:
                raise ValueError(f"`cases[{i}]` has {case.lower.size} inputs; `n_inputs` is {n_in}")
            cols = {a.shape[1] for a, _ in case.unsafe}
            if cols - {n_out}:
                raise ValueError(
                    f"`cases[{i}]` has output rows of {min(cols - {n_out})} entries; "
                    f"`n_outputs` is {n_out}"
                )
        object.__setattr__(self, "n_inputs", n_in)
        object.__setattr__(self, "n_outputs", n_out)
        object.__setattr__(self, "cases", tuple(self.cases))


def load_vnnlib(path: str | os.PathLike) -> VnnlibSpec:
    """Read a VNN-LIB property file (the subset VNN-COMP benchmarks use).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    VnnlibSpec

    Raises
    ------
    ValueError
        Naming the file, the line and the construct outside the subset, or
        what is missing (an input without a bound, undeclared variables...).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from pwlmodels.io import load_vnnlib
    >>> text = '''
    ... (declare-const X_0 Real)
    ... (declare-const Y_0 Real)
    ... (declare-const Y_1 Real)
    ... (assert (>= X_0 -1.0))
    ... (assert (<= X_0 1.0))
    ... (assert (or (and (<= Y_0 Y_1)) (and (>= Y_0 3.5))))
    ... '''
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = pathlib.Path(tmp) / "prop.vnnlib"
    ...     _ = p.write_text(text)
    ...     spec = load_vnnlib(p)
    >>> spec.n_inputs, spec.n_outputs, len(spec.cases), len(spec.cases[0].unsafe)
    (1, 2, 1, 2)
    >>> [(a.tolist(), b.tolist()) for a, b in spec.cases[0].unsafe]
    [([[1.0, -1.0]], [0.0]), ([[-1.0, 0.0]], [-3.5])]
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a str or path-like; got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such VNN-LIB file")
    if path.stat().st_size > _MAX_BYTES:
        raise ValueError(f"{path}: larger than {_MAX_BYTES // 2**20} MiB; not read")
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark is not a token
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text file") from None
    # Exponents of any size and 100 digits, with inexact results trapped: the sums and
    # products of the file's constants are exact, or the file is refused.
    context = decimal.Context(
        prec=100,
        Emin=decimal.MIN_EMIN,
        Emax=decimal.MAX_EMAX,
        traps=[decimal.Inexact, decimal.Overflow, decimal.InvalidOperation],
    )
    try:
        with decimal.localcontext(context):
            return _Reader().read(text)
    except _Refused as exc:
        raise ValueError(f"{path}: {exc}") from None
    except decimal.DecimalException:
        raise ValueError(
            f"{path}: arithmetic on its constants is not exact in 100 digits, or overflows"
        ) from None
    except RecursionError:
        raise ValueError(f"{path}: formulas or terms nested too deeply") from None


class _Refused(Exception):
    pass


class _Atom(NamedTuple):
    text: str
    line: int


class _Form(NamedTuple):
    """A parenthesised list and the line it opens on."""

    line: int
    items: list


def _tokens(text: str) -> list:
    out = []
    # lines end at \r\n, \r or \n only: str.splitlines also ends them at form feeds,
    # \x1c-\x1e, \x85 and U+2028/9, which would end a ';' comment early and read the
    # rest of it as formulas
    for number, line in enumerate(re.split(r"\r\n|\r|\n", text), 1):
        line = line.split(";", 1)[0]
        for tok in re.findall(r"\(|\)|[^\s()]+", line):
            out.append(_Atom(tok, number))
    return out


def _parse(tokens: list) -> list:
    """The top-level forms: nested :class:`_Form` and :class:`_Atom`."""
    stack = [_Form(0, [])]
    for tok in tokens:
        if tok.text == "(":
            stack.append(_Form(tok.line, []))
        elif tok.text == ")":
            if len(stack) == 1:
                raise _Refused(f"line {tok.line}: ')' without a matching '('")
            done = stack.pop()
            stack[-1].items.append(done)
        else:
            stack[-1].items.append(tok)
    if len(stack) > 1:
        raise _Refused(f"line {stack[-1].line}: '(' is never closed")
    return stack[0].items


def _number(text: str) -> Decimal | None:
    """A decimal numeral (ASCII digits, optional sign, point and exponent), else None."""
    return Decimal(text) if _NUMERAL.match(text) else None


def _rounded(value: Decimal, up: bool, what: str) -> tuple[float, float]:
    """``value`` rounded outward (:func:`round_outward` on the side ``up``) and inward,
    refusing a constant beyond float64's range (``what`` names it)."""
    near = round_outward(value, up)
    if math.isinf(near):
        raise _Refused(f"{what}, {value:.6E}, overflows float64")
    return near, round_outward(value, not up)


class _Reader:
    def __init__(self) -> None:
        self.declared: dict[str, set[int]] = {"X": set(), "Y": set()}
        self.asserts: list = []
        self.items: dict = {}  # id of a constraint -> (it, its reading)
        self.boxes: dict = {}  # ids of a conjunction's input bounds -> its box

    def read(self, text: str) -> VnnlibSpec:
        for form in _parse(_tokens(text)):
            if not isinstance(form, _Form) or not form.items:
                raise _Refused(f"line {form.line}: expected a command in parentheses")
            head = _text(form.items[0])
            if head == "declare-const":
                self._declare(form)
            elif head == "assert":
                if len(form.items) != 2:
                    raise _Refused(f"line {form.line}: assert takes one formula")
                self.asserts.append(form.items[1])
            else:
                raise _Refused(f"line {form.line}: the command {head!r} is not in the subset")
        n_in, n_out = (self._count(kind) for kind in ("X", "Y"))
        terms = [[]]
        for formula in self.asserts:
            terms = _and(terms, self._dnf(formula))
        return VnnlibSpec(n_in, n_out, self._cases(terms, n_in, n_out))

    def _declare(self, form) -> None:
        items = form.items
        if len(items) != 3 or _text(items[2]) != "Real":
            raise _Refused(f"line {form.line}: declare-const takes a name and the sort Real")
        match = _VARIABLE.match(_text(items[1]))
        if match is None:
            raise _Refused(
                f"line {form.line}: variable {_text(items[1])!r} is not X_i (input) or Y_j (output)"
            )
        kind, index = match.group(1), int(match.group(2))
        if index in self.declared[kind]:
            raise _Refused(f"line {form.line}: {_text(items[1])} is declared twice")
        self.declared[kind].add(index)

    def _count(self, kind: str) -> int:
        indices = sorted(self.declared[kind])
        if not indices:
            raise _Refused(f"no {kind}_0 is declared")
        if indices != list(range(len(indices))):
            missing = min(set(range(indices[-1] + 1)) - set(indices))
            raise _Refused(f"{kind}_{missing} is not declared (indices must run from 0)")
        return len(indices)

    def _dnf(self, formula) -> list:
        """A disjunction (list) of conjunctions (lists) of constraints ``(coef, const, line)``."""
        if not isinstance(formula, _Form) or not formula.items:
            raise _Refused(f"line {formula.line}: expected a formula in parentheses")
        line, items = formula
        head = _text(items[0])
        if head == "and":
            terms = [[]]
            for part in items[1:]:
                terms = _and(terms, self._dnf(part))
            return terms
        if head == "or":
            return [term for part in items[1:] for term in self._dnf(part)]
        if head in ("<=", ">="):
            if len(items) != 3:
                raise _Refused(f"line {line}: {head} takes two terms")
            left, right = self._linear(items[1]), self._linear(items[2])
            if head == ">=":
                left, right = right, left
            coef = {k: left[0].get(k, 0) - right[0].get(k, 0) for k in {*left[0], *right[0]}}
            return [[({k: v for k, v in coef.items() if v != 0}, right[1] - left[1], line)]]
        raise _Refused(f"line {line}: {head!r} is not in the subset (and, or, <=, >=)")

    def _linear(self, term) -> tuple[dict, Decimal]:
        """``term`` as (coefficients by variable, constant)."""
        if isinstance(term, _Atom):
            text, line = term
            value = _number(text)
            if value is not None:
                return {}, value
            match = _VARIABLE.match(text)
            if match is None or int(match.group(2)) not in self.declared[match.group(1)]:
                raise _Refused(f"line {line}: {text!r} is not a number or a declared variable")
            return {text: Decimal(1)}, Decimal(0)
        line, items = term
        if not items:
            raise _Refused(f"line {line}: an empty term '()'")
        head, args = _text(items[0]), [self._linear(a) for a in items[1:]]
        if head == "+" and args:
            return _sum(args, [1] * len(args))
        if head == "-" and len(args) == 1:
            return _sum(args, [-1])
        if head == "-" and args:
            return _sum(args, [1] + [-1] * (len(args) - 1))
        if head == "*" and len(args) == 2:
            (ca, ka), (cb, kb) = args
            if ca and cb:
                raise _Refused(f"line {line}: a product of variables is not linear")
            # (ca.x + ka)(cb.x + kb) with ca or cb zero: the constant is ka kb either way
            coef, scale = (cb, ka) if not ca else (ca, kb)
            return {k: v * scale for k, v in coef.items()}, ka * kb
        if head == "*":
            raise _Refused(f"line {line}: '*' takes two terms (one of them a constant)")
        raise _Refused(f"line {line}: the term {head!r} is not in the subset (+, -, *)")

    def _cases(self, terms: list, n_in: int, n_out: int) -> tuple:
        if len(terms) > _MAX_TERMS:
            raise _Refused(f"more than {_MAX_TERMS} cases after expanding or/and")
        boxes: dict = {}  # conjunctions grouped by their box (outer and inner)
        for term in terms:
            case = self._case(term, n_in, n_out)
            if case is not None:
                box, rows = case
                boxes.setdefault(box, []).append(rows)
        cases = []
        for box, unsafe in boxes.items():
            lo, up, in_lo, in_up = (_frozen(np.array(side)) for side in box)
            pairs = tuple((a, b) for a, b, _ in unsafe)
            cases.append(VnnlibCase(lo, up, pairs, in_lo, in_up, tuple(c for *_, c in unsafe)))
        return tuple(cases)

    def _case(self, term: list, n_in: int, n_out: int):
        """The box (outer, inner) and output rows of one conjunction; None when empty.

        Each constraint is read once however many conjunctions share it (distributing
        ``and`` over ``or`` repeats the input bounds in every conjunction), and the box
        once per set of input bounds."""
        items = [self._item(c, n_out) for c in term]
        if any(item is None for item in items):
            return None  # 0 <= const is false
        bounds = [(id(c), item) for c, item in zip(term, items, strict=True) if item[0] == "X"]
        key = tuple(k for k, _ in bounds)
        if key not in self.boxes:
            self.boxes[key] = _box([item for _, item in bounds], n_in)
        box = self.boxes[key]
        if box is None:
            return None
        rows = [item[1:] for item in items if item[0] == "Y"]
        a = _frozen(np.array([r for r, _, _ in rows]).reshape(len(rows), n_out))
        b, in_b = (_frozen(np.array([r[k] for r in rows], dtype=np.float64)) for k in (1, 2))
        return box, (a, b, in_b)

    def _item(self, constraint: tuple, n_out: int) -> tuple | None:
        """One constraint read: ("X", i, upper?, outward, inward) for a bound on an input,
        ("Y", row, rhs, inward rhs) on outputs, ("",) when it always holds, None never."""
        key = id(constraint)
        if key in self.items:
            return self.items[key][1]
        coef, const, line = constraint
        kinds = {name[0] for name in coef}
        if kinds == {"X"}:
            if len(coef) != 1:
                raise _Refused(f"line {line}: a constraint on several inputs (only bounds)")
            ((name, a),) = coef.items()
            out, inner = (_quotient(const, a, outward) for outward in (True, False))
            what = f"line {line}: the bound of {name}"
            up = bool(a > 0)  # a x <= const: an upper bound
            item = (
                "X",
                int(name[2:]),
                up,
                _rounded(out, up, what)[0],
                _rounded(inner, up, what)[1],
            )
        elif kinds == {"Y"}:
            row = np.zeros(n_out)
            for name, a in coef.items():
                row[int(name[2:])] = float(a)
                if Decimal(row[int(name[2:])]) != a:  # a rounded row would move the set
                    raise _Refused(
                        f"line {line}: the coefficient {a.normalize()} of {name} is not "
                        "exact in float64"
                    )
            item = ("Y", row, *_rounded(const, True, f"line {line}: the constant"))
        elif kinds:
            raise _Refused(f"line {line}: a constraint mixing inputs and outputs")
        else:
            item = ("",) if const >= 0 else None
        self.items[key] = (constraint, item)  # the constraint kept alive: its id stays unique
        return item


def _box(bounds: list, n_in: int) -> tuple | None:
    """The box (lower, upper, inner lower, inner upper) of input bounds; None when empty."""
    lower, upper = [-math.inf] * n_in, [math.inf] * n_in
    in_lo, in_up = [-math.inf] * n_in, [math.inf] * n_in
    for _, i, up, out, inner in bounds:
        if up:
            upper[i], in_up[i] = min(upper[i], out), min(in_up[i], inner)
        else:
            lower[i], in_lo[i] = max(lower[i], out), max(in_lo[i], inner)
    for i in range(n_in):
        if not (math.isfinite(lower[i]) and math.isfinite(upper[i])):
            side = "lower" if not math.isfinite(lower[i]) else "upper"
            raise _Refused(f"X_{i} has no {side} bound in one of the cases")
    if any(lo > up for lo, up in zip(lower, upper, strict=True)):
        return None
    return tuple(lower), tuple(upper), tuple(in_lo), tuple(in_up)


def _quotient(const: Decimal, a: Decimal, outward: bool) -> Decimal:
    """``const / a``, the bound of ``a x <= const`` on ``x``, rounded outward (away from
    the set) or inward in the last of its 100 digits."""
    with decimal.localcontext() as ctx:
        ctx.rounding = decimal.ROUND_CEILING if (a > 0) == outward else decimal.ROUND_FLOOR
        ctx.traps[decimal.Inexact] = False
        return const / a


def _pairs(unsafe: object) -> tuple:
    """``unsafe`` checked: pairs of a finite (k, m) float64 ``A`` and (k,) ``b``, one m."""
    if not isinstance(unsafe, (tuple, list)):
        raise TypeError(f"`unsafe` must be a tuple of (A, b) pairs; got {type(unsafe).__name__}")
    pairs, width = [], None
    for j, pair in enumerate(unsafe):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"`unsafe[{j}]` must be a pair (A, b)")
        a, b = (
            as_float_array(pair[0], f"unsafe[{j}][0]"),
            as_float_array(pair[1], f"unsafe[{j}][1]"),
        )
        if a.ndim != 2 or b.shape != (a.shape[0],) or a.shape[1] == 0:
            raise ValueError(
                f"`unsafe[{j}]` must be A of shape (k, n_outputs) and b of shape (k,); got "
                f"{a.shape} and {b.shape}"
            )
        if width not in (None, a.shape[1]):
            raise ValueError(f"`unsafe[{j}]` has {a.shape[1]} columns; unsafe[0] has {width}")
        width = a.shape[1]
        check_finite(a, f"unsafe[{j}][0]")
        check_finite(b, f"unsafe[{j}][1]")
        pairs.append((_frozen(a.copy()), _frozen(b.copy())))
    return tuple(pairs)


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


def _and(left: list, right: list) -> list:
    if len(left) * len(right) > _MAX_TERMS:
        raise _Refused(f"more than {_MAX_TERMS} cases after expanding or/and")
    return [a + b for a, b in product(left, right)]


def _sum(args: list, signs: list) -> tuple[dict, Decimal]:
    coef: dict = {}
    const = Decimal(0)
    for (c, k), s in zip(args, signs, strict=True):
        for name, v in c.items():
            coef[name] = coef.get(name, 0) + s * v
        const += s * k
    return coef, const


def _text(item) -> str:
    return item.text if isinstance(item, _Atom) else "(...)"
