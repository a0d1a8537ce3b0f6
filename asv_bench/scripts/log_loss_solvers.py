"""AveragedSGDClassifier(loss='log_loss') with each solver against LogisticRegression, on the real sets.

Rows: ``solver='newton'``, ``solver='lbfgs'``, ``solver='sgd'``, ``LogisticRegression()`` and
``LogisticRegression(C=1/(alpha n))`` (the classifier's objective at its default ``alpha = 1e-4``; scikit-learn's
multinomial model where there are more than two classes, where skpar's is one-vs-rest). Prints each one's median fit
time over ``--repeats`` alternated warm fits, its test accuracy and its iterations (epochs for SGD). ``'auto'`` picks
Newton where the Newton system is assembled from Hessian parts (a9a, ijcnn1), L-BFGS where the condition estimate is
small (Reuters, 20 Newsgroups), else SGD (dorothea, Fashion-MNIST); ``--solvers`` leaves rows out (``solver='newton'``
on Fashion-MNIST runs conjugate gradients for minutes, as L-BFGS does there: use ``--repeats 1``).

A set named ``dense:N:D:K`` is generated instead of loaded: ``make_classification`` with N rows, D features (D/4
informative) and K classes, standardised, a quarter held out (the dense rows many per feature where ``'auto'`` keeps
SGD: ``dense:100000:200:2,dense:50000:300:5``).

Usage: python asv_bench/scripts/log_loss_solvers.py [--sets a9a,ijcnn1] [--repeats 9] [--solvers newton,lbfgs,sgd]
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


def _data(name):
    """``(X_train, y_train, X_test, y_test)`` of a real set, or of the generated set ``dense:N:D:K``."""
    if not name.startswith("dense:"):
        return load(name)[:4]
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    n, d, k = (int(v) for v in name.split(":")[1:])
    X, y = make_classification(n_samples=n, n_features=d, n_informative=d // 4, n_classes=k, random_state=0)
    Xtr, Xte, ytr, yte = train_test_split(StandardScaler().fit_transform(X), y, random_state=0)
    return Xtr, ytr, Xte, yte


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default="a9a,ijcnn1")
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--solvers", default="newton,lbfgs,sgd")
    args = p.parse_args()
    solvers = args.solvers.split(",")
    for name in args.sets.split(","):
        Xtr, ytr, Xte, yte = _data(name)
        n = Xtr.shape[0]
        makers = {f"solver={s!r}": (lambda s=s: AveragedSGDClassifier(loss="log_loss", solver=s)) for s in solvers}
        makers.update({"LogisticRegression()": LogisticRegression,
                       "LogisticRegression(C=1/(alpha n))": lambda n=n: LogisticRegression(C=1 / (1e-4 * n))})
        times, scores, iters = {k: [] for k in makers}, {}, {}
        for make in makers.values():  # warm: imports, numba caches, first touch of the data
            make().fit(Xtr, ytr)
        for _ in range(args.repeats):
            for k, make in makers.items():
                t = time.perf_counter()
                est = make().fit(Xtr, ytr)
                times[k].append(time.perf_counter() - t)
                scores[k] = est.score(Xte, yte)
                iters[k] = int(max(est.n_iter_)) if hasattr(est.n_iter_, "__len__") else int(est.n_iter_)
        for k in makers:
            print(f"{name:20s} {k:36s} {statistics.median(times[k]) * 1e3:9.1f} ms  accuracy {scores[k]:.4f}  "
                  f"iterations {iters[k]}")


if __name__ == "__main__":
    main()
