"""DualCoordinateAscentSVM: passes to a relative duality gap of 1e-3 for Catalyst weights ``kappa``.

Reproduces the figures quoted in ``skpar.parallel._catalyst`` (``Catalyst``, ``auto_kappa``), the estimator's
``kappa`` docstring and docs/user_guide/dca.rst:

- dense 20,000 x 30 (make_classification, C = 0.05, 2 threads): plain passes against ``kappa='auto'``;
- dense 50,000 x 100 (the issue's dense problem at a tenth of the size, C = 1 / (n 1e-5), 1 thread, at most 1,000
  passes): kappa 10, 30, 100, 300;
- scikit-learn's class-weight check problem (blobs, standard deviation 20, class weight 1000 against 1e-4, 2 and 3
  classes, at most 1,000 passes): the gap reached with kappa 3 to 300;
- with ``--sparse``, the sparse benchmark (200,000 x 50,000, C = 0.5, 1 thread): kappa 0, 5, 10, 30, 50 and auto.

Pass counts of mode='sync' are deterministic for a seed; the seconds are not (shared machines).

Usage: python asv_bench/scripts/svm_kappa.py [--sparse]
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import make_blobs, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skpar import DualCoordinateAscentSVM
from skpar.datasets import make_sparse_design

warnings.simplefilter("ignore", ConvergenceWarning)


def fit(label, X, y, **kw):
    kw = {"tol": 1e-3, "max_iter": 1000, "random_state": 0, "solver": "dual", **kw}  # Catalyst is the dual's
    t = time.perf_counter()
    est = DualCoordinateAscentSVM(**kw).fit(X, y)
    print(f"{label:<48} kappa {est.kappa_:>7.3g}  passes {est.n_iter_:>5}  gap {est.duality_gap_:.2e}  "
          f"{time.perf_counter() - t:6.2f} s")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sparse", action="store_true", help="also the 200,000 x 50,000 sparse benchmark (slower)")
    args = p.parse_args()
    DualCoordinateAscentSVM(max_iter=2).fit(*make_classification(200, 5, random_state=0))  # compile

    X, y = make_classification(n_samples=20_000, n_features=30, n_informative=10, random_state=0)
    for kappa in (0.0, "auto"):
        fit(f"dense 20,000 x 30, kappa={kappa!r}", X, y, C=0.05, max_iter=3000, n_jobs=2, kappa=kappa)

    n = 50_000
    X, y = make_classification(n + n // 10, 100, n_informative=50, n_redundant=0, flip_y=0.01, random_state=0)
    for kappa in (10.0, 30.0, 100.0, 300.0):
        fit(f"dense 50,000 x 100, kappa={kappa!r}", X[:n], y[:n], C=1 / (n * 1e-5), n_jobs=1, fit_intercept=False,
            kappa=kappa)

    for centers in (2, 3):
        X, y = make_blobs(centers=centers, random_state=0, cluster_std=20)
        X, _, y, _ = train_test_split(X, y, test_size=0.5, random_state=0)
        cw = {c: (1000 if c == 0 else 1e-4) for c in range(centers)}
        for kappa in (3.0, 10.0, 30.0, 100.0, 300.0):
            fit(f"class-weight blobs, {centers} classes, kappa={kappa!r}", X, y, tol=1e-4, n_jobs=2,
                class_weight=cw, kappa=kappa)

    if args.sparse:
        n = 200_000
        X = make_sparse_design(n + n // 10, 50_000, 50, random_state=0)
        w = np.random.default_rng(1).standard_normal(50_000) * (np.random.default_rng(2).random(50_000) < 0.2)
        y = (X @ w + 0.5 * np.random.default_rng(3).standard_normal(X.shape[0]) > 0).astype(int)
        for kappa in (0.0, 5.0, 10.0, 30.0, 50.0, "auto"):
            fit(f"sparse 200,000 x 50,000, kappa={kappa!r}", X[:n], y[:n], C=0.5, n_jobs=1, fit_intercept=False,
                kappa=kappa)


if __name__ == "__main__":
    main()
