"""One local epoch of SGD on a GPU block: what :func:`skpar.parallel._tasks.sgd_task` runs where the rows are on a
GPU.

Dense rows of up to 1024 columns run the register kernel: every warp is a worker with its own model, and the
workers' models are averaged, weighted by the samples each saw (local SGD with one average per epoch, as the CPU
``sync`` rounds with ``local_steps='epoch'``; across GPUs, Dask averages the GPUs' results the same way). Sparse or
wider rows, and the softmax of ``multi_class='multinomial'`` on any rows (``sgd_wild_softmax``), run Hogwild!: all
warps update one model with atomic adds, each sample adding its share (``1 / batch_size``) of the plan's step, in
launches of :data:`WILD_ROWS` rows after each of which the l2 shrinkage and the l1 proximal step of the launch's
samples are applied.

The task returns what the CPU task returns, as NumPy: ``(W, B, Wbar, Bbar, n_avg, loss_sum, n_seen, steps,
diverged, last_eta)``.
"""

from __future__ import annotations

import math

import numpy as np

from .._device import cupy_module, resident_warps
from ._cuda import ctype, f64, i32, i64, kernel, launch, sgd_launch, sgd_warps_kernel
from ._loss import SOFTMAX
from ._schedule import step_size

#: most rows per launch of the Hogwild! kernel (the l2 shrinkage of a launch's steps is applied at its end)
WILD_ROWS = 1 << 16
#: fewest launches an epoch of the Hogwild! kernel is cut into (each ends with a point of the Polyak average)
WILD_LAUNCHES = 32


def _step(t, plan):
    """The step size of global step ``t``: the CPU kernels' schedule (a numba function, callable from Python)."""
    return step_size(t, plan.schedule, plan.eta, plan.power_t, plan.samples_per_step, plan.warmup_steps,
                     plan.eta_start)


def _target(plan, K, k):
    classify = plan.loss.margin
    cls = 1.0 if K == 1 else float(k)
    return i32(classify), f64(cls), f64(plan.pos_weight[k]), f64(plan.neg_weight[k])


def wild_concurrency(block):
    """Warps that update the shared model at once, and the factor on each sample's step.

    ``tau`` rows in flight that each touch a fraction ``rho`` of the weights overlap on about ``(tau - 1) rho``
    others' updates (the interference behind Hogwild!'s and Shotgun's limits): rows that rarely overlap take the
    whole GPU at full step; dense-ish rows take fewer warps (4 d / nnz per row, at least 32) and a step damped by
    ``1 / (1 + (tau - 1) rho)``, so the steps in flight add up to about one.
    """
    n, d = block.X.shape
    nnz = block.X.nnz / max(n, 1) if block.is_sparse else float(d)
    rho = min(1.0, nnz / max(d, 1))
    tau = int(min(resident_warps(), max(1, n), max(32, math.ceil(4 * d / max(nnz, 1.0)))))
    return tau, 1.0 / (1.0 + (tau - 1) * rho)


def sgd_epoch_gpu(block, state, plan, epoch_seed, t0):
    """One local epoch of the block's rows from ``state`` (see the module docstring)."""
    if plan.loss.margin == SOFTMAX:  # the K outputs' one loss: Hogwild! on dense rows too (a register worker holds
        return _wild_epoch(block, state, plan, epoch_seed, t0, softmax=True)  # one output's model)
    if block.registers:
        return _register_epoch(block, state, plan, epoch_seed, t0)
    return _wild_epoch(block, state, plan, epoch_seed, t0)


def _register_epoch(block, state, plan, epoch_seed, t0):
    cp = cupy_module()
    W, B, Wbar, Bbar, n_avg = state
    K, d = W.shape
    X = block.X
    n = block.n_rows
    if n == 0:  # nothing to read (the kernel's loads assume a row): the model goes on unchanged
        return (*(np.array(a, dtype=np.float64) for a in (W, B, Wbar, Bbar)), int(n_avg), 0.0, 0, 0, False, 0.0)
    avg = plan.avg_start < (1 << 61)
    fn = sgd_warps_kernel(X.dtype, d, avg, plan.loss, plan.schedule, plan.batch_size)
    n_workers = block.n_workers(fn)
    s0, sa, n_stripes, shift = block.stripe_order(epoch_seed, n_workers)
    W_out = cp.empty((n_workers, d))
    Wbar_out = cp.empty((n_workers, d)) if avg else W_out
    B_out, Bbar_out = cp.empty(n_workers), cp.empty(n_workers)
    navg_out, steps_out = cp.empty(n_workers, dtype=cp.int64), cp.empty(n_workers, dtype=cp.int64)
    loss_out, seen_out, eta_out = cp.empty(n_workers), cp.empty(n_workers), cp.empty(n_workers)
    newW, newB, newWbar, newBbar = (np.array(a, dtype=np.float64) for a in (W, B, Wbar, Bbar))
    loss_sum, n_seen, steps, last_eta, new_navg = 0.0, 0, 0, 0.0, int(n_avg)
    for k in range(K):
        w0, wb0 = cp.asarray(W[k], dtype=cp.float64), cp.asarray(Wbar[k], dtype=cp.float64)
        fn(*sgd_launch(fn, n_workers), (
            X, block.y, block.sample_weight, i64(n), i32(d), i64(s0), i64(sa), i64(n_stripes), i32(n_workers),
            i32(shift), w0, f64(B[k]), wb0, f64(Bbar[k]), i64(n_avg), i64(t0), i32(plan.batch_size),
            f64(plan.loss.param), *_target(plan, K, k), f64(plan.l2), f64(plan.l1),
            f64(plan.intercept_step), i32(plan.schedule), f64(plan.eta), f64(plan.power_t),
            f64(plan.samples_per_step), f64(plan.warmup_steps), f64(plan.eta_start), i64(min(plan.avg_start,
                                                                                           1 << 62)),
            W_out, B_out, Wbar_out, Bbar_out, navg_out, loss_out, seen_out, steps_out, eta_out))
        seen = seen_out
        total = float(seen.sum())
        wts = seen / max(total, 1.0)
        # the average over workers, weighted by the samples each saw: one small matrix-vector product
        newW[k] = (wts @ W_out).get()
        newB[k] = float(wts @ B_out)
        if avg:
            newWbar[k] = (wts @ Wbar_out).get()
            newBbar[k] = float(wts @ Bbar_out)
            new_navg = int(navg_out.max())
        loss_sum += float(loss_out.sum())
        n_seen = int(total)
        steps = int(steps_out.max())
        last_eta = float(eta_out.max())
    diverged = not (math.isfinite(loss_sum) and np.isfinite(newW).all() and np.isfinite(newB).all()) \
        or loss_sum > plan.blowup * max(n_seen, 1)
    return newW, newB, newWbar, newBbar, new_navg, loss_sum, n_seen, steps, diverged, last_eta


def _wild_epoch(block, state, plan, epoch_seed, t0, softmax=False):
    """Hogwild! over the block's rows, one output at a time (``sgd_wild``), or with ``softmax`` the K outputs'
    softmax cross-entropy at once (``sgd_wild_softmax``: a row's K scores, then its K steps)."""
    cp = cupy_module()
    W, B, Wbar, Bbar, n_avg = state
    K, d = W.shape
    X = block.X
    n = block.n_rows
    rows = block.row_order(epoch_seed)
    if block.is_sparse:
        data, indices, indptr = X.data, X.indices, X.indptr
    else:
        data, indices, indptr = X, cp.empty(1, dtype=cp.int32), cp.empty(1, dtype=cp.int32)
    if softmax:
        fn = kernel("sgd_wild_softmax", ctype(X.dtype), None, CSR=int(block.is_sparse), K=K)
        class_weight = cp.asarray(plan.pos_weight, dtype=cp.float64)  # a row weighs by its class's weight
        groups = [slice(0, K)]
    else:
        fn = kernel("sgd_wild", ctype(X.dtype), type(plan.loss), CSR=int(block.is_sparse))
        groups = [slice(k, k + 1) for k in range(K)]
    n_warps, damping = wild_concurrency(block)
    g, blk = launch(n_warps)
    loss_out, seen_out = cp.empty(g[0] * blk[0] // 32), cp.empty(g[0] * blk[0] // 32)
    newW, newB, newWbar, newBbar = (np.array(a, dtype=np.float64) for a in (W, B, Wbar, Bbar))
    loss_sum, t, navg, last_eta = 0.0, int(t0), int(n_avg), 0.0
    for ks in groups:
        w = cp.asarray(W[ks], dtype=cp.float64)
        b = cp.asarray(B[ks], dtype=cp.float64)
        wbar, bbar = cp.asarray(Wbar[ks], dtype=cp.float64), np.array(Bbar[ks], dtype=np.float64)
        t, navg = int(t0), int(n_avg)
        # launches short enough that the shrinkage applied at their end stays close to the per-sample one
        # (e l2 m <= 1e-2) and that the average gets many points an epoch, long enough to fill the warps
        e0 = _step(t, plan) / plan.batch_size * damping
        size = min(WILD_ROWS, -(-n // WILD_LAUNCHES), int(1e-2 / (e0 * plan.l2)) if plan.l2 > 0 else WILD_ROWS)
        size = max(size, 4 * n_warps)
        for a in range(0, n, size):
            m = min(size, n - a)
            # a mini-batch step of the plan, spread over its samples: each sample adds its share as it goes
            e = _step(t, plan) / plan.batch_size * damping
            use_avg = navg > 0
            head = (data, indices, indptr, block.y, block.sample_weight, i64(n), i32(d), rows[a:a + m], i64(m), w, b)
            if softmax:
                fn(g, blk, (*head, wbar, cp.asarray(bbar), i32(use_avg), class_weight, f64(plan.intercept_step),
                            f64(e), loss_out, seen_out))
            else:
                fn(g, blk, (*head, wbar, f64(bbar[0]), i32(use_avg), i64(t), f64(plan.loss.param),
                            *_target(plan, K, ks.start), f64(plan.intercept_step), f64(e), loss_out, seen_out))
            loss_sum += float(loss_out.sum())
            # the shrinkage of the launch's m steps, then (except after the last launch: the caller's) the l1 step
            if plan.l2 > 0:
                w *= max(0.0, 1.0 - e * plan.l2) ** m  # to zero and not past it, as the CPU kernels
            if a + m < n:
                plan.penalty.prox_l1(w, e * m)
            t += -(-m // plan.batch_size)
            last_eta = e * m
            if t >= plan.avg_start:
                navg += 1
                wbar += (w - wbar) / navg
                bbar += (b.get() - bbar) / navg
        newW[ks], newB[ks] = w.get(), b.get()
        newWbar[ks], newBbar[ks] = wbar.get(), bbar
    diverged = not (math.isfinite(loss_sum) and np.isfinite(newW).all() and np.isfinite(newB).all()) \
        or loss_sum > plan.blowup * max(n, 1)
    return newW, newB, newWbar, newBbar, navg, loss_sum, n, t - int(t0), diverged, last_eta
