"""A fit with the losses' compiled functions typed from a memo (``skpar._losses._TypedOnce``) against numba's own
typing at every kernel call, alternated in one process on one real set (median of ``--repeats`` warm fits each,
``random_state=0``, so both sides run the same passes).

Usage: python asv_bench/scripts/loss_type_memo.py reuters svm [--repeats 41]   (svm or clf: the hinge classifier)
"""

import argparse
import os
import statistics
import sys
import time

from numba.core.registry import CPUDispatcher

import skpar
from skpar import _losses

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks.datasets import load  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set")
    parser.add_argument("estimator", choices=["svm", "clf"])
    parser.add_argument("--repeats", type=int, default=41)
    args = parser.parse_args()
    Xtr, ytr, _, _, _ = load(args.set)
    losses = set(_losses.LOSSES.values()) | set(_losses.CLASSIFIER_LOSSES.values())
    kernels = [c._kernel for c in losses if isinstance(c._kernel, CPUDispatcher)]
    make = {"svm": lambda: skpar.DualCoordinateAscentSVM(random_state=0),
            "clf": lambda: skpar.AveragedSGDClassifier(random_state=0)}[args.estimator]
    make().fit(Xtr, ytr)  # compiled kernels loaded, data touched
    times = {"numba's typing": [], "memo": []}
    for _ in range(args.repeats):
        for label, cls in (("numba's typing", CPUDispatcher), ("memo", _losses._TypedOnce)):
            for k in kernels:
                k.__class__ = cls
            est = make()
            t = time.perf_counter()
            est.fit(Xtr, ytr)
            times[label].append(time.perf_counter() - t)
    plain, memo = (statistics.median(times[k]) for k in times)
    print(f"{args.set} {args.estimator}: numba's typing {1e3 * plain:.2f} ms, memo {1e3 * memo:.2f} ms, "
          f"ratio {plain / memo:.3f}, {est.n_iter_} passes")


if __name__ == "__main__":
    main()
