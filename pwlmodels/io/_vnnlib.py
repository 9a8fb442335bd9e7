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

from .._validate import round_outward

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
        text = path.read_text()
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


def _rounded(value: Decimal, up: bool) -> tuple[float, float]:
    """``value`` rounded outward (:func:`round_outward` on the side ``up``) and inward,
    refusing a constant beyond float64's range."""
    near = round_outward(value, up)
    if math.isinf(near):
        raise _Refused(f"the constant {value.normalize()} overflows float64")
    return near, round_outward(value, not up)


class _Reader:
    def __init__(self) -> None:
        self.declared: dict[str, set[int]] = {"X": set(), "Y": set()}
        self.asserts: list = []

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
        """The box (outer, inner) and output rows of one conjunction; None when empty."""
        lower, upper = [-math.inf] * n_in, [math.inf] * n_in
        in_lo, in_up = [-math.inf] * n_in, [math.inf] * n_in
        rows, rhs, in_rhs = [], [], []
        for coef, const, line in term:
            kinds = {name[0] for name in coef}
            if kinds == {"X"}:
                if len(coef) != 1:
                    raise _Refused(f"line {line}: a constraint on several inputs (only bounds)")
                ((name, a),) = coef.items()
                i = int(name[2:])
                out, inner = (_quotient(const, a, outward) for outward in (True, False))
                if a > 0:  # a x <= const
                    upper[i] = min(upper[i], _rounded(out, up=True)[0])
                    in_up[i] = min(in_up[i], _rounded(inner, up=True)[1])
                else:
                    lower[i] = max(lower[i], _rounded(out, up=False)[0])
                    in_lo[i] = max(in_lo[i], _rounded(inner, up=False)[1])
            elif kinds == {"Y"}:
                row = np.zeros(n_out)
                for name, a in coef.items():
                    row[int(name[2:])] = float(a)
                    if Decimal(row[int(name[2:])]) != a:  # a rounded row would move the set
                        raise _Refused(
                            f"line {line}: the coefficient {a.normalize()} of {name} is not "
                            "exact in float64"
                        )
                rows.append(row)
                out, inner = _rounded(const, up=True)
                rhs.append(out)
                in_rhs.append(inner)
            elif kinds:
                raise _Refused(f"line {line}: a constraint mixing inputs and outputs")
            elif const < 0:  # 0 <= const is false: the conjunction is empty
                return None
        for i in range(n_in):
            if not (math.isfinite(lower[i]) and math.isfinite(upper[i])):
                side = "lower" if not math.isfinite(lower[i]) else "upper"
                raise _Refused(f"X_{i} has no {side} bound in one of the cases")
        if any(lo > up for lo, up in zip(lower, upper, strict=True)):
            return None
        a = _frozen(np.array(rows).reshape(len(rows), n_out))
        b, in_b = (_frozen(np.array(r, dtype=np.float64)) for r in (rhs, in_rhs))
        return (tuple(lower), tuple(upper), tuple(in_lo), tuple(in_up)), (a, b, in_b)


def _quotient(const: Decimal, a: Decimal, outward: bool) -> Decimal:
    """``const / a``, the bound of ``a x <= const`` on ``x``, rounded outward (away from
    the set) or inward in the last of its 100 digits."""
    with decimal.localcontext() as ctx:
        ctx.rounding = decimal.ROUND_CEILING if (a > 0) == outward else decimal.ROUND_FLOOR
        ctx.traps[decimal.Inexact] = False
        return const / a


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
