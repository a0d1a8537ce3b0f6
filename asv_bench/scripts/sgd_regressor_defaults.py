"""``ParallelSGDRegressor()`` against ``SGDRegressor()``, both with no arguments, on the foundation problem.

Dense 1,000,000 x 100 float64 (condition number 1e4, noise 1; ``make_correlated_regression``), alpha = 1e-4 (both
defaults), and ``Ridge(alpha=n*alpha)``, which solves the same objective exactly. Prints each one's median fit time
over ``--repeats`` alternated fresh fits, its epochs and its relative suboptimality in scikit-learn SGD's objective,
(1/2n)||y - Xw - b||^2 + (alpha/2)||w||^2, against Ridge's exact
optimum (alpha_ridge = n alpha), then the speed ratio. The time-to-target comparison with each method's best settings
is ``sgd_regressor_time_to_target.py``.

Usage: python asv_bench/scripts/sgd_regressor_defaults.py [--n-samples 1000000] [--repeats 3]
"""

import argparse
import os
import statistics
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge, SGDRegressor

from skpar import ParallelSGDRegressor
from skpar.datasets import make_correlated_regression

sys.path.insert(0, os.path.dirname(__file__))
from sgd_regressor_time_to_target import objective  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-samples", type=int, default=1_000_000)
    p.add_argument("--n-features", type=int, default=100)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    alpha = 1e-4
    X, y, _ = make_correlated_regression(args.n_samples, args.n_features, random_state=0)
    n = len(y)
    ridge = Ridge(alpha=alpha * n).fit(X, y)
    f_star = objective(X, y, ridge.coef_, ridge.intercept_, alpha)
    ParallelSGDRegressor(max_iter=1).fit(X[:1000], y[:1000])  # load the compiled kernels outside the timings
    makers = {"SGDRegressor()": SGDRegressor, "ParallelSGDRegressor()": ParallelSGDRegressor,
              "Ridge(alpha=n*alpha)": lambda: Ridge(alpha=alpha * n)}
    times = {k: [] for k in makers}
    result = {}
    for _ in range(args.repeats):
        for name, make in makers.items():
            t = time.perf_counter()
            est = make().fit(X, y)
            times[name].append(time.perf_counter() - t)
            sub = (objective(X, y, est.coef_, np.ravel(est.intercept_)[0], alpha) - f_star) / f_star
            result[name] = (sub, int(est.n_iter_ or 1))  # Ridge's direct solvers report None
    print(f"data {n:,} x {X.shape[1]} float64, condition number 1e4, noise 1, alpha {alpha}")
    for name in makers:
        print(f"{name:24s} median {statistics.median(times[name]):.3f} s  epochs {result[name][1]:3d}  "
              f"suboptimality {result[name][0]:.2e}")
    ratio = statistics.median(times["SGDRegressor()"]) / statistics.median(times["ParallelSGDRegressor()"])
    print(f"SGDRegressor() / ParallelSGDRegressor(): {ratio:.2f}x")
    ratio = statistics.median(times["Ridge(alpha=n*alpha)"]) / statistics.median(times["ParallelSGDRegressor()"])
    print(f"Ridge(alpha=n*alpha) / ParallelSGDRegressor(): {ratio:.2f}x (the same objective, solved exactly)")


if __name__ == "__main__":
    main()
