"""Penalties ``alpha * R(w)`` with their proximal operators.

:math:`R(w) = \\tfrac{1 - \\rho}{2} \\|w\\|_2^2 + \\rho \\|w\\|_1` with ``rho = l1_ratio``; ``l2`` is ``rho = 0``,
``l1`` is ``rho = 1`` and ``elasticnet`` takes ``l1_ratio`` as given, as in scikit-learn's SGD estimators.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Penalty:
    """Elastic-net penalty :math:`\\alpha (\\tfrac{1-\\rho}{2}\\|w\\|_2^2 + \\rho\\|w\\|_1)`.

    Parameters
    ----------
    alpha : float
        Overall strength; 0 means no penalty.
    l1_ratio : float
        The share :math:`\\rho` of the l1 part, in [0, 1].
    """

    alpha: float
    l1_ratio: float

    @classmethod
    def from_params(cls, penalty, alpha, l1_ratio):
        """Build from scikit-learn's ``penalty``, ``alpha`` and ``l1_ratio`` parameters."""
        if penalty is None:
            return cls(0.0, 0.0)
        rho = {"l2": 0.0, "l1": 1.0, "elasticnet": float(l1_ratio)}[penalty]
        return cls(float(alpha), rho)

    @property
    def l2(self) -> float:
        """Coefficient of the smooth part, ``alpha * (1 - rho)``."""
        return self.alpha * (1.0 - self.l1_ratio)

    @property
    def l1(self) -> float:
        """Coefficient of the l1 part, ``alpha * rho``."""
        return self.alpha * self.l1_ratio

    def value(self, w) -> float:
        """Penalty value at ``w`` (a NumPy vector, or a matrix with one row per output: the sum over rows)."""
        w = np.asarray(w)
        return 0.5 * self.l2 * float(np.vdot(w, w)) + self.l1 * float(np.abs(w).sum())

    def prox_l1(self, w, step):
        """Soft-threshold ``w`` by ``step * l1`` (the proximal step of the l1 part), in place; returns ``w``."""
        if self.l1 > 0.0 and step > 0.0:
            t = step * self.l1
            np.copyto(w, np.sign(w) * np.maximum(np.abs(w) - t, 0.0))
        return w
