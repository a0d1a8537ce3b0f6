"""One pass of dual coordinate ascent (the squared hinge, one output) on each real set's CSR rows, with the rows
ahead prefetched as the kernel did before ``SHORT_ROW_VALUES`` (every line of each row), only their first lines, or
not at all: the measurement behind ``skpar.kernels._prefetch.SHORT_ROW_VALUES``.

The kernel is :func:`skpar.kernels._dcd.dcd_csr` compiled three times with its ``prefetch_row`` replaced and its
prefetch of the next ``ROWS_AHEAD`` rows on for every set; each pass starts from the same state and takes a fresh
random order.
Prints the median pass time of each variant per set.

Usage: python asv_bench/scripts/dcd_prefetch.py [reuters ijcnn1 a9a dorothea newsgroups]
"""

import inspect
import os
import sys
import time

import numpy as np
from numba import njit

import skpar.kernels._dcd as dcd
from skpar._losses import make_loss
from skpar.kernels import sparse_arrays
from skpar.kernels._prefetch import prefetch_read

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks.datasets import load  # noqa: E402

BODIES = {
    "every line": None,  # the module's prefetch_row
    "first lines": ("    a, z = indptr[i], indptr[i + 1]\n    if z <= a:\n        return\n"
                    "    prefetch_read(data, a)\n    prefetch_read(indices, a)\n"),
    "none": "    return\n",
}


def variants():
    source = inspect.getsource(dcd.dcd_csr.py_func).replace("@njit(nogil=True, cache=True)", "@njit(nogil=True)")
    source = source.replace("prefetching = short_rows(indptr)", "prefetching = True")  # on every set
    out = {}
    for name, body in BODIES.items():
        namespace = dict(dcd.__dict__, prefetch_read=prefetch_read, njit=njit)
        if body is not None:
            exec("@njit(inline='always', nogil=True)\ndef prefetch_row(data, indices, indptr, i):\n" + body,
                 namespace)
        exec(source, namespace)
        out[name] = namespace["dcd_csr"]
    return out


def time_set(name, kernels, loss):
    """The median pass of each kernel variant on the set ``name``'s training rows."""
    Xtr, ytr, *_ = load(name)
    data, indices, indptr = sparse_arrays(Xtr)
    n, d = Xtr.shape
    y = (ytr > 0).astype(np.float64)
    sw = np.ones(n)
    sqn = np.asarray(Xtr.multiply(Xtr).sum(1)).ravel()
    rng = np.random.default_rng(0)
    W, Wl, A = np.zeros((1, d + 1)), np.zeros((1, d + 1)), np.zeros((1, n))
    times = {k: [] for k in kernels}

    def run(kernel, order, Wl, A):
        kernel(data, indices, indptr, sqn, y, sw, order, W, Wl, A, 1.0, loss.kernel, loss.dual, np.ones(1),
               np.ones(1), 1.0, 1.0, False, np.ones((0, 0), np.bool_), np.array([np.inf, -np.inf]))

    for rep in range(12):
        order = rng.permutation(n).astype(np.int64)
        for k, kernel in kernels.items():
            Wk, Ak = Wl.copy(), A.copy()
            t = time.perf_counter()
            run(kernel, order, Wk, Ak)
            if rep:  # the first round compiles
                times[k].append(time.perf_counter() - t)
        run(kernels["none"], order, Wl, A)  # the state moves on, as a fit's passes do
    return Xtr.nnz / n, {k: float(np.median(v)) for k, v in times.items()}


def main():
    loss = make_loss("squared_hinge")
    kernels = variants()
    for name in sys.argv[1:] or ["reuters", "ijcnn1", "a9a", "dorothea", "newsgroups"]:
        per_row, times = time_set(name, kernels, loss)
        print(f"{name} ({per_row:.0f} values a row): " + ", ".join(f"{k} {1e3 * v:.3f} ms" for k, v in times.items()))


if __name__ == "__main__":
    main()
