"""A sparse matrix's arrays as the kernels read them."""

import numpy as np
from numba import njit

#: one, unsigned: for arithmetic on the offsets of :func:`row_span` (an int literal would make the sum signed)
ONE = np.uint64(1)


def sparse_arrays(X):
    """``(data, indices, indptr)`` of the CSR or CSC matrix ``X``, with ``indices`` viewed as unsigned (no copy).

    numba compiles ``w[j]`` with a signed ``j`` to a test for a negative index (counted from the end) before every
    load and store; with an unsigned ``j`` there is none. The gathers and scatters of the sparse kernels are that
    index alone, so the view makes them 15-25% faster (a dot product and an update over each row of dorothea and
    Reuters, docs/benchmarks.md). scipy stores indices as int32 unless the matrix needs more, so only int32 is
    viewed; other dtypes are passed as they are.
    """
    indices = X.indices.view(np.uint32) if X.indices.dtype == np.int32 else X.indices
    return X.data, indices, X.indptr


@njit(inline="always", nogil=True, cache=True)
def row_span(indptr, i):
    """Row (or column) ``i``'s value offsets ``[a, z)`` in ``data`` and ``indices``, as unsigned integers.

    The same test as for the indices above: ``data[r]`` with a signed ``r`` (a loop from ``indptr[i]``) is tested
    for a negative value at every load, and a loop over unsigned offsets has none. On Reuters the dual's certificate
    pass (a dot product a row) took 0.35 ms with signed offsets and 0.21 ms with unsigned ones, scipy's ``X @ w``
    0.23 ms (docs/benchmarks.md). Keep arithmetic on the offsets unsigned: numba types a mix of signed and unsigned
    64-bit integers as a float."""
    return np.uint64(indptr[i]), np.uint64(indptr[i + 1])
