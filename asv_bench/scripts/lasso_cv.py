"""``ShotgunLassoCV()`` against ``LassoCV()``, both with their defaults (5 folds, 100 alphas, tol 1e-4), on the same
folds: fit time, the alpha chosen and its cross-validated mean squared error.

Sets: dorothea (600 x 88,119 sparse 0/1 rows, the labels as targets: p >> n, as riboflavin) and mug05_12_12 (the
Shotgun paper's 12,410 x 24,820), from ``../shared/data``. Prints, per set, each estimator's median time over
``--repeats`` alternated fits, its ``alpha_`` (over ``alpha_max``), the mean of ``mse_path_`` at ``alpha_``, and
the speed ratio.

Usage: python asv_bench/scripts/lasso_cv.py [--sets dorothea,mug05_12_12] [--repeats 1]
"""

import argparse
import os
import statistics
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LassoCV
from sklearn.model_selection import KFold

from skpar import ShotgunLassoCV
from skpar.linear_model import alpha_max

sys.path.insert(0, os.path.dirname(__file__))
from _timing import real_sets  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default="dorothea,mug05_12_12")
    p.add_argument("--repeats", type=int, default=1)
    args = p.parse_args()
    rows = []
    for name, data in real_sets(args.sets):
        X, y = data[:2]
        X, y = X.tocsr(), np.asarray(y, dtype=float)
        amax = alpha_max(X, y)
        # LassoCV's default folds (KFold(5), unshuffled), which both take
        makers = {"LassoCV()": lambda: LassoCV(cv=KFold(5)), "ShotgunLassoCV()": lambda: ShotgunLassoCV(cv=KFold(5))}
        times, fits = {k: [] for k in makers}, {}
        for _ in range(args.repeats):
            for key, make in makers.items():
                start = time.perf_counter()
                fits[key] = make().fit(X, y)
                times[key].append(time.perf_counter() - start)
        for key, est in fits.items():
            best = int(np.argmin(np.abs(est.alphas_ - est.alpha_)))
            rows.append((name, key, statistics.median(times[key]), est.alpha_ / amax, est.mse_path_[best].mean()))
            print(f"{name} {key}: {rows[-1][2]:.2f} s, alpha_ / alpha_max {rows[-1][3]:.4g}, "
                  f"CV MSE {rows[-1][4]:.5g}", flush=True)
        ref, ours = statistics.median(times["LassoCV()"]), statistics.median(times["ShotgunLassoCV()"])
        print(f"{name}: speed {ref / ours:.2f}x", flush=True)
    print("\n| set | estimator | s | alpha_ / alpha_max | CV MSE at alpha_ |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name, key, t, a, mse in rows:
        print(f"| {name} | `{key}` | {t:.2f} | {a:.4g} | {mse:.5g} |")


if __name__ == "__main__":
    main()
