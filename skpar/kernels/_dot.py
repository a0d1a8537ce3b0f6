"""A row's dot product with one output's weights, dense or CSR, in four partial sums.

A single running sum is a chain of dependent adds, bound by the adder's latency (measured 10% of a dual
coordinate ascent epoch); four independent sums keep the pipeline full. Shared by the dual and the Newton kernels.
"""

import numpy as np
from numba import njit

# unsigned steps of an unsigned offset (an int literal would make the sum signed)
_1, _2, _3, _4 = np.uint64(1), np.uint64(2), np.uint64(3), np.uint64(4)


@njit(inline="always", nogil=True, cache=True)
def row_dot_dense(X, i, W, k, d):
    s0 = s1 = s2 = s3 = 0.0
    j = 0
    while j + 4 <= d:
        s0 += X[i, j] * W[k, j]
        s1 += X[i, j + 1] * W[k, j + 1]
        s2 += X[i, j + 2] * W[k, j + 2]
        s3 += X[i, j + 3] * W[k, j + 3]
        j += 4
    while j < d:
        s0 += X[i, j] * W[k, j]
        j += 1
    return (s0 + s1) + (s2 + s3)


@njit(inline="always", nogil=True, cache=True)
def row_dot_csr(data, indices, a, z, W, k):
    # the offsets unsigned, so that no load tests them for a negative value (skpar.kernels._indices.row_span)
    r, z = np.uint64(a), np.uint64(z)
    s0 = s1 = s2 = s3 = 0.0
    while r + _4 <= z:
        s0 += data[r] * W[k, indices[r]]
        s1 += data[r + _1] * W[k, indices[r + _1]]
        s2 += data[r + _2] * W[k, indices[r + _2]]
        s3 += data[r + _3] * W[k, indices[r + _3]]
        r += _4
    while r < z:
        s0 += data[r] * W[k, indices[r]]
        r += _1
    return (s0 + s1) + (s2 + s3)
