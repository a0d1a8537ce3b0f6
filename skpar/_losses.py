"""Loss functions as small picklable objects shared by kernels, strategies and estimators.

Each loss ``l(p, y)`` is a function of the prediction ``p = x . w + b`` and the target ``y``. The numba kernels do
not call these objects (numba cannot); they switch on :attr:`Loss.code`, and the NumPy methods here are the reference
that tests compare the kernels with and that the driver uses for objectives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Integer codes understood by the numba kernels (``skpar.kernels._loss``).
SQUARED_ERROR = 0
HUBER = 1
EPSILON_INSENSITIVE = 2
SQUARED_EPSILON_INSENSITIVE = 3

HINGE = 10
LOG_LOSS = 11
MODIFIED_HUBER = 12
SQUARED_HINGE = 13

_CLASSIFICATION_CODES = {
    "hinge": HINGE,
    "log_loss": LOG_LOSS,
    "modified_huber": MODIFIED_HUBER,
    "squared_hinge": SQUARED_HINGE,
}

_REGRESSION_CODES = {
    "squared_error": SQUARED_ERROR,
    "huber": HUBER,
    "epsilon_insensitive": EPSILON_INSENSITIVE,
    "squared_epsilon_insensitive": SQUARED_EPSILON_INSENSITIVE,
}


@dataclass(frozen=True)
class Loss:
    """A loss ``l(p, y)`` of the prediction ``p`` and the target ``y``.

    Parameters
    ----------
    name : str
        One of ``squared_error`` (:math:`\\tfrac12 (p - y)^2`), ``huber`` (quadratic up to ``epsilon``, linear
        beyond), ``epsilon_insensitive`` (:math:`\\max(0, |p - y| - \\epsilon)`) and
        ``squared_epsilon_insensitive`` (its square), with scikit-learn's ``SGDRegressor`` meaning.
    epsilon : float
        The threshold of the last three losses.
    """

    name: str
    epsilon: float = 0.1

    @property
    def code(self) -> int:
        """Integer code passed to the numba kernels."""
        return _REGRESSION_CODES[self.name]

    @property
    def step_curvature(self) -> float:
        """The curvature that ``eta0='auto'`` sets the step for, ``0.5 / (c E||x||^2)``: the squared error's, 1."""
        return 1.0

    def value(self, p, y):
        """Elementwise loss."""
        r = p - y
        if self.name == "squared_error":
            return 0.5 * r * r
        a = np.abs(r)
        eps = self.epsilon
        if self.name == "huber":
            return np.where(a <= eps, 0.5 * r * r, eps * a - 0.5 * eps * eps)
        z = np.maximum(a - eps, 0.0)
        if self.name == "epsilon_insensitive":
            return z
        return z * z

    def derivative(self, p, y):
        """Elementwise derivative of the loss with respect to the prediction ``p``."""
        r = p - y
        if self.name == "squared_error":
            return r
        eps = self.epsilon
        if self.name == "huber":
            return np.clip(r, -eps, eps)
        s = np.sign(r) * (np.abs(r) > eps)
        if self.name == "epsilon_insensitive":
            return s
        return 2.0 * np.sign(r) * np.maximum(np.abs(r) - eps, 0.0)


REGRESSION_LOSSES = tuple(_REGRESSION_CODES)


@dataclass(frozen=True)
class MarginLoss:
    """A classification loss ``l(p, y)`` of the margin ``z = y p`` with ``y`` in {-1, +1}.

    Parameters
    ----------
    name : str
        ``hinge`` (:math:`\\max(0, 1 - z)`), ``squared_hinge`` (its square), ``log_loss``
        (:math:`\\log(1 + e^{-z})`) or ``modified_huber`` (:math:`\\max(0, 1 - z)^2` for :math:`z \\ge -1`,
        :math:`-4z` below), with scikit-learn's ``SGDClassifier`` meaning.
    """

    name: str
    epsilon: float = 0.0

    @property
    def code(self) -> int:
        """Integer code passed to the numba kernels."""
        return _CLASSIFICATION_CODES[self.name]

    @property
    def step_curvature(self) -> float:
        """The curvature that ``eta0='auto'`` sets the step for, ``0.5 / (c E||x||^2)``.

        The logistic loss's largest second derivative is 1/4, so its step is four times the squared error's; the
        hinge has no curvature and takes the same step, measured on the real sets (a9a, ijcnn1, Reuters,
        dorothea, 20 Newsgroups: as accurate or more, in up to half the epochs; docs/benchmarks.md). The squared
        hinge and the modified Huber loss have curvature 2 and keep the squared error's step, which is within
        their stable one.
        """
        return 0.25 if self.name in ("hinge", "log_loss") else 1.0

    def value(self, p, y):
        """Elementwise loss, ``y`` in {-1, +1}."""
        z = p * y
        if self.name == "hinge":
            return np.maximum(0.0, 1.0 - z)
        if self.name == "squared_hinge":
            return np.maximum(0.0, 1.0 - z) ** 2
        if self.name == "log_loss":
            return np.logaddexp(0.0, -z)
        return np.where(z >= -1.0, np.maximum(0.0, 1.0 - z) ** 2, -4.0 * z)

    def derivative(self, p, y):
        """Elementwise derivative with respect to ``p``."""
        z = p * y
        if self.name == "hinge":
            return np.where(z < 1.0, -y, 0.0)
        if self.name == "squared_hinge":
            return np.where(z < 1.0, -2.0 * y * (1.0 - z), 0.0)
        if self.name == "log_loss":
            return -y * np.exp(-np.logaddexp(0.0, z))
        return np.where(z >= 1.0, 0.0, np.where(z >= -1.0, -2.0 * y * (1.0 - z), -4.0 * y))


CLASSIFICATION_LOSSES = tuple(_CLASSIFICATION_CODES)
