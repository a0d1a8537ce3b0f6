"""One dual coordinate ascent pass over every one-vs-rest output of a real set: the rows-outermost kernel of several
outputs (``dcd_csr_outputs``, each row read once) against one pass of the one-output kernel (``dcd_csr``) per
output, the same rows in the same order, every variable active and stepping. Median of ``--repeats`` passes after a
warm-up (the first pass compiles). The figures of docs/benchmarks.md ("The dual's one-vs-rest outputs in one pass")
come from this script's first form.

Usage: python asv_bench/scripts/dcd_outputs_pass.py [--set newsgroups] [--repeats 5]
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

from skpar._losses import make_loss
from skpar.kernels import dcd_csr, dcd_csr_outputs, sparse_arrays

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks.datasets import load  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="newsgroups")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    Xtr, ytr, _, _, _ = load(args.set)
    X = Xtr.tocsr()
    n, d = X.shape
    y = np.unique(ytr, return_inverse=True)[1].astype(np.float64)
    K = int(y.max()) + 1
    sqn = np.asarray(X.multiply(X).sum(axis=1)).ravel()
    loss = make_loss("hinge")
    sw, ones = np.ones(n), np.ones(K)
    order = np.random.default_rng(0).permutation(n).astype(np.int64)
    C = 1.0 / (1e-4 * n)  # the classifier's default alpha
    arrays = sparse_arrays(X)

    def all_outputs():
        Wl = np.zeros((K, d + 1), order="F")
        dcd_csr_outputs(*arrays, sqn, y, sw, order, Wl, Wl, np.zeros((K, n)), C, loss.kernel, loss.dual, ones, ones,
                        1.0, 1.0, False, np.ones((K, n), dtype=np.bool_), np.tile([np.inf, -np.inf], (K, 1)))

    def one_at_a_time():
        for k in range(K):
            Wl = np.zeros((1, d + 1))
            dcd_csr(*arrays, sqn, (y == k).astype(np.float64), sw, order, Wl, Wl, np.zeros((1, n)), C, loss.kernel,
                    loss.dual, ones[:1], ones[:1], 1.0, 1.0, False, np.ones((1, n), dtype=np.bool_),
                    np.array([np.inf, -np.inf]))

    for name, fn in (("all outputs, rows outermost (dcd_csr_outputs)", all_outputs),
                     (f"{K} one-output passes (dcd_csr)", one_at_a_time)):
        fn()
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        print(f"{args.set} ({n:,} x {d:,}, {K} outputs): {name}: median {1e3 * statistics.median(times):.1f} ms")


if __name__ == "__main__":
    main()
