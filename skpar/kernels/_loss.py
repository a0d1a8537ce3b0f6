"""A sample's weighted loss for one output, from the loss's own compiled function (:mod:`skpar._losses`)."""

import numpy as np
from numba import njit


@njit(inline="always", nogil=True, cache=True)
def target_loss(loss, margin, p, yi, k, n_out, eps, pos_weight, neg_weight):
    """Weighted loss and derivative of output ``k`` for a sample with target ``yi``.

    ``loss`` is a loss's compiled ``(p, y, param) -> (l, dl/dp)`` (``Loss.kernel``) and ``eps`` its parameter.
    Regression (``margin`` false): one output, ``yi`` is the target. Classification: ``yi`` is the class index;
    output ``k`` of ``n_out`` is one-vs-rest for class ``k`` (or, with one output, class 1 against class 0), its
    target +1 or -1, weighted by ``pos_weight[k]`` or ``neg_weight[k]`` (scikit-learn's class_weight convention for
    OvR).
    """
    if not margin:
        return loss(p, yi, eps)
    cls = 1.0 if n_out == 1 else float(k)
    if yi == cls:
        lv, g = loss(p, 1.0, eps)
        return pos_weight[k] * lv, pos_weight[k] * g
    lv, g = loss(p, -1.0, eps)
    return neg_weight[k] * lv, neg_weight[k] * g


#: the kernels' ``margin`` code of the softmax cross-entropy over the K outputs at once (``multi_class=
#: 'multinomial'``): 0 (False) is regression, 1 (True) a margin loss one output at a time
SOFTMAX = 2


@njit(inline="always", nogil=True, cache=True)
def softmax_terms(P, yi, w, grad):
    """The softmax cross-entropy of a sample of class ``yi`` with scores ``P`` (K outputs), weighted by ``w``
    (its sample weight times its class's weight): returns ``w (log sum_k e^{P_k} - P_yi)`` and writes its gradient
    in the scores, ``w (softmax_k(P) - [k = yi])``, into ``grad``."""
    K = P.shape[0]
    t = int(yi)
    top = P[0]
    for k in range(1, K):
        top = max(top, P[k])
    total = 0.0
    for k in range(K):
        grad[k] = np.exp(P[k] - top)
        total += grad[k]
    for k in range(K):
        grad[k] = w * (grad[k] / total - (1.0 if k == t else 0.0))
    return w * (top + np.log(total) - P[t])
