"""The demo: fit ParallelSGDRegressor on generated data, on threads and on a LocalCluster, next to scikit-learn.

Run with ``python -m skpar.demo``. It generates correlated regression data (condition number 1e4, noise), fits
scikit-learn's SGDRegressor and Ridge, then ParallelSGDRegressor on this machine's cores (no set-up) and on a
2-worker ``distributed.LocalCluster`` that it starts and stops itself, and prints the time, the test R^2 and the
training objective's distance from the exact optimum of each.
"""

from __future__ import annotations

import argparse
import time
import warnings


def _objective(X, y, coef, intercept, alpha):
    r = y - X @ coef - intercept
    return 0.5 * float(r @ r) / len(y) + 0.5 * alpha * float(coef @ coef)


def main(argv=None):
    """Run the demo; see ``python -m skpar.demo --help``."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import Ridge, SGDRegressor
    from tqdm.auto import tqdm

    from skpar import ParallelSGDRegressor
    from skpar.datasets import make_correlated_regression

    p = argparse.ArgumentParser(prog="python -m skpar.demo", description=__doc__.splitlines()[0])
    p.add_argument("--n-samples", type=int, default=400_000)
    p.add_argument("--n-features", type=int, default=100)
    p.add_argument("--workers", type=int, default=2, help="workers of the LocalCluster (0: skip it)")
    args = p.parse_args(argv)

    alpha = 1e-4
    X, y, _ = make_correlated_regression(args.n_samples + 50_000, args.n_features, random_state=0)
    X, Xt, y, yt = X[:args.n_samples], X[args.n_samples:], y[:args.n_samples], y[args.n_samples:]
    print(f"data: {X.shape[0]:,} x {X.shape[1]} float64 ({X.nbytes / 1e6:.0f} MB), condition number 1e4, noise 1")

    runs = [
        ("scikit-learn Ridge (exact)", lambda: Ridge(alpha=alpha * len(y))),
        ("scikit-learn SGDRegressor", lambda: SGDRegressor(alpha=alpha, random_state=0)),
        ("skpar ParallelSGDRegressor, threads",
         lambda: ParallelSGDRegressor(random_state=0)),
    ]
    cluster = client = None

    def on_cluster():
        # started only now, so that its worker processes booting do not slow the runs before it
        nonlocal cluster, client
        from distributed import Client, LocalCluster

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=None)
            client = Client(cluster)
            client.run(lambda: ParallelSGDRegressor(max_iter=1, tol=None, n_jobs=1).fit(X[:100], y[:100]) and None)
        return ParallelSGDRegressor(random_state=0, client=client)

    if args.workers:
        runs.append((f"skpar ParallelSGDRegressor, LocalCluster of {args.workers}", on_cluster))
    # compile the kernels once, outside the timings (numba caches them on disk for later runs)
    ParallelSGDRegressor(max_iter=1, tol=None, n_jobs=1).fit(X[:1000], y[:1000])
    rows = []
    try:
        for name, make in tqdm(runs, desc="fitting", unit="fit"):
            est = make()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                start = time.perf_counter()
                est.fit(X, y)
                seconds = time.perf_counter() - start
            rows.append((name, seconds, est.score(Xt, yt), _objective(X, y, est.coef_, est.intercept_, alpha)))
    finally:
        if client is not None:
            client.close()
            cluster.close()
    best = rows[0][3]  # Ridge's exact solve
    print(f"\n{'estimator':<44} {'fit time':>9} {'test R^2':>9} {'objective - optimum':>20}")
    for name, seconds, score, obj in rows:
        print(f"{name:<44} {seconds:8.3f}s {score:9.5f} {(obj - best) / best:19.2e}")


if __name__ == "__main__":
    main()
