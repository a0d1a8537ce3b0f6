"""One row access for dense and CSR blocks, so that a kernel is written once for both (as lightning's row datasets).

A kernel takes ``X`` as a block gives it (:func:`rows_of`): a 2-D array for dense rows, or the CSR arrays
``(data, indices, indptr)`` as a tuple. The helpers below are numba overloads: numba picks the dense or the CSR body
when it compiles the kernel for the type of ``X``, so each compiled kernel has one loop, with no test per row and
the same arithmetic as a kernel written for that format alone.
"""

import numpy as np
from numba import types
from numba.extending import overload

from ._indices import row_span, sparse_arrays


def rows_of(X, sparse):
    """``X`` as the kernels of this module read it: the CSR arrays (:func:`sparse_arrays`) or the dense array."""
    return sparse_arrays(X) if sparse else X


def row_scores(X, i, W, B, P):
    """``P[k] = B[k] + x_i . W[k]`` for every output ``k`` (compiled only: called from numba kernels)."""
    raise NotImplementedError("row_scores is compiled into numba kernels")


def row_sq_norm(X, i):
    """``||x_i||^2`` (compiled only)."""
    raise NotImplementedError("row_sq_norm is compiled into numba kernels")


@overload(row_scores, inline="always")
def _row_scores(X, i, W, B, P):
    if isinstance(X, types.Array):
        def dense(X, i, W, B, P):
            for k in range(W.shape[0]):
                p = B[k]
                for j in range(W.shape[1]):
                    p += X[i, j] * W[k, j]
                P[k] = p
        return dense

    def csr(X, i, W, B, P):
        data, indices, indptr = X
        for k in range(W.shape[0]):
            p = B[k]
            a, z = row_span(indptr, i)
            for r in range(a, z):
                p += data[r] * W[k, indices[r]]
            P[k] = p
    return csr


@overload(row_sq_norm, inline="always")
def _row_sq_norm(X, i):
    if isinstance(X, types.Array):
        def dense(X, i):
            acc = 0.0
            for j in range(X.shape[1]):
                v = np.float64(X[i, j])  # float32 squares overflow past 1.8e19: square in float64
                acc += v * v
            return acc
        return dense

    def csr(X, i):
        # four partial sums, as skpar.kernels._dot's: one running sum waits on the adder's latency at every value
        # (305 us for Reuters' 340,000 values, 145 us in four)
        data, indptr = X[0], X[2]
        s0 = s1 = s2 = s3 = 0.0
        k, z = indptr[i], indptr[i + 1]
        while k + 4 <= z:
            v0, v1 = np.float64(data[k]), np.float64(data[k + 1])
            v2, v3 = np.float64(data[k + 2]), np.float64(data[k + 3])
            s0 += v0 * v0
            s1 += v1 * v1
            s2 += v2 * v2
            s3 += v3 * v3
            k += 4
        while k < z:
            v = np.float64(data[k])
            s0 += v * v
            k += 1
        return (s0 + s1) + (s2 + s3)
    return csr
