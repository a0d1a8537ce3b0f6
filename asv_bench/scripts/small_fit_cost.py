"""The fixed cost of a fit: every estimator with its defaults on 1,000 x 10 data against its scikit-learn peer.

GridSearchCV runs hundreds of small fits, so what a fit costs above its work matters. Each pair is fitted
alternately, warm (one untimed fit each first), ``--repeats`` times; the table has the median of each, the
difference and the epochs. Data: ``make_classification`` (binary) for the classifiers, ``make_regression`` for the
regressors, 1,000 x 10, seed 0.

Usage: python asv_bench/scripts/small_fit_cost.py [--repeats 15] [--n-samples 1000] [--n-features 10]
"""

import argparse
import os
import statistics
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, SGDClassifier, SGDRegressor
from sklearn.svm import LinearSVC

from skpar import AveragedSGDClassifier, DualCoordinateAscentSVM, ParallelSGDRegressor, ShotgunLasso

sys.path.insert(0, os.path.dirname(__file__))
from _timing import print_table  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)

PAIRS = [
    ("ParallelSGDRegressor", ParallelSGDRegressor, "SGDRegressor", SGDRegressor, "regression"),
    ("AveragedSGDClassifier", AveragedSGDClassifier, "SGDClassifier", SGDClassifier, "classification"),
    ("DualCoordinateAscentSVM", DualCoordinateAscentSVM, "LinearSVC", LinearSVC, "classification"),
    ("ShotgunLasso", ShotgunLasso, "Lasso", Lasso, "regression"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--n-samples", type=int, default=1000)
    parser.add_argument("--n-features", type=int, default=10)
    args = parser.parse_args()
    n, d = args.n_samples, args.n_features
    data = {"classification": make_classification(n_samples=n, n_features=d, random_state=0),
            "regression": make_regression(n_samples=n, n_features=d, noise=1.0, random_state=0)}
    rows = []
    for sk_name, sk, peer_name, peer, task in PAIRS:
        X, y = data[task]
        times = {sk_name: [], peer_name: []}
        fitted = {sk_name: sk().fit(X, y), peer_name: peer().fit(X, y)}
        for _ in range(args.repeats):
            for name, make in ((sk_name, sk), (peer_name, peer)):
                est = make()
                t = time.perf_counter()
                est.fit(X, y)
                times[name].append(time.perf_counter() - t)
                fitted[name] = est
        ms = {k: 1e3 * statistics.median(v) for k, v in times.items()}
        rows.append((f"{sk_name} vs {peer_name}", ms[sk_name], ms[peer_name], ms[sk_name] - ms[peer_name],
                     int(np.max(fitted[sk_name].n_iter_)), int(np.max(fitted[peer_name].n_iter_)),
                     float(fitted[sk_name].score(X, y) - fitted[peer_name].score(X, y))))
    print(f"{n} x {d}, median of {args.repeats} warm fits each, alternated")
    print_table(rows, ["pair", "skpar ms", "peer ms", "difference ms", "skpar epochs", "peer epochs",
                       "train score diff"])


if __name__ == "__main__":
    main()
