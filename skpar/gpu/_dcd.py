"""Dual coordinate ascent on a GPU block, in the manner of TPA-SCD (Parnell et al. 2017): a warp per dual
coordinate, atomic adds of its step into the shared ``w``.

The CPU kernel (:func:`skpar.kernels.dcd_dense`) visits the rows one after another; here up to
:func:`concurrency` warps visit rows at once, each reading ``w`` as it is (possibly missing the steps of the rows
in flight beside it) and adding its own step atomically, so no step is lost and ``w`` stays exactly
``w(alpha)`` up to rounding. Stale reads make the steps of rows in flight interfere, as in Shotgun: with dense rows
every pair of rows overlaps, so the concurrency is held to a few times the number of columns; sparse rows rarely
overlap and take the whole GPU.
"""

from __future__ import annotations

import os

import numpy as np

from ._kernels import THREADS, ctype, f64, grid, i32, i64, kernel
from ._namespace import cupy_module, resident_warps

#: dense blocks run at most this many warps per column at once (see the module docstring)
DENSE_WARPS_PER_COLUMN = 4
#: dense rows a warp steps through before it adds its pending steps to the shared w (``dcd_warps``)
FLUSH_ROWS = 8


def concurrency(block) -> int:
    """Warps that run dual coordinate steps at once on ``block`` (``SKPAR_DCD_WARPS`` overrides, for studies)."""
    env = os.environ.get("SKPAR_DCD_WARPS")
    if env:
        return max(1, int(env))
    full = resident_warps()
    if block.is_sparse:
        return full
    return int(min(full, max(32, DENSE_WARPS_PER_COLUMN * block.X.shape[1])))


def flush_rows() -> int:
    """Rows between a warp's flushes of its pending steps (``SKPAR_DCD_FLUSH`` overrides, for studies)."""
    return max(1, int(os.environ.get("SKPAR_DCD_FLUSH", FLUSH_ROWS)))


def dcd_gpu(block, W, Wl, A, C, loss, pos_weight, neg_weight, bias, sigma, n_epochs, seed):
    """:func:`skpar.parallel._cocoa._dcd` on the device: ``n_epochs`` passes for every output, ``Wl`` (host,
    (K, d + [bias])) and ``A`` (device, (K, n)) updated in place; returns ``(primal_sum, dual_sum)`` at the
    incoming ``(W, A)``."""
    cp = cupy_module()
    X = block.X
    n, d = X.shape
    K = W.shape[0]
    registers = block.registers
    if block.is_sparse:
        data, indices, indptr = X.data, X.indices, X.indptr
    else:
        data, indices, indptr = X, cp.empty(1, dtype=cp.int32), cp.empty(1, dtype=cp.int32)
    if registers:
        fn = kernel("dcd_warps", ctype(X.dtype), NC=max(1, -(-d // 32)))
    else:
        fn = kernel("dcd_wild", ctype(X.dtype), CSR=int(block.is_sparse))
    rows = block.row_order(seed)
    n_warps = min(concurrency(block), max(1, n))
    g = grid(n_warps)
    sums = cp.zeros(2 * g[0] * THREADS // 32)
    primal, dual = 0.0, 0.0
    for k in range(K):
        cls = 1.0 if K == 1 else float(k)
        w0 = cp.asarray(W[k], dtype=cp.float64)
        wl = cp.asarray(Wl[k], dtype=cp.float64)
        for epoch in range(n_epochs):
            common = (i64(n), i32(d), rows, i64(n), w0, wl, A[k], f64(C), i32(loss), f64(cls), f64(pos_weight[k]),
                      f64(neg_weight[k]), f64(bias), f64(sigma), i32(epoch == 0))
            if registers:
                fn(g, (THREADS,), (X, block.y, block.sample_weight, *common, i32(flush_rows()), sums))
            else:
                fn(g, (THREADS,), (data, indices, indptr, block.y, block.sample_weight, *common, sums))
            if epoch == 0:
                s = sums.reshape(-1, 2).sum(axis=0).get()
                primal += float(s[0])
                dual += float(s[1])
        Wl[k] = wl.get()
    return primal, dual


def w_of_alpha_gpu(block, shape, bias):
    """``sum_i alpha_ik t_ik x~_i`` over the block, on the device (see ``skpar.parallel._cocoa.w_of_alpha_task``)."""
    cp = cupy_module()
    K = shape[0]
    out = np.zeros(shape)
    X, y = block.X, block.y
    for k in range(K):
        cls = 1.0 if K == 1 else float(k)
        coef = block.alpha[k] * cp.where(y == cls, 1.0, -1.0)
        out[k, :X.shape[1]] = (X.T @ coef.astype(X.dtype)).astype(cp.float64).ravel().get()
        if bias:
            out[k, -1] = bias * float(coef.sum())
    return out
