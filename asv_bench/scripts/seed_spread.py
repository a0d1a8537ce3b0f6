"""Fit time and passes of one estimator's defaults over several ``random_state`` values on one real set.

The passes of the dual's fits depend on the seed (each pass draws a fresh row order), and a rule that chooses
rounds from the gaps seen can land on very different totals; this script shows the spread. Prints the median fit
time, the total and each seed's ``n_iter_``. The PASSCoDe round-timing figures in docs/benchmarks.md ran it on the
tree before and after.

Usage: python asv_bench/scripts/seed_spread.py newsgroups AveragedSGDClassifier [--seeds 8]
"""

import argparse
import os
import statistics
import sys
import time
import warnings

import skpar

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks.datasets import load  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set")
    parser.add_argument("estimator")
    parser.add_argument("--seeds", type=int, default=8)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    Xtr, ytr, _, _, _ = load(args.set)
    make = getattr(skpar, args.estimator)
    make(random_state=0).fit(Xtr, ytr)  # compile and warm up
    times, passes = [], []
    for seed in range(args.seeds):
        est = make(random_state=seed)
        t = time.perf_counter()
        est.fit(Xtr, ytr)
        times.append(time.perf_counter() - t)
        passes.append(est.n_iter_)
    print(f"{args.set} {args.estimator}: median {1e3 * statistics.median(times):.2f} ms, total {sum(times):.3f} s, "
          f"passes {passes}")


if __name__ == "__main__":
    main()
