"""Block statistics: losses and fit sums at a given model, row norms.

These are the reductions a driver needs from blocks it cannot see: each returns a few numbers that the driver adds
up over blocks. The model has ``K`` outputs (``W`` of shape (K, d), ``B`` of shape (K,)), as in :mod:`._sgd`.
"""

import numpy as np
from numba import njit

from ._loss import SOFTMAX, softmax_terms, target_loss
from ._rows import row_scores, row_sq_norm


@njit(inline="always", nogil=True, cache=True)
def _accumulate(out, loss, margin, P, yi, s, eps, pos_weight, neg_weight, scratch):
    K = P.shape[0]
    lsum = 0.0
    if margin == SOFTMAX:  # the K outputs at once, the row weighed by its class (scratch: the unused gradient)
        lsum = softmax_terms(P, yi, pos_weight[int(yi)], scratch)
    else:
        for k in range(K):
            lv, _ = target_loss(loss, margin, P[k], yi, k, K, eps, pos_weight, neg_weight)
            lsum += lv
    out[0] += s * lsum
    if not margin:
        r = yi - P[0]
        out[1] += s * r * r
    else:
        if K == 1:
            pred = 1.0 if P[0] > 0 else 0.0
        else:
            pred = float(np.argmax(P))
        if pred == yi:
            out[1] += s
    out[2] += s
    out[3] += s * yi
    out[4] += s * yi * yi


@njit(nogil=True, cache=True)
def eval_rows(X, y, sw, rows, W, B, loss, margin, eps, pos_weight, neg_weight):
    """Sums over ``rows`` at the model ``(W, B)``; ``X`` dense or CSR as :func:`~skpar.kernels._rows.rows_of` gives it.

    Returns ``[sum s l, S, sum s, sum s y, sum s y^2]`` with ``l`` the loss summed over outputs and ``S`` the
    weighted squared error (regression) or the weight of correctly classified rows (classification).
    """
    out = np.zeros(5)
    P, scratch = np.empty(W.shape[0]), np.empty(W.shape[0])
    for q in range(rows.shape[0]):
        i = rows[q]
        row_scores(X, i, W, B, P)
        _accumulate(out, loss, margin, P, y[i], sw[i], eps, pos_weight, neg_weight, scratch)
    return out


def line_losses(X, y, sw, rows, W0, B0, DW, DB, thetas, loss, margin, eps, pos_weight, neg_weight):
    """Loss sums along lines of models, for a line search over shares of a change.

    ``W0`` (M, K, d) and ``B0`` (M, K) are M models, ``DW`` and ``DB`` a change of each; returns ``out`` (M, G)
    with ``out[m, g] = sum_i s_i l(x_i . (W0[m] + thetas[g] DW[m]) + B0[m] + thetas[g] DB[m], y_i)`` over
    ``rows`` (summed over outputs, weighted as :func:`eval_rows` weighs). A row's two score vectors are computed
    once and its G points are then sums of them: the cost is two :func:`eval_rows` passes for each model, whatever
    G. Two kernels, the scores' (one compiled body a layout of X) and the losses' (one a loss), rather than one of
    both: numba compiles a kernel for every pair of the two, 36 in the test suite, about a second each.
    """
    P0, PD = _line_scores(X, rows, W0, B0, DW, DB)
    return _line_sums(P0, PD, y, sw, rows, thetas, loss, margin, eps, pos_weight, neg_weight)


@njit(nogil=True, cache=True)
def _line_scores(X, rows, W0, B0, DW, DB):
    M, K = W0.shape[0], W0.shape[1]
    P0, PD = np.empty((M, rows.shape[0], K)), np.empty((M, rows.shape[0], K))
    for q in range(rows.shape[0]):
        for m in range(M):
            row_scores(X, rows[q], W0[m], B0[m], P0[m, q])
            row_scores(X, rows[q], DW[m], DB[m], PD[m, q])
    return P0, PD


@njit(nogil=True, cache=True)
def _line_sums(P0, PD, y, sw, rows, thetas, loss, margin, eps, pos_weight, neg_weight):
    M, n, K = P0.shape
    G = thetas.shape[0]
    out = np.zeros((M, G))
    P, scratch = np.empty(K), np.empty(K)
    for q in range(n):
        i = rows[q]
        s, yi = sw[i], y[i]
        for m in range(M):
            for g in range(G):
                for k in range(K):
                    P[k] = P0[m, q, k] + thetas[g] * PD[m, q, k]
                lsum = 0.0
                if margin == SOFTMAX:
                    lsum = softmax_terms(P, yi, pos_weight[int(yi)], scratch)
                else:
                    for k in range(K):
                        lv, _ = target_loss(loss, margin, P[k], yi, k, K, eps, pos_weight, neg_weight)
                        lsum += lv
                out[m, g] += s * lsum
    return out


@njit(nogil=True, cache=True)
def row_sq_norms(X, rows):
    """Squared Euclidean norms of the rows ``rows`` of ``X`` (dense or CSR, as :func:`rows_of` gives it)."""
    out = np.empty(rows.shape[0])
    for q in range(rows.shape[0]):
        out[q] = row_sq_norm(X, rows[q])
    return out


@njit(nogil=True, cache=True)
def column_sq_sums_csr(data, indices, d):
    """Sum of squares of each of the ``d`` columns of a CSR block (``np.bincount(indices, data**2, d)`` without
    bincount's int64 copy of the indices)."""
    out = np.zeros(d, dtype=np.float64)
    for r in range(indices.shape[0]):
        v = np.float64(data[r])
        out[indices[r]] += v * v
    return out


@njit(nogil=True, cache=True)
def column_counts_csr(indices, d):
    """Non-zeros of each of the ``d`` columns of a CSR block (``np.bincount(indices, minlength=d)``).

    ``np.bincount`` first casts int32 indices to a new int64 array (240 MB for 30 million non-zeros), an
    allocation that dominated the Hogwild! set-up round (docs/benchmarks.md, "Measurements behind the code's choices").
    """
    out = np.zeros(d, dtype=np.int64)
    for r in range(indices.shape[0]):
        out[indices[r]] += 1
    return out


@njit(nogil=True, cache=True)
def column_moments_dense(X, s, start, stop, sq, colsum):
    """Add ``sum_i s_i x_ij^2`` to ``sq`` and ``sum_i s_i x_ij`` to ``colsum`` (float64) over the rows
    ``start:stop`` of a C-ordered dense ``X``: one pass over the rows, with no ``x * x`` temporary."""
    for i in range(start, stop):
        si = s[i]
        for j in range(X.shape[1]):
            v = si * X[i, j]
            colsum[j] += v
            sq[j] += v * X[i, j]


@njit(nogil=True, cache=True)
def gather_columns(X, cols, start, stop, out):
    """``out[i, k] = X[i, cols[k]]`` for the rows ``start:stop`` (a working set's columns copied out of a
    C-ordered X into the F-ordered ``out``, a range of rows a thread)."""
    for i in range(start, stop):
        for k in range(cols.shape[0]):
            out[i, k] = X[i, cols[k]]


def norm_powers(sq) -> dict:
    """``max_sq`` (the largest of the squared norms ``sq``, NumPy or CuPy) and ``sum_q2``, ``sum_q3``: the sums of
    the squares and cubes of ``sq / max_sq``, whose ratio the critical batch size's ``typical`` takes (scaled, so
    that norms of 1e150 do not overflow in their cubes)."""
    top = float(sq.max()) if sq.size else 0.0
    q = sq / top if top > 0.0 else sq
    return {"max_sq": top, "sum_q2": float((q * q).sum()), "sum_q3": float((q * q * q).sum())}
