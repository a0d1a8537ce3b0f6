"""Dual coordinate ascent for linear SVMs on one block (Hsieh et al. 2008; SDCA, Shalev-Shwartz and Zhang 2013).

For each output ``k`` (one per class, one-vs-rest; one for two classes) and sample ``i`` with target
:math:`t_{ik} = \\pm 1` and cost :math:`C_{ik}`, the dual of :math:`\\tfrac12\\|w_k\\|^2 + \\sum_i C_{ik}\\,
\\ell(t_{ik} w_k \\cdot x_i)` is

.. math::

    \\max_{0 \\le \\alpha_{ik} \\le U_{ik}} \\sum_i \\alpha_{ik} - \\tfrac12 \\|w_k(\\alpha)\\|^2
    - \\sum_i \\frac{D_{ik}}{2} \\alpha_{ik}^2, \\qquad w_k(\\alpha) = \\sum_i \\alpha_{ik} t_{ik} x_i,

with :math:`U = C, D = 0` for the hinge and :math:`U = \\infty, D = 1 / (2C)` for the squared hinge. A coordinate
step is the closed-form clipped Newton step
:math:`\\alpha \\leftarrow \\mathrm{clip}(\\alpha - (t\\, w \\cdot x - 1 + D\\alpha) / (\\|x\\|^2 + D), 0, U)`.

For CoCoA+ (Ma et al. 2015) a block solves its local subproblem, whose quadratic term is scaled by ``sigma``: the
block's copy of ``w`` moves by ``sigma`` times each step. Rows carry an appended constant ``intercept_scaling``
when an intercept is fitted (liblinear's convention: the intercept is penalised like a weight).
"""

import numpy as np
from numba import njit

HINGE = 0
SQUARED_HINGE = 1


@njit(inline="always", nogil=True, cache=True)
def _target(yi, k, K):
    cls = 1.0 if K == 1 else float(k)
    return 1.0 if yi == cls else -1.0


@njit(inline="always", nogil=True, cache=True)
def _cost(C, swi, t, k, pos_weight, neg_weight):
    return C * swi * (pos_weight[k] if t > 0 else neg_weight[k])


@njit(nogil=True, cache=True)
def dcd_dense(X, y, sw, order, W, Wl, A, C, loss, pos_weight, neg_weight, bias, sigma, n_epochs):
    """Dual coordinate ascent epochs over the dense block ``X``, updating ``Wl`` and ``A`` **in place**.

    ``W`` (K, d + [bias != 0]) is the model the round started from (read only), ``Wl`` the working copy of ``w``
    that the steps move (a private copy for CoCoA rounds; for PASSCoDe the one array all threads share, written
    without locks), ``A`` (K, n) the block's dual variables. Returns ``(primal_sum, dual_sum)`` at the incoming
    ``(W, A)``: the block's primal loss ``sum C_ik l(t w_k . x~_i)`` and dual terms ``sum alpha_ik - D_ik
    alpha_ik^2 / 2`` (taken during the first epoch: a second dot per row, no second pass).
    """
    K, dw = W.shape
    d = X.shape[1]
    primal_sum = 0.0
    dual_sum = 0.0
    for epoch in range(n_epochs):
        for q in range(order.shape[0]):
            i = order[q]
            sq = bias * bias
            for j in range(d):
                sq += X[i, j] * X[i, j]
            for k in range(K):
                t = _target(y[i], k, K)
                Ci = _cost(C, sw[i], t, k, pos_weight, neg_weight)
                if Ci <= 0.0:
                    continue
                D = 0.0 if loss == HINGE else 0.5 / Ci
                U = Ci if loss == HINGE else np.inf
                p = bias * Wl[k, d] if bias != 0.0 else 0.0
                if epoch == 0:
                    p0 = bias * W[k, d] if bias != 0.0 else 0.0
                    for j in range(d):
                        xij = X[i, j]
                        p += xij * Wl[k, j]
                        p0 += xij * W[k, j]
                    m = max(0.0, 1.0 - t * p0)
                    primal_sum += Ci * (m if loss == HINGE else m * m)
                    a0 = A[k, i]  # each row is visited once an epoch: still the incoming value
                    dual_sum += a0 - 0.5 * D * a0 * a0
                else:
                    for j in range(d):
                        p += X[i, j] * Wl[k, j]
                G = t * p - 1.0 + D * A[k, i]
                Q = sigma * sq + D
                if Q <= 0.0:
                    continue
                a_new = min(max(A[k, i] - G / Q, 0.0), U)
                delta = a_new - A[k, i]
                if delta != 0.0:
                    A[k, i] = a_new
                    step = sigma * delta * t
                    for j in range(d):
                        Wl[k, j] += step * X[i, j]
                    if bias != 0.0:
                        Wl[k, d] += step * bias
    return primal_sum, dual_sum


@njit(nogil=True, cache=True)
def dcd_csr(data, indices, indptr, y, sw, order, W, Wl, A, C, loss, pos_weight, neg_weight, bias, sigma, n_epochs):
    """The CSR twin of :func:`dcd_dense`: a step costs O(K x non-zeros of the row)."""
    K, dw = W.shape
    d = dw - 1 if bias != 0.0 else dw
    primal_sum = 0.0
    dual_sum = 0.0
    for epoch in range(n_epochs):
        for q in range(order.shape[0]):
            i = order[q]
            a, z = indptr[i], indptr[i + 1]
            sq = bias * bias
            for r in range(a, z):
                sq += data[r] * data[r]
            for k in range(K):
                t = _target(y[i], k, K)
                Ci = _cost(C, sw[i], t, k, pos_weight, neg_weight)
                if Ci <= 0.0:
                    continue
                D = 0.0 if loss == HINGE else 0.5 / Ci
                U = Ci if loss == HINGE else np.inf
                p = bias * Wl[k, d] if bias != 0.0 else 0.0
                if epoch == 0:
                    p0 = bias * W[k, d] if bias != 0.0 else 0.0
                    for r in range(a, z):
                        p += data[r] * Wl[k, indices[r]]
                        p0 += data[r] * W[k, indices[r]]
                    m = max(0.0, 1.0 - t * p0)
                    primal_sum += Ci * (m if loss == HINGE else m * m)
                    a0 = A[k, i]  # each row is visited once an epoch: still the incoming value
                    dual_sum += a0 - 0.5 * D * a0 * a0
                else:
                    for r in range(a, z):
                        p += data[r] * Wl[k, indices[r]]
                G = t * p - 1.0 + D * A[k, i]
                Q = sigma * sq + D
                if Q <= 0.0:
                    continue
                a_new = min(max(A[k, i] - G / Q, 0.0), U)
                delta = a_new - A[k, i]
                if delta != 0.0:
                    A[k, i] = a_new
                    step = sigma * delta * t
                    for r in range(a, z):
                        Wl[k, indices[r]] += step * data[r]
                    if bias != 0.0:
                        Wl[k, d] += step * bias
    return primal_sum, dual_sum
