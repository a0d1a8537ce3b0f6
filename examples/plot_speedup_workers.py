"""
Speed-up against the number of workers
======================================

Time per epoch of ``ParallelSGDRegressor`` (local SGD, one average per epoch) on 400,000 x 100 rows with 1 and 2
threads, and the speed-up over one thread. On the two-core machines the documentation is built on there are only
two points; run it on a larger machine with more ``n_jobs`` for the curve.
"""

import os
import statistics

import matplotlib.pyplot as plt

from skpar import ParallelSGDRegressor
from skpar.datasets import make_correlated_regression

X, y, _ = make_correlated_regression(400_000, 100, random_state=0)
workers = list(range(1, min(os.cpu_count() or 1, 8) + 1))
ParallelSGDRegressor(solver="sgd", max_iter=1, n_jobs=1).fit(X[:1000], y[:1000])  # compile first

per_epoch = []
for k in workers:
    reg = ParallelSGDRegressor(solver="sgd", learning_rate="constant", average=True, max_iter=4, tol=None, n_jobs=k,
                               random_state=0).fit(X, y)
    t = [h["time"] for h in reg.history_]
    per_epoch.append(statistics.median(b - a for a, b in zip(t, t[1:], strict=False)))

fig, ax = plt.subplots(figsize=(5, 3.6))
ax.plot(workers, [per_epoch[0] / p for p in per_epoch], "o-", label="measured")
ax.plot(workers, workers, ":", color="gray", label="ideal")
ax.set_xlabel("threads (blocks)")
ax.set_ylabel("speed-up of an epoch")
ax.legend(fontsize=8)
fig.tight_layout()
