"""First-order node models: Daganzo's merge and diverge, and Tampere's general node model.

A node takes the demands of its incoming links (what they would send, veh/h)
and the supplies of its outgoing links (what they could receive, veh/h) and
returns the flows through it. Daganzo (1995) gave the merge (two in, one
out: supply shared by priority, with what one approach leaves unused given
to the other) and the diverge (one in, two out: first in, first out, so the
most constrained branch limits the whole outflow). Tampere, Corthout,
Cattrysse and Immers (2011) gave the general model for any number of links
in and out, built on an invariance principle (a supply-constrained
approach's flow does not change if its demand grows) and a supply
constraint interaction rule (first in, first out on every incoming link),
solved by fixing the most restrictive constraint first; with two in and one
out, or one in and two out, it is Daganzo's merge or diverge.

Pure numpy on float64 (turning flows are a few multiplications each, so
node inflow equals node outflow to rounding).
"""

from __future__ import annotations

import numpy as np

from pwlmodels._validate import plain

from ._models import as_array

__all__ = ["diverge_flows", "merge_flows", "node_flows"]


def _vector(x: object, name: str, size: int | None, *, allow_inf: bool = False) -> np.ndarray:
    arr = as_array(x, name)
    if arr.ndim != 1 or (size is not None and arr.size != size) or arr.size == 0:
        want = f"({size},)" if size is not None else "(n,) with n >= 1"
        raise ValueError(f"`{name}` must have shape {want}; got {arr.shape}")
    bad = np.isnan(arr) | (arr < 0) | (np.isinf(arr) & (not allow_inf))
    if bad.any():
        i = int(np.argmax(bad))
        kind = "non-negative" if allow_inf else "finite and non-negative"
        raise ValueError(f"`{name}` must be {kind} (veh/h); got {name}[{i}] = {plain(arr[i])!r}")
    return arr


def _priorities(x: object, size: int) -> np.ndarray:
    arr = _vector(x, "priorities", size)
    if not (arr > 0).all():
        i = int(np.argmin(arr > 0))
        raise ValueError(f"`priorities` must be positive; got priorities[{i}] = {plain(arr[i])!r}")
    return arr


def _turning(x: object, n: int) -> np.ndarray:
    arr = as_array(x, "turning")
    if arr.ndim == 1 and n == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[0] != n or arr.shape[1] == 0:
        raise ValueError(f"`turning` must have shape ({n}, m) with m >= 1; got {arr.shape}")
    bad = ~np.isfinite(arr) | (arr < 0) | (arr > 1)
    if bad.any():
        i, j = np.unravel_index(int(np.argmax(bad)), arr.shape)
        raise ValueError(f"`turning` must lie in [0, 1]; got turning[{i}, {j}] = {arr[i, j]}")
    rows = arr.sum(axis=1)
    off = np.abs(rows - 1.0) > 1e-9
    if off.any():
        i = int(np.argmax(off))
        raise ValueError(f"`turning` rows must sum to 1; got row {i} summing to {rows[i]!r}")
    return arr


def node_flows(
    demands: object, turning: object, supplies: object, priorities: object
) -> np.ndarray:
    """Turning flows of Tampere et al.'s (2011) general first-order node model.

    Incoming link i sends ``demands[i]``, split by ``turning[i, j]``;
    outgoing link j receives at most ``supplies[j]``; incoming links
    compete for a supply in proportion to ``priorities[i] * turning[i, j]``
    (Tampere et al. use the incoming capacities). The algorithm fixes the
    most restrictive constraint first: for each outgoing j still in
    play, ``a_j = R_j / sum_i priorities[i] turning[i, j]`` over the
    undetermined incoming i that turn to j (R_j: supply not yet taken);
    at the smallest ``a_j``, every competing i whose demand fits its share
    (``demands[i] <= a_j priorities[i]``) is demand-constrained and sends
    its whole demand; if there is none, every competitor is
    supply-constrained by j and sends ``a_j priorities[i]`` in total,
    split by its turning fractions (first in, first out). The taken flows
    leave the supplies, and the step repeats on what is left (at most one
    round per incoming link).

    Parameters
    ----------
    demands : array_like, shape (n,)
        Finite, non-negative, veh/h.
    turning : array_like, shape (n, m)
        Fractions in [0, 1], each row summing to 1 (a 1-d row is read as
        one incoming link).
    supplies : array_like, shape (m,)
        Non-negative, veh/h (inf: unconstrained).
    priorities : array_like, shape (n,)
        Positive weights (incoming capacities in Tampere et al.; only
        their ratios matter).

    Returns
    -------
    ndarray, shape (n, m)
        ``q[i, j]``, veh/h: ``q[i, j] <= demands[i] * turning[i, j]``,
        ``q[:, j].sum() <= supplies[j]`` (to rounding), and ``q[i] /
        turning[i]`` is the same for every turn of i (FIFO).

    See Also
    --------
    merge_flows, diverge_flows : the two special cases (Daganzo 1995).

    Examples
    --------
    Two approaches into one link with supply 2000 veh/h and priorities
    3 : 1: shares are 1500 and 500; approach 2 asks only 300, so approach
    1 receives the rest, 1700 (Daganzo's merge):

    >>> from applications.traffic import node_flows
    >>> node_flows([1800.0, 300.0], [[1.0], [1.0]], [2000.0], [3.0, 1.0])
    array([[1700.],
           [ 300.]])

    One approach splitting 80/20 into branches with supplies 2000 and inf:
    the 80 % branch admits at most 2000, so the whole flow is 2500 (FIFO):

    >>> node_flows([3000.0], [0.8, 0.2], [2000.0, float("inf")], [1.0])
    array([[2000.,  500.]])
    """
    s = _vector(demands, "demands", None)
    a = _turning(turning, s.size)
    r = _vector(supplies, "supplies", a.shape[1], allow_inf=True).copy()
    c = _priorities(priorities, s.size)
    q = np.zeros_like(a)
    oriented = c[:, None] * a  # C_ij
    active = s > 0  # incoming links whose flows are not fixed yet
    while True:
        competing = active[:, None] & (a > 0)
        in_play = competing.any(axis=0)
        if not in_play.any():
            return q
        weight = np.where(competing, oriented, 0.0).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            scale = np.where(in_play, r / np.where(in_play, weight, 1.0), np.inf)
        play = np.flatnonzero(in_play)  # argmin over all j could pick one out of play when
        j = int(play[np.argmin(scale[play])])  # every a_j is inf, and the loop never ended
        members = competing[:, j]
        fits = members & (s <= scale[j] * c)
        if fits.any():  # demand-constrained: whole demand, every turn
            fixed = fits
            q[fixed] = s[fixed, None] * a[fixed]
        else:  # supply-constrained by j: the share a_j C_i, split by the turning fractions
            fixed = members
            q[fixed] = scale[j] * oriented[fixed]
        r = np.maximum(r - q[fixed].sum(axis=0), 0.0)
        active &= ~fixed


def merge_flows(demands: object, supply: float, priorities: object) -> np.ndarray:
    """Daganzo's (1995) merge: two approaches into one link.

    If ``D_1 + D_2 <= S`` both send their demand; otherwise the supply is
    used in full and approach i sends ``median(D_i, S - D_j, p_i S)`` with
    ``p_i = priorities[i] / sum(priorities)``: its priority share, unless
    the other approach demands less than its own share, whose unused part
    goes to i ("fair" reallocation). Equal to :func:`node_flows` with one
    outgoing link.

    Parameters
    ----------
    demands : array_like, shape (2,)
        Finite, non-negative, veh/h.
    supply : float
        Non-negative, veh/h.
    priorities : array_like, shape (2,)
        Positive weights (e.g. the capacities of the two approaches).

    Returns
    -------
    ndarray, shape (2,)
        Flows from each approach, veh/h.

    Examples
    --------
    Mainline demand 5000 veh/h and ramp demand 900 veh/h into a supply of
    4000 veh/h, priorities 6000 : 2000 (shares 3000 and 1000): the ramp
    fits its share, so the mainline gets 4000 - 900 = 3100:

    >>> from applications.traffic import merge_flows
    >>> merge_flows([5000.0, 900.0], 4000.0, [6000.0, 2000.0])
    array([3100.,  900.])
    """
    d = _vector(demands, "demands", 2)
    s = float(_vector(np.atleast_1d(as_array(supply, "supply")), "supply", 1, allow_inf=True)[0])
    p = _priorities(priorities, 2)
    if d.sum() <= s:
        return d.copy()
    share = p / p.sum() * s
    other = s - d[::-1]
    return np.median(np.stack([d, other, share]), axis=0)


def diverge_flows(demand: float, turning: object, supplies: object) -> np.ndarray:
    """Daganzo's (1995) first-in-first-out diverge: one approach into two branches.

    The approach sends ``q = min(D, S_1 / b_1, S_2 / b_2)`` (terms with
    ``b_j = 0`` left out) and branch j receives ``b_j q``: a vehicle
    waiting for a full branch blocks those behind it, so the most
    constrained branch limits both. Equal to :func:`node_flows` with one
    incoming link.

    Parameters
    ----------
    demand : float
        Finite, non-negative, veh/h.
    turning : array_like, shape (2,)
        Turning fractions in [0, 1] summing to 1.
    supplies : array_like, shape (2,)
        Non-negative, veh/h (inf: unconstrained).

    Returns
    -------
    ndarray, shape (2,)
        Flows into each branch, veh/h.

    Examples
    --------
    3000 veh/h, 80 % staying on the mainline whose supply is 2000 veh/h:
    ``q = min(3000, 2000 / 0.8) = 2500``, so the off-ramp gets only 500:

    >>> from applications.traffic import diverge_flows
    >>> diverge_flows(3000.0, [0.8, 0.2], [2000.0, float("inf")])
    array([2000.,  500.])
    """
    d = float(_vector(np.atleast_1d(as_array(demand, "demand")), "demand", 1)[0])
    b = _turning(np.atleast_2d(as_array(turning, "turning")), 1)[0]
    if b.size != 2:
        raise ValueError(f"`turning` must have shape (2,); got ({b.size},)")
    s = _vector(supplies, "supplies", 2, allow_inf=True)
    with np.errstate(divide="ignore", over="ignore"):
        limits = np.where(b > 0, s / np.where(b > 0, b, 1.0), np.inf)
    return b * min(d, float(limits.min()))
