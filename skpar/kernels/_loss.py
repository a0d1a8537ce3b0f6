"""Loss and derivative for the numba kernels, switched on the integer codes of :mod:`skpar._losses`."""

import numpy as np
from numba import njit

# Keep these equal to the codes in skpar._losses (a test checks them against the NumPy reference).
SQUARED_ERROR = 0
HUBER = 1
EPSILON_INSENSITIVE = 2
SQUARED_EPSILON_INSENSITIVE = 3
HINGE = 10
LOG_LOSS = 11
MODIFIED_HUBER = 12
SQUARED_HINGE = 13


@njit(inline="always", nogil=True, cache=True)
def loss_and_derivative(code, p, y, eps):
    """Return ``(l(p, y), dl/dp)`` for the loss ``code``."""
    r = p - y
    if code == SQUARED_ERROR:
        return 0.5 * r * r, r
    a = abs(r)
    s = 1.0 if r > 0 else -1.0
    if code == HUBER:
        if a <= eps:
            return 0.5 * r * r, r
        return eps * a - 0.5 * eps * eps, s * eps
    z = a - eps
    if z <= 0.0:
        return 0.0, 0.0
    if code == EPSILON_INSENSITIVE:
        return z, s
    return z * z, 2.0 * s * z


@njit(inline="always", nogil=True, cache=True)
def margin_loss_and_derivative(code, p, y):
    """Return ``(l(p, y), dl/dp)`` for the classification loss ``code``, with ``y`` in {-1, +1}."""
    z = p * y
    if code == HINGE:
        if z < 1.0:
            return 1.0 - z, -y
        return 0.0, 0.0
    if code == SQUARED_HINGE:
        if z < 1.0:
            return (1.0 - z) * (1.0 - z), -2.0 * y * (1.0 - z)
        return 0.0, 0.0
    if code == LOG_LOSS:
        # log(1 + exp(-z)) and its derivative -y / (1 + exp(z)), both without overflow
        if z > 18.0:
            e = np.exp(-z)
            return e, -y * e
        if z < -18.0:
            return -z, -y
        return np.log1p(np.exp(-z)), -y / (1.0 + np.exp(z))
    # modified_huber
    if z >= 1.0:
        return 0.0, 0.0
    if z >= -1.0:
        return (1.0 - z) * (1.0 - z), -2.0 * y * (1.0 - z)
    return -4.0 * z, -4.0 * y


@njit(inline="always", nogil=True, cache=True)
def target_loss(code, p, yi, k, n_out, eps, pos_weight, neg_weight):
    """Weighted loss and derivative of output ``k`` for a sample with target ``yi``.

    Regression (``code < 10``): one output, ``yi`` is the target. Classification: ``yi`` is the class index; output
    ``k`` of ``n_out`` is one-vs-rest for class ``k`` (or, with one output, class 1 against class 0), its target +1
    or -1, weighted by ``pos_weight[k]`` or ``neg_weight[k]`` (scikit-learn's class_weight convention for OvR).
    """
    if code < HINGE:
        lv, g = loss_and_derivative(code, p, yi, eps)
        return lv, g
    cls = 1.0 if n_out == 1 else float(k)
    if yi == cls:
        lv, g = margin_loss_and_derivative(code, p, 1.0)
        return pos_weight[k] * lv, pos_weight[k] * g
    lv, g = margin_loss_and_derivative(code, p, -1.0)
    return neg_weight[k] * lv, neg_weight[k] * g
