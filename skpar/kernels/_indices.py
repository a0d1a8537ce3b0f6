"""A sparse matrix's arrays as the kernels read them."""

import numpy as np


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
