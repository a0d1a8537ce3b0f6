"""Coordinate descent for the (elastic-net) Lasso on columns of a block: Shotgun steps and sequential epochs.

The problem, with weights ``s`` normalised to sum to ``n`` and the intercept handled by centring,

.. math::

    \\min_w \\frac{1}{2n} \\sum_i s_i \\big(y_i - \\bar y - \\sum_j (x_{ij} - \\bar x_j) w_j\\big)^2
    + \\lambda_1 \\|w\\|_1 + \\frac{\\lambda_2}{2} \\|w\\|_2^2 .

X is never centred in memory: the residual is kept as ``r + c`` (a vector and a scalar offset), so that a column
update costs O(non-zeros of the column) on sparse data too. With ``z_j = (x_j^T (s * r) + c colsum_j) / n``
and ``L_j`` the weighted centred squared norm of column ``j`` over ``n``, the exact coordinate minimiser is
``w_j <- S(L_j w_j + z_j, lambda_1) / (L_j + lambda_2)`` (S the soft threshold; with ``positive``, negative
values are set to 0).

Shotgun (Bradley et al. 2011) computes the new values of P coordinates from the same residual (:func:`deltas_*`,
parallel over coordinates) and then applies them together (:func:`residual_update_*`, parallel over rows: each call
writes only its own row range of ``r``, the one place where kernels write into their arguments, to share the
residual between threads without copying it).
"""

import numpy as np
from numba import njit

from .._penalties import coordinate_minimizer
from ._indices import row_span


@njit(inline="always", nogil=True, cache=True)
def _new_value(wj, Lj, zj, l1, l2, positive):
    return coordinate_minimizer(Lj * wj + zj, Lj, l1, l2, positive)


@njit(inline="always", nogil=True, cache=True)
def _weighted_dot_dense(X, j, s, r):
    """``sum_i x_ij s_i r_i`` over dense column ``j``."""
    acc = 0.0
    for i in range(X.shape[0]):
        acc += X[i, j] * s[i] * r[i]
    return acc


@njit(inline="always", nogil=True, cache=True)
def _weighted_dot_csc(data, indices, indptr, col, s, r):
    """``sum_i x_i s_i r_i`` over the stored values of CSC column ``col``."""
    acc = 0.0
    a, z = row_span(indptr, col)
    for k in range(a, z):
        i = indices[k]
        acc += data[k] * s[i] * r[i]
    return acc


@njit(inline="always", nogil=True, cache=True)
def _axpy_dense(X, j, d, r):
    """``r -= d X[:, j]``."""
    for i in range(X.shape[0]):
        r[i] -= X[i, j] * d


@njit(inline="always", nogil=True, cache=True)
def _axpy_csc(data, indices, indptr, col, d, r):
    """``r -= d X[:, col]`` over the column's stored values."""
    a, z = row_span(indptr, col)
    for k in range(a, z):
        r[indices[k]] -= data[k] * d


@njit(nogil=True, cache=True)
def deltas_dense(X, idx, s, r, c, colsum, L, w, l1, l2, positive):
    """Changes of the coordinates ``idx`` (columns of ``X``) computed from the same residual ``r + c``."""
    n = X.shape[0]
    out = np.empty(idx.shape[0])
    for q in range(idx.shape[0]):
        j = idx[q]
        z = (_weighted_dot_dense(X, j, s, r) + c * colsum[j]) / n
        out[q] = _new_value(w[j], L[j], z, l1, l2, positive) - w[j]
    return out


@njit(nogil=True, cache=True)
def deltas_csc(data, indices, indptr, cols, idx, s, r, c, colsum, L, w, l1, l2, positive, n):
    """The CSC twin of :func:`deltas_dense`; ``cols[j]`` is the column of X behind working coordinate ``j``."""
    out = np.empty(idx.shape[0])
    for q in range(idx.shape[0]):
        j = idx[q]
        z = (_weighted_dot_csc(data, indices, indptr, cols[j], s, r) + c * colsum[j]) / n
        out[q] = _new_value(w[j], L[j], z, l1, l2, positive) - w[j]
    return out


@njit(nogil=True, cache=True)
def column_dots_csc(data, indices, indptr, cols, v):
    """``out[q] = X[:, cols[q]] . v`` over a CSC matrix's arrays: a working set's correlations without building the
    set's columns as a matrix (scipy's column indexing copied them at every gap check)."""
    out = np.empty(cols.shape[0])
    for q in range(cols.shape[0]):
        col = cols[q]
        acc = 0.0
        a, z = row_span(indptr, col)
        for k in range(a, z):
            acc += data[k] * v[indices[k]]
        out[q] = acc
    return out


@njit(nogil=True, cache=True)
def apply_deltas(idx, delta, xbar, w, c):
    """``w[idx] += delta`` and the centring offset ``c + xbar[idx] . delta``, summed one change at a time in the
    order of :func:`shotgun_epoch_dense` and :func:`shotgun_epoch_csc` (a NumPy dot sums in another order), so
    that Shotgun's steps shared over threads give the one-thread epoch's bits. Returns the new offset."""
    for q in range(idx.shape[0]):
        dq = delta[q]
        if dq != 0.0:
            j = idx[q]
            w[j] += dq
            c += xbar[j] * dq
    return c


@njit(nogil=True, cache=True)
def residual_update_dense(X, idx, delta, r, start, stop):
    """``r[start:stop] -= X[start:stop, idx] @ delta``, in place (rows owned by the caller)."""
    for q in range(idx.shape[0]):
        dq = delta[q]
        if dq != 0.0:
            j = idx[q]
            for i in range(start, stop):
                r[i] -= X[i, j] * dq


@njit(nogil=True, cache=True)
def residual_update_csc(data, indices, indptr, cols, idx, delta, r):
    """``r -= X[:, cols[idx]] @ delta``, in place (sparse columns: one thread, O(non-zeros))."""
    for q in range(idx.shape[0]):
        dq = delta[q]
        if dq != 0.0:
            col = cols[idx[q]]
            _axpy_csc(data, indices, indptr, col, dq, r)


@njit(nogil=True, cache=True)
def cd_epochs_dense(X, order, s, r, c, colsum, xbar, L, w, l1, l2, positive, n_epochs, sigma):
    """Sequential coordinate descent: ``n_epochs`` passes over ``order`` (columns of ``X``), each update applied at
    once. Returns new ``(w, r, c)``; the inputs are not modified.

    With ``sigma > 1`` it minimises the CoCoA+ local subproblem of a block of columns, whose quadratic term is
    ``sigma / (2n) ||X_k dw||^2``: the curvature is ``sigma L`` and the local residual moves by ``sigma`` times
    ``X_k dw``, so that the caller recovers ``X_k dw = (r_in - r_out) / sigma`` (offsets likewise). With ``sigma``
    equal to the number of blocks, adding every block's change is a safe step (Ma et al. 2015).
    """
    w = w.copy()
    r = r.copy()
    n = X.shape[0]
    for _ in range(n_epochs):
        for q in range(order.shape[0]):
            j = order[q]
            z = (_weighted_dot_dense(X, j, s, r) + c * colsum[j]) / n
            Lj = sigma * L[j]
            d = _new_value(w[j], Lj, z, l1, l2, positive) - w[j] if Lj > 0 else 0.0
            if d != 0.0:
                w[j] += d
                d *= sigma
                c += xbar[j] * d
                _axpy_dense(X, j, d, r)
    return w, r, c


@njit(nogil=True, cache=True)
def cd_epochs_csc(data, indices, indptr, cols, order, s, r, c, colsum, xbar, L, w, l1, l2, positive, n_epochs, sigma,
                  n):
    """The CSC twin of :func:`cd_epochs_dense`."""
    w = w.copy()
    r = r.copy()
    for _ in range(n_epochs):
        for q in range(order.shape[0]):
            j = order[q]
            col = cols[j]
            z = (_weighted_dot_csc(data, indices, indptr, col, s, r) + c * colsum[j]) / n
            Lj = sigma * L[j]
            d = _new_value(w[j], Lj, z, l1, l2, positive) - w[j] if Lj > 0 else 0.0
            if d != 0.0:
                w[j] += d
                d *= sigma
                c += xbar[j] * d
                _axpy_csc(data, indices, indptr, col, d, r)
    return w, r, c


@njit(nogil=True, cache=True)
def shotgun_epoch_dense(X, order, P, s, r, colsum, xbar, L, w, l1, l2, positive):
    """One Shotgun epoch in one thread: steps of P coordinates of ``order``, each step's changes computed from the
    same residual and then applied together (the algorithm's semantics, without thread hand-offs: for steps too
    small to share out). Updates ``w`` and ``r`` in place; returns the number of steps."""
    n = X.shape[0]
    m = order.shape[0]
    delta = np.empty(P)
    steps = 0
    for start in range(0, m, P):
        stop = min(start + P, m)
        for q in range(start, stop):
            j = order[q]
            delta[q - start] = _new_value(w[j], L[j], _weighted_dot_dense(X, j, s, r) / n, l1, l2, positive) - w[j]
        shift = 0.0
        for q in range(start, stop):
            j = order[q]
            dq = delta[q - start]
            if dq != 0.0:
                w[j] += dq
                shift += xbar[j] * dq
                _axpy_dense(X, j, dq, r)
        if shift != 0.0:
            for i in range(n):
                r[i] += shift
        steps += 1
    return steps


@njit(nogil=True, cache=True)
def shotgun_epoch_gram(G, z, order, P, w, l1, l2, positive):
    """One Shotgun epoch on the Gram matrix of the working set: ``G = X~^T S X~ / n`` and ``z = X~^T S r / n``.

    The same steps as :func:`shotgun_epoch_dense` (P coordinates from the same ``z``, applied together), but a
    step costs O(P m) for m working coordinates instead of O(P n): for n much larger than m, the n-long residual
    is replaced by its m correlations, and X is not touched. Updates ``w`` and ``z`` in place; returns the steps.
    """
    m = order.shape[0]
    delta = np.empty(P)
    steps = 0
    for start in range(0, m, P):
        stop = min(start + P, m)
        for q in range(start, stop):
            j = order[q]
            delta[q - start] = _new_value(w[j], G[j, j], z[j], l1, l2, positive) - w[j] if G[j, j] > 0 else 0.0
        for q in range(start, stop):
            j = order[q]
            dq = delta[q - start]
            if dq != 0.0:
                w[j] += dq
                for k in range(G.shape[0]):  # G is symmetric: row j, read contiguously
                    z[k] -= G[j, k] * dq
        steps += 1
    return steps


@njit(nogil=True, cache=True)
def shotgun_epoch_csc(data, indices, indptr, cols, order, P, s, r, colsum, xbar, L, w, l1, l2, positive, n):
    """The CSC twin of :func:`shotgun_epoch_dense`; the constant shift of centring is kept as an offset ``c``
    and folded into ``r`` once at the end, so a step costs O(non-zeros of its columns)."""
    m = order.shape[0]
    delta = np.empty(P)
    steps = 0
    c = 0.0
    for start in range(0, m, P):
        stop = min(start + P, m)
        for q in range(start, stop):
            j = order[q]
            z = (_weighted_dot_csc(data, indices, indptr, cols[j], s, r) + c * colsum[j]) / n
            delta[q - start] = _new_value(w[j], L[j], z, l1, l2, positive) - w[j]
        for q in range(start, stop):
            j = order[q]
            dq = delta[q - start]
            if dq != 0.0:
                w[j] += dq
                c += xbar[j] * dq
                _axpy_csc(data, indices, indptr, cols[j], dq, r)
        steps += 1
    if c != 0.0:
        for i in range(r.shape[0]):
            r[i] += c
    return steps
