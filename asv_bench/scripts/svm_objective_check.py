"""DualCoordinateAscentSVM with its defaults against LinearSVC run to a tight tolerance, on the real classification
sets: the objective of each (LinearSVC's primal, summed over the one-vs-rest outputs, the intercept penalised as
liblinear does with ``intercept_scaling=1``), their relative difference and skpar's certified relative gap, and the
test accuracies. skpar's objective is within its certificate of the optimum when ``(P_skpar - P_ref) / P_skpar``
is at most its ``duality_gap_`` (P_ref is an upper bound on the optimum, so a negative difference is allowed).

Usage: python asv_bench/scripts/svm_objective_check.py [--sets a9a,ijcnn1,reuters,newsgroups,fashion_mnist]
       [--tol 1e-10]
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from skpar import DualCoordinateAscentSVM

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks.datasets import available, load  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)


def primal(model, X, y, C):
    """LinearSVC's objective (squared hinge), summed over the outputs, the intercept penalised."""
    classes = model.classes_
    coef, intercept = np.atleast_2d(model.coef_), np.atleast_1d(model.intercept_)
    total = 0.0
    for k in range(coef.shape[0]):
        t = np.where(y == classes[1 if coef.shape[0] == 1 else k], 1.0, -1.0)
        m = np.maximum(0.0, 1.0 - t * (X @ coef[k] + intercept[k]))
        total += 0.5 * (coef[k] @ coef[k] + intercept[k] ** 2) + C * float(m @ m)
    return total


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sets", default="a9a,ijcnn1,reuters,newsgroups,fashion_mnist")
    p.add_argument("--tol", type=float, default=1e-10)
    args = p.parse_args()
    print(f"{'set':14s} {'skpar s':>8s} {'ref s':>8s} {'(P - P_ref) / P':>16s} {'certified gap':>14s} "
          f"{'within':>6s} {'acc skpar':>9s} {'acc ref':>8s}")
    for name in args.sets.split(","):
        if not available(name):
            print(f"{name}: not found, skipped")
            continue
        Xtr, ytr, Xte, yte, _ = load(name)
        t = time.perf_counter()
        ours = DualCoordinateAscentSVM().fit(Xtr, ytr)
        t_ours = time.perf_counter() - t
        t = time.perf_counter()
        ref = LinearSVC(tol=args.tol, max_iter=100_000).fit(Xtr, ytr)
        t_ref = time.perf_counter() - t
        p_ours, p_ref = primal(ours, Xtr, ytr, 1.0), primal(ref, Xtr, ytr, 1.0)
        diff = (p_ours - p_ref) / p_ours
        print(f"{name:14s} {t_ours:8.2f} {t_ref:8.2f} {diff:16.2e} {ours.duality_gap_:14.2e} "
              f"{str(diff <= ours.duality_gap_):>6s} {ours.score(Xte, yte):9.4f} {ref.score(Xte, yte):8.4f}",
              flush=True)


if __name__ == "__main__":
    main()
