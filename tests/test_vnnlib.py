"""VNN-LIB property files: the shared ACAS Xu properties, the subset's semantics, hostile files."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from pwlmodels.io import load_vnnlib

ACASXU = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "acasxu"
HEADER = "".join(f"(declare-const X_{i} Real)\n" for i in range(2)) + "".join(
    f"(declare-const Y_{j} Real)\n" for j in range(3)
)
BOX = "(assert (>= X_0 -1))\n(assert (<= X_0 1))\n(assert (>= X_1 0))\n(assert (<= X_1 2))\n"


def spec_of(tmp_path, text: str):
    path = tmp_path / "prop.vnnlib"
    path.write_text(text)
    return load_vnnlib(path)


@pytest.mark.skipif(not ACASXU.is_dir(), reason="../shared/benchmarks/acasxu is not here")
@pytest.mark.parametrize("number", range(1, 11))
def test_every_acasxu_property_loads_and_holds_its_decimal_bounds(number):
    path = ACASXU / f"prop_{number}.vnnlib"
    spec = load_vnnlib(path)
    assert (spec.n_inputs, spec.n_outputs) == (5, 5)
    assert len(spec.cases) == (2 if number == 6 else 1)
    written = {}  # the decimal bounds as written, for the first case
    for line in path.read_text().splitlines():
        parts = line.replace("(", " ").replace(")", " ").split()
        if parts[:1] == ["assert"] and len(parts) == 4 and parts[2].startswith("X_"):
            written.setdefault((parts[1], int(parts[2][2:])), Decimal(parts[3]))
    case = spec.cases[0]
    for (op, i), value in written.items():
        if op == "<=":
            assert Decimal(case.upper[i]) >= value
            assert Decimal(math.nextafter(case.upper[i], -math.inf)) < value
        else:
            assert Decimal(case.lower[i]) <= value


@pytest.mark.skipif(not ACASXU.is_dir(), reason="../shared/benchmarks/acasxu is not here")
def test_property_2_is_y0_largest_and_property_6_two_boxes_of_four_disjuncts():
    (case,) = load_vnnlib(ACASXU / "prop_2.vnnlib").cases
    ((a, b),) = case.unsafe  # unsafe: Y_j <= Y_0 for every j, i.e. Y_0 is the largest
    assert a.tolist() == [[-1, 1, 0, 0, 0], [-1, 0, 1, 0, 0], [-1, 0, 0, 1, 0], [-1, 0, 0, 0, 1]]
    assert b.tolist() == [0, 0, 0, 0]
    six = load_vnnlib(ACASXU / "prop_6.vnnlib")
    assert [len(c.unsafe) for c in six.cases] == [4, 4]
    assert six.cases[0].upper[1] > 0 > six.cases[1].upper[1]


def test_terms_are_read_as_linear_forms(tmp_path):
    spec = spec_of(
        tmp_path,
        HEADER + BOX + "(assert (<= (+ Y_0 (* 2 Y_1) (- Y_2) 1) (- 4 Y_2)))\n",
    )
    ((a, b),) = spec.cases[0].unsafe  # y0 + 2 y1 - y2 + 1 <= 4 - y2  ->  y0 + 2 y1 <= 3
    assert a.tolist() == [[1.0, 2.0, 0.0]] and b.tolist() == [3.0]
    assert spec.cases[0].lower.tolist() == [-1.0, 0.0]


def test_a_disjunction_of_boxes_keeps_each_box_with_its_outputs(tmp_path):
    boxes = (
        "(assert (or (and (>= X_0 0) (<= X_0 1) (>= X_1 0) (<= X_1 1))"
        " (and (>= X_0 2) (<= X_0 3) (>= X_1 0) (<= X_1 1))"
        " (and (>= X_0 5) (<= X_0 4) (>= X_1 0) (<= X_1 1))))\n"  # empty: dropped
    )
    spec = spec_of(tmp_path, HEADER + boxes + "(assert (or (>= Y_0 1) (<= Y_1 Y_2)))\n")
    assert [c.lower.tolist() for c in spec.cases] == [[0.0, 0.0], [2.0, 0.0]]
    assert all(len(c.unsafe) == 2 for c in spec.cases)


def test_constants_are_rounded_outward(tmp_path):
    spec = spec_of(
        tmp_path,
        HEADER + "(assert (>= X_0 0.1))\n(assert (<= X_0 0.3))\n(assert (>= X_1 -1e-999999999))"
        "\n(assert (<= X_1 1e-999999999))\n(assert (<= Y_0 0.1))\n",
    )
    case = spec.cases[0]
    assert Decimal(case.lower[0]) <= Decimal("0.1") and Decimal(case.upper[0]) >= Decimal("0.3")
    assert case.lower[1] == -5e-324 and case.upper[1] == 5e-324  # no 10**999999999 is built
    assert Decimal(case.unsafe[0][1][0]) >= Decimal("0.1")  # the unsafe set grows, never shrinks
    assert np.nextafter(case.unsafe[0][1][0], -np.inf) < 0.1


def test_constants_are_also_kept_rounded_inward(tmp_path):
    """The inner box and right-hand sides lie inside the sets as written (a counterexample's
    room), equal to the outer ones for constants that are doubles."""
    spec = spec_of(
        tmp_path,
        HEADER + "(assert (>= X_0 0.1))\n(assert (<= X_0 0.5))\n(assert (>= (* 3 X_1) 1))"
        "\n(assert (<= X_1 1))\n(assert (>= Y_0 0.1))\n(assert (<= Y_1 2))\n",
    )
    case = spec.cases[0]
    assert case.inner_lower[0] == np.nextafter(case.lower[0], np.inf)
    assert Decimal(case.inner_lower[0]) >= Decimal("0.1") > Decimal(case.lower[0])
    third = Decimal(1) / Decimal(3)
    assert Decimal(case.lower[1]) < third < Decimal(case.inner_lower[1])
    assert case.inner_upper.tolist() == case.upper.tolist() == [0.5, 1.0]  # doubles: as written
    (a, b), inner_b = case.unsafe[0], case.inner_b[0]
    assert a.tolist() == [[-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert Decimal(inner_b[0]) <= Decimal("-0.1") <= Decimal(b[0]) and inner_b[0] < b[0]
    assert inner_b[1] == b[1] == 2.0
    point = "(assert (>= X_0 0.1))(assert (<= X_0 0.1))(assert (>= X_1 0))(assert (<= X_1 1))"
    (case,) = spec_of(tmp_path, HEADER + point + "(assert (<= Y_0 1))").cases
    assert case.lower[0] < case.upper[0]  # the point 0.1 is no double: the box read holds it
    assert case.inner_lower[0] > case.inner_upper[0]  # and no double lies in it


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (HEADER + BOX + "(assert (<= Y_0 1)", r"line 10: '\(' is never closed"),
        (HEADER + BOX + "(assert (<= Y_0 1)))", r"line 10: '\)' without a matching '\('"),
        (HEADER + BOX + "(assert (<= Y_7 1))", r"'Y_7' is not a number or a declared variable"),
        (HEADER + BOX + "(assert (<= Z 1))", r"'Z' is not a number or a declared variable"),
        (HEADER + BOX + "(assert (<= (* Y_0 Y_1) 1))", r"a product of variables is not linear"),
        (HEADER + BOX + "(assert (< Y_0 1))", r"'<' is not in the subset"),
        (HEADER + BOX + "(assert (not (<= Y_0 1)))", r"'not' is not in the subset"),
        (HEADER + BOX + "(assert (<= (exp Y_0) 1))", r"the term 'exp' is not in the subset"),
        (HEADER + BOX + "(assert (<= X_0 Y_0))", r"a constraint mixing inputs and outputs"),
        (HEADER + BOX + "(assert (<= (+ X_0 X_1) 1))", r"a constraint on several inputs"),
        (HEADER + "(assert (<= X_0 1))\n(assert (<= Y_0 1))", r"X_0 has no lower bound"),
        ("(declare-const X_0 Int)\n", r"declare-const takes a name and the sort Real"),
        ("(declare-const x Real)\n", r"'x' is not X_i \(input\) or Y_j \(output\)"),
        (HEADER + "(declare-const X_0 Real)\n", r"X_0 is declared twice"),
        ("(declare-const X_1 Real)\n(declare-const Y_0 Real)\n", r"X_0 is not declared"),
        (HEADER + BOX + "(assert (<= Y_0 1e999))", r"constant, 1.000000E\+999, overflows float64"),
        (
            HEADER + "(assert (<= (* 1e-400 X_0) 1))\n(assert (>= X_0 0))",
            r"the bound of X_0, 1.000000E\+400, overflows float64",
        ),
        (HEADER + BOX + "(assert (<= (* 2 3 Y_0) 1))", r"'\*' takes two terms"),
        (HEADER + BOX + "(assert (<= (*) 1))", r"'\*' takes two terms"),
        (HEADER + BOX + "(check-sat)", r"the command 'check-sat' is not in the subset"),
        (HEADER + BOX + "(assert)", r"assert takes one formula"),
        # found by the attacker pass: each was read into a wrong set or a wrong exception
        (HEADER + BOX + "(assert (<= Y_0 (- (+ 1e100 0.3) 1e100)))", r"not exact in 100 digits"),
        (HEADER + BOX + "(assert (<= Y_0 (* 1e999999999999999 1e999999999999999)))", "overflow"),
        (HEADER + BOX + "(assert (<= (- Y_0 Y_00) 1))", r"'Y_00' is not a number or a declared"),
        (
            HEADER + BOX + "(assert (<= (* 1e400 Y_0) 1))",
            r"coefficient 1E\+400 of Y_0 is not exact",
        ),
        (HEADER + BOX + "(assert (<= (* 0.1 Y_0) 1))", r"coefficient 0.1 of Y_0 is not exact"),
        (HEADER + BOX + "(assert (<= Y_0 1_0))", r"'1_0' is not a number"),
        (HEADER + BOX + "(assert (<= Y_0 \u0661\u0662))", r"is not a number"),
        (HEADER + BOX + "(assert " + "(and " * 10_000 + "(<= Y_0 1)" + ")" * 10_001, "too deeply"),
    ],
)
def test_a_file_outside_the_subset_is_refused_with_the_construct_named(tmp_path, text, match):
    with pytest.raises(ValueError, match=match):
        spec_of(tmp_path, text)


def test_a_missing_or_binary_file_and_a_bad_path_type_are_refused(tmp_path):
    with pytest.raises(ValueError, match="no such VNN-LIB file"):
        load_vnnlib(tmp_path / "missing.vnnlib")
    binary = tmp_path / "b.vnnlib"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match="not a text file"):
        load_vnnlib(binary)
    with pytest.raises(TypeError, match="`path` must be a str or path-like"):
        load_vnnlib(3)


def test_or_of_ands_that_would_explode_is_refused(tmp_path):
    many = "(assert (or " + " ".join(f"(<= Y_0 {k})" for k in range(400)) + "))\n"
    with pytest.raises(ValueError, match="more than 100000 cases"):
        spec_of(tmp_path, HEADER + BOX + many + many)


@pytest.mark.parametrize(
    ("term", "row", "rhs"),
    [
        ("(* 2 (- Y_0 5))", [2.0, 0.0, 0.0], 11.0),  # 2 y0 - 10 <= 1
        ("(* (+ Y_1 3) -1)", [0.0, -1.0, 0.0], 4.0),  # -y1 - 3 <= 1
        ("(* (- 2 1) (+ 1 Y_2))", [0.0, 0.0, 1.0], 0.0),  # y2 + 1 <= 1
    ],
)
def test_a_product_by_a_constant_keeps_the_constant_of_both_factors(tmp_path, term, row, rhs):
    ((a, b),) = spec_of(tmp_path, HEADER + BOX + f"(assert (<= {term} 1))\n").cases[0].unsafe
    assert a.tolist() == [row] and b.tolist() == [rhs]


@pytest.mark.parametrize(
    "mark", ["\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
)
def test_a_comment_ends_only_at_a_line_break(tmp_path, mark):
    """str.splitlines ends lines at these too: the rest of a comment must not be read."""
    text = HEADER + BOX + f"(assert (<= Y_0 1)) ; not read{mark}(assert (<= Y_1 -5))\n"
    ((a, b),) = spec_of(tmp_path, text).cases[0].unsafe
    assert a.tolist() == [[1.0, 0.0, 0.0]] and b.tolist() == [1.0]


def test_carriage_returns_end_lines(tmp_path):
    text = HEADER + BOX + "(assert (<= Y_0 1)) ; a comment\r(assert (<= Y_1 2))\r\n"
    ((a, b),) = spec_of(tmp_path, text).cases[0].unsafe
    assert a.tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]] and b.tolist() == [1.0, 2.0]


def test_a_byte_order_mark_is_not_read_as_a_token(tmp_path):
    path = tmp_path / "bom.vnnlib"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + BOX + "(assert (<= Y_0 1))").encode())
    assert load_vnnlib(path).n_inputs == 2


def _case(**changes):
    from pwlmodels.io import VnnlibCase

    parts = {
        "lower": [0.0, 0.0],
        "upper": [1.0, 1.0],
        "unsafe": ((np.array([[1.0, 0.0, 0.0]]), np.array([0.5])),),
        "inner_lower": [0.0, 0.0],
        "inner_upper": [1.0, 1.0],
        "inner_b": (np.array([0.5]),),
    }
    return VnnlibCase(**{**parts, **changes})


def test_a_case_built_by_hand_is_checked_and_frozen():
    case = _case(lower=(0, 0))  # ints and tuples: converted
    assert case.lower.dtype == np.float64 and not case.lower.flags.writeable
    assert not case.unsafe[0][0].flags.writeable


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [  # found by the attacker pass on issue 22: check() crashed on each
        ({"lower": [0.0, math.nan]}, ValueError, r"`lower` must be finite; got lower\[1\] = nan"),
        ({"upper": [1.0]}, ValueError, r"`upper` must have one entry per input \(2\); got 1"),
        ({"lower": [2.0, 0.0]}, ValueError, r"`lower` must be <= `upper`; got lower\[0\]"),
        ({"unsafe": [([1.0, 0.0, 0.0], 0.5)]}, ValueError, r"`unsafe\[0\]` must be A of shape"),
        ({"unsafe": "y <= 1"}, TypeError, r"`unsafe` must be a tuple of \(A, b\) pairs"),
        ({"unsafe": (np.eye(3),)}, TypeError, r"`unsafe\[0\]` must be a pair \(A, b\)"),
        (
            {"unsafe": ((np.array([[math.inf, 0, 0]]), np.array([0.5])),)},
            ValueError,
            r"`unsafe\[0\]\[0\]` must be finite",
        ),
        ({"inner_b": ()}, ValueError, r"`inner_b` must hold one vector per pair of `unsafe`"),
        ({"inner_b": (np.array([0.5, 1.0]),)}, ValueError, r"`inner_b\[0\]` must have shape"),
    ],
)
def test_a_bad_case_built_by_hand_is_refused(changes, error, match):
    with pytest.raises(error, match=match):
        _case(**changes)


def test_a_spec_built_by_hand_must_match_its_cases():
    from pwlmodels.io import VnnlibSpec

    assert isinstance(VnnlibSpec(2, 3, [_case()]).cases, tuple)  # a list becomes a tuple
    with pytest.raises(ValueError, match=r"`cases\[0\]` has 2 inputs; `n_inputs` is 4"):
        VnnlibSpec(4, 3, (_case(),))
    with pytest.raises(ValueError, match=r"`cases\[0\]` has output rows of 3 entries"):
        VnnlibSpec(2, 5, (_case(),))
    with pytest.raises(TypeError, match=r"`cases\[0\]` must be a VnnlibCase"):
        VnnlibSpec(2, 3, ("box",))
    with pytest.raises(TypeError, match="`n_inputs` must be an integer"):
        VnnlibSpec(2.0, 3, ())
