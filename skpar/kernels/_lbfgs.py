"""Limited-memory BFGS (Nocedal 1980; Liu and Nocedal 1989) for K independent outputs, compiled.

The driver keeps, per output ``k``, the last ``m`` pairs :math:`s = w_{t+1} - w_t`, :math:`y = g_{t+1} - g_t` in a
ring buffer ``S, Y`` of shape (m, K, d) with :math:`\\rho = 1 / s \\cdot y` (0 for a pair left out: one whose
curvature is not positive) and :math:`y \\cdot M^{-1} y`. The direction :math:`-H g` comes from the two-loop
recursion from :math:`H_0 = \\gamma M^{-1}`, ``M`` a fixed diagonal scale and
:math:`\\gamma = s \\cdot y / y \\cdot M^{-1} y` of the newest pair that counts. Compiled, the recursion is 4 m K d
multiply-adds with no temporaries, where NumPy allocates an array an operation (docs/benchmarks.md); its dot products
take four partial sums (:mod:`._dot`), since one running sum is bound by the adder's latency.
"""

import numpy as np
from numba import njit

from ._dot import row_dot_dense


@njit(nogil=True, cache=True)
def lbfgs_pair(W, W_last, G, G_last, scale, S, Y):
    """Write ``s = W - W_last`` and ``y = G - G_last`` into ``S`` and ``Y`` (K, d); return per output
    ``(s.y, s.s, y.y, y.M^-1 y)`` with ``scale`` = M^-1."""
    K, d = W.shape
    sy, ss, yy, ymy = np.zeros(K), np.zeros(K), np.zeros(K), np.zeros(K)
    for k in range(K):
        for j in range(d):
            s = W[k, j] - W_last[k, j]
            y = G[k, j] - G_last[k, j]
            S[k, j] = s
            Y[k, j] = y
            sy[k] += s * y
            ss[k] += s * s
            yy[k] += y * y
            ymy[k] += y * y * scale[k, j]
    return sy, ss, yy, ymy


@njit(nogil=True, cache=True)
def lbfgs_direction(S, Y, rho, ymy, n_pairs, newest, scale, G, live, out):
    """``out[k] = -H_k G[k]`` for the live outputs (0 for the others) by the two-loop recursion over the ``n_pairs``
    pairs of the ring buffer that end at slot ``newest``."""
    m, K, d = S.shape
    alpha = np.zeros(m)
    for k in range(K):
        if not live[k]:
            for j in range(d):
                out[k, j] = 0.0
            continue
        for j in range(d):
            out[k, j] = -G[k, j]
        gamma = 1.0
        found = False
        for c in range(n_pairs):  # newest to oldest
            p = (newest - c) % m
            if rho[p, k] == 0.0:
                alpha[p] = 0.0
                continue
            a = rho[p, k] * row_dot_dense(S[p], k, out, k, d)
            alpha[p] = a
            for j in range(d):
                out[k, j] -= a * Y[p, k, j]
            if not found and ymy[p, k] > 0.0:
                gamma = 1.0 / (rho[p, k] * ymy[p, k])
                found = True
        for j in range(d):
            out[k, j] *= gamma * scale[k, j]
        for c in range(n_pairs - 1, -1, -1):  # oldest to newest
            p = (newest - c) % m
            if rho[p, k] == 0.0:
                continue
            b = alpha[p] - rho[p, k] * row_dot_dense(Y[p], k, out, k, d)
            for j in range(d):
                out[k, j] += b * S[p, k, j]
