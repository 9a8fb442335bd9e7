"""Region-of-attraction candidates (applications.control._roa): the LQR loop's invariant set
within the state box (``shape="mpi"``) and the clipped scaling (``clip=True``), checked
against vertex enumeration, the MPC law itself and 1e5 sampled states stepped once."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg

from applications.control import explicit_mpc, lqr_polytope, region_of_attraction
from applications.control._explicit import cartpole
from applications.control._mpc import BOX, A, B, N, Q, R
from pwlmodels import Polytope

CART_A, CART_B = cartpole(0.1)
CART_Q, CART_BOX = np.diag([1.0, 1.0, 10.0, 1.0]), np.array([1.0, 1.0, 0.3, 1.0])
PLANTS = {
    "double_integrator": (A, B, Q, np.atleast_2d(R), BOX, N),
    "cartpole": (CART_A, CART_B, CART_Q, np.eye(1), CART_BOX, 4),
}


@pytest.fixture(scope="module", params=sorted(PLANTS))
def plant(request):
    a, b, q, r, box, horizon = PLANTS[request.param]
    return request.param, a, b, q, r, box, explicit_mpc(a, b, q, r, horizon, 1.0, box)


def lqr_gain(a, b, q, r):
    P = linalg.solve_discrete_are(a, b, q, r)
    return np.linalg.solve(r + b.T @ P @ b, b.T @ P @ a)


def sample_set(P_A, P_b, box, n, seed=0):
    """n uniform samples of ``{P_A x <= P_b}`` (inside the box), by rejection from the box."""
    rng, out, found = np.random.default_rng(seed), [], 0
    while found < n:
        x = rng.uniform(-box, box, (200_000, len(box)))
        x = x[(x @ P_A.T <= P_b).all(axis=1)]
        out.append(x)
        found += len(x)
    return np.vstack(out)[:n]


def test_mpi_polytope_is_in_the_box_within_the_input_limits_and_contractive(plant):
    _, a, b, q, r, box, _ = plant
    S_A, S_b = lqr_polytope(a, b, q, r, 1.0, x_box=box)
    K = lqr_gain(a, b, q, r)
    lam = (1 + np.abs(np.linalg.eigvals(a - b @ K)).max()) / 2
    V = Polytope(S_A, S_b).vertices()  # the set is the hull of its vertices: checks there suffice
    assert (np.abs(V) <= box * (1 + 1e-9)).all()
    assert (np.abs(V @ K.T) <= 1.0 + 1e-9).all()
    assert (V @ (a - b @ K).T @ S_A.T <= lam + 1e-9).all()  # (A - BK) S in lambda S


def test_mpc_law_equals_lqr_on_the_mpi_set(plant):
    """Inside the set the LQR moves never saturate, so the MPC (Riccati terminal cost)
    applies -K x: the reason the set is invariant for the law at alpha = 1."""
    _, a, b, q, r, box, law = plant
    S_A, S_b = lqr_polytope(a, b, q, r, 1.0, x_box=box)
    x = sample_set(S_A, S_b, box, 5000, seed=1)
    np.testing.assert_allclose(law(x), -(x @ lqr_gain(a, b, q, r).T)[:, 0], rtol=0, atol=1e-9)


def check_sampled(roa, law, a, b, box):
    """1e5 uniform states of the certified set, one step: none leaves it or saturates past
    the limit; and the exact volume agrees with the sampled fraction of the box."""
    x = sample_set(roa.P_A, roa.P_b, box, 100_000, seed=2)
    u = law(x)
    x_next = x @ a.T + np.reshape(u, (-1, 1)) @ b.T
    assert (np.abs(u) <= 1.0 + 1e-9).all()
    assert (x_next @ roa.P_A.T <= roa.P_b + 1e-9).all()
    y = np.random.default_rng(3).uniform(-box, box, (200_000, len(box)))
    fraction = (y @ roa.P_A.T <= roa.P_b).all(axis=1).mean()
    assert abs(roa.area / np.prod(2 * box) - fraction) < 5 * np.sqrt(fraction / 2e5) + 1e-6


def test_mpi_set_is_certified_at_alpha_one_beats_the_lqr_polytope_and_holds_in_samples(plant):
    name, a, b, q, r, box, law = plant
    old = region_of_attraction(a, b, law, "lqr", box, 1.0, Q=q, R=r)
    mpi = region_of_attraction(a, b, law, "mpi", box, 1.0, Q=q, R=r)
    assert mpi.alpha == mpi.alpha_cap >= 1 - 1e-9  # 1 where the box binds, else above
    assert mpi.converges and 0 < mpi.rate < 1 and mpi.area >= old.area * (1 - 1e-9)
    if name == "cartpole":  # the thin box capped the old candidate at 1e-7 of its volume
        assert old.alpha == old.alpha_cap and old.area / np.prod(2 * box) < 1e-6
        assert mpi.area / np.prod(2 * box) > 0.05
    check_sampled(mpi, law, a, b, box)


def test_clipped_lqr_polytope_goes_past_the_cap_and_holds_in_samples():
    law = explicit_mpc(A, B, Q, R, N, 1.0, BOX)
    old = region_of_attraction(A, B, law, "lqr", BOX, 1.0, Q=Q, R=R)
    clipped = region_of_attraction(A, B, law, "lqr", BOX, 1.0, Q=Q, R=R, clip=True, steps=6)
    assert old.alpha == old.alpha_cap < clipped.alpha and clipped.area > 2 * old.area
    assert clipped.alpha == max(alpha for alpha, ok in clipped.tried if ok)
    assert clipped.converges and 0 < clipped.rate < 1
    check_sampled(clipped, law, A, B, BOX)


def test_clip_changes_nothing_when_the_cap_fails():
    """Below the cap the box's facets are redundant: same bisection, same answer."""
    S_A, _ = lqr_polytope(A, B, Q, R, 1.0)
    big = np.array([10.0, 4.0])
    wide = explicit_mpc(A, B, Q, R, 3, 1.0, big)
    shape = (S_A, np.ones(len(S_A)))
    plain = region_of_attraction(A, B, wide, shape, big, 1.0, steps=4)
    clipped = region_of_attraction(A, B, wide, shape, big, 1.0, steps=4, clip=True)
    assert plain.alpha < plain.alpha_cap
    assert clipped.alpha == plain.alpha and clipped.tried == plain.tried


@pytest.mark.parametrize(
    "kwargs, error, text",
    [
        (dict(clip="yes"), TypeError, "`clip`"),
        (dict(clip=1), TypeError, "`clip`"),
        (dict(Q=None), ValueError, "`Q` and `R`"),
        (dict(shape="ellipsoid"), ValueError, "`shape`"),
        (dict(shape=[np.eye(2)]), TypeError, "'mpi'"),
    ],
)
def test_hostile_region_of_attraction_arguments_name_the_argument(kwargs, error, text):
    args = dict(shape="mpi", Q=Q, R=R) | kwargs
    law = explicit_mpc(A, B, Q, R, 2, 1.0, BOX)
    with pytest.raises(error, match=text):
        region_of_attraction(A, B, law, args.pop("shape"), BOX, 1.0, **args)


@pytest.mark.parametrize(
    "x_box, error, text",
    [
        ([1.0, -1.0], ValueError, "`x_box`"),
        ([1.0, 1.0, 1.0], ValueError, "`x_box`"),
        ([1.0, np.nan], ValueError, "`x_box`"),
        ("wide", TypeError, "`x_box`"),
    ],
)
def test_hostile_lqr_polytope_box_names_the_argument(x_box, error, text):
    with pytest.raises(error, match=text):
        lqr_polytope(A, B, Q, R, 1.0, x_box=x_box)
