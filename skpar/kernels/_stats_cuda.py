"""The statistics tasks of the CPU path (:mod:`skpar.parallel._tasks`) for a
:class:`~skpar.backend._gpu_block.GPUBlock`: computed on the device with CuPy, only small results (sums, a Gram matrix
of a row sample) come back."""

from __future__ import annotations

import functools

import numpy as np

from .._device import cupy_module
from ._loss import SOFTMAX
from ._stats import norm_powers


def _sample(block, max_rows, seed):
    """About ``max_rows`` distinct rows, sorted, in O(max_rows): a permutation of all n rows would cost more than
    the epoch it prepares on a 100,000,000-row block."""
    cp = cupy_module()
    n = block.n_rows
    if n <= max_rows:
        return cp.arange(n, dtype=cp.int64)
    draw = cp.random.RandomState(seed).randint(0, n, size=max_rows, dtype=cp.int64)
    return cp.unique(draw)  # sorted; repeats (rare when max_rows << n) dropped


def moments_gpu(block, max_rows, seed, fit_intercept, with_gram):
    """:func:`skpar.parallel._tasks.moments_task` on the device."""
    rows = _sample(block, max_rows, seed)
    Xs = block.X[rows]
    extra = 1.0 if fit_intercept else 0.0
    if block.is_sparse:
        sq = Xs.multiply(Xs).sum(axis=1).ravel().astype(np.float64) + extra
        dense = Xs.toarray() if with_gram else None
    else:
        Xs = Xs.astype(np.float64)
        sq = (Xs * Xs).sum(axis=1) + extra
        dense = Xs
    out = {"n_sample": int(rows.shape[0]), "sum_sq": float(sq.sum()), **norm_powers(sq),
           "n_rows": int(block.n_train), "gram": None}
    if with_gram and rows.shape[0]:
        cp = cupy_module()
        dense = dense.astype(np.float64)
        if fit_intercept:
            dense = cp.hstack([dense, cp.ones((dense.shape[0], 1))])
        out["gram"] = (dense.T @ dense).get()
    return out


def matvec_gpu(block, max_rows, seed, fit_intercept, v):
    """:func:`skpar.parallel._tasks.sample_matvec_task` on the device."""
    cp = cupy_module()
    Xs = block.X[_sample(block, max_rows, seed)]
    d = Xs.shape[1]
    vd = cp.asarray(v[:d], dtype=Xs.dtype)
    z = (Xs @ vd).astype(cp.float64).ravel()
    if fit_intercept:
        z = z + v[d]
    out = (Xs.T @ z.astype(Xs.dtype)).astype(cp.float64).ravel().get()
    if fit_intercept:
        out = np.append(out, float(z.sum()))
    return out


def zero_loss_gpu(block, loss, pos_weight, neg_weight):
    """:func:`skpar.parallel._tasks.zero_loss_task` on the device: reads y and the weights, never X."""
    cp = cupy_module()
    s, y = block.sample_weight, block.y
    if not loss.margin:
        # on the device, from the loss's own CUDA text (the definition the GPU kernels compile): y stays there
        values = _loss_values(type(loss))(cp.zeros(y.shape[0]), y.astype(cp.float64), float(loss.param))
        return float(s.astype(cp.float64) @ values)
    if loss.margin == SOFTMAX:  # every class scores 0: log K a sample, weighted by its class
        weights = cp.asarray(pos_weight, dtype=cp.float64)[y.astype(cp.int64)]
        return loss.zero_model_loss(pos_weight.shape[0]) * float(s.astype(cp.float64) @ weights)
    l0 = float(loss.value(np.zeros(1), np.ones(1))[0])
    K = pos_weight.shape[0]
    if K == 1:
        per = cp.where(y == 1, float(pos_weight[0]), float(neg_weight[0]))
    else:
        cls = y.astype(cp.int64)
        per = float(neg_weight.sum()) - cp.asarray(neg_weight)[cls] + cp.asarray(pos_weight)[cls]
    return float(l0 * (s @ per))


@functools.cache
def _loss_values(loss_cls):
    """An elementwise CuPy kernel ``l(p, y)`` of the loss class, from its ``cuda`` text."""
    return cupy_module().ElementwiseKernel(
        "float64 p, float64 y, float64 eps", "float64 out",
        "double lv, gd; double* l = &lv; double* g = &gd; " + loss_cls.cuda + " out = lv;",
        f"skpar_loss_values_{loss_cls.__name__}")
