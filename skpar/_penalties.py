"""The elastic-net penalty, defined once: its value, its proximal step and the soft-threshold the kernels take.

:math:`R(w) = \\lambda_1 \\|w\\|_1 + \\tfrac{\\lambda_2}{2} \\|w\\|_2^2`, with ``l1`` :math:`= \\lambda_1` and ``l2``
:math:`= \\lambda_2` the strengths every solver receives. scikit-learn's SGD parameters map onto it as
:math:`\\lambda_1 = \\alpha \\rho`, :math:`\\lambda_2 = \\alpha (1 - \\rho)` with ``rho = l1_ratio`` (``l2`` is
``rho = 0``, ``l1`` is ``rho = 1``); the Lasso's ``alpha`` is :math:`\\lambda_1`. The compiled kernels take the
strengths as two floats and the soft-threshold from here (:func:`soft_threshold`); the drivers take this object.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ._device import array_module


@njit(inline="always", nogil=True, cache=True)
def soft_threshold(v, t):
    """The proximal step of :math:`t |v|` at ``v``: ``sign(v) max(|v| - t, 0)`` (scalar, compiled)."""
    if v > t:
        return v - t
    if v < -t:
        return v + t
    return 0.0


@njit(inline="always", nogil=True, cache=True)
def coordinate_minimizer(u, L, l1, l2, positive):
    """The minimiser over ``w`` of :math:`\\tfrac{L}{2} w^2 - u w + \\lambda_1 |w| + \\tfrac{\\lambda_2}{2} w^2`
    (with ``positive``, over :math:`w \\ge 0`): ``soft_threshold(u, l1) / (L + l2)``, the exact coordinate step of
    the elastic net (compiled)."""
    if u > l1:
        return (u - l1) / (L + l2)
    if u < -l1 and not positive:
        return (u + l1) / (L + l2)
    return 0.0


#: :func:`soft_threshold` for the GPU kernels (skpar.kernels._cuda_source)
SOFT_THRESHOLD_CUDA = r"""
__device__ __forceinline__ double soft(double v, double t) {
    return v > t ? v - t : (v < -t ? v + t : 0.0);
}
"""


@dataclass(frozen=True)
class Penalty:
    """The elastic-net penalty :math:`\\lambda_1 \\|w\\|_1 + \\tfrac{\\lambda_2}{2}\\|w\\|_2^2`.

    Parameters
    ----------
    l1 : float
        :math:`\\lambda_1`, the strength of the l1 part; 0 for none.
    l2 : float
        :math:`\\lambda_2`, the strength of the squared l2 part; 0 for none.
    """

    l1: float
    l2: float

    @classmethod
    def from_params(cls, penalty, alpha, l1_ratio):
        """Build from scikit-learn's SGD parameters ``penalty``, ``alpha`` and ``l1_ratio``."""
        if penalty is None:
            return cls(0.0, 0.0)
        # l1_ratio is read for the elastic net only (it may be None otherwise, as scikit-learn allows)
        rho = {"l2": 0.0, "l1": 1.0}[penalty] if penalty != "elasticnet" else float(l1_ratio)
        alpha = float(alpha)
        return cls(alpha * rho, alpha * (1.0 - rho))

    def value(self, w) -> float:
        """The penalty at ``w`` (a NumPy or CuPy vector, or a matrix with one row per output: the sum over rows)."""
        # no |w| array where there is no l1 part (a model's size, allocated every epoch, for nothing)
        l1 = self.l1 * float(np.abs(w).sum()) if self.l1 else 0.0
        return l1 + 0.5 * self.l2 * float(np.vdot(w, w))

    def violation(self, z, w, positive=False):
        """How far each coordinate at zero is from its optimality condition, given the smooth part's negative
        gradient ``z``: :math:`|z_j - \\lambda_2 w_j| - \\lambda_1` (with ``positive``, without the absolute
        value); a coordinate at zero is optimal where this is at most 0 (the subgradient's distance)."""
        g = z - self.l2 * w
        return (g if positive else np.abs(g)) - self.l1

    def coordinate_minimizers(self, u, L, positive=False):
        """:func:`coordinate_minimizer` of every coordinate at once, on NumPy or CuPy vectors ``u`` and ``L`` (zero
        where ``L + l2`` is zero: a column with no variance and no l2 part stays at zero)."""
        xp = array_module(u)
        shrunk = xp.maximum(u - self.l1, 0.0) if positive else xp.sign(u) * xp.maximum(xp.abs(u) - self.l1, 0.0)
        denom = L + self.l2
        live = denom > 0
        return xp.where(live, shrunk / xp.where(live, denom, 1.0), 0.0)

    def prox_l1(self, w, step):
        """Soft-threshold ``w`` by ``step * l1`` (the proximal step of the l1 part), in place; returns ``w``."""
        if self.l1 > 0.0 and step > 0.0:
            t = step * self.l1
            np.copyto(w, np.sign(w) * np.maximum(np.abs(w) - t, 0.0))
        return w
