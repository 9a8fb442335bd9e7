"""Standard errors of a least-squares PWL fit (behind fit_pwl).

Fixed knots: the covariance of the node values is sigma^2 G^-1 (G the Gram
matrix of the hat basis). Free knots: the delta method at the optimum, as
in Muggeo (2003) and R's `segmented`, with the node positions as parameters;
on each interval every Jacobian column is a combination of the two hat
functions there, so the information matrix comes from interval moments.
"""

from __future__ import annotations

import numpy as np

from . import _lsq

__all__: list[str] = []


def standard_errors(d: _lsq.Data, t, v, diag, off, sigma2: float, free: bool):
    """(value_se (K+2,), slope_se (K+1,), knot_se (K,) or None), in the data's units."""
    nodes = _lsq.nodes_of(t[None, :])[0]
    h = np.diff(nodes)
    p = nodes.size
    slope_rows = _lsq.slope_matrix(nodes)  # d slope / d values
    if not free or t.size == 0:
        cov = sigma2 * _lsq.chol_inverse(_lsq.dense_gram(diag, off))
        value_se = np.sqrt(np.diag(cov))
        slope_se = np.sqrt(np.einsum("ij,jk,ik->i", slope_rows, cov, slope_rows)) / d.xs
        return value_se, slope_se, (np.zeros(0) if free else None)
    k = t.size
    info = _information(d, nodes, v)
    try:
        cov = sigma2 * np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return None, None, None
    if not np.all(np.diag(cov) >= 0):
        return None, None, None
    b = np.diff(v) / h
    grad = np.zeros((p - 1, p + k))
    grad[:, :p] = slope_rows
    for i in range(p - 1):  # slope i depends on nodes i and i + 1 (interior ones are parameters)
        if 1 <= i + 1 <= k:
            grad[i, p + i] = -b[i] / h[i]
        if 1 <= i <= k:
            grad[i, p + i - 1] = b[i] / h[i]
    slope_var = np.einsum("ij,jk,ik->i", grad, cov, grad)
    if not np.all(slope_var >= 0):  # cov is not positive semidefinite: the inverse failed
        return None, None, None
    value_se = np.sqrt(np.diag(cov)[:p])
    slope_se = np.sqrt(slope_var) / d.xs
    knot_se = np.sqrt(np.diag(cov)[p:]) * d.xs
    return value_se, slope_se, knot_se


def _information(d: _lsq.Data, nodes: np.ndarray, v: np.ndarray) -> np.ndarray:
    """J'W J for the parameters (node values, interior node positions)."""
    p = nodes.size
    k = p - 2
    seg = np.clip(np.searchsorted(nodes, d.u, side="right") - 1, 0, p - 2)
    lam = (d.u - nodes[seg]) / (nodes[seg + 1] - nodes[seg])
    m00 = np.bincount(seg, d.w2 * (1 - lam) ** 2, minlength=p - 1)
    m01 = np.bincount(seg, d.w2 * (1 - lam) * lam, minlength=p - 1)
    m11 = np.bincount(seg, d.w2 * lam**2, minlength=p - 1)
    b = np.diff(v) / np.diff(nodes)
    info = np.zeros((p + k, p + k))
    for i in range(p - 1):  # interval i: f = v_i (1 - lam) + v_{i+1} lam
        c = np.zeros((2, p + k))  # rows: coefficient on (1 - lam), on lam
        c[0, i], c[1, i + 1] = 1.0, 1.0
        if i >= 1:  # node i is interior: moving it changes this interval by -b_i (1 - lam)
            c[0, p + i - 1] = -b[i]
        if i + 1 <= k:  # node i + 1 is interior: -b_i lam
            c[1, p + i] = -b[i]
        m = np.array([[m00[i], m01[i]], [m01[i], m11[i]]])
        info += c.T @ m @ c
    return info
