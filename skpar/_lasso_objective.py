"""The Lasso's objective and duality gap, shared by every Lasso solver (threads, Dask column blocks, the GPU).

The problem, with weights ``s`` summing to ``n`` and ``r`` the centred residual ``yc - X~ w``:

.. math::

    P(w) = \\frac{1}{2n} \\sum_i s_i r_i^2 + \\lambda_1 \\|w\\|_1 + \\frac{\\lambda_2}{2} \\|w\\|_2^2 .

``data`` is any object with ``n``, ``s`` and ``yc`` (``LassoData`` on the host, ``DeviceLassoData`` on a GPU).
"""

from __future__ import annotations

import numpy as np

from ._penalties import Penalty


def primal(data, w, r, l1, l2):
    """Objective at ``w`` with exact residual ``r``."""
    return 0.5 * float(data.s @ (r * r)) / data.n + Penalty(l1, l2).value(w)


def duality_gap(data, w, r, z, l1, l2, positive=False):
    """Duality gap of the (elastic-net) Lasso at ``w`` (residual ``r``, gradient ``z``), in the objective's scale.

    The dual point is the residual scaled into the dual feasible set, as scikit-learn's coordinate descent does
    (with ``positive``, the feasible set is one-sided); the gap bounds the suboptimality ``P(w) - P(w*)``.
    """
    return gap_from_sums(data.n, float(data.s @ (r * r)), float(data.s @ (r * data.yc)), z, w, l1, l2, positive)


def gap_from_sums(n, r_norm2, r_dot_y, z, w, l1, l2, positive=False):
    """:func:`duality_gap` from ``r_norm2 = sum_i s_i r_i^2`` and ``r_dot_y = sum_i s_i r_i yc_i`` (what a solver
    that keeps no residual, only Gram sums, can give)."""
    xta = n * (z - l2 * w)
    if not xta.size:
        dual_norm = 0.0
    else:
        dual_norm = float(xta.max()) if positive else float(np.abs(xta).max())
    l1n, l2n = l1 * n, l2 * n
    if dual_norm > l1n:
        const = l1n / dual_norm
        gap = 0.5 * (r_norm2 + r_norm2 * const * const)
    else:
        const = 1.0
        gap = r_norm2
    gap += l1n * float(np.abs(w).sum()) - const * r_dot_y + 0.5 * l2n * (1 + const * const) * float(w @ w)
    return max(gap, 0.0) / n
