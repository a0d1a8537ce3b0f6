"""A row's dot product with one output's weights, dense or CSR, in four partial sums.

A single running sum is a chain of dependent adds, bound by the adder's latency (measured 10% of a dual
coordinate ascent epoch); four independent sums keep the pipeline full. Shared by the dual and the Newton kernels.
"""

from numba import njit


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
    s0 = s1 = s2 = s3 = 0.0
    r = a
    while r + 4 <= z:
        s0 += data[r] * W[k, indices[r]]
        s1 += data[r + 1] * W[k, indices[r + 1]]
        s2 += data[r + 2] * W[k, indices[r + 2]]
        s3 += data[r + 3] * W[k, indices[r + 3]]
        r += 4
    while r < z:
        s0 += data[r] * W[k, indices[r]]
        r += 1
    return (s0 + s1) + (s2 + s3)
