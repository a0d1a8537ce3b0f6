"""
Objective against wall time: skpar's SGD modes next to scikit-learn
====================================================================

Least squares with a ridge penalty on 200,000 x 50 correlated rows. skpar fits on two threads in synchronous
rounds (periodic averaging) and records the objective after every round in ``history_``; scikit-learn's
``SGDRegressor`` is fitted for 1, 2, 4, ... epochs, each a fresh fit, to draw its curve. The dashed line is the exact
optimum (``Ridge``).
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
for label, kw in [("skpar, local SGD (averaged)", dict(learning_rate="constant", average=True)),
                  ("skpar, one step a round", dict(learning_rate="constant", average=True, local_steps=1,
                                                   batch_size=64))]:
    reg = ParallelSGDRegressor(alpha=alpha, max_iter=8, tol=None, n_jobs=2, random_state=0, **kw).fit(X, y)
    t = [h["time"] for h in reg.history_]
    f = [h["objective"] for h in reg.history_]
    ax.semilogy(t, np.maximum(np.array(f) - f_star, 1e-12) / f_star, "o-", ms=3, label=label)

times, subs = [], []
for k in (1, 2, 4, 8):
    start = time.perf_counter()
    sk = SGDRegressor(alpha=alpha, max_iter=k, tol=None, random_state=0).fit(X, y)
    times.append(time.perf_counter() - start)
    subs.append(max(objective(sk.coef_, sk.intercept_[0]) - f_star, 1e-12) / f_star)
ax.semilogy(times, subs, "s-", ms=3, label="scikit-learn SGDRegressor (1, 2, 4, 8 epochs)")
ax.set_xlabel("wall time (s)")
ax.set_ylabel("relative suboptimality")
ax.legend(fontsize=8)
ax.set_title("Objective against wall time, 2 threads")
fig.tight_layout()
