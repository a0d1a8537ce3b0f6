"""The multinomial L-BFGS's block sums (:mod:`skpar.parallel._multinomial`) on a CuPy array of dense rows: the
rows a chunk at a time, widened to float64 (as the GPU's Newton rounds take them), the products by cuBLAS, the
softmax by :func:`~skpar.parallel._multinomial.softmax_sums` on the device; only the K x d sums come back."""

from __future__ import annotations

import numpy as np

from .._device import cupy_module
from ._newton_device import _chunks


def _weights(block, class_weight):
    """The rows' classes and their weights ``s_i c_{y_i}``, on the device."""
    cp = cupy_module()
    t = block.y.astype(cp.intp)
    return t, block.sample_weight.astype(cp.float64) * cp.asarray(class_weight, dtype=cp.float64)[t]


def softmax_terms_task(block, W, B, class_weight):
    """:func:`~skpar.parallel._multinomial.softmax_terms_task` on the device: ``(loss sum, gradient sum for W,
    gradient sum for B)``, on the host."""
    from ._multinomial import softmax_sums  # (that module imports this one)

    cp = cupy_module()
    t, s = _weights(block, class_weight)
    Wd, Bd = cp.asarray(W, dtype=cp.float64), cp.asarray(B, dtype=cp.float64)
    loss, gW, gB = cp.zeros(()), cp.zeros(W.shape), cp.zeros(W.shape[0])
    for a, Xc in _chunks(block):
        m = Xc.shape[0]
        part, G = softmax_sums(cp, Wd @ Xc.T + Bd[:, None], t[a:a + m], s[a:a + m])
        loss += part
        gW += G @ Xc
        gB += G.sum(axis=1)
    return float(loss), cp.asnumpy(gW), cp.asnumpy(gB)


def weighted_sum_task(block, class_weight):
    """:func:`~skpar.parallel._multinomial.weighted_sum_task` on the device."""
    cp = cupy_module()
    _, s = _weights(block, class_weight)
    total = cp.zeros(block.X.shape[1])
    for a, Xc in _chunks(block):
        total += s[a:a + Xc.shape[0]] @ Xc
    return np.asarray(cp.asnumpy(total), dtype=np.float64), float(s.sum())
