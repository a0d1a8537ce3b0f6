"""Block statistics: losses and residual sums at a given model, row norms, Gram matrices of a row sample.

These are the reductions a driver needs from blocks it cannot see: each returns a few numbers (or a d x d matrix)
that the driver adds up over blocks.
"""

import numpy as np
from numba import njit

from ._loss import loss_and_derivative


@njit(nogil=True, cache=True)
def eval_dense(X, y, sw, rows, w, b, loss, eps):
    """Return ``(sum s_i l_i, sum s_i (y_i - p_i)^2, sum s_i, sum s_i y_i, sum s_i y_i^2)`` over ``rows``."""
    d = X.shape[1]
    out = np.zeros(5)
    for q in range(rows.shape[0]):
        i = rows[q]
        p = b
        for j in range(d):
            p += X[i, j] * w[j]
        lv, _ = loss_and_derivative(loss, p, y[i], eps)
        s = sw[i]
        r = y[i] - p
        out[0] += s * lv
        out[1] += s * r * r
        out[2] += s
        out[3] += s * y[i]
        out[4] += s * y[i] * y[i]
    return out


@njit(nogil=True, cache=True)
def eval_csr(data, indices, indptr, y, sw, rows, w, b, loss, eps):
    """The CSR twin of :func:`eval_dense`."""
    out = np.zeros(5)
    for q in range(rows.shape[0]):
        i = rows[q]
        p = b
        for k in range(indptr[i], indptr[i + 1]):
            p += data[k] * w[indices[k]]
        lv, _ = loss_and_derivative(loss, p, y[i], eps)
        s = sw[i]
        r = y[i] - p
        out[0] += s * lv
        out[1] += s * r * r
        out[2] += s
        out[3] += s * y[i]
        out[4] += s * y[i] * y[i]
    return out


@njit(nogil=True, cache=True)
def row_sq_norms_dense(X, rows):
    """Squared Euclidean norms of ``X[rows]``."""
    out = np.empty(rows.shape[0])
    for q in range(rows.shape[0]):
        i = rows[q]
        acc = 0.0
        for j in range(X.shape[1]):
            acc += X[i, j] * X[i, j]
        out[q] = acc
    return out


@njit(nogil=True, cache=True)
def row_sq_norms_csr(data, indptr, rows):
    """Squared Euclidean norms of the CSR rows ``rows``."""
    out = np.empty(rows.shape[0])
    for q in range(rows.shape[0]):
        i = rows[q]
        acc = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            acc += data[k] * data[k]
        out[q] = acc
    return out
