"""Hogwild! on 1 to N threads, on one shared model and on replicas folded into it: time an epoch, time to the
target and the speed-ups over one thread, in one run.

Data and objective of ``async_time_to_target.py`` (sparse RCV1-like 400,000 x 47,000, 75 non-zeros a row; ridge,
alpha = 1e-4; Hogwild!'s constant step 0.125 / E||x||^2, one row a step; target: within 1e-2 of the optimum).
For each thread count, the shared model (``replica_steps=None``) and replicas folded every ``--replica-steps``
steps (``skpar.kernels._replica``) first find their fewest epochs to the target (doubling, then bisection); then
fresh fits at those epochs alternate over all configurations, ``--repeats`` of each, and the table holds medians:
seconds to the target, seconds an epoch (from ``history_``, without the fit's set-up), and both as speed-ups over
one thread.

``--data dense``: 400,000 x 100 standard normal rows instead (targets from a dense linear model, noise 0.3), where
every weight is in every row.

Usage: python asv_bench/scripts/hogwild_scaling.py [--threads 1,2,4,8] [--replica-steps 4000] [--repeats 5]
       [--scale 1.0] [--data sparse|dense]
"""

import argparse
import os
import statistics
import sys
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge

from skpar import ParallelSGDRegressor
from skpar.datasets import make_sparse_design

sys.path.insert(0, os.path.dirname(__file__))
from _timing import print_table, time_to_target, timed_fit  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)
ALPHA = 1e-4


def objective(X, y, est):
    r = y - np.asarray(X @ est.coef_).ravel() - np.ravel(est.intercept_)[0]
    return 0.5 * float(r @ r) / len(y) + 0.5 * ALPHA * float(est.coef_ @ est.coef_)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", default="1,2,4,8")
    p.add_argument("--replica-steps", type=int, default=4000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--k-max", type=int, default=32)
    p.add_argument("--data", choices=["sparse", "dense"], default="sparse")
    args = p.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    rng = np.random.default_rng(1)
    if args.data == "sparse":
        n, d = int(400_000 * args.scale), 47_000
        X = make_sparse_design(n, d, 75, random_state=0)
        y = X @ (rng.standard_normal(d) * (rng.random(d) < 0.1)) + 0.5 * rng.standard_normal(n)
        msq = float(X.multiply(X).sum(1).mean())
        ridge = Ridge(alpha=ALPHA * n, solver="sparse_cg", tol=1e-10, max_iter=100_000)
    else:
        n, d = int(400_000 * args.scale), 100
        X = rng.standard_normal((n, d))
        y = X @ rng.standard_normal(d) + 0.3 * rng.standard_normal(n) + 2.0
        msq = float(np.einsum("ij,ij->", X, X)) / n
        ridge = Ridge(alpha=ALPHA * n, solver="cholesky")
    f_ref = objective(X, y, ridge.fit(X, y))
    ParallelSGDRegressor(mode="hogwild", max_iter=1, n_jobs=2, replica_steps=10).fit(X[:2000], y[:2000])
    print(f"{args.data}: {n:,} x {d:,}; cores: {os.cpu_count()}")

    configs = {}
    for k in threads:
        for rs in ([None] if k == 1 else [None, args.replica_steps]):
            label = f"{k} thread{'s' if k > 1 else ''}" + (f", replicas ({rs})" if rs else "")

            def make(e, k=k, rs=rs):
                return ParallelSGDRegressor(mode="hogwild", n_jobs=k, replica_steps=rs, alpha=ALPHA, tol=None,
                                            random_state=0, learning_rate="constant", average=False, batch_size=1,
                                            scaling_rule=None, eta0=0.125 / msq, max_iter=e)

            r = time_to_target(make, X, y, lambda est: objective(X, y, est) <= f_ref * 1.01, args.k_max, repeats=1)
            configs[label] = (make, r[1] if r else None)
    times = {label: [] for label in configs}
    epoch = {label: [] for label in configs}
    for _ in range(args.repeats):
        for label, (make, epochs) in configs.items():
            seconds, est = timed_fit(lambda make=make, epochs=epochs: make(epochs or 3), X, y)
            ts = [h["time"] for h in est.history_]
            if epochs:  # past --k-max the fit of 3 epochs still times an epoch
                times[label].append(seconds)
            # an epoch's time between the first epoch's end and the last's (a fit of one epoch: the whole fit)
            epoch[label].append((ts[-1] - ts[0]) / (len(ts) - 1) if len(ts) > 1 else seconds)
    base = next(iter(configs))
    t1 = statistics.median(times[base]) if times[base] else None
    e1 = statistics.median(epoch[base])
    rows = []
    for label, (_, epochs) in configs.items():
        tt = statistics.median(times[label]) if times[label] else None
        te = statistics.median(epoch[label])
        rows.append((label, epochs or f">{args.k_max}", tt, te, t1 / tt if tt and t1 else None, e1 / te))
    print_table(rows, ["hogwild", "epochs", "s to target", "s an epoch", "to target vs 1", "an epoch vs 1"])


if __name__ == "__main__":
    main()
