"""
Shotgun: parallel steps to convergence against P, with P* marked
================================================================

The Shotgun paper's single-pixel-camera Lasso problem (``Mug32``: 410 measurements, 1,024 unknowns, unit-norm
columns, shipped as :func:`skpar.datasets.load_mug32`), at ``alpha = 0.05 alpha_max``. Shotgun updates ``P``
coordinates per parallel step. Up to ``P* = d / rho`` (``rho`` the spectral radius of ``A^T A``; about 158 here, as
in the paper) the steps needed fall like ``1 / P``; far past it the simultaneous updates interfere, the P-guard
undoes the epochs whose objective rose and halves ``P``, and the gain stops. ``P*`` as ``ShotgunLasso`` estimates it
(``d / spectral_radius_``) is the vertical line.
"""

import matplotlib.pyplot as plt
import numpy as np

from skpar import ShotgunLasso
from skpar.datasets import load_mug32
from skpar.linear_model import alpha_max

A, y = load_mug32()
d = A.shape[1]
alpha = 0.05 * alpha_max(A, y, fit_intercept=False)

Ps = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
steps, guarded, pstar = [], [], None
for P in Ps:
    est = ShotgunLasso(alpha=alpha, fit_intercept=False, n_parallel=P, working_set=False, tol=1e-5, max_iter=5000,
                       n_jobs=2, random_state=0).fit(A, y)
    steps.append(est.history_[-1]["steps"])
    guarded.append(any("event" in h for h in est.history_))
    pstar = d / est.spectral_radius_

fig, ax = plt.subplots(figsize=(6, 4))
ax.loglog(Ps, steps, "o-", label="parallel steps to a duality gap of 1e-5")
ax.loglog([p for p, g in zip(Ps, guarded, strict=True) if g], [s for s, g in zip(steps, guarded, strict=True) if g],
          "rx", ms=9, label="P-guard halved P")
ax.loglog(Ps, steps[0] / np.array(Ps, dtype=float), ":", color="gray", label="ideal 1 / P")
ax.axvline(pstar, color="k", ls="--", label=f"P* = d / rho = {pstar:.0f}")
ax.set_xlabel("P (coordinates updated at once)")
ax.set_ylabel("parallel steps")
ax.legend(fontsize=8)
fig.tight_layout()
