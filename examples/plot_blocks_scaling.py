"""
Passes to a target as the blocks grow, and the same model on any machine
========================================================================

``n_blocks`` cuts the rows into blocks; the threads (or a Dask cluster's workers) only decide where the blocks run.
So for a given ``random_state`` and ``n_blocks`` the coefficients are the same to the bit on one thread or many
(checked below), and the cost of more blocks is paid in passes, not in a different model per machine.

On a9a (32,561 x 123, sparse 0/1 rows; it ships with skpar) this counts, for 1 to 16 blocks:

* the epochs the averaged SGD classifier (log loss, ``solver='sgd'``) needs before its training objective is
  within 1% of the one block's after 30 epochs, with the blocks' models combined by the line search (the default
  ``combine='line_search'``: the share of their averaged change that minimises the objective) and by their plain
  average (``combine='average'``). Averaged blocks make, far from the optimum, about the progress of one block's
  epoch, so their epochs grow with the blocks; the line search takes up to the sum of their changes where that is
  lower;
* the passes dual coordinate ascent (``solver='dual'``) needs to a relative duality gap of ``1e-3``, the blocks'
  changes combined by its own line search (at most 300: a hollow marker at 300 is a fit that had not reached the
  gap).

The measurements behind the defaults (a data-only ``n_blocks='auto'``) are in docs/benchmarks.md.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skpar import AveragedSGDClassifier, DualCoordinateAscentSVM
from skpar.datasets import load_a9a

warnings.simplefilter("ignore", ConvergenceWarning)

X, y, _, _ = load_a9a()
blocks = [1, 2, 4, 8, 16]


def sgd(K, epochs, combine="line_search"):
    return AveragedSGDClassifier(loss="log_loss", solver="sgd", alpha=1e-4, n_blocks=K, max_iter=epochs, tol=None,
                                 combine=combine, random_state=0).fit(X, y)


target = 1.01 * sgd(1, 30).history_[-1]["objective"]
sgd_epochs = {"line_search": [], "average": []}
svm_passes = []
for K in blocks:
    for combine, epochs in sgd_epochs.items():
        objective = [h["objective"] for h in sgd(K, 30, combine).history_]
        reached = [e for e, f in enumerate(objective, 1) if f <= target]
        epochs.append(reached[0] if reached else np.nan)
    svm = DualCoordinateAscentSVM(solver="dual", n_blocks=K, tol=1e-3, max_iter=300, random_state=0).fit(X, y)
    svm_passes.append((svm.n_iter_, svm.duality_gap_ <= 1e-3))

for combine, epochs in sgd_epochs.items():
    print(f"epochs to 1% on {blocks} blocks, combine={combine!r}: {epochs}")
print(f"dual passes to the gap 1e-3: {[p for p, _ in svm_passes]}")

# the same model on one thread and on two, for the same blocks
one = AveragedSGDClassifier(n_blocks=4, n_jobs=1, random_state=0).fit(X, y)
two = AveragedSGDClassifier(n_blocks=4, n_jobs=2, random_state=0).fit(X, y)
print("4 blocks on 1 thread and on 2: coefficients equal to the bit:", np.array_equal(one.coef_, two.coef_))

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(blocks, sgd_epochs["line_search"], "o-", label="averaged SGD, log loss, line search: epochs to 1%")
ax.plot(blocks, sgd_epochs["average"], "o--", color="C0", mfc="white", label="the same, blocks averaged")
passes = [p for p, _ in svm_passes]
ax.plot(blocks, passes, "s-", label="dual coordinate ascent: passes to a gap of 1e-3")
short = [(K, p) for K, (p, ok) in zip(blocks, svm_passes, strict=True) if not ok]
if short:
    ax.plot([K for K, _ in short], [p for _, p in short], "s", mfc="white", color="C1",
            label="(not reached in 300 passes)")
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xlabel("blocks (n_blocks)")
ax.set_ylabel("epochs or passes")
ax.set_title("a9a: the cost of more blocks")
ax.legend(fontsize=8)
fig.tight_layout()
