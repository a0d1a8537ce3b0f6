"""Median fit time of one estimator under several settings on one real set, the settings alternated in one process.

Each setting is a Python dict literal of keyword arguments (``{}``: the defaults). Prints, per setting, the median
of ``--repeats`` warm fits (one untimed fit first), the iterations (``n_iter_``), the blocks and the test score.
The figures in docs/benchmarks.md that compare a tree before and after a change ran this script on each tree.

Usage: python asv_bench/scripts/fit_times.py reuters "{'loss': 'log_loss'}" "{'loss': 'log_loss', 'n_blocks': 2}"
       [--estimator AveragedSGDClassifier] [--repeats 15]
"""

import argparse
import ast
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
    parser.add_argument("settings", nargs="+", help="dict literals of keyword arguments")
    parser.add_argument("--estimator", default="AveragedSGDClassifier")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    Xtr, ytr, Xte, yte, _ = load(args.set)
    make = getattr(skpar, args.estimator)
    settings = [ast.literal_eval(s) for s in args.settings]
    warnings.simplefilter("ignore")
    times = [[] for _ in settings]
    fitted = [None] * len(settings)
    for r in range(args.repeats + 1):
        for i, kw in enumerate(settings):
            t = time.perf_counter()
            fitted[i] = make(**kw).fit(Xtr, ytr)
            if r:  # the first round is untimed (compilation, caches)
                times[i].append(time.perf_counter() - t)
    for kw, ts, est in zip(settings, times, fitted, strict=True):
        print(f"{args.set}  {args.estimator}({kw})  median {1e3 * statistics.median(ts):.2f} ms  "
              f"n_iter_ {est.n_iter_}  blocks {getattr(est, 'n_blocks_', '-')}  test score {est.score(Xte, yte):.4f}")


if __name__ == "__main__":
    main()
