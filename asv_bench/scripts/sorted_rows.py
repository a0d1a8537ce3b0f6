"""Rows stored class by class: the fit on the sorted rows against the same rows shuffled, and against the sorted rows
cut into contiguous blocks (``skpar.backend.row_groups`` kept from dealing them, by raising ``MAX_BLOCK_SKEW``).

Reproduces the figures quoted in docs/benchmarks.md ("DualCoordinateAscentSVM on several blocks"): the default
``AveragedSGDClassifier()`` on 90,000 x 40 dense rows of five classes (two blocks by its rule), and
``DualCoordinateAscentSVM(n_jobs=2, solver='dual')`` on 20 Newsgroups' training file, which is stored class by class.

Usage: python asv_bench/scripts/sorted_rows.py [--no-newsgroups]
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

import skpar.backend._base as backend_base
from skpar import AveragedSGDClassifier, DualCoordinateAscentSVM

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks.datasets import available, load  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)


def fit(make, X, y, Xt, yt, contiguous):
    default = backend_base.MAX_BLOCK_SKEW
    backend_base.MAX_BLOCK_SKEW = 2.0 if contiguous else default  # above any total variation: never dealt
    try:
        start = time.perf_counter()
        m = make().fit(X, y)
        return m, time.perf_counter() - start, m.score(Xt, yt)
    finally:
        backend_base.MAX_BLOCK_SKEW = default


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--no-newsgroups", action="store_true")
    args = p.parse_args()
    X, y = make_classification(n_samples=120_000, n_features=40, n_informative=20, n_classes=5, random_state=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0)
    order = np.argsort(ytr, kind="stable")
    cases = [("dense 90,000 x 40, 5 classes", lambda: AveragedSGDClassifier(random_state=0), Xtr, ytr, Xte, yte,
              order, "epochs")]
    if not args.no_newsgroups and available("newsgroups"):
        Xn, yn, Xnt, ynt, _ = load("newsgroups")
        cases.append(("20 Newsgroups (stored sorted)",
                      lambda: DualCoordinateAscentSVM(n_jobs=2, solver="dual", max_iter=300, random_state=0),
                      Xn, yn, Xnt, ynt, None, "passes"))
    print(f"{'data':32s} {'rows':22s} {'blocks':>6s} {'iters':>6s} {'seconds':>8s} {'score':>7s}")
    for name, make, X, y, Xt, yt, order, unit in cases:
        make().fit(X, y)  # warm-up
        runs = [("sorted, dealt", X if order is None else X[order], y if order is None else y[order], False),
                ("sorted, contiguous", X if order is None else X[order], y if order is None else y[order], True)]
        if order is not None:
            runs.insert(0, ("shuffled", X, y, False))
        for label, Xr, yr, contiguous in runs:
            m, t, score = fit(make, Xr, yr, Xt, yt, contiguous)
            print(f"{name:32s} {label:22s} {m.n_blocks_:6d} {m.n_iter_:6d} {t:8.2f} {score:7.4f} ({unit})", flush=True)


if __name__ == "__main__":
    main()
