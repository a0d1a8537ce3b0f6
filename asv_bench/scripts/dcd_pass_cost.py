"""What one pass of the dual coordinate ascent kernels costs on the real sets' rows, and one certificate.

For each set: the median time of a pass of :func:`skpar.kernels.dcd_csr` (one output; ``dcd_csr_outputs`` for the
one-vs-rest outputs of a multiclass set; ``dcd_dense`` for the generated dense set ``dense``, 200,000 x 100) for the
squared hinge and the hinge, every variable visited (``full``) and with liblinear's shrinking carried from pass to
pass (``shrunk``: the passes a one-block fit runs), over 10 passes after two that compile and warm up, each in a
fresh random order from the same start; then the certificate pass (:func:`skpar.kernels.certificate_csr`, one
output) at a fixed point. Kernel calls only: no fit, no validation.

To compare two trees of the package, run it on each (``git checkout <rev> -- skpar``, then delete
``skpar/**/__pycache__/*.nb[ic]``: numba's cache keys a kernel by its own file only).

Usage: python asv_bench/scripts/dcd_pass_cost.py [--sets reuters,a9a,ijcnn1,newsgroups,dense]
"""

import argparse
import os
import sys
import time

import numpy as np

from skpar._losses import make_loss
from skpar.kernels import certificate_csr, dcd_csr, dcd_csr_outputs, dcd_dense, sparse_arrays

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks.datasets import load  # noqa: E402


def _data(name):
    if name == "dense":
        rng = np.random.default_rng(0)
        X = rng.standard_normal((200_000, 100))
        return X, np.sign(X[:, 0] + 0.3 * rng.standard_normal(200_000))
    X, y = load(name)[:2]
    return X, y


def pass_times(X, y, loss, shrink):
    """Median seconds of a pass over ``X`` (every output), 10 passes after 2."""
    n, d = X.shape
    classes = np.unique(y)
    K = 1 if len(classes) == 2 else len(classes)
    t = np.where(y == classes[-1], 1.0, -1.0) if K == 1 else np.searchsorted(classes, y).astype(np.float64)
    sw, ones = np.ones(n), np.ones(K)
    sqn = (X * X).sum(1) if isinstance(X, np.ndarray) else np.asarray(X.multiply(X).sum(1)).ravel()
    W0, Wl, A = np.zeros((K, d + 1)), np.zeros((K, d + 1), order="F"), np.zeros((K, n))
    active = np.ones((K, n) if shrink else (0, 0), np.bool_)
    thresholds = np.tile([np.inf, -np.inf], (K, 1))
    rng = np.random.default_rng(1)
    times = []
    for p in range(12):
        order = rng.permutation(n).astype(np.int64)
        args = (sqn, t, sw, order, W0, Wl, A, 1.0, loss.kernel, loss.dual, ones, ones, 1.0, 1.0, False, active)
        start = time.perf_counter()
        if K > 1:
            dcd_csr_outputs(*sparse_arrays(X), *args[:4], Wl, *args[5:], thresholds)
        elif isinstance(X, np.ndarray):
            dcd_dense(X, *args, thresholds[0])
        else:
            dcd_csr(*sparse_arrays(X), *args, thresholds[0])
        if p >= 2:
            times.append(time.perf_counter() - start)
    return float(np.median(times))


def certificate_time(X, y, loss):
    """Median seconds of a certificate pass over ``X``'s rows (one output, a fixed point)."""
    n, d = X.shape
    t = np.where(y == np.unique(y)[-1], 1.0, -1.0)
    rng = np.random.default_rng(0)
    W, A = 0.01 * rng.standard_normal((1, d + 1)), np.abs(rng.standard_normal((1, n)))
    args = (*sparse_arrays(X), t, np.ones(n), W, A, 1.0, loss.kernel, loss.dual, np.ones(1), np.ones(1), 1.0)
    certificate_csr(*args)
    times = []
    for _ in range(15):
        start = time.perf_counter()
        certificate_csr(*args)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default="reuters,a9a,ijcnn1,newsgroups,dense")
    args = p.parse_args()
    for name in args.sets.split(","):
        X, y = _data(name)
        cells = []
        for lname in ("squared_hinge", "hinge"):
            loss = make_loss(lname)
            for shrink in (False, True):
                cells.append(f"{lname} {'shrunk' if shrink else 'full'} {1e3 * pass_times(X, y, loss, shrink):.3f}")
        if not isinstance(X, np.ndarray):
            cells.append(f"certificate {1e3 * certificate_time(X, y, make_loss('squared_hinge')):.3f}")
        print(f"{name} (ms): " + ", ".join(cells), flush=True)


if __name__ == "__main__":
    main()
