"""One-block dual coordinate ascent with its certificates beside the next round's first pass on a second core
(``n_jobs=None``, every core) against the same fit on one core (``n_jobs=1``), alternated in one process on one
real set: median of ``--repeats`` warm fits each, ``random_state=0``; the two fits' coefficients are checked equal
to the bit.

Usage: python asv_bench/scripts/certificate_overlap.py reuters svm [--repeats 41]   (svm, or clf: the hinge
classifier's default dual)
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

import skpar

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks.datasets import load  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set")
    parser.add_argument("estimator", choices=["svm", "clf"])
    parser.add_argument("--repeats", type=int, default=41)
    args = parser.parse_args()
    Xtr, ytr, _, _, _ = load(args.set)
    cls = {"svm": skpar.DualCoordinateAscentSVM, "clf": skpar.AveragedSGDClassifier}[args.estimator]
    times, fits = {1: [], None: []}, {}
    for n_jobs in (1, None):
        cls(random_state=0, n_jobs=n_jobs).fit(Xtr, ytr)  # compiled kernels loaded, data touched
    for _ in range(args.repeats):
        for n_jobs in (1, None):
            est = cls(random_state=0, n_jobs=n_jobs)
            t = time.perf_counter()
            fits[n_jobs] = est.fit(Xtr, ytr)
            times[n_jobs].append(time.perf_counter() - t)
    one, two = (statistics.median(times[k]) for k in (1, None))
    same = np.array_equal(fits[1].coef_, fits[None].coef_) and np.array_equal(fits[1].intercept_, fits[None].intercept_)
    print(f"{args.set} {args.estimator}: one core {1e3 * one:.2f} ms, certificates beside the passes "
          f"{1e3 * two:.2f} ms, ratio {one / two:.3f}, {fits[None].n_iter_} passes, coefficients equal: {same}")


if __name__ == "__main__":
    main()
