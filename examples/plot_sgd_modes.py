"""
Objective against wall time: skpar's SGD modes next to scikit-learn
====================================================================

Least squares with a ridge penalty on 200,000 x 50 correlated rows. skpar fits on two threads in synchronous
rounds (periodic averaging, or one all-reduced mini-batch step a round); each curve is fresh fits of 1, 2, 4 and 8
epochs, their wall time against the objective of the model they return, next to scikit-learn's ``SGDRegressor``.
Suboptimality is relative to the exact optimum (``Ridge``).
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import Ridge, SGDRegressor

from skpar import ParallelSGDRegressor
from skpar.datasets import make_correlated_regression

X, y, _ = make_correlated_regression(200_000, 50, condition_number=1e3, random_state=0)
alpha = 1e-4
n = len(y)


def objective(coef, intercept):
    r = y - X @ coef - intercept
    return 0.5 * float(r @ r) / n + 0.5 * alpha * float(coef @ coef)


ridge = Ridge(alpha=alpha * n).fit(X, y)
f_star = objective(ridge.coef_, ridge.intercept_)

fig, ax = plt.subplots(figsize=(6, 4))
budgets = (1, 2, 4, 8)


def curve(make):
    """Wall time and relative suboptimality of fresh fits of 1, 2, 4 and 8 epochs: the objective of the returned
    model, the same measure for every curve (a round's own loss is one mini-batch's: far too noisy to plot)."""
    times, subs = [], []
    make(1).fit(X[:2000], y[:2000])  # compile and warm up outside the timings
    for k in budgets:
        start = time.perf_counter()
        est = make(k).fit(X, y)
        times.append(time.perf_counter() - start)
        subs.append(max(objective(est.coef_.ravel(), float(np.ravel(est.intercept_)[0])) - f_star, 1e-12) / f_star)
    return times, subs


for label, kw in [("skpar, local SGD (averaged)", dict(learning_rate="constant", average=True)),
                  ("skpar, one step a round", dict(learning_rate="constant", average=True, local_steps=1,
                                                   batch_size=64))]:
    ax.semilogy(*curve(lambda k, kw=kw: ParallelSGDRegressor(solver="sgd", alpha=alpha, max_iter=k, tol=None, n_jobs=2,
                                                             random_state=0, **kw)), "o-", ms=3, label=label)
ax.semilogy(*curve(lambda k: SGDRegressor(alpha=alpha, max_iter=k, tol=None, random_state=0)), "s-", ms=3,
            label="scikit-learn SGDRegressor")
ax.set_xlabel("wall time (s)")
ax.set_ylabel("relative suboptimality")
ax.legend(fontsize=8)
ax.set_title("Objective against wall time, 2 threads")
fig.tight_layout()
