"""
The largest stable step against the batch size, and the critical batch size
===========================================================================

Least squares on scikit-learn's digits (1,797 rows, 64 standardised pixels, the digit as the target), the
lecture's figure (seed 002): for each batch size, the largest constant step that does not diverge (on a grid of
factors of sqrt(2), one thread, no scaling rule), and the error reached after two epochs (a fixed budget of samples)
with half that step. The step grows linearly
with the batch up to the critical batch size and then saturates near ``1 / lambda_max``, so past it a larger batch
takes fewer steps of no larger size and the error reached on the same budget rises; skpar's estimate
(``critical_batch_size_``) is the vertical line.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from skpar import ParallelSGDRegressor, critical_batch_size
from skpar.exceptions import DivergenceError, DivergenceWarning

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
y = y.astype(float)
cbs = critical_batch_size(X, random_state=0, client="threads", n_jobs=1)


def stable(eta, batch):
    """Two epochs without a divergence warning, and the mean squared error reached."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        try:
            reg = ParallelSGDRegressor(solver="sgd", alpha=1e-4, learning_rate="constant", eta0=eta, batch_size=batch,
                                       scaling_rule=None, max_iter=2, tol=None, n_jobs=1, random_state=0).fit(X, y)
        except (DivergenceWarning, DivergenceError):
            return None
    return float(np.mean((reg.predict(X) - y) ** 2))


batches = [1, 2, 4, 8, 16, 32, 64, 128, 256]
etas = 2.0 ** np.arange(-16, 12, 0.5)
largest, errors = [], []
for b in batches:
    best = np.nan
    for eta in etas:
        if stable(eta, b) is None:
            break
        best = eta
    largest.append(best)
    errors.append(stable(best / 2, b))

fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.6))
a1.loglog(batches, largest, "o-")
a1.axvline(cbs.lower, color="k", ls="--", label=f"critical batch size {cbs.lower:.1f}")
a1.axhline(1 / cbs.lambda_max, color="gray", ls=":", label="1 / lambda_max")
a1.set_xlabel("batch size")
a1.set_ylabel("largest stable step")
a1.legend(fontsize=8)
a2.loglog(batches, errors, "o-")
a2.axvline(cbs.lower, color="k", ls="--")
a2.set_xlabel("batch size")
a2.set_ylabel("training MSE, 2 epochs at half that step")
fig.tight_layout()
