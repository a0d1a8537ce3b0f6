"""The softmax cross-entropy's loss and gradient sums over a block's CSR rows, compiled (without the GIL)."""

import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def softmax_terms_csr(data, indices, indptr, rows, y, s, class_weight, WT, B, gWT, gB):
    """Add the weighted softmax cross-entropy's gradient sums over ``rows`` of the CSR block ``(data, indices,
    indptr)`` at weights ``WT`` (d, K: a feature's K weights side by side) and intercepts ``B`` into ``gWT`` (d, K)
    and ``gB`` (K,); returns the loss sum. ``y`` holds class indices; row ``i`` weighs ``s[i] * class_weight[y[i]]``.

    One pass over the rows: each row's K scores, their log-sum-exp, then the row's non-zeros added to the K
    gradient columns. The feature-major layout keeps a non-zero's K weights on one cache line or two (a class-major
    one cost 1.4 times scipy's products on 20 Newsgroups); compiled, the loop releases the GIL, where scipy's
    sparse products hold it and the blocks' threads took turns."""
    K = WT.shape[1]
    P = np.empty(K)
    loss = 0.0
    for q in range(rows.shape[0]):
        i = rows[q]
        for k in range(K):
            P[k] = B[k]
        for r in range(indptr[i], indptr[i + 1]):
            x, j = data[r], indices[r]
            for k in range(K):
                P[k] += x * WT[j, k]
        t = int(y[i])
        z_t = P[t]
        top = P[0]
        for k in range(1, K):
            top = max(top, P[k])
        total = 0.0
        for k in range(K):
            P[k] = np.exp(P[k] - top)
            total += P[k]
        w = s[i] * class_weight[t]
        loss += w * (top + np.log(total) - z_t)
        for k in range(K):
            P[k] = w * (P[k] / total - (1.0 if k == t else 0.0))  # now the row's gradient in its scores
            gB[k] += P[k]
        for r in range(indptr[i], indptr[i + 1]):
            x, j = data[r], indices[r]
            for k in range(K):
                gWT[j, k] += x * P[k]
    return loss
