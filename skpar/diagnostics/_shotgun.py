r"""How many coordinates Shotgun can update at once: Bradley et al.'s P* and the typical breakpoint.

Scale the columns of the centred, weighted design :math:`\tilde X` to unit norm and let
:math:`A = \tilde X^\top S \tilde X` (unit diagonal, trace ``d``, the columns of zero norm left out). Shotgun moves
``P`` coordinates drawn at random, each by its own coordinate step :math:`\delta_j`, from the same residual. Against
``P`` separate steps, the objective then gains the interference of the pairs,

.. math::

    \frac{P (P - 1)}{d (d - 1)} \left(\delta^\top A \delta - \|\delta\|^2\right)

on average over the draws, which stays below the steps' own descent (of order :math:`\frac{P}{d}\|\delta\|^2`) while
:math:`(P - 1)(q - 1) \lesssim d - 1`, with :math:`q = \delta^\top A \delta / \|\delta\|^2` the curvature along the
steps. Bradley et al. (2011) bound ``q`` by :math:`\rho = \lambda_{\max}(A)`, which gives :math:`P^* = d / \rho`:
safe, but the steps would have to lie along ``A``'s top eigenvector. The steps follow the gradient
:math:`g = \tilde X^\top S r`; for a residual with no direction of its own (:math:`E[r r^\top] \propto S^{-1}`),
:math:`E[g g^\top] \propto A`, and the curvature along it is

.. math::

    \rho_{\mathrm{typ}} = \frac{E[g^\top A g]}{E\|g\|^2} = \frac{\operatorname{tr}(A^2)}{\operatorname{tr}(A)}
    = \frac{\sum_i \lambda_i^2}{\sum_i \lambda_i} \le \rho,

the eigenvalues' mean weighted by themselves. The same rule with it gives the typical breakpoint
:math:`P_{\mathrm{typ}} = 1 + (d - 1) / (\rho_{\mathrm{typ}} - 1)`. On the five problems of
``asv_bench/scripts/theory_breakpoints.py`` it fell within 2x of the measured breakpoint on four, where ``P*`` fell
2.3 to 17 times below it on all five (docs/benchmarks.md).

:math:`\operatorname{tr}(A^2) = \|A\|_F^2` is estimated without forming ``A``: the top eigenpair by power iteration,
and the rest by Hutchinson's estimator on ``A`` with that pair taken out, :math:`E\|(A - \lambda v v^\top) z\|^2` for
Rademacher ``z`` (the top eigenvalue would otherwise dominate the probes' variance on data with one strong direction).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array

from ..parallel._lasso_data import LassoData, power_iteration


@dataclass(frozen=True)
class ShotgunParallelism:
    """How many coordinates Shotgun can update at once (see the module's docstring).

    Attributes
    ----------
    pstar : float
        :math:`d / \\rho`, Bradley et al.'s bound: no larger ``P`` is guaranteed to descend.
    typical : float
        :math:`1 + (d - 1) / (\\rho_{typ} - 1)`: where the objective typically starts to rise (``d`` where the
        columns do not interfere).
    rho : float
        :math:`\\lambda_{\\max}` of the column-normalised Gram matrix ``A``, on every row.
    rho_typical : float
        :math:`\\operatorname{tr}(A^2) / \\operatorname{tr}(A)`, the curvature along a typical gradient.
    n_features : int
        Columns of non-zero norm (``d`` above).
    """

    pstar: float
    typical: float
    rho: float
    rho_typical: float
    n_features: int


def shotgun_parallelism(X, *, sample_weight=None, fit_intercept=True, n_probes=64, random_state=None):
    """Bradley et al.'s ``P*`` and the typical breakpoint of Shotgun's parallel coordinate updates on ``X``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The design, as :class:`~skpar.ShotgunLasso` would fit it (centred by the weighted column means where
        ``fit_intercept``); never densified.
    sample_weight : array-like of shape (n_samples,), default=None
    fit_intercept : bool, default=True
    n_probes : int, default=64
        Hutchinson probes for :math:`\\operatorname{tr}(A^2)`: each costs two passes over X, as does each power
        iteration step. With 64 the estimate of :math:`\\rho_{typ}` was within 5% on a 600 x 80 correlated problem
        (16: within 15%).
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    ShotgunParallelism
    """
    X = check_array(X, accept_sparse=("csr", "csc"), dtype=[np.float64, np.float32])
    rng = np.random.default_rng(check_random_state(random_state).randint(1 << 30))
    s = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    data = LassoData.build(X, np.zeros(X.shape[0]), s, fit_intercept, None, 1)
    gram, live = data.scaled_gram()
    d = int(live.sum())
    if d <= 1:
        return ShotgunParallelism(float(X.shape[1]), float(X.shape[1]), 1.0, 1.0, d)
    lam, v = power_iteration(gram, rng.standard_normal(live.shape[0]) * live, 200, 1e-6)
    # tr(A^2) = tr(B^2) + 2 lam v.Av - lam^2 for B = A - lam v v^T and unit v: exact whatever v's accuracy
    q = float(v @ gram(v))
    rest = 0.0
    for _ in range(n_probes):
        z = np.where(rng.random(live.shape[0]) < 0.5, -1.0, 1.0) * live
        b = gram(z) - lam * v * float(v @ z)
        rest += float(b @ b) / n_probes
    rho_typical = max((rest + 2.0 * lam * q - lam * lam) / d, 1.0)
    rho = max(lam, rho_typical)
    typical = d if rho_typical <= 1.0 + 1e-12 else min(float(d), 1.0 + (d - 1) / (rho_typical - 1.0))
    return ShotgunParallelism(pstar=min(float(d), d / rho), typical=float(typical), rho=float(rho),
                              rho_typical=float(rho_typical), n_features=d)
