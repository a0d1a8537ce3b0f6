"""Loss and derivative for the numba kernels, switched on the integer codes of :mod:`skpar._losses`."""

from numba import njit

# Keep these equal to the codes in skpar._losses (a test checks them against the NumPy reference).
SQUARED_ERROR = 0
HUBER = 1
EPSILON_INSENSITIVE = 2
SQUARED_EPSILON_INSENSITIVE = 3


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
