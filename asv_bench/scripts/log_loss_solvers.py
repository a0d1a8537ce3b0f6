"""AveragedSGDClassifier(loss='log_loss') with each solver against LogisticRegression, on the real sets.

Rows: ``solver='newton'``, ``solver='sgd'``, ``LogisticRegression()`` and ``LogisticRegression(C=1/(alpha n))``
(the classifier's objective at its default ``alpha = 1e-4``). Prints each one's median fit time over ``--repeats``
alternated warm fits and its test accuracy. ``'auto'`` picks Newton where the Newton system is assembled from
Hessian parts (a9a, ijcnn1); on Fashion-MNIST it keeps SGD, and ``solver='newton'`` there runs conjugate gradients
(minutes a fit: use ``--repeats 1``).

Usage: python asv_bench/scripts/log_loss_solvers.py [--sets a9a,ijcnn1] [--repeats 9]
"""

import argparse
import os
import statistics
import sys
import time
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from skpar import AveragedSGDClassifier

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks.datasets import load  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default="a9a,ijcnn1")
    p.add_argument("--repeats", type=int, default=9)
    args = p.parse_args()
    for name in args.sets.split(","):
        Xtr, ytr, Xte, yte = load(name)[:4]
        n = Xtr.shape[0]
        makers = {"solver='newton'": lambda: AveragedSGDClassifier(loss="log_loss", solver="newton"),
                  "solver='sgd'": lambda: AveragedSGDClassifier(loss="log_loss", solver="sgd"),
                  "LogisticRegression()": LogisticRegression,
                  "LogisticRegression(C=1/(alpha n))": lambda n=n: LogisticRegression(C=1 / (1e-4 * n))}
        times, scores = {k: [] for k in makers}, {}
        for make in makers.values():  # warm: imports, numba caches, first touch of the data
            make().fit(Xtr, ytr)
        for _ in range(args.repeats):
            for k, make in makers.items():
                t = time.perf_counter()
                est = make().fit(Xtr, ytr)
                times[k].append(time.perf_counter() - t)
                scores[k] = est.score(Xte, yte)
        for k in makers:
            print(f"{name:12s} {k:36s} {statistics.median(times[k]) * 1e3:9.1f} ms  accuracy {scores[k]:.4f}")


if __name__ == "__main__":
    main()
