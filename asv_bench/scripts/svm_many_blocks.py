"""DualCoordinateAscentSVM on many blocks: the default (Newton's method on the primal, whose rounds are exact sums
over blocks) against CoCoA+ (``solver='dual'``), on 2 blocks and on every core, and ``LinearSVC``.

The problem is the SVM issue's dense one: make_classification 500,000 x 100, C = 1/(n 1e-5), no intercept, tol 1e-3
(set as that issue set them; everything else the defaults). Reproduces docs/benchmarks.md's table from the GPU
host's 16 CPU cores.

Usage: python asv_bench/scripts/svm_many_blocks.py [--rows 500000] [--max-rounds 300]
"""

import argparse
import os
import time
import warnings

from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from skpar import DualCoordinateAscentSVM

warnings.simplefilter("ignore", ConvergenceWarning)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=500_000)
    p.add_argument("--max-rounds", type=int, default=300, help="max_iter of the CoCoA+ fits")
    args = p.parse_args()
    X, y = make_classification(args.rows, 100, n_informative=20, flip_y=0.01, random_state=0)
    C = 1.0 / (len(y) * 1e-5)
    cores = os.cpu_count()
    DualCoordinateAscentSVM(max_iter=2).fit(X[:2000], y[:2000])  # compile outside the timings
    settings = [{}, {"n_jobs": 2}, {"n_jobs": cores},
                {"solver": "dual", "n_jobs": cores, "max_iter": args.max_rounds},
                {"solver": "dual", "n_jobs": 2, "max_iter": args.max_rounds}]
    print(f"{'setting':52s} {'solver':6s} {'blocks':>6s} {'iters':>6s} {'gap':>9s} {'seconds':>8s}")
    for kw in settings:
        t = time.perf_counter()
        e = DualCoordinateAscentSVM(C=C, fit_intercept=False, tol=1e-3, random_state=0, **kw).fit(X, y)
        s = time.perf_counter() - t
        print(f"{str(kw):52s} {e.solver_:6s} {e.n_blocks_:6d} {e.n_iter_:6d} {e.duality_gap_:9.2e} {s:8.2f}",
              flush=True)
    t = time.perf_counter()
    LinearSVC(C=C, fit_intercept=False).fit(X, y)
    print(f"{'LinearSVC(C=C, fit_intercept=False)':52s} {'':6s} {'':6s} {'':6s} {'':9s} {time.perf_counter() - t:8.2f}")


if __name__ == "__main__":
    main()
