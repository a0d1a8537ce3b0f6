"""
Duality gap against rounds: the line search, CoCoA+ and CoCoA
=============================================================

A linear SVM (squared hinge) on 40,000 x 50 standardised rows in 8 blocks (8 threads). Each round every block runs a
pass of dual coordinate ascent on its rows; CoCoA+ (``combine='add'``) adds the blocks' changes (its local problems
made safe by ``sigma' = 8``), CoCoA (``combine='average'``) averages them, which is always safe but moves each
block's dual variables only an eighth of the way: it falls behind in the first rounds. The default,
``combine='line_search'``, lets each block solve its local problem as if alone and takes the share of the blocks'
summed change that maximises the dual (exactly: the dual is quadratic along it). The relative duality gap, recorded
every round in ``history_``, is a certificate: the primal objective is within that fraction of the optimum.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

from skpar import DualCoordinateAscentSVM

X, y = make_classification(n_samples=40_000, n_features=50, n_informative=20, flip_y=0.02, random_state=0)
X = StandardScaler().fit_transform(X)

fig, ax = plt.subplots(figsize=(6, 4))
for combine, label in [("line_search", "line search (the default)"), ("add", "CoCoA+ (add, sigma' = 8)"),
                       ("average", "CoCoA (average)")]:
    svm = DualCoordinateAscentSVM(C=0.001, combine=combine, tol=1e-5, max_iter=60, n_jobs=8, random_state=0,
                                  solver="dual")
    svm.fit(X, y)
    ax.semilogy([h["round"] for h in svm.history_], [h["relative_gap"] for h in svm.history_], label=label)
ax.set_xlabel("round")
ax.set_ylabel("relative duality gap")
ax.legend(fontsize=8)
fig.tight_layout()
