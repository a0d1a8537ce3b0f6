"""Time to a relative objective suboptimality of 1e-3, dense 1,000,000 x 100 (condition number 1e4, noise 1).

Prints, in one run: ParallelSGDRegressor on 2 threads and on a 2-worker LocalCluster, scikit-learn's SGDRegressor
(each of a few settings, the fastest counts) and Ridge's exact solve; then the ratios. The objective is
scikit-learn SGD's, (1/2n) ||y - X w - b||^2 + (alpha/2) ||w||^2 with alpha = 1e-4, and the optimum is Ridge's
exact solution (alpha_ridge = n alpha). For an iterative method the time to target is the wall time of a fresh
fit with the fewest epochs that reaches the target (found by doubling, then bisection), median of 3 repeats.

Usage: python asv_bench/scripts/sgd_regressor_time_to_target.py [--n-samples N] [--target 1e-3]
"""

import argparse
import os
import sys
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge, SGDRegressor

from skpar import ParallelSGDRegressor
from skpar.datasets import make_correlated_regression

sys.path.insert(0, os.path.dirname(__file__))
from _timing import time_to_target, timed_fit  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)


def objective(X, y, coef, intercept, alpha):
    r = y - X @ coef - intercept
    return 0.5 * float(r @ r) / len(y) + 0.5 * alpha * float(coef @ coef)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-samples", type=int, default=1_000_000)
    p.add_argument("--n-features", type=int, default=100)
    p.add_argument("--target", type=float, default=1e-3)
    p.add_argument("--sklearn-max-epochs", type=int, default=32)
    args = p.parse_args()
    alpha = 1e-4
    X, y, _ = make_correlated_regression(args.n_samples, args.n_features, random_state=0)
    n = len(y)
    print(f"data {X.shape[0]:,} x {X.shape[1]} float64, condition number 1e4, noise 1, alpha {alpha}, "
          f"target {args.target:g}")

    ridge_s, ridge = timed_fit(lambda: Ridge(alpha=alpha * n), X, y, repeats=3)
    f_star = objective(X, y, ridge.coef_, ridge.intercept_, alpha)
    rows = [("Ridge (exact, solver='auto')", ridge_s, "-", 0.0)]

    ParallelSGDRegressor(solver="sgd", max_iter=1, n_jobs=2).fit(X[:1000], y[:1000])  # compile outside the timings

    def subopt(est):
        return (objective(X, y, est.coef_, np.ravel(est.intercept_)[0], alpha) - f_star) / f_star

    def reached(est):
        return subopt(est) <= args.target

    def ttt(make, k_max):
        r = time_to_target(make, X, y, reached, k_max)
        return None if r is None else (r[0], r[1], subopt(r[2]))

    def ours(client=None, n_jobs=2):
        return lambda k: ParallelSGDRegressor(solver="sgd", alpha=alpha, learning_rate="constant", average=True,
                                              max_iter=k,
                                              tol=None, random_state=0, n_jobs=n_jobs, client=client)

    r = ttt(ours(), 64)
    rows.append(("skpar ParallelSGDRegressor, 2 threads", *r) if r else ("skpar, 2 threads", None, ">64", None))

    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        client.run(lambda: ParallelSGDRegressor(solver="sgd", max_iter=1, n_jobs=1).fit(np.ones((10, 2)),
                                                np.ones(10)) and None)
        r = ttt(ours(client), 64)
        rows.append(("skpar ParallelSGDRegressor, LocalCluster 2x1", *r) if r
                    else ("skpar, LocalCluster", None, ">64", None))

    best_sk = None
    for name, make in [
        ("SGDRegressor defaults", lambda k: SGDRegressor(alpha=alpha, max_iter=k, tol=None, random_state=0)),
        ("SGDRegressor average=True", lambda k: SGDRegressor(alpha=alpha, max_iter=k, tol=None, average=True,
                                                             random_state=0)),
        ("SGDRegressor constant eta0=1e-3, average", lambda k: SGDRegressor(
            alpha=alpha, max_iter=k, tol=None, average=True, learning_rate="constant", eta0=1e-3,
            random_state=0)),
    ]:
        r = ttt(make, args.sklearn_max_epochs)
        rows.append((name, *r) if r else (name, None, f">{args.sklearn_max_epochs}", None))
        if r and (best_sk is None or r[0] < best_sk):
            best_sk = r[0]

    print(f"\n{'method':<46} {'time to target':>15} {'epochs':>7} {'suboptimality':>14}")
    for name, s, k, sub in rows:
        ts = f"{s:14.3f}s" if s is not None else f"{'not reached':>15}"
        ss = f"{sub:14.2e}" if sub is not None else f"{'-':>14}"
        print(f"{name:<46} {ts} {k!s:>7} {ss}")
    ours_s = rows[1][1]
    if ours_s:
        print(f"\nratio SGDRegressor (fastest setting) / skpar threads: "
              f"{best_sk / ours_s:.1f}x" if best_sk else "\nSGDRegressor never reached the target")
        print(f"ratio Ridge / skpar threads: {ridge_s / ours_s:.1f}x")


if __name__ == "__main__":
    main()
